/* The plugin loader: what it loads, what it refuses and why, and how a
 * refused module is tried again. The modules are real shared objects
 * built from the sources in tests/plugins/ (build/tests/loader-NAME.so);
 * rules that need no module are checked with descriptors linked into
 * this test. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin-host.h"

static char *tmpdir;

static char *
module_path(const char *name)
{
	g_autofree char *file = g_strdup_printf("loader-%s.so", name);

	return g_build_filename(g_getenv("SLOTD_BUILD_ROOT"), "tests", file,
				NULL);
}

/* Copies a built module to `dir`/`name` by writing a temp file and
 * renaming it, as `install` does: a new file, never one rewritten in
 * place under a mapping. */
static char *
install_module(const char *module, const char *dir, const char *name)
{
	g_autofree char *from = module_path(module);
	g_autofree char *tmp = g_build_filename(dir, ".installing", NULL);
	char *to = g_build_filename(dir, name, NULL);
	g_autofree char *bytes = NULL;
	gsize len;
	g_autoptr(GError) error = NULL;

	g_file_get_contents(from, &bytes, &len, &error);
	g_assert_no_error(error);
	g_file_set_contents_full(tmp, bytes, len, G_FILE_SET_CONTENTS_NONE,
				 0644, &error);
	g_assert_no_error(error);
	g_assert_cmpint(rename(tmp, to), ==, 0);
	return to;
}

static char *
fresh_dir(const char *name)
{
	char *dir = g_build_filename(tmpdir, name, NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	return dir;
}

static const PluginInfo *
only_plugin(PluginHost *host)
{
	g_assert_cmpuint(plugin_host_list(host)->len, ==, 1);
	return plugin_host_list(host)->pdata[0];
}

/* Loads a module expected to be refused; returns the error. */
static GError *
refuse(PluginHost *host, const char *path, gboolean system_checks)
{
	GError *error = NULL;

	g_assert_false(plugin_host_load_file(host, path, system_checks,
					     &error));
	g_assert_nonnull(error);
	return error;
}

/* ---- modules that load ---------------------------------------------- */

static void
test_good_plugin_and_its_kinds(void)
{
	g_autofree char *path = module_path("good");
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;
	const PluginInfo *info;
	const SlotdKindOps *old;

	g_assert_true(plugin_host_load_file(host, path, FALSE, &error));
	g_assert_no_error(error);
	info = only_plugin(host);
	g_assert_true(info->loaded);
	g_assert_null(info->error);
	g_assert_cmpstr(info->id, ==, "loader-good");
	g_assert_cmpstr(info->version, ==, "2.5");
	g_assert_cmpstr(info->summary, ==, "Loader test: plain visits");
	g_assert_cmpuint(info->abi_major, ==, SLOTD_PLUGIN_ABI_MAJOR);
	g_assert_cmpstr(info->path, ==, path);
	g_assert_cmpuint(g_strv_length(info->kinds), ==, 2);
	g_assert_cmpstr(info->kinds[0], ==, "loader-visit");
	g_assert_cmpstr(info->kinds[1], ==, "loader-old");
	g_assert_nonnull(plugin_host_kind(host, "loader-visit"));
	/* A table built before rank existed: the daemon reads only the
	 * size the plugin was built with and sees the rest as unset. */
	old = plugin_host_kind(host, "loader-old");
	g_assert_nonnull(old);
	g_assert_cmpuint(old->size, ==, sizeof(SlotdKindOps));
	g_assert_nonnull(old->configure);
	g_assert_null(old->rank);
	g_assert_null(old->plan);
	g_assert_null(old->options);
	g_assert_cmpuint(old->flags, ==, 0);
	g_assert_null(plugin_host_kind(host, "loader-missing"));
}

/* ---- modules that are refused -------------------------------------- */

static void
assert_refused_cleanly(PluginHost *host, const char *path,
		       const char *reason)
{
	const PluginInfo *info = only_plugin(host);

	g_assert_false(info->loaded);
	g_assert_cmpstr(info->path, ==, path);
	g_assert_nonnull(strstr(info->error, reason));
	g_assert_null(info->kinds);
}

static void
test_wrong_abi(void)
{
	g_autofree char *path = module_path("wrong-abi");
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = refuse(host, path, FALSE);
	g_autofree char *built = g_strdup_printf("built for plugin ABI %u, "
						 "this slotd has ABI %u",
						 SLOTD_PLUGIN_ABI_MAJOR + 1,
						 SLOTD_PLUGIN_ABI_MAJOR);

	g_assert_nonnull(strstr(error->message, built));
	assert_refused_cleanly(host, path, built);
}

static void
test_entry_point_not_exported(void)
{
	g_autofree char *path = module_path("no-entry");
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = refuse(host, path, FALSE);

	g_assert_cmpstr(error->message, ==,
			"it does not export slotd_plugin_describe()");
	assert_refused_cleanly(host, path, "slotd_plugin_describe");
	g_assert_null(only_plugin(host)->id);
}

static void
test_undefined_sdk_symbol(void)
{
	g_autofree char *path = module_path("undefined-sdk");
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = refuse(host, path, FALSE);

	g_assert_true(g_str_has_prefix(error->message, "cannot load it: "));
	g_assert_nonnull(strstr(error->message,
				"slotd_host_register_kind_v2"));
	assert_refused_cleanly(host, path, "slotd_host_register_kind_v2");
	g_assert_null(plugin_host_kind(host, "loader-later"));
}

static void
test_failing_setup_leaves_nothing(void)
{
	g_autofree char *path = module_path("failing-setup");
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = refuse(host, path, FALSE);

	g_assert_cmpstr(error->message, ==,
			"its setup failed: its rota file "
			"/etc/slotd/loader-rota.csv is missing");
	assert_refused_cleanly(host, path, "loader-rota.csv");
	/* It registered loader-half before failing: gone again. */
	g_assert_null(plugin_host_kind(host, "loader-half"));
}

static void
test_kind_another_plugin_has(void)
{
	g_autofree char *good = module_path("good");
	g_autofree char *dup = module_path("duplicate-kind");
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(PluginHost) alone = plugin_host_new();
	g_autoptr(GError) error = NULL;
	const PluginInfo *info;

	g_assert_true(plugin_host_load_file(host, good, FALSE, &error));
	g_clear_error(&error);
	error = refuse(host, dup, FALSE);
	g_assert_cmpstr(error->message, ==,
			"its setup failed: kind 'loader-visit' is already "
			"provided by plugin 'loader-good'");
	info = plugin_host_list(host)->pdata[1];
	g_assert_false(info->loaded);
	g_assert_null(info->kinds);
	/* Its own kind is rolled back; the first plugin's stays. */
	g_assert_null(plugin_host_kind(host, "loader-dup-own"));
	g_assert_nonnull(plugin_host_kind(host, "loader-visit"));
	/* Alone, the same module is fine: the clash was the reason. */
	g_clear_error(&error);
	g_assert_true(plugin_host_load_file(alone, dup, FALSE, &error));
	g_assert_no_error(error);
	g_assert_nonnull(plugin_host_kind(alone, "loader-dup-own"));
}

/* ---- registration rules (descriptors linked into this test) -------- */

static gboolean
plain_configure(SlotdOffering *offering, GError **error)
{
	return TRUE;
}

static const SlotdKindOps plain_ops = {
	.size = sizeof(SlotdKindOps),
	.configure = plain_configure,
};

static const SlotdKindOps no_configure_ops = {
	.size = sizeof(SlotdKindOps),
};

static gboolean
register_twice(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, "twice", &plain_ops, error) &&
	       slotd_host_register_kind(host, "twice", &plain_ops, error);
}

static gboolean
register_fixed(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, "fixed", &plain_ops, error);
}

static gboolean
register_without_configure(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, "bare", &no_configure_ops,
					error);
}

static gboolean
register_plain(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, "plain", &plain_ops, error);
}

static SlotdPluginDescriptor
descriptor_for(const char *id, gboolean (*setup)(SlotdHost *, GError **))
{
	SlotdPluginDescriptor d = {
		.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
		.size = sizeof(SlotdPluginDescriptor),
		.id = id,
		.version = "1",
		.summary = id,
		.setup = setup,
	};

	return d;
}

static void
test_same_kind_twice_in_one_plugin(void)
{
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;
	SlotdPluginDescriptor d = descriptor_for("static-twice",
						 register_twice);

	g_assert_false(plugin_host_add_static(host, &d, &error));
	g_assert_cmpstr(error->message, ==,
			"its setup failed: kind 'twice' is already provided "
			"by plugin 'static-twice'");
	g_assert_null(plugin_host_kind(host, "twice"));
}

static void
test_builtin_kind_is_taken(void)
{
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;
	SlotdPluginDescriptor d = descriptor_for("static-fixed",
						 register_fixed);
	const SlotdKindOps *builtin;

	fixed_register(host);
	builtin = plugin_host_kind(host, "fixed");
	g_assert_false(plugin_host_add_static(host, &d, &error));
	g_assert_nonnull(strstr(error->message, "plugin 'builtin'"));
	/* Refusing the newcomer must not drop the built-in kind. */
	g_assert_true(plugin_host_kind(host, "fixed") == builtin);
}

static void
test_kind_without_configure(void)
{
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;
	SlotdPluginDescriptor d = descriptor_for("static-bare",
						 register_without_configure);

	g_assert_false(plugin_host_add_static(host, &d, &error));
	g_assert_cmpstr(error->message, ==,
			"its setup failed: kind 'bare' has no configure hook");
	g_assert_null(plugin_host_kind(host, "bare"));
}

static void
test_same_id_twice(void)
{
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;
	SlotdPluginDescriptor d = descriptor_for("static-plain",
						 register_plain);

	g_assert_true(plugin_host_add_static(host, &d, &error));
	g_assert_false(plugin_host_add_static(host, &d, &error));
	g_assert_cmpstr(error->message, ==,
			"a plugin with id 'static-plain' is already loaded");
	g_assert_nonnull(plugin_host_kind(host, "plain"));
}

static void
test_short_descriptor(void)
{
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;
	SlotdPluginDescriptor d = descriptor_for("static-short",
						 register_plain);

	/* Built before teardown existed: too short for this ABI major. */
	d.size = G_STRUCT_OFFSET(SlotdPluginDescriptor, teardown);
	g_assert_false(plugin_host_add_static(host, &d, &error));
	g_assert_nonnull(strstr(error->message, "incomplete"));
	g_assert_null(plugin_host_kind(host, "plain"));
}

/* ---- the system plugin directory's checks --------------------------- */

static void
test_not_owned_by_root(void)
{
	g_autofree char *dir = fresh_dir("not-root");
	g_autofree char *path = install_module("good", dir, "good.so");
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;
	guint uid = getuid() == 0 ? 65534 : getuid();
	g_autofree char *expect = g_strdup_printf("not owned by root (uid %u)",
						  uid);

	if (getuid() == 0)
		g_assert_cmpint(chown(path, 65534, 65534), ==, 0);
	error = refuse(host, path, TRUE);
	g_assert_true(g_str_has_prefix(error->message, expect));
	assert_refused_cleanly(host, path, expect);
	g_assert_null(plugin_host_kind(host, "loader-visit"));
}

static void
check_mode_refused(const char *dir, const char *name, mode_t mode,
		   const char *expect)
{
	g_autofree char *path = install_module("good", dir, name);
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(chown(path, 0, 0), ==, 0);
	g_assert_cmpint(chmod(path, mode), ==, 0);
	error = refuse(host, path, TRUE);
	g_assert_cmpstr(error->message, ==, expect);
	assert_refused_cleanly(host, path, expect);
}

static void
test_writable_by_others(void)
{
	g_autofree char *dir = NULL;
	g_autofree char *path = NULL;
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;

	if (getuid() != 0) {
		g_test_skip("needs root to make a root-owned copy");
		return;
	}
	dir = fresh_dir("writable");
	check_mode_refused(dir, "world.so", 0666,
			   "writable by group or others (mode 0666); "
			   "chmod go-w it");
	check_mode_refused(dir, "group.so", 0664,
			   "writable by group or others (mode 0664); "
			   "chmod go-w it");
	/* Root's and read-only to others: the checks pass. */
	path = install_module("good", dir, "sound.so");
	g_assert_cmpint(chown(path, 0, 0), ==, 0);
	g_assert_true(plugin_host_load_file(host, path, TRUE, &error));
	g_assert_no_error(error);
}

/* --plugin-dir is the developer's own directory: no ownership checks. */
static void
test_developer_dir_unchecked(void)
{
	g_autofree char *dir = fresh_dir("developer");
	g_autofree char *path = install_module("good", dir, "good.so");
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;

	if (getuid() == 0)
		g_assert_cmpint(chown(path, 65534, 65534), ==, 0);
	g_assert_cmpint(chmod(path, 0666), ==, 0);
	g_assert_true(plugin_host_load_file(host, path, FALSE, &error));
	g_assert_no_error(error);
}

static void
test_relative_path(void)
{
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;

	g_assert_false(plugin_host_load_file(host, "tests/loader-good.so",
					     FALSE, &error));
	g_assert_cmpstr(error->message, ==,
			"plugin path 'tests/loader-good.so' is not absolute");
	g_assert_cmpuint(plugin_host_list(host)->len, ==, 0);
	g_assert_null(plugin_host_kind(host, "loader-visit"));
}

/* ---- directory passes (start-up and reloads) ------------------------ */

static void
load_pass(PluginHost *host, const char *dir)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(plugin_host_load_dir(host, dir, FALSE, &error));
	g_assert_no_error(error);
}

static void
assert_check(PluginHost *host, const char *refused_path)
{
	g_autoptr(GError) error = NULL;
	gboolean ok = plugin_host_check_refusals(host, &error);

	if (!refused_path) {
		g_assert_no_error(error);
		g_assert_true(ok);
		return;
	}
	g_assert_false(ok);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG);
	g_assert_nonnull(strstr(error->message, refused_path));
}

/* Refused at start-up, accepted as the running state, fixed by the
 * administrator: the next pass loads it, and ListPlugins shows it once. */
static void
test_fixed_plugin_loads_on_next_pass(void)
{
	g_autofree char *dir = fresh_dir("fixed-later");
	g_autofree char *path = install_module("wrong-abi", dir, "clinic.so");
	g_autoptr(PluginHost) host = plugin_host_new();
	const PluginInfo *info;
	g_autofree char *notes = g_build_filename(dir, "clinic.so.txt", NULL);

	/* Only "*.so" files are modules. */
	g_assert_true(g_file_set_contents(notes, "not a module", -1, NULL));
	load_pass(host, dir);
	assert_refused_cleanly(host, path, "ABI");
	assert_check(host, path);
	plugin_host_accept_refusals(host);
	assert_check(host, NULL);
	/* Unchanged: still refused, still only the one accepted. */
	load_pass(host, dir);
	assert_refused_cleanly(host, path, "ABI");
	assert_check(host, NULL);
	g_free(install_module("good", dir, "clinic.so"));
	load_pass(host, dir);
	info = only_plugin(host);
	g_assert_true(info->loaded);
	g_assert_cmpstr(info->path, ==, path);
	g_assert_null(info->error);
	g_assert_nonnull(plugin_host_kind(host, "loader-visit"));
	assert_check(host, NULL);
	/* Loaded modules stay: a further pass changes nothing. */
	load_pass(host, dir);
	g_assert_true(only_plugin(host) == info);
}

/* A broken module dropped in after start-up fails every pass until it
 * is fixed or removed; removed, it leaves ListPlugins too. */
static void
test_new_broken_plugin_fails_each_pass(void)
{
	g_autofree char *dir = fresh_dir("broken-later");
	g_autofree char *good = install_module("good", dir, "a-good.so");
	g_autofree char *broken = NULL;
	g_autofree char *why = NULL;
	g_autoptr(PluginHost) host = plugin_host_new();

	load_pass(host, dir);
	assert_check(host, NULL);
	plugin_host_accept_refusals(host);
	broken = install_module("failing-setup", dir, "b-broken.so");
	load_pass(host, dir);
	assert_check(host, broken);
	why = g_strdup_printf("plugin %s was refused: its setup failed: its "
			      "rota file /etc/slotd/loader-rota.csv is "
			      "missing; fix or remove it and reload again",
			      broken);
	{
		g_autoptr(GError) error = NULL;

		plugin_host_check_refusals(host, &error);
		g_assert_cmpstr(error->message, ==, why);
	}
	load_pass(host, dir);
	assert_check(host, broken);
	g_assert_cmpuint(plugin_host_list(host)->len, ==, 2);
	g_assert_cmpint(unlink(broken), ==, 0);
	load_pass(host, dir);
	assert_check(host, NULL);
	g_assert_cmpstr(only_plugin(host)->path, ==, good);
	g_assert_nonnull(plugin_host_kind(host, "loader-visit"));
}

static void
test_unreadable_dir(void)
{
	g_autofree char *dir = g_build_filename(tmpdir, "absent", NULL);
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;

	g_assert_false(plugin_host_load_dir(host, dir, FALSE, &error));
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

/* ---- symbolic links and swapped files ------------------------------- */

static void
test_symlinked_plugin_refused(void)
{
	g_autofree char *dir = fresh_dir("symlinked");
	g_autofree char *good = install_module("good", dir, "a-good.so");
	g_autofree char *link = g_build_filename(dir, "b-link.so", NULL);
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(PluginHost) pass = plugin_host_new();
	g_autoptr(GError) error = NULL;
	const PluginInfo *info;

	g_assert_cmpint(symlink(good, link), ==, 0);
	error = refuse(host, link, FALSE);
	g_assert_cmpstr(error->message, ==,
			"it is a symbolic link; install the module file "
			"itself");
	assert_refused_cleanly(host, link, "symbolic link");
	/* In a directory pass: the module loads, the link beside it not. */
	load_pass(pass, dir);
	g_assert_cmpuint(plugin_host_list(pass)->len, ==, 2);
	info = plugin_host_list(pass)->pdata[1];
	g_assert_cmpstr(info->path, ==, link);
	g_assert_false(info->loaded);
	g_assert_true(((PluginInfo *)plugin_host_list(pass)->pdata[0])->loaded);
}

/* Renames another module (user_data) over `path` after the checks,
 * before the loading: what a racing attacker would do. */
static guint swaps;

static void
swap_hook(const char *path, gpointer user_data)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *base = g_path_get_basename(path);

	g_free(install_module(user_data, dir, base));
	swaps++;
}

/* The loader maps the file it checked: a module renamed over the path
 * between the checks and the loading is not what runs. */
static void
test_loads_what_was_checked(void)
{
	g_autofree char *dir = fresh_dir("swapped");
	g_autofree char *path = install_module("good", dir, "clinic.so");
	g_autofree char *now = NULL, *other = NULL;
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;
	const PluginInfo *info;

	swaps = 0;
	plugin_host_test_set_load_hook(swap_hook, (gpointer) "duplicate-kind");
	g_assert_true(plugin_host_load_file(host, path, FALSE, &error));
	plugin_host_test_set_load_hook(NULL, NULL);
	g_assert_no_error(error);
	g_assert_cmpuint(swaps, ==, 1);
	info = only_plugin(host);
	g_assert_cmpstr(info->id, ==, "loader-good");
	g_assert_nonnull(plugin_host_kind(host, "loader-visit"));
	g_assert_null(plugin_host_kind(host, "loader-dup-own"));
	/* The swap did happen: the path holds the other module now. */
	other = module_path("duplicate-kind");
	g_assert_true(g_file_get_contents(path, &now, NULL, NULL));
	{
		g_autofree char *expect = NULL;

		g_assert_true(g_file_get_contents(other, &expect, NULL, NULL));
		g_assert_cmpstr(now, ==, expect);
	}
}

/* ---- the system plugin directory itself ----------------------------- */

/* A pass over `dir` with the checks: the directory is refused as a
 * whole, with `reason`, and nothing is loaded from it. */
static void
assert_dir_refused(const char *dir, const char *reason)
{
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;
	const PluginInfo *info;

	g_assert_true(plugin_host_load_dir(host, dir, TRUE, &error));
	g_assert_no_error(error);
	info = only_plugin(host);
	g_assert_cmpstr(info->path, ==, dir);
	g_assert_false(info->loaded);
	if (!strstr(info->error, reason))
		g_error("expected '%s', got '%s'", reason, info->error);
	g_assert_null(plugin_host_kind(host, "loader-visit"));
	assert_check(host, dir);
}

static void
test_writable_dir_refused(void)
{
	g_autofree char *dir = NULL, *path = NULL;
	g_autoptr(PluginHost) host = plugin_host_new();

	if (getuid() != 0) {
		g_test_skip("needs root to make a root-owned directory");
		return;
	}
	dir = fresh_dir("writable-dir");
	path = install_module("good", dir, "good.so");
	g_assert_cmpint(chown(path, 0, 0), ==, 0);
	g_assert_cmpint(chmod(dir, 0777), ==, 0);
	assert_dir_refused(dir, "the plugin directory is writable by group "
				"or others (mode 0777); chmod go-w it");
	g_assert_cmpint(chmod(dir, 0775), ==, 0);
	assert_dir_refused(dir, "(mode 0775)");
	g_assert_cmpint(chown(dir, 65534, 0), ==, 0);
	g_assert_cmpint(chmod(dir, 0755), ==, 0);
	assert_dir_refused(dir, "the plugin directory is not owned by root "
				"(uid 65534)");
	/* Fixed: the next pass loads from it, and the refusal is gone. */
	g_assert_cmpint(chown(dir, 0, 0), ==, 0);
	g_assert_true(plugin_host_load_dir(host, dir, TRUE, NULL));
	g_assert_true(only_plugin(host)->loaded);
	g_assert_nonnull(plugin_host_kind(host, "loader-visit"));
}

static void
test_symlinked_dir_refused(void)
{
	g_autofree char *dir = fresh_dir("real-dir");
	g_autofree char *path = install_module("good", dir, "good.so");
	g_autofree char *link = g_build_filename(tmpdir, "linked-dir", NULL);
	g_autoptr(PluginHost) host = plugin_host_new();

	g_assert_cmpint(symlink(dir, link), ==, 0);
	assert_dir_refused(link, "the plugin directory is a symbolic link");
	/* Without the checks (--plugin-dir) it is followed. */
	load_pass(host, link);
	g_assert_true(only_plugin(host)->loaded);
}

/* ---- the test's own logging ----------------------------------------- */

/* Refusals are logged as warnings, which GTest makes fatal; the tests
 * check them through the errors and the list instead. */
static GLogWriterOutput
quiet_refusals(GLogLevelFlags level, const GLogField *fields,
	       gsize n_fields, gpointer user_data)
{
	for (gsize i = 0; i < n_fields; i++) {
		if (!g_str_equal(fields[i].key, "MESSAGE") ||
		    fields[i].length != -1)
			continue;
		if ((level & G_LOG_LEVEL_WARNING) &&
		    strstr(fields[i].value, " refused: "))
			return G_LOG_WRITER_HANDLED;
	}
	return g_log_writer_default(level, fields, n_fields, user_data);
}

static void
remove_tree(const char *dir)
{
	const char *argv[] = { "rm", "-rf", dir, NULL };

	g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
		     NULL, NULL, NULL, NULL, NULL);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	g_log_set_writer_func(quiet_refusals, NULL, NULL);
	tmpdir = g_dir_make_tmp("slotd-loader-XXXXXX", &error);
	g_assert_no_error(error);
	g_test_add_func("/plugin-loader/load/good-plugin-and-its-kinds",
			test_good_plugin_and_its_kinds);
	g_test_add_func("/plugin-loader/refuse/wrong-abi", test_wrong_abi);
	g_test_add_func("/plugin-loader/refuse/entry-point-not-exported",
			test_entry_point_not_exported);
	g_test_add_func("/plugin-loader/refuse/undefined-sdk-symbol",
			test_undefined_sdk_symbol);
	g_test_add_func("/plugin-loader/refuse/failing-setup-leaves-nothing",
			test_failing_setup_leaves_nothing);
	g_test_add_func("/plugin-loader/refuse/kind-another-plugin-has",
			test_kind_another_plugin_has);
	g_test_add_func("/plugin-loader/register/same-kind-twice",
			test_same_kind_twice_in_one_plugin);
	g_test_add_func("/plugin-loader/register/builtin-kind-is-taken",
			test_builtin_kind_is_taken);
	g_test_add_func("/plugin-loader/register/kind-without-configure",
			test_kind_without_configure);
	g_test_add_func("/plugin-loader/register/same-id-twice",
			test_same_id_twice);
	g_test_add_func("/plugin-loader/register/short-descriptor",
			test_short_descriptor);
	g_test_add_func("/plugin-loader/system-dir/not-owned-by-root",
			test_not_owned_by_root);
	g_test_add_func("/plugin-loader/system-dir/writable-by-others",
			test_writable_by_others);
	g_test_add_func("/plugin-loader/developer-dir/unchecked",
			test_developer_dir_unchecked);
	g_test_add_func("/plugin-loader/path/relative-refused",
			test_relative_path);
	g_test_add_func("/plugin-loader/dir/fixed-plugin-loads-on-next-pass",
			test_fixed_plugin_loads_on_next_pass);
	g_test_add_func("/plugin-loader/dir/new-broken-plugin-fails-each-pass",
			test_new_broken_plugin_fails_each_pass);
	g_test_add_func("/plugin-loader/dir/unreadable", test_unreadable_dir);
	g_test_add_func("/plugin-loader/path/symlinked-plugin-refused",
			test_symlinked_plugin_refused);
	g_test_add_func("/plugin-loader/fd/loads-what-was-checked",
			test_loads_what_was_checked);
	g_test_add_func("/plugin-loader/system-dir/writable-dir-refused",
			test_writable_dir_refused);
	g_test_add_func("/plugin-loader/system-dir/symlinked-dir-refused",
			test_symlinked_dir_refused);
	status = g_test_run();
	if (!g_getenv("SLOTD_KEEP_TMP"))
		remove_tree(tmpdir);
	g_free(tmpdir);
	return status;
}
