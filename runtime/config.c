// runtime/config.c: casty.toml onto the config structs. The TOML tree
// (runtime/toml.c) is walked against a table of known keys per section:
// every key must be known, of the right type and in range, or loading
// fails with the file, line, column and dotted key; nothing is applied
// until the whole file has been read.
#include <casty/config.h>

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/alloc.h"
#include "runtime/roles.h"
#include "runtime/toml.h"

#define CONFIG_FILE   "casty.toml"
#define MAX_FILE_SIZE (16u << 20) // a config file, not a database
#define MAX_LIST      1024        // seed nodes

// Which fields of an actor's config a table set; resolution is per field.
enum {
	SET_MB_CAPACITY = 1u << 0,
	SET_MB_STRATEGY = 1u << 1,
	SET_SUP_STRATEGY = 1u << 2,
	SET_SUP_MAX = 1u << 3,
	SET_SUP_WITHIN = 1u << 4,
	SET_SH_SHARDS = 1u << 5,
	SET_REP_REPLICAS = 1u << 6,
	SET_REP_MIN_ACKS = 1u << 7,
	SET_REP_TIMEOUT = 1u << 8,
	SET_MAILBOX = SET_MB_CAPACITY | SET_MB_STRATEGY,
	SET_SUPERVISION = SET_SUP_STRATEGY | SET_SUP_MAX | SET_SUP_WITHIN,
};

typedef struct actor_override {
	char              *pattern;
	bool               compiled; // re holds a regex (not a plain name)
	regex_t            re;
	unsigned           set; // SET_* bits given in the file
	casty_actor_config values;
} actor_override;

struct casty_config {
	char                *source;
	char                *system_name;
	uint32_t             max_pending_per_path;
	unsigned             defaults_set;
	casty_actor_config   defaults;
	casty_cluster_config cluster;
	casty_node_address  *seeds;
	char               **roles;
	size_t               nseeds_alloc, nroles_alloc; // array sizes
	actor_override      *actors;
	size_t               nactors, nactors_alloc;
};

// Casty's defaults for a part that the file turns on.
static const casty_mailbox CASTY_MAILBOX_DEFAULT = {1000, CASTY_DROP_NEW};
static const casty_supervision_config CASTY_SUPERVISION_DEFAULT = {
	CASTY_RESTART, 3, 60.0};

static void
builtin_actor(casty_actor_config *a)
{
	memset(a, 0, sizeof *a);
	a->mailbox = CASTY_MAILBOX_DEFAULT;
	a->supervision = CASTY_SUPERVISION_DEFAULT;
	a->sharding.num_shards = 256;
	a->replication.ack_timeout = 5.0;
}

static void
builtin(casty_config *c)
{
	c->max_pending_per_path = 64;
	builtin_actor(&c->defaults);
	c->cluster.gossip = (casty_gossip_config){1.0, 3};
	c->cluster.heartbeat = (casty_heartbeat_config){0.5, 0.5};
	c->cluster.failure_detector =
		(casty_failure_detector_config){8.0, 200, 100.0, 1500.0, 1000.0};
	c->cluster.downing = (casty_downing_config){
		.strategy = CASTY_DOWNING_OFF,
		.down_all_when_unstable = true,
		.down_if_alone = true,
	};
}

static const char *const downing_names[] = {"off", "keep-majority",
	"static-quorum", "keep-oldest", "down-all"};
static const int downing_values[] = {CASTY_DOWNING_OFF,
	CASTY_DOWNING_KEEP_MAJORITY, CASTY_DOWNING_STATIC_QUORUM,
	CASTY_DOWNING_KEEP_OLDEST, CASTY_DOWNING_DOWN_ALL};

const char *
casty_downing_strategy_name(casty_downing_strategy s)
{
	return (unsigned)s < sizeof downing_names / sizeof downing_names[0]
		       ? downing_names[s]
		       : "?";
}

int
casty_downing_strategy_parse(const char *name, casty_downing_strategy *out)
{
	for (size_t i = 0; name != NULL &&
			   i < sizeof downing_names / sizeof downing_names[0];
	     i++) {
		if (strcmp(name, downing_names[i]) == 0) {
			if (out != NULL) {
				*out = (casty_downing_strategy)downing_values[i];
			}
			return CASTY_OK;
		}
	}
	return -EINVAL;
}

// Loading.

typedef struct loader {
	casty_config       *config;
	const char         *file;
	casty_config_error *err;
	char                path[256]; // dotted key of the table being read
} loader;

static void
set_error(casty_config_error *err, const char *file, unsigned line,
	unsigned column, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void
set_error(casty_config_error *err, const char *file, unsigned line,
	unsigned column, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL) {
		return;
	}
	snprintf(err->file, sizeof err->file, "%s", file);
	err->line = line;
	err->column = column;
	snprintf(err->key, sizeof err->key, "%s", key);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	if (line == 0) {
		snprintf(err->text, sizeof err->text, "%s: %s", err->file,
			err->message);
	} else {
		snprintf(err->text, sizeof err->text, "%s:%u:%u: %s%s%s",
			err->file, line, column, err->key,
			err->key[0] ? ": " : "", err->message);
	}
}

// Reports a problem with entry e of the table at ld->path.
static int
bad(loader *ld, const cst_toml_entry *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
bad(loader *ld, const cst_toml_entry *e, const char *fmt, ...)
{
	char    key[512], message[160];
	va_list ap;

	snprintf(key, sizeof key, "%s%s%s", ld->path, ld->path[0] ? "." : "",
		e->key);
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	set_error(ld->err, ld->file, e->line, e->column, key, "%s", message);
	return -EINVAL;
}

static int
want_kind(loader *ld, const cst_toml_entry *e, cst_toml_kind kind)
{
	if (e->value->kind != kind) {
		return bad(ld, e, "expected a %s, found a %s",
			cst_toml_kind_name(kind),
			cst_toml_kind_name(e->value->kind));
	}
	return 0;
}

static int
read_uint(loader *ld, const cst_toml_entry *e, int64_t min, int64_t max,
	uint32_t *out)
{
	int rc = want_kind(ld, e, CST_TOML_INTEGER);
	if (rc != 0) {
		return rc;
	}
	int64_t v = e->value->as.integer;
	if (v < min || v > max) {
		return bad(ld, e, "%lld is out of range [%lld, %lld]",
			(long long)v, (long long)min, (long long)max);
	}
	*out = (uint32_t)v;
	return 0;
}

// A number of seconds or milliseconds: a float, or an integer.
static int
read_number(loader *ld, const cst_toml_entry *e, double min, double max,
	double *out)
{
	double v;
	if (e->value->kind == CST_TOML_INTEGER) {
		v = (double)e->value->as.integer;
	} else if (e->value->kind == CST_TOML_FLOAT) {
		v = e->value->as.fp;
	} else {
		return bad(ld, e, "expected a number, found a %s",
			cst_toml_kind_name(e->value->kind));
	}
	if (!(v >= min && v <= max)) { // also rejects nan
		return bad(ld, e, "%g is out of range [%g, %g]", v, min, max);
	}
	*out = v;
	return 0;
}

static int
read_choice(loader *ld, const cst_toml_entry *e, const char *const *names,
	const int *values, size_t n, int *out)
{
	int rc = want_kind(ld, e, CST_TOML_STRING);
	if (rc != 0) {
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e->value->as.str.ptr, names[i]) == 0) {
			*out = values[i];
			return 0;
		}
	}
	char list[128] = "";
	for (size_t i = 0; i < n; i++) {
		strncat(list, names[i], sizeof list - strlen(list) - 1);
		strncat(list, i + 1 < n ? " | " : "", sizeof list - strlen(list) - 1);
	}
	return bad(ld, e, "\"%s\" is not one of %s", e->value->as.str.ptr, list);
}

// Enters the table under entry e for reading: pushes its key on the path.
static int
enter(loader *ld, const cst_toml_entry *e, size_t *saved)
{
	int rc = want_kind(ld, e, CST_TOML_TABLE);
	if (rc != 0) {
		return rc;
	}
	*saved = strlen(ld->path);
	int n = snprintf(ld->path + *saved, sizeof ld->path - *saved, "%s%s",
		*saved ? "." : "", e->key);
	if (n < 0 || (size_t)n >= sizeof ld->path - *saved) {
		ld->path[*saved] = '\0';
		return bad(ld, e, "key path too long");
	}
	return 0;
}

static void
leave(loader *ld, size_t saved)
{
	ld->path[saved] = '\0';
}

static int
unknown(loader *ld, const cst_toml_entry *e)
{
	return bad(ld, e, "unknown key");
}

// Tables of keys: each section is a list of fields, read by read_fields
// into a struct at the field's offset, with its range and the SET_* bit
// it sets (resolution is per field).
typedef enum field_kind {
	F_UINT,      // uint32_t, integer in [min, max]
	F_NUMBER,    // double, integer or float in [min, max]
	F_OVERFLOW,  // casty_overflow, by name
	F_DIRECTIVE, // casty_directive, by name
	F_DOWNING,   // casty_downing_strategy, by name
	F_BOOL,      // bool
} field_kind;

typedef struct field_spec {
	const char *key;
	field_kind  kind;
	size_t      offset;
	double      min, max;
	unsigned    set; // SET_* bit, 0 for fields outside actor configs
} field_spec;

typedef struct section_spec {
	const char       *key;
	const field_spec *fields;
	size_t            nfields;
} section_spec;

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define ACTOR(f) offsetof(casty_actor_config, f)
#define CLUSTER(f) offsetof(casty_cluster_config, f)

static const field_spec mailbox_fields[] = {
	{"capacity", F_UINT, ACTOR(mailbox.capacity), 1,
		CASTY_MAILBOX_MAX_CAPACITY, SET_MB_CAPACITY},
	{"strategy", F_OVERFLOW, ACTOR(mailbox.overflow), 0, 0, SET_MB_STRATEGY},
};
static const field_spec supervision_fields[] = {
	{"strategy", F_DIRECTIVE, ACTOR(supervision.strategy), 0, 0,
		SET_SUP_STRATEGY},
	{"max_restarts", F_UINT, ACTOR(supervision.max_restarts), 0,
		CASTY_MAX_RESTARTS, SET_SUP_MAX},
	{"within_seconds", F_NUMBER, ACTOR(supervision.within_seconds), 0,
		4294967.0, SET_SUP_WITHIN},
};
static const field_spec sharding_fields[] = {
	{"num_shards", F_UINT, ACTOR(sharding.num_shards), 1, 1 << 20,
		SET_SH_SHARDS},
};
static const field_spec replication_fields[] = {
	{"replicas", F_UINT, ACTOR(replication.replicas), 0, 64,
		SET_REP_REPLICAS},
	{"min_acks", F_UINT, ACTOR(replication.min_acks), 0, 64,
		SET_REP_MIN_ACKS},
	{"ack_timeout", F_NUMBER, ACTOR(replication.ack_timeout), 0, 86400.0,
		SET_REP_TIMEOUT},
};
static const section_spec actor_sections[] = {
	{"mailbox", mailbox_fields, COUNT(mailbox_fields)},
	{"supervision", supervision_fields, COUNT(supervision_fields)},
	{"sharding", sharding_fields, COUNT(sharding_fields)},
	{"replication", replication_fields, COUNT(replication_fields)},
};

static const field_spec gossip_fields[] = {
	{"interval", F_NUMBER, CLUSTER(gossip.interval), 0.001, 3600.0, 0},
	{"fanout", F_UINT, CLUSTER(gossip.fanout), 1, 1024, 0},
};
static const field_spec heartbeat_fields[] = {
	{"interval", F_NUMBER, CLUSTER(heartbeat.interval), 0.001, 3600.0, 0},
	{"availability_check_interval", F_NUMBER,
		CLUSTER(heartbeat.availability_check_interval), 0.001, 3600.0,
		0},
};
static const field_spec failure_detector_fields[] = {
	{"threshold", F_NUMBER, CLUSTER(failure_detector.threshold), 0.1,
		1000.0, 0},
	{"max_sample_size", F_UINT, CLUSTER(failure_detector.max_sample_size),
		1, 100000, 0},
	{"min_std_deviation_ms", F_NUMBER,
		CLUSTER(failure_detector.min_std_deviation_ms), 0.001,
		3600000.0, 0},
	{"acceptable_heartbeat_pause_ms", F_NUMBER,
		CLUSTER(failure_detector.acceptable_heartbeat_pause_ms), 0,
		3600000.0, 0},
	{"first_heartbeat_estimate_ms", F_NUMBER,
		CLUSTER(failure_detector.first_heartbeat_estimate_ms), 0.001,
		3600000.0, 0},
};
static const field_spec downing_fields[] = {
	{"strategy", F_DOWNING, CLUSTER(downing.strategy), 0, 0, 0},
	{"stable_after", F_NUMBER, CLUSTER(downing.stable_after), 0, 86400.0,
		0},
	{"down_all_when_unstable", F_BOOL,
		CLUSTER(downing.down_all_when_unstable), 0, 0, 0},
	{"quorum_size", F_UINT, CLUSTER(downing.quorum_size), 1, 1024, 0},
	{"down_if_alone", F_BOOL, CLUSTER(downing.down_if_alone), 0, 0, 0},
};
static const section_spec cluster_sections[] = {
	{"gossip", gossip_fields, COUNT(gossip_fields)},
	{"heartbeat", heartbeat_fields, COUNT(heartbeat_fields)},
	{"failure_detector", failure_detector_fields,
		COUNT(failure_detector_fields)},
};

static int
read_field(loader *ld, const cst_toml_entry *e, const field_spec *f,
	void *base)
{
	static const char *const overflow_names[] = {
		"drop_new", "drop_oldest", "backpressure"};
	static const int overflow_values[] = {
		CASTY_DROP_NEW, CASTY_DROP_OLDEST, CASTY_BACKPRESSURE};
	static const char *const directive_names[] = {
		"restart", "stop", "escalate"};
	static const int directive_values[] = {
		CASTY_RESTART, CASTY_STOP, CASTY_ESCALATE};
	char *at = (char *)base + f->offset;
	int   rc, v = 0;

	switch (f->kind) {
	case F_UINT:
		return read_uint(ld, e, (int64_t)f->min, (int64_t)f->max,
			(uint32_t *)(void *)at);
	case F_NUMBER:
		return read_number(ld, e, f->min, f->max, (double *)(void *)at);
	case F_OVERFLOW:
		rc = read_choice(ld, e, overflow_names, overflow_values,
			COUNT(overflow_names), &v);
		*(casty_overflow *)(void *)at = (casty_overflow)v;
		return rc;
	case F_DIRECTIVE:
		rc = read_choice(ld, e, directive_names, directive_values,
			COUNT(directive_names), &v);
		*(casty_directive *)(void *)at = (casty_directive)v;
		return rc;
	case F_DOWNING:
		rc = read_choice(ld, e, downing_names, downing_values,
			COUNT(downing_names), &v);
		*(casty_downing_strategy *)(void *)at = (casty_downing_strategy)v;
		return rc;
	case F_BOOL:
		rc = want_kind(ld, e, CST_TOML_BOOLEAN);
		if (rc == 0) {
			*(bool *)(void *)at = e->value->as.boolean;
		}
		return rc;
	}
	return unknown(ld, e);
}

// Reads every key of table t as one of fields into base.
static int
read_fields(loader *ld, const cst_toml_value *t, const field_spec *fields,
	size_t nfields, void *base, unsigned *set)
{
	for (size_t i = 0; i < cst_toml_table_len(t); i++) {
		const cst_toml_entry *e = cst_toml_table_entry(t, i);
		size_t                k = 0;
		while (k < nfields && strcmp(e->key, fields[k].key) != 0) {
			k++;
		}
		if (k == nfields) {
			return unknown(ld, e);
		}
		int rc = read_field(ld, e, &fields[k], base);
		if (rc != 0) {
			return rc;
		}
		*set |= fields[k].set;
	}
	return 0;
}

// The section of sections that key names, or NULL.
static const section_spec *
find_section(const section_spec *sections, size_t nsections, const char *key)
{
	for (size_t k = 0; k < nsections; k++) {
		if (strcmp(key, sections[k].key) == 0) {
			return &sections[k];
		}
	}
	return NULL;
}

// Reads the table under entry e as section sec, with e's key on the path.
static int
read_section(loader *ld, const cst_toml_entry *e, const section_spec *sec,
	void *base, unsigned *set)
{
	size_t saved;
	int    rc = enter(ld, e, &saved);
	if (rc == 0) {
		rc = read_fields(ld, e->value, sec->fields, sec->nfields, base,
			set);
		leave(ld, saved);
	}
	return rc;
}

// Reads the actor sections of table t (mailbox, supervision, ...), as
// [defaults] and [actors.PATTERN] hold them.
static int
read_actor_sections(loader *ld, const cst_toml_value *t,
	casty_actor_config *a, unsigned *set)
{
	for (size_t i = 0; i < cst_toml_table_len(t); i++) {
		const cst_toml_entry *e = cst_toml_table_entry(t, i);
		const section_spec   *sec = find_section(
			actor_sections, COUNT(actor_sections), e->key);
		int rc = sec != NULL ? read_section(ld, e, sec, a, set)
				     : unknown(ld, e);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

// [actors.PATTERN]: plain names match themselves; anything else is a
// Python-style regex, which POSIX ERE takes once \d, \w and \s (and their
// negations) are spelled as classes.
static bool
plain_name(const char *s)
{
	if (*s == '\0') {
		return false;
	}
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') || *s == '_' || *s == '-')) {
			return false;
		}
	}
	return true;
}

static const char *
class_of(char c, bool in_brackets)
{
	switch (c) {
	case 'd':
		return in_brackets ? "0-9" : "[0-9]";
	case 'w':
		return in_brackets ? "[:alnum:]_" : "[[:alnum:]_]";
	case 's':
		return in_brackets ? "[:space:]" : "[[:space:]]";
	case 'D':
		return in_brackets ? NULL : "[^0-9]";
	case 'W':
		return in_brackets ? NULL : "[^[:alnum:]_]";
	case 'S':
		return in_brackets ? NULL : "[^[:space:]]";
	}
	return NULL;
}

// Writes "^(" pattern ")$" with the classes spelled out; false when the
// result would not fit or a negated class sits inside brackets.
static bool
to_ere(const char *in, char *out, size_t size)
{
	size_t n = 0;
	bool   brackets = false;

#define PUT(s)                                                                \
	do {                                                                  \
		size_t l_ = strlen(s);                                        \
		if (n + l_ + 1 > size)                                        \
			return false;                                         \
		memcpy(out + n, (s), l_);                                     \
		n += l_;                                                      \
	} while (0)
	PUT("^(");
	for (const char *p = in; *p; p++) {
		char one[2] = {*p, 0};
		if (*p == '\\' && p[1] != '\0') {
			const char *cls = class_of(p[1], brackets);
			if (cls != NULL) {
				PUT(cls);
				p++;
				continue;
			}
			if (brackets && strchr("DWS", p[1]) != NULL) {
				return false;
			}
			char two[3] = {p[0], p[1], 0};
			PUT(two);
			p++;
			continue;
		}
		if (*p == '[' && !brackets) {
			brackets = true;
			PUT(one);
			if (p[1] == '^') {
				PUT("^");
				p++;
			}
			if (p[1] == ']') { // a literal ] first in brackets
				PUT("]");
				p++;
			}
			continue;
		}
		if (*p == ']' && brackets) {
			brackets = false;
		}
		PUT(one);
	}
	PUT(")$");
#undef PUT
	out[n] = '\0';
	return true;
}

// glibc's regcomp copies a repeated sub-expression once per repetition
// operator around it, so a pattern such as "a++++..." or nested bounds
// grow exponentially in memory (found by tests/fuzz/fuzz_config.c). Actor
// name patterns need little: at most MAX_REPEATS operators, bounds up to
// MAX_BOUND, and no operator right after another (Python refuses "a++"
// too). Returns NULL or what is wrong.
#define MAX_REPEATS 8
#define MAX_BOUND   32

static const char *
pattern_too_costly(const char *p)
{
	int  repeats = 0;
	bool brackets = false, after_repeat = false;

	for (; *p; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			after_repeat = false;
			continue;
		}
		if (brackets) {
			brackets = *p != ']';
			continue;
		}
		if (*p == '[') {
			brackets = true;
			after_repeat = false;
			if (p[1] == '^') {
				p++;
			}
			if (p[1] == ']') {
				p++;
			}
			continue;
		}
		if (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
			if (after_repeat) {
				return "a repetition right after another";
			}
			if (++repeats > MAX_REPEATS) {
				return "more than 8 repetition operators";
			}
			if (*p == '{') {
				char *end;
				for (;;) {
					long n = strtol(p + 1, &end, 10);
					if (end == p + 1 || n > MAX_BOUND) {
						return "a bound {n,m} above 32 or malformed";
					}
					p = end;
					if (*p == ',' && p[1] == '}') {
						p++; // {n,}: no upper bound given
					}
					if (*p == '}') {
						break;
					}
					if (*p != ',') {
						return "a bound {n,m} above 32 or malformed";
					}
				}
			}
			after_repeat = true;
			continue;
		}
		after_repeat = false;
	}
	return NULL;
}

static int
read_actors(loader *ld, const cst_toml_value *t)
{
	casty_config *c = ld->config;
	size_t        n = cst_toml_table_len(t);

	c->actors = cst_calloc(n ? n * sizeof *c->actors : 1);
	if (c->actors == NULL) {
		return -ENOMEM;
	}
	c->nactors_alloc = n ? n : 1;
	for (size_t i = 0; i < n; i++) {
		const cst_toml_entry *e = cst_toml_table_entry(t, i);
		actor_override       *o = &c->actors[i];
		char                  ere[1024];
		size_t                saved;

		o->pattern = cst_strdup(e->key);
		if (o->pattern == NULL) {
			return -ENOMEM;
		}
		c->nactors = i + 1; // from here on freed with the config
		int rc = enter(ld, e, &saved);
		if (rc != 0) {
			return rc;
		}
		builtin_actor(&o->values);
		rc = read_actor_sections(ld, e->value, &o->values, &o->set);
		leave(ld, saved);
		if (rc != 0) {
			return rc;
		}
		if (plain_name(e->key)) {
			continue;
		}
		const char *costly = pattern_too_costly(e->key);
		if (costly != NULL) {
			return bad(ld, e, "pattern refused: %s", costly);
		}
		if (!to_ere(e->key, ere, sizeof ere)) {
			return bad(ld, e, "pattern too long or not supported");
		}
		int r = regcomp(&o->re, ere, REG_EXTENDED | REG_NOSUB);
		if (r != 0) {
			char why[120];
			regerror(r, &o->re, why, sizeof why);
			return bad(ld, e, "bad pattern: %s", why);
		}
		o->compiled = true;
	}
	return 0;
}

static int
read_defaults(loader *ld, const cst_toml_value *t)
{
	casty_config *c = ld->config;
	return read_actor_sections(ld, t, &c->defaults, &c->defaults_set);
}

static int
read_system(loader *ld, const cst_toml_value *t)
{
	for (size_t i = 0; i < cst_toml_table_len(t); i++) {
		const cst_toml_entry *e = cst_toml_table_entry(t, i);
		if (strcmp(e->key, "name") != 0) {
			return unknown(ld, e);
		}
		int rc = want_kind(ld, e, CST_TOML_STRING);
		if (rc != 0) {
			return rc;
		}
		const char *name = e->value->as.str.ptr;
		if (name[0] == '\0' || strchr(name, '/') != NULL ||
		    strlen(name) > 255) {
			return bad(ld, e, "a system name is 1 to 255 bytes, no '/'");
		}
		cst_free_sized(ld->config->system_name,
			ld->config->system_name
				? strlen(ld->config->system_name) + 1 : 0);
		ld->config->system_name = cst_strdup(name);
		if (ld->config->system_name == NULL) {
			return -ENOMEM;
		}
	}
	return 0;
}

static int
read_transport(loader *ld, const cst_toml_value *t)
{
	static const field_spec fields[] = {
		{"max_pending_per_path", F_UINT,
			offsetof(casty_config, max_pending_per_path), 1, 1 << 20,
			0},
	};
	unsigned set = 0;
	return read_fields(ld, t, fields, COUNT(fields), ld->config, &set);
}

static int
read_host(loader *ld, const cst_toml_entry *e, char *out)
{
	int rc = want_kind(ld, e, CST_TOML_STRING);
	if (rc != 0) {
		return rc;
	}
	size_t n = e->value->as.str.len;
	if (n == 0 || n >= CASTY_HOST_MAX) {
		return bad(ld, e, "a host is 1 to %d bytes", CASTY_HOST_MAX - 1);
	}
	memcpy(out, e->value->as.str.ptr, n + 1);
	return 0;
}

// "host:port", split at the last colon (so "[::1]:25520" keeps its
// brackets in host).
static int
read_seed(loader *ld, const cst_toml_entry *e, const cst_toml_value *v,
	casty_node_address *out)
{
	if (v->kind != CST_TOML_STRING) {
		return bad(ld, e, "a seed node is a \"host:port\" string, not a %s",
			cst_toml_kind_name(v->kind));
	}
	const char *s = v->as.str.ptr;
	const char *colon = strrchr(s, ':');
	if (colon == NULL || colon == s ||
	    (size_t)(colon - s) >= CASTY_HOST_MAX) {
		return bad(ld, e, "\"%s\" is not host:port", s);
	}
	char   *end;
	long    port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535) {
		return bad(ld, e, "\"%s\": the port must be 1 to 65535", s);
	}
	memcpy(out->host, s, (size_t)(colon - s));
	out->host[colon - s] = '\0';
	out->port = (uint16_t)port;
	return 0;
}

static int
read_seeds(loader *ld, const cst_toml_entry *e)
{
	casty_config *c = ld->config;
	int           rc = want_kind(ld, e, CST_TOML_ARRAY);
	size_t        n = cst_toml_array_len(e->value);

	if (rc != 0) {
		return rc;
	}
	if (n > MAX_LIST) {
		return bad(ld, e, "more than %d seed nodes", MAX_LIST);
	}
	c->seeds = cst_calloc(n ? n * sizeof *c->seeds : 1);
	if (c->seeds == NULL) {
		return -ENOMEM;
	}
	c->nseeds_alloc = n ? n : 1;
	for (size_t i = 0; i < n; i++) {
		rc = read_seed(ld, e, cst_toml_array_get(e->value, i),
			&c->seeds[i]);
		if (rc != 0) {
			return rc;
		}
	}
	c->cluster.seed_nodes = c->seeds;
	c->cluster.nseed_nodes = n;
	return 0;
}

static int
read_roles(loader *ld, const cst_toml_entry *e)
{
	casty_config *c = ld->config;
	int           rc = want_kind(ld, e, CST_TOML_ARRAY);
	size_t        n = cst_toml_array_len(e->value);

	if (rc != 0) {
		return rc;
	}
	if (n > CASTY_ROLES_MAX) {
		return bad(ld, e, "more than %d roles", CASTY_ROLES_MAX);
	}
	c->roles = cst_calloc((n + 1) * sizeof *c->roles);
	if (c->roles == NULL) {
		return -ENOMEM;
	}
	c->nroles_alloc = n + 1;
	for (size_t i = 0; i < n; i++) {
		const cst_toml_value *v = cst_toml_array_get(e->value, i);
		if (v->kind != CST_TOML_STRING || v->as.str.len == 0) {
			return bad(ld, e, "a role is a non-empty string");
		}
		if (!cst_role_valid(v->as.str.ptr, v->as.str.len)) {
			return bad(ld, e,
				"a role is 1 to %d bytes without control "
				"characters, spaces or commas",
				CASTY_ROLE_MAX - 1);
		}
		c->roles[i] = cst_strdup(v->as.str.ptr);
		if (c->roles[i] == NULL) {
			return -ENOMEM;
		}
	}
	c->cluster.roles = (const char *const *)c->roles;
	c->cluster.nroles = n;
	return 0;
}

typedef int (*table_fn)(loader *, const cst_toml_value *);

// Reads the sub-table under e with read, with e's key on the path.
static int
read_sub(loader *ld, const cst_toml_entry *e, table_fn read)
{
	size_t saved;
	int    rc = enter(ld, e, &saved);
	if (rc == 0) {
		rc = read(ld, e->value);
		leave(ld, saved);
	}
	return rc;
}

// [cluster.downing]: a table that is there turns the resolver on
// (keep-majority unless it names another strategy).
static int
read_downing(loader *ld, const cst_toml_entry *e)
{
	casty_downing_config *d = &ld->config->cluster.downing;
	static const section_spec sec = {
		"downing", downing_fields, COUNT(downing_fields)};
	d->strategy = CASTY_DOWNING_KEEP_MAJORITY;
	unsigned set = 0;
	int      rc = read_section(ld, e, &sec, &ld->config->cluster, &set);
	if (rc == 0 && d->strategy == CASTY_DOWNING_STATIC_QUORUM &&
	    d->quorum_size == 0) {
		rc = bad(ld, e, "static-quorum needs quorum_size");
	}
	return rc;
}

static int
read_cluster(loader *ld, const cst_toml_value *t)
{
	casty_cluster_config *cl = &ld->config->cluster;
	const cst_toml_entry *port = NULL, *host = NULL;

	for (size_t i = 0; i < cst_toml_table_len(t); i++) {
		const cst_toml_entry *e = cst_toml_table_entry(t, i);
		int                   rc;
		uint32_t              p;
		if (strcmp(e->key, "host") == 0) {
			rc = read_host(ld, e, cl->host);
			host = e;
		} else if (strcmp(e->key, "port") == 0) {
			rc = read_uint(ld, e, 0, 65535, &p);
			cl->port = (uint16_t)p;
			port = e;
		} else if (strcmp(e->key, "seed_nodes") == 0) {
			rc = read_seeds(ld, e);
		} else if (strcmp(e->key, "roles") == 0) {
			rc = read_roles(ld, e);
		} else if (strcmp(e->key, "down_after_ms") == 0 ||
			   strcmp(e->key, "auto_down_unreachable_after") == 0) {
			rc = bad(ld, e, "auto-down after a timeout is not "
					"supported: on a partition each side "
					"downs the other and two clusters go on; "
					"use [cluster.downing] (keep-majority)");
		} else if (strcmp(e->key, "downing") == 0) {
			rc = read_downing(ld, e);
		} else {
			const section_spec *sec = find_section(
				cluster_sections, COUNT(cluster_sections), e->key);
			unsigned set = 0;
			rc = sec != NULL ? read_section(ld, e, sec, cl, &set)
					 : unknown(ld, e);
		}
		if (rc != 0) {
			return rc;
		}
	}
	if (host != NULL && port == NULL) {
		return bad(ld, host, "a cluster host needs a port");
	}
	if (port != NULL && host == NULL) {
		return bad(ld, port, "a cluster port needs a host");
	}
	cl->enabled = host != NULL;
	return 0;
}

static int
read_root(loader *ld, const cst_toml_value *root)
{
	static const struct {
		const char *key;
		table_fn    read;
	} sections[] = {
		{"system", read_system},
		{"transport", read_transport},
		{"defaults", read_defaults},
		{"cluster", read_cluster},
		{"actors", read_actors},
	};

	for (size_t i = 0; i < cst_toml_table_len(root); i++) {
		const cst_toml_entry *e = cst_toml_table_entry(root, i);
		size_t                k = 0;
		while (k < sizeof sections / sizeof sections[0] &&
		       strcmp(e->key, sections[k].key) != 0) {
			k++;
		}
		if (k == sizeof sections / sizeof sections[0]) {
			return unknown(ld, e);
		}
		int rc = read_sub(ld, e, sections[k].read);
		if (rc != 0) {
			return rc;
		}
	}
	return 0;
}

void
casty_config_free(casty_config *c)
{
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < c->nactors; i++) {
		if (c->actors[i].compiled) {
			regfree(&c->actors[i].re);
		}
		cst_free_sized(c->actors[i].pattern,
			strlen(c->actors[i].pattern) + 1);
	}
	cst_free_sized(c->actors, c->nactors_alloc * sizeof *c->actors);
	cst_free_sized(c->seeds, c->nseeds_alloc * sizeof *c->seeds);
	for (size_t i = 0; c->roles != NULL && c->roles[i] != NULL; i++) {
		cst_free_sized(c->roles[i], strlen(c->roles[i]) + 1);
	}
	cst_free_sized(c->roles, c->nroles_alloc * sizeof *c->roles);
	if (c->system_name != NULL) {
		cst_free_sized(c->system_name, strlen(c->system_name) + 1);
	}
	if (c->source != NULL) {
		cst_free_sized(c->source, strlen(c->source) + 1);
	}
	cst_free_sized(c, sizeof *c);
}

static casty_config *
new_config(const char *source)
{
	casty_config *c = cst_calloc(sizeof *c);
	if (c == NULL) {
		return NULL;
	}
	c->source = cst_strdup(source != NULL ? source : "");
	if (c->source == NULL) {
		cst_free_sized(c, sizeof *c);
		return NULL;
	}
	builtin(c);
	return c;
}

int
casty_config_parse(const char *text, size_t len, const char *filename,
	casty_config **out, casty_config_error *err)
{
	cst_toml_value *root;
	cst_toml_error  terr;

	if ((text == NULL && len != 0) || out == NULL) {
		return -EINVAL;
	}
	if (filename == NULL) {
		filename = "<config>";
	}
	int rc = cst_toml_parse(text != NULL ? text : "", len, filename, &root,
		&terr);
	if (rc != 0) {
		if (rc == -EINVAL) {
			set_error(err, filename, terr.line, terr.column, terr.path,
				"%s", terr.message);
		}
		return rc;
	}
	casty_config *c = new_config(filename);
	if (c == NULL) {
		cst_toml_free(root);
		return -ENOMEM;
	}
	loader ld = {.config = c, .file = filename, .err = err};
	rc = read_root(&ld, root);
	cst_toml_free(root);
	if (rc != 0) {
		if (rc == -ENOMEM) {
			set_error(err, filename, 0, 0, "", "out of memory");
		}
		casty_config_free(c);
		return rc;
	}
	*out = c;
	return CASTY_OK;
}

int
casty_config_discover(const char *dir, char *buf, size_t size)
{
	char path[PATH_MAX];

	if (buf == NULL || size == 0) {
		return -EINVAL;
	}
	if (dir == NULL) {
		if (getcwd(path, sizeof path) == NULL) {
			return -errno;
		}
	} else if (realpath(dir, path) == NULL) {
		return -errno;
	}
	for (;;) {
		char candidate[PATH_MAX + sizeof CONFIG_FILE + 1];
		snprintf(candidate, sizeof candidate, "%s%s%s", path,
			strcmp(path, "/") == 0 ? "" : "/", CONFIG_FILE);
		struct stat st;
		if (stat(candidate, &st) == 0 && S_ISREG(st.st_mode)) {
			if (strlen(candidate) >= size) {
				return -ENAMETOOLONG;
			}
			memcpy(buf, candidate, strlen(candidate) + 1);
			return CASTY_OK;
		}
		if (strcmp(path, "/") == 0) {
			return -ENOENT;
		}
		char *slash = strrchr(path, '/');
		if (slash == path) {
			path[1] = '\0';
		} else {
			*slash = '\0';
		}
	}
}

static int
read_file(const char *path, char **text, size_t *len, casty_config_error *err)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		int rc = -errno;
		set_error(err, path, 0, 0, "", "cannot open: %s", strerror(-rc));
		return rc;
	}
	size_t cap = 4096, n = 0;
	char  *buf = malloc(cap);
	while (buf != NULL) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0 || n > MAX_FILE_SIZE) {
			break;
		}
		if (n == cap) {
			char *grown = realloc(buf, cap * 2);
			if (grown == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
			cap *= 2;
		}
	}
	int failed = ferror(f);
	fclose(f);
	if (buf == NULL) {
		set_error(err, path, 0, 0, "", "out of memory");
		return -ENOMEM;
	}
	if (failed || n > MAX_FILE_SIZE) {
		free(buf);
		set_error(err, path, 0, 0, "", failed ? "read error"
						      : "larger than 16 MiB");
		return failed ? -EIO : -EFBIG;
	}
	*text = buf;
	*len = n;
	return 0;
}

int
casty_config_load(const char *path, casty_config **out, casty_config_error *err)
{
	char found[PATH_MAX];

	if (out == NULL) {
		return -EINVAL;
	}
	if (path == NULL) {
		int rc = casty_config_discover(NULL, found, sizeof found);
		if (rc == -ENOENT) {
			*out = new_config("");
			return *out != NULL ? CASTY_OK : -ENOMEM;
		}
		if (rc != 0) {
			set_error(err, CONFIG_FILE, 0, 0, "",
				"cannot search for it: %s", strerror(-rc));
			return rc;
		}
		path = found;
	}
	char  *text = NULL;
	size_t len = 0;
	int    rc = read_file(path, &text, &len, err);
	if (rc != 0) {
		return rc;
	}
	rc = casty_config_parse(text, len, path, out, err);
	free(text);
	return rc;
}

// Reading.

const char *
casty_config_source(const casty_config *c)
{
	return c->source;
}

const char *
casty_config_system_name(const casty_config *c)
{
	return c->system_name;
}

uint32_t
casty_config_max_pending_per_path(const casty_config *c)
{
	return c->max_pending_per_path;
}

const casty_cluster_config *
casty_config_cluster(const casty_config *c)
{
	return &c->cluster;
}

// Copies into `to` the fields set in `set`; a part that becomes set for
// the first time starts from Casty's defaults for it.
static void
overlay(casty_actor_config *to, unsigned set, const casty_actor_config *from)
{
	if ((set & SET_MAILBOX) && !to->has_mailbox) {
		to->has_mailbox = true;
		to->mailbox = CASTY_MAILBOX_DEFAULT;
	}
	if ((set & SET_SUPERVISION) && !to->has_supervision) {
		to->has_supervision = true;
		to->supervision = CASTY_SUPERVISION_DEFAULT;
	}
	if (set & SET_MB_CAPACITY) {
		to->mailbox.capacity = from->mailbox.capacity;
	}
	if (set & SET_MB_STRATEGY) {
		to->mailbox.overflow = from->mailbox.overflow;
	}
	if (set & SET_SUP_STRATEGY) {
		to->supervision.strategy = from->supervision.strategy;
	}
	if (set & SET_SUP_MAX) {
		to->supervision.max_restarts = from->supervision.max_restarts;
	}
	if (set & SET_SUP_WITHIN) {
		to->supervision.within_seconds =
			from->supervision.within_seconds;
	}
	if (set & SET_SH_SHARDS) {
		to->sharding.num_shards = from->sharding.num_shards;
	}
	if (set & SET_REP_REPLICAS) {
		to->replication.replicas = from->replication.replicas;
	}
	if (set & SET_REP_MIN_ACKS) {
		to->replication.min_acks = from->replication.min_acks;
	}
	if (set & SET_REP_TIMEOUT) {
		to->replication.ack_timeout = from->replication.ack_timeout;
	}
}

static bool
matches(const actor_override *o, const char *name)
{
	if (!o->compiled) {
		return strcmp(o->pattern, name) == 0;
	}
	return regexec(&o->re, name, 0, NULL, 0) == 0;
}

void
casty_config_resolve(const casty_config *c, const char *name,
	casty_actor_config *out)
{
	builtin_actor(out);
	if (c == NULL || (name != NULL && name[0] == '_')) {
		return;
	}
	overlay(out, c->defaults_set, &c->defaults);
	if (name == NULL) {
		return;
	}
	for (size_t i = 0; i < c->nactors; i++) {
		if (matches(&c->actors[i], name)) {
			overlay(out, c->actors[i].set, &c->actors[i].values);
			return;
		}
	}
}
