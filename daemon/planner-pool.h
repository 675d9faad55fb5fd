/* The workers of Planner1: each call's database reads and computation
 * run on one of a few threads, and its outcome comes back on the main
 * context, where the call is answered. Each thread reads through a
 * read-only connection of its own (store_open_readonly), opened on
 * first use and kept; the main connection goes on writing meanwhile
 * (WAL). At most `n_threads` jobs run at once; the others wait in
 * order. */
#pragma once

#include "store.h"

typedef struct _PlannerPool PlannerPool;

/* Runs on a worker thread inside one read transaction of `store` (the
 * worker's own): a reply, or NULL and `error`. It must touch nothing
 * of the main thread: not the Capacity, not the bus, not the daemon's
 * region (the job keeps a reference to its own). */
typedef GVariant *(*PlannerJobFunc)(Store *store, gpointer data,
				    GError **error);
/* Runs on the main context with the job's outcome: `reply` (borrowed)
 * or `error`. */
typedef void (*PlannerDoneFunc)(gpointer data, GVariant *reply,
				const GError *error);

/* Jobs read `db_path`; outcomes come back on the thread-default main
 * context of the caller. NULL and `error` when no thread can start. */
PlannerPool *planner_pool_new(const char *db_path, guint n_threads,
			      GError **error);
/* Queues a job. `free_data` (may be NULL) runs on the main context
 * after `done`. */
void planner_pool_push(PlannerPool *pool, PlannerJobFunc run,
		       PlannerDoneFunc done, gpointer data,
		       GDestroyNotify free_data);
/* Jobs queued or running (not yet done on the main context). */
guint planner_pool_pending(PlannerPool *pool);
/* Read-only connections open (at most n_threads; tests). */
guint planner_pool_connections(PlannerPool *pool);
/* Jobs not started yet fail (StorageUnavailable: slotd is stopping),
 * running ones finish; every outcome is delivered here, in this call,
 * before the connections close. */
void planner_pool_free(PlannerPool *pool);

/* Makes the calling thread (a worker: the pool's, a feed export's, the
 * resources' warming) give way to the main loop when the machine is
 * busy: a long report on one core must not delay the loop's replies.
 * Linux keeps a nice value per thread; once per thread, errors ignored
 * (raising one's own nice value is always allowed). */
void worker_thread_give_way(void);
