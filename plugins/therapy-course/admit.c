/* therapy-course: the admission rule. A session takes one place of its
 * slot (the offering's needs add a therapist, and a room on site);
 * it belongs to a course of course-sessions sessions booked as one
 * series; and each session keeps the course's weekly rhythm: session i
 * is i weeks after the course's first (its anchor), at the same local
 * time within week-tolerance-minutes — or, when that day has no
 * sessions at the unit (a public holiday, a closure), on another day
 * of the same week. Every session is checked against the anchor the
 * others carry, so a moved session keeps the rhythm of the rest. */
#include "therapy-course.h"

static gboolean
check_course_length(const SlotdOffering *offering, SlotdContext *ctx,
		    const TcOffering *tc, const SlotdRequest *request,
		    GError **error)
{
	if (request->series_length >= tc->min_sessions &&
	    request->series_length <= tc->max_sessions)
		return TRUE;
	/* The same for every slot of the offering. */
	slotd_context_refuse_offering(ctx);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "a short-therapy course at %s is %u to %u weekly "
		    "sessions booked together, not %u; find a course with "
		    "FindSeries (every=weekly, count=%u..%u) and book it "
		    "with BookSeries",
		    slotd_offering_unit(offering), tc->min_sessions,
		    tc->max_sessions, request->series_length,
		    tc->min_sessions, tc->max_sessions);
	return FALSE;
}

/* The course's anchor (its first session's planned start), as the
 * other sessions carry it; 0 when there are none to ask. */
static gint64
course_anchor(GPtrArray *others)
{
	for (guint i = 0; i < others->len; i++) {
		const SlotdBookingInfo *other = others->pdata[i];
		gint64 anchor;

		if (other->extras &&
		    g_variant_lookup(other->extras, "course-anchor", "x",
				     &anchor))
			return anchor;
	}
	for (guint i = 0; i < others->len; i++) {
		const SlotdBookingInfo *other = others->pdata[i];

		if (other->series_index == 0)
			return other->start;
	}
	return 0;
}

/* The planned day has no sessions at this unit at all. */
static gboolean
day_closed(SlotdContext *ctx, const SlotdOffering *offering, gint64 when)
{
	gint64 from, to;
	GArray *slots;

	tc_local_day(when, &from, &to);
	slots = slotd_context_offering_slots(ctx, offering, from, to);
	return !slots || slots->len == 0;
}

static gboolean
check_rhythm(const SlotdOffering *offering, SlotdContext *ctx,
	     const TcOffering *tc, const SlotdSlotInfo *slot,
	     const SlotdRequest *request, gint64 anchor,
	     gboolean *ret_shifted, GError **error)
{
	gint64 planned = tc_week_after(anchor, request->series_index);
	gint64 tolerance = (gint64)tc->tolerance_minutes * 60;
	gint64 week_from, week_to;
	g_autofree char *when = NULL;

	*ret_shifted = FALSE;
	if (ABS(slot->start - planned) <= tolerance)
		return TRUE;
	tc_local_week(planned, &week_from, &week_to);
	if (slot->start >= week_from && slot->start < week_to &&
	    day_closed(ctx, offering, planned)) {
		*ret_shifted = TRUE;
		return TRUE;
	}
	when = slotd_format_local(planned);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "session %u of %u of this course is due at %s, a week "
		    "after the one before, within %u minutes (another day "
		    "of that week only when the unit has no sessions that "
		    "day); choose a slot then",
		    request->series_index + 1, request->series_length, when,
		    tc->tolerance_minutes);
	return FALSE;
}

gboolean
tc_admit(const SlotdOffering *offering, SlotdContext *ctx,
	 const SlotdSlotInfo *slot, const SlotdRequest *request,
	 GError **error)
{
	const TcOffering *tc = tc_offering(offering);
	SlotdCost cost = { 1, 0 };
	g_autoptr(GPtrArray) others = NULL;
	gboolean shifted = FALSE;
	gint64 anchor;

	if (request->client_ref && !request->client_ref[0]) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CLIENT_REF,
			    "a therapy course needs the client's "
			    "pseudonymous reference; it cannot be "
			    "anonymous");
		return FALSE;
	}
	if (!check_course_length(offering, ctx, tc, request, error) ||
	    !slotd_context_consume(ctx, &cost, error))
		return FALSE;
	if ((gint64)tc->session_minutes * 60 < slot->end - slot->start)
		slotd_context_set_end(ctx, slot->start +
						   (gint64)tc->session_minutes *
							   60);
	others = slotd_context_series_bookings(ctx);
	anchor = course_anchor(others);
	if (!anchor && request->series_index == 0)
		anchor = slot->start; /* the course begins here */
	/* FindSeries asks about later sessions before any is booked: its
	 * weekly pattern keeps the rhythm there. */
	if (anchor && !check_rhythm(offering, ctx, tc, slot, request, anchor,
				    &shifted, error))
		return FALSE;
	if (anchor)
		slotd_context_set_extra(ctx, "course-anchor",
					g_variant_new_int64(anchor));
	slotd_context_set_extra(ctx, "course-session",
				g_variant_new_uint32(request->series_index +
						     1));
	slotd_context_set_extra(ctx, "course-sessions",
				g_variant_new_uint32(request->series_length));
	slotd_context_set_extra(ctx, "session-minutes",
				g_variant_new_uint32(tc->session_minutes));
	if (request->language)
		slotd_context_set_extra(ctx, "course-language",
					g_variant_new_string(
						request->language));
	if (shifted)
		slotd_context_set_extra(ctx, "moved-in-week",
					g_variant_new_boolean(TRUE));
	return TRUE;
}
