/* Home hospital staffing arithmetic (see staffing.h). */
#include "staffing.h"

#include <math.h>

void
hh_staffing_compute(const HhStaffingInput *input, HhStaffingFigures *ret)
{
	double per_nurse = input->shift_hours * 60.0 * input->productive_share;

	ret->demand_minutes = input->visits_per_day * input->minutes_per_visit;
	ret->capacity_minutes = per_nurse * input->rostered;
	/* The epsilon keeps 3.0000000001 nurses (rounding noise) at 3. */
	ret->staff_needed =
		per_nurse > 0
			? (guint)ceil(ret->demand_minutes / per_nurse - 1e-9)
			: 0;
	if (ret->capacity_minutes > 0)
		ret->utilisation = ret->demand_minutes / ret->capacity_minutes;
	else
		ret->utilisation = ret->demand_minutes > 0 ? -1.0 : 0.0;
	ret->arrivals_per_hour =
		input->owned_hours > 0
			? input->visits_per_day / input->owned_hours
			: 0.0;
	if (ret->demand_minutes <= 0)
		ret->service_level = 1.0;
	else
		ret->service_level =
			MIN(1.0, ret->capacity_minutes / ret->demand_minutes);
}

void
hh_staffing_split(double total, const double *weights, guint n,
		  double *ret_parts)
{
	double sum = 0;

	for (guint i = 0; i < n; i++)
		sum += weights[i];
	for (guint i = 0; i < n; i++)
		ret_parts[i] = sum > 0 ? total * weights[i] / sum : total / n;
}

double
hh_staffing_mean_round_trip(const int *one_way, guint n)
{
	double sum = 0;

	if (n == 0)
		return 0;
	for (guint i = 0; i < n; i++)
		sum += 2.0 * one_way[i];
	return sum / n;
}
