/* A GTcpConnection with a close hook. */
#include "http-stream.h"

struct _HttpStream {
	GTcpConnection parent;
	HttpStreamClosed closed;
	gpointer user_data;
};

G_DEFINE_FINAL_TYPE(HttpStream, http_stream, G_TYPE_TCP_CONNECTION)

/* GSocketConnection closes synchronously, also for close_async, by
 * calling close_fn: this sees every close. */
static gboolean
http_stream_close(GIOStream *io, GCancellable *cancellable, GError **error)
{
	HttpStream *stream = HTTP_STREAM(io);
	HttpStreamClosed closed = stream->closed;
	gboolean ok = G_IO_STREAM_CLASS(http_stream_parent_class)
			      ->close_fn(io, cancellable, error);

	stream->closed = NULL;
	if (closed)
		closed(stream->user_data);
	return ok;
}

static void
http_stream_class_init(HttpStreamClass *klass)
{
	G_IO_STREAM_CLASS(klass)->close_fn = http_stream_close;
}

static void
http_stream_init(HttpStream *stream)
{
}

HttpStream *
http_stream_new(GSocket *socket, HttpStreamClosed closed, gpointer user_data)
{
	HttpStream *stream = g_object_new(HTTP_TYPE_STREAM, "socket", socket,
					  NULL);

	stream->closed = closed;
	stream->user_data = user_data;
	return stream;
}

void
http_stream_forget(HttpStream *stream)
{
	stream->closed = NULL;
	stream->user_data = NULL;
}
