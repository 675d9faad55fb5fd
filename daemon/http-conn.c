/* One feed connection: waiting for the request, libsoup, timers. */
#define G_LOG_DOMAIN "slotd-http"

#include "http-conn.h"

#include "http-stream.h"
#include "loop-watch.h"

/* An answer may take this many idle timeouts. */
#define ANSWER_FACTOR 4

struct _HttpConn {
	SoupServer *server;
	GSocket *socket;
	HttpStream *stream;	/* NULL until libsoup has it */
	GSource *waiting;	/* for the first bytes */
	GSource *timer;
	gint64 deadline;	/* when the connection times out */
	gint64 armed;		/* the timer's ready time, or -1 */
	char *key;
	guint idle_seconds;
	guint busy;		/* requests being answered */
	gboolean timed_out;
	HttpConnGone gone;
	gpointer user_data;
};

/* ---- timer ---------------------------------------------------------- */

/* Moving a source's ready time wakes the loop (a write to its eventfd
 * and one more turn): twice a request when every request began and
 * ended with one. The timer is moved only when the deadline comes
 * earlier than it is set for; when it fires before the deadline, it is
 * set again (at most once per idle timeout). */
static void
set_timer(HttpConn *conn, gint64 at)
{
	conn->armed = at;
	g_source_set_ready_time(conn->timer, at);
}

static void
arm(HttpConn *conn)
{
	guint seconds = conn->idle_seconds;

	if (conn->busy)
		seconds *= ANSWER_FACTOR;
	conn->deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
	if (conn->armed < 0 || conn->deadline < conn->armed)
		set_timer(conn, conn->deadline);
}

/* libsoup's connection is shut down, not closed: libsoup reads the
 * end, closes the stream and lets go, and stream_closed() tells. */
static gboolean
expired(gpointer user_data)
{
	HttpConn *conn = user_data;

	if (g_get_monotonic_time() < conn->deadline) {
		set_timer(conn, conn->deadline);
		return G_SOURCE_CONTINUE;
	}
	g_debug("closing a feed connection %s",
		conn->busy ? "whose answer takes too long"
			   : "that sent no request in time");
	conn->timed_out = TRUE;
	if (conn->stream == NULL) {
		conn->gone(conn, TRUE, conn->user_data);
		return G_SOURCE_REMOVE;
	}
	g_socket_shutdown(conn->socket, TRUE, TRUE, NULL);
	set_timer(conn, -1);
	return G_SOURCE_CONTINUE;
}

/* ---- libsoup -------------------------------------------------------- */

static void
stream_closed(gpointer user_data)
{
	HttpConn *conn = user_data;

	conn->gone(conn, conn->timed_out, conn->user_data);
}

static void
hand_over(HttpConn *conn)
{
	g_autoptr(GSocketAddress) local =
		g_socket_get_local_address(conn->socket, NULL);
	g_autoptr(GSocketAddress) remote =
		g_socket_get_remote_address(conn->socket, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(HttpStream) stream = NULL;

	conn->stream = http_stream_new(conn->socket, stream_closed, conn);
	stream = g_object_ref(conn->stream);
	if (local && remote &&
	    soup_server_accept_iostream(conn->server, G_IO_STREAM(stream),
					local, remote, &error))
		return;
	g_warning("cannot serve a feed connection: %s",
		  error ? error->message : "no address");
	/* Closing it calls stream_closed(), unless libsoup did. */
	g_io_stream_close(G_IO_STREAM(stream), NULL, NULL);
}

/* Readable: the request begins, or the client has gone. */
static gboolean
readable(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	LOOP_WORK("http", NULL);
	HttpConn *conn = user_data;

	g_clear_pointer(&conn->waiting, g_source_unref);
	if (g_socket_get_available_bytes(socket) <= 0) {
		conn->gone(conn, FALSE, conn->user_data);
		return G_SOURCE_REMOVE;
	}
	hand_over(conn);
	return G_SOURCE_REMOVE;
}

/* ---- the connection ------------------------------------------------- */

HttpConn *
http_conn_new(SoupServer *server, GSocket *socket, guint idle_seconds,
	      HttpConnGone gone, gpointer user_data)
{
	g_autoptr(GSocketAddress) remote =
		g_socket_get_remote_address(socket, NULL);
	HttpConn *conn = g_new0(HttpConn, 1);

	conn->server = server;
	conn->socket = g_object_ref(socket);
	conn->key = http_conn_address_key(remote);
	conn->idle_seconds = idle_seconds;
	conn->gone = gone;
	conn->user_data = user_data;
	conn->timer = loop_ready_source_new(expired, conn);
	conn->armed = -1;
	arm(conn);
	g_source_attach(conn->timer, NULL);
	conn->waiting = g_socket_create_source(socket, G_IO_IN, NULL);
	g_source_set_callback(conn->waiting, G_SOURCE_FUNC(readable), conn,
			      NULL);
	g_source_attach(conn->waiting, NULL);
	return conn;
}

static void
destroy_source(GSource **source)
{
	if (*source) {
		g_source_destroy(*source);
		g_clear_pointer(source, g_source_unref);
	}
}

void
http_conn_free(HttpConn *conn)
{
	destroy_source(&conn->waiting);
	destroy_source(&conn->timer);
	if (conn->stream) {
		/* libsoup holds the stream while it closes it. */
		http_stream_forget(conn->stream);
		g_object_unref(conn->stream);
	} else {
		g_socket_close(conn->socket, NULL);
	}
	g_object_unref(conn->socket);
	g_free(conn->key);
	g_free(conn);
}

const char *
http_conn_key(HttpConn *conn)
{
	return conn->key;
}

void
http_conn_request_began(HttpConn *conn)
{
	conn->busy++;
	arm(conn);
}

void
http_conn_request_ended(HttpConn *conn)
{
	if (conn->busy)
		conn->busy--;
	arm(conn);
}

char *
http_conn_address_key(GSocketAddress *address)
{
	GInetSocketAddress *inet;
	g_autofree char *host = NULL;

	if (address == NULL || !G_IS_INET_SOCKET_ADDRESS(address))
		return NULL;
	inet = G_INET_SOCKET_ADDRESS(address);
	host = g_inet_address_to_string(
		g_inet_socket_address_get_address(inet));
	return g_strdup_printf("%s:%u", host,
			       g_inet_socket_address_get_port(inet));
}
