/* The table-driven object layer: finding the method a call names,
 * checking its signature, converting bodies to and from GVariant,
 * introspection generated from the tables, signals and error replies. */
#include "bus-private.h"
#include "loop-watch.h"

#include <string.h>
#include <unistd.h>

#include <slotd/plugin.h>

/* ---- error names ----------------------------------------------------- */

static const BusErrorName error_names[] = {
	{ SLOTD_ERROR_FAILED, BUS_NAME_FAILED,
	  "An internal error; the daemon log has the details" },
	{ SLOTD_ERROR_INVALID_ARGS, BUS_NAME_INVALID_ARGS,
	  "An argument is missing, malformed, of the wrong type or unknown" },
	{ SLOTD_ERROR_ACCESS_DENIED, BUS_NAME_ACCESS_DENIED,
	  "The caller's user or groups lack the role the method needs" },
	{ SLOTD_ERROR_NO_SUCH_SERVICE, "org.slotd.Error.NoSuchService",
	  "No service has that id" },
	{ SLOTD_ERROR_NO_SUCH_UNIT, "org.slotd.Error.NoSuchUnit",
	  "No unit has that id" },
	{ SLOTD_ERROR_NO_SUCH_SLOT, "org.slotd.Error.NoSuchSlot",
	  "No slot has that id, or it is no longer offered" },
	{ SLOTD_ERROR_NO_SUCH_BOOKING, "org.slotd.Error.NoSuchBooking",
	  "No booking has that id" },
	{ SLOTD_ERROR_NO_SUCH_HOLD, "org.slotd.Error.NoSuchHold",
	  "The hold is unknown or has expired" },
	{ SLOTD_ERROR_SLOT_FULL, "org.slotd.Error.SlotFull",
	  "The slot has no free seat left" },
	{ SLOTD_ERROR_INVALID_CLIENT_REF, "org.slotd.Error.InvalidClientRef",
	  "The client reference is malformed or looks like a personal "
	  "identity code" },
	{ SLOTD_ERROR_POLICY_VIOLATION, "org.slotd.Error.PolicyViolation",
	  "A rule of the service refuses the request; the message says which" },
	{ SLOTD_ERROR_DEADLINE_UNREACHABLE,
	  "org.slotd.Error.DeadlineUnreachable",
	  "No slot meets the deadline; the message names the earliest one" },
	{ SLOTD_ERROR_CONFLICT, "org.slotd.Error.Conflict",
	  "The request conflicts with the booking's current state" },
	{ SLOTD_ERROR_SERVICE_UNAVAILABLE,
	  "org.slotd.Error.ServiceUnavailable",
	  "The service's plugin is not loaded" },
	{ SLOTD_ERROR_STORAGE_UNAVAILABLE,
	  "org.slotd.Error.StorageUnavailable",
	  "The database cannot be used right now; try again later" },
	{ SLOTD_ERROR_INVALID_CONFIG, "org.slotd.Error.InvalidConfig",
	  "The configuration was refused; the message names file and line" },
	{ SLOTD_ERROR_NO_SUCH_TOKEN, "org.slotd.Error.NoSuchToken",
	  "No feed token has that id" },
	{ SLOTD_ERROR_NO_SUCH_ENTRY, "org.slotd.Error.NoSuchEntry",
	  "No waitlist entry has that id, or it has left the list" },
	{ SLOTD_ERROR_NO_SUCH_PRACTITIONER,
	  "org.slotd.Error.NoSuchPractitioner",
	  "No practitioner has that id (rooms and vehicles are no "
	  "practitioners)" },
};

const BusErrorName *
bus_error_names(guint *ret_n)
{
	if (ret_n)
		*ret_n = G_N_ELEMENTS(error_names);
	return error_names;
}

static const BusErrorName *
error_lookup(const GError *error)
{
	if (!error || error->domain != SLOTD_ERROR)
		return NULL;
	for (guint i = 0; i < G_N_ELEMENTS(error_names); i++)
		if (error_names[i].code == error->code)
			return &error_names[i];
	return NULL;
}

const char *
bus_error_name(const GError *error)
{
	const BusErrorName *entry = error_lookup(error);

	return entry ? entry->name : BUS_NAME_FAILED;
}

/* ---- sending --------------------------------------------------------- */

static void G_GNUC_PRINTF(4, 5)
send_error(DBusConnection *connection, DBusMessage *call, const char *name,
	   const char *format, ...)
{
	g_autoptr(DBusMessage) reply = NULL;
	g_autofree char *text = NULL;
	g_autofree char *valid = NULL;
	va_list args;

	if (dbus_message_get_no_reply(call))
		return;
	va_start(args, format);
	text = g_strdup_vprintf(format, args);
	va_end(args);
	valid = g_utf8_make_valid(text, -1);
	reply = dbus_message_new_error(call, name, valid);
	if (!reply || !dbus_connection_send(connection, reply, NULL))
		g_error("out of memory");
}

/* ---- finding things in the tables ------------------------------------ */

static const BusInterface *
object_interface(const BusObject *object, const char *name)
{
	for (guint i = 0; object->interfaces[i]; i++)
		if (g_str_equal(object->interfaces[i]->name, name))
			return object->interfaces[i];
	return NULL;
}

static const BusMethod *
interface_method(const BusInterface *interface, const char *name)
{
	for (const BusMethod *m = interface->methods; m && m->name; m++)
		if (g_str_equal(m->name, name))
			return m;
	return NULL;
}

static const BusSignal *
interface_signal(const BusInterface *interface, const char *name)
{
	for (const BusSignal *s = interface->signals; s && s->name; s++)
		if (g_str_equal(s->name, name))
			return s;
	return NULL;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the path components just below `path`, sorted. */
static GPtrArray *
object_children(Bus *bus, const char *path)
{
	GPtrArray *children = g_ptr_array_new_with_free_func(g_free);
	gsize len = g_str_equal(path, "/") ? 0 : strlen(path);
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, bus->objects);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const char *other = key;
		char *child;

		if (strncmp(other, path, len) != 0 || other[len] != '/' ||
		    other[len + 1] == '\0')
			continue;
		child = g_strndup(other + len + 1,
				  strcspn(other + len + 1, "/"));
		if (g_ptr_array_find_with_equal_func(children, child,
						     g_str_equal, NULL))
			g_free(child);
		else
			g_ptr_array_add(children, child);
	}
	g_ptr_array_sort(children, compare_names);
	return children;
}

/* ---- checking the tables --------------------------------------------- */

static guint
signature_count(const char *signature)
{
	DBusSignatureIter iter;
	guint n = 0;

	if (!signature || !*signature)
		return 0;
	dbus_signature_iter_init(&iter, signature);
	do
		n++;
	while (dbus_signature_iter_next(&iter));
	return n;
}

static gboolean G_GNUC_PRINTF(2, 3)
table_error(GError **error, const char *format, ...)
{
	va_list args;

	va_start(args, format);
	g_propagate_error(error, g_error_new_valist(BUS_ERROR,
						    BUS_ERROR_INVALID_TABLE,
						    format, args));
	va_end(args);
	return FALSE;
}

/* A file descriptor is never taken in (read_basic refuses one); a reply
 * may carry one only as the whole out signature "h" (bus_call_return_fd). */
static gboolean
check_args(const char *interface, const char *member, const char *signature,
	   const char *names, gboolean fd_out, GError **error)
{
	const char *sig = signature ? signature : "";
	g_auto(GStrv) split = NULL;

	if (!dbus_signature_validate(sig, NULL) ||
	    (strchr(sig, DBUS_TYPE_UNIX_FD) &&
	     !(fd_out && g_str_equal(sig, DBUS_TYPE_UNIX_FD_AS_STRING))))
		return table_error(error, "%s.%s: “%s” is not a signature we "
				   "can carry", interface, member, sig);
	if (!names)
		return TRUE;
	split = *names ? g_strsplit(names, ",", -1) : g_new0(char *, 1);
	if (g_strv_length(split) != signature_count(sig))
		return table_error(error, "%s.%s: names “%s” do not match “%s”",
				   interface, member, names, sig);
	return TRUE;
}

static gboolean
check_interface(const BusInterface *interface, GError **error)
{
	const char *name = interface->name ? interface->name : "";

	if (!dbus_validate_interface(name, NULL) ||
	    g_str_has_prefix(name, "org.freedesktop.DBus"))
		return table_error(error, "“%s” is not an interface name we "
				   "may register", name);
	for (const BusMethod *m = interface->methods; m && m->name; m++) {
		if (!dbus_validate_member(m->name, NULL) || !m->handler)
			return table_error(error, "%s.%s: bad name or no "
					   "handler", name, m->name);
		if (!check_args(name, m->name, m->in_signature, m->in_names,
				FALSE, error) ||
		    !check_args(name, m->name, m->out_signature, m->out_names,
				TRUE, error))
			return FALSE;
	}
	for (const BusSignal *s = interface->signals; s && s->name; s++) {
		if (!dbus_validate_member(s->name, NULL))
			return table_error(error, "%s.%s: bad signal name",
					   name, s->name);
		if (!check_args(name, s->name, s->signature, s->arg_names,
				FALSE, error))
			return FALSE;
	}
	return TRUE;
}

void
bus_object_free(gpointer data)
{
	BusObject *object = data;

	g_free(object->path);
	g_free(object);
}

gboolean
bus_register_object(Bus *bus, const char *path,
		    const BusInterface *const *interfaces, gpointer user_data,
		    GError **error)
{
	BusObject *object;

	g_return_val_if_fail(bus != NULL, FALSE);
	g_return_val_if_fail(path != NULL && interfaces != NULL, FALSE);
	if (!dbus_validate_path(path, NULL) ||
	    g_hash_table_contains(bus->objects, path))
		return table_error(error, "Cannot register an object at “%s”: "
				   "bad or already used path", path);
	for (guint i = 0; interfaces[i]; i++)
		if (!check_interface(interfaces[i], error))
			return FALSE;
	object = g_new0(BusObject, 1);
	object->path = g_strdup(path);
	object->interfaces = interfaces;
	object->user_data = user_data;
	g_hash_table_insert(bus->objects, object->path, object);
	return TRUE;
}

/* ---- D-Bus body -> GVariant ------------------------------------------ */

static GVariant *read_value(DBusMessageIter *iter, guint depth,
			    GError **error);

static GVariant *
invalid(GError **error, const char *what)
{
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "The arguments contain %s", what);
	return NULL;
}

static GVariant *
read_string(int type, const char *text, GError **error)
{
	/* libdbus validated these already; GLib's rules are checked again
	 * so that a disagreement is an error reply, not a critical. */
	switch (type) {
	case DBUS_TYPE_STRING:
		if (!g_utf8_validate(text, -1, NULL))
			return invalid(error, "a string that is not UTF-8");
		return g_variant_new_string(text);
	case DBUS_TYPE_OBJECT_PATH:
		if (!g_variant_is_object_path(text))
			return invalid(error, "a malformed object path");
		return g_variant_new_object_path(text);
	default:
		if (!g_variant_is_signature(text))
			return invalid(error, "a malformed signature");
		return g_variant_new_signature(text);
	}
}

static GVariant *
read_basic(DBusMessageIter *iter, int type, GError **error)
{
	DBusBasicValue v;

	/* get_basic would dup a file descriptor we never asked for. */
	if (type == DBUS_TYPE_UNIX_FD)
		return invalid(error, "a file descriptor (not accepted)");
	dbus_message_iter_get_basic(iter, &v);
	switch (type) {
	case DBUS_TYPE_BYTE:
		return g_variant_new_byte(v.byt);
	case DBUS_TYPE_BOOLEAN:
		return g_variant_new_boolean(v.bool_val);
	case DBUS_TYPE_INT16:
		return g_variant_new_int16(v.i16);
	case DBUS_TYPE_UINT16:
		return g_variant_new_uint16(v.u16);
	case DBUS_TYPE_INT32:
		return g_variant_new_int32(v.i32);
	case DBUS_TYPE_UINT32:
		return g_variant_new_uint32(v.u32);
	case DBUS_TYPE_INT64:
		return g_variant_new_int64(v.i64);
	case DBUS_TYPE_UINT64:
		return g_variant_new_uint64(v.u64);
	case DBUS_TYPE_DOUBLE:
		return g_variant_new_double(v.dbl);
	case DBUS_TYPE_STRING:
	case DBUS_TYPE_OBJECT_PATH:
	case DBUS_TYPE_SIGNATURE:
		return read_string(type, v.str, error);
	default:
		return invalid(error, "a value of an unknown type");
	}
}

static GVariant *
read_container(DBusMessageIter *iter, guint depth, GError **error)
{
	char *dbus_signature = dbus_message_iter_get_signature(iter);
	g_autofree char *signature = g_strdup(dbus_signature);
	GVariantBuilder builder;
	DBusMessageIter sub;

	dbus_free(dbus_signature);
	g_variant_builder_init(&builder, G_VARIANT_TYPE(signature));
	dbus_message_iter_recurse(iter, &sub);
	while (dbus_message_iter_get_arg_type(&sub) != DBUS_TYPE_INVALID) {
		GVariant *child = read_value(&sub, depth, error);

		if (!child) {
			g_variant_builder_clear(&builder);
			return NULL;
		}
		g_variant_builder_add_value(&builder, child);
		dbus_message_iter_next(&sub);
	}
	return g_variant_builder_end(&builder);
}

static GVariant *
read_value(DBusMessageIter *iter, guint depth, GError **error)
{
	int type = dbus_message_iter_get_arg_type(iter);
	DBusMessageIter sub;
	GVariant *child;

	if (dbus_type_is_basic(type))
		return read_basic(iter, type, error);
	/* Each container is one level; variants inside variants are how a
	 * caller would otherwise make us recurse without bound. */
	if (depth >= BUS_MAX_DEPTH) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "The arguments are nested deeper than %d levels",
			    BUS_MAX_DEPTH);
		return NULL;
	}
	if (type != DBUS_TYPE_VARIANT)
		return read_container(iter, depth + 1, error);
	dbus_message_iter_recurse(iter, &sub);
	child = read_value(&sub, depth + 1, error);
	return child ? g_variant_new_variant(child) : NULL;
}

/* The body as a tuple of its arguments; "()" for an empty body. */
static GVariant *
message_read_args(DBusMessage *message, GError **error)
{
	GVariantBuilder builder;
	DBusMessageIter iter;

	g_variant_builder_init(&builder, G_VARIANT_TYPE_TUPLE);
	if (dbus_message_iter_init(message, &iter)) {
		do {
			GVariant *value = read_value(&iter, 0, error);

			if (!value) {
				g_variant_builder_clear(&builder);
				return NULL;
			}
			g_variant_builder_add_value(&builder, value);
		} while (dbus_message_iter_next(&iter));
	}
	return g_variant_ref_sink(g_variant_builder_end(&builder));
}

/* ---- GVariant -> D-Bus body ------------------------------------------ */


static gboolean
append_basic(DBusMessageIter *iter, GVariant *value)
{
	/* A basic type's letter is the same in both type systems. */
	char type = g_variant_get_type_string(value)[0];
	DBusBasicValue v = { 0 };

	switch (type) {
	case DBUS_TYPE_BOOLEAN: /* 1 byte in GVariant, 4 in libdbus */
		v.bool_val = g_variant_get_boolean(value);
		break;
	case DBUS_TYPE_STRING:
	case DBUS_TYPE_OBJECT_PATH:
	case DBUS_TYPE_SIGNATURE:
		v.str = (char *)g_variant_get_string(value, NULL);
		break;
	case DBUS_TYPE_UNIX_FD:
		return FALSE; /* we pass no file descriptors */
	default:
		/* Fixed-size numbers hold the same native bytes in both, and
		 * in normal form the size is the type's size. */
		if (!g_variant_is_normal_form(value))
			return FALSE;
		memcpy(&v, g_variant_get_data(value),
		       g_variant_get_size(value));
		break;
	}
	return dbus_message_iter_append_basic(iter, type, &v);
}

static gboolean
close_or_abandon(DBusMessageIter *iter, DBusMessageIter *sub, gboolean ok)
{
	if (ok)
		return dbus_message_iter_close_container(iter, sub);
	dbus_message_iter_abandon_container(iter, sub);
	return FALSE;
}

static gboolean
append_children(DBusMessageIter *iter, GVariant *value, guint depth)
{
	GVariantIter children;
	GVariant *child;

	g_variant_iter_init(&children, value);
	while ((child = g_variant_iter_next_value(&children))) {
		gboolean ok = bus_append_value(iter, child, depth);

		g_variant_unref(child);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

static gboolean
append_variant(DBusMessageIter *iter, GVariant *value, guint depth)
{
	g_autoptr(GVariant) child = g_variant_get_variant(value);
	const char *signature = g_variant_get_type_string(child);
	DBusMessageIter sub;

	/* Maybe types and empty tuples exist in GVariant only. */
	if (!dbus_signature_validate_single(signature, NULL) ||
	    !dbus_message_iter_open_container(iter, DBUS_TYPE_VARIANT,
					      signature, &sub))
		return FALSE;
	return close_or_abandon(iter, &sub,
				bus_append_value(&sub, child, depth + 1));
}

gboolean
bus_append_value(DBusMessageIter *iter, GVariant *value, guint depth)
{
	const char *type = g_variant_get_type_string(value);
	DBusMessageIter sub;
	int container;

	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BASIC))
		return append_basic(iter, value);
	if (depth >= BUS_MAX_DEPTH)
		return FALSE;
	switch (g_variant_classify(value)) {
	case G_VARIANT_CLASS_VARIANT:
		return append_variant(iter, value, depth);
	case G_VARIANT_CLASS_ARRAY:
		container = DBUS_TYPE_ARRAY;
		break;
	case G_VARIANT_CLASS_TUPLE:
		container = DBUS_TYPE_STRUCT;
		break;
	case G_VARIANT_CLASS_DICT_ENTRY:
		container = DBUS_TYPE_DICT_ENTRY;
		break;
	default:
		return FALSE; /* maybe */
	}
	if (container == DBUS_TYPE_STRUCT && g_variant_n_children(value) == 0)
		return FALSE;
	if (!dbus_message_iter_open_container(
		    iter, container,
		    container == DBUS_TYPE_ARRAY ? type + 1 : NULL, &sub))
		return FALSE;
	return close_or_abandon(iter, &sub,
				append_children(&sub, value, depth + 1));
}

/* Appends the members of `args`, a tuple, as the body. */
static gboolean
message_append_args(DBusMessage *message, GVariant *args)
{
	DBusMessageIter iter;

	dbus_message_iter_init_append(message, &iter);
	return append_children(&iter, args, 0);
}

/* ---- introspection --------------------------------------------------- */

static const char introspect_head[] =
	"<!DOCTYPE node PUBLIC "
	"\"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
	" \"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd\">\n"
	"<node>\n";

static const char introspect_standard[] =
	"  <interface name=\"org.freedesktop.DBus.Introspectable\">\n"
	"    <method name=\"Introspect\">\n"
	"      <arg type=\"s\" name=\"xml_data\" direction=\"out\"/>\n"
	"    </method>\n"
	"  </interface>\n"
	"  <interface name=\"org.freedesktop.DBus.Peer\">\n"
	"    <method name=\"Ping\"/>\n"
	"    <method name=\"GetMachineId\">\n"
	"      <arg type=\"s\" name=\"machine_uuid\" direction=\"out\"/>\n"
	"    </method>\n"
	"  </interface>\n";

static void
xml_args(GString *xml, const char *signature, const char *names,
	 const char *direction)
{
	g_auto(GStrv) split = names && *names ? g_strsplit(names, ",", -1) :
						NULL;
	DBusSignatureIter iter;
	guint i = 0;

	if (!signature || !*signature)
		return;
	dbus_signature_iter_init(&iter, signature);
	do {
		char *type = dbus_signature_iter_get_signature(&iter);
		g_autofree char *fallback = g_strdup_printf("arg%u", i);
		const char *name = split && split[i] ? g_strstrip(split[i]) :
						       fallback;

		g_string_append_printf(xml,
				       "      <arg type=\"%s\" name=\"%s\"",
				       type, name);
		if (direction)
			g_string_append_printf(xml, " direction=\"%s\"",
					       direction);
		g_string_append(xml, "/>\n");
		dbus_free(type);
		i++;
	} while (dbus_signature_iter_next(&iter));
}

static void
xml_doc(GString *xml, const char *doc)
{
	g_autofree char *escaped = NULL;

	if (!doc || !*doc)
		return;
	escaped = g_markup_escape_text(doc, -1);
	g_string_append_printf(xml,
			       "      <annotation "
			       "name=\"org.gtk.GDBus.DocString\" "
			       "value=\"%s\"/>\n",
			       escaped);
}

static void
xml_interface(GString *xml, const BusInterface *interface)
{
	g_string_append_printf(xml, "  <interface name=\"%s\">\n",
			       interface->name);
	for (const BusMethod *m = interface->methods; m && m->name; m++) {
		g_string_append_printf(xml, "    <method name=\"%s\">\n",
				       m->name);
		xml_doc(xml, m->doc);
		xml_args(xml, m->in_signature, m->in_names, "in");
		xml_args(xml, m->out_signature, m->out_names, "out");
		g_string_append(xml, "    </method>\n");
	}
	for (const BusSignal *s = interface->signals; s && s->name; s++) {
		g_string_append_printf(xml, "    <signal name=\"%s\">\n",
				       s->name);
		xml_doc(xml, s->doc);
		xml_args(xml, s->signature, s->arg_names, NULL);
		g_string_append(xml, "    </signal>\n");
	}
	g_string_append(xml, "  </interface>\n");
}

static char *
introspect_build(const BusInterface *const *interfaces, GPtrArray *children)
{
	GString *xml = g_string_new(introspect_head);

	for (guint i = 0; interfaces && interfaces[i]; i++)
		xml_interface(xml, interfaces[i]);
	g_string_append(xml, introspect_standard);
	for (guint i = 0; children && i < children->len; i++)
		g_string_append_printf(xml, "  <node name=\"%s\"/>\n",
				       (char *)children->pdata[i]);
	g_string_append(xml, "</node>\n");
	return g_string_free(xml, FALSE);
}

char *
bus_introspect_xml(const BusInterface *const *interfaces)
{
	return introspect_build(interfaces, NULL);
}

static void
reply_introspect(Bus *bus, DBusMessage *message, const BusObject *object)
{
	const char *path = dbus_message_get_path(message);
	g_autoptr(GPtrArray) children = object_children(bus, path);
	g_autoptr(DBusMessage) reply = NULL;
	g_autofree char *xml = NULL;

	if (!object && children->len == 0) {
		send_error(bus->connection, message,
			   DBUS_ERROR_UNKNOWN_OBJECT,
			   "No object at path %s", path);
		return;
	}
	if (!dbus_message_has_signature(message, "")) {
		send_error(bus->connection, message, BUS_NAME_INVALID_ARGS,
			   "Introspect takes no arguments");
		return;
	}
	if (dbus_message_get_no_reply(message))
		return;
	xml = introspect_build(object ? object->interfaces : NULL, children);
	reply = dbus_message_new_method_return(message);
	if (!dbus_message_append_args(reply, DBUS_TYPE_STRING, &xml,
				      DBUS_TYPE_INVALID) ||
	    !dbus_connection_send(bus->connection, reply, NULL))
		g_error("out of memory");
}

/* ---- incoming calls -------------------------------------------------- */

static BusCallObserver call_observer;
static gpointer call_observer_data;

void
bus_set_call_observer(BusCallObserver observer, gpointer user_data)
{
	call_observer = observer;
	call_observer_data = user_data;
}

static void
observe(const BusInterface *interface, const BusMethod *method,
	const char *error, gint64 received)
{
	if (call_observer)
		call_observer(interface ? interface->name : NULL,
			      method ? method->name : NULL, error,
			      received ? g_get_monotonic_time() - received : 0,
			      call_observer_data);
}

static gboolean
is_introspect(const char *interface, const char *member)
{
	return g_str_equal(member, "Introspect") &&
	       (!interface ||
		g_str_equal(interface, DBUS_INTERFACE_INTROSPECTABLE));
}

/* The method a call names, or NULL after answering it with an error. */
static const BusMethod *
find_method(Bus *bus, DBusMessage *message, const BusObject *object,
	    const BusInterface **ret_interface)
{
	const char *path = dbus_message_get_path(message);
	const char *interface = dbus_message_get_interface(message);
	const char *member = dbus_message_get_member(message);
	const BusMethod *method = NULL;

	if (!object) {
		send_error(bus->connection, message,
			   DBUS_ERROR_UNKNOWN_OBJECT,
			   "No object at path %s", path);
		observe(NULL, NULL, DBUS_ERROR_UNKNOWN_OBJECT, 0);
		return NULL;
	}
	if (!interface) {
		/* No interface field: the first method of that name. */
		for (guint i = 0; !method && object->interfaces[i]; i++) {
			*ret_interface = object->interfaces[i];
			method = interface_method(*ret_interface, member);
		}
	} else if (!(*ret_interface = object_interface(object, interface))) {
		send_error(bus->connection, message,
			   DBUS_ERROR_UNKNOWN_INTERFACE,
			   "Object %s has no interface %s", path,
			   interface);
		observe(NULL, NULL, DBUS_ERROR_UNKNOWN_INTERFACE, 0);
		return NULL;
	} else {
		method = interface_method(*ret_interface, member);
	}
	if (!method) {
		send_error(bus->connection, message,
			   DBUS_ERROR_UNKNOWN_METHOD,
			   "Object %s has no method %s%s%s", path,
			   interface ? interface : "",
			   interface ? "." : "", member);
		observe(interface ? *ret_interface : NULL, NULL,
			DBUS_ERROR_UNKNOWN_METHOD, 0);
	}
	return method;
}

static BusCall *
call_new(Bus *bus, DBusMessage *message, const BusObject *object,
	 const BusInterface *interface, const BusMethod *method,
	 GVariant *args)
{
	BusCall *call = g_new0(BusCall, 1);

	call->bus = bus;
	call->connection = dbus_connection_ref(bus->connection);
	call->message = dbus_message_ref(message);
	call->interface = interface;
	call->method = method;
	call->user_data = object->user_data;
	call->args = args;
	call->uid = BUS_UID_UNKNOWN;
	call->received = g_get_monotonic_time();
	g_hash_table_add(bus->calls, call);
	return call;
}

void
bus_object_dispatch(Bus *bus, DBusMessage *message)
{
	const BusObject *object = g_hash_table_lookup(
		bus->objects, dbus_message_get_path(message));
	const char *expected, *got = dbus_message_get_signature(message);
	const BusInterface *interface = NULL;
	const BusMethod *method;
	g_autoptr(GError) error = NULL;
	GVariant *args;
	BusCall *call;

	if (is_introspect(dbus_message_get_interface(message),
			  dbus_message_get_member(message))) {
		reply_introspect(bus, message, object);
		return;
	}
	if (!(method = find_method(bus, message, object, &interface)))
		return;
	expected = method->in_signature ? method->in_signature : "";
	if (!g_str_equal(expected, got)) {
		send_error(bus->connection, message,
			   BUS_NAME_INVALID_ARGS,
			   "%s.%s expects arguments (%s), got (%s)",
			   interface->name, method->name, expected, got);
		observe(interface, method, BUS_NAME_INVALID_ARGS, 0);
		return;
	}
	if (!(args = message_read_args(message, &error))) {
		send_error(bus->connection, message, BUS_NAME_INVALID_ARGS,
			   "%s", error->message);
		observe(interface, method, BUS_NAME_INVALID_ARGS, 0);
		return;
	}
	call = call_new(bus, message, object, interface, method, args);
	if (method->role == BUS_ROLE_NONE) {
		call->uid = bus_cached_uid(bus,
					   dbus_message_get_sender(message));
		bus_call_run(call);
	} else {
		bus_authorize(call);
	}
}

/* ---- answering ------------------------------------------------------- */

void
bus_call_drop(BusCall *call)
{
	if (call->bus)
		g_hash_table_remove(call->bus->calls, call);
	g_variant_unref(call->args);
	dbus_message_unref(call->message);
	dbus_connection_unref(call->connection);
	g_free(call);
}

void
bus_call_run(BusCall *call)
{
	LOOP_WORK_CALL("call", call->interface->name, call->method->name);

	call->method->handler(call, call->args, call->user_data);
}

void
bus_call_refuse(BusCall *call, const char *name, const char *message)
{
	send_error(call->connection, call->message, name, "%s", message);
	observe(call->interface, call->method, name, call->received);
	bus_call_drop(call);
}

/* A handler answered something its table does not say: a slip in
 * slotd, logged as one (what: what it answered), and the caller is
 * refused. */
static void
refuse_wrong_reply(BusCall *call, const char *what)
{
	g_critical("%s.%s answered %s where its table says (%s)",
		   call->interface->name, call->method->name, what,
		   call->method->out_signature ? call->method->out_signature
					       : "");
	bus_call_refuse(call, BUS_NAME_FAILED,
			"Internal error: the reply did not match the "
			"method's signature");
}

gboolean
bus_call_check_reply(BusCall *call, GVariant *reply)
{
	const char *got = reply ? g_variant_get_type_string(reply) : "()";
	g_autofree char *expected = NULL;

	expected = g_strdup_printf("(%s)", call->method->out_signature ?
						   call->method->out_signature :
						   "");
	if (g_str_equal(expected, got))
		return TRUE;
	refuse_wrong_reply(call, got);
	return FALSE;
}

void
bus_call_refuse_unencodable(BusCall *call)
{
	g_critical("%s.%s answered a value D-Bus cannot carry (a maybe, "
		   "handle or empty tuple in a variant)",
		   call->interface->name, call->method->name);
	bus_call_refuse(call, BUS_NAME_FAILED,
			"Internal error: the reply could not be encoded");
}

void
bus_call_send(BusCall *call, DBusMessage *message)
{
	if (!dbus_message_get_no_reply(call->message) &&
	    !dbus_connection_send(call->connection, message, NULL))
		g_error("out of memory");
	observe(call->interface, call->method, NULL, call->received);
	bus_call_drop(call);
}

void
bus_call_return(BusCall *call, GVariant *reply)
{
	g_autoptr(GVariant) owned = reply ? g_variant_ref_sink(reply) : NULL;
	g_autoptr(DBusMessage) message = NULL;

	g_return_if_fail(call != NULL);
	if (!bus_call_check_reply(call, owned))
		return;
	message = bus_wire_return(call->message, owned);
	if (!message) {
		message = dbus_message_new_method_return(call->message);
		if (owned && !message_append_args(message, owned)) {
			bus_call_refuse_unencodable(call);
			return;
		}
	}
	bus_call_send(call, message);
}

/* ---- replies written straight into the message's bytes ----------------- */

struct _BusWriter {
	BusCall *call;
	BusWireBody body;	/* bus-wire.c */
};

BusWriter *
bus_call_writer(BusCall *call)
{
	BusWriter *w = g_new0(BusWriter, 1);

	g_return_val_if_fail(call != NULL, NULL);
	w->call = call;
	bus_wire_body_init(&w->body, call->message,
			   call->method->out_signature);
	return w;
}

void
bus_writer_reserve(BusWriter *w, gsize bytes)
{
	bus_wire_reserve(&w->body, bytes);
}

void
bus_writer_open(BusWriter *w, char type, const char *signature)
{
	bus_wire_open(&w->body, type, signature);
}

void
bus_writer_close(BusWriter *w)
{
	bus_wire_close(&w->body);
}

void
bus_writer_string(BusWriter *w, const char *value)
{
	bus_wire_string(&w->body, value);
}

void
bus_writer_int32(BusWriter *w, gint32 value)
{
	bus_wire_u32(&w->body, (guint32)value);
}

void
bus_writer_uint32(BusWriter *w, guint32 value)
{
	bus_wire_u32(&w->body, value);
}

void
bus_writer_int64(BusWriter *w, gint64 value)
{
	bus_wire_u64(&w->body, (guint64)value);
}

void
bus_writer_strv(BusWriter *w, const char *const *value)
{
	bus_writer_open(w, 'a', "s");
	for (guint i = 0; value && value[i]; i++)
		bus_writer_string(w, value[i]);
	bus_writer_close(w);
}

static void
writer_entry(BusWriter *w, const char *key, const char *signature)
{
	bus_writer_open(w, 'e', NULL);
	bus_writer_string(w, key);
	bus_writer_open(w, 'v', signature);
}

static void
writer_entry_end(BusWriter *w)
{
	bus_writer_close(w);
	bus_writer_close(w);
}

void
bus_writer_entry_string(BusWriter *w, const char *key, const char *value)
{
	writer_entry(w, key, "s");
	bus_writer_string(w, value);
	writer_entry_end(w);
}

void
bus_writer_entry_int32(BusWriter *w, const char *key, gint32 value)
{
	writer_entry(w, key, "i");
	bus_writer_int32(w, value);
	writer_entry_end(w);
}

void
bus_writer_entry_int64(BusWriter *w, const char *key, gint64 value)
{
	writer_entry(w, key, "x");
	bus_writer_int64(w, value);
	writer_entry_end(w);
}

void
bus_writer_entry_strv(BusWriter *w, const char *key,
		      const char *const *value)
{
	writer_entry(w, key, "as");
	bus_writer_strv(w, value);
	writer_entry_end(w);
}

BusWriter *
bus_writer_new_scratch(void)
{
	BusWriter *w = g_new0(BusWriter, 1);

	bus_wire_scratch_init(&w->body);
	return w;
}

GBytes *
bus_writer_finish_scratch(BusWriter *w)
{
	GBytes *bytes;

	g_return_val_if_fail(w->call == NULL, NULL);
	bytes = bus_wire_scratch_finish(&w->body);
	g_free(w);
	return bytes;
}

void
bus_writer_put(BusWriter *w, GBytes *bytes)
{
	bus_wire_put(&w->body, bytes);
}

/* Copies addressed to this many callers are kept; then they start
 * again (unique names are never reused, so the table would only grow). */
#define KEPT_CALLERS 16

struct _BusKeptReply {
	const BusMethod *method;
	DBusMessage *message;
	/* Copies made for recent callers, by unique name: a caller asks
	 * again and again, and changing a copy's addressee costs more than
	 * the rest of the answer. */
	GHashTable *addressed;
};

void
bus_kept_reply_free(BusKeptReply *kept)
{
	if (kept == NULL)
		return;
	g_hash_table_unref(kept->addressed);
	dbus_message_unref(kept->message);
	g_free(kept);
}

/* The reply for `call`, from a copy made for its caller before if
 * there is one. */
static DBusMessage *
kept_reply_for(BusKeptReply *kept, DBusMessage *call)
{
	const char *sender = dbus_message_get_sender(call);
	DBusMessage *addressed;

	if (sender == NULL)
		return bus_wire_return_again(kept->message, call);
	addressed = g_hash_table_lookup(kept->addressed, sender);
	if (addressed == NULL) {
		addressed = bus_wire_return_again(kept->message, call);
		if (addressed == NULL)
			return NULL;
		if (g_hash_table_size(kept->addressed) >= KEPT_CALLERS)
			g_hash_table_remove_all(kept->addressed);
		g_hash_table_insert(kept->addressed, g_strdup(sender),
				    addressed);
	}
	return bus_wire_return_serial(addressed, call);
}

/* Sends the writer's reply; returns it (a reference) if it was sent. */
static DBusMessage *
writer_send(BusWriter *w)
{
	BusCall *call = w->call;
	g_auto(DBusError) error = DBUS_ERROR_INIT;
	g_autoptr(DBusMessage) message = bus_wire_body_finish(&w->body,
							      &error);

	g_free(w);
	if (message) {
		bus_call_send(call, message);
		return g_steal_pointer(&message);
	}
	{
		g_autofree char *what = g_strdup_printf(
			"a body libdbus refused (%s)",
			error.message ? error.message : "out of memory");

		refuse_wrong_reply(call, what);
	}
	return NULL;
}

void
bus_writer_return(BusWriter *w)
{
	g_autoptr(DBusMessage) sent = writer_send(w);
}

void
bus_writer_return_keep(BusWriter *w, BusKeptReply **kept)
{
	const BusMethod *method = w->call->method;
	DBusMessage *sent = writer_send(w);

	if (sent == NULL)
		return;
	bus_kept_reply_free(*kept);
	*kept = g_new(BusKeptReply, 1);
	(*kept)->method = method;
	(*kept)->message = sent;
	(*kept)->addressed = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free,
		(GDestroyNotify)dbus_message_unref);
}

void
bus_call_return_kept(BusCall *call, BusKeptReply *kept)
{
	g_autoptr(DBusMessage) message = NULL;

	g_return_if_fail(call != NULL && kept != NULL);
	if (kept->method != call->method) {
		refuse_wrong_reply(call, "a reply kept for another method");
		return;
	}
	message = kept_reply_for(kept, call->message);
	if (message == NULL)
		g_error("out of memory");
	bus_call_send(call, message);
}

void
bus_call_return_fd(BusCall *call, int fd)
{
	g_autoptr(DBusMessage) message = NULL;
	const char *expected = call->method->out_signature;
	dbus_bool_t ok;

	g_return_if_fail(call != NULL && fd >= 0);
	if (expected == NULL || !g_str_equal(expected, "h")) {
		close(fd);
		refuse_wrong_reply(call, "a file descriptor");
		return;
	}
	message = dbus_message_new_method_return(call->message);
	if (message == NULL)
		g_error("out of memory");
	/* libdbus keeps a duplicate of its own (dup may fail: EMFILE). */
	ok = dbus_message_append_args(message, DBUS_TYPE_UNIX_FD, &fd,
				      DBUS_TYPE_INVALID);
	close(fd);
	if (!ok) {
		bus_call_refuse(call, "org.slotd.Error.StorageUnavailable",
				"The result could not be handed over as a file "
				"descriptor (too many open files?); try again "
				"later");
		return;
	}
	bus_call_send(call, message);
}

void
bus_call_return_error(BusCall *call, const GError *error)
{
	const BusErrorName *entry = error_lookup(error);

	g_return_if_fail(call != NULL);
	if (entry) {
		bus_call_refuse(call, entry->name, error->message);
		return;
	}
	/* A foreign domain is a slip: its text may describe internals. */
	if (error)
		g_warning("%s.%s failed: %s", call->interface->name,
			  call->method->name, error->message);
	else
		g_critical("%s.%s failed without an error",
			   call->interface->name, call->method->name);
	bus_call_refuse(call, BUS_NAME_FAILED,
			"Internal error in slotd; the daemon log has the "
			"details");
}

guint32
bus_call_uid(const BusCall *call)
{
	g_return_val_if_fail(call != NULL, BUS_UID_UNKNOWN);
	return call->uid;
}

BusRole
bus_call_roles(const BusCall *call)
{
	g_return_val_if_fail(call != NULL, BUS_ROLE_NONE);
	return call->roles;
}

const char *
bus_call_sender(const BusCall *call)
{
	g_return_val_if_fail(call != NULL, NULL);
	return dbus_message_get_sender(call->message);
}

const char *
bus_call_member(const BusCall *call)
{
	g_return_val_if_fail(call != NULL, NULL);
	return call->method->name;
}

const char *
bus_call_out_signature(const BusCall *call)
{
	g_return_val_if_fail(call != NULL, NULL);
	return call->method->out_signature ? call->method->out_signature : "";
}

/* ---- signals --------------------------------------------------------- */

static const BusSignal *
declared_signal(Bus *bus, const char *path, const char *interface,
		const char *name)
{
	const BusObject *object = g_hash_table_lookup(bus->objects, path);
	const BusInterface *table;

	if (!object || !(table = object_interface(object, interface)))
		return NULL;
	return interface_signal(table, name);
}

/* The arguments as libdbus appends them, after bus_wire_signal(). */
static DBusMessage *
signal_appended(const char *path, const char *interface, const char *name,
		GVariant *args)
{
	DBusMessage *message = dbus_message_new_signal(path, interface, name);

	if (args && !message_append_args(message, args)) {
		dbus_message_unref(message);
		return NULL;
	}
	return message;
}

gboolean
bus_emit_signal(Bus *bus, const char *path, const char *interface,
		const char *name, GVariant *args)
{
	g_autoptr(GVariant) owned = args ? g_variant_ref_sink(args) : NULL;
	const char *type = owned ? g_variant_get_type_string(owned) : "()";
	const BusSignal *signal;
	g_autofree char *expected = NULL;
	g_autoptr(DBusMessage) message = NULL;

	g_return_val_if_fail(bus && path && interface && name, FALSE);
	signal = declared_signal(bus, path, interface, name);
	if (!signal) {
		g_critical("Refusing to emit %s.%s on %s: no registered table "
			   "declares it",
			   interface, name, path);
		return FALSE;
	}
	expected = g_strdup_printf("(%s)",
				   signal->signature ? signal->signature : "");
	if (g_str_equal(expected, type) &&
	    !(message = bus_wire_signal(path, interface, name, owned)))
		message = signal_appended(path, interface, name, owned);
	if (!message) {
		g_critical("Refusing to emit %s.%s: arguments %s do not match "
			   "its signature %s",
			   interface, name, type, expected);
		return FALSE;
	}
	if (!dbus_connection_send(bus->connection, message, NULL))
		g_error("out of memory");
	return TRUE;
}
