// tests/persistence/test_crash.c: kill -9 under load. A child
// (crash_writer.c) persists for several entities and reports every
// acknowledged batch through a pipe; the parent kills it with SIGKILL
// after a random number of acknowledgements, reopens the journal and
// checks that every acknowledged event is there, in order, without gaps
// or duplicates, with its bytes, and that nothing beyond what the child
// could have written appears. The seed is printed with every failure
// (set CASTY_CRASH_SEED to replay one).
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <casty/casty.h>

#include "tests/persistence/crash_ack.h"
#include "tests/support/journal_sync.h"
#include "tests/support/system_fixture.h"

extern char **environ;

static char         *dir;

static void
setup(void)
{
	sys_setup(); // skips where io_uring is not available
	dir = make_tmpdir();
}

static void
teardown(void)
{
	casty_system_destroy(sys);
	remove_tmpdir(dir);
	dir = NULL;
}

TestSuite(crash, .init = setup, .fini = teardown, .timeout = 600);

#define ITERATIONS 30

static pid_t
start_writer(int *read_fd)
{
	const char *exe = getenv("CASTY_JOURNAL_CRASH_WRITER");
	cr_assert(exe != NULL, "CASTY_JOURNAL_CRASH_WRITER is not set");
	int fds[2];
	cr_assert(pipe(fds) == 0);
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_addclose(&actions, fds[0]);
	posix_spawn_file_actions_addclose(&actions, fds[1]);
	char *argv[] = {(char *)exe, dir, NULL};
	pid_t pid;
	cr_assert(eq(int, posix_spawn(&pid, exe, &actions, NULL, argv, environ),
		0));
	posix_spawn_file_actions_destroy(&actions);
	close(fds[1]);
	*read_fd = fds[0];
	return pid;
}

// Reads one ack; false at end of file.
static bool
read_ack(int fd, crash_ack *ack)
{
	size_t got = 0;
	while (got < sizeof *ack) {
		ssize_t n = read(fd, (char *)ack + got, sizeof *ack - got);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return false;
		}
		got += (size_t)n;
	}
	return true;
}

Test(crash, every_acknowledged_event_survives_sigkill)
{
	const char  *env = getenv("CASTY_CRASH_SEED");
	unsigned     seed = env != NULL ? (unsigned)strtoul(env, NULL, 10)
					: (unsigned)time(NULL);
	unsigned     rng = seed;
	uint64_t     acked[CRASH_ENTITIES] = {0};
	uint64_t     verified[CRASH_ENTITIES] = {0};
	uint64_t     total_acks = 0;

	for (int it = 0; it < ITERATIONS; it++) {
		int       fd;
		pid_t     pid = start_writer(&fd);
		crash_ack ack;
		// Kill after 0..400 acknowledgements.
		unsigned  kill_after = (unsigned)rand_r(&rng) % 401;
		unsigned  seen = 0;
		while (seen < kill_after && read_ack(fd, &ack)) {
			cr_assert(ack.entity != CRASH_FAILED,
				"seed %u: the child failed: %llu", seed,
				(unsigned long long)ack.seq);
			cr_assert(ack.entity < CRASH_ENTITIES);
			acked[ack.entity] = ack.seq;
			seen++;
			total_acks++;
		}
		kill(pid, SIGKILL);
		int status;
		cr_assert(eq(int, waitpid(pid, &status, 0), pid));
		// Acks still in the pipe were durable before they were sent.
		while (read_ack(fd, &ack)) {
			cr_assert(ack.entity != CRASH_FAILED, "seed %u", seed);
			acked[ack.entity] = ack.seq;
		}
		close(fd);

		casty_journal *journal;
		cr_assert(eq(int, casty_file_journal_open(sys, dir, NULL, &journal),
			CASTY_OK), "seed %u iteration %d", seed, it);
		for (uint32_t e = 0; e < CRASH_ENTITIES; e++) {
			char id[32];
			snprintf(id, sizeof id, "crash-%u", e);
			sync_op *op = load_all(journal, id, 1);
			cr_assert(eq(int, op->rc, CASTY_OK), "seed %u", seed);
			uint64_t highest = op->count;
			// At most one batch beyond what was acknowledged (or
			// verified before) was in flight at the kill.
			uint64_t base = acked[e] > verified[e] ? acked[e]
							       : verified[e];
			cr_assert(highest >= base,
				"seed %u iteration %d: %s lost events: has "
				"%llu, acknowledged %llu",
				seed, it, id, (unsigned long long)highest,
				(unsigned long long)base);
			cr_assert(highest <= base + CRASH_MAX_BATCH,
				"seed %u iteration %d: %s has %llu > %llu",
				seed, it, id, (unsigned long long)highest,
				(unsigned long long)base + CRASH_MAX_BATCH);
			for (size_t i = 0; i < op->count; i++) {
				uint8_t want[TEST_PAYLOAD_MAX];
				size_t  len = test_payload(id, i + 1, want,
					 TEST_PAYLOAD_MAX);
				cr_assert(eq(u64, op->seq[i], i + 1),
					"seed %u", seed);
				cr_assert(eq(sz, op->len[i], len),
					"seed %u", seed);
				cr_assert(memcmp(op->data[i], want, len) == 0,
					"seed %u", seed);
			}
			verified[e] = highest;
			acked[e] = highest;
			sync_op_free(op);
		}
		casty_journal_close(journal);
	}
	// The child did work: not a vacuous pass.
	cr_assert(total_acks > ITERATIONS, "seed %u: %llu acks", seed,
		(unsigned long long)total_acks);
}
