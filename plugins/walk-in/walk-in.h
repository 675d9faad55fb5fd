/* walk-in (sosiaaliohjaus walk-in / socialhandledning walk-in): drop-in
 * social counselling at health stations. A session window becomes one
 * "session" slot whose capacity is the queue places; Book on it is the
 * check-in and gives a ticket. Referral windows become short "referral"
 * slots that health-station staff book for a named (pseudonymous)
 * client. Private declarations shared by the plugin's files. */
#pragma once

#include <slotd/plugin.h>

#include "rules.h"

#define WALK_IN_SESSION "session"
#define WALK_IN_REFERRAL "referral"

/* How far ahead a refusal looks for the next session to name. */
#define WALK_IN_NEXT_SESSION_DAYS 62

typedef struct {
	char *name;
	gboolean is_session;
	WalkInSchedule schedule;
	guint counsellors;	/* present during the window */
	guint queue_places;	/* sessions: check-ins it takes */
} WalkInWindow;

typedef struct {
	GPtrArray *windows;		/* WalkInWindow, config order */
	guint service_minutes;		/* mean minutes per visitor */
	guint checkin_opens_minutes;	/* before a session starts */
	guint referral_minutes;		/* length of a referral slot */
	gboolean anonymous_visits;	/* sessions take "" client refs */
	char **reasons;			/* codes the `reason` option takes */
	double expected_arrivals;	/* per hour, when there is no history */
} WalkInConfig;

/* walk-in.c: the module's one export, also called by the tests. */
SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

/* config.c */
gboolean walk_in_configure(SlotdOffering *offering, GError **error);
void walk_in_config_free(WalkInConfig *config);
const WalkInConfig *walk_in_config(const SlotdOffering *offering);
const WalkInWindow *walk_in_config_window(const WalkInConfig *config,
					  const char *name);
gboolean walk_in_config_has_reason(const WalkInConfig *config,
				   const char *reason);

/* session.c: telling sessions apart and naming them to people */
void walk_in_local_time(gint64 utc, GDate *ret_date, int *ret_minute);
/* The session window a stored session slot came from (a slot does not
 * say); NULL when none matches any more (the configuration changed). */
const WalkInWindow *walk_in_session_of(const WalkInConfig *config,
				       gint64 start, gint64 end);
/* "W-SO-LOH (Lohja / Lojo)" */
char *walk_in_unit_label(const SlotdOffering *offering);
/* A sentence naming the next session of the offering that still takes
 * check-ins after `now`, with when check-in opens. */
char *walk_in_next_session_text(const SlotdOffering *offering,
				SlotdContext *ctx, gint64 now);

/* shape.c */
gboolean walk_in_shape(const SlotdOffering *offering,
		       const SlotdWindow *window, GArray *ret_slots,
		       GError **error);

/* admit.c */
gboolean walk_in_admit(const SlotdOffering *offering, SlotdContext *ctx,
		       const SlotdSlotInfo *slot, const SlotdRequest *request,
		       GError **error);

/* queue.c */
void walk_in_describe(const SlotdOffering *offering, SlotdContext *ctx,
		      const SlotdBookingInfo *booking, GVariantDict *ret_keys);
/* The queue of a session from its live bookings (SlotdBookingInfo);
 * GArray of WalkInQueueEntry. */
GArray *walk_in_queue_entries(GPtrArray *bookings);
/* Describe has no request and so no clock of the daemon's: it reads
 * this one. Tests set their fixed clock here (NULL: real time). */

/* plan.c */
typedef struct {
	double arrivals_per_hour;
	double service_minutes;
	guint staff_rostered;
	double target_wait_minutes;
} WalkInStaffingInput;

typedef struct {
	guint staff_needed;	/* fewest with mean wait <= target */
	double expected_wait_minutes;
	double expected_queue_length;
	double utilisation;
	double service_level;	/* P(wait <= target) with rostered */
} WalkInStaffing;

void walk_in_staffing_compute(const WalkInStaffingInput *input,
			      WalkInStaffing *ret);
gboolean walk_in_plan(SlotdPlan *plan, GError **error);
