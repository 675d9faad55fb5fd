/* Planner1's worker pool (daemon/planner-pool.c) on a real database:
 * at most as many jobs run at once as the pool has threads, the others
 * wait; each reads through a read-only connection of its own, never
 * more of them than threads; outcomes come back on the main context;
 * freeing the pool with jobs waiting delivers every outcome. */
#include <glib/gstdio.h>

#include <slotd/plugin.h>

#include "planner-pool.h"

#define JOBS 8
#define THREADS 2

typedef struct {
	char *dir;
	char *path;
	Store *store;
	PlannerPool *pool;
	gint running;		/* jobs inside run(), atomically */
	gint most_running;
	guint delivered;
	guint failed;
	guint freed;
	gboolean wrong_thread;
	GThread *main_thread;
} Fixture;

typedef struct {
	Fixture *f;
	guint index;
	gulong sleep_us;
} Job;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("slotd-pool-XXXXXX", &error);
	g_assert_no_error(error);
	f->path = g_build_filename(f->dir, "slotd.db", NULL);
	f->store = store_open(f->path, &error);
	g_assert_no_error(error);
	g_assert_true(store_set_meta(f->store, "epoch", "7", &error));
	f->pool = planner_pool_new(f->path, THREADS, &error);
	g_assert_no_error(error);
	f->main_thread = g_thread_self();
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_autofree char *wal = g_strconcat(f->path, "-wal", NULL);
	g_autofree char *shm = g_strconcat(f->path, "-shm", NULL);

	g_clear_pointer(&f->pool, planner_pool_free);
	g_clear_pointer(&f->store, store_close);
	g_unlink(f->path);
	g_unlink(wal);
	g_unlink(shm);
	g_rmdir(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

static void
note_running(Fixture *f)
{
	gint now = g_atomic_int_add(&f->running, 1) + 1;
	gint most;

	do
		most = g_atomic_int_get(&f->most_running);
	while (now > most &&
	       !g_atomic_int_compare_and_exchange(&f->most_running, most, now));
}

/* Reads the meta row through the worker's connection, slowly. */
static GVariant *
job_run(Store *store, gpointer data, GError **error)
{
	Job *job = data;
	g_autofree char *epoch = NULL;

	note_running(job->f);
	g_usleep(job->sleep_us);
	g_atomic_int_add(&job->f->running, -1);
	if (job->index % 4 == 3) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "job %u refuses", job->index);
		return NULL;
	}
	if (!store_get_meta(store, "epoch", &epoch, error))
		return NULL;
	return g_variant_new("(us)", job->index, epoch);
}

static void
job_done(gpointer data, GVariant *reply, const GError *error)
{
	Job *job = data;
	Fixture *f = job->f;

	if (g_thread_self() != f->main_thread)
		f->wrong_thread = TRUE;
	f->delivered++;
	if (error) {
		f->failed++;
		return;
	}
	g_assert_cmpstr(g_variant_get_type_string(reply), ==, "(us)");
}

static void
job_free(gpointer data)
{
	((Job *)data)->f->freed++;
	g_free(data);
}

static void
push(Fixture *f, guint index, gulong sleep_us)
{
	Job *job = g_new0(Job, 1);

	job->f = f;
	job->index = index;
	job->sleep_us = sleep_us;
	planner_pool_push(f->pool, job_run, job_done, job, job_free);
}

static void
test_runs_at_most_threads(Fixture *f, gconstpointer data)
{
	for (guint i = 0; i < JOBS; i++)
		push(f, i, 20000);
	g_assert_cmpuint(planner_pool_pending(f->pool), ==, JOBS);
	while (planner_pool_pending(f->pool) > 0)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(f->delivered, ==, JOBS);
	g_assert_cmpuint(f->freed, ==, JOBS);
	g_assert_cmpuint(f->failed, ==, JOBS / 4);
	g_assert_false(f->wrong_thread);
	g_assert_cmpint(f->most_running, ==, THREADS);
	g_assert_cmpuint(planner_pool_connections(f->pool), <=, THREADS);
	g_assert_cmpuint(planner_pool_connections(f->pool), >, 0);
}

/* Stopping with jobs waiting: the running ones finish, the others fail
 * at once, and every one is answered in planner_pool_free(). */
static void
test_free_delivers_everything(Fixture *f, gconstpointer data)
{
	for (guint i = 0; i < JOBS; i++)
		push(f, i * 4, 50000);
	g_usleep(10000);
	g_clear_pointer(&f->pool, planner_pool_free);
	g_assert_cmpuint(f->delivered, ==, JOBS);
	g_assert_cmpuint(f->freed, ==, JOBS);
	g_assert_cmpuint(f->failed, >=, JOBS - THREADS);
	g_assert_false(f->wrong_thread);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/planner-pool/runs-at-most-threads-jobs-at-once", Fixture,
		   NULL, fixture_set_up, test_runs_at_most_threads,
		   fixture_tear_down);
	g_test_add("/planner-pool/free-delivers-every-outcome", Fixture, NULL,
		   fixture_set_up, test_free_delivers_everything,
		   fixture_tear_down);
	return g_test_run();
}
