/* The notification outbox. slotd sends no SMS or e-mail itself: every
 * change writes what the client must be told, and when, in its own
 * transaction, and a gateway claims the items over Notifications1 and
 * acknowledges them. Texts follow the booking's language (fi, sv, en),
 * name the unit, the local time (Europe/Helsinki) and the modality,
 * and never a client's identity; the gateway gets the pseudonymous
 * client reference beside the text, as the key to its own contacts. */
#include "capacity-private.h"

#include <string.h>

#include "calendar.h"
#include "validate.h"

typedef enum { LANG_FI, LANG_SV, LANG_EN, N_LANGS } Lang;

static const char *const lang_codes[N_LANGS] = { "fi", "sv", "en" };

static Lang
lang_of(const char *language)
{
	for (guint i = 0; i < N_LANGS; i++)
		if (g_strcmp0(language, lang_codes[i]) == 0)
			return i;
	return LANG_FI;
}

static const struct {
	const char *modality;
	const char *words[N_LANGS];
} modality_words[] = {
	{ "onsite", { "käynti toimipisteessä", "besök på mottagningen",
		      "visit at the unit" } },
	{ "home", { "kotikäynti", "hembesök", "home visit" } },
	{ "phone", { "puhelinaika", "telefonsamtal", "phone call" } },
	{ "video", { "videoaika", "videosamtal", "video call" } },
};

static const char *
modality_text(const char *modality, Lang lang)
{
	for (guint i = 0; i < G_N_ELEMENTS(modality_words); i++)
		if (g_strcmp0(modality_words[i].modality, modality) == 0)
			return modality_words[i].words[lang];
	return modality_words[0].words[lang];
}

/* "7.12.2026 klo 8.30", "7.12.2026 kl. 8.30", "7 Dec 2026 at 08:30". */
static char *
local_time_text(gint64 utc, Lang lang)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
					      "May", "Jun", "Jul", "Aug",
					      "Sep", "Oct", "Nov", "Dec" };
	int year, month, day, hour, minute, weekday;

	calendar_utc_to_local(utc, &year, &month, &day, &hour, &minute,
			      &weekday);
	switch (lang) {
	case LANG_SV:
		return g_strdup_printf("%d.%d.%d kl. %d.%02d", day, month,
				       year, hour, minute);
	case LANG_EN:
		return g_strdup_printf("%d %s %d at %02d:%02d", day,
				       months[month - 1], year, hour, minute);
	default:
		return g_strdup_printf("%d.%d.%d klo %d.%02d", day, month,
				       year, hour, minute);
	}
}

static const char *
unit_name(Capacity *capacity, const char *unit_id, Lang lang)
{
	const Unit *u = g_hash_table_lookup(capacity->region->unit_by_id,
					    unit_id);

	if (!u)
		return unit_id;
	if (lang == LANG_SV && u->title_sv && *u->title_sv)
		return u->title_sv;
	return u->title_fi ? u->title_fi : unit_id;
}

/* Templates by kind: %1$s unit, %2$s time, %3$s modality. */
static const struct {
	const char *kind;
	const char *text[N_LANGS];
} templates[] = {
	{ "booked",
	  { "Aikasi on varattu: %2$s, %1$s (%3$s).",
	    "Din tid är bokad: %2$s, %1$s (%3$s).",
	    "Your appointment is booked: %2$s, %1$s (%3$s)." } },
	{ "rescheduled",
	  { "Aikasi on siirretty: uusi aika %2$s, %1$s (%3$s).",
	    "Din tid har flyttats: ny tid %2$s, %1$s (%3$s).",
	    "Your appointment has been moved: new time %2$s, %1$s (%3$s)." } },
	{ "cancelled",
	  { "Aikasi %2$s, %1$s (%3$s) on peruttu.",
	    "Din tid %2$s, %1$s (%3$s) har avbokats.",
	    "Your appointment on %2$s, %1$s (%3$s) has been cancelled." } },
	{ "reminder",
	  { "Muistutus: aikasi %2$s, %1$s (%3$s).",
	    "Påminnelse: din tid %2$s, %1$s (%3$s).",
	    "Reminder: your appointment on %2$s, %1$s (%3$s)." } },
	{ "offer",
	  { "Vapautunut aika sinulle: %2$s, %1$s (%3$s). Vastaa viimeistään "
	    "%4$s.",
	    "En ledig tid för dig: %2$s, %1$s (%3$s). Svara senast %4$s.",
	    "An appointment has become free for you: %2$s, %1$s (%3$s). "
	    "Please answer by %4$s." } },
};

static char *
render(Capacity *capacity, const char *kind, const char *language,
       const char *unit, gint64 start, const char *modality, gint64 reply_by)
{
	Lang lang = lang_of(language);
	g_autofree char *when = local_time_text(start, lang);
	g_autofree char *by = reply_by ? local_time_text(reply_by, lang)
				       : g_strdup("");

	/* The templates are this file's own constants. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	for (guint i = 0; i < G_N_ELEMENTS(templates); i++)
		if (g_str_equal(templates[i].kind, kind))
			return g_strdup_printf(templates[i].text[lang],
					       unit_name(capacity, unit, lang),
					       when,
					       modality_text(modality, lang),
					       by);
#pragma GCC diagnostic pop
	g_return_val_if_reached(NULL);
}

static gboolean
add_booking_item(Capacity *capacity, const StoreBooking *b, const char *kind,
		 gint64 due, const char *key, GError **error)
{
	g_autofree char *stream = capacity_booking_id(b->id);
	g_autofree char *text = render(capacity, kind, b->language, b->unit,
				       b->start, b->modality, 0);
	StoreOutboxItem item = {
		.stream = stream,
		.booking = b->id,
		.kind = kind,
		.sequence = b->sequence,
		.due = due,
		.key = key,
		.client_ref = b->client_ref,
		.language = lang_codes[lang_of(b->language)],
		.text = text,
		.created = capacity_now(capacity),
	};

	return store_outbox_add(capacity->store, &item, error);
}

gboolean
capacity_outbox_booking(Capacity *capacity, const StoreBooking *b,
			const char *kind, GError **error)
{
	const DaemonConfig *config = &capacity->region->daemon;
	gint64 now = capacity_now(capacity);
	g_autofree char *key = NULL;

	/* Nobody to tell about an anonymous walk-in ticket. */
	if (!b->client_ref || !*b->client_ref)
		return TRUE;
	key = g_strdup_printf("slotd:b-%" G_GINT64_FORMAT ":%s:%" G_GINT64_FORMAT,
			      b->id, kind, b->sequence);
	if (!add_booking_item(capacity, b, kind, now, key, error))
		return FALSE;
	if (g_str_equal(kind, "cancelled"))
		return TRUE;
	/* Reminders carry the booking's sequence: once it is cancelled or
	 * moved they are void, and the move writes new ones. */
	for (guint i = 0; i < config->n_reminder_offsets; i++) {
		gint64 due = b->start - config->reminder_offsets[i];
		g_autofree char *rkey = NULL;

		if (due <= now)
			continue; /* a reminder too late is no reminder */
		rkey = g_strdup_printf("slotd:b-%" G_GINT64_FORMAT
				       ":reminder-%us:%" G_GINT64_FORMAT,
				       b->id, config->reminder_offsets[i],
				       b->sequence);
		if (!add_booking_item(capacity, b, "reminder", due, rkey,
				      error))
			return FALSE;
	}
	return TRUE;
}

gboolean
capacity_outbox_offer(Capacity *capacity, const StoreWaitEntry *entry,
		      const StoreSlot *slot, gint64 offer, gint64 expires,
		      GError **error)
{
	const SlotdOffering *off = region_find_offering(capacity->region,
							slot->offering);
	const char *modality = entry->modality ? entry->modality
			       : off ? off->modality : NULL;
	g_autofree char *stream = g_strdup_printf("w-%" G_GINT64_FORMAT,
						  entry->id);
	g_autofree char *key = g_strdup_printf("slotd:w-%" G_GINT64_FORMAT
					       ":offer:%" G_GINT64_FORMAT,
					       entry->id, offer);
	g_autofree char *text = render(capacity, "offer", entry->language,
				       off ? off->unit->id : slot->offering,
				       slot->start, modality, expires);
	StoreOutboxItem item = {
		.stream = stream,
		.entry = entry->id,
		.kind = "offer",
		.due = capacity_now(capacity),
		.key = key,
		.client_ref = entry->client_ref,
		.language = lang_codes[lang_of(entry->language)],
		.text = text,
		.created = capacity_now(capacity),
	};

	return store_outbox_add(capacity->store, &item, error);
}

/* ---- Notifications1 ------------------------------------------------- */

static GVariant *
row_details(const StoreOutboxRow *r)
{
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "stream", "s", r->stream);
	if (r->booking) {
		g_autofree char *id = capacity_booking_id(r->booking);

		g_variant_dict_insert(&d, "booking", "s", id);
	}
	if (r->entry) {
		g_autofree char *id = g_strdup_printf("w-%" G_GINT64_FORMAT,
						      r->entry);

		g_variant_dict_insert(&d, "entry", "s", id);
	}
	g_variant_dict_insert(&d, "client-ref", "s", r->client_ref);
	g_variant_dict_insert(&d, "state", "s", r->state);
	g_variant_dict_insert(&d, "claims", "u", r->claims);
	if (r->lease_until)
		g_variant_dict_insert(&d, "lease-until", "x", r->lease_until);
	return g_variant_dict_end(&d);
}

static char *
item_id(const StoreOutboxRow *r)
{
	return g_strdup_printf("n-%" G_GINT64_FORMAT, r->id);
}

typedef struct {
	guint max;
	gint64 lease;
	GPtrArray *rows;
} ClaimCall;

static gboolean
do_claim(Capacity *capacity, gpointer data, GError **error)
{
	ClaimCall *c = data;

	return store_outbox_claim(capacity->store, capacity_now(capacity),
				  c->max, c->lease, c->rows, error);
}

gboolean
capacity_outbox_claim(Capacity *capacity, guint max, GVariant **ret_items,
		      gint64 *ret_lease, GError **error)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_outbox_row_free);
	ClaimCall c = { max, 0, rows };
	GVariantBuilder b;

	if (max == 0 || max > 1000) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "max must be 1 to 1000");
		return FALSE;
	}
	c.lease = capacity_now(capacity) +
		  capacity->region->daemon.outbox_lease_seconds;
	if (!capacity_transaction(capacity, do_claim, &c, error))
		return FALSE;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a(ssssxsa{sv})"));
	for (guint i = 0; i < rows->len; i++) {
		const StoreOutboxRow *r = rows->pdata[i];
		g_autofree char *id = item_id(r);

		g_variant_builder_add(&b, "(ssssxs@a{sv})", id, r->key,
				      r->kind, r->language, r->due, r->text,
				      row_details(r));
	}
	*ret_items = g_variant_ref_sink(g_variant_builder_end(&b));
	*ret_lease = c.lease;
	return TRUE;
}

typedef struct {
	const Caller *caller;
	GArray *ids;
} AckCall;

static gboolean
do_ack(Capacity *capacity, gpointer data, GError **error)
{
	AckCall *a = data;
	gint64 now = capacity_now(capacity);

	for (guint i = 0; i < a->ids->len; i++)
		if (!store_outbox_ack(capacity->store,
				      g_array_index(a->ids, gint64, i), now,
				      error))
			return FALSE;
	return TRUE;
}

gboolean
capacity_outbox_ack(Capacity *capacity, const Caller *caller,
		    const char *const *ids, GError **error)
{
	g_autoptr(GArray) parsed = g_array_new(FALSE, FALSE, sizeof(gint64));
	AckCall a = { caller, parsed };

	if (g_strv_length((char **)ids) > 1000) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "at most 1000 ids at once");
		return FALSE;
	}
	for (guint i = 0; ids[i]; i++) {
		gint64 id;

		if (!capacity_parse_id(ids[i], 'n', &id,
				       SLOTD_ERROR_INVALID_ARGS, error))
			return FALSE;
		g_array_append_val(parsed, id);
	}
	return capacity_transaction(capacity, do_ack, &a, error);
}

gboolean
capacity_outbox_list(Capacity *capacity, guint limit, GVariant **ret_rows,
		     GError **error)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_outbox_row_free);
	GVariantBuilder b;

	if (limit == 0 || limit > 10000) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "limit must be 1 to 10000");
		return FALSE;
	}
	if (!store_outbox_list(capacity->store, limit, rows, error))
		return FALSE;
	g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < rows->len; i++) {
		const StoreOutboxRow *r = rows->pdata[i];
		g_autofree char *id = item_id(r);
		GVariantDict d;
		g_autoptr(GVariant) details = g_variant_ref_sink(row_details(r));
		GVariantIter iter;
		const char *key;
		GVariant *value;

		g_variant_dict_init(&d, NULL);
		g_variant_iter_init(&iter, details);
		while (g_variant_iter_loop(&iter, "{&sv}", &key, &value))
			g_variant_dict_insert_value(&d, key, value);
		g_variant_dict_insert(&d, "id", "s", id);
		g_variant_dict_insert(&d, "idempotency-key", "s", r->key);
		g_variant_dict_insert(&d, "kind", "s", r->kind);
		g_variant_dict_insert(&d, "language", "s", r->language);
		g_variant_dict_insert(&d, "due", "x", r->due);
		g_variant_dict_insert(&d, "text", "s", r->text);
		g_variant_builder_add_value(&b, g_variant_dict_end(&d));
	}
	*ret_rows = g_variant_ref_sink(g_variant_builder_end(&b));
	return TRUE;
}
