/* Latency figures: slotd's trivial call (Scheduler1.ListServices)
 * against the bare server replaying one ListServices reply slotd gave
 * (and, for information, against the echo of a small struct), and
 * FindSlots returning 200 slots against the bare server replaying one
 * FindSlots reply slotd gave (the same structs, extras and bytes), and
 * against a bare SQLite read of the same 200 slot rows from slotd's
 * database. The calls alternate one by one (which one goes first moves
 * every round), each round gives its p50/p90/p99, and the figure is the
 * median of those over the rounds. */
#include "bench.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

typedef struct {
	char *address;
	int rounds;
	int calls;
	int find_calls;
	char *find_service;
	char *find_municipality;
	char *find_language;
	int find_days;
	char *db;		/* slotd's database, read for the bare read */
} LatencyOptions;

/* The bare read: the rows of the slots one FindSlots reply named. */
typedef struct {
	sqlite3 *db;
	sqlite3_stmt *slot;
	GArray *ids;		/* gint64 */
} BareRead;

/* One kind of call: how to make it, and its samples. */
typedef struct {
	const char *name;
	DBusMessage *(*make)(const LatencyOptions *o);
	guint expect;		/* array length the reply must have; 0 any */
	GArray *round;		/* this round's microseconds */
	GArray *p50, *p90, *p99; /* per round */
	gsize reply_bytes;
} CallKind;

static DBusMessage *
make_echo(const LatencyOptions *o)
{
	DBusMessage *m = bench_new_call(ECHO_NAME, ECHO_PATH, ECHO_IFACE,
					"Echo");
	DBusMessageIter iter, item;
	const char *text = "s-123456";
	dbus_int64_t start = 1780000000, end = 1780001800;
	dbus_int32_t seats = 2;

	dbus_message_iter_init_append(m, &iter);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_STRUCT, NULL, &item);
	dbus_message_iter_append_basic(&item, DBUS_TYPE_STRING, &text);
	dbus_message_iter_append_basic(&item, DBUS_TYPE_INT64, &start);
	dbus_message_iter_append_basic(&item, DBUS_TYPE_INT64, &end);
	dbus_message_iter_append_basic(&item, DBUS_TYPE_INT32, &seats);
	dbus_message_iter_close_container(&iter, &item);
	return m;
}

static DBusMessage *
make_list_services(const LatencyOptions *o)
{
	return bench_new_call(SLOTD_NAME, SLOTD_PATH, SCHEDULER_IFACE,
			      "ListServices");
}

static DBusMessage *
make_replay(const LatencyOptions *o)
{
	return bench_new_call(ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Replay");
}

static DBusMessage *
make_replay_list(const LatencyOptions *o)
{
	return bench_new_call(ECHO_NAME, ECHO_PATH, ECHO_IFACE, "ReplayList");
}

static DBusMessage *
make_find(const LatencyOptions *o)
{
	DBusMessage *m = bench_new_call(SLOTD_NAME, SLOTD_PATH,
					SCHEDULER_IFACE, "FindSlots");
	DBusMessageIter iter, dict;
	const char *service = o->find_service;
	dbus_int64_t from = g_get_real_time() / G_USEC_PER_SEC + 3600;
	dbus_int64_t to = from + (dbus_int64_t)o->find_days * 86400;
	const char *keys[] = { "from", "to" };
	dbus_int64_t values[] = { from, to };

	dbus_message_iter_init_append(m, &iter);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &service);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
	bench_dict_string(&dict, "municipality", o->find_municipality);
	bench_dict_string(&dict, "language", o->find_language);
	bench_dict_uint32(&dict, "limit", BENCH_FIND_SLOTS);
	for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
		bench_dict_int64(&dict, keys[i], values[i]);
	dbus_message_iter_close_container(&iter, &dict);
	return m;
}

static guint
reply_array_length(DBusMessage *reply)
{
	DBusMessageIter iter, array;
	guint n = 0;

	if (!dbus_message_iter_init(reply, &iter) ||
	    dbus_message_iter_get_arg_type(&iter) != DBUS_TYPE_ARRAY)
		return 0;
	dbus_message_iter_recurse(&iter, &array);
	while (dbus_message_iter_get_arg_type(&array) != DBUS_TYPE_INVALID) {
		n++;
		dbus_message_iter_next(&array);
	}
	return n;
}

static gsize
message_bytes(DBusMessage *m)
{
	char *bytes = NULL;
	int length = 0;

	if (!dbus_message_marshal(m, &bytes, &length))
		return 0;
	dbus_free(bytes);
	return (gsize)length;
}

/* One timed call; the message is built before the clock starts. */
static gboolean
time_call(DBusConnection *connection, const LatencyOptions *o, CallKind *k,
	  GError **error)
{
	g_autoptr(DBusMessage) call = k->make(o);
	g_autoptr(DBusMessage) reply = NULL;
	double t0 = bench_now_us(), dt;

	reply = bench_call(connection, call, error);
	dt = bench_now_us() - t0;
	if (!reply)
		return FALSE;
	if (k->expect && reply_array_length(reply) != k->expect) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "%s returned %u entries, not %u; the generated "
			    "region has too few free slots for the query",
			    k->name, reply_array_length(reply), k->expect);
		return FALSE;
	}
	if (!k->reply_bytes)
		k->reply_bytes = message_bytes(reply);
	g_array_append_val(k->round, dt);
	return TRUE;
}

static void
kind_init(CallKind *k)
{
	k->round = g_array_new(FALSE, FALSE, sizeof(double));
	k->p50 = g_array_new(FALSE, FALSE, sizeof(double));
	k->p90 = g_array_new(FALSE, FALSE, sizeof(double));
	k->p99 = g_array_new(FALSE, FALSE, sizeof(double));
}

static void
kind_end_round(CallKind *k)
{
	double p50 = bench_quantile(k->round, 0.5);
	double p90 = bench_quantile(k->round, 0.9);
	double p99 = bench_quantile(k->round, 0.99);

	g_array_append_val(k->p50, p50);
	g_array_append_val(k->p90, p90);
	g_array_append_val(k->p99, p99);
	g_array_set_size(k->round, 0);
}

static void
kind_report(CallKind *k, const char *figure)
{
	g_autofree char *p50 = g_strdup_printf("%s-p50-us", figure);
	g_autofree char *p90 = g_strdup_printf("%s-p90-us", figure);
	g_autofree char *p99 = g_strdup_printf("%s-p99-us", figure);
	g_autofree char *bytes = g_strdup_printf("%s-reply-bytes", figure);

	bench_figure(p50, bench_median(k->p50));
	bench_figure(p90, bench_median(k->p90));
	bench_figure(p99, bench_median(k->p99));
	bench_figure(bytes, (double)k->reply_bytes);
}

static void
kind_clear(CallKind *k)
{
	g_array_unref(k->round);
	g_array_unref(k->p50);
	g_array_unref(k->p90);
	g_array_unref(k->p99);
}

/* ---- the bare read ---------------------------------------------------- */

/* What FindSlots reads of a slot and hands on (store_list_slots_after). */
#define SLOT_ROW_SQL \
	"SELECT id, offering, kind, start, \"end\", capacity, booked, held," \
	" status FROM slot WHERE id = ?1"

static gboolean
bare_read_open(BareRead *r, const char *path, DBusMessage *reply,
	       GError **error)
{
	DBusMessageIter iter, array, entry;

	r->ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT;
	     dbus_message_iter_next(&array)) {
		const char *id;
		gint64 n;

		dbus_message_iter_recurse(&array, &entry);
		dbus_message_iter_get_basic(&entry, &id);
		n = g_ascii_strtoll(id + 2, NULL, 10);
		g_array_append_val(r->ids, n);
	}
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v3(r->db, SLOT_ROW_SQL, -1,
			       SQLITE_PREPARE_PERSISTENT, &r->slot,
			       NULL) != SQLITE_OK) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "bare read of %s: %s", path,
			    sqlite3_errmsg(r->db));
		return FALSE;
	}
	return TRUE;
}

static void
bare_read_close(BareRead *r)
{
	sqlite3_finalize(r->slot);
	sqlite3_close(r->db);
	if (r->ids)
		g_array_unref(r->ids);
}

/* One read transaction of every row, each turned into owned values as
 * slotd's StoreSlot is. */
static gboolean
time_bare_read(BareRead *r, CallKind *k, GError **error)
{
	double t0 = bench_now_us(), dt;
	guint found = 0;

	sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
	for (guint i = 0; i < r->ids->len; i++) {
		sqlite3_bind_int64(r->slot, 1,
				   g_array_index(r->ids, gint64, i));
		if (sqlite3_step(r->slot) == SQLITE_ROW) {
			g_autofree char *offering = g_strdup(
				(const char *)sqlite3_column_text(r->slot, 1));
			g_autofree char *kind = g_strdup(
				(const char *)sqlite3_column_text(r->slot, 2));

			found += offering && kind &&
				 sqlite3_column_int64(r->slot, 3) > 0;
		}
		sqlite3_reset(r->slot);
	}
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	dt = bench_now_us() - t0;
	if (found != r->ids->len) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "the bare read found %u of %u slots", found,
			    r->ids->len);
		return FALSE;
	}
	g_array_append_val(k->round, dt);
	return TRUE;
}

/* slotd's reply to `call`, handed to the bare server to replay when
 * `method` is called. */
static DBusMessage *
capture(DBusConnection *connection, DBusMessage *call, const char *method,
	GError **error)
{
	g_autoptr(DBusMessage) reply = bench_call(connection, call, error);
	g_autoptr(DBusMessage) set = NULL;
	g_autoptr(DBusMessage) done = NULL;
	char *bytes = NULL;
	int length = 0;

	if (!reply)
		return NULL;
	if (!dbus_message_marshal(reply, &bytes, &length)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "cannot marshal a reply for %s", method);
		return NULL;
	}
	set = bench_new_call(ECHO_NAME, ECHO_PATH, ECHO_IFACE, "SetReply");
	dbus_message_append_args(set, DBUS_TYPE_STRING, &method,
				 DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &bytes,
				 length, DBUS_TYPE_INVALID);
	dbus_free(bytes);
	done = bench_call(connection, set, error);
	return done ? g_steal_pointer(&reply) : NULL;
}

/* One ListServices and one FindSlots reply, handed to the bare server
 * to replay, and the slots the second names for the bare read. */
static gboolean
capture_replies(DBusConnection *connection, const LatencyOptions *o,
		BareRead *read, GError **error)
{
	g_autoptr(DBusMessage) list = make_list_services(o);
	g_autoptr(DBusMessage) find = make_find(o);
	g_autoptr(DBusMessage) listed = capture(connection, list, "ReplayList",
						error);
	g_autoptr(DBusMessage) found = NULL;

	if (!listed)
		return FALSE;
	found = capture(connection, find, "Replay", error);
	return found && bare_read_open(read, o->db, found, error);
}

/* `n` turns of the calls in `set`, one of each a turn; the first of a
 * turn moves by one every round; with `read`, the bare read after each
 * turn (into `c`). */
static gboolean
run_turns(DBusConnection *connection, const LatencyOptions *o,
	  CallKind *const *set, guint count, int n, int round, BareRead *read,
	  CallKind *c, GError **error)
{
	for (int i = 0; i < n; i++) {
		for (guint j = 0; j < count; j++)
			if (!time_call(connection, o,
				       set[(j + (guint)round) % count], error))
				return FALSE;
		if (read && !time_bare_read(read, c, error))
			return FALSE;
	}
	for (guint j = 0; j < count; j++)
		kind_end_round(set[j]);
	if (read)
		kind_end_round(c);
	return TRUE;
}

static gboolean
parse_latency_options(int argc, char **argv, LatencyOptions *o)
{
	GOptionEntry entries[] = {
		{ "address", 0, 0, G_OPTION_ARG_STRING, &o->address,
		  "Bus address", "ADDRESS" },
		{ "rounds", 0, 0, G_OPTION_ARG_INT, &o->rounds, "Rounds", "N" },
		{ "calls", 0, 0, G_OPTION_ARG_INT, &o->calls,
		  "Trivial call pairs per round", "N" },
		{ "find-calls", 0, 0, G_OPTION_ARG_INT, &o->find_calls,
		  "FindSlots pairs per round", "N" },
		{ "find-service", 0, 0, G_OPTION_ARG_STRING, &o->find_service,
		  "Service searched", "ID" },
		{ "find-municipality", 0, 0, G_OPTION_ARG_STRING,
		  &o->find_municipality, "Client's home", "CODE" },
		{ "find-language", 0, 0, G_OPTION_ARG_STRING, &o->find_language,
		  "Service language", "LANG" },
		{ "find-days", 0, 0, G_OPTION_ARG_INT, &o->find_days,
		  "Days searched", "N" },
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &o->db,
		  "slotd's database, for the bare read", "PATH" },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("- latency of slotd against the echo");
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) ||
	    !o->address || !o->find_service || !o->find_municipality ||
	    !o->db) {
		fprintf(stderr, "slotd-bench latency: %s\n",
			error ? error->message
			      : "--address, --find-service, "
				"--find-municipality and --db are needed");
		return FALSE;
	}
	return TRUE;
}

/* Forgets the rounds so far (the warm-up). */
static void
kind_reset(CallKind *k)
{
	g_array_set_size(k->p50, 0);
	g_array_set_size(k->p90, 0);
	g_array_set_size(k->p99, 0);
}

enum { ECHO_SMALL, TRIVIAL, ECHO_LIST, ECHO_200, FIND_200, SQLITE_200 };

static gboolean
run_latency(DBusConnection *connection, const LatencyOptions *o,
	    CallKind *kinds, BareRead *read, GError **error)
{
	CallKind *const trivial[] = { &kinds[ECHO_LIST], &kinds[TRIVIAL],
				      &kinds[ECHO_SMALL] };
	CallKind *const find[] = { &kinds[ECHO_200], &kinds[FIND_200] };
	CallKind *sqlite = &kinds[SQLITE_200];

	if (!capture_replies(connection, o, read, error))
		return FALSE;
	/* A warm-up round that is not counted: caches, first statements. */
	if (!run_turns(connection, o, trivial, G_N_ELEMENTS(trivial), 20, 0,
		       NULL, NULL, error) ||
	    !run_turns(connection, o, find, G_N_ELEMENTS(find),
		       MIN(o->find_calls, 3), 0, read, sqlite, error))
		return FALSE;
	for (guint i = 0; i <= SQLITE_200; i++)
		kind_reset(&kinds[i]);
	for (int r = 0; r < o->rounds; r++) {
		if (!run_turns(connection, o, trivial, G_N_ELEMENTS(trivial),
			       o->calls, r, NULL, NULL, error) ||
		    !run_turns(connection, o, find, G_N_ELEMENTS(find),
			       o->find_calls, r, read, sqlite, error))
			return FALSE;
		bench_note("latency round %d/%d", r + 1, o->rounds);
	}
	kind_report(&kinds[ECHO_SMALL], "echo-small");
	kind_report(&kinds[TRIVIAL], "trivial-call");
	kind_report(&kinds[ECHO_LIST], "echo-list");
	kind_report(&kinds[ECHO_200], "echo-200");
	kind_report(&kinds[FIND_200], "find-200");
	kind_report(&kinds[SQLITE_200], "sqlite-200");
	return TRUE;
}

int
cmd_latency(int argc, char **argv)
{
	LatencyOptions o = { NULL, 10, 200, 20, NULL, NULL, NULL, 14, NULL };
	CallKind kinds[] = {
		[ECHO_SMALL] = { "Echo", make_echo, 0 },
		[TRIVIAL] = { "ListServices", make_list_services, 0 },
		[ECHO_LIST] = { "ReplayList", make_replay_list, 0 },
		[ECHO_200] = { "Replay", make_replay, BENCH_FIND_SLOTS },
		[FIND_200] = { "FindSlots", make_find, BENCH_FIND_SLOTS },
		[SQLITE_200] = { "bare read", NULL, 0 },
	};
	BareRead read = { NULL };
	g_autoptr(GError) error = NULL;
	DBusConnection *connection;
	gboolean ok;

	if (!parse_latency_options(argc, argv, &o))
		return 2;
	if (!o.find_language)
		o.find_language = g_strdup("fi");
	connection = bench_connect(o.address, &error);
	if (!connection) {
		fprintf(stderr, "slotd-bench: %s\n", error->message);
		return 1;
	}
	for (guint i = 0; i < G_N_ELEMENTS(kinds); i++)
		kind_init(&kinds[i]);
	ok = run_latency(connection, &o, kinds, &read, &error);
	if (!ok)
		fprintf(stderr, "slotd-bench latency: %s\n", error->message);
	for (guint i = 0; i < G_N_ELEMENTS(kinds); i++)
		kind_clear(&kinds[i]);
	bench_disconnect(connection);
	bare_read_close(&read);
	g_free(o.db);
	g_free(o.address);
	g_free(o.find_service);
	g_free(o.find_municipality);
	g_free(o.find_language);
	return ok ? 0 : 1;
}
