/* org.slotd.Planner1: capacity, access and deadline reports and the
 * plugins' staffing plans. Every method only reads: a what-if option
 * (extra-staff ...) recomputes the rows and changes nothing.
 *
 * Nothing long runs on the main loop (issue 17). A handler checks at
 * the door what needs no database, takes a reference to the region
 * snapshot and the clock reading, and hands the call to the planner
 * pool (planner-pool.c): the reads and the computation run on a worker
 * thread with a read-only connection of its own, and only the reply is
 * sent from the main loop. A Reload meanwhile swaps the daemon's
 * region, not the call's. A caller that has gone by then is answered
 * all the same; the bus drops the reply.
 *
 * Each method has a twin named ...Fd that answers the same rows in a
 * sealed memfd instead of the message (docs/reports.md). A report of
 * thousands of rows is megabytes: in a message it is marshalled on the
 * main loop, and every answer slotd sends after it waits behind it in
 * the one stream to the bus (30-50 ms for 3 MB, a stall for everybody
 * else). The twin's rows are serialised and written on the worker, and
 * the loop sends a message of a few bytes. */
#define _GNU_SOURCE /* memfd_create, F_ADD_SEALS */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "calendar.h"
#include "options.h"
#include "planner-engine.h"
#include "report.h"
#include "validate.h"

#define E_(name) "org.slotd.Error." name
#define E_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define E_DENIED "org.freedesktop.DBus.Error.AccessDenied"

#define WEEK_DAYS 7

static const char *const errors_report[] = {
	E_ARGS, E_DENIED, E_("NoSuchService"), E_("NoSuchUnit"),
	E_("StorageUnavailable"), NULL
};
static const char *const errors_staffing[] = {
	E_ARGS, E_DENIED, E_("NoSuchService"), E_("ServiceUnavailable"),
	E_("StorageUnavailable"), NULL
};

static const SlotdOptionSpec capacity_keys[] = {
	{ "by", "s", "day or week (ISO weeks): one row per unit and period" },
	{ "unit", "s", "only this unit's rows" },
	{ "municipality", "s",
	  "only units in this municipality (code or name) and its rows" },
	{ NULL }
};

static const char *const errors_resources[] = {
	E_ARGS, E_DENIED, E_("NoSuchUnit"), E_("StorageUnavailable"), NULL
};

static const SlotdOptionSpec resource_keys[] = {
	{ "unit", "s", "only the resources of this unit" },
	{ "type", "s", "only practitioners, rooms or vehicles: practitioner, "
		       "room or vehicle" },
	{ NULL }
};

static const SlotdOptionSpec deadline_keys[] = {
	{ "unit", "s", "only this unit's bookings and row" },
	{ "municipality", "s",
	  "only units in this municipality (code or name)" },
	{ NULL }
};

/* One call on its way through the pool. The ...Fd twins share their
 * plain method's handler; their out signature tells them apart. */
typedef struct {
	BusCall *call;
	Region *region;		/* a reference: the call's snapshot */
	gint64 now;		/* the daemon's clock when it came */
	GVariant *options;	/* a{sv}; holds the query's strings */
	ReportQuery query;	/* Staffing: service, from and to only */
	const SlotdKindOps *ops; /* Staffing: the kind's plan hook */
	GVariant *passed;	/* Staffing: the options for the plugin */
	gboolean to_fd;		/* a ...Fd twin: the rows go in a memfd */
	PlannerJobFunc run;	/* the twin's rows, on the worker */
	int fd;			/* the twin's memfd once written, or -1 */
} PlanCall;

static PlanCall *
plan_call_new(Daemon *daemon, BusCall *call)
{
	PlanCall *pc = g_new0(PlanCall, 1);

	pc->call = call;
	pc->region = region_ref(capacity_region(daemon->capacity));
	pc->now = capacity_now(daemon->capacity);
	/* A twin's table entry answers a descriptor. */
	pc->to_fd = g_str_equal(bus_call_out_signature(call), "h");
	pc->fd = -1;
	return pc;
}

/* On the main context: the last reference to an old region may go. */
static void
plan_call_free(gpointer data)
{
	PlanCall *pc = data;

	g_clear_pointer(&pc->options, g_variant_unref);
	g_clear_pointer(&pc->passed, g_variant_unref);
	if (pc->fd >= 0)
		close(pc->fd);
	region_unref(pc->region);
	g_free(pc);
}

static void
plan_call_done(gpointer data, GVariant *reply, const GError *error)
{
	PlanCall *pc = data;

	if (reply && pc->to_fd) {
		g_variant_unref(g_variant_ref_sink(reply));
		bus_call_return_fd(pc->call, pc->fd);
		pc->fd = -1;
	} else if (reply) {
		bus_call_return_large(pc->call, reply);
	} else {
		bus_call_return_error(pc->call, error);
	}
}

static void
plan_call_refuse(PlanCall *pc, const GError *error)
{
	bus_call_return_error(pc->call, error);
	plan_call_free(pc);
}

/* The rows (aa{sv}) as GVariant's serialised form, little-endian, in
 * a memfd sealed against every change, read from its start. */
static int
rows_memfd(GVariant *rows, GError **error)
{
	g_autoptr(GVariant) le = G_BYTE_ORDER == G_LITTLE_ENDIAN ?
					 g_variant_ref(rows) :
					 g_variant_byteswap(rows);
	const char *data = g_variant_get_data(le);
	gsize size = g_variant_get_size(le), done = 0;
	int fd = memfd_create("slotd-rows", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		goto failed;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto failed;
		done += (gsize)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
				       F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0)
		goto failed;
	return fd;
failed:
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE,
		    "the rows could not be written to a memory file: %s; try "
		    "again later", g_strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* A ...Fd twin on the worker: the rows as its plain method computes
 * them, written to a memfd; the reply is an empty tuple. */
static GVariant *
run_to_fd(Store *store, gpointer data, GError **error)
{
	PlanCall *pc = data;
	g_autoptr(GVariant) reply = pc->run(store, data, error);
	g_autoptr(GVariant) rows = NULL;

	if (reply == NULL)
		return NULL;
	g_variant_ref_sink(reply);
	rows = g_variant_get_child_value(reply, 0);
	pc->fd = rows_memfd(rows, error);
	return pc->fd >= 0 ? g_variant_new("()") : NULL;
}

/* SLOTD_TEST_PLANNER_SECONDS=N: every Planner1 call holds its worker
 * N seconds before it starts, as a long report would; the tests use it
 * to keep the workers busy for certain. Never set in production. */
static guint
test_hold_seconds(void)
{
	static gsize once;
	static guint seconds;

	if (g_once_init_enter(&once)) {
		const char *text = g_getenv("SLOTD_TEST_PLANNER_SECONDS");
		guint64 n = 0;

		if (text && g_ascii_string_to_unsigned(text, 10, 1, 60, &n,
						       NULL))
			seconds = (guint)n;
		g_once_init_leave(&once, 1);
	}
	return seconds;
}

/* On the worker: the call's rows, or its rows in a memfd. */
static GVariant *
run_plan_call(Store *store, gpointer data, GError **error)
{
	PlanCall *pc = data;

	if (test_hold_seconds())
		g_usleep(test_hold_seconds() * G_USEC_PER_SEC);
	return pc->to_fd ? run_to_fd(store, data, error)
			 : pc->run(store, data, error);
}

static void
plan_call_start(Daemon *daemon, PlanCall *pc, PlannerJobFunc run)
{
	pc->run = run;
	(void)test_hold_seconds(); /* read on the main thread */
	planner_pool_push(daemon->planner, run_plan_call, plan_call_done, pc,
			  plan_call_free);
}

static PlanSource
plan_call_source(PlanCall *pc, Store *store)
{
	PlanSource source = { pc->region, store, pc->now };

	return source;
}

static GVariant *
rows_reply(GPtrArray *rows)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < rows->len; i++)
		g_variant_builder_add_value(&b, rows->pdata[i]);
	return g_variant_new("(aa{sv})", &b);
}

/* ---- reports (on a worker) ----------------------------------------------- */

static GVariant *
run_capacity_report(Store *store, gpointer data, GError **error)
{
	PlanCall *pc = data;
	PlanSource source = plan_call_source(pc, store);
	g_autoptr(GPtrArray) rows = NULL;

	if (!report_capacity(&source, &pc->query, &rows, error))
		return NULL;
	return rows_reply(rows);
}

static GVariant *
run_deadline_report(Store *store, gpointer data, GError **error)
{
	PlanCall *pc = data;
	PlanSource source = plan_call_source(pc, store);
	g_autoptr(GPtrArray) rows = NULL;

	if (!report_deadlines(&source, &pc->query, &rows, error))
		return NULL;
	return rows_reply(rows);
}

static GVariant *
run_staffing(Store *store, gpointer data, GError **error)
{
	PlanCall *pc = data;
	PlanSource source = plan_call_source(pc, store);
	g_autoptr(GPtrArray) rows = NULL;

	if (!planner_plan(&source, pc->ops, pc->query.service, pc->passed,
			  pc->query.from, pc->query.to, &rows, error))
		return NULL;
	return rows_reply(rows);
}

static GVariant *
run_resource_utilisation(Store *store, gpointer data, GError **error)
{
	PlanCall *pc = data;
	PlanSource source = plan_call_source(pc, store);
	g_autoptr(GPtrArray) rows = NULL;

	if (!report_resource_utilisation(&source, pc->query.from,
					 pc->query.to, pc->query.unit,
					 pc->query.service, &rows, error))
		return NULL;
	return rows_reply(rows);
}

/* ---- reports (at the door) ----------------------------------------------- */

/* The query of CapacityReport and DeadlineReport; its strings live as
 * long as `options`. */
static gboolean
read_query(GVariant *args, const SlotdOptionSpec *keys, ReportQuery *ret,
	   GVariant **ret_options, GError **error)
{
	const char *by;

	g_variant_get(args, "(&sxx@a{sv})", &ret->service, &ret->from,
		      &ret->to, ret_options);
	if (!options_check(*ret_options, keys, NULL, "report option", error))
		return FALSE;
	by = options_string(*ret_options, "by", "day");
	if (g_str_equal(by, "week")) {
		ret->by = REPORT_BY_WEEK;
	} else if (g_str_equal(by, "day")) {
		ret->by = REPORT_BY_DAY;
	} else {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "report option 'by' must be day or week");
		return FALSE;
	}
	ret->unit = options_string(*ret_options, "unit", NULL);
	ret->municipality = options_string(*ret_options, "municipality", NULL);
	/* Checked at the door: these come back in error messages. */
	return validate_id(ret->service, "service", error) &&
	       (ret->unit == NULL || validate_id(ret->unit, "unit", error)) &&
	       (ret->municipality == NULL ||
		validate_text(ret->municipality, "municipality",
			      VALIDATE_ID_MAX, error));
}

static void
start_report(Daemon *daemon, BusCall *call, GVariant *args,
	     const SlotdOptionSpec *keys, PlannerJobFunc run)
{
	PlanCall *pc = plan_call_new(daemon, call);
	g_autoptr(GError) error = NULL;

	if (read_query(args, keys, &pc->query, &pc->options, &error))
		plan_call_start(daemon, pc, run);
	else
		plan_call_refuse(pc, error);
}

static void
capacity_report(BusCall *call, GVariant *args, gpointer user_data)
{
	start_report(user_data, call, args, capacity_keys,
		     run_capacity_report);
}

static void
deadline_report(BusCall *call, GVariant *args, gpointer user_data)
{
	start_report(user_data, call, args, deadline_keys,
		     run_deadline_report);
}

/* ResourceUtilisation: the query's `service` holds the type filter. */
static void
resource_utilisation(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	PlanCall *pc = plan_call_new(daemon, call);
	g_autoptr(GError) error = NULL;
	const char *type;

	g_variant_get(args, "(xx@a{sv})", &pc->query.from, &pc->query.to,
		      &pc->options);
	if (!options_check(pc->options, resource_keys, NULL, "report option",
			   &error)) {
		plan_call_refuse(pc, error);
		return;
	}
	pc->query.unit = options_string(pc->options, "unit", NULL);
	type = options_string(pc->options, "type", NULL);
	if ((pc->query.unit &&
	     !validate_id(pc->query.unit, "unit", &error)) ||
	    !report_check_range(pc->region, pc->query.from, pc->query.to,
				&error)) {
		plan_call_refuse(pc, error);
		return;
	}
	if (type && !g_str_equal(type, "practitioner") &&
	    !g_str_equal(type, "room") && !g_str_equal(type, "vehicle")) {
		g_set_error(&error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "report option 'type' must be practitioner, room "
			    "or vehicle");
		plan_call_refuse(pc, error);
		return;
	}
	pc->query.service = type;
	plan_call_start(daemon, pc, run_resource_utilisation);
}

/* ---- Staffing (at the door) ---------------------------------------------- */

/* The same local time `days` days later, across a DST change too. */
static gint64
local_days_later(gint64 utc, int days)
{
	gint64 day = report_local_day(utc);

	return report_day_start(day + days) + (utc - report_day_start(day));
}

/* The coming week, Monday 00:00 to Monday 00:00 local: staffing is
 * planned ahead, and the rostered staff come from slots, which exist
 * from yesterday on. The plugins plan by week (crisis duty: 168 hours
 * from Monday) or by the week's sessions and shifts. */
static void
current_week(gint64 now, gint64 *ret_from, gint64 *ret_to)
{
	GDate monday;

	calendar_local_date(now, &monday);
	g_date_add_days(&monday, 8 - g_date_get_weekday(&monday));
	*ret_from = calendar_local_to_utc(g_date_get_year(&monday),
					  g_date_get_month(&monday),
					  g_date_get_day(&monday), 0, 0);
	*ret_to = local_days_later(*ret_from, WEEK_DAYS);
}

static gboolean
range_option(GVariant *options, const char *key, gboolean *ret_given,
	     gint64 *ret_value, GError **error)
{
	g_autoptr(GVariant) value = g_variant_lookup_value(options, key, NULL);

	*ret_given = value != NULL;
	if (value == NULL)
		return TRUE;
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64)) {
		*ret_value = g_variant_get_int64(value);
		return TRUE;
	}
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "staffing option '%s' must be of type 'x' (UTC seconds), "
		    "not '%s'",
		    key, g_variant_get_type_string(value));
	return FALSE;
}

/* `from` and `to` are the planner's own keys; the rest go to the
 * plugin, which refuses what it does not know. A start alone plans
 * the week from it. */
static gboolean
staffing_range(PlanCall *pc, GError **error)
{
	gint64 *from = &pc->query.from, *to = &pc->query.to;
	gboolean from_given, to_given;

	current_week(pc->now, from, to);
	if (!range_option(pc->options, "from", &from_given, from, error) ||
	    !range_option(pc->options, "to", &to_given, to, error))
		return FALSE;
	if (from_given && !to_given && *from >= 0 &&
	    *from < REPORT_TIME_MAX)
		*to = local_days_later(*from, WEEK_DAYS);
	return report_check_range(pc->region, *from, *to, error);
}

static GVariant *
plugin_options(GVariant *options)
{
	GVariantBuilder b;
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_iter_init(&iter, options);
	while (g_variant_iter_loop(&iter, "{&sv}", &key, &value))
		if (!g_str_equal(key, "from") && !g_str_equal(key, "to"))
			g_variant_builder_add(&b, "{sv}", key, value);
	return g_variant_ref_sink(g_variant_builder_end(&b));
}

static void
staffing(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	PlanCall *pc = plan_call_new(daemon, call);
	g_autoptr(GError) error = NULL;

	g_variant_get(args, "(&s@a{sv})", &pc->query.service, &pc->options);
	if (!validate_id(pc->query.service, "service", &error) ||
	    !staffing_range(pc, &error) ||
	    !(pc->ops = planner_kind(daemon->capacity, pc->query.service,
				     &error))) {
		plan_call_refuse(pc, error);
		return;
	}
	pc->passed = plugin_options(pc->options);
	plan_call_start(daemon, pc, run_staffing);
}

static const BusMethod planner_methods[] = {
	{ "CapacityReport", "sxxa{sv}", "service,from,to,options", "aa{sv}",
	  "rows", capacity_report, BUS_ROLE_READ, errors_report,
	  "Capacity, booked, held, free, utilisation, no-shows, "
	  "third-next-available and median lead time per unit, "
	  "municipality and region, by day or ISO week (options: by, unit, "
	  "municipality); a week's rows also name its fullest day "
	  "(worst-day, worst-day-utilisation), a row on a public holiday "
	  "its name (holiday), a unit's row its titles (title-fi, "
	  "title-sv)." },
	{ "DeadlineReport", "sxxa{sv}", "service,from,to,options", "aa{sv}",
	  "rows", deadline_report, BUS_ROLE_READ, errors_report,
	  "Bookings with a referral time starting in [from, to) against "
	  "the service's deadline rules (met, breached, pending), and per "
	  "unit whether a referral received now is at risk (options: unit, "
	  "municipality)." },
	{ "Staffing", "sa{sv}", "service,options", "aa{sv}", "rows", staffing,
	  BUS_ROLE_READ, errors_staffing,
	  "Staff needed against staff rostered from the service plugin's "
	  "model; options from, to (default the coming week) and the plugin's "
	  "own, what-ifs included; nothing is changed. Where the service is "
	  "made of resources the core adds rostered: its practitioners on "
	  "duty and not marked absent for the row's hour, or the fewest on "
	  "duty for the row's shift on any day of the range." },
	{ "ResourceUtilisation", "xxa{sv}", "from,to,options", "aa{sv}",
	  "rows", resource_utilisation, BUS_ROLE_READ, errors_resources,
	  "Per practitioner, room and vehicle in [from, to): resource, type, "
	  "unit, organisation, on-duty-minutes (its shifts, absences left "
	  "out), booked-minutes "
	  "(travel included), share and bookings (options: unit, type)." },
#define FD_DOC(method)                                                      \
	"The rows of " method " in a sealed memfd instead of the message: "  \
	"GVariant aa{sv} in its serialised form, little-endian; the same "  \
	"arguments, checks and errors. For large reports: every answer "     \
	"slotd sends after a reply of megabytes waits behind it on the bus."
	{ "CapacityReportFd", "sxxa{sv}", "service,from,to,options", "h",
	  "rows", capacity_report, BUS_ROLE_READ, errors_report,
	  FD_DOC("CapacityReport") },
	{ "DeadlineReportFd", "sxxa{sv}", "service,from,to,options", "h",
	  "rows", deadline_report, BUS_ROLE_READ, errors_report,
	  FD_DOC("DeadlineReport") },
	{ "StaffingFd", "sa{sv}", "service,options", "h", "rows", staffing,
	  BUS_ROLE_READ, errors_staffing, FD_DOC("Staffing") },
	{ "ResourceUtilisationFd", "xxa{sv}", "from,to,options", "h", "rows",
	  resource_utilisation, BUS_ROLE_READ, errors_resources,
	  FD_DOC("ResourceUtilisation") },
#undef FD_DOC
	{ NULL }
};

const BusInterface planner_interface = {
	"org.slotd.Planner1", planner_methods, NULL
};
