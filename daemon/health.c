/* The checks of /healthz. */
#define G_LOG_DOMAIN "slotd"

#include "health.h"

#include "metrics-daemon.h"

/* The write probe's answer is reused this long. */
#define PROBE_USEC (5 * G_USEC_PER_SEC)
#define LOOP_USEC G_USEC_PER_SEC
/* A stall of a second or more counts this long. */
#define STALL_WINDOW_USEC (10 * G_USEC_PER_SEC)

static gint64 probed_at;
static gboolean probe_ok;

/* ---- the checks ----------------------------------------------------- */

/* The request is answered on the loop, so it turns now; whether it
 * turned a second ago, or was held for a second lately, tells more. */
static gboolean
loop_ok(gint64 *ret_since_ms)
{
	gint64 now = g_get_monotonic_time();
	gint64 last = metrics_daemon_last_turn();
	gint64 stall = metrics_daemon_last_long_stall();

	*ret_since_ms = last ? (now - last) / 1000 : -1;
	return last && now - last < LOOP_USEC &&
	       (!stall || now - stall >= STALL_WINDOW_USEC);
}

static gboolean
write_probe(Store *store)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format_iso8601(now);

	if (!store_begin(store, &error))
		goto failed;
	if (!store_set_meta(store, "health-probe", stamp, &error) ||
	    !store_commit(store, &error)) {
		store_rollback(store);
		goto failed;
	}
	return TRUE;
failed:
	g_warning("health: the database refuses writes: %s", error->message);
	return FALSE;
}

/* Inside a change's transaction the last answer stands. */
static gboolean
database_ok(Daemon *daemon)
{
	gint64 now = g_get_monotonic_time();

	if ((probed_at && now - probed_at < PROBE_USEC) ||
	    store_in_transaction(daemon->store))
		return probe_ok;
	probe_ok = write_probe(daemon->store);
	probed_at = now;
	return probe_ok;
}

static void
count_plugins(Daemon *daemon, guint *ret_loaded, guint *ret_refused)
{
	GPtrArray *list = plugin_host_list(daemon->plugins);

	*ret_loaded = *ret_refused = 0;
	for (guint i = 0; i < list->len; i++) {
		if (((PluginInfo *)list->pdata[i])->loaded)
			(*ret_loaded)++;
		else
			(*ret_refused)++;
	}
}

/* ---- the document --------------------------------------------------- */

static const char *
json_bool(gboolean value)
{
	return value ? "true" : "false";
}

void
health_facts(Daemon *daemon, HealthFacts *ret)
{
	ret->loop = loop_ok(&ret->last_turn_ms);
	ret->database = database_ok(daemon);
	ret->horizon = daemon->extend_source == NULL;
	count_plugins(daemon, &ret->plugins_loaded, &ret->plugins_refused);
	ret->healthy = ret->loop && ret->database && ret->horizon &&
		       ret->plugins_refused == 0;
}

char *
health_check(gboolean *ret_healthy, gpointer user_data)
{
	HealthFacts f;

	health_facts(user_data, &f);
	*ret_healthy = f.healthy;
	return g_strdup_printf(
		"{\"status\":\"%s\",\"loop\":{\"ok\":%s,\"last_turn_ms\":%"
		G_GINT64_FORMAT "},\"database\":{\"ok\":%s},"
		"\"horizon\":{\"ok\":%s},\"plugins\":{\"ok\":%s,"
		"\"loaded\":%u,\"refused\":%u}}\n",
		f.healthy ? "ok" : "unhealthy", json_bool(f.loop),
		f.last_turn_ms, json_bool(f.database), json_bool(f.horizon),
		json_bool(f.plugins_refused == 0), f.plugins_loaded,
		f.plugins_refused);
}
