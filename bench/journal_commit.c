// bench/journal_commit.c: how many events per second become durable.
// The file journal with group commit, 1,000 entities each keeping one
// persist in flight (the next one sent from the done callback); the same
// journal with max_batch = 1 (one write + fdatasync per event); and
// SQLite (WAL, synchronous=FULL) inserting the same events, one
// transaction per event and then 1,000 per transaction.
//
//   journal_commit [EVENTS_PER_ENTITY]     (default 20)
//
// Files go to a fresh directory under $TMPDIR (or /tmp), removed at the
// end. Prints BENCH lines.
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <casty/casty.h>
#include <casty/journal.h>

#include "bench/bench.h"

#define ENTITIES 1000
#define PAYLOAD 64

typedef struct entity {
	char     id[24];
	uint64_t next_seq, last_seq;
} entity;

static entity          entities[ENTITIES];
static casty_journal  *journal;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  cond = PTHREAD_COND_INITIALIZER;
static int             entities_left;
static int64_t         failures;
static uint8_t         payload[PAYLOAD];

static void persist_next(entity *e);

static void
finished_one(void)
{
	pthread_mutex_lock(&lock);
	entities_left--;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static void
persisted(void *arg, int rc)
{
	entity *e = arg;
	if (rc != CASTY_OK) {
		failures++; // reactor thread only
	}
	e->next_seq++;
	if (e->next_seq > e->last_seq) {
		finished_one();
		return;
	}
	persist_next(e);
}

static void
persist_next(entity *e)
{
	casty_journal_record rec = {payload, PAYLOAD};
	if (casty_journal_persist(journal, e->id, e->next_seq, &rec, 1,
		    persisted, e) != CASTY_OK) {
		fprintf(stderr, "journal_commit: persist refused\n");
		exit(1);
	}
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static char *
fresh_dir(void)
{
	const char *base = getenv("TMPDIR");
	static char path[4096];
	snprintf(path, sizeof path, "%s/casty-bench-XXXXXX",
		base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(path) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	return path;
}

// The file journal: `per_entity` events for each of `count` entities.
static void
run_journal(casty_system *sys, const char *name, uint32_t max_batch,
	int count, int per_entity)
{
	char                      *dir = fresh_dir();
	casty_file_journal_options opts = {.max_batch = max_batch};
	if (casty_file_journal_open(sys, dir, &opts, &journal) != CASTY_OK) {
		fprintf(stderr, "journal_commit: cannot open %s\n", dir);
		exit(1);
	}
	entities_left = count;
	failures = 0;
	for (int i = 0; i < count; i++) {
		snprintf(entities[i].id, sizeof entities[i].id, "entity-%d", i);
		entities[i].next_seq = 1;
		entities[i].last_seq = (uint64_t)per_entity;
	}
	double start = bench_now();
	for (int i = 0; i < count; i++) {
		persist_next(&entities[i]);
	}
	pthread_mutex_lock(&lock);
	while (entities_left > 0) {
		pthread_cond_wait(&cond, &lock);
	}
	pthread_mutex_unlock(&lock);
	double seconds = bench_now() - start;
	casty_journal_close(journal);
	bench_check(name, "failures", failures, 0);
	bench_report(name, (int64_t)count * per_entity, seconds);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
sql(sqlite3 *db, const char *text)
{
	char *err = NULL;
	if (sqlite3_exec(db, text, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "journal_commit: sqlite: %s: %s\n", text, err);
		exit(1);
	}
}

// SQLite: `events` inserts in transactions of `per_tx`.
static void
run_sqlite(const char *name, int events, int per_tx)
{
	char    *dir = fresh_dir();
	char     path[4200];
	sqlite3 *db;
	snprintf(path, sizeof path, "%s/journal.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK) {
		fprintf(stderr, "journal_commit: sqlite open failed\n");
		exit(1);
	}
	sql(db, "PRAGMA journal_mode=WAL");
	sql(db, "PRAGMA synchronous=FULL");
	sql(db, "CREATE TABLE events (entity TEXT, seq INTEGER, payload BLOB,"
		" PRIMARY KEY (entity, seq))");
	sqlite3_stmt *insert;
	sqlite3_prepare_v2(db,
		"INSERT INTO events (entity, seq, payload) VALUES (?, ?, ?)",
		-1, &insert, NULL);
	double start = bench_now();
	for (int i = 0; i < events; i++) {
		char id[24];
		if (i % per_tx == 0) {
			sql(db, "BEGIN");
		}
		snprintf(id, sizeof id, "entity-%d", i % ENTITIES);
		sqlite3_bind_text(insert, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(insert, 2, i / ENTITIES + 1);
		sqlite3_bind_blob(insert, 3, payload, PAYLOAD, SQLITE_STATIC);
		if (sqlite3_step(insert) != SQLITE_DONE) {
			fprintf(stderr, "journal_commit: insert failed\n");
			exit(1);
		}
		sqlite3_reset(insert);
		if (i % per_tx == per_tx - 1 || i == events - 1) {
			sql(db, "COMMIT");
		}
	}
	double seconds = bench_now() - start;
	sqlite3_finalize(insert);
	sqlite3_close(db);
	bench_report(name, events, seconds);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(int argc, char **argv)
{
	int           per_entity = argc > 1 ? atoi(argv[1]) : 20;
	casty_system *sys;
	memset(payload, 0xa5, sizeof payload);
	if (casty_system_create(NULL, &sys) != CASTY_OK) {
		fprintf(stderr, "journal_commit: no system (io_uring?)\n");
		return 1;
	}
	// Group commit: 1,000 entities, one persist in flight each.
	run_journal(sys, "journal-group-commit", 0, ENTITIES, per_entity);
	// One fdatasync per event: the same path, batches of one record.
	// Fewer events: each costs a whole fdatasync.
	run_journal(sys, "journal-fsync-per-event", 1, ENTITIES, 1);
	casty_system_destroy(sys);
	run_sqlite("sqlite-tx-per-event", ENTITIES, 1);
	run_sqlite("sqlite-tx-1000-events", ENTITIES * per_entity, 1000);
	return 0;
}
