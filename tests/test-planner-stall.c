/* Planner1 must not stall slotd's main loop (issues 17 and 20): a
 * pinger pings slotd (org.freedesktop.DBus.Peer.Ping) every 10 ms on a
 * bus connection of its own while the test runs each Planner1 call
 * over up to a year of the example region (a 365-day horizon, bookings
 * made first; the largest reply slotd gives among them), four Staffing
 * calls at once, and a Reload during a long report. The longest gap
 * between two ping answers is printed for each (10 ms is no stall at
 * all) and must stay under SLOTD_STALL_MS (100 by default; four times
 * that in a sanitizer build), a Reload that reshapes every offering
 * too (its slots are computed on a worker and committed a step at a
 * time); FindSlots during that Reload answers the week before or the
 * week after, never a mix, and every booking it moved away from is
 * flagged. The reports still count what was booked; a caller that
 * hangs up, or a stop, during a long report leaves slotd sound. The
 * figures: docs/reliability.md and docs/performance.md. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "harness.h"
#include "slotd-config.h"

#define PLANNER "org.slotd.Planner1"
#define WALK_IN "social-counselling-walk-in"
#define SNA "needs-assessment-west"
#define PING_US 10000
#define DAY 86400
#define YEAR_DAYS 365

static Harness h;
static gint64 year_from;
static gint64 year_to;
static guint booked_sna;	/* needs-assessment-west bookings made */
static GPtrArray *made;		/* ids of the bookings made */

#define DEC(day, hour, minute) harness_local(2026, 12, day, hour, minute)

/* ---- the pinger ---------------------------------------------------------- */

/* The pinger is this program again (--pinger ADDRESS), in a process of
 * its own: in one process every GDBus connection shares one I/O
 * thread, and reading a 4 MB reply there would hold up the pings'
 * answers and be counted as slotd's stall. It prints the monotonic
 * time (the same clock in every process) of each answer; a thread here
 * reads them. */
typedef struct {
	GMutex lock;
	gint64 last_answer;	/* monotonic */
	gint64 longest_gap;	/* between two answers, since the reset */
	guint pings;
	gboolean ended;
} Pinger;

static Pinger pinger;
static GSubprocess *pinger_process;
static GThread *pinger_thread;

static GDBusConnection *
connect_to(const char *address)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *conn = g_dbus_connection_new_for_address_sync(
		address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);

	g_assert_no_error(error);
	return conn;
}

static GDBusConnection *
connect_client(void)
{
	return connect_to(h.address);
}

/* The child: pings until its parent goes, one line per answer. */
static int
pinger_main(const char *address)
{
	g_autoptr(GDBusConnection) conn = NULL;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	conn = connect_to(address);
	for (;;) {
		gint64 t0 = g_get_monotonic_time(), dt;
		g_autoptr(GVariant) r = g_dbus_connection_call_sync(
			conn, "org.slotd.Slotd1", "/org/slotd/Slotd1",
			"org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
			G_DBUS_CALL_FLAGS_NONE, 30000, NULL, NULL);

		if (r == NULL)
			return 1;
		printf("%" G_GINT64_FORMAT "\n", g_get_monotonic_time());
		fflush(stdout);
		dt = g_get_monotonic_time() - t0;
		if (dt < PING_US)
			g_usleep((gulong)(PING_US - dt));
	}
}

static void
pinger_answered(gint64 at)
{
	g_mutex_lock(&pinger.lock);
	pinger.pings++;
	pinger.longest_gap = MAX(pinger.longest_gap, at - pinger.last_answer);
	pinger.last_answer = MAX(pinger.last_answer, at);
	g_mutex_unlock(&pinger.lock);
}

static gpointer
pinger_reader(gpointer data)
{
	GInputStream *out = g_subprocess_get_stdout_pipe(pinger_process);
	g_autoptr(GDataInputStream) lines = g_data_input_stream_new(out);
	char *line;

	while ((line = g_data_input_stream_read_line(lines, NULL, NULL,
						     NULL))) {
		pinger_answered(g_ascii_strtoll(line, NULL, 10));
		g_free(line);
	}
	g_mutex_lock(&pinger.lock);
	pinger.ended = TRUE;
	g_mutex_unlock(&pinger.lock);
	return NULL;
}

static void
pinger_start(void)
{
	g_autoptr(GError) error = NULL;

	g_mutex_init(&pinger.lock);
	pinger_process = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE,
					  &error, "/proc/self/exe",
					  "--pinger", h.address, NULL);
	g_assert_no_error(error);
	pinger_thread = g_thread_new("pinger", pinger_reader, NULL);
}

static void
pinger_stop(void)
{
	if (pinger_process == NULL)
		return;
	g_assert_false(pinger.ended); /* no ping failed */
	g_subprocess_force_exit(pinger_process);
	g_thread_join(pinger_thread);
	g_clear_object(&pinger_process);
}

static void
pinger_reset(void)
{
	g_mutex_lock(&pinger.lock);
	pinger.longest_gap = 0;
	pinger.last_answer = g_get_monotonic_time();
	g_mutex_unlock(&pinger.lock);
}

/* The longest gap since the reset, in µs, once two pings sent after
 * the call have been answered too (the gap the call made is closed
 * then). */
static gint64
pinger_longest_gap(void)
{
	guint pings;
	gint64 gap;

	g_mutex_lock(&pinger.lock);
	pings = pinger.pings;
	g_mutex_unlock(&pinger.lock);
	for (guint i = 0; i < 1000; i++) {
		g_mutex_lock(&pinger.lock);
		gap = pinger.longest_gap;
		if (pinger.pings >= pings + 2 || pinger.ended) {
			g_mutex_unlock(&pinger.lock);
			g_assert_false(pinger.ended);
			return gap;
		}
		g_mutex_unlock(&pinger.lock);
		g_usleep(PING_US);
	}
	g_error("the pinger got no answer for 10 s");
	return 0;
}

/* ---- the bound ----------------------------------------------------------- */

static gint64
bound_us(void)
{
	const char *text = g_getenv("SLOTD_STALL_MS");
	guint64 ms = 100;

	if (text && *text &&
	    !g_ascii_string_to_unsigned(text, 10, 1, 600000, &ms, NULL))
		g_error("SLOTD_STALL_MS must be a number of milliseconds");
	return (gint64)ms * 1000 * (SLOTD_SANITIZED ? 4 : 1);
}

/* A stall of slotd's own repeats every time; the machine's other load
 * does not. A call whose gap passes the bound is measured again, up to
 * TRIES times, and fails only if it passes every time. */
#define TRIES 3

/* Prints the figure; TRUE when it is within the bound. */
static gboolean
report_gap(const char *what, gint64 elapsed, gint64 gap)
{
	g_test_message("stall: %-44s call %7.1f ms, longest ping gap %6.1f ms",
		       what, elapsed / 1000.0, gap / 1000.0);
	return gap < bound_us();
}

static void
fail_stalled(const char *what)
{
	g_error("%s stalled slotd's main loop %d times over the bound of "
		"%.1f ms (SLOTD_STALL_MS changes it)",
		what, TRIES, bound_us() / 1000.0);
}

/* ---- calls --------------------------------------------------------------- */

/* A ...Fd twin's rows come in a memfd, the others' in the reply. */
static GVariant *
planner(const char *method, GVariant *args)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;

	if (g_str_has_suffix(method, "Fd")) {
		GVariant *rows = harness_call_rows_fd(&h, method, args, &error);

		g_assert_no_error(error);
		return rows;
	}
	reply = harness_call(&h, PLANNER, method, args, "(aa{sv})", &error);
	g_assert_no_error(error);
	return g_variant_get_child_value(reply, 0);
}

static GVariant *
year_args(const char *service, const char *by)
{
	return g_variant_new_parsed("(%s, %x, %x, {'by': <%s>})", service,
				    year_from, year_to, by);
}

/* The largest reply slotd gives: the walk-in service by day for as
 * long as fits the 8,000 rows of one reply (17 units, 13 municipalities
 * and the region are 31 rows a day). */
#define LARGEST_DAYS 240
#define LARGEST_ROWS (31 * LARGEST_DAYS)

static GVariant *
largest_args(void)
{
	/* 240 local days, across the change to summer time. */
	return g_variant_new_parsed("(%s, %x, %x, {'by': <'day'>})", WALK_IN,
				    year_from, harness_local(2027, 8, 4, 0, 0));
}

static GVariant *
deadline_args(const char *service)
{
	return g_variant_new_parsed("(%s, %x, %x, @a{sv} {})", service,
				    year_from, year_to);
}

static GVariant *
staffing_args(const char *service, gint64 from, gint64 to)
{
	return g_variant_new_parsed("(%s, {'from': <%x>, 'to': <%x>})",
				    service, from, to);
}

/* Runs `method` while the pinger watches; returns its rows. */
static GVariant *
measure_once(const char *what, const char *method, GVariant *args,
	     gboolean *ret_within)
{
	gint64 t0;
	GVariant *rows;

	pinger_reset();
	t0 = g_get_monotonic_time();
	rows = planner(method, args);
	*ret_within = report_gap(what, g_get_monotonic_time() - t0,
				 pinger_longest_gap());
	g_test_message("stall: %-44s %zu rows, %.2f MB", what,
		       g_variant_n_children(rows),
		       g_variant_get_size(rows) / 1e6);
	return rows;
}

static GVariant *
measured(const char *what, const char *method, GVariant *args)
{
	g_autoptr(GVariant) owned = g_variant_ref_sink(args);
	gboolean within = FALSE;
	GVariant *rows = NULL;

	for (guint i = 0; i < TRIES && !within; i++) {
		g_clear_pointer(&rows, g_variant_unref);
		rows = measure_once(what, method, owned, &within);
	}
	if (!within)
		fail_stalled(what);
	return rows;
}

/* ---- bookings ------------------------------------------------------------ */

static char *
first_free_slot(const char *service, const char *municipality, gint64 from)
{
	g_autoptr(GVariant) slots = harness_find(
		&h, service,
		g_variant_new_parsed("{'municipality': <%s>, 'from': <%x>, "
				     "'to': <%x>, 'limit': <@u 1>}",
				     municipality, from, from + 14 * DAY));
	char *id = NULL;

	if (g_variant_n_children(slots) == 0)
		return NULL;
	g_variant_get_child(slots, 0, "(ssxxu@a{sv})", &id, NULL, NULL, NULL,
			    NULL, NULL);
	return id;
}

/* Bookings of the fixed services every other week of the year, each
 * with a referral time (for the deadline report): on Friday the 4th. */
static guint
book_through_the_year(void)
{
	static const char *const services[] = { SNA, "short-therapy" };
	guint booked = 0;

	for (guint week = 0; week < 52; week += 2) {
		for (guint s = 0; s < G_N_ELEMENTS(services); s++) {
			gint64 from = year_from + (gint64)week * 7 * DAY;
			g_autofree char *slot = first_free_slot(
				services[s], "Espoo", from);
			g_autofree char *client = g_strdup_printf(
				"client-stall-%u-%u", week, s);
			g_autoptr(GVariant) r = NULL;
			g_autoptr(GError) error = NULL;

			if (!slot)
				continue;
			r = harness_call(
				&h, "org.slotd.Scheduler1", "Book",
				g_variant_new_parsed(
					"(%s, %s, {'referral-time': <%x>, "
					"'deadline-exceeded-reason': "
					"<'breaches for the report'>})",
					slot, client, DEC(4, 9, 0)),
				"(s)", &error);
			g_assert_no_error(error);
			g_ptr_array_add(made, NULL);
			g_variant_get_child(r, 0, "s",
					    &made->pdata[made->len - 1]);
			booked++;
			booked_sna += s == 0;
		}
	}
	return booked;
}

/* ---- rows --------------------------------------------------------------- */

static guint
count_level(GVariant *rows, const char *level)
{
	guint n = 0;

	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		const char *found = NULL;

		g_variant_lookup(row, "level", "&s", &found);
		n += g_strcmp0(found, level) == 0;
	}
	return n;
}

static gint64
region_bookings(GVariant *rows)
{
	gint64 sum = 0;

	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		const char *level = NULL;
		gint64 bookings = 0;

		g_variant_lookup(row, "level", "&s", &level);
		if (g_strcmp0(level, "region") == 0 &&
		    g_variant_lookup(row, "bookings", "x", &bookings))
			sum += bookings;
	}
	return sum;
}

/* ---- the tests ----------------------------------------------------------- */

static void
test_reports(void)
{
	g_autoptr(GVariant) daily = measured("CapacityReport, a year by day",
					     "CapacityReport",
					     year_args(SNA, "day"));
	g_autoptr(GVariant) largest = measured(
		"CapacityReport walk-in, 240 days by day", "CapacityReport",
		largest_args());
	/* The same rows in a memfd: the message is a few bytes. */
	g_autoptr(GVariant) largest_fd = measured(
		"CapacityReportFd walk-in, 240 days by day",
		"CapacityReportFd", largest_args());
	g_autoptr(GVariant) weekly = measured("CapacityReport, a year by week",
					      "CapacityReport",
					      year_args(SNA, "week"));
	g_autoptr(GVariant) deadlines = measured("DeadlineReport, a year",
						 "DeadlineReport",
						 deadline_args(SNA));

	/* 4 units, 4 municipalities and the region; days or ISO weeks. */
	g_assert_cmpuint(g_variant_n_children(daily), ==, 9 * 365);
	g_assert_cmpuint(g_variant_n_children(largest), ==, LARGEST_ROWS);
	g_assert_cmpuint(g_variant_n_children(largest_fd), ==, LARGEST_ROWS);
	g_assert_cmpuint(g_variant_n_children(weekly), ==, 9 * 53);
	/* What was booked, counted where the worker read it. */
	g_assert_cmpuint(region_bookings(daily), ==, booked_sna);
	g_assert_cmpuint(region_bookings(weekly), ==, booked_sna);
	g_assert_cmpuint(count_level(deadlines, "booking"), ==, booked_sna);
}

static void
test_staffing(void)
{
	static const char *const services[] = {
		"crisis-duty-west", WALK_IN,
		"home-hospital-west",
	};

	for (guint i = 0; i < G_N_ELEMENTS(services); i++) {
		/* crisis-duty plans at most 13 weeks; the others a year. */
		gint64 days = i == 0 ? 13 * 7 : 399;
		g_autofree char *what = g_strdup_printf(
			"Staffing %s, %" G_GINT64_FORMAT " days", services[i],
			days);
		g_autoptr(GVariant) rows = measured(
			what, "Staffing",
			staffing_args(services[i], year_from,
				      year_from + days * DAY));

		g_assert_cmpuint(g_variant_n_children(rows), >, 0);
	}
}

typedef struct {
	GVariant *rows;
	GError *error;
	gboolean done;
} Pending;

static void
call_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Pending *p = user_data;

	p->rows = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source),
						result, &p->error);
	p->done = TRUE;
}

static void
call_async(GDBusConnection *conn, const char *interface, const char *method,
	   GVariant *args, const char *type, Pending *p)
{
	g_dbus_connection_call(conn, "org.slotd.Slotd1", "/org/slotd/Slotd1",
			       interface, method, args, G_VARIANT_TYPE(type),
			       G_DBUS_CALL_FLAGS_NONE, 120000, NULL, call_done,
			       p);
}

static void
wait_all(Pending *pending, guint n)
{
	for (guint i = 0; i < n; i++) {
		while (!pending[i].done)
			g_main_context_iteration(NULL, TRUE);
		g_assert_no_error(pending[i].error);
	}
}

static GVariant *
walk_in_staffing_args(void)
{
	return staffing_args(WALK_IN, year_from, year_from + 399 * DAY);
}

/* Four long Staffing calls at once, each on its own connection: they
 * queue for the workers; the loop keeps answering. Each must give the
 * rows one call alone gives. */
static gboolean
four_at_once(GVariant *alone)
{
	GDBusConnection *conns[4];
	Pending pending[4] = { { 0 } };
	gint64 t0;
	gboolean within;

	pinger_reset();
	t0 = g_get_monotonic_time();
	for (guint i = 0; i < 4; i++) {
		conns[i] = connect_client();
		call_async(conns[i], PLANNER, "Staffing",
			   walk_in_staffing_args(), "(aa{sv})", &pending[i]);
	}
	wait_all(pending, 4);
	within = report_gap("Staffing walk-in, 399 days, four at once",
			    g_get_monotonic_time() - t0,
			    pinger_longest_gap());
	for (guint i = 0; i < 4; i++) {
		g_autoptr(GVariant) rows =
			g_variant_get_child_value(pending[i].rows, 0);

		g_assert_true(g_variant_equal(rows, alone));
		g_variant_unref(pending[i].rows);
		g_object_unref(conns[i]);
	}
	return within;
}

static void
test_four_staffing_at_once(void)
{
	g_autoptr(GVariant) alone = planner("Staffing",
					    walk_in_staffing_args());

	for (guint i = 0; i < TRIES; i++)
		if (four_at_once(alone))
			return;
	fail_stalled("four Staffing calls at once");
}

/* "08:30-10:00 FREQ=..." `minutes` later, or NULL to leave it. */
static char *
shifted_window(const char *value, int minutes)
{
	int sh, sm, eh, em, n = 0;

	if (sscanf(value, "%d:%d-%d:%d %n", &sh, &sm, &eh, &em, &n) != 4 ||
	    sm + minutes >= 60 || em + minutes >= 60)
		return NULL;
	return g_strdup_printf("%02d:%02d-%02d:%02d %s", sh, sm + minutes, eh,
			       em + minutes, value + n);
}

static void
shift_group(GKeyFile *kf, const char *group, int minutes)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);

	for (guint k = 0; keys && keys[k]; k++) {
		g_autofree char *value = NULL;
		g_autofree char *shifted = NULL;

		if (!g_str_has_prefix(keys[k], "window-"))
			continue;
		value = g_key_file_get_value(kf, group, keys[k], NULL);
		shifted = shifted_window(value, minutes);
		if (shifted)
			g_key_file_set_value(kf, group, keys[k], shifted);
	}
}

/* Every window of every offering starts `minutes` later: a reload that
 * reshapes the whole horizon of every offering. */
static void
shift_every_window(const char *dir, int minutes)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autoptr(GKeyFile) kf = g_key_file_new();
		g_auto(GStrv) groups = NULL;

		if (!g_str_has_suffix(name, ".conf"))
			continue;
		g_assert_true(g_key_file_load_from_file(
			kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL));
		groups = g_key_file_get_groups(kf, NULL);
		for (guint g = 0; groups[g]; g++)
			shift_group(kf, groups[g], minutes);
		g_assert_true(g_key_file_save_to_file(kf, path, NULL));
	}
}

static void
reload(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1", "Reload",
					     NULL, NULL, &error);

	g_assert_no_error(error);
}

static char *
services_dir(void)
{
	g_autofree char *dir = g_path_get_dirname(h.config);

	return g_build_filename(dir, "services.d", NULL);
}

/* What FindSlots offers of the needs-assessment service in Espoo over a
 * week, a while ahead: the starts, or NULL for ServiceUnavailable (the
 * slots of that week are still being prepared). */
static GVariant *
week_starts(GDBusConnection *conn)
{
	gint64 from = year_from + 14 * DAY;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
		conn, "org.slotd.Slotd1", "/org/slotd/Slotd1",
		"org.slotd.Scheduler1", "FindSlots",
		g_variant_new_parsed("(%s, {'municipality': <'Espoo'>, "
				     "'from': <%x>, 'to': <%x>, "
				     "'limit': <@u 40>})",
				     SNA, from, from + 7 * DAY),
		G_VARIANT_TYPE("(a(ssxxua{sv}))"), G_DBUS_CALL_FLAGS_NONE,
		30000, NULL, &error);
	g_autoptr(GVariant) slots = NULL;
	GVariantBuilder b;

	if (r == NULL) {
		harness_assert_dbus_error(error,
					  "org.slotd.Error.ServiceUnavailable");
		return NULL;
	}
	slots = g_variant_get_child_value(r, 0);
	g_variant_builder_init(&b, G_VARIANT_TYPE("ax"));
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		gint64 start;

		g_variant_get_child(slots, i, "(ssxxu@a{sv})", NULL, NULL,
				    &start, NULL, NULL, NULL);
		g_variant_builder_add(&b, "x", start);
	}
	return g_variant_ref_sink(g_variant_builder_end(&b));
}

/* The last line of slotd's log that has `what`, for the figures. */
static char *
log_line(const char *what)
{
	g_autofree char *log = NULL;
	char *at, *end;

	if (!g_file_get_contents(h.log_path, &log, NULL, NULL) ||
	    !(at = g_strrstr(log, what)))
		return g_strdup("(not in the log)");
	end = strchr(at, '\n');
	return g_strndup(at, end ? (gsize)(end - at) : strlen(at));
}

/* One Reload after every window moved five minutes: the whole horizon
 * of every offering is reshaped. The new slots are computed on a
 * worker and committed a few milliseconds at a time (issue 20), so the
 * pings go on being answered. Meanwhile another connection keeps
 * asking FindSlots for one week: every answer is the week as it was
 * before or as it is after, never a mix, or ServiceUnavailable while
 * that week is being prepared. TRUE when the gap was within the
 * bound. */
static gboolean
reshape_once(void)
{
	g_autofree char *dir = services_dir();
	g_autofree char *line = NULL;
	g_autoptr(GDBusConnection) conn = connect_client();
	g_autoptr(GDBusConnection) finder = connect_client();
	g_autoptr(GVariant) before = week_starts(finder);
	g_autoptr(GVariant) after = NULL;
	g_autoptr(GPtrArray) during = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_variant_unref);
	Pending pending = { 0 };
	guint unavailable = 0, old = 0, new = 0;
	gint64 t0, gap;

	g_assert_nonnull(before);
	g_assert_cmpuint(g_variant_n_children(before), >, 0);
	shift_every_window(dir, 5);
	pinger_reset();
	t0 = g_get_monotonic_time();
	call_async(conn, "org.slotd.Admin1", "Reload", NULL, "()", &pending);
	while (!pending.done) {
		GVariant *starts = week_starts(finder);

		if (starts)
			g_ptr_array_add(during, starts);
		else
			unavailable++;
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(20000);
	}
	g_assert_no_error(pending.error);
	g_variant_unref(pending.rows);
	gap = pinger_longest_gap();
	after = week_starts(finder);
	g_assert_nonnull(after);
	g_assert_false(g_variant_equal(before, after));
	for (guint i = 0; i < during->len; i++) {
		if (g_variant_equal(during->pdata[i], before))
			old++;
		else if (g_variant_equal(during->pdata[i], after))
			new++;
		else
			g_error("FindSlots during the Reload answered neither "
				"the old week nor the new one");
	}
	g_test_message("stall: during the Reload, FindSlots answered the old "
		       "week %u times, the new one %u, ServiceUnavailable %u",
		       old, new, unavailable);
	line = log_line("configuration reloaded");
	g_test_message("stall: slotd: %s", line);
	return report_gap("Reload reshaping every offering",
			  g_get_monotonic_time() - t0, gap);
}

/* Every booking made still to come sits in a slot the shift withdrew:
 * each is flagged for rebooking, none is lost or cancelled. */
static void
assert_all_flagged(void)
{
	for (guint i = 0; i < made->len; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) r = harness_call(
			&h, "org.slotd.Scheduler1", "GetBooking",
			g_variant_new("(s)", (const char *)made->pdata[i]),
			"(a{sv})", &error);
		g_autoptr(GVariant) booking = NULL;
		const char *status = NULL;
		gboolean flagged = FALSE;

		g_assert_no_error(error);
		booking = g_variant_get_child_value(r, 0);
		g_assert_true(g_variant_lookup(booking, "status", "&s",
					       &status));
		g_assert_cmpstr(status, ==, "booked");
		g_assert_true(g_variant_lookup(booking, "needs-rebooking", "b",
					       &flagged));
		g_assert_true(flagged);
	}
}

static void
test_reload_reshaping_everything(void)
{
	gboolean within = FALSE;

	/* Each try moves the windows five minutes more. */
	for (guint i = 0; i < TRIES && !within; i++)
		within = reshape_once();
	assert_all_flagged();
	if (!within)
		fail_stalled("a Reload reshaping every offering");
}

/* The rows without third-next-available, which counts from the
 * daemon's clock (it runs on between two reports). */
static GVariant *
without_clock(GVariant *rows)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autoptr(GVariantDict) d = g_variant_dict_new(row);

		g_variant_dict_remove(d, "third-next-available");
		g_variant_builder_add_value(&b, g_variant_dict_end(d));
	}
	return g_variant_ref_sink(g_variant_builder_end(&b));
}

static void
assert_same_rows(GVariant *a, GVariant *b)
{
	g_autoptr(GVariant) x = without_clock(a);
	g_autoptr(GVariant) y = without_clock(b);

	g_assert_cmpuint(g_variant_n_children(x), ==, g_variant_n_children(y));
	g_assert_true(g_variant_equal(x, y));
}

/* A Reload while a long report runs: the report still answers, with
 * the rows it gave before (the reload changes another service only),
 * and the loop answers the Reload and the pings meanwhile. */
static void
test_reload_during_report(void)
{
	g_autofree char *entry = NULL;
	g_autoptr(GVariant) before = planner(
		"CapacityReport", largest_args());
	g_autoptr(GDBusConnection) conn = connect_client();
	Pending pending[1] = { { 0 } };
	g_autoptr(GVariant) rows = NULL;

	entry = g_build_filename(h.tmpdir, "config", "services.d",
				 "other-services.conf", NULL);
	harness_set_key(entry, "service short-therapy", "title-fi",
			"Lyhytterapia (uusi nimi)");
	call_async(conn, PLANNER, "CapacityReport",
		   largest_args(), "(aa{sv})",
		   &pending[0]);
	reload();
	wait_all(pending, 1);
	rows = g_variant_get_child_value(pending[0].rows, 0);
	assert_same_rows(rows, before);
	g_variant_unref(pending[0].rows);
}

/* A caller that hangs up while its report runs: the reply goes to
 * nobody and is dropped; slotd goes on answering, the next report as
 * before. */
static void
test_caller_gone(void)
{
	GDBusConnection *conn = connect_client();
	Pending pending[1] = { { 0 } };
	g_autoptr(GVariant) weekly = NULL;

	call_async(conn, PLANNER, "CapacityReport", largest_args(), "(aa{sv})",
		   &pending[0]);
	g_usleep(50000);
	g_assert_true(g_dbus_connection_close_sync(conn, NULL, NULL));
	while (!pending[0].done)
		g_main_context_iteration(NULL, TRUE);
	g_assert_error(pending[0].error, G_IO_ERROR, G_IO_ERROR_CLOSED);
	g_clear_error(&pending[0].error);
	g_object_unref(conn);
	weekly = measured("CapacityReport by week, after a caller left",
			  "CapacityReport", year_args(SNA, "week"));
	g_assert_cmpuint(region_bookings(weekly), ==, booked_sna);
}

/* Stopping while a long report runs: slotd answers the calls it has
 * received (for up to 5 s) before it goes, the report among them, and
 * exits 0 with every worker and connection closed. Last: it stops the
 * daemon. */
static void
test_stop_during_report(void)
{
	g_autoptr(GDBusConnection) conn = connect_client();
	Pending pending[1] = { { 0 } };
	g_autoptr(GVariant) rows = NULL;

	pinger_stop();
	call_async(conn, PLANNER, "CapacityReport", largest_args(), "(aa{sv})",
		   &pending[0]);
	g_usleep(100000);
	g_subprocess_send_signal(h.slotd, SIGTERM);
	wait_all(pending, 1);
	rows = g_variant_get_child_value(pending[0].rows, 0);
	g_assert_cmpuint(g_variant_n_children(rows), ==, LARGEST_ROWS);
	g_variant_unref(pending[0].rows);
	g_assert_true(g_subprocess_wait(h.slotd, NULL, NULL));
	g_assert_true(g_subprocess_get_if_exited(h.slotd));
	g_assert_cmpint(g_subprocess_get_exit_status(h.slotd), ==, 0);
	g_clear_object(&h.slotd);
}

int
main(int argc, char **argv)
{
	int status;

	if (argc == 3 && g_str_equal(argv[1], "--pinger"))
		return pinger_main(argv[2]);
	g_test_init(&argc, &argv, NULL);
	harness_init(&h);
	h.horizon_days = YEAR_DAYS;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT, DEC(7, 7, 0));
	harness_start_slotd(&h, NULL);
	year_from = DEC(7, 0, 0);
	year_to = year_from + YEAR_DAYS * DAY;
	made = g_ptr_array_new_with_free_func(g_free);
	g_test_message("stall: %u bookings made", book_through_the_year());
	pinger_start();
	g_test_add_func("/planner-stall/reports", test_reports);
	g_test_add_func("/planner-stall/staffing", test_staffing);
	g_test_add_func("/planner-stall/four-staffing-at-once",
			test_four_staffing_at_once);
	g_test_add_func("/planner-stall/reload-during-report",
			test_reload_during_report);
	g_test_add_func("/planner-stall/reload-reshaping-everything",
			test_reload_reshaping_everything);
	g_test_add_func("/planner-stall/caller-gone", test_caller_gone);
	g_test_add_func("/planner-stall/stop-during-report",
			test_stop_during_report);
	status = g_test_run();
	pinger_stop();
	g_ptr_array_unref(made);
	if (h.slotd)
		return harness_finish(&h, status);
	harness_clear(&h);
	return status;
}
