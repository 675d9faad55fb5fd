/* therapy-course: the plugin's descriptor, the kind it registers and
 * the offering keys.
 *
 * Front-line short therapy (Terapiat etulinjaan / Terapier i
 * frontlinjen): a therapist sees a client for a course of 5 to 10
 * weekly sessions, face to face at a health station or by video. The
 * course is booked whole as a series (FindSeries every=weekly, then
 * BookSeries); each session takes one therapist, and a room when on
 * site (the offering's needs, chosen by the core, which also keeps the
 * course's therapist). The therapy guarantee (28 days for under-23s)
 * is the core's deadline rule and binds the first session. */
#include "therapy-course.h"

#include <string.h>

const TcOffering *
tc_offering(const SlotdOffering *offering)
{
	return slotd_offering_get_data(offering);
}

static gboolean
read_sessions(SlotdOffering *offering, TcOffering *tc, GError **error)
{
	g_autofree char *range = NULL;

	if (!slotd_offering_get_string(offering, "course-sessions", "5-10",
				       &range, error))
		return FALSE;
	if (tc_parse_range(range, &tc->min_sessions, &tc->max_sessions) &&
	    tc->min_sessions >= 2)
		return TRUE;
	slotd_offering_config_error(offering, "course-sessions", error,
				    "'%s' is not a course length; give "
				    "MIN-MAX sessions between 2 and 52, e.g. "
				    "5-10",
				    range);
	return FALSE;
}

/* A course ends after a few no-shows: the core does it for offerings
 * with max-noshows-per-series, which every course offering needs. */
static gboolean
check_noshows(SlotdOffering *offering, const TcOffering *tc, GError **error)
{
	gint64 noshows = 0;

	if (!slotd_offering_get_int(offering, "max-noshows-per-series", 0, 0,
				    52, &noshows, error))
		return FALSE;
	if (noshows >= 1 && noshows <= tc->max_sessions)
		return TRUE;
	slotd_offering_config_error(offering, "max-noshows-per-series", error,
				    "a course offering ends a course after "
				    "1 to %u no-shows; give e.g. 2",
				    tc->max_sessions);
	return FALSE;
}

gboolean
tc_configure(SlotdOffering *offering, GError **error)
{
	g_autofree TcOffering *tc = g_new0(TcOffering, 1);
	guint slot_minutes = slotd_offering_slot_minutes(offering);
	gint64 minutes, tolerance, plan_sessions, history;

	if (!read_sessions(offering, tc, error) ||
	    !check_noshows(offering, tc, error) ||
	    !slotd_offering_get_int(offering, "session-minutes",
				    MIN(45, slot_minutes), 15, slot_minutes,
				    &minutes, error) ||
	    !slotd_offering_get_int(offering, "week-tolerance-minutes", 120,
				    0, 3 * 24 * 60, &tolerance, error) ||
	    !slotd_offering_get_int(offering, "plan-course-sessions",
				    (tc->min_sessions + tc->max_sessions + 1) /
					    2,
				    tc->min_sessions, tc->max_sessions,
				    &plan_sessions, error) ||
	    !slotd_offering_get_int(offering, "history-days", 28, 7, 365,
				    &history, error))
		return FALSE;
	tc->session_minutes = (guint)minutes;
	tc->tolerance_minutes = (guint)tolerance;
	tc->plan_sessions = (guint)plan_sessions;
	tc->history_days = (guint)history;
	slotd_offering_set_data(offering, g_steal_pointer(&tc), g_free);
	return TRUE;
}

static const SlotdKindOps tc_ops = {
	.size = sizeof(SlotdKindOps),
	.configure = tc_configure,
	.admit = tc_admit,
	.plan = tc_plan,
};

static gboolean
tc_setup(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, "therapy-course", &tc_ops,
					error);
}

static void
tc_teardown(void)
{
}

static const SlotdPluginDescriptor tc_descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "therapy-course",
	.version = "1.0",
	.summary = "Short-therapy courses: 5-10 weekly sessions with one "
		   "therapist, booked whole, ended by repeated no-shows",
	.setup = tc_setup,
	.teardown = tc_teardown,
};

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &tc_descriptor;
}
