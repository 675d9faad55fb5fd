/* slotd: the appointment-capacity daemon of a welfare region.
 * Options, logging, signals and the main loop. */
#include <glib-unix.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"
#include "health.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "metrics-daemon.h"
#include "notify.h"
#include "slotd-config.h"
#include "loop-watch.h"

/* TERM and INT: stop taking calls, answer the ones received, close the
 * database, exit. A second one while that runs stops at once. */
static gboolean
on_stop(gpointer user_data)
{
	Daemon *daemon = user_data;

	if (daemon->stopping) {
		g_warning("stopping at once on a second signal");
		g_main_loop_quit(daemon->loop);
		return G_SOURCE_CONTINUE;
	}
	g_log_structured(LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE_ID",
			 LOG_ID_STOPPING, "MESSAGE",
			 "stopping: answering the calls already received");
	daemon_stop(daemon);
	return G_SOURCE_CONTINUE;
}

/* HUP: re-read configuration and plugins between two calls. */
static gboolean
on_reload(gpointer user_data)
{
	Daemon *daemon = user_data;

	if (daemon->stopping)
		return G_SOURCE_CONTINUE;
	g_message("reloading on SIGHUP");
	/* Logged by daemon_reload, with the bookings that need rebooking;
	 * on an error the old state stays. */
	daemon_reload(daemon, "SIGHUP", NULL, NULL);
	return G_SOURCE_CONTINUE;
}

/* SLOTD_TEST_TIME=<UTC seconds> starts the daemon's clock at that
 * instant (it then runs normally): tests and demos of dates such as the
 * DST change days. Never set in production units. */
static gint64 clock_base, clock_start;

static gint64
test_clock(gpointer user_data)
{
	return clock_base + (g_get_monotonic_time() - clock_start) /
				    G_USEC_PER_SEC;
}

static void
setup_clock(Daemon *daemon)
{
	const char *text = g_getenv("SLOTD_TEST_TIME");

	if (!text || !*text)
		return;
	clock_base = g_ascii_strtoll(text, NULL, 10);
	clock_start = g_get_monotonic_time();
	daemon->clock_func = test_clock;
	g_message("clock starts at %s (SLOTD_TEST_TIME)", text);
}

/* SLOTD_TEST_STALL_SECONDS=N: SIGUSR1 makes the main loop sleep N
 * seconds, as a stuck callback would; the watchdog test uses it. Never
 * set in production units: SIGUSR1 then ends slotd as by default. */
static gboolean
on_stall(gpointer user_data)
{
	guint seconds = GPOINTER_TO_UINT(user_data);
	LOOP_WORK("test stall", NULL);

	g_warning("holding the main loop for %u s (SLOTD_TEST_STALL_SECONDS)",
		  seconds);
	g_usleep(seconds * G_USEC_PER_SEC);
	return G_SOURCE_CONTINUE;
}

static void
setup_stall(void)
{
	const char *text = g_getenv("SLOTD_TEST_STALL_SECONDS");
	guint64 seconds;

	if (text && g_ascii_string_to_unsigned(text, 10, 1, 600, &seconds,
					       NULL))
		g_unix_signal_add(SIGUSR1, on_stall,
				  GUINT_TO_POINTER((guint)seconds));
}

static void
on_bus_lost(gpointer user_data)
{
	Daemon *daemon = user_data;

	g_warning("lost the bus connection; exiting");
	daemon->exit_status = 1;
	daemon_stop(daemon);
}

static gboolean
parse_options(int *argc, char ***argv, DaemonOptions *o, GError **error)
{
	gboolean session = FALSE, version = FALSE;
	g_autofree char *address = NULL;
	GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config_file,
		  "Configuration entry point (default " SLOTD_SYSCONFDIR
		  "/slotd.conf)", "FILE" },
		{ "state-dir", 's', 0, G_OPTION_ARG_FILENAME, &o->state_dir,
		  "Directory of the booking database", "DIR" },
		{ "plugin-dir", 'p', 0, G_OPTION_ARG_FILENAME, &o->plugin_dir,
		  "Directory of service plugins", "DIR" },
		{ "session", 0, 0, G_OPTION_ARG_NONE, &session,
		  "Use the session bus instead of the system bus", NULL },
		{ "bus-address", 0, 0, G_OPTION_ARG_STRING, &address,
		  "Use the bus at ADDRESS", "ADDRESS" },
		{ "debug", 'd', 0, G_OPTION_ARG_NONE, &o->debug,
		  "Log debug messages", NULL },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &version,
		  "Print the version and exit", NULL },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"- appointment-capacity daemon");

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, error))
		return FALSE;
	if (version) {
		printf("slotd %s\n", SLOTD_VERSION);
		exit(0);
	}
	if (!o->config_file)
		o->config_file = g_strdup(SLOTD_SYSCONFDIR "/slotd.conf");
	o->bus_type = address ? BUS_TYPE_ADDRESS :
		      session ? BUS_TYPE_SESSION : BUS_TYPE_SYSTEM;
	o->bus_address = g_steal_pointer(&address);
	/* Plugins from a directory given on the command line are the
	 * developer's own; the installed directory is checked. */
	o->system_plugin_checks = o->plugin_dir == NULL;
	return TRUE;
}

static void
clear_options(DaemonOptions *o)
{
	g_clear_pointer(&o->config_file, g_free);
	g_clear_pointer(&o->state_dir, g_free);
	g_clear_pointer(&o->plugin_dir, g_free);
	g_clear_pointer(&o->bus_address, g_free);
}

int
main(int argc, char **argv)
{
	Daemon daemon = { 0 };
	g_autoptr(GError) error = NULL;

	/* One malloc arena for every thread. By default glibc gives each
	 * thread its own; a feed's ten thousand bookings read on a worker
	 * and freed on the loop then stay as free space in the worker's
	 * arena: the fixed memory workload of the benchmark peaked at
	 * 69.9 MiB, with one arena at 64.2. Small blocks still come from
	 * each thread's own cache without the lock. Before any thread. */
	mallopt(M_ARENA_MAX, 1);
	store_setup_library();
	setlocale(LC_ALL, "");
	if (!parse_options(&argc, &argv, &daemon.options, &error)) {
		fprintf(stderr, "slotd: %s (try --help)\n", error->message);
		return 2;
	}
	log_setup(daemon.options.debug);
	signal(SIGPIPE, SIG_IGN);
	setup_clock(&daemon);
	daemon.bus_lost = G_CALLBACK(on_bus_lost);
	daemon.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_stop, &daemon);
	g_unix_signal_add(SIGINT, on_stop, &daemon);
	g_unix_signal_add(SIGHUP, on_reload, &daemon);
	setup_stall();
	metrics_init();
	if (!daemon_start(&daemon, &error)) {
		g_printerr("slotd: %s\n", error->message);
		daemon_finish(&daemon);
		clear_options(&daemon.options);
		g_main_loop_unref(daemon.loop);
		metrics_shutdown();
		return 1;
	}
	metrics_daemon_start(&daemon);
	http_set_health(daemon.http, health_check, &daemon);
	notify_started(&daemon);
	g_main_loop_run(daemon.loop);
	notify_finish();
	metrics_daemon_stop();
	daemon_finish(&daemon);
	metrics_shutdown();
	clear_options(&daemon.options);
	g_main_loop_unref(daemon.loop);
	g_log_structured(LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE_ID",
			 LOG_ID_STOPPED, "MESSAGE", "stopped (exit status %d)",
			 daemon.exit_status);
	return daemon.exit_status;
}
