// tools/journal_inspector.c: casty-journal, a read-only look at a file
// journal's directory: its entities, one entity's records with their
// MessagePack payloads decoded, and a check of every checksum. It never
// writes: a torn tail is reported, not truncated (opening the journal
// does that).
#include <errno.h>
#include <inttypes.h>
#include <msgpuck.h>

#include "persistence/msgpack_check.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <casty/base.h>
#include <casty/journal.h>
#include <casty/log.h>

#include "persistence/entity_map.h"
#include "persistence/segment.h"
#include "runtime/alloc.h"

static const char usage[] =
	"usage: casty-journal COMMAND DIR [ENTITY]\n"
	"\n"
	"Reads a casty file journal directory (segment files *.seg).\n"
	"\n"
	"  list DIR           entities: event count, highest seq, snapshot seq\n"
	"  dump DIR ENTITY    the entity's events and snapshots, payloads\n"
	"                     decoded (TypeName{field=value}) or in hex\n"
	"  verify DIR         checks every record's checksum and sequence\n"
	"                     numbers; exit status 0 when all is well, 1 if\n"
	"                     not\n"
	"  --help             this text\n";

typedef struct entity_stats {
	uint64_t events, highest;
	bool     has_snapshot;
	uint64_t snapshot_seq;
} entity_stats;

typedef struct scan_state {
	cst_entity_map entities;
	uint64_t       records;
	const char    *dump; // the entity to dump, or NULL
	size_t         dump_len;
} scan_state;

// ---- Payloads ----

static void
print_hex(const uint8_t *p, size_t len)
{
	printf("0x");
	for (size_t i = 0; i < len; i++) {
		printf("%02x", p[i]);
	}
}

static void
print_string(const char *s, uint32_t len)
{
	putchar('"');
	for (uint32_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			printf("\\x%02x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

// Prints one value that cst_msgpack_check has validated; bounded depth.
static void
print_value(const char **p, int depth)
{
	uint32_t n, len;
	if (depth > 32) {
		printf("...");
		mp_next(p);
		return;
	}
	switch (mp_typeof(**p)) {
	case MP_NIL:
		mp_decode_nil(p);
		printf("nil");
		break;
	case MP_UINT:
		printf("%" PRIu64, mp_decode_uint(p));
		break;
	case MP_INT:
		printf("%" PRId64, mp_decode_int(p));
		break;
	case MP_STR: {
		const char *s = mp_decode_str(p, &len);
		print_string(s, len);
		break;
	}
	case MP_BIN: {
		const char *b = mp_decode_bin(p, &len);
		print_hex((const uint8_t *)b, len);
		break;
	}
	case MP_ARRAY:
		n = mp_decode_array(p);
		putchar('[');
		for (uint32_t i = 0; i < n; i++) {
			printf(i > 0 ? ", " : "");
			print_value(p, depth + 1);
		}
		putchar(']');
		break;
	case MP_MAP:
		n = mp_decode_map(p);
		putchar('{');
		for (uint32_t i = 0; i < n; i++) {
			printf(i > 0 ? ", " : "");
			print_value(p, depth + 1);
			putchar('=');
			print_value(p, depth + 1);
		}
		putchar('}');
		break;
	case MP_BOOL:
		printf(mp_decode_bool(p) ? "true" : "false");
		break;
	case MP_FLOAT:
		printf("%g", (double)mp_decode_float(p));
		break;
	case MP_DOUBLE:
		printf("%g", mp_decode_double(p));
		break;
	default: { // MP_EXT: shown as the bytes it spans
		const char *start = *p;
		mp_next(p);
		print_hex((const uint8_t *)start, (size_t)(*p - start));
		break;
	}
	}
}

// Prints [1, "TypeName", hash, {field: value}] as TypeName{field=value},
// anything else in hex.
static void
print_payload(const uint8_t *data, size_t len)
{
	const char *p = (const char *)data;
	if (!cst_msgpack_check(data, len) ||
	    mp_typeof(*p) != MP_ARRAY || mp_decode_array(&p) != 4 ||
	    mp_typeof(*p) != MP_UINT || mp_decode_uint(&p) != 1 ||
	    mp_typeof(*p) != MP_STR) {
		print_hex(data, len);
		return;
	}
	uint32_t    name_len;
	const char *name = mp_decode_str(&p, &name_len);
	if (mp_typeof(*p) != MP_UINT) {
		print_hex(data, len);
		return;
	}
	mp_decode_uint(&p); // the schema hash
	if (mp_typeof(*p) != MP_MAP) {
		print_hex(data, len);
		return;
	}
	printf("%.*s{", (int)name_len, name);
	uint32_t fields = mp_decode_map(&p);
	for (uint32_t i = 0; i < fields; i++) {
		printf(i > 0 ? ", " : "");
		if (mp_typeof(*p) == MP_STR) {
			uint32_t    key_len;
			const char *key = mp_decode_str(&p, &key_len);
			printf("%.*s", (int)key_len, key);
		} else {
			print_value(&p, 1);
		}
		putchar('=');
		print_value(&p, 1);
	}
	putchar('}');
}

// ---- The scan ----

static int
visit(void *arg, size_t seg_index, uint64_t offset, const cst_record *rec)
{
	scan_state   *s = arg;
	entity_stats *e = cst_entity_map_find(
		&s->entities, rec->entity, rec->entity_len);
	(void)seg_index;
	(void)offset;
	if (e == NULL) {
		e = cst_calloc(sizeof(*e));
		if (e == NULL || cst_entity_map_insert(&s->entities,
					 rec->entity, rec->entity_len, e) != 0) {
			cst_oom("casty-journal");
		}
	}
	s->records++;
	if (rec->kind == CST_RECORD_SNAPSHOT) {
		if (!e->has_snapshot || rec->seq >= e->snapshot_seq) {
			e->has_snapshot = true;
			e->snapshot_seq = rec->seq;
		}
	} else {
		// Sequence numbers go up by one, as the journal requires.
		if (rec->seq != e->highest + 1) {
			return -1;
		}
		e->events++;
		e->highest = rec->seq;
	}
	if (s->dump != NULL && rec->entity_len == s->dump_len &&
	    memcmp(rec->entity, s->dump, s->dump_len) == 0) {
		printf("%sseq=%" PRIu64 " ",
			rec->kind == CST_RECORD_SNAPSHOT ? "snapshot " : "",
			rec->seq);
		print_payload(rec->payload, rec->payload_len);
		putchar('\n');
	}
	return 0;
}

static int
compare_slots(const void *a, const void *b)
{
	const cst_entity_slot *x = a, *y = b;
	if (x->key == NULL || y->key == NULL) {
		return (x->key == NULL) - (y->key == NULL);
	}
	return strcmp(x->key, y->key);
}

static void
free_state(scan_state *s)
{
	for (size_t i = 0; i < s->entities.cap; i++) {
		if (s->entities.slot[i].key != NULL) {
			cst_free_sized(s->entities.slot[i].value,
				sizeof(entity_stats));
		}
	}
	cst_entity_map_fini(&s->entities);
}

// Scans dir read-only; counts the bytes past the accepted records (a
// torn tail) in *torn.
static int
scan(const char *dir, scan_state *s, uint64_t *torn)
{
	cst_segment_list list;
	int rc = cst_segments_open(dir, true, &list, visit, s);
	*torn = 0;
	if (rc != 0) {
		return rc;
	}
	for (size_t i = 0; i < list.count; i++) {
		struct stat st;
		if (fstat(list.seg[i].fd, &st) == 0 &&
		    (uint64_t)st.st_size > list.seg[i].size) {
			*torn += (uint64_t)st.st_size - list.seg[i].size;
		}
	}
	if (list.count == 0) {
		rc = -ENOENT;
	}
	cst_segments_close(&list);
	return rc;
}

static int
cmd_list(const char *dir)
{
	scan_state s = {0};
	uint64_t   torn;
	int        rc = scan(dir, &s, &torn);
	if (rc != 0) {
		fprintf(stderr, "casty-journal: %s: %s\n", dir,
			casty_strerror(rc));
		free_state(&s);
		return 1;
	}
	// Sorted by entity id, for stable output.
	qsort(s.entities.slot, s.entities.cap, sizeof(*s.entities.slot),
		compare_slots);
	printf("%-32s %10s %12s %12s\n", "entity", "events", "highest",
		"snapshot");
	for (size_t i = 0; i < s.entities.count; i++) {
		const cst_entity_slot *slot = &s.entities.slot[i];
		const entity_stats    *e = slot->value;
		char                   snap[24] = "-";
		if (e->has_snapshot) {
			snprintf(snap, sizeof snap, "%" PRIu64, e->snapshot_seq);
		}
		printf("%-32s %10" PRIu64 " %12" PRIu64 " %12s\n", slot->key,
			e->events, e->highest, snap);
	}
	// The map is no longer hashed after the sort: only free it now.
	free_state(&s);
	return 0;
}

static int
cmd_dump(const char *dir, const char *entity)
{
	scan_state s = {.dump = entity, .dump_len = strlen(entity)};
	uint64_t   torn;
	int        rc = scan(dir, &s, &torn);
	free_state(&s);
	if (rc != 0) {
		fprintf(stderr, "casty-journal: %s: %s\n", dir,
			casty_strerror(rc));
		return 1;
	}
	return 0;
}

static int
cmd_verify(const char *dir)
{
	scan_state s = {0};
	uint64_t   torn;
	int        rc = scan(dir, &s, &torn);
	size_t     entities = s.entities.count;
	free_state(&s);
	if (rc != 0) {
		printf("FAILED %s: %s (see the line above)\n", dir,
			casty_strerror(rc));
		return 1;
	}
	if (torn > 0) {
		printf("FAILED %s: %" PRIu64 " records good, then a torn tail "
		       "of %" PRIu64 " bytes (see the line above)\n",
			dir, s.records, torn);
		return 1;
	}
	printf("OK %s: %" PRIu64 " records of %zu entities, every checksum "
	       "and sequence number good\n",
		dir, s.records, entities);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
			     strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "list") == 0) {
		return cmd_list(argv[2]);
	}
	if (argc == 4 && strcmp(argv[1], "dump") == 0) {
		return cmd_dump(argv[2], argv[3]);
	}
	if (argc == 3 && strcmp(argv[1], "verify") == 0) {
		return cmd_verify(argv[2]);
	}
	fputs(usage, stderr);
	return 2;
}
