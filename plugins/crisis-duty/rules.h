/* crisis-duty: the arithmetic of the rules, free of the store and of
 * the daemon so that it can be tested on its own. Everything here is a
 * pure function of its arguments (rules.c), except crisis_hour_evaluate
 * which asks the SDK's queueing functions (plan-math.c). */
#pragma once

#include <slotd/plugin.h>

/* ---- contacts -------------------------------------------------------- */

/* How the duty meets a client. A phone contact takes one worker; a
 * field visit (home, police station, emergency department) and an
 * office meeting take a pair, because the duty never meets a client
 * alone; only a field visit adds travel. */
typedef enum {
	CRISIS_CONTACT_PHONE,
	CRISIS_CONTACT_FIELD,
	CRISIS_CONTACT_OFFICE,
	CRISIS_N_CONTACTS,
} CrisisContact;

typedef enum {
	CRISIS_URGENCY_ROUTINE,
	CRISIS_URGENCY_URGENT,
	CRISIS_URGENCY_IMMEDIATE,
} CrisisUrgency;

gboolean crisis_contact_parse(const char *text, CrisisContact *ret_contact);
const char *crisis_contact_name(CrisisContact contact);
/* The contact a core `modality` implies when no `contact` is given:
 * home -> field, onsite -> office, anything else -> phone. */
CrisisContact crisis_contact_for_modality(const char *modality);
/* The modality a contact is: phone, home (field) or onsite (office). */
const char *crisis_contact_modality(CrisisContact contact);
/* NULL and unknown texts are routine (the core validates the key). */
CrisisUrgency crisis_urgency_parse(const char *text);
const char *crisis_urgency_name(CrisisUrgency urgency);

/* Seats and minutes of one contact: `task_minutes` with the client,
 * plus, for a field visit, the drive there and back. */
void crisis_contact_cost(CrisisContact contact, guint task_minutes,
			 guint travel_one_way, SlotdCost *ret_cost);

/* ---- time limits ----------------------------------------------------- */

/* The latest start an urgency allows, G_MAXINT64 for routine. */
gint64 crisis_respond_by(CrisisUrgency urgency, gint64 now,
			 guint urgent_hours, guint immediate_minutes);
/* May a contact of `urgency` still take the slot [start, end) at
 * `now`? Routine contacts are booked ahead, so only slots that have
 * not started; urgent and immediate ones may also take the slot in
 * progress. A slot that has ended is never open. */
gboolean crisis_slot_open(CrisisUrgency urgency, gint64 start, gint64 end,
			  gint64 now);

/* ---- runs of slots --------------------------------------------------- */

/* End of the contact that starts in `slot`. */
gint64 crisis_run_end(const SlotdSlotInfo *slot, const SlotdCost *cost);

/* ---- Swedish-speaking staff ------------------------------------------ */

/* A time a Swedish-speaking worker is busy with an sv contact. */
typedef struct {
	gint64 start;
	gint64 end;
} CrisisSpan;

/* The most spans that overlap at one instant of [from, to). */
guint crisis_peak_overlap(const CrisisSpan *spans, guint n_spans,
			  gint64 from, gint64 to);
/* The earliest t >= from such that fewer than `limit` spans overlap
 * anywhere in [t, t + length); G_MAXINT64 when limit is 0. */
gint64 crisis_next_free(const CrisisSpan *spans, guint n_spans, guint limit,
			gint64 from, gint64 length);

/* ---- planning -------------------------------------------------------- */

#define CRISIS_HOURS_PER_WEEK 168

/* Relative weight of each hour of the day (0 = 00:00-01:00 local) and
 * of each day of the week (0 = Monday); only the shape matters. */
typedef struct {
	double hour[24];
	double day[7];
} CrisisProfile;

/* The estimate documented in services.d/crisis-duty.conf: quiet small
 * hours, a peak in the evening, Friday and Saturday busier. */
void crisis_profile_default(CrisisProfile *ret_profile);
/* Parses `n` non-negative weights with a positive sum. */
gboolean crisis_profile_parse(const char *const *texts, double *ret_weights,
			      guint n, GError **error);
/* Contacts a month -> the mean contacts an hour (a month being a
 * twelfth of 365.25 days). */
double crisis_monthly_to_hourly(double contacts_per_month);
/* Arrivals per hour in `hour_of_week` when the weekly mean is
 * `mean_per_hour`: the mean times the hour's and the day's weight
 * relative to their averages, so the week's mean stays the mean. */
double crisis_profile_rate(const CrisisProfile *profile, double mean_per_hour,
			   guint hour_of_week);

/* Staff on duty from `start` to `end` (one slot of a shift). */
typedef struct {
	gint64 start;
	gint64 end;
	guint staff;
} CrisisStaffSpan;

guint crisis_staff_at(const CrisisStaffSpan *spans, guint n_spans, gint64 t);
/* The fewest staff on duty at any quarter of the hour from
 * `hour_start`: a change of shift at :30 counts the thinner half. */
guint crisis_staff_in_hour(const CrisisStaffSpan *spans, guint n_spans,
			   gint64 hour_start);
/* Is `hour` in [from, to)? from > to wraps over the week's end
 * (160..8 is Sunday 16:00 to Monday 08:00). from == to: never. */
gboolean crisis_hour_in_range(guint hour, guint from, guint to);
/* Rostered staff with `extra` added (a what-if), never below 0. */
guint crisis_roster_with_extra(guint rostered, gint extra);

/* One hour of the staffing plan. */
typedef struct {
	guint hour_of_week;
	gint64 period_start;
	double arrivals_per_hour;
	double handling_minutes;
	double offered_load;	   /* Erlangs */
	guint staff_needed;	   /* Erlang C, the target service level */
	guint staff_rostered;
	double service_level;	   /* predicted with the rostered staff */
	double mean_wait_seconds;  /* with the rostered staff; -1 unstable */
	gint gap;		   /* rostered - needed: < 0 is short */
} CrisisHourRow;

/* Fills the Erlang C figures of `row` from its arrivals, handling
 * minutes and rostered staff (plan-math.c). */
void crisis_hour_evaluate(CrisisHourRow *row, guint target_seconds,
			  double service_level);
