/* org.slotd.Scheduler1 end to end: the real daemon with the example
 * region on a private bus, called through slotctl, GDBus, gdbus and
 * dbus-send. The daemon's clock starts on Monday 2026-12-07 07:00. */
#include <signal.h>
#include <string.h>

#include "harness.h"

#define SNA "needs-assessment-west"

static Harness h;

static GVariant *
query_lohja(void)
{
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	g_variant_dict_insert(&d, "limit", "u", 200);
	return g_variant_dict_end(&d);
}

/* A free slot id of W-SNA-LV (Lohja area) on a given local day. */
static char *
slot_on(int day, int hour, int minute, guint *ret_free)
{
	g_autoptr(GVariant) slots = harness_find(&h, SNA, query_lohja());
	gint64 want = harness_local(2026, 12, day, hour, minute);

	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id, *unit;
		gint64 start, end;
		guint free;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, &unit,
				    &start, &end, &free, NULL);
		if (g_str_equal(unit, "W-SNA-LV") && start == want) {
			if (ret_free)
				*ret_free = free;
			return g_strdup(id);
		}
	}
	g_error("no W-SNA-LV slot on 2026-12-%02d %02d:%02d", day, hour,
		minute);
	return NULL;
}

static GVariant *
get_booking(const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Scheduler1",
					     "GetBooking",
					     g_variant_new("(s)", id),
					     "(a{sv})", &error);

	g_assert_no_error(error);
	return g_variant_get_child_value(r, 0);
}

static char *
book(const char *slot, const char *client, GVariant *options,
     GError **error)
{
	return harness_book(&h, slot, client, options, error);
}

static void
test_services_through_every_client(void)
{
	g_autofree char *out = NULL, *err = NULL;
	const char *gdbus[] = { "gdbus", "call", "--session", "--dest",
				"org.slotd.Slotd1", "--object-path",
				"/org/slotd/Slotd1", "--method",
				"org.slotd.Scheduler1.ListServices", NULL };
	const char *send[] = { "dbus-send", "--session", "--print-reply",
			       "--dest=org.slotd.Slotd1", "/org/slotd/Slotd1",
			       "org.slotd.Scheduler1.ListUnits", NULL };

	g_assert_cmpint(harness_slotctl(&h, &out, &err, "services", NULL), ==,
			0);
	g_assert_nonnull(strstr(out, SNA));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_run(&h, &out, &err, gdbus), ==, 0);
	g_assert_nonnull(strstr(out, "'needs-assessment-west', 'fixed'"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_run(&h, &out, &err, send), ==, 0);
	g_assert_nonnull(strstr(out, "W-SO-LOH"));
	g_assert_nonnull(strstr(out, "444"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "units", "--json",
					NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "\"W-HH-LOH\""));
}

static void
test_municipality_by_code_or_name(void)
{
	const char *names[] = { "444", "Lohja", "lojo", "LOJO" };
	g_autoptr(GVariant) first = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		GVariantDict d;
		g_autoptr(GVariant) slots = NULL;

		g_variant_dict_init(&d, NULL);
		g_variant_dict_insert(&d, "municipality", "s", names[i]);
		slots = harness_find(&h, SNA, g_variant_dict_end(&d));
		g_assert_cmpuint(g_variant_n_children(slots), >, 0);
		if (!first)
			first = g_variant_ref(slots);
		else
			g_assert_true(g_variant_equal(first, slots));
	}
}

/* Ordered earliest first, then by travel from the client's home: at
 * the same start, the Lohja-area team before the Espoo one. */
static void
test_find_prefers_own_then_nearest(void)
{
	g_autoptr(GVariant) slots = harness_find(&h, SNA, query_lohja());
	gint64 prev_start = 0;
	gint prev_travel = -1;
	gboolean saw_tie = FALSE;

	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		g_autoptr(GVariant) extras = NULL;
		gint64 start, end;
		gint travel;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", NULL, NULL,
				    &start, &end, NULL, &extras);
		g_assert_true(g_variant_lookup(extras, "travel-minutes", "i",
					       &travel));
		g_assert_cmpint(start, >=, prev_start);
		if (start == prev_start) {
			g_assert_cmpint(travel, >=, prev_travel);
			saw_tie = TRUE;
		}
		prev_start = start;
		prev_travel = travel;
	}
	g_assert_true(saw_tie);
}

static void
test_language_is_hard(void)
{
	GVariantDict d;
	g_autoptr(GVariant) slots = NULL;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "language", "s", "sv");
	g_variant_dict_insert(&d, "limit", "u", 500);
	slots = harness_find(&h, SNA, g_variant_dict_end(&d));
	g_assert_cmpuint(g_variant_n_children(slots), >, 0);
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		g_autoptr(GVariant) extras = NULL;
		g_autofree const char **langs = NULL;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", NULL, NULL,
				    NULL, NULL, NULL, &extras);
		g_assert_true(g_variant_lookup(extras, "languages", "^a&s",
					       &langs));
		g_assert_true(g_strv_contains(langs, "sv"));
	}
}

static void
test_hold_book_show_list(void)
{
	g_autofree char *slot = slot_on(8, 8, 30, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Scheduler1", "Hold",
					     g_variant_new("(su)", slot, 120),
					     "(s)", &error);
	g_autoptr(GVariant) b = NULL;
	g_autofree char *hold = NULL, *id = NULL, *out = NULL;
	GVariantDict d;
	const char *s;

	g_assert_no_error(error);
	g_variant_get(r, "(s)", &hold);
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "hold", "s", hold);
	g_variant_dict_insert(&d, "municipality", "s", "Vihti");
	g_variant_dict_insert(&d, "language", "s", "fi");
	g_variant_dict_insert(&d, "referral-time", "x",
			      harness_local(2026, 12, 2, 10, 0));
	id = book(slot, "client-hold-1", g_variant_dict_end(&d), &error);
	g_assert_no_error(error);
	b = get_booking(id);
	g_assert_true(g_variant_lookup(b, "slot", "&s", &s));
	g_assert_cmpstr(s, ==, slot);
	g_assert_true(g_variant_lookup(b, "status", "&s", &s));
	g_assert_cmpstr(s, ==, "booked");
	g_assert_true(g_variant_lookup(b, "municipality", "&s", &s));
	g_assert_cmpstr(s, ==, "927");
	g_assert_true(g_variant_lookup(b, "unit", "&s", &s));
	g_assert_cmpstr(s, ==, "W-SNA-LV");
	/* The hold is used up: booking with it again fails. */
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "hold", "s", hold);
	g_free(book(slot, "client-hold-2", g_variant_dict_end(&d), &error));
	harness_assert_dbus_error(error, "org.slotd.Error.NoSuchHold");
	g_assert_cmpint(harness_slotctl(&h, &out, NULL, "show", id, NULL), ==,
			0);
	g_assert_nonnull(strstr(out, "W-SNA-LV"));
	g_assert_nonnull(strstr(out, "2026-12-08 08:30"));
	g_clear_pointer(&out, g_free);
	g_assert_cmpint(harness_slotctl(&h, &out, NULL, "list", "--unit",
					"W-SNA-LV", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, id));
}

static void
test_idempotent_retry(void)
{
	g_autofree char *slot = slot_on(9, 8, 30, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *a = NULL, *b = NULL, *c = NULL;
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "idempotency-key", "s", "portal-req-4711");
	a = book(slot, "client-idem", g_variant_dict_end(&d), &error);
	g_assert_no_error(error);
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "idempotency-key", "s", "portal-req-4711");
	b = book(slot, "client-idem", g_variant_dict_end(&d), &error);
	g_assert_no_error(error);
	g_assert_cmpstr(a, ==, b);
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "idempotency-key", "s", "portal-req-4711");
	c = book(slot, "client-other", g_variant_dict_end(&d), &error);
	harness_assert_dbus_error(error, "org.slotd.Error.Conflict");
	g_assert_null(c);
}

/* Today at 08:30 (the clock says 07:00): checked in only from 07:30,
 * but a booking made in error is marked so at any time. */
static void
status_today(void)
{
	g_autofree char *slot = slot_on(7, 8, 30, NULL);
	g_autofree char *out = NULL, *err = NULL, *id = NULL;
	g_autoptr(GVariant) b = NULL;
	const char *s;

	g_assert_cmpint(harness_slotctl(&h, &out, NULL, "book", slot,
					"client-ctl-2", "--municipality",
					"Lohja", NULL),
			==, 0);
	id = g_strdup(g_strstrip(out));
	g_assert_cmpint(harness_slotctl(&h, NULL, &err, "status", id,
					"checked-in", NULL),
			!=, 0);
	g_assert_nonnull(strstr(err, "only from 2026-12-07 07:30"));
	g_assert_cmpint(harness_slotctl(&h, NULL, NULL, "status", id,
					"entered-in-error", NULL),
			==, 0);
	b = get_booking(id);
	g_assert_true(g_variant_lookup(b, "status", "&s", &s));
	g_assert_cmpstr(s, ==, "entered-in-error");
}

static void
test_cancel_reschedule_status_through_slotctl(void)
{
	g_autofree char *from = slot_on(10, 8, 30, NULL);
	g_autofree char *to = slot_on(10, 11, 0, NULL);
	g_autofree char *id = NULL, *out = NULL, *err = NULL;
	g_autoptr(GVariant) b = NULL;
	const char *s;
	gint64 seq0, seq1;

	g_assert_cmpint(harness_slotctl(&h, &out, &err, "book", from,
					"client-ctl-1", "--municipality",
					"Karkkila", NULL),
			==, 0);
	id = g_strdup(g_strstrip(out));
	g_assert_true(g_str_has_prefix(id, "b-"));
	b = get_booking(id);
	g_assert_true(g_variant_lookup(b, "sequence", "x", &seq0));
	g_clear_pointer(&b, g_variant_unref);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "reschedule", id, to,
					NULL),
			==, 0);
	b = get_booking(id);
	g_assert_true(g_variant_lookup(b, "slot", "&s", &s));
	g_assert_cmpstr(s, ==, to);
	g_assert_true(g_variant_lookup(b, "sequence", "x", &seq1));
	g_assert_cmpint(seq1, >, seq0);
	g_clear_pointer(&b, g_variant_unref);
	/* Three days ahead: nobody has checked in yet. */
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_slotctl(&h, NULL, &err, "status", id,
					"checked-in", NULL),
			!=, 0);
	g_assert_nonnull(strstr(err, "only from 2026-12-10 10:00"));
	b = get_booking(id);
	g_assert_true(g_variant_lookup(b, "status", "&s", &s));
	g_assert_cmpstr(s, ==, "booked");
	g_clear_pointer(&b, g_variant_unref);
	status_today();
	g_assert_cmpint(harness_slotctl(&h, NULL, NULL, "cancel", id,
					"--reason", "client called", NULL),
			==, 0);
	b = get_booking(id);
	g_assert_true(g_variant_lookup(b, "status", "&s", &s));
	g_assert_cmpstr(s, ==, "cancelled");
	/* A cancelled booking cannot be marked fulfilled: exit 1, named. */
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_slotctl(&h, NULL, &err, "status", id,
					"fulfilled", NULL),
			==, 1);
	g_assert_nonnull(strstr(err, "org.slotd.Error.Conflict"));
}

static void
test_series_is_all_or_nothing(void)
{
	g_autofree char *a = slot_on(11, 8, 30, NULL);
	g_autofree char *b = slot_on(11, 11, 0, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	const char *slots[] = { a, b, "s-999999999", NULL };
	const char *ok_slots[] = { a, b, NULL };
	guint free_before, free_after;
	g_autofree char *again = NULL;

	g_free(slot_on(11, 8, 30, &free_before));
	r = harness_call(&h, "org.slotd.Scheduler1", "BookSeries",
			 g_variant_new("(^ass@a{sv})", slots, "client-series",
				       g_variant_new("a{sv}", NULL)),
			 "(as)", &error);
	harness_assert_dbus_error(error, "org.slotd.Error.NoSuchSlot");
	g_assert_nonnull(strstr(error->message, "visit 3 of 3"));
	g_clear_error(&error);
	g_free(slot_on(11, 8, 30, &free_after));
	g_assert_cmpuint(free_after, ==, free_before);
	r = harness_call(&h, "org.slotd.Scheduler1", "BookSeries",
			 g_variant_new("(^ass@a{sv})", ok_slots,
				       "client-series",
				       g_variant_new("a{sv}", NULL)),
			 "(as)", &error);
	g_assert_no_error(error);
	g_free(slot_on(11, 8, 30, &free_after));
	g_assert_cmpuint(free_after, ==, free_before - 1);
}

typedef struct {
	guint booking_changed;
	guint slots_changed;
	char *last_booking;
} Seen;

static void
on_signal(GDBusConnection *c, const char *sender, const char *path,
	  const char *iface, const char *signal, GVariant *params,
	  gpointer user_data)
{
	Seen *seen = user_data;

	if (g_str_equal(signal, "BookingChanged")) {
		seen->booking_changed++;
		g_free(seen->last_booking);
		g_variant_get(params, "(ss)", &seen->last_booking, NULL);
	} else if (g_str_equal(signal, "SlotsChanged")) {
		seen->slots_changed++;
	}
}

static void
test_subscriber_sees_signals(void)
{
	Seen seen = { 0 };
	guint sub = g_dbus_connection_signal_subscribe(
		h.conn, "org.slotd.Slotd1", "org.slotd.Scheduler1", NULL,
		"/org/slotd/Slotd1", NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_signal,
		&seen, NULL);
	g_autofree char *slot = slot_on(14, 8, 30, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *id = book(slot, "client-signal", NULL, &error);

	g_assert_no_error(error);
	for (int i = 0; i < 200 && (!seen.booking_changed ||
				    !seen.slots_changed); i++)
		g_main_context_iteration(NULL, FALSE), g_usleep(10000);
	g_assert_cmpuint(seen.booking_changed, >=, 1);
	g_assert_cmpuint(seen.slots_changed, >=, 1);
	g_assert_cmpstr(seen.last_booking, ==, id);
	g_dbus_connection_signal_unsubscribe(h.conn, sub);
	g_free(seen.last_booking);
}

static void
test_hold_expires(void)
{
	g_autofree char *slot = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	guint before, during, after;

	slot = slot_on(15, 8, 30, &before);
	r = harness_call(&h, "org.slotd.Scheduler1", "Hold",
			 g_variant_new("(su)", slot, 1), "(s)", &error);
	g_assert_no_error(error);
	g_free(slot_on(15, 8, 30, &during));
	g_assert_cmpuint(during, ==, before - 1);
	/* slotd's expiry timer counts whole seconds: the seat is back
	 * within two or three; looked at every 100 ms, for at most 15 s. */
	for (gint64 until = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
	     g_get_monotonic_time() < until;) {
		g_usleep(100000);
		g_free(slot_on(15, 8, 30, &after));
		if (after != during)
			break;
	}
	g_assert_cmpuint(after, ==, before);
}

static void
test_gdbus_book_and_dbus_send_cancel(void)
{
	g_autofree char *slot = slot_on(16, 8, 30, NULL);
	g_autofree char *out = NULL, *err = NULL, *id = NULL;
	const char *book_argv[] = {
		"gdbus", "call", "--session", "--dest", "org.slotd.Slotd1",
		"--object-path", "/org/slotd/Slotd1", "--method",
		"org.slotd.Scheduler1.Book", slot, "client-gdbus",
		"{'municipality': <'Siuntio'>, 'language': <'fi'>}", NULL
	};
	g_autoptr(GVariant) b = NULL;
	const char *s;

	g_assert_cmpint(harness_run(&h, &out, &err, book_argv), ==, 0);
	/* gdbus prints ('b-12',) */
	id = g_strndup(strchr(out, '\'') + 1,
		       strchr(strchr(out, '\'') + 1, '\'') -
			       strchr(out, '\'') - 1);
	{
		const char *cancel_argv[] = {
			"dbus-send", "--session", "--print-reply",
			"--dest=org.slotd.Slotd1", "/org/slotd/Slotd1",
			"org.slotd.Scheduler1.Cancel",
			g_strdup_printf("string:%s", id),
			"string:moved elsewhere", NULL
		};

		g_assert_cmpint(harness_run(&h, NULL, NULL, cancel_argv), ==,
				0);
		g_free((char *)cancel_argv[6]);
	}
	b = get_booking(id);
	g_assert_true(g_variant_lookup(b, "status", "&s", &s));
	g_assert_cmpstr(s, ==, "cancelled");
	g_assert_true(g_variant_lookup(b, "municipality", "&s", &s));
	g_assert_cmpstr(s, ==, "755");
}

/* find, hold and book-series through slotctl; --json; exit codes. */
static void
test_slotctl_find_hold_series(void)
{
	g_autofree char *out = NULL, *err = NULL, *hold = NULL;
	g_autofree char *a = slot_on(17, 8, 30, NULL);
	g_autofree char *b = slot_on(18, 8, 30, NULL);
	g_auto(GStrv) ids = NULL;

	g_assert_cmpint(harness_slotctl(&h, &out, &err, "find", SNA,
					"--municipality", "lojo", "--from",
					"2026-12-17", "--to", "2026-12-17",
					"--limit", "3", NULL),
			==, 0);
	/* Local times, the Lohja team first at 08:30. */
	g_assert_nonnull(strstr(out, "2026-12-17 08:30"));
	g_assert_nonnull(strstr(out, "W-SNA-LV"));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "--json", "find", SNA,
					"--municipality", "444", "--limit", "2",
					NULL),
			==, 0);
	g_assert_true(g_str_has_prefix(g_strstrip(out), "["));
	g_assert_nonnull(strstr(out, "\"travel-minutes\""));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_slotctl(&h, &hold, &err, "hold", a,
					"--seconds", "60", NULL),
			==, 0);
	g_assert_true(g_str_has_prefix(g_strstrip(hold), "h-"));
	g_assert_nonnull(strstr(err, "held until 2026-12-07 07:01"));
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "book-series",
					"client-ctl-series", a, b, "--hold",
					hold, NULL),
			==, 0);
	ids = g_strsplit(g_strstrip(out), "\n", -1);
	g_assert_cmpuint(g_strv_length(ids), ==, 2);
	g_assert_true(g_str_has_prefix(ids[0], "b-"));
	g_clear_pointer(&err, g_free);
	/* Usage errors exit 2; D-Bus errors exit 1 with the error name. */
	g_assert_cmpint(harness_slotctl(&h, NULL, &err, "book", NULL), ==, 2);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_slotctl(&h, NULL, &err, "find", SNA,
					"--from", "yesterday", NULL),
			==, 2);
	g_clear_pointer(&err, g_free);
	g_assert_cmpint(harness_slotctl(&h, NULL, &err, "book", a,
					"010190-123A", NULL),
			==, 1);
	g_assert_nonnull(strstr(err, "org.slotd.Error.InvalidClientRef"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	harness_start_example(&h, 30);
	g_test_add_func("/scheduler/services/through-every-client",
			test_services_through_every_client);
	g_test_add_func("/scheduler/find/municipality-by-code-or-name",
			test_municipality_by_code_or_name);
	g_test_add_func("/scheduler/find/own-then-nearest",
			test_find_prefers_own_then_nearest);
	g_test_add_func("/scheduler/find/language-is-hard",
			test_language_is_hard);
	g_test_add_func("/scheduler/book/hold-book-show-list",
			test_hold_book_show_list);
	g_test_add_func("/scheduler/book/idempotent-retry",
			test_idempotent_retry);
	g_test_add_func("/scheduler/book/cancel-reschedule-status",
			test_cancel_reschedule_status_through_slotctl);
	g_test_add_func("/scheduler/book-series/all-or-nothing",
			test_series_is_all_or_nothing);
	g_test_add_func("/scheduler/signals/subscriber-sees-them",
			test_subscriber_sees_signals);
	g_test_add_func("/scheduler/hold/expires", test_hold_expires);
	g_test_add_func("/scheduler/slotctl/find-hold-series-exit-codes",
			test_slotctl_find_hold_series);
	g_test_add_func("/scheduler/clients/gdbus-book-dbus-send-cancel",
			test_gdbus_book_and_dbus_send_cancel);
	return harness_finish(&h, g_test_run());
}
