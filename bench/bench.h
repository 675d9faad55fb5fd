/* slotd-bench: the load client and the bare baselines of the benchmark.
 * Every subcommand prints its measurements as "figure NAME VALUE" lines
 * on stdout; `slotd-bench report` turns a file of them into the table
 * and the JSON. */
#pragma once

#include <dbus/dbus.h>
#include <gio/gio.h>

#include "http-client.h"

#define SLOTD_NAME "org.slotd.Slotd1"
#define SLOTD_PATH "/org/slotd/Slotd1"
#define SCHEDULER_IFACE "org.slotd.Scheduler1"
#define ADMIN_IFACE "org.slotd.Admin1"
#define ECHO_NAME "org.slotd.BenchEcho"
#define ECHO_PATH "/org/slotd/BenchEcho"
#define ECHO_IFACE "org.slotd.BenchEcho1"

/* The size of the reply the bare server builds for the FindSlots
 * comparison, and the feed size of the feed comparison. */
#define BENCH_FIND_SLOTS 200
#define BENCH_FEED_EVENTS 10000
/* Calls are given this long before the benchmark gives up. */
#define BENCH_CALL_TIMEOUT_MS 120000

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DBusMessage, dbus_message_unref)

/* ---- time and statistics (stats.c) ---------------------------------- */

/* Monotonic microseconds. */
double bench_now_us(void);
/* The p-quantile (0..1) of `samples` (doubles), nearest rank; sorts. */
double bench_quantile(GArray *samples, double p);
/* The median of `values` (doubles); sorts. */
double bench_median(GArray *values);
void bench_figure(const char *name, double value);
void bench_figure_null(const char *name);
/* A line of progress on stderr, when the run is not quiet. */
void bench_note(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* ---- the bus client (client.c) -------------------------------------- */

/* A private connection registered on the bus at `address`. */
DBusConnection *bench_connect(const char *address, GError **error);
void bench_disconnect(DBusConnection *connection);
/* Sends and waits; an error reply becomes a GError naming it. */
DBusMessage *bench_call(DBusConnection *connection, DBusMessage *call,
			GError **error);
DBusMessage *bench_new_call(const char *dest, const char *path,
			    const char *iface, const char *method);
/* Waits until `name` has an owner (TRUE) or `seconds` pass. */
gboolean bench_wait_name(DBusConnection *connection, const char *name,
			 double seconds);
/* Admin1.GetStatus "horizon-complete" within `seconds`. */
gboolean bench_wait_horizon(DBusConnection *connection, double seconds,
			    GError **error);
/* Admin1.GetHttpAddress; an error when slotd serves no HTTP. */
char *bench_http_address(DBusConnection *connection, GError **error);
/* The path of the unit's staff feed, under a token issued for it. */
char *bench_feed_path(DBusConnection *connection, const char *unit,
		      GError **error);
/* Appends an a{sv} entry with a string or int64 value. */
void bench_dict_string(DBusMessageIter *dict, const char *key,
		       const char *value);
void bench_dict_uint32(DBusMessageIter *dict, const char *key,
		       dbus_uint32_t value);
void bench_dict_int64(DBusMessageIter *dict, const char *key,
		      dbus_int64_t value);
/* The structs of a FindSlots reply: each slot id appended once per
 * free seat to `seats` (when given, g_free'd strings); their number. */
guint bench_found_seats(DBusMessage *reply, GPtrArray *seats);

/* ---- the bare SQLite baselines (bare-store.c) ----------------------- */

typedef struct _BareStore BareStore;

/* A booking-shaped database in `dir` (WAL, synchronous=FULL); `wide`
 * adds the rows and indexes slotd's schema writes (a diagnosis). */
BareStore *bare_store_open(const char *dir, gboolean wide, GError **error);
void bare_store_close(BareStore *store);
/* Booking transactions per second for `seconds`. */
double bare_store_booking_rate(BareStore *store, double seconds,
			       GError **error);
/* One-row commits per second for `seconds`. */
double bare_store_commit_rate(BareStore *store, double seconds,
			      GError **error);
/* Median and p90 fdatasync latency of a 4 KiB write in `dir`, in ms. */
gboolean bare_fsync_latency(const char *dir, guint count,
			    double *ret_median, double *ret_p90,
			    GError **error);

/* The same booking on a copy of slotd's database (bare-copy.c): the
 * same schema, rows and indexes, the free slots of `service`. */
typedef struct _BareCopy BareCopy;

BareCopy *bare_copy_open(const char *live, const char *dir,
			 const char *service, const char *language,
			 GError **error);
void bare_copy_close(BareCopy *copy);
/* `count` bookings one at a time: per second, and the process's CPU
 * time per booking in ms. */
double bare_copy_booking_rate(BareCopy *copy, guint count,
			      double *ret_cpu_ms, GError **error);
/* `count` bookings from `clients` threads through one committer (group
 * commit). */
double bare_copy_group_rate(BareCopy *copy, int clients, guint count,
			    double *ret_cpu_ms, GError **error);
/* How often the copy's seats were given back so far. */
guint bare_copy_recycled(BareCopy *copy);

/* ---- main-loop stalls (stall.c) ---------------------------------------- */

typedef struct _BenchPinger BenchPinger;

/* Pings slotd every 10 ms from a thread with its own connection. */
BenchPinger *bench_pinger_start(const char *address, GError **error);
/* Forgets the round trips so far. */
void bench_pinger_mark(BenchPinger *pinger);
/* Prints stall-NAME-p99-ms and stall-NAME-max-ms since the mark. */
gboolean bench_pinger_report(BenchPinger *pinger, const char *name,
			     GError **error);
void bench_pinger_stop(BenchPinger *pinger);

/* ---- subcommands ----------------------------------------------------- */

int cmd_latency(int argc, char **argv);
int cmd_rates(int argc, char **argv);
int cmd_bare(int argc, char **argv);
int cmd_feed(int argc, char **argv);
int cmd_startup(int argc, char **argv);
int cmd_rss(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_stall(int argc, char **argv);
int cmd_memory(int argc, char **argv);
int cmd_calls(int argc, char **argv);

/* A "VmRSS:"-style line of /proc/PID/status, in MiB (startup.c). */
gboolean bench_process_mib(int pid, const char *key, double *ret_mib,
			   GError **error);
