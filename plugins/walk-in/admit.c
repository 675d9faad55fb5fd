/* walk-in: the booking rules, run inside the booking transaction. Book
 * on a session is a check-in: it is accepted from shortly before the
 * session until its end, may be anonymous, and gives a ticket. Book on
 * a referral slot is staff booking a time for a named client. */
#include <string.h>

#include "walk-in.h"

static gboolean
refuse(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean
refuse(GError **error, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    message);
	return FALSE;
}

/* "" is an anonymous visitor; NULL a client not named yet (FindSlots
 * or a Hold before the name): rules about the client wait for Book. */
static gboolean
is_anonymous(const SlotdRequest *request)
{
	return request->client_ref != NULL && request->client_ref[0] == '\0';
}

static const char *
request_reason(const SlotdRequest *request)
{
	const char *reason = NULL;

	if (request->options != NULL)
		slotd_request_option(request, "reason", "&s", &reason);
	return reason;
}

static gboolean
check_reason(const WalkInConfig *config, const SlotdRequest *request,
	     GError **error)
{
	const char *reason = request_reason(request);
	g_autofree char *known = NULL;

	if (reason == NULL || walk_in_config_has_reason(config, reason))
		return TRUE;
	known = g_strjoinv(", ", config->reasons);
	/* The caller's text is not echoed: it could be anything. */
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "The reason given is not one this offering records; use "
		    "one of: %s", known[0] != '\0' ? known : "(none)");
	return FALSE;
}

/* Only what the counselling statistics need: the ticket, whether the
 * visit was anonymous, its kind and the coarse reason. */
static void
attach_extras(SlotdContext *ctx, const SlotdRequest *request,
	      const char *visit, guint ticket)
{
	const char *reason = request_reason(request);

	if (ticket > 0)
		slotd_context_set_extra(ctx, "ticket",
					g_variant_new_uint32(ticket));
	slotd_context_set_extra(ctx, "anonymous",
				g_variant_new_boolean(is_anonymous(request)));
	slotd_context_set_extra(ctx, "visit", g_variant_new_string(visit));
	if (reason != NULL)
		slotd_context_set_extra(ctx, "reason",
					g_variant_new_string(reason));
}

/* Tickets are never handed out twice in a session: the next one is
 * above every ticket its check-ins ever carried, cancelled ones too,
 * read from the store (so a restart or a reload changes nothing). */
static guint
next_ticket(SlotdContext *ctx, const SlotdSlotInfo *slot)
{
	g_autoptr(GPtrArray) history = slotd_context_slot_history(ctx,
								  slot->id);
	g_autoptr(GArray) entries = walk_in_queue_entries(history);

	return walk_in_next_ticket((WalkInQueueEntry *)entries->data,
				   entries->len, 0);
}

static gboolean
check_checkin_request(const SlotdOffering *offering,
		      const WalkInConfig *config, const SlotdRequest *request,
		      GError **error)
{
	g_autofree char *label = walk_in_unit_label(offering);

	if (request->series_length > 1)
		return refuse(error, "A check-in is for one walk-in session: "
			      "check the visitor in with Book when they are "
			      "at the health station.");
	if (!is_anonymous(request))
		return TRUE;
	if (!config->anonymous_visits)
		return refuse(error, "Anonymous visits are not offered at %s: "
			      "give the visitor's pseudonymous client "
			      "reference.", label);
	if (request->referral_time != 0)
		return refuse(error, "An anonymous visit carries no referral "
			      "time, so nothing links it to a person: leave "
			      "out referral-time, or book a referral slot for "
			      "the named client.");
	return TRUE;
}

static gboolean
check_checkin_time(const SlotdOffering *offering, SlotdContext *ctx,
		   const WalkInConfig *config, const SlotdSlotInfo *slot,
		   gint64 now, GError **error)
{
	g_autofree char *label = walk_in_unit_label(offering);
	g_autofree char *opens = NULL;
	g_autofree char *starts = NULL;
	g_autofree char *next = NULL;

	switch (walk_in_checkin_state(slot->start, slot->end,
				      config->checkin_opens_minutes, now)) {
	case WALK_IN_CHECKIN_OPEN:
		return TRUE;
	case WALK_IN_CHECKIN_TOO_EARLY:
		/* FindSlots offers the session with bookable-from. */
		slotd_context_bookable_from(
			ctx, walk_in_checkin_opens(slot->start,
						   config->checkin_opens_minutes));
		opens = slotd_format_local(walk_in_checkin_opens(
			slot->start, config->checkin_opens_minutes));
		starts = slotd_format_local(slot->start);
		return refuse(error, "Check-in to the walk-in session at %s "
			      "opens at %s (the session starts at %s); check "
			      "in then.", label, opens, starts);
	case WALK_IN_CHECKIN_CLOSED:
	default:
		next = walk_in_next_session_text(offering, ctx, now);
		return refuse(error, "The queue of this walk-in session at %s "
			      "closed when the session ended. %s", label,
			      next);
	}
}

/* The ticket of this client's place still waiting in the session. */
static guint
client_waiting_ticket(GPtrArray *bookings, const char *client_ref)
{
	for (guint i = 0; bookings != NULL && i < bookings->len; i++) {
		const SlotdBookingInfo *booking = bookings->pdata[i];
		guint32 ticket = 0;

		if (g_strcmp0(booking->client_ref, client_ref) != 0 ||
		    !walk_in_status_waiting(booking->status))
			continue;
		if (booking->extras != NULL)
			g_variant_lookup(booking->extras, "ticket", "u",
					 &ticket);
		return MAX(ticket, 1);
	}
	return 0;
}

static gboolean
admit_checkin(const SlotdOffering *offering, SlotdContext *ctx,
	      const SlotdSlotInfo *slot, const SlotdRequest *request,
	      GError **error)
{
	const WalkInConfig *config = walk_in_config(offering);
	g_autoptr(GPtrArray) bookings = NULL;
	SlotdCost one_place = { 1, 0 };
	guint ticket;

	/* A check-in is the visitor at the door with a ticket of this
	 * session: it is not moved to another (its ticket would be lost to
	 * this session's numbering); cancel it and check in there. */
	if (request->options &&
	    slotd_request_option(request, "ticket", "u", NULL))
		return refuse(error, "A check-in is not moved to another "
			      "session: cancel it and check the visitor in "
			      "at the other session.");
	if (!check_checkin_request(offering, config, request, error) ||
	    !check_reason(config, request, error) ||
	    !check_checkin_time(offering, ctx, config, slot, request->now,
				error) ||
	    !slotd_context_consume(ctx, &one_place, error))
		return FALSE;
	if (request->client_ref && !is_anonymous(request)) {
		bookings = slotd_context_slot_bookings(ctx, slot->id);
		ticket = client_waiting_ticket(bookings, request->client_ref);
		if (ticket > 0)
			return refuse(error, "This client is already in the "
				      "queue of this session with ticket %u.",
				      ticket);
	}
	if (!request->probe)
		attach_extras(ctx, request, WALK_IN_SESSION,
			      next_ticket(ctx, slot));
	return TRUE;
}

static void
local_day_bounds(gint64 utc, gint64 *ret_from, gint64 *ret_to)
{
	GDate date;
	int minute;

	walk_in_local_time(utc, &date, &minute);
	*ret_from = slotd_local_to_utc(g_date_get_year(&date),
				       g_date_get_month(&date),
				       g_date_get_day(&date), 0, 0);
	g_date_add_days(&date, 1);
	*ret_to = slotd_local_to_utc(g_date_get_year(&date),
				     g_date_get_month(&date),
				     g_date_get_day(&date), 0, 0);
}

static gboolean
admit_referral(const SlotdOffering *offering, SlotdContext *ctx,
	       const SlotdSlotInfo *slot, const SlotdRequest *request,
	       GError **error)
{
	const WalkInConfig *config = walk_in_config(offering);
	g_autofree char *next = NULL;
	g_autofree char *starts = NULL;
	gint64 day_from, day_to;

	if (is_anonymous(request)) {
		if (request->probe)
			return refuse(error, "A referral slot is booked for a "
				      "named client.");
		next = walk_in_next_session_text(offering, ctx, request->now);
		return refuse(error, "A referral slot is booked for a named "
			      "client: give the client's pseudonymous "
			      "reference. Anonymous visitors are welcome in "
			      "the walk-in queue. %s", next);
	}
	if (slot->start <= request->now) {
		starts = slotd_format_local(slot->start);
		return refuse(error, "This referral slot began at %s; choose "
			      "a later one.", starts);
	}
	if (!check_reason(config, request, error))
		return FALSE;
	if (request->client_ref)
		local_day_bounds(slot->start, &day_from, &day_to);
	if (request->client_ref &&
	    slotd_context_count_client_bookings(ctx, request->client_ref,
						day_from, day_to) > 0) {
		starts = slotd_format_local(day_from);
		if (strlen(starts) > 10)
			starts[10] = '\0'; /* the date alone */
		return refuse(error, "This client already has a social "
			      "counselling visit on %s: book another day, or "
			      "move that visit.", starts);
	}
	/* A probe's extras are not kept (slotd_context_set_extra). */
	if (!request->probe)
		attach_extras(ctx, request, WALK_IN_REFERRAL, 0);
	return TRUE;
}

gboolean
walk_in_admit(const SlotdOffering *offering, SlotdContext *ctx,
	      const SlotdSlotInfo *slot, const SlotdRequest *request,
	      GError **error)
{
	if (walk_in_config(offering) == NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "walk-in: %s was not configured",
			    slotd_offering_id(offering));
		return FALSE;
	}
	if (g_strcmp0(slot->kind, WALK_IN_SESSION) == 0)
		return admit_checkin(offering, ctx, slot, request, error);
	if (g_strcmp0(slot->kind, WALK_IN_REFERRAL) == 0)
		return admit_referral(offering, ctx, slot, request, error);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
		    "walk-in: slot %s is of kind \"%s\", which walk-in does "
		    "not make", slot->id, slot->kind);
	return FALSE;
}
