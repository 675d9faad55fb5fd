/* The feed cache within its budget (issue 17): more staff feeds are
 * rendered than feed-cache-bytes holds; by the cache's own count the
 * kept feeds stay within it, also while a render writes (room is made
 * first), the least recently asked for go first, and
 * a dropped feed renders again to the same bytes and ETag. A render
 * after a change, which reuses the kept event texts from the body, is
 * byte for byte a cold render. Bookings read on a planner worker (as
 * the daemon reads them) give the same text as bookings read on the
 * calling thread, a change during the read is in the next render, and
 * a cache freed while a read runs answers its callers with an error
 * and drops the read's outcome. No daemon: a store, the example region
 * and the capacity engine's listeners. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "capacity-private.h"
#include "config.h"
#include "feed-cache.h"
#include "planner-pool.h"
#include "store.h"

#define NOW G_GINT64_CONSTANT(1772427600) /* Mon 2026-03-02 07:00 */
#define HOUR 3600
#define FEEDS 4
#define BOOKINGS 300

typedef struct {
	char *dir;
	Region *region;
	Store *store;
	Capacity *capacity;
	const SlotdOffering *offerings[FEEDS];
	gint64 slots[FEEDS];
	gint64 next_ref;
} Fixture;

typedef struct {
	gboolean done;
	GBytes *body;
	char *etag;
	FeedCache *cache;	/* get_feed's */
	gsize bytes_at_ready;	/* what the cache held as it answered */
} Result;

static gint64
fixed_now(gpointer data)
{
	return NOW;
}

static void
add_booking(Fixture *f, guint i, gint64 start)
{
	const SlotdOffering *off = f->offerings[i];
	g_autoptr(GError) error = NULL;
	g_autofree char *client = g_strdup_printf("c-%" G_GINT64_FORMAT,
						  ++f->next_ref);
	StoreBooking b = { 0 };

	b.slot = f->slots[i];
	b.offering = (char *)off->id;
	b.unit = (char *)off->unit->id;
	b.service = (char *)off->service->id;
	b.start = start;
	b.end = start + HOUR;
	b.client_ref = client;
	b.status = "booked";
	b.seats = 1;
	b.created = NOW;
	b.modified = NOW;
	g_assert_true(store_insert_booking(f->store, &b, &error));
	g_assert_no_error(error);
	capacity_notify_booking(f->capacity, &b);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autofree char *entry = g_build_filename(
		g_getenv("SLOTD_SOURCE_ROOT"), "config", "example",
		"slotd.conf", NULL);
	ConfigOptions options = { .config_file = entry };
	g_autofree char *path = NULL;
	g_autoptr(GError) error = NULL;
	guint n = 0;

	f->dir = g_dir_make_tmp("slotd-feed-cache-XXXXXX", &error);
	g_assert_no_error(error);
	f->region = config_load(&options, &error);
	g_assert_no_error(error);
	path = g_build_filename(f->dir, "slotd.db", NULL);
	f->store = store_open(path, &error);
	g_assert_no_error(error);
	f->capacity = capacity_new(f->region, f->store, NULL);
	capacity_set_clock(f->capacity, fixed_now, NULL);
	/* Offerings of FEEDS different units. */
	for (guint i = 0; i < f->region->offerings->len && n < FEEDS; i++) {
		const SlotdOffering *off = f->region->offerings->pdata[i];
		gboolean seen = FALSE;

		for (guint k = 0; k < n; k++)
			seen |= g_str_equal(f->offerings[k]->unit->id,
					    off->unit->id);
		if (!seen)
			f->offerings[n++] = off;
	}
	g_assert_cmpuint(n, ==, FEEDS);
	for (guint i = 0; i < FEEDS; i++) {
		g_assert_true(store_upsert_slot(f->store, f->offerings[i]->id,
						"slot", NOW + HOUR,
						NOW + 2 * HOUR, 1000, 1,
						&f->slots[i], &error));
		g_assert_no_error(error);
		for (guint k = 0; k < BOOKINGS; k++)
			add_booking(f, i, NOW + (k % 60) * 86400 + HOUR);
	}
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_autofree char *db = g_build_filename(f->dir, "slotd.db", NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autofree char *shm = g_strconcat(db, "-shm", NULL);

	capacity_free(f->capacity);
	store_close(f->store);
	region_unref(f->region);
	g_unlink(db);
	g_unlink(wal);
	g_unlink(shm);
	g_rmdir(f->dir);
	g_free(f->dir);
}

static void
on_ready(const FeedDocument *document, const GError *error,
	 gpointer user_data)
{
	Result *r = user_data;

	g_assert_no_error((GError *)error);
	r->body = g_bytes_ref(document->body);
	r->etag = g_strdup(document->etag);
	r->bytes_at_ready = r->cache ? feed_cache_bytes(r->cache) : 0;
	r->done = TRUE;
}

static void
result_clear(Result *r)
{
	g_clear_pointer(&r->body, g_bytes_unref);
	g_clear_pointer(&r->etag, g_free);
	r->done = FALSE;
}

/* The staff feed of feed i's unit, rendered if it must be. */
static void
get_feed(Fixture *f, FeedCache *cache, guint i, Result *r)
{
	result_clear(r);
	r->cache = cache;
	feed_cache_get(cache, FEED_KIND_STAFF, f->offerings[i]->unit->id,
		       NULL, on_ready, r, NULL);
	while (!r->done)
		g_main_context_iteration(NULL, TRUE);
}

static void
test_budget(Fixture *f, gconstpointer data)
{
	FeedCache *cache = feed_cache_new(f->capacity);
	Result first = { 0 }, r = { 0 };
	gsize one, budget;
	guint renders;

	f->region->daemon.feed_cache_bytes = G_MAXUINT;
	get_feed(f, cache, 0, &first);
	one = feed_cache_bytes(cache);
	/* The body once, and a small record a booking: not the texts
	 * twice. */
	g_assert_cmpuint(one, >=, g_bytes_get_size(first.body));
	g_assert_cmpuint(one, <, g_bytes_get_size(first.body) +
					 BOOKINGS * 64 + 4096);
	/* Room for two of the four. */
	budget = one * 5 / 2;
	f->region->daemon.feed_cache_bytes = budget;
	for (guint i = 1; i < FEEDS; i++) {
		get_feed(f, cache, i, &r);
		g_assert_cmpuint(feed_cache_bytes(cache), <=, budget);
		/* Room was made before the text was written, not only
		 * after: as the new feed is answered, the cache holds it
		 * and at most what fits beside it (dropping only after
		 * would have held two old feeds and the new one). */
		g_assert_cmpuint(r.bytes_at_ready, <=, budget + one / 4);
	}
	g_assert_cmpuint(feed_cache_evictions(cache), ==, FEEDS - 2);
	/* The latest is kept: no render. */
	renders = feed_cache_renders(cache);
	get_feed(f, cache, FEEDS - 1, &r);
	g_assert_cmpuint(feed_cache_renders(cache), ==, renders);
	/* The first went first; it comes back the same. */
	get_feed(f, cache, 0, &r);
	g_assert_cmpuint(feed_cache_renders(cache), ==, renders + 1);
	g_assert_true(g_bytes_equal(r.body, first.body));
	g_assert_cmpstr(r.etag, ==, first.etag);
	g_assert_cmpuint(feed_cache_bytes(cache), <=, budget);
	/* A budget smaller than one feed: it is answered, then dropped. */
	f->region->daemon.feed_cache_bytes = one / 2;
	get_feed(f, cache, 1, &r);
	g_assert_cmpuint(g_bytes_get_size(r.body), >, 0);
	g_assert_cmpuint(feed_cache_bytes(cache), <=, one / 2);
	result_clear(&first);
	result_clear(&r);
	feed_cache_free(cache);
	g_assert_cmpuint(feed_cache_bytes(cache = feed_cache_new(f->capacity)),
			 ==, 0);
	feed_cache_free(cache);
}

/* The texts of unchanged bookings come from the last body; the result
 * is what a cold render of the same bookings writes. */
static void
test_render_after_change(Fixture *f, gconstpointer data)
{
	FeedCache *cache = feed_cache_new(f->capacity);
	FeedCache *cold = NULL;
	Result warm = { 0 }, fresh = { 0 };
	guint renders;

	f->region->daemon.feed_cache_bytes = G_MAXUINT;
	get_feed(f, cache, 0, &warm);
	renders = feed_cache_renders(cache);
	add_booking(f, 0, NOW + 3 * 86400 + 2 * HOUR);
	get_feed(f, cache, 0, &warm);
	g_assert_cmpuint(feed_cache_renders(cache), ==, renders + 1);
	cold = feed_cache_new(f->capacity);
	get_feed(f, cold, 0, &fresh);
	g_assert_true(g_bytes_equal(warm.body, fresh.body));
	g_assert_cmpstr(warm.etag, ==, fresh.etag);
	result_clear(&warm);
	result_clear(&fresh);
	feed_cache_free(cold);
	feed_cache_free(cache);
}

static void
on_refused(const FeedDocument *document, const GError *error,
	   gpointer user_data)
{
	GError **ret = user_data;

	g_assert_null(document);
	g_assert_nonnull(error);
	*ret = g_error_copy(error);
}

static void
test_read_on_worker(Fixture *f, gconstpointer data)
{
	g_autofree char *db = g_build_filename(f->dir, "slotd.db", NULL);
	g_autoptr(GError) error = NULL;
	PlannerPool *pool = planner_pool_new(db, 1, &error);
	FeedCache *on_worker = feed_cache_new(f->capacity);
	FeedCache *here = feed_cache_new(f->capacity);
	Result a = { 0 }, b = { 0 };
	GError *refused = NULL;

	g_assert_no_error(error);
	f->region->daemon.feed_cache_bytes = G_MAXUINT;
	feed_cache_set_reader(on_worker, pool);
	/* Not answered before the worker has read. */
	feed_cache_get(on_worker, FEED_KIND_STAFF, f->offerings[1]->unit->id,
		       NULL, on_ready, &a, NULL);
	g_assert_false(a.done);
	while (!a.done)
		g_main_context_iteration(NULL, TRUE);
	get_feed(f, here, 1, &b);
	g_assert_true(g_bytes_equal(a.body, b.body));
	g_assert_cmpstr(a.etag, ==, b.etag);

	/* A booking committed while the worker reads: the caller gets
	 * the render under way, the next caller one with the booking. */
	add_booking(f, 1, NOW + 5 * 86400 + 3 * HOUR);
	result_clear(&a);
	feed_cache_get(on_worker, FEED_KIND_STAFF, f->offerings[1]->unit->id,
		       NULL, on_ready, &a, NULL);
	add_booking(f, 1, NOW + 6 * 86400 + 3 * HOUR);
	while (!a.done)
		g_main_context_iteration(NULL, TRUE);
	get_feed(f, on_worker, 1, &a);
	get_feed(f, here, 1, &b);
	g_assert_true(g_bytes_equal(a.body, b.body));
	g_assert_cmpstr(a.etag, ==, b.etag);

	/* Freed while reading: the caller is told, the outcome dropped. */
	feed_cache_get(on_worker, FEED_KIND_STAFF, f->offerings[2]->unit->id,
		       NULL, on_refused, &refused, NULL);
	feed_cache_free(on_worker);
	g_assert_error(refused, SLOTD_ERROR,
		       SLOTD_ERROR_SERVICE_UNAVAILABLE);
	g_clear_error(&refused);
	planner_pool_free(pool);
	result_clear(&a);
	result_clear(&b);
	feed_cache_free(here);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/feed-cache/budget", Fixture, NULL, fixture_set_up,
		   test_budget, fixture_tear_down);
	g_test_add("/feed-cache/render-after-change", Fixture, NULL,
		   fixture_set_up, test_render_after_change,
		   fixture_tear_down);
	g_test_add("/feed-cache/read-on-worker", Fixture, NULL,
		   fixture_set_up, test_read_on_worker, fixture_tear_down);
	return g_test_run();
}
