/* Home hospital: the municipalities each base drives to, and the
 * answer a caller gets when the client lives outside a base's area. */
#include "home-hospital.h"

#include <stdio.h>
#include <string.h>

/* Three digits the region knows (the core's lookups also take names,
 * so the shape is checked first). */
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
hh_municipality_resolve(const SlotdOffering *offering, const char *code_or_name)
{
	g_autofree char *wanted = NULL;

	if (is_known_code(offering, code_or_name))
		return g_strdup(code_or_name);
	/* The SDK has no lookup by name, so the name is compared with
	 * the names of every code the region knows (three digits). */
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

char *
hh_municipality_label(const SlotdOffering *offering, const char *code)
{
	const char *fi = slotd_offering_municipality_name(offering, code, "fi");
	const char *sv = slotd_offering_municipality_name(offering, code, "sv");

	if (!fi)
		return g_strdup(code);
	if (!sv || strcmp(fi, sv) == 0)
		return g_strdup(fi);
	return g_strdup_printf("%s/%s", fi, sv);
}

static void
append_base(GString *text, const SlotdOffering *sibling)
{
	const HhBase *base = hh_base(sibling);

	g_string_append_printf(text, "%s%s covers ",
			       text->str[text->len - 1] == ' ' ? "" : "; ",
			       slotd_offering_unit(sibling));
	for (guint i = 0; base->covers[i]; i++) {
		g_autofree char *label =
			hh_municipality_label(sibling, base->covers[i]);

		g_string_append_printf(text, "%s%s", i ? ", " : "", label);
	}
}

void
hh_coverage_error(const SlotdOffering *offering, const char *municipality,
		  GError **error)
{
	g_autoptr(GPtrArray) siblings = slotd_offering_siblings(offering);
	g_autofree char *label = hh_municipality_label(offering, municipality);
	g_autoptr(GString) bases = g_string_new(" ");
	const char *coverer = NULL;

	for (guint i = 0; siblings && i < siblings->len; i++) {
		const SlotdOffering *sibling = g_ptr_array_index(siblings, i);

		if (g_strcmp0(slotd_offering_kind(sibling), HH_KIND) != 0 ||
		    !hh_base(sibling))
			continue;
		append_base(bases, sibling);
		if (!coverer && hh_base_covers(hh_base(sibling), municipality))
			coverer = slotd_offering_unit(sibling);
	}
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "home-hospital base %s does not drive to %s. Bases of "
		    "%s:%s. %s%s%s",
		    slotd_offering_unit(offering), label,
		    slotd_offering_service(offering), bases->str,
		    coverer ? "Book at " : "",
		    coverer ? coverer
			    : "No base of this service covers the "
			      "client's home: refer the client to "
			      "the home hospital of their own "
			      "wellbeing services county",
		    coverer ? ", which covers the client's home." : ".");
}
