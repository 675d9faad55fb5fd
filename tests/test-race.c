/* Races on the real daemon: many clients on their own bus connections
 * at once. Capacity is never exceeded, reschedules never leave both or
 * neither, and the counters in the SQLite file match the bookings. */
#include <signal.h>
#include <string.h>

#include "harness.h"

#define SNA "needs-assessment-west"
#define CLIENTS 32

static Harness h;

typedef struct {
	guint done;
	guint ok;
	guint full;
	guint other;
	GPtrArray *ids;
} Tally;

static void
on_reply(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Tally *t = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(
		G_DBUS_CONNECTION(source), res, &error);
	g_autofree char *remote = error ? g_dbus_error_get_remote_error(error)
					: NULL;

	t->done++;
	if (r) {
		char *id;

		g_variant_get(r, "(s)", &id);
		g_ptr_array_add(t->ids, id);
		t->ok++;
	} else if (g_strcmp0(remote, "org.slotd.Error.SlotFull") == 0) {
		t->full++;
	} else {
		g_printerr("unexpected error: %s\n", error->message);
		t->other++;
	}
}

static GDBusConnection *
connect_client(void)
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

static char *
sql(const char *query)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	const char *argv[] = { "sqlite3", db, query, NULL };
	char *out = NULL;

	g_assert_cmpint(harness_run(&h, &out, NULL, argv), ==, 0);
	return g_strstrip(out);
}

/* booked of every slot equals the seats its live bookings hold in it. */
static void
assert_counters_match(void)
{
	g_autofree char *bad = sql(
		"SELECT count(*) FROM slot s WHERE s.booked != "
		"(SELECT coalesce(sum(u.seats), 0) FROM booking_use u "
		" JOIN booking b ON b.id = u.booking "
		" WHERE u.slot = s.id AND b.status NOT IN "
		" ('cancelled', 'entered-in-error')) "
		"OR s.booked + s.held > s.capacity;");

	g_assert_cmpstr(bad, ==, "0");
}

/* A W-SNA-LV slot (3 workers: three seats) with all of them free. */
static char *
three_seat_slot(int day, guint *ret_free)
{
	GVariantDict d;
	g_autoptr(GVariant) slots = NULL;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	g_variant_dict_insert(&d, "from", "x",
			      harness_local(2026, 12, day, 0, 0));
	slots = harness_find(&h, SNA, g_variant_dict_end(&d));
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id, *unit;
		guint free;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, &unit,
				    NULL, NULL, &free, NULL);
		if (g_str_equal(unit, "W-SNA-LV") && free == 3) {
			*ret_free = free;
			return g_strdup(id);
		}
	}
	g_error("no free three-seat slot");
	return NULL;
}

static void
test_last_seats_race(void)
{
	GDBusConnection *clients[CLIENTS];
	Tally t = { 0, 0, 0, 0, g_ptr_array_new_with_free_func(g_free) };
	guint free = 0;
	g_autofree char *slot = three_seat_slot(8, &free);
	g_autofree char *query = NULL, *booked = NULL;

	for (guint i = 0; i < CLIENTS; i++)
		clients[i] = connect_client();
	for (guint i = 0; i < CLIENTS; i++) {
		g_autofree char *client = g_strdup_printf("race-client-%u", i);

		g_dbus_connection_call(
			clients[i], "org.slotd.Slotd1", "/org/slotd/Slotd1",
			"org.slotd.Scheduler1", "Book",
			g_variant_new("(ss@a{sv})", slot, client,
				      g_variant_new("a{sv}", NULL)),
			G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, 60000,
			NULL, on_reply, &t);
	}
	while (t.done < CLIENTS)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(t.ok, ==, 3);
	g_assert_cmpuint(t.full, ==, CLIENTS - 3);
	g_assert_cmpuint(t.other, ==, 0);
	query = g_strdup_printf("SELECT booked FROM slot WHERE id = %s;",
				slot + 2);
	booked = sql(query);
	g_assert_cmpstr(booked, ==, "3");
	assert_counters_match();
	for (guint i = 0; i < CLIENTS; i++)
		g_object_unref(clients[i]);
	g_ptr_array_unref(t.ids);
}

/* Clients grab the last seat of a slot while one booking is moved into
 * it: the moved booking ends up in exactly one of the two slots. */
static void
test_reschedule_never_both_nor_neither(void)
{
	guint free;
	g_autofree char *from = three_seat_slot(9, &free);
	g_autofree char *to = three_seat_slot(10, &free);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	GDBusConnection *clients[8];
	Tally t = { 0, 0, 0, 0, g_ptr_array_new_with_free_func(g_free) };
	char *moving;
	g_autofree char *count = NULL, *query = NULL;

	r = harness_call(&h, "org.slotd.Scheduler1", "Book",
			 g_variant_new("(ss@a{sv})", from, "mover",
				       g_variant_new("a{sv}", NULL)),
			 "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(s)", &moving);
	for (guint i = 0; i < 8; i++) {
		g_autofree char *client = g_strdup_printf("grab-%u", i);

		clients[i] = connect_client();
		if (i == 4) {
			g_dbus_connection_call(
				clients[i], "org.slotd.Slotd1",
				"/org/slotd/Slotd1", "org.slotd.Scheduler1",
				"Reschedule",
				g_variant_new("(ss)", moving, to),
				G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE,
				60000, NULL, on_reply, &t);
			continue;
		}
		g_dbus_connection_call(
			clients[i], "org.slotd.Slotd1", "/org/slotd/Slotd1",
			"org.slotd.Scheduler1", "Book",
			g_variant_new("(ss@a{sv})", to, client,
				      g_variant_new("a{sv}", NULL)),
			G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, 60000,
			NULL, on_reply, &t);
	}
	while (t.done < 8)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(t.ok, ==, 3);
	g_assert_cmpuint(t.other, ==, 0);
	query = g_strdup_printf(
		"SELECT count(*) FROM booking_use u JOIN booking b ON "
		"b.id = u.booking WHERE b.id = %s AND b.status = 'booked';",
		moving + 2);
	count = sql(query);
	g_assert_cmpstr(count, ==, "1");
	assert_counters_match();
	for (guint i = 0; i < 8; i++)
		g_object_unref(clients[i]);
	g_ptr_array_unref(t.ids);
	g_free(moving);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	harness_start_example(&h, 21);
	g_test_add_func("/race/book/32-clients-3-seats", test_last_seats_race);
	g_test_add_func("/race/reschedule/never-both-nor-neither",
			test_reschedule_never_both_nor_neither);
	return harness_finish(&h, g_test_run());
}
