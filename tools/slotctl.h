/* slotctl: the command-line client of slotd. Shared declarations of
 * the command runner and Scheduler1 commands (slotctl.c), the bus client
 * (slotctl-client.c), times and output (slotctl-format.c), the Planner1
 * and Admin1 commands (slotctl-report.c) and the heatmap
 * (slotctl-svg.c). */
#pragma once

#include <glib.h>
#include <glib/gi18n.h>

#include "slotd-config.h"

#define CTL_IFACE_SCHEDULER "org.slotd.Scheduler1"
#define CTL_IFACE_PLANNER "org.slotd.Planner1"
#define CTL_IFACE_ADMIN "org.slotd.Admin1"

/* Reports walk months of slots in the daemon; everything else is quick. */
#define CTL_TIMEOUT_MS (30 * 1000)
#define CTL_REPORT_TIMEOUT_MS (120 * 1000)

/* The exit status follows the code: usage → 2, everything else → 1. */
#define CTL_ERROR (ctl_error_quark())
typedef enum {
	CTL_ERROR_FAILED,
	CTL_ERROR_USAGE,
	CTL_ERROR_BUS,	/* message is "ERROR_NAME: text" */
} CtlError;
GQuark ctl_error_quark(void);

typedef enum {
	CTL_OUTPUT_TEXT,
	CTL_OUTPUT_JSON,
	CTL_OUTPUT_CSV,
} CtlOutput;

typedef struct _Ctl Ctl;
typedef struct _CtlCommand CtlCommand;

struct _CtlCommand {
	const char *name;
	const char *args;	/* "SLOT CLIENT_REF" for the usage line */
	const char *summary;	/* one line for `slotctl --help` */
	gboolean (*run)(Ctl *ctl, int argc, char **argv, GError **error);
};

struct _Ctl {
	const CtlCommand *command;
	/* global options */
	gboolean system_bus;
	gboolean session_bus;
	char *address;
	gboolean json;
	gboolean csv;
	/* --opt KEY=VALUE and its typed siblings: plugin keys */
	char **opt_s;
	char **opt_u;
	char **opt_i;
	char **opt_x;
	char **opt_d;
	char **opt_b;
	/* only slotctl-client.c includes <dbus/dbus.h> */
	struct DBusConnection *connection;
};

/* Which extra options a command takes besides its own. */
typedef enum {
	CTL_PARSE_PLAIN = 0,
	CTL_PARSE_OPTS = 1 << 0,	/* --opt, --opt-u, … */
	CTL_PARSE_CSV = 1 << 1,
} CtlParseFlags;

typedef struct _CtlTable CtlTable;

/* slotctl.c: parsing and the helpers the commands share */
gboolean ctl_parse(Ctl *ctl, const GOptionEntry *entries,
		   CtlParseFlags flags, int *argc, char ***argv,
		   int min_args, int max_args, GError **error);
gboolean ctl_usage_error(GError **error, const char *format, ...)
	G_GNUC_PRINTF(2, 3);
CtlOutput ctl_output(const Ctl *ctl);
/* One row per struct of `array`, its fields named by `keys`; an a{sv}
 * field spreads into its own keys. */
void ctl_add_structs(CtlTable *table, GVariant *array,
		     const char *const *keys);
/* Prints the table, or for people `empty` on stderr when it has no rows. */
void ctl_print_table(Ctl *ctl, CtlTable *table, const char *empty);
gboolean ctl_void_call(Ctl *ctl, const char *interface, const char *method,
		       GVariant *args, GError **error);

gboolean ctl_parse_limit(const char *flag, const char *text, int max,
			 int *ret, GError **error);

/* slotctl-client.c */
gboolean client_connect(Ctl *ctl, GError **error);
void client_disconnect(Ctl *ctl);
/* Calls `method` with `args` (a tuple, floating is sunk, NULL for none)
 * and returns the reply body as a tuple of `reply_type`. */
GVariant *client_call(Ctl *ctl, const char *interface, const char *method,
		      GVariant *args, const char *reply_type, int timeout_ms,
		      GError **error);
/* Calls a method that answers its rows in a memfd (out signature "h",
 * Planner1's ...Fd) and returns them (aa{sv}). */
GVariant *client_call_rows_fd(Ctl *ctl, const char *interface,
			      const char *method, GVariant *args,
			      int timeout_ms, GError **error);

/* slotctl-client.c: call arguments. Each puts nothing when the option
 * was not given (NULL text, -1 count). */
void args_put_string(GVariantDict *dict, const char *key, const char *value);
gboolean args_put_time(GVariantDict *dict, const char *key, const char *text,
		       gboolean end_of_day, GError **error);
gboolean args_put_count(GVariantDict *dict, const char *key,
			const char *flag, int value, GError **error);
/* Adds the --opt* keys; a key given twice is a usage error. */
gboolean args_apply_opts(Ctl *ctl, GVariantDict *dict, GError **error);

/* slotctl-format.c: times */
/* Local Europe/Helsinki ISO 8601, or with Z / an offset. A bare date is
 * its start, or with `end_of_day` the next local midnight. */
gboolean time_parse(const char *text, gboolean end_of_day,
		    gint64 *ret_utc, GError **error);
/* TRUE when `text` is a local time that does not exist (the spring
 * night's 03:00–04:00); *ret_shown is how it was read ("04:30"). */
gboolean time_local_missing(const char *text, char **ret_shown);
char *time_format_local(gint64 utc);	/* "2026-12-07 14:00" */
char *time_format_iso(gint64 utc);	/* "2026-12-07T14:00:00+02:00" */
/* "14:00"; both forms add the offset where the wall clock is ambiguous
 * (the autumn night's second hour 03:00–04:00): "03:30+02:00". */
char *time_format_clock(gint64 utc);
gboolean time_is_ambiguous(gint64 utc);
gint64 time_today_start(void);
gint64 time_add_days(gint64 utc, int days);	/* same wall clock */
GDateTime *time_to_local(gint64 utc);	/* NULL when out of range */

/* slotctl-format.c: tables. Rows map keys to values; the columns are
 * the union of the keys. */
struct _CtlTable {
	GPtrArray *columns;	/* char *, first seen first */
	GPtrArray *rows;	/* GHashTable: char * → GVariant * */
	const char *const *leading;	/* put first when present */
};

CtlTable *table_new(const char *const *leading);
void table_free(CtlTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtlTable, table_free)
/* Declares a column up front, so it shows even when no row has it. */
void table_column(CtlTable *table, const char *key);
GHashTable *table_add_row(CtlTable *table);
/* Sets a cell; floating values are sunk. */
void table_set(CtlTable *table, GHashTable *row, const char *key,
	       GVariant *value);
/* Adds every entry of an a{sv} to the row. */
void table_set_dict(CtlTable *table, GHashTable *row, GVariant *dict);
/* Writes the table (text, JSON array of objects, CSV) to stdout. */
void table_print(CtlTable *table, CtlOutput output);
/* One row as "key  value" lines, or a JSON object. */
void table_print_record(CtlTable *table, CtlOutput output);
/* The text of one cell as a person reads it; "" for NULL. */
char *format_cell(const char *key, GVariant *value);
void print_out(const char *text);

/* slotctl-format.c: JSON */
typedef struct {
	GString *out;
	guint depth;
	gboolean had_item;
	gboolean after_key;
} CtlJson;

void json_init(CtlJson *json);
void json_begin_object(CtlJson *json);
void json_end_object(CtlJson *json);
void json_begin_array(CtlJson *json);
void json_end_array(CtlJson *json);
void json_key(CtlJson *json, const char *key);
void json_string(CtlJson *json, const char *text);
void json_int(CtlJson *json, gint64 number);
void json_double(CtlJson *json, double number);
void json_bool(CtlJson *json, gboolean value);
void json_null(CtlJson *json);
/* A D-Bus value; instants under time-like keys become ISO 8601. */
void json_value(CtlJson *json, const char *key, GVariant *value);
/* Returns the text with a final newline; frees the writer. */
char *json_finish(CtlJson *json);

/* slotctl-format.c: what keys mean */
/* Keys whose int64 values are instants ("start", "referral-time", …). */
gboolean key_is_time(const char *key);
/* Keys whose doubles are fractions shown as percentages. */
gboolean key_is_fraction(const char *key);
/* A duration in seconds as "3.5 d"; negative → "-". */
char *format_days(gint64 seconds);
/* Any integer or double cell (variants unwrapped) as a number. */
gboolean cell_int(GVariant *value, gint64 *ret);
gboolean cell_double(GVariant *value, double *ret);

/* slotctl-report.c: Planner1 and Admin1 commands */
gboolean cmd_report(Ctl *ctl, int argc, char **argv, GError **error);
gboolean cmd_deadlines(Ctl *ctl, int argc, char **argv, GError **error);
gboolean cmd_staffing(Ctl *ctl, int argc, char **argv, GError **error);
gboolean cmd_plugins(Ctl *ctl, int argc, char **argv, GError **error);
gboolean cmd_reload(Ctl *ctl, int argc, char **argv, GError **error);
gboolean cmd_feed_url(Ctl *ctl, int argc, char **argv, GError **error);
gboolean cmd_feed_revoke(Ctl *ctl, int argc, char **argv, GError **error);
gboolean cmd_backup(Ctl *ctl, int argc, char **argv, GError **error);

/* slotctl-svg.c */
typedef struct {
	const char *service;
	gint64 from;
	gint64 to;
	gboolean by_week;
	GHashTable *unit_titles;	/* unit id → title, may be NULL */
} CtlHeatmap;

/* The unit-level rows of a CapacityReport as an SVG document. */
char *svg_heatmap(const CtlHeatmap *map, GVariant *rows);

/* slotctl-waitlist.c */
gboolean cmd_waitlist(Ctl *ctl, int argc, char **argv, GError **error);
gboolean cmd_outbox(Ctl *ctl, int argc, char **argv, GError **error);
/* slotctl-campaign.c */
gboolean cmd_campaign(Ctl *ctl, int argc, char **argv, GError **error);
