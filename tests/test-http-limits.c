/* The feed server under a connection flood, with the real daemon and
 * real sockets: more idle connections than http-max-connections get a
 * 503 (or are closed) while the bus keeps working; once they close, a
 * feed is served again within a second; connections that send no
 * request in http-idle-seconds are closed; and when slotd runs out of
 * file descriptors it accepts again as soon as some are free. */
#define _GNU_SOURCE /* prlimit */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "harness.h"
#include "http-probe.h"

#define CAP 20
#define FLOOD 60
#define IDLE_SECONDS 2

static Harness h;
static char *address;		/* "127.0.0.1:PORT" */
static char *feed;		/* a staff feed path with its token */

/* ---- helpers -------------------------------------------------------- */

static void
learn_address_and_feed(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) a = harness_call(&h, "org.slotd.Admin1",
					     "GetHttpAddress", NULL, "(s)",
					     &error);
	g_autoptr(GVariant) t = NULL;

	g_assert_no_error(error);
	g_clear_pointer(&address, g_free);
	g_variant_get(a, "(s)", &address);
	g_assert_true(g_str_has_prefix(address, "127.0.0.1:"));
	if (feed)
		return;
	t = harness_call(&h, "org.slotd.Admin1", "IssueFeedToken",
			 g_variant_new("(ss)", "W-HH-LOH", ""), "(ss)",
			 &error);
	g_assert_no_error(error);
	g_variant_get(t, "(ss)", NULL, &feed);
}

static int
get_status(void)
{
	g_auto(ProbeResponse) r = { 0 };

	probe_get(address, feed, NULL, &r);
	return r.status;
}

/* Milliseconds until the feed is served (200), at most `limit_ms`. */
static gint64
ms_until_served(guint limit_ms)
{
	gint64 began = g_get_monotonic_time();
	gint64 ms;

	do {
		ms = (g_get_monotonic_time() - began) / 1000;
		if (get_status() == 200)
			return ms;
		g_usleep(10 * 1000);
	} while (ms < limit_ms);
	return -1;
}

static void
assert_bus_works(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Scheduler1",
					     "ListServices", NULL, NULL,
					     &error);

	g_assert_no_error(error);
}

static GPtrArray *
open_many(guint n)
{
	GPtrArray *sockets = g_ptr_array_new_with_free_func(g_object_unref);

	for (guint i = 0; i < n; i++)
		g_ptr_array_add(sockets, probe_connect(address));
	return sockets;
}

typedef struct {
	guint open, refused, closed;
} Tally;

/* Each extra connection is answered 503 (with Retry-After) and closed,
 * or just closed; the ones slotd keeps stay silent. */
static void
tally(GPtrArray *sockets, Tally *t)
{
	memset(t, 0, sizeof(*t));
	for (guint i = 0; i < sockets->len; i++) {
		g_autofree char *data = NULL;

		switch (probe_wait(sockets->pdata[i], 0, &data)) {
		case PROBE_OPEN:
			t->open++;
			break;
		case PROBE_CLOSED:
			t->closed++;
			break;
		case PROBE_DATA:
			g_assert_true(g_str_has_prefix(
				data, "HTTP/1.1 503 Service Unavailable\r\n"));
			g_assert_nonnull(strstr(data, "\r\nRetry-After: "));
			t->refused++;
			break;
		}
	}
}

/* Waits (at most 20 s) until every extra connection was answered. */
static void
tally_settled(GPtrArray *sockets, Tally *t)
{
	for (int i = 0; i < 200; i++) {
		tally(sockets, t);
		if (t->open <= CAP)
			return;
		g_usleep(100 * 1000);
	}
	g_error("%u connections still open, at most %u expected", t->open,
		CAP);
}

static void
restart_with(const char *key, const char *value)
{
	/* harness_start_slotd() replaces h.config. */
	g_autofree char *config = g_strdup(h.config);

	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_set_key(config, "daemon", key, value);
	harness_start_slotd(&h, config);
	learn_address_and_feed();
}

/* ---- the tests ------------------------------------------------------ */

static void
test_flood_refused_then_recovers(void)
{
	g_autoptr(GPtrArray) sockets = NULL;
	g_auto(ProbeResponse) full = { 0 };
	g_autofree char *retry = NULL;
	Tally t;
	gint64 ms;

	g_assert_cmpint(get_status(), ==, 200);
	sockets = open_many(FLOOD);
	tally_settled(sockets, &t);
	g_test_message("%u connections: %u kept, %u answered 503, %u closed",
		       FLOOD, t.open, t.refused, t.closed);
	g_assert_cmpuint(t.open, ==, CAP);
	g_assert_cmpuint(t.refused + t.closed, ==, FLOOD - CAP);
	g_assert_cmpuint(t.refused, >, 0);
	/* The bus is not starved of anything. */
	assert_bus_works();
	/* A feed request meanwhile is told to come back. */
	probe_get(address, feed, NULL, &full);
	g_assert_cmpint(full.status, ==, 503);
	retry = probe_header(&full, "Retry-After");
	g_assert_nonnull(retry);
	g_assert_cmpstr(full.body, ==, "503 Service Unavailable\n");
	g_ptr_array_set_size(sockets, 0);
	ms = ms_until_served(1000);
	g_test_message("first feed %" G_GINT64_FORMAT " ms after closing",
		       ms);
	g_assert_cmpint(ms, >=, 0);
	assert_bus_works();
}

/* Reads until `got` holds at least `want` bytes. */
static void
receive_until(GSocket *socket, GString *got, gsize want)
{
	char buffer[16384];
	gssize n;

	while (got->len < want) {
		n = g_socket_receive(socket, buffer, sizeof(buffer), NULL,
				     NULL);
		g_assert_cmpint(n, >, 0);
		g_string_append_len(got, buffer, n);
	}
}

/* One whole answer on a kept-alive connection: headers, and as many
 * bytes as Content-Length says. */
static void
read_one_answer(GSocket *socket)
{
	g_autoptr(GString) got = g_string_new(NULL);
	const char *end, *length;

	while (!(end = strstr(got->str, "\r\n\r\n")))
		receive_until(socket, got, got->len + 1);
	g_assert_true(g_str_has_prefix(got->str, "HTTP/1.1 200 "));
	length = strstr(got->str, "Content-Length: ");
	g_assert_nonnull(length);
	receive_until(socket, got,
		      (end + 4 - got->str) +
			      g_ascii_strtoull(length + 16, NULL, 10));
}

/* A connection that sends nothing, one that sends half a request, and
 * one that keeps silent after its answer are all closed. */
static void
test_idle_connections_closed(void)
{
	g_autoptr(GSocket) silent = NULL;
	g_autoptr(GSocket) partial = NULL;
	g_autoptr(GSocket) kept = NULL;
	const char half[] = "GET / HTTP/1.1\r\nHost: x\r\n";
	g_autofree char *whole = NULL;
	gint64 began;
	double seconds;

	restart_with("http-idle-seconds", G_STRINGIFY(IDLE_SECONDS));
	silent = probe_connect(address);
	partial = probe_connect(address);
	kept = probe_connect(address);
	whole = g_strdup_printf("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", feed);
	g_assert_cmpint(g_socket_send(partial, half, strlen(half), NULL, NULL),
			==, (gssize)strlen(half));
	g_assert_cmpint(g_socket_send(kept, whole, strlen(whole), NULL, NULL),
			==, (gssize)strlen(whole));
	read_one_answer(kept);
	began = g_get_monotonic_time();
	g_assert_cmpint(probe_wait(silent, 20000, NULL), ==, PROBE_CLOSED);
	g_assert_cmpint(probe_wait(partial, 20000, NULL), ==, PROBE_CLOSED);
	g_assert_cmpint(probe_wait(kept, 20000, NULL), ==, PROBE_CLOSED);
	seconds = (g_get_monotonic_time() - began) / 1e6;
	g_test_message("idle connections closed after %.2f s", seconds);
	g_assert_cmpfloat(seconds, >=, IDLE_SECONDS - 0.5);
	g_assert_cmpfloat(seconds, <, IDLE_SECONDS + 10);
	/* Requests are answered as before. */
	g_assert_cmpint(get_status(), ==, 200);
}

static guint
open_descriptors(const char *pid)
{
	g_autofree char *dir = g_strdup_printf("/proc/%s/fd", pid);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	guint n = 0;

	g_assert_nonnull(d);
	while (g_dir_read_name(d))
		n++;
	return n;
}

/* What made the port deaf before: no descriptor left for accept().
 * slotd's limit is lowered under it (prlimit), the flood fills it, and
 * once the flood is gone the feed is served again at once. */
static void
test_out_of_descriptors_recovers(void)
{
	const char *pid = g_subprocess_get_identifier(h.slotd);
	g_autoptr(GPtrArray) sockets = NULL;
	struct rlimit limit;
	gint64 ms;

	g_assert_nonnull(pid);
	limit.rlim_cur = limit.rlim_max = open_descriptors(pid) + 5;
	if (prlimit(atoi(pid), RLIMIT_NOFILE, &limit, NULL) != 0) {
		g_test_skip("prlimit on slotd is not allowed here");
		return;
	}
	sockets = open_many(FLOOD);
	/* It did run out. */
	harness_wait_log(&h, "cannot accept feed connections: ", 10);
	assert_bus_works();
	g_ptr_array_set_size(sockets, 0);
	ms = ms_until_served(1000);
	g_test_message("first feed %" G_GINT64_FORMAT " ms after closing",
		       ms);
	g_assert_cmpint(ms, >=, 0);
}

int
main(int argc, char **argv)
{
	g_autofree char *config = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	harness_init(&h);
	h.horizon_days = 7;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	config = harness_copy_example(&h);
	harness_set_key(config, "daemon", "http-address", "127.0.0.1:0");
	harness_set_key(config, "daemon", "http-max-connections",
			G_STRINGIFY(CAP));
	harness_set_key(config, "daemon", "http-idle-seconds", "120");
	harness_start_slotd(&h, config);
	learn_address_and_feed();
	g_test_add_func("/http-limits/flood/refused-then-recovers",
			test_flood_refused_then_recovers);
	g_test_add_func("/http-limits/idle/connections-closed",
			test_idle_connections_closed);
	g_test_add_func("/http-limits/descriptors/run-out-and-recover",
			test_out_of_descriptors_recovers);
	status = g_test_run();
	g_free(address);
	g_free(feed);
	return harness_finish(&h, status);
}
