/* Home hospital: the arithmetic of shifts, care-episode templates and
 * visit lengths. Pure functions on plain values, so they can be tested
 * without the daemon; the hooks in the other files feed them. */
#pragma once

#include <glib.h>

#define HH_EPISODE_NAME_MAX 48
#define HH_MINUTES_PER_DAY 1440

/* One nurse shift of a base: a window of the offering. */
typedef struct {
	char *name;	    /* window name: "day", "evening", "night" */
	int start_minute;   /* local minutes after midnight */
	int length_minutes; /* the whole shift, handover included */
	int owned_minutes;  /* its slots: from its start to the next start */
	guint nurses;	    /* capacity-NAME */
	gboolean swedish;   /* a Swedish-speaking nurse is on it */
} HhShift;

/* A care-episode template: how often, how long and for how many days
 * a nurse visits. Intervals are real time, so a q8h episode keeps 8 h
 * between visits across a daylight-saving change. */
typedef struct {
	char name[HH_EPISODE_NAME_MAX];
	guint interval_min; /* minutes between consecutive visits */
	guint interval_max; /* equal to interval_min unless a range */
	guint tolerance;    /* minutes either side of the interval */
	guint visit;	    /* on-site minutes of a later visit */
	guint first_visit;  /* on-site minutes of the first visit */
	guint days_min;	    /* shortest episode, days */
	guint days_max;	    /* longest episode, days */
} HhEpisode;

typedef enum {
	HH_SPACING_OK,
	HH_SPACING_TOO_SOON,
	HH_SPACING_TOO_LATE,
} HhSpacing;

/* ---- shifts ---------------------------------------------------------- */
/* "07:00-15:30 FREQ=DAILY" -> 420 and 930; an end at or before the
 * start is on the next day (end + 1440). */
gboolean hh_parse_window_times(const char *text, int *ret_start, int *ret_end);
/* Gives each shift the slots from its start until the next shift
 * starts, so handover overlaps are not counted twice. */
void hh_shifts_assign_ownership(HhShift *shifts, guint n_shifts);
/* The shift owning a local time of day, or NULL in a gap. */
const HhShift *hh_shift_at(const HhShift *shifts, guint n_shifts,
			   int minute_of_day);
void hh_shift_clear(HhShift *shift);

/* ---- episode templates ---------------------------------------------- */
/* The templates a base knows when its configuration names none. */
const HhEpisode *hh_builtin_episodes(guint *ret_n);
const HhEpisode *hh_builtin_episode(const char *name);
/* Reads "interval=8h visit=40 first-visit=60 days=3-10 tolerance=2h"
 * over `ret`, which holds the defaults; fields not named stay. FALSE
 * with a message for people in `ret_problem`. */
gboolean hh_episode_parse(const char *spec, HhEpisode *ret, char **ret_problem);
/* The fewest and most visits a BookSeries of this template may have. */
void hh_episode_visit_range(const HhEpisode *episode, guint *ret_min,
			    guint *ret_max);
/* Mean on-site minutes over an episode of typical length. */
double hh_episode_mean_visit(const HhEpisode *episode);
/* Is `seconds` (real time) between two consecutive visits allowed? */
HhSpacing hh_episode_check_spacing(const HhEpisode *episode, gint64 seconds);
/* "8 h", "24-72 h", "90 min" */
char *hh_episode_format_interval(const HhEpisode *episode);

/* ---- visits ---------------------------------------------------------- */
/* Nurse minutes one visit takes: on site, plus the drive there and
 * back, rounded up to whole slots. */
guint hh_visit_run_minutes(guint on_site, guint travel_one_way,
			   guint slot_minutes);
/* "2 h 30 min" for messages. */
char *hh_format_duration(gint64 seconds);
