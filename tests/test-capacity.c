/* The capacity engine on a small region written by the test: slots
 * from windows across the DST changes, capacity never exceeded, series
 * and reschedules all or nothing, ranking by travel, and reconciliation
 * when the configuration changes. Real SQLite files in temp dirs. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "calendar.h"
#include "capacity.h"
#include "capacity-private.h"
#include "config.h"
#include "plugin-host.h"

static const char region_conf[] =
	"[municipality 049]\nname-fi=Espoo\nname-sv=Esbo\narea=west\n"
	"language-status=bilingual-fi\ninternal-travel-minutes=20\n"
	"[municipality 444]\nname-fi=Lohja\nname-sv=Lojo\narea=west\n"
	"language-status=bilingual-fi\ninternal-travel-minutes=15\n"
	"[travel]\n049-444=35\n"
	"[unit ESP]\nmunicipality=049\ntitle-fi=Espoo\ntitle-sv=Esbo\n"
	"languages=fi;sv;en\n"
	"[unit LOH]\nmunicipality=Lojo\ntitle-fi=Lohja\ntitle-sv=Lojo\n"
	"languages=fi;sv\n";

/* ESP counselling's seats; a test may cut them. */
static const char *esp_seats = "2";

/* `day_window` lets a test change one offering's hours. */
static char *
service_conf(const char *day_window)
{
	return g_strdup_printf(
		"[service counselling]\nplugin=fixed\ntitle-fi=Ohjaus\n"
		"title-sv=Handledning\n"
		"[offering ESP counselling]\nslot-minutes=30\nseats=%s\n"
		"windows=day\nwindow-day=%s FREQ=DAILY\n"
		"[offering LOH counselling]\nslot-minutes=30\nseats=1\n"
		"windows=day\nwindow-day=08:00-16:00 FREQ=DAILY\n"
		"[service night]\nplugin=fixed\ntitle-fi=Yö\ntitle-sv=Natt\n"
		"[offering ESP night]\nslot-minutes=30\nseats=3\n"
		"windows=night\nwindow-night=22:00-07:30 FREQ=DAILY\n",
		esp_seats, day_window);
}

typedef struct {
	char *dir;
	Region *region;
	Store *store;
	PluginHost *plugins;
	Capacity *capacity;
	gint64 now;
} Fixture;

static const Caller caller = { 1000, "test-capacity" };

static gint64
fixture_clock(gpointer data)
{
	return ((Fixture *)data)->now;
}

static void
write_file(Fixture *f, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(f->dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
}

static Region *
load(Fixture *f, const char *day_window)
{
	g_autofree char *entry = g_build_filename(f->dir, "slotd.conf", NULL);
	g_autofree char *services = service_conf(day_window);
	ConfigOptions opts = { entry, f->dir, f->dir };
	g_autoptr(GError) error = NULL;
	Region *region;

	write_file(f, "services.conf", services);
	region = config_load(&opts, &error);
	g_assert_no_error(error);
	g_assert_true(plugin_host_configure(f->plugins, region, &error));
	g_assert_true(config_check_unread_keys(region, &error));
	return region;
}

static void
extend_all(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	gboolean done = FALSE;

	while (!done) {
		g_assert_true(capacity_extend(f->capacity, 300, &done, &error));
		g_assert_no_error(error);
	}
}

/* A reload to `region` (taken): the bookings returned for rebooking. */
static GPtrArray *
reload_to(Fixture *f, Region *region)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *rebook = NULL;

	g_assert_true(capacity_set_region(f->capacity, region, &rebook,
					  &error));
	g_assert_no_error(error);
	region_unref(f->region);
	f->region = region;
	return rebook;
}

/* The region and a capacity on a fresh store, nothing built yet. */
static void
fixture_open(Fixture *f, gint64 now)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = NULL;

	f->dir = g_dir_make_tmp("test-capacity-XXXXXX", &error);
	g_assert_no_error(error);
	calendar_init();
	write_file(f, "region.conf", region_conf);
	write_file(f, "slotd.conf",
		   "[daemon]\ninclude=region.conf;services.conf\n"
		   "horizon-days=60\n[region]\nid=test\nname-fi=Testi\n"
		   "name-sv=Test\n");
	f->plugins = plugin_host_new();
	fixed_register(f->plugins);
	f->region = load(f, "08:00-16:00");
	db = g_build_filename(f->dir, "slotd.db", NULL);
	f->store = store_open(db, &error);
	g_assert_no_error(error);
	f->now = now;
	f->capacity = capacity_new(f->region, f->store, f->plugins);
	capacity_set_clock(f->capacity, fixture_clock, f);
}

static void
fixture_start(Fixture *f, gint64 now)
{
	fixture_open(f, now);
	extend_all(f);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	memset(f, 0, sizeof(*f));
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	g_autofree char *cmd = NULL;

	g_clear_pointer(&f->capacity, capacity_free);
	g_clear_pointer(&f->store, store_close);
	g_clear_pointer(&f->region, region_unref);
	g_clear_pointer(&f->plugins, plugin_host_free);
	if (f->dir) {
		cmd = g_strdup_printf("rm -rf '%s'", f->dir);
		g_assert_cmpint(system(cmd), ==, 0);
	}
	g_free(f->dir);
}

/* Slots of an offering whose start falls in [from, to). */
static GArray *
slots_between(Fixture *f, const char *offering, gint64 from, gint64 to)
{
	GArray *slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(store_list_slots(f->store, offering, from, to, slots,
				       &error));
	return slots;
}

static char *
slot_id_at(Fixture *f, const char *offering, gint64 start)
{
	g_autoptr(GArray) slots = slots_between(f, offering, start, start + 1);

	g_assert_cmpuint(slots->len, ==, 1);
	return g_strdup_printf("s-%" G_GINT64_FORMAT,
			       g_array_index(slots, StoreSlot, 0).id);
}

static guint
booked_at(Fixture *f, const char *offering, gint64 start)
{
	g_autoptr(GArray) slots = slots_between(f, offering, start, start + 1);

	g_assert_cmpuint(slots->len, ==, 1);
	return g_array_index(slots, StoreSlot, 0).booked;
}

static char *
book(Fixture *f, const char *slot, const char *client, GError **error)
{
	g_autoptr(GVariant) none = g_variant_ref_sink(
		g_variant_new("a{sv}", NULL));
	char *id = NULL;

	capacity_book(f->capacity, &caller, slot, client, none, &id, error);
	return id;
}

/* 08:00 local is 06:00Z in winter and 05:00Z in summer time. */
static void
test_dst_day_windows(Fixture *f, gconstpointer data)
{
	gint64 sat = calendar_local_to_utc(2026, 3, 28, 0, 0);
	gint64 sun = calendar_local_to_utc(2026, 3, 29, 0, 0);
	g_autoptr(GArray) before = NULL, after = NULL;

	fixture_start(f, calendar_local_to_utc(2026, 3, 27, 12, 0));
	before = slots_between(f, "ESP/counselling", sat, sat + 86400);
	after = slots_between(f, "ESP/counselling", sun, sun + 82800);
	g_assert_cmpuint(before->len, ==, 16);
	g_assert_cmpuint(after->len, ==, 16);
	g_assert_cmpint(g_array_index(before, StoreSlot, 0).start, ==,
			1774677600); /* 2026-03-28T06:00:00Z */
	g_assert_cmpint(g_array_index(after, StoreSlot, 0).start, ==,
			1774760400); /* 2026-03-29T05:00:00Z */
}

static guint
night_slots(Fixture *f, int month, int day)
{
	gint64 start = calendar_local_to_utc(2026, month, day, 22, 0);
	g_autoptr(GArray) slots = slots_between(f, "ESP/night", start,
						start + 12 * 3600);
	const StoreSlot *last = &g_array_index(slots, StoreSlot,
					       slots->len - 1);

	/* The night ends at 07:30 local, whatever the offset. */
	g_assert_cmpint(last->end, ==,
			calendar_local_to_utc(2026, month, day + 1, 7, 30));
	return slots->len;
}

/* 22:00-07:30 is 9.5 h on the clock: 8.5 h into summer time, 10.5 h
 * out of it; 30-minute slots show it. */
static void
test_dst_night_shift_length(Fixture *f, gconstpointer data)
{
	fixture_start(f, calendar_local_to_utc(2026, 3, 20, 12, 0));
	g_assert_cmpuint(night_slots(f, 3, 27), ==, 19);
	g_assert_cmpuint(night_slots(f, 3, 28), ==, 17);
	g_clear_pointer(&f->capacity, capacity_free);
	f->now = calendar_local_to_utc(2026, 10, 20, 12, 0);
	f->capacity = capacity_new(f->region, f->store, f->plugins);
	capacity_set_clock(f->capacity, fixture_clock, f);
	extend_all(f);
	g_assert_cmpuint(night_slots(f, 10, 24), ==, 21);
}

static void
test_never_over_capacity(Fixture *f, gconstpointer data)
{
	gint64 at = calendar_local_to_utc(2026, 12, 8, 9, 0);
	g_autofree char *slot = NULL, *a = NULL, *b = NULL, *c = NULL;
	g_autoptr(GError) error = NULL;

	fixture_start(f, calendar_local_to_utc(2026, 12, 7, 8, 0));
	slot = slot_id_at(f, "ESP/counselling", at);
	a = book(f, slot, "client-a", &error);
	g_assert_no_error(error);
	b = book(f, slot, "client-b", &error);
	g_assert_no_error(error);
	c = book(f, slot, "client-c", &error);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_assert_null(c);
	g_assert_cmpuint(booked_at(f, "ESP/counselling", at), ==, 2);
	/* A personal identity code never gets in. */
	g_clear_error(&error);
	g_assert_null(book(f, slot, "311299A9876", &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CLIENT_REF);
}

static void
test_series_all_or_nothing(Fixture *f, gconstpointer data)
{
	gint64 t1 = calendar_local_to_utc(2026, 12, 9, 9, 0);
	gint64 t2 = calendar_local_to_utc(2026, 12, 10, 9, 0);
	g_autofree char *s1 = NULL, *s2 = NULL, *full = NULL, *x = NULL;
	g_autoptr(GVariant) none = g_variant_ref_sink(
		g_variant_new("a{sv}", NULL));
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GError) error = NULL;

	fixture_start(f, calendar_local_to_utc(2026, 12, 7, 8, 0));
	s1 = slot_id_at(f, "ESP/counselling", t1);
	s2 = slot_id_at(f, "ESP/counselling", t2);
	full = slot_id_at(f, "LOH/counselling", t2);
	x = book(f, full, "client-first", &error);
	g_assert_no_error(error);
	{
		const char *series[] = { s1, s2, full, NULL };

		g_assert_false(capacity_book_series(f->capacity, &caller,
						    series, "client-series",
						    none, &ids, &error));
	}
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_assert_cmpuint(booked_at(f, "ESP/counselling", t1), ==, 0);
	g_assert_cmpuint(booked_at(f, "ESP/counselling", t2), ==, 0);
	g_assert_cmpuint(booked_at(f, "LOH/counselling", t2), ==, 1);
}

static void
test_reschedule_failure_keeps_booking(Fixture *f, gconstpointer data)
{
	gint64 from = calendar_local_to_utc(2026, 12, 9, 10, 0);
	gint64 to = calendar_local_to_utc(2026, 12, 9, 11, 0);
	g_autofree char *a = NULL, *b = NULL, *moving = NULL, *blocker = NULL;
	g_autofree char *moved = NULL;
	g_autoptr(GVariant) booking = NULL;
	g_autoptr(GError) error = NULL;
	const char *slot;

	fixture_start(f, calendar_local_to_utc(2026, 12, 7, 8, 0));
	a = slot_id_at(f, "LOH/counselling", from);
	b = slot_id_at(f, "LOH/counselling", to);
	moving = book(f, a, "client-moving", &error);
	blocker = book(f, b, "client-blocker", &error);
	g_assert_no_error(error);
	g_assert_false(capacity_reschedule(f->capacity, &caller, moving, b,
					   NULL, &moved, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_clear_error(&error);
	g_assert_true(capacity_get_booking(f->capacity, moving, &booking,
					   &error));
	g_assert_true(g_variant_lookup(booking, "slot", "&s", &slot));
	g_assert_cmpstr(slot, ==, a);
	g_assert_true(g_variant_lookup(booking, "status", "&s", &slot));
	g_assert_cmpstr(slot, ==, "booked");
	g_assert_cmpuint(booked_at(f, "LOH/counselling", from), ==, 1);
	g_assert_cmpuint(booked_at(f, "LOH/counselling", to), ==, 1);
}

/* Same start in Lohja and Espoo: a Lohja client sees Lohja first. */
static void
test_ranking_own_then_nearest(Fixture *f, gconstpointer data)
{
	g_autoptr(GVariant) query = NULL;
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GError) error = NULL;
	FoundSlot *first, *second;

	fixture_start(f, calendar_local_to_utc(2026, 12, 7, 8, 0));
	query = g_variant_ref_sink(g_variant_new_parsed(
		"{'municipality': <'lojo'>, 'from': <%x>, 'limit': <@u 2>}",
		calendar_local_to_utc(2026, 12, 8, 8, 0)));
	g_assert_true(capacity_find(f->capacity, "counselling", query, &found,
				    &error));
	g_assert_cmpuint(found->len, ==, 2);
	first = found->pdata[0];
	second = found->pdata[1];
	g_assert_cmpint(first->start, ==, second->start);
	g_assert_cmpstr(first->unit, ==, "LOH");
	g_assert_cmpint(first->travel_minutes, ==, 15);
	g_assert_cmpstr(second->unit, ==, "ESP");
	g_assert_cmpint(second->travel_minutes, ==, 35);
}

static void
test_ids_never_reused(Fixture *f, gconstpointer data)
{
	gint64 at = calendar_local_to_utc(2026, 12, 11, 9, 0);
	g_autofree char *slot = NULL, *a = NULL, *b = NULL;
	g_autoptr(GError) error = NULL;
	gint64 ida, idb;

	fixture_start(f, calendar_local_to_utc(2026, 12, 7, 8, 0));
	slot = slot_id_at(f, "LOH/counselling", at);
	a = book(f, slot, "client-a", &error);
	g_assert_true(capacity_cancel(f->capacity, &caller, a, "", &error));
	b = book(f, slot, "client-b", &error);
	g_assert_no_error(error);
	g_assert_true(capacity_parse_id(a, 'b', &ida, 0, NULL));
	g_assert_true(capacity_parse_id(b, 'b', &idb, 0, NULL));
	g_assert_cmpint(idb, >, ida);
}

/* New hours: slots outside them are withdrawn, never deleted, and the
 * booking on one is reported for rebooking; new hours add slots. */
static void
test_reconcile_flags_bookings(Fixture *f, gconstpointer data)
{
	gint64 late = calendar_local_to_utc(2026, 12, 9, 15, 0);
	gint64 early = calendar_local_to_utc(2026, 12, 9, 7, 0);
	g_autofree char *slot = NULL, *id = NULL;
	g_autoptr(GPtrArray) rebook = NULL;
	g_autoptr(GArray) slots = NULL;
	g_autoptr(GVariant) booking = NULL;
	g_autoptr(GError) error = NULL;
	gboolean flagged = FALSE;

	fixture_start(f, calendar_local_to_utc(2026, 12, 7, 8, 0));
	slot = slot_id_at(f, "ESP/counselling", late);
	id = book(f, slot, "client-late", &error);
	g_assert_no_error(error);
	rebook = reload_to(f, load(f, "07:00-12:00"));
	g_assert_true(g_ptr_array_find_with_equal_func(rebook, id, g_str_equal,
						       NULL));
	slots = slots_between(f, "ESP/counselling", late, late + 1);
	g_assert_cmpint(g_array_index(slots, StoreSlot, 0).status, ==,
			SLOT_STATUS_BUSY_UNAVAILABLE);
	g_assert_cmpuint(g_array_index(slots, StoreSlot, 0).booked, ==, 1);
	g_assert_true(capacity_get_booking(f->capacity, id, &booking, &error));
	g_assert_true(g_variant_lookup(booking, "needs-rebooking", "b",
				       &flagged));
	g_assert_true(flagged);
	g_clear_pointer(&slots, g_array_unref);
	slots = slots_between(f, "ESP/counselling", early, early + 1);
	g_assert_cmpuint(slots->len, ==, 1);
	g_assert_cmpint(g_array_index(slots, StoreSlot, 0).status, ==,
			SLOT_STATUS_FREE);
}

/* One line of `sql` on the fixture's database file, read with SQLite
 * directly (not through the store). */
static char *
db_line(Fixture *f, const char *sql)
{
	g_autofree char *path = g_build_filename(f->dir, "slotd.db", NULL);
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	char *out = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &q, NULL), ==,
			SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		out = g_strdup((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
	return out ? out : g_strdup("");
}

/* Each booking "id:needs_rebooking:sequence:flags in its history". */
static char *
flag_state(Fixture *f)
{
	return db_line(f, "SELECT group_concat(b.id || ':' ||"
			  " b.needs_rebooking || ':' || b.sequence || ':' ||"
			  " (SELECT count(*) FROM audit a WHERE a.booking = b.id"
			  "  AND a.action = 'needs-rebooking'"
			  "  AND a.caller = 'internal'"
			  "  AND a.detail = 'slots of ESP/counselling withdrawn"
			  " (reload)'), ' ')"
			  " FROM (SELECT * FROM booking ORDER BY id) b");
}

/* A reload that cuts a slot's seats below what is booked closes the
 * slot; its bookings still to come are flagged once, as a change (the
 * SEQUENCE moves, the history says why, by the daemon), the ones that
 * had begun when the reload came are not, and a later reload flags
 * nobody again. Read from the database file, not through the store. */
static void
test_reload_cut_flags_once(Fixture *f, gconstpointer data)
{
	gint64 later = calendar_local_to_utc(2026, 12, 9, 10, 0);
	gint64 begun = calendar_local_to_utc(2026, 12, 7, 8, 0);
	g_autofree char *slot = NULL, *started = NULL, *state = NULL;
	g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	g_autoptr(GPtrArray) rebook = NULL;
	g_autoptr(GError) error = NULL;
	Region *changed;

	esp_seats = "2";
	fixture_start(f, calendar_local_to_utc(2026, 12, 7, 7, 0));
	slot = slot_id_at(f, "ESP/counselling", later);
	started = slot_id_at(f, "ESP/counselling", begun);
	a = book(f, slot, "client-a", &error);
	g_assert_no_error(error);
	b = book(f, slot, "client-b", &error);
	g_assert_no_error(error);
	c = book(f, started, "client-c", &error);
	g_assert_no_error(error);
	d = book(f, started, "client-d", &error);
	g_assert_no_error(error);
	state = flag_state(f);
	g_assert_cmpstr(state, ==, "1:0:0:0 2:0:0:0 3:0:0:0 4:0:0:0");
	f->now = calendar_local_to_utc(2026, 12, 7, 8, 10);
	esp_seats = "1";
	changed = load(f, "08:00-16:00");
	esp_seats = "2";
	rebook = reload_to(f, changed);
	g_assert_cmpuint(rebook->len, ==, 2);
	g_assert_cmpstr(rebook->pdata[0], ==, a);
	g_assert_cmpstr(rebook->pdata[1], ==, b);
	g_clear_pointer(&state, g_free);
	state = flag_state(f);
	g_assert_cmpstr(state, ==, "1:1:1:1 2:1:1:1 3:0:0:0 4:0:0:0");
	/* Another change of the same offering: nobody is flagged again. */
	g_clear_pointer(&rebook, g_ptr_array_unref);
	esp_seats = "1";
	changed = load(f, "08:00-15:00");
	esp_seats = "2";
	rebook = reload_to(f, changed);
	g_assert_cmpuint(rebook->len, ==, 0);
	g_clear_pointer(&state, g_free);
	state = flag_state(f);
	g_assert_cmpstr(state, ==, "1:1:1:1 2:1:1:1 3:0:0:0 4:0:0:0");
}

/* The night offering is removed while the daemon is down: at the next
 * start its booking is flagged, and when it comes back it is bookable
 * again over the whole horizon. */
static void
test_removed_while_down_then_back(Fixture *f, gconstpointer data)
{
	gint64 at = calendar_local_to_utc(2026, 12, 9, 23, 0);
	g_autofree char *slot = NULL, *id = NULL;
	g_autoptr(GVariant) booking = NULL;
	g_autoptr(GArray) slots = NULL;
	g_autoptr(GError) error = NULL;
	gboolean flagged = FALSE;

	fixture_start(f, calendar_local_to_utc(2026, 12, 7, 8, 0));
	slot = slot_id_at(f, "ESP/night", at);
	id = book(f, slot, "client-night", &error);
	g_assert_no_error(error);
	/* "Restart" with a region without the night service. */
	g_clear_pointer(&f->capacity, capacity_free);
	region_unref(f->region);
	write_file(f, "services.conf",
		   "[service counselling]\nplugin=fixed\ntitle-fi=O\n"
		   "title-sv=H\n[offering ESP counselling]\n"
		   "windows=day\nwindow-day=08:00-16:00 FREQ=DAILY\n");
	{
		g_autofree char *entry = g_build_filename(f->dir, "slotd.conf",
							  NULL);
		ConfigOptions opts = { entry, f->dir, f->dir };

		f->region = config_load(&opts, &error);
		g_assert_no_error(error);
		g_assert_true(plugin_host_configure(f->plugins, f->region,
						    &error));
	}
	f->capacity = capacity_new(f->region, f->store, f->plugins);
	capacity_set_clock(f->capacity, fixture_clock, f);
	extend_all(f);
	g_assert_true(capacity_get_booking(f->capacity, id, &booking, &error));
	g_assert_true(g_variant_lookup(booking, "needs-rebooking", "b",
				       &flagged));
	g_assert_true(flagged);
	slots = slots_between(f, "ESP/night", at, at + 1);
	g_assert_cmpint(g_array_index(slots, StoreSlot, 0).status, ==,
			SLOT_STATUS_BUSY_UNAVAILABLE);
	g_clear_pointer(&slots, g_array_unref);
	/* Back as it was: reshaped, free again. */
	g_ptr_array_unref(reload_to(f, load(f, "08:00-16:00")));
	extend_all(f);
	slots = slots_between(f, "ESP/night",
			      calendar_local_to_utc(2026, 12, 20, 22, 0),
			      calendar_local_to_utc(2026, 12, 20, 22, 1));
	g_assert_cmpuint(slots->len, ==, 1);
	g_assert_cmpint(g_array_index(slots, StoreSlot, 0).status, ==,
			SLOT_STATUS_FREE);
}


/* A search that comes before the horizon's extension has taken its
 * first step (a caller quick after a start) is answered
 * ServiceUnavailable for the slots not built yet; working that out
 * plans the extension, which may write, and must not do so inside the
 * search's read transaction (a critical, fatal here). */
static void
test_find_before_first_extension(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) slots = NULL;

	fixture_open(f, calendar_local_to_utc(2026, 12, 7, 8, 0));
	g_assert_false(capacity_find(f->capacity, "counselling",
				     g_variant_new("a{sv}", NULL), &slots,
				     &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SERVICE_UNAVAILABLE);
	g_assert_false(store_in_transaction(f->store));
	/* Once built, the same search finds slots. */
	g_clear_error(&error);
	extend_all(f);
	g_assert_true(capacity_find(f->capacity, "counselling",
				    g_variant_new("a{sv}", NULL), &slots,
				    &error));
	g_assert_no_error(error);
	g_assert_cmpuint(slots->len, >, 0);
}

/* The three offerings' windows, each moved by `minutes`. */
static Region *
load_moved(Fixture *f, int minutes)
{
	g_autofree char *entry = g_build_filename(f->dir, "slotd.conf", NULL);
	ConfigOptions opts = { entry, f->dir, f->dir };
	g_autoptr(GError) error = NULL;
	g_autofree char *services = g_strdup_printf(
		"[service counselling]\nplugin=fixed\ntitle-fi=Ohjaus\n"
		"title-sv=Handledning\n"
		"[offering ESP counselling]\nslot-minutes=30\nseats=2\n"
		"windows=day\nwindow-day=08:%02d-16:%02d FREQ=DAILY\n"
		"[offering LOH counselling]\nslot-minutes=30\nseats=1\n"
		"windows=day\nwindow-day=08:%02d-16:%02d FREQ=DAILY\n"
		"[service night]\nplugin=fixed\ntitle-fi=Yö\ntitle-sv=Natt\n"
		"[offering ESP night]\nslot-minutes=30\nseats=3\n"
		"windows=night\nwindow-night=22:%02d-07:%02d FREQ=DAILY\n",
		minutes, minutes, minutes, minutes, minutes, 30 + minutes);
	Region *region;

	write_file(f, "services.conf", services);
	region = config_load(&opts, &error);
	g_assert_no_error(error);
	g_assert_true(plugin_host_configure(f->plugins, region, &error));
	return region;
}

/* An offering's slots with a start in [from, to), as text. */
static char *
slots_text(Fixture *f, const char *offering, gint64 from, gint64 to)
{
	g_autoptr(GArray) slots = slots_between(f, offering, from, to);
	GString *text = g_string_new(NULL);

	for (guint i = 0; i < slots->len; i++) {
		const StoreSlot *s = &g_array_index(slots, StoreSlot, i);

		g_string_append_printf(text,
				       "%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT
				       " %s %u/%u/%u %d\n",
				       s->start, s->end, s->kind, s->booked,
				       s->held, s->capacity, (int)s->status);
	}
	return g_string_free(text, FALSE);
}

typedef struct {
	const char *offering;
	gint64 from, to;
	char *seen;
} ReadySeen;

static void
ready_seen_clear(gpointer data)
{
	g_free(((ReadySeen *)data)->seen);
}

/* A reload that moves every window is committed an op at a time. After
 * every step, what each offering has before capacity_ready_until() is
 * what it has once the whole reload is in (the last two days before
 * that point are compared, where a half-done day would show), and the
 * point never goes back. A search inside that point never sees old
 * and new slots mixed. */
static void
test_reshape_ready_is_final(Fixture *f, gconstpointer data)
{
	static const char *const offerings[] = {
		"ESP/counselling", "LOH/counselling", "ESP/night"
	};
	g_autoptr(GArray) seen = g_array_new(FALSE, TRUE, sizeof(ReadySeen));
	g_autoptr(CapacityReshape) r = NULL;
	g_autoptr(GError) error = NULL;
	gint64 last[G_N_ELEMENTS(offerings)] = { 0 };
	gint64 first = calendar_local_to_utc(2026, 12, 7, 0, 0);
	Region *moved;
	gboolean done = FALSE;
	guint steps = 0, partial = 0;

	g_array_set_clear_func(seen, ready_seen_clear);
	fixture_start(f, calendar_local_to_utc(2026, 12, 7, 8, 0));
	moved = load_moved(f, 10);
	r = capacity_reshape_new(f->capacity, moved, &error);
	g_assert_no_error(error);
	g_assert_true(capacity_reshape_compute(r, f->store, &error));
	g_assert_no_error(error);
	capacity_reshape_begin(f->capacity, r);
	region_unref(f->region);
	f->region = moved;
	while (!done) {
		/* A few ops a step. */
		g_assert_true(capacity_reshape_step(f->capacity, r, 100, &done,
						    &error));
		g_assert_no_error(error);
		steps++;
		for (guint o = 0; o < G_N_ELEMENTS(offerings); o++) {
			gint64 until = capacity_ready_until(f->capacity,
							    offerings[o]);
			ReadySeen s = { offerings[o], 0, 0, NULL };

			g_assert_cmpint(until, >=, last[o]);
			last[o] = until;
			if (until == G_MAXINT64 || until <= first)
				continue;
			partial++;
			s.to = until;
			s.from = MAX(first, until - 2 * 86400);
			s.seen = slots_text(f, s.offering, s.from, s.to);
			g_array_append_val(seen, s);
		}
	}
	g_test_message("%u steps, %u partial answers compared", steps,
		       partial);
	g_assert_cmpuint(partial, >, steps);
	for (guint i = 0; i < seen->len; i++) {
		const ReadySeen *s = &g_array_index(seen, ReadySeen, i);
		g_autofree char *now = slots_text(f, s->offering, s->from,
						  s->to);

		if (g_strcmp0(now, s->seen) != 0)
			g_error("%s before %" G_GINT64_FORMAT " during the "
				"reload:\n%s\nonce it was in:\n%s",
				s->offering, s->to, s->seen, now);
	}
}

/* One idempotency key is one request: a series cannot replay a single
 * booking's key, nor a longer series a shorter one's. */
static void
test_idempotency_key_shapes(Fixture *f, gconstpointer data)
{
	gint64 t1 = calendar_local_to_utc(2026, 12, 14, 9, 0);
	gint64 t2 = calendar_local_to_utc(2026, 12, 15, 9, 0);
	g_autofree char *s1 = NULL, *s2 = NULL, *id = NULL, *again = NULL;
	g_autoptr(GVariant) key = g_variant_ref_sink(g_variant_new_parsed(
		"{'idempotency-key': <'req-77'>}"));
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GError) error = NULL;

	fixture_start(f, calendar_local_to_utc(2026, 12, 7, 8, 0));
	s1 = slot_id_at(f, "ESP/counselling", t1);
	s2 = slot_id_at(f, "ESP/counselling", t2);
	g_assert_true(capacity_book(f->capacity, &caller, s1, "client-k", key,
				    &id, &error));
	g_assert_true(capacity_book(f->capacity, &caller, s1, "client-k", key,
				    &again, &error));
	g_assert_cmpstr(id, ==, again);
	{
		const char *series[] = { s1, s2, NULL };

		g_assert_false(capacity_book_series(f->capacity, &caller,
						    series, "client-k", key,
						    &ids, &error));
	}
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT);
	g_clear_error(&error);
	g_clear_pointer(&again, g_free);
	/* Same key, another slot: not the same request. */
	g_assert_false(capacity_book(f->capacity, &caller, s2, "client-k", key,
				     &again, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT);
	g_assert_cmpuint(booked_at(f, "ESP/counselling", t2), ==, 0);
}

static int
cmp_id(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

	return (x > y) - (x < y);
}

/* The bookings a reload flags, counted once and in order: the radix
 * sort against qsort and a hash set, over generated lists (small and
 * large ids, many repeats, none, one), the seed printed on failure. */
static void
test_rebook_distinct(void)
{
	guint32 seed = g_test_rand_int();
	GRand *rand = g_rand_new_with_seed(seed);

	g_test_message("seed %u", seed);
	for (guint round = 0; round < 200; round++) {
		guint n = round == 0 ? 0 : round == 1 ? 1
			  : (guint)g_rand_int_range(rand, 0, 5000);
		gint64 range = round % 3 == 0 ? 50
			       : round % 3 == 1 ? G_GINT64_CONSTANT(2000000)
						: G_MAXINT64 / 2;
		g_autoptr(GArray) ids = g_array_new(FALSE, FALSE,
						    sizeof(gint64));
		g_autoptr(GArray) got = NULL;
		g_autoptr(GHashTable) set = g_hash_table_new(g_int64_hash,
							     g_int64_equal);
		g_autoptr(GArray) want = g_array_new(FALSE, FALSE,
						     sizeof(gint64));

		for (guint i = 0; i < n; i++) {
			gint64 id = 1 + (gint64)(g_rand_double(rand) *
						 (double)range);

			g_array_append_val(ids, id);
		}
		for (guint i = 0; i < n; i++)
			if (g_hash_table_add(set, &g_array_index(ids, gint64,
								 i)))
				g_array_append_val(
					want, g_array_index(ids, gint64, i));
		g_array_sort(want, cmp_id);
		got = capacity_sorted_distinct_ids(ids);
		if (got->len != want->len ||
		    (want->len > 0 &&
		     memcmp(got->data, want->data,
			    want->len * sizeof(gint64)) != 0))
			g_error("seed %u, round %u: %u ids, %u distinct, got "
				"%u not in order",
				seed, round, n, want->len, got->len);
	}
	g_rand_free(rand);
}

/* capacity_id_text() writes what printf writes, for ids of every size
 * (generated; the seed printed) and the ends of the range. */
static void
test_id_text(void)
{
	static const gint64 ends[] = { 0, 1, 9, 10, 99, 100, -1, -10,
				       G_MAXINT64, G_MININT64,
				       G_MAXINT64 - 1, G_MININT64 + 1 };
	const char *env = g_getenv("SLOTD_SEED");
	guint32 seed = env ? (guint32)g_ascii_strtoull(env, NULL, 10)
			   : g_random_int();
	GRand *rand = g_rand_new_with_seed(seed);

	g_test_message("seed %u (SLOTD_SEED=%u repeats it)", seed, seed);
	for (guint i = 0; i < G_N_ELEMENTS(ends) + 5000; i++) {
		gint64 id = i < G_N_ELEMENTS(ends)
				    ? ends[i]
				    : (gint64)(((guint64)g_rand_int(rand) << 32 |
						g_rand_int(rand)) >>
					       g_rand_int_range(rand, 0, 63));
		char prefix = "sbh"[i % 3];
		g_autofree char *want = g_strdup_printf(
			"%c-%" G_GINT64_FORMAT, prefix, id);
		g_autofree char *got = capacity_id_text(prefix, id);

		if (g_strcmp0(got, want) != 0)
			g_error("seed %u: %s, not %s", seed, got, want);
	}
	g_rand_free(rand);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/capacity/reload/rebook-distinct",
			test_rebook_distinct);
	g_test_add_func("/capacity/ids/text-as-printf", test_id_text);
#define ADD(path, func)                                                   \
	g_test_add(path, Fixture, NULL, fixture_setup, func,              \
		   fixture_teardown)
	ADD("/capacity/dst/day-windows-in-utc", test_dst_day_windows);
	ADD("/capacity/dst/night-shift-length", test_dst_night_shift_length);
	ADD("/capacity/book/never-over-capacity", test_never_over_capacity);
	ADD("/capacity/series/all-or-nothing", test_series_all_or_nothing);
	ADD("/capacity/reschedule/failure-keeps-booking",
	    test_reschedule_failure_keeps_booking);
	ADD("/capacity/find/own-municipality-then-nearest",
	    test_ranking_own_then_nearest);
	ADD("/capacity/ids/never-reused", test_ids_never_reused);
	ADD("/capacity/reconcile/withdrawn-hours-flag-bookings",
	    test_reconcile_flags_bookings);
	ADD("/capacity/reconcile/removed-while-down-then-back",
	    test_removed_while_down_then_back);
	ADD("/capacity/reconcile/capacity-cut-flags-once",
	    test_reload_cut_flags_once);
	ADD("/capacity/reshape/ready-is-final", test_reshape_ready_is_final);
	ADD("/capacity/find/before-the-first-extension-step",
	    test_find_before_first_extension);
	ADD("/capacity/book/idempotency-key-is-one-request",
	    test_idempotency_key_shapes);
	return g_test_run();
}
