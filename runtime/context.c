// runtime/context.c: what an actor learns about itself through its
// context: its ref, system, parent, name, path and named children.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime/actor.h"
#include "runtime/system.h"

#define NAME_MAX_LEN CST_ACTOR_NAME_MAX

casty_ref
casty_self(casty_ctx *ctx)
{
	return cst_cell_ref(ctx);
}

casty_system *
casty_ctx_system(casty_ctx *ctx)
{
	return ctx->sys;
}

casty_ref
casty_ctx_parent(casty_ctx *ctx)
{
	return ctx->parent != NULL ? cst_cell_ref(ctx->parent)
				   : CASTY_REF_NONE;
}

static size_t
copy_out(char *buf, size_t size, const char *s, size_t n)
{
	if (size > 0) {
		size_t k = n < size - 1 ? n : size - 1;
		memcpy(buf, s, k);
		buf[k] = '\0';
	}
	return n;
}

static size_t
format_name(casty_cell *cell, char *buf, size_t size)
{
	if (cell->name != NULL) {
		return copy_out(buf, size, cell->name, strlen(cell->name));
	}
	// Unnamed: the cell (cells are 64-byte aligned and live as long as
	// the system) and the incarnation, unique among every actor the
	// system ever ran. Relaxed: the actor's own worker reads its gen.
	char tmp[48];
	int  n = snprintf(tmp, sizeof tmp, "$%llx.%u",
		 (unsigned long long)((uintptr_t)cell >> 6),
		 (unsigned)atomic_load_explicit(&cell->gen, memory_order_relaxed));
	return copy_out(buf, size, tmp, (size_t)n);
}

size_t
casty_ctx_name(casty_ctx *ctx, char *buf, size_t size)
{
	return format_name(ctx, buf, size);
}

size_t
casty_ctx_path(casty_ctx *ctx, char *buf, size_t size)
{
	// Ancestors outlive their children, so the chain is stable here.
	char   path[4096];
	size_t len = 0;
	char   seg[NAME_MAX_LEN + 2];

	path[0] = '\0';
	for (casty_cell *c = ctx; c != NULL; c = c->parent) {
		size_t n = format_name(c, seg + 1, sizeof seg - 1);
		if (n > NAME_MAX_LEN) {
			n = NAME_MAX_LEN;
		}
		seg[0] = '/';
		if (len + n + 1 >= sizeof path) {
			break;
		}
		memmove(path + n + 1, path, len + 1);
		memcpy(path, seg, n + 1);
		len += n + 1;
	}
	return copy_out(buf, size, path, len);
}

int
casty_ctx_child(casty_ctx *ctx, const char *name, casty_ref *out)
{
	if (name == NULL || out == NULL) {
		return -EINVAL;
	}
	// A child that is stopping is still found (like Akka's child(name));
	// what is sent to it then becomes a dead letter.
	casty_cell *c = ctx->cold != NULL
		? cst_names_find(&ctx->cold->children, name) : NULL;
	if (c == NULL) {
		return -ENOENT;
	}
	*out = cst_cell_ref(c);
	return CASTY_OK;
}

