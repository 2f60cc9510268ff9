// runtime/log.c: the process-wide logger: a threshold read inline by the
// casty_log macros, and a sink that receives whole lines.
#include <casty/casty.h>

#include <stdarg.h>
#include <stdio.h>

#define LINE_MAX_BYTES 1024
#define PATH_MAX_BYTES 512

// Relaxed everywhere: a level change needs no ordering with the lines
// around it; a line logged just after the change may still see the old
// threshold.
_Atomic int casty__log_threshold = CASTY_LOG_INFO;

static void
stderr_sink(void *arg, casty_log_level level, const char *path,
	const char *message)
{
	(void)arg;
	// One call per line: stdio locks the stream for each, so lines
	// from different workers never interleave.
	if (path[0] != '\0') {
		fprintf(stderr, "%-5s %s: %s\n", casty_log_level_name(level),
			path, message);
	} else {
		fprintf(stderr, "%-5s %s\n", casty_log_level_name(level),
			message);
	}
}

// Set before actors log (see log.h), read by every line.
static casty_log_sink sink_fn = stderr_sink;
static void          *sink_arg;

void
casty_log_set_level(casty_log_level level)
{
	if ((int)level < CASTY_LOG_DEBUG || level > CASTY_LOG_OFF) {
		level = CASTY_LOG_INFO;
	}
	atomic_store_explicit(&casty__log_threshold, (int)level,
		memory_order_relaxed);
}

void
casty_log_set_sink(casty_log_sink sink, void *arg)
{
	sink_fn = sink != NULL ? sink : stderr_sink;
	sink_arg = sink != NULL ? arg : NULL;
}

const char *
casty_log_level_name(casty_log_level level)
{
	switch (level) {
	case CASTY_LOG_DEBUG:
		return "DEBUG";
	case CASTY_LOG_INFO:
		return "INFO";
	case CASTY_LOG_WARN:
		return "WARN";
	case CASTY_LOG_ERROR:
		return "ERROR";
	case CASTY_LOG_OFF:
		break;
	}
	return "?";
}

void
casty_log_write(casty_ctx *ctx, casty_log_level level, const char *fmt, ...)
{
	char    line[LINE_MAX_BYTES];
	char    path[PATH_MAX_BYTES] = "";
	va_list ap;

	if (fmt == NULL) {
		return;
	}
	if (ctx != NULL) {
		casty_ctx_path(ctx, path, sizeof path);
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	sink_fn(sink_arg, level, path, line);
}
