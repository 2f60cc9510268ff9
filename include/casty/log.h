/**
 * include/casty/log.h: logging from actors, with levels, the actor's
 * path on every line, and a pluggable sink.
 *
 *     casty_log_info(ctx, "deposited %ld", amount);
 *
 * prints "INFO  /bank/account: deposited 100" with the default sink
 * (stderr). A level below the threshold costs one load and a branch: the
 * arguments are not evaluated and nothing is formatted. The threshold and
 * the sink are process-wide (like a C library's logger); the runtime
 * logs its own failures (an unsupervised actor failing, a hook failing)
 * through them too.
 */
#ifndef CASTY_LOG_H
#define CASTY_LOG_H

#include <stdatomic.h>

#include <casty/base.h>

typedef enum casty_log_level {
	CASTY_LOG_DEBUG,
	CASTY_LOG_INFO,
	CASTY_LOG_WARN,
	CASTY_LOG_ERROR,
	CASTY_LOG_OFF, // as a threshold: log nothing
} casty_log_level;

/**
 * casty_log_sink receives one formatted line: its level, the path of the
 * actor that logged it ("" outside actors) and the message (no newline).
 * It may be called from every worker at once. Must not block for long.
 */
typedef void (*casty_log_sink)(void *arg, casty_log_level level,
	const char *path, const char *message);

/**
 * casty_log_set_level sets the threshold: lines below it are skipped.
 * The default is CASTY_LOG_INFO. Thread: any.
 */
CASTY_API void casty_log_set_level(casty_log_level level);

/**
 * casty_log_set_sink routes lines to sink(arg, ...); NULL restores the
 * default (stderr, one write per line). Not to be called while actors
 * log. Thread: any.
 */
CASTY_API void casty_log_set_sink(casty_log_sink sink, void *arg);

/** casty_log_level_name names a level ("INFO", ...). */
CASTY_API const char *casty_log_level_name(casty_log_level level);

/**
 * casty_log_write formats and sends one line for the actor ctx (NULL
 * outside actors) without checking the threshold: use the macros.
 */
CASTY_API void casty_log_write(casty_ctx *ctx, casty_log_level level,
	const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// The threshold, read inline by the macros; set it with the function.
CASTY_API extern _Atomic int casty__log_threshold;

/** casty_log_enabled tells whether level would be logged now. */
#define casty_log_enabled(level)                                              \
	((int)(level) >= atomic_load_explicit(                                \
				 &casty__log_threshold, memory_order_relaxed))

#define casty_log(ctx, level, ...)                                            \
	(casty_log_enabled(level) ? casty_log_write((ctx), (level), __VA_ARGS__) \
				  : (void)0)
#define casty_log_debug(ctx, ...) casty_log((ctx), CASTY_LOG_DEBUG, __VA_ARGS__)
#define casty_log_info(ctx, ...) casty_log((ctx), CASTY_LOG_INFO, __VA_ARGS__)
#define casty_log_warn(ctx, ...) casty_log((ctx), CASTY_LOG_WARN, __VA_ARGS__)
#define casty_log_error(ctx, ...) casty_log((ctx), CASTY_LOG_ERROR, __VA_ARGS__)

#endif // CASTY_LOG_H
