/* Where Admin1.Backup may write: only a new file outside the state
 * directory. The copy itself is store_backup_at() (store-report.c). */
#pragma once

#include <glib.h>

/* A checked target: its directory, open, and the new file's name. */
typedef struct {
	int dir_fd;		/* the directory, open; -1 when none */
	char *dir;		/* its real path (for SQLite) */
	char *name;		/* the new file's name in it */
} BackupTarget;

#define BACKUP_TARGET_INIT { .dir_fd = -1 }

void backup_target_clear(BackupTarget *target);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(BackupTarget, backup_target_clear)

/* Fills *ret for `path` when a backup may be written there, given the
 * database at `db_path` (its directory is the state directory).
 * Refused with InvalidArgs: a path that is not absolute, not UTF-8,
 * longer than PATH_MAX or holding control characters; a name longer
 * than NAME_MAX, or none; a directory that does not exist; a target
 * in the state directory or below it (also through symbolic links or
 * bind mounts); the database, its -wal, -shm and -journal and the
 * state directory by any name; a symbolic link; any existing file.
 * The messages never repeat the path. Other failures to open the
 * directory are StorageUnavailable. */
gboolean backup_target_check(const char *path, const char *db_path,
			     BackupTarget *ret, GError **error);

/* What the log and the audit row say about `path`: "file=NAME
 * path-sha256=HEX", the name cut to 64 characters, or "file=?" when
 * it is not clean text; never the whole path. */
char *backup_describe(const char *path);
