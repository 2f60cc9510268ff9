// runtime/toml_parse.h: what runtime/toml.c (documents, keys, tables,
// arrays) and runtime/toml_scalar.c (strings and numbers) share: the
// parser's state and the helpers both use. Internal to those two files.
#ifndef CASTY_RUNTIME_TOML_PARSE_H
#define CASTY_RUNTIME_TOML_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/toml.h"

// A config file is small; the bound keeps line and column counts in range.
#define MAX_SIZE ((size_t)16 << 20)

enum {
	T_INLINE   = 1,  // an inline table: nothing may be added later
	T_DEFINED  = 2,  // a [header] defined it
	T_IMPLICIT = 4,  // a [header] created it on the way to a sub-table
	T_DOTTED   = 8,  // dotted keys created it
	T_AOT      = 16, // an array of tables, appended to by [[header]]
};

typedef struct pos {
	unsigned line;
	unsigned col;
} pos;

typedef struct keypart {
	char  *s; // owned until a table takes it (then NULL)
	size_t len;
	pos    at;
} keypart;

typedef struct parser {
	const char     *cur;
	const char     *end;
	const char     *bol; // beginning of the current line
	unsigned        line;
	const char     *col_at; // cst_toml_here() caches the column of col_at
	unsigned        col;
	cst_toml_value *root;
	cst_toml_value *table; // where key/value lines go
	unsigned        table_depth;
	char            path[256]; // dotted key being parsed, for errors
	size_t          path_len;
	const char     *filename;
	cst_toml_error *err;
} parser;

/** cst_toml_fail records an error at `at` (file, line, column, key path, message) and returns -EINVAL. */
int cst_toml_fail(parser *p, pos at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** cst_toml_fail_oom records an out-of-memory error and returns -ENOMEM. */
int cst_toml_fail_oom(parser *p);

/** cst_toml_here returns the position of the parser's cursor. */
pos cst_toml_here(parser *p);

/** cst_toml_pos_at returns the position of `at`, a pointer into the current line. */
pos cst_toml_pos_at(const parser *p, const char *at);

/** cst_toml_utf8_len returns the length of the valid UTF-8 sequence at s, or 0. */
size_t cst_toml_utf8_len(const unsigned char *s, const unsigned char *end);

/** cst_toml_skip_to moves the cursor to `to`, counting the lines it crosses. */
void cst_toml_skip_to(parser *p, const char *to);

/** cst_toml_eat_newline consumes one newline (LF or CRLF) at the cursor. */
void cst_toml_eat_newline(parser *p);

/** cst_toml_at_newline tells whether the cursor is at a newline. */
bool cst_toml_at_newline(const parser *p);

/** cst_toml_is_bare tells whether c may appear in a bare key. */
bool cst_toml_is_bare(char c);

/** cst_toml_new_value allocates a value of the given kind, or returns NULL. */
cst_toml_value * cst_toml_new_value(cst_toml_kind kind, pos at, unsigned flags);

/** cst_toml_parse_string parses a string at the cursor into a new NUL-terminated *sp (multi-line only when allow_multi). */
int cst_toml_parse_string(parser *p, bool allow_multi, char **sp, size_t *lenp);

/** cst_toml_parse_scalar parses a string, number, boolean (or rejects a date) at the cursor. */
int cst_toml_parse_scalar(parser *p, pos at, cst_toml_value **out);

#endif // CASTY_RUNTIME_TOML_PARSE_H
