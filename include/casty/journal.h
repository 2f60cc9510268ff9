/**
 * include/casty/journal.h: where event-sourced actors keep their events
 * and snapshots. One interface with Casty's four operations, all
 * asynchronous: a call starts the work and returns; a completion callback
 * reports the outcome. Two implementations: an in-memory journal (tests)
 * and a file journal (append-only segments, checksummed records, group
 * commit with fdatasync through the system's io_uring reactor).
 *
 * Records are opaque bytes to a journal; the event-sourcing layer encodes
 * events and states with their message schema (MessagePack).
 *
 * Contract, for every implementation:
 * - persist appends n events for one entity with the sequence numbers
 *   first_seq, first_seq + 1, ...; first_seq must be one past the
 *   entity's highest (else done gets -ESTALE and nothing is written).
 *   The batch is all-or-nothing. done(arg, CASTY_OK) means durable: for
 *   the file journal, written and fdatasync'ed; after a crash the batch is
 *   either entirely there or entirely absent, and every acknowledged
 *   batch is there. Sequence numbers never go backwards.
 * - load calls replay for each event of the entity with seq >= from_seq,
 *   in order, then done once (CASTY_OK, or an error such as
 *   CASTY_ECORRUPT: a record failed its checksum; a corrupt record is
 *   never passed to replay).
 * - save_snapshot stores one snapshot (the newest one counts);
 *   load_snapshot reports the newest (found false when there is none).
 * - Callbacks run on any thread (the reactor, a worker, or the caller
 *   before the call returns), one at a time per call; they must not
 *   block. The data they are given is valid during the call only.
 * - A call returns CASTY_OK when the operation was started (its callback
 *   will run), or an error (bad argument, closed journal) and then the
 *   callback does not run.
 */
#ifndef CASTY_JOURNAL_H
#define CASTY_JOURNAL_H

#include <casty/base.h>

typedef struct casty_journal casty_journal;

/** casty_journal_record is one encoded event (or a snapshot). */
typedef struct casty_journal_record {
	const void *data;
	uint32_t    len;
} casty_journal_record;

/** CASTY_JOURNAL_MAX_RECORD bounds one record's bytes. */
#define CASTY_JOURNAL_MAX_RECORD (16u << 20)
/** CASTY_JOURNAL_MAX_ENTITY bounds an entity id's bytes. */
#define CASTY_JOURNAL_MAX_ENTITY 255

typedef void (*casty_journal_done_fn)(void *arg, int rc);
typedef void (*casty_journal_replay_fn)(
	void *arg, uint64_t seq, const void *data, size_t len);
typedef void (*casty_journal_snapshot_fn)(void *arg, int rc, bool found,
	uint64_t seq, const void *data, size_t len);

/** casty_journal_ops is what an implementation provides. */
typedef struct casty_journal_ops {
	int (*persist)(casty_journal *j, const char *entity_id,
		uint64_t first_seq, const casty_journal_record *events,
		size_t n, casty_journal_done_fn done, void *arg);
	int (*load)(casty_journal *j, const char *entity_id,
		uint64_t from_seq, casty_journal_replay_fn replay,
		casty_journal_done_fn done, void *arg);
	int (*save_snapshot)(casty_journal *j, const char *entity_id,
		uint64_t seq, casty_journal_record state,
		casty_journal_done_fn done, void *arg);
	int (*load_snapshot)(casty_journal *j, const char *entity_id,
		casty_journal_snapshot_fn done, void *arg);
	// Waits for the operations in flight, then frees the journal.
	void (*close)(casty_journal *j);
} casty_journal_ops;

/** An implementation's struct starts with this. */
struct casty_journal {
	const casty_journal_ops *ops;
};

/** The four operations and close, through the ops table. */
CASTY_API int casty_journal_persist(casty_journal *j, const char *entity_id,
	uint64_t first_seq, const casty_journal_record *events, size_t n,
	casty_journal_done_fn done, void *arg);
CASTY_API int casty_journal_load(casty_journal *j, const char *entity_id,
	uint64_t from_seq, casty_journal_replay_fn replay,
	casty_journal_done_fn done, void *arg);
CASTY_API int casty_journal_save_snapshot(casty_journal *j,
	const char *entity_id, uint64_t seq, casty_journal_record state,
	casty_journal_done_fn done, void *arg);
CASTY_API int casty_journal_load_snapshot(casty_journal *j,
	const char *entity_id, casty_journal_snapshot_fn done, void *arg);

/**
 * casty_journal_close waits for the operations in flight and frees the
 * journal. A file journal must be closed before casty_system_destroy of
 * its system (it uses the system's reactor); close it after the actors
 * that use it have stopped. NULL is a no-op. Thread: any but a worker.
 */
CASTY_API void casty_journal_close(casty_journal *j);

/**
 * casty_memory_journal_create makes an in-memory journal: everything is
 * lost with the process. Completions run before the call returns.
 * Returns CASTY_OK or -ENOMEM. Thread: any.
 */
CASTY_API int casty_memory_journal_create(casty_journal **out);

/** casty_file_journal_options tunes a file journal; zero is the default. */
typedef struct casty_file_journal_options {
	uint64_t segment_bytes; // a new segment past this size; 0: 64 MiB
	uint32_t max_batch;     // records per group commit; 0: 4096
} casty_file_journal_options;

/**
 * casty_file_journal_open opens (creating it if needed) the journal in
 * directory dir on the reactor of sys: it scans the segments, truncates
 * a torn tail (reported through the log at WARN) and refuses a corrupt
 * record in the middle (CASTY_ECORRUPT, naming the file and offset in
 * the log). opts may be NULL. Returns CASTY_OK, CASTY_ECORRUPT, -EINVAL
 * or a negated errno from the file system. Thread: any but a worker.
 */
CASTY_API int casty_file_journal_open(casty_system *sys, const char *dir,
	const casty_file_journal_options *opts, casty_journal **out);

#endif // CASTY_JOURNAL_H
