/* The region model: an immutable, reference-counted snapshot of the
 * configuration (municipalities, travel matrix, units, services,
 * offerings). A reload builds a new snapshot and swaps it in. */
#pragma once

#include <glib.h>
#include <slotd/plugin.h>

typedef enum {
	LANGUAGE_STATUS_FINNISH,	   /* unilingual Finnish */
	LANGUAGE_STATUS_BILINGUAL_FI,  /* bilingual, Finnish majority */
	LANGUAGE_STATUS_BILINGUAL_SV,  /* bilingual, Swedish majority */
	LANGUAGE_STATUS_SWEDISH,	   /* unilingual Swedish */
} LanguageStatus;

typedef struct {
	char *code;	/* Statistics Finland code, "444" */
	char *name_fi;	/* "Lohja" */
	char *name_sv;	/* "Lojo"; equals name_fi where there is none */
	char *area;	/* "west", "east" (wellbeing services county) */
	LanguageStatus language_status;
	guint internal_travel_minutes;
	guint index;	/* row/column in the travel matrix */
} Municipality;

typedef struct {
	int year, month, day;	/* first closed day, local */
	int end_year, end_month, end_day; /* last closed day, inclusive */
} Closure;

typedef struct {
	char *id;		/* "W-HH-LOH" */
	char *municipality;	/* code */
	char *title_fi;
	char *title_sv;
	char **languages;	/* NULL-terminated: "fi", "sv", "en" */
	GArray *closures;	/* of Closure */
	char *source_file;
	char *group;
} Unit;

/* A deadline rule of a service, versioned by date and age band. */
typedef enum {
	DEADLINE_UNIT_CALENDAR_DAYS,
	DEADLINE_UNIT_WORKING_DAYS,
	DEADLINE_UNIT_MONTHS,
} DeadlineUnit;

typedef struct {
	char *id;		/* "care-guarantee-under-23" */
	DeadlineUnit unit;
	guint amount;
	gint64 valid_from;	/* UTC, 0 = always */
	gint64 valid_to;	/* UTC, exclusive: local midnight after the
				 * -until date; 0 = open */
	int min_age;		/* -1: no lower bound */
	int max_age;		/* -1: no upper bound (inclusive) */
	char *reference;	/* legal reference, "SHL 36 §" */
} DeadlineRule;

typedef struct {
	char *id;		/* "home-hospital-west" */
	char *kind;		/* plugin kind: "home-hospital" */
	char *title_fi;
	char *title_sv;
	GPtrArray *deadlines;	/* of DeadlineRule */
	char *source_file;
	char *group;
} Service;

typedef struct {
	char *name;		/* "day" */
	char *rrule;		/* "FREQ=DAILY" */
	int start_minute;	/* minutes after local midnight */
	int end_minute;		/* <= start_minute: ends the next day */
	guint capacity;
	GDate valid_from;	/* first local date the window applies */
	GDate valid_until;	/* last local date, or invalid = open */
} Window;

/* A resource a booking takes: a practitioner (a pseudonymous staff id,
 * never a name), a room or a vehicle (resource.c). */
typedef enum {
	RESOURCE_PRACTITIONER,
	RESOURCE_ROOM,
	RESOURCE_VEHICLE,
} ResourceType;

typedef struct {
	GDate first;
	GDate last;		/* inclusive */
} DayRange;

typedef struct _Resource {
	char *id;		/* "hh-loh-n07" */
	ResourceType type;
	char *unit;		/* home unit id */
	char *organisation;	/* "luvn", "hus", ... */
	char **roles;		/* "nurse"; rooms and vehicles also have
				 * "room" / "vehicle" */
	char **languages;	/* practitioners; NULL for the others */
	guint seats;		/* rooms: places; others 1 */
	GPtrArray *shifts;	/* of Window; empty: always there */
	GArray *off;		/* of DayRange: dated days off */
	char *source_file;
	char *group;
	/* its duty in UTC per block of 64 days (block + 1 -> GArray of
	 * spans, resource.c), built on demand and then never changed */
	GMutex lock;
	GHashTable *days;
} Resource;

/* What a booking of an offering takes: `count` distinct resources
 * with `role` (and of `organisation`, when set). */
typedef struct {
	char *role;
	char *organisation;	/* NULL: any */
	guint count;
	gboolean session;	/* ROLE@session: shared by the bookings of
				 * one slot (a group, a drop-in session) */
} ResourceNeed;

typedef enum {
	MODALITY_ONSITE = 1 << 0,
	MODALITY_HOME = 1 << 1,
	MODALITY_PHONE = 1 << 2,
	MODALITY_VIDEO = 1 << 3,
} Modality;

struct _SlotdOffering {
	char *id;		/* "<unit>/<service>" */
	Unit *unit;		/* borrowed from the region */
	Service *service;	/* borrowed from the region */
	char **languages;	/* defaults to the unit's */
	char **window_names;
	char *modality;		/* the first of modalities */
	char **modalities;	/* "onsite", "home", "phone", "video" */
	guint slot_minutes;
	guint seats;
	guint max_travel_minutes; /* 0 = no limit */
	gint64 rules[7];	/* booking-rule keys in SlotdBookingRules
				 * order; -1: not set here */
	gboolean closed_on_holidays;
	gboolean public_freebusy;
	GPtrArray *windows;	/* of Window */
	GPtrArray *needs;	/* of ResourceNeed (`needs`); may be empty */
	GHashTable *modality_needs; /* modality -> GPtrArray of ResourceNeed
				     * (`needs-MODALITY`) */
	char **resource_units;	/* units whose resources it draws on */
	GPtrArray *pool;	/* Resource*, borrowed: of those units */
	gboolean keep_practitioner; /* a series keeps its practitioner */
	guint max_noshows_per_series; /* 0: none; else no-shows that end a
				       * series and cancel its later visits */
	char *config_digest;	/* SHA-256 of the group's keys and values */

	/* plugin-facing */
	GKeyFile *keyfile;	/* borrowed: the file the group lives in */
	char *source_file;
	char *group;
	GHashTable *read_keys;	/* keys consumed by the core or plugin */
	gpointer plugin_data;
	GDestroyNotify plugin_data_destroy;
	struct _Region *region;	/* back pointer, not a reference */
	gboolean available;	/* its kind is registered */
	char *unavailable_reason;
};

typedef struct {
	char *groups_read;	/* comma list of Unix groups per role */
	char **read_groups;
	char **book_groups;
	char **admin_groups;
	char **planner_groups;	/* waitlists (ListWaitlist) */
	char **gateway_groups;	/* the notification gateway */
} AccessConfig;

/* Reminders before a booking's start, at most this many offsets. */
#define REMINDER_OFFSETS_MAX 8

typedef struct {
	char *config_file;	/* the entry point */
	char *state_dir;
	char *plugin_dir;
	guint horizon_days;	/* default 120 */
	guint hold_max_seconds;	/* default 900 */
	char *http_address;	/* "127.0.0.1:8470", "" = off */
	guint http_max_connections; /* open at once; more get 503 */
	guint http_idle_seconds; /* a connection waiting for a request */
	char *metrics_token;	/* "": /metrics from localhost only */
	char *feed_export_dir;	/* NULL = off */
	guint feed_refresh_minutes;
	guint cancelled_feed_days; /* cancelled bookings stay in feeds */
	guint feed_cache_bytes;	/* rendered feeds kept; default 32 MiB */
	guint report_max_days;	/* longest Planner1 window; default 400 */
	guint waitlist_offer_seconds; /* an offer's hold; default 900 */
	guint outbox_lease_seconds; /* a claimed notification's lease */
	guint reminder_offsets[REMINDER_OFFSETS_MAX]; /* seconds, falling */
	guint n_reminder_offsets;
	char *region_id;
	char *region_name_fi;
	char *region_name_sv;
	AccessConfig access;
} DaemonConfig;

typedef struct _Region {
	gint ref_count;
	DaemonConfig daemon;
	GPtrArray *municipalities;	/* of Municipality, by index */
	GHashTable *municipality_by_code;
	GHashTable *municipality_by_name; /* casefolded fi and sv names */
	guint *travel;			/* n*n minutes, G_MAXUINT = none */
	GPtrArray *units;		/* of Unit */
	GHashTable *unit_by_id;
	GPtrArray *services;		/* of Service */
	GHashTable *service_by_id;
	GPtrArray *offerings;		/* of SlotdOffering */
	GHashTable *offering_by_id;
	GPtrArray *resources;		/* of Resource */
	GHashTable *resource_by_id;
	GPtrArray *keyfiles;		/* owned GKeyFiles */
} Region;

Region *region_ref(Region *region);
void region_unref(Region *region);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Region, region_unref)

/* Building a snapshot (config.c). An empty region with one reference;
 * each region_add_*() takes ownership and indexes the item. */
Region *region_new(void);
void region_add_municipality(Region *region, Municipality *municipality);
void region_add_unit(Region *region, Unit *unit);
void region_add_service(Region *region, Service *service);
void region_add_offering(Region *region, SlotdOffering *offering);
void region_add_resource(Region *region, Resource *resource);

/* Fills region->travel from the pairs given in [travel] (n*n minutes,
 * both directions set, G_MAXUINT where not given): a missing pair is
 * the shortest path over the given ones, the diagonal each
 * municipality's internal travel. FALSE when some pair has no path at
 * all; *ret_from and *ret_to are then the indexes of one such pair. */
gboolean region_set_travel(Region *region, const guint *given,
			   guint *ret_from, guint *ret_to);

void municipality_free(Municipality *municipality);
void unit_free(Unit *unit);
void service_free(Service *service);
void deadline_rule_free(DeadlineRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Municipality, municipality_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Unit, unit_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Service, service_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DeadlineRule, deadline_rule_free)

/* offering.c: an offering with no core keys read yet; `keyfile` is
 * borrowed from region->keyfiles. Freeing calls the plugin's
 * destroy notify for its data. */
SlotdOffering *offering_new(Region *region, Unit *unit, Service *service,
			    GKeyFile *keyfile, const char *source_file,
			    const char *group);
void offering_free(SlotdOffering *offering);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SlotdOffering, offering_free)

/* The code, Finnish or Swedish name, case-insensitively ("444",
 * "Lohja", "lojo"); NULL when unknown. */
const Municipality *region_find_municipality(const Region *region,
					     const char *code_or_name);
const Unit *region_find_unit(const Region *region, const char *id);
const Service *region_find_service(const Region *region, const char *id);
SlotdOffering *region_find_offering(const Region *region, const char *id);
/* Offerings of one service, in configuration order. A new array the
 * caller frees with g_ptr_array_unref(); the offerings are borrowed. */
GPtrArray *region_service_offerings(const Region *region,
				    const char *service_id);
/* -1 when unknown. */
gint region_travel_minutes(const Region *region, const char *from_code,
			   const char *to_code);
gboolean region_unit_closed_on(const Unit *unit, const GDate *local_date);
const char *language_status_to_string(LanguageStatus status);

/* ---- resource.c ----------------------------------------------------- */
void window_free(Window *window);
void resource_free(Resource *resource);
void resource_need_free(ResourceNeed *need);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Resource, resource_free)
const char *resource_type_name(ResourceType type);
Resource *region_find_resource(const Region *region, const char *id);
gboolean resource_has_role(const Resource *resource, const char *role,
			   const char *organisation);
/* Rooms and vehicles speak no language. */
gboolean resource_speaks(const Resource *resource, const char *language);
/* Is it on duty for the whole of [start, end) by its shifts and days
 * off (absences entered at run time are the store's)? Thread-safe. */
gboolean resource_works(Resource *resource, gint64 start, gint64 end);
/* How many seconds of [start, end) it is on duty by the same shifts
 * and days off (their union). Thread-safe. */
gint64 resource_duty_seconds(Resource *resource, gint64 start, gint64 end);
/* Builds the duty times of every resource over [start, end) ahead of
 * the first search that asks (expanding a shift's RRULE is what costs),
 * until *stop (may be NULL) is set. */
void region_warm_resources(Region *region, gint64 start, gint64 end,
			   const gint *stop);
/* The same on a thread of its own, which holds a reference to the
 * region; _finish stops it early, waits for it and frees it. */
typedef struct _ResourceWarming ResourceWarming;
ResourceWarming *region_warm_resources_async(Region *region, gint64 start,
					     gint64 end);
void resource_warming_finish(ResourceWarming *warming);
/* The needs of a booking of `offering` with `modality`; NULL or empty:
 * the offering is not made of resources. */
GPtrArray *offering_needs(const SlotdOffering *offering,
			  const char *modality);
/* "nurse;vehicle", "worker*2" */
gboolean resource_parse_needs(const char *text, GPtrArray **ret_needs,
			      char **ret_problem);
