/* An in-repository D-Bus fuzzer for the real daemon (dfuzzer is not
 * packaged in Debian 12). The methods come from slotd's own runtime
 * introspection; each call gets random arguments of the declared
 * signature or of a wrong one: huge and empty strings, control
 * characters, deep arrays and variants, boundary integers, unknown ids,
 * and valid ids from a dictionary filled from earlier answers, so that
 * calls also get past validation. After every call slotd must answer a
 * Peer.Ping; every error must be a named one; an error must leave the
 * database as it was (a digest of its tables before and after).
 *
 * SLOTD_FUZZ_CALLS (default 2000) and SLOTD_FUZZ_SEED (printed). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define OBJECT "/org/slotd/Slotd1"

static Harness h;

typedef struct {
	GRand *rand;
	GDBusConnection *conn;	/* the calls; the bus may close it */
	GPtrArray *methods;	/* Target */
	GPtrArray *words;	/* dictionary: ids learned and domain words */
	GSubprocess *sqlite;	/* one sqlite3 shell for the digests */
	GDataInputStream *sqlite_out;
	char *digest_sql;
	char *digest;		/* before the next call; NULL: unknown */
	guint calls, errors, local, learned, closed;
	GHashTable *error_names;
	gint64 worst_us;	/* the slowest answer */
	char *worst;		/* and its call */
	guint budget;		/* values left for this call's arguments */
	gboolean huge;		/* this call has its huge string */
} Fuzzer;

typedef struct {
	char *interface;
	char *method;
	char *signature;	/* the in arguments, as a tuple type */
} Target;

static const char *const allowed_errors[] = {
	"org.freedesktop.DBus.Error.InvalidArgs",
	"org.freedesktop.DBus.Error.AccessDenied",
	"org.freedesktop.DBus.Error.UnknownMethod",
	"org.freedesktop.DBus.Error.UnknownInterface",
	"org.freedesktop.DBus.Error.UnknownObject",
	"org.freedesktop.DBus.Error.UnknownProperty",
	"org.freedesktop.DBus.Error.PropertyReadOnly", NULL
};

/* Failures of slotd itself, never an answer to bad input. */
static const char *const internal_errors[] = {
	"org.slotd.Error.Failed", "org.slotd.Error.StorageUnavailable", NULL
};

static const char *const domain_words[] = {
	"needs-assessment-west", "needs-assessment-east", "short-therapy",
	"remote-counselling", "crisis-duty-west", "home-hospital-east",
	"social-counselling-walk-in", "W-SNA-LV", "E-SNA", "W-HH-LOH",
	"Lohja", "lojo", "444", "Porvoo", "Borgå", "fi", "sv", "en", "xx",
	"booked", "arrived", "checked-in", "fulfilled", "noshow",
	"cancelled", "entered-in-error", "routine", "urgent", "immediate",
	"home", "video", "phone", "in-person", "fixed", "walk-in",
	"131052-308T", "010100A123D", "s-0", "b-0", "h-0", "s-", "b--1",
	"s-99999999999999999999", "b-9223372036854775807", "h-1x",
	"'; DROP TABLE booking; --", "%s%s%n", "a\nb", "\t", "\x7f",
	"Mörskom", "\xe2\x80\xae", "\xf0\x9f\x98\x80", " ", ".", "..",
	"public", "x",
};

static const char *const option_keys[] = {
	"municipality", "language", "from", "to", "limit", "modality",
	"max-travel-minutes", "hold", "urgency", "referral-time",
	"idempotency-key", "unit", "service", "status", "client-ref",
	"needs-rebooking", "age", "visits", "interval-hours", "bogus", "",
};

static gint64
boundary_int(Fuzzer *f)
{
	static const gint64 values[] = {
		0, 1, -1, 2, 59, 60, 900, 901, 3600, G_MAXINT32, G_MININT32,
		G_MAXUINT32, G_MAXINT64, G_MININT64, 1796619600, 4102444800,
	};

	if (g_rand_boolean(f->rand))
		return values[g_rand_int_range(f->rand, 0,
					       G_N_ELEMENTS(values))];
	return (gint64)g_rand_int(f->rand) - G_MAXINT32;
}

/* Never an absolute path outside the test's directory: Admin1.Backup
 * and its kind write where they are told. */
static char *
fuzz_string(Fuzzer *f)
{
	gint32 dice = g_rand_int_range(f->rand, 0, 100);

	if (dice < 40)
		return g_strdup(f->words->pdata[g_rand_int_range(
			f->rand, 0, (gint32)f->words->len)]);
	if (dice < 48)
		return g_strdup("");
	if (dice < 52)
		return g_strnfill(g_rand_int_range(f->rand, 60, 70), 'x');
	if (dice < 55 && !f->huge) {
		f->huge = TRUE;
		return g_strnfill(g_rand_int_range(f->rand, 1000, 200000),
				  'A');
	}
	if (dice < 62)
		return g_strdup_printf("%s/fuzz-%u", h.tmpdir,
				       g_rand_int(f->rand));
	{
		guint n = (guint)g_rand_int_range(f->rand, 1, 40);
		char *s = g_malloc(n + 1);

		for (guint i = 0; i < n; i++)
			s[i] = (char)g_rand_int_range(f->rand, 1, 128);
		s[n] = '\0';
		if (s[0] == '/')
			s[0] = '_';
		return s;
	}
}

static GVariant *fuzz_value(Fuzzer *f, const GVariantType *type,
			    guint depth);

static const GVariantType *
random_type(Fuzzer *f, guint depth)
{
	static const char *const simple[] = { "s", "u", "i", "x", "t", "b",
					      "y", "n", "q", "d", "o", "g",
					      "as", "a{sv}", "v", "(su)",
					      "ay", "a{ss}", "(ssa{sv})" };

	if (depth < 40 && g_rand_int_range(f->rand, 0, 10) == 0) {
		/* Deep arrays, past what D-Bus allows now and then. */
		guint n = (guint)g_rand_int_range(f->rand, 2, 34);
		g_autofree char *deep = g_strnfill(n, 'a');
		g_autofree char *t = g_strconcat(deep, "s", NULL);

		return G_VARIANT_TYPE(g_intern_string(t));
	}
	return G_VARIANT_TYPE(
		simple[g_rand_int_range(f->rand, 0, G_N_ELEMENTS(simple))]);
}

static GVariant *
fuzz_basic(Fuzzer *f, const GVariantType *type)
{
	gint64 i = boundary_int(f);

	switch (g_variant_type_peek_string(type)[0]) {
	case 'b': return g_variant_new_boolean(i & 1);
	case 'y': return g_variant_new_byte((guchar)i);
	case 'n': return g_variant_new_int16((gint16)i);
	case 'q': return g_variant_new_uint16((guint16)i);
	case 'i': return g_variant_new_int32((gint32)i);
	case 'u': return g_variant_new_uint32((guint32)i);
	case 'x': return g_variant_new_int64(i);
	case 't': return g_variant_new_uint64((guint64)i);
	case 'd': return g_variant_new_double(g_rand_boolean(f->rand) ?
						      (double)i : 1e308 * 10);
	case 'o': return g_variant_new_object_path(
			  g_rand_boolean(f->rand) ? "/" : OBJECT);
	case 'g': return g_variant_new_signature(
			  g_rand_boolean(f->rand) ? "" : "a{sv}");
	case 'h': return g_variant_new_handle(0);
	default: {
		g_autofree char *s = fuzz_string(f);

		return g_variant_new_take_string(g_steal_pointer(&s));
	}
	}
}

/* a{sv} with the keys the contract knows, right or wrong values. */
static GVariant *
fuzz_options(Fuzzer *f, guint depth)
{
	GVariantBuilder b;
	guint n = MIN((guint)g_rand_int_range(f->rand, 0, 5), f->budget);

	f->budget -= n;
	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	for (guint i = 0; i < n; i++) {
		const char *key = option_keys[g_rand_int_range(
			f->rand, 0, G_N_ELEMENTS(option_keys))];
		const GVariantType *t = g_rand_boolean(f->rand) ?
			G_VARIANT_TYPE_STRING : random_type(f, depth + 1);

		g_variant_builder_add(&b, "{sv}", key,
				      fuzz_value(f, t, depth + 1));
	}
	return g_variant_builder_end(&b);
}

static GVariant *
fuzz_container(Fuzzer *f, const GVariantType *type, guint depth)
{
	GVariantBuilder b;

	if (g_variant_type_is_variant(type))
		return g_variant_new_variant(
			fuzz_value(f, random_type(f, depth), depth + 1));
	if (g_variant_type_equal(type, G_VARIANT_TYPE("a{sv}")))
		return fuzz_options(f, depth);
	g_variant_builder_init(&b, type);
	if (g_variant_type_is_array(type)) {
		const GVariantType *elem = g_variant_type_element(type);
		guint n = depth > 6 ? 1 :
			  (guint)g_rand_int_range(f->rand, 0, 6);

		if (g_rand_int_range(f->rand, 0, 30) == 0)
			n = 300;
		/* A budget per call keeps nested arrays from exploding. */
		n = MIN(n, f->budget);
		f->budget -= n;
		for (guint i = 0; i < n; i++)
			g_variant_builder_add_value(
				&b, fuzz_value(f, elem, depth + 1));
		return g_variant_builder_end(&b);
	}
	for (const GVariantType *t = g_variant_type_first(type); t;
	     t = g_variant_type_next(t))
		g_variant_builder_add_value(&b, fuzz_value(f, t, depth + 1));
	return g_variant_builder_end(&b);
}

static GVariant *
fuzz_value(Fuzzer *f, const GVariantType *type, guint depth)
{
	if (g_variant_type_is_basic(type))
		return fuzz_basic(f, type);
	return fuzz_container(f, type, depth);
}

/* The declared signature mostly; a wrong one now and then. */
static GVariant *
fuzz_args(Fuzzer *f, const Target *t)
{
	GVariantBuilder b;
	guint n;

	f->budget = 1000;
	f->huge = FALSE;
	if (g_rand_int_range(f->rand, 0, 100) >= 25)
		return fuzz_value(f, G_VARIANT_TYPE(t->signature), 0);
	n = (guint)g_rand_int_range(f->rand, 0, 5);
	g_variant_builder_init(&b, G_VARIANT_TYPE_TUPLE);
	for (guint i = 0; i < n; i++)
		g_variant_builder_add_value(
			&b, fuzz_value(f, random_type(f, 0), 1));
	return g_variant_builder_end(&b);
}

/* ---- the dictionary ------------------------------------------------- */

/* Slot, booking and hold ids, and feed tokens (32 of [a-z2-7]). */
static gboolean
looks_like_id(const char *s)
{
	if (strlen(s) == 32 &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz234567") == 32)
		return TRUE;
	return (s[0] == 's' || s[0] == 'b' || s[0] == 'h') && s[1] == '-' &&
	       g_ascii_isdigit(s[2]) && strlen(s) < 24;
}

static void
learn(Fuzzer *f, GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
		const char *s = g_variant_get_string(value, NULL);

		if (looks_like_id(s) && f->words->len < 4000) {
			g_ptr_array_add(f->words, g_strdup(s));
			f->learned++;
		}
		return;
	}
	if (g_variant_is_container(value)) {
		gsize n = MIN(g_variant_n_children(value), 64);

		for (gsize i = 0; i < n; i++) {
			g_autoptr(GVariant) child =
				g_variant_get_child_value(value, i);

			learn(f, child);
		}
	}
}

/* ---- the database digest -------------------------------------------- */

static char *
sqlite_ask(Fuzzer *f, const char *query)
{
	g_autofree char *text = g_strdup_printf("%s\n.print @@end@@\n",
						query);
	GOutputStream *in = g_subprocess_get_stdin_pipe(f->sqlite);
	g_autoptr(GError) error = NULL;
	GString *answer = g_string_new(NULL);

	g_output_stream_write_all(in, text, strlen(text), NULL, NULL, &error);
	g_assert_no_error(error);
	for (;;) {
		g_autofree char *line = g_data_input_stream_read_line(
			f->sqlite_out, NULL, NULL, &error);

		g_assert_no_error(error);
		g_assert_nonnull(line);
		if (g_str_equal(line, "@@end@@"))
			break;
		g_string_append_printf(answer, "%s\n", line);
	}
	return g_string_free(answer, FALSE);
}

/* Everything an error must not touch. Holds are left out: they expire
 * by themselves between two calls; their ids (sqlite_sequence) stay. */
static void
digest_setup(Fuzzer *f)
{
	g_autofree char *tables = sqlite_ask(
		f, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
		   "name NOT IN ('hold', 'hold_use', 'sqlite_sequence') ORDER BY name;");
	g_auto(GStrv) names = g_strsplit(g_strstrip(tables), "\n", -1);
	GString *q = g_string_new(
		"SELECT (SELECT group_concat(name || '=' || seq) FROM "
		"sqlite_sequence), (SELECT count(*) || '/' || total(sequence) "
		"|| '/' || total(modified) || '/' || total(slot) FROM "
		"booking), (SELECT total(booked) || '/' || total(capacity) || "
		"'/' || total(status = 'free') FROM slot), (SELECT "
		"total(seats) FROM booking_use)");

	for (guint i = 0; names[i] && *names[i]; i++)
		g_string_append_printf(q, ", (SELECT count(*) FROM \"%s\")",
				       names[i]);
	g_string_append(q, ";");
	f->digest_sql = g_string_free(q, FALSE);
}

static char *
digest(Fuzzer *f)
{
	return sqlite_ask(f, f->digest_sql);
}

static void
sqlite_start(Fuzzer *f)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	g_autoptr(GError) error = NULL;

	f->sqlite = g_subprocess_new(G_SUBPROCESS_FLAGS_STDIN_PIPE |
					     G_SUBPROCESS_FLAGS_STDOUT_PIPE,
				     &error, "sqlite3", "-batch", "-readonly",
				     db, NULL);
	g_assert_no_error(error);
	f->sqlite_out = g_data_input_stream_new(
		g_subprocess_get_stdout_pipe(f->sqlite));
	digest_setup(f);
}

/* ---- targets -------------------------------------------------------- */

static char *
in_signature(const GDBusMethodInfo *m)
{
	GString *s = g_string_new("(");

	for (guint i = 0; m->in_args && m->in_args[i]; i++)
		g_string_append(s, m->in_args[i]->signature);
	g_string_append_c(s, ')');
	return g_string_free(s, FALSE);
}

static void
target_free(Target *t)
{
	g_free(t->interface);
	g_free(t->method);
	g_free(t->signature);
	g_free(t);
}

static void
load_targets(Fuzzer *f)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(
		&h, "org.freedesktop.DBus.Introspectable", "Introspect", NULL,
		"(s)", &error);
	g_autoptr(GDBusNodeInfo) node = NULL;
	const char *xml;

	g_assert_no_error(error);
	g_variant_get(r, "(&s)", &xml);
	node = g_dbus_node_info_new_for_xml(xml, &error);
	g_assert_no_error(error);
	f->methods = g_ptr_array_new_with_free_func(
		(GDestroyNotify)target_free);
	for (guint i = 0; node->interfaces[i]; i++) {
		GDBusInterfaceInfo *iface = node->interfaces[i];

		for (guint j = 0; iface->methods && iface->methods[j]; j++) {
			Target *t = g_new0(Target, 1);

			t->interface = g_strdup(iface->name);
			t->method = g_strdup(iface->methods[j]->name);
			t->signature = in_signature(iface->methods[j]);
			g_ptr_array_add(f->methods, t);
		}
	}
	g_assert_cmpuint(f->methods->len, >=, 15);
}

/* ---- one call ------------------------------------------------------- */

static GDBusMessage *
fuzz_message(Fuzzer *f, const Target *t)
{
	gint32 dice = g_rand_int_range(f->rand, 0, 100);
	const char *path = OBJECT, *iface = t->interface, *member = t->method;
	GDBusMessage *m;

	if (dice < 2)
		path = "/org/slotd/Nowhere";
	else if (dice < 4)
		iface = NULL;
	else if (dice < 6)
		iface = "org.slotd.NoSuchInterface1";
	else if (dice < 8)
		member = "NoSuchMethod";
	m = g_dbus_message_new_method_call("org.slotd.Slotd1", path, iface,
					   member);
	g_dbus_message_set_body(m, fuzz_args(f, t));
	return m;
}

static void
ping_or_die(Fuzzer *f, const char *after)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
		h.conn, "org.slotd.Slotd1", OBJECT,
		"org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
		G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);

	if (!r)
		g_error("slotd does not answer a ping after %s: %s", after,
			error->message);
}

static void
check_error(Fuzzer *f, const char *what, const char *name,
	    const char *message)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(f->error_names, name));

	g_hash_table_replace(f->error_names, g_strdup(name),
			     GUINT_TO_POINTER(n + 1));
	if (g_strv_contains(internal_errors, name) ||
	    (!g_str_has_prefix(name, "org.slotd.Error.") &&
	     !g_strv_contains(allowed_errors, name)))
		g_error("%s answered %s: %s", what, name, message);
}

static void
answered(Fuzzer *f, const char *what, GDBusMessage *reply)
{
	if (g_dbus_message_get_message_type(reply) ==
	    G_DBUS_MESSAGE_TYPE_ERROR) {
		g_autofree char *after = digest(f);

		f->errors++;
		check_error(f, what, g_dbus_message_get_error_name(reply),
			    g_dbus_message_get_arg0(reply));
		if (g_strcmp0(after, f->digest) != 0)
			g_error("%s failed but changed the database:\nbefore "
				"%safter  %s", what, f->digest, after);
		return;
	}
	if (g_dbus_message_get_body(reply))
		learn(f, g_dbus_message_get_body(reply));
	g_clear_pointer(&f->digest, g_free);
}

static GDBusConnection *
fuzz_connect(void)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *c = g_dbus_connection_new_for_address_sync(
		h.address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);

	g_assert_no_error(error);
	return c;
}

static void
fuzz_one(Fuzzer *f)
{
	const Target *t = f->methods->pdata[g_rand_int_range(
		f->rand, 0, (gint32)f->methods->len)];
	g_autoptr(GDBusMessage) m = fuzz_message(f, t);
	g_autoptr(GDBusMessage) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *what = g_strdup_printf(
		"call %u %s.%s%s", f->calls, t->interface, t->method,
		g_variant_get_type_string(g_dbus_message_get_body(m)));
	gint64 sent;

	if (!f->digest)
		f->digest = digest(f);
	if (!f->conn || g_dbus_connection_is_closed(f->conn)) {
		g_clear_object(&f->conn);
		f->conn = fuzz_connect();
	}
	sent = g_get_monotonic_time();
	reply = g_dbus_connection_send_message_with_reply_sync(
		f->conn, m, G_DBUS_SEND_MESSAGE_FLAGS_NONE, 20000, NULL, NULL,
		&error);
	f->calls++;
	if (g_get_monotonic_time() - sent > f->worst_us) {
		f->worst_us = g_get_monotonic_time() - sent;
		g_free(f->worst);
		f->worst = g_strdup(what);
	}
	if (!reply) {
		/* GDBus refused to send it (too deep, too big), or the bus
		 * closed the connection over it: slotd never saw it. */
		if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
			g_error("%s: no answer in 20 s", what);
		if (g_dbus_connection_is_closed(f->conn))
			f->closed++;
		else
			f->local++;
	} else {
		answered(f, what, reply);
	}
	ping_or_die(f, what);
}

/* ---- the test ------------------------------------------------------- */

static void
seed_dictionary(Fuzzer *f)
{
	static const char *const services[] = { "needs-assessment-west",
						"short-therapy" };

	f->words = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < G_N_ELEMENTS(domain_words); i++)
		g_ptr_array_add(f->words, g_strdup(domain_words[i]));
	for (guint i = 0; i < G_N_ELEMENTS(services); i++) {
		GVariantDict d;
		g_autoptr(GVariant) slots = NULL;

		g_variant_dict_init(&d, NULL);
		g_variant_dict_insert(&d, "limit", "u", 30);
		slots = harness_find(&h, services[i], g_variant_dict_end(&d));
		learn(f, slots);
		for (guint k = 0; k < 3; k++) {
			g_autoptr(GVariant) slot =
				g_variant_get_child_value(slots, k);
			g_autoptr(GVariant) r = NULL;
			const char *id;

			g_variant_get_child(slot, 0, "&s", &id);
			r = harness_call(&h, "org.slotd.Scheduler1", "Book",
					 g_variant_new("(ss@a{sv})", id,
						       "fuzz-seed",
						       g_variant_new("a{sv}",
								     NULL)),
					 "(s)", NULL);
			if (r)
				learn(f, r);
		}
	}
}

static void
test_fuzz_every_method(void)
{
	const char *seed_text = g_getenv("SLOTD_FUZZ_SEED");
	const char *calls_text = g_getenv("SLOTD_FUZZ_CALLS");
	guint32 seed = seed_text ? (guint32)strtoul(seed_text, NULL, 10) :
				   g_random_int();
	guint n = calls_text ? (guint)strtoul(calls_text, NULL, 10) : 2000;
	Fuzzer f = { 0 };
	gint64 started = g_get_monotonic_time();

	g_print("fuzz-bus: SLOTD_FUZZ_SEED=%u SLOTD_FUZZ_CALLS=%u\n", seed, n);
	f.rand = g_rand_new_with_seed(seed);
	f.error_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      NULL);
	load_targets(&f);
	seed_dictionary(&f);
	sqlite_start(&f);
	for (guint i = 0; i < n; i++)
		fuzz_one(&f);
	g_print("fuzz-bus: %u calls to %u methods in %.1f s: %u named errors, "
		"%u not sent (GDBus refused), %u stopped by the bus, %u ids "
		"learned\n",
		f.calls, f.methods->len,
		(g_get_monotonic_time() - started) / 1e6, f.errors, f.local,
		f.closed, f.learned);
	g_print("fuzz-bus: slowest answer %.1f ms (%.120s)\n",
		f.worst_us / 1000.0, f.worst);
	{
		GHashTableIter iter;
		gpointer key, value;

		g_hash_table_iter_init(&iter, f.error_names);
		while (g_hash_table_iter_next(&iter, &key, &value))
			g_print("fuzz-bus:   %s: %u\n", (const char *)key,
				GPOINTER_TO_UINT(value));
	}
	g_assert_cmpuint(f.errors, >, n / 4);
	g_assert_cmpuint(f.errors, <, n);
	g_clear_object(&f.conn);
	g_subprocess_force_exit(f.sqlite);
	g_object_unref(f.sqlite_out);
	g_object_unref(f.sqlite);
	g_free(f.digest_sql);
	g_free(f.digest);
	g_free(f.worst);
	g_ptr_array_unref(f.methods);
	g_ptr_array_unref(f.words);
	g_hash_table_unref(f.error_names);
	g_rand_free(f.rand);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	harness_start_example(&h, 21);
	g_test_add_func("/fuzz-bus/every-method/named-errors-no-change",
			test_fuzz_every_method);
	/* Still alive and still stops cleanly after all that. */
	return harness_finish(&h, g_test_run());
}
