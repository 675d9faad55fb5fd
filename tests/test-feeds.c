/* The iCalendar feeds end to end: the real daemon on a private bus with
 * its feed server on 127.0.0.1 (any free port), bookings made over
 * D-Bus, feeds fetched with curl over real HTTP and read back by
 * python3-icalendar (tests/feeds/ics_dump.py), a real subscriber
 * (vdirsyncer + khal, tests/feeds/subscriber.sh), the export directory,
 * and what must never be written down: tokens.
 *
 * The clock starts on Monday 2026-03-23 07:00, a week before summer
 * time begins; the horizon reaches past the day it ends (25 October).
 * The example region is trimmed to what these tests book, so that
 * 220 days of slots are made in seconds. */
#define _GNU_SOURCE /* memmem */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "harness.h"

#define HH "home-hospital-west"
#define TEL "short-therapy"
#define HOUR 3600

static Harness h;
static char *base_url;		/* "http://127.0.0.1:PORT" */
static char *token_loh;		/* W-HH-LOH, every service */
static char *token_tel;		/* E-TEL, short-therapy only */
static char *export_dir;
static GPtrArray *loh_bookings;	/* booking ids made in W-HH-LOH */
/* Reading 10,000 events takes python3-icalendar a while: it runs while
 * the other tests do, and the last test looks at what it found. */
static GSubprocess *bulk_reader;

/* Titles a hostile configuration may hold (no control characters:
 * the configuration refuses those). As written in the key file, and
 * as read from it. */
#define HOSTILE_TITLE_KEYFILE "Hemsjukhuset, Lojo; sjukhus \\\\ \"A:B\" ÅÄÖ 𝄞"
#define HOSTILE_TITLE "Hemsjukhuset, Lojo; sjukhus \\ \"A:B\" ÅÄÖ 𝄞"

/* ---- HTTP through curl ---------------------------------------------- */

typedef struct {
	int status;
	char *headers;
	char *body;
	gsize length;
	double seconds;
} Response;

static void
response_clear(Response *r)
{
	g_free(r->headers);
	g_free(r->body);
	memset(r, 0, sizeof(*r));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Response, response_clear)

/* `extra` is one more header ("If-None-Match: ...") or NULL. */
static void
http(const char *method, const char *path, const char *extra, Response *r)
{
	g_autofree char *url = g_strconcat(base_url, path, NULL);
	g_autofree char *head = g_build_filename(h.tmpdir, "headers", NULL);
	g_autofree char *body = g_build_filename(h.tmpdir, "body", NULL);
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	gint64 began = g_get_monotonic_time();
	const char *const fixed[] = { "curl", "-s", "-S", "--path-as-is",
				      "--globoff", "-D", head, "-o", body,
				      "-w", "%{http_code} %{size_download}" };

	for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
		g_ptr_array_add(argv, (gpointer)fixed[i]);
	if (g_str_equal(method, "HEAD")) {
		g_ptr_array_add(argv, "-I");
	} else {
		g_ptr_array_add(argv, "-X");
		g_ptr_array_add(argv, (gpointer)method);
	}
	if (extra) {
		g_ptr_array_add(argv, "-H");
		g_ptr_array_add(argv, (gpointer)extra);
	}
	g_ptr_array_add(argv, url);
	g_ptr_array_add(argv, NULL);
	g_unlink(body);
	g_assert_cmpint(harness_run(&h, &out, &err,
				    (const char *const *)argv->pdata), ==, 0);
	r->seconds = (g_get_monotonic_time() - began) / 1e6;
	r->status = atoi(out);
	g_file_get_contents(head, &r->headers, NULL, &error);
	g_assert_no_error(error);
	/* With -I curl writes the headers where the body would go. */
	if (g_str_equal(method, "HEAD") ||
	    !g_file_get_contents(body, &r->body, &r->length, NULL))
		r->body = g_strdup("");
	/* What came over the wire after the headers. */
	g_assert_cmpuint(g_ascii_strtoull(strchr(out, ' ') + 1, NULL, 10),
			 ==, r->length);
}

static void
get(const char *path, Response *r)
{
	http("GET", path, NULL, r);
}

/* A response header's value, or NULL. */
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

static char *
feed_path(const char *kind, const char *token, const char *unit,
	  const char *service)
{
	if (service)
		return g_strdup_printf("/%s/%s/%s/%s.ics", kind, token, unit,
				       service);
	return g_strdup_printf("/%s/%s/%s.ics", kind, token, unit);
}

/* ---- the independent parser ----------------------------------------- */

static GPtrArray *
parse_records(const char *out)
{
	GPtrArray *records = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_strfreev);

	/* Line by line up to the first empty one, not g_strsplit() on the
	 * whole text: that calls strstr() for every line, and the
	 * sanitizer's strstr() measures the text to its end each time (25 s
	 * for the 4.6 MB of the ten thousand events). */
	for (const char *line = out; *line && *line != '\n';) {
		const char *end = strchr(line, '\n');
		g_autofree char *text = end ? g_strndup(line, end - line)
					    : g_strdup(line);

		g_ptr_array_add(records, g_strsplit(text, "\t", -1));
		if (!end)
			break;
		line = end + 1;
	}
	return records;
}

/* Starts ics_dump.py on the text (saved as tmpdir/NAME.ics); it writes
 * to tmpdir/NAME.out. */
static GSubprocess *
python_dump_start(const char *text, gsize length, const char *name)
{
	g_autofree char *file = g_strdup_printf("%s/%s.ics", h.tmpdir, name);
	g_autofree char *out = g_strdup_printf("%s/%s.out", h.tmpdir, name);
	g_autofree char *script = g_build_filename(
		harness_source_root(), "tests", "feeds", "ics_dump.py", NULL);
	g_autoptr(GSubprocessLauncher) l =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GError) error = NULL;
	GSubprocess *python;

	g_file_set_contents(file, text, length, &error);
	g_assert_no_error(error);
	/* GSubprocess opens the file without O_TRUNC: a shorter reading
	 * would end in the tail of the last one. */
	g_unlink(out);
	g_subprocess_launcher_set_stdout_file_path(l, out);
	python = g_subprocess_launcher_spawn(l, &error, "/usr/bin/python3",
					     script, file, NULL);
	g_assert_no_error(error);
	return python;
}

static GPtrArray *
python_dump_finish(GSubprocess *python, const char *name)
{
	g_autofree char *path = g_strdup_printf("%s/%s.out", h.tmpdir, name);
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;

	g_subprocess_communicate_utf8(python, NULL, NULL, NULL, &err, &error);
	g_assert_no_error(error);
	if (!g_subprocess_get_if_exited(python) ||
	    g_subprocess_get_exit_status(python) != 0)
		g_error("python3-icalendar refused the feed: %s", err);
	g_file_get_contents(path, &out, NULL, &error);
	g_assert_no_error(error);
	return parse_records(out);
}

static GPtrArray *
python_dump_text(const char *text, gsize length)
{
	g_autoptr(GSubprocess) python = python_dump_start(text, length,
							  "feed");

	return python_dump_finish(python, "feed");
}

/* The record tagged `tag` whose first field is `key` (NULL: any). */
static char **
find_record(GPtrArray *records, const char *tag, const char *key)
{
	for (guint i = 0; i < records->len; i++) {
		char **r = records->pdata[i];

		if (g_str_equal(r[0], tag) &&
		    (key == NULL || g_strcmp0(r[1], key) == 0))
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

/* The EVENT record of a booking ("b-12" is UID b-12@nyland.slotd). */
static char **
event_of(GPtrArray *records, const char *booking_id)
{
	g_autofree char *uid = g_strconcat(booking_id, "@nyland.slotd", NULL);
	char **r = find_record(records, "EVENT", uid);

	if (r == NULL)
		g_error("the feed has no event of %s", booking_id);
	return r;
}

/* ---- bookings over D-Bus -------------------------------------------- */

/* The W-HH-LOH (or E-TEL) slot starting at `start` for a client in
 * `municipality`. */
static char *
slot_at(const char *service, const char *municipality, gint64 start)
{
	g_autoptr(GVariant) slots = NULL;
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", municipality);
	g_variant_dict_insert(&d, "from", "x", start);
	g_variant_dict_insert(&d, "to", "x", start + 1);
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

static char *
book(const char *slot, const char *client, const char *municipality)
{
	g_autoptr(GError) error = NULL;
	GVariantDict d;
	g_autoptr(GVariant) r = NULL;
	char *id;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", municipality);
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

static char *
helsinki_iso(gint64 utc)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier("Europe/Helsinki");
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(utc);
	g_autoptr(GDateTime) local = g_date_time_to_timezone(t, tz);

	return g_date_time_format(local, "%Y-%m-%dT%H:%M:%S%:z");
}

static char *
utc_iso(gint64 utc)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(utc);

	return g_date_time_format(t, "%Y-%m-%dT%H:%M:%SZ");
}

/* The EVENT record of a booking agrees with GetBooking in every field
 * a subscriber sees. */
static void
assert_event_matches(GPtrArray *records, const char *id, const char *where)
{
	g_autoptr(GVariant) b = get_booking(id);
	char **r = event_of(records, id);
	gint64 start, end, sequence, created, modified;
	const char *status, *client;
	g_autofree char *start_iso = NULL, *end_iso = NULL, *seq = NULL;
	g_autofree char *summary = NULL, *location = NULL;
	g_autofree char *stamp = NULL, *made = NULL;

	g_assert_true(g_variant_lookup(b, "start", "x", &start));
	g_assert_true(g_variant_lookup(b, "end", "x", &end));
	g_assert_true(g_variant_lookup(b, "sequence", "x", &sequence));
	g_assert_true(g_variant_lookup(b, "created", "x", &created));
	g_assert_true(g_variant_lookup(b, "modified", "x", &modified));
	g_assert_true(g_variant_lookup(b, "status", "&s", &status));
	g_assert_true(g_variant_lookup(b, "client-ref", "&s", &client));
	start_iso = helsinki_iso(start);
	end_iso = helsinki_iso(end);
	seq = g_strdup_printf("%" G_GINT64_FORMAT, sequence);
	g_assert_cmpstr(r[2], ==, start_iso);
	g_assert_cmpstr(r[3], ==, end_iso);
	g_assert_cmpstr(r[4], ==, g_str_equal(status, "cancelled")
					  ? "CANCELLED"
					  : "CONFIRMED");
	g_assert_cmpstr(r[5], ==, seq);
	summary = g_strcompress(r[6]);
	location = g_strcompress(r[7]);
	g_assert_true(g_str_has_suffix(summary, client));
	g_assert_nonnull(strstr(summary, "Kotisairaala, Länsi-Uusimaa / "
					  "Hemsjukhuset, Västra Nyland – ref "));
	g_assert_cmpstr(location, ==, where);
	stamp = utc_iso(modified);
	made = utc_iso(created);
	g_assert_cmpstr(r[8], ==, stamp);
	g_assert_cmpstr(r[9], ==, made);
	g_assert_cmpstr(r[10], ==, stamp);
}

/* ---- the tests ------------------------------------------------------ */

/* Admin1.IssueFeedToken: the token, and the path in *ret_path. */
static char *
issue_token(const char *unit, const char *service, char **ret_path,
	    GError **error)
{
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1",
					     "IssueFeedToken",
					     g_variant_new("(ss)", unit,
							   service),
					     "(ss)", error);
	char *token = NULL;

	if (r)
		g_variant_get(r, "(ss)", &token, ret_path);
	return token;
}

static void
test_address_and_feed_url(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1",
					     "GetHttpAddress", NULL, "(s)",
					     &error);
	g_autofree char *out = NULL, *err = NULL, *webcal = NULL;
	g_autofree char *path = NULL, *tel_path = NULL;
	const char *address;
	guint64 port;

	g_assert_no_error(error);
	g_variant_get(r, "(&s)", &address);
	g_assert_true(g_str_has_prefix(address, "127.0.0.1:"));
	g_assert_true(g_ascii_string_to_unsigned(address + 10, 10, 1, 65535,
						 &port, NULL));
	base_url = g_strconcat("http://", address, NULL);
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "feed-url",
					"W-HH-LOH", NULL), ==, 0);
	webcal = g_strdup_printf("webcal://%s/feeds/", address);
	g_assert_nonnull(strstr(out, webcal));
	g_assert_nonnull(strstr(out, base_url));
	token_loh = issue_token("W-HH-LOH", "", &path, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(strlen(token_loh), ==, 32);
	g_assert_true(g_str_has_suffix(path, "/W-HH-LOH.ics"));
	token_tel = issue_token("E-TEL", TEL, &tel_path, &error);
	g_assert_no_error(error);
	g_assert_true(g_str_has_suffix(tel_path, "/E-TEL/short-therapy.ics"));
	/* Unknown units and services are refused by name. */
	g_assert_null(issue_token("NOPE", "", NULL, &error));
	harness_assert_dbus_error(error, "org.slotd.Error.NoSuchUnit");
	g_clear_error(&error);
	g_assert_null(issue_token("W-HH-LOH", TEL, NULL, &error));
	harness_assert_dbus_error(error, "org.slotd.Error.NoSuchService");
}

/* Books W-HH-LOH at `start` (UTC) for a client living in
 * `municipality`, where the nurse drives; the id is kept. */
static char *
book_loh(gint64 start, const char *client, const char *municipality)
{
	g_autofree char *slot = slot_at(HH, municipality, start);
	char *id = book(slot, client, municipality);

	g_ptr_array_add(loh_bookings, g_strdup(id));
	return id;
}

static GVariant *
call_ok(const char *method, GVariant *args, const char *reply_type)
{
	g_autoptr(GError) error = NULL;
	GVariant *r = harness_call(&h, "org.slotd.Scheduler1", method, args,
				   reply_type, &error);

	g_assert_no_error(error);
	return r;
}

/* Bookings on both DST change days (one in the repeated hour, written
 * in UTC), a cancelled and a moved one, all read back in Helsinki time
 * by python3-icalendar. */
/* DESCRIPTION and CATEGORIES as python3-icalendar reads them: how,
 * how urgent and in which language (Finnish first at W-HH-LOH), and
 * never the client's reference. */
static void
assert_detail(GPtrArray *dump, const char *booking_id, const char *client)
{
	g_autofree char *uid = g_strconcat(booking_id, "@nyland.slotd", NULL);
	char **r = find_record(dump, "DETAIL", uid);
	g_autofree char *description = NULL;

	if (r == NULL)
		g_error("the event of %s has no DESCRIPTION", booking_id);
	g_assert_cmpstr(r[2], ==, "Kotikäynti");
	description = g_strcompress(r[3]);
	g_assert_cmpstr(description, ==, "Asiointitapa: Kotikäynti\n"
					 "Kiireellisyys: kiireetön\n"
					 "Palvelukieli: ei ilmoitettu");
	g_assert_null(strstr(description, client));
}

static void
test_staff_feed_matches_bookings(void)
{
	g_autofree char *path = feed_path("feeds", token_loh, "W-HH-LOH",
					  NULL);
	g_autofree char *mar = book_loh(harness_local(2026, 3, 29, 10, 0),
					"c-mar", "Lohja");
	g_autofree char *oct = book_loh(harness_local(2026, 10, 25, 10, 0),
					"c-oct", "Lohja");
	/* 03:00 the second time: 01:00 UTC. */
	g_autofree char *night = book_loh(1792890000, "c-night", "Vihti");
	g_autofree char *cancel = book_loh(harness_local(2026, 3, 30, 10, 0),
					   "c-cancel", "Lohja");
	g_autofree char *move = book_loh(harness_local(2026, 3, 31, 10, 0),
					 "c-move", "Lohja");
	g_autofree char *slot = slot_at(HH, "Lohja",
					harness_local(2026, 3, 31, 13, 0));
	g_autofree char *type = NULL, *name = NULL;
	g_autoptr(GPtrArray) dump = NULL;
	g_auto(Response) resp = { 0 };

	g_variant_unref(call_ok("Cancel", g_variant_new("(ss)", cancel,
							"client called"),
				NULL));
	/* Moved, the booking keeps its id and so its UID. */
	g_variant_unref(call_ok("Reschedule",
				g_variant_new("(ss)", move, slot), "(s)"));
	get(path, &resp);
	g_assert_cmpint(resp.status, ==, 200);
	type = header(&resp, "Content-Type");
	g_assert_cmpstr(type, ==, "text/calendar; charset=utf-8");
	dump = python_dump_text(resp.body, resp.length);
	g_assert_cmpuint(count_records(dump, "EVENT"), ==, 5);
	assert_event_matches(dump, mar, "Lohja / Lojo");
	assert_event_matches(dump, oct, "Lohja / Lojo");
	assert_event_matches(dump, night, "Vihti / Vichtis");
	assert_event_matches(dump, cancel, "Lohja / Lojo");
	assert_event_matches(dump, move, "Lohja / Lojo");
	/* The same, worked out by hand. */
	g_assert_cmpstr(event_of(dump, mar)[2], ==, "2026-03-29T10:00:00+03:00");
	g_assert_cmpstr(event_of(dump, oct)[2], ==, "2026-10-25T10:00:00+02:00");
	g_assert_cmpstr(event_of(dump, night)[2], ==,
			"2026-10-25T03:00:00+02:00");
	g_assert_cmpstr(event_of(dump, cancel)[4], ==, "CANCELLED");
	g_assert_cmpstr(event_of(dump, cancel)[5], ==, "1");
	g_assert_cmpstr(event_of(dump, move)[2], ==,
			"2026-03-31T13:00:00+03:00");
	/* Grown (by how much is the engine's business; now by 3). */
	g_assert_cmpint(atoi(event_of(dump, move)[5]), >=, 1);
	/* The calendar's name: the unit's titles, hostile ones included. */
	name = g_strcompress(find_record(dump, "CAL", "NAME")[2]);
	g_assert_cmpstr(name, ==, "Kotisairaala, Lohjan sairaala / "
				  HOSTILE_TITLE);
	g_free(name);
	name = g_strcompress(find_record(dump, "CAL", "X-WR-CALNAME")[2]);
	g_assert_cmpstr(name, ==, "Kotisairaala, Lohjan sairaala / "
				  HOSTILE_TITLE);
	g_assert_cmpstr(find_record(dump, "TZ", NULL)[1], ==,
			"Europe/Helsinki");
	assert_detail(dump, mar, "c-mar");
}

/* A token issued for one service opens that service's feed only. */
static void
test_feed_narrowed_to_a_service(void)
{
	g_autofree char *narrow = feed_path("feeds", token_tel, "E-TEL", TEL);
	g_autofree char *whole = feed_path("feeds", token_tel, "E-TEL", NULL);
	g_autofree char *other = feed_path("feeds", token_tel, "E-TEL",
					   "remote-counselling");
	g_autofree char *loh = feed_path("feeds", token_loh, "W-HH-LOH", HH);
	g_auto(Response) a = { 0 };
	g_auto(Response) b = { 0 };
	g_auto(Response) c = { 0 };
	g_auto(Response) d = { 0 };
	g_autoptr(GPtrArray) dump = NULL;

	get(narrow, &a);
	g_assert_cmpint(a.status, ==, 200);
	get(whole, &b);
	g_assert_cmpint(b.status, ==, 404);
	get(other, &c);
	g_assert_cmpint(c.status, ==, 404);
	/* A unit-wide token opens the narrowed feed too. */
	get(loh, &d);
	g_assert_cmpint(d.status, ==, 200);
	dump = python_dump_text(d.body, d.length);
	g_assert_cmpuint(count_records(dump, "EVENT"), ==, loh_bookings->len);
}

static void
test_conditional_and_head(void)
{
	g_autofree char *path = feed_path("feeds", token_loh, "W-HH-LOH",
					  NULL);
	g_autofree char *etag = NULL, *modified = NULL, *inm = NULL;
	g_autofree char *ims = NULL, *length = NULL, *slot = NULL;
	g_autofree char *id = NULL, *etag2 = NULL, *etag304 = NULL;
	g_auto(Response) full = { 0 };
	g_auto(Response) cond = { 0 };
	g_auto(Response) since = { 0 };
	g_auto(Response) head = { 0 };
	g_auto(Response) changed = { 0 };

	get(path, &full);
	etag = header(&full, "ETag");
	modified = header(&full, "Last-Modified");
	g_assert_nonnull(etag);
	g_assert_nonnull(modified);
	g_assert_true(etag[0] == '"');
	inm = g_strdup_printf("If-None-Match: %s", etag);
	http("GET", path, inm, &cond);
	g_assert_cmpint(cond.status, ==, 304);
	g_assert_cmpuint(cond.length, ==, 0);
	/* No body, and no length of one (RFC 9110 15.4.5). */
	{
		g_autofree char *length304 = header(&cond, "Content-Length");

		g_assert_null(length304);
	}
	etag304 = header(&cond, "ETag");
	g_assert_cmpstr(etag304, ==, etag);
	/* Dates have whole seconds: one passes before the date is trusted. */
	g_usleep(1100 * 1000);
	ims = g_strdup_printf("If-Modified-Since: %s", modified);
	http("GET", path, ims, &since);
	g_assert_cmpint(since.status, ==, 304);
	http("HEAD", path, NULL, &head);
	g_assert_cmpint(head.status, ==, 200);
	g_assert_cmpuint(head.length, ==, 0);
	length = header(&head, "Content-Length");
	g_assert_cmpint(atoi(length), ==, (int)full.length);
	/* A new booking changes the text, so the old tag no longer holds. */
	slot = slot_at(HH, "Lohja", harness_local(2026, 4, 1, 10, 0));
	id = book(slot, "c-new", "Lohja");
	g_ptr_array_add(loh_bookings, g_strdup(id));
	http("GET", path, inm, &changed);
	g_assert_cmpint(changed.status, ==, 200);
	etag2 = header(&changed, "ETag");
	g_assert_cmpstr(etag2, !=, etag);
	g_assert_nonnull(strstr(changed.body, id));
}

/* `pattern` with "@" standing for the good token answers `status`. */
static void
assert_status(const char *pattern, int status, const char *body)
{
	g_auto(GStrv) parts = g_strsplit(pattern, "@", -1);
	g_autofree char *path = g_strjoinv(token_loh, parts);
	g_auto(Response) resp = { 0 };

	get(path, &resp);
	if (resp.status != status)
		g_error("%s: %d, expected %d", pattern, resp.status, status);
	if (body)
		g_assert_cmpstr(resp.body, ==, body);
}

static void
test_other_methods(void)
{
	g_autofree char *good = feed_path("feeds", token_loh, "W-HH-LOH",
					  NULL);
	static const char *const methods[] = { "POST", "PUT", "DELETE",
					       "OPTIONS", "PATCH" };

	for (guint i = 0; i < G_N_ELEMENTS(methods); i++) {
		g_auto(Response) resp = { 0 };
		g_autofree char *allow = NULL;

		http(methods[i], good, NULL, &resp);
		g_assert_cmpint(resp.status, ==, 405);
		allow = header(&resp, "Allow");
		g_assert_cmpstr(allow, ==, "GET, HEAD");
	}
	/* Oversized request headers: 431, not a feed. */
	{
		g_auto(Response) resp = { 0 };
		g_autofree char *filler = g_strnfill(9000, 'a');
		g_autofree char *big = g_strconcat("X-Filler: ", filler, NULL);

		http("GET", good, big, &resp);
		g_assert_cmpint(resp.status, ==, 431);
		g_assert_null(strstr(resp.body ? resp.body : "",
				     "BEGIN:VCALENDAR"));
	}
}

/* Every path that is no feed of this token is the same plain 404: no
 * listing, no hint, no way out with "..". */
static void
test_not_found(void)
{
	const char *const not_found[] = {
		"/", "/feeds", "/feeds/", "/freebusy/", "/feeds/x/W-HH-LOH.ics",
		"/feeds/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/W-HH-LOH.ics",
		"/feeds/@/NOPE.ics", "/feeds/@/E-TEL.ics", "/feeds/@/",
		"/feeds/@/../W-HH-LOH.ics", "/feeds/@/W-HH-LOH",
		"/feeds/@/W-HH-LOH.ics/", "/feeds/@%2FW-HH-LOH.ics",
		"/feeds/@/%2e%2e/W-HH-LOH.ics", "/feeds/@/W-HH-LOH/../../x.ics",
		"/feeds/@/W-HH-LOH/nope.ics", "/feeds/@/W-HH-LOH/" TEL ".ics",
		"/feeds/@@/W-HH-LOH.ics", "/FEEDS/@/W-HH-LOH.ics",
	};
	/* Spellings RFC 3986 makes the same URL are the same feed. */
	const char *const same[] = {
		"/feeds/@/W%2DHH-LOH.ics", "/feeds/@/x/../W-HH-LOH.ics",
		"/feeds/@/./W-HH-LOH.ics", "/feeds/@/W-HH-LOH.ics?refresh=1",
	};
	g_autofree char *long_path = g_strnfill(600, 'a');
	g_autofree char *too_long = g_strconcat("/feeds/", long_path, NULL);

	for (guint i = 0; i < G_N_ELEMENTS(not_found); i++)
		assert_status(not_found[i], 404, "404 Not Found\n");
	for (guint i = 0; i < G_N_ELEMENTS(same); i++)
		assert_status(same[i], 200, NULL);
	assert_status(too_long, 414, NULL);
}

/* A revoked token: a plain 404 from then on. */
static void
test_revoked_token(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *token = issue_token("W-HH-LOH", "", NULL, &error);
	g_autofree char *path = feed_path("feeds", token, "W-HH-LOH", NULL);
	g_autofree char *out = NULL, *err = NULL;
	g_auto(Response) before = { 0 };
	g_auto(Response) after = { 0 };

	g_assert_no_error(error);
	get(path, &before);
	g_assert_cmpint(before.status, ==, 200);
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "feed-revoke", token,
					NULL), ==, 0);
	get(path, &after);
	g_assert_cmpint(after.status, ==, 404);
	g_assert_cmpstr(after.body, ==, "404 Not Found\n");
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_slotctl(&h, NULL, &err, "feed-revoke", token,
					NULL), ==, 1);
	g_assert_nonnull(strstr(err, "NoSuchToken"));
	/* Not even the error repeats it. */
	g_assert_null(strstr(err, token));
}

/* Free/busy from the slots: a fully booked night hour is busy, and not
 * one client reference or booking id is in it. */
static void
test_freebusy_has_no_client_refs(void)
{
	g_autofree char *path = feed_path("freebusy", token_loh, "W-HH-LOH",
					  NULL);
	g_autofree char *when = utc_iso(1792890000);
	g_autoptr(GPtrArray) dump = NULL;
	g_auto(Response) resp = { 0 };
	gboolean busy_at_night = FALSE;

	get(path, &resp);
	g_assert_cmpint(resp.status, ==, 200);
	g_assert_null(strstr(resp.body, "c-"));
	g_assert_null(strstr(resp.body, "ref "));
	g_assert_null(strstr(resp.body, "VEVENT"));
	for (guint i = 0; i < loh_bookings->len; i++)
		g_assert_null(strstr(resp.body, loh_bookings->pdata[i]));
	dump = python_dump_text(resp.body, resp.length);
	g_assert_cmpuint(count_records(dump, "FREEBUSY"), >, 2);
	for (guint i = 0; i < dump->len; i++) {
		char **r = dump->pdata[i];

		/* ISO UTC strings compare as times. */
		if (g_str_equal(r[0], "FREEBUSY") &&
		    g_str_equal(r[1], "BUSY") && strcmp(r[2], when) <= 0 &&
		    strcmp(when, r[3]) < 0)
			busy_at_night = TRUE;
	}
	g_assert_true(busy_at_night);
}

/* E-TEL is marked public-freebusy: its free/busy needs no token; its
 * staff feed and the free/busy of a unit that is not public do. */
static void
test_public_freebusy(void)
{
	const char *const ok[] = { "/freebusy/public/E-TEL.ics",
				   "/freebusy/public/E-TEL/" TEL ".ics" };
	const char *const refused[] = { "/freebusy/public/W-HH-LOH.ics",
					"/feeds/public/E-TEL.ics",
					"/freebusy/public/NOPE.ics" };

	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_auto(Response) resp = { 0 };
		g_autoptr(GPtrArray) dump = NULL;

		get(ok[i], &resp);
		g_assert_cmpint(resp.status, ==, 200);
		dump = python_dump_text(resp.body, resp.length);
		g_assert_cmpuint(count_records(dump, "FREEBUSY"), >, 0);
	}
	for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_auto(Response) resp = { 0 };

		get(refused[i], &resp);
		g_assert_cmpint(resp.status, ==, 404);
	}
}

/* vdirsyncer copies the feed into a calendar folder; khal shows the
 * DST days' bookings at Helsinki wall-clock times. */
static void
test_subscriber(void)
{
	g_autofree char *path = feed_path("feeds", token_loh, "W-HH-LOH",
					  NULL);
	g_autofree char *url = g_strconcat(base_url, path, NULL);
	g_autofree char *script = g_build_filename(
		harness_source_root(), "tests", "feeds", "subscriber.sh", NULL);
	const char *argv[] = { "sh", script, url, "2026-10-25", "2026-03-29",
			       "2026-03-30", NULL };
	g_autofree char *out = NULL, *err = NULL;
	const char *s;

	if (harness_run(&h, &out, &err, argv) != 0)
		g_error("subscriber failed: %s\n%s", out, err);
	g_test_message("khal:\n%s", out);
	s = strstr(out, "== 2026-10-25\n");
	g_assert_nonnull(s);
	g_assert_nonnull(strstr(s, "03:00-"));
	g_assert_nonnull(strstr(s, "ref c-night [CONFIRMED"));
	g_assert_nonnull(strstr(s, "\n10:00-"));
	g_assert_nonnull(strstr(s, "ref c-oct [CONFIRMED"));
	s = strstr(out, "== 2026-03-29\n");
	g_assert_nonnull(s);
	g_assert_true(g_str_has_prefix(s + strlen("== 2026-03-29\n"),
				       "10:00-"));
	g_assert_nonnull(strstr(s, "ref c-mar [CONFIRMED"));
	s = strstr(out, "== 2026-03-30\n");
	g_assert_nonnull(s);
	g_assert_nonnull(strstr(s, "ref c-cancel [CANCELLED"));
}

/* The export directory holds the same feeds, written whole. */
static void
test_export(void)
{
	g_autofree char *file = g_build_filename(export_dir, "feeds",
						 "W-HH-LOH.ics", NULL);
	g_autofree char *last = g_strconcat(
		loh_bookings->pdata[loh_bookings->len - 1], "@", NULL);
	g_autofree char *freebusy = g_build_filename(export_dir, "freebusy",
						     "E-TEL", TEL ".ics", NULL);
	g_autofree char *feeds = g_build_filename(export_dir, "feeds", NULL);
	g_autofree char *text = NULL;
	g_autoptr(GDir) dir = NULL;
	g_autoptr(GPtrArray) dump = NULL;
	const char *name;
	gsize length = 0;
	GStatBuf st;

	for (int i = 0; i < 200; i++) {
		g_clear_pointer(&text, g_free);
		if (g_file_get_contents(file, &text, &length, NULL) &&
		    strstr(text, last))
			break;
		g_usleep(100 * 1000);
	}
	g_assert_nonnull(text);
	g_assert_nonnull(strstr(text, last));
	dump = python_dump_text(text, length);
	g_assert_cmpuint(count_records(dump, "EVENT"), ==, loh_bookings->len);
	g_assert_cmpint(g_stat(file, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0640);
	g_assert_true(g_file_test(freebusy, G_FILE_TEST_IS_REGULAR));
	/* No temporary file is left behind. */
	dir = g_dir_open(feeds, 0, NULL);
	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)))
		g_assert_false(name[0] == '.');
}

/* 10,000 bookings of E-TEL made in 50 series, one feed of them. */
static void
test_ten_thousand_bookings(void)
{
	g_autofree char *path = feed_path("feeds", token_tel, "E-TEL", TEL);
	g_autoptr(GVariant) slots = NULL;
	g_autofree char *etag = NULL, *inm = NULL;
	g_auto(Response) first = { 0 };
	GVariantDict d;
	gsize n;
	double fastest = 1e9;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "from", "x", harness_local(2026, 3, 24, 0, 0));
	g_variant_dict_insert(&d, "to", "x", harness_local(2026, 10, 20, 0, 0));
	g_variant_dict_insert(&d, "limit", "u", 2000);
	slots = harness_find(&h, TEL, g_variant_dict_end(&d));
	n = g_variant_n_children(slots);
	g_assert_cmpuint(n, >=, 500);
	for (guint series = 0; series < 50; series++) {
		g_autofree char *client = g_strdup_printf("c-bulk-%u", series);
		g_autoptr(GPtrArray) ids = g_ptr_array_new();
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) r = NULL;

		for (guint j = 0; j < 200; j++) {
			const char *id;

			g_variant_get_child(slots, (series * 200 + j) % n,
					    "(&s&sxxu@a{sv})", &id, NULL, NULL,
					    NULL, NULL, NULL);
			g_ptr_array_add(ids, (gpointer)id);
		}
		g_ptr_array_add(ids, NULL);
		r = harness_call(&h, "org.slotd.Scheduler1", "BookSeries",
				 g_variant_new("(^ass@a{sv})",
					       (const char *const *)ids->pdata,
					       client,
					       g_variant_new("a{sv}", NULL)),
				 "(as)", &error);
		g_assert_no_error(error);
	}
	get(path, &first);
	g_assert_cmpint(first.status, ==, 200);
	g_test_message("10,000 bookings: %.2f s for the first GET, %zu bytes",
		       first.seconds, first.length);
	bulk_reader = python_dump_start(first.body, first.length, "bulk");
	/* The cached text answers a conditional request at once. */
	etag = header(&first, "ETag");
	inm = g_strdup_printf("If-None-Match: %s", etag);
	for (int i = 0; i < 5; i++) {
		g_auto(Response) again = { 0 };

		http("GET", path, inm, &again);
		g_assert_cmpint(again.status, ==, 304);
		fastest = MIN(fastest, again.seconds);
	}
	g_test_message("304: %.3f s", fastest);
	g_assert_cmpfloat(fastest, <, 1.0);
}

/* A reload that renames the unit renames its calendar at once. */
static void
test_follows_a_reload(void)
{
	g_autofree char *path = feed_path("feeds", token_loh, "W-HH-LOH",
					  NULL);
	g_autofree char *dir = g_path_get_dirname(h.config);
	g_autofree char *units = g_build_filename(dir, "units.conf", NULL);
	g_autoptr(GPtrArray) dump = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	g_autofree char *name = NULL;
	g_auto(Response) resp = { 0 };

	harness_set_key(units, "unit W-HH-LOH", "title-fi",
			"Kotisairaala, Lohja (uusi)");
	r = harness_call(&h, "org.slotd.Admin1", "Reload", NULL, NULL, &error);
	g_assert_no_error(error);
	get(path, &resp);
	g_assert_cmpint(resp.status, ==, 200);
	dump = python_dump_text(resp.body, resp.length);
	name = g_strcompress(find_record(dump, "CAL", "NAME")[2]);
	g_assert_cmpstr(name, ==, "Kotisairaala, Lohja (uusi) / "
				  HOSTILE_TITLE);
	g_assert_cmpuint(count_records(dump, "EVENT"), ==, loh_bookings->len);
}

/* Seconds each Planner1 call holds its worker (SLOTD_TEST_PLANNER_SECONDS,
 * set for this file's slotd). */
#define PLANNER_HOLD 2

typedef struct {
	gboolean done;
	GError *error;
} ReportCall;

static void
report_done(GObject *source, GAsyncResult *result, gpointer data)
{
	ReportCall *call = data;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(
		G_DBUS_CONNECTION(source), result, &call->error);

	call->done = TRUE;
}

/* Both Planner1 workers busy with reports: a staff feed whose unit has
 * just changed is still read and answered at once, on the feed
 * reader's own worker, while the reports are still running (each holds
 * its worker PLANNER_HOLD seconds here). */
static void
test_not_behind_reports(void)
{
	ReportCall calls[2] = { { 0 } };
	g_autofree char *path = feed_path("feeds", token_loh, "W-HH-LOH",
					  NULL);
	g_autofree char *id = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(Response) resp = { 0 };

	for (guint i = 0; i < G_N_ELEMENTS(calls); i++)
		g_dbus_connection_call(
			h.conn, "org.slotd.Slotd1", "/org/slotd/Slotd1",
			"org.slotd.Planner1", "CapacityReport",
			g_variant_new("(sxx@a{sv})", TEL,
				      harness_local(2026, 4, 6, 0, 0),
				      harness_local(2026, 4, 13, 0, 0),
				      g_variant_new("a{sv}", NULL)),
			G_VARIANT_TYPE("(aa{sv})"), G_DBUS_CALL_FLAGS_NONE,
			60000, NULL, report_done, &calls[i]);
	/* The calls are on their way before the feed is asked for. */
	g_dbus_connection_flush_sync(h.conn, NULL, &error);
	g_assert_no_error(error);
	/* A new booking: the feed's text must be read again (and the
	 * files are written only after a second of quiet). */
	id = book_loh(harness_local(2026, 4, 1, 10, 0), "c-behind", "Lojo");
	get(path, &resp);
	g_assert_cmpint(resp.status, ==, 200);
	g_assert_nonnull(strstr(resp.body, id));
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_test_message("feed answered in %.2f s while the reports ran",
		       resp.seconds);
	for (guint i = 0; i < G_N_ELEMENTS(calls); i++)
		g_assert_false(calls[i].done);
	for (guint i = 0; i < G_N_ELEMENTS(calls); i++) {
		while (!calls[i].done)
			g_main_context_iteration(NULL, TRUE);
		g_assert_no_error(calls[i].error);
	}
}

/* What python3-icalendar read of the 10,000-booking feed. */
static void
test_ten_thousand_parsed(void)
{
	g_autoptr(GPtrArray) dump = NULL;
	g_autoptr(GHashTable) uids = g_hash_table_new(g_str_hash, g_str_equal);

	g_assert_nonnull(bulk_reader);
	dump = python_dump_finish(bulk_reader, "bulk");
	g_clear_object(&bulk_reader);
	g_assert_cmpuint(count_records(dump, "EVENT"), ==, 10000);
	for (guint i = 0; i < dump->len; i++) {
		char **r = dump->pdata[i];

		if (g_str_equal(r[0], "EVENT")) {
			g_assert_cmpstr(r[4], ==, "CONFIRMED");
			g_assert_true(g_str_has_prefix(r[2], "2026-"));
			g_hash_table_add(uids, r[1]);
		}
	}
	g_assert_cmpuint(g_hash_table_size(uids), ==, 10000);
}

/* Neither slotd's log (debug on) nor its database holds a token. */
static void
test_tokens_never_written(void)
{
	const char *const tokens[] = { token_loh, token_tel };
	const char *const files[] = { "slotd.db", "slotd.db-wal" };
	g_autofree char *log = NULL;
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	const char *argv[] = { "sqlite3", db,
			       "SELECT caller <> '' AND detail LIKE "
			       "'unit=W-HH-LOH service=* token-sha256=%' "
			       "FROM audit WHERE action = 'feed-token-issued' "
			       "ORDER BY id LIMIT 1",
			       NULL };

	g_assert_true(g_file_get_contents(h.log_path, &log, NULL, NULL));
	g_assert_nonnull(strstr(log, "feed"));
	for (guint i = 0; i < G_N_ELEMENTS(tokens); i++) {
		g_assert_null(strstr(log, tokens[i]));
		for (guint f = 0; f < G_N_ELEMENTS(files); f++) {
			g_autofree char *p = g_build_filename(h.state_dir,
							      files[f], NULL);
			g_autofree char *bytes = NULL;
			gsize size = 0;

			if (!g_file_get_contents(p, &bytes, &size, NULL))
				continue;
			g_assert_null(memmem(bytes, size, tokens[i],
					     strlen(tokens[i])));
		}
	}
	/* Issuing was audited with the caller, by the hash's first bytes. */
	g_assert_cmpint(harness_run(&h, &out, &err, argv), ==, 0);
	g_assert_cmpstr(out, ==, "1\n");
}

/* ---- issue 18: languages, moves between units, busy as events ------ */

/* GET that must answer 200; the feed read by python3-icalendar. */
static GPtrArray *
get_dump(const char *path, Response *r)
{
	get(path, r);
	if (r->status != 200)
		g_error("%s: %d, expected 200", path, r->status);
	return python_dump_text(r->body, r->length);
}

static char *
cal_text(GPtrArray *dump, const char *property)
{
	char **r = find_record(dump, "CAL", property);

	g_assert_nonnull(r);
	return g_strcompress(r[2]);
}

/* Every event's SUMMARY begins with `summary` and its LOCATION is one
 * of `places`; every CATEGORIES is `category`. */
static void
assert_events_in(GPtrArray *dump, const char *summary,
		 const char *const *places, const char *category)
{
	guint events = 0;

	for (guint i = 0; i < dump->len; i++) {
		char **r = dump->pdata[i];
		g_autofree char *text = NULL;

		if (g_str_equal(r[0], "DETAIL")) {
			g_assert_cmpstr(r[2], ==, category);
			continue;
		}
		if (!g_str_equal(r[0], "EVENT"))
			continue;
		events++;
		text = g_strcompress(r[6]);
		if (!g_str_has_prefix(text, summary))
			g_error("SUMMARY \"%s\" is not \"%s…\"", text, summary);
		g_free(text);
		text = g_strcompress(r[7]);
		if (!g_strv_contains(places, text))
			g_error("LOCATION \"%s\" is not one of them", text);
	}
	g_assert_cmpuint(events, ==, loh_bookings->len);
}

/* ?lang=fi and ?lang=sv: the calendar's name, the service in SUMMARY,
 * the unit or municipality in LOCATION and the words of CATEGORIES in
 * that language alone; each language is a feed of its own (ETag); any
 * other value is a 400 that says what to send, unless the token opens
 * nothing (404, no hint). */
static void
test_language(void)
{
	g_autofree char *path = feed_path("feeds", token_loh, "W-HH-LOH",
					  NULL);
	g_autofree char *fb = feed_path("freebusy", token_loh, "W-HH-LOH",
					NULL);
	g_autofree char *sv = g_strconcat(path, "?lang=sv", NULL);
	g_autofree char *fi = g_strconcat(path, "?lang=fi", NULL);
	g_autofree char *fb_sv = g_strconcat(fb, "?lang=sv", NULL);
	g_autofree char *fb_fi = g_strconcat(fb, "?lang=fi", NULL);
	const char *const places_sv[] = { "Lojo", "Vichtis", NULL };
	const char *const places_fi[] = { "Lohja", "Vihti", NULL };
	const char *const bad[] = { "?lang=en", "?lang=", "?lang=SV",
				    "?lang=sv&lang=xx", "?freebusy=events" };
	g_auto(Response) a = { 0 };
	g_auto(Response) b = { 0 };
	g_auto(Response) c = { 0 };
	g_auto(Response) d = { 0 };
	g_auto(Response) e = { 0 };
	g_auto(Response) f = { 0 };
	g_auto(Response) again = { 0 };
	g_autoptr(GPtrArray) dump_sv = get_dump(sv, &a);
	g_autoptr(GPtrArray) dump_fi = get_dump(fi, &b);
	g_autoptr(GPtrArray) dump_fb_sv = get_dump(fb_sv, &d);
	g_autoptr(GPtrArray) dump_fb_fi = get_dump(fb_fi, &e);
	g_autofree char *name = NULL, *etag_sv = NULL, *etag_fi = NULL;
	g_autofree char *etag = NULL, *inm = NULL, *description = NULL;

	name = cal_text(dump_sv, "X-WR-CALNAME");
	g_assert_cmpstr(name, ==, HOSTILE_TITLE);
	g_free(name);
	name = cal_text(dump_sv, "NAME");
	g_assert_cmpstr(name, ==, HOSTILE_TITLE);
	g_free(name);
	assert_events_in(dump_sv, "Hemsjukhuset, Västra Nyland – ref ",
			 places_sv, "Hembesök");
	description = g_strcompress(find_record(dump_sv, "DETAIL", NULL)[3]);
	g_assert_true(g_str_has_prefix(description,
				       "Kontaktsätt: Hembesök\n"));
	name = cal_text(dump_fi, "X-WR-CALNAME");
	g_assert_cmpstr(name, ==, "Kotisairaala, Lohjan sairaala");
	g_free(name);
	assert_events_in(dump_fi, "Kotisairaala, Länsi-Uusimaa – ref ",
			 places_fi, "Kotikäynti");
	name = cal_text(dump_fb_sv, "X-WR-CALNAME");
	g_assert_cmpstr(name, ==, HOSTILE_TITLE " – ledig/upptagen");
	g_free(name);
	name = cal_text(dump_fb_fi, "X-WR-CALNAME");
	g_assert_cmpstr(name, ==,
			"Kotisairaala, Lohjan sairaala – vapaa/varattu");
	/* Three feeds, three texts; each answers its own tag with 304. */
	get(path, &c);
	etag = header(&c, "ETag");
	etag_sv = header(&a, "ETag");
	etag_fi = header(&b, "ETag");
	g_assert_cmpstr(etag, !=, etag_sv);
	g_assert_cmpstr(etag, !=, etag_fi);
	g_assert_cmpstr(etag_sv, !=, etag_fi);
	g_assert_cmpstr(find_record(dump_sv, "EVENT", NULL)[1], ==,
			find_record(dump_fi, "EVENT", NULL)[1]);
	inm = g_strdup_printf("If-None-Match: %s", etag_sv);
	http("GET", sv, inm, &again);
	g_assert_cmpint(again.status, ==, 304);
	http("GET", fi, inm, &f);
	g_assert_cmpint(f.status, ==, 200);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *url = g_strconcat(path, bad[i], NULL);
		g_auto(Response) resp = { 0 };

		get(url, &resp);
		if (resp.status != 400)
			g_error("%s: %d, expected 400", bad[i], resp.status);
		g_assert_true(g_str_has_prefix(resp.body, "400 Bad Request: "));
		g_assert_null(strstr(resp.body, "BEGIN:VCALENDAR"));
		g_assert_nonnull(strstr(resp.body, i < 4 ? "lang must be fi"
							 : "freebusy="));
	}
	/* No feed for this path: 404 whatever the query says. */
	assert_status("/feeds/@/NOPE.ics?lang=en", 404, "404 Not Found\n");
}

static gint64
iso_to_utc(const char *iso)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_iso8601(iso, NULL);

	g_assert_nonnull(t);
	return g_date_time_to_unix(t);
}

/* The EVENT records of one booking: there must be exactly one. */
static char **
only_event_of(GPtrArray *dump, const char *booking_id)
{
	g_autofree char *uid = g_strconcat(booking_id, "@nyland.slotd", NULL);
	char **found = NULL;

	for (guint i = 0; i < dump->len; i++) {
		char **r = dump->pdata[i];

		if (!g_str_equal(r[0], "EVENT") || !g_str_equal(r[1], uid))
			continue;
		g_assert_null(found);
		found = r;
	}
	if (found == NULL)
		g_error("the feed has no event of %s", booking_id);
	return found;
}

/* The needs-assessment slot of `unit` at `start` (UTC) for a client in
 * Espoo. */
static char *
unit_slot_at(const char *unit, gint64 start)
{
	g_autoptr(GVariant) slots = NULL;
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Espoo");
	g_variant_dict_insert(&d, "from", "x", start);
	g_variant_dict_insert(&d, "to", "x", start + 1);
	slots = harness_find(&h, "needs-assessment-west",
			     g_variant_dict_end(&d));
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id, *where;
		gint64 at;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, &where,
				    &at, NULL, NULL, NULL);
		if (at == start && g_str_equal(where, unit))
			return g_strdup(id);
	}
	g_error("no needs-assessment slot of %s at %" G_GINT64_FORMAT, unit,
		start);
	return NULL;
}

static gint64
booking_sequence(const char *id)
{
	g_autoptr(GVariant) b = get_booking(id);
	gint64 sequence;

	g_assert_true(g_variant_lookup(b, "sequence", "x", &sequence));
	return sequence;
}

/* A booking moved to another unit leaves the old unit's feed with its
 * UID as CANCELLED at its old time and a higher SEQUENCE, so calendar
 * apps drop it; the new unit shows it confirmed; moved back, each feed
 * shows it once, the other way round. */
static void
test_moved_to_another_unit(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *esp_token = issue_token("W-SNA-ESP", "", NULL,
						 &error);
	g_autofree char *kk_token = issue_token("W-SNA-KK", "", NULL, &error);
	g_autofree char *esp = feed_path("feeds", esp_token, "W-SNA-ESP",
					 NULL);
	g_autofree char *kk = feed_path("feeds", kk_token, "W-SNA-KK", NULL);
	gint64 first = harness_local(2026, 3, 26, 8, 30);
	gint64 second = harness_local(2026, 3, 27, 11, 0);
	gint64 third = harness_local(2026, 3, 31, 13, 30);
	g_autofree char *slot = unit_slot_at("W-SNA-ESP", first);
	g_autofree char *id = book(slot, "c-moving", "Espoo");
	g_autofree char *to_kk = unit_slot_at("W-SNA-KK", second);
	g_autofree char *back = unit_slot_at("W-SNA-ESP", third);
	g_autoptr(GPtrArray) before = NULL, esp1 = NULL, kk1 = NULL;
	g_autoptr(GPtrArray) esp2 = NULL, kk2 = NULL;
	g_auto(Response) r1 = { 0 };
	g_auto(Response) r2 = { 0 };
	g_auto(Response) r3 = { 0 };
	g_auto(Response) r4 = { 0 };
	g_auto(Response) r5 = { 0 };
	char **event;
	gint64 seen, seen_kk;

	g_assert_no_error(error);
	before = get_dump(esp, &r1);
	event = only_event_of(before, id);
	g_assert_cmpstr(event[4], ==, "CONFIRMED");
	seen = g_ascii_strtoll(event[5], NULL, 10);

	g_variant_unref(call_ok("Reschedule",
				g_variant_new("(ss)", id, to_kk), "(s)"));
	esp1 = get_dump(esp, &r2);
	event = only_event_of(esp1, id);
	g_assert_cmpstr(event[4], ==, "CANCELLED");
	g_assert_cmpint(g_ascii_strtoll(event[5], NULL, 10), >, seen);
	g_assert_cmpint(iso_to_utc(event[2]), ==, first);
	g_assert_cmpint(iso_to_utc(event[3]), ==, first + 90 * 60);
	g_assert_cmpstr(event[2], ==, "2026-03-26T08:30:00+02:00");
	kk1 = get_dump(kk, &r3);
	event = only_event_of(kk1, id);
	g_assert_cmpstr(event[4], ==, "CONFIRMED");
	g_assert_cmpint(iso_to_utc(event[2]), ==, second);
	seen_kk = g_ascii_strtoll(event[5], NULL, 10);
	g_assert_cmpint(seen_kk, ==, booking_sequence(id));

	g_variant_unref(call_ok("Reschedule",
				g_variant_new("(ss)", id, back), "(s)"));
	esp2 = get_dump(esp, &r4);
	event = only_event_of(esp2, id);
	g_assert_cmpstr(event[4], ==, "CONFIRMED");
	g_assert_cmpint(iso_to_utc(event[2]), ==, third);
	kk2 = get_dump(kk, &r5);
	event = only_event_of(kk2, id);
	g_assert_cmpstr(event[4], ==, "CANCELLED");
	g_assert_cmpint(iso_to_utc(event[2]), ==, second);
	g_assert_cmpint(g_ascii_strtoll(event[5], NULL, 10), >, seen_kk);
}

/* One free/busy period as "START END TYPE" in UTC seconds. */
static char *
period_key(const char *start, const char *end, const char *type)
{
	return g_strdup_printf("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %s",
			       iso_to_utc(start), iso_to_utc(end), type);
}

/* The periods as the VFREEBUSY has them, and as the events do. */
static GHashTable *
freebusy_periods(GPtrArray *dump, gboolean with_free)
{
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal,
						g_free, NULL);

	for (guint i = 0; i < dump->len; i++) {
		char **r = dump->pdata[i];

		if (g_str_equal(r[0], "FREEBUSY") &&
		    !g_str_equal(r[1], "BUSY-UNAVAILABLE") &&
		    (with_free || !g_str_equal(r[1], "FREE")))
			g_hash_table_add(set, period_key(r[2], r[3], r[1]));
	}
	return set;
}

static GHashTable *
event_periods(GPtrArray *dump, const char *busy_word)
{
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal,
						g_free, NULL);

	for (guint i = 0; i < dump->len; i++) {
		char **r = dump->pdata[i];
		char **transp;
		const char *type;
		g_autofree char *summary = NULL;

		if (!g_str_equal(r[0], "EVENT"))
			continue;
		transp = find_record(dump, "TRANSP", r[1]);
		g_assert_nonnull(transp);
		summary = g_strcompress(r[6]);
		if (g_str_equal(transp[2], "TRANSPARENT")) {
			type = "FREE";
			g_assert_cmpstr(r[4], ==, "CONFIRMED");
		} else {
			g_assert_cmpstr(transp[2], ==, "OPAQUE");
			type = g_str_equal(r[4], "TENTATIVE") ? "BUSY-TENTATIVE"
							      : "BUSY";
			if (g_str_equal(type, "BUSY"))
				g_assert_cmpstr(summary, ==, busy_word);
		}
		g_assert_true(g_hash_table_add(set,
					       period_key(r[2], r[3], type)));
	}
	return set;
}

static void
assert_same_periods(GHashTable *a, GHashTable *b)
{
	GHashTableIter iter;
	const char *key;

	g_assert_cmpuint(g_hash_table_size(a), ==, g_hash_table_size(b));
	g_hash_table_iter_init(&iter, a);
	while (g_hash_table_iter_next(&iter, (gpointer *)&key, NULL))
		if (!g_hash_table_contains(b, key))
			g_error("period %s is only on one side", key);
}

/* ?freebusy=events: the VFREEBUSY's busy, tentative and free periods
 * as VEVENTs (OPAQUE, OPAQUE and TENTATIVE, TRANSPARENT), closed hours
 * none; ?freebusy=busy: the busy ones only. Read back by
 * python3-icalendar and compared period by period; no client
 * reference or booking id in either. */
static void
test_freebusy_events(void)
{
	g_autofree char *path = feed_path("freebusy", token_loh, "W-HH-LOH",
					  NULL);
	g_autofree char *events = g_strconcat(path, "?freebusy=events", NULL);
	g_autofree char *busy = g_strconcat(path,
					    "?freebusy=busy&lang=fi", NULL);
	g_autofree char *bogus = g_strconcat(path, "?freebusy=vevent", NULL);
	g_auto(Response) a = { 0 };
	g_auto(Response) b = { 0 };
	g_auto(Response) c = { 0 };
	g_auto(Response) d = { 0 };
	g_auto(Response) pub = { 0 };
	g_autoptr(GPtrArray) vfreebusy = get_dump(path, &a);
	g_autoptr(GPtrArray) as_events = get_dump(events, &b);
	g_autoptr(GPtrArray) as_busy = get_dump(busy, &c);
	g_autoptr(GPtrArray) public_events = NULL;
	g_autoptr(GHashTable) all = freebusy_periods(vfreebusy, TRUE);
	g_autoptr(GHashTable) busy_only = freebusy_periods(vfreebusy, FALSE);
	g_autoptr(GHashTable) from_events = NULL, from_busy = NULL;
	gboolean busy_at_night = FALSE;

	g_assert_cmpuint(g_hash_table_size(busy_only), >, 0);
	g_assert_cmpuint(g_hash_table_size(all), >,
			 g_hash_table_size(busy_only));
	from_events = event_periods(as_events,
				    "Varattu / Upptagen");
	from_busy = event_periods(as_busy, "Varattu");
	assert_same_periods(all, from_events);
	assert_same_periods(busy_only, from_busy);
	for (guint i = 0; i < as_events->len; i++) {
		char **r = as_events->pdata[i];

		if (g_str_equal(r[0], "EVENT") &&
		    !strstr(r[6], "Vapaa") &&
		    iso_to_utc(r[2]) <= 1792890000 &&
		    1792890000 < iso_to_utc(r[3]))
			busy_at_night = TRUE;
	}
	g_assert_true(busy_at_night);
	for (const char *body = b.body; body; body = body == b.body ? c.body
								    : NULL) {
		g_assert_null(strstr(body, "VFREEBUSY"));
		g_assert_null(strstr(body, "c-"));
		g_assert_null(strstr(body, "ref "));
		for (guint i = 0; i < loh_bookings->len; i++) {
			g_autofree char *uid = g_strconcat(
				loh_bookings->pdata[i], "@", NULL);

			g_assert_null(strstr(body, uid));
		}
	}
	get(bogus, &d);
	g_assert_cmpint(d.status, ==, 400);
	g_assert_nonnull(strstr(d.body, "freebusy must be events"));
	/* A public free/busy reads the same way without a token. */
	public_events = get_dump("/freebusy/public/E-TEL.ics?freebusy=events",
				 &pub);
	g_assert_cmpuint(count_records(public_events, "EVENT"), >, 0);
}

/* ---- set-up --------------------------------------------------------- */

static void
remove_groups(const char *path, const char *const *groups)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) error = NULL;

	g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, &error);
	g_assert_no_error(error);
	for (guint i = 0; groups[i]; i++)
		g_key_file_remove_group(kf, groups[i], NULL);
	g_key_file_save_to_file(kf, path, &error);
	g_assert_no_error(error);
}

static void
remove_key(const char *path, const char *group, const char *key)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) error = NULL;

	g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, &error);
	g_assert_no_error(error);
	g_key_file_remove_key(kf, group, key, &error);
	g_assert_no_error(error);
	g_key_file_save_to_file(kf, path, &error);
	g_assert_no_error(error);
}

/* Only the offerings these tests book, so 220 days take seconds. */
static char *
prepare_config(void)
{
	char *entry = harness_copy_example(&h);
	g_autofree char *dir = g_path_get_dirname(entry);
	g_autofree char *crisis = g_build_filename(dir, "services.d",
						   "crisis-duty.conf", NULL);
	g_autofree char *hh = g_build_filename(dir, "services.d",
					       "home-hospital.conf", NULL);
	g_autofree char *other = g_build_filename(dir, "services.d",
						  "other-services.conf", NULL);
	g_autofree char *walk_in = g_build_filename(dir, "services.d",
						    "walk-in.conf", NULL);
	/* The courses share E-TEL, whose free/busy this test makes
	 * public: they are not part of it. */
	g_autofree char *courses = g_build_filename(dir, "services.d",
						    "therapy-course.conf",
						    NULL);
	g_autofree char *units = g_build_filename(dir, "units.conf", NULL);
	const char *const drop_other[] = {
		"service remote-counselling",
		"offering W-DIGI remote-counselling",
		"offering E-DIGI remote-counselling",
		NULL,
	};
	const char *const drop[] = {
		"offering W-HH-ESP home-hospital-west",
		"offering W-HH-RAS home-hospital-west",
		"service home-hospital-east",
		"offering E-HH-POR home-hospital-east",
		"offering E-HH-LOV home-hospital-east",
		"offering E-HH-SIP home-hospital-east",
		NULL,
	};

	g_assert_cmpint(g_unlink(crisis), ==, 0);
	g_assert_cmpint(g_unlink(walk_in), ==, 0);
	g_assert_cmpint(g_unlink(courses), ==, 0);
	remove_groups(hh, drop);
	remove_groups(other, drop_other);
	harness_set_key(entry, "daemon", "http-address", "127.0.0.1:0");
	harness_set_key(entry, "daemon", "feed-export-dir", export_dir);
	harness_set_key(units, "unit W-HH-LOH", "title-sv",
			HOSTILE_TITLE_KEYFILE);
	harness_set_key(other, "offering E-TEL short-therapy", "seats", "20");
	/* Counts alone here: the therapists went with the courses. */
	remove_key(other, "offering E-TEL short-therapy", "needs");
	harness_set_key(other, "offering E-TEL short-therapy",
			"public-freebusy", "true");
	return entry;
}

int
main(int argc, char **argv)
{
	g_autofree char *config = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	harness_init(&h);
	h.horizon_days = 220;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 3, 23, 7, 0));
	export_dir = g_build_filename(h.tmpdir, "export", NULL);
	loh_bookings = g_ptr_array_new_with_free_func(g_free);
	config = prepare_config();
	g_setenv("SLOTD_TEST_PLANNER_SECONDS", G_STRINGIFY(PLANNER_HOLD),
		 TRUE);
	harness_start_slotd(&h, config);
	g_test_add_func("/feeds/address/get-http-address-and-feed-url",
			test_address_and_feed_url);
	g_test_add_func("/feeds/staff/matches-the-bookings-on-dst-days",
			test_staff_feed_matches_bookings);
	g_test_add_func("/feeds/staff/narrowed-to-a-service",
			test_feed_narrowed_to_a_service);
	g_test_add_func("/feeds/http/conditional-get-and-head",
			test_conditional_and_head);
	g_test_add_func("/feeds/http/other-methods-405", test_other_methods);
	g_test_add_func("/feeds/http/not-found-without-a-hint",
			test_not_found);
	g_test_add_func("/feeds/http/revoked-token-404", test_revoked_token);
	g_test_add_func("/feeds/freebusy/holds-no-client-refs",
			test_freebusy_has_no_client_refs);
	g_test_add_func("/feeds/freebusy/public-without-token",
			test_public_freebusy);
	g_test_add_func("/feeds/staff/titles-in-one-language",
			test_language);
	g_test_add_func("/feeds/staff/moved-to-another-unit",
			test_moved_to_another_unit);
	g_test_add_func("/feeds/freebusy/as-events",
			test_freebusy_events);
	g_test_add_func("/feeds/subscriber/vdirsyncer-and-khal",
			test_subscriber);
	g_test_add_func("/feeds/export/whole-files", test_export);
	g_test_add_func("/feeds/staff/ten-thousand-bookings",
			test_ten_thousand_bookings);
	g_test_add_func("/feeds/staff/follows-a-reload",
			test_follows_a_reload);
	g_test_add_func("/feeds/http/not-behind-reports",
			test_not_behind_reports);
	g_test_add_func("/feeds/privacy/tokens-never-written",
			test_tokens_never_written);
	g_test_add_func("/feeds/ten-thousand/read-by-python3-icalendar",
			test_ten_thousand_parsed);
	status = g_test_run();
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
	g_free(base_url);
	g_free(token_loh);
	g_free(token_tel);
	g_free(export_dir);
	g_ptr_array_unref(loh_bookings);
	return status;
}
