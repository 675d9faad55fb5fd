/* walk-in staffing through the planning engine: eight Mondays of Lohja
 * check-ins become an arrival rate, and the M/M/c figures of the next
 * session are checked against values worked out by hand. */
#include <math.h>
#include <string.h>

#include "planner-engine.h"
#include "walk-in.h"
#include "test-walk-in.h"

#define SERVICE "social-counselling-walk-in"

/* Check-ins on the Mondays 12.10.-30.11.2026: 12 in all over eight
 * 3-hour sessions, so 0.5 an hour. The first visit of every other week
 * is anonymous (4), one visitor is called but gone (noshow), and one
 * check-in is cancelled (not counted). */
static const guint visits_per_week[8] = { 2, 1, 2, 1, 2, 1, 2, 1 };

static void
check_in_one(Fixture *f, const char *slot, guint week, guint visit)
{
	g_autofree char *ref = visit == 0 && week % 2 == 0 ?
		g_strdup("") : g_strdup_printf("lohja-%u-%u", week, visit);
	g_autofree char *booking = NULL;
	g_autoptr(GError) error = NULL;

	booking = fixture_book(f, slot, ref, NULL, &error);
	g_assert_no_error(error);
	fixture_set_status(f, booking, week == 3 ? "noshow" : "fulfilled");
}

static void
lohja_history(Fixture *f)
{
	const Caller caller = { 1000, "health-station" };
	g_autoptr(GError) error = NULL;
	GDate date;

	g_date_clear(&date, 1);
	g_date_set_dmy(&date, 12, 10, 2026);
	for (guint week = 0; week < 8; week++, g_date_add_days(&date, 7)) {
		gint64 start = local_time(g_date_get_year(&date),
					  g_date_get_month(&date),
					  g_date_get_day(&date), 13, 0);
		g_autofree char *slot = fixture_slot_id(f, "W-SO-LOH",
							WALK_IN_SESSION, start);

		f->now = start + 600;
		for (guint visit = 0; visit < visits_per_week[week]; visit++)
			check_in_one(f, slot, week, visit);
		if (week == 0) {
			g_autofree char *gone = fixture_book(f, slot, "", NULL,
							     &error);

			g_assert_no_error(error);
			g_assert_true(capacity_cancel(f->capacity, &caller,
						      gone, "left", &error));
		}
	}
}

static GPtrArray *
staffing(Fixture *f, const char *options_text, GError **error)
{
	g_autoptr(GVariant) options = g_variant_ref_sink(
		g_variant_new_parsed(options_text));
	GPtrArray *rows = NULL;

	if (!planner_staffing(f->capacity, SERVICE, options, f->now,
			      f->now + 7 * 86400, &rows, error))
		return NULL;
	return rows;
}

static GVariant *
row_of(GPtrArray *rows, const char *unit)
{
	for (guint i = 0; i < rows->len; i++) {
		const char *row_unit = NULL;

		g_variant_lookup(rows->pdata[i], "unit", "&s", &row_unit);
		if (g_strcmp0(row_unit, unit) == 0)
			return rows->pdata[i];
	}
	g_error("no staffing row for %s", unit);
	return NULL;
}

static double
row_double(GVariant *row, const char *key)
{
	double value = NAN;

	g_assert_true(g_variant_lookup(row, key, "d", &value));
	return value;
}

static guint32
row_uint(GVariant *row, const char *key)
{
	return booking_uint(row, key);
}

/* λ = 0.5 an hour, 30 minutes, one counsellor (M/M/1): ρ = 0.25,
 * Wq = ρ / (μ − λ) = 0.25 / 1.5 h = 10 min, Lq = λ·Wq = 1/12,
 * P(wait <= 20 min) = 1 − ρ·e^(−1.5 · 1/3) = 1 − 0.25 · 0.606531
 * = 0.848367. */
static void
test_lohja_from_history(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	GVariant *row;
	const char *source = NULL;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 10, 12, 12, 50));
	lohja_history(f);
	f->now = local_time(2026, 12, 7, 8, 0);
	rows = staffing(f, "@a{sv} {}", &error);
	g_assert_no_error(error);
	/* Mondays at Lohja, Espoo 1 and Porvoo; Pukkila's 2nd Tuesday. */
	g_assert_cmpuint(rows->len, ==, 4);
	row = row_of(rows, "W-SO-LOH");
	g_assert_cmpint(booking_time(row, "period-start"), ==,
			local_time(2026, 12, 7, 13, 0));
	g_assert_true(g_variant_lookup(row, "arrivals-source", "&s", &source));
	g_assert_cmpstr(source, ==, "history");
	g_assert_cmpuint(row_uint(row, "history-sessions"), ==, 8);
	g_assert_cmpuint(row_uint(row, "history-checkins"), ==, 12);
	g_assert_cmpuint(row_uint(row, "anonymous-visits"), ==, 4);
	g_assert_cmpfloat_with_epsilon(row_double(row, "arrivals-per-hour"),
				       0.5, 1e-9);
	g_assert_cmpfloat_with_epsilon(row_double(row, "expected-wait-minutes"),
				       10.0, 1e-6);
	g_assert_cmpfloat_with_epsilon(row_double(row, "expected-queue-length"),
				       1.0 / 12.0, 1e-6);
	g_assert_cmpfloat_with_epsilon(
		row_double(row, "predicted-service-level"), 0.848367, 1e-6);
	g_assert_cmpuint(row_uint(row, "staff-needed"), ==, 1);
	g_assert_cmpuint(row_uint(row, "staff-rostered"), ==, 1);
	g_assert_cmpuint(row_uint(row, "queue-places"), ==, 6);
	row = row_of(rows, "E-SO-PUK");
	g_assert_cmpint(booking_time(row, "period-start"), ==,
			local_time(2026, 12, 8, 10, 0));
	g_assert_cmpuint(row_uint(row, "history-sessions"), ==, 2);
}

/* A report from tomorrow, asked on Monday 30 November at 08:00: that
 * day's Lohja session (13:00) has not happened yet, so it is no
 * history, whatever the store holds for it. */
static void
test_todays_session_is_no_history(Fixture *f, gconstpointer data)
{
	g_autoptr(GVariant) options = g_variant_ref_sink(
		g_variant_new_parsed("@a{sv} {}"));
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	gint64 tomorrow = local_time(2026, 12, 1, 0, 0);
	GVariant *row;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 10, 12, 12, 50));
	lohja_history(f);
	f->now = local_time(2026, 11, 30, 8, 0);
	g_assert_true(planner_staffing(f->capacity, SERVICE, options,
				       tomorrow, tomorrow + 7 * 86400, &rows,
				       &error));
	g_assert_no_error(error);
	row = row_of(rows, "W-SO-LOH");
	g_assert_cmpint(booking_time(row, "period-start"), ==,
			local_time(2026, 12, 7, 13, 0));
	/* Seven Mondays from 12 October to 23 November. */
	g_assert_cmpuint(row_uint(row, "history-sessions"), ==, 7);
}

/* What if Lohja had a second counsellor: c = 2, a = 0.25; C = 0.027778,
 * Wq = C / (4 − 0.5) h = 0.476190 min, P(wait <= 20 min) = 0.991350. */
static void
test_lohja_with_one_more_counsellor(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	GVariant *row;
	gint32 gap = 0;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 10, 12, 12, 50));
	lohja_history(f);
	f->now = local_time(2026, 12, 7, 8, 0);
	rows = staffing(f, "{'unit': <'W-SO-LOH'>, 'extra-staff': <1>}",
			&error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 1);
	row = row_of(rows, "W-SO-LOH");
	g_assert_cmpuint(row_uint(row, "staff-rostered"), ==, 2);
	g_assert_cmpfloat_with_epsilon(row_double(row, "expected-wait-minutes"),
				       0.476190, 1e-6);
	g_assert_cmpfloat_with_epsilon(
		row_double(row, "predicted-service-level"), 0.991350, 1e-6);
	g_assert_true(g_variant_lookup(row, "staff-gap", "i", &gap));
	g_assert_cmpint(gap, ==, -1);
}

/* Porvoo's two counsellors at 3 visitors an hour (the worked example of
 * test-rules.c): Wq 38.571 min, Lq 1.928571, P(wait <= 20 min)
 * 0.539373, three counsellors needed for a 20-minute mean wait. */
static void
test_porvoo_two_counsellors_given_rate(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GPtrArray) refused = NULL;
	g_autoptr(GError) error = NULL;
	GVariant *row;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 12, 7, 8, 0));
	rows = staffing(f, "{'unit': <'E-SO-POR'>, "
			"'arrivals-per-hour': <3.0>, "
			"'target-wait-minutes': <20.0>}", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 1);
	row = row_of(rows, "E-SO-POR");
	g_assert_cmpuint(row_uint(row, "staff-rostered"), ==, 2);
	g_assert_cmpfloat_with_epsilon(row_double(row, "expected-wait-minutes"),
				       38.571429, 1e-5);
	g_assert_cmpfloat_with_epsilon(row_double(row, "expected-queue-length"),
				       1.928571, 1e-5);
	g_assert_cmpfloat_with_epsilon(
		row_double(row, "predicted-service-level"), 0.539373, 1e-5);
	g_assert_cmpuint(row_uint(row, "staff-needed"), ==, 3);
	/* No such unit, or a typo in an option: refused. */
	refused = staffing(f, "{'unit': <'W-SO-XXX'>}", &error);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	g_clear_pointer(&refused, g_ptr_array_unref);
	refused = staffing(f, "{'target-wait': <20.0>}", &error);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
	memset(f, 0, sizeof(*f));
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
	fixture_stop(f);
}

#define ADD(path, func) \
	g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)

void
test_plan_add(void)
{
	ADD("/walk-in/plan/lohja-arrivals-from-eight-mondays",
	    test_lohja_from_history);
	ADD("/walk-in/plan/todays-session-is-no-history",
	    test_todays_session_is_no_history);
	ADD("/walk-in/plan/what-if-lohja-had-two-counsellors",
	    test_lohja_with_one_more_counsellor);
	ADD("/walk-in/plan/porvoo-two-counsellors-three-an-hour",
	    test_porvoo_two_counsellors_given_rate);
}
