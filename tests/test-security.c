/* Security checks as tests, on the real daemon and on the sources:
 *
 * - a caller that has left the bus before slotd looks at its call is
 *   refused, and nothing of the call is done;
 * - SQL only with bound parameters: a static check of daemon/store*.c
 *   (and a check of the check on planted mistakes);
 * - no client reference, cancel reason or feed token in slotd's log,
 *   with --debug on, also after serving feeds over HTTP;
 * - feed tokens are stored hashed, work over HTTP until revoked and
 *   not after;
 * - the audit log holds exactly one row per change, none for a refused
 *   or repeated call, and no method nor raw SQL can alter it.
 *
 * Roles per method and the bus policy are tests/test-access.c. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define SNA "needs-assessment-west"
#define SCHEDULER "org.slotd.Scheduler1"

static Harness h;
static char *stdout_log;	/* slotd's stdout (info and debug) */

/* ---- helpers -------------------------------------------------------- */

static char *
sql(const char *query)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	const char *argv[] = { "sqlite3", db, query, NULL };
	char *out = NULL;

	g_assert_cmpint(harness_run(&h, &out, NULL, argv), ==, 0);
	return g_strstrip(out);
}

static GVariant *
no_options(void)
{
	return g_variant_new("a{sv}", NULL);
}

/* The n-th free W-SNA-LV slot (Lohja area, three seats). */
static char *
free_slot(guint n)
{
	GVariantDict d;
	g_autoptr(GVariant) slots = NULL;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	g_variant_dict_insert(&d, "limit", "u", 200);
	slots = harness_find(&h, SNA, g_variant_dict_end(&d));
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id, *unit;
		guint free;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, &unit,
				    NULL, NULL, &free, NULL);
		if (g_str_equal(unit, "W-SNA-LV") && free == 3 && n-- == 0)
			return g_strdup(id);
	}
	g_error("not enough free W-SNA-LV slots");
	return NULL;
}

static char *
book(const char *slot, const char *client_ref)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(
		&h, SCHEDULER, "Book",
		g_variant_new("(ss@a{sv})", slot, client_ref, no_options()),
		"(s)", &error);
	char *id;

	g_assert_no_error(error);
	g_variant_get(r, "(s)", &id);
	return id;
}

static void
call_ok(const char *iface, const char *method, GVariant *args,
	const char *type)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, iface, method, args, type,
					     &error);

	g_assert_no_error(error);
}

static void
call_fails(const char *iface, const char *method, GVariant *args,
	   const char *error_name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, iface, method, args, NULL,
					     &error);

	g_assert_null(r);
	harness_assert_dbus_error(error, error_name);
}

static gboolean
admin_has(const char *method)
{
	g_autoptr(GVariant) r = harness_call(
		&h, "org.freedesktop.DBus.Introspectable", "Introspect", NULL,
		"(s)", NULL);
	const char *xml;
	g_autofree char *needle = g_strdup_printf("name=\"%s\"", method);

	g_variant_get(r, "(&s)", &xml);
	return strstr(xml, needle) != NULL;
}

/* ---- SQL only with bound parameters ---------------------------------- */

/* The text without comments (string literals kept). */
static char *
strip_comments(const char *text)
{
	GString *out = g_string_new(NULL);

	for (const char *p = text; *p; p++) {
		if (p[0] == '"') {
			const char *q = p + 1;

			while (*q && *q != '"')
				q += q[0] == '\\' && q[1] ? 2 : 1;
			g_string_append_len(out, p, q - p + (*q ? 1 : 0));
			p = *q ? q : q - 1;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");

			p = end ? end + 1 : p + strlen(p) - 1;
			g_string_append_c(out, ' ');
		} else if (p[0] == '/' && p[1] == '/') {
			while (p[1] && p[1] != '\n')
				p++;
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

/* The arguments of the call whose '(' is at `open`, split at commas
 * outside parentheses and strings. */
static GPtrArray *
call_args(const char *open)
{
	GPtrArray *args = g_ptr_array_new_with_free_func(g_free);
	const char *start = open + 1, *p = open + 1;
	int depth = 0;

	for (; *p; p++) {
		if (*p == '"') {
			for (p++; *p && *p != '"'; p += p[0] == '\\' ? 2 : 1)
				;
		} else if (*p == '(' || *p == '[') {
			depth++;
		} else if ((*p == ')' || *p == ']') && depth > 0) {
			depth--;
		} else if ((*p == ',' && depth == 0) || *p == ')') {
			g_ptr_array_add(args, g_strstrip(
				g_strndup(start, p - start)));
			if (*p == ')')
				break;
			start = p + 1;
		}
	}
	return args;
}

static gboolean
matches(const char *pattern, const char *text)
{
	return g_regex_match_simple(pattern, text, G_REGEX_DOTALL, 0);
}

/* Adjacent literals and upper-case macros of literals. */
#define LITERAL "(\\s*(\"([^\"\\\\]|\\\\.)*\"|[A-Z][A-Z0-9_]*))+\\s*"
/* A statement table entry or a static statement text. */
#define TABLE                                                          \
	"\\s*(\\w+_sql\\s*\\[[^]]*\\]|migrations\\s*\\[[^]]*\\]|"         \
	"\\w+_sql)\\s*"

/* A printf format with no text conversion: numbers only. */
static gboolean
numbers_only_printf(const char *expr)
{
	g_autoptr(GMatchInfo) m = NULL;
	g_autoptr(GRegex) re = g_regex_new(
		"^\\s*g_strdup_printf\\s*\\(\\s*(\"[^\"]*\")", G_REGEX_DOTALL,
		0, NULL);
	g_autofree char *format = NULL;

	if (!g_regex_match(re, expr, 0, &m))
		return FALSE;
	format = g_match_info_fetch(m, 1);
	return !matches("%[-+ #0-9.*lhzj]*[sqQcp]", format);
}

/* Where SQL text may come from: a literal, a statement table, a
 * ternary of those, or a printf of numbers. */
static gboolean
sql_source_ok(const char *expr)
{
	return matches("^(" LITERAL "|" TABLE ")$", expr) ||
	       matches("^[^?]*\\?(" LITERAL "|" TABLE "):(" LITERAL "|"
		       TABLE ")$", expr) ||
	       numbers_only_printf(expr);
}

/* An identifier handed to SQLite: every value it is given in the file
 * must be a good source (or it is a `sql` parameter, checked at the
 * callers of its function). */
static void
check_variable(const char *file, const char *text, const char *name,
	       GPtrArray *problems)
{
	g_autofree char *pattern = g_strdup_printf(
		"[^=!<>]\\b%s\\s*=(?!=)\\s*([^;]+);", name);
	g_autoptr(GRegex) re = g_regex_new(pattern, G_REGEX_DOTALL, 0, NULL);
	g_autoptr(GMatchInfo) m = NULL;

	/* A parameter other than `sql` is text from anywhere. */
	if (!g_regex_match(re, text, 0, &m) && !g_str_equal(name, "sql"))
		g_ptr_array_add(problems, g_strdup_printf(
			"%s: SQL from '%s', which is never given a "
			"statement", file, name));
	while (g_match_info_matches(m)) {
		g_autofree char *rhs = g_match_info_fetch(m, 1);

		if (!sql_source_ok(rhs))
			g_ptr_array_add(problems, g_strdup_printf(
				"%s: SQL in '%s' comes from: %.80s", file,
				name, rhs));
		g_match_info_next(m, NULL);
	}
}

static void
check_argument(const char *file, const char *text, const char *what,
	       const char *arg, GPtrArray *problems)
{
	if (sql_source_ok(arg))
		return;
	if (matches("^[a-z_][a-z0-9_]*$", arg)) {
		check_variable(file, text, arg, problems);
		return;
	}
	g_ptr_array_add(problems, g_strdup_printf("%s: %s gets SQL from %.80s",
						  file, what, arg));
}

/* Calls of `function` whose argument `index` carries SQL. */
static void
check_calls(const char *file, const char *text, const char *function,
	    guint index, GPtrArray *problems)
{
	g_autofree char *pattern = g_strdup_printf("\\b%s\\s*\\(", function);
	g_autoptr(GRegex) re = g_regex_new(pattern, 0, 0, NULL);
	g_autoptr(GMatchInfo) m = NULL;

	g_regex_match(re, text, 0, &m);
	while (g_match_info_matches(m)) {
		gint start, end;
		g_autoptr(GPtrArray) args = NULL;

		g_match_info_fetch_pos(m, 0, &start, &end);
		args = call_args(text + end - 1);
		/* A declaration or definition names types, not values. */
		if (args->len > index &&
		    !matches("^(const\\s+)?(char|sqlite3|Store)\\b",
			     args->pdata[0]))
			check_argument(file, text, function,
				       args->pdata[index], problems);
		g_match_info_next(m, NULL);
	}
}

/* Functions of the file that pass a `const char *sql` parameter on:
 * their callers are checked as if they called SQLite. */
static void
check_sql_helpers(const char *file, const char *text, GPtrArray *problems)
{
	g_autoptr(GRegex) re = g_regex_new(
		"\\n(\\w+)\\s*\\(([^)]*)\\)\\s*\\n\\{", 0, 0, NULL);
	g_autoptr(GMatchInfo) m = NULL;

	g_regex_match(re, text, 0, &m);
	while (g_match_info_matches(m)) {
		g_autofree char *name = g_match_info_fetch(m, 1);
		g_autofree char *params = g_match_info_fetch(m, 2);
		g_auto(GStrv) list = g_strsplit(params, ",", -1);

		for (guint i = 0; list[i]; i++)
			if (matches("const\\s+char\\s*\\*\\s*sql\\s*$",
				    list[i]))
				check_calls(file, text, name, i, problems);
		g_match_info_next(m, NULL);
	}
}

/* printf-built SQL with text conversions: the injection shape. */
static void
check_printf_sql(const char *file, const char *text, GPtrArray *problems)
{
	g_autoptr(GRegex) re = g_regex_new(
		"\\b(\\w*printf)\\s*\\([^;\"]*(\"[^;]*?\")\\s*[,)]",
		G_REGEX_DOTALL, 0, NULL);
	g_autoptr(GMatchInfo) m = NULL;

	g_regex_match(re, text, 0, &m);
	while (g_match_info_matches(m)) {
		g_autofree char *format = g_match_info_fetch(m, 2);

		if (matches("(?i)\\b(select|insert|update|delete|pragma|create"
			    "|drop|where|values)\\b",
			    format) &&
		    matches("%[-+ #0-9.*lhzj]*[sqQ]", format))
			g_ptr_array_add(problems, g_strdup_printf(
				"%s: SQL built with printf: %.80s", file,
				format));
		g_match_info_next(m, NULL);
	}
}

static void
check_sql_source(const char *file, const char *raw, GPtrArray *problems)
{
	g_autofree char *text = strip_comments(raw);
	static const char *const sqlite_calls[] = {
		"sqlite3_prepare", "sqlite3_prepare_v2", "sqlite3_prepare_v3",
		"sqlite3_exec"
	};

	for (guint i = 0; i < G_N_ELEMENTS(sqlite_calls); i++)
		check_calls(file, text, sqlite_calls[i], 1, problems);
	check_sql_helpers(file, text, problems);
	check_printf_sql(file, text, problems);
	if (matches("sqlite3_(mprintf|vmprintf|snprintf)", text))
		g_ptr_array_add(problems, g_strdup_printf(
			"%s: uses sqlite3_mprintf and kin", file));
}

/* The check itself must find what it is there to find. */
static void
test_sql_check_finds_planted_mistakes(void)
{
	static const char planted[] =
		"static Query\nfind(Store *store, const char *unit)\n{\n"
		"\tg_autofree char *q = g_strdup_printf(\"SELECT * FROM "
		"booking WHERE unit = '%s'\", unit);\n"
		"\tsqlite3_prepare_v2(store->db, q, -1, &s, NULL);\n"
		"\tsqlite3_exec(store->db, user_text, NULL, NULL, NULL);\n"
		"\tsqlite3_prepare_v2(store->db, \"SELECT 1\", -1, &s, "
		"NULL);\n}\n";
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);

	check_sql_source("planted.c", planted, problems);
	for (guint i = 0; i < problems->len; i++)
		g_test_message("%s", (char *)problems->pdata[i]);
	/* q from printf %s (twice: the variable and the printf), and
	 * user_text; the literal passes. */
	g_assert_cmpuint(problems->len, ==, 3);
}

static void
test_sql_only_bound_parameters(void)
{
	g_autofree char *dir = g_build_filename(harness_source_root(),
						"daemon", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	guint checked = 0;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *text = NULL;

		if (!g_str_has_suffix(name, ".c") &&
		    !g_str_has_suffix(name, ".h"))
			continue;
		g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
		if (!g_str_has_prefix(name, "store")) {
			/* The boundary: nobody else talks to SQLite. */
			if (strstr(text, "sqlite3.h"))
				g_ptr_array_add(problems, g_strdup_printf(
					"%s includes sqlite3.h", name));
			continue;
		}
		check_sql_source(name, text, problems);
		checked++;
	}
	for (guint i = 0; i < problems->len; i++)
		g_printerr("%s\n", (char *)problems->pdata[i]);
	g_assert_cmpuint(checked, >=, 2);
	g_assert_cmpuint(problems->len, ==, 0);
}

/* ---- a caller that left --------------------------------------------- */

static GDBusConnection *
connect_client(void)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *c = g_dbus_connection_new_for_address_sync(
		h.address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);

	g_assert_no_error(error);
	return c;
}

static gboolean
has_owner(const char *name)
{
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
		h.conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", "NameHasOwner",
		g_variant_new("(s)", name), G_VARIANT_TYPE("(b)"),
		G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	gboolean owned = TRUE;

	g_variant_get(r, "(b)", &owned);
	return owned;
}

/* A change from a caller slotd has not seen yet: its credentials are
 * asked after those of every call before it, and the bus answers in
 * order, so its answer comes after theirs are settled. */
static void
barrier(void)
{
	g_autoptr(GDBusConnection) c = connect_client();
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
		c, "org.slotd.Slotd1", "/org/slotd/Slotd1", SCHEDULER,
		"Cancel", g_variant_new("(ss)", "b-999999", ""), NULL,
		G_DBUS_CALL_FLAGS_NONE, 60000, NULL, &error);

	harness_assert_dbus_error(error, "org.slotd.Error.NoSuchBooking");
}

/* slotd is stopped while a client sends Book (and leaves, or stays);
 * then slotd goes on. */
static void
book_while_stopped(const char *slot, const char *client_ref,
		   gboolean leave)
{
	GPid pid = (GPid)g_ascii_strtoll(g_subprocess_get_identifier(h.slotd),
					 NULL, 10);
	g_autoptr(GDBusConnection) client = connect_client();
	g_autofree char *name = g_strdup(
		g_dbus_connection_get_unique_name(client));
	g_autoptr(GDBusMessage) m = g_dbus_message_new_method_call(
		"org.slotd.Slotd1", "/org/slotd/Slotd1", SCHEDULER, "Book");

	g_dbus_message_set_body(m, g_variant_new("(ss@a{sv})", slot,
						 client_ref, no_options()));
	g_assert_cmpint(kill(pid, SIGSTOP), ==, 0);
	g_assert_true(g_dbus_connection_send_message(
		client, m, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL, NULL));
	g_assert_true(g_dbus_connection_flush_sync(client, NULL, NULL));
	if (leave) {
		g_assert_true(g_dbus_connection_close_sync(client, NULL,
							   NULL));
		for (guint i = 0; i < 200 && has_owner(name); i++)
			g_usleep(10000);
		g_assert_false(has_owner(name));
	}
	g_assert_cmpint(kill(pid, SIGCONT), ==, 0);
	barrier();
}

/* The caller's credentials cannot be had once it has left: refused,
 * no booking and no audit row. The same call from a caller that stays
 * is booked, so the call did reach slotd. */
static void
test_vanished_caller_is_refused(void)
{
	g_autofree char *slot = free_slot(0);
	g_autofree char *count = NULL, *audit_before = NULL, *audit = NULL;

	audit_before = sql("SELECT count(*) FROM audit;");
	book_while_stopped(slot, "vanished-caller-1", TRUE);
	count = sql("SELECT count(*) FROM booking WHERE client_ref = "
		    "'vanished-caller-1';");
	g_assert_cmpstr(count, ==, "0");
	audit = sql("SELECT count(*) FROM audit;");
	g_assert_cmpstr(audit, ==, audit_before);
	book_while_stopped(slot, "present-caller-1", FALSE);
	g_free(count);
	count = sql("SELECT count(*) FROM booking WHERE client_ref = "
		    "'present-caller-1';");
	g_assert_cmpstr(count, ==, "1");
}

/* ---- the feed server -------------------------------------------------- */

static char *
http_address(void)
{
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1",
					     "GetHttpAddress", NULL, "(s)",
					     NULL);
	char *address = NULL;

	if (r)
		g_variant_get(r, "(s)", &address);
	return address;
}

/* A plain HTTP/1.0 GET; the status code and the body. */
static char *
http_get(const char *path, guint *ret_status)
{
	g_autofree char *address = http_address();
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketConnection) c = NULL;
	g_autofree char *request = g_strdup_printf(
		"GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path);
	g_autoptr(GError) error = NULL;
	GString *answer = g_string_new(NULL);
	char buffer[4096];
	gssize n;

	g_assert_true(address && *address);
	c = g_socket_client_connect_to_host(client, address, 0, NULL, &error);
	g_assert_no_error(error);
	g_output_stream_write_all(
		g_io_stream_get_output_stream(G_IO_STREAM(c)), request,
		strlen(request), NULL, NULL, &error);
	g_assert_no_error(error);
	while ((n = g_input_stream_read(
			g_io_stream_get_input_stream(G_IO_STREAM(c)), buffer,
			sizeof(buffer), NULL, &error)) > 0)
		g_string_append_len(answer, buffer, n);
	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(answer->str, "HTTP/1."));
	*ret_status = (guint)g_ascii_strtoull(answer->str + 9, NULL, 10);
	return g_string_free(answer, FALSE);
}

/* ---- the log -------------------------------------------------------- */

static char *
whole_log(void)
{
	g_autofree char *err = NULL, *out = NULL;

	g_file_get_contents(h.log_path, &err, NULL, NULL);
	g_file_get_contents(stdout_log, &out, NULL, NULL);
	return g_strconcat(err ? err : "", out ? out : "", NULL);
}

static void
assert_not_in_log(const char *log, const char *secret)
{
	if (strstr(log, secret))
		g_error("slotd's log contains '%s'", secret);
}

/* Every call that carries a client reference, a reason or a token, and
 * the refusals of bad ones, with --debug on: none of them in the log. */
static void
test_no_client_ref_or_token_in_log(void)
{
	g_autofree char *s1 = free_slot(1), *s2 = free_slot(2);
	g_autofree char *a = book(s1, "zq7-ref-alpha-51");
	g_autofree char *b = book(s2, "zq7-ref-beta-52");
	g_autofree char *to = free_slot(3);
	g_autofree char *log = NULL, *token = NULL;
	GVariantDict d;

	call_ok(SCHEDULER, "Cancel",
		g_variant_new("(ss)", a, "zq7-reason-of-cancel"), "()");
	call_ok(SCHEDULER, "Reschedule", g_variant_new("(ss)", b, to), "(s)");
	call_ok(SCHEDULER, "GetBooking", g_variant_new("(s)", b), "(a{sv})");
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "client-ref", "s", "zq7-ref-beta-52");
	call_ok(SCHEDULER, "ListBookings",
		g_variant_new("(@a{sv})", g_variant_dict_end(&d)),
		"(a(sssxxs))");
	/* A personal identity code is refused, and not written down. */
	call_fails(SCHEDULER, "Book",
		   g_variant_new("(ss@a{sv})", to, "131052-308T",
				 no_options()),
		   "org.slotd.Error.InvalidClientRef");
	call_fails(SCHEDULER, "Book",
		   g_variant_new("(ss@a{sv})", "s-999999", "zq7-ref-gamma-53",
				 no_options()),
		   "org.slotd.Error.NoSuchSlot");
	if (admin_has("IssueFeedToken")) {
		g_autoptr(GVariant) r = harness_call(
			&h, "org.slotd.Admin1", "IssueFeedToken",
			g_variant_new("(ss)", "W-SNA-LV", ""), "(ss)", NULL);

		g_autofree char *feed = NULL, *wrong = NULL, *path = NULL;
		guint status;

		g_assert_nonnull(r);
		g_variant_get(r, "(ss)", &token, NULL);
		/* The feed carries the reference; the log of serving it
		 * must carry neither it nor the token, right or wrong. */
		path = g_strdup_printf("/feeds/%s/W-SNA-LV.ics", token);
		feed = http_get(path, &status);
		g_assert_cmpuint(status, ==, 200);
		g_assert_nonnull(strstr(feed, "zq7-ref-beta-52"));
		wrong = http_get("/feeds/zq7aaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"
				 "W-SNA-LV.ics", &status);
		g_assert_cmpuint(status, ==, 404);
	}
	log = whole_log();
	g_assert_nonnull(strstr(log, a)); /* the log is the right one */
	assert_not_in_log(log, "zq7-");
	assert_not_in_log(log, "131052-308T");
	if (token)
		assert_not_in_log(log, token);
	else
		g_test_message("no Admin1.IssueFeedToken yet: tokens not "
			       "checked");
}

/* ---- feed tokens ---------------------------------------------------- */

static gboolean
file_contains(const char *path, const char *needle)
{
	g_autofree char *bytes = NULL;
	gsize length = 0;

	if (!g_file_get_contents(path, &bytes, &length, NULL))
		return FALSE;
	return g_strstr_len(bytes, (gssize)length, needle) != NULL;
}

static void
test_feed_tokens_hashed_and_revoked(void)
{
	g_autoptr(GVariant) r = NULL;
	g_autofree char *token = NULL, *db = NULL, *wal = NULL, *path = NULL;
	guint status;

	if (!admin_has("IssueFeedToken")) {
		g_test_skip("no Admin1.IssueFeedToken in this build yet");
		return;
	}
	r = harness_call(&h, "org.slotd.Admin1", "IssueFeedToken",
			 g_variant_new("(ss)", "W-SNA-LV", SNA), "(ss)", NULL);
	g_assert_nonnull(r);
	g_variant_get(r, "(ss)", &token, NULL);
	/* At least 128 random bits: 32 base32 characters carry 160. */
	g_assert_cmpuint(strlen(token), >=, 26);
	db = g_build_filename(h.state_dir, "slotd.db", NULL);
	wal = g_build_filename(h.state_dir, "slotd.db-wal", NULL);
	g_assert_false(file_contains(db, token));
	g_assert_false(file_contains(wal, token));
	path = g_strdup_printf("/feeds/%s/W-SNA-LV/%s.ics", token, SNA);
	g_free(http_get(path, &status));
	g_assert_cmpuint(status, ==, 200);
	call_ok("org.slotd.Admin1", "RevokeFeedToken",
		g_variant_new("(s)", token), "()");
	g_free(http_get(path, &status));
	g_assert_cmpuint(status, ==, 404);
	call_fails("org.slotd.Admin1", "RevokeFeedToken",
		   g_variant_new("(s)", token), "org.slotd.Error.NoSuchToken");
}

/* ---- the audit log -------------------------------------------------- */

static guint
audit_count(const char *where)
{
	g_autofree char *q = g_strdup_printf(
		"SELECT count(*) FROM audit WHERE %s;", where);
	g_autofree char *n = sql(q);

	return (guint)g_ascii_strtoull(n, NULL, 10);
}

/* 4 books, 2 cancels (one repeated), 1 reschedule, 1 status, 2 holds,
 * and refusals: exactly 10 rows, the right ones. */
static void
test_audit_one_row_per_change(void)
{
	guint before = audit_count("1");
	g_autofree char *s0 = free_slot(4), *s1 = free_slot(5);
	g_autofree char *b1 = book(s0, "audit-1"), *b2 = book(s0, "audit-2");
	g_autofree char *b3 = book(s1, "audit-3"), *b4 = book(s1, "audit-4");
	g_autofree char *where = NULL;

	call_ok(SCHEDULER, "Cancel", g_variant_new("(ss)", b1, "r"), "()");
	call_ok(SCHEDULER, "Cancel", g_variant_new("(ss)", b2, "r"), "()");
	/* A repeated cancel changes nothing and writes nothing. */
	call_ok(SCHEDULER, "Cancel", g_variant_new("(ss)", b2, "r"), "()");
	call_ok(SCHEDULER, "Reschedule", g_variant_new("(ss)", b3, s0), "(s)");
	call_ok(SCHEDULER, "SetStatus",
		g_variant_new("(ss)", b4, "entered-in-error"), "()");
	call_ok(SCHEDULER, "Hold", g_variant_new("(su)", s1, 60), "(s)");
	call_ok(SCHEDULER, "Hold", g_variant_new("(su)", s1, 60), "(s)");
	/* Refused: an unknown booking, a cancelled one arriving, a
	 * personal identity code for a client reference. */
	call_fails(SCHEDULER, "Cancel", g_variant_new("(ss)", "b-999999", ""),
		   "org.slotd.Error.NoSuchBooking");
	call_fails(SCHEDULER, "SetStatus",
		   g_variant_new("(ss)", b1, "arrived"),
		   "org.slotd.Error.Conflict");
	call_fails(SCHEDULER, "Book",
		   g_variant_new("(ss@a{sv})", s1, "131052-308T",
				 no_options()),
		   "org.slotd.Error.InvalidClientRef");
	g_assert_cmpuint(audit_count("1"), ==, before + 10);
	where = g_strdup_printf("booking IN (%s, %s, %s, %s) AND "
				"action = 'book'",
				b1 + 2, b2 + 2, b3 + 2, b4 + 2);
	g_assert_cmpuint(audit_count(where), ==, 4);
	g_free(where);
	where = g_strdup_printf("booking IN (%s, %s) AND action = 'cancel'",
				b1 + 2, b2 + 2);
	g_assert_cmpuint(audit_count(where), ==, 2);
	g_free(where);
	where = g_strdup_printf("booking = %s AND action = 'reschedule'",
				b3 + 2);
	g_assert_cmpuint(audit_count(where), ==, 1);
	g_free(where);
	where = g_strdup_printf("booking = %s AND action = 'status'", b4 + 2);
	g_assert_cmpuint(audit_count(where), ==, 1);
	g_free(where);
	where = g_strdup_printf("action = 'hold' AND id > %u", before);
	g_assert_cmpuint(audit_count(where), ==, 2);
	/* The caller is written down: our connection, our uid. */
	g_free(where);
	where = g_strdup_printf("id > %u AND caller = '%s' AND uid = %u",
				before,
				g_dbus_connection_get_unique_name(h.conn),
				(guint)getuid());
	g_assert_cmpuint(audit_count(where), ==, 10);
}

/* A change whose audit row cannot be written must not happen: a
 * trigger makes the audit insert fail for this client's changes. */
static void
test_no_change_without_its_audit_row(void)
{
	g_autofree char *slot = free_slot(7), *to = free_slot(8);
	g_autofree char *moved = book(slot, "audit-fail-1");
	g_autofree char *booked_before = NULL, *booked_after = NULL;
	g_autofree char *q = g_strdup_printf(
		"SELECT booked || '/' || held FROM slot WHERE id IN (%s, %s) "
		"ORDER BY id;", slot + 2, to + 2);
	g_autofree char *n = NULL, *where = NULL;
	guint before = audit_count("1");
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	g_free(sql("CREATE TRIGGER test_audit_fails BEFORE INSERT ON audit "
		   "WHEN NEW.action IN ('book', 'hold', 'reschedule') "
		   "BEGIN SELECT RAISE(ABORT, 'test: audit refused'); END;"));
	booked_before = sql(q);
	r = harness_call(&h, SCHEDULER, "Book",
			 g_variant_new("(ss@a{sv})", to, "audit-fail-2",
				       no_options()),
			 "(s)", &error);
	g_assert_null(r);
	g_clear_error(&error);
	r = harness_call(&h, SCHEDULER, "Hold", g_variant_new("(su)", to, 60),
			 "(s)", &error);
	g_assert_null(r);
	g_clear_error(&error);
	r = harness_call(&h, SCHEDULER, "Reschedule",
			 g_variant_new("(ss)", moved, to), "(s)", &error);
	g_assert_null(r);
	g_clear_error(&error);
	g_free(sql("DROP TRIGGER test_audit_fails;"));
	booked_after = sql(q);
	g_assert_cmpstr(booked_after, ==, booked_before);
	n = sql("SELECT count(*) FROM booking WHERE client_ref = "
		"'audit-fail-2';");
	g_assert_cmpstr(n, ==, "0");
	g_free(n);
	where = g_strdup_printf("SELECT slot FROM booking WHERE id = %s;",
				moved + 2);
	n = sql(where);
	g_assert_cmpstr(n, ==, slot + 2);
	g_assert_cmpuint(audit_count("1"), ==, before);
}

static char *
audit_snapshot(guint up_to)
{
	g_autofree char *q = g_strdup_printf(
		"SELECT group_concat(id || '|' || at || '|' || uid || '|' || "
		"caller || '|' || action || '|' || coalesce(booking, '') || "
		"'|' || coalesce(detail, ''), ';') FROM audit WHERE id <= %u;",
		up_to);

	return sql(q);
}

/* No method rewrites history, and the table refuses raw SQL too. */
static void
test_audit_cannot_be_altered(void)
{
	guint rows = audit_count("1");
	g_autofree char *before = audit_snapshot(rows), *after = NULL;
	g_autofree char *backup = g_build_filename(h.tmpdir, "audit.db", NULL);
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	g_autofree char *slot = free_slot(6);
	g_autofree char *b = book(slot, "audit-5");
	const char *update[] = { "sqlite3", db,
				 "UPDATE audit SET action = 'x';", NULL };
	const char *delete[] = { "sqlite3", db, "DELETE FROM audit;", NULL };
	g_autofree char *err = NULL;

	g_assert_cmpuint(rows, >, 0);
	call_ok(SCHEDULER, "Cancel", g_variant_new("(ss)", b, "x"), "()");
	call_ok(SCHEDULER, "SetStatus",
		g_variant_new("(ss)", b, "entered-in-error"), "()");
	call_ok("org.slotd.Admin1", "Reload", NULL, "()");
	call_ok("org.slotd.Admin1", "Backup", g_variant_new("(s)", backup),
		"()");
	after = audit_snapshot(rows);
	g_assert_cmpstr(after, ==, before);
	g_assert_cmpint(harness_run(&h, NULL, &err, update), !=, 0);
	g_assert_nonnull(strstr(err, "append-only"));
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_run(&h, NULL, &err, delete), !=, 0);
	g_assert_nonnull(strstr(err, "append-only"));
	g_clear_pointer(&after, g_free);
	after = audit_snapshot(rows);
	g_assert_cmpstr(after, ==, before);
}

/* slotd's stdout (debug and info lines) goes to a file of its own. */
static void
start_with_stdout_captured(void)
{
	int saved = dup(STDOUT_FILENO);
	int fd;

	stdout_log = g_build_filename(h.tmpdir, "slotd.stdout", NULL);
	fd = open(stdout_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	g_assert_cmpint(fd, >=, 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	harness_start_slotd(&h, NULL);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(fd);
	close(saved);
}

int
main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	harness_init(&h);
	h.horizon_days = 21;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	/* The feed server too, on a free port of the loopback. */
	{
		g_autofree char *entry = harness_copy_example(&h);

		harness_set_key(entry, "daemon", "http-address", "127.0.0.1:0");
	}
	start_with_stdout_captured();
	g_test_add_func("/security/sql/check-finds-planted-mistakes",
			test_sql_check_finds_planted_mistakes);
	g_test_add_func("/security/sql/only-bound-parameters",
			test_sql_only_bound_parameters);
	g_test_add_func("/security/caller/vanished-is-refused",
			test_vanished_caller_is_refused);
	g_test_add_func("/security/log/no-client-ref-reason-or-token",
			test_no_client_ref_or_token_in_log);
	g_test_add_func("/security/feed-token/hashed-and-revoked",
			test_feed_tokens_hashed_and_revoked);
	g_test_add_func("/security/audit/one-row-per-change",
			test_audit_one_row_per_change);
	g_test_add_func("/security/audit/no-change-without-its-row",
			test_no_change_without_its_audit_row);
	g_test_add_func("/security/audit/cannot-be-altered",
			test_audit_cannot_be_altered);
	status = g_test_run();
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
	g_free(stdout_log);
	return status;
}
