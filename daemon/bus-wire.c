/* Messages of basic arguments, marshalled here in one piece.
 *
 * libdbus appends a top-level argument by reading the SIGNATURE header
 * field back, adding a letter and writing the field again, which
 * re-marshals the header after it: some 15,000 instructions for each
 * string or number of a signal. The booking signals (ss, ssxx) and a
 * Book's answer (s) cost more to build than the rows they announce.
 * Here the header and the body are written in wire format directly and
 * handed to dbus_message_demarshal(), which checks them as it checks a
 * message read from the socket; dbus_message_copy() then gives a
 * message with serial 0, for the connection to number as its own. The
 * bytes are those libdbus builds (tests/test-bus.c compares them).
 *
 * Only what a tuple of at least two basic values can say. The checks of
 * the demarshaller cost some 16,000 instructions a message, so a single
 * argument is cheaper appended; anything else (arrays, variants,
 * structs) goes the usual way too, and so does any message the
 * demarshaller would not take. */
#include "bus-private.h"

#include <string.h>

#define FIELD_PATH 1
#define FIELD_INTERFACE 2
#define FIELD_MEMBER 3
#define FIELD_REPLY_SERIAL 5
#define FIELD_DESTINATION 6
#define FIELD_SIGNATURE 8

/* The fixed part of a header: byte order, type, flags, version, body
 * length, serial; then the field array's length. */
#define HEADER_FIXED 12
#define FIELDS_AT 16

/* Larger messages are rare and not worth a special path. */
#define WIRE_MAX 4096

static void
pad(GByteArray *b, guint align)
{
	static const guint8 zeros[8];

	g_byte_array_append(b, zeros, (align - b->len % align) % align);
}

static void
put_u32(GByteArray *b, guint32 v)
{
	pad(b, 4);
	g_byte_array_append(b, (const guint8 *)&v, 4);
}

static void
put_string(GByteArray *b, const char *s)
{
	gsize n = strlen(s);

	put_u32(b, (guint32)n);
	g_byte_array_append(b, (const guint8 *)s, n + 1);
}

static void
put_signature(GByteArray *b, const char *s)
{
	guint8 n = (guint8)strlen(s);

	g_byte_array_append(b, &n, 1);
	g_byte_array_append(b, (const guint8 *)s, n + 1u);
}

/* A header field: a struct (yv), 8-aligned. */
static void
put_field(GByteArray *b, guint8 code, const char *type, const char *text,
	  guint32 number)
{
	pad(b, 8);
	g_byte_array_append(b, &code, 1);
	put_signature(b, type);
	if (type[0] == 'u')
		put_u32(b, number);
	else if (type[0] == 'g')
		put_signature(b, text);
	else
		put_string(b, text);
}

/* Appends one basic value in wire format; FALSE for any other. */
static gboolean
put_value(GByteArray *b, GVariant *v)
{
	union {
		guint8 y;
		guint16 q;
		guint32 u;
		guint64 t;
		double d;
	} n;
	guint size;

	switch (g_variant_classify(v)) {
	case G_VARIANT_CLASS_STRING:
	case G_VARIANT_CLASS_OBJECT_PATH:
		put_string(b, g_variant_get_string(v, NULL));
		return TRUE;
	case G_VARIANT_CLASS_SIGNATURE:
		put_signature(b, g_variant_get_string(v, NULL));
		return TRUE;
	case G_VARIANT_CLASS_BYTE:
		n.y = g_variant_get_byte(v);
		size = 1;
		break;
	case G_VARIANT_CLASS_INT16:
		n.q = (guint16)g_variant_get_int16(v);
		size = 2;
		break;
	case G_VARIANT_CLASS_UINT16:
		n.q = g_variant_get_uint16(v);
		size = 2;
		break;
	case G_VARIANT_CLASS_BOOLEAN: /* 4 bytes on the wire, 1 in GVariant */
		n.u = g_variant_get_boolean(v) ? 1 : 0;
		size = 4;
		break;
	case G_VARIANT_CLASS_INT32:
		n.u = (guint32)g_variant_get_int32(v);
		size = 4;
		break;
	case G_VARIANT_CLASS_UINT32:
		n.u = g_variant_get_uint32(v);
		size = 4;
		break;
	case G_VARIANT_CLASS_INT64:
		n.t = (guint64)g_variant_get_int64(v);
		size = 8;
		break;
	case G_VARIANT_CLASS_UINT64:
		n.t = g_variant_get_uint64(v);
		size = 8;
		break;
	case G_VARIANT_CLASS_DOUBLE:
		n.d = g_variant_get_double(v);
		size = 8;
		break;
	default: /* containers, and handles: we pass no descriptors */
		return FALSE;
	}
	pad(b, size);
	g_byte_array_append(b, (const guint8 *)&n, size);
	return TRUE;
}

/* The signature of a tuple of two or more basic values, or FALSE. */
static gboolean
basic_signature(GVariant *args, char *ret, gsize size)
{
	const char *type = args ? g_variant_get_type_string(args) : "()";
	gsize n = strlen(type);

	if (type[0] != '(' || n < 4 || n - 2 >= size)
		return FALSE;
	for (gsize i = 1; i + 1 < n; i++)
		if (!strchr("ybnqiuxtdsog", type[i]))
			return FALSE;
	memcpy(ret, type + 1, n - 2);
	ret[n - 2] = '\0';
	return TRUE;
}

/* Header fields end `fields` bytes after FIELDS_AT and the body starts
 * at `body_at`, the end of `b`: fills in the lengths and returns the
 * message as libdbus reads and checks it, or NULL and `error`. */
static DBusMessage *
demarshal(GByteArray *b, guint32 fields, guint body_at, DBusError *error)
{
	g_autoptr(DBusMessage) parsed = NULL;
	guint32 body = b->len - body_at;

	memcpy(b->data + 4, &body, 4);
	memcpy(b->data + HEADER_FIXED, &fields, 4);
	parsed = dbus_message_demarshal((const char *)b->data, (int)b->len,
					error);
	if (!parsed)
		return NULL;
	/* A copy has serial 0: the connection gives it the next one. */
	return dbus_message_copy(parsed);
}

/* Header fields already written to `b`; writes the body and returns the
 * message, or NULL. */
static DBusMessage *
finish(GByteArray *b, GVariant *args)
{
	g_auto(DBusError) error = DBUS_ERROR_INIT;
	guint32 fields = b->len - FIELDS_AT;
	guint body_at;

	pad(b, 8);
	body_at = b->len;
	for (gsize i = 0, n = args ? g_variant_n_children(args) : 0; i < n;
	     i++) {
		g_autoptr(GVariant) child = g_variant_get_child_value(args, i);

		if (!put_value(b, child))
			return NULL;
	}
	if (b->len > WIRE_MAX)
		return NULL;
	return demarshal(b, fields, body_at, &error);
}

/* The fixed header of a message of `type`; the lengths come later. */
static GByteArray *
start(guint8 type)
{
	GByteArray *b = g_byte_array_sized_new(256);
	const guint8 head[4] = {
		G_BYTE_ORDER == G_LITTLE_ENDIAN ? DBUS_LITTLE_ENDIAN
						: DBUS_BIG_ENDIAN,
		type, DBUS_HEADER_FLAG_NO_REPLY_EXPECTED,
		DBUS_MAJOR_PROTOCOL_VERSION
	};

	g_byte_array_append(b, head, sizeof(head));
	put_u32(b, 0);	/* body length */
	put_u32(b, 1);	/* serial: demarshalling wants one; not sent */
	put_u32(b, 0);	/* length of the field array */
	return b;
}

DBusMessage *
bus_wire_signal(const char *path, const char *interface, const char *name,
		GVariant *args)
{
	g_autoptr(GByteArray) b = NULL;
	char signature[64];

	if (!basic_signature(args, signature, sizeof(signature)))
		return NULL;
	b = start(DBUS_MESSAGE_TYPE_SIGNAL);
	put_field(b, FIELD_PATH, "o", path, 0);
	put_field(b, FIELD_INTERFACE, "s", interface, 0);
	put_field(b, FIELD_MEMBER, "s", name, 0);
	put_field(b, FIELD_SIGNATURE, "g", signature, 0);
	return finish(b, args);
}

/* The header of the return to `call`, with the body's signature when
 * it has one (as dbus_message_new_method_return() and the appends
 * would leave it). */
static GByteArray *
start_return(DBusMessage *call, const char *signature)
{
	GByteArray *b = start(DBUS_MESSAGE_TYPE_METHOD_RETURN);
	const char *sender = dbus_message_get_sender(call);

	if (sender)
		put_field(b, FIELD_DESTINATION, "s", sender, 0);
	put_field(b, FIELD_REPLY_SERIAL, "u", NULL,
		  dbus_message_get_serial(call));
	if (signature && *signature)
		put_field(b, FIELD_SIGNATURE, "g", signature, 0);
	return b;
}

DBusMessage *
bus_wire_return(DBusMessage *call, GVariant *args)
{
	g_autoptr(GByteArray) b = NULL;
	char signature[64];

	if (!basic_signature(args, signature, sizeof(signature)))
		return NULL;
	b = start_return(call, signature);
	return finish(b, args);
}

/* ---- a whole body written value by value ------------------------------- *
 *
 * For replies of many values (FindSlots: 200 structs, each with a dict
 * of extras). libdbus's iterators check each container's signature and
 * re-marshal as they go: some 30,000 instructions a slot. Here the
 * values go straight into the message's bytes after its header (whose
 * SIGNATURE field is the method's out signature, known beforehand), and
 * the one demarshalling at the end checks everything against it: a
 * value written out of place makes the message invalid, never a wrong
 * one. */

static guint
alignment(char type)
{
	switch (type) {
	case DBUS_TYPE_BYTE:
	case DBUS_TYPE_SIGNATURE:
	case DBUS_TYPE_VARIANT:
		return 1;
	case DBUS_TYPE_INT16:
	case DBUS_TYPE_UINT16:
		return 2;
	case DBUS_TYPE_INT64:
	case DBUS_TYPE_UINT64:
	case DBUS_TYPE_DOUBLE:
	case DBUS_STRUCT_BEGIN_CHAR:
	case DBUS_DICT_ENTRY_BEGIN_CHAR:
		return 8;
	default: /* b i u h s o a */
		return 4;
	}
}

void
bus_wire_body_init(BusWireBody *w, DBusMessage *call, const char *signature)
{
	memset(w, 0, sizeof(*w));
	w->b = start_return(call, signature);
	w->fields = w->b->len - FIELDS_AT;
	pad(w->b, 8);
	w->body_at = w->b->len;
}

void
bus_wire_body_clear(BusWireBody *w)
{
	if (w->b)
		g_byte_array_unref(w->b);
	w->b = NULL;
}

void
bus_wire_reserve(BusWireBody *w, gsize bytes)
{
	guint len = w->b->len;

	/* A GByteArray keeps its allocation when it is made shorter. */
	g_byte_array_set_size(w->b, len + (guint)MIN(bytes, G_MAXUINT - len));
	g_byte_array_set_size(w->b, len);
}

void
bus_wire_open(BusWireBody *w, char type, const char *signature)
{
	if (w->depth == BUS_MAX_DEPTH) {
		w->broken = TRUE;
		return;
	}
	w->open[w->depth].type = type;
	switch (type) {
	case DBUS_TYPE_ARRAY:
		put_u32(w->b, 0); /* the length, once known */
		w->open[w->depth].length_at = w->b->len - 4;
		/* Padded to the element's alignment even when empty. */
		pad(w->b, alignment(signature ? signature[0] : '\0'));
		w->open[w->depth].elements_at = w->b->len;
		break;
	case 'r':
	case 'e':
		pad(w->b, 8);
		break;
	case DBUS_TYPE_VARIANT:
		put_signature(w->b, signature ? signature : "");
		break;
	default:
		w->broken = TRUE;
		break;
	}
	w->depth++;
}

void
bus_wire_close(BusWireBody *w)
{
	guint32 length;

	if (w->depth == 0) {
		w->broken = TRUE;
		return;
	}
	w->depth--;
	if (w->open[w->depth].type != DBUS_TYPE_ARRAY)
		return;
	length = w->b->len - w->open[w->depth].elements_at;
	memcpy(w->b->data + w->open[w->depth].length_at, &length, 4);
}

void
bus_wire_string(BusWireBody *w, const char *value)
{
	put_string(w->b, value ? value : "");
}

void
bus_wire_u32(BusWireBody *w, guint32 value)
{
	put_u32(w->b, value);
}

void
bus_wire_u64(BusWireBody *w, guint64 value)
{
	pad(w->b, 8);
	g_byte_array_append(w->b, (const guint8 *)&value, 8);
}

DBusMessage *
bus_wire_body_finish(BusWireBody *w, DBusError *error)
{
	DBusMessage *message = NULL;

	if (w->broken || w->depth != 0)
		dbus_set_error_const(error, DBUS_ERROR_INCONSISTENT_MESSAGE,
				     "containers left open or closed twice, "
				     "or nested too deep");
	else
		message = demarshal(w->b, w->fields, w->body_at, error);
	bus_wire_body_clear(w);
	return message;
}

/* ---- values written once, put into many bodies --------------------------- */

void
bus_wire_scratch_init(BusWireBody *w)
{
	memset(w, 0, sizeof(*w));
	w->b = g_byte_array_new();
}

GBytes *
bus_wire_scratch_finish(BusWireBody *w)
{
	GBytes *bytes = NULL;

	if (!w->broken && w->depth == 0)
		bytes = g_byte_array_free_to_bytes(g_steal_pointer(&w->b));
	bus_wire_body_clear(w);
	return bytes;
}

void
bus_wire_put(BusWireBody *w, GBytes *bytes)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);

	if (len == 0)
		return;
	/* Written from an 8-aligned start: the same bytes at any other. */
	pad(w->b, 8);
	g_byte_array_append(w->b, data, (guint)len);
}

/* ---- a reply kept, answered again ---------------------------------------- */

DBusMessage *
bus_wire_return_serial(DBusMessage *addressed, DBusMessage *call)
{
	g_autoptr(DBusMessage) copy = dbus_message_copy(addressed);

	/* A number of the same size: changed in place, unlike an
	 * addressee, whose new length moves the header after it. */
	if (copy == NULL ||
	    !dbus_message_set_reply_serial(copy,
					   dbus_message_get_serial(call)))
		return NULL;
	return g_steal_pointer(&copy);
}

DBusMessage *
bus_wire_return_again(DBusMessage *kept, DBusMessage *call)
{
	g_autoptr(DBusMessage) copy = dbus_message_copy(kept);

	/* The copy has serial 0 and is not locked: its header may change. */
	if (copy == NULL ||
	    !dbus_message_set_reply_serial(copy,
					   dbus_message_get_serial(call)) ||
	    !dbus_message_set_destination(copy,
					  dbus_message_get_sender(call)))
		return NULL;
	return g_steal_pointer(&copy);
}
