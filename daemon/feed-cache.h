/* Rendered feeds, kept per (kind, unit, service) until the capacity
 * engine says that unit's bookings or slots changed, the day turns or
 * the configuration is reloaded. A fresh feed costs a hash lookup, so
 * answering a conditional request with 304 costs next to nothing.
 *
 * A staff feed keeps where the VEVENT text of every booking is in its
 * last body and reuses the text while the booking's sequence and
 * modification time stay the same; a long render runs in steps of a
 * few milliseconds from an idle source, and its bookings are read on a
 * worker with a connection of its own (feed_cache_set_reader: the
 * daemon's feed reader, not Planner1's workers, so that reports and
 * feeds do not wait for each other), so the main loop never stalls on
 * a big unit. The rendered feeds are kept within feed-cache-bytes
 * (slotd.conf): beyond it the least recently asked for are dropped and
 * rendered again, cold, when next asked for. */
#pragma once

#include "planner-pool.h"

#include <glib.h>

#include "capacity.h"
#include "feed.h"

typedef struct _FeedCache FeedCache;

typedef struct {
	GBytes *body;
	char *etag;		/* strong, quoted: "\"0123…\"" */
	gint64 last_modified;	/* when the text last changed (UTC s) */
} FeedDocument;

/* `document` is borrowed for the call; NULL with `error` when the feed
 * could not be read (storage trouble, shutting down). */
typedef void (*FeedReadyFunc)(const FeedDocument *document,
			      const GError *error, gpointer user_data);

FeedCache *feed_cache_new(Capacity *capacity);
/* Callers still waiting get an error first. */
void feed_cache_free(FeedCache *cache);
/* Staff and practitioner feeds read their bookings on `pool` from now
 * on (borrowed: it outlives the cache, or is freed first, its
 * outstanding reads then answered as failed). Without one they are
 * read on the calling thread (tests). */
void feed_cache_set_reader(FeedCache *cache, PlannerPool *pool);

/* Calls `ready` with the feed's current text: at once when it is
 * fresh, else when rendered (possibly before this returns). The scope
 * must have been checked with feed_scope_check(). `service` NULL or ""
 * is the whole unit. `destroy` frees user_data after `ready`. */
void feed_cache_get(FeedCache *cache, FeedKind kind, const char *unit,
		    const char *service, FeedReadyFunc ready,
		    gpointer user_data, GDestroyNotify destroy);

/* A feed in another form than the default: its titles in one
 * language, free/busy as events. Each is cached apart. */
typedef struct {
	const char *lang;		/* NULL, "fi" or "sv" */
	FeedFreebusyForm freebusy;	/* free/busy feeds only */
} FeedVariant;

/* feed_cache_get() of a variant; NULL is the default one. `lang` must
 * pass feed_language_is_known() (or be NULL). */
void feed_cache_get_variant(FeedCache *cache, FeedKind kind,
			    const char *unit, const char *service,
			    const FeedVariant *variant, FeedReadyFunc ready,
			    gpointer user_data, GDestroyNotify destroy);

/* The kept document when it is fresh and no render is under way (a
 * calendar app polling: answered at once, a 304 most of the time), or
 * NULL: ask feed_cache_get_variant(). Valid until the loop runs on. */
const FeedDocument *feed_cache_peek(FeedCache *cache, FeedKind kind,
				    const char *unit, const char *service,
				    const FeedVariant *variant);

/* How many times feeds were rendered (tests and diagnostics). */
guint feed_cache_renders(FeedCache *cache);
/* The bytes the kept feeds hold by the cache's own count (bodies, the
 * entries and the table of where each event's text is): at most the
 * configuration's feed-cache-bytes once no render is running. A render
 * under way holds its old text and its new one besides. */
gsize feed_cache_bytes(FeedCache *cache);
/* How many kept feeds were dropped to stay within the budget. */
guint feed_cache_evictions(FeedCache *cache);
