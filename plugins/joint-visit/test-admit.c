/* Joint visits end to end through the capacity engine with the example
 * service file: what a visit takes (one practitioner of each
 * organisation for the visit and both drives), the refusals when one
 * organisation has nobody free, when the team would be back after
 * closing, and when the request does not say where the visit goes. The
 * clock is Monday 2026-12-07 07:00; a visit needs a day's notice, so
 * the tests book Tuesday, when Coronaria has one nurse (jv-cor-n1). */
#include <string.h>

#include "joint-visit.h"
#include "test-joint-visit.h"

static const Caller caller = { 0, "test", FALSE };

static gboolean
book(JvFixture *f, gint64 start, const char *client, GVariant *options,
     char **ret_id, GError **error)
{
	g_autoptr(GVariant) opts = g_variant_ref_sink(options);
	g_autofree char *slot = jv_slot_at(f, start);
	g_autofree char *id = NULL;
	gboolean ok = capacity_book(f->capacity, &caller, slot, client, opts,
				    &id, error);

	if (ret_id)
		*ret_id = g_steal_pointer(&id);
	return ok;
}

static GVariant *
get_booking(JvFixture *f, const char *id)
{
	g_autoptr(GError) error = NULL;
	GVariant *booking = NULL;

	g_assert_true(capacity_get_booking(f->capacity, id, &booking, &error));
	g_assert_no_error(error);
	return booking;
}

static gboolean
has_prefix_in(const char *const *ids, const char *prefix)
{
	for (guint i = 0; ids[i]; i++)
		if (g_str_has_prefix(ids[i], prefix))
			return TRUE;
	return FALSE;
}

/* asumis-1 is 12 minutes away: the team leaves at 09:00, arrives
 * 09:12, leaves the client at 10:42 and is back at 10:54; all three
 * organisations go, and nobody of them before 11:00 again. */
static void
test_visit_takes_the_team(JvFixture *f, gconstpointer data)
{
	gint64 nine = jv_local(2026, 12, 8, 9, 0);
	g_autoptr(GError) error = NULL;
	g_autofree char *id = NULL;
	g_autoptr(GVariant) b = NULL;
	g_autofree const char **resources = NULL;
	gint64 end = 0, arrives = 0;
	guint32 round_trip = 0;

	jv_fixture_start(f, 2026, 12, 7, 7, 0);
	g_assert_true(book(f, nine, "kartoitus-1",
			   jv_options("asumis-1", "fi", NULL), &id, &error));
	g_assert_no_error(error);
	b = get_booking(f, id);
	g_assert_true(g_variant_lookup(b, "end", "x", &end));
	g_assert_cmpint(end - nine, ==, 114 * 60);
	g_assert_true(g_variant_lookup(b, "arrives", "x", &arrives));
	g_assert_cmpint(arrives - nine, ==, 12 * 60);
	g_assert_true(g_variant_lookup(b, "round-trip-minutes", "u",
				       &round_trip));
	g_assert_cmpuint(round_trip, ==, 24);
	g_assert_true(g_variant_lookup(b, "resources", "^a&s", &resources));
	g_assert_cmpuint(g_strv_length((char **)resources), ==, 3);
	g_assert_true(has_prefix_in(resources, "jv-por-"));
	g_assert_true(has_prefix_in(resources, "jv-hus-"));
	g_assert_true(g_strv_contains(resources, "jv-cor-n1"));
	/* The one Coronaria nurse of Tuesday is on the road until 10:54. */
	g_assert_false(book(f, nine + 3600, "kartoitus-2",
			    jv_options("asumis-3", "fi", NULL), NULL,
			    &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_assert_nonnull(strstr(error->message, "nurse of coronaria"));
	g_clear_error(&error);
	g_assert_true(book(f, nine + 2 * 3600, "kartoitus-2",
			   jv_options("asumis-3", "fi", NULL), NULL, &error));
	g_assert_no_error(error);
}

/* Coronaria's nurse is ill on Tuesday: nobody of that organisation is
 * free, so no joint visit that day, although the city and HUS are. */
static void
test_one_organisation_absent(JvFixture *f, gconstpointer data)
{
	gint64 day = jv_local(2026, 12, 8, 0, 0);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) affected = NULL;
	g_autofree char *absence = NULL;

	jv_fixture_start(f, 2026, 12, 7, 7, 0);
	g_assert_true(capacity_mark_absent(f->capacity, &caller, "jv-cor-n1",
					   day, day + 86400, "sick",
					   &absence, &affected, &error));
	g_assert_no_error(error);
	for (int hour = 9; hour <= 13; hour++) {
		g_assert_false(book(f, jv_local(2026, 12, 8, hour, 0),
				    "kartoitus-3",
				    jv_options("asumis-5", NULL, NULL), NULL,
				    &error));
		g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
		g_assert_nonnull(strstr(error->message, "coronaria"));
		g_clear_error(&error);
	}
	/* Wednesday: her colleague jv-cor-n2 is there too. */
	g_assert_true(book(f, jv_local(2026, 12, 9, 9, 0), "kartoitus-3",
			   jv_options("asumis-5", NULL, NULL), NULL, &error));
	g_assert_no_error(error);
}

/* 13:30 + 114 minutes is 15:24: after the team's 15:00. */
static void
test_back_before_closing(JvFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	jv_fixture_start(f, 2026, 12, 7, 7, 0);
	g_assert_false(book(f, jv_local(2026, 12, 8, 13, 30), "kartoitus-4",
			    jv_options("asumis-1", NULL, NULL), NULL, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_assert_nonnull(strstr(error->message, "opening hours"));
	g_clear_error(&error);
	/* asumis-8, 25 minutes away: 140 minutes, so 12:30 is the last. */
	g_assert_false(book(f, jv_local(2026, 12, 8, 13, 0), "kartoitus-4",
			    jv_options("asumis-8", NULL, NULL), NULL, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_clear_error(&error);
	g_assert_true(book(f, jv_local(2026, 12, 8, 12, 30), "kartoitus-4",
			   jv_options("asumis-8", NULL, NULL), NULL, &error));
	g_assert_no_error(error);
}

static void
test_where_it_goes(JvFixture *f, gconstpointer data)
{
	gint64 nine = jv_local(2026, 12, 8, 9, 0);
	g_autoptr(GError) error = NULL;
	g_autofree char *id = NULL;
	g_autoptr(GVariant) b = NULL;
	gint64 end = 0;

	jv_fixture_start(f, 2026, 12, 7, 7, 0);
	g_assert_false(book(f, nine, "kartoitus-5",
			    jv_options("asumis-42", NULL, NULL), NULL,
			    &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_assert_nonnull(strstr(error->message, "asumis-1 (Porvoo)"));
	g_clear_error(&error);
	g_assert_false(book(f, nine, "kartoitus-5",
			    jv_options(NULL, NULL, NULL), NULL, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	/* An anonymous client cannot be visited. */
	g_assert_false(book(f, nine, "", jv_options("asumis-1", NULL, NULL),
			    NULL, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);
	/* Without a housing unit, at the client's municipality with the
	 * region's drive (Porvoo's internal travel). */
	g_assert_true(book(f, nine, "kartoitus-5",
			   jv_options(NULL, "sv", "Borgå"), &id, &error));
	g_assert_no_error(error);
	b = get_booking(f, id);
	g_assert_true(g_variant_lookup(b, "end", "x", &end));
	g_assert_cmpint(end - nine, ==,
			(gint64)(90 + 2 * slotd_offering_travel_minutes(
					 region_find_offering(
						 f->region,
						 JV_UNIT "/" JV_SERVICE),
					 "638", "638")) * 60);
}

void
jv_test_add_admit(void)
{
	g_test_add("/joint-visit/admit/visit-takes-the-team", JvFixture, NULL,
		   jv_fixture_set_up, test_visit_takes_the_team,
		   jv_fixture_tear_down);
	g_test_add("/joint-visit/admit/one-organisation-absent", JvFixture,
		   NULL, jv_fixture_set_up, test_one_organisation_absent,
		   jv_fixture_tear_down);
	g_test_add("/joint-visit/admit/back-before-closing", JvFixture, NULL,
		   jv_fixture_set_up, test_back_before_closing,
		   jv_fixture_tear_down);
	g_test_add("/joint-visit/admit/where-it-goes", JvFixture, NULL,
		   jv_fixture_set_up, test_where_it_goes,
		   jv_fixture_tear_down);
}
