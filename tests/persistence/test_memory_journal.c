// tests/persistence/test_memory_journal.c: the in-memory journal
// (persistence/memory_journal.c) against the journal contract.
#include "tests/support/journal_contract.h"

static casty_journal *journal;

static void
setup(void)
{
	cr_assert(eq(int, casty_memory_journal_create(&journal), CASTY_OK));
}

static void
teardown(void)
{
	casty_journal_close(journal);
}

TestSuite(memory_journal, .init = setup, .fini = teardown, .timeout = 60);

JOURNAL_CONTRACT(memory_journal)

Test(memory_journal, completions_run_before_the_call_returns)
{
	sync_op *op = sync_op_new();
	casty_journal_record rec = {"x", 1};
	cr_assert(eq(int, casty_journal_persist(journal, "e", 1, &rec, 1,
				  sync_done, op),
		0));
	cr_assert(op->finished);
	sync_op_free(op);
}
