/* See plugin-engine.h. */
#include <string.h>

#include <glib/gstdio.h>

#include "calendar.h"
#include "config.h"
#include "plugin-engine.h"

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

void
plugin_engine_remove_tree(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR))
			plugin_engine_remove_tree(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

void
plugin_engine_set_up(PluginEngine *e, const char *prefix,
		     const char *entry_point, const char *units,
		     const char *service)
{
	g_autofree char *template = g_strdup_printf("%s-XXXXXX", prefix);
	g_autofree char *from = g_build_filename("config/example/services.d",
						 service, NULL);
	g_autofree char *to = g_build_filename("services.d", service, NULL);
	g_autoptr(GError) error = NULL;

	calendar_init();
	memset(e, 0, sizeof(*e));
	e->dir = g_dir_make_tmp(template, &error);
	g_assert_no_error(error);
	write_text(e->dir, "slotd.conf", entry_point);
	if (units)
		write_text(e->dir, "units.conf", units);
	else
		copy_source(e->dir, "config/example/units.conf", "units.conf");
	copy_source(e->dir, "config/example/region.conf", "region.conf");
	copy_source(e->dir, from, to);
	e->service_file = g_build_filename(e->dir, to, NULL);
}

void
plugin_engine_tear_down(PluginEngine *e)
{
	g_clear_pointer(&e->capacity, capacity_free);
	g_clear_pointer(&e->store, store_close);
	g_clear_pointer(&e->plugins, plugin_host_free);
	g_clear_pointer(&e->region, region_unref);
	plugin_engine_remove_tree(e->dir);
	g_free(e->dir);
	g_free(e->service_file);
}

void
plugin_engine_set_key(PluginEngine *e, const char *group, const char *key,
		      const char *value)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error = NULL;

	g_key_file_load_from_file(file, e->service_file,
				  G_KEY_FILE_KEEP_COMMENTS, &error);
	g_assert_no_error(error);
	if (value)
		g_key_file_set_value(file, group, key, value);
	else
		g_key_file_remove_key(file, group, key, NULL);
	g_key_file_save_to_file(file, e->service_file, &error);
	g_assert_no_error(error);
}

gboolean
plugin_engine_load(PluginEngine *e, const SlotdPluginDescriptor *plugin,
		   GError **error)
{
	g_autofree char *entry = g_build_filename(e->dir, "slotd.conf", NULL);
	ConfigOptions options = { .config_file = entry, .state_dir = e->dir };

	e->region = config_load(&options, error);
	if (!e->region)
		return FALSE;
	e->plugins = plugin_host_new();
	return plugin_host_add_static(e->plugins, plugin, error) &&
	       plugin_host_configure(e->plugins, e->region, error) &&
	       config_check_unread_keys(e->region, error);
}

static gint64
engine_clock(gpointer data)
{
	return ((PluginEngine *)data)->now;
}

void
plugin_engine_start(PluginEngine *e, const SlotdPluginDescriptor *plugin,
		    gint64 now)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = g_build_filename(e->dir, "slotd.db", NULL);
	gboolean done = FALSE;

	g_assert_true(plugin_engine_load(e, plugin, &error));
	g_assert_no_error(error);
	e->store = store_open(db, &error);
	g_assert_no_error(error);
	e->capacity = capacity_new(e->region, e->store, e->plugins);
	e->now = now;
	capacity_set_clock(e->capacity, engine_clock, e);
	while (!done) {
		g_assert_true(
			capacity_extend(e->capacity, 100000, &done, &error));
		g_assert_no_error(error);
	}
}

char *
plugin_engine_slot_at(PluginEngine *e, const char *offering, gint64 start)
{
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(store_list_slots(e->store, offering, start, start + 1,
				       slots, &error));
	g_assert_no_error(error);
	if (slots->len == 0)
		return NULL;
	return g_strdup_printf("s-%" G_GINT64_FORMAT,
			       g_array_index(slots, StoreSlot, 0).id);
}
