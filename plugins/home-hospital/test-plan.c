/* Home hospital: Planner1.Staffing rows from the plan hook, through the
 * real planning engine. Worked by hand from the example configuration:
 * W-HH-LOH has day 3 nurses (07:00-15:30, owns 7.5 h), evening 2
 * (14:30-22:30, owns 7.5 h), night 1 (22:00-07:30, owns 9 h); a nurse
 * has 75 % of the paid shift for visits. The default template iv-q24h
 * averages (60 + 4 x 40) / 5 = 44 min on site; Lohja 25, Vihti 20,
 * Karkkila 35 and Siuntio 25 min one way average 52.5 min there and
 * back: 96.5 nurse minutes a visit. */
#include <string.h>

#include <slotd/plugin.h>

#include "planner-engine.h"
#include "test-home-hospital.h"

#define EPSILON 1e-9

static const Caller test_caller = { 1000, "test-home-hospital" };

static GPtrArray *
staffing(HhFixture *f, GVariant *options, GError **error)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(options);
	gint64 from = hh_local(2026, 3, 9, 0, 0);
	GPtrArray *rows = NULL;

	if (!planner_staffing(f->capacity, HH_WEST, sunk, from,
			      from + 7 * 86400, &rows, error))
		return NULL;
	return rows;
}

static GVariant *
row_of(GPtrArray *rows, const char *unit, const char *shift)
{
	for (guint i = 0; i < rows->len; i++) {
		const char *row_unit = NULL, *row_shift = NULL;

		g_variant_lookup(rows->pdata[i], "unit", "&s", &row_unit);
		g_variant_lookup(rows->pdata[i], "shift", "&s", &row_shift);
		if (g_strcmp0(row_unit, unit) == 0 &&
		    g_strcmp0(row_shift, shift) == 0)
			return rows->pdata[i];
	}
	g_error("no staffing row for %s %s", unit, shift);
	return NULL;
}

static double
row_double(GVariant *row, const char *key)
{
	double value = -2;

	g_assert_true(g_variant_lookup(row, key, "d", &value));
	return value;
}

static guint32
row_uint(GVariant *row, const char *key)
{
	guint32 value = G_MAXUINT32;

	g_assert_true(g_variant_lookup(row, key, "u", &value));
	return value;
}

/* 12 visits a day with no history are spread like the nurse minutes,
 * 1350 : 900 : 540. Day: 12 x 1350 / 2790 = 5.81 visits x 96.5 min =
 * 560 min against 3 x 510 x 0.75 = 1147.5: 2 nurses needed of 3. */
static void
test_lohja_rows_from_visits_per_day(HhFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	double day = 12 * 1350 / 2790.0, night = 12 * 540 / 2790.0;
	GVariant *row;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	rows = staffing(f,
			g_variant_new_parsed("{'unit': <'W-HH-LOH'>, "
					     "'visits-per-day': <12.0>}"),
			&error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 3);
	row = row_of(rows, "W-HH-LOH", "day");
	g_assert_cmpfloat_with_epsilon(row_double(row, "visits-per-day"), day,
				       EPSILON);
	g_assert_cmpfloat_with_epsilon(row_double(row, "minutes-per-visit"),
				       96.5, EPSILON);
	g_assert_cmpuint(row_uint(row, "staff-needed"), ==, 2);
	g_assert_cmpuint(row_uint(row, "staff-rostered"), ==, 3);
	g_assert_cmpfloat_with_epsilon(row_double(row, "utilisation"),
				       day * 96.5 / 1147.5, EPSILON);
	g_assert_cmpfloat_with_epsilon(row_double(row, "arrivals-per-hour"),
				       day / 7.5, EPSILON);
	g_assert_cmpfloat(row_double(row, "predicted-service-level"), ==, 1.0);
	/* Night: 9.5 h paid, 427.5 productive minutes, one nurse. */
	row = row_of(rows, "W-HH-LOH", "night");
	g_assert_cmpfloat_with_epsilon(row_double(row, "utilisation"),
				       night * 96.5 / 427.5, EPSILON);
	g_assert_cmpuint(row_uint(row, "staff-needed"), ==, 1);
}

/* 40 visits a day: the day shift needs 19.35 x 96.5 = 1867.7 min, 5
 * nurses; the 3 rostered serve 1147.5 / 1867.7 of it. One more night
 * nurse in Lohja (what-if) halves the night's load and changes nothing
 * else. */
static void
test_lohja_short_and_what_if(HhFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GPtrArray) what_if = NULL;
	g_autoptr(GError) error = NULL;
	double day = 40 * 1350 / 2790.0, night = 40 * 540 / 2790.0;
	GVariant *row;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	rows = staffing(f,
			g_variant_new_parsed("{'unit': <'W-HH-LOH'>, "
					     "'visits-per-day': <40.0>}"),
			&error);
	g_assert_no_error(error);
	row = row_of(rows, "W-HH-LOH", "day");
	g_assert_cmpuint(row_uint(row, "staff-needed"), ==, 5);
	g_assert_cmpfloat_with_epsilon(
		row_double(row, "predicted-service-level"),
		1147.5 / (day * 96.5), EPSILON);
	what_if = staffing(
		f,
		g_variant_new_parsed("{'visits-per-day': <40.0>, "
				     "'extra-staff': <1>, "
				     "'extra-staff-unit': <'W-HH-LOH'>, "
				     "'extra-staff-shift': <'night'>}"),
		&error);
	g_assert_no_error(error);
	g_assert_cmpuint(what_if->len, ==, 3 + 3 + 2);
	row = row_of(what_if, "W-HH-LOH", "night");
	g_assert_cmpuint(row_uint(row, "staff-rostered"), ==, 2);
	g_assert_cmpfloat_with_epsilon(row_double(row, "utilisation"),
				       night * 96.5 / (2 * 427.5), EPSILON);
	g_assert_cmpuint(
		row_uint(row_of(what_if, "W-HH-LOH", "day"), "staff-rostered"),
		==, 3);
	g_assert_cmpuint(row_uint(row_of(what_if, "W-HH-ESP", "night"),
				  "staff-rostered"),
			 ==, 2);
}

/* History: the 15 visits of a q8h episode in Lohja (5 per shift) seen
 * over 28 days give 5 / 28 visits a day per shift, of (60 + 14 x 40) /
 * 15 min on site and 50 min driving. */
static void
test_demand_from_history(HhFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) slots = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GVariant) options =
		g_variant_ref_sink(hh_options("Lohja", "fi", "iv-q8h"));
	g_autoptr(GPtrArray) bookings = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	static const int hours[] = { 7, 15, 23 };
	GVariant *row;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	for (guint i = 0; i < 15; i++)
		g_ptr_array_add(slots,
				hh_slot_at(f, "W-HH-LOH",
					   hh_local(2026, 3, 2 + (int)(i / 3),
						    hours[i % 3], 0)));
	g_ptr_array_add(slots, NULL);
	g_assert_true(capacity_book_series(
		f->capacity, &test_caller, (const char *const *)slots->pdata,
		"client-plan-1", options, &bookings, &error));
	g_assert_no_error(error);
	rows = staffing(f, g_variant_new_parsed("{'unit': <'W-HH-LOH'>}"),
			&error);
	g_assert_no_error(error);
	for (guint i = 0; i < 3; i++) {
		static const char *const shifts[] = { "day", "evening",
						      "night" };
		const char *source = NULL;

		row = row_of(rows, "W-HH-LOH", shifts[i]);
		g_assert_cmpfloat_with_epsilon(
			row_double(row, "visits-per-day"), 5 / 28.0, EPSILON);
		g_assert_cmpfloat_with_epsilon(
			row_double(row, "minutes-per-visit"), 620 / 15.0 + 50,
			EPSILON);
		g_assert_true(
			g_variant_lookup(row, "demand-source", "&s", &source));
		g_assert_cmpstr(source, ==, "history");
	}
}

static void
test_unknown_names_refused(HhFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GPtrArray) typo = NULL;
	g_autoptr(GError) error = NULL;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	rows = staffing(
		f,
		g_variant_new_parsed("{'extra-staff': <1>, "
				     "'extra-staff-shift': <'morning'>}"),
		&error);
	g_assert_null(rows);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_assert_nonnull(strstr(error->message, "\"morning\""));
	g_clear_error(&error);
	typo = staffing(f, g_variant_new_parsed("{'visits-a-day': <3.0>}"),
			&error);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
}

static void
add(const char *path, void (*test)(HhFixture *f, gconstpointer data))
{
	g_test_add(path, HhFixture, NULL, hh_fixture_set_up, test,
		   hh_fixture_tear_down);
}

void
hh_test_add_plan(void)
{
	add("/home-hospital/plan/lohja-rows-from-visits-per-day",
	    test_lohja_rows_from_visits_per_day);
	add("/home-hospital/plan/lohja-short-and-one-more-night-nurse",
	    test_lohja_short_and_what_if);
	add("/home-hospital/plan/demand-from-four-weeks-of-history",
	    test_demand_from_history);
	add("/home-hospital/plan/unknown-shift-or-option-refused",
	    test_unknown_names_refused);
}
