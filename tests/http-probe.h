/* Plain HTTP/1.1 over GSocket for the tests of the feed server's
 * limits, /metrics and /healthz: every byte as sent and received,
 * nothing a client library would retry or hide. */
#pragma once

#include <gio/gio.h>

typedef struct {
	int status;		/* 0: no status line */
	char *head;		/* status line and headers */
	char *body;
	gsize length;
} ProbeResponse;

typedef enum {
	PROBE_OPEN,		/* nothing came in the time */
	PROBE_CLOSED,		/* end of stream or reset, no bytes */
	PROBE_DATA,		/* bytes came */
} ProbeState;

/* A blocking TCP connection to "HOST:PORT" (10 s timeouts). */
GSocket *probe_connect(const char *address);
/* Waits up to `ms` for bytes or the end; the bytes (at most 4 KiB)
 * go to *ret_data when not NULL. */
ProbeState probe_wait(GSocket *socket, guint ms, char **ret_data);
/* GET `path` on a new connection ("Connection: close"); `extra` is
 * NULL or header lines ending in CRLF. Reads to the end of the
 * stream. */
void probe_get(const char *address, const char *path, const char *extra,
	       ProbeResponse *r);
void probe_response_clear(ProbeResponse *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ProbeResponse, probe_response_clear)
/* A header's value (first of that name), or NULL. */
char *probe_header(const ProbeResponse *r, const char *name);
