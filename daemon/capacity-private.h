/* Internals shared by capacity*.c. */
#pragma once

#include "capacity.h"

typedef struct {
	char *offering;
	GDate from;		/* first local date to shape */
	GDate to;		/* last local date to shape */
	GDate cursor;		/* next date to shape */
	gboolean reshape;	/* withdraw slots not seen when done */
	gint64 generation;
	char *digest;
	gint64 planned;		/* when it was planned: bookings of slots
				 * it cuts that start after this are
				 * flagged when it is done */
} HorizonJob;

typedef struct {
	gint64 (*func)(gpointer);
	gpointer data;
} Clock;

struct _Capacity {
	Region *region;
	Store *store;
	PluginHost *plugins;
	GArray *listeners;	/* CapacityListener */
	Clock clock;
	GQueue jobs;		/* HorizonJob */
	gboolean jobs_planned;
	gboolean horizon_complete; /* every offering materialised */
	gboolean orphans_checked; /* removed offerings withdrawn */
	CapacityReshape *reshape; /* a Reload under way: no extension */
	gboolean batch;		/* requests share one transaction */
	gboolean alone;		/* the batch's only request is to come */
	gint64 changes_at_begin; /* store_total_changes() at its BEGIN */
	GPtrArray *pending;	/* Notice: told after the batch commits */
	GPtrArray *committed;	/* Notice: committed, for batch_tell */
	GPtrArray *absences;	/* StoreAbsence, loaded on first use */
	GQueue freed;		/* FreedRange: places to offer waitlists */
	void (*waitlist_wake)(gpointer); /* told when `freed` fills */
	gpointer waitlist_data;
};

/* Places that became free in [from, to) of an offering: a cancel, a
 * move away, a hold given back or expired, new capacity. */
typedef struct {
	char *offering;
	gint64 from;
	gint64 to;
} FreedRange;

/* A run of slots a booking would take. */
typedef struct {
	GArray *slots;		/* StoreSlot, the run in start order */
	guint free;		/* bookings of this cost that still fit */
	gint64 end;		/* end of the booking */
} SlotRun;

/* The live uses of the units' resources (capacity-resource.c), read
 * from the store once per unit for a window of `span` seconds from the
 * first time asked and kept for one search, during which nothing is
 * written; Hold and Book read their own time afresh. */
typedef struct _ResourceBusy ResourceBusy;
ResourceBusy *resource_busy_new(gint64 span);
void resource_busy_free(ResourceBusy *busy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ResourceBusy, resource_busy_free)

/* One question to the admission rule, and its answer. The same
 * question is asked by FindSlots (probe), Hold, Book, BookSeries and
 * Reschedule; capacity_admit() is the only place that asks it. */
typedef struct {
	/* the question */
	const SlotdOffering *offering;
	const SlotdKindOps *ops;
	const StoreSlot *slot;
	SlotdRequest request;
	gint64 except;		/* booking being moved: not counted */
	const char *override;	/* an administrator's reason, or NULL */
	const char *pin;	/* a practitioner to keep (FindSeries), or
				 * NULL */
	const GArray *listed;	/* StoreSlot of the offering in (start, kind)
				 * order, every slot of each start but the
				 * last one's, `slot` among them at
				 * `listed_at`; or NULL */
	guint listed_at;
	ResourceBusy *busy;	/* a search's resource uses, read once per
				 * unit and window; or NULL: read now */
	/* the answer */
	gboolean consumed;	/* the cost is declared and checked */
	SlotdCost cost;
	SlotRun run;		/* the slots it takes */
	guint free;		/* bookings of this request that still fit */
	gint64 bookable_from;	/* 0, or when it would be admitted */
	gint64 end;		/* the booking's end, if not the run's */
	gboolean whole_offering; /* the refusal holds for every slot */
	char *modality;		/* set by the plugin, or NULL */
	GVariant *extras;	/* a{sv}, not in probes */
	GPtrArray *resources;	/* Resource*, borrowed; NULL: none needed */
	gint64 resource_start;	/* the time they are taken */
	gint64 resource_end;
} Admission;

/* The state a hook sees through SlotdContext. */
struct _SlotdContext {
	Capacity *capacity;
	const SlotdOffering *offering;
	Admission *admission;	/* NULL outside admit */
	gint64 except;		/* booking left out of counts */
	GVariantDict *extras;	/* keys for the booking being admitted */
	GPtrArray *keep;	/* strings handed to the hook, or NULL */
	GPtrArray *arrays;	/* GArrays handed to the hook, or NULL */
};

const SlotdKindOps *capacity_kind(Capacity *capacity,
				  const SlotdOffering *offering);
void capacity_context_init(SlotdContext *ctx, Capacity *capacity,
			   const SlotdOffering *offering);
void capacity_context_clear(SlotdContext *ctx);
/* The slot as a hook sees it; the id's text goes into `id`
 * (CAPACITY_ID_TEXT_MAX bytes), which lives as long as the info. */
void capacity_slot_info(const StoreSlot *slot, SlotdSlotInfo *ret_info,
			char *id);
/* capacity_slot_info() with the id's text kept in `keep`. */
void capacity_context_keep_extras(SlotdContext *ctx);
void capacity_slot_info_kept(const StoreSlot *slot, SlotdSlotInfo *ret_info,
			     GPtrArray *keep);
/* The slots from `first` on covering `cost`; FALSE when the offering
 * has no contiguous slots of that kind for the whole length. */
gboolean capacity_slot_run(Capacity *capacity, const StoreSlot *first,
			   const SlotdCost *cost, SlotRun *ret_run,
			   GError **error);
/* The same from `listed` (see Admission) where it holds every slot the
 * run could take, else from the store. A run taken from `listed`
 * borrows its slots' strings: clear it before `listed` changes. */
gboolean capacity_slot_run_listed(Capacity *capacity, const StoreSlot *first,
				  const GArray *listed, guint listed_at,
				  const SlotdCost *cost, SlotRun *ret_run,
				  GError **error);
void slot_run_clear(SlotRun *run);
/* Asks the admission rule (core checks, then the plugin's admit). On
 * success the answer is in `a`; clear it with admission_clear(). A
 * refusal whose error came from the capacity check sets
 * *ret_capacity (may be NULL). */
gboolean capacity_admit(Capacity *capacity, Admission *a,
			gboolean *ret_capacity, GError **error);
void admission_clear(Admission *a);
/* capacity-resource.c: the resources the admitted booking takes,
 * chosen jointly (part of capacity_admit, after the kind's rule). */
gboolean capacity_assign_resources(Capacity *capacity, Admission *a,
				   GError **error);
/* Records what `a` chose for a booking or a hold (one of them 0). */
gboolean capacity_take_resources(Capacity *capacity, const Admission *a,
				 gint64 booking, gint64 hold, GError **error);
/* The first practitioner `a` took, or NULL. */
const char *admission_practitioner(const Admission *a);
/* InvalidArgs unless the `practitioner` option, if any, names one. */
gboolean capacity_check_practitioner(Capacity *capacity, GVariant *options,
				     GError **error);
void capacity_forget_absences(Capacity *capacity);
/* capacity-rules.c: the booking rules of every kind. */
void capacity_offering_rules(Capacity *capacity, const SlotdOffering *off,
			     SlotdBookingRules *ret);
/* The rules every kind has, the deadline's keys into `extras`. */
gboolean capacity_check_rules(Capacity *capacity, Admission *a,
			      GVariantDict *extras, GError **error);
/* Cancel (reschedule FALSE) or Reschedule of `b` now. */
gboolean capacity_check_cutoff(Capacity *capacity, const StoreBooking *b,
			       gboolean reschedule, const Caller *caller,
			       const char *reason, GError **error);
gboolean capacity_reason_overrides(const char *reason);
gboolean capacity_check_status_time(Capacity *capacity, const StoreBooking *b,
				    const char *status, GError **error);
/* The end of the booking it admitted. */
gint64 admission_end(const Admission *a);
/* The earliest admitted start of `request` at any offering of the
 * service of `offering` in [request->now, until). */
gboolean capacity_find_earliest(Capacity *capacity,
				const SlotdOffering *offering,
				const SlotdRequest *request, gint64 until,
				const SlotdOffering **ret_offering,
				gint64 *ret_start);
void capacity_notify_booking(Capacity *capacity, const StoreBooking *booking);
void capacity_notify_slots(Capacity *capacity, const char *offering_id,
			   gint64 from, gint64 to);
void horizon_job_free(HorizonJob *job);
/* Slots of the offering that start before this instant are in place;
 * G_MAXINT64 when its horizon is complete. */
gint64 capacity_ready_until(Capacity *capacity, const char *offering_id);
gboolean capacity_check_modality(const char *modality, GError **error);
gboolean capacity_offering_has_modality(const SlotdOffering *offering,
					const char *modality);
/* Is the client's home within the offering's travel limit (remote
 * offerings and a request without municipality always are)? The
 * travel in minutes, -1 unknown, goes to ret_travel (may be NULL). */
gboolean capacity_offering_reaches(Capacity *capacity,
				   const SlotdOffering *offering,
				   const char *municipality, gint *ret_travel);
gboolean capacity_check_urgency(const char *urgency, GError **error);
/* Whether a request may take a slot that has started. */
gboolean capacity_may_join_started(const SlotdKindOps *ops,
				   const char *urgency);
const Municipality *capacity_resolve_municipality(Capacity *capacity,
						  const char *text,
						  GError **error);
/* The kind of a service; NoSuchService / ServiceUnavailable. */
const SlotdKindOps *capacity_service_kind(Capacity *capacity,
					  const char *service_id,
					  GError **error);
/* Runs `func` inside BEGIN IMMEDIATE ... COMMIT; rolls back on error. */
gboolean capacity_transaction(Capacity *capacity,
			      gboolean (*func)(Capacity *, gpointer, GError **),
			      gpointer data, GError **error);

/* ---- waitlist and outbox -------------------------------------------- */
/* Queues [from, to) of the offering for the waitlist's offers (run
 * later from the main loop by capacity_waitlist_run); harmless when the
 * change that freed it is rolled back: offers ask the rule again. */
void capacity_note_freed(Capacity *capacity, const char *offering,
			 gint64 from, gint64 to);
/* Inside the change's transaction: the notification of `kind` (booked,
 * rescheduled, cancelled) of booking `b` as it is now, and for booked
 * and rescheduled its reminders still to come (capacity-outbox.c). */
gboolean capacity_outbox_booking(Capacity *capacity, const StoreBooking *b,
				 const char *kind, GError **error);
/* Inside the offer's transaction: the offer's notification. */
gboolean capacity_outbox_offer(Capacity *capacity,
			       const StoreWaitEntry *entry,
			       const StoreSlot *slot, gint64 offer,
			       gint64 expires, GError **error);
/* do_hold inside the caller's transaction: the hold's places are those
 * Book of this request would take, as the admission rule answers. */
gboolean capacity_hold_in_transaction(Capacity *capacity,
				      const Caller *caller, gint64 slot_id,
				      const char *client_ref,
				      GVariant *options, guint seconds,
				      gint64 *ret_hold_id,
				      gint64 *ret_expires, GError **error);
/* Book with `options` (which name the hold) inside the caller's
 * transaction; the hold may belong to `hold_owner` rather than the
 * caller (a waitlist offer's hold). The booking goes to *ret_booking. */
gboolean capacity_book_from_offer(Capacity *capacity, const Caller *caller,
				  gint64 slot_id, const char *client_ref,
				  GVariant *options, guint32 hold_owner,
				  StoreBooking **ret_booking, GError **error);
/* do_hold inside the caller's transaction for PlanCampaign's
 * tentative placements: the hold and the end of the booking it keeps
 * room for. */
gboolean capacity_hold_tentative(Capacity *capacity, const Caller *caller,
				 gint64 slot_id, const char *client_ref,
				 GVariant *options, guint seconds,
				 gint64 *ret_hold_id, gint64 *ret_end,
				 GError **error);
/* Book (one slot, no idempotency key) inside the caller's
 * transaction: BookCampaign's placements. */
gboolean capacity_book_in_transaction(Capacity *capacity,
				      const Caller *caller,
				      const char *slot_id,
				      const char *client_ref,
				      GVariant *options,
				      StoreBooking **ret_booking,
				      GError **error);
/* Inside expire_holds' transaction: offers expired at `now` end (the
 * hold machinery gives their places back), audited. */
gboolean capacity_waitlist_expire(Capacity *capacity, gint64 now,
				  GError **error);
/* The next freed range, FALSE when none (capacity.c). */
gboolean capacity_waitlist_pop(Capacity *capacity, char **ret_offering,
			       gint64 *ret_from, gint64 *ret_to);
gboolean capacity_waitlist_pending(Capacity *capacity);

/* `ids` (positive gint64s) ascending, each once: a new array. */
GArray *capacity_sorted_distinct_ids(const GArray *ids);
/* For qsort and g_ptr_array_sort over strings (char **). */
gint capacity_compare_strings(gconstpointer a, gconstpointer b);
/* Whether FindSlots takes `key` with this value (its own keys, or the
 * kind's plugin's): a booking's kept request, asked again by a search
 * as Reschedule asks it again. */
gboolean capacity_find_takes(const SlotdKindOps *ops, const char *key,
			     GVariant *value);
