/* slotd-bench: the bus client shared by the subcommands, the small
 * subcommands (wait-name, wait-horizon, fsync) and main. */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DBusConnection *
bench_connect(const char *address, GError **error)
{
	DBusError derror = DBUS_ERROR_INIT;
	DBusConnection *connection =
		dbus_connection_open_private(address, &derror);

	if (connection && dbus_bus_register(connection, &derror)) {
		dbus_connection_set_exit_on_disconnect(connection, FALSE);
		return connection;
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "cannot connect to %s: %s", address, derror.message);
	dbus_error_free(&derror);
	if (connection)
		bench_disconnect(connection);
	return NULL;
}

void
bench_disconnect(DBusConnection *connection)
{
	if (!connection)
		return;
	dbus_connection_close(connection);
	dbus_connection_unref(connection);
}

DBusMessage *
bench_new_call(const char *dest, const char *path, const char *iface,
	       const char *method)
{
	return dbus_message_new_method_call(dest, path, iface, method);
}

DBusMessage *
bench_call(DBusConnection *connection, DBusMessage *call, GError **error)
{
	DBusError derror = DBUS_ERROR_INIT;
	DBusMessage *reply = dbus_connection_send_with_reply_and_block(
		connection, call, BENCH_CALL_TIMEOUT_MS, &derror);

	if (reply)
		return reply;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s.%s: %s: %s",
		    dbus_message_get_interface(call),
		    dbus_message_get_member(call), derror.name,
		    derror.message);
	dbus_error_free(&derror);
	return NULL;
}

/* One {sv} entry of a basic type into an open a{sv}. */
static void
dict_basic(DBusMessageIter *dict, const char *key, int type,
	   const char *signature, const void *value)
{
	DBusMessageIter entry, variant;

	dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL,
					 &entry);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key);
	dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, signature,
					 &variant);
	dbus_message_iter_append_basic(&variant, type, value);
	dbus_message_iter_close_container(&entry, &variant);
	dbus_message_iter_close_container(dict, &entry);
}

void
bench_dict_string(DBusMessageIter *dict, const char *key, const char *value)
{
	dict_basic(dict, key, DBUS_TYPE_STRING, "s", &value);
}

void
bench_dict_uint32(DBusMessageIter *dict, const char *key,
		  dbus_uint32_t value)
{
	dict_basic(dict, key, DBUS_TYPE_UINT32, "u", &value);
}

void
bench_dict_int64(DBusMessageIter *dict, const char *key, dbus_int64_t value)
{
	dict_basic(dict, key, DBUS_TYPE_INT64, "x", &value);
}

guint
bench_found_seats(DBusMessage *reply, GPtrArray *seats)
{
	DBusMessageIter iter, array, entry;
	guint n = 0;

	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT;
	     dbus_message_iter_next(&array), n++) {
		const char *slot;
		dbus_uint32_t free_seats;

		if (!seats)
			continue;
		/* (ssxxua{sv}): the id, then the free seats fifth. */
		dbus_message_iter_recurse(&array, &entry);
		dbus_message_iter_get_basic(&entry, &slot);
		for (int i = 0; i < 4; i++)
			dbus_message_iter_next(&entry);
		dbus_message_iter_get_basic(&entry, &free_seats);
		for (; free_seats > 0; free_seats--)
			g_ptr_array_add(seats, g_strdup(slot));
	}
	return n;
}

static DBusMessage *
admin_call(DBusConnection *connection, const char *method, const char *unit,
	   GError **error)
{
	g_autoptr(DBusMessage) call = bench_new_call(SLOTD_NAME, SLOTD_PATH,
						     ADMIN_IFACE, method);
	const char *service = "";

	if (unit)
		dbus_message_append_args(call, DBUS_TYPE_STRING, &unit,
					 DBUS_TYPE_STRING, &service,
					 DBUS_TYPE_INVALID);
	return bench_call(connection, call, error);
}

char *
bench_http_address(DBusConnection *connection, GError **error)
{
	g_autoptr(DBusMessage) http = admin_call(connection, "GetHttpAddress",
						 NULL, error);
	const char *address;

	if (!http || !dbus_message_get_args(http, NULL, DBUS_TYPE_STRING,
					    &address, DBUS_TYPE_INVALID))
		return NULL;
	if (!*address) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "slotd serves no HTTP (empty http-address)");
		return NULL;
	}
	return g_strdup(address);
}

char *
bench_feed_path(DBusConnection *connection, const char *unit, GError **error)
{
	g_autoptr(DBusMessage) token = admin_call(connection, "IssueFeedToken",
						  unit, error);
	const char *secret, *path;

	if (!token || !dbus_message_get_args(token, NULL, DBUS_TYPE_STRING,
					     &secret, DBUS_TYPE_STRING, &path,
					     DBUS_TYPE_INVALID))
		return NULL;
	return g_strdup(path);
}

gboolean
bench_wait_name(DBusConnection *connection, const char *name,
		double seconds)
{
	double until = bench_now_us() + seconds * 1e6;

	do {
		if (dbus_bus_name_has_owner(connection, name, NULL))
			return TRUE;
		g_usleep(2000);
	} while (bench_now_us() < until);
	return FALSE;
}

/* Looks "horizon-complete" up in the a{sv} of GetStatus. */
static gboolean
status_horizon_complete(DBusMessage *reply)
{
	DBusMessageIter iter, dict;

	if (!dbus_message_iter_init(reply, &iter) ||
	    dbus_message_iter_get_arg_type(&iter) != DBUS_TYPE_ARRAY)
		return FALSE;
	dbus_message_iter_recurse(&iter, &dict);
	for (; dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
	     dbus_message_iter_next(&dict)) {
		DBusMessageIter entry, value;
		const char *key;
		dbus_bool_t done = FALSE;

		dbus_message_iter_recurse(&dict, &entry);
		dbus_message_iter_get_basic(&entry, &key);
		if (strcmp(key, "horizon-complete") != 0)
			continue;
		dbus_message_iter_next(&entry);
		dbus_message_iter_recurse(&entry, &value);
		if (dbus_message_iter_get_arg_type(&value) == DBUS_TYPE_BOOLEAN)
			dbus_message_iter_get_basic(&value, &done);
		return done;
	}
	return FALSE;
}

gboolean
bench_wait_horizon(DBusConnection *connection, double seconds,
		   GError **error)
{
	double until = bench_now_us() + seconds * 1e6;

	while (bench_now_us() < until) {
		g_autoptr(DBusMessage) call = bench_new_call(
			SLOTD_NAME, SLOTD_PATH, ADMIN_IFACE, "GetStatus");
		g_autoptr(DBusMessage) reply = bench_call(connection, call,
							  NULL);

		if (reply && status_horizon_complete(reply))
			return TRUE;
		g_usleep(100000);
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
		    "slotd did not complete its slot horizon in %.0f s",
		    seconds);
	return FALSE;
}

/* ---- small subcommands ----------------------------------------------- */

static int
cmd_wait(int argc, char **argv, gboolean horizon)
{
	g_autoptr(GError) error = NULL;
	DBusConnection *connection;
	double seconds;
	gboolean ok;

	if (argc != (horizon ? 3 : 4)) {
		fprintf(stderr, "usage: slotd-bench %s ADDRESS %sSECONDS\n",
			argv[0], horizon ? "" : "NAME ");
		return 2;
	}
	connection = bench_connect(argv[1], &error);
	if (!connection) {
		fprintf(stderr, "slotd-bench: %s\n", error->message);
		return 1;
	}
	seconds = g_ascii_strtod(argv[horizon ? 2 : 3], NULL);
	if (horizon)
		ok = bench_wait_name(connection, SLOTD_NAME, seconds) &&
		     bench_wait_horizon(connection, seconds, &error);
	else
		ok = bench_wait_name(connection, argv[2], seconds);
	if (!ok)
		fprintf(stderr, "slotd-bench: %s\n",
			error ? error->message : "the name did not appear");
	bench_disconnect(connection);
	return ok ? 0 : 1;
}

static int
cmd_fsync(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	double median, p90;

	if (argc != 3) {
		fprintf(stderr, "usage: slotd-bench fsync DIR COUNT\n");
		return 2;
	}
	if (!bare_fsync_latency(argv[1], (guint)atoi(argv[2]), &median, &p90,
				&error)) {
		fprintf(stderr, "slotd-bench: %s\n", error->message);
		return 1;
	}
	bench_figure("disk-fdatasync-ms", median);
	bench_figure("disk-fdatasync-p90-ms", p90);
	return 0;
}

/* The bare SQLite baselines alone, for a look at a machine (libical's:
 * slotd-bench-ical --synthetic 10000). */
int
cmd_bare(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	BareStore *store, *wide = NULL;
	double seconds, txn, commit, wide_txn = -1;

	if (argc != 3) {
		fprintf(stderr, "usage: slotd-bench bare DIR SECONDS\n");
		return 2;
	}
	seconds = g_ascii_strtod(argv[2], NULL);
	store = bare_store_open(argv[1], FALSE, &error);
	txn = store ? bare_store_booking_rate(store, seconds, &error) : -1;
	commit = txn >= 0 ? bare_store_commit_rate(store, seconds, &error) : -1;
	if (commit >= 0 && (wide = bare_store_open(argv[1], TRUE, &error)))
		wide_txn = bare_store_booking_rate(wide, seconds, &error);
	bare_store_close(store);
	bare_store_close(wide);
	if (wide_txn < 0) {
		fprintf(stderr, "slotd-bench bare: %s\n", error->message);
		return 1;
	}
	bench_figure("bare-booking-txn-per-s", txn);
	bench_figure("bare-one-row-commit-per-s", commit);
	bench_figure("bare-booking-txn-wide-per-s", wide_txn);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "latency", cmd_latency, "trivial call and FindSlots vs echo" },
	{ "rates", cmd_rates, "Book rates vs bare SQLite transactions" },
	{ "feed", cmd_feed, "staff feed and 304 vs libical and bare HTTP" },
	{ "bare", cmd_bare, "the bare baselines alone (no bus)" },
	{ "startup", cmd_startup, "start slotd, time to its bus name" },
	{ "rss", cmd_rss, "resident memory of a process" },
	{ "fsync", cmd_fsync, "fdatasync latency of a directory's disk" },
	{ "report", cmd_report, "figures -> table and JSON" },
	{ "stall", cmd_stall, "main-loop stalls: report, feed, reload" },
	{ "memory", cmd_memory, "peak memory on a fixed workload" },
	{ "calls", cmd_calls, "N calls of one kind (callgrind.sh)" },
};

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "wait-name") == 0)
		return cmd_wait(argc - 1, argv + 1, FALSE);
	if (argc >= 2 && strcmp(argv[1], "wait-horizon") == 0)
		return cmd_wait(argc - 1, argv + 1, TRUE);
	for (guint i = 0; argc >= 2 && i < G_N_ELEMENTS(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "usage: slotd-bench COMMAND ...\n"
			"  wait-name ADDRESS NAME SECONDS\n"
			"  wait-horizon ADDRESS SECONDS\n");
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(stderr, "  %-10s %s\n", commands[i].name,
			commands[i].help);
	return 2;
}
