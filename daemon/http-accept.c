/* Our own accept loop in front of libsoup: the connection cap, the
 * 503 when full, and recovery from running out of file descriptors.
 * Each connection is an HttpConn (http-conn.c). */
#define G_LOG_DOMAIN "slotd-http"

#include "http-accept.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "http-conn.h"
#include "loop-watch.h"

/* Kept free for the database, the bus, backups and the journal. */
#define RESERVED_FDS 64
#define LISTEN_BACKLOG 128
/* After the last connection closed: give memory back in. */
#define TRIM_MS 1000
/* After accept() failed (no descriptors left): try again in. */
#define RETRY_MS 200
/* Connections accepted in one turn of the main loop, at most. */
#define ACCEPT_BATCH 32
/* The same warning at most once in. */
#define WARN_INTERVAL (60 * G_USEC_PER_SEC)
#define REFUSAL_BODY "503 Service Unavailable\n"
#define REFUSAL                                                    \
	"HTTP/1.1 503 Service Unavailable\r\n"                     \
	"Retry-After: 10\r\n"                                      \
	"Content-Type: text/plain; charset=utf-8\r\n"              \
	"Content-Length: 24\r\n"                                   \
	"Connection: close\r\n"                                    \
	"\r\n" REFUSAL_BODY

struct _HttpAccept {
	SoupServer *server;
	GSocket *listener;
	GSocketAddress *address;	/* bound */
	GSource *accepting;	/* NULL while paused */
	GHashTable *conns;	/* http_conn_key() -> HttpConn */
	HttpLimits limits;
	GSource *retry;
	GSource *trim;
	gint64 warned_full, warned_error;
	HttpAcceptStats stats;
};

static void start_accepting(HttpAccept *accept);

static void
destroy_source(GSource **source)
{
	if (*source) {
		g_source_destroy(*source);
		g_clear_pointer(source, g_source_unref);
	}
}

/* ---- connections ---------------------------------------------------- */

/* A burst of connections leaves the heap fragmented: glibc keeps the
 * freed pages (megabytes after a flood) unless asked. */
static gboolean
trim_memory(gpointer user_data)
{
	HttpAccept *accept = user_data;

	g_clear_pointer(&accept->trim, g_source_unref);
#ifdef __GLIBC__
	if (g_hash_table_size(accept->conns) == 0)
		malloc_trim(0);
#endif
	return G_SOURCE_REMOVE;
}

static void
conn_gone(HttpConn *conn, gboolean timed_out, gpointer user_data)
{
	HttpAccept *accept = user_data;

	accept->stats.idle_closed += timed_out;
	g_hash_table_remove(accept->conns, http_conn_key(conn));
	if (g_hash_table_size(accept->conns) > 0 || accept->trim)
		return;
	accept->trim = g_timeout_source_new(TRIM_MS);
	g_source_set_callback(accept->trim, trim_memory, accept, NULL);
	g_source_attach(accept->trim, NULL);
}

static HttpConn *
conn_of(HttpAccept *accept, SoupServerMessage *msg)
{
	g_autofree char *key = http_conn_address_key(
		soup_server_message_get_remote_address(msg));

	return key ? g_hash_table_lookup(accept->conns, key) : NULL;
}

static void
request_read(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	HttpConn *conn = conn_of(user_data, msg);

	if (conn)
		http_conn_request_began(conn);
}

static void
request_done(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	HttpConn *conn = conn_of(user_data, msg);

	if (conn)
		http_conn_request_ended(conn);
}

/* ---- accepting ------------------------------------------------------ */

static gboolean
may_warn(gint64 *last)
{
	gint64 now = g_get_monotonic_time();

	if (*last && now - *last < WARN_INTERVAL)
		return FALSE;
	*last = now;
	return TRUE;
}

/* Whatever the client sent is read first: closing with unread data
 * would reset the connection before the client reads the answer. */
static void
refuse(HttpAccept *accept, GSocket *socket)
{
	char scratch[4096];

	accept->stats.refused++;
	if (may_warn(&accept->warned_full))
		g_warning("feed server full: %u connections open "
			  "(http-max-connections); answering 503",
			  g_hash_table_size(accept->conns));
	g_socket_set_blocking(socket, FALSE);
	for (int i = 0; i < 4 && g_socket_receive(socket, scratch,
						  sizeof(scratch), NULL,
						  NULL) > 0;
	     i++)
		;
	g_socket_send(socket, REFUSAL, strlen(REFUSAL), NULL, NULL);
	g_socket_shutdown(socket, FALSE, TRUE, NULL);
	g_socket_close(socket, NULL);
}

static void
take(HttpAccept *accept, GSocket *socket)
{
	HttpConn *conn = http_conn_new(accept->server, socket,
				       accept->limits.idle_seconds, conn_gone,
				       accept);

	if (http_conn_key(conn) == NULL) {
		http_conn_free(conn);
		return;
	}
	accept->stats.accepted++;
	g_hash_table_replace(accept->conns, (gpointer)http_conn_key(conn),
			     conn);
}

static gboolean
retry_accept(gpointer user_data)
{
	HttpAccept *accept = user_data;

	g_clear_pointer(&accept->retry, g_source_unref);
	start_accepting(accept);
	return G_SOURCE_REMOVE;
}

/* Out of descriptors, most likely: the connection waits in the
 * kernel's queue while others close. */
static void
pause_accepting(HttpAccept *accept, const GError *error)
{
	accept->stats.accept_errors++;
	if (may_warn(&accept->warned_error))
		g_warning("cannot accept feed connections: %s; trying "
			  "again every %d ms",
			  error->message, RETRY_MS);
	g_clear_pointer(&accept->accepting, g_source_unref);
	accept->retry = g_timeout_source_new(RETRY_MS);
	g_source_set_callback(accept->retry, retry_accept, accept, NULL);
	g_source_attach(accept->retry, NULL);
}

static void
dispatch_one(HttpAccept *accept, GSocket *socket)
{
	if (g_hash_table_size(accept->conns) >= accept->limits.max_connections)
		refuse(accept, socket);
	else
		take(accept, socket);
}

static gboolean
incoming(GSocket *listener, GIOCondition condition, gpointer user_data)
{
	LOOP_WORK("http accept", NULL);
	HttpAccept *accept = user_data;

	for (guint i = 0; i < ACCEPT_BATCH; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GSocket) socket = g_socket_accept(listener, NULL,
							    &error);

		if (socket) {
			dispatch_one(accept, socket);
		} else if (g_error_matches(error, G_IO_ERROR,
					   G_IO_ERROR_WOULD_BLOCK)) {
			return G_SOURCE_CONTINUE;
		} else {
			pause_accepting(accept, error);
			return G_SOURCE_REMOVE;
		}
	}
	return G_SOURCE_CONTINUE;
}

static void
start_accepting(HttpAccept *accept)
{
	accept->accepting = g_socket_create_source(accept->listener, G_IO_IN,
						   NULL);
	g_source_set_callback(accept->accepting, G_SOURCE_FUNC(incoming),
			      accept, NULL);
	g_source_attach(accept->accepting, NULL);
}

/* ---- the acceptor --------------------------------------------------- */

/* The cap must leave descriptors for everything else. */
static guint
fitting_cap(guint wanted)
{
	struct rlimit limit;
	guint room;

	if (getrlimit(RLIMIT_NOFILE, &limit) != 0 ||
	    limit.rlim_cur == RLIM_INFINITY ||
	    limit.rlim_cur >= (rlim_t)wanted + RESERVED_FDS)
		return wanted;
	room = limit.rlim_cur > 2 * RESERVED_FDS
		       ? (guint)limit.rlim_cur - RESERVED_FDS
		       : (guint)limit.rlim_cur / 2;
	g_warning("http-max-connections=%u does not fit the limit of %u "
		  "open files (LimitNOFILE=); serving at most %u",
		  wanted, (guint)limit.rlim_cur, room);
	return room;
}

static void
watch_requests(HttpAccept *accept)
{
	g_signal_connect(accept->server, "request-read",
			 G_CALLBACK(request_read), accept);
	g_signal_connect(accept->server, "request-finished",
			 G_CALLBACK(request_done), accept);
	g_signal_connect(accept->server, "request-aborted",
			 G_CALLBACK(request_done), accept);
}

/* libsoup 3.2 keeps a connection open for the next request only when
 * the server has a listener of its own (request_finished() in
 * soup-server.c looks at its list of listeners). Its listener loses
 * every socket it accepts and goes deaf when accept() fails, so it gets
 * one nobody can reach: a Unix socket whose name is removed as soon as
 * it listens. */
static gboolean
give_libsoup_a_listener(SoupServer *server, GError **error)
{
	g_autofree char *dir = g_dir_make_tmp("slotd-http-XXXXXX", error);
	g_autofree char *path = NULL;
	g_autoptr(GSocketAddress) address = NULL;
	g_autoptr(GSocket) socket = NULL;
	gboolean ok;

	if (dir == NULL)
		return FALSE;
	path = g_build_filename(dir, "unreachable", NULL);
	address = g_unix_socket_address_new(path);
	socket = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
			      G_SOCKET_PROTOCOL_DEFAULT, error);
	ok = socket && g_socket_bind(socket, address, FALSE, error) &&
	     g_socket_listen(socket, error) &&
	     soup_server_listen_socket(server, socket, 0, error);
	g_unlink(path);
	g_rmdir(dir);
	return ok;
}

/* Non-blocking: incoming() accepts until the queue is empty. */
static GSocket *
listen_at(GSocketAddress *address, GError **error)
{
	g_autoptr(GSocket) socket = g_socket_new(
		g_socket_address_get_family(address), G_SOCKET_TYPE_STREAM,
		G_SOCKET_PROTOCOL_TCP, error);

	if (socket == NULL)
		return NULL;
	g_socket_set_blocking(socket, FALSE);
	g_socket_set_listen_backlog(socket, LISTEN_BACKLOG);
	if (!g_socket_bind(socket, address, TRUE, error) ||
	    !g_socket_listen(socket, error))
		return NULL;
	return g_steal_pointer(&socket);
}

HttpAccept *
http_accept_new(SoupServer *server, GSocketAddress *address,
		const HttpLimits *limits, GError **error)
{
	HttpAccept *accept = g_new0(HttpAccept, 1);

	accept->server = g_object_ref(server);
	accept->limits = *limits;
	accept->limits.max_connections = fitting_cap(limits->max_connections);
	accept->conns = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					      (GDestroyNotify)http_conn_free);
	accept->listener = listen_at(address, error);
	if (accept->listener == NULL ||
	    !give_libsoup_a_listener(server, error) ||
	    !(accept->address = g_socket_get_local_address(accept->listener,
							   error))) {
		http_accept_free(accept);
		return NULL;
	}
	watch_requests(accept);
	start_accepting(accept);
	return accept;
}

void
http_accept_free(HttpAccept *accept)
{
	if (accept == NULL)
		return;
	destroy_source(&accept->accepting);
	destroy_source(&accept->retry);
	destroy_source(&accept->trim);
	g_signal_handlers_disconnect_by_data(accept->server, accept);
	if (accept->listener)
		g_socket_close(accept->listener, NULL);
	g_clear_object(&accept->listener);
	g_hash_table_unref(accept->conns);
	g_clear_object(&accept->address);
	g_clear_object(&accept->server);
	g_free(accept);
}

GSocketAddress *
http_accept_address(HttpAccept *accept)
{
	return accept->address;
}

void
http_accept_stats(HttpAccept *accept, HttpAcceptStats *ret_stats)
{
	*ret_stats = accept->stats;
	ret_stats->open = g_hash_table_size(accept->conns);
}
