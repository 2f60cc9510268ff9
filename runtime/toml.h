// runtime/toml.h: a strict TOML 1.0 parser for casty.toml. Debian 12 ships
// no C TOML library, so we carry our own: it builds a small read-only tree
// that keeps keys in file order (the first matching [actors.*] pattern
// wins) and remembers where each key was written, so the configuration
// loader can say "casty.toml:12:1: actors.orders.mailbox.capcity: unknown
// key". Dates and times are rejected: the configuration does not use them.
#ifndef CASTY_RUNTIME_TOML_H
#define CASTY_RUNTIME_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** cst_toml_kind is the type of a value. */
typedef enum cst_toml_kind {
	CST_TOML_STRING,
	CST_TOML_INTEGER,
	CST_TOML_FLOAT,
	CST_TOML_BOOLEAN,
	CST_TOML_ARRAY,
	CST_TOML_TABLE,
} cst_toml_kind;

typedef struct cst_toml_value cst_toml_value;

/** cst_toml_entry is one key of a table and the value under it. */
typedef struct cst_toml_entry {
	char           *key;     // NUL-terminated; never holds a NUL itself
	size_t          key_len; // strlen(key)
	cst_toml_value *value;
	unsigned        line;   // where the key was written (1-based)
	unsigned        column; // in characters (1-based)
} cst_toml_entry;

/**
 * cst_toml_value is a node of the tree. Read kind, then the matching member
 * of as; strings are NUL-terminated and never hold a NUL (\u0000 is
 * rejected). Tables and arrays are read through the functions below.
 */
struct cst_toml_value {
	cst_toml_kind kind;
	unsigned      line;   // where the value (or its [header]) starts
	unsigned      column; // 1-based, in characters
	unsigned      flags;  // the parser's bookkeeping; do not read
	union {
		struct {
			char  *ptr;
			size_t len;
		} str;
		int64_t integer;
		double  fp;
		bool    boolean;
		struct {
			cst_toml_value **item;
			size_t           len;
			size_t           cap;
		} array;
		struct {
			cst_toml_entry *entry; // in file order
			size_t          len;
			size_t          cap;
			size_t *index; // hash of entry numbers + 1, or NULL
			size_t  index_cap;
		} table;
	} as;
};

/** CST_TOML_MAX_DEPTH bounds the nesting of tables and arrays. */
#define CST_TOML_MAX_DEPTH 64

/**
 * cst_toml_error says where parsing stopped and why. filename is the
 * caller's pointer, copied as it is; path is the dotted key being parsed
 * when it is known ("actors.orders.mailbox"), otherwise "".
 */
typedef struct cst_toml_error {
	const char *filename;
	unsigned    line;   // 1-based
	unsigned    column; // 1-based, in characters
	char        path[256];
	char        message[160];
} cst_toml_error;

/**
 * cst_toml_parse parses len bytes of text (which need not end in a NUL) as
 * TOML 1.0 and stores the root table in *out. On failure it returns
 * -EINVAL for text that is not valid TOML (or uses dates and times) and
 * -ENOMEM when memory runs out, fills *err if err is not NULL, leaves *out
 * untouched and frees everything it built. The caller owns *out and frees
 * it with cst_toml_free. Thread: any.
 */
int cst_toml_parse(const char *text, size_t len, const char *filename,
    cst_toml_value **out, cst_toml_error *err);

/** cst_toml_free frees v and everything under it (NULL is a no-op). */
void cst_toml_free(cst_toml_value *v);

/** cst_toml_kind_name returns "string", "integer", ... for messages. */
const char *cst_toml_kind_name(cst_toml_kind kind);

/**
 * cst_toml_table_get returns the value under key in table, or NULL when
 * the key is missing or table is not a table.
 */
const cst_toml_value *cst_toml_table_get(
    const cst_toml_value *table, const char *key);

/** cst_toml_table_len returns the number of keys (0 for a non-table). */
size_t cst_toml_table_len(const cst_toml_value *table);

/**
 * cst_toml_table_entry returns the i-th key of table in file order, or
 * NULL past the end. Iterate with i from 0 to cst_toml_table_len - 1.
 */
const cst_toml_entry *cst_toml_table_entry(
    const cst_toml_value *table, size_t i);

/** cst_toml_array_len returns the number of items (0 for a non-array). */
size_t cst_toml_array_len(const cst_toml_value *array);

/** cst_toml_array_get returns item i of array, or NULL past the end. */
const cst_toml_value *cst_toml_array_get(const cst_toml_value *array, size_t i);

#endif // CASTY_RUNTIME_TOML_H
