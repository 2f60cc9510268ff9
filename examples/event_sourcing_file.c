// examples/event_sourcing_file.c: the README's Event Sourcing with the
// file journal, across two runs of this program on the same directory:
// the first run finds an empty account and deposits; the second is a new
// process that recovers the account from the files.
//
//     event_sourcing_file /tmp/bank     # Balance: 1500, transactions: 2
//     event_sourcing_file /tmp/bank     # Recovered balance: 1500, ...
#include <stdio.h>

#include "bank_account.h"

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s JOURNAL_DIR\n", argv[0]);
		return 2;
	}
	casty_system_config config;
	casty_system_config_init(&config);
	config.name = "bank";
	casty_system *system;
	casty_system_create(&config, &system);
	casty_journal *journal;
	int rc = casty_file_journal_open(system, argv[1], NULL, &journal);
	if (rc != CASTY_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], casty_strerror(rc));
		casty_system_destroy(system);
		return 1;
	}

	AccountCommand_ref account;
	casty_spawn(system, AccountCommand, bank_account("acc-001", journal),
		"account", &account);
	AccountState state = get_balance(system, account);
	if (state.tx_count == 0) { // phase 1: a new account
		casty_tell(account, Deposit, 1000);
		casty_tell(account, Deposit, 500);
		state = get_balance(system, account);
		printf("Balance: %ld, transactions: %ld\n", state.balance,
			state.tx_count);
	} else { // phase 2: recovered from the files of the first run
		printf("Recovered balance: %ld, transactions: %ld\n",
			state.balance, state.tx_count);
	}
	// The journal uses the system's reactor: close it after the actors
	// have stopped, before the system goes.
	casty_system_stop(system);
	casty_system_wait(system);
	casty_journal_close(journal);
	casty_system_destroy(system);
}
