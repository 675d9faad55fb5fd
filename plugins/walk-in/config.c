/* walk-in: reading and checking an offering's walk-in keys. */
#include <string.h>

#include "walk-in.h"

/* Coarse reasons for a visit, recorded without the visitor's identity
 * so that counts and reasons can be reported (the Lohja practice). */
static const char *const default_reasons[] = {
	"income",	 /* toimeentulo / utkomst */
	"housing",	 /* asuminen / boende */
	"employment",	 /* työllisyys / sysselsättning */
	"family",	 /* perhe / familj */
	"substance-use", /* päihteet / missbruk */
	"coping",	 /* jaksaminen / ork */
	"ageing",	 /* ikääntyminen / åldrande */
	"disability",	 /* vammaisuus / funktionsnedsättning */
	"other",
	NULL,
};

static void
window_free(gpointer data)
{
	WalkInWindow *window = data;

	g_free(window->name);
	g_free(window);
}

void
walk_in_config_free(WalkInConfig *config)
{
	if (config == NULL)
		return;
	g_ptr_array_unref(config->windows);
	g_strfreev(config->reasons);
	g_free(config);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(WalkInConfig, walk_in_config_free)

static WalkInConfig *
config_new(void)
{
	WalkInConfig *config = g_new0(WalkInConfig, 1);

	config->windows = g_ptr_array_new_with_free_func(window_free);
	return config;
}

static gboolean
get_uint(SlotdOffering *offering, const char *key, guint fallback, guint min,
	 guint max, guint *ret_value, GError **error)
{
	gint64 value;

	if (!slotd_offering_get_int(offering, key, fallback, min, max, &value,
				    error))
		return FALSE;
	*ret_value = (guint)value;
	return TRUE;
}

static gboolean
is_reason_code(const char *code)
{
	gsize length = strlen(code);

	if (length == 0 || length > 32)
		return FALSE;
	for (gsize i = 0; i < length; i++) {
		if (!g_ascii_islower(code[i]) && !g_ascii_isdigit(code[i]) &&
		    code[i] != '-')
			return FALSE;
	}
	return TRUE;
}

static gboolean
read_reasons(SlotdOffering *offering, WalkInConfig *config, GError **error)
{
	g_auto(GStrv) reasons = NULL;

	if (!slotd_offering_get_string_list(offering, "reasons", &reasons,
					    error))
		return FALSE;
	if (reasons == NULL) {
		config->reasons = g_strdupv((char **)default_reasons);
		return TRUE;
	}
	for (guint i = 0; reasons[i] != NULL; i++) {
		if (!is_reason_code(reasons[i])) {
			slotd_offering_config_error(offering, "reasons", error,
				"\"%s\" is not a reason code; use lower-case "
				"letters, digits and '-', e.g. housing",
				reasons[i]);
			return FALSE;
		}
	}
	config->reasons = g_steal_pointer(&reasons);
	return TRUE;
}

static gboolean
read_general(SlotdOffering *offering, WalkInConfig *config, GError **error)
{
	if (!get_uint(offering, "service-minutes", 30, 5, 240,
		      &config->service_minutes, error) ||
	    !get_uint(offering, "checkin-opens-minutes", 15, 0, 120,
		      &config->checkin_opens_minutes, error) ||
	    !get_uint(offering, "referral-minutes", 30, 10, 240,
		      &config->referral_minutes, error) ||
	    !slotd_offering_get_bool(offering, "anonymous-visits", TRUE,
				     &config->anonymous_visits, error) ||
	    !slotd_offering_get_double(offering, "expected-arrivals-per-hour",
				       1.0, 0.0, 60.0,
				       &config->expected_arrivals, error))
		return FALSE;
	return read_reasons(offering, config, error);
}

/* seats and capacity-NAME would be silently meaningless here: the
 * plugin decides slot capacities from counsellors and queue places. */
static gboolean
refuse_capacity_keys(SlotdOffering *offering, GError **error)
{
	const char *const *windows = slotd_offering_windows(offering);

	if (slotd_offering_has_key(offering, "seats")) {
		slotd_offering_config_error(offering, "seats", error,
			"walk-in offerings do not use seats; set "
			"counsellors-NAME per window and, for a session, "
			"queue-places-NAME if the derived number is wrong");
		return FALSE;
	}
	for (guint i = 0; windows != NULL && windows[i] != NULL; i++) {
		g_autofree char *key = g_strdup_printf("capacity-%s",
						       windows[i]);

		if (slotd_offering_has_key(offering, key)) {
			slotd_offering_config_error(offering, key, error,
				"walk-in offerings count staff with "
				"counsellors-%s (and queue places with "
				"queue-places-%s); remove %s",
				windows[i], windows[i], key);
			return FALSE;
		}
	}
	return TRUE;
}

/* The window names listed under `key`, by default `default_name` when
 * the offering has a window called that. */
static gboolean
window_role(SlotdOffering *offering, const char *key, const char *default_name,
	    char ***ret_names, GError **error)
{
	const char *const *windows = slotd_offering_windows(offering);
	g_auto(GStrv) names = NULL;

	if (!slotd_offering_get_string_list(offering, key, &names, error))
		return FALSE;
	if (names == NULL) {
		names = g_new0(char *, 2);
		if (windows != NULL && g_strv_contains(windows, default_name))
			names[0] = g_strdup(default_name);
	}
	for (guint i = 0; names[i] != NULL; i++) {
		if (windows == NULL || !g_strv_contains(windows, names[i])) {
			slotd_offering_config_error(offering, key, error,
				"window \"%s\" is not one of the offering's "
				"windows", names[i]);
			return FALSE;
		}
	}
	*ret_names = g_steal_pointer(&names);
	return TRUE;
}

static gboolean
read_date_key(SlotdOffering *offering, const char *key, const char *fallback,
	      GDate *ret_date, GError **error)
{
	g_autofree char *text = NULL;

	g_date_clear(ret_date, 1);
	if (!slotd_offering_get_string(offering, key, fallback, &text, error))
		return FALSE;
	if (text != NULL && !walk_in_parse_date(text, ret_date)) {
		slotd_offering_config_error(offering, key, error,
			"\"%s\" is not a date; write YYYY-MM-DD", text);
		return FALSE;
	}
	return TRUE;
}

/* The window's times and days, read again from the core's own keys:
 * a stored slot does not say which window it came from. */
static gboolean
read_schedule(SlotdOffering *offering, const char *name, WalkInSchedule *s,
	      GError **error)
{
	g_autofree char *key = g_strdup_printf("window-%s", name);
	g_autofree char *from_key = g_strdup_printf("window-%s-from", name);
	g_autofree char *until_key = g_strdup_printf("window-%s-until", name);
	g_autofree char *text = NULL;
	g_autoptr(GError) local = NULL;

	if (!read_date_key(offering, from_key, "2025-01-01", &s->from, error) ||
	    !read_date_key(offering, until_key, NULL, &s->until, error) ||
	    !slotd_offering_get_string(offering, key, NULL, &text, error))
		return FALSE;
	if (!walk_in_schedule_parse(text, s, &local)) {
		slotd_offering_config_error(offering, key, error, "%s",
					    local->message);
		return FALSE;
	}
	return TRUE;
}

static gboolean
size_session(SlotdOffering *offering, const WalkInConfig *config,
	     WalkInWindow *window, GError **error)
{
	g_autofree char *key = g_strdup_printf("window-%s", window->name);
	g_autofree char *places_key = g_strdup_printf("queue-places-%s",
						      window->name);
	int minutes = walk_in_schedule_minutes(&window->schedule);

	if (window->schedule.end_minute <= window->schedule.start_minute) {
		slotd_offering_config_error(offering, key, error,
			"a walk-in session ends on the day it starts; "
			"end it before midnight");
		return FALSE;
	}
	if (minutes < (int)config->service_minutes) {
		slotd_offering_config_error(offering, key, error,
			"the session (%d min) is shorter than one visit "
			"(service-minutes=%u)", minutes,
			config->service_minutes);
		return FALSE;
	}
	return get_uint(offering, places_key,
			walk_in_queue_places(window->counsellors, minutes,
					     config->service_minutes),
			1, 500, &window->queue_places, error);
}

static gboolean
read_window(SlotdOffering *offering, WalkInConfig *config, const char *name,
	    gboolean is_session, GError **error)
{
	g_autofree char *staff_key = g_strdup_printf("counsellors-%s", name);
	g_autofree char *key = g_strdup_printf("window-%s", name);
	WalkInWindow *window = g_new0(WalkInWindow, 1);

	window->name = g_strdup(name);
	window->is_session = is_session;
	g_ptr_array_add(config->windows, window);
	if (!read_schedule(offering, name, &window->schedule, error) ||
	    !get_uint(offering, staff_key, 1, 1, 50, &window->counsellors,
		      error))
		return FALSE;
	if (is_session)
		return size_session(offering, config, window, error);
	if (walk_in_schedule_minutes(&window->schedule) <
	    (int)config->referral_minutes) {
		slotd_offering_config_error(offering, key, error,
			"the window is shorter than one referral slot "
			"(referral-minutes=%u)", config->referral_minutes);
		return FALSE;
	}
	return TRUE;
}

static gboolean
read_windows(SlotdOffering *offering, WalkInConfig *config, GError **error)
{
	const char *const *windows = slotd_offering_windows(offering);
	g_auto(GStrv) sessions = NULL;
	g_auto(GStrv) referrals = NULL;

	if (!window_role(offering, "session-windows", WALK_IN_SESSION,
			 &sessions, error) ||
	    !window_role(offering, "referral-windows", WALK_IN_REFERRAL,
			 &referrals, error))
		return FALSE;
	for (guint i = 0; windows != NULL && windows[i] != NULL; i++) {
		gboolean session, referral;

		session = g_strv_contains((const char *const *)sessions,
					  windows[i]);
		referral = g_strv_contains((const char *const *)referrals,
					   windows[i]);

		if (session && referral) {
			slotd_offering_config_error(offering,
				"referral-windows", error,
				"window \"%s\" is also a session window; a "
				"window is one or the other", windows[i]);
			return FALSE;
		}
		if (!session && !referral) {
			slotd_offering_config_error(offering,
				"session-windows", error,
				"window \"%s\" is neither a session nor a "
				"referral window; list it in session-windows "
				"or referral-windows", windows[i]);
			return FALSE;
		}
		if (!read_window(offering, config, windows[i], session, error))
			return FALSE;
	}
	return TRUE;
}

/* One unit runs one queue at a time, and a slot must map back to one
 * session window. */
static gboolean
check_sessions_apart(SlotdOffering *offering, const WalkInConfig *config,
		     GError **error)
{
	for (guint i = 0; i < config->windows->len; i++) {
		const WalkInWindow *a = config->windows->pdata[i];

		for (guint j = i + 1; j < config->windows->len; j++) {
			const WalkInWindow *b = config->windows->pdata[j];

			if (!a->is_session || !b->is_session ||
			    !walk_in_schedules_overlap(&a->schedule,
						       &b->schedule))
				continue;
			slotd_offering_config_error(offering,
				"session-windows", error,
				"sessions \"%s\" and \"%s\" can run at the "
				"same time; a unit has one queue at a time, so "
				"make them one window and set counsellors-%s",
				a->name, b->name, a->name);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
walk_in_configure(SlotdOffering *offering, GError **error)
{
	g_autoptr(WalkInConfig) config = config_new();

	if (!read_general(offering, config, error) ||
	    !refuse_capacity_keys(offering, error) ||
	    !read_windows(offering, config, error) ||
	    !check_sessions_apart(offering, config, error))
		return FALSE;
	slotd_offering_set_data(offering, g_steal_pointer(&config),
				(GDestroyNotify)walk_in_config_free);
	return TRUE;
}

const WalkInConfig *
walk_in_config(const SlotdOffering *offering)
{
	return slotd_offering_get_data(offering);
}

const WalkInWindow *
walk_in_config_window(const WalkInConfig *config, const char *name)
{
	for (guint i = 0; i < config->windows->len; i++) {
		const WalkInWindow *window = config->windows->pdata[i];

		if (g_strcmp0(window->name, name) == 0)
			return window;
	}
	return NULL;
}

gboolean
walk_in_config_has_reason(const WalkInConfig *config, const char *reason)
{
	return g_strv_contains((const char *const *)config->reasons, reason);
}
