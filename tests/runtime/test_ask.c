// tests/runtime/test_ask.c: casty_ask from outside threads: replies,
// timeouts, late replies as dead letters, misuse.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <pthread.h>

#include <casty/casty.h>

#include "tests/support/system_fixture.h"

TestSuite(ask, .init = sys_setup, .fini = sys_teardown, .timeout = 60);
TestSuite(ask_stress, .init = sys_setup, .fini = sys_teardown, .timeout = 120);

// Echo replies at once; Hold keeps the reply_to until Release.
typedef struct {
	int64_t   v;
	casty_ref reply_to;
} Echo;
typedef struct {
	casty_ref reply_to;
} Hold;
typedef struct {
	int64_t v;
} Release;
typedef struct {
	casty_ref reply_to;
} AskInside;
CASTY_MESSAGE(Echo, v, reply_to);
CASTY_MESSAGE(Hold, reply_to);
CASTY_MESSAGE(Release, v);
CASTY_MESSAGE(AskInside, reply_to);
CASTY_PROTOCOL(EchoMsg, Echo, Hold, Release, AskInside);

static casty_behavior echo(casty_ref held);

CASTY_HANDLER(echo_receive, casty_ref)
{
	switch (EchoMsg_tag_of(msg)) {
	case EchoMsg_Echo: {
		const Echo *e = CASTY_AS(Echo, msg);
		casty_send(e->reply_to, casty_int, e->v);
		return casty_same();
	}
	case EchoMsg_Hold:
		return echo(CASTY_AS(Hold, msg)->reply_to);
	case EchoMsg_Release:
		casty_send(*state, casty_int, CASTY_AS(Release, msg)->v);
		return casty_same();
	case EchoMsg_AskInside: {
		// ask would block this worker: it is refused.
		casty_msg *r;
		EchoMsg_ref me = EchoMsg_ref_from(casty_self(ctx));
		int rc = casty_ask(casty_ctx_system(ctx), me, Echo, reply_to, 1, &r);
		casty_send(CASTY_AS(AskInside, msg)->reply_to, casty_int, rc);
		return casty_same();
	}
	}
	return casty_unhandled();
}

static casty_behavior
echo(casty_ref held)
{
	return casty_receive(echo_receive, &held, sizeof held);
}

static EchoMsg_ref
spawn_echo(const char *name)
{
	EchoMsg_ref e;
	cr_assert(eq(int, casty_spawn(sys, EchoMsg, echo(CASTY_REF_NONE), name,
				  &e),
		CASTY_OK));
	return e;
}

Test(ask, the_reply_comes_back_to_the_asker)
{
	EchoMsg_ref e = spawn_echo("echo");
	casty_msg  *reply = NULL;
	cr_assert(eq(int, casty_ask(sys, e, Echo, reply_to, 60000, &reply, .v = 42),
		CASTY_OK));
	cr_assert(casty_msg_is(reply, &casty_int__type));
	cr_assert(eq(i64, CASTY_AS(casty_int, reply)->value, 42));
	cr_assert(eq(ptr, (void *)CASTY_AS(casty_text, reply), NULL),
		"CASTY_AS of another type is NULL");
	casty_msg_free(reply);
}

Test(ask, no_reply_times_out_and_a_late_reply_is_a_dead_letter)
{
	EchoMsg_ref e = spawn_echo("holder");
	casty_msg  *reply = NULL;
	casty_system_stats before, after;

	cr_assert(eq(int, casty_ask(sys, e, Hold, reply_to, 10, &reply),
		-ETIMEDOUT));
	cr_assert(eq(ptr, reply, NULL));
	casty_system_stats_get(sys, &before);
	casty_tell(e, Release, 7); // replies to the expired ask
	// Echo is handled after Release (same sender, same mailbox), and the
	// late reply was counted when Release was handled.
	cr_assert(eq(int, casty_ask(sys, e, Echo, reply_to, 60000, &reply, .v = 1),
		CASTY_OK));
	cr_assert(eq(i64, CASTY_AS(casty_int, reply)->value, 1),
		"the late reply did not reach the next ask");
	casty_msg_free(reply);
	casty_system_stats_get(sys, &after);
	cr_assert(eq(u64, after.dead_letters, before.dead_letters + 1));
}

Test(ask, bad_arguments_return_einval)
{
	EchoMsg_ref e = spawn_echo("echo");
	casty_msg  *reply;
	Echo        req = {0};
	cr_assert(eq(int, casty_ask(sys, e, Echo, reply_to, -1, &reply), -EINVAL));
	cr_assert(eq(int, casty_ask_msg(NULL, e.ref, &Echo__type, 0, &req,
				  offsetof(Echo, reply_to), 10, &reply),
		-EINVAL));
	cr_assert(eq(int, casty_ask_msg(sys, e.ref, &Echo__type, 0, &req,
				  sizeof(Echo), 10, &reply),
		-EINVAL), "reply offset outside the message");
	cr_assert(eq(int, casty_ask_msg(sys, e.ref, &Echo__type, 0, &req,
				  offsetof(Echo, reply_to), 10, NULL),
		-EINVAL));
	cr_assert(eq(int, casty_ask_msg(sys, CASTY_REF_NONE, &Echo__type, 0,
				  &req, offsetof(Echo, reply_to), 10, &reply),
		CASTY_ENOREF));
}

Test(ask, asking_from_inside_a_handler_is_refused)
{
	EchoMsg_ref e = spawn_echo("echo");
	casty_msg  *reply;
	cr_assert(eq(int, casty_ask(sys, e, AskInside, reply_to, 60000, &reply),
		CASTY_OK));
	cr_assert(eq(i64, CASTY_AS(casty_int, reply)->value, -EDEADLK));
	casty_msg_free(reply);
}

// Many threads asking at once; each reply matches its request.
static void *
asker(void *arg)
{
	EchoMsg_ref *e = arg;
	for (int64_t i = 0; i < 2000; i++) {
		casty_msg *reply;
		if (casty_ask(sys, *e, Echo, reply_to, 60000, &reply, .v = i) !=
		    CASTY_OK) {
			return (void *)1;
		}
		int64_t v = CASTY_AS(casty_int, reply)->value;
		casty_msg_free(reply);
		if (v != i) {
			return (void *)2;
		}
	}
	return NULL;
}

Test(ask_stress, four_threads_asking_get_their_own_replies)
{
	EchoMsg_ref e[2] = {spawn_echo("e0"), spawn_echo("e1")};
	pthread_t   t[4];
	for (int i = 0; i < 4; i++) {
		pthread_create(&t[i], NULL, asker, &e[i % 2]);
	}
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		cr_assert(eq(ptr, r, NULL));
	}
}
