// tests/fuzz/fuzz_toml.c: libFuzzer target for the TOML parser
// (runtime/toml.c): any input either parses into a tree that is then
// walked and freed, or fails with a position inside the input; nothing
// may crash, leak or read out of bounds. Built and run by tools/fuzz.sh.
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/toml.h"

static void
walk(const cst_toml_value *v, unsigned depth)
{
	if (depth > CST_TOML_MAX_DEPTH + 1) {
		abort(); // the parser promised a bound
	}
	if (v->kind == CST_TOML_TABLE) {
		for (size_t i = 0; i < cst_toml_table_len(v); i++) {
			walk(cst_toml_table_entry(v, i)->value, depth + 1);
		}
	} else if (v->kind == CST_TOML_ARRAY) {
		for (size_t i = 0; i < cst_toml_array_len(v); i++) {
			walk(cst_toml_array_get(v, i), depth + 1);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cst_toml_value *root = NULL;
	cst_toml_error  err;

	int rc = cst_toml_parse((const char *)data, size, "fuzz", &root, &err);
	if (rc == 0) {
		walk(root, 0);
		cst_toml_free(root);
	} else if (rc == -EINVAL && (err.line == 0 || err.line > size + 1)) {
		abort(); // a syntax error must point into the input
	}
	return 0;
}
