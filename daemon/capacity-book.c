/* Holds, bookings, series, cancellation, rescheduling and status
 * changes. Each is one BEGIN IMMEDIATE transaction that re-checks every
 * rule (the core's and the plugin's) and writes its audit row; the
 * listeners hear of it only after COMMIT. */
#include "capacity-private.h"

#include <string.h>

#include "options.h"
#include "validate.h"

static const SlotdOptionSpec book_keys[] = {
	{ "municipality", "s", "client's home municipality (code or name)" },
	{ "hold", "s", "a hold on this slot taken with Hold" },
	{ "language", "s", "service language: fi, sv or en" },
	{ "modality", "s", "onsite, home, phone or video" },
	{ "urgency", "s", "routine, urgent or immediate" },
	{ "referral-time", "x", "when the referral or request arrived" },
	{ "idempotency-key", "s", "retries with the same key book once" },
	{ "age", "u", "client's age in years, for age-banded deadlines" },
	{ NULL }
};

/* Everything one booking request carries, checked. */
typedef struct {
	const Caller *caller;
	const char *client_ref;
	GVariant *options;
	const char *municipality;	/* resolved code */
	const char *language;
	const char *modality;
	const char *urgency;
	gint64 referral_time;
	const char *idempotency_key;
	gint64 hold_id;			/* 0: none */
	guint series_index;
	guint series_length;
} BookArgs;

/* A change whose audit row cannot be written does not happen. */
static gboolean
audit(Capacity *capacity, const Caller *caller, const char *action,
      gint64 booking, const char *detail, GError **error)
{
	return store_audit(capacity->store, capacity_now(capacity),
			   caller->uid, caller->name, action, booking, detail,
			   error);
}

/* ---- checks ---------------------------------------------------------- */

static gboolean
parse_book_args(Capacity *capacity, const SlotdKindOps *ops,
		const char *client_ref, GVariant *options, BookArgs *a,
		GError **error)
{
	const char *home = options_string(options, "municipality", NULL);
	const char *hold = options_string(options, "hold", NULL);
	gint64 now = capacity_now(capacity);

	if (!options_check(options, book_keys, ops->options, "option", error))
		return FALSE;
	if (!validate_client_ref(client_ref,
				 ops->flags & SLOTD_KIND_ANONYMOUS_VISITS,
				 error))
		return FALSE;
	a->client_ref = client_ref;
	a->options = options;
	a->municipality = NULL;
	if (home) {
		const Municipality *m =
			capacity_resolve_municipality(capacity, home, error);

		if (!m)
			return FALSE;
		a->municipality = m->code;
	}
	a->language = options_string(options, "language", NULL);
	if (a->language && !validate_language(a->language, error))
		return FALSE;
	a->modality = options_string(options, "modality", NULL);
	if (a->modality && !capacity_check_modality(a->modality, error))
		return FALSE;
	a->urgency = options_string(options, "urgency", "routine");
	if (!capacity_check_urgency(a->urgency, error))
		return FALSE;
	a->referral_time = options_int64(options, "referral-time", 0);
	if (a->referral_time < 0 || a->referral_time > now + 86400) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "referral-time must be a past instant in UTC "
			    "seconds");
		return FALSE;
	}
	if (options_uint32(options, "age", 0) > 130) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "age must be 0 to 130 years");
		return FALSE;
	}
	a->idempotency_key = options_string(options, "idempotency-key", NULL);
	if (a->idempotency_key &&
	    !validate_id(a->idempotency_key, "idempotency-key", error))
		return FALSE;
	a->hold_id = 0;
	if (hold && !capacity_parse_id(hold, 'h', &a->hold_id,
				       SLOTD_ERROR_NO_SUCH_HOLD, error))
		return FALSE;
	return TRUE;
}

static gboolean
load_slot(Capacity *capacity, gint64 slot_id, StoreSlot *ret_slot,
	  const SlotdOffering **ret_offering, const SlotdKindOps **ret_ops,
	  GError **error)
{
	const SlotdOffering *off;

	if (!store_get_slot(capacity->store, slot_id, ret_slot, error))
		return FALSE;
	off = region_find_offering(capacity->region, ret_slot->offering);
	if (!off) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL,
			    "this slot is no longer offered; find another");
		return FALSE;
	}
	*ret_offering = off;
	*ret_ops = capacity_kind(capacity, off);
	if (!*ret_ops) {
		g_set_error(error, SLOTD_ERROR,
			    SLOTD_ERROR_SERVICE_UNAVAILABLE,
			    "the service '%s' is unavailable: %s",
			    off->service->id,
			    off->unavailable_reason ? off->unavailable_reason
						    : "its plugin is missing");
		return FALSE;
	}
	return TRUE;
}

static gboolean
check_slot_open(const SlotdKindOps *ops, const StoreSlot *slot, gint64 now,
		const char *urgency, GError **error)
{
	if (slot->status != SLOT_STATUS_FREE) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL,
			    "this slot has been withdrawn; find another");
		return FALSE;
	}
	if (slot->end <= now ||
	    (slot->start < now && !capacity_may_join_started(ops, urgency))) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    "this slot has already %s; find a later one",
			    slot->end <= now ? "ended" : "started");
		return FALSE;
	}
	return TRUE;
}

static gboolean
check_offering_fits(Capacity *capacity, const SlotdOffering *off,
		    const BookArgs *a, GError **error)
{
	gint travel;

	if (a->language && !slotd_offering_has_language(off, a->language)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    "%s does not serve in the language '%s'; find a "
			    "slot with that language",
			    off->unit->id, a->language);
		return FALSE;
	}
	if (a->modality && g_strcmp0(a->modality, off->modality) != 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    "this slot is a %s appointment, not %s",
			    off->modality, a->modality);
		return FALSE;
	}
	if (!a->municipality || !off->max_travel_minutes)
		return TRUE;
	travel = region_travel_minutes(capacity->region, a->municipality,
				       off->unit->municipality);
	if (travel > (gint)off->max_travel_minutes) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    "%s is %d minutes from the client's home, more "
			    "than its limit of %u; find a nearer unit",
			    off->unit->id, travel, off->max_travel_minutes);
		return FALSE;
	}
	return TRUE;
}

static void
fill_request(Capacity *capacity, const BookArgs *a, SlotdRequest *r)
{
	memset(r, 0, sizeof(*r));
	r->client_ref = a->client_ref;
	r->municipality = a->municipality;
	r->language = a->language;
	r->modality = a->modality;
	r->urgency = a->urgency;
	r->referral_time = a->referral_time;
	r->now = capacity_now(capacity);
	r->series_index = a->series_index;
	r->series_length = a->series_length;
	r->options = a->options;
}

/* The plugin keys of the call, kept with the booking so a reschedule
 * can ask the plugin again. */
static void
copy_kind_options(const SlotdKindOps *ops, GVariant *options,
		  GVariantDict *extras)
{
	for (const SlotdOptionSpec *s = ops->options; s && s->name; s++) {
		g_autoptr(GVariant) v = g_variant_lookup_value(
			options, s->name, G_VARIANT_TYPE(s->type));

		if (v)
			g_variant_dict_insert_value(extras, s->name, v);
	}
}

static gboolean
take_run(Capacity *capacity, gint64 booking_id, const SlotRun *run,
	 guint seats, GError **error)
{
	for (guint i = 0; i < run->slots->len; i++) {
		StoreSlot *s = &g_array_index(run->slots, StoreSlot, i);

		if (!store_take_seats(capacity->store, booking_id, s->id,
				      seats, error))
			return FALSE;
	}
	return TRUE;
}

/* Admission and seats for a booking row that already exists or is
 * about to: runs the plugin's cost and admit, and checks the run. */
static gboolean
admit(Capacity *capacity, const SlotdOffering *off, const SlotdKindOps *ops,
      const StoreSlot *slot, const BookArgs *a, SlotdCost *ret_cost,
      SlotRun *ret_run, GVariant **ret_extras, GError **error)
{
	SlotdContext ctx;
	SlotdRequest request;
	SlotdSlotInfo info;
	gboolean ok;

	fill_request(capacity, a, &request);
	if (!capacity_cost(ops, off, slot, &request, ret_cost, error) ||
	    !capacity_slot_run(capacity, slot, ret_cost, ret_run, error))
		return FALSE;
	capacity_context_init(&ctx, capacity, off);
	capacity_slot_info(slot, &info, ctx.keep);
	copy_kind_options(ops, a->options, ctx.extras);
	{
		g_autoptr(GVariant) age = g_variant_lookup_value(
			a->options, "age", G_VARIANT_TYPE_UINT32);

		if (age)
			g_variant_dict_insert_value(ctx.extras, "age", age);
	}
	ok = !ops->admit || ops->admit(off, &ctx, &info, &request, error);
	if (ok)
		*ret_extras = g_variant_ref_sink(g_variant_dict_end(ctx.extras));
	else
		slot_run_clear(ret_run);
	capacity_context_clear(&ctx);
	return ok;
}

static gboolean
use_hold(Capacity *capacity, const BookArgs *a, gint64 slot_id,
	 GError **error)
{
	StoreHold hold;

	if (!a->hold_id)
		return TRUE;
	if (!store_get_hold(capacity->store, a->hold_id,
			    capacity_now(capacity), &hold, error))
		return FALSE;
	if (hold.slot != slot_id || hold.uid != a->caller->uid) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
			    "the hold belongs to another slot or caller");
		return FALSE;
	}
	/* Its seat goes back just before the booking takes it. */
	return store_delete_hold(capacity->store, a->hold_id, error);
}

static StoreBooking *
booking_row(const SlotdOffering *off, const StoreSlot *slot,
	    const BookArgs *a, const SlotdCost *cost, const SlotRun *run,
	    GVariant *extras, gint64 now)
{
	StoreBooking *b = g_new0(StoreBooking, 1);

	b->slot = slot->id;
	b->offering = g_strdup(off->id);
	b->unit = g_strdup(off->unit->id);
	b->service = g_strdup(off->service->id);
	b->start = slot->start;
	b->end = run->end;
	b->client_ref = g_strdup(a->client_ref);
	b->status = g_strdup("booked");
	b->seats = cost->seats;
	b->municipality = g_strdup(a->municipality);
	b->language = g_strdup(a->language);
	b->modality = g_strdup(a->modality ? a->modality : off->modality);
	b->urgency = g_strdup(a->urgency);
	b->referral_time = a->referral_time;
	b->extras = g_variant_ref(extras);
	b->created = now;
	b->modified = now;
	b->created_by = a->caller->uid;
	return b;
}

static char *
series_key(const BookArgs *a)
{
	if (!a->idempotency_key)
		return NULL;
	if (a->series_length <= 1)
		return g_strdup(a->idempotency_key);
	return g_strdup_printf("%s#%u", a->idempotency_key, a->series_index);
}

/* One booking inside the caller's transaction. */
static gboolean
book_one(Capacity *capacity, gint64 slot_id, BookArgs *a,
	 StoreBooking **ret_booking, GError **error)
{
	const SlotdOffering *off;
	const SlotdKindOps *ops;
	g_auto(StoreSlot) slot = { 0 };
	g_autoptr(GVariant) extras = NULL;
	SlotRun run = { 0 };
	SlotdCost cost;
	StoreBooking *b;
	g_autofree char *detail = NULL;

	if (!load_slot(capacity, slot_id, &slot, &off, &ops, error) ||
	    !use_hold(capacity, a, slot_id, error) ||
	    !check_slot_open(ops, &slot, capacity_now(capacity), a->urgency,
			     error) ||
	    !check_offering_fits(capacity, off, a, error) ||
	    !admit(capacity, off, ops, &slot, a, &cost, &run, &extras, error))
		return FALSE;
	b = booking_row(off, &slot, a, &cost, &run, extras,
			capacity_now(capacity));
	b->idempotency_key = series_key(a);
	if (!store_insert_booking(capacity->store, b, error) ||
	    !take_run(capacity, b->id, &run, cost.seats, error)) {
		slot_run_clear(&run);
		store_booking_free(b);
		return FALSE;
	}
	slot_run_clear(&run);
	detail = g_strdup_printf("slot s-%" G_GINT64_FORMAT " seats %u",
				 slot_id, cost.seats);
	if (!audit(capacity, a->caller, "book", b->id, detail, error)) {
		store_booking_free(b);
		return FALSE;
	}
	*ret_booking = b;
	return TRUE;
}

/* ---- Hold ----------------------------------------------------------- */

typedef struct {
	const Caller *caller;
	gint64 slot_id;
	guint seconds;
	gint64 hold_id;
	char *offering;
	gint64 start, end;
} HoldCall;

static gboolean
do_hold(Capacity *capacity, gpointer data, GError **error)
{
	HoldCall *h = data;
	g_auto(StoreSlot) slot = { 0 };
	const SlotdOffering *off;
	const SlotdKindOps *ops;
	gint64 now = capacity_now(capacity);

	if (!load_slot(capacity, h->slot_id, &slot, &off, &ops, error) ||
	    !check_slot_open(ops, &slot, now, "routine", error) ||
	    !store_insert_hold(capacity->store, h->slot_id, 1,
			       now + h->seconds, h->caller->uid, &h->hold_id,
			       error))
		return FALSE;
	if (!audit(capacity, h->caller, "hold", 0, "", error))
		return FALSE;
	h->offering = g_strdup(slot.offering);
	h->start = slot.start;
	h->end = slot.end;
	return TRUE;
}

gboolean
capacity_hold(Capacity *capacity, const Caller *caller, const char *slot_id,
	      guint seconds, char **ret_hold_id, GError **error)
{
	HoldCall h = { caller, 0, seconds, 0, NULL, 0, 0 };
	guint max = capacity->region->daemon.hold_max_seconds;

	if (!capacity_parse_id(slot_id, 's', &h.slot_id,
			       SLOTD_ERROR_NO_SUCH_SLOT, error))
		return FALSE;
	if (seconds == 0 || seconds > max) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "a hold lasts 1 to %u seconds", max);
		return FALSE;
	}
	if (!capacity_transaction(capacity, do_hold, &h, error)) {
		g_free(h.offering);
		return FALSE;
	}
	*ret_hold_id = g_strdup_printf("h-%" G_GINT64_FORMAT, h.hold_id);
	capacity_notify_slots(capacity, h.offering, h.start, h.end);
	g_free(h.offering);
	return TRUE;
}

gint64
capacity_expire_holds(Capacity *capacity)
{
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GError) error = NULL;

	if (!store_begin(capacity->store, &error) ||
	    !store_expire_holds(capacity->store, capacity_now(capacity), slots,
				&error) ||
	    !store_commit(capacity->store, &error)) {
		store_rollback(capacity->store);
		g_warning("cannot expire holds: %s", error->message);
		return capacity_now(capacity) + 5;
	}
	for (guint i = 0; i < slots->len; i++) {
		g_auto(StoreSlot) slot = { 0 };

		if (store_get_slot(capacity->store,
				   g_array_index(slots, gint64, i), &slot, NULL))
			capacity_notify_slots(capacity, slot.offering,
					      slot.start, slot.end);
	}
	return store_next_hold_expiry(capacity->store);
}

/* ---- Book and BookSeries -------------------------------------------- */

typedef struct {
	const Caller *caller;
	const char *const *slot_ids;
	const char *client_ref;
	GVariant *options;
	GPtrArray *bookings;	/* StoreBooking*, made or found */
	gboolean replayed;	/* idempotent retry: nothing new */
} BookCall;

static gboolean
key_used(Capacity *capacity, const char *key, GError **error)
{
	g_autoptr(StoreBooking) b = NULL;

	if (!store_find_idempotent(capacity->store, key, &b, error))
		return TRUE; /* report the storage error */
	return b != NULL;
}

/* A key names one request: a single booking ("K") or a series of n
 * ("K#0".."K#n-1"). The same key with another shape is a conflict. */
static gboolean
key_shape_conflicts(Capacity *capacity, const char *key, guint n,
		    GError **error)
{
	g_autofree char *single = g_strdup(key);
	g_autofree char *first = g_strdup_printf("%s#0", key);
	g_autofree char *beyond = g_strdup_printf("%s#%u", key, n);

	if (n > 1 ? key_used(capacity, single, error) ||
			    key_used(capacity, beyond, error)
		  : key_used(capacity, first, error)) {
		if (error && !*error)
			g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
				    "the idempotency key was already used for "
				    "another request; use a new key");
		return TRUE;
	}
	return FALSE;
}

static gboolean
same_request(const StoreBooking *b, const char *client_ref,
	     const char *slot_id)
{
	g_autofree char *slot = g_strdup_printf("s-%" G_GINT64_FORMAT, b->slot);

	return g_strcmp0(b->client_ref, client_ref) == 0 &&
	       g_strcmp0(slot, slot_id) == 0;
}

static gboolean
replay(Capacity *capacity, BookCall *c, guint n, GError **error)
{
	const char *key = options_string(c->options, "idempotency-key", NULL);

	if (!key)
		return TRUE;
	if (key_shape_conflicts(capacity, key, n, error))
		return FALSE;
	for (guint i = 0; i < n; i++) {
		g_autofree char *k = n > 1 ? g_strdup_printf("%s#%u", key, i)
					   : g_strdup(key);
		StoreBooking *b = NULL;

		if (!store_find_idempotent(capacity->store, k, &b, error))
			return FALSE;
		if (!b && i == 0)
			return TRUE;
		if (!b) {
			g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
				    "the idempotency key was used for a "
				    "different series; use a new key");
			return FALSE;
		}
		g_ptr_array_add(c->bookings, b);
		if (!same_request(b, c->client_ref, c->slot_ids[i])) {
			g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
				    "the idempotency key was already used for "
				    "another booking; use a new key");
			return FALSE;
		}
	}
	c->replayed = TRUE;
	return TRUE;
}

/* Visit i of a series (or the only booking). */
static gboolean
book_nth(Capacity *capacity, BookCall *c, guint i, guint n,
	 StoreBooking **ret_booking, GError **error)
{
	const SlotdOffering *off;
	const SlotdKindOps *ops;
	g_auto(StoreSlot) slot = { 0 };
	BookArgs a = { .caller = c->caller, .series_index = i,
		       .series_length = n };
	gint64 id = 0;

	if (!capacity_parse_id(c->slot_ids[i], 's', &id,
			       SLOTD_ERROR_NO_SUCH_SLOT, error) ||
	    !load_slot(capacity, id, &slot, &off, &ops, error) ||
	    !parse_book_args(capacity, ops, c->client_ref, c->options, &a,
			     error))
		return FALSE;
	if (i > 0)
		a.hold_id = 0; /* a hold in a series is on its first slot */
	return book_one(capacity, id, &a, ret_booking, error);
}

static gboolean
do_book(Capacity *capacity, gpointer data, GError **error)
{
	BookCall *c = data;
	guint n = g_strv_length((char **)c->slot_ids);

	if (!replay(capacity, c, n, error))
		return FALSE;
	if (c->replayed)
		return TRUE;
	for (guint i = 0; i < n; i++) {
		g_autoptr(GError) local = NULL;
		StoreBooking *b = NULL;

		if (!book_nth(capacity, c, i, n, &b, &local)) {
			if (n > 1)
				g_prefix_error(&local, "visit %u of %u (%s): ",
					       i + 1, n, c->slot_ids[i]);
			g_propagate_error(error, g_steal_pointer(&local));
			return FALSE;
		}
		g_ptr_array_add(c->bookings, b);
	}
	return TRUE;
}

static void
notify_bookings(Capacity *capacity, GPtrArray *bookings)
{
	for (guint i = 0; i < bookings->len; i++) {
		StoreBooking *b = bookings->pdata[i];

		capacity_notify_booking(capacity, b);
		capacity_notify_slots(capacity, b->offering, b->start, b->end);
	}
}

static gboolean
book_many(Capacity *capacity, BookCall *c, GError **error)
{
	guint n = g_strv_length((char **)c->slot_ids);

	if (n == 0 || n > 200) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "a series has 1 to 200 slots");
		return FALSE;
	}
	for (guint i = 0; i < n; i++)
		for (guint j = i + 1; j < n; j++)
			if (g_str_equal(c->slot_ids[i], c->slot_ids[j])) {
				g_set_error(error, SLOTD_ERROR,
					    SLOTD_ERROR_INVALID_ARGS,
					    "slot %s appears twice in the "
					    "series",
					    c->slot_ids[i]);
				return FALSE;
			}
	c->bookings = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	if (!capacity_transaction(capacity, do_book, c, error)) {
		g_clear_pointer(&c->bookings, g_ptr_array_unref);
		return FALSE;
	}
	if (!c->replayed)
		notify_bookings(capacity, c->bookings);
	return TRUE;
}

gboolean
capacity_book(Capacity *capacity, const Caller *caller, const char *slot_id,
	      const char *client_ref, GVariant *options, char **ret_booking_id,
	      GError **error)
{
	const char *ids[] = { slot_id, NULL };
	BookCall c = { caller, ids, client_ref, options, NULL, FALSE };
	StoreBooking *b;

	if (!book_many(capacity, &c, error))
		return FALSE;
	b = c.bookings->pdata[0];
	*ret_booking_id = capacity_booking_id(b->id);
	g_ptr_array_unref(c.bookings);
	return TRUE;
}

gboolean
capacity_book_series(Capacity *capacity, const Caller *caller,
		     const char *const *slot_ids, const char *client_ref,
		     GVariant *options, GPtrArray **ret_booking_ids,
		     GError **error)
{
	BookCall c = { caller, slot_ids, client_ref, options, NULL, FALSE };

	if (!book_many(capacity, &c, error))
		return FALSE;
	*ret_booking_ids = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < c.bookings->len; i++) {
		StoreBooking *b = c.bookings->pdata[i];

		g_ptr_array_add(*ret_booking_ids, capacity_booking_id(b->id));
	}
	g_ptr_array_unref(c.bookings);
	return TRUE;
}

/* ---- Reschedule ------------------------------------------------------ */

typedef struct {
	const Caller *caller;
	gint64 booking_id;
	gint64 new_slot_id;
	StoreBooking *before;
	StoreBooking *after;
} MoveCall;

/* The request the booking was made with, for the new slot's checks. */
static void
args_from_booking(const StoreBooking *b, const Caller *caller,
		  BookArgs *ret_args)
{
	memset(ret_args, 0, sizeof(*ret_args));
	ret_args->caller = caller;
	ret_args->client_ref = b->client_ref;
	ret_args->options = b->extras;
	ret_args->municipality = b->municipality;
	ret_args->language = b->language;
	ret_args->modality = b->modality; /* a phone call stays a call */
	ret_args->urgency = b->urgency ? b->urgency : "routine";
	ret_args->referral_time = b->referral_time;
	ret_args->series_length = 1;
}

static gboolean
check_movable(const StoreBooking *b, const SlotdOffering *new_off,
	      GError **error)
{
	if (g_strcmp0(b->status, "booked") != 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
			    "only a booking in status 'booked' can be "
			    "rescheduled; this one is '%s'",
			    b->status);
		return FALSE;
	}
	if (g_strcmp0(b->service, new_off->service->id) != 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    "the new slot belongs to another service (%s); "
			    "book that service instead",
			    new_off->service->id);
		return FALSE;
	}
	return TRUE;
}

static gboolean
do_move(Capacity *capacity, gpointer data, GError **error)
{
	MoveCall *m = data;
	const SlotdOffering *off;
	const SlotdKindOps *ops;
	g_auto(StoreSlot) slot = { 0 };
	g_autoptr(GVariant) extras = NULL;
	SlotRun run = { 0 };
	SlotdCost cost;
	BookArgs a;
	gint64 now = capacity_now(capacity);
	gboolean ok;

	if (!store_get_booking(capacity->store, m->booking_id, &m->before,
			       error) ||
	    !load_slot(capacity, m->new_slot_id, &slot, &off, &ops, error) ||
	    !check_movable(m->before, off, error) ||
	    !check_slot_open(ops, &slot, now,
			     m->before->urgency ? m->before->urgency
						: "routine",
			     error))
		return FALSE;
	args_from_booking(m->before, m->caller, &a);
	/* The old seats go first, so the plugin's rules and the counters
	 * see the client without this booking; all in one transaction. */
	if (!check_offering_fits(capacity, off, &a, error) ||
	    !store_release_seats(capacity->store, m->booking_id, error) ||
	    !store_update_booking_status(capacity->store, m->booking_id,
					 "cancelled", NULL, now, error) ||
	    !admit(capacity, off, ops, &slot, &a, &cost, &run, &extras, error))
		return FALSE;
	ok = take_run(capacity, m->booking_id, &run, cost.seats, error) &&
	     store_update_booking_status(capacity->store, m->booking_id,
					 "booked", NULL, now, error) &&
	     store_move_booking(capacity->store, m->booking_id, slot.id,
				off->id, off->unit->id, slot.start, run.end,
				extras, now, error) &&
	     store_get_booking(capacity->store, m->booking_id, &m->after,
			       error);
	slot_run_clear(&run);
	if (ok) {
		g_autofree char *detail = g_strdup_printf(
			"slot s-%" G_GINT64_FORMAT " -> s-%" G_GINT64_FORMAT,
			m->before->slot, slot.id);

		ok = audit(capacity, m->caller, "reschedule", m->booking_id,
			   detail, error);
	}
	return ok;
}

gboolean
capacity_reschedule(Capacity *capacity, const Caller *caller,
		    const char *booking_id, const char *new_slot_id,
		    char **ret_booking_id, GError **error)
{
	MoveCall m = { caller, 0, 0, NULL, NULL };
	gboolean ok;

	if (!capacity_parse_id(booking_id, 'b', &m.booking_id,
			       SLOTD_ERROR_NO_SUCH_BOOKING, error) ||
	    !capacity_parse_id(new_slot_id, 's', &m.new_slot_id,
			       SLOTD_ERROR_NO_SUCH_SLOT, error))
		return FALSE;
	ok = capacity_transaction(capacity, do_move, &m, error);
	if (ok) {
		capacity_notify_booking(capacity, m.after);
		capacity_notify_slots(capacity, m.before->offering,
				      m.before->start, m.before->end);
		capacity_notify_slots(capacity, m.after->offering,
				      m.after->start, m.after->end);
		*ret_booking_id = g_strdup(booking_id);
	}
	g_clear_pointer(&m.before, store_booking_free);
	g_clear_pointer(&m.after, store_booking_free);
	return ok;
}
