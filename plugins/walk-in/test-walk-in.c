/* walk-in tests through the capacity engine: check-ins at Lohja's
 * Monday session (tickets, positions, estimated starts, fulfilled and
 * noshow visits, the opening and closing of the queue), anonymous
 * visits and the referral slots beside the session. The arithmetic is
 * in test-rules.c; calendars and configuration in test-scenarios.c. */
#include <string.h>

#include "calendar.h"
#include "capacity-private.h"
#include "walk-in.h"
#include "test-walk-in.h"

#define MINUTES(n) ((gint64)(n) * 60)

const char test_units[] =
	"[unit W-SO-LOH]\n"
	"municipality=444\n"
	"title-fi=Sosiaaliohjaus, Lohjan keskustan terveysasema\n"
	"title-sv=Social handledning, Lojo centrums hälsostation\n"
	"languages=fi;sv\n"
	"[unit W-SO-ESP1]\n"
	"municipality=049\n"
	"title-fi=Sosiaaliohjaus, Leppävaaran terveysasema\n"
	"title-sv=Social handledning, Alberga hälsostation\n"
	"languages=fi;sv;en\n"
	"[unit E-SO-POR]\n"
	"municipality=638\n"
	"title-fi=Sosiaaliohjaus, Näsin terveyskeskus\n"
	"title-sv=Social handledning, Näse hälsocentral\n"
	"languages=fi;sv\n"
	"[unit E-SO-ASK]\n"
	"municipality=018\n"
	"title-fi=Sosiaaliohjaus, Askola\n"
	"title-sv=Social handledning, Askola\n"
	"languages=fi\n"
	"[unit E-SO-PUK]\n"
	"municipality=616\n"
	"title-fi=Sosiaaliohjaus, Pukkila\n"
	"title-sv=Social handledning, Pukkila\n"
	"languages=fi\n"
	"[unit E-SO-MYR]\n"
	"municipality=504\n"
	"title-fi=Sosiaaliohjaus, Myrskylä\n"
	"title-sv=Social handledning, Mörskom\n"
	"languages=fi;sv\n"
	"[unit E-SO-LAP]\n"
	"municipality=407\n"
	"title-fi=Sosiaaliohjaus, Lapinjärvi\n"
	"title-sv=Social handledning, Lappträsk\n"
	"languages=fi;sv\n";

/* Lohja and Espoo 1 as in the example; Porvoo with two counsellors. */
const char test_service[] =
	"[service social-counselling-walk-in]\n"
	"plugin=walk-in\n"
	"title-fi=Sosiaaliohjaus terveysasemalla (walk-in)\n"
	"title-sv=Socialhandledning på hälsostationen (walk-in)\n"
	"[offering W-SO-LOH social-counselling-walk-in]\n"
	"languages=fi;sv\n"
	"closed-on-holidays=true\n"
	"max-travel-minutes=45\n"
	"windows=session;referral\n"
	"window-session=13:00-16:00 FREQ=WEEKLY;BYDAY=MO\n"
	"window-referral=09:00-12:00 FREQ=WEEKLY;BYDAY=TU,WE,TH\n"
	"service-minutes=30\n"
	"referral-minutes=30\n"
	"[offering W-SO-ESP1 social-counselling-walk-in]\n"
	"languages=fi;sv;en\n"
	"closed-on-holidays=true\n"
	"max-travel-minutes=45\n"
	"windows=session;referral;referral-short\n"
	"referral-windows=referral;referral-short\n"
	"window-session=14:00-16:00 FREQ=WEEKLY;BYDAY=MO\n"
	"window-referral=08:00-16:00 FREQ=WEEKLY;BYDAY=TU,WE,TH,FR\n"
	"window-referral-short=08:00-14:00 FREQ=WEEKLY;BYDAY=MO\n"
	"referral-minutes=45\n"
	"[offering E-SO-POR social-counselling-walk-in]\n"
	"closed-on-holidays=true\n"
	"max-travel-minutes=45\n"
	"windows=session\n"
	"window-session=12:00-15:00 FREQ=WEEKLY;BYDAY=MO\n"
	"counsellors-session=2\n"
	"[offering E-SO-ASK social-counselling-walk-in]\n"
	"closed-on-holidays=true\n"
	"windows=session\n"
	"window-session=10:00-12:00 FREQ=MONTHLY;BYDAY=1TU\n"
	"[offering E-SO-PUK social-counselling-walk-in]\n"
	"closed-on-holidays=true\n"
	"windows=session\n"
	"window-session=10:00-12:00 FREQ=MONTHLY;BYDAY=2TU\n"
	"[offering E-SO-MYR social-counselling-walk-in]\n"
	"closed-on-holidays=true\n"
	"windows=session\n"
	"window-session=10:00-12:00 FREQ=MONTHLY;BYDAY=3TU\n"
	"[offering E-SO-LAP social-counselling-walk-in]\n"
	"closed-on-holidays=true\n"
	"windows=session\n"
	"window-session=10:00-12:00 FREQ=MONTHLY;BYDAY=4TU\n";

/* Monday 7 December 2026, Lohja's session 13:00-16:00. */
#define LOHJA_13 local_time(2026, 12, 7, 13, 0)

static char *
lohja_session(Fixture *f)
{
	return fixture_slot_id(f, "W-SO-LOH", WALK_IN_SESSION, LOHJA_13);
}

static void
assert_queue_place(Fixture *f, const char *booking_id, guint ticket,
		   guint position, gint64 estimated_start)
{
	g_autoptr(GVariant) booking = fixture_booking(f, booking_id);

	g_assert_cmpuint(booking_uint(booking, "ticket"), ==, ticket);
	g_assert_cmpuint(booking_uint(booking, "position"), ==, position);
	g_assert_cmpint(booking_time(booking, "estimated-start"), ==,
			estimated_start);
}

static void
assert_left_queue(Fixture *f, const char *booking_id, guint queue_length)
{
	g_autoptr(GVariant) booking = fixture_booking(f, booking_id);

	g_assert_cmpuint(booking_uint(booking, "position"), ==, 0);
	g_assert_cmpuint(booking_uint(booking, "queue-length"), ==,
			 queue_length);
	g_assert_false(g_variant_lookup(booking, "estimated-start", "x",
					NULL));
}

/* Six visitors check in before the session; with one counsellor and 30
 * minutes each they are seen at 13:00, 13:30 ... 15:30. */
static void
test_monday_queue_of_six(Fixture *f, gconstpointer data)
{
	g_autofree char *slot = NULL;
	char *visits[6];
	g_autoptr(GError) error = NULL;
	g_autofree char *seventh = NULL;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 12, 7, 12, 50));
	slot = lohja_session(f);
	for (guint i = 0; i < 6; i++) {
		g_autofree char *ref = g_strdup_printf("lohja-visitor-%u", i);

		visits[i] = fixture_book(f, slot, ref, NULL, &error);
		g_assert_no_error(error);
	}
	for (guint i = 0; i < 6; i++) {
		g_autoptr(GVariant) booking = fixture_booking(f, visits[i]);

		assert_queue_place(f, visits[i], i + 1, i + 1,
				   LOHJA_13 + MINUTES(30) * i);
		g_assert_cmpuint(booking_uint(booking, "queue-length"), ==, 6);
	}
	/* 1 counsellor x 180 min / 30 min = 6 queue places. */
	seventh = fixture_book(f, slot, "lohja-visitor-6", NULL, &error);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_assert_null(seventh);

	/* 13:00, the session begins. #1 is seen: everyone moves up one
	 * turn. (A visit is fulfilled only once its session has begun.) */
	f->now = LOHJA_13;
	fixture_set_status(f, visits[0], "fulfilled");
	assert_left_queue(f, visits[0], 5);
	for (guint i = 1; i < 6; i++)
		assert_queue_place(f, visits[i], i + 1, i,
				   LOHJA_13 + MINUTES(30) * (i - 1));
	/* #2 does not answer when called. */
	fixture_set_status(f, visits[1], "noshow");
	assert_left_queue(f, visits[1], 4);
	for (guint i = 2; i < 6; i++)
		assert_queue_place(f, visits[i], i + 1, i - 1,
				   LOHJA_13 + MINUTES(30) * (i - 2));
	/* At 13:40 the estimates count from now. */
	f->now = local_time(2026, 12, 7, 13, 40);
	assert_queue_place(f, visits[2], 3, 1, f->now);
	assert_queue_place(f, visits[5], 6, 4, f->now + MINUTES(90));
	for (guint i = 0; i < 6; i++)
		g_free(visits[i]);
}

/* A cancelled check-in gives its place back, not its number. */
static void
test_tickets_not_reused_after_cancel(Fixture *f, gconstpointer data)
{
	const Caller caller = { 1000, "health-station" };
	g_autofree char *slot = NULL;
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	g_autofree char *third = NULL;
	g_autoptr(GVariant) booking = NULL;
	g_autoptr(GError) error = NULL;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 12, 7, 13, 5));
	slot = lohja_session(f);
	first = fixture_book(f, slot, "", NULL, &error);
	second = fixture_book(f, slot, "", NULL, &error);
	g_assert_no_error(error);
	g_assert_true(capacity_cancel(f->capacity, &caller, second,
				      "left before being called", &error));
	g_assert_no_error(error);
	third = fixture_book(f, slot, "", NULL, &error);
	g_assert_no_error(error);
	booking = fixture_booking(f, third);
	g_assert_cmpuint(booking_uint(booking, "ticket"), ==, 3);
	g_assert_cmpuint(booking_uint(booking, "position"), ==, 2);
	g_assert_cmpuint(booking_uint(booking, "queue-length"), ==, 2);
	g_assert_cmpint(booking_time(booking, "estimated-start"), ==,
			local_time(2026, 12, 7, 13, 35));
}

static void
assert_policy_message(GError *error, const char *const *parts)
{
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	for (guint i = 0; parts[i] != NULL; i++) {
		if (strstr(error->message, parts[i]) == NULL)
			g_error("\"%s\" not in \"%s\"", parts[i],
				error->message);
	}
}

/* At 12:30 the queue is not open yet: it opens 15 minutes before. */
static void
test_checkin_before_opening(Fixture *f, gconstpointer data)
{
	const char *const parts[] = {
		"W-SO-LOH (Lohja / Lojo)", "opens at 2026-12-07 12:45",
		"starts at 2026-12-07 13:00", NULL,
	};
	g_autofree char *slot = NULL;
	g_autofree char *early = NULL;
	g_autofree char *on_time = NULL;
	g_autoptr(GError) error = NULL;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 12, 7, 12, 30));
	slot = lohja_session(f);
	early = fixture_book(f, slot, "", NULL, &error);
	g_assert_null(early);
	assert_policy_message(error, parts);
	g_clear_error(&error);
	f->now = local_time(2026, 12, 7, 12, 45);
	on_time = fixture_book(f, slot, "", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(on_time);
}

/* The rule itself, as admit sees a session that has ended: the
 * refusal names the next Monday's session and when its check-in opens. */
static void
assert_closed_refusal(Fixture *f, const char *slot_id)
{
	const char *const parts[] = {
		"closed when the session ended",
		"next walk-in session at W-SO-LOH (Lohja / Lojo) is "
		"2026-12-14 13:00-16:00",
		"check-in opens at 2026-12-14 12:45", NULL,
	};
	const SlotdOffering *offering = region_find_offering(
		f->region, "W-SO-LOH/social-counselling-walk-in");
	SlotdSlotInfo slot = { slot_id, WALK_IN_SESSION, LOHJA_13,
			       LOHJA_13 + MINUTES(180), 6, 1, 0 };
	SlotdRequest request = { .client_ref = "", .now = f->now,
				 .series_length = 1 };
	g_autoptr(GError) error = NULL;
	SlotdContext ctx;

	capacity_context_init(&ctx, f->capacity, offering);
	g_assert_false(walk_in_admit(offering, &ctx, &slot, &request, &error));
	capacity_context_clear(&ctx);
	assert_policy_message(error, parts);
}

static void
test_queue_closes_at_the_end(Fixture *f, gconstpointer data)
{
	g_autofree char *slot = NULL;
	g_autofree char *last = NULL;
	g_autofree char *late = NULL;
	g_autoptr(GError) error = NULL;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 12, 7, 15, 59));
	slot = lohja_session(f);
	last = fixture_book(f, slot, "", NULL, &error);
	g_assert_no_error(error);
	f->now = local_time(2026, 12, 7, 16, 0);
	late = fixture_book(f, slot, "", NULL, &error);
	g_assert_null(late);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	assert_closed_refusal(f, slot);
}

/* Anonymous visitors are welcome in the queue, and nothing that points
 * at a person is kept with them; referral slots need a reference. */
static void
test_anonymous_checkin_and_referral(Fixture *f, gconstpointer data)
{
	const char *const parts[] = {
		"pseudonymous", "W-SO-LOH (Lohja / Lojo)",
		"takes check-ins now", NULL,
	};
	g_autofree char *session = NULL;
	g_autofree char *referral = NULL;
	g_autofree char *visit = NULL;
	g_autofree char *refused = NULL;
	g_autoptr(GVariant) booking = NULL;
	g_autoptr(GError) error = NULL;
	gboolean anonymous = FALSE;
	const char *client_ref = NULL;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 12, 7, 12, 50));
	session = lohja_session(f);
	visit = fixture_book(f, session, "",
			     g_variant_new_parsed("{'reason': <'housing'>}"),
			     &error);
	g_assert_no_error(error);
	booking = fixture_booking(f, visit);
	g_assert_cmpuint(booking_uint(booking, "ticket"), ==, 1);
	g_assert_true(g_variant_lookup(booking, "anonymous", "b", &anonymous));
	g_assert_true(anonymous);
	g_assert_true(g_variant_lookup(booking, "client-ref", "&s",
				       &client_ref));
	g_assert_cmpstr(client_ref, ==, "");
	g_assert_false(g_variant_lookup(booking, "municipality", "&s", NULL));

	referral = fixture_slot_id(f, "W-SO-LOH", WALK_IN_REFERRAL,
				   local_time(2026, 12, 8, 9, 0));
	refused = fixture_book(f, referral, "", NULL, &error);
	g_assert_null(refused);
	assert_policy_message(error, parts);
}

/* Health-station staff book Tuesday 9:00 for the client they send. */
static void
test_referral_for_named_client(Fixture *f, gconstpointer data)
{
	g_autofree char *tuesday_9 = NULL;
	g_autofree char *tuesday_10 = NULL;
	g_autofree char *wednesday_9 = NULL;
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	g_autofree char *other_day = NULL;
	g_autoptr(GVariant) booking = NULL;
	g_autoptr(GError) error = NULL;
	gboolean anonymous = TRUE;
	const char *visit = NULL;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 12, 7, 14, 0));
	tuesday_9 = fixture_slot_id(f, "W-SO-LOH", WALK_IN_REFERRAL,
				    local_time(2026, 12, 8, 9, 0));
	tuesday_10 = fixture_slot_id(f, "W-SO-LOH", WALK_IN_REFERRAL,
				     local_time(2026, 12, 8, 10, 0));
	wednesday_9 = fixture_slot_id(f, "W-SO-LOH", WALK_IN_REFERRAL,
				      local_time(2026, 12, 9, 9, 0));
	first = fixture_book(f, tuesday_9, "hs-lohja-4711", NULL, &error);
	g_assert_no_error(error);
	booking = fixture_booking(f, first);
	g_assert_cmpint(booking_time(booking, "end") -
				booking_time(booking, "start"), ==,
			MINUTES(30));
	g_assert_true(g_variant_lookup(booking, "visit", "&s", &visit));
	g_assert_cmpstr(visit, ==, WALK_IN_REFERRAL);
	g_assert_true(g_variant_lookup(booking, "anonymous", "b", &anonymous));
	g_assert_false(anonymous);
	g_assert_false(g_variant_lookup(booking, "ticket", "u", NULL));
	g_assert_false(g_variant_lookup(booking, "position", "u", NULL));
	/* One visit a day for the same client. */
	second = fixture_book(f, tuesday_10, "hs-lohja-4711", NULL, &error);
	g_assert_null(second);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_clear_error(&error);
	other_day = fixture_book(f, wednesday_9, "hs-lohja-4711", NULL,
				 &error);
	g_assert_no_error(error);
}

static void
test_checkin_rules(Fixture *f, gconstpointer data)
{
	const char *const twice[] = { "already in the queue", "ticket 1",
				      NULL };
	const char *const no_referral[] = { "referral-time", NULL };
	g_autofree char *session = NULL;
	g_autofree char *first = NULL;
	g_autofree char *again = NULL;
	g_autofree char *with_referral = NULL;
	g_autofree char *bad_reason = NULL;
	g_autoptr(GError) error = NULL;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 12, 7, 13, 10));
	session = lohja_session(f);
	first = fixture_book(f, session, "lohja-client-a", NULL, &error);
	g_assert_no_error(error);
	again = fixture_book(f, session, "lohja-client-a", NULL, &error);
	assert_policy_message(error, twice);
	g_clear_error(&error);
	with_referral = fixture_book(
		f, session, "",
		g_variant_new_parsed("{'referral-time': <@x 1796600000>}"),
		&error);
	assert_policy_message(error, no_referral);
	g_clear_error(&error);
	bad_reason = fixture_book(
		f, session, "",
		g_variant_new_parsed("{'reason': <'lottery'>}"), &error);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_assert_null(strstr(error->message, "lottery"));
}

/* Porvoo has two counsellors on Mondays 12-15: two visitors are seen
 * at once, so the third is estimated at 12:30. */
static void
test_two_counsellors_halve_the_wait(Fixture *f, gconstpointer data)
{
	const gint64 noon = local_time(2026, 12, 7, 12, 0);
	g_autofree char *slot = NULL;
	g_autoptr(GArray) slots = NULL;
	char *visits[3];
	g_autoptr(GError) error = NULL;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 12, 7, 11, 50));
	slots = fixture_slots(f, "E-SO-POR", noon, noon + 1);
	g_assert_cmpuint(slots->len, ==, 1);
	/* 2 counsellors x 180 min / 30 min */
	g_assert_cmpuint(g_array_index(slots, StoreSlot, 0).capacity, ==, 12);
	slot = fixture_slot_id(f, "E-SO-POR", WALK_IN_SESSION, noon);
	for (guint i = 0; i < 3; i++) {
		visits[i] = fixture_book(f, slot, "", NULL, &error);
		g_assert_no_error(error);
	}
	assert_queue_place(f, visits[0], 1, 1, noon);
	assert_queue_place(f, visits[1], 2, 2, noon);
	assert_queue_place(f, visits[2], 3, 3, noon + MINUTES(30));
	for (guint i = 0; i < 3; i++)
		g_free(visits[i]);
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
test_engine_add(void)
{
	ADD("/walk-in/lohja/monday-queue-of-six-one-counsellor",
	    test_monday_queue_of_six);
	ADD("/walk-in/lohja/cancelled-ticket-is-not-handed-out-again",
	    test_tickets_not_reused_after_cancel);
	ADD("/walk-in/lohja/check-in-at-12-30-is-before-opening",
	    test_checkin_before_opening);
	ADD("/walk-in/lohja/queue-closes-at-16-and-names-next-session",
	    test_queue_closes_at_the_end);
	ADD("/walk-in/lohja/anonymous-check-in-but-no-anonymous-referral",
	    test_anonymous_checkin_and_referral);
	ADD("/walk-in/lohja/referral-slot-for-a-pseudonymous-client",
	    test_referral_for_named_client);
	ADD("/walk-in/lohja/same-client-twice-and-bad-options-refused",
	    test_checkin_rules);
	ADD("/walk-in/porvoo/two-counsellors-see-two-at-a-time",
	    test_two_counsellors_halve_the_wait);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	calendar_init();
	test_rules_add();
	test_staffing_add();
	test_engine_add();
	test_scenarios_add();
	test_plan_add();
	return g_test_run();
}
