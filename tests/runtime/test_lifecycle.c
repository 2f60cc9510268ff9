// tests/runtime/test_lifecycle.c: the order of lifecycle hooks around
// start, stop and restart (include/casty/lifecycle.h pins it down), and
// what a failing hook does.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <casty/casty.h>

#include "tests/support/system_fixture.h"

#include "tests/support/probe.h"

TestSuite(lifecycle, .init = sys_setup_quiet,
	.fini = sys_teardown_quiet,
	.timeout = 60);

// The journal: what happened, in order, across actors.
#define JOURNAL_MAX 64
static pthread_mutex_t journal_lock = PTHREAD_MUTEX_INITIALIZER;
static char            journal[JOURNAL_MAX][80];
static int             njournal;

static void
note(casty_ctx *ctx, const char *what)
{
	char name[16] = "";
	if (ctx != NULL) {
		casty_ctx_name(ctx, name, sizeof name);
	}
	pthread_mutex_lock(&journal_lock);
	if (njournal < JOURNAL_MAX) {
		snprintf(journal[njournal++], sizeof journal[0], "%s:%s", name,
			what);
	}
	pthread_mutex_unlock(&journal_lock);
}

// Compares the journal with the expected lines, then clears it.
static void
expect_journal(const char *const *lines, int n)
{
	pthread_mutex_lock(&journal_lock);
	int got = njournal;
	for (int i = 0; i < n && i < got; i++) {
		cr_expect(eq(str, journal[i], (char *)lines[i]), "line %d", i);
	}
	cr_expect(eq(int, got, n), "journal length");
	njournal = 0;
	pthread_mutex_unlock(&journal_lock);
}

// Which hooks fail, by name.
static _Atomic int fail_pre_start, fail_post_stop, fail_pre_restart,
	fail_post_restart;

static int
pre_start(casty_ctx *ctx)
{
	note(ctx, "pre_start");
	return atomic_load(&fail_pre_start) ? -EIO : CASTY_OK;
}

static int
post_stop(casty_ctx *ctx)
{
	note(ctx, "post_stop");
	return atomic_load(&fail_post_stop) ? -EIO : CASTY_OK;
}

static int
pre_restart(casty_ctx *ctx, const casty_failure *f)
{
	char line[72];
	snprintf(line, sizeof line, "pre_restart(%d %s)", f->code, f->reason);
	note(ctx, line);
	return atomic_load(&fail_pre_restart) ? -EIO : CASTY_OK;
}

static int
post_restart(casty_ctx *ctx)
{
	note(ctx, "post_restart");
	return atomic_load(&fail_post_restart) ? -EIO : CASTY_OK;
}

static const casty_lifecycle all_hooks = {
	pre_start, post_stop, pre_restart, post_restart};

typedef struct {
	char text[16];
} Say;
typedef struct {
	int32_t code;
} Fail;
typedef struct {
	casty_ref reply_to;
} Sync;
typedef struct {
	int32_t unused;
} Quit;
CASTY_MESSAGE(Say, text);
CASTY_MESSAGE(Fail, code);
CASTY_MESSAGE(Sync, reply_to);
CASTY_MESSAGE(Quit, unused);
CASTY_PROTOCOL(ActorMsg, Say, Fail, Sync, Quit);

static casty_behavior hooked(bool with_child);

CASTY_HANDLER(actor_receive, void)
{
	switch (ActorMsg_tag_of(msg)) {
	case ActorMsg_Say:
		if (strcmp(CASTY_AS(Say, msg)->text, "wrap") == 0) {
			return hooked(false); // wrappers are for spawning
		}
		note(ctx, CASTY_AS(Say, msg)->text);
		return casty_same();
	case ActorMsg_Fail:
		return casty_failed(CASTY_AS(Fail, msg)->code, "bad");
	case ActorMsg_Sync:
		casty_send(CASTY_AS(Sync, msg)->reply_to, casty_int, 0);
		return casty_same();
	case ActorMsg_Quit:
		return casty_stopped();
	}
	return casty_unhandled();
}

// Spawns a hooked child "kid" when asked to, so that orders between a
// parent's hooks and its children's can be seen.
CASTY_SETUP(actor_setup, bool)
{
	note(ctx, "setup");
	if (*state) {
		ActorMsg_ref kid;
		cr_assert(eq(int,
			casty_ctx_spawn(ctx, ActorMsg, hooked(false), "kid",
				&kid),
			CASTY_OK));
	}
	return casty_receive(actor_receive, NULL, 0);
}

static casty_behavior
hooked(bool with_child)
{
	return casty_with_lifecycle(
		casty_setup(actor_setup, &with_child, sizeof with_child),
		all_hooks);
}

static void
sync_with(ActorMsg_ref a)
{
	casty_msg *reply;
	cr_assert(eq(int, casty_ask(sys, a, Sync, reply_to, 60000, &reply),
		CASTY_OK));
	casty_msg_free(reply);
}

static void
reset(void)
{
	atomic_store(&fail_pre_start, 0);
	atomic_store(&fail_post_stop, 0);
	atomic_store(&fail_pre_restart, 0);
	atomic_store(&fail_post_restart, 0);
	pthread_mutex_lock(&journal_lock);
	njournal = 0;
	pthread_mutex_unlock(&journal_lock);
}

Test(lifecycle, start_then_messages_then_stop)
{
	reset();
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	ActorMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, ActorMsg, hooked(false), "a", &a),
		CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	casty_tell(a, Say, "hello");
	casty_tell(a, Quit, 0);
	cr_assert(eq(int, probe_await(sys, probe, a.ref), 0));
	const char *want[] = {"a:setup", "a:pre_start", "a:hello",
		"a:post_stop"};
	expect_journal(want, 4);
}

Test(lifecycle, children_stop_before_the_parent_post_stop)
{
	reset();
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	ActorMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, ActorMsg, hooked(true), "p", &a),
		CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	sync_with(a);
	casty_tell(a, Quit, 0);
	cr_assert(eq(int, probe_await(sys, probe, a.ref), 0));
	// The child's start runs concurrently with the parent's pre_start:
	// only the order within each actor, and the stop order, are fixed.
	pthread_mutex_lock(&journal_lock);
	int kid_pre = -1, p_pre = -1, kid_post = -1, p_post = -1;
	for (int i = 0; i < njournal; i++) {
		if (strcmp(journal[i], "kid:pre_start") == 0) kid_pre = i;
		if (strcmp(journal[i], "p:pre_start") == 0) p_pre = i;
		if (strcmp(journal[i], "kid:post_stop") == 0) kid_post = i;
		if (strcmp(journal[i], "p:post_stop") == 0) p_post = i;
	}
	cr_expect(eq(int, njournal, 6));
	cr_expect(eq(str, journal[0], "p:setup"));
	pthread_mutex_unlock(&journal_lock);
	cr_assert(ge(int, kid_pre, 0));
	cr_assert(ge(int, p_pre, 0));
	cr_assert(lt(int, kid_post, p_post));
	cr_assert(eq(int, p_post, 5));
}

Test(lifecycle, restart_order)
{
	reset();
	ActorMsg_ref a;
	cr_assert(eq(int,
		casty_spawn(sys, ActorMsg,
			casty_supervise(hooked(false), CASTY_ONE_FOR_ONE), "a",
			&a),
		CASTY_OK));
	casty_tell(a, Fail, 7);
	casty_tell(a, Say, "after");
	sync_with(a);
	const char *want[] = {"a:setup", "a:pre_start", "a:pre_restart(7 bad)",
		"a:setup", "a:pre_start", "a:post_restart", "a:after"};
	expect_journal(want, 7);
}

Test(lifecycle, restart_stops_children_before_setup_runs_again)
{
	reset();
	ActorMsg_ref a;
	cr_assert(eq(int,
		casty_spawn(sys, ActorMsg,
			casty_supervise(hooked(true), CASTY_ONE_FOR_ONE), "p",
			&a),
		CASTY_OK));
	sync_with(a);
	casty_tell(a, Fail, 1);
	sync_with(a);
	pthread_mutex_lock(&journal_lock);
	int pre_restart_at = -1, kid_post = -1, setup2 = -1, post_restart = -1;
	int setups = 0;
	for (int i = 0; i < njournal; i++) {
		if (strncmp(journal[i], "p:pre_restart", 13) == 0) pre_restart_at = i;
		if (strcmp(journal[i], "kid:post_stop") == 0) kid_post = i;
		if (strcmp(journal[i], "p:setup") == 0 && ++setups == 2) setup2 = i;
		if (strcmp(journal[i], "p:post_restart") == 0) post_restart = i;
	}
	njournal = 0;
	pthread_mutex_unlock(&journal_lock);
	cr_assert(ge(int, pre_restart_at, 0));
	cr_assert(lt(int, pre_restart_at, kid_post));
	cr_assert(lt(int, kid_post, setup2));
	cr_assert(lt(int, setup2, post_restart));
}

Test(lifecycle, failing_pre_start_without_supervisor_stops_the_actor)
{
	reset();
	atomic_store(&fail_pre_start, 1);
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	ActorMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, ActorMsg, hooked(false), "a", &a),
		CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	casty_tell(a, Say, "never");
	cr_assert(eq(int, probe_await(sys, probe, a.ref), 0));
	// post_stop still runs: the hooks were installed.
	const char *want[] = {"a:setup", "a:pre_start", "a:post_stop"};
	expect_journal(want, 3);
}

Test(lifecycle, failing_pre_start_is_retried_within_the_strategy)
{
	reset();
	atomic_store(&fail_pre_start, 1);
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	ActorMsg_ref a;
	cr_assert(eq(int,
		casty_spawn(sys, ActorMsg,
			casty_supervise(hooked(false),
				(casty_strategy){.max_restarts = 2,
					.within_ms = 60000}),
			"a", &a),
		CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	cr_assert(eq(int, probe_await(sys, probe, a.ref), 0));
	const char *want[] = {"a:setup", "a:pre_start",
		"a:pre_restart(-5 pre_start failed: Input/output error)",
		"a:setup", "a:pre_start",
		"a:pre_restart(-5 pre_start failed: Input/output error)",
		"a:setup", "a:pre_start", "a:post_stop"};
	expect_journal(want, 9);
}

Test(lifecycle, failing_post_restart_counts_as_a_failure)
{
	reset();
	atomic_store(&fail_post_restart, 1);
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	ActorMsg_ref a;
	cr_assert(eq(int,
		casty_spawn(sys, ActorMsg,
			casty_supervise(hooked(false),
				(casty_strategy){.max_restarts = 1,
					.within_ms = 60000}),
			"a", &a),
		CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	casty_tell(a, Fail, 2);
	cr_assert(eq(int, probe_await(sys, probe, a.ref), 0));
	const char *want[] = {"a:setup", "a:pre_start", "a:pre_restart(2 bad)",
		"a:setup", "a:pre_start", "a:post_restart", "a:post_stop"};
	expect_journal(want, 7);
}

Test(lifecycle, failing_pre_restart_and_post_stop_are_ignored)
{
	reset();
	atomic_store(&fail_pre_restart, 1);
	atomic_store(&fail_post_stop, 1);
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	ActorMsg_ref a;
	cr_assert(eq(int,
		casty_spawn(sys, ActorMsg,
			casty_supervise(hooked(false), CASTY_ONE_FOR_ONE), "a",
			&a),
		CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	casty_tell(a, Fail, 3);
	casty_tell(a, Say, "alive");
	casty_tell(a, Quit, 0);
	cr_assert(eq(int, probe_await(sys, probe, a.ref), 0));
	const char *want[] = {"a:setup", "a:pre_start", "a:pre_restart(3 bad)",
		"a:setup", "a:pre_start", "a:post_restart", "a:alive",
		"a:post_stop"};
	expect_journal(want, 8);
}

Test(lifecycle, inner_hooks_override_outer_ones)
{
	reset();
	ActorMsg_ref a;
	casty_lifecycle outer = {.pre_start = post_restart, // notes post_restart
		.post_stop = post_stop};
	casty_lifecycle inner = {.pre_start = pre_start};
	cr_assert(eq(int,
		casty_spawn(sys, ActorMsg,
			casty_with_lifecycle(
				casty_with_lifecycle(
					casty_receive(actor_receive, NULL, 0),
					inner),
				outer),
			"a", &a),
		CASTY_OK));
	sync_with(a);
	const char *want[] = {"a:pre_start"};
	expect_journal(want, 1);
}

Test(lifecycle, a_wrapper_returned_by_a_handler_is_a_failure)
{
	reset();
	ProbeMsg_ref probe = probe_spawn(sys, "probe");
	ActorMsg_ref a;
	cr_assert(eq(int,
		casty_spawn(sys, ActorMsg, casty_receive(actor_receive, NULL, 0),
			"a", &a),
		CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	casty_tell(a, Say, "wrap");
	cr_assert(eq(int, probe_await(sys, probe, a.ref), 0));
	expect_journal(NULL, 0); // no hook of the returned wrapper ran
}

Test(lifecycle, a_refused_spawn_consumes_the_wrapped_behavior)
{
	ActorMsg_ref a;
	// Nothing leaks (the sanitizer runs check it).
	cr_assert(eq(int, casty_spawn(sys, ActorMsg, hooked(true), "", &a),
		-EINVAL));
	cr_assert(eq(int,
		casty_spawn(sys, ActorMsg,
			casty_supervise(hooked(false), CASTY_ONE_FOR_ONE),
			"bad/name", &a),
		-EINVAL));
}
