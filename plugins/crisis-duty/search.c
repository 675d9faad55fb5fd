/* crisis-duty: looking at stored bookings from inside a booking
 * transaction — who of the Swedish speakers is busy, and the earliest
 * start any base of the service can give a request. */
#include "crisis-duty.h"

#include <string.h>

typedef struct {
	SlotdContext *ctx;
	const SlotdRequest *request;
	CrisisUrgency urgency;
	gint64 until;
} Search;

static void add_span(GArray *spans, GHashTable *seen,
		     const SlotdBookingInfo *booking)
{
	const char *language = NULL;
	CrisisSpan span = { booking->start, booking->end };

	/* A contact that runs over several slots is listed in each. */
	if (!g_hash_table_add(seen, g_strdup(booking->id)))
		return;
	if (booking->extras == NULL ||
	    !g_variant_lookup(booking->extras, "contact-language", "&s",
			      &language) ||
	    strcmp(language, "sv") != 0)
		return;
	g_variant_lookup(booking->extras, "contact-end", "x", &span.end);
	g_array_append_val(spans, span);
}

GArray *crisis_swedish_spans(SlotdContext *ctx, const SlotdSlotInfo *slots,
			     guint n_slots)
{
	GArray *spans = g_array_new(FALSE, FALSE, sizeof(CrisisSpan));
	g_autoptr(GHashTable) seen =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; i < n_slots; i++) {
		g_autoptr(GPtrArray) bookings = NULL;

		if (slots[i].booked == 0)
			continue;
		bookings = slotd_context_slot_bookings(ctx, slots[i].id);
		for (guint j = 0; bookings && j < bookings->len; j++)
			add_span(spans, seen, g_ptr_array_index(bookings, j));
	}
	return spans;
}

/* Would this base take the request at all (the checks FindSlots and
 * the core make before any slot is looked at)? */
static gboolean base_serves(const SlotdOffering *base,
			    const SlotdRequest *request, CrisisJob *ret_job)
{
	guint max_travel = slotd_offering_max_travel_minutes(base);

	if (g_strcmp0(slotd_offering_kind(base), CRISIS_KIND) != 0 ||
	    crisis_base(base) == NULL)
		return FALSE;
	if (request->language != NULL &&
	    !slotd_offering_has_language(base, request->language))
		return FALSE;
	if (!crisis_job_for(base, request, ret_job, NULL))
		return FALSE;
	if (max_travel > 0 && request->municipality != NULL) {
		gint travel = slotd_offering_travel_minutes(
			base, slotd_offering_municipality(base),
			request->municipality);

		if (travel < 0 || (guint)travel > max_travel)
			return FALSE;
	}
	return TRUE;
}

static gboolean swedish_free(const CrisisBase *base, const GArray *spans,
			     const SlotdSlotInfo *slot, const SlotdCost *cost)
{
	guint busy = crisis_peak_overlap((const CrisisSpan *)spans->data,
					 spans->len, slot->start,
					 crisis_run_end(slot, cost));

	return busy < crisis_swedish_speakers(base, slot->kind);
}

/* The first slot of `base` before `best` that takes the whole contact;
 * FALSE when there is none. */
static gboolean earliest_at(const Search *search, const SlotdOffering *base,
			    gint64 best, gint64 *ret_start)
{
	const SlotdRequest *request = search->request;
	gboolean swedish = crisis_is_swedish(request);
	g_autoptr(GArray) spans = NULL;
	CrisisJob job;
	GArray *slots;
	gint64 from;

	if (!base_serves(base, request, &job))
		return FALSE;
	/* A booking holds seats in every slot it spans, so the slots
	 * from the one in progress on list every contact that matters. */
	from = request->now - (gint64)slotd_offering_slot_minutes(base) * 60;
	slots = slotd_context_offering_slots(
		search->ctx, base, from,
		search->until + job.cost.minutes * 60 + 3600);
	if (slots == NULL)
		return FALSE;
	if (swedish)
		spans = crisis_swedish_spans(search->ctx,
					     (SlotdSlotInfo *)slots->data,
					     slots->len);
	for (guint i = 0; i < slots->len; i++) {
		const SlotdSlotInfo *slot =
			&g_array_index(slots, SlotdSlotInfo, i);

		if (slot->start >= best || slot->start > search->until)
			break;
		if (!crisis_slot_open(search->urgency, slot->start, slot->end,
				      request->now) ||
		    crisis_run_fit((SlotdSlotInfo *)slots->data, slots->len, i,
				   &job.cost, TRUE) != CRISIS_RUN_FITS ||
		    (swedish && !swedish_free(crisis_base(base), spans, slot,
					      &job.cost)))
			continue;
		*ret_start = slot->start;
		return TRUE;
	}
	return FALSE;
}

void crisis_find_earliest(SlotdContext *ctx, const SlotdOffering *self,
			  const SlotdRequest *request, CrisisUrgency urgency,
			  gint64 until, CrisisEarliest *ret_earliest)
{
	Search search = { ctx, request, urgency, until };
	g_autoptr(GPtrArray) siblings = slotd_offering_siblings(self);
	gint64 start;

	memset(ret_earliest, 0, sizeof(*ret_earliest));
	ret_earliest->start = G_MAXINT64;
	/* This base first, so that it wins a tie. */
	if (earliest_at(&search, self, G_MAXINT64, &start)) {
		ret_earliest->found = TRUE;
		ret_earliest->offering = self;
		ret_earliest->start = start;
	}
	for (guint i = 0; siblings && i < siblings->len; i++) {
		const SlotdOffering *base = g_ptr_array_index(siblings, i);

		if (base == self ||
		    !earliest_at(&search, base, ret_earliest->start, &start))
			continue;
		ret_earliest->found = TRUE;
		ret_earliest->offering = base;
		ret_earliest->start = start;
	}
	ret_earliest->in_progress = ret_earliest->found &&
				    ret_earliest->start < request->now;
}

char *crisis_describe_earliest(const CrisisEarliest *earliest)
{
	g_autofree char *when = slotd_format_local(earliest->start);

	return g_strdup_printf("%s at %s%s", when,
			       slotd_offering_unit(earliest->offering),
			       earliest->in_progress
				       ? " (the slot in progress)"
				       : "");
}
