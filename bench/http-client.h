/* A minimal HTTP/1.1 client for the feed figures. */
#pragma once

#include <gio/gio.h>

typedef struct {
	int status;
	char *etag;		/* NULL when the response had none */
	GString *text;		/* whole response (cold GET only) */
} HttpResponse;

/* A TCP connection to "host:port" (0.0.0.0 means this host). */
int http_connect(const char *address, GError **error);
/* GET on a fresh connection, read to the end. */
gboolean http_get_cold(const char *address, const char *path,
		       HttpResponse *response, GError **error);
/* GET with If-None-Match on a kept-alive connection; TRUE on a 304. */
gboolean http_get_not_modified(int fd, const char *path, const char *etag,
			       HttpResponse *response, GError **error);
void http_response_clear(HttpResponse *response);
