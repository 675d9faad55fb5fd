/* The stream libsoup gets for one feed connection: a GTcpConnection
 * that says when it is closed, whoever closes it. libsoup closes it
 * when the client goes, a request fails or asks for it, or the server
 * is disposed; http-conn.c forgets the connection then. */
#pragma once

#include <gio/gio.h>

#define HTTP_TYPE_STREAM (http_stream_get_type())
G_DECLARE_FINAL_TYPE(HttpStream, http_stream, HTTP, STREAM, GTcpConnection)

typedef void (*HttpStreamClosed)(gpointer user_data);

/* `closed` runs once, at the first close of the stream (also one done
 * by disposing it). */
HttpStream *http_stream_new(GSocket *socket, HttpStreamClosed closed,
			    gpointer user_data);
/* No call of `closed` any more. */
void http_stream_forget(HttpStream *stream);
