// tests/cluster/node_process.h: child processes for the multi-process
// cluster tests (tools/casty_node.c, run as casty-node): started with
// pipes on stdin and stdout, their lines collected as they come. Waits
// read the lines of every running child, so that no child blocks on a
// full pipe while the test waits on another; each wait is bounded by
// NP_WAIT_MS, which only turns a hang into a failure.
#ifndef CASTY_TESTS_NODE_PROCESS_H
#define CASTY_TESTS_NODE_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NP_WAIT_MS 60000
#define NP_MAX 8 // children alive at once

typedef struct node_proc {
	pid_t    pid;  // 0: not started, or reaped
	int      in;   // its stdin; -1 once closed
	int      out;  // its stdout; -1 at end of file
	int      status; // from waitpid, once reaped
	char   **line; // every whole line it printed, without the newline
	int64_t *ms;   // stamped: each line's time (CLOCK_MONOTONIC ms), or -1
	bool     stamped;
	size_t   nlines, cap;
	char     partial[1024];
	size_t   npartial;
	unsigned port;        // from its PORT line
	uint64_t incarnation; // from its INCARNATION line, 0 before
} node_proc;

/** np_member is one MEMBER line. */
typedef struct np_member {
	char     host[96];
	unsigned port;
	char     status[16];
	uint64_t incarnation;
	bool     reachable;
	char     roles[256]; // as printed: "a,b", "" for none
} np_member;

/**
 * np_node_binary is the casty-node to run: $CASTY_NODE, which meson
 * test sets (asserts that it is set).
 */
const char *np_node_binary(void);

/**
 * np_start runs argv (argv[0] a path or a name on PATH) with pipes on
 * its stdin and stdout; stderr too when merge_stderr. The child gets
 * SIGKILL should the test process die first.
 */
void np_start(node_proc *p, char *const argv[], bool merge_stderr);

/**
 * np_start_as is np_start for a child that stamps its lines (casty-node
 * --stamp) when stamped: each line's leading "<ms> " goes to p->ms and
 * the rest is the line, so every wait below works unchanged.
 */
void np_start_as(
    node_proc *p, char *const argv[], bool merge_stderr, bool stamped);

/**
 * np_wait_prefix waits until p has printed a line starting with prefix
 * (at index from or later) and returns its index, or -1 when the
 * deadline passed or p's output ended first.
 */
long np_wait_prefix(node_proc *p, size_t from, const char *prefix);

/** np_wait_line is np_wait_prefix for a line equal to line. */
long np_wait_line(node_proc *p, size_t from, const char *line);

/** np_find_prefix: the same among the lines already read, no wait. */
long np_find_prefix(const node_proc *p, size_t from, const char *prefix);

/** np_find_substring: the first line read so far that contains s. */
long np_find_substring(const node_proc *p, const char *s);

/** np_wait_substring waits for a line containing s; -1 as above. */
long np_wait_substring(node_proc *p, const char *s);

/**
 * np_wait_substring_from waits up to timeout_ms for a line at index
 * from or later that contains s; its index, or -1.
 */
long np_wait_substring_from(
    node_proc *p, size_t from, const char *s, int64_t timeout_ms);

/** np_pump reads what the children print for up to timeout_ms. */
void np_pump(int64_t timeout_ms);

/** np_wait_port waits for the PORT line, sets p->port (asserts). */
void np_wait_port(node_proc *p);

/** np_wait_incarnation waits for INCARNATION, sets p->incarnation. */
void np_wait_incarnation(node_proc *p);

/** np_send writes one command line to p's stdin. */
void np_send(node_proc *p, const char *command);

/**
 * np_members asks p for its members and fills out (up to cap); returns
 * how many MEMBER lines came before END (asserts that END came).
 */
size_t np_members(node_proc *p, np_member *out, size_t cap);

/**
 * np_wait_exit waits for p's end of output and reaps it; returns its
 * exit status, or -1 when it did not exit normally (or in time, after
 * which it is killed).
 */
int np_wait_exit(node_proc *p);

/** np_kill sends SIGKILL to p (only to it) and reaps it. */
void np_kill(node_proc *p);

/** np_cleanup kills and reaps every child still running, frees lines. */
void np_cleanup(node_proc *procs, size_t n);

/** np_count_prefix counts the lines of p that start with prefix. */
size_t np_count_prefix(const node_proc *p, const char *prefix);

#endif // CASTY_TESTS_NODE_PROCESS_H
