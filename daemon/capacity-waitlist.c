/* The waitlist and its timed offers. When places free up (a cancel, a
 * move away, a hold given back or expired, new capacity) the first
 * matching entry of the service — by priority, then deadline, then
 * time on the list — is offered the slot: the offer is an ordinary hold
 * taken for the entry's request, so the admission rule decides whether
 * the request fits, and the hold machinery gives the places back when
 * the offer expires. AcceptOffer books through Book with that hold.
 * Each step is one transaction with its audit row; the offer's
 * notification is written in the offer's transaction. */
#include "capacity-private.h"

#include <string.h>

#include "options.h"
#include "validate.h"

/* Bounds of one freed range's matching on the main loop: slots looked
 * at, and entries put to the admission rule for each. */
#define MATCH_SLOTS 4
#define MATCH_ENTRIES 8

static const SlotdOptionSpec join_keys[] = {
	{ "municipality", "s", "client's home municipality (code or name)" },
	{ "language", "s", "service language: fi, sv or en" },
	{ "modality", "s", "onsite, home, phone or video" },
	{ "earliest", "x", "earliest acceptable start, UTC seconds" },
	{ "latest", "x", "latest acceptable start (exclusive), UTC seconds" },
	{ "deadline", "x", "when the client must be seen by; orders the list" },
	{ "priority", "u", "1 (offered first) to 9; default 5" },
	{ NULL }
};

/* Latest instant slotd accepts in a query: year 2200. */
#define TIME_MAX G_GINT64_CONSTANT(7258118400)

void
capacity_offer_free(CapacityOffer *offer)
{
	if (!offer)
		return;
	g_free(offer->entry);
	g_free(offer->slot);
	g_free(offer->hold);
	g_free(offer);
}

static char *
entry_id(gint64 id)
{
	return g_strdup_printf("w-%" G_GINT64_FORMAT, id);
}

static gboolean
audit(Capacity *capacity, const Caller *caller, const char *action,
      gint64 booking, const char *detail, GError **error)
{
	return store_audit(capacity->store, capacity_now(capacity),
			   caller->uid, caller->name, action, booking, detail,
			   error);
}

/* The request the entry was made with, as Hold and Book options. */
static GVariant *
entry_options(const StoreWaitEntry *e, gint64 hold)
{
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	if (e->municipality)
		g_variant_dict_insert(&d, "municipality", "s", e->municipality);
	if (e->language)
		g_variant_dict_insert(&d, "language", "s", e->language);
	if (e->modality)
		g_variant_dict_insert(&d, "modality", "s", e->modality);
	if (hold) {
		g_autofree char *id = capacity_id_text('h', hold);

		g_variant_dict_insert(&d, "hold", "s", id);
	}
	return g_variant_ref_sink(g_variant_dict_end(&d));
}

/* Only the caller who put the entry on the list, or an administrator. */
static gboolean
check_owner(const StoreWaitEntry *e, const Caller *caller, GError **error)
{
	if (e->uid == caller->uid || caller->admin)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
		    "w-%" G_GINT64_FORMAT " was put on the list by another "
		    "caller",
		    e->id);
	return FALSE;
}

/* ---- JoinWaitlist ---------------------------------------------------- */

static gboolean
check_time(GVariant *query, const char *key, gint64 fallback, gint64 *ret,
	   GError **error)
{
	*ret = options_int64(query, key, fallback);
	if (*ret > 0 && *ret < TIME_MAX)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "%s must be an instant in UTC seconds before the year 2200",
		    key);
	return FALSE;
}

static gboolean
parse_join(Capacity *capacity, const char *client_ref, GVariant *query,
	   StoreWaitEntry *e, GError **error)
{
	const char *home = options_string(query, "municipality", NULL);
	gint64 now = capacity_now(capacity);
	gint64 horizon = now + (gint64)capacity->region->daemon.horizon_days *
				       86400;

	if (!options_check(query, join_keys, NULL, "query", error) ||
	    !validate_client_ref(client_ref, FALSE, error))
		return FALSE;
	if (home) {
		const Municipality *m =
			capacity_resolve_municipality(capacity, home, error);

		if (!m)
			return FALSE;
		e->municipality = g_strdup(m->code);
	}
	e->language = g_strdup(options_string(query, "language", NULL));
	if (e->language && !validate_language(e->language, error))
		return FALSE;
	e->modality = g_strdup(options_string(query, "modality", NULL));
	if (e->modality && !capacity_check_modality(e->modality, error))
		return FALSE;
	if (!check_time(query, "earliest", now, &e->earliest, error) ||
	    !check_time(query, "latest", horizon, &e->latest, error) ||
	    !check_time(query, "deadline", e->latest, &e->deadline, error))
		return FALSE;
	if (e->latest <= e->earliest || e->latest <= now) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "latest must be after earliest and in the future");
		return FALSE;
	}
	e->priority = options_uint32(query, "priority", 5);
	if (e->priority < 1 || e->priority > 9) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "priority must be 1 (first) to 9");
		return FALSE;
	}
	e->client_ref = g_strdup(client_ref);
	e->created = now;
	return TRUE;
}

typedef struct {
	const Caller *caller;
	StoreWaitEntry *entry;
} JoinCall;

static gboolean
do_join(Capacity *capacity, gpointer data, GError **error)
{
	JoinCall *j = data;
	g_autofree char *detail = NULL;

	if (!store_wait_insert(capacity->store, j->entry, error))
		return FALSE;
	detail = g_strdup_printf("w-%" G_GINT64_FORMAT " %s priority %u",
				 j->entry->id, j->entry->service,
				 j->entry->priority);
	return audit(capacity, j->caller, "waitlist-join", 0, detail, error);
}

gboolean
capacity_join_waitlist(Capacity *capacity, const Caller *caller,
		       const char *service, const char *client_ref,
		       GVariant *query, char **ret_entry, GError **error)
{
	g_autoptr(StoreWaitEntry) e = g_new0(StoreWaitEntry, 1);
	JoinCall j = { caller, e };

	if (!validate_id(service, "service", error) ||
	    !capacity_service_kind(capacity, service, error) ||
	    !parse_join(capacity, client_ref, query, e, error))
		return FALSE;
	e->service = g_strdup(service);
	e->uid = caller->uid;
	if (!capacity_transaction(capacity, do_join, &j, error))
		return FALSE;
	*ret_entry = entry_id(e->id);
	return TRUE;
}

/* ---- ListWaitlist ---------------------------------------------------- */

static GVariant *
describe_entry(const StoreWaitEntry *e)
{
	g_autofree char *id = entry_id(e->id);
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "id", "s", id);
	g_variant_dict_insert(&d, "service", "s", e->service);
	g_variant_dict_insert(&d, "client-ref", "s", e->client_ref);
	if (e->municipality)
		g_variant_dict_insert(&d, "municipality", "s", e->municipality);
	if (e->language)
		g_variant_dict_insert(&d, "language", "s", e->language);
	if (e->modality)
		g_variant_dict_insert(&d, "modality", "s", e->modality);
	g_variant_dict_insert(&d, "earliest", "x", e->earliest);
	g_variant_dict_insert(&d, "latest", "x", e->latest);
	g_variant_dict_insert(&d, "deadline", "x", e->deadline);
	g_variant_dict_insert(&d, "priority", "u", e->priority);
	g_variant_dict_insert(&d, "created", "x", e->created);
	g_variant_dict_insert(&d, "status", "s", e->status);
	if (e->offer) {
		g_autofree char *slot = capacity_id_text('s', e->offer_slot);
		g_autofree char *hold = capacity_id_text('h', e->offer_hold);

		g_variant_dict_insert(&d, "offer-slot", "s", slot);
		g_variant_dict_insert(&d, "offer-hold", "s", hold);
		g_variant_dict_insert(&d, "offer-expires", "x",
				      e->offer_expires);
	}
	return g_variant_dict_end(&d);
}

gboolean
capacity_list_waitlist(Capacity *capacity, const char *service,
		       GVariant **ret_rows, GError **error)
{
	g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_wait_entry_free);
	GVariantBuilder b;

	if (!validate_id(service, "service", error))
		return FALSE;
	if (!region_find_service(capacity->region, service)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_SERVICE,
			    "no service '%s'; slotctl services lists them",
			    service);
		return FALSE;
	}
	if (!store_wait_list(capacity->store, service, list, error))
		return FALSE;
	g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < list->len; i++)
		g_variant_builder_add_value(&b, describe_entry(list->pdata[i]));
	*ret_rows = g_variant_ref_sink(g_variant_builder_end(&b));
	return TRUE;
}

/* ---- LeaveWaitlist, DeclineOffer ------------------------------------- */

typedef struct {
	const Caller *caller;
	gint64 entry_id;
	gboolean leave;		/* LeaveWaitlist; else DeclineOffer */
	StoreSlot slot;		/* the offer's slot, freed */
	gboolean freed;
} LeaveCall;

/* Gives an open offer's places back. */
static gboolean
end_offer(Capacity *capacity, LeaveCall *l, const StoreWaitEntry *e,
	  const char *status, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (!store_get_slot(capacity->store, e->offer_slot, &l->slot, error))
		return FALSE;
	l->freed = TRUE;
	if (!store_delete_hold(capacity->store, e->offer_hold, &local) &&
	    !g_error_matches(local, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_HOLD)) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	return store_wait_offer_close(capacity->store, e->offer, status, 0,
				      capacity_now(capacity), error);
}

static gboolean
do_leave(Capacity *capacity, gpointer data, GError **error)
{
	LeaveCall *l = data;
	g_autoptr(StoreWaitEntry) e = NULL;
	g_autofree char *detail = NULL;

	if (!store_wait_get(capacity->store, l->entry_id, &e, error) ||
	    !check_owner(e, l->caller, error))
		return FALSE;
	if (!g_str_equal(e->status, "waiting")) {
		if (l->leave && g_str_equal(e->status, "left"))
			return TRUE; /* a retry */
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
			    "w-%" G_GINT64_FORMAT " is %s, no longer waiting",
			    e->id, e->status);
		return FALSE;
	}
	if (!l->leave && !e->offer) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
			    "w-%" G_GINT64_FORMAT " has no open offer (it "
			    "expired or was answered)",
			    e->id);
		return FALSE;
	}
	if (e->offer && !end_offer(capacity, l, e,
				   l->leave ? "withdrawn" : "declined", error))
		return FALSE;
	if (l->leave &&
	    !store_wait_set_status(capacity->store, e->id, "left", 0, error))
		return FALSE;
	detail = e->offer ? g_strdup_printf("w-%" G_GINT64_FORMAT
					    " offer s-%" G_GINT64_FORMAT,
					    e->id, e->offer_slot)
			  : entry_id(e->id);
	return audit(capacity, l->caller,
		     l->leave ? "waitlist-leave" : "offer-decline", 0, detail,
		     error);
}

static gboolean
leave_or_decline(Capacity *capacity, const Caller *caller,
		 const char *entry, gboolean leave, GError **error)
{
	LeaveCall l = { caller, 0, leave };
	gboolean ok;

	if (!capacity_parse_id(entry, 'w', &l.entry_id,
			       SLOTD_ERROR_NO_SUCH_ENTRY, error))
		return FALSE;
	ok = capacity_transaction(capacity, do_leave, &l, error);
	if (ok && l.freed) {
		capacity_notify_slots(capacity, l.slot.offering, l.slot.start,
				      l.slot.end);
		capacity_note_freed(capacity, l.slot.offering, l.slot.start,
				    l.slot.end);
	}
	store_slot_clear(&l.slot);
	return ok;
}

gboolean
capacity_leave_waitlist(Capacity *capacity, const Caller *caller,
			const char *entry_id, GError **error)
{
	return leave_or_decline(capacity, caller, entry_id, TRUE, error);
}

gboolean
capacity_decline_offer(Capacity *capacity, const Caller *caller,
		       const char *entry_id, GError **error)
{
	return leave_or_decline(capacity, caller, entry_id, FALSE, error);
}

/* ---- AcceptOffer ------------------------------------------------------ */

typedef struct {
	const Caller *caller;
	gint64 entry_id;
	StoreBooking *booking;
} AcceptCall;

static gboolean
do_accept(Capacity *capacity, gpointer data, GError **error)
{
	AcceptCall *a = data;
	g_autoptr(StoreWaitEntry) e = NULL;
	g_autoptr(GVariant) options = NULL;
	g_autofree char *detail = NULL;
	gint64 now = capacity_now(capacity);

	if (!store_wait_get(capacity->store, a->entry_id, &e, error) ||
	    !check_owner(e, a->caller, error))
		return FALSE;
	if (!g_str_equal(e->status, "waiting") || !e->offer ||
	    e->offer_expires <= now) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
			    "w-%" G_GINT64_FORMAT " has no open offer (it "
			    "expired, was answered, or the entry is %s)",
			    e->id, e->status);
		return FALSE;
	}
	/* Book with the offer's hold: Book's own path, which gives the
	 * hold's places back and asks the admission rule again. */
	options = entry_options(e, e->offer_hold);
	if (!capacity_book_from_offer(capacity, a->caller, e->offer_slot,
				      e->client_ref, options, e->uid,
				      &a->booking, error))
		return FALSE;
	detail = g_strdup_printf("w-%" G_GINT64_FORMAT " slot s-%"
				 G_GINT64_FORMAT, e->id, e->offer_slot);
	return store_wait_offer_close(capacity->store, e->offer, "accepted",
				      a->booking->id, now, error) &&
	       store_wait_set_status(capacity->store, e->id, "booked",
				     a->booking->id, error) &&
	       audit(capacity, a->caller, "offer-accept", a->booking->id,
		     detail, error);
}

gboolean
capacity_accept_offer(Capacity *capacity, const Caller *caller,
		      const char *entry, char **ret_booking_id, GError **error)
{
	AcceptCall a = { caller, 0, NULL };

	if (!capacity_parse_id(entry, 'w', &a.entry_id,
			       SLOTD_ERROR_NO_SUCH_ENTRY, error))
		return FALSE;
	if (!capacity_transaction(capacity, do_accept, &a, error)) {
		g_clear_pointer(&a.booking, store_booking_free);
		return FALSE;
	}
	capacity_notify_booking(capacity, a.booking);
	capacity_notify_slots(capacity, a.booking->offering, a.booking->start,
			      a.booking->end);
	*ret_booking_id = capacity_booking_id(a.booking->id);
	store_booking_free(a.booking);
	return TRUE;
}

/* ---- offers ----------------------------------------------------------- */

/* The daemon itself makes and ends offers. */
static const Caller internal = { 0, "internal", FALSE };

gboolean
capacity_waitlist_expire(Capacity *capacity, gint64 now, GError **error)
{
	g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(gint64));

	if (!store_wait_expire_offers(capacity->store, now, entries, slots,
				      error))
		return FALSE;
	for (guint i = 0; i < entries->len; i++) {
		g_autofree char *detail = g_strdup_printf(
			"w-%" G_GINT64_FORMAT " offer s-%" G_GINT64_FORMAT,
			g_array_index(entries, gint64, i),
			g_array_index(slots, gint64, i));

		if (!audit(capacity, &internal, "offer-expire", 0, detail,
			   error))
			return FALSE;
	}
	return TRUE;
}

typedef struct {
	gint64 entry_id;
	gint64 slot_id;
	CapacityOffer *offer;
} OfferCall;

static gboolean
do_offer(Capacity *capacity, gpointer data, GError **error)
{
	OfferCall *o = data;
	g_autoptr(StoreWaitEntry) e = NULL;
	g_autoptr(GVariant) options = NULL;
	g_auto(StoreSlot) slot = { 0 };
	g_autofree char *detail = NULL;
	gint64 hold = 0, expires = 0, offer = 0;
	Caller owner;

	if (!store_wait_get(capacity->store, o->entry_id, &e, error))
		return FALSE;
	if (!g_str_equal(e->status, "waiting") || e->offer) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
			    "the entry is not waiting");
		return FALSE;
	}
	/* The hold is the entry's owner's, as if it had asked HoldFor:
	 * the admission rule alone decides whether the request fits. */
	owner = (Caller){ e->uid, "waitlist", FALSE };
	options = entry_options(e, 0);
	if (!capacity_hold_in_transaction(
		    capacity, &owner, o->slot_id, e->client_ref, options,
		    capacity->region->daemon.waitlist_offer_seconds, &hold,
		    &expires, error) ||
	    !store_wait_offer_insert(capacity->store, e->id, o->slot_id, hold,
				     expires, capacity_now(capacity), &offer,
				     error) ||
	    !store_get_slot(capacity->store, o->slot_id, &slot, error) ||
	    !capacity_outbox_offer(capacity, e, &slot, offer, expires, error))
		return FALSE;
	detail = g_strdup_printf("w-%" G_GINT64_FORMAT " slot s-%"
				 G_GINT64_FORMAT " hold h-%" G_GINT64_FORMAT
				 " until %" G_GINT64_FORMAT,
				 e->id, o->slot_id, hold, expires);
	if (!audit(capacity, &internal, "offer", 0, detail, error))
		return FALSE;
	o->offer = g_new0(CapacityOffer, 1);
	o->offer->entry = entry_id(e->id);
	o->offer->slot = capacity_id_text('s', o->slot_id);
	o->offer->hold = capacity_id_text('h', hold);
	o->offer->expires = expires;
	return TRUE;
}

/* Offers one slot to the first candidate the rule admits. FALSE on a
 * storage fault (stop for now). */
static gboolean
offer_slot(Capacity *capacity, const SlotdOffering *off, gint64 slot_id,
	   GPtrArray *ret_offers)
{
	g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GError) error = NULL;
	g_auto(StoreSlot) slot = { 0 };

	if (!store_get_slot(capacity->store, slot_id, &slot, &error) ||
	    !store_wait_candidates(capacity->store, off->service->id, slot_id,
				   slot.start, MATCH_ENTRIES, entries,
				   &error)) {
		g_warning("waitlist: %s", error->message);
		return FALSE;
	}
	for (guint i = 0; i < entries->len; i++) {
		OfferCall o = { g_array_index(entries, gint64, i), slot_id };

		g_clear_error(&error);
		if (capacity_transaction(capacity, do_offer, &o, &error)) {
			g_ptr_array_add(ret_offers, o.offer);
			capacity_notify_slots(capacity, slot.offering,
					      slot.start, slot.end);
			return TRUE;
		}
		if (g_error_matches(error, SLOTD_ERROR,
				    SLOTD_ERROR_STORAGE_UNAVAILABLE) ||
		    g_error_matches(error, SLOTD_ERROR, SLOTD_ERROR_FAILED)) {
			g_warning("waitlist: %s", error->message);
			return FALSE;
		}
		/* The rule refused this entry's request here: the next. */
		g_debug("waitlist: w-%" G_GINT64_FORMAT " not offered s-%"
			G_GINT64_FORMAT ": %s",
			o.entry_id, slot_id, error->message);
	}
	return TRUE;
}

gboolean
capacity_waitlist_run(Capacity *capacity, guint max_ranges,
		      GPtrArray *ret_offers)
{
	for (guint n = 0; n < max_ranges; n++) {
		g_autoptr(GArray) slots = g_array_new(FALSE, FALSE,
						      sizeof(gint64));
		g_autoptr(GError) error = NULL;
		g_autofree char *offering = NULL;
		const SlotdOffering *off;
		gint64 from, to;

		if (!capacity_waitlist_pop(capacity, &offering, &from, &to))
			break;
		off = region_find_offering(capacity->region, offering);
		if (!off || !capacity_kind(capacity, off))
			continue;
		if (!store_wait_free_slots(capacity->store, offering, from, to,
					   capacity_now(capacity), MATCH_SLOTS,
					   slots, &error)) {
			g_warning("waitlist: %s", error->message);
			break;
		}
		for (guint i = 0; i < slots->len; i++)
			if (!offer_slot(capacity, off,
					g_array_index(slots, gint64, i),
					ret_offers))
				return capacity_waitlist_pending(capacity);
	}
	return capacity_waitlist_pending(capacity);
}
