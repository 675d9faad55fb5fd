/* Bad input of every kind, for every method: each call gets its named
 * error, the message says nothing about SQL or files, and the database
 * is exactly as before. */
#include <signal.h>
#include <string.h>

#include "harness.h"

#define SNA "needs-assessment-west"
#define ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define E(name) "org.slotd.Error." name

static Harness h;
static char *slot;	/* a real free slot */
static char *booking;	/* a real booking */
static char *long_id;	/* 65 characters */

typedef struct {
	const char *interface;
	const char *method;
	const char *args;	/* GVariant text; %SLOT%, %BOOKING%, %LONG% */
	const char *error;
} BadCall;

static const BadCall bad_calls[] = {
	/* wrong signatures */
	{ "Scheduler1", "ListServices", "('x',)", ARGS },
	{ "Scheduler1", "ListUnits", "(1,)", ARGS },
	{ "Scheduler1", "FindSlots", "('" SNA "',)", ARGS },
	{ "Scheduler1", "Hold", "('%SLOT%',)", ARGS },
	{ "Scheduler1", "Hold", "('%SLOT%', int64 60)", ARGS },
	{ "Scheduler1", "Book", "('%SLOT%', 'c-1')", ARGS },
	{ "Scheduler1", "BookSeries", "('%SLOT%', 'c-1', @a{sv} {})", ARGS },
	{ "Scheduler1", "Cancel", "('%BOOKING%',)", ARGS },
	{ "Scheduler1", "Reschedule", "('%BOOKING%', 5)", ARGS },
	{ "Scheduler1", "RescheduleWith", "('%BOOKING%', '%SLOT%')", ARGS },
	{ "Scheduler1", "SetStatus", "('%BOOKING%',)", ARGS },
	{ "Scheduler1", "GetBooking", "(@a{sv} {},)", ARGS },
	{ "Scheduler1", "ListBookings", "('x',)", ARGS },
	{ "Admin1", "ListPlugins", "('x',)", ARGS },
	{ "Admin1", "Reload", "(true,)", ARGS },
	{ "Admin1", "Backup", "(1,)", ARGS },
	/* FindSlots */
	{ "Scheduler1", "FindSlots", "('', @a{sv} {})", ARGS },
	{ "Scheduler1", "FindSlots", "('%LONG%', @a{sv} {})", ARGS },
	{ "Scheduler1", "FindSlots", "('no-such-service', @a{sv} {})",
	  E("NoSuchService") },
	{ "Scheduler1", "FindSlots", "('" SNA "', {'bogus': <1>})", ARGS },
	{ "Scheduler1", "FindSlots", "('" SNA "', {'limit': <'ten'>})", ARGS },
	{ "Scheduler1", "FindSlots", "('" SNA "', {'limit': <uint32 0>})",
	  ARGS },
	{ "Scheduler1", "FindSlots", "('" SNA "', {'from': <int64 -5>})",
	  ARGS },
	{ "Scheduler1", "FindSlots",
	  "('" SNA "', {'to': <int64 99999999999999>})", ARGS },
	{ "Scheduler1", "FindSlots",
	  "('" SNA "', {'from': <int64 1800000000>, 'to': <int64 1700000000>})",
	  ARGS },
	{ "Scheduler1", "FindSlots", "('" SNA "', {'municipality': <'Helsinki'>})",
	  ARGS },
	{ "Scheduler1", "FindSlots", "('" SNA "', {'municipality': <'Loh\\nja'>})",
	  ARGS },
	{ "Scheduler1", "FindSlots", "('" SNA "', {'language': <'de'>})", ARGS },
	{ "Scheduler1", "FindSlots", "('" SNA "', {'modality': <'telepathy'>})",
	  ARGS },
	/* Hold */
	{ "Scheduler1", "Hold", "('%SLOT%', uint32 0)", ARGS },
	{ "Scheduler1", "Hold", "('%SLOT%', uint32 999999)", ARGS },
	{ "Scheduler1", "Hold", "('nope', uint32 60)", E("NoSuchSlot") },
	{ "Scheduler1", "Hold", "('s-99999999', uint32 60)", E("NoSuchSlot") },
	{ "Scheduler1", "Hold", "('s 1', uint32 60)", ARGS },
	/* Book */
	{ "Scheduler1", "Book", "('%SLOT%', '010190-123A', @a{sv} {})",
	  E("InvalidClientRef") },
	{ "Scheduler1", "Book", "('%SLOT%', 'x131052A308T', @a{sv} {})",
	  E("InvalidClientRef") },
	{ "Scheduler1", "Book", "('%SLOT%', 'abc\\n', @a{sv} {})",
	  E("InvalidClientRef") },
	{ "Scheduler1", "Book", "('%SLOT%', '', @a{sv} {})",
	  E("InvalidClientRef") },
	{ "Scheduler1", "Book", "('%SLOT%', '%LONG%', @a{sv} {})",
	  E("InvalidClientRef") },
	{ "Scheduler1", "Book", "('%SLOT%', 'c-1', {'urgency': <'asap'>})",
	  ARGS },
	{ "Scheduler1", "Book", "('%SLOT%', 'c-1', {'hold': <'h-99999999'>})",
	  E("NoSuchHold") },
	{ "Scheduler1", "Book",
	  "('%SLOT%', 'c-1', {'referral-time': <int64 99999999999>})", ARGS },
	{ "Scheduler1", "Book", "('%SLOT%', 'c-1', {'idempotency-key': <''>})",
	  ARGS },
	{ "Scheduler1", "Book", "('%SLOT%', 'c-1', {'language': <'en'>})",
	  E("PolicyViolation") },
	{ "Scheduler1", "Book", "('%SLOT%', 'c-1', {'episode': <'iv'>})",
	  ARGS },
	{ "Scheduler1", "Book", "('%SLOT%', 'c-1', {'municipality': <42>})",
	  ARGS },
	{ "Scheduler1", "Book", "('s-99999999', 'c-1', @a{sv} {})",
	  E("NoSuchSlot") },
	/* BookSeries */
	{ "Scheduler1", "BookSeries", "(@as [], 'c-1', @a{sv} {})", ARGS },
	{ "Scheduler1", "BookSeries", "(['%SLOT%', '%SLOT%'], 'c-1', @a{sv} {})",
	  ARGS },
	{ "Scheduler1", "BookSeries",
	  "(['%SLOT%', 's-99999999'], 'c-1', @a{sv} {})", E("NoSuchSlot") },
	/* Cancel, Reschedule, SetStatus */
	{ "Scheduler1", "Cancel", "('b-99999999', 'x')", E("NoSuchBooking") },
	{ "Scheduler1", "Cancel", "('bogus', '')", E("NoSuchBooking") },
	{ "Scheduler1", "Cancel", "('', '')", ARGS },
	{ "Scheduler1", "Cancel", "('%BOOKING%', 'bad\\u0001reason')", ARGS },
	{ "Scheduler1", "Cancel", "('%BOOKING%', 'client 010190-123A called')",
	  ARGS },
	{ "Scheduler1", "Reschedule", "('b-99999999', '%SLOT%')",
	  E("NoSuchBooking") },
	{ "Scheduler1", "Reschedule", "('%BOOKING%', 's-99999999')",
	  E("NoSuchSlot") },
	{ "Scheduler1", "RescheduleWith",
	  "('%BOOKING%', '%SLOT%', {'practitioner': <5>})", ARGS },
	{ "Scheduler1", "RescheduleWith",
	  "('%BOOKING%', '%SLOT%', {'practitioner': <'010190-123A'>})",
	  ARGS },
	{ "Scheduler1", "RescheduleWith",
	  "('%BOOKING%', '%SLOT%', {'seats': <uint32 2>})", ARGS },
	{ "Scheduler1", "SetStatus", "('%BOOKING%', 'done')", ARGS },
	{ "Scheduler1", "SetStatus", "('%BOOKING%', 'booked')", ARGS },
	{ "Scheduler1", "SetStatus", "('b-99999999', 'arrived')",
	  E("NoSuchBooking") },
	/* GetBooking, ListBookings */
	{ "Scheduler1", "GetBooking", "('',)", ARGS },
	{ "Scheduler1", "GetBooking", "('b-0',)", E("NoSuchBooking") },
	{ "Scheduler1", "GetBooking", "('b-18446744073709551616',)",
	  E("NoSuchBooking") },
	{ "Scheduler1", "ListBookings", "({'limit': <uint32 0>},)", ARGS },
	{ "Scheduler1", "ListBookings", "({'unit': <'x y'>},)", ARGS },
	{ "Scheduler1", "ListBookings", "({'foo': <1>},)", ARGS },
	{ "Scheduler1", "ListBookings", "({'from': <'monday'>},)", ARGS },
	/* Admin */
	{ "Admin1", "Backup", "('relative/file.db',)", ARGS },
	{ NULL }
};

static char *
expand(const char *text)
{
	g_autoptr(GString) s = g_string_new(text);

	g_string_replace(s, "%SLOT%", slot, 0);
	g_string_replace(s, "%BOOKING%", booking, 0);
	g_string_replace(s, "%LONG%", long_id, 0);
	return g_string_free(g_steal_pointer(&s), FALSE);
}

/* Counters that any change would move. */
static char *
database_state(void)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	const char *argv[] = {
		"sqlite3", db,
		"SELECT (SELECT count(*) FROM booking), "
		"(SELECT total(booked) + total(held) FROM slot), "
		"(SELECT count(*) FROM audit), "
		"(SELECT count(*) FROM hold), "
		"(SELECT group_concat(status || sequence) FROM booking);",
		NULL
	};
	char *out = NULL;

	g_assert_cmpint(harness_run(&h, &out, NULL, argv), ==, 0);
	return out;
}

static void
test_every_bad_call(void)
{
	g_autofree char *before = database_state();
	g_autofree char *after = NULL;

	for (const BadCall *c = bad_calls; c->method; c++) {
		g_autofree char *text = expand(c->args);
		g_autofree char *iface = g_strconcat("org.slotd.", c->interface,
						     NULL);
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) args = g_variant_parse(NULL, text, NULL,
							   NULL, &error);
		g_autoptr(GVariant) r = NULL;

		g_assert_no_error(error);
		r = harness_call(&h, iface, c->method, g_variant_ref(args),
				 NULL, &error);
		if (!error)
			g_error("%s%s succeeded; expected %s", c->method, text,
				c->error);
		if (g_test_verbose())
			g_printerr("%s%s -> %s\n", c->method, text,
				   error->message);
		harness_assert_dbus_error(error, c->error);
		g_assert_null(strstr(error->message, "SELECT"));
		g_assert_null(strstr(error->message, "sqlite"));
		g_assert_null(strstr(error->message, "slotd.db"));
		g_assert_null(strstr(error->message, h.tmpdir));
		g_assert_null(strstr(error->message, "010190-123A"));
	}
	after = database_state();
	g_assert_cmpstr(before, ==, after);
}

static void
test_daemon_still_answers(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
		h.conn, "org.slotd.Slotd1", "/org/slotd/Slotd1",
		"org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
		G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);

	g_assert_no_error(error);
}

static void
setup_data(void)
{
	g_autoptr(GVariant) slots = harness_find(
		&h, SNA, g_variant_new_parsed("{'municipality': <'Lohja'>}"));
	g_autoptr(GVariant) r = NULL;
	g_autoptr(GError) error = NULL;
	const char *id;

	/* The Lohja-area team (fi, sv) comes first for a Lohja client. */
	g_assert_cmpuint(g_variant_n_children(slots), >, 1);
	g_variant_get_child(slots, 0, "(&s&sxxu@a{sv})", &id, NULL, NULL, NULL,
			    NULL, NULL);
	slot = g_strdup(id);
	g_variant_get_child(slots, 1, "(&s&sxxu@a{sv})", &id, NULL, NULL, NULL,
			    NULL, NULL);
	r = harness_call(&h, "org.slotd.Scheduler1", "Book",
			 g_variant_new("(ss@a{sv})", id, "client-bad-input",
				       g_variant_new("a{sv}", NULL)),
			 "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(s)", &booking);
	long_id = g_strnfill(65, 'a');
}

int
main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	harness_init(&h);
	h.horizon_days = 14;
	harness_start_slotd(&h, NULL);
	setup_data();
	g_test_add_func("/bad-input/every-method/named-error-no-change",
			test_every_bad_call);
	g_test_add_func("/bad-input/daemon-still-answers",
			test_daemon_still_answers);
	status = g_test_run();
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
	g_free(slot);
	g_free(booking);
	g_free(long_id);
	return status;
}
