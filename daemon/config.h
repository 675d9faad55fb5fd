/* Parsing and validating the configuration (GKeyFile) into a Region.
 * Every error names the file, the group and the key. A configuration
 * with any error is refused as a whole. */
#pragma once

#include "region.h"

#define CONFIG_ERROR SLOTD_ERROR
/* Errors use SLOTD_ERROR_INVALID_CONFIG with messages of the form
 *   "FILE: [GROUP] KEY: what is wrong"
 */

typedef struct {
	const char *config_file;    /* required */
	const char *state_dir;	    /* overrides [daemon] state-dir */
	const char *plugin_dir;	    /* overrides [daemon] plugin-dir */
} ConfigOptions;

/* Parses the entry point and the files it includes. Offerings are
 * parsed for their core keys; their plugin keys are checked later by
 * plugin_registry_configure(). */
Region *config_load(const ConfigOptions *options, GError **error);

/* After plugins have configured the offerings: refuse keys in offering
 * groups that neither the core nor the plugin read. */
gboolean config_check_unread_keys(Region *region, GError **error);

/* ---- shared by config.c and offering.c ------------------------------ */

/* One group of one file, for reading keys and naming them in errors.
 * `file` is the path as shown in messages (relative to the entry
 * point's directory). */
typedef struct {
	GKeyFile *keyfile;
	const char *file;
	const char *group;
} ConfigGroup;

/* Sets "FILE: [GROUP] KEY: message"; `group` and `key` may be NULL.
 * Returns FALSE so callers can `return config_set_error(...)`. */
gboolean config_set_error(GError **error, const char *file, const char *group,
			  const char *key, const char *format, ...)
	G_GNUC_PRINTF(5, 6);

/* Typed reads of one key. An absent key gives the fallback and TRUE;
 * a present one that does not parse gives an error naming the key.
 * Strings are stripped and refused if they hold control characters. */
gboolean config_read_string(const ConfigGroup *group, const char *key,
			    const char *fallback, char **ret_value,
			    GError **error);
/* Like config_read_string() but absent or empty is an error whose
 * message ends with `expected`. */
gboolean config_require_string(const ConfigGroup *group, const char *key,
			       const char *expected, char **ret_value,
			       GError **error);
gboolean config_read_int(const ConfigGroup *group, const char *key,
			 gint64 fallback, gint64 min, gint64 max,
			 gint64 *ret_value, GError **error);
gboolean config_read_uint(const ConfigGroup *group, const char *key,
			  guint fallback, guint min, guint max,
			  guint *ret_value, GError **error);
gboolean config_read_double(const ConfigGroup *group, const char *key,
			    double fallback, double min, double max,
			    double *ret_value, GError **error);
gboolean config_read_bool(const ConfigGroup *group, const char *key,
			  gboolean fallback, gboolean *ret_value,
			  GError **error);
/* `;`-separated; items are stripped and empty items dropped. NULL
 * when the key is absent. */
gboolean config_read_list(const ConfigGroup *group, const char *key,
			  char ***ret_value, GError **error);
/* A list of languages (fi, sv, en), each at most once, not empty. */
gboolean config_read_languages(const ConfigGroup *group, const char *key,
			       char ***ret_value, GError **error);
/* A list of distinct ids. */
gboolean config_read_id_list(const ConfigGroup *group, const char *key,
			     char ***ret_value, GError **error);
/* A date with `YYYY-MM-DD`; `fallback` (may be NULL: invalid date)
 * when absent. */
gboolean config_read_date(const ConfigGroup *group, const char *key,
			  const GDate *fallback, GDate *ret_value,
			  GError **error);

/* [A-Za-z0-9._-]{1,64} */
gboolean config_id_is_valid(const char *id);
/* Strict YYYY-MM-DD. */
gboolean config_parse_date(const char *text, GDate *ret_date);

/* "HH:MM-HH:MM RRULE" into `window` (times and rule). */
gboolean config_parse_window_text(const char *file, const char *group,
				  const char *key, const char *text,
				  Window *window, GError **error);

/* offering.c: the core keys of an [offering UNIT SERVICE] group, read
 * with the slotd_offering_get_*() functions so each is marked read. */
gboolean offering_read_core(SlotdOffering *offering, GError **error);
/* Booking-rule keys of an offering, in SlotdBookingRules order. */
extern const char *const offering_rule_keys[];
/* SHA-256 over the group's keys and values, the unit's closures and
 * municipality, the effective languages and the service's kind. */
void offering_compute_digest(SlotdOffering *offering);
