/* Durable booking rates: Scheduler1.Book from one client against the
 * same booking written bare on a copy of slotd's database (the same
 * schema, rows and indexes: bare-copy.c), and from 16 concurrent
 * clients (one connection and thread each, one call in flight each)
 * against the bare group commit of 16 threads on that copy; beside
 * each rate the CPU time per booking (slotd's process; the bare
 * benchmark's own). The figures are medians over the rounds; in each
 * round the pairs run one after the other, the order flipping every
 * round. The one-row commit is an information row (the disk's limit).
 * Last, one more round of Book from 16 clients with a pinger: the main
 * loop's stalls under load.
 *
 * slotd and the bare side make the same number of bookings in a
 * measurement, so that neither is measured over a different stretch of
 * the same work. The numbers come from the warm-up: what slotd books
 * in --seconds at the rate it had there, cut down so that every round
 * and the stall round fit in the free seats found for slotd (it books
 * each seat once; the bare copy gives its seats back between
 * measurements instead, see bare-copy.c). */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	char *address;
	char *dir;
	int rounds;
	double seconds;
	int clients;
	char *service;
	char *language;
	int pool_days;
	char *db;		/* slotd's database, copied for the bare */
	int pid;		/* slotd's, for its CPU time */
	guint one;		/* bookings a measurement, one client */
	guint many;		/* bookings a measurement, `clients` */
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
	DBusMessageIter iter, dict;
	const char *service = o->service;

	dbus_message_iter_init_append(m, &iter);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &service);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
	bench_dict_uint32(&dict, "limit", 2000);
	for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
		bench_dict_int64(&dict, keys[i], values[i]);
	dbus_message_iter_close_container(&iter, &dict);
	return m;
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
		bench_found_seats(reply, pool->slots);
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
	gint *left;		/* bookings still to make, shared */
	guint done;
	double finished;
	GError *error;
} Booker;

static gpointer
booker_run(gpointer data)
{
	Booker *b = data;

	while (g_atomic_int_add(b->left, -1) > 0) {
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

/* slotd's CPU time so far, in seconds (utime + stime). */
static double
process_cpu(int pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
	g_autofree char *text = NULL;
	g_auto(GStrv) fields = NULL;
	const char *after;

	if (pid <= 0 || !g_file_get_contents(path, &text, NULL, NULL) ||
	    !(after = strrchr(text, ')')))
		return -1;
	/* After "(comm)": state is field 3; utime and stime are 14, 15. */
	fields = g_strsplit(after + 2, " ", 0);
	if (g_strv_length(fields) < 13)
		return -1;
	return (g_ascii_strtod(fields[11], NULL) +
		g_ascii_strtod(fields[12], NULL)) /
	       (double)sysconf(_SC_CLK_TCK);
}

static double book_rate_n(const RateOptions *o, SeatPool *pool, int n,
			  guint count, GError **error);

/* book_rate_n(), with slotd's CPU time per booking in ms. */
static double
book_rate(const RateOptions *o, SeatPool *pool, int n, guint count,
	  double *ret_cpu_ms, GError **error)
{
	double cpu = process_cpu(o->pid);
	double rate = book_rate_n(o, pool, n, count, error);

	if (ret_cpu_ms)
		*ret_cpu_ms = cpu < 0 || rate < 0 ?
				      -1 :
				      (process_cpu(o->pid) - cpu) * 1000 /
					      count;
	return rate;
}

/* Bookings per second of `count` bookings from `n` clients; the
 * connections are made before the clock starts. */
static double
book_rate_n(const RateOptions *o, SeatPool *pool, int n, guint count,
	    GError **error)
{
	g_autofree Booker *bookers = g_new0(Booker, n);
	g_autofree GThread **threads = g_new0(GThread *, n);
	gint left = (gint)count;
	double start, last = 0;
	guint done = 0;

	if (pool->slots->len - (guint)pool->next < count) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "%u free seats left to book, %u asked",
			    pool->slots->len - (guint)pool->next, count);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		bookers[i].options = o;
		bookers[i].pool = pool;
		bookers[i].left = &left;
		bookers[i].connection = bench_connect(o->address, error);
		if (!bookers[i].connection)
			n = i; /* close those made so far */
	}
	start = bench_now_us();
	for (int i = 0; i < n && !*error; i++)
		threads[i] = g_thread_new("booker", booker_run, &bookers[i]);
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
	if (!*error && done != count)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "%u of %u bookings made", done, count);
	return *error ? -1 : done / ((last - start) / 1e6);
}

/* ---- rounds ---------------------------------------------------------- */

typedef enum {
	S_BARE_TXN, S_BOOK_ONE, S_BARE_GROUP, S_BOOK_MANY, S_COMMIT_ROW,
	S_BARE_TXN_CPU, S_BOOK_ONE_CPU, S_BARE_GROUP_CPU, S_BOOK_MANY_CPU,
	N_SAMPLES
} Sample;

static const char *const sample_names[N_SAMPLES] = {
	"bare-booking-txn-per-s", "book-1-client-per-s",
	"bare-group-commit-per-s", "book-16-clients-per-s",
	"bare-one-row-commit-per-s", "bare-booking-txn-cpu-ms",
	"book-1-client-cpu-ms", "bare-group-commit-cpu-ms",
	"book-16-clients-cpu-ms",
};

typedef struct {
	GArray *s[N_SAMPLES];
} RateSamples;

static gboolean
add_rate(RateSamples *s, Sample rate_at, double rate, Sample cpu_at,
	 double cpu)
{
	if (rate < 0)
		return FALSE;
	g_array_append_val(s->s[rate_at], rate);
	if (cpu >= 0)
		g_array_append_val(s->s[cpu_at], cpu);
	return TRUE;
}

static gboolean
book_pair(const RateOptions *o, SeatPool *pool, BareCopy *copy, int n,
	  gboolean slotd_first, RateSamples *s, GError **error)
{
	double cpu = -1;

	for (int i = 0; i < 2; i++) {
		gboolean slotd = (i == 0) == slotd_first;
		double rate;

		if (slotd)
			rate = book_rate(o, pool, n, n == 1 ? o->one : o->many,
					 &cpu, error);
		else if (n == 1)
			rate = bare_copy_booking_rate(copy, o->one, &cpu,
						      error);
		else
			rate = bare_copy_group_rate(copy, n, o->many, &cpu,
						    error);
		if (!add_rate(s,
			      n == 1 ? (slotd ? S_BOOK_ONE : S_BARE_TXN) :
				       (slotd ? S_BOOK_MANY : S_BARE_GROUP),
			      rate, n == 1 ? (slotd ? S_BOOK_ONE_CPU :
						      S_BARE_TXN_CPU) :
					     (slotd ? S_BOOK_MANY_CPU :
						      S_BARE_GROUP_CPU),
			      cpu))
			return FALSE;
	}
	return TRUE;
}

static gboolean
run_round(const RateOptions *o, SeatPool *pool, BareCopy *copy,
	  BareStore *bare, int round, RateSamples *s, GError **error)
{
	gboolean flip = round % 2;
	double commit = bare_store_commit_rate(bare, o->seconds, error);

	if (commit < 0)
		return FALSE;
	g_array_append_val(s->s[S_COMMIT_ROW], commit);
	return book_pair(o, pool, copy, 1, flip, s, error) &&
	       book_pair(o, pool, copy, o->clients, !flip, s, error);
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
		  "Seconds of each of slotd's measurements (at the warm-up's "
		  "rate; sizes the bookings made)", "S" },
		{ "clients", 0, 0, G_OPTION_ARG_INT, &o->clients,
		  "Concurrent clients", "N" },
		{ "service", 0, 0, G_OPTION_ARG_STRING, &o->service,
		  "Service booked", "ID" },
		{ "language", 0, 0, G_OPTION_ARG_STRING, &o->language,
		  "Service language asked for", "LANG" },
		{ "pool-days", 0, 0, G_OPTION_ARG_INT, &o->pool_days,
		  "Days searched for free seats", "N" },
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &o->db,
		  "slotd's database, copied for the bare booking", "PATH" },
		{ "pid", 0, 0, G_OPTION_ARG_INT, &o->pid,
		  "slotd's process, for its CPU time", "PID" },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("- durable booking rates");
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) ||
	    !o->address || !o->dir || !o->service || !o->db ||
	    o->clients < 1) {
		fprintf(stderr, "slotd-bench rates: %s\n",
			error ? error->message
			      : "--address, --dir, --db and --service are "
				"needed");
		return FALSE;
	}
	return TRUE;
}

static void
report_rates(const RateOptions *o, RateSamples *s, BareCopy *copy)
{
	printf("info book-work %u bookings a measurement from 1 client, "
	       "%u from %d (slotd and bare alike); the bare copy's seats "
	       "given back %u times\n", o->one, o->many, o->clients,
	       bare_copy_recycled(copy));
	for (guint i = 0; i < N_SAMPLES; i++) {
		if (s->s[i]->len)
			bench_figure(sample_names[i], bench_median(s->s[i]));
		else
			bench_figure_null(sample_names[i]);
	}
	bench_figure("book-clients", o->clients);
	bench_figure("book-1-client-count", o->one);
	bench_figure("book-16-clients-count", o->many);
}

/* Book from 16 clients once more, with the pinger watching. */
static gboolean
stall_under_load(const RateOptions *o, SeatPool *pool, GError **error)
{
	BenchPinger *p = bench_pinger_start(o->address, error);
	gboolean ok;

	if (!p)
		return FALSE;
	bench_pinger_mark(p);
	ok = book_rate(o, pool, o->clients, o->many, NULL, error) >= 0 &&
	     bench_pinger_report(p, "load", error);
	bench_pinger_stop(p);
	return ok;
}

/* The bookings of each measurement: what slotd books in o->seconds at
 * the warm-up's rates, scaled down to what the free seats allow for
 * every round and the stall round (a twentieth kept spare). */
static gboolean
size_work(RateOptions *o, const SeatPool *pool, double one_rate,
	  double many_rate, GError **error)
{
	guint left = pool->slots->len - (guint)pool->next;
	double one = MAX(one_rate * o->seconds, 10);
	double many = MAX(many_rate * o->seconds, 4.0 * o->clients);
	double need = o->rounds * (one + many) + many;
	double room = left * 0.95;

	if (need > room) {
		one *= room / need;
		many *= room / need;
	}
	o->one = (guint)one;
	o->many = (guint)many;
	if (o->one >= 5 && o->many >= (guint)o->clients)
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "%u free seats of %s: too few for %d rounds of booking",
		    left, o->service, o->rounds);
	return FALSE;
}

static gboolean
run_rates(RateOptions *o, SeatPool *pool, BareCopy *copy, BareStore *bare,
	  GError **error)
{
	guint warm = CLAMP(pool->slots->len / 50, 10, 200);
	guint warm_many = CLAMP(pool->slots->len / 50, (guint)o->clients,
				16u * (guint)o->clients);
	double one_rate, many_rate, cpu;
	RateSamples s;
	gboolean ok;

	for (guint i = 0; i < N_SAMPLES; i++)
		s.s[i] = g_array_new(FALSE, FALSE, sizeof(double));
	/* Warm-up, not counted: statements, caches, the WAL's first
	 * growth; and slotd's rates, which size the measurements. */
	ok = (one_rate = book_rate(o, pool, 1, warm, NULL, error)) >= 0 &&
	     (many_rate = book_rate(o, pool, o->clients, warm_many, NULL,
				    error)) >= 0 &&
	     bare_copy_booking_rate(copy, warm, &cpu, error) >= 0 &&
	     bare_copy_group_rate(copy, o->clients, warm_many, &cpu,
				  error) >= 0 &&
	     bare_store_commit_rate(bare, o->seconds, error) >= 0 &&
	     size_work(o, pool, one_rate, many_rate, error);
	if (ok)
		bench_note("%u bookings a measurement from 1 client, %u from "
			   "%d", o->one, o->many, o->clients);
	for (int r = 0; ok && r < o->rounds; r++) {
		ok = run_round(o, pool, copy, bare, r, &s, error);
		bench_note("rates round %d/%d", r + 1, o->rounds);
	}
	if (ok)
		report_rates(o, &s, copy);
	ok = ok && stall_under_load(o, pool, error);
	for (guint i = 0; i < N_SAMPLES; i++)
		g_array_unref(s.s[i]);
	return ok;
}

int
cmd_rates(int argc, char **argv)
{
	RateOptions o = { NULL, NULL, 5, 2.0, 16, NULL, NULL, 28, NULL, 0,
			  0, 0 };
	SeatPool pool = { g_ptr_array_new_with_free_func(g_free), 0, 1 };
	g_autoptr(GError) error = NULL;
	DBusConnection *connection = NULL;
	BareStore *bare = NULL;
	BareCopy *copy = NULL;
	gboolean ok;

	if (!parse_rate_options(argc, argv, &o))
		return 2;
	dbus_threads_init_default();
	ok = (connection = bench_connect(o.address, &error)) &&
	     pool_fill(&pool, connection, &o, &error) &&
	     (copy = bare_copy_open(o.db, o.dir, o.service, o.language,
				    &error)) &&
	     (bare = bare_store_open(o.dir, FALSE, &error)) &&
	     run_rates(&o, &pool, copy, bare, &error);
	if (!ok)
		fprintf(stderr, "slotd-bench rates: %s\n", error->message);
	bare_copy_close(copy);
	bare_store_close(bare);
	bench_disconnect(connection);
	g_ptr_array_unref(pool.slots);
	g_free(o.address);
	g_free(o.dir);
	g_free(o.service);
	g_free(o.language);
	g_free(o.db);
	return ok ? 0 : 1;
}
