/* The calendar feeds: the only code that writes iCalendar. A staff
 * feed is a unit's bookings, optionally narrowed to one service; a
 * free/busy feed is a VFREEBUSY of the unit's (or one service's) slots
 * and holds no client reference. The calendar's head, its VTIMEZONE and
 * the free/busy feeds are built and serialised with libical; a staff
 * feed's events, one per booking, are written directly in the text
 * libical would give.
 *
 * Rendering is pure: it reads the region snapshot and what the caller
 * fetched from the store, and returns the text. */
#pragma once

#include <glib.h>

#include "feed-token.h"
#include "region.h"
#include "store.h"

/* A staff feed keeps the bookings of this many past days. */
#define FEED_PAST_DAYS 31
#define FEED_TZID "Europe/Helsinki"

/* Prepares what every feed shares (the VTIMEZONE) while the daemon
 * starts, before any thread could be using libical's zones. */
void feed_init(void);

/* How a free/busy feed is written: one VFREEBUSY (RFC 5545), or the
 * same periods as VEVENTs for readers that ignore VFREEBUSY
 * (vdirsyncer and most calendar apps): busy ones OPAQUE, and with
 * FEED_FREEBUSY_EVENTS free ones TRANSPARENT too. */
typedef enum {
	FEED_FREEBUSY_VFREEBUSY,
	FEED_FREEBUSY_EVENTS,
	FEED_FREEBUSY_BUSY_EVENTS,
} FeedFreebusyForm;

/* The languages a feed's titles can be asked in (?lang=fi|sv); NULL:
 * both, the unit's stronger language first. */
gboolean feed_language_is_known(const char *lang);

typedef struct {
	const Region *region;
	const char *unit;	/* a unit of `region` */
	const char *service;	/* NULL or "": every service of the unit */
	gint64 now;		/* the daemon's clock, UTC seconds */
	/* a practitioner's feed: its id (`unit` is then its home unit,
	 * `service` NULL): its bookings in any unit, the time it travels,
	 * and no client reference */
	const char *practitioner;
	/* "fi" or "sv": titles, names and words in that language only;
	 * NULL: both, the unit's stronger language first */
	const char *lang;
	FeedFreebusyForm freebusy;	/* free/busy feeds only */
} FeedScope;

/* NO_SUCH_UNIT unless the unit exists; NO_SUCH_SERVICE unless
 * `service` (when given) exists and is offered at the unit. */
gboolean feed_scope_check(const Region *region, const char *unit,
			  const char *service, GError **error);
/* The offerings a scope covers, in configuration order (borrowed). */
GPtrArray *feed_scope_offerings(const Region *region, const char *unit,
				const char *service);
/* NO_SUCH_PRACTITIONER unless `id` is one of the region's
 * practitioners (rooms and vehicles have no feed). */
gboolean feed_practitioner_check(const Region *region, const char *id,
				 GError **error);
/* TRUE when the scope has offerings and every one of them is marked
 * public-freebusy: its free/busy feed needs no token. */
gboolean feed_scope_is_public(const Region *region, const char *unit,
			      const char *service);

/* What a feed rendered at `now` shows. Both windows begin at a local
 * midnight, so a feed's text changes only with its data or the day. */
void feed_staff_window(const Region *region, gint64 now, gint64 *ret_from,
		       gint64 *ret_cancelled_since);
void feed_freebusy_window(const Region *region, gint64 now,
			  gint64 *ret_from, gint64 *ret_to);

/* The VCALENDAR of the bookings (StoreFeedBooking*, by start), one
 * VEVENT each. */
GBytes *feed_render_staff(const FeedScope *scope, GPtrArray *bookings);

/* The same piece by piece, for callers that keep the VEVENT texts of
 * unchanged bookings and render a long calendar in steps. The writer
 * copies the scope and holds a reference to its region. */
typedef struct _FeedWriter FeedWriter;

FeedWriter *feed_writer_new_staff(const FeedScope *scope, gsize size_hint);
/* The VEVENT text of one booking (ends in CR LF). */
char *feed_writer_event(FeedWriter *writer, const StoreFeedBooking *booking);

/* For tests: the texts feed_writer_event() writes for the booking,
 * before they are escaped and folded. */
typedef struct {
	char *uid;
	char *summary;
	char *location;
	char *description;
	char *category;
} FeedEventTexts;

void feed_writer_event_texts(FeedWriter *writer,
			     const StoreFeedBooking *booking,
			     FeedEventTexts *ret);
void feed_event_texts_clear(FeedEventTexts *texts);
void feed_writer_append(FeedWriter *writer, const char *text);
/* The same for `length` bytes of `text` (no NUL needed). */
void feed_writer_append_len(FeedWriter *writer, const char *text,
			    gsize length);
/* Bytes of the feed written so far: where the next text will start. */
gsize feed_writer_length(const FeedWriter *writer);
/* Ends the calendar: its text, and a 128-bit digest of the text in hex
 * (for ETags; not cryptographic). Frees the writer. */
GBytes *feed_writer_finish(FeedWriter *writer, char **ret_digest);
void feed_writer_free(FeedWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FeedWriter, feed_writer_free)
/* The VCALENDAR with one VFREEBUSY over [from, to) from the slots
 * (StoreSlot) of the scope's offerings, in any order. */
GBytes *feed_render_freebusy(const FeedScope *scope, gint64 from, gint64 to,
			     GArray *slots);
/* The same periods as VEVENTs (whatever scope->freebusy says): each
 * busy one OPAQUE, tentative ones TENTATIVE, free ones TRANSPARENT
 * (only for FEED_FREEBUSY_EVENTS); closed hours are no event. No
 * booking and no client in any of them. */
GBytes *feed_render_freebusy_events(const FeedScope *scope, gint64 from,
				    gint64 to, GArray *slots);

/* A 128-bit digest of a feed's text in hex, for ETags: it changes with
 * the text but is not cryptographic. */
char *feed_digest(GBytes *text);

/* Text for a feed: valid UTF-8, line breaks as "\n", no other control
 * characters (tabs become spaces). */
char *feed_clean_text(const char *text);
