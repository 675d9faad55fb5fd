/* Home hospital staffing arithmetic for the plan hook: visit demand
 * times the nurse minutes a visit takes (on site plus the drive both
 * ways), against the productive minutes of the nurses on a shift.
 * Pure functions, tested on their own. */
#pragma once

#include <glib.h>

typedef struct {
	double visits_per_day;	  /* visits starting in this shift, a day */
	double minutes_per_visit; /* on site + drive there and back */
	double shift_hours;	  /* paid length of the shift */
	double owned_hours;	  /* span in which its visits start */
	double productive_share;  /* share of paid time left for visits */
	guint rostered;		  /* nurses, what-if extras included */
} HhStaffingInput;

typedef struct {
	double demand_minutes;	  /* nurse minutes the visits need */
	double capacity_minutes;  /* productive minutes of the team */
	guint staff_needed;	  /* fewest nurses covering the demand */
	double utilisation;	  /* demand / capacity; -1: nobody rostered */
	double arrivals_per_hour; /* visits starting per hour of the shift */
	double service_level;	  /* share of the demand the team serves */
} HhStaffingFigures;

void hh_staffing_compute(const HhStaffingInput *input, HhStaffingFigures *ret);
/* Splits `total` over `n` parts in proportion to `weights`; equal
 * parts when every weight is zero. */
void hh_staffing_split(double total, const double *weights, guint n,
		       double *ret_parts);
/* Mean nurse minutes of driving, there and back, when each of the
 * `n` one-way times is equally likely. */
double hh_staffing_mean_round_trip(const int *one_way, guint n);
