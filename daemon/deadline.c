/* Deadline rules of a service (care guarantee, SHL 36 §, the therapy
 * guarantee ...): which rule applies to a referral, and its last day.
 * Used by the admission rule at booking time and by DeadlineReport.
 *
 * Choosing the rule for a referral: only rules in force at the
 * referral time count (valid_from <= referral < valid_to). With the
 * client's age known, the rule with the narrowest age band containing
 * that age applies; a rule without a band contains every age. With the
 * age unknown, a rule without a band applies if there is one, else the
 * one with the broadest band: rather warned about a deadline that may
 * not bind than left unwarned about one that does. Ties go to the first
 * rule in the configuration. Deadlines are whole local days; the day
 * of receipt does not count. */
#include "deadline.h"

#include "calendar.h"

#define MAX_AGE_BAND 151 /* ages go to 150 in the configuration */

/* ---- rules ------------------------------------------------------------- */

static gboolean
rule_in_force(const DeadlineRule *rule, gint64 when)
{
	return (rule->valid_from == 0 || when >= rule->valid_from) &&
	       (rule->valid_to == 0 || when < rule->valid_to);
}

static gboolean
band_contains(const DeadlineRule *rule, int age)
{
	return (rule->min_age < 0 || age >= rule->min_age) &&
	       (rule->max_age < 0 || age <= rule->max_age);
}

/* Years the band spans; a rule without a band spans them all. */
static int
band_width(const DeadlineRule *rule)
{
	int low = rule->min_age < 0 ? 0 : rule->min_age;
	int high = rule->max_age < 0 ? MAX_AGE_BAND : rule->max_age + 1;

	return high - low;
}

static gboolean
better_rule(const DeadlineRule *candidate, const DeadlineRule *best,
	    int age)
{
	if (best == NULL)
		return TRUE;
	if (age != REPORT_AGE_UNKNOWN)
		return band_width(candidate) < band_width(best);
	return band_width(candidate) > band_width(best);
}

const DeadlineRule *
report_deadline_rule(const Service *service, gint64 referral_time, int age)
{
	const DeadlineRule *best = NULL;

	for (guint i = 0; service->deadlines && i < service->deadlines->len;
	     i++) {
		const DeadlineRule *rule = service->deadlines->pdata[i];

		if (!rule_in_force(rule, referral_time))
			continue;
		if (age != REPORT_AGE_UNKNOWN && !band_contains(rule, age))
			continue;
		if (better_rule(rule, best, age))
			best = rule;
	}
	return best;
}

void
report_deadline_day(const DeadlineRule *rule, gint64 referral_time,
		    GDate *ret_last_day)
{
	GDate received;

	calendar_local_date(referral_time, &received);
	switch (rule->unit) {
	case DEADLINE_UNIT_WORKING_DAYS:
		calendar_add_working_days(&received, rule->amount,
					  ret_last_day);
		break;
	case DEADLINE_UNIT_MONTHS:
		calendar_add_months(&received, rule->amount, ret_last_day);
		break;
	default:
		calendar_add_days(&received, rule->amount, ret_last_day);
		break;
	}
}

/* The last second of a local day: what people read as "by the 25th". */
gint64
deadline_day_end(const GDate *day)
{
	GDate next = *day;

	g_date_add_days(&next, 1);
	return calendar_local_to_utc(g_date_get_year(&next),
				     g_date_get_month(&next),
				     g_date_get_day(&next), 0, 0) - 1;
}
