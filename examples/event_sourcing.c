// examples/event_sourcing.c: the README's Event Sourcing with the
// in-memory journal: phase 1 persists two deposits, phase 2 starts a new
// system whose actor recovers them from the same journal.
#include <stdio.h>

#include "bank_account.h"

int main(void)
{
	casty_journal *journal;
	casty_memory_journal_create(&journal);
	casty_system_config config;
	casty_system_config_init(&config);
	config.name = "bank";

	// Phase 1: normal operations.
	casty_system *system;
	AccountCommand_ref account;
	casty_system_create(&config, &system);
	casty_spawn(system, AccountCommand, bank_account("acc-001", journal),
		"account", &account);
	casty_tell(account, Deposit, 1000);
	casty_tell(account, Deposit, 500);
	AccountState state = get_balance(system, account);
	printf("Balance: %ld, transactions: %ld\n", state.balance, state.tx_count);
	casty_system_destroy(system);

	// Phase 2: recovery: a new actor, the same journal.
	casty_system_create(&config, &system);
	casty_spawn(system, AccountCommand, bank_account("acc-001", journal),
		"account", &account);
	state = get_balance(system, account);
	printf("Recovered balance: %ld, transactions: %ld\n", state.balance,
		state.tx_count);
	casty_system_destroy(system);
	casty_journal_close(journal);
}
