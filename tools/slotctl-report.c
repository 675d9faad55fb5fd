/* The back-office commands. Planner1: capacity report (and its
 * heatmap), deadline report and staffing; the daemon decides the rows
 * and slotctl prints whatever keys they carry, so a new measure needs
 * no new client. Admin1: plugins, reload, feed tokens, backup. */
#include "slotctl.h"

#include <dbus/dbus.h>
#include <stdio.h>
#include <string.h>

#define CTL_REPORT_DAYS 28

/* Every key a CapacityReport row may have, in the daemon's order: the
 * columns come in this order whichever rows lack some of them (a day
 * with no capacity has no utilisation, most have no holiday), so a
 * spreadsheet's columns stay put from one report to the next. Keys
 * not listed follow, as first seen. */
static const char *const report_leading[] = {
	"level", "unit", "municipality", "period-start", "period-end",
	"holiday", "hour-of-week", "capacity", "booked", "held", "free",
	"utilisation", "worst-day", "worst-day-utilisation", "bookings",
	"no-shows", "cancelled-by-client",
	"cancelled-by-provider", "third-next-available", "median-lead-time",
	NULL,
};

typedef struct {
	char *from;
	char *to;
	gint64 from_utc;
	gint64 to_utc;
	guint default_days;	/* without --to; 0: CTL_REPORT_DAYS */
} Period;

static void period_clear(Period *period)
{
	g_free(period->from);
	g_free(period->to);
}

/* Four weeks from today unless told otherwise. */
static gboolean period_resolve(Period *period, GError **error)
{
	if (period->from) {
		if (!time_parse(period->from, FALSE, &period->from_utc, error))
			return FALSE;
	} else {
		period->from_utc = time_today_start();
	}
	if (period->to) {
		if (!time_parse(period->to, TRUE, &period->to_utc, error))
			return FALSE;
	} else {
		period->to_utc = time_add_days(
			period->from_utc, period->default_days
						  ? period->default_days
						  : CTL_REPORT_DAYS);
	}
	if (period->to_utc <= period->from_utc)
		return ctl_usage_error(error, "--to must come after --from");
	return TRUE;
}

static CtlTable *rows_table(GVariant *rows)
{
	CtlTable *table = table_new(report_leading);
	gsize n = g_variant_n_children(rows);

	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autoptr(GVariant) shown = NULL;
		GVariantDict d;

		/* The unit's titles are for the heatmap's labels; the
		 * table keeps the unit id. */
		g_variant_dict_init(&d, row);
		g_variant_dict_remove(&d, "title-fi");
		g_variant_dict_remove(&d, "title-sv");
		shown = g_variant_ref_sink(g_variant_dict_end(&d));
		table_set_dict(table, table_add_row(table), shown);
	}
	return table;
}

static void print_rows(Ctl *ctl, GVariant *rows)
{
	g_autoptr(CtlTable) table = rows_table(rows);

	if (table->rows->len == 0 && ctl_output(ctl) == CTL_OUTPUT_TEXT) {
		fprintf(stderr, "%s\n", _("The report has no rows."));
		return;
	}
	table_print(table, ctl_output(ctl));
}

/* Calls a Planner1 method's ...Fd twin, which passes the rows in a
 * memfd rather than in the message (a report of megabytes would hold
 * up slotd's other answers on the bus); returns the rows (aa{sv}). */
static GVariant *planner_call(Ctl *ctl, const char *method, GVariant *args,
			      GError **error)
{
	g_autofree char *twin = g_strconcat(method, "Fd", NULL);

	return client_call_rows_fd(ctl, CTL_IFACE_PLANNER, twin, args,
				   CTL_REPORT_TIMEOUT_MS, error);
}

/* Unit titles make the heatmap readable; without them ids will do. */
static GHashTable *unit_titles(Ctl *ctl)
{
	g_autoptr(GVariant) reply = NULL;
	GHashTable *titles;
	GVariantIter *iter;
	const char *unit, *title;

	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "ListUnits", NULL,
			    "(a(sssas))", CTL_TIMEOUT_MS, NULL);
	if (!reply)
		return NULL;
	titles = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				       g_free);
	g_variant_get(reply, "(a(sssas))", &iter);
	while (g_variant_iter_loop(iter, "(&s&s&s@as)", &unit, NULL, &title,
				   NULL))
		g_hash_table_replace(titles, g_strdup(unit), g_strdup(title));
	g_variant_iter_free(iter);
	return titles;
}

/* The report's own unit titles, in Swedish when slotctl speaks it,
 * else in Finnish; ListUnits' (Finnish) for any row without them. */
static GHashTable *report_titles(Ctl *ctl, GVariant *rows)
{
	const char *lang = g_get_language_names()[0];
	const char *key = g_str_has_prefix(lang, "sv") ? "title-sv"
						       : "title-fi";
	GHashTable *titles = unit_titles(ctl);

	if (!titles)
		titles = g_hash_table_new_full(g_str_hash, g_str_equal,
					       g_free, g_free);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		const char *unit = NULL, *title = NULL;

		if (g_variant_lookup(row, "unit", "&s", &unit) &&
		    g_variant_lookup(row, key, "&s", &title) && *title)
			g_hash_table_replace(titles, g_strdup(unit),
					     g_strdup(title));
	}
	return titles;
}

static gboolean write_heatmap(Ctl *ctl, const char *file,
			      const CtlHeatmap *map, GVariant *rows,
			      GError **error)
{
	g_autoptr(GHashTable) titles = report_titles(ctl, rows);
	g_autoptr(GError) local_error = NULL;
	g_autofree char *svg = NULL;
	CtlHeatmap with_titles = *map;

	with_titles.unit_titles = titles;
	svg = svg_heatmap(&with_titles, rows);
	if (g_file_set_contents(file, svg, -1, &local_error))
		return TRUE;
	g_set_error(error, CTL_ERROR, CTL_ERROR_FAILED, "cannot write the "
		    "heatmap: %s", local_error->message);
	return FALSE;
}

typedef struct {
	Period period;
	char *by;
	char *unit;
	char *municipality;
	char *svg;
	char *type;		/* report resources */
} ReportOptions;

static void report_options_clear(ReportOptions *o)
{
	period_clear(&o->period);
	g_free(o->by);
	g_free(o->unit);
	g_free(o->municipality);
	g_free(o->svg);
	g_free(o->type);
}

static GVariant *report_dict(Ctl *ctl, ReportOptions *o, GError **error)
{
	static const char *const periods[] = { "day", "week", NULL };
	g_auto(GVariantDict) options = G_VARIANT_DICT_INIT(NULL);

	if (o->by && !g_strv_contains(periods, o->by)) {
		ctl_usage_error(error, "--by must be day or week, not “%s”",
				o->by);
		return NULL;
	}
	if (o->by)
		g_variant_dict_insert(&options, "by", "s", o->by);
	if (o->unit)
		g_variant_dict_insert(&options, "unit", "s", o->unit);
	if (o->municipality)
		g_variant_dict_insert(&options, "municipality", "s",
				      o->municipality);
	if (!period_resolve(&o->period, error) ||
	    !args_apply_opts(ctl, &options, error))
		return NULL;
	return g_variant_dict_end(&options);
}

static gboolean report_run(Ctl *ctl, const char *service, ReportOptions *o,
			   GError **error)
{
	g_autoptr(GVariant) rows = NULL;
	GVariant *options = report_dict(ctl, o, error);
	CtlHeatmap map = { 0 };

	if (!options)
		return FALSE;
	rows = planner_call(ctl, "CapacityReport",
			    g_variant_new("(sxx@a{sv})", service,
					  o->period.from_utc, o->period.to_utc,
					  options), error);
	if (!rows)
		return FALSE;
	map.service = service;
	map.from = o->period.from_utc;
	map.to = o->period.to_utc;
	map.by_week = g_strcmp0(o->by, "week") == 0;
	if (o->svg && !write_heatmap(ctl, o->svg, &map, rows, error))
		return FALSE;
	print_rows(ctl, rows);
	return TRUE;
}

static const char *const resources_leading[] = {
	"resource", "type", "unit", "organisation", "on-duty-minutes",
	"booked-minutes", "share", "bookings", NULL,
};

/* slotctl report resources: Planner1.ResourceUtilisation. */
static gboolean resources_run(Ctl *ctl, ReportOptions *o, GError **error)
{
	static const char *const types[] = { "practitioner", "room",
					     "vehicle", NULL };
	g_auto(GVariantDict) options = G_VARIANT_DICT_INIT(NULL);
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(CtlTable) table = table_new(resources_leading);

	if (o->by || o->municipality || o->svg)
		return ctl_usage_error(error, "report resources takes --from, "
				       "--to, --unit and --type only");
	if (o->type && !g_strv_contains(types, o->type))
		return ctl_usage_error(error, "--type must be practitioner, "
				       "room or vehicle, not “%s”", o->type);
	if (o->unit)
		g_variant_dict_insert(&options, "unit", "s", o->unit);
	if (o->type)
		g_variant_dict_insert(&options, "type", "s", o->type);
	if (!period_resolve(&o->period, error) ||
	    !args_apply_opts(ctl, &options, error))
		return FALSE;
	rows = planner_call(ctl, "ResourceUtilisation",
			    g_variant_new("(xx@a{sv})", o->period.from_utc,
					  o->period.to_utc,
					  g_variant_dict_end(&options)),
			    error);
	if (!rows)
		return FALSE;
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);

		table_set_dict(table, table_add_row(table), row);
	}
	if (table->rows->len == 0 && ctl_output(ctl) == CTL_OUTPUT_TEXT) {
		fprintf(stderr, "%s\n", _("The report has no rows."));
		return TRUE;
	}
	table_print(table, ctl_output(ctl));
	return TRUE;
}

gboolean cmd_report(Ctl *ctl, int argc, char **argv, GError **error)
{
	ReportOptions o = { 0 };
	const GOptionEntry entries[] = {
		{ "from", 0, 0, G_OPTION_ARG_FILENAME, &o.period.from,
		  "First day (default today)", "DATE" },
		{ "to", 0, 0, G_OPTION_ARG_FILENAME, &o.period.to,
		  "Last day, included (default four weeks on)", "DATE" },
		{ "by", 0, 0, G_OPTION_ARG_FILENAME, &o.by,
		  "One row per day or per ISO week", "day|week" },
		{ "unit", 0, 0, G_OPTION_ARG_FILENAME, &o.unit,
		  "Only this unit", "U" },
		{ "municipality", 0, 0, G_OPTION_ARG_FILENAME, &o.municipality,
		  "Only units in this municipality (code or name)", "M" },
		{ "svg", 0, 0, G_OPTION_ARG_FILENAME, &o.svg,
		  "Also write a utilisation heatmap to FILE", "FILE" },
		{ "type", 0, 0, G_OPTION_ARG_FILENAME, &o.type,
		  "report resources: only practitioners, rooms or vehicles",
		  "practitioner|room|vehicle" },
		{ NULL },
	};
	gboolean ok;

	ok = ctl_parse(ctl, entries, CTL_PARSE_OPTS | CTL_PARSE_CSV, &argc,
		       &argv, 1, 1, error);
	/* "resources" is no service id of a report: resource use. */
	if (ok && g_str_equal(argv[1], "resources"))
		ok = resources_run(ctl, &o, error);
	else if (ok && o.type)
		ok = ctl_usage_error(error, "--type is for report resources");
	else
		ok = ok && report_run(ctl, argv[1], &o, error);
	report_options_clear(&o);
	return ok;
}

static gboolean deadlines_run(Ctl *ctl, const char *service, Period *period,
			      GError **error)
{
	g_auto(GVariantDict) options = G_VARIANT_DICT_INIT(NULL);
	g_autoptr(GVariant) rows = NULL;

	if (!period_resolve(period, error) ||
	    !args_apply_opts(ctl, &options, error))
		return FALSE;
	rows = planner_call(ctl, "DeadlineReport",
			    g_variant_new("(sxx@a{sv})", service,
					  period->from_utc, period->to_utc,
					  g_variant_dict_end(&options)),
			    error);
	if (!rows)
		return FALSE;
	print_rows(ctl, rows);
	return TRUE;
}

/* The daemon's slot horizon in days, so that the deadline report sees
 * every booking there can be; CTL_REPORT_DAYS if it cannot be asked. */
static guint horizon_days(Ctl *ctl)
{
	g_autoptr(GVariant) reply = client_call(ctl, CTL_IFACE_ADMIN,
						"GetStatus", NULL, "(a{sv})",
						CTL_TIMEOUT_MS, NULL);
	g_autoptr(GVariant) status = NULL;
	guint32 days = CTL_REPORT_DAYS;

	if (reply) {
		status = g_variant_get_child_value(reply, 0);
		g_variant_lookup(status, "horizon-days", "u", &days);
	}
	return days;
}

gboolean cmd_deadlines(Ctl *ctl, int argc, char **argv, GError **error)
{
	Period period = { 0 };
	const GOptionEntry entries[] = {
		{ "from", 0, 0, G_OPTION_ARG_FILENAME, &period.from,
		  "First day (default today)", "DATE" },
		{ "to", 0, 0, G_OPTION_ARG_FILENAME, &period.to,
		  "Last day, included (default: the whole slot horizon, so "
		  "every breach already booked is listed)", "DATE" },
		{ NULL },
	};
	gboolean ok;

	ok = ctl_parse(ctl, entries, CTL_PARSE_OPTS | CTL_PARSE_CSV, &argc,
		       &argv, 1, 1, error);
	if (ok && !period.to)
		period.default_days = horizon_days(ctl);
	ok = ok && deadlines_run(ctl, argv[1], &period, error);
	period_clear(&period);
	return ok;
}

/* The plan's range is slotd's own choice (the coming week) unless given. */
static gboolean staffing_range(GVariantDict *options, const char *from,
			       const char *to, GError **error)
{
	gint64 utc;

	if (from) {
		if (!time_parse(from, FALSE, &utc, error))
			return FALSE;
		g_variant_dict_insert(options, "from", "x", utc);
	}
	if (to) {
		if (!time_parse(to, TRUE, &utc, error))
			return FALSE;
		g_variant_dict_insert(options, "to", "x", utc);
	}
	return TRUE;
}

/* What-if inputs (arrivals-per-hour, handling-minutes, target-seconds,
 * service-level, extra-staff, …) come as --opt-d / --opt-u / --opt-x /
 * --opt-i / --opt. */
gboolean cmd_staffing(Ctl *ctl, int argc, char **argv, GError **error)
{
	g_auto(GVariantDict) options = G_VARIANT_DICT_INIT(NULL);
	g_autoptr(GVariant) rows = NULL;
	g_autofree char *from = NULL, *to = NULL;
	const GOptionEntry entries[] = {
		{ "from", 0, 0, G_OPTION_ARG_FILENAME, &from,
		  "Start of the plan (default next Monday)", "DATE" },
		{ "to", 0, 0, G_OPTION_ARG_FILENAME, &to,
		  "Last day, included (default a week on)", "DATE" },
		{ NULL },
	};

	if (!ctl_parse(ctl, entries, CTL_PARSE_OPTS | CTL_PARSE_CSV, &argc,
		       &argv, 1, 1, error) ||
	    !staffing_range(&options, from, to, error) ||
	    !args_apply_opts(ctl, &options, error))
		return FALSE;
	rows = planner_call(ctl, "Staffing",
			    g_variant_new("(s@a{sv})", argv[1],
					  g_variant_dict_end(&options)),
			    error);
	if (!rows)
		return FALSE;
	print_rows(ctl, rows);
	return TRUE;
}

/* --- Admin1 ------------------------------------------------------- */

gboolean cmd_plugins(Ctl *ctl, int argc, char **argv, GError **error)
{
	static const char *const keys[] = {
		"plugin", "version", "summary", "abi", NULL,
	};
	static const char *const order[] = {
		"plugin", "version", "abi", "summary", NULL,
	};
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) array = NULL;
	g_autoptr(CtlTable) table = table_new(order);

	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 0, 0, error))
		return FALSE;
	reply = client_call(ctl, CTL_IFACE_ADMIN, "ListPlugins", NULL,
			    "(a(sssu))", CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	array = g_variant_get_child_value(reply, 0);
	ctl_add_structs(table, array, keys);
	ctl_print_table(ctl, table, N_("No plugins loaded."));
	return TRUE;
}

/* What a reload can change, as slotctl sees it over the bus. */
typedef struct {
	GHashTable *services;	/* id → "kind title" */
	GHashTable *units;	/* id → title */
	guint32 offerings;
	guint32 rebooking;	/* bookings that need rebooking */
	GVariant *last_reload;	/* GetStatus' a{sv}; NULL: none told */
} RegionFacts;

static void region_facts_clear(RegionFacts *f)
{
	g_clear_pointer(&f->services, g_hash_table_unref);
	g_clear_pointer(&f->units, g_hash_table_unref);
	g_clear_pointer(&f->last_reload, g_variant_unref);
}

static GHashTable *id_table(Ctl *ctl, const char *method, const char *type,
			    GError **error)
{
	g_autoptr(GVariant) reply = client_call(ctl, CTL_IFACE_SCHEDULER,
						method, NULL, type,
						CTL_TIMEOUT_MS, error);
	g_autoptr(GVariant) rows = NULL;
	GHashTable *table;

	if (!reply)
		return NULL;
	table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	rows = g_variant_get_child_value(reply, 0);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autoptr(GVariant) id = g_variant_get_child_value(row, 0);
		g_autofree char *text = g_variant_print(row, FALSE);

		g_hash_table_insert(table, g_variant_dup_string(id, NULL),
				    g_steal_pointer(&text));
	}
	return table;
}

static gboolean region_facts(Ctl *ctl, RegionFacts *f, GError **error)
{
	g_autoptr(GVariant) status = NULL, list = NULL, rows = NULL;

	f->services = id_table(ctl, "ListServices", "(a(sss))", error);
	if (!f->services)
		return FALSE;
	f->units = id_table(ctl, "ListUnits", "(a(sssas))", error);
	if (!f->units)
		return FALSE;
	status = client_call(ctl, CTL_IFACE_ADMIN, "GetStatus", NULL,
			     "(a{sv})", CTL_TIMEOUT_MS, error);
	if (!status)
		return FALSE;
	rows = g_variant_get_child_value(status, 0);
	g_variant_lookup(rows, "offerings", "u", &f->offerings);
	f->last_reload = g_variant_lookup_value(rows, "last-reload",
						G_VARIANT_TYPE_VARDICT);
	g_clear_pointer(&rows, g_variant_unref);
	list = client_call(ctl, CTL_IFACE_SCHEDULER, "ListBookings",
			   g_variant_new_parsed("({'needs-rebooking': <true>, "
						"'limit': <uint32 100000>},)"),
			   "(a(sssxxs))", CTL_TIMEOUT_MS, error);
	if (!list)
		return FALSE;
	rows = g_variant_get_child_value(list, 0);
	f->rebooking = (guint32) g_variant_n_children(rows);
	return TRUE;
}

static gint compare_ids(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* "added: a, b" / "removed: c" / "changed: d" lines of two tables;
 * how many lines. */
static guint print_changes(const char *what, GHashTable *before,
			  GHashTable *after)
{
	g_autoptr(GPtrArray) added = g_ptr_array_new();
	g_autoptr(GPtrArray) removed = g_ptr_array_new();
	g_autoptr(GPtrArray) changed = g_ptr_array_new();
	GPtrArray *lists[] = { added, removed, changed };
	const char *labels[] = { N_("added"), N_("removed"), N_("changed") };
	GHashTableIter iter;
	const char *id, *text;
	guint lines = 0;

	g_hash_table_iter_init(&iter, after);
	while (g_hash_table_iter_next(&iter, (gpointer *) &id,
				      (gpointer *) &text)) {
		const char *old = g_hash_table_lookup(before, id);

		if (!old)
			g_ptr_array_add(added, (gpointer) id);
		else if (!g_str_equal(old, text))
			g_ptr_array_add(changed, (gpointer) id);
	}
	g_hash_table_iter_init(&iter, before);
	while (g_hash_table_iter_next(&iter, (gpointer *) &id, NULL))
		if (!g_hash_table_contains(after, id))
			g_ptr_array_add(removed, (gpointer) id);
	for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
		g_autofree char *names = NULL;

		if (lists[l]->len == 0)
			continue;
		g_ptr_array_sort(lists[l], compare_ids);
		g_ptr_array_add(lists[l], NULL);
		names = g_strjoinv(", ", (char **) lists[l]->pdata);
		printf("%s %s: %s\n", _(what), _(labels[l]), names);
		lines++;
	}
	return lines;
}

/* A "label: a, b" line of the reload's list `key`; whether printed. */
static gboolean print_offerings(GVariant *reload, const char *key,
				const char *label)
{
	g_autofree const char **ids = NULL;
	g_autofree char *names = NULL;

	if (!g_variant_lookup(reload, key, "^a&s", &ids) || !ids[0])
		return FALSE;
	names = g_strjoinv(", ", (char **) ids);
	printf("%s: %s\n", label, names);
	return TRUE;
}

/* GetStatus' last-reload when it is the reload this slotctl asked for
 * (another may have ended between its answer and GetStatus); else
 * NULL. */
static GVariant *own_reload(Ctl *ctl, const RegionFacts *after)
{
	const char *by = NULL;

	if (!after->last_reload ||
	    !g_variant_lookup(after->last_reload, "by", "&s", &by) ||
	    g_strcmp0(by, dbus_bus_get_unique_name(ctl->connection)) != 0)
		return NULL;
	return after->last_reload;
}

/* reload: what changed, and how many bookings now need rebooking. */
gboolean cmd_reload(Ctl *ctl, int argc, char **argv, GError **error)
{
	RegionFacts before = { 0 }, after = { 0 };
	gboolean ok;

	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 0, 0, error))
		return FALSE;
	ok = region_facts(ctl, &before, error) &&
	     ctl_void_call(ctl, CTL_IFACE_ADMIN, "Reload", NULL, error) &&
	     region_facts(ctl, &after, error);
	if (ok) {
		guint lines = print_changes(N_("services"), before.services,
					    after.services) +
			      print_changes(N_("units"), before.units,
					    after.units);
		GVariant *own = own_reload(ctl, &after);

		if (before.offerings != after.offerings) {
			printf(_("offerings: %u (were %u)\n"), after.offerings,
			       before.offerings);
			lines++;
		}
		if (own) {
			lines += print_offerings(own, "offerings-reshaped",
						 _("slots changed (new "
						   "offerings, hours, seats or "
						   "kinds)"));
			lines += print_offerings(own, "offerings-withdrawn",
						 _("slots withdrawn (offerings "
						   "no longer configured)"));
			if (lines == 0)
				printf("%s\n", _("No services, units or "
						 "offerings added or removed, "
						 "and no slots changed."));
		} else if (lines == 0) {
			printf("%s\n",
			       _("No services, units or offerings added or "
				 "removed (changed hours or seats are "
				 "updated all the same)."));
		}
		printf(_("Bookings that need rebooking: %u (were %u)\n"),
		       after.rebooking, before.rebooking);
		if (after.rebooking > 0)
			printf("%s\n", _("See them with: slotctl list "
					 "--needs-rebooking"));
	}
	region_facts_clear(&before);
	region_facts_clear(&after);
	return ok;
}

/* "0.0.0.0:8470" is where slotd listens, not where to connect. */
static char *feed_base(const char *address)
{
	const char *colon = strrchr(address, ':');
	g_autofree char *host = NULL;

	if (!colon)
		return g_strdup(address);
	host = g_strndup(address, colon - address);
	if (!*host || g_str_equal(host, "0.0.0.0") || g_str_equal(host, "[::]"))
		return g_strconcat(g_get_host_name(), colon, NULL);
	return g_strdup(address);
}

static void feed_row(CtlTable *table, const char *token, const char *path,
		     const char *address)
{
	GHashTable *row = table_add_row(table);
	g_autofree char *base = NULL;

	table_set(table, row, "token", g_variant_new_string(token));
	table_set(table, row, "path", g_variant_new_string(path));
	if (!*address)
		return;
	base = feed_base(address);
	table_set(table, row, "webcal", g_variant_new_take_string(
			  g_strconcat("webcal://", base, path, NULL)));
	table_set(table, row, "http", g_variant_new_take_string(
			  g_strconcat("http://", base, path, NULL)));
}

gboolean cmd_feed_url(Ctl *ctl, int argc, char **argv, GError **error)
{
	g_autofree char *service = NULL, *practitioner = NULL;
	const GOptionEntry entries[] = {
		{ "service", 0, 0, G_OPTION_ARG_FILENAME, &service,
		  "Only this service's bookings", "S" },
		{ "practitioner", 0, 0, G_OPTION_ARG_FILENAME, &practitioner,
		  "A practitioner's own feed instead of a unit's (no UNIT)",
		  "ID" },
		{ NULL },
	};
	g_autoptr(GVariant) issued = NULL;
	g_autoptr(GVariant) http = NULL;
	g_autoptr(CtlTable) table = table_new(NULL);
	const char *token, *path, *address;

	if (!ctl_parse(ctl, entries, CTL_PARSE_PLAIN, &argc, &argv, 0, 1,
		       error))
		return FALSE;
	if (practitioner && (argc > 1 || service))
		return ctl_usage_error(error, "--practitioner takes no UNIT "
				       "and no --service");
	if (!practitioner && argc < 2)
		return ctl_usage_error(error, "feed-url needs a UNIT or "
				       "--practitioner ID");
	if (practitioner)
		issued = client_call(ctl, CTL_IFACE_ADMIN,
				     "IssuePractitionerFeedToken",
				     g_variant_new("(s)", practitioner),
				     "(ss)", CTL_TIMEOUT_MS, error);
	else
		issued = client_call(ctl, CTL_IFACE_ADMIN, "IssueFeedToken",
				     g_variant_new("(ss)", argv[1],
						   service ? service : ""),
				     "(ss)", CTL_TIMEOUT_MS, error);
	if (!issued)
		return FALSE;
	http = client_call(ctl, CTL_IFACE_ADMIN, "GetHttpAddress", NULL, "(s)",
			   CTL_TIMEOUT_MS, error);
	if (!http)
		return FALSE;
	g_variant_get(issued, "(&s&s)", &token, &path);
	g_variant_get(http, "(&s)", &address);
	if (!*address)
		fprintf(stderr, "slotctl: slotd serves no HTTP (no address in "
			"its configuration); the token works once it does\n");
	feed_row(table, token, path, address);
	table_print_record(table, ctl_output(ctl));
	return TRUE;
}

gboolean cmd_feed_revoke(Ctl *ctl, int argc, char **argv, GError **error)
{
	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 1, 1, error))
		return FALSE;
	return ctl_void_call(ctl, CTL_IFACE_ADMIN, "RevokeFeedToken",
			     g_variant_new("(s)", argv[1]), error);
}

gboolean cmd_backup(Ctl *ctl, int argc, char **argv, GError **error)
{
	g_autofree char *path = NULL;
	g_autoptr(GVariant) reply = NULL;

	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 1, 1, error))
		return FALSE;
	/* The daemon has its own working directory: send an absolute path. */
	path = g_canonicalize_filename(argv[1], NULL);
	reply = client_call(ctl, CTL_IFACE_ADMIN, "Backup",
			    g_variant_new("(s)", path), "()",
			    CTL_REPORT_TIMEOUT_MS, error);
	return reply != NULL;
}
