/* Joint-visit plugin tests: the housing units and the configuration
 * (test-housing.c) and the admission rule end to end through the
 * capacity engine (test-admit.c). */
#include <glib.h>

#include "test-joint-visit.h"

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	jv_test_add_housing();
	jv_test_add_admit();
	return g_test_run();
}
