// tests/support/netns.c: see netns.h.
#include "tests/support/netns.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define ARGS_MAX 32

int
netns_run(bool quiet, const char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_WRONLY, 0);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
		    O_WRONLY, 0);
	}
	pid_t pid;
	int   rc = posix_spawnp(
	    &pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		return -1;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			return -1;
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Collects the NULL-terminated arguments after first into argv[at...].
static void
collect(const char **argv, int at, const char *first, va_list ap)
{
	argv[at++] = first;
	while (at < ARGS_MAX - 1 && (argv[at] = va_arg(ap, const char *)) != NULL) {
		at++;
	}
	argv[at] = NULL;
}

int
netns_ip(bool quiet, const char *first, ...)
{
	const char *argv[ARGS_MAX] = {"ip"};
	va_list     ap;
	va_start(ap, first);
	collect(argv, 1, first, ap);
	va_end(ap);
	return netns_run(quiet, argv);
}

int
netns_exec(const netns_net *net, int i, bool quiet, const char *first, ...)
{
	const char *argv[ARGS_MAX] = {"ip", "netns", "exec", net->node[i]};
	va_list     ap;
	va_start(ap, first);
	collect(argv, 4, first, ap);
	va_end(ap);
	return netns_run(quiet, argv);
}

void
netns_destroy(netns_net *net)
{
	for (int i = 0; i < NETNS_MAX; i++) {
		if (net->made[i]) {
			netns_ip(true, "netns", "del", net->node[i], NULL);
			net->made[i] = false;
		}
	}
	if (net->made[NETNS_MAX]) {
		netns_ip(true, "netns", "del", net->sw, NULL);
		net->made[NETNS_MAX] = false;
	}
}

void
netns_address(const netns_net *net, int i, char *buf, size_t size)
{
	snprintf(buf, size, "%s%d", net->subnet, i + 1);
}

static const char *
cannot(netns_net *net, const char *why)
{
	netns_destroy(net);
	return why;
}

const char *
netns_make(netns_net *net, int n, const char *subnet, const char *tag)
{
	memset(net, 0, sizeof(*net));
	cr_assert(n >= 1 && n <= NETNS_MAX);
	net->n = n;
	snprintf(net->subnet, sizeof net->subnet, "%s", subnet);
	if (geteuid() != 0) {
		return "network namespaces need root";
	}
	if (netns_ip(true, "-V", NULL) != 0) {
		return "no iproute2 `ip` here";
	}
	snprintf(net->sw, sizeof net->sw, "casty%d%ssw", (int)getpid(), tag);
	for (int i = 0; i < n; i++) {
		snprintf(net->node[i], sizeof net->node[i], "casty%d%s%d",
		    (int)getpid(), tag, i);
	}
	if (netns_ip(true, "netns", "add", net->sw, NULL) != 0) {
		return cannot(net, "cannot create a network namespace");
	}
	net->made[NETNS_MAX] = true;
	if (netns_ip(true, "netns", "exec", net->sw, "true", NULL) != 0) {
		return cannot(net, "`ip netns exec` does not work here");
	}
	if (netns_ip(true, "-n", net->sw, "link", "add", "br0", "type",
	        "bridge", NULL) != 0) {
		return cannot(net, "cannot create a bridge");
	}
	cr_assert(eq(int,
	    netns_ip(false, "-n", net->sw, "link", "set", "br0", "up", NULL), 0));
	for (int i = 0; i < n; i++) {
		char veth[16], addr[32];
		snprintf(veth, sizeof veth, "v%d", i);
		netns_address(net, i, addr, sizeof addr - 3);
		strcat(addr, "/24");
		cr_assert(eq(int, netns_ip(false, "netns", "add", net->node[i], NULL),
		    0));
		net->made[i] = true;
		if (netns_ip(true, "-n", net->sw, "link", "add", veth, "type",
		        "veth", "peer", "name", "eth0", "netns", net->node[i],
		        NULL) != 0) {
			return cannot(net, "cannot create veth pairs");
		}
		cr_assert(eq(int, netns_ip(false, "-n", net->sw, "link", "set",
		    veth, "master", "br0", "up", NULL), 0));
		cr_assert(eq(int, netns_ip(false, "-n", net->node[i], "addr",
		    "add", addr, "dev", "eth0", NULL), 0));
		cr_assert(eq(int, netns_ip(false, "-n", net->node[i], "link",
		    "set", "eth0", "up", NULL), 0));
		cr_assert(eq(int, netns_ip(false, "-n", net->node[i], "link",
		    "set", "lo", "up", NULL), 0));
	}
	return NULL;
}
