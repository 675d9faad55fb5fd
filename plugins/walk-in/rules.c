/* walk-in: the pure arithmetic of sessions and queues (see rules.h). */
#include <stdio.h>
#include <string.h>

#include "rules.h"

G_DEFINE_QUARK(walk-in-rules-error-quark, walk_in_rules_error)

static const char *const weekday_codes[7] = {
	"MO", "TU", "WE", "TH", "FR", "SA", "SU",
};

static gboolean
parse_clock(const char *text, int *ret_minute)
{
	int hour = 0, minute = 0;
	const char *p = text;

	if (!g_ascii_isdigit(p[0]))
		return FALSE;
	while (g_ascii_isdigit(*p) && p - text < 2)
		hour = hour * 10 + (*p++ - '0');
	if (*p++ != ':' || !g_ascii_isdigit(p[0]) || !g_ascii_isdigit(p[1]) ||
	    p[2] != '\0')
		return FALSE;
	minute = (p[0] - '0') * 10 + (p[1] - '0');
	if (hour > 24 || minute > 59 || (hour == 24 && minute != 0))
		return FALSE;
	*ret_minute = hour * 60 + minute;
	return TRUE;
}

gboolean
walk_in_parse_date(const char *text, GDate *ret_date)
{
	int year, month, day;
	char rest;

	g_date_clear(ret_date, 1);
	if (text == NULL ||
	    sscanf(text, "%4d-%2d-%2d%c", &year, &month, &day, &rest) != 3)
		return FALSE;
	if (!g_date_valid_dmy(day, month, year))
		return FALSE;
	g_date_set_dmy(ret_date, day, month, year);
	return TRUE;
}

static int
weekday_index(const char *code)
{
	for (int i = 0; i < 7; i++) {
		if (g_ascii_strcasecmp(code, weekday_codes[i]) == 0)
			return i;
	}
	return -1;
}

/* One BYDAY item: "MO", "1TU", "+2WE", "-1FR". Ordinals other than
 * 1..5 and -1 are kept as "every" so matching stays permissive. */
static gboolean
parse_byday_item(const char *item, gboolean monthly, WalkInSchedule *s)
{
	int sign = 1, ordinal = 0, day;
	const char *p = item;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	while (g_ascii_isdigit(*p))
		ordinal = ordinal * 10 + (*p++ - '0');
	day = weekday_index(p);
	if (day < 0)
		return FALSE;
	ordinal *= sign;
	if (monthly && ordinal >= 1 && ordinal <= 5)
		s->days[day] |= WALK_IN_DAY_NTH(ordinal);
	else if (monthly && ordinal == -1)
		s->days[day] |= WALK_IN_DAY_LAST;
	else
		s->days[day] |= WALK_IN_DAY_EVERY;
	return TRUE;
}

static void
schedule_every_day(WalkInSchedule *s)
{
	memset(s->days, WALK_IN_DAY_EVERY, sizeof(s->days));
}

/* DAILY, WEEKLY and MONTHLY with at most BYDAY: what matching reads. */
static gboolean
rule_is_read(const char *freq, gboolean other_by)
{
	return freq != NULL && !other_by &&
	       (g_str_equal(freq, "DAILY") || g_str_equal(freq, "WEEKLY") ||
		g_str_equal(freq, "MONTHLY"));
}

static gboolean
parse_byday(const char *byday, gboolean monthly, WalkInSchedule *s,
	    GError **error)
{
	g_auto(GStrv) items = g_strsplit(byday, ",", -1);

	for (guint i = 0; items[i] != NULL; i++) {
		if (!parse_byday_item(items[i], monthly, s)) {
			g_set_error(error, WALK_IN_RULES_ERROR, 0,
				    "BYDAY item \"%s\" is not a weekday such "
				    "as MO, TU or 1TU", items[i]);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
parse_rule(const char *rule, WalkInSchedule *s, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(rule, ";", -1);
	const char *freq = NULL, *byday = NULL;
	gboolean other_by = FALSE;

	for (guint i = 0; parts[i] != NULL; i++) {
		if (g_str_has_prefix(parts[i], "FREQ="))
			freq = parts[i] + 5;
		else if (g_str_has_prefix(parts[i], "BYDAY="))
			byday = parts[i] + 6;
		else if (g_str_has_prefix(parts[i], "BY"))
			other_by = TRUE;
	}
	memset(s->days, 0, sizeof(s->days));
	if (!rule_is_read(freq, other_by)) {
		/* The core expands such a rule; here it only costs the day
		 * check when matching. */
		schedule_every_day(s);
	} else if (byday != NULL) {
		return parse_byday(byday, g_str_equal(freq, "MONTHLY"), s,
				   error);
	} else if (g_str_equal(freq, "WEEKLY") && g_date_valid(&s->from)) {
		s->days[g_date_get_weekday(&s->from) - 1] = WALK_IN_DAY_EVERY;
	} else {
		schedule_every_day(s);
	}
	return TRUE;
}

gboolean
walk_in_schedule_parse(const char *text, WalkInSchedule *s, GError **error)
{
	const char *space = text != NULL ? strchr(text, ' ') : NULL;
	g_autofree char *times = NULL;
	g_autofree char *rule = NULL;
	char *dash;

	if (space == NULL) {
		g_set_error(error, WALK_IN_RULES_ERROR, 0,
			    "expected \"HH:MM-HH:MM RRULE\", e.g. "
			    "\"13:00-16:00 FREQ=WEEKLY;BYDAY=MO\"");
		return FALSE;
	}
	times = g_strndup(text, space - text);
	dash = strchr(times, '-');
	if (dash == NULL)
		goto bad_times;
	*dash = '\0';
	if (!parse_clock(times, &s->start_minute) ||
	    !parse_clock(dash + 1, &s->end_minute))
		goto bad_times;
	rule = g_strstrip(g_strdup(space + 1));
	return parse_rule(rule, s, error);

bad_times:
	g_set_error(error, WALK_IN_RULES_ERROR, 0,
		    "the times must read HH:MM-HH:MM, e.g. 13:00-16:00");
	return FALSE;
}

static gboolean
day_in_mask(guint8 mask, const GDate *date)
{
	guint mday = g_date_get_day(date);
	guint nth = (mday - 1) / 7 + 1;
	guint days = g_date_get_days_in_month(g_date_get_month(date),
					      g_date_get_year(date));

	if (mask & WALK_IN_DAY_EVERY)
		return TRUE;
	if (mask & WALK_IN_DAY_NTH(nth))
		return TRUE;
	return (mask & WALK_IN_DAY_LAST) && mday + 7 > days;
}

gboolean
walk_in_schedule_matches(const WalkInSchedule *s, const GDate *date,
			 int start_minute, int end_minute)
{
	if (start_minute != s->start_minute || end_minute % 1440 !=
	    s->end_minute % 1440)
		return FALSE;
	if (g_date_valid(&s->from) && g_date_compare(date, &s->from) < 0)
		return FALSE;
	if (g_date_valid(&s->until) && g_date_compare(date, &s->until) > 0)
		return FALSE;
	return day_in_mask(s->days[g_date_get_weekday(date) - 1], date);
}

int
walk_in_schedule_minutes(const WalkInSchedule *s)
{
	if (s->end_minute <= s->start_minute)
		return s->end_minute + 1440 - s->start_minute;
	return s->end_minute - s->start_minute;
}

static gboolean
masks_share_a_day(guint8 a, guint8 b)
{
	const guint8 fourth_or_fifth = WALK_IN_DAY_NTH(4) | WALK_IN_DAY_NTH(5);

	if (a == 0 || b == 0)
		return FALSE;
	if (((a | b) & WALK_IN_DAY_EVERY) || (a & b))
		return TRUE;
	/* The last Tuesday of a month is its 4th or its 5th. */
	return ((a & WALK_IN_DAY_LAST) && (b & fourth_or_fifth)) ||
	       ((b & WALK_IN_DAY_LAST) && (a & fourth_or_fifth));
}

static gboolean
dates_overlap(const WalkInSchedule *a, const WalkInSchedule *b)
{
	if (g_date_valid(&a->until) && g_date_valid(&b->from) &&
	    g_date_compare(&a->until, &b->from) < 0)
		return FALSE;
	if (g_date_valid(&b->until) && g_date_valid(&a->from) &&
	    g_date_compare(&b->until, &a->from) < 0)
		return FALSE;
	return TRUE;
}

gboolean
walk_in_schedules_overlap(const WalkInSchedule *a, const WalkInSchedule *b)
{
	int a_end = a->start_minute + walk_in_schedule_minutes(a);
	int b_end = b->start_minute + walk_in_schedule_minutes(b);
	gboolean same_day = FALSE;

	if (a->start_minute >= b_end || b->start_minute >= a_end)
		return FALSE;
	for (int i = 0; i < 7 && !same_day; i++)
		same_day = masks_share_a_day(a->days[i], b->days[i]);
	return same_day && dates_overlap(a, b);
}

guint
walk_in_queue_places(guint counsellors, guint session_minutes,
		     guint service_minutes)
{
	guint places;

	if (service_minutes == 0)
		return MAX(counsellors, 1);
	places = counsellors * session_minutes / service_minutes;
	return MAX(places, 1);
}

gint64
walk_in_checkin_opens(gint64 session_start, guint opens_minutes)
{
	return session_start - (gint64)opens_minutes * 60;
}

WalkInCheckin
walk_in_checkin_state(gint64 session_start, gint64 session_end,
		      guint opens_minutes, gint64 now)
{
	if (now < walk_in_checkin_opens(session_start, opens_minutes))
		return WALK_IN_CHECKIN_TOO_EARLY;
	if (now >= session_end)
		return WALK_IN_CHECKIN_CLOSED;
	return WALK_IN_CHECKIN_OPEN;
}

gboolean
walk_in_status_waiting(const char *status)
{
	return g_strcmp0(status, "booked") == 0 ||
	       g_strcmp0(status, "checked-in") == 0 ||
	       g_strcmp0(status, "arrived") == 0;
}

guint
walk_in_next_ticket(const WalkInQueueEntry *entries, guint n_entries,
		    guint issued)
{
	guint highest = issued;

	for (guint i = 0; i < n_entries; i++)
		highest = MAX(highest, entries[i].ticket);
	return highest + 1;
}

guint
walk_in_queue_position(const WalkInQueueEntry *entries, guint n_entries,
		       guint ticket)
{
	guint ahead = 0;

	for (guint i = 0; i < n_entries; i++) {
		if (entries[i].waiting && entries[i].ticket < ticket)
			ahead++;
	}
	return ahead + 1;
}

guint
walk_in_queue_length(const WalkInQueueEntry *entries, guint n_entries)
{
	guint waiting = 0;

	for (guint i = 0; i < n_entries; i++)
		waiting += entries[i].waiting ? 1 : 0;
	return waiting;
}

gint64
walk_in_estimated_start(gint64 now, gint64 session_start, guint position,
			guint counsellors, guint service_minutes)
{
	gint64 first = MAX(now, session_start);
	guint turns;

	if (position == 0)
		return first;
	turns = (position - 1) / MAX(counsellors, 1);
	return first + (gint64)turns * service_minutes * 60;
}

double
walk_in_arrivals_per_hour(guint checkins, guint sessions,
			  guint session_minutes)
{
	if (sessions == 0 || session_minutes == 0)
		return 0.0;
	return checkins / (sessions * (session_minutes / 60.0));
}
