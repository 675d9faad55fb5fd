/* Home hospital: Planner1.Staffing rows per base and shift — visit
 * demand times nurse minutes per visit (on site plus driving) against
 * the productive minutes of the rostered team. The arithmetic is in
 * staffing.c; this file gathers the inputs. */
#include "home-hospital.h"
#include "staffing.h"

#include <string.h>

typedef struct {
	double visits_per_day; /* per base; < 0 when not given */
	gint32 extra_staff;
	char *extra_unit;  /* NULL: every base */
	char *extra_shift; /* NULL: every shift */
	char *unit;	   /* NULL: every base */
} PlanOptions;

/* What one base's history (or the options) says about demand. */
typedef struct {
	double *visits;	    /* per shift, visits a day */
	double on_site;	    /* mean on-site minutes */
	double round_trip;  /* mean driving minutes, both ways */
	const char *source; /* "history", "option", "none" */
} BaseDemand;

static void
read_options(SlotdPlan *plan, PlanOptions *ret)
{
	g_autoptr(GVariant) visits = slotd_plan_option(plan, "visits-per-day",
						       G_VARIANT_TYPE_DOUBLE);
	g_autoptr(GVariant) extra =
		slotd_plan_option(plan, "extra-staff", G_VARIANT_TYPE_INT32);
	g_autoptr(GVariant) extra_unit = slotd_plan_option(
		plan, "extra-staff-unit", G_VARIANT_TYPE_STRING);
	g_autoptr(GVariant) extra_shift = slotd_plan_option(
		plan, "extra-staff-shift", G_VARIANT_TYPE_STRING);
	g_autoptr(GVariant) unit =
		slotd_plan_option(plan, "unit", G_VARIANT_TYPE_STRING);

	ret->visits_per_day =
		visits ? MAX(g_variant_get_double(visits), 0) : -1;
	ret->extra_staff = extra ? g_variant_get_int32(extra) : 0;
	ret->extra_unit =
		extra_unit ? g_variant_dup_string(extra_unit, NULL) : NULL;
	ret->extra_shift =
		extra_shift ? g_variant_dup_string(extra_shift, NULL) : NULL;
	ret->unit = unit ? g_variant_dup_string(unit, NULL) : NULL;
}

static void
clear_options(PlanOptions *options)
{
	g_free(options->extra_unit);
	g_free(options->extra_shift);
	g_free(options->unit);
}

static double
extra_double(GVariant *extras, const char *key, guint *count)
{
	guint32 value;

	if (!extras || !g_variant_lookup(extras, key, "u", &value))
		return 0;
	(*count)++;
	return value;
}

/* Counts past visits per shift over the base's history window and the
 * mean minutes they took; TRUE when there was any. */
static gboolean
read_history(SlotdPlan *plan, const SlotdOffering *offering, gint64 from,
	     BaseDemand *demand)
{
	const HhBase *base = hh_base(offering);
	gint64 days = base->history_days;
	g_autoptr(GPtrArray) history =
		slotd_plan_history(plan, offering, from - days * 86400, from);
	double on_site = 0, trips = 0;
	guint n = 0, n_on_site = 0, n_trips = 0;

	for (guint i = 0; history && i < history->len; i++) {
		const SlotdBookingInfo *booking = g_ptr_array_index(history, i);
		const HhShift *shift;
		int minute;

		if (g_strcmp0(booking->status, "cancelled") == 0)
			continue;
		hh_local_time(booking->start, NULL, &minute);
		shift = hh_shift_at(base->shifts, base->n_shifts, minute);
		if (!shift)
			continue;
		demand->visits[shift - base->shifts] += 1.0 / days;
		on_site += extra_double(booking->extras, "on-site-minutes",
					&n_on_site);
		trips += extra_double(booking->extras, "round-trip-minutes",
				      &n_trips);
		n++;
	}
	if (n_on_site)
		demand->on_site = on_site / n_on_site;
	if (n_trips)
		demand->round_trip = trips / n_trips;
	return n > 0;
}

/* Demand of one base: history, then the visits-per-day option spread
 * over the shifts like the history (or like the rostered nurse hours
 * when there is none). Minutes default to the default episode and the
 * covered municipalities weighted equally. */
static void
gather_demand(SlotdPlan *plan, const SlotdOffering *offering,
	      const PlanOptions *options, gint64 from, BaseDemand *demand)
{
	const HhBase *base = hh_base(offering);
	guint n_covers = g_strv_length(base->covers);
	g_autofree int *one_way = g_new0(int, MAX(n_covers, 1));
	g_autofree double *weights = g_new0(double, base->n_shifts);
	gboolean had_history;

	for (guint i = 0; i < n_covers; i++)
		one_way[i] = MAX(slotd_offering_travel_minutes(
					 offering,
					 slotd_offering_municipality(offering),
					 base->covers[i]),
				 0);
	demand->on_site = hh_episode_mean_visit(base->default_episode);
	demand->round_trip = hh_staffing_mean_round_trip(one_way, n_covers);
	had_history = read_history(plan, offering, from, demand);
	demand->source = had_history ? "history" : "none";
	if (options->visits_per_day < 0)
		return;
	for (guint i = 0; i < base->n_shifts; i++)
		weights[i] = had_history
				     ? demand->visits[i]
				     : (double)base->shifts[i].nurses *
					       base->shifts[i].owned_minutes;
	hh_staffing_split(options->visits_per_day, weights, base->n_shifts,
			  demand->visits);
	demand->source = "option";
}

static guint
rostered(const SlotdOffering *offering, const HhShift *shift,
	 const PlanOptions *options)
{
	gint64 nurses = shift->nurses;

	if ((!options->extra_unit ||
	     strcmp(options->extra_unit, slotd_offering_unit(offering)) == 0) &&
	    (!options->extra_shift ||
	     strcmp(options->extra_shift, shift->name) == 0))
		nurses += options->extra_staff;
	return (guint)MAX(nurses, 0);
}

static GVariant *
shift_row(const SlotdOffering *offering, const HhShift *shift,
	  const HhStaffingInput *input, const HhStaffingFigures *figures,
	  const char *source, gint64 period_start)
{
	GVariantDict row;
	g_autofree char *start =
		g_strdup_printf("%02d:%02d", shift->start_minute / 60,
				shift->start_minute % 60);

	g_variant_dict_init(&row, NULL);
	g_variant_dict_insert(&row, "unit", "s", slotd_offering_unit(offering));
	g_variant_dict_insert(&row, "shift", "s", shift->name);
	g_variant_dict_insert(&row, "shift-start", "s", start);
	g_variant_dict_insert(&row, "shift-hours", "d", input->shift_hours);
	g_variant_dict_insert(&row, "period-start", "x", period_start);
	g_variant_dict_insert(&row, "visits-per-day", "d",
			      input->visits_per_day);
	g_variant_dict_insert(&row, "minutes-per-visit", "d",
			      input->minutes_per_visit);
	g_variant_dict_insert(&row, "arrivals-per-hour", "d",
			      figures->arrivals_per_hour);
	g_variant_dict_insert(&row, "staff-needed", "u", figures->staff_needed);
	g_variant_dict_insert(&row, "staff-rostered", "u", input->rostered);
	g_variant_dict_insert(&row, "utilisation", "d", figures->utilisation);
	g_variant_dict_insert(&row, "predicted-service-level", "d",
			      figures->service_level);
	g_variant_dict_insert(&row, "demand-source", "s", source);
	return g_variant_dict_end(&row);
}

static void
plan_base(SlotdPlan *plan, const SlotdOffering *offering,
	  const PlanOptions *options, gint64 from)
{
	const HhBase *base = hh_base(offering);
	g_autofree double *visits = g_new0(double, base->n_shifts);
	BaseDemand demand = { .visits = visits };

	gather_demand(plan, offering, options, from, &demand);
	for (guint i = 0; i < base->n_shifts; i++) {
		const HhShift *shift = &base->shifts[i];
		HhStaffingInput input = {
			.visits_per_day = visits[i],
			.minutes_per_visit = demand.on_site + demand.round_trip,
			.shift_hours = shift->length_minutes / 60.0,
			.owned_hours = shift->owned_minutes / 60.0,
			.productive_share = base->productive_share,
			.rostered = rostered(offering, shift, options),
		};
		HhStaffingFigures figures;

		hh_staffing_compute(&input, &figures);
		slotd_plan_add_row(plan,
				   shift_row(offering, shift, &input, &figures,
					     demand.source, from));
	}
}

static const SlotdOffering *
plan_base_at(SlotdPlan *plan, guint index)
{
	const SlotdOffering *offering = slotd_plan_offering(plan, index);

	if (g_strcmp0(slotd_offering_kind(offering), HH_KIND) != 0 ||
	    !hh_base(offering))
		return NULL;
	return offering;
}

/* A what-if naming a base or shift that does not exist would otherwise
 * quietly change nothing. */
static gboolean
check_names(SlotdPlan *plan, const PlanOptions *options, GError **error)
{
	gboolean unit_ok = !options->unit, extra_unit_ok = !options->extra_unit;
	gboolean shift_ok = !options->extra_shift;

	for (guint i = 0; i < slotd_plan_n_offerings(plan); i++) {
		const SlotdOffering *offering = plan_base_at(plan, i);
		const char *unit =
			offering ? slotd_offering_unit(offering) : NULL;

		if (!offering)
			continue;
		unit_ok |= g_strcmp0(options->unit, unit) == 0;
		extra_unit_ok |= g_strcmp0(options->extra_unit, unit) == 0;
		shift_ok |=
			options->extra_shift &&
			hh_base_shift(hh_base(offering), options->extra_shift);
	}
	if (unit_ok && extra_unit_ok && shift_ok)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "%s \"%s\" is not %s of this service; see ListUnits "
		    "and the service's windows",
		    !shift_ok  ? "extra-staff-shift"
		    : !unit_ok ? "unit"
			       : "extra-staff-unit",
		    !shift_ok  ? options->extra_shift
		    : !unit_ok ? options->unit
			       : options->extra_unit,
		    !shift_ok ? "a shift of any base" : "a home-hospital base");
	return FALSE;
}

gboolean
hh_plan(SlotdPlan *plan, GError **error)
{
	PlanOptions options;
	gint64 from, to;
	gboolean ok;

	read_options(plan, &options);
	slotd_plan_range(plan, &from, &to);
	ok = check_names(plan, &options, error);
	for (guint i = 0; ok && i < slotd_plan_n_offerings(plan); i++) {
		const SlotdOffering *offering = plan_base_at(plan, i);

		if (!offering ||
		    (options.unit &&
		     strcmp(options.unit, slotd_offering_unit(offering)) != 0))
			continue;
		plan_base(plan, offering, &options, from);
	}
	clear_options(&options);
	return ok;
}
