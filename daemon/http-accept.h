/* Accepting feed connections for libsoup, with limits of our own.
 *
 * We listen and accept; each connection is handed to the SoupServer
 * with soup_server_accept_iostream(). At most `max_connections` are
 * open at once: one more is answered "503 Service Unavailable" with
 * Retry-After and closed at once, without libsoup. A connection that
 * waits longer than `idle_seconds` for a request (or its headers) is
 * closed; one whose answer takes longer than four times that too. When
 * the process runs out of file descriptors, accepting pauses briefly
 * and resumes by itself. */
#pragma once

#include <libsoup/soup.h>

typedef struct _HttpAccept HttpAccept;

typedef struct {
	guint max_connections;
	guint idle_seconds;
} HttpLimits;

typedef struct {
	guint open;		/* connections open now */
	guint64 accepted;	/* handed to libsoup */
	guint64 refused;	/* answered 503: full */
	guint64 idle_closed;	/* closed by the idle or answer timeout */
	guint64 accept_errors;	/* accept() failed (EMFILE, ...) */
} HttpAcceptStats;

/* Listens at `address` (port 0: any free one) for `server`. */
HttpAccept *http_accept_new(SoupServer *server, GSocketAddress *address,
			    const HttpLimits *limits, GError **error);
/* Stops listening and forgets the connections; libsoup closes them
 * when the server goes. */
void http_accept_free(HttpAccept *accept);
/* Where it listens, with the real port. */
GSocketAddress *http_accept_address(HttpAccept *accept);
void http_accept_stats(HttpAccept *accept, HttpAcceptStats *ret_stats);
