// cluster/phi.c: the phi accrual failure detector and its registry.
//
// phi(t) = -log10(1 - F(t)) where F is the CDF of a normal distribution
// with the window's mean (plus the acceptable pause, which shifts the
// whole curve later) and standard deviation (floored at
// min_std_deviation_ms so a perfectly regular sender does not make the
// curve a cliff). F comes from the logistic approximation
// 1 / (1 + exp(-y (1.5976 + 0.070566 y^2))), y = (t - mean) / std, the
// one Akka uses; its error is below 1.4e-4 everywhere. Mean and deviation
// are recomputed from the window on each query (at most max_sample_size
// doubles), so no running sum can drift.
#include "cluster/phi.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "runtime/alloc.h"

int
cst_phi_config_check(const casty_failure_detector_config *cfg)
{
	if (!isfinite(cfg->threshold) || cfg->threshold <= 0 ||
	    cfg->max_sample_size < 1 || !isfinite(cfg->min_std_deviation_ms) ||
	    cfg->min_std_deviation_ms <= 0 ||
	    !isfinite(cfg->acceptable_heartbeat_pause_ms) ||
	    cfg->acceptable_heartbeat_pause_ms < 0 ||
	    !isfinite(cfg->first_heartbeat_estimate_ms) ||
	    cfg->first_heartbeat_estimate_ms <= 0) {
		return -EINVAL;
	}
	return 0;
}

static void
add_sample(cst_phi *d, double interval)
{
	if (d->len == d->cap) {
		d->sample[d->head] = interval; // overwrite the oldest
		d->head            = (d->head + 1) % d->cap;
	} else {
		d->sample[(d->head + d->len) % d->cap] = interval;
		d->len++;
	}
}

int
cst_phi_init(cst_phi *d, const casty_failure_detector_config *cfg)
{
	if (cst_phi_config_check(cfg) != 0) {
		return -EINVAL;
	}
	double *sample = cst_alloc(cfg->max_sample_size * sizeof(double));
	if (sample == NULL) {
		return -ENOMEM;
	}
	memset(d, 0, sizeof(*d));
	d->config  = *cfg;
	d->sample  = sample;
	d->cap     = cfg->max_sample_size;
	// Seed: two intervals a quarter of the estimate either side of it,
	// i.e. mean = estimate and deviation = estimate / 4, until real
	// intervals push them out.
	double est = cfg->first_heartbeat_estimate_ms;
	add_sample(d, est - est / 4);
	add_sample(d, est + est / 4);
	return 0;
}

void
cst_phi_fini(cst_phi *d)
{
	cst_free_sized(d->sample, d->cap * sizeof(double));
	d->sample = NULL;
}

double
cst_phi_of(double elapsed_ms, double mean_ms, double std_ms)
{
	double y = (elapsed_ms - mean_ms) / std_ms;
	double e = exp(-y * (1.5976 + 0.070566 * y * y));
	// Two forms of the same value, each accurate on its own side of the
	// mean (the other would lose everything to rounding there).
	if (elapsed_ms > mean_ms) {
		return -log10(e / (1.0 + e));
	}
	return -log10(1.0 - 1.0 / (1.0 + e));
}

double
cst_phi_value(const cst_phi *d, uint64_t now_ms)
{
	if (!d->started) {
		return 0.0;
	}
	double sum = 0;
	for (uint32_t i = 0; i < d->len; i++) {
		sum += d->sample[(d->head + i) % d->cap];
	}
	double mean = sum / d->len;
	double var  = 0;
	for (uint32_t i = 0; i < d->len; i++) {
		double x = d->sample[(d->head + i) % d->cap] - mean;
		var += x * x;
	}
	double std = sqrt(var / d->len);
	if (std < d->config.min_std_deviation_ms) {
		std = d->config.min_std_deviation_ms;
	}
	// A clock that went backwards counts as no time at all.
	double elapsed =
	    now_ms > d->last_ms ? (double)(now_ms - d->last_ms) : 0.0;
	return cst_phi_of(
	    elapsed, mean + d->config.acceptable_heartbeat_pause_ms, std);
}

bool
cst_phi_is_available(const cst_phi *d, uint64_t now_ms)
{
	return cst_phi_value(d, now_ms) < d->config.threshold;
}

void
cst_phi_heartbeat(cst_phi *d, uint64_t now_ms)
{
	if (d->started && now_ms >= d->last_ms &&
	    cst_phi_is_available(d, now_ms)) {
		add_sample(d, (double)(now_ms - d->last_ms));
	}
	d->started = true;
	d->last_ms = now_ms;
}

/*
 * The registry: a sorted array of (address, detector).
 */

struct cst_phi_watch {
	cst_address member;
	cst_phi     phi;
};

int
cst_phi_registry_init(
    cst_phi_registry *r, const casty_failure_detector_config *cfg)
{
	if (cst_phi_config_check(cfg) != 0) {
		return -EINVAL;
	}
	memset(r, 0, sizeof(*r));
	r->config = *cfg;
	return 0;
}

void
cst_phi_registry_fini(cst_phi_registry *r)
{
	for (uint32_t i = 0; i < r->len; i++) {
		cst_phi_fini(&r->watch[i].phi);
	}
	cst_free_sized(r->watch, r->cap * sizeof(r->watch[0]));
	memset(r, 0, sizeof(*r));
}

// Returns the index of member, or -(insertion point) - 1.
static int
find(const cst_phi_registry *r, const cst_address *member)
{
	return r->len == 0 ? -1
			   : cst_address_search(&r->watch[0].member, r->len,
				 sizeof(r->watch[0]), member);
}

// Returns the detector of member, creating it when absent.
static cst_phi *
watch(cst_phi_registry *r, const cst_address *member, bool *created)
{
	int i    = find(r, member);
	*created = i < 0;
	if (i >= 0) {
		return &r->watch[i].phi;
	}
	if (r->len == r->cap) {
		uint32_t              cap = r->cap ? r->cap * 2 : 8;
		struct cst_phi_watch *w   = cst_alloc(cap * sizeof(*w));
		if (w == NULL) {
			return NULL;
		}
		if (r->len > 0) {
			memcpy(w, r->watch, r->len * sizeof(*w));
		}
		cst_free_sized(r->watch, r->cap * sizeof(*w));
		r->watch = w;
		r->cap   = cap;
	}
	cst_phi phi;
	if (cst_phi_init(&phi, &r->config) != 0) {
		return NULL;
	}
	uint32_t at = (uint32_t)(-i - 1);
	memmove(&r->watch[at + 1], &r->watch[at],
	    (r->len - at) * sizeof(r->watch[0]));
	r->watch[at].member = *member;
	r->watch[at].phi    = phi;
	r->len++;
	return &r->watch[at].phi;
}

int
cst_phi_registry_heartbeat(
    cst_phi_registry *r, const cst_address *member, uint64_t now_ms)
{
	bool     created;
	cst_phi *d = watch(r, member, &created);
	if (d == NULL) {
		return -ENOMEM;
	}
	cst_phi_heartbeat(d, now_ms);
	return 0;
}

int
cst_phi_registry_watch(
    cst_phi_registry *r, const cst_address *member, uint64_t now_ms)
{
	bool     created;
	cst_phi *d = watch(r, member, &created);
	if (d == NULL) {
		return -ENOMEM;
	}
	if (created) {
		cst_phi_heartbeat(d, now_ms);
	}
	return 0;
}

void
cst_phi_registry_unwatch(cst_phi_registry *r, const cst_address *member)
{
	int i = find(r, member);
	if (i < 0) {
		return;
	}
	cst_phi_fini(&r->watch[i].phi);
	memmove(&r->watch[i], &r->watch[i + 1],
	    (r->len - (uint32_t)i - 1) * sizeof(r->watch[0]));
	r->len--;
}

bool
cst_phi_registry_is_watched(
    const cst_phi_registry *r, const cst_address *member)
{
	return find(r, member) >= 0;
}

double
cst_phi_registry_phi(
    const cst_phi_registry *r, const cst_address *member, uint64_t now_ms)
{
	int i = find(r, member);
	return i >= 0 ? cst_phi_value(&r->watch[i].phi, now_ms) : 0.0;
}

bool
cst_phi_registry_is_available(
    const cst_phi_registry *r, const cst_address *member, uint64_t now_ms)
{
	int i = find(r, member);
	return i < 0 || cst_phi_is_available(&r->watch[i].phi, now_ms);
}
