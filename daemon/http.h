/* The feed front of the daemon: the cache of rendered feeds, the HTTP
 * server (libsoup 3, on the default GMainContext) at [daemon]
 * http-address, and the export to [daemon] feed-export-dir. Either may
 * be off; the cache is always there.
 *
 * HTTP, GET and HEAD only:
 *   /feeds/TOKEN/UNIT.ics, /feeds/TOKEN/UNIT/SERVICE.ics    staff feeds
 *   /freebusy/TOKEN/UNIT[/SERVICE].ics                      free/busy
 *   /freebusy/public/UNIT[/SERVICE].ics      when every offering it
 *                                            covers is public-freebusy
 * A token opens the feeds of its unit (and service, if it was issued
 * for one), staff and free/busy alike. An unknown, revoked or
 * mismatched token, an unknown unit or any other path is the same
 * plain 404. ETag and Last-Modified; If-None-Match and
 * If-Modified-Since give 304. Tokens never reach a log.
 *
 * Connections are accepted by http-accept.c: at most [daemon]
 * http-max-connections open at once (more get a plain 503), and
 * http-idle-seconds for a connection to send its (next) request.
 * /metrics and /healthz are served beside the feeds (http-status.h). */
#pragma once

#include <glib.h>

#include "capacity.h"
#include "planner-pool.h"
#include "http-accept.h"
#include "http-status.h"

typedef struct _Http Http;

/* Starts what the region's [daemon] group asks for. Feeds read their
 * bookings on `reader` (borrowed; freed after the Http), or on the
 * loop when it is NULL. */
Http *http_new(Capacity *capacity, PlannerPool *reader, GError **error);
/* Stops serving; waits for exported files being written. */
void http_free(Http *http);
/* Where the server listens ("127.0.0.1:8470", "[::1]:8470"), with the
 * real port when the configuration said 0; "" when it does not. */
const char *http_address(Http *http);
/* The function /healthz answers with (http-status.h). */
void http_set_health(Http *http, HttpHealthFunc func, gpointer user_data);
/* The connections of the feed server; zeros when it serves none. */
void http_stats(Http *http, HttpAcceptStats *ret_stats);
