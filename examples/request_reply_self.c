// examples/request_reply_self.c: the README's Request-Reply inside actors:
// the monitor passes its own ref as reply_to and handles the reply as an
// ordinary message.
#include <casty/casty.h>
#include <stdio.h>

typedef struct { int64_t amount; } Deposit;
typedef struct { casty_ref reply_to; } GetBalance;
CASTY_MESSAGE(Deposit, amount);
CASTY_MESSAGE(GetBalance, reply_to);
CASTY_PROTOCOL(AccountMsg, Deposit, GetBalance);

static casty_behavior bank_account(int64_t balance);

CASTY_HANDLER(account_receive, int64_t)
{
	switch (AccountMsg_tag_of(msg)) {
	case AccountMsg_Deposit:
		return bank_account(*state + CASTY_AS(Deposit, msg)->amount);
	case AccountMsg_GetBalance:
		casty_send(CASTY_AS(GetBalance, msg)->reply_to, casty_int, *state);
		return casty_same();
	}
	return casty_unhandled();
}

static casty_behavior bank_account(int64_t balance)
{
	return casty_receive(account_receive, &balance, sizeof balance);
}

typedef struct { AccountMsg_ref account; } CheckBalance;
CASTY_MESSAGE(CheckBalance, account.ref);
CASTY_PROTOCOL(MonitorMsg, CheckBalance, casty_int);

CASTY_HANDLER(monitor_receive, void)
{
	switch (MonitorMsg_tag_of(msg)) {
	case MonitorMsg_CheckBalance: // non-blocking: send and keep going
		casty_tell(CASTY_AS(CheckBalance, msg)->account, GetBalance, casty_self(ctx));
		return casty_same();
	case MonitorMsg_casty_int:
		printf("Balance: %ld\n", CASTY_AS(casty_int, msg)->value);
		return casty_same();
	}
	return casty_unhandled();
}

int main(void)
{
	casty_system *system;
	AccountMsg_ref acc;
	MonitorMsg_ref mon;
	casty_system_create(NULL, &system);
	casty_spawn(system, AccountMsg, bank_account(0), "account", &acc);
	casty_tell(acc, Deposit, 100);
	casty_spawn(system, MonitorMsg, casty_receive(monitor_receive, NULL, 0), "monitor", &mon);
	casty_tell(mon, CheckBalance, acc); // prints "Balance: 100"
	casty_system_destroy(system);
}
