// persistence/journal.c: the journal interface's calls, which check
// their arguments once for every implementation and then go through the
// ops table (journal.h).
#include <casty/journal.h>

#include <errno.h>
#include <string.h>

static bool
entity_ok(const char *entity_id)
{
	if (entity_id == NULL) {
		return false;
	}
	size_t n = strnlen(entity_id, CASTY_JOURNAL_MAX_ENTITY + 1);
	return n > 0 && n <= CASTY_JOURNAL_MAX_ENTITY;
}

int
casty_journal_persist(casty_journal *j, const char *entity_id,
	uint64_t first_seq, const casty_journal_record *events, size_t n,
	casty_journal_done_fn done, void *arg)
{
	if (j == NULL || !entity_ok(entity_id) || first_seq == 0 ||
	    events == NULL || n == 0 || done == NULL) {
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((events[i].data == NULL && events[i].len != 0) ||
		    events[i].len > CASTY_JOURNAL_MAX_RECORD) {
			return -EINVAL;
		}
	}
	return j->ops->persist(j, entity_id, first_seq, events, n, done, arg);
}

int
casty_journal_load(casty_journal *j, const char *entity_id,
	uint64_t from_seq, casty_journal_replay_fn replay,
	casty_journal_done_fn done, void *arg)
{
	if (j == NULL || !entity_ok(entity_id) || replay == NULL ||
	    done == NULL) {
		return -EINVAL;
	}
	return j->ops->load(j, entity_id, from_seq, replay, done, arg);
}

int
casty_journal_save_snapshot(casty_journal *j, const char *entity_id,
	uint64_t seq, casty_journal_record state, casty_journal_done_fn done,
	void *arg)
{
	if (j == NULL || !entity_ok(entity_id) || seq == 0 || done == NULL ||
	    (state.data == NULL && state.len != 0) ||
	    state.len > CASTY_JOURNAL_MAX_RECORD) {
		return -EINVAL;
	}
	return j->ops->save_snapshot(j, entity_id, seq, state, done, arg);
}

int
casty_journal_load_snapshot(casty_journal *j, const char *entity_id,
	casty_journal_snapshot_fn done, void *arg)
{
	if (j == NULL || !entity_ok(entity_id) || done == NULL) {
		return -EINVAL;
	}
	return j->ops->load_snapshot(j, entity_id, done, arg);
}

void
casty_journal_close(casty_journal *j)
{
	if (j != NULL) {
		j->ops->close(j);
	}
}
