/* The bare D-Bus baseline: a libdbus server on a GLib main loop that
 * does no work beyond the protocol. It answers
 *   Echo((sxxi) item) -> (sxxi)	the same struct back
 *   Slots(u count) -> a(sxxi)		count slot-shaped structs
 *   SetReply(s method, ay message)	keeps a marshalled method return
 *   <method>() -> (what was kept)	that reply's body, byte for byte:
 *					Replay for a FindSlots reply,
 *					ReplayList for a ListServices one
 * on the bus name org.slotd.BenchEcho, so that the benchmark can set
 * slotd's calls against the cheapest round trip the same bus allows.
 *
 * The glue is deliberately minimal and written for this program only:
 * one GLib fd source per enabled DBusWatch, one timer per DBusTimeout,
 * and an idle source that drains the incoming queue whenever libdbus
 * says data remains. */
#include <glib-unix.h>
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_NAME "org.slotd.BenchEcho"
#define ECHO_PATH "/org/slotd/BenchEcho"
#define ECHO_IFACE "org.slotd.BenchEcho1"
#define SLOTS_MAX 100000

typedef struct {
	DBusConnection *connection;
	GMainLoop *loop;
	GSource *drain;		/* pending dispatch, or NULL */
} Server;

/* ---- watches and timeouts -------------------------------------------- */

static gboolean
on_watch_ready(gint fd, GIOCondition condition, gpointer user_data)
{
	DBusWatch *watch = user_data;
	unsigned int flags = 0;

	if (condition & G_IO_IN)
		flags |= DBUS_WATCH_READABLE;
	if (condition & G_IO_OUT)
		flags |= DBUS_WATCH_WRITABLE;
	if (condition & G_IO_HUP)
		flags |= DBUS_WATCH_HANGUP;
	if (condition & G_IO_ERR)
		flags |= DBUS_WATCH_ERROR;
	dbus_watch_handle(watch, flags);
	return G_SOURCE_CONTINUE;
}

static void
watch_source_drop(void *data)
{
	GSource *source = data;

	if (source) {
		g_source_destroy(source);
		g_source_unref(source);
	}
}

/* (Re)creates the watch's source to match its current flags. */
static void
watch_sync(DBusWatch *watch)
{
	unsigned int flags = dbus_watch_get_flags(watch);
	GIOCondition condition = G_IO_HUP | G_IO_ERR;
	GSource *source;

	dbus_watch_set_data(watch, NULL, NULL);
	if (!dbus_watch_get_enabled(watch))
		return;
	if (flags & DBUS_WATCH_READABLE)
		condition |= G_IO_IN;
	if (flags & DBUS_WATCH_WRITABLE)
		condition |= G_IO_OUT;
	source = g_unix_fd_source_new(dbus_watch_get_unix_fd(watch),
				      condition);
	g_source_set_callback(source, G_SOURCE_FUNC(on_watch_ready), watch,
			      NULL);
	g_source_attach(source, NULL);
	dbus_watch_set_data(watch, source, watch_source_drop);
}

static dbus_bool_t
watch_add(DBusWatch *watch, void *data)
{
	watch_sync(watch);
	return TRUE;
}

static void
watch_remove(DBusWatch *watch, void *data)
{
	dbus_watch_set_data(watch, NULL, NULL);
}

static void
watch_toggled(DBusWatch *watch, void *data)
{
	watch_sync(watch);
}

static gboolean
on_timeout(gpointer user_data)
{
	dbus_timeout_handle(user_data);
	return G_SOURCE_CONTINUE;
}

static dbus_bool_t
timeout_add(DBusTimeout *timeout, void *data)
{
	GSource *source;

	dbus_timeout_set_data(timeout, NULL, NULL);
	if (!dbus_timeout_get_enabled(timeout))
		return TRUE;
	source = g_timeout_source_new(dbus_timeout_get_interval(timeout));
	g_source_set_callback(source, on_timeout, timeout, NULL);
	g_source_attach(source, NULL);
	dbus_timeout_set_data(timeout, source, watch_source_drop);
	return TRUE;
}

static void
timeout_remove(DBusTimeout *timeout, void *data)
{
	dbus_timeout_set_data(timeout, NULL, NULL);
}

static void
timeout_toggled(DBusTimeout *timeout, void *data)
{
	timeout_add(timeout, data);
}

/* ---- dispatching ----------------------------------------------------- */

static gboolean
drain(gpointer user_data)
{
	Server *server = user_data;

	g_clear_pointer(&server->drain, g_source_unref);
	while (dbus_connection_dispatch(server->connection) ==
	       DBUS_DISPATCH_DATA_REMAINS)
		;
	return G_SOURCE_REMOVE;
}

/* Never dispatch from here (libdbus holds its lock): schedule it. */
static void
on_dispatch_status(DBusConnection *connection, DBusDispatchStatus status,
		   void *data)
{
	Server *server = data;

	if (status != DBUS_DISPATCH_DATA_REMAINS || server->drain)
		return;
	server->drain = g_idle_source_new();
	g_source_set_priority(server->drain, G_PRIORITY_DEFAULT);
	g_source_set_callback(server->drain, drain, server, NULL);
	g_source_attach(server->drain, NULL);
}

/* ---- the methods ----------------------------------------------------- */

static DBusMessage *
echo_reply(DBusMessage *call)
{
	DBusMessageIter in, item, out, out_item;
	const char *text;
	dbus_int64_t start, end;
	dbus_int32_t free_seats;
	DBusMessage *reply;

	if (!dbus_message_has_signature(call, "(sxxi)"))
		return dbus_message_new_error(call, DBUS_ERROR_INVALID_ARGS,
					      "expected (sxxi)");
	dbus_message_iter_init(call, &in);
	dbus_message_iter_recurse(&in, &item);
	dbus_message_iter_get_basic(&item, &text);
	dbus_message_iter_next(&item);
	dbus_message_iter_get_basic(&item, &start);
	dbus_message_iter_next(&item);
	dbus_message_iter_get_basic(&item, &end);
	dbus_message_iter_next(&item);
	dbus_message_iter_get_basic(&item, &free_seats);
	reply = dbus_message_new_method_return(call);
	dbus_message_iter_init_append(reply, &out);
	dbus_message_iter_open_container(&out, DBUS_TYPE_STRUCT, NULL,
					 &out_item);
	dbus_message_iter_append_basic(&out_item, DBUS_TYPE_STRING, &text);
	dbus_message_iter_append_basic(&out_item, DBUS_TYPE_INT64, &start);
	dbus_message_iter_append_basic(&out_item, DBUS_TYPE_INT64, &end);
	dbus_message_iter_append_basic(&out_item, DBUS_TYPE_INT32,
				       &free_seats);
	dbus_message_iter_close_container(&out, &out_item);
	return reply;
}

static void
append_slot(DBusMessageIter *array, dbus_uint32_t i)
{
	DBusMessageIter entry;
	char id[24];
	const char *id_ptr = id;
	dbus_int64_t start = 1780000000 + (dbus_int64_t)i * 1800;
	dbus_int64_t end = start + 1800;
	dbus_int32_t free_seats = 1 + (dbus_int32_t)(i % 3);

	snprintf(id, sizeof(id), "s-%u", 100000 + i);
	dbus_message_iter_open_container(array, DBUS_TYPE_STRUCT, NULL, &entry);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &id_ptr);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_INT64, &start);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_INT64, &end);
	dbus_message_iter_append_basic(&entry, DBUS_TYPE_INT32, &free_seats);
	dbus_message_iter_close_container(array, &entry);
}

static DBusMessage *
slots_reply(DBusMessage *call)
{
	dbus_uint32_t count = 0;
	DBusMessageIter out, array;
	DBusMessage *reply;

	if (!dbus_message_get_args(call, NULL, DBUS_TYPE_UINT32, &count,
				   DBUS_TYPE_INVALID) ||
	    count > SLOTS_MAX)
		return dbus_message_new_error(call, DBUS_ERROR_INVALID_ARGS,
					      "expected a count (u)");
	reply = dbus_message_new_method_return(call);
	dbus_message_iter_init_append(reply, &out);
	dbus_message_iter_open_container(&out, DBUS_TYPE_ARRAY, "(sxxi)",
					 &array);
	for (dbus_uint32_t i = 0; i < count; i++)
		append_slot(&array, i);
	dbus_message_iter_close_container(&out, &array);
	return reply;
}

/* The comparisons with slotd's own replies: the benchmark hands over a
 * reply slotd gave (dbus_message_marshal) under a method name, and a
 * call of that method is answered with a copy of it, so the bare round
 * trip carries the same structs, extras and bytes. */
static GHashTable *kept;	/* method name -> DBusMessage */

static DBusMessage *
set_reply(DBusMessage *call)
{
	DBusError e = DBUS_ERROR_INIT;
	const char *method = NULL;
	const char *bytes = NULL;
	DBusMessage *message;
	int length = 0;

	if (!dbus_message_get_args(call, NULL, DBUS_TYPE_STRING, &method,
				   DBUS_TYPE_ARRAY, DBUS_TYPE_BYTE, &bytes,
				   &length, DBUS_TYPE_INVALID) ||
	    (!g_str_equal(method, "Replay") &&
	     !g_str_equal(method, "ReplayList")))
		return dbus_message_new_error(call, DBUS_ERROR_INVALID_ARGS,
					      "expected Replay or ReplayList "
					      "and a message (say)");
	message = dbus_message_demarshal(bytes, length, &e);
	if (!message) {
		DBusMessage *error = dbus_message_new_error(
			call, DBUS_ERROR_INVALID_ARGS, e.message);

		dbus_error_free(&e);
		return error;
	}
	if (!kept)
		kept = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     (GDestroyNotify)dbus_message_unref);
	g_hash_table_replace(kept, g_strdup(method), message);
	return dbus_message_new_method_return(call);
}

/* NULL when nothing is kept for the call's method. */
static DBusMessage *
replay_reply(DBusMessage *call)
{
	DBusMessage *message = kept ? g_hash_table_lookup(
					      kept, dbus_message_get_member(call))
				    : NULL;
	DBusMessage *reply;

	if (!message)
		return NULL;
	reply = dbus_message_copy(message);
	dbus_message_set_reply_serial(reply, dbus_message_get_serial(call));
	dbus_message_set_destination(reply, dbus_message_get_sender(call));
	dbus_message_set_sender(reply, NULL);
	return reply;
}

static DBusHandlerResult
on_object_message(DBusConnection *connection, DBusMessage *message,
		  void *data)
{
	DBusMessage *reply = NULL;

	if (dbus_message_is_method_call(message, ECHO_IFACE, "Echo"))
		reply = echo_reply(message);
	else if (dbus_message_is_method_call(message, ECHO_IFACE, "Slots"))
		reply = slots_reply(message);
	else if (dbus_message_is_method_call(message, ECHO_IFACE, "SetReply"))
		reply = set_reply(message);
	else if (dbus_message_is_method_call(message, ECHO_IFACE, "Replay") ||
		 dbus_message_is_method_call(message, ECHO_IFACE,
					     "ReplayList")) {
		reply = replay_reply(message);
		if (!reply)
			reply = dbus_message_new_error(
				message, DBUS_ERROR_FAILED,
				"no reply kept for this method (SetReply)");
	}
	if (!reply)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	dbus_connection_send(connection, reply, NULL);
	dbus_message_unref(reply);
	return DBUS_HANDLER_RESULT_HANDLED;
}

static DBusHandlerResult
on_bus_message(DBusConnection *connection, DBusMessage *message, void *data)
{
	Server *server = data;

	if (dbus_message_is_signal(message, DBUS_INTERFACE_LOCAL,
				   "Disconnected"))
		g_main_loop_quit(server->loop);
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* ---- start and stop -------------------------------------------------- */

static gboolean
on_stop_signal(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_CONTINUE;
}

static gboolean
server_connect(Server *server, const char *address)
{
	static const DBusObjectPathVTable vtable = {
		.message_function = on_object_message,
	};
	DBusError error = DBUS_ERROR_INIT;

	server->connection = dbus_connection_open_private(address, &error);
	if (!server->connection || !dbus_bus_register(server->connection,
						      &error))
		goto fail;
	dbus_connection_set_exit_on_disconnect(server->connection, FALSE);
	dbus_connection_add_filter(server->connection, on_bus_message, server,
				   NULL);
	dbus_connection_set_watch_functions(server->connection, watch_add,
					    watch_remove, watch_toggled, server,
					    NULL);
	dbus_connection_set_timeout_functions(server->connection, timeout_add,
					      timeout_remove, timeout_toggled,
					      server, NULL);
	dbus_connection_set_dispatch_status_function(
		server->connection, on_dispatch_status, server, NULL);
	dbus_connection_register_object_path(server->connection, ECHO_PATH,
					     &vtable, server);
	if (dbus_bus_request_name(server->connection, ECHO_NAME,
				  DBUS_NAME_FLAG_DO_NOT_QUEUE, &error) !=
	    DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
		goto fail;
	on_dispatch_status(server->connection,
			   dbus_connection_get_dispatch_status(
				   server->connection),
			   server);
	return TRUE;
fail:
	fprintf(stderr, "bench-echo: %s\n",
		dbus_error_is_set(&error) ? error.message : "name taken");
	dbus_error_free(&error);
	return FALSE;
}

static void
server_close(Server *server)
{
	if (server->drain) {
		g_source_destroy(server->drain);
		g_clear_pointer(&server->drain, g_source_unref);
	}
	if (!server->connection)
		return;
	dbus_connection_remove_filter(server->connection, on_bus_message,
				      server);
	dbus_connection_close(server->connection);
	dbus_connection_unref(server->connection);
	server->connection = NULL;
}

int
main(int argc, char **argv)
{
	Server server = { 0 };
	int status = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: bench-echo BUS-ADDRESS\n");
		return 2;
	}
	server.loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_stop_signal, server.loop);
	g_unix_signal_add(SIGINT, on_stop_signal, server.loop);
	if (server_connect(&server, argv[1]))
		g_main_loop_run(server.loop);
	else
		status = 1;
	server_close(&server);
	g_main_loop_unref(server.loop);
	dbus_shutdown();
	return status;
}
