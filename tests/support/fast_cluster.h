// tests/support/fast_cluster.h: the cluster timings of the in-process
// cluster tests: gossip, heartbeats and checks every 50 ms, so that a
// cluster forms and notices a stopped node in well under a second, with
// keep-majority downing after 1 s of a stable view.
#ifndef CASTY_TESTS_SUPPORT_FAST_CLUSTER_H
#define CASTY_TESTS_SUPPORT_FAST_CLUSTER_H

#include <string.h>

#include <casty/cluster.h>

/** fast_cluster_options sets those timings, host and secret on *o. */
static inline void
fast_cluster_options(
    casty_cluster_options *o, const char *host, const char *secret)
{
	strcpy(o->host, host);
	o->gossip.interval                       = 0.05;
	o->heartbeat.interval                    = 0.05;
	o->heartbeat.availability_check_interval = 0.05;
	o->failure_detector.min_std_deviation_ms        = 50;
	o->failure_detector.first_heartbeat_estimate_ms = 100;
	// Generous for sanitizer builds on a busy machine: a false suspicion
	// would stall convergence, and downing would then remove a live
	// node.
	o->failure_detector.acceptable_heartbeat_pause_ms = 500;
	o->downing.strategy     = CASTY_DOWNING_KEEP_MAJORITY;
	o->downing.stable_after = 1.0;
	o->secret               = secret;
	o->secret_len           = strlen(secret);
}

#endif // CASTY_TESTS_SUPPORT_FAST_CLUSTER_H
