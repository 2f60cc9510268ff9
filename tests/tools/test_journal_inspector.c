// tests/tools/test_journal_inspector.c: casty-journal on a journal that
// an event-sourced actor wrote: --help, list, dump (decoded events) and
// verify, which fails on a flipped byte.
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <casty/casty.h>

TestSuite(journal_inspector, .timeout = 60);

typedef struct {
	int64_t total;
} Sum;
CASTY_MESSAGE(Sum, total);
typedef struct {
	int64_t amount;
	char    memo[16];
} Added;
CASTY_MESSAGE(Added, amount, memo);
CASTY_PROTOCOL(SumEvent, Added);
typedef struct {
	int64_t   amount;
	casty_ref reply_to;
} Add;
CASTY_MESSAGE(Add, amount, reply_to);
CASTY_PROTOCOL(SumCmd, Add);

static void
on_event(void *state, const casty_msg *event)
{
	((Sum *)state)->total += CASTY_AS(Added, event)->amount;
}

CASTY_COMMAND(on_command, Sum)
{
	const Add *a = CASTY_AS(Add, msg);
	casty_persist(ctx, Added, a->amount, "note");
	casty_send(a->reply_to, casty_int, state->total + a->amount);
	return casty_persisted();
}

// Runs cmd; returns its exit status and what it printed.
static int
run(const char *cmd, char *out, size_t size)
{
	FILE *p = popen(cmd, "r");
	cr_assert(p != NULL);
	size_t n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	int status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(journal_inspector, reads_what_an_actor_wrote)
{
	const char *tool = getenv("CASTY_JOURNAL_INSPECTOR");
	cr_assert(tool != NULL, "run through meson test");
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[1024], cmd[4096], out[8192];
	snprintf(dir, sizeof dir, "%s/casty-inspect-XXXXXX", tmp);
	cr_assert(mkdtemp(dir) != NULL);

	casty_system  *sys;
	casty_journal *j;
	cr_assert(eq(int, casty_system_create(NULL, &sys), CASTY_OK));
	cr_assert(eq(int, casty_file_journal_open(sys, dir, NULL, &j),
		CASTY_OK));
	SumCmd_ref s;
	cr_assert(eq(int, casty_spawn(sys, SumCmd, casty_event_sourced(
		&(casty_event_sourced_spec){.entity_id = "sum-1", .journal = j,
			.events = &SumEvent__protocol, .state_type = &Sum__type,
			.initial_state = &(Sum){0}, .on_event = on_event,
			.on_command = on_command}), "s", &s), CASTY_OK));
	for (int i = 1; i <= 3; i++) {
		casty_msg *reply;
		cr_assert(eq(int, casty_ask(sys, s, Add, reply_to, 60000, &reply,
			.amount = i * 10), CASTY_OK));
		casty_msg_free(reply);
	}
	casty_system_stop(sys);
	casty_system_wait(sys);
	casty_journal_close(j);
	casty_system_destroy(sys);

	snprintf(cmd, sizeof cmd, "'%s' --help", tool);
	cr_assert(eq(int, run(cmd, out, sizeof out), 0));
	cr_assert(strstr(out, "verify") != NULL, "%s", out);

	snprintf(cmd, sizeof cmd, "'%s' list '%s'", tool, dir);
	cr_assert(eq(int, run(cmd, out, sizeof out), 0));
	cr_assert(strstr(out, "sum-1") != NULL, "%s", out);

	snprintf(cmd, sizeof cmd, "'%s' dump '%s' sum-1", tool, dir);
	cr_assert(eq(int, run(cmd, out, sizeof out), 0));
	cr_assert(strstr(out, "seq=1 Added{amount=10, memo=\"note\"}") != NULL,
		"%s", out);
	cr_assert(strstr(out, "seq=3 Added{amount=30") != NULL, "%s", out);

	snprintf(cmd, sizeof cmd, "'%s' verify '%s'", tool, dir);
	cr_assert(eq(int, run(cmd, out, sizeof out), 0), "%s", out);

	// One flipped byte in the middle of the segment: verify fails.
	char seg[1100];
	snprintf(seg, sizeof seg, "%s/%020u.seg", dir, 1u);
	FILE *f = fopen(seg, "r+b");
	cr_assert(f != NULL, "%s", seg);
	fseek(f, 40, SEEK_SET);
	int c = fgetc(f);
	fseek(f, 40, SEEK_SET);
	fputc(c ^ 0x55, f);
	fclose(f);
	cr_assert(eq(int, run(cmd, out, sizeof out), 1), "%s", out);

	snprintf(cmd, sizeof cmd, "'%s' nonsense 2>&1", tool);
	cr_assert(not(eq(int, run(cmd, out, sizeof out), 0)));

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert(eq(int, system(cmd), 0));
}
