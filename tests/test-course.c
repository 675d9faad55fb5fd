/* Short-therapy courses (plugin therapy-course) on the real daemon and
 * a private bus with the example region: a course found and booked
 * whole in one call, and a course refused whole when one week's
 * therapist time is taken — nothing of it is left in the database,
 * read with our own SQL; and the therapy guarantee binding the first
 * session. */
#include <string.h>

#include <gio/gio.h>
#include <sqlite3.h>

#include "harness.h"

#define SCHED "org.slotd.Scheduler1"
#define COURSE "short-therapy-east"

static Harness h;

static gint64
sql_int(const char *query)
{
	g_autofree char *path = g_build_filename(h.state_dir, "slotd.db",
						 NULL);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	gint64 value = -1;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
					NULL), ==, SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	g_assert_cmpint(sqlite3_prepare_v2(db, query, -1, &stmt, NULL), ==,
			SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return value;
}

/* The slots of the first course FindSeries offers at `unit` starting
 * at `start`. */
static char **
course_at(const char *unit, gint64 start, guint count, const char *language)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL, rows = NULL;

	reply = harness_call(&h, SCHED, "FindSeries",
			     g_variant_new_parsed(
				     "(%s, {'every': <'weekly'>, 'count': <%u>},"
				     " {'from': <%x>, 'to': <%x>, "
				     "'language': <%s>})",
				     COURSE, count, start, start + 60,
				     language),
			     "(aa{sv})", &error);
	g_assert_no_error(error);
	rows = g_variant_get_child_value(reply, 0);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		const char *u = NULL;
		char **slots = NULL;

		g_variant_lookup(row, "unit", "&s", &u);
		if (g_strcmp0(u, unit) != 0)
			continue;
		g_assert_true(g_variant_lookup(row, "slots", "^as", &slots));
		g_assert_cmpuint(g_strv_length(slots), ==, count);
		return slots;
	}
	g_error("no course at %s", unit);
	return NULL;
}

static GVariant *
book_series(char **slots, const char *client, GError **error)
{
	return harness_call(&h, SCHED, "BookSeries",
			    g_variant_new("(^ass@a{sv})", slots, client,
					  g_variant_new_parsed(
						  "{'language': <'sv'>}")),
			    "(as)", error);
}

/* Found and booked in one call: six Tuesdays at Porvoo, one therapist,
 * one series in the database. */
static void
test_find_and_book(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) slots = course_at("E-TEL",
					harness_local(2026, 12, 8, 9, 0), 6,
					"sv");
	g_autoptr(GVariant) reply = book_series(slots, "client-tc-1", &error);
	g_autofree char *query = NULL;

	g_assert_no_error(error);
	query = g_strdup("SELECT COUNT(*) FROM booking WHERE "
			 "client_ref = 'client-tc-1' AND status = 'booked' "
			 "AND series = (SELECT MIN(id) FROM booking WHERE "
			 "client_ref = 'client-tc-1')");
	g_assert_cmpint(sql_int(query), ==, 6);
	g_assert_cmpint(sql_int("SELECT COUNT(DISTINCT r.resource) FROM "
				"resource_use r JOIN booking b ON "
				"b.id = r.booking WHERE b.client_ref = "
				"'client-tc-1' AND r.resource LIKE 'tel-%-t%'"),
			==, 1);
}

/* Loviisa has one therapist. A course from Wednesday 9 December is
 * found; before it is booked, another client's course takes the
 * Wednesday 23 December session (its third week). BookSeries of the
 * first then fails whole: none of its five sessions is booked. */
static void
test_refused_whole(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) first = course_at("E-TEL-LOV",
					harness_local(2026, 12, 9, 9, 0), 5,
					"sv");
	g_auto(GStrv) other = course_at("E-TEL-LOV",
					harness_local(2026, 12, 23, 9, 0), 5,
					"sv");
	g_autoptr(GVariant) taken = book_series(other, "client-tc-3",
						&error);
	g_autoptr(GVariant) refused = NULL;

	g_assert_no_error(error);
	g_assert_cmpstr(first[2], ==, other[0]);
	refused = book_series(first, "client-tc-2", &error);
	g_assert_null(refused);
	harness_assert_dbus_error(error, "org.slotd.Error.SlotFull");
	g_assert_nonnull(strstr(error->message, "visit 3 of 5"));
	g_assert_cmpint(sql_int("SELECT COUNT(*) FROM booking WHERE "
				"client_ref = 'client-tc-2'"),
			==, 0);
	g_assert_cmpint(sql_int("SELECT COUNT(*) FROM booking WHERE "
				"client_ref = 'client-tc-3' AND "
				"status = 'booked'"),
			==, 5);
}

static GVariant *
book_series_with(char **slots, const char *client, const char *options,
		 GError **error)
{
	return harness_call(&h, SCHED, "BookSeries",
			    g_variant_new("(^ass@a{sv})", slots, client,
					  g_variant_new_parsed(options)),
			    "(as)", error);
}

/* The therapy guarantee: an under-23's need confirmed on 20 November
 * gives a deadline at the end of 18 December. A course from Tuesday 29
 * December is refused without a reason and booked with one (its first
 * session marked late); one from Tuesday 15 December needs none. */
static void
test_first_session_deadline(void)
{
	gint64 referral = harness_local(2026, 11, 20, 10, 0);
	g_autofree char *plain = g_strdup_printf(
		"{'language': <'fi'>, 'age': <uint32 19>, 'referral-time': "
		"<int64 %" G_GINT64_FORMAT ">}", referral);
	g_autofree char *late = g_strdup_printf(
		"{'language': <'fi'>, 'age': <uint32 19>, 'referral-time': "
		"<int64 %" G_GINT64_FORMAT ">, 'deadline-exceeded-reason': "
		"<'client asked for January'>}", referral);
	g_auto(GStrv) after = course_at("E-TEL",
					harness_local(2026, 12, 29, 10, 0), 5,
					"fi");
	g_auto(GStrv) before = course_at("E-TEL",
					 harness_local(2026, 12, 15, 13, 0), 5,
					 "fi");
	g_autoptr(GVariant) r = NULL, b = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char **ids = NULL;
	gboolean exceeded = FALSE;
	gint64 deadline = 0;

	r = book_series_with(after, "client-tc-late", plain, &error);
	g_assert_null(r);
	harness_assert_dbus_error(error,
				  "org.slotd.Error.DeadlineUnreachable");
	g_clear_error(&error);
	g_assert_cmpint(sql_int("SELECT COUNT(*) FROM booking WHERE "
				"client_ref = 'client-tc-late'"), ==, 0);
	r = book_series_with(after, "client-tc-late", late, &error);
	g_assert_no_error(error);
	g_variant_get(r, "(^a&s)", &ids);
	b = harness_call(&h, SCHED, "GetBooking",
			 g_variant_new("(s)", ids[0]), "(a{sv})", &error);
	g_assert_no_error(error);
	{
		g_autoptr(GVariant) d = g_variant_get_child_value(b, 0);

		g_assert_true(g_variant_lookup(d, "deadline", "x", &deadline));
		g_assert_cmpint(deadline, ==,
				harness_local(2026, 12, 19, 0, 0) - 1);
		g_assert_true(g_variant_lookup(d, "deadline-exceeded", "b",
					       &exceeded));
		g_assert_true(exceeded);
	}
	g_clear_pointer(&r, g_variant_unref);
	r = book_series_with(before, "client-tc-early", plain, &error);
	g_assert_no_error(error);
	g_assert_cmpint(sql_int("SELECT COUNT(*) FROM booking WHERE "
				"client_ref = 'client-tc-early' AND "
				"status = 'booked'"), ==, 5);
}

int
main(int argc, char **argv)
{
	g_autofree char *entry = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	harness_init(&h);
	h.horizon_days = 70;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	entry = harness_copy_example(&h);
	harness_start_slotd(&h, entry);
	g_test_add_func("/course/find-and-book", test_find_and_book);
	g_test_add_func("/course/refused-whole", test_refused_whole);
	g_test_add_func("/course/first-session-deadline",
			test_first_session_deadline);
	status = g_test_run();
	return harness_finish(&h, status);
}
