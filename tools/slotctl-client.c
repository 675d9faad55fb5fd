/* The bus side of slotctl: one private libdbus connection, blocking
 * method calls, the conversion between D-Bus messages and GVariant (so
 * that the commands never touch a DBusMessageIter), and the a{sv}
 * arguments built from command-line options. */
#include "slotctl.h"

#include <dbus/dbus.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK(slotctl-error-quark, ctl_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DBusMessage, dbus_message_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DBusError, dbus_error_free)

static gboolean append_value(DBusMessageIter *iter, GVariant *value);

static const char *bus_description(const Ctl *ctl)
{
	if (ctl->address)
		return "the bus at --address";
	return ctl->session_bus ? "the session bus" : "the system bus";
}

static DBusConnection *open_address(const char *address, DBusError *err)
{
	DBusConnection *connection;

	connection = dbus_connection_open_private(address, err);
	if (!connection)
		return NULL;
	/* A plain connection has no unique name until it says Hello. */
	if (!dbus_bus_register(connection, err)) {
		dbus_connection_close(connection);
		dbus_connection_unref(connection);
		return NULL;
	}
	return connection;
}

gboolean client_connect(Ctl *ctl, GError **error)
{
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	DBusConnection *connection;

	if (ctl->connection)
		return TRUE;
	if (ctl->address)
		connection = open_address(ctl->address, &err);
	else
		connection = dbus_bus_get_private(ctl->session_bus ?
						  DBUS_BUS_SESSION :
						  DBUS_BUS_SYSTEM, &err);
	if (!connection) {
		g_set_error(error, CTL_ERROR, CTL_ERROR_BUS,
			    "%s: %s (cannot connect to %s)",
			    err.name ? err.name :
			    "org.freedesktop.DBus.Error.Failed",
			    err.message ? err.message : "no reason given",
			    bus_description(ctl));
		return FALSE;
	}
	/* A lost bus is an error to report, not a reason to _exit(1). */
	dbus_connection_set_exit_on_disconnect(connection, FALSE);
	ctl->connection = connection;
	return TRUE;
}

void client_disconnect(Ctl *ctl)
{
	if (!ctl->connection)
		return;
	/* Private connections must be closed before the last unref. */
	dbus_connection_flush(ctl->connection);
	dbus_connection_close(ctl->connection);
	dbus_connection_unref(ctl->connection);
	ctl->connection = NULL;
}

/* --- GVariant → message ------------------------------------------ */

static int basic_dbus_type(GVariantClass class)
{
	switch (class) {
	case G_VARIANT_CLASS_BOOLEAN: return DBUS_TYPE_BOOLEAN;
	case G_VARIANT_CLASS_BYTE: return DBUS_TYPE_BYTE;
	case G_VARIANT_CLASS_INT16: return DBUS_TYPE_INT16;
	case G_VARIANT_CLASS_UINT16: return DBUS_TYPE_UINT16;
	case G_VARIANT_CLASS_INT32: return DBUS_TYPE_INT32;
	case G_VARIANT_CLASS_UINT32: return DBUS_TYPE_UINT32;
	case G_VARIANT_CLASS_INT64: return DBUS_TYPE_INT64;
	case G_VARIANT_CLASS_UINT64: return DBUS_TYPE_UINT64;
	case G_VARIANT_CLASS_DOUBLE: return DBUS_TYPE_DOUBLE;
	case G_VARIANT_CLASS_STRING: return DBUS_TYPE_STRING;
	case G_VARIANT_CLASS_OBJECT_PATH: return DBUS_TYPE_OBJECT_PATH;
	case G_VARIANT_CLASS_SIGNATURE: return DBUS_TYPE_SIGNATURE;
	default: return DBUS_TYPE_INVALID;
	}
}

static gboolean append_basic(DBusMessageIter *iter, GVariant *value)
{
	GVariantClass class = g_variant_classify(value);
	DBusBasicValue basic;

	memset(&basic, 0, sizeof(basic));
	switch (class) {
	case G_VARIANT_CLASS_BOOLEAN:
		basic.bool_val = g_variant_get_boolean(value);
		break;
	case G_VARIANT_CLASS_BYTE:
		basic.byt = g_variant_get_byte(value);
		break;
	case G_VARIANT_CLASS_INT16:
		basic.i16 = g_variant_get_int16(value);
		break;
	case G_VARIANT_CLASS_UINT16:
		basic.u16 = g_variant_get_uint16(value);
		break;
	case G_VARIANT_CLASS_INT32:
		basic.i32 = g_variant_get_int32(value);
		break;
	case G_VARIANT_CLASS_UINT32:
		basic.u32 = g_variant_get_uint32(value);
		break;
	case G_VARIANT_CLASS_INT64:
		basic.i64 = g_variant_get_int64(value);
		break;
	case G_VARIANT_CLASS_UINT64:
		basic.u64 = g_variant_get_uint64(value);
		break;
	case G_VARIANT_CLASS_DOUBLE:
		basic.dbl = g_variant_get_double(value);
		break;
	default:
		/* string, object path and signature share one accessor */
		basic.str = (char *) g_variant_get_string(value, NULL);
		break;
	}
	return dbus_message_iter_append_basic(iter, basic_dbus_type(class),
					      &basic);
}

static gboolean append_children(DBusMessageIter *iter, GVariant *value)
{
	gsize n = g_variant_n_children(value);

	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) child = g_variant_get_child_value(value, i);

		if (!append_value(iter, child))
			return FALSE;
	}
	return TRUE;
}

static gboolean append_container(DBusMessageIter *iter, int dbus_type,
				 const char *signature, GVariant *value)
{
	DBusMessageIter sub;

	if (!dbus_message_iter_open_container(iter, dbus_type, signature, &sub))
		return FALSE;
	if (!append_children(&sub, value)) {
		dbus_message_iter_abandon_container(iter, &sub);
		return FALSE;
	}
	return dbus_message_iter_close_container(iter, &sub);
}

static gboolean append_value(DBusMessageIter *iter, GVariant *value)
{
	const GVariantType *type = g_variant_get_type(value);
	g_autofree char *signature = NULL;

	switch (g_variant_classify(value)) {
	case G_VARIANT_CLASS_VARIANT: {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);

		signature = g_strdup(g_variant_get_type_string(inner));
		return append_container(iter, DBUS_TYPE_VARIANT, signature,
					value);
	}
	case G_VARIANT_CLASS_ARRAY:
		signature = g_variant_type_dup_string(
			g_variant_type_element(type));
		return append_container(iter, DBUS_TYPE_ARRAY, signature,
					value);
	case G_VARIANT_CLASS_TUPLE:
		return append_container(iter, DBUS_TYPE_STRUCT, NULL, value);
	case G_VARIANT_CLASS_DICT_ENTRY:
		return append_container(iter, DBUS_TYPE_DICT_ENTRY, NULL,
					value);
	default:
		if (basic_dbus_type(g_variant_classify(value)) ==
		    DBUS_TYPE_INVALID)
			return FALSE;	/* maybe and handle: not on our wire */
		return append_basic(iter, value);
	}
}

/* --- message → GVariant ------------------------------------------ */

static GVariant *read_value(DBusMessageIter *iter);

static GVariant *read_basic(DBusMessageIter *iter, int dbus_type)
{
	DBusBasicValue basic;

	dbus_message_iter_get_basic(iter, &basic);
	switch (dbus_type) {
	case DBUS_TYPE_BOOLEAN: return g_variant_new_boolean(basic.bool_val);
	case DBUS_TYPE_BYTE: return g_variant_new_byte(basic.byt);
	case DBUS_TYPE_INT16: return g_variant_new_int16(basic.i16);
	case DBUS_TYPE_UINT16: return g_variant_new_uint16(basic.u16);
	case DBUS_TYPE_INT32: return g_variant_new_int32(basic.i32);
	case DBUS_TYPE_UINT32: return g_variant_new_uint32(basic.u32);
	case DBUS_TYPE_INT64: return g_variant_new_int64(basic.i64);
	case DBUS_TYPE_UINT64: return g_variant_new_uint64(basic.u64);
	case DBUS_TYPE_DOUBLE: return g_variant_new_double(basic.dbl);
	case DBUS_TYPE_STRING: return g_variant_new_string(basic.str);
	case DBUS_TYPE_OBJECT_PATH: return g_variant_new_object_path(basic.str);
	case DBUS_TYPE_SIGNATURE: return g_variant_new_signature(basic.str);
	default: return NULL;	/* unix fds are never negotiated */
	}
}

/* Arrays, structs and dict entries: the iterator knows the full type,
 * which an empty array needs. */
static GVariant *read_container(DBusMessageIter *iter)
{
	char *signature = dbus_message_iter_get_signature(iter);
	GVariantBuilder builder;
	DBusMessageIter sub;

	if (!signature || !g_variant_type_string_is_valid(signature)) {
		dbus_free(signature);
		return NULL;
	}
	g_variant_builder_init(&builder, G_VARIANT_TYPE(signature));
	dbus_free(signature);
	dbus_message_iter_recurse(iter, &sub);
	while (dbus_message_iter_get_arg_type(&sub) != DBUS_TYPE_INVALID) {
		GVariant *child = read_value(&sub);

		if (!child) {
			g_variant_builder_clear(&builder);
			return NULL;
		}
		g_variant_builder_add_value(&builder, child);
		dbus_message_iter_next(&sub);
	}
	return g_variant_builder_end(&builder);
}

static GVariant *read_value(DBusMessageIter *iter)
{
	int dbus_type = dbus_message_iter_get_arg_type(iter);
	DBusMessageIter sub;
	GVariant *inner;

	switch (dbus_type) {
	case DBUS_TYPE_VARIANT:
		dbus_message_iter_recurse(iter, &sub);
		inner = read_value(&sub);
		return inner ? g_variant_new_variant(inner) : NULL;
	case DBUS_TYPE_ARRAY:
	case DBUS_TYPE_STRUCT:
	case DBUS_TYPE_DICT_ENTRY:
		return read_container(iter);
	default:
		return read_basic(iter, dbus_type);
	}
}

/* The whole body as one tuple; NULL if it holds a type we cannot map. */
static GVariant *read_body(DBusMessage *message)
{
	g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func(
		(GDestroyNotify) g_variant_unref);
	DBusMessageIter iter;
	GVariant *body;

	if (dbus_message_iter_init(message, &iter)) {
		do {
			GVariant *child = read_value(&iter);

			if (!child)
				return NULL;
			g_ptr_array_add(children, g_variant_ref_sink(child));
		} while (dbus_message_iter_next(&iter));
	}
	body = g_variant_new_tuple((GVariant **) children->pdata,
				   children->len);
	return g_variant_ref_sink(body);
}

/* --- calls -------------------------------------------------------- */

static DBusMessage *build_call(const char *interface, const char *method,
			       GVariant *args)
{
	g_autoptr(DBusMessage) message = NULL;
	DBusMessageIter iter;

	message = dbus_message_new_method_call(SLOTD_BUS_NAME,
					       SLOTD_OBJECT_PATH, interface,
					       method);
	if (!message)
		return NULL;
	/* Start slotd by bus activation when it is not running yet. */
	dbus_message_set_auto_start(message, TRUE);
	dbus_message_iter_init_append(message, &iter);
	if (args && !append_children(&iter, args))
		return NULL;
	return g_steal_pointer(&message);
}

static GVariant *check_reply(DBusMessage *reply, const char *method,
			     const char *reply_type, GError **error)
{
	g_autoptr(GVariant) body = read_body(reply);

	if (body && g_variant_is_of_type(body, G_VARIANT_TYPE(reply_type)))
		return g_steal_pointer(&body);
	g_set_error(error, CTL_ERROR, CTL_ERROR_FAILED,
		    "slotd answered %s with (%s), expected %s; are slotctl "
		    "and slotd the same version?", method,
		    dbus_message_get_signature(reply), reply_type);
	return NULL;
}

/* Sends the call and waits for the reply; NULL and `error` when the
 * call failed or slotd answered an error. */
static DBusMessage *call_blocking(Ctl *ctl, const char *interface,
				  const char *method, GVariant *args,
				  int timeout_ms, GError **error)
{
	g_autoptr(GVariant) owned_args = args ? g_variant_ref_sink(args) : NULL;
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	g_autoptr(DBusMessage) message = NULL;
	DBusMessage *reply;

	if (!client_connect(ctl, error))
		return NULL;
	message = build_call(interface, method, owned_args);
	if (!message) {
		g_set_error(error, CTL_ERROR, CTL_ERROR_FAILED,
			    "cannot build the %s call (out of memory?)",
			    method);
		return NULL;
	}
	reply = dbus_connection_send_with_reply_and_block(ctl->connection,
							  message, timeout_ms,
							  &err);
	if (!reply)
		g_set_error(error, CTL_ERROR, CTL_ERROR_BUS, "%s: %s",
			    err.name ? err.name :
			    "org.freedesktop.DBus.Error.Failed",
			    err.message ? err.message : "(no message)");
	return reply;
}

GVariant *client_call(Ctl *ctl, const char *interface, const char *method,
		      GVariant *args, const char *reply_type, int timeout_ms,
		      GError **error)
{
	g_autoptr(DBusMessage) reply = call_blocking(ctl, interface, method,
						     args, timeout_ms, error);

	return reply ? check_reply(reply, method, reply_type, error) : NULL;
}

GVariant *client_call_rows_fd(Ctl *ctl, const char *interface,
			      const char *method, GVariant *args,
			      int timeout_ms, GError **error)
{
	g_autoptr(DBusMessage) reply = call_blocking(ctl, interface, method,
						     args, timeout_ms, error);
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	g_autoptr(GMappedFile) mapped = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(GError) map_error = NULL;
	int fd = -1;

	if (!reply)
		return NULL;
	/* libdbus hands us a duplicate of the descriptor: ours to close. */
	if (!g_str_equal(dbus_message_get_signature(reply), "h") ||
	    !dbus_message_get_args(reply, &err, DBUS_TYPE_UNIX_FD, &fd,
				   DBUS_TYPE_INVALID)) {
		g_set_error(error, CTL_ERROR, CTL_ERROR_FAILED,
			    "slotd answered %s with (%s), expected (h); are "
			    "slotctl and slotd the same version?", method,
			    dbus_message_get_signature(reply));
		return NULL;
	}
	mapped = g_mapped_file_new_from_fd(fd, FALSE, &map_error);
	close(fd);
	if (!mapped) {
		g_set_error(error, CTL_ERROR, CTL_ERROR_FAILED,
			    "cannot read the rows slotd passed for %s: %s",
			    method, map_error->message);
		return NULL;
	}
	bytes = g_mapped_file_get_bytes(mapped);
	/* Not trusted: GLib checks every offset as it reads. */
	rows = g_variant_ref_sink(g_variant_new_from_bytes(
		G_VARIANT_TYPE("aa{sv}"), bytes, FALSE));
	if (G_BYTE_ORDER == G_BIG_ENDIAN) {
		GVariant *swapped = g_variant_byteswap(rows);

		g_variant_unref(rows);
		rows = swapped;
	}
	return g_steal_pointer(&rows);
}

/* --- call arguments from options ---------------------------------- */

static GVariant *opt_string(const char *text)
{
	return g_variant_new_string(text);
}

static GVariant *opt_uint32(const char *text)
{
	guint64 number;

	if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, &number,
					NULL))
		return NULL;
	return g_variant_new_uint32((guint32) number);
}

static GVariant *opt_int32(const char *text)
{
	gint64 number;

	if (!g_ascii_string_to_signed(text, 10, G_MININT32, G_MAXINT32,
				      &number, NULL))
		return NULL;
	return g_variant_new_int32((gint32) number);
}

static GVariant *opt_int64(const char *text)
{
	gint64 number;

	if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64,
				      &number, NULL))
		return NULL;
	return g_variant_new_int64(number);
}

static GVariant *opt_double(const char *text)
{
	char *end = NULL;
	double number = g_ascii_strtod(text, &end);

	if (end == text || *end || !isfinite(number))
		return NULL;
	return g_variant_new_double(number);
}

static GVariant *opt_boolean(const char *text)
{
	if (!g_ascii_strcasecmp(text, "true") || !g_strcmp0(text, "1"))
		return g_variant_new_boolean(TRUE);
	if (!g_ascii_strcasecmp(text, "false") || !g_strcmp0(text, "0"))
		return g_variant_new_boolean(FALSE);
	return NULL;
}

static const struct {
	const char *flag;
	size_t offset;
	GVariant *(*parse)(const char *text);
} opt_kinds[] = {
	{ "--opt", offsetof(Ctl, opt_s), opt_string },
	{ "--opt-u", offsetof(Ctl, opt_u), opt_uint32 },
	{ "--opt-i", offsetof(Ctl, opt_i), opt_int32 },
	{ "--opt-x", offsetof(Ctl, opt_x), opt_int64 },
	{ "--opt-d", offsetof(Ctl, opt_d), opt_double },
	{ "--opt-b", offsetof(Ctl, opt_b), opt_boolean },
};

static gboolean apply_opt(const char *flag, const char *item,
			  GVariant *(*parse)(const char *text),
			  GVariantDict *dict, GError **error)
{
	const char *equals = strchr(item, '=');
	g_autofree char *key = NULL;
	GVariant *value;

	if (!equals || equals == item)
		return ctl_usage_error(error, "%s wants KEY=VALUE, not “%s”",
				       flag, item);
	key = g_strndup(item, equals - item);
	if (g_variant_dict_contains(dict, key))
		return ctl_usage_error(error, "the key “%s” is given twice",
				       key);
	value = parse(equals + 1);
	if (!value)
		return ctl_usage_error(error, "%s %s: “%s” is not a valid "
				       "value", flag, key, equals + 1);
	g_variant_dict_insert_value(dict, key, value);
	return TRUE;
}

gboolean args_apply_opts(Ctl *ctl, GVariantDict *dict, GError **error)
{
	for (guint k = 0; k < G_N_ELEMENTS(opt_kinds); k++) {
		char **items = G_STRUCT_MEMBER(char **, ctl,
					       opt_kinds[k].offset);

		for (guint i = 0; items && items[i]; i++)
			if (!apply_opt(opt_kinds[k].flag, items[i],
				       opt_kinds[k].parse, dict, error))
				return FALSE;
	}
	return TRUE;
}

void args_put_string(GVariantDict *dict, const char *key, const char *value)
{
	if (value)
		g_variant_dict_insert_value(dict, key,
					    g_variant_new_string(value));
}

gboolean args_put_time(GVariantDict *dict, const char *key, const char *text,
		       gboolean end_of_day, GError **error)
{
	gint64 utc;

	if (!text)
		return TRUE;
	if (!time_parse(text, end_of_day, &utc, error))
		return FALSE;
	g_variant_dict_insert_value(dict, key, g_variant_new_int64(utc));
	return TRUE;
}

/* -1 means the option was not given. */
gboolean args_put_count(GVariantDict *dict, const char *key,
			const char *flag, int value, GError **error)
{
	if (value == -1)
		return TRUE;
	if (value < 0)
		return ctl_usage_error(error, "%s must not be negative", flag);
	g_variant_dict_insert_value(dict, key,
				    g_variant_new_uint32((guint32) value));
	return TRUE;
}
