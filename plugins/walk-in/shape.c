/* walk-in: turning window occurrences into slots. A session is one slot
 * for the whole drop-in time, its capacity the queue places; a referral
 * window is cut into referral-minutes slots, one seat per counsellor. */
#include "walk-in.h"

static void
add_slot(GArray *ret_slots, gint64 start, gint64 end, guint capacity,
	 const char *kind)
{
	SlotdSlotSpec spec = {
		.start = start,
		.end = end,
		.capacity = capacity,
		.kind = kind,
	};

	g_array_append_val(ret_slots, spec);
}

gboolean
walk_in_shape(const SlotdOffering *offering, const SlotdWindow *window,
	      GArray *ret_slots, GError **error)
{
	const WalkInConfig *config = walk_in_config(offering);
	const WalkInWindow *walk_in_window;
	gint64 length;

	walk_in_window = config != NULL ?
		walk_in_config_window(config, window->name) : NULL;
	if (walk_in_window == NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "walk-in: window \"%s\" of %s was not configured",
			    window->name, slotd_offering_id(offering));
		return FALSE;
	}
	if (walk_in_window->is_session) {
		add_slot(ret_slots, window->start, window->end,
			 walk_in_window->queue_places, WALK_IN_SESSION);
		return TRUE;
	}
	/* Only whole referral slots; the rest of the window stays free
	 * for the counsellor's other work. */
	length = (gint64)config->referral_minutes * 60;
	for (gint64 start = window->start; start + length <= window->end;
	     start += length)
		add_slot(ret_slots, start, start + length,
			 walk_in_window->counsellors, WALK_IN_REFERRAL);
	return TRUE;
}
