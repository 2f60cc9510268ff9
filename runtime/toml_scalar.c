// runtime/toml_scalar.c: the scalars of runtime/toml.c: basic and literal
// strings, single- and multi-line, with their escapes (decoded to UTF-8,
// \u0000 refused so every string is a safe C string), integers in four
// bases with the spec's underscore and leading-zero rules and overflow
// checks, floats (converted in the C locale), booleans; dates and times
// are refused with a clear message. Every read checks the end of the
// buffer.
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/alloc.h"
#include "runtime/toml_parse.h"

static size_t
utf8_put(char *out, uint32_t cp)
{
	char   b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12), n = 3;
	} else {
		b[0] = (char)(0xF0 | cp >> 18), n = 4;
	}
	for (size_t i = 1; i < n; i++) {
		b[i] = (char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3F));
	}
	if (out != NULL) {
		memcpy(out, b, n);
	}
	return n;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

#define PUT(c)                                                                 \
	do {                                                                   \
		if (out != NULL) {                                             \
			out[len] = (c);                                        \
		}                                                              \
		len++;                                                         \
	} while (0)

// closing_quotes handles a run of quotes q in a multi-line string: up to
// two quotes may stand just before the closing three. It returns the
// length of the run when it closes the string, 0 when it does not, or
// SIZE_MAX for too many quotes.
static size_t
closing_quotes(const parser *p, const char *s, char q)
{
	size_t n = 0;
	while (s + n < p->end && s[n] == q && n < 6) {
		n++;
	}
	if (n < 3) {
		return 0;
	}
	return n > 5 ? SIZE_MAX : n;
}

static int
scan_escape(parser *p, const char **sp, char *out, size_t *lenp, bool multi)
{
	const char *esc = *sp, *s = esc + 1;
	size_t      len = *lenp;
	if (s == p->end) {
		return cst_toml_fail(p, cst_toml_pos_at(p, esc), "unterminated string");
	}
	char c = *s++;
	switch (c) {
	case 'b':
		PUT('\b');
		break;
	case 't':
		PUT('\t');
		break;
	case 'n':
		PUT('\n');
		break;
	case 'f':
		PUT('\f');
		break;
	case 'r':
		PUT('\r');
		break;
	case '"':
		PUT('"');
		break;
	case '\\':
		PUT('\\');
		break;
	case 'u':
	case 'U': {
		int      n  = c == 'u' ? 4 : 8;
		uint32_t cp = 0;
		for (int i = 0; i < n; i++) {
			int d = s + i < p->end ? hex_value(s[i]) : -1;
			if (d < 0) {
				return cst_toml_fail(p, cst_toml_pos_at(p, esc),
				    "invalid unicode escape \\%c", c);
			}
			cp = cp << 4 | (uint32_t)d;
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
			return cst_toml_fail(p, cst_toml_pos_at(p, esc),
			    "invalid unicode escape \\%c%.*s: not a scalar "
			    "value",
			    c, n, s);
		}
		if (cp == 0) {
			return cst_toml_fail(p, cst_toml_pos_at(p, esc),
			    "NUL character (\\%c%.*s) not allowed in strings",
			    c, n, s);
		}
		len += utf8_put(out != NULL ? out + len : NULL, cp);
		s += n;
		break;
	}
	default:
		if (multi &&
		    (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
			// A line-ending backslash eats the newline and all
			// whitespace up to the next visible character.
			const char *t = s - 1;
			while (t < p->end && (*t == ' ' || *t == '\t')) {
				t++;
			}
			if (t == p->end || (*t != '\n' && *t != '\r')) {
				return cst_toml_fail(p, cst_toml_pos_at(p, esc),
				    "invalid escape: only whitespace may "
				    "follow "
				    "a line-ending backslash");
			}
			while (t < p->end && (*t == ' ' || *t == '\t' ||
			                         *t == '\n' || *t == '\r')) {
				t++;
			}
			s = t;
			break;
		}
		// Show the whole character, which may be several bytes.
		size_t n = 1;
		if ((unsigned char)c >= 0x80) {
			n = cst_toml_utf8_len((const unsigned char *)s - 1,
			    (const unsigned char *)p->end);
		}
		return cst_toml_fail(
		    p, cst_toml_pos_at(p, esc), "invalid escape \\%.*s", (int)n, s - 1);
	}
	*sp   = s;
	*lenp = len;
	return 0;
}

// scan_string reads the body of a string from p->cur (past the opening
// quotes) and sets *after past the closing ones.
static int
scan_string(parser *p, pos open, char q, bool multi, char *out, size_t *lenp,
    const char **after)
{
	const char *s   = p->cur;
	size_t      len = 0;
	for (;;) {
		if (s == p->end) {
			return cst_toml_fail(p, open, "unterminated string");
		}
		char c = *s;
		if (c == q && !multi) {
			*after = s + 1;
			break;
		}
		if (c == q) {
			size_t n = closing_quotes(p, s, q);
			if (n == SIZE_MAX) {
				return cst_toml_fail(p, cst_toml_pos_at(p, s),
				    "too many quotes at the end of a "
				    "multi-line "
				    "string");
			}
			if (n != 0) {
				for (size_t i = 3; i < n; i++) {
					PUT(q);
				}
				*after = s + n;
				break;
			}
			PUT(c);
			s++;
		} else if (c == '\n' || c == '\r') {
			if (!multi) {
				return cst_toml_fail(p, open, "unterminated string");
			}
			if (c == '\n') { // CRLF is kept as LF
				PUT('\n');
			}
			s++;
		} else if (c == '\\' && q == '"') {
			size_t n  = len;
			int    rc = scan_escape(p, &s, out, &n, multi);
			if (rc != 0) {
				return rc;
			}
			len = n;
		} else {
			PUT(c);
			s++;
		}
	}
	*lenp = len;
	return 0;
}

#undef PUT

// parse_string parses a string at p->cur ('"' or '\'') into *sp, *lenp.
int
cst_toml_parse_string(parser *p, bool allow_multi, char **sp, size_t *lenp)
{
	pos    open  = cst_toml_here(p);
	char   q     = *p->cur;
	bool   multi = p->end - p->cur >= 3 && p->cur[1] == q && p->cur[2] == q;
	size_t len;
	const char *after;
	if (multi && !allow_multi) {
		return cst_toml_fail(p, open, "a key cannot be a multi-line string");
	}
	p->cur += multi ? 3 : 1;
	if (multi && cst_toml_at_newline(p)) { // the newline after """ is trimmed
		cst_toml_eat_newline(p);
	}
	int rc = scan_string(p, open, q, multi, NULL, &len, &after);
	if (rc != 0) {
		return rc;
	}
	char *s = cst_alloc(len + 1);
	if (s == NULL) {
		return cst_toml_fail_oom(p);
	}
	scan_string(p, open, q, multi, s, &len, &after);
	s[len] = '\0';
	cst_toml_skip_to(p, after);
	*sp   = s;
	*lenp = len;
	return 0;
}

// Keys.

static bool
is_token(char c)
{
	return cst_toml_is_bare(c) || c == '+' || c == '.' || c == ':';
}

static int
digit_value(char c)
{
	int d = hex_value(c);
	return d < 0 ? 99 : d;
}

// check_digits checks digits of base in [s, e), with single underscores
// between digits. It returns NULL or what is wrong.
static const char *
check_digits(const char *s, const char *e, int base)
{
	bool prev_digit = false;
	if (s == e) {
		return "invalid number";
	}
	for (; s < e; s++) {
		if (*s == '_') {
			if (!prev_digit || s + 1 == e) {
				return "underscores must be between digits";
			}
			prev_digit = false;
		} else if (digit_value(*s) >= base) {
			return "invalid number";
		} else {
			prev_digit = true;
		}
	}
	return NULL;
}

static int
parse_integer(parser *p, pos at, const char *s, const char *e, int64_t *out)
{
	bool neg = *s == '-', sign = *s == '+' || *s == '-';
	int  base = 10;
	s += sign;
	if (e - s >= 2 && s[0] == '0' &&
	    (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
		base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
		if (sign) {
			return cst_toml_fail(p, at,
			    "a sign is not allowed on hex, octal or binary "
			    "integers");
		}
		s += 2;
	}
	const char *why = check_digits(s, e, base);
	if (why != NULL) {
		return cst_toml_fail(p, at, "%s", why);
	}
	if (base == 10 && *s == '0' && e - s > 1) {
		return cst_toml_fail(p, at, "leading zeros are not allowed");
	}
	uint64_t mag = 0;
	for (; s < e; s++) {
		if (*s == '_') {
			continue;
		}
		uint64_t d = (uint64_t)digit_value(*s);
		if (mag > (UINT64_MAX - d) / (uint64_t)base) {
			return cst_toml_fail(p, at, "integer overflow");
		}
		mag = mag * (uint64_t)base + d;
	}
	if (mag > (uint64_t)INT64_MAX + (neg ? 1 : 0)) {
		return cst_toml_fail(p, at, "integer overflow");
	}
	*out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return 0;
}

static int
parse_float(parser *p, pos at, const char *s, const char *e, double *out)
{
	const char *t = s, *why;
	if (*t == '+' || *t == '-') {
		t++;
	}
	if (e - t == 3 &&
	    (memcmp(t, "inf", 3) == 0 || memcmp(t, "nan", 3) == 0)) {
		double v = *t == 'i' ? INFINITY : NAN;
		*out     = *s == '-' ? -v : v;
		return 0;
	}
	const char *ip = t;
	while (t < e && *t != '.' && *t != 'e' && *t != 'E') {
		t++;
	}
	if ((why = check_digits(ip, t, 10)) != NULL) {
		return cst_toml_fail(p, at, "%s", why);
	}
	if (*ip == '0' && t - ip > 1) {
		return cst_toml_fail(p, at, "leading zeros are not allowed");
	}
	if (t < e && *t == '.') {
		const char *fp = ++t;
		while (t < e && *t != 'e' && *t != 'E') {
			t++;
		}
		if ((why = check_digits(fp, t, 10)) != NULL) {
			return cst_toml_fail(p, at, "%s", why);
		}
	}
	if (t < e) { // an exponent
		t++;
		if (t < e && (*t == '+' || *t == '-')) {
			t++;
		}
		if ((why = check_digits(t, e, 10)) != NULL) {
			return cst_toml_fail(p, at, "%s", why);
		}
	}
	// The text is checked; strtod gets it without underscores, in the
	// C locale whatever the process's locale is.
	size_t n = (size_t)(e - s), j = 0;
	char  *buf = cst_alloc(n + 1);
	if (buf == NULL) {
		return cst_toml_fail_oom(p);
	}
	for (const char *c = s; c < e; c++) {
		if (*c != '_') {
			buf[j++] = *c;
		}
	}
	buf[j]            = '\0';
	locale_t c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0) {
		cst_free_sized(buf, n + 1);
		return cst_toml_fail_oom(p);
	}
	*out = strtod_l(buf, NULL, c_locale);
	freelocale(c_locale);
	cst_free_sized(buf, n + 1);
	if (isinf(*out)) {
		return cst_toml_fail(p, at, "float out of range");
	}
	return 0;
}

static bool
looks_like_date(const char *s, size_t n)
{
	if (memchr(s, ':', n) != NULL) {
		return true;
	}
	if (n < 5 || s[4] != '-') {
		return false;
	}
	for (int i = 0; i < 4; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
	}
	return true;
}

int
cst_toml_parse_scalar(parser *p, pos at, cst_toml_value **out)
{
	const char *s = p->cur, *e = s;
	while (e < p->end && is_token(*e)) {
		e++;
	}
	size_t n     = (size_t)(e - s);
	int    shown = n > 40 ? 40 : (int)n;
	if (n == 0) {
		return cst_toml_fail(p, at, "expected a value");
	}
	if (looks_like_date(s, n)) {
		return cst_toml_fail(p, at, "dates and times are not supported");
	}
	cst_toml_value *v = cst_toml_new_value(CST_TOML_BOOLEAN, at, 0);
	if (v == NULL) {
		return cst_toml_fail_oom(p);
	}
	const char *t     = s + (*s == '+' || *s == '-');
	bool        radix = e - t >= 2 && t[0] == '0' &&
	             (t[1] == 'x' || t[1] == 'o' || t[1] == 'b');
	int rc = 0;
	if (n == 4 && memcmp(s, "true", 4) == 0) {
		v->as.boolean = true;
	} else if (n == 5 && memcmp(s, "false", 5) == 0) {
		v->as.boolean = false;
	} else if (e - t == 3 &&
	           (memcmp(t, "inf", 3) == 0 || memcmp(t, "nan", 3) == 0)) {
		v->kind = CST_TOML_FLOAT;
		rc      = parse_float(p, at, s, e, &v->as.fp);
	} else if (t == e || !((*t >= '0' && *t <= '9') || *t == '.')) {
		rc = cst_toml_fail(p, at, "expected a value, found '%.*s'", shown, s);
	} else if (!radix &&
	           (memchr(s, '.', n) != NULL || memchr(s, 'e', n) != NULL ||
	               memchr(s, 'E', n) != NULL)) {
		v->kind = CST_TOML_FLOAT;
		rc      = parse_float(p, at, s, e, &v->as.fp);
	} else {
		v->kind = CST_TOML_INTEGER;
		rc      = parse_integer(p, at, s, e, &v->as.integer);
	}
	if (rc != 0) {
		cst_free_sized(v, sizeof(*v));
		return rc;
	}
	p->cur = e;
	*out   = v;
	return 0;
}

// Arrays and inline tables.
