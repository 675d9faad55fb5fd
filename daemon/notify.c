/* sd_notify() for the unit's Type=notify and WatchdogSec=. */
#define G_LOG_DOMAIN "slotd"

#include "notify.h"

#include "calendar.h"
#include "slotd-config.h"
#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

/* The status line is refreshed this often (bookings today change). */
#define STATUS_SECONDS 15

static GSource *watchdog_source;
static GSource *status_source;

static void
send_state(const char *state)
{
#if HAVE_LIBSYSTEMD
	int r = sd_notify(0, state);

	if (r < 0)
		g_debug("sd_notify: %s", g_strerror(-r));
#endif
}

/* ---- the status line ------------------------------------------------ */

static gboolean
is_live(const char *status)
{
	return !g_str_equal(status, "cancelled") &&
	       !g_str_equal(status, "entered-in-error");
}

/* Bookings starting today (Helsinki), not cancelled; -1 unknown. */
static gint64
bookings_today(Daemon *daemon)
{
	gint64 from = calendar_local_day_start(capacity_now(daemon->capacity));
	StoreBookingFilter filter = {
		.from = from,
		.to = calendar_local_day_start(from + 36 * 3600),
	};
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	gint64 n = 0;

	if (!store_list_bookings(daemon->store, &filter, found, NULL))
		return -1;
	for (guint i = 0; i < found->len; i++)
		n += is_live(((StoreBooking *)found->pdata[i])->status);
	return n;
}

char *
notify_status_text(Daemon *daemon)
{
	Region *region = daemon->region;
	gint64 today = bookings_today(daemon);
	g_autofree char *bookings =
		today < 0 ? g_strdup("bookings today unknown (storage)")
			  : g_strdup_printf("%" G_GINT64_FORMAT
					    " booking%s today", today,
					    today == 1 ? "" : "s");
	const char *horizon = daemon->extend_source
				      ? "filling the slot horizon"
				      : "slot horizon complete";

	return g_strdup_printf("%u services (%u offerings), %s, %s%s",
			       region->services->len, region->offerings->len,
			       bookings, horizon,
			       daemon->stopping ? ", stopping" : "");
}

static void
send_status(Daemon *daemon, const char *before)
{
	g_autofree char *text = notify_status_text(daemon);
	g_autofree char *state = g_strdup_printf("%sSTATUS=%s", before, text);

	send_state(state);
}

static gboolean
refresh_status(gpointer user_data)
{
	send_status(user_data, "");
	return G_SOURCE_CONTINUE;
}

/* ---- the watchdog --------------------------------------------------- */

/* Runs on the main loop: that it runs at all is the proof. */
static gboolean
ping(gpointer user_data)
{
	send_state("WATCHDOG=1");
	return G_SOURCE_CONTINUE;
}

static void
start_watchdog(void)
{
	guint64 usec = 0;

#if HAVE_LIBSYSTEMD
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return;
#endif
	if (usec == 0)
		return;
	watchdog_source = g_timeout_source_new(MAX(usec / 2000, 1));
	g_source_set_callback(watchdog_source, ping, NULL, NULL);
	g_source_attach(watchdog_source, NULL);
	g_message("watchdog: pinging every %" G_GUINT64_FORMAT " ms",
		  MAX(usec / 2000, 1));
}

/* ---- the states ----------------------------------------------------- */

void
notify_started(Daemon *daemon)
{
	if (!g_getenv("NOTIFY_SOCKET"))
		return;
	send_status(daemon, "READY=1\n");
	start_watchdog();
	status_source = g_timeout_source_new_seconds(STATUS_SECONDS);
	g_source_set_callback(status_source, refresh_status, daemon, NULL);
	g_source_attach(status_source, NULL);
}

void
notify_reloading(void)
{
	send_state("RELOADING=1\nSTATUS=reloading the configuration");
}

void
notify_reloaded(Daemon *daemon)
{
	if (g_getenv("NOTIFY_SOCKET"))
		send_status(daemon, "READY=1\n");
}

void
notify_stopping(void)
{
	send_state("STOPPING=1\nSTATUS=stopping: answering the calls "
		   "already received");
}

static void
destroy_source(GSource **source)
{
	if (*source) {
		g_source_destroy(*source);
		g_clear_pointer(source, g_source_unref);
	}
}

void
notify_finish(void)
{
	destroy_source(&watchdog_source);
	destroy_source(&status_source);
}
