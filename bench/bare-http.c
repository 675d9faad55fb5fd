/* slotd-bench-http: the bare HTTP baseline of the feed 304. A libsoup 3
 * server on a GLib main loop, as slotd's feed server is, that knows one
 * document and nothing else: every GET is answered from it, a
 * conditional one with If-None-Match naming its ETag by a 304 with the
 * validators slotd sends (ETag, Last-Modified, Cache-Control and the
 * two safety headers), and the connection is kept alive. No paths,
 * tokens, store or cache: the cheapest 304 the same HTTP stack can
 * give.
 *
 * It listens on the loopback address at a port the kernel chooses (or
 * --address HOST:PORT) and prints "HOST:PORT" on stdout once it does;
 * it runs until it is stopped (SIGTERM or SIGINT). */
#include <glib-unix.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>

/* A 128-bit digest in hex, quoted, as slotd's ETags are. */
#define DOCUMENT_ETAG "\"5d0c2e91a7b34f68c1e07b2a9f4d3c85\""
#define DOCUMENT_BODY \
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"

typedef struct {
	char *last_modified;	/* HTTP date of the document */
	guint not_modified;
} Document;

/* If-None-Match: "*" or any listed tag equal to ours, weakly. */
static gboolean
tag_listed(const char *header)
{
	GSList *tags = soup_header_parse_list(header);
	gboolean found = FALSE;

	for (GSList *l = tags; l && !found; l = l->next) {
		const char *tag = l->data;

		if (g_str_has_prefix(tag, "W/"))
			tag += 2;
		found = g_str_equal(tag, "*") ||
			g_str_equal(tag, DOCUMENT_ETAG);
	}
	g_slist_free_full(tags, g_free);
	return found;
}

static void
serve(SoupServer *server, SoupServerMessage *msg, const char *path,
      GHashTable *query, gpointer user_data)
{
	Document *doc = user_data;
	SoupMessageHeaders *request =
		soup_server_message_get_request_headers(msg);
	SoupMessageHeaders *response =
		soup_server_message_get_response_headers(msg);
	const char *match = soup_message_headers_get_one(request,
							 "If-None-Match");

	soup_message_headers_replace(response, "ETag", DOCUMENT_ETAG);
	soup_message_headers_replace(response, "Last-Modified",
				     doc->last_modified);
	soup_message_headers_replace(response, "Cache-Control",
				     "private, no-cache");
	soup_message_headers_replace(response, "X-Content-Type-Options",
				     "nosniff");
	soup_message_headers_replace(response, "Referrer-Policy",
				     "no-referrer");
	if (match && tag_listed(match)) {
		soup_server_message_set_status(msg, SOUP_STATUS_NOT_MODIFIED,
					       NULL);
		soup_message_headers_set_encoding(response,
						  SOUP_ENCODING_NONE);
		doc->not_modified++;
		return;
	}
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_server_message_set_response(msg, "text/calendar; charset=utf-8",
					 SOUP_MEMORY_STATIC, DOCUMENT_BODY,
					 strlen(DOCUMENT_BODY));
}

static gboolean
on_signal(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

/* "HOST:PORT" of the first address the server listens on. */
static char *
listening_address(SoupServer *server)
{
	GSList *uris = soup_server_get_uris(server);
	char *text = NULL;

	if (uris)
		text = g_strdup_printf("%s:%d", g_uri_get_host(uris->data),
				       g_uri_get_port(uris->data));
	g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
	return text;
}

static gboolean
listen_on(SoupServer *server, const char *address, GError **error)
{
	const char *colon = address ? strrchr(address, ':') : NULL;
	g_autoptr(GInetAddress) host = NULL;
	g_autoptr(GSocketAddress) where = NULL;
	g_autofree char *name = NULL;
	guint64 port;

	if (!address)
		return soup_server_listen_local(server, 0,
						SOUP_SERVER_LISTEN_IPV4_ONLY,
						error);
	if (colon)
		name = g_strndup(address, colon - address);
	if (!colon || !g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535,
						  &port, NULL) ||
	    !(host = g_inet_address_new_from_string(name))) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "--address %s is not IP:PORT", address);
		return FALSE;
	}
	where = g_inet_socket_address_new(host, (guint16)port);
	return soup_server_listen(server, where, 0, error);
}

int
main(int argc, char **argv)
{
	g_autofree char *address = NULL;
	GOptionEntry entries[] = {
		{ "address", 0, 0, G_OPTION_ARG_STRING, &address,
		  "Where to listen (default: 127.0.0.1, any free port)",
		  "IP:PORT" },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("- the bare HTTP 304 server");
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *bound = NULL;
	Document doc = { soup_date_time_to_string(now, SOUP_DATE_HTTP), 0 };
	SoupServer *server;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "slotd-bench-http: %s\n", error->message);
		return 2;
	}
	/* The same construction as slotd's feed server. */
	server = soup_server_new("server-header", "slotd", "raw-paths", TRUE,
				 NULL);
	soup_server_add_handler(server, NULL, serve, &doc, NULL);
	if (!listen_on(server, address, &error) ||
	    !(bound = listening_address(server))) {
		fprintf(stderr, "slotd-bench-http: %s\n",
			error ? error->message : "not listening");
		g_object_unref(server);
		return 1;
	}
	printf("%s\n", bound);
	fflush(stdout);
	g_unix_signal_add(SIGTERM, on_signal, loop);
	g_unix_signal_add(SIGINT, on_signal, loop);
	g_main_loop_run(loop);
	fprintf(stderr, "slotd-bench-http: %u not-modified answers\n",
		doc.not_modified);
	g_object_unref(server);
	g_free(doc.last_modified);
	return 0;
}
