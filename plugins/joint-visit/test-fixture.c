/* The fixture of the joint-visit tests: the example region
 * (config/example/region.conf), the three Porvoo units the offering
 * draws on and the example service file, in a temporary directory,
 * loaded into the real configuration reader, plugin host, store and
 * capacity engine with a fixed clock. */
#include <string.h>

#include <glib/gstdio.h>
#include <slotd/plugin.h>

#include "calendar.h"
#include "config.h"
#include "test-joint-visit.h"

const SlotdPluginDescriptor *slotd_plugin_describe(void);

static const char entry_point[] = "[daemon]\n"
				  "include=region.conf;units.conf\n"
				  "service-dir=services.d\n"
				  "horizon-days=21\n"
				  "\n"
				  "[region]\n"
				  "id=nyland-test\n"
				  "name-fi=Länsi- ja Itä-Uusimaa\n"
				  "name-sv=Västra och Östra Nyland\n";

static const char units[] =
	"[unit E-JV-POR]\nmunicipality=638\n"
	"title-fi=Porvoo, sosiaalipalvelut\ntitle-sv=Borgå, socialtjänsten\n"
	"languages=fi;sv\n\n"
	"[unit E-PSY-POR]\nmunicipality=638\n"
	"title-fi=HUS Psykiatria, Porvoo\ntitle-sv=HUS Psykiatri, Borgå\n"
	"languages=fi;sv\n\n"
	"[unit E-COR-POR]\nmunicipality=638\n"
	"title-fi=Coronaria, Porvoo\ntitle-sv=Coronaria, Borgå\n"
	"languages=fi;sv\n";

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
jv_fixture_set_up(JvFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	calendar_init();
	memset(f, 0, sizeof(*f));
	f->dir = g_dir_make_tmp("slotd-jv-XXXXXX", &error);
	g_assert_no_error(error);
	write_text(f->dir, "slotd.conf", entry_point);
	write_text(f->dir, "units.conf", units);
	copy_source(f->dir, "config/example/region.conf", "region.conf");
	copy_source(f->dir, "config/example/services.d/joint-visit.conf",
		    "services.d/joint-visit.conf");
	f->service_file = g_build_filename(f->dir, "services.d",
					   "joint-visit.conf", NULL);
}

void
jv_fixture_tear_down(JvFixture *f, gconstpointer data)
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
jv_fixture_set_key(JvFixture *f, const char *group, const char *key,
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
jv_fixture_load(JvFixture *f, GError **error)
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
	return ((JvFixture *)data)->now;
}

void
jv_fixture_start(JvFixture *f, int year, int month, int day, int hour,
		 int minute)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = g_build_filename(f->dir, "slotd.db", NULL);
	gboolean done = FALSE;

	g_assert_true(jv_fixture_load(f, &error));
	g_assert_no_error(error);
	f->store = store_open(db, &error);
	g_assert_no_error(error);
	f->capacity = capacity_new(f->region, f->store, f->plugins);
	f->now = jv_local(year, month, day, hour, minute);
	capacity_set_clock(f->capacity, fixture_clock, f);
	while (!done) {
		g_assert_true(
			capacity_extend(f->capacity, 100000, &done, &error));
		g_assert_no_error(error);
	}
}

gint64
jv_local(int year, int month, int day, int hour, int minute)
{
	return slotd_local_to_utc(year, month, day, hour, minute);
}

char *
jv_slot_at(JvFixture *f, gint64 start)
{
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(store_list_slots(f->store, JV_UNIT "/" JV_SERVICE, start,
				       start + 1, slots, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(slots->len, ==, 1);
	return g_strdup_printf("s-%" G_GINT64_FORMAT,
			       g_array_index(slots, StoreSlot, 0).id);
}

GVariant *
jv_options(const char *housing_unit, const char *language,
	   const char *municipality)
{
	GVariantDict options;

	g_variant_dict_init(&options, NULL);
	if (housing_unit)
		g_variant_dict_insert(&options, "housing-unit", "s",
				      housing_unit);
	if (language)
		g_variant_dict_insert(&options, "language", "s", language);
	if (municipality)
		g_variant_dict_insert(&options, "municipality", "s",
				      municipality);
	return g_variant_dict_end(&options);
}
