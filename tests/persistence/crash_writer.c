// tests/persistence/crash_writer.c: the child of the crash test
// (test_crash.c). It opens the file journal in argv[1] and persists for
// ENTITIES entities without pause, one batch of 1..4 events in flight
// per entity, starting after each entity's highest. Each acknowledged
// batch is reported on stdout as a crash_ack, written from the done
// callback, so that everything reported was durable first. It runs until
// it is killed.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <casty/casty.h>
#include <casty/journal.h>

#include "tests/persistence/crash_ack.h"
#include "tests/support/journal_payload.h"

static casty_journal *journal;

typedef struct writer {
	char     id[32];
	uint32_t index;
	uint64_t highest; // written by the reactor's callbacks only
	uint8_t  bufs[4][TEST_PAYLOAD_MAX];
} writer;

static writer writers[CRASH_ENTITIES];

static void persist_next(writer *w);

static void
report(uint32_t entity, uint64_t seq)
{
	crash_ack ack = {.entity = entity, .seq = seq};
	// One write of 16 bytes to a pipe is atomic (below PIPE_BUF).
	if (write(STDOUT_FILENO, &ack, sizeof ack) != sizeof ack) {
		_exit(3);
	}
}

static void
persisted(void *arg, int rc)
{
	writer *w = arg;
	if (rc != CASTY_OK) {
		fprintf(stderr, "crash_writer: persist failed: %s\n",
			casty_strerror(rc));
		report(CRASH_FAILED, (uint64_t)-rc);
		_exit(2);
	}
	w->highest += 1 + w->highest % 4; // the size persist_next chose
	report(w->index, w->highest);
	persist_next(w);
}

static void
persist_next(writer *w)
{
	size_t               n = 1 + w->highest % 4;
	casty_journal_record recs[4];
	for (size_t i = 0; i < n; i++) {
		recs[i].data = w->bufs[i];
		recs[i].len = (uint32_t)test_payload(w->id, w->highest + 1 + i,
			w->bufs[i], TEST_PAYLOAD_MAX);
	}
	int rc = casty_journal_persist(journal, w->id, w->highest + 1, recs,
		n, persisted, w);
	if (rc != CASTY_OK) {
		report(CRASH_FAILED, (uint64_t)-rc);
		_exit(2);
	}
}

// The highest seq of an entity, by loading it.
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  cond = PTHREAD_COND_INITIALIZER;
static int             loads_left;

static void
count_event(void *arg, uint64_t seq, const void *data, size_t len)
{
	(void)data;
	(void)len;
	((writer *)arg)->highest = seq;
}

static void
loaded(void *arg, int rc)
{
	(void)arg;
	if (rc != CASTY_OK) {
		report(CRASH_FAILED, (uint64_t)-rc);
		_exit(2);
	}
	pthread_mutex_lock(&lock);
	loads_left--;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

int
main(int argc, char **argv)
{
	casty_system *sys;
	if (argc != 2) {
		fprintf(stderr, "usage: crash_writer DIR\n");
		return 2;
	}
	if (casty_system_create(NULL, &sys) != CASTY_OK ||
	    casty_file_journal_open(sys, argv[1], NULL, &journal) !=
		    CASTY_OK) {
		report(CRASH_FAILED, 0);
		return 2;
	}
	loads_left = CRASH_ENTITIES;
	for (uint32_t e = 0; e < CRASH_ENTITIES; e++) {
		writer *w = &writers[e];
		snprintf(w->id, sizeof w->id, "crash-%u", e);
		w->index = e;
		casty_journal_load(journal, w->id, 1, count_event, loaded, w);
	}
	pthread_mutex_lock(&lock);
	while (loads_left > 0) {
		pthread_cond_wait(&cond, &lock);
	}
	pthread_mutex_unlock(&lock);
	for (uint32_t e = 0; e < CRASH_ENTITIES; e++) {
		persist_next(&writers[e]);
	}
	for (;;) {
		pause(); // until SIGKILL
	}
}
