/* The path policy of Admin1.Backup (daemon/backup.c) on its own: what
 * counts as the state directory when it is reached through a symbolic
 * link, a bind mount or a hard link. The daemon test (test-backup.c)
 * checks the refusals on the bus. */
#define _GNU_SOURCE /* unshare */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "slotd/plugin.h"

static char *tmpdir;
static char *state_dir;
static char *db_path;
static char *outside;

static char *
in(const char *dir, const char *name)
{
	return g_build_filename(dir, name, NULL);
}

static void
assert_refused(const char *path, const char *reason)
{
	g_auto(BackupTarget) target = BACKUP_TARGET_INIT;
	g_autoptr(GError) error = NULL;

	g_assert_false(backup_target_check(path, db_path, &target, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	if (!strstr(error->message, reason))
		g_error("%s: expected '%s', got '%s'", path, reason,
			error->message);
}

static void
test_new_file_outside(void)
{
	g_auto(BackupTarget) target = BACKUP_TARGET_INIT;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = in(outside, "copy.db");
	g_autofree char *real = realpath(outside, NULL);

	g_assert_true(backup_target_check(path, db_path, &target, &error));
	g_assert_no_error(error);
	g_assert_cmpint(target.dir_fd, >=, 0);
	g_assert_cmpstr(target.dir, ==, real);
	g_assert_cmpstr(target.name, ==, "copy.db");
}

static void
test_state_dir_by_other_names(void)
{
	g_autofree char *sym = in(tmpdir, "state-link");
	g_autofree char *via_link = in(sym, "copy.db");
	g_autofree char *dotdot = g_strconcat(outside, "/../state/copy.db",
					      NULL);
	g_autofree char *hard = in(outside, "hard-link.db");

	g_assert_cmpint(symlink(state_dir, sym), ==, 0);
	assert_refused(via_link, "state directory");
	assert_refused(dotdot, "state directory");
	g_assert_cmpint(link(db_path, hard), ==, 0);
	assert_refused(hard, "booking database");
}

/* A bind mount of the state directory (or of a directory below it) has
 * another real path; the directory's identity gives it away. */
static void
test_bind_mount_of_state_dir(void)
{
	g_autofree char *sub = in(state_dir, "sub");
	g_autofree char *mnt = in(tmpdir, "mnt");
	g_autofree char *top = in(mnt, "copy.db");
	g_autofree char *below = g_build_filename(mnt, "sub", "copy.db", NULL);

	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		g_test_skip_printf("no private mount namespace here: %s",
				   g_strerror(errno));
		return;
	}
	g_assert_cmpint(mkdir(sub, 0700), ==, 0);
	g_assert_cmpint(mkdir(mnt, 0700), ==, 0);
	g_assert_cmpint(mount(state_dir, mnt, NULL, MS_BIND, NULL), ==, 0);
	assert_refused(top, "state directory");
	assert_refused(below, "state directory");
	g_assert_cmpint(umount(mnt), ==, 0);
}

static void
remove_tree(const char *dir)
{
	const char *argv[] = { "rm", "-rf", dir, NULL };

	g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
		     NULL, NULL, NULL, NULL, NULL);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("slotd-backup-XXXXXX", &error);
	g_assert_no_error(error);
	state_dir = in(tmpdir, "state");
	outside = in(tmpdir, "outside");
	db_path = in(state_dir, "slotd.db");
	g_assert_cmpint(mkdir(state_dir, 0700), ==, 0);
	g_assert_cmpint(mkdir(outside, 0700), ==, 0);
	g_assert_true(g_file_set_contents(db_path, "db", -1, NULL));
	g_test_add_func("/backup-target/new-file-outside",
			test_new_file_outside);
	g_test_add_func("/backup-target/state-dir-by-other-names",
			test_state_dir_by_other_names);
	g_test_add_func("/backup-target/bind-mount-of-state-dir",
			test_bind_mount_of_state_dir);
	status = g_test_run();
	remove_tree(tmpdir);
	return status;
}
