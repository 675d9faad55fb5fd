/* Home hospital: tests of the shift, episode, visit and staffing
 * arithmetic, with values worked out by hand from docs/region.md (Home hospital) and
 * §8 (shifts D 07:00-15:30, E 14:30-22:30, N 22:00-07:30). */
#include "rules.h"
#include "staffing.h"
#include "test-home-hospital.h"

#include <string.h>

static void
make_shift(HhShift *shift, const char *name, const char *text, guint nurses)
{
	int start, end;

	g_assert_true(hh_parse_window_times(text, &start, &end));
	shift->name = g_strdup(name);
	shift->start_minute = start;
	shift->length_minutes = end - start;
	shift->nurses = nurses;
	shift->swedish = FALSE;
}

static void
clear_shifts(HhShift *shifts, guint n)
{
	for (guint i = 0; i < n; i++)
		hh_shift_clear(&shifts[i]);
}

static void
test_window_times(void)
{
	int start, end;

	g_assert_true(
		hh_parse_window_times("22:00-07:30 FREQ=DAILY", &start, &end));
	g_assert_cmpint(start, ==, 22 * 60);
	g_assert_cmpint(end, ==, 24 * 60 + 7 * 60 + 30);
	g_assert_true(hh_parse_window_times("07:00-15:30", &start, &end));
	g_assert_cmpint(end - start, ==, 510);
	g_assert_false(hh_parse_window_times("7:00-15:30", &start, &end));
	g_assert_false(hh_parse_window_times("07:00-25:00", &start, &end));
	g_assert_false(hh_parse_window_times("07:00-15:30x", &start, &end));
}

/* Lohja: three shifts, each owns its slots until the next one starts:
 * day 07:00-14:30 (7.5 h), evening 14:30-22:00 (7.5 h), night
 * 22:00-07:00 (9 h): 24 h exactly, nothing counted twice. */
static void
test_handover_owned_by_next_shift(void)
{
	HhShift shifts[3];
	int total = 0;

	make_shift(&shifts[0], "day", "07:00-15:30 FREQ=DAILY", 3);
	make_shift(&shifts[1], "evening", "14:30-22:30 FREQ=DAILY", 2);
	make_shift(&shifts[2], "night", "22:00-07:30 FREQ=DAILY", 1);
	hh_shifts_assign_ownership(shifts, 3);
	g_assert_cmpint(shifts[0].owned_minutes, ==, 450);
	g_assert_cmpint(shifts[1].owned_minutes, ==, 450);
	g_assert_cmpint(shifts[2].owned_minutes, ==, 540);
	for (guint i = 0; i < 3; i++)
		total += shifts[i].owned_minutes;
	g_assert_cmpint(total, ==, 24 * 60);
	g_assert_cmpstr(hh_shift_at(shifts, 3, 6 * 60 + 59)->name, ==, "night");
	g_assert_cmpstr(hh_shift_at(shifts, 3, 7 * 60)->name, ==, "day");
	g_assert_cmpstr(hh_shift_at(shifts, 3, 14 * 60 + 29)->name, ==, "day");
	g_assert_cmpstr(hh_shift_at(shifts, 3, 14 * 60 + 30)->name, ==,
			"evening");
	g_assert_cmpstr(hh_shift_at(shifts, 3, 22 * 60)->name, ==, "night");
	g_assert_cmpstr(hh_shift_at(shifts, 3, 0)->name, ==, "night");
	clear_shifts(shifts, 3);
}

/* Raasepori has no night team: the evening keeps its whole 8 h and the
 * night hours belong to nobody. */
static void
test_no_night_leaves_a_gap(void)
{
	HhShift shifts[2];

	make_shift(&shifts[0], "day", "07:00-15:30 FREQ=DAILY", 2);
	make_shift(&shifts[1], "evening", "14:30-22:30 FREQ=DAILY", 1);
	hh_shifts_assign_ownership(shifts, 2);
	g_assert_cmpint(shifts[0].owned_minutes, ==, 450);
	g_assert_cmpint(shifts[1].owned_minutes, ==, 480);
	g_assert_cmpstr(hh_shift_at(shifts, 2, 22 * 60 + 29)->name, ==,
			"evening");
	g_assert_null(hh_shift_at(shifts, 2, 22 * 60 + 30));
	g_assert_null(hh_shift_at(shifts, 2, 3 * 60));
	clear_shifts(shifts, 2);
}

/* q8h over 3-10 days: 3 visits a day, 9 to 30 visits; a 5-day course
 * is the 15 visits of the scenario. */
static void
test_builtin_visit_ranges(void)
{
	guint fewest, most;

	hh_episode_visit_range(hh_builtin_episode("iv-q8h"), &fewest, &most);
	g_assert_cmpuint(fewest, ==, 9);
	g_assert_cmpuint(most, ==, 30);
	hh_episode_visit_range(hh_builtin_episode("iv-q24h"), &fewest, &most);
	g_assert_cmpuint(fewest, ==, 3);
	g_assert_cmpuint(most, ==, 7);
	hh_episode_visit_range(hh_builtin_episode("iv-q12h"), &fewest, &most);
	g_assert_cmpuint(fewest, ==, 6);
	g_assert_cmpuint(most, ==, 14);
	/* Every 1-3 days for 7-42 days: 7*24/72 = 2 up to 42. */
	hh_episode_visit_range(hh_builtin_episode("palliative"), &fewest,
			       &most);
	g_assert_cmpuint(fewest, ==, 2);
	g_assert_cmpuint(most, ==, 42);
	hh_episode_visit_range(hh_builtin_episode("lab"), &fewest, &most);
	g_assert_cmpuint(fewest, ==, 1);
	g_assert_cmpuint(most, ==, 1);
	g_assert_null(hh_builtin_episode("iv-q6h"));
}

static void
test_parse_overrides_one_field(void)
{
	HhEpisode episode = *hh_builtin_episode("iv-q8h");
	g_autofree char *problem = NULL;
	guint fewest, most;

	g_assert_true(hh_episode_parse("days=5-10", &episode, &problem));
	hh_episode_visit_range(&episode, &fewest, &most);
	g_assert_cmpuint(fewest, ==, 15);
	g_assert_cmpuint(most, ==, 30);
	g_assert_cmpuint(episode.visit, ==, 40);
	g_assert_cmpuint(episode.first_visit, ==, 60);
	/* A later visit longer than the first stretches the first too. */
	g_assert_true(hh_episode_parse("visit=90", &episode, &problem));
	g_assert_cmpuint(episode.first_visit, ==, 90);
	g_assert_true(hh_episode_parse("interval=24h-72h tolerance=3h "
				       "visit=1h first-visit=75m",
				       &episode, &problem));
	g_assert_cmpuint(episode.interval_min, ==, 1440);
	g_assert_cmpuint(episode.interval_max, ==, 4320);
	g_assert_cmpuint(episode.tolerance, ==, 180);
	g_assert_cmpuint(episode.visit, ==, 60);
	g_assert_cmpuint(episode.first_visit, ==, 75);
	g_assert_null(problem);
}

static void
assert_refused(const char *spec, const char *needle)
{
	HhEpisode episode = *hh_builtin_episode("iv-q8h");
	g_autofree char *problem = NULL;

	g_assert_false(hh_episode_parse(spec, &episode, &problem));
	g_assert_nonnull(strstr(problem, needle));
}

static void
test_parse_refuses_nonsense(void)
{
	assert_refused("interval=0h", "bad interval");
	assert_refused("days=3h", "bad days");
	assert_refused("days=7-3", "bad days");
	assert_refused("colour=red", "bad colour");
	assert_refused("visit", "not KEY=VALUE");
	assert_refused("tolerance=8h", "shorter than the interval");
}

/* q8h with ±2 h: 6 h to 10 h between visits, counted in real time. */
static void
test_spacing_window(void)
{
	const HhEpisode *q8h = hh_builtin_episode("iv-q8h");

	g_assert_cmpint(hh_episode_check_spacing(q8h, 8 * 3600), ==,
			HH_SPACING_OK);
	g_assert_cmpint(hh_episode_check_spacing(q8h, 6 * 3600), ==,
			HH_SPACING_OK);
	g_assert_cmpint(hh_episode_check_spacing(q8h, 6 * 3600 - 60), ==,
			HH_SPACING_TOO_SOON);
	g_assert_cmpint(hh_episode_check_spacing(q8h, 10 * 3600), ==,
			HH_SPACING_OK);
	g_assert_cmpint(hh_episode_check_spacing(q8h, 10 * 3600 + 60), ==,
			HH_SPACING_TOO_LATE);
	g_assert_cmpint(hh_episode_check_spacing(q8h, -8 * 3600), ==,
			HH_SPACING_TOO_SOON);
}

/* Lohja base: first q8h visit 60 min + 15 min inside Lohja each way =
 * 90 min (3 slots); Karkkila is 35 min away: 60 + 70 = 130 -> 150. */
static void
test_run_rounds_to_whole_slots(void)
{
	g_assert_cmpuint(hh_visit_run_minutes(60, 15, 30), ==, 90);
	g_assert_cmpuint(hh_visit_run_minutes(40, 15, 30), ==, 90);
	g_assert_cmpuint(hh_visit_run_minutes(60, 35, 30), ==, 150);
	g_assert_cmpuint(hh_visit_run_minutes(40, 35, 30), ==, 120);
	g_assert_cmpuint(hh_visit_run_minutes(20, 10, 15), ==, 45);
	g_assert_cmpuint(hh_visit_run_minutes(20, 10, 0), ==, 40);
}

static void
test_mean_visit_and_format(void)
{
	g_autofree char *q8h =
		hh_episode_format_interval(hh_builtin_episode("iv-q8h"));
	g_autofree char *palliative =
		hh_episode_format_interval(hh_builtin_episode("palliative"));
	g_autofree char *mixed = hh_format_duration(9000);

	/* q24h: 5 visits on average, (60 + 4 * 40) / 5 = 44 min. */
	g_assert_cmpfloat_with_epsilon(
		hh_episode_mean_visit(hh_builtin_episode("iv-q24h")), 44.0,
		1e-9);
	g_assert_cmpstr(q8h, ==, "8 h");
	g_assert_cmpstr(palliative, ==, "24-72 h");
	g_assert_cmpstr(mixed, ==, "2 h 30 min");
}

/* Lohja day team: 3 nurses x 8.5 h x 0.75 = 1147.5 productive minutes.
 * 12 visits of 44 min on site + 47.5 min driving (Lohja 15, Vihti 20,
 * Karkkila 35, Siuntio 25 one way, equally likely) = 1098 minutes:
 * 2.87 -> 3 nurses, 95.7 % busy, 12 visits over 7.5 h = 1.6 an hour. */
static void
test_staffing_lohja_day(void)
{
	int one_way[] = { 15, 20, 35, 25 };
	HhStaffingInput input = {
		.visits_per_day = 12,
		.minutes_per_visit =
			44 + hh_staffing_mean_round_trip(one_way, 4),
		.shift_hours = 8.5,
		.owned_hours = 7.5,
		.productive_share = 0.75,
		.rostered = 3,
	};
	HhStaffingFigures figures;

	g_assert_cmpfloat_with_epsilon(input.minutes_per_visit, 91.5, 1e-9);
	hh_staffing_compute(&input, &figures);
	g_assert_cmpfloat_with_epsilon(figures.demand_minutes, 1098, 1e-9);
	g_assert_cmpfloat_with_epsilon(figures.capacity_minutes, 1147.5, 1e-9);
	g_assert_cmpuint(figures.staff_needed, ==, 3);
	g_assert_cmpfloat_with_epsilon(figures.utilisation, 1098 / 1147.5,
				       1e-9);
	g_assert_cmpfloat_with_epsilon(figures.arrivals_per_hour, 1.6, 1e-9);
	g_assert_cmpfloat_with_epsilon(figures.service_level, 1.0, 1e-9);

	/* 14 visits: 1281 min, 3.35 -> 4 nurses; 3 serve 1147.5/1281. */
	input.visits_per_day = 14;
	hh_staffing_compute(&input, &figures);
	g_assert_cmpuint(figures.staff_needed, ==, 4);
	g_assert_cmpfloat_with_epsilon(figures.service_level, 1147.5 / 1281,
				       1e-9);
	/* What if a fourth nurse: 1530 minutes, 83.7 % busy. */
	input.rostered = 4;
	hh_staffing_compute(&input, &figures);
	g_assert_cmpfloat_with_epsilon(figures.utilisation, 1281 / 1530.0,
				       1e-9);
	g_assert_cmpfloat_with_epsilon(figures.service_level, 1.0, 1e-9);
}

static void
test_staffing_edges(void)
{
	HhStaffingInput input = {
		.visits_per_day = 2,
		.minutes_per_visit = 90,
		.shift_hours = 9.5,
		.owned_hours = 9,
		.productive_share = 0.75,
		.rostered = 0,
	};
	HhStaffingFigures figures;
	double weights[] = { 3 * 450.0, 2 * 450.0, 1 * 540.0 };
	double zero[] = { 0, 0 };
	double parts[3];

	hh_staffing_compute(&input, &figures);
	g_assert_cmpuint(figures.staff_needed, ==, 1);
	g_assert_cmpfloat(figures.utilisation, ==, -1.0);
	g_assert_cmpfloat(figures.service_level, ==, 0.0);
	input.visits_per_day = 0;
	hh_staffing_compute(&input, &figures);
	g_assert_cmpuint(figures.staff_needed, ==, 0);
	g_assert_cmpfloat(figures.service_level, ==, 1.0);
	/* 28 visits over Lohja's nurse minutes 1350 : 900 : 540. */
	hh_staffing_split(28, weights, 3, parts);
	g_assert_cmpfloat_with_epsilon(parts[0], 28 * 1350 / 2790.0, 1e-9);
	g_assert_cmpfloat_with_epsilon(parts[2], 28 * 540 / 2790.0, 1e-9);
	hh_staffing_split(10, zero, 2, parts);
	g_assert_cmpfloat(parts[1], ==, 5.0);
}

void
hh_test_add_rules(void)
{
	g_test_add_func("/home-hospital/shifts/window-times-parse",
			test_window_times);
	g_test_add_func("/home-hospital/shifts/handover-owned-by-next-shift",
			test_handover_owned_by_next_shift);
	g_test_add_func("/home-hospital/shifts/raasepori-no-night-gap",
			test_no_night_leaves_a_gap);
	g_test_add_func("/home-hospital/episode/builtin-visit-ranges",
			test_builtin_visit_ranges);
	g_test_add_func("/home-hospital/episode/parse-overrides-one-field",
			test_parse_overrides_one_field);
	g_test_add_func("/home-hospital/episode/parse-refuses-nonsense",
			test_parse_refuses_nonsense);
	g_test_add_func("/home-hospital/episode/q8h-spacing-6-to-10-hours",
			test_spacing_window);
	g_test_add_func("/home-hospital/visit/run-rounds-to-whole-slots",
			test_run_rounds_to_whole_slots);
	g_test_add_func("/home-hospital/episode/mean-visit-and-labels",
			test_mean_visit_and_format);
	g_test_add_func("/home-hospital/staffing/lohja-day-shift",
			test_staffing_lohja_day);
	g_test_add_func("/home-hospital/staffing/empty-shift-and-split",
			test_staffing_edges);
}
