/* The path policy of Admin1.Backup. A backup into the state directory
 * could replace the database's -wal or -shm file under the running
 * daemon and lose acknowledged bookings, so a backup goes only to a new
 * file in another directory. The directory is opened once and judged
 * by what the descriptor is (its identity and its real path), and the
 * copy is written through that descriptor (store_backup_at()), so
 * symbolic links swapped in afterwards change nothing. */
#define G_LOG_DOMAIN "slotd-backup"
#define _GNU_SOURCE /* O_PATH */

#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slotd/plugin.h"

/* How much of the name the log and the audit row keep. */
#define DESCRIBED_NAME_CHARS 64
#define DESCRIBED_HASH_CHARS 16
/* Far deeper than any real directory; bounds the walk to the root. */
#define MAX_DEPTH (PATH_MAX / 2)

void
backup_target_clear(BackupTarget *target)
{
	if (target->dir_fd >= 0)
		close(target->dir_fd);
	target->dir_fd = -1;
	g_clear_pointer(&target->dir, g_free);
	g_clear_pointer(&target->name, g_free);
}

static gboolean
refuse(GError **error, const char *message)
{
	g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    message);
	return FALSE;
}

/* Valid UTF-8 of at most `max` bytes, without C0, DEL or C1 controls. */
static gboolean
text_is_clean(const char *text, gsize max)
{
	gsize length = strnlen(text, max + 1);

	if (length > max || !g_utf8_validate(text, (gssize)length, NULL))
		return FALSE;
	for (const char *p = text; *p; p = g_utf8_next_char(p))
		if (g_unichar_iscntrl(g_utf8_get_char(p)))
			return FALSE;
	return TRUE;
}

/* The text of the path, before anything is looked up. */
static gboolean
check_text(const char *path, GError **error)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;

	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return refuse(error, "the backup path is longer than "
				     "PATH_MAX (4096 bytes)");
	if (!g_path_is_absolute(path))
		return refuse(error, "give the backup file as an absolute "
				     "path");
	if (!text_is_clean(path, PATH_MAX))
		return refuse(error, "the backup path is not UTF-8 text or "
				     "holds control characters");
	if (*name == '\0' || g_str_equal(name, ".") ||
	    g_str_equal(name, ".."))
		return refuse(error, "the backup path must end in a file "
				     "name");
	if (strlen(name) > NAME_MAX)
		return refuse(error, "the backup file name is longer than "
				     "NAME_MAX (255 bytes)");
	return TRUE;
}

static gboolean
open_dir(const char *path, BackupTarget *target, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	int saved;

	target->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (target->dir_fd >= 0)
		return TRUE;
	saved = errno;
	if (saved == ENOENT || saved == ENOTDIR || saved == ELOOP)
		return refuse(error, "the backup file's directory does not "
				     "exist; create it first");
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE,
		    "the backup file's directory cannot be opened (%s)",
		    g_strerror(saved));
	return FALSE;
}

/* The real path of the directory the descriptor is, whatever symbolic
 * links led to it. */
static gboolean
resolve_dir(BackupTarget *target, GError **error)
{
	g_autofree char *proc = g_strdup_printf("/proc/self/fd/%d",
						target->dir_fd);
	char *real = realpath(proc, NULL);

	if (real == NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE,
			    "the backup file's directory cannot be resolved "
			    "(%s)", g_strerror(errno));
		return FALSE;
	}
	target->dir = g_strdup(real);
	free(real);
	return TRUE;
}

static gboolean
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* TRUE when the directory open as `dir_fd` is `state` or below it.
 * Each step up is the real parent, so a bind mount of the state
 * directory is found as well as the directory itself. */
static gboolean
dir_is_within(int dir_fd, const struct stat *state)
{
	struct stat here, up = { 0 };
	int fd = dup(dir_fd);
	gboolean within = FALSE;

	for (guint depth = 0; !within && depth < MAX_DEPTH; depth++) {
		int parent;

		if (fd < 0 || fstat(fd, &here) != 0)
			break;
		within = same_file(&here, state);
		parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = parent;
		if (fd < 0 || fstat(fd, &up) != 0 || same_file(&up, &here))
			break;	/* the root is its own parent */
	}
	if (fd >= 0)
		close(fd);
	return within;
}

/* The state directory's real path, or the directory itself, names the
 * target's directory or one of its parents. */
static gboolean
dir_is_state(const BackupTarget *target, const char *state_dir)
{
	g_autofree char *real = realpath(state_dir, NULL);
	struct stat state;

	if (real && g_str_has_prefix(target->dir, real)) {
		gsize n = strlen(real);

		if (target->dir[n] == '\0' || target->dir[n] == '/' ||
		    g_str_equal(real, "/"))
			return TRUE;
	}
	return stat(state_dir, &state) == 0 &&
	       dir_is_within(target->dir_fd, &state);
}

static gboolean
check_outside_state(const BackupTarget *target, const char *state_dir,
		    GError **error)
{
	if (!dir_is_state(target, state_dir))
		return TRUE;
	return refuse(error, "a backup cannot be written into the state "
			     "directory, which holds the live database; "
			     "choose a file in another directory");
}

/* The database, its -wal, -shm and -journal, and the state directory,
 * by whatever name `st` was found. */
static gboolean
is_database_file(const struct stat *st, const char *db_path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm",
						"-journal" };
	g_autofree char *state_dir = g_path_get_dirname(db_path);
	struct stat other;

	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *path = g_strconcat(db_path, suffixes[i],
						    NULL);

		if (stat(path, &other) == 0 && same_file(st, &other))
			return TRUE;
	}
	return stat(state_dir, &other) == 0 && same_file(st, &other);
}

/* A backup is a new file: nothing may be there yet. */
static gboolean
check_new_name(const BackupTarget *target, const char *db_path,
	       GError **error)
{
	struct stat st;

	if (fstatat(target->dir_fd, target->name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ||
		       refuse(error, "the backup file cannot be checked");
	if (S_ISLNK(st.st_mode))
		return refuse(error, "the backup path is a symbolic link; a "
				     "backup is always a new file");
	if (is_database_file(&st, db_path))
		return refuse(error, "the backup path is the booking "
				     "database, one of its files or its "
				     "directory");
	return refuse(error, "the backup file already exists; a backup "
			     "never replaces a file, so give a new file "
			     "name");
}

gboolean
backup_target_check(const char *path, const char *db_path,
		    BackupTarget *ret, GError **error)
{
	g_autofree char *state_dir = g_path_get_dirname(db_path);

	g_return_val_if_fail(path && db_path && ret, FALSE);
	if (!check_text(path, error) || !open_dir(path, ret, error) ||
	    !resolve_dir(ret, error))
		return FALSE;
	ret->name = g_path_get_basename(path);
	return check_outside_state(ret, state_dir, error) &&
	       check_new_name(ret, db_path, error);
}

char *
backup_describe(const char *path)
{
	g_autofree char *hash = g_compute_checksum_for_string(
		G_CHECKSUM_SHA256, path, -1);
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	g_autofree char *cut = NULL;

	hash[DESCRIBED_HASH_CHARS] = '\0';
	if (!text_is_clean(name, NAME_MAX) || *name == '\0')
		return g_strdup_printf("file=? path-sha256=%s", hash);
	cut = g_utf8_substring(name, 0, MIN(g_utf8_strlen(name, -1),
					    DESCRIBED_NAME_CHARS));
	return g_strdup_printf("file=%s path-sha256=%s", cut, hash);
}
