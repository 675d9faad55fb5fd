/* Home hospital: the rules of a care episode, a series of visits —
 * the template's number of visits, one base for all of them, and the
 * template's interval (real time) between consecutive visits. The same
 * rule answers for a visit being booked with BookSeries (the earlier
 * visits are already stored in the same transaction) and for a visit
 * being rescheduled (both neighbours are stored): each visit must sit
 * an interval from the visits before and after it in the series. */
#include "home-hospital.h"

static gboolean
check_visit_count(const SlotdRequest *request, const HhEpisode *episode,
		  GError **error)
{
	guint fewest, most;
	g_autofree char *interval = hh_episode_format_interval(episode);

	hh_episode_visit_range(episode, &fewest, &most);
	if (request->series_length >= fewest && request->series_length <= most)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "care episodes of template %s have %u-%u visits (every "
		    "%s for %u-%u days) but this series has %u; book an "
		    "episode of that length, and a new episode if the doctor "
		    "extends the treatment",
		    episode->name, fewest, most, interval, episode->days_min,
		    episode->days_max, request->series_length);
	return FALSE;
}

static gboolean
check_same_base(const SlotdOffering *offering,
		const SlotdBookingInfo *other, guint number, GError **error)
{
	if (g_strcmp0(other->unit, slotd_offering_unit(offering)) == 0)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "all visits of a care episode are made from one base, but "
		    "visit %u is at %s and visit %u at %s; choose every slot "
		    "at the base that covers the client's home",
		    other->series_index + 1, other->unit, number,
		    slotd_offering_unit(offering));
	return FALSE;
}

/* `gap`: real seconds from visit `earlier` (1-based) to the next. */
static gboolean
check_gap(const HhEpisode *episode, guint earlier, gint64 gap, GError **error)
{
	g_autofree char *interval = NULL;
	g_autofree char *tolerance = NULL;
	g_autofree char *actual = NULL;

	if (hh_episode_check_spacing(episode, gap) == HH_SPACING_OK)
		return TRUE;
	interval = hh_episode_format_interval(episode);
	tolerance = hh_format_duration(episode->tolerance * 60);
	actual = hh_format_duration(gap < 0 ? -gap : gap);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "visit %u of the %s episode starts %s %s visit %u; "
		    "consecutive visits must be %s apart (± %s, real time) "
		    "and in order. Choose a slot about %s after visit %u",
		    earlier + 1, episode->name, actual,
		    gap < 0 ? "before" : "after", earlier, interval,
		    tolerance, interval, earlier);
	return FALSE;
}

gboolean
hh_episode_admit(const SlotdOffering *offering, SlotdContext *ctx,
		 const SlotdSlotInfo *slot, const SlotdRequest *request,
		 const HhVisit *visit, gint64 *ret_episode_start,
		 GError **error)
{
	const HhEpisode *episode = visit->episode;
	g_autoptr(GPtrArray) others = NULL;

	*ret_episode_start = slot->start;
	if (request->series_length <= 1)
		return TRUE;
	if (!check_visit_count(request, episode, error))
		return FALSE;
	others = slotd_context_series_bookings(ctx);
	/* The visit before this one first, then the one after it; the
	 * base of the nearest visit is the one a message names. */
	for (guint i = 0; i < others->len; i++) {
		const SlotdBookingInfo *other = others->pdata[i];
		guint index = request->series_index;

		if (other->series_index == 0 && index > 0)
			*ret_episode_start = other->start;
		if (other->series_index + 1 == index &&
		    (!check_same_base(offering, other, index + 1, error) ||
		     !check_gap(episode, index, slot->start - other->start,
				error)))
			return FALSE;
	}
	for (guint i = others->len; i > 0; i--) {
		const SlotdBookingInfo *other = others->pdata[i - 1];
		guint index = request->series_index;

		if (!check_same_base(offering, other, index + 1, error) ||
		    (other->series_index == index + 1 &&
		     !check_gap(episode, index + 1, other->start - slot->start,
				error)))
			return FALSE;
	}
	return TRUE;
}
