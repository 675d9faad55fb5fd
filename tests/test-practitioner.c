/* A practitioner's own view (issue 13), end to end on a private bus:
 * the practitioner's iCalendar feed over real HTTP, read back by
 * python3-icalendar (tests/feeds/ics_dump.py), and the Planner1
 * figures per resource (ResourceUtilisation, Staffing's rostered).
 *
 * The example region, a feed server on 127.0.0.1 (any free port), the
 * clock on Monday 2026-12-07 07:00. Which practitioner a booking took
 * is read from the database file with sqlite3, not from slotd. */
#define _GNU_SOURCE /* memmem */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "harness.h"

#define HH "home-hospital-west"
#define REGION_UID "@nyland.slotd"

static Harness h;
static char *base_url;		/* "http://127.0.0.1:PORT" */
/* Two visits of one practitioner, one visit of another. */
static char *visit1, *visit2, *other_visit;
static char *nurse, *other_nurse;
static char *nurse_token, *nurse_path, *other_token, *other_path;

/* ---- HTTP through curl ---------------------------------------------- */

typedef struct {
	int status;
	char *headers;
	char *body;
	gsize length;
} Response;

static void
response_clear(Response *r)
{
	g_free(r->headers);
	g_free(r->body);
	memset(r, 0, sizeof(*r));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Response, response_clear)

/* `extra`: one more request header, or NULL. */
static void
get(const char *path, const char *extra, Response *r)
{
	g_autofree char *url = g_strconcat(base_url, path, NULL);
	g_autofree char *head = g_build_filename(h.tmpdir, "headers", NULL);
	g_autofree char *body = g_build_filename(h.tmpdir, "body", NULL);
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;
	const char *argv[] = { "curl", "-s", "-S", "--path-as-is",
			       "--globoff", "-D", head, "-o", body,
			       "-w", "%{http_code}", url,
			       extra ? "-H" : NULL, extra, NULL };

	g_unlink(body);
	g_assert_cmpint(harness_run(&h, &out, &err, argv), ==, 0);
	r->status = atoi(out);
	g_file_get_contents(head, &r->headers, NULL, &error);
	g_assert_no_error(error);
	if (!g_file_get_contents(body, &r->body, &r->length, NULL))
		r->body = g_strdup("");
}

static char *
header(const Response *r, const char *name)
{
	g_auto(GStrv) lines = g_strsplit(r->headers, "\r\n", -1);

	for (guint i = 0; lines[i]; i++) {
		const char *colon = strchr(lines[i], ':');

		if (colon && (gsize)(colon - lines[i]) == strlen(name) &&
		    g_ascii_strncasecmp(lines[i], name, strlen(name)) == 0)
			return g_strstrip(g_strdup(colon + 1));
	}
	return NULL;
}

/* ---- the independent parser ----------------------------------------- */

/* Records of ics_dump.py: EVENT uid start end status sequence summary
 * location ...; DETAIL uid categories description. */
static GPtrArray *
python_dump(const char *text, gsize length)
{
	g_autofree char *file = g_build_filename(h.tmpdir, "p.ics", NULL);
	g_autofree char *script = g_build_filename(
		harness_source_root(), "tests", "feeds", "ics_dump.py", NULL);
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;
	const char *argv[] = { "/usr/bin/python3", script, file, NULL };
	g_auto(GStrv) lines = NULL;
	GPtrArray *records = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_strfreev);

	g_file_set_contents(file, text, length, &error);
	g_assert_no_error(error);
	if (harness_run(&h, &out, &err, argv) != 0)
		g_error("python3-icalendar refused the feed: %s", err);
	lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; lines[i] && *lines[i]; i++)
		g_ptr_array_add(records, g_strsplit(lines[i], "\t", -1));
	return records;
}

static char **
find_record(GPtrArray *records, const char *tag, const char *key)
{
	for (guint i = 0; i < records->len; i++) {
		char **r = records->pdata[i];

		if (g_str_equal(r[0], tag) && g_strcmp0(r[1], key) == 0)
			return r;
	}
	return NULL;
}

static guint
count_records(GPtrArray *records, const char *tag)
{
	guint n = 0;

	for (guint i = 0; i < records->len; i++)
		n += g_str_equal(((char **)records->pdata[i])[0], tag);
	return n;
}

/* "b-12" and "hh-loh-d1a": "b-12-hh-loh-d1a@nyland.slotd". */
static char *
practitioner_uid(const char *booking, const char *practitioner)
{
	return g_strconcat(booking, "-", practitioner, REGION_UID, NULL);
}

/* ---- bookings and the database -------------------------------------- */

static char *
slot_at(const char *service, const char *municipality, gint64 start,
	const char *practitioner)
{
	g_autoptr(GVariant) slots = NULL;
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", municipality);
	g_variant_dict_insert(&d, "from", "x", start);
	g_variant_dict_insert(&d, "to", "x", start + 1);
	if (practitioner)
		g_variant_dict_insert(&d, "practitioner", "s", practitioner);
	slots = harness_find(&h, service, g_variant_dict_end(&d));
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id;
		gint64 at;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, NULL,
				    &at, NULL, NULL, NULL);
		if (at == start)
			return g_strdup(id);
	}
	g_error("no %s slot at %" G_GINT64_FORMAT, service, start);
	return NULL;
}

/* A home visit in Lohja at `start`, of `practitioner` when given. */
static char *
book_visit(gint64 start, const char *client, const char *practitioner)
{
	g_autofree char *slot = slot_at(HH, "Lohja", start, practitioner);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	GVariantDict d;
	char *id;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	if (practitioner)
		g_variant_dict_insert(&d, "practitioner", "s", practitioner);
	r = harness_call(&h, "org.slotd.Scheduler1", "Book",
			 g_variant_new("(ss@a{sv})", slot, client,
				       g_variant_dict_end(&d)),
			 "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(s)", &id);
	return id;
}

static GVariant *
get_booking(const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Scheduler1",
					     "GetBooking",
					     g_variant_new("(s)", id),
					     "(a{sv})", &error);

	g_assert_no_error(error);
	return g_variant_get_child_value(r, 0);
}

/* One line of sqlite3's output for `sql` on slotd's database (WAL:
 * a reader sees the last commit). */
static char *
sql_line(const char *sql)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	g_autofree char *out = NULL, *err = NULL;
	const char *argv[] = { "sqlite3", "-readonly", db, sql, NULL };

	if (harness_run(&h, &out, &err, argv) != 0)
		g_error("sqlite3 failed: %s", err);
	return g_strstrip(g_steal_pointer(&out));
}

static gint64
numeric_id(const char *booking)
{
	g_assert_true(g_str_has_prefix(booking, "b-"));
	return g_ascii_strtoll(booking + 2, NULL, 10);
}

/* The practitioner a booking took, from resource_use (the practitioner
 * is the booking's resource whose id is not a car's). */
static char *
practitioner_of(const char *booking)
{
	g_autofree char *sql = g_strdup_printf(
		"SELECT resource FROM resource_use WHERE booking = %"
		G_GINT64_FORMAT " AND resource NOT LIKE '%%-car%%';",
		numeric_id(booking));
	char *id = sql_line(sql);

	g_assert_cmpstr(id, !=, "");
	g_assert_null(strchr(id, '\n'));
	return id;
}

/* When the booking takes `resource`: [*ret_start, *ret_end). */
static void
use_of(const char *booking, const char *resource, gint64 *ret_start,
       gint64 *ret_end)
{
	g_autofree char *sql = g_strdup_printf(
		"SELECT start || ' ' || \"end\" FROM resource_use"
		" WHERE booking = %" G_GINT64_FORMAT " AND resource = '%s';",
		numeric_id(booking), resource);
	g_autofree char *line = sql_line(sql);

	g_assert_cmpint(sscanf(line, "%" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
			       ret_start, ret_end), ==, 2);
}

static char *
issue_practitioner_token(const char *id, char **ret_path, GError **error)
{
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1",
					     "IssuePractitionerFeedToken",
					     g_variant_new("(s)", id), "(ss)",
					     error);
	char *token = NULL;

	if (r)
		g_variant_get(r, "(ss)", &token, ret_path);
	return token;
}

/* ---- the feed ------------------------------------------------------- */

static void
test_setup(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1",
					     "GetHttpAddress", NULL, "(s)",
					     &error);
	const char *address;

	g_assert_no_error(error);
	g_variant_get(r, "(&s)", &address);
	g_assert_true(g_str_has_prefix(address, "127.0.0.1:"));
	base_url = g_strconcat("http://", address, NULL);
	/* Tuesday 8 December, the day shift. */
	visit1 = book_visit(harness_local(2026, 12, 8, 9, 0), "pf-client-one",
			    NULL);
	nurse = practitioner_of(visit1);
	g_assert_true(g_str_has_prefix(nurse, "hh-loh-"));
	visit2 = book_visit(harness_local(2026, 12, 8, 11, 0), "pf-client-two",
			    nurse);
	{
		g_autofree char *second = practitioner_of(visit2);

		g_assert_cmpstr(second, ==, nurse);
	}
	/* Another nurse of the same shift, at the same time as visit1. */
	other_visit = book_visit(harness_local(2026, 12, 8, 9, 0),
				 "pf-client-three", NULL);
	other_nurse = practitioner_of(other_visit);
	g_assert_cmpstr(other_nurse, !=, nurse);
	nurse_token = issue_practitioner_token(nurse, &nurse_path, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(strlen(nurse_token), ==, 32);
	{
		g_autofree char *want = g_strdup_printf(
			"/feeds/practitioner/%s/%s.ics", nurse_token, nurse);

		g_assert_cmpstr(nurse_path, ==, want);
	}
	other_token = issue_practitioner_token(other_nurse, &other_path,
					       &error);
	g_assert_no_error(error);
}

/* The event of `booking` agrees with GetBooking and the resource_use
 * row: times, location, duration and travel; no client anywhere. */
static void
assert_visit(GPtrArray *records, const char *booking, const char *client)
{
	g_autoptr(GVariant) b = get_booking(booking);
	g_autofree char *uid = practitioner_uid(booking, nurse);
	char **event = find_record(records, "EVENT", uid);
	char **detail = find_record(records, "DETAIL", uid);
	gint64 start, end, use_start, use_end;
	g_autofree char *summary = NULL, *location = NULL;
	g_autofree char *description = NULL, *duration = NULL;
	g_autofree char *before = NULL, *after = NULL;

	if (event == NULL || detail == NULL)
		g_error("the feed has no event %s", uid);
	g_assert_true(g_variant_lookup(b, "start", "x", &start));
	g_assert_true(g_variant_lookup(b, "end", "x", &end));
	use_of(booking, nurse, &use_start, &use_end);
	g_assert_cmpint(use_start, <=, start);
	g_assert_cmpint(use_end, >=, end);
	summary = g_strcompress(event[6]);
	location = g_strcompress(event[7]);
	description = g_strcompress(detail[3]);
	g_assert_cmpstr(event[4], ==, "CONFIRMED");
	g_assert_null(strstr(summary, client));
	g_assert_null(strstr(summary, "ref"));
	g_assert_true(g_str_has_prefix(summary, "Kotisairaala"));
	/* The area of the client's home, never more. */
	g_assert_true(g_str_has_prefix(location, "Asiakkaan koti, Lohja"));
	g_assert_cmpstr(detail[2], ==, "Kotikäynti");
	duration = g_strdup_printf("Kesto: %" G_GINT64_FORMAT " min",
				   (end - start) / 60);
	g_assert_nonnull(strstr(description, duration));
	if (use_start < start) {
		before = g_strdup_printf("Matka ennen: %" G_GINT64_FORMAT
					 " min", (start - use_start) / 60);
		g_assert_nonnull(strstr(description, before));
	} else {
		g_assert_null(strstr(description, "Matka ennen"));
	}
	if (use_end > end) {
		after = g_strdup_printf("Matka jälkeen: %" G_GINT64_FORMAT
					" min", (use_end - end) / 60);
		g_assert_nonnull(strstr(description, after));
	} else {
		g_assert_null(strstr(description, "Matka jälkeen"));
	}
	g_assert_null(strstr(description, client));
}

static void
test_feed_events(void)
{
	g_auto(Response) r = { 0 };
	g_autoptr(GPtrArray) records = NULL;
	g_autofree char *other_uid = practitioner_uid(other_visit, nurse);

	get(nurse_path, NULL, &r);
	g_assert_cmpint(r.status, ==, 200);
	g_assert_nonnull(strstr(r.headers, "text/calendar"));
	/* No client reference anywhere in the text. */
	g_assert_null(memmem(r.body, r.length, "pf-client", 9));
	g_assert_null(memmem(r.body, r.length, "CLIENT", 6));
	records = python_dump(r.body, r.length);
	g_assert_cmpuint(count_records(records, "EVENT"), ==, 2);
	assert_visit(records, visit1, "pf-client-one");
	assert_visit(records, visit2, "pf-client-two");
	g_assert_null(find_record(records, "EVENT", other_uid));
}

/* ?lang=sv: the calendar's name, the service, the place and the
 * words in Swedish alone; still no client; an unknown language is a
 * 400. */
static void
test_feed_in_swedish(void)
{
	g_autofree char *path = g_strconcat(nurse_path, "?lang=sv", NULL);
	g_autofree char *bad = g_strconcat(nurse_path, "?lang=de", NULL);
	g_autofree char *name = NULL, *want = NULL;
	g_auto(Response) r = { 0 };
	g_auto(Response) refused = { 0 };
	g_autoptr(GPtrArray) records = NULL;
	guint events = 0;

	get(path, NULL, &r);
	g_assert_cmpint(r.status, ==, 200);
	g_assert_null(memmem(r.body, r.length, "pf-client", 9));
	records = python_dump(r.body, r.length);
	name = g_strcompress(find_record(records, "CAL", "X-WR-CALNAME")[2]);
	want = g_strconcat(nurse, " – Hemsjukhuset, Lojo sjukhus", NULL);
	g_assert_cmpstr(name, ==, want);
	for (guint i = 0; i < records->len; i++) {
		char **rec = records->pdata[i];
		g_autofree char *a = NULL, *b = NULL;

		if (g_str_equal(rec[0], "EVENT")) {
			events++;
			a = g_strcompress(rec[6]);
			b = g_strcompress(rec[7]);
			g_assert_cmpstr(a, ==, "Hemsjukhuset, Västra Nyland");
			g_assert_cmpstr(b, ==, "Klientens hem, Lojo");
		} else if (g_str_equal(rec[0], "DETAIL")) {
			a = g_strcompress(rec[3]);
			g_assert_cmpstr(rec[2], ==, "Hembesök");
			g_assert_true(g_str_has_prefix(a, "Kontaktsätt: Hembesök\n"));
			g_assert_nonnull(strstr(a, "\nLängd: "));
		}
	}
	g_assert_cmpuint(events, ==, 2);
	get(bad, NULL, &refused);
	g_assert_cmpint(refused.status, ==, 400);
	g_assert_nonnull(strstr(refused.body, "lang must be fi"));
}

static void
test_other_practitioner(void)
{
	g_auto(Response) r = { 0 };
	g_autoptr(GPtrArray) records = NULL;
	g_autofree char *mine1 = practitioner_uid(visit1, other_nurse);
	g_autofree char *mine2 = practitioner_uid(visit2, other_nurse);
	g_autofree char *theirs = practitioner_uid(other_visit, other_nurse);

	get(other_path, NULL, &r);
	g_assert_cmpint(r.status, ==, 200);
	records = python_dump(r.body, r.length);
	g_assert_cmpuint(count_records(records, "EVENT"), ==, 1);
	g_assert_nonnull(find_record(records, "EVENT", theirs));
	g_assert_null(find_record(records, "EVENT", mine1));
	g_assert_null(find_record(records, "EVENT", mine2));
	g_assert_null(memmem(r.body, r.length, "pf-client", 9));
}

/* A wrong token, another's token, a practitioner's token on a unit's
 * feed, a unit's token on a practitioner's: all 404, like unit feeds. */
static void
test_wrong_tokens(void)
{
	const char *wrong = "abcdefghijklmnopqrstuvwxyz234567";
	g_autofree char *unit_token = NULL, *unit_path = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	char *paths[5] = { NULL };

	r = harness_call(&h, "org.slotd.Admin1", "IssueFeedToken",
			 g_variant_new("(ss)", "W-HH-LOH", ""), "(ss)",
			 &error);
	g_assert_no_error(error);
	g_variant_get(r, "(ss)", &unit_token, &unit_path);
	paths[0] = g_strdup_printf("/feeds/practitioner/%s/%s.ics", wrong,
				   nurse);
	paths[1] = g_strdup_printf("/feeds/practitioner/%s/%s.ics",
				   other_token, nurse);
	paths[2] = g_strdup_printf("/feeds/%s/W-HH-LOH.ics", nurse_token);
	paths[3] = g_strdup_printf("/feeds/practitioner/%s/%s.ics",
				   unit_token, nurse);
	paths[4] = g_strdup_printf("/feeds/practitioner/%s/hh-loh-car1.ics",
				   nurse_token);
	for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
		g_auto(Response) resp = { 0 };

		get(paths[i], NULL, &resp);
		g_assert_cmpint(resp.status, ==, 404);
		g_assert_null(memmem(resp.body, resp.length, "BEGIN:", 6));
		g_free(paths[i]);
	}
	/* Unit feeds are unchanged: the unit's token opens it, and it
	 * still carries the client references. */
	{
		g_auto(Response) unit = { 0 };

		get(unit_path, NULL, &unit);
		g_assert_cmpint(unit.status, ==, 200);
		g_assert_nonnull(memmem(unit.body, unit.length,
					"ref pf-client-one", 17));
	}
}

static void
test_refused_ids(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL, *err = NULL;

	g_assert_null(issue_practitioner_token("hh-loh-car1", NULL, &error));
	harness_assert_dbus_error(error,
				  "org.slotd.Error.NoSuchPractitioner");
	g_clear_error(&error);
	g_assert_null(issue_practitioner_token("nobody-here", NULL, &error));
	harness_assert_dbus_error(error,
				  "org.slotd.Error.NoSuchPractitioner");
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "feed-url",
					"--practitioner", nurse, NULL), ==, 0);
	g_assert_nonnull(strstr(out, "/feeds/practitioner/"));
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "feed-url",
					"--practitioner", "hh-loh-car1", NULL),
			==, 1);
	g_assert_nonnull(strstr(err, "practitioner"));
}

/* ETag and 304 as unit feeds; a cancelled visit stays, CANCELLED. */
static void
test_conditional_and_cancelled(void)
{
	g_auto(Response) first = { 0 }, again = { 0 }, after = { 0 };
	g_autofree char *etag = NULL, *if_none = NULL, *etag2 = NULL;
	g_autofree char *uid = practitioner_uid(visit2, nurse);
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	char **event;

	get(nurse_path, NULL, &first);
	etag = header(&first, "ETag");
	g_assert_nonnull(etag);
	if_none = g_strconcat("If-None-Match: ", etag, NULL);
	get(nurse_path, if_none, &again);
	g_assert_cmpint(again.status, ==, 304);
	g_assert_cmpuint(again.length, ==, 0);
	r = harness_call(&h, "org.slotd.Scheduler1", "Cancel",
			 g_variant_new("(ss)", visit2, "patient"), NULL,
			 &error);
	g_assert_no_error(error);
	get(nurse_path, if_none, &after);
	g_assert_cmpint(after.status, ==, 200);
	etag2 = header(&after, "ETag");
	g_assert_cmpstr(etag2, !=, etag);
	records = python_dump(after.body, after.length);
	event = find_record(records, "EVENT", uid);
	g_assert_nonnull(event);
	g_assert_cmpstr(event[4], ==, "CANCELLED");
	g_assert_null(memmem(after.body, after.length, "pf-client", 9));
}

/* ---- Planner1 ------------------------------------------------------- */

static GVariant *
utilisation(gint64 from, gint64 to, GVariant *options, GError **error)
{
	g_autoptr(GVariant) r = harness_call(
		&h, "org.slotd.Planner1", "ResourceUtilisation",
		g_variant_new("(xx@a{sv})", from, to, options), "(aa{sv})",
		error);

	return r ? g_variant_get_child_value(r, 0) : NULL;
}

static GVariant *
row_of(GVariant *rows, const char *key, const char *value)
{
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		GVariant *row = g_variant_get_child_value(rows, i);
		const char *v;

		if (g_variant_lookup(row, key, "&s", &v) &&
		    g_str_equal(v, value))
			return row;
		g_variant_unref(row);
	}
	g_error("no row with %s=%s", key, value);
	return NULL;
}

/* Tuesday's utilisation of the nurse with one known visit equals that
 * visit's minutes (travel included); the cancelled one counts not. */
static void
test_utilisation(void)
{
	gint64 from = harness_local(2026, 12, 8, 0, 0);
	gint64 to = harness_local(2026, 12, 9, 0, 0);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = NULL, row = NULL, mine = NULL;
	g_autofree char *out = NULL, *err = NULL, *want = NULL;
	gint64 use_start, use_end;
	guint64 booked, duty, bookings;
	const char *type, *unit;
	double share;
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "unit", "s", "W-HH-LOH");
	g_variant_dict_insert(&d, "type", "s", "practitioner");
	rows = utilisation(from, to, g_variant_dict_end(&d), &error);
	g_assert_no_error(error);
	/* W-HH-LOH's twelve nurses, nothing else. */
	g_assert_cmpuint(g_variant_n_children(rows), ==, 12);
	row = row_of(rows, "resource", other_nurse);
	use_of(other_visit, other_nurse, &use_start, &use_end);
	g_assert_true(g_variant_lookup(row, "booked-minutes", "t", &booked));
	g_assert_true(g_variant_lookup(row, "on-duty-minutes", "t", &duty));
	g_assert_true(g_variant_lookup(row, "bookings", "t", &bookings));
	g_assert_true(g_variant_lookup(row, "share", "d", &share));
	g_assert_true(g_variant_lookup(row, "type", "&s", &type));
	g_assert_true(g_variant_lookup(row, "unit", "&s", &unit));
	g_assert_cmpuint(booked, ==, (guint64)(use_end - use_start) / 60);
	g_assert_cmpuint(booked, >, 0);
	g_assert_cmpuint(bookings, ==, 1);
	/* A day shift, 07:00-15:30. */
	g_assert_cmpuint(duty, ==, 510);
	g_assert_cmpfloat_with_epsilon(share, (double)booked / 510, 1e-9);
	g_assert_cmpstr(type, ==, "practitioner");
	g_assert_cmpstr(unit, ==, "W-HH-LOH");
	/* visit2 was cancelled: only visit1 is left of the other nurse. */
	mine = row_of(rows, "resource", nurse);
	use_of(visit1, nurse, &use_start, &use_end);
	g_assert_true(g_variant_lookup(mine, "booked-minutes", "t", &booked));
	g_assert_true(g_variant_lookup(mine, "bookings", "t", &bookings));
	g_assert_cmpuint(booked, ==, (guint64)(use_end - use_start) / 60);
	g_assert_cmpuint(bookings, ==, 1);
	/* Refusals by name. */
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "type", "s", "nurse");
	g_assert_null(utilisation(from, to, g_variant_dict_end(&d), &error));
	harness_assert_dbus_error(error,
				  "org.freedesktop.DBus.Error.InvalidArgs");
	g_clear_error(&error);
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "unit", "s", "NOPE");
	g_assert_null(utilisation(from, to, g_variant_dict_end(&d), &error));
	harness_assert_dbus_error(error, "org.slotd.Error.NoSuchUnit");
	/* slotctl report resources, as CSV. */
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "--csv", "report",
					"resources", "--from", "2026-12-08",
					"--to", "2026-12-08", "--unit",
					"W-HH-LOH", "--type", "practitioner",
					NULL), ==, 0);
	g_assert_true(g_str_has_prefix(out, "resource,type,unit,"));
	want = g_strdup_printf("\n%s,practitioner,W-HH-LOH,", other_nurse);
	g_assert_nonnull(strstr(out, want));
}

/* Staffing of home hospital (west) for the week from `from`. */
static GVariant *
staffing_rows(gint64 from)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "from", "x", from);
	r = harness_call(&h, "org.slotd.Planner1", "Staffing",
			 g_variant_new("(s@a{sv})", HH,
				       g_variant_dict_end(&d)),
			 "(aa{sv})", &error);
	g_assert_no_error(error);
	return g_variant_get_child_value(r, 0);
}

/* The rostered of W-HH-LOH's `shift` row; every row has one (every base
 * of the example is made of nurses and cars). */
static guint32
rostered_at(GVariant *rows, const char *shift)
{
	guint32 found = G_MAXUINT32;

	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		const char *unit, *name;
		guint32 rostered;

		g_assert_true(g_variant_lookup(row, "unit", "&s", &unit));
		g_assert_true(g_variant_lookup(row, "shift", "&s", &name));
		g_assert_true(g_variant_lookup(row, "rostered", "u",
					       &rostered));
		if (g_str_equal(unit, "W-HH-LOH") && g_str_equal(name, shift))
			found = rostered;
	}
	g_assert_cmpuint(found, !=, G_MAXUINT32);
	return found;
}

/* Staffing's rostered: the nurses configured per shift at W-HH-LOH
 * (day 3, evening 2, night 1) whatever the weekday; those three shifts
 * only. */
static void
test_rostered(void)
{
	g_autoptr(GVariant) rows = staffing_rows(harness_local(2026, 12, 14,
							       0, 0));
	guint found = 0;

	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		const char *unit;

		g_assert_true(g_variant_lookup(row, "unit", "&s", &unit));
		found += g_str_equal(unit, "W-HH-LOH");
	}
	g_assert_cmpuint(found, ==, 3);
	g_assert_cmpuint(rostered_at(rows, "day"), ==, 3);
	g_assert_cmpuint(rostered_at(rows, "evening"), ==, 2);
	g_assert_cmpuint(rostered_at(rows, "night"), ==, 1);
}

/* The day of the absence test: a Thursday inside this file's horizon
 * (14 days from the 7th), in the week /rostered has already read. */
#define AWAY_DAY 17

/* A W-HH-LOH resource's on-duty minutes on AWAY_DAY, from
 * ResourceUtilisation. */
static guint64
duty_on_away_day(const char *who)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = NULL, row = NULL;
	guint64 duty = 0;
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "unit", "s", "W-HH-LOH");
	rows = utilisation(harness_local(2026, 12, AWAY_DAY, 0, 0),
			   harness_local(2026, 12, AWAY_DAY + 1, 0, 0),
			   g_variant_dict_end(&d), &error);
	g_assert_no_error(error);
	row = row_of(rows, "resource", who);
	g_assert_true(g_variant_lookup(row, "on-duty-minutes", "t", &duty));
	return duty;
}

/* W-HH-LOH's rostered for `shift` over the week of the 14th. */
static guint32
rostered_in_away_week(const char *shift)
{
	g_autoptr(GVariant) rows = staffing_rows(harness_local(2026, 12, 14,
							       0, 0));

	return rostered_at(rows, shift);
}

static void
mark_absent(const char *who, gint64 start, gint64 end)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(
		&h, "org.slotd.Admin1", "MarkAbsent",
		g_variant_new("(sxxs)", who, start, end, "ill"),
		"(saa{sv})", &error);

	g_assert_no_error(error);
}

/* How many home-hospital slots FindSlots offers with `who` starting in
 * [from, to) on AWAY_DAY (hours, local time). */
static gsize
offered_with(const char *who, int from, int to)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL, slots = NULL;
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "444");
	g_variant_dict_insert(&d, "practitioner", "s", who);
	g_variant_dict_insert(&d, "from", "x",
			      harness_local(2026, 12, AWAY_DAY, from, 0));
	g_variant_dict_insert(&d, "to", "x",
			      harness_local(2026, 12, AWAY_DAY, to, 0));
	r = harness_call(&h, "org.slotd.Scheduler1", "FindSlots",
			 g_variant_new("(s@a{sv})", HH,
				       g_variant_dict_end(&d)),
			 "(a(ssxxua{sv}))", &error);
	g_assert_no_error(error);
	slots = g_variant_get_child_value(r, 0);
	return g_variant_n_children(slots);
}

/* A nurse marked absent at run time is no longer counted on duty by
 * the reports, as the admission rule no longer takes her: her
 * on-duty minutes lose the hours she is away (two overlapping
 * absences taken off once), Staffing's day shift has one nurse fewer
 * on the fewest day of that week, and FindSlots offers her in those
 * hours before the absences and not after. */
static void
test_absence_leaves_the_rota(void)
{
	const char *away = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = NULL;
	GVariantDict d;

	/* A nurse of W-HH-LOH on the day shift (07:00-15:30) that day. */
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "unit", "s", "W-HH-LOH");
	g_variant_dict_insert(&d, "type", "s", "practitioner");
	rows = utilisation(harness_local(2026, 12, AWAY_DAY, 0, 0),
			   harness_local(2026, 12, AWAY_DAY + 1, 0, 0),
			   g_variant_dict_end(&d), &error);
	g_assert_no_error(error);
	for (gsize i = 0; i < g_variant_n_children(rows) && !away; i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		guint64 duty;

		g_assert_true(g_variant_lookup(row, "on-duty-minutes", "t",
					       &duty));
		if (duty == 510)
			g_assert_true(g_variant_lookup(row, "resource", "&s",
						       &away));
	}
	g_assert_nonnull(away);
	g_assert_cmpuint(rostered_in_away_week("day"), ==, 3);
	g_assert_cmpuint(offered_with(away, 8, 14), >, 0);
	/* 08:00-12:00, then 10:00-14:00: away 08:00-14:00, six hours. */
	mark_absent(away, harness_local(2026, 12, AWAY_DAY, 8, 0),
		    harness_local(2026, 12, AWAY_DAY, 12, 0));
	g_assert_cmpuint(duty_on_away_day(away), ==, 510 - 240);
	mark_absent(away, harness_local(2026, 12, AWAY_DAY, 10, 0),
		    harness_local(2026, 12, AWAY_DAY, 14, 0));
	g_assert_cmpuint(duty_on_away_day(away), ==, 510 - 360);
	g_assert_cmpuint(rostered_in_away_week("day"), ==, 2);
	/* The evening and the night have nobody of hers away. */
	g_assert_cmpuint(rostered_in_away_week("evening"), ==, 2);
	g_assert_cmpuint(rostered_in_away_week("night"), ==, 1);
	/* The admission rule agrees: she is not offered in those hours. */
	g_assert_cmpuint(offered_with(away, 8, 14), ==, 0);
}

/* Book of `slot` for `client` with `options` (GVariant text of an
 * a{sv}): the booking id, or NULL and `error`. */
static char *
book_with(const char *slot, const char *client, const char *options,
	  GError **error)
{
	return harness_book(&h, slot, client, g_variant_new_parsed(options),
			    error);
}

/* A Book that uses a HoldFor hold asks what the hold was taken for:
 * without the language a Swedish-speaking client was held with, or for
 * another client, it is refused, names what differs and changes
 * nothing; with the same request it books with the hold. */
static void
test_hold_for_the_same_request(void)
{
	g_autoptr(GVariant) slots = NULL, held = NULL, b = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *without_language = NULL;
	g_autofree char *same = NULL, *booking = NULL;
	const char *slot, *hold, *language;
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	g_variant_dict_insert(&d, "language", "s", "sv");
	g_variant_dict_insert(&d, "from", "x",
			      harness_local(2026, 12, 9, 8, 0));
	g_variant_dict_insert(&d, "limit", "u", 1);
	slots = harness_find(&h, HH, g_variant_dict_end(&d));
	g_assert_cmpuint(g_variant_n_children(slots), ==, 1);
	g_variant_get_child(slots, 0, "(&s&sxxu@a{sv})", &slot, NULL, NULL,
			    NULL, NULL, NULL);
	held = harness_call(&h, "org.slotd.Scheduler1", "HoldFor",
			    g_variant_new("(ss@a{sv}u)", slot, "pf-client-sv",
					  g_variant_new_parsed(
						  "{'municipality': <'Lohja'>,"
						  " 'language': <'sv'>}"),
					  120),
			    "(sx)", &error);
	g_assert_no_error(error);
	g_variant_get(held, "(&sx)", &hold, NULL);
	without_language = g_strdup_printf(
		"{'municipality': <'Lohja'>, 'hold': <'%s'>}", hold);
	same = g_strdup_printf("{'language': <'sv'>, 'hold': <'%s'>,"
			       " 'municipality': <'Lohja'>}", hold);

	g_assert_null(book_with(slot, "pf-client-sv", without_language,
				&error));
	harness_assert_dbus_error(error, "org.slotd.Error.Conflict");
	g_assert_nonnull(strstr(error->message, "(language differs)"));
	g_clear_error(&error);
	g_assert_null(book_with(slot, "pf-client-other", same, &error));
	harness_assert_dbus_error(error, "org.slotd.Error.Conflict");
	g_assert_nonnull(strstr(error->message, "(client-ref differs)"));
	g_clear_error(&error);

	/* Nothing changed: the hold still holds, and books. */
	booking = book_with(slot, "pf-client-sv", same, &error);
	g_assert_no_error(error);
	b = get_booking(booking);
	g_assert_true(g_variant_lookup(b, "language", "&s", &language));
	g_assert_cmpstr(language, ==, "sv");
}

/* ---- a visit that moves to another practitioner ------------------- */

/* Reschedule of `booking` to `slot`. */
static void
reschedule(const char *booking, const char *slot)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Scheduler1",
					     "Reschedule",
					     g_variant_new("(ss)", booking,
							   slot),
					     "(s)", &error);

	g_assert_no_error(error);
}

/* `resource`'s feed, read by python3-icalendar; no client in it. */
static GPtrArray *
feed_of(const char *resource)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	g_autofree char *token =
		issue_practitioner_token(resource, &path, &error);
	g_auto(Response) r = { 0 };

	g_assert_no_error(error);
	get(path, NULL, &r);
	g_assert_cmpint(r.status, ==, 200);
	g_assert_null(memmem(r.body, r.length, "pf-client", 9));
	return python_dump(r.body, r.length);
}

/* `booking`'s event in `resource`'s feed has `status` and starts at
 * `start` (local "YYYY-MM-DDTHH:MM"); its SEQUENCE is at least
 * `sequence`. */
static void
assert_event(const char *resource, const char *booking, const char *status,
	     const char *start, gint64 sequence)
{
	g_autoptr(GPtrArray) records = feed_of(resource);
	g_autofree char *uid = practitioner_uid(booking, resource);
	char **event = find_record(records, "EVENT", uid);

	if (event == NULL)
		g_error("%s's feed has no event %s", resource, uid);
	g_assert_cmpstr(event[4], ==, status);
	if (!g_str_has_prefix(event[2], start))
		g_error("%s in %s's feed starts at %s, not %s", uid, resource,
			event[2], start);
	g_assert_cmpint(g_ascii_strtoll(event[5], NULL, 10), >=, sequence);
}

/* Where a moving visit has been: its practitioner and local start
 * ("YYYY-MM-DDTHH:MM") after each step, read from the database. */
typedef struct {
	char *practitioner;
	const char *start;
} Stint;

static void
stint_clear(gpointer data)
{
	g_free(((Stint *)data)->practitioner);
}

/* What every practitioner's feed must show of `visit` after `stints`:
 * the one it has now, live at its start; every other one that had it,
 * cancelled at the start of its last stint with the visit (the latest
 * move away wins); one event of the visit in each feed. */
static void
assert_stints(const char *visit, GArray *stints, gint64 sequence)
{
	const Stint *now = &g_array_index(stints, Stint, stints->len - 1);
	g_autoptr(GHashTable) checked =
		g_hash_table_new(g_str_hash, g_str_equal);

	assert_event(now->practitioner, visit, "CONFIRMED", now->start,
		     sequence);
	g_hash_table_add(checked, now->practitioner);
	for (guint i = stints->len - 1; i-- > 0;) {
		const Stint *was = &g_array_index(stints, Stint, i);
		g_autoptr(GPtrArray) records = NULL;
		g_autofree char *uid = NULL;
		guint n = 0;

		if (!g_hash_table_add(checked, was->practitioner))
			continue; /* a later stint of theirs counts */
		assert_event(was->practitioner, visit, "CANCELLED", was->start,
			     sequence);
		records = feed_of(was->practitioner);
		uid = practitioner_uid(visit, was->practitioner);
		for (guint j = 0; j < records->len; j++) {
			char **rec = records->pdata[j];

			n += g_str_equal(rec[0], "EVENT") &&
			     g_str_equal(rec[1], uid);
		}
		g_assert_cmpuint(n, ==, 1);
	}
}

/* A visit moved to a time its nurse is busy goes to another nurse: the
 * first nurse's feed shows it cancelled at its old time (as a unit's
 * feed shows a booking moved to another unit), with a higher SEQUENCE
 * than the event the nurse's calendar had; the new nurse's shows it at
 * the new time. Moved on twice more (13:00, where anyone may take it,
 * the first nurse again most likely, then 11:00 again), every nurse
 * who had it shows it once, cancelled at the start of their last stint
 * with it, and the one who has it, live. Who had it when is read from
 * the database after each move, not from the feeds. */
static void
test_moved_to_another(void)
{
	static const char *const starts[] = { "2026-12-10T09:00",
					       "2026-12-10T11:00",
					       "2026-12-10T13:00",
					       "2026-12-10T11:00" };
	static const int hours[] = { 9, 11, 13, 11 };
	g_autofree char *visit = book_visit(harness_local(2026, 12, 10, 9, 0),
					    "pf-client-moving", NULL);
	g_autofree char *first = practitioner_of(visit);
	g_autofree char *blocker = book_visit(
		harness_local(2026, 12, 10, 11, 0), "pf-client-blocking",
		first);
	g_autoptr(GArray) stints = g_array_new(FALSE, TRUE, sizeof(Stint));
	gint64 before = harness_sequence(&h, visit);
	Stint stint = { g_strdup(first), starts[0] };

	g_array_set_clear_func(stints, stint_clear);
	g_array_append_val(stints, stint);
	assert_event(first, visit, "CONFIRMED", starts[0], before);
	for (guint i = 1; i < G_N_ELEMENTS(starts); i++) {
		g_autofree char *slot = slot_at(
			HH, "Lohja", harness_local(2026, 12, 10, hours[i], 0),
			NULL);

		reschedule(visit, slot);
		stint.practitioner = practitioner_of(visit);
		stint.start = starts[i];
		g_array_append_val(stints, stint);
		g_test_message("%s: %s", stint.start, stint.practitioner);
		/* The first nurse has the blocking visit at eleven. */
		if (hours[i] == 11)
			g_assert_cmpstr(stint.practitioner, !=, first);
		g_assert_cmpint(harness_sequence(&h, visit), ==, before + i);
		assert_stints(visit, stints, before + i);
	}
	assert_event(first, blocker, "CONFIRMED", "2026-12-10T11:00", 0);
}

/* ---- a visit that must be moved ------------------------------------ */

/* The SUMMARY and DESCRIPTION python3-icalendar reads for `uid` in a
 * feed. */
static void
event_words(GPtrArray *records, const char *uid, char **ret_summary,
	    char **ret_description)
{
	char **event = find_record(records, "EVENT", uid);
	char **detail = find_record(records, "DETAIL", uid);

	if (event == NULL || detail == NULL)
		g_error("no event %s in the feed", uid);
	*ret_summary = g_strcompress(event[6]);
	*ret_description = g_strcompress(detail[3]);
}

/* W-HH-LOH's unit feed, read by python3-icalendar. */
static GPtrArray *
unit_feed(void)
{
	static char *path;
	g_auto(Response) r = { 0 };

	if (path == NULL) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) t = harness_call(
			&h, "org.slotd.Admin1", "IssueFeedToken",
			g_variant_new("(ss)", "W-HH-LOH", ""), "(ss)",
			&error);

		g_assert_no_error(error);
		g_variant_get(t, "(ss)", NULL, &path);
	}
	get(path, NULL, &r);
	g_assert_cmpint(r.status, ==, 200);
	return python_dump(r.body, r.length);
}

/* Whether `booking`'s events say it must be moved, in the unit's feed
 * and in its practitioner's; the two must agree, and the title and the
 * description too. */
static gboolean
shown_as_to_move(const char *booking, const char *practitioner)
{
	static const char *const marks[] = { "Siirrettävä", "Måste flyttas" };
	g_autofree char *uid = g_strconcat(booking, REGION_UID, NULL);
	g_autofree char *puid = practitioner_uid(booking, practitioner);
	g_autoptr(GPtrArray) unit = unit_feed();
	g_autoptr(GPtrArray) own = feed_of(practitioner);
	gboolean shown[2][2];
	char *summary, *description;

	for (guint f = 0; f < 2; f++) {
		event_words(f ? own : unit, f ? puid : uid, &summary,
			    &description);
		g_test_message("%s: %s | %s", f ? puid : uid, summary,
			       description);
		shown[f][0] = g_str_has_prefix(summary, marks[0]) ||
			      g_str_has_prefix(summary, marks[1]);
		shown[f][1] =
			g_str_has_prefix(description,
					 "Varaus on siirrettävä") ||
			g_str_has_prefix(description, "Bokningen måste");
		g_assert_cmpint(shown[f][0], ==, shown[f][1]);
		g_free(summary);
		g_free(description);
	}
	g_assert_cmpint(shown[0][0], ==, shown[1][0]);
	return shown[0][0];
}

/* needs_rebooking as the database has it. */
static gboolean
flagged(const char *booking)
{
	g_autofree char *sql = g_strdup_printf(
		"SELECT needs_rebooking FROM booking WHERE id = %"
		G_GINT64_FORMAT ";", numeric_id(booking));
	g_autofree char *line = sql_line(sql);

	return g_str_equal(line, "1");
}

/* A visit whose nurse is marked absent stands until it is moved, but
 * the visit as it is will not happen: the unit's feed and the nurse's
 * both show it as one to move (title and description, with a higher
 * SEQUENCE so that calendars take the change), while a visit of the
 * same nurse outside the absence shows as before. Once it is moved the
 * mark is gone. What the feeds show is checked against the database's
 * flag after each step. */
static void
test_needs_rebooking_shown(void)
{
	g_autofree char *visit = book_visit(harness_local(2026, 12, 11, 9, 0),
					    "pf-client-flag", NULL);
	g_autofree char *who = practitioner_of(visit);
	g_autofree char *later = book_visit(harness_local(2026, 12, 11, 13, 0),
					    "pf-client-stays", who);
	g_autofree char *slot = NULL, *now_with = NULL;
	gint64 before = harness_sequence(&h, visit);

	g_assert_false(flagged(visit));
	g_assert_false(shown_as_to_move(visit, who));
	mark_absent(who, harness_local(2026, 12, 11, 8, 0),
		    harness_local(2026, 12, 11, 12, 0));
	g_assert_true(flagged(visit));
	g_assert_false(flagged(later));
	g_assert_true(shown_as_to_move(visit, who));
	g_assert_false(shown_as_to_move(later, who));
	g_assert_cmpint(harness_sequence(&h, visit), >, before);
	assert_event(who, visit, "CONFIRMED", "2026-12-11T09:00",
		     harness_sequence(&h, visit));

	slot = slot_at(HH, "Lohja", harness_local(2026, 12, 11, 11, 0),
		       NULL);
	reschedule(visit, slot);
	now_with = practitioner_of(visit);
	g_assert_false(flagged(visit));
	g_assert_false(shown_as_to_move(visit, now_with));
}

int
main(int argc, char **argv)
{
	g_autofree char *config = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	harness_init(&h);
	h.horizon_days = 14;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	config = harness_copy_example(&h);
	harness_set_key(config, "daemon", "http-address", "127.0.0.1:0");
	harness_start_slotd(&h, config);
	g_test_add_func("/practitioner/feed/setup", test_setup);
	g_test_add_func("/practitioner/feed/events", test_feed_events);
	g_test_add_func("/practitioner/feed/in-swedish", test_feed_in_swedish);
	g_test_add_func("/practitioner/feed/not-anothers",
			test_other_practitioner);
	g_test_add_func("/practitioner/feed/wrong-tokens-404",
			test_wrong_tokens);
	g_test_add_func("/practitioner/feed/refused-ids", test_refused_ids);
	g_test_add_func("/practitioner/feed/conditional-and-cancelled",
			test_conditional_and_cancelled);
	g_test_add_func("/practitioner/planner/utilisation",
			test_utilisation);
	g_test_add_func("/practitioner/planner/rostered", test_rostered);
	g_test_add_func("/practitioner/planner/absence-leaves-the-rota",
			test_absence_leaves_the_rota);
	g_test_add_func("/practitioner/hold/book-asks-what-was-held",
			test_hold_for_the_same_request);
	g_test_add_func("/practitioner/feed/moved-to-another",
			test_moved_to_another);
	g_test_add_func("/practitioner/feed/needs-rebooking-shown",
			test_needs_rebooking_shown);
	status = g_test_run();
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
	g_free(base_url);
	g_free(visit1);
	g_free(visit2);
	g_free(other_visit);
	g_free(nurse);
	g_free(other_nurse);
	g_free(nurse_token);
	g_free(nurse_path);
	g_free(other_token);
	g_free(other_path);
	return status;
}
