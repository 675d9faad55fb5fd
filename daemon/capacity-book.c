/* Holds, bookings, series and rescheduling. Each is one BEGIN
 * IMMEDIATE transaction that asks the admission rule (capacity_admit,
 * the same one FindSlots asks), takes exactly what it answered and
 * writes its audit row; the listeners hear of it only after COMMIT. */
#include "capacity-private.h"

#include <stdlib.h>
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
	{ "deadline-exceeded-reason", "s",
	  "why a start past the referral's legal deadline is booked" },
	{ "booked-by", "s",
	  "the professional booking for the client (a pseudonymous id)" },
	{ "on-behalf-of", "s", "who the booking is made for: self, "
	  "guardian or professional" },
	{ "override-reason", "s",
	  "administrators: why a booking rule is overridden (audited)" },
	{ "practitioner", "s", "the practitioner the client keeps or asks "
	  "for (a staff id)" },
	{ "allow-practitioner-change", "b", "a visit of a series may have "
	  "another practitioner than the others" },
	{ "campaign", "s", "the campaign the booking belongs to (an id; "
	  "BookCampaign sets it, CampaignProgress counts by it)" },
	{ NULL }
};

/* Everything one booking request carries, checked. */
typedef struct {
	const Caller *caller;
	const char *client_ref;
	GVariant *options;
	const OptionIndex *index;	/* of options, or NULL */
	const char *municipality;	/* resolved code */
	const char *language;
	const char *modality;
	const char *urgency;
	gint64 referral_time;
	const char *idempotency_key;
	gint64 hold_id;			/* 0: none */
	guint series_index;
	guint series_length;
	gint64 series;			/* first booking's id; 0: none */
	gint64 except;			/* booking being moved */
	const char *override;		/* administrator's reason */
	gboolean offered;		/* the hold is a waitlist offer's */
	guint32 hold_owner;		/* offered: whose hold it is */
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

/* An option of the request: through the index when the call made one
 * (g_variant_lookup() unpacks every entry it passes, each time). */
static const char *
arg_string(const BookArgs *a, const char *key, const char *fallback)
{
	if (a->index)
		return option_index_string(a->index, key, fallback);
	return options_string(a->options, key, fallback);
}

static gint64
arg_int64(const BookArgs *a, const char *key, gint64 fallback)
{
	if (a->index)
		return option_index_int64(a->index, key, fallback);
	return options_int64(a->options, key, fallback);
}

static guint32
arg_uint32(const BookArgs *a, const char *key, guint32 fallback)
{
	if (a->index)
		return option_index_uint32(a->index, key, fallback);
	return options_uint32(a->options, key, fallback);
}

/* booked-by is a pseudonymous id like a client reference; on-behalf-of
 * one of three words. Both are kept with the booking, never in feeds. */
static gboolean
check_on_behalf(const BookArgs *a, GError **error)
{
	static const char *const whom[] = { "self", "guardian",
					    "professional", NULL };
	const char *by = arg_string(a, "booked-by", NULL);
	const char *behalf = arg_string(a, "on-behalf-of", NULL);

	if (by && !validate_client_ref(by, FALSE, error)) {
		g_prefix_error(error, "booked-by: ");
		return FALSE;
	}
	if (!behalf || g_strv_contains(whom, behalf))
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "on-behalf-of is self, guardian or professional");
	return FALSE;
}

static gboolean
validate_option_text(const BookArgs *a, const char *key, GError **error)
{
	const char *text = arg_string(a, key, NULL);

	return !text || validate_text(text, key, 200, error);
}

static gboolean
check_override(const Caller *caller, GError **error)
{
	if (caller && caller->admin)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_ACCESS_DENIED,
		    "override-reason needs the admin role; without it the "
		    "booking rules apply");
	return FALSE;
}

/* `a->index` is the index of `options` or NULL. */
static gboolean
parse_book_args(Capacity *capacity, const SlotdKindOps *ops,
		const char *client_ref, GVariant *options, BookArgs *a,
		GError **error)
{
	const char *home, *hold, *campaign;
	gint64 now = capacity_now(capacity);

	a->options = options;
	home = arg_string(a, "municipality", NULL);
	hold = arg_string(a, "hold", NULL);
	if (!options_check(options, book_keys, ops->options, "option", error))
		return FALSE;
	/* NULL: a hold for a client not named yet. */
	if (client_ref &&
	    !validate_client_ref(client_ref,
				 ops->flags & SLOTD_KIND_ANONYMOUS_VISITS,
				 error))
		return FALSE;
	a->client_ref = client_ref;
	a->municipality = NULL;
	if (home) {
		const Municipality *m =
			capacity_resolve_municipality(capacity, home, error);

		if (!m)
			return FALSE;
		a->municipality = m->code;
	}
	a->language = arg_string(a, "language", NULL);
	if (a->language && !validate_language(a->language, error))
		return FALSE;
	a->modality = arg_string(a, "modality", NULL);
	if (a->modality && !capacity_check_modality(a->modality, error))
		return FALSE;
	a->urgency = arg_string(a, "urgency", "routine");
	if (!capacity_check_urgency(a->urgency, error))
		return FALSE;
	a->referral_time = arg_int64(a, "referral-time", 0);
	if (a->referral_time < 0 || a->referral_time > now) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "referral-time must be a past instant in UTC "
			    "seconds");
		return FALSE;
	}
	if (arg_uint32(a, "age", 0) > 130) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "age must be 0 to 130 years");
		return FALSE;
	}
	if (!check_on_behalf(a, error) ||
	    !validate_option_text(a, "deadline-exceeded-reason", error))
		return FALSE;
	a->override = arg_string(a, "override-reason", NULL);
	if (a->override &&
	    (!validate_text(a->override, "override-reason", 200, error) ||
	     !check_override(a->caller, error)))
		return FALSE;
	if (!capacity_check_practitioner(capacity, options, error))
		return FALSE;
	campaign = arg_string(a, "campaign", NULL);
	if (campaign && !validate_id(campaign, "campaign", error))
		return FALSE;
	a->idempotency_key = arg_string(a, "idempotency-key", NULL);
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
	r->series = a->series;
	r->options = a->options;
	r->option_index = a->index;
}

/* Asks the admission rule about `slot` for the request in `a`. */
static gboolean
admit_request(Capacity *capacity, const SlotdOffering *off,
	      const SlotdKindOps *ops, const StoreSlot *slot,
	      const BookArgs *a, Admission *ret, GError **error)
{
	memset(ret, 0, sizeof(*ret));
	ret->offering = off;
	ret->ops = ops;
	ret->slot = slot;
	ret->except = a->except;
	ret->override = a->override;
	fill_request(capacity, a, &ret->request);
	return capacity_admit(capacity, ret, NULL, error);
}

static gboolean
take_run(Capacity *capacity, gint64 booking_id, const Admission *adm,
	 GError **error)
{
	for (guint i = 0; i < adm->run.slots->len; i++) {
		StoreSlot *s = &g_array_index(adm->run.slots, StoreSlot, i);

		if (!store_take_seats(capacity->store, booking_id, s->id,
				      adm->cost.seats, error))
			return FALSE;
	}
	return TRUE;
}

/* Options that name the call, not the request: a Book carries them, its
 * hold did not. */
static gboolean
names_the_call(const char *key)
{
	return g_str_equal(key, "hold") ||
	       g_str_equal(key, "idempotency-key");
}

gint
capacity_compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A request as a HoldFor hold keeps it: "client-ref=..." (empty when
 * the client is not named yet), then one "key=value" line per option in
 * key order, values as GVariant text. */
#define UNNAMED_CLIENT "client-ref=\n"
static char *
request_text(const char *client_ref, GVariant *options)
{
	GString *text = g_string_new(NULL);
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_string_append_printf(text, "client-ref=%s\n",
			       client_ref ? client_ref : "");
	if (options) {
		g_variant_iter_init(&iter, options);
		while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
			g_autofree char *printed = g_variant_print(value,
								   TRUE);

			if (!names_the_call(key))
				g_ptr_array_add(lines,
						g_strdup_printf("%s=%s", key,
								printed));
			g_variant_unref(value);
		}
	}
	g_ptr_array_sort(lines, capacity_compare_strings);
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(text, "%s\n",
				       (const char *)lines->pdata[i]);
	return g_string_free(text, FALSE);
}

/* Adds the key of every line of `lines` that `other` lacks. */
static void
add_missing_keys(GHashTable *keys, char **lines, char **other)
{
	for (char **l = lines; *l; l++)
		if (**l && !g_strv_contains((const char *const *)other, *l))
			g_hash_table_add(keys, g_strndup(*l, strcspn(*l, "=")));
}

/* The keys whose lines differ between two request texts, for the
 * error: "language, modality". */
static char *
request_difference(const char *held, const char *asked)
{
	g_auto(GStrv) a = g_strsplit(held, "\n", -1);
	g_auto(GStrv) b = g_strsplit(asked, "\n", -1);
	g_autoptr(GHashTable) keys = g_hash_table_new_full(g_str_hash,
							   g_str_equal, g_free,
							   NULL);
	g_autofree gpointer *names = NULL;
	guint n = 0;
	GString *out = g_string_new(NULL);

	add_missing_keys(keys, a, b);
	add_missing_keys(keys, b, a);
	names = g_hash_table_get_keys_as_array(keys, &n);
	qsort(names, n, sizeof(gpointer), capacity_compare_strings);
	for (guint i = 0; i < n; i++)
		g_string_append_printf(out, "%s%s", i ? ", " : "",
				       (const char *)names[i]);
	return g_string_free(out, FALSE);
}

static gboolean
use_hold(Capacity *capacity, const BookArgs *a, gint64 slot_id,
	 GError **error)
{
	g_auto(StoreHold) hold = { 0 };

	if (!a->hold_id)
		return TRUE;
	if (!store_get_hold(capacity->store, a->hold_id,
			    capacity_now(capacity), &hold, error))
		return FALSE;
	if (hold.slot != slot_id ||
	    hold.uid != (a->offered ? a->hold_owner : a->caller->uid)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
			    "the hold belongs to another slot or caller");
		return FALSE;
	}
	/* HoldFor held exactly what Book of that request takes: another
	 * request would be decided afresh, and could take another
	 * practitioner than the one held (a Finnish-speaking nurse for a
	 * client held with a Swedish-speaking one). */
	if (hold.request && *hold.request) {
		gboolean named = !g_str_has_prefix(hold.request,
						   UNNAMED_CLIENT);
		g_autofree char *asked = request_text(
			named ? a->client_ref : NULL, a->options);

		if (!g_str_equal(asked, hold.request)) {
			g_autofree char *keys =
				request_difference(hold.request, asked);

			g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
				    "the hold was taken for another request "
				    "(%s differs); book with the client and "
				    "options the hold was taken with, or "
				    "hold again",
				    keys);
			return FALSE;
		}
	}
	/* Its seat goes back just before the booking takes it. */
	return store_delete_hold(capacity->store, a->hold_id, error);
}

static const char *
stored_modality(const Admission *adm)
{
	if (adm->modality)
		return adm->modality;
	if (adm->request.modality)
		return adm->request.modality;
	return adm->offering->modality;
}

static StoreBooking *
booking_row(const Admission *adm, const BookArgs *a, gint64 now)
{
	const SlotdOffering *off = adm->offering;
	StoreBooking *b = g_new0(StoreBooking, 1);

	b->slot = adm->slot->id;
	b->offering = g_strdup(off->id);
	b->unit = g_strdup(off->unit->id);
	b->service = g_strdup(off->service->id);
	b->start = adm->slot->start;
	b->end = admission_end(adm);
	b->client_ref = g_strdup(a->client_ref);
	b->status = g_strdup("booked");
	b->seats = adm->cost.seats;
	b->municipality = g_strdup(a->municipality);
	b->language = g_strdup(a->language);
	b->modality = g_strdup(stored_modality(adm));
	b->urgency = g_strdup(a->urgency);
	b->referral_time = a->referral_time;
	b->extras = g_variant_ref(adm->extras);
	b->created = now;
	b->modified = now;
	b->created_by = a->caller->uid;
	b->series = a->series;
	b->series_index = a->series_index;
	b->series_length = a->series_length;
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

/* The first booking of a series names it: its own id. */
static gboolean
start_series(Capacity *capacity, StoreBooking *b, BookArgs *a,
	     GError **error)
{
	if (a->series_length <= 1 || a->series_index > 0)
		return TRUE;
	a->series = b->id;
	b->series = b->id;
	return store_set_booking_series(capacity->store, b->id, b->id, error);
}

static gboolean
store_new_booking(Capacity *capacity, const Admission *adm, BookArgs *a,
		  StoreBooking **ret_booking, GError **error)
{
	g_autoptr(StoreBooking) b = booking_row(adm, a, capacity_now(capacity));
	g_autofree char *detail = NULL;

	b->idempotency_key = series_key(a);
	if (!store_insert_booking(capacity->store, b, error) ||
	    !start_series(capacity, b, a, error) ||
	    !take_run(capacity, b->id, adm, error) ||
	    !capacity_take_resources(capacity, adm, b->id, 0, error))
		return FALSE;
	detail = g_strdup_printf("slot s-%" G_GINT64_FORMAT " seats %u "
				 "slots %u%s%s",
				 adm->slot->id, adm->cost.seats,
				 adm->run.slots->len,
				 a->override ? " override: " : "",
				 a->override ? a->override : "");
	if (!audit(capacity, a->caller, "book", b->id, detail, error) ||
	    !capacity_outbox_booking(capacity, b, "booked", error))
		return FALSE;
	*ret_booking = g_steal_pointer(&b);
	return TRUE;
}

/* One booking inside the caller's transaction, of `slot` as the caller
 * read it (with its offering and kind) just before. */
static gboolean
book_one(Capacity *capacity, const StoreSlot *slot, const SlotdOffering *off,
	 const SlotdKindOps *ops, BookArgs *a, StoreBooking **ret_booking,
	 GError **error)
{
	g_auto(StoreSlot) reread = { 0 };
	Admission adm;
	gboolean ok;

	/* A hold's places go back first, so that the rule sees the room
	 * the hold kept for exactly this booking: the slot as it is then.
	 * Without a hold nothing changed since the caller read it. */
	if (a->hold_id) {
		if (!use_hold(capacity, a, slot->id, error) ||
		    !load_slot(capacity, slot->id, &reread, &off, &ops, error))
			return FALSE;
		slot = &reread;
	}
	if (!admit_request(capacity, off, ops, slot, a, &adm, error))
		return FALSE;
	ok = store_new_booking(capacity, &adm, a, ret_booking, error);
	admission_clear(&adm);
	return ok;
}

/* ---- Hold ----------------------------------------------------------- */

typedef struct {
	const Caller *caller;
	gint64 slot_id;
	const char *client_ref;	/* NULL: not known yet */
	GVariant *options;
	guint seconds;
	gint64 hold_id;
	gint64 expires;
	char *offering;
	gint64 start, end;
	char *request;		/* HoldFor: what Book must ask; NULL none */
} HoldCall;

static gboolean
hold_args(Capacity *capacity, const SlotdKindOps *ops, HoldCall *h,
	  BookArgs *a, GError **error)
{
	a->caller = h->caller;
	if (!parse_book_args(capacity, ops, h->client_ref, h->options, a,
			     error))
		return FALSE;
	if (a->hold_id || a->idempotency_key) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "a hold takes neither 'hold' nor "
			    "'idempotency-key'; give them to Book");
		return FALSE;
	}
	a->caller = h->caller;
	a->client_ref = h->client_ref;
	a->series_length = 1;
	return TRUE;
}

static gboolean
reserve(Capacity *capacity, HoldCall *h, const Admission *adm,
	GError **error)
{
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(gint64));
	gint64 now = capacity_now(capacity);
	StoreHoldRequest r = {
		.offering = adm->offering->id,
		.service = adm->offering->service->id,
		.start = adm->slot->start,
		.end = admission_end(adm),
		.client_ref = h->client_ref,
		.extras = adm->extras,
		.seats = adm->cost.seats,
		.slots = slots,
		.expires = now + h->seconds,
		.uid = h->caller->uid,
		.created = now,
		.request = h->request,
	};

	for (guint i = 0; i < adm->run.slots->len; i++)
		g_array_append_val(slots, g_array_index(adm->run.slots,
							StoreSlot, i).id);
	h->expires = r.expires;
	return store_insert_hold(capacity->store, &r, &h->hold_id, error) &&
	       capacity_take_resources(capacity, adm, 0, h->hold_id, error);
}

static gboolean
do_hold(Capacity *capacity, gpointer data, GError **error)
{
	HoldCall *h = data;
	g_auto(StoreSlot) slot = { 0 };
	g_autoptr(OptionIndex) index =
		h->options ? option_index_new(h->options) : NULL;
	const SlotdOffering *off;
	const SlotdKindOps *ops;
	BookArgs a = { .index = index };
	Admission adm;
	gboolean ok;

	if (!load_slot(capacity, h->slot_id, &slot, &off, &ops, error) ||
	    !hold_args(capacity, ops, h, &a, error) ||
	    !admit_request(capacity, off, ops, &slot, &a, &adm, error))
		return FALSE;
	ok = reserve(capacity, h, &adm, error) &&
	     audit(capacity, h->caller, "hold", 0,
		   "", error);
	if (ok) {
		h->offering = g_strdup(slot.offering);
		h->start = slot.start;
		h->end = admission_end(&adm);
	}
	admission_clear(&adm);
	return ok;
}

gboolean
capacity_hold_in_transaction(Capacity *capacity, const Caller *caller,
			     gint64 slot_id, const char *client_ref,
			     GVariant *options, guint seconds,
			     gint64 *ret_hold_id, gint64 *ret_expires,
			     GError **error)
{
	HoldCall h = { caller, slot_id, client_ref, options, seconds };
	gboolean ok = do_hold(capacity, &h, error);

	g_free(h.offering);
	if (ok) {
		*ret_hold_id = h.hold_id;
		*ret_expires = h.expires;
	}
	return ok;
}

gboolean
capacity_hold_tentative(Capacity *capacity, const Caller *caller,
			gint64 slot_id, const char *client_ref,
			GVariant *options, guint seconds, gint64 *ret_hold_id,
			gint64 *ret_end, GError **error)
{
	HoldCall h = { caller, slot_id, client_ref, options, seconds };
	gboolean ok = do_hold(capacity, &h, error);

	g_free(h.offering);
	if (ok) {
		*ret_hold_id = h.hold_id;
		*ret_end = h.end;
	}
	return ok;
}

gboolean
capacity_hold(Capacity *capacity, const Caller *caller, const char *slot_id,
	      const char *client_ref, GVariant *options, guint seconds,
	      char **ret_hold_id, gint64 *ret_expires, GError **error)
{
	g_autoptr(GVariant) none = g_variant_ref_sink(
		g_variant_new("a{sv}", NULL));
	HoldCall h = { caller, 0, client_ref, options ? options : none,
		       seconds };
	guint max = capacity->region->daemon.hold_max_seconds;
	/* HoldFor (options, even empty ones) promises what Book of this
	 * request would take; Hold promises nothing. An unnamed client is
	 * named by the Book. */
	g_autofree char *request = options ? request_text(client_ref,
							  options)
					   : NULL;

	h.request = request;
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
	*ret_hold_id = capacity_id_text('h', h.hold_id);
	if (ret_expires)
		*ret_expires = h.expires;
	capacity_notify_slots(capacity, h.offering, h.start, h.end);
	g_free(h.offering);
	return TRUE;
}

typedef struct {
	const Caller *caller;
	gint64 hold_id;
	StoreHold hold;
} ReleaseCall;

static gboolean
do_release(Capacity *capacity, gpointer data, GError **error)
{
	ReleaseCall *r = data;
	gint64 entry = 0;

	if (!store_get_hold(capacity->store, r->hold_id,
			    capacity_now(capacity), &r->hold, error))
		return FALSE;
	if (r->hold.uid != r->caller->uid) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
			    "the hold belongs to another caller");
		return FALSE;
	}
	if (!store_wait_offer_by_hold(capacity->store, r->hold_id, &entry,
				      error))
		return FALSE;
	if (entry) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
			    "the hold keeps a waitlist offer (w-%" G_GINT64_FORMAT
			    "); use DeclineOffer or AcceptOffer",
			    entry);
		return FALSE;
	}
	return store_delete_hold(capacity->store, r->hold_id, error) &&
	       audit(capacity, r->caller, "release-hold", 0, "", error);
}

gboolean
capacity_release_hold(Capacity *capacity, const Caller *caller,
		      const char *hold_id, GError **error)
{
	ReleaseCall r = { caller, 0 };
	g_auto(StoreSlot) slot = { 0 };
	gboolean ok = capacity_parse_id(hold_id, 'h', &r.hold_id,
					SLOTD_ERROR_NO_SUCH_HOLD, error) &&
		      capacity_transaction(capacity, do_release, &r, error);

	store_hold_clear(&r.hold);
	if (!ok)
		return FALSE;
	if (store_get_slot(capacity->store, r.hold.slot, &slot, NULL)) {
		capacity_notify_slots(capacity, slot.offering, slot.start,
				      slot.end);
		capacity_note_freed(capacity, slot.offering, slot.start,
				    slot.end);
	}
	return TRUE;
}

gint64
capacity_expire_holds(Capacity *capacity)
{
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GError) error = NULL;

	if (!store_begin(capacity->store, &error) ||
	    !capacity_waitlist_expire(capacity, capacity_now(capacity),
				      &error) ||
	    !store_expire_holds(capacity->store, capacity_now(capacity), slots,
				&error) ||
	    !store_commit(capacity->store, &error)) {
		store_rollback(capacity->store);
		g_warning("cannot expire holds: %s", error->message);
		return capacity_now(capacity) + 5;
	}
	for (guint i = 0; i < slots->len; i++) {
		g_auto(StoreSlot) slot = { 0 };

		if (!store_get_slot(capacity->store,
				    g_array_index(slots, gint64, i), &slot,
				    NULL))
			continue;
		capacity_notify_slots(capacity, slot.offering, slot.start,
				      slot.end);
		capacity_note_freed(capacity, slot.offering, slot.start,
				    slot.end);
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
	gint64 series;		/* set by the first booking of a series */
	gboolean offered;	/* the hold is a waitlist offer's */
	guint32 hold_owner;
	const OptionIndex *index; /* of options, while do_book() runs */
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
	g_autofree char *slot = capacity_id_text('s', b->slot);

	return g_strcmp0(b->client_ref, client_ref) == 0 &&
	       g_strcmp0(slot, slot_id) == 0;
}

static gboolean
replay(Capacity *capacity, BookCall *c, guint n, GError **error)
{
	const char *key = NULL;

	/* No index: the call has no options. */
	if (c->index)
		key = option_index_string(c->index, "idempotency-key", NULL);
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
	BookArgs a = { .caller = c->caller, .index = c->index,
		       .series_index = i, .series_length = n };
	gint64 id = 0;

	if (!capacity_parse_id(c->slot_ids[i], 's', &id,
			       SLOTD_ERROR_NO_SUCH_SLOT, error) ||
	    !load_slot(capacity, id, &slot, &off, &ops, error) ||
	    !parse_book_args(capacity, ops, c->client_ref, c->options, &a,
			     error))
		return FALSE;
	if (i > 0)
		a.hold_id = 0; /* a hold in a series is on its first slot */
	a.offered = c->offered;
	a.hold_owner = c->hold_owner;
	a.series = c->series;
	if (!book_one(capacity, &slot, off, ops, &a, ret_booking, error))
		return FALSE;
	c->series = a.series;
	return TRUE;
}

static gboolean do_book(Capacity *capacity, gpointer data, GError **error);

gboolean
capacity_book_in_transaction(Capacity *capacity, const Caller *caller,
			     const char *slot_id, const char *client_ref,
			     GVariant *options, StoreBooking **ret_booking,
			     GError **error)
{
	const char *ids[] = { slot_id, NULL };
	BookCall c = { caller, ids, client_ref, options, NULL, FALSE };
	gboolean ok;

	c.bookings = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	ok = do_book(capacity, &c, error);
	if (ok)
		*ret_booking = g_ptr_array_steal_index(c.bookings, 0);
	g_ptr_array_unref(c.bookings);
	return ok;
}

gboolean
capacity_book_from_offer(Capacity *capacity, const Caller *caller,
			 gint64 slot_id, const char *client_ref,
			 GVariant *options, guint32 hold_owner,
			 StoreBooking **ret_booking, GError **error)
{
	g_autofree char *slot = capacity_id_text('s', slot_id);
	const char *ids[] = { slot, NULL };
	BookCall c = { caller, ids, client_ref, options, NULL, FALSE };
	gboolean ok;

	c.offered = TRUE;
	c.hold_owner = hold_owner;
	c.bookings = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	ok = do_book(capacity, &c, error);
	if (ok && c.bookings->len == 1)
		*ret_booking = g_ptr_array_steal_index(c.bookings, 0);
	else if (ok) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "the offer was booked already");
		ok = FALSE;
	}
	g_ptr_array_unref(c.bookings);
	return ok;
}

static gboolean
book_visits(Capacity *capacity, BookCall *c, guint n, GError **error)
{
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

static gboolean
do_book(Capacity *capacity, gpointer data, GError **error)
{
	BookCall *c = data;
	guint n = g_strv_length((char **)c->slot_ids);
	g_autoptr(OptionIndex) index = NULL;
	gboolean ok;

	/* The checks and the rule read the same options many times over,
	 * for every visit: indexed once. */
	if (c->options)
		index = option_index_new(c->options);
	c->index = index;
	ok = replay(capacity, c, n, error) &&
	     (c->replayed || book_visits(capacity, c, n, error));
	c->index = NULL;
	return ok;
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
	const char *practitioner; /* NULL: as booked; "": any */
	StoreBooking *before;
	StoreBooking *after;
} MoveCall;

/* What a reschedule may change of the request. */
static const SlotdOptionSpec reschedule_keys[] = {
	{ "practitioner", "s", "the visit's practitioner from now on (a "
	  "staff id), or \"\" for whoever the rule finds" },
	{ NULL }
};

/* The booking's kept request with its practitioner replaced, or for
 * "" none asked for: then a visit of a series that keeps its
 * practitioner may change too (as FindSlots, asked without one, offers
 * any practitioner's slots). */
static GVariant *
with_practitioner(GVariant *kept, const char *practitioner)
{
	GVariantDict d;

	g_variant_dict_init(&d, kept);
	g_variant_dict_remove(&d, "practitioner");
	if (*practitioner)
		g_variant_dict_insert(&d, "practitioner", "s", practitioner);
	else
		g_variant_dict_insert(&d, "allow-practitioner-change", "b",
				      TRUE);
	return g_variant_ref_sink(g_variant_dict_end(&d));
}

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
	ret_args->series = b->series;
	ret_args->series_index = b->series_index;
	ret_args->series_length = MAX(b->series_length, 1);
	ret_args->except = b->id;
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

/* Places left by moves before this are in no feed any more (a day
 * more than cancelled-feed-days, which feeds count from midnight). */
static gint64
feed_keep_since(Capacity *capacity)
{
	return capacity_now(capacity) -
	       (gint64)(capacity->region->daemon.cancelled_feed_days + 1) *
		       86400;
}

static gboolean
move_to(Capacity *capacity, MoveCall *m, const Admission *adm,
	GError **error)
{
	StoreMove move = {
		.slot = adm->slot->id,
		.offering = adm->offering->id,
		.unit = adm->offering->unit->id,
		.start = adm->slot->start,
		.end = admission_end(adm),
		.seats = adm->cost.seats,
		.modality = adm->modality,
		.extras = adm->extras,
	};
	g_autofree char *asked = NULL;
	g_autofree char *detail = NULL;

	if (m->practitioner) {
		const char *was = "";

		g_variant_lookup(m->before->extras, "practitioner", "&s",
				 &was);
		if (!g_str_equal(was, m->practitioner))
			asked = g_strdup_printf(
				" practitioner asked %s -> %s",
				*was ? was : "any",
				*m->practitioner ? m->practitioner : "any");
	}
	detail = g_strdup_printf("slot s-%" G_GINT64_FORMAT
				 " -> s-%" G_GINT64_FORMAT
				 " seats %u slots %u%s",
				 m->before->slot, adm->slot->id,
				 adm->cost.seats, adm->run.slots->len,
				 asked ? asked : "");

	return take_run(capacity, m->booking_id, adm, error) &&
	       store_forget_resources(capacity->store, m->booking_id,
				      capacity_now(capacity),
				      feed_keep_since(capacity), error) &&
	       capacity_take_resources(capacity, adm, m->booking_id, 0,
				       error) &&
	       store_move_booking(capacity->store, m->booking_id, &move,
				  capacity_now(capacity), error) &&
	       store_get_booking(capacity->store, m->booking_id, &m->after,
				 error) &&
	       audit(capacity, m->caller, "reschedule", m->booking_id, detail,
		     error) &&
	       capacity_outbox_booking(capacity, m->after, "rescheduled",
				       error);
}

static gboolean
do_move(Capacity *capacity, gpointer data, GError **error)
{
	MoveCall *m = data;
	const SlotdOffering *off;
	const SlotdKindOps *ops;
	g_auto(StoreSlot) slot = { 0 };
	g_autoptr(GVariant) asked = NULL;
	Admission adm;
	BookArgs a;
	gboolean ok;

	if (!store_get_booking(capacity->store, m->booking_id, &m->before,
			       error) ||
	    !load_slot(capacity, m->new_slot_id, &slot, &off, &ops, error) ||
	    !check_movable(m->before, off, error) ||
	    !capacity_check_cutoff(capacity, m->before, TRUE, m->caller, NULL,
				   error))
		return FALSE;
	args_from_booking(m->before, m->caller, &a);
	if (m->practitioner)
		a.options = asked = with_practitioner(m->before->extras,
						      m->practitioner);
	/* The old places go first, so that the rule and the counters see
	 * the client without this booking (it is also left out of the
	 * client's counts); all in one transaction. */
	store_slot_clear(&slot);
	if (!store_release_seats(capacity->store, m->booking_id, error) ||
	    !store_get_slot(capacity->store, m->new_slot_id, &slot, error) ||
	    !admit_request(capacity, off, ops, &slot, &a, &adm, error))
		return FALSE;
	ok = move_to(capacity, m, &adm, error);
	admission_clear(&adm);
	return ok;
}

gboolean
capacity_reschedule(Capacity *capacity, const Caller *caller,
		    const char *booking_id, const char *new_slot_id,
		    GVariant *options, char **ret_booking_id, GError **error)
{
	MoveCall m = { caller, 0, 0, NULL, NULL, NULL };
	gboolean ok;

	if (!capacity_parse_id(booking_id, 'b', &m.booking_id,
			       SLOTD_ERROR_NO_SUCH_BOOKING, error) ||
	    !capacity_parse_id(new_slot_id, 's', &m.new_slot_id,
			       SLOTD_ERROR_NO_SUCH_SLOT, error))
		return FALSE;
	if (options) {
		if (!options_check(options, reschedule_keys, NULL, "options",
				   error))
			return FALSE;
		m.practitioner = options_string(options, "practitioner",
						NULL);
		if (m.practitioner && *m.practitioner &&
		    !capacity_check_practitioner(capacity, options, error))
			return FALSE;
	}
	ok = capacity_transaction(capacity, do_move, &m, error);
	if (ok) {
		capacity_notify_booking(capacity, m.after);
		capacity_notify_slots(capacity, m.before->offering,
				      m.before->start, m.before->end);
		capacity_note_freed(capacity, m.before->offering,
				    m.before->start, m.before->end);
		capacity_notify_slots(capacity, m.after->offering,
				      m.after->start, m.after->end);
		*ret_booking_id = g_strdup(booking_id);
	}
	g_clear_pointer(&m.before, store_booking_free);
	g_clear_pointer(&m.after, store_booking_free);
	return ok;
}
