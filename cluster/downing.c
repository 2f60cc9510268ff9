// cluster/downing.c: the strategies of the split-brain resolver, the
// indirectly connected rule, and the stability clock (downing.h).
//
// Which members count follows Akka's DowningStrategy: the sides are
// counted in up and leaving members (joining ones may not be up on the
// other side yet, exiting ones are on their way out); joining members are
// downed with their side all the same.
#include "cluster/downing.h"

#include <errno.h>
#include <math.h>

static const char *const decision_names[] = {
    [CST_DOWN_NOTHING]              = "nothing",
    [CST_DOWN_UNREACHABLE]          = "down-unreachable",
    [CST_DOWN_REACHABLE]            = "down-reachable",
    [CST_DOWN_ALL]                  = "down-all",
    [CST_DOWN_INDIRECTLY_CONNECTED] = "down-indirectly-connected",
};

const char *
cst_downing_decision_name(cst_downing_decision d)
{
	return (unsigned)d <= CST_DOWN_INDIRECTLY_CONNECTED ? decision_names[d]
	                                                     : "?";
}

int
cst_downing_config_check(const casty_downing_config *cfg)
{
	if ((unsigned)cfg->strategy > CASTY_DOWNING_DOWN_ALL ||
	    !isfinite(cfg->stable_after) || cfg->stable_after < 0 ||
	    cfg->stable_after > 86400.0) {
		return -EINVAL;
	}
	if (cfg->strategy == CASTY_DOWNING_STATIC_QUORUM &&
	    cfg->quorum_size == 0) {
		return -EINVAL;
	}
	return 0;
}

uint64_t
cst_downing_stable_after_ms(const casty_downing_config *cfg, uint32_t nmembers)
{
	if (cfg->stable_after > 0) {
		return (uint64_t)(cfg->stable_after * 1000.0);
	}
	// Akka's table of the membership's dissemination time by size.
	static const struct {
		uint32_t upto;
		uint64_t ms;
	} table[] = {{5, 7000}, {10, 10000}, {20, 13000}, {50, 17000},
	    {100, 20000}};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (nmembers <= table[i].upto) {
			return table[i].ms;
		}
	}
	return 30000;
}

// What a strategy looks at: the table, self, the rows that count (both
// ends alive) and who is unreachable in self's view. The indirectly
// connected rule decides a second time on a copy with fewer rows.
typedef struct view {
	const cst_member_table *t;
	int                     self;
	uint32_t                nrows;
	cst_reach_row           row[CST_REACH_MAX];
	cst_member_set          unreachable;
} view;

static bool
is_alive(cst_member_status s)
{
	return s <= CST_MEMBER_EXITING;
}

static bool
downable(cst_member_status s)
{
	return s == CST_MEMBER_JOINING || s == CST_MEMBER_UP ||
	       s == CST_MEMBER_LEAVING;
}

// Akka's members(includingPossiblyUp, excludingPossiblyExiting): up and
// leaving, plus joining when it may be up elsewhere, minus leaving when
// it may be exiting elsewhere.
static bool
counts(cst_member_status s, bool possibly_up, bool excluding_possibly_exiting)
{
	switch (s) {
	case CST_MEMBER_UP:
		return true;
	case CST_MEMBER_JOINING:
		return possibly_up;
	case CST_MEMBER_LEAVING:
		return !excluding_possibly_exiting;
	default:
		return false;
	}
}

static void
find_unreachable(view *v)
{
	v->unreachable = (cst_member_set){{0}};
	for (uint32_t r = 0; r < v->nrows; r++) {
		if (v->row[r].subject != v->self) {
			cst_member_set_add(&v->unreachable, v->row[r].subject);
		}
	}
}

static void
view_init(view *v, const cst_member_table *t, int self)
{
	v->t     = t;
	v->self  = self;
	v->nrows = 0;
	for (uint32_t r = 0; r < t->nreach; r++) {
		const cst_reach_row *row = &t->reach[r];
		if (is_alive(t->member[row->observer].status) &&
		    is_alive(t->member[row->subject].status)) {
			v->row[v->nrows++] = *row;
		}
	}
	find_unreachable(v);
}

static bool
is_unreachable(const view *v, uint32_t i)
{
	return cst_member_set_has(&v->unreachable, i);
}

// Counts the members (as counts() says) of this side, the reachable
// ones, or of the other.
static uint32_t
count(const view *v, bool reachable, bool possibly_up, bool excl_exiting)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < v->t->nmembers; i++) {
		if (counts(v->t->member[i].status, possibly_up, excl_exiting) &&
		    is_unreachable(v, i) != reachable) {
			n++;
		}
	}
	return n;
}

static int
first_member(const view *v, bool possibly_up, bool excl_exiting)
{
	for (uint32_t i = 0; i < v->t->nmembers; i++) {
		if (counts(v->t->member[i].status, possibly_up, excl_exiting)) {
			return (int)i;
		}
	}
	return -1;
}

static cst_downing_decision
majority(uint32_t this_side, uint32_t other_side, bool lowest_is_over_there)
{
	if (this_side == other_side) {
		return lowest_is_over_there ? CST_DOWN_REACHABLE
		                            : CST_DOWN_UNREACHABLE;
	}
	return this_side > other_side ? CST_DOWN_UNREACHABLE
	                              : CST_DOWN_REACHABLE;
}

static cst_downing_decision
keep_majority(const view *v)
{
	int lowest = first_member(v, false, false);
	if (lowest < 0) {
		return CST_DOWN_ALL;
	}
	cst_downing_decision d =
	    majority(count(v, true, false, false), count(v, false, false, false),
	        is_unreachable(v, (uint32_t)lowest));
	if (d != CST_DOWN_UNREACHABLE) {
		return d;
	}
	// A member may have moved up or out on the other side while the
	// partition began: count this side as small and the other as large
	// as they could be; keep this side only if it still wins.
	lowest = first_member(v, true, true);
	if (lowest < 0) {
		return CST_DOWN_ALL;
	}
	d = majority(count(v, true, false, true), count(v, false, true, false),
	    is_unreachable(v, (uint32_t)lowest));
	return d == CST_DOWN_UNREACHABLE ? d : CST_DOWN_ALL;
}

static cst_downing_decision
static_quorum(const view *v, uint32_t quorum)
{
	uint32_t here = count(v, true, false, false);
	uint32_t there = count(v, false, false, false);
	if (here + there > 2 * quorum - 1) {
		return CST_DOWN_ALL; // both halves could have a quorum
	}
	return here >= quorum ? CST_DOWN_UNREACHABLE : CST_DOWN_REACHABLE;
}

static cst_downing_decision
keep_oldest(const view *v, bool down_if_alone)
{
	int oldest = -1;
	for (uint32_t i = 0; i < v->t->nmembers; i++) {
		const cst_member *m = &v->t->member[i];
		if (counts(m->status, false, false) &&
		    (oldest < 0 ||
		        m->up_number < v->t->member[oldest].up_number)) {
			oldest = (int)i;
		}
	}
	if (oldest < 0) {
		return CST_DOWN_ALL;
	}
	uint32_t here = count(v, true, false, false);
	uint32_t there = count(v, false, false, false);
	if (!is_unreachable(v, (uint32_t)oldest)) {
		// Two members: better keep the oldest, alone or not.
		return down_if_alone && here == 1 && there >= 2
		           ? CST_DOWN_REACHABLE
		           : CST_DOWN_UNREACHABLE;
	}
	return down_if_alone && there == 1 && here >= 2 ? CST_DOWN_UNREACHABLE
	                                               : CST_DOWN_REACHABLE;
}

static cst_downing_decision
strategy(const casty_downing_config *cfg, const view *v)
{
	switch (cfg->strategy) {
	case CASTY_DOWNING_KEEP_MAJORITY:
		return keep_majority(v);
	case CASTY_DOWNING_STATIC_QUORUM:
		return static_quorum(v, cfg->quorum_size);
	case CASTY_DOWNING_KEEP_OLDEST:
		return keep_oldest(v, cfg->down_if_alone);
	case CASTY_DOWNING_DOWN_ALL:
		return CST_DOWN_ALL;
	case CASTY_DOWNING_OFF:
		break;
	}
	return CST_DOWN_NOTHING;
}

// Indirectly connected members: those that both observe someone
// unreachable and are observed so (a cycle in the unreachability graph),
// in *cycle; and both ends of a row whose subject has seen the current
// version although someone cannot reach it, in *seen_through. Neither
// happens for clean partitions and crashes.
static void
indirectly_connected(
    const view *v, cst_member_set *cycle, cst_member_set *seen_through)
{
	cst_member_set observers = {{0}}, subjects = {{0}};
	*seen_through = (cst_member_set){{0}};
	for (uint32_t r = 0; r < v->nrows; r++) {
		const cst_reach_row *row = &v->row[r];
		cst_member_set_add(&observers, row->observer);
		cst_member_set_add(&subjects, row->subject);
		if (cst_member_table_has_seen(v->t, row->subject)) {
			cst_member_set_add(seen_through, row->observer);
			cst_member_set_add(seen_through, row->subject);
		}
	}
	for (size_t k = 0; k < sizeof(cycle->w) / sizeof(cycle->w[0]); k++) {
		cycle->w[k] = observers.w[k] & subjects.w[k];
	}
}

static bool
set_empty(const cst_member_set *s)
{
	static const cst_member_set none;
	return cst_member_set_equal(s, &none);
}

// The members d downs in v.
static void
nodes_to_down(const view *v, cst_downing_decision d, cst_member_set *out)
{
	for (uint32_t i = 0; i < v->t->nmembers; i++) {
		if (!downable(v->t->member[i].status)) {
			continue;
		}
		bool unr  = is_unreachable(v, i);
		bool down = d == CST_DOWN_ALL ||
		            (d == CST_DOWN_UNREACHABLE && unr) ||
		            (d == CST_DOWN_REACHABLE && !unr);
		if (down) {
			cst_member_set_add(out, i);
		}
	}
}

// Whether any member that may still act is unreachable in v.
static bool
anyone_unreachable(const view *v)
{
	for (uint32_t i = 0; i < v->t->nmembers; i++) {
		if (is_unreachable(v, i) && downable(v->t->member[i].status)) {
			return true;
		}
	}
	return false;
}

cst_downing_decision
cst_downing_decide(const casty_downing_config *cfg, const cst_member_table *t,
    int self, cst_member_set *down)
{
	*down = (cst_member_set){{0}};
	if (cfg->strategy == CASTY_DOWNING_OFF || self < 0) {
		return CST_DOWN_NOTHING;
	}
	// Two views of up to CST_REACH_MAX rows each: static, not on the
	// stack of the worker that runs the cluster actor. One cluster
	// actor runs at a time per node, but several nodes may share a
	// process (tests): so per thread.
	static _Thread_local view v, rest;
	view_init(&v, t, self);
	if (!anyone_unreachable(&v)) {
		return CST_DOWN_NOTHING;
	}
	cst_member_set cycle, seen_through;
	indirectly_connected(&v, &cycle, &seen_through);
	// down-all keeps no side, so no link needs telling apart: keeping
	// the members that are not indirectly connected would leave them
	// running as a cluster while everyone else restarts.
	if (cfg->strategy == CASTY_DOWNING_DOWN_ALL ||
	    (set_empty(&cycle) && set_empty(&seen_through))) {
		cst_downing_decision d = strategy(cfg, &v);
		nodes_to_down(&v, d, down);
		return d;
	}
	// Down the indirectly connected; decide the rest without the rows
	// among them, as if those links had not been observed.
	rest.t     = t;
	rest.self  = self;
	rest.nrows = 0;
	for (uint32_t r = 0; r < v.nrows; r++) {
		const cst_reach_row *row = &v.row[r];
		bool among = (cst_member_set_has(&cycle, row->observer) &&
		                 cst_member_set_has(&cycle, row->subject)) ||
		             (cst_member_set_has(&seen_through, row->observer) &&
		                 cst_member_set_has(&seen_through, row->subject));
		if (!among) {
			rest.row[rest.nrows++] = *row;
		}
	}
	find_unreachable(&rest);
	for (uint32_t i = 0; i < t->nmembers; i++) {
		if ((cst_member_set_has(&cycle, i) ||
		        cst_member_set_has(&seen_through, i)) &&
		    downable(t->member[i].status)) {
			cst_member_set_add(down, i);
		}
	}
	if (anyone_unreachable(&rest)) {
		cst_member_set c2, s2;
		indirectly_connected(&rest, &c2, &s2);
		// Still indirectly connected without those rows: no safe
		// reading is left, down everyone (Akka does the same).
		cst_downing_decision d = set_empty(&c2) && set_empty(&s2)
		                             ? strategy(cfg, &rest)
		                             : CST_DOWN_ALL;
		nodes_to_down(&rest, d, down);
		if (d == CST_DOWN_ALL) {
			return d;
		}
	}
	return CST_DOWN_INDIRECTLY_CONNECTED;
}

// FNV-1a over what a decision depends on: who is a member in which
// status, and which rows between live members there are.
static uint64_t
mix(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t
fingerprint(const cst_member_table *t)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		const cst_member *m = &t->member[i];
		if (m->status != CST_MEMBER_REMOVED) {
			h = mix(h, m->address.uid);
			h = mix(h, ((uint64_t)m->address.port << 8) | m->status);
		}
	}
	for (uint32_t r = 0; r < t->nreach; r++) {
		const cst_member *o = &t->member[t->reach[r].observer];
		const cst_member *s = &t->member[t->reach[r].subject];
		if (is_alive(o->status) && is_alive(s->status)) {
			h = mix(h, o->address.uid);
			h = mix(h, s->address.uid);
		}
	}
	return h;
}

bool
cst_downing_tick(cst_downing *d, const casty_downing_config *cfg,
    const cst_member_table *t, int self, uint64_t now_ms,
    cst_member_set *down, cst_downing_decision *decision)
{
	*down     = (cst_member_set){{0}};
	*decision = CST_DOWN_NOTHING;
	bool paused = d->observed_ms != 0 &&
	              now_ms + 1 - d->observed_ms > CST_DOWNING_PAUSE_MS;
	d->observed_ms = now_ms + 1; // 0 means "never"
	// cst_member_table_unreachable_for over the rows at once: some
	// observer that is neither down nor removed holds a downable
	// member other than self unreachable.
	bool unreachable = false;
	for (uint32_t r = 0; r < t->nreach && !unreachable; r++) {
		const cst_reach_row *row = &t->reach[r];
		unreachable = (int)row->subject != self &&
		              downable(t->member[row->subject].status) &&
		              is_alive(t->member[row->observer].status);
	}
	if (!unreachable || cfg->strategy == CASTY_DOWNING_OFF || self < 0) {
		// How long such a view was stable never matters: the view
		// that has members unreachable is a change from it. So no
		// fingerprint (the costly part, at every frame) until then.
		d->fingerprint    = 0;
		d->unstable_since = 0;
		return false;
	}
	uint64_t fp = fingerprint(t);
	if (fp != d->fingerprint || paused) {
		d->fingerprint     = fp;
		d->stable_since_ms = now_ms;
	}
	if (paused) {
		d->unstable_since = 0;
	}
	if (d->unstable_since == 0) {
		d->unstable_since = now_ms + 1; // 0 means "none"
	}
	uint32_t nmembers = 0;
	for (uint32_t i = 0; i < t->nmembers; i++) {
		nmembers += t->member[i].status != CST_MEMBER_REMOVED;
	}
	uint64_t stable_after = cst_downing_stable_after_ms(cfg, nmembers);
	if (now_ms - d->stable_since_ms >= stable_after) {
		*decision = cst_downing_decide(cfg, t, self, down);
		return *decision != CST_DOWN_NOTHING;
	}
	uint64_t extra = stable_after * 3 / 4;
	if (extra < 4000) {
		extra = 4000;
	}
	if (cfg->down_all_when_unstable &&
	    now_ms + 1 - d->unstable_since >= stable_after + extra) {
		*decision = CST_DOWN_ALL;
		for (uint32_t i = 0; i < t->nmembers; i++) {
			if (downable(t->member[i].status)) {
				cst_member_set_add(down, i);
			}
		}
		return true;
	}
	return false;
}
