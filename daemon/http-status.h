/* /metrics and /healthz on the feed server.
 *
 * /metrics: the Prometheus text of metrics.c. From a loopback address
 * only, unless [daemon] metrics-token is set: then from anywhere, and
 * only with "Authorization: Bearer TOKEN" (401 without; 403 for
 * another address when no token is set). Behind a reverse proxy on
 * the same host every request comes from localhost: set a token, or do
 * not forward /metrics.
 *
 * /healthz: 200 or 503 with a small JSON body from the health
 * function, to anyone who reaches the port. */
#pragma once

#include <libsoup/soup.h>

/* The JSON body, and whether slotd is healthy. */
typedef char *(*HttpHealthFunc)(gboolean *ret_healthy, gpointer user_data);

/* Answers /metrics and /healthz; FALSE for any other path. `token` is
 * the configured metrics token ("" none). */
gboolean http_status_handle(SoupServerMessage *msg, const char *path,
			    const char *token, HttpHealthFunc health,
			    gpointer health_data);
/* Counts an answered request by route and status (request-finished). */
void http_status_count(SoupServerMessage *msg);
