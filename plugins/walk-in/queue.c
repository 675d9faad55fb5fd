/* walk-in: the live queue of a session as GetBooking shows it: the
 * ticket's position among those still waiting, the estimated start
 * and the queue length. Nothing here is stored; it is worked out from
 * the session's bookings each time. */
#include "walk-in.h"

static guint
booking_ticket(const SlotdBookingInfo *booking)
{
	guint32 ticket = 0;

	if (booking->extras == NULL ||
	    !g_variant_lookup(booking->extras, "ticket", "u", &ticket))
		return 0;
	return ticket;
}

GArray *
walk_in_queue_entries(GPtrArray *bookings)
{
	GArray *entries = g_array_new(FALSE, FALSE, sizeof(WalkInQueueEntry));

	for (guint i = 0; bookings != NULL && i < bookings->len; i++) {
		const SlotdBookingInfo *booking = bookings->pdata[i];
		WalkInQueueEntry entry = {
			.ticket = booking_ticket(booking),
			.waiting = walk_in_status_waiting(booking->status),
		};

		/* Only check-ins carry tickets. */
		if (entry.ticket > 0)
			g_array_append_val(entries, entry);
	}
	return entries;
}

void
walk_in_describe(const SlotdOffering *offering, SlotdContext *ctx,
		 const SlotdBookingInfo *booking, GVariantDict *ret_keys)
{
	const WalkInConfig *config = walk_in_config(offering);
	const WalkInWindow *window;
	guint ticket = booking_ticket(booking);
	g_autoptr(GPtrArray) bookings = NULL;
	g_autoptr(GArray) entries = NULL;
	guint position;

	/* Referral bookings have a time of their own, not a queue. */
	if (config == NULL || ticket == 0)
		return;
	bookings = slotd_context_slot_bookings(ctx, booking->slot_id);
	entries = walk_in_queue_entries(bookings);
	g_variant_dict_insert(ret_keys, "queue-length", "u",
			      walk_in_queue_length((WalkInQueueEntry *)
						   entries->data,
						   entries->len));
	if (!walk_in_status_waiting(booking->status)) {
		/* Seen, gone or cancelled: no longer in the queue. */
		g_variant_dict_insert(ret_keys, "position", "u", 0);
		return;
	}
	position = walk_in_queue_position((WalkInQueueEntry *)entries->data,
					  entries->len, ticket);
	window = walk_in_session_of(config, booking->start, booking->end);
	g_variant_dict_insert(ret_keys, "position", "u", position);
	g_variant_dict_insert(ret_keys, "estimated-start", "x",
			      walk_in_estimated_start(
				      slotd_context_now(ctx), booking->start,
				      position,
				      window != NULL ? window->counsellors : 1,
				      config->service_minutes));
}
