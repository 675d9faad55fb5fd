/* The planning engine behind Planner1: runs the plugins' plan hooks
 * (the slotd_plan_* functions of the SDK). */
#pragma once

#include "plan-source.h"

/* The kind of a service, if it has a staffing model (a plan hook);
 * NoSuchService, ServiceUnavailable or InvalidArgs. Main thread. */
const SlotdKindOps *planner_kind(Capacity *capacity, const char *service_id,
				 GError **error);
/* Staffing rows (a{sv} each) of a service from its kind's plan hook
 * `ops` (planner_kind), reading `source` only, so it may run on a
 * worker thread: the hook sees the source's offerings, and its store
 * through slotd_plan_history and slotd_plan_slots. Options the hook
 * does not read are refused (InvalidArgs); so are more than
 * REPORT_MAX_ROWS rows. */
gboolean planner_plan(const PlanSource *source, const SlotdKindOps *ops,
		      const char *service_id, GVariant *options, gint64 from,
		      gint64 to, GPtrArray **ret_rows, GError **error);
/* planner_kind() and planner_plan() on the capacity's own region,
 * store and clock, in this thread (tests and tools). */
gboolean planner_staffing(Capacity *capacity, const char *service_id,
			  GVariant *options, gint64 from, gint64 to,
			  GPtrArray **ret_rows, GError **error);
