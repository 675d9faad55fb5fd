/* crisis-duty (sosiaali- ja kriisipäivystys / social- och krisjour): the
 * plugin's private interfaces between its files. */
#pragma once

#include "rules.h"

#define CRISIS_KIND "crisis-duty"
/* How far ahead the search for an alternative start looks. */
#define CRISIS_SEARCH_HOURS 72

/* One shift (an opening window of the offering). Its slots carry the
 * window name as their kind, so a contact stays within one shift. */
typedef struct {
	const char *window; /* interned */
	guint staff;	    /* capacity-NAME */
	guint swedish_speakers;
} CrisisShift;

/* Staffing-plan defaults of a base (plan.c). */
typedef struct {
	gboolean contacts_given; /* contacts-per-month was set here */
	double contacts_per_month;
	double handling_minutes;
	guint target_seconds;
	double service_level;
	CrisisProfile profile;
	guint history_weeks;
	guint history_min_contacts;
} CrisisPlanConfig;

/* A crisis-duty base: one offering of the service at a unit. */
typedef struct {
	gboolean takes[CRISIS_N_CONTACTS];
	char **municipalities; /* codes it serves; NULL: every one */
	guint phone_minutes;
	guint field_minutes;
	guint office_minutes;
	guint urgent_hours;
	guint immediate_minutes;
	GArray *shifts; /* of CrisisShift */
	CrisisPlanConfig plan;
} CrisisBase;

/* What one request asks of one base. */
typedef struct {
	CrisisContact contact;
	guint task_minutes;   /* with the client */
	guint travel_minutes; /* one way, field visits only */
	SlotdCost cost;
} CrisisJob;

/* crisis-duty.c: the module's one exported symbol. */
SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

/* configure.c */
gboolean crisis_configure(SlotdOffering *offering, GError **error);
const CrisisBase *crisis_base(const SlotdOffering *offering);
guint crisis_swedish_speakers(const CrisisBase *base, const char *shift);

/* job.c: what a request asks of a base (admit's first step). */
gboolean crisis_job_for(const SlotdOffering *offering,
			const SlotdRequest *request, CrisisJob *ret_job,
			GError **error);
gboolean crisis_is_swedish(const SlotdRequest *request);
/* "Lohja/Lojo" */
char *crisis_municipality_label(const SlotdOffering *offering,
				const char *code);

/* search.c */
/* Busy spans of sv contacts among the bookings of `slots`. */
GArray *crisis_swedish_spans(SlotdContext *ctx, const SlotdSlotInfo *slots,
			     guint n_slots);
/* admit.c */
gboolean crisis_admit(const SlotdOffering *offering, SlotdContext *ctx,
		      const SlotdSlotInfo *slot, const SlotdRequest *request,
		      GError **error);

/* plan.c */
gboolean crisis_plan(SlotdPlan *plan, GError **error);
