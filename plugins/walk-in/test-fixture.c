/* walk-in tests: a small region in a temp dir, the plugin linked into
 * the test, the store and the capacity engine on a fixed clock. */
#include <glib/gstdio.h>

#include "plugin-engine.h"

#include "calendar.h"
#include "config.h"
#include "walk-in.h"
#include "test-walk-in.h"

#define SERVICE "social-counselling-walk-in"

static const char slotd_conf[] =
	"[daemon]\n"
	"include=region.conf;units.conf\n"
	"service-dir=services.d\n"
	"horizon-days=60\n"
	"http-address=\n"
	"[region]\n"
	"id=nyland\n"
	"name-fi=Länsi- ja Itä-Uusimaa\n"
	"name-sv=Västra och Östra Nyland\n";

static gint64
fixture_clock(gpointer user_data)
{
	return ((Fixture *)user_data)->now;
}

gint64
local_time(int year, int month, int day, int hour, int minute)
{
	return calendar_local_to_utc(year, month, day, hour, minute);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
}

static void
write_config(Fixture *f, const char *units, const char *service)
{
	g_autofree char *region_path = g_build_filename(
		g_getenv("SLOTD_SOURCE_ROOT"), "config", "example",
		"region.conf", NULL);
	g_autofree char *services = g_build_filename(f->dir, "services.d",
						     NULL);
	g_autofree char *region_text = NULL;
	g_autoptr(GError) error = NULL;

	g_file_get_contents(region_path, &region_text, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_mkdir(services, 0700), ==, 0);
	write_file(f->dir, "slotd.conf", slotd_conf);
	write_file(f->dir, "region.conf", region_text);
	write_file(f->dir, "units.conf", units);
	write_file(services, "walk-in.conf", service);
}

gboolean
fixture_load(Fixture *f, const char *units, const char *service,
	     GError **error)
{
	g_autofree char *entry = NULL;
	g_autofree char *state = NULL;
	ConfigOptions options = { 0 };

	f->dir = g_dir_make_tmp("walk-in-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	write_config(f, units, service);
	entry = g_build_filename(f->dir, "slotd.conf", NULL);
	state = g_build_filename(f->dir, "state", NULL);
	options.config_file = entry;
	options.state_dir = state;
	options.plugin_dir = f->dir;
	f->region = config_load(&options, error);
	if (f->region == NULL)
		return FALSE;
	f->plugins = plugin_host_new();
	g_assert_true(plugin_host_add_static(f->plugins,
					     slotd_plugin_describe(), NULL));
	return plugin_host_configure(f->plugins, f->region, error) &&
	       config_check_unread_keys(f->region, error);
}

void
fixture_start(Fixture *f, const char *units, const char *service, gint64 now)
{
	g_autofree char *db = NULL;
	g_autoptr(GError) error = NULL;
	gboolean done = FALSE;

	g_assert_true(fixture_load(f, units, service, &error));
	g_assert_no_error(error);
	g_assert_cmpint(g_mkdir(f->region->daemon.state_dir, 0700), ==, 0);
	db = g_build_filename(f->region->daemon.state_dir, "slotd.db", NULL);
	f->store = store_open(db, &error);
	g_assert_no_error(error);
	f->now = now;
	f->capacity = capacity_new(f->region, f->store, f->plugins);
	capacity_set_clock(f->capacity, fixture_clock, f);
	while (!done) {
		g_assert_true(capacity_extend(f->capacity, 500, &done, &error));
		g_assert_no_error(error);
	}
}

void
fixture_stop(Fixture *f)
{
	g_clear_pointer(&f->capacity, capacity_free);
	g_clear_pointer(&f->store, store_close);
	if (f->plugins != NULL)
		plugin_host_shutdown(f->plugins);
	g_clear_pointer(&f->region, region_unref);
	g_clear_pointer(&f->plugins, plugin_host_free);
	if (f->dir != NULL)
		plugin_engine_remove_tree(f->dir);
	g_clear_pointer(&f->dir, g_free);
}

GArray *
fixture_slots(Fixture *f, const char *unit, gint64 from, gint64 to)
{
	g_autofree char *offering = g_strdup_printf("%s/%s", unit, SERVICE);
	GArray *slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(store_list_slots(f->store, offering, from, to, slots,
				       &error));
	g_assert_no_error(error);
	return slots;
}

char *
fixture_slot_id(Fixture *f, const char *unit, const char *kind, gint64 start)
{
	g_autoptr(GArray) slots = fixture_slots(f, unit, start, start + 1);

	for (guint i = 0; i < slots->len; i++) {
		StoreSlot *slot = &g_array_index(slots, StoreSlot, i);

		if (g_strcmp0(slot->kind, kind) == 0)
			return g_strdup_printf("s-%" G_GINT64_FORMAT, slot->id);
	}
	g_error("no %s slot at %s starting %" G_GINT64_FORMAT, kind, unit,
		start);
	return NULL;
}

char *
fixture_book(Fixture *f, const char *slot_id, const char *client_ref,
	     GVariant *options, GError **error)
{
	const Caller caller = { 1000, "health-station" };
	g_autoptr(GVariant) dict = NULL;
	char *booking_id = NULL;

	if (options == NULL)
		options = g_variant_new("a{sv}", NULL);
	dict = g_variant_ref_sink(options);
	if (!capacity_book(f->capacity, &caller, slot_id, client_ref, dict,
			   &booking_id, error))
		return NULL;
	return booking_id;
}

void
fixture_set_status(Fixture *f, const char *booking_id, const char *status)
{
	const Caller caller = { 1000, "counsellor" };
	g_autoptr(GError) error = NULL;

	g_assert_true(capacity_set_status(f->capacity, &caller, booking_id,
					  status, &error));
	g_assert_no_error(error);
}

GVariant *
fixture_booking(Fixture *f, const char *booking_id)
{
	g_autoptr(GError) error = NULL;
	GVariant *booking = NULL;

	g_assert_true(capacity_get_booking(f->capacity, booking_id, &booking,
					   &error));
	g_assert_no_error(error);
	return booking;
}

guint32
booking_uint(GVariant *booking, const char *key)
{
	guint32 value = 0;

	if (!g_variant_lookup(booking, key, "u", &value))
		g_error("booking has no %s (u)", key);
	return value;
}

gint64
booking_time(GVariant *booking, const char *key)
{
	gint64 value = 0;

	if (!g_variant_lookup(booking, key, "x", &value))
		g_error("booking has no %s (x)", key);
	return value;
}
