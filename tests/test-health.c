/* /healthz with the real daemon over real HTTP: 200 and every check
 * ok when slotd is fit; 503 naming the check while the slot horizon is
 * being filled after a reload, right after the main loop was held
 * (SIGUSR1 with SLOTD_TEST_STALL_SECONDS), and when the database file
 * cannot be written (mode 0444 without CAP_DAC_OVERRIDE). The body is
 * checked as JSON by python3's own parser. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "http-probe.h"

#define STALL_SECONDS 2

static Harness h;
static char *address;

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

/* "CHECK=true|false" per check, from the JSON, by python3. */
static char *
checks_of(const char *json)
{
	const char *argv[] = {
		"/usr/bin/python3", "-c",
		"import json, sys\n"
		"d = json.loads(sys.argv[1])\n"
		"print(d['status'], *(f\"{k}={str(d[k]['ok']).lower()}\"\n"
		"      for k in ('loop', 'database', 'horizon', 'plugins')))\n",
		json, NULL
	};
	g_autofree char *out = NULL, *err = NULL;

	if (harness_run(&h, &out, &err, argv) != 0)
		g_error("/healthz is not the JSON expected: %s\n%s", json,
			err);
	return g_strstrip(g_steal_pointer(&out));
}

/* The status, and the checks in *ret_checks. */
static int
health(char **ret_checks)
{
	g_auto(ProbeResponse) r = { 0 };
	g_autofree char *type = NULL;

	probe_get(address, "/healthz", NULL, &r);
	type = probe_header(&r, "Content-Type");
	g_assert_cmpstr(type, ==, "application/json");
	g_free(*ret_checks);
	*ret_checks = checks_of(r.body);
	g_test_message("/healthz %d: %s", r.status, *ret_checks);
	return r.status;
}

/* Polls until 200, at most `seconds`. */
static void
wait_healthy(guint seconds)
{
	g_autofree char *checks = NULL;

	for (guint i = 0; i < seconds * 4; i++) {
		if (health(&checks) == 200)
			return;
		g_usleep(250 * 1000);
	}
	g_error("/healthz not 200 after %u s: %s", seconds, checks);
}

static void
restart(void)
{
	g_autofree char *config = g_strdup(h.config);

	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_start_slotd(&h, config);
	learn_address();
}

/* ---- the tests ------------------------------------------------------ */

/* A slow start (valgrind) may have held the loop a moment ago. */
static void
test_healthy(void)
{
	g_autofree char *checks = NULL;

	wait_healthy(30);
	g_assert_cmpint(health(&checks), ==, 200);
	g_assert_cmpstr(checks, ==, "ok loop=true database=true horizon=true "
				    "plugins=true");
}

/* A reload that lengthens the horizon: unhealthy until it is filled. */
static void
test_horizon_being_filled(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	g_autofree char *checks = NULL;

	harness_set_key(h.config, "daemon", "horizon-days", "60");
	r = harness_call(&h, "org.slotd.Admin1", "Reload", NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(health(&checks), ==, 503);
	g_assert_true(g_str_has_prefix(checks, "unhealthy "));
	g_assert_nonnull(strstr(checks, " horizon=false "));
	g_assert_nonnull(strstr(checks, " database=true "));
	wait_healthy(120);
}

/* The value of the sample `series` in a metrics text. */
static double
sample_value(const char *body, const char *series)
{
	g_autofree char *line_start = g_strconcat("\n", series, " ", NULL);
	const char *at = strstr(body, line_start);

	if (!at)
		g_error("no sample %s in the metrics", series);
	return g_ascii_strtod(at + strlen(line_start), NULL);
}

/* The hold is logged and counted under the work that made it. */
static void
assert_hold_named(void)
{
	g_auto(ProbeResponse) r = { 0 };

	harness_wait_log(&h, "main loop held for 2", 10);
	harness_wait_log(&h, "ms: test stall", 1);
	probe_get(address, "/metrics", NULL, &r);
	g_assert_cmpint(r.status, ==, 200);
	g_assert_cmpfloat(sample_value(r.body, "slotd_main_loop_held_seconds_"
					       "count{work=\"test stall\"}"),
			  ==, 1);
	g_assert_cmpfloat(sample_value(r.body, "slotd_main_loop_held_seconds_"
					       "sum{work=\"test stall\"}"),
			  >=, STALL_SECONDS);
}

/* slotctl status (Admin1.GetStatus) says what /healthz says. */
static void
assert_status_says(gboolean healthy)
{
	g_autofree char *out = NULL, *err = NULL;
	int rc = harness_slotctl(&h, &out, &err, "status", NULL);

	g_assert_cmpint(rc == 0, ==, healthy);
	g_assert_nonnull(strstr(out, healthy ? "healthy:" : "loop-ok:"));
	g_assert_nonnull(strstr(out, "database-writable:"));
	if (!healthy)
		g_assert_nonnull(strstr(err, "not healthy"));
}

static void
test_held_loop(void)
{
	g_autofree char *checks = NULL;

	assert_status_says(TRUE);
	g_subprocess_send_signal(h.slotd, SIGUSR1);
	/* Logged on the loop as the hold begins: asked before that, slotd
	 * would rightly answer that it is fit. */
	harness_wait_log(&h, "holding the main loop", 10);
	g_assert_cmpint(health(&checks), ==, 503);
	g_assert_cmpstr(checks, ==, "unhealthy loop=false database=true "
				    "horizon=true plugins=true");
	assert_status_says(FALSE);
	wait_healthy(15);
	assert_hold_named();
}

static gboolean
setpriv_works(void)
{
	const char *argv[] = { "setpriv", "--bounding-set",
			       "-dac_override,-dac_read_search", "true",
			       NULL };

	return harness_run(&h, NULL, NULL, argv) == 0;
}

/* Under whatever wrapper the run has (valgrind.sh), as well. */
static void
start_without_dac_override(const char *config)
{
	const char *old = g_getenv("SLOTD_TEST_WRAPPER");
	g_autofree char *saved = g_strdup(old);
	g_autofree char *wrapper = g_strdup_printf(
		"setpriv --bounding-set -dac_override,-dac_read_search %s",
		old ? old : "");

	g_setenv("SLOTD_TEST_WRAPPER", wrapper, TRUE);
	harness_start_slotd(&h, config);
	if (saved)
		g_setenv("SLOTD_TEST_WRAPPER", saved, TRUE);
	else
		g_unsetenv("SLOTD_TEST_WRAPPER");
}

/* As a service user meets a file of mode 0444 (root would write
 * through it): SQLite opens it read-only, and writes fail. */
static void
test_database_not_writable(void)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	/* harness_start_slotd() replaces h.config. */
	g_autofree char *config = g_strdup(h.config);
	g_autofree char *checks = NULL;

	if (!setpriv_works()) {
		g_test_skip("setpriv cannot drop CAP_DAC_OVERRIDE here");
		return;
	}
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	if (chmod(db, 0444) != 0)
		g_error("chmod %s: %s", db, g_strerror(errno));
	start_without_dac_override(config);
	learn_address();
	g_assert_cmpint(health(&checks), ==, 503);
	g_assert_true(g_str_has_prefix(checks, "unhealthy "));
	g_assert_nonnull(strstr(checks, " database=false "));
	g_assert_cmpint(chmod(db, 0644), ==, 0);
	restart();
	wait_healthy(30);
}

int
main(int argc, char **argv)
{
	g_autofree char *config = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	/* slotd inherits it: SIGUSR1 holds its loop. */
	g_setenv("SLOTD_TEST_STALL_SECONDS", G_STRINGIFY(STALL_SECONDS), TRUE);
	harness_init(&h);
	h.horizon_days = 7;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	config = harness_copy_example(&h);
	harness_set_key(config, "daemon", "http-address", "127.0.0.1:0");
	harness_start_slotd(&h, config);
	learn_address();
	g_test_add_func("/health/ok", test_healthy);
	g_test_add_func("/health/horizon-being-filled",
			test_horizon_being_filled);
	g_test_add_func("/health/held-loop", test_held_loop);
	g_test_add_func("/health/database-not-writable",
			test_database_not_writable);
	status = g_test_run();
	g_free(address);
	return harness_finish(&h, status);
}
