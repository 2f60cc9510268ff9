// runtime/roles.h: what a cluster role may be (include/casty/config.h),
// checked wherever roles come in: casty.toml (runtime/config.c), the
// options of a node, and the wire (cluster/). One rule in one place, so
// that a file, a node and a peer cannot disagree about a role.
#ifndef CASTY_RUNTIME_ROLES_H
#define CASTY_RUNTIME_ROLES_H

#include <stdbool.h>
#include <stddef.h>

#include <casty/config.h>

// len bytes at s (no terminator needed). Control characters would break
// log lines; spaces and commas the lists roles are printed as.
static inline bool
cst_role_valid(const char *s, size_t len)
{
	if (len == 0 || len >= CASTY_ROLE_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char b = (unsigned char)s[i];
		if (b <= ' ' || b == 0x7f || b == ',') {
			return false;
		}
	}
	return true;
}

#endif // CASTY_RUNTIME_ROLES_H
