/* crisis-duty: the staffing figures of one hour (erlang.c) checked
 * against Erlang C worked by hand, and the West's example config giving
 * a quiet night hour fewer staff than a busy evening hour. */
#include "test-crisis-duty.h"

static void test_worked_example(void)
{
	/* λ = 2/h, 30 min each: A = 1 Erlang. With c = 2:
	 * C = (A²/2!)(2/(2-1)) / (1 + A + 1) = 1/3,
	 * P(W <= 60 s) = 1 - 1/3 e^(-(2-1)·60/1800) = 0.677595,
	 * Wq = C · 30 min / (2 - 1) = 10 min. With c = 3: C = 1/11 and
	 * P = 1 - 1/11 e^(-2·60/1800) = 0.914954, so 80 % needs 3. */
	CrisisHourRow row = {
		.arrivals_per_hour = 2, .handling_minutes = 30,
		.staff_rostered = 2,
	};

	crisis_hour_evaluate(&row, 60, 0.8);
	g_assert_cmpfloat_with_epsilon(row.offered_load, 1.0, 1e-12);
	g_assert_cmpuint(row.staff_needed, ==, 3);
	g_assert_cmpfloat_with_epsilon(row.service_level, 0.677595, 1e-6);
	g_assert_cmpfloat_with_epsilon(row.mean_wait_seconds, 600, 1e-6);
	g_assert_cmpint(row.gap, ==, -1);
	row.staff_rostered = 3;
	crisis_hour_evaluate(&row, 60, 0.8);
	g_assert_cmpfloat_with_epsilon(row.service_level, 0.914954, 1e-6);
	g_assert_cmpint(row.gap, ==, 0);
}

static void test_load_reaches_staff(void)
{
	/* λ = 4/h of 30 min: A = 2 with 2 on duty never catches up. */
	CrisisHourRow row = {
		.arrivals_per_hour = 4, .handling_minutes = 30,
		.staff_rostered = 2,
	};

	crisis_hour_evaluate(&row, 60, 0.8);
	g_assert_cmpfloat_with_epsilon(row.service_level, 0, 1e-12);
	g_assert_cmpfloat_with_epsilon(row.mean_wait_seconds, -1, 1e-12);
	/* c = 3 gives 0.570126, c = 4 gives 0.837303. */
	g_assert_cmpuint(row.staff_needed, ==, 4);
	g_assert_cmpint(row.gap, ==, -2);
	row.staff_rostered = 0;
	crisis_hour_evaluate(&row, 60, 0.8);
	g_assert_cmpfloat_with_epsilon(row.service_level, 0, 1e-12);
	g_assert_cmpint(row.gap, ==, -4);
}

/* Staff on duty at all western bases from the materialised slots. */
static GArray *west_roster(CrisisFixture *f, gint64 from, gint64 to)
{
	const char *units[] = { "W-SKP", "W-SKP-LOH" };
	GArray *spans = g_array_new(FALSE, FALSE, sizeof(CrisisStaffSpan));

	for (guint u = 0; u < G_N_ELEMENTS(units); u++) {
		g_autofree char *offering = crisis_offering_id(units[u]);
		g_autoptr(GArray) slots =
			g_array_new(FALSE, TRUE, sizeof(StoreSlot));
		g_autoptr(GError) error = NULL;

		g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
		store_list_slots(f->store, offering, from, to, slots, &error);
		g_assert_no_error(error);
		for (guint i = 0; i < slots->len; i++) {
			StoreSlot *s = &g_array_index(slots, StoreSlot, i);
			CrisisStaffSpan span = { s->start, s->end,
						 s->capacity };

			g_array_append_val(spans, span);
		}
	}
	return spans;
}

static void evaluate_west_hour(CrisisFixture *f, const GArray *roster,
			       guint hour_of_week, gint64 start,
			       CrisisHourRow *row)
{
	SlotdOffering *jorvi = region_find_offering(f->region,
						    "W-SKP/crisis-duty-west");
	const CrisisPlanConfig *plan = &crisis_base(jorvi)->plan;

	row->hour_of_week = hour_of_week;
	row->arrivals_per_hour = crisis_profile_rate(
		&plan->profile, crisis_monthly_to_hourly(
					plan->contacts_per_month),
		hour_of_week);
	row->handling_minutes = plan->handling_minutes;
	row->staff_rostered = crisis_staff_in_hour(
		(const CrisisStaffSpan *)roster->data, roster->len, start);
	crisis_hour_evaluate(row, plan->target_seconds, plan->service_level);
}

static void test_night_and_evening(CrisisFixture *f, gconstpointer data)
{
	gint64 night = crisis_local(2026, 3, 10, 4, 0);
	gint64 evening = crisis_local(2026, 3, 10, 18, 0);
	g_autoptr(GArray) roster = west_roster(f, night - 86400, evening + 86400);
	CrisisHourRow quiet = { 0 }, busy = { 0 };

	/* Tuesday 04:00 (hour 28): 1200/month = 1.642710/h × 0.4 × 0.95
	 * = 0.624230/h, A = 0.780287 at 75 min; Jorvi's night has 4. */
	evaluate_west_hour(f, roster, 28, night, &quiet);
	g_assert_cmpfloat_with_epsilon(quiet.arrivals_per_hour, 0.624230,
				       1e-6);
	g_assert_cmpuint(quiet.staff_rostered, ==, 4);
	g_assert_cmpuint(quiet.staff_needed, ==, 3);
	g_assert_cmpfloat_with_epsilon(quiet.service_level, 0.991580, 1e-6);
	g_assert_cmpint(quiet.gap, ==, 1);
	/* Tuesday 18:00 (hour 42): × 1.6 × 0.95 = 2.496920/h, A = 3.121150;
	 * Jorvi's 4 and Lohja's pair. */
	evaluate_west_hour(f, roster, 42, evening, &busy);
	g_assert_cmpfloat_with_epsilon(busy.arrivals_per_hour, 2.496920,
				       1e-6);
	g_assert_cmpuint(busy.staff_rostered, ==, 6);
	g_assert_cmpuint(busy.staff_needed, ==, 6);
	g_assert_cmpfloat_with_epsilon(busy.service_level, 0.888796, 1e-6);
	g_assert_cmpfloat_with_epsilon(busy.mean_wait_seconds, 180.627432,
				       1e-5);
	g_assert_cmpint(busy.gap, ==, 0);
	g_assert_cmpuint(quiet.staff_needed, <, busy.staff_needed);
}


/* ---- Staffing through the planning engine ----------------------------- */

#define MON16(hh) crisis_local(2026, 3, 16, (hh), 0)

/* The clock to Monday 2026-03-16 with the slots of that whole week. */
static void move_to_planning_week(CrisisFixture *f)
{
	g_autoptr(GError) error = NULL;
	gboolean done = FALSE;

	f->now = MON16(8);
	while (!done) {
		capacity_extend(f->capacity, 5000, &done, &error);
		g_assert_no_error(error);
	}
}

/* Staffing of the West for Monday 2026-03-16 12:00 to the next day. */
static GPtrArray *plan_week(CrisisFixture *f, const char *options,
			    GError **error)
{
	g_autoptr(GVariant) dict = g_variant_ref_sink(
		g_variant_new_parsed(options ? options : "@a{sv} {}"));
	GPtrArray *rows = NULL;

	if (!planner_staffing(f->capacity, "crisis-duty-west", dict,
			      MON16(12), crisis_local(2026, 3, 17, 12, 0),
			      &rows, error))
		return NULL;
	return rows;
}

static void assert_row(GPtrArray *rows, guint hour, double arrivals,
		       guint rostered, guint needed, double level)
{
	GVariant *row = g_ptr_array_index(rows, hour);
	guint32 h = 0, staff = 0, need = 0;
	double rate = 0, predicted = 0;
	gint32 gap = 0;

	g_assert_true(g_variant_lookup(row, "hour-of-week", "u", &h));
	g_assert_cmpuint(h, ==, hour);
	g_assert_true(g_variant_lookup(row, "arrivals-per-hour", "d", &rate));
	g_assert_cmpfloat_with_epsilon(rate, arrivals, 1e-6);
	g_assert_true(g_variant_lookup(row, "staff-rostered", "u", &staff));
	g_assert_cmpuint(staff, ==, rostered);
	g_assert_true(g_variant_lookup(row, "staff-needed", "u", &need));
	g_assert_cmpuint(need, ==, needed);
	g_assert_true(g_variant_lookup(row, "predicted-service-level", "d",
				       &predicted));
	g_assert_cmpfloat_with_epsilon(predicted, level, 1e-6);
	g_assert_true(g_variant_lookup(row, "gap", "i", &gap));
	g_assert_cmpint(gap, ==, (gint)rostered - (gint)needed);
}

static gint64 row_start(GPtrArray *rows, guint hour)
{
	gint64 start = 0;

	g_assert_true(g_variant_lookup(g_ptr_array_index(rows, hour),
				       "period-start", "x", &start));
	return start;
}

static void test_staffing_week(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	const char *source = NULL;

	move_to_planning_week(f);
	rows = plan_week(f, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 168);
	g_assert_cmpint(row_start(rows, 0), ==, MON16(0));
	g_assert_cmpint(row_start(rows, 167),
			==, crisis_local(2026, 3, 22, 23, 0));
	g_assert_true(g_variant_lookup(g_ptr_array_index(rows, 4),
				       "arrivals-source", "&s", &source));
	g_assert_cmpstr(source, ==, "config");
	/* Monday 04:00: 1.642710 × 0.4; Jorvi's night of 4. */
	assert_row(rows, 4, 0.657084, 4, 3, 0.989945);
	/* Monday 08:00: × 0.9 = 1.478439/h, A = 1.848, two on the
	 * morning shift reach 11.4 % within a minute; 4 are needed. */
	assert_row(rows, 8, 1.478439, 2, 4, 0.114259);
	/* Monday 18:00: × 1.6, Jorvi's 4 and Lohja's pair. */
	assert_row(rows, 18, 2.628337, 6, 6, 0.864593);
	assert_row(rows, 23, 1.642710, 4, 4, 0.817498);
}

static void test_staffing_what_if(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) extra = NULL, given = NULL, bad = NULL;
	g_autoptr(GError) error = NULL;

	move_to_planning_week(f);
	/* One more on Monday's morning shift only. */
	extra = plan_week(f, "{'extra-staff': <int32 1>, "
			     "'extra-staff-from-hour': <uint32 7>, "
			     "'extra-staff-to-hour': <uint32 15>}", &error);
	g_assert_no_error(error);
	assert_row(extra, 8, 1.478439, 3, 4, 0.630200);
	assert_row(extra, 18, 2.628337, 6, 6, 0.864593);
	assert_row(extra, 24 + 8, 1.404517, 2, 4, 0.181960);
	/* A flat mean of 2 contacts an hour, shaped by the profile. */
	given = plan_week(f, "{'arrivals-per-hour': <2.0>}", &error);
	g_assert_no_error(error);
	assert_row(given, 4, 0.8, 4, 3, 0.980392);
	bad = plan_week(f, "{'service-level': <1.5>}", &error);
	g_assert_null(bad);
	crisis_assert_error(error, SLOTD_ERROR_INVALID_ARGS, "service-level");
}

static void test_staffing_from_history(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	const char *source = NULL;
	double handling = 0;

	/* Last week: 2 calls on Tuesday at 10 (hour 34), 3 on Wednesday
	 * at 20 (hour 68); over 8 weeks of history that is 0.25 and
	 * 0.375 contacts an hour, 30 staff-minutes each. */
	for (guint i = 0; i < 5; i++) {
		g_autofree char *id = crisis_book(
			f, "W-SKP",
			i < 2 ? crisis_local(2026, 3, 10, 10, 0)
			      : crisis_local(2026, 3, 11, 20, 0),
			NULL, &error);

		g_assert_no_error(error);
	}
	move_to_planning_week(f);
	rows = plan_week(f, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_variant_lookup(g_ptr_array_index(rows, 34),
				       "arrivals-source", "&s", &source));
	g_assert_cmpstr(source, ==, "history");
	g_assert_true(g_variant_lookup(g_ptr_array_index(rows, 34),
				       "handling-minutes", "d", &handling));
	g_assert_cmpfloat_with_epsilon(handling, 30, 1e-9);
	assert_row(rows, 34, 0.25, 2, 1, 0.993093);
	assert_row(rows, 68, 0.375, 6, 1, 1.0);
	/* Nobody called at Monday 00:00: one on duty is still needed. */
	assert_row(rows, 0, 0, 4, 1, 1.0);
}

void crisis_test_add_plan(void)
{
	g_test_add_func("/crisis-duty/plan/two-calls-an-hour-of-30-minutes-"
			"need-three-staff", test_worked_example);
	g_test_add_func("/crisis-duty/plan/a-load-equal-to-the-staff-never-"
			"catches-up", test_load_reaches_staff);
	g_test_add("/crisis-duty/plan/a-quiet-night-hour-needs-fewer-staff-"
		   "than-a-busy-evening", CrisisFixture, NULL,
		   crisis_fixture_setup, test_night_and_evening,
		   crisis_fixture_teardown);
	g_test_add("/crisis-duty/plan/a-west-week-has-168-hourly-rows-with-"
		   "gaps", CrisisFixture, NULL, crisis_fixture_setup,
		   test_staffing_week, crisis_fixture_teardown);
	g_test_add("/crisis-duty/plan/what-if-one-more-on-monday-morning",
		   CrisisFixture, NULL, crisis_fixture_setup,
		   test_staffing_what_if, crisis_fixture_teardown);
	g_test_add("/crisis-duty/plan/arrivals-come-from-history-when-there-"
		   "is-enough", CrisisFixture, "history-min-contacts=5",
		   crisis_fixture_setup, test_staffing_from_history,
		   crisis_fixture_teardown);
}
