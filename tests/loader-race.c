/* The loader race (issue 20). A swapper process renames two modules over
 * one path of a plugin directory, as fast as it can, while directory
 * passes (what a reload runs) load that directory, each pass in a fresh
 * child process. `good` (tests/plugins/good.c) passes every check;
 * `foreign` (tests/plugins/foreign.c) is refused by the ELF check. A
 * pass that loads `foreign` ran code that was not the code it checked:
 * a foreign load. Loading by descriptor allows none.
 *
 * loader-race [--rounds N] [--seed S]: prints the counts; exit 1 on a
 * foreign load, 77 when the swaps never met a pass (no race observed).
 * The suite runs 200 rounds; tools/loader-race.sh runs 10 000. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugin-host.h"

enum { ROUND_GOOD, ROUND_REFUSED, ROUND_FOREIGN, ROUND_OTHER, N_OUTCOMES };

typedef struct {
	char *plugins;		/* the plugin directory */
	char *target;		/* plugins/race.so */
	char *keep[2];		/* good, foreign: hard-linked in turn */
} Race;

static GLogWriterOutput
quiet(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
      gpointer user_data)
{
	return G_LOG_WRITER_HANDLED;
}

static char *
keep_copy(const char *dir, const char *module, const char *name)
{
	g_autofree char *file = g_strdup_printf("loader-%s.so", module);
	g_autofree char *from = g_build_filename(g_getenv("SLOTD_BUILD_ROOT"),
						 "tests", file, NULL);
	g_autofree char *bytes = NULL;
	char *to = g_build_filename(dir, name, NULL);
	gsize len;

	if (!g_file_get_contents(from, &bytes, &len, NULL) ||
	    !g_file_set_contents_full(to, bytes, (gssize)len,
				      G_FILE_SET_CONTENTS_NONE, 0644, NULL))
		g_error("cannot copy %s (SLOTD_BUILD_ROOT set?)", from);
	return to;
}

static void
race_init(Race *race, const char *tmp)
{
	g_autofree char *keep = g_build_filename(tmp, "keep", NULL);

	race->plugins = g_build_filename(tmp, "plugins", NULL);
	race->target = g_build_filename(race->plugins, "race.so", NULL);
	mkdir(race->plugins, 0755);
	mkdir(keep, 0755);
	race->keep[0] = keep_copy(keep, "good", "good.so");
	race->keep[1] = keep_copy(keep, "foreign", "foreign.so");
	if (link(race->keep[0], race->target) != 0)
		g_error("link: %s", g_strerror(errno));
}

static void
race_clear(Race *race)
{
	g_free(race->plugins);
	g_free(race->target);
	g_free(race->keep[0]);
	g_free(race->keep[1]);
}

/* The attacker: puts each module at the target in turn, atomically. */
static G_GNUC_NORETURN void
swap_forever(const Race *race, guint32 seed)
{
	g_autofree char *tmp = g_build_filename(race->plugins, ".swap", NULL);
	GRand *rand = g_rand_new_with_seed(seed);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (guint i = 0;; i++) {
		guint spin = (guint)g_rand_int_range(rand, 0, 2000);

		unlink(tmp);
		if (link(race->keep[i % 2], tmp) == 0)
			rename(tmp, race->target);
		for (volatile guint j = 0; j < spin; j++)
			;
	}
}

/* One pass of a fresh loader, as a reload would run it. */
static G_GNUC_NORETURN void
load_once(const Race *race)
{
	PluginHost *host = plugin_host_new();
	GPtrArray *list;

	plugin_host_load_dir(host, race->plugins, FALSE, NULL);
	list = plugin_host_list(host);
	for (guint i = 0; i < list->len; i++) {
		const PluginInfo *info = list->pdata[i];

		if (!g_str_equal(info->path, race->target))
			continue;
		if (!info->loaded)
			_exit(ROUND_REFUSED);
		_exit(g_strcmp0(info->id, "loader-foreign") == 0 ?
			      ROUND_FOREIGN : ROUND_GOOD);
	}
	_exit(ROUND_OTHER);
}

static int
run_round(const Race *race)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		load_once(race);
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status))
		return ROUND_OTHER;
	return MIN(WEXITSTATUS(status), ROUND_OTHER);
}

int
main(int argc, char **argv)
{
	gint rounds = 200;
	gint64 seed = g_get_real_time() % G_MAXUINT32;
	GOptionEntry entries[] = {
		{ "rounds", 'n', 0, G_OPTION_ARG_INT, &rounds,
		  "Directory passes (200)", "N" },
		{ "seed", 's', 0, G_OPTION_ARG_INT64, &seed,
		  "Seed of the swapper's timing", "S" },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- loader race");
	g_autofree char *tmp = NULL;
	guint count[N_OUTCOMES] = { 0 };
	Race race = { 0 };
	pid_t swapper;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, NULL))
		return 2;
	g_log_set_writer_func(quiet, NULL, NULL);
	tmp = g_dir_make_tmp("slotd-loader-race-XXXXXX", NULL);
	race_init(&race, tmp);
	swapper = fork();
	if (swapper == 0)
		swap_forever(&race, (guint32)seed);
	for (gint i = 0; i < rounds; i++)
		count[run_round(&race)]++;
	kill(swapper, SIGKILL);
	waitpid(swapper, NULL, 0);
	printf("loader-race: %d rounds (seed %" G_GINT64_FORMAT "): good "
	       "loaded %u, refused (foreign checked) %u, foreign loads %u, "
	       "other %u\n", rounds, seed, count[ROUND_GOOD],
	       count[ROUND_REFUSED], count[ROUND_FOREIGN], count[ROUND_OTHER]);
	{
		const char *rm[] = { "rm", "-rf", tmp, NULL };

		g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_SEARCH_PATH,
			     NULL, NULL, NULL, NULL, NULL, NULL);
	}
	race_clear(&race);
	if (count[ROUND_FOREIGN] || count[ROUND_OTHER])
		return 1;
	return count[ROUND_GOOD] && count[ROUND_REFUSED] ? 0 : 77;
}
