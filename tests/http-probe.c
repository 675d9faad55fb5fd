/* Plain HTTP/1.1 over GSocket. */
#include "http-probe.h"

#include <stdlib.h>
#include <string.h>

GSocket *
probe_connect(const char *address)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnectable) where =
		g_network_address_parse(address, 0, &error);
	g_autoptr(GSocketAddressEnumerator) e = NULL;
	g_autoptr(GSocketAddress) to = NULL;
	GSocket *socket;

	g_assert_no_error(error);
	e = g_socket_connectable_enumerate(where);
	to = g_socket_address_enumerator_next(e, NULL, &error);
	g_assert_no_error(error);
	socket = g_socket_new(g_socket_address_get_family(to),
			      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
			      &error);
	g_assert_no_error(error);
	g_socket_set_timeout(socket, 10);
	g_socket_connect(socket, to, NULL, &error);
	g_assert_no_error(error);
	return socket;
}

ProbeState
probe_wait(GSocket *socket, guint ms, char **ret_data)
{
	g_autoptr(GError) error = NULL;
	char buffer[4096];
	gssize n;

	if (!g_socket_condition_timed_wait(socket, G_IO_IN | G_IO_HUP,
					   (gint64)ms * 1000, NULL, NULL))
		return PROBE_OPEN;
	n = g_socket_receive(socket, buffer, sizeof(buffer) - 1, NULL,
			     &error);
	if (n <= 0)
		return PROBE_CLOSED;
	if (ret_data)
		*ret_data = g_strndup(buffer, n);
	return PROBE_DATA;
}

static GByteArray *
read_to_end(GSocket *socket)
{
	GByteArray *bytes = g_byte_array_new();
	char buffer[16384];
	gssize n;

	while ((n = g_socket_receive(socket, buffer, sizeof(buffer), NULL,
				     NULL)) > 0)
		g_byte_array_append(bytes, (guint8 *)buffer, n);
	return bytes;
}

static void
parse_response(GByteArray *bytes, ProbeResponse *r)
{
	const char *data = (const char *)bytes->data;
	const char *end = g_strstr_len(data, bytes->len, "\r\n\r\n");

	memset(r, 0, sizeof(*r));
	if (end == NULL) {
		r->head = g_strndup(data, bytes->len);
		r->body = g_strdup("");
		return;
	}
	r->head = g_strndup(data, end - data);
	r->length = bytes->len - (end + 4 - data);
	r->body = g_strndup(end + 4, r->length);
	if (g_str_has_prefix(r->head, "HTTP/1.1 "))
		r->status = atoi(r->head + 9);
}

void
probe_get(const char *address, const char *path, const char *extra,
	  ProbeResponse *r)
{
	g_autoptr(GSocket) socket = probe_connect(address);
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) bytes = NULL;
	g_autofree char *request = g_strdup_printf(
		"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s\r\n",
		path, address,
		extra ? extra : "");

	if (g_socket_send(socket, request, strlen(request), NULL, &error) < 0) {
		/* Refused before the request: what did it say? */
		g_clear_error(&error);
	}
	bytes = read_to_end(socket);
	parse_response(bytes, r);
}

void
probe_response_clear(ProbeResponse *r)
{
	g_free(r->head);
	g_free(r->body);
	memset(r, 0, sizeof(*r));
}

char *
probe_header(const ProbeResponse *r, const char *name)
{
	g_auto(GStrv) lines = g_strsplit(r->head, "\r\n", -1);
	gsize n = strlen(name);

	for (guint i = 1; lines[i]; i++)
		if (g_ascii_strncasecmp(lines[i], name, n) == 0 &&
		    lines[i][n] == ':')
			return g_strstrip(g_strdup(lines[i] + n + 1));
	return NULL;
}
