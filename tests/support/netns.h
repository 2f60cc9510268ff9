// tests/support/netns.h: a private network of namespaces for the
// multi-host tests: one namespace per node on a /24, joined by a bridge
// that lives in a namespace of its own, so that nothing is added to the
// machine's own network. Names carry the test process's id; destroy
// deletes them all. Needs root and iproute2; netns_make says why not
// when a machine cannot, and the caller skips.
#ifndef CASTY_TESTS_SUPPORT_NETNS_H
#define CASTY_TESTS_SUPPORT_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#define NETNS_MAX 9 // nodes

typedef struct netns_net {
	int  n;
	char node[NETNS_MAX][32]; // the nodes' namespaces
	char sw[32];              // the bridge's
	bool made[NETNS_MAX + 1]; // [NETNS_MAX]: the bridge's
	char subnet[16];          // "10.200.7.": node i is .(i + 1)
} netns_net;

/**
 * netns_run runs argv (NULL-terminated; argv[0] on PATH) with stdout
 * dropped, stderr too when quiet; returns its exit status, or -1 when it
 * could not run or did not exit.
 */
int netns_run(bool quiet, const char *const argv[]);

/** netns_ip runs `ip ARGS...` (NULL-terminated) as netns_run does. */
int netns_ip(bool quiet, const char *first, ...);

/**
 * netns_exec runs `ip netns exec <node i's namespace> ARGS...`
 * (NULL-terminated) as netns_run does.
 */
int netns_exec(const netns_net *net, int i, bool quiet, const char *first,
    ...);

/**
 * netns_make builds net: n node namespaces (tag names them: "casty<pid>
 * <tag><i>") with their loopback up and eth0 at subnet(i + 1)/24 on the
 * bridge. Returns NULL, or why this machine cannot (not root, no `ip`,
 * no namespaces, bridges or veth pairs), with whatever was made already
 * deleted. Fails the test on errors past those checks.
 */
const char *netns_make(netns_net *net, int n, const char *subnet,
    const char *tag);

/** netns_destroy deletes every namespace of net (idempotent). */
void netns_destroy(netns_net *net);

/** netns_address writes node i's address ("10.200.7.1") into buf. */
void netns_address(const netns_net *net, int i, char *buf, size_t size);

#endif // CASTY_TESTS_SUPPORT_NETNS_H
