/* crisis-duty: looking at stored bookings and holds from inside the
 * admission rule — which Swedish speakers are busy. */
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

		if (slots[i].booked + slots[i].held == 0)
			continue;
		bookings = slotd_context_slot_bookings(ctx, slots[i].id);
		for (guint j = 0; bookings && j < bookings->len; j++)
			add_span(spans, seen, g_ptr_array_index(bookings, j));
	}
	return spans;
}
