/* Writing the feeds to a directory: which files, when, and how (a
 * temporary file, fsync, rename, fsync of the directory). */
#define G_LOG_DOMAIN "slotd-feed"

#include "feed-export.h"
#include "planner-pool.h"
#include "loop-watch.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

/* Files follow a change once the unit has been quiet this long, and
 * during a long burst of bookings at least this often. */
#define EXPORT_QUIET_MS 1000
#define EXPORT_MAX_DELAY_US (10 * G_USEC_PER_SEC)

typedef struct {
	char *path;		/* absolute */
	char *name;		/* relative, for messages */
	GBytes *text;
} FileWrite;

typedef struct _Request Request;

struct _FeedExport {
	Capacity *capacity;
	FeedCache *cache;
	char *dir;
	GHashTable *dirty;	/* unit ids to export */
	gboolean all_dirty;
	GSource *flush_source;
	gint64 first_change;	/* monotonic, while a flush waits */
	GSource *refresh_source;
	GHashTable *written;	/* relative path -> ETag last written */
	GHashTable *requests;	/* Request, waiting for the cache */
	GThreadPool *writer;
};

/* One feed asked of the cache. `export` is NULL once the exporter is
 * gone while the cache still renders. */
struct _Request {
	FeedExport *export;
	char *name;
};

/* ---- the writer thread ---------------------------------------------- */

static void
file_write_free(FileWrite *write)
{
	g_free(write->path);
	g_free(write->name);
	g_bytes_unref(write->text);
	g_free(write);
}

static gboolean
write_all(int fd, GBytes *text)
{
	gsize size;
	const char *data = g_bytes_get_data(text, &size);

	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		data += n;
		size -= (gsize)n;
	}
	return TRUE;
}

static void
sync_directory(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* Readers see the old file or the new one, never a part of either. */
static gboolean
replace_file(const char *path, GBytes *text)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *temp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
	gboolean ok;
	int saved, fd;

	if (g_mkdir_with_parents(dir, 0750) < 0)
		return FALSE;
	fd = g_mkstemp_full(temp, O_WRONLY | O_CLOEXEC, 0640);
	if (fd < 0)
		return FALSE;
	ok = write_all(fd, text) && fsync(fd) == 0;
	saved = errno;
	if (close(fd) != 0 && ok) {
		ok = FALSE;
		saved = errno;
	}
	if (ok && g_rename(temp, path) == 0) {
		sync_directory(dir);
		return TRUE;
	}
	if (ok)
		saved = errno;
	g_unlink(temp);
	errno = saved;
	return FALSE;
}

static void
write_in_thread(gpointer data, gpointer user_data)
{
	FileWrite *write = data;

	worker_thread_give_way();
	if (!replace_file(write->path, write->text))
		g_warning("cannot export the feed %s: %s", write->name,
			  g_strerror(errno));
	file_write_free(write);
}

/* ---- asking the cache ----------------------------------------------- */

static void
request_free(Request *request)
{
	if (request->export)
		g_hash_table_remove(request->export->requests, request);
	g_free(request->name);
	g_free(request);
}

static void
feed_ready(const FeedDocument *document, const GError *error,
	   gpointer user_data)
{
	Request *request = user_data;
	FeedExport *export = request->export;
	FileWrite *write;

	if (export == NULL || document == NULL)
		return;
	if (g_strcmp0(g_hash_table_lookup(export->written, request->name),
		      document->etag) == 0)
		return;
	g_hash_table_insert(export->written, g_strdup(request->name),
			    g_strdup(document->etag));
	write = g_new0(FileWrite, 1);
	write->path = g_build_filename(export->dir, request->name, NULL);
	write->name = g_strdup(request->name);
	write->text = g_bytes_ref(document->body);
	g_thread_pool_push(export->writer, write, NULL);
}

static void
export_feed(FeedExport *export, FeedKind kind, const char *unit,
	    const char *service)
{
	Request *request = g_new0(Request, 1);
	const char *top = kind == FEED_KIND_STAFF ? "feeds" : "freebusy";

	request->export = export;
	request->name = service ? g_strdup_printf("%s/%s/%s.ics", top, unit,
						  service)
				: g_strdup_printf("%s/%s.ics", top, unit);
	g_hash_table_add(export->requests, request);
	feed_cache_get(export->cache, kind, unit, service, feed_ready, request,
		       (GDestroyNotify)request_free);
}

/* Ids name files: "." and ".." would name directories instead. */
static gboolean
is_file_name(const char *id)
{
	return !g_str_equal(id, ".") && !g_str_equal(id, "..");
}

static void
export_unit(FeedExport *export, const char *unit)
{
	Region *region = capacity_region(export->capacity);
	g_autoptr(GPtrArray) offerings = NULL;

	if (region_find_unit(region, unit) == NULL || !is_file_name(unit))
		return;
	export_feed(export, FEED_KIND_STAFF, unit, NULL);
	export_feed(export, FEED_KIND_FREEBUSY, unit, NULL);
	offerings = feed_scope_offerings(region, unit, NULL);
	for (guint i = 0; i < offerings->len; i++) {
		const SlotdOffering *off = offerings->pdata[i];

		if (!is_file_name(off->service->id))
			continue;
		export_feed(export, FEED_KIND_STAFF, unit, off->service->id);
		export_feed(export, FEED_KIND_FREEBUSY, unit, off->service->id);
	}
}

/* ---- when ----------------------------------------------------------- */

static gboolean
flush(gpointer user_data)
{
	LOOP_WORK("feed export flush", NULL);
	FeedExport *export = user_data;
	Region *region = capacity_region(export->capacity);
	g_autoptr(GHashTable) dirty = g_steal_pointer(&export->dirty);

	export->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      NULL);
	g_clear_pointer(&export->flush_source, g_source_unref);
	if (export->all_dirty) {
		export->all_dirty = FALSE;
		for (guint i = 0; i < region->units->len; i++)
			export_unit(export,
				    ((const Unit *)region->units->pdata[i])->id);
	} else {
		GHashTableIter iter;
		const char *unit;

		g_hash_table_iter_init(&iter, dirty);
		while (g_hash_table_iter_next(&iter, (gpointer *)&unit, NULL))
			export_unit(export, unit);
	}
	return G_SOURCE_REMOVE;
}

static void
schedule_flush(FeedExport *export)
{
	gint64 now = g_get_monotonic_time();

	if (export->flush_source) {
		if (now - export->first_change > EXPORT_MAX_DELAY_US)
			return;
		/* Still busy: wait for a quiet moment. */
		g_source_destroy(export->flush_source);
		g_clear_pointer(&export->flush_source, g_source_unref);
	} else {
		export->first_change = now;
	}
	export->flush_source = g_timeout_source_new(EXPORT_QUIET_MS);
	g_source_set_callback(export->flush_source, flush, export, NULL);
	g_source_attach(export->flush_source, NULL);
}

static void
on_booking_changed(const char *booking_id, const char *status,
		   const char *unit, const char *service, gpointer user_data)
{
	FeedExport *export = user_data;

	g_hash_table_add(export->dirty, g_strdup(unit));
	schedule_flush(export);
}

static void
on_slots_changed(const char *service, const char *unit, gint64 from,
		 gint64 to, gpointer user_data)
{
	FeedExport *export = user_data;

	g_hash_table_add(export->dirty, g_strdup(unit));
	schedule_flush(export);
}

/* The day turns, the configuration changes, a file is deleted by
 * hand: everything is written again every refresh interval. */
static gboolean
refresh(gpointer user_data)
{
	LOOP_WORK("feed export refresh", NULL);
	FeedExport *export = user_data;

	g_hash_table_remove_all(export->written);
	export->all_dirty = TRUE;
	schedule_flush(export);
	return G_SOURCE_CONTINUE;
}

FeedExport *
feed_export_new(Capacity *capacity, FeedCache *cache, const char *dir,
		GError **error)
{
	FeedExport *export;
	CapacityListener listener = {
		.booking_changed = on_booking_changed,
		.slots_changed = on_slots_changed,
	};
	guint minutes = capacity_region(capacity)->daemon.feed_refresh_minutes;

	if (g_mkdir_with_parents(dir, 0750) < 0) {
		int saved = errno;

		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG,
			    "cannot create the feed export directory %s: %s",
			    dir, g_strerror(saved));
		return NULL;
	}
	export = g_new0(FeedExport, 1);
	export->capacity = capacity;
	export->cache = cache;
	export->dir = g_strdup(dir);
	export->dirty = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      NULL);
	export->written = g_hash_table_new_full(g_str_hash, g_str_equal,
						g_free, g_free);
	export->requests = g_hash_table_new(NULL, NULL);
	export->writer = g_thread_pool_new(write_in_thread, NULL, 1, FALSE,
					   NULL);
	listener.user_data = export;
	capacity_add_listener(capacity, &listener);
	export->refresh_source = g_timeout_source_new_seconds(minutes * 60);
	g_source_set_callback(export->refresh_source, refresh, export, NULL);
	g_source_attach(export->refresh_source, NULL);
	export->all_dirty = TRUE;
	schedule_flush(export);
	return export;
}

static void
destroy_source(GSource **source)
{
	if (*source) {
		g_source_destroy(*source);
		g_clear_pointer(source, g_source_unref);
	}
}

void
feed_export_free(FeedExport *export)
{
	GHashTableIter iter;
	Request *request;

	if (export == NULL)
		return;
	capacity_remove_listener(export->capacity, export);
	destroy_source(&export->flush_source);
	destroy_source(&export->refresh_source);
	g_hash_table_iter_init(&iter, export->requests);
	while (g_hash_table_iter_next(&iter, (gpointer *)&request, NULL))
		request->export = NULL;
	g_hash_table_unref(export->requests);
	/* Files already handed over are written before this returns. */
	g_thread_pool_free(export->writer, FALSE, TRUE);
	g_hash_table_unref(export->dirty);
	g_hash_table_unref(export->written);
	g_free(export->dir);
	g_free(export);
}
