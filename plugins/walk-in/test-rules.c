/* walk-in tests without the store: window texts, queue places, the
 * check-in window, tickets, positions, estimated starts, arrival rates,
 * and the M/M/c staffing figures against values worked out by hand. */
#include <math.h>

#include "walk-in.h"
#include "test-walk-in.h"

/* 2026-12-07 (a Monday) 13:00 in Helsinki is 11:00 UTC. */
#define MONDAY_13 ((gint64)1796641200)
#define MINUTES(n) ((gint64)(n) * 60)

static WalkInSchedule
parse_window(const char *text)
{
	WalkInSchedule schedule = { 0 };
	g_autoptr(GError) error = NULL;

	g_date_clear(&schedule.from, 1);
	g_date_clear(&schedule.until, 1);
	g_date_set_dmy(&schedule.from, 1, 1, 2025);
	g_assert_true(walk_in_schedule_parse(text, &schedule, &error));
	g_assert_no_error(error);
	return schedule;
}

static gboolean
falls_on(const WalkInSchedule *schedule, int day, int month, int year)
{
	GDate date;

	g_date_clear(&date, 1);
	g_date_set_dmy(&date, day, month, year);
	return walk_in_schedule_matches(schedule, &date, schedule->start_minute,
					schedule->end_minute);
}

static void
test_lohja_monday_window(void)
{
	WalkInSchedule s = parse_window("13:00-16:00 FREQ=WEEKLY;BYDAY=MO");

	g_assert_cmpint(s.start_minute, ==, 13 * 60);
	g_assert_cmpint(s.end_minute, ==, 16 * 60);
	g_assert_cmpint(walk_in_schedule_minutes(&s), ==, 180);
	g_assert_cmpuint(s.days[0], ==, WALK_IN_DAY_EVERY);
	for (int i = 1; i < 7; i++)
		g_assert_cmpuint(s.days[i], ==, 0);
	g_assert_true(falls_on(&s, 7, 12, 2026));
	g_assert_false(falls_on(&s, 8, 12, 2026));
}

/* Askola 1st, Pukkila 2nd, Myrskylä 3rd, Lapinjärvi 4th Tuesday; the
 * 5th Tuesday of December 2026 (the 29th) has no session. */
static void
test_northern_tuesdays(void)
{
	const char *rules[] = { "1TU", "2TU", "3TU", "4TU" };
	const int days[] = { 1, 8, 15, 22, 29 };

	for (int r = 0; r < 4; r++) {
		g_autofree char *text = g_strdup_printf(
			"10:00-12:00 FREQ=MONTHLY;BYDAY=%s", rules[r]);
		WalkInSchedule s = parse_window(text);

		for (int d = 0; d < 5; d++)
			g_assert_cmpint(falls_on(&s, days[d], 12, 2026), ==,
					d == r);
		/* April 2026: the 7th is its first Tuesday, the 28th its
		 * fourth. */
		for (int d = 0; d < 4; d++)
			g_assert_cmpint(falls_on(&s, 7 + 7 * d, 4, 2026), ==,
					d == r);
	}
}

static void
test_last_weekday_and_time_match(void)
{
	WalkInSchedule s = parse_window("10:00-12:00 FREQ=MONTHLY;BYDAY=-1TU");
	GDate date;

	g_assert_true(falls_on(&s, 29, 12, 2026));
	g_assert_false(falls_on(&s, 22, 12, 2026));
	g_assert_true(falls_on(&s, 24, 11, 2026));
	/* Same day, other hours: not this window's occurrence. */
	g_date_clear(&date, 1);
	g_date_set_dmy(&date, 29, 12, 2026);
	g_assert_false(walk_in_schedule_matches(&s, &date, 10 * 60, 11 * 60));
}

static void
test_overlapping_sessions(void)
{
	WalkInSchedule monday, monday_late, monday_after, tuesday,
		tuesday_late_morning, first, second, fourth, last;

	monday = parse_window("13:00-16:00 FREQ=WEEKLY;BYDAY=MO");
	monday_late = parse_window("15:00-17:00 FREQ=WEEKLY;BYDAY=MO,TH");
	monday_after = parse_window("16:00-17:00 FREQ=WEEKLY;BYDAY=MO");
	tuesday = parse_window("13:00-16:00 FREQ=WEEKLY;BYDAY=TU");
	tuesday_late_morning = parse_window("11:00-13:00 FREQ=WEEKLY;BYDAY=TU");
	first = parse_window("10:00-12:00 FREQ=MONTHLY;BYDAY=1TU");
	second = parse_window("10:00-12:00 FREQ=MONTHLY;BYDAY=2TU");
	fourth = parse_window("11:00-12:00 FREQ=MONTHLY;BYDAY=4TU");
	last = parse_window("10:00-12:00 FREQ=MONTHLY;BYDAY=-1TU");
	g_assert_true(walk_in_schedules_overlap(&monday, &monday_late));
	g_assert_false(walk_in_schedules_overlap(&monday, &monday_after));
	g_assert_false(walk_in_schedules_overlap(&monday, &tuesday));
	g_assert_false(walk_in_schedules_overlap(&first, &second));
	g_assert_true(walk_in_schedules_overlap(&fourth, &last));
	g_assert_true(walk_in_schedules_overlap(&tuesday_late_morning,
						&first));
	g_assert_false(walk_in_schedules_overlap(&tuesday, &first));
	/* The same hours in years that never meet. */
	g_date_set_dmy(&monday_late.from, 1, 1, 2027);
	g_date_set_dmy(&monday.until, 31, 12, 2026);
	g_assert_false(walk_in_schedules_overlap(&monday, &monday_late));
}

static void
test_bad_window_texts(void)
{
	const char *bad[] = {
		"1300-1600 FREQ=WEEKLY;BYDAY=MO",
		"13:00-16:00",
		"13:00-16:60 FREQ=WEEKLY;BYDAY=MO",
		"13:00-16:00 FREQ=WEEKLY;BYDAY=XX",
	};

	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		WalkInSchedule s = { 0 };
		g_autoptr(GError) error = NULL;

		g_assert_false(walk_in_schedule_parse(bad[i], &s, &error));
		g_assert_error(error, WALK_IN_RULES_ERROR, 0);
	}
}

static void
test_queue_places(void)
{
	/* Lohja: one counsellor, 3 hours, 30 minutes a visitor. */
	g_assert_cmpuint(walk_in_queue_places(1, 180, 30), ==, 6);
	/* Two counsellors, 2 hours, 45 minutes: 240 / 45 = 5.33. */
	g_assert_cmpuint(walk_in_queue_places(2, 120, 45), ==, 5);
	g_assert_cmpuint(walk_in_queue_places(1, 20, 30), ==, 1);
}

static void
test_checkin_window(void)
{
	const gint64 end = MONDAY_13 + MINUTES(180);

	g_assert_cmpint(walk_in_checkin_state(MONDAY_13, end, 15,
					      MONDAY_13 - MINUTES(30)), ==,
			WALK_IN_CHECKIN_TOO_EARLY);
	g_assert_cmpint(walk_in_checkin_state(MONDAY_13, end, 15,
					      MONDAY_13 - MINUTES(15) - 1), ==,
			WALK_IN_CHECKIN_TOO_EARLY);
	g_assert_cmpint(walk_in_checkin_state(MONDAY_13, end, 15,
					      MONDAY_13 - MINUTES(15)), ==,
			WALK_IN_CHECKIN_OPEN);
	g_assert_cmpint(walk_in_checkin_state(MONDAY_13, end, 15, end - 1), ==,
			WALK_IN_CHECKIN_OPEN);
	g_assert_cmpint(walk_in_checkin_state(MONDAY_13, end, 15, end), ==,
			WALK_IN_CHECKIN_CLOSED);
	g_assert_cmpint(walk_in_checkin_opens(MONDAY_13, 15), ==,
			MONDAY_13 - 900);
}

static void
test_tickets_never_reused(void)
{
	const WalkInQueueEntry seen[] = {
		{ 1, FALSE }, { 2, TRUE }, { 3, TRUE },
	};

	g_assert_cmpuint(walk_in_next_ticket(NULL, 0, 0), ==, 1);
	g_assert_cmpuint(walk_in_next_ticket(seen, 3, 0), ==, 4);
	/* Tickets 4 and 5 were cancelled and are out of sight. */
	g_assert_cmpuint(walk_in_next_ticket(seen, 3, 5), ==, 6);
	g_assert_true(walk_in_status_waiting("booked"));
	g_assert_true(walk_in_status_waiting("checked-in"));
	g_assert_true(walk_in_status_waiting("arrived"));
	g_assert_false(walk_in_status_waiting("fulfilled"));
	g_assert_false(walk_in_status_waiting("noshow"));
	g_assert_false(walk_in_status_waiting("cancelled"));
}

static void
test_positions_and_estimates(void)
{
	WalkInQueueEntry queue[6];
	const gint64 now = MONDAY_13 - MINUTES(10);

	for (guint i = 0; i < 6; i++)
		queue[i] = (WalkInQueueEntry){ i + 1, TRUE };
	for (guint t = 1; t <= 6; t++) {
		g_assert_cmpuint(walk_in_queue_position(queue, 6, t), ==, t);
		g_assert_cmpint(walk_in_estimated_start(now, MONDAY_13, t, 1,
							30), ==,
				MONDAY_13 + MINUTES(30) * (t - 1));
	}
	queue[0].waiting = FALSE; /* #1 seen */
	queue[2].waiting = FALSE; /* #3 left */
	g_assert_cmpuint(walk_in_queue_length(queue, 6), ==, 4);
	g_assert_cmpuint(walk_in_queue_position(queue, 6, 4), ==, 2);
	/* Two counsellors take two visitors at a time. */
	g_assert_cmpint(walk_in_estimated_start(now, MONDAY_13, 2, 2, 30), ==,
			MONDAY_13);
	g_assert_cmpint(walk_in_estimated_start(now, MONDAY_13, 3, 2, 30), ==,
			MONDAY_13 + MINUTES(30));
	/* Once the session runs, the estimate counts from now. */
	g_assert_cmpint(walk_in_estimated_start(MONDAY_13 + MINUTES(70),
						MONDAY_13, 2, 1, 30), ==,
			MONDAY_13 + MINUTES(100));
}

static void
test_arrival_rates(void)
{
	/* 12 check-ins over eight 3-hour Monday sessions. */
	g_assert_cmpfloat_with_epsilon(walk_in_arrivals_per_hour(12, 8, 180),
				       0.5, 1e-12);
	g_assert_cmpfloat(walk_in_arrivals_per_hour(3, 0, 180), ==, 0.0);
}

void
test_rules_add(void)
{
	g_test_add_func("/walk-in/rules/window/lohja-monday-13-16",
			test_lohja_monday_window);
	g_test_add_func("/walk-in/rules/window/northern-rotation-tuesdays",
			test_northern_tuesdays);
	g_test_add_func("/walk-in/rules/window/last-tuesday-and-its-hours",
			test_last_weekday_and_time_match);
	g_test_add_func("/walk-in/rules/window/sessions-that-can-overlap",
			test_overlapping_sessions);
	g_test_add_func("/walk-in/rules/window/bad-texts-are-refused",
			test_bad_window_texts);
	g_test_add_func("/walk-in/rules/queue-places/counsellors-times-hours",
			test_queue_places);
	g_test_add_func("/walk-in/rules/checkin/opens-15-minutes-before",
			test_checkin_window);
	g_test_add_func("/walk-in/rules/ticket/never-reused",
			test_tickets_never_reused);
	g_test_add_func("/walk-in/rules/queue/positions-and-estimates",
			test_positions_and_estimates);
	g_test_add_func("/walk-in/rules/arrivals/per-session-hour",
			test_arrival_rates);
}

/* λ = 3 visitors an hour, 30 minutes each (μ = 2 an hour), c = 2:
 * a = 1.5 Erlang, ρ = 0.75. Erlang C = (a²/2! · c/(c−a)) /
 * (1 + a + a²/2! · c/(c−a)) = 4.5 / 7 = 0.642857; Wq = C / (cμ − λ)
 * = 0.642857 h = 38.571 min; Lq = λ·Wq = 1.928571; P(wait <= 20 min)
 * = 1 − C·e^(−(cμ−λ)·1/3 h) = 1 − 0.642857 · 0.716531 = 0.539373.
 * With c = 3: C = 1.125 / 4.75 = 0.236842, Wq = C / 3 h = 4.737 min,
 * within 20 minutes, so three counsellors are needed. */
static void
test_two_counsellor_session(void)
{
	const WalkInStaffingInput input = {
		.arrivals_per_hour = 3.0,
		.service_minutes = 30.0,
		.staff_rostered = 2,
		.target_wait_minutes = 20.0,
	};
	WalkInStaffing staffing;

	walk_in_staffing_compute(&input, &staffing);
	g_assert_cmpfloat_with_epsilon(staffing.expected_wait_minutes,
				       38.571429, 1e-5);
	g_assert_cmpfloat_with_epsilon(staffing.expected_queue_length,
				       1.928571, 1e-5);
	g_assert_cmpfloat_with_epsilon(staffing.utilisation, 0.75, 1e-9);
	g_assert_cmpfloat_with_epsilon(staffing.service_level, 0.539373, 1e-5);
	g_assert_cmpuint(staffing.staff_needed, ==, 3);
}

/* The Lohja pilot saw about one visitor an hour: λ = 1, 30 minutes,
 * c = 1, a = ρ = 0.5; C = ρ = 0.5, Wq = 0.5 / (2 − 1) h = 30 min, over
 * a 20-minute target, so two are needed (c = 2: C = 0.1667 / 1.6667 = 0.1,
 * Wq = 0.1 / 3 h = 2 min). */
static void
test_lohja_single_counsellor(void)
{
	const WalkInStaffingInput input = {
		.arrivals_per_hour = 1.0,
		.service_minutes = 30.0,
		.staff_rostered = 1,
		.target_wait_minutes = 20.0,
	};
	WalkInStaffing staffing;

	walk_in_staffing_compute(&input, &staffing);
	g_assert_cmpfloat_with_epsilon(staffing.expected_wait_minutes, 30.0,
				       1e-6);
	g_assert_cmpfloat_with_epsilon(staffing.expected_queue_length, 0.5,
				       1e-6);
	g_assert_cmpuint(staffing.staff_needed, ==, 2);
}

/* At λ = 4 an hour of 30 minutes the load is 2 Erlang: two counsellors
 * are saturated and the queue grows without bound. */
static void
test_saturated_and_unstaffed(void)
{
	WalkInStaffingInput input = {
		.arrivals_per_hour = 4.0,
		.service_minutes = 30.0,
		.staff_rostered = 2,
		.target_wait_minutes = 20.0,
	};
	WalkInStaffing staffing;

	walk_in_staffing_compute(&input, &staffing);
	g_assert_true(isinf(staffing.expected_wait_minutes));
	g_assert_cmpfloat(staffing.service_level, <, 1e-9);
	g_assert_cmpuint(staffing.staff_needed, ==, 3);
	input.staff_rostered = 0;
	walk_in_staffing_compute(&input, &staffing);
	g_assert_true(isinf(staffing.expected_queue_length));
	g_assert_cmpfloat(staffing.service_level, ==, 0.0);
}

void
test_staffing_add(void)
{
	g_test_add_func("/walk-in/staffing/two-counsellors-three-an-hour",
			test_two_counsellor_session);
	g_test_add_func("/walk-in/staffing/lohja-one-counsellor-one-an-hour",
			test_lohja_single_counsellor);
	g_test_add_func("/walk-in/staffing/saturated-and-unstaffed",
			test_saturated_and_unstaffed);
}
