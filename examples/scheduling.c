// examples/scheduling.c: the README's Scheduling: a periodic tick and a
// one-shot delay, both keyed; scheduling with an existing key replaces
// it, and a key cancels it. The account stops the tick after three
// reports and asks for a timeout, which ends the example.
#include <stdio.h>

#include <casty/casty.h>

typedef struct { int32_t unused; } BalanceReport;
typedef struct { int32_t unused; } Timeout;
typedef struct { casty_ref reply_to; } WhenDone;
CASTY_MESSAGE(BalanceReport, unused);
CASTY_MESSAGE(Timeout, unused);
CASTY_MESSAGE(WhenDone, reply_to);
CASTY_PROTOCOL(AccountMsg, BalanceReport, Timeout, WhenDone);

typedef struct { int64_t balance; int reports; bool closed; casty_ref done; } Account;

static casty_behavior account(Account a);

CASTY_HANDLER(account_receive, Account)
{
	Account a = *state;
	casty_system *system = casty_ctx_system(ctx);
	switch (AccountMsg_tag_of(msg)) {
	case AccountMsg_BalanceReport:
		if (a.reports == 3) {
			return casty_same(); // a tick that was already on its way
		}
		printf("Report #%d: balance %ld\n", ++a.reports, a.balance);
		if (a.reports == 3) {
			casty_cancel_schedule(system, "report");
			AccountMsg_ref self = AccountMsg_ref_from(casty_self(ctx));
			casty_schedule(system, "timeout", self, Timeout, 20, 0);
		}
		return account(a);
	case AccountMsg_Timeout:
		printf("Timeout\n");
		a.closed = true;
		casty_send(a.done, casty_int, a.reports); // if someone waits
		return account(a);
	case AccountMsg_WhenDone:
		a.done = CASTY_AS(WhenDone, msg)->reply_to;
		if (a.closed) {
			casty_send(a.done, casty_int, a.reports);
		}
		return account(a);
	}
	return casty_unhandled();
}

static casty_behavior account(Account a)
{
	return casty_receive(account_receive, &a, sizeof a);
}

int main(void)
{
	casty_system *system;
	AccountMsg_ref ref;
	casty_msg *reply;

	casty_system_create(NULL, &system);
	casty_spawn(system, AccountMsg, account((Account){.balance = 100}),
		"account", &ref);
	// Send a BalanceReport to the account every 10 ms.
	casty_tick(system, "report", ref, BalanceReport, 10, 0);
	// A Timeout after a minute; replaced by the account's shorter one.
	casty_schedule(system, "timeout", ref, Timeout, 60000, 0);
	casty_ask(system, ref, WhenDone, reply_to, 5000, &reply);
	casty_msg_free(reply);
	casty_system_destroy(system);
}
