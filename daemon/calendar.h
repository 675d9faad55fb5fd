/* Time and the calendar: Europe/Helsinki wall clock <-> UTC (libical),
 * RRULE expansion of opening windows, Finnish public holidays and
 * working-day deadline arithmetic. */
#pragma once

#include <glib.h>

/* Call once at start-up (libical error handling, the zone). */
void calendar_init(void);

/* UTC seconds of a local wall-clock time. A time that does not exist
 * (spring forward) moves forward by the gap; an ambiguous one (fall
 * back) is the first, summer-time, instance. */
gint64 calendar_local_to_utc(int year, int month, int day, int hour,
			     int minute);
/* Local date and time of a UTC instant. */
void calendar_utc_to_local(gint64 utc, int *ret_year, int *ret_month,
			   int *ret_day, int *ret_hour, int *ret_minute,
			   int *ret_weekday /* 1 = Monday .. 7 = Sunday */);
/* UTC offset in seconds at an instant (7200 or 10800). */
int calendar_utc_offset(gint64 utc);
/* Local midnight (start of the local day) containing `utc`. */
gint64 calendar_local_day_start(gint64 utc);
/* "2026-12-07 14:00" local; "2026-12-07T14:00:00+02:00" ISO. */
char *calendar_format_local(gint64 utc);
char *calendar_format_iso(gint64 utc);
/* Parses "2026-12-07", "2026-12-07T14:00", "2026-12-07 14:00",
 * with optional seconds and an optional offset or Z; local time when no
 * offset. A bare date is its local midnight. */
gboolean calendar_parse_time(const char *text, gint64 *ret_utc,
			     GError **error);

/* Occurrence dates of an RRULE (local dates) whose first possible date
 * is `dtstart`, within [from, to] inclusive. Error for a bad rule. */
gboolean calendar_expand_rrule(const char *rrule, const GDate *dtstart,
			       const GDate *from, const GDate *to,
			       GArray *ret_dates /* of GDate */,
			       GError **error);
/* Validates an RRULE text without expanding it. */
gboolean calendar_check_rrule(const char *rrule, GError **error);

/* Finnish public holidays (Sundays not included): New Year, Epiphany,
 * Good Friday, Easter Sunday and Monday, May Day, Ascension,
 * Pentecost, Midsummer Day, All Saints, Independence Day, Christmas
 * Day, St Stephen's Day. The name is Finnish/Swedish, or NULL. */
const char *calendar_holiday_name(const GDate *date);
gboolean calendar_is_public_holiday(const GDate *date);
/* Public holidays plus Midsummer Eve and Christmas Eve. */
gboolean calendar_is_non_working_eve(const GDate *date);
/* Monday to Friday and not a holiday nor one of the two eves. */
gboolean calendar_is_working_day(const GDate *date);
void calendar_easter(int year, GDate *ret_date);

/* Deadline arithmetic; the day of receipt does not count.
 * Working days: the n-th working day after `received`.
 * Calendar days: received + n. Months: the same date n months later
 * (clamped to the month's last day). */
void calendar_add_working_days(const GDate *received, guint n,
			       GDate *ret_date);
void calendar_add_days(const GDate *received, guint n, GDate *ret_date);
void calendar_add_months(const GDate *received, guint n, GDate *ret_date);
/* The local date of a UTC instant. */
void calendar_local_date(gint64 utc, GDate *ret_date);
