/* The HTTP side of the feeds: libsoup 3 on the main loop, the paths,
 * tokens, conditional requests and the responses. */
#define G_LOG_DOMAIN "slotd-http"

#include "http.h"

#include <libsoup/soup.h>
#include <string.h>

#include "feed.h"
#include "feed-cache.h"
#include "feed-export.h"
#include "feed-token.h"
#include "http-accept.h"
#include "http-status.h"

#define TEXT_CALENDAR "text/calendar; charset=utf-8"
#define ALLOWED_METHODS "GET, HEAD"

struct _Http {
	Capacity *capacity;
	FeedCache *cache;
	FeedExport *export;
	SoupServer *server;	/* NULL: no HTTP */
	HttpAccept *accept;	/* its connections */
	char *address;		/* bound, "" when none */
	GHashTable *replies;	/* Reply: requests waiting for the cache */
	HttpHealthFunc health;	/* /healthz */
	gpointer health_data;
};

/* A request waiting for its feed; `http` is NULL once the server is
 * gone, `finished` once libsoup is done with the message. */
typedef struct {
	Http *http;
	SoupServerMessage *msg;
	gulong finished_handler;
	gboolean finished;
} Reply;

/* ---- plain responses ------------------------------------------------ */

static void
respond_plain(SoupServerMessage *msg, guint status)
{
	g_autofree char *body = g_strdup_printf(
		"%u %s\n", status, soup_status_get_phrase(status));
	SoupMessageHeaders *headers =
		soup_server_message_get_response_headers(msg);

	soup_server_message_set_status(msg, status, NULL);
	soup_server_message_set_response(msg, "text/plain; charset=utf-8",
					 SOUP_MEMORY_COPY, body,
					 strlen(body));
	soup_message_headers_replace(headers, "X-Content-Type-Options",
				     "nosniff");
	if (status == SOUP_STATUS_METHOD_NOT_ALLOWED)
		soup_message_headers_replace(headers, "Allow", ALLOWED_METHODS);
}

/* 400 with a line that says what to send instead. */
static void
respond_bad_request(SoupServerMessage *msg, const char *why)
{
	g_autofree char *body = g_strdup_printf("400 Bad Request: %s\n", why);

	soup_server_message_set_status(msg, SOUP_STATUS_BAD_REQUEST, NULL);
	soup_server_message_set_response(msg, "text/plain; charset=utf-8",
					 SOUP_MEMORY_COPY, body,
					 strlen(body));
	soup_message_headers_replace(
		soup_server_message_get_response_headers(msg),
		"X-Content-Type-Options", "nosniff");
}

/* The store could not be read: a calendar should try again, not drop
 * the subscription as it might on a 404. */
static void
respond_unavailable(SoupServerMessage *msg)
{
	respond_plain(msg, SOUP_STATUS_SERVICE_UNAVAILABLE);
	soup_message_headers_replace(
		soup_server_message_get_response_headers(msg), "Retry-After",
		"60");
}

static gboolean
is_read_method(const char *method)
{
	return method == SOUP_METHOD_GET || method == SOUP_METHOD_HEAD ||
	       g_strcmp0(method, "GET") == 0 || g_strcmp0(method, "HEAD") == 0;
}

/* A feed reader sends a few hundred bytes of headers; more than this
 * is answered 431 (RFC 6585) rather than carried through. */
#define REQUEST_HEADERS_MAX 8192

static void
add_header_size(const char *name, const char *value, gpointer user_data)
{
	gsize *total = user_data;

	*total += strlen(name) + strlen(value) + 4; /* ": " and CR LF */
}

static gsize
request_headers_size(SoupMessageHeaders *request)
{
	gsize total = 0;

	soup_message_headers_foreach(request, add_header_size, &total);
	return total;
}

/* Runs once the request headers are in, before any body is read:
 * nothing but a bodiless GET or HEAD of a short path goes further. */
static void
screen_request(SoupServer *server, SoupServerMessage *msg, const char *path,
	       GHashTable *query, gpointer user_data)
{
	SoupMessageHeaders *request =
		soup_server_message_get_request_headers(msg);
	goffset length = soup_message_headers_get_content_length(request);

	if (!is_read_method(soup_server_message_get_method(msg))) {
		respond_plain(msg, SOUP_STATUS_METHOD_NOT_ALLOWED);
	} else if (length > 0 || soup_message_headers_get_encoding(request) ==
					 SOUP_ENCODING_CHUNKED) {
		respond_plain(msg, SOUP_STATUS_BAD_REQUEST);
	} else if (path == NULL || strlen(path) > FEED_PATH_MAX) {
		respond_plain(msg, SOUP_STATUS_REQUEST_URI_TOO_LONG);
	} else if (request_headers_size(request) > REQUEST_HEADERS_MAX) {
		respond_plain(msg, 431);
	} else {
		return;
	}
	/* Whatever body follows is not read. */
	soup_message_headers_replace(
		soup_server_message_get_response_headers(msg), "Connection",
		"close");
}

/* ---- who may read what ---------------------------------------------- */

typedef enum {
	ACCESS_DENIED,		/* no such feed for this caller: 404 */
	ACCESS_GRANTED,
	ACCESS_UNKNOWN,		/* the store failed: 503, try later */
} Access;

static Access
token_opens(Http *http, const FeedPath *path)
{
	Store *store = capacity_store(http->capacity);
	g_autofree char *unit = NULL, *service = NULL;
	g_autoptr(GError) error = NULL;
	guint8 hash[FEED_HASH_SIZE], stored[FEED_HASH_SIZE];
	gboolean found = FALSE, same;

	feed_token_hash(path->token, hash);
	if (!store_feed_token_lookup(store, hash, stored, &unit, &service,
				     &found, &error))
		return ACCESS_UNKNOWN;
	if (!found)
		return ACCESS_DENIED;
	same = feed_hash_equal(hash, stored);
	memset(hash, 0, sizeof(hash));
	if (!same)
		return ACCESS_DENIED;
	/* A practitioner's token opens that practitioner's feed only; a
	 * unit's never matches here: its unit column has no ':'. */
	if (path->kind == FEED_KIND_PRACTITIONER)
		return g_str_has_prefix(unit, FEED_PRACTITIONER_SCOPE) &&
				       g_str_equal(unit +
						   strlen(FEED_PRACTITIONER_SCOPE),
						   path->unit)
			       ? ACCESS_GRANTED
			       : ACCESS_DENIED;
	return g_str_equal(unit, path->unit) &&
			       (*service == '\0' ||
				g_str_equal(service, path->service))
		       ? ACCESS_GRANTED
		       : ACCESS_DENIED;
}

static Access
may_read(Http *http, const FeedPath *path)
{
	Region *region = capacity_region(http->capacity);

	if (path->kind == FEED_KIND_PRACTITIONER)
		return feed_practitioner_check(region, path->unit, NULL)
			       ? token_opens(http, path)
			       : ACCESS_DENIED;
	if (!feed_scope_check(region, path->unit, path->service, NULL))
		return ACCESS_DENIED;
	if (!path->has_token)
		return feed_scope_is_public(region, path->unit, path->service)
			       ? ACCESS_GRANTED
			       : ACCESS_DENIED;
	return token_opens(http, path);
}

/* ---- conditional requests ------------------------------------------- */

/* If-None-Match: "*", or any listed tag equal to ours (weak compare). */
static gboolean
etag_matches(const char *header, const char *etag)
{
	g_autoptr(GSList) tags = NULL;
	gboolean match = FALSE;

	if (header == NULL)
		return FALSE;
	tags = soup_header_parse_list(header);
	for (GSList *l = tags; l && !match; l = l->next) {
		const char *tag = l->data;

		if (g_str_has_prefix(tag, "W/"))
			tag += 2;
		match = g_str_equal(tag, "*") || g_str_equal(tag, etag);
	}
	g_slist_free_full(g_steal_pointer(&tags), g_free);
	return match;
}

/* If-Modified-Since counts only without If-None-Match, and only for a
 * text older than the current second: a change later within the same
 * second would carry the same date. */
static gboolean
not_modified(SoupMessageHeaders *request, const FeedDocument *document,
	     gint64 now)
{
	const char *since;
	g_autoptr(GDateTime) date = NULL;

	if (soup_message_headers_get_one(request, "If-None-Match"))
		return etag_matches(soup_message_headers_get_one(
					    request, "If-None-Match"),
				    document->etag);
	since = soup_message_headers_get_one(request, "If-Modified-Since");
	if (since == NULL || document->last_modified >= now)
		return FALSE;
	date = soup_date_time_new_from_http_string(since);
	return date != NULL &&
	       document->last_modified <= g_date_time_to_unix(date);
}

/* ---- answering ------------------------------------------------------ */

static void
set_validators(SoupMessageHeaders *headers, const FeedDocument *document)
{
	g_autoptr(GDateTime) date =
		g_date_time_new_from_unix_utc(document->last_modified);
	g_autofree char *modified = soup_date_time_to_string(date,
							      SOUP_DATE_HTTP);

	soup_message_headers_replace(headers, "ETag", document->etag);
	soup_message_headers_replace(headers, "Last-Modified", modified);
	/* Revalidate every time: a 304 is cheap, and feeds are private. */
	soup_message_headers_replace(headers, "Cache-Control",
				     "private, no-cache");
	soup_message_headers_replace(headers, "X-Content-Type-Options",
				     "nosniff");
	/* The token is in the URL: no Referer may carry it on. */
	soup_message_headers_replace(headers, "Referrer-Policy",
				     "no-referrer");
}

static void
answer(Http *http, SoupServerMessage *msg, const FeedDocument *document,
       const GError *error)
{
	SoupMessageHeaders *request =
		soup_server_message_get_request_headers(msg);
	SoupMessageHeaders *response =
		soup_server_message_get_response_headers(msg);

	if (document == NULL) {
		respond_unavailable(msg);
		return;
	}
	set_validators(response, document);
	if (not_modified(request, document, capacity_now(http->capacity))) {
		soup_server_message_set_status(msg, SOUP_STATUS_NOT_MODIFIED,
					       NULL);
		/* RFC 9110 15.4.5: a 304 has no body, and no length of
		 * one that is not there. */
		soup_message_headers_set_encoding(response,
						  SOUP_ENCODING_NONE);
		return;
	}
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_message_headers_replace(response, "Content-Type", TEXT_CALENDAR);
	/* The cached text itself, not a copy; libsoup leaves it out of a
	 * HEAD response. */
	soup_message_body_append_bytes(
		soup_server_message_get_response_body(msg), document->body);
}

static void
reply_free(Reply *reply)
{
	if (reply->http)
		g_hash_table_remove(reply->http->replies, reply);
	g_signal_handler_disconnect(reply->msg, reply->finished_handler);
	g_object_unref(reply->msg);
	g_free(reply);
}

static void
on_finished(SoupServerMessage *msg, gpointer user_data)
{
	Reply *reply = user_data;

	reply->finished = TRUE;
}

static void
feed_ready(const FeedDocument *document, const GError *error,
	   gpointer user_data)
{
	Reply *reply = user_data;

	if (reply->http == NULL || reply->finished)
		return;
	answer(reply->http, reply->msg, document, error);
	g_debug("feed answered: %u",
		soup_server_message_get_status(reply->msg));
	soup_server_message_unpause(reply->msg);
}

static void
serve_feed(Http *http, SoupServerMessage *msg, const FeedPath *path,
	   const FeedVariant *variant)
{
	const FeedDocument *kept = feed_cache_peek(
		http->cache, path->kind, path->unit, path->service, variant);
	Reply *reply;

	/* Kept and fresh (a calendar app polling): answered here, without
	 * pausing the message and resuming it from the loop. */
	if (kept != NULL) {
		answer(http, msg, kept, NULL);
		return;
	}
	reply = g_new0(Reply, 1);
	reply->http = http;
	reply->msg = g_object_ref(msg);
	reply->finished_handler = g_signal_connect(msg, "finished",
						   G_CALLBACK(on_finished),
						   reply);
	g_hash_table_add(http->replies, reply);
	/* `reply` may be answered and freed before this returns. */
	g_debug("%s feed of %s %s%s%s",
		path->kind == FEED_KIND_STAFF	     ? "staff"
		: path->kind == FEED_KIND_FREEBUSY ? "free/busy"
						     : "practitioner",
		path->kind == FEED_KIND_PRACTITIONER ? "practitioner" : "unit",
		path->unit, *path->service ? ", service " : "", path->service);
	soup_server_message_pause(msg);
	feed_cache_get_variant(http->cache, path->kind, path->unit,
			       path->service, variant, feed_ready, reply,
			       (GDestroyNotify)reply_free);
}

/* ?lang=fi|sv and, for free/busy, ?freebusy=events|busy; other
 * parameters are left alone (calendar apps add their own). The
 * values point into `query`. */
static gboolean
parse_variant(GHashTable *query, FeedKind kind, FeedVariant *ret_variant,
	      const char **ret_why)
{
	const char *lang = query ? g_hash_table_lookup(query, "lang") : NULL;
	const char *form = query ? g_hash_table_lookup(query, "freebusy")
				 : NULL;

	memset(ret_variant, 0, sizeof(*ret_variant));
	if (lang != NULL && !feed_language_is_known(lang)) {
		*ret_why = "lang must be fi (suomi) or sv (svenska); "
			   "leave it out for both languages";
		return FALSE;
	}
	ret_variant->lang = lang;
	if (form == NULL)
		return TRUE;
	if (kind != FEED_KIND_FREEBUSY) {
		*ret_why = "freebusy= is for /freebusy/ feeds only";
		return FALSE;
	}
	if (g_str_equal(form, "events")) {
		ret_variant->freebusy = FEED_FREEBUSY_EVENTS;
	} else if (g_str_equal(form, "busy")) {
		ret_variant->freebusy = FEED_FREEBUSY_BUSY_EVENTS;
	} else {
		*ret_why = "freebusy must be events (busy and free periods "
			   "as events) or busy (busy periods only)";
		return FALSE;
	}
	return TRUE;
}

static void
handle_request(SoupServer *server, SoupServerMessage *msg, const char *path,
	       GHashTable *query, gpointer user_data)
{
	Http *http = user_data;
	Access access = ACCESS_DENIED;
	FeedPath feed;

	if (http_status_handle(msg, path,
			       capacity_region(http->capacity)->daemon
				       .metrics_token,
			       http->health, http->health_data))
		return;
	if (path != NULL && feed_path_parse(path, strlen(path), &feed))
		access = may_read(http, &feed);
	if (access == ACCESS_GRANTED) {
		FeedVariant variant;
		const char *why = NULL;

		if (!parse_variant(query, feed.kind, &variant, &why))
			respond_bad_request(msg, why);
		else
			serve_feed(http, msg, &feed, &variant);
		return;
	}
	/* The path is not logged: it may hold a token, right or wrong. */
	g_debug("%s of no feed: %s", soup_server_message_get_method(msg),
		access == ACCESS_UNKNOWN ? "503" : "404");
	if (access == ACCESS_UNKNOWN)
		respond_unavailable(msg);
	else
		respond_plain(msg, SOUP_STATUS_NOT_FOUND);
}

/* ---- the server ----------------------------------------------------- */

static void
count_request(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
	http_status_count(msg);
}

/* "host:port" or "[v6]:port"; the port may be 0 (any free one). */
static gboolean
split_address(const char *text, char **ret_host, guint16 *ret_port)
{
	const char *colon = strrchr(text, ':');
	guint64 port;
	g_autofree char *host = NULL;

	if (colon == NULL || colon == text ||
	    !g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &port, NULL))
		return FALSE;
	host = g_strndup(text, colon - text);
	if (host[0] == '[' && g_str_has_suffix(host, "]")) {
		char *inner = g_strndup(host + 1, strlen(host) - 2);

		g_free(host);
		host = inner;
	}
	*ret_host = g_steal_pointer(&host);
	*ret_port = (guint16)port;
	return TRUE;
}

static GInetAddress *
resolve(const char *host, GError **error)
{
	GInetAddress *address = g_inet_address_new_from_string(host);
	g_autoptr(GResolver) resolver = NULL;
	GList *found;

	if (address != NULL)
		return address;
	/* Once, at start-up, before anyone waits on the loop. */
	resolver = g_resolver_get_default();
	found = g_resolver_lookup_by_name(resolver, host, NULL, error);
	if (found == NULL)
		return NULL;
	address = g_object_ref(found->data);
	g_resolver_free_addresses(found);
	return address;
}

static char *
bound_address(HttpAccept *accept)
{
	GSocketAddress *local = http_accept_address(accept);
	g_autofree char *host = NULL;
	GInetSocketAddress *inet;

	if (local == NULL || !G_IS_INET_SOCKET_ADDRESS(local))
		return g_strdup("");
	inet = G_INET_SOCKET_ADDRESS(local);
	host = g_inet_address_to_string(g_inet_socket_address_get_address(inet));
	if (strchr(host, ':'))
		return g_strdup_printf("[%s]:%u", host,
				       g_inet_socket_address_get_port(inet));
	return g_strdup_printf("%s:%u", host,
			       g_inet_socket_address_get_port(inet));
}

static gboolean
start_server(Http *http, const char *address, const HttpLimits *limits,
	     GError **error)
{
	g_autofree char *host = NULL;
	g_autoptr(GInetAddress) inet = NULL;
	g_autoptr(GSocketAddress) socket_address = NULL;
	guint16 port;

	if (!split_address(address, &host, &port)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG,
			    "http-address \"%s\" is not HOST:PORT", address);
		return FALSE;
	}
	inet = resolve(host, error);
	if (inet == NULL)
		return FALSE;
	socket_address = g_inet_socket_address_new(inet, port);
	/* No version in the Server header; paths exactly as sent. */
	http->server = soup_server_new("server-header", "slotd", "raw-paths",
				       TRUE, NULL);
	soup_server_add_early_handler(http->server, NULL, screen_request, http,
				      NULL);
	soup_server_add_handler(http->server, NULL, handle_request, http,
				NULL);
	g_signal_connect(http->server, "request-finished",
			 G_CALLBACK(count_request), NULL);
	http->accept = http_accept_new(http->server, socket_address, limits,
				       error);
	if (http->accept == NULL) {
		g_prefix_error(error, "cannot serve feeds at %s: ", address);
		return FALSE;
	}
	http->address = bound_address(http->accept);
	g_message("serving feeds at http://%s/", http->address);
	return TRUE;
}

Http *
http_new(Capacity *capacity, PlannerPool *reader, GError **error)
{
	const DaemonConfig *config = &capacity_region(capacity)->daemon;
	HttpLimits limits = { config->http_max_connections,
			      config->http_idle_seconds };
	Http *http = g_new0(Http, 1);

	feed_init();
	http->capacity = capacity;
	http->cache = feed_cache_new(capacity);
	feed_cache_set_reader(http->cache, reader);
	http->replies = g_hash_table_new(NULL, NULL);
	http->address = NULL;
	if (config->http_address && *config->http_address &&
	    !start_server(http, config->http_address, &limits, error)) {
		http_free(http);
		return NULL;
	}
	if (http->address == NULL)
		http->address = g_strdup("");
	if (config->feed_export_dir) {
		http->export = feed_export_new(capacity, http->cache,
					       config->feed_export_dir, error);
		if (http->export == NULL) {
			http_free(http);
			return NULL;
		}
	}
	return http;
}

void
http_free(Http *http)
{
	GHashTableIter iter;
	Reply *reply;

	if (http == NULL)
		return;
	g_clear_pointer(&http->export, feed_export_free);
	/* Requests still waiting are dropped with their connections. */
	g_hash_table_iter_init(&iter, http->replies);
	while (g_hash_table_iter_next(&iter, (gpointer *)&reply, NULL))
		reply->http = NULL;
	g_hash_table_unref(http->replies);
	/* Open connections close as the server goes. */
	g_clear_pointer(&http->accept, http_accept_free);
	g_clear_object(&http->server);
	g_clear_pointer(&http->cache, feed_cache_free);
	g_free(http->address);
	g_free(http);
}

const char *
http_address(Http *http)
{
	return http && http->address ? http->address : "";
}

void
http_set_health(Http *http, HttpHealthFunc func, gpointer user_data)
{
	http->health = func;
	http->health_data = user_data;
}

void
http_stats(Http *http, HttpAcceptStats *ret_stats)
{
	memset(ret_stats, 0, sizeof(*ret_stats));
	if (http && http->accept)
		http_accept_stats(http->accept, ret_stats);
}
