/* crisis-duty: the pure arithmetic behind the rules (see rules.h). */
#include "rules.h"

#include <math.h>

static const char *const contact_names[CRISIS_N_CONTACTS] = {
	[CRISIS_CONTACT_PHONE] = "phone",
	[CRISIS_CONTACT_FIELD] = "field",
	[CRISIS_CONTACT_OFFICE] = "office",
};

gboolean crisis_contact_parse(const char *text, CrisisContact *ret_contact)
{
	for (guint i = 0; i < CRISIS_N_CONTACTS; i++) {
		if (g_strcmp0(text, contact_names[i]) == 0) {
			*ret_contact = i;
			return TRUE;
		}
	}
	return FALSE;
}

const char *crisis_contact_name(CrisisContact contact)
{
	g_return_val_if_fail(contact < CRISIS_N_CONTACTS, "phone");
	return contact_names[contact];
}

CrisisContact crisis_contact_for_modality(const char *modality)
{
	if (g_strcmp0(modality, "home") == 0)
		return CRISIS_CONTACT_FIELD;
	if (g_strcmp0(modality, "onsite") == 0)
		return CRISIS_CONTACT_OFFICE;
	return CRISIS_CONTACT_PHONE;
}

const char *crisis_contact_modality(CrisisContact contact)
{
	switch (contact) {
	case CRISIS_CONTACT_FIELD:
		return "home";
	case CRISIS_CONTACT_OFFICE:
		return "onsite";
	default:
		return "phone";
	}
}

CrisisUrgency crisis_urgency_parse(const char *text)
{
	if (g_strcmp0(text, "immediate") == 0)
		return CRISIS_URGENCY_IMMEDIATE;
	if (g_strcmp0(text, "urgent") == 0)
		return CRISIS_URGENCY_URGENT;
	return CRISIS_URGENCY_ROUTINE;
}

const char *crisis_urgency_name(CrisisUrgency urgency)
{
	switch (urgency) {
	case CRISIS_URGENCY_IMMEDIATE:
		return "immediate";
	case CRISIS_URGENCY_URGENT:
		return "urgent";
	default:
		return "routine";
	}
}

void crisis_contact_cost(CrisisContact contact, guint task_minutes,
			 guint travel_one_way, SlotdCost *ret_cost)
{
	ret_cost->seats = contact == CRISIS_CONTACT_PHONE ? 1 : 2;
	ret_cost->minutes = task_minutes;
	if (contact == CRISIS_CONTACT_FIELD)
		ret_cost->minutes += 2 * travel_one_way;
}

gint64 crisis_respond_by(CrisisUrgency urgency, gint64 now,
			 guint urgent_hours, guint immediate_minutes)
{
	switch (urgency) {
	case CRISIS_URGENCY_IMMEDIATE:
		return now + (gint64)immediate_minutes * 60;
	case CRISIS_URGENCY_URGENT:
		return now + (gint64)urgent_hours * 3600;
	default:
		return G_MAXINT64;
	}
}

gboolean crisis_slot_open(CrisisUrgency urgency, gint64 start, gint64 end,
			  gint64 now)
{
	if (end <= now)
		return FALSE;
	if (urgency == CRISIS_URGENCY_ROUTINE)
		return start >= now;
	return TRUE;
}

gint64 crisis_run_end(const SlotdSlotInfo *slot, const SlotdCost *cost)
{
	if (cost->minutes == 0)
		return slot->end;
	return slot->start + (gint64)cost->minutes * 60;
}

static guint overlap_at(const CrisisSpan *spans, guint n_spans, gint64 t)
{
	guint count = 0;

	for (guint i = 0; i < n_spans; i++) {
		if (spans[i].start <= t && t < spans[i].end)
			count++;
	}
	return count;
}

guint crisis_peak_overlap(const CrisisSpan *spans, guint n_spans,
			  gint64 from, gint64 to)
{
	/* The count only rises where a span starts, so those instants
	 * and `from` itself are the only candidates for the peak. */
	guint peak = from < to ? overlap_at(spans, n_spans, from) : 0;

	for (guint i = 0; i < n_spans; i++) {
		if (spans[i].start > from && spans[i].start < to)
			peak = MAX(peak, overlap_at(spans, n_spans,
						    spans[i].start));
	}
	return peak;
}

gint64 crisis_next_free(const CrisisSpan *spans, guint n_spans, guint limit,
			gint64 from, gint64 length)
{
	gint64 best = G_MAXINT64;

	if (limit == 0)
		return G_MAXINT64;
	if (crisis_peak_overlap(spans, n_spans, from, from + length) < limit)
		return from;
	/* Otherwise room opens only when a busy span ends. */
	for (guint i = 0; i < n_spans; i++) {
		gint64 t = spans[i].end;

		if (t <= from || t >= best)
			continue;
		if (crisis_peak_overlap(spans, n_spans, t, t + length) < limit)
			best = t;
	}
	return best;
}
