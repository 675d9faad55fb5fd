/* crisis-duty: the staffing plan (Planner1.Staffing). For each hour of
 * the planning week(s): the contacts expected (from the Staffing call,
 * from booking history when there is enough, else from the base's
 * contacts-per-month shaped by the hour-of-week profile), the staff
 * needed for the target service level by Erlang C, the staff the
 * shifts of all bases roster, and the gap. Nothing is changed: the
 * extra-staff options only recompute the rows. */
#include "crisis-duty.h"

#define WEEK_SECONDS (7 * 24 * 3600)
#define MAX_WEEKS 13

typedef struct {
	double rates[CRISIS_HOURS_PER_WEEK];
	const char *source; /* "option", "history", "config" */
	double handling_minutes;
	gboolean handling_given;
	guint target_seconds;
	double service_level;
	gint extra_staff;
	guint extra_from;
	guint extra_to;
} PlanInputs;

/* The base that carries the service's contact volumes: the first that
 * sets contacts-per-month, else the first base. */
static const CrisisBase *volume_base(SlotdPlan *plan)
{
	const CrisisBase *first = NULL;

	for (guint i = 0; i < slotd_plan_n_offerings(plan); i++) {
		const CrisisBase *base =
			crisis_base(slotd_plan_offering(plan, i));

		if (base != NULL && base->plan.contacts_given)
			return base;
		if (first == NULL)
			first = base;
	}
	return first;
}

static gboolean option_double(SlotdPlan *plan, const char *key, double min,
			      double max, double *ret_value, GError **error)
{
	g_autoptr(GVariant) value =
		slotd_plan_option(plan, key, G_VARIANT_TYPE_DOUBLE);

	if (value == NULL)
		return TRUE;
	*ret_value = g_variant_get_double(value);
	if (*ret_value >= min && *ret_value <= max)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "%s must be from %g to %g; got %g", key, min, max,
		    *ret_value);
	return FALSE;
}

static gboolean option_uint(SlotdPlan *plan, const char *key, guint max,
			    guint *ret_value, GError **error)
{
	g_autoptr(GVariant) value =
		slotd_plan_option(plan, key, G_VARIANT_TYPE_UINT32);

	if (value == NULL)
		return TRUE;
	*ret_value = g_variant_get_uint32(value);
	if (*ret_value <= max)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "%s must be at most %u; got %u", key, max, *ret_value);
	return FALSE;
}

static gboolean option_extra(SlotdPlan *plan, PlanInputs *inputs,
			     GError **error)
{
	g_autoptr(GVariant) extra =
		slotd_plan_option(plan, "extra-staff", G_VARIANT_TYPE_INT32);

	inputs->extra_from = 0;
	inputs->extra_to = CRISIS_HOURS_PER_WEEK;
	if (extra != NULL)
		inputs->extra_staff = g_variant_get_int32(extra);
	if (ABS(inputs->extra_staff) > 1000) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "extra-staff must be from -1000 to 1000");
		return FALSE;
	}
	return option_uint(plan, "extra-staff-from-hour",
			   CRISIS_HOURS_PER_WEEK - 1, &inputs->extra_from,
			   error) &&
	       option_uint(plan, "extra-staff-to-hour", CRISIS_HOURS_PER_WEEK,
			   &inputs->extra_to, error);
}

static gboolean read_options(SlotdPlan *plan, const CrisisBase *base,
			     PlanInputs *inputs, double *ret_mean,
			     GError **error)
{
	double handling = -1;

	inputs->target_seconds = base->plan.target_seconds;
	inputs->service_level = base->plan.service_level;
	*ret_mean = -1;
	if (!option_double(plan, "arrivals-per-hour", 0, 10000, ret_mean,
			   error) ||
	    !option_double(plan, "handling-minutes", 0.1, 1440, &handling,
			   error))
		return FALSE;
	inputs->handling_given = handling > 0;
	inputs->handling_minutes = inputs->handling_given
					   ? handling
					   : base->plan.handling_minutes;
	return option_uint(plan, "target-seconds", 86400,
			   &inputs->target_seconds, error) &&
	       option_double(plan, "service-level", 0.01, 0.999,
			     &inputs->service_level, error) &&
	       option_extra(plan, inputs, error);
}

static GTimeZone *helsinki(void)
{
	GTimeZone *zone = g_time_zone_new_identifier("Europe/Helsinki");

	return zone ? zone : g_time_zone_new_local();
}

/* 0 = Monday 00:00-01:00 local .. 167 = Sunday 23:00-24:00. */
static guint hour_of_week(GTimeZone *zone, gint64 utc)
{
	g_autoptr(GDateTime) local = g_date_time_new_from_unix_utc(utc);
	g_autoptr(GDateTime) there = g_date_time_to_timezone(local, zone);

	return (g_date_time_get_day_of_week(there) - 1) * 24 +
	       g_date_time_get_hour(there);
}

/* The local Monday on or before `utc`. */
static void week_monday(gint64 utc, GDate *ret_monday)
{
	g_autoptr(GTimeZone) zone = helsinki();
	g_autoptr(GDateTime) local = g_date_time_new_from_unix_utc(utc);
	g_autoptr(GDateTime) there = g_date_time_to_timezone(local, zone);

	g_date_clear(ret_monday, 1);
	g_date_set_dmy(ret_monday, g_date_time_get_day_of_month(there),
		       g_date_time_get_month(there),
		       g_date_time_get_year(there));
	g_date_subtract_days(ret_monday,
			     g_date_time_get_day_of_week(there) - 1);
}

static gint64 local_hour(const GDate *monday, guint week, guint hour)
{
	GDate date = *monday;

	g_date_add_days(&date, week * 7 + hour / 24);
	return slotd_local_to_utc(g_date_get_year(&date),
				  g_date_get_month(&date),
				  g_date_get_day(&date), hour % 24, 0);
}

/* Staff-minutes of one past contact (a pair's visit counts twice). */
static double staff_minutes(const SlotdBookingInfo *booking)
{
	gint64 end = booking->end;
	guint32 staff = booking->seats ? booking->seats : 1;

	if (booking->extras != NULL) {
		g_variant_lookup(booking->extras, "contact-end", "x", &end);
		g_variant_lookup(booking->extras, "staff", "u", &staff);
	}
	return staff * (double)MAX(end - booking->start, 0) / 60.0;
}

typedef struct {
	guint counts[CRISIS_HOURS_PER_WEEK];
	guint total;
	double staff_minutes;
} History;

static void add_history(SlotdPlan *plan, const SlotdOffering *offering,
			gint64 from, gint64 to, GTimeZone *zone,
			History *history)
{
	g_autoptr(GPtrArray) bookings =
		slotd_plan_history(plan, offering, from, to);

	for (guint i = 0; bookings && i < bookings->len; i++) {
		const SlotdBookingInfo *booking =
			g_ptr_array_index(bookings, i);

		if (g_strcmp0(booking->status, "cancelled") == 0)
			continue;
		history->counts[hour_of_week(zone, booking->start)]++;
		history->total++;
		history->staff_minutes += staff_minutes(booking);
	}
}

/* Arrivals from the weeks before the plan when there are enough of
 * them; FALSE leaves the rates to the configured volume. */
static gboolean rates_from_history(SlotdPlan *plan, const CrisisBase *base,
				   gint64 week_start, PlanInputs *inputs)
{
	guint weeks = base->plan.history_weeks;
	g_autoptr(GTimeZone) zone = helsinki();
	History history = { { 0 } };

	for (guint i = 0; i < slotd_plan_n_offerings(plan); i++)
		add_history(plan, slotd_plan_offering(plan, i),
			    week_start - (gint64)weeks * WEEK_SECONDS,
			    week_start, zone, &history);
	if (history.total < base->plan.history_min_contacts)
		return FALSE;
	for (guint h = 0; h < CRISIS_HOURS_PER_WEEK; h++)
		inputs->rates[h] = (double)history.counts[h] / weeks;
	if (!inputs->handling_given)
		inputs->handling_minutes =
			history.staff_minutes / history.total;
	inputs->source = "history";
	return TRUE;
}

static void rates_from_mean(const CrisisBase *base, double mean,
			    const char *source, PlanInputs *inputs)
{
	for (guint h = 0; h < CRISIS_HOURS_PER_WEEK; h++)
		inputs->rates[h] =
			crisis_profile_rate(&base->plan.profile, mean, h);
	inputs->source = source;
}

static GArray *roster_spans(SlotdPlan *plan, gint64 from, gint64 to)
{
	GArray *spans = g_array_new(FALSE, FALSE, sizeof(CrisisStaffSpan));

	for (guint i = 0; i < slotd_plan_n_offerings(plan); i++) {
		g_autoptr(GArray) slots =
			slotd_plan_slots(plan, slotd_plan_offering(plan, i),
					 from, to);

		for (guint j = 0; slots && j < slots->len; j++) {
			const SlotdSlotInfo *slot =
				&g_array_index(slots, SlotdSlotInfo, j);
			CrisisStaffSpan span = { slot->start, slot->end,
						 slot->capacity };

			g_array_append_val(spans, span);
		}
	}
	return spans;
}

static void add_row(SlotdPlan *plan, const CrisisHourRow *row,
		    const char *source)
{
	GVariantDict dict;

	g_variant_dict_init(&dict, NULL);
	g_variant_dict_insert(&dict, "hour-of-week", "u", row->hour_of_week);
	g_variant_dict_insert(&dict, "period-start", "x", row->period_start);
	g_variant_dict_insert(&dict, "arrivals-per-hour", "d",
			      row->arrivals_per_hour);
	g_variant_dict_insert(&dict, "arrivals-source", "s", source);
	g_variant_dict_insert(&dict, "handling-minutes", "d",
			      row->handling_minutes);
	g_variant_dict_insert(&dict, "offered-load", "d", row->offered_load);
	g_variant_dict_insert(&dict, "staff-needed", "u", row->staff_needed);
	g_variant_dict_insert(&dict, "staff-rostered", "u",
			      row->staff_rostered);
	g_variant_dict_insert(&dict, "predicted-service-level", "d",
			      row->service_level);
	g_variant_dict_insert(&dict, "mean-wait-seconds", "d",
			      row->mean_wait_seconds);
	g_variant_dict_insert(&dict, "gap", "i", row->gap);
	slotd_plan_add_row(plan, g_variant_dict_end(&dict));
}

static void add_week(SlotdPlan *plan, const PlanInputs *inputs,
		     const GArray *spans, const GDate *monday, guint week)
{
	for (guint h = 0; h < CRISIS_HOURS_PER_WEEK; h++) {
		CrisisHourRow row = {
			.hour_of_week = h,
			.period_start = local_hour(monday, week, h),
			.arrivals_per_hour = inputs->rates[h],
			.handling_minutes = inputs->handling_minutes,
		};

		row.staff_rostered = crisis_staff_in_hour(
			(const CrisisStaffSpan *)spans->data, spans->len,
			row.period_start);
		if (crisis_hour_in_range(h, inputs->extra_from,
					 inputs->extra_to))
			row.staff_rostered = crisis_roster_with_extra(
				row.staff_rostered, inputs->extra_staff);
		crisis_hour_evaluate(&row, inputs->target_seconds,
				     inputs->service_level);
		add_row(plan, &row, inputs->source);
	}
}

static gboolean plan_inputs(SlotdPlan *plan, const CrisisBase *base,
			    gint64 week_start, PlanInputs *inputs,
			    GError **error)
{
	double mean;

	if (!read_options(plan, base, inputs, &mean, error))
		return FALSE;
	if (mean >= 0) {
		rates_from_mean(base, mean, "option", inputs);
		return TRUE;
	}
	if (!rates_from_history(plan, base, week_start, inputs))
		rates_from_mean(base,
				crisis_monthly_to_hourly(
					base->plan.contacts_per_month),
				"config", inputs);
	return TRUE;
}

gboolean crisis_plan(SlotdPlan *plan, GError **error)
{
	const CrisisBase *base = volume_base(plan);
	g_autoptr(GArray) spans = NULL;
	PlanInputs inputs = { { 0 } };
	gint64 from, to, week_start;
	GDate monday;
	guint weeks;

	if (base == NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_SERVICE_UNAVAILABLE,
			    "the service has no configured crisis-duty base");
		return FALSE;
	}
	slotd_plan_range(plan, &from, &to);
	week_monday(from, &monday);
	week_start = local_hour(&monday, 0, 0);
	weeks = (guint)CLAMP((to - week_start + WEEK_SECONDS - 1) /
				     WEEK_SECONDS, 1, MAX_WEEKS);
	if (!plan_inputs(plan, base, week_start, &inputs, error))
		return FALSE;
	spans = roster_spans(plan, week_start,
			     local_hour(&monday, weeks, 0));
	for (guint w = 0; w < weeks; w++)
		add_week(plan, &inputs, spans, &monday, w);
	return TRUE;
}
