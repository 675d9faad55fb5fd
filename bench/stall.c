/* Main-loop stalls as a caller sees them: a pinger thread with a bus
 * connection of its own sends org.freedesktop.DBus.Peer.Ping to slotd
 * every 10 ms and keeps each round trip. slotd answers Ping from the
 * same main loop as everything else, so a round trip of 150 ms means
 * the loop was busy for about that long. `slotd-bench stall` measures
 * it during a 36-week report (its rows in a memfd as slotctl asks, and
 * in the reply), a cold feed render and a reload; rates.c
 * during Book from 16 clients. Figures: p99 and max, in ms. */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PING_US 10000

struct _BenchPinger {
	DBusConnection *connection;
	GThread *thread;
	GMutex lock;
	GArray *samples;	/* ms, since the last mark */
	gboolean stop;
	GError *error;
};

static gpointer
pinger_run(gpointer data)
{
	BenchPinger *p = data;

	for (;;) {
		g_autoptr(DBusMessage) call = bench_new_call(
			SLOTD_NAME, SLOTD_PATH, "org.freedesktop.DBus.Peer",
			"Ping");
		g_autoptr(DBusMessage) reply = NULL;
		GError *error = NULL;
		double t0 = bench_now_us(), dt;
		gboolean stop;

		reply = bench_call(p->connection, call, &error);
		dt = bench_now_us() - t0;
		g_mutex_lock(&p->lock);
		if (!reply && !p->error)
			p->error = error;
		else
			g_clear_error(&error);
		dt /= 1000;
		g_array_append_val(p->samples, dt);
		stop = p->stop || p->error;
		g_mutex_unlock(&p->lock);
		if (stop)
			return NULL;
		dt = bench_now_us() - t0;
		if (dt < PING_US)
			g_usleep((gulong)(PING_US - dt));
	}
}

BenchPinger *
bench_pinger_start(const char *address, GError **error)
{
	BenchPinger *p = g_new0(BenchPinger, 1);

	p->connection = bench_connect(address, error);
	if (!p->connection) {
		g_free(p);
		return NULL;
	}
	g_mutex_init(&p->lock);
	p->samples = g_array_new(FALSE, FALSE, sizeof(double));
	p->thread = g_thread_new("pinger", pinger_run, p);
	return p;
}

void
bench_pinger_mark(BenchPinger *p)
{
	g_mutex_lock(&p->lock);
	g_array_set_size(p->samples, 0);
	g_mutex_unlock(&p->lock);
}

/* p99 and max of the round trips since the mark, as figures
 * stall-NAME-p99-ms and stall-NAME-max-ms. */
gboolean
bench_pinger_report(BenchPinger *p, const char *name, GError **error)
{
	g_autofree char *p99 = g_strdup_printf("stall-%s-p99-ms", name);
	g_autofree char *max = g_strdup_printf("stall-%s-max-ms", name);
	g_autoptr(GArray) samples = NULL;

	/* The ping under way when the call ended closes the gap; on a
	 * busy machine the pinger may not have run yet: wait for one
	 * round trip since the mark (at most 5 s), so that a short call
	 * still gets its figure. */
	g_usleep(2 * PING_US);
	for (guint waited = 0;; waited++) {
		gboolean some;

		g_mutex_lock(&p->lock);
		some = p->samples->len > 0 || p->error != NULL;
		g_mutex_unlock(&p->lock);
		if (some || waited >= 500)
			break;
		g_usleep(PING_US);
	}
	g_mutex_lock(&p->lock);
	samples = g_array_copy(p->samples);
	if (p->error && error)
		*error = g_error_copy(p->error);
	g_mutex_unlock(&p->lock);
	if (error && *error)
		return FALSE;
	if (samples->len == 0) {
		bench_figure_null(p99);
		bench_figure_null(max);
		return TRUE;
	}
	bench_figure(p99, bench_quantile(samples, 0.99));
	bench_figure(max, bench_quantile(samples, 1.0));
	bench_note("stall during %s: %u pings, max %.1f ms", name,
		   samples->len, bench_quantile(samples, 1.0));
	return TRUE;
}

void
bench_pinger_stop(BenchPinger *p)
{
	if (!p)
		return;
	g_mutex_lock(&p->lock);
	p->stop = TRUE;
	g_mutex_unlock(&p->lock);
	g_thread_join(p->thread);
	bench_disconnect(p->connection);
	g_array_unref(p->samples);
	g_clear_error(&p->error);
	g_mutex_clear(&p->lock);
	g_free(p);
}

/* ---- slotd-bench stall ------------------------------------------------ */

typedef struct {
	char *address;
	char *service;		/* the report's */
	char *unit;		/* a unit whose staff feed is still cold */
	gboolean reload;
	char *http;		/* slotd's feed server, host:port */
} StallOptions;

/* A year of the service's report would be over the 8,000 rows one
 * reply may have in the full region (216 units by week): 36 weeks. */
static DBusMessage *
year_report_call(const StallOptions *o, const char *method)
{
	DBusMessage *call = bench_new_call(SLOTD_NAME, SLOTD_PATH,
					   "org.slotd.Planner1", method);
	DBusMessageIter iter, dict;
	dbus_int64_t from = g_get_real_time() / G_USEC_PER_SEC;
	dbus_int64_t to = from + 36 * 7 * 86400;
	const char *service = o->service;

	dbus_message_iter_init_append(call, &iter);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &service);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_INT64, &from);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_INT64, &to);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
	bench_dict_string(&dict, "by", "week");
	dbus_message_iter_close_container(&iter, &dict);
	return call;
}

/* The report as slotctl asks for it: CapacityReportFd, the rows in a
 * memfd, read here whole (GVariant aa{sv}) and counted. */
static gboolean
year_report(DBusConnection *connection, const StallOptions *o,
	    GError **error)
{
	g_autoptr(DBusMessage) call = year_report_call(o, "CapacityReportFd");
	g_autoptr(DBusMessage) reply = bench_call(connection, call, error);
	g_autoptr(GMappedFile) mapped = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GVariant) rows = NULL;
	int fd = -1;

	if (!reply)
		return FALSE;
	if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_UNIX_FD, &fd,
				   DBUS_TYPE_INVALID)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "CapacityReportFd: no file descriptor in (%s)",
			    dbus_message_get_signature(reply));
		return FALSE;
	}
	mapped = g_mapped_file_new_from_fd(fd, FALSE, error);
	close(fd);
	if (!mapped)
		return FALSE;
	bytes = g_mapped_file_get_bytes(mapped);
	rows = g_variant_ref_sink(g_variant_new_from_bytes(
		G_VARIANT_TYPE("aa{sv}"), bytes, FALSE));
	bench_note("report: %zu rows, %.2f MB in the memfd",
		   g_variant_n_children(rows), g_bytes_get_size(bytes) / 1e6);
	return g_variant_n_children(rows) > 0;
}

/* The same report with its rows in the reply (CapacityReport): for the
 * record, what a caller of the plain method does to everybody else. */
static gboolean
year_report_inline(DBusConnection *connection, const StallOptions *o,
		   GError **error)
{
	g_autoptr(DBusMessage) call = year_report_call(o, "CapacityReport");
	g_autoptr(DBusMessage) reply = bench_call(connection, call, error);

	return reply != NULL;
}

static gboolean
feed_render(DBusConnection *connection, const StallOptions *o,
	    GError **error)
{
	g_autoptr(DBusMessage) issue = NULL;
	g_autoptr(DBusMessage) token = NULL;
	HttpResponse response = { 0 };
	const char *secret, *path, *unit = o->unit, *all = "";
	gboolean ok;

	issue = bench_new_call(SLOTD_NAME, SLOTD_PATH, ADMIN_IFACE,
			       "IssueFeedToken");
	dbus_message_append_args(issue, DBUS_TYPE_STRING, &unit,
				 DBUS_TYPE_STRING, &all, DBUS_TYPE_INVALID);
	token = bench_call(connection, issue, error);
	if (!token || !dbus_message_get_args(token, NULL, DBUS_TYPE_STRING,
					     &secret, DBUS_TYPE_STRING, &path,
					     DBUS_TYPE_INVALID))
		return FALSE;
	ok = http_get_cold(o->http, path, &response, error);
	if (ok && response.status != 200) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "feed GET: status %d", response.status);
		ok = FALSE;
	}
	http_response_clear(&response);
	return ok;
}

static gboolean
reload(DBusConnection *connection, const StallOptions *o, GError **error)
{
	g_autoptr(DBusMessage) call = bench_new_call(SLOTD_NAME, SLOTD_PATH,
						     ADMIN_IFACE, "Reload");
	g_autoptr(DBusMessage) reply = bench_call(connection, call, error);

	return reply != NULL;
}

/* ---- slotd's own account: slotd_main_loop_held_seconds ------------- */

/* Per work label: turns, seconds, and the cumulative bucket counts by
 * their upper bound in ms (le="+Inf" as G_MAXINT). */
typedef struct {
	double count, sum;
	GHashTable *buckets;	/* bound in ms -> count, both as pointers */
} Held;

static void
held_free(gpointer data)
{
	Held *h = data;

	g_hash_table_unref(h->buckets);
	g_free(h);
}

static Held *
held_of(GHashTable *all, const char *work)
{
	Held *h = g_hash_table_lookup(all, work);

	if (!h) {
		h = g_new0(Held, 1);
		h->buckets = g_hash_table_new(NULL, NULL);
		g_hash_table_insert(all, g_strdup(work), h);
	}
	return h;
}

#define HELD "slotd_main_loop_held_seconds"

/* The held histogram from /metrics; NULL when it cannot be read. */
static GHashTable *
held_read(const char *http)
{
	HttpResponse r = { 0 };
	GHashTable *all = NULL;
	g_auto(GStrv) lines = NULL;

	if (!http_get_cold(http, "/metrics", &r, NULL) || r.status != 200) {
		http_response_clear(&r);
		return NULL;
	}
	all = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				    held_free);
	lines = g_strsplit(r.text->str, "\n", -1);
	http_response_clear(&r);
	for (char **l = lines; *l; l++) {
		const char *w, *end, *value;
		g_autofree char *work = NULL;
		Held *h;

		if (!g_str_has_prefix(*l, HELD) ||
		    !(w = strstr(*l, "work=\"")) ||
		    !(end = strchr(w + 6, '"')) || !(value = strrchr(*l, ' ')))
			continue;
		work = g_strndup(w + 6, end - (w + 6));
		h = held_of(all, work);
		if (g_str_has_prefix(*l, HELD "_count"))
			h->count = g_ascii_strtod(value + 1, NULL);
		else if (g_str_has_prefix(*l, HELD "_sum"))
			h->sum = g_ascii_strtod(value + 1, NULL);
		else if (g_str_has_prefix(*l, HELD "_bucket")) {
			const char *le = strstr(*l, "le=\"");
			int ms = !le ? -1
				 : g_str_has_prefix(le + 4, "+Inf")
				     ? G_MAXINT
				     : (int)(g_ascii_strtod(le + 4, NULL) *
					     1000 + 0.5);

			if (ms >= 0)
				g_hash_table_insert(
					h->buckets, GINT_TO_POINTER(ms),
					GUINT_TO_POINTER((guint)g_ascii_strtod(
						value + 1, NULL)));
		}
	}
	return all;
}

static guint
bucket(const Held *h, int ms)
{
	return h ? GPOINTER_TO_UINT(g_hash_table_lookup(
			   h->buckets, GINT_TO_POINTER(ms)))
		 : 0;
}

/* One note per work that held the loop 10 ms or more during the phase:
 * turns, their time, and between which bucket bounds the longest lay. */
static void
held_note(const char *phase, GHashTable *before, GHashTable *after)
{
	GHashTableIter it;
	gpointer key, value;
	guint works = 0;

	if (!before || !after) {
		bench_note("loop held during %s: /metrics not readable", phase);
		return;
	}
	g_hash_table_iter_init(&it, after);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		const Held *a = value, *b = g_hash_table_lookup(before, key);
		double turns = a->count - (b ? b->count : 0);
		int low = 10, high = G_MAXINT;

		if (turns <= 0)
			continue;
		works++;
		/* The longest turn: above the largest bound whose bucket
		 * did not take every new turn, at most the next. */
		for (GList *l = g_hash_table_get_keys(a->buckets); l;
		     l = g_list_delete_link(l, l)) {
			int ms = GPOINTER_TO_INT(l->data);
			double in = bucket(a, ms) - bucket(b, ms);

			if (in < turns && ms >= low)
				low = ms;
			if (in >= turns && ms < high)
				high = ms;
		}
		if (high == G_MAXINT)
			bench_note("loop held during %s by %s: %.0f turns of "
				   "10 ms+, %.0f ms in all, longest over %d ms",
				   phase, (const char *)key, turns,
				   (a->sum - (b ? b->sum : 0)) * 1000, low);
		else
			bench_note("loop held during %s by %s: %.0f turns of "
				   "10 ms+, %.0f ms in all, longest %d-%d ms",
				   phase, (const char *)key, turns,
				   (a->sum - (b ? b->sum : 0)) * 1000, low,
				   high);
	}
	if (works == 0)
		bench_note("loop held during %s: no turn of 10 ms or more",
			   phase);
}

typedef gboolean (*Phase)(DBusConnection *, const StallOptions *,
			  GError **);

static gboolean
measure(BenchPinger *p, DBusConnection *connection, const StallOptions *o,
	const char *name, Phase phase, GError **error)
{
	g_autoptr(GHashTable) before = held_read(o->http);
	g_autoptr(GHashTable) after = NULL;
	double t0 = bench_now_us();

	bench_pinger_mark(p);
	if (!phase(connection, o, error))
		return FALSE;
	bench_note("%s took %.0f ms", name, (bench_now_us() - t0) / 1000);
	if (!bench_pinger_report(p, name, error))
		return FALSE;
	after = held_read(o->http);
	held_note(name, before, after);
	return TRUE;
}

/* slotd's feed server, from Admin1.GetHttpAddress. */
static char *
http_address(DBusConnection *connection, GError **error)
{
	g_autoptr(DBusMessage) where = bench_new_call(
		SLOTD_NAME, SLOTD_PATH, ADMIN_IFACE, "GetHttpAddress");
	g_autoptr(DBusMessage) http = bench_call(connection, where, error);
	const char *address;

	if (!http)
		return NULL;
	if (!dbus_message_get_args(http, NULL, DBUS_TYPE_STRING, &address,
				   DBUS_TYPE_INVALID)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "GetHttpAddress: not a string");
		return NULL;
	}
	return g_strdup(address);
}

int
cmd_stall(int argc, char **argv)
{
	StallOptions o = { NULL };
	GOptionEntry entries[] = {
		{ "address", 0, 0, G_OPTION_ARG_STRING, &o.address,
		  "Bus address", "ADDRESS" },
		{ "service", 0, 0, G_OPTION_ARG_STRING, &o.service,
		  "Service of the report", "ID" },
		{ "unit", 0, 0, G_OPTION_ARG_STRING, &o.unit,
		  "Unit whose staff feed is rendered cold", "ID" },
		{ "reload", 0, 0, G_OPTION_ARG_NONE, &o.reload,
		  "Also a Reload (change the configuration first)", NULL },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("- main-loop stalls");
	g_autoptr(GError) error = NULL;
	DBusConnection *connection = NULL;
	BenchPinger *p = NULL;
	gboolean ok;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) ||
	    !o.address || !o.service || !o.unit) {
		fprintf(stderr, "slotd-bench stall: %s\n",
			error ? error->message
			      : "--address, --service and --unit are needed");
		return 2;
	}
	dbus_threads_init_default();
	ok = (connection = bench_connect(o.address, &error)) &&
	     (o.http = http_address(connection, &error)) &&
	     (p = bench_pinger_start(o.address, &error)) &&
	     measure(p, connection, &o, "report", year_report, &error) &&
	     measure(p, connection, &o, "report-inline", year_report_inline,
		     &error) &&
	     measure(p, connection, &o, "feed", feed_render, &error) &&
	     (!o.reload ||
	      measure(p, connection, &o, "reload", reload, &error));
	if (!ok)
		fprintf(stderr, "slotd-bench stall: %s\n", error->message);
	bench_pinger_stop(p);
	bench_disconnect(connection);
	g_free(o.address);
	g_free(o.service);
	g_free(o.unit);
	g_free(o.http);
	return ok ? 0 : 1;
}
