/* Reading the configuration: the entry point, its includes and the
 * service directory, parsed and checked into one Region snapshot.
 * Nothing partial escapes: the first error drops the whole snapshot, so
 * a reload with a typo leaves the running configuration alone. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "calendar.h"
#include "validate.h"
#include "slotd-config.h"

/* The format's documented default; SLOTD_STATEDIR is only taken when
 * meson made it absolute (a relative localstatedir means "under the
 * prefix", which the daemon cannot know at run time). */
#define FALLBACK_STATE_DIR "/var/lib/slotd"

typedef enum {
	GROUP_UNKNOWN,
	GROUP_DAEMON,
	GROUP_ACCESS,
	GROUP_REGION,
	GROUP_TRAVEL,
	GROUP_MUNICIPALITY,
	GROUP_UNIT,
	GROUP_SERVICE,
	GROUP_OFFERING,
	GROUP_PRACTITIONER,
	GROUP_ROOM,
	GROUP_VEHICLE,
} GroupKind;

static const struct {
	const char *word;
	GroupKind kind;
	guint n_ids;
	const char *shape;
} group_kinds[] = {
	{ "daemon", GROUP_DAEMON, 0, "[daemon]" },
	{ "access", GROUP_ACCESS, 0, "[access]" },
	{ "region", GROUP_REGION, 0, "[region]" },
	{ "travel", GROUP_TRAVEL, 0, "[travel]" },
	{ "municipality", GROUP_MUNICIPALITY, 1, "[municipality CODE]" },
	{ "unit", GROUP_UNIT, 1, "[unit ID]" },
	{ "service", GROUP_SERVICE, 1, "[service ID]" },
	{ "offering", GROUP_OFFERING, 2, "[offering UNIT SERVICE]" },
	{ "practitioner", GROUP_PRACTITIONER, 1, "[practitioner ID]" },
	{ "room", GROUP_ROOM, 1, "[room ID]" },
	{ "vehicle", GROUP_VEHICLE, 1, "[vehicle ID]" },
};

typedef struct {
	GKeyFile *keyfile; /* owned by region->keyfiles */
	char *name;	   /* as shown in messages */
} ConfigFile;

typedef struct {
	Region *region;
	const ConfigOptions *options;
	char *base_dir;		  /* the entry point's directory */
	GPtrArray *files;	  /* of ConfigFile, in reading order */
	GHashTable *group_files;  /* group name -> file name (borrowed) */
	guint *given_travel;	  /* n*n minutes as written, G_MAXUINT */
	const char *travel_file;  /* where [travel] is, borrowed */
} Loader;

typedef gboolean (*GroupParser)(Loader *loader, const ConfigGroup *group,
				char **words, GError **error);

static void
config_file_free(ConfigFile *file)
{
	g_free(file->name);
	g_free(file);
}

static void
loader_clear(Loader *loader)
{
	g_clear_pointer(&loader->region, region_unref);
	g_free(loader->base_dir);
	g_clear_pointer(&loader->files, g_ptr_array_unref);
	g_clear_pointer(&loader->group_files, g_hash_table_unref);
	g_free(loader->given_travel);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Loader, loader_clear)

/* Refuses typos: every key must be in `known` or `more`. */
static gboolean
check_keys(const ConfigGroup *group, const char *const *known,
	   const char *const *more, const char *hint, GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(group->keyfile, group->group,
						 NULL, NULL);
	g_autofree char *expected = NULL;

	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (g_strv_contains(known, keys[i]) ||
		    (more != NULL && g_strv_contains(more, keys[i])))
			continue;
		expected = g_strjoinv(", ", (char **)known);
		return config_set_error(error, group->file, group->group,
					keys[i], "unknown key; expected %s%s",
					expected, hint != NULL ? hint : "");
	}
	return TRUE;
}

/* ---- reading files -------------------------------------------------- */

static GroupKind
classify_group(const char *group, char ***ret_words)
{
	g_auto(GStrv) words = g_strsplit(group, " ", -1);

	for (guint i = 0; i < G_N_ELEMENTS(group_kinds); i++) {
		if (g_strcmp0(words[0], group_kinds[i].word) != 0)
			continue;
		if (g_strv_length(words) != group_kinds[i].n_ids + 1)
			return GROUP_UNKNOWN;
		*ret_words = g_steal_pointer(&words);
		return group_kinds[i].kind;
	}
	return GROUP_UNKNOWN;
}

static gboolean
refuse_group(const ConfigFile *file, const char *group, GError **error)
{
	g_autofree char *word = g_strndup(group, strcspn(group, " "));

	for (guint i = 0; i < G_N_ELEMENTS(group_kinds); i++) {
		if (g_str_equal(word, group_kinds[i].word))
			return config_set_error(error, file->name, group,
						NULL, "malformed group; "
						"expected %s",
						group_kinds[i].shape);
	}
	return config_set_error(error, file->name, group, NULL,
				"unknown group; expected [daemon], [access], "
				"[region], [travel], [municipality CODE], "
				"[unit ID], [service ID], "
				"[offering UNIT SERVICE], [practitioner ID], "
				"[room ID] or [vehicle ID]");
}

/* Kinds and ids of every group, and no group in two files. */
static gboolean
scan_groups(Loader *loader, const ConfigFile *file, gboolean entry,
	    GError **error)
{
	g_auto(GStrv) groups = g_key_file_get_groups(file->keyfile, NULL);

	for (guint i = 0; groups[i] != NULL; i++) {
		g_auto(GStrv) words = NULL;
		GroupKind kind = classify_group(groups[i], &words);
		const char *other;

		if (kind == GROUP_UNKNOWN)
			return refuse_group(file, groups[i], error);
		for (guint w = 1; words[w] != NULL; w++) {
			if (!config_id_is_valid(words[w]))
				return config_set_error(
					error, file->name, groups[i], NULL,
					"\"%s\" is not an id; use 1 to 64 of "
					"A-Z a-z 0-9 . _ -", words[w]);
		}
		if (kind == GROUP_DAEMON && !entry)
			return config_set_error(error, file->name, groups[i],
						NULL, "only allowed in the "
						"entry point");
		other = g_hash_table_lookup(loader->group_files, groups[i]);
		if (other != NULL)
			return config_set_error(error, file->name, groups[i],
						NULL, "defined twice; also "
						"in %s", other);
		g_hash_table_insert(loader->group_files, g_strdup(groups[i]),
				    file->name);
	}
	return TRUE;
}

/* Reads one file; GLib's file errors are left to the caller, which
 * knows which key named the file. */
static ConfigFile *
load_file(Loader *loader, const char *path, const char *name,
	  GError **error)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autoptr(GError) local = NULL;
	ConfigFile *file;

	if (!g_key_file_load_from_file(keyfile, path, G_KEY_FILE_NONE,
				       &local)) {
		if (local->domain != G_KEY_FILE_ERROR) {
			g_propagate_error(error, g_steal_pointer(&local));
			return NULL;
		}
		config_set_error(error, name, NULL, NULL, "%s", local->message);
		return NULL;
	}
	file = g_new0(ConfigFile, 1);
	file->keyfile = keyfile;
	file->name = g_strdup(name);
	g_ptr_array_add(loader->region->keyfiles, g_steal_pointer(&keyfile));
	g_ptr_array_add(loader->files, file);
	return file;
}

/* Loads and scans a file named by a key of the entry point. */
static gboolean
load_named_file(Loader *loader, const ConfigGroup *by, const char *key,
		const char *path, const char *name, GError **error)
{
	g_autoptr(GError) local = NULL;
	ConfigFile *file = load_file(loader, path, name, &local);

	if (file == NULL && local->domain == SLOTD_ERROR) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	if (file == NULL)
		return config_set_error(error, by->file, by->group, key,
					"cannot read %s: %s", name,
					local->message);
	return scan_groups(loader, file, FALSE, error);
}

static char *
resolve_path(const Loader *loader, const char *path)
{
	if (path == NULL || g_path_is_absolute(path))
		return g_strdup(path);
	return g_build_filename(loader->base_dir, path, NULL);
}

static gboolean
load_includes(Loader *loader, const ConfigGroup *daemon, GError **error)
{
	g_auto(GStrv) includes = NULL;

	if (!config_read_list(daemon, "include", &includes, error))
		return FALSE;
	for (guint i = 0; includes != NULL && includes[i] != NULL; i++) {
		g_autofree char *path = resolve_path(loader, includes[i]);

		for (guint j = 0; j < i; j++) {
			if (g_str_equal(includes[i], includes[j]))
				return config_set_error(
					error, daemon->file, daemon->group,
					"include", "\"%s\" is listed twice",
					includes[i]);
		}
		if (!load_named_file(loader, daemon, "include", path,
				     includes[i], error))
			return FALSE;
	}
	return TRUE;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every *.conf of the directory, in name order, so the reading order
 * (and thus "first defined in") is the same on every machine. */
static gboolean
load_service_dir(Loader *loader, const ConfigGroup *daemon, GError **error)
{
	g_autofree char *dir_name = NULL;
	g_autofree char *path = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) local = NULL;
	g_autoptr(GDir) dir = NULL;
	const char *entry;

	if (!config_read_string(daemon, "service-dir", NULL, &dir_name, error))
		return FALSE;
	if (dir_name == NULL || *dir_name == '\0')
		return TRUE;
	path = resolve_path(loader, dir_name);
	dir = g_dir_open(path, 0, &local);
	if (dir == NULL)
		return config_set_error(error, daemon->file, daemon->group,
					"service-dir", "cannot open %s: %s",
					path, local->message);
	while ((entry = g_dir_read_name(dir)) != NULL) {
		if (entry[0] != '.' && g_str_has_suffix(entry, ".conf"))
			g_ptr_array_add(names, g_strdup(entry));
	}
	g_ptr_array_sort(names, compare_names);
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *file_path =
			g_build_filename(path, names->pdata[i], NULL);
		g_autofree char *name =
			g_build_filename(dir_name, names->pdata[i], NULL);

		if (!load_named_file(loader, daemon, "service-dir", file_path,
				     name, error))
			return FALSE;
	}
	return TRUE;
}

/* ---- [daemon], [access], [region] ----------------------------------- */

static const char *const daemon_keys[] = {
	"state-dir", "plugin-dir", "include", "service-dir", "horizon-days",
	"hold-max-seconds", "http-address", "feed-export-dir",
	"feed-refresh-minutes", "cancelled-feed-days", "http-max-connections",
	"http-idle-seconds", "metrics-token", "report-max-days",
	"waitlist-offer-seconds", "outbox-lease-seconds", "reminder-offsets",
	"feed-cache-bytes", NULL,
};

/* A report's local days are worked out in SQL from at most four DST
 * changes (STORE_LOCAL_STEPS); any 728 days hold at most four. */
#define REPORT_DAYS_LIMIT 728

static gboolean
http_address_is_valid(const char *address)
{
	const char *colon = strrchr(address, ':');
	guint64 port;

	if (*address == '\0')
		return TRUE;
	if (colon == NULL || colon == address)
		return FALSE;
	return g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &port,
					  NULL);
}

static gboolean
parse_daemon_dirs(Loader *loader, const ConfigGroup *group, GError **error)
{
	DaemonConfig *daemon = &loader->region->daemon;
	const ConfigOptions *options = loader->options;
	g_autofree char *state_dir = NULL;
	g_autofree char *plugin_dir = NULL;
	g_autofree char *export_dir = NULL;

	if (!config_read_string(group, "state-dir", NULL, &state_dir, error) ||
	    !config_read_string(group, "plugin-dir", NULL, &plugin_dir,
				error) ||
	    !config_read_string(group, "feed-export-dir", NULL, &export_dir,
				error))
		return FALSE;
	if (options->state_dir != NULL)
		daemon->state_dir = g_strdup(options->state_dir);
	else if (state_dir != NULL && *state_dir != '\0')
		daemon->state_dir = resolve_path(loader, state_dir);
	else if (g_path_is_absolute(SLOTD_STATEDIR))
		daemon->state_dir = g_strdup(SLOTD_STATEDIR);
	else
		daemon->state_dir = g_strdup(FALLBACK_STATE_DIR);
	if (options->plugin_dir != NULL)
		daemon->plugin_dir = g_strdup(options->plugin_dir);
	else if (plugin_dir != NULL && *plugin_dir != '\0')
		daemon->plugin_dir = resolve_path(loader, plugin_dir);
	else
		daemon->plugin_dir = g_strdup(SLOTD_PLUGINDIR);
	if (export_dir != NULL && *export_dir != '\0')
		daemon->feed_export_dir = resolve_path(loader, export_dir);
	return TRUE;
}

/* "24h;2h": seconds (s), minutes (m), hours (h) or days (d) before a
 * booking's start, each at most 30 days, kept largest first. */
static gboolean
parse_offset(const char *text, guint *ret_seconds)
{
	static const struct {
		char unit;
		guint seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	gsize len = strlen(text);
	g_autofree char *digits = NULL;
	guint64 n;

	if (len < 2)
		return FALSE;
	digits = g_strndup(text, len - 1);
	if (!g_ascii_string_to_unsigned(digits, 10, 1, 30 * 86400, &n, NULL))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(units); i++)
		if (text[len - 1] == units[i].unit &&
		    n * units[i].seconds <= 30 * 86400) {
			*ret_seconds = n * units[i].seconds;
			return TRUE;
		}
	return FALSE;
}

static gint
compare_offsets(gconstpointer a, gconstpointer b)
{
	guint x = *(const guint *)a, y = *(const guint *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static gboolean
parse_reminder_offsets(const ConfigGroup *group, DaemonConfig *daemon,
		       GError **error)
{
	g_auto(GStrv) items = NULL;

	if (!config_read_list(group, "reminder-offsets", &items, error))
		return FALSE;
	daemon->n_reminder_offsets = 0;
	if (items == NULL) {
		/* The day before and two hours before. */
		daemon->reminder_offsets[0] = 86400;
		daemon->reminder_offsets[1] = 7200;
		daemon->n_reminder_offsets = 2;
		return TRUE;
	}
	for (guint i = 0; items[i] != NULL; i++) {
		guint seconds;

		if (i >= REMINDER_OFFSETS_MAX)
			return config_set_error(error, group->file,
						group->group,
						"reminder-offsets",
						"at most %d offsets",
						REMINDER_OFFSETS_MAX);
		if (!parse_offset(items[i], &seconds))
			return config_set_error(
				error, group->file, group->group,
				"reminder-offsets", "\"%s\" is not an offset; "
				"expected a number and s, m, h or d (at most "
				"30 days), e.g. 24h;2h, or empty for none",
				items[i]);
		for (guint j = 0; j < daemon->n_reminder_offsets; j++)
			if (daemon->reminder_offsets[j] == seconds)
				return config_set_error(
					error, group->file, group->group,
					"reminder-offsets",
					"\"%s\" is listed twice", items[i]);
		daemon->reminder_offsets[daemon->n_reminder_offsets++] =
			seconds;
	}
	qsort(daemon->reminder_offsets, daemon->n_reminder_offsets,
	      sizeof(guint), compare_offsets);
	return TRUE;
}

static gboolean
parse_daemon(Loader *loader, const ConfigGroup *group, GError **error)
{
	DaemonConfig *daemon = &loader->region->daemon;

	if (!check_keys(group, daemon_keys, NULL, NULL, error) ||
	    !parse_daemon_dirs(loader, group, error) ||
	    !config_read_uint(group, "horizon-days", 120, 7, 730,
			      &daemon->horizon_days, error) ||
	    !config_read_uint(group, "hold-max-seconds", 900, 10, 86400,
			      &daemon->hold_max_seconds, error) ||
	    !config_read_uint(group, "feed-refresh-minutes", 15, 1, 1440,
			      &daemon->feed_refresh_minutes, error) ||
	    !config_read_uint(group, "cancelled-feed-days", 14, 0, 366,
			      &daemon->cancelled_feed_days, error) ||
	    !config_read_uint(group, "feed-cache-bytes", 32 * 1024 * 1024,
			      1024 * 1024, G_MAXUINT,
			      &daemon->feed_cache_bytes, error) ||
	    !config_read_uint(group, "http-max-connections", 256, 1, 65536,
			      &daemon->http_max_connections, error) ||
	    !config_read_uint(group, "http-idle-seconds", 30, 1, 3600,
			      &daemon->http_idle_seconds, error) ||
	    !config_read_uint(group, "report-max-days", 400, 1,
			      REPORT_DAYS_LIMIT, &daemon->report_max_days,
			      error) ||
	    !config_read_string(group, "http-address", "127.0.0.1:8470",
				&daemon->http_address, error) ||
	    !config_read_string(group, "metrics-token", "",
				&daemon->metrics_token, error) ||
	    !config_read_uint(group, "waitlist-offer-seconds", 900, 1, 86400,
			      &daemon->waitlist_offer_seconds, error) ||
	    !config_read_uint(group, "outbox-lease-seconds", 120, 1, 86400,
			      &daemon->outbox_lease_seconds, error) ||
	    !parse_reminder_offsets(group, daemon, error))
		return FALSE;
	if (!http_address_is_valid(daemon->http_address))
		return config_set_error(error, group->file, group->group,
					"http-address", "\"%s\" is not an "
					"address; expected HOST:PORT, e.g. "
					"127.0.0.1:8470, or empty for none",
					daemon->http_address);
	return TRUE;
}

/* Loads the entry point, reads its [daemon] group, then every file it
 * names. */
static gboolean
load_all_files(Loader *loader, GError **error)
{
	const char *path = loader->options->config_file;
	g_autofree char *name = g_path_get_basename(path);
	g_autoptr(GError) local = NULL;
	ConfigFile *entry = load_file(loader, path, name, &local);
	ConfigGroup daemon;

	if (entry == NULL && local->domain == SLOTD_ERROR) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	if (entry == NULL)
		return config_set_error(error, path, NULL, NULL,
					"cannot read: %s", local->message);
	if (!scan_groups(loader, entry, TRUE, error))
		return FALSE;
	daemon = (ConfigGroup){ entry->keyfile, entry->name, "daemon" };
	return parse_daemon(loader, &daemon, error) &&
	       load_includes(loader, &daemon, error) &&
	       load_service_dir(loader, &daemon, error);
}

static gboolean
parse_group_names(const ConfigGroup *group, const char *key,
		  char ***ret_value, GError **error)
{
	g_auto(GStrv) names = NULL;

	if (!config_read_id_list(group, key, &names, error))
		return FALSE;
	*ret_value = names != NULL ? g_steal_pointer(&names)
				   : g_new0(char *, 1);
	return TRUE;
}

static gboolean
parse_access(Loader *loader, const ConfigGroup *group, char **words,
	     GError **error)
{
	static const char *const keys[] = {
		"read-groups", "book-groups", "admin-groups",
		"planner-groups", "gateway-groups", NULL,
	};
	AccessConfig *access = &loader->region->daemon.access;

	g_clear_pointer(&access->read_groups, g_strfreev);
	g_clear_pointer(&access->book_groups, g_strfreev);
	g_clear_pointer(&access->admin_groups, g_strfreev);
	g_clear_pointer(&access->planner_groups, g_strfreev);
	g_clear_pointer(&access->gateway_groups, g_strfreev);
	if (!check_keys(group, keys, NULL, NULL, error) ||
	    !parse_group_names(group, "read-groups", &access->read_groups,
			       error) ||
	    !parse_group_names(group, "book-groups", &access->book_groups,
			       error) ||
	    !parse_group_names(group, "admin-groups", &access->admin_groups,
			       error) ||
	    !parse_group_names(group, "planner-groups",
			       &access->planner_groups, error) ||
	    !parse_group_names(group, "gateway-groups",
			       &access->gateway_groups, error))
		return FALSE;
	g_free(access->groups_read);
	access->groups_read = g_strjoinv(",", access->read_groups);
	return TRUE;
}

static gboolean
parse_region(Loader *loader, const ConfigGroup *group, char **words,
	     GError **error)
{
	static const char *const keys[] = { "id", "name-fi", "name-sv", NULL };
	DaemonConfig *daemon = &loader->region->daemon;

	if (!check_keys(group, keys, NULL, NULL, error) ||
	    !config_require_string(group, "id", "an id such as nyland",
				   &daemon->region_id, error) ||
	    !config_require_string(group, "name-fi", "the Finnish name",
				   &daemon->region_name_fi, error) ||
	    !config_require_string(group, "name-sv", "the Swedish name",
				   &daemon->region_name_sv, error))
		return FALSE;
	if (!config_id_is_valid(daemon->region_id))
		return config_set_error(error, group->file, group->group, "id",
					"\"%s\" is not an id; use 1 to 64 of "
					"A-Z a-z 0-9 . _ -", daemon->region_id);
	return TRUE;
}

/* ---- [municipality CODE] -------------------------------------------- */

static gboolean
parse_language_status(const ConfigGroup *group, LanguageStatus *ret_status,
		      GError **error)
{
	static const LanguageStatus all[] = {
		LANGUAGE_STATUS_FINNISH, LANGUAGE_STATUS_BILINGUAL_FI,
		LANGUAGE_STATUS_BILINGUAL_SV, LANGUAGE_STATUS_SWEDISH,
	};
	const char *expected = "finnish, bilingual-fi, bilingual-sv or swedish";
	g_autofree char *text = NULL;

	if (!config_require_string(group, "language-status", expected, &text,
				   error))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(all); i++) {
		if (g_str_equal(text, language_status_to_string(all[i]))) {
			*ret_status = all[i];
			return TRUE;
		}
	}
	return config_set_error(error, group->file, group->group,
				"language-status", "unknown status \"%s\"; "
				"use %s", text, expected);
}

/* A name must find one municipality only, whichever language it is
 * typed in. */
static gboolean
check_name_free(Loader *loader, const ConfigGroup *group, const char *key,
		const char *name, GError **error)
{
	const Municipality *other =
		region_find_municipality(loader->region, name);

	if (other == NULL)
		return TRUE;
	return config_set_error(error, group->file, group->group, key,
				"\"%s\" is already a name of municipality %s",
				name, other->code);
}

static gboolean
is_municipality_code(const char *code)
{
	return strlen(code) == 3 && g_ascii_isdigit(code[0]) &&
	       g_ascii_isdigit(code[1]) && g_ascii_isdigit(code[2]);
}

static gboolean
parse_municipality(Loader *loader, const ConfigGroup *group, char **words,
		   GError **error)
{
	static const char *const keys[] = {
		"name-fi", "name-sv", "area", "language-status",
		"internal-travel-minutes", NULL,
	};
	g_autoptr(Municipality) municipality = g_new0(Municipality, 1);

	if (!is_municipality_code(words[1]))
		return config_set_error(error, group->file, group->group, NULL,
					"\"%s\" is not a municipality code; "
					"expected the three digits of "
					"Statistics Finland, e.g. 049",
					words[1]);
	municipality->code = g_strdup(words[1]);
	if (!check_keys(group, keys, NULL, NULL, error) ||
	    !config_require_string(group, "name-fi", "the Finnish name",
				   &municipality->name_fi, error) ||
	    !config_read_string(group, "name-sv", municipality->name_fi,
				&municipality->name_sv, error) ||
	    !config_require_string(group, "area", "west or east",
				   &municipality->area, error) ||
	    !parse_language_status(group, &municipality->language_status,
				   error) ||
	    !config_read_uint(group, "internal-travel-minutes", 15, 0, 600,
			      &municipality->internal_travel_minutes, error))
		return FALSE;
	if (!g_str_equal(municipality->area, "west") &&
	    !g_str_equal(municipality->area, "east"))
		return config_set_error(error, group->file, group->group,
					"area", "unknown area \"%s\"; use "
					"west or east", municipality->area);
	if (*municipality->name_sv == '\0') {
		g_free(municipality->name_sv);
		municipality->name_sv = g_strdup(municipality->name_fi);
	}
	if (!check_name_free(loader, group, "name-fi",
			     municipality->name_fi, error))
		return FALSE;
	if (g_strcmp0(municipality->name_sv, municipality->name_fi) != 0 &&
	    !check_name_free(loader, group, "name-sv", municipality->name_sv,
			     error))
		return FALSE;
	region_add_municipality(loader->region, g_steal_pointer(&municipality));
	return TRUE;
}

/* ---- [travel] -------------------------------------------------------- */

static gboolean
parse_travel_pair(Loader *loader, const ConfigGroup *group, const char *key,
		  GError **error)
{
	g_auto(GStrv) codes = g_strsplit(key, "-", -1);
	const Municipality *from, *to;
	guint n = loader->region->municipalities->len;
	guint minutes, *given;

	if (g_strv_length(codes) != 2)
		return config_set_error(error, group->file, group->group, key,
					"expected CODE-CODE=MINUTES, e.g. "
					"049-444=35");
	from = g_hash_table_lookup(loader->region->municipality_by_code,
				   codes[0]);
	to = g_hash_table_lookup(loader->region->municipality_by_code,
				 codes[1]);
	if (from == NULL || to == NULL)
		return config_set_error(error, group->file, group->group, key,
					"unknown municipality code \"%s\"; "
					"define [municipality %s] first",
					from == NULL ? codes[0] : codes[1],
					from == NULL ? codes[0] : codes[1]);
	if (from == to)
		return config_set_error(error, group->file, group->group, key,
					"travel within a municipality is its "
					"internal-travel-minutes");
	if (!config_read_uint(group, key, 0, 1, 1440, &minutes, error))
		return FALSE;
	given = &loader->given_travel[from->index * n + to->index];
	if (*given != G_MAXUINT && *given != minutes)
		return config_set_error(error, group->file, group->group, key,
					"the pair is given twice with "
					"different minutes (%u and %u); "
					"travel is symmetric", *given, minutes);
	*given = minutes;
	loader->given_travel[to->index * n + from->index] = minutes;
	return TRUE;
}

static gboolean
parse_travel(Loader *loader, const ConfigGroup *group, char **words,
	     GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(group->keyfile, group->group,
						 NULL, NULL);

	loader->travel_file = group->file;
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!parse_travel_pair(loader, group, keys[i], error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
complete_travel(Loader *loader, GError **error)
{
	const Municipality *from, *to;
	guint from_index, to_index;

	if (region_set_travel(loader->region, loader->given_travel,
			      &from_index, &to_index))
		return TRUE;
	from = loader->region->municipalities->pdata[from_index];
	to = loader->region->municipalities->pdata[to_index];
	return config_set_error(error, loader->travel_file, "travel", NULL,
				"no path from %s %s to %s %s; add a pair "
				"joining them", from->code, from->name_fi,
				to->code, to->name_fi);
}

/* ---- [unit ID] ------------------------------------------------------- */

static gboolean
parse_closure(const ConfigGroup *group, const char *text, Closure *closure,
	      GError **error)
{
	const char *dots = strstr(text, "..");
	g_autofree char *first_text =
		g_strndup(text, dots != NULL ? (gsize)(dots - text)
					     : strlen(text));
	const char *last_text = dots != NULL ? dots + 2 : text;
	GDate first, last;

	if (!config_parse_date(first_text, &first) ||
	    !config_parse_date(last_text, &last))
		return config_set_error(error, group->file, group->group,
					"closures", "\"%s\" is not a date or "
					"range; expected YYYY-MM-DD or "
					"YYYY-MM-DD..YYYY-MM-DD", text);
	if (g_date_compare(&first, &last) > 0)
		return config_set_error(error, group->file, group->group,
					"closures", "\"%s\" ends before it "
					"starts; expected FROM..TO with FROM "
					"not after TO", text);
	closure->year = g_date_get_year(&first);
	closure->month = g_date_get_month(&first);
	closure->day = g_date_get_day(&first);
	closure->end_year = g_date_get_year(&last);
	closure->end_month = g_date_get_month(&last);
	closure->end_day = g_date_get_day(&last);
	return TRUE;
}

static gboolean
parse_closures(const ConfigGroup *group, Unit *unit, GError **error)
{
	g_auto(GStrv) items = NULL;

	unit->closures = g_array_new(FALSE, TRUE, sizeof(Closure));
	if (!config_read_list(group, "closures", &items, error))
		return FALSE;
	for (guint i = 0; items != NULL && items[i] != NULL; i++) {
		Closure closure;

		if (!parse_closure(group, items[i], &closure, error))
			return FALSE;
		g_array_append_val(unit->closures, closure);
	}
	return TRUE;
}

static gboolean
parse_unit_municipality(Loader *loader, const ConfigGroup *group, Unit *unit,
			GError **error)
{
	g_autofree char *text = NULL;
	const Municipality *municipality;

	if (!config_require_string(group, "municipality",
				   "a municipality code or name", &text, error))
		return FALSE;
	municipality = region_find_municipality(loader->region, text);
	if (municipality == NULL)
		return config_set_error(error, group->file, group->group,
					"municipality", "unknown municipality "
					"\"%s\"; use the code or the Finnish "
					"or Swedish name of a [municipality "
					"CODE] group", text);
	unit->municipality = g_strdup(municipality->code);
	return TRUE;
}

static gboolean
parse_unit(Loader *loader, const ConfigGroup *group, char **words,
	   GError **error)
{
	static const char *const keys[] = {
		"municipality", "title-fi", "title-sv", "languages",
		"closures", NULL,
	};
	g_autoptr(Unit) unit = g_new0(Unit, 1);

	unit->id = g_strdup(words[1]);
	unit->source_file = g_strdup(group->file);
	unit->group = g_strdup(group->group);
	if (!check_keys(group, keys, NULL, NULL, error) ||
	    !parse_unit_municipality(loader, group, unit, error) ||
	    !config_require_string(group, "title-fi", "the Finnish title",
				   &unit->title_fi, error) ||
	    !config_require_string(group, "title-sv", "the Swedish title",
				   &unit->title_sv, error) ||
	    !config_read_languages(group, "languages", &unit->languages,
				   error) ||
	    !parse_closures(group, unit, error))
		return FALSE;
	if (unit->languages == NULL)
		return config_set_error(error, group->file, group->group,
					"languages", "missing; expected one or "
					"more of fi, sv, en");
	region_add_unit(loader->region, g_steal_pointer(&unit));
	return TRUE;
}

/* ---- [service ID] ---------------------------------------------------- */

static gboolean
parse_deadline_amount(const ConfigGroup *group, const char *key,
		      DeadlineRule *rule, GError **error)
{
	static const char *const units[] = {
		"calendar-days", "working-days", "months",
	};
	const char *expected = "AMOUNT calendar-days|working-days|months, "
			       "e.g. 7 working-days";
	g_autofree char *text = NULL;
	g_auto(GStrv) words = NULL;
	guint64 amount;

	if (!config_require_string(group, key, expected, &text, error))
		return FALSE;
	words = g_strsplit_set(text, " \t", -1);
	if (g_strv_length(words) == 2 &&
	    g_ascii_string_to_unsigned(words[0], 10, 1, 3650, &amount, NULL)) {
		for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
			if (g_str_equal(words[1], units[i])) {
				rule->unit = (DeadlineUnit)i;
				rule->amount = (guint)amount;
				return TRUE;
			}
		}
	}
	return config_set_error(error, group->file, group->group, key,
				"\"%s\" is not a deadline; expected %s", text,
				expected);
}

static gboolean
parse_age_bound(const char *text, int *ret_age)
{
	guint64 age;

	if (*text == '\0') {
		*ret_age = -1;
		return TRUE;
	}
	if (!g_ascii_string_to_unsigned(text, 10, 0, 150, &age, NULL))
		return FALSE;
	*ret_age = (int)age;
	return TRUE;
}

static gboolean
parse_deadline_ages(const ConfigGroup *group, const char *key,
		    DeadlineRule *rule, GError **error)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) bounds = NULL;

	rule->min_age = rule->max_age = -1;
	if (!config_read_string(group, key, NULL, &text, error))
		return FALSE;
	if (text == NULL)
		return TRUE;
	bounds = g_strsplit(text, "-", -1);
	if (g_strv_length(bounds) != 2 || g_str_equal(text, "-") ||
	    !parse_age_bound(bounds[0], &rule->min_age) ||
	    !parse_age_bound(bounds[1], &rule->max_age) ||
	    (rule->max_age >= 0 && rule->min_age > rule->max_age))
		return config_set_error(error, group->file, group->group, key,
					"\"%s\" is not an age band; expected "
					"MIN-MAX, MIN- or -MAX in years, e.g. "
					"75- or -22", text);
	return TRUE;
}

static gboolean
parse_deadline_dates(const ConfigGroup *group, const char *name,
		     DeadlineRule *rule, GError **error)
{
	g_autofree char *from_key = g_strdup_printf("deadline-%s-from", name);
	g_autofree char *until_key = g_strdup_printf("deadline-%s-until", name);
	GDate from, until;

	if (!config_read_date(group, from_key, NULL, &from, error) ||
	    !config_read_date(group, until_key, NULL, &until, error))
		return FALSE;
	if (g_date_valid(&from) && g_date_valid(&until) &&
	    g_date_compare(&from, &until) > 0)
		return config_set_error(error, group->file, group->group,
					until_key, "ends before %s; expected "
					"a date not before it", from_key);
	if (g_date_valid(&from))
		rule->valid_from = calendar_local_to_utc(
			g_date_get_year(&from), g_date_get_month(&from),
			g_date_get_day(&from), 0, 0);
	/* valid_to is exclusive: the local midnight after the last day. */
	if (g_date_valid(&until)) {
		g_date_add_days(&until, 1);
		rule->valid_to = calendar_local_to_utc(
			g_date_get_year(&until), g_date_get_month(&until),
			g_date_get_day(&until), 0, 0);
	}
	return TRUE;
}

static gboolean
parse_deadline(const ConfigGroup *group, const char *name,
	       GPtrArray *deadlines, GError **error)
{
	g_autoptr(DeadlineRule) rule = g_new0(DeadlineRule, 1);
	g_autofree char *key = g_strdup_printf("deadline-%s", name);
	g_autofree char *ages_key = g_strdup_printf("deadline-%s-ages", name);
	g_autofree char *ref_key = g_strdup_printf("deadline-%s-ref", name);

	rule->id = g_strdup(name);
	if (!parse_deadline_amount(group, key, rule, error) ||
	    !parse_deadline_dates(group, name, rule, error) ||
	    !parse_deadline_ages(group, ages_key, rule, error) ||
	    !config_read_string(group, ref_key, NULL, &rule->reference,
				error))
		return FALSE;
	g_ptr_array_add(deadlines, g_steal_pointer(&rule));
	return TRUE;
}

/* The keys a service may have: the fixed ones plus five per deadline. */
static char **
deadline_keys(char **names)
{
	static const char *const suffixes[] = {
		"", "-from", "-until", "-ages", "-ref",
	};
	g_autoptr(GStrvBuilder) keys = g_strv_builder_new();

	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		for (guint s = 0; s < G_N_ELEMENTS(suffixes); s++) {
			g_autofree char *key = g_strdup_printf(
				"deadline-%s%s", names[i], suffixes[s]);

			g_strv_builder_add(keys, key);
		}
	}
	return g_strv_builder_end(keys);
}

static gboolean
parse_service(Loader *loader, const ConfigGroup *group, char **words,
	      GError **error)
{
	static const char *const keys[] = {
		"plugin", "title-fi", "title-sv", "deadlines", NULL,
	};
	g_autoptr(Service) service = g_new0(Service, 1);
	g_auto(GStrv) names = NULL;
	g_auto(GStrv) more = NULL;

	service->id = g_strdup(words[1]);
	service->source_file = g_strdup(group->file);
	service->group = g_strdup(group->group);
	service->deadlines = g_ptr_array_new_with_free_func(
		(GDestroyNotify)deadline_rule_free);
	if (!config_read_id_list(group, "deadlines", &names, error))
		return FALSE;
	more = deadline_keys(names);
	if (!check_keys(group, keys, (const char *const *)more,
			" or deadline-NAME keys of a NAME listed in deadlines",
			error) ||
	    !config_require_string(group, "plugin", "a service kind such "
				   "as fixed or home-hospital", &service->kind,
				   error) ||
	    !config_require_string(group, "title-fi", "the Finnish title",
				   &service->title_fi, error) ||
	    !config_require_string(group, "title-sv", "the Swedish title",
				   &service->title_sv, error))
		return FALSE;
	if (!config_id_is_valid(service->kind))
		return config_set_error(error, group->file, group->group,
					"plugin", "\"%s\" is not a service "
					"kind; use its id, e.g. fixed",
					service->kind);
	for (guint i = 0; names != NULL && names[i] != NULL; i++) {
		if (!parse_deadline(group, names[i], service->deadlines,
				    error))
			return FALSE;
	}
	region_add_service(loader->region, g_steal_pointer(&service));
	return TRUE;
}

/* ---- [offering UNIT SERVICE] ---------------------------------------- */

static gboolean
parse_offering(Loader *loader, const ConfigGroup *group, char **words,
	       GError **error)
{
	Region *region = loader->region;
	Unit *unit = g_hash_table_lookup(region->unit_by_id, words[1]);
	Service *service = g_hash_table_lookup(region->service_by_id,
					       words[2]);
	g_autoptr(SlotdOffering) offering = NULL;

	if (unit == NULL)
		return config_set_error(error, group->file, group->group, NULL,
					"unknown unit \"%s\"; define [unit %s]",
					words[1], words[1]);
	if (service == NULL)
		return config_set_error(error, group->file, group->group, NULL,
					"unknown service \"%s\"; define "
					"[service %s]", words[2], words[2]);
	offering = offering_new(region, unit, service, group->keyfile,
				group->file, group->group);
	if (!offering_read_core(offering, error))
		return FALSE;
	offering_compute_digest(offering);
	region_add_offering(region, g_steal_pointer(&offering));
	return TRUE;
}

/* ---- [practitioner ID], [room ID], [vehicle ID] ----------------------- */

static gboolean
parse_shifts(const ConfigGroup *group, Resource *r, GError **error)
{
	g_auto(GStrv) names = NULL;

	if (!config_read_id_list(group, "shifts", &names, error))
		return FALSE;
	for (guint i = 0; names && names[i]; i++) {
		g_autofree char *key = g_strdup_printf("shift-%s", names[i]);
		g_autofree char *text = NULL;
		Window *w = g_new0(Window, 1);

		g_ptr_array_add(r->shifts, w);
		w->name = g_strdup(names[i]);
		g_date_clear(&w->valid_from, 1);
		g_date_set_dmy(&w->valid_from, 1, G_DATE_JANUARY, 2025);
		g_date_clear(&w->valid_until, 1);
		if (!config_require_string(group, key, "HH:MM-HH:MM RRULE, the "
					   "shift named in shifts", &text,
					   error) ||
		    !config_parse_window_text(group->file, group->group, key,
					      text, w, error))
			return FALSE;
	}
	return TRUE;
}

/* `off`: YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, a list. */
static gboolean
parse_days_off(const ConfigGroup *group, Resource *r, GError **error)
{
	g_auto(GStrv) items = NULL;

	if (!config_read_list(group, "off", &items, error))
		return FALSE;
	for (guint i = 0; items && items[i]; i++) {
		g_auto(GStrv) ends = g_strsplit(items[i], "..", 2);
		DayRange d;

		g_date_clear(&d.first, 1);
		g_date_clear(&d.last, 1);
		if (!config_parse_date(ends[0], &d.first) ||
		    !config_parse_date(ends[1] ? ends[1] : ends[0], &d.last) ||
		    g_date_compare(&d.last, &d.first) < 0)
			return config_set_error(error, group->file,
						group->group, "off", "\"%s\" is "
						"not a day or a range of days; "
						"expected YYYY-MM-DD or "
						"YYYY-MM-DD..YYYY-MM-DD",
						items[i]);
		g_array_append_val(r->off, d);
	}
	return TRUE;
}

static gboolean
parse_roles(const ConfigGroup *group, Resource *r, GError **error)
{
	g_auto(GStrv) roles = NULL;
	g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);

	if (!config_read_id_list(group, "roles", &roles, error))
		return FALSE;
	if (r->type != RESOURCE_PRACTITIONER)
		g_ptr_array_add(all, g_strdup(resource_type_name(r->type)));
	else if (!roles || !roles[0])
		return config_set_error(error, group->file, group->group,
					"roles", "missing; expected what the "
					"practitioner does, e.g. nurse or "
					"social-counsellor");
	for (guint i = 0; roles && roles[i]; i++)
		g_ptr_array_add(all, g_strdup(roles[i]));
	g_ptr_array_add(all, NULL);
	r->roles = (char **)g_ptr_array_free(g_steal_pointer(&all), FALSE);
	return TRUE;
}

static gboolean
parse_resource(Loader *loader, const ConfigGroup *group, char **words,
	       ResourceType type, GError **error)
{
	static const char *const keys[] = {
		"unit", "organisation", "roles", "languages", "seats",
		"shifts", "off", NULL,
	};
	g_autoptr(Resource) r = g_new0(Resource, 1);
	g_autofree char *unit = NULL;
	g_auto(GStrv) keys_here = g_key_file_get_keys(group->keyfile,
						       group->group, NULL,
						       NULL);

	if (!validate_no_identity_code(words[1], "a resource id", NULL))
		return config_set_error(error, group->file, group->group, NULL,
					"the id looks like a personal identity "
					"code; use a pseudonymous staff id such "
					"as hh-loh-n07, never a person's code "
					"or name");
	r->id = g_strdup(words[1]);
	r->type = type;
	r->source_file = g_strdup(group->file);
	r->group = g_strdup(group->group);
	r->shifts = g_ptr_array_new_with_free_func(
		(GDestroyNotify)window_free);
	r->off = g_array_new(FALSE, FALSE, sizeof(DayRange));
	if (g_hash_table_contains(loader->region->resource_by_id, r->id))
		return config_set_error(error, group->file, group->group, NULL,
					"the id %s is already a resource; each "
					"practitioner, room and vehicle needs "
					"its own", r->id);
	for (guint i = 0; keys_here && keys_here[i]; i++)
		if (!g_strv_contains(keys, keys_here[i]) &&
		    !g_str_has_prefix(keys_here[i], "shift-"))
			return config_set_error(error, group->file,
						group->group, keys_here[i],
						"unknown key; expected unit, "
						"organisation, roles, "
						"languages, seats, shifts, "
						"shift-NAME or off");
	if (!config_require_string(group, "unit", "the unit it belongs to",
				   &unit, error))
		return FALSE;
	if (!g_hash_table_contains(loader->region->unit_by_id, unit))
		return config_set_error(error, group->file, group->group,
					"unit", "unknown unit \"%s\"; define "
					"[unit %s]", unit, unit);
	r->unit = g_steal_pointer(&unit);
	if (!config_read_string(group, "organisation",
				loader->region->daemon.region_id
					? loader->region->daemon.region_id
					: "",
				&r->organisation, error) ||
	    !parse_roles(group, r, error) ||
	    !config_read_languages(group, "languages", &r->languages, error) ||
	    !config_read_uint(group, "seats", 1, 1, 1000, &r->seats, error) ||
	    !parse_shifts(group, r, error) || !parse_days_off(group, r, error))
		return FALSE;
	if (type == RESOURCE_PRACTITIONER && !r->languages)
		return config_set_error(error, group->file, group->group,
					"languages", "missing; expected the "
					"languages the practitioner serves "
					"in: fi, sv, en");
	if (type != RESOURCE_PRACTITIONER && r->languages)
		return config_set_error(error, group->file, group->group,
					"languages", "only practitioners have "
					"languages");
	if (type != RESOURCE_ROOM && r->seats != 1)
		return config_set_error(error, group->file, group->group,
					"seats", "only rooms have seats");
	if (type == RESOURCE_PRACTITIONER && r->shifts->len == 0)
		return config_set_error(error, group->file, group->group,
					"shifts", "missing; expected the "
					"practitioner's shifts, e.g. shifts=day "
					"and shift-day=07:00-15:00 "
					"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
	region_add_resource(loader->region, g_steal_pointer(&r));
	return TRUE;
}

static gboolean
parse_practitioner(Loader *loader, const ConfigGroup *group, char **words,
		   GError **error)
{
	return parse_resource(loader, group, words, RESOURCE_PRACTITIONER,
			      error);
}

static gboolean
parse_room(Loader *loader, const ConfigGroup *group, char **words,
	   GError **error)
{
	return parse_resource(loader, group, words, RESOURCE_ROOM, error);
}

static gboolean
parse_vehicle(Loader *loader, const ConfigGroup *group, char **words,
	      GError **error)
{
	return parse_resource(loader, group, words, RESOURCE_VEHICLE, error);
}

static gboolean
need_is_met(const GPtrArray *pool, const ResourceNeed *need)
{
	guint n = 0;

	for (guint i = 0; i < pool->len; i++)
		n += resource_has_role(pool->pdata[i], need->role,
				       need->organisation);
	return n >= need->count;
}

static gboolean
check_needs(const SlotdOffering *off, const char *key, GPtrArray *needs,
	    GError **error)
{
	for (guint i = 0; needs && i < needs->len; i++) {
		const ResourceNeed *need = needs->pdata[i];

		if (!need_is_met(off->pool, need))
			return config_set_error(
				error, off->source_file, off->group, key,
				"needs %u %s%s%s but the units it draws on "
				"(%s) have fewer; add [practitioner], [room] "
				"or [vehicle] groups, or list more units in "
				"resource-units",
				need->count, need->role,
				need->organisation ? " of " : "",
				need->organisation ? need->organisation : "",
				off->resource_units
					? "resource-units"
					: off->unit->id);
	}
	return TRUE;
}

/* Each offering's pool: the resources of the units it draws on, which
 * must hold what its needs name. */
static gboolean
link_resources(Loader *loader, GError **error)
{
	Region *region = loader->region;

	for (guint o = 0; o < region->offerings->len; o++) {
		SlotdOffering *off = region->offerings->pdata[o];
		const char *own[] = { off->unit->id, NULL };
		const char *const *units =
			off->resource_units ? (const char *const *)
						      off->resource_units
					    : own;
		GHashTableIter iter;
		gpointer key, value;

		for (guint u = 0; units[u]; u++)
			if (!g_hash_table_contains(region->unit_by_id,
						   units[u]))
				return config_set_error(
					error, off->source_file, off->group,
					"resource-units", "unknown unit "
					"\"%s\"", units[u]);
		off->pool = g_ptr_array_new();
		for (guint i = 0; i < region->resources->len; i++) {
			Resource *r = region->resources->pdata[i];

			if (g_strv_contains(units, r->unit))
				g_ptr_array_add(off->pool, r);
		}
		if (!check_needs(off, "needs", off->needs, error))
			return FALSE;
		g_hash_table_iter_init(&iter, off->modality_needs);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			g_autofree char *name = g_strdup_printf("needs-%s",
								(char *)key);

			if (!check_needs(off, name, value, error))
				return FALSE;
		}
	}
	return TRUE;
}

/* ---- putting it together -------------------------------------------- */

static gboolean
parse_each(Loader *loader, GroupKind kind, GroupParser parse, GError **error)
{
	for (guint f = 0; f < loader->files->len; f++) {
		const ConfigFile *file = loader->files->pdata[f];
		g_auto(GStrv) groups = g_key_file_get_groups(file->keyfile,
							     NULL);

		for (guint i = 0; groups[i] != NULL; i++) {
			g_auto(GStrv) words = NULL;
			ConfigGroup group = { file->keyfile, file->name,
					      groups[i] };

			if (classify_group(groups[i], &words) != kind)
				continue;
			if (!parse(loader, &group, words, error))
				return FALSE;
		}
	}
	return TRUE;
}

static gboolean
parse_travel_matrix(Loader *loader, GError **error)
{
	guint n = loader->region->municipalities->len;

	loader->given_travel = g_new(guint, n * n);
	for (guint i = 0; i < n * n; i++)
		loader->given_travel[i] = G_MAXUINT;
	loader->travel_file = ((ConfigFile *)loader->files->pdata[0])->name;
	return parse_each(loader, GROUP_TRAVEL, parse_travel, error) &&
	       complete_travel(loader, error);
}

static gboolean
parse_all_groups(Loader *loader, GError **error)
{
	const ConfigFile *entry = loader->files->pdata[0];

	if (!parse_each(loader, GROUP_ACCESS, parse_access, error) ||
	    !parse_each(loader, GROUP_REGION, parse_region, error) ||
	    !parse_each(loader, GROUP_MUNICIPALITY, parse_municipality,
			error) ||
	    !parse_travel_matrix(loader, error) ||
	    !parse_each(loader, GROUP_UNIT, parse_unit, error) ||
	    !parse_each(loader, GROUP_SERVICE, parse_service, error) ||
	    !parse_each(loader, GROUP_PRACTITIONER, parse_practitioner,
			error) ||
	    !parse_each(loader, GROUP_ROOM, parse_room, error) ||
	    !parse_each(loader, GROUP_VEHICLE, parse_vehicle, error) ||
	    !parse_each(loader, GROUP_OFFERING, parse_offering, error) ||
	    !link_resources(loader, error))
		return FALSE;
	if (loader->region->daemon.region_id == NULL)
		return config_set_error(error, entry->name, "region", NULL,
					"missing; expected a [region] group "
					"with id, name-fi and name-sv");
	return TRUE;
}

static void
access_defaults(AccessConfig *access)
{
	access->read_groups = g_new0(char *, 1);
	access->book_groups = g_new0(char *, 1);
	access->admin_groups = g_new0(char *, 1);
	access->planner_groups = g_new0(char *, 1);
	access->gateway_groups = g_new0(char *, 1);
	access->groups_read = g_strdup("");
}

Region *
config_load(const ConfigOptions *options, GError **error)
{
	g_auto(Loader) loader = { 0 };

	g_return_val_if_fail(options != NULL, NULL);
	g_return_val_if_fail(options->config_file != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	loader.options = options;
	loader.region = region_new();
	loader.base_dir = g_path_get_dirname(options->config_file);
	loader.files = g_ptr_array_new_with_free_func(
		(GDestroyNotify)config_file_free);
	loader.group_files = g_hash_table_new_full(g_str_hash, g_str_equal,
						   g_free, NULL);
	loader.region->daemon.config_file = g_strdup(options->config_file);
	access_defaults(&loader.region->daemon.access);
	if (!load_all_files(&loader, error) ||
	    !parse_all_groups(&loader, error))
		return NULL;
	return g_steal_pointer(&loader.region);
}

gboolean
config_check_unread_keys(Region *region, GError **error)
{
	for (guint i = 0; i < region->offerings->len; i++) {
		SlotdOffering *offering = region->offerings->pdata[i];
		g_auto(GStrv) keys = NULL;

		/* A missing plugin already made the offering unavailable;
		 * its keys wait for the plugin rather than fail the rest. */
		if (!offering->available)
			continue;
		keys = g_key_file_get_keys(offering->keyfile, offering->group,
					   NULL, NULL);
		for (guint k = 0; keys != NULL && keys[k] != NULL; k++) {
			gboolean windowish;

			if (g_hash_table_contains(offering->read_keys, keys[k]))
				continue;
			windowish = g_str_has_prefix(keys[k], "window-") ||
				    g_str_has_prefix(keys[k], "capacity-");
			return config_set_error(
				error, offering->source_file, offering->group,
				keys[k], "unknown key; the %s plugin does not "
				"know it either%s", offering->service->kind,
				windowish ? " (is its window missing from "
					    "windows?)" : "");
		}
	}
	return TRUE;
}
