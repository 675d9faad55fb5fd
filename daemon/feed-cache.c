/* The cache of rendered feeds, invalidated by the capacity engine's
 * listener, and the stepwise rendering of long staff feeds. */
#define G_LOG_DOMAIN "slotd-feed"

#include "feed-cache.h"

#include <string.h>

#include "calendar.h"
#include "loop-watch.h"

/* One render step stops after this long; the loop runs in between. */
#define STEP_BUDGET_US 5000
/* Events between two looks at the clock. */
#define STEP_CHECK_EVERY 32

typedef struct {
	FeedReadyFunc ready;
	gpointer user_data;
	GDestroyNotify destroy;
} Waiter;

/* Where the VEVENT text of one booking is in the body of the last
 * render: the text is kept once, in the body, not beside it. */
typedef struct {
	gint64 sequence;
	gint64 modified;
	gsize offset;
	gsize length;
} EventText;

/* About what one event's VEVENT text takes (the body is sized for it
 * at the start of a render). */
#define EVENT_TEXT_GUESS 600

/* What one kept event costs besides its text: the record, its key and
 * its share of the hash table's arrays (keys, values, hashes). */
#define EVENT_BYTES \
	(sizeof(EventText) + sizeof(gint64) + 2 * sizeof(gpointer) + \
	 sizeof(guint))

typedef struct {
	FeedCache *cache;
	FeedKind kind;
	char *unit;
	char *service;		/* "": the whole unit */
	FeedVariant variant;	/* lang NULL or "fi"/"sv" (owned) */
	FeedDocument document;	/* body NULL until the first render */
	Region *region;		/* the snapshot it was rendered from */
	gint64 day;		/* local midnight of that render */
	gboolean stale;		/* its unit changed since */
	GHashTable *events;	/* booking id -> EventText, in the body */
	GList lru;		/* in FeedCache.lru while it has a body */
	gsize cost;		/* bytes counted in FeedCache.bytes */
	gsize reserved;		/* promised to the text it is writing */
	GQueue waiters;		/* for the render running, or at once */
	GQueue later;		/* came after a change the running render
				 * does not show: for the next one */
	/* while a staff render runs */
	struct _FeedRead *reading; /* its bookings, on a worker */
	gint64 render_now;
	GSource *step;
	FeedWriter *writer;
	GPtrArray *bookings;	/* StoreFeedBooking */
	guint next;
	GHashTable *new_events;
	Region *render_region;	/* the snapshot the render reads */
	gint64 render_day;
	gint64 render_began;	/* monotonic, for the debug log */
} Entry;

struct _FeedCache {
	Capacity *capacity;
	GHashTable *entries;	/* "kind unit service" -> Entry */
	guint renders;
	/* Entries with a body, least recently asked for first; their
	 * bodies and events come to `bytes`, kept within the
	 * configuration's feed-cache-bytes by dropping the first ones.
	 * A dropped entry keeps its ETag and Last-Modified. */
	GQueue lru;
	gsize bytes;
	gsize reserved;		/* promised to the texts being written */
	guint evictions;
	PlannerPool *reader;	/* borrowed; NULL: read on the loop */
};

/* A staff or practitioner feed's bookings, read on the feed reader's
 * worker. */
typedef struct _FeedRead {
	Entry *entry;		/* NULL once the render was abandoned */
	FeedKind kind;
	char *unit;		/* a practitioner's id for its feed */
	char *service;		/* NULL: the whole unit */
	gint64 from, cancelled_since;
	GPtrArray *bookings;	/* StoreFeedBooking */
} FeedRead;

/* Being rendered: reading its bookings, or writing its text. */
static gboolean
entry_rendering(const Entry *entry)
{
	return entry->reading != NULL || entry->writer != NULL;
}

/* ---- entries -------------------------------------------------------- */

static void
event_text_free(EventText *event)
{
	g_free(event);
}

/* ---- the budget ----------------------------------------------------- */

static gsize
entry_cost(const Entry *entry)
{
	if (entry->document.body == NULL)
		return 0;
	return sizeof(Entry) + g_bytes_get_size(entry->document.body) +
	       g_hash_table_size(entry->events) * EVENT_BYTES;
}

/* Counts what the entry holds now, and makes it the most recent. */
static void
entry_account(Entry *entry)
{
	FeedCache *cache = entry->cache;

	cache->bytes -= entry->cost;
	entry->cost = entry_cost(entry);
	cache->bytes += entry->cost;
	if (entry->lru.data)
		g_queue_unlink(&cache->lru, &entry->lru);
	entry->lru.data = NULL;
	if (entry->cost == 0)
		return;
	entry->lru.data = entry;
	g_queue_push_tail_link(&cache->lru, &entry->lru);
}

static void
entry_touch(Entry *entry)
{
	if (entry->lru.data == NULL)
		return;
	g_queue_unlink(&entry->cache->lru, &entry->lru);
	g_queue_push_tail_link(&entry->cache->lru, &entry->lru);
}

/* Drops the body and the event texts; the next request renders it
 * again, cold, with the same ETag if nothing changed. */
static void
entry_evict(Entry *entry)
{
	g_clear_pointer(&entry->document.body, g_bytes_unref);
	g_hash_table_remove_all(entry->events);
	entry->cache->evictions++;
	entry_account(entry);
}

/* Drops the least recently asked for until what is kept, and what
 * the renders under way have reserved for the texts they write, fit
 * the budget: a render makes room for its text before writing it, so
 * that the budget bounds what the cache holds while feeds render too,
 * not only after. */
static void
enforce_budget(FeedCache *cache)
{
	gsize budget =
		capacity_region(cache->capacity)->daemon.feed_cache_bytes;
	GList *l = cache->lru.head;

	budget -= MIN(cache->reserved, budget);
	while (cache->bytes > budget && l) {
		Entry *entry = l->data;

		l = l->next;
		/* One being rendered or answered keeps what it has. */
		if (entry_rendering(entry) ||
		    !g_queue_is_empty(&entry->waiters) ||
		    !g_queue_is_empty(&entry->later))
			continue;
		g_debug("feed cache over %zu bytes: dropping the feed of %s "
			"(%zu bytes)", budget, entry->unit, entry->cost);
		entry_evict(entry);
	}
}

static GHashTable *
new_event_table(void)
{
	return g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
				     (GDestroyNotify)event_text_free);
}

static void
waiters_answer(GQueue *waiters, const FeedDocument *document,
	       const GError *error)
{
	Waiter *waiter;

	while ((waiter = g_queue_pop_head(waiters))) {
		waiter->ready(document, error, waiter->user_data);
		if (waiter->destroy)
			waiter->destroy(waiter->user_data);
		g_free(waiter);
	}
}

static void
render_clear(Entry *entry)
{
	if (entry->reading) {
		/* The worker finishes; its outcome is dropped. */
		entry->reading->entry = NULL;
		entry->reading = NULL;
	}
	if (entry->step) {
		g_source_destroy(entry->step);
		g_clear_pointer(&entry->step, g_source_unref);
	}
	g_clear_pointer(&entry->writer, feed_writer_free);
	g_clear_pointer(&entry->bookings, g_ptr_array_unref);
	g_clear_pointer(&entry->new_events, g_hash_table_unref);
	g_clear_pointer(&entry->render_region, region_unref);
	entry->cache->reserved -= entry->reserved;
	entry->reserved = 0;
}

static void
entry_free(Entry *entry)
{
	g_autoptr(GError) error = g_error_new_literal(
		SLOTD_ERROR, SLOTD_ERROR_SERVICE_UNAVAILABLE,
		"slotd is stopping");

	render_clear(entry);
	waiters_answer(&entry->waiters, NULL, error);
	waiters_answer(&entry->later, NULL, error);
	g_clear_pointer(&entry->document.body, g_bytes_unref);
	entry_account(entry);
	g_free(entry->document.etag);
	g_clear_pointer(&entry->region, region_unref);
	g_clear_pointer(&entry->events, g_hash_table_unref);
	g_free(entry->unit);
	g_free(entry->service);
	g_free((char *)entry->variant.lang);
	g_free(entry);
}

static Entry *
entry_get(FeedCache *cache, FeedKind kind, const char *unit,
	  const char *service, const FeedVariant *variant)
{
	const char *lang = variant && variant->lang ? variant->lang : "";
	int form = variant ? (int)variant->freebusy : 0;
	g_autofree char *key = g_strdup_printf("%d %s %s %s %d", kind, unit,
					       service ? service : "", lang,
					       form);
	Entry *entry = g_hash_table_lookup(cache->entries, key);

	if (entry != NULL)
		return entry;
	entry = g_new0(Entry, 1);
	entry->cache = cache;
	entry->kind = kind;
	entry->unit = g_strdup(unit);
	entry->service = g_strdup(service ? service : "");
	entry->variant.lang = *lang ? g_strdup(lang) : NULL;
	entry->variant.freebusy = (FeedFreebusyForm)form;
	entry->events = new_event_table();
	g_queue_init(&entry->waiters);
	g_queue_init(&entry->later);
	g_hash_table_insert(cache->entries, g_steal_pointer(&key), entry);
	return entry;
}

static gboolean
entry_is_fresh(Entry *entry, gint64 now)
{
	Capacity *capacity = entry->cache->capacity;

	return entry->document.body != NULL && !entry->stale &&
	       entry->region == capacity_region(capacity) &&
	       entry->day == calendar_local_day_start(now);
}

/* ---- finishing a render --------------------------------------------- */

static void render(Entry *entry);

/* Callers who came after a change get a render that shows it (one
 * may have begun already, from a caller answered just now). */
static void
render_for_later(Entry *entry)
{
	gpointer waiter;

	if (g_queue_is_empty(&entry->later))
		return;
	while ((waiter = g_queue_pop_head(&entry->later)))
		g_queue_push_tail(&entry->waiters, waiter);
	if (!entry_rendering(entry))
		render(entry);
}

/* The text changed: it is "modified" now; the same text keeps its
 * time, so a render caused by an unrelated change costs clients
 * nothing. */
static void
entry_store(Entry *entry, GBytes *body, const char *digest, gint64 day)
{
	Capacity *capacity = entry->cache->capacity;
	g_autofree char *etag = g_strdup_printf("\"%s\"", digest);

	if (g_strcmp0(etag, entry->document.etag) != 0) {
		g_free(entry->document.etag);
		entry->document.etag = g_steal_pointer(&etag);
		entry->document.last_modified = capacity_now(capacity);
	}
	g_clear_pointer(&entry->document.body, g_bytes_unref);
	entry->document.body = body;
	/* A reload while it rendered leaves it stale, as it should. */
	g_clear_pointer(&entry->region, region_unref);
	entry->region = g_steal_pointer(&entry->render_region);
	entry->day = day;
	entry->cache->renders++;
	entry_account(entry);
	g_debug("rendered the %s feed of %s %s%s%s: %zu bytes in %"
		G_GINT64_FORMAT " ms",
		entry->kind == FEED_KIND_STAFF	      ? "staff"
		: entry->kind == FEED_KIND_FREEBUSY ? "free/busy"
						      : "practitioner",
		entry->kind == FEED_KIND_PRACTITIONER ? "practitioner"
						      : "unit",
		entry->unit, *entry->service ? ", service " : "",
		entry->service, g_bytes_get_size(body),
		(g_get_monotonic_time() - entry->render_began) / 1000);
	waiters_answer(&entry->waiters, &entry->document, NULL);
	render_for_later(entry);
	enforce_budget(entry->cache);
}

static void
entry_fail(Entry *entry, const GError *error)
{
	g_warning("feed of unit %s could not be read: %s", entry->unit,
		  error->message);
	render_clear(entry);
	waiters_answer(&entry->waiters, NULL, error);
	waiters_answer(&entry->later, NULL, error);
}

/* ---- free/busy: small, rendered at once ----------------------------- */

static gboolean
read_slots(Capacity *capacity, Entry *entry, gint64 from, gint64 to,
	   GArray *ret_slots, GError **error)
{
	Region *region = capacity_region(capacity);
	g_autoptr(GPtrArray) offerings =
		feed_scope_offerings(region, entry->unit, entry->service);

	for (guint i = 0; i < offerings->len; i++) {
		const SlotdOffering *off = offerings->pdata[i];

		if (!store_list_slots(capacity_store(capacity), off->id, from,
				      to, ret_slots, error))
			return FALSE;
	}
	return TRUE;
}

static void
render_freebusy(Entry *entry, gint64 now)
{
	Capacity *capacity = entry->cache->capacity;
	FeedScope scope = { capacity_region(capacity), entry->unit,
			    entry->service, now, NULL, entry->variant.lang,
			    entry->variant.freebusy };
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;
	g_autofree char *digest = NULL;
	gint64 from, to;
	GBytes *body;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	feed_freebusy_window(scope.region, now, &from, &to);
	if (!read_slots(capacity, entry, from, to, slots, &error)) {
		entry_fail(entry, error);
		return;
	}
	body = feed_render_freebusy(&scope, from, to, slots);
	digest = feed_digest(body);
	entry_store(entry, body, digest, calendar_local_day_start(now));
}

/* ---- staff feeds: in steps ------------------------------------------ */

/* Appends the booking's text: from the last render's body while the
 * booking has not changed, else a new one. Either way its place in the
 * new body goes to the new table. */
static void
append_event(Entry *entry, const StoreFeedBooking *booking)
{
	EventText *event = NULL;
	gint64 *key = NULL;
	gsize at = feed_writer_length(entry->writer);

	if (g_hash_table_steal_extended(entry->events, &booking->id,
					(gpointer *)&key, (gpointer *)&event) &&
	    (event->sequence != booking->sequence ||
	     event->modified != booking->modified)) {
		g_clear_pointer(&event, event_text_free);
	}
	if (event != NULL) {
		gsize size = 0;
		const char *body = g_bytes_get_data(entry->document.body,
						    &size);

		g_assert(event->offset + event->length <= size);
		feed_writer_append_len(entry->writer, body + event->offset,
				       event->length);
	} else {
		g_autofree char *text = feed_writer_event(entry->writer,
							  booking);

		event = g_new0(EventText, 1);
		event->sequence = booking->sequence;
		event->modified = booking->modified;
		event->length = strlen(text);
		feed_writer_append_len(entry->writer, text, event->length);
	}
	event->offset = at;
	if (key == NULL)
		key = g_memdup2(&booking->id, sizeof(booking->id));
	g_hash_table_insert(entry->new_events, key, event);
}

static void
finish_staff(Entry *entry)
{
	g_autofree char *digest = NULL;
	GBytes *body = feed_writer_finish(g_steal_pointer(&entry->writer),
					  &digest);
	Region *region = g_steal_pointer(&entry->render_region);

	g_hash_table_unref(entry->events);
	entry->events = g_steal_pointer(&entry->new_events);
	render_clear(entry);
	entry->render_region = region;
	entry_store(entry, body, digest, entry->render_day);
}

static gboolean
staff_step(gpointer user_data)
{
	LOOP_WORK("feed render step", NULL);
	Entry *entry = user_data;
	gint64 began = g_get_monotonic_time();

	while (entry->next < entry->bookings->len) {
		append_event(entry, entry->bookings->pdata[entry->next]);
		entry->next++;
		if (entry->next % STEP_CHECK_EVERY == 0 &&
		    g_get_monotonic_time() - began > STEP_BUDGET_US)
			return G_SOURCE_CONTINUE;
	}
	/* finish_staff destroys the source: its ref goes, not this call. */
	finish_staff(entry);
	return G_SOURCE_REMOVE;
}

/* On a worker with its own read-only connection (or, without a pool,
 * on the loop). */
static gboolean
read_bookings(Store *store, FeedRead *fr, GError **error)
{
	if (fr->kind == FEED_KIND_PRACTITIONER)
		return store_feed_practitioner_bookings(
			store, fr->unit, fr->from, fr->cancelled_since,
			fr->bookings, error);
	return store_feed_bookings(store, fr->unit, fr->service, fr->from,
				   fr->cancelled_since, fr->bookings, error);
}

static GVariant *
read_on_worker(Store *store, gpointer data, GError **error)
{
	return read_bookings(store, data, error) ? g_variant_new("()") : NULL;
}

static void
feed_read_free(gpointer data)
{
	FeedRead *fr = data;

	g_free(fr->unit);
	g_free(fr->service);
	g_clear_pointer(&fr->bookings, g_ptr_array_unref);
	g_free(fr);
}

/* With the bookings read: the text, a few milliseconds at a time. */
static void
write_staff(Entry *entry, GPtrArray *bookings)
{
	FeedScope scope = { entry->render_region, entry->unit,
			    entry->service, entry->render_now, NULL,
			    entry->variant.lang, FEED_FREEBUSY_VFREEBUSY };

	/* A practitioner's feed is named after it and its home unit. */
	if (entry->kind == FEED_KIND_PRACTITIONER) {
		const Resource *r = region_find_resource(scope.region,
							 entry->unit);

		scope.practitioner = entry->unit;
		scope.unit = r ? r->unit : "";
		scope.service = NULL;
	}
	entry->bookings = bookings;
	entry->writer = feed_writer_new_staff(&scope,
					      (gsize)entry->bookings->len *
						      EVENT_TEXT_GUESS);
	entry->new_events = new_event_table();
	/* Room for the new text before it is written (this entry, now
	 * rendering, keeps its old one: unchanged events are copied from
	 * it). */
	entry->reserved = (gsize)entry->bookings->len *
			  (EVENT_TEXT_GUESS + EVENT_BYTES);
	entry->cache->reserved += entry->reserved;
	enforce_budget(entry->cache);
	entry->next = 0;
	entry->render_day = calendar_local_day_start(entry->render_now);
	/* Most feeds are done in the first step, before this returns. */
	if (staff_step(entry) == G_SOURCE_REMOVE)
		return;
	entry->step = g_idle_source_new();
	g_source_set_callback(entry->step, staff_step, entry, NULL);
	g_source_attach(entry->step, NULL);
}

static void
read_done(gpointer data, GVariant *reply, const GError *error)
{
	FeedRead *fr = data;
	Entry *entry = fr->entry;

	if (entry == NULL)
		return;
	entry->reading = NULL;
	if (reply == NULL) {
		entry_fail(entry, error);
		return;
	}
	write_staff(entry, g_steal_pointer(&fr->bookings));
}

static void
render_staff(Entry *entry, gint64 now)
{
	FeedCache *cache = entry->cache;
	FeedRead *fr = g_new0(FeedRead, 1);
	g_autoptr(GError) error = NULL;

	fr->kind = entry->kind;
	fr->unit = g_strdup(entry->unit);
	fr->service = *entry->service ? g_strdup(entry->service) : NULL;
	fr->bookings = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_feed_booking_free);
	feed_staff_window(entry->render_region, now, &fr->from,
			  &fr->cancelled_since);
	entry->render_now = now;
	if (cache->reader != NULL) {
		fr->entry = entry;
		entry->reading = fr;
		planner_pool_push(cache->reader, read_on_worker, read_done, fr,
				  feed_read_free);
		return;
	}
	if (!read_bookings(capacity_store(cache->capacity), fr, &error)) {
		feed_read_free(fr);
		entry_fail(entry, error);
		return;
	}
	write_staff(entry, g_steal_pointer(&fr->bookings));
	feed_read_free(fr);
}

static void
render(Entry *entry)
{
	Capacity *capacity = entry->cache->capacity;
	gint64 now = capacity_now(capacity);

	/* Titles and names may have changed with the configuration. */
	if (entry->region != capacity_region(capacity))
		g_hash_table_remove_all(entry->events);
	/* A change from here on marks it stale again. */
	entry->stale = FALSE;
	entry->render_began = g_get_monotonic_time();
	g_clear_pointer(&entry->render_region, region_unref);
	entry->render_region = region_ref(capacity_region(capacity));
	if (entry->kind == FEED_KIND_FREEBUSY)
		render_freebusy(entry, now);
	else
		render_staff(entry, now);
}

void
feed_cache_get(FeedCache *cache, FeedKind kind, const char *unit,
	       const char *service, FeedReadyFunc ready, gpointer user_data,
	       GDestroyNotify destroy)
{
	feed_cache_get_variant(cache, kind, unit, service, NULL, ready,
			       user_data, destroy);
}

/* The entry's document if it can be given as it is (made the most
 * recent then), else NULL. */
static const FeedDocument *
entry_peek(Entry *entry)
{
	if (entry_rendering(entry) ||
	    !entry_is_fresh(entry, capacity_now(entry->cache->capacity)))
		return NULL;
	entry_touch(entry);
	return &entry->document;
}

const FeedDocument *
feed_cache_peek(FeedCache *cache, FeedKind kind, const char *unit,
		const char *service, const FeedVariant *variant)
{
	return entry_peek(entry_get(cache, kind, unit, service, variant));
}

void
feed_cache_get_variant(FeedCache *cache, FeedKind kind, const char *unit,
		       const char *service, const FeedVariant *variant,
		       FeedReadyFunc ready, gpointer user_data,
		       GDestroyNotify destroy)
{
	Entry *entry = entry_get(cache, kind, unit, service, variant);
	gboolean rendering = entry_rendering(entry);
	const FeedDocument *document = entry_peek(entry);
	Waiter *waiter;

	if (document != NULL) {
		ready(document, NULL, user_data);
		if (destroy)
			destroy(user_data);
		return;
	}
	waiter = g_new0(Waiter, 1);
	waiter->ready = ready;
	waiter->user_data = user_data;
	waiter->destroy = destroy;
	/* A render that began before the latest change is not for it. */
	if (rendering && entry->stale)
		g_queue_push_tail(&entry->later, waiter);
	else
		g_queue_push_tail(&entry->waiters, waiter);
	if (!rendering)
		render(entry);
}

/* ---- invalidation --------------------------------------------------- */

/* A practitioner may serve other units than its own (an offering's
 * resource-units): any change makes its feed stale, which costs one
 * render of its few bookings when it is next asked for. */
static void
unit_changed(FeedCache *cache, const char *unit)
{
	GHashTableIter iter;
	Entry *entry;

	g_hash_table_iter_init(&iter, cache->entries);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&entry))
		if (entry->kind == FEED_KIND_PRACTITIONER ||
		    g_str_equal(entry->unit, unit))
			entry->stale = TRUE;
}

static void
on_booking_changed(const char *booking_id, const char *status,
		   const char *unit, const char *service, gpointer user_data)
{
	unit_changed(user_data, unit);
}

/* Slots change with bookings and holds; a booking moved to another
 * unit is told to the old unit only this way. */
static void
on_slots_changed(const char *service, const char *unit, gint64 from,
		 gint64 to, gpointer user_data)
{
	unit_changed(user_data, unit);
}

FeedCache *
feed_cache_new(Capacity *capacity)
{
	FeedCache *cache = g_new0(FeedCache, 1);
	CapacityListener listener = {
		.booking_changed = on_booking_changed,
		.slots_changed = on_slots_changed,
		.user_data = cache,
	};

	cache->capacity = capacity;
	g_queue_init(&cache->lru);
	cache->entries = g_hash_table_new_full(g_str_hash, g_str_equal,
					       g_free,
					       (GDestroyNotify)entry_free);
	capacity_add_listener(capacity, &listener);
	return cache;
}

void
feed_cache_set_reader(FeedCache *cache, PlannerPool *pool)
{
	cache->reader = pool;
}

void
feed_cache_free(FeedCache *cache)
{
	if (cache == NULL)
		return;
	capacity_remove_listener(cache->capacity, cache);
	g_hash_table_unref(cache->entries);
	g_free(cache);
}

guint
feed_cache_renders(FeedCache *cache)
{
	return cache->renders;
}

gsize
feed_cache_bytes(FeedCache *cache)
{
	return cache->bytes;
}

guint
feed_cache_evictions(FeedCache *cache)
{
	return cache->evictions;
}
