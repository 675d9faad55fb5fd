/* walk-in: mapping stored session slots back to their windows, and
 * naming sessions to people in refusals. */
#include <string.h>

#include "walk-in.h"

void
walk_in_local_time(gint64 utc, GDate *ret_date, int *ret_minute)
{
	slotd_local_time(utc, ret_date, ret_minute);
}

const WalkInWindow *
walk_in_session_of(const WalkInConfig *config, gint64 start, gint64 end)
{
	GDate date, end_date;
	int start_minute, end_minute;

	walk_in_local_time(start, &date, &start_minute);
	walk_in_local_time(end, &end_date, &end_minute);
	if (!g_date_valid(&date))
		return NULL;
	for (guint i = 0; i < config->windows->len; i++) {
		const WalkInWindow *window = config->windows->pdata[i];

		if (window->is_session &&
		    walk_in_schedule_matches(&window->schedule, &date,
					     start_minute, end_minute))
			return window;
	}
	return NULL;
}

char *
walk_in_unit_label(const SlotdOffering *offering)
{
	const char *unit = slotd_offering_unit(offering);
	const char *code = slotd_offering_municipality(offering);
	const char *name_fi = slotd_offering_municipality_name(offering, code,
								"fi");
	const char *name_sv = slotd_offering_municipality_name(offering, code,
								"sv");

	if (name_fi == NULL)
		return g_strdup(unit);
	if (name_sv != NULL && g_strcmp0(name_fi, name_sv) != 0)
		return g_strdup_printf("%s (%s / %s)", unit, name_fi, name_sv);
	return g_strdup_printf("%s (%s)", unit, name_fi);
}

/* "2026-12-07 13:00-16:00" */
static char *
session_span_text(gint64 start, gint64 end)
{
	g_autofree char *from = slotd_format_local(start);
	g_autofree char *to = slotd_format_local(end);
	gsize length = to != NULL ? strlen(to) : 0;

	return g_strdup_printf("%s-%s", from,
			       length >= 5 ? to + length - 5 : "?");
}

static gboolean
session_takes_checkins(const SlotdSlotInfo *slot, gint64 now)
{
	return g_strcmp0(slot->kind, WALK_IN_SESSION) == 0 && slot->end > now &&
	       slot->booked + slot->held < slot->capacity;
}

char *
walk_in_next_session_text(const SlotdOffering *offering, SlotdContext *ctx,
			  gint64 now)
{
	const WalkInConfig *config = walk_in_config(offering);
	g_autofree char *label = walk_in_unit_label(offering);
	g_autofree char *span = NULL;
	g_autofree char *opens_text = NULL;
	const SlotdSlotInfo *next = NULL;
	GArray *slots;
	gint64 opens;

	/* From a day back, so a session already under way is found. */
	slots = slotd_context_offering_slots(ctx, offering, now - 86400,
					     now + WALK_IN_NEXT_SESSION_DAYS *
							   86400);
	for (guint i = 0; slots != NULL && i < slots->len && next == NULL;
	     i++) {
		if (session_takes_checkins(&g_array_index(slots, SlotdSlotInfo,
							  i), now))
			next = &g_array_index(slots, SlotdSlotInfo, i);
	}
	if (next == NULL)
		return g_strdup_printf("No walk-in session with room at %s is "
				       "scheduled in the next %d days.", label,
				       WALK_IN_NEXT_SESSION_DAYS);
	span = session_span_text(next->start, next->end);
	opens = walk_in_checkin_opens(next->start,
				      config->checkin_opens_minutes);
	if (opens <= now)
		return g_strdup_printf("The walk-in session at %s on %s takes "
				       "check-ins now.", label, span);
	opens_text = slotd_format_local(opens);
	return g_strdup_printf("The next walk-in session at %s is %s; "
			       "check-in opens at %s.", label, span,
			       opens_text);
}
