/* slotd's own measurements, recorded into metrics.c. */
#include "metrics-daemon.h"

#include <glib/gstdio.h>
#include <unistd.h>

#include "http.h"
#include "loop-watch.h"
#include "metrics.h"

/* The loop timer; its lateness is a stall of the loop. */
#define TICK_USEC (10 * 1000)

static Daemon *watched;
static GSource *tick;
static gint64 tick_due, last_turn;
static gint64 long_stall_at;	/* the loop's last stall of a second */
static gint64 started;		/* real time, seconds */

/* ---- D-Bus calls ---------------------------------------------------- */

static void
observe_call(const char *interface, const char *method, const char *error,
	     gint64 usec, gpointer user_data)
{
	g_autofree char *labels = metrics_labels(
		"interface", interface ? interface : "(unknown)", "method",
		method ? method : "(unknown)", NULL);

	metrics_count("slotd_dbus_calls_total", labels, 1);
	if (error) {
		g_autofree char *with_error = metrics_labels(
			"interface", interface ? interface : "(unknown)",
			"method", method ? method : "(unknown)", "error",
			error, NULL);

		metrics_count("slotd_dbus_errors_total", with_error, 1);
	}
	if (method)
		metrics_observe("slotd_dbus_call_duration_seconds", labels,
				usec / 1e6);
}

/* ---- booking changes ------------------------------------------------ */

/* Which change made a booking `booked`: a new booking has sequence 0,
 * a move clears needs_rebooking, a reload that pushes it out sets it. */
static const char *
change_of(const char *booking_id, const char *status)
{
	gint64 sequence;
	gboolean needs_rebooking;

	if (g_str_equal(status, "cancelled"))
		return "cancel";
	if (!g_str_equal(status, "booked"))
		return "status";
	/* Two columns, not the whole row: this runs for every booking. */
	if (!g_str_has_prefix(booking_id, "b-") ||
	    !store_get_booking_marks(watched->store,
				     g_ascii_strtoll(booking_id + 2, NULL, 10),
				     &sequence, &needs_rebooking, NULL))
		return "status";
	if (needs_rebooking)
		return "needs-rebooking";
	return sequence == 0 ? "book" : "reschedule";
}

/* The booking id is looked at, never written down. */
static void
count_change(const char *booking_id, const char *status, const char *unit,
	     const char *service, gpointer user_data)
{
	g_autofree char *labels = metrics_labels(
		"service", service, "change", change_of(booking_id, status),
		NULL);

	metrics_count("slotd_booking_changes_total", labels, 1);
}

/* ---- the loop ------------------------------------------------------- */

static gboolean
turn(gpointer user_data)
{
	gint64 now = g_get_monotonic_time();
	gint64 late = MAX(now - tick_due, 0);

	metrics_observe("slotd_main_loop_lateness_seconds", NULL, late / 1e6);
	if (late >= G_USEC_PER_SEC)
		long_stall_at = now;
	last_turn = now;
	tick_due = now + TICK_USEC;
	g_source_set_ready_time(tick, tick_due);
	return G_SOURCE_CONTINUE;
}

static void
loop_held(const char *work, double seconds)
{
	g_autofree char *labels = metrics_labels("work", work, NULL);

	metrics_observe("slotd_main_loop_held_seconds", labels, seconds);
}

/* ---- read at scrape time -------------------------------------------- */

static void
gauge(GString *out, const char *name, const char *help, double value)
{
	metrics_write_header(out, name, "gauge", help);
	metrics_write_sample(out, name, NULL, value);
}

static void
collect_http(GString *out)
{
	HttpAcceptStats st;

	http_stats(watched->http, &st);
	gauge(out, "slotd_http_connections_open",
	      "Feed server connections open now.", st.open);
	metrics_write_header(out, "slotd_http_connections_total", "counter",
			     "Feed server connections: taken, or refused "
			     "with 503 because http-max-connections were "
			     "open.");
	metrics_write_sample(out, "slotd_http_connections_total",
			     "outcome=\"accepted\"", st.accepted);
	metrics_write_sample(out, "slotd_http_connections_total",
			     "outcome=\"refused\"", st.refused);
	metrics_write_header(out, "slotd_http_connections_timed_out_total",
			     "counter",
			     "Connections closed by http-idle-seconds.");
	metrics_write_sample(out, "slotd_http_connections_timed_out_total",
			     NULL, st.idle_closed);
	metrics_write_header(out, "slotd_http_accept_errors_total", "counter",
			     "accept() failures (out of descriptors).");
	metrics_write_sample(out, "slotd_http_accept_errors_total", NULL,
			     st.accept_errors);
}

static double
file_bytes(const char *path)
{
	GStatBuf st;

	return g_stat(path, &st) == 0 ? (double)st.st_size : 0;
}

static void
collect_database(GString *out)
{
	const char *db = store_path(watched->store);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	guint by_thread, by_commit, by_restart;

	metrics_write_header(out, "slotd_database_bytes", "gauge",
			     "Size of the database file and its write-ahead "
			     "log.");
	metrics_write_sample(out, "slotd_database_bytes", "file=\"database\"",
			     file_bytes(db));
	metrics_write_sample(out, "slotd_database_bytes", "file=\"wal\"",
			     file_bytes(wal));
	store_checkpoint_counts(watched->store, &by_thread, &by_commit,
				&by_restart);
	metrics_write_header(out, "slotd_wal_checkpoints_total", "counter",
			     "WAL checkpoints run by the checkpoint thread, "
			     "by a COMMIT on the main loop because the WAL "
			     "had grown past 10,000 pages, and by a COMMIT "
			     "that copied only its own pages so that the WAL "
			     "starts over.");
	metrics_write_sample(out, "slotd_wal_checkpoints_total",
			     "by=\"thread\"", by_thread);
	metrics_write_sample(out, "slotd_wal_checkpoints_total",
			     "by=\"commit\"", by_commit);
	metrics_write_sample(out, "slotd_wal_checkpoints_total",
			     "by=\"restart\"", by_restart);
}

static void
collect_plugins(GString *out)
{
	GPtrArray *list = plugin_host_list(watched->plugins);
	guint loaded = 0;

	for (guint i = 0; i < list->len; i++)
		loaded += ((PluginInfo *)list->pdata[i])->loaded;
	metrics_write_header(out, "slotd_plugins", "gauge",
			     "Service plugins loaded, and refused.");
	metrics_write_sample(out, "slotd_plugins", "state=\"loaded\"", loaded);
	metrics_write_sample(out, "slotd_plugins", "state=\"refused\"",
			     list->len - loaded);
}

static void
collect_region(GString *out)
{
	GPtrArray *offerings = watched->region->offerings;
	guint available = 0;

	for (guint i = 0; i < offerings->len; i++)
		available += ((SlotdOffering *)offerings->pdata[i])->available;
	gauge(out, "slotd_services", "Services configured.",
	      watched->region->services->len);
	metrics_write_header(out, "slotd_offerings", "gauge",
			     "Offerings, available or not (plugin refused, "
			     "kind missing).");
	metrics_write_sample(out, "slotd_offerings", "state=\"available\"",
			     available);
	metrics_write_sample(out, "slotd_offerings", "state=\"unavailable\"",
			     offerings->len - available);
	gauge(out, "slotd_horizon_complete",
	      "1 when every offering's slots are materialised.",
	      watched->extend_source == NULL);
	gauge(out, "slotd_dbus_pending_calls", "Calls received, not answered.",
	      watched->bus ? bus_pending_calls(watched->bus) : 0);
}

static guint
open_descriptors(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
	guint n = 0;

	while (dir && g_dir_read_name(dir))
		n++;
	return n;
}

static double
resident_bytes(void)
{
	g_autofree char *statm = NULL;
	g_auto(GStrv) fields = NULL;

	if (!g_file_get_contents("/proc/self/statm", &statm, NULL, NULL))
		return 0;
	fields = g_strsplit(statm, " ", 3);
	if (g_strv_length(fields) < 2)
		return 0;
	return g_ascii_strtod(fields[1], NULL) * sysconf(_SC_PAGESIZE);
}

static void
collect_process(GString *out)
{
	gauge(out, "slotd_resident_memory_bytes", "Resident memory (VmRSS).",
	      resident_bytes());
	gauge(out, "slotd_open_fds", "Open file descriptors.",
	      open_descriptors());
	gauge(out, "slotd_start_time_seconds",
	      "When slotd started, seconds since the epoch.", started);
}

static void
collect(GString *out, gpointer user_data)
{
	collect_http(out);
	collect_database(out);
	collect_plugins(out);
	collect_region(out);
	collect_process(out);
}

/* ---- start and stop ------------------------------------------------- */

void
metrics_daemon_start(Daemon *daemon)
{
	watched = daemon;
	started = g_get_real_time() / G_USEC_PER_SEC;
	bus_set_call_observer(observe_call, NULL);
	capacity_add_listener(daemon->capacity,
			      &(CapacityListener){ count_change, NULL,
						   &watched });
	metrics_add_collector(collect, NULL);
	tick_due = g_get_monotonic_time() + TICK_USEC;
	tick = loop_ready_source_new(turn, NULL);
	g_source_set_ready_time(tick, tick_due);
	g_source_attach(tick, NULL);
	loop_watch_install(loop_held);
}

void
metrics_daemon_stop(void)
{
	loop_watch_uninstall();
	bus_set_call_observer(NULL, NULL);
	if (watched && watched->capacity)
		capacity_remove_listener(watched->capacity, &watched);
	if (tick) {
		g_source_destroy(tick);
		g_clear_pointer(&tick, g_source_unref);
	}
}

gint64
metrics_daemon_last_turn(void)
{
	return last_turn;
}

gint64
metrics_daemon_last_long_stall(void)
{
	return long_stall_at;
}
