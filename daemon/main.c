/* slotd: the appointment-capacity daemon of a welfare region.
 * Options, logging, signals and the main loop. */
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon.h"
#include "slotd-config.h"

static gboolean
on_stop(gpointer user_data)
{
	Daemon *daemon = user_data;

	g_message("stopping");
	daemon_stop(daemon);
	return G_SOURCE_CONTINUE;
}

static gboolean
on_reload(gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rebook = NULL;

	g_message("reloading on SIGHUP");
	if (!daemon_reload(daemon, &rebook, &error))
		return G_SOURCE_CONTINUE; /* logged; old state stays */
	if (rebook && rebook->len)
		g_warning("%u bookings need rebooking after the change "
			  "(slotctl list --needs-rebooking)",
			  rebook->len);
	return G_SOURCE_CONTINUE;
}

static gboolean debug_logging;

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

static void
on_bus_lost(gpointer user_data)
{
	Daemon *daemon = user_data;

	g_warning("lost the bus connection; exiting");
	daemon->exit_status = 1;
	daemon_stop(daemon);
}

static GLogWriterOutput
write_log(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
	  gpointer user_data)
{
	if (!debug_logging && (level & G_LOG_LEVEL_DEBUG))
		return G_LOG_WRITER_HANDLED;
	if (!debug_logging && (level & G_LOG_LEVEL_INFO))
		return G_LOG_WRITER_HANDLED;
	if (g_log_writer_is_journald(fileno(stderr)) &&
	    g_log_writer_journald(level, fields, n_fields, user_data) ==
		    G_LOG_WRITER_HANDLED)
		return G_LOG_WRITER_HANDLED;
	return g_log_writer_standard_streams(level, fields, n_fields,
					     user_data);
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

int
main(int argc, char **argv)
{
	Daemon daemon = { 0 };
	g_autoptr(GError) error = NULL;

	setlocale(LC_ALL, "");
	g_log_set_writer_func(write_log, NULL, NULL);
	if (!parse_options(&argc, &argv, &daemon.options, &error)) {
		fprintf(stderr, "slotd: %s (try --help)\n", error->message);
		return 2;
	}
	debug_logging = daemon.options.debug;
	signal(SIGPIPE, SIG_IGN);
	setup_clock(&daemon);
	daemon.bus_lost = G_CALLBACK(on_bus_lost);
	daemon.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_stop, &daemon);
	g_unix_signal_add(SIGINT, on_stop, &daemon);
	g_unix_signal_add(SIGHUP, on_reload, &daemon);
	if (!daemon_start(&daemon, &error)) {
		g_printerr("slotd: %s\n", error->message);
		daemon_finish(&daemon);
		return 1;
	}
	g_main_loop_run(daemon.loop);
	daemon_finish(&daemon);
	g_main_loop_unref(daemon.loop);
	g_message("stopped");
	return daemon.exit_status;
}
