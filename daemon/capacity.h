/* The capacity engine: slots materialised from offerings over a rolling
 * horizon, search and ranking across municipalities, holds, bookings,
 * series, cancellation, rescheduling and status changes. Every change
 * is one transaction that re-checks every rule (core and plugin) and
 * writes its audit row; callers are answered only after COMMIT.
 *
 * Text ids: slots "s-<n>", bookings "b-<n>", holds "h-<n>". */
#pragma once

#include <glib.h>
#include "region.h"
#include "store.h"
#include "plugin-host.h"

typedef struct _Capacity Capacity;

/* Who asks; written to the audit log. */
typedef struct {
	guint32 uid;
	const char *name; /* unique bus name, "slotctl", "internal" ... */
	gboolean admin;	  /* may override booking rules, with a reason */
} Caller;

/* Told after every commit that changed something. */
typedef struct {
	void (*booking_changed)(const char *booking_id, const char *status,
				const char *unit, const char *service,
				gpointer user_data);
	void (*slots_changed)(const char *service, const char *unit,
			      gint64 from, gint64 to, gpointer user_data);
	gpointer user_data;
} CapacityListener;

/* A slot a search offers. The offering's strings (unit, offering,
 * municipality, languages, modalities) are borrowed from the region
 * snapshot the search ran on, which outlives the call that asked on
 * the main loop; the rest are the slot's own. */
typedef struct {
	char *slot_id;
	const char *unit;
	const char *offering;
	char *kind;
	gint64 start;
	gint64 end;
	guint free;		/* bookings of this request that still fit */
	const char *municipality; /* the unit's municipality code */
	gint travel_minutes;	/* from the client's municipality, -1 n/a */
	const char *const *languages;
	char *modality;		/* the booking's: asked, or the usual one */
	const char *const *modalities; /* every modality the offering serves */
	gint64 bookable_from;	/* 0: bookable now */
	char *practitioner;	/* the one the booking would take, or NULL */
} FoundSlot;

void found_slot_free(FoundSlot *slot);

Capacity *capacity_new(Region *region, Store *store, PluginHost *plugins);
void capacity_free(Capacity *capacity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Capacity, capacity_free)

Region *capacity_region(Capacity *capacity);
Store *capacity_store(Capacity *capacity);
PluginHost *capacity_plugins(Capacity *capacity);
void capacity_add_listener(Capacity *capacity,
			   const CapacityListener *listener);
void capacity_remove_listener(Capacity *capacity, gpointer user_data);
/* Tests and the benchmark move the clock. NULL: real time. */
void capacity_set_clock(Capacity *capacity, gint64 (*now)(gpointer),
			gpointer user_data);
gint64 capacity_now(Capacity *capacity);

/* Group commit: between batch_begin and batch_end every change runs in
 * its own savepoint of one shared transaction, and listeners hear of
 * them only after the COMMIT, when the caller calls batch_tell (after
 * answering the batch's callers, so that no caller waits for the
 * signals). A request that fails leaves nothing; if the COMMIT fails,
 * nothing of the batch remains and batch_end says so, and the caller
 * must not acknowledge any of its requests. `alone`: the batch runs a
 * single change, whose first request then needs no savepoint (the
 * transaction is all its own; a failure rolls the transaction back). */
gboolean capacity_batch_begin(Capacity *capacity, gboolean alone,
			      GError **error);
gboolean capacity_batch_end(Capacity *capacity, GError **error);
void capacity_batch_tell(Capacity *capacity);

/* Materialises slots up to now + horizon for every available offering,
 * at most `max_slots` upserts per call, and no further offering once
 * 8 ms have passed; *ret_done when nothing is left. The daemon calls
 * it from an idle source so the loop never stalls. */
gboolean capacity_extend(Capacity *capacity, guint max_slots,
			 gboolean *ret_done, GError **error);
/* Swaps in a new region snapshot: offerings whose configuration
 * changed are reshaped over the horizon; slots that disappeared become
 * busy-unavailable and their bookings not flagged before are flagged
 * and returned (text ids) for rebooking. Nothing is deleted. */
gboolean capacity_set_region(Capacity *capacity, Region *region,
			     GPtrArray **ret_rebook, GError **error);

/* capacity_set_region() in steps, so that the main loop never waits
 * for it (the daemon's Reload):
 *
 * 1. capacity_reshape_new(), on the main thread: takes what the
 *    computation needs from the running state and pauses the
 *    materialisation of the horizon (capacity_extend() does nothing)
 *    until the reshape is freed. The old region is still served.
 * 2. capacity_reshape_compute(), on a worker thread with a read-only
 *    connection of its own, in one read transaction: expands the new
 *    windows of every changed offering and compares them with its
 *    stored slots. It touches nothing of the Capacity.
 * 3. capacity_reshape_begin(), on the main thread: the new region is
 *    served from now on. FindSlots over a changed offering answers
 *    ServiceUnavailable past what is already applied, as while the
 *    horizon is materialised after a start.
 * 4. capacity_reshape_step(), on the main thread, until *ret_done:
 *    each call commits one transaction of at most about `budget_us`
 *    of changes (slots added, changed, withdrawn, then the bookings of
 *    withdrawn slots flagged). A booking is never lost and capacity is
 *    never exceeded in between: every change is decided again against
 *    the seats taken at the moment it is committed.
 *
 * capacity_reshape_free() ends it at any point. Freed before begin,
 * nothing has changed; after a failed or unfinished step, the new
 * region stays and what is left is done by capacity_extend() (the
 * changed offerings' digests no longer match), as after a start. */
typedef struct _CapacityReshape CapacityReshape;

CapacityReshape *capacity_reshape_new(Capacity *capacity, Region *region,
				      GError **error);
gboolean capacity_reshape_compute(CapacityReshape *reshape, Store *store,
				  GError **error);
void capacity_reshape_begin(Capacity *capacity, CapacityReshape *reshape);
gboolean capacity_reshape_step(Capacity *capacity, CapacityReshape *reshape,
			       gint64 budget_us, gboolean *ret_done,
			       GError **error);
/* Bookings flagged so far, text ids, ascending (a new array). */
GPtrArray *capacity_reshape_rebook(CapacityReshape *reshape);
/* How many bookings were flagged so far, each counted once, and the
 * first `max_ids` of them (text ids, ascending) in *ret_first. */
guint capacity_reshape_rebook_first(CapacityReshape *reshape, guint max_ids,
				    GPtrArray **ret_first);
/* Slots added or changed, and withdrawn (after compute). */
void capacity_reshape_counts(CapacityReshape *reshape, guint *ret_offerings,
			     guint *ret_changes);
/* The offerings whose slots the reload changed (*ret_reshaped: new
 * ones, and those whose hours, seats or kinds changed, at least one
 * slot added, changed or withdrawn) and those it withdrew because they
 * are no longer configured (*ret_withdrawn); each sorted by id, empty
 * before compute. */
void capacity_reshape_offerings(CapacityReshape *reshape, GStrv *ret_reshaped,
				GStrv *ret_withdrawn);
void capacity_reshape_free(CapacityReshape *reshape);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CapacityReshape, capacity_reshape_free)

/* query a{sv}: municipality s, language s, modality s, from x, to x,
 * limit u, max-travel-minutes u, urgency s, client-ref s, plus the
 * kind's option keys. Every slot returned is one the admission rule
 * admits for this query now (or, with bookable_from, from then on). */
gboolean capacity_find(Capacity *capacity, const char *service,
		       GVariant *query, GPtrArray **ret_slots /* FoundSlot */,
		       GError **error);
/* Reserves for `seconds` exactly what Book of this request would take
 * (client_ref NULL: the client is not named yet; options as Book's,
 * or NULL). */
/* pattern a{sv}: every s (8h, 12h, 24h, Nh, Nd, weekly), count u,
 * tolerance-minutes u, limit u. Whole candidate series at one unit,
 * earliest first, each visit admitted by the rule for its place in the
 * series: aa{sv} of unit s, slots as, starts ax. */
gboolean capacity_find_series(Capacity *capacity, const char *service_id,
			      GVariant *pattern, GVariant *query,
			      GVariant **ret_rows, GError **error);
gboolean capacity_hold(Capacity *capacity, const Caller *caller,
		       const char *slot_id, const char *client_ref,
		       GVariant *options, guint seconds, char **ret_hold_id,
		       gint64 *ret_expires, GError **error);
/* Gives a hold's places back; only its own caller may. */
gboolean capacity_release_hold(Capacity *capacity, const Caller *caller,
			       const char *hold_id, GError **error);
/* options a{sv}: municipality s, hold s, language s, modality s,
 * urgency s, referral-time x, idempotency-key s, plus kind keys. */
gboolean capacity_book(Capacity *capacity, const Caller *caller,
		       const char *slot_id, const char *client_ref,
		       GVariant *options, char **ret_booking_id,
		       GError **error);
gboolean capacity_book_series(Capacity *capacity, const Caller *caller,
			      const char *const *slot_ids,
			      const char *client_ref, GVariant *options,
			      GPtrArray **ret_booking_ids, GError **error);
gboolean capacity_cancel(Capacity *capacity, const Caller *caller,
			 const char *booking_id, const char *reason,
			 GError **error);
/* Moves the booking; the id stays the same (its calendar UID too). The
 * new slot is put to the rule with the request the booking was made
 * with; `options` (a{sv}, may be NULL) changes what may change of it:
 * "practitioner", the visit's practitioner from now on (a staff id,
 * or "" for whoever the rule finds). */
gboolean capacity_reschedule(Capacity *capacity, const Caller *caller,
			     const char *booking_id, const char *new_slot_id,
			     GVariant *options, char **ret_booking_id,
			     GError **error);
gboolean capacity_set_status(Capacity *capacity, const Caller *caller,
			     const char *booking_id, const char *status,
			     GError **error);
/* a{sv}: id, slot, unit, service, start, end, client-ref, status,
 * created, modified, sequence, seats, and the optional and plugin keys. */
gboolean capacity_get_booking(Capacity *capacity, const char *booking_id,
			      GVariant **ret_booking, GError **error);
/* filter a{sv}: unit s, service s, status s, client-ref s, from x, to x,
 * limit u, needs-rebooking b. Appends StoreBooking*. */
gboolean capacity_list_bookings(Capacity *capacity, GVariant *filter,
				GPtrArray **ret_bookings, GError **error);
/* Gives back the seats of expired holds; returns the next expiry (0). */
gint64 capacity_expire_holds(Capacity *capacity);

/* aa{sv}: every change of a booking from the audit log, oldest first:
 * at, action, uid, caller, detail. */
gboolean capacity_booking_history(Capacity *capacity, const char *booking_id,
				  GVariant **ret_rows, GError **error);
/* The bookings of series "sr-N" (StoreBooking*), whatever their status,
 * by start. */
gboolean capacity_get_series(Capacity *capacity, const char *series_id,
			     GPtrArray **ret_bookings, GError **error);
/* Cancels the series' bookings still to come, all or none. */
gboolean capacity_cancel_series(Capacity *capacity, const Caller *caller,
				const char *series_id, const char *reason,
				guint *ret_cancelled, GError **error);
/* Cancels every booking of `ids` (gint64) in one transaction. */
gboolean capacity_cancel_many(Capacity *capacity, const Caller *caller,
			      GArray *ids, const char *reason,
			      GError **error);
char *capacity_series_id(gint64 series);

/* ---- campaigns (capacity-campaign.c) ------------------------------- */
/* Proposes a schedule for `clients` (aa{sv}: client-ref s, and the
 * Book keys housing-unit s, language s, municipality s) within [from,
 * to): each placement is asked of the admission rule as a real hold in
 * a savepoint rolled back at the end, so the proposal never gives one
 * practitioner two visits at once and BookCampaign accepts it. A
 * housing unit's clients go on one day where a day takes them. Books
 * nothing. options: campaign s. aa{sv}, one row per client in the
 * call's order: the client's keys, status (placed, unplaceable,
 * scheduled), and order u, slot, unit, start, end, day, practitioners
 * as; or error and reason; or booking. */
gboolean capacity_plan_campaign(Capacity *capacity, const Caller *caller,
				const char *service, GVariant *clients,
				gint64 from, gint64 to, GVariant *options,
				GVariant **ret_rows, GError **error);
/* Books the placements (rows of PlanCampaign, in their order) in one
 * transaction, all or none, each through the admission rule, each
 * carrying the campaign id (options: campaign s, booked-by s). */
gboolean capacity_book_campaign(Capacity *capacity, const Caller *caller,
				const char *service, GVariant *placements,
				GVariant *options,
				GPtrArray **ret_booking_ids, GError **error);
/* a{sv}: campaign, service, mapped u (fulfilled), scheduled u,
 * not-scheduled u, clients aa{sv} (client-ref, progress, booking,
 * status, start, unit). options: clients as (those never booked count
 * as not scheduled). */
gboolean capacity_campaign_progress(Capacity *capacity, const char *service,
				    const char *campaign, GVariant *options,
				    GVariant **ret_progress, GError **error);

/* ---- waitlist (capacity-waitlist.c) --------------------------------- */
/* query a{sv}: municipality s, language s, modality s, earliest x,
 * latest x (acceptable starts), deadline x, priority u (1 first .. 9).
 * Returns the entry id "w-N". */
gboolean capacity_join_waitlist(Capacity *capacity, const Caller *caller,
				const char *service, const char *client_ref,
				GVariant *query, char **ret_entry,
				GError **error);
/* Leaves the list; an open offer's places go to the next entry. */
gboolean capacity_leave_waitlist(Capacity *capacity, const Caller *caller,
				 const char *entry_id, GError **error);
/* aa{sv}: the entries of a service still waiting, in offer order. */
gboolean capacity_list_waitlist(Capacity *capacity, const char *service,
				GVariant **ret_rows, GError **error);
/* Books the open offer through Book with its hold; the booking id. */
gboolean capacity_accept_offer(Capacity *capacity, const Caller *caller,
			       const char *entry_id, char **ret_booking_id,
			       GError **error);
/* Gives the offer's places to the next matching entry; the entry stays
 * on the list (never offered that slot again). */
gboolean capacity_decline_offer(Capacity *capacity, const Caller *caller,
				const char *entry_id, GError **error);

/* An offer made: SlotOffered(entry, slot, hold, expires). */
typedef struct {
	char *entry;
	char *slot;
	char *hold;
	gint64 expires;
} CapacityOffer;

void capacity_offer_free(CapacityOffer *offer);
/* `wake` is called (once per batch of freed places) when there is
 * work for capacity_waitlist_run. */
void capacity_set_waitlist_wake(Capacity *capacity, void (*wake)(gpointer),
				gpointer user_data);
/* Offers the places freed since the last run, at most `max_ranges`
 * freed ranges, each bounded (a few slots of that offering, a few
 * entries of its service); appends CapacityOffer*. TRUE when more
 * freed ranges wait. */
gboolean capacity_waitlist_run(Capacity *capacity, guint max_ranges,
			       GPtrArray *ret_offers);

/* ---- notification outbox (capacity-outbox.c) ----------------------- */
/* Leases up to `max` notifications due now for outbox-lease-seconds:
 * a(ssssxsa{sv}) of id, idempotency key, kind, language, due, text,
 * details; *ret_lease is when the lease ends. */
gboolean capacity_outbox_claim(Capacity *capacity, guint max,
			       GVariant **ret_items, gint64 *ret_lease,
			       GError **error);
/* All or nothing; acknowledging again changes nothing. */
gboolean capacity_outbox_ack(Capacity *capacity, const Caller *caller,
			     const char *const *ids, GError **error);
/* aa{sv}: notifications not acknowledged yet (pending and claimed). */
gboolean capacity_outbox_list(Capacity *capacity, guint limit,
			      GVariant **ret_rows, GError **error);

/* Text id helpers: "b-12" <-> 12. */
char *capacity_booking_id(gint64 id);
/* "s-12" from ('s', 12); the same as g_strdup_printf("%c-%" G_GINT64_FORMAT). */
char *capacity_id_text(char prefix, gint64 id);
/* The same into `buf`, which holds CAPACITY_ID_TEXT_MAX bytes. */
#define CAPACITY_ID_TEXT_MAX 24
const char *capacity_id_format(char *buf, char prefix, gint64 id);
gboolean capacity_parse_id(const char *text, char prefix, gint64 *ret_id,
			   SlotdErrorCode not_found, GError **error);

/* Marks a practitioner, room or vehicle absent for [start, end): its
 * capacity is withdrawn at once, the upcoming bookings that take it are
 * flagged needs-rebooking (audited) and returned, each with up to three
 * alternatives (same unit, same day first). Nothing is moved. */
gboolean capacity_mark_absent(Capacity *capacity, const Caller *caller,
			      const char *resource, gint64 start, gint64 end,
			      const char *reason, char **ret_absence_id,
			      GVariant **ret_affected, GError **error);
/* Is it absent at any time of [start, end): one of `absences`
 * (StoreAbsence, as store_list_absences lists them) of this resource
 * overlaps it? Thread-safe. */
gboolean capacity_resource_absent(const GPtrArray *absences,
				  const Resource *resource, gint64 start,
				  gint64 end);
/* On duty for the whole of [start, end) by its shifts and days off, and
 * not absent then: who the admission rule may take, and who the
 * reports count as rostered. Thread-safe. */
gboolean capacity_resource_present(const GPtrArray *absences,
				   Resource *resource, gint64 start,
				   gint64 end);
/* Seconds of [start, end) on duty by its shifts and days off, the times
 * it is absent left out. Thread-safe. */
gint64 capacity_resource_present_seconds(const GPtrArray *absences,
					 Resource *resource, gint64 start,
					 gint64 end);
/* The region's resources (of `unit`, or all for NULL/""), with their
 * absences: aa{sv}. */
GVariant *capacity_list_resources(Capacity *capacity, const char *unit);
/* Upcoming bookings of offerings made of resources that took none (made
 * before the resources were configured) take theirs now, in start
 * order; one that finds none free keeps its seats and is logged. */
gboolean capacity_assign_unassigned(Capacity *capacity, GError **error);

