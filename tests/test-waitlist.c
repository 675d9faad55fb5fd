/* The waitlist and the notification outbox (issue 16) on the real
 * daemon: freed places are offered by priority, then deadline, then
 * time on the list; a declined or expired offer passes to the next
 * entry; two places freed at once go to two entries; offers and their
 * time survive a restart; a claimed notification not acknowledged is
 * handed out again after kill -9; a reminder of a cancelled booking is
 * never handed out.
 *
 * The example region's needs-assessment-west at W-SNA-LV (Lohja) has
 * three seats in 90-minute slots at 08:30, 11:00 and 13:30 on
 * weekdays; slotd's clock starts at Monday 2026-12-07 07:00. Offers
 * last 3 s, leases 2 s, and the one reminder is due 5390 s before the
 * start: 07:00:10 for the 08:30 slot (the reminder test moves it to a
 * few seconds after its bookings). */
#include <sqlite3.h>
#include <string.h>

#include "harness.h"

#define SCHED "org.slotd.Scheduler1"
#define NOTES "org.slotd.Notifications1"
#define SNA "needs-assessment-west"
#define OFFER_SECONDS 3
#define LEASE_SECONDS 2
#define REMINDER_OFFSET 5390
/* Seconds from the reminder test's reload to the reminder's due time. */
#define REMINDER_LEAD 4

static Harness h;
static GPtrArray *signals; /* "entry slot" of every SlotOffered */

static void
on_offered(GDBusConnection *conn, const char *sender, const char *path,
	   const char *interface, const char *name, GVariant *params,
	   gpointer user_data)
{
	const char *entry, *slot, *hold;
	gint64 expires;

	g_variant_get(params, "(&s&s&sx)", &entry, &slot, &hold, &expires);
	g_ptr_array_add(signals, g_strdup_printf("%s %s", entry, slot));
}

static void
start(void)
{
	g_autofree char *entry = NULL;
	g_autofree char *value = NULL;

	harness_init(&h);
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	/* Every place offered here is on 7 December, every entry takes
	 * one until the 8th: a week of slots is plenty (and starts sooner
	 * than three). */
	h.horizon_days = 7;
	entry = harness_copy_example(&h);
	value = g_strdup_printf("%d", OFFER_SECONDS);
	harness_set_key(entry, "daemon", "waitlist-offer-seconds", value);
	g_free(value);
	value = g_strdup_printf("%d", LEASE_SECONDS);
	harness_set_key(entry, "daemon", "outbox-lease-seconds", value);
	g_free(value);
	value = g_strdup_printf("%ds", REMINDER_OFFSET);
	harness_set_key(entry, "daemon", "reminder-offsets", value);
	harness_start_slotd(&h, entry);
	signals = g_ptr_array_new_with_free_func(g_free);
	g_dbus_connection_signal_subscribe(h.conn, NULL, SCHED, "SlotOffered",
					   "/org/slotd/Slotd1", NULL,
					   G_DBUS_SIGNAL_FLAGS_NONE,
					   on_offered, NULL, NULL);
}

static void
restart(int sig)
{
	g_autofree char *config = g_strdup(h.config);

	harness_stop_slotd(&h, sig);
	harness_start_slotd(&h, config);
}

static void
stop(void)
{
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
	g_clear_pointer(&signals, g_ptr_array_unref);
}

/* ---- calls ---------------------------------------------------------- */

static sqlite3 *
db_open(void)
{
	g_autofree char *path = g_build_filename(h.state_dir, "slotd.db",
						 NULL);
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			==, SQLITE_OK);
	return db;
}

static gint64
db_int(const char *sql)
{
	sqlite3 *db = db_open();
	sqlite3_stmt *stmt = NULL;
	gint64 value;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return value;
}

/* The W-SNA-LV slot at Helsinki time on 7 December. */
static char *
slot_at(int hour, int minute)
{
	g_autofree char *sql = g_strdup_printf(
		"SELECT id FROM slot WHERE offering = 'W-SNA-LV/" SNA "'"
		" AND start = %" G_GINT64_FORMAT,
		harness_local(2026, 12, 7, hour, minute));

	return g_strdup_printf("s-%" G_GINT64_FORMAT, db_int(sql));
}

static gint64
daemon_now(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = harness_call(&h, "org.slotd.Admin1",
						 "GetStatus", NULL,
						 "(a{sv})", &error);
	g_autoptr(GVariant) status = NULL;
	gint64 now = 0;

	g_assert_no_error(error);
	status = g_variant_get_child_value(reply, 0);
	g_assert_true(g_variant_lookup(status, "now", "x", &now));
	return now;
}

static char *
book(const char *slot, const char *client, const char *language)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantDict d;
	char *id;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	if (language)
		g_variant_dict_insert(&d, "language", "s", language);
	reply = harness_call(&h, SCHED, "Book",
			     g_variant_new("(ss@a{sv})", slot, client,
					   g_variant_dict_end(&d)),
			     "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(s)", &id);
	return id;
}

static void
cancel(const char *booking)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = harness_call(
		&h, SCHED, "Cancel", g_variant_new("(ss)", booking, "client ill"),
		NULL, &error);

	g_assert_no_error(error);
}

/* Fills the 3 seats of `slot`; the bookings' ids. */
static GPtrArray *
fill(const char *slot, const char *prefix)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < 3; i++) {
		g_autofree char *client = g_strdup_printf("%s-%u", prefix, i);

		g_ptr_array_add(ids, book(slot, client, NULL));
	}
	return ids;
}

static char *
join(const char *client, guint priority, gint64 deadline)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantDict d;
	char *id;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	g_variant_dict_insert(&d, "priority", "u", priority);
	g_variant_dict_insert(&d, "latest", "x",
			      harness_local(2026, 12, 8, 0, 0));
	if (deadline)
		g_variant_dict_insert(&d, "deadline", "x", deadline);
	reply = harness_call(&h, SCHED, "JoinWaitlist",
			     g_variant_new("(ss@a{sv})", SNA, client,
					   g_variant_dict_end(&d)),
			     "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(s)", &id);
	return id;
}

/* The slot offered to `entry` now ("" none; NULL: not on the list). */
static char *
offer_of(const char *entry)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = harness_call(
		&h, SCHED, "ListWaitlist", g_variant_new("(s)", SNA),
		"(aa{sv})", &error);
	g_autoptr(GVariant) rows = NULL;
	GVariantIter iter;
	GVariant *row;

	g_assert_no_error(error);
	rows = g_variant_get_child_value(reply, 0);
	g_variant_iter_init(&iter, rows);
	while ((row = g_variant_iter_next_value(&iter))) {
		const char *id = NULL, *slot = NULL;
		char *found;

		g_variant_lookup(row, "id", "&s", &id);
		if (g_strcmp0(id, entry) != 0) {
			g_variant_unref(row);
			continue;
		}
		found = g_strdup(g_variant_lookup(row, "offer-slot", "&s",
						  &slot) ? slot : "");
		g_variant_unref(row);
		return found;
	}
	return NULL;
}

/* Waits (at most `seconds`) until `entry` is offered something other
 * than "" and returns it. */
static char *
wait_offer(const char *entry, guint seconds)
{
	gint64 until = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < until) {
		g_autofree char *slot = offer_of(entry);

		while (g_main_context_iteration(NULL, FALSE))
			;
		if (slot && *slot)
			return g_steal_pointer(&slot);
		g_usleep(100 * 1000);
	}
	g_error("%s was offered nothing within %u s", entry, seconds);
	return NULL;
}

static void
assert_no_offer(const char *entry)
{
	g_autofree char *slot = offer_of(entry);

	g_assert_nonnull(slot);
	g_assert_cmpstr(slot, ==, "");
}

static void
entry_call(const char *method, const char *entry, const char *error_name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = harness_call(
		&h, SCHED, method, g_variant_new("(s)", entry), NULL, &error);

	if (error_name)
		harness_assert_dbus_error(error, error_name);
	else
		g_assert_no_error(error);
}

static gboolean
signalled(const char *entry, const char *slot)
{
	g_autofree char *want = g_strdup_printf("%s %s", entry, slot);

	while (g_main_context_iteration(NULL, FALSE))
		;
	for (guint i = 0; i < signals->len; i++)
		if (g_str_equal(signals->pdata[i], want))
			return TRUE;
	return FALSE;
}

/* ---- waitlist ------------------------------------------------------- */

static void
test_priority_decline_expiry_accept(void)
{
	g_autofree char *slot = NULL;
	g_autoptr(GPtrArray) booked = NULL;
	g_autofree char *first = NULL, *urgent = NULL, *soon = NULL;
	g_autofree char *got = NULL, *booking = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) details = NULL;
	const char *status, *client;

	start();
	slot = slot_at(8, 30);
	booked = fill(slot, "held");
	/* On the list in this order; offers go by priority, then by
	 * deadline, then by time on the list. */
	first = join("wait-a", 5, harness_local(2026, 12, 20, 0, 0));
	urgent = join("wait-b", 1, harness_local(2026, 12, 30, 0, 0));
	soon = join("wait-c", 5, harness_local(2026, 12, 10, 0, 0));
	assert_no_offer(urgent);

	cancel(booked->pdata[0]);
	got = wait_offer(urgent, 10);
	g_assert_cmpstr(got, ==, slot);
	g_assert_true(signalled(urgent, slot));
	assert_no_offer(first);
	assert_no_offer(soon);
	/* The held place is not free to anyone else. */
	entry_call("AcceptOffer", soon, "org.slotd.Error.Conflict");

	/* Declined: the next by deadline; the entry stays on the list. */
	entry_call("DeclineOffer", urgent, NULL);
	g_clear_pointer(&got, g_free);
	got = wait_offer(soon, 10);
	g_assert_cmpstr(got, ==, slot);
	assert_no_offer(urgent);
	assert_no_offer(first);

	/* Not answered in time: the next one. */
	g_clear_pointer(&got, g_free);
	got = wait_offer(first, OFFER_SECONDS + 8);
	g_assert_cmpstr(got, ==, slot);
	assert_no_offer(soon);
	assert_no_offer(urgent);

	reply = harness_call(&h, SCHED, "AcceptOffer",
			     g_variant_new("(s)", first), "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(reply, "(s)", &booking);
	g_clear_pointer(&reply, g_variant_unref);
	reply = harness_call(&h, SCHED, "GetBooking",
			     g_variant_new("(s)", booking), "(a{sv})", &error);
	g_assert_no_error(error);
	details = g_variant_get_child_value(reply, 0);
	g_assert_true(g_variant_lookup(details, "status", "&s", &status));
	g_assert_cmpstr(status, ==, "booked");
	g_assert_true(g_variant_lookup(details, "client-ref", "&s", &client));
	g_assert_cmpstr(client, ==, "wait-a");
	g_assert_null(offer_of(first)); /* booked: off the list */
	/* The slot is full again, its seats add up, and every step is in
	 * the audit log with its caller. */
	g_assert_cmpint(db_int("SELECT count(*) FROM slot WHERE"
			       " booked + held > capacity"), ==, 0);
	g_assert_cmpint(db_int("SELECT count(*) FROM audit WHERE action IN"
			       " ('waitlist-join')"), ==, 3);
	g_assert_cmpint(db_int("SELECT count(*) FROM audit WHERE action ="
			       " 'offer' AND caller = 'internal'"), ==, 3);
	g_assert_cmpint(db_int("SELECT count(*) FROM audit WHERE action IN"
			       " ('offer-decline', 'offer-expire',"
			       " 'offer-accept')"), ==, 3);
	g_assert_cmpint(db_int("SELECT count(*) FROM waitlist_offer WHERE"
			       " status = 'open'"), ==, 0);
	/* The offers were told to the clients through the outbox. */
	g_assert_cmpint(db_int("SELECT count(*) FROM outbox WHERE kind ="
			       " 'offer'"), ==, 3);
	entry_call("AcceptOffer", urgent, "org.slotd.Error.Conflict");
	entry_call("LeaveWaitlist", urgent, NULL);
	g_assert_null(offer_of(urgent));
	stop();
}

static void
test_bad_input(void)
{
	static const struct {
		const char *client;
		const char *key;
		GVariant *(*value)(void);
		const char *error;
	} cases[] = {
		{ "131052-308T", NULL, NULL, "org.slotd.Error.InvalidClientRef" },
		{ "", NULL, NULL, "org.slotd.Error.InvalidClientRef" },
		{ "ok-1", "colour", NULL, "org.freedesktop.DBus.Error.InvalidArgs" },
		{ "ok-1", "priority", NULL,
		  "org.freedesktop.DBus.Error.InvalidArgs" },
		{ "ok-1", "latest", NULL, "org.freedesktop.DBus.Error.InvalidArgs" },
		{ "ok-1", "language", NULL,
		  "org.freedesktop.DBus.Error.InvalidArgs" },
	};
	gint64 before;

	start();
	before = db_int("SELECT count(*) FROM audit");
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		GVariantDict d;

		g_variant_dict_init(&d, NULL);
		if (g_strcmp0(cases[i].key, "colour") == 0)
			g_variant_dict_insert(&d, "colour", "s", "red");
		else if (g_strcmp0(cases[i].key, "priority") == 0)
			g_variant_dict_insert(&d, "priority", "u", 0);
		else if (g_strcmp0(cases[i].key, "latest") == 0)
			g_variant_dict_insert(&d, "latest", "x", (gint64)1);
		else if (g_strcmp0(cases[i].key, "language") == 0)
			g_variant_dict_insert(&d, "language", "s", "de");
		reply = harness_call(&h, SCHED, "JoinWaitlist",
				     g_variant_new("(ss@a{sv})", SNA,
						   cases[i].client,
						   g_variant_dict_end(&d)),
				     "(s)", &error);
		harness_assert_dbus_error(error, cases[i].error);
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = harness_call(
			&h, SCHED, "JoinWaitlist",
			g_variant_new("(ss@a{sv})", "no-such-service", "ok-1",
				      g_variant_new("a{sv}", NULL)),
			"(s)", &error);

		harness_assert_dbus_error(error,
					  "org.slotd.Error.NoSuchService");
	}
	entry_call("AcceptOffer", "w-999", "org.slotd.Error.NoSuchEntry");
	entry_call("DeclineOffer", "w-0", "org.slotd.Error.NoSuchEntry");
	entry_call("LeaveWaitlist", "x y", "org.freedesktop.DBus.Error."
		   "InvalidArgs");
	/* Nothing changed. */
	g_assert_cmpint(db_int("SELECT count(*) FROM audit"), ==, before);
	g_assert_cmpint(db_int("SELECT count(*) FROM waitlist_entry"), ==, 0);
	stop();
}

static void
test_two_cancellations(void)
{
	g_autofree char *a = NULL, *b = NULL;
	g_autofree char *first = NULL, *second = NULL;
	g_autofree char *got1 = NULL, *got2 = NULL;
	g_autoptr(GPtrArray) in_a = NULL, in_b = NULL;

	start();
	a = slot_at(8, 30);
	b = slot_at(11, 0);
	in_a = fill(a, "a");
	in_b = fill(b, "b");
	first = join("two-1", 3, 0);
	second = join("two-2", 3, 0);
	cancel(in_a->pdata[1]);
	cancel(in_b->pdata[2]);
	got1 = wait_offer(first, 10);
	got2 = wait_offer(second, 10);
	/* One slot is never offered to two entries at once. */
	g_assert_cmpstr(got1, !=, got2);
	g_assert_true((g_str_equal(got1, a) && g_str_equal(got2, b)) ||
		      (g_str_equal(got1, b) && g_str_equal(got2, a)));
	g_assert_cmpint(db_int("SELECT count(*) FROM waitlist_offer WHERE"
			       " status = 'open'"), ==, 2);
	g_assert_cmpint(db_int("SELECT count(*) FROM slot WHERE"
			       " booked + held > capacity"), ==, 0);
	stop();
}

static void
test_offer_survives_restart(void)
{
	g_autofree char *slot = NULL;
	g_autofree char *first = NULL, *second = NULL;
	g_autofree char *got = NULL, *again = NULL;
	g_autoptr(GPtrArray) booked = NULL;
	gint64 expires;

	start();
	slot = slot_at(13, 30);
	booked = fill(slot, "r");
	first = join("restart-1", 2, 0);
	second = join("restart-2", 4, 0);
	cancel(booked->pdata[0]);
	got = wait_offer(first, 10);
	g_assert_cmpstr(got, ==, slot);
	expires = db_int("SELECT expires FROM waitlist_offer WHERE"
			 " status = 'open'");
	/* A power cut: the offer and its time are in the database. */
	restart(SIGKILL);
	again = offer_of(first);
	g_assert_cmpstr(again, ==, slot);
	g_assert_cmpint(db_int("SELECT expires FROM waitlist_offer WHERE"
			       " status = 'open'"), ==, expires);
	assert_no_offer(second);
	/* Re-armed at start-up: when it ends, the next entry has it. */
	g_clear_pointer(&got, g_free);
	got = wait_offer(second, 15);
	g_assert_cmpstr(got, ==, slot);
	stop();
}

static void
test_reload_capacity(void)
{
	g_autofree char *slot = NULL, *entry = NULL, *got = NULL;
	g_autofree char *dir = NULL, *file = NULL;
	g_autoptr(GPtrArray) booked = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	start();
	slot = slot_at(8, 30);
	booked = fill(slot, "reload");
	entry = join("reload-wait", 5, 0);
	assert_no_offer(entry);
	/* A fourth seat at W-SNA-LV: new capacity, offered first to the
	 * list. */
	dir = g_path_get_dirname(h.config);
	file = g_build_filename(dir, "services.d", "other-services.conf",
				NULL);
	harness_set_key(file, "offering W-SNA-LV " SNA, "seats", "4");
	reply = harness_call(&h, "org.slotd.Admin1", "Reload", NULL, NULL,
			     &error);
	g_assert_no_error(error);
	got = wait_offer(entry, 15);
	g_assert_cmpstr(got, ==, slot);
	stop();
}

/* ---- outbox --------------------------------------------------------- */

typedef struct {
	char *id;
	char *key;
	char *kind;
	char *text;
	char *booking;
} Item;

static void
item_free(Item *item)
{
	g_free(item->id);
	g_free(item->key);
	g_free(item->kind);
	g_free(item->text);
	g_free(item->booking);
	g_free(item);
}

static GPtrArray *
claim(guint max)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = harness_call(
		&h, NOTES, "Claim", g_variant_new("(u)", max),
		"(a(ssssxsa{sv})x)", &error);
	g_autoptr(GVariantIter) iter = NULL;
	GPtrArray *items = g_ptr_array_new_with_free_func(
		(GDestroyNotify)item_free);
	const char *id, *key, *kind, *language, *text;
	GVariant *details;
	gint64 due, lease;

	g_assert_no_error(error);
	g_variant_get(reply, "(a(ssssxsa{sv})x)", &iter, &lease);
	while (g_variant_iter_next(iter, "(&s&s&s&sx&s@a{sv})", &id, &key,
				   &kind, &language, &due, &text, &details)) {
		Item *item = g_new0(Item, 1);
		const char *booking = NULL;

		item->id = g_strdup(id);
		item->key = g_strdup(key);
		item->kind = g_strdup(kind);
		item->text = g_strdup(text);
		if (g_variant_lookup(details, "booking", "&s", &booking))
			item->booking = g_strdup(booking);
		g_variant_unref(details);
		g_ptr_array_add(items, item);
	}
	return items;
}

static void
ack(GPtrArray *items)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("as"));
	for (guint i = 0; i < items->len; i++)
		g_variant_builder_add(&b, "s", ((Item *)items->pdata[i])->id);
	reply = harness_call(&h, NOTES, "Ack", g_variant_new("(as)", &b),
			     NULL, &error);
	g_assert_no_error(error);
}

static void
test_redelivered_after_kill(void)
{
	g_autofree char *slot = NULL, *booking = NULL;
	g_autoptr(GPtrArray) first = NULL;
	g_autoptr(GPtrArray) none = NULL;
	g_autoptr(GPtrArray) later = NULL;
	gint64 until;
	Item *item;

	start();
	slot = slot_at(11, 0);
	booking = book(slot, "kill-client-7", "sv");
	first = claim(10);
	g_assert_cmpuint(first->len, ==, 1);
	item = first->pdata[0];
	g_assert_cmpstr(item->kind, ==, "booked");
	g_assert_cmpstr(item->booking, ==, booking);
	/* Swedish, the unit, the local time and the modality; never the
	 * client. */
	g_assert_nonnull(strstr(item->text, "Din tid är bokad"));
	g_assert_nonnull(strstr(item->text, "7.12.2026 kl. 11.00"));
	g_assert_nonnull(strstr(item->text, "hembesök"));
	g_assert_null(strstr(item->text, "kill-client-7"));
	/* Leased: not handed out twice at once. */
	none = claim(10);
	g_assert_cmpuint(none->len, ==, 0);

	restart(SIGKILL);
	/* Once the lease has run out, the same item again. */
	until = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
	do {
		g_usleep(300 * 1000);
		g_clear_pointer(&later, g_ptr_array_unref);
		later = claim(10);
	} while (later->len == 0 && g_get_monotonic_time() < until);
	g_assert_cmpuint(later->len, ==, 1);
	g_assert_cmpstr(((Item *)later->pdata[0])->id, ==, item->id);
	g_assert_cmpstr(((Item *)later->pdata[0])->key, ==, item->key);
	ack(later);
	ack(later); /* again: no change */
	g_assert_cmpint(db_int("SELECT claims FROM outbox WHERE kind ="
			       " 'booked'"), ==, 2);
	g_assert_cmpint(db_int("SELECT count(*) FROM outbox WHERE state ="
			       " 'acked'"), ==, 1);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = harness_call(
			&h, NOTES, "Ack",
			g_variant_new("(^as)",
				      (const char *const[]){ "n-999", NULL }),
			NULL, &error);

		harness_assert_dbus_error(
			error, "org.freedesktop.DBus.Error.InvalidArgs");
	}
	stop();
}

static void
test_cancelled_reminder_never_claimed(void)
{
	g_autofree char *slot = NULL;
	g_autofree char *gone = NULL, *kept = NULL, *moved = NULL;
	g_autofree char *later_slot = NULL;
	g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(
		(GDestroyNotify)item_free);
	gint64 due;
	gint64 until;
	guint reminders = 0;

	start();
	/* How long slotd takes to start is not known beforehand: the
	 * reminder's offset is set now, due REMINDER_LEAD s from here,
	 * rather than seconds later than it need be. */
	due = daemon_now() + REMINDER_LEAD;
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = NULL;
		g_autofree char *offset = g_strdup_printf(
			"%" G_GINT64_FORMAT "s",
			harness_local(2026, 12, 7, 8, 30) - due);

		harness_set_key(h.config, "daemon", "reminder-offsets", offset);
		reply = harness_call(&h, "org.slotd.Admin1", "Reload", NULL,
				     NULL, &error);
		g_assert_no_error(error);
	}
	/* At least a second left for the bookings, by slotd's clock. */
	if (daemon_now() > due - 2) {
		g_test_skip("slotd took too long to reload for the reminder");
		stop();
		return;
	}
	slot = slot_at(8, 30);
	later_slot = slot_at(11, 0);
	gone = book(slot, "rem-gone", NULL);
	kept = book(slot, "rem-kept", "sv");
	moved = book(slot, "rem-moved", NULL);
	cancel(gone);
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = harness_call(
			&h, SCHED, "Reschedule",
			g_variant_new("(ss)", moved, later_slot), "(s)",
			&error);

		g_assert_no_error(error);
	}
	/* Claim and acknowledge everything until after the reminder was
	 * due: a claim hands out whatever is due by slotd's clock then. */
	until = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < until) {
		g_autoptr(GPtrArray) items = claim(100);

		ack(items);
		for (guint i = 0; i < items->len; i++)
			g_ptr_array_add(all,
					g_ptr_array_steal_index(items, i--));
		if (daemon_now() > due)
			break;
		g_usleep(300 * 1000);
	}
	{
		g_autoptr(GPtrArray) items = claim(100);

		for (guint i = 0; i < items->len; i++)
			g_ptr_array_add(all,
					g_ptr_array_steal_index(items, i--));
	}
	for (guint i = 0; i < all->len; i++) {
		Item *item = all->pdata[i];

		if (!g_str_equal(item->kind, "reminder"))
			continue;
		reminders++;
		/* Only the booking still booked where it was. */
		g_assert_cmpstr(item->booking, ==, kept);
		g_assert_nonnull(strstr(item->text, "Påminnelse"));
		g_assert_nonnull(strstr(item->text, "7.12.2026 kl. 8.30"));
	}
	g_assert_cmpuint(reminders, ==, 1);
	/* The cancelled one heard of its booking and its cancellation,
	 * in that order. */
	{
		gint booked_at = -1, cancelled_at = -1;

		for (guint i = 0; i < all->len; i++) {
			Item *item = all->pdata[i];

			if (g_strcmp0(item->booking, gone) != 0)
				continue;
			/* No language asked: Finnish. */
			g_assert_nonnull(strstr(item->text, "klo 8.30"));
			if (g_str_equal(item->kind, "booked"))
				booked_at = i;
			if (g_str_equal(item->kind, "cancelled"))
				cancelled_at = i;
		}
		g_assert_cmpint(booked_at, >=, 0);
		g_assert_cmpint(cancelled_at, >, booked_at);
	}
	g_assert_cmpint(db_int("SELECT count(*) FROM outbox WHERE kind ="
			       " 'reminder' AND state = 'void'"), ==, 2);
	stop();
}

/* ---- slotctl -------------------------------------------------------- */

static void
test_slotctl(void)
{
	g_autofree char *out = NULL, *err = NULL;
	g_autofree char *entry = NULL, *slot = NULL, *booking = NULL;
	g_autoptr(GPtrArray) booked = NULL;

	start();
	slot = slot_at(8, 30);
	booked = fill(slot, "ctl");
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "waitlist", "join", SNA,
					"ctl-wait", "--municipality", "Lohja",
					"--priority", "2", "--latest",
					"2026-12-08", NULL),
			==, 0);
	entry = g_strstrip(g_strdup(out));
	g_assert_true(g_str_has_prefix(entry, "w-"));
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "waitlist", "list", SNA,
					NULL), ==, 0);
	g_assert_nonnull(strstr(out, entry));
	g_assert_nonnull(strstr(out, "ctl-wait"));
	/* An identity code is refused before it reaches the list. */
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "waitlist", "join", SNA,
					"131052-308T", NULL), !=, 0);
	g_assert_nonnull(strstr(err, "InvalidClientRef"));
	cancel(booked->pdata[0]);
	g_free(wait_offer(entry, 10));
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "waitlist", "accept",
					entry, NULL), ==, 0);
	booking = g_strstrip(g_strdup(out));
	g_assert_true(g_str_has_prefix(booking, "b-"));
	/* The administrator sees what the gateway has not acknowledged,
	 * and looking claims nothing. */
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "outbox", NULL), ==, 0);
	g_assert_nonnull(strstr(out, "offer"));
	g_assert_nonnull(strstr(out, "pending"));
	g_assert_cmpint(db_int("SELECT count(*) FROM outbox WHERE claims > 0"),
			==, 0);
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "waitlist", "leave",
					entry, NULL), !=, 0);
	g_assert_nonnull(strstr(err, "Conflict"));
	stop();
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/waitlist/priority-decline-expiry-accept",
			test_priority_decline_expiry_accept);
	g_test_add_func("/waitlist/bad-input-changes-nothing", test_bad_input);
	g_test_add_func("/waitlist/two-cancellations-two-entries",
			test_two_cancellations);
	g_test_add_func("/waitlist/offer-survives-restart",
			test_offer_survives_restart);
	g_test_add_func("/waitlist/reload-capacity-is-offered",
			test_reload_capacity);
	g_test_add_func("/outbox/kill-between-claim-and-ack-redelivers",
			test_redelivered_after_kill);
	g_test_add_func("/outbox/cancelled-reminder-never-claimed",
			test_cancelled_reminder_never_claimed);
	g_test_add_func("/slotctl/waitlist-and-outbox", test_slotctl);
	return g_test_run();
}
