/* Durable booking rates: Scheduler1.Book from one client against the
 * bare booking-shaped SQLite transaction, and from 16 concurrent
 * clients (one connection and thread each, one call in flight each)
 * against the bare one-row commit. Each round runs the four for the
 * same number of seconds, a pair at a time with the order flipping
 * every round; the figures are medians over the rounds. */
#include "bench.h"

#include <stdio.h>
#include <string.h>

typedef struct {
	char *address;
	char *dir;
	int rounds;
	double seconds;
	int clients;
	char *service;
	char *language;
	int pool_days;
} RateOptions;

/* Free seats found ahead of time, one entry per seat. */
typedef struct {
	GPtrArray *slots;	/* char *slot id */
	gint next;		/* atomically taken */
	gint serial;		/* client references */
} SeatPool;

/* ---- the pool of free seats ------------------------------------------ */

static DBusMessage *
find_call(const RateOptions *o, dbus_int64_t from, dbus_int64_t to)
{
	DBusMessage *m = bench_new_call(SLOTD_NAME, SLOTD_PATH,
					SCHEDULER_IFACE, "FindSlots");
	const char *keys[] = { "from", "to" };
	dbus_int64_t values[] = { from, to };
	DBusMessageIter iter, dict, entry, variant;
	const char *service = o->service;

	dbus_message_iter_init_append(m, &iter);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &service);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
	bench_dict_uint32(&dict, "limit", 2000);
	for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
		dbus_message_iter_open_container(&dict, DBUS_TYPE_DICT_ENTRY,
						 NULL, &entry);
		dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING,
					       &keys[i]);
		dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, "x",
						 &variant);
		dbus_message_iter_append_basic(&variant, DBUS_TYPE_INT64,
					       &values[i]);
		dbus_message_iter_close_container(&entry, &variant);
		dbus_message_iter_close_container(&dict, &entry);
	}
	dbus_message_iter_close_container(&iter, &dict);
	return m;
}

/* Adds every seat of a FindSlots reply; returns the latest start. */
static dbus_int64_t
pool_add_reply(SeatPool *pool, DBusMessage *reply)
{
	DBusMessageIter iter, array, entry;
	dbus_int64_t latest = 0;

	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT;
	     dbus_message_iter_next(&array)) {
		const char *slot, *unit;
		dbus_int64_t start;
		dbus_uint32_t free_seats;

		dbus_message_iter_recurse(&array, &entry);
		dbus_message_iter_get_basic(&entry, &slot);
		dbus_message_iter_next(&entry);
		dbus_message_iter_get_basic(&entry, &unit);
		dbus_message_iter_next(&entry);
		dbus_message_iter_get_basic(&entry, &start);
		dbus_message_iter_next(&entry);
		dbus_message_iter_next(&entry);
		dbus_message_iter_get_basic(&entry, &free_seats);
		for (dbus_uint32_t s = 0; s < free_seats; s++)
			g_ptr_array_add(pool->slots, g_strdup(slot));
		latest = MAX(latest, start);
	}
	return latest;
}

static gboolean
pool_fill(SeatPool *pool, DBusConnection *connection, const RateOptions *o,
	  GError **error)
{
	dbus_int64_t now = g_get_real_time() / G_USEC_PER_SEC;
	dbus_int64_t from = now + 3600, end = now + o->pool_days * 86400;

	/* Windows of a day: a limit of 2000 slots is never reached. */
	for (; from < end; from += 86400) {
		g_autoptr(DBusMessage) call = find_call(o, from, from + 86400);
		g_autoptr(DBusMessage) reply = bench_call(connection, call,
							  error);

		if (!reply)
			return FALSE;
		pool_add_reply(pool, reply);
	}
	bench_note("%u free seats of %s to book", pool->slots->len,
		   o->service);
	return TRUE;
}

static const char *
pool_take(SeatPool *pool)
{
	guint i = (guint)g_atomic_int_add(&pool->next, 1);

	return i < pool->slots->len ? pool->slots->pdata[i] : NULL;
}

/* ---- booking --------------------------------------------------------- */

static DBusMessage *
book_call(const RateOptions *o, const char *slot, guint serial)
{
	DBusMessage *m = bench_new_call(SLOTD_NAME, SLOTD_PATH,
					SCHEDULER_IFACE, "Book");
	char client_ref[32];
	const char *ref = client_ref;
	DBusMessageIter iter, dict;

	/* Pseudonymous, and nothing like a personal identity code. */
	g_snprintf(client_ref, sizeof(client_ref), "bench-%07u", serial);
	dbus_message_iter_init_append(m, &iter);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &slot);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &ref);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
	if (o->language)
		bench_dict_string(&dict, "language", o->language);
	dbus_message_iter_close_container(&iter, &dict);
	return m;
}

typedef struct {
	const RateOptions *options;
	SeatPool *pool;
	DBusConnection *connection;
	double until;		/* microseconds, monotonic */
	guint done;
	double finished;
	GError *error;
} Booker;

static gpointer
booker_run(gpointer data)
{
	Booker *b = data;

	while (bench_now_us() < b->until) {
		const char *slot = pool_take(b->pool);
		g_autoptr(DBusMessage) call = NULL;
		g_autoptr(DBusMessage) reply = NULL;

		if (!slot) {
			g_set_error(&b->error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "ran out of free seats to book");
			break;
		}
		call = book_call(b->options, slot,
				 (guint)g_atomic_int_add(&b->pool->serial, 1));
		reply = bench_call(b->connection, call, &b->error);
		if (!reply)
			break;
		b->done++;
	}
	b->finished = bench_now_us();
	return NULL;
}

/* Bookings per second with `n` clients; the connections are made
 * before the clock starts. */
static double
book_rate(const RateOptions *o, SeatPool *pool, int n, GError **error)
{
	g_autofree Booker *bookers = g_new0(Booker, n);
	g_autofree GThread **threads = g_new0(GThread *, n);
	double start, last = 0;
	guint done = 0;

	for (int i = 0; i < n; i++) {
		bookers[i].options = o;
		bookers[i].pool = pool;
		bookers[i].connection = bench_connect(o->address, error);
		if (!bookers[i].connection)
			n = i; /* close those made so far */
	}
	start = bench_now_us();
	for (int i = 0; i < n && !*error; i++) {
		bookers[i].until = start + o->seconds * 1e6;
		threads[i] = g_thread_new("booker", booker_run, &bookers[i]);
	}
	for (int i = 0; i < n; i++) {
		if (threads[i])
			g_thread_join(threads[i]);
		bench_disconnect(bookers[i].connection);
		done += bookers[i].done;
		last = MAX(last, bookers[i].finished);
		if (bookers[i].error && !*error)
			g_propagate_error(error, bookers[i].error);
		else
			g_clear_error(&bookers[i].error);
	}
	return *error ? -1 : done / ((last - start) / 1e6);
}

/* ---- rounds ---------------------------------------------------------- */

typedef struct {
	GArray *bare_txn, *book_one, *bare_commit, *book_many, *wide_txn;
} RateSamples;

static gboolean
add_rate(GArray *samples, double rate)
{
	if (rate < 0)
		return FALSE;
	g_array_append_val(samples, rate);
	return TRUE;
}

static gboolean
run_round(const RateOptions *o, SeatPool *pool, BareStore **bare, int round,
	  RateSamples *s, GError **error)
{
	gboolean flip = round % 2;

	/* The diagnosis first: it only explains, it is not a target. */
	if (!add_rate(s->wide_txn,
		      bare_store_booking_rate(bare[1], o->seconds, error)))
		return FALSE;
	if (flip && !add_rate(s->book_one, book_rate(o, pool, 1, error)))
		return FALSE;
	if (!add_rate(s->bare_txn,
		      bare_store_booking_rate(bare[0], o->seconds, error)))
		return FALSE;
	if (!flip && !add_rate(s->book_one, book_rate(o, pool, 1, error)))
		return FALSE;
	if (flip && !add_rate(s->book_many,
			      book_rate(o, pool, o->clients, error)))
		return FALSE;
	if (!add_rate(s->bare_commit,
		      bare_store_commit_rate(bare[0], o->seconds, error)))
		return FALSE;
	if (!flip && !add_rate(s->book_many,
			       book_rate(o, pool, o->clients, error)))
		return FALSE;
	return TRUE;
}

static gboolean
parse_rate_options(int argc, char **argv, RateOptions *o)
{
	GOptionEntry entries[] = {
		{ "address", 0, 0, G_OPTION_ARG_STRING, &o->address,
		  "Bus address", "ADDRESS" },
		{ "dir", 0, 0, G_OPTION_ARG_FILENAME, &o->dir,
		  "Directory of the bare database (slotd's disk)", "DIR" },
		{ "rounds", 0, 0, G_OPTION_ARG_INT, &o->rounds, "Rounds", "N" },
		{ "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &o->seconds,
		  "Seconds of each measurement", "S" },
		{ "clients", 0, 0, G_OPTION_ARG_INT, &o->clients,
		  "Concurrent clients", "N" },
		{ "service", 0, 0, G_OPTION_ARG_STRING, &o->service,
		  "Service booked", "ID" },
		{ "language", 0, 0, G_OPTION_ARG_STRING, &o->language,
		  "Service language asked for", "LANG" },
		{ "pool-days", 0, 0, G_OPTION_ARG_INT, &o->pool_days,
		  "Days searched for free seats", "N" },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("- durable booking rates");
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) ||
	    !o->address || !o->dir || !o->service || o->clients < 1) {
		fprintf(stderr, "slotd-bench rates: %s\n",
			error ? error->message
			      : "--address, --dir and --service are needed");
		return FALSE;
	}
	return TRUE;
}

static void
report_rates(const RateOptions *o, RateSamples *s)
{
	bench_figure("bare-booking-txn-per-s", bench_median(s->bare_txn));
	bench_figure("book-1-client-per-s", bench_median(s->book_one));
	bench_figure("bare-one-row-commit-per-s",
		     bench_median(s->bare_commit));
	bench_figure("book-16-clients-per-s", bench_median(s->book_many));
	bench_figure("bare-booking-txn-wide-per-s",
		     bench_median(s->wide_txn));
	bench_figure("book-clients", o->clients);
}

/* bare: the booking-shaped database and its wide variant. */
static gboolean
run_rates(const RateOptions *o, SeatPool *pool, BareStore **bare,
	  GError **error)
{
	GArray *all[5];
	RateSamples s;
	gboolean ok;

	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		all[i] = g_array_new(FALSE, FALSE, sizeof(double));
	s = (RateSamples){ all[0], all[1], all[2], all[3], all[4] };
	/* Warm-up, not counted: statements, caches, the WAL's first
	 * growth. */
	ok = book_rate(o, pool, 1, error) >= 0 &&
	     bare_store_booking_rate(bare[0], o->seconds, error) >= 0 &&
	     bare_store_booking_rate(bare[1], o->seconds, error) >= 0;
	for (int r = 0; ok && r < o->rounds; r++) {
		ok = run_round(o, pool, bare, r, &s, error);
		bench_note("rates round %d/%d", r + 1, o->rounds);
	}
	if (ok)
		report_rates(o, &s);
	for (guint i = 0; i < G_N_ELEMENTS(all); i++)
		g_array_unref(all[i]);
	return ok;
}

int
cmd_rates(int argc, char **argv)
{
	RateOptions o = { NULL, NULL, 5, 2.0, 16, NULL, NULL, 28 };
	SeatPool pool = { g_ptr_array_new_with_free_func(g_free), 0, 1 };
	g_autoptr(GError) error = NULL;
	DBusConnection *connection = NULL;
	BareStore *bare[2] = { NULL, NULL };
	gboolean ok;

	if (!parse_rate_options(argc, argv, &o))
		return 2;
	dbus_threads_init_default();
	ok = (connection = bench_connect(o.address, &error)) &&
	     pool_fill(&pool, connection, &o, &error) &&
	     (bare[0] = bare_store_open(o.dir, FALSE, &error)) &&
	     (bare[1] = bare_store_open(o.dir, TRUE, &error)) &&
	     run_rates(&o, &pool, bare, &error);
	if (!ok)
		fprintf(stderr, "slotd-bench rates: %s\n", error->message);
	bare_store_close(bare[0]);
	bare_store_close(bare[1]);
	bench_disconnect(connection);
	g_ptr_array_unref(pool.slots);
	g_free(o.address);
	g_free(o.dir);
	g_free(o.service);
	g_free(o.language);
	return ok ? 0 : 1;
}
