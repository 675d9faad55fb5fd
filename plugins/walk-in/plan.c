/* walk-in: staffing rows for planners (Planner1.Staffing). Each session
 * window is an M/M/c queue: visitors arrive at the rate seen at that
 * session over the past eight weeks (or as the caller says), each takes
 * service-minutes on average, and the counsellors present serve them.
 * A row gives the expected wait and queue with the rostered staff and
 * the fewest counsellors that keep the mean wait within the target. */
#include <math.h>
#include <string.h>

#include "walk-in.h"

#define HISTORY_DAYS 56 /* eight weeks of the same weekday */
#define MAX_STAFF 50

typedef struct {
	gboolean have_arrivals;
	double arrivals_per_hour;
	double target_wait_minutes;
	gint32 extra_staff;
	double service_minutes;	/* 0: the offering's own */
	char *unit;		/* only this unit, or NULL */
} PlanOptions;

typedef struct {
	guint sessions;
	guint checkins;
	guint anonymous_visits;
} SessionHistory;

static guint
staff_needed(const WalkInStaffingInput *input)
{
	for (guint servers = 1; servers < MAX_STAFF; servers++) {
		SlotdQueueFigures figures;

		slotd_queue_mmc(input->arrivals_per_hour,
				input->service_minutes, servers, &figures);
		if (figures.utilisation < 1.0 &&
		    figures.mean_wait_minutes <= input->target_wait_minutes)
			return servers;
	}
	return MAX_STAFF;
}

void
walk_in_staffing_compute(const WalkInStaffingInput *input,
			 WalkInStaffing *ret)
{
	SlotdQueueFigures figures;
	gboolean nobody_comes = input->arrivals_per_hour <= 0.0;

	ret->staff_needed = staff_needed(input);
	if (input->staff_rostered == 0) {
		/* Nobody to see the visitors: the queue only grows. */
		ret->expected_wait_minutes = nobody_comes ? 0.0 : INFINITY;
		ret->expected_queue_length = nobody_comes ? 0.0 : INFINITY;
		ret->utilisation = nobody_comes ? 0.0 : INFINITY;
		ret->service_level = nobody_comes ? 1.0 : 0.0;
		return;
	}
	slotd_queue_mmc(input->arrivals_per_hour, input->service_minutes,
			input->staff_rostered, &figures);
	ret->expected_wait_minutes = figures.mean_wait_minutes;
	ret->expected_queue_length = figures.mean_queue_length;
	ret->utilisation = figures.utilisation;
	ret->service_level = slotd_queue_service_level(
		input->arrivals_per_hour, input->service_minutes,
		input->staff_rostered, input->target_wait_minutes * 60.0);
}

static gboolean
read_double_option(SlotdPlan *plan, const char *key, double *ret_value,
		   gboolean *ret_given)
{
	g_autoptr(GVariant) value = slotd_plan_option(plan, key,
						      G_VARIANT_TYPE_DOUBLE);

	if (value == NULL)
		return FALSE;
	*ret_value = g_variant_get_double(value);
	if (ret_given != NULL)
		*ret_given = TRUE;
	return TRUE;
}

static gboolean
read_options(SlotdPlan *plan, PlanOptions *options, GError **error)
{
	g_autoptr(GVariant) extra = slotd_plan_option(plan, "extra-staff",
						      G_VARIANT_TYPE_INT32);
	g_autoptr(GVariant) unit = slotd_plan_option(plan, "unit",
						     G_VARIANT_TYPE_STRING);

	options->target_wait_minutes = 20.0;
	read_double_option(plan, "arrivals-per-hour",
			   &options->arrivals_per_hour,
			   &options->have_arrivals);
	read_double_option(plan, "target-wait-minutes",
			   &options->target_wait_minutes, NULL);
	read_double_option(plan, "service-minutes", &options->service_minutes,
			   NULL);
	options->extra_staff = extra != NULL ? g_variant_get_int32(extra) : 0;
	options->unit = unit != NULL ? g_variant_dup_string(unit, NULL) : NULL;
	if ((options->have_arrivals && !(options->arrivals_per_hour >= 0.0 &&
	     options->arrivals_per_hour < 1000.0)) ||
	    !(options->target_wait_minutes > 0.0 &&
	      options->target_wait_minutes <= 1440.0) ||
	    !(options->service_minutes >= 0.0 &&
	      options->service_minutes <= 480.0) ||
	    options->extra_staff < -MAX_STAFF ||
	    options->extra_staff > MAX_STAFF) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "walk-in staffing: arrivals-per-hour must be 0 or "
			    "more, target-wait-minutes and service-minutes "
			    "above 0, extra-staff between -%d and %d",
			    MAX_STAFF, MAX_STAFF);
		return FALSE;
	}
	return TRUE;
}

static gboolean
is_session_of(const WalkInConfig *config, const WalkInWindow *window,
	      const SlotdSlotInfo *slot)
{
	return g_strcmp0(slot->kind, WALK_IN_SESSION) == 0 &&
	       walk_in_session_of(config, slot->start, slot->end) == window;
}

static gboolean
is_anonymous_visit(const SlotdBookingInfo *booking)
{
	gboolean anonymous = FALSE;

	if (booking->extras != NULL)
		g_variant_lookup(booking->extras, "anonymous", "b", &anonymous);
	return anonymous;
}

/* Check-ins of the window's past sessions; a cancelled check-in never
 * took a counsellor's time and is not counted. */
static void
count_history(const WalkInConfig *config, const WalkInWindow *window,
	      GArray *past_slots, GPtrArray *history, SessionHistory *ret)
{
	g_autoptr(GHashTable) sessions = g_hash_table_new(g_str_hash,
							  g_str_equal);

	memset(ret, 0, sizeof(*ret));
	for (guint i = 0; past_slots != NULL && i < past_slots->len; i++) {
		SlotdSlotInfo *slot = &g_array_index(past_slots, SlotdSlotInfo,
						     i);

		if (is_session_of(config, window, slot))
			g_hash_table_add(sessions, (gpointer)slot->id);
	}
	ret->sessions = g_hash_table_size(sessions);
	for (guint i = 0; history != NULL && i < history->len; i++) {
		const SlotdBookingInfo *booking = history->pdata[i];

		if (!g_hash_table_contains(sessions, booking->slot_id) ||
		    g_strcmp0(booking->status, "cancelled") == 0)
			continue;
		ret->checkins++;
		if (g_strcmp0(booking->status, "fulfilled") == 0 &&
		    is_anonymous_visit(booking))
			ret->anonymous_visits++;
	}
}

static const SlotdSlotInfo *
next_session(const WalkInConfig *config, const WalkInWindow *window,
	     GArray *slots)
{
	for (guint i = 0; slots != NULL && i < slots->len; i++) {
		const SlotdSlotInfo *slot = &g_array_index(slots, SlotdSlotInfo,
							   i);

		if (is_session_of(config, window, slot))
			return slot;
	}
	return NULL;
}

static const char *
choose_arrivals(const WalkInConfig *config, const WalkInWindow *window,
		const PlanOptions *options, const SessionHistory *history,
		double *ret_arrivals)
{
	if (options->have_arrivals) {
		*ret_arrivals = options->arrivals_per_hour;
		return "option";
	}
	if (history->sessions > 0) {
		*ret_arrivals = walk_in_arrivals_per_hour(
			history->checkins, history->sessions,
			walk_in_schedule_minutes(&window->schedule));
		return "history";
	}
	*ret_arrivals = config->expected_arrivals;
	return "configured";
}

static GVariant *
staffing_row(const SlotdOffering *offering, const WalkInWindow *window,
	     const SlotdSlotInfo *session, const char *source,
	     const WalkInStaffingInput *input, const WalkInStaffing *staffing,
	     const SessionHistory *history)
{
	GVariantDict row;

	g_variant_dict_init(&row, NULL);
	g_variant_dict_insert(&row, "unit", "s", slotd_offering_unit(offering));
	g_variant_dict_insert(&row, "offering", "s",
			      slotd_offering_id(offering));
	g_variant_dict_insert(&row, "session", "s", window->name);
	g_variant_dict_insert(&row, "period-start", "x", session->start);
	g_variant_dict_insert(&row, "period-end", "x", session->end);
	g_variant_dict_insert(&row, "arrivals-per-hour", "d",
			      input->arrivals_per_hour);
	g_variant_dict_insert(&row, "arrivals-source", "s", source);
	g_variant_dict_insert(&row, "service-minutes", "d",
			      input->service_minutes);
	g_variant_dict_insert(&row, "target-wait-minutes", "d",
			      input->target_wait_minutes);
	g_variant_dict_insert(&row, "staff-needed", "u",
			      staffing->staff_needed);
	g_variant_dict_insert(&row, "staff-rostered", "u",
			      input->staff_rostered);
	g_variant_dict_insert(&row, "staff-gap", "i",
			      (gint32)staffing->staff_needed -
				      (gint32)input->staff_rostered);
	g_variant_dict_insert(&row, "expected-wait-minutes", "d",
			      staffing->expected_wait_minutes);
	g_variant_dict_insert(&row, "expected-queue-length", "d",
			      staffing->expected_queue_length);
	g_variant_dict_insert(&row, "utilisation", "d", staffing->utilisation);
	g_variant_dict_insert(&row, "predicted-service-level", "d",
			      staffing->service_level);
	g_variant_dict_insert(&row, "queue-places", "u", session->capacity);
	g_variant_dict_insert(&row, "history-sessions", "u", history->sessions);
	g_variant_dict_insert(&row, "history-checkins", "u", history->checkins);
	g_variant_dict_insert(&row, "anonymous-visits", "u",
			      history->anonymous_visits);
	return g_variant_dict_end(&row);
}

static void
plan_window(SlotdPlan *plan, const SlotdOffering *offering,
	    const WalkInWindow *window, GArray *upcoming, GArray *past,
	    GPtrArray *history, const PlanOptions *options)
{
	const WalkInConfig *config = walk_in_config(offering);
	const SlotdSlotInfo *session = next_session(config, window, upcoming);
	WalkInStaffingInput input = { 0 };
	WalkInStaffing staffing;
	SessionHistory seen;
	const char *source;

	if (session == NULL)
		return; /* no such session in the planned range */
	count_history(config, window, past, history, &seen);
	source = choose_arrivals(config, window, options, &seen,
				 &input.arrivals_per_hour);
	input.service_minutes = options->service_minutes > 0.0 ?
		options->service_minutes : config->service_minutes;
	input.staff_rostered = (guint)MAX(0, (gint32)window->counsellors +
						     options->extra_staff);
	input.target_wait_minutes = options->target_wait_minutes;
	walk_in_staffing_compute(&input, &staffing);
	slotd_plan_add_row(plan, staffing_row(offering, window, session, source,
					      &input, &staffing, &seen));
}

/* Leaves out a session under way: its check-ins are not all in yet. */
static void
ended_only(GArray *slots, gint64 now)
{
	for (guint i = slots ? slots->len : 0; i > 0; i--)
		if (g_array_index(slots, SlotdSlotInfo, i - 1).end > now)
			g_array_remove_index(slots, i - 1);
}

static void
plan_offering(SlotdPlan *plan, const SlotdOffering *offering,
	      const PlanOptions *options, gint64 from, gint64 to)
{
	const WalkInConfig *config = walk_in_config(offering);
	gint64 history_from = from - (gint64)HISTORY_DAYS * 86400;
	g_autoptr(GArray) upcoming = NULL;
	g_autoptr(GArray) past = NULL;
	g_autoptr(GPtrArray) history = NULL;

	/* History is what has happened: a session later today is not,
	 * even when the report starts after it. */
	gint64 until = MIN(from, slotd_plan_now(plan));

	upcoming = slotd_plan_slots(plan, offering, from, to);
	past = slotd_plan_slots(plan, offering, history_from, until);
	history = slotd_plan_history(plan, offering, history_from, until);
	ended_only(past, slotd_plan_now(plan));
	for (guint i = 0; i < config->windows->len; i++) {
		const WalkInWindow *window = config->windows->pdata[i];

		if (window->is_session)
			plan_window(plan, offering, window, upcoming, past,
				    history, options);
	}
}

gboolean
walk_in_plan(SlotdPlan *plan, GError **error)
{
	PlanOptions options = { 0 };
	g_autofree char *unit = NULL;
	gboolean unit_seen = FALSE;
	gint64 from, to;

	if (!read_options(plan, &options, error)) {
		g_free(options.unit);
		return FALSE;
	}
	unit = options.unit;
	slotd_plan_range(plan, &from, &to);
	for (guint i = 0; i < slotd_plan_n_offerings(plan); i++) {
		const SlotdOffering *offering = slotd_plan_offering(plan, i);

		if (walk_in_config(offering) == NULL ||
		    (unit != NULL &&
		     g_strcmp0(slotd_offering_unit(offering), unit) != 0))
			continue;
		unit_seen = TRUE;
		plan_offering(plan, offering, &options, from, to);
	}
	if (unit != NULL && !unit_seen) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "walk-in staffing: the service has no walk-in "
			    "offering at the unit given in `unit`");
		return FALSE;
	}
	return TRUE;
}
