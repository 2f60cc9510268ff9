// tests/persistence/test_event_sourced.c: event-sourced actors over a
// test journal that decides when each operation completes: commands,
// persisted batches, recovery (from events and from snapshots), stashing
// while a persist or the recovery is in flight, supervised restarts that
// replay, failures that fail the actor, and misuse.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>

#include <casty/casty.h>

#include "tests/support/fake_journal.h"
#include "tests/support/system_fixture.h"

#include "tests/support/probe.h"

TestSuite(event_sourced, .init = sys_setup_quiet,
	.fini = sys_teardown_quiet,
	.timeout = 60);

// The bank account of the README.
typedef struct {
	int64_t balance;
	int64_t deposits;
} AccountState;
CASTY_MESSAGE(AccountState, balance, deposits);

typedef struct {
	int64_t amount;
} Deposited;
typedef struct {
	int64_t amount;
} Withdrawn;
CASTY_MESSAGE(Deposited, amount);
CASTY_MESSAGE(Withdrawn, amount);
CASTY_PROTOCOL(AccountEvent, Deposited, Withdrawn);

typedef struct {
	int64_t amount;
} Deposit;
typedef struct {
	int64_t amount;
} Withdraw;
typedef struct {
	casty_ref reply_to;
} GetBalance;
typedef struct {
	int32_t what;
} Misuse;
CASTY_MESSAGE(Deposit, amount);
CASTY_MESSAGE(Withdraw, amount);
CASTY_MESSAGE(GetBalance, reply_to);
CASTY_MESSAGE(Misuse, what);
CASTY_PROTOCOL(AccountMsg, Deposit, Withdraw, GetBalance, Misuse);

enum { MISUSE_FAIL, MISUSE_RECEIVE, MISUSE_STOP, MISUSE_BAD_EVENT,
	MISUSE_UNHANDLED, MISUSE_TWO_EVENTS };

static _Atomic int persist_rc = 1; // what casty_persist returned last

static void
on_event(void *state, const casty_msg *event)
{
	AccountState *s = state;
	switch (AccountEvent_tag_of(event)) {
	case AccountEvent_Deposited:
		s->balance += CASTY_AS(Deposited, event)->amount;
		s->deposits++;
		return;
	case AccountEvent_Withdrawn:
		s->balance -= CASTY_AS(Withdrawn, event)->amount;
		return;
	}
}

CASTY_HANDLER(idle_receive, void)
{
	return casty_same();
}

CASTY_COMMAND(on_command, AccountState)
{
	switch (AccountMsg_tag_of(msg)) {
	case AccountMsg_Deposit:
		casty_persist(ctx, Deposited, CASTY_AS(Deposit, msg)->amount);
		return casty_persisted();
	case AccountMsg_Withdraw:
		if (CASTY_AS(Withdraw, msg)->amount > state->balance) {
			return casty_same(); // refused: nothing persisted
		}
		casty_persist(ctx, Withdrawn, CASTY_AS(Withdraw, msg)->amount);
		return casty_persisted();
	case AccountMsg_GetBalance:
		casty_send(CASTY_AS(GetBalance, msg)->reply_to, casty_int,
			state->balance);
		return casty_same();
	case AccountMsg_Misuse:
		switch (CASTY_AS(Misuse, msg)->what) {
		case MISUSE_FAIL:
			return casty_failed(5, "account broke");
		case MISUSE_RECEIVE:
			return casty_receive(idle_receive, NULL, 0);
		case MISUSE_STOP:
			return casty_stopped();
		case MISUSE_BAD_EVENT:
			atomic_store(&persist_rc,
				casty_persist(ctx, Deposit, 1)); // a command
			return casty_same();
		case MISUSE_UNHANDLED:
			casty_persist(ctx, Deposited, 1000); // dropped
			return casty_unhandled();
		case MISUSE_TWO_EVENTS:
			casty_persist(ctx, Deposited, 10);
			casty_persist(ctx, Withdrawn, 3);
			return casty_persisted();
		}
	}
	return casty_unhandled();
}

static casty_behavior
account(fake_journal *j, const char *id, uint32_t snapshot_every)
{
	AccountState zero = {0, 0};
	return casty_event_sourced(&(casty_event_sourced_spec){
		.entity_id = id,
		.journal = &j->base,
		.events = &AccountEvent__protocol,
		.state_type = &AccountState__type,
		.initial_state = &zero,
		.on_event = on_event,
		.on_command = on_command,
		.snapshot_every = snapshot_every,
	});
}

static int64_t
balance(AccountMsg_ref a)
{
	casty_msg *reply;
	int rc = casty_ask(sys, a, GetBalance, reply_to, 60000, &reply);
	cr_assert(eq(int, rc, CASTY_OK));
	int64_t v = CASTY_AS(casty_int, reply)->value;
	casty_msg_free(reply);
	return v;
}

// Stops a root actor and waits until it has stopped.
static void
stop_and_wait(ProbeMsg_ref probe, AccountMsg_ref a)
{
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	casty_tell(a, Misuse, MISUSE_STOP);
	cr_assert(ge(int, probe_await(sys, probe, a.ref), 0));
}

Test(event_sourced, commands_persist_and_a_new_incarnation_recovers)
{
	fake_journal  *j = fake_journal_new();
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	AccountMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-1", 0),
		"a", &a), CASTY_OK));
	casty_tell(a, Deposit, 100);
	casty_tell(a, Deposit, 50);
	casty_tell(a, Withdraw, 500); // refused
	casty_tell(a, Withdraw, 30);
	cr_assert(eq(i64, balance(a), 120));
	cr_assert(eq(sz, j->nevents, 3));
	stop_and_wait(probe, a);

	// Same entity, new actor: replays the three events.
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-1", 0),
		"b", &a), CASTY_OK));
	cr_assert(eq(i64, balance(a), 120));
	casty_tell(a, Deposit, 1);
	cr_assert(eq(i64, balance(a), 121));
	cr_assert(eq(u64, j->events[3].seq, 4)); // sequence numbers go on
	stop_and_wait(probe, a);
	casty_journal_close(&j->base);
}

Test(event_sourced, a_batch_is_persisted_together_and_folded_in_order)
{
	fake_journal  *j = fake_journal_new();
	AccountMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-2", 0),
		"a", &a), CASTY_OK));
	casty_tell(a, Misuse, MISUSE_TWO_EVENTS);
	cr_assert(eq(i64, balance(a), 7));
	cr_assert(eq(sz, j->persists, 1)); // one batch of two
	cr_assert(eq(sz, j->nevents, 2));
	casty_system_destroy(sys);
	sys_setup();
	casty_journal_close(&j->base);
}

Test(event_sourced, commands_wait_while_a_persist_is_in_flight)
{
	fake_journal  *j = fake_journal_new();
	AccountMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-3", 0),
		"a", &a), CASTY_OK));
	cr_assert(eq(i64, balance(a), 0)); // recovered, ready
	pthread_mutex_lock(&j->lock);
	j->hold = true;
	pthread_mutex_unlock(&j->lock);
	casty_tell(a, Deposit, 1);
	// The persist is held; these are stashed behind it.
	for (int i = 0; i < 10; i++) {
		casty_tell(a, Deposit, 10);
	}
	while (fake_held_count(j) == 0) {
		sched_yield(); // the first persist reaches the journal
	}
	cr_assert(eq(sz, fake_release(j), 1));
	cr_assert(eq(i64, balance(a), 101));
	cr_assert(eq(sz, j->nevents, 11));
	for (size_t i = 0; i < j->nevents; i++) {
		cr_assert(eq(u64, j->events[i].seq, i + 1));
	}
	casty_system_destroy(sys);
	sys_setup();
	casty_journal_close(&j->base);
}

Test(event_sourced, commands_wait_for_the_recovery)
{
	fake_journal  *j = fake_journal_new();
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	AccountMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-4", 0),
		"a", &a), CASTY_OK));
	casty_tell(a, Deposit, 5);
	cr_assert(eq(i64, balance(a), 5));
	stop_and_wait(probe, a);

	pthread_mutex_lock(&j->lock);
	j->hold = true;
	pthread_mutex_unlock(&j->lock);
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-4", 0),
		"b", &a), CASTY_OK));
	casty_tell(a, Deposit, 2); // during the recovery: stashed
	while (fake_held_count(j) == 0) {
		sched_yield(); // the snapshot load reaches the journal
	}
	fake_release(j); // the snapshot (none); the load then runs at once
	cr_assert(eq(i64, balance(a), 7));
	stop_and_wait(probe, a);
	casty_journal_close(&j->base);
}

Test(event_sourced, snapshots_bound_the_replay)
{
	fake_journal  *j = fake_journal_new();
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	AccountMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-5", 3),
		"a", &a), CASTY_OK));
	for (int i = 1; i <= 7; i++) {
		casty_tell(a, Deposit, i);
	}
	cr_assert(eq(i64, balance(a), 28));
	stop_and_wait(probe, a);
	cr_assert(eq(sz, j->nsnapshots, 2)); // at 3 and 6
	cr_assert(eq(u64, j->snapshots[1].seq, 6));

	j->replayed = 0;
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-5", 3),
		"b", &a), CASTY_OK));
	cr_assert(eq(i64, balance(a), 28));
	cr_assert(eq(sz, j->replayed, 1)); // only event 7 after the snapshot
	stop_and_wait(probe, a);
	casty_journal_close(&j->base);
}

Test(event_sourced, a_supervised_restart_replays_the_journal)
{
	fake_journal  *j = fake_journal_new();
	AccountMsg_ref a;
	cr_assert(eq(int,
		casty_spawn(sys, AccountMsg,
			casty_supervise(account(j, "acc-6", 0),
				CASTY_ONE_FOR_ONE),
			"a", &a),
		CASTY_OK));
	casty_tell(a, Deposit, 40);
	casty_tell(a, Misuse, MISUSE_FAIL); // restart
	casty_tell(a, Deposit, 2);
	cr_assert(eq(i64, balance(a), 42)); // not 2: the events came back
	casty_system_destroy(sys);
	sys_setup();
	casty_journal_close(&j->base);
}

Test(event_sourced, a_failed_persist_fails_the_actor)
{
	fake_journal  *j = fake_journal_new();
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	AccountMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-7", 0),
		"a", &a), CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	casty_tell(a, Deposit, 1);
	cr_assert(eq(i64, balance(a), 1));
	pthread_mutex_lock(&j->lock);
	j->fail_persist = -EIO;
	pthread_mutex_unlock(&j->lock);
	casty_tell(a, Deposit, 2);
	// Unsupervised: stopped, never half alive.
	cr_assert(eq(int, probe_await(sys, probe, a.ref), 0));

	// Supervised: restarted, back to what was durable.
	cr_assert(eq(int,
		casty_spawn(sys, AccountMsg,
			casty_supervise(account(j, "acc-7", 0),
				CASTY_ONE_FOR_ONE),
			"b", &a),
		CASTY_OK));
	pthread_mutex_lock(&j->lock);
	j->fail_persist = -EIO;
	pthread_mutex_unlock(&j->lock);
	casty_tell(a, Deposit, 2);
	casty_tell(a, Deposit, 3);
	cr_assert(eq(i64, balance(a), 4));
	casty_system_destroy(sys);
	sys_setup();
	casty_journal_close(&j->base);
}

Test(event_sourced, a_failed_recovery_fails_the_actor)
{
	fake_journal  *j = fake_journal_new();
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	AccountMsg_ref a;
	pthread_mutex_lock(&j->lock);
	j->fail_load = CASTY_ECORRUPT;
	pthread_mutex_unlock(&j->lock);
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-8", 0),
		"a", &a), CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	casty_tell(a, Deposit, 1); // stashed, then a dead letter
	cr_assert(eq(int, probe_await(sys, probe, a.ref), 0));
	cr_assert(eq(sz, j->nevents, 0));
	casty_journal_close(&j->base);
}

Test(event_sourced, a_corrupt_event_is_never_folded)
{
	fake_journal  *j = fake_journal_new();
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	AccountMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-9", 0),
		"a", &a), CASTY_OK));
	casty_tell(a, Deposit, 1);
	casty_tell(a, Deposit, 2);
	cr_assert(eq(i64, balance(a), 3));
	stop_and_wait(probe, a);
	j->events[1].data[j->events[1].len - 1] ^= 0x7f; // the amount's byte
	j->events[1].len -= 1;                            // and truncated
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-9", 0),
		"b", &a), CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	cr_assert(ge(int, probe_await(sys, probe, a.ref), 0));
	casty_journal_close(&j->base);
}

Test(event_sourced, misuse_is_refused_clearly)
{
	fake_journal  *j = fake_journal_new();
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	AccountMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-10", 0),
		"a", &a), CASTY_OK));
	casty_tell(a, Misuse, MISUSE_BAD_EVENT);
	cr_assert(eq(i64, balance(a), 0));
	cr_assert(eq(int, atomic_load(&persist_rc), CASTY_ETYPE));
	casty_tell(a, Misuse, MISUSE_UNHANDLED); // staged event dropped
	cr_assert(eq(i64, balance(a), 0));
	cr_assert(eq(sz, j->nevents, 0));
	// Outside a command handler.
	cr_assert(eq(int, casty_persist_msg(NULL, &Deposited__type,
		&(Deposited){1}), -EINVAL));
	// A receive behavior from a command handler fails the actor.
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	casty_tell(a, Misuse, MISUSE_RECEIVE);
	cr_assert(eq(int, probe_await(sys, probe, a.ref), 0));

	// An incomplete spec fails the actor at start.
	AccountMsg_ref b;
	cr_assert(eq(int, casty_spawn(sys, AccountMsg,
		casty_event_sourced(&(casty_event_sourced_spec){
			.entity_id = "x"}), "b", &b), CASTY_OK));
	cr_assert(eq(int, probe_watch(sys, probe, b.ref), CASTY_OK));
	cr_assert(ge(int, probe_await(sys, probe, b.ref), 0));
	casty_journal_close(&j->base);
}

Test(event_sourced, a_stop_with_a_persist_in_flight_leaks_nothing)
{
	fake_journal  *j = fake_journal_new();
	ProbeMsg_ref   probe = probe_spawn(sys, "probe");
	AccountMsg_ref a;
	cr_assert(eq(int, casty_spawn(sys, AccountMsg, account(j, "acc-11", 0),
		"a", &a), CASTY_OK));
	cr_assert(eq(i64, balance(a), 0));
	pthread_mutex_lock(&j->lock);
	j->hold = true;
	pthread_mutex_unlock(&j->lock);
	casty_tell(a, Deposit, 1);
	while (fake_held_count(j) == 0) {
		sched_yield();
	}
	casty_tell(a, Deposit, 2); // stashed; a dead letter at the stop
	cr_assert(eq(int, probe_watch(sys, probe, a.ref), CASTY_OK));
	casty_tell(a, Misuse, MISUSE_STOP); // stashed too: stop via system
	casty_system_stop(sys);
	casty_system_wait(sys);
	fake_release(j); // the completion finds the actor gone
	casty_journal_close(&j->base);
}
