/* Optional export of the feeds to a directory ([daemon] feed-export-dir)
 * for a web server that already exists:
 *
 *   DIR/feeds/UNIT.ics      DIR/feeds/UNIT/SERVICE.ics
 *   DIR/freebusy/UNIT.ics   DIR/freebusy/UNIT/SERVICE.ics
 *
 * The files carry no token: whoever serves DIR decides who reads it.
 * A unit's files are rewritten a moment after its bookings or slots
 * change, and every refresh interval (the day turns, the configuration
 * is reloaded); only files whose text changed are written, each to a
 * temporary file that is synced and renamed over the old one, by a
 * thread of its own so the main loop never waits for the disk. */
#pragma once

#include <glib.h>

#include "capacity.h"
#include "feed-cache.h"

typedef struct _FeedExport FeedExport;

/* Creates `dir` (mode 0750) if needed and schedules a first export. */
FeedExport *feed_export_new(Capacity *capacity, FeedCache *cache,
			    const char *dir, GError **error);
/* Waits for the files being written. */
void feed_export_free(FeedExport *export);
