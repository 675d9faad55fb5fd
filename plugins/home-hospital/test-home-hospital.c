/* Home hospital plugin tests: the arithmetic (test-rules.c) and the
 * end-to-end scenarios through the capacity engine (test-episode.c,
 * test-coverage.c, on the fixture of test-fixture.c) and the
 * staffing rows through the planning engine (test-plan.c). */
#include <glib.h>

#include "test-home-hospital.h"

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	hh_test_add_rules();
	hh_test_add_episodes();
	hh_test_add_coverage();
	hh_test_add_plan();
	return g_test_run();
}
