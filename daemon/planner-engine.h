/* The planning engine behind Planner1: runs the plugins' plan hooks
 * (the slotd_plan_* functions of the SDK). */
#pragma once

#include "capacity.h"

/* Staffing rows (a{sv} each) of a service from its kind's plan hook.
 * Options the hook does not read are refused (InvalidArgs). */
gboolean planner_staffing(Capacity *capacity, const char *service_id,
			  GVariant *options, gint64 from, gint64 to,
			  GPtrArray **ret_rows, GError **error);
