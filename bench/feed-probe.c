/* Feed figures: a staff feed of 10,000 bookings rendered cold against
 * a fresh process that reads the same rows and writes the same text
 * with libical (slotd-bench-ical, bare-ical.c), and a 304 against the
 * bare HTTP server's 304 (slotd-bench-http: libsoup 3, as slotd's feed
 * server, with nothing behind it).
 *
 * slotd keeps the text of each booking's event from a feed's last
 * render, so a feed is only cold the first time it is asked for. The
 * loader gives several units exactly 10,000 bookings; each round asks
 * for a new one (the first unit only warms up, uncounted). A round
 * times slotd's cold GET and the bare process for that unit, which one
 * first flipping every round; the bare process is timed from its spawn
 * to the last byte of its text read from a pipe, as the cold GET is
 * timed from the connect to the last byte. The two texts are
 * compared byte for byte (an information line says whether they were
 * the same). Then slotd's 304s alternate with the bare server's, each
 * on a connection kept alive for the round (which goes first flips
 * every round), and last one booking of the unit is cancelled over
 * D-Bus and the render after that one change is timed (information).
 *
 * Information figures beside them: the bare process's own time from
 * main() to the serialised text (bare-ical-inside-ms: the difference
 * to bare-ical-10k-ms is exec, linking and writing the text), and the
 * older baseline of 10,000 synthetic events built in memory
 * (bare-ical-synthetic-ms).
 *
 * The feed server is optional: without Admin1.GetHttpAddress the feed
 * figures are null and only the bare process is measured; without
 * --bare-http the bare 304 is null. */
#include "bench.h"
#include "http-client.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct {
	char *address;
	char **units;		/* feed units; one more than rounds */
	int rounds;
	int not_modified;
	char *bare_http;	/* slotd-bench-http's host:port */
	char *ical;		/* slotd-bench-ical */
	char *db;		/* slotd's database, for it */
	char *region;		/* the region's directory, for it */
} FeedOptions;

typedef struct {
	char *http;		/* host:port */
	char *bare_etag;	/* of the bare server's document */
	GArray *bare_ms, *inside_ms, *synthetic_ms, *cold_ms, *rerender_ms,
		*not_modified_p50, *bare_not_modified_p50;
	guint events;
	gsize bytes;
	guint bare_events;
	gsize bare_bytes;
	guint compared, same;	/* texts compared, the same */
	char *difference;	/* the first one, said */
} FeedRun;

static gboolean
feed_locate(DBusConnection *connection, FeedRun *run, GError **error)
{
	run->http = bench_http_address(connection, error);
	return run->http != NULL;
}

/* One booked booking of the unit, to cancel. */
static char *
first_booking(DBusConnection *connection, const char *unit, GError **error)
{
	g_autoptr(DBusMessage) call = bench_new_call(
		SLOTD_NAME, SLOTD_PATH, SCHEDULER_IFACE, "ListBookings");
	g_autoptr(DBusMessage) reply = NULL;
	DBusMessageIter iter, dict, array, entry;
	const char *id;

	dbus_message_iter_init_append(call, &iter);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
	bench_dict_string(&dict, "unit", unit);
	bench_dict_string(&dict, "status", "booked");
	bench_dict_uint32(&dict, "limit", 1);
	dbus_message_iter_close_container(&iter, &dict);
	reply = bench_call(connection, call, error);
	if (!reply)
		return NULL;
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	if (dbus_message_iter_get_arg_type(&array) != DBUS_TYPE_STRUCT) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "unit %s has no booking to cancel", unit);
		return NULL;
	}
	dbus_message_iter_recurse(&array, &entry);
	dbus_message_iter_get_basic(&entry, &id);
	return g_strdup(id);
}

static gboolean
cancel_booking(DBusConnection *connection, const char *id, GError **error)
{
	g_autoptr(DBusMessage) call = bench_new_call(
		SLOTD_NAME, SLOTD_PATH, SCHEDULER_IFACE, "Cancel");
	g_autoptr(DBusMessage) reply = NULL;
	const char *reason = "benchmark: one change to the feed";

	dbus_message_append_args(call, DBUS_TYPE_STRING, &id, DBUS_TYPE_STRING,
				 &reason, DBUS_TYPE_INVALID);
	reply = bench_call(connection, call, error);
	return reply != NULL;
}

static guint
count_events(const char *text)
{
	guint n = 0;

	for (const char *p = text; (p = strstr(p, "BEGIN:VEVENT")); p += 12)
		n++;
	return n;
}

/* Times one GET that has to render; returns the ETag for the 304s and,
 * with `ret_body`, the text. */
static char *
time_render(FeedRun *run, const char *path, GArray *samples,
	    GString **ret_body, GError **error)
{
	HttpResponse response = { 0 };
	double t0 = bench_now_us(), ms;
	char *etag;

	if (!http_get_cold(run->http, path, &response, error)) {
		http_response_clear(&response);
		return NULL;
	}
	ms = (bench_now_us() - t0) / 1000;
	if (response.status != 200 || !response.etag) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "feed GET: status %d%s", response.status,
			    response.etag ? "" : ", no ETag");
		http_response_clear(&response);
		return NULL;
	}
	g_array_append_val(samples, ms);
	run->events = count_events(response.text->str);
	run->bytes = response.text->len;
	if (ret_body) {
		const char *body = strstr(response.text->str, "\r\n\r\n") + 4;

		*ret_body = g_string_new_len(
			body, response.text->len - (body - response.text->str));
	}
	etag = g_steal_pointer(&response.etag);
	http_response_clear(&response);
	return etag;
}

/* One GET with If-None-Match on a kept-alive connection, timed. */
static gboolean
time_one_304(int fd, const char *path, const char *etag, GArray *samples,
	     GError **error)
{
	HttpResponse response = { 0 };
	double t0 = bench_now_us();
	gboolean ok = http_get_not_modified(fd, path, etag, &response, error);

	t0 = bench_now_us() - t0;
	http_response_clear(&response);
	g_array_append_val(samples, t0);
	return ok;
}

/* The bare server's ETag, from one plain GET. */
static gboolean
bare_locate(const FeedOptions *o, FeedRun *run, GError **error)
{
	HttpResponse response = { 0 };
	gboolean ok = http_get_cold(o->bare_http, "/", &response, error);

	if (ok && (response.status != 200 || !response.etag)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "bare HTTP server: status %d%s", response.status,
			    response.etag ? "" : ", no ETag");
		ok = FALSE;
	}
	if (ok)
		run->bare_etag = g_steal_pointer(&response.etag);
	http_response_clear(&response);
	return ok;
}

/* 304s from slotd and from the bare server, one connection each kept
 * alive for the round, alternating request by request; the bare
 * server is asked for the same path. */
static gboolean
time_not_modified(const FeedOptions *o, FeedRun *run, const char *path,
		  const char *etag, int round, GError **error)
{
	g_autoptr(GArray) nm = g_array_new(FALSE, FALSE, sizeof(double));
	g_autoptr(GArray) bare = g_array_new(FALSE, FALSE, sizeof(double));
	int fd = http_connect(run->http, error);
	int bare_fd = fd >= 0 && run->bare_etag
			      ? http_connect(o->bare_http, error)
			      : -1;
	gboolean ok = fd >= 0 && (!run->bare_etag || bare_fd >= 0);
	double p50;

	for (int i = 0; ok && i < o->not_modified; i++) {
		gboolean slotd_first = (round % 2 == 0);

		for (int k = 0; ok && k < 2; k++) {
			if ((k == 0) == slotd_first)
				ok = time_one_304(fd, path, etag, nm, error);
			else if (bare_fd >= 0)
				ok = time_one_304(bare_fd, path,
						  run->bare_etag, bare,
						  error);
		}
	}
	if (fd >= 0)
		close(fd);
	if (bare_fd >= 0)
		close(bare_fd);
	if (!ok)
		return FALSE;
	p50 = bench_quantile(nm, 0.5);
	g_array_append_val(run->not_modified_p50, p50);
	if (bare->len) {
		p50 = bench_quantile(bare, 0.5);
		g_array_append_val(run->bare_not_modified_p50, p50);
	}
	return TRUE;
}

/* After one booking changed: the render that reuses the others. */
static gboolean
time_rerender(DBusConnection *connection, FeedRun *run, const char *unit,
	      const char *path, GError **error)
{
	g_autofree char *booking = first_booking(connection, unit, error);
	g_autofree char *etag = NULL;

	if (!booking || !cancel_booking(connection, booking, error))
		return FALSE;
	etag = time_render(run, path, run->rerender_ms, NULL, error);
	return etag != NULL;
}

/* ---- the bare process ----------------------------------------------- */

static gboolean
read_to_end(int fd, GString *into, GError **error)
{
	char buffer[65536];
	ssize_t n;

	while ((n = read(fd, buffer, sizeof(buffer))) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			g_string_append_len(into, buffer, n);
	if (n == 0)
		return TRUE;
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
		    "reading the bare feed: %s", g_strerror(errno));
	return FALSE;
}

/* The unit's feed from a fresh slotd-bench-ical: from the spawn to the
 * end of its text, read from a pipe (it closes the pipe once the text
 * is written; its exit is not counted). */
static gboolean
time_bare(const FeedOptions *o, FeedRun *run, const char *unit,
	  GString **ret_text, GError **error)
{
	char *argv[] = { o->ical, (char *)"--db", o->db, (char *)"--region",
			 o->region, (char *)"--unit", (char *)unit,
			 (char *)"--timing", NULL };
	g_autoptr(GString) text = g_string_sized_new(8 << 20);
	g_autoptr(GString) said = g_string_new(NULL);
	posix_spawn_file_actions_t actions;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, status = 0, rc;
	double t0, ms, inside;
	const char *at;
	pid_t pid;
	gboolean ok;

	if (!g_unix_open_pipe(out, FD_CLOEXEC, error) ||
	    !g_unix_open_pipe(err, FD_CLOEXEC, error)) {
		if (out[0] >= 0) {
			close(out[0]);
			close(out[1]);
		}
		return FALSE;
	}
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
	t0 = bench_now_us();
	rc = posix_spawn(&pid, o->ical, &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(out[1]);
	close(err[1]);
	ok = rc == 0 && read_to_end(out[0], text, error);
	ms = (bench_now_us() - t0) / 1000;
	if (rc == 0)
		waitpid(pid, &status, 0);
	/* One line, after the text: the pipe's buffer holds it. */
	ok = read_to_end(err[0], said, ok ? error : NULL) && ok;
	close(out[0]);
	close(err[0]);
	if (rc != 0 || (ok && (!WIFEXITED(status) || WEXITSTATUS(status)))) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "%s failed (%s): %s", o->ical,
			    rc ? g_strerror(rc) : "exit status", said->str);
		return FALSE;
	}
	if (!ok)
		return FALSE;
	g_array_append_val(run->bare_ms, ms);
	if ((at = strstr(said->str, "inside-ms "))) {
		inside = g_ascii_strtod(at + 10, NULL);
		g_array_append_val(run->inside_ms, inside);
	}
	run->bare_events = count_events(text->str);
	run->bare_bytes = text->len;
	if (ret_text)
		*ret_text = g_steal_pointer(&text);
	return TRUE;
}

/* The older baseline: synthetic events in memory, timed inside. */
static void
time_synthetic(const FeedOptions *o, FeedRun *run)
{
	g_autofree char *count = g_strdup_printf("%d", BENCH_FEED_EVENTS);
	char *argv[] = { o->ical, (char *)"--synthetic", count, NULL };
	g_autofree char *out = NULL;
	double ms;

	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
			  &out, NULL, NULL, NULL) ||
	    !g_str_has_prefix(out, "synthetic-ms "))
		return;
	ms = g_ascii_strtod(out + 13, NULL);
	g_array_append_val(run->synthetic_ms, ms);
}

/* Byte for byte; the first difference is kept to be said. */
static void
compare_texts(FeedRun *run, const char *unit, GString *slotd, GString *bare)
{
	gsize at = 0, line = 1;

	run->compared++;
	if (slotd->len == bare->len && memcmp(slotd->str, bare->str,
					      slotd->len) == 0) {
		run->same++;
		return;
	}
	while (at < slotd->len && at < bare->len &&
	       slotd->str[at] == bare->str[at])
		line += slotd->str[at++] == '\n';
	if (!run->difference)
		run->difference = g_strdup_printf(
			"%s, line %" G_GSIZE_FORMAT " (%" G_GSIZE_FORMAT
			" and %" G_GSIZE_FORMAT " bytes)", unit, line,
			slotd->len, bare->len);
}

/* slotd's cold GET and the bare process, in the round's order. */
static char *
time_cold_pair(const FeedOptions *o, FeedRun *run, const char *unit,
	       const char *path, GArray *cold, int round, GError **error)
{
	g_autoptr(GString) slotd = NULL;
	g_autoptr(GString) bare = NULL;
	char *etag = NULL;
	gboolean ok = TRUE;

	for (int k = 0; ok && k < 2; k++) {
		if ((k == 0) == (round % 2 == 0))
			ok = (etag = time_render(run, path, cold, &slotd,
						 error)) != NULL;
		else
			ok = time_bare(o, run, unit, &bare, error);
	}
	if (ok) {
		compare_texts(run, unit, slotd, bare);
		return etag;
	}
	g_free(etag);
	return NULL;
}

static gboolean
feed_round(DBusConnection *connection, const FeedOptions *o, FeedRun *run,
	   int round, GError **error)
{
	const char *unit = o->units[round + 1];
	g_autofree char *path = NULL;
	g_autofree char *etag = NULL;

	time_synthetic(o, run);
	path = bench_feed_path(connection, unit, error);
	etag = path ? time_cold_pair(o, run, unit, path, run->cold_ms, round,
				     error)
		    : NULL;
	return etag &&
	       time_not_modified(o, run, path, etag, round, error) &&
	       time_rerender(connection, run, unit, path, error);
}

static void
median_or_null(const char *name, GArray *values)
{
	if (values->len)
		bench_figure(name, bench_median(values));
	else
		bench_figure_null(name);
}

static void
feed_report(FeedRun *run, gboolean served)
{
	median_or_null("bare-ical-10k-ms", run->bare_ms);
	median_or_null("bare-ical-inside-ms", run->inside_ms);
	median_or_null("bare-ical-synthetic-ms", run->synthetic_ms);
	bench_figure("bare-ical-events", run->bare_events);
	bench_figure("bare-ical-bytes", (double)run->bare_bytes);
	if (run->compared)
		printf("info feed-text the bare process's text was slotd's "
		       "byte for byte for %u of %u feeds%s%s\n", run->same,
		       run->compared, run->difference ? "; first difference: "
						      : "",
		       run->difference ? run->difference : "");
	if (!served) {
		bench_figure_null("feed-10k-cold-ms");
		bench_figure_null("feed-10k-rerender-ms");
		bench_figure_null("feed-304-p50-us");
		bench_figure_null("bare-304-p50-us");
		return;
	}
	bench_figure("feed-10k-cold-ms", bench_median(run->cold_ms));
	bench_figure("feed-10k-rerender-ms", bench_median(run->rerender_ms));
	bench_figure("feed-events", run->events);
	bench_figure("feed-bytes", (double)run->bytes);
	bench_figure("feed-304-p50-us", bench_median(run->not_modified_p50));
	if (run->bare_not_modified_p50->len)
		bench_figure("bare-304-p50-us",
			     bench_median(run->bare_not_modified_p50));
	else
		bench_figure_null("bare-304-p50-us");
}

static gboolean
run_feed(DBusConnection *connection, const FeedOptions *o, FeedRun *run,
	 GError **error)
{
	g_autoptr(GArray) warm = g_array_new(FALSE, FALSE, sizeof(double));
	g_autofree char *path = bench_feed_path(connection, o->units[0], error);
	g_autofree char *etag = NULL;

	/* Warm-up, not counted: the first render may load zone data; the
	 * bare process's program and libraries come into the page cache.
	 * Its two texts are compared too. */
	if (!path ||
	    !(etag = time_cold_pair(o, run, o->units[0], path, warm, 0,
				    error)) ||
	    (o->bare_http && !bare_locate(o, run, error)))
		return FALSE;
	g_array_set_size(run->bare_ms, 0);
	g_array_set_size(run->inside_ms, 0);
	for (int r = 0; r < o->rounds; r++) {
		if (!feed_round(connection, o, run, r, error))
			return FALSE;
		bench_note("feed round %d/%d: %u events, %.1f ms cold, "
			   "%.1f ms after one change", r + 1, o->rounds,
			   run->events, g_array_index(run->cold_ms, double, r),
			   g_array_index(run->rerender_ms, double, r));
	}
	return TRUE;
}

/* Only the libical baselines, when slotd has no feed server. */
static gboolean
bare_only(const FeedOptions *o, FeedRun *run, GError **error)
{
	for (int r = 0; r <= o->rounds; r++) {
		time_synthetic(o, run);
		if (!time_bare(o, run, o->units[r], NULL, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
parse_feed_options(int argc, char **argv, FeedOptions *o)
{
	GOptionEntry entries[] = {
		{ "address", 0, 0, G_OPTION_ARG_STRING, &o->address,
		  "Bus address", "ADDRESS" },
		{ "unit", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->units,
		  "A unit whose staff feed is fetched (rounds + 1 of them)",
		  "ID" },
		{ "rounds", 0, 0, G_OPTION_ARG_INT, &o->rounds, "Rounds", "N" },
		{ "not-modified", 0, 0, G_OPTION_ARG_INT, &o->not_modified,
		  "304s per round", "N" },
		{ "bare-http", 0, 0, G_OPTION_ARG_STRING, &o->bare_http,
		  "The bare HTTP server (slotd-bench-http)", "HOST:PORT" },
		{ "ical", 0, 0, G_OPTION_ARG_FILENAME, &o->ical,
		  "The bare feed program (slotd-bench-ical)", "PATH" },
		{ "db", 0, 0, G_OPTION_ARG_FILENAME, &o->db,
		  "slotd's database, for the bare feed", "PATH" },
		{ "region", 0, 0, G_OPTION_ARG_FILENAME, &o->region,
		  "The region's directory, for the bare feed", "DIR" },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("- staff feed against libical");
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) ||
	    !o->address || o->rounds < 1 || !o->units ||
	    g_strv_length(o->units) < (guint)o->rounds + 1 || !o->ical ||
	    !o->db || !o->region) {
		fprintf(stderr, "slotd-bench feed: %s\n",
			error ? error->message
			      : "--address, rounds + 1 --unit, --ical, --db "
				"and --region are needed");
		return FALSE;
	}
	return TRUE;
}

static void
feed_run_clear(FeedRun *run)
{
	g_free(run->http);
	g_free(run->bare_etag);
	g_free(run->difference);
	g_array_unref(run->bare_ms);
	g_array_unref(run->inside_ms);
	g_array_unref(run->synthetic_ms);
	g_array_unref(run->cold_ms);
	g_array_unref(run->rerender_ms);
	g_array_unref(run->not_modified_p50);
	g_array_unref(run->bare_not_modified_p50);
}

int
cmd_feed(int argc, char **argv)
{
	FeedOptions o = { NULL, NULL, 5, 200, NULL, NULL, NULL, NULL };
	FeedRun run = { 0 };
	g_autoptr(GError) error = NULL;
	DBusConnection *connection = NULL;
	gboolean served = FALSE, ok = TRUE;

	if (!parse_feed_options(argc, argv, &o))
		return 2;
	run.bare_ms = g_array_new(FALSE, FALSE, sizeof(double));
	run.inside_ms = g_array_new(FALSE, FALSE, sizeof(double));
	run.synthetic_ms = g_array_new(FALSE, FALSE, sizeof(double));
	run.cold_ms = g_array_new(FALSE, FALSE, sizeof(double));
	run.rerender_ms = g_array_new(FALSE, FALSE, sizeof(double));
	run.not_modified_p50 = g_array_new(FALSE, FALSE, sizeof(double));
	run.bare_not_modified_p50 = g_array_new(FALSE, FALSE,
						sizeof(double));
	connection = bench_connect(o.address, &error);
	served = connection && feed_locate(connection, &run, &error);
	if (served) {
		ok = run_feed(connection, &o, &run, &error);
	} else {
		/* No feed server: say so, and measure the baseline. */
		bench_note("no staff feed measured: %s", error->message);
		g_clear_error(&error);
		ok = bare_only(&o, &run, &error);
	}
	if (ok)
		feed_report(&run, served);
	else
		fprintf(stderr, "slotd-bench feed: %s\n", error->message);
	feed_run_clear(&run);
	bench_disconnect(connection);
	g_free(o.address);
	g_free(o.bare_http);
	g_free(o.ical);
	g_free(o.db);
	g_free(o.region);
	g_strfreev(o.units);
	return ok ? 0 : 1;
}
