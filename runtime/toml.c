// runtime/toml.c: a strict TOML 1.0 parser, one pass over the text with
// no backtracking. The input may be hostile: a first pass rejects bytes
// that TOML never allows (NUL, control characters, bad UTF-8, a lone CR),
// nesting is bounded by CST_TOML_MAX_DEPTH so recursion is bounded too,
// and every read checks the end of the buffer (the text need not end in a
// NUL). On any error the whole tree is freed.
//
// The redefinition rules of the spec are kept with flags on each table:
// who created it (a [header], a header on the way to another, or dotted
// keys) and whether it is sealed (an inline table). See nav_header and
// parse_keyval for how they are checked. Strings and numbers are scanned
// in toml_scalar.c.
#include "runtime/toml.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/toml_parse.h"


static int parse_value(parser *p, unsigned depth, cst_toml_value **out);

static unsigned
count_chars(const char *from, const char *to)
{
	unsigned n = 0;
	for (; from < to; from++) {
		if ((*from & 0xC0) != 0x80) {
			n++;
		}
	}
	return n;
}

// here returns the position of p->cur; the cache keeps a long line of
// keys linear.
pos
cst_toml_here(parser *p)
{
	if (p->col_at < p->bol) {
		p->col_at = p->bol;
		p->col    = 1;
	}
	p->col += count_chars(p->col_at, p->cur);
	p->col_at = p->cur;
	return (pos){p->line, p->col};
}

// pos_at returns the position of at, which is on p->cur's line or after.
pos
cst_toml_pos_at(const parser *p, const char *at)
{
	unsigned    line = p->line;
	const char *bol  = p->bol;
	for (const char *s = p->cur; s < at; s++) {
		if (*s == '\n') {
			line++;
			bol = s + 1;
		}
	}
	return (pos){line, count_chars(bol, at) + 1};
}

int
cst_toml_fail(parser *p, pos at, const char *fmt, ...)
{
	cst_toml_error *e = p->err;
	if (e != NULL) {
		e->filename = p->filename;
		e->line     = at.line;
		e->column   = at.col;
		memcpy(e->path, p->path, p->path_len);
		e->path[p->path_len] = '\0';
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->message, sizeof e->message, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int
cst_toml_fail_oom(parser *p)
{
	cst_toml_fail(p, cst_toml_here(p), "out of memory");
	return -ENOMEM;
}

static void
path_put(parser *p, const char *s, size_t n)
{
	size_t room = sizeof p->path - 1 - p->path_len;
	if (n > room) {
		n = room;
	}
	memcpy(p->path + p->path_len, s, n);
	p->path_len += n;
	p->path[p->path_len] = '\0';
}

bool
cst_toml_is_bare(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static void
path_push(parser *p, const keypart *k)
{
	bool bare = k->len > 0;
	for (size_t i = 0; i < k->len; i++) {
		bare = bare && cst_toml_is_bare(k->s[i]);
	}
	if (p->path_len > 0) {
		path_put(p, ".", 1);
	}
	path_put(p, "\"", bare ? 0 : 1);
	path_put(p, k->s, k->len);
	path_put(p, "\"", bare ? 0 : 1);
}

static void
path_pop(parser *p, size_t len)
{
	p->path_len  = len;
	p->path[len] = '\0';
}

// The first pass: TOML allows tab, LF and CRLF, and no other control
// character, anywhere; the text must be UTF-8.
size_t
cst_toml_utf8_len(const unsigned char *s, const unsigned char *end)
{
	unsigned c = s[0];
	size_t   n;
	uint32_t cp, min;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2, cp = c & 0x1F, min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3, cp = c & 0x0F, min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - s) < n) {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			return 0;
		}
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
		return 0;
	}
	return n;
}

static int
check_text(parser *p)
{
	const unsigned char *s    = (const unsigned char *)p->cur;
	const unsigned char *end  = (const unsigned char *)p->end;
	const char          *bol  = p->cur;
	unsigned             line = 1;
#define AT ((pos){line, count_chars(bol, (const char *)s) + 1})
	while (s < end) {
		unsigned c = *s;
		if (c == '\n') {
			line++;
			bol = (const char *)++s;
		} else if (c == '\r') {
			if (s + 1 == end || s[1] != '\n') {
				return cst_toml_fail(p, AT,
				    "carriage return not followed by newline");
			}
			s++;
		} else if (c == 0) {
			return cst_toml_fail(p, AT, "NUL character in text");
		} else if ((c < 0x20 && c != '\t') || c == 0x7F) {
			return cst_toml_fail(
			    p, AT, "control character U+%04X not allowed", c);
		} else if (c < 0x80) {
			s++;
		} else {
			size_t n = cst_toml_utf8_len(s, end);
			if (n == 0) {
				return cst_toml_fail(p, AT, "invalid UTF-8");
			}
			s += n;
		}
	}
#undef AT
	return 0;
}

// Moving through the text.

static void
skip_ws(parser *p)
{
	while (p->cur < p->end && (*p->cur == ' ' || *p->cur == '\t')) {
		p->cur++;
	}
}

static void
skip_comment(parser *p)
{
	if (p->cur < p->end && *p->cur == '#') {
		while (p->cur < p->end && *p->cur != '\n' && *p->cur != '\r') {
			p->cur++;
		}
	}
}

bool
cst_toml_at_newline(const parser *p)
{
	return p->cur < p->end && (*p->cur == '\n' || *p->cur == '\r');
}

void
cst_toml_eat_newline(parser *p)
{
	p->cur += *p->cur == '\r' ? 2 : 1; // check_text made CR a CRLF
	p->line++;
	p->bol = p->cur;
}

// skip_to moves to `to`, counting the newlines on the way.
void
cst_toml_skip_to(parser *p, const char *to)
{
	for (; p->cur < to; p->cur++) {
		if (*p->cur == '\n') {
			p->line++;
			p->bol = p->cur + 1;
		}
	}
}

// skip_space skips whitespace, newlines and comments (inside arrays).
static void
skip_space(parser *p)
{
	for (;;) {
		skip_ws(p);
		skip_comment(p);
		if (!cst_toml_at_newline(p)) {
			return;
		}
		cst_toml_eat_newline(p);
	}
}

// Values and tables.

cst_toml_value *
cst_toml_new_value(cst_toml_kind kind, pos at, unsigned flags)
{
	cst_toml_value *v = cst_calloc(sizeof(*v));
	if (v != NULL) {
		v->kind   = kind;
		v->line   = at.line;
		v->column = at.col;
		v->flags  = flags;
	}
	return v;
}

void
cst_toml_free(cst_toml_value *v)
{
	if (v == NULL) {
		return;
	}
	if (v->kind == CST_TOML_STRING) {
		cst_free_sized(v->as.str.ptr, v->as.str.len + 1);
	} else if (v->kind == CST_TOML_ARRAY) {
		for (size_t i = 0; i < v->as.array.len; i++) {
			cst_toml_free(v->as.array.item[i]);
		}
		cst_free_sized(v->as.array.item,
		    v->as.array.cap * sizeof(*v->as.array.item));
	} else if (v->kind == CST_TOML_TABLE) {
		for (size_t i = 0; i < v->as.table.len; i++) {
			cst_toml_entry *e = &v->as.table.entry[i];
			cst_free_sized(e->key, e->key_len + 1);
			cst_toml_free(e->value);
		}
		cst_free_sized(v->as.table.entry,
		    v->as.table.cap * sizeof(*v->as.table.entry));
		cst_free_sized(v->as.table.index,
		    v->as.table.index_cap * sizeof(*v->as.table.index));
	}
	cst_free_sized(v, sizeof(*v));
}

static size_t
hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

static cst_toml_entry *
table_find(const cst_toml_value *t, const char *key, size_t len)
{
	const cst_toml_entry *e;
	if (t->as.table.index != NULL) {
		size_t mask = t->as.table.index_cap - 1;
		for (size_t i                     = hash(key, len) & mask;
		     t->as.table.index[i] != 0; i = (i + 1) & mask) {
			e = &t->as.table.entry[t->as.table.index[i] - 1];
			if (e->key_len == len &&
			    memcmp(e->key, key, len) == 0) {
				return (cst_toml_entry *)e;
			}
		}
		return NULL;
	}
	for (size_t i = 0; i < t->as.table.len; i++) {
		e = &t->as.table.entry[i];
		if (e->key_len == len && memcmp(e->key, key, len) == 0) {
			return (cst_toml_entry *)e;
		}
	}
	return NULL;
}

static void
index_place(size_t *index, size_t cap, const cst_toml_entry *e, size_t n)
{
	size_t i = hash(e->key, e->key_len) & (cap - 1);
	while (index[i] != 0) {
		i = (i + 1) & (cap - 1);
	}
	index[i] = n + 1;
}

// table_add appends key k with value v. On success the table owns both
// (k->s becomes NULL); on failure the caller still does.
static int
table_add(cst_toml_value *t, keypart *k, cst_toml_value *v)
{
	size_t len = t->as.table.len;
	if (len == t->as.table.cap) {
		size_t          cap = len ? 2 * len : 4;
		cst_toml_entry *e   = cst_alloc(cap * sizeof(*e));
		if (e == NULL) {
			return -ENOMEM;
		}
		if (len > 0) { // memcpy may not see NULL, even for 0 bytes
			memcpy(e, t->as.table.entry, len * sizeof(*e));
		}
		cst_free_sized(t->as.table.entry, len * sizeof(*e));
		t->as.table.entry = e;
		t->as.table.cap   = cap;
	}
	// Small tables are scanned; past 8 keys a hash index keeps a hostile
	// file with many keys linear.
	if (len + 1 >= 8 && 2 * (len + 1) > t->as.table.index_cap) {
		size_t cap =
		    t->as.table.index_cap ? 2 * t->as.table.index_cap : 32;
		size_t *index = cst_calloc(cap * sizeof(*index));
		if (index == NULL) {
			return -ENOMEM;
		}
		for (size_t i = 0; i < len; i++) {
			index_place(index, cap, &t->as.table.entry[i], i);
		}
		cst_free_sized(
		    t->as.table.index, t->as.table.index_cap * sizeof(*index));
		t->as.table.index     = index;
		t->as.table.index_cap = cap;
	}
	t->as.table.entry[len] =
	    (cst_toml_entry){k->s, k->len, v, k->at.line, k->at.col};
	if (t->as.table.index != NULL) {
		index_place(t->as.table.index, t->as.table.index_cap,
		    &t->as.table.entry[len], len);
	}
	t->as.table.len = len + 1;
	k->s            = NULL;
	return 0;
}

// Adds a new, empty table or array of the given kind and flags under key
// k of t and returns it in *out; on out-of-memory records the error.
static int
add_container(parser *p, cst_toml_value *t, keypart *k, cst_toml_kind kind,
    pos at, unsigned flags, cst_toml_value **out)
{
	cst_toml_value *v = cst_toml_new_value(kind, at, flags);
	if (v == NULL || table_add(t, k, v) != 0) {
		cst_free_sized(v, sizeof(*v));
		return cst_toml_fail_oom(p);
	}
	*out = v;
	return 0;
}

static int
array_push(cst_toml_value *a, cst_toml_value *v)
{
	size_t len = a->as.array.len;
	if (len == a->as.array.cap) {
		size_t           cap  = len ? 2 * len : 4;
		cst_toml_value **item = cst_alloc(cap * sizeof(*item));
		if (item == NULL) {
			return -ENOMEM;
		}
		if (len > 0) {
			memcpy(item, a->as.array.item, len * sizeof(*item));
		}
		cst_free_sized(a->as.array.item, len * sizeof(*item));
		a->as.array.item = item;
		a->as.array.cap  = cap;
	}
	a->as.array.item[len] = v;
	a->as.array.len       = len + 1;
	return 0;
}

// Strings. Each is scanned twice by the same code: once to check it and
// measure it (out == NULL), once to copy it into an exact allocation.

static void
free_keys(keypart *k, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cst_free_sized(k[i].s, k[i].len + 1);
		k[i].s = NULL;
	}
}

static int
parse_simple_key(parser *p, keypart *k)
{
	k->at = cst_toml_here(p);
	if (p->cur < p->end && (*p->cur == '"' || *p->cur == '\'')) {
		return cst_toml_parse_string(p, false, &k->s, &k->len);
	}
	const char *s = p->cur;
	while (p->cur < p->end && cst_toml_is_bare(*p->cur)) {
		p->cur++;
	}
	if (p->cur == s) {
		return cst_toml_fail(p, k->at, "expected a key");
	}
	k->len = (size_t)(p->cur - s);
	k->s   = cst_alloc(k->len + 1);
	if (k->s == NULL) {
		return cst_toml_fail_oom(p);
	}
	memcpy(k->s, s, k->len);
	k->s[k->len] = '\0';
	return 0;
}

// parse_key parses a dotted key into k[0..*n) and the whitespace after it.
// The caller frees the parts with free_keys, also on failure.
static int
parse_key(parser *p, keypart *k, size_t *n)
{
	*n = 0;
	for (;;) {
		if (*n == CST_TOML_MAX_DEPTH) {
			return cst_toml_fail(p, cst_toml_here(p),
			    "nesting too deep (more than %d levels)",
			    CST_TOML_MAX_DEPTH);
		}
		int rc = parse_simple_key(p, &k[*n]);
		if (rc != 0) {
			return rc;
		}
		(*n)++;
		skip_ws(p);
		if (p->cur == p->end || *p->cur != '.') {
			return 0;
		}
		p->cur++;
		skip_ws(p);
	}
}

static int
too_deep(parser *p, pos at)
{
	return cst_toml_fail(p, at, "nesting too deep (more than %d levels)",
	    CST_TOML_MAX_DEPTH);
}

// not_a_table reports why the value under key k cannot be used as a table.
static int
not_a_table(parser *p, const keypart *k, const cst_toml_value *v)
{
	int n = k->len > 64 ? 64 : (int)k->len;
	if (v->kind == CST_TOML_TABLE && (v->flags & T_INLINE)) {
		return cst_toml_fail(
		    p, k->at, "cannot extend inline table '%.*s'", n, k->s);
	}
	if (v->kind == CST_TOML_TABLE) {
		return cst_toml_fail(p, k->at,
		    "cannot add to table '%.*s' with dotted keys: it was "
		    "defined by a [header]",
		    n, k->s);
	}
	if (v->kind == CST_TOML_ARRAY && (v->flags & T_AOT)) {
		return cst_toml_fail(p, k->at,
		    "key '%.*s' is an array of tables, not a table", n, k->s);
	}
	return cst_toml_fail(p, k->at, "key '%.*s' is already a %s, not a table", n,
	    k->s, cst_toml_kind_name(v->kind));
}

// parse_keyval parses `key = value` into table t, which is at depth.
// Dotted keys may only walk through tables that dotted keys created, and
// never into an inline table.
static int
parse_keyval(parser *p, cst_toml_value *t, unsigned depth)
{
	keypart k[CST_TOML_MAX_DEPTH];
	size_t  n = 0, saved = p->path_len;
	int     rc = parse_key(p, k, &n);
	if (rc != 0) {
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		path_push(p, &k[i]);
	}
	if (p->cur == p->end || *p->cur != '=') {
		rc = cst_toml_fail(p, cst_toml_here(p), "expected '=' after key");
		goto out;
	}
	path_pop(p, saved);
	p->cur++;
	skip_ws(p);
	for (size_t i = 0; i + 1 < n; i++) {
		path_push(p, &k[i]);
		if (depth + i + 1 > CST_TOML_MAX_DEPTH) {
			rc = too_deep(p, k[i].at);
			goto out;
		}
		cst_toml_entry *e = table_find(t, k[i].s, k[i].len);
		if (e == NULL) {
			rc = add_container(p, t, &k[i], CST_TOML_TABLE, k[i].at,
			    T_DOTTED, &t);
			if (rc != 0) {
				goto out;
			}
			continue;
		}
		cst_toml_value *v = e->value;
		if (v->kind != CST_TOML_TABLE ||
		    (v->flags & (T_INLINE | T_DOTTED)) != T_DOTTED) {
			rc = not_a_table(p, &k[i], v);
			goto out;
		}
		t = v;
	}
	keypart *last = &k[n - 1];
	path_push(p, last);
	if (table_find(t, last->s, last->len) != NULL) {
		rc = cst_toml_fail(p, last->at, "duplicate key '%.*s'",
		    last->len > 64 ? 64 : (int)last->len, last->s);
		goto out;
	}
	cst_toml_value *v;
	rc = parse_value(p, depth + (unsigned)n, &v);
	if (rc != 0) {
		goto out;
	}
	if (table_add(t, last, v) != 0) {
		cst_toml_free(v);
		rc = cst_toml_fail_oom(p);
	}
out:
	free_keys(k, n);
	path_pop(p, saved);
	return rc;
}

// Table headers.

static int
header_last(parser *p, cst_toml_value *t, keypart *k, bool aot, pos at,
    unsigned *depth, cst_toml_value **out)
{
	cst_toml_entry *e = table_find(t, k->s, k->len);
	cst_toml_value *v = e != NULL ? e->value : NULL;
	if (!aot && v == NULL) {
		return add_container(p, t, k, CST_TOML_TABLE, at, T_DEFINED, out);
	}
	if (!aot) {
		if (v->kind == CST_TOML_TABLE && v->flags == T_IMPLICIT) {
			// [a.b] then [a]: a is defined here, once.
			v->flags  = T_DEFINED;
			e->line   = k->at.line;
			e->column = k->at.col;
			v->line   = at.line;
			v->column = at.col;
			*out      = v;
			return 0;
		}
		if (v->kind == CST_TOML_TABLE && !(v->flags & T_INLINE)) {
			return cst_toml_fail(p, at, "table '%s' defined twice", p->path);
		}
		return not_a_table(p, k, v);
	}
	if (v == NULL) {
		int rc = add_container(p, t, k, CST_TOML_ARRAY, at, T_AOT, &v);
		if (rc != 0) {
			return rc;
		}
	} else if (v->kind != CST_TOML_ARRAY || !(v->flags & T_AOT)) {
		return cst_toml_fail(p, at,
		    "cannot append to '%s': it is not an array of tables",
		    p->path);
	}
	if (++*depth > CST_TOML_MAX_DEPTH) {
		return too_deep(p, at);
	}
	cst_toml_value *nt = cst_toml_new_value(CST_TOML_TABLE, at, T_DEFINED);
	if (nt == NULL || array_push(v, nt) != 0) {
		cst_free_sized(nt, sizeof(*nt));
		return cst_toml_fail_oom(p);
	}
	*out = nt;
	return 0;
}

// parse_header parses [a.b] or [[a.b]] and makes that table current.
// On the way, a header may walk through any table that is not inline
// (into the last element of an array of tables) and creates the missing
// ones as implicit; see header_last for the table it names.
static int
parse_header(parser *p)
{
	pos             at  = cst_toml_here(p);
	bool            aot = p->end - p->cur >= 2 && p->cur[1] == '[';
	keypart         k[CST_TOML_MAX_DEPTH];
	size_t          n     = 0;
	unsigned        depth = 0;
	cst_toml_value *t     = p->root;
	p->cur += aot ? 2 : 1;
	path_pop(p, 0);
	skip_ws(p);
	int rc = parse_key(p, k, &n);
	if (rc != 0) {
		goto out;
	}
	if (p->cur == p->end || *p->cur != ']' ||
	    (aot && (p->end - p->cur < 2 || p->cur[1] != ']'))) {
		rc = cst_toml_fail(p, cst_toml_here(p),
		    aot ? "expected ']]' after table name"
		        : "expected ']' after table name");
		goto out;
	}
	p->cur += aot ? 2 : 1;
	for (size_t i = 0; i < n; i++) {
		path_push(p, &k[i]);
		if (++depth > CST_TOML_MAX_DEPTH) {
			rc = too_deep(p, k[i].at);
			goto out;
		}
		if (i + 1 == n) {
			rc = header_last(p, t, &k[i], aot, at, &depth, &t);
			goto out;
		}
		cst_toml_entry *e = table_find(t, k[i].s, k[i].len);
		if (e == NULL) {
			rc = add_container(p, t, &k[i], CST_TOML_TABLE, k[i].at,
			    T_IMPLICIT, &t);
			if (rc != 0) {
				goto out;
			}
			continue;
		}
		cst_toml_value *v = e->value;
		if (v->kind == CST_TOML_ARRAY && (v->flags & T_AOT)) {
			if (++depth > CST_TOML_MAX_DEPTH) {
				rc = too_deep(p, k[i].at);
				goto out;
			}
			t = v->as.array.item[v->as.array.len - 1];
		} else if (v->kind == CST_TOML_TABLE &&
		           !(v->flags & T_INLINE)) {
			t = v;
		} else {
			rc = not_a_table(p, &k[i], v);
			goto out;
		}
	}
out:
	free_keys(k, n);
	if (rc == 0) {
		p->table       = t;
		p->table_depth = depth;
	}
	return rc;
}

// Numbers, booleans and the dates we refuse.

static int
parse_array(parser *p, pos open, unsigned depth, cst_toml_value *a)
{
	p->cur++; // '['
	for (;;) {
		skip_space(p);
		if (p->cur == p->end) {
			return cst_toml_fail(p, open, "unterminated array");
		}
		if (*p->cur == ']') {
			p->cur++;
			return 0;
		}
		cst_toml_value *item;
		int             rc = parse_value(p, depth + 1, &item);
		if (rc != 0) {
			return rc;
		}
		if (array_push(a, item) != 0) {
			cst_toml_free(item);
			return cst_toml_fail_oom(p);
		}
		skip_space(p);
		if (p->cur == p->end) {
			return cst_toml_fail(p, open, "unterminated array");
		}
		if (*p->cur == ']') {
			p->cur++;
			return 0;
		}
		if (*p->cur != ',') {
			return cst_toml_fail(p, cst_toml_here(p), "expected ',' or ']' in array");
		}
		p->cur++;
	}
}

static int
parse_inline(parser *p, pos open, unsigned depth, cst_toml_value *t)
{
	p->cur++; // '{'
	skip_ws(p);
	if (p->cur < p->end && *p->cur == '}') {
		p->cur++;
		t->flags = T_INLINE;
		return 0;
	}
	for (;;) {
		skip_ws(p);
		if (cst_toml_at_newline(p)) {
			return cst_toml_fail(
			    p, cst_toml_here(p), "newline not allowed in inline table");
		}
		int rc = parse_keyval(p, t, depth);
		if (rc != 0) {
			return rc;
		}
		skip_ws(p);
		if (p->cur == p->end) {
			return cst_toml_fail(p, open, "unterminated inline table");
		}
		if (cst_toml_at_newline(p) || *p->cur == '#') {
			return cst_toml_fail(
			    p, cst_toml_here(p), "newline not allowed in inline table");
		}
		if (*p->cur == '}') {
			p->cur++;
			t->flags = T_INLINE;
			return 0;
		}
		if (*p->cur != ',') {
			return cst_toml_fail(
			    p, cst_toml_here(p), "expected ',' or '}' in inline table");
		}
		p->cur++;
		skip_ws(p);
		if (p->cur < p->end && *p->cur == '}') {
			return cst_toml_fail(p, cst_toml_here(p),
			    "trailing comma not allowed in inline table");
		}
	}
}

// parse_value parses the value at p->cur, which will sit at depth.
static int
parse_value(parser *p, unsigned depth, cst_toml_value **out)
{
	pos at = cst_toml_here(p);
	if (p->cur == p->end || cst_toml_at_newline(p)) {
		return cst_toml_fail(p, at, "expected a value");
	}
	char c = *p->cur;
	if (c == '"' || c == '\'') {
		cst_toml_value *v = cst_toml_new_value(CST_TOML_STRING, at, 0);
		if (v == NULL) {
			return cst_toml_fail_oom(p);
		}
		int rc = cst_toml_parse_string(p, true, &v->as.str.ptr, &v->as.str.len);
		if (rc != 0) {
			cst_free_sized(v, sizeof(*v));
			return rc;
		}
		*out = v;
		return 0;
	}
	if (c != '[' && c != '{') {
		return cst_toml_parse_scalar(p, at, out);
	}
	if (depth > CST_TOML_MAX_DEPTH) {
		return too_deep(p, at);
	}
	cst_toml_value *v =
	    cst_toml_new_value(c == '[' ? CST_TOML_ARRAY : CST_TOML_TABLE, at, 0);
	if (v == NULL) {
		return cst_toml_fail_oom(p);
	}
	int rc = c == '[' ? parse_array(p, at, depth, v)
	                  : parse_inline(p, at, depth, v);
	if (rc != 0) {
		cst_toml_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

static int
parse_document(parser *p)
{
	while (p->cur < p->end) {
		skip_ws(p);
		skip_comment(p);
		if (p->cur == p->end) {
			break;
		}
		bool header = false;
		if (!cst_toml_at_newline(p)) {
			int rc;
			header = *p->cur == '[';
			if (header) {
				rc = parse_header(p);
			} else {
				rc = parse_keyval(p, p->table, p->table_depth);
			}
			if (rc != 0) {
				return rc;
			}
			skip_ws(p);
			skip_comment(p);
			if (p->cur == p->end) {
				break;
			}
			if (!cst_toml_at_newline(p)) {
				return cst_toml_fail(p, cst_toml_here(p),
				    header ? "expected newline after table "
				             "header"
				           : "expected newline after value");
			}
		}
		cst_toml_eat_newline(p);
	}
	return 0;
}

int
cst_toml_parse(const char *text, size_t len, const char *filename,
    cst_toml_value **out, cst_toml_error *err)
{
	if (text == NULL) {
		if (len > 0) {
			return -EINVAL;
		}
		text = "";
	}
	parser p = {
	    .cur      = text,
	    .end      = text + len,
	    .bol      = text,
	    .line     = 1,
	    .col_at   = text,
	    .col      = 1,
	    .filename = filename,
	    .err      = err,
	};
	if (len > MAX_SIZE) {
		return cst_toml_fail(
		    &p, (pos){1, 1}, "file larger than %zu bytes", MAX_SIZE);
	}
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		p.cur += 3; // a byte order mark
		p.bol = p.col_at = p.cur;
	}
	int rc = check_text(&p);
	if (rc != 0) {
		return rc;
	}
	p.root = cst_toml_new_value(CST_TOML_TABLE, (pos){1, 1}, T_DEFINED);
	if (p.root == NULL) {
		return cst_toml_fail_oom(&p);
	}
	p.table = p.root;
	rc      = parse_document(&p);
	if (rc != 0) {
		cst_toml_free(p.root);
		return rc;
	}
	*out = p.root;
	return 0;
}

// Reading the tree.

const char *
cst_toml_kind_name(cst_toml_kind kind)
{
	switch (kind) {
	case CST_TOML_STRING:
		return "string";
	case CST_TOML_INTEGER:
		return "integer";
	case CST_TOML_FLOAT:
		return "float";
	case CST_TOML_BOOLEAN:
		return "boolean";
	case CST_TOML_ARRAY:
		return "array";
	case CST_TOML_TABLE:
		return "table";
	}
	return "unknown";
}

const cst_toml_value *
cst_toml_table_get(const cst_toml_value *table, const char *key)
{
	if (table == NULL || table->kind != CST_TOML_TABLE) {
		return NULL;
	}
	const cst_toml_entry *e = table_find(table, key, strlen(key));
	return e != NULL ? e->value : NULL;
}

size_t
cst_toml_table_len(const cst_toml_value *table)
{
	if (table == NULL || table->kind != CST_TOML_TABLE) {
		return 0;
	}
	return table->as.table.len;
}

const cst_toml_entry *
cst_toml_table_entry(const cst_toml_value *table, size_t i)
{
	if (i >= cst_toml_table_len(table)) {
		return NULL;
	}
	return &table->as.table.entry[i];
}

size_t
cst_toml_array_len(const cst_toml_value *array)
{
	if (array == NULL || array->kind != CST_TOML_ARRAY) {
		return 0;
	}
	return array->as.array.len;
}

const cst_toml_value *
cst_toml_array_get(const cst_toml_value *array, size_t i)
{
	if (i >= cst_toml_array_len(array)) {
		return NULL;
	}
	return array->as.array.item[i];
}
