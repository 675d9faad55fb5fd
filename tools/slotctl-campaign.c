/* slotctl campaign plan|book|progress: a round of visits planned as a
 * whole (Scheduler1.PlanCampaign), booked as planned, all or the days
 * accepted (BookCampaign), and followed by its id (CampaignProgress).
 * The plan is saved as a file that `campaign book` reads back, so what
 * is booked is exactly what was proposed and looked at. */
#include "slotctl.h"

#include <stdio.h>
#include <string.h>

static const char *const time_keys[] = { "start", "end", NULL };

static void add_rows(Ctl *ctl, CtlTable *table, GVariant *rows)
{
	gboolean local = ctl_output(ctl) != CTL_OUTPUT_JSON;

	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autoptr(GVariant) shown = NULL;
		g_auto(GStrv) who = NULL;
		GVariantDict d;

		g_variant_dict_init(&d, row);
		for (guint k = 0; local && time_keys[k]; k++) {
			gint64 utc;

			if (g_variant_dict_lookup(&d, time_keys[k], "x", &utc)) {
				g_autofree char *text = time_format_local(utc);

				g_variant_dict_insert(&d, time_keys[k], "s",
						      text);
			}
		}
		if (local &&
		    g_variant_dict_lookup(&d, "practitioners", "^as", &who)) {
			g_autofree char *joined = g_strjoinv(" ", who);

			g_variant_dict_insert(&d, "practitioners", "s",
					      joined);
		}
		shown = g_variant_ref_sink(g_variant_dict_end(&d));
		table_set_dict(table, table_add_row(table), shown);
	}
}

/* A clients file (a new reference): one client a line, "CLIENT_REF,HOUSING_UNIT[,LANG]"
 * (commas, semicolons or tabs); blank lines, # comments and a header
 * line starting client-ref are skipped. */
static GVariant *read_clients(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	GVariantBuilder b;
	guint n = 0;

	if (!g_file_get_contents(path, &text, NULL, error))
		return NULL;
	g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) f = NULL;
		GVariantDict d;
		guint nf;

		g_strstrip(lines[i]);
		if (!lines[i][0] || lines[i][0] == '#' ||
		    g_str_has_prefix(lines[i], "client-ref"))
			continue;
		f = g_strsplit_set(lines[i], ",;\t", -1);
		nf = g_strv_length(f);
		for (guint k = 0; k < nf; k++)
			g_strstrip(f[k]);
		if (nf < 2 || nf > 3 || !f[0][0] || !f[1][0]) {
			g_variant_builder_clear(&b);
			g_set_error(error, CTL_ERROR, CTL_ERROR_USAGE,
				    "%s:%u: expected CLIENT_REF,HOUSING_UNIT"
				    "[,LANGUAGE]", path, i + 1);
			return NULL;
		}
		g_variant_dict_init(&d, NULL);
		g_variant_dict_insert(&d, "client-ref", "s", f[0]);
		g_variant_dict_insert(&d, "housing-unit", "s", f[1]);
		if (nf == 3 && f[2][0])
			g_variant_dict_insert(&d, "language", "s", f[2]);
		g_variant_builder_add_value(&b, g_variant_dict_end(&d));
		n++;
	}
	if (n == 0) {
		g_variant_builder_clear(&b);
		g_set_error(error, CTL_ERROR, CTL_ERROR_USAGE,
			    "%s has no clients", path);
		return NULL;
	}
	return g_variant_ref_sink(g_variant_builder_end(&b));
}

typedef struct {
	char *from;
	char *to;
	char *campaign;
	char *save;
	char *clients;
	char *booked_by;
	char **days;
} CampaignOptions;

static void campaign_options_clear(CampaignOptions *o)
{
	g_free(o->from);
	g_free(o->to);
	g_free(o->campaign);
	g_free(o->save);
	g_free(o->clients);
	g_free(o->booked_by);
	g_strfreev(o->days);
}

static const char *const plan_keys[] = {
	"client-ref", "housing-unit", "status", "day", "start", "unit",
	"practitioners", "error", "reason", NULL,
};

static gboolean campaign_plan(Ctl *ctl, CampaignOptions *o,
			      const char *service, const char *path,
			      GError **error)
{
	g_autoptr(GVariant) clients = NULL, reply = NULL, rows = NULL;
	g_autoptr(CtlTable) table = table_new(plan_keys);
	GVariantDict options;
	gint64 from, to;

	if (!o->from || !o->to)
		return ctl_usage_error(error, "campaign plan needs --from and "
				       "--to (the window)");
	if (!time_parse(o->from, FALSE, &from, error) ||
	    !time_parse(o->to, TRUE, &to, error))
		return FALSE;
	clients = read_clients(path, error);
	if (!clients)
		return FALSE;
	g_variant_dict_init(&options, NULL);
	args_put_string(&options, "campaign", o->campaign);
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "PlanCampaign",
			    g_variant_new("(s@aa{sv}(xx)@a{sv})", service,
					  clients, from, to,
					  g_variant_dict_end(&options)),
			    "(aa{sv})", CTL_REPORT_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	rows = g_variant_get_child_value(reply, 0);
	if (o->save) {
		g_autofree char *text = g_variant_print(rows, TRUE);

		if (!g_file_set_contents(o->save, text, -1, error))
			return FALSE;
	}
	add_rows(ctl, table, rows);
	ctl_print_table(ctl, table, "No clients.");
	return TRUE;
}

/* The placed rows of a saved plan, of the --day days if given. */
static GVariant *accepted_rows(const char *path, char **days, guint *ret_n,
			       GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GVariant) plan = NULL;
	GVariantBuilder b;

	if (!g_file_get_contents(path, &text, NULL, error))
		return NULL;
	plan = g_variant_parse(G_VARIANT_TYPE("aa{sv}"), text, NULL, NULL,
			       error);
	if (!plan) {
		g_prefix_error(error, "%s is not a plan of campaign plan "
			       "--save: ", path);
		return NULL;
	}
	g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
	*ret_n = 0;
	for (gsize i = 0; i < g_variant_n_children(plan); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(plan, i);
		const char *status = NULL, *day = NULL;

		g_variant_lookup(row, "status", "&s", &status);
		g_variant_lookup(row, "day", "&s", &day);
		if (g_strcmp0(status, "placed") != 0 ||
		    (days && !g_strv_contains((const char *const *)days,
					      day)))
			continue;
		g_variant_builder_add_value(&b, row);
		(*ret_n)++;
	}
	return g_variant_builder_end(&b);
}

static gboolean campaign_book(Ctl *ctl, CampaignOptions *o,
			      const char *service, const char *path,
			      GError **error)
{
	g_autoptr(GVariant) rows = NULL, reply = NULL;
	g_autofree const char **ids = NULL;
	GVariantDict options;
	guint n = 0;

	if (!o->campaign)
		return ctl_usage_error(error, "campaign book needs --campaign "
				       "ID (the bookings carry it)");
	rows = accepted_rows(path, o->days, &n, error);
	if (!rows)
		return FALSE;
	g_variant_ref_sink(rows);
	if (n == 0)
		return ctl_usage_error(error, "no placed clients%s in %s",
				       o->days ? " on those days" : "", path);
	g_variant_dict_init(&options, NULL);
	args_put_string(&options, "campaign", o->campaign);
	args_put_string(&options, "booked-by", o->booked_by);
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "BookCampaign",
			    g_variant_new("(s@aa{sv}@a{sv})", service, rows,
					  g_variant_dict_end(&options)),
			    "(as)", CTL_REPORT_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	g_variant_get(reply, "(^a&s)", &ids);
	if (ctl_output(ctl) == CTL_OUTPUT_JSON) {
		CtlJson json;
		g_autofree char *text = NULL;

		json_init(&json);
		json_begin_array(&json);
		for (guint i = 0; ids[i]; i++)
			json_string(&json, ids[i]);
		json_end_array(&json);
		text = json_finish(&json);
		print_out(text);
		return TRUE;
	}
	for (guint i = 0; ids[i]; i++)
		printf("%s\n", ids[i]);
	return TRUE;
}

static gboolean campaign_progress(Ctl *ctl, CampaignOptions *o,
				  const char *service, const char *campaign,
				  GError **error)
{
	static const char *const keys[] = { "client-ref", "progress",
					    "booking", "status", "start",
					    "unit", NULL };
	g_autoptr(GVariant) reply = NULL, d = NULL, rows = NULL;
	g_autoptr(CtlTable) table = table_new(keys);
	GVariantDict options;
	guint32 mapped = 0, scheduled = 0, missing = 0;

	g_variant_dict_init(&options, NULL);
	if (o->clients) {
		g_autoptr(GVariant) list = read_clients(o->clients, error);
		g_autoptr(GPtrArray) refs = g_ptr_array_new();

		if (!list) {
			g_variant_dict_clear(&options);
			return FALSE;
		}
		for (gsize i = 0; i < g_variant_n_children(list); i++) {
			g_autoptr(GVariant) row =
				g_variant_get_child_value(list, i);
			const char *ref = NULL;

			g_variant_lookup(row, "client-ref", "&s", &ref);
			g_ptr_array_add(refs, (gpointer)ref);
		}
		g_variant_dict_insert_value(
			&options, "clients",
			g_variant_new_strv((const char *const *)refs->pdata,
					   refs->len));
	}
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "CampaignProgress",
			    g_variant_new("(ss@a{sv})", service, campaign,
					  g_variant_dict_end(&options)),
			    "(a{sv})", CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	d = g_variant_get_child_value(reply, 0);
	g_variant_lookup(d, "mapped", "u", &mapped);
	g_variant_lookup(d, "scheduled", "u", &scheduled);
	g_variant_lookup(d, "not-scheduled", "u", &missing);
	rows = g_variant_lookup_value(d, "clients", G_VARIANT_TYPE("aa{sv}"));
	if (ctl_output(ctl) == CTL_OUTPUT_TEXT)
		printf(_("%s: %u mapped, %u scheduled, %u not scheduled\n"),
		       campaign, mapped, scheduled, missing);
	add_rows(ctl, table, rows);
	ctl_print_table(ctl, table, "No clients in this campaign yet.");
	return TRUE;
}

/* campaign plan SERVICE CLIENTS_FILE --from --to [--campaign] [--save]
 * | book SERVICE PLAN_FILE --campaign ID [--day DATE]...
 * | progress SERVICE CAMPAIGN [--clients FILE] */
gboolean cmd_campaign(Ctl *ctl, int argc, char **argv, GError **error)
{
	CampaignOptions o = { 0 };
	const GOptionEntry entries[] = {
		{ "from", 0, 0, G_OPTION_ARG_FILENAME, &o.from,
		  "plan: the window's first day or time (local)", "WHEN" },
		{ "to", 0, 0, G_OPTION_ARG_FILENAME, &o.to,
		  "plan: the window's last day or time (local)", "WHEN" },
		{ "campaign", 0, 0, G_OPTION_ARG_FILENAME, &o.campaign,
		  "plan: skip clients already booked in it; book: the id "
		  "the bookings carry", "ID" },
		{ "save", 0, 0, G_OPTION_ARG_FILENAME, &o.save,
		  "plan: write the plan to FILE for campaign book", "FILE" },
		{ "day", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.days,
		  "book: only the placements of this day (YYYY-MM-DD; "
		  "repeat it)", "DATE" },
		{ "booked-by", 0, 0, G_OPTION_ARG_FILENAME, &o.booked_by,
		  "book: the professional booking (a pseudonymous id)", "ID" },
		{ "clients", 0, 0, G_OPTION_ARG_FILENAME, &o.clients,
		  "progress: the round's clients file; those never booked "
		  "count as not scheduled", "FILE" },
		{ NULL },
	};
	gboolean ok;

	if (!ctl_parse(ctl, entries, CTL_PARSE_CSV, &argc, &argv, 3, 3,
		       error)) {
		campaign_options_clear(&o);
		return FALSE;
	}
	if (g_str_equal(argv[1], "plan"))
		ok = campaign_plan(ctl, &o, argv[2], argv[3], error);
	else if (g_str_equal(argv[1], "book"))
		ok = campaign_book(ctl, &o, argv[2], argv[3], error);
	else if (g_str_equal(argv[1], "progress"))
		ok = campaign_progress(ctl, &o, argv[2], argv[3], error);
	else
		ok = ctl_usage_error(error, "campaign takes plan, book or "
				     "progress");
	campaign_options_clear(&o);
	return ok;
}
