/* Home hospital: the rules of a care episode booked with BookSeries —
 * one base for all visits, the template's number of visits, and the
 * template's interval (real time) between consecutive visits — and
 * the same interval when one visit of an episode is rescheduled. */
#include "home-hospital.h"

#include <string.h>

/* Which stored visit to look for. */
typedef struct {
	const char *client_ref;
	const char *episode;
	guint32 number;	      /* its episode-visit */
	guint32 visits;	      /* episode-visits of its episode */
	gint64 episode_start; /* 0: any (the newest match wins) */
} VisitQuery;

/* A visit found in the store. */
typedef struct {
	gint64 id; /* numeric booking id, -1 none */
	gint64 start;
	gint64 episode_start;
	const char *unit;
} FoundVisit;

static guint32
extra_uint(GVariant *extras, const char *key)
{
	guint32 value = 0;

	if (extras)
		g_variant_lookup(extras, key, "u", &value);
	return value;
}

static gint64
extra_episode_start(const SlotdBookingInfo *booking)
{
	gint64 start = booking->start;

	g_variant_lookup(booking->extras, "episode-start", "x", &start);
	return start;
}

static gboolean
matches(const SlotdBookingInfo *booking, const VisitQuery *query)
{
	const char *name = NULL;

	if (g_strcmp0(booking->client_ref, query->client_ref) != 0 ||
	    !booking->extras)
		return FALSE;
	g_variant_lookup(booking->extras, "episode", "&s", &name);
	return g_strcmp0(name, query->episode) == 0 &&
	       extra_uint(booking->extras, "episode-visit") == query->number &&
	       extra_uint(booking->extras, "episode-visits") == query->visits &&
	       (!query->episode_start ||
		extra_episode_start(booking) == query->episode_start);
}

static void
consider(const SlotdBookingInfo *booking, const SlotdOffering *offering,
	 FoundVisit *best)
{
	/* Ids grow with every insert: the newest match is this series'. */
	gint64 id = g_ascii_strtoll(booking->id + 2, NULL, 10);

	if (id <= best->id)
		return;
	best->id = id;
	best->start = booking->start;
	best->episode_start = extra_episode_start(booking);
	best->unit = slotd_offering_unit(offering);
}

/* Looks through the booked slots of `offering` starting in [from, to). */
static void
find_visit(SlotdContext *ctx, const SlotdOffering *offering,
	   const VisitQuery *query, gint64 from, gint64 to, FoundVisit *best)
{
	GArray *slots = slotd_context_offering_slots(ctx, offering, from, to);

	for (guint i = 0; slots && i < slots->len; i++) {
		const SlotdSlotInfo *info =
			&g_array_index(slots, SlotdSlotInfo, i);
		g_autoptr(GPtrArray) bookings = NULL;

		if (info->booked == 0)
			continue;
		bookings = slotd_context_slot_bookings(ctx, info->id);
		for (guint j = 0; bookings && j < bookings->len; j++) {
			const SlotdBookingInfo *booking =
				g_ptr_array_index(bookings, j);

			if (booking->start >= from && booking->start < to &&
			    matches(booking, query))
				consider(booking, offering, best);
		}
	}
}

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

/* Names the base holding the previous visit when it is not this one. */
static gboolean
other_base_error(SlotdContext *ctx, const SlotdOffering *offering,
		 const VisitQuery *query, gint64 from, gint64 to,
		 GError **error)
{
	g_autoptr(GPtrArray) siblings = slotd_offering_siblings(offering);
	FoundVisit elsewhere = { .id = -1 };

	for (guint i = 0; siblings && i < siblings->len; i++) {
		const SlotdOffering *sibling = g_ptr_array_index(siblings, i);

		if (sibling != offering)
			find_visit(ctx, sibling, query, from, to, &elsewhere);
	}
	if (elsewhere.id < 0)
		return FALSE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "all visits of a care episode are made from one base, but "
		    "visit %u is at %s and visit %u at %s; choose every slot "
		    "at the base that covers the client's home",
		    query->number, elsewhere.unit, query->number + 1,
		    slotd_offering_unit(offering));
	return TRUE;
}

/* `gap`: real seconds from visit `earlier` to the next one. */
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
	actual = hh_format_duration(gap);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "visit %u of the %s episode starts %s after visit %u; "
		    "consecutive visits must be %s apart (± %s, real time). "
		    "Choose the slots in time order, about %s apart",
		    earlier + 1, episode->name, actual, earlier, interval,
		    tolerance, interval);
	return FALSE;
}

static gboolean
missing_error(const VisitQuery *query, const HhEpisode *episode, gint64 reach,
	      GError **error)
{
	g_autofree char *interval = hh_episode_format_interval(episode);
	g_autofree char *window = hh_format_duration(reach);

	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "visit %u of the %s episode is more than %s away from "
		    "visit %u; consecutive visits must be %s apart (real "
		    "time). Choose the slots in time order, about %s apart",
		    query->number + 1, episode->name, window, query->number,
		    interval, interval);
	return FALSE;
}

static gint64
episode_reach(const HhEpisode *episode)
{
	return (gint64)(episode->interval_max + episode->tolerance) * 60;
}

/* A later visit of a series: the one before it was stored moments ago
 * in the same transaction, at this base, an interval earlier. */
static gboolean
check_series_visit(const SlotdOffering *offering, SlotdContext *ctx,
		   const SlotdSlotInfo *slot, const SlotdRequest *request,
		   const HhEpisode *episode, gint64 *ret_episode_start,
		   GError **error)
{
	VisitQuery query = { request->client_ref, episode->name,
			     request->series_index, request->series_length, 0 };
	/* Twice the reach back, so a visit booked too late is found and
	 * the message can say by how much. */
	gint64 reach = episode_reach(episode);
	gint64 from = slot->start - 2 * reach, to = slot->start + reach + 1;
	FoundVisit previous = { .id = -1 };

	find_visit(ctx, offering, &query, from, to, &previous);
	if (previous.id < 0) {
		if (other_base_error(ctx, offering, &query, from, to, error))
			return FALSE;
		return missing_error(&query, episode, 2 * reach, error);
	}
	if (!check_gap(episode, query.number, slot->start - previous.start,
		       error))
		return FALSE;
	*ret_episode_start = previous.episode_start;
	return TRUE;
}

/* A visit of an episode moved by Reschedule (it comes back with its
 * own keys): it must still sit an interval from its neighbours. */
static gboolean
check_moved_visit(const SlotdOffering *offering, SlotdContext *ctx,
		  const SlotdSlotInfo *slot, const SlotdRequest *request,
		  const HhEpisode *episode, GError **error)
{
	VisitQuery query = { request->client_ref, episode->name, 0, 0, 0 };
	gint64 reach = 2 * episode_reach(episode);
	FoundVisit before = { .id = -1 }, after = { .id = -1 };
	guint32 number = 0;

	if (!g_variant_lookup(request->options, "episode-visits", "u",
			      &query.visits) ||
	    !g_variant_lookup(request->options, "episode-visit", "u",
			      &number) ||
	    !g_variant_lookup(request->options, "episode-start", "x",
			      &query.episode_start) ||
	    query.visits < 2)
		return TRUE;
	query.number = number - 1;
	find_visit(ctx, offering, &query, slot->start - reach,
		   slot->start + reach, &before);
	query.number = number + 1;
	find_visit(ctx, offering, &query, slot->start - reach,
		   slot->start + reach, &after);
	return (before.id < 0 ||
		check_gap(episode, number - 1, slot->start - before.start,
			  error)) &&
	       (after.id < 0 ||
		check_gap(episode, number, after.start - slot->start, error));
}

gboolean
hh_episode_admit(const SlotdOffering *offering, SlotdContext *ctx,
		 const SlotdSlotInfo *slot, const SlotdRequest *request,
		 const HhVisit *visit, gint64 *ret_episode_start,
		 GError **error)
{
	const HhEpisode *episode = visit->episode;

	*ret_episode_start = slot->start;
	if (request->series_length <= 1)
		return !request->options ||
		       check_moved_visit(offering, ctx, slot, request, episode,
					 error);
	if (!check_visit_count(request, episode, error))
		return FALSE;
	if (request->series_index == 0)
		return TRUE;
	return check_series_visit(offering, ctx, slot, request, episode,
				  ret_episode_start, error);
}
