/* One client of the crash-safety check (tests/crash/crash.py): books,
 * cancels and reschedules on slotd one call at a time, and writes every
 * call it sends and every answer it gets to a log, flushed line by line,
 * so that the checker knows what was acknowledged when slotd was killed.
 *
 *   crash-client ADDRESS wait
 *   crash-client ADDRESS run CLIENT ROUND SEED LOG STATE
 *
 * Log lines: "ready" (slots known); "send book REF SLOT", "send cancel
 * BOOKING -", "send move BOOKING SLOT"; "ack book BOOKING SLOT", "ack
 * cancel BOOKING -", "ack move BOOKING SLOT"; "nak ERROR", "lost ERROR".
 * STATE lists the client's live bookings from earlier rounds ("BOOKING
 * SLOT"). */
#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUS_NAME "org.slotd.Slotd1"
#define OBJECT "/org/slotd/Slotd1"
#define SCHEDULER "org.slotd.Scheduler1"

typedef struct {
	char *booking;
	char *slot;
} Live;

typedef struct {
	GDBusConnection *conn;
	FILE *log;
	GRand *rand;
	GPtrArray *slots;	/* char *: slot ids to choose from */
	GPtrArray *live;	/* Live *: this client's booked bookings */
	guint client;
	guint round;
	guint serial;
} Client;

static void
live_free(Live *l)
{
	g_free(l->booking);
	g_free(l->slot);
	g_free(l);
}

static GVariant *
call(Client *c, const char *iface, const char *method, GVariant *args,
     const char *type, GError **error)
{
	return g_dbus_connection_call_sync(c->conn, BUS_NAME, OBJECT, iface,
					   method, args, G_VARIANT_TYPE(type),
					   G_DBUS_CALL_FLAGS_NO_AUTO_START,
					   20000, NULL, error);
}

static void
logf_line(Client *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
logf_line(Client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(c->log, fmt, ap);
	va_end(ap);
	fputc('\n', c->log);
	fflush(c->log);
}

/* The errors slotd answers when a change is refused for a reason of the
 * domain; anything else from slotd is a defect the checker reports. */
static gboolean
expected_refusal(const char *name)
{
	static const char *const ok[] = {
		"org.slotd.Error.SlotFull", "org.slotd.Error.Conflict",
		"org.slotd.Error.PolicyViolation",
		"org.slotd.Error.DeadlineUnreachable", NULL
	};

	return name && g_strv_contains(ok, name);
}

/* FALSE when the daemon is gone (the round is over). */
static gboolean
answer_error(Client *c, GError *error)
{
	g_autofree char *name = g_dbus_error_get_remote_error(error);

	if (expected_refusal(name)) {
		logf_line(c, "nak %s", name);
		return TRUE;
	}
	if (name && g_str_has_prefix(name, "org.slotd.")) {
		logf_line(c, "bad %s %s", name, error->message);
		exit(3);
	}
	logf_line(c, "lost %s", name ? name : "local-error");
	return FALSE;
}

static const char *
random_slot(Client *c)
{
	return c->slots->pdata[g_rand_int_range(c->rand, 0,
						(gint32)c->slots->len)];
}

static gboolean
do_book(Client *c)
{
	g_autofree char *ref = g_strdup_printf("crash-c%u-r%u-%u", c->client,
					       c->round, c->serial++);
	const char *slot = random_slot(c);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	Live *l;

	logf_line(c, "send book %s %s", ref, slot);
	r = call(c, SCHEDULER, "Book",
		 g_variant_new("(ss@a{sv})", slot, ref,
			       g_variant_new("a{sv}", NULL)),
		 "(s)", &error);
	if (!r)
		return answer_error(c, error);
	l = g_new0(Live, 1);
	g_variant_get(r, "(s)", &l->booking);
	l->slot = g_strdup(slot);
	logf_line(c, "ack book %s %s", l->booking, l->slot);
	g_ptr_array_add(c->live, l);
	return TRUE;
}

static gboolean
do_cancel(Client *c)
{
	guint i = (guint)g_rand_int_range(c->rand, 0, (gint32)c->live->len);
	Live *l = c->live->pdata[i];
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	logf_line(c, "send cancel %s -", l->booking);
	r = call(c, SCHEDULER, "Cancel",
		 g_variant_new("(ss)", l->booking, "crash test"), "()",
		 &error);
	if (!r)
		return answer_error(c, error);
	logf_line(c, "ack cancel %s -", l->booking);
	g_ptr_array_remove_index_fast(c->live, i);
	return TRUE;
}

static gboolean
do_move(Client *c)
{
	Live *l = c->live->pdata[g_rand_int_range(c->rand, 0,
						  (gint32)c->live->len)];
	const char *slot = random_slot(c);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	logf_line(c, "send move %s %s", l->booking, slot);
	r = call(c, SCHEDULER, "Reschedule",
		 g_variant_new("(ss)", l->booking, slot), "(s)", &error);
	if (!r)
		return answer_error(c, error);
	logf_line(c, "ack move %s %s", l->booking, slot);
	g_free(l->slot);
	l->slot = g_strdup(slot);
	return TRUE;
}

/* Books more while the client has few bookings, changes more once it
 * has many, so that seats keep turning over for a hundred rounds. */
static gboolean
step(Client *c)
{
	gint32 dice = g_rand_int_range(c->rand, 0, 100);
	gint32 book_share = c->live->len < 8 ? 70 : 30;

	if (c->live->len == 0 || dice < book_share)
		return do_book(c);
	if (dice < book_share + (100 - book_share) / 2)
		return do_cancel(c);
	return do_move(c);
}

/* FALSE when the daemon went away before the client could start. */
static gboolean
load_slots(Client *c, const char *service)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL, slots = NULL;
	GVariantDict q;

	g_variant_dict_init(&q, NULL);
	g_variant_dict_insert(&q, "limit", "u", 400);
	r = call(c, SCHEDULER, "FindSlots",
		 g_variant_new("(s@a{sv})", service, g_variant_dict_end(&q)),
		 "(a(ssxxua{sv}))", &error);
	if (!r) {
		g_autofree char *name = g_dbus_error_get_remote_error(error);

		if (!name || !g_str_has_prefix(name, "org.slotd."))
			return FALSE;
		g_printerr("FindSlots %s: %s\n", service, error->message);
		exit(2);
	}
	slots = g_variant_get_child_value(r, 0);
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, NULL,
				    NULL, NULL, NULL, NULL);
		g_ptr_array_add(c->slots, g_strdup(id));
	}
	return TRUE;
}

static void
load_state(Client *c, const char *path)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) w = g_strsplit(lines[i], " ", 2);
		Live *l;

		if (g_strv_length(w) != 2)
			continue;
		l = g_new0(Live, 1);
		l->booking = g_strdup(w[0]);
		l->slot = g_strdup(w[1]);
		g_ptr_array_add(c->live, l);
	}
}

static gboolean
daemon_ready(GDBusConnection *conn)
{
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
		conn, BUS_NAME, OBJECT, "org.slotd.Admin1", "GetStatus", NULL,
		G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
		5000, NULL, NULL);
	g_autoptr(GVariant) d = NULL;
	gboolean done = FALSE;

	if (!r)
		return FALSE;
	d = g_variant_get_child_value(r, 0);
	g_variant_lookup(d, "horizon-complete", "b", &done);
	return done;
}

static int
wait_ready(GDBusConnection *conn)
{
	for (guint i = 0; i < 1200; i++) {
		if (daemon_ready(conn))
			return 0;
		g_usleep(50000);
	}
	g_printerr("slotd did not become ready in 60 s\n");
	return 1;
}

static int
run(GDBusConnection *conn, char **argv)
{
	Client c = { conn };

	c.client = (guint)atoi(argv[0]);
	c.round = (guint)atoi(argv[1]);
	c.rand = g_rand_new_with_seed((guint32)strtoul(argv[2], NULL, 10));
	c.log = fopen(argv[3], "a");
	if (!c.log) {
		perror(argv[3]);
		return 2;
	}
	c.slots = g_ptr_array_new_with_free_func(g_free);
	c.live = g_ptr_array_new_with_free_func((GDestroyNotify)live_free);
	if (load_slots(&c, "needs-assessment-west") &&
	    load_slots(&c, "needs-assessment-east")) {
		load_state(&c, argv[4]);
		if (c.slots->len == 0) {
			g_printerr("no slots to book\n");
			return 2;
		}
		logf_line(&c, "ready");
		while (step(&c))
			;
	}
	fclose(c.log);
	g_ptr_array_unref(c.slots);
	g_ptr_array_unref(c.live);
	g_rand_free(c.rand);
	return 0;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) conn = NULL;

	if (argc < 3 || (g_str_equal(argv[2], "run") && argc != 8)) {
		g_printerr("usage: crash-client ADDRESS wait | run CLIENT "
			   "ROUND SEED LOG STATE\n");
		return 2;
	}
	conn = g_dbus_connection_new_for_address_sync(
		argv[1],
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	if (!conn) {
		g_printerr("cannot connect: %s\n", error->message);
		return 2;
	}
	g_dbus_connection_set_exit_on_close(conn, FALSE);
	if (g_str_equal(argv[2], "wait"))
		return wait_ready(conn);
	return run(conn, argv + 3);
}
