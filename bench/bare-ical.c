/* slotd-bench-ical: the bare baseline of the cold staff feed, as a
 * fresh process. It reads what slotd's staff feed of a unit reads and
 * writes the same text with libical, with nothing of slotd around it:
 *
 *   - the region's configuration files (slotd.conf, its includes and
 *     the service directory) for the region id, the unit's and the
 *     services' titles, the feed's refresh interval and how long
 *     cancelled bookings stay in it;
 *   - the unit's booking rows from slotd's database, opened read-only:
 *     the columns daemon/store-feed.c reads, from 31 days back (local
 *     midnight), cancelled ones only when changed within
 *     cancelled-feed-days, by start and id;
 *   - one VCALENDAR (the properties and the trimmed Europe/Helsinki
 *     VTIMEZONE of daemon/feed.c) with a VEVENT per booking: UID,
 *     DTSTAMP, DTSTART/DTEND in Helsinki wall-clock time with TZID
 *     (UTC where the wall clock is ambiguous), SUMMARY, LOCATION,
 *     STATUS, SEQUENCE, CREATED, LAST-MODIFIED, DESCRIPTION and
 *     CATEGORIES, built as one component tree and serialised once;
 *   - the text on stdout.
 *
 * The benchmark spawns it and times the child from the spawn to the last
 * byte of its text read from a pipe (feed-probe.c): exec, dynamic
 * linking, libical's zone and the write are all counted, as the fresh
 * process the issue names. It closes stdout as soon as the text is
 * written, so that what it frees and its exit are not. With --timing it
 * also says on stderr how long it took from main() to the serialised
 * text.
 *
 * The rescheduled-away bookings slotd's query adds (a UNION over the
 * audit log) are left out: the benchmark's database has none.
 *
 * --synthetic N is the older, in-memory baseline: N synthetic events
 * with the same properties, built and serialised, timed inside, no
 * database or configuration; it prints "synthetic-ms MS BYTES". */
#include <glib.h>
#include <libical/ical.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slotd-config.h"

#define TZID "Europe/Helsinki"
#define PRODID "-//slotd//slotd " SLOTD_VERSION "//EN"
#define PAST_DAYS 31
/* Offsets remembered by UTC hour: Helsinki's change on full hours. */
#define OFFSETS 64

typedef struct {
	char *db;
	char *region;		/* directory of slotd.conf */
	char *unit;
	int synthetic;
	gboolean timing;
} Options;

typedef struct {
	GPtrArray *files;	/* GKeyFile *, every configuration file */
	char *region_id;
	guint refresh_minutes;
	guint cancelled_days;
	icaltimezone *zone;
	struct {
		gint64 hour;	/* + 1; 0: empty */
		int offset;
	} offsets[OFFSETS];
	/* the unit's words */
	gboolean swedish_first;
	char *location;
	GHashTable *services;	/* id -> title */
	GHashTable *places;	/* municipality code -> name */
} Bare;

/* ---- the configuration ---------------------------------------------- */

static gboolean
load_file(Bare *b, const char *path, GError **error)
{
	GKeyFile *file = g_key_file_new();

	if (!g_key_file_load_from_file(file, path, G_KEY_FILE_NONE, error)) {
		g_key_file_unref(file);
		return FALSE;
	}
	g_ptr_array_add(b->files, file);
	return TRUE;
}

/* slotd.conf, the files it includes, and every .conf of its service
 * directory. */
static gboolean
load_region(Bare *b, const char *dir, GError **error)
{
	g_autofree char *main_path = g_build_filename(dir, "slotd.conf", NULL);
	g_auto(GStrv) includes = NULL;
	g_autofree char *service_dir = NULL;
	g_autoptr(GDir) services = NULL;
	GKeyFile *conf;
	const char *name;

	if (!load_file(b, main_path, error))
		return FALSE;
	conf = b->files->pdata[0];
	b->region_id = g_key_file_get_string(conf, "region", "id", NULL);
	b->refresh_minutes = g_key_file_has_key(conf, "daemon",
						"feed-refresh-minutes", NULL)
		? (guint)g_key_file_get_integer(conf, "daemon",
						"feed-refresh-minutes", NULL)
		: 15;
	b->cancelled_days = g_key_file_has_key(conf, "daemon",
					       "cancelled-feed-days", NULL)
		? (guint)g_key_file_get_integer(conf, "daemon",
						"cancelled-feed-days", NULL)
		: 14;
	includes = g_key_file_get_string_list(conf, "daemon", "include", NULL,
					      NULL);
	for (guint i = 0; includes && includes[i]; i++) {
		g_autofree char *path = g_build_filename(dir, includes[i],
							 NULL);

		if (!load_file(b, path, error))
			return FALSE;
	}
	service_dir = g_key_file_get_string(conf, "daemon", "service-dir",
					    NULL);
	if (!service_dir)
		return TRUE;
	if (!g_path_is_absolute(service_dir)) {
		char *path = g_build_filename(dir, service_dir, NULL);

		g_free(service_dir);
		service_dir = path;
	}
	services = g_dir_open(service_dir, 0, error);
	if (!services)
		return FALSE;
	while ((name = g_dir_read_name(services))) {
		g_autofree char *path = NULL;

		if (!g_str_has_suffix(name, ".conf"))
			continue;
		path = g_build_filename(service_dir, name, NULL);
		if (!load_file(b, path, error))
			return FALSE;
	}
	return TRUE;
}

static char *
config_string(Bare *b, const char *group, const char *key)
{
	for (guint i = 0; i < b->files->len; i++) {
		char *value = g_key_file_get_string(b->files->pdata[i], group,
						    key, NULL);

		if (value)
			return value;
	}
	return NULL;
}

/* "first / second", the stronger language first; one name when the two
 * are the same or one is missing. */
static char *
both_names(Bare *b, const char *group)
{
	g_autofree char *fi = config_string(b, group, "title-fi");
	g_autofree char *sv = config_string(b, group, "title-sv");
	const char *first = b->swedish_first ? sv : fi;
	const char *second = b->swedish_first ? fi : sv;

	if (!first || !*first)
		return g_strdup(second ? second : "");
	if (!second || !*second || g_str_equal(first, second))
		return g_strdup(first);
	return g_strconcat(first, " / ", second, NULL);
}

static gboolean
unit_words(Bare *b, const char *unit, GError **error)
{
	g_autofree char *group = g_strconcat("unit ", unit, NULL);
	g_autofree char *languages = config_string(b, group, "languages");

	if (!config_string(b, group, "title-fi") &&
	    !config_string(b, group, "title-sv")) {
		g_set_error(error, G_KEY_FILE_ERROR,
			    G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
			    "no unit %s in the region", unit);
		return FALSE;
	}
	b->swedish_first = languages && g_str_has_prefix(languages, "sv");
	b->location = both_names(b, group);
	return TRUE;
}

static const char *
service_title(Bare *b, const char *service)
{
	char *title = g_hash_table_lookup(b->services, service);

	if (!title) {
		g_autofree char *group = g_strconcat("service ", service,
						     NULL);

		title = both_names(b, group);
		if (!*title) {
			g_free(title);
			title = g_strdup(service);
		}
		g_hash_table_insert(b->services, g_strdup(service), title);
	}
	return title;
}

/* A home visit's place: the municipality's name, nothing more. */
static const char *
place(Bare *b, const char *modality, const char *municipality)
{
	g_autofree char *group = NULL;
	g_autofree char *fi = NULL, *sv = NULL;
	char *name;

	if (g_strcmp0(modality, "home") != 0 || !municipality)
		return b->location;
	name = g_hash_table_lookup(b->places, municipality);
	if (name)
		return name;
	group = g_strconcat("municipality ", municipality, NULL);
	fi = config_string(b, group, "name-fi");
	sv = config_string(b, group, "name-sv");
	if (!fi && !sv)
		return b->location;
	if (!sv || g_str_equal(fi, sv))
		name = g_strdup(fi ? fi : sv);
	else if (!fi)
		name = g_strdup(sv);
	else
		name = b->swedish_first ? g_strconcat(sv, " / ", fi, NULL)
					: g_strconcat(fi, " / ", sv, NULL);
	g_hash_table_insert(b->places, g_strdup(municipality), name);
	return name;
}

/* ---- words ---------------------------------------------------------- */

typedef struct {
	const char *id;
	const char *fi, *sv;
} Word;

static const Word modalities[] = {
	{ "onsite", "Vastaanotto", "Mottagning" },
	{ "home", "Kotikäynti", "Hembesök" },
	{ "phone", "Puhelu", "Telefonsamtal" },
	{ "video", "Videopuhelu", "Videosamtal" },
	{ NULL, "Käynti", "Besök" },
};

static const Word urgencies[] = {
	{ "routine", "kiireetön", "icke brådskande" },
	{ "urgent", "kiireellinen", "brådskande" },
	{ "immediate", "välitön", "omedelbar" },
	{ NULL, "kiireetön", "icke brådskande" },
};

static const Word languages[] = {
	{ "fi", "suomi", "finska" },
	{ "sv", "ruotsi", "svenska" },
	{ "en", "englanti", "engelska" },
	{ NULL, "ei ilmoitettu", "inte angivet" },
};

static const char *
word(const Bare *b, const Word *words, const char *id)
{
	while (words->id && g_strcmp0(words->id, id) != 0)
		words++;
	return b->swedish_first ? words->sv : words->fi;
}

/* ---- times ---------------------------------------------------------- */

static struct icaltimetype
utc_time(gint64 t)
{
	return icaltime_from_timet_with_zone((time_t)t, 0,
					     icaltimezone_get_utc_timezone());
}

static int
offset_at(Bare *b, gint64 utc)
{
	gint64 hour = utc / 3600;
	guint slot = (guint)(hour % OFFSETS);

	if (b->offsets[slot].hour != hour + 1) {
		struct icaltimetype t = utc_time(hour * 3600);
		int daylight = 0;

		b->offsets[slot].hour = hour + 1;
		b->offsets[slot].offset =
			icaltimezone_get_utc_offset_of_utc_time(b->zone, &t,
								&daylight);
	}
	return b->offsets[slot].offset;
}

/* The wall-clock reading repeats when summer time ends. */
static gboolean
ambiguous(Bare *b, gint64 utc)
{
	int here = offset_at(b, utc);

	return here > offset_at(b, utc + 3600) ||
	       offset_at(b, utc - 3600) > here;
}

static icalproperty *
wall_clock(Bare *b, icalproperty *(*make)(struct icaltimetype), gint64 utc)
{
	icalproperty *p;

	if (ambiguous(b, utc))
		return make(utc_time(utc));
	p = make(icaltime_from_timet_with_zone(
		(time_t)(utc + offset_at(b, utc)), 0, NULL));
	icalproperty_add_parameter(p, icalparameter_new_tzid(TZID));
	return p;
}

/* Local midnight of the day `days` before today's. */
static gint64
midnight_before(Bare *b, gint64 now, guint days)
{
	gint64 local = now + offset_at(b, now);
	gint64 day = local - ((local % 86400) + 86400) % 86400 -
		     (gint64)days * 86400;

	return day - offset_at(b, day);
}

/* ---- the calendar --------------------------------------------------- */

static icalproperty *
x_property(const char *name, const char *value)
{
	icalproperty *p = icalproperty_new_x(value);

	icalproperty_set_x_name(p, name);
	return p;
}

/* Helsinki's VTIMEZONE under its plain TZID, from 2000 on. */
static icalcomponent *
helsinki(Bare *b)
{
	icalcomponent *vtz = icalcomponent_new_clone(
		icaltimezone_get_component(b->zone));
	struct icaltimetype from = icaltime_null_time();
	icalproperty *p;

	icalproperty_set_tzid(icalcomponent_get_first_property(
				      vtz, ICAL_TZID_PROPERTY),
			      TZID);
	while ((p = icalcomponent_get_first_property(vtz, ICAL_X_PROPERTY))) {
		icalcomponent_remove_property(vtz, p);
		icalproperty_free(p);
	}
	from.year = 2000;
	from.month = 1;
	from.day = 1;
	icaltimezone_truncate_vtimezone(vtz, from, icaltime_null_time(), 1);
	return vtz;
}

static icalcomponent *
new_calendar(Bare *b)
{
	icalcomponent *calendar = icalcomponent_new_vcalendar();
	g_autofree char *ttl = g_strdup_printf("PT%uM", b->refresh_minutes);

	icalcomponent_add_property(calendar, icalproperty_new_prodid(PRODID));
	icalcomponent_add_property(calendar, icalproperty_new_version("2.0"));
	icalcomponent_add_property(calendar,
				   icalproperty_new_calscale("GREGORIAN"));
	icalcomponent_add_property(
		calendar, icalproperty_new_method(ICAL_METHOD_PUBLISH));
	icalcomponent_add_property(calendar,
				   icalproperty_new_name(b->location));
	icalcomponent_add_property(calendar,
				   x_property("X-WR-CALNAME", b->location));
	icalcomponent_add_property(calendar, x_property("X-WR-TIMEZONE", TZID));
	icalcomponent_add_property(
		calendar, icalproperty_new_refreshinterval(
				  icaldurationtype_from_int(
					  (int)b->refresh_minutes * 60)));
	icalcomponent_add_property(calendar,
				   x_property("X-PUBLISHED-TTL", ttl));
	icalcomponent_add_component(calendar, helsinki(b));
	return calendar;
}

enum {
	R_ID, R_SERVICE, R_START, R_END, R_CLIENT_REF, R_STATUS,
	R_MUNICIPALITY, R_MODALITY, R_SEQUENCE, R_CREATED, R_MODIFIED,
	R_LANGUAGE, R_URGENCY, R_SERIES_INDEX, R_SERIES_LENGTH,
};

static const char rows_sql[] =
	"SELECT id, service, start, \"end\", client_ref, status, municipality,"
	" modality, sequence, created, modified, language, urgency,"
	" series_index, series_length FROM booking"
	" WHERE unit = ?1 AND start >= ?2"
	" AND (status NOT IN ('cancelled', 'entered-in-error')"
	"  OR modified >= ?3)"
	" ORDER BY start, id";

static const char *
text(sqlite3_stmt *q, int column)
{
	return (const char *)sqlite3_column_text(q, column);
}

static enum icalproperty_status
event_status(const char *status)
{
	if (g_strcmp0(status, "cancelled") == 0 ||
	    g_strcmp0(status, "entered-in-error") == 0)
		return ICAL_STATUS_CANCELLED;
	if (g_strcmp0(status, "proposed") == 0 ||
	    g_strcmp0(status, "pending") == 0 ||
	    g_strcmp0(status, "waitlist") == 0)
		return ICAL_STATUS_TENTATIVE;
	return ICAL_STATUS_CONFIRMED;
}

/* The VEVENT of the row `q` is on. */
static icalcomponent *
row_event(Bare *b, sqlite3_stmt *q)
{
	icalcomponent *e = icalcomponent_new_vevent();
	const char *ref = text(q, R_CLIENT_REF);
	const char *title = service_title(b, text(q, R_SERVICE));
	const char *modality = text(q, R_MODALITY);
	gint64 length = sqlite3_column_int64(q, R_SERIES_LENGTH);
	g_autofree char *summary = NULL;
	g_autoptr(GString) description = g_string_new(NULL);
	char uid[128];

	g_snprintf(uid, sizeof(uid), "b-%lld@%s.slotd",
		   (long long)sqlite3_column_int64(q, R_ID), b->region_id);
	summary = ref && *ref ? g_strconcat(title, " – ref ", ref, NULL)
			      : g_strconcat(title, " – anonymous", NULL);
	g_string_append_printf(description, "%s: %s\n%s: %s\n%s: %s",
			       b->swedish_first ? "Kontaktsätt"
						: "Asiointitapa",
			       word(b, modalities, modality),
			       b->swedish_first ? "Brådska" : "Kiireellisyys",
			       word(b, urgencies, text(q, R_URGENCY)),
			       b->swedish_first ? "Servicespråk"
						: "Palvelukieli",
			       word(b, languages, text(q, R_LANGUAGE)));
	if (length > 1)
		g_string_append_printf(
			description,
			b->swedish_first ? "\nSerie: besök %lld av %lld"
					 : "\nSarja: käynti %lld/%lld",
			(long long)sqlite3_column_int64(q, R_SERIES_INDEX) + 1,
			(long long)length);
	icalcomponent_add_property(e, icalproperty_new_uid(uid));
	icalcomponent_add_property(
		e, icalproperty_new_dtstamp(
			   utc_time(sqlite3_column_int64(q, R_MODIFIED))));
	icalcomponent_add_property(
		e, wall_clock(b, icalproperty_new_dtstart,
			      sqlite3_column_int64(q, R_START)));
	icalcomponent_add_property(
		e, wall_clock(b, icalproperty_new_dtend,
			      sqlite3_column_int64(q, R_END)));
	icalcomponent_add_property(e, icalproperty_new_summary(summary));
	icalcomponent_add_property(
		e, icalproperty_new_location(
			   place(b, modality, text(q, R_MUNICIPALITY))));
	icalcomponent_add_property(
		e, icalproperty_new_status(event_status(text(q, R_STATUS))));
	icalcomponent_add_property(
		e, icalproperty_new_sequence(
			   (int)CLAMP(sqlite3_column_int64(q, R_SEQUENCE), 0,
				      G_MAXINT)));
	icalcomponent_add_property(
		e, icalproperty_new_created(
			   utc_time(sqlite3_column_int64(q, R_CREATED))));
	icalcomponent_add_property(
		e, icalproperty_new_lastmodified(
			   utc_time(sqlite3_column_int64(q, R_MODIFIED))));
	icalcomponent_add_property(
		e, icalproperty_new_description(description->str));
	icalcomponent_add_property(
		e, icalproperty_new_categories(word(b, modalities, modality)));
	return e;
}

/* The unit's rows into `calendar`; how many. */
static gboolean
add_events(Bare *b, const Options *o, icalcomponent *calendar,
	   guint *ret_count, GError **error)
{
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = SQLITE_ERROR;

	*ret_count = 0;
	if (sqlite3_open_v2(o->db, &db, SQLITE_OPEN_READONLY, NULL) ==
		    SQLITE_OK &&
	    sqlite3_prepare_v2(db, rows_sql, -1, &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, o->unit, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, midnight_before(b, now, PAST_DAYS));
		sqlite3_bind_int64(q, 3, midnight_before(b, now,
							 b->cancelled_days));
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			icalcomponent_add_component(calendar, row_event(b, q));
			(*ret_count)++;
		}
	}
	if (rc != SQLITE_DONE)
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
			    "reading %s: %s", o->db, sqlite3_errmsg(db));
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc == SQLITE_DONE;
}

/* The text, and stdout closed: the reader has it all. */
static gboolean
write_all(const char *data, gsize length, GError **error)
{
	if (fwrite(data, 1, length, stdout) == length && fclose(stdout) == 0)
		return TRUE;
	g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
			    "writing the calendar");
	return FALSE;
}

static gboolean
staff_feed(const Options *o, gint64 began, GError **error)
{
	Bare b = { g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_key_file_unref) };
	icalcomponent *calendar = NULL;
	char *out = NULL;
	guint count = 0;
	gboolean ok;

	b.services = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   g_free);
	b.places = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					 g_free);
	icalerror_set_errors_are_fatal(0);
	b.zone = icaltimezone_get_builtin_timezone(TZID);
	ok = b.zone && load_region(&b, o->region, error) &&
	     unit_words(&b, o->unit, error);
	if (ok) {
		calendar = new_calendar(&b);
		ok = add_events(&b, o, calendar, &count, error);
	}
	if (ok) {
		out = icalcomponent_as_ical_string_r(calendar);
		if (o->timing)
			fprintf(stderr, "inside-ms %.3f events %u\n",
				(g_get_monotonic_time() - began) / 1000.0,
				count);
		ok = write_all(out, strlen(out), error);
	}
	if (!b.zone)
		g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
				    "libical has no " TZID);
	free(out);
	if (calendar)
		icalcomponent_free(calendar);
	g_ptr_array_unref(b.files);
	g_hash_table_unref(b.services);
	g_hash_table_unref(b.places);
	g_free(b.region_id);
	g_free(b.location);
	return ok;
}

/* ---- the synthetic events ------------------------------------------- */

/* Fixed times and a fixed offset: building and serialising only. */
static icalcomponent *
synthetic_event(guint i, struct icaltimetype stamp)
{
	time_t start = 1780000000 + (time_t)(i / 4) * 1800;
	char uid[64], summary[96];
	icalcomponent *e = icalcomponent_new_vevent();
	icalproperty *from = icalproperty_new_dtstart(
		icaltime_from_timet_with_zone(start + 7200, 0, NULL));
	icalproperty *to = icalproperty_new_dtend(
		icaltime_from_timet_with_zone(start + 9000, 0, NULL));

	g_snprintf(uid, sizeof(uid), "b-%u@slotd.bench", 500000 + i);
	g_snprintf(summary, sizeof(summary),
		   "Kotisairaala / Hemsjukhuset: c%08x", 0x51a7u * (i + 1));
	icalproperty_add_parameter(from, icalparameter_new_tzid(TZID));
	icalproperty_add_parameter(to, icalparameter_new_tzid(TZID));
	icalcomponent_add_property(e, icalproperty_new_uid(uid));
	icalcomponent_add_property(e, icalproperty_new_dtstamp(stamp));
	icalcomponent_add_property(e, from);
	icalcomponent_add_property(e, to);
	icalcomponent_add_property(e, icalproperty_new_summary(summary));
	icalcomponent_add_property(e,
				   icalproperty_new_location("Espoo / Esbo"));
	icalcomponent_add_property(
		e, icalproperty_new_status(ICAL_STATUS_CONFIRMED));
	icalcomponent_add_property(e, icalproperty_new_sequence(1));
	icalcomponent_add_property(e, icalproperty_new_created(stamp));
	icalcomponent_add_property(e, icalproperty_new_lastmodified(stamp));
	return e;
}

static void
synthetic(guint events)
{
	struct icaltimetype stamp = utc_time(1779000000);
	gint64 t0 = g_get_monotonic_time();
	icalcomponent *calendar = icalcomponent_new_vcalendar();
	char *out;

	icalcomponent_add_property(calendar, icalproperty_new_prodid(PRODID));
	icalcomponent_add_property(calendar, icalproperty_new_version("2.0"));
	icalcomponent_add_property(
		calendar, icalproperty_new_method(ICAL_METHOD_PUBLISH));
	for (guint i = 0; i < events; i++)
		icalcomponent_add_component(calendar,
					    synthetic_event(i, stamp));
	out = icalcomponent_as_ical_string_r(calendar);
	printf("synthetic-ms %.3f %zu\n",
	       (g_get_monotonic_time() - t0) / 1000.0, strlen(out));
	free(out);
	icalcomponent_free(calendar);
}

int
main(int argc, char **argv)
{
	gint64 began = g_get_monotonic_time();
	Options o = { NULL };
	GOptionEntry entries[] = {
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &o.db,
		  "slotd's database (opened read-only)", "PATH" },
		{ "region", 0, 0, G_OPTION_ARG_FILENAME, &o.region,
		  "Directory of the region's slotd.conf", "DIR" },
		{ "unit", 0, 0, G_OPTION_ARG_STRING, &o.unit,
		  "Unit whose staff feed is written", "ID" },
		{ "timing", 0, 0, G_OPTION_ARG_NONE, &o.timing,
		  "Say on stderr how long main() took to the text", NULL },
		{ "synthetic", 0, 0, G_OPTION_ARG_INT, &o.synthetic,
		  "Only time N synthetic events in memory", "N" },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("- the bare staff feed with libical");
	g_autoptr(GError) error = NULL;
	gboolean ok;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) ||
	    (o.synthetic <= 0 && (!o.db || !o.region || !o.unit))) {
		fprintf(stderr, "slotd-bench-ical: %s\n",
			error ? error->message
			      : "--db, --region and --unit are needed");
		return 2;
	}
	if (o.synthetic > 0) {
		synthetic((guint)o.synthetic);
		ok = TRUE;
	} else {
		ok = staff_feed(&o, began, &error);
		if (!ok)
			fprintf(stderr, "slotd-bench-ical: %s\n",
				error->message);
	}
	/* A baseline process ends here; what libical built for it goes
	 * with the process. _exit: no exit handlers, so a sanitized
	 * build's leak check (bench.sh --smoke in the suite) does not
	 * count libical's trees and zone caches as lost. */
	fflush(stdout);
	fflush(stderr);
	_exit(ok ? 0 : 1);
}
