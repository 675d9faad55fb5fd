/* The fixture of the end-to-end home-hospital tests: the example
 * region (config/example/region.conf, with its travel matrix), the six
 * home-hospital base units and this plugin's example service file, in
 * a temporary directory, loaded into the real configuration reader,
 * plugin host, store and capacity engine with a fixed clock. */
#include <string.h>

#include <glib/gstdio.h>
#include <slotd/plugin.h>

#include "calendar.h"
#include "config.h"
#include "test-home-hospital.h"

const SlotdPluginDescriptor *slotd_plugin_describe(void);

static const char entry_point[] = "[daemon]\n"
				  "include=region.conf;units.conf\n"
				  "service-dir=services.d\n"
				  "horizon-days=9\n"
				  "\n"
				  "[region]\n"
				  "id=nyland-test\n"
				  "name-fi=Länsi- ja Itä-Uusimaa\n"
				  "name-sv=Västra och Östra Nyland\n";

/* The home-hospital bases of config/example/units.conf. */
static const char base_units[] =
	"[unit W-HH-ESP]\nmunicipality=049\ntitle-fi=Kotisairaala Espoo\n"
	"title-sv=Hemsjukhuset Esbo\nlanguages=fi;sv;en\n\n"
	"[unit W-HH-LOH]\nmunicipality=Lohja\ntitle-fi=Kotisairaala Lohja\n"
	"title-sv=Hemsjukhuset Lojo\nlanguages=fi;sv\n\n"
	"[unit W-HH-RAS]\nmunicipality=Raseborg\n"
	"title-fi=Kotisairaala Raasepori\n"
	"title-sv=Hemsjukhuset Raseborg\nlanguages=sv;fi\n\n"
	"[unit E-HH-POR]\nmunicipality=638\ntitle-fi=Kotisairaala Porvoo\n"
	"title-sv=Hemsjukhuset Borgå\nlanguages=fi;sv\n\n"
	"[unit E-HH-LOV]\nmunicipality=Lovisa\n"
	"title-fi=Kotisairaala Loviisa\ntitle-sv=Hemsjukhuset Lovisa\n"
	"languages=sv;fi\n\n"
	"[unit E-HH-SIP]\nmunicipality=Sipoo\ntitle-fi=Kotisairaala Sipoo\n"
	"title-sv=Hemsjukhuset Sibbo\nlanguages=fi;sv\n";

static void
write_text(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *parent = g_path_get_dirname(path);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
}

static void
copy_source(const char *dir, const char *from, const char *to)
{
	const char *root = g_getenv("SLOTD_SOURCE_ROOT");
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_nonnull(root);
	path = g_build_filename(root, from, NULL);
	g_file_get_contents(path, &text, NULL, &error);
	g_assert_no_error(error);
	write_text(dir, to, text);
}

static void
remove_tree(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR))
			remove_tree(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

void
hh_fixture_set_up(HhFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	calendar_init();
	memset(f, 0, sizeof(*f));
	f->dir = g_dir_make_tmp("slotd-hh-XXXXXX", &error);
	g_assert_no_error(error);
	write_text(f->dir, "slotd.conf", entry_point);
	write_text(f->dir, "units.conf", base_units);
	copy_source(f->dir, "config/example/region.conf", "region.conf");
	copy_source(f->dir, "config/example/services.d/home-hospital.conf",
		    "services.d/home-hospital.conf");
	f->service_file = g_build_filename(f->dir, "services.d",
					   "home-hospital.conf", NULL);
}

void
hh_fixture_tear_down(HhFixture *f, gconstpointer data)
{
	g_clear_pointer(&f->capacity, capacity_free);
	g_clear_pointer(&f->store, store_close);
	g_clear_pointer(&f->plugins, plugin_host_free);
	g_clear_pointer(&f->region, region_unref);
	remove_tree(f->dir);
	g_free(f->dir);
	g_free(f->service_file);
}

void
hh_fixture_set_key(HhFixture *f, const char *group, const char *key,
		   const char *value)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error = NULL;

	g_key_file_load_from_file(file, f->service_file,
				  G_KEY_FILE_KEEP_COMMENTS, &error);
	g_assert_no_error(error);
	g_key_file_set_value(file, group, key, value);
	g_key_file_save_to_file(file, f->service_file, &error);
	g_assert_no_error(error);
}

gboolean
hh_fixture_load(HhFixture *f, GError **error)
{
	g_autofree char *entry = g_build_filename(f->dir, "slotd.conf", NULL);
	ConfigOptions options = { .config_file = entry, .state_dir = f->dir };

	f->region = config_load(&options, error);
	if (!f->region)
		return FALSE;
	f->plugins = plugin_host_new();
	return plugin_host_add_static(f->plugins, slotd_plugin_describe(),
				      error) &&
	       plugin_host_configure(f->plugins, f->region, error) &&
	       config_check_unread_keys(f->region, error);
}

static gint64
fixture_clock(gpointer data)
{
	return ((HhFixture *)data)->now;
}

void
hh_fixture_start(HhFixture *f, int year, int month, int day, int hour,
		 int minute)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = g_build_filename(f->dir, "slotd.db", NULL);
	gboolean done = FALSE;

	g_assert_true(hh_fixture_load(f, &error));
	g_assert_no_error(error);
	f->store = store_open(db, &error);
	g_assert_no_error(error);
	f->capacity = capacity_new(f->region, f->store, f->plugins);
	f->now = hh_local(year, month, day, hour, minute);
	capacity_set_clock(f->capacity, fixture_clock, f);
	while (!done) {
		g_assert_true(
			capacity_extend(f->capacity, 100000, &done, &error));
		g_assert_no_error(error);
	}
}

gint64
hh_local(int year, int month, int day, int hour, int minute)
{
	return slotd_local_to_utc(year, month, day, hour, minute);
}

static const char *
service_of(const char *unit)
{
	return g_str_has_prefix(unit, "W-") ? HH_WEST : HH_EAST;
}

char *
hh_slot_at(HhFixture *f, const char *unit, gint64 start)
{
	g_autofree char *offering =
		g_strdup_printf("%s/%s", unit, service_of(unit));
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;
	char *id;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(store_list_slots(f->store, offering, start, start + 1,
				       slots, &error));
	g_assert_no_error(error);
	if (slots->len != 1) {
		g_autofree char *when = slotd_format_local(start);
		g_error("%s has %u slots at %s", unit, slots->len, when);
	}
	id = g_strdup_printf("s-%" G_GINT64_FORMAT,
			     g_array_index(slots, StoreSlot, 0).id);
	return id;
}

GVariant *
hh_options(const char *municipality, const char *language, const char *episode)
{
	GVariantDict options;

	g_variant_dict_init(&options, NULL);
	if (municipality)
		g_variant_dict_insert(&options, "municipality", "s",
				      municipality);
	if (language)
		g_variant_dict_insert(&options, "language", "s", language);
	if (episode)
		g_variant_dict_insert(&options, "episode", "s", episode);
	return g_variant_dict_end(&options);
}

GVariant *
hh_get_booking(HhFixture *f, const char *booking_id)
{
	g_autoptr(GError) error = NULL;
	GVariant *booking = NULL;

	g_assert_true(capacity_get_booking(f->capacity, booking_id, &booking,
					   &error));
	g_assert_no_error(error);
	return booking;
}

guint
hh_count_bookings(HhFixture *f, const char *client_ref)
{
	g_autoptr(GVariant) filter = g_variant_ref_sink(g_variant_new_parsed(
		"{'client-ref': <%s>, 'status': <'booked'>}", client_ref));
	g_autoptr(GPtrArray) bookings = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(
		capacity_list_bookings(f->capacity, filter, &bookings, &error));
	g_assert_no_error(error);
	return bookings->len;
}

guint
hh_booked_seats(HhFixture *f, const char *unit, gint64 from, gint64 to)
{
	g_autofree char *offering =
		g_strdup_printf("%s/%s", unit, service_of(unit));
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;
	guint booked = 0;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(
		store_list_slots(f->store, offering, from, to, slots, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < slots->len; i++)
		booked += g_array_index(slots, StoreSlot, i).booked +
			  g_array_index(slots, StoreSlot, i).held;
	return booked;
}

guint
hh_free_at(HhFixture *f, const char *service, const char *unit, gint64 start,
	   GVariant *query_extra)
{
	g_autoptr(GVariant) extra = g_variant_ref_sink(query_extra);
	g_autoptr(GVariant) query = NULL;
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GError) error = NULL;
	GVariantDict dict;

	g_variant_dict_init(&dict, extra);
	g_variant_dict_insert(&dict, "from", "x", start);
	g_variant_dict_insert(&dict, "to", "x", start + 60);
	query = g_variant_ref_sink(g_variant_dict_end(&dict));
	g_assert_true(
		capacity_find(f->capacity, service, query, &found, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < found->len; i++) {
		FoundSlot *slot = found->pdata[i];

		if (slot->start == start && strcmp(slot->unit, unit) == 0)
			return slot->free;
	}
	return 0;
}
