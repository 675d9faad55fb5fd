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
	gboolean orphans_checked; /* removed offerings withdrawn */
	gboolean batch;		/* requests share one transaction */
	GPtrArray *pending;	/* Notice: told after the batch commits */
};

/* The state a hook sees through SlotdContext. */
struct _SlotdContext {
	Capacity *capacity;
	const SlotdOffering *offering;
	GVariantDict *extras;	/* keys for the booking being admitted */
	GPtrArray *keep;	/* strings handed to the hook */
	GPtrArray *arrays;	/* GArrays handed to the hook */
};

/* A run of slots a booking would take. */
typedef struct {
	GArray *slots;		/* StoreSlot, the run in start order */
	guint free;		/* bookings of this cost that still fit */
	gint64 end;		/* end of the booking */
} SlotRun;

const SlotdKindOps *capacity_kind(Capacity *capacity,
				  const SlotdOffering *offering);
void capacity_context_init(SlotdContext *ctx, Capacity *capacity,
			   const SlotdOffering *offering);
void capacity_context_clear(SlotdContext *ctx);
void capacity_slot_info(const StoreSlot *slot, SlotdSlotInfo *ret_info,
			GPtrArray *keep);
/* The slots from `first` on covering `cost`; FALSE when the offering
 * has no contiguous slots of that kind for the whole length. */
gboolean capacity_slot_run(Capacity *capacity, const StoreSlot *first,
			   const SlotdCost *cost, SlotRun *ret_run,
			   GError **error);
void slot_run_clear(SlotRun *run);
/* Calls the kind's cost hook (or the default: 1 seat, the slot). */
gboolean capacity_cost(const SlotdKindOps *ops, const SlotdOffering *offering,
		       const StoreSlot *slot, const SlotdRequest *request,
		       SlotdCost *ret_cost, GError **error);
void capacity_notify_booking(Capacity *capacity, const StoreBooking *booking);
void capacity_notify_slots(Capacity *capacity, const char *offering_id,
			   gint64 from, gint64 to);
void horizon_job_free(HorizonJob *job);
gboolean capacity_check_modality(const char *modality, GError **error);
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
