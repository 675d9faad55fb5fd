/* Home hospital (kotisairaala / hemsjukhus): a base unit whose nurse
 * teams work day, evening and night shifts and drive to clients' homes
 * in the municipalities the base covers. One slot capacity unit is one
 * nurse; a visit holds a nurse for the time on site plus the drive
 * there and back. Shared by the files of this plugin only. */
#pragma once

#include <slotd/plugin.h>

#include "rules.h"

#define HH_KIND "home-hospital"

/* What configure made of one offering's keys (offering data). */
typedef struct {
	HhShift *shifts; /* one per window */
	guint n_shifts;
	HhEpisode *episodes; /* the templates this base knows */
	guint n_episodes;
	const HhEpisode *default_episode;
	char **covers;		  /* municipality codes */
	guint max_visits_per_day; /* per client and local day */
	double productive_share;  /* planning: share of paid time */
	guint history_days;	  /* planning: history looked at */
} HhBase;

/* One visit as a request asks for it at a base. */
typedef struct {
	const HhEpisode *episode;
	gboolean first_visit;
	guint on_site_minutes;
	guint travel_minutes; /* one way, base to client */
	guint run_minutes;    /* nurse time, whole slots */
} HhVisit;

/* base.c: configure */
gboolean hh_configure(SlotdOffering *offering, GError **error);
const HhBase *hh_base(const SlotdOffering *offering);
gboolean hh_base_covers(const HhBase *base, const char *municipality);
const HhEpisode *hh_base_episode(const HhBase *base, const char *name);
const HhShift *hh_base_shift(const HhBase *base, const char *name);
/* "day (07:00-15:30), evening (14:30-22:30)" of the Swedish shifts. */
char *hh_base_describe_swedish(const HhBase *base);

/* coverage.c: which base covers which municipality */
/* A code, or a Finnish or Swedish name (any case) -> code; NULL. */
char *hh_municipality_resolve(const SlotdOffering *offering,
			      const char *code_or_name);
/* "Raasepori/Raseborg", or "Askola" where there is no Swedish name. */
char *hh_municipality_label(const SlotdOffering *offering, const char *code);
void hh_coverage_error(const SlotdOffering *offering, const char *municipality,
		       GError **error);

/* visit.c: slots, and the nurse time a visit takes */
gboolean hh_shape(const SlotdOffering *offering, const SlotdWindow *window,
		  GArray *ret_slots, GError **error);
gboolean hh_visit_resolve(const SlotdOffering *offering,
			  const SlotdRequest *request, HhVisit *ret_visit,
			  GError **error);
/* The local date and minute of day of an instant. */
void hh_local_time(gint64 utc, GDate *ret_date, int *ret_minute_of_day);
/* UTC bounds of the local calendar day containing `utc`. */
void hh_local_day(gint64 utc, gint64 *ret_from, gint64 *ret_to);

/* admit.c: booking rules */
gboolean hh_admit(const SlotdOffering *offering, SlotdContext *ctx,
		  const SlotdSlotInfo *slot, const SlotdRequest *request,
		  GError **error);
void hh_describe(const SlotdOffering *offering, SlotdContext *ctx,
		 const SlotdBookingInfo *booking, GVariantDict *ret_keys);

/* episode.c: the rules of a care episode booked with BookSeries */
gboolean hh_episode_admit(const SlotdOffering *offering, SlotdContext *ctx,
			  const SlotdSlotInfo *slot,
			  const SlotdRequest *request, const HhVisit *visit,
			  gint64 *ret_episode_start, GError **error);

/* plan.c: Planner1.Staffing */
gboolean hh_plan(SlotdPlan *plan, GError **error);
