/* Home hospital: reading and checking a base's configuration keys. */
#include "home-hospital.h"

#include <string.h>

#define DEFAULT_EPISODE "iv-q24h"

static void
base_free(gpointer data)
{
	HhBase *base = data;

	for (guint i = 0; i < base->n_shifts; i++)
		hh_shift_clear(&base->shifts[i]);
	g_free(base->shifts);
	g_free(base->episodes);
	g_strfreev(base->covers);
	g_free(base);
}

const HhBase *
hh_base(const SlotdOffering *offering)
{
	return slotd_offering_get_data(offering);
}

gboolean
hh_base_covers(const HhBase *base, const char *municipality)
{
	return municipality &&
	       g_strv_contains((const char *const *)base->covers, municipality);
}

const HhEpisode *
hh_base_episode(const HhBase *base, const char *name)
{
	for (guint i = 0; i < base->n_episodes; i++) {
		if (strcmp(base->episodes[i].name, name) == 0)
			return &base->episodes[i];
	}
	return NULL;
}

const HhShift *
hh_base_shift(const HhBase *base, const char *name)
{
	for (guint i = 0; i < base->n_shifts; i++) {
		if (strcmp(base->shifts[i].name, name) == 0)
			return &base->shifts[i];
	}
	return NULL;
}

char *
hh_base_describe_swedish(const HhBase *base)
{
	g_autoptr(GString) text = g_string_new(NULL);

	for (guint i = 0; i < base->n_shifts; i++) {
		const HhShift *shift = &base->shifts[i];
		int end = shift->start_minute + shift->owned_minutes;

		if (!shift->swedish)
			continue;
		end %= HH_MINUTES_PER_DAY;
		g_string_append_printf(text, "%s%s (%02d:%02d-%02d:%02d)",
				       text->len ? ", " : "", shift->name,
				       shift->start_minute / 60,
				       shift->start_minute % 60, end / 60,
				       end % 60);
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

/* ---- shifts: the offering's windows ---------------------------------- */

/* The window times are core keys; the SDK hands shape() one occurrence
 * at a time, so the times of day are read here to know where each
 * shift's handover ends. */
static gboolean
read_shift(SlotdOffering *offering, const char *name, HhShift *ret_shift,
	   GError **error)
{
	g_autofree char *key = g_strdup_printf("window-%s", name);
	g_autofree char *capacity_key = g_strdup_printf("capacity-%s", name);
	g_autofree char *text = NULL;
	gint64 nurses;
	int start, end;

	if (!slotd_offering_get_string(offering, key, NULL, &text, error) ||
	    !slotd_offering_get_int(offering, capacity_key,
				    slotd_offering_seats(offering), 0, 1000,
				    &nurses, error))
		return FALSE;
	if (!text || !hh_parse_window_times(text, &start, &end)) {
		slotd_offering_config_error(offering, key, error,
					    "a shift needs HH:MM-HH:MM RRULE, "
					    "e.g. 07:00-15:30 FREQ=DAILY");
		return FALSE;
	}
	ret_shift->name = g_strdup(name);
	ret_shift->start_minute = start;
	ret_shift->length_minutes = end - start;
	ret_shift->nurses = (guint)nurses;
	return TRUE;
}

static gboolean
read_shifts(SlotdOffering *offering, HhBase *base, GError **error)
{
	const char *const *names = slotd_offering_windows(offering);
	guint n = names ? g_strv_length((char **)names) : 0;

	base->shifts = g_new0(HhShift, MAX(n, 1));
	for (guint i = 0; i < n; i++) {
		if (!read_shift(offering, names[i], &base->shifts[i], error))
			return FALSE;
		base->n_shifts++;
		for (guint j = 0; j < i; j++) {
			if (base->shifts[j].start_minute !=
			    base->shifts[i].start_minute)
				continue;
			g_autofree char *key =
				g_strdup_printf("window-%s", names[i]);
			slotd_offering_config_error(
				offering, key, error,
				"shifts %s and %s start at the same time; "
				"give each shift its own start",
				names[j], names[i]);
			return FALSE;
		}
	}
	hh_shifts_assign_ownership(base->shifts, base->n_shifts);
	return TRUE;
}

/* Default: every shift has Swedish when the base offers Swedish. */
static gboolean
read_swedish_shifts(SlotdOffering *offering, HhBase *base, GError **error)
{
	gboolean has_sv = slotd_offering_has_language(offering, "sv");
	g_auto(GStrv) names = NULL;

	if (!slotd_offering_get_string_list(offering, "swedish-shifts", &names,
					    error))
		return FALSE;
	for (guint i = 0; i < base->n_shifts; i++)
		base->shifts[i].swedish = has_sv && !names;
	for (guint i = 0; names && names[i]; i++) {
		HhShift *shift = (HhShift *)hh_base_shift(base, names[i]);

		if (!shift) {
			slotd_offering_config_error(
				offering, "swedish-shifts", error,
				"\"%s\" is not one of this base's windows",
				names[i]);
			return FALSE;
		}
		if (!has_sv) {
			slotd_offering_config_error(
				offering, "swedish-shifts", error,
				"the base lists Swedish-speaking shifts but "
				"not sv in languages; add sv or drop the key");
			return FALSE;
		}
		shift->swedish = TRUE;
	}
	return TRUE;
}

/* ---- coverage ---------------------------------------------------------- */

static gboolean
read_covers(SlotdOffering *offering, HhBase *base, GError **error)
{
	const char *home = slotd_offering_municipality(offering);
	g_auto(GStrv) entries = NULL;
	g_autoptr(GPtrArray) codes = g_ptr_array_new_with_free_func(g_free);

	if (!slotd_offering_get_string_list(offering, "covers", &entries,
					    error))
		return FALSE;
	if (!entries) {
		base->covers = g_strdupv((char *[]){ (char *)home, NULL });
		return TRUE;
	}
	for (guint i = 0; entries[i]; i++) {
		char *code = hh_municipality_resolve(offering, entries[i]);

		if (!code) {
			slotd_offering_config_error(
				offering, "covers", error,
				"unknown municipality \"%s\"; use a code or "
				"a Finnish or Swedish name from the region",
				entries[i]);
			return FALSE;
		}
		g_ptr_array_add(codes, code);
	}
	g_ptr_array_add(codes, NULL);
	base->covers = (char **)g_ptr_array_steal(codes, NULL);
	return TRUE;
}

/* ---- episode templates ------------------------------------------------- */

static gboolean
check_episode(SlotdOffering *offering, const char *key, HhEpisode *episode,
	      GError **error)
{
	if (episode->interval_min == 0 || episode->visit == 0 ||
	    episode->days_max == 0) {
		slotd_offering_config_error(
			offering, key, error,
			"a template needs interval=, visit= and days=");
		return FALSE;
	}
	if (episode->tolerance >= episode->interval_min) {
		slotd_offering_config_error(
			offering, key, error,
			"the tolerance (%u min) must be shorter than the "
			"interval (%u min); set tolerance= or "
			"interval-tolerance-minutes",
			episode->tolerance, episode->interval_min);
		return FALSE;
	}
	episode->first_visit = MAX(episode->first_visit, 1);
	return TRUE;
}

static gboolean
read_episode(SlotdOffering *offering, const char *name, guint tolerance,
	     HhEpisode *ret, GError **error)
{
	const HhEpisode *builtin = hh_builtin_episode(name);
	g_autofree char *key = g_strdup_printf("episode-%s", name);
	g_autofree char *spec = NULL;
	g_autofree char *problem = NULL;

	if (strlen(name) >= HH_EPISODE_NAME_MAX) {
		slotd_offering_config_error(offering, "episodes", error,
					    "episode name \"%s\" is too long",
					    name);
		return FALSE;
	}
	*ret = builtin ? *builtin : (HhEpisode){ .days_min = 1 };
	g_strlcpy(ret->name, name, sizeof(ret->name));
	ret->tolerance = tolerance;
	if (!slotd_offering_get_string(offering, key, NULL, &spec, error))
		return FALSE;
	if (!spec && !builtin) {
		slotd_offering_config_error(
			offering, "episodes", error,
			"episode \"%s\" is not built in; define it with "
			"%s=interval=24h visit=40 first-visit=60 days=3-7",
			name, key);
		return FALSE;
	}
	if (spec && !hh_episode_parse(spec, ret, &problem)) {
		slotd_offering_config_error(offering, key, error, "%s",
					    problem);
		return FALSE;
	}
	return check_episode(offering, key, ret, error);
}

static gboolean
read_episodes(SlotdOffering *offering, HhBase *base, GError **error)
{
	g_auto(GStrv) names = NULL;
	g_autofree char *fallback = NULL;
	g_autofree char *chosen = NULL;
	gint64 tolerance;
	guint n_builtin;
	const HhEpisode *builtins = hh_builtin_episodes(&n_builtin);

	if (!slotd_offering_get_string_list(offering, "episodes", &names,
					    error) ||
	    !slotd_offering_get_int(offering, "interval-tolerance-minutes", 120,
				    0, 720, &tolerance, error))
		return FALSE;
	if (!names || !names[0]) {
		g_strfreev(names);
		names = g_new0(char *, n_builtin + 1);
		for (guint i = 0; i < n_builtin; i++)
			names[i] = g_strdup(builtins[i].name);
	}
	base->n_episodes = g_strv_length(names);
	base->episodes = g_new0(HhEpisode, base->n_episodes);
	for (guint i = 0; i < base->n_episodes; i++) {
		if (!read_episode(offering, names[i], (guint)tolerance,
				  &base->episodes[i], error))
			return FALSE;
	}
	fallback = g_strdup(hh_base_episode(base, DEFAULT_EPISODE)
				    ? DEFAULT_EPISODE
				    : base->episodes[0].name);
	if (!slotd_offering_get_string(offering, "default-episode", fallback,
				       &chosen, error))
		return FALSE;
	base->default_episode = hh_base_episode(base, chosen);
	if (!base->default_episode) {
		slotd_offering_config_error(offering, "default-episode", error,
					    "\"%s\" is not in episodes",
					    chosen);
		return FALSE;
	}
	return TRUE;
}

/* ---- the configure hook ------------------------------------------------ */

static gboolean
read_scalars(SlotdOffering *offering, HhBase *base, GError **error)
{
	gint64 per_day, history;

	if (!slotd_offering_get_int(offering, "max-visits-per-day", 3, 1, 24,
				    &per_day, error) ||
	    !slotd_offering_get_double(offering, "productive-share", 0.75, 0.1,
				       1.0, &base->productive_share, error) ||
	    !slotd_offering_get_int(offering, "history-days", 28, 7, 365,
				    &history, error))
		return FALSE;
	base->max_visits_per_day = (guint)per_day;
	base->history_days = (guint)history;
	return TRUE;
}

gboolean
hh_configure(SlotdOffering *offering, GError **error)
{
	HhBase *base = g_new0(HhBase, 1);

	/* Attached first so a failure part-way frees what was read. */
	slotd_offering_set_data(offering, base, base_free);
	if (!read_shifts(offering, base, error) ||
	    !read_swedish_shifts(offering, base, error) ||
	    !read_covers(offering, base, error) ||
	    !read_episodes(offering, base, error) ||
	    !read_scalars(offering, base, error))
		return FALSE;
	if (base->n_shifts == 0) {
		slotd_offering_config_error(offering, "windows", error,
					    "a home-hospital base needs its "
					    "shifts as windows");
		return FALSE;
	}
	return TRUE;
}
