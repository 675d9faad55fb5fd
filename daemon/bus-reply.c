/* Large replies, built a slice at a time. libdbus marshals some 10 MB
 * a second here: a year of a Planner1 report by day (4.6 MB, 11,000
 * rows) took 300-400 ms in one go, a stall of the whole daemon. A
 * large reply appends the elements of its arrays a few milliseconds'
 * worth per dispatch of an idle source at the default priority, so
 * the loop answers other calls in between, and is sent once whole.
 * Until then its call counts as unanswered (bus_drain() waits for it);
 * a closing bus finishes every one at once (bus_reply_finish_all()). */
#include "bus-private.h"
#include "loop-watch.h"

/* Main-loop time one slice may take, and elements appended between two
 * looks at the clock. */
#define SLICE_USEC 3000
#define SLICE_CHECK 16

typedef struct {
	Bus *bus;
	BusCall *call;
	GVariant *reply;	/* the tuple */
	DBusMessage *message;
	DBusMessageIter body;
	DBusMessageIter array;	/* open on child `child` when `open` */
	GVariant *open;		/* the array being appended, or NULL */
	gsize child;		/* next child of the reply */
	gsize element;		/* next element of `open` */
	GSource *source;
} BusLargeReply;

static void
large_reply_free(BusLargeReply *r)
{
	if (r->open != NULL) {
		dbus_message_iter_abandon_container_if_open(&r->body,
							    &r->array);
		g_variant_unref(r->open);
	}
	if (r->source != NULL) {
		g_source_destroy(r->source);
		g_source_unref(r->source);
	}
	g_ptr_array_remove_fast(r->bus->large_replies, r);
	dbus_message_unref(r->message);
	g_variant_unref(r->reply);
	g_free(r);
}

/* Appends the next child of the reply whole, or opens it if it is an
 * array, whose elements then come one by one. */
static gboolean
append_child(BusLargeReply *r)
{
	g_autoptr(GVariant) child = g_variant_get_child_value(r->reply,
							     r->child);

	if (!g_variant_is_of_type(child, G_VARIANT_TYPE_ARRAY)) {
		r->child++;
		return bus_append_value(&r->body, child, 0);
	}
	if (!dbus_message_iter_open_container(
		    &r->body, DBUS_TYPE_ARRAY,
		    g_variant_get_type_string(child) + 1, &r->array))
		return FALSE;
	r->open = g_steal_pointer(&child);
	r->element = 0;
	return TRUE;
}

static gboolean
append_element(BusLargeReply *r)
{
	g_autoptr(GVariant) element = NULL;

	if (r->element == g_variant_n_children(r->open)) {
		g_clear_pointer(&r->open, g_variant_unref);
		r->child++;
		return dbus_message_iter_close_container(&r->body, &r->array);
	}
	element = g_variant_get_child_value(r->open, r->element++);
	return bus_append_value(&r->array, element, 1);
}

static gboolean
whole(const BusLargeReply *r)
{
	return r->open == NULL && r->child == g_variant_n_children(r->reply);
}

/* Appends until the reply is whole or `until` (monotonic; 0: no end)
 * has passed; FALSE when a value cannot be carried. */
static gboolean
append_slice(BusLargeReply *r, gint64 until)
{
	for (guint n = 1; !whole(r); n++) {
		if (!(r->open ? append_element(r) : append_child(r)))
			return FALSE;
		if (until && n % SLICE_CHECK == 0 &&
		    g_get_monotonic_time() >= until)
			break;
	}
	return TRUE;
}

/* Sends or refuses; frees the reply either way. */
static void
large_reply_end(BusLargeReply *r, gboolean ok)
{
	BusCall *call = r->call;
	DBusMessage *message = dbus_message_ref(r->message);

	large_reply_free(r);
	if (ok)
		bus_call_send(call, message);
	else
		bus_call_refuse_unencodable(call);
	dbus_message_unref(message);
}

static gboolean
step(gpointer user_data)
{
	BusLargeReply *r = user_data;
	LOOP_WORK_CALL("reply", r->call->interface->name,
		       r->call->method->name);
	gboolean ok = append_slice(r, g_get_monotonic_time() + SLICE_USEC);

	if (ok && !whole(r))
		return G_SOURCE_CONTINUE;
	large_reply_end(r, ok);
	return G_SOURCE_REMOVE;
}

void
bus_reply_finish_all(Bus *bus)
{
	while (bus->large_replies->len > 0) {
		BusLargeReply *r = bus->large_replies->pdata[0];

		large_reply_end(r, append_slice(r, 0));
	}
}

static BusLargeReply *
large_reply_new(BusCall *call, GVariant *reply)
{
	BusLargeReply *r = g_new0(BusLargeReply, 1);

	r->bus = call->bus;
	r->call = call;
	r->reply = reply;
	r->message = dbus_message_new_method_return(call->message);
	if (r->message == NULL)
		g_error("out of memory");
	dbus_message_iter_init_append(r->message, &r->body);
	g_ptr_array_add(r->bus->large_replies, r);
	return r;
}

void
bus_call_return_large(BusCall *call, GVariant *reply)
{
	g_autoptr(GVariant) owned = reply ? g_variant_ref_sink(reply) : NULL;
	BusLargeReply *r;

	g_return_if_fail(call != NULL);
	/* No bus to come back to, or nobody waiting: no need to wait. */
	if (call->bus == NULL || owned == NULL ||
	    dbus_message_get_no_reply(call->message)) {
		bus_call_return(call, owned);
		return;
	}
	if (!bus_call_check_reply(call, owned))
		return;
	r = large_reply_new(call, g_steal_pointer(&owned));
	r->source = g_idle_source_new();
	g_source_set_priority(r->source, G_PRIORITY_DEFAULT);
	g_source_set_callback(r->source, step, r, NULL);
	g_source_set_static_name(r->source, "slotd large reply");
	g_source_attach(r->source, r->bus->context);
}
