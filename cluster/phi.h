// cluster/phi.h: the phi accrual failure detector (Hayashibara et al.,
// "The phi accrual failure detector", SRDS 2004; as Akka uses it, cluster
// reference §1.3). Instead of a yes/no timeout it gives a suspicion level
// phi = -log10(P(a heartbeat comes later than now)) under a normal model
// of the intervals seen so far; phi 8 means odds of 1 in 10^8 that the
// member is merely slow. Time is the caller's monotonic milliseconds, so
// tests drive it with a fake clock.
#ifndef CASTY_CLUSTER_PHI_H
#define CASTY_CLUSTER_PHI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <casty/config.h>

#include "cluster/address.h"

/**
 * cst_phi watches one member. The window holds the last max_sample_size
 * intervals between heartbeats, seeded with two intervals around
 * first_heartbeat_estimate_ms so that phi means something from the first
 * heartbeat on.
 */
typedef struct cst_phi {
	casty_failure_detector_config config;
	double                       *sample; // ring of intervals, in ms
	uint32_t                      cap;    // max_sample_size
	uint32_t                      len;
	uint32_t                      head;    // index of the oldest sample
	bool                          started; // a heartbeat has arrived
	uint64_t                      last_ms; // when it arrived
} cst_phi;

/**
 * cst_phi_config_check says whether cfg is usable: threshold > 0,
 * max_sample_size >= 1, min_std_deviation_ms > 0,
 * acceptable_heartbeat_pause_ms >= 0, first_heartbeat_estimate_ms > 0,
 * all finite. Returns 0 or -EINVAL.
 */
int cst_phi_config_check(const casty_failure_detector_config *cfg);

/**
 * cst_phi_init sets up a detector (allocates its window). Returns 0,
 * -EINVAL for a bad cfg or -ENOMEM; *d needs no _fini after a failure.
 */
int cst_phi_init(cst_phi *d, const casty_failure_detector_config *cfg);

/** cst_phi_fini frees the window. */
void cst_phi_fini(cst_phi *d);

/**
 * cst_phi_heartbeat records a heartbeat at now_ms. The interval since the
 * previous one joins the window only while the member was still
 * available: a long silence says nothing about the normal rhythm, and
 * learning it would make the detector slow to suspect the next one.
 */
void cst_phi_heartbeat(cst_phi *d, uint64_t now_ms);

/**
 * cst_phi_value returns phi at now_ms: 0 before the first heartbeat (not
 * watched yet), growing with the time since the last one; +inf is
 * possible and means certain.
 */
double cst_phi_value(const cst_phi *d, uint64_t now_ms);

/** cst_phi_is_available says whether phi(now_ms) < threshold. */
bool cst_phi_is_available(const cst_phi *d, uint64_t now_ms);

/**
 * cst_phi_of computes phi for a silence of elapsed_ms given the mean and
 * standard deviation of the intervals, with the logistic approximation
 * of the normal CDF that Akka uses. Exposed for tests.
 */
double cst_phi_of(double elapsed_ms, double mean_ms, double std_ms);

/**
 * cst_phi_registry is one detector per monitored member, all with the
 * same configuration.
 */
typedef struct cst_phi_registry {
	casty_failure_detector_config config;
	struct cst_phi_watch         *watch; // sorted by address
	uint32_t                      len;
	uint32_t                      cap;
} cst_phi_registry;

/** cst_phi_registry_init makes an empty registry (-EINVAL: bad cfg). */
int cst_phi_registry_init(
    cst_phi_registry *r, const casty_failure_detector_config *cfg);

/** cst_phi_registry_fini frees every detector. */
void cst_phi_registry_fini(cst_phi_registry *r);

/**
 * cst_phi_registry_heartbeat records a heartbeat from member at now_ms,
 * creating its detector on the first one. Returns 0 or -ENOMEM.
 */
int cst_phi_registry_heartbeat(
    cst_phi_registry *r, const cst_address *member, uint64_t now_ms);

/**
 * cst_phi_registry_watch starts watching member as if it had sent a
 * heartbeat at now_ms, unless it is watched already. Without this a
 * member that dies before its first heartbeat would stay available
 * forever (Akka's expected-response-after does the same job).
 */
int cst_phi_registry_watch(
    cst_phi_registry *r, const cst_address *member, uint64_t now_ms);

/** cst_phi_registry_unwatch forgets member (no-op when unknown). */
void cst_phi_registry_unwatch(cst_phi_registry *r, const cst_address *member);

/** cst_phi_registry_is_watched says whether member has a detector. */
bool cst_phi_registry_is_watched(
    const cst_phi_registry *r, const cst_address *member);

/** cst_phi_registry_phi returns member's phi, 0 when unknown. */
double cst_phi_registry_phi(
    const cst_phi_registry *r, const cst_address *member, uint64_t now_ms);

/** cst_phi_registry_is_available: true for unknown members. */
bool cst_phi_registry_is_available(
    const cst_phi_registry *r, const cst_address *member, uint64_t now_ms);

#endif // CASTY_CLUSTER_PHI_H
