// tests/runtime/test_log.c: logging (log.h): the actor's path on every
// line, the threshold (arguments below it are not evaluated), OFF, the
// runtime's own failure line, and the sink. A capturing sink records the
// lines; the test reads them after an ask round trip (or the probe),
// which orders them after the handler that logged.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>

#include <casty/casty.h>

#include "tests/support/probe.h"

static casty_system *sys;

// The capturing sink. It may be called from every worker at once.

#define MAX_LINES 32

typedef struct {
	casty_log_level level;
	char            path[128];
	char            message[256];
} line;

static pthread_mutex_t lines_lock = PTHREAD_MUTEX_INITIALIZER;
static line            lines[MAX_LINES];
static int             nlines; // also counts past MAX_LINES

static void
capture(void *arg, casty_log_level level, const char *path,
	const char *message)
{
	(void)arg;
	pthread_mutex_lock(&lines_lock);
	if (nlines < MAX_LINES) {
		line *l = &lines[nlines];
		l->level = level;
		snprintf(l->path, sizeof l->path, "%s", path);
		snprintf(l->message, sizeof l->message, "%s", message);
	}
	nlines++;
	pthread_mutex_unlock(&lines_lock);
}

static int
count_lines(void)
{
	pthread_mutex_lock(&lines_lock);
	int n = nlines;
	pthread_mutex_unlock(&lines_lock);
	return n;
}

// casty_log_enabled as a function, for cr_assert.
static bool
enabled(casty_log_level level)
{
	return casty_log_enabled(level);
}

static line
line_at(int i)
{
	pthread_mutex_lock(&lines_lock);
	line l = lines[i];
	pthread_mutex_unlock(&lines_lock);
	return l;
}

// Every test: a system, the capturing sink at level INFO; afterwards the
// system is gone before the default sink and level come back, so no
// worker logs while the sink changes.
static void
log_setup(void)
{
	nlines = 0;
	casty_log_set_level(CASTY_LOG_INFO);
	casty_log_set_sink(capture, NULL);
	cr_assert(eq(int, casty_system_create(NULL, &sys), CASTY_OK));
}

static void
log_teardown(void)
{
	casty_system_destroy(sys);
	casty_log_set_sink(NULL, NULL);
	casty_log_set_level(CASTY_LOG_INFO);
}

TestSuite(log, .init = log_setup, .fini = log_teardown, .timeout = 60);

// An actor that logs on request and answers once it has.

typedef struct {
	int32_t   level;
	char      text[32];
	casty_ref reply_to;
} Say;
typedef struct {
	casty_ref reply_to;
} Bump; // logs `counter++` at DEBUG
typedef struct {
	char      name[16];
	casty_ref reply_to;
} SpawnKid;
typedef struct {
	casty_ref ref;
	int64_t   rc;
} KidRef; // the reply to SpawnKid
typedef struct {
	int32_t code;
} Fail;
CASTY_MESSAGE(KidRef, ref, rc);
CASTY_MESSAGE(Say, level, text, reply_to);
CASTY_MESSAGE(Bump, reply_to);
CASTY_MESSAGE(SpawnKid, name, reply_to);
CASTY_MESSAGE(Fail, code);
CASTY_PROTOCOL(LogMsg, Say, Bump, SpawnKid, Fail);

// Incremented only by evaluating the DEBUG line's arguments.
static _Atomic int counter;

CASTY_HANDLER(logger_receive, void)
{
	switch (LogMsg_tag_of(msg)) {
	case LogMsg_Say: {
		const Say *s = CASTY_AS(Say, msg);
		switch (s->level) {
		case CASTY_LOG_DEBUG:
			casty_log_debug(ctx, "said %s", s->text);
			break;
		case CASTY_LOG_INFO:
			casty_log_info(ctx, "said %s", s->text);
			break;
		case CASTY_LOG_WARN:
			casty_log_warn(ctx, "said %s", s->text);
			break;
		default:
			casty_log_error(ctx, "said %s", s->text);
		}
		casty_send(s->reply_to, casty_int, 0);
		return casty_same();
	}
	case LogMsg_Bump:
		casty_log_debug(ctx, "%d", counter++);
		casty_send(CASTY_AS(Bump, msg)->reply_to, casty_int, 0);
		return casty_same();
	case LogMsg_SpawnKid: {
		const SpawnKid *k = CASTY_AS(SpawnKid, msg);
		LogMsg_ref      kid = {.ref = CASTY_REF_NONE};
		KidRef          r;
		r.rc = casty_ctx_spawn(ctx, LogMsg,
			casty_receive(logger_receive, NULL, 0), k->name, &kid);
		r.ref = kid.ref;
		casty_send_copy(k->reply_to, KidRef, &r);
		return casty_same();
	}
	case LogMsg_Fail:
		return casty_failed(CASTY_AS(Fail, msg)->code, "bad");
	}
	return casty_unhandled();
}

static LogMsg_ref
logger_spawn(const char *name)
{
	LogMsg_ref l;
	cr_assert(eq(int, casty_spawn(sys, LogMsg,
				  casty_receive(logger_receive, NULL, 0), name,
				  &l),
		CASTY_OK));
	return l;
}

// say makes l log text at level and returns once it has.
static void
say(LogMsg_ref l, casty_log_level level, const char *text)
{
	casty_msg *reply;
	Say        s = {.level = (int32_t)level};
	snprintf(s.text, sizeof s.text, "%s", text);
	cr_assert(eq(int, casty_ask_msg(sys, l.ref, &Say__type, LogMsg_Say, &s,
				  offsetof(Say, reply_to), 30000, &reply),
		CASTY_OK));
	casty_msg_free(reply);
}

static void
bump(LogMsg_ref l)
{
	casty_msg *reply;
	cr_assert(eq(int, casty_ask(sys, l, Bump, reply_to, 30000, &reply),
		CASTY_OK));
	casty_msg_free(reply);
}

Test(log, an_actor_line_carries_its_path)
{
	LogMsg_ref l = logger_spawn("bank");
	say(l, CASTY_LOG_INFO, "hello");
	cr_assert(eq(int, count_lines(), 1));
	line got = line_at(0);
	cr_assert(eq(int, got.level, CASTY_LOG_INFO));
	cr_assert(eq(str, got.path, "/bank"));
	cr_assert(eq(str, got.message, "said hello"));

	say(l, CASTY_LOG_WARN, "careful");
	say(l, CASTY_LOG_ERROR, "oops");
	cr_assert(eq(int, count_lines(), 3));
	cr_assert(eq(int, line_at(1).level, CASTY_LOG_WARN));
	cr_assert(eq(int, line_at(2).level, CASTY_LOG_ERROR));
	cr_assert(eq(str, line_at(2).message, "said oops"));
}

Test(log, a_child_line_carries_the_full_path)
{
	LogMsg_ref parent = logger_spawn("bank");
	casty_msg *reply;
	SpawnKid   k = {.name = "account"};
	cr_assert(eq(int, casty_ask_msg(sys, parent.ref, &SpawnKid__type,
				  LogMsg_SpawnKid, &k,
				  offsetof(SpawnKid, reply_to), 30000, &reply),
		CASTY_OK));
	KidRef r = *CASTY_AS(KidRef, reply);
	casty_msg_free(reply);
	cr_assert(eq(i64, r.rc, CASTY_OK));

	say(LogMsg_ref_from(r.ref), CASTY_LOG_INFO, "from the child");
	cr_assert(eq(int, count_lines(), 1));
	cr_assert(eq(str, line_at(0).path, "/bank/account"));
	cr_assert(eq(str, line_at(0).message, "said from the child"));
}

Test(log, below_the_threshold_nothing_is_evaluated_or_sent)
{
	LogMsg_ref l = logger_spawn("quiet");
	say(l, CASTY_LOG_DEBUG, "hidden");
	bump(l);
	cr_assert(eq(int, count_lines(), 0), "DEBUG is below INFO");
	cr_assert(eq(int, atomic_load(&counter), 0),
		"the arguments of a skipped line are not evaluated");
	cr_assert(not(enabled(CASTY_LOG_DEBUG)));
	cr_assert(enabled(CASTY_LOG_INFO));

	casty_log_set_level(CASTY_LOG_DEBUG);
	cr_assert(enabled(CASTY_LOG_DEBUG));
	bump(l);
	cr_assert(eq(int, atomic_load(&counter), 1));
	cr_assert(eq(int, count_lines(), 1));
	cr_assert(eq(int, line_at(0).level, CASTY_LOG_DEBUG));
	cr_assert(eq(str, line_at(0).path, "/quiet"));
	cr_assert(eq(str, line_at(0).message, "0"));

	// WARN: INFO lines are skipped too, WARN ones are not.
	casty_log_set_level(CASTY_LOG_WARN);
	say(l, CASTY_LOG_INFO, "skipped");
	say(l, CASTY_LOG_WARN, "kept");
	cr_assert(eq(int, count_lines(), 2));
	cr_assert(eq(str, line_at(1).message, "said kept"));
}

Test(log, off_silences_everything_including_errors)
{
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	LogMsg_ref   l = logger_spawn("mute");
	casty_log_set_level(CASTY_LOG_OFF);
	cr_assert(not(enabled(CASTY_LOG_ERROR)));
	say(l, CASTY_LOG_INFO, "a");
	say(l, CASTY_LOG_WARN, "b");
	say(l, CASTY_LOG_ERROR, "c");
	bump(l);
	cr_assert(eq(int, atomic_load(&counter), 0));

	// The runtime's own error line for a failure is silenced as well.
	cr_assert(eq(int, probe_watch(sys, probe, l.ref), CASTY_OK));
	cr_assert(eq(int, casty_tell(l, Fail, 5), CASTY_OK));
	cr_assert(ge(int, probe_await(sys, probe, l.ref), 0));
	cr_assert(eq(int, count_lines(), 0));
}

Test(log, an_unsupervised_failure_logs_one_error_line_and_stops)
{
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	LogMsg_ref   l = logger_spawn("doomed");
	cr_assert(eq(int, probe_watch(sys, probe, l.ref), CASTY_OK));
	cr_assert(eq(int, casty_tell(l, Fail, 5), CASTY_OK));
	// Logged before the stop, which the probe hears of after it.
	cr_assert(ge(int, probe_await(sys, probe, l.ref), 0));

	cr_assert(eq(int, count_lines(), 1));
	line got = line_at(0);
	cr_assert(eq(int, got.level, CASTY_LOG_ERROR));
	cr_assert(eq(str, got.path, "/doomed"));
	cr_assert(not(eq(ptr, strstr(got.message, "bad"), NULL)),
		"the reason is on the line: %s", got.message);
}

Test(log, a_line_outside_actors_has_an_empty_path)
{
	casty_log_write(NULL, CASTY_LOG_WARN, "outside %d", 42);
	cr_assert(eq(int, count_lines(), 1));
	cr_assert(eq(int, line_at(0).level, CASTY_LOG_WARN));
	cr_assert(eq(str, line_at(0).path, ""));
	cr_assert(eq(str, line_at(0).message, "outside 42"));

	// The macros check the threshold; casty_log_write does not.
	casty_log_info(NULL, "info %d", 1);
	casty_log_debug(NULL, "debug %d", 2);
	cr_assert(eq(int, count_lines(), 2));
	cr_assert(eq(str, line_at(1).message, "info 1"));
	casty_log_set_level(CASTY_LOG_OFF);
	casty_log_write(NULL, CASTY_LOG_DEBUG, "forced");
	cr_assert(eq(int, count_lines(), 3));
	cr_assert(eq(str, line_at(2).message, "forced"));
}

Test(log, level_names)
{
	cr_assert(eq(str, (char *)casty_log_level_name(CASTY_LOG_DEBUG), "DEBUG"));
	cr_assert(eq(str, (char *)casty_log_level_name(CASTY_LOG_INFO), "INFO"));
	cr_assert(eq(str, (char *)casty_log_level_name(CASTY_LOG_WARN), "WARN"));
	cr_assert(eq(str, (char *)casty_log_level_name(CASTY_LOG_ERROR), "ERROR"));
	cr_assert(not(eq(ptr, (void *)casty_log_level_name(CASTY_LOG_OFF), NULL)));
	cr_assert(not(eq(ptr,
		(void *)casty_log_level_name((casty_log_level)42), NULL)));
}
