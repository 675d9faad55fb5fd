/* Home hospital: which base serves which home, what FindSlots shows
 * for a municipality, the Swedish-speaking shifts, the shift slots and
 * the configuration checks, through the real engine and the example
 * configuration (travel from region.conf: Lohja internal 25 min,
 * Lohja-Karkkila 35, Raasepori-Hanko 30). */
#include <string.h>

#include <slotd/plugin.h>

#include "test-home-hospital.h"

static const Caller test_caller = { 1000, "test-home-hospital" };

static GPtrArray *
find(HhFixture *f, const char *service, GVariant *query)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(query);
	g_autoptr(GError) error = NULL;
	GPtrArray *found = NULL;

	g_assert_true(
		capacity_find(f->capacity, service, sunk, &found, &error));
	g_assert_no_error(error);
	return found;
}

static gboolean
book(HhFixture *f, const char *unit, gint64 start, const char *client,
     GVariant *options, GError **error)
{
	g_autoptr(GVariant) sunk = g_variant_ref_sink(options);
	g_autofree char *slot = hh_slot_at(f, unit, start);
	g_autofree char *booking = NULL;

	return capacity_book(f->capacity, &test_caller, slot, client, sunk,
			     &booking, error);
}

static GVariant *
day_query(const char *municipality, gint64 from)
{
	return g_variant_new_parsed("{'municipality': <%s>, 'from': <%x>, "
				    "'to': <%x>, 'limit': <@u 200>}",
				    municipality, from, from + 86400);
}

/* Hanko (typed in Swedish) is covered by Raasepori only: every slot
 * FindSlots lists is W-HH-RAS's, the first at 07:00 with both day
 * nurses free, 30 min from the client's home. */
static void
test_hanko_finds_only_raasepori(HhFixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) found = NULL;
	FoundSlot *first;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	found = find(f, HH_WEST, day_query("Hangö", f->now));
	g_assert_cmpuint(found->len, >, 20);
	for (guint i = 0; i < found->len; i++)
		g_assert_cmpstr(((FoundSlot *)found->pdata[i])->unit, ==,
				"W-HH-RAS");
	first = found->pdata[0];
	g_assert_cmpint(first->start, ==, hh_local(2026, 3, 2, 7, 0));
	g_assert_cmpuint(first->free, ==, 2);
	g_assert_cmpint(first->travel_minutes, ==, 30);
}

/* Porvoo belongs to the east: every west base refuses it and says who
 * covers what, and FindSlots on the west answers with that refusal. */
static void
test_porvoo_refused_by_west(HhFixture *f, gconstpointer data)
{
	static const char *const needles[] = {
		"W-HH-LOH does not drive to Porvoo/Borgå",
		"W-HH-ESP covers Espoo/Esbo, Kauniainen/Grankulla, "
		"Kirkkonummi/Kyrkslätt",
		"W-HH-LOH covers Lohja/Lojo, Vihti/Vichtis, Karkkila/Högfors, "
		"Siuntio/Sjundeå",
		"W-HH-RAS covers Raasepori/Raseborg, Hanko/Hangö, Inkoo/Ingå",
		"No base of this service covers",
	};
	g_autoptr(GPtrArray) west = NULL;
	g_autoptr(GPtrArray) east = NULL;
	g_autoptr(GError) error = NULL;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	g_assert_false(book(f, "W-HH-LOH", hh_local(2026, 3, 2, 9, 0),
			    "client-porvoo-1", hh_options("Porvoo", "fi", NULL),
			    &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	for (guint i = 0; i < G_N_ELEMENTS(needles); i++)
		g_assert_nonnull(strstr(error->message, needles[i]));
	g_clear_error(&error);
	{
		g_autoptr(GVariant) q = g_variant_ref_sink(
			day_query("Porvoo", f->now));

		g_assert_false(capacity_find(f->capacity, HH_WEST, q, &west,
					     &error));
		g_assert_error(error, SLOTD_ERROR,
			       SLOTD_ERROR_POLICY_VIOLATION);
		g_assert_nonnull(strstr(error->message, needles[4]));
	}
	east = find(f, HH_EAST, day_query("Borgå", f->now));
	g_assert_cmpuint(east->len, >, 0);
	for (guint i = 0; i < east->len; i++)
		g_assert_cmpstr(((FoundSlot *)east->pdata[i])->unit, ==,
				"E-HH-POR");
}

/* At 12:30 a first q24h visit in Lohja takes 60 + 2 x 25 -> 120 min,
 * inside the day shift's own slots (3 nurses); one in Karkkila, 35 min
 * away, takes 60 + 70 -> 150 min and returns at 15:00, in the day
 * shift's handover (it ends 15:30). It takes only the day shift's
 * slots, so the evening's nurses stay free: booking the evening changes
 * nothing for it. From 13:30 a Karkkila visit would run past 15:30 and
 * is not offered at all. */
static void
test_karkkila_stays_in_its_shift(HhFixture *f, gconstpointer data)
{
	gint64 at = hh_local(2026, 3, 2, 12, 30);
	g_autoptr(GError) error = NULL;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	g_assert_cmpuint(hh_free_at(f, HH_WEST, "W-HH-LOH", at,
				    hh_options("Lohja", NULL, NULL)),
			 ==, 3);
	g_assert_cmpuint(hh_free_at(f, HH_WEST, "W-HH-LOH", at,
				    hh_options("Karkkila", NULL, NULL)),
			 ==, 3);
	g_assert_true(book(f, "W-HH-LOH", hh_local(2026, 3, 2, 14, 30),
			   "client-lohja-9", hh_options("Lohja", "fi", NULL),
			   &error));
	g_assert_no_error(error);
	g_assert_true(book(f, "W-HH-LOH", hh_local(2026, 3, 2, 14, 30),
			   "client-lohja-10", hh_options("Lohja", "fi", NULL),
			   &error));
	g_assert_no_error(error);
	g_assert_cmpuint(hh_free_at(f, HH_WEST, "W-HH-LOH", at,
				    hh_options("Karkkila", NULL, NULL)),
			 ==, 3);
	g_assert_cmpuint(hh_free_at(f, HH_WEST, "W-HH-LOH",
				    hh_local(2026, 3, 2, 13, 30),
				    hh_options("Karkkila", NULL, NULL)),
			 ==, 0);
	g_assert_false(book(f, "W-HH-LOH", hh_local(2026, 3, 2, 13, 30),
			    "client-karkkila-1",
			    hh_options("Karkkila", "fi", NULL), &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_assert_nonnull(strstr(error->message, "day shift ends at 15:30"));
}

/* Lohja's night nurse speaks Finnish only (swedish-shifts=day;evening):
 * a Swedish visit at 23:00 is refused with the hours that do have
 * Swedish; at 15:00 it books, and Espoo has Swedish at night. */
static void
test_swedish_at_night(HhFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	g_assert_false(book(f, "W-HH-LOH", hh_local(2026, 3, 2, 23, 0),
			    "client-sv-1", hh_options("Lojo", "sv", NULL),
			    &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_assert_nonnull(strstr(error->message,
				"the night shift of W-HH-LOH has no "
				"Swedish-speaking nurse"));
	g_assert_nonnull(strstr(error->message,
				"day (07:00-14:30), evening (14:30-22:00)"));
	g_clear_error(&error);
	g_assert_true(book(f, "W-HH-LOH", hh_local(2026, 3, 2, 15, 0),
			   "client-sv-1", hh_options("Lojo", "sv", NULL),
			   &error));
	g_assert_no_error(error);
	g_assert_true(book(f, "W-HH-ESP", hh_local(2026, 3, 2, 23, 0),
			   "client-sv-2", hh_options("Esbo", "sv", NULL),
			   &error));
	g_assert_no_error(error);
}

static void
test_request_keys_checked(HhFixture *f, gconstpointer data)
{
	gint64 at = hh_local(2026, 3, 2, 9, 0);
	GVariantDict options;
	g_autoptr(GError) error = NULL;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	g_assert_false(book(f, "W-HH-LOH", at, "client-x",
			    hh_options(NULL, "fi", NULL), &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_assert_nonnull(strstr(error->message, "home visits need the client's "
						"municipality"));
	g_clear_error(&error);
	g_assert_false(book(f, "W-HH-LOH", at, "client-x",
			    hh_options("Lohja", "fi", "iv-q6h"), &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_assert_nonnull(strstr(error->message,
				"this base knows iv-q24h, iv-q12h, iv-q8h, "
				"fluids, palliative, lab"));
	g_clear_error(&error);
	g_variant_dict_init(&options, hh_options("Lohja", "fi", NULL));
	g_variant_dict_insert(&options, "visit-minutes", "u", 0);
	g_assert_false(book(f, "W-HH-LOH", at, "client-x",
			    g_variant_dict_end(&options), &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_assert_cmpuint(hh_count_bookings(f, "client-x"), ==, 0);
}

/* At 09:10 the 09:00 slot is under way: a routine visit must wait for
 * the next slot, an urgent one goes now. */
static void
test_started_slot_needs_urgency(HhFixture *f, gconstpointer data)
{
	gint64 at = hh_local(2026, 3, 2, 9, 0);
	GVariantDict options;
	g_autoptr(GError) error = NULL;

	hh_fixture_start(f, 2026, 3, 2, 9, 10);
	g_assert_false(book(f, "W-HH-LOH", at, "client-u",
			    hh_options("Lohja", "fi", NULL), &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_assert_nonnull(strstr(error->message, "has already started"));
	g_clear_error(&error);
	g_variant_dict_init(&options, hh_options("Lohja", "fi", NULL));
	g_variant_dict_insert(&options, "urgency", "s", "urgent");
	g_assert_true(book(f, "W-HH-LOH", at, "client-u",
			   g_variant_dict_end(&options), &error));
	g_assert_no_error(error);
}

static guint
slot_capacity(HhFixture *f, const char *offering, gint64 start, gint64 to,
	      guint *ret_count)
{
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(
		store_list_slots(f->store, offering, start, to, slots, &error));
	g_assert_no_error(error);
	*ret_count = slots->len;
	return slots->len ? g_array_index(slots, StoreSlot, 0).capacity : 0;
}

static void
assert_capacity(HhFixture *f, const char *offering, int hour, int minute,
		guint nurses)
{
	gint64 at = hh_local(2026, 3, 3, hour, minute);
	guint count;

	g_assert_cmpuint(slot_capacity(f, offering, at, at + 1, &count), ==,
			 nurses);
	g_assert_cmpuint(count, ==, nurses ? 1 : 0);
}

/* Each shift owns its slots until the next one starts: one slot per
 * half hour, never two, with the nurses of the owning shift. Raasepori
 * has no night: its evening runs to 22:30 and then nothing until 07. */
static void
test_shift_slots(HhFixture *f, gconstpointer data)
{
	static const char loh[] = "W-HH-LOH/" HH_WEST;
	static const char ras[] = "W-HH-RAS/" HH_WEST;
	guint count;

	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	slot_capacity(f, loh, hh_local(2026, 3, 3, 0, 0),
		      hh_local(2026, 3, 4, 0, 0), &count);
	g_assert_cmpuint(count, ==, 48);
	assert_capacity(f, loh, 6, 30, 1);
	assert_capacity(f, loh, 7, 0, 3);
	assert_capacity(f, loh, 14, 0, 3);
	assert_capacity(f, loh, 14, 30, 2);
	assert_capacity(f, loh, 21, 30, 2);
	assert_capacity(f, loh, 22, 0, 1);
	slot_capacity(f, ras, hh_local(2026, 3, 3, 0, 0),
		      hh_local(2026, 3, 4, 0, 0), &count);
	g_assert_cmpuint(count, ==, 15 + 16);
	assert_capacity(f, ras, 22, 0, 1);
	assert_capacity(f, ras, 22, 30, 0);
	assert_capacity(f, ras, 6, 30, 0);
}

/* Summer time starts on 2026-03-29 (03:00 EET -> 04:00 EEST): the night
 * from the 28th is 8 real hours, 16 slots, not 18. */
static void
test_spring_night_is_shorter(HhFixture *f, gconstpointer data)
{
	guint count;

	hh_fixture_start(f, 2026, 3, 27, 6, 0);
	slot_capacity(f, "W-HH-LOH/" HH_WEST, hh_local(2026, 3, 28, 22, 0),
		      hh_local(2026, 3, 29, 7, 0), &count);
	g_assert_cmpuint(count, ==, 16);
	slot_capacity(f, "W-HH-LOH/" HH_WEST, hh_local(2026, 3, 27, 22, 0),
		      hh_local(2026, 3, 28, 7, 0), &count);
	g_assert_cmpuint(count, ==, 18);
}

/* A base may define its own template: wound care daily for 5-14 days,
 * 30 min on site (first visit too): 30 + 50 -> 90 min in Lohja. */
static void
test_custom_template(HhFixture *f, gconstpointer data)
{
	static const char group[] = "offering W-HH-LOH " HH_WEST;
	g_autoptr(GVariant) options =
		g_variant_ref_sink(hh_options("Lohja", "fi", "wound-care"));
	g_autoptr(GVariant) booking = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *slot = NULL;
	g_autofree char *id = NULL;
	gint64 start, end;

	hh_fixture_set_key(f, group, "episodes", "iv-q8h;wound-care");
	hh_fixture_set_key(f, group, "episode-wound-care",
			   "interval=24h visit=30 days=5-14");
	hh_fixture_start(f, 2026, 3, 2, 6, 0);
	slot = hh_slot_at(f, "W-HH-LOH", hh_local(2026, 3, 2, 10, 0));
	g_assert_true(capacity_book(f->capacity, &test_caller, slot, "c-w",
				    options, &id, &error));
	g_assert_no_error(error);
	booking = hh_get_booking(f, id);
	g_assert_true(g_variant_lookup(booking, "start", "x", &start));
	g_assert_true(g_variant_lookup(booking, "end", "x", &end));
	g_assert_cmpint(end - start, ==, 90 * 60);
}

typedef struct {
	const char *unit;
	const char *key;
	const char *value;
	const char *needle;
} BadConfig;

static const BadConfig bad_configs[] = {
	{ "W-HH-LOH", "episode-iv-q8h", "interval=8h days=3h", "bad days" },
	{ "W-HH-LOH", "covers", "Lohja;Turku",
	  "unknown municipality \"Turku\"" },
	{ "W-HH-LOH", "swedish-shifts", "day;morning",
	  "\"morning\" is not one of this base's windows" },
	{ "W-HH-ESP", "default-episode", "iv-q6h", "\"iv-q6h\" is not in" },
	{ "W-HH-RAS", "episodes", "iv-q24h;wound-care",
	  "define it with episode-wound-care=" },
	{ "W-HH-LOH", "max-visits-per-day", "0", "max-visits-per-day" },
	{ "W-HH-LOH", "productive-share", "1.5", "productive-share" },
	{ "W-HH-LOH", "cover", "Lohja", "cover" },
	{ "W-HH-RAS", "languages", "fi", "not sv in languages" },
	{ "W-HH-ESP", "interval-tolerance-minutes", "480",
	  "must be shorter than the interval (480 min)" },
};

static void
test_bad_config(HhFixture *f, gconstpointer data)
{
	const BadConfig *bad = data;
	g_autofree char *group =
		g_strdup_printf("offering %s %s", bad->unit, HH_WEST);
	g_autoptr(GError) error = NULL;

	if (g_str_equal(bad->key, "languages"))
		hh_fixture_set_key(f, group, "swedish-shifts", "day");
	hh_fixture_set_key(f, group, bad->key, bad->value);
	g_assert_false(hh_fixture_load(f, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG);
	g_assert_nonnull(strstr(error->message, "home-hospital.conf"));
	g_assert_nonnull(strstr(error->message, group));
	g_assert_nonnull(strstr(error->message, bad->needle));
}

static void
add(const char *path, void (*test)(HhFixture *f, gconstpointer data))
{
	g_test_add(path, HhFixture, NULL, hh_fixture_set_up, test,
		   hh_fixture_tear_down);
}

void
hh_test_add_coverage(void)
{
	add("/home-hospital/coverage/hanko-client-finds-only-raasepori",
	    test_hanko_finds_only_raasepori);
	add("/home-hospital/coverage/porvoo-client-refused-by-west-bases",
	    test_porvoo_refused_by_west);
	add("/home-hospital/find/a-visit-takes-only-its-own-shifts-nurses",
	    test_karkkila_stays_in_its_shift);
	add("/home-hospital/language/swedish-at-night-refused-in-lohja",
	    test_swedish_at_night);
	add("/home-hospital/request/municipality-and-episode-checked",
	    test_request_keys_checked);
	add("/home-hospital/request/started-slot-needs-urgency",
	    test_started_slot_needs_urgency);
	add("/home-hospital/shape/shifts-own-slots-without-overlap",
	    test_shift_slots);
	add("/home-hospital/shape/spring-night-is-8-hours",
	    test_spring_night_is_shorter);
	add("/home-hospital/config/custom-episode-template",
	    test_custom_template);
	for (guint i = 0; i < G_N_ELEMENTS(bad_configs); i++) {
		g_autofree char *path = g_strdup_printf(
			"/home-hospital/config/refuses-%s-%s",
			bad_configs[i].unit, bad_configs[i].key);

		g_test_add(path, HhFixture, &bad_configs[i], hh_fixture_set_up,
			   test_bad_config, hh_fixture_tear_down);
	}
}
