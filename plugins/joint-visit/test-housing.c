/* Joint visits: the housing units' keys and the team's time, worked
 * out by hand, and the configuration errors an administrator gets. */
#include <string.h>

#include "joint-visit.h"
#include "test-joint-visit.h"

#define GROUP "offering E-JV-POR supported-housing-mapping"

static void
test_parse_housing(void)
{
	g_autofree char *a = NULL, *b = NULL, *c = NULL;
	char *never = NULL;
	gint minutes = 0;

	g_assert_true(jv_parse_housing("Porvoo 12", &a, &minutes));
	g_assert_cmpstr(a, ==, "Porvoo");
	g_assert_cmpint(minutes, ==, 12);
	g_assert_true(jv_parse_housing("  638\t ", &b, &minutes));
	g_assert_cmpstr(b, ==, "638");
	g_assert_cmpint(minutes, ==, -1);
	g_assert_true(jv_parse_housing("Borgå 0", &c, &minutes));
	g_assert_cmpint(minutes, ==, 0);
	g_assert_false(jv_parse_housing("Porvoo -3", &never, &minutes));
	g_assert_false(jv_parse_housing("Porvoo 12x", &never, &minutes));
	g_assert_false(jv_parse_housing("Porvoo 181", &never, &minutes));
	g_assert_false(jv_parse_housing("Porvoo 12 13", &never, &minutes));
	g_assert_false(jv_parse_housing("", &never, &minutes));
	g_assert_null(never);
}

/* 90 minutes on site and 12 minutes each way: 114 minutes of the
 * team; the Kerava-road unit (25 min) 140. */
static void
test_run_minutes(void)
{
	g_assert_cmpuint(jv_run_minutes(90, 12), ==, 114);
	g_assert_cmpuint(jv_run_minutes(90, 25), ==, 140);
	g_assert_cmpuint(jv_run_minutes(90, 0), ==, 90);
}

static void
test_example_configures(JvFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	const SlotdOffering *off;
	const JvSettings *s;
	const JvHousingUnit *u;

	jv_fixture_load(f, &error);
	g_assert_no_error(error);
	off = region_find_offering(f->region, JV_UNIT "/" JV_SERVICE);
	g_assert_nonnull(off);
	s = jv_settings(off);
	g_assert_cmpuint(s->visit_minutes, ==, 90);
	g_assert_cmpuint(s->n_units, ==, 8);
	u = jv_housing_unit(s, "asumis-8");
	g_assert_nonnull(u);
	g_assert_cmpstr(u->municipality, ==, "638");
	g_assert_cmpuint(u->travel_minutes, ==, 25);
	g_assert_null(jv_housing_unit(s, "asumis-9"));
}

/* Without minutes, the region's matrix: Porvoo to Askola. */
static void
test_travel_from_matrix(JvFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	const SlotdOffering *off;
	const JvHousingUnit *u;
	gint matrix;

	jv_fixture_set_key(f, GROUP, "housing-units",
			   "asumis-1;asumis-2;asumis-3;asumis-4;asumis-5;"
			   "asumis-6;asumis-7;asumis-8;asumis-9");
	jv_fixture_set_key(f, GROUP, "housing-unit-asumis-9", "askola");
	jv_fixture_load(f, &error);
	g_assert_no_error(error);
	off = region_find_offering(f->region, JV_UNIT "/" JV_SERVICE);
	u = jv_housing_unit(jv_settings(off), "asumis-9");
	g_assert_nonnull(u);
	g_assert_cmpstr(u->municipality, ==, "018");
	matrix = slotd_offering_travel_minutes(off, "638", "018");
	g_assert_cmpint(matrix, >, 0);
	g_assert_cmpuint(u->travel_minutes, ==, (guint)matrix);
}

typedef struct {
	const char *key;
	const char *value;
	const char *expect; /* in the message */
} BadKey;

static const BadKey bad_keys[] = {
	{ "housing-unit-asumis-3", "Tampere 12", "asumis-3" },
	{ "housing-unit-asumis-3", "Porvoo ten", "MUNICIPALITY [MINUTES]" },
	{ "housing-units", "asumis-1;asumis-1;asumis-2;asumis-3;asumis-4;"
			   "asumis-5;asumis-6;asumis-7;asumis-8",
	  "listed twice" },
	{ "housing-units", "010190-123A;asumis-1;asumis-2;asumis-3;asumis-4;"
			   "asumis-5;asumis-6;asumis-7;asumis-8",
	  "pseudonymous" },
	{ "housing-units", "asumis-1;asumis-99", "housing-unit-asumis-99" },
	{ "visit-minutes", "600", "visit-minutes" },
	{ "housing-unit-typo", "Porvoo 5", "housing-unit-typo" },
};

static void
test_bad_config(JvFixture *f, gconstpointer data)
{
	const BadKey *bad = data;
	g_autoptr(GError) error = NULL;

	jv_fixture_set_key(f, GROUP, bad->key, bad->value);
	g_assert_false(jv_fixture_load(f, &error));
	g_assert_nonnull(error);
	if (!strstr(error->message, bad->expect))
		g_error("'%s' does not name '%s'", error->message,
			bad->expect);
	/* Never echoes what looks like an identity code. */
	g_assert_null(strstr(error->message, "010190-123A"));
}

void
jv_test_add_housing(void)
{
	g_test_add_func("/joint-visit/housing/parse", test_parse_housing);
	g_test_add_func("/joint-visit/housing/run-minutes", test_run_minutes);
	g_test_add("/joint-visit/housing/example-configures", JvFixture, NULL,
		   jv_fixture_set_up, test_example_configures,
		   jv_fixture_tear_down);
	g_test_add("/joint-visit/housing/travel-from-matrix", JvFixture, NULL,
		   jv_fixture_set_up, test_travel_from_matrix,
		   jv_fixture_tear_down);
	for (guint i = 0; i < G_N_ELEMENTS(bad_keys); i++) {
		g_autofree char *path = g_strdup_printf(
			"/joint-visit/housing/bad-config/%u", i);

		g_test_add(path, JvFixture, &bad_keys[i], jv_fixture_set_up,
			   test_bad_config, jv_fixture_tear_down);
	}
}
