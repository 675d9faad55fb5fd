/* Tests of the calendar feeds without a daemon: what feed.c writes, read
 * back by libical and by an independent parser (Debian's
 * python3-icalendar, through tests/feeds/ics_dump.py); line folding;
 * hostile titles; free/busy periods; a 10,000-event feed; feed tokens
 * and paths; and the store's feed queries and token table. */
#include <glib.h>
#include <glib/gstdio.h>
#include <libical/ical.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema-undo-v3.h"
#include "schema-undo-v4.h"
#include "schema-undo-v5.h"
#include "schema-undo-v6.h"
#include "schema-undo-v7.h"
#include "schema-undo-v8.h"
#include "schema-undo-v9.h"
#include "calendar.h"
#include "config.h"
#include "feed.h"
#include "slotd-config.h"
#include "feed-token.h"
#include "store.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(icalcomponent, icalcomponent_free)

/* Instants worked out by hand (Europe/Helsinki). */
#define T_MAR29_0230 G_GINT64_CONSTANT(1774744200) /* EET, before 03:00 */
#define T_MAR29_0400 G_GINT64_CONSTANT(1774746000) /* EEST, after it */
#define T_MAR29_1000 G_GINT64_CONSTANT(1774767600) /* 07:00Z */
#define T_OCT25_0330_EEST G_GINT64_CONSTANT(1792888200) /* 00:30Z */
#define T_OCT25_0330_EET G_GINT64_CONSTANT(1792891800)	/* 01:30Z */
#define T_OCT25_1000 G_GINT64_CONSTANT(1792915200)	/* 08:00Z */
#define NOW G_GINT64_CONSTANT(1772427600) /* Mon 2026-03-02 07:00 */
#define MINUTE 60
#define HOUR 3600

/* ---- helpers -------------------------------------------------------- */

static Region *
load_example(void)
{
	g_autofree char *entry = g_build_filename(
		g_getenv("SLOTD_SOURCE_ROOT"), "config", "example",
		"slotd.conf", NULL);
	ConfigOptions options = { .config_file = entry };
	g_autoptr(GError) error = NULL;
	Region *region = config_load(&options, &error);

	g_assert_no_error(error);
	return region;
}

static StoreFeedBooking *
booking(gint64 id, const char *unit, const char *service, gint64 start,
	gint64 minutes, const char *client_ref, const char *status)
{
	StoreFeedBooking *b = g_new0(StoreFeedBooking, 1);

	b->id = id;
	b->offering = g_strconcat(unit, "/", service, NULL);
	b->unit = g_strdup(unit);
	b->service = g_strdup(service);
	b->start = start;
	b->end = start + minutes * MINUTE;
	b->client_ref = g_strdup(client_ref);
	b->status = g_strdup(status);
	b->modality = g_strdup("onsite");
	b->sequence = 0;
	b->created = NOW - HOUR;
	b->modified = NOW;
	return b;
}

static GPtrArray *
booking_list(void)
{
	return g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_feed_booking_free);
}

static char *
render(const Region *region, const char *unit, const char *service,
       GPtrArray *bookings)
{
	FeedScope scope = { region, unit, service, NOW };
	g_autoptr(GBytes) bytes = feed_render_staff(&scope, bookings);
	gsize size;
	const char *data = g_bytes_get_data(bytes, &size);

	g_assert_cmpuint(strlen(data), ==, size); /* no NUL inside */
	return g_strndup(data, size);
}

static char *
render_practitioner(const Region *region, const char *practitioner,
		    GPtrArray *bookings)
{
	const Resource *r = region_find_resource(region, practitioner);
	FeedScope scope = { region, r->unit, NULL, NOW, practitioner };
	g_autoptr(GBytes) bytes = feed_render_staff(&scope, bookings);

	return g_strndup(g_bytes_get_data(bytes, NULL),
			 g_bytes_get_size(bytes));
}

/* Runs the independent parser; its records, one array of fields each. */
static GPtrArray *
python_dump(const char *ics)
{
	g_autofree char *script = g_build_filename(
		g_getenv("SLOTD_SOURCE_ROOT"), "tests", "feeds", "ics_dump.py",
		NULL);
	g_autofree char *path = NULL, *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *records = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_strfreev);
	int fd = g_file_open_tmp("feed-XXXXXX.ics", &path, &error);
	int status;

	g_assert_no_error(error);
	close(fd);
	g_file_set_contents(path, ics, -1, &error);
	g_assert_no_error(error);
	{
		const char *argv[] = { "/usr/bin/python3", script, path, NULL };

		g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL,
			     NULL, &out, &err, &status, &error);
	}
	g_assert_no_error(error);
	g_unlink(path);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("python3-icalendar refused the feed: %s", err);
	lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; lines[i] && *lines[i]; i++)
		g_ptr_array_add(records, g_strsplit(lines[i], "\t", -1));
	return records;
}

/* Field `n` (1-based after the tag) of the first record tagged `tag`
 * whose field 1 is `key` (NULL: any); unescaped. */
static char *
record_field(GPtrArray *records, const char *tag, const char *key, guint n)
{
	for (guint i = 0; i < records->len; i++) {
		char **r = records->pdata[i];

		if (g_str_equal(r[0], tag) &&
		    (key == NULL || g_strcmp0(r[1], key) == 0)) {
			g_assert_cmpuint(g_strv_length(r), >, n);
			return g_strcompress(r[n]);
		}
	}
	g_error("no %s record %s", tag, key ? key : "");
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

static icalcomponent *
libical_parse(const char *ics)
{
	icalcomponent *calendar = icalparser_parse_string(ics);

	g_assert_nonnull(calendar);
	g_assert_cmpint(icalcomponent_isa(calendar), ==,
			ICAL_VCALENDAR_COMPONENT);
	return calendar;
}

static const char *
x_value(icalcomponent *component, const char *name)
{
	for (icalproperty *p = icalcomponent_get_first_property(
		     component, ICAL_X_PROPERTY);
	     p; p = icalcomponent_get_next_property(component,
						     ICAL_X_PROPERTY))
		if (g_str_equal(icalproperty_get_x_name(p), name))
			return icalproperty_get_x(p);
	return NULL;
}

/* Lines end in CR LF, hold at most 75 octets, are valid UTF-8 each (so
 * no fold splits a character), and carry no control characters. */
static void
assert_well_formed_lines(const char *ics)
{
	const char *line = ics;

	g_assert_true(g_str_has_suffix(ics, "\r\n"));
	while (*line) {
		const char *end = strstr(line, "\r\n");

		g_assert_nonnull(end);
		g_assert_cmpint(end - line, <=, 75);
		g_assert_true(g_utf8_validate(line, end - line, NULL));
		for (const char *p = line; p < end; p++)
			g_assert_false((guchar)*p < 0x20 || *p == 0x7f);
		g_assert_false(line[0] == '\t');
		line = end + 2;
	}
}

/* ---- the staff feed ------------------------------------------------- */

static void
test_calendar_properties(void)
{
	g_autoptr(Region) region = load_example();
	g_autoptr(GPtrArray) bookings = booking_list();
	g_autofree char *ics = render(region, "W-HH-RAS", NULL, bookings);
	g_autoptr(GPtrArray) dump = python_dump(ics);
	const char *name = "Hemsjukhuset, Raseborgs sjukhus (Ekenäs) / "
			   "Kotisairaala, Raaseporin sairaala (Tammisaari)";
	static const char *const expected[][2] = {
		{ "VERSION", "2.0" },	     { "CALSCALE", "GREGORIAN" },
		{ "METHOD", "PUBLISH" },     { "REFRESH-INTERVAL", "PT15M" },
		{ "X-PUBLISHED-TTL", "PT15M" },
		{ "X-WR-TIMEZONE", "Europe/Helsinki" },
	};

	assert_well_formed_lines(ics);
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		g_autofree char *v = record_field(dump, "CAL", expected[i][0],
						  2);

		g_assert_cmpstr(v, ==, expected[i][1]);
	}
	{
		g_autofree char *n = record_field(dump, "CAL", "NAME", 2);
		g_autofree char *x = record_field(dump, "CAL", "X-WR-CALNAME",
						  2);
		g_autofree char *p = record_field(dump, "CAL", "PRODID", 2);
		g_autofree char *tz = record_field(dump, "TZ", NULL, 1);

		g_assert_cmpstr(n, ==, name); /* Swedish-first unit */
		g_assert_cmpstr(x, ==, name);
		g_assert_true(g_str_has_prefix(p, "-//slotd//"));
		g_assert_cmpstr(tz, ==, "Europe/Helsinki");
	}
	g_assert_cmpuint(count_records(dump, "EVENT"), ==, 0);
}

/* A home visit, a cancelled booking, an anonymous one in the repeated
 * hour and a plain one, on the two DST change days. */
static void
add_dst_bookings(GPtrArray *bookings)
{
	StoreFeedBooking *b;

	b = booking(1, "W-HH-LOH", "home-hospital-west", T_MAR29_0230, 60,
		    "c-1", "booked");
	b->modality = (g_free(b->modality), g_strdup("home"));
	b->municipality = g_strdup("927"); /* Vihti, never an address */
	g_ptr_array_add(bookings, b);
	b = booking(2, "W-HH-LOH", "home-hospital-west", T_MAR29_1000, 30,
		    "c-2", "cancelled");
	b->sequence = 3;
	g_ptr_array_add(bookings, b);
	b = booking(3, "W-HH-LOH", "home-hospital-west", T_OCT25_0330_EEST,
		    60, "", "arrived");
	b->sequence = 1;
	g_ptr_array_add(bookings, b);
	g_ptr_array_add(bookings, booking(4, "W-HH-LOH", "home-hospital-west",
					  T_OCT25_1000, 30, "c-4", "booked"));
}

/* Two bookings on each DST change day (one in the repeated hour), one
 * cancelled, an anonymous one and a home visit; read back by
 * python3-icalendar in Europe/Helsinki and checked against the hand-
 * worked times. */
static void
test_events_round_trip(void)
{
	g_autoptr(Region) region = load_example();
	g_autoptr(GPtrArray) bookings = booking_list();
	g_autofree char *ics = NULL;
	g_autoptr(GPtrArray) dump = NULL;
	static const char *const expected[][8] = {
		{ "b-1@nyland.slotd", "2026-03-29T02:30:00+02:00",
		  "2026-03-29T04:30:00+03:00", "CONFIRMED", "0",
		  "Kotisairaala, Länsi-Uusimaa / Hemsjukhuset, Västra Nyland "
		  "– ref c-1", "Vihti / Vichtis" },
		{ "b-2@nyland.slotd", "2026-03-29T10:00:00+03:00",
		  "2026-03-29T10:30:00+03:00", "CANCELLED", "3",
		  "Kotisairaala, Länsi-Uusimaa / Hemsjukhuset, Västra Nyland "
		  "– ref c-2", "Kotisairaala, Lohjan sairaala / Hemsjukhuset, "
		  "Lojo sjukhus" },
		{ "b-3@nyland.slotd", "2026-10-25T03:30:00+03:00",
		  "2026-10-25T03:30:00+02:00", "CONFIRMED", "1",
		  "Kotisairaala, Länsi-Uusimaa / Hemsjukhuset, Västra Nyland "
		  "– anonymous", "Kotisairaala, Lohjan sairaala / "
		  "Hemsjukhuset, Lojo sjukhus" },
		{ "b-4@nyland.slotd", "2026-10-25T10:00:00+02:00",
		  "2026-10-25T10:30:00+02:00", "CONFIRMED", "0",
		  "Kotisairaala, Länsi-Uusimaa / Hemsjukhuset, Västra Nyland "
		  "– ref c-4", "Kotisairaala, Lohjan sairaala / Hemsjukhuset, "
		  "Lojo sjukhus" },
	};

	add_dst_bookings(bookings);
	ics = render(region, "W-HH-LOH", NULL, bookings);
	assert_well_formed_lines(ics);
	/* The repeated hour is written in UTC; the others with the TZID. */
	g_assert_nonnull(strstr(ics, "DTSTART:20261025T003000Z\r\n"));
	g_assert_nonnull(strstr(ics, "DTEND:20261025T013000Z\r\n"));
	g_assert_nonnull(strstr(ics, "DTSTART;TZID=Europe/Helsinki:"
				     "20261025T100000\r\n"));
	dump = python_dump(ics);
	g_assert_cmpuint(count_records(dump, "EVENT"), ==, 4);
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		for (guint f = 1; f <= 7; f++) {
			g_autofree char *v = record_field(
				dump, "EVENT", expected[i][0], f);

			g_assert_cmpstr(v, ==, expected[i][f - 1]);
		}
	}
	{
		g_autofree char *stamp = record_field(dump, "EVENT",
						      "b-1@nyland.slotd", 8);
		g_autofree char *created = record_field(
			dump, "EVENT", "b-1@nyland.slotd", 9);

		g_assert_cmpstr(stamp, ==, "2026-03-02T05:00:00Z");
		g_assert_cmpstr(created, ==, "2026-03-02T04:00:00Z");
	}
}

/* Titles straight from a hostile configuration: commas, semicolons,
 * backslashes, line breaks, tabs, control characters and long UTF-8. */
static void
set_hostile_titles(Region *region, char **ret_unit, char **ret_service)
{
	Unit *unit = (Unit *)region_find_unit(region, "W-SO-LOH");
	Service *service = (Service *)region_find_service(
		region, "social-counselling-walk-in");
	GString *long_text = g_string_new("Pitkä, ");

	for (int i = 0; i < 40; i++)
		g_string_append(long_text, "Åbo€𝄞ä;");
	g_free(unit->title_fi);
	unit->title_fi = g_strdup("Sosiaali\\ohjaus, \"Lohja\"; A:B\r\n"
				  "toinen rivi\tsarake\x01\x7f loppu");
	g_free(unit->title_sv);
	unit->title_sv = g_string_free(long_text, FALSE);
	g_free(service->title_fi);
	service->title_fi = g_strdup("Walk-in; 100%2C kävele, sisään \\n\\");
	g_free(service->title_sv);
	service->title_sv = g_strdup("Walk-in");
	*ret_unit = g_strconcat(unit->title_fi, " / ", unit->title_sv, NULL);
	*ret_service = g_strconcat(service->title_fi, " / ", service->title_sv,
				   NULL);
}

static void
test_hostile_text_round_trips(void)
{
	g_autoptr(Region) region = load_example();
	g_autoptr(GPtrArray) bookings = booking_list();
	g_autofree char *raw_unit = NULL, *raw_service = NULL;
	g_autofree char *unit = NULL, *summary = NULL, *ics = NULL;
	g_autoptr(icalcomponent) calendar = NULL;
	g_autoptr(GPtrArray) dump = NULL;
	icalcomponent *event;

	set_hostile_titles(region, &raw_unit, &raw_service);
	unit = feed_clean_text(raw_unit);
	summary = g_strconcat(raw_service, " – ref c-9", NULL);
	/* Cleaning keeps the line break and drops the control bytes. */
	g_assert_nonnull(strstr(unit, "Lohja\"; A:B\ntoinen rivi sarake "
				      "loppu"));
	g_ptr_array_add(bookings,
			booking(9, "W-SO-LOH", "social-counselling-walk-in",
				T_MAR29_1000, 30, "c-9", "booked"));
	ics = render(region, "W-SO-LOH", NULL, bookings);
	assert_well_formed_lines(ics);
	calendar = libical_parse(ics);
	g_assert_cmpstr(x_value(calendar, "X-WR-CALNAME"), ==, unit);
	g_assert_cmpstr(icalproperty_get_name(icalcomponent_get_first_property(
				calendar, ICAL_NAME_PROPERTY)), ==, unit);
	event = icalcomponent_get_first_component(calendar,
						  ICAL_VEVENT_COMPONENT);
	g_assert_cmpstr(icalcomponent_get_summary(event), ==, summary);
	g_assert_cmpstr(icalcomponent_get_location(event), ==, unit);
	dump = python_dump(ics);
	{
		g_autofree char *n = record_field(dump, "CAL", "NAME", 2);
		g_autofree char *x = record_field(dump, "CAL", "X-WR-CALNAME",
						  2);
		g_autofree char *s = record_field(dump, "EVENT", NULL, 6);
		g_autofree char *l = record_field(dump, "EVENT", NULL, 7);

		g_assert_cmpstr(n, ==, unit);
		g_assert_cmpstr(x, ==, unit);
		g_assert_cmpstr(s, ==, summary);
		g_assert_cmpstr(l, ==, unit);
	}
}

/* Folding by hand-worked example: a SUMMARY of 100 two-octet letters
 * cannot end a line inside a letter. */
static void
test_folding_at_75_octets(void)
{
	g_autoptr(Region) region = load_example();
	g_autoptr(GPtrArray) bookings = booking_list();
	g_autofree char *ics = NULL, *folded = NULL;
	g_autoptr(icalcomponent) calendar = NULL;
	Service *service = (Service *)region_find_service(region,
							  "short-therapy");
	GString *title = g_string_new(NULL);
	const char *line;
	guint continuations = 0;

	for (int i = 0; i < 100; i++)
		g_string_append(title, "ä");
	g_free(service->title_fi);
	service->title_fi = g_string_free(title, FALSE);
	g_free(service->title_sv);
	service->title_sv = g_strdup(service->title_fi);
	/* Different names, so that both are shown. */
	memcpy(service->title_sv + 198, "ö", 2);
	g_ptr_array_add(bookings, booking(5, "E-TEL", "short-therapy",
					  T_OCT25_1000, 60, "c-5", "booked"));
	ics = render(region, "E-TEL", NULL, bookings);
	assert_well_formed_lines(ics);
	line = strstr(ics, "\r\nSUMMARY:") + 2;
	/* 400 octets of letters and 8 of "SUMMARY:": six lines at least. */
	for (const char *p = line; (p = strstr(p, "\r\n ")) &&
				   p < strstr(line, "\r\nLOCATION");
	     p += 3)
		continuations++;
	g_assert_cmpuint(continuations, >=, 5);
	calendar = libical_parse(ics);
	folded = g_strdup(icalcomponent_get_summary(
		icalcomponent_get_first_component(calendar,
						  ICAL_VEVENT_COMPONENT)));
	g_assert_cmpuint(g_utf8_strlen(folded, -1), ==, 100 + 3 + 100 + 10);
}

/* A value whose last 73 octets hold no space, ';' or ':' ends its
 * line with its CR LF together (libical put a fold between them): a
 * 73-octet UID and a 73-octet unit title. */
static void
test_no_fold_between_cr_and_lf(void)
{
	g_autoptr(Region) region = load_example();
	g_autoptr(GPtrArray) bookings = booking_list();
	g_autoptr(icalcomponent) calendar = NULL;
	g_autoptr(GPtrArray) dump = NULL;
	g_autofree char *ics = NULL, *uid = NULL, *place = NULL;
	Unit *unit = (Unit *)region_find_unit(region, "E-TEL");
	GString *title = g_string_new(NULL);
	icalcomponent *event;

	for (int i = 0; i < 36; i++)
		g_string_append(title, "Ä");
	g_string_append_c(title, 'x');
	g_free(unit->title_fi);
	unit->title_fi = g_string_free(title, FALSE);
	g_free(unit->title_sv);
	unit->title_sv = g_strdup(unit->title_fi);
	/* "b-12345@" and ".slotd" around it: 73 octets. */
	g_free(region->daemon.region_id);
	region->daemon.region_id = g_strnfill(59, 'r');
	uid = g_strconcat("b-12345@", region->daemon.region_id, ".slotd",
			  NULL);
	g_assert_cmpuint(strlen(uid), ==, 73);
	g_ptr_array_add(bookings, booking(12345, "E-TEL", "short-therapy",
					  T_OCT25_1000, 60, "c-5", "booked"));
	ics = render(region, "E-TEL", NULL, bookings);
	assert_well_formed_lines(ics);
	place = g_strconcat("\r\nLOCATION:\r\n ", unit->title_fi, "\r\n",
			    NULL);
	g_assert_nonnull(strstr(ics, place));
	calendar = libical_parse(ics);
	event = icalcomponent_get_first_component(calendar,
						  ICAL_VEVENT_COMPONENT);
	g_assert_cmpstr(icalcomponent_get_uid(event), ==, uid);
	g_assert_cmpstr(icalcomponent_get_location(event), ==,
			unit->title_fi);
	dump = python_dump(ics);
	{
		g_autofree char *l = record_field(dump, "EVENT", uid, 7);

		g_assert_cmpstr(l, ==, unit->title_fi);
	}
}

/* Under the sanitizers libical's parser is some fifty times slower, and
 * the daemon test reads a 10,000-booking feed there anyway. */
#if SLOTD_SANITIZED
#define MANY_EVENTS 1000
#else
#define MANY_EVENTS 10000
#endif

/* libical reads all 10,000 back (the daemon test has python3-icalendar
 * read a 10,000-booking feed too; doing it twice costs half a minute). */
static void
test_ten_thousand_events(void)
{
	g_autoptr(Region) region = load_example();
	g_autoptr(GPtrArray) bookings = booking_list();
	g_autofree char *ics = NULL;
	g_autoptr(icalcomponent) calendar = NULL;
	g_autoptr(GHashTable) uids = g_hash_table_new_full(g_str_hash,
							   g_str_equal, g_free,
							   NULL);
	icalcomponent *event;
	gint64 began;

	for (gint64 i = 1; i <= MANY_EVENTS; i++) {
		g_autofree char *ref = g_strdup_printf("c-%" G_GINT64_FORMAT,
						       i);

		g_ptr_array_add(bookings,
				booking(i, "E-TEL", "short-therapy",
					T_MAR29_0400 + (i / 6) * HOUR, 60, ref,
					i % 10 ? "booked" : "cancelled"));
	}
	began = g_get_monotonic_time();
	ics = render(region, "E-TEL", NULL, bookings);
	g_test_message("10,000 events: %" G_GINT64_FORMAT " ms, %zu bytes",
		       (g_get_monotonic_time() - began) / 1000, strlen(ics));
	assert_well_formed_lines(ics);
	calendar = libical_parse(ics);
	for (event = icalcomponent_get_first_component(calendar,
						       ICAL_VEVENT_COMPONENT);
	     event; event = icalcomponent_get_next_component(
			    calendar, ICAL_VEVENT_COMPONENT))
		g_hash_table_add(uids, g_strdup(icalcomponent_get_uid(event)));
	g_assert_cmpuint(g_hash_table_size(uids), ==, MANY_EVENTS);
	g_assert_true(g_hash_table_contains(
		uids, MANY_EVENTS == 10000 ? "b-10000@nyland.slotd"
					   : "b-1000@nyland.slotd"));
}

/* ---- the direct writer against libical ------------------------------ */

/* feed_writer_event() writes a VEVENT without libical; libical's own
 * serialisation of the same event, built here from the same texts with
 * times and status worked out independently (GLib's zone data, not
 * calendar.c), must give the same bytes. Random bookings, seeded:
 * SLOTD_FEED_SEED repeats a run; the seed is printed. */
#if SLOTD_SANITIZED
#define ORACLE_ROUNDS 60
#else
#define ORACLE_ROUNDS 400
#endif
#define ORACLE_EVENTS 40

/* Pieces of titles: what needs escaping, Finnish and Swedish letters,
 * 3- and 4-byte UTF-8, line breaks, tabs and control characters (the
 * feed cleans those before the writer sees them), invalid UTF-8. */
static const char *const text_pieces[] = {
	"a", "k", "Z", "0", "-", ".", "(", "/", "\"", "'", "@",
	",", ";", ":", "\\", "\\n", "\n", "\r\n", "\r", "\t", "\x01", "\x7f",
	"\xc2\x85", "\xe2\x80\xa8", "\xff", "å", "ä", "ö", "Å", "Ä", "Ö",
	"é", "€", "–", "𝄞", "😀", "ß",
};

/* Random text of up to `max` pieces. Some texts have no spaces at all
 * and long runs of multi-byte letters, so that folds fall inside words
 * and next to multi-byte characters. */
static char *
random_text(GRand *rand, guint max)
{
	GString *text = g_string_new(NULL);
	/* mostly short, as titles are; now and then up to `max` */
	guint length = g_rand_int_range(rand, 0, g_rand_boolean(rand)
							 ? 12
							 : (gint32)max + 1);
	/* per mille: spaces, and pieces from the whole table */
	static const guint space_rates[] = { 0, 0, 20, 150 };
	static const guint wide_rates[] = { 0, 300, 1000 };
	guint spaces = space_rates[g_rand_int_range(rand, 0, 4)];
	guint wide = wide_rates[g_rand_int_range(rand, 0, 3)];

	for (guint i = 0; i < length; i++) {
		guint pick = g_rand_int_range(rand, 0, 1000);

		if (pick < spaces)
			g_string_append_c(text, ' ');
		else if (pick < spaces + wide)
			g_string_append(text, text_pieces[g_rand_int_range(
				rand, 0, G_N_ELEMENTS(text_pieces))]);
		else
			g_string_append_c(text, (char)('a' + g_rand_int_range(
							rand, 0, 26)));
	}
	return g_string_free(text, FALSE);
}

static void
replace_text(char **field, char *text)
{
	g_free(*field);
	*field = text;
}

/* The last Sunday of the month at 01:00 UTC: when Europe/Helsinki's
 * clocks change (EU rule). */
static gint64
dst_change(int year, int month)
{
	GDate date;

	g_date_clear(&date, 1);
	g_date_set_dmy(&date, g_date_get_days_in_month(month, year), month,
		       year);
	while (g_date_get_weekday(&date) != G_DATE_SUNDAY)
		g_date_subtract_days(&date, 1);
	return (gint64)(g_date_get_julian(&date) - 719163) * 86400 + HOUR;
}

static gint64
random_instant(GRand *rand)
{
	int year = g_rand_int_range(rand, 2000, 2038);
	gint64 t;

	switch (g_rand_int_range(rand, 0, 4)) {
	case 0:	/* anywhere, to the second */
		return g_rand_int_range(rand, 0, 38 * 365) * (gint64)86400 +
		       G_GINT64_CONSTANT(946684800) +
		       g_rand_int_range(rand, 0, 86400);
	case 1:
		t = dst_change(year, 3);
		break;
	default:	/* the repeated hour and around it */
		t = dst_change(year, 10);
		break;
	}
	/* within four hours of the change, often on a quarter hour */
	t += g_rand_int_range(rand, -4 * 4, 4 * 4 + 1) * 15 * MINUTE;
	if (g_rand_boolean(rand))
		t += g_rand_int_range(rand, -900, 900);
	return t;
}

/* DTSTAMP, CREATED and LAST-MODIFIED are UTC: any time will do, and
 * now and then one from 1970 to 2199, or just before or at a
 * midnight. */
static gint64
random_stamp(GRand *rand)
{
	gint64 day = g_rand_int_range(rand, 0, 230 * 365) * (gint64)86400;

	switch (g_rand_int_range(rand, 0, 8)) {
	case 0:
		return day + g_rand_int_range(rand, 0, 86400);
	case 1:
		return day - g_rand_int_range(rand, 0, 2);
	default:
		return random_instant(rand);
	}
}

static const char *
random_of(GRand *rand, const char *const *values, guint n)
{
	return values[g_rand_int_range(rand, 0, (gint32)n)];
}

static StoreFeedBooking *
random_booking(GRand *rand, const Region *region, GPtrArray *offerings)
{
	static const char *const statuses[] = {
		"proposed", "pending", "booked", "arrived", "checked-in",
		"fulfilled", "cancelled", "noshow", "entered-in-error",
		"waitlist", "unknown",
	};
	static const char *const modalities[] = {
		"onsite", "home", "home", "phone", "video", NULL, "other",
	};
	static const char *const urgencies[] = {
		"routine", "urgent", "immediate", NULL, "x",
	};
	static const char *const languages[] = { "fi", "sv", "en", NULL, "de" };
	static const gint64 sequences[] = {
		0, 1, 2, 17, G_MAXINT, (gint64)G_MAXINT + 5, -3,
	};
	StoreFeedBooking *b = g_new0(StoreFeedBooking, 1);
	const SlotdOffering *off =
		offerings->pdata[g_rand_int_range(rand, 0, offerings->len)];
	const Municipality *m = region->municipalities->pdata[g_rand_int_range(
		rand, 0, region->municipalities->len)];

	b->id = g_rand_boolean(rand) ? g_rand_int_range(rand, 1, 100000)
				     : ((gint64)g_rand_int(rand) << 30) +
					       g_rand_int(rand);
	b->offering = g_strdup(off->id);
	b->unit = g_strdup(off->unit->id);
	b->service = g_strdup(off->service->id);
	b->start = random_instant(rand);
	b->end = b->start + g_rand_int_range(rand, 0, 5 * 4) * 15 * MINUTE;
	switch (g_rand_int_range(rand, 0, 4)) {
	case 0:
		b->client_ref = g_strdup("");
		break;
	case 1:
		b->client_ref = g_strdup_printf("c-%u", g_rand_int(rand));
		break;
	case 2: {	/* printable ASCII, as checked at the door */
		GString *ref = g_string_new(NULL);
		guint n = g_rand_int_range(rand, 1, 120);

		for (guint i = 0; i < n; i++)
			g_string_append_c(ref, (char)g_rand_int_range(rand,
								      0x20,
								      0x7f));
		b->client_ref = g_string_free(ref, FALSE);
		break;
	}
	default:
		b->client_ref = random_text(rand, 90);
	}
	b->status = g_strdup(random_of(rand, statuses, G_N_ELEMENTS(statuses)));
	b->modality = g_strdup(random_of(rand, modalities,
					 G_N_ELEMENTS(modalities)));
	b->municipality = g_rand_int_range(rand, 0, 4)
				  ? g_strdup(m->code)
				  : g_rand_boolean(rand) ? g_strdup("000")
							 : NULL;
	b->urgency = g_strdup(random_of(rand, urgencies,
					G_N_ELEMENTS(urgencies)));
	b->language = g_strdup(random_of(rand, languages,
					 G_N_ELEMENTS(languages)));
	b->sequence = sequences[g_rand_int_range(rand, 0,
						 G_N_ELEMENTS(sequences))];
	b->created = random_stamp(rand);
	b->modified = random_stamp(rand);
	b->series_length = g_rand_boolean(rand) ? 1
						: g_rand_int_range(rand, 2, 30);
	b->series_index = g_rand_int_range(rand, 0, b->series_length);
	b->needs_rebooking = g_rand_int_range(rand, 0, 4) == 0;
	if (g_rand_boolean(rand)) {
		b->use_start = b->start - g_rand_int_range(rand, 0, 90) *
						  MINUTE;
		b->use_end = b->end + g_rand_int_range(rand, 0, 90) * MINUTE;
	}
	return b;
}

/* New titles for every unit, service and municipality of the region,
 * and sometimes a long region id (UIDs fold too). */
static void
randomise_region(GRand *rand, Region *region)
{
	static const char *const region_ids[] = {
		"nyland", "a", "x.y_z-1",
		"a-region-id-long-enough-that-a-uid-line-has-to-be-folded-"
		"somewhere.in.the.middle",
	};

	for (guint i = 0; i < region->units->len; i++) {
		Unit *u = region->units->pdata[i];

		replace_text(&u->title_fi, random_text(rand, 90));
		replace_text(&u->title_sv, random_text(rand, 90));
	}
	for (guint i = 0; i < region->services->len; i++) {
		Service *s = region->services->pdata[i];

		replace_text(&s->title_fi, random_text(rand, 120));
		replace_text(&s->title_sv, random_text(rand, 120));
	}
	for (guint i = 0; i < region->municipalities->len; i++) {
		Municipality *m = region->municipalities->pdata[i];

		replace_text(&m->name_fi, random_text(rand, 60));
		replace_text(&m->name_sv, random_text(rand, 60));
	}
	replace_text(&region->daemon.region_id,
		     g_strdup(random_of(rand, region_ids,
					G_N_ELEMENTS(region_ids))));
}

/* Seconds east of UTC in Helsinki, from the system's zone data. */
static gint64
oracle_offset(GTimeZone *zone, gint64 utc)
{
	g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(utc);
	g_autoptr(GDateTime) local = g_date_time_to_timezone(t, zone);

	return g_date_time_get_utc_offset(local) / G_USEC_PER_SEC;
}

/* DTSTART or DTEND as the feed always wrote it: the wall clock with
 * the TZID, or UTC where the wall clock reading happens twice. */
static icalproperty *
oracle_time(GTimeZone *zone, gboolean start, gint64 utc)
{
	gint64 offset = oracle_offset(zone, utc);
	gboolean twice = offset > oracle_offset(zone, utc + HOUR) ||
			 oracle_offset(zone, utc - HOUR) > offset;
	struct icaltimetype t;
	icalproperty *p;

	if (twice) {
		t = icaltime_from_timet_with_zone(
			(time_t)utc, 0, icaltimezone_get_utc_timezone());
	} else {
		g_autoptr(GDateTime) u = g_date_time_new_from_unix_utc(utc);
		g_autoptr(GDateTime) l = g_date_time_to_timezone(u, zone);

		t = icaltime_null_time();
		t.year = g_date_time_get_year(l);
		t.month = g_date_time_get_month(l);
		t.day = g_date_time_get_day_of_month(l);
		t.hour = g_date_time_get_hour(l);
		t.minute = g_date_time_get_minute(l);
		t.second = g_date_time_get_second(l);
	}
	p = start ? icalproperty_new_dtstart(t) : icalproperty_new_dtend(t);
	if (!twice)
		icalproperty_add_parameter(p,
					   icalparameter_new_tzid(FEED_TZID));
	return p;
}

static struct icaltimetype
oracle_utc(gint64 utc)
{
	return icaltime_from_timet_with_zone((time_t)utc, 0,
					     icaltimezone_get_utc_timezone());
}

static enum icalproperty_status
oracle_status(const char *status)
{
	static const char *const cancelled[] = { "cancelled",
						 "entered-in-error" };
	static const char *const tentative[] = { "proposed", "pending",
						 "waitlist" };

	for (guint i = 0; i < G_N_ELEMENTS(cancelled); i++)
		if (g_str_equal(status, cancelled[i]))
			return ICAL_STATUS_CANCELLED;
	for (guint i = 0; i < G_N_ELEMENTS(tentative); i++)
		if (g_str_equal(status, tentative[i]))
			return ICAL_STATUS_TENTATIVE;
	return ICAL_STATUS_CONFIRMED;
}

/* libical's text of the booking's VEVENT. */
static char *
oracle_event(GTimeZone *zone, const StoreFeedBooking *b,
	     const FeedEventTexts *t)
{
	g_autoptr(icalcomponent) e = icalcomponent_new(ICAL_VEVENT_COMPONENT);
	char *text, *copy;

	icalcomponent_add_property(e, icalproperty_new_uid(t->uid));
	icalcomponent_add_property(
		e, icalproperty_new_dtstamp(oracle_utc(b->modified)));
	icalcomponent_add_property(e, oracle_time(zone, TRUE, b->start));
	icalcomponent_add_property(e, oracle_time(zone, FALSE, b->end));
	icalcomponent_add_property(e, icalproperty_new_summary(t->summary));
	icalcomponent_add_property(e, icalproperty_new_location(t->location));
	icalcomponent_add_property(
		e, icalproperty_new_status(oracle_status(b->status)));
	icalcomponent_add_property(
		e, icalproperty_new_sequence((int)CLAMP(b->sequence, 0,
							G_MAXINT)));
	icalcomponent_add_property(
		e, icalproperty_new_created(oracle_utc(b->created)));
	icalcomponent_add_property(
		e, icalproperty_new_lastmodified(oracle_utc(b->modified)));
	icalcomponent_add_property(
		e, icalproperty_new_description(t->description));
	icalcomponent_add_property(e,
				   icalproperty_new_categories(t->category));
	text = icalcomponent_as_ical_string_r(e);
	copy = g_strdup(text);
	icalmemory_free_buffer(text);
	return copy;
}

/* libical 3.0 folds a line whose last 73 octets hold no space, ';' or
 * ':' between its CR and LF ("\r" "\r\n " "\n"); the writer keeps
 * them together. The oracle's text with that one fold undone. */
static guint
undo_cr_lf_fold(char *text)
{
	static const char split[] = "\r\r\n \n";
	guint undone = 0;
	char *at;

	while ((at = strstr(text, split)) != NULL) {
		memmove(at + 2, at + strlen(split),
			strlen(at + strlen(split)) + 1);
		memcpy(at, "\r\n", 2);
		undone++;
	}
	return undone;
}

/* Line ends and control characters shown, for a failure's message. */
static char *
visible(const char *text)
{
	GString *out = g_string_new(NULL);

	for (const char *p = text; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n') {
			g_string_append(out, "\\r\\n\n");
			p++;
		} else if ((guchar)*p < 0x20 || *p == 0x7f) {
			g_string_append_printf(out, "\\x%02x", (guchar)*p);
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

static void
test_direct_writer_matches_libical(void)
{
	g_autoptr(Region) region = load_example();
	g_autoptr(GTimeZone) zone = g_time_zone_new_identifier(FEED_TZID);
	const char *seed_text = g_getenv("SLOTD_FEED_SEED");
	guint32 seed = seed_text ? (guint32)g_ascii_strtoull(seed_text, NULL,
							       10)
				 : g_random_int();
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	static const char *const langs[] = { NULL, "fi", "sv" };
	guint events = 0, in_utc = 0, cr_lf = 0;

	g_assert_nonnull(zone);
	g_test_message("SLOTD_FEED_SEED=%u", seed);
	for (guint round = 0; round < ORACLE_ROUNDS; round++) {
		const Unit *unit = region->units->pdata[g_rand_int_range(
			rand, 0, region->units->len)];
		FeedScope scope = { region, unit->id, NULL, NOW };
		g_autoptr(GPtrArray) offerings = NULL;
		g_autoptr(FeedWriter) writer = NULL;

		randomise_region(rand, region);
		scope.lang = langs[g_rand_int_range(rand, 0, 3)];
		/* A practitioner's feed: bookings of any unit, no client. */
		if (g_rand_int_range(rand, 0, 4) == 0) {
			for (guint i = 0; i < region->resources->len; i++) {
				const Resource *r = region->resources->pdata[i];

				if (r->type == RESOURCE_PRACTITIONER &&
				    g_str_equal(r->unit, unit->id))
					scope.practitioner = r->id;
			}
		}
		offerings = scope.practitioner
				    ? g_ptr_array_ref(region->offerings)
				    : feed_scope_offerings(region, unit->id,
							   NULL);
		if (offerings->len == 0)
			continue;
		writer = feed_writer_new_staff(&scope, 0);
		for (guint i = 0; i < ORACLE_EVENTS; i++) {
			g_autoptr(StoreFeedBooking) b =
				random_booking(rand, region, offerings);
			g_autofree char *text = feed_writer_event(writer, b);
			g_autofree char *expected = NULL;
			FeedEventTexts t = { 0 };

			feed_writer_event_texts(writer, b, &t);
			expected = oracle_event(zone, b, &t);
			feed_event_texts_clear(&t);
			cr_lf += undo_cr_lf_fold(expected);
			if (!g_str_equal(text, expected)) {
				g_autofree char *a = visible(text);
				g_autofree char *e = visible(expected);

				g_error("SLOTD_FEED_SEED=%u, round %u, event "
					"%u: the writer's\n%s\nlibical's\n%s",
					seed, round, i, a, e);
			}
			events++;
			in_utc += strstr(text, "\r\nDTSTART:") != NULL ||
				  strstr(text, "\r\nDTEND:") != NULL;
		}
	}
	g_test_message("%u events, %u with a time in UTC, %u folds libical "
		       "puts between CR and LF", events, in_utc, cr_lf);
	g_assert_cmpuint(events, >, ORACLE_ROUNDS * ORACLE_EVENTS / 2);
	g_assert_cmpuint(in_utc, >, 0);
}

/* ---- free/busy ------------------------------------------------------ */

static void
add_slot(GArray *slots, gint64 start, gint64 minutes, guint capacity,
	 guint booked, guint held, SlotStatus status)
{
	StoreSlot slot = { 0 };

	slot.start = start;
	slot.end = start + minutes * MINUTE;
	slot.capacity = capacity;
	slot.booked = booked;
	slot.held = held;
	slot.status = status;
	g_array_append_val(slots, slot);
}

/* One day's hand-worked timeline: closed until 10:00, a free slot, a
 * full one whose last place is held (busy-tentative: the hold may
 * lapse), a withdrawn one, a gap, then a fully booked slot overlapped
 * by another offering's free one. Free wins an overlap. */
static void
test_freebusy_periods(void)
{
	g_autoptr(Region) region = load_example();
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	/* Midnight is still summer time: the day has 25 hours. */
	gint64 day = T_OCT25_1000 - 11 * HOUR;
	FeedScope scope = { region, "W-SO-LOH", NULL, NOW };
	g_autoptr(GBytes) bytes = NULL;
	g_autofree char *ics = NULL;
	g_autoptr(GPtrArray) dump = NULL;
	static const char *const expected[][3] = {
		{ "BUSY-UNAVAILABLE", "2026-10-24T21:00:00Z",
		  "2026-10-25T08:00:00Z" },
		{ "FREE", "2026-10-25T08:00:00Z", "2026-10-25T08:30:00Z" },
		{ "BUSY-TENTATIVE", "2026-10-25T08:30:00Z",
		  "2026-10-25T09:00:00Z" },
		{ "BUSY-UNAVAILABLE", "2026-10-25T09:00:00Z",
		  "2026-10-25T10:00:00Z" },
		{ "BUSY", "2026-10-25T10:00:00Z", "2026-10-25T10:30:00Z" },
		{ "FREE", "2026-10-25T10:30:00Z", "2026-10-25T11:30:00Z" },
		{ "BUSY-UNAVAILABLE", "2026-10-25T11:30:00Z",
		  "2026-10-25T22:00:00Z" },
	};
	guint n = 0;

	g_assert_cmpint(day, ==, calendar_local_day_start(T_OCT25_1000));
	add_slot(slots, T_OCT25_1000, 30, 2, 1, 0, SLOT_STATUS_FREE);
	add_slot(slots, T_OCT25_1000 + 30 * MINUTE, 30, 2, 1, 1,
		 SLOT_STATUS_FREE);
	add_slot(slots, T_OCT25_1000 + HOUR, 30, 2, 0, 0,
		 SLOT_STATUS_BUSY_UNAVAILABLE);
	add_slot(slots, T_OCT25_1000 + 2 * HOUR, 60, 1, 1, 0,
		 SLOT_STATUS_FREE);
	add_slot(slots, T_OCT25_1000 + 150 * MINUTE, 60, 3, 0, 0,
		 SLOT_STATUS_FREE);
	bytes = feed_render_freebusy(&scope, day, day + 25 * HOUR, slots);
	ics = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	assert_well_formed_lines(ics);
	g_assert_null(strstr(ics, "VEVENT"));
	g_assert_nonnull(strstr(ics, "BEGIN:VFREEBUSY\r\n"));
	dump = python_dump(ics);
	for (guint i = 0; i < dump->len; i++) {
		char **r = dump->pdata[i];

		if (!g_str_equal(r[0], "FREEBUSY"))
			continue;
		g_assert_cmpuint(n, <, G_N_ELEMENTS(expected));
		g_assert_cmpstr(r[1], ==, expected[n][0]);
		g_assert_cmpstr(r[2], ==, expected[n][1]);
		g_assert_cmpstr(r[3], ==, expected[n][2]);
		n++;
	}
	g_assert_cmpuint(n, ==, G_N_ELEMENTS(expected));
}

/* ---- scopes and windows --------------------------------------------- */

static void
test_scope_checks(void)
{
	g_autoptr(Region) region = load_example();
	g_autoptr(GError) error = NULL;
	gint64 from, cancelled_since, to;

	g_assert_true(feed_scope_check(region, "W-HH-LOH", NULL, &error));
	g_assert_true(feed_scope_check(region, "W-HH-LOH",
				       "home-hospital-west", &error));
	g_assert_no_error(error);
	g_assert_false(feed_scope_check(region, "W-HH-XXX", NULL, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_UNIT);
	g_clear_error(&error);
	/* A real service, but not at this unit. */
	g_assert_false(feed_scope_check(region, "W-HH-LOH", "short-therapy",
					&error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_SERVICE);
	g_assert_false(feed_scope_is_public(region, "W-HH-LOH", NULL));
	((SlotdOffering *)region_find_offering(
		 region, "W-HH-LOH/home-hospital-west"))->public_freebusy =
		TRUE;
	g_assert_true(feed_scope_is_public(region, "W-HH-LOH", NULL));
	g_assert_false(feed_scope_is_public(region, "W-HH-XXX", NULL));
	/* Windows begin at local midnights: NOW is 07:00 on 2 March. */
	feed_staff_window(region, NOW, &from, &cancelled_since);
	g_assert_cmpint(from, ==, NOW - 7 * HOUR - 31 * 24 * HOUR);
	g_assert_cmpint(cancelled_since, ==, NOW - 7 * HOUR - 14 * 24 * HOUR);
	feed_freebusy_window(region, NOW, &from, &to);
	g_assert_cmpint(from, ==, NOW - 7 * HOUR);
	/* 120 days on, across the spring change: one hour shorter. */
	g_assert_cmpint(to, ==, from + 120 * 24 * HOUR - HOUR);
}

/* ---- tokens and paths ----------------------------------------------- */

static void
test_token_generation(void)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GError) error = NULL;

	for (int i = 0; i < 1000; i++) {
		char token[FEED_TOKEN_LENGTH + 1];

		g_assert_true(feed_token_generate(token, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(strlen(token), ==, 32);
		g_assert_true(feed_token_is_well_formed(token));
		g_assert_true(g_hash_table_add(seen, g_strdup(token)));
	}
	g_assert_false(feed_token_is_well_formed(NULL));
	g_assert_false(feed_token_is_well_formed("abc"));
	/* Upper case, padding and digits outside base32 are not tokens. */
	g_assert_false(feed_token_is_well_formed(
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"));
	g_assert_false(feed_token_is_well_formed(
		"abcdefghijklmnopqrstuvwxyz23456="));
	g_assert_false(feed_token_is_well_formed(
		"abcdefghijklmnopqrstuvwxyz234561"));
	g_assert_true(feed_token_is_well_formed(
		"abcdefghijklmnopqrstuvwxyz234567"));
}

static void
test_token_hash(void)
{
	/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
	static const guint8 abc[FEED_HASH_SIZE] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
		0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	guint8 hash[FEED_HASH_SIZE], other[FEED_HASH_SIZE];

	feed_token_hash("abc", hash);
	g_assert_cmpmem(hash, sizeof(hash), abc, sizeof(abc));
	g_assert_true(feed_hash_equal(hash, abc));
	for (guint i = 0; i < FEED_HASH_SIZE; i += 31) {
		memcpy(other, abc, sizeof(other));
		other[i] ^= 0x01;
		g_assert_false(feed_hash_equal(hash, other));
	}
}

#define TOKEN "abcdefghijklmnopqrstuvwxyz234567"

/* A practitioner's feed: travel before and after, the duration, the
 * unit or the client's home area, and no client reference; its UID
 * is not the unit feed's. */
static void
test_practitioner_feed(void)
{
	g_autoptr(Region) region = load_example();
	g_autoptr(GPtrArray) bookings = booking_list();
	g_autoptr(GPtrArray) records = NULL;
	g_autofree char *ics = NULL, *where = NULL, *what = NULL;
	g_autofree char *home = NULL, *title = NULL, *onsite = NULL;
	StoreFeedBooking *visit, *other;

	visit = booking(41, "W-HH-LOH", "home-hospital-west",
			T_MAR29_1000, 45, "secret-ref-1", "booked");
	g_free(visit->modality);
	visit->modality = g_strdup("home");
	visit->municipality = g_strdup("444");
	visit->use_start = visit->start - 25 * MINUTE;
	visit->use_end = visit->end + 10 * MINUTE;
	g_ptr_array_add(bookings, visit);
	other = booking(42, "W-HH-ESP", "home-hospital-west",
			T_OCT25_1000, 30, "secret-ref-2", "cancelled");
	other->use_start = other->start;
	other->use_end = other->end;
	g_ptr_array_add(bookings, other);
	ics = render_practitioner(region, "hh-loh-d1a", bookings);
	g_assert_null(strstr(ics, "secret-ref"));
	records = python_dump(ics);
	g_assert_cmpuint(count_records(records, "EVENT"), ==, 2);
	title = record_field(records, "CAL", "X-WR-CALNAME", 2);
	g_assert_true(g_str_has_prefix(title, "hh-loh-d1a – "));
	home = record_field(records, "EVENT", "b-41-hh-loh-d1a@nyland.slotd",
			    7);
	g_assert_cmpstr(home, ==, "Asiakkaan koti, Lohja / Lojo");
	what = record_field(records, "DETAIL", "b-41-hh-loh-d1a@nyland.slotd",
			    3);
	g_assert_nonnull(strstr(what, "\nKesto: 45 min\nMatka ennen: 25 min"
				      "\nMatka jälkeen: 10 min"));
	onsite = record_field(records, "EVENT",
			      "b-42-hh-loh-d1a@nyland.slotd", 7);
	g_assert_true(g_str_has_prefix(onsite, "Kotisairaala"));
	g_assert_null(strstr(onsite, "koti,"));
	where = record_field(records, "EVENT", "b-42-hh-loh-d1a@nyland.slotd",
			     4);
	g_assert_cmpstr(where, ==, "CANCELLED");
	g_free(what);
	what = record_field(records, "DETAIL", "b-42-hh-loh-d1a@nyland.slotd",
			    3);
	g_assert_null(strstr(what, "Matka"));
}

static void
test_path_parse(void)
{
	static const struct {
		const char *path;
		gboolean ok;
		FeedKind kind;
		gboolean has_token;
		const char *unit, *service;
	} cases[] = {
		{ "/feeds/" TOKEN "/W-HH-LOH.ics", TRUE, FEED_KIND_STAFF,
		  TRUE, "W-HH-LOH", "" },
		{ "/feeds/" TOKEN "/W-HH-LOH/home-hospital-west.ics", TRUE,
		  FEED_KIND_STAFF, TRUE, "W-HH-LOH", "home-hospital-west" },
		{ "/freebusy/" TOKEN "/E-TEL.ics", TRUE, FEED_KIND_FREEBUSY,
		  TRUE, "E-TEL", "" },
		{ "/freebusy/public/E-TEL/short-therapy.ics", TRUE,
		  FEED_KIND_FREEBUSY, FALSE, "E-TEL", "short-therapy" },
		{ "/feeds/" TOKEN "/a.b.ics", TRUE, FEED_KIND_STAFF, TRUE,
		  "a.b", "" },
		{ "/feeds/practitioner/" TOKEN "/hh-loh-d1a.ics", TRUE,
		  FEED_KIND_PRACTITIONER, TRUE, "hh-loh-d1a", "" },
		{ "/feeds/practitioner/" TOKEN "/W-HH-LOH/x.ics", FALSE },
		{ "/feeds/practitioner/public/hh-loh-d1a.ics", FALSE },
		{ "/feeds/practitioner/" TOKEN "/../x.ics", FALSE },
		{ "/feeds/public/E-TEL.ics", FALSE },
		{ "/feeds/" TOKEN "/../E-TEL.ics", FALSE },
		{ "/feeds/" TOKEN "/..ics", FALSE },
		{ "/feeds/" TOKEN "/./E-TEL.ics", FALSE },
		{ "/feeds/" TOKEN "//E-TEL.ics", FALSE },
		{ "/feeds/" TOKEN "/E-TEL.ics/", FALSE },
		{ "/feeds/" TOKEN "/E-TEL", FALSE },
		{ "/feeds/" TOKEN "/.ics", FALSE },
		{ "/feeds/" TOKEN "/E%2DTEL.ics", FALSE },
		{ "/feeds/" TOKEN "/a/b/c.ics", FALSE },
		{ "/feeds/" TOKEN ".ics", FALSE },
		{ "/feeds/" TOKEN "/", FALSE },
		{ "/feeds/", FALSE },
		{ "/feeds", FALSE },
		{ "/", FALSE },
		{ "", FALSE },
		{ "/FEEDS/" TOKEN "/E-TEL.ics", FALSE },
		{ "/feeds/" TOKEN "x/E-TEL.ics", FALSE },
		{ "/feeds/" TOKEN "/E TEL.ics", FALSE },
		{ "/feeds/" TOKEN "/Ä.ics", FALSE },
		{ "//feeds/" TOKEN "/E-TEL.ics", FALSE },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		FeedPath path;
		gboolean ok = feed_path_parse(cases[i].path,
					      strlen(cases[i].path), &path);

		if (ok != cases[i].ok)
			g_error("%s: expected %s", cases[i].path,
				cases[i].ok ? "a feed" : "no feed");
		if (!ok)
			continue;
		g_assert_cmpint(path.kind, ==, cases[i].kind);
		g_assert_cmpint(path.has_token, ==, cases[i].has_token);
		g_assert_cmpstr(path.token, ==, cases[i].has_token ? TOKEN : "");
		g_assert_cmpstr(path.unit, ==, cases[i].unit);
		g_assert_cmpstr(path.service, ==, cases[i].service);
	}
}

static void
test_path_limits_and_format(void)
{
	g_autofree char *unit64 = g_strnfill(64, 'u');
	g_autofree char *unit65 = g_strnfill(65, 'u');
	g_autofree char *ok = g_strconcat("/feeds/" TOKEN "/", unit64, ".ics",
					  NULL);
	g_autofree char *too_long = g_strconcat("/feeds/" TOKEN "/", unit65,
						".ics", NULL);
	g_autofree char *formatted = NULL;
	FeedPath path;

	g_assert_true(feed_path_parse(ok, strlen(ok), &path));
	g_assert_false(feed_path_parse(too_long, strlen(too_long), &path));
	/* Only `length` bytes count: no reading past them. */
	g_assert_false(feed_path_parse(ok, strlen(ok) - 1, &path));
	g_assert_false(feed_path_parse(ok, FEED_PATH_MAX + 1, &path));
	formatted = feed_path_format(FEED_KIND_STAFF, TOKEN, "W-HH-LOH", "");
	g_assert_cmpstr(formatted, ==, "/feeds/" TOKEN "/W-HH-LOH.ics");
	g_free(formatted);
	formatted = feed_path_format(FEED_KIND_FREEBUSY, NULL, "E-TEL",
				     "short-therapy");
	g_assert_cmpstr(formatted, ==, "/freebusy/public/E-TEL/"
				       "short-therapy.ics");
	g_assert_true(feed_path_parse(formatted, strlen(formatted), &path));
}

/* ---- the store ------------------------------------------------------ */

typedef struct {
	char *dir;
	char *path;
	Store *store;
} StoreFixture;

static void
store_fixture_set_up(StoreFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("feed-store-XXXXXX", &error);
	g_assert_no_error(error);
	f->path = g_build_filename(f->dir, "slotd.db", NULL);
	f->store = store_open(f->path, &error);
	g_assert_no_error(error);
}

static void
store_fixture_tear_down(StoreFixture *f, gconstpointer data)
{
	g_autofree char *wal = g_strconcat(f->path, "-wal", NULL);
	g_autofree char *shm = g_strconcat(f->path, "-shm", NULL);

	g_clear_pointer(&f->store, store_close);
	g_unlink(f->path);
	g_unlink(wal);
	g_unlink(shm);
	g_rmdir(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

static gint64
raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	gint64 value;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &q, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(q), ==, SQLITE_ROW);
	value = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return value;
}

static void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==,
			SQLITE_OK);
	sqlite3_close(db);
}

/* A database of schema 1 gains the token table when opened. */
static void
test_store_migrates_to_v2(StoreFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(raw_int(f->path, "PRAGMA user_version"), ==, 9);
	g_clear_pointer(&f->store, store_close);
	raw_exec(f->path, schema_undo_v9);
	raw_exec(f->path, schema_undo_v8);
	raw_exec(f->path, schema_undo_v7);
	raw_exec(f->path, schema_undo_v6);
	raw_exec(f->path, schema_undo_v5);
	raw_exec(f->path, schema_undo_v4);
	raw_exec(f->path, schema_undo_v3);
	raw_exec(f->path, "DROP TABLE feed_token; PRAGMA user_version = 1;");
	f->store = store_open(f->path, &error);
	g_assert_no_error(error);
	g_assert_cmpint(raw_int(f->path, "PRAGMA user_version"), ==, 9);
	g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM sqlite_schema"
				" WHERE name = 'feed_token'"), ==, 1);
}

static void
test_store_token_lifecycle(StoreFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *unit = NULL, *service = NULL;
	char token[FEED_TOKEN_LENGTH + 1];
	guint8 hash[FEED_HASH_SIZE], stored[FEED_HASH_SIZE];
	gboolean found = TRUE;

	g_assert_true(feed_token_generate(token, &error));
	feed_token_hash(token, hash);
	g_assert_true(store_feed_token_lookup(f->store, hash, stored, &unit,
					      &service, &found, &error));
	g_assert_false(found);
	g_assert_true(store_feed_token_add(f->store, hash, "W-HH-LOH", "",
					   NOW, 1000, &error));
	g_assert_no_error(error);
	g_assert_true(store_feed_token_lookup(f->store, hash, stored, &unit,
					      &service, &found, &error));
	g_assert_true(found);
	g_assert_true(feed_hash_equal(stored, hash));
	g_assert_cmpstr(unit, ==, "W-HH-LOH");
	g_assert_cmpstr(service, ==, "");
	g_clear_pointer(&unit, g_free);
	g_clear_pointer(&service, g_free);
	/* The token itself is nowhere in the file. */
	g_assert_cmpint(raw_int(f->path, "SELECT count(*) FROM feed_token"
				" WHERE instr(hash, 'abc') = 0"), ==, 1);
	g_assert_true(store_feed_token_revoke(f->store, hash, NOW + 1, &unit,
					      &service, &error));
	g_assert_cmpstr(unit, ==, "W-HH-LOH");
	g_assert_true(store_feed_token_lookup(f->store, hash, stored, &unit,
					      &service, &found, &error));
	g_assert_false(found);
	g_assert_false(store_feed_token_revoke(f->store, hash, NOW + 2, NULL,
					       NULL, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_TOKEN);
	g_assert_cmpint(raw_int(f->path, "SELECT revoked FROM feed_token"),
			==, NOW + 1);
}

static gint64
store_booking(StoreFixture *f, gint64 slot, gint64 start, const char *status,
	      gint64 modified)
{
	g_autoptr(GError) error = NULL;
	StoreBooking b = { 0 };

	b.slot = slot;
	b.offering = "E-TEL/short-therapy";
	b.unit = "E-TEL";
	b.service = "short-therapy";
	b.start = start;
	b.end = start + HOUR;
	b.client_ref = "c-1";
	b.status = (char *)status;
	b.seats = 1;
	b.created = modified;
	b.modified = modified;
	g_assert_true(store_insert_booking(f->store, &b, &error));
	g_assert_no_error(error);
	return b.id;
}

/* Standing bookings from `from` on; cancelled ones only while recent. */
static void
test_store_feed_window(StoreFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) found = booking_list();
	gint64 slot, past, kept, recent, old, later;

	g_assert_true(store_upsert_slot(f->store, "E-TEL/short-therapy",
					"slot", NOW, NOW + HOUR, 5, 1, &slot,
					&error));
	past = store_booking(f, slot, NOW - 40 * 24 * HOUR, "booked", NOW);
	kept = store_booking(f, slot, NOW + HOUR, "booked", NOW - 90 * 86400);
	recent = store_booking(f, slot, NOW + 2 * HOUR, "cancelled", NOW);
	old = store_booking(f, slot, NOW + 3 * HOUR, "entered-in-error",
			    NOW - 20 * 86400);
	later = store_booking(f, slot, NOW + 4 * HOUR, "noshow", NOW);
	g_assert_true(store_feed_bookings(f->store, "E-TEL", NULL,
					  NOW - 31 * 86400, NOW - 14 * 86400,
					  found, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(found->len, ==, 3);
	g_assert_cmpint(((StoreFeedBooking *)found->pdata[0])->id, ==, kept);
	g_assert_cmpint(((StoreFeedBooking *)found->pdata[1])->id, ==, recent);
	g_assert_cmpint(((StoreFeedBooking *)found->pdata[2])->id, ==, later);
	g_assert_null(((StoreFeedBooking *)found->pdata[0])->municipality);
	g_assert_cmpint(past + old, >, 0);
	g_ptr_array_set_size(found, 0);
	g_assert_true(store_feed_bookings(f->store, "E-TEL", "other", 0, 0,
					  found, &error));
	g_assert_cmpuint(found->len, ==, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	calendar_init();
	g_test_add_func("/feed/staff/calendar-properties",
			test_calendar_properties);
	g_test_add_func("/feed/staff/events-round-trip-on-dst-days",
			test_events_round_trip);
	g_test_add_func("/feed/staff/hostile-text-round-trips",
			test_hostile_text_round_trips);
	g_test_add_func("/feed/staff/folds-at-75-octets",
			test_folding_at_75_octets);
	g_test_add_func("/feed/staff/no-fold-between-cr-and-lf",
			test_no_fold_between_cr_and_lf);
	g_test_add_func("/feed/staff/ten-thousand-events",
			test_ten_thousand_events);
	g_test_add_func("/feed/staff/direct-writer-matches-libical",
			test_direct_writer_matches_libical);
	g_test_add_func("/feed/freebusy/periods", test_freebusy_periods);
	g_test_add_func("/feed/scope/checks-and-windows", test_scope_checks);
	g_test_add_func("/feed/token/generation", test_token_generation);
	g_test_add_func("/feed/token/hash-and-compare", test_token_hash);
	g_test_add_func("/feed/path/parse", test_path_parse);
	g_test_add_func("/feed/practitioner/travel-and-no-client",
			test_practitioner_feed);
	g_test_add_func("/feed/path/limits-and-format",
			test_path_limits_and_format);
	g_test_add("/feed/store/migrates-to-v2", StoreFixture, NULL,
		   store_fixture_set_up, test_store_migrates_to_v2,
		   store_fixture_tear_down);
	g_test_add("/feed/store/token-lifecycle", StoreFixture, NULL,
		   store_fixture_set_up, test_store_token_lifecycle,
		   store_fixture_tear_down);
	g_test_add("/feed/store/bookings-window", StoreFixture, NULL,
		   store_fixture_set_up, test_store_feed_window,
		   store_fixture_tear_down);
	return g_test_run();
}
