/* The plugin directory checks of a system build, on the real daemon:
 * slotd started without --plugin-dir, its configuration naming a
 * plugin directory that others may write to. The directory is refused
 * as a whole (nothing in it runs), the services of its plugins are
 * unavailable, the rest are served; fixed (chmod go-w) and reloaded,
 * its plugins load. The same directory given with --plugin-dir, a
 * developer's own, is not checked. Needs root (root-owned files) and a
 * build with -Dsystem_plugin_checks=true. */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "slotd-config.h"

static Harness h;
static char *plugin_dir;	/* the configuration's */

static void
copy_plugins(const char *to)
{
	g_autofree char *from = g_build_filename(harness_build_root(),
						 "plugins", NULL);
	g_autoptr(GDir) d = g_dir_open(from, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	g_assert_cmpint(g_mkdir_with_parents(to, 0755), ==, 0);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *src = g_build_filename(from, name, NULL);
		g_autofree char *dst = g_build_filename(to, name, NULL);
		g_autofree char *bytes = NULL;
		gsize len;

		if (!g_str_has_suffix(name, ".so"))
			continue;
		g_assert_true(g_file_get_contents(src, &bytes, &len, NULL));
		g_assert_true(g_file_set_contents_full(
			dst, bytes, (gssize)len, G_FILE_SET_CONTENTS_NONE, 0644,
			NULL));
	}
}

/* The summary ListPlugins gives for `id`, or NULL. */
static char *
plugin_summary(const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1",
					     "ListPlugins", NULL,
					     "(a(sssu))", &error);
	g_autoptr(GVariantIter) iter = NULL;
	const char *pid, *summary;

	g_assert_no_error(error);
	g_variant_get(r, "(a(sssu))", &iter);
	while (g_variant_iter_next(iter, "(&s&s&su)", &pid, NULL, &summary,
				   NULL))
		if (g_str_equal(pid, id))
			return g_strdup(summary);
	return NULL;
}

static guint
unavailable_offerings(void)
{
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1",
					     "GetStatus", NULL, "(a{sv})",
					     NULL);
	g_autoptr(GVariant) d = g_variant_get_child_value(r, 0);
	guint n = 0;

	g_assert_true(g_variant_lookup(d, "unavailable-offerings", "u", &n));
	return n;
}

static void
test_writable_dir_refused_then_fixed(void)
{
	g_autofree char *why = NULL, *loaded = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	why = plugin_summary("plugins");
	g_assert_nonnull(why);
	g_assert_cmpstr(why, ==, "refused: the plugin directory is writable "
				 "by group or others (mode 0777); chmod go-w "
				 "it");
	g_assert_null(plugin_summary("home-hospital"));
	g_assert_cmpuint(unavailable_offerings(), >, 0);
	g_assert_cmpint(chmod(plugin_dir, 0755), ==, 0);
	r = harness_call(&h, "org.slotd.Admin1", "Reload", NULL, "()",
			 &error);
	g_assert_no_error(error);
	g_assert_null(plugin_summary("plugins"));
	loaded = plugin_summary("home-hospital");
	g_assert_nonnull(loaded);
	g_assert_false(g_str_has_prefix(loaded, "refused"));
	g_assert_cmpuint(unavailable_offerings(), ==, 0);
}

/* --plugin-dir: the developer's directory, loaded as it is. */
static void
test_developer_dir_unchecked(void)
{
	g_autofree char *config = g_strdup(h.config);
	g_autofree char *loaded = NULL;

	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	g_assert_cmpint(chmod(plugin_dir, 0777), ==, 0);
	h.plugin_dir = g_strdup(plugin_dir);
	harness_start_slotd(&h, config);
	g_assert_null(plugin_summary("plugins"));
	loaded = plugin_summary("home-hospital");
	g_assert_nonnull(loaded);
	g_assert_false(g_str_has_prefix(loaded, "refused"));
}

int
main(int argc, char **argv)
{
	g_autofree char *config = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	if (getuid() != 0 || !SLOTD_SYSTEM_PLUGIN_CHECKS) {
		g_test_message("needs root and -Dsystem_plugin_checks=true");
		return 77;
	}
	harness_init(&h);
	h.horizon_days = 14;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	plugin_dir = g_build_filename(h.tmpdir, "plugins", NULL);
	copy_plugins(plugin_dir);
	g_assert_cmpint(chmod(plugin_dir, 0777), ==, 0);
	config = harness_copy_example(&h);
	harness_set_key(config, "daemon", "plugin-dir", plugin_dir);
	g_clear_pointer(&h.plugin_dir, g_free);
	harness_start_slotd(&h, config);
	g_test_add_func("/plugin-checks/writable-dir-refused-then-fixed",
			test_writable_dir_refused_then_fixed);
	g_test_add_func("/plugin-checks/developer-dir-unchecked",
			test_developer_dir_unchecked);
	status = harness_finish(&h, g_test_run());
	g_free(plugin_dir);
	return status;
}
