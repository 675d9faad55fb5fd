/* therapy-course: the arithmetic, worked by hand. */
#include <slotd/plugin.h>

#include "test-therapy-course.h"
#include "therapy-course.h"

static void
test_range(void)
{
	guint low = 0, high = 0;

	g_assert_true(tc_parse_range("5-10", &low, &high));
	g_assert_cmpuint(low, ==, 5);
	g_assert_cmpuint(high, ==, 10);
	g_assert_true(tc_parse_range("8", &low, &high));
	g_assert_cmpuint(low, ==, 8);
	g_assert_cmpuint(high, ==, 8);
	g_assert_false(tc_parse_range("10-5", &low, &high));
	g_assert_false(tc_parse_range("0-3", &low, &high));
	g_assert_false(tc_parse_range("5-", &low, &high));
	g_assert_false(tc_parse_range("5-53", &low, &high));
	g_assert_false(tc_parse_range("five", &low, &high));
	g_assert_false(tc_parse_range(NULL, &low, &high));
}

/* Weeks are local: across the autumn clock change a session keeps its
 * 09:00, which is 7 days and an hour later in UTC. */
static void
test_weeks(void)
{
	gint64 before = tc_local(2026, 10, 20, 9, 0);
	gint64 from, to;

	g_assert_cmpint(tc_week_after(before, 1), ==,
			tc_local(2026, 10, 27, 9, 0));
	g_assert_cmpint(tc_week_after(before, 1) - before, ==,
			7 * 86400 + 3600);
	/* Thursday 24 December 2026 is in the week of Monday 21st. */
	tc_local_week(tc_local(2026, 12, 24, 9, 0), &from, &to);
	g_assert_cmpint(from, ==, tc_local(2026, 12, 21, 0, 0));
	g_assert_cmpint(to, ==, tc_local(2026, 12, 28, 0, 0));
	tc_local_day(tc_local(2026, 12, 24, 9, 0), &from, &to);
	g_assert_cmpint(from, ==, tc_local(2026, 12, 24, 0, 0));
	g_assert_cmpint(to, ==, tc_local(2026, 12, 25, 0, 0));
}

/* One course can start a week and two referrals arrive, one under 23:
 * the cohort of week a starts in weeks 2a and 2a+1. Week 4's second
 * half waits 5 weeks (over 28 days), week 5's both halves; week 6's
 * has not started when the twelve weeks end, seven weeks after it
 * came. */
static void
test_projection(void)
{
	TcWeek weeks[12] = { 0 };

	for (guint w = 0; w < G_N_ELEMENTS(weeks); w++) {
		weeks[w].capacity = 1;
		weeks[w].arrivals = 2;
		weeks[w].under_23 = 1;
	}
	tc_project(weeks, G_N_ELEMENTS(weeks));
	g_assert_cmpfloat_with_epsilon(weeks[0].backlog, 1, 1e-9);
	g_assert_cmpfloat_with_epsilon(weeks[1].backlog, 2, 1e-9);
	g_assert_cmpfloat_with_epsilon(weeks[11].backlog, 12, 1e-9);
	g_assert_cmpfloat_with_epsilon(weeks[0].wait_days, 7, 1e-9);
	g_assert_cmpfloat_with_epsilon(weeks[1].wait_days, 14, 1e-9);
	g_assert_cmpfloat_with_epsilon(weeks[5].wait_days, 42, 1e-9);
	g_assert_cmpfloat_with_epsilon(weeks[6].wait_days, -1, 1e-9);
	for (guint w = 0; w < 4; w++)
		g_assert_cmpfloat_with_epsilon(weeks[w].breaching, 0, 1e-9);
	g_assert_cmpfloat_with_epsilon(weeks[4].breaching, 0.5, 1e-9);
	g_assert_cmpfloat_with_epsilon(weeks[5].breaching, 1, 1e-9);
	g_assert_cmpfloat_with_epsilon(weeks[6].breaching, 1, 1e-9);
	g_assert_cmpfloat_with_epsilon(weeks[7].breaching, 0, 1e-9);

	/* Enough room: nobody waits past the week they come. */
	for (guint w = 0; w < G_N_ELEMENTS(weeks); w++) {
		weeks[w].capacity = 3;
		weeks[w].arrivals = 2;
	}
	tc_project(weeks, G_N_ELEMENTS(weeks));
	for (guint w = 0; w < G_N_ELEMENTS(weeks); w++) {
		g_assert_cmpfloat_with_epsilon(weeks[w].wait_days, 0, 1e-9);
		g_assert_cmpfloat_with_epsilon(weeks[w].breaching, 0, 1e-9);
	}
}

void
tc_test_add_rules(void)
{
	g_test_add_func("/therapy-course/rules/range", test_range);
	g_test_add_func("/therapy-course/rules/weeks", test_weeks);
	g_test_add_func("/therapy-course/rules/projection", test_projection);
}
