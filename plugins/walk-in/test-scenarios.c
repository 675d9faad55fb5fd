/* walk-in tests of slots and calendars through the engine: what the
 * windows become (sessions with queue places, referral slots), what
 * FindSlots shows, the northern rotation's Tuesdays, holidays, the
 * configuration refusals and the example configuration itself. */
#include <string.h>

#include "walk-in.h"
#include "test-walk-in.h"

#define MINUTES(n) ((gint64)(n) * 60)

typedef struct {
	guint sessions;
	guint referrals;
	guint session_capacity;
	gint64 first_referral;
	gint64 last_referral;
} DayShape;

static DayShape
day_shape(Fixture *f, const char *unit, int year, int month, int day)
{
	g_autoptr(GArray) slots = fixture_slots(
		f, unit, local_time(year, month, day, 0, 0),
		local_time(year, month, day, 23, 59));
	DayShape shape = { 0 };

	for (guint i = 0; i < slots->len; i++) {
		StoreSlot *s = &g_array_index(slots, StoreSlot, i);

		if (g_strcmp0(s->kind, WALK_IN_SESSION) == 0) {
			shape.sessions++;
			shape.session_capacity = s->capacity;
			continue;
		}
		g_assert_cmpstr(s->kind, ==, WALK_IN_REFERRAL);
		g_assert_cmpuint(s->capacity, ==, 1);
		if (shape.referrals++ == 0)
			shape.first_referral = s->start;
		shape.last_referral = s->start;
	}
	return shape;
}

/* Lohja: the Monday session and six 30-minute referral slots on each
 * of Tuesday to Thursday (9:00 ... 11:30), nothing on Friday. */
static void
test_lohja_week(Fixture *f, gconstpointer data)
{
	DayShape monday, friday;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 11, 30, 8, 0));
	monday = day_shape(f, "W-SO-LOH", 2026, 12, 7);
	g_assert_cmpuint(monday.sessions, ==, 1);
	g_assert_cmpuint(monday.session_capacity, ==, 6);
	g_assert_cmpuint(monday.referrals, ==, 0);
	for (int day = 8; day <= 10; day++) {
		DayShape shape = day_shape(f, "W-SO-LOH", 2026, 12, day);

		g_assert_cmpuint(shape.sessions, ==, 0);
		g_assert_cmpuint(shape.referrals, ==, 6);
		g_assert_cmpint(shape.first_referral, ==,
				local_time(2026, 12, day, 9, 0));
		g_assert_cmpint(shape.last_referral, ==,
				local_time(2026, 12, day, 11, 30));
	}
	friday = day_shape(f, "W-SO-LOH", 2026, 12, 11);
	g_assert_cmpuint(friday.sessions + friday.referrals, ==, 0);
}

/* Espoo 1: 45-minute referral slots, ten on a full day (8:00 ...
 * 14:45) and eight on Monday, when the walk-in takes 14-16. */
static void
test_espoo_referrals_around_walk_in(Fixture *f, gconstpointer data)
{
	DayShape monday, tuesday;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 11, 30, 8, 0));
	monday = day_shape(f, "W-SO-ESP1", 2026, 12, 7);
	g_assert_cmpuint(monday.sessions, ==, 1);
	g_assert_cmpuint(monday.session_capacity, ==, 4);
	g_assert_cmpuint(monday.referrals, ==, 8);
	g_assert_cmpint(monday.last_referral, ==,
			local_time(2026, 12, 7, 13, 15));
	tuesday = day_shape(f, "W-SO-ESP1", 2026, 12, 8);
	g_assert_cmpuint(tuesday.sessions, ==, 0);
	g_assert_cmpuint(tuesday.referrals, ==, 10);
	g_assert_cmpint(tuesday.last_referral, ==,
			local_time(2026, 12, 8, 14, 45));
}

static const FoundSlot *
find_found(GPtrArray *found, const char *unit, gint64 start)
{
	for (guint i = 0; i < found->len; i++) {
		const FoundSlot *slot = found->pdata[i];

		if (g_strcmp0(slot->unit, unit) == 0 && slot->start == start)
			return slot;
	}
	return NULL;
}

/* FindSlots from Lohja shows the session with its queue places left
 * and the referral slots, from the nearby units too. */
static void
test_find_sessions_and_referrals(Fixture *f, gconstpointer data)
{
	g_autofree char *session = NULL;
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GVariant) query = NULL;
	g_autoptr(GError) error = NULL;
	const FoundSlot *slot;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 12, 7, 12, 50));
	session = fixture_slot_id(f, "W-SO-LOH", WALK_IN_SESSION,
				  local_time(2026, 12, 7, 13, 0));
	a = fixture_book(f, session, "", NULL, &error);
	b = fixture_book(f, session, "", NULL, &error);
	g_assert_no_error(error);
	query = g_variant_ref_sink(g_variant_new_parsed(
		"{'municipality': <'Lojo'>, 'to': <@x %x>, "
		"'limit': <@u 500>}",
		local_time(2026, 12, 9, 0, 0)));
	g_assert_true(capacity_find(f->capacity, "social-counselling-walk-in",
				    query, &found, &error));
	g_assert_no_error(error);
	slot = find_found(found, "W-SO-LOH", local_time(2026, 12, 7, 13, 0));
	g_assert_nonnull(slot);
	g_assert_cmpstr(slot->kind, ==, WALK_IN_SESSION);
	g_assert_cmpuint(slot->free, ==, 4);
	g_assert_cmpint(slot->end, ==, local_time(2026, 12, 7, 16, 0));
	slot = find_found(found, "W-SO-LOH", local_time(2026, 12, 8, 11, 30));
	g_assert_nonnull(slot);
	g_assert_cmpstr(slot->kind, ==, WALK_IN_REFERRAL);
	g_assert_cmpuint(slot->free, ==, 1);
	/* Espoo is 35 minutes from Lohja, within the 45-minute limit;
	 * Porvoo (65) is not. */
	g_assert_nonnull(find_found(found, "W-SO-ESP1",
				    local_time(2026, 12, 7, 14, 0)));
	g_assert_null(find_found(found, "E-SO-POR",
				 local_time(2026, 12, 7, 12, 0)));
	/* Earliest first: today's session before Tuesday's slots. */
	g_assert_cmpint(((FoundSlot *)found->pdata[0])->start, <=,
			local_time(2026, 12, 7, 13, 0));
}

/* Askola, Pukkila, Myrskylä and Lapinjärvi share one counsellor on the
 * 1st to 4th Tuesday: 1, 8, 15 and 22 December 2026, 10-12. */
static void
test_northern_rotation(Fixture *f, gconstpointer data)
{
	const char *units[] = { "E-SO-ASK", "E-SO-PUK", "E-SO-MYR",
				"E-SO-LAP" };
	const int days[] = { 1, 8, 15, 22 };

	fixture_start(f, test_units, test_service,
		      local_time(2026, 11, 23, 8, 0));
	for (guint u = 0; u < G_N_ELEMENTS(units); u++) {
		g_autoptr(GArray) december = fixture_slots(
			f, units[u], local_time(2026, 12, 1, 0, 0),
			local_time(2027, 1, 1, 0, 0));
		StoreSlot *s;

		g_assert_cmpuint(december->len, ==, 1);
		s = &g_array_index(december, StoreSlot, 0);
		g_assert_cmpstr(s->kind, ==, WALK_IN_SESSION);
		g_assert_cmpint(s->start, ==,
				local_time(2026, 12, days[u], 10, 0));
		g_assert_cmpint(s->end, ==,
				local_time(2026, 12, days[u], 12, 0));
		g_assert_cmpuint(s->capacity, ==, 4);
	}
}

/* Easter Monday 6 April 2026 is a public holiday: Lohja's session
 * skips it; the Mondays around it (and across the change to summer
 * time on 29 March) keep theirs at 13:00 local. */
static void
test_no_session_on_easter_monday(Fixture *f, gconstpointer data)
{
	const int days[] = { 30, 13, 20, 27 };
	const int months[] = { 3, 4, 4, 4 };
	g_autoptr(GArray) sessions = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GArray) slots = NULL;

	fixture_start(f, test_units, test_service,
		      local_time(2026, 3, 30, 8, 0));
	slots = fixture_slots(f, "W-SO-LOH", local_time(2026, 3, 30, 0, 0),
			      local_time(2026, 4, 28, 0, 0));
	for (guint i = 0; i < slots->len; i++) {
		StoreSlot *s = &g_array_index(slots, StoreSlot, i);

		if (g_strcmp0(s->kind, WALK_IN_SESSION) == 0)
			g_array_append_val(sessions, s->start);
	}
	g_assert_cmpuint(sessions->len, ==, 4);
	for (guint i = 0; i < 4; i++)
		g_assert_cmpint(g_array_index(sessions, gint64, i), ==,
				local_time(2026, months[i], days[i], 13, 0));
	g_assert_cmpuint(day_shape(f, "W-SO-LOH", 2026, 4, 6).sessions, ==, 0);
}

typedef struct {
	const char *keys;	/* added to Lohja's offering */
	const char *message;	/* part of the refusal */
} BadConfig;

static const char lohja_head[] =
	"[service social-counselling-walk-in]\n"
	"plugin=walk-in\n"
	"title-fi=Sosiaaliohjaus\n"
	"title-sv=Socialhandledning\n"
	"[offering W-SO-LOH social-counselling-walk-in]\n";

static const BadConfig bad_configs[] = {
	{ "windows=session\n"
	  "window-session=13:00-16:00 FREQ=WEEKLY;BYDAY=MO\n"
	  "capacity-session=2\n",
	  "[offering W-SO-LOH social-counselling-walk-in] capacity-session: "
	  "walk-in offerings count staff with counsellors-session" },
	{ "windows=session;extra\n"
	  "window-session=13:00-16:00 FREQ=WEEKLY;BYDAY=MO\n"
	  "window-extra=09:00-12:00 FREQ=WEEKLY;BYDAY=TU\n",
	  "session-windows: window \"extra\" is neither a session nor a "
	  "referral window" },
	{ "windows=session;late\n"
	  "session-windows=session;late\n"
	  "window-session=13:00-16:00 FREQ=WEEKLY;BYDAY=MO\n"
	  "window-late=15:00-17:00 FREQ=WEEKLY;BYDAY=MO,WE\n",
	  "sessions \"session\" and \"late\" can run at the same time" },
	{ "windows=session\n"
	  "window-session=22:00-02:00 FREQ=WEEKLY;BYDAY=MO\n",
	  "window-session: a walk-in session ends on the day it starts" },
	{ "windows=session\n"
	  "window-session=13:00-13:20 FREQ=WEEKLY;BYDAY=MO\n",
	  "is shorter than one visit (service-minutes=30)" },
	{ "windows=session\n"
	  "window-session=13:00-16:00 FREQ=WEEKLY;BYDAY=MO\n"
	  "referral-windows=referral\n",
	  "referral-windows: window \"referral\" is not one of the "
	  "offering's windows" },
	{ "windows=session\n"
	  "window-session=13:00-16:00 FREQ=WEEKLY;BYDAY=MO\n"
	  "queue-places-session=0\n",
	  "queue-places-session" },
	{ "windows=session\n"
	  "window-session=13:00-16:00 FREQ=WEEKLY;BYDAY=MO\n"
	  "reasons=housing;Money\n",
	  "reasons: \"Money\" is not a reason code" },
};

static void
test_config_refusals(Fixture *f, gconstpointer data)
{
	for (guint i = 0; i < G_N_ELEMENTS(bad_configs); i++) {
		g_autofree char *text = g_strconcat(lohja_head,
						    bad_configs[i].keys, NULL);
		g_autoptr(GError) error = NULL;

		g_assert_false(fixture_load(f, test_units, text, &error));
		g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG);
		if (strstr(error->message, bad_configs[i].message) == NULL)
			g_error("case %u: \"%s\" not in \"%s\"", i,
				bad_configs[i].message, error->message);
		fixture_stop(f);
	}
}

static char *
example_text(const char *name)
{
	g_autofree char *path = g_build_filename(
		g_getenv("SLOTD_SOURCE_ROOT"), "config", "example", name, NULL);
	g_autoptr(GError) error = NULL;
	char *text = NULL;

	g_file_get_contents(path, &text, NULL, &error);
	g_assert_no_error(error);
	return text;
}

/* The shipped example configures, and its Espoo and Lohja units get
 * the slots the comments promise. */
static void
test_example_configuration(Fixture *f, gconstpointer data)
{
	g_autofree char *units = example_text("units.conf");
	g_autofree char *service = example_text("services.d/walk-in.conf");
	DayShape lohja, espoo3, raasepori;

	fixture_start(f, units, service, local_time(2026, 11, 30, 8, 0));
	lohja = day_shape(f, "W-SO-LOH", 2026, 12, 7);
	g_assert_cmpuint(lohja.sessions, ==, 1);
	g_assert_cmpuint(lohja.session_capacity, ==, 6);
	/* Wednesday: Espoo 3's walk-in day, Raasepori's session 12-15. */
	espoo3 = day_shape(f, "W-SO-ESP3", 2026, 12, 9);
	g_assert_cmpuint(espoo3.sessions, ==, 1);
	g_assert_cmpuint(espoo3.referrals, ==, 8);
	raasepori = day_shape(f, "W-SO-RAS", 2026, 12, 9);
	g_assert_cmpuint(raasepori.sessions, ==, 1);
	g_assert_cmpuint(raasepori.session_capacity, ==, 6);
	g_assert_cmpuint(day_shape(f, "E-SO-ASK", 2026, 12, 1).sessions, ==,
			 1);
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
test_scenarios_add(void)
{
	ADD("/walk-in/slots/lohja-referrals-tue-to-thu-30-minutes",
	    test_lohja_week);
	ADD("/walk-in/slots/espoo-referrals-45-minutes-around-walk-in",
	    test_espoo_referrals_around_walk_in);
	ADD("/walk-in/find/session-queue-places-and-referral-slots",
	    test_find_sessions_and_referrals);
	ADD("/walk-in/calendar/northern-rotation-tuesdays-december-2026",
	    test_northern_rotation);
	ADD("/walk-in/calendar/no-session-on-easter-monday-2026",
	    test_no_session_on_easter_monday);
	ADD("/walk-in/config/refusals-name-the-key", test_config_refusals);
	ADD("/walk-in/config/example-region-configures-and-shapes",
	    test_example_configuration);
}
