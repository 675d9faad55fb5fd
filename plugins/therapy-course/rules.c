/* therapy-course: the arithmetic of a course — ranges, weeks in local
 * time, and the intake projection of the planner. No store, no SDK
 * state: unit-tested directly. */
#include "therapy-course.h"

#include <stdlib.h>

gboolean
tc_parse_range(const char *text, guint *ret_min, guint *ret_max)
{
	guint64 low, high;
	char *end = NULL;

	if (!text || !g_ascii_isdigit(text[0]))
		return FALSE;
	low = g_ascii_strtoull(text, &end, 10);
	high = low;
	if (*end == '-') {
		if (!g_ascii_isdigit(end[1]))
			return FALSE;
		high = g_ascii_strtoull(end + 1, &end, 10);
	}
	if (*end != '\0' || low < 1 || high > 52 || low > high)
		return FALSE;
	*ret_min = (guint)low;
	*ret_max = (guint)high;
	return TRUE;
}

static void
local_date(gint64 when, GDate *ret_date, int *ret_hour, int *ret_minute)
{
	int minute;

	slotd_local_time(when, ret_date, &minute);
	if (ret_hour)
		*ret_hour = minute / 60;
	if (ret_minute)
		*ret_minute = minute % 60;
}

static gint64
local_midnight(const GDate *date)
{
	return slotd_local_to_utc(g_date_get_year(date),
				  g_date_get_month(date),
				  g_date_get_day(date), 0, 0);
}

gint64
tc_week_after(gint64 anchor, guint weeks)
{
	GDate date;
	int hour, minute;

	local_date(anchor, &date, &hour, &minute);
	g_date_add_days(&date, TC_WEEK_DAYS * weeks);
	return slotd_local_to_utc(g_date_get_year(&date),
				  g_date_get_month(&date),
				  g_date_get_day(&date), hour, minute);
}

void
tc_local_day(gint64 when, gint64 *ret_from, gint64 *ret_to)
{
	GDate date;

	local_date(when, &date, NULL, NULL);
	*ret_from = local_midnight(&date);
	g_date_add_days(&date, 1);
	*ret_to = local_midnight(&date);
}

void
tc_local_week(gint64 when, gint64 *ret_from, gint64 *ret_to)
{
	GDate date;

	local_date(when, &date, NULL, NULL);
	g_date_subtract_days(&date, g_date_get_weekday(&date) - 1);
	*ret_from = local_midnight(&date);
	g_date_add_days(&date, TC_WEEK_DAYS);
	*ret_to = local_midnight(&date);
}

/* Waits are counted from the middle of the arrival week to the middle
 * of the starting week: whole weeks. More than four weeks is past the
 * 28 days of the therapy guarantee. */
#define GUARANTEE_WEEKS 4

void
tc_project(TcWeek *weeks, guint n_weeks)
{
	/* What is still waiting of each arrival week. */
	g_autofree double *left = g_new0(double, MAX(n_weeks, 1));
	g_autofree double *young = g_new0(double, MAX(n_weeks, 1));
	g_autofree gint *started = g_new0(gint, MAX(n_weeks, 1));

	for (guint w = 0; w < n_weeks; w++) {
		double room = MAX(weeks[w].capacity, 0);
		double backlog = 0;

		left[w] = MAX(weeks[w].arrivals, 0);
		young[w] = CLAMP(weeks[w].under_23, 0, left[w]);
		started[w] = -1;
		weeks[w].breaching = 0;
		for (guint a = 0; a <= w && room > 0; a++) {
			double take = MIN(room, left[a]);
			double share = left[a] > 0 ? young[a] / left[a] : 0;

			if (left[a] <= 0)
				continue;
			if (w - a > GUARANTEE_WEEKS)
				weeks[a].breaching += take * share;
			young[a] -= take * share;
			left[a] -= take;
			room -= take;
			if (left[a] <= 1e-9) {
				left[a] = 0;
				started[a] = (gint)w;
			}
		}
		for (guint a = 0; a <= w; a++)
			backlog += left[a];
		weeks[w].backlog = backlog;
	}
	for (guint a = 0; a < n_weeks; a++) {
		/* Not started within the projection: those under 23 whose
		 * four weeks run out inside it breach too. */
		if (left[a] > 0 && n_weeks - 1 - a > GUARANTEE_WEEKS)
			weeks[a].breaching += young[a];
		weeks[a].wait_days = started[a] < 0
					     ? -1
					     : (double)(started[a] - (gint)a) *
						       TC_WEEK_DAYS;
	}
}
