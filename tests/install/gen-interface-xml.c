/* Writes (or checks) the interface XML kept in daemon/dbus/ and the
 * "Returned by" lines of docs/errors.md from the daemon's own method
 * tables and error table, so the documents cannot drift from the code.
 *
 *   gen-interface-xml SOURCE_ROOT          rewrite the files
 *   gen-interface-xml --check SOURCE_ROOT  exit 1 if any differs
 *
 * It links the daemon's interface objects, not a copy of the tables. */
#include <stdio.h>
#include <string.h>

#include "daemon.h"

static const BusInterface *const interfaces[] = {
	&scheduler_interface, &planner_interface, &admin_interface,
	&notifications_interface, NULL
};

static const char *const role_names[] = { "read", "book", "admin", "planner",
					  "gateway" };

/* "org.slotd.Scheduler1" -> "Scheduler1" */
static const char *
short_name(const BusInterface *interface)
{
	return strrchr(interface->name, '.') + 1;
}

static const BusErrorName *
find_error(const char *name)
{
	guint n;
	const BusErrorName *table = bus_error_names(&n);

	for (guint i = 0; i < n; i++)
		if (g_str_equal(table[i].name, name))
			return &table[i];
	return NULL;
}

static const char *
role_name(BusRole role)
{
	for (guint i = 0; i < G_N_ELEMENTS(role_names); i++)
		if (role == (BusRole)(1 << i))
			return role_names[i];
	return "none";
}

static void
append_doc(GString *xml, const char *doc)
{
	g_autofree char *escaped = NULL;

	if (!doc || !*doc)
		return;
	escaped = g_markup_escape_text(doc, -1);
	g_string_append_printf(xml, "      <annotation name=\"org.gtk.GDBus."
			       "DocString\" value=\"%s\"/>\n", escaped);
}

/* One <arg> per complete type of `signature`, named from `names`. */
static void
append_args(GString *xml, const char *signature, const char *names,
	    const char *direction)
{
	g_autofree char *tuple = g_strdup_printf("(%s)", signature);
	g_auto(GStrv) split = g_strsplit(names ? names : "", ",", -1);
	const GVariantType *type;
	guint i = 0;

	if (!signature || !*signature)
		return;
	for (type = g_variant_type_first(G_VARIANT_TYPE(tuple)); type;
	     type = g_variant_type_next(type), i++) {
		g_autofree char *code = g_variant_type_dup_string(type);
		g_autofree char *name = NULL;

		name = split[i] && *g_strstrip(split[i])
			       ? g_strdup(split[i])
			       : g_strdup_printf("arg%u", i);
		g_string_append_printf(xml, "      <arg type=\"%s\" "
				       "name=\"%s\"", code, name);
		if (direction)
			g_string_append_printf(xml, " direction=\"%s\"",
					       direction);
		g_string_append(xml, "/>\n");
	}
}

static gboolean
append_errors(GString *xml, const BusInterface *interface,
	      const BusMethod *m)
{
	g_autoptr(GString) names = g_string_new(NULL);

	for (const char *const *e = m->errors; e && *e; e++) {
		const BusErrorName *entry = find_error(*e);

		if (!entry) {
			g_printerr("%s.%s lists %s, which the error table of "
				   "daemon/bus-object.c does not have\n",
				   interface->name, m->name, *e);
			return FALSE;
		}
		g_string_append_printf(names, "%s%s", names->len ? " " : "",
				       *e);
	}
	g_string_append_printf(xml, "      <annotation name=\"org.slotd."
			       "Errors\" value=\"%s\"/>\n", names->str);
	for (const char *const *e = m->errors; e && *e; e++) {
		const char *summary = find_error(*e)->summary;

		/* A comment may hold any text but "--". */
		g_assert(!strstr(summary, "--"));
		g_string_append_printf(xml, "      <!-- %s: %s -->\n", *e,
				       summary);
	}
	return TRUE;
}

static const char file_head[] =
	"<!DOCTYPE node PUBLIC "
	"\"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
	" \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n"
	"<!--\n"
	"  %s, served by slotd as org.slotd.Slotd1 at /org/slotd/Slotd1.\n"
	"\n"
	"  Generated from the daemon's method and error tables by\n"
	"  tests/install/gen-interface-xml.c; the interface-xml and\n"
	"  introspection tests fail when this file and the daemon differ.\n"
	"  After changing a table: ninja -C BUILD &&\n"
	"  BUILD/tests/gen-interface-xml .\n"
	"\n"
	"  org.slotd.Role is the role a caller needs (read, book, admin;\n"
	"  see slotd.conf(5) [access]); org.slotd.Errors lists the errors\n"
	"  a method may return, explained in docs/errors.md.\n"
	"-->\n"
	"<node>\n";

/* NULL (and a message on stderr) when a method lists an error the
 * error table does not have. */
static char *
interface_xml(const BusInterface *interface)
{
	g_autoptr(GString) xml = g_string_new(NULL);

	g_string_append_printf(xml, file_head, interface->name);
	g_string_append_printf(xml, "  <interface name=\"%s\">\n",
			       interface->name);
	for (const BusMethod *m = interface->methods; m && m->name; m++) {
		g_string_append_printf(xml, "    <method name=\"%s\">\n",
				       m->name);
		append_doc(xml, m->doc);
		g_string_append_printf(xml, "      <annotation name=\"org."
				       "slotd.Role\" value=\"%s\"/>\n",
				       role_name(m->role));
		if (!append_errors(xml, interface, m))
			return NULL;
		append_args(xml, m->in_signature, m->in_names, "in");
		append_args(xml, m->out_signature, m->out_names, "out");
		g_string_append(xml, "    </method>\n");
	}
	for (const BusSignal *s = interface->signals; s && s->name; s++) {
		g_string_append_printf(xml, "    <signal name=\"%s\">\n",
				       s->name);
		append_doc(xml, s->doc);
		append_args(xml, s->signature, s->arg_names, NULL);
		g_string_append(xml, "    </signal>\n");
	}
	g_string_append(xml, "  </interface>\n</node>\n");
	return g_string_free(g_steal_pointer(&xml), FALSE);
}

/* "Returned by: `Scheduler1.Hold`, `Admin1.Backup`." for one error. */
static char *
returned_by_line(const char *error_name)
{
	g_autoptr(GString) line = g_string_new("Returned by: ");
	guint n = 0;

	for (guint i = 0; interfaces[i]; i++) {
		const BusInterface *iface = interfaces[i];

		for (const BusMethod *m = iface->methods; m && m->name; m++)
			for (const char *const *e = m->errors; e && *e; e++)
				if (g_str_equal(*e, error_name))
					g_string_append_printf(
						line, "%s`%s.%s`",
						n++ ? ", " : "",
						short_name(iface), m->name);
	}
	if (n == 0)
		g_string_append(line, "no method lists it (see above)");
	g_string_append_c(line, '.');
	return g_string_free(g_steal_pointer(&line), FALSE);
}

/* Rewrites each "Returned by:" line under a "## `NAME`" heading;
 * FALSE if a table error has no section. */
static gboolean
update_errors_md(const char *text, char **ret_text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree char *current = NULL;
	gboolean complete = TRUE;
	guint n;
	const BusErrorName *table = bus_error_names(&n);

	for (guint i = 0; lines[i]; i++) {
		if (g_str_has_prefix(lines[i], "## `")) {
			g_free(current);
			current = g_strndup(lines[i] + 4,
					    strcspn(lines[i] + 4, "`"));
		}
		if (current && g_str_has_prefix(lines[i], "Returned by:")) {
			g_autofree char *line = returned_by_line(current);

			g_string_append(out, line);
		} else {
			g_string_append(out, lines[i]);
		}
		if (lines[i + 1])
			g_string_append_c(out, '\n');
	}
	for (guint i = 0; i < n; i++) {
		g_autofree char *heading = g_strdup_printf("## `%s`",
							   table[i].name);

		if (!strstr(text, heading)) {
			g_printerr("docs/errors.md has no section %s\n",
				   heading);
			complete = FALSE;
		}
	}
	*ret_text = g_string_free(g_steal_pointer(&out), FALSE);
	return complete;
}

/* Compares or writes one generated file; FALSE on a difference or an
 * error. */
static gboolean
sync_file(const char *path, const char *wanted, gboolean check)
{
	g_autofree char *have = NULL;
	g_autoptr(GError) error = NULL;

	if (g_file_get_contents(path, &have, NULL, NULL) &&
	    g_str_equal(have, wanted))
		return TRUE;
	if (check) {
		g_printerr("%s differs from the daemon's tables; regenerate "
			   "it with tests/gen-interface-xml SOURCE_ROOT\n",
			   path);
		return FALSE;
	}
	if (!g_file_set_contents(path, wanted, -1, &error)) {
		g_printerr("%s\n", error->message);
		return FALSE;
	}
	printf("wrote %s\n", path);
	return TRUE;
}

static gboolean
sync_errors_md(const char *root, gboolean check)
{
	g_autofree char *path = g_build_filename(root, "docs", "errors.md",
						 NULL);
	g_autofree char *text = NULL;
	g_autofree char *updated = NULL;
	gboolean complete;

	if (!g_file_get_contents(path, &text, NULL, NULL)) {
		g_printerr("cannot read %s\n", path);
		return FALSE;
	}
	complete = update_errors_md(text, &updated);
	return sync_file(path, updated, check) && complete;
}

int
main(int argc, char **argv)
{
	gboolean check = argc == 3 && g_str_equal(argv[1], "--check");
	const char *root = argv[argc - 1];
	gboolean ok = TRUE;

	if (argc != 2 && !check) {
		g_printerr("usage: %s [--check] SOURCE_ROOT\n", argv[0]);
		return 2;
	}
	for (guint i = 0; interfaces[i]; i++) {
		g_autofree char *name = g_strdup_printf(
			"%s.xml", interfaces[i]->name);
		g_autofree char *path = g_build_filename(root, "daemon", "dbus",
							 name, NULL);
		g_autofree char *xml = interface_xml(interfaces[i]);

		ok = (xml && sync_file(path, xml, check)) && ok;
	}
	ok = sync_errors_md(root, check) && ok;
	return ok ? 0 : 1;
}
