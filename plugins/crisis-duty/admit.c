/* crisis-duty: the admission rule, asked by FindSlots and inside the
 * booking transaction alike: the slot is open for the urgency, it
 * starts within the urgency's limit, the staff of the shift have room
 * for the whole contact (the core's consume), and a Swedish speaker of
 * the shift is free for an sv contact. When the chosen slot fails an
 * urgent request, the error names the earliest start any base can give,
 * found by asking this same rule about the other slots. */
#include "crisis-duty.h"

typedef enum {
	VERDICT_FITS,
	VERDICT_LATE,	     /* starts after the urgency's limit */
	VERDICT_FULL,	     /* the shift has no room for the contact */
	VERDICT_SHIFT_ENDS,  /* the contact would run past the shift */
	VERDICT_NO_SWEDISH,  /* every Swedish speaker is busy */
} Verdict;

typedef struct {
	const SlotdOffering *offering;
	SlotdContext *ctx;
	const SlotdSlotInfo *slot;
	const SlotdRequest *request;
	CrisisJob job;
	CrisisUrgency urgency;
	gint64 respond_by;
	gint64 run_end;
	gint64 swedish_free_at; /* with VERDICT_NO_SWEDISH */
} Admission;

static gboolean check_open(const Admission *a, GError **error)
{
	g_autofree char *start = slotd_format_local(a->slot->start);
	g_autofree char *end = slotd_format_local(a->slot->end);

	if (crisis_slot_open(a->urgency, a->slot->start, a->slot->end,
			     a->request->now))
		return TRUE;
	if (a->slot->end <= a->request->now)
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    "this slot ended at %s; pick one that has not "
			    "ended (FindSlots)", end);
	else
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    "this slot started at %s and a routine contact "
			    "is booked ahead; pick a later slot, or book "
			    "with urgency urgent or immediate to take the "
			    "slot in progress", start);
	return FALSE;
}

static Verdict check_swedish(Admission *a)
{
	g_autoptr(GArray) spans = NULL;
	GArray *around;
	guint speakers, busy;

	/* Every contact or hold busy during the run holds a place in its
	 * slots. */
	around = slotd_context_offering_slots(a->ctx, a->offering,
					      a->slot->start, a->run_end);
	if (around == NULL)
		return VERDICT_FITS;
	spans = crisis_swedish_spans(a->ctx, (SlotdSlotInfo *)around->data,
				     around->len);
	speakers = crisis_swedish_speakers(crisis_base(a->offering),
					   a->slot->kind);
	busy = crisis_peak_overlap((CrisisSpan *)spans->data, spans->len,
				   a->slot->start, a->run_end);
	if (busy < speakers) {
		slotd_context_limit_free(a->ctx, speakers - busy);
		return VERDICT_FITS;
	}
	a->swedish_free_at = crisis_next_free((CrisisSpan *)spans->data,
					      spans->len, speakers,
					      a->slot->start,
					      a->run_end - a->slot->start);
	return VERDICT_NO_SWEDISH;
}

/* What the contact takes, checked by the core: a full run is SlotFull,
 * a run the shift's slots do not cover is the shift ending. */
static Verdict check_slot(Admission *a, GError **ret_refusal)
{
	if (a->slot->start > a->respond_by && !a->request->searching)
		return VERDICT_LATE;
	if (!slotd_context_consume(a->ctx, &a->job.cost, ret_refusal))
		return g_error_matches(*ret_refusal, SLOTD_ERROR,
				       SLOTD_ERROR_SLOT_FULL)
			       ? VERDICT_FULL
			       : VERDICT_SHIFT_ENDS;
	return crisis_is_swedish(a->request) ? check_swedish(a)
					     : VERDICT_FITS;
}

static void attach_extras(const Admission *a)
{
	const CrisisJob *job = &a->job;
	gint64 on_site = a->slot->start + (gint64)job->travel_minutes * 60;

	slotd_context_set_extra(a->ctx, "contact", g_variant_new_string(
				crisis_contact_name(job->contact)));
	slotd_context_set_extra(a->ctx, "staff",
				g_variant_new_uint32(job->cost.seats));
	slotd_context_set_extra(a->ctx, "contact-end",
				g_variant_new_int64(a->run_end));
	if (a->request->language != NULL)
		slotd_context_set_extra(a->ctx, "contact-language",
					g_variant_new_string(
						a->request->language));
	if (job->contact == CRISIS_CONTACT_FIELD) {
		slotd_context_set_extra(a->ctx, "travel-minutes",
					g_variant_new_uint32(
						job->travel_minutes));
		slotd_context_set_extra(a->ctx, "on-site-from",
					g_variant_new_int64(on_site));
		slotd_context_set_extra(
			a->ctx, "on-site-until",
			g_variant_new_int64(on_site +
					    (gint64)job->task_minutes * 60));
	}
	if (a->urgency != CRISIS_URGENCY_ROUTINE)
		slotd_context_set_extra(a->ctx, "respond-by",
					g_variant_new_int64(a->respond_by));
}

static char *shift_end_reason(const Admission *a)
{
	g_autofree char *end = slotd_format_local(a->run_end);

	return g_strdup_printf("this %s contact takes %u minutes, to %s, "
			       "and the %s shift ends before that; the "
			       "staff of a shift finish within it, so start "
			       "earlier or in the next shift",
			       crisis_contact_name(a->job.contact),
			       a->job.cost.minutes, end, a->slot->kind);
}

static char *swedish_reason(const Admission *a)
{
	guint speakers = crisis_swedish_speakers(crisis_base(a->offering),
						 a->slot->kind);
	g_autofree char *until = NULL;

	if (speakers == 0)
		return g_strdup_printf("the %s shift at %s has no Swedish "
				       "speaker", a->slot->kind,
				       slotd_offering_unit(a->offering));
	until = slotd_format_local(a->swedish_free_at);
	return g_strdup_printf("no Swedish-speaking staff is free at %s: "
			       "the %s shift's %u Swedish speaker%s %s busy "
			       "until %s", slotd_offering_unit(a->offering),
			       a->slot->kind, speakers,
			       speakers == 1 ? "" : "s",
			       speakers == 1 ? "is" : "are",
			       a->swedish_free_at == G_MAXINT64
				       ? "the end of the shift"
				       : until);
}

static char *verdict_reason(const Admission *a, Verdict verdict)
{
	g_autofree char *start = slotd_format_local(a->slot->start);
	g_autofree char *limit = slotd_format_local(a->respond_by);

	switch (verdict) {
	case VERDICT_LATE:
		return g_strdup_printf("an %s contact must start by %s and "
				       "this slot starts at %s",
				       crisis_urgency_name(a->urgency), limit,
				       start);
	case VERDICT_FULL:
		return g_strdup_printf("the %s shift at %s has no %u staff "
				       "free for the whole contact from %s",
				       a->slot->kind,
				       slotd_offering_unit(a->offering),
				       a->job.cost.seats, start);
	case VERDICT_SHIFT_ENDS:
		return shift_end_reason(a);
	default:
		return swedish_reason(a);
	}
}

static SlotdErrorCode verdict_code(Verdict verdict)
{
	switch (verdict) {
	case VERDICT_LATE:
		return SLOTD_ERROR_DEADLINE_UNREACHABLE;
	case VERDICT_FULL:
		return SLOTD_ERROR_SLOT_FULL;
	default:
		return SLOTD_ERROR_POLICY_VIOLATION;
	}
}

/* "2026-12-07 14:00 at W-SKP (the slot in progress)" */
static char *describe_start(const SlotdOffering *offering, gint64 start,
			    gint64 now)
{
	g_autofree char *when = slotd_format_local(start);

	return g_strdup_printf("%s at %s%s", when,
			       slotd_offering_unit(offering),
			       start < now ? " (the slot in progress)" : "");
}

static void unreachable(const Admission *a, const char *alternative,
			GError **error)
{
	g_autofree char *limit = slotd_format_local(a->respond_by);

	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_DEADLINE_UNREACHABLE,
		    "no base of %s can start this %s %s contact by %s; %s%s. "
		    "Escalate (the emergency department, the police, "
		    "another duty) or book that start",
		    slotd_offering_service(a->offering),
		    crisis_urgency_name(a->urgency),
		    crisis_contact_name(a->job.contact), limit,
		    alternative ? "the earliest possible start is "
				: "no base has room within the next 72 hours",
		    alternative ? alternative : "");
}

/* Refuses the chosen slot, naming what can be booked instead. FindSlots
 * (a probe) only needs the verdict, not the search for a better slot. */
static gboolean refuse(const Admission *a, Verdict verdict, GError **error)
{
	g_autofree char *reason = NULL;
	g_autofree char *alternative = NULL;
	const SlotdOffering *where = NULL;
	gint64 start = 0;
	gboolean found;

	/* A probe's refusal is read by nobody: formatting times (a
	 * routine contact's unbounded limit among them) costs libical
	 * tens of milliseconds each. */
	if (a->request->probe) {
		g_set_error_literal(error, SLOTD_ERROR, verdict_code(verdict),
				    "this contact does not fit this slot");
		return FALSE;
	}
	reason = verdict_reason(a, verdict);
	found = slotd_context_find_earliest(
		a->ctx, a->request, a->request->now + CRISIS_SEARCH_HOURS * 3600,
		&where, &start);
	if (found)
		alternative = describe_start(where, start, a->request->now);
	if (a->urgency != CRISIS_URGENCY_ROUTINE &&
	    (!found || start > a->respond_by)) {
		unreachable(a, alternative, error);
		return FALSE;
	}
	g_set_error(error, SLOTD_ERROR, verdict_code(verdict),
		    "%s. The earliest start that can take it is %s",
		    reason, alternative ? alternative
					: "not within the next 72 hours");
	return FALSE;
}

gboolean crisis_admit(const SlotdOffering *offering, SlotdContext *ctx,
		      const SlotdSlotInfo *slot, const SlotdRequest *request,
		      GError **error)
{
	const CrisisBase *base = crisis_base(offering);
	Admission a = { offering, ctx, slot, request };
	g_autoptr(GError) refusal = NULL;
	Verdict verdict;

	if (!crisis_job_for(offering, request, &a.job, error)) {
		/* The base's contacts and area, whatever the slot. */
		slotd_context_refuse_offering(ctx);
		return FALSE;
	}
	if (request->modality != NULL &&
	    g_strcmp0(request->modality,
		      crisis_contact_modality(a.job.contact)) != 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "a %s contact is a %s contact, but modality says "
			    "%s; give one of them, or both alike",
			    crisis_contact_name(a.job.contact),
			    crisis_contact_modality(a.job.contact),
			    request->modality);
		return FALSE;
	}
	slotd_context_set_modality(ctx, crisis_contact_modality(a.job.contact));
	/* In a series only the first contact answers the urgency; the
	 * rest are follow-ups booked ahead. */
	a.urgency = request->series_index == 0
			    ? crisis_urgency_parse(request->urgency)
			    : CRISIS_URGENCY_ROUTINE;
	a.respond_by = crisis_respond_by(a.urgency, request->now,
					 base->urgent_hours,
					 base->immediate_minutes);
	a.run_end = crisis_run_end(slot, &a.job.cost);
	if (!check_open(&a, error))
		return FALSE;
	verdict = check_slot(&a, &refusal);
	/* A full slot of a routine contact is the core's SlotFull, the
	 * same answer as for any other kind. */
	if (verdict == VERDICT_FULL && a.urgency == CRISIS_URGENCY_ROUTINE) {
		g_propagate_error(error, g_steal_pointer(&refusal));
		return FALSE;
	}
	if (verdict != VERDICT_FITS)
		return refuse(&a, verdict, error);
	attach_extras(&a);
	return TRUE;
}
