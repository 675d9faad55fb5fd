/* slotd plugin SDK: the only header a service plugin includes.
 *
 * A plugin is a shared module that exports one function,
 * slotd_plugin_describe(), returning a constant SlotdPluginDescriptor.
 * In setup() the plugin registers one or more service kinds with
 * slotd_host_register_kind(). Each kind is a table of hooks the daemon
 * calls: configure (validate the kind's keys of an offering), shape
 * (turn an opening window into slots), admit (the one admission rule:
 * whether a request is admitted in a slot now, and what it takes), and
 * the optional describe, rank and plan hooks.
 *
 * The admission rule is asked by FindSlots for every slot it offers
 * (with request->probe set), by Hold, and by Book, BookSeries and
 * Reschedule inside the booking transaction. It is the only place a
 * booking rule lives, so what FindSlots offers is what Book accepts.
 *
 * ABI rules: SLOTD_PLUGIN_ABI_MAJOR changes when anything existing
 * changes meaning; structs carrying a `size` field only ever grow at the
 * end, and the daemon reads no field past the size a plugin was built
 * with.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SLOTD_PLUGIN_ABI_MAJOR 2
#define SLOTD_PLUGIN_ENTRY "slotd_plugin_describe"

#if defined(__GNUC__)
#define SLOTD_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SLOTD_PLUGIN_EXPORT
#endif

/* ---- errors ----------------------------------------------------------
 * The request errors a hook may return. Each maps to one D-Bus error
 * name (org.slotd.Error.<Name>); the message is shown to a person and
 * says what to do. */
#define SLOTD_ERROR (slotd_error_quark())
GQuark slotd_error_quark(void);

typedef enum {
	SLOTD_ERROR_FAILED,		   /* org.slotd.Error.Failed (bug) */
	SLOTD_ERROR_INVALID_ARGS,	   /* o.fd.DBus.Error.InvalidArgs */
	SLOTD_ERROR_ACCESS_DENIED,	   /* o.fd.DBus.Error.AccessDenied */
	SLOTD_ERROR_NO_SUCH_SERVICE,	   /* NoSuchService */
	SLOTD_ERROR_NO_SUCH_UNIT,	   /* NoSuchUnit */
	SLOTD_ERROR_NO_SUCH_SLOT,	   /* NoSuchSlot */
	SLOTD_ERROR_NO_SUCH_BOOKING,	   /* NoSuchBooking */
	SLOTD_ERROR_NO_SUCH_HOLD,	   /* NoSuchHold (unknown or expired) */
	SLOTD_ERROR_SLOT_FULL,		   /* SlotFull */
	SLOTD_ERROR_INVALID_CLIENT_REF,	   /* InvalidClientRef */
	SLOTD_ERROR_POLICY_VIOLATION,	   /* PolicyViolation */
	SLOTD_ERROR_DEADLINE_UNREACHABLE,  /* DeadlineUnreachable */
	SLOTD_ERROR_CONFLICT,		   /* Conflict */
	SLOTD_ERROR_SERVICE_UNAVAILABLE,   /* ServiceUnavailable (plugin) */
	SLOTD_ERROR_STORAGE_UNAVAILABLE,   /* StorageUnavailable */
	SLOTD_ERROR_INVALID_CONFIG,	   /* InvalidConfig */
	SLOTD_ERROR_NO_SUCH_TOKEN,	   /* NoSuchToken */
	SLOTD_ERROR_NO_SUCH_ENTRY,	   /* NoSuchEntry (waitlist) */
	SLOTD_ERROR_NO_SUCH_PRACTITIONER,  /* NoSuchPractitioner */
} SlotdErrorCode;

/* ---- opaque handles owned by the daemon ---------------------------- */
typedef struct _SlotdHost SlotdHost;	     /* registration, setup only */
typedef struct _SlotdOffering SlotdOffering; /* a service at a unit */
typedef struct _SlotdContext SlotdContext;   /* store access in a hook */
typedef struct _SlotdPlan SlotdPlan;	     /* one planning request */

/* One occurrence of an opening window, in UTC seconds. `name` is the
 * window's name from the configuration ("day", "session", ...). */
typedef struct {
	const char *name;
	gint64 start;
	gint64 end;
	guint capacity; /* capacity-<name>, else the offering's seats */
} SlotdWindow;

/* A slot a shape hook produces. `kind` must be a static string or one
 * returned by g_intern_string(): "slot", "session", "referral" ... */
typedef struct {
	gint64 start;
	gint64 end;
	guint capacity;
	const char *kind;
} SlotdSlotSpec;

/* A stored slot as a hook sees it. */
typedef struct {
	const char *id;
	const char *kind;
	gint64 start;
	gint64 end;
	guint capacity;
	guint booked;
	guint held;
} SlotdSlotInfo;

/* A booking request, as the caller gave it (already validated). */
typedef struct {
	/* "" for an anonymous visit; NULL when the client is not known
	 * yet (FindSlots without client-ref, a Hold taken before the
	 * client is named): rules about the client do not apply then,
	 * and Book checks them. */
	const char *client_ref;
	const char *municipality; /* client's home: code, or NULL */
	const char *language;	  /* "fi", "sv", "en" or NULL */
	const char *modality;	  /* "onsite", "home", "phone", "video", NULL */
	const char *urgency;	  /* "routine", "urgent", "immediate" */
	gint64 referral_time;	  /* 0 when not given */
	gint64 now;		  /* the daemon's clock, UTC seconds */
	guint series_index;	  /* position in its series, 0 for Book */
	guint series_length;	  /* 1 for a single booking */
	GVariant *options;	  /* a{sv}: the plugin keys of the call */
	/* FindSlots asks whether to offer the slot: decide exactly as for
	 * a booking, but skip work that only improves the message (the
	 * error is not shown to anyone). */
	gboolean probe;
	/* Set with probe by slotd_context_find_earliest(): the earliest
	 * slot that can take the request is sought, so a limit that only
	 * says this start is too late (an urgency's deadline) does not
	 * refuse; every other rule does. */
	gboolean searching;
	/* The series being booked or moved (the first booking's number);
	 * 0 for a single booking. slotd_context_series_bookings() lists
	 * its other bookings. */
	gint64 series;
	/* The daemon's index of `options`, or NULL: not for plugins to
	 * read; slotd_request_option() uses it. */
	gconstpointer option_index;
} SlotdRequest;

/* Looks `key` up in request->options as g_variant_lookup() does (the
 * format gives the type: "u", "&s", "b", "x"...; FALSE when the key is
 * absent or of another type), through the daemon's index when the
 * request has one. FindSlots asks the rule once per candidate slot
 * with the same options: g_variant_lookup() unpacks every entry it
 * passes each time, the index does not. */
gboolean slotd_request_option(const SlotdRequest *request, const char *key,
			      const char *format, ...);
/* The value of `key` if it has `type` (NULL: any), a new reference, or
 * NULL; as g_variant_lookup_value(). */
GVariant *slotd_request_option_value(const SlotdRequest *request,
				     const char *key,
				     const GVariantType *type);

/* What one booking takes: `seats` capacity units in every slot of the
 * chosen slot's kind from its start for `minutes` (0: just the chosen
 * slot). The core takes them in one transaction or not at all. */
typedef struct {
	guint seats;
	guint minutes;
} SlotdCost;

/* A booking as a hook sees it. */
typedef struct {
	const char *id;
	const char *slot_id;
	const char *client_ref;
	const char *status; /* FHIR AppointmentStatus code */
	gint64 start;
	gint64 end;
	gint64 created;
	guint seats;
	GVariant *extras; /* a{sv} the plugin attached at admission */
	guint series_index; /* place in its series (0 for a single one) */
	const char *unit;   /* the unit it is booked at */
} SlotdBookingInfo;

/* A plugin key a caller may put in Book/BookSeries options or a
 * FindSlots query (e.g. "episode", "contact"). Keys that neither the
 * core nor the kind declares are refused with InvalidArgs, and so are
 * values of another type. Arrays end with a { NULL } entry. */
typedef struct {
	const char *name;
	const char *type;	 /* GVariant type string: "s", "u", "x" ... */
	const char *description; /* for introspection docs and --help */
} SlotdOptionSpec;

/* The booking rules every kind has, enforced by the core as part of the
 * admission rule (and at Cancel, Reschedule and SetStatus). A kind
 * gives its defaults; an offering's keys of the same names override
 * them. 0 means no such rule. */
typedef struct {
	guint notice_minutes;	    /* min-notice-minutes: routine only */
	guint advance_days;	    /* max-advance-days */
	guint cancel_cutoff_minutes;	 /* cancel-cutoff-minutes */
	guint reschedule_cutoff_minutes; /* reschedule-cutoff-minutes */
	guint max_per_day;	    /* max-per-client-day: local day */
	guint max_active;	    /* max-active-per-client: future ones */
	guint status_grace_minutes; /* status-grace-minutes: arrived and
				     * checked-in from this long before
				     * the start; fulfilled, noshow after
				     * it */
} SlotdBookingRules;

/* ---- the hooks of a service kind ----------------------------------- */
typedef struct {
	guint32 size; /* sizeof(SlotdKindOps) the plugin was built with */

	/* Read and validate this kind's own keys of the offering's config
	 * group with the slotd_offering_get_*() functions. Keys nobody reads
	 * are refused by the daemon as unknown. May attach private data
	 * with slotd_offering_set_data(). Required. */
	gboolean (*configure)(SlotdOffering *offering, GError **error);

	/* Append the slots of one window occurrence to `ret_slots`
	 * (GArray of SlotdSlotSpec). NULL: fixed-length slots of the
	 * offering's slot-minutes with the window's capacity. For a
	 * reload it runs on a worker thread while the main thread books:
	 * it may read only the offering and the window it is given. */
	gboolean (*shape)(const SlotdOffering *offering,
			  const SlotdWindow *window, GArray *ret_slots,
			  GError **error);

	/* The admission rule: is `request` admitted in `slot` now, and
	 * what does it take? Declare what it takes with
	 * slotd_context_consume() before the rules that depend on other
	 * bookings (without it: one seat of the slot). On refusal set a
	 * SLOTD_ERROR: SlotFull, PolicyViolation, DeadlineUnreachable,
	 * InvalidArgs (the request itself is wrong: FindSlots returns it)
	 * ... May attach extras with slotd_context_set_extra(). Called
	 * inside the booking transaction, and by FindSlots with
	 * request->probe. It must not keep state between calls that
	 * decides a later answer (the store is the state). NULL: one
	 * seat of the slot and no other rule. */
	gboolean (*admit)(const SlotdOffering *offering, SlotdContext *ctx,
			  const SlotdSlotInfo *slot, const SlotdRequest *request,
			  GError **error);

	/* Add live keys to a booking shown by GetBooking (e.g. a queue
	 * position). Optional. */
	void (*describe)(const SlotdOffering *offering, SlotdContext *ctx,
			 const SlotdBookingInfo *booking, GVariantDict *ret_keys);

	/* Ranking adjustment in minutes added to the travel time when
	 * results are ordered (lower first). Optional.
	 *
	 * About refusals in FindSlots: SLOTD_ERROR_INVALID_ARGS is
	 * returned to the caller (the query is wrong); any other refusal
	 * leaves that slot out. A refusal marked with
	 * slotd_context_refuse_offering() leaves the whole offering out,
	 * and when every offering was left out that way the first such
	 * reason is returned, so a caller learns why (e.g. no base covers
	 * the municipality). */
	gint (*rank)(const SlotdOffering *offering, const SlotdSlotInfo *slot,
		     const SlotdRequest *request);

	/* Staffing rows for the planner (Planner1.Staffing). Optional.
	 * It runs on a worker thread, maybe two at once, while the main
	 * thread books: read only through the SlotdPlan (its offerings,
	 * slotd_plan_history, slotd_plan_slots), the slotd_offering_*
	 * getters (not the slotd_offering_get_* readers of configure),
	 * the plugin's own data set at configure, and the time and
	 * queueing functions; no slotd_context_* and no state of the
	 * plugin's own that other hooks change. */
	gboolean (*plan)(SlotdPlan *plan, GError **error);

	/* The plugin keys this kind accepts in calls. Optional. */
	const SlotdOptionSpec *options;

	/* SLOTD_KIND_* flags. */
	guint32 flags;

	/* The kind's booking rules; NULL: the core's defaults (30
	 * minutes' notice, cancel and reschedule up to 30 minutes before,
	 * statuses from an hour before the start). */
	const SlotdBookingRules *rules;
} SlotdKindOps;

/* The kind accepts an empty client reference (an anonymous visit); its
 * admit hook decides where. Without it the core refuses empty ones. */
#define SLOTD_KIND_ANONYMOUS_VISITS (1u << 0)
/* Routine requests may be admitted in a slot that has started but not
 * ended (a drop-in session); admit decides which slots. Without it
 * only urgent and immediate requests reach admit for slots in
 * progress. */
#define SLOTD_KIND_JOIN_STARTED (1u << 1)

/* ---- the descriptor a plugin exports ------------------------------- */
typedef struct {
	guint32 abi_major; /* SLOTD_PLUGIN_ABI_MAJOR */
	guint32 size;	   /* sizeof(SlotdPluginDescriptor) */
	const char *id;
	const char *version;
	const char *summary;
	gboolean (*setup)(SlotdHost *host, GError **error);
	void (*teardown)(void);
} SlotdPluginDescriptor;

/* Every plugin defines exactly this function. */
typedef const SlotdPluginDescriptor *(*SlotdPluginDescribeFunc)(void);

/* Registers a service kind; `kind` is what `plugin=` names in a
 * [service ...] group. `ops` must stay valid until teardown. */
gboolean slotd_host_register_kind(SlotdHost *host, const char *kind,
				  const SlotdKindOps *ops, GError **error);

/* ---- offerings ------------------------------------------------------ */
const char *slotd_offering_id(const SlotdOffering *offering);
const char *slotd_offering_unit(const SlotdOffering *offering);
const char *slotd_offering_service(const SlotdOffering *offering);
const char *slotd_offering_kind(const SlotdOffering *offering);
/* Statistics Finland code of the unit's municipality. */
const char *slotd_offering_municipality(const SlotdOffering *offering);
/* NULL-terminated; owned by the offering. */
const char *const *slotd_offering_languages(const SlotdOffering *offering);
gboolean slotd_offering_has_language(const SlotdOffering *offering,
				     const char *language);
/* The first of the offering's modalities (its usual one). */
const char *slotd_offering_modality(const SlotdOffering *offering);
/* Every modality it serves, NULL-terminated; owned by the offering. */
const char *const *slotd_offering_modalities(const SlotdOffering *offering);
guint slotd_offering_slot_minutes(const SlotdOffering *offering);
guint slotd_offering_seats(const SlotdOffering *offering);
/* 0 when no limit is configured. */
guint slotd_offering_max_travel_minutes(const SlotdOffering *offering);
/* Names of the configured windows, NULL-terminated. */
const char *const *slotd_offering_windows(const SlotdOffering *offering);

/* The offering's config keys. Absent keys give `fallback` and TRUE; a
 * present key that does not parse or is out of range gives FALSE and
 * an InvalidConfig error naming the file, the group and the key. */
gboolean slotd_offering_get_string(SlotdOffering *offering, const char *key,
				   const char *fallback, char **ret_value,
				   GError **error);
gboolean slotd_offering_get_int(SlotdOffering *offering, const char *key,
				gint64 fallback, gint64 min, gint64 max,
				gint64 *ret_value, GError **error);
gboolean slotd_offering_get_double(SlotdOffering *offering, const char *key,
				   double fallback, double min, double max,
				   double *ret_value, GError **error);
gboolean slotd_offering_get_bool(SlotdOffering *offering, const char *key,
				 gboolean fallback, gboolean *ret_value,
				 GError **error);
/* `ret_value` is NULL when the key is absent. */
gboolean slotd_offering_get_string_list(SlotdOffering *offering,
					const char *key, char ***ret_value,
					GError **error);
gboolean slotd_offering_has_key(SlotdOffering *offering, const char *key);
/* An InvalidConfig error for `key` of this offering's group. */
void slotd_offering_config_error(const SlotdOffering *offering,
				 const char *key, GError **error,
				 const char *format, ...) G_GNUC_PRINTF(4, 5);

void slotd_offering_set_data(SlotdOffering *offering, gpointer data,
			     GDestroyNotify destroy);
gpointer slotd_offering_get_data(const SlotdOffering *offering);

/* ---- the region ----------------------------------------------------- */
/* Car minutes one way between two municipalities (codes), -1 if either
 * is unknown. From a municipality to itself: its internal travel. */
gint slotd_offering_travel_minutes(const SlotdOffering *offering,
				   const char *from_municipality,
				   const char *to_municipality);
/* Finnish ("fi") or Swedish ("sv") name of a municipality code. */
const char *slotd_offering_municipality_name(const SlotdOffering *offering,
					     const char *code,
					     const char *language);
/* Every offering of the same service (including this one); a new array,
 * free it with g_ptr_array_unref. */
GPtrArray *slotd_offering_siblings(const SlotdOffering *offering);

/* ---- inside admit: what the booking takes ------------------------- */
/* Declares what the booking takes (see SlotdCost) and checks that the
 * seats are free in every slot of the run: FALSE with SlotFull when
 * they are not (a caller's own hold is already given back), or with
 * PolicyViolation when the slots of the chosen kind end before the
 * booking does. Call it once. */
gboolean slotd_context_consume(SlotdContext *ctx, const SlotdCost *cost,
			       GError **error);
/* After consume: the end of the booking, and how many bookings of that
 * cost still fit in the run. */
gint64 slotd_context_run_end(SlotdContext *ctx);
guint slotd_context_free(SlotdContext *ctx);
/* Lowers what FindSlots shows as free for this request (e.g. the
 * Swedish speakers still free), when a rule limits it below the seats. */
void slotd_context_limit_free(SlotdContext *ctx, guint most);
/* The request would be admitted from `when` on (e.g. check-in opens):
 * admit still refuses now, and FindSlots offers the slot with the
 * extra `bookable-from` instead of leaving it out. */
void slotd_context_bookable_from(SlotdContext *ctx, gint64 when);
/* The refusal admit is about to return holds for every slot of this
 * offering for this request (e.g. the base does not cover the client's
 * municipality): FindSlots skips the offering's other slots, and when
 * no offering can serve the request it returns this reason rather than
 * an empty list. */
void slotd_context_refuse_offering(SlotdContext *ctx);
/* The booking's end when it is not the end of what it takes (a visit
 * that ends in a shift's handover takes only its own shift's slots). */
void slotd_context_set_end(SlotdContext *ctx, gint64 end);
/* The modality the booking is stored with, when the request implies
 * one the caller did not name (a field contact is a home visit). */
void slotd_context_set_modality(SlotdContext *ctx, const char *modality);

/* ---- inside a hook: the store -------------------------------------- */
/* Bookings and holds of one client (any offering of this service) that
 * are not cancelled or entered in error and start in [from, to); the
 * booking being rescheduled is not counted. */
guint slotd_context_count_client_bookings(SlotdContext *ctx,
					  const char *client_ref, gint64 from,
					  gint64 to);
/* Live bookings (not cancelled, not entered-in-error) of a slot,
 * ordered by creation, then the live holds on it (status "pending",
 * id "h-N"), which reserve what their booking would take; GPtrArray of
 * SlotdBookingInfo, free with g_ptr_array_unref. */
GPtrArray *slotd_context_slot_bookings(SlotdContext *ctx, const char *slot_id);
/* Every booking ever made that starts in the slot, cancelled ones too,
 * by creation (e.g. the tickets a session has handed out). */
GPtrArray *slotd_context_slot_history(SlotdContext *ctx, const char *slot_id);
/* The other live bookings of request->series (none for 0), by their
 * place in it; the booking being rescheduled is left out. GPtrArray of
 * SlotdBookingInfo, free with g_ptr_array_unref. */
GPtrArray *slotd_context_series_bookings(SlotdContext *ctx);
/* The earliest start from request->now up to `until` at any offering
 * of this service where `request` would be admitted, asking the same
 * admission rule (in probe mode). FALSE when there is none. */
gboolean slotd_context_find_earliest(SlotdContext *ctx,
				     const SlotdRequest *request, gint64 until,
				     const SlotdOffering **ret_offering,
				     gint64 *ret_start);
/* Attach a key to the booking being admitted (shown by GetBooking and
 * given back to describe). Floating references are sunk. A probe
 * (request->probe: FindSlots asking) keeps no extras, so a plugin may
 * leave making them out then. */
void slotd_context_set_extra(SlotdContext *ctx, const char *key,
			     GVariant *value);
/* The daemon's clock (UTC seconds): use it instead of the system clock
 * so tests and replays see the same time as the core. */
gint64 slotd_context_now(SlotdContext *ctx);
/* Slots of the offering in [from, to), ordered by start; GArray of
 * SlotdSlotInfo valid until the hook returns. */
GArray *slotd_context_offering_slots(SlotdContext *ctx,
				     const SlotdOffering *offering,
				     gint64 from, gint64 to);

/* ---- time ----------------------------------------------------------- */
/* "2026-12-07 14:00" in Europe/Helsinki; free with g_free. */
char *slotd_format_local(gint64 utc);
/* UTC seconds of a Europe/Helsinki wall-clock time. */
gint64 slotd_local_to_utc(int year, int month, int day, int hour, int minute);
/* The Europe/Helsinki date and minute of the day (0-1439) of an
 * instant: what slotd_format_local() writes, without the text. Either
 * pointer may be NULL. */
void slotd_local_time(gint64 utc, GDate *ret_date, int *ret_minute);

/* ---- queueing ------------------------------------------------------- */
/* An M/M/c queue (Erlang C). `arrivals_per_hour` λ, mean `service_minutes`
 * 1/μ, `servers` c. When the load λ/μ reaches c the queue is unstable:
 * probability of waiting 1, waits and queue length infinite. */
typedef struct {
	double offered_load;	  /* λ/μ in Erlangs */
	double utilisation;	  /* ρ = load / c */
	double p_wait;		  /* Erlang C: P(a caller waits) */
	double mean_wait_minutes; /* Wq */
	double mean_queue_length; /* Lq */
} SlotdQueueFigures;

void slotd_queue_mmc(double arrivals_per_hour, double service_minutes,
		     guint servers, SlotdQueueFigures *ret);
/* P(wait <= target_seconds) for an M/M/c queue. */
double slotd_queue_service_level(double arrivals_per_hour,
				 double service_minutes, guint servers,
				 double target_seconds);
/* The fewest servers reaching `service_level` within `target_seconds`. */
guint slotd_queue_servers_needed(double arrivals_per_hour,
				 double service_minutes, double target_seconds,
				 double service_level);

/* ---- planning ------------------------------------------------------- */
/* The offerings of the service being planned. */
guint slotd_plan_n_offerings(SlotdPlan *plan);
const SlotdOffering *slotd_plan_offering(SlotdPlan *plan, guint index);
void slotd_plan_range(SlotdPlan *plan, gint64 *ret_from, gint64 *ret_to);
/* The daemon's clock when the planning call came (UTC seconds): what
 * has happened by then is history, the rest is not. */
gint64 slotd_plan_now(SlotdPlan *plan);
/* An option of the Staffing call (a new reference: unref it), or NULL.
 * Reading it marks it used; options no hook reads are refused as
 * unknown. The type is checked: a wrong type gives NULL and an
 * InvalidArgs error at the end. */
GVariant *slotd_plan_option(SlotdPlan *plan, const char *key,
			    const GVariantType *type);
/* Bookings of an offering that start in [from, to), every status but
 * entered-in-error, without client references; GPtrArray of
 * SlotdBookingInfo owned by the caller (g_ptr_array_unref). */
GPtrArray *slotd_plan_history(SlotdPlan *plan, const SlotdOffering *offering,
			      gint64 from, gint64 to);
/* Slots of an offering in [from, to); GArray of SlotdSlotInfo owned by
 * the caller (g_array_unref); the strings live until the hook returns. */
GArray *slotd_plan_slots(SlotdPlan *plan, const SlotdOffering *offering,
			 gint64 from, gint64 to);
/* Appends one row (an a{sv} dictionary; floating refs are sunk). */
void slotd_plan_add_row(SlotdPlan *plan, GVariant *row);

G_END_DECLS
