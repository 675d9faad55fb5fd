/* One accepted feed connection, from accept() until it is gone.
 *
 * Until the client sends its first bytes the connection is ours
 * alone: a socket, a timer and a few bytes, so that idle connections
 * cost libsoup nothing. Then it goes to the SoupServer
 * (soup_server_accept_iostream() with an HttpStream), which reads the
 * request, answers and closes it. A connection that waits longer than
 * `idle_seconds` for its request is closed, and so is one whose
 * answer takes four times that. */
#pragma once

#include <libsoup/soup.h>

typedef struct _HttpConn HttpConn;

/* The connection is closed (by the client, libsoup or the timer,
 * `timed_out`): the owner frees it now. */
typedef void (*HttpConnGone)(HttpConn *conn, gboolean timed_out,
			     gpointer user_data);

HttpConn *http_conn_new(SoupServer *server, GSocket *socket,
			guint idle_seconds, HttpConnGone gone,
			gpointer user_data);
/* Closes the socket unless libsoup has it; `gone` is not called. */
void http_conn_free(HttpConn *conn);
/* The client's "host:port": unique among open connections. */
const char *http_conn_key(HttpConn *conn);
/* libsoup has read a request; has answered it or given up. */
void http_conn_request_began(HttpConn *conn);
void http_conn_request_ended(HttpConn *conn);
/* "host:port" of an IP socket address; NULL for another kind. */
char *http_conn_address_key(GSocketAddress *address);
