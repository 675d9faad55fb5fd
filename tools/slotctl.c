/* slotctl: find, hold and book slots, manage bookings and administer
 * slotd from the command line. One GOptionContext per command; the
 * global options may come before or after the command word. */
#include "slotctl.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

/* --- parsing ------------------------------------------------------ */

gboolean ctl_usage_error(GError **error, const char *format, ...)
{
	va_list args;

	if (!error)
		return FALSE;
	va_start(args, format);
	*error = g_error_new_valist(CTL_ERROR, CTL_ERROR_USAGE, format, args);
	va_end(args);
	return FALSE;
}

CtlOutput ctl_output(const Ctl *ctl)
{
	if (ctl->json)
		return CTL_OUTPUT_JSON;
	return ctl->csv ? CTL_OUTPUT_CSV : CTL_OUTPUT_TEXT;
}

/* Strings are FILENAME options: taken as bytes (checked for UTF-8 in
 * main), so a C locale does not break "Mörskom". */
static void add_shared_entries(Ctl *ctl, GArray *all, CtlParseFlags flags)
{
	const GOptionEntry opts[] = {
		{ "opt", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ctl->opt_s,
		  "Plugin key with a string value", "KEY=VALUE" },
		{ "opt-u", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ctl->opt_u,
		  "Plugin key with an unsigned 32-bit value", "KEY=N" },
		{ "opt-i", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ctl->opt_i,
		  "Plugin key with a signed 32-bit value", "KEY=N" },
		{ "opt-x", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ctl->opt_x,
		  "Plugin key with a signed 64-bit value", "KEY=N" },
		{ "opt-d", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ctl->opt_d,
		  "Plugin key with a floating-point value", "KEY=X" },
		{ "opt-b", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ctl->opt_b,
		  "Plugin key with a boolean value (true/false)", "KEY=B" },
	};
	const GOptionEntry csv = {
		"csv", 0, 0, G_OPTION_ARG_NONE, &ctl->csv,
		"Print CSV (RFC 4180) for spreadsheets", NULL };
	const GOptionEntry globals[] = {
		{ "system", 0, 0, G_OPTION_ARG_NONE, &ctl->system_bus,
		  "Talk to slotd on the system bus (the default)", NULL },
		{ "session", 0, 0, G_OPTION_ARG_NONE, &ctl->session_bus,
		  "Talk to slotd on the session bus", NULL },
		{ "address", 0, 0, G_OPTION_ARG_FILENAME, &ctl->address,
		  "Talk to slotd on the bus at ADDRESS", "ADDRESS" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &ctl->json,
		  "Print JSON for scripts", NULL },
	};

	if (flags & CTL_PARSE_OPTS)
		g_array_append_vals(all, opts, G_N_ELEMENTS(opts));
	if (flags & CTL_PARSE_CSV)
		g_array_append_vals(all, &csv, 1);
	g_array_append_vals(all, globals, G_N_ELEMENTS(globals));
}

static gboolean check_globals(Ctl *ctl, GError **error)
{
	int buses = !!ctl->system_bus + !!ctl->session_bus + !!ctl->address;

	if (buses > 1)
		return ctl_usage_error(error, _("choose one of --system, "
				       "--session and --address"));
	if (ctl->json && ctl->csv)
		return ctl_usage_error(error, _("choose one of --json and --csv"));
	return TRUE;
}

/* GOption keeps a "--" that protects a "-x" argument: drop it. */
static void drop_separator(int *argc, char **argv)
{
	for (int i = 1; i < *argc; i++) {
		if (g_str_equal(argv[i], "--")) {
			memmove(argv + i, argv + i + 1,
				(*argc - i) * sizeof(char *));
			(*argc)--;
			return;
		}
	}
}

/* Names the first missing word of the synopsis ("SERVICE"). */
static gboolean missing_argument(const CtlCommand *command, int count,
				 GError **error)
{
	g_auto(GStrv) words = g_strsplit(command->args, " ", -1);

	if ((guint) count < g_strv_length(words))
		return ctl_usage_error(error, _("missing %s"), words[count]);
	return ctl_usage_error(error, _("missing argument"));
}

gboolean ctl_parse(Ctl *ctl, const GOptionEntry *entries,
		   CtlParseFlags flags, int *argc, char ***argv,
		   int min_args, int max_args, GError **error)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GArray) all = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
	g_autoptr(GError) local_error = NULL;
	int count;

	for (guint i = 0; entries && entries[i].long_name; i++)
		g_array_append_val(all, entries[i]);
	add_shared_entries(ctl, all, flags);
	context = g_option_context_new(ctl->command->args);
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_set_summary(context, _(ctl->command->summary));
	g_option_context_add_main_entries(context,
					  (GOptionEntry *) all->data, NULL);
	if (!g_option_context_parse(context, argc, argv, &local_error))
		return ctl_usage_error(error, "%s", local_error->message);
	drop_separator(argc, *argv);
	count = *argc - 1;
	if (count < min_args)
		return missing_argument(ctl->command, count, error);
	if (max_args >= 0 && count > max_args)
		return ctl_usage_error(error, _("unexpected argument “%s”"),
				       (*argv)[1 + max_args]);
	return check_globals(ctl, error);
}

static gboolean check_choice(const char *flag, const char *value,
			     const char *const *choices, GError **error)
{
	g_autofree char *list = NULL;

	if (!value || g_strv_contains(choices, value))
		return TRUE;
	list = g_strjoinv(", ", (char **) choices);
	return ctl_usage_error(error, _("%s must be one of %s, not “%s”"), flag,
			       list, value);
}

void ctl_add_structs(CtlTable *table, GVariant *array,
		     const char *const *keys)
{
	gsize n = g_variant_n_children(array);

	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) item = g_variant_get_child_value(array, i);
		GHashTable *row = table_add_row(table);

		for (gsize f = 0; f < g_variant_n_children(item); f++) {
			g_autoptr(GVariant) field =
				g_variant_get_child_value(item, f);

			if (g_variant_is_of_type(field, G_VARIANT_TYPE_VARDICT))
				table_set_dict(table, row, field);
			else
				table_set(table, row, keys[f], field);
		}
	}
}

void ctl_print_table(Ctl *ctl, CtlTable *table, const char *empty)
{
	if (table->rows->len == 0 && ctl_output(ctl) == CTL_OUTPUT_TEXT) {
		fprintf(stderr, "%s\n", _(empty));
		return;
	}
	table_print(table, ctl_output(ctl));
}

/* Calls a method whose reply is one array of structs and prints it. */
static gboolean list_call(Ctl *ctl, const char *interface,
			  const char *method, GVariant *args,
			  const char *reply_type, const char *const *keys,
			  const char *empty, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) array = NULL;
	g_autoptr(CtlTable) table = table_new(keys);

	reply = client_call(ctl, interface, method, args, reply_type,
			    CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	array = g_variant_get_child_value(reply, 0);
	ctl_add_structs(table, array, keys);
	ctl_print_table(ctl, table, empty);
	return TRUE;
}

gboolean ctl_void_call(Ctl *ctl, const char *interface, const char *method,
		       GVariant *args, GError **error)
{
	g_autoptr(GVariant) reply = client_call(ctl, interface, method, args,
						"()", CTL_TIMEOUT_MS, error);

	return reply != NULL;
}

/* Bare ids one per line for people and shell scripts, or {key: id(s)}. */
static void print_ids(CtlOutput output, const char *key,
		      const char *const *ids, gboolean as_list)
{
	g_autofree char *text = NULL;
	CtlJson json;

	if (output != CTL_OUTPUT_JSON) {
		for (guint i = 0; ids[i]; i++)
			printf("%s\n", ids[i]);
		return;
	}
	json_init(&json);
	json_begin_object(&json);
	json_key(&json, key);
	if (as_list)
		json_begin_array(&json);
	for (guint i = 0; ids[i]; i++)
		json_string(&json, ids[i]);
	if (as_list)
		json_end_array(&json);
	json_end_object(&json);
	text = json_finish(&json);
	print_out(text);
}

/* A method that answers with one id: printed bare, or {key: id}. */
static gboolean id_call(Ctl *ctl, const char *method, GVariant *args,
			const char *key, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	const char *ids[2] = { NULL, NULL };

	reply = client_call(ctl, CTL_IFACE_SCHEDULER, method, args, "(s)",
			    CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	g_variant_get(reply, "(&s)", &ids[0]);
	print_ids(ctl_output(ctl), key, ids, FALSE);
	return TRUE;
}

/* --- Scheduler1 --------------------------------------------------- */

static const char *const languages[] = { "fi", "sv", "en", NULL };
static const char *const urgencies[] = {
	"routine", "urgent", "immediate", NULL,
};
static const char *const orders[] = { "earliest", "nearest", NULL };

static gboolean cmd_services(Ctl *ctl, int argc, char **argv,
			     GError **error)
{
	static const char *const keys[] = { "service", "kind", "title", NULL };

	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 0, 0, error))
		return FALSE;
	return list_call(ctl, CTL_IFACE_SCHEDULER, "ListServices", NULL,
			 "(a(sss))", keys, N_("No services configured."), error);
}

static gboolean cmd_units(Ctl *ctl, int argc, char **argv, GError **error)
{
	static const char *const keys[] = {
		"unit", "municipality", "title", "languages", NULL,
	};

	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 0, 0, error))
		return FALSE;
	return list_call(ctl, CTL_IFACE_SCHEDULER, "ListUnits", NULL,
			 "(a(sssas))", keys, N_("No units configured."), error);
}

typedef struct {
	char *municipality;
	char *language;
	char *from;
	char *to;
	char *modality;
	char *urgency;
	char *order;
	char *limit_text;
	int max_travel;
	int limit;	/* -1: not given */
} FindOptions;

/* FindSlots' own bound (daemon/capacity-find.c FIND_MAX_LIMIT). */
#define CTL_FIND_MAX_LIMIT 2000
#define CTL_FIND_DEFAULT_LIMIT 50
/* FindSeries' pattern bound. */
#define CTL_SERIES_MAX_LIMIT 20

/* --limit N: a whole number from 1 to `max`, with the reason named. */
gboolean ctl_parse_limit(const char *flag, const char *text, int max,
			 int *ret, GError **error)
{
	guint64 value = 0;

	*ret = -1;
	if (!text)
		return TRUE;
	if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXINT, &value, NULL)) {
		if (text[0] == '-' && g_ascii_isdigit(text[1]))
			return ctl_usage_error(error, _("%s must not be "
						"negative (“%s”); give 1 to "
						"%d"), flag, text, max);
		return ctl_usage_error(error, _("%s takes a whole number from "
						"1 to %d, not “%s”"), flag,
				       max, text);
	}
	if (value == 0)
		return ctl_usage_error(error, _("%s must be at least 1"),
				       flag);
	if (value > (guint64) max)
		return ctl_usage_error(error, _("%s is at most %d, slotd's "
						"largest answer (not %s)"),
				       flag, max, text);
	*ret = (int) value;
	return TRUE;
}

static gboolean find_query(Ctl *ctl, FindOptions *o, GVariantDict *query,
			   GError **error)
{
	if (!check_choice("--language", o->language, languages, error) ||
	    !check_choice("--urgency", o->urgency, urgencies, error) ||
	    !check_choice("--order", o->order, orders, error))
		return FALSE;
	args_put_string(query, "municipality", o->municipality);
	args_put_string(query, "language", o->language);
	args_put_string(query, "modality", o->modality);
	args_put_string(query, "urgency", o->urgency);
	args_put_string(query, "order", o->order);
	return args_put_time(query, "from", o->from, FALSE, error) &&
	       args_put_time(query, "to", o->to, TRUE, error) &&
	       args_put_count(query, "limit", "--limit", o->limit, error) &&
	       args_put_count(query, "max-travel-minutes", "--max-travel",
			      o->max_travel, error) &&
	       args_apply_opts(ctl, query, error);
}

/* The options find and find-series share. */
#define N_FIND_ENTRIES 8
static void find_entries(FindOptions *o, GOptionEntry *ret)
{
	const GOptionEntry entries[N_FIND_ENTRIES] = {
		{ "municipality", 0, 0, G_OPTION_ARG_FILENAME, &o->municipality,
		  "The client's home municipality (code or name)", "M" },
		{ "language", 0, 0, G_OPTION_ARG_FILENAME, &o->language,
		  "The client's service language", "fi|sv|en" },
		{ "from", 0, 0, G_OPTION_ARG_FILENAME, &o->from,
		  "Earliest start (Helsinki time)", "TIME" },
		{ "to", 0, 0, G_OPTION_ARG_FILENAME, &o->to,
		  "Until TIME; a bare date means the end of that day",
		  "TIME" },
		{ "modality", 0, 0, G_OPTION_ARG_FILENAME, &o->modality,
		  "Only slots of this modality", "onsite|home|phone|video" },
		{ "max-travel", 0, 0, G_OPTION_ARG_INT, &o->max_travel,
		  "At most N minutes of travel from home", "N" },
		{ "limit", 0, 0, G_OPTION_ARG_FILENAME, &o->limit_text,
		  N_("At most N slots (find-series: N series)"), "N" },
		{ "urgency", 0, 0, G_OPTION_ARG_FILENAME, &o->urgency,
		  N_("How urgent the need is"), "routine|urgent|immediate" },
	};

	memcpy(ret, entries, sizeof(entries));
}

static void find_options_clear(FindOptions *o)
{
	g_free(o->municipality);
	g_free(o->language);
	g_free(o->from);
	g_free(o->to);
	g_free(o->modality);
	g_free(o->urgency);
	g_free(o->order);
	g_free(o->limit_text);
}

/* One row a series: its unit, first and last start and its slots. */
static void print_series(Ctl *ctl, GVariant *rows)
{
	static const char *const keys[] = { "unit", "first-start",
					    "last-start", "slots", NULL };
	g_autoptr(CtlTable) table = table_new(keys);

	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autofree const char **slots = NULL;
		const gint64 *starts;
		g_autofree char *list = NULL;
		g_autoptr(GVariant) s = NULL, cells = NULL;
		const char *unit = "";
		GVariantDict d;
		gsize n;

		g_variant_dict_init(&d, NULL);
		g_variant_lookup(row, "unit", "&s", &unit);
		g_variant_dict_insert(&d, "unit", "s", unit);
		g_variant_lookup(row, "slots", "^a&s", &slots);
		s = g_variant_lookup_value(row, "starts", G_VARIANT_TYPE("ax"));
		starts = g_variant_get_fixed_array(s, &n, sizeof(gint64));
		if (n == 0 || !slots)
			continue;
		list = g_strjoinv(" ", (char **)slots);
		g_variant_dict_insert(&d, "first-start", "x", starts[0]);
		g_variant_dict_insert(&d, "last-start", "x", starts[n - 1]);
		g_variant_dict_insert(&d, "slots", "s", list);
		cells = g_variant_ref_sink(g_variant_dict_end(&d));
		table_set_dict(table, table_add_row(table), cells);
	}
	ctl_print_table(ctl, table, N_("No whole series fits; try a wider "
				    "window, a tolerance or another unit."));
}

static gboolean cmd_find_series(Ctl *ctl, int argc, char **argv,
				GError **error)
{
	FindOptions o = { .max_travel = -1, .limit = -1 };
	g_autofree char *every = NULL;
	int count = 0, tolerance = -1;
	GOptionEntry entries[N_FIND_ENTRIES + 4] = { { NULL } };
	g_auto(GVariantDict) query = G_VARIANT_DICT_INIT(NULL);
	g_auto(GVariantDict) pattern = G_VARIANT_DICT_INIT(NULL);
	g_autoptr(GVariant) reply = NULL, rows = NULL;
	const GOptionEntry extra[] = {
		{ "every", 0, 0, G_OPTION_ARG_STRING, &every,
		  "8h, 12h, 24h, Nh, Nd or weekly", "INTERVAL" },
		{ "count", 0, 0, G_OPTION_ARG_INT, &count,
		  "Visits or sessions in the series", "N" },
		{ "tolerance", 0, 0, G_OPTION_ARG_INT, &tolerance,
		  "Minutes a visit may be off its time", "N" },
	};
	int limit;

	find_entries(&o, entries);
	memcpy(entries + N_FIND_ENTRIES, extra, sizeof(extra));
	if (!ctl_parse(ctl, entries, CTL_PARSE_OPTS, &argc, &argv, 1, 1,
		       error))
		goto out;
	if (!ctl_parse_limit("--limit", o.limit_text, CTL_SERIES_MAX_LIMIT,
			     &limit, error) ||
	    !find_query(ctl, &o, &query, error))
		goto out;
	args_put_string(&pattern, "every", every);
	if (count > 0)
		g_variant_dict_insert(&pattern, "count", "u", (guint32)count);
	if (tolerance >= 0)
		g_variant_dict_insert(&pattern, "tolerance-minutes", "u",
				      (guint32)tolerance);
	if (limit > 0)
		g_variant_dict_insert(&pattern, "limit", "u", (guint32)limit);
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "FindSeries",
			    g_variant_new("(s@a{sv}@a{sv})", argv[1],
					  g_variant_dict_end(&pattern),
					  g_variant_dict_end(&query)),
			    "(aa{sv})", CTL_TIMEOUT_MS, error);
	if (reply) {
		rows = g_variant_get_child_value(reply, 0);
		print_series(ctl, rows);
	}
out:
	find_options_clear(&o);
	return reply != NULL;
}

/* FindSlots with the options; the reply's array of slots. */
static GVariant *find_slots(Ctl *ctl, const char *service, FindOptions *o,
			    GError **error)
{
	g_auto(GVariantDict) query = G_VARIANT_DICT_INIT(NULL);
	g_autoptr(GVariant) reply = NULL;

	if (!find_query(ctl, o, &query, error))
		return NULL;
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "FindSlots",
			    g_variant_new("(s@a{sv})", service,
					  g_variant_dict_end(&query)),
			    "(a(ssxxua{sv}))", CTL_TIMEOUT_MS, error);
	return reply ? g_variant_get_child_value(reply, 0) : NULL;
}

/* Whether the search finds anything with one option changed. */
static gboolean finds_any(Ctl *ctl, const char *service, FindOptions *o)
{
	g_autoptr(GVariant) slots = NULL;
	int limit = o->limit;

	o->limit = 1;
	slots = find_slots(ctl, service, o, NULL);
	o->limit = limit;
	return slots && g_variant_n_children(slots) > 0;
}

/* Why a search found nothing, as far as slotctl can tell: times that
 * cannot be, and filters that nothing passes. Lines for stderr. */
static GPtrArray *explain_empty(Ctl *ctl, const char *service,
				FindOptions *o)
{
	GPtrArray *why = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GVariant) reply = NULL, status = NULL;
	gint64 now = 0, from = 0;
	guint32 horizon_days = 0;
	gboolean have_from;

	for (guint i = 0; i < 2; i++) {
		const char *text = i == 0 ? o->from : o->to;
		g_autofree char *shown = NULL;

		if (text && time_local_missing(text, &shown))
			g_ptr_array_add(why, g_strdup_printf(
				_("%s does not exist in Helsinki: the clocks "
				  "go from 03:00 to 04:00 that night, so it "
				  "was read as %s"), text, shown));
	}
	reply = client_call(ctl, CTL_IFACE_ADMIN, "GetStatus", NULL,
			    "(a{sv})", CTL_TIMEOUT_MS, NULL);
	if (reply) {
		status = g_variant_get_child_value(reply, 0);
		g_variant_lookup(status, "now", "x", &now);
		g_variant_lookup(status, "horizon-days", "u", &horizon_days);
	}
	have_from = o->from && time_parse(o->from, FALSE, &from, NULL);
	if (have_from && now > 0 && from < now - 59) {
		g_autofree char *when = time_format_local(now);

		g_ptr_array_add(why, g_strdup_printf(
			_("--from %s is in the past (slotd's clock says %s); "
			  "a search starts at the earliest now"), o->from,
			when));
	}
	if (have_from && now > 0 && horizon_days > 0 &&
	    from >= now + (gint64) horizon_days * 86400) {
		g_autofree char *until = time_format_local(
			time_add_days(now, (int) horizon_days));

		g_ptr_array_add(why, g_strdup_printf(
			_("--from %s is past the horizon: slots exist %u days "
			  "ahead, until %s"), o->from, horizon_days, until));
	}
	if (why->len > 0)
		return why;
	/* Filters that leave nothing: ask again without each. */
	if (o->language) {
		g_autofree char *language = g_steal_pointer(&o->language);

		if (finds_any(ctl, service, o))
			g_ptr_array_add(why, g_strdup_printf(
				_("no unit has free slots in %s then; without "
				  "--language there are"), language));
		o->language = g_steal_pointer(&language);
	}
	if (o->modality) {
		g_autofree char *modality = g_steal_pointer(&o->modality);

		if (finds_any(ctl, service, o))
			g_ptr_array_add(why, g_strdup_printf(
				_("no unit has free %s slots then; without "
				  "--modality there are"), modality));
		o->modality = g_steal_pointer(&modality);
	}
	if (o->municipality || o->max_travel >= 0) {
		g_autofree char *home = g_steal_pointer(&o->municipality);
		int max_travel = o->max_travel;

		o->max_travel = -1;
		if (finds_any(ctl, service, o))
			g_ptr_array_add(why, g_strdup(
				_("no unit that serves the client's home "
				  "municipality (within --max-travel) has free "
				  "slots then; without them there are")));
		o->municipality = g_steal_pointer(&home);
		o->max_travel = max_travel;
	}
	return why;
}

/* Phone and video calls travel nowhere, and without a home
 * municipality there is no distance (-1): no travel minutes shown. */
static void drop_remote_travel(CtlTable *table)
{
	for (guint i = 0; i < table->rows->len; i++) {
		GHashTable *row = table->rows->pdata[i];
		GVariant *modality = g_hash_table_lookup(row, "modality");
		g_autoptr(GVariant) inner = NULL;
		const char *name;
		gint64 travel = 0;

		if (cell_int(g_hash_table_lookup(row, "travel-minutes"),
			     &travel) && travel < 0)
			g_hash_table_remove(row, "travel-minutes");
		if (!modality)
			continue;
		inner = g_variant_is_of_type(modality, G_VARIANT_TYPE_VARIANT)
				? g_variant_get_variant(modality)
				: g_variant_ref(modality);
		if (!g_variant_is_of_type(inner, G_VARIANT_TYPE_STRING))
			continue;
		name = g_variant_get_string(inner, NULL);
		if (g_str_equal(name, "phone") || g_str_equal(name, "video"))
			g_hash_table_remove(row, "travel-minutes");
	}
	for (guint i = 0; i < table->rows->len; i++)
		if (g_hash_table_contains(table->rows->pdata[i],
					  "travel-minutes"))
			return;
	for (guint c = 0; c < table->columns->len; c++)
		if (g_str_equal(table->columns->pdata[c], "travel-minutes"))
			g_ptr_array_remove_index(table->columns, c);
}

/* The first n children of an array. */
static GVariant *array_head(GVariant *array, gsize n)
{
	g_autofree GVariant **children = g_new0(GVariant *, n + 1);

	for (gsize i = 0; i < n; i++)
		children[i] = g_variant_get_child_value(array, i);
	return g_variant_ref_sink(g_variant_new_array(
		g_variant_type_element(g_variant_get_type(array)), children,
		n));
}

static gboolean cmd_find(Ctl *ctl, int argc, char **argv, GError **error)
{
	static const char *const keys[] = {
		"slot", "unit", "start", "end", "free", "municipality",
		"travel-minutes", "languages", "modality", "kind", NULL,
	};
	FindOptions o = { .max_travel = -1, .limit = -1 };
	GOptionEntry entries[N_FIND_ENTRIES + 2] = { { NULL } };
	const GOptionEntry order = {
		"order", 0, 0, G_OPTION_ARG_FILENAME, &o.order,
		N_("earliest first (the default), or nearest: the home "
		   "municipality's units, then by travel, then earliest"),
		"earliest|nearest" };
	g_autoptr(GVariant) slots = NULL, shown = NULL;
	g_autoptr(CtlTable) table = table_new(keys);
	gboolean more = FALSE;
	int limit;

	find_entries(&o, entries);
	entries[N_FIND_ENTRIES] = order;
	if (!ctl_parse(ctl, entries, CTL_PARSE_OPTS, &argc, &argv, 1, 1,
		       error) ||
	    !ctl_parse_limit("--limit", o.limit_text, CTL_FIND_MAX_LIMIT,
			     &limit, error))
		goto out;
	if (limit < 0)
		limit = CTL_FIND_DEFAULT_LIMIT;
	/* One more than shown tells whether there are more. */
	o.limit = MIN(limit + 1, CTL_FIND_MAX_LIMIT);
	slots = find_slots(ctl, argv[1], &o, error);
	if (!slots)
		goto out;
	more = g_variant_n_children(slots) > (gsize) limit;
	shown = more ? array_head(slots, limit) : g_variant_ref(slots);
	ctl_add_structs(table, shown, keys);
	drop_remote_travel(table);
	if (table->rows->len == 0) {
		g_autoptr(GPtrArray) why = explain_empty(ctl, argv[1], &o);

		if (ctl_output(ctl) != CTL_OUTPUT_TEXT)
			table_print(table, ctl_output(ctl));
		fprintf(stderr, "%s\n", _("No free slots match."));
		for (guint i = 0; i < why->len; i++)
			fprintf(stderr, "  – %s\n", (char *) why->pdata[i]);
		goto out;
	}
	table_print(table, ctl_output(ctl));
	if (more && ctl_output(ctl) == CTL_OUTPUT_TEXT)
		fprintf(stderr, _("More slots match than these %d; ask with a "
				  "larger --limit or a later --from.\n"),
			limit);
out:
	find_options_clear(&o);
	return slots != NULL;
}

typedef struct {
	char *municipality;
	char *hold;
	char *language;
	char *modality;
	char *urgency;
	char *referral_time;
	char *idempotency_key;
	char *booked_by;
	char *on_behalf_of;
	char *override_reason;
	int seconds;		/* hold only; 0: not given */
} BookOptions;

static void book_options_clear(BookOptions *o)
{
	g_free(o->municipality);
	g_free(o->hold);
	g_free(o->language);
	g_free(o->modality);
	g_free(o->urgency);
	g_free(o->referral_time);
	g_free(o->idempotency_key);
	g_free(o->booked_by);
	g_free(o->on_behalf_of);
	g_free(o->override_reason);
}

static gboolean book_parse(Ctl *ctl, BookOptions *o, int *argc,
			   char ***argv, int min_args, int max_args,
			   GError **error)
{
	const GOptionEntry entries[] = {
		{ "municipality", 0, 0, G_OPTION_ARG_FILENAME, &o->municipality,
		  "The client's home municipality (where a home visit is)",
		  "M" },
		{ "hold", 0, 0, G_OPTION_ARG_FILENAME, &o->hold,
		  "Use the seat taken by this hold", "HOLD" },
		{ "language", 0, 0, G_OPTION_ARG_FILENAME, &o->language,
		  "The client's service language", "fi|sv|en" },
		{ "modality", 0, 0, G_OPTION_ARG_FILENAME, &o->modality,
		  "The modality of the visit", "onsite|home|phone|video" },
		{ "urgency", 0, 0, G_OPTION_ARG_FILENAME, &o->urgency,
		  "How urgent the need is", "routine|urgent|immediate" },
		{ "referral-time", 0, 0, G_OPTION_ARG_FILENAME,
		  &o->referral_time,
		  "When the referral or request arrived (deadlines)", "TIME" },
		{ "idempotency-key", 0, 0, G_OPTION_ARG_FILENAME,
		  &o->idempotency_key,
		  "A retry with the same key returns the same booking", "K" },
		{ "booked-by", 0, 0, G_OPTION_ARG_FILENAME, &o->booked_by,
		  "The professional booking for the client (pseudonymous)",
		  "ID" },
		{ "on-behalf-of", 0, 0, G_OPTION_ARG_FILENAME,
		  &o->on_behalf_of, "Booked for: self, guardian, professional",
		  "WHO" },
		{ "override-reason", 0, 0, G_OPTION_ARG_FILENAME,
		  &o->override_reason,
		  "Administrators: why a booking rule is overridden", "TEXT" },
		{ "seconds", 0, 0, G_OPTION_ARG_INT, &o->seconds,
		  "hold: how long the places are held (default 300)", "N" },
		{ NULL },
	};

	return ctl_parse(ctl, entries, CTL_PARSE_OPTS, argc, argv, min_args,
			 max_args, error) &&
	       check_choice("--language", o->language, languages, error) &&
	       check_choice("--urgency", o->urgency, urgencies, error);
}

static GVariant *book_dict(Ctl *ctl, BookOptions *o, GError **error)
{
	g_auto(GVariantDict) options = G_VARIANT_DICT_INIT(NULL);

	args_put_string(&options, "municipality", o->municipality);
	args_put_string(&options, "hold", o->hold);
	args_put_string(&options, "language", o->language);
	args_put_string(&options, "modality", o->modality);
	args_put_string(&options, "urgency", o->urgency);
	args_put_string(&options, "idempotency-key", o->idempotency_key);
	args_put_string(&options, "booked-by", o->booked_by);
	args_put_string(&options, "on-behalf-of", o->on_behalf_of);
	args_put_string(&options, "override-reason", o->override_reason);
	if (!args_put_time(&options, "referral-time", o->referral_time, FALSE,
			   error) ||
	    !args_apply_opts(ctl, &options, error))
		return NULL;
	return g_variant_dict_end(&options);
}

/* The hold's id, and when it expires (local time). */
static void print_hold(Ctl *ctl, const char *hold, gint64 expires)
{
	g_autofree char *until = time_format_local(expires);
	g_autofree char *text = NULL;
	CtlJson json;

	/* The id alone on stdout, for scripts; the expiry for people. */
	if (ctl_output(ctl) != CTL_OUTPUT_JSON) {
		printf("%s\n", hold);
		fprintf(stderr, _("held until %s\n"), until);
		return;
	}
	json_init(&json);
	json_begin_object(&json);
	json_key(&json, "hold");
	json_string(&json, hold);
	json_key(&json, "expires");
	json_string(&json, until);
	json_end_object(&json);
	text = json_finish(&json);
	print_out(text);
}

/* hold SLOT [CLIENT]: holds what booking this request would take. */
static gboolean cmd_hold(Ctl *ctl, int argc, char **argv, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	BookOptions o = { 0 };
	GVariant *options = NULL;
	const char *hold;
	gint64 expires;

	if (book_parse(ctl, &o, &argc, &argv, 1, 2, error) &&
	    (o.seconds >= 0 ||
	     !ctl_usage_error(error, _("--seconds must be positive"))) &&
	    (!o.hold || !ctl_usage_error(error, _("a hold takes no --hold"))))
		options = book_dict(ctl, &o, error);
	if (options)
		reply = client_call(
			ctl, CTL_IFACE_SCHEDULER, "HoldFor",
			g_variant_new("(ss@a{sv}u)", argv[1],
				      argc > 2 ? argv[2] : "", options,
				      (guint32)(o.seconds ? o.seconds : 300)),
			"(sx)", CTL_TIMEOUT_MS, error);
	book_options_clear(&o);
	if (!reply)
		return FALSE;
	g_variant_get(reply, "(&sx)", &hold, &expires);
	print_hold(ctl, hold, expires);
	return TRUE;
}

static gboolean cmd_release(Ctl *ctl, int argc, char **argv, GError **error)
{
	g_autoptr(GVariant) reply = NULL;

	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 1, 1, error))
		return FALSE;
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "ReleaseHold",
			    g_variant_new("(s)", argv[1]), "()",
			    CTL_TIMEOUT_MS, error);
	return reply != NULL;
}

/* A number or an instant of a booking's a{sv}, if it has one. */
static gboolean booking_int(GVariant *booking, const char *key, gint64 *ret)
{
	g_autoptr(GVariant) value = g_variant_lookup_value(booking, key, NULL);

	return value && cell_int(value, ret);
}

/* After Book: the id alone on stdout for scripts; for people on
 * stderr where and when, and at a walk-in session the ticket, the
 * place in the queue and the estimated start. JSON carries them all. */
static void print_booked(Ctl *ctl, const char *id)
{
	g_autoptr(GVariant) reply = NULL, booking = NULL;
	const char *unit = "";
	gint64 start = 0, end = 0, ticket = 0, position = 0, estimated = 0;
	gboolean queued;

	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "GetBooking",
			    g_variant_new("(s)", id), "(a{sv})",
			    CTL_TIMEOUT_MS, NULL);
	if (reply) {
		booking = g_variant_get_child_value(reply, 0);
		g_variant_lookup(booking, "unit", "&s", &unit);
		booking_int(booking, "start", &start);
		booking_int(booking, "end", &end);
		booking_int(booking, "ticket", &ticket);
		booking_int(booking, "position", &position);
		booking_int(booking, "estimated-start", &estimated);
	}
	queued = ticket > 0;
	if (ctl_output(ctl) == CTL_OUTPUT_JSON) {
		g_autofree char *text = NULL;
		CtlJson json;

		json_init(&json);
		json_begin_object(&json);
		json_key(&json, "booking");
		json_string(&json, id);
		if (queued) {
			json_key(&json, "ticket");
			json_int(&json, ticket);
			json_key(&json, "position");
			json_int(&json, position);
		}
		if (queued && estimated > 0) {
			g_autoptr(GVariant) value = g_variant_ref_sink(
				g_variant_new_int64(estimated));

			json_key(&json, "estimated-start");
			json_value(&json, "estimated-start", value);
		}
		json_end_object(&json);
		text = json_finish(&json);
		print_out(text);
		return;
	}
	printf("%s\n", id);
	if (!booking)
		return;
	if (queued) {
		g_autofree char *when = estimated > 0
			? time_format_local(estimated) : g_strdup("-");

		fprintf(stderr, _("Ticket %u, number %u in the queue, "
				  "estimated start %s (%s)\n"),
			(guint) ticket, (guint) position, when, unit);
	} else if (start > 0) {
		g_autofree char *from = time_format_local(start);
		g_autofree char *to = time_format_clock(end);

		fprintf(stderr, _("Booked at %s, %s–%s\n"), unit, from, to);
	}
}

static gboolean cmd_book(Ctl *ctl, int argc, char **argv, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	BookOptions o = { 0 };
	GVariant *options = NULL;
	const char *id;

	if (book_parse(ctl, &o, &argc, &argv, 2, 2, error) &&
	    (!o.seconds ||
	     !ctl_usage_error(error, _("--seconds is for hold"))))
		options = book_dict(ctl, &o, error);
	if (options)
		reply = client_call(ctl, CTL_IFACE_SCHEDULER, "Book",
				    g_variant_new("(ss@a{sv})", argv[1],
						  argv[2], options),
				    "(s)", CTL_TIMEOUT_MS, error);
	book_options_clear(&o);
	if (!reply)
		return FALSE;
	g_variant_get(reply, "(&s)", &id);
	print_booked(ctl, id);
	return TRUE;
}

static gboolean cmd_book_series(Ctl *ctl, int argc, char **argv,
				GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_autofree const char **ids = NULL;
	BookOptions o = { 0 };
	GVariant *options = NULL;
	GVariant *slots;

	if (book_parse(ctl, &o, &argc, &argv, 2, -1, error))
		options = book_dict(ctl, &o, error);
	book_options_clear(&o);
	if (!options)
		return FALSE;
	slots = g_variant_new_strv((const char *const *) argv + 2, argc - 2);
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "BookSeries",
			    g_variant_new("(@ass@a{sv})", slots, argv[1],
					  options),
			    "(as)", CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	g_variant_get(reply, "(^a&s)", &ids);
	print_ids(ctl_output(ctl), "bookings", ids, TRUE);
	return TRUE;
}

static gboolean cmd_cancel(Ctl *ctl, int argc, char **argv, GError **error)
{
	g_autofree char *reason = NULL;
	const GOptionEntry entries[] = {
		{ "reason", 0, 0, G_OPTION_ARG_FILENAME, &reason,
		  "Why, for the audit log (no personal data)", "TEXT" },
		{ NULL },
	};

	g_autoptr(GVariant) reply = NULL, booking = NULL;
	const char *status = NULL;

	if (!ctl_parse(ctl, entries, CTL_PARSE_PLAIN, &argc, &argv, 1, 1,
		       error))
		return FALSE;
	/* slotd takes a second Cancel as a retry and says nothing: a
	 * person is told that nothing changed. */
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "GetBooking",
			    g_variant_new("(s)", argv[1]), "(a{sv})",
			    CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	booking = g_variant_get_child_value(reply, 0);
	g_variant_lookup(booking, "status", "&s", &status);
	if (g_strcmp0(status, "cancelled") == 0) {
		gint64 modified = 0;
		g_autofree char *when = NULL;

		booking_int(booking, "modified", &modified);
		when = time_format_local(modified);
		fprintf(stderr, _("Booking %s was already cancelled (%s); "
				  "nothing changed.\n"), argv[1], when);
		return TRUE;
	}
	return ctl_void_call(ctl, CTL_IFACE_SCHEDULER, "Cancel",
			     g_variant_new("(ss)", argv[1],
					   reason ? reason : ""), error);
}

/* history BOOKING: every change, from the audit log. */
static gboolean cmd_history(Ctl *ctl, int argc, char **argv, GError **error)
{
	static const char *const keys[] = { "at", "action", "caller", "uid",
					    "detail", NULL };
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(CtlTable) table = table_new(keys);

	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 1, 1, error))
		return FALSE;
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "GetBookingHistory",
			    g_variant_new("(s)", argv[1]), "(aa{sv})",
			    CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	rows = g_variant_get_child_value(reply, 0);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);

		table_set_dict(table, table_add_row(table), row);
	}
	ctl_print_table(ctl, table, N_("No changes recorded."));
	return TRUE;
}

static gboolean cmd_series(Ctl *ctl, int argc, char **argv, GError **error)
{
	static const char *const keys[] = {
		"booking", "unit", "service", "start", "end", "status", NULL,
	};

	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 1, 1, error))
		return FALSE;
	return list_call(ctl, CTL_IFACE_SCHEDULER, "GetSeries",
			 g_variant_new("(s)", argv[1]), "(a(sssxxs))", keys,
			 N_("The series has no bookings."), error);
}

static gboolean cmd_cancel_series(Ctl *ctl, int argc, char **argv,
				  GError **error)
{
	g_autofree char *reason = NULL;
	g_autoptr(GVariant) reply = NULL;
	const GOptionEntry entries[] = {
		{ "reason", 0, 0, G_OPTION_ARG_FILENAME, &reason,
		  "Why, for the audit log (no personal data)", "TEXT" },
		{ NULL },
	};
	guint cancelled;

	if (!ctl_parse(ctl, entries, CTL_PARSE_PLAIN, &argc, &argv, 1, 1,
		       error))
		return FALSE;
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "CancelSeries",
			    g_variant_new("(ss)", argv[1],
					  reason ? reason : ""),
			    "(u)", CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	g_variant_get(reply, "(u)", &cancelled);
	printf(ngettext("%u booking cancelled\n", "%u bookings cancelled\n",
			cancelled), cancelled);
	return TRUE;
}

static gboolean cmd_reschedule(Ctl *ctl, int argc, char **argv,
			       GError **error)
{
	g_autofree char *practitioner = NULL;
	gboolean any = FALSE;
	const GOptionEntry entries[] = {
		{ "practitioner", 0, 0, G_OPTION_ARG_FILENAME, &practitioner,
		  "The visit's practitioner from now on", "ID" },
		{ "any-practitioner", 0, 0, G_OPTION_ARG_NONE, &any,
		  "Whoever can take it (drops the one it was booked with)",
		  NULL },
		{ NULL },
	};
	GVariantDict d;

	if (!ctl_parse(ctl, entries, CTL_PARSE_PLAIN, &argc, &argv, 2, 2,
		       error))
		return FALSE;
	if (practitioner && any)
		return ctl_usage_error(error, "%s",
				       _("--practitioner and "
					 "--any-practitioner exclude each "
					 "other"));
	if (!practitioner && !any)
		return id_call(ctl, "Reschedule",
			       g_variant_new("(ss)", argv[1], argv[2]),
			       "booking", error);
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "practitioner", "s",
			      practitioner ? practitioner : "");
	return id_call(ctl, "RescheduleWith",
		       g_variant_new("(ss@a{sv})", argv[1], argv[2],
				     g_variant_dict_end(&d)),
		       "booking", error);
}

static gboolean cmd_show(Ctl *ctl, int argc, char **argv, GError **error)
{
	static const char *const keys[] = {
		"id", "status", "service", "unit", "slot", "start", "end",
		"client-ref", "seats", "municipality", "language", "modality",
		"urgency", "referral-time", "needs-rebooking", "booked-by",
		"on-behalf-of", "series", "series-index", "series-length",
		"cancel-reason", "created", "modified", "sequence", NULL,
	};
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) booking = NULL;
	g_autoptr(CtlTable) table = table_new(keys);

	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 1, 1, error))
		return FALSE;
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "GetBooking",
			    g_variant_new("(s)", argv[1]), "(a{sv})",
			    CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	booking = g_variant_get_child_value(reply, 0);
	table_set_dict(table, table_add_row(table), booking);
	table_print_record(table, ctl_output(ctl));
	return TRUE;
}

typedef struct {
	char *unit;
	char *service;
	char *status;
	char *client_ref;
	char *from;
	char *to;
	int limit;
	gboolean needs_rebooking;
} ListOptions;

static GVariant *list_filter(Ctl *ctl, ListOptions *o, GError **error)
{
	g_auto(GVariantDict) filter = G_VARIANT_DICT_INIT(NULL);

	args_put_string(&filter, "unit", o->unit);
	args_put_string(&filter, "service", o->service);
	args_put_string(&filter, "status", o->status);
	args_put_string(&filter, "client-ref", o->client_ref);
	if (!args_put_time(&filter, "from", o->from, FALSE, error) ||
	    !args_put_time(&filter, "to", o->to, TRUE, error) ||
	    !args_put_count(&filter, "limit", "--limit", o->limit, error))
		return NULL;
	if (o->needs_rebooking)
		g_variant_dict_insert(&filter, "needs-rebooking", "b", TRUE);
	return g_variant_dict_end(&filter);
}

static gboolean cmd_list(Ctl *ctl, int argc, char **argv, GError **error)
{
	static const char *const keys[] = {
		"booking", "unit", "service", "start", "end", "status", NULL,
	};
	ListOptions o = { .limit = -1 };
	const GOptionEntry entries[] = {
		{ "unit", 0, 0, G_OPTION_ARG_FILENAME, &o.unit,
		  "Only this unit", "U" },
		{ "service", 0, 0, G_OPTION_ARG_FILENAME, &o.service,
		  "Only this service", "S" },
		{ "status", 0, 0, G_OPTION_ARG_FILENAME, &o.status,
		  "Only bookings with this status", "S" },
		{ "client-ref", 0, 0, G_OPTION_ARG_FILENAME, &o.client_ref,
		  "Only this client's bookings", "C" },
		{ "from", 0, 0, G_OPTION_ARG_FILENAME, &o.from,
		  "Starting at or after TIME", "TIME" },
		{ "to", 0, 0, G_OPTION_ARG_FILENAME, &o.to,
		  "Starting before TIME (a bare date: its end)", "TIME" },
		{ "limit", 0, 0, G_OPTION_ARG_INT, &o.limit,
		  "At most N bookings", "N" },
		{ "needs-rebooking", 0, 0, G_OPTION_ARG_NONE,
		  &o.needs_rebooking,
		  "Only bookings whose slot was withdrawn by a config change",
		  NULL },
		{ NULL },
	};
	GVariant *filter = NULL;
	gboolean ok = FALSE;

	if (ctl_parse(ctl, entries, CTL_PARSE_PLAIN, &argc, &argv, 0, 0,
		      error))
		filter = list_filter(ctl, &o, error);
	if (filter)
		ok = list_call(ctl, CTL_IFACE_SCHEDULER, "ListBookings",
			       g_variant_new("(@a{sv})", filter), "(a(sssxxs))",
			       keys, N_("No bookings match."), error);
	g_free(o.unit);
	g_free(o.service);
	g_free(o.status);
	g_free(o.client_ref);
	g_free(o.from);
	g_free(o.to);
	return ok;
}

/* status: how slotd is (GetStatus, the facts of /healthz); exit 1
 * when it is not healthy. */
static gboolean daemon_status(Ctl *ctl, GError **error)
{
	static const char *const keys[] = {
		"healthy", "loop-ok", "last-turn-ms", "database-writable",
		"horizon-complete", "plugins-loaded", "plugins-refused",
		"offerings", "unavailable-offerings", "pending-calls",
		"version", "region", "now", NULL,
	};
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) status = NULL;
	g_autoptr(CtlTable) table = table_new(keys);
	gboolean healthy = FALSE;

	reply = client_call(ctl, CTL_IFACE_ADMIN, "GetStatus", NULL,
			    "(a{sv})", CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	status = g_variant_get_child_value(reply, 0);
	table_set_dict(table, table_add_row(table), status);
	table_print_record(table, ctl_output(ctl));
	g_variant_lookup(status, "healthy", "b", &healthy);
	if (!healthy)
		g_set_error(error, CTL_ERROR, CTL_ERROR_FAILED,
			    _("slotd is not healthy (see above)"));
	return healthy;
}

/* status BOOKING STATUS sets a booking's; status alone shows slotd's. */
static gboolean cmd_status(Ctl *ctl, int argc, char **argv, GError **error)
{
	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 0, 2, error))
		return FALSE;
	if (argc == 1)
		return daemon_status(ctl, error);
	if (argc != 3)
		return ctl_usage_error(error, _("status takes BOOKING STATUS, "
				       "or nothing for slotd's own"));
	return ctl_void_call(ctl, CTL_IFACE_SCHEDULER, "SetStatus",
			     g_variant_new("(ss)", argv[1], argv[2]), error);
}

/* resources [UNIT]: the practitioners, rooms and vehicles. */
static gboolean cmd_resources(Ctl *ctl, int argc, char **argv,
			      GError **error)
{
	static const char *const keys[] = { "id", "type", "unit",
					    "organisation", "roles",
					    "languages", "seats", NULL };
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(CtlTable) table = table_new(keys);

	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 0, 1, error))
		return FALSE;
	reply = client_call(ctl, CTL_IFACE_ADMIN, "ListResources",
			    g_variant_new("(s)", argc > 1 ? argv[1] : ""),
			    "(aa{sv})", CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	rows = g_variant_get_child_value(reply, 0);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autoptr(GVariant) spans = g_variant_lookup_value(
			row, "absences", G_VARIANT_TYPE("a(xxs)"));
		g_autoptr(GString) text = g_string_new(NULL);
		GHashTable *r = table_add_row(table);

		table_set_dict(table, r, row);
		/* Absences as people read them: local times and why. */
		for (gsize k = 0; spans && k < g_variant_n_children(spans);
		     k++) {
			g_autofree char *from = NULL, *to = NULL;
			const char *why;
			gint64 start, end;

			g_variant_get_child(spans, k, "(xx&s)", &start, &end,
					    &why);
			from = time_format_local(start);
			to = time_format_local(end);
			g_string_append_printf(text, "%s%s – %s (%s)",
					       k ? "; " : "", from, to, why);
		}
		table_set(table, r, "absences", g_variant_new_string(
				  text->len ? text->str : "-"));
	}
	ctl_print_table(ctl, table, N_("No resources are configured."));
	return TRUE;
}

/* absence RESOURCE FROM TO --reason TEXT: withdraw a practitioner's,
 * room's or vehicle's time; print the bookings to move and where. */
static gboolean cmd_absence(Ctl *ctl, int argc, char **argv, GError **error)
{
	static const char *const keys[] = { "booking", "unit", "start",
					    "language", "alternatives", NULL };
	g_autofree char *reason = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(CtlTable) table = table_new(keys);
	const GOptionEntry entries[] = {
		{ "reason", 0, 0, G_OPTION_ARG_FILENAME, &reason,
		  "Why, for the audit log (no personal data)", "TEXT" },
		{ NULL },
	};
	const char *absence;
	gint64 from, to;

	if (!ctl_parse(ctl, entries, CTL_PARSE_PLAIN, &argc, &argv, 3, 3,
		       error))
		return FALSE;
	if (!time_parse(argv[2], FALSE, &from, error) ||
	    !time_parse(argv[3], TRUE, &to, error))
		return FALSE;
	reply = client_call(ctl, CTL_IFACE_ADMIN, "MarkAbsent",
			    g_variant_new("(sxxs)", argv[1], from, to,
					  reason ? reason : ""),
			    "(saa{sv})", CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	g_variant_get(reply, "(&s@aa{sv})", &absence, &rows);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autoptr(GVariant) alts = g_variant_lookup_value(
			row, "alternatives", G_VARIANT_TYPE("aa{sv}"));
		g_autoptr(GString) text = g_string_new(NULL);
		GHashTable *r = table_add_row(table);

		table_set_dict(table, r, row);
		for (gsize k = 0; alts && k < g_variant_n_children(alts); k++) {
			g_autoptr(GVariant) a = g_variant_get_child_value(alts,
									  k);
			const char *slot = "", *unit = "";
			gint64 start = 0;
			g_autofree char *when = NULL;

			g_variant_lookup(a, "slot", "&s", &slot);
			g_variant_lookup(a, "unit", "&s", &unit);
			g_variant_lookup(a, "start", "x", &start);
			when = time_format_local(start);
			g_string_append_printf(text, "%s%s %s %s",
					       k ? ", " : "", slot, unit, when);
		}
		table_set(table, r, "alternatives", g_variant_new_string(
				  text->len ? text->str : "-"));
	}
	fprintf(stderr, _("%s: %u booking(s) need rebooking\n"), absence,
		(guint)g_variant_n_children(rows));
	ctl_print_table(ctl, table, N_("No booking takes it then."));
	return TRUE;
}

/* --- the command table and main ----------------------------------- */

static gboolean cmd_help(Ctl *ctl, int argc, char **argv, GError **error);

static const CtlCommand commands[] = {
	{ "services", "", N_("List the services and their plugin kinds"),
	  cmd_services },
	{ "units", "", N_("List the units, their municipality and languages"),
	  cmd_units },
	{ "find", "SERVICE", N_("Find free slots for a client"), cmd_find },
	{ "find-series", "SERVICE",
	  N_("Find whole series (--every 24h --count 5; weekly courses)"),
	  cmd_find_series },
	{ "hold", "SLOT [CLIENT]",
	  N_("Hold what booking this request would take, for a while"),
	  cmd_hold },
	{ "release", "HOLD", N_("Give a hold's places back"), cmd_release },
	{ "book", "SLOT CLIENT_REF", N_("Book a slot for a client"), cmd_book },
	{ "book-series", "CLIENT_REF SLOT…",
	  N_("Book several slots for a client, all or none"), cmd_book_series },
	{ "cancel", "BOOKING", N_("Cancel a booking"), cmd_cancel },
	{ "reschedule", "BOOKING NEW_SLOT",
	  N_("Move a booking to another slot in one step"), cmd_reschedule },
	{ "show", "BOOKING", N_("Show everything about a booking"), cmd_show },
	{ "history", "BOOKING", N_("Every change of a booking, with who made it"),
	  cmd_history },
	{ "series", "SERIES", N_("The bookings of a series (sr-N)"), cmd_series },
	{ "cancel-series", "SERIES", N_("Cancel a series' bookings still to come"),
	  cmd_cancel_series },
	{ "list", "", N_("List bookings"), cmd_list },
	{ "waitlist", "join SERVICE CLIENT_REF|leave|accept|decline ENTRY|list SERVICE",
	  N_("Waitlists: join, leave, list, answer an offer"), cmd_waitlist },
	{ "campaign", "plan SERVICE CLIENTS|book SERVICE PLAN|progress SERVICE ID",
	  N_("Campaigns: plan a round of visits, book it, follow it"),
	  cmd_campaign },
	{ "outbox", "", N_("Notifications not yet acknowledged by the gateway"),
	  cmd_outbox },
	{ "status", "[BOOKING STATUS]",
	  N_("Set a booking's status (arrived, checked-in, fulfilled, noshow, "
	  "entered-in-error); alone, how slotd is"), cmd_status },
	{ "resources", "[UNIT]",
	  N_("List the practitioners, rooms and vehicles"), cmd_resources },
	{ "absence", "RESOURCE FROM TO",
	  N_("Mark a resource absent; list the bookings to move"),
	  cmd_absence },
	{ "plugins", "", N_("List the loaded plugins"), cmd_plugins },
	{ "reload", "", N_("Reload the configuration and plugins"), cmd_reload },
	{ "feed-url", "UNIT | --practitioner ID",
	  N_("Issue a calendar feed token and print its URLs"), cmd_feed_url },
	{ "feed-revoke", "TOKEN", N_("Revoke a calendar feed token"),
	  cmd_feed_revoke },
	{ "backup", "FILE", N_("Write a copy of the database to FILE"),
	  cmd_backup },
	{ "report", "SERVICE | resources",
	  N_("Capacity report: utilisation and third-next-available"),
	  cmd_report },
	{ "deadlines", "SERVICE",
	  N_("Deadline report: met, breached and at risk"), cmd_deadlines },
	{ "staffing", "SERVICE", N_("Staff needed against staff rostered"),
	  cmd_staffing },
	{ "help", "[COMMAND]", N_("Show the help of slotctl or of a command"),
	  cmd_help },
	{ NULL },
};

static const CtlCommand *find_command(const char *name)
{
	for (guint i = 0; commands[i].name; i++)
		if (g_str_equal(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static char *commands_help(void)
{
	GString *text = g_string_new(_("Commands:\n"));

	for (guint i = 0; commands[i].name; i++)
		g_string_append_printf(text, "  %-12s %s\n", commands[i].name,
				       _(commands[i].summary));
	g_string_append(text, _("\nTimes are Europe/Helsinki: 2026-12-07, "
			"2026-12-07T14:00 or \"2026-12-07 14:00\".\n"
			"Run “slotctl COMMAND --help” for a command's "
			"options.\nExit status: 0 ok, 1 slotd or the bus "
			"refused, 2 usage error."));
	return g_string_free(text, FALSE);
}

/* slotctl with no command word: --help, --version or a usage error. */
static int run_top_level(Ctl *ctl, int argc, char **argv, gboolean help)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *description = commands_help();
	gboolean version = FALSE;
	const GOptionEntry entries[] = {
		{ "version", 0, 0, G_OPTION_ARG_NONE, &version,
		  "Print the version", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("COMMAND [ARGUMENT…]");
	g_autoptr(GArray) all = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));

	g_set_prgname("slotctl");
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_array_append_vals(all, entries, 1);
	add_shared_entries(ctl, all, CTL_PARSE_PLAIN);
	g_option_context_set_summary(context, _("Talk to slotd, the "
				     "appointment-capacity daemon."));
	g_option_context_set_description(context, description);
	g_option_context_add_main_entries(context,
					  (GOptionEntry *) all->data, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "slotctl: %s\n", error->message);
	} else if (version) {
		printf("slotctl %s\n", SLOTD_VERSION);
		return 0;
	} else if (help) {
		g_autofree char *text = g_option_context_get_help(context,
								  TRUE, NULL);

		print_out(text);
		return 0;
	} else {
		fprintf(stderr, "slotctl: missing COMMAND\n");
	}
	fprintf(stderr, "%s", _("Usage: slotctl [OPTION…] COMMAND [ARGUMENT…]\n"
		"Try “slotctl --help” for the list of commands.\n"));
	return 2;
}

/* "slotctl help find" is "slotctl find --help". */
static gboolean cmd_help(Ctl *ctl, int argc, char **argv, GError **error)
{
	char *help_argv[] = { argv[0], (char *) "--help", NULL };
	g_autofree char *prgname = NULL;
	const CtlCommand *command;

	if (!ctl_parse(ctl, NULL, CTL_PARSE_PLAIN, &argc, &argv, 0, 1, error))
		return FALSE;
	if (argc < 2)
		return run_top_level(ctl, 1, argv, TRUE) == 0;
	command = find_command(argv[1]);
	if (!command || command->run == cmd_help)
		return ctl_usage_error(error, _("no command “%s”"), argv[1]);
	ctl->command = command;
	prgname = g_strconcat("slotctl ", command->name, NULL);
	g_set_prgname(prgname);
	return command->run(ctl, 2, help_argv, error);
}

/* The first word that is not an option (nor --address's value). */
static int command_index(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (g_str_equal(argv[i], "--"))
			return i + 1 < argc ? i + 1 : -1;
		if (argv[i][0] != '-')
			return i;
		if (g_str_equal(argv[i], "--address"))
			i++;
	}
	return -1;
}

static gboolean check_utf8(int argc, char **argv, GError **error)
{
	for (int i = 1; i < argc; i++)
		if (!g_utf8_validate(argv[i], -1, NULL))
			return ctl_usage_error(error, "argument %d is not "
					       "valid UTF-8", i);
	return TRUE;
}

static int report_error(const Ctl *ctl, const GError *error)
{
	const CtlCommand *command = ctl->command;

	if (!g_error_matches(error, CTL_ERROR, CTL_ERROR_USAGE)) {
		fprintf(stderr, "slotctl: %s\n", error->message);
		return 1;
	}
	if (!command) {
		fprintf(stderr, "slotctl: %s\nUsage: slotctl [OPTION…] "
			"COMMAND [ARGUMENT…]\n", error->message);
		return 2;
	}
	fprintf(stderr, "slotctl %s: %s\n", command->name, error->message);
	fprintf(stderr, _("Usage: slotctl %s [OPTION…]%s%s\n"
		"Try “slotctl %s --help”.\n"), command->name,
		*command->args ? " " : "", command->args, command->name);
	return 2;
}

static void ctl_clear(Ctl *ctl)
{
	client_disconnect(ctl);
	g_free(ctl->address);
	g_strfreev(ctl->opt_s);
	g_strfreev(ctl->opt_u);
	g_strfreev(ctl->opt_i);
	g_strfreev(ctl->opt_x);
	g_strfreev(ctl->opt_d);
	g_strfreev(ctl->opt_b);
}

static int run_command(Ctl *ctl, int argc, char **argv, int index)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *prgname = NULL;
	g_autofree char **args = g_new0(char *, argc + 1);
	int count = 0;

	ctl->command = find_command(argv[index]);
	if (!ctl->command) {
		fprintf(stderr, _("slotctl: unknown command “%s”\n"
			"Try “slotctl --help” for the list of commands.\n"),
			argv[index]);
		return 2;
	}
	/* The usage line of --help reads "slotctl find [OPTION…] SERVICE". */
	prgname = g_strconcat("slotctl ", ctl->command->name, NULL);
	g_set_prgname(prgname);
	for (int i = 0; i < argc; i++)
		if (i != index)
			args[count++] = argv[i];
	if (ctl->command->run(ctl, count, args, &error))
		return 0;
	return report_error(ctl, error);
}

/* An environment variable not set, or set empty. */
static gboolean unset(const char *name)
{
	const char *value = g_getenv(name);

	return value == NULL || *value == '\0';
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	Ctl ctl = { 0 };
	int index, status;

	setlocale(LC_ALL, "");
	/* gettext ignores LANGUAGE in the C locale, the one a shell
	 * without LANG has (a fresh container, a cron job), and GLib
	 * writes its text in ASCII there: asked for by name, the language
	 * is given all the same, in UTF-8. Only where no locale is set at
	 * all: LC_ALL=C still means the untranslated messages. */
	if (unset("LC_ALL") && unset("LC_MESSAGES") && unset("LANG") &&
	    !unset("LANGUAGE") && setlocale(LC_MESSAGES, "C.UTF-8"))
		setlocale(LC_CTYPE, "C.UTF-8");
	/* SLOTCTL_LOCALEDIR: the build tree's catalogues (the tests,
	 * run.sh). */
	bindtextdomain(GETTEXT_PACKAGE, g_getenv("SLOTCTL_LOCALEDIR")
						? g_getenv("SLOTCTL_LOCALEDIR")
						: LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
	if (!check_utf8(argc, argv, &error))
		return report_error(&ctl, error);
	index = command_index(argc, argv);
	if (index < 0)
		status = run_top_level(&ctl, argc, argv, FALSE);
	else
		status = run_command(&ctl, argc, argv, index);
	ctl_clear(&ctl);
	/* A full disk or a closed pipe must not look like success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s", _("slotctl: cannot write the output\n"));
		return status ? status : 1;
	}
	return status;
}
