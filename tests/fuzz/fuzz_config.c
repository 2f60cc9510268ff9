// tests/fuzz/fuzz_config.c: libFuzzer target for the casty.toml loader
// (runtime/config.c over runtime/toml.c): any input either loads, and
// then resolves actor names against its patterns, or fails with an error
// that points into the input; nothing may crash, leak or read out of
// bounds. Built and run by tools/fuzz.sh.
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <casty/config.h>

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"orders", "child-42", "my-worker", "_internal", "", "a.b"};
	casty_config      *config = NULL;
	casty_config_error err;

	int rc = casty_config_parse(
		(const char *)data, size, "fuzz", &config, &err);
	if (rc == 0) {
		casty_actor_config a;
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			casty_config_resolve(config, names[i], &a);
		}
		casty_config_resolve(config, NULL, &a);
		casty_config_free(config);
	} else if (rc == -EINVAL && (err.line == 0 || err.line > size + 1)) {
		abort(); // an error must point into the input
	} else if (rc != -EINVAL && rc != -ENOMEM) {
		abort();
	}
	return 0;
}
