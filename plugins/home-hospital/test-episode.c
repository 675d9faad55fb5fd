/* Home hospital: care episodes booked with BookSeries through the real
 * capacity engine. Expected values are worked out from the example
 * configuration: W-HH-LOH has 3 day, 2 evening and 1 night nurse in
 * 30-minute slots; Lohja's internal drive is 25 min (region.conf), so a
 * first q8h visit takes 60 + 2 x 25 = 110 -> 120 min of a nurse and a
 * later one 40 + 50 = 90 min. */
#include <string.h>

#include <slotd/plugin.h>

#include "test-home-hospital.h"

#define HOUR 3600

static const Caller test_caller = { 1000, "test-home-hospital" };

/* Books the slots of `unit` starting at `starts` as one series. */
static GPtrArray *
book_series(HhFixture *f, const char *unit, const char *client,
	    GVariant *options, const gint64 *starts, guint n, GError **error)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(options);
	g_autoptr(GPtrArray) slots = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *bookings = NULL;

	for (guint i = 0; i < n; i++)
		g_ptr_array_add(slots, hh_slot_at(f, unit, starts[i]));
	g_ptr_array_add(slots, NULL);
	if (!capacity_book_series(f->capacity, &test_caller,
				  (const char *const *)slots->pdata, client,
				  sunk, &bookings, error))
		return NULL;
	return bookings;
}

static char *
book_one(HhFixture *f, const char *unit, gint64 start, const char *client,
	 GVariant *options, GError **error)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(options);
	g_autofree char *slot = hh_slot_at(f, unit, start);
	char *booking = NULL;

	if (!capacity_book(f->capacity, &test_caller, slot, client, sunk,
			   &booking, error))
		return NULL;
	return booking;
}

/* Visits at 07:00, 15:00 and 23:00 local: day, evening and night. */
static void
q8h_starts(gint64 *ret_starts, guint days, int first_day)
{
	static const int hours[] = { 7, 15, 23 };

	for (guint i = 0; i < days * 3; i++)
		ret_starts[i] = hh_local(2026, 3, first_day + (int)(i / 3),
					 hours[i % 3], 0);
}

static GPtrArray *
book_lohja_q8h(HhFixture *f, const char *client)
{
	gint64 starts[15];
	g_autoptr(GError) error = NULL;
	GPtrArray *bookings;

	q8h_starts(starts, 5, 2);
	bookings = book_series(f, "W-HH-LOH", client,
			       hh_options("Lohja", "fi", "iv-q8h"), starts, 15,
			       &error);
	g_assert_no_error(error);
	g_assert_nonnull(bookings);
	return bookings;
}

static gint64
booking_int64(GVariant *booking, const char *key)
{
	gint64 value = -1;

	g_assert_true(g_variant_lookup(booking, key, "x", &value));
	return value;
}

static guint32
booking_uint(GVariant *booking, const char *key)
{
	guint32 value = G_MAXUINT32;

	g_assert_true(g_variant_lookup(booking, key, "u", &value));
	return value;
}

static void
assert_visit(HhFixture *f, const char *id, gint64 start, guint number,
	     const char *shift, guint minutes)
{
	g_autoptr(GVariant) booking = hh_get_booking(f, id);
	const char *text = NULL;

	g_assert_cmpint(booking_int64(booking, "start"), ==, start);
	g_assert_cmpint(booking_int64(booking, "end") - start, ==,
			(gint64)minutes * 60);
	g_assert_cmpuint(booking_uint(booking, "episode-visit"), ==, number);
	g_assert_cmpuint(booking_uint(booking, "episode-visits"), ==, 15);
	g_assert_cmpuint(booking_uint(booking, "round-trip-minutes"), ==, 50);
	g_assert_cmpuint(booking_uint(booking, "visits-that-day"), ==, 3);
	g_assert_true(g_variant_lookup(booking, "shift", "&s", &text));
	g_assert_cmpstr(text, ==, shift);
	g_assert_true(g_variant_lookup(booking, "unit", "&s", &text));
	g_assert_cmpstr(text, ==, "W-HH-LOH");
}

/* The scenario: IV antibiotics every 8 h for 5 days for a
 * client in Lohja, 15 visits booked at once. */
static void
test_q8h_lohja_5_days(HhFixture *f, gconstpointer data)
{
	static const char *const shifts[] = { "day", "evening", "night" };
	g_autoptr(GPtrArray) bookings = NULL;
	gint64 starts[15];

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	bookings = book_lohja_q8h(f, "client-lohja-1");
	q8h_starts(starts, 5, 2);
	g_assert_cmpuint(bookings->len, ==, 15);
	g_assert_cmpuint(hh_count_bookings(f, "client-lohja-1"), ==, 15);
	for (guint i = 0; i < 15; i++)
		assert_visit(f, bookings->pdata[i], starts[i], i + 1,
			     shifts[i % 3], i == 0 ? 120 : 90);
	/* One nurse for 4 slots, then 3 slots for each of 14 visits. */
	g_assert_cmpuint(hh_booked_seats(f, "W-HH-LOH",
					 hh_local(2026, 3, 2, 0, 0),
					 hh_local(2026, 3, 8, 0, 0)),
			 ==, 4 + 14 * 3);
	/* The night nurse is out on the 23:00 visit until 00:30. */
	g_assert_cmpuint(hh_free_at(f, HH_WEST, "W-HH-LOH",
				    hh_local(2026, 3, 3, 0, 0),
				    hh_options("Lohja", NULL, "iv-q8h")),
			 ==, 0);
	g_assert_cmpuint(hh_free_at(f, HH_WEST, "W-HH-LOH",
				    hh_local(2026, 3, 3, 0, 30),
				    hh_options("Lohja", NULL, "iv-q8h")),
			 ==, 1);
}

/* LUVN bills at most three visits per client a day: after the q8h
 * episode a fourth visit on one of its days is refused; another day,
 * or another client, is fine. */
static void
test_fourth_visit_same_day_refused(HhFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) bookings = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *other = NULL;
	g_autofree char *later = NULL;
	char *refused;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	bookings = book_lohja_q8h(f, "client-lohja-2");
	refused = book_one(f, "W-HH-LOH", hh_local(2026, 3, 3, 11, 0),
			   "client-lohja-2", hh_options("Lohja", "fi", "lab"),
			   &error);
	g_assert_null(refused);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_assert_nonnull(strstr(error->message,
				"already has 3 bookings of home-hospital-west "
				"on 2026-03-03"));
	g_assert_cmpuint(hh_count_bookings(f, "client-lohja-2"), ==, 15);
	g_clear_error(&error);
	other = book_one(f, "W-HH-LOH", hh_local(2026, 3, 3, 11, 0),
			 "client-lohja-3", hh_options("Lohja", "fi", "lab"),
			 &error);
	g_assert_no_error(error);
	later = book_one(f, "W-HH-LOH", hh_local(2026, 3, 7, 11, 0),
			 "client-lohja-2", hh_options("Lohja", "fi", "lab"),
			 &error);
	g_assert_no_error(error);
	g_assert_cmpuint(hh_count_bookings(f, "client-lohja-2"), ==, 16);
}

/* Eight visits 8 h apart, then the ninth 12 h after the eighth: the
 * whole series is refused, nothing is booked and no nurse is taken;
 * with the ninth at the right time the same series books. */
static void
test_failing_last_visit_leaves_nothing(HhFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) refused = NULL;
	g_autoptr(GPtrArray) booked = NULL;
	g_autoptr(GError) error = NULL;
	gint64 starts[9];

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	q8h_starts(starts, 3, 2);
	starts[8] = hh_local(2026, 3, 5, 3, 0);
	refused = book_series(f, "W-HH-LOH", "client-lohja-4",
			      hh_options("Vihti", "fi", "iv-q8h"), starts, 9,
			      &error);
	g_assert_null(refused);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_assert_nonnull(strstr(error->message, "visit 9 of 9"));
	g_assert_nonnull(strstr(error->message, "starts 12 h after visit 8"));
	g_assert_cmpuint(hh_count_bookings(f, "client-lohja-4"), ==, 0);
	g_assert_cmpuint(hh_booked_seats(f, "W-HH-LOH",
					 hh_local(2026, 3, 2, 0, 0),
					 hh_local(2026, 3, 6, 0, 0)),
			 ==, 0);
	g_clear_error(&error);
	starts[8] = hh_local(2026, 3, 4, 23, 0);
	booked = book_series(f, "W-HH-LOH", "client-lohja-4",
			     hh_options("Vihti", "fi", "iv-q8h"), starts, 9,
			     &error);
	g_assert_no_error(error);
	g_assert_cmpuint(booked->len, ==, 9);
}

static guint
booked_minutes(HhFixture *f, const char *id)
{
	g_autoptr(GVariant) booking = hh_get_booking(f, id);

	return (guint)((booking_int64(booking, "end") -
			booking_int64(booking, "start")) /
		       60);
}

/* Espoo (25 min inside the city each way): a first q12h visit is
 * 60 + 50 -> 120 min, a follow-up 40 + 50 -> 90 min, and visit-minutes
 * replaces the template: 150 + 50 -> 210 min. */
static void
test_first_visit_is_longer(HhFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *first = NULL;
	g_autofree char *follow_up = NULL;
	g_autofree char *long_visit = NULL;
	GVariantDict options;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	first = book_one(f, "W-HH-ESP", hh_local(2026, 3, 2, 8, 0), "client-e1",
			 hh_options("Espoo", "fi", "iv-q12h"), &error);
	g_assert_no_error(error);
	g_variant_dict_init(&options, hh_options("Esbo", "sv", "iv-q12h"));
	g_variant_dict_insert(&options, "follow-up", "b", TRUE);
	follow_up = book_one(f, "W-HH-ESP", hh_local(2026, 3, 2, 20, 0),
			     "client-e1", g_variant_dict_end(&options), &error);
	g_assert_no_error(error);
	g_variant_dict_init(&options, hh_options("049", "en", "fluids"));
	g_variant_dict_insert(&options, "visit-minutes", "u", 150);
	long_visit =
		book_one(f, "W-HH-ESP", hh_local(2026, 3, 3, 9, 0), "client-e2",
			 g_variant_dict_end(&options), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(booked_minutes(f, first), ==, 120);
	g_assert_cmpuint(booked_minutes(f, follow_up), ==, 90);
	g_assert_cmpuint(booked_minutes(f, long_visit), ==, 210);
}

/* Daylight saving ends on 2026-10-25 (04:00 EEST -> 03:00 EET): a q8h
 * episode keeps 8 h of real time between visits, so from the fourth
 * visit on the local times move an hour earlier (06, 14, 22). A Vihti
 * client is 20 min from Lohja: 60 + 40 -> 120, 40 + 40 -> 90 min. */
static void
test_q8h_across_dst(HhFixture *f, gconstpointer data)
{
	static const char *const local[] = {
		"2026-10-24 07:00", "2026-10-24 15:00", "2026-10-24 23:00",
		"2026-10-25 06:00", "2026-10-25 14:00", "2026-10-25 22:00",
		"2026-10-26 06:00", "2026-10-26 14:00", "2026-10-26 22:00",
	};
	static const char *const shifts[] = { "day",   "evening", "night",
					      "night", "day",	  "night",
					      "night", "day",	  "night" };
	g_autoptr(GPtrArray) bookings = NULL;
	g_autoptr(GError) error = NULL;
	gint64 starts[9];

	hh_fixture_start(f, 2026, 10, 23, 6, 0);
	for (guint i = 0; i < 9; i++)
		starts[i] = hh_local(2026, 10, 24, 7, 0) + i * 8 * HOUR;
	bookings = book_series(f, "W-HH-LOH", "client-vihti-1",
			       hh_options("Vihti", "fi", "iv-q8h"), starts, 9,
			       &error);
	g_assert_no_error(error);
	for (guint i = 0; i < 9; i++) {
		g_autoptr(GVariant) booking =
			hh_get_booking(f, bookings->pdata[i]);
		g_autofree char *when = NULL;
		const char *shift = NULL;

		when = slotd_format_local(booking_int64(booking, "start"));
		g_assert_cmpstr(when, ==, local[i]);
		g_assert_true(g_variant_lookup(booking, "shift", "&s", &shift));
		g_assert_cmpstr(shift, ==, shifts[i]);
		if (i > 0)
			g_assert_cmpint(booking_int64(booking, "start") -
						starts[i - 1],
					==, 8 * HOUR);
		g_assert_cmpuint(booked_minutes(f, bookings->pdata[i]), ==,
				 i == 0 ? 120 : 90);
	}
}

/* Myrskylä is covered by both Porvoo and Loviisa, but one episode is
 * one base's patient: a series that switches base is refused. */
static void
test_all_visits_from_one_base(HhFixture *f, gconstpointer data)
{
	g_autoptr(GVariant) options =
		g_variant_ref_sink(hh_options("Myrskylä", "fi", "iv-q24h"));
	g_autoptr(GPtrArray) bookings = NULL;
	g_autoptr(GError) error = NULL;
	char *slots[4] = { NULL };

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	slots[0] = hh_slot_at(f, "E-HH-POR", hh_local(2026, 3, 2, 9, 0));
	slots[1] = hh_slot_at(f, "E-HH-POR", hh_local(2026, 3, 3, 9, 0));
	slots[2] = hh_slot_at(f, "E-HH-LOV", hh_local(2026, 3, 4, 9, 0));
	g_assert_false(capacity_book_series(
		f->capacity, &test_caller, (const char *const *)slots,
		"client-myr-1", options, &bookings, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_assert_nonnull(strstr(error->message,
				"visit 2 is at E-HH-POR and visit 3 at "
				"E-HH-LOV"));
	g_assert_cmpuint(hh_count_bookings(f, "client-myr-1"), ==, 0);
	for (guint i = 0; i < 3; i++)
		g_free(slots[i]);
}

/* An iv-q24h episode has 3-7 visits: 2 or 8 are refused. */
static void
test_visit_count_outside_template(HhFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) few = NULL;
	g_autoptr(GPtrArray) many = NULL;
	g_autoptr(GError) error = NULL;
	gint64 starts[8];

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	for (guint i = 0; i < 8; i++)
		starts[i] = hh_local(2026, 3, 2 + (int)i, 10, 0);
	few = book_series(f, "W-HH-RAS", "client-ras-1",
			  hh_options("Hanko", "sv", "iv-q24h"), starts, 2,
			  &error);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_assert_nonnull(strstr(error->message, "iv-q24h have 3-7 visits"));
	g_clear_error(&error);
	many = book_series(f, "W-HH-RAS", "client-ras-1",
			   hh_options("Hanko", "sv", "iv-q24h"), starts, 8,
			   &error);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_assert_cmpuint(hh_count_bookings(f, "client-ras-1"), ==, 0);
}

/* Moving one visit of the Lohja episode keeps its place (visit 5 of
 * 15, a later visit's 90 min); moving it 13.5 h after visit 4 breaks
 * the q8h rhythm and is refused, leaving the booking where it was. */
static void
test_rescheduled_visit_keeps_place(HhFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) bookings = NULL;
	g_autoptr(GVariant) moved = NULL;
	g_autoptr(GVariant) kept = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *slot = NULL;
	g_autofree char *late = NULL;
	g_autofree char *id = NULL;
	char *visit5;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	bookings = book_lohja_q8h(f, "client-lohja-5");
	visit5 = bookings->pdata[4];
	slot = hh_slot_at(f, "W-HH-LOH", hh_local(2026, 3, 3, 16, 0));
	g_assert_true(capacity_reschedule(f->capacity, &test_caller, visit5,
					  slot, NULL, &id, &error));
	g_assert_no_error(error);
	moved = hh_get_booking(f, visit5);
	g_assert_cmpint(booking_int64(moved, "start"), ==,
			hh_local(2026, 3, 3, 16, 0));
	g_assert_cmpuint(booked_minutes(f, visit5), ==, 90);
	g_assert_cmpuint(booking_uint(moved, "episode-visit"), ==, 5);
	g_assert_cmpuint(booking_uint(moved, "episode-visits"), ==, 15);
	late = hh_slot_at(f, "W-HH-LOH", hh_local(2026, 3, 3, 20, 30));
	g_clear_pointer(&id, g_free);
	g_assert_false(capacity_reschedule(f->capacity, &test_caller, visit5,
					   late, NULL, &id, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_assert_nonnull(strstr(error->message,
				"visit 5 of the iv-q8h episode starts 13 h "
				"30 min after visit 4"));
	kept = hh_get_booking(f, visit5);
	g_assert_cmpint(booking_int64(kept, "start"), ==,
			hh_local(2026, 3, 3, 16, 0));
}

static void
add(const char *path, void (*test)(HhFixture *f, gconstpointer data))
{
	g_test_add(path, HhFixture, NULL, hh_fixture_set_up, test,
		   hh_fixture_tear_down);
}

void
hh_test_add_episodes(void)
{
	add("/home-hospital/episode/q8h-lohja-5-days", test_q8h_lohja_5_days);
	add("/home-hospital/episode/fourth-visit-same-day-refused",
	    test_fourth_visit_same_day_refused);
	add("/home-hospital/episode/failing-last-visit-leaves-nothing",
	    test_failing_last_visit_leaves_nothing);
	add("/home-hospital/episode/first-visit-is-longer",
	    test_first_visit_is_longer);
	add("/home-hospital/episode/q8h-across-dst-keeps-8-hours",
	    test_q8h_across_dst);
	add("/home-hospital/episode/all-visits-from-one-base",
	    test_all_visits_from_one_base);
	add("/home-hospital/episode/visit-count-outside-template",
	    test_visit_count_outside_template);
	add("/home-hospital/episode/rescheduled-visit-keeps-its-place",
	    test_rescheduled_visit_keeps_place);
}
