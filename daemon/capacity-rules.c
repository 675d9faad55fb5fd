/* The booking rules every kind has: notice, how far ahead, per-client
 * limits (part of the admission rule, so FindSlots never offers what
 * they forbid), and the cut-offs of Cancel and Reschedule and the times
 * at which a status may be set. A kind gives its defaults, an offering
 * overrides them; an administrator may override a rule with a reason,
 * which the audit log keeps. */
#include "capacity-private.h"

#include "calendar.h"
#include "config.h"
#include "deadline.h"

static const SlotdBookingRules core_rules = {
	.notice_minutes = 30,
	.cancel_cutoff_minutes = 30,
	.reschedule_cutoff_minutes = 30,
	.status_grace_minutes = 60,
};

void
capacity_offering_rules(Capacity *capacity, const SlotdOffering *off,
			SlotdBookingRules *ret)
{
	const SlotdKindOps *ops = capacity_kind(capacity, off);
	guint *fields = (guint *)ret;

	G_STATIC_ASSERT(sizeof(SlotdBookingRules) == 7 * sizeof(guint));
	*ret = ops && ops->rules ? *ops->rules : core_rules;
	for (guint i = 0; i < 7; i++)
		if (off->rules[i] >= 0)
			fields[i] = (guint)off->rules[i];
}

static gboolean
refuse(GError **error, SlotdErrorCode code, const char *format, ...)
	G_GNUC_PRINTF(3, 4);

static gboolean
refuse(GError **error, SlotdErrorCode code, const char *format, ...)
{
	g_autofree char *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error_literal(error, SLOTD_ERROR, code, message);
	return FALSE;
}

static gboolean
check_notice(const Admission *a, const SlotdBookingRules *rules,
	     GError **error)
{
	gint64 earliest = a->request.now + (gint64)rules->notice_minutes * 60;
	g_autofree char *when = NULL;

	if (!rules->notice_minutes || a->slot->start >= earliest ||
	    g_strcmp0(a->request.urgency, "routine") != 0)
		return TRUE;
	when = calendar_format_local(earliest);
	return refuse(error, SLOTD_ERROR_POLICY_VIOLATION,
		      "%s is booked at least %u minutes ahead "
		      "(min-notice-minutes); choose a slot from %s on, or "
		      "book it as urgent",
		      a->offering->service->id, rules->notice_minutes, when);
}

static gboolean
check_advance(const Admission *a, const SlotdBookingRules *rules,
	      GError **error)
{
	gint64 latest = a->request.now + (gint64)rules->advance_days * 86400;
	g_autofree char *when = NULL;

	if (!rules->advance_days || a->slot->start <= latest)
		return TRUE;
	when = calendar_format_local(latest);
	return refuse(error, SLOTD_ERROR_POLICY_VIOLATION,
		      "%s is booked at most %u days ahead (max-advance-days); "
		      "choose a slot before %s",
		      a->offering->service->id, rules->advance_days, when);
}

static guint
client_count(Capacity *capacity, const Admission *a, gint64 from, gint64 to)
{
	g_autoptr(GError) error = NULL;
	guint count = 0;

	if (!store_count_client_bookings(capacity->store, a->request.client_ref,
					 a->offering->service->id, from, to,
					 a->except, &count, &error))
		g_warning("cannot count a client's bookings: %s",
			  error->message);
	return count;
}

static gboolean
check_limits(Capacity *capacity, const Admission *a,
	     const SlotdBookingRules *rules, GError **error)
{
	gint64 from, to;
	g_autofree char *day = NULL;
	guint count;

	if (!a->request.client_ref || !a->request.client_ref[0])
		return TRUE; /* not named yet, or anonymous */
	if (rules->max_active &&
	    (count = client_count(capacity, a, a->request.now, G_MAXINT64)) >=
		    rules->max_active)
		return refuse(error, SLOTD_ERROR_POLICY_VIOLATION,
			      "the client already has %u upcoming bookings "
			      "of %s and at most %u are allowed "
			      "(max-active-per-client); cancel or complete "
			      "one first", count, a->offering->service->id,
			      rules->max_active);
	if (!rules->max_per_day)
		return TRUE;
	from = calendar_local_day_start(a->slot->start);
	to = calendar_local_day_start(from + 36 * 3600);
	count = client_count(capacity, a, from, to);
	if (count < rules->max_per_day)
		return TRUE;
	day = calendar_format_local(from);
	day[10] = '\0';
	return refuse(error, SLOTD_ERROR_POLICY_VIOLATION,
		      "the client already has %u bookings of %s on %s and at "
		      "most %u a day are made (max-per-client-day); choose "
		      "another day or combine them",
		      count, a->offering->service->id, day,
		      rules->max_per_day);
}

/* A referral under a legal deadline (care guarantee, therapy guarantee,
 * SHL 36 §): a start past it needs deadline-exceeded-reason. What was
 * found goes into the booking's keys. The deadline is for the start of
 * care: in a series (a course, an episode) it binds the first visit,
 * and the later ones are not held to it. */
static gboolean
check_deadline(Admission *a, GVariantDict *extras, GError **error)
{
	guint32 age = 0;
	gboolean aged = a->request.options &&
			slotd_request_option(&a->request, "age", "u", &age);
	const char *reason = NULL;
	const DeadlineRule *rule;
	g_autofree char *by = NULL;
	gint64 deadline;
	GDate last;

	if (!a->request.referral_time || a->request.series_index > 0)
		return TRUE;
	rule = report_deadline_rule(a->offering->service,
				    a->request.referral_time,
				    aged ? (int)age : REPORT_AGE_UNKNOWN);
	if (!rule)
		return TRUE;
	report_deadline_day(rule, a->request.referral_time, &last);
	deadline = deadline_day_end(&last);
	if (a->request.options)
		slotd_request_option(&a->request,
				 "deadline-exceeded-reason", "&s", &reason);
	if (extras) {	/* NULL: a probe keeps none */
		g_variant_dict_insert(extras, "deadline", "x", deadline);
		g_variant_dict_insert(extras, "deadline-rule", "s", rule->id);
		g_variant_dict_insert(extras, "deadline-exceeded", "b",
				      a->slot->start > deadline);
	}
	if (a->slot->start <= deadline || reason)
		return TRUE;
	by = calendar_format_local(deadline);
	by[10] = '\0';
	return refuse(error, SLOTD_ERROR_DEADLINE_UNREACHABLE,
		      "this start is past the deadline %s of %s (%s) for a "
		      "referral received then; choose a slot by that day, "
		      "or give deadline-exceeded-reason",
		      by, rule->id, rule->reference ? rule->reference : "");
}

/* The admission rule's part that is the same for every kind. An
 * administrator's override-reason lifts it (the booking's audit row
 * says so). */
gboolean
capacity_check_rules(Capacity *capacity, Admission *a, GVariantDict *extras,
		     GError **error)
{
	SlotdBookingRules rules;

	if (!check_deadline(a, extras, error))
		return FALSE;
	if (a->override)
		return TRUE;
	capacity_offering_rules(capacity, a->offering, &rules);
	return check_notice(a, &rules, error) &&
	       check_advance(a, &rules, error) &&
	       check_limits(capacity, a, &rules, error);
}

/* ---- after booking: cut-offs and statuses --------------------------- */

/* A cancel reason "override: WHY" from an administrator lifts the
 * cancel cut-off (the audit row keeps the reason). */
gboolean
capacity_reason_overrides(const char *reason)
{
	return reason && g_str_has_prefix(reason, "override:");
}

gboolean
capacity_check_cutoff(Capacity *capacity, const StoreBooking *b,
		      gboolean reschedule, const Caller *caller,
		      const char *reason, GError **error)
{
	const SlotdOffering *off = region_find_offering(capacity->region,
							b->offering);
	SlotdBookingRules rules;
	guint cutoff;
	g_autofree char *when = NULL;

	if (!off || (caller->admin && capacity_reason_overrides(reason)))
		return TRUE; /* the audit row keeps the reason */
	capacity_offering_rules(capacity, off, &rules);
	cutoff = reschedule ? rules.reschedule_cutoff_minutes
			    : rules.cancel_cutoff_minutes;
	if (!cutoff || capacity_now(capacity) + (gint64)cutoff * 60 <=
			       b->start)
		return TRUE;
	when = calendar_format_local(b->start - (gint64)cutoff * 60);
	return refuse(error, SLOTD_ERROR_POLICY_VIOLATION,
		      "bookings of %s are %s up to %u minutes before the "
		      "start (%s cut-off: %s); ask the unit, or an "
		      "administrator (reason 'override: why')",
		      b->service, reschedule ? "moved" : "cancelled", cutoff,
		      reschedule ? "reschedule" : "cancel", when);
}

/* arrived and checked-in from the grace before the start; fulfilled
 * and noshow once the start has come. */
gboolean
capacity_check_status_time(Capacity *capacity, const StoreBooking *b,
			   const char *status, GError **error)
{
	const SlotdOffering *off = region_find_offering(capacity->region,
							b->offering);
	SlotdBookingRules rules = core_rules;
	gint64 from = b->start;
	g_autofree char *when = NULL;

	if (off)
		capacity_offering_rules(capacity, off, &rules);
	if (g_str_equal(status, "arrived") || g_str_equal(status, "checked-in"))
		from -= (gint64)rules.status_grace_minutes * 60;
	else if (!g_str_equal(status, "fulfilled") &&
		 !g_str_equal(status, "noshow"))
		return TRUE;
	if (capacity_now(capacity) >= from)
		return TRUE;
	when = calendar_format_local(from);
	return refuse(error, SLOTD_ERROR_CONFLICT,
		      "a booking becomes '%s' only from %s; it starts at a "
		      "later time", status, when);
}
