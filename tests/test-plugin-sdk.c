/* The plugin SDK from a plugin author's side: install the SDK from the
 * build tree (meson install --destdir, headers and pkg-config file
 * only), build plugins/example/example.c out of tree with nothing but
 * `pkg-config slotd-plugin`, put it in a fresh plugin directory with
 * the three service plugins, add plugins/example/example.conf to a
 * copy of the example region, and book through it over D-Bus. The
 * daemon's clock starts on Monday 2026-12-07 07:00. */
#include <signal.h>
#include <string.h>

#include "harness.h"

#define SERVICE "nurse-consultation-example"
#define UNIT "W-NURSE-LOH"

static Harness h;
static char *destdir;	  /* the staged SDK */
static char *pc_dir;	  /* where slotd-plugin.pc landed in it */
static char *header;	  /* slotd/plugin.h in it */
static char *module_path; /* the example, built out of tree */

/* ---- staging the SDK and building against it ------------------------ */

static char *
find_file(const char *dir, const char *suffix)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		char *found;

		if (g_str_has_suffix(path, suffix))
			return g_steal_pointer(&path);
		if (g_file_test(path, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(path, G_FILE_TEST_IS_SYMLINK) &&
		    (found = find_file(path, suffix)))
			return found;
	}
	return NULL;
}

static void
stage_sdk(void)
{
	const char *argv[] = { "meson", "install", "-C", harness_build_root(),
			       "--destdir", NULL, "--no-rebuild", "--tags",
			       "devel", NULL };
	g_autofree char *out = NULL, *err = NULL;

	destdir = g_build_filename(h.tmpdir, "destdir", NULL);
	argv[5] = destdir;
	if (harness_run(&h, &out, &err, argv) != 0)
		g_error("meson install failed:\n%s%s", out, err);
	pc_dir = find_file(destdir, "/slotd-plugin.pc");
	header = find_file(destdir, "/slotd/plugin.h");
	g_assert_nonnull(pc_dir);
	g_assert_nonnull(header);
	*strrchr(pc_dir, '/') = '\0';
}

/* pkg-config with the staged SDK first on its path, as a plugin
 * author's build would run it. */
static char **
pkg_config(const char *what, const char *package)
{
	g_autofree char *path = g_strconcat("PKG_CONFIG_PATH=", pc_dir, NULL);
	const char *argv[] = { "env", "-u", "PKG_CONFIG_SYSROOT_DIR", path,
			       "pkg-config", what, package, NULL };
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;
	char **words = NULL;

	if (harness_run(&h, &out, &err, argv) != 0)
		g_error("pkg-config %s %s failed: %s", what, package, err);
	if (!g_shell_parse_argv(g_strstrip(out), NULL, &words, &error))
		words = g_new0(char *, 1); /* empty output */
	return words;
}

/* cc -shared -fPIC -o OUT SOURCE FLAGS...: exit status, messages. */
static int
compile_module(const char *out, char **flags, char **ret_err)
{
	g_autofree char *source = g_build_filename(
		harness_source_root(), "plugins", "example", "example.c",
		NULL);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	const char *fixed[] = { "cc", "-shared", "-fPIC", "-Wall", "-Wextra",
				"-Werror", "-Wno-unused-parameter", "-o" };

	for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
		g_ptr_array_add(argv, (gpointer)fixed[i]);
	g_ptr_array_add(argv, (gpointer)out);
	g_ptr_array_add(argv, source);
	for (guint i = 0; flags[i]; i++)
		g_ptr_array_add(argv, flags[i]);
	g_ptr_array_add(argv, NULL);
	return harness_run(&h, NULL, ret_err,
			   (const char *const *)argv->pdata);
}

static void
build_example(void)
{
	g_auto(GStrv) cflags = pkg_config("--cflags", "slotd-plugin");
	g_auto(GStrv) libs = pkg_config("--libs", "slotd-plugin");
	g_autofree char *joined_cflags = g_strjoinv(" ", cflags);
	g_autofree char *joined_libs = g_strjoinv(" ", libs);
	g_autoptr(GStrvBuilder) flags = g_strv_builder_new();
	g_auto(GStrv) all = NULL;
	g_autofree char *err = NULL;

	/* The header path points into the staged SDK, and plugins link
	 * only GLib: the daemon itself provides the slotd_* functions. */
	g_assert_nonnull(strstr(joined_cflags, destdir));
	g_assert_null(strstr(joined_libs, "slotd"));
	g_strv_builder_addv(flags, (const char **)cflags);
	g_strv_builder_addv(flags, (const char **)libs);
	all = g_strv_builder_end(flags);
	module_path = g_build_filename(h.tmpdir, "example.so", NULL);
	if (compile_module(module_path, all, &err) != 0)
		g_error("the example does not build out of tree:\n%s", err);
}

/* ---- the daemon with the out-of-tree plugin ------------------------- */

static void
copy_file(const char *from, const char *to)
{
	g_autofree char *bytes = NULL;
	gsize len;
	g_autoptr(GError) error = NULL;

	g_file_get_contents(from, &bytes, &len, &error);
	g_assert_no_error(error);
	g_file_set_contents_full(to, bytes, len, G_FILE_SET_CONTENTS_NONE,
				 0644, &error);
	g_assert_no_error(error);
}

static void
fill_plugin_dir(void)
{
	const char *built[] = { "home-hospital.so", "crisis-duty.so",
				"walk-in.so" };
	char *dir = g_build_filename(h.tmpdir, "plugins", NULL);
	g_autofree char *example = g_build_filename(dir, "example.so", NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	for (guint i = 0; i < G_N_ELEMENTS(built); i++) {
		g_autofree char *from = g_build_filename(
			harness_build_root(), "plugins", built[i], NULL);
		g_autofree char *to = g_build_filename(dir, built[i], NULL);

		copy_file(from, to);
	}
	copy_file(module_path, example);
	g_free(h.plugin_dir);
	h.plugin_dir = dir;
}

static char *
add_example_service(void)
{
	char *entry = harness_copy_example(&h);
	g_autofree char *from = g_build_filename(
		harness_source_root(), "plugins", "example", "example.conf",
		NULL);
	g_autofree char *dir = g_path_get_dirname(entry);
	g_autofree char *to = g_build_filename(dir, "services.d",
					       "example.conf", NULL);

	copy_file(from, to);
	return entry;
}

/* ---- helpers for the bus tests -------------------------------------- */

static char *
slot_at(int day, int hour, int minute)
{
	GVariantDict d;
	g_autoptr(GVariant) slots = NULL;
	gint64 want = harness_local(2026, 12, day, hour, minute);

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	g_variant_dict_insert(&d, "limit", "u", 500);
	slots = harness_find(&h, SERVICE, g_variant_dict_end(&d));
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id, *unit;
		gint64 start;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, &unit,
				    &start, NULL, NULL, NULL);
		if (g_str_equal(unit, UNIT) && start == want)
			return g_strdup(id);
	}
	g_error("no free %s slot on 2026-12-%02d %02d:%02d", UNIT, day, hour,
		minute);
	return NULL;
}

static char *
book(int day, int hour, int minute, const char *client, const char *topic,
     GError **error)
{
	g_autofree char *slot = slot_at(day, hour, minute);
	GVariantDict d;
	g_autoptr(GVariant) r = NULL;
	char *id = NULL;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	if (topic)
		g_variant_dict_insert(&d, "topic", "s", topic);
	r = harness_call(&h, "org.slotd.Scheduler1", "Book",
			 g_variant_new("(ss@a{sv})", slot, client,
				       g_variant_dict_end(&d)),
			 "(s)", error);
	if (r)
		g_variant_get(r, "(s)", &id);
	return id;
}

static GVariant *
get_booking(const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Scheduler1",
					     "GetBooking",
					     g_variant_new("(s)", id),
					     "(a{sv})", &error);

	g_assert_no_error(error);
	return g_variant_get_child_value(r, 0);
}

/* ---- the tests ------------------------------------------------------ */

/* The .pc file and the header agree on the ABI, and the daemon reports
 * the plugin with that ABI. */
static void
test_pkg_config_matches_header(void)
{
	g_auto(GStrv) abi = pkg_config("--variable=abi_major", "slotd-plugin");
	g_auto(GStrv) dir = pkg_config("--variable=plugindir", "slotd-plugin");
	g_autofree char *text = NULL;
	g_autofree char *define = NULL;

	g_assert_true(g_file_get_contents(header, &text, NULL, NULL));
	g_assert_cmpuint(g_strv_length(abi), ==, 1);
	define = g_strdup_printf("#define SLOTD_PLUGIN_ABI_MAJOR %s\n", abi[0]);
	g_assert_nonnull(strstr(text, define));
	g_assert_cmpuint(g_strv_length(dir), ==, 1);
	g_assert_true(g_str_has_suffix(dir[0], "/slotd/plugins"));
	g_assert_true(g_str_has_prefix(dir[0], destdir));
}

/* The headers come from the staged SDK: without its flags the example
 * does not build (the control that makes the build above mean it). */
static void
test_example_needs_the_sdk(void)
{
	g_auto(GStrv) glib = pkg_config("--cflags", "glib-2.0");
	g_autofree char *out = g_build_filename(h.tmpdir, "control.so", NULL);
	g_autofree char *err = NULL;

	g_assert_cmpint(compile_module(out, glib, &err), !=, 0);
	g_assert_nonnull(strstr(err, "slotd/plugin.h"));
	g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
}

static void
test_daemon_lists_the_plugin(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) plugins = harness_call(
		&h, "org.slotd.Admin1", "ListPlugins", NULL, "(a(sssu))",
		&error);
	g_autoptr(GVariantIter) iter = NULL;
	g_autofree char *out = NULL;
	const char *id, *version, *summary;
	guint abi;
	gboolean seen = FALSE;

	g_assert_no_error(error);
	g_variant_get(plugins, "(a(sssu))", &iter);
	while (g_variant_iter_next(iter, "(&s&s&su)", &id, &version, &summary,
				   &abi)) {
		if (!g_str_equal(id, "example"))
			continue;
		g_assert_cmpstr(version, ==, "1.0");
		g_assert_cmpstr(summary, ==, "Example: nurse consultations, "
					     "at most N a client a week");
		g_assert_cmpuint(abi, ==, 2);
		seen = TRUE;
	}
	g_assert_true(seen);
	g_assert_cmpint(harness_slotctl(&h, &out, NULL, "plugins", NULL), ==,
			0);
	g_assert_nonnull(strstr(out, "example"));
}

static void
test_daemon_serves_the_service(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) services = harness_call(
		&h, "org.slotd.Scheduler1", "ListServices", NULL, "(a(sss))",
		&error);
	g_autoptr(GVariantIter) iter = NULL;
	const char *id, *kind, *title;
	gboolean seen = FALSE;

	g_assert_no_error(error);
	g_variant_get(services, "(a(sss))", &iter);
	while (g_variant_iter_next(iter, "(&s&s&s)", &id, &kind, &title)) {
		if (!g_str_equal(id, SERVICE))
			continue;
		g_assert_cmpstr(kind, ==, "example-visit");
		g_assert_cmpstr(title, ==,
				"Sairaanhoitajan vastaanotto (esimerkki)");
		seen = TRUE;
	}
	g_assert_true(seen);
}

/* max-visits-per-week=2: Monday and Tuesday are fine, Wednesday of the
 * same week is refused by the plugin's rule, another client and the
 * next week are not affected, and a cancellation frees the week. */
static void
test_weekly_limit(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *mon = NULL, *tue = NULL, *wed = NULL;
	g_autofree char *other = NULL, *next = NULL, *after = NULL;

	mon = book(7, 8, 0, "client-nurse-a", NULL, &error);
	g_assert_no_error(error);
	tue = book(8, 8, 0, "client-nurse-a", NULL, &error);
	g_assert_no_error(error);
	wed = book(9, 8, 0, "client-nurse-a", NULL, &error);
	harness_assert_dbus_error(error, "org.slotd.Error.PolicyViolation");
	g_assert_nonnull(strstr(error->message,
				"already has 2 nurse consultations in the "
				"week starting 2026-12-07"));
	g_assert_nonnull(strstr(error->message, "allows 2 a week"));
	g_assert_null(wed);
	g_clear_error(&error);
	/* The refused booking took no seat: someone else gets 08:00. */
	other = book(9, 8, 0, "client-nurse-b", NULL, &error);
	g_assert_no_error(error);
	next = book(14, 8, 0, "client-nurse-a", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(harness_slotctl(&h, NULL, NULL, "cancel", tue,
					"--reason", "client called", NULL),
			==, 0);
	after = book(9, 8, 20, "client-nurse-a", NULL, &error);
	g_assert_no_error(error);
}

static void
test_topic_option(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *id = book(10, 9, 0, "client-nurse-c", "wound-care",
				   &error);
	g_autoptr(GVariant) b = NULL;
	g_autofree char *refused = NULL;
	const char *s;

	g_assert_no_error(error);
	b = get_booking(id);
	g_assert_true(g_variant_lookup(b, "topic", "&s", &s));
	g_assert_cmpstr(s, ==, "wound-care");
	g_assert_true(g_variant_lookup(b, "unit", "&s", &s));
	g_assert_cmpstr(s, ==, UNIT);
	refused = book(10, 9, 20, "client-nurse-c", "flu-shot", &error);
	harness_assert_dbus_error(error,
				  "org.freedesktop.DBus.Error.InvalidArgs");
	g_assert_nonnull(strstr(error->message, "unknown topic 'flu-shot'"));
	g_assert_null(refused);
}

int
main(int argc, char **argv)
{
	const char *tools[] = { "meson", "pkg-config", "cc" };
	int status;

	g_test_init(&argc, &argv, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(tools); i++) {
		g_autofree char *path = g_find_program_in_path(tools[i]);

		if (!path) {
			g_printerr("skipped: %s is not installed\n", tools[i]);
			return 77; /* meson's "skipped" */
		}
	}
	harness_init(&h);
	h.horizon_days = 30;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	stage_sdk();
	build_example();
	fill_plugin_dir();
	{
		g_autofree char *entry = add_example_service();

		harness_start_slotd(&h, entry);
	}
	g_test_add_func("/plugin-sdk/pkg-config/matches-the-header",
			test_pkg_config_matches_header);
	g_test_add_func("/plugin-sdk/build/needs-the-sdk-headers",
			test_example_needs_the_sdk);
	g_test_add_func("/plugin-sdk/daemon/lists-the-plugin",
			test_daemon_lists_the_plugin);
	g_test_add_func("/plugin-sdk/daemon/serves-the-service",
			test_daemon_serves_the_service);
	g_test_add_func("/plugin-sdk/book/weekly-limit", test_weekly_limit);
	g_test_add_func("/plugin-sdk/book/topic-option", test_topic_option);
	status = g_test_run();
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
	g_free(destdir);
	g_free(pc_dir);
	g_free(header);
	g_free(module_path);
	return status;
}
