/* Load: 64 clients on their own bus connections mix FindSlots, Hold,
 * Book (with and without a hold), Cancel and Reschedule against the
 * real daemon for SLOTD_LOAD_SECONDS: 8 here, some 12,000 calls; the
 * long run is tests/reliability-full.sh's, 60 s with the limits below
 * asserted. Afterwards every invariant holds, every refusal was one the
 * contract names, and the bookings are what the clients were told.
 * Measured from outside: the worst answer time of a Peer.Ping sent
 * every 10 ms on a connection of its own (a stall of slotd's main loop
 * shows there), and slotd's VmRSS at the end of each half.
 * SLOTD_LOAD_STRICT=1 asserts those (< 100 ms, no growth beyond a small
 * margin); on shared machines the suite only reports them. A stall is
 * also seen as the longest time in which no client got any answer;
 * under full load a ping mostly measures the queue (the figures and
 * why: docs/reliability.md). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* SLOTD_LOAD_CLIENTS may lower it, to tell queueing from stalls. */
#define CLIENTS 64
#define SCHEDULER "org.slotd.Scheduler1"

static Harness h;

static const char *const services[] = {
	"needs-assessment-west", "needs-assessment-east", "short-therapy",
	"remote-counselling"
};
static const char *const municipalities[] = {
	"Lohja", "Espoo", "Porvoo", "Raasepori", "Vihti", "Loviisa", "Sipoo"
};
static const char *const expected_errors[] = {
	"org.slotd.Error.SlotFull", "org.slotd.Error.NoSuchHold",
	"org.slotd.Error.Conflict", "org.slotd.Error.PolicyViolation",
	"org.slotd.Error.DeadlineUnreachable", NULL
};

typedef enum { OP_FIND, OP_HOLD, OP_BOOK, OP_HOLD_BOOK, OP_CANCEL,
	       OP_MOVE } Op;

typedef struct {
	char *status;
	char *slot;
} Expected;

typedef struct {
	GDBusConnection *conn;
	GRand *rand;
	guint index;
	guint serial;
	GPtrArray *live;	/* booking ids this client believes booked */
	char *slot;		/* of the call in flight */
	char *booking;		/* of the call in flight */
	gboolean done;
} Client;

typedef struct {
	gint64 deadline;
	GPtrArray *slots;	/* bookable slot ids */
	GHashTable *expected;	/* booking id -> Expected */
	GHashTable *errors;	/* error name -> count */
	guint calls;
	guint unexpected;
	guint running;
	gint64 last_answer;	/* monotonic time of the last answer */
	gint64 longest_silence;	/* the longest time without one */
} Load;

static Load load;
static guint n_clients = CLIENTS;

typedef struct {
	GMutex lock;
	gboolean stop;
	gint64 worst_us;
	guint pings;
	guint failed;
} Pinger;

static void
expected_free(Expected *e)
{
	g_free(e->status);
	g_free(e->slot);
	g_free(e);
}

static void
expect(const char *booking, const char *status, const char *slot)
{
	Expected *e = g_new0(Expected, 1);

	e->status = g_strdup(status);
	e->slot = g_strdup(slot);
	g_hash_table_replace(load.expected, g_strdup(booking), e);
}

/* What a ping may wait at full load: behind up to 64 queued calls of
 * about a millisecond each, and a group commit (see
 * docs/reliability.md). SLOTD_LOAD_PING_MS changes it. */
#define STRICT_PING_US (env_uint("SLOTD_LOAD_PING_MS", 250) * 1000)

static guint
env_uint(const char *name, guint fallback)
{
	const char *text = g_getenv(name);

	return text && *text ? (guint)strtoul(text, NULL, 10) : fallback;
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

/* ---- the clients ---------------------------------------------------- */

static void client_next(Client *c);

static void
count_error(const GError *error)
{
	g_autofree char *name = g_dbus_error_get_remote_error(error);
	const char *key = name ? name : "(local)";
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(load.errors, key));

	if (!name || !g_strv_contains(expected_errors, name)) {
		if (load.unexpected++ < 10)
			g_printerr("unexpected error: %s\n", error->message);
	}
	g_hash_table_replace(load.errors, g_strdup(key),
			     GUINT_TO_POINTER(n + 1));
}

static void
call(Client *c, const char *method, GVariant *args, const char *type,
     GAsyncReadyCallback done)
{
	load.calls++;
	g_dbus_connection_call(c->conn, "org.slotd.Slotd1",
			       "/org/slotd/Slotd1", SCHEDULER, method, args,
			       G_VARIANT_TYPE(type), G_DBUS_CALL_FLAGS_NONE,
			       60000, NULL, done, c);
}

static GVariant *
finish(GObject *source, GAsyncResult *res)
{
	g_autoptr(GError) error = NULL;
	GVariant *r = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source),
						    res, &error);
	gint64 now = g_get_monotonic_time();

	if (load.last_answer)
		load.longest_silence = MAX(load.longest_silence,
					   now - load.last_answer);
	load.last_answer = now;
	if (!r)
		count_error(error);
	return r;
}

static void
after_find(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GVariant) r = finish(source, res);

	client_next(user_data);
}

static void
after_book(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Client *c = user_data;
	g_autoptr(GVariant) r = finish(source, res);

	if (r) {
		char *id;

		g_variant_get(r, "(s)", &id);
		expect(id, "booked", c->slot);
		g_ptr_array_add(c->live, id);
	}
	client_next(c);
}

static void
book(Client *c, const char *hold)
{
	g_autofree char *ref = g_strdup_printf("load-%u-%u", c->index,
					       c->serial++);
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	if (hold)
		g_variant_dict_insert(&d, "hold", "s", hold);
	call(c, "Book",
	     g_variant_new("(ss@a{sv})", c->slot, ref, g_variant_dict_end(&d)),
	     "(s)", after_book);
}

static void
after_hold(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Client *c = user_data;
	g_autoptr(GVariant) r = finish(source, res);
	const char *hold;

	if (!r || g_rand_boolean(c->rand)) {
		client_next(c);
		return;
	}
	g_variant_get(r, "(&s)", &hold);
	book(c, hold);
}

static void
after_cancel(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Client *c = user_data;
	g_autoptr(GVariant) r = finish(source, res);
	Expected *e = g_hash_table_lookup(load.expected, c->booking);

	guint at;

	if (r) {
		g_free(e->status);
		e->status = g_strdup("cancelled");
		g_assert_true(g_ptr_array_find_with_equal_func(
			c->live, c->booking, g_str_equal, &at));
		g_ptr_array_remove_index_fast(c->live, at);
	}
	client_next(c);
}

static void
after_move(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Client *c = user_data;
	g_autoptr(GVariant) r = finish(source, res);
	Expected *e = g_hash_table_lookup(load.expected, c->booking);

	if (r) {
		g_free(e->slot);
		e->slot = g_strdup(c->slot);
	}
	client_next(c);
}

static void
find(Client *c)
{
	GVariantDict d;
	gint32 s = g_rand_int_range(c->rand, 0, G_N_ELEMENTS(services));
	gint32 m = g_rand_int_range(c->rand, 0, G_N_ELEMENTS(municipalities));

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", municipalities[m]);
	g_variant_dict_insert(&d, "limit", "u", 20);
	call(c, "FindSlots",
	     g_variant_new("(s@a{sv})", services[s], g_variant_dict_end(&d)),
	     "(a(ssxxua{sv}))", after_find);
}

static Op
choose(Client *c)
{
	gint32 dice = g_rand_int_range(c->rand, 0, 100);

	if (dice < 25)
		return OP_FIND;
	if (dice < 35)
		return OP_HOLD;
	if (dice < 52)
		return OP_BOOK;
	if (dice < 65)
		return OP_HOLD_BOOK;
	if (c->live->len == 0)
		return OP_BOOK;
	return dice < 83 ? OP_CANCEL : OP_MOVE;
}

static void
client_next(Client *c)
{
	Op op;

	if (g_get_monotonic_time() >= load.deadline) {
		c->done = TRUE;
		load.running--;
		return;
	}
	op = choose(c);
	g_free(c->slot);
	c->slot = g_strdup(load.slots->pdata[g_rand_int_range(
		c->rand, 0, (gint32)load.slots->len)]);
	g_free(c->booking);
	c->booking = op == OP_CANCEL || op == OP_MOVE ?
		g_strdup(c->live->pdata[g_rand_int_range(
			c->rand, 0, (gint32)c->live->len)]) : NULL;
	switch (op) {
	case OP_FIND:
		find(c);
		break;
	case OP_HOLD:
	case OP_HOLD_BOOK:
		/* Short holds: most expire by themselves during the run. */
		call(c, "Hold",
		     g_variant_new("(su)", c->slot,
				   g_rand_int_range(c->rand, 1, 4)),
		     "(s)", after_hold);
		break;
	case OP_BOOK:
		book(c, NULL);
		break;
	case OP_CANCEL:
		call(c, "Cancel", g_variant_new("(ss)", c->booking, "load"),
		     "()", after_cancel);
		break;
	case OP_MOVE:
		call(c, "Reschedule",
		     g_variant_new("(ss)", c->booking, c->slot), "(s)",
		     after_move);
		break;
	}
}

/* ---- measuring from outside ----------------------------------------- */

static gpointer
ping_thread(gpointer data)
{
	Pinger *p = data;
	g_autoptr(GDBusConnection) conn = connect_client();

	for (;;) {
		g_autoptr(GVariant) r = NULL;
		gint64 t0 = g_get_monotonic_time(), dt;

		g_mutex_lock(&p->lock);
		if (p->stop) {
			g_mutex_unlock(&p->lock);
			break;
		}
		g_mutex_unlock(&p->lock);
		r = g_dbus_connection_call_sync(
			conn, "org.slotd.Slotd1", "/org/slotd/Slotd1",
			"org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
			G_DBUS_CALL_FLAGS_NONE, 10000, NULL, NULL);
		dt = g_get_monotonic_time() - t0;
		g_mutex_lock(&p->lock);
		p->pings++;
		p->failed += r ? 0 : 1;
		p->worst_us = MAX(p->worst_us, dt);
		g_mutex_unlock(&p->lock);
		if (dt < 10000)
			g_usleep((gulong)(10000 - dt));
	}
	return NULL;
}

static guint
slotd_rss_kb(void)
{
	g_autofree char *path = g_strdup_printf(
		"/proc/%s/status", g_subprocess_get_identifier(h.slotd));
	g_autofree char *text = NULL;
	const char *line;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	line = strstr(text, "VmRSS:");
	g_assert_nonnull(line);
	return (guint)strtoul(line + 6, NULL, 10);
}

/* ---- setup and checks ----------------------------------------------- */

static void
collect_slots(void)
{
	load.slots = g_ptr_array_new_with_free_func(g_free);
	for (guint s = 0; s < G_N_ELEMENTS(services); s++) {
		GVariantDict d;
		g_autoptr(GVariant) found = NULL;

		g_variant_dict_init(&d, NULL);
		g_variant_dict_insert(&d, "limit", "u", 150);
		found = harness_find(&h, services[s], g_variant_dict_end(&d));
		for (gsize i = 0; i < g_variant_n_children(found); i++) {
			const char *id;

			g_variant_get_child(found, i, "(&s&sxxu@a{sv})", &id,
					    NULL, NULL, NULL, NULL, NULL);
			g_ptr_array_add(load.slots, g_strdup(id));
		}
	}
	g_assert_cmpuint(load.slots->len, >, 100);
}

static void
assert_invariants(void)
{
	g_autofree char *integrity = sql("PRAGMA integrity_check;");
	g_autofree char *bad = sql(
		"SELECT count(*) FROM slot s WHERE s.booked != "
		"(SELECT coalesce(sum(u.seats), 0) FROM booking_use u "
		" JOIN booking b ON b.id = u.booking WHERE u.slot = s.id "
		" AND b.status NOT IN ('cancelled', 'entered-in-error')) "
		"OR s.booked + s.held > s.capacity;");
	g_autofree char *held = sql(
		"SELECT count(*) FROM slot s WHERE s.held != (SELECT "
		"coalesce(sum(seats), 0) FROM hold WHERE slot = s.id);");

	g_assert_cmpstr(integrity, ==, "ok");
	g_assert_cmpstr(bad, ==, "0");
	g_assert_cmpstr(held, ==, "0");
}

/* Every booking is what its client was last told, and there is no
 * other booking of this test. */
static void
assert_bookings_as_told(void)
{
	g_autofree char *rows = sql("SELECT id, status, slot FROM booking "
				    "WHERE client_ref LIKE 'load-%';");
	g_auto(GStrv) lines = g_strsplit(rows, "\n", -1);
	guint seen = 0;

	for (guint i = 0; lines[i] && *lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], "|", 3);
		g_autofree char *id = g_strdup_printf("b-%s", f[0]);
		g_autofree char *slot = g_strdup_printf("s-%s", f[2]);
		Expected *e = g_hash_table_lookup(load.expected, id);

		if (!e)
			g_error("booking %s was never acknowledged", id);
		g_assert_cmpstr(f[1], ==, e->status);
		g_assert_cmpstr(slot, ==, e->slot);
		seen++;
	}
	g_assert_cmpuint(seen, ==, g_hash_table_size(load.expected));
}

static void
report_errors(void)
{
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, load.errors);
	while (g_hash_table_iter_next(&iter, &key, &value))
		g_print("load:   %s: %u\n", (const char *)key,
			GPOINTER_TO_UINT(value));
}

static void
run_clients(Client *clients, guint seconds, guint *ret_rss_first)
{
	gint64 half;

	load.deadline = g_get_monotonic_time() + seconds * G_USEC_PER_SEC;
	half = g_get_monotonic_time() + seconds * G_USEC_PER_SEC / 2;
	load.running = n_clients;
	for (guint i = 0; i < n_clients; i++)
		client_next(&clients[i]);
	*ret_rss_first = 0;
	while (load.running > 0) {
		g_main_context_iteration(NULL, TRUE);
		if (!*ret_rss_first && g_get_monotonic_time() >= half)
			*ret_rss_first = slotd_rss_kb();
	}
}

static void
clients_start(Client *clients)
{
	n_clients = CLAMP(env_uint("SLOTD_LOAD_CLIENTS", CLIENTS), 1, CLIENTS);
	for (guint i = 0; i < n_clients; i++) {
		clients[i].conn = connect_client();
		clients[i].rand = g_rand_new_with_seed(g_test_rand_int());
		clients[i].index = i;
		clients[i].live = g_ptr_array_new_with_free_func(g_free);
	}
}

static void
clients_free(Client *clients)
{
	for (guint i = 0; i < n_clients; i++) {
		g_object_unref(clients[i].conn);
		g_rand_free(clients[i].rand);
		g_ptr_array_unref(clients[i].live);
		g_free(clients[i].slot);
		g_free(clients[i].booking);
	}
}

static void
pinger_stop(Pinger *pinger, GThread *thread)
{
	g_mutex_lock(&pinger->lock);
	pinger->stop = TRUE;
	g_mutex_unlock(&pinger->lock);
	g_thread_join(thread);
	g_mutex_clear(&pinger->lock);
}

static void
test_mixed_load(void)
{
	guint seconds = env_uint("SLOTD_LOAD_SECONDS", 8);
	gboolean strict = env_uint("SLOTD_LOAD_STRICT", 0) != 0;
	Client clients[CLIENTS] = { 0 };
	Pinger pinger = { 0 };
	GThread *thread;
	guint rss_first, rss_second;
	gint64 started = g_get_monotonic_time();
	double elapsed;

	load.expected = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      (GDestroyNotify)expected_free);
	load.errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    NULL);
	collect_slots();
	clients_start(clients);
	g_mutex_init(&pinger.lock);
	thread = g_thread_new("ping", ping_thread, &pinger);
	run_clients(clients, seconds, &rss_first);
	rss_second = slotd_rss_kb();
	pinger_stop(&pinger, thread);
	elapsed = (g_get_monotonic_time() - started) / 1e6;
	g_print("load: %u clients, %.1f s: %u calls (%.0f/s); longest time "
		"without an answer %.1f ms; worst ping %.1f ms over %u pings "
		"(%u failed); slotd VmRSS %u kB at half time, %u kB at the "
		"end\n",
		n_clients, elapsed, load.calls, load.calls / elapsed,
		load.longest_silence / 1000.0, pinger.worst_us / 1000.0,
		pinger.pings, pinger.failed, rss_first, rss_second);
	report_errors();
	g_assert_cmpuint(load.unexpected, ==, 0);
	g_assert_cmpuint(pinger.failed, ==, 0);
	g_assert_cmpuint(pinger.pings, >, 0);
	assert_invariants();
	assert_bookings_as_told();
	if (strict) {
		/* A stall of the loop silences every client at once; a
		 * ping also waits behind the calls queued before it. */
		g_assert_cmpint(load.longest_silence, <, 100000);
		g_assert_cmpint(pinger.worst_us, <, STRICT_PING_US);
		g_assert_cmpuint(rss_second, <=,
				 rss_first + MAX(rss_first / 10, 2048));
	}
	clients_free(clients);
	g_hash_table_unref(load.expected);
	g_hash_table_unref(load.errors);
	g_ptr_array_unref(load.slots);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	harness_start_example(&h, 28);
	g_test_add_func("/load/64-clients/invariants-errors-stalls-memory",
			test_mixed_load);
	return harness_finish(&h, g_test_run());
}
