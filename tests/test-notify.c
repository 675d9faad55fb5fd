/* sd_notify and the watchdog, with the real daemon and a fake
 * NOTIFY_SOCKET: a Unix datagram socket this test binds, as systemd
 * would. READY=1 comes only once the bus name is slotd's; WATCHDOG=1
 * every WATCHDOG_USEC/2 while the main loop turns, and not while slotd
 * is stopped (SIGSTOP) or its loop is held (SIGUSR1 with
 * SLOTD_TEST_STALL_SECONDS); RELOADING=1 then READY=1 around a reload,
 * with a STATUS= line people can read; STOPPING=1 on SIGTERM. */
#include <signal.h>
#include <string.h>

#include <gio/gunixsocketaddress.h>

#include "harness.h"

#define WATCHDOG_USEC 400000	/* pings every 200 ms */
#define STALL_SECONDS 2
#define NA "needs-assessment-west"

static Harness h;
static char *notify_path;	/* NOTIFY_SOCKET */
static GSocket *notify_socket;

/* ---- the fake systemd ----------------------------------------------- */

static GSocket *
bind_notify_socket(const char *path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketAddress) address = g_unix_socket_address_new(path);
	GSocket *socket = g_socket_new(G_SOCKET_FAMILY_UNIX,
				       G_SOCKET_TYPE_DATAGRAM,
				       G_SOCKET_PROTOCOL_DEFAULT, &error);

	g_assert_no_error(error);
	g_socket_bind(socket, address, TRUE, &error);
	g_assert_no_error(error);
	return socket;
}

/* The next notification within `ms`, or NULL. */
static char *
next_message(guint ms)
{
	char buffer[4096];
	gssize n;

	if (!g_socket_condition_timed_wait(notify_socket, G_IO_IN,
					   (gint64)ms * 1000, NULL, NULL))
		return NULL;
	n = g_socket_receive(notify_socket, buffer, sizeof(buffer), NULL,
			     NULL);
	g_assert_cmpint(n, >, 0);
	return g_strndup(buffer, n);
}

static gboolean
has_line(const char *message, const char *line)
{
	g_auto(GStrv) lines = g_strsplit(message, "\n", -1);

	return g_strv_contains((const char *const *)lines, line);
}

/* The value of KEY= in a message, or NULL. */
static char *
value_of(const char *message, const char *key)
{
	g_auto(GStrv) lines = g_strsplit(message, "\n", -1);
	g_autofree char *prefix = g_strconcat(key, "=", NULL);

	for (guint i = 0; lines[i]; i++)
		if (g_str_has_prefix(lines[i], prefix))
			return g_strdup(lines[i] + strlen(prefix));
	return NULL;
}

/* The first message with `line` within `ms`; others are skipped. */
static char *
wait_for(const char *line, guint ms)
{
	gint64 until = g_get_monotonic_time() + (gint64)ms * 1000;
	gint64 left;

	while ((left = until - g_get_monotonic_time()) > 0) {
		char *message = next_message(left / 1000 + 1);

		if (message && has_line(message, line))
			return message;
		g_free(message);
	}
	return NULL;
}

/* WATCHDOG=1 messages in the next `ms`. */
static guint
count_pings(guint ms)
{
	gint64 until = g_get_monotonic_time() + (gint64)ms * 1000;
	gint64 left;
	guint n = 0;

	while ((left = until - g_get_monotonic_time()) > 0) {
		g_autofree char *message = next_message(left / 1000 + 1);

		n += message && has_line(message, "WATCHDOG=1");
	}
	return n;
}

static void
drain(void)
{
	char *message;

	while ((message = next_message(0)))
		g_free(message);
}

/* ---- the daemon ----------------------------------------------------- */

static gboolean
name_owned(void)
{
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
		h.conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", "NameHasOwner",
		g_variant_new("(s)", "org.slotd.Slotd1"), G_VARIANT_TYPE("(b)"),
		G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	gboolean owned = FALSE;

	if (r)
		g_variant_get(r, "(b)", &owned);
	return owned;
}

/* Like harness_start_slotd(), without waiting: the test watches. */
static void
spawn_slotd(void)
{
	g_autoptr(GSubprocessLauncher) l =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autofree char *exe = g_build_filename(harness_build_root(), "daemon",
						"slotd", NULL);
	g_autoptr(GError) error = NULL;

	g_subprocess_launcher_set_stderr_file_path(l, h.log_path);
	g_subprocess_launcher_setenv(l, "G_DEBUG", "fatal-criticals", TRUE);
	g_subprocess_launcher_setenv(l, "SLOTD_TEST_TIME", h.test_time, TRUE);
	g_subprocess_launcher_setenv(l, "NOTIFY_SOCKET", notify_path, TRUE);
	g_subprocess_launcher_setenv(l, "WATCHDOG_USEC",
				     G_STRINGIFY(WATCHDOG_USEC), TRUE);
	g_subprocess_launcher_unsetenv(l, "WATCHDOG_PID");
	g_subprocess_launcher_setenv(l, "SLOTD_TEST_STALL_SECONDS",
				     G_STRINGIFY(STALL_SECONDS), TRUE);
	h.slotd = g_subprocess_launcher_spawn(
		l, &error, exe, "--config", h.config, "--state-dir",
		h.state_dir, "--plugin-dir", h.plugin_dir, "--bus-address",
		h.address, "--debug", NULL);
	g_assert_no_error(error);
}

static guint32
bus_name_call(const char *method, GVariant *args)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
		h.conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", method, args, G_VARIANT_TYPE("(u)"),
		G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	guint32 answer;

	g_assert_no_error(error);
	g_variant_get(r, "(u)", &answer);
	return answer;
}

/* ---- the tests ------------------------------------------------------ */

/* While someone else owns the name slotd does not start, and never
 * says READY=1. */
static void
test_no_ready_without_the_name(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *message = NULL;

	/* 4: DBUS_NAME_FLAG_DO_NOT_QUEUE; 1: now the primary owner. */
	g_assert_cmpuint(bus_name_call("RequestName",
				       g_variant_new("(su)",
						     "org.slotd.Slotd1", 4)),
			 ==, 1);
	spawn_slotd();
	g_assert_true(g_subprocess_wait(h.slotd, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpint(g_subprocess_get_exit_status(h.slotd), ==, 1);
	g_clear_object(&h.slotd);
	message = wait_for("READY=1", 200);
	g_assert_null(message);
	/* 1: released. */
	g_assert_cmpuint(bus_name_call("ReleaseName",
				       g_variant_new("(s)",
						     "org.slotd.Slotd1")),
			 ==, 1);
	spawn_slotd();
}

/* READY=1 arrives, and the name is slotd's by then. */
static void
test_ready_after_the_bus_name(void)
{
	g_autofree char *ready = wait_for("READY=1", 60000);
	g_autofree char *status = NULL;

	g_assert_nonnull(ready);
	g_assert_true(name_owned());
	status = value_of(ready, "STATUS");
	g_test_message("READY=1 with STATUS=%s", status);
	g_assert_nonnull(status);
	g_assert_nonnull(strstr(status, "services ("));
	g_assert_nonnull(strstr(status, "bookings today"));
}

static void
test_watchdog_pings(void)
{
	guint n;

	drain();
	n = count_pings(2000);
	g_test_message("%u WATCHDOG=1 in 2 s (every %d ms expected)", n,
		       WATCHDOG_USEC / 2000);
	g_assert_cmpuint(n, >=, 5);
	g_assert_cmpuint(n, <=, 15);
}

static void
test_stopped_daemon_stops_pinging(void)
{
	g_autofree char *again = NULL;

	g_subprocess_send_signal(h.slotd, SIGSTOP);
	g_usleep(100 * 1000);
	drain();
	g_assert_cmpuint(count_pings(1500), ==, 0);
	g_subprocess_send_signal(h.slotd, SIGCONT);
	again = wait_for("WATCHDOG=1", 2000);
	g_assert_nonnull(again);
}

/* SIGUSR1 holds the loop for STALL_SECONDS: no pings meanwhile. */
static void
test_held_loop_stops_pinging(void)
{
	g_autofree char *log = NULL;
	g_autofree char *again = NULL;
	gint64 began;

	g_subprocess_send_signal(h.slotd, SIGUSR1);
	began = g_get_monotonic_time();
	/* Logged on the loop as the hold begins; a ping sent before it is
	 * drained. */
	harness_wait_log(&h, "holding the main loop", 10);
	drain();
	g_assert_cmpuint(count_pings(1200), ==, 0);
	again = wait_for("WATCHDOG=1", 5000);
	g_assert_nonnull(again);
	g_test_message("pings again after %.2f s",
		       (g_get_monotonic_time() - began) / 1e6);
	g_assert_true(g_file_get_contents(h.log_path, &log, NULL, NULL));
	g_assert_nonnull(strstr(log, "holding the main loop"));
}

static void
book_today(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) slots = NULL;
	g_autoptr(GVariant) r = NULL;
	GVariantDict d;
	const char *slot;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	g_variant_dict_insert(&d, "to", "x", harness_local(2026, 12, 8, 0, 0));
	slots = harness_find(&h, NA, g_variant_dict_end(&d));
	g_assert_cmpuint(g_variant_n_children(slots), >, 0);
	g_variant_get_child(slots, 0, "(&s&sxxu@a{sv})", &slot, NULL, NULL,
			    NULL, NULL, NULL);
	r = harness_call(&h, "org.slotd.Scheduler1", "Book",
			 g_variant_new("(ss@a{sv})", slot, "notify-1",
				       g_variant_new("a{sv}", NULL)),
			 "(s)", &error);
	g_assert_no_error(error);
}

/* RELOADING=1, then READY=1 with a status counting today's booking. */
static void
test_reload_reloading_then_ready(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	g_autofree char *reloading = NULL, *ready = NULL, *status = NULL;

	book_today();
	drain();
	r = harness_call(&h, "org.slotd.Admin1", "Reload", NULL, NULL, &error);
	g_assert_no_error(error);
	reloading = wait_for("RELOADING=1", 5000);
	g_assert_nonnull(reloading);
	ready = wait_for("READY=1", 5000);
	g_assert_nonnull(ready);
	status = value_of(ready, "STATUS");
	g_test_message("after the reload: STATUS=%s", status);
	g_assert_nonnull(strstr(status, "1 booking today"));
	/* A reload fills the horizon again for changed offerings. */
	g_assert_nonnull(strstr(status, "slot horizon"));
}

static void
test_stopping(void)
{
	g_autofree char *stopping = NULL;

	drain();
	g_subprocess_send_signal(h.slotd, SIGTERM);
	stopping = wait_for("STOPPING=1", 10000);
	g_assert_nonnull(stopping);
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
}

int
main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	harness_init(&h);
	h.horizon_days = 7;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	h.config = harness_copy_example(&h);
	notify_path = g_build_filename(h.tmpdir, "notify", NULL);
	notify_socket = bind_notify_socket(notify_path);
	g_test_add_func("/notify/ready/not-without-the-bus-name",
			test_no_ready_without_the_name);
	g_test_add_func("/notify/ready/after-the-bus-name",
			test_ready_after_the_bus_name);
	g_test_add_func("/notify/watchdog/pings", test_watchdog_pings);
	g_test_add_func("/notify/watchdog/sigstop-stops-pings",
			test_stopped_daemon_stops_pinging);
	g_test_add_func("/notify/watchdog/held-loop-stops-pings",
			test_held_loop_stops_pinging);
	g_test_add_func("/notify/reload/reloading-then-ready",
			test_reload_reloading_then_ready);
	g_test_add_func("/notify/stop/stopping", test_stopping);
	status = g_test_run();
	g_clear_object(&notify_socket);
	g_free(notify_path);
	harness_clear(&h);
	return status;
}
