// examples/functional_state.c: the README's Functional State: the state
// lives in the behavior, and returning a new behavior is the transition.
#include <casty/casty.h>

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

int main(void)
{
	casty_system *system;
	AccountMsg_ref account;
	casty_system_create(NULL, &system);
	casty_spawn(system, AccountMsg, bank_account(0), "account", &account);
	casty_tell(account, Deposit, 100);
	casty_tell(account, Deposit, 50);
	casty_system_destroy(system);
}
