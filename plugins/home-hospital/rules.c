/* Home hospital: shift ownership, episode templates, visit lengths. */
#include "rules.h"

#include <stdlib.h>
#include <string.h>

/* Clinical defaults from docs/region.md, "Home hospital": IV
 * antibiotics usually run 3-7 days, 5 on average; the first visit sets
 * up the line and the plan, so it is longer; fluids keep the nurse
 * through the drip; palliative follow-up is every one to three days
 * for weeks; a lab visit is one short stop. */
static const HhEpisode builtin_episodes[] = {
	{ "iv-q24h", 1440, 1440, 120, 40, 60, 3, 7 },
	{ "iv-q12h", 720, 720, 120, 40, 60, 3, 7 },
	{ "iv-q8h", 480, 480, 120, 40, 60, 3, 10 },
	{ "fluids", 1440, 1440, 120, 150, 180, 1, 3 },
	{ "palliative", 1440, 4320, 120, 45, 60, 7, 42 },
	{ "lab", 1440, 1440, 120, 20, 20, 1, 1 },
};

/* ---- shifts ---------------------------------------------------------- */

static gboolean
parse_clock(const char *text, int *ret_minute)
{
	if (!g_ascii_isdigit(text[0]) || !g_ascii_isdigit(text[1]) ||
	    text[2] != ':' || !g_ascii_isdigit(text[3]) ||
	    !g_ascii_isdigit(text[4]))
		return FALSE;
	int hour = (text[0] - '0') * 10 + (text[1] - '0');
	int minute = (text[3] - '0') * 10 + (text[4] - '0');
	if (hour > 24 || minute > 59 || (hour == 24 && minute != 0))
		return FALSE;
	*ret_minute = hour * 60 + minute;
	return TRUE;
}

gboolean
hh_parse_window_times(const char *text, int *ret_start, int *ret_end)
{
	int start, end;

	while (g_ascii_isspace(*text))
		text++;
	if (strlen(text) < 11 || text[5] != '-' || !parse_clock(text, &start) ||
	    !parse_clock(text + 6, &end))
		return FALSE;
	if (text[11] != '\0' && !g_ascii_isspace(text[11]))
		return FALSE;
	if (start >= HH_MINUTES_PER_DAY)
		return FALSE;
	if (end <= start)
		end += HH_MINUTES_PER_DAY;
	*ret_start = start;
	*ret_end = end;
	return TRUE;
}

/* Minutes from one start of day to the next start of another,
 * 1..1440: a shift starting at the same time of day is a day later. */
static int
minutes_until(int from, int to)
{
	int gap = ((to - from) % HH_MINUTES_PER_DAY + HH_MINUTES_PER_DAY) %
		  HH_MINUTES_PER_DAY;

	return gap == 0 ? HH_MINUTES_PER_DAY : gap;
}

void
hh_shifts_assign_ownership(HhShift *shifts, guint n_shifts)
{
	for (guint i = 0; i < n_shifts; i++) {
		int next = HH_MINUTES_PER_DAY;

		for (guint j = 0; j < n_shifts; j++) {
			if (j == i)
				continue;
			next = MIN(next, minutes_until(shifts[i].start_minute,
						       shifts[j].start_minute));
		}
		shifts[i].owned_minutes = MIN(shifts[i].length_minutes, next);
	}
}

const HhShift *
hh_shift_at(const HhShift *shifts, guint n_shifts, int minute_of_day)
{
	for (guint i = 0; i < n_shifts; i++) {
		int since = ((minute_of_day - shifts[i].start_minute) %
				     HH_MINUTES_PER_DAY +
			     HH_MINUTES_PER_DAY) %
			    HH_MINUTES_PER_DAY;

		if (since < shifts[i].owned_minutes)
			return &shifts[i];
	}
	return NULL;
}

void
hh_shift_clear(HhShift *shift)
{
	g_clear_pointer(&shift->name, g_free);
}

/* ---- episode templates ---------------------------------------------- */

const HhEpisode *
hh_builtin_episodes(guint *ret_n)
{
	*ret_n = G_N_ELEMENTS(builtin_episodes);
	return builtin_episodes;
}

const HhEpisode *
hh_builtin_episode(const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(builtin_episodes); i++) {
		if (strcmp(builtin_episodes[i].name, name) == 0)
			return &builtin_episodes[i];
	}
	return NULL;
}

/* "40", "40m", "40min", "2h"; a bare number is in `bare_unit` minutes
 * (1 for visit lengths, 60 for intervals written like "q8h"). With
 * `bare_unit` 0 only a bare count is accepted (days). */
static gboolean
parse_duration(const char *text, guint bare_unit, guint *ret_minutes)
{
	char *end = NULL;
	guint64 value;
	guint unit = bare_unit;

	if (!g_ascii_isdigit(text[0]))
		return FALSE;
	value = g_ascii_strtoull(text, &end, 10);
	if (bare_unit == 0 && *end == '\0')
		unit = 1;
	else if (bare_unit == 0)
		return FALSE;
	else if (g_strcmp0(end, "h") == 0)
		unit = 60;
	else if (g_strcmp0(end, "m") == 0 || g_strcmp0(end, "min") == 0)
		unit = 1;
	else if (*end != '\0')
		return FALSE;
	if (value == 0 || value * unit > 14 * HH_MINUTES_PER_DAY)
		return FALSE;
	*ret_minutes = (guint)(value * unit);
	return TRUE;
}

/* "5" or "3-10"; each part a duration as above. */
static gboolean
parse_range(const char *text, guint bare_unit, guint *ret_min, guint *ret_max)
{
	g_auto(GStrv) parts = g_strsplit(text, "-", 3);
	guint low, high;

	if (g_strv_length(parts) > 2 ||
	    !parse_duration(parts[0], bare_unit, &low))
		return FALSE;
	high = low;
	if (parts[1] && !parse_duration(parts[1], bare_unit, &high))
		return FALSE;
	if (high < low)
		return FALSE;
	*ret_min = low;
	*ret_max = high;
	return TRUE;
}

static gboolean
parse_field(const char *key, const char *value, HhEpisode *ret)
{
	if (strcmp(key, "interval") == 0)
		return parse_range(value, 60, &ret->interval_min,
				   &ret->interval_max);
	if (strcmp(key, "days") == 0)
		return parse_range(value, 0, &ret->days_min, &ret->days_max) &&
		       ret->days_max <= 366;
	if (strcmp(key, "visit") == 0)
		return parse_duration(value, 1, &ret->visit);
	if (strcmp(key, "first-visit") == 0)
		return parse_duration(value, 1, &ret->first_visit);
	if (strcmp(key, "tolerance") == 0 && strcmp(value, "0") == 0) {
		ret->tolerance = 0;
		return TRUE;
	}
	if (strcmp(key, "tolerance") == 0)
		return parse_duration(value, 1, &ret->tolerance);
	return FALSE;
}

gboolean
hh_episode_parse(const char *spec, HhEpisode *ret, char **ret_problem)
{
	g_auto(GStrv) words = g_strsplit_set(spec, " \t", -1);
	gboolean first_given = FALSE;
	guint visit_before = ret->visit;

	for (guint i = 0; words[i]; i++) {
		char *eq = strchr(words[i], '=');

		if (words[i][0] == '\0')
			continue;
		if (!eq) {
			*ret_problem = g_strdup_printf(
				"\"%s\" is not KEY=VALUE", words[i]);
			return FALSE;
		}
		*eq = '\0';
		if (!parse_field(words[i], eq + 1, ret)) {
			*ret_problem = g_strdup_printf(
				"bad %s \"%s\"; write e.g. interval=8h "
				"(or 24h-72h) visit=40 first-visit=60 "
				"days=3-10 tolerance=2h",
				words[i], eq + 1);
			return FALSE;
		}
		first_given |= strcmp(words[i], "first-visit") == 0;
	}
	/* A new later-visit length without its own first visit keeps the
	 * first visit at least as long as the others. */
	if (!first_given && ret->visit != visit_before)
		ret->first_visit = MAX(ret->first_visit, ret->visit);
	if (ret->tolerance >= ret->interval_min) {
		*ret_problem = g_strdup(
			"the tolerance must be shorter than the interval");
		return FALSE;
	}
	return TRUE;
}

void
hh_episode_visit_range(const HhEpisode *episode, guint *ret_min, guint *ret_max)
{
	guint fewest =
		episode->days_min * HH_MINUTES_PER_DAY / episode->interval_max;
	guint most =
		episode->days_max * HH_MINUTES_PER_DAY / episode->interval_min;

	*ret_min = MAX(fewest, 1);
	*ret_max = MAX(most, *ret_min);
}

double
hh_episode_mean_visit(const HhEpisode *episode)
{
	guint fewest, most;
	double visits;

	hh_episode_visit_range(episode, &fewest, &most);
	visits = (fewest + most) / 2.0;
	return (episode->first_visit + (visits - 1) * episode->visit) / visits;
}

HhSpacing
hh_episode_check_spacing(const HhEpisode *episode, gint64 seconds)
{
	gint64 soonest =
		(gint64)(episode->interval_min - episode->tolerance) * 60;
	gint64 latest =
		(gint64)(episode->interval_max + episode->tolerance) * 60;

	if (seconds < soonest)
		return HH_SPACING_TOO_SOON;
	if (seconds > latest)
		return HH_SPACING_TOO_LATE;
	return HH_SPACING_OK;
}

char *
hh_episode_format_interval(const HhEpisode *episode)
{
	g_autofree char *low = hh_format_duration(episode->interval_min * 60);

	if (episode->interval_min == episode->interval_max)
		return g_steal_pointer(&low);
	if (episode->interval_min % 60 == 0 && episode->interval_max % 60 == 0)
		return g_strdup_printf("%u-%u h", episode->interval_min / 60,
				       episode->interval_max / 60);
	g_autofree char *high = hh_format_duration(episode->interval_max * 60);
	return g_strdup_printf("%s to %s", low, high);
}

/* ---- visits ---------------------------------------------------------- */

guint
hh_visit_run_minutes(guint on_site, guint travel_one_way, guint slot_minutes)
{
	guint total = on_site + 2 * travel_one_way;

	if (slot_minutes == 0)
		return total;
	return (total + slot_minutes - 1) / slot_minutes * slot_minutes;
}

char *
hh_format_duration(gint64 seconds)
{
	gint64 minutes = (seconds < 0 ? -seconds : seconds) / 60;
	const char *sign = seconds < 0 ? "-" : "";

	if (minutes < 60)
		return g_strdup_printf("%s%" G_GINT64_FORMAT " min", sign,
				       minutes);
	if (minutes % 60 == 0)
		return g_strdup_printf("%s%" G_GINT64_FORMAT " h", sign,
				       minutes / 60);
	return g_strdup_printf("%s%" G_GINT64_FORMAT " h %" G_GINT64_FORMAT
			       " min",
			       sign, minutes / 60, minutes % 60);
}
