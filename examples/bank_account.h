// examples/bank_account.h: the README's event-sourced bank account,
// shared by event_sourcing.c (in-memory journal) and
// event_sourcing_file.c (file journal, across two runs).
#ifndef CASTY_EXAMPLES_BANK_ACCOUNT_H
#define CASTY_EXAMPLES_BANK_ACCOUNT_H

#include <casty/casty.h>

// --- State ---
typedef struct { int64_t balance; int64_t tx_count; } AccountState;
CASTY_MESSAGE(AccountState, balance, tx_count);

// --- Events (persisted to the journal) ---
typedef struct { int64_t amount; } Deposited;
typedef struct { int64_t amount; } Withdrawn;
CASTY_MESSAGE(Deposited, amount);
CASTY_MESSAGE(Withdrawn, amount);
CASTY_PROTOCOL(AccountEvent, Deposited, Withdrawn);

// --- Commands (sent by the outside world) ---
typedef struct { int64_t amount; } Deposit;
typedef struct { int64_t amount; casty_ref reply_to; } Withdraw;
typedef struct { casty_ref reply_to; } GetBalance;
CASTY_MESSAGE(Deposit, amount);
CASTY_MESSAGE(Withdraw, amount, reply_to);
CASTY_MESSAGE(GetBalance, reply_to);
CASTY_PROTOCOL(AccountCommand, Deposit, Withdraw, GetBalance);

// --- Event handler (pure: used for replay and live updates) ---
static void on_event(void *state, const casty_msg *event)
{
	AccountState *s = state;
	switch (AccountEvent_tag_of(event)) {
	case AccountEvent_Deposited:
		s->balance += CASTY_AS(Deposited, event)->amount;
		break;
	case AccountEvent_Withdrawn:
		s->balance -= CASTY_AS(Withdrawn, event)->amount;
		break;
	}
	s->tx_count++;
}

// --- Command handler (decides what events to persist) ---
CASTY_COMMAND(on_command, AccountState)
{
	switch (AccountCommand_tag_of(msg)) {
	case AccountCommand_Deposit:
		casty_persist(ctx, Deposited, CASTY_AS(Deposit, msg)->amount);
		return casty_persisted();
	case AccountCommand_Withdraw: {
		const Withdraw *w = CASTY_AS(Withdraw, msg);
		if (state->balance >= w->amount) {
			casty_send(w->reply_to, casty_text, "ok");
			casty_persist(ctx, Withdrawn, w->amount);
			return casty_persisted();
		}
		casty_send_textf(w->reply_to, "insufficient funds (balance=%ld)",
			state->balance);
		return casty_same();
	}
	case AccountCommand_GetBalance:
		casty_send_copy(CASTY_AS(GetBalance, msg)->reply_to, AccountState,
			state);
		return casty_same();
	}
	return casty_unhandled();
}

// --- Entity factory ---
static casty_behavior bank_account(const char *entity_id, casty_journal *journal)
{
	return casty_event_sourced(&(casty_event_sourced_spec){
		.entity_id = entity_id,
		.journal = journal,
		.events = &AccountEvent__protocol,
		.state_type = &AccountState__type,
		.initial_state = &(AccountState){0, 0},
		.on_event = on_event,
		.on_command = on_command,
		.snapshot_every = 100,
	});
}

static AccountState get_balance(casty_system *system, AccountCommand_ref account)
{
	casty_msg *reply;
	casty_ask(system, account, GetBalance, reply_to, 2000, &reply);
	AccountState state = *CASTY_AS(AccountState, reply);
	casty_msg_free(reply);
	return state;
}

#endif // CASTY_EXAMPLES_BANK_ACCOUNT_H
