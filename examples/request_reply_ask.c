// examples/request_reply_ask.c: the README's Request-Reply with ask from
// outside the actors.
#include <casty/casty.h>
#include <stdio.h>

typedef struct { int64_t amount; } Deposit;
typedef struct { int64_t amount; casty_ref reply_to; } Withdraw;
typedef struct { casty_ref reply_to; } GetBalance;
CASTY_MESSAGE(Deposit, amount);
CASTY_MESSAGE(Withdraw, amount, reply_to);
CASTY_MESSAGE(GetBalance, reply_to);
CASTY_PROTOCOL(AccountMsg, Deposit, Withdraw, GetBalance);

static casty_behavior bank_account(int64_t balance);

CASTY_HANDLER(account_receive, int64_t)
{
	int64_t balance = *state;
	switch (AccountMsg_tag_of(msg)) {
	case AccountMsg_Deposit:
		return bank_account(balance + CASTY_AS(Deposit, msg)->amount);
	case AccountMsg_Withdraw: {
		const Withdraw *w = CASTY_AS(Withdraw, msg);
		if (balance >= w->amount) {
			casty_send(w->reply_to, casty_text, "ok");
			return bank_account(balance - w->amount);
		}
		casty_send_textf(w->reply_to, "insufficient funds (balance=%ld)", balance);
		return casty_same();
	}
	case AccountMsg_GetBalance:
		casty_send(CASTY_AS(GetBalance, msg)->reply_to, casty_int, balance);
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
	casty_msg *reply;
	casty_system_create(NULL, &system);
	casty_spawn(system, AccountMsg, bank_account(0), "account", &account);
	casty_tell(account, Deposit, 100);

	casty_ask(system, account, GetBalance, reply_to, 5000, &reply);
	printf("Balance: %ld\n", CASTY_AS(casty_int, reply)->value);
	casty_msg_free(reply);

	casty_ask(system, account, Withdraw, reply_to, 5000, &reply, .amount = 200);
	printf("Withdraw: %s\n", CASTY_AS(casty_text, reply)->value);
	casty_msg_free(reply);
	casty_system_destroy(system);
}
