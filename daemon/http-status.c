/* /metrics and /healthz. */
#define G_LOG_DOMAIN "slotd-http"

#include "http-status.h"

#include <string.h>

#include "metrics.h"

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define JSON_TYPE "application/json"

/* ---- answers -------------------------------------------------------- */

static void
respond(SoupServerMessage *msg, guint status, const char *type, char *body)
{
	SoupMessageHeaders *headers =
		soup_server_message_get_response_headers(msg);

	soup_server_message_set_status(msg, status, NULL);
	soup_server_message_set_response(msg, type, SOUP_MEMORY_TAKE, body,
					 strlen(body));
	soup_message_headers_replace(headers, "Cache-Control", "no-store");
	soup_message_headers_replace(headers, "X-Content-Type-Options",
				     "nosniff");
}

static void
refuse(SoupServerMessage *msg, guint status)
{
	respond(msg, status, "text/plain; charset=utf-8",
		g_strdup_printf("%u %s\n", status,
				soup_status_get_phrase(status)));
	if (status == SOUP_STATUS_UNAUTHORIZED)
		soup_message_headers_replace(
			soup_server_message_get_response_headers(msg),
			"WWW-Authenticate", "Bearer realm=\"slotd metrics\"");
}

/* ---- who may read the metrics --------------------------------------- */

static gboolean
from_loopback(SoupServerMessage *msg)
{
	GSocketAddress *peer = soup_server_message_get_remote_address(msg);

	return peer && G_IS_INET_SOCKET_ADDRESS(peer) &&
	       g_inet_address_get_is_loopback(g_inet_socket_address_get_address(
		       G_INET_SOCKET_ADDRESS(peer)));
}

/* Compares all of it whatever differs first. */
static gboolean
same_secret(const char *a, const char *b)
{
	gsize la = strlen(a), lb = strlen(b);
	guint diff = la != lb;

	for (gsize i = 0; i < la; i++)
		diff |= (guint)(guchar)a[i] ^ (guint)(guchar)b[i % MAX(lb, 1)];
	return diff == 0;
}

static gboolean
bearer_matches(SoupServerMessage *msg, const char *token)
{
	const char *header = soup_message_headers_get_one(
		soup_server_message_get_request_headers(msg), "Authorization");

	return header && g_ascii_strncasecmp(header, "Bearer ", 7) == 0 &&
	       same_secret(header + 7, token);
}

static guint
metrics_access(SoupServerMessage *msg, const char *token)
{
	if (token && *token)
		return bearer_matches(msg, token) ? SOUP_STATUS_OK
						  : SOUP_STATUS_UNAUTHORIZED;
	return from_loopback(msg) ? SOUP_STATUS_OK : SOUP_STATUS_FORBIDDEN;
}

/* ---- the routes ----------------------------------------------------- */

static void
answer_metrics(SoupServerMessage *msg, const char *token)
{
	guint access = metrics_access(msg, token);

	if (access != SOUP_STATUS_OK) {
		g_debug("/metrics refused: %u", access);
		refuse(msg, access);
		return;
	}
	respond(msg, SOUP_STATUS_OK, METRICS_TYPE, metrics_render());
}

static void
answer_health(SoupServerMessage *msg, HttpHealthFunc health,
	      gpointer health_data)
{
	gboolean healthy = FALSE;
	char *body;

	if (health == NULL) {
		refuse(msg, SOUP_STATUS_SERVICE_UNAVAILABLE);
		return;
	}
	body = health(&healthy, health_data);
	respond(msg, healthy ? SOUP_STATUS_OK
			     : SOUP_STATUS_SERVICE_UNAVAILABLE,
		JSON_TYPE, body);
}

gboolean
http_status_handle(SoupServerMessage *msg, const char *path,
		   const char *token, HttpHealthFunc health,
		   gpointer health_data)
{
	if (g_strcmp0(path, "/metrics") == 0)
		answer_metrics(msg, token);
	else if (g_strcmp0(path, "/healthz") == 0)
		answer_health(msg, health, health_data);
	else
		return FALSE;
	return TRUE;
}

/* ---- counting ------------------------------------------------------- */

/* The route, never the path: a path may hold a token. */
static const char *
route_of(SoupServerMessage *msg)
{
	GUri *uri = soup_server_message_get_uri(msg);
	const char *path = uri ? g_uri_get_path(uri) : NULL;

	if (path == NULL)
		return "other";
	if (g_str_equal(path, "/metrics"))
		return "metrics";
	if (g_str_equal(path, "/healthz"))
		return "healthz";
	if (g_str_has_prefix(path, "/feeds/") ||
	    g_str_has_prefix(path, "/freebusy/"))
		return "feed";
	return "other";
}

void
http_status_count(SoupServerMessage *msg)
{
	char code[16];
	g_autofree char *labels = NULL;

	g_snprintf(code, sizeof(code), "%u",
		   soup_server_message_get_status(msg));
	labels = metrics_labels("route", route_of(msg), "code", code, NULL);
	metrics_count("slotd_http_requests_total", labels, 1);
}
