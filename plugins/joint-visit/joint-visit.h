/* Joint visits (yhteiskäynti / gemensamt besök): professionals of
 * several organisations visit a client together at the client's
 * housing unit — in Porvoo, the city's social worker, a HUS
 * psychiatric nurse and a private provider's nurse map the service and
 * care needs of the clients of supported housing. Who goes is the
 * core's joint choice (the offering's `needs`, one of each
 * organisation); this plugin says what a visit takes of their time:
 * the visit and the drive to the housing unit and back. Shared by the
 * files of this plugin only. */
#pragma once

#include <slotd/plugin.h>

#define JV_KIND "joint-visit"
#define JV_DEFAULT_VISIT_MINUTES 90
#define JV_MAX_VISIT_MINUTES 240
#define JV_MAX_TRAVEL_MINUTES 180

/* A supported-housing unit a visit goes to: a pseudonymous id
 * (asumis-1), its municipality and the drive one way from the base. */
typedef struct {
	char *id;
	char *municipality;	/* Statistics Finland code */
	guint travel_minutes;	/* one way, from the offering's unit */
} JvHousingUnit;

/* What configure made of one offering's keys (offering data). */
typedef struct {
	JvHousingUnit *units;
	guint n_units;
	guint visit_minutes;	/* on site */
} JvSettings;

/* Where one request's visit goes and what it takes. */
typedef struct {
	const JvHousingUnit *housing;	/* NULL: at the client's municipality */
	const char *municipality;	/* code */
	guint travel_minutes;		/* one way */
	guint on_site_minutes;
	guint run_minutes;		/* the team's time: visit + both drives */
} JvVisit;

/* housing.c: configure and the housing units */
gboolean jv_configure(SlotdOffering *offering, GError **error);
const JvSettings *jv_settings(const SlotdOffering *offering);
const JvHousingUnit *jv_housing_unit(const JvSettings *settings,
				     const char *id);
/* A code, or a Finnish or Swedish name (any case) -> code; NULL. */
char *jv_municipality_resolve(const SlotdOffering *offering,
			      const char *code_or_name);
/* "asumis-1 (Porvoo), asumis-2 (Porvoo)": for messages. */
char *jv_housing_list(const JvSettings *settings, const SlotdOffering *offering);
/* Parses "MUNICIPALITY [MINUTES]" of a housing-unit-ID key: the
 * municipality word and the minutes (-1 when not given). FALSE when
 * the text has another shape. */
gboolean jv_parse_housing(const char *text, char **ret_municipality,
			  gint *ret_minutes);
/* The team's minutes: on site plus the drive both ways. */
guint jv_run_minutes(guint on_site_minutes, guint travel_minutes);

/* admit.c: the admission rule */
gboolean jv_resolve_visit(const SlotdOffering *offering,
			  const SlotdRequest *request, JvVisit *ret_visit,
			  GError **error);
gboolean jv_admit(const SlotdOffering *offering, SlotdContext *ctx,
		  const SlotdSlotInfo *slot, const SlotdRequest *request,
		  GError **error);
