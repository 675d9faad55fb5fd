/* Writing the calendar feeds: libical for the calendar, its zone and
 * free/busy, a writer of our own for the staff feed's events. */
#define G_LOG_DOMAIN "slotd-feed"

#include "feed.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "slotd-config.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(icalcomponent, icalcomponent_free)

#define PRODID "-//slotd//slotd " SLOTD_VERSION "//EN"
#define CALENDAR_END "END:VCALENDAR\r\n"
/* Observances before this year are history no feed needs. */
#define VTIMEZONE_FIRST_YEAR 2000

/* ---- text ----------------------------------------------------------- */

static gboolean
is_control(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0);
}

char *
feed_clean_text(const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text ? text : "", -1);
	GString *out = g_string_sized_new(strlen(valid));

	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c == '\r' && p[1] == '\n')
			continue; /* CR LF is one line break */
		if (c == '\r' || c == '\n' || c == 0x2028 || c == 0x2029)
			g_string_append_c(out, '\n');
		else if (c == '\t')
			g_string_append_c(out, ' ');
		else if (!is_control(c))
			g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

/* "Finnish / Swedish", the unit's stronger language first; one name
 * when both are the same. */
static char *
bilingual(const char *fi, const char *sv, gboolean swedish_first)
{
	const char *first = swedish_first ? sv : fi;
	const char *second = swedish_first ? fi : sv;

	if (first == NULL || *first == '\0')
		return feed_clean_text(second);
	if (second == NULL || *second == '\0' || g_str_equal(first, second))
		return feed_clean_text(first);
	{
		g_autofree char *joined = g_strconcat(first, " / ", second,
						      NULL);

		return feed_clean_text(joined);
	}
}

gboolean
feed_language_is_known(const char *lang)
{
	return g_strcmp0(lang, "fi") == 0 || g_strcmp0(lang, "sv") == 0;
}

/* A name in the asked language (the other one when it has none), or
 * both when none was asked. */
static char *
localised(const char *lang, const char *fi, const char *sv,
	  gboolean swedish_first)
{
	gboolean swedish = g_strcmp0(lang, "sv") == 0;
	const char *wanted = swedish ? sv : fi;

	if (!feed_language_is_known(lang))
		return bilingual(fi, sv, swedish_first);
	return feed_clean_text(wanted && *wanted ? wanted
						 : swedish ? fi : sv);
}

static gboolean
unit_swedish_first(const Unit *unit)
{
	return unit && unit->languages && unit->languages[0] &&
	       g_str_equal(unit->languages[0], "sv");
}

/* Swedish words and names first (or only): asked for, or the unit's
 * stronger language. */
static gboolean
swedish_first_for(const Region *region, const char *unit_id,
		  const char *lang)
{
	if (feed_language_is_known(lang))
		return g_str_equal(lang, "sv");
	return unit_swedish_first(region_find_unit(region, unit_id));
}

static char *
unit_title(const Region *region, const char *unit_id, const char *lang)
{
	const Unit *unit = region_find_unit(region, unit_id);

	if (unit == NULL)
		return g_strdup(unit_id);
	return localised(lang, unit->title_fi, unit->title_sv,
			 unit_swedish_first(unit));
}

static char *
service_title(const Region *region, const char *service_id,
	      gboolean swedish_first, const char *lang)
{
	const Service *service = region_find_service(region, service_id);

	if (service == NULL)
		return g_strdup(service_id);
	return localised(lang, service->title_fi, service->title_sv,
			 swedish_first);
}

/* ---- scopes and windows --------------------------------------------- */

GPtrArray *
feed_scope_offerings(const Region *region, const char *unit,
		     const char *service)
{
	GPtrArray *found = g_ptr_array_new();

	for (guint i = 0; i < region->offerings->len; i++) {
		SlotdOffering *off = region->offerings->pdata[i];

		if (!g_str_equal(off->unit->id, unit))
			continue;
		if (service && *service &&
		    !g_str_equal(off->service->id, service))
			continue;
		g_ptr_array_add(found, off);
	}
	return found;
}

gboolean
feed_scope_check(const Region *region, const char *unit,
		 const char *service, GError **error)
{
	g_autoptr(GPtrArray) offerings = NULL;

	if (region_find_unit(region, unit) == NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_UNIT,
			    "there is no unit '%s'; slotctl units lists them",
			    unit);
		return FALSE;
	}
	if (service == NULL || *service == '\0')
		return TRUE;
	offerings = feed_scope_offerings(region, unit, service);
	if (region_find_service(region, service) == NULL ||
	    offerings->len == 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_SERVICE,
			    "unit '%s' offers no service '%s'; slotctl "
			    "services lists them", unit, service);
		return FALSE;
	}
	return TRUE;
}

gboolean
feed_practitioner_check(const Region *region, const char *id,
			GError **error)
{
	const Resource *r = region_find_resource(region, id);

	if (r != NULL && r->type == RESOURCE_PRACTITIONER)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_PRACTITIONER,
		    "'%s' is not one of the region's practitioners; slotctl "
		    "resources lists them", id);
	return FALSE;
}

gboolean
feed_scope_is_public(const Region *region, const char *unit,
		     const char *service)
{
	g_autoptr(GPtrArray) offerings =
		feed_scope_offerings(region, unit, service);

	for (guint i = 0; i < offerings->len; i++) {
		const SlotdOffering *off = offerings->pdata[i];

		if (!off->public_freebusy)
			return FALSE;
	}
	return offerings->len > 0;
}

void
feed_staff_window(const Region *region, gint64 now, gint64 *ret_from,
		  gint64 *ret_cancelled_since)
{
	gint64 today = calendar_local_day_start(now);
	GDate date;

	calendar_local_date(today, &date);
	g_date_subtract_days(&date, FEED_PAST_DAYS);
	*ret_from = calendar_local_to_utc(g_date_get_year(&date),
					  g_date_get_month(&date),
					  g_date_get_day(&date), 0, 0);
	calendar_local_date(today, &date);
	g_date_subtract_days(&date, region->daemon.cancelled_feed_days);
	*ret_cancelled_since = calendar_local_to_utc(
		g_date_get_year(&date), g_date_get_month(&date),
		g_date_get_day(&date), 0, 0);
}

void
feed_freebusy_window(const Region *region, gint64 now, gint64 *ret_from,
		     gint64 *ret_to)
{
	GDate date;

	*ret_from = calendar_local_day_start(now);
	calendar_local_date(*ret_from, &date);
	g_date_add_days(&date, region->daemon.horizon_days);
	*ret_to = calendar_local_to_utc(g_date_get_year(&date),
					g_date_get_month(&date),
					g_date_get_day(&date), 0, 0);
}

/* ---- times ---------------------------------------------------------- */

static struct icaltimetype
utc_time(gint64 utc)
{
	return icaltime_from_timet_with_zone((time_t)utc, 0,
					     icaltimezone_get_utc_timezone());
}

/* ---- the calendar --------------------------------------------------- */

/* The builtin Europe/Helsinki zone under the plain TZID clients know,
 * trimmed to this century. Built once; callers clone it. */
static icalcomponent *
helsinki_vtimezone(void)
{
	static icalcomponent *vtimezone;

	if (g_once_init_enter(&vtimezone)) {
		icaltimezone *zone;
		icalcomponent *copy;
		icalproperty *tzid, *location;
		struct icaltimetype start = icaltime_null_time();

		calendar_init();
		zone = icaltimezone_get_builtin_timezone(FEED_TZID);
		copy = icalcomponent_new_clone(icaltimezone_get_component(zone));
		tzid = icalcomponent_get_first_property(copy,
							ICAL_TZID_PROPERTY);
		icalproperty_set_tzid(tzid, FEED_TZID);
		/* libical's own X-LIC-LOCATION trips up other readers. */
		while ((location = icalcomponent_get_first_property(
				copy, ICAL_X_PROPERTY))) {
			icalcomponent_remove_property(copy, location);
			icalproperty_free(location);
		}
		start.year = VTIMEZONE_FIRST_YEAR;
		start.month = 1;
		start.day = 1;
		icaltimezone_truncate_vtimezone(copy, start,
						icaltime_null_time(), 1);
		g_once_init_leave(&vtimezone, copy);
	}
	return vtimezone;
}

void
feed_init(void)
{
	helsinki_vtimezone();
}

static icalproperty *
x_property(const char *name, const char *value)
{
	icalproperty *property = icalproperty_new_x(value);

	icalproperty_set_x_name(property, name);
	return property;
}

static icalcomponent *
new_calendar(const FeedScope *scope, const char *name)
{
	icalcomponent *calendar = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	guint refresh = scope->region->daemon.feed_refresh_minutes;
	g_autofree char *ttl = g_strdup_printf("PT%uM", refresh);

	icalcomponent_add_property(calendar, icalproperty_new_prodid(PRODID));
	icalcomponent_add_property(calendar, icalproperty_new_version("2.0"));
	icalcomponent_add_property(calendar,
				   icalproperty_new_calscale("GREGORIAN"));
	icalcomponent_add_property(
		calendar, icalproperty_new_method(ICAL_METHOD_PUBLISH));
	icalcomponent_add_property(calendar, icalproperty_new_name(name));
	icalcomponent_add_property(calendar, x_property("X-WR-CALNAME", name));
	icalcomponent_add_property(calendar,
				   x_property("X-WR-TIMEZONE", FEED_TZID));
	icalcomponent_add_property(
		calendar, icalproperty_new_refreshinterval(
				  icaldurationtype_from_int((int)refresh * 60)));
	icalcomponent_add_property(calendar,
				   x_property("X-PUBLISHED-TTL", ttl));
	return calendar;
}

/* "Unit" or "Unit – Service", in the unit's stronger language first;
 * "PRACTITIONER – Unit" for a practitioner's. */
static char *
calendar_name(const FeedScope *scope, const char *suffix)
{
	g_autofree char *title = unit_title(scope->region, scope->unit,
					    scope->lang);
	g_autofree char *service = NULL;

	if (scope->practitioner != NULL)
		return g_strconcat(scope->practitioner, " – ", title,
				   suffix ? suffix : "", NULL);
	if (scope->service && *scope->service)
		service = service_title(scope->region, scope->service,
					swedish_first_for(scope->region,
							  scope->unit,
							  scope->lang),
					scope->lang);
	return g_strconcat(title, service ? " – " : "", service ? service : "",
			   suffix ? suffix : "", NULL);
}

/* libical 3.0 folds a line whose last 73 octets hold no space, ';' or
 * ':' between its CR and its LF — "\r", "\r\n ", "\n" — leaving a
 * bare CR at the end of one line and a line of "\n" after it. No value
 * holds a CR of its own (the texts are cleaned), so every such triple
 * is that fold, and it is undone here, in place. */
static void
mend_cr_lf_folds(char *text)
{
	static const char split[] = "\r\r\n \n";
	const gsize drop = strlen(split) - 2;

	for (char *at = text; (at = strstr(at, split)) != NULL; at += 2) {
		at[1] = '\n';
		memmove(at + 2, at + 2 + drop, strlen(at + 2 + drop) + 1);
	}
}

/* The text of a calendar whose END line is left off, so that events
 * serialised one by one can follow. */
static GString *
open_calendar_text(icalcomponent *calendar, gsize expected)
{
	char *text = icalcomponent_as_ical_string_r(calendar);
	gsize length;
	GString *out;

	mend_cr_lf_folds(text);
	length = strlen(text);

	g_assert(g_str_has_suffix(text, CALENDAR_END));
	length -= strlen(CALENDAR_END);
	out = g_string_sized_new(length + expected);
	g_string_append_len(out, text, length);
	free(text);
	return out;
}

static GBytes *
close_calendar_text(GString *out)
{
	g_string_append(out, CALENDAR_END);
	return g_string_free_to_bytes(out);
}

/* ---- staff feed ----------------------------------------------------- */

/* Offsets by UTC hour, remembered for one render: the zone changes at
 * most once in an hour, and bookings come in order of time. */
#define OFFSET_CACHE 4

typedef struct {
	gint64 hour;		/* utc / 3600 */
	gboolean uniform;	/* one offset for the whole hour */
	int offset;		/* seconds east of UTC */
} HourOffset;

struct _FeedWriter {
	Region *region;
	char *unit;
	char *practitioner;	/* NULL: a unit's feed */
	gboolean swedish_first;
	char *lang;		/* NULL: both languages */
	char *location;		/* the unit's title */
	GHashTable *summaries;	/* service id -> title */
	GHashTable *places;	/* municipality code -> name */
	GString *text;
	guint64 digest[2];	/* of the pieces appended so far */
	HourOffset offsets[OFFSET_CACHE];
	GString *line;		/* a content line, before it is folded */
};

static int
offset_at(FeedWriter *writer, gint64 utc)
{
	gint64 hour = utc >= 0 ? utc / 3600 : (utc - 3599) / 3600;
	HourOffset *cached = &writer->offsets[(guint64)hour % OFFSET_CACHE];

	if (cached->hour != hour) {
		cached->hour = hour;
		cached->offset = calendar_utc_offset(hour * 3600);
		cached->uniform = cached->offset ==
				  calendar_utc_offset(hour * 3600 + 3599);
	}
	return cached->uniform ? cached->offset : calendar_utc_offset(utc);
}

/* In the hour repeated when summer time ends a wall-clock reading
 * names two instants, and clients disagree on which one a TZID time
 * means (RFC 5545: the first; pytz: the second). */
static gboolean
is_ambiguous_local(FeedWriter *writer, gint64 utc)
{
	int offset = offset_at(writer, utc);

	return offset > offset_at(writer, utc + 3600) ||
	       offset_at(writer, utc - 3600) > offset;
}

/* A digest for ETags: it has to change with the text, not to resist
 * forgery, and hashing a 4 MB calendar with SHA-256 took longer than
 * joining it. Two 64-bit multiply-xor lanes over 8-byte words. */
static guint64
mix64(guint64 h)
{
	h ^= h >> 33;
	h *= G_GUINT64_CONSTANT(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= G_GUINT64_CONSTANT(0xc4ceb9fe1a85ec53);
	return h ^ (h >> 33);
}

static void
digest_update(guint64 *digest, const char *text, gsize length)
{
	guint64 a = digest[0] ^ length, b = digest[1] + length;
	gsize i = 0;

	for (; i + 8 <= length; i += 8) {
		guint64 word;

		memcpy(&word, text + i, 8);
		a = (a ^ word) * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15);
		b = (b + word) * G_GUINT64_CONSTANT(0xc2b2ae3d27d4eb4f);
		b ^= b >> 29;
	}
	for (; i < length; i++) {
		guint64 byte = (guchar)text[i];

		a = (a ^ byte) * G_GUINT64_CONSTANT(0x100000001b3);
		b = (b + byte) * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15);
	}
	digest[0] = mix64(a);
	digest[1] = mix64(b ^ digest[0]);
}

static const char *
summary_title(FeedWriter *writer, const char *service_id)
{
	char *title = g_hash_table_lookup(writer->summaries, service_id);

	if (title == NULL) {
		title = service_title(writer->region, service_id,
				      writer->swedish_first, writer->lang);
		g_hash_table_insert(writer->summaries, g_strdup(service_id),
				    title);
	}
	return title;
}

/* Client references were checked at the door: plain ones (all of
 * them, in practice) need no cleaning. */
static char *
clean_reference(const char *ref)
{
	for (const char *p = ref; *p; p++)
		if ((guchar)*p < 0x20 || (guchar)*p > 0x7e)
			return feed_clean_text(ref);
	return g_strdup(ref);
}

/* A booking flagged needs-rebooking (its slot withdrawn by a reload,
 * its practitioner, room or car marked absent) stands until it is
 * moved or cancelled, but the visit as it is may not happen: while it
 * is still to come (the store says so: needs_rebooking), staff see it
 * in the title of the event, where a calendar shows it, in the
 * language(s) of the feed's titles. */
static const char *
move_mark(const FeedWriter *writer)
{
	if (writer->lang == NULL)
		return writer->swedish_first
			       ? "Måste flyttas / Siirrettävä: "
			       : "Siirrettävä / Måste flyttas: ";
	return writer->swedish_first ? "Måste flyttas: " : "Siirrettävä: ";
}

static char *
event_summary(FeedWriter *writer, const StoreFeedBooking *b)
{
	const char *title = summary_title(writer, b->service);
	const char *mark = b->needs_rebooking ? move_mark(writer) : "";
	g_autofree char *ref = NULL;

	/* A practitioner's feed names no client, not even by reference. */
	if (writer->practitioner != NULL)
		return g_strconcat(mark, title, NULL);
	if (b->client_ref == NULL || *b->client_ref == '\0')
		return g_strconcat(mark, title, " – anonymous", NULL);
	ref = clean_reference(b->client_ref);
	return g_strconcat(mark, title, " – ref ", ref, NULL);
}

/* A practitioner's feed: the booking's unit, or for a home visit
 * "the client's home" and its municipality, never more. Kept in
 * `places` under "unit:ID" and "home:CODE". */
static const char *
practitioner_location(FeedWriter *writer, const StoreFeedBooking *b)
{
	gboolean home = g_strcmp0(b->modality, "home") == 0;
	const Municipality *m = home && b->municipality
		? region_find_municipality(writer->region, b->municipality)
		: NULL;
	g_autofree char *key = g_strconcat(home ? "home:" : "unit:",
					   home ? (m ? m->code : "")
						: b->unit, NULL);
	char *name = g_hash_table_lookup(writer->places, key);

	if (name != NULL)
		return name;
	if (home) {
		const char *where = writer->swedish_first ? "Klientens hem"
							  : "Asiakkaan koti";
		g_autofree char *place =
			m ? localised(writer->lang, m->name_fi, m->name_sv,
				      writer->swedish_first)
			  : NULL;

		name = place ? g_strconcat(where, ", ", place, NULL)
			     : g_strdup(where);
	} else {
		name = unit_title(writer->region, b->unit, writer->lang);
	}
	g_hash_table_insert(writer->places, g_steal_pointer(&key), name);
	return name;
}

/* Home visits happen at the client's home: only its municipality is
 * named, never more. */
static const char *
event_location(FeedWriter *writer, const StoreFeedBooking *b)
{
	const Municipality *m = NULL;
	char *name;

	if (writer->practitioner != NULL)
		return practitioner_location(writer, b);
	if (g_strcmp0(b->modality, "home") == 0 && b->municipality)
		m = region_find_municipality(writer->region, b->municipality);
	if (m == NULL)
		return writer->location;
	name = g_hash_table_lookup(writer->places, m->code);
	if (name == NULL) {
		name = localised(writer->lang, m->name_fi, m->name_sv,
				 writer->swedish_first);
		g_hash_table_insert(writer->places, g_strdup(m->code), name);
	}
	return name;
}

/* Words of the event text in the unit's stronger language: index 0
 * Finnish, 1 Swedish. Nothing here names the client. */
typedef struct {
	const char *id;
	const char *text[2];
} FeedWord;

static const FeedWord modality_words[] = {
	{ "onsite", { "Vastaanotto", "Mottagning" } },
	{ "home", { "Kotikäynti", "Hembesök" } },
	{ "phone", { "Puhelu", "Telefonsamtal" } },
	{ "video", { "Videopuhelu", "Videosamtal" } },
	{ NULL, { "Käynti", "Besök" } },	/* not recorded */
};

static const FeedWord urgency_words[] = {
	{ "routine", { "kiireetön", "icke brådskande" } },
	{ "urgent", { "kiireellinen", "brådskande" } },
	{ "immediate", { "välitön", "omedelbar" } },
	{ NULL, { "kiireetön", "icke brådskande" } },
};

static const FeedWord language_words[] = {
	{ "fi", { "suomi", "finska" } },
	{ "sv", { "ruotsi", "svenska" } },
	{ "en", { "englanti", "engelska" } },
	{ NULL, { "ei ilmoitettu", "inte angivet" } },
};

static const char *
feed_word(const FeedWord *words, const char *id, gboolean swedish)
{
	guint i = 0;

	for (; words[i].id; i++)
		if (g_strcmp0(words[i].id, id) == 0)
			break;
	return words[i].text[swedish ? 1 : 0];
}

/* CATEGORIES: the modality, so that a calendar can colour home visits
 * apart from phone calls. */
static const char *
event_category(FeedWriter *writer, const StoreFeedBooking *b)
{
	return feed_word(modality_words, b->modality, writer->swedish_first);
}

/* A practitioner's feed: how long the visit is, and the time the
 * practitioner is taken for before and after it — travel for a home
 * visit, the rest of the slot (notes, the room) for any other. */
static void
append_int(GString *text, gint64 value)
{
	char digits[24];
	char *p = digits + sizeof(digits);
	guint64 left = value < 0 ? -(guint64)value : (guint64)value;

	/* what printf's %lld writes, without printf's cost */
	do {
		*--p = (char)('0' + left % 10);
		left /= 10;
	} while (left > 0);
	if (value < 0)
		*--p = '-';
	g_string_append_len(text, p, digits + sizeof(digits) - p);
}

/* A line "Label: N min". */
static void
append_minutes(GString *text, const char *label, gint64 minutes)
{
	g_string_append_c(text, '\n');
	g_string_append(text, label);
	g_string_append(text, ": ");
	append_int(text, minutes);
	g_string_append(text, " min");
}

static void
practitioner_times(GString *text, const StoreFeedBooking *b, gboolean sv)
{
	gboolean home = g_strcmp0(b->modality, "home") == 0;
	gint64 before = b->use_start && b->use_start < b->start
				? (b->start - b->use_start) / 60
				: 0;
	gint64 after = b->use_end > b->end ? (b->use_end - b->end) / 60 : 0;

	append_minutes(text, sv ? "Längd" : "Kesto", (b->end - b->start) / 60);
	if (before > 0)
		append_minutes(text,
			       home ? (sv ? "Resa före" : "Matka ennen")
				    : (sv ? "Reserverad före" : "Varattu ennen"),
			       before);
	if (after > 0)
		append_minutes(text,
			       home ? (sv ? "Resa efter" : "Matka jälkeen")
				    : (sv ? "Reserverad efter"
					  : "Varattu jälkeen"),
			       after);
}

/* DESCRIPTION: how, how urgent, in which language and where in a
 * series; never the client's identity or reference. */
static char *
event_description(FeedWriter *writer, const StoreFeedBooking *b)
{
	gboolean sv = writer->swedish_first;
	GString *text = g_string_sized_new(160);

	/* Appended piece by piece: printf was a fifth of an event. */
	if (b->needs_rebooking)
		g_string_append(text, sv ? "Bokningen måste flyttas till en "
					   "annan tid eller avbokas.\n"
					 : "Varaus on siirrettävä toiseen "
					   "aikaan tai peruttava.\n");
	g_string_append(text, sv ? "Kontaktsätt: " : "Asiointitapa: ");
	g_string_append(text, event_category(writer, b));
	g_string_append(text, sv ? "\nBrådska: " : "\nKiireellisyys: ");
	g_string_append(text, feed_word(urgency_words, b->urgency, sv));
	g_string_append(text, sv ? "\nServicespråk: " : "\nPalvelukieli: ");
	g_string_append(text, feed_word(language_words, b->language, sv));
	if (b->series_length > 1) {
		g_string_append(text, sv ? "\nSerie: besök "
					 : "\nSarja: käynti ");
		append_int(text, b->series_index + 1);
		g_string_append(text, sv ? " av " : "/");
		append_int(text, b->series_length);
	}
	if (writer->practitioner != NULL)
		practitioner_times(text, b, sv);
	return g_string_free(text, FALSE);
}

static void
event_uid(FeedWriter *writer, gint64 id, char *buffer, gsize size)
{
	/* Not the unit feed's UID: one person may subscribe to both. */
	if (writer->practitioner != NULL)
		g_snprintf(buffer, size, "b-%" G_GINT64_FORMAT "-%s@%s.slotd",
			   id, writer->practitioner,
			   writer->region->daemon.region_id);
	else
		g_snprintf(buffer, size, "b-%" G_GINT64_FORMAT "@%s.slotd", id,
			   writer->region->daemon.region_id);
}

/* STATUS: what the booking's state means to a calendar. */
static const char *
event_status(const char *status)
{
	if (g_strcmp0(status, "cancelled") == 0 ||
	    g_strcmp0(status, "entered-in-error") == 0)
		return "CANCELLED";
	if (g_strcmp0(status, "proposed") == 0 ||
	    g_strcmp0(status, "pending") == 0 ||
	    g_strcmp0(status, "waitlist") == 0)
		return "TENTATIVE";
	return "CONFIRMED";
}

/* The texts of a booking's VEVENT, before escaping and folding. */
typedef struct {
	char uid[256];
	char *summary;
	const char *location;	/* kept by the writer */
	char *description;
	const char *category;	/* a constant */
} EventTexts;

static void
event_texts(FeedWriter *writer, const StoreFeedBooking *b, EventTexts *t)
{
	event_uid(writer, b->id, t->uid, sizeof(t->uid));
	t->summary = event_summary(writer, b);
	t->location = event_location(writer, b);
	t->description = event_description(writer, b);
	t->category = event_category(writer, b);
}

static void
event_texts_clear(EventTexts *t)
{
	g_free(t->summary);
	g_free(t->description);
}

/* ---- VEVENT text ---------------------------------------------------- */

/* A booking's VEVENT is written here rather than built and serialised
 * with libical: filling a libical component and serialising it cost
 * some 90,000 instructions an event, most of them libical appending to
 * its buffers a byte at a time, and a cold 10,000-booking feed is that
 * times 10,000. The text is what libical 3.0 wrote, byte for byte —
 * the same properties in the same order, the same escapes, the same
 * folds — so ETags, clients and the tests see no change;
 * test-feed-render compares the two on random bookings. The one
 * difference is a line libical folded between its CR and LF
 * (mend_cr_lf_folds()). */

/* RFC 5545 3.1: a line is at most 75 octets, its CR LF not counted. */
#define FOLD_OCTETS 75

/* How many octets of `line` (at least 75 left, its CR LF counted) go
 * on the next physical line, chosen as libical chooses: up to the last
 * ';', ':' or space among octets 2..74, else up to the last character
 * that begins among octets 2..75, so that no UTF-8 sequence is split;
 * 74 octets at most. A continuation line's leading space comes on
 * top: 75 octets. */
static gsize
fold_point(const char *line)
{
	for (gsize i = FOLD_OCTETS - 2; i > 0; i--)
		if (line[i] == ';' || line[i] == ':' || line[i] == ' ')
			return i + 1;
	for (gsize i = FOLD_OCTETS - 1; i > 0; i--)
		if (((guchar)line[i] & 0xc0) != 0x80)
			return i;
	return FOLD_OCTETS - 1;
}

/* Appends `line` (ending in CR LF) to `out`, folded. */
static void
append_folded(GString *out, const GString *line)
{
	const char *rest = line->str;
	gsize left = line->len;

	while (left >= FOLD_OCTETS) {
		gsize cut = fold_point(rest);

		/* 73 octets with no space, ';' or ':', then CR LF: libical
		 * cut between the CR and the LF (mend_cr_lf_folds()); they
		 * fit on one line. (With 74 it cut before the CR, leaving
		 * a line of one space: legal, it unfolds to nothing, and
		 * kept.) */
		if (rest[cut] == '\n')
			break;
		g_string_append_len(out, rest, cut);
		g_string_append_len(out, "\r\n ", 3);
		rest += cut;
		left -= cut;
	}
	g_string_append_len(out, rest, left);
}

/* Starts a content line at the end of `out`: the property's name. The
 * line is written in place and only a long one is copied to be
 * folded; the position returned is where it began. */
static gsize
line_begin(GString *out, const char *name)
{
	gsize start = out->len;

	g_string_append(out, name);
	return start;
}

static void
line_end(FeedWriter *writer, GString *out, gsize start)
{
	g_string_append_len(out, "\r\n", 2);
	if (out->len - start < FOLD_OCTETS)
		return;
	g_string_truncate(writer->line, 0);
	g_string_append_len(writer->line, out->str + start, out->len - start);
	g_string_truncate(out, start);
	append_folded(out, writer->line);
}

/* A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line
 * break escaped. The texts come from feed_clean_text() or are plain
 * ASCII, so no other control character reaches here. */
static void
append_text(GString *line, const char *text)
{
	while (*text) {
		gsize plain = strcspn(text, "\\;,\n");

		g_string_append_len(line, text, plain);
		text += plain;
		if (*text == '\0')
			break;
		g_string_append_c(line, '\\');
		g_string_append_c(line, *text == '\n' ? 'n' : *text);
		text++;
	}
}

static void
put_digits(char *at, guint value, guint width)
{
	while (width-- > 0) {
		at[width] = (char)('0' + value % 10);
		value /= 10;
	}
}

/* The proleptic Gregorian date of `days` after 1970-01-01 (before,
 * when negative). Counted from 0000-03-01 in eras of 400 years, which
 * all have 146,097 days, and years that begin in March, so that the
 * leap day comes last: then it is plain arithmetic, and gmtime_r()'s
 * time zone lock is not taken five times an event. */
static void
civil_date(gint64 days, int *ret_year, int *ret_month, int *ret_day)
{
	gint64 since = days + 719468;	/* days from 0000-03-01 */
	gint64 era = (since >= 0 ? since : since - 146096) / 146097;
	gint64 of_era = since - era * 146097;		/* 0..146096 */
	gint64 year = (of_era - of_era / 1460 + of_era / 36524 -
		       of_era / 146096) / 365;		/* 0..399 */
	gint64 of_year = of_era - (365 * year + year / 4 - year / 100);
	gint64 month = (5 * of_year + 2) / 153;		/* 0: March */

	*ret_day = (int)(of_year - (153 * month + 2) / 5 + 1);
	*ret_month = (int)(month < 10 ? month + 3 : month - 9);
	*ret_year = (int)(year + era * 400 + (*ret_month <= 2));
}

/* A DATE-TIME value (RFC 5545 3.3.5) of `seconds` counted as UTC's
 * are: "YYYYMMDDTHHMMSS", with "Z" for UTC. Years 0-9999, which every
 * booking's are. */
static void
append_date_time(GString *line, gint64 seconds, gboolean utc)
{
	gint64 days = seconds >= 0 ? seconds / 86400
				   : -((-seconds + 86399) / 86400);
	gint64 of_day = seconds - days * 86400;
	int year, month, day;
	char text[16];

	civil_date(days, &year, &month, &day);
	put_digits(text, (guint)year, 4);
	put_digits(text + 4, (guint)month, 2);
	put_digits(text + 6, (guint)day, 2);
	text[8] = 'T';
	put_digits(text + 9, (guint)(of_day / 3600), 2);
	put_digits(text + 11, (guint)(of_day / 60 % 60), 2);
	put_digits(text + 13, (guint)(of_day % 60), 2);
	g_string_append_len(line, text, 15);
	if (utc)
		g_string_append_c(line, 'Z');
}

static void
write_text(FeedWriter *writer, GString *out, const char *name,
	   const char *text)
{
	gsize start = line_begin(out, name);

	g_string_append_c(out, ':');
	append_text(out, text);
	line_end(writer, out, start);
}

static void
write_utc(FeedWriter *writer, GString *out, const char *name, gint64 utc)
{
	gsize start = line_begin(out, name);

	g_string_append_c(out, ':');
	append_date_time(out, utc, TRUE);
	line_end(writer, out, start);
}

/* DTSTART or DTEND: Helsinki wall-clock time with its TZID (the
 * VTIMEZONE defines it), or UTC where the wall clock is ambiguous. */
static void
write_event_time(FeedWriter *writer, GString *out, const char *name,
		 gint64 utc)
{
	gsize start;

	if (is_ambiguous_local(writer, utc)) {
		write_utc(writer, out, name, utc);
		return;
	}
	start = line_begin(out, name);
	g_string_append(out, ";TZID=" FEED_TZID ":");
	append_date_time(out, utc + offset_at(writer, utc), FALSE);
	line_end(writer, out, start);
}

FeedWriter *
feed_writer_new_staff(const FeedScope *scope, gsize size_hint)
{
	FeedWriter *writer = g_new0(FeedWriter, 1);
	g_autofree char *name = calendar_name(scope, NULL);
	g_autoptr(icalcomponent) calendar = new_calendar(scope, name);

	writer->region = region_ref((Region *)scope->region);
	writer->unit = g_strdup(scope->unit);
	writer->practitioner = g_strdup(scope->practitioner);
	writer->lang = g_strdup(feed_language_is_known(scope->lang)
					? scope->lang
					: NULL);
	writer->swedish_first = swedish_first_for(scope->region, scope->unit,
						  writer->lang);
	writer->location = unit_title(scope->region, scope->unit,
				      writer->lang);
	writer->summaries = g_hash_table_new_full(g_str_hash, g_str_equal,
						  g_free, g_free);
	writer->places = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					       g_free);
	icalcomponent_add_component(
		calendar, icalcomponent_new_clone(helsinki_vtimezone()));
	writer->text = open_calendar_text(calendar, size_hint);
	digest_update(writer->digest, writer->text->str, writer->text->len);
	for (guint i = 0; i < OFFSET_CACHE; i++)
		writer->offsets[i].hour = G_MININT64;
	writer->line = g_string_sized_new(256);
	return writer;
}

static char *
serialise(icalcomponent *event)
{
	char *text = icalcomponent_as_ical_string_r(event);
	char *copy;

	mend_cr_lf_folds(text);
	copy = g_strdup(text);
	/* libical's buffers go back to libical's allocator. */
	icalmemory_free_buffer(text);
	return copy;
}

char *
feed_writer_event(FeedWriter *writer, const StoreFeedBooking *booking)
{
	/* An event is about 550 bytes. */
	GString *out = g_string_sized_new(640);
	EventTexts t;
	gsize start;

	event_texts(writer, booking, &t);
	g_string_append_len(out, "BEGIN:VEVENT\r\n", 14);
	write_text(writer, out, "UID", t.uid);
	write_utc(writer, out, "DTSTAMP", booking->modified);
	write_event_time(writer, out, "DTSTART", booking->start);
	write_event_time(writer, out, "DTEND", booking->end);
	write_text(writer, out, "SUMMARY", t.summary);
	write_text(writer, out, "LOCATION", t.location);
	write_text(writer, out, "STATUS", event_status(booking->status));
	start = line_begin(out, "SEQUENCE:");
	append_int(out, CLAMP(booking->sequence, 0, G_MAXINT));
	line_end(writer, out, start);
	write_utc(writer, out, "CREATED", booking->created);
	write_utc(writer, out, "LAST-MODIFIED", booking->modified);
	write_text(writer, out, "DESCRIPTION", t.description);
	/* A list of one: libical leaves a CATEGORIES value's commas
	 * unescaped, but no modality word has one. */
	write_text(writer, out, "CATEGORIES", t.category);
	g_string_append_len(out, "END:VEVENT\r\n", 12);
	event_texts_clear(&t);
	return g_string_free(out, FALSE);
}

void
feed_writer_event_texts(FeedWriter *writer, const StoreFeedBooking *booking,
			FeedEventTexts *ret)
{
	EventTexts t;

	event_texts(writer, booking, &t);
	ret->uid = g_strdup(t.uid);
	ret->summary = g_steal_pointer(&t.summary);
	ret->location = g_strdup(t.location);
	ret->description = g_steal_pointer(&t.description);
	ret->category = g_strdup(t.category);
}

void
feed_event_texts_clear(FeedEventTexts *texts)
{
	g_clear_pointer(&texts->uid, g_free);
	g_clear_pointer(&texts->summary, g_free);
	g_clear_pointer(&texts->location, g_free);
	g_clear_pointer(&texts->description, g_free);
	g_clear_pointer(&texts->category, g_free);
}

void
feed_writer_append_len(FeedWriter *writer, const char *text, gsize length)
{
	g_string_append_len(writer->text, text, length);
	digest_update(writer->digest, text, length);
}

void
feed_writer_append(FeedWriter *writer, const char *text)
{
	feed_writer_append_len(writer, text, strlen(text));
}

gsize
feed_writer_length(const FeedWriter *writer)
{
	return writer->text->len;
}

static char *
digest_text(const guint64 *digest)
{
	return g_strdup_printf("%016" G_GINT64_MODIFIER "x%016"
			       G_GINT64_MODIFIER "x", digest[0], digest[1]);
}

char *
feed_digest(GBytes *text)
{
	guint64 digest[2] = { 0 };
	gsize size;
	const char *data = g_bytes_get_data(text, &size);

	digest_update(digest, data, size);
	return digest_text(digest);
}

GBytes *
feed_writer_finish(FeedWriter *writer, char **ret_digest)
{
	GBytes *text;

	feed_writer_append(writer, CALENDAR_END);
	if (ret_digest != NULL)
		*ret_digest = digest_text(writer->digest);
	text = g_string_free_to_bytes(g_steal_pointer(&writer->text));
	feed_writer_free(writer);
	return text;
}

void
feed_writer_free(FeedWriter *writer)
{
	if (writer == NULL)
		return;
	if (writer->text != NULL)
		g_string_free(writer->text, TRUE);
	g_string_free(writer->line, TRUE);
	g_hash_table_unref(writer->summaries);
	g_hash_table_unref(writer->places);
	g_free(writer->location);
	g_free(writer->unit);
	g_free(writer->lang);
	g_free(writer->practitioner);
	region_unref(writer->region);
	g_free(writer);
}

GBytes *
feed_render_staff(const FeedScope *scope, GPtrArray *bookings)
{
	/* A VEVENT is about 450 bytes. */
	FeedWriter *writer = feed_writer_new_staff(scope,
						   bookings->len * 512);

	for (guint i = 0; i < bookings->len; i++) {
		g_autofree char *event =
			feed_writer_event(writer, bookings->pdata[i]);

		feed_writer_append(writer, event);
	}
	return feed_writer_finish(writer, NULL);
}

/* ---- free/busy ------------------------------------------------------ */

/* Ranks: where offerings overlap, the best state of any wins. */
typedef enum {
	FB_UNAVAILABLE,	/* closed, or capacity withdrawn */
	FB_BUSY,	/* open, every place booked */
	FB_TENTATIVE,	/* open, the last places held, not yet booked */
	FB_FREE,	/* open with a place */
	N_FB,
} FbState;

typedef struct {
	gint64 at;
	FbState state;
	int delta;	/* +1 a slot begins, -1 it ends */
} FbEdge;

static int
compare_edges(gconstpointer a, gconstpointer b)
{
	const FbEdge *x = a, *y = b;

	return (x->at > y->at) - (x->at < y->at);
}

static FbState
slot_state(const StoreSlot *slot)
{
	if (slot->status != SLOT_STATUS_FREE)
		return FB_UNAVAILABLE;
	if (slot->booked + slot->held < slot->capacity)
		return FB_FREE;
	/* A hold may yet expire or be released (RFC 5545 BUSY-TENTATIVE). */
	return slot->booked < slot->capacity ? FB_TENTATIVE : FB_BUSY;
}

/* Slot starts and ends clipped to [from, to), sorted by time. */
static GArray *
slot_edges(GArray *slots, gint64 from, gint64 to)
{
	GArray *edges = g_array_sized_new(FALSE, FALSE, sizeof(FbEdge),
					  slots->len * 2);

	for (guint i = 0; i < slots->len; i++) {
		const StoreSlot *s = &g_array_index(slots, StoreSlot, i);
		FbEdge begin = { MAX(s->start, from), slot_state(s), 1 };
		FbEdge end = { MIN(s->end, to), slot_state(s), -1 };

		if (begin.at >= end.at)
			continue;
		g_array_append_val(edges, begin);
		g_array_append_val(edges, end);
	}
	g_array_sort(edges, compare_edges);
	return edges;
}

static FbState
best_state(const int *open)
{
	for (int state = FB_FREE; state > FB_UNAVAILABLE; state--)
		if (open[state] > 0)
			return state;
	return FB_UNAVAILABLE;
}

typedef void (*PeriodFunc)(gint64 start, gint64 end, FbState state,
			   gpointer user_data);

static void
add_period(gint64 start, gint64 end, FbState state, gpointer user_data)
{
	static const icalparameter_fbtype types[N_FB] = {
		[FB_UNAVAILABLE] = ICAL_FBTYPE_BUSYUNAVAILABLE,
		[FB_BUSY] = ICAL_FBTYPE_BUSY,
		[FB_TENTATIVE] = ICAL_FBTYPE_BUSYTENTATIVE,
		[FB_FREE] = ICAL_FBTYPE_FREE,
	};
	icalcomponent *freebusy = user_data;
	struct icalperiodtype period = icalperiodtype_null_period();
	icalproperty *property;

	period.start = utc_time(start);
	period.end = utc_time(end);
	property = icalproperty_new_freebusy(period);
	icalproperty_add_parameter(property,
				   icalparameter_new_fbtype(types[state]));
	icalcomponent_add_property(freebusy, property);
}

/* Sweeps the edges: every moment of [from, to) gets one state, and
 * neighbouring moments of the same state make one period. */
static void
sweep_periods(GArray *edges, gint64 from, gint64 to, PeriodFunc func,
	      gpointer user_data)
{
	int open[N_FB] = { 0 };
	FbState state = FB_UNAVAILABLE;
	gint64 since = from;
	guint i = 0;

	while (i < edges->len) {
		gint64 at = g_array_index(edges, FbEdge, i).at;
		FbState next;

		for (; i < edges->len &&
		       g_array_index(edges, FbEdge, i).at == at; i++) {
			const FbEdge *e = &g_array_index(edges, FbEdge, i);

			open[e->state] += e->delta;
		}
		next = best_state(open);
		if (next == state)
			continue;
		if (at > since)
			func(since, at, state, user_data);
		state = next;
		since = at;
	}
	if (to > since)
		func(since, to, state, user_data);
}

/* The calendar's name and the events' words: index 0 Finnish, 1
 * Swedish; both, stronger first, when no language was asked. */
static char *
freebusy_words(const FeedScope *scope, const char *fi, const char *sv)
{
	return localised(scope->lang, fi, sv,
			 swedish_first_for(scope->region, scope->unit,
					   scope->lang));
}

static char *
freebusy_name(const FeedScope *scope)
{
	g_autofree char *words = freebusy_words(scope, "vapaa/varattu",
						"ledig/upptagen");
	g_autofree char *suffix = NULL;

	/* The name as it always was when no language is asked. */
	if (!feed_language_is_known(scope->lang))
		return calendar_name(scope, " – vapaa/varattu · "
				     "ledig/upptagen");
	suffix = g_strconcat(" – ", words, NULL);
	return calendar_name(scope, suffix);
}

static char *
freebusy_uid(const FeedScope *scope, const char *what)
{
	return g_strdup_printf("%s-%s%s%s@%s.slotd", what, scope->unit,
			       scope->service && *scope->service ? "-" : "",
			       scope->service ? scope->service : "",
			       scope->region->daemon.region_id);
}

GBytes *
feed_render_freebusy(const FeedScope *scope, gint64 from, gint64 to,
		     GArray *slots)
{
	g_autofree char *name = NULL;
	g_autofree char *uid = NULL;
	g_autoptr(icalcomponent) calendar = NULL;
	g_autoptr(GArray) edges = NULL;
	icalcomponent *freebusy;
	GString *out;

	if (scope->freebusy != FEED_FREEBUSY_VFREEBUSY)
		return feed_render_freebusy_events(scope, from, to, slots);
	name = freebusy_name(scope);
	uid = freebusy_uid(scope, "freebusy");
	calendar = new_calendar(scope, name);
	edges = slot_edges(slots, from, to);
	freebusy = icalcomponent_new(ICAL_VFREEBUSY_COMPONENT);
	icalcomponent_add_property(freebusy, icalproperty_new_uid(uid));
	/* Stamped with the window's start, so the text changes with the
	 * slots and the day only. */
	icalcomponent_add_property(freebusy,
				   icalproperty_new_dtstamp(utc_time(from)));
	icalcomponent_add_property(freebusy,
				   icalproperty_new_dtstart(utc_time(from)));
	icalcomponent_add_property(freebusy,
				   icalproperty_new_dtend(utc_time(to)));
	sweep_periods(edges, from, to, add_period, freebusy);
	icalcomponent_add_component(calendar, freebusy);
	out = open_calendar_text(calendar, 0);
	return close_calendar_text(out);
}

/* ---- free/busy as events -------------------------------------------- */

typedef struct {
	const FeedScope *scope;
	GString *out;
	gint64 stamp;		/* the window's start, as for VFREEBUSY */
	char *busy, *tentative, *free, *location;
} EventPeriods;

/* One VEVENT a period: times in UTC (a period may begin in the hour
 * the autumn night repeats), no client, no booking. Its UID names the
 * state and the times, so a period that changes is a new event. */
static void
add_event_period(gint64 start, gint64 end, FbState state,
		 gpointer user_data)
{
	EventPeriods *p = user_data;
	g_autoptr(icalcomponent) event = NULL;
	g_autofree char *what = NULL, *uid = NULL;
	const char *summary;
	gboolean transparent = state == FB_FREE;

	/* Closed hours are no event; free ones only when asked. */
	if (state == FB_UNAVAILABLE ||
	    (transparent && p->scope->freebusy != FEED_FREEBUSY_EVENTS))
		return;
	summary = state == FB_FREE	  ? p->free
		  : state == FB_TENTATIVE ? p->tentative
					  : p->busy;
	what = g_strdup_printf("%s-%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT,
			       state == FB_FREE	       ? "free"
			       : state == FB_TENTATIVE ? "tentative"
						       : "busy",
			       start, end);
	uid = freebusy_uid(p->scope, what);
	event = icalcomponent_new(ICAL_VEVENT_COMPONENT);
	icalcomponent_add_property(event, icalproperty_new_uid(uid));
	icalcomponent_add_property(
		event, icalproperty_new_dtstamp(utc_time(p->stamp)));
	icalcomponent_add_property(event,
				   icalproperty_new_dtstart(utc_time(start)));
	icalcomponent_add_property(event,
				   icalproperty_new_dtend(utc_time(end)));
	icalcomponent_add_property(event, icalproperty_new_summary(summary));
	icalcomponent_add_property(event,
				   icalproperty_new_location(p->location));
	icalcomponent_add_property(
		event, icalproperty_new_status(state == FB_TENTATIVE
						       ? ICAL_STATUS_TENTATIVE
						       : ICAL_STATUS_CONFIRMED));
	icalcomponent_add_property(
		event, icalproperty_new_transp(transparent
						       ? ICAL_TRANSP_TRANSPARENT
						       : ICAL_TRANSP_OPAQUE));
	{
		g_autofree char *text = serialise(event);

		g_string_append(p->out, text);
	}
}

GBytes *
feed_render_freebusy_events(const FeedScope *scope, gint64 from, gint64 to,
			    GArray *slots)
{
	g_autofree char *name = freebusy_name(scope);
	g_autoptr(icalcomponent) calendar = new_calendar(scope, name);
	g_autoptr(GArray) edges = slot_edges(slots, from, to);
	EventPeriods p = { scope, NULL, from, NULL, NULL, NULL, NULL };
	GBytes *text;

	p.busy = freebusy_words(scope, "Varattu", "Upptagen");
	p.tentative = freebusy_words(scope, "Alustavasti varattu",
				     "Preliminärt upptagen");
	p.free = freebusy_words(scope, "Vapaa", "Ledig");
	p.location = unit_title(scope->region, scope->unit, scope->lang);
	p.out = open_calendar_text(calendar, 0);
	sweep_periods(edges, from, to, add_event_period, &p);
	text = close_calendar_text(p.out);
	g_free(p.busy);
	g_free(p.tentative);
	g_free(p.free);
	g_free(p.location);
	return text;
}
