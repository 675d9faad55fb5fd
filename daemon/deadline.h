/* Deadline rules of a service: which applies, and by when. */
#pragma once

#include "region.h"

#define REPORT_AGE_UNKNOWN (-1)
/* The rule of `service` for a referral received at `referral_time` of
 * a client aged `age` (REPORT_AGE_UNKNOWN when not known); NULL when
 * none applies. */
const DeadlineRule *report_deadline_rule(const Service *service,
					 gint64 referral_time, int age);
/* The last local day that meets `rule` for a referral received at
 * `referral_time` (the day of receipt does not count). */
void report_deadline_day(const DeadlineRule *rule, gint64 referral_time,
			 GDate *ret_last_day);
/* The last second of a local day: what people read as "by the 25th". */
gint64 deadline_day_end(const GDate *day);
