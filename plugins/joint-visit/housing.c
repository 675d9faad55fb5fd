/* Joint visits: the offering's keys — the housing units visits go to,
 * with their municipality and the drive from the base, and the length
 * of a visit. */
#include "joint-visit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
settings_free(gpointer data)
{
	JvSettings *settings = data;

	for (guint i = 0; i < settings->n_units; i++) {
		g_free(settings->units[i].id);
		g_free(settings->units[i].municipality);
	}
	g_free(settings->units);
	g_free(settings);
}

const JvSettings *
jv_settings(const SlotdOffering *offering)
{
	return slotd_offering_get_data(offering);
}

const JvHousingUnit *
jv_housing_unit(const JvSettings *settings, const char *id)
{
	for (guint i = 0; settings && id && i < settings->n_units; i++)
		if (strcmp(settings->units[i].id, id) == 0)
			return &settings->units[i];
	return NULL;
}

guint
jv_run_minutes(guint on_site_minutes, guint travel_minutes)
{
	return on_site_minutes + 2 * travel_minutes;
}

/* Three digits the region knows (names are compared after). */
static gboolean
is_known_code(const SlotdOffering *offering, const char *code)
{
	return strlen(code) == 3 && g_ascii_isdigit(code[0]) &&
	       g_ascii_isdigit(code[1]) && g_ascii_isdigit(code[2]) &&
	       slotd_offering_travel_minutes(offering, code, code) >= 0;
}

static gboolean
name_matches(const char *name, const char *wanted)
{
	g_autofree char *folded = NULL;

	if (!name)
		return FALSE;
	folded = g_utf8_casefold(name, -1);
	return strcmp(folded, wanted) == 0;
}

char *
jv_municipality_resolve(const SlotdOffering *offering,
			const char *code_or_name)
{
	g_autofree char *wanted = NULL;

	if (is_known_code(offering, code_or_name))
		return g_strdup(code_or_name);
	/* The SDK looks up by code only: compare with every code's
	 * Finnish and Swedish names. */
	wanted = g_utf8_casefold(code_or_name, -1);
	for (int number = 0; number < 1000; number++) {
		char code[4];

		snprintf(code, sizeof(code), "%03d", number);
		if (!is_known_code(offering, code))
			continue;
		if (name_matches(slotd_offering_municipality_name(offering,
								  code, "fi"),
				 wanted) ||
		    name_matches(slotd_offering_municipality_name(offering,
								  code, "sv"),
				 wanted))
			return g_strdup(code);
	}
	return NULL;
}

gboolean
jv_parse_housing(const char *text, char **ret_municipality,
		 gint *ret_minutes)
{
	g_auto(GStrv) words = g_strsplit_set(text ? text : "", " \t", -1);
	g_autoptr(GPtrArray) kept = g_ptr_array_new();
	char *end = NULL;
	gint64 minutes;

	for (guint i = 0; words[i]; i++)
		if (words[i][0])
			g_ptr_array_add(kept, words[i]);
	if (kept->len < 1 || kept->len > 2)
		return FALSE;
	*ret_minutes = -1;
	if (kept->len == 2) {
		const char *number = kept->pdata[1];

		minutes = g_ascii_strtoll(number, &end, 10);
		if (!end || *end || end == number || !g_ascii_isdigit(*number) ||
		    minutes > JV_MAX_TRAVEL_MINUTES)
			return FALSE;
		*ret_minutes = (gint)minutes;
	}
	*ret_municipality = g_strdup(kept->pdata[0]);
	return TRUE;
}

/* Housing-unit ids name places, never people: letters, digits and
 * . _ -, and no run of six digits (the start of an identity code). */
static gboolean
is_pseudonymous_id(const char *id)
{
	guint digits = 0;
	gsize len = strlen(id);

	if (len == 0 || len > 64)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(id[i]) && !strchr("._-", id[i]))
			return FALSE;
		digits = g_ascii_isdigit(id[i]) ? digits + 1 : 0;
		if (digits >= 6)
			return FALSE;
	}
	return TRUE;
}

static gboolean
read_unit(SlotdOffering *offering, const char *id, JvHousingUnit *ret_unit,
	  GError **error)
{
	g_autofree char *key = g_strdup_printf("housing-unit-%s", id);
	g_autofree char *text = NULL;
	g_autofree char *word = NULL;
	g_autofree char *code = NULL;
	gint minutes = -1;

	if (!is_pseudonymous_id(id)) {
		slotd_offering_config_error(
			offering, "housing-units", error,
			"housing-unit ids are pseudonymous like asumis-1 "
			"(letters, digits and . _ -, at most 64, no run of "
			"six digits); never an address or a person");
		return FALSE;
	}
	if (!slotd_offering_get_string(offering, key, NULL, &text, error))
		return FALSE;
	if (!text) {
		slotd_offering_config_error(
			offering, key, error,
			"missing: give the housing unit's municipality and "
			"the minutes' drive from the base, e.g. "
			"\"Porvoo 12\"");
		return FALSE;
	}
	if (!jv_parse_housing(text, &word, &minutes) ||
	    !(code = jv_municipality_resolve(offering, word))) {
		slotd_offering_config_error(
			offering, key, error,
			"\"%s\" is not MUNICIPALITY [MINUTES]: a municipality "
			"code or name of the region and, optionally, the "
			"drive one way from the base (0-%u minutes)",
			text, JV_MAX_TRAVEL_MINUTES);
		return FALSE;
	}
	/* Without minutes: the region's drive between the base's
	 * municipality and the housing unit's. */
	if (minutes < 0)
		minutes = slotd_offering_travel_minutes(
			offering, slotd_offering_municipality(offering), code);
	ret_unit->id = g_strdup(id);
	ret_unit->municipality = g_steal_pointer(&code);
	ret_unit->travel_minutes = (guint)MAX(minutes, 0);
	return TRUE;
}

gboolean
jv_configure(SlotdOffering *offering, GError **error)
{
	g_auto(GStrv) ids = NULL;
	JvSettings *settings;
	gint64 visit;

	if (!slotd_offering_get_int(offering, "visit-minutes",
				    JV_DEFAULT_VISIT_MINUTES, 15,
				    JV_MAX_VISIT_MINUTES, &visit, error) ||
	    !slotd_offering_get_string_list(offering, "housing-units", &ids,
					    error))
		return FALSE;
	settings = g_new0(JvSettings, 1);
	settings->visit_minutes = (guint)visit;
	settings->units = g_new0(JvHousingUnit, ids ? g_strv_length(ids) : 0);
	for (guint i = 0; ids && ids[i]; i++) {
		if (jv_housing_unit(settings, ids[i])) {
			slotd_offering_config_error(offering, "housing-units",
						    error,
						    "\"%s\" is listed twice",
						    ids[i]);
			settings_free(settings);
			return FALSE;
		}
		if (!read_unit(offering, ids[i],
			       &settings->units[settings->n_units], error)) {
			settings_free(settings);
			return FALSE;
		}
		settings->n_units++;
	}
	slotd_offering_set_data(offering, settings, settings_free);
	return TRUE;
}

char *
jv_housing_list(const JvSettings *settings, const SlotdOffering *offering)
{
	g_autoptr(GString) text = g_string_new(NULL);

	for (guint i = 0; settings && i < settings->n_units; i++) {
		const JvHousingUnit *u = &settings->units[i];

		g_string_append_printf(
			text, "%s%s (%s)", i ? ", " : "", u->id,
			slotd_offering_municipality_name(offering,
							 u->municipality,
							 "fi"));
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}
