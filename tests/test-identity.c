/* Personal identity codes at the door of the real daemon (issues 14
 * and 20). Codes in many spellings, sent as the client reference of a
 * Book, as its idempotency key, as a plugin's free-text option, an
 * option key, a cancel reason, a status, a slot id and a list filter:
 * each call gets its named error (InvalidClientRef for the client
 * reference, InvalidArgs naming the field for the rest), no message
 * repeats the code, and neither the database nor slotd's log holds it
 * afterwards. The detector's own tests are tests/test-validate.c and
 * tests/identity-codes.py. */
#include <string.h>

#include "harness.h"

#define SNA "needs-assessment-west"
#define WALK_IN "social-counselling-walk-in"
#define SCHEDULER "org.slotd.Scheduler1"
#define ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define CLIENT_REF "org.slotd.Error.InvalidClientRef"

static Harness h;
static char *slot;	/* a free needs-assessment slot */
static char *walk_in;	/* a walk-in slot, or NULL */
static char *booking;	/* a real booking */

/* The spellings of issues 14 and 20, and more: none may enter. */
static const char *const client_refs[] = {
	"131052-308T", "131052308T", "131052.308T", "131052_308T",
	"131052--308T", "131052 308t", "hetu:131052-308T", "FI131052-308T",
	"010594Y9032", "020594x903p", "131052A308", "ref-131052-308T-2",
	"asiakas 131052 308T",
};

/* Every distinctive piece of the codes above: none may be stored or
 * logged. */
static const char *const pieces[] = {
	"131052", "308T", "308t", "010594", "020594",
};

static char *
sql(const char *query)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	const char *argv[] = { "sqlite3", db, query, NULL };
	char *out = NULL;

	g_assert_cmpint(harness_run(&h, &out, NULL, argv), ==, 0);
	return out;
}

/* Counters that any change would move. */
static char *
database_state(void)
{
	return sql("SELECT (SELECT count(*) FROM booking), "
		   "(SELECT total(booked) + total(held) FROM slot), "
		   "(SELECT count(*) FROM audit), "
		   "(SELECT count(*) FROM hold), "
		   "(SELECT group_concat(status || sequence) FROM booking);");
}

static GVariant *
options(const char *key, const char *value)
{
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	if (key)
		g_variant_dict_insert(&d, key, "s", value);
	return g_variant_dict_end(&d);
}

/* The call fails with `name`; the message names `field` (if given) and
 * repeats no piece of a code. */
static void
refused(const char *method, GVariant *args, const char *name,
	const char *field)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	g_autofree char *text = g_variant_print(args, FALSE);

	g_variant_ref_sink(args);
	r = harness_call(&h, SCHEDULER, method, args, NULL, &error);
	g_variant_unref(args);
	if (!error)
		g_error("%s%s was accepted; expected %s", method, text, name);
	if (g_test_verbose())
		g_printerr("%s%s -> %s\n", method, text, error->message);
	harness_assert_dbus_error(error, name);
	if (field && !strstr(error->message, field))
		g_error("%s%s: message does not name %s: %s", method, text,
			field, error->message);
	for (guint i = 0; i < G_N_ELEMENTS(pieces); i++)
		if (strstr(error->message, pieces[i]))
			g_error("%s%s: message repeats the code: %s", method,
				text, error->message);
}

static void
test_client_ref(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(client_refs); i++)
		refused("Book",
			g_variant_new("(ss@a{sv})", slot, client_refs[i],
				      options(NULL, NULL)),
			CLIENT_REF, "client reference");
}

static void
test_idempotency_key(void)
{
	refused("Book",
		g_variant_new("(ss@a{sv})", slot, "client-4711",
			      options("idempotency-key", "131052-308T")),
		ARGS, "idempotency-key");
	refused("Book",
		g_variant_new("(ss@a{sv})", slot, "client-4711",
			      options("idempotency-key", "k.131052.308t")),
		ARGS, "idempotency-key");
}

static void
test_options(void)
{
	/* A code as an option key is refused and never shown. */
	refused("Book",
		g_variant_new("(ss@a{sv})", slot, "client-4711",
			      options("hetu 131052-308T", "x")),
		ARGS, NULL);
	refused("Book",
		g_variant_new("(ss@a{sv})", slot, "client-4711",
			      options("hold", "h-131052-308T")),
		ARGS, "hold");
	refused("FindSlots",
		g_variant_new("(s@a{sv})", SNA,
			      options("municipality", "Lohja 131052 308T")),
		ARGS, "municipality");
	if (walk_in)
		refused("Book",
			g_variant_new("(ss@a{sv})", walk_in, "",
				      options("reason", "FI131052-308T")),
			ARGS, "reason");
	else
		g_test_message("no walk-in slot: plugin option not sent");
}

static void
test_cancel_and_status(void)
{
	const char *reasons[] = {
		"asiakas 131052 308T", "hetu 131052-308T soitti",
		"henkilötunnus 131052\xe2\x80\x93" "308T",
	};

	for (guint i = 0; i < G_N_ELEMENTS(reasons); i++)
		refused("Cancel", g_variant_new("(ss)", booking, reasons[i]),
			ARGS, "reason");
	refused("SetStatus", g_variant_new("(ss)", booking, "131052-308T"),
		ARGS, "status");
	refused("Hold", g_variant_new("(su)", "s-131052-308T", 60), ARGS,
		"slot id");
	refused("ListBookings",
		g_variant_new("(@a{sv})", options("client-ref", "131052308T")),
		ARGS, "client-ref");
}

/* What the refused calls left behind: nothing. */
static void
test_nothing_stored_or_logged(void)
{
	g_autofree char *status = NULL, *dump = NULL, *log = NULL;
	g_autofree char *q = g_strdup_printf(
		"SELECT status FROM booking WHERE id = %s;", booking + 2);

	status = sql(q);
	g_assert_cmpstr(g_strstrip(status), ==, "booked");
	dump = sql(".dump");
	g_assert_true(g_file_get_contents(h.log_path, &log, NULL, NULL));
	for (guint i = 0; i < G_N_ELEMENTS(pieces); i++) {
		if (strstr(dump, pieces[i]))
			g_error("the database holds '%s'", pieces[i]);
		if (strstr(log, pieces[i]))
			g_error("slotd's log holds '%s'", pieces[i]);
	}
}

static char *
first_slot(const char *service, guint index)
{
	g_autoptr(GVariant) slots = harness_find(
		&h, service,
		g_variant_new_parsed("{'municipality': <'Lohja'>, "
				     "'limit': <uint32 10>}"));
	const char *id;

	if (g_variant_n_children(slots) <= index)
		return NULL;
	g_variant_get_child(slots, index, "(&s&sxxu@a{sv})", &id, NULL, NULL,
			    NULL, NULL, NULL);
	return g_strdup(id);
}

static void
setup_data(void)
{
	g_autofree char *other = first_slot(SNA, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	slot = first_slot(SNA, 0);
	walk_in = first_slot(WALK_IN, 0);
	g_assert_nonnull(slot);
	g_assert_nonnull(other);
	r = harness_call(&h, SCHEDULER, "Book",
			 g_variant_new("(ss@a{sv})", other, "client-identity",
				       options(NULL, NULL)),
			 "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(s)", &booking);
}

static void
run_refusals(void)
{
	g_autofree char *before = database_state();
	g_autofree char *after = NULL;

	test_client_ref();
	test_idempotency_key();
	test_options();
	test_cancel_and_status();
	after = database_state();
	g_assert_cmpstr(after, ==, before);
}

int
main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	harness_start_example(&h, 14);
	setup_data();
	g_test_add_func("/identity/every-field-named-error-no-change",
			run_refusals);
	g_test_add_func("/identity/nothing-stored-or-logged",
			test_nothing_stored_or_logged);
	status = harness_finish(&h, g_test_run());
	g_free(slot);
	g_free(walk_in);
	g_free(booking);
	return status;
}
