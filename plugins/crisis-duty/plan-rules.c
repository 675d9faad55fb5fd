/* crisis-duty: the pure arithmetic of the staffing plan (see rules.h):
 * the hour-of-week arrival profile and the staff on duty per hour. */
#include "rules.h"

#include <string.h>

/* [E] Social-duty contacts come in the evening (family crises, police
 * and emergency-department calls after office hours) and are fewest
 * between 03 and 06. Hours sum to 24 and days to 7, so a weight is
 * directly the multiple of the weekly mean. */
static const double default_hour_weights[24] = {
	0.9, 0.8, 0.6, 0.5, 0.4, 0.4, 0.5, 0.7,	/* 00-07 */
	0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.3, /* 08-15 */
	1.4, 1.5, 1.6, 1.5, 1.5, 1.3, 1.2, 1.0, /* 16-23 */
};
static const double default_day_weights[7] = {
	1.0, 0.95, 0.95, 1.0, 1.1, 1.1, 0.9, /* Monday .. Sunday */
};

void crisis_profile_default(CrisisProfile *ret_profile)
{
	memcpy(ret_profile->hour, default_hour_weights,
	       sizeof(default_hour_weights));
	memcpy(ret_profile->day, default_day_weights,
	       sizeof(default_day_weights));
}

gboolean crisis_profile_parse(const char *const *texts, double *ret_weights,
			      guint n, GError **error)
{
	double sum = 0;

	if (g_strv_length((char **)texts) != n) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "give %u weights separated by ';', one for each "
			    "%s", n, n == 24 ? "hour of the day from 00"
					     : "day from Monday");
		return FALSE;
	}
	for (guint i = 0; i < n; i++) {
		char *end = NULL;
		double weight = g_ascii_strtod(texts[i], &end);

		if (end == texts[i] || *end != '\0' || !(weight >= 0) ||
		    weight > 1000) {
			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "weight %u (\"%s\") is not a number "
				    "from 0 to 1000", i, texts[i]);
			return FALSE;
		}
		ret_weights[i] = weight;
		sum += weight;
	}
	if (sum <= 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "the weights add up to 0; at least one hour "
			    "must get contacts");
		return FALSE;
	}
	return TRUE;
}

double crisis_monthly_to_hourly(double contacts_per_month)
{
	return contacts_per_month * 12.0 / (365.25 * 24.0);
}

static double mean_of(const double *weights, guint n)
{
	double sum = 0;

	for (guint i = 0; i < n; i++)
		sum += weights[i];
	return sum / n;
}

double crisis_profile_rate(const CrisisProfile *profile, double mean_per_hour,
			   guint hour_of_week)
{
	double hour_mean = mean_of(profile->hour, 24);
	double day_mean = mean_of(profile->day, 7);
	guint hour = hour_of_week % 24, day = (hour_of_week / 24) % 7;

	return mean_per_hour * (profile->hour[hour] / hour_mean) *
	       (profile->day[day] / day_mean);
}

guint crisis_staff_at(const CrisisStaffSpan *spans, guint n_spans, gint64 t)
{
	guint staff = 0;

	for (guint i = 0; i < n_spans; i++) {
		if (spans[i].start <= t && t < spans[i].end)
			staff += spans[i].staff;
	}
	return staff;
}

guint crisis_staff_in_hour(const CrisisStaffSpan *spans, guint n_spans,
			   gint64 hour_start)
{
	guint fewest = G_MAXUINT;

	for (gint64 quarter = 0; quarter < 4; quarter++) {
		guint staff = crisis_staff_at(spans, n_spans,
					      hour_start + quarter * 900);

		fewest = MIN(fewest, staff);
	}
	return fewest;
}

gboolean crisis_hour_in_range(guint hour, guint from, guint to)
{
	if (from <= to)
		return hour >= from && hour < to;
	return hour >= from || hour < to;
}

guint crisis_roster_with_extra(guint rostered, gint extra)
{
	gint64 staff = (gint64)rostered + extra;

	return staff < 0 ? 0 : (guint)staff;
}
