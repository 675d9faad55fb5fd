/* The fixture of the end-to-end therapy-course tests: the example
 * region, its units and this plugin's example service file in a
 * temporary directory, loaded into the real configuration reader,
 * plugin host, store and capacity engine with a fixed clock. */
#include <string.h>

#include <glib/gstdio.h>
#include <slotd/plugin.h>

#include "calendar.h"
#include "config.h"
#include "test-therapy-course.h"

const SlotdPluginDescriptor *slotd_plugin_describe(void);

static const char entry_point[] = "[daemon]\n"
				  "include=region.conf;units.conf\n"
				  "service-dir=services.d\n"
				  "horizon-days=80\n"
				  "\n"
				  "[region]\n"
				  "id=nyland-test\n"
				  "name-fi=Länsi- ja Itä-Uusimaa\n"
				  "name-sv=Västra och Östra Nyland\n";

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
tc_fixture_set_up(TcFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	memset(f, 0, sizeof(*f));
	f->dir = g_dir_make_tmp("slotd-tc-XXXXXX", &error);
	g_assert_no_error(error);
	write_text(f->dir, "slotd.conf", entry_point);
	copy_source(f->dir, "config/example/units.conf", "units.conf");
	copy_source(f->dir, "config/example/region.conf", "region.conf");
	copy_source(f->dir, "config/example/services.d/therapy-course.conf",
		    "services.d/therapy-course.conf");
	f->service_file = g_build_filename(f->dir, "services.d",
					   "therapy-course.conf", NULL);
}

void
tc_fixture_tear_down(TcFixture *f, gconstpointer data)
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
tc_fixture_set_key(TcFixture *f, const char *group, const char *key,
		   const char *value)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error = NULL;

	g_key_file_load_from_file(file, f->service_file,
				  G_KEY_FILE_KEEP_COMMENTS, &error);
	g_assert_no_error(error);
	if (value)
		g_key_file_set_value(file, group, key, value);
	else
		g_key_file_remove_key(file, group, key, NULL);
	g_key_file_save_to_file(file, f->service_file, &error);
	g_assert_no_error(error);
}

gboolean
tc_fixture_load(TcFixture *f, GError **error)
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
	return ((TcFixture *)data)->now;
}

void
tc_fixture_start(TcFixture *f, int year, int month, int day, int hour,
		 int minute)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = g_build_filename(f->dir, "slotd.db", NULL);
	gboolean done = FALSE;

	g_assert_true(tc_fixture_load(f, &error));
	g_assert_no_error(error);
	f->store = store_open(db, &error);
	g_assert_no_error(error);
	f->capacity = capacity_new(f->region, f->store, f->plugins);
	f->now = tc_local(year, month, day, hour, minute);
	capacity_set_clock(f->capacity, fixture_clock, f);
	while (!done) {
		g_assert_true(
			capacity_extend(f->capacity, 100000, &done, &error));
		g_assert_no_error(error);
	}
}

gint64
tc_local(int year, int month, int day, int hour, int minute)
{
	return slotd_local_to_utc(year, month, day, hour, minute);
}

char *
tc_slot_at(TcFixture *f, const char *unit, gint64 start)
{
	g_autofree char *offering =
		g_strdup_printf("%s/%s", unit, TC_SERVICE);
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(store_list_slots(f->store, offering, start, start + 1,
				       slots, &error));
	g_assert_no_error(error);
	if (slots->len == 0)
		return NULL;
	return g_strdup_printf("s-%" G_GINT64_FORMAT,
			       g_array_index(slots, StoreSlot, 0).id);
}
