/* What a Planner1 call reads: a region snapshot, a store connection
 * and the daemon's clock. The call's handler gathers it on the main
 * thread when the call comes; the report or plan then runs on a worker
 * thread (planner-pool.c), so nothing in it is the Capacity, which
 * belongs to the main thread. */
#pragma once

#include "capacity.h"

typedef struct {
	Region *region;	/* the snapshot of the call; its holder keeps a
			 * reference while the work runs */
	Store *store;	/* on a worker: that worker's read-only one */
	gint64 now;	/* the daemon's clock when the call came */
} PlanSource;

/* The main thread's own: the capacity's region, store and clock now
 * (tests and tools that plan in-process). */
static inline PlanSource
plan_source_of(Capacity *capacity)
{
	PlanSource source = { capacity_region(capacity),
			      capacity_store(capacity),
			      capacity_now(capacity) };

	return source;
}
