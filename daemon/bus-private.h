/* Shared between bus.c (connection, loop glue, credentials) and
 * bus-object.c (tables, conversion, introspection, replies). */
#pragma once

#include <dbus/dbus.h>

#include "bus.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DBusMessage, dbus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DBusPendingCall, dbus_pending_call_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DBusError, dbus_error_free)

/* Nesting of containers we accept in a body, and produce in a reply. */
#define BUS_MAX_DEPTH 32

#define BUS_NAME_INVALID_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define BUS_NAME_ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define BUS_NAME_FAILED "org.slotd.Error.Failed"

/* One object path and the interfaces it carries. */
typedef struct {
	char *path;
	const BusInterface *const *interfaces;
	gpointer user_data;
} BusObject;

struct _Bus {
	DBusConnection *connection;
	GMainContext *context;
	GSource *dispatch_source;
	GHashTable *watches;	 /* DBusWatch -> GSource */
	GHashTable *timeouts;	 /* DBusTimeout -> GSource */
	GHashTable *objects;	 /* path -> BusObject */
	GHashTable *calls;	 /* BusCall set: received, not answered */
	GHashTable *credentials; /* unique name -> BusCredentials */
	GHashTable *lookups;	 /* unique name -> BusLookup in flight */
	GPtrArray *large_replies; /* BusLargeReply being built */
	char *name;
	char *role_groups[BUS_N_ROLES]; /* by bit of BusRole, for messages */
	gboolean disconnected;

	BusRoleFunc role_func;
	gpointer role_data;
	GDestroyNotify role_destroy;
	GCallback disconnect_func;
	gpointer disconnect_data;
};

struct _BusCall {
	Bus *bus; /* NULL once the bus is freed under an open call */
	DBusConnection *connection;
	DBusMessage *message;
	const BusInterface *interface;
	const BusMethod *method;
	gpointer user_data;
	GVariant *args;
	guint32 uid;
	BusRole roles;	/* what the caller's uid and groups grant */
	gint64 received;	/* monotonic, for the call observer */
};

/* bus-wire.c: a signal, or the return of `call`, whose arguments (a
 * tuple) are two or more basic values, marshalled in one piece; NULL
 * for other arguments (append them) or when libdbus would not take the
 * result. A new message, serial 0, as libdbus would build it. */
DBusMessage *bus_wire_signal(const char *path, const char *interface,
			     const char *name, GVariant *args);
DBusMessage *bus_wire_return(DBusMessage *call, GVariant *args);
/* The return to `call` with a body of `signature`, written value by
 * value in wire format (bus-wire.c); bus_wire_body_finish() checks it
 * whole against the signature, as a message read from the socket is.
 * Containers: 'a' with the element's signature, 'r' a struct, 'e' a
 * dict entry, 'v' with the value's signature. */
typedef struct {
	GByteArray *b;		/* header, then the body so far */
	guint32 fields;		/* length of the header's field array */
	guint body_at;
	guint depth;
	gboolean broken;	/* a close without an open, too deep, ... */
	struct {
		char type;
		guint length_at;	/* an array's length field */
		guint elements_at;	/* where its elements start */
	} open[BUS_MAX_DEPTH];
} BusWireBody;
void bus_wire_body_init(BusWireBody *w, DBusMessage *call,
			const char *signature);
/* Room for `bytes` more without growing the buffer on the way. */
void bus_wire_reserve(BusWireBody *w, gsize bytes);
void bus_wire_open(BusWireBody *w, char type, const char *signature);
void bus_wire_close(BusWireBody *w);
void bus_wire_string(BusWireBody *w, const char *value);
void bus_wire_u32(BusWireBody *w, guint32 value);	/* u, i */
void bus_wire_u64(BusWireBody *w, guint64 value);	/* t, x */
/* The message with serial 0, or NULL and `error`; clears `w`. */
DBusMessage *bus_wire_body_finish(BusWireBody *w, DBusError *error);
void bus_wire_body_clear(BusWireBody *w);
/* A scratch body: values written from an 8-aligned start with no
 * message around them (bus_wire_open and the rest work on it), whose
 * bytes bus_wire_put() puts into bodies later. They must begin with a
 * value aligned to 8 (a struct, a dict entry): then they are the same
 * bytes at any 8-aligned place. bus_wire_scratch_finish(): the bytes,
 * or NULL when a container was left open; clears `w`. */
void bus_wire_scratch_init(BusWireBody *w);
GBytes *bus_wire_scratch_finish(BusWireBody *w);
void bus_wire_put(BusWireBody *w, GBytes *bytes);
/* The return of `call` with the body of `kept` (a return to another
 * call): a copy with its reply serial and addressee changed, serial 0;
 * NULL when memory runs out. */
DBusMessage *bus_wire_return_again(DBusMessage *kept, DBusMessage *call);
/* The same for a call from the caller `addressed` was made for (by
 * bus_wire_return_again()): only the reply serial changes. */
DBusMessage *bus_wire_return_serial(DBusMessage *addressed,
				    DBusMessage *call);

/* bus-object.c */
void bus_object_free(gpointer object);
/* Answers or starts every method call that reaches us. */
void bus_object_dispatch(Bus *bus, DBusMessage *message);
/* The role check passed: run the handler. */
void bus_call_run(BusCall *call);
/* Answers with an error name and message, and frees the call. */
void bus_call_refuse(BusCall *call, const char *name, const char *message);
/* Frees a call: after its answer, or without one when the bus goes. */
void bus_call_drop(BusCall *call);
/* Whether `reply` (a tuple or NULL) fits the method's out signature;
 * FALSE after refusing the call with Failed. */
gboolean bus_call_check_reply(BusCall *call, GVariant *reply);
/* Refuses with Failed a call whose reply libdbus cannot carry. */
void bus_call_refuse_unencodable(BusCall *call);
/* Sends the reply (unless the caller wants none) and frees the call. */
void bus_call_send(BusCall *call, DBusMessage *message);
/* Appends one GVariant value to a libdbus body, `depth` containers
 * deep; FALSE for a value D-Bus cannot carry. */
gboolean bus_append_value(DBusMessageIter *iter, GVariant *value,
			  guint depth);

/* bus-reply.c */
/* Builds every large reply still in progress now and sends it (the
 * bus is closing). */
void bus_reply_finish_all(Bus *bus);

/* bus.c */
/* Looks the caller up (maybe asynchronously), then runs or refuses. */
void bus_authorize(BusCall *call);
/* The cached uid of a unique name, or BUS_UID_UNKNOWN. */
guint32 bus_cached_uid(Bus *bus, const char *sender);
