/* Time and the calendar: Europe/Helsinki wall clock <-> UTC, RRULE
 * expansion, Finnish public holidays and working-day deadlines.
 *
 * libical answers one question only: the zone's UTC offset at a UTC
 * instant. Everything else (the gap and the overlap of the DST days,
 * civil date arithmetic) is done here, so it does not depend on how a
 * libical version treats the edge cases. */
#include "calendar.h"

#include <string.h>

#include <libical/ical.h>
#include <slotd/plugin.h>

#define SECONDS_PER_DAY 86400
/* g_date_get_julian() of 1970-01-01: GDate counts from 0001-01-01 = 1. */
#define UNIX_EPOCH_JULIAN 719163
/* Enough for a daily rule over 270 years; stops pathological rules. */
#define RRULE_MAX_ITERATIONS 100000
#define PARSE_YEAR_MIN 1900
#define PARSE_YEAR_MAX 2999
/* 1900-01-01T00:00Z and 2999-12-31T23:59:59Z */
#define INSTANT_MIN G_GINT64_CONSTANT(-2208988800)
#define INSTANT_MAX G_GINT64_CONSTANT(32503679999)

G_DEFINE_QUARK(slotd-error-quark, slotd_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(icalrecur_iterator, icalrecur_iterator_free)

static icaltimezone *helsinki;
/* libical expands a zone's transitions lazily, inside the zone object. */
static GMutex zone_lock;

/* A local wall-clock reading, with seconds. */
typedef struct {
	GDate date;
	int hour;
	int minute;
	int second;
} WallClock;

void
calendar_init(void)
{
	static gsize initialised;

	if (!g_once_init_enter(&initialised))
		return;
	icalerror_set_errors_are_fatal(0);
	helsinki = icaltimezone_get_builtin_timezone("Europe/Helsinki");
	if (!helsinki)
		g_error("libical has no Europe/Helsinki zone; is tzdata "
			"installed?");
	g_once_init_leave(&initialised, 1);
}

/* ---- offsets and wall clocks ----------------------------------------- */

/* Instants a caller may send (D-Bus `x`) can be anything; outside the
 * years 1900-2999 they are pinned to those ends so that the arithmetic
 * below cannot overflow and libical never expands the zone for ever.
 * Callers check the ranges they accept; this only keeps us defined. */
static gint64
clamp_instant(gint64 utc)
{
	return CLAMP(utc, INSTANT_MIN, INSTANT_MAX);
}

/* Every change of Helsinki's offset since 1981 falls on a full UTC hour
 * (01:00 UTC), so from 1990 on the offset of an instant is that of its
 * hour: libical is asked once an hour, not for every instant (a search
 * converts a shift's times for every candidate). Direct-mapped by hour;
 * an entry holds hour + 1 (0: empty) and the offset. */
#define OFFSET_MEMO_FROM G_GINT64_CONSTANT(631152000) /* 1990-01-01Z */
#define OFFSET_MEMO_SIZE 4096
static struct {
	gint64 hour;
	int offset;
} offset_memo[OFFSET_MEMO_SIZE];

static int
zone_offset(gint64 utc)
{
	g_autoptr(GMutexLocker) locker = NULL;
	struct icaltimetype instant;
	gint64 hour = utc / 3600;
	guint slot = (guint)(hour % OFFSET_MEMO_SIZE);
	gboolean memo = utc >= OFFSET_MEMO_FROM && utc <= INSTANT_MAX;
	int is_daylight = 0;
	int offset;

	calendar_init();
	if (memo) {
		locker = g_mutex_locker_new(&zone_lock);
		if (offset_memo[slot].hour == hour + 1)
			return offset_memo[slot].offset;
		g_clear_pointer(&locker, g_mutex_locker_free);
	}
	instant = icaltime_from_timet_with_zone((time_t)clamp_instant(utc), 0,
						icaltimezone_get_utc_timezone());
	locker = g_mutex_locker_new(&zone_lock);
	offset = icaltimezone_get_utc_offset_of_utc_time(helsinki, &instant,
							 &is_daylight);
	if (memo) {
		offset_memo[slot].hour = hour + 1;
		offset_memo[slot].offset = offset;
	}
	return offset;
}

/* Seconds of a wall-clock reading counted as if the zone were UTC. */
static gint64
wall_seconds(const GDate *date, int hour, int minute, int second)
{
	gint64 days = (gint64)g_date_get_julian(date) - UNIX_EPOCH_JULIAN;

	return days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
}

static void
wall_clock_from_seconds(gint64 wall, WallClock *ret)
{
	gint64 days = wall / SECONDS_PER_DAY;
	gint64 rest;

	if (wall % SECONDS_PER_DAY < 0)
		days--;
	rest = wall - days * SECONDS_PER_DAY;
	g_date_clear(&ret->date, 1);
	g_date_set_julian(&ret->date, (guint32)(days + UNIX_EPOCH_JULIAN));
	ret->hour = (int)(rest / 3600);
	ret->minute = (int)(rest / 60 % 60);
	ret->second = (int)(rest % 60);
}

static void
wall_clock_at(gint64 utc, WallClock *ret)
{
	utc = clamp_instant(utc);
	wall_clock_from_seconds(utc + zone_offset(utc), ret);
}

/* The UTC instant of a wall-clock reading. Helsinki changes its offset
 * at most once within any two days, so the offsets a day before and a
 * day after are the only candidates. */
static gint64
wall_to_utc(gint64 wall)
{
	int before = zone_offset(wall - SECONDS_PER_DAY);
	int after = zone_offset(wall + SECONDS_PER_DAY);
	int larger = MAX(before, after);
	int smaller = MIN(before, after);

	/* The larger offset gives the earlier instant: in an overlap both
	 * fit and the first (summer-time) one wins. */
	if (zone_offset(wall - larger) == larger)
		return wall - larger;
	if (zone_offset(wall - smaller) == smaller)
		return wall - smaller;
	/* In a gap neither fits; reading the clock with the offset in force
	 * before the gap moves the time forward by the gap's length. */
	return wall - before;
}

gint64
calendar_local_to_utc(int year, int month, int day, int hour, int minute)
{
	GDate date;

	g_return_val_if_fail(g_date_valid_dmy(day, month, year), 0);
	/* 24:00 is allowed: a window that ends at midnight. */
	g_return_val_if_fail(hour >= 0 && hour <= 24, 0);
	g_return_val_if_fail(minute >= 0 && minute < 60, 0);
	g_date_clear(&date, 1);
	g_date_set_dmy(&date, day, month, year);
	return wall_to_utc(wall_seconds(&date, hour, minute, 0));
}

void
calendar_utc_to_local(gint64 utc, int *ret_year, int *ret_month,
		      int *ret_day, int *ret_hour, int *ret_minute,
		      int *ret_weekday)
{
	WallClock clock;

	wall_clock_at(utc, &clock);
	if (ret_year)
		*ret_year = g_date_get_year(&clock.date);
	if (ret_month)
		*ret_month = g_date_get_month(&clock.date);
	if (ret_day)
		*ret_day = g_date_get_day(&clock.date);
	if (ret_hour)
		*ret_hour = clock.hour;
	if (ret_minute)
		*ret_minute = clock.minute;
	if (ret_weekday)
		*ret_weekday = g_date_get_weekday(&clock.date);
}

int
calendar_utc_offset(gint64 utc)
{
	return zone_offset(utc);
}

gint64
calendar_local_day_start(gint64 utc)
{
	WallClock clock;

	wall_clock_at(utc, &clock);
	return wall_to_utc(wall_seconds(&clock.date, 0, 0, 0));
}

void
calendar_local_date(gint64 utc, GDate *ret_date)
{
	WallClock clock;

	wall_clock_at(utc, &clock);
	*ret_date = clock.date;
}

/* ---- formatting and parsing ------------------------------------------ */

char *
calendar_format_local(gint64 utc)
{
	WallClock c;

	wall_clock_at(utc, &c);
	return g_strdup_printf("%04d-%02d-%02d %02d:%02d",
			       g_date_get_year(&c.date),
			       g_date_get_month(&c.date),
			       g_date_get_day(&c.date), c.hour, c.minute);
}

char *
calendar_format_iso(gint64 utc)
{
	int offset = zone_offset(utc);
	int magnitude = ABS(offset);
	WallClock c;

	wall_clock_from_seconds(clamp_instant(utc) + offset, &c);
	return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
			       g_date_get_year(&c.date),
			       g_date_get_month(&c.date),
			       g_date_get_day(&c.date), c.hour, c.minute,
			       c.second, offset < 0 ? '-' : '+',
			       magnitude / 3600, magnitude / 60 % 60);
}

/* What calendar_parse_time() read, before range checks. */
typedef struct {
	int year, month, day;
	int hour, minute, second;
	gboolean has_offset;
	int offset_seconds;
} TimeFields;

static gboolean
scan_number(const char **cursor, guint width, int *ret_value)
{
	int value = 0;

	for (guint i = 0; i < width; i++) {
		if (!g_ascii_isdigit((*cursor)[i]))
			return FALSE;
		value = value * 10 + ((*cursor)[i] - '0');
	}
	*cursor += width;
	*ret_value = value;
	return TRUE;
}

static gboolean
scan_char(const char **cursor, char expected)
{
	if (**cursor != expected)
		return FALSE;
	(*cursor)++;
	return TRUE;
}

/* "Z", "+02:00" or "+0200"; TRUE with nothing read at the end. */
static gboolean
scan_offset(const char **cursor, TimeFields *ret)
{
	int sign = **cursor == '-' ? -1 : 1;
	int hours, minutes;

	if (**cursor == '\0')
		return TRUE;
	ret->has_offset = TRUE;
	if (scan_char(cursor, 'Z'))
		return TRUE;
	if (!scan_char(cursor, '+') && !scan_char(cursor, '-'))
		return FALSE;
	if (!scan_number(cursor, 2, &hours))
		return FALSE;
	scan_char(cursor, ':');
	if (!scan_number(cursor, 2, &minutes) || hours > 14 || minutes > 59)
		return FALSE;
	ret->offset_seconds = sign * (hours * 3600 + minutes * 60);
	return TRUE;
}

static gboolean
scan_time_fields(const char *text, TimeFields *ret)
{
	const char *p = text;

	memset(ret, 0, sizeof(*ret));
	if (!scan_number(&p, 4, &ret->year) || !scan_char(&p, '-') ||
	    !scan_number(&p, 2, &ret->month) || !scan_char(&p, '-') ||
	    !scan_number(&p, 2, &ret->day))
		return FALSE;
	if (*p == '\0')
		return TRUE;
	if (!scan_char(&p, 'T') && !scan_char(&p, ' '))
		return FALSE;
	if (!scan_number(&p, 2, &ret->hour) || !scan_char(&p, ':') ||
	    !scan_number(&p, 2, &ret->minute))
		return FALSE;
	if (scan_char(&p, ':') && !scan_number(&p, 2, &ret->second))
		return FALSE;
	return scan_offset(&p, ret) && *p == '\0';
}

static gboolean
time_fields_in_range(const TimeFields *f)
{
	return f->year >= PARSE_YEAR_MIN && f->year <= PARSE_YEAR_MAX &&
	       g_date_valid_dmy(f->day, f->month, f->year) && f->hour < 24 &&
	       f->minute < 60 && f->second < 60;
}

static gboolean
set_time_error(GError **error, const char *text, const char *problem)
{
	/* The text may be anything a caller sent: escape it to ASCII. */
	g_autofree char *shown = g_strescape(text, NULL);

	if (strlen(shown) > 64)
		strcpy(shown + 61, "...");
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "\"%s\" %s; use YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS] or "
		    "YYYY-MM-DDTHH:MM[:SS], optionally followed by Z or an "
		    "offset such as +02:00 (without one the time is "
		    "Europe/Helsinki local time)", shown, problem);
	return FALSE;
}

gboolean
calendar_parse_time(const char *text, gint64 *ret_utc, GError **error)
{
	TimeFields f;
	GDate date;
	gint64 wall;

	g_return_val_if_fail(text != NULL, FALSE);
	if (!scan_time_fields(text, &f))
		return set_time_error(error, text, "is not a time");
	if (!time_fields_in_range(&f))
		return set_time_error(error, text, "is out of range (years "
				      G_STRINGIFY(PARSE_YEAR_MIN) "-"
				      G_STRINGIFY(PARSE_YEAR_MAX) ")");
	g_date_clear(&date, 1);
	g_date_set_dmy(&date, f.day, f.month, f.year);
	wall = wall_seconds(&date, f.hour, f.minute, f.second);
	if (ret_utc)
		*ret_utc = f.has_offset ? wall - f.offset_seconds
					: wall_to_utc(wall);
	return TRUE;
}

/* ---- recurrence rules ------------------------------------------------ */

static const char *const rrule_parts[] = {
	"FREQ", "UNTIL", "COUNT", "INTERVAL", "BYDAY", "BYMONTHDAY",
	"BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST", NULL,
};

static const char *const rrule_frequencies[] = {
	"DAILY", "WEEKLY", "MONTHLY", "YEARLY", NULL,
};

static gboolean
set_rrule_error(GError **error, const char *rrule, const char *problem)
{
	g_autofree char *shown = g_strescape(rrule, NULL);

	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG,
		    "RRULE \"%s\": %s", shown, problem);
	return FALSE;
}

static gboolean
in_list(const char *const *list, const char *word)
{
	for (guint i = 0; list[i]; i++)
		if (g_ascii_strcasecmp(list[i], word) == 0)
			return TRUE;
	return FALSE;
}

static gboolean
all_digits(const char *text)
{
	if (*text == '\0')
		return FALSE;
	for (; *text; text++)
		if (!g_ascii_isdigit(*text))
			return FALSE;
	return TRUE;
}

/* The largest |n| of the ordinal weekdays in a BYDAY ("2TU", "-1FR"),
 * 0 when there are none. */
static guint
byday_max_ordinal(const char *value)
{
	g_auto(GStrv) days = g_strsplit(value, ",", -1);
	guint largest = 0;

	for (guint i = 0; days[i]; i++) {
		const char *digits = days[i];

		if (*digits == '+' || *digits == '-')
			digits++;
		if (g_ascii_isdigit(*digits))
			largest = MAX(largest, (guint)g_ascii_strtoull(digits,
								       NULL,
								       10));
	}
	return largest;
}

/* Splits the rule into NAME=VALUE parts keyed by the upper-case name. */
static gboolean
split_rrule(const char *rrule, GHashTable *ret_parts, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(rrule, ";", -1);

	for (guint i = 0; parts[i]; i++) {
		g_auto(GStrv) pair = g_strsplit(parts[i], "=", 2);

		if (!pair[0] || !pair[1] || pair[1][0] == '\0')
			return set_rrule_error(error, rrule, "every part must "
					       "be NAME=VALUE, separated by "
					       "single ';'");
		if (!in_list(rrule_parts, pair[0]))
			return set_rrule_error(error, rrule, "use only FREQ, "
					       "UNTIL, COUNT, INTERVAL, WKST "
					       "and the BYDAY, BYMONTHDAY, "
					       "BYYEARDAY, BYWEEKNO, BYMONTH "
					       "and BYSETPOS parts");
		if (!g_hash_table_insert(ret_parts,
					 g_ascii_strup(pair[0], -1),
					 g_strdup(pair[1])))
			return set_rrule_error(error, rrule, "a part is "
					       "repeated");
	}
	return TRUE;
}

/* An ordinal weekday only means something in a month or a year, and
 * one past the 5th (53rd) never occurs; libical searches for centuries
 * before it gives up on those. */
static gboolean
check_rrule_ordinals(const char *rrule, const char *freq, const char *byday,
		     GError **error)
{
	guint ordinal = byday ? byday_max_ordinal(byday) : 0;

	if (ordinal == 0)
		return TRUE;
	if (g_ascii_strcasecmp(freq, "MONTHLY") == 0 && ordinal <= 5)
		return TRUE;
	if (g_ascii_strcasecmp(freq, "YEARLY") == 0 && ordinal <= 53)
		return TRUE;
	return set_rrule_error(error, rrule, "a numbered BYDAY (2TU) needs "
			       "FREQ=MONTHLY with 1-5 or FREQ=YEARLY with "
			       "1-53");
}

/* libical skips empty parts and trailing junk in numbers silently
 * ("FREQ=WEEKLY;;BYDAY=MO" repeats on every weekday), so the shape of
 * the text is checked here first. */
static gboolean
check_rrule_text(const char *rrule, GError **error)
{
	g_autoptr(GHashTable) parts = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, g_free);
	const char *freq, *count, *interval, *byday;

	if (!split_rrule(rrule, parts, error))
		return FALSE;
	freq = g_hash_table_lookup(parts, "FREQ");
	count = g_hash_table_lookup(parts, "COUNT");
	interval = g_hash_table_lookup(parts, "INTERVAL");
	byday = g_hash_table_lookup(parts, "BYDAY");
	if (!freq || !in_list(rrule_frequencies, freq))
		return set_rrule_error(error, rrule, "FREQ must be DAILY, "
				       "WEEKLY, MONTHLY or YEARLY");
	if ((count && !all_digits(count)) ||
	    (interval && !all_digits(interval)))
		return set_rrule_error(error, rrule, "COUNT and INTERVAL "
				       "take a positive whole number");
	return check_rrule_ordinals(rrule, freq, byday, error);
}

static struct icaltimetype
date_to_ical(const GDate *date)
{
	/* Not icaltime_null_date(): it sets the time fields to -1, which
	 * sends libical's ICU-based iterator into an endless loop. */
	struct icaltimetype t = icaltime_null_time();

	t.year = g_date_get_year(date);
	t.month = g_date_get_month(date);
	t.day = g_date_get_day(date);
	t.is_date = 1;
	return t;
}

static gboolean
parse_rrule(const char *rrule, struct icalrecurrencetype *ret,
	    GError **error)
{
	g_return_val_if_fail(rrule != NULL, FALSE);
	if (!check_rrule_text(rrule, error))
		return FALSE;
	calendar_init();
	icalerror_clear_errno();
	*ret = icalrecurrencetype_from_string(rrule);
	if (ret->freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
		icalerror_clear_errno();
		return set_rrule_error(error, rrule, "libical cannot parse it "
				       "(see RFC 5545, 3.3.10)");
	}
	return TRUE;
}

/* Rules libical refuses to iterate (BYMONTH=2;BYMONTHDAY=30) only show
 * up when an iterator is made. */
static icalrecur_iterator *
new_iterator(const char *rrule, struct icalrecurrencetype *recur,
	     const GDate *dtstart, GError **error)
{
	icalrecur_iterator *iterator;

	icalerror_clear_errno();
	iterator = icalrecur_iterator_new(*recur, date_to_ical(dtstart));
	if (!iterator) {
		icalerror_clear_errno();
		set_rrule_error(error, rrule, "it can never occur, or libical "
				"cannot expand it");
	}
	return iterator;
}

/* Besides parsing, the pattern (without its UNTIL or COUNT) must match
 * some date: a rule that never matches costs libical a search of
 * centuries each time it is expanded, so it is refused here, once. */
gboolean
calendar_check_rrule(const char *rrule, GError **error)
{
	g_autoptr(icalrecur_iterator) iterator = NULL;
	struct icalrecurrencetype recur;
	GDate reference;

	if (!parse_rrule(rrule, &recur, error))
		return FALSE;
	recur.until = icaltime_null_time();
	recur.count = 0;
	g_date_clear(&reference, 1);
	g_date_set_dmy(&reference, 1, G_DATE_JANUARY, 2026);
	iterator = new_iterator(rrule, &recur, &reference, error);
	if (!iterator)
		return FALSE;
	if (icaltime_is_null_time(icalrecur_iterator_next(iterator)))
		return set_rrule_error(error, rrule, "it never occurs");
	return TRUE;
}

/* Stop libical at `to`: without an end a rule that never matches keeps
 * its month-by-month search going for centuries. */
static void
bound_rrule(struct icalrecurrencetype *recur, const GDate *to)
{
	struct icaltimetype last = date_to_ical(to);

	if (icaltime_is_null_time(recur->until) ||
	    icaltime_compare_date_only(recur->until, last) > 0)
		recur->until = last;
}

static gboolean
collect_dates(const char *rrule, icalrecur_iterator *iterator,
	      const GDate *from, const GDate *to, GArray *ret_dates,
	      GError **error)
{
	guint original_len = ret_dates->len;

	for (guint i = 0; i < RRULE_MAX_ITERATIONS; i++) {
		struct icaltimetype next = icalrecur_iterator_next(iterator);
		GDate date;

		if (icaltime_is_null_time(next))
			return TRUE;
		g_date_clear(&date, 1);
		g_date_set_dmy(&date, next.day, next.month, next.year);
		if (g_date_compare(&date, to) > 0)
			return TRUE;
		if (g_date_compare(&date, from) >= 0)
			g_array_append_val(ret_dates, date);
	}
	g_array_set_size(ret_dates, original_len);
	return set_rrule_error(error, rrule, "too many occurrences before the "
			       "end of the range; start the rule later");
}

gboolean
calendar_expand_rrule(const char *rrule, const GDate *dtstart,
		      const GDate *from, const GDate *to, GArray *ret_dates,
		      GError **error)
{
	g_autoptr(icalrecur_iterator) iterator = NULL;
	struct icalrecurrencetype recur;

	g_return_val_if_fail(g_date_valid(dtstart), FALSE);
	g_return_val_if_fail(g_date_valid(from) && g_date_valid(to), FALSE);
	g_return_val_if_fail(ret_dates != NULL, FALSE);
	if (!parse_rrule(rrule, &recur, error))
		return FALSE;
	bound_rrule(&recur, to);
	iterator = new_iterator(rrule, &recur, dtstart, error);
	if (!iterator)
		return FALSE;
	return collect_dates(rrule, iterator, from, to, ret_dates, error);
}

/* ---- holidays -------------------------------------------------------- */

typedef struct {
	GDateMonth month;
	GDateDay day;
	const char *name;
} FixedHoliday;

typedef struct {
	int days_after_easter;
	const char *name;
} EasterHoliday;

static const FixedHoliday fixed_holidays[] = {
	{ G_DATE_JANUARY, 1, "Uudenvuodenpäivä / Nyårsdagen" },
	{ G_DATE_JANUARY, 6, "Loppiainen / Trettondagen" },
	{ G_DATE_MAY, 1, "Vappu / Första maj" },
	{ G_DATE_DECEMBER, 6, "Itsenäisyyspäivä / Självständighetsdagen" },
	{ G_DATE_DECEMBER, 25, "Joulupäivä / Juldagen" },
	{ G_DATE_DECEMBER, 26, "Tapaninpäivä / Annandag jul" },
};

static const EasterHoliday easter_holidays[] = {
	{ -2, "Pitkäperjantai / Långfredagen" },
	{ 0, "Pääsiäispäivä / Påskdagen" },
	{ 1, "2. pääsiäispäivä / Annandag påsk" },
	{ 39, "Helatorstai / Kristi himmelsfärdsdag" },
	{ 49, "Helluntaipäivä / Pingstdagen" },
};

/* Holidays kept on the Saturday of a seven-day span. The rules are the
 * ones in force since 1992 (Epiphany and Ascension were Saturdays in
 * 1973-1991); earlier years are not needed for bookings. */
static const FixedHoliday saturday_holidays[] = {
	{ G_DATE_JUNE, 20, "Juhannuspäivä / Midsommardagen" },
	{ G_DATE_OCTOBER, 31, "Pyhäinpäivä / Alla helgons dag" },
};

/* Knuth's form of the Gregorian computus (TAOCP 1.3.2, ex. 14): the
 * epact gives the Paschal full moon, Easter is the Sunday after it. */
void
calendar_easter(int year, GDate *ret_date)
{
	int golden = year % 19 + 1;
	int century = year / 100 + 1;
	int skipped_leap_days = 3 * century / 4 - 12;
	int moon_correction = (8 * century + 5) / 25 - 5;
	int epact = (11 * golden + 20 + moon_correction - skipped_leap_days)
		    % 30;
	int full_moon; /* a day of March; past 31 runs into April */

	if (epact < 0)
		epact += 30;
	if ((epact == 25 && golden > 11) || epact == 24)
		epact++;
	full_moon = 44 - epact;
	if (full_moon < 21)
		full_moon += 30;
	g_date_clear(ret_date, 1);
	g_date_set_dmy(ret_date, 1, G_DATE_MARCH, year);
	g_date_add_days(ret_date, full_moon - 1);
	/* G_DATE_SUNDAY is 7: a full moon on a Sunday waits a week. */
	g_date_add_days(ret_date, 7 - g_date_get_weekday(ret_date) % 7);
}

static int
days_between(const GDate *from, const GDate *to)
{
	return (int)g_date_get_julian(to) - (int)g_date_get_julian(from);
}

static const char *
saturday_holiday_name(const GDate *date)
{
	GDate span_start;
	int offset;

	if (g_date_get_weekday(date) != G_DATE_SATURDAY)
		return NULL;
	for (guint i = 0; i < G_N_ELEMENTS(saturday_holidays); i++) {
		g_date_clear(&span_start, 1);
		g_date_set_dmy(&span_start, saturday_holidays[i].day,
			       saturday_holidays[i].month,
			       g_date_get_year(date));
		offset = days_between(&span_start, date);
		if (offset >= 0 && offset < 7)
			return saturday_holidays[i].name;
	}
	return NULL;
}

const char *
calendar_holiday_name(const GDate *date)
{
	GDate easter;
	int offset;

	g_return_val_if_fail(g_date_valid(date), NULL);
	for (guint i = 0; i < G_N_ELEMENTS(fixed_holidays); i++)
		if (g_date_get_month(date) == fixed_holidays[i].month &&
		    g_date_get_day(date) == fixed_holidays[i].day)
			return fixed_holidays[i].name;
	calendar_easter(g_date_get_year(date), &easter);
	offset = days_between(&easter, date);
	for (guint i = 0; i < G_N_ELEMENTS(easter_holidays); i++)
		if (offset == easter_holidays[i].days_after_easter)
			return easter_holidays[i].name;
	return saturday_holiday_name(date);
}

gboolean
calendar_is_public_holiday(const GDate *date)
{
	return calendar_holiday_name(date) != NULL;
}

/* Midsummer Eve is the day before Midsummer Day, Christmas Eve 24.12. */
static gboolean
is_eve(const GDate *date)
{
	GDate next = *date;

	if (g_date_get_month(date) == G_DATE_DECEMBER &&
	    g_date_get_day(date) == 24)
		return TRUE;
	if (g_date_get_month(date) != G_DATE_JUNE)
		return FALSE;
	g_date_add_days(&next, 1);
	return saturday_holiday_name(&next) != NULL;
}

gboolean
calendar_is_non_working_eve(const GDate *date)
{
	g_return_val_if_fail(g_date_valid(date), FALSE);
	return is_eve(date) || calendar_is_public_holiday(date);
}

gboolean
calendar_is_working_day(const GDate *date)
{
	g_return_val_if_fail(g_date_valid(date), FALSE);
	if (g_date_get_weekday(date) >= G_DATE_SATURDAY)
		return FALSE;
	return !calendar_is_non_working_eve(date);
}

/* ---- deadlines ------------------------------------------------------- */

void
calendar_add_working_days(const GDate *received, guint n, GDate *ret_date)
{
	g_return_if_fail(g_date_valid(received));
	*ret_date = *received;
	while (n > 0) {
		g_date_add_days(ret_date, 1);
		if (calendar_is_working_day(ret_date))
			n--;
	}
}

void
calendar_add_days(const GDate *received, guint n, GDate *ret_date)
{
	g_return_if_fail(g_date_valid(received));
	*ret_date = *received;
	g_date_add_days(ret_date, n);
}

void
calendar_add_months(const GDate *received, guint n, GDate *ret_date)
{
	g_return_if_fail(g_date_valid(received));
	*ret_date = *received;
	/* GLib clamps 31.1 + 1 month to the last day of February. */
	g_date_add_months(ret_date, n);
}

/* ---- the plugin SDK -------------------------------------------------- */

char *
slotd_format_local(gint64 utc)
{
	return calendar_format_local(utc);
}

gint64
slotd_local_to_utc(int year, int month, int day, int hour, int minute)
{
	return calendar_local_to_utc(year, month, day, hour, minute);
}

void
slotd_local_time(gint64 utc, GDate *ret_date, int *ret_minute)
{
	WallClock c;

	wall_clock_at(utc, &c);
	if (ret_date)
		*ret_date = c.date;
	if (ret_minute)
		*ret_minute = c.hour * 60 + c.minute;
}
