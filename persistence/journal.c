// persistence/journal.c: the public journal calls. They check their
// arguments once, here, so that every implementation receives only
// valid ones, then go through the implementation's ops table.
#include <errno.h>
#include <string.h>

#include <casty/journal.h>

static bool
valid_entity(const char *entity_id)
{
	if (entity_id == NULL) {
		return false;
	}
	size_t len = strnlen(entity_id, CASTY_JOURNAL_MAX_ENTITY + 1);
	return len >= 1 && len <= CASTY_JOURNAL_MAX_ENTITY;
}

int
casty_journal_persist(casty_journal *j, const char *entity_id,
	uint64_t first_seq, const casty_journal_record *events, size_t n,
	casty_journal_done_fn done, void *arg)
{
	if (j == NULL || !valid_entity(entity_id) || done == NULL ||
	    events == NULL || n == 0 || first_seq == 0 ||
	    first_seq + n < first_seq) {
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (events[i].len > CASTY_JOURNAL_MAX_RECORD ||
		    (events[i].data == NULL && events[i].len > 0)) {
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
	if (j == NULL || !valid_entity(entity_id) || replay == NULL ||
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
	if (j == NULL || !valid_entity(entity_id) || done == NULL ||
	    state.len > CASTY_JOURNAL_MAX_RECORD ||
	    (state.data == NULL && state.len > 0)) {
		return -EINVAL;
	}
	return j->ops->save_snapshot(j, entity_id, seq, state, done, arg);
}

int
casty_journal_load_snapshot(casty_journal *j, const char *entity_id,
	casty_journal_snapshot_fn done, void *arg)
{
	if (j == NULL || !valid_entity(entity_id) || done == NULL) {
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
