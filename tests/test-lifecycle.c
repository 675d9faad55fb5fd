/* The daemon's life as an administrator sees it: SIGHUP reloads while
 * callers keep calling, `slotctl backup` copies the database while
 * bookings go on (and the copy restores), SIGTERM answers the calls it
 * already received, closes the database cleanly and exits 0.
 *
 * Load comes from several bus connections, each keeping a few calls in
 * flight at all times. The daemon's clock starts on Monday 2026-12-07
 * 07:00 local time. */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "harness.h"

#define SNA "needs-assessment-west"
#define CONNECTIONS 4
#define CALL_TIMEOUT_MS 30000
/* No client reference may reach the log: they all carry this. */
#define REF_PREFIX "lc-ref-"

/* Runs the main loop until `cond`, failing after a minute; a timer in
 * main() wakes the loop at least once a second to look. */
#define ITERATE_UNTIL(cond, what)                                        \
	do {                                                              \
		gint64 until_ = g_get_monotonic_time() + 60 * G_USEC_PER_SEC; \
		while (!(cond)) {                                         \
			if (g_get_monotonic_time() > until_)              \
				g_error("waited a minute for %s", what);  \
			g_main_context_iteration(NULL, TRUE);             \
		}                                                         \
	} while (0)

typedef enum {
	CALL_LIST_SERVICES,
	CALL_FIND_SLOTS,
	CALL_GET_STATUS,
	CALL_BOOK,
	N_CALL_KINDS
} CallKind;

typedef struct {
	Harness *h;
	GDBusConnection *conns[CONNECTIONS];
	GPtrArray *slots;	/* slot ids to book */
	gboolean booking_only;	/* every call a Book */
	guint depth;		/* calls each connection keeps in flight */
	gboolean running;	/* send a new call for each answer */
	guint next;		/* sequence number of the next call */
	guint books;		/* Book calls sent: picks the slot */
	guint in_flight;
	guint sent;
	guint answered;
	guint ok;
	guint full;		/* SlotFull: expected under load */
	guint gone;		/* ServiceUnknown/NameHasNoOwner: stopped */
	guint unexpected;
	char *first_unexpected;
	GPtrArray *booked;	/* ids acknowledged, in order of arrival */
	gint64 max_latency;	/* microseconds */
} Load;

typedef struct {
	Load *load;
	guint conn;
	CallKind kind;
	gint64 sent_at;
} Call;

static GDBusConnection *
connect_client(Harness *h)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *c = g_dbus_connection_new_for_address_sync(
		h->address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);

	g_assert_no_error(error);
	return c;
}

static GVariant *
lohja_query(guint limit)
{
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	g_variant_dict_insert(&d, "limit", "u", limit);
	return g_variant_dict_end(&d);
}

static GPtrArray *
bookable_slots(Harness *h)
{
	g_autoptr(GVariant) slots = harness_find(h, SNA, lohja_query(300));
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);

	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, NULL,
				    NULL, NULL, NULL, NULL);
		g_ptr_array_add(ids, g_strdup(id));
	}
	g_assert_cmpuint(ids->len, >=, 20);
	return ids;
}

static void
load_init(Load *load, Harness *h, gboolean booking_only, guint depth)
{
	memset(load, 0, sizeof(*load));
	load->h = h;
	load->booking_only = booking_only;
	load->depth = depth;
	load->slots = bookable_slots(h);
	load->booked = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < CONNECTIONS; i++)
		load->conns[i] = connect_client(h);
}

static void
load_clear(Load *load)
{
	for (guint i = 0; i < CONNECTIONS; i++)
		g_clear_object(&load->conns[i]);
	g_ptr_array_unref(load->slots);
	g_ptr_array_unref(load->booked);
	g_free(load->first_unexpected);
}

static void load_send(Load *load, guint conn);

static void
tally_error(Load *load, const GError *error)
{
	/* After the stop began the bus answers for the name. */
	static const char *const gone[] = {
		"org.freedesktop.DBus.Error.ServiceUnknown",
		"org.freedesktop.DBus.Error.NameHasNoOwner", NULL
	};
	g_autofree char *remote = g_dbus_error_get_remote_error(error);

	if (g_strcmp0(remote, "org.slotd.Error.SlotFull") == 0) {
		load->full++;
	} else if (remote && g_strv_contains(gone, remote)) {
		load->gone++;
	} else {
		load->unexpected++;
		if (!load->first_unexpected)
			load->first_unexpected = g_strdup(error->message);
	}
}

static void
on_answer(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autofree Call *call = user_data;
	Load *load = call->load;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_finish(
		G_DBUS_CONNECTION(source), res, &error);

	load->in_flight--;
	load->answered++;
	load->max_latency = MAX(load->max_latency,
				g_get_monotonic_time() - call->sent_at);
	if (!r) {
		tally_error(load, error);
	} else {
		load->ok++;
		if (call->kind == CALL_BOOK) {
			char *id;

			g_variant_get(r, "(s)", &id);
			g_ptr_array_add(load->booked, id);
		}
	}
	if (load->running)
		load_send(load, call->conn);
}

static void
call_args(Load *load, CallKind kind, const char **ret_interface,
	  const char **ret_method, GVariant **ret_args)
{
	g_autofree char *ref = NULL;
	const char *slot;

	*ret_interface = "org.slotd.Scheduler1";
	switch (kind) {
	case CALL_LIST_SERVICES:
		*ret_method = "ListServices";
		*ret_args = NULL;
		break;
	case CALL_FIND_SLOTS:
		*ret_method = "FindSlots";
		*ret_args = g_variant_new("(s@a{sv})", SNA, lohja_query(20));
		break;
	case CALL_GET_STATUS:
		*ret_interface = "org.slotd.Admin1";
		*ret_method = "GetStatus";
		*ret_args = NULL;
		break;
	default:
		slot = load->slots->pdata[load->books++ % load->slots->len];
		ref = g_strdup_printf(REF_PREFIX "%u", load->next);
		*ret_method = "Book";
		*ret_args = g_variant_new("(ss@a{sv})", slot, ref,
					  g_variant_new("a{sv}", NULL));
		break;
	}
}

static void
load_send(Load *load, guint conn)
{
	Call *call = g_new0(Call, 1);
	const char *interface, *method;
	GVariant *args;

	call->load = load;
	call->conn = conn;
	call->kind = load->booking_only ? CALL_BOOK :
					  (CallKind)(load->next % N_CALL_KINDS);
	call->sent_at = g_get_monotonic_time();
	call_args(load, call->kind, &interface, &method, &args);
	load->next++;
	load->sent++;
	load->in_flight++;
	g_dbus_connection_call(load->conns[conn], "org.slotd.Slotd1",
			       "/org/slotd/Slotd1", interface, method, args,
			       NULL, G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS,
			       NULL, on_answer, call);
}

static void
load_start(Load *load)
{
	load->running = TRUE;
	for (guint i = 0; i < CONNECTIONS; i++)
		for (guint n = 0; n < load->depth; n++)
			load_send(load, i);
}

static gboolean
set_flag(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Runs the main context for `ms` milliseconds. */
static void
run_for(guint ms)
{
	gboolean done = FALSE;

	g_timeout_add(ms, set_flag, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

/* Stops sending and waits until every call sent has an answer. */
static void
load_finish(Load *load)
{
	load->running = FALSE;
	ITERATE_UNTIL(load->in_flight == 0, "the last answers");
	g_test_message("%u calls: %u ok, %u slot full, %u after stop, "
		       "%u unexpected; slowest %" G_GINT64_FORMAT " ms",
		       load->sent, load->ok, load->full, load->gone,
		       load->unexpected, load->max_latency / 1000);
	if (load->unexpected)
		g_error("%u unexpected errors, the first: %s",
			load->unexpected, load->first_unexpected);
	g_assert_cmpuint(load->answered, ==, load->sent);
}

/* ---- helpers ---------------------------------------------------------- */

static void
start_daemon(Harness *h)
{
	harness_init(h);
	h->horizon_days = 21;
	h->test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				       harness_local(2026, 12, 7, 7, 0));
	harness_start_slotd(h, NULL);
}

static char *
read_log(Harness *h)
{
	char *log = NULL;

	g_assert_true(g_file_get_contents(h->log_path, &log, NULL, NULL));
	return log;
}

static guint
count_in(const char *text, const char *needle)
{
	guint n = 0;

	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static char *
sql(Harness *h, const char *db, const char *query)
{
	const char *argv[] = { "sqlite3", db, query, NULL };
	char *out = NULL;

	g_assert_cmpint(harness_run(h, &out, NULL, argv), ==, 0);
	return g_strstrip(out);
}

/* Exit status of a daemon already told to stop; -1 if killed. */
static int
wait_exit(Harness *h)
{
	g_autoptr(GError) error = NULL;
	int status = -1;

	g_assert_true(g_subprocess_wait(h->slotd, NULL, &error));
	g_assert_no_error(error);
	if (g_subprocess_get_if_exited(h->slotd))
		status = g_subprocess_get_exit_status(h->slotd);
	g_clear_object(&h->slotd);
	return status;
}

static gsize
file_size(const char *path)
{
	GStatBuf st;

	return g_stat(path, &st) == 0 ? (gsize)st.st_size : 0;
}

/* ---- SIGHUP ----------------------------------------------------------- */

typedef struct {
	Harness *h;
	guint sent;
} Hangups;

static gboolean
send_hangup(gpointer user_data)
{
	Hangups *hups = user_data;

	/* The second reload has real work: a longer horizon to fill. */
	if (hups->sent == 1)
		harness_set_key(hups->h->config, "daemon", "horizon-days",
				"24");
	g_subprocess_send_signal(hups->h->slotd, SIGHUP);
	return ++hups->sent < 3 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
test_sighup_keeps_serving(void)
{
	Harness h;
	Load load;
	Hangups hups;
	g_autofree char *log = NULL;

	start_daemon(&h);
	hups = (Hangups){ &h, 0 };
	load_init(&load, &h, FALSE, 6);
	load_start(&load);
	g_timeout_add(400, send_hangup, &hups);
	run_for(2000);
	load_finish(&load);
	g_assert_cmpuint(hups.sent, ==, 3);
	/* Enough calls overlapped the reloads to mean something. */
	g_assert_cmpuint(load.answered, >=, 200);
	g_assert_cmpuint(load.ok, >=, load.answered / 2);
	g_assert_cmpuint(load.gone, ==, 0);
	/* A reload is milliseconds of work between two calls. */
	g_assert_cmpint(load.max_latency, <, 5 * G_USEC_PER_SEC);
	/* The last reload began 1.2 s in; on a loaded machine it may still
	 * be finishing when the load stops. */
	for (gint64 until = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;;) {
		g_free(log);
		log = read_log(&h);
		if (count_in(log, "configuration reloaded") >= 3 ||
		    g_get_monotonic_time() > until)
			break;
		run_for(50);
	}
	g_assert_cmpuint(count_in(log, "configuration reloaded"), ==, 3);
	g_assert_null(strstr(log, "reload refused"));
	g_assert_null(strstr(log, REF_PREFIX));
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	load_clear(&load);
	harness_clear(&h);
}

/* ---- SIGTERM ---------------------------------------------------------- */

static void
assert_database_closed_cleanly(Harness *h, guint bookings)
{
	g_autofree char *db = g_build_filename(h->state_dir, "slotd.db",
					       NULL);
	g_autofree char *wal = g_strconcat(db, "-wal", NULL);
	g_autofree char *check = NULL, *count = NULL, *mode = NULL;
	g_autofree char *want = g_strdup_printf("%u", bookings);

	/* Checkpointed and closed: the file alone holds everything. */
	g_assert_cmpuint(file_size(wal), ==, 0);
	check = sql(h, db, "PRAGMA integrity_check;");
	g_assert_cmpstr(check, ==, "ok");
	mode = sql(h, db, "PRAGMA journal_mode;");
	g_assert_cmpstr(mode, ==, "wal");
	count = sql(h, db, "SELECT count(*) FROM booking;");
	g_assert_cmpstr(count, ==, want);
}

static void
on_slotd_exit(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gboolean *exited = user_data;

	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	*exited = TRUE;
}

/* Callers keep calling all through the stop: the calls the daemon has
 * received are answered, later ones are refused by the bus because the
 * name is gone; none is left without an answer (NoReply). */
static void
test_sigterm_answers_in_flight(void)
{
	Harness h;
	Load load;
	g_autofree char *log = NULL;
	const char *stopping;
	gboolean exited = FALSE;

	start_daemon(&h);
	load_init(&load, &h, FALSE, 8);
	load_start(&load);
	run_for(500);
	g_subprocess_wait_async(h.slotd, NULL, on_slotd_exit, &exited);
	g_subprocess_send_signal(h.slotd, SIGTERM);
	ITERATE_UNTIL(exited, "slotd to exit");
	load_finish(&load);
	g_assert_cmpint(wait_exit(&h), ==, 0);
	g_assert_cmpuint(load.gone, >, 0);
	/* Every Book that was answered is in the database, and no booking
	 * is there whose caller never heard of it. */
	assert_database_closed_cleanly(&h, load.booked->len);
	log = read_log(&h);
	stopping = strstr(log, "stopping: answering");
	g_assert_nonnull(stopping);
	g_test_message("%u booking changes logged after the stop began",
		       count_in(stopping, "SLOTD_BOOKING="));
	g_assert_nonnull(strstr(stopping, "stopped (exit status 0)"));
	g_assert_null(strstr(stopping, "unanswered"));
	g_assert_null(strstr(log, REF_PREFIX));
	load_clear(&load);
	harness_clear(&h);
}

/* ---- backup ----------------------------------------------------------- */

static void
on_backup_done(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gboolean *done = user_data;

	g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
	*done = TRUE;
}

/* Runs `slotctl backup path` while the load keeps booking. */
static void
backup_during_load(Harness *h, const char *path)
{
	g_autofree char *exe = g_build_filename(harness_build_root(), "tools",
						"slotctl", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) slotctl = g_subprocess_new(
		G_SUBPROCESS_FLAGS_NONE, &error, exe, "--address", h->address,
		"backup", path, NULL);
	gboolean done = FALSE;

	g_assert_no_error(error);
	g_subprocess_wait_async(slotctl, NULL, on_backup_done, &done);
	ITERATE_UNTIL(done, "slotctl backup");
	g_assert_true(g_subprocess_get_if_exited(slotctl));
	g_assert_cmpint(g_subprocess_get_exit_status(slotctl), ==, 0);
}

static void
assert_backup_holds(Harness *h, const char *path, GPtrArray *acknowledged)
{
	g_autofree char *wal = g_strconcat(path, "-wal", NULL);
	g_autofree char *check = NULL, *ids = NULL, *bad = NULL;
	g_auto(GStrv) lines = NULL;

	g_assert_false(g_file_test(wal, G_FILE_TEST_EXISTS));
	check = sql(h, path, "PRAGMA integrity_check;");
	g_assert_cmpstr(check, ==, "ok");
	ids = sql(h, path, "SELECT 'b-' || id FROM booking;");
	lines = g_strsplit(ids, "\n", -1);
	for (guint i = 0; i < acknowledged->len; i++)
		if (!g_strv_contains((const char *const *)lines,
				     acknowledged->pdata[i]))
			g_error("booking %s was acknowledged before the "
				"backup began but is not in it",
				(char *)acknowledged->pdata[i]);
	/* A consistent snapshot: seat counters match the bookings. */
	bad = sql(h, path,
		  "SELECT count(*) FROM slot s WHERE s.booked != "
		  "(SELECT coalesce(sum(u.seats), 0) FROM booking_use u "
		  " JOIN booking b ON b.id = u.booking WHERE u.slot = s.id "
		  " AND b.status NOT IN ('cancelled', 'entered-in-error'));");
	g_assert_cmpstr(bad, ==, "0");
}

/* Restoring is: stop, put the copy in place as slotd.db, start. */
static void
assert_restores(Harness *h, const char *path, const char *booking)
{
	g_autofree char *restored = g_build_filename(h->tmpdir, "restored",
						     NULL);
	g_autofree char *db = g_build_filename(restored, "slotd.db", NULL);
	g_autofree char *contents = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL, b = NULL;
	gsize length;
	const char *status;

	g_assert_cmpint(harness_stop_slotd(h, SIGTERM), ==, 0);
	g_assert_cmpint(g_mkdir_with_parents(restored, 0700), ==, 0);
	g_assert_true(g_file_get_contents(path, &contents, &length, NULL));
	g_assert_true(g_file_set_contents(db, contents, length, NULL));
	g_free(h->state_dir);
	h->state_dir = g_strdup(restored);
	harness_start_slotd(h, NULL); /* the same copied configuration */
	r = harness_call(h, "org.slotd.Scheduler1", "GetBooking",
			 g_variant_new("(s)", booking), "(a{sv})", &error);
	g_assert_no_error(error);
	b = g_variant_get_child_value(r, 0);
	g_assert_true(g_variant_lookup(b, "status", "&s", &status));
	g_assert_cmpstr(status, ==, "booked");
}

static void
test_backup_while_booking(void)
{
	Harness h;
	Load load;
	g_autofree char *path = NULL;
	g_autoptr(GPtrArray) acknowledged = NULL;
	guint before;

	start_daemon(&h);
	path = g_build_filename(h.tmpdir, "backup.db", NULL);
	load_init(&load, &h, TRUE, 4);
	load_start(&load);
	ITERATE_UNTIL(load.booked->len >= 20, "20 bookings");
	acknowledged = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < load.booked->len; i++)
		g_ptr_array_add(acknowledged, g_strdup(load.booked->pdata[i]));
	backup_during_load(&h, path);
	before = load.answered;
	run_for(300);
	load_finish(&load);
	/* The bookings went on around the backup. */
	g_assert_cmpuint(load.answered, >, before);
	assert_backup_holds(&h, path, acknowledged);
	assert_restores(&h, path, acknowledged->pdata[0]);
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	load_clear(&load);
	harness_clear(&h);
}

static gboolean
keep_awake(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_timeout_add_seconds(1, keep_awake, NULL);
	g_test_add_func("/lifecycle/sighup/keeps-serving-calls-in-flight",
			test_sighup_keeps_serving);
	g_test_add_func("/lifecycle/backup/consistent-while-booking",
			test_backup_while_booking);
	g_test_add_func("/lifecycle/sigterm/answers-in-flight-closes-cleanly",
			test_sigterm_answers_in_flight);
	return g_test_run();
}
