// tests/support/system_fixture.h: one system per test, created in the
// suite's .init and destroyed (drained, stopped, freed) in its .fini:
//   TestSuite(name, .init = sys_setup, .fini = sys_teardown);
#ifndef CASTY_TESTS_SUPPORT_SYSTEM_FIXTURE_H
#define CASTY_TESTS_SUPPORT_SYSTEM_FIXTURE_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include <casty/casty.h>

static casty_system *sys;

#include <errno.h>

static void
sys_setup(void)
{
	int rc = casty_system_create(NULL, &sys);
	// A system needs io_uring for its reactor (liburing's tests skip
	// the same way).
	if (rc == -ENOSYS || rc == -EPERM) {
		cr_skip("io_uring is not available here");
	}
	cr_assert(eq(int, rc, CASTY_OK));
}

static void
sys_teardown(void)
{
	casty_system_destroy(sys);
}

// The same for suites whose tests fail actors on purpose: the runtime's
// log is silenced meanwhile (and restored after the system is gone).
__attribute__((unused)) static void
sys_setup_quiet(void)
{
	casty_log_set_level(CASTY_LOG_OFF);
	sys_setup();
}

__attribute__((unused)) static void
sys_teardown_quiet(void)
{
	sys_teardown();
	casty_log_set_level(CASTY_LOG_INFO);
}

#endif // CASTY_TESTS_SUPPORT_SYSTEM_FIXTURE_H
