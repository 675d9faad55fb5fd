/* Planner1's workers (planner-pool.h). A GThreadPool of its own runs
 * the jobs; each takes an idle read-only connection (or opens one: there
 * are never more than threads) and gives it back when done. Finished
 * jobs wait in a queue under the pool's lock; a source on the main
 * context, woken by the worker that finished one (g_source_set_ready_time
 * wakes the context from any thread), delivers them one per dispatch,
 * so that other sources run between two large replies. */
#define G_LOG_DOMAIN "slotd-planner"

#include "planner-pool.h"
#include "loop-watch.h"

#include <slotd/plugin.h>
#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Workers' nice value: scheduled about a tenth as often as the loop
 * while both want a core. */
#define WORKER_NICE 10

typedef struct {
	PlannerJobFunc run;
	PlannerDoneFunc done;
	gpointer data;
	GDestroyNotify free_data;
	GVariant *reply;
	GError *error;
} PlannerJob;

struct _PlannerPool {
	char *db_path;
	GThreadPool *threads;
	GMainContext *context;
	GSource *deliver;	/* on `context`: finished jobs to `done` */
	guint pending;		/* pushed, not delivered; main context */
	GMutex lock;		/* guards the rest */
	GQueue finished;	/* PlannerJob, finished on a worker */
	GPtrArray *idle;	/* Store*, read-only, not in use */
	guint connections;	/* open: in use or idle */
	gboolean closing;
};

/* ---- connections --------------------------------------------------------- */

static Store *
take_store(PlannerPool *pool, GError **error)
{
	Store *store = NULL;

	g_mutex_lock(&pool->lock);
	if (pool->idle->len > 0)
		store = g_ptr_array_steal_index_fast(pool->idle,
						     pool->idle->len - 1);
	g_mutex_unlock(&pool->lock);
	if (store != NULL)
		return store;
	store = store_open_readonly(pool->db_path, error);
	if (store != NULL) {
		g_mutex_lock(&pool->lock);
		pool->connections++;
		g_mutex_unlock(&pool->lock);
	}
	return store;
}

static void
give_store(PlannerPool *pool, Store *store)
{
	g_mutex_lock(&pool->lock);
	g_ptr_array_add(pool->idle, store);
	g_mutex_unlock(&pool->lock);
}

/* ---- on a worker --------------------------------------------------------- */

static gboolean
closing(PlannerPool *pool, GError **error)
{
	gboolean closing;

	g_mutex_lock(&pool->lock);
	closing = pool->closing;
	g_mutex_unlock(&pool->lock);
	if (closing)
		g_set_error_literal(error, SLOTD_ERROR,
				    SLOTD_ERROR_STORAGE_UNAVAILABLE,
				    "slotd is stopping; ask again once it is "
				    "back");
	return closing;
}

static GVariant *
run_job(PlannerPool *pool, PlannerJob *job, GError **error)
{
	GVariant *reply = NULL;
	Store *store;

	if (closing(pool, error) || !(store = take_store(pool, error)))
		return NULL;
	if (store_read_begin(store, error)) {
		reply = job->run(store, job->data, error);
		store_read_end(store);
	}
	give_store(pool, store);
	if (reply == NULL)
		return NULL;
	/* Serialised here, into one buffer: a tree of thousands of rows
	 * takes tens of milliseconds to free on the main context. */
	g_variant_ref_sink(reply);
	g_variant_get_data(reply);
	return reply;
}

void
worker_thread_give_way(void)
{
	static GPrivate done;

	if (g_private_get(&done))
		return;
	g_private_set(&done, GINT_TO_POINTER(1));
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
			WORKER_NICE) < 0)
		g_debug("a worker keeps its priority: %s", g_strerror(errno));
}

static void
worker(gpointer data, gpointer user_data)
{
	PlannerJob *job = data;
	PlannerPool *pool = user_data;

	worker_thread_give_way();
	job->reply = run_job(pool, job, &job->error);
	g_mutex_lock(&pool->lock);
	g_queue_push_tail(&pool->finished, job);
	g_mutex_unlock(&pool->lock);
	g_source_set_ready_time(pool->deliver, 0);
}

/* ---- on the main context ------------------------------------------------- */

static PlannerJob *
next_finished(PlannerPool *pool, gboolean *ret_more)
{
	PlannerJob *job;

	g_mutex_lock(&pool->lock);
	job = g_queue_pop_head(&pool->finished);
	*ret_more = !g_queue_is_empty(&pool->finished);
	g_mutex_unlock(&pool->lock);
	return job;
}

static void
deliver(PlannerPool *pool, PlannerJob *job)
{
	if (job->reply == NULL && job->error == NULL)
		g_set_error_literal(&job->error, SLOTD_ERROR,
				    SLOTD_ERROR_FAILED,
				    "a planning job failed without an error");
	job->done(job->data, job->reply, job->error);
	if (job->free_data)
		job->free_data(job->data);
	g_clear_pointer(&job->reply, g_variant_unref);
	g_clear_error(&job->error);
	g_free(job);
	pool->pending--;
}

/* Ready time back to "never" before the queue is read: a job finished
 * from then on wakes the source again. */
static gboolean
deliver_one(gpointer user_data)
{
	LOOP_WORK("planner result", NULL);
	PlannerPool *pool = user_data;
	PlannerJob *job;
	gboolean more;

	g_source_set_ready_time(pool->deliver, -1);
	job = next_finished(pool, &more);
	if (job != NULL)
		deliver(pool, job);
	if (more)
		g_source_set_ready_time(pool->deliver, 0);
	return G_SOURCE_CONTINUE;
}

/* ---- the pool ------------------------------------------------------------ */

PlannerPool *
planner_pool_new(const char *db_path, guint n_threads, GError **error)
{
	PlannerPool *pool = g_new0(PlannerPool, 1);

	pool->db_path = g_strdup(db_path);
	g_mutex_init(&pool->lock);
	g_queue_init(&pool->finished);
	pool->idle = g_ptr_array_new();
	pool->context = g_main_context_ref_thread_default();
	pool->deliver = loop_ready_source_new(deliver_one, pool);
	g_source_set_static_name(pool->deliver, "planner replies");
	g_source_attach(pool->deliver, pool->context);
	pool->threads = g_thread_pool_new(worker, pool, (gint)n_threads,
					  TRUE, error);
	if (pool->threads == NULL) {
		planner_pool_free(pool);
		return NULL;
	}
	return pool;
}

void
planner_pool_push(PlannerPool *pool, PlannerJobFunc run, PlannerDoneFunc done,
		  gpointer data, GDestroyNotify free_data)
{
	PlannerJob *job = g_new0(PlannerJob, 1);

	job->run = run;
	job->done = done;
	job->data = data;
	job->free_data = free_data;
	pool->pending++;
	/* Only fails for a pool being freed, which takes no more jobs. */
	g_thread_pool_push(pool->threads, job, NULL);
}

guint
planner_pool_pending(PlannerPool *pool)
{
	return pool->pending;
}

guint
planner_pool_connections(PlannerPool *pool)
{
	guint n;

	g_mutex_lock(&pool->lock);
	n = pool->connections;
	g_mutex_unlock(&pool->lock);
	return n;
}

static void
close_connections(PlannerPool *pool)
{
	for (guint i = 0; i < pool->idle->len; i++)
		store_close(pool->idle->pdata[i]);
	g_ptr_array_unref(pool->idle);
}

void
planner_pool_free(PlannerPool *pool)
{
	PlannerJob *job;
	gboolean more;

	if (pool == NULL)
		return;
	g_mutex_lock(&pool->lock);
	pool->closing = TRUE;
	g_mutex_unlock(&pool->lock);
	/* Queued jobs fail at once (closing); running ones finish. */
	if (pool->threads != NULL)
		g_thread_pool_free(pool->threads, FALSE, TRUE);
	while ((job = next_finished(pool, &more)) != NULL)
		deliver(pool, job);
	g_source_destroy(pool->deliver);
	g_source_unref(pool->deliver);
	g_main_context_unref(pool->context);
	close_connections(pool);
	g_mutex_clear(&pool->lock);
	g_free(pool->db_path);
	g_free(pool);
}
