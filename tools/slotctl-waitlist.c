/* slotctl waitlist join|leave|list|accept|decline, and slotctl outbox:
 * the waitlist's calls on Scheduler1 and the administrator's view of
 * the notification outbox (Notifications1.List, which claims nothing). */
#include "slotctl.h"

#include <stdio.h>
#include <string.h>

#define CTL_IFACE_NOTIFICATIONS "org.slotd.Notifications1"

/* UTC seconds of these keys are shown as local times in text and CSV;
 * JSON keeps the numbers. */
static const char *const time_keys[] = {
	"earliest", "latest", "offer-expires", "due", "lease-until", NULL,
};

static void print_one_id(Ctl *ctl, const char *key, const char *id)
{
	g_autofree char *text = NULL;
	CtlJson json;

	if (ctl_output(ctl) != CTL_OUTPUT_JSON) {
		printf("%s\n", id);
		return;
	}
	json_init(&json);
	json_begin_object(&json);
	json_key(&json, key);
	json_string(&json, id);
	json_end_object(&json);
	text = json_finish(&json);
	print_out(text);
}

static void add_rows(Ctl *ctl, CtlTable *table, GVariant *rows)
{
	gboolean local = ctl_output(ctl) != CTL_OUTPUT_JSON;

	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		GVariantDict d;
		g_autoptr(GVariant) shown = NULL;

		g_variant_dict_init(&d, row);
		for (guint k = 0; local && time_keys[k]; k++) {
			gint64 utc;

			if (g_variant_dict_lookup(&d, time_keys[k], "x", &utc)) {
				g_autofree char *text = time_format_local(utc);

				g_variant_dict_insert(&d, time_keys[k], "s",
						      text);
			}
		}
		shown = g_variant_ref_sink(g_variant_dict_end(&d));
		table_set_dict(table, table_add_row(table), shown);
	}
}

/* What `waitlist join` asks; the other subcommands take none of it. */
typedef struct {
	char *municipality;
	char *language;
	char *modality;
	char *earliest;
	char *latest;
	char *deadline;
	int priority;
} JoinOptions;

static gboolean waitlist_join(Ctl *ctl, JoinOptions *o, const char *service,
			      const char *client_ref, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	GVariantDict query;
	const char *entry;

	g_variant_dict_init(&query, NULL);
	args_put_string(&query, "municipality", o->municipality);
	args_put_string(&query, "language", o->language);
	args_put_string(&query, "modality", o->modality);
	if ((o->earliest &&
	     !args_put_time(&query, "earliest", o->earliest, FALSE, error)) ||
	    (o->latest &&
	     !args_put_time(&query, "latest", o->latest, TRUE, error)) ||
	    (o->deadline &&
	     !args_put_time(&query, "deadline", o->deadline, TRUE, error)) ||
	    (o->priority &&
	     !args_put_count(&query, "priority", "--priority", o->priority,
			     error))) {
		g_variant_dict_clear(&query);
		return FALSE;
	}
	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "JoinWaitlist",
			    g_variant_new("(ss@a{sv})", service, client_ref,
					  g_variant_dict_end(&query)),
			    "(s)", CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	g_variant_get(reply, "(&s)", &entry);
	print_one_id(ctl, "entry", entry);
	return TRUE;
}

static gboolean waitlist_list(Ctl *ctl, const char *service, GError **error)
{
	static const char *const keys[] = {
		"id", "priority", "deadline", "client-ref", "status",
		"offer-slot", "offer-expires", NULL,
	};
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(CtlTable) table = table_new(keys);

	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "ListWaitlist",
			    g_variant_new("(s)", service), "(aa{sv})",
			    CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	rows = g_variant_get_child_value(reply, 0);
	add_rows(ctl, table, rows);
	ctl_print_table(ctl, table, "Nobody is waiting.");
	return TRUE;
}

static gboolean waitlist_accept(Ctl *ctl, const char *entry, GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	const char *booking;

	reply = client_call(ctl, CTL_IFACE_SCHEDULER, "AcceptOffer",
			    g_variant_new("(s)", entry), "(s)",
			    CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	g_variant_get(reply, "(&s)", &booking);
	print_one_id(ctl, "booking", booking);
	return TRUE;
}

static void join_options_clear(JoinOptions *o)
{
	g_free(o->municipality);
	g_free(o->language);
	g_free(o->modality);
	g_free(o->earliest);
	g_free(o->latest);
	g_free(o->deadline);
}

static gboolean waitlist_run(Ctl *ctl, JoinOptions *o, int argc, char **argv,
			     GError **error)
{
	const char *what = argv[1];
	gboolean join = g_str_equal(what, "join");

	if (join != (argc == 4))
		return ctl_usage_error(error, join ? "waitlist join takes "
				       "SERVICE CLIENT_REF" :
				       "waitlist %s takes one argument",
				       what);
	if (join)
		return waitlist_join(ctl, o, argv[2], argv[3], error);
	if (g_str_equal(what, "list"))
		return waitlist_list(ctl, argv[2], error);
	if (g_str_equal(what, "accept"))
		return waitlist_accept(ctl, argv[2], error);
	return ctl_void_call(ctl, CTL_IFACE_SCHEDULER,
			     g_str_equal(what, "leave") ? "LeaveWaitlist"
							: "DeclineOffer",
			     g_variant_new("(s)", argv[2]), error);
}

/* waitlist join SERVICE CLIENT_REF | leave ENTRY | list SERVICE |
 * accept ENTRY | decline ENTRY */
gboolean cmd_waitlist(Ctl *ctl, int argc, char **argv, GError **error)
{
	static const char *const subcommands[] = { "join", "leave", "list",
						   "accept", "decline", NULL };
	JoinOptions o = { 0 };
	const GOptionEntry entries[] = {
		{ "municipality", 0, 0, G_OPTION_ARG_FILENAME, &o.municipality,
		  "join: client's home municipality (code or name)", "M" },
		{ "language", 0, 0, G_OPTION_ARG_FILENAME, &o.language,
		  "join: service language, fi, sv or en", "LANG" },
		{ "modality", 0, 0, G_OPTION_ARG_FILENAME, &o.modality,
		  "join: onsite, home, phone or video", "MODALITY" },
		{ "earliest", 0, 0, G_OPTION_ARG_FILENAME, &o.earliest,
		  "join: earliest acceptable start (local time)", "WHEN" },
		{ "latest", 0, 0, G_OPTION_ARG_FILENAME, &o.latest,
		  "join: latest acceptable start (local time)", "WHEN" },
		{ "deadline", 0, 0, G_OPTION_ARG_FILENAME, &o.deadline,
		  "join: when the client must be seen by (orders the list)",
		  "WHEN" },
		{ "priority", 0, 0, G_OPTION_ARG_INT, &o.priority,
		  "join: 1 (offered first) to 9; default 5", "N" },
		{ NULL },
	};
	gboolean ok;

	if (!ctl_parse(ctl, entries, CTL_PARSE_PLAIN, &argc, &argv, 2, 3,
		       error)) {
		join_options_clear(&o);
		return FALSE;
	}
	if (!g_strv_contains(subcommands, argv[1])) {
		join_options_clear(&o);
		return ctl_usage_error(error, "waitlist takes join, leave, "
				       "list, accept or decline");
	}
	ok = waitlist_run(ctl, &o, argc, argv, error);
	join_options_clear(&o);
	return ok;
}

/* outbox: what the gateway has not acknowledged yet, oldest first. */
gboolean cmd_outbox(Ctl *ctl, int argc, char **argv, GError **error)
{
	static const char *const keys[] = {
		"id", "due", "kind", "state", "stream", "language",
		"claims", "lease-until", "text", NULL,
	};
	int limit = 200;
	const GOptionEntry entries[] = {
		{ "limit", 0, 0, G_OPTION_ARG_INT, &limit,
		  "At most this many (default 200)", "N" },
		{ NULL },
	};
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(CtlTable) table = table_new(keys);

	if (!ctl_parse(ctl, entries, CTL_PARSE_CSV, &argc, &argv, 0, 0,
		       error))
		return FALSE;
	if (limit < 1)
		return ctl_usage_error(error, "--limit must be at least 1");
	reply = client_call(ctl, CTL_IFACE_NOTIFICATIONS, "List",
			    g_variant_new("(u)", (guint32)limit), "(aa{sv})",
			    CTL_TIMEOUT_MS, error);
	if (!reply)
		return FALSE;
	rows = g_variant_get_child_value(reply, 0);
	add_rows(ctl, table, rows);
	ctl_print_table(ctl, table, "The outbox is empty.");
	return TRUE;
}
