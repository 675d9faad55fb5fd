/* /metrics with the real daemon over real HTTP, read back by
 * prometheus_client's own parser (tests/metrics/parse-metrics.py):
 * the counters equal the calls this test made, per method, error,
 * service and route; no client reference, token or booking id is in
 * the text; and who may read it: localhost by default, only the bearer
 * of metrics-token when one is set. */
#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "http-probe.h"

#define NA "needs-assessment-west"
#define CLIENT "metrics-client-"
#define TOKEN "s3cret-metrics-token-0123456789"

static Harness h;
static char *address;		/* "127.0.0.1:PORT" */
static char *feed;		/* a staff feed path with its token */
static char *feed_token;

/* ---- helpers -------------------------------------------------------- */

static void
learn_address(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) a = harness_call(&h, "org.slotd.Admin1",
					     "GetHttpAddress", NULL, "(s)",
					     &error);

	g_assert_no_error(error);
	g_clear_pointer(&address, g_free);
	g_variant_get(a, "(s)", &address);
}

static void
issue_token(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) t = harness_call(
		&h, "org.slotd.Admin1", "IssueFeedToken",
		g_variant_new("(ss)", "W-HH-LOH", ""), "(ss)", &error);

	g_assert_no_error(error);
	g_variant_get(t, "(ss)", &feed_token, &feed);
}

static GVariant *
call(const char *interface, const char *method, GVariant *args,
     const char *reply_type, const char *expect_error)
{
	g_autoptr(GError) error = NULL;
	GVariant *r = harness_call(&h, interface, method, args, reply_type,
				   &error);

	if (expect_error)
		harness_assert_dbus_error(error, expect_error);
	else
		g_assert_no_error(error);
	return r;
}

static char *
book(const char *slot, const char *client)
{
	g_autoptr(GVariant) r = call(
		"org.slotd.Scheduler1", "Book",
		g_variant_new("(ss@a{sv})", slot, client,
			      g_variant_new("a{sv}", NULL)),
		"(s)", NULL);
	char *id;

	g_variant_get(r, "(s)", &id);
	return id;
}

static GPtrArray *
some_slots(void)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GVariant) slots = NULL;
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	g_variant_dict_insert(&d, "limit", "u", 5);
	slots = harness_find(&h, NA, g_variant_dict_end(&d));
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, NULL,
				    NULL, NULL, NULL, NULL);
		g_ptr_array_add(ids, g_strdup(id));
	}
	g_assert_cmpuint(ids->len, >=, 3);
	return ids;
}

/* ---- the parsed text ------------------------------------------------ */

/* "NAME\tLABELS" -> value, from parse-metrics.py. */
static GHashTable *
parse(const char *text)
{
	g_autofree char *file = g_build_filename(h.tmpdir, "metrics", NULL);
	g_autofree char *script = g_build_filename(
		harness_source_root(), "tests", "metrics", "parse-metrics.py",
		NULL);
	const char *argv[] = { "/usr/bin/python3", script, file, NULL };
	g_autofree char *out = NULL, *err = NULL;
	g_auto(GStrv) lines = NULL;
	GHashTable *samples = g_hash_table_new_full(g_str_hash, g_str_equal,
						    g_free, g_free);

	g_assert_true(g_file_set_contents(file, text, -1, NULL));
	if (harness_run(&h, &out, &err, argv) != 0)
		g_error("prometheus_client refused the text: %s", err);
	lines = g_strsplit(out, "\n", -1);
	for (guint i = 0; lines[i] && *lines[i]; i++) {
		char *tab = strrchr(lines[i], '\t');

		g_assert_nonnull(tab);
		g_hash_table_insert(samples,
				    g_strndup(lines[i], tab - lines[i]),
				    g_strdup(tab + 1));
	}
	return samples;
}

/* A sample's value; -1 when there is none. */
static double
sample(GHashTable *samples, const char *name, const char *labels)
{
	g_autofree char *key = g_strdup_printf("%s\t%s", name, labels);
	const char *value = g_hash_table_lookup(samples, key);

	return value ? g_ascii_strtod(value, NULL) : -1;
}

#define S1 "interface=org.slotd.Scheduler1,"
#define ASSERT_SAMPLE(samples, name, labels, want) \
	g_assert_cmpfloat(sample(samples, name, labels), ==, want)

static guint
plugins_built(void)
{
	g_autoptr(GDir) dir = g_dir_open(h.plugin_dir, 0, NULL);
	const char *name;
	guint n = 0;

	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir)))
		n += g_str_has_suffix(name, ".so");
	return n;
}

/* ---- the tests ------------------------------------------------------ */

static void
make_calls(GPtrArray *booked)
{
	g_autoptr(GPtrArray) slots = some_slots();

	for (int i = 0; i < 3; i++)
		g_variant_unref(call("org.slotd.Scheduler1", "ListServices",
				     NULL, NULL, NULL));
	for (int i = 0; i < 2; i++)
		call("org.slotd.Scheduler1", "GetBooking",
		     g_variant_new("(s)", "b-999999"), NULL,
		     "org.slotd.Error.NoSuchBooking");
	call("org.slotd.Scheduler1", "NoSuchMethod", NULL, NULL,
	     "org.freedesktop.DBus.Error.UnknownMethod");
	g_ptr_array_add(booked, book(slots->pdata[0], CLIENT "1"));
	g_ptr_array_add(booked, book(slots->pdata[1], CLIENT "2"));
	g_variant_unref(call("org.slotd.Scheduler1", "Cancel",
			     g_variant_new("(ss)", booked->pdata[0],
					   "metrics test"),
			     NULL, NULL));
	g_variant_unref(call("org.slotd.Scheduler1", "Reschedule",
			     g_variant_new("(ss)", booked->pdata[1],
					   slots->pdata[2]),
			     "(s)", NULL));
}

static void
fetch_feed_twice(void)
{
	g_auto(ProbeResponse) first = { 0 };
	g_auto(ProbeResponse) again = { 0 };
	g_autofree char *etag = NULL, *inm = NULL;

	probe_get(address, feed, NULL, &first);
	g_assert_cmpint(first.status, ==, 200);
	etag = probe_header(&first, "ETag");
	inm = g_strdup_printf("If-None-Match: %s\r\n", etag);
	probe_get(address, feed, inm, &again);
	g_assert_cmpint(again.status, ==, 304);
}

static void
assert_no_private_data(const char *text, GPtrArray *booked)
{
	g_assert_null(strstr(text, CLIENT));
	g_assert_null(strstr(text, feed_token));
	g_assert_null(strstr(text, "\"b-"));
	for (guint i = 0; i < booked->len; i++) {
		g_autofree char *quoted =
			g_strdup_printf("\"%s\"", (char *)booked->pdata[i]);

		g_assert_null(strstr(text, quoted));
	}
}

static void
test_counts_equal_the_calls(void)
{
	g_autoptr(GPtrArray) booked = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) s = NULL;
	g_auto(ProbeResponse) r = { 0 };
	g_autofree char *type = NULL;

	make_calls(booked);
	fetch_feed_twice();
	probe_get(address, "/metrics", NULL, &r);
	g_assert_cmpint(r.status, ==, 200);
	type = probe_header(&r, "Content-Type");
	g_assert_true(g_str_has_prefix(type, "text/plain; version=0.0.4"));
	s = parse(r.body);
	ASSERT_SAMPLE(s, "slotd_dbus_calls_total", S1 "method=ListServices", 3);
	ASSERT_SAMPLE(s, "slotd_dbus_call_duration_seconds_count",
		      S1 "method=ListServices", 3);
	ASSERT_SAMPLE(s, "slotd_dbus_calls_total", S1 "method=GetBooking", 2);
	ASSERT_SAMPLE(s, "slotd_dbus_errors_total",
		      "error=org.slotd.Error.NoSuchBooking," S1
		      "method=GetBooking", 2);
	ASSERT_SAMPLE(s, "slotd_dbus_errors_total",
		      "error=org.freedesktop.DBus.Error.UnknownMethod," S1
		      "method=(unknown)", 1);
	ASSERT_SAMPLE(s, "slotd_dbus_calls_total", S1 "method=Book", 2);
	ASSERT_SAMPLE(s, "slotd_dbus_calls_total", S1 "method=Cancel", 1);
	ASSERT_SAMPLE(s, "slotd_dbus_calls_total", S1 "method=Reschedule", 1);
	ASSERT_SAMPLE(s, "slotd_booking_changes_total",
		      "change=book,service=" NA, 2);
	ASSERT_SAMPLE(s, "slotd_booking_changes_total",
		      "change=cancel,service=" NA, 1);
	ASSERT_SAMPLE(s, "slotd_booking_changes_total",
		      "change=reschedule,service=" NA, 1);
	ASSERT_SAMPLE(s, "slotd_http_requests_total", "code=200,route=feed", 1);
	ASSERT_SAMPLE(s, "slotd_http_requests_total", "code=304,route=feed", 1);
	ASSERT_SAMPLE(s, "slotd_plugins", "state=loaded", plugins_built());
	ASSERT_SAMPLE(s, "slotd_plugins", "state=refused", 0);
	g_assert_cmpfloat(sample(s, "slotd_main_loop_lateness_seconds_count",
				 ""), >, 0);
	g_assert_cmpfloat(sample(s, "slotd_http_connections_open", ""), >=, 1);
	g_assert_cmpfloat(sample(s, "slotd_database_bytes", "file=database"),
			  >, 0);
	/* A small WAL is checkpointed by the thread, never by a commit. */
	g_assert_cmpfloat(sample(s, "slotd_wal_checkpoints_total",
				 "by=thread"), >=, 0);
	ASSERT_SAMPLE(s, "slotd_wal_checkpoints_total", "by=commit", 0);
	g_assert_cmpfloat(sample(s, "slotd_wal_checkpoints_total",
				 "by=restart"), >=, 0);
	g_assert_cmpfloat(sample(s, "slotd_open_fds", ""), >, 0);
	assert_no_private_data(r.body, booked);
}

static void
restart_with(const char *key, const char *value)
{
	/* harness_start_slotd() replaces h.config. */
	g_autofree char *config = g_strdup(h.config);

	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_set_key(config, "daemon", key, value);
	harness_start_slotd(&h, config);
	learn_address();
}

static int
metrics_status(const char *extra)
{
	g_auto(ProbeResponse) r = { 0 };

	probe_get(address, "/metrics", extra, &r);
	if (r.status == 401) {
		g_autofree char *challenge =
			probe_header(&r, "WWW-Authenticate");

		g_assert_nonnull(challenge);
		g_assert_true(g_str_has_prefix(challenge, "Bearer"));
	}
	return r.status;
}

/* With a token, only its bearer reads, from localhost as well; the
 * token is never logged. */
static void
test_token_required_when_set(void)
{
	g_autofree char *log = NULL;

	restart_with("metrics-token", TOKEN);
	g_assert_cmpint(metrics_status(NULL), ==, 401);
	g_assert_cmpint(metrics_status("Authorization: Bearer wrong\r\n"), ==,
			401);
	g_assert_cmpint(metrics_status("Authorization: Bearer " TOKEN "x\r\n"),
			==, 401);
	g_assert_cmpint(metrics_status("Authorization: Bearer " TOKEN "\r\n"),
			==, 200);
	g_assert_true(g_file_get_contents(h.log_path, &log, NULL, NULL));
	g_assert_null(strstr(log, TOKEN));
}

/* A local address that is not loopback, or NULL. */
static char *
other_local_address(void)
{
	struct ifaddrs *list, *i;
	char text[INET_ADDRSTRLEN] = "";

	if (getifaddrs(&list) != 0)
		return NULL;
	for (i = list; i && !*text; i = i->ifa_next) {
		struct sockaddr_in *in = (struct sockaddr_in *)i->ifa_addr;

		if (in && in->sin_family == AF_INET &&
		    ntohl(in->sin_addr.s_addr) >> 24 != 127)
			inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
	}
	freeifaddrs(list);
	return *text ? g_strdup(text) : NULL;
}

/* Without a token, another address than loopback is refused. */
static void
test_localhost_only_by_default(void)
{
	g_autofree char *other = other_local_address();
	g_autofree char *port = NULL, *there = NULL;
	g_auto(ProbeResponse) r = { 0 };

	restart_with("metrics-token", "");
	restart_with("http-address", "0.0.0.0:0");
	port = g_strdup(strrchr(address, ':') + 1);
	g_free(address);
	address = g_strconcat("127.0.0.1:", port, NULL);
	g_assert_cmpint(metrics_status(NULL), ==, 200);
	if (other == NULL) {
		g_test_skip("no address but loopback on this machine");
		return;
	}
	there = g_strdup_printf("%s:%s", other, port);
	probe_get(there, "/metrics", NULL, &r);
	g_test_message("/metrics from %s: %d", other, r.status);
	g_assert_cmpint(r.status, ==, 403);
}

/* Every slotd_ metric docs/prometheus-alerts.yml names is served (after
 * the calls of the first test, so that every counter has a sample), and
 * the file is YAML with a group of rules (python3-yaml). */
static void
test_alert_rules_name_served_metrics(void)
{
	g_autofree char *rules = g_build_filename(
		harness_source_root(), "docs", "prometheus-alerts.yml", NULL);
	g_autofree char *text = NULL, *out = NULL, *err = NULL;
	g_autoptr(GRegex) re = g_regex_new("slotd_[a-z_]+", 0, 0, NULL);
	g_autoptr(GMatchInfo) m = NULL;
	g_auto(ProbeResponse) r = { 0 };
	const char *argv[] = {
		"/usr/bin/python3", "-c",
		"import sys, yaml\n"
		"d = yaml.safe_load(open(sys.argv[1]))\n"
		"print(len(d['groups'][0]['rules']))\n",
		rules, NULL
	};
	guint n = 0;

	g_assert_cmpint(harness_run(&h, &out, &err, argv), ==, 0);
	g_assert_cmpint(atoi(out), >, 5);
	g_assert_true(g_file_get_contents(rules, &text, NULL, NULL));
	probe_get(address, "/metrics", NULL, &r);
	g_assert_cmpint(r.status, ==, 200);
	for (g_regex_match(re, text, 0, &m); g_match_info_matches(m);
	     g_match_info_next(m, NULL), n++) {
		g_autofree char *name = g_match_info_fetch(m, 0);
		g_autofree char *line = g_strconcat("\n", name, NULL);

		if (strstr(r.body, line) == NULL)
			g_error("%s (in the alert rules) is not served", name);
	}
	g_assert_cmpuint(n, >, 10);
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
	harness_start_slotd(&h, config);
	learn_address();
	issue_token();
	g_test_add_func("/metrics/counts/equal-the-calls-made",
			test_counts_equal_the_calls);
	g_test_add_func("/metrics/alert-rules/name-served-metrics",
			test_alert_rules_name_served_metrics);
	g_test_add_func("/metrics/access/token-required-when-set",
			test_token_required_when_set);
	g_test_add_func("/metrics/access/localhost-only-by-default",
			test_localhost_only_by_default);
	status = g_test_run();
	g_free(address);
	g_free(feed);
	g_free(feed_token);
	return harness_finish(&h, status);
}
