/* The therapy-course plugin's tests. */
#include "calendar.h"
#include "test-therapy-course.h"

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	calendar_init();
	tc_test_add_rules();
	tc_test_add_courses();
	return g_test_run();
}
