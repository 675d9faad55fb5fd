/* Offerings: reading keys of configuration groups (the typed readers
 * config.c uses, which the plugin SDK's slotd_offering_get_*() wrap),
 * an offering's core keys and windows, its digest, and the rest of
 * the SDK's offering functions. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "config.h"
#include "calendar.h"

/* ---- typed reads of one key, shared with config.c ------------------- */

gboolean
config_set_error(GError **error, const char *file, const char *group,
		 const char *key, const char *format, ...)
{
	g_autoptr(GString) where = g_string_new(file);
	g_autofree char *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	if (group != NULL)
		g_string_append_printf(where, ": [%s]", group);
	if (key != NULL)
		g_string_append_printf(where, " %s", key);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG, "%s: %s",
		    where->str, message);
	return FALSE;
}

static gboolean
has_control_characters(const char *text)
{
	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		if (g_unichar_iscntrl(g_utf8_get_char(p)))
			return TRUE;
	}
	return FALSE;
}

gboolean
config_read_string(const ConfigGroup *group, const char *key,
		   const char *fallback, char **ret_value, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *value = NULL;

	if (!g_key_file_has_key(group->keyfile, group->group, key, NULL)) {
		*ret_value = g_strdup(fallback);
		return TRUE;
	}
	value = g_key_file_get_string(group->keyfile, group->group, key,
				      &local);
	if (value == NULL)
		return config_set_error(error, group->file, group->group, key,
					"%s", local->message);
	g_strstrip(value);
	if (has_control_characters(value))
		return config_set_error(error, group->file, group->group, key,
					"control characters are not allowed; "
					"write the value on one line");
	*ret_value = g_steal_pointer(&value);
	return TRUE;
}

gboolean
config_require_string(const ConfigGroup *group, const char *key,
		      const char *expected, char **ret_value, GError **error)
{
	g_autofree char *value = NULL;

	if (!config_read_string(group, key, NULL, &value, error))
		return FALSE;
	if (value == NULL || *value == '\0')
		return config_set_error(error, group->file, group->group, key,
					"missing; expected %s", expected);
	*ret_value = g_steal_pointer(&value);
	return TRUE;
}

gboolean
config_read_int(const ConfigGroup *group, const char *key, gint64 fallback,
		gint64 min, gint64 max, gint64 *ret_value, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *text = NULL;
	gint64 value;

	if (!config_read_string(group, key, NULL, &text, error))
		return FALSE;
	if (text == NULL) {
		*ret_value = fallback;
		return TRUE;
	}
	if (!g_ascii_string_to_signed(text, 10, min, max, &value, &local)) {
		if (g_error_matches(local, G_NUMBER_PARSER_ERROR,
				    G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS))
			return config_set_error(
				error, group->file, group->group, key,
				"%s is out of range; expected %" G_GINT64_FORMAT
				"..%" G_GINT64_FORMAT, text, min, max);
		return config_set_error(
			error, group->file, group->group, key,
			"\"%s\" is not a whole number; expected "
			"%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, text, min,
			max);
	}
	*ret_value = value;
	return TRUE;
}

gboolean
config_read_uint(const ConfigGroup *group, const char *key, guint fallback,
		 guint min, guint max, guint *ret_value, GError **error)
{
	gint64 value;

	if (!config_read_int(group, key, fallback, min, max, &value, error))
		return FALSE;
	*ret_value = (guint)value;
	return TRUE;
}

gboolean
config_read_double(const ConfigGroup *group, const char *key, double fallback,
		   double min, double max, double *ret_value, GError **error)
{
	g_autofree char *text = NULL;
	char *end = NULL;
	double value;

	if (!config_read_string(group, key, NULL, &text, error))
		return FALSE;
	if (text == NULL) {
		*ret_value = fallback;
		return TRUE;
	}
	value = g_ascii_strtod(text, &end);
	if (*text == '\0' || end == NULL || *end != '\0' || !isfinite(value))
		return config_set_error(error, group->file, group->group, key,
					"\"%s\" is not a number; expected "
					"%g..%g", text, min, max);
	if (value < min || value > max)
		return config_set_error(error, group->file, group->group, key,
					"%s is out of range; expected %g..%g",
					text, min, max);
	*ret_value = value;
	return TRUE;
}

gboolean
config_read_bool(const ConfigGroup *group, const char *key, gboolean fallback,
		 gboolean *ret_value, GError **error)
{
	g_autofree char *text = NULL;

	if (!config_read_string(group, key, NULL, &text, error))
		return FALSE;
	if (text == NULL)
		*ret_value = fallback;
	else if (g_str_equal(text, "true") || g_str_equal(text, "1"))
		*ret_value = TRUE;
	else if (g_str_equal(text, "false") || g_str_equal(text, "0"))
		*ret_value = FALSE;
	else
		return config_set_error(error, group->file, group->group, key,
					"\"%s\" is not a boolean; expected "
					"true or false", text);
	return TRUE;
}

gboolean
config_read_list(const ConfigGroup *group, const char *key,
		 char ***ret_value, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_auto(GStrv) items = NULL;
	g_autoptr(GStrvBuilder) kept = g_strv_builder_new();

	*ret_value = NULL;
	if (!g_key_file_has_key(group->keyfile, group->group, key, NULL))
		return TRUE;
	items = g_key_file_get_string_list(group->keyfile, group->group, key,
					   NULL, &local);
	if (items == NULL && local != NULL)
		return config_set_error(error, group->file, group->group, key,
					"%s", local->message);
	for (guint i = 0; items != NULL && items[i] != NULL; i++) {
		g_strstrip(items[i]);
		if (has_control_characters(items[i]))
			return config_set_error(error, group->file,
						group->group, key,
						"control characters are not "
						"allowed");
		if (*items[i] != '\0')
			g_strv_builder_add(kept, items[i]);
	}
	*ret_value = g_strv_builder_end(kept);
	return TRUE;
}

static gboolean
config_read_distinct(const ConfigGroup *group, const char *key,
		     gboolean (*valid)(const char *), const char *problem,
		     const char *expected, char ***ret_value, GError **error)
{
	g_auto(GStrv) items = NULL;

	if (!config_read_list(group, key, &items, error))
		return FALSE;
	for (guint i = 0; items != NULL && items[i] != NULL; i++) {
		if (!valid(items[i]))
			return config_set_error(error, group->file,
						group->group, key,
						"%s \"%s\"; %s", problem,
						items[i], expected);
		for (guint j = 0; j < i; j++) {
			if (g_str_equal(items[i], items[j]))
				return config_set_error(
					error, group->file, group->group, key,
					"\"%s\" is listed twice", items[i]);
		}
	}
	*ret_value = g_steal_pointer(&items);
	return TRUE;
}

static gboolean
language_is_known(const char *language)
{
	return g_str_equal(language, "fi") || g_str_equal(language, "sv") ||
	       g_str_equal(language, "en");
}

gboolean
config_read_languages(const ConfigGroup *group, const char *key,
		      char ***ret_value, GError **error)
{
	g_auto(GStrv) languages = NULL;

	if (!config_read_distinct(group, key, language_is_known,
				  "unknown language", "use fi, sv or en",
				  &languages, error))
		return FALSE;
	if (languages != NULL && languages[0] == NULL)
		return config_set_error(error, group->file, group->group, key,
					"empty; expected one or more of fi, "
					"sv, en");
	*ret_value = g_steal_pointer(&languages);
	return TRUE;
}

gboolean
config_read_id_list(const ConfigGroup *group, const char *key,
		    char ***ret_value, GError **error)
{
	return config_read_distinct(group, key, config_id_is_valid,
				    "not an id:",
				    "use 1 to 64 of A-Z a-z 0-9 . _ -",
				    ret_value, error);
}

gboolean
config_id_is_valid(const char *id)
{
	gsize length = 0;

	for (const char *p = id; *p != '\0'; p++, length++) {
		if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' &&
		    *p != '-')
			return FALSE;
	}
	return length >= 1 && length <= 64;
}

gboolean
config_parse_date(const char *text, GDate *ret_date)
{
	static const char shape[] = "dddd-dd-dd";
	guint year, month, day;

	if (strlen(text) != sizeof(shape) - 1)
		return FALSE;
	for (guint i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? !g_ascii_isdigit(text[i])
				    : text[i] != '-')
			return FALSE;
	}
	year = (guint)g_ascii_strtoull(text, NULL, 10);
	month = (guint)g_ascii_strtoull(text + 5, NULL, 10);
	day = (guint)g_ascii_strtoull(text + 8, NULL, 10);
	if (!g_date_valid_dmy(day, month, year))
		return FALSE;
	g_date_clear(ret_date, 1);
	g_date_set_dmy(ret_date, day, month, year);
	return TRUE;
}

gboolean
config_read_date(const ConfigGroup *group, const char *key,
		 const GDate *fallback, GDate *ret_value, GError **error)
{
	g_autofree char *text = NULL;

	if (!config_read_string(group, key, NULL, &text, error))
		return FALSE;
	if (text == NULL) {
		g_date_clear(ret_value, 1);
		if (fallback != NULL && g_date_valid(fallback))
			*ret_value = *fallback;
		return TRUE;
	}
	if (!config_parse_date(text, ret_value))
		return config_set_error(error, group->file, group->group, key,
					"\"%s\" is not a date; expected "
					"YYYY-MM-DD", text);
	return TRUE;
}

/* ---- an offering's life --------------------------------------------- */

void
window_free(Window *window)
{
	g_free(window->name);
	g_free(window->rrule);
	g_free(window);
}

SlotdOffering *
offering_new(Region *region, Unit *unit, Service *service, GKeyFile *keyfile,
	     const char *source_file, const char *group)
{
	SlotdOffering *offering = g_new0(SlotdOffering, 1);

	offering->id = g_strdup_printf("%s/%s", unit->id, service->id);
	offering->unit = unit;
	offering->service = service;
	offering->slot_minutes = 30;
	offering->seats = 1;
	offering->windows =
		g_ptr_array_new_with_free_func((GDestroyNotify)window_free);
	offering->keyfile = keyfile;
	offering->source_file = g_strdup(source_file);
	offering->group = g_strdup(group);
	offering->read_keys = g_hash_table_new_full(g_str_hash, g_str_equal,
						    g_free, NULL);
	offering->region = region;
	/* The plugin host clears this for kinds nobody registered. */
	offering->available = TRUE;
	return offering;
}

void
offering_free(SlotdOffering *offering)
{
	if (offering == NULL)
		return;
	if (offering->plugin_data_destroy != NULL)
		offering->plugin_data_destroy(offering->plugin_data);
	g_free(offering->id);
	g_strfreev(offering->languages);
	g_strfreev(offering->window_names);
	g_free(offering->modality);
	g_strfreev(offering->modalities);
	g_ptr_array_unref(offering->windows);
	if (offering->needs)
		g_ptr_array_unref(offering->needs);
	if (offering->modality_needs)
		g_hash_table_unref(offering->modality_needs);
	g_strfreev(offering->resource_units);
	if (offering->pool)
		g_ptr_array_unref(offering->pool);
	g_free(offering->config_digest);
	g_free(offering->source_file);
	g_free(offering->group);
	g_hash_table_unref(offering->read_keys);
	g_free(offering->unavailable_reason);
	g_free(offering);
}

static ConfigGroup
offering_group(const SlotdOffering *offering)
{
	return (ConfigGroup){ offering->keyfile, offering->source_file,
			      offering->group };
}

static void
mark_read(SlotdOffering *offering, const char *key)
{
	g_hash_table_add(offering->read_keys, g_strdup(key));
}

/* ---- core keys and windows ------------------------------------------ */

#define WINDOW_EXPECTED \
	"expected HH:MM-HH:MM RRULE, e.g. 08:00-16:00 " \
	"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"

/* "HH:MM"; "24:00" only as an end, where it means the next midnight. */
static gboolean
parse_clock(const char *text, gboolean is_end, int *ret_minute)
{
	int hour, minute;

	if (strlen(text) != 5 || !g_ascii_isdigit(text[0]) ||
	    !g_ascii_isdigit(text[1]) || text[2] != ':' ||
	    !g_ascii_isdigit(text[3]) || !g_ascii_isdigit(text[4]))
		return FALSE;
	hour = (text[0] - '0') * 10 + (text[1] - '0');
	minute = (text[3] - '0') * 10 + (text[4] - '0');
	if (is_end && hour == 24 && minute == 0) {
		*ret_minute = 0;
		return TRUE;
	}
	if (hour > 23 || minute > 59)
		return FALSE;
	*ret_minute = hour * 60 + minute;
	return TRUE;
}

gboolean
config_parse_window_text(const char *file, const char *group,
			 const char *key, const char *text, Window *window,
			 GError **error)
{
	gsize times_length = strcspn(text, " \t");
	g_autofree char *times = g_strndup(text, times_length);
	g_autofree char *rrule = g_strstrip(g_strdup(text + times_length));
	g_auto(GStrv) ends = g_strsplit(times, "-", -1);
	g_autoptr(GError) local = NULL;

	if (g_strv_length(ends) != 2)
		return config_set_error(error, file, group, key,
					"\"%s\" has no time range; "
					WINDOW_EXPECTED, text);
	if (!parse_clock(ends[0], FALSE, &window->start_minute))
		return config_set_error(error, file, group, key,
					"start \"%s\" is not a time of day; "
					WINDOW_EXPECTED, ends[0]);
	if (!parse_clock(ends[1], TRUE, &window->end_minute))
		return config_set_error(error, file, group, key,
					"end \"%s\" is not a time of day; "
					WINDOW_EXPECTED, ends[1]);
	if (*rrule == '\0')
		return config_set_error(error, file, group, key,
					"no RRULE after the times; "
					WINDOW_EXPECTED);
	if (!calendar_check_rrule(rrule, &local))
		return config_set_error(error, file, group, key,
					"%s; " WINDOW_EXPECTED, local->message);
	window->rrule = g_steal_pointer(&rrule);
	return TRUE;
}

static gboolean
parse_window_dates(SlotdOffering *offering, const char *name, Window *window,
		   GError **error)
{
	ConfigGroup group = offering_group(offering);
	g_autofree char *from_key = g_strdup_printf("window-%s-from", name);
	g_autofree char *until_key = g_strdup_printf("window-%s-until", name);
	GDate first_default;

	g_date_clear(&first_default, 1);
	g_date_set_dmy(&first_default, 1, G_DATE_JANUARY, 2025);
	mark_read(offering, from_key);
	mark_read(offering, until_key);
	if (!config_read_date(&group, from_key, &first_default,
			      &window->valid_from, error) ||
	    !config_read_date(&group, until_key, NULL, &window->valid_until,
			      error))
		return FALSE;
	if (g_date_valid(&window->valid_until) &&
	    g_date_compare(&window->valid_until, &window->valid_from) < 0)
		return config_set_error(error, group.file, group.group,
					until_key, "ends before %s; expected "
					"a date not before it", from_key);
	return TRUE;
}

static gboolean
parse_window(SlotdOffering *offering, const char *name, GError **error)
{
	g_autofree char *key = g_strdup_printf("window-%s", name);
	g_autofree char *capacity_key = g_strdup_printf("capacity-%s", name);
	g_autofree char *text = NULL;
	Window *window = g_new0(Window, 1);
	gint64 capacity;

	window->name = g_strdup(name);
	/* Owned by the offering from here, so every return is clean. */
	g_ptr_array_add(offering->windows, window);
	if (!slotd_offering_get_string(offering, key, NULL, &text, error))
		return FALSE;
	if (text == NULL || *text == '\0')
		return config_set_error(error, offering->source_file,
					offering->group, key, "missing; the "
					"window is listed in windows; "
					WINDOW_EXPECTED);
	if (!config_parse_window_text(offering->source_file, offering->group,
				      key, text, window, error) ||
	    !slotd_offering_get_int(offering, capacity_key, offering->seats,
				    1, 10000, &capacity, error))
		return FALSE;
	window->capacity = (guint)capacity;
	return parse_window_dates(offering, name, window, error);
}

static gboolean
read_windows(SlotdOffering *offering, GError **error)
{
	ConfigGroup group = offering_group(offering);

	mark_read(offering, "windows");
	if (!config_read_id_list(&group, "windows", &offering->window_names,
				 error))
		return FALSE;
	if (offering->window_names == NULL || offering->window_names[0] == NULL)
		return config_set_error(error, group.file, group.group,
					"windows", "missing; expected the "
					"names of the opening windows, e.g. "
					"day");
	for (guint i = 0; offering->window_names[i] != NULL; i++) {
		if (!parse_window(offering, offering->window_names[i], error))
			return FALSE;
	}
	return TRUE;
}

/* `modality` is one modality or a list; the first is the usual one. */
static gboolean
read_modality(SlotdOffering *offering, GError **error)
{
	static const char *const modalities[] = {
		"onsite", "home", "phone", "video", NULL,
	};
	g_auto(GStrv) list = NULL;

	if (!slotd_offering_get_string_list(offering, "modality", &list,
					    error))
		return FALSE;
	if (!list || !list[0]) {
		g_strfreev(g_steal_pointer(&list));
		list = g_strsplit("onsite", ";", -1);
	}
	for (guint i = 0; list[i]; i++)
		if (!g_strv_contains(modalities, list[i]))
			return config_set_error(
				error, offering->source_file, offering->group,
				"modality", "unknown modality \"%s\"; use "
				"onsite, home, phone or video (a list with ; "
				"for more than one)",
				list[i]);
	offering->modality = g_strdup(list[0]);
	offering->modalities = g_steal_pointer(&list);
	return TRUE;
}

static gboolean
read_numbers(SlotdOffering *offering, GError **error)
{
	gint64 slot_minutes, seats, max_travel;

	if (!slotd_offering_get_int(offering, "slot-minutes", 30, 1, 1440,
				    &slot_minutes, error) ||
	    !slotd_offering_get_int(offering, "seats", 1, 1, 10000, &seats,
				    error) ||
	    !slotd_offering_get_int(offering, "max-travel-minutes", 0, 0,
				    1440, &max_travel, error) ||
	    !slotd_offering_get_bool(offering, "closed-on-holidays", FALSE,
				     &offering->closed_on_holidays, error) ||
	    !slotd_offering_get_bool(offering, "public-freebusy", FALSE,
				     &offering->public_freebusy, error))
		return FALSE;
	offering->slot_minutes = (guint)slot_minutes;
	offering->seats = (guint)seats;
	offering->max_travel_minutes = (guint)max_travel;
	return TRUE;
}

/* The booking-rule keys, in SlotdBookingRules order. */
const char *const offering_rule_keys[] = {
	"min-notice-minutes",	     "max-advance-days",
	"cancel-cutoff-minutes",     "reschedule-cutoff-minutes",
	"max-per-client-day",	     "max-active-per-client",
	"status-grace-minutes",	     NULL,
};

static gboolean
read_rules(SlotdOffering *offering, GError **error)
{
	for (guint i = 0; offering_rule_keys[i]; i++)
		if (!slotd_offering_get_int(offering, offering_rule_keys[i], -1,
					    0, 525600, &offering->rules[i],
					    error))
			return FALSE;
	return TRUE;
}

static gboolean
read_need_key(SlotdOffering *offering, const char *key,
	      GPtrArray **ret_needs, GError **error)
{
	g_autofree char *text = NULL;
	g_autofree char *problem = NULL;

	if (!slotd_offering_get_string(offering, key, NULL, &text, error))
		return FALSE;
	if (!text) {
		*ret_needs = NULL;
		return TRUE;
	}
	if (!resource_parse_needs(text, ret_needs, &problem))
		return config_set_error(error, offering->source_file,
					offering->group, key, "%s; expected "
					"e.g. nurse;vehicle or worker*2",
					problem);
	return TRUE;
}

/* `needs`, `needs-MODALITY` and `resource-units`: what a booking takes
 * of the region's resources (linked to them by config.c). */
static gboolean
read_needs(SlotdOffering *offering, GError **error)
{
	GPtrArray *needs = NULL;

	if (!read_need_key(offering, "needs", &offering->needs, error))
		return FALSE;
	offering->modality_needs = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free,
		(GDestroyNotify)g_ptr_array_unref);
	for (guint i = 0; offering->modalities[i]; i++) {
		g_autofree char *key = g_strdup_printf(
			"needs-%s", offering->modalities[i]);

		if (!read_need_key(offering, key, &needs, error))
			return FALSE;
		if (needs)
			g_hash_table_insert(offering->modality_needs,
					    g_strdup(offering->modalities[i]),
					    needs);
	}
	return slotd_offering_get_bool(offering, "keep-practitioner", TRUE,
				       &offering->keep_practitioner, error) &&
	       slotd_offering_get_string_list(offering, "resource-units",
					      &offering->resource_units,
					      error);
}

/* `max-noshows-per-series`: this many no-shows end a series (a
 * course) and cancel its later visits (capacity-change.c). */
static gboolean
read_series_keys(SlotdOffering *offering, GError **error)
{
	gint64 noshows = 0;

	if (!slotd_offering_get_int(offering, "max-noshows-per-series", 0, 0,
				    52, &noshows, error))
		return FALSE;
	offering->max_noshows_per_series = (guint)noshows;
	return TRUE;
}

gboolean
offering_read_core(SlotdOffering *offering, GError **error)
{
	ConfigGroup group = offering_group(offering);

	mark_read(offering, "languages");
	if (!config_read_languages(&group, "languages", &offering->languages,
				   error))
		return FALSE;
	if (offering->languages == NULL)
		offering->languages = g_strdupv(offering->unit->languages);
	return read_modality(offering, error) &&
	       read_numbers(offering, error) && read_rules(offering, error) &&
	       read_windows(offering, error) && read_needs(offering, error) &&
	       read_series_keys(offering, error);
}

static int
compare_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
append_closures(GString *text, const Unit *unit)
{
	for (guint i = 0; unit->closures != NULL && i < unit->closures->len;
	     i++) {
		const Closure *c = &g_array_index(unit->closures, Closure, i);

		g_string_append_printf(text, "%04d-%02d-%02d..%04d-%02d-%02d;",
				       c->year, c->month, c->day, c->end_year,
				       c->end_month, c->end_day);
	}
}

/* What the group says plus what it inherits, so capacity can tell an
 * offering that must be reshaped from one that can stay. */
void
offering_compute_digest(SlotdOffering *offering)
{
	g_auto(GStrv) keys = g_key_file_get_keys(offering->keyfile,
						 offering->group, NULL, NULL);
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree char *languages = g_strjoinv(";", offering->languages);
	guint n = keys != NULL ? g_strv_length(keys) : 0;

	qsort(keys, n, sizeof(char *), compare_keys);
	for (guint i = 0; i < n; i++) {
		g_autofree char *value = g_key_file_get_value(
			offering->keyfile, offering->group, keys[i], NULL);

		g_string_append_printf(text, "%s=%s\n", keys[i],
				       value != NULL ? value : "");
	}
	/* Inherited parts, after a byte no key or value can hold. */
	g_string_append_printf(text, "%c\nkind=%s\nmunicipality=%s\n"
			       "languages=%s\nclosures=", '\x01',
			       offering->service->kind,
			       offering->unit->municipality, languages);
	append_closures(text, offering->unit);
	g_free(offering->config_digest);
	offering->config_digest = g_compute_checksum_for_string(
		G_CHECKSUM_SHA256, text->str, text->len);
}

/* ---- the SDK: configuration ----------------------------------------- */

gboolean
slotd_offering_get_string(SlotdOffering *offering, const char *key,
			  const char *fallback, char **ret_value,
			  GError **error)
{
	ConfigGroup group;

	g_return_val_if_fail(offering != NULL && key != NULL, FALSE);
	g_return_val_if_fail(ret_value != NULL, FALSE);
	group = offering_group(offering);
	mark_read(offering, key);
	return config_read_string(&group, key, fallback, ret_value, error);
}

gboolean
slotd_offering_get_int(SlotdOffering *offering, const char *key,
		       gint64 fallback, gint64 min, gint64 max,
		       gint64 *ret_value, GError **error)
{
	ConfigGroup group;

	g_return_val_if_fail(offering != NULL && key != NULL, FALSE);
	g_return_val_if_fail(ret_value != NULL && min <= max, FALSE);
	group = offering_group(offering);
	mark_read(offering, key);
	return config_read_int(&group, key, fallback, min, max, ret_value,
			       error);
}

gboolean
slotd_offering_get_double(SlotdOffering *offering, const char *key,
			  double fallback, double min, double max,
			  double *ret_value, GError **error)
{
	ConfigGroup group;

	g_return_val_if_fail(offering != NULL && key != NULL, FALSE);
	g_return_val_if_fail(ret_value != NULL && min <= max, FALSE);
	group = offering_group(offering);
	mark_read(offering, key);
	return config_read_double(&group, key, fallback, min, max, ret_value,
				  error);
}

gboolean
slotd_offering_get_bool(SlotdOffering *offering, const char *key,
			gboolean fallback, gboolean *ret_value, GError **error)
{
	ConfigGroup group;

	g_return_val_if_fail(offering != NULL && key != NULL, FALSE);
	g_return_val_if_fail(ret_value != NULL, FALSE);
	group = offering_group(offering);
	mark_read(offering, key);
	return config_read_bool(&group, key, fallback, ret_value, error);
}

gboolean
slotd_offering_get_string_list(SlotdOffering *offering, const char *key,
			       char ***ret_value, GError **error)
{
	ConfigGroup group;

	g_return_val_if_fail(offering != NULL && key != NULL, FALSE);
	g_return_val_if_fail(ret_value != NULL, FALSE);
	group = offering_group(offering);
	mark_read(offering, key);
	return config_read_list(&group, key, ret_value, error);
}

gboolean
slotd_offering_has_key(SlotdOffering *offering, const char *key)
{
	g_return_val_if_fail(offering != NULL && key != NULL, FALSE);
	return g_key_file_has_key(offering->keyfile, offering->group, key,
				  NULL);
}

void
slotd_offering_config_error(const SlotdOffering *offering, const char *key,
			    GError **error, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list args;

	g_return_if_fail(offering != NULL);
	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	config_set_error(error, offering->source_file, offering->group, key,
			 "%s", message);
}

void
slotd_offering_set_data(SlotdOffering *offering, gpointer data,
			GDestroyNotify destroy)
{
	g_return_if_fail(offering != NULL);
	if (offering->plugin_data_destroy != NULL &&
	    offering->plugin_data != data)
		offering->plugin_data_destroy(offering->plugin_data);
	offering->plugin_data = data;
	offering->plugin_data_destroy = destroy;
}

gpointer
slotd_offering_get_data(const SlotdOffering *offering)
{
	g_return_val_if_fail(offering != NULL, NULL);
	return offering->plugin_data;
}

/* ---- the SDK: what an offering is ----------------------------------- */

const char *
slotd_offering_id(const SlotdOffering *offering)
{
	return offering->id;
}

const char *
slotd_offering_unit(const SlotdOffering *offering)
{
	return offering->unit->id;
}

const char *
slotd_offering_service(const SlotdOffering *offering)
{
	return offering->service->id;
}

const char *
slotd_offering_kind(const SlotdOffering *offering)
{
	return offering->service->kind;
}

const char *
slotd_offering_municipality(const SlotdOffering *offering)
{
	return offering->unit->municipality;
}

const char *const *
slotd_offering_languages(const SlotdOffering *offering)
{
	return (const char *const *)offering->languages;
}

gboolean
slotd_offering_has_language(const SlotdOffering *offering,
			    const char *language)
{
	return language != NULL &&
	       g_strv_contains((const char *const *)offering->languages,
			       language);
}

const char *
slotd_offering_modality(const SlotdOffering *offering)
{
	return offering->modality;
}

const char *const *
slotd_offering_modalities(const SlotdOffering *offering)
{
	return (const char *const *)offering->modalities;
}

guint
slotd_offering_slot_minutes(const SlotdOffering *offering)
{
	return offering->slot_minutes;
}

guint
slotd_offering_seats(const SlotdOffering *offering)
{
	return offering->seats;
}

guint
slotd_offering_max_travel_minutes(const SlotdOffering *offering)
{
	return offering->max_travel_minutes;
}

const char *const *
slotd_offering_windows(const SlotdOffering *offering)
{
	return (const char *const *)offering->window_names;
}

/* ---- the SDK: the region around it ---------------------------------- */

gint
slotd_offering_travel_minutes(const SlotdOffering *offering,
			      const char *from_municipality,
			      const char *to_municipality)
{
	return region_travel_minutes(offering->region, from_municipality,
				     to_municipality);
}

const char *
slotd_offering_municipality_name(const SlotdOffering *offering,
				 const char *code, const char *language)
{
	const Municipality *municipality =
		region_find_municipality(offering->region, code);

	if (municipality == NULL)
		return NULL;
	return g_strcmp0(language, "sv") == 0 ? municipality->name_sv
					      : municipality->name_fi;
}

GPtrArray *
slotd_offering_siblings(const SlotdOffering *offering)
{
	return region_service_offerings(offering->region,
					offering->service->id);
}
