/* Home hospital: the slots of a shift and the nurse time one visit
 * takes (on site plus the drive from the base and back). */
#include "home-hospital.h"


void
hh_local_time(gint64 utc, GDate *ret_date, int *ret_minute_of_day)
{
	slotd_local_time(utc, ret_date, ret_minute_of_day);
}

void
hh_local_day(gint64 utc, gint64 *ret_from, gint64 *ret_to)
{
	GDate date;

	hh_local_time(utc, &date, NULL);
	*ret_from = slotd_local_to_utc(g_date_get_year(&date),
				       g_date_get_month(&date),
				       g_date_get_day(&date), 0, 0);
	g_date_add_days(&date, 1);
	*ret_to = slotd_local_to_utc(g_date_get_year(&date),
				     g_date_get_month(&date),
				     g_date_get_day(&date), 0, 0);
}

/* Each shift owns the slots from its start until the next shift
 * starts; its handover overlap with the next team is not capacity for
 * visits, and two windows must never both offer a slot at one time.
 * The overlap is cut off the real end of the occurrence: handovers are
 * at 07, 14:30 and 22, never inside a daylight-saving jump, so a night
 * shift keeps its real length (10 h in October, 8 h in March). */
gboolean
hh_shape(const SlotdOffering *offering, const SlotdWindow *window,
	 GArray *ret_slots, GError **error)
{
	const HhBase *base = hh_base(offering);
	const HhShift *shift = base ? hh_base_shift(base, window->name) : NULL;
	gint64 step = (gint64)slotd_offering_slot_minutes(offering) * 60;
	gint64 end = window->end;

	if (shift)
		end -= (gint64)(shift->length_minutes - shift->owned_minutes) *
		       60;
	if (window->capacity == 0 || step <= 0)
		return TRUE;
	for (gint64 start = window->start; start < end; start += step) {
		SlotdSlotSpec spec = {
			.start = start,
			.end = MIN(start + step, end),
			.capacity = window->capacity,
			.kind = "visit",
		};

		g_array_append_val(ret_slots, spec);
	}
	return TRUE;
}

static char *
episode_names(const HhBase *base)
{
	g_autoptr(GString) names = g_string_new(NULL);

	for (guint i = 0; i < base->n_episodes; i++)
		g_string_append_printf(names, "%s%s", i ? ", " : "",
				       base->episodes[i].name);
	return g_string_free(g_steal_pointer(&names), FALSE);
}

/* The template and on-site minutes the call asks for. */
static gboolean
resolve_on_site(const HhBase *base, const SlotdRequest *request,
		HhVisit *ret_visit, GError **error)
{
	const char *name = NULL;
	guint32 minutes = 0;
	gboolean follow_up = FALSE, given = FALSE;

	if (request->options) {
		slotd_request_option(request, "episode", "&s", &name);
		given = slotd_request_option(request, "visit-minutes", "u",
					 &minutes);
		slotd_request_option(request, "follow-up", "b",
				 &follow_up);
	}
	ret_visit->episode =
		name ? hh_base_episode(base, name) : base->default_episode;
	if (!ret_visit->episode) {
		g_autofree char *known = episode_names(base);
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "unknown care episode \"%s\"; this base knows %s",
			    name, known);
		return FALSE;
	}
	if (given && (minutes == 0 || minutes > 720)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "visit-minutes must be 1-720 (on-site minutes of "
			    "one visit); leave it out to use the template");
		return FALSE;
	}
	/* A rescheduled booking comes back with its own keys: it stays
	 * the first visit or a later one. */
	if (!request->options ||
	    !slotd_request_option(request, "first-visit", "b",
			      &ret_visit->first_visit))
		ret_visit->first_visit =
			request->series_index == 0 && !follow_up;
	if (given)
		ret_visit->on_site_minutes = minutes;
	else if (ret_visit->first_visit)
		ret_visit->on_site_minutes = ret_visit->episode->first_visit;
	else
		ret_visit->on_site_minutes = ret_visit->episode->visit;
	return TRUE;
}

gboolean
hh_visit_resolve(const SlotdOffering *offering, const SlotdRequest *request,
		 HhVisit *ret_visit, GError **error)
{
	const HhBase *base = hh_base(offering);
	g_autofree char *home = NULL;
	gint travel;

	if (!request->municipality || !request->municipality[0]) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "home visits need the client's municipality: "
			    "pass municipality (code or name)");
		return FALSE;
	}
	home = hh_municipality_resolve(offering, request->municipality);
	if (!home) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "unknown municipality \"%s\"; give its code or "
			    "its Finnish or Swedish name",
			    request->municipality);
		return FALSE;
	}
	if (!hh_base_covers(base, home)) {
		hh_coverage_error(offering, home, error);
		return FALSE;
	}
	if (!resolve_on_site(base, request, ret_visit, error))
		return FALSE;
	travel = slotd_offering_travel_minutes(
		offering, slotd_offering_municipality(offering), home);
	ret_visit->travel_minutes = (guint)MAX(travel, 0);
	ret_visit->run_minutes = hh_visit_run_minutes(
		ret_visit->on_site_minutes, ret_visit->travel_minutes,
		slotd_offering_slot_minutes(offering));
	return TRUE;
}
