/* Just enough HTTP/1.1 for the feed figures: a GET on a fresh
 * connection read to the end (the cold render), and GETs with
 * If-None-Match on one kept-alive connection (the 304s). */
#include "http-client.h"

#include <errno.h>
#include <stdlib.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static gboolean
io_fail(const char *what, GError **error)
{
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "%s: %s",
		    what, g_strerror(errno));
	return FALSE;
}

int
http_connect(const char *address, GError **error)
{
	const char *colon = strrchr(address, ':');
	g_autofree char *host = NULL;
	const char *target;
	struct addrinfo hints = { 0 }, *found = NULL;
	int fd = -1, rc;

	if (!colon) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "HTTP address '%s' has no port", address);
		return -1;
	}
	host = g_strndup(address, colon - address);
	/* A server listening on every address is reached on loopback. */
	target = !*host || g_str_equal(host, "0.0.0.0") ? "127.0.0.1" :
		 g_str_equal(host, "[::]") ? "::1" : host;
	if (target[0] == '[') /* "[::1]" */
		target = g_strstrip(g_strdelimit(host, "[]", ' '));
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(target, colon + 1, &hints, &found);
	if (rc != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s",
			    address, gai_strerror(rc));
		return -1;
	}
	fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, found->ai_addr, found->ai_addrlen) < 0) {
		io_fail(address, error);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(found);
	return fd;
}

static gboolean
send_all(int fd, const char *data, gsize length, GError **error)
{
	while (length > 0) {
		ssize_t n = send(fd, data, length, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return io_fail("sending the request", error);
		data += n;
		length -= (gsize)n;
	}
	return TRUE;
}

static gboolean
send_get(int fd, const char *path, const char *etag, gboolean keep_alive,
	 GError **error)
{
	g_autofree char *request = g_strdup_printf(
		"GET %s HTTP/1.1\r\nHost: localhost\r\n%s%s%s"
		"Connection: %s\r\n\r\n",
		path, etag ? "If-None-Match: " : "", etag ? etag : "",
		etag ? "\r\n" : "", keep_alive ? "keep-alive" : "close");

	return send_all(fd, request, strlen(request), error);
}

void
http_response_clear(HttpResponse *response)
{
	g_clear_pointer(&response->etag, g_free);
	if (response->text)
		g_string_free(response->text, TRUE);
	response->text = NULL;
	response->status = 0;
}

/* Status code and ETag from the header block. */
static void
parse_head(HttpResponse *response, const char *head, gsize length)
{
	g_autofree char *copy = g_strndup(head, length);
	g_auto(GStrv) lines = g_strsplit(copy, "\r\n", -1);

	if (lines[0] && g_str_has_prefix(lines[0], "HTTP/1."))
		response->status = atoi(lines[0] + 9);
	for (guint i = 1; lines[i]; i++)
		if (g_ascii_strncasecmp(lines[i], "ETag:", 5) == 0)
			response->etag = g_strstrip(g_strdup(lines[i] + 5));
}

gboolean
http_get_cold(const char *address, const char *path, HttpResponse *response,
	      GError **error)
{
	char buffer[65536];
	const char *body;
	ssize_t n;
	int fd = http_connect(address, error);

	if (fd < 0)
		return FALSE;
	response->text = g_string_sized_new(1 << 20);
	if (!send_get(fd, path, NULL, FALSE, error)) {
		close(fd);
		return FALSE;
	}
	while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			g_string_append_len(response->text, buffer, n);
	close(fd);
	if (n < 0)
		return io_fail("reading the feed", error);
	body = strstr(response->text->str, "\r\n\r\n");
	if (!body) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "no HTTP response for %s", path);
		return FALSE;
	}
	parse_head(response, response->text->str, body - response->text->str);
	return TRUE;
}

/* Reads one bodiless response (a 304) from a kept-alive connection. */
gboolean
http_get_not_modified(int fd, const char *path, const char *etag,
		      HttpResponse *response, GError **error)
{
	char buffer[4096];
	gsize have = 0;

	if (!send_get(fd, path, etag, TRUE, error))
		return FALSE;
	while (have < sizeof(buffer) - 1) {
		ssize_t n = recv(fd, buffer + have, sizeof(buffer) - 1 - have,
				 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return io_fail("reading a 304", error);
		have += (gsize)n;
		buffer[have] = '\0';
		if (strstr(buffer, "\r\n\r\n"))
			break;
	}
	parse_head(response, buffer, strstr(buffer, "\r\n\r\n") - buffer);
	if (response->status == 304)
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "expected 304 Not Modified for %s, got %d", path,
		    response->status);
	return FALSE;
}
