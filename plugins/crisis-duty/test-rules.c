/* crisis-duty: tests of the pure arithmetic (rules.c, plan-rules.c).
 * Times are built by hand in UTC; 2026-03-10 is a Tuesday in winter
 * time (UTC+2), so local 15:00 is 13:00 UTC. */
#include "test-crisis-duty.h"

#include <math.h>

/* Local hh:mm on 2026-03-10: 00:00 UTC of that day is 02:00 local. */
#define T(hh, mm) \
	(G_GINT64_CONSTANT(1773100800) + ((hh) - 2) * 3600 + (mm) * 60)

static void test_contact_costs(void)
{
	SlotdCost cost;

	crisis_contact_cost(CRISIS_CONTACT_PHONE, 30, 0, &cost);
	g_assert_cmpuint(cost.seats, ==, 1);
	g_assert_cmpuint(cost.minutes, ==, 30);
	/* Espoo (Jorvi) to Hanko is 90 minutes one way. */
	crisis_contact_cost(CRISIS_CONTACT_FIELD, 90, 90, &cost);
	g_assert_cmpuint(cost.seats, ==, 2);
	g_assert_cmpuint(cost.minutes, ==, 270);
	/* An office meeting takes a pair but never travels. */
	crisis_contact_cost(CRISIS_CONTACT_OFFICE, 60, 35, &cost);
	g_assert_cmpuint(cost.seats, ==, 2);
	g_assert_cmpuint(cost.minutes, ==, 60);
}

static void test_contact_names(void)
{
	CrisisContact contact = CRISIS_CONTACT_PHONE;

	g_assert_true(crisis_contact_parse("field", &contact));
	g_assert_cmpint(contact, ==, CRISIS_CONTACT_FIELD);
	g_assert_false(crisis_contact_parse("chat", &contact));
	g_assert_false(crisis_contact_parse(NULL, &contact));
	g_assert_cmpstr(crisis_contact_name(CRISIS_CONTACT_OFFICE), ==,
			"office");
	g_assert_cmpint(crisis_contact_for_modality("home"), ==,
			CRISIS_CONTACT_FIELD);
	g_assert_cmpint(crisis_contact_for_modality("onsite"), ==,
			CRISIS_CONTACT_OFFICE);
	g_assert_cmpint(crisis_contact_for_modality("video"), ==,
			CRISIS_CONTACT_PHONE);
	g_assert_cmpint(crisis_contact_for_modality(NULL), ==,
			CRISIS_CONTACT_PHONE);
}

static void test_urgency_limits(void)
{
	gint64 now = T(8, 0);

	g_assert_cmpint(crisis_respond_by(CRISIS_URGENCY_URGENT, now, 3, 30),
			==, T(11, 0));
	g_assert_cmpint(crisis_respond_by(CRISIS_URGENCY_IMMEDIATE, now, 3,
					  30), ==, T(8, 30));
	g_assert_cmpint(crisis_respond_by(CRISIS_URGENCY_ROUTINE, now, 3, 30),
			==, G_MAXINT64);
	g_assert_cmpint(crisis_urgency_parse("immediate"), ==,
			CRISIS_URGENCY_IMMEDIATE);
	g_assert_cmpint(crisis_urgency_parse(NULL), ==,
			CRISIS_URGENCY_ROUTINE);
}

static void test_slot_in_progress(void)
{
	gint64 now = T(16, 5);

	/* The 16:00 slot is in progress at 16:05. */
	g_assert_false(crisis_slot_open(CRISIS_URGENCY_ROUTINE, T(16, 0),
					T(16, 15), now));
	g_assert_true(crisis_slot_open(CRISIS_URGENCY_URGENT, T(16, 0),
				       T(16, 15), now));
	g_assert_true(crisis_slot_open(CRISIS_URGENCY_IMMEDIATE, T(16, 0),
				       T(16, 15), now));
	/* The 15:45 slot is over for everyone. */
	g_assert_false(crisis_slot_open(CRISIS_URGENCY_IMMEDIATE, T(15, 45),
					T(16, 0), now));
	g_assert_true(crisis_slot_open(CRISIS_URGENCY_ROUTINE, T(16, 15),
				       T(16, 30), now));
}

/* W-SKP's evening (15:00-23:00, 6 staff) and the first hour of the
 * night (4 staff) in quarter-hour slots. */
static GArray *evening_and_night(void)
{
	GArray *slots = g_array_new(FALSE, TRUE, sizeof(SlotdSlotInfo));

	for (gint64 t = T(15, 0); t < T(24, 0); t += 900) {
		gboolean night = t >= T(23, 0);
		SlotdSlotInfo slot = {
			.id = "s", .kind = night ? "night" : "evening",
			.start = t, .end = t + 900,
			.capacity = night ? 4 : 6,
		};

		g_array_append_val(slots, slot);
	}
	return slots;
}

static void test_run_within_shift(void)
{
	g_autoptr(GArray) slots = evening_and_night();
	SlotdSlotInfo *s = (SlotdSlotInfo *)slots->data;
	SlotdCost visit = { 2, 270 };

	g_assert_cmpuint(slots->len, ==, 36);
	/* 15:00 + 270 min = 19:30: 18 evening slots. */
	g_assert_cmpint(crisis_run_end(&s[0], &visit), ==, T(19, 30));
	/* 18:30 + 270 min = 23:00, when the night shift begins. */
	g_assert_cmpint(crisis_run_end(&s[14], &visit), ==, T(23, 0));
}

static void test_swedish_overlap(void)
{
	/* One sv call 02:00-02:30, one sv field visit 01:00-03:00. */
	CrisisSpan spans[] = {
		{ T(2, 0), T(2, 30) },
		{ T(1, 0), T(3, 0) },
	};

	g_assert_cmpuint(crisis_peak_overlap(spans, 2, T(2, 0), T(2, 30)),
			 ==, 2);
	g_assert_cmpuint(crisis_peak_overlap(spans, 2, T(2, 30), T(3, 0)),
			 ==, 1);
	g_assert_cmpuint(crisis_peak_overlap(spans, 2, T(3, 0), T(3, 30)),
			 ==, 0);
	/* One speaker: free once both are done, at 03:00. */
	g_assert_cmpint(crisis_next_free(spans, 2, 1, T(2, 0), 1800), ==,
			T(3, 0));
	/* Two speakers: the call ends at 02:30. */
	g_assert_cmpint(crisis_next_free(spans, 2, 2, T(2, 0), 1800), ==,
			T(2, 30));
	g_assert_cmpint(crisis_next_free(spans, 2, 3, T(2, 0), 1800), ==,
			T(2, 0));
	g_assert_cmpint(crisis_next_free(spans, 2, 0, T(2, 0), 1800), ==,
			G_MAXINT64);
}

static void test_profile_rates(void)
{
	CrisisProfile profile;
	double mean = crisis_monthly_to_hourly(1200), sum = 0;

	crisis_profile_default(&profile);
	/* 1200 * 12 / (365.25 * 24) = 1.642710 contacts an hour. */
	g_assert_cmpfloat_with_epsilon(mean, 1.642710, 1e-6);
	for (guint h = 0; h < CRISIS_HOURS_PER_WEEK; h++)
		sum += crisis_profile_rate(&profile, mean, h);
	g_assert_cmpfloat_with_epsilon(sum / CRISIS_HOURS_PER_WEEK, mean,
				       1e-9);
	/* Monday 04:00 weighs 0.4, Monday 18:00 1.6, Saturday 18:00
	 * 1.6 * 1.1. */
	g_assert_cmpfloat_with_epsilon(crisis_profile_rate(&profile, mean, 4),
				       0.657084, 1e-6);
	g_assert_cmpfloat_with_epsilon(crisis_profile_rate(&profile, mean, 18),
				       2.628337, 1e-6);
	g_assert_cmpfloat_with_epsilon(
		crisis_profile_rate(&profile, mean, 5 * 24 + 18), 2.891170,
		1e-6);
}

static void test_profile_parse(void)
{
	const char *const week[] = { "1", "1", "1", "1", "2", "2", "0", NULL };
	const char *const bad[] = { "1", "1", "x", "1", "1", "1", "1", NULL };
	const char *const zero[] = { "0", "0", "0", "0", "0", "0", "0", NULL };
	g_autoptr(GError) error = NULL;
	CrisisProfile profile;

	crisis_profile_default(&profile);
	g_assert_true(crisis_profile_parse(week, profile.day, 7, &error));
	g_assert_no_error(error);
	/* Friday weighs 2 of a mean of 8/7. */
	g_assert_cmpfloat_with_epsilon(
		crisis_profile_rate(&profile, 1.0, 4 * 24 + 9), 1.75, 1e-9);
	g_assert_false(crisis_profile_parse(bad, profile.day, 7, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	g_assert_false(crisis_profile_parse(zero, profile.day, 7, &error));
	g_clear_error(&error);
	g_assert_false(crisis_profile_parse(week, profile.hour, 24, &error));
}

static void test_staff_in_hour(void)
{
	/* Morning 2 until 15:00, evening 6; a satellite pair 15:30-23:00. */
	CrisisStaffSpan spans[] = {
		{ T(7, 0), T(15, 0), 2 },
		{ T(15, 0), T(23, 0), 6 },
		{ T(15, 30), T(23, 0), 2 },
	};

	g_assert_cmpuint(crisis_staff_at(spans, 3, T(14, 59)), ==, 2);
	g_assert_cmpuint(crisis_staff_at(spans, 3, T(15, 30)), ==, 8);
	g_assert_cmpuint(crisis_staff_in_hour(spans, 3, T(14, 0)), ==, 2);
	/* 15:00-16:00: the pair arrives at :30, the thinner half counts. */
	g_assert_cmpuint(crisis_staff_in_hour(spans, 3, T(15, 0)), ==, 6);
	g_assert_cmpuint(crisis_staff_in_hour(spans, 3, T(16, 0)), ==, 8);
	g_assert_cmpuint(crisis_staff_in_hour(spans, 3, T(23, 0)), ==, 0);
}

static void test_extra_staff_range(void)
{
	g_assert_true(crisis_hour_in_range(10, 0, 168));
	g_assert_false(crisis_hour_in_range(10, 10, 10));
	/* Sunday 16:00 to Monday 08:00 wraps over the week's end. */
	g_assert_true(crisis_hour_in_range(165, 160, 8));
	g_assert_true(crisis_hour_in_range(7, 160, 8));
	g_assert_false(crisis_hour_in_range(8, 160, 8));
	g_assert_cmpuint(crisis_roster_with_extra(4, 1), ==, 5);
	g_assert_cmpuint(crisis_roster_with_extra(1, -3), ==, 0);
}

void crisis_test_add_rules(void)
{
	g_test_add_func("/crisis-duty/rules/each-contact-costs-its-staff-"
			"and-minutes", test_contact_costs);
	g_test_add_func("/crisis-duty/rules/contacts-are-named-or-follow-"
			"the-modality", test_contact_names);
	g_test_add_func("/crisis-duty/rules/urgent-is-3-hours-immediate-"
			"30-minutes", test_urgency_limits);
	g_test_add_func("/crisis-duty/rules/only-urgent-contacts-take-the-"
			"slot-in-progress", test_slot_in_progress);
	g_test_add_func("/crisis-duty/rules/a-contact-ends-within-its-shift",
			test_run_within_shift);
	g_test_add_func("/crisis-duty/rules/swedish-speakers-free-when-"
			"their-contacts-end", test_swedish_overlap);
	g_test_add_func("/crisis-duty/rules/profile-keeps-the-weekly-mean",
			test_profile_rates);
	g_test_add_func("/crisis-duty/rules/profile-weights-parse-or-are-"
			"refused", test_profile_parse);
	g_test_add_func("/crisis-duty/rules/an-hour-counts-its-thinnest-"
			"quarter", test_staff_in_hour);
	g_test_add_func("/crisis-duty/rules/extra-staff-hours-wrap-over-"
			"sunday-night", test_extra_staff_range);
}
