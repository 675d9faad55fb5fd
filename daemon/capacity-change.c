/* Cancelling, status changes, and reading bookings back. */
#include "capacity-private.h"

#include <string.h>

#include "options.h"
#include "validate.h"

static const SlotdOptionSpec list_keys[] = {
	{ "unit", "s", "only this unit" },
	{ "service", "s", "only this service" },
	{ "status", "s", "only this status" },
	{ "client-ref", "s", "only this client" },
	{ "from", "x", "start at or after, UTC seconds" },
	{ "to", "x", "start before, UTC seconds" },
	{ "limit", "u", "most bookings returned (default 1000)" },
	{ "needs-rebooking", "b", "only bookings whose slot was withdrawn" },
	{ NULL }
};

/* FHIR AppointmentStatus transitions a caller may make. */
static const struct {
	const char *from;
	const char *to;
} transitions[] = {
	{ "booked", "arrived" },	  { "booked", "checked-in" },
	{ "booked", "fulfilled" },	  { "booked", "noshow" },
	{ "booked", "entered-in-error" }, { "checked-in", "arrived" },
	{ "checked-in", "fulfilled" },	  { "checked-in", "noshow" },
	{ "checked-in", "entered-in-error" },
	{ "arrived", "fulfilled" },	  { "arrived", "entered-in-error" },
	{ "fulfilled", "entered-in-error" },
	{ "noshow", "entered-in-error" }, { "cancelled", "entered-in-error" },
};

static gboolean
status_known(const char *status)
{
	for (guint i = 0; i < G_N_ELEMENTS(transitions); i++)
		if (g_str_equal(transitions[i].to, status))
			return TRUE;
	return FALSE;
}

static gboolean
transition_allowed(const char *from, const char *to)
{
	for (guint i = 0; i < G_N_ELEMENTS(transitions); i++)
		if (g_str_equal(transitions[i].from, from) &&
		    g_str_equal(transitions[i].to, to))
			return TRUE;
	return FALSE;
}

/* Statuses that give the seats back. */
static gboolean
releases_seats(const char *status)
{
	return g_str_equal(status, "cancelled") ||
	       g_str_equal(status, "entered-in-error");
}

typedef struct {
	const Caller *caller;
	gint64 booking_id;
	const char *status;
	const char *reason;
	StoreBooking *booking;	/* after the change */
	gboolean changed;
	GPtrArray *ended;	/* StoreBooking*: later visits a no-show
				 * limit cancelled; NULL until then */
} StatusCall;

static gboolean
apply_status(Capacity *capacity, StatusCall *s, const StoreBooking *b,
	     GError **error)
{
	gint64 now = capacity_now(capacity);
	g_autofree char *detail = NULL;

	if (releases_seats(s->status) && !releases_seats(b->status) &&
	    !store_release_seats(capacity->store, s->booking_id, error))
		return FALSE;
	if (!store_update_booking_status(capacity->store, s->booking_id,
					 s->status, s->reason, now, error))
		return FALSE;
	detail = g_strdup_printf("%s -> %s", b->status, s->status);
	s->changed = TRUE;
	return store_audit(capacity->store, now, s->caller->uid,
			   s->caller->name,
			   g_str_equal(s->status, "cancelled") ? "cancel"
							       : "status",
			   s->booking_id, detail, error);
}

/* max-noshows-per-series: the no-show that reaches the offering's
 * limit ends the series (a course): its later visits still booked are
 * cancelled in the same transaction, each audited and told to the
 * client like any cancellation. The cut-off does not apply: the
 * provider ends them. */
static gboolean
end_series_after_noshows(Capacity *capacity, StatusCall *s,
			 const StoreBooking *b, GError **error)
{
	const SlotdOffering *off = region_find_offering(capacity->region,
							b->offering);
	g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	StoreBookingFilter f = { 0 };
	g_autofree char *reason = NULL;
	guint noshows = 0;

	if (!off || !off->max_noshows_per_series || !b->series ||
	    !g_str_equal(s->status, "noshow"))
		return TRUE;
	f.client_ref = b->client_ref;
	f.service = b->service;
	if (!store_list_bookings(capacity->store, &f, all, error))
		return FALSE;
	for (guint i = 0; i < all->len; i++) {
		const StoreBooking *other = all->pdata[i];

		if (other->series == b->series &&
		    g_str_equal(other->status, "noshow"))
			noshows++;
	}
	if (noshows < off->max_noshows_per_series)
		return TRUE;
	reason = g_strdup_printf("provider: course ended after %u no-shows",
				 noshows);
	for (guint i = 0; i < all->len; i++) {
		const StoreBooking *later = all->pdata[i];
		StatusCall cancel = { s->caller, later->id, "cancelled",
				      reason, NULL, FALSE, NULL };
		g_autofree char *detail = NULL;

		if (later->series != b->series || later->start <= b->start ||
		    (!g_str_equal(later->status, "booked") &&
		     !g_str_equal(later->status, "checked-in")))
			continue;
		if (!apply_status(capacity, &cancel, later, error) ||
		    !store_get_booking(capacity->store, later->id,
				       &cancel.booking, error))
			return FALSE;
		if (!s->ended)
			s->ended = g_ptr_array_new_with_free_func(
				(GDestroyNotify)store_booking_free);
		g_ptr_array_add(s->ended, cancel.booking);
		detail = g_strdup_printf("b-%" G_GINT64_FORMAT " noshow: "
					 "%s",
					 b->id, reason);
		if (!store_audit(capacity->store, capacity_now(capacity),
				 s->caller->uid, s->caller->name,
				 "series-ended", later->id, detail, error) ||
		    !capacity_outbox_booking(capacity, cancel.booking,
					     "cancelled", error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
do_status(Capacity *capacity, gpointer data, GError **error)
{
	StatusCall *s = data;
	g_autoptr(StoreBooking) b = NULL;

	if (!store_get_booking(capacity->store, s->booking_id, &b, error))
		return FALSE;
	if (g_str_equal(b->status, s->status))
		goto done; /* a retry: nothing to change */
	if (g_str_equal(s->status, "cancelled") &&
	    !g_str_equal(b->status, "booked") &&
	    !g_str_equal(b->status, "checked-in")) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
			    "a booking in status '%s' cannot be cancelled; "
			    "use SetStatus entered-in-error for a mistake",
			    b->status);
		return FALSE;
	}
	if (!g_str_equal(s->status, "cancelled") &&
	    !transition_allowed(b->status, s->status)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
			    "a booking cannot go from '%s' to '%s'",
			    b->status, s->status);
		return FALSE;
	}
	if (g_str_equal(s->status, "cancelled") ?
		    !capacity_check_cutoff(capacity, b, FALSE, s->caller,
					   s->reason, error) :
		    !capacity_check_status_time(capacity, b, s->status,
						error))
		return FALSE;
	if (!apply_status(capacity, s, b, error) ||
	    !end_series_after_noshows(capacity, s, b, error))
		return FALSE;
done:
	if (!store_get_booking(capacity->store, s->booking_id, &s->booking,
			       error))
		return FALSE;
	/* The client hears of a cancellation; a reminder written before
	 * it is never handed out (its booking is no longer booked). */
	if (s->changed && g_str_equal(s->status, "cancelled") &&
	    !capacity_outbox_booking(capacity, s->booking, "cancelled",
				     error)) {
		g_clear_pointer(&s->booking, store_booking_free);
		return FALSE;
	}
	return TRUE;
}

/* A status that gives seats back frees places for the waitlist. */
static void
note_released(Capacity *capacity, const StoreBooking *b)
{
	if (releases_seats(b->status))
		capacity_note_freed(capacity, b->offering, b->start, b->end);
}

static gboolean
change_status(Capacity *capacity, StatusCall *s, const char *booking_id,
	      GError **error)
{
	if (!capacity_parse_id(booking_id, 'b', &s->booking_id,
			       SLOTD_ERROR_NO_SUCH_BOOKING, error))
		return FALSE;
	if (!capacity_transaction(capacity, do_status, s, error)) {
		g_clear_pointer(&s->booking, store_booking_free);
		g_clear_pointer(&s->ended, g_ptr_array_unref);
		return FALSE;
	}
	if (s->changed) {
		capacity_notify_booking(capacity, s->booking);
		capacity_notify_slots(capacity, s->booking->offering,
				      s->booking->start, s->booking->end);
		note_released(capacity, s->booking);
	}
	for (guint i = 0; s->ended && i < s->ended->len; i++) {
		StoreBooking *b = s->ended->pdata[i];

		capacity_notify_booking(capacity, b);
		capacity_notify_slots(capacity, b->offering, b->start, b->end);
		note_released(capacity, b);
	}
	g_clear_pointer(&s->ended, g_ptr_array_unref);
	store_booking_free(s->booking);
	return TRUE;
}

gboolean
capacity_cancel(Capacity *capacity, const Caller *caller,
		const char *booking_id, const char *reason, GError **error)
{
	StatusCall s = { caller, 0, "cancelled", reason, NULL, FALSE, NULL };

	if (!validate_text(reason, "reason", VALIDATE_TEXT_MAX, error))
		return FALSE;
	if (validate_looks_like_hetu(reason)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "the reason looks like it contains a personal "
			    "identity code; leave personal data out");
		return FALSE;
	}
	return change_status(capacity, &s, booking_id, error);
}

typedef struct {
	const Caller *caller;
	GArray *ids;		/* gint64 booking ids */
	const char *reason;
	GPtrArray *changed;	/* StoreBooking*, after */
} ManyCall;

static gboolean
do_cancel_many(Capacity *capacity, gpointer data, GError **error)
{
	ManyCall *m = data;

	for (guint i = 0; i < m->ids->len; i++) {
		StatusCall s = { m->caller, g_array_index(m->ids, gint64, i),
				 "cancelled", m->reason, NULL, FALSE, NULL };

		if (!do_status(capacity, &s, error)) {
			g_prefix_error(error, "b-%" G_GINT64_FORMAT ": ",
				       s.booking_id);
			return FALSE;
		}
		g_ptr_array_add(m->changed, s.booking);
	}
	return TRUE;
}

gboolean
capacity_cancel_many(Capacity *capacity, const Caller *caller, GArray *ids,
		     const char *reason, GError **error)
{
	g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	ManyCall m = { caller, ids, reason, changed };

	if (!validate_text(reason, "reason", VALIDATE_TEXT_MAX, error) ||
	    !capacity_transaction(capacity, do_cancel_many, &m, error))
		return FALSE;
	for (guint i = 0; i < changed->len; i++) {
		StoreBooking *b = changed->pdata[i];

		capacity_notify_booking(capacity, b);
		capacity_notify_slots(capacity, b->offering, b->start, b->end);
		note_released(capacity, b);
	}
	return TRUE;
}

gboolean
capacity_set_status(Capacity *capacity, const Caller *caller,
		    const char *booking_id, const char *status, GError **error)
{
	StatusCall s = { caller, 0, status, NULL, NULL, FALSE, NULL };

	if (!validate_id(status, "status", error))
		return FALSE;
	if (!status_known(status)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "unknown status '%s'; use arrived, checked-in, "
			    "fulfilled, noshow or entered-in-error (Cancel "
			    "cancels)",
			    status);
		return FALSE;
	}
	return change_status(capacity, &s, booking_id, error);
}

/* ---- reading -------------------------------------------------------- */

static void
insert_optional(GVariantDict *d, const char *key, const char *value)
{
	if (value && *value)
		g_variant_dict_insert(d, key, "s", value);
}

/* The FHIR appointment-cancellation-reason code of a cancel reason by
 * its leading word: "client ..." (pat), "provider ..." (prov), anything
 * else (oth). Reports count the first two apart. */
static const char *
cancel_code(const char *reason)
{
	if (reason && g_str_has_prefix(reason, "client"))
		return "pat";
	if (reason && g_str_has_prefix(reason, "provider"))
		return "prov";
	return "oth";
}

static void
describe_core(const StoreBooking *b, GVariantDict *d)
{
	g_autofree char *id = capacity_booking_id(b->id);
	g_autofree char *slot = capacity_id_text('s', b->slot);

	g_variant_dict_insert(d, "id", "s", id);
	g_variant_dict_insert(d, "slot", "s", slot);
	g_variant_dict_insert(d, "unit", "s", b->unit);
	g_variant_dict_insert(d, "service", "s", b->service);
	g_variant_dict_insert(d, "start", "x", b->start);
	g_variant_dict_insert(d, "end", "x", b->end);
	g_variant_dict_insert(d, "client-ref", "s", b->client_ref);
	g_variant_dict_insert(d, "status", "s", b->status);
	g_variant_dict_insert(d, "created", "x", b->created);
	g_variant_dict_insert(d, "modified", "x", b->modified);
	g_variant_dict_insert(d, "sequence", "x", b->sequence);
	g_variant_dict_insert(d, "seats", "u", b->seats);
	g_variant_dict_insert(d, "needs-rebooking", "b", b->needs_rebooking);
	insert_optional(d, "municipality", b->municipality);
	insert_optional(d, "language", b->language);
	insert_optional(d, "modality", b->modality);
	insert_optional(d, "urgency", b->urgency);
	insert_optional(d, "cancel-reason", b->cancel_reason);
	if (g_str_equal(b->status, "cancelled"))
		g_variant_dict_insert(d, "cancel-reason-code", "s",
				      cancel_code(b->cancel_reason));
	if (b->series) {
		g_autofree char *series = capacity_series_id(b->series);

		g_variant_dict_insert(d, "series", "s", series);
		g_variant_dict_insert(d, "series-index", "u", b->series_index);
		g_variant_dict_insert(d, "series-length", "u",
				      b->series_length);
	}
	if (b->referral_time)
		g_variant_dict_insert(d, "referral-time", "x",
				      b->referral_time);
}

static void
describe_plugin(Capacity *capacity, const StoreBooking *b, GVariantDict *d)
{
	const SlotdOffering *off = region_find_offering(capacity->region,
							b->offering);
	const SlotdKindOps *ops = off ? capacity_kind(capacity, off) : NULL;
	g_autofree char *id = capacity_booking_id(b->id);
	g_autofree char *slot = capacity_id_text('s', b->slot);
	SlotdBookingInfo info = { id, slot, b->client_ref, b->status,
				  b->start, b->end, b->created, b->seats,
				  b->extras };
	SlotdContext ctx;

	if (!ops || !ops->describe)
		return;
	capacity_context_init(&ctx, capacity, off);
	ops->describe(off, &ctx, &info, d);
	capacity_context_clear(&ctx);
}

/* The practitioners, rooms and vehicles it takes (staff ids only). */
static void
describe_resources(Capacity *capacity, const StoreBooking *b,
		   GVariantDict *d)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);

	if (!store_booking_resources(capacity->store, b->id, 0, ids, NULL) ||
	    ids->len == 0)
		return;
	g_variant_dict_insert_value(d, "resources", g_variant_new_strv(
		(const char *const *)ids->pdata, ids->len));
	for (guint i = 0; i < ids->len; i++) {
		const Resource *r = region_find_resource(capacity->region,
							 ids->pdata[i]);

		if (r && r->type == RESOURCE_PRACTITIONER) {
			g_variant_dict_insert(d, "practitioner", "s", r->id);
			break;
		}
	}
}

gboolean
capacity_get_booking(Capacity *capacity, const char *booking_id,
		     GVariant **ret_booking, GError **error)
{
	g_autoptr(StoreBooking) b = NULL;
	GVariantDict d;
	GVariantIter iter;
	const char *key;
	GVariant *value;
	gint64 id;

	if (!capacity_parse_id(booking_id, 'b', &id,
			       SLOTD_ERROR_NO_SUCH_BOOKING, error) ||
	    !store_get_booking(capacity->store, id, &b, error))
		return FALSE;
	g_variant_dict_init(&d, NULL);
	/* Plugin keys first, so they can never shadow the core's. */
	g_variant_iter_init(&iter, b->extras);
	while (g_variant_iter_loop(&iter, "{&sv}", &key, &value))
		g_variant_dict_insert_value(&d, key, value);
	describe_plugin(capacity, b, &d);
	describe_core(b, &d);
	describe_resources(capacity, b, &d);
	*ret_booking = g_variant_ref_sink(g_variant_dict_end(&d));
	return TRUE;
}

static gboolean
check_filter_ids(GVariant *filter, GError **error)
{
	const char *keys[] = { "unit", "service", "status", "client-ref" };

	for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *v = options_string(filter, keys[i], NULL);

		if (v && !validate_id(v, keys[i], error))
			return FALSE;
	}
	return TRUE;
}

gboolean
capacity_list_bookings(Capacity *capacity, GVariant *filter,
		       GPtrArray **ret_bookings, GError **error)
{
	StoreBookingFilter f = { 0 };
	g_autoptr(GPtrArray) list = NULL;

	if (!options_check(filter, list_keys, NULL, "filter", error) ||
	    !check_filter_ids(filter, error))
		return FALSE;
	f.unit = options_string(filter, "unit", NULL);
	f.service = options_string(filter, "service", NULL);
	f.status = options_string(filter, "status", NULL);
	f.client_ref = options_string(filter, "client-ref", NULL);
	f.from = options_int64(filter, "from", 0);
	f.to = options_int64(filter, "to", 0);
	f.limit = options_uint32(filter, "limit", 1000);
	f.needs_rebooking_only = options_bool(filter, "needs-rebooking", FALSE);
	if (f.limit == 0 || f.limit > 100000 || f.from < 0 || f.to < 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "limit must be 1..100000 and times positive");
		return FALSE;
	}
	list = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	if (!store_list_bookings(capacity->store, &f, list, error))
		return FALSE;
	*ret_bookings = g_steal_pointer(&list);
	return TRUE;
}
