// runtime/msg_format.c: printing a message through its schema, for dead
// letters, unhandled messages and logs: "Deposit{amount=100}".
#include <casty/casty.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/field.h"

// Appends like snprintf but keeps counting past the end, so the caller
// learns the full length.
typedef struct out {
	char  *buf;
	size_t size, len;
} out;

static void
put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(out *o, const char *fmt, ...)
{
	va_list ap;
	size_t  room = o->len < o->size ? o->size - o->len : 0;

	va_start(ap, fmt);
	int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0) {
		o->len += (size_t)n;
	}
}

static void
put_field(out *o, const casty_field *f, const unsigned char *p)
{
	switch (f->kind) {
	case CASTY_FIELD_INT:
		put(o, "%" PRId64, cst_field_load_int(p, f->size));
		return;
	case CASTY_FIELD_UINT:
		put(o, "%" PRIu64, cst_field_load_uint(p, f->size));
		return;
	case CASTY_FIELD_FLOAT:
		if (f->size == sizeof(float)) {
			float v;
			memcpy(&v, p, sizeof v);
			put(o, "%g", (double)v);
		} else {
			double v;
			memcpy(&v, p, sizeof v);
			put(o, "%g", v);
		}
		return;
	case CASTY_FIELD_BOOL:
		put(o, "%s", *p ? "true" : "false");
		return;
	case CASTY_FIELD_STR:
		// Bounded by the field: a payload without its NUL still stops.
		put(o, "\"%.*s\"", (int)strnlen((const char *)p, f->size),
			(const char *)p);
		return;
	case CASTY_FIELD_REF: {
		casty_ref r;
		memcpy(&r, p, sizeof r);
		put(o, r.cell != NULL ? "<ref>" : "<none>");
		return;
	}
	}
	put(o, "?");
}

size_t
casty_msg_format(const casty_msg_type *type, const void *payload, char *buf,
	size_t size)
{
	out o = {buf, size, 0};

	if (size > 0) {
		buf[0] = '\0';
	}
	if (type == NULL) {
		return 0;
	}
	put(&o, "%s{", type->name);
	for (uint32_t i = 0; payload != NULL && i < type->nfields; i++) {
		const casty_field *f = &type->fields[i];
		put(&o, "%s%s=", i ? ", " : "", f->name);
		put_field(&o, f, (const unsigned char *)payload + f->offset);
	}
	put(&o, "}");
	return o.len;
}
