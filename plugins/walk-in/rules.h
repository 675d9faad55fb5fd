/* walk-in: the arithmetic of drop-in sessions, kept free of the daemon
 * so it can be tested on its own: which days a window recurs on, queue
 * places, when check-in is open, tickets, queue positions, estimated
 * starts and arrival rates. Nothing here calls the SDK. */
#pragma once

#include <glib.h>

/* Parse errors of window texts; the caller names file, group and key. */
#define WALK_IN_RULES_ERROR (walk_in_rules_error_quark())
GQuark walk_in_rules_error_quark(void);

/* Per weekday, which occurrences a window has in a month: every one,
 * or the 1st..5th, or the last (BYDAY=MO, 1TU, -1FR). */
#define WALK_IN_DAY_EVERY (1u << 0)
#define WALK_IN_DAY_NTH(n) (1u << (n)) /* n = 1..5 */
#define WALK_IN_DAY_LAST (1u << 6)

/* Where and when one window recurs, in local wall-clock time. */
typedef struct {
	int start_minute;	/* after local midnight */
	int end_minute;		/* <= start_minute: ends the next day */
	guint8 days[7];		/* Monday = 0; 0: not on that weekday */
	GDate from;		/* first date it applies */
	GDate until;		/* last date, or invalid: open-ended */
} WalkInSchedule;

/* Parses "HH:MM-HH:MM RRULE" (the core's window-NAME syntax). Rules
 * other than DAILY, WEEKLY and MONTHLY-by-weekday match every day, so
 * sessions are then told apart by their times alone. `from` must be
 * set by the caller first (it gives WEEKLY without BYDAY its day). */
gboolean walk_in_schedule_parse(const char *text, WalkInSchedule *schedule,
				GError **error);
/* Parses "YYYY-MM-DD" into a valid GDate. */
gboolean walk_in_parse_date(const char *text, GDate *ret_date);

/* Does an occurrence on local `date` from `start_minute` to
 * `end_minute` belong to this window? */
gboolean walk_in_schedule_matches(const WalkInSchedule *schedule,
				  const GDate *date, int start_minute,
				  int end_minute);
/* Can the two windows ever run at the same time on the same day? */
gboolean walk_in_schedules_overlap(const WalkInSchedule *a,
				   const WalkInSchedule *b);
/* Length of one occurrence in minutes. */
int walk_in_schedule_minutes(const WalkInSchedule *schedule);

/* Visitors a session can take: every counsellor sees one visitor per
 * `service_minutes` for the whole session; at least one. */
guint walk_in_queue_places(guint counsellors, guint session_minutes,
			   guint service_minutes);

typedef enum {
	WALK_IN_CHECKIN_TOO_EARLY, /* before start - opens_minutes */
	WALK_IN_CHECKIN_OPEN,
	WALK_IN_CHECKIN_CLOSED,	   /* the queue closed at the end */
} WalkInCheckin;

WalkInCheckin walk_in_checkin_state(gint64 session_start, gint64 session_end,
				    guint opens_minutes, gint64 now);
/* When check-in to a session opens. */
gint64 walk_in_checkin_opens(gint64 session_start, guint opens_minutes);

/* One check-in of a session as the queue sees it. */
typedef struct {
	guint ticket;
	gboolean waiting; /* booked, checked-in or arrived */
} WalkInQueueEntry;

/* booked, checked-in and arrived visitors are still in the queue;
 * fulfilled, noshow, cancelled and entered-in-error ones have left. */
gboolean walk_in_status_waiting(const char *status);
/* 1 + the highest ticket handed out so far, counting both the tickets
 * still visible and `issued` (the highest this process remembers). */
guint walk_in_next_ticket(const WalkInQueueEntry *entries, guint n_entries,
			  guint issued);
/* 1 + the visitors still waiting with a lower ticket. */
guint walk_in_queue_position(const WalkInQueueEntry *entries,
			     guint n_entries, guint ticket);
guint walk_in_queue_length(const WalkInQueueEntry *entries, guint n_entries);
/* max(now, session start) + floor((position - 1) / counsellors)
 * service turns. */
gint64 walk_in_estimated_start(gint64 now, gint64 session_start,
			       guint position, guint counsellors,
			       guint service_minutes);

/* Check-ins per session hour over past sessions; 0 without sessions. */
double walk_in_arrivals_per_hour(guint checkins, guint sessions,
				 guint session_minutes);
