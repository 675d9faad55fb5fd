/* therapy-course: Planner1.Staffing rows — per language and ISO week,
 * how many courses can start with the therapist time still free, and
 * what the current intake does to the therapy guarantee: the under-23
 * referrals that will wait more than 28 days to start.
 *
 * A slot's capacity is the therapists planned for it, so its free
 * places are free therapist sessions. A course takes one session a
 * week for plan-course-sessions weeks, so a week's free sessions
 * divided by that many is the courses it can start while the earlier
 * ones run. The intake is the first sessions booked per week over the
 * history-days before the plan (or the option referrals-per-week),
 * the under-23 share the share of them booked with an age of 22 or
 * less (or under-23-share). An offering serving two languages counts
 * its free time for both. */
#include "therapy-course.h"

#include <math.h>
#include <string.h>

typedef struct {
	double referrals;	/* per week; < 0: from history */
	double under_23_share;	/* < 0: from history */
	char *language;		/* NULL: every language */
} PlanOptions;

typedef struct {
	char *language;
	TcWeek *weeks;
	double *free_hours;
	double *free_sessions;
	double history_starts;	/* first sessions a week */
	double history_young;	/* of them under 23 */
	guint sessions;		/* a course's length for planning */
	gboolean from_history;
} LanguagePlan;

static void
read_options(SlotdPlan *plan, PlanOptions *ret)
{
	g_autoptr(GVariant) referrals = slotd_plan_option(
		plan, "referrals-per-week", G_VARIANT_TYPE_DOUBLE);
	g_autoptr(GVariant) share = slotd_plan_option(
		plan, "under-23-share", G_VARIANT_TYPE_DOUBLE);
	g_autoptr(GVariant) language = slotd_plan_option(
		plan, "language", G_VARIANT_TYPE_STRING);

	ret->referrals = referrals ? MAX(g_variant_get_double(referrals), 0)
				   : -1;
	ret->under_23_share =
		share ? CLAMP(g_variant_get_double(share), 0, 1) : -1;
	ret->language = language ? g_variant_dup_string(language, NULL)
				 : NULL;
}

static void
language_plan_free(gpointer data)
{
	LanguagePlan *lp = data;

	g_free(lp->language);
	g_free(lp->weeks);
	g_free(lp->free_hours);
	g_free(lp->free_sessions);
	g_free(lp);
}

static LanguagePlan *
language_plan(GPtrArray *plans, const char *language, guint n_weeks)
{
	LanguagePlan *lp;

	for (guint i = 0; i < plans->len; i++) {
		lp = plans->pdata[i];
		if (g_str_equal(lp->language, language))
			return lp;
	}
	lp = g_new0(LanguagePlan, 1);
	lp->language = g_strdup(language);
	lp->weeks = g_new0(TcWeek, MAX(n_weeks, 1));
	lp->free_hours = g_new0(double, MAX(n_weeks, 1));
	lp->free_sessions = g_new0(double, MAX(n_weeks, 1));
	g_ptr_array_add(plans, lp);
	return lp;
}

/* Free therapist sessions of one offering per week of the plan. */
static void
add_free_time(SlotdPlan *plan, const SlotdOffering *offering,
	      const gint64 *week_starts, guint n_weeks, double *sessions,
	      double *hours)
{
	const TcOffering *tc = tc_offering(offering);
	g_autoptr(GArray) slots = slotd_plan_slots(
		plan, offering, week_starts[0], week_starts[n_weeks]);

	for (guint i = 0; slots && i < slots->len; i++) {
		const SlotdSlotInfo *s = &g_array_index(slots, SlotdSlotInfo,
							i);
		guint taken = s->booked + s->held;
		double free = s->capacity > taken ? s->capacity - taken : 0;

		for (guint w = 0; w < n_weeks; w++) {
			if (s->start < week_starts[w] ||
			    s->start >= week_starts[w + 1])
				continue;
			sessions[w] += free;
			hours[w] += free * tc->session_minutes / 60.0;
		}
	}
}

/* First sessions booked a week, and those with an age under 23, over
 * the offering's history days before `from`. */
static void
add_history(SlotdPlan *plan, const SlotdOffering *offering, gint64 from,
	    const char *language, double *starts, double *young)
{
	const TcOffering *tc = tc_offering(offering);
	g_autoptr(GPtrArray) history = slotd_plan_history(
		plan, offering, from - (gint64)tc->history_days * 86400, from);
	double weeks = tc->history_days / (double)TC_WEEK_DAYS;

	for (guint i = 0; history && i < history->len; i++) {
		const SlotdBookingInfo *b = history->pdata[i];
		const char *spoken = NULL;
		guint32 age;

		if (b->series_index != 0 ||
		    g_strcmp0(b->status, "cancelled") == 0)
			continue;
		if (b->extras && g_variant_lookup(b->extras,
						  "course-language", "&s",
						  &spoken) &&
		    !g_str_equal(spoken, language))
			continue;
		if (!spoken &&
		    !slotd_offering_has_language(offering, language))
			continue;
		*starts += 1 / weeks;
		if (b->extras && g_variant_lookup(b->extras, "age", "u",
						  &age) && age <= 22)
			*young += 1 / weeks;
	}
}

static GVariant *
week_row(const LanguagePlan *lp, guint w, gint64 week_start,
	 const PlanOptions *options)
{
	const TcWeek *week = &lp->weeks[w];
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "week-start", "x", week_start);
	g_variant_dict_insert(&d, "language", "s", lp->language);
	g_variant_dict_insert(&d, "free-therapist-hours", "d",
			      lp->free_hours[w]);
	g_variant_dict_insert(&d, "free-sessions", "d",
			      lp->free_sessions[w]);
	g_variant_dict_insert(&d, "course-sessions", "u", lp->sessions);
	g_variant_dict_insert(&d, "courses-can-start", "d", week->capacity);
	g_variant_dict_insert(&d, "referrals", "d", week->arrivals);
	g_variant_dict_insert(&d, "under-23", "d", week->under_23);
	g_variant_dict_insert(&d, "backlog", "d", week->backlog);
	g_variant_dict_insert(&d, "projected-wait-days", "d",
			      week->wait_days);
	g_variant_dict_insert(&d, "under-23-breaching-28-days", "d",
			      week->breaching);
	g_variant_dict_insert(&d, "demand-source", "s",
			      options->referrals >= 0 ? "option"
			      : lp->from_history	? "history"
							: "none");
	return g_variant_dict_end(&d);
}

static void
project_language(LanguagePlan *lp, guint n_weeks, const PlanOptions *options)
{
	double referrals = options->referrals >= 0 ? options->referrals
						   : lp->history_starts;
	double share = options->under_23_share >= 0
			       ? options->under_23_share
		       : lp->history_starts > 0
			       ? lp->history_young / lp->history_starts
			       : 0;

	lp->from_history = lp->history_starts > 0;
	for (guint w = 0; w < n_weeks; w++) {
		lp->weeks[w].capacity =
			floor(lp->free_sessions[w] / lp->sessions * 10) / 10;
		lp->weeks[w].arrivals = referrals;
		lp->weeks[w].under_23 = referrals * share;
	}
	tc_project(lp->weeks, n_weeks);
}

gboolean
tc_plan(SlotdPlan *plan, GError **error)
{
	g_autoptr(GPtrArray) plans =
		g_ptr_array_new_with_free_func(language_plan_free);
	g_autofree gint64 *week_starts = NULL;
	PlanOptions options;
	gint64 from, to, week_end;
	guint n_weeks = 0;

	read_options(plan, &options);
	slotd_plan_range(plan, &from, &to);
	tc_local_week(from, &from, &week_end);
	/* Whole ISO weeks from the one `from` is in. */
	week_starts = g_new0(gint64, 1);
	week_starts[0] = from;
	while (week_starts[n_weeks] < to && n_weeks < 104) {
		gint64 next, unused;

		tc_local_week(week_starts[n_weeks] + 8 * 86400, &next,
			      &unused);
		week_starts = g_renew(gint64, week_starts, n_weeks + 2);
		week_starts[++n_weeks] = next;
	}
	for (guint i = 0; i < slotd_plan_n_offerings(plan); i++) {
		const SlotdOffering *offering = slotd_plan_offering(plan, i);
		const char *const *languages =
			slotd_offering_languages(offering);

		for (guint l = 0; languages[l]; l++) {
			LanguagePlan *lp;

			if (options.language &&
			    !g_str_equal(options.language, languages[l]))
				continue;
			lp = language_plan(plans, languages[l], n_weeks);
			lp->sessions = MAX(lp->sessions,
					   tc_offering(offering)->plan_sessions);
			add_free_time(plan, offering, week_starts, n_weeks,
				      lp->free_sessions, lp->free_hours);
			add_history(plan, offering, from, languages[l],
				    &lp->history_starts, &lp->history_young);
		}
	}
	for (guint i = 0; i < plans->len; i++) {
		LanguagePlan *lp = plans->pdata[i];

		project_language(lp, n_weeks, &options);
		for (guint w = 0; w < n_weeks; w++)
			slotd_plan_add_row(plan, week_row(lp, w,
							  week_starts[w],
							  &options));
	}
	g_free(options.language);
	return TRUE;
}
