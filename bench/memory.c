/* Memory on a fixed workload: slotd's peak resident memory (VmHWM)
 * after a start and this, nothing else:
 *
 *   - the staff feeds of eight units with 10,000 bookings each (the
 *     loader's feed units, crisis-duty bases), each fetched once over
 *     HTTP and so rendered cold;
 *   - 100 FindSlots over the whole region: every service of
 *     ListServices in turn, no municipality, language or other filter,
 *     from now to the end of the horizon (--days), with the largest
 *     limit FindSlots allows (2000 slots).
 *
 * A service that refuses a search without a filter (home visits need
 * the client's municipality) is left out after its first refusal, and
 * the 100 searches go round the others; the report line names it.
 *
 * bench.sh runs it on a slotd started for it alone, once the horizon is
 * complete, so that the figures' own slotd keeps its feeds cold and
 * the peak is that of this workload only. */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#define FIND_MAX_LIMIT 2000

typedef struct {
	char *address;
	int pid;
	char **units;
	int feeds;
	int searches;
	int days;
} MemoryOptions;

typedef struct {
	guint events;		/* in the feeds fetched */
	guint answered;
	guint64 slots;		/* returned by the searches */
	GString *left_out;	/* services refusing, and the first reason */
	char *refusal;
	GPtrArray *services;	/* char *, those searched */
} Workload;

static gboolean
list_services(DBusConnection *connection, GPtrArray *services,
	      GError **error)
{
	g_autoptr(DBusMessage) call = bench_new_call(
		SLOTD_NAME, SLOTD_PATH, SCHEDULER_IFACE, "ListServices");
	g_autoptr(DBusMessage) reply = bench_call(connection, call, error);
	DBusMessageIter iter, array, entry;

	if (!reply)
		return FALSE;
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	for (; dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT;
	     dbus_message_iter_next(&array)) {
		const char *id;

		dbus_message_iter_recurse(&array, &entry);
		dbus_message_iter_get_basic(&entry, &id);
		g_ptr_array_add(services, g_strdup(id));
	}
	if (services->len)
		return TRUE;
	g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "slotd lists no services");
	return FALSE;
}

static guint
count_events(const GString *text)
{
	guint n = 0;

	for (const char *p = text->str; (p = strstr(p, "BEGIN:VEVENT"));
	     p += 12)
		n++;
	return n;
}

static gboolean
fetch_feeds(DBusConnection *connection, const MemoryOptions *o,
	    Workload *w, GError **error)
{
	g_autofree char *http = bench_http_address(connection, error);

	if (!http)
		return FALSE;
	for (int i = 0; i < o->feeds; i++) {
		g_autofree char *path = bench_feed_path(connection,
							o->units[i], error);
		HttpResponse response = { 0 };
		gboolean ok = path && http_get_cold(http, path, &response,
						    error);

		if (ok && response.status != 200) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "feed of %s: status %d", o->units[i],
				    response.status);
			ok = FALSE;
		}
		if (ok)
			w->events += count_events(response.text);
		http_response_clear(&response);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

static DBusMessage *
whole_region_find(const char *service, gint64 to)
{
	DBusMessage *m = bench_new_call(SLOTD_NAME, SLOTD_PATH,
					SCHEDULER_IFACE, "FindSlots");
	DBusMessageIter iter, dict;

	dbus_message_iter_init_append(m, &iter);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &service);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
	bench_dict_uint32(&dict, "limit", FIND_MAX_LIMIT);
	bench_dict_int64(&dict, "to", to);
	dbus_message_iter_close_container(&iter, &dict);
	return m;
}

static guint
reply_length(DBusMessage *reply)
{
	DBusMessageIter iter, array;
	guint n = 0;

	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	for (; dbus_message_iter_get_arg_type(&array) != DBUS_TYPE_INVALID;
	     dbus_message_iter_next(&array))
		n++;
	return n;
}

/* What slotd said, without bench_call()'s "METHOD: ERROR: " before it. */
static const char *
error_text(const GError *error)
{
	const char *text = error->message;

	for (int i = 0; i < 2 && strstr(text, ": "); i++)
		text = strstr(text, ": ") + 2;
	return text;
}

/* Round the services until `searches` were answered; a refusing one
 * is left out. */
static gboolean
search(DBusConnection *connection, const MemoryOptions *o, Workload *w,
       GError **error)
{
	gint64 to = g_get_real_time() / G_USEC_PER_SEC +
		    (gint64)o->days * 86400;
	guint next = 0;

	while (w->answered < (guint)o->searches && w->services->len) {
		guint at = next % w->services->len;
		const char *service = w->services->pdata[at];
		g_autoptr(DBusMessage) call = whole_region_find(service, to);
		g_autoptr(GError) refusal = NULL;
		g_autoptr(DBusMessage) reply = bench_call(connection, call,
							  &refusal);

		if (reply) {
			w->answered++;
			w->slots += reply_length(reply);
			next = at + 1;
			continue;
		}
		g_string_append_printf(w->left_out, "%s%s",
				       w->left_out->len ? ", " : "", service);
		if (!w->refusal)
			w->refusal = g_strdup(error_text(refusal));
		g_ptr_array_remove_index(w->services, at);
		next = at;
	}
	if (w->answered == (guint)o->searches)
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "no service answers a search without a filter (%s)",
		    w->refusal ? w->refusal : "none listed");
	return FALSE;
}

static gboolean
run_workload(DBusConnection *connection, const MemoryOptions *o,
	     Workload *w, GError **error)
{
	double t0 = bench_now_us(), feeds_s, rss, peak;

	if (!list_services(connection, w->services, error) ||
	    !fetch_feeds(connection, o, w, error))
		return FALSE;
	feeds_s = (bench_now_us() - t0) / 1e6;
	if (!search(connection, o, w, error) ||
	    !bench_process_mib(o->pid, "VmHWM:", &peak, error) ||
	    !bench_process_mib(o->pid, "VmRSS:", &rss, error))
		return FALSE;
	bench_note("%d feeds in %.1f s, %d searches in %.1f s", o->feeds,
		   feeds_s, o->searches,
		   (bench_now_us() - t0) / 1e6 - feeds_s);
	printf("info memory-workload %d staff feeds (%u events), %d FindSlots "
	       "over %u services (no filter, %d days, limit %d; %"
	       G_GUINT64_FORMAT " slots returned)%s%s%s%s%s\n", o->feeds,
	       w->events, o->searches, w->services->len, o->days,
	       FIND_MAX_LIMIT, w->slots,
	       w->left_out->len ? "; left out, as they need a filter: " : "",
	       w->left_out->str, w->refusal ? " (" : "",
	       w->refusal ? w->refusal : "", w->refusal ? ")" : "");
	bench_figure("fixed-rss-peak-mib", peak);
	bench_figure("fixed-rss-mib", rss);
	return TRUE;
}

int
cmd_memory(int argc, char **argv)
{
	MemoryOptions o = { NULL, 0, NULL, 8, 100, 120 };
	GOptionEntry entries[] = {
		{ "address", 0, 0, G_OPTION_ARG_STRING, &o.address,
		  "Bus address", "ADDRESS" },
		{ "pid", 0, 0, G_OPTION_ARG_INT, &o.pid, "slotd's process",
		  "PID" },
		{ "unit", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.units,
		  "A unit whose staff feed is fetched (--feeds of them)",
		  "ID" },
		{ "feeds", 0, 0, G_OPTION_ARG_INT, &o.feeds,
		  "Staff feeds fetched (default 8)", "N" },
		{ "searches", 0, 0, G_OPTION_ARG_INT, &o.searches,
		  "Whole-region searches (default 100)", "N" },
		{ "days", 0, 0, G_OPTION_ARG_INT, &o.days,
		  "Days searched from now: the horizon", "N" },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("- peak memory on a fixed workload");
	g_autoptr(GError) error = NULL;
	Workload w = { 0 };
	DBusConnection *connection = NULL;
	gboolean ok;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) ||
	    !o.address || o.pid <= 0 || o.feeds < 0 || o.days < 1 ||
	    (guint)o.feeds > (o.units ? g_strv_length(o.units) : 0)) {
		fprintf(stderr, "slotd-bench memory: %s\n",
			error ? error->message
			      : "--address, --pid and --feeds --unit are "
				"needed");
		return 2;
	}
	w.services = g_ptr_array_new_with_free_func(g_free);
	w.left_out = g_string_new(NULL);
	ok = (connection = bench_connect(o.address, &error)) &&
	     run_workload(connection, &o, &w, &error);
	if (!ok)
		fprintf(stderr, "slotd-bench memory: %s\n", error->message);
	bench_disconnect(connection);
	g_ptr_array_unref(w.services);
	g_string_free(w.left_out, TRUE);
	g_free(w.refusal);
	g_free(o.address);
	g_strfreev(o.units);
	return ok ? 0 : 1;
}
