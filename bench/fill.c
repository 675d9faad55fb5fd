/* slotd-bench-fill: loads existing bookings into a database that slotd
 * has materialised, through the store API (daemon/store.h) in big
 * transactions, while slotd is stopped.
 *
 * A few "feed units" (home-hospital or crisis-duty bases with room for
 * it) get exactly --feed-bookings each, for the staff-feed figure. The
 * rest is spread evenly over every other slot still to come, leaving
 * the benchmark's own search and booking services free (bench.ini says
 * which). Bookings are by pseudonymous clients of about three bookings
 * each, status booked, one seat.
 *
 * Run again on the same database it adds to what is there (the room it
 * plans with is what the earlier bookings left). --cancelled N adds N
 * cancelled bookings besides, which hold no seat: the region's seats
 * (about 1.5 million bookable on the full-size region) cannot hold the
 * 2,000,000 bookings of the scaling table, and a database that large
 * holds bookings that no longer take a place. They go round every slot
 * still to come, whatever its room, created and cancelled 200 days
 * ago, so that no staff feed shows them (a feed keeps cancelled ones
 * for cancelled-feed-days). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

typedef struct {
	gint64 slot;
	gint64 start, end;
	guint room;		/* seats the loader may take */
	guint take;		/* seats it will take */
} PlannedSlot;

typedef struct {
	char *id;		/* UNIT/SERVICE */
	char *unit;
	char *service;
	GArray *slots;		/* PlannedSlot */
	GArray *all;		/* PlannedSlot: every slot to come */
	guint64 room;
	gboolean feed;
} PlannedOffering;

typedef struct {
	char *db;
	char *meta;
	gint64 bookings;
	gint64 cancelled;
	int feed_units;
	int feed_bookings;
	int batch;
	gboolean check;
	GKeyFile *ini;
	GPtrArray *offerings;	/* PlannedOffering */
	GPtrArray *feeds;	/* unit ids chosen */
	gint64 now;
} Fill;

static void
planned_offering_free(PlannedOffering *o)
{
	g_free(o->id);
	g_free(o->unit);
	g_free(o->service);
	g_array_unref(o->slots);
	g_array_unref(o->all);
	g_free(o);
}

static gboolean
in_list(GKeyFile *ini, const char *key, const char *value)
{
	g_auto(GStrv) list = g_key_file_get_string_list(ini, "bench", key, NULL,
							NULL);

	return list && g_strv_contains((const char *const *)list, value);
}

/* Seats left free for the benchmark's own calls in each slot. */
static guint
reserve_for(Fill *f, const char *service, guint capacity)
{
	if (in_list(f->ini, "keep-free-services", service))
		return capacity;
	if (in_list(f->ini, "keep-one-seat-services", service))
		return MIN(capacity, 1);
	return 0;
}

static PlannedOffering *
plan_offering(Fill *f, Store *store, const char *id, GError **error)
{
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	PlannedOffering *o = g_new0(PlannedOffering, 1);
	const char *slash = strchr(id, '/');
	gint64 horizon = g_key_file_get_integer(f->ini, "bench", "horizon-days",
						NULL);

	o->id = g_strdup(id);
	o->unit = g_strndup(id, slash ? (gsize)(slash - id) : strlen(id));
	o->service = g_strdup(slash ? slash + 1 : "");
	o->slots = g_array_new(FALSE, FALSE, sizeof(PlannedSlot));
	o->all = g_array_new(FALSE, FALSE, sizeof(PlannedSlot));
	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	/* Only slots still to come: feeds and searches look ahead. */
	if (!store_list_slots(store, id, f->now + 3600,
			      f->now + (horizon + 3) * 86400, slots, error)) {
		planned_offering_free(o);
		return NULL;
	}
	for (guint i = 0; i < slots->len; i++) {
		const StoreSlot *s = &g_array_index(slots, StoreSlot, i);
		guint used = s->booked + s->held;
		guint free_seats = s->capacity > used ? s->capacity - used : 0;
		guint reserve = reserve_for(f, o->service, s->capacity);
		PlannedSlot p = { s->id, s->start, s->end, 0, 0 };

		if (f->cancelled > 0)
			g_array_append_val(o->all, p);
		if (s->status != SLOT_STATUS_FREE || free_seats <= reserve)
			continue;
		p.room = free_seats - reserve;
		o->room += p.room;
		g_array_append_val(o->slots, p);
	}
	return o;
}

static gint
by_room(gconstpointer a, gconstpointer b)
{
	const PlannedOffering *x = *(PlannedOffering *const *)a;
	const PlannedOffering *y = *(PlannedOffering *const *)b;

	return x->room < y->room ? 1 : x->room > y->room ? -1 : 0;
}

/* Takes `count` seats from the offering's room, evenly over its slots
 * (error diffusion), then tops up from the start if rounding fell
 * short. */
static void
spread(PlannedOffering *o, double fraction, guint64 *count)
{
	double carry = 0;

	for (guint i = 0; i < o->slots->len && *count > 0; i++) {
		PlannedSlot *p = &g_array_index(o->slots, PlannedSlot, i);
		guint take;

		carry += fraction * (p->room - p->take);
		take = MIN((guint)carry, p->room - p->take);
		take = (guint)MIN((guint64)take, *count);
		carry -= take;
		p->take += take;
		*count -= take;
	}
}

static void
top_up(PlannedOffering *o, guint64 *count)
{
	for (guint i = 0; i < o->slots->len && *count > 0; i++) {
		PlannedSlot *p = &g_array_index(o->slots, PlannedSlot, i);
		guint take = (guint)MIN((guint64)(p->room - p->take), *count);

		p->take += take;
		*count -= take;
	}
}

static gboolean
choose_feeds(Fill *f, guint64 *ret_used, GError **error)
{
	g_autoptr(GPtrArray) candidates = g_ptr_array_new();

	*ret_used = 0;
	for (guint i = 0; i < f->offerings->len; i++) {
		PlannedOffering *o = f->offerings->pdata[i];

		if (in_list(f->ini, "feed-candidates", o->unit))
			g_ptr_array_add(candidates, o);
	}
	g_ptr_array_sort(candidates, by_room);
	for (guint i = 0; i < candidates->len &&
			  f->feeds->len < (guint)f->feed_units; i++) {
		PlannedOffering *o = candidates->pdata[i];
		guint64 count = (guint64)f->feed_bookings;

		if (o->room < count)
			break;
		spread(o, (double)count / (double)o->room, &count);
		top_up(o, &count);
		o->feed = TRUE;
		g_ptr_array_add(f->feeds, g_strdup(o->unit));
		*ret_used += (guint64)f->feed_bookings;
	}
	if (f->feeds->len == (guint)f->feed_units)
		return TRUE;
	g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
		    "only %u units have room for %d bookings; the region is "
		    "too small for the feed figure", f->feeds->len,
		    f->feed_bookings);
	return FALSE;
}

static gboolean
plan(Fill *f, Store *store, GError **error)
{
	g_auto(GStrv) ids = g_key_file_get_string_list(
		f->ini, "bench", "offerings", NULL, error);
	guint64 room = 0, used, rest;
	double fraction;

	if (!ids)
		return FALSE;
	for (guint i = 0; ids[i]; i++) {
		PlannedOffering *o = plan_offering(f, store, ids[i], error);

		if (!o)
			return FALSE;
		g_ptr_array_add(f->offerings, o);
	}
	if (!choose_feeds(f, &used, error))
		return FALSE;
	for (guint i = 0; i < f->offerings->len; i++) {
		PlannedOffering *o = f->offerings->pdata[i];

		room += o->feed ? 0 : o->room;
	}
	rest = (guint64)f->bookings > used ? (guint64)f->bookings - used : 0;
	if (room < rest) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
			    "room for %" G_GUINT64_FORMAT " more bookings "
			    "only, %" G_GUINT64_FORMAT " asked", room, rest);
		return FALSE;
	}
	fraction = room ? (double)rest / (double)room : 0;
	for (guint i = 0; i < f->offerings->len && rest > 0; i++) {
		PlannedOffering *o = f->offerings->pdata[i];

		if (!o->feed)
			spread(o, fraction, &rest);
	}
	for (guint i = 0; i < f->offerings->len && rest > 0; i++) {
		PlannedOffering *o = f->offerings->pdata[i];

		if (!o->feed)
			top_up(o, &rest);
	}
	return TRUE;
}

/* ---- loading -------------------------------------------------------- */

/* The booking the loader writes for one planned slot: a Finnish,
 * routine booking of one seat, created at `created`. */
static void
loaded_booking(StoreBooking *b, const PlannedOffering *o,
	       const PlannedSlot *p, char *client_ref, const char *status,
	       GVariant *extras, gint64 created)
{
	memset(b, 0, sizeof(*b));
	b->slot = p->slot;
	b->offering = o->id;
	b->unit = o->unit;
	b->service = o->service;
	b->start = p->start;
	b->end = p->end;
	b->client_ref = client_ref;
	b->status = (char *)status;
	b->seats = 1;
	b->language = (char *)"fi";
	b->urgency = (char *)"routine";
	b->extras = extras;
	b->created = created;
	b->modified = created;
}

static gboolean
insert_one(Fill *f, Store *store, const PlannedOffering *o,
	   const PlannedSlot *p, guint64 serial, GVariant *extras,
	   GError **error)
{
	/* About three bookings a client; the reference is pseudonymous.
	 * References and creation times grow with the serial so that the
	 * indexes fill in order: a random order makes the load I/O-bound
	 * without changing what the database holds. */
	guint32 client = (guint32)(serial / 3);
	char client_ref[16];
	StoreBooking b;

	g_snprintf(client_ref, sizeof(client_ref), "c%08x", client);
	loaded_booking(&b, o, p, client_ref, "booked", extras,
		       f->now - 30 * 86400 + (gint64)(serial / 64));
	return store_insert_booking(store, &b, error) &&
	       store_take_seats(store, b.id, p->slot, 1, error);
}

static gboolean
load(Fill *f, Store *store, guint64 *ret_done, GError **error)
{
	g_autoptr(GVariant) extras = g_variant_ref_sink(
		g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
	guint64 done = 0;

	if (!store_begin(store, error))
		return FALSE;
	for (guint i = 0; i < f->offerings->len; i++) {
		const PlannedOffering *o = f->offerings->pdata[i];

		for (guint s = 0; s < o->slots->len; s++) {
			const PlannedSlot *p = &g_array_index(o->slots,
							      PlannedSlot, s);

			for (guint n = 0; n < p->take; n++) {
				if (!insert_one(f, store, o, p, done, extras,
						error))
					goto fail;
				if (++done % (guint64)f->batch)
					continue;
				if (!store_commit(store, error) ||
				    !store_begin(store, error))
					goto fail;
				if (done % 250000 == 0)
					fprintf(stderr, "  %" G_GUINT64_FORMAT
						" bookings loaded\n", done);
			}
		}
	}
	*ret_done = done;
	return store_commit(store, error);
fail:
	store_rollback(store);
	return FALSE;
}

/* The cancelled bookings: round every slot to come, offering by
 * offering, no seat taken. */
static gboolean
load_cancelled(Fill *f, Store *store, GError **error)
{
	g_autoptr(GVariant) extras = g_variant_ref_sink(
		g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
	g_autoptr(GPtrArray) owners = g_ptr_array_new();
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE,
					      sizeof(PlannedSlot));
	gint64 done = 0;

	for (guint i = 0; i < f->offerings->len; i++) {
		PlannedOffering *o = f->offerings->pdata[i];

		for (guint s = 0; s < o->all->len; s++)
			g_ptr_array_add(owners, o);
		g_array_append_vals(slots, o->all->data, o->all->len);
	}
	if (slots->len == 0) {
		g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
				    "no slots to come for cancelled bookings");
		return FALSE;
	}
	if (!store_begin(store, error))
		return FALSE;
	for (; done < f->cancelled; done++) {
		guint at = (guint)(done % slots->len);
		const PlannedSlot *p = &g_array_index(slots, PlannedSlot, at);
		const PlannedOffering *o = owners->pdata[at];
		char client_ref[16];
		StoreBooking b;

		g_snprintf(client_ref, sizeof(client_ref), "x%08x",
			   (guint32)(done / 3));
		loaded_booking(&b, o, p, client_ref, "cancelled", extras,
			       f->now - 200 * 86400 + done / 64);
		b.sequence = 1;
		b.cancel_reason = (char *)"benchmark: loaded cancelled";
		if (!store_insert_booking(store, &b, error))
			goto fail;
		if ((done + 1) % f->batch)
			continue;
		if (!store_commit(store, error) || !store_begin(store, error))
			goto fail;
	}
	return store_commit(store, error);
fail:
	store_rollback(store);
	return FALSE;
}

static gboolean
run(Fill *f, GError **error)
{
	g_autoptr(Store) store = NULL;
	gint64 t0 = g_get_monotonic_time();
	guint64 done = 0;
	double seconds;
	g_autofree char *feeds = NULL;

	if (!g_key_file_load_from_file(f->ini, f->meta, G_KEY_FILE_NONE,
				       error) ||
	    !(store = store_open(f->db, error)) || !plan(f, store, error) ||
	    !load(f, store, &done, error) ||
	    (f->cancelled > 0 && !load_cancelled(f, store, error)))
		return FALSE;
	if (f->check && !store_integrity_check(store, error))
		return FALSE;
	seconds = (g_get_monotonic_time() - t0) / 1e6;
	g_ptr_array_add(f->feeds, NULL);
	feeds = g_strjoinv(";", (char **)f->feeds->pdata);
	printf("figure fill-bookings %" G_GUINT64_FORMAT "\n", done);
	if (f->cancelled > 0)
		printf("figure fill-cancelled %" G_GINT64_FORMAT "\n",
		       f->cancelled);
	printf("figure fill-s %.1f\n", seconds);
	printf("info feed-units %s\n", feeds);
	return TRUE;
}

int
main(int argc, char **argv)
{
	Fill f = { NULL, NULL, 1000000, 0, 1, 10000, 50000, FALSE };
	GOptionEntry entries[] = {
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &f.db,
		  "slotd's database (slotd stopped)", "FILE" },
		{ "meta", 0, 0, G_OPTION_ARG_FILENAME, &f.meta,
		  "bench.ini of the generated region", "FILE" },
		{ "bookings", 0, 0, G_OPTION_ARG_INT64, &f.bookings,
		  "Bookings to load in all (this run)", "N" },
		{ "cancelled", 0, 0, G_OPTION_ARG_INT64, &f.cancelled,
		  "Cancelled bookings to add besides (no seat)", "N" },
		{ "feed-units", 0, 0, G_OPTION_ARG_INT, &f.feed_units,
		  "Units given exactly --feed-bookings", "N" },
		{ "feed-bookings", 0, 0, G_OPTION_ARG_INT, &f.feed_bookings,
		  "Bookings of each feed unit", "N" },
		{ "batch", 0, 0, G_OPTION_ARG_INT, &f.batch,
		  "Bookings per transaction", "N" },
		{ "check", 0, 0, G_OPTION_ARG_NONE, &f.check,
		  "Run the store's integrity check afterwards", NULL },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("- load bookings into slotd's database");
	g_autoptr(GError) error = NULL;
	gboolean ok;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) || !f.db ||
	    !f.meta || f.batch < 1 || f.bookings < 0 || f.cancelled < 0) {
		fprintf(stderr, "slotd-bench-fill: %s\n",
			error ? error->message : "--db and --meta are needed");
		return 2;
	}
	f.ini = g_key_file_new();
	f.offerings = g_ptr_array_new_with_free_func(
		(GDestroyNotify)planned_offering_free);
	f.feeds = g_ptr_array_new_with_free_func(g_free);
	f.now = g_get_real_time() / G_USEC_PER_SEC;
	ok = run(&f, &error);
	if (!ok)
		fprintf(stderr, "slotd-bench-fill: %s\n", error->message);
	g_key_file_unref(f.ini);
	g_ptr_array_unref(f.offerings);
	g_ptr_array_unref(f.feeds);
	g_free(f.db);
	g_free(f.meta);
	return ok ? 0 : 1;
}
