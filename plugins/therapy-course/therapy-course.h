/* therapy-course: a course of weekly short-therapy sessions (Terapiat
 * etulinjaan / Terapier i frontlinjen) booked as one series. Uses only
 * the installed SDK header. */
#pragma once

#include <slotd/plugin.h>

#define TC_WEEK_DAYS 7

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

/* An offering's keys, read at configure. */
typedef struct {
	guint min_sessions;	/* course-sessions, low end */
	guint max_sessions;	/* course-sessions, high end */
	guint session_minutes;	/* session-minutes */
	guint tolerance_minutes; /* week-tolerance-minutes */
	guint plan_sessions;	/* plan-course-sessions: a course's length
				 * when planning */
	guint history_days;	/* planning: days of past courses */
} TcOffering;

const TcOffering *tc_offering(const SlotdOffering *offering);

gboolean tc_configure(SlotdOffering *offering, GError **error);
gboolean tc_admit(const SlotdOffering *offering, SlotdContext *ctx,
		  const SlotdSlotInfo *slot, const SlotdRequest *request,
		  GError **error);
gboolean tc_plan(SlotdPlan *plan, GError **error);

/* ---- rules.c: the arithmetic, no store --------------------------------- */
/* "5-10" or "8": FALSE when it does not parse or is outside 1..52. */
gboolean tc_parse_range(const char *text, guint *ret_min, guint *ret_max);
/* The same local (Europe/Helsinki) time `weeks` weeks after `anchor`. */
gint64 tc_week_after(gint64 anchor, guint weeks);
/* Local midnight of the day of `when` and of the next day. */
void tc_local_day(gint64 when, gint64 *ret_from, gint64 *ret_to);
/* Monday 00:00 local of the ISO week of `when`, and the next Monday. */
void tc_local_week(gint64 when, gint64 *ret_from, gint64 *ret_to);

/* One week of the intake projection: courses that can start, referrals
 * arriving and of those under 23. */
typedef struct {
	double capacity;	/* courses that can start */
	double arrivals;	/* referrals that week */
	double under_23;	/* of them under 23 */
	/* results */
	double backlog;		/* waiting at the end of the week */
	double wait_days;	/* the week's arrivals' wait; -1: not
				 * started within the projection */
	double breaching;	/* under-23 arrivals of the week not
				 * started within 28 days */
} TcWeek;

/* First in, first out over the weeks: each week's arrivals start in the
 * first weeks with room, and wait whole weeks. */
void tc_project(TcWeek *weeks, guint n_weeks);
