// tests/examples/test_examples.c: every example of examples/ prints what
// the README's Python prints (examples/<name>.expected).
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

TestSuite(examples, .timeout = 60);

static char *
slurp(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	char  *buf = malloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			buf = realloc(buf, cap *= 2);
		}
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int
cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

// Sorts the lines of s in place (for output of concurrent actors, whose
// relative order the README does not promise either).
static void
sort_lines(char *s)
{
	char  *lines[256];
	size_t n = 0;
	char  *copy = strdup(s), *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l && n < 256;
		l = strtok_r(NULL, "\n", &save)) {
		lines[n++] = l;
	}
	qsort(lines, n, sizeof lines[0], cmp_lines);
	s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(s, lines[i]);
		strcat(s, "\n");
	}
	free(copy);
}

static void check_output(const char *name, const char *cmd, int sorted);

static void
check_example(const char *name, int sorted)
{
	const char *bin = getenv("CASTY_EXAMPLES_BIN");
	cr_assert(bin != NULL, "run through meson test");
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "%s/%s", bin, name);
	check_output(name, cmd, sorted);
}

// Runs the command and compares what it prints with the example's
// expected output.
static void
check_output(const char *name, const char *cmd, int sorted)
{
	const char *src = getenv("CASTY_EXAMPLES_SRC");
	cr_assert(src != NULL, "run through meson test");

	char path[4096];
	snprintf(path, sizeof path, "%s/%s.expected", src, name);
	FILE *f = fopen(path, "r");
	cr_assert(f != NULL, "missing %s", path);
	size_t wlen, glen;
	char  *want = slurp(f, &wlen);
	fclose(f);

	FILE *p = popen(cmd, "r");
	cr_assert(p != NULL);
	char *got = slurp(p, &glen);
	cr_assert(eq(int, pclose(p), 0), "%s exits with 0", name);
	if (sorted) {
		sort_lines(want);
		sort_lines(got);
	}
	cr_assert(eq(str, got, want), "%s prints what the Python prints", name);
	free(want);
	free(got);
}

Test(examples, quick_start)
{
	check_example("quick_start", 0);
}

Test(examples, functional_state)
{
	check_example("functional_state", 0);
}

Test(examples, request_reply_ask)
{
	check_example("request_reply_ask", 0);
}

Test(examples, request_reply_self)
{
	check_example("request_reply_self", 0);
}

Test(examples, actor_hierarchies)
{
	// Two workers handle their tasks concurrently: either order is right.
	check_example("actor_hierarchies", 1);
}

Test(examples, supervision)
{
	check_example("supervision", 0);
}

Test(examples, lifecycle_hooks)
{
	check_example("lifecycle_hooks", 0);
}

Test(examples, event_stream)
{
	check_example("event_stream", 0);
}

Test(examples, mailbox_configuration)
{
	check_example("mailbox_configuration", 0);
}

Test(examples, state_machines)
{
	check_example("state_machines", 0);
}

Test(examples, scheduling)
{
	check_example("scheduling", 0);
}

Test(examples, event_sourcing)
{
	check_example("event_sourcing", 0);
}

Test(examples, event_sourcing_file_across_two_processes)
{
	// The same program twice on one journal directory: the second run
	// is a new process that recovers what the first persisted.
	const char *bin = getenv("CASTY_EXAMPLES_BIN");
	cr_assert(bin != NULL, "run through meson test");
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[4096], cmd[8192 + 64];
	snprintf(dir, sizeof dir, "%s/casty-bank-XXXXXX", tmp);
	cr_assert(mkdtemp(dir) != NULL);
	snprintf(cmd, sizeof cmd, "%s/event_sourcing_file '%s' && "
		"%s/event_sourcing_file '%s'", bin, dir, bin, dir);
	check_output("event_sourcing_file", cmd, 0);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert(eq(int, system(cmd), 0));
}

Test(examples, cluster_formation)
{
	// The two nodes log concurrently: the lines, not their order.
	check_example("cluster_formation", 1);
}

Test(examples, cluster_processes)
{
	// Two processes share stdout: the lines, not their order.
	check_example("cluster_processes", 1);
}
