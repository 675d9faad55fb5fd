/* Tests of daemon/calendar.c: Helsinki time across the DST days,
 * parsing and formatting, Finnish holidays, working-day deadlines and
 * RRULE expansion. Expected instants come from GLib's own time zone
 * code or are written out by hand, never from calendar.c itself. */
#include <string.h>

#include <slotd/plugin.h>

#include "calendar.h"

#include <libical/ical.h>

/* UTC seconds of a UTC reading, by GLib: the independent reference. */
static gint64
utc(int year, int month, int day, int hour, int minute)
{
	g_autoptr(GDateTime) t = g_date_time_new_utc(year, month, day, hour,
						     minute, 0);

	return g_date_time_to_unix(t);
}

static GDate
dmy(int day, int month, int year)
{
	GDate date;

	g_date_clear(&date, 1);
	g_date_set_dmy(&date, day, month, year);
	return date;
}

static void
assert_date(const GDate *date, int day, int month, int year)
{
	g_assert_true(g_date_valid(date));
	g_assert_cmpint(g_date_get_year(date), ==, year);
	g_assert_cmpint(g_date_get_month(date), ==, month);
	g_assert_cmpint(g_date_get_day(date), ==, day);
}

/* ---- DST ------------------------------------------------------------- */

static void
test_spring_forward(void)
{
	/* 08:00 is summer time (UTC+3) on the change day. */
	g_assert_cmpint(calendar_local_to_utc(2026, 3, 29, 8, 0), ==,
			utc(2026, 3, 29, 5, 0));
	g_assert_cmpint(calendar_local_to_utc(2026, 3, 29, 2, 59), ==,
			utc(2026, 3, 29, 0, 59));
	g_assert_cmpint(calendar_local_to_utc(2026, 3, 29, 4, 0), ==,
			utc(2026, 3, 29, 1, 0));
	g_assert_cmpint(calendar_utc_offset(utc(2026, 3, 29, 1, 0) - 1), ==,
			7200);
	g_assert_cmpint(calendar_utc_offset(utc(2026, 3, 29, 1, 0)), ==,
			10800);
}

static void
test_fall_back(void)
{
	/* 08:00 is standard time (UTC+2) again on the change day. */
	g_assert_cmpint(calendar_local_to_utc(2026, 10, 25, 8, 0), ==,
			utc(2026, 10, 25, 6, 0));
	g_assert_cmpint(calendar_local_to_utc(2026, 10, 25, 2, 59), ==,
			utc(2026, 10, 24, 23, 59));
	g_assert_cmpint(calendar_local_to_utc(2026, 10, 25, 4, 0), ==,
			utc(2026, 10, 25, 2, 0));
	g_assert_cmpint(calendar_utc_offset(utc(2026, 10, 25, 1, 0) - 1), ==,
			10800);
	g_assert_cmpint(calendar_utc_offset(utc(2026, 10, 25, 1, 0)), ==,
			7200);
}

static gint64
night_shift_seconds(int year, int month, int day)
{
	GDate start = dmy(day, month, year);
	GDate end = start;
	gint64 from, to;

	g_date_add_days(&end, 1);
	from = calendar_local_to_utc(year, month, day, 22, 0);
	to = calendar_local_to_utc(g_date_get_year(&end),
				   g_date_get_month(&end),
				   g_date_get_day(&end), 7, 30);
	return to - from;
}

static void
test_night_shift(void)
{
	/* 22:00 -> 07:30 is 9.5 h of wall clock: one hour less across the
	 * spring change, one hour more across the autumn one. */
	g_assert_cmpint(night_shift_seconds(2026, 3, 27), ==, 9 * 3600 + 1800);
	g_assert_cmpint(night_shift_seconds(2026, 3, 28), ==, 8 * 3600 + 1800);
	g_assert_cmpint(night_shift_seconds(2026, 10, 24), ==,
			10 * 3600 + 1800);
	g_assert_cmpint(night_shift_seconds(2026, 10, 25), ==, 9 * 3600 + 1800);
}

static void
test_gap_moves_forward(void)
{
	gint64 t = calendar_local_to_utc(2026, 3, 29, 3, 30);
	int hour, minute;

	/* 03:30 does not exist: one hour later, 04:30 EEST = 01:30Z. */
	g_assert_cmpint(t, ==, utc(2026, 3, 29, 1, 30));
	calendar_utc_to_local(t, NULL, NULL, NULL, &hour, &minute, NULL);
	g_assert_cmpint(hour, ==, 4);
	g_assert_cmpint(minute, ==, 30);
	g_assert_cmpint(calendar_utc_offset(t), ==, 10800);
	g_assert_cmpint(calendar_local_to_utc(2026, 3, 29, 3, 0), ==,
			utc(2026, 3, 29, 1, 0));
	/* The same in 2025 (30 March). */
	g_assert_cmpint(calendar_local_to_utc(2025, 3, 30, 3, 15), ==,
			utc(2025, 3, 30, 1, 15));
}

static void
test_overlap_first_instance(void)
{
	/* 03:30 happens twice: first at 00:30Z (EEST), then 01:30Z. */
	g_assert_cmpint(calendar_local_to_utc(2026, 10, 25, 3, 30), ==,
			utc(2026, 10, 25, 0, 30));
	g_assert_cmpint(calendar_local_to_utc(2026, 10, 25, 3, 0), ==,
			utc(2026, 10, 25, 0, 0));
	g_assert_cmpint(calendar_local_to_utc(2025, 10, 26, 3, 59), ==,
			utc(2025, 10, 26, 0, 59));
}

static void
assert_matches_glib(GTimeZone *zone, gint64 t)
{
	g_autoptr(GDateTime) u = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) local = g_date_time_to_timezone(u, zone);
	int year, month, day, hour, minute, weekday;

	calendar_utc_to_local(t, &year, &month, &day, &hour, &minute,
			      &weekday);
	g_assert_cmpint(year, ==, g_date_time_get_year(local));
	g_assert_cmpint(month, ==, g_date_time_get_month(local));
	g_assert_cmpint(day, ==, g_date_time_get_day_of_month(local));
	g_assert_cmpint(hour, ==, g_date_time_get_hour(local));
	g_assert_cmpint(minute, ==, g_date_time_get_minute(local));
	g_assert_cmpint(weekday, ==, g_date_time_get_day_of_week(local));
	g_assert_cmpint(calendar_utc_offset(t), ==,
			g_date_time_get_utc_offset(local) / G_TIME_SPAN_SECOND);
}

/* Every hour of 2026 goes to local time and back; only the repeated
 * hour of 25 October comes back one hour early (its first instance). */
static void
test_round_trip_2026(void)
{
	g_autoptr(GTimeZone) zone = g_time_zone_new_identifier(
		"Europe/Helsinki");
	gint64 repeated = utc(2026, 10, 25, 1, 0);
	guint hours = 0;

	g_assert_nonnull(zone);
	for (gint64 t = utc(2026, 1, 1, 0, 0); t < utc(2027, 1, 1, 0, 0);
	     t += 3600, hours++) {
		int y, mo, d, h, mi;
		gint64 back;

		calendar_utc_to_local(t, &y, &mo, &d, &h, &mi, NULL);
		back = calendar_local_to_utc(y, mo, d, h, mi);
		assert_matches_glib(zone, t);
		if (t == repeated)
			g_assert_cmpint(back, ==, t - 3600);
		else
			g_assert_cmpint(back, ==, t);
	}
	g_assert_cmpuint(hours, ==, 365 * 24);
}

static void
test_far_future(void)
{
	/* libical's zone expansion has year limits; summer stays summer. */
	g_assert_cmpint(calendar_local_to_utc(2040, 7, 1, 12, 0), ==,
			utc(2040, 7, 1, 9, 0));
	g_assert_cmpint(calendar_local_to_utc(2040, 12, 1, 12, 0), ==,
			utc(2040, 12, 1, 10, 0));
}

static void
test_day_start(void)
{
	GDate date;

	g_assert_cmpint(calendar_local_day_start(utc(2026, 3, 29, 12, 0)), ==,
			utc(2026, 3, 28, 22, 0));
	g_assert_cmpint(calendar_local_day_start(utc(2026, 10, 25, 23, 0)), ==,
			utc(2026, 10, 25, 22, 0));
	g_assert_cmpint(calendar_local_day_start(utc(2026, 7, 1, 21, 0)), ==,
			utc(2026, 7, 1, 21, 0));
	/* 23:30Z on 30 June is already 1 July in Helsinki. */
	calendar_local_date(utc(2026, 6, 30, 23, 30), &date);
	assert_date(&date, 1, 7, 2026);
}

/* Any gint64 a caller sends is formatted without overflow or crash. */
static void
test_extreme_instants(void)
{
	static const gint64 instants[] = { G_MININT64, G_MAXINT64, -1 };

	for (guint i = 0; i < G_N_ELEMENTS(instants); i++) {
		g_autofree char *iso = calendar_format_iso(instants[i]);
		g_autofree char *local = calendar_format_local(instants[i]);
		GDate date;

		g_assert_nonnull(iso);
		g_assert_nonnull(local);
		calendar_local_date(instants[i], &date);
		g_assert_true(g_date_valid(&date));
	}
}

/* ---- formatting and parsing ----------------------------------------- */

static void
test_format(void)
{
	g_autofree char *winter = calendar_format_iso(utc(2026, 12, 7, 12, 0));
	g_autofree char *summer = calendar_format_iso(utc(2026, 6, 1, 6, 0) +
						      42);
	g_autofree char *local = calendar_format_local(utc(2026, 12, 7, 12, 0));
	g_autofree char *sdk = slotd_format_local(utc(2026, 3, 29, 1, 30));

	g_assert_cmpstr(winter, ==, "2026-12-07T14:00:00+02:00");
	g_assert_cmpstr(summer, ==, "2026-06-01T09:00:42+03:00");
	g_assert_cmpstr(local, ==, "2026-12-07 14:00");
	g_assert_cmpstr(sdk, ==, "2026-03-29 04:30");
	g_assert_cmpint(slotd_local_to_utc(2026, 12, 7, 14, 0), ==,
			utc(2026, 12, 7, 12, 0));
}

/* slotd_local_time() against GLib's own reading of the same instant in
 * Helsinki: every 7 minutes through both clock-change days of 2026 and
 * 2040, and every 53 minutes through 2026. */
static void
test_local_time(void)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier("Europe/Helsinki");
	const gint64 days[][2] = {
		{ utc(2026, 3, 28, 12, 0), 7 * 60 },
		{ utc(2026, 10, 24, 12, 0), 7 * 60 },
		{ utc(2040, 3, 24, 12, 0), 7 * 60 },
		{ utc(2040, 10, 27, 12, 0), 7 * 60 },
		{ utc(2026, 1, 1, 0, 0), 53 * 60 },
	};

	g_assert_nonnull(tz);
	for (guint d = 0; d < G_N_ELEMENTS(days); d++) {
		gint64 span = d == 4 ? 365 * 86400 : 2 * 86400;

		for (gint64 t = days[d][0]; t < days[d][0] + span;
		     t += days[d][1]) {
			g_autoptr(GDateTime) utc_time =
				g_date_time_new_from_unix_utc(t);
			g_autoptr(GDateTime) local =
				g_date_time_to_timezone(utc_time, tz);
			GDate date;
			int minute = -1;

			slotd_local_time(t, &date, &minute);
			g_assert_cmpint(g_date_get_year(&date), ==,
					g_date_time_get_year(local));
			g_assert_cmpint(g_date_get_month(&date), ==,
					g_date_time_get_month(local));
			g_assert_cmpint(g_date_get_day(&date), ==,
					g_date_time_get_day_of_month(local));
			g_assert_cmpint(minute, ==,
					g_date_time_get_hour(local) * 60 +
						g_date_time_get_minute(local));
		}
	}
}

static void
test_parse_accepted(void)
{
	static const struct {
		const char *text;
		int y, mo, d, h, mi, s; /* UTC */
	} cases[] = {
		{ "2026-12-07", 2026, 12, 6, 22, 0, 0 },
		{ "2026-07-01", 2026, 6, 30, 21, 0, 0 },
		{ "2026-12-07T14:00", 2026, 12, 7, 12, 0, 0 },
		{ "2026-12-07 14:00", 2026, 12, 7, 12, 0, 0 },
		{ "2026-12-07T14:00:30", 2026, 12, 7, 12, 0, 30 },
		{ "2026-12-07T14:00Z", 2026, 12, 7, 14, 0, 0 },
		{ "2026-12-07 14:00:00Z", 2026, 12, 7, 14, 0, 0 },
		{ "2026-12-07T14:00:00+03:00", 2026, 12, 7, 11, 0, 0 },
		{ "2026-12-07T14:00+0300", 2026, 12, 7, 11, 0, 0 },
		{ "2026-12-07T14:00-05:30", 2026, 12, 7, 19, 30, 0 },
		{ "2026-06-15T14:00", 2026, 6, 15, 11, 0, 0 },
		{ "2026-03-29T03:30", 2026, 3, 29, 1, 30, 0 },
		{ "2026-10-25 03:30", 2026, 10, 25, 0, 30, 0 },
		{ "2028-02-29", 2028, 2, 28, 22, 0, 0 },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		gint64 t = 0;

		g_test_message("parsing %s", cases[i].text);
		g_assert_true(calendar_parse_time(cases[i].text, &t, &error));
		g_assert_no_error(error);
		g_assert_cmpint(t, ==, utc(cases[i].y, cases[i].mo, cases[i].d,
					   cases[i].h, cases[i].mi) +
					       cases[i].s);
	}
}

static void
test_parse_refused(void)
{
	static const char *const refused[] = {
		"", "tomorrow", "2026-13-01", "2026-00-10", "2026-02-30",
		"2027-02-29", "2026-12-07T25:00", "2026-12-07T24:00",
		"2026-12-07T14:60", "2026-12-07T14:00:60", "2026-12-07T14",
		"2026-12-7", "26-12-07", "2026/12/07", "2026-12-07T14:00+02",
		"2026-12-07T14:00+15:00", "2026-12-07T14:00+02:60",
		"2026-12-07Z", "2026-12-07T14:00 ", " 2026-12-07",
		"2026-12-07T14:00:00.5", "2026-12-07t14:00", "1899-12-31",
		"2026-12-07T14:00Zjunk", "\xff\x01\n",
	};

	for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree char *shown = g_strescape(refused[i], NULL);
		gint64 t = 42;

		g_test_message("refusing \"%s\"", shown);
		g_assert_false(calendar_parse_time(refused[i], &t, &error));
		g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
		g_assert_nonnull(strstr(error->message, "YYYY-MM-DD HH:MM"));
		g_assert_true(g_utf8_validate(error->message, -1, NULL));
		g_assert_cmpint(t, ==, 42);
	}
}

/* ---- holidays -------------------------------------------------------- */

/* Easter by the Meeus/Jones/Butcher formula: a second, independent
 * computus to check calendar_easter() against. */
static GDate
easter_reference(int y)
{
	int a = y % 19, b = y / 100, c = y % 100;
	int h = (19 * a + b - b / 4 - (b - (b + 8) / 25 + 1) / 3 + 15) % 30;
	int l = (32 + 2 * (b % 4) + 2 * (c / 4) - h - c % 4) % 7;
	int m = (a + 11 * h + 22 * l) / 451;
	int n = h + l - 7 * m + 114;

	return dmy(n % 31 + 1, n / 31, y);
}

static void
test_easter(void)
{
	static const int known[][3] = {
		{ 2000, 4, 23 }, { 2008, 3, 23 }, { 2011, 4, 24 },
		{ 2019, 4, 21 }, { 2024, 3, 31 }, { 2025, 4, 20 },
		{ 2026, 4, 5 },	 { 2027, 3, 28 }, { 2038, 4, 25 },
		{ 1818, 3, 22 }, { 2285, 3, 22 }, { 1943, 4, 25 },
	};
	GDate easter, reference;

	for (guint i = 0; i < G_N_ELEMENTS(known); i++) {
		calendar_easter(known[i][0], &easter);
		assert_date(&easter, known[i][2], known[i][1], known[i][0]);
	}
	for (int year = 1583; year <= 2500; year++) {
		calendar_easter(year, &easter);
		reference = easter_reference(year);
		g_assert_cmpint(g_date_compare(&easter, &reference), ==, 0);
		g_assert_cmpint(g_date_get_weekday(&easter), ==, G_DATE_SUNDAY);
	}
}

static void
assert_holiday(int day, int month, int year, const char *name_part)
{
	GDate date = dmy(day, month, year);
	const char *name = calendar_holiday_name(&date);

	g_test_message("%d.%d.%d: %s", day, month, year, name);
	g_assert_nonnull(name);
	g_assert_nonnull(strstr(name, name_part));
	g_assert_true(calendar_is_public_holiday(&date));
	g_assert_true(calendar_is_non_working_eve(&date));
	g_assert_false(calendar_is_working_day(&date));
}

static void
assert_eve(int day, int month, int year)
{
	GDate date = dmy(day, month, year);

	g_assert_null(calendar_holiday_name(&date));
	g_assert_false(calendar_is_public_holiday(&date));
	g_assert_true(calendar_is_non_working_eve(&date));
	g_assert_false(calendar_is_working_day(&date));
}

static void
assert_working(int day, int month, int year)
{
	GDate date = dmy(day, month, year);

	g_assert_null(calendar_holiday_name(&date));
	g_assert_false(calendar_is_non_working_eve(&date));
	g_assert_true(calendar_is_working_day(&date));
}

/* docs/region.md, "Calendar and time": the resolved dates. */
static void
test_holidays_2026(void)
{
	assert_holiday(1, 1, 2026, "Nyårsdagen");
	assert_holiday(6, 1, 2026, "Loppiainen");
	assert_holiday(3, 4, 2026, "Pitkäperjantai / Långfredagen");
	assert_holiday(5, 4, 2026, "Påskdagen");
	assert_holiday(6, 4, 2026, "2. pääsiäispäivä");
	assert_holiday(1, 5, 2026, "Vappu");
	assert_holiday(14, 5, 2026, "Helatorstai");
	assert_holiday(24, 5, 2026, "Helluntaipäivä");
	assert_eve(19, 6, 2026);
	assert_holiday(20, 6, 2026, "Juhannuspäivä");
	assert_holiday(31, 10, 2026, "Pyhäinpäivä");
	assert_holiday(6, 12, 2026, "Itsenäisyyspäivä");
	assert_eve(24, 12, 2026);
	assert_holiday(25, 12, 2026, "Joulupäivä");
	assert_holiday(26, 12, 2026, "Tapaninpäivä");
	/* Near misses. */
	assert_working(2, 4, 2026);
	assert_working(7, 4, 2026);
	assert_working(18, 6, 2026);
	assert_working(22, 6, 2026);
	assert_working(30, 10, 2026);
	assert_working(23, 12, 2026);
}

static void
test_holidays_2025(void)
{
	assert_holiday(18, 4, 2025, "Långfredagen");
	assert_holiday(21, 4, 2025, "Annandag påsk");
	assert_holiday(29, 5, 2025, "Kristi himmelsfärdsdag");
	assert_eve(20, 6, 2025);
	assert_holiday(21, 6, 2025, "Midsommardagen");
	assert_holiday(1, 11, 2025, "Alla helgons dag");
	assert_eve(24, 12, 2025);
	/* All Saints is not the fixed 1.11 every year. */
	assert_working(30, 10, 2026);
}

static void
test_weekends(void)
{
	GDate saturday = dmy(12, 12, 2026), sunday = dmy(13, 12, 2026);

	/* Sundays are not listed as holidays, but nobody works them. */
	g_assert_false(calendar_is_public_holiday(&sunday));
	g_assert_false(calendar_is_working_day(&saturday));
	g_assert_false(calendar_is_working_day(&sunday));
	/* A Saturday in June outside 20-26 is just a Saturday. */
	saturday = dmy(27, 6, 2026);
	g_assert_false(calendar_is_public_holiday(&saturday));
}

/* ---- deadlines ------------------------------------------------------- */

static void
assert_working_deadline(GDate received, guint n, int day, int month,
			int year)
{
	GDate deadline;

	calendar_add_working_days(&received, n, &deadline);
	assert_date(&deadline, day, month, year);
}

static void
test_deadline_christmas(void)
{
	/* Mon 21.12.2026: Tue 22 = 1, Wed 23 = 2, 24 eve, 25-27 off,
	 * Mon 28 = 3, 29 = 4, 30 = 5, Thu 31 = 6, Fri 1.1 holiday,
	 * 2-3.1 weekend, Mon 4.1.2027 = 7. */
	assert_working_deadline(dmy(21, 12, 2026), 7, 4, 1, 2027);
	/* Wed 23.12 + 1: the next working day is Mon 28.12. */
	assert_working_deadline(dmy(23, 12, 2026), 1, 28, 12, 2026);
	/* Thu 31.12.2026 + 3: Mon 4.1 = 1, Tue 5.1 = 2, Wed 6.1 Epiphany,
	 * Thu 7.1 = 3. */
	assert_working_deadline(dmy(31, 12, 2026), 3, 7, 1, 2027);
}

static void
test_deadline_midsummer(void)
{
	/* Thu 18.6.2026 + 1: Fri 19 eve, Sat 20 holiday, Sun 21. */
	assert_working_deadline(dmy(18, 6, 2026), 1, 22, 6, 2026);
	/* Wed 17.6 + 3: Thu 18 = 1, Mon 22 = 2, Tue 23 = 3. */
	assert_working_deadline(dmy(17, 6, 2026), 3, 23, 6, 2026);
}

static void
test_deadline_easter(void)
{
	/* Thu 2.4.2026 + 1: Good Friday 3.4, weekend, Easter Monday 6.4. */
	assert_working_deadline(dmy(2, 4, 2026), 1, 7, 4, 2026);
	/* Wed 1.4 + 5: Thu 2 = 1, Tue 7 = 2, 8 = 3, 9 = 4, Fri 10 = 5. */
	assert_working_deadline(dmy(1, 4, 2026), 5, 10, 4, 2026);
	/* Wed 13.5 + 1 skips Ascension Thu 14.5. */
	assert_working_deadline(dmy(13, 5, 2026), 1, 15, 5, 2026);
}

static void
test_deadline_plain_week(void)
{
	/* docs/region.md, "Legal deadlines": contact on Tuesday ->
	 * Thursday of next week. */
	GDate received = dmy(8, 9, 2026);

	g_assert_cmpint(g_date_get_weekday(&received), ==, G_DATE_TUESDAY);
	assert_working_deadline(received, 7, 17, 9, 2026);
	/* Received on a Saturday: the first working day is Monday. */
	assert_working_deadline(dmy(12, 9, 2026), 1, 14, 9, 2026);
	/* Zero working days: the day itself. */
	assert_working_deadline(dmy(12, 9, 2026), 0, 12, 9, 2026);
}

static void
test_deadline_days_and_months(void)
{
	GDate received, deadline;

	received = dmy(20, 12, 2026);
	calendar_add_days(&received, 14, &deadline);
	assert_date(&deadline, 3, 1, 2027);
	received = dmy(31, 1, 2026);
	calendar_add_months(&received, 1, &deadline);
	assert_date(&deadline, 28, 2, 2026);
	received = dmy(31, 1, 2028);
	calendar_add_months(&received, 1, &deadline);
	assert_date(&deadline, 29, 2, 2028);
	received = dmy(31, 3, 2026);
	calendar_add_months(&received, 1, &deadline);
	assert_date(&deadline, 30, 4, 2026);
	received = dmy(30, 11, 2026);
	calendar_add_months(&received, 3, &deadline);
	assert_date(&deadline, 28, 2, 2027);
	received = dmy(15, 11, 2026);
	calendar_add_months(&received, 6, &deadline);
	assert_date(&deadline, 15, 5, 2027);
}

/* ---- RRULE ----------------------------------------------------------- */

static GArray *
expand(const char *rrule, GDate dtstart, GDate from, GDate to)
{
	g_autoptr(GError) error = NULL;
	GArray *dates = g_array_new(FALSE, FALSE, sizeof(GDate));

	g_assert_true(calendar_expand_rrule(rrule, &dtstart, &from, &to,
					    dates, &error));
	g_assert_no_error(error);
	return dates;
}

static void
assert_days(GArray *dates, int month, int year, const int *days,
	    guint n_days)
{
	g_assert_cmpuint(dates->len, ==, n_days);
	for (guint i = 0; i < n_days; i++)
		assert_date(&g_array_index(dates, GDate, i), days[i], month,
			    year);
}

static void
test_rrule_weekly(void)
{
	static const int mondays[] = { 7, 14, 21, 28 };
	g_autoptr(GArray) dates = NULL;

	/* DTSTART on a Tuesday: it is not itself an occurrence. */
	dates = expand("FREQ=WEEKLY;BYDAY=MO", dmy(1, 12, 2026),
		       dmy(1, 12, 2026), dmy(31, 12, 2026));
	assert_days(dates, 12, 2026, mondays, G_N_ELEMENTS(mondays));
	g_array_unref(dates);
	/* A DTSTART long before the range. */
	dates = expand("FREQ=WEEKLY;BYDAY=MO", dmy(5, 1, 2026),
		       dmy(1, 12, 2026), dmy(31, 12, 2026));
	assert_days(dates, 12, 2026, mondays, G_N_ELEMENTS(mondays));
	g_array_unref(dates);
	/* The range ends are inclusive. */
	dates = expand("FREQ=WEEKLY;BYDAY=MO", dmy(5, 1, 2026),
		       dmy(7, 12, 2026), dmy(28, 12, 2026));
	assert_days(dates, 12, 2026, mondays, G_N_ELEMENTS(mondays));
}

static void
test_rrule_monthly(void)
{
	static const int first_tuesday[][2] = {
		{ 12, 1 }, { 1, 5 }, { 2, 2 }, { 3, 2 },
	};
	static const int second_tuesday[] = { 8 };
	g_autoptr(GArray) dates = NULL;

	dates = expand("FREQ=MONTHLY;BYDAY=1TU", dmy(1, 11, 2026),
		       dmy(1, 12, 2026), dmy(31, 3, 2027));
	g_assert_cmpuint(dates->len, ==, G_N_ELEMENTS(first_tuesday));
	for (guint i = 0; i < dates->len; i++) {
		GDate *d = &g_array_index(dates, GDate, i);

		g_assert_cmpint(g_date_get_month(d), ==, first_tuesday[i][0]);
		g_assert_cmpint(g_date_get_day(d), ==, first_tuesday[i][1]);
	}
	g_array_unref(dates);
	dates = expand("FREQ=MONTHLY;BYDAY=2TU", dmy(1, 1, 2026),
		       dmy(1, 12, 2026), dmy(31, 12, 2026));
	assert_days(dates, 12, 2026, second_tuesday, 1);
}

static void
test_rrule_daily_count_until(void)
{
	static const int every_other[] = { 1, 3, 5, 7, 9 };
	static const int counted[] = { 7, 14, 21 };
	static const int until[] = { 7, 14 };
	g_autoptr(GArray) dates = NULL;

	dates = expand("FREQ=DAILY;INTERVAL=2", dmy(1, 12, 2026),
		       dmy(1, 12, 2026), dmy(10, 12, 2026));
	assert_days(dates, 12, 2026, every_other, 5);
	g_array_unref(dates);
	dates = expand("FREQ=WEEKLY;BYDAY=MO;COUNT=3", dmy(1, 12, 2026),
		       dmy(1, 12, 2026), dmy(31, 12, 2026));
	assert_days(dates, 12, 2026, counted, 3);
	g_array_unref(dates);
	dates = expand("freq=weekly;byday=mo;until=20261214", dmy(1, 12, 2026),
		       dmy(1, 12, 2026), dmy(31, 12, 2026));
	assert_days(dates, 12, 2026, until, 2);
	g_array_unref(dates);
	/* DTSTART after the range, and an empty range. */
	dates = expand("FREQ=DAILY", dmy(1, 1, 2027), dmy(1, 12, 2026),
		       dmy(31, 12, 2026));
	g_assert_cmpuint(dates->len, ==, 0);
	g_array_unref(dates);
	dates = expand("FREQ=DAILY", dmy(1, 1, 2026), dmy(2, 12, 2026),
		       dmy(1, 12, 2026));
	g_assert_cmpuint(dates->len, ==, 0);
}

static void
test_rrule_refused(void)
{
	static const char *const refused[] = {
		"", "garbage", "FREQ=FOO", "FREQ=WEEKLY;BYDAY=XX",
		"FREQ=WEEKLY;FOO=BAR", "FREQ=WEEKLY;;BYDAY=MO",
		"FREQ=WEEKLY;BYDAY=MO;", "RRULE:FREQ=WEEKLY",
		"FREQ=WEEKLY;INTERVAL=0", "FREQ=WEEKLY;INTERVAL=2x",
		"FREQ=WEEKLY;COUNT=-1", "FREQ=WEEKLY;COUNT=3;UNTIL=20261231",
		"FREQ=WEEKLY;BYDAY=MO;BYDAY=TU", "BYDAY=MO",
		"FREQ=HOURLY", "FREQ=MINUTELY;BYMINUTE=5",
		"FREQ=WEEKLY;BYDAY=1MO", "FREQ=MONTHLY;BYDAY=6MO",
		"FREQ=WEEKLY;UNTIL=garbage",
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
		"FREQ=MONTHLY;BYMONTHDAY=0", "FREQ= WEEKLY",
		"FREQ=YEARLY;BYDAY=54MO", "FREQ=DAILY;RSCALE=HEBREW",
	};
	GDate day = dmy(1, 12, 2026), end = dmy(31, 12, 2026);

	for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GError) check_error = NULL;
		g_autoptr(GArray) dates = g_array_new(FALSE, FALSE,
						      sizeof(GDate));

		g_test_message("refusing \"%s\"", refused[i]);
		g_assert_false(calendar_check_rrule(refused[i], &check_error));
		g_assert_error(check_error, SLOTD_ERROR,
			       SLOTD_ERROR_INVALID_CONFIG);
		g_assert_false(calendar_expand_rrule(refused[i], &day, &day,
						     &end, dates, &error));
		g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG);
		g_assert_cmpuint(dates->len, ==, 0);
	}
	g_assert_true(calendar_check_rrule("FREQ=MONTHLY;BYDAY=-1FR", NULL));
	g_assert_true(calendar_check_rrule("FREQ=WEEKLY;WKST=SU;BYDAY=MO,TU",
					   NULL));
	/* A rule that has ended is still a rule. */
	g_assert_true(calendar_check_rrule("FREQ=WEEKLY;UNTIL=20200101", NULL));
	g_assert_true(calendar_check_rrule("FREQ=YEARLY;BYMONTH=2;"
					   "BYMONTHDAY=29", NULL));
}

/* A rule that can never match is refused by the check, and expanding
 * it anyway still ends. */
static void
test_rrule_never(void)
{
	g_autoptr(GArray) dates = NULL;
	g_autoptr(GError) error = NULL;
	gint64 started = g_get_monotonic_time();

	g_assert_false(calendar_check_rrule("FREQ=MONTHLY;BYMONTH=4;"
					    "BYMONTHDAY=31", &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG);

	dates = expand("FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31", dmy(1, 1, 2026),
		       dmy(1, 1, 2026), dmy(31, 12, 2027));
	g_assert_cmpuint(dates->len, ==, 0);
	g_array_unref(g_steal_pointer(&dates));
	dates = expand("FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", dmy(1, 1, 2026),
		       dmy(1, 1, 2026), dmy(31, 12, 2027));
	g_assert_cmpuint(dates->len, ==, 0);
	g_assert_cmpint(g_get_monotonic_time() - started, <,
			30 * G_TIME_SPAN_SECOND);
}

/* Too many iterations before the range end is an error, and leaves the
 * caller's array as it was. */
static void
test_rrule_iteration_cap(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) dates = g_array_new(FALSE, FALSE, sizeof(GDate));
	GDate dtstart = dmy(1, 1, 1800), from = dmy(1, 1, 2100);
	GDate to = dmy(31, 12, 2100), marker = dmy(1, 1, 2000);

	g_array_append_val(dates, marker);
	g_assert_false(calendar_expand_rrule("FREQ=DAILY", &dtstart, &from,
					     &to, dates, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG);
	g_assert_cmpuint(dates->len, ==, 1);
}

/* The offset libical gives, asked directly. */
static int
libical_offset(gint64 utc)
{
	icaltimezone *zone =
		icaltimezone_get_builtin_timezone("Europe/Helsinki");
	struct icaltimetype t = icaltime_from_timet_with_zone(
		(time_t)utc, 0, icaltimezone_get_utc_timezone());
	int is_daylight = 0;

	return icaltimezone_get_utc_offset_of_utc_time(zone, &t, &is_daylight);
}

/* calendar.c keeps the offset of each UTC hour (issue 17): around every
 * change of 1990-2060, minute by minute and in both directions (so
 * that an hour is first asked at its end as well as at its start), the
 * formatted offset is libical's. */
static void
test_offset_memo(void)
{
	for (int year = 1990; year <= 2060; year++) {
		for (int month = 3; month <= 10; month += 7) {
			gint64 noon = calendar_local_to_utc(year, month, 31,
							    12, 0);
			gint64 sunday;
			GDate d;

			/* The last Sunday of the month, 00:00 UTC. */
			calendar_local_date(noon, &d);
			while (g_date_get_weekday(&d) != G_DATE_SUNDAY)
				g_date_subtract_days(&d, 1);
			sunday = ((gint64)g_date_get_julian(&d) - 719163) *
				 86400;
			for (int pass = 0; pass < 2; pass++) {
				for (gint64 m = 0; m < 4 * 60; m++) {
					gint64 t = pass ? sunday + 4 * 3600 -
								  60 * m - 1
							: sunday + 60 * m;
					g_autofree char *iso =
						calendar_format_iso(t);
					int off = libical_offset(t);
					g_autofree char *want = g_strdup_printf(
						"+%02d:00", off / 3600);

					g_assert_true(g_str_has_suffix(iso,
								       want));
				}
			}
		}
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	calendar_init();

	g_test_add_func("/calendar/dst/spring-forward", test_spring_forward);
	g_test_add_func("/calendar/local-time", test_local_time);
	g_test_add_func("/calendar/dst/fall-back", test_fall_back);
	g_test_add_func("/calendar/dst/night-shift-length", test_night_shift);
	g_test_add_func("/calendar/dst/missing-time-moves-forward",
			test_gap_moves_forward);
	g_test_add_func("/calendar/dst/repeated-time-is-first-instance",
			test_overlap_first_instance);
	g_test_add_func("/calendar/dst/every-hour-of-2026-round-trips",
			test_round_trip_2026);
	g_test_add_func("/calendar/dst/after-2037", test_far_future);
	g_test_add_func("/calendar/dst/offset-of-each-hour", test_offset_memo);
	g_test_add_func("/calendar/time/local-day-start", test_day_start);
	g_test_add_func("/calendar/time/format", test_format);
	g_test_add_func("/calendar/time/extreme-instants",
			test_extreme_instants);
	g_test_add_func("/calendar/parse/accepted-forms", test_parse_accepted);
	g_test_add_func("/calendar/parse/refused-forms", test_parse_refused);
	g_test_add_func("/calendar/holidays/easter", test_easter);
	g_test_add_func("/calendar/holidays/2026", test_holidays_2026);
	g_test_add_func("/calendar/holidays/2025", test_holidays_2025);
	g_test_add_func("/calendar/holidays/weekends", test_weekends);
	g_test_add_func("/calendar/deadline/across-christmas-and-new-year",
			test_deadline_christmas);
	g_test_add_func("/calendar/deadline/across-midsummer",
			test_deadline_midsummer);
	g_test_add_func("/calendar/deadline/across-easter",
			test_deadline_easter);
	g_test_add_func("/calendar/deadline/tuesday-to-next-thursday",
			test_deadline_plain_week);
	g_test_add_func("/calendar/deadline/days-and-months",
			test_deadline_days_and_months);
	g_test_add_func("/calendar/rrule/weekly-monday", test_rrule_weekly);
	g_test_add_func("/calendar/rrule/monthly-nth-tuesday",
			test_rrule_monthly);
	g_test_add_func("/calendar/rrule/daily-count-until",
			test_rrule_daily_count_until);
	g_test_add_func("/calendar/rrule/bad-rules-refused",
			test_rrule_refused);
	g_test_add_func("/calendar/rrule/never-matching-rule-ends",
			test_rrule_never);
	g_test_add_func("/calendar/rrule/iteration-cap",
			test_rrule_iteration_cap);
	return g_test_run();
}
