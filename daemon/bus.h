/* The D-Bus side: libdbus on the GLib main loop and a small
 * table-driven object layer. Only bus*.c include <dbus/dbus.h>.
 *
 * Handlers never see libdbus: the layer checks the incoming signature
 * against the table, converts the body to a GVariant tuple, checks the
 * caller's role, and calls the handler. A handler answers now or later
 * with bus_call_return() / bus_call_return_error(); every BusCall is
 * answered exactly once. Introspection XML is generated from the
 * tables; signals not declared in a table are refused. */
#pragma once

#include <glib.h>
#include <glib-object.h> /* GCallback; a typedef only, no link */

typedef struct _Bus Bus;
typedef struct _BusCall BusCall;

typedef enum {
	BUS_ROLE_NONE = 0,
	BUS_ROLE_READ = 1 << 0,
	BUS_ROLE_BOOK = 1 << 1,
	BUS_ROLE_ADMIN = 1 << 2,
	BUS_ROLE_PLANNER = 1 << 3,	/* waitlists */
	BUS_ROLE_GATEWAY = 1 << 4,	/* the notification gateway */
} BusRole;

#define BUS_N_ROLES 5

/* `args` is the body, a tuple of in_signature; it belongs to the call
 * and stays valid until the call is answered. */
typedef void (*BusMethodHandler)(BusCall *call, GVariant *args,
				 gpointer user_data);

typedef struct {
	const char *name;
	const char *in_signature;  /* body signature, "" for none */
	const char *in_names;	   /* "service,query" */
	const char *out_signature;
	const char *out_names;
	BusMethodHandler handler;
	BusRole role;		   /* the role a caller needs */
	const char *const *errors; /* error names it may return (docs) */
	const char *doc;	   /* one line, into introspection */
} BusMethod;

typedef struct {
	const char *name;
	const char *signature;
	const char *arg_names;
	const char *doc;
} BusSignal;

typedef struct {
	const char *name;	   /* "org.slotd.Scheduler1" */
	const BusMethod *methods;  /* ends with { NULL } */
	const BusSignal *signals;  /* ends with { NULL }, may be NULL */
} BusInterface;

/* Maps the caller's uid and groups to the roles it has. */
typedef BusRole (*BusRoleFunc)(guint32 uid, const guint32 *gids,
			       guint n_gids, gpointer user_data);

typedef enum {
	BUS_TYPE_SYSTEM,
	BUS_TYPE_SESSION,
	BUS_TYPE_ADDRESS,
} BusType;

/* Connects on the default GMainContext and requests `name` (fails if
 * another owner has it). */
Bus *bus_new(BusType type, const char *address, const char *name,
	     GError **error);
/* Releases the name, flushes pending replies, closes and frees. */
void bus_free(Bus *bus);
void bus_set_role_func(Bus *bus, BusRoleFunc func, gpointer user_data,
		       GDestroyNotify destroy);
/* Called once when the bus connection is lost, as
 * void func(gpointer user_data). */
void bus_set_disconnect_func(Bus *bus, GCallback func, gpointer user_data);
/* Names the group that grants `role`, for the AccessDenied message
 * ("needs the admin role (group slotd-admin)"). */
void bus_set_role_group(Bus *bus, BusRole role, const char *group);
gboolean bus_register_object(Bus *bus, const char *path,
			     const BusInterface *const *interfaces,
			     gpointer user_data, GError **error);
/* The introspection XML the object answers with. */
char *bus_introspect_xml(const BusInterface *const *interfaces);

/* `reply` is a tuple of the out signature, or NULL for "()". Floating
 * references are sunk. Frees the call. */
void bus_call_return(BusCall *call, GVariant *reply);
/* bus_call_return() for a reply that may be large (a year of report
 * rows): the elements of its arrays are appended a few milliseconds'
 * worth at a time between the loop's other work, and it is sent when
 * whole. Frees the call then. */
void bus_call_return_large(BusCall *call, GVariant *reply);
/* A reply written straight into the libdbus message, for a hot method
 * whose reply would otherwise be built as a GVariant and then copied
 * value by value (FindSlots). Open and close containers with D-Bus type
 * letters: 'a' with the element's signature, 'r' a struct, 'e' a dict
 * entry, 'v' with the value's signature. bus_writer_return() checks
 * the body against the method's out signature, sends it and frees the
 * call and the writer. */
typedef struct _BusWriter BusWriter;
BusWriter *bus_call_writer(BusCall *call);
/* Room for about `bytes` of reply, so that a large one is not copied
 * as it grows. */
void bus_writer_reserve(BusWriter *w, gsize bytes);
void bus_writer_open(BusWriter *w, char type, const char *signature);
void bus_writer_close(BusWriter *w);
void bus_writer_string(BusWriter *w, const char *value);
void bus_writer_int32(BusWriter *w, gint32 value);
void bus_writer_uint32(BusWriter *w, guint32 value);
void bus_writer_int64(BusWriter *w, gint64 value);
void bus_writer_strv(BusWriter *w, const char *const *value);
/* One {sv} entry of an a{sv} being written. */
void bus_writer_entry_string(BusWriter *w, const char *key,
			     const char *value);
void bus_writer_entry_int32(BusWriter *w, const char *key, gint32 value);
void bus_writer_entry_int64(BusWriter *w, const char *key, gint64 value);
void bus_writer_entry_strv(BusWriter *w, const char *key,
			   const char *const *value);
void bus_writer_return(BusWriter *w);
/* Values the same in many replies (the dict entries every slot of one
 * offering carries alike), written once: a scratch writer takes the
 * same calls, and bus_writer_finish_scratch() gives its bytes (NULL
 * when a container was left open) and frees it; bus_writer_put() puts
 * them into a reply. They must begin with a struct or a dict entry. */
BusWriter *bus_writer_new_scratch(void);
GBytes *bus_writer_finish_scratch(BusWriter *w);
void bus_writer_put(BusWriter *w, GBytes *bytes);
/* A reply that will be the same for other calls of the method (the
 * ListServices of one region snapshot): bus_writer_return_keep() sends
 * it and keeps it in *kept (replacing what was there);
 * bus_call_return_kept() answers another call of the same method with
 * a copy, only its addressee and reply serial changed. */
typedef struct _BusKeptReply BusKeptReply;
void bus_writer_return_keep(BusWriter *w, BusKeptReply **kept);
void bus_call_return_kept(BusCall *call, BusKeptReply *kept);
void bus_kept_reply_free(BusKeptReply *kept);
/* Answers a method whose out signature is "h" with `fd`, which it
 * takes and closes. The caller's connection must be able to take file
 * descriptors, or the bus refuses to deliver the reply. Frees the call. */
void bus_call_return_fd(BusCall *call, int fd);
/* Maps the GError (domain, code) to its D-Bus error name. Frees the
 * call. */
void bus_call_return_error(BusCall *call, const GError *error);
/* BUS_UID_UNKNOWN for a BUS_ROLE_NONE call whose caller was never
 * looked up. */
#define BUS_UID_UNKNOWN G_MAXUINT32
/* The roles the caller's uid and groups grant (checked before the
 * handler runs: at least the method's). */
BusRole bus_call_roles(const BusCall *call);
guint32 bus_call_uid(const BusCall *call);
const char *bus_call_sender(const BusCall *call);
const char *bus_call_member(const BusCall *call);
/* The method's out signature as its table gives it ("" for none). */
const char *bus_call_out_signature(const BusCall *call);
/* Number of calls received but not answered yet. */
guint bus_pending_calls(Bus *bus);
/* Blocks until every queued outgoing message is written. */
void bus_flush(Bus *bus);
/* Stopping: the first call gives up the well-known name and waits for
 * the bus to confirm, so that every call routed to us before is queued
 * here; each call dispatches what is queued. Returns the number of
 * calls received but not answered yet (0 once the bus is gone). */
guint bus_drain(Bus *bus);
/* Callers whose credentials are cached (diagnostics and tests). */
guint bus_cached_callers(Bus *bus);

gboolean bus_emit_signal(Bus *bus, const char *path, const char *interface,
			 const char *name, GVariant *args);

/* Told of every method call answered (metrics): interface and method
 * as in the tables, NULL for names no table has; the error name, NULL
 * on success; microseconds from receiving the call to the answer. One
 * for the process; NULL turns it off. */
typedef void (*BusCallObserver)(const char *interface, const char *method,
				const char *error, gint64 usec,
				gpointer user_data);
void bus_set_call_observer(BusCallObserver observer, gpointer user_data);

/* The D-Bus error name of a GError ("org.slotd.Error.SlotFull"). */
const char *bus_error_name(const GError *error);

/* One row of the SLOTD_ERROR -> D-Bus error name table. */
typedef struct {
	gint code;	     /* a SlotdErrorCode */
	const char *name;    /* "org.slotd.Error.SlotFull" */
	const char *summary; /* one line, for the documentation */
} BusErrorName;

/* The whole table, in SlotdErrorCode order, for generating docs. */
const BusErrorName *bus_error_names(guint *ret_n);

/* Errors of the bus layer itself (connecting, tables). */
#define BUS_ERROR (bus_error_quark())
GQuark bus_error_quark(void);

typedef enum {
	BUS_ERROR_FAILED,	 /* no bus, or the bus refused us */
	BUS_ERROR_NAME_TAKEN,	 /* another process owns the name */
	BUS_ERROR_INVALID_TABLE, /* a bad path, name or signature */
} BusErrorCode;
