/* Home hospital: the admission rule — what a visit takes (a nurse for
 * the visit and the drive both ways), coverage, the shift the visit
 * belongs to, the Swedish-speaking shifts, the episode rules and the
 * daily visit cap — and the keys a booking carries. FindSlots asks the
 * same rule, so what it offers is what Book accepts. */
#include "home-hospital.h"

static gboolean
check_swedish(const SlotdOffering *offering, const HhShift *shift,
	      const SlotdSlotInfo *slot, const SlotdRequest *request,
	      GError **error)
{
	g_autofree char *when = NULL;
	g_autofree char *swedish = NULL;

	if (g_strcmp0(request->language, "sv") != 0 ||
	    (shift && shift->swedish))
		return TRUE;
	when = slotd_format_local(slot->start);
	swedish = hh_base_describe_swedish(hh_base(offering));
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "the %s shift of %s has no Swedish-speaking nurse (visit "
		    "at %s); Swedish visits from this base are possible in "
		    "the shifts %s. Choose a slot in those hours.",
		    shift ? shift->name : "off-shift",
		    slotd_offering_unit(offering), when,
		    swedish[0] ? swedish : "(none)");
	return FALSE;
}

static gint64
local_instant(const GDate *date, int minute)
{
	GDate day = *date;

	g_date_add_days(&day, minute / HH_MINUTES_PER_DAY);
	minute %= HH_MINUTES_PER_DAY;
	return slotd_local_to_utc(g_date_get_year(&day), g_date_get_month(&day),
				  g_date_get_day(&day), minute / 60,
				  minute % 60);
}

/* A visit is made by the nurse of the shift it starts in, who is back
 * at the base before that shift ends (its handover included). It takes
 * capacity only in the slots its own shift owns: in the handover the
 * next shift's nurses stay free for the next shift's visits. Shifts
 * are wall-clock times, so this holds on the nights the clocks change.
 * Sets the minutes the visit takes of its shift's slots. */
static gboolean
check_within_shift(const HhShift *shift, const SlotdSlotInfo *slot,
		   const HhVisit *visit, guint *ret_minutes, GError **error)
{
	g_autofree char *when = NULL;
	g_autofree char *ends = NULL;
	gint64 owned_end, shift_end, visit_end;
	GDate date;
	int minute;

	*ret_minutes = visit->run_minutes;
	if (!shift)
		return TRUE;
	hh_local_time(slot->start, &date, &minute);
	if (minute < shift->start_minute)
		g_date_subtract_days(&date, 1); /* began the evening before */
	owned_end = local_instant(&date, shift->start_minute +
						 shift->owned_minutes);
	shift_end = local_instant(&date, shift->start_minute +
						 shift->length_minutes);
	visit_end = slot->start + (gint64)visit->run_minutes * 60;
	if (visit_end <= shift_end) {
		*ret_minutes = (guint)(MIN(visit_end, owned_end) -
				       slot->start) / 60;
		return TRUE;
	}
	when = slotd_format_local(slot->start);
	ends = slotd_format_local(shift_end);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "a visit from %s takes %u minutes with the drive both "
		    "ways and the %s shift ends at %s; its nurse is back at "
		    "the base by then. Choose an earlier slot, or one in the "
		    "next shift",
		    when, visit->run_minutes, shift->name, ends + 11);
	return FALSE;
}

/* A visit already started is late for a planned round; only an urgent
 * call sends a nurse out at once. */
static gboolean
check_not_started(const SlotdSlotInfo *slot, const SlotdRequest *request,
		  GError **error)
{
	g_autofree char *when = NULL;

	if (slot->start >= request->now ||
	    g_strcmp0(request->urgency, "urgent") == 0 ||
	    g_strcmp0(request->urgency, "immediate") == 0)
		return TRUE;
	when = slotd_format_local(slot->start);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "this slot started at %s; book a routine visit from the "
		    "next slot on, or pass urgency=urgent to send a nurse now",
		    when);
	return FALSE;
}

/* Where the visit sits in its episode. A rescheduled booking keeps the
 * place it had; Book and BookSeries take it from the call. */
static void
episode_place(const SlotdRequest *request, const SlotdSlotInfo *slot,
	      guint32 *ret_number, guint32 *ret_visits,
	      gint64 *ret_episode_start)
{
	*ret_number = request->series_index + 1;
	*ret_visits = request->series_length;
	/* Bookings made before series were stored keep their place in
	 * their own keys. */
	if (request->series_length > 1 || !request->options ||
	    !slotd_request_option(request, "episode-visits", "u",
			      ret_visits))
		return;
	slotd_request_option(request, "episode-visit", "u", ret_number);
	if (*ret_number > 1)
		slotd_request_option(request, "episode-start", "x",
				 ret_episode_start);
	else
		*ret_episode_start = slot->start;
}

static void
attach_extras(SlotdContext *ctx, const HhVisit *visit, const HhShift *shift,
	      const SlotdSlotInfo *slot, const SlotdRequest *request,
	      gint64 episode_start)
{
	guint32 number, visits;

	episode_place(request, slot, &number, &visits, &episode_start);
	slotd_context_set_extra(ctx, "episode",
				g_variant_new_string(visit->episode->name));
	slotd_context_set_extra(ctx, "episode-visit",
				g_variant_new_uint32(number));
	slotd_context_set_extra(ctx, "episode-visits",
				g_variant_new_uint32(visits));
	slotd_context_set_extra(ctx, "episode-start",
				g_variant_new_int64(episode_start));
	slotd_context_set_extra(ctx, "first-visit",
				g_variant_new_boolean(visit->first_visit));
	slotd_context_set_extra(ctx, "on-site-minutes",
				g_variant_new_uint32(visit->on_site_minutes));
	slotd_context_set_extra(
		ctx, "round-trip-minutes",
		g_variant_new_uint32(2 * visit->travel_minutes));
	if (shift)
		slotd_context_set_extra(ctx, "shift",
					g_variant_new_string(shift->name));
}

gboolean
hh_admit(const SlotdOffering *offering, SlotdContext *ctx,
	 const SlotdSlotInfo *slot, const SlotdRequest *request, GError **error)
{
	const HhBase *base = hh_base(offering);
	const HhShift *shift;
	gint64 episode_start;
	HhVisit visit;
	SlotdCost cost = { 1, 0 };
	int minute;

	if (request->client_ref && !request->client_ref[0]) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CLIENT_REF,
			    "a home-hospital visit needs the client's "
			    "pseudonymous reference; anonymous visits are "
			    "not possible at home");
		return FALSE;
	}
	if (!hh_visit_resolve(offering, request, &visit, error)) {
		/* Coverage and the request's keys do not depend on the
		 * slot. */
		slotd_context_refuse_offering(ctx);
		return FALSE;
	}
	hh_local_time(slot->start, NULL, &minute);
	shift = hh_shift_at(base->shifts, base->n_shifts, minute);
	if (!check_not_started(slot, request, error) ||
	    !check_swedish(offering, shift, slot, request, error) ||
	    !check_within_shift(shift, slot, &visit, &cost.minutes, error) ||
	    !slotd_context_consume(ctx, &cost, error) ||
	    !hh_episode_admit(offering, ctx, slot, request, &visit,
			      &episode_start, error))
		return FALSE;
	slotd_context_set_end(ctx, slot->start +
					   (gint64)visit.run_minutes * 60);
	attach_extras(ctx, &visit, shift, slot, request, episode_start);
	return TRUE;
}

/* GetBooking shows how many visits the client has that day, so staff
 * see the billing cap before they add one. */
void
hh_describe(const SlotdOffering *offering, SlotdContext *ctx,
	    const SlotdBookingInfo *booking, GVariantDict *ret_keys)
{
	gint64 from, to;

	if (!booking->client_ref || !booking->client_ref[0])
		return;
	hh_local_day(booking->start, &from, &to);
	g_variant_dict_insert(ret_keys, "visits-that-day", "u",
			      slotd_context_count_client_bookings(
				      ctx, booking->client_ref, from, to));
}
