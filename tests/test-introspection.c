/* The interface XML kept in daemon/dbus/ (and installed to the D-Bus
 * interfaces directory) describes exactly what the running daemon
 * answers to Introspect: the same methods with the same argument names,
 * signatures and directions, and the same signals. Both sides are parsed
 * with GDBusNodeInfo and reduced to one line per member. */
#include <signal.h>
#include <string.h>

#include "harness.h"

static Harness h;
static GDBusNodeInfo *runtime;

static const char *const interface_names[] = {
	"org.slotd.Scheduler1", "org.slotd.Planner1", "org.slotd.Admin1",
	"org.slotd.Notifications1",
};

static GDBusNodeInfo *
parse_xml(const char *xml, const char *what)
{
	g_autoptr(GError) error = NULL;
	GDBusNodeInfo *node = g_dbus_node_info_new_for_xml(xml, &error);

	if (!node)
		g_error("%s is not introspection XML: %s", what,
			error->message);
	return node;
}

static GDBusNodeInfo *
repository_node(const char *interface)
{
	g_autofree char *name = g_strdup_printf("%s.xml", interface);
	g_autofree char *path = g_build_filename(harness_source_root(),
						 "daemon", "dbus", name, NULL);
	g_autofree char *xml = NULL;
	g_autoptr(GError) error = NULL;

	g_file_get_contents(path, &xml, NULL, &error);
	g_assert_no_error(error);
	return parse_xml(xml, path);
}

static void
append_args(GString *line, GDBusArgInfo **args, const char *direction)
{
	for (guint i = 0; args && args[i]; i++)
		g_string_append_printf(line, "%s%s%s %s",
				       line->str[line->len - 1] == '(' ? ""
								      : ", ",
				       direction, args[i]->signature,
				       args[i]->name);
}

static gint
compare_lines(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "method Hold(in s slot, in u seconds, out s hold)" per member,
 * sorted, one per line: a difference shows as a readable diff. */
static char *
describe(const GDBusInterfaceInfo *info)
{
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	GString *all = g_string_new(NULL);

	for (guint i = 0; info->methods && info->methods[i]; i++) {
		GDBusMethodInfo *m = info->methods[i];
		GString *line = g_string_new(NULL);

		g_string_append_printf(line, "method %s(", m->name);
		append_args(line, m->in_args, "in ");
		append_args(line, m->out_args, "out ");
		g_string_append_c(line, ')');
		g_ptr_array_add(lines, g_string_free(line, FALSE));
	}
	for (guint i = 0; info->signals && info->signals[i]; i++) {
		GDBusSignalInfo *s = info->signals[i];
		GString *line = g_string_new(NULL);

		g_string_append_printf(line, "signal %s(", s->name);
		append_args(line, s->args, "");
		g_string_append_c(line, ')');
		g_ptr_array_add(lines, g_string_free(line, FALSE));
	}
	for (guint i = 0; info->properties && info->properties[i]; i++)
		g_ptr_array_add(lines, g_strdup_printf(
			"property %s %s", info->properties[i]->name,
			info->properties[i]->signature));
	g_ptr_array_sort(lines, compare_lines);
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(all, "%s\n", (char *)lines->pdata[i]);
	return g_string_free(all, FALSE);
}

static void
test_interface_matches(gconstpointer data)
{
	const char *name = data;
	g_autoptr(GDBusNodeInfo) repo = repository_node(name);
	GDBusInterfaceInfo *want = g_dbus_node_info_lookup_interface(repo,
								     name);
	GDBusInterfaceInfo *have =
		g_dbus_node_info_lookup_interface(runtime, name);
	g_autofree char *want_text = NULL;
	g_autofree char *have_text = NULL;

	g_assert_nonnull(want);
	g_assert_nonnull(have);
	want_text = describe(want);
	have_text = describe(have);
	g_assert_cmpstr(want_text, ==, have_text);
}

/* The standard tool sees what GDBus saw, and the first interface has
 * members to compare (an empty table would make the test vacuous). */
static void
test_gdbus_tool_agrees(void)
{
	const char *argv[] = {
		"gdbus", "introspect", "--session", "--dest",
		"org.slotd.Slotd1", "--object-path", "/org/slotd/Slotd1",
		"--xml", NULL
	};
	g_autofree char *out = NULL;
	g_autoptr(GDBusNodeInfo) node = NULL;
	g_autoptr(GDBusNodeInfo) repo = repository_node(interface_names[0]);
	g_autofree char *want = NULL;
	g_autofree char *have = NULL;

	g_assert_cmpint(harness_run(&h, &out, NULL, argv), ==, 0);
	node = parse_xml(out, "gdbus introspect --xml");
	want = describe(g_dbus_node_info_lookup_interface(
		repo, interface_names[0]));
	have = describe(g_dbus_node_info_lookup_interface(
		node, interface_names[0]));
	g_assert_cmpstr(want, ==, have);
	g_assert_nonnull(strstr(want, "method Book(in s slot, in s "
				"client_ref, in a{sv} options, out s "
				"booking)\n"));
	g_assert_nonnull(strstr(want, "signal BookingChanged(s booking, "
				"s status)\n"));
}

/* Every org.slotd interface the daemon serves has its file. */
static void
test_no_undocumented_interface(void)
{
	guint ours = 0;

	for (guint i = 0; runtime->interfaces[i]; i++) {
		const char *name = runtime->interfaces[i]->name;

		if (!g_str_has_prefix(name, "org.slotd."))
			continue;
		ours++;
		g_assert_true(g_strv_contains(
			(const char *const[]){ interface_names[0],
					       interface_names[1],
					       interface_names[2],
					       interface_names[3], NULL },
			name));
	}
	g_assert_cmpuint(ours, ==, G_N_ELEMENTS(interface_names));
}

/* Each error a method lists (annotation org.slotd.Errors) is explained
 * in docs/errors.md, and every method lists at least AccessDenied. */
static void
test_errors_are_documented(void)
{
	g_autofree char *path = g_build_filename(harness_source_root(), "docs",
						 "errors.md", NULL);
	g_autofree char *doc = NULL;
	guint methods = 0;

	g_assert_true(g_file_get_contents(path, &doc, NULL, NULL));
	for (guint n = 0; n < G_N_ELEMENTS(interface_names); n++) {
		g_autoptr(GDBusNodeInfo) repo =
			repository_node(interface_names[n]);
		GDBusInterfaceInfo *info = repo->interfaces[0];

		for (guint i = 0; info->methods && info->methods[i]; i++) {
			const char *list = g_dbus_annotation_info_lookup(
				info->methods[i]->annotations,
				"org.slotd.Errors");
			g_auto(GStrv) names = NULL;

			g_assert_nonnull(list);
			names = g_strsplit(list, " ", -1);
			g_assert_true(g_strv_contains(
				(const char *const *)names,
				"org.freedesktop.DBus.Error.AccessDenied"));
			for (guint e = 0; names[e]; e++) {
				g_autofree char *heading = g_strdup_printf(
					"## `%s`", names[e]);

				if (!strstr(doc, heading))
					g_error("%s.%s: %s has no section in "
						"docs/errors.md",
						info->name,
						info->methods[i]->name,
						names[e]);
			}
			methods++;
		}
	}
	g_assert_cmpuint(methods, >=, 15);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	const char *xml;
	int status;

	g_test_init(&argc, &argv, NULL);
	harness_init(&h);
	h.horizon_days = 7;
	harness_start_slotd(&h, NULL);
	reply = g_dbus_connection_call_sync(
		h.conn, "org.slotd.Slotd1", "/org/slotd/Slotd1",
		"org.freedesktop.DBus.Introspectable", "Introspect", NULL,
		G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL,
		&error);
	g_assert_no_error(error);
	g_variant_get(reply, "(&s)", &xml);
	runtime = parse_xml(xml, "the daemon's Introspect reply");
	g_test_add_data_func("/introspection/scheduler/matches-repository",
			     interface_names[0], test_interface_matches);
	g_test_add_data_func("/introspection/planner/matches-repository",
			     interface_names[1], test_interface_matches);
	g_test_add_data_func("/introspection/admin/matches-repository",
			     interface_names[2], test_interface_matches);
	g_test_add_data_func("/introspection/notifications/matches-repository",
			     interface_names[3], test_interface_matches);
	g_test_add_func("/introspection/gdbus-tool/sees-the-same",
			test_gdbus_tool_agrees);
	g_test_add_func("/introspection/object/no-undocumented-interface",
			test_no_undocumented_interface);
	g_test_add_func("/introspection/xml/errors-are-documented",
			test_errors_are_documented);
	status = g_test_run();
	g_dbus_node_info_unref(runtime);
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
	return status;
}
