/* crisis-duty: finding and booking through the daemon's engine with the
 * example config (services.d/crisis-duty.conf). The clock stands on
 * Tuesday 2026-03-10 (winter time, UTC+2) unless a test moves it.
 * Jorvi (W-SKP): morning 07-15 2 staff, evening 15-23 4, night 23-07 4,
 * one Swedish speaker per shift; Lohja (W-SKP-LOH): a pair 15-23 for
 * field and office contacts; quarter-hour slots. */
#include "test-crisis-duty.h"

#include <string.h>

#define TUE(hh, mm) crisis_local(2026, 3, 10, (hh), (mm))

static GPtrArray *find(CrisisFixture *f, const char *service,
		       GVariant *query)
{
	g_autoptr(GVariant) owned = g_variant_ref_sink(query);
	g_autoptr(GError) error = NULL;
	GPtrArray *slots = NULL;

	capacity_find(f->capacity, service, owned, &slots, &error);
	g_assert_no_error(error);
	return slots;
}

static GVariant *get_booking(CrisisFixture *f, const char *id)
{
	g_autoptr(GError) error = NULL;
	GVariant *booking = NULL;

	capacity_get_booking(f->capacity, id, &booking, &error);
	g_assert_no_error(error);
	return booking;
}

static void assert_booked(CrisisFixture *f, const char *unit, gint64 start,
			  guint booked)
{
	guint seats, capacity;

	crisis_slot_counters(f, unit, start, &seats, &capacity);
	g_assert_cmpuint(seats, ==, booked);
}

static void test_example_bases(CrisisFixture *f, gconstpointer data)
{
	const CrisisBase *jorvi = crisis_base(
		region_find_offering(f->region, "W-SKP/crisis-duty-west"));
	const CrisisBase *lohja = crisis_base(
		region_find_offering(f->region, "W-SKP-LOH/crisis-duty-west"));
	const CrisisBase *porvoo = crisis_base(
		region_find_offering(f->region, "E-SKP/crisis-duty-east"));
	const guint staff[] = { 2, 4, 4 };

	g_assert_cmpuint(jorvi->shifts->len, ==, 3);
	for (guint i = 0; i < 3; i++) {
		CrisisShift *s = &g_array_index(jorvi->shifts, CrisisShift, i);

		g_assert_cmpuint(s->staff, ==, staff[i]);
		g_assert_cmpuint(s->swedish_speakers, ==, 1);
	}
	g_assert_cmpuint(crisis_swedish_speakers(jorvi, "night"), ==, 1);
	g_assert_cmpuint(g_strv_length(jorvi->municipalities), ==, 10);
	g_assert_true(jorvi->takes[CRISIS_CONTACT_PHONE]);
	g_assert_false(lohja->takes[CRISIS_CONTACT_PHONE]);
	g_assert_true(lohja->takes[CRISIS_CONTACT_FIELD]);
	g_assert_cmpuint(g_strv_length(lohja->municipalities), ==, 7);
	g_assert_cmpuint(porvoo->shifts->len, ==, 4);
	g_assert_cmpuint(g_strv_length(porvoo->municipalities), ==, 7);
	g_assert_true(jorvi->plan.contacts_given);
	g_assert_cmpfloat(jorvi->plan.contacts_per_month, ==, 1200);
	g_assert_false(lohja->plan.contacts_given);
}

static void expect_config_error(const char *edit, const char *text)
{
	CrisisFixture f = { 0 };
	g_autoptr(GError) error = NULL;

	g_assert_false(crisis_fixture_load(&f, edit, &error));
	crisis_assert_error(error, SLOTD_ERROR_INVALID_CONFIG, text);
	g_assert_nonnull(strstr(error->message, "crisis-duty.conf"));
	crisis_fixture_teardown(&f, NULL);
}

static void test_config_refused(void)
{
	/* The first of each key in the file is Jorvi's. */
	expect_config_error("swedish-speakers-night=5",
			    "swedish-speakers-night");
	expect_config_error("contacts=phone;chat", "chat");
	expect_config_error("field-minutes=150", "field-minutes");
	expect_config_error("municipalities=049;999", "999");
	expect_config_error("arrival-day-profile=1;1;1", "arrival-day-profile");
}

static guint count_kind(GArray *slots, const char *kind, guint capacity)
{
	guint n = 0;

	for (guint i = 0; i < slots->len; i++) {
		StoreSlot *s = &g_array_index(slots, StoreSlot, i);

		if (g_strcmp0(s->kind, kind) != 0)
			continue;
		g_assert_cmpuint(s->capacity, ==, capacity);
		g_assert_cmpint(s->end - s->start, ==, 900);
		n++;
	}
	return n;
}

static GArray *list_slots(CrisisFixture *f, const char *unit, gint64 from,
			  gint64 to)
{
	g_autofree char *offering = crisis_offering_id(unit);
	GArray *slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	store_list_slots(f->store, offering, from, to, slots, &error);
	g_assert_no_error(error);
	return slots;
}

static void test_jorvi_around_the_clock(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GArray) day = list_slots(f, "W-SKP", TUE(0, 0), TUE(24, 0));

	g_assert_cmpuint(day->len, ==, 96);
	/* 00-07 and 23-24 belong to nights, the rest to two shifts. */
	g_assert_cmpuint(count_kind(day, "night", 4), ==, 28 + 4);
	g_assert_cmpuint(count_kind(day, "morning", 2), ==, 32);
	g_assert_cmpuint(count_kind(day, "evening", 4), ==, 32);
}

static void test_spring_forward_night(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GArray) night = NULL;
	g_autoptr(GError) error = NULL;
	gboolean done = FALSE;

	/* Clocks go from 03:00 to 04:00 on Sunday 2026-03-29. */
	f->now = crisis_local(2026, 3, 27, 12, 0);
	while (!done) {
		capacity_extend(f->capacity, 5000, &done, &error);
		g_assert_no_error(error);
	}
	night = list_slots(f, "W-SKP", crisis_local(2026, 3, 28, 23, 0),
			   crisis_local(2026, 3, 29, 7, 0));
	g_assert_cmpuint(night->len, ==, 28);
	g_assert_cmpuint(count_kind(night, "night", 4), ==, 28);
	g_assert_cmpint(crisis_local(2026, 3, 29, 7, 0) -
				crisis_local(2026, 3, 28, 23, 0), ==, 7 * 3600);
}

static guint count_unit(GPtrArray *found, const char *unit, gint64 *ret_first,
			gint64 *ret_last)
{
	guint n = 0;

	for (guint i = 0; i < found->len; i++) {
		FoundSlot *s = found->pdata[i];

		if (g_strcmp0(s->unit, unit) != 0)
			continue;
		if (n++ == 0)
			*ret_first = s->start;
		*ret_last = s->start;
	}
	return n;
}

static void test_lohja_evenings_only(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GArray) day = list_slots(f, "W-SKP-LOH", TUE(0, 0),
					   TUE(24, 0));
	g_autoptr(GPtrArray) field = NULL, phone = NULL;
	gint64 first = 0, last = 0;

	g_assert_cmpuint(day->len, ==, 32);
	g_assert_cmpuint(count_kind(day, "evening", 2), ==, 32);
	g_assert_cmpint(g_array_index(day, StoreSlot, 0).start, ==, TUE(15, 0));
	/* A visit in Lohja: 90 on site + 2 × 25 inside the town = 140
	 * minutes, so the last start that ends by 23:00 is 20:30. */
	field = find(f, "crisis-duty-west",
		     g_variant_new_parsed("{'contact': <'field'>, "
					  "'municipality': <'Lohja'>, "
					  "'from': <%x>, 'to': <%x>, "
					  "'limit': <uint32 500>}",
					  TUE(0, 0), TUE(24, 0)));
	g_assert_cmpuint(count_unit(field, "W-SKP-LOH", &first, &last), ==,
			 23);
	g_assert_cmpint(first, ==, TUE(15, 0));
	g_assert_cmpint(last, ==, TUE(20, 30));
	phone = find(f, "crisis-duty-west",
		     g_variant_new_parsed("{'from': <%x>, 'to': <%x>, "
					  "'limit': <uint32 500>}",
					  TUE(0, 0), TUE(24, 0)));
	g_assert_cmpuint(count_unit(phone, "W-SKP-LOH", &first, &last), ==, 0);
	g_assert_cmpuint(count_unit(phone, "W-SKP", &first, &last), >, 0);
}

static void assert_extra_x(GVariant *booking, const char *key, gint64 value)
{
	gint64 got = 0;

	g_assert_true(g_variant_lookup(booking, key, "x", &got));
	g_assert_cmpint(got, ==, value);
}

static void test_hanko_field_visit(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) booking = NULL;
	g_autofree char *id = NULL;
	const char *contact = NULL;
	guint32 travel = 0, staff = 0;

	/* Jorvi -> Hanko is 90 minutes: 90 + 2 × 90 = 270 minutes, 15:00
	 * to 19:30, a pair in each of 18 quarter-hour slots. */
	id = crisis_book(f, "W-SKP", TUE(15, 0),
			 "{'contact': <'field'>, 'municipality': <'Hanko'>}",
			 &error);
	g_assert_no_error(error);
	for (gint64 t = TUE(15, 0); t < TUE(19, 30); t += 900)
		assert_booked(f, "W-SKP", t, 2);
	assert_booked(f, "W-SKP", TUE(19, 30), 0);
	assert_booked(f, "W-SKP", TUE(14, 45), 0);
	booking = get_booking(f, id);
	g_assert_true(g_variant_lookup(booking, "contact", "&s", &contact));
	g_assert_cmpstr(contact, ==, "field");
	g_assert_true(g_variant_lookup(booking, "staff", "u", &staff));
	g_assert_cmpuint(staff, ==, 2);
	g_assert_true(g_variant_lookup(booking, "travel-minutes", "u",
				       &travel));
	g_assert_cmpuint(travel, ==, 90);
	assert_extra_x(booking, "contact-end", TUE(19, 30));
	assert_extra_x(booking, "on-site-from", TUE(16, 30));
	assert_extra_x(booking, "on-site-until", TUE(18, 0));
	assert_extra_x(booking, "end", TUE(19, 30));
}

static guint free_at(CrisisFixture *f, const char *query_contact,
		     gint64 start)
{
	g_autoptr(GPtrArray) found = find(
		f, "crisis-duty-west",
		g_variant_new_parsed("{'contact': <%s>, "
				     "'municipality': <'Espoo'>, "
				     "'from': <%x>, 'to': <%x>}",
				     query_contact, start, start + 900));

	for (guint i = 0; i < found->len; i++) {
		FoundSlot *s = found->pdata[i];

		if (g_strcmp0(s->unit, "W-SKP") == 0 && s->start == start)
			return s->free;
	}
	return 0;
}

static void test_hanko_visit_leaves_room(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *id = NULL;

	g_assert_cmpuint(free_at(f, "phone", TUE(16, 0)), ==, 4);
	g_assert_cmpuint(free_at(f, "field", TUE(16, 0)), ==, 2);
	id = crisis_book(f, "W-SKP", TUE(15, 0),
			 "{'contact': <'field'>, 'municipality': <'078'>}",
			 &error);
	g_assert_no_error(error);
	/* 4 - 2 = 2 staff at 16:00: two calls, or one more pair. */
	g_assert_cmpuint(free_at(f, "phone", TUE(16, 0)), ==, 2);
	g_assert_cmpuint(free_at(f, "field", TUE(16, 0)), ==, 1);
}

static void test_swedish_night_call(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) booking = NULL;
	g_autofree char *first = NULL, *finnish = NULL, *later = NULL;
	const char *language = NULL;

	f->now = TUE(1, 50);
	first = crisis_book(f, "W-SKP", TUE(2, 0),
			    "{'language': <'sv'>, 'urgency': <'urgent'>}",
			    &error);
	g_assert_no_error(error);
	booking = get_booking(f, first);
	g_assert_true(g_variant_lookup(booking, "contact-language", "&s",
				       &language));
	g_assert_cmpstr(language, ==, "sv");
	/* The night's one Swedish speaker is on that call until 02:30. */
	g_assert_null(crisis_book(f, "W-SKP", TUE(2, 0),
				  "{'language': <'sv'>}", &error));
	crisis_assert_error(error, SLOTD_ERROR_POLICY_VIOLATION,
			    "busy until 2026-03-10 02:30");
	crisis_assert_error(error, SLOTD_ERROR_POLICY_VIOLATION,
			    "earliest start that can take it is 2026-03-10 "
			    "02:30 at W-SKP");
	g_clear_error(&error);
	g_assert_null(crisis_book(f, "W-SKP", TUE(2, 15),
				  "{'language': <'sv'>}", &error));
	crisis_assert_error(error, SLOTD_ERROR_POLICY_VIOLATION, "02:30");
	g_clear_error(&error);
	/* Immediate must start by 02:20: no Swedish speaker by then. */
	g_assert_null(crisis_book(f, "W-SKP", TUE(2, 0),
				  "{'language': <'sv'>, "
				  "'urgency': <'immediate'>}",
				  &error));
	crisis_assert_error(error, SLOTD_ERROR_DEADLINE_UNREACHABLE,
			    "earliest possible start is 2026-03-10 02:30 at "
			    "W-SKP");
	g_clear_error(&error);
	/* Finnish callers still reach the other three. */
	finnish = crisis_book(f, "W-SKP", TUE(2, 0), "{'language': <'fi'>}",
			      &error);
	g_assert_no_error(error);
	later = crisis_book(f, "W-SKP", TUE(2, 30), "{'language': <'sv'>}",
			    &error);
	g_assert_no_error(error);
	assert_booked(f, "W-SKP", TUE(2, 15), 2);
	assert_booked(f, "W-SKP", TUE(2, 30), 1);
}

static void test_urgent_all_busy(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *visit = NULL, *routine = NULL;

	/* At 08:00 both morning staff leave for Hanko until 12:30. */
	f->now = TUE(8, 0);
	visit = crisis_book(f, "W-SKP", TUE(8, 0),
			    "{'contact': <'field'>, 'municipality': <'078'>}",
			    &error);
	g_assert_no_error(error);
	assert_booked(f, "W-SKP", TUE(12, 15), 2);
	/* An urgent call must start by 11:00; Lohja takes no calls and
	 * opens at 15:00, so the earliest is Jorvi at 12:30. */
	g_assert_null(crisis_book(f, "W-SKP", TUE(8, 15),
				  "{'urgency': <'urgent'>}", &error));
	crisis_assert_error(error, SLOTD_ERROR_DEADLINE_UNREACHABLE,
			    "start this urgent phone contact by 2026-03-10 "
			    "11:00");
	crisis_assert_error(error, SLOTD_ERROR_DEADLINE_UNREACHABLE,
			    "earliest possible start is 2026-03-10 12:30 at "
			    "W-SKP");
	g_clear_error(&error);
	/* Choosing 12:30 itself is too late for urgent ... */
	g_assert_null(crisis_book(f, "W-SKP", TUE(12, 30),
				  "{'urgency': <'urgent'>}", &error));
	crisis_assert_error(error, SLOTD_ERROR_DEADLINE_UNREACHABLE,
			    "2026-03-10 12:30 at W-SKP");
	g_clear_error(&error);
	/* ... and fine for a routine call back. */
	routine = crisis_book(f, "W-SKP", TUE(12, 30), NULL, &error);
	g_assert_no_error(error);
	assert_booked(f, "W-SKP", TUE(12, 30), 1);
}

static void test_immediate_within_30(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *now = NULL, *soon = NULL;

	f->now = TUE(16, 5);
	/* The 16:00 slot is in progress: an immediate call takes it. */
	now = crisis_book(f, "W-SKP", TUE(16, 0),
			  "{'urgency': <'immediate'>}", &error);
	g_assert_no_error(error);
	soon = crisis_book(f, "W-SKP", TUE(16, 30),
			   "{'urgency': <'immediate'>}", &error);
	g_assert_no_error(error);
	/* 16:45 is past 16:35; the slot in progress still has room. */
	g_assert_null(crisis_book(f, "W-SKP", TUE(16, 45),
				  "{'urgency': <'immediate'>}", &error));
	crisis_assert_error(error, SLOTD_ERROR_DEADLINE_UNREACHABLE,
			    "must start by 2026-03-10 16:35");
	crisis_assert_error(error, SLOTD_ERROR_DEADLINE_UNREACHABLE,
			    "2026-03-10 16:00 at W-SKP (the slot in progress)");
	g_clear_error(&error);
	/* A routine contact is booked ahead, never in a started slot
	 * (the core refuses it before the plugin is asked). */
	g_assert_null(crisis_book(f, "W-SKP", TUE(16, 0), NULL, &error));
	crisis_assert_error(error, SLOTD_ERROR_POLICY_VIOLATION,
			    "has already started");
	g_clear_error(&error);
	g_assert_null(crisis_book(f, "W-SKP", TUE(15, 45),
				  "{'urgency': <'immediate'>}", &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	assert_booked(f, "W-SKP", TUE(16, 0), 1);
	assert_booked(f, "W-SKP", TUE(16, 15), 1);
}

static void test_contacts_refused(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	g_assert_null(crisis_book(f, "W-SKP-LOH", TUE(16, 0),
				  "{'contact': <'phone'>}", &error));
	crisis_assert_error(error, SLOTD_ERROR_POLICY_VIOLATION,
			    "does not take phone contacts");
	g_clear_error(&error);
	g_assert_null(crisis_book(f, "W-SKP", TUE(16, 0),
				  "{'contact': <'field'>}", &error));
	crisis_assert_error(error, SLOTD_ERROR_INVALID_ARGS, "municipality");
	g_clear_error(&error);
	g_assert_null(crisis_book(f, "W-SKP", TUE(16, 0),
				  "{'contact': <'field'>, "
				  "'municipality': <'Vihti'>, "
				  "'field-minutes': <uint32 150>}",
				  &error));
	crisis_assert_error(error, SLOTD_ERROR_INVALID_ARGS, "got 150");
	g_clear_error(&error);
	g_assert_null(crisis_book(f, "W-SKP", TUE(16, 0),
				  "{'municipality': <'Porvoo'>}", &error));
	crisis_assert_error(error, SLOTD_ERROR_POLICY_VIOLATION,
			    "does not serve Porvoo/Borgå");
	g_clear_error(&error);
	g_assert_null(crisis_book(f, "W-SKP", TUE(16, 0),
				  "{'contact': <'chat'>}", &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	assert_booked(f, "W-SKP", TUE(16, 0), 0);
}

static void test_swedish_series_rolls_back(CrisisFixture *f,
					   gconstpointer data)
{
	Caller caller = { 1000, "test" };
	g_autofree char *ten = crisis_slot_id(f, "W-SKP", TUE(10, 0));
	g_autofree char *quarter = crisis_slot_id(f, "W-SKP", TUE(10, 15));
	g_autofree char *eleven = crisis_slot_id(f, "W-SKP", TUE(11, 0));
	const char *overlapping[] = { ten, quarter, NULL };
	const char *apart[] = { ten, eleven, NULL };
	g_autoptr(GVariant) sv = g_variant_ref_sink(
		g_variant_new_parsed("{'language': <'sv'>}"));
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GError) error = NULL;

	/* The second call of the series needs the morning's Swedish
	 * speaker while the first still has them: the whole series fails. */
	g_assert_false(capacity_book_series(f->capacity, &caller,
					    overlapping, "series-1", sv, &ids,
					    &error));
	crisis_assert_error(error, SLOTD_ERROR_POLICY_VIOLATION,
			    "busy until 2026-03-10 10:30");
	g_clear_error(&error);
	assert_booked(f, "W-SKP", TUE(10, 0), 0);
	g_assert_true(capacity_book_series(f->capacity, &caller, apart,
					   "series-1", sv, &ids, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(ids->len, ==, 2);
	assert_booked(f, "W-SKP", TUE(10, 15), 1);
	assert_booked(f, "W-SKP", TUE(11, 15), 1);
}

#define ADD(path, func)                                                     \
	g_test_add("/crisis-duty/" path, CrisisFixture, NULL,               \
		   crisis_fixture_setup, func, crisis_fixture_teardown)

void crisis_test_add_booking(void)
{
	ADD("config/example-bases-have-their-shifts-and-speakers",
	    test_example_bases);
	g_test_add_func("/crisis-duty/config/bad-plugin-keys-are-refused-"
			"with-file-and-key", test_config_refused);
	ADD("shifts/jorvi-runs-quarter-hours-around-the-clock",
	    test_jorvi_around_the_clock);
	ADD("shifts/the-spring-forward-night-is-seven-hours",
	    test_spring_forward_night);
	ADD("shifts/lohja-satellite-offers-evenings-only",
	    test_lohja_evenings_only);
	ADD("field/a-hanko-visit-takes-a-pair-for-90-plus-2x90-minutes",
	    test_hanko_field_visit);
	ADD("field/a-pair-out-leaves-two-calls-or-one-pair",
	    test_hanko_visit_leaves_room);
	ADD("swedish/a-second-sv-call-at-0200-waits-for-the-night-speaker",
	    test_swedish_night_call);
	ADD("urgency/urgent-when-all-morning-staff-are-out-names-12-30",
	    test_urgent_all_busy);
	ADD("urgency/immediate-starts-within-30-minutes",
	    test_immediate_within_30);
	ADD("contacts/each-base-takes-only-its-contacts-and-area",
	    test_contacts_refused);
	ADD("swedish/a-series-needing-one-speaker-twice-rolls-back",
	    test_swedish_series_rolls_back);
}
