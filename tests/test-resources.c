/* Capacity made of practitioners, rooms and vehicles (issue 13), on the
 * real daemon and a private bus: a booking takes what its offering
 * needs jointly, FindSlots and Book agree on it, a course keeps its
 * therapist, an absence flags exactly the bookings it touches, and a
 * database of the previous release keeps every booking. The oracle is
 * the configuration the test writes and the database it reads with
 * its own SQL, not slotd's code. */
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <sqlite3.h>

#include "harness.h"
#include "schema-undo-v4.h"
#include "schema-undo-v5.h"
#include "schema-undo-v6.h"
#include "schema-undo-v7.h"
#include "schema-undo-v8.h"
#include "schema-undo-v9.h"

#define SCHED "org.slotd.Scheduler1"
#define ADMIN "org.slotd.Admin1"
#define HHW "home-hospital-west"
#define CDW "crisis-duty-west"
#define COURSE "short-therapy-test"

/* A course offering of the built-in kind, its two therapists (one
 * Swedish-speaking) and two rooms, added to the example region. */
static const char course_conf[] =
	"[service " COURSE "]\n"
	"plugin=fixed\n"
	"title-fi=Lyhytterapia (testi)\n"
	"title-sv=Korttidsterapi (test)\n"
	"[offering E-SNA " COURSE "]\n"
	"languages=fi;sv\n"
	"modality=onsite\n"
	"slot-minutes=60\n"
	"windows=day\n"
	"window-day=09:00-12:00 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\n"
	"capacity-day=2\n"
	"needs=therapist;room\n"
	"[practitioner th-por-1]\n"
	"unit=E-SNA\norganisation=iuhva\nroles=therapist\nlanguages=fi\n"
	"shifts=day\n"
	"shift-day=08:00-16:00 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\n"
	"[practitioner th-por-2]\n"
	"unit=E-SNA\norganisation=iuhva\nroles=therapist\nlanguages=sv;fi\n"
	"shifts=day\n"
	"shift-day=08:00-16:00 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\n"
	"[room por-room-1]\nunit=E-SNA\n"
	"[room por-room-2]\nunit=E-SNA\n"
	/* A weekly group: one therapist and one room of four places for
	 * the whole session, whatever the slot's count says. */
	"[service group-test]\n"
	"plugin=fixed\n"
	"title-fi=Ryhmä (testi)\n"
	"title-sv=Grupp (test)\n"
	"[offering E-SNA group-test]\n"
	"languages=fi;sv\n"
	"modality=onsite\n"
	"slot-minutes=90\n"
	"windows=group\n"
	"window-group=13:00-14:30 FREQ=WEEKLY;BYDAY=WE\n"
	"capacity-group=8\n"
	"needs=therapist@session;group-room@session\n"
	"[room por-group-room]\nunit=E-SNA\nroles=group-room\nseats=4\n";

static Harness h;

static char *
config_path(const char *name)
{
	g_autofree char *dir = g_path_get_dirname(h.config);

	return g_build_filename(dir, name, NULL);
}

/* Leaves W-HH-LOH one car of its five. */
static void
one_car_at_lohja(void)
{
	g_autofree char *path = config_path("services.d/home-hospital.conf");
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error = NULL;

	g_key_file_load_from_file(file, path, G_KEY_FILE_KEEP_COMMENTS,
				  &error);
	g_assert_no_error(error);
	for (int i = 2; i <= 5; i++) {
		g_autofree char *group = g_strdup_printf("vehicle hh-loh-car%d",
							 i);

		g_assert_true(g_key_file_remove_group(file, group, NULL));
	}
	g_key_file_save_to_file(file, path, &error);
	g_assert_no_error(error);
}

static void
start(void)
{
	g_autofree char *course = NULL, *entry = NULL;
	g_autoptr(GError) error = NULL;

	harness_init(&h);
	h.horizon_days = 30;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0) + 30);
	entry = harness_copy_example(&h);
	g_free(h.config);
	h.config = g_strdup(entry);
	course = config_path("services.d/short-therapy-test.conf");
	g_file_set_contents(course, course_conf, -1, &error);
	g_assert_no_error(error);
	one_car_at_lohja();
	harness_start_slotd(&h, entry);
}

static void
stop(void)
{
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
}

/* ---- reading the database with our own SQL ---------------------------- */

static sqlite3 *
db_open(void)
{
	g_autofree char *path = g_build_filename(h.state_dir, "slotd.db",
						 NULL);
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
					NULL), ==, SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

/* The first column of the first row of `query`, or NULL. */
static char *
sql(const char *query)
{
	sqlite3 *db = db_open();
	sqlite3_stmt *stmt = NULL;
	char *value = NULL;

	g_assert_cmpint(sqlite3_prepare_v2(db, query, -1, &stmt, NULL), ==,
			SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW &&
	    sqlite3_column_type(stmt, 0) != SQLITE_NULL)
		value = g_strdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return value;
}

static char *
slot_at(const char *offering, int day, int hour, int minute)
{
	g_autofree char *query = g_strdup_printf(
		"SELECT 's-' || id FROM slot WHERE offering = '%s' AND start = "
		"%" G_GINT64_FORMAT, offering,
		harness_local(2026, 12, day, hour, minute));
	char *id = sql(query);

	g_assert_nonnull(id);
	return id;
}

/* Every resource id booking `id` ("b-N") takes, sorted, joined by ","
 * — from the table, not from slotd. */
static char *
taken_by(const char *id)
{
	g_autofree char *query = g_strdup_printf(
		"SELECT group_concat(resource, ',') FROM (SELECT resource FROM"
		" resource_use WHERE booking = %s ORDER BY resource)", id + 2);

	return sql(query);
}

static char *
book(const char *slot, const char *client, const char *options,
     GError **error)
{
	return harness_book(&h, slot, client, g_variant_new_parsed(options),
			    error);
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

static char *
practitioner_of(const char *id)
{
	g_autoptr(GVariant) b = get_booking(id);
	char *p = NULL;

	g_assert_true(g_variant_lookup(b, "practitioner", "s", &p));
	return p;
}

/* Does FindSlots offer `slot` for `query`? */
static gboolean
offered(const char *service, const char *slot, const char *query)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(
		&h, SCHED, "FindSlots",
		g_variant_new("(s@a{sv})", service,
			      g_variant_new_parsed(query)),
		"(a(ssxxua{sv}))", &error);
	g_autoptr(GVariant) rows = NULL;

	if (!r)
		return FALSE;
	rows = g_variant_get_child_value(r, 0);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		const char *id;

		g_variant_get_child(rows, i, "(&ssxxua{sv})", &id, NULL, NULL,
				    NULL, NULL, NULL);
		if (g_str_equal(id, slot))
			return TRUE;
	}
	return FALSE;
}

/* ---- a home visit needs a car ---------------------------------------- */

static void
test_home_visit_needs_a_car(void)
{
	g_autofree char *slot = slot_at("W-HH-LOH/" HHW, 8, 9, 0);
	g_autofree char *first = NULL, *second = NULL, *taken = NULL;
	g_autofree char *query = g_strdup_printf(
		"{'municipality': <'Lohja'>, 'episode': <'lab'>, 'from': <int64 %"
		G_GINT64_FORMAT ">, 'to': <int64 %" G_GINT64_FORMAT ">, 'limit': "
		"<uint32 50>}", harness_local(2026, 12, 8, 9, 0),
		harness_local(2026, 12, 8, 9, 1));
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) b = NULL;
	g_auto(GStrv) resources = NULL;

	g_assert_true(offered(HHW, slot, query));
	first = book(slot, "c-car-1",
		     "{'municipality': <'Lohja'>, 'episode': <'lab'>}",
		     &error);
	g_assert_no_error(error);
	/* One nurse and the one car, recorded with the booking. */
	taken = taken_by(first);
	g_assert_nonnull(strstr(taken, "hh-loh-car1"));
	g_assert_nonnull(strstr(taken, "hh-loh-d"));
	b = get_booking(first);
	g_assert_true(g_variant_lookup(b, "resources", "^as", &resources));
	g_assert_cmpuint(g_strv_length(resources), ==, 2);
	/* Two day nurses are still free, the car is not: not offered, and
	 * refused in words that say so. */
	g_assert_false(offered(HHW, slot, query));
	second = book(slot, "c-car-2",
		      "{'municipality': <'Lohja'>, 'episode': <'lab'>}",
		      &error);
	g_assert_null(second);
	harness_assert_dbus_error(error, "org.slotd.Error.SlotFull");
	g_assert_nonnull(strstr(error->message, "vehicle"));
	g_assert_nonnull(strstr(error->message, "none is free"));
	/* Cancelling gives the car back at once. */
	g_clear_error(&error);
	g_assert_nonnull(harness_call(&h, SCHED, "Cancel",
				      g_variant_new("(ss)", first,
						    "provider test"),
				      "()", &error));
	g_assert_no_error(error);
	g_assert_true(offered(HHW, slot, query));
	second = book(slot, "c-car-2",
		      "{'municipality': <'Lohja'>, 'episode': <'lab'>}",
		      &error);
	g_assert_no_error(error);
}

/* ---- the one Swedish speaker ----------------------------------------- */

static void
test_swedish_speaker(void)
{
	/* W-SKP on a Monday evening: four workers, one of them speaks
	 * Swedish (skp-w-e1a), two cars. */
	g_autofree char *slot = slot_at("W-SKP/" CDW, 7, 17, 0);
	const char *sv = "{'municipality': <'Espoo'>, 'contact': <'field'>, "
			 "'language': <'sv'>}";
	const char *fi = "{'municipality': <'Espoo'>, 'contact': <'field'>, "
			 "'language': <'fi'>}";
	g_autofree char *a = NULL, *b = NULL, *c = NULL, *taken = NULL;
	g_autoptr(GError) error = NULL;

	/* A Finnish visit leaves the Swedish speaker free. */
	a = book(slot, "c-fi-1", fi, &error);
	g_assert_no_error(error);
	taken = taken_by(a);
	g_assert_null(strstr(taken, "skp-w-e1a"));
	b = book(slot, "c-sv-1", sv, &error);
	g_assert_no_error(error);
	g_clear_pointer(&taken, g_free);
	taken = taken_by(b);
	g_assert_nonnull(strstr(taken, "skp-w-e1a"));
	/* Cancel the Finnish visit: two Finnish-speaking workers and a car
	 * are free, the Swedish speaker is not. */
	g_assert_nonnull(harness_call(&h, SCHED, "Cancel",
				      g_variant_new("(ss)", a,
						    "provider test"),
				      "()", &error));
	g_assert_no_error(error);
	c = book(slot, "c-sv-2", sv, &error);
	g_assert_null(c);
	g_assert_nonnull(error);
	g_assert_true(strstr(error->message, "sv") ||
		      strstr(error->message, "Swedish"));
	g_clear_error(&error);
	c = book(slot, "c-fi-2", fi, &error);
	g_assert_no_error(error);
}

/* ---- a course keeps its therapist ------------------------------------ */

static void
test_course_keeps_therapist(void)
{
	const char *off = "E-SNA/" COURSE;
	g_autofree char *w1 = slot_at(off, 14, 10, 0);
	g_autofree char *w2 = slot_at(off, 21, 10, 0);
	g_autofree char *w3 = slot_at(off, 28, 10, 0);
	g_autofree char *w2b = slot_at(off, 22, 10, 0);
	const char *slots[] = { w1, w2, w3, NULL };
	g_autofree char *therapist = NULL, *other = NULL;
	g_autofree char *blocker = NULL, *moved = NULL;
	g_autofree char *opts = NULL;
	g_autoptr(GVariant) r = NULL, rows = NULL, row = NULL, series = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char **ids = NULL;
	const char *p = NULL;

	/* FindSeries names the course's therapist. */
	r = harness_call(&h, SCHED, "FindSeries",
			 g_variant_new_parsed(
				 "(%s, {'every': <'weekly'>, 'count': <uint32 "
				 "3>}, {'from': <%x>, 'language': <'fi'>})",
				 COURSE, harness_local(2026, 12, 14, 9, 30)),
			 "(aa{sv})", &error);
	g_assert_no_error(error);
	rows = g_variant_get_child_value(r, 0);
	g_assert_cmpuint(g_variant_n_children(rows), >, 0);
	row = g_variant_get_child_value(rows, 0);
	g_assert_true(g_variant_lookup(row, "practitioner", "&s", &p));
	g_clear_pointer(&r, g_variant_unref);

	series = harness_call(&h, SCHED, "BookSeries",
			      g_variant_new("(^ass@a{sv})", slots, "c-course",
					    g_variant_new_parsed(
						    "{'language': <'fi'>}")),
			      "(as)", &error);
	g_assert_no_error(error);
	g_variant_get(series, "(^a&s)", &ids);
	therapist = practitioner_of(ids[0]);
	for (guint i = 1; i < 3; i++) {
		g_autofree char *t = practitioner_of(ids[i]);

		g_assert_cmpstr(t, ==, therapist);
	}
	other = g_strdup(g_str_equal(therapist, "th-por-1") ? "th-por-2"
							   : "th-por-1");
	/* Someone else takes the course's therapist on the Tuesday of
	 * week 2; the other therapist and a room stay free then. */
	opts = g_strdup_printf("{'practitioner': <'%s'>}", therapist);
	blocker = book(w2b, "c-other", opts, &error);
	g_assert_no_error(error);
	/* Moving visit 2 there is refused: it would change therapist. */
	g_assert_null(harness_call(&h, SCHED, "Reschedule",
				   g_variant_new("(ss)", ids[1], w2b), "(s)",
				   &error));
	harness_assert_dbus_error(error, "org.slotd.Error.SlotFull");
	g_assert_nonnull(strstr(error->message, therapist));
	g_clear_error(&error);
	/* Asking for the other therapist by name fails on a busy one
	 * too, and succeeds where she is free. */
	g_clear_pointer(&opts, g_free);
	opts = g_strdup_printf("{'practitioner': <'%s'>}", other);
	g_free(book(w2b, "c-third", opts, &error));
	g_assert_no_error(error);
	g_clear_pointer(&opts, g_free);
	opts = g_strdup_printf("{'practitioner': <'%s'>}", other);
	g_assert_null(book(w2b, "c-fourth", opts, &error));
	harness_assert_dbus_error(error, "org.slotd.Error.SlotFull");
	g_clear_error(&error);
	/* An unknown practitioner is a bad argument, not "full". */
	g_assert_null(book(w2b, "c-fifth",
			   "{'practitioner': <'nobody-99'>}", &error));
	harness_assert_dbus_error(error,
				  "org.freedesktop.DBus.Error.InvalidArgs");
	g_clear_error(&error);
	/* A move to a free hour keeps the therapist. */
	g_clear_pointer(&r, g_variant_unref);
	{
		g_autofree char *w2c = slot_at(off, 21, 11, 0);

		r = harness_call(&h, SCHED, "Reschedule",
				 g_variant_new("(ss)", ids[1], w2c), "(s)",
				 &error);
		g_assert_no_error(error);
		g_variant_get(r, "(s)", &moved);
		g_clear_pointer(&other, g_free);
		other = practitioner_of(moved);
		g_assert_cmpstr(other, ==, therapist);
	}
	/* With the course's therapist busy at 11 on the Tuesday, visit 2
	 * goes there to the other one only when no practitioner is asked
	 * for any more (RescheduleWith, practitioner ""): the course's
	 * own keeping of its therapist gives way too. */
	{
		g_autofree char *w2d = slot_at(off, 22, 11, 0);
		g_autofree char *busy = NULL, *now_with = NULL;

		g_clear_pointer(&opts, g_free);
		opts = g_strdup_printf("{'practitioner': <'%s'>}", therapist);
		busy = book(w2d, "c-seventh", opts, &error);
		g_assert_no_error(error);
		g_clear_pointer(&r, g_variant_unref);
		g_assert_null(harness_call(&h, SCHED, "Reschedule",
					   g_variant_new("(ss)", ids[1], w2d),
					   "(s)", &error));
		harness_assert_dbus_error(error, "org.slotd.Error.SlotFull");
		g_clear_error(&error);
		r = harness_call(&h, SCHED, "RescheduleWith",
				 g_variant_new_parsed(
					 "(%s, %s, {'practitioner': <''>})",
					 ids[1], w2d),
				 "(s)", &error);
		g_assert_no_error(error);
		now_with = practitioner_of(ids[1]);
		g_assert_cmpstr(now_with, !=, therapist);
	}
}

/* ---- a group shares its therapist and its room ------------------------ */

static void
test_group_session(void)
{
	g_autofree char *slot = slot_at("E-SNA/group-test", 9, 13, 0);
	g_autofree char *first = NULL, *fifth = NULL;
	g_autofree char *query = g_strdup_printf(
		"{'from': <int64 %" G_GINT64_FORMAT ">, 'to': <int64 %"
		G_GINT64_FORMAT ">}", harness_local(2026, 12, 9, 13, 0),
		harness_local(2026, 12, 9, 13, 1));
	g_autoptr(GError) error = NULL;

	for (int i = 0; i < 4; i++) {
		g_autofree char *client = g_strdup_printf("c-group-%d", i);
		g_autofree char *id = NULL, *taken = NULL;

		g_assert_true(offered("group-test", slot, query));
		id = book(slot, client, "{'language': <'fi'>}", &error);
		g_assert_no_error(error);
		taken = taken_by(id);
		g_assert_nonnull(strstr(taken, "por-group-room"));
		if (i == 0) {
			first = practitioner_of(id);
		} else {
			g_autofree char *p = practitioner_of(id);

			/* The whole group has one therapist. */
			g_assert_cmpstr(p, ==, first);
		}
	}
	/* Four places in the room: the slot's count of eight does not
	 * make a fifth fit, and FindSlots agrees. */
	g_assert_false(offered("group-test", slot, query));
	fifth = book(slot, "c-group-4", "{'language': <'fi'>}", &error);
	g_assert_null(fifth);
	harness_assert_dbus_error(error, "org.slotd.Error.SlotFull");
	g_assert_nonnull(strstr(error->message, "group-room"));
}

/* ---- an absence flags exactly the bookings it touches ----------------- */

/* `who` marked absent ("sick leave") all of December `day`; the reply
 * (absence id, affected bookings). */
static GVariant *
mark_away_day(const char *who, int day)
{
	g_autoptr(GError) error = NULL;
	GVariant *r = harness_call(&h, ADMIN, "MarkAbsent",
				   g_variant_new("(sxxs)", who,
						 harness_local(2026, 12, day,
							       0, 0),
						 harness_local(2026, 12,
							       day + 1, 0, 0),
						 "sick leave"),
				   "(saa{sv})", &error);

	g_assert_no_error(error);
	return r;
}

/* How far `at` is from `start` for a person choosing another time:
 * days apart (local dates), then minutes apart on the clock; as one
 * number that orders them so. */
static gsize
local_distance(gint64 start, gint64 at)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier(
		"Europe/Helsinki");
	g_autoptr(GDateTime) a = g_date_time_new_from_unix_utc(start);
	g_autoptr(GDateTime) b = g_date_time_new_from_unix_utc(at);
	g_autoptr(GDateTime) la = g_date_time_to_timezone(a, tz);
	g_autoptr(GDateTime) lb = g_date_time_to_timezone(b, tz);
	GDate da, db;
	gint ma = g_date_time_get_hour(la) * 60 + g_date_time_get_minute(la);
	gint mb = g_date_time_get_hour(lb) * 60 + g_date_time_get_minute(lb);

	g_date_clear(&da, 1);
	g_date_clear(&db, 1);
	g_date_set_dmy(&da, g_date_time_get_day_of_month(la),
		       g_date_time_get_month(la), g_date_time_get_year(la));
	g_date_set_dmy(&db, g_date_time_get_day_of_month(lb),
		       g_date_time_get_month(lb), g_date_time_get_year(lb));
	return (gsize)ABS(g_date_days_between(&da, &db)) * 10000 +
	       (gsize)ABS(ma - mb);
}

static void
test_absence(void)
{
	const char *off = "W-HH-ESP/" HHW;
#define ESP_OPTIONS(who) "{'municipality': <'Espoo'>, 'episode': " \
	"<'lab'>, 'practitioner': <'" who "'>}"
	const char *o_d2 = ESP_OPTIONS("hh-esp-d2a");
	const char *o_d3 = ESP_OPTIONS("hh-esp-d3a");
	g_autofree char *s_tue10 = slot_at(off, 8, 10, 0);
	g_autofree char *s_tue13 = slot_at(off, 8, 13, 0);
	g_autofree char *s_wed10 = slot_at(off, 9, 10, 0);
	g_autofree char *b1 = NULL, *b2 = NULL, *b3 = NULL, *b4 = NULL;
	g_autofree char *out = NULL, *err = NULL, *flagged = NULL;
	g_autofree char *query = NULL, *b1_alternative = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL, rows = NULL;
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	const char *absence;

	b1 = book(s_tue10, "c-abs-1", o_d2, &error);
	g_assert_no_error(error);
	b2 = book(s_tue13, "c-abs-2", o_d2, &error);
	g_assert_no_error(error);
	b3 = book(s_tue10, "c-abs-3", o_d3, &error);
	g_assert_no_error(error);
	b4 = book(s_wed10, "c-abs-4", o_d2, &error);
	g_assert_no_error(error);

	r = mark_away_day("hh-esp-d2a", 8);
	g_variant_get(r, "(&s@aa{sv})", &absence, &rows);
	g_assert_true(g_str_has_prefix(absence, "a-"));
	g_assert_cmpuint(g_variant_n_children(rows), ==, 2);
	for (gsize i = 0; i < 2; i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autoptr(GVariant) alts = g_variant_lookup_value(
			row, "alternatives", G_VARIANT_TYPE("aa{sv}"));
		g_autoptr(GVariant) first = NULL;
		const char *id, *unit;
		gint64 start, alt_start;

		g_assert_true(g_variant_lookup(row, "booking", "&s", &id));
		g_hash_table_add(seen, (gpointer)id);
		g_assert_true(g_variant_lookup(row, "start", "x", &start));
		/* Alternatives: as Reschedule would take them (b1 and b2
		 * were asked of hh-esp-d2a, so hers, but never while she
		 * is away), the same unit first, then the nearest day and
		 * of it the nearest time of day: not the first free slot
		 * after midnight. */
		g_assert_nonnull(alts);
		g_assert_cmpuint(g_variant_n_children(alts), >, 0);
		first = g_variant_get_child_value(alts, 0);
		g_assert_true(g_variant_lookup(first, "unit", "&s", &unit));
		g_assert_cmpstr(unit, ==, "W-HH-ESP");
		g_assert_true(g_variant_lookup(first, "start", "x",
					       &alt_start));
		if (g_str_equal(id, b1))
			g_assert_true(g_variant_lookup(first, "slot", "s",
						       &b1_alternative));
		for (gsize j = 0, prev = 0; j < g_variant_n_children(alts);
		     j++) {
			g_autoptr(GVariant) alt =
				g_variant_get_child_value(alts, j);
			g_autofree char *who = NULL;
			gint64 at = 0;
			gsize apart;

			g_assert_true(g_variant_lookup(alt, "start", "x",
						       &at));
			g_assert_true(g_variant_lookup(alt, "practitioner",
						       "s", &who));
			g_test_message("%s at %" G_GINT64_FORMAT
				       ": alternative at %" G_GINT64_FORMAT
				       " with %s", id, start, at, who);
			g_assert_false(g_str_equal(who, "hh-esp-d2a") &&
				       at >= harness_local(2026, 12, 8, 0, 0) &&
				       at < harness_local(2026, 12, 9, 0, 0));
			apart = local_distance(start, at);
			g_assert_cmpuint(apart, >=, prev);
			prev = apart;
		}
	}
	g_assert_true(g_hash_table_contains(seen, b1));
	g_assert_true(g_hash_table_contains(seen, b2));
	g_hash_table_unref(seen);
	/* The flags, read from the table: exactly b1 and b2. */
	flagged = sql("SELECT group_concat(id, ',') FROM (SELECT id FROM "
		      "booking WHERE needs_rebooking = 1 ORDER BY id)");
	query = g_strdup_printf("%s,%s", b1 + 2, b2 + 2);
	g_assert_cmpstr(flagged, ==, query);
	/* Nothing moved: b1 still takes its slot and its nurse. */
	{
		g_autofree char *taken = taken_by(b1);

		g_assert_nonnull(strstr(taken, "hh-esp-d2a"));
	}
	/* The capacity is gone: Tuesday is refused for her, Wednesday
	 * (outside the absence) is not. */
	g_assert_null(book(s_tue13, "c-abs-5", o_d2, &error));
	harness_assert_dbus_error(error, "org.slotd.Error.SlotFull");
	g_clear_error(&error);
	{
		g_autofree char *s_wed13 = slot_at(off, 9, 13, 0);

		g_free(book(s_wed13, "c-abs-6", o_d2, &error));
		g_assert_no_error(error);
	}
	/* Audited, with the caller. */
	g_clear_pointer(&flagged, g_free);
	flagged = sql("SELECT count(*) FROM audit WHERE action = "
		      "'needs-rebooking'");
	g_assert_cmpstr(flagged, ==, "2");
	/* Bad input changes nothing. */
	g_assert_null(harness_call(&h, ADMIN, "MarkAbsent",
				   g_variant_new("(sxxs)", "hh-esp-nobody",
						 harness_local(2026, 12, 8, 0,
							       0),
						 harness_local(2026, 12, 9, 0,
							       0),
						 "x"),
				   "(saa{sv})", &error));
	harness_assert_dbus_error(error,
				  "org.freedesktop.DBus.Error.InvalidArgs");
	g_clear_error(&error);
	g_assert_null(harness_call(&h, ADMIN, "MarkAbsent",
				   g_variant_new("(sxxs)", "hh-esp-d3a",
						 harness_local(2026, 12, 8, 0,
							       0),
						 harness_local(2026, 12, 9, 0,
							       0),
						 "asiakas 131052-308T"),
				   "(saa{sv})", &error));
	harness_assert_dbus_error(error,
				  "org.freedesktop.DBus.Error.InvalidArgs");
	g_clear_error(&error);
	g_clear_pointer(&flagged, g_free);
	flagged = sql("SELECT count(*) FROM absence");
	g_assert_cmpstr(flagged, ==, "1");
	/* slotctl: the same through the tool people use. */
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "absence",
					"hh-esp-d3a", "2026-12-08",
					"2026-12-08", "--reason",
					"training day", NULL), ==, 0);
	g_assert_nonnull(strstr(out, b3));
	g_assert_nonnull(strstr(err, "1 booking"));
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "resources",
					"W-HH-ESP", NULL), ==, 0);
	g_assert_nonnull(strstr(out, "hh-esp-d3a"));
	g_assert_nonnull(strstr(out, "hh-esp-car11"));
	/* Her absence, in local time and with its reason. */
	g_assert_nonnull(strstr(out, "2026-12-08 00:00 – 2026-12-09 00:00 "
				     "(sick leave)"));
	/* What was proposed is what Reschedule takes. */
	{
		g_autoptr(GVariant) moved = harness_call(
			&h, "org.slotd.Scheduler1", "Reschedule",
			g_variant_new("(ss)", b1, b1_alternative), "(s)",
			&error);

		g_assert_no_error(error);
	}
	(void)b4;
}

/* A visit asked of hh-esp-d2a, who is then away all Thursday: plain
 * Reschedule keeps what was asked, so a colleague's Thursday slot is
 * refused; RescheduleWith {'practitioner': ''} gives the visit to
 * whoever the rule finds, in one step, audited with what changed, and
 * the booking asks for no one any more. Bad options change nothing. */
static void
test_reschedule_to_colleague(void)
{
	g_autofree char *thu10 = slot_at("W-HH-ESP/" HHW, 10, 10, 0);
	g_autofree char *visit = NULL, *before = NULL, *kept = NULL;
	g_autofree char *slot = NULL, *now_with = NULL, *history = NULL;
	g_autoptr(GVariant) found = NULL, r = NULL;
	g_autoptr(GError) error = NULL;
	GVariantDict q;

	visit = book(thu10, "c-col-1", ESP_OPTIONS("hh-esp-d2a"), &error);
	g_assert_no_error(error);
	g_variant_unref(mark_away_day("hh-esp-d2a", 10));
	before = sql("SELECT slot || ':' || sequence FROM booking WHERE"
		     " client_ref = 'c-col-1'");
	g_assert_true(g_str_has_prefix(visit, "b-"));
	/* A colleague's Tuesday afternoon slot, as FindSlots offers it
	 * without a practitioner asked for. */
	g_variant_dict_init(&q, NULL);
	g_variant_dict_insert(&q, "municipality", "s", "Espoo");
	g_variant_dict_insert(&q, "episode", "s", "lab");
	g_variant_dict_insert(&q, "from", "x",
			      harness_local(2026, 12, 10, 12, 0));
	g_variant_dict_insert(&q, "to", "x",
			      harness_local(2026, 12, 10, 18, 0));
	found = harness_find(&h, HHW, g_variant_dict_end(&q));
	for (gsize i = 0; i < g_variant_n_children(found) && !slot; i++) {
		g_autoptr(GVariant) extras = NULL;
		const char *id, *who = NULL;

		g_variant_get_child(found, i, "(&s&sxxu@a{sv})", &id, NULL,
				    NULL, NULL, NULL, &extras);
		g_variant_lookup(extras, "practitioner", "&s", &who);
		if (who && !g_str_equal(who, "hh-esp-d2a"))
			slot = g_strdup(id);
	}
	g_assert_nonnull(slot);

	r = harness_call(&h, SCHED, "Reschedule",
			 g_variant_new("(ss)", visit, slot), "(s)", &error);
	g_assert_null(r);
	harness_assert_dbus_error(error, "org.slotd.Error.SlotFull");
	g_clear_error(&error);
	/* Bad options: named errors, nothing changed. */
	{
		static const char *const bad[] = {
			"{'nurse': <''>}",
			"{'practitioner': <'hh-esp-nobody'>}",
		};

		for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
			g_autofree char *args = g_strdup_printf(
				"('%s', '%s', %s)", visit, slot, bad[i]);

			r = harness_call(&h, SCHED, "RescheduleWith",
					 g_variant_new_parsed(args), "(s)",
					 &error);
			g_assert_null(r);
			harness_assert_dbus_error(
				error, "org.freedesktop.DBus.Error.InvalidArgs");
			g_clear_error(&error);
		}
	}
	{
		g_autofree char *still = sql("SELECT slot || ':' || sequence"
					     " FROM booking WHERE client_ref"
					     " = 'c-col-1'");

		g_assert_cmpstr(still, ==, before);
	}

	r = harness_call(&h, SCHED, "RescheduleWith",
			 g_variant_new_parsed("(%s, %s, {'practitioner': "
					      "<''>})", visit, slot),
			 "(s)", &error);
	g_assert_no_error(error);
	now_with = practitioner_of(visit);
	g_assert_cmpstr(now_with, !=, "hh-esp-d2a");
	{
		g_autofree char *flag = sql("SELECT needs_rebooking FROM"
					    " booking WHERE client_ref ="
					    " 'c-col-1'");

		g_assert_cmpstr(flag, ==, "0");
	}
	/* The request kept with it asks for no one: a later plain
	 * Reschedule does not pin her again. */
	kept = sql("SELECT extras FROM booking WHERE client_ref = 'c-col-1'");
	g_assert_null(strstr(kept, "'practitioner'"));
	history = sql("SELECT detail FROM audit WHERE action = 'reschedule'"
		      " ORDER BY id DESC LIMIT 1");
	g_assert_nonnull(strstr(history, "practitioner asked hh-esp-d2a -> "
					 "any"));
	/* slotctl: the same; back to her while she is away is refused,
	 * the two options together are a usage error. */
	{
		g_autofree char *out = NULL, *err = NULL;

		g_assert_cmpint(harness_slotctl(&h, &out, &err, "reschedule",
						visit, slot, "--practitioner",
						"hh-esp-d2a", NULL), ==, 1);
		g_assert_nonnull(strstr(err, "SlotFull"));
		g_clear_pointer(&out, g_free);
		g_clear_pointer(&err, g_free);
		g_assert_cmpint(harness_slotctl(&h, &out, &err, "reschedule",
						visit, slot, "--practitioner",
						"hh-esp-d3a",
						"--any-practitioner", NULL),
				==, 2);
		g_assert_nonnull(strstr(err, "exclude each other"));
	}
}

/* ---- a database of the previous release ------------------------------- */

static char *
bookings_dump(void)
{
	return sql("SELECT group_concat(line, '|') FROM (SELECT id || ':' ||"
		   " status || ':' || start || ':' || \"end\" || ':' ||"
		   " client_ref || ':' || sequence || ':' || seats AS line"
		   " FROM booking ORDER BY id)");
}

static void
test_upgrade_keeps_bookings(void)
{
	g_autofree char *before = bookings_dump();
	g_autofree char *after = NULL, *version = NULL;
	g_autofree char *path = g_build_filename(h.state_dir, "slotd.db",
						 NULL);
	sqlite3 *db;

	g_assert_nonnull(before);
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, schema_undo_v9, NULL, NULL, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, schema_undo_v8, NULL, NULL, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, schema_undo_v7, NULL, NULL, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, schema_undo_v6, NULL, NULL, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, schema_undo_v5, NULL, NULL, NULL),
			==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, schema_undo_v4, NULL, NULL, NULL),
			==, SQLITE_OK);
	sqlite3_close(db);
	version = sql("PRAGMA user_version");
	g_assert_cmpstr(version, ==, "3");
	{
		g_autofree char *entry = g_strdup(h.config);

		harness_start_slotd(&h, entry);
	}
	g_clear_pointer(&version, g_free);
	version = sql("PRAGMA user_version");
	g_assert_cmpstr(version, ==, "9");
	after = bookings_dump();
	g_assert_cmpstr(after, ==, before);
	/* The upcoming bookings take their resources again (backfilled
	 * at start-up), except those whose practitioner is absent, which
	 * were flagged for rebooking. */
	g_clear_pointer(&version, g_free);
	version = sql("SELECT count(*) FROM booking b WHERE b.start >= "
		      "strftime('%s', 'now') - 86400 * 400"
		      " AND EXISTS (SELECT 1 FROM booking_use u"
		      "  WHERE u.booking = b.id)"
		      " AND (b.offering LIKE '%home-hospital%'"
		      "  OR b.offering LIKE '%crisis-duty%'"
		      "  OR b.offering LIKE '%" COURSE "%')"
		      " AND b.needs_rebooking = 0"
		      " AND NOT EXISTS (SELECT 1 FROM resource_use r"
		      "  WHERE r.booking = b.id)");
	g_assert_cmpstr(version, ==, "0");
	g_clear_pointer(&version, g_free);
	version = sql("SELECT count(DISTINCT booking) FROM resource_use");
	g_assert_cmpint(atoi(version), >=, 8);
}

int
main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	start();
	g_test_add_func("/resources/home-visit-needs-a-car",
			test_home_visit_needs_a_car);
	g_test_add_func("/resources/swedish-speaker", test_swedish_speaker);
	g_test_add_func("/resources/course-keeps-therapist",
			test_course_keeps_therapist);
	g_test_add_func("/resources/group-session", test_group_session);
	g_test_add_func("/resources/absence", test_absence);
	g_test_add_func("/resources/absence-then-a-colleague",
			test_reschedule_to_colleague);
	g_test_add_func("/resources/upgrade-keeps-bookings",
			test_upgrade_keeps_bookings);
	status = g_test_run();
	stop();
	return status;
}
