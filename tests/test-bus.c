/* The bus layer against a real, private dbus-daemon: a test object
 * served by bus.c/bus-object.c on the test's main loop, called from a
 * GDBus client and from the standard tools (gdbus, dbus-send, busctl). */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "bus-private.h"
#include <slotd/plugin.h>

/* The daemon gets this from the core library; this test links the bus
 * layer alone. */
G_DEFINE_QUARK(slotd-error-quark, slotd_error)

#define TEST_NAME "org.slotd.Test"
#define TEST_PATH "/org/slotd/Test1"
#define TEST_IFACE "org.slotd.Test1"
#define WAIT_SECONDS 10

/* ---- a private dbus-daemon ------------------------------------------- */

typedef struct {
	GPid pid;
	char *dir;
	char *address;
} TestDaemon;

static const char daemon_config[] =
	"<!DOCTYPE busconfig PUBLIC "
	"\"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" "
	"\"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	"<busconfig>\n"
	"  <type>session</type>\n"
	"  <listen>unix:dir=%s</listen>\n"
	"  <auth>EXTERNAL</auth>\n"
	"  <policy context=\"default\">\n"
	"    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
	"    <allow eavesdrop=\"true\"/>\n"
	"    <allow own=\"*\"/>\n"
	"  </policy>\n"
	"</busconfig>\n";

static char *
read_line(int fd)
{
	GString *line = g_string_new(NULL);
	char c;

	for (;;) {
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			break;
		g_string_append_c(line, c);
	}
	return g_string_free(line, FALSE);
}

/* A test that aborts must not leave its bus behind. */
static void
die_with_parent(gpointer data)
{
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts dbus-daemon on a socket in a fresh temporary directory and
 * returns once it listens (it prints its address then). */
static TestDaemon *
test_daemon_start(void)
{
	g_autoptr(GError) error = NULL;
	TestDaemon *daemon = g_new0(TestDaemon, 1);
	g_autofree char *config = NULL;
	g_autofree char *text = NULL;
	g_autofree char *arg = NULL;
	int out = -1;

	daemon->dir = g_dir_make_tmp("slotd-test-bus-XXXXXX", &error);
	g_assert_no_error(error);
	config = g_build_filename(daemon->dir, "bus.conf", NULL);
	text = g_strdup_printf(daemon_config, daemon->dir);
	g_file_set_contents(config, text, -1, &error);
	g_assert_no_error(error);
	arg = g_strdup_printf("--config-file=%s", config);
	g_spawn_async_with_pipes(NULL,
				 (char *[]){ "dbus-daemon", arg, "--nofork",
					     "--print-address", NULL },
				 NULL,
				 G_SPAWN_SEARCH_PATH |
					 G_SPAWN_DO_NOT_REAP_CHILD |
					 G_SPAWN_STDERR_TO_DEV_NULL,
				 die_with_parent, NULL, &daemon->pid, NULL,
				 &out, NULL,
				 &error);
	g_assert_no_error(error);
	daemon->address = read_line(out);
	close(out);
	g_assert_true(g_str_has_prefix(daemon->address, "unix:"));
	return daemon;
}

static void
test_daemon_kill(TestDaemon *daemon)
{
	if (daemon->pid <= 0)
		return;
	kill(daemon->pid, SIGTERM);
	waitpid(daemon->pid, NULL, 0);
	g_spawn_close_pid(daemon->pid);
	daemon->pid = 0;
}

static void
test_daemon_stop(TestDaemon *daemon)
{
	g_autoptr(GDir) dir = NULL;
	const char *entry;

	test_daemon_kill(daemon);
	dir = g_dir_open(daemon->dir, 0, NULL);
	while (dir && (entry = g_dir_read_name(dir))) {
		g_autofree char *path = g_build_filename(daemon->dir, entry,
							 NULL);
		g_unlink(path);
	}
	g_rmdir(daemon->dir);
	g_free(daemon->dir);
	g_free(daemon->address);
	g_free(daemon);
}

static TestDaemon *shared_daemon;

/* ---- expected log messages ------------------------------------------- */

/* The bus layer logs criticals and warnings for programming errors and
 * lost connections; a test that provokes one says so first, and any
 * other stays fatal. */
static GLogLevelFlags expected_level;
static const char *expected_text;
static guint expected_seen;

static void
expect_log(GLogLevelFlags level, const char *text)
{
	expected_level = level;
	expected_text = text;
	expected_seen = 0;
}

static GLogWriterOutput
test_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
		gpointer user_data)
{
	for (gsize i = 0; expected_text && i < n; i++) {
		if (!(level & expected_level) ||
		    !g_str_equal(fields[i].key, "MESSAGE") ||
		    !strstr(fields[i].value, expected_text))
			continue;
		expected_seen++;
		return G_LOG_WRITER_HANDLED;
	}
	return g_log_writer_default(level, fields, n, user_data);
}

/* ---- waiting on the loop --------------------------------------------- */

static gboolean
tick(gpointer data)
{
	return G_SOURCE_CONTINUE;
}

/* Iterates the default context until `cond`; the tick keeps an
 * iteration from blocking for good. */
#define WAIT_UNTIL(cond)                                                      \
	do {                                                                  \
		gint64 end_ = g_get_monotonic_time() +                        \
			      WAIT_SECONDS * G_USEC_PER_SEC;                  \
		while (!(cond)) {                                             \
			g_assert_cmpint(g_get_monotonic_time(), <, end_);     \
			g_main_context_iteration(NULL, TRUE);                 \
		}                                                             \
	} while (0)

/* ---- the test object ------------------------------------------------- */

typedef struct {
	Bus *bus;
	GDBusConnection *client;
	guint protected_runs; /* handlers behind a role that ran */
	guint32 last_uid;
} Fixture;

typedef struct {
	BusCall *call;
	guint32 value;
} Deferred;

static void
on_echo(BusCall *call, GVariant *args, gpointer user_data)
{
	bus_call_return(call, args);
}

static void
on_fail(BusCall *call, GVariant *args, gpointer user_data)
{
	g_autoptr(GError) error = g_error_new_literal(
		SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL,
		"Slot 42 is full; pick another");

	bus_call_return_error(call, error);
}

static void
on_fail_other(BusCall *call, GVariant *args, gpointer user_data)
{
	g_autoptr(GError) error = g_error_new(G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
					      "/var/lib/slotd/secret.db gone");

	bus_call_return_error(call, error);
}

static gboolean
deferred_answer(gpointer data)
{
	Deferred *deferred = data;

	bus_call_return(deferred->call,
			g_variant_new("(u)", deferred->value));
	g_free(deferred);
	return G_SOURCE_REMOVE;
}

static void
on_deferred(BusCall *call, GVariant *args, gpointer user_data)
{
	Deferred *deferred = g_new0(Deferred, 1);

	deferred->call = call;
	g_variant_get(args, "(u)", &deferred->value);
	g_timeout_add(deferred->value, deferred_answer, deferred);
}

static void
on_protected(BusCall *call, GVariant *args, gpointer user_data)
{
	Fixture *fixture = user_data;

	fixture->protected_runs++;
	fixture->last_uid = bus_call_uid(call);
	g_assert_cmpstr(bus_call_sender(call), !=, NULL);
	bus_call_return(call, g_variant_new("(u)", bus_call_uid(call)));
}

static void
on_bad_reply(BusCall *call, GVariant *args, gpointer user_data)
{
	bus_call_return(call, g_variant_new("(u)", 7));
}

static const BusMethod test_methods[] = {
	{ "Echo", "s", "text", "s", "text", on_echo, BUS_ROLE_NONE, NULL,
	  "Answers with its argument & nothing else" },
	{ "EchoStructs", "a(sxxi)", "rows", "a(sxxi)", "rows", on_echo },
	{ "Dict", "a{sv}", "dict", "a{sv}", "dict", on_echo },
	{ "Fail", "", NULL, "", NULL, on_fail },
	{ "FailOther", "", NULL, "", NULL, on_fail_other },
	{ "Deferred", "u", "milliseconds", "u", "milliseconds", on_deferred },
	{ "Admin", "", NULL, "u", "uid", on_protected, BUS_ROLE_ADMIN },
	{ "Book", "", NULL, "u", "uid", on_protected, BUS_ROLE_BOOK },
	{ "BadReply", "", NULL, "s", "text", on_bad_reply },
	{ NULL }
};

static const BusSignal test_signals[] = {
	{ "Changed", "s", "what", "Something changed" },
	{ NULL }
};

static const BusInterface test_interface = {
	TEST_IFACE, test_methods, test_signals
};

static const BusInterface *const test_interfaces[] = { &test_interface, NULL };

/* Everybody may read and book; nobody is an administrator. */
static BusRole
test_roles(guint32 uid, const guint32 *gids, guint n_gids, gpointer data)
{
	return BUS_ROLE_READ | BUS_ROLE_BOOK;
}

static void
fixture_setup(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	fixture->bus = bus_new(BUS_TYPE_ADDRESS, shared_daemon->address,
			       TEST_NAME, &error);
	g_assert_no_error(error);
	bus_set_role_func(fixture->bus, test_roles, NULL, NULL);
	bus_set_role_group(fixture->bus, BUS_ROLE_ADMIN, "slotd-admin");
	bus_register_object(fixture->bus, TEST_PATH, test_interfaces, fixture,
			    &error);
	g_assert_no_error(error);
	fixture->client = g_dbus_connection_new_for_address_sync(
		shared_daemon->address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
}

static void
fixture_teardown(Fixture *fixture, gconstpointer data)
{
	expect_log(0, NULL);
	g_dbus_connection_close_sync(fixture->client, NULL, NULL);
	g_object_unref(fixture->client);
	g_assert_cmpuint(bus_pending_calls(fixture->bus), ==, 0);
	bus_free(fixture->bus);
}

/* ---- calling it ------------------------------------------------------ */

typedef struct {
	gboolean done;
	GVariant *reply;
	GError *error;
} Result;

static void
on_call_done(GObject *source, GAsyncResult *async, gpointer data)
{
	Result *result = data;

	result->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source),
						      async, &result->error);
	result->done = TRUE;
}

/* A GDBus call answered by the server on this same loop. */
static GVariant *
call_on(GDBusConnection *client, const char *path, const char *iface,
	const char *method, GVariant *args, GError **error)
{
	Result result = { 0 };

	g_dbus_connection_call(client, TEST_NAME, path, iface, method, args,
			       NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL,
			       on_call_done, &result);
	WAIT_UNTIL(result.done);
	if (result.error)
		g_propagate_error(error, result.error);
	return result.reply;
}

static GVariant *
call(Fixture *fixture, const char *method, GVariant *args, GError **error)
{
	return call_on(fixture->client, TEST_PATH, TEST_IFACE, method, args,
		       error);
}

static void
assert_remote_error(GError *error, const char *name, const char *text)
{
	g_autofree char *remote = NULL;

	g_assert_nonnull(error);
	remote = g_dbus_error_get_remote_error(error);
	g_assert_cmpstr(remote, ==, name);
	if (text)
		g_assert_nonnull(strstr(error->message, text));
}

typedef struct {
	gboolean done;
	char *out;
	char *err;
} ToolResult;

static void
on_tool_done(GObject *source, GAsyncResult *async, gpointer data)
{
	ToolResult *result = data;
	g_autoptr(GError) error = NULL;

	g_subprocess_communicate_utf8_finish(G_SUBPROCESS(source), async,
					     &result->out, &result->err,
					     &error);
	g_assert_no_error(error);
	result->done = TRUE;
}

/* Runs a command line tool while the loop keeps serving; returns its
 * exit status. */
static int
run_tool(const char *const *argv, char **ret_out, char **ret_err)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) tool = NULL;
	ToolResult result = { 0 };

	tool = g_subprocess_newv(argv,
				 G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					 G_SUBPROCESS_FLAGS_STDERR_PIPE,
				 &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8_async(tool, NULL, NULL, on_tool_done,
					    &result);
	WAIT_UNTIL(result.done);
	*ret_out = result.out;
	if (ret_err)
		*ret_err = result.err;
	else
		g_free(result.err);
	return g_subprocess_get_exit_status(tool);
}

/* ---- round trips ----------------------------------------------------- */

static void
test_echo_gdbus(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	const char *text;

	reply = call(fixture, "Echo", g_variant_new("(s)", "Västra Nyland ✓"),
		     &error);
	g_assert_no_error(error);
	g_assert_cmpstr(g_variant_get_type_string(reply), ==, "(s)");
	g_variant_get(reply, "(&s)", &text);
	g_assert_cmpstr(text, ==, "Västra Nyland ✓");
}

static void
test_echo_structs(Fixture *fixture, gconstpointer data)
{
	const char *texts[] = {
		"(@a(sxxi) [],)",
		"(@a(sxxi) [('slot-1', 1767225600, 1767227400, 3), "
		"('', -9223372036854775808, 9223372036854775807, "
		"-2147483648)],)",
	};

	for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) args = g_variant_ref_sink(
			g_variant_new_parsed(texts[i]));
		g_autoptr(GVariant) reply = call(fixture, "EchoStructs",
						 args, &error);

		g_assert_no_error(error);
		g_assert_true(g_variant_equal(args, reply));
	}
}

static void
test_echo_dict(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) args = g_variant_ref_sink(g_variant_new_parsed(
		"({'municipality': <'444'>, 'limit': <uint32 5>, "
		"'from': <int64 -5>, 'ok': <true>, 'share': <0.25>, "
		"'bytes': <b'ab'>, 'path': <objectpath '/a/b'>, "
		"'sig': <signature 'a{sv}'>, 'small': <byte 0xff>, "
		"'n': <int16 -3>, 'q': <uint16 65535>, 't': <uint64 7>, "
		"'list': <['fi', 'sv']>, 'nested': <<<('x', @as [])>>>, "
		"'dict': <{'k': <@a{sv} {}>}>},)"));
	g_autoptr(GVariant) reply = call(fixture, "Dict", args,
					 &error);

	g_assert_no_error(error);
	g_assert_true(g_variant_equal(args, reply));
}

static void
test_echo_gdbus_tool(Fixture *fixture, gconstpointer data)
{
	g_autofree char *out = NULL;
	const char *argv[] = { "gdbus", "call", "--address",
			       shared_daemon->address, "--dest", TEST_NAME,
			       "--object-path", TEST_PATH, "--method",
			       TEST_IFACE ".Echo", "'Lojo'", NULL };

	g_assert_cmpint(run_tool(argv, &out, NULL), ==, 0);
	g_assert_cmpstr(out, ==, "('Lojo',)\n");
}

static void
test_echo_dbus_send(Fixture *fixture, gconstpointer data)
{
	g_autofree char *bus_arg = g_strdup_printf("--bus=%s",
						   shared_daemon->address);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *argv[] = { "dbus-send", bus_arg, "--print-reply",
			       "--dest=" TEST_NAME, TEST_PATH,
			       TEST_IFACE ".Echo", "string:Borgå", NULL };
	const char *wrong[] = { "dbus-send", bus_arg, "--print-reply",
				"--dest=" TEST_NAME, TEST_PATH,
				TEST_IFACE ".Echo", "uint32:7", NULL };

	g_assert_cmpint(run_tool(argv, &out, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "string \"Borgå\""));
	g_clear_pointer(&out, g_free);
	g_assert_cmpint(run_tool(wrong, &out, &err), !=, 0);
	g_assert_nonnull(strstr(err, "org.freedesktop.DBus.Error.InvalidArgs"));
	g_assert_nonnull(strstr(err, "expects arguments (s), got (u)"));
}

/* ---- errors ---------------------------------------------------------- */

static void
test_wrong_signature(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = call(fixture, "Echo",
					 g_variant_new("(u)", 7), &error);

	g_assert_null(reply);
	assert_remote_error(error, "org.freedesktop.DBus.Error.InvalidArgs",
			    "Echo expects arguments (s), got (u)");
}

static void
test_unknown_names(Fixture *fixture, gconstpointer data)
{
	static const struct {
		const char *path, *iface, *method, *error;
	} cases[] = {
		{ TEST_PATH, TEST_IFACE, "Nope",
		  "org.freedesktop.DBus.Error.UnknownMethod" },
		{ TEST_PATH, "org.slotd.Nope1", "Echo",
		  "org.freedesktop.DBus.Error.UnknownInterface" },
		{ "/org/slotd/Nope", TEST_IFACE, "Echo",
		  "org.freedesktop.DBus.Error.UnknownObject" },
		{ TEST_PATH, "org.freedesktop.DBus.Properties", "GetAll",
		  "org.freedesktop.DBus.Error.UnknownInterface" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = call_on(
			fixture->client, cases[i].path, cases[i].iface,
			cases[i].method, g_variant_new("(s)", "x"), &error);

		g_assert_null(reply);
		assert_remote_error(error, cases[i].error, NULL);
	}
}

static void
test_slot_full(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = call(fixture, "Fail", NULL, &error);

	g_assert_null(reply);
	assert_remote_error(error, "org.slotd.Error.SlotFull",
			    "Slot 42 is full; pick another");
}

static void
test_foreign_error(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	expect_log(G_LOG_LEVEL_WARNING, "FailOther failed");
	reply = call(fixture, "FailOther", NULL, &error);
	g_assert_cmpuint(expected_seen, ==, 1);
	g_assert_null(reply);
	assert_remote_error(error, "org.slotd.Error.Failed", NULL);
	g_assert_null(strstr(error->message, "secret"));
}

static void
test_error_names(void)
{
	static const char *const expected[] = {
		"org.slotd.Error.Failed",
		"org.freedesktop.DBus.Error.InvalidArgs",
		"org.freedesktop.DBus.Error.AccessDenied",
		"org.slotd.Error.NoSuchService",
		"org.slotd.Error.NoSuchUnit",
		"org.slotd.Error.NoSuchSlot",
		"org.slotd.Error.NoSuchBooking",
		"org.slotd.Error.NoSuchHold",
		"org.slotd.Error.SlotFull",
		"org.slotd.Error.InvalidClientRef",
		"org.slotd.Error.PolicyViolation",
		"org.slotd.Error.DeadlineUnreachable",
		"org.slotd.Error.Conflict",
		"org.slotd.Error.ServiceUnavailable",
		"org.slotd.Error.StorageUnavailable",
		"org.slotd.Error.InvalidConfig",
		"org.slotd.Error.NoSuchToken",
		"org.slotd.Error.NoSuchEntry",
		"org.slotd.Error.NoSuchPractitioner",
	};
	g_autoptr(GError) foreign = g_error_new_literal(G_IO_ERROR,
							G_IO_ERROR_FAILED, "x");
	const BusErrorName *table;
	guint n;

	table = bus_error_names(&n);
	g_assert_cmpuint(n, ==, G_N_ELEMENTS(expected));
	for (guint i = 0; i < n; i++) {
		g_autoptr(GError) error = g_error_new_literal(SLOTD_ERROR, i,
							      "x");

		g_assert_cmpint(table[i].code, ==, i);
		g_assert_cmpstr(table[i].name, ==, expected[i]);
		g_assert_cmpstr(bus_error_name(error), ==, expected[i]);
		g_assert_true(g_dbus_is_interface_name(table[i].name));
		g_assert_nonnull(table[i].summary);
	}
	g_assert_cmpstr(bus_error_name(foreign), ==, "org.slotd.Error.Failed");
}

/* ---- messages marshalled in one piece -------------------------------- */

/* The wire bytes of `message` numbered `serial`. */
static GBytes *
wire_bytes(DBusMessage *message, guint32 serial)
{
	char *data = NULL;
	int len = 0;
	GBytes *bytes;

	g_assert_cmpuint(dbus_message_get_serial(message), ==, 0);
	dbus_message_set_serial(message, serial);
	g_assert_true(dbus_message_marshal(message, &data, &len));
	bytes = g_bytes_new(data, (gsize)len);
	dbus_free(data);
	return bytes;
}

/* What libdbus builds, appending the arguments one by one. */
static DBusMessage *
appended(DBusMessage *message, GVariant *args)
{
	DBusMessageIter iter;

	dbus_message_iter_init_append(message, &iter);
	for (gsize i = 0; args && i < g_variant_n_children(args); i++) {
		g_autoptr(GVariant) child = g_variant_get_child_value(args, i);

		g_assert_true(bus_append_value(&iter, child, 0));
	}
	return message;
}

static void
test_wire_as_libdbus(void)
{
	static const char *const tuples[] = {
		"('remote-counselling', 'ESP-health', int64 1767261600,"
		" int64 1767265200)",
		"('b-1234567', 'booked')",
		"('', '')",
		"('w-7', 's-12', 'h-3', int64 -1)",
		"(byte 0xff, true, false, int16 -2, uint16 65535,"
		" int32 -7, uint32 7, int64 1, uint64 18446744073709551615,"
		" 0.25, objectpath '/org/slotd/Scheduler1', signature 'a{sv}',"
		" 'ääkköset')",
	};
	g_autoptr(DBusMessage) call = dbus_message_new_method_call(
		"org.slotd.Slotd1", "/org/slotd/Scheduler1",
		"org.slotd.Scheduler1", "Book");

	dbus_message_set_serial(call, 4242);
	g_assert_true(dbus_message_set_sender(call, ":1.42"));
	for (guint i = 0; i < G_N_ELEMENTS(tuples); i++) {
		g_autoptr(GVariant) args = g_variant_ref_sink(
			g_variant_new_parsed(tuples[i]));
		g_autoptr(DBusMessage) signal = bus_wire_signal(
			"/org/slotd/Scheduler1", "org.slotd.Scheduler1",
			"SlotsChanged", args);
		g_autoptr(DBusMessage) ret = bus_wire_return(call, args);
		g_autoptr(DBusMessage) signal_ref = appended(
			dbus_message_new_signal("/org/slotd/Scheduler1",
						"org.slotd.Scheduler1",
						"SlotsChanged"),
			args);
		g_autoptr(DBusMessage) ret_ref = appended(
			dbus_message_new_method_return(call), args);
		g_autoptr(GBytes) a = NULL, b = NULL, c = NULL, d = NULL;

		g_test_message("%s", tuples[i]);
		g_assert_nonnull(signal);
		g_assert_nonnull(ret);
		a = wire_bytes(signal, 9);
		b = wire_bytes(signal_ref, 9);
		c = wire_bytes(ret, 10);
		d = wire_bytes(ret_ref, 10);
		g_assert_true(g_bytes_equal(a, b));
		g_assert_true(g_bytes_equal(c, d));
	}
	{
		g_autoptr(GVariant) array = g_variant_ref_sink(
			g_variant_new_parsed("(['a', 'b'],)"));
		g_autoptr(GVariant) variant = g_variant_ref_sink(
			g_variant_new_parsed("(<1>, 2)"));
		g_autoptr(GVariant) one = g_variant_ref_sink(
			g_variant_new_parsed("('b-1',)"));

		/* Not basic, or one argument: appended the usual way. */
		g_assert_null(bus_wire_signal("/a", "a.b", "C", array));
		g_assert_null(bus_wire_return(call, variant));
		g_assert_null(bus_wire_return(call, one));
		g_assert_null(bus_wire_signal("/a", "a.b", "C", NULL));
	}
}

/* ---- whole bodies written value by value ---------------------------- */

/* A random type of the kinds replies are made of: strings, 32- and
 * 64-bit numbers, arrays (of strings, structs, dicts), structs, dicts
 * of variants and variants, nested up to `depth` deep. */
static void
random_type(GRand *r, GString *out, guint depth)
{
	static const char basics[] = "siux";
	guint pick = depth == 0 ? 0 : (guint)g_rand_int_range(r, 0, 9);

	switch (pick) {
	case 4:
		g_string_append_c(out, 'a');
		random_type(r, out, depth - 1);
		break;
	case 5:
	case 6: {
		guint n = (guint)g_rand_int_range(r, 1, 4);

		g_string_append_c(out, '(');
		for (guint i = 0; i < n; i++)
			random_type(r, out, depth - 1);
		g_string_append_c(out, ')');
		break;
	}
	case 7:
		g_string_append(out, "a{sv}");
		break;
	case 8:
		g_string_append_c(out, 'v');
		break;
	default:
		g_string_append_c(out, basics[g_rand_int_range(r, 0, 4)]);
		break;
	}
}

static GVariant *random_value(GRand *r, const GVariantType *type,
			      guint depth);

static char *
random_string(GRand *r)
{
	static const char *const pieces[] = {
		"", "a", "hh-loh-e1a", "Lojo", "ääkköset", "Vårdare ", "€",
		"{sv}", "0", "long text with spaces and more spaces",
	};
	GString *s = g_string_new(NULL);

	for (guint i = 0, n = (guint)g_rand_int_range(r, 0, 4); i < n; i++)
		g_string_append(s, pieces[g_rand_int_range(
					   r, 0, G_N_ELEMENTS(pieces))]);
	return g_string_free(s, FALSE);
}

static GVariant *
random_value(GRand *r, const GVariantType *type, guint depth)
{
	if (g_variant_type_equal(type, G_VARIANT_TYPE_STRING)) {
		g_autofree char *text = random_string(r);

		return g_variant_new_string(text);
	}
	if (g_variant_type_equal(type, G_VARIANT_TYPE_INT32))
		return g_variant_new_int32((gint32)g_rand_int(r));
	if (g_variant_type_equal(type, G_VARIANT_TYPE_UINT32))
		return g_variant_new_uint32(g_rand_int(r));
	if (g_variant_type_equal(type, G_VARIANT_TYPE_INT64))
		return g_variant_new_int64(
			(gint64)(((guint64)g_rand_int(r) << 32) | g_rand_int(r)));
	if (g_variant_type_equal(type, G_VARIANT_TYPE_VARIANT)) {
		g_autoptr(GString) inner = g_string_new(NULL);

		/* One level less inside: a variant may hold a dict of
		 * variants, and without this the chain had no end (a seed
		 * in CI nested past D-Bus's 32 levels). */
		random_type(r, inner, depth == 0 ? 0 : MIN(depth - 1, 2));
		return g_variant_new_variant(random_value(
			r, G_VARIANT_TYPE(inner->str), depth == 0 ? 0 : depth - 1));
	}
	if (g_variant_type_is_array(type)) {
		const GVariantType *element = g_variant_type_element(type);
		/* Empty arrays often: their padding is where writers slip. */
		guint n = g_rand_boolean(r) ? 0 : (guint)g_rand_int_range(r, 1, 6);
		GVariantBuilder b;

		g_variant_builder_init(&b, type);
		for (guint i = 0; i < n; i++)
			g_variant_builder_add_value(
				&b, random_value(r, element, depth));
		return g_variant_builder_end(&b);
	}
	if (g_variant_type_is_dict_entry(type))
		return g_variant_new_dict_entry(
			random_value(r, g_variant_type_key(type), depth),
			random_value(r, g_variant_type_value(type), depth));
	{
		GVariantBuilder b;

		g_assert_true(g_variant_type_is_tuple(type));
		g_variant_builder_init(&b, type);
		for (const GVariantType *t = g_variant_type_first(type); t;
		     t = g_variant_type_next(t))
			g_variant_builder_add_value(&b,
						    random_value(r, t, depth));
		return g_variant_builder_end(&b);
	}
}

/* The value through the wire writer, as BusWriter's users write. */
static void
wire_write(BusWireBody *w, GVariant *v)
{
	switch (g_variant_classify(v)) {
	case G_VARIANT_CLASS_STRING:
		bus_wire_string(w, g_variant_get_string(v, NULL));
		return;
	case G_VARIANT_CLASS_INT32:
		bus_wire_u32(w, (guint32)g_variant_get_int32(v));
		return;
	case G_VARIANT_CLASS_UINT32:
		bus_wire_u32(w, g_variant_get_uint32(v));
		return;
	case G_VARIANT_CLASS_INT64:
		bus_wire_u64(w, (guint64)g_variant_get_int64(v));
		return;
	case G_VARIANT_CLASS_VARIANT: {
		g_autoptr(GVariant) inner = g_variant_get_variant(v);

		bus_wire_open(w, 'v', g_variant_get_type_string(inner));
		wire_write(w, inner);
		bus_wire_close(w);
		return;
	}
	case G_VARIANT_CLASS_ARRAY:
		bus_wire_open(w, 'a', g_variant_get_type_string(v) + 1);
		break;
	case G_VARIANT_CLASS_TUPLE:
		bus_wire_open(w, 'r', NULL);
		break;
	case G_VARIANT_CLASS_DICT_ENTRY:
		bus_wire_open(w, 'e', NULL);
		break;
	default:
		g_assert_not_reached();
	}
	for (gsize i = 0; i < g_variant_n_children(v); i++) {
		g_autoptr(GVariant) child = g_variant_get_child_value(v, i);

		wire_write(w, child);
	}
	bus_wire_close(w);
}

static guint32
test_seed(void)
{
	const char *env = g_getenv("SLOTD_SEED");

	return env ? (guint32)g_ascii_strtoull(env, NULL, 10) : g_random_int();
}

/* A wire property test's start: its seed (printed), its generator and
 * the FindSlots call (with `serial`) whose return it writes. */
static DBusMessage *
wire_test_start(guint32 serial, guint32 *ret_seed, GRand **ret_rand)
{
	DBusMessage *call = dbus_message_new_method_call(
		"org.slotd.Slotd1", "/org/slotd/Slotd1",
		"org.slotd.Scheduler1", "FindSlots");

	*ret_seed = test_seed();
	*ret_rand = g_rand_new_with_seed(*ret_seed);
	g_test_message("seed %u (SLOTD_SEED=%u repeats it)", *ret_seed,
		       *ret_seed);
	dbus_message_set_serial(call, serial);
	return call;
}

/* For every generated body: the bytes written by the wire writer are
 * the bytes libdbus's own appending gives (bus_append_value goes
 * through DBusMessageIter), header included. SLOTD_SEED=N repeats a
 * run. */
static void
test_wire_body_as_libdbus(void)
{
	guint32 seed = 0;
	g_autoptr(GRand) r = NULL;
	g_autoptr(DBusMessage) call = wire_test_start(77, &seed, &r);

	g_assert_true(dbus_message_set_sender(call, ":1.7"));
	for (guint round = 0; round < 400; round++) {
		g_autoptr(GString) type = g_string_new("(");
		guint n = (guint)g_rand_int_range(r, 0, 4);
		g_autoptr(GVariant) args = NULL;
		g_autoptr(DBusMessage) ours = NULL, ref = NULL;
		g_autoptr(GBytes) a = NULL, b = NULL;
		g_auto(DBusError) error = DBUS_ERROR_INIT;
		BusWireBody w;

		for (guint i = 0; i < n; i++)
			random_type(r, type, 4);
		g_string_append_c(type, ')');
		args = g_variant_ref_sink(
			random_value(r, G_VARIANT_TYPE(type->str), 4));
		/* The body's signature: the tuple's without its brackets. */
		{
			g_autofree char *signature = g_strndup(
				type->str + 1, type->len - 2);

			bus_wire_body_init(&w, call, signature);
		}
		for (gsize i = 0; i < n; i++) {
			g_autoptr(GVariant) child =
				g_variant_get_child_value(args, i);

			wire_write(&w, child);
		}
		ours = bus_wire_body_finish(&w, &error);
		if (!ours) {
			g_autofree char *text = g_variant_print(args, TRUE);

			g_test_message("seed %u round %u: %s refused: %s",
				       seed, round, text, error.message);
		}
		g_assert_nonnull(ours);
		ref = appended(dbus_message_new_method_return(call), args);
		a = wire_bytes(ours, 5);
		b = wire_bytes(ref, 5);
		if (!g_bytes_equal(a, b)) {
			g_autofree char *text = g_variant_print(args, TRUE);

			g_test_message("seed %u round %u: %s differs", seed,
				       round, text);
		}
		g_assert_true(g_bytes_equal(a, b));
	}
}

/* Dict entries written once into a scratch body and put into a reply
 * (bus_wire_put) give the bytes of the same entries written in place,
 * after a string of any length (so at every alignment), for generated
 * entries and any split of them, none put included. SLOTD_SEED=N
 * repeats a run. */
static void
test_wire_put_as_written(void)
{
	guint32 seed = 0;
	g_autoptr(GRand) r = NULL;
	g_autoptr(DBusMessage) call = wire_test_start(11, &seed, &r);

	for (guint round = 0; round < 300; round++) {
		g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(
			(GDestroyNotify)g_variant_unref);
		g_autofree char *prefix = g_strnfill(
			(gsize)g_rand_int_range(r, 0, 20), 'p');
		guint n = (guint)g_rand_int_range(r, 0, 6);
		guint split = (guint)g_rand_int_range(r, 0, (gint32)n + 1);
		g_autoptr(DBusMessage) in_place = NULL, put = NULL;
		g_auto(DBusError) error = DBUS_ERROR_INIT;
		g_autoptr(GBytes) a = NULL, b = NULL, scratch_bytes = NULL;
		BusWireBody w, scratch;

		for (guint i = 0; i < n; i++) {
			g_autoptr(GString) type = g_string_new(NULL);
			g_autofree char *key = g_strdup_printf("k%u", i);
			GVariant *value;

			random_type(r, type, 3);
			value = random_value(r, G_VARIANT_TYPE(type->str), 3);
			g_ptr_array_add(entries, g_variant_ref_sink(
				g_variant_new_dict_entry(
					g_variant_new_string(key),
					g_variant_new_variant(value))));
		}
		bus_wire_body_init(&w, call, "sa{sv}");
		bus_wire_string(&w, prefix);
		bus_wire_open(&w, 'a', "{sv}");
		for (guint i = 0; i < n; i++)
			wire_write(&w, entries->pdata[i]);
		bus_wire_close(&w);
		in_place = bus_wire_body_finish(&w, &error);
		if (!in_place)
			g_test_message("seed %u round %u: %u entries, prefix "
				       "%zu: refused: %s", seed, round, n,
				       strlen(prefix), error.message);
		g_assert_nonnull(in_place);

		bus_wire_scratch_init(&scratch);
		for (guint i = split; i < n; i++)
			wire_write(&scratch, entries->pdata[i]);
		scratch_bytes = bus_wire_scratch_finish(&scratch);
		g_assert_nonnull(scratch_bytes);
		bus_wire_body_init(&w, call, "sa{sv}");
		bus_wire_string(&w, prefix);
		bus_wire_open(&w, 'a', "{sv}");
		for (guint i = 0; i < split; i++)
			wire_write(&w, entries->pdata[i]);
		bus_wire_put(&w, scratch_bytes);
		bus_wire_close(&w);
		put = bus_wire_body_finish(&w, &error);
		g_assert_nonnull(put);

		a = wire_bytes(in_place, 5);
		b = wire_bytes(put, 5);
		if (!g_bytes_equal(a, b))
			g_test_message("seed %u round %u: %u entries, %u "
				       "written in place, prefix %zu: differ",
				       seed, round, n, split, strlen(prefix));
		g_assert_true(g_bytes_equal(a, b));
	}
	{
		BusWireBody scratch;

		/* A container left open gives no bytes. */
		bus_wire_scratch_init(&scratch);
		bus_wire_open(&scratch, 'e', NULL);
		bus_wire_string(&scratch, "k");
		g_assert_null(bus_wire_scratch_finish(&scratch));
	}
}

/* What the demarshaller refuses comes back as NULL and an error, never
 * as a message: a value out of place, a container left open, a string
 * that is not UTF-8. */
static void
test_wire_body_refused(void)
{
	g_autoptr(DBusMessage) call = dbus_message_new_method_call(
		"org.slotd.Slotd1", "/org/slotd/Slotd1",
		"org.slotd.Scheduler1", "FindSlots");
	BusWireBody w;

	dbus_message_set_serial(call, 3);
	{
		g_auto(DBusError) error = DBUS_ERROR_INIT;

		bus_wire_body_init(&w, call, "as");
		bus_wire_open(&w, 'a', "s");
		bus_wire_u64(&w, 7);	/* not a string */
		bus_wire_close(&w);
		g_assert_null(bus_wire_body_finish(&w, &error));
		g_assert_true(dbus_error_is_set(&error));
	}
	{
		g_auto(DBusError) error = DBUS_ERROR_INIT;

		bus_wire_body_init(&w, call, "a(su)");
		bus_wire_open(&w, 'a', "(su)");
		bus_wire_open(&w, 'r', NULL);
		bus_wire_string(&w, "left open");
		g_assert_null(bus_wire_body_finish(&w, &error));
		g_assert_true(dbus_error_is_set(&error));
	}
	{
		g_auto(DBusError) error = DBUS_ERROR_INIT;

		bus_wire_body_init(&w, call, "s");
		bus_wire_string(&w, "\xff\xfe not text");
		g_assert_null(bus_wire_body_finish(&w, &error));
		g_assert_true(dbus_error_is_set(&error));
	}
	{
		g_auto(DBusError) error = DBUS_ERROR_INIT;

		bus_wire_body_init(&w, call, "s");
		bus_wire_close(&w);	/* nothing open */
		bus_wire_string(&w, "x");
		g_assert_null(bus_wire_body_finish(&w, &error));
		g_assert_true(dbus_error_is_set(&error));
	}
}

/* A reply kept and answered again to other calls is, byte for byte,
 * what libdbus builds for each of them, and so is the copy made for one
 * caller answering its next call; the kept one is not touched. */
static void
test_wire_return_again(void)
{
	g_autoptr(GVariant) args = g_variant_ref_sink(g_variant_new_parsed(
		"([('fixed', 'fixed', 'Palvelutarpeen arviointi'),"
		" ('walk-in', 'walk-in', 'Sosiaaliohjaus ääkkösin')],)"));
	const struct {
		const char *sender;
		guint32 serial;
	} calls[] = { { ":1.7", 77 }, { ":1.1234", 4242 }, { NULL, 9 },
		      { ":1.7", 78 } };
	g_autoptr(DBusMessage) first = NULL;
	g_autoptr(DBusMessage) kept = NULL;
	g_autoptr(GBytes) kept_before = NULL, kept_after = NULL;

	first = dbus_message_new_method_call("org.slotd.Slotd1",
					     "/org/slotd/Slotd1",
					     "org.slotd.Scheduler1",
					     "ListServices");
	dbus_message_set_serial(first, 5);
	g_assert_true(dbus_message_set_sender(first, ":1.99"));
	kept = appended(dbus_message_new_method_return(first), args);
	kept_before = wire_bytes(kept, 3);
	for (guint i = 0; i < G_N_ELEMENTS(calls); i++) {
		g_autoptr(DBusMessage) call = dbus_message_new_method_call(
			"org.slotd.Slotd1", "/org/slotd/Slotd1",
			"org.slotd.Scheduler1", "ListServices");
		g_autoptr(DBusMessage) again = NULL, ref = NULL;
		g_autoptr(GBytes) a = NULL, b = NULL;

		dbus_message_set_serial(call, calls[i].serial);
		if (calls[i].sender)
			g_assert_true(dbus_message_set_sender(
				call, calls[i].sender));
		again = bus_wire_return_again(kept, call);
		g_assert_nonnull(again);
		ref = appended(dbus_message_new_method_return(call), args);
		/* The copy made for this caller, answering its next call. */
		{
			g_autoptr(DBusMessage) next = dbus_message_new_method_call(
				"org.slotd.Slotd1", "/org/slotd/Slotd1",
				"org.slotd.Scheduler1", "ListServices");
			g_autoptr(DBusMessage) serial = NULL, next_ref = NULL;
			g_autoptr(GBytes) c = NULL, d = NULL;

			dbus_message_set_serial(next, calls[i].serial + 1000);
			if (calls[i].sender)
				g_assert_true(dbus_message_set_sender(
					next, calls[i].sender));
			serial = bus_wire_return_serial(again, next);
			g_assert_nonnull(serial);
			next_ref = appended(dbus_message_new_method_return(next),
					    args);
			c = wire_bytes(serial, 12);
			d = wire_bytes(next_ref, 12);
			g_assert_true(g_bytes_equal(c, d));
		}
		a = wire_bytes(again, 11);
		b = wire_bytes(ref, 11);
		g_assert_true(g_bytes_equal(a, b));
	}
	{
		char *data = NULL;
		int len = 0;

		g_assert_true(dbus_message_marshal(kept, &data, &len));
		kept_after = g_bytes_new(data, (gsize)len);
		dbus_free(data);
	}
	g_assert_true(g_bytes_equal(kept_before, kept_after));
}

/* ---- roles and callers ----------------------------------------------- */

static void
test_admin_denied(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = call(fixture, "Admin", NULL, &error);

	g_assert_null(reply);
	assert_remote_error(error, "org.freedesktop.DBus.Error.AccessDenied",
			    "needs the admin role (group slotd-admin)");
	g_assert_cmpuint(fixture->protected_runs, ==, 0);
}

static void
test_book_granted(Fixture *fixture, gconstpointer data)
{
	for (guint i = 0; i < 2; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = call(fixture, "Book", NULL, &error);
		guint32 uid;

		g_assert_no_error(error);
		g_variant_get(reply, "(u)", &uid);
		g_assert_cmpuint(uid, ==, getuid());
	}
	g_assert_cmpuint(fixture->protected_runs, ==, 2);
	/* The second call came from the cache. */
	g_assert_cmpuint(bus_cached_callers(fixture->bus), ==, 1);
}

static GDBusConnection *
extra_client(void)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *client = g_dbus_connection_new_for_address_sync(
		shared_daemon->address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);

	g_assert_no_error(error);
	return client;
}

/* Blocks (without serving) until the bus has seen `name` go. */
static void
wait_name_gone(Fixture *fixture, const char *name)
{
	for (guint i = 0; i < WAIT_SECONDS * 100; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
			fixture->client, "org.freedesktop.DBus",
			"/org/freedesktop/DBus", "org.freedesktop.DBus",
			"NameHasOwner", g_variant_new("(s)", name),
			G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, 5000,
			NULL, &error);
		gboolean has_owner;

		g_assert_no_error(error);
		g_variant_get(reply, "(b)", &has_owner);
		if (!has_owner)
			return;
		g_usleep(10000);
	}
	g_assert_not_reached();
}

static void
test_vanished_caller(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusMessage) message = NULL;
	g_autoptr(GVariant) reply = NULL;
	GDBusConnection *gone = extra_client();
	g_autofree char *name = NULL;

	name = g_strdup(g_dbus_connection_get_unique_name(gone));
	/* The call reaches the server's socket, then its caller leaves;
	 * our loop does not run until the bus has seen it go. */
	message = g_dbus_message_new_method_call(TEST_NAME, TEST_PATH,
						 TEST_IFACE, "Book");
	g_dbus_connection_send_message(gone, message,
				       G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
				       &error);
	g_assert_no_error(error);
	g_dbus_connection_flush_sync(gone, NULL, &error);
	g_assert_no_error(error);
	g_dbus_connection_close_sync(gone, NULL, &error);
	g_assert_no_error(error);
	g_object_unref(gone);
	wait_name_gone(fixture, name);

	/* Sent after the vanished call, so served after it. */
	reply = call(fixture, "Echo", g_variant_new("(s)", "after"), &error);
	g_assert_no_error(error);
	WAIT_UNTIL(bus_pending_calls(fixture->bus) == 0);
	g_assert_cmpuint(fixture->protected_runs, ==, 0);
	g_assert_cmpuint(bus_cached_callers(fixture->bus), ==, 0);
}

static void
test_cache_forgets_gone_callers(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) mine = call(fixture, "Book", NULL, &error);
	GDBusConnection *other = extra_client();
	g_autoptr(GVariant) theirs = call_on(other, TEST_PATH, TEST_IFACE,
					     "Book", NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(fixture->protected_runs, ==, 2);
	g_assert_cmpuint(bus_cached_callers(fixture->bus), ==, 2);
	g_dbus_connection_close_sync(other, NULL, &error);
	g_assert_no_error(error);
	g_object_unref(other);
	WAIT_UNTIL(bus_cached_callers(fixture->bus) == 1);
}

/* ---- deferred answers ------------------------------------------------ */

typedef struct {
	Result result;
	guint order;
} Ordered;

static guint finished;

static void
on_deferred_done(GObject *source, GAsyncResult *async, gpointer data)
{
	Ordered *ordered = data;

	on_call_done(source, async, &ordered->result);
	ordered->order = finished++;
}

static void
test_deferred_concurrent(Fixture *fixture, gconstpointer data)
{
	static const guint32 delays[] = { 700, 300, 500, 400, 600 };
	static const guint expected_order[] = { 4, 0, 2, 1, 3 };
	Ordered calls[G_N_ELEMENTS(delays)] = { 0 };
	guint most_pending = 0;

	finished = 0;
	for (guint i = 0; i < G_N_ELEMENTS(delays); i++)
		g_dbus_connection_call(fixture->client, TEST_NAME, TEST_PATH,
				       TEST_IFACE, "Deferred",
				       g_variant_new("(u)", delays[i]), NULL,
				       G_DBUS_CALL_FLAGS_NONE, 5000, NULL,
				       on_deferred_done, &calls[i]);
	WAIT_UNTIL((most_pending = MAX(most_pending,
				       bus_pending_calls(fixture->bus))) ==
			   G_N_ELEMENTS(delays) ||
		   finished > 0);
	g_assert_cmpuint(most_pending, ==, G_N_ELEMENTS(delays));
	WAIT_UNTIL(finished == G_N_ELEMENTS(delays));
	for (guint i = 0; i < G_N_ELEMENTS(delays); i++) {
		guint32 value;

		g_assert_no_error(calls[i].result.error);
		g_variant_get(calls[i].result.reply, "(u)", &value);
		g_assert_cmpuint(value, ==, delays[i]);
		g_assert_cmpuint(calls[i].order, ==, expected_order[i]);
		g_variant_unref(calls[i].result.reply);
	}
	g_assert_cmpuint(bus_pending_calls(fixture->bus), ==, 0);
}

/* ---- deep bodies ----------------------------------------------------- */

/* {'deep': <<...<'bottom'>...>>} with `levels` variants. */
static GVariant *
nested_dict(guint levels)
{
	GVariant *value = g_variant_new_string("bottom");
	GVariantBuilder dict;

	for (guint i = 0; i < levels; i++)
		value = g_variant_new_variant(value);
	g_variant_builder_init(&dict, G_VARIANT_TYPE("a{sv}"));
	/* a{sv} adds the array and the entry; 'v' wraps the outermost. */
	g_variant_builder_add(&dict, "{sv}", "deep", value);
	return g_variant_new("(a{sv})", &dict);
}

static void
test_depth_limit(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) args = g_variant_ref_sink(nested_dict(29));
	g_autoptr(GVariant) reply = call(fixture, "Dict", args,
					 &error);

	/* array + entry + 30 variants: 32 levels, the most we take. */
	g_assert_no_error(error);
	g_assert_true(g_variant_equal(args, reply));
	g_clear_pointer(&reply, g_variant_unref);
	reply = call(fixture, "Dict", nested_dict(30), &error);
	g_assert_null(reply);
	assert_remote_error(error, "org.freedesktop.DBus.Error.InvalidArgs",
			    "nested deeper than 32");
}

static void
test_depth_64(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GDBusConnection *reckless = extra_client();

	/* array + entry + 62 variants: 64 levels, the most the bus passes
	 * on; deeper ones it refuses itself by dropping the sender. */
	reply = call(fixture, "Dict", nested_dict(61), &error);
	g_assert_null(reply);
	assert_remote_error(error, "org.freedesktop.DBus.Error.InvalidArgs",
			    "nested deeper than 32");
	g_clear_error(&error);
	reply = call_on(reckless, TEST_PATH, TEST_IFACE, "Dict",
			nested_dict(63), &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CLOSED);
	g_object_unref(reckless);
	/* And the server still serves. */
	g_clear_error(&error);
	reply = call(fixture, "Echo", g_variant_new("(s)", "alive"), &error);
	g_assert_no_error(error);
}

/* ---- replies of the wrong type --------------------------------------- */

static void
test_bad_reply(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	expect_log(G_LOG_LEVEL_CRITICAL, "BadReply answered (u)");
	reply = call(fixture, "BadReply", NULL, &error);
	g_assert_cmpuint(expected_seen, ==, 1);
	g_assert_null(reply);
	assert_remote_error(error, "org.slotd.Error.Failed", NULL);
}

/* ---- introspection --------------------------------------------------- */

static void
assert_test_interface(GDBusNodeInfo *node)
{
	GDBusInterfaceInfo *iface =
		g_dbus_node_info_lookup_interface(node, TEST_IFACE);
	GDBusMethodInfo *echo, *deferred;
	GDBusSignalInfo *changed;

	g_assert_nonnull(iface);
	echo = g_dbus_interface_info_lookup_method(iface, "Echo");
	g_assert_nonnull(echo);
	g_assert_cmpstr(echo->in_args[0]->name, ==, "text");
	g_assert_cmpstr(echo->in_args[0]->signature, ==, "s");
	g_assert_cmpstr(echo->out_args[0]->name, ==, "text");
	deferred = g_dbus_interface_info_lookup_method(iface, "Deferred");
	g_assert_cmpstr(deferred->in_args[0]->name, ==, "milliseconds");
	g_assert_nonnull(g_dbus_interface_info_lookup_method(iface,
							     "EchoStructs"));
	g_assert_nonnull(g_dbus_interface_info_lookup_method(iface, "Admin"));
	changed = g_dbus_interface_info_lookup_signal(iface, "Changed");
	g_assert_nonnull(changed);
	g_assert_cmpstr(changed->args[0]->name, ==, "what");
	g_assert_cmpstr(changed->args[0]->signature, ==, "s");
}

static void
test_introspect_xml(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *xml = bus_introspect_xml(test_interfaces);
	g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(xml,
								     &error);
	GDBusMethodInfo *echo;

	g_assert_no_error(error);
	assert_test_interface(node);
	g_assert_nonnull(g_dbus_node_info_lookup_interface(
		node, "org.freedesktop.DBus.Introspectable"));
	g_assert_nonnull(g_dbus_node_info_lookup_interface(
		node, "org.freedesktop.DBus.Peer"));
	echo = g_dbus_interface_info_lookup_method(
		g_dbus_node_info_lookup_interface(node, TEST_IFACE), "Echo");
	g_assert_cmpstr(g_dbus_annotation_info_lookup(
				echo->annotations, "org.gtk.GDBus.DocString"),
			==, "Answers with its argument & nothing else");
}

static void
test_introspect_gdbus_tool(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusNodeInfo) node = NULL;
	g_autofree char *out = NULL;
	const char *argv[] = { "gdbus", "introspect", "--address",
			       shared_daemon->address, "--dest", TEST_NAME,
			       "--object-path", TEST_PATH, "--xml", NULL };

	g_assert_cmpint(run_tool(argv, &out, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "<method name=\"Echo\">"));
	g_assert_nonnull(strstr(out, "<signal name=\"Changed\">"));
	node = g_dbus_node_info_new_for_xml(out, &error);
	g_assert_no_error(error);
	assert_test_interface(node);
}

static void
assert_child(Fixture *fixture, const char *path, const char *child)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusNodeInfo) node = NULL;
	g_autoptr(GVariant) reply = NULL;
	const char *xml;

	reply = call_on(fixture->client, path,
			"org.freedesktop.DBus.Introspectable", "Introspect",
			NULL, &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(&s)", &xml);
	node = g_dbus_node_info_new_for_xml(xml, &error);
	g_assert_no_error(error);
	g_assert_nonnull(node->nodes[0]);
	g_assert_cmpstr(node->nodes[0]->path, ==, child);
	g_assert_null(node->nodes[1]);
}

static void
test_introspect_tree(Fixture *fixture, gconstpointer data)
{
	g_autofree char *address = g_strdup_printf("--address=%s",
						   shared_daemon->address);
	g_autofree char *out = NULL;
	const char *argv[] = { "busctl", address, "tree", TEST_NAME, NULL };

	assert_child(fixture, "/", "org");
	assert_child(fixture, "/org", "slotd");
	assert_child(fixture, "/org/slotd", "Test1");
	g_assert_cmpint(run_tool(argv, &out, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "/org/slotd/Test1"));
}

static void
test_peer(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ping = NULL;
	g_autoptr(GVariant) machine = NULL;
	const char *id;

	ping = call_on(fixture->client, TEST_PATH, "org.freedesktop.DBus.Peer",
		       "Ping", NULL, &error);
	g_assert_no_error(error);
	machine = call_on(fixture->client, "/", "org.freedesktop.DBus.Peer",
			  "GetMachineId", NULL, &error);
	g_assert_no_error(error);
	g_variant_get(machine, "(&s)", &id);
	g_assert_cmpuint(strlen(id), ==, 32);
}

/* ---- signals --------------------------------------------------------- */

static void
on_changed(GDBusConnection *connection, const char *sender, const char *path,
	   const char *iface, const char *signal, GVariant *args,
	   gpointer data)
{
	char **what = data;

	g_variant_get(args, "(s)", what);
}

static void
test_signal_emission(Fixture *fixture, gconstpointer data)
{
	g_autofree char *what = NULL;
	guint id;

	id = g_dbus_connection_signal_subscribe(
		fixture->client, NULL, TEST_IFACE, "Changed", TEST_PATH, NULL,
		G_DBUS_SIGNAL_FLAGS_NONE, on_changed, &what, NULL);
	/* A round trip makes sure the match rule is in place. */
	g_variant_unref(call(fixture, "Echo", g_variant_new("(s)", "x"), NULL));
	g_assert_true(bus_emit_signal(fixture->bus, TEST_PATH, TEST_IFACE,
				      "Changed",
				      g_variant_new("(s)", "slots")));
	WAIT_UNTIL(what != NULL);
	g_assert_cmpstr(what, ==, "slots");

	expect_log(G_LOG_LEVEL_CRITICAL, "Refusing to emit");
	g_assert_false(bus_emit_signal(fixture->bus, TEST_PATH, TEST_IFACE,
				       "Undeclared",
				       g_variant_new("(s)", "x")));
	g_assert_false(bus_emit_signal(fixture->bus, "/org/slotd/Other",
				       TEST_IFACE, "Changed",
				       g_variant_new("(s)", "x")));
	g_assert_false(bus_emit_signal(fixture->bus, TEST_PATH, TEST_IFACE,
				       "Changed", g_variant_new("(u)", 1)));
	g_assert_cmpuint(expected_seen, ==, 3);
	expect_log(0, NULL);
	g_dbus_connection_signal_unsubscribe(fixture->client, id);
}

/* ---- setting up ------------------------------------------------------ */

static void
test_name_taken(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	Bus *second = bus_new(BUS_TYPE_ADDRESS, shared_daemon->address,
			      TEST_NAME, &error);

	g_assert_null(second);
	g_assert_error(error, BUS_ERROR, BUS_ERROR_NAME_TAKEN);
}

static void
noop(BusCall *call, GVariant *args, gpointer data)
{
	bus_call_return(call, NULL);
}

static void
test_bad_tables(Fixture *fixture, gconstpointer data)
{
	static const BusMethod bad_signature[] = {
		{ "M", "a{", NULL, "", NULL, noop }, { NULL } };
	static const BusMethod bad_names[] = {
		{ "M", "ss", "one", "", NULL, noop }, { NULL } };
	static const BusMethod fds[] = {
		{ "M", "h", "fd", "", NULL, noop }, { NULL } };
	static const BusInterface tables[] = {
		{ "org.slotd.Bad1", bad_signature, NULL },
		{ "org.slotd.Bad1", bad_names, NULL },
		{ "org.slotd.Bad1", fds, NULL },
		{ "org.freedesktop.DBus.Peer", NULL, NULL },
	};

	for (guint i = 0; i < G_N_ELEMENTS(tables); i++) {
		g_autoptr(GError) error = NULL;
		const BusInterface *list[] = { &tables[i], NULL };

		g_assert_false(bus_register_object(fixture->bus, "/bad", list,
						   NULL, &error));
		g_assert_error(error, BUS_ERROR, BUS_ERROR_INVALID_TABLE);
	}
	for (guint i = 0; i < 2; i++) {
		g_autoptr(GError) error = NULL;

		g_assert_false(bus_register_object(
			fixture->bus, i ? TEST_PATH : "no/slash",
			test_interfaces, NULL, &error));
		g_assert_error(error, BUS_ERROR, BUS_ERROR_INVALID_TABLE);
	}
}

static void
on_lost(gpointer data)
{
	*(gboolean *)data = TRUE;
}

static void
test_disconnected(void)
{
	g_autoptr(GError) error = NULL;
	TestDaemon *daemon = test_daemon_start();
	gboolean lost = FALSE;
	Bus *bus = bus_new(BUS_TYPE_ADDRESS, daemon->address, TEST_NAME,
			   &error);

	g_assert_no_error(error);
	bus_set_disconnect_func(bus, G_CALLBACK(on_lost), &lost);
	test_daemon_kill(daemon);
	WAIT_UNTIL(lost);
	/* A dead bus still emits, flushes and frees without a fuss. */
	g_assert_cmpuint(bus_pending_calls(bus), ==, 0);
	bus_flush(bus);
	bus_free(bus);
	test_daemon_stop(daemon);
}

static void
test_no_bus(void)
{
	g_autoptr(GError) error = NULL;
	Bus *bus = bus_new(BUS_TYPE_ADDRESS, "unix:path=/nonexistent/bus",
			   TEST_NAME, &error);

	g_assert_null(bus);
	g_assert_error(error, BUS_ERROR, BUS_ERROR_FAILED);
}

#define ADD(path, func)                                                       \
	g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	g_log_set_writer_func(test_log_writer, NULL, NULL);
	g_timeout_add(50, tick, NULL);
	shared_daemon = test_daemon_start();

	ADD("/bus/echo/gdbus-client", test_echo_gdbus);
	ADD("/bus/echo/structs", test_echo_structs);
	ADD("/bus/echo/dict-of-every-type", test_echo_dict);
	ADD("/bus/echo/gdbus-call-tool", test_echo_gdbus_tool);
	ADD("/bus/echo/dbus-send-tool", test_echo_dbus_send);
	ADD("/bus/errors/wrong-signature-is-invalid-args",
	    test_wrong_signature);
	ADD("/bus/errors/unknown-names", test_unknown_names);
	ADD("/bus/errors/slotd-error-keeps-name-and-message", test_slot_full);
	ADD("/bus/errors/foreign-domain-is-failed", test_foreign_error);
	g_test_add_func("/bus/errors/table", test_error_names);
	g_test_add_func("/bus/wire/as-libdbus-builds", test_wire_as_libdbus);
	g_test_add_func("/bus/wire/body-as-libdbus-builds",
			test_wire_body_as_libdbus);
	g_test_add_func("/bus/wire/body-refused", test_wire_body_refused);
	g_test_add_func("/bus/wire/put-as-written", test_wire_put_as_written);
	g_test_add_func("/bus/wire/return-again-as-libdbus-builds",
			test_wire_return_again);
	ADD("/bus/access/admin-denied", test_admin_denied);
	ADD("/bus/access/book-granted-and-cached", test_book_granted);
	ADD("/bus/access/vanished-caller-is-refused", test_vanished_caller);
	ADD("/bus/access/cache-forgets-gone-callers",
	    test_cache_forgets_gone_callers);
	ADD("/bus/deferred/concurrent-calls", test_deferred_concurrent);
	ADD("/bus/depth/limit-is-32", test_depth_limit);
	ADD("/bus/depth/variant-64-deep-is-refused", test_depth_64);
	ADD("/bus/reply/wrong-type-is-failed", test_bad_reply);
	g_test_add_func("/bus/introspect/xml-from-tables", test_introspect_xml);
	ADD("/bus/introspect/gdbus-introspect", test_introspect_gdbus_tool);
	ADD("/bus/introspect/tree", test_introspect_tree);
	ADD("/bus/peer/ping-and-machine-id", test_peer);
	ADD("/bus/signal/declared-only", test_signal_emission);
	ADD("/bus/setup/name-taken", test_name_taken);
	ADD("/bus/setup/bad-tables-refused", test_bad_tables);
	g_test_add_func("/bus/setup/no-bus", test_no_bus);
	g_test_add_func("/bus/disconnect/daemon-killed", test_disconnected);

	status = g_test_run();
	test_daemon_stop(shared_daemon);
	return status;
}
