/* therapy-course: whole courses through the real engine — found and
 * booked, moved off a holiday within its week, the course length, the
 * weekly rhythm of a moved session, no-shows that end a course, the
 * therapy guarantee and the planner's rows. The expected values come
 * from the example file (three Porvoo therapists, one in Loviisa and
 * one in Sipoo, six sessions each a weekday) and the calendar. */
#include <string.h>

#include <slotd/plugin.h>

#include "planner-engine.h"
#include "test-therapy-course.h"
#include "therapy-course.h"

static const Caller caller = { 1000, "test-therapy-course", FALSE };

static GVariant *
find_series(TcFixture *f, guint count, gint64 from, gint64 to,
	    const char *language, GError **error)
{
	GVariantDict pattern, query;
	g_autoptr(GVariant) p = NULL, q = NULL;
	GVariant *rows = NULL;

	g_variant_dict_init(&pattern, NULL);
	g_variant_dict_insert(&pattern, "every", "s", "weekly");
	g_variant_dict_insert(&pattern, "count", "u", count);
	g_variant_dict_init(&query, NULL);
	g_variant_dict_insert(&query, "from", "x", from);
	g_variant_dict_insert(&query, "to", "x", to);
	if (language)
		g_variant_dict_insert(&query, "language", "s", language);
	p = g_variant_ref_sink(g_variant_dict_end(&pattern));
	q = g_variant_ref_sink(g_variant_dict_end(&query));
	if (!capacity_find_series(f->capacity, TC_SERVICE, p, q, &rows,
				  error))
		return NULL;
	return rows;
}

/* The row of the series at `unit`; its slots and starts. */
static GVariant *
row_at(GVariant *rows, const char *unit)
{
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		GVariant *row = g_variant_get_child_value(rows, i);
		const char *u = NULL;

		g_variant_lookup(row, "unit", "&s", &u);
		if (g_strcmp0(u, unit) == 0)
			return row;
		g_variant_unref(row);
	}
	return NULL;
}

static GPtrArray *
book(TcFixture *f, const char *const *slots, const char *client,
     GVariant *options, GError **error)
{
	g_autoptr(GVariant) sunk =
		g_variant_ref_sink(options ? options
					   : g_variant_new("a{sv}", NULL));
	GPtrArray *ids = NULL;

	if (!capacity_book_series(f->capacity, &caller, slots, client, sunk,
				  &ids, error))
		return NULL;
	return ids;
}

static GVariant *
get(TcFixture *f, const char *id)
{
	g_autoptr(GError) error = NULL;
	GVariant *b = NULL;

	g_assert_true(capacity_get_booking(f->capacity, id, &b, &error));
	g_assert_no_error(error);
	return b;
}

static char *
string_of(GVariant *booking, const char *key)
{
	const char *value = NULL;

	g_variant_lookup(booking, key, "&s", &value);
	return g_strdup(value);
}

/* A course of six found and booked whole, one therapist throughout. */
static void
test_find_and_book(TcFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = NULL, row = NULL;
	g_autofree const char **slots = NULL;
	g_autofree char *first_practitioner = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	g_autofree gint64 *starts = NULL;
	g_autoptr(GVariant) starts_v = NULL;
	gsize n = 0;

	tc_fixture_start(f, 2026, 11, 30, 7, 0);
	rows = find_series(f, 6, tc_local(2026, 12, 1, 9, 0),
			   tc_local(2026, 12, 1, 9, 1), "fi", &error);
	g_assert_no_error(error);
	row = row_at(rows, "E-TEL");
	g_assert_nonnull(row);
	g_assert_true(g_variant_lookup(row, "slots", "^a&s", &slots));
	starts_v = g_variant_lookup_value(row, "starts",
					  G_VARIANT_TYPE("ax"));
	starts = (gint64 *)g_variant_get_fixed_array(starts_v, &n,
						      sizeof(gint64));
	starts = g_memdup2(starts, n * sizeof(gint64));
	g_assert_cmpuint(n, ==, 6);
	/* Tuesdays 1 December to 5 January at 09:00: no holiday. */
	g_assert_cmpint(starts[0], ==, tc_local(2026, 12, 1, 9, 0));
	for (guint i = 1; i < 6; i++)
		g_assert_cmpint(starts[i], ==, tc_week_after(starts[0], i));
	g_assert_cmpint(starts[5], ==, tc_local(2027, 1, 5, 9, 0));
	ids = book(f, slots, "client-course-1", NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(ids->len, ==, 6);
	for (guint i = 0; i < ids->len; i++) {
		g_autoptr(GVariant) b = get(f, ids->pdata[i]);
		g_autofree char *practitioner = string_of(b, "practitioner");
		guint32 session = 0;
		gint64 anchor = 0;

		g_assert_nonnull(practitioner);
		g_assert_true(g_str_has_prefix(practitioner, "tel-por-"));
		if (i == 0)
			first_practitioner = g_strdup(practitioner);
		g_assert_cmpstr(practitioner, ==, first_practitioner);
		g_assert_true(g_variant_lookup(b, "course-session", "u",
					       &session));
		g_assert_cmpuint(session, ==, i + 1);
		g_assert_true(g_variant_lookup(b, "course-anchor", "x",
					       &anchor));
		g_assert_cmpint(anchor, ==, starts[0]);
	}
}

/* A course from Thursday 10 December: its third Thursday is Christmas
 * Eve, when the units are closed, so that session moves to Wednesday
 * 23rd at the same time; the fourth is back on Thursday 31st. */
static void
test_holiday_shift(TcFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = NULL, row = NULL, starts_v = NULL;
	g_autofree const char **slots = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GVariant) third = NULL;
	const gint64 *starts;
	gboolean moved = FALSE;
	gsize n = 0;

	tc_fixture_start(f, 2026, 12, 7, 7, 0);
	rows = find_series(f, 5, tc_local(2026, 12, 10, 9, 0),
			   tc_local(2026, 12, 10, 9, 1), "fi", &error);
	g_assert_no_error(error);
	row = row_at(rows, "E-TEL");
	g_assert_nonnull(row);
	g_assert_true(g_variant_lookup(row, "slots", "^a&s", &slots));
	starts_v = g_variant_lookup_value(row, "starts",
					  G_VARIANT_TYPE("ax"));
	starts = g_variant_get_fixed_array(starts_v, &n, sizeof(gint64));
	g_assert_cmpuint(n, ==, 5);
	g_assert_cmpint(starts[1], ==, tc_local(2026, 12, 17, 9, 0));
	g_assert_cmpint(starts[2], ==, tc_local(2026, 12, 23, 9, 0));
	g_assert_cmpint(starts[3], ==, tc_local(2026, 12, 31, 9, 0));
	g_assert_cmpint(starts[4], ==, tc_local(2027, 1, 7, 9, 0));
	ids = book(f, slots, "client-course-2", NULL, &error);
	g_assert_no_error(error);
	third = get(f, ids->pdata[2]);
	g_assert_true(g_variant_lookup(third, "moved-in-week", "b", &moved));
	g_assert_true(moved);

	/* Without the shift there is no such course. */
	{
		GVariantDict pattern, query;
		g_autoptr(GVariant) p = NULL, q = NULL, none = NULL;

		g_variant_dict_init(&pattern, NULL);
		g_variant_dict_insert(&pattern, "every", "s", "weekly");
		g_variant_dict_insert(&pattern, "count", "u", 5);
		g_variant_dict_insert(&pattern, "holiday-shift", "b", FALSE);
		g_variant_dict_init(&query, NULL);
		g_variant_dict_insert(&query, "from", "x",
				      tc_local(2026, 12, 10, 10, 0));
		g_variant_dict_insert(&query, "to", "x",
				      tc_local(2026, 12, 10, 10, 1));
		p = g_variant_ref_sink(g_variant_dict_end(&pattern));
		q = g_variant_ref_sink(g_variant_dict_end(&query));
		g_assert_true(capacity_find_series(f->capacity, TC_SERVICE,
						   p, q, &none, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(g_variant_n_children(none), ==, 0);
	}
}

/* Three sessions are not a course; FindSlots says how to book one. */
static void
test_course_length(TcFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *a = NULL, *b = NULL, *c = NULL;
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GVariant) query = NULL;
	const char *slots[4];

	tc_fixture_start(f, 2026, 11, 30, 7, 0);
	a = tc_slot_at(f, "E-TEL", tc_local(2026, 12, 1, 9, 0));
	b = tc_slot_at(f, "E-TEL", tc_local(2026, 12, 8, 9, 0));
	c = tc_slot_at(f, "E-TEL", tc_local(2026, 12, 15, 9, 0));
	slots[0] = a;
	slots[1] = b;
	slots[2] = c;
	slots[3] = NULL;
	g_assert_null(book(f, slots, "client-course-3", NULL, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_assert_nonnull(strstr(error->message, "5 to 10 weekly sessions"));
	g_clear_error(&error);
	query = g_variant_ref_sink(g_variant_new_parsed("@a{sv} {}"));
	g_assert_false(capacity_find(f->capacity, TC_SERVICE, query, &found,
				     &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
}

static GPtrArray *
book_tuesdays(TcFixture *f, guint count, const char *client,
	      GVariant *options, GError **error)
{
	g_autoptr(GVariant) rows = NULL, row = NULL;
	g_autofree const char **slots = NULL;

	rows = find_series(f, count, tc_local(2026, 12, 1, 9, 0),
			   tc_local(2026, 12, 1, 9, 1), "fi", error);
	g_assert_nonnull(rows);
	row = row_at(rows, "E-TEL");
	g_assert_nonnull(row);
	g_assert_true(g_variant_lookup(row, "slots", "^a&s", &slots));
	return book(f, slots, client, options, error);
}

/* A session moved an hour keeps the rhythm and the therapist; moved
 * two days it would not, and is refused. */
static void
test_reschedule(TcFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GVariant) before = NULL, after = NULL;
	g_autofree char *thursday = NULL, *later = NULL, *moved = NULL;
	g_autofree char *p_before = NULL, *p_after = NULL;

	tc_fixture_start(f, 2026, 11, 30, 7, 0);
	ids = book_tuesdays(f, 5, "client-course-4", NULL, &error);
	g_assert_no_error(error);
	before = get(f, ids->pdata[2]);
	p_before = string_of(before, "practitioner");
	thursday = tc_slot_at(f, "E-TEL", tc_local(2026, 12, 17, 9, 0));
	g_assert_false(capacity_reschedule(f->capacity, &caller,
					   ids->pdata[2], thursday, NULL,
					   &moved, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION);
	g_assert_nonnull(strstr(error->message, "session 3 of 5"));
	g_clear_error(&error);
	later = tc_slot_at(f, "E-TEL", tc_local(2026, 12, 15, 10, 0));
	g_assert_true(capacity_reschedule(f->capacity, &caller,
					  ids->pdata[2], later, NULL, &moved,
					  &error));
	g_assert_no_error(error);
	after = get(f, ids->pdata[2]);
	p_after = string_of(after, "practitioner");
	g_assert_cmpstr(p_after, ==, p_before);
}

static char *
status_of(TcFixture *f, const char *id, char **ret_reason)
{
	g_autoptr(GVariant) b = get(f, id);

	if (ret_reason)
		*ret_reason = string_of(b, "cancel-reason");
	return string_of(b, "status");
}

/* The second no-show ends the course: its later sessions are
 * cancelled, the ones before stay as they were. */
static void
test_noshows(TcFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) ids = NULL;

	tc_fixture_start(f, 2026, 11, 30, 7, 0);
	ids = book_tuesdays(f, 5, "client-course-5", NULL, &error);
	g_assert_no_error(error);
	f->now = tc_local(2026, 12, 8, 11, 0);
	g_assert_true(capacity_set_status(f->capacity, &caller, ids->pdata[0],
					  "noshow", &error));
	g_assert_no_error(error);
	for (guint i = 1; i < 5; i++) {
		g_autofree char *status = status_of(f, ids->pdata[i], NULL);

		g_assert_cmpstr(status, ==, "booked");
	}
	g_assert_true(capacity_set_status(f->capacity, &caller, ids->pdata[1],
					  "noshow", &error));
	g_assert_no_error(error);
	for (guint i = 2; i < 5; i++) {
		g_autofree char *reason = NULL;
		g_autofree char *status = status_of(f, ids->pdata[i], &reason);

		g_assert_cmpstr(status, ==, "cancelled");
		g_assert_cmpstr(reason, ==,
				"provider: course ended after 2 no-shows");
	}
}

/* Under 23, referral 20 days ago: the first session is due within 8
 * days. A course starting in 10 days needs the reason; its later
 * sessions are not held to the deadline. */
static void
test_deadline(TcFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GVariant) first = NULL;
	gboolean exceeded = FALSE;
	gint64 deadline = 0;
	GVariantDict options;

	tc_fixture_start(f, 2026, 11, 21, 12, 0);
	g_variant_dict_init(&options, NULL);
	g_variant_dict_insert(&options, "referral-time", "x",
			      tc_local(2026, 11, 1, 12, 0));
	g_variant_dict_insert(&options, "age", "u", 19);
	g_assert_null(book_tuesdays(f, 5, "client-course-6",
				    g_variant_dict_end(&options), &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_DEADLINE_UNREACHABLE);
	g_assert_nonnull(strstr(error->message, "visit 1 of 5"));
	g_clear_error(&error);
	g_variant_dict_init(&options, NULL);
	g_variant_dict_insert(&options, "referral-time", "x",
			      tc_local(2026, 11, 1, 12, 0));
	g_variant_dict_insert(&options, "age", "u", 19);
	g_variant_dict_insert(&options, "deadline-exceeded-reason", "s",
			      "client asked for December");
	ids = book_tuesdays(f, 5, "client-course-6",
			    g_variant_dict_end(&options), &error);
	g_assert_no_error(error);
	first = get(f, ids->pdata[0]);
	g_assert_true(g_variant_lookup(first, "deadline", "x", &deadline));
	g_assert_cmpint(deadline, ==, tc_local(2026, 11, 30, 0, 0) - 1);
	g_assert_true(g_variant_lookup(first, "deadline-exceeded", "b",
				       &exceeded));
	g_assert_true(exceeded);
}

static GVariant *
plan_row(GPtrArray *rows, const char *language, gint64 week)
{
	for (guint i = 0; i < rows->len; i++) {
		const char *l = NULL;
		gint64 w = 0;

		g_variant_lookup(rows->pdata[i], "language", "&s", &l);
		g_variant_lookup(rows->pdata[i], "week-start", "x", &w);
		if (g_strcmp0(l, language) == 0 && w == week)
			return rows->pdata[i];
	}
	g_error("no plan row for %s", language);
	return NULL;
}

static double
row_double(GVariant *row, const char *key)
{
	double value = -2;

	g_assert_true(g_variant_lookup(row, key, "d", &value));
	return value;
}

/* The week of 30 November: five weekdays, six sessions a day of five
 * therapists (all offerings serve fi and sv) = 150 free sessions of
 * 45 minutes (112.5 hours); a course of 8 (the middle of 5-10) a week
 * for 8 weeks: 18.7 courses can start a week. A course booked takes
 * one session of the week. 40 referrals a week, half under 23, fill
 * the starts and pile up. */
static void
test_plan(TcFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL, busy = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	g_autoptr(GVariant) none = NULL, heavy = NULL;
	gint64 week = tc_local(2026, 11, 30, 0, 0);
	GVariant *fi;
	double breaching = 0;

	tc_fixture_start(f, 2026, 11, 30, 7, 0);
	none = g_variant_ref_sink(g_variant_new_parsed("@a{sv} {}"));
	g_assert_true(planner_staffing(f->capacity, TC_SERVICE, none, week,
				       week + 7 * 86400, &rows, &error));
	g_assert_no_error(error);
	fi = plan_row(rows, "fi", week);
	g_assert_cmpfloat_with_epsilon(row_double(fi, "free-sessions"), 150,
				       1e-9);
	g_assert_cmpfloat_with_epsilon(row_double(fi, "free-therapist-hours"),
				       112.5, 1e-9);
	g_assert_cmpfloat_with_epsilon(row_double(fi, "courses-can-start"),
				       18.7, 1e-9);
	ids = book_tuesdays(f, 5, "client-course-7", NULL, &error);
	g_assert_no_error(error);
	heavy = g_variant_ref_sink(g_variant_new_parsed(
		"{'referrals-per-week': <40.0>, 'under-23-share': <0.5>}"));
	g_assert_true(planner_staffing(f->capacity, TC_SERVICE, heavy, week,
				       week + 70 * 86400, &busy, &error));
	g_assert_no_error(error);
	fi = plan_row(busy, "fi", week);
	g_assert_cmpfloat_with_epsilon(row_double(fi, "free-sessions"), 149,
				       1e-9);
	for (guint i = 0; i < busy->len; i++) {
		const char *l = NULL;

		g_variant_lookup(busy->pdata[i], "language", "&s", &l);
		if (g_strcmp0(l, "fi") == 0)
			breaching += row_double(busy->pdata[i],
						"under-23-breaching-28-days");
	}
	g_assert_cmpfloat(breaching, >, 0);
}

static void
add(const char *name, void (*test)(TcFixture *, gconstpointer))
{
	g_autofree char *path = g_strdup_printf("/therapy-course/%s", name);

	g_test_add(path, TcFixture, NULL, tc_fixture_set_up, test,
		   tc_fixture_tear_down);
}

void
tc_test_add_courses(void)
{
	add("find-and-book", test_find_and_book);
	add("holiday-shift", test_holiday_shift);
	add("course-length", test_course_length);
	add("reschedule", test_reschedule);
	add("noshows", test_noshows);
	add("deadline", test_deadline);
	add("plan", test_plan);
}
