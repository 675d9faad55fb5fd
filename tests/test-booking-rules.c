/* The booking rules every kind has (issue "The booking rules people ask
 * for most"), on the real daemon: notice, how far ahead, per-client
 * limits, the cancel cut-off, statuses in time, and an administrator's
 * audited override. Each refusal is a named error and leaves the
 * database as it was; FindSlots never offers what a rule forbids.
 *
 * The example region's needs-assessment-west at W-SNA-LV (Lohja) has
 * 90-minute slots at 08:30, 11:00 and 13:30 on weekdays, and the core's
 * default rules: 30 minutes' notice, cancel up to 30 minutes before,
 * arrived and checked-in from an hour before the start. */
#include <sqlite3.h>
#include <string.h>

#include "harness.h"

#define SCHED "org.slotd.Scheduler1"
#define SNA "needs-assessment-west"
#define SNA_GROUP "offering W-SNA-LV needs-assessment-west"

static Harness h;

/* ---- set-up --------------------------------------------------------- */

/* Slots for the week most tests look at (7 to 13 December); three
 * weeks for those that look further. Fewer days start slotd sooner. */
#define WEEK 7
#define THREE_WEEKS 21

/* The example region with `days` of slots, the clock at Monday
 * 2026-12-07 `hour`:`min` and, when `keys` is given, "key=value" pairs
 * set on W-SNA-LV. A second caller (nobody in group users) gets the
 * book role. */
static void
start(int hour, int minute, guint days, const char *const *keys)
{
	g_autofree char *entry = NULL;
	gboolean open = harness_second_group() != HARNESS_NO_GROUP;

	if (open)
		harness_init_open(&h);
	else
		harness_init(&h);
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, hour, minute));
	h.horizon_days = days;
	entry = harness_copy_example(&h);
	if (open)
		harness_set_key(entry, "access", "book-groups", "users");
	for (guint i = 0; keys && keys[i]; i += 2) {
		g_autofree char *dir = g_path_get_dirname(entry);
		g_autofree char *file = g_build_filename(
			dir, "services.d", "other-services.conf", NULL);

		harness_set_key(file, SNA_GROUP, keys[i], keys[i + 1]);
	}
	harness_start_slotd(&h, entry);
}

static void
stop(void)
{
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
}

/* Counts that any change would move. */
static char *
digest(void)
{
	g_autofree char *path = g_build_filename(h.state_dir, "slotd.db",
						 NULL);
	const char *sql =
		"SELECT (SELECT count(*) || '/' || total(seats) || '/' ||"
		" group_concat(status) FROM booking) || '|' ||"
		" (SELECT total(booked) || '/' || total(held) FROM slot) || '|'"
		" || (SELECT count(*) FROM audit) || '|' ||"
		" (SELECT count(*) FROM hold)";
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	char *text;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	text = g_strdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return text;
}

/* ---- calls ---------------------------------------------------------- */

/* The slot of `offering` at Helsinki time on a December day, straight
 * from the database (offered or not). */
static char *
slot_of(const char *offering, int day, int hour, int minute)
{
	g_autofree char *path = g_build_filename(h.state_dir, "slotd.db",
						 NULL);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	char *id = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db,
					   "SELECT 's-' || id FROM slot WHERE"
					   " offering = ?2 AND start = ?1",
					   -1, &stmt, NULL),
			==, SQLITE_OK);
	sqlite3_bind_int64(stmt, 1, harness_local(2026, 12, day, hour, minute));
	sqlite3_bind_text(stmt, 2, offering, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		id = g_strdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	g_assert_nonnull(id);
	return id;
}

static char *
slot_at(int day, int hour, int minute)
{
	return slot_of("W-SNA-LV/" SNA, day, hour, minute);
}

static GVariant *
options(const char *override)
{
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	if (override)
		g_variant_dict_insert(&d, "override-reason", "s", override);
	return g_variant_dict_end(&d);
}

static char *
book(const char *slot, const char *client, const char *override,
     GError **error)
{
	g_autoptr(GVariant) r = harness_call(
		&h, SCHED, "Book",
		g_variant_new("(ss@a{sv})", slot, client, options(override)),
		"(s)", error);
	char *id = NULL;

	if (r)
		g_variant_get(r, "(s)", &id);
	return id;
}

static char *
book_ok(const char *slot, const char *client, const char *override)
{
	g_autoptr(GError) error = NULL;
	char *id = book(slot, client, override, &error);

	g_assert_no_error(error);
	return id;
}

/* Book refused with `name`, and nothing changed. */
static void
book_refused(const char *slot, const char *client, const char *override,
	     const char *name, const char *words)
{
	g_autofree char *before = digest();
	g_autofree char *after = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *id = book(slot, client, override, &error);

	g_assert_null(id);
	harness_assert_dbus_error(error, name);
	if (words)
		g_assert_nonnull(strstr(error->message, words));
	after = digest();
	g_assert_cmpstr(before, ==, after);
}

/* Is the slot among what FindSlots offers this client on that day? */
static gboolean
offered(const char *slot, const char *client, int day)
{
	g_autoptr(GVariant) found = harness_find(
		&h, SNA,
		g_variant_new_parsed("{'municipality': <'Lohja'>, "
				     "'client-ref': <%s>, 'from': <%x>, "
				     "'to': <%x>, 'limit': <uint32 100>}",
				     client, harness_local(2026, 12, day, 0, 0),
				     harness_local(2026, 12, day + 1, 0, 0)));

	for (gsize i = 0; i < g_variant_n_children(found); i++) {
		const char *id;

		g_variant_get_child(found, i, "(&ssxxu@a{sv})", &id, NULL, NULL,
				    NULL, NULL, NULL);
		if (g_str_equal(id, slot))
			return TRUE;
	}
	return FALSE;
}

static gboolean
audit_has(const char *words)
{
	g_autofree char *path = g_build_filename(h.state_dir, "slotd.db",
						 NULL);
	g_autofree char *like = g_strdup_printf("%%%s%%", words);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	gboolean found;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db,
					   "SELECT count(*) FROM audit WHERE"
					   " detail LIKE ?1",
					   -1, &stmt, NULL),
			==, SQLITE_OK);
	sqlite3_bind_text(stmt, 1, like, -1, SQLITE_TRANSIENT);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	found = sqlite3_column_int(stmt, 0) > 0;
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return found;
}

/* ---- the rules ------------------------------------------------------ */

/* 08:21, a slot at 08:30: nine minutes is less than the notice. Not
 * offered, refused; an administrator books it with a reason, which the
 * audit log keeps; anyone else's override-reason is AccessDenied. */
static void
test_notice(void)
{
	g_autofree char *slot = NULL;
	g_autofree char *id = NULL;

	start(8, 21, WEEK, NULL);
	slot = slot_at(7, 8, 30);
	g_assert_false(offered(slot, "c-notice", 7));
	book_refused(slot, "c-notice", NULL, "org.slotd.Error.PolicyViolation",
		     "at least 30 minutes ahead");
	id = book_ok(slot, "c-notice", "the client is at the door");
	g_assert_true(g_str_has_prefix(id, "b-"));
	g_assert_true(audit_has("override: the client is at the door"));
	if (harness_second_group() != HARNESS_NO_GROUP) {
		g_autofree char *err = NULL;
		g_autofree char *before = digest();
		g_autofree char *after = NULL;
		const char *argv[] = {
			"gdbus", "call", "--address", h.address, "--dest",
			"org.slotd.Slotd1", "--object-path",
			"/org/slotd/Slotd1", "--method", SCHED ".Book", slot,
			"c-nobody",
			"{'municipality': <'Lohja'>, 'override-reason': "
			"<'because'>}",
			NULL
		};

		g_assert_cmpint(harness_run_as_nobody(
					&h, harness_second_group(), argv, NULL,
					&err),
				!=, 0);
		g_assert_nonnull(strstr(err, "AccessDenied"));
		after = digest();
		g_assert_cmpstr(before, ==, after);
	}
	stop();
}

/* max-advance-days=7: the slots of day 15 are not offered and Book
 * refuses them; day 10's are fine. */
static void
test_advance(void)
{
	const char *const keys[] = { "max-advance-days", "7", NULL };
	g_autofree char *far = NULL, *near = NULL, *id = NULL;

	start(7, 0, THREE_WEEKS, keys);
	far = slot_at(15, 8, 30);
	near = slot_at(10, 8, 30);
	g_assert_false(offered(far, "c-far", 15));
	g_assert_true(offered(near, "c-far", 10));
	book_refused(far, "c-far", NULL, "org.slotd.Error.PolicyViolation",
		     "at most 7 days ahead");
	id = book_ok(near, "c-far", NULL);
	stop();
}

/* One a day, two upcoming at most: the second the same day and the
 * third anywhere are neither offered nor booked; for another client
 * they are. */
static void
test_limits(void)
{
	const char *const keys[] = { "max-per-client-day", "1",
				     "max-active-per-client", "2", NULL };
	g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	g_autofree char *id1 = NULL, *id2 = NULL, *id3 = NULL;

	start(7, 0, WEEK, keys);
	a = slot_at(8, 8, 30);
	b = slot_at(8, 11, 0);
	c = slot_at(9, 8, 30);
	d = slot_at(10, 8, 30);
	id1 = book_ok(a, "c-limit", NULL);
	g_assert_false(offered(b, "c-limit", 8));
	g_assert_true(offered(b, "c-other", 8));
	book_refused(b, "c-limit", NULL, "org.slotd.Error.PolicyViolation",
		     "max-per-client-day");
	id2 = book_ok(c, "c-limit", NULL);
	g_assert_false(offered(d, "c-limit", 10));
	book_refused(d, "c-limit", NULL, "org.slotd.Error.PolicyViolation",
		     "max-active-per-client");
	id3 = book_ok(d, "c-other", NULL);
	stop();
}

/* A caller of the book role, as nobody: Cancel `booking` with
 * `reason`; the exit code of gdbus and its stderr. */
static int
cancel_as_nobody(const char *booking, const char *reason, char **ret_err)
{
	const char *argv[] = { "gdbus", "call", "--address", h.address,
			       "--dest", "org.slotd.Slotd1", "--object-path",
			       "/org/slotd/Slotd1", "--method",
			       SCHED ".Cancel", booking, reason, NULL };

	return harness_run_as_nobody(&h, harness_second_group(), argv, NULL,
				     ret_err);
}

/* 08:28, a booking at 08:30: cancelling two minutes before is past the
 * cut-off, for the unit's staff; an administrator cancels with an
 * override reason, which the audit log keeps. */
static void
test_cancel_cutoff(void)
{
	g_autofree char *slot = NULL, *id = NULL, *err = NULL;
	g_autofree char *before = NULL, *after = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	if (harness_second_group() == HARNESS_NO_GROUP) {
		g_test_skip("needs root and setpriv for a second caller");
		return;
	}
	start(8, 28, WEEK, NULL);
	slot = slot_at(7, 8, 30);
	id = book_ok(slot, "c-late", "booked at the door");
	before = digest();
	g_assert_cmpint(cancel_as_nobody(id, "client", &err), !=, 0);
	g_assert_nonnull(strstr(err, "PolicyViolation"));
	g_assert_nonnull(strstr(err, "cut-off"));
	after = digest();
	g_assert_cmpstr(before, ==, after);
	r = harness_call(&h, SCHED, "Cancel",
			 g_variant_new("(ss)", id, "override: client is ill"),
			 "()", &error);
	g_assert_no_error(error);
	g_assert_true(audit_has("booked -> cancelled"));
	stop();
}

/* noshow a day before the appointment is refused; entered-in-error is
 * possible at any time. */
static void
test_status_in_time(void)
{
	g_autofree char *slot = NULL, *id = NULL;
	g_autofree char *before = NULL, *after = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	start(7, 0, WEEK, NULL);
	slot = slot_at(8, 8, 30);
	id = book_ok(slot, "c-status", NULL);
	before = digest();
	r = harness_call(&h, SCHED, "SetStatus",
			 g_variant_new("(ss)", id, "noshow"), "()", &error);
	g_assert_null(r);
	harness_assert_dbus_error(error, "org.slotd.Error.Conflict");
	g_assert_nonnull(strstr(error->message, "only from 2026-12-08 08:30"));
	after = digest();
	g_assert_cmpstr(before, ==, after);
	g_clear_error(&error);
	r = harness_call(&h, SCHED, "SetStatus",
			 g_variant_new("(ss)", id, "entered-in-error"), "()",
			 &error);
	g_assert_no_error(error);
	stop();
}

static GVariant *
get_booking(const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, SCHED, "GetBooking",
					     g_variant_new("(s)", id),
					     "(a{sv})", &error);

	g_assert_no_error(error);
	return g_variant_get_child_value(r, 0);
}

/* Who booked and for whom is kept and shown; a wrong word or an
 * identity code in booked-by is refused and changes nothing. */
static void
test_on_behalf(void)
{
	g_autofree char *slot = NULL, *id = NULL;
	g_autoptr(GVariant) b = NULL;
	g_autoptr(GVariant) r = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *before = NULL, *after = NULL, *out = NULL;
	const char *value;

	start(7, 0, WEEK, NULL);
	slot = slot_at(8, 8, 30);
	r = harness_call(&h, SCHED, "Book",
			 g_variant_new_parsed(
				 "(%s, 'c-behalf', {'municipality': <'Lohja'>,"
				 " 'booked-by': <'nurse-loh-07'>,"
				 " 'on-behalf-of': <'guardian'>})",
				 slot),
			 "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(s)", &id);
	b = get_booking(id);
	g_assert_true(g_variant_lookup(b, "booked-by", "&s", &value));
	g_assert_cmpstr(value, ==, "nurse-loh-07");
	g_assert_true(g_variant_lookup(b, "on-behalf-of", "&s", &value));
	g_assert_cmpstr(value, ==, "guardian");
	g_assert_cmpint(harness_slotctl(&h, &out, NULL, "show", id, NULL), ==,
			0);
	g_assert_nonnull(strstr(out, "nurse-loh-07"));
	before = digest();
	g_clear_pointer(&r, g_variant_unref);
	r = harness_call(&h, SCHED, "Book",
			 g_variant_new_parsed(
				 "(%s, 'c-behalf-2', {'municipality': <'Lohja'>,"
				 " 'on-behalf-of': <'neighbour'>})",
				 slot),
			 "(s)", &error);
	harness_assert_dbus_error(error, "org.freedesktop.DBus.Error.InvalidArgs");
	g_clear_error(&error);
	r = harness_call(&h, SCHED, "Book",
			 g_variant_new_parsed(
				 "(%s, 'c-behalf-3', {'municipality': <'Lohja'>,"
				 " 'booked-by': <'131052308T'>})",
				 slot),
			 "(s)", &error);
	g_assert_null(r);
	g_assert_nonnull(error);
	g_assert_null(strstr(error->message, "131052"));
	after = digest();
	g_assert_cmpstr(before, ==, after);
	stop();
}

/* Book, move, cancel: the history says each, oldest first, with the
 * caller; slotctl history prints it. */
static void
test_history(void)
{
	g_autofree char *a = NULL, *b = NULL, *id = NULL, *out = NULL;
	g_autoptr(GVariant) r = NULL, rows = NULL;
	g_autoptr(GError) error = NULL;
	const char *want[] = { "book", "reschedule", "cancel" };
	const char *action, *detail;

	start(7, 0, WEEK, NULL);
	a = slot_at(8, 8, 30);
	b = slot_at(9, 11, 0);
	id = book_ok(a, "c-history", NULL);
	g_variant_unref(harness_call(&h, SCHED, "Reschedule",
				     g_variant_new("(ss)", id, b), "(s)",
				     &error));
	g_assert_no_error(error);
	g_variant_unref(harness_call(&h, SCHED, "Cancel",
				     g_variant_new("(ss)", id, "client"),
				     "()", &error));
	g_assert_no_error(error);
	r = harness_call(&h, SCHED, "GetBookingHistory",
			 g_variant_new("(s)", id), "(aa{sv})", &error);
	g_assert_no_error(error);
	rows = g_variant_get_child_value(r, 0);
	g_assert_cmpuint(g_variant_n_children(rows), ==, 3);
	for (guint i = 0; i < 3; i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);

		g_assert_true(g_variant_lookup(row, "action", "&s", &action));
		g_assert_cmpstr(action, ==, want[i]);
		g_assert_true(g_variant_lookup(row, "detail", "&s", &detail));
		if (i == 1)
			g_assert_nonnull(strstr(detail, b));
		if (i == 2)
			g_assert_nonnull(strstr(detail, "booked -> cancelled"));
	}
	g_assert_cmpint(harness_slotctl(&h, &out, NULL, "history", id, NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "reschedule"));
	g_assert_nonnull(strstr(out, "2026-12-07"));
	stop();
}

/* An iv-q24h episode is one series: GetBooking names it, GetSeries
 * lists its three visits, CancelSeries cancels all three in one go and
 * a second time none. */
static void
test_series(void)
{
	const char *offering = "W-HH-LOH/home-hospital-west";
	g_autofree char *s0 = slot_of(offering, 8, 9, 0);
	g_autofree char *s1 = slot_of(offering, 9, 9, 0);
	g_autofree char *s2 = slot_of(offering, 10, 9, 0);
	const char *slots[] = { s0, s1, s2, NULL };
	g_autoptr(GVariant) r = NULL, b = NULL, list = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char **ids = NULL;
	const char *series;
	guint cancelled;

	r = harness_call(&h, SCHED, "BookSeries",
			 g_variant_new("(^ass@a{sv})", slots, "c-series",
				       g_variant_new_parsed(
					       "{'municipality': <'Lohja'>, "
					       "'episode': <'iv-q24h'>}")),
			 "(as)", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(^a&s)", &ids);
	b = get_booking(ids[1]);
	g_assert_true(g_variant_lookup(b, "series", "&s", &series));
	g_assert_true(g_str_has_prefix(series, "sr-"));
	g_assert_cmpstr(series + 3, ==, ids[0] + 2);
	g_clear_pointer(&r, g_variant_unref);
	r = harness_call(&h, SCHED, "GetSeries", g_variant_new("(s)", series),
			 "(a(sssxxs))", &error);
	g_assert_no_error(error);
	list = g_variant_get_child_value(r, 0);
	g_assert_cmpuint(g_variant_n_children(list), ==, 3);
	g_clear_pointer(&r, g_variant_unref);
	r = harness_call(&h, SCHED, "CancelSeries",
			 g_variant_new("(ss)", series, "no longer needed"),
			 "(u)", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(u)", &cancelled);
	g_assert_cmpuint(cancelled, ==, 3);
	g_clear_pointer(&r, g_variant_unref);
	r = harness_call(&h, SCHED, "CancelSeries",
			 g_variant_new("(ss)", series, "again"), "(u)",
			 &error);
	g_variant_get(r, "(u)", &cancelled);
	g_assert_cmpuint(cancelled, ==, 0);
	g_clear_pointer(&r, g_variant_unref);
	r = harness_call(&h, SCHED, "GetSeries",
			 g_variant_new("(s)", "sr-999999"), "(a(sssxxs))",
			 &error);
	harness_assert_dbus_error(error, "org.slotd.Error.NoSuchBooking");
}

/* The therapy guarantee: a 20-year-old referred on 20 November is seen
 * by 18 December. FindSlots with the referral offers nothing after
 * that; Book of a later slot is DeadlineUnreachable and changes
 * nothing; with deadline-exceeded-reason it is booked and GetBooking
 * says so. */
static void
test_deadline(void)
{
	gint64 referral = harness_local(2026, 11, 20, 10, 0);
	g_autoptr(GVariant) late = NULL, found = NULL, r = NULL, b = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *before = NULL, *after = NULL;
	const char *slot, *id;
	gint64 at, deadline;
	gboolean exceeded;

	start(7, 0, THREE_WEEKS, NULL);
	late = harness_find(&h, "short-therapy",
			    g_variant_new_parsed(
				    "{'from': <%x>, 'limit': <uint32 1>}",
				    harness_local(2026, 12, 21, 0, 0)));
	g_assert_cmpuint(g_variant_n_children(late), ==, 1);
	g_variant_get_child(late, 0, "(&ssxxu@a{sv})", &slot, NULL, &at,
			    NULL, NULL, NULL);
	g_assert_cmpint(at, >, harness_local(2026, 12, 19, 0, 0));
	found = harness_find(&h, "short-therapy",
			     g_variant_new_parsed(
				     "{'referral-time': <%x>, 'age': <uint32 "
				     "20>, 'limit': <uint32 500>, 'to': <%x>}",
				     referral,
				     harness_local(2026, 12, 28, 0, 0)));
	g_assert_cmpuint(g_variant_n_children(found), >, 0);
	for (gsize i = 0; i < g_variant_n_children(found); i++) {
		g_variant_get_child(found, i, "(&ssxxu@a{sv})", NULL, NULL,
				    &at, NULL, NULL, NULL);
		g_assert_cmpint(at, <, harness_local(2026, 12, 19, 0, 0));
	}
	before = digest();
	r = harness_call(&h, SCHED, "Book",
			 g_variant_new_parsed("(%s, 'c-therapy', "
					      "{'referral-time': <%x>, "
					      "'age': <uint32 20>})",
					      slot, referral),
			 "(s)", &error);
	harness_assert_dbus_error(error,
				  "org.slotd.Error.DeadlineUnreachable");
	g_assert_nonnull(strstr(error->message, "2026-12-18"));
	after = digest();
	g_assert_cmpstr(before, ==, after);
	g_clear_error(&error);
	r = harness_call(&h, SCHED, "Book",
			 g_variant_new_parsed(
				 "(%s, 'c-therapy', {'referral-time': <%x>, "
				 "'age': <uint32 20>, "
				 "'deadline-exceeded-reason': <'client asked for "
				 "a later time'>})",
				 slot, referral),
			 "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(&s)", &id);
	b = get_booking(id);
	g_assert_true(g_variant_lookup(b, "deadline", "x", &deadline));
	g_assert_cmpint(deadline, ==, harness_local(2026, 12, 19, 0, 0) - 1);
	g_assert_true(g_variant_lookup(b, "deadline-exceeded", "b", &exceeded));
	g_assert_true(exceeded);
	stop();
}

/* FindSeries offers whole series; BookSeries books each it offers: an
 * iv-q24h episode of five visits at a Lohja base, and a weekly course
 * of three short-therapy sessions (the horizon here is three weeks). */
static void
book_found_series(const char *service, GVariant *pattern, GVariant *query,
		  GVariant *options, guint want)
{
	g_autoptr(GVariant) r = NULL, rows = NULL;
	g_autoptr(GError) error = NULL;
	guint booked = 0;

	g_variant_ref_sink(options);
	r = harness_call(&h, SCHED, "FindSeries",
			 g_variant_new("(s@a{sv}@a{sv})", service, pattern,
				       query),
			 "(aa{sv})", &error);
	g_assert_no_error(error);
	rows = g_variant_get_child_value(r, 0);
	g_assert_cmpuint(g_variant_n_children(rows), ==, 3);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autoptr(GVariant) slots = g_variant_lookup_value(
			row, "slots", G_VARIANT_TYPE_STRING_ARRAY);
		g_autoptr(GVariant) reply = NULL;
		g_autofree char *client = g_strdup_printf("c-found-%s-%zu",
							  service, i);

		g_assert_cmpuint(g_variant_n_children(slots), ==, want);
		reply = harness_call(&h, SCHED, "BookSeries",
				     g_variant_new("(@ass@a{sv})", slots,
						   client, options),
				     "(as)", &error);
		g_assert_no_error(error);
		booked++;
	}
	g_assert_cmpuint(booked, ==, 3);
	g_variant_unref(options);
}

static void
test_find_series(void)
{
	/* A minute past the hour: from 07:00:00 the 08:00 visits are just
	 * the hour's notice ahead, offered by a FindSeries in slotd's
	 * first second and refused by a BookSeries in its next. */
	start(7, 1, THREE_WEEKS, NULL);
	book_found_series(
		"home-hospital-west",
		g_variant_new_parsed("{'every': <'24h'>, 'count': <uint32 5>,"
				     " 'limit': <uint32 3>}"),
		g_variant_new_parsed("{'municipality': <'Lohja'>, "
				     "'episode': <'iv-q24h'>}"),
		g_variant_new_parsed("{'municipality': <'Lohja'>, "
				     "'episode': <'iv-q24h'>}"),
		5);
	book_found_series(
		"short-therapy",
		g_variant_new_parsed("{'every': <'weekly'>, 'count': <uint32 "
				     "3>, 'limit': <uint32 3>}"),
		g_variant_new_parsed("{'from': <%x>}",
				     harness_local(2026, 12, 9, 0, 0)),
		g_variant_new("a{sv}", NULL), 3);
	stop();
}

static void
test_series_on_daemon(void)
{
	start(7, 0, WEEK, NULL);
	test_series();
	stop();
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/rules/notice/nine-minutes-ahead-is-refused-unless-"
			"an-administrator-overrides",
			test_notice);
	g_test_add_func("/rules/advance/past-max-advance-days-is-refused",
			test_advance);
	g_test_add_func("/rules/limits/per-day-and-upcoming-per-client",
			test_limits);
	g_test_add_func("/rules/cancel/two-minutes-before-is-past-the-cut-off",
			test_cancel_cutoff);
	g_test_add_func("/rules/status/noshow-a-day-before-is-refused",
			test_status_in_time);
	g_test_add_func("/rules/on-behalf/booked-by-is-kept-and-checked",
			test_on_behalf);
	g_test_add_func("/rules/history/book-move-cancel-each-with-caller",
			test_history);
	g_test_add_func("/rules/series/get-and-cancel-an-episode-as-one",
			test_series_on_daemon);
	g_test_add_func("/rules/series/find-series-offers-what-book-series-"
			"books",
			test_find_series);
	g_test_add_func("/rules/deadline/past-the-therapy-guarantee-needs-a-"
			"reason",
			test_deadline);
	return g_test_run();
}
