/* crisis-duty: one hour of the staffing plan through the SDK's Erlang C
 * (M/M/c) functions. Kept apart from plan.c so that tests can check the
 * figures of an hour without a planning request. */
#include "rules.h"

#include <math.h>

static void evaluate_rostered(CrisisHourRow *row, guint target_seconds)
{
	SlotdQueueFigures figures;

	if (row->staff_rostered == 0) {
		/* Nobody on duty: every contact waits without end. */
		gboolean idle = row->offered_load <= 0;

		row->service_level = idle ? 1 : 0;
		row->mean_wait_seconds = idle ? 0 : -1;
		return;
	}
	row->service_level = slotd_queue_service_level(
		row->arrivals_per_hour, row->handling_minutes,
		row->staff_rostered, target_seconds);
	slotd_queue_mmc(row->arrivals_per_hour, row->handling_minutes,
			row->staff_rostered, &figures);
	row->mean_wait_seconds = isfinite(figures.mean_wait_minutes)
					 ? figures.mean_wait_minutes * 60
					 : -1;
}

void crisis_hour_evaluate(CrisisHourRow *row, guint target_seconds,
			  double service_level)
{
	row->offered_load = row->arrivals_per_hour * row->handling_minutes /
			    60.0;
	/* At least one even in an hour nobody calls: the line is open. */
	row->staff_needed = slotd_queue_servers_needed(
		row->arrivals_per_hour, row->handling_minutes, target_seconds,
		service_level);
	evaluate_rostered(row, target_seconds);
	row->gap = (gint)row->staff_rostered - (gint)row->staff_needed;
}
