/* A power-loss disk for the crash test (tests/crash/crash.py): an SQLite
 * VFS that keeps every write since the last sync of a file in memory and
 * writes it to the real file only when SQLite syncs that file. Killing
 * the process (SIGKILL) then loses exactly what a power cut would be
 * allowed to lose: everything not synced.
 *
 * It is never part of slotd. It is built as a separate module
 * (build/tests/crash-powerloss-vfs.so) and put into the daemon's process
 * by the test with LD_PRELOAD; its constructor registers it as SQLite's
 * default VFS when SLOTD_TEST_VFS=powerloss. Everything else in the
 * process (the backup's connection too) then goes through it, so the
 * process sees one consistent file system. Settings, all optional:
 *
 *   SLOTD_TEST_VFS_SYNC_US=N     a sync takes N µs before the data
 *                                becomes durable (a disk's flush
 *                                latency; 0 by default)
 *   SLOTD_TEST_VFS_WRITEBACK=P   chance per write that one unsynced
 *                                piece of the file (4 KiB) is written
 *                                early, in no particular order, as an OS
 *                                writes dirty pages back (0 by default)
 *   SLOTD_TEST_VFS_SEED=N        seed of those choices
 *   SLOTD_TEST_VFS_LOG=PATH      appends "open FILE", "sync FILE" (the
 *                                first sync of each file) and
 *                                "synchronous forced off" lines
 *   SLOTD_TEST_SYNCHRONOUS=off   every connection runs with PRAGMA
 *                                synchronous=OFF, whatever it asks for
 *                                (the harness's own negative check: the
 *                                crash test must then find lost changes)
 *
 * The main database, its WAL and its rollback journal are buffered;
 * other files (temporary ones) pass straight through, as do locks, the
 * shared-memory WAL index (rebuilt from the WAL by the next process
 * anyway) and file deletion (a directory change, durable at once). A
 * truncation is buffered like a write. Closing the last handle of a file
 * writes it through without counting as a sync: a clean exit is not a
 * power cut. */
#include <glib.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 4096

/* What the process wrote to one file since its last sync. */
typedef struct {
	char *path;
	guint refs;
	sqlite3_int64 size;	/* the file's size as the process sees it */
	sqlite3_int64 trunc_to; /* smallest size truncated to, or -1 */
	GHashTable *chunks;	/* gint64 index -> guint8[CHUNK], latest data */
} Pending;

typedef struct {
	sqlite3_file base;
	Pending *pending;	/* NULL: passes through */
	sqlite3_file *real;	/* the unix VFS's file, right after this */
} PlFile;

static struct {
	sqlite3_vfs *real;
	gulong sync_us;
	double writeback;
	gboolean sync_off;
	GRand *rand;
	FILE *log;
	GHashTable *files;	/* path -> Pending */
	GHashTable *synced;	/* paths whose first sync was logged */
	pthread_mutex_t lock;
} pl = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Set while our own PRAGMA synchronous=OFF runs. */
static __thread gboolean setting_sync_off;

static void
log_line(const char *what, const char *path)
{
	if (!pl.log)
		return;
	fprintf(pl.log, "%s %s\n", what, path ? path : "");
	fflush(pl.log);
}

/* ---- the buffered state of one file --------------------------------- */

static Pending *
pending_ref(const char *path, sqlite3_file *real)
{
	Pending *p = g_hash_table_lookup(pl.files, path);

	if (!p) {
		p = g_new0(Pending, 1);
		p->path = g_strdup(path);
		p->trunc_to = -1;
		p->chunks = g_hash_table_new_full(g_int64_hash, g_int64_equal,
						  g_free, g_free);
		if (real->pMethods->xFileSize(real, &p->size) != SQLITE_OK)
			p->size = 0;
		g_hash_table_insert(pl.files, p->path, p);
	}
	p->refs++;
	return p;
}

/* The durable bytes as this process sees them: nothing past a pending
 * truncation. Unix zero-fills a short read. */
static int
durable_read(PlFile *f, void *buf, int amt, sqlite3_int64 off)
{
	Pending *p = f->pending;
	int rc = f->real->pMethods->xRead(f->real, buf, amt, off);

	if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)
		return rc;
	if (p->trunc_to >= 0 && off + amt > p->trunc_to) {
		sqlite3_int64 from = MAX(off, p->trunc_to);

		memset((char *)buf + (from - off), 0, (size_t)(off + amt - from));
	}
	return SQLITE_OK;
}

static guint8 *
chunk_get(PlFile *f, gint64 index, gboolean create, int *ret_rc)
{
	Pending *p = f->pending;
	guint8 *data = g_hash_table_lookup(p->chunks, &index);
	sqlite3_int64 start = index * CHUNK;

	*ret_rc = SQLITE_OK;
	if (data || !create)
		return data;
	data = g_malloc0(CHUNK);
	if (start < p->size) {
		*ret_rc = durable_read(f, data, CHUNK, start);
		if (*ret_rc != SQLITE_OK) {
			g_free(data);
			return NULL;
		}
		if (start + CHUNK > p->size)
			memset(data + (p->size - start), 0,
			       (size_t)(start + CHUNK - p->size));
	}
	g_hash_table_insert(p->chunks, g_memdup2(&index, sizeof(index)), data);
	return data;
}

static int
chunk_write_through(PlFile *f, gint64 index, const guint8 *data)
{
	Pending *p = f->pending;
	sqlite3_int64 start = index * CHUNK;
	sqlite3_int64 end = MIN(start + CHUNK, p->size);

	if (end <= start)
		return SQLITE_OK;
	return f->real->pMethods->xWrite(f->real, data, (int)(end - start),
					 start);
}

/* Makes the real file what the process sees: what a sync does. */
static int
flush(PlFile *f)
{
	Pending *p = f->pending;
	sqlite3_int64 real_size = 0;
	GHashTableIter iter;
	gpointer key, value;
	int rc;

	if (p->trunc_to >= 0) {
		rc = f->real->pMethods->xTruncate(f->real, p->trunc_to);
		if (rc != SQLITE_OK)
			return rc;
	}
	g_hash_table_iter_init(&iter, p->chunks);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		rc = chunk_write_through(f, *(gint64 *)key, value);
		if (rc != SQLITE_OK)
			return rc;
	}
	rc = f->real->pMethods->xFileSize(f->real, &real_size);
	if (rc == SQLITE_OK && real_size != p->size)
		rc = f->real->pMethods->xTruncate(f->real, p->size);
	if (rc != SQLITE_OK)
		return rc;
	g_hash_table_remove_all(p->chunks);
	p->trunc_to = -1;
	return SQLITE_OK;
}

/* The OS writing a dirty page back on its own, in any order. Not while
 * a truncation waits: that would mix old and new bytes past it. */
static void
maybe_write_back(PlFile *f)
{
	Pending *p = f->pending;
	guint n = g_hash_table_size(p->chunks);
	GHashTableIter iter;
	gpointer key, value;
	guint pick;

	if (pl.writeback <= 0 || n == 0 || p->trunc_to >= 0 ||
	    g_rand_double(pl.rand) >= pl.writeback)
		return;
	pick = (guint)g_rand_int_range(pl.rand, 0, (gint32)n);
	g_hash_table_iter_init(&iter, p->chunks);
	while (g_hash_table_iter_next(&iter, &key, &value))
		if (pick-- == 0) {
			if (chunk_write_through(f, *(gint64 *)key, value) ==
			    SQLITE_OK)
				g_hash_table_iter_remove(&iter);
			return;
		}
}

/* ---- file methods ---------------------------------------------------- */

#define REAL(f) (((PlFile *)(f))->real)
#define LOCKED(expr)                                \
	({                                          \
		int rc_;                            \
		pthread_mutex_lock(&pl.lock);       \
		rc_ = (expr);                       \
		pthread_mutex_unlock(&pl.lock);     \
		rc_;                                \
	})

static int
pl_close(sqlite3_file *file)
{
	PlFile *f = (PlFile *)file;
	int rc = SQLITE_OK;

	pthread_mutex_lock(&pl.lock);
	if (f->pending && --f->pending->refs == 0) {
		rc = flush(f);
		g_hash_table_remove(pl.files, f->pending->path);
		g_hash_table_destroy(f->pending->chunks);
		g_free(f->pending->path);
		g_free(f->pending);
	}
	f->pending = NULL;
	pthread_mutex_unlock(&pl.lock);
	if (f->real->pMethods) {
		int rc2 = f->real->pMethods->xClose(f->real);

		rc = rc != SQLITE_OK ? rc : rc2;
	}
	return rc;
}

static int
read_locked(PlFile *f, void *buf, int amt, sqlite3_int64 off)
{
	Pending *p = f->pending;
	guint8 *out = buf;
	int rc = durable_read(f, buf, amt, off);

	if (rc != SQLITE_OK)
		return rc;
	for (gint64 i = off / CHUNK; i <= (off + amt - 1) / CHUNK; i++) {
		guint8 *data = chunk_get(f, i, FALSE, &rc);
		sqlite3_int64 from, to;

		if (!data)
			continue;
		from = MAX(off, i * CHUNK);
		to = MIN(off + amt, (i + 1) * CHUNK);
		memcpy(out + (from - off), data + (from - i * CHUNK),
		       (size_t)(to - from));
	}
	if (off + amt > p->size) {
		sqlite3_int64 from = MAX(off, p->size);

		memset(out + (from - off), 0, (size_t)(off + amt - from));
		return SQLITE_IOERR_SHORT_READ;
	}
	return SQLITE_OK;
}

static int
pl_read(sqlite3_file *file, void *buf, int amt, sqlite3_int64 off)
{
	PlFile *f = (PlFile *)file;

	if (!f->pending)
		return f->real->pMethods->xRead(f->real, buf, amt, off);
	return LOCKED(read_locked(f, buf, amt, off));
}

static int
write_locked(PlFile *f, const void *buf, int amt, sqlite3_int64 off)
{
	Pending *p = f->pending;
	const guint8 *in = buf;
	int rc = SQLITE_OK;

	for (gint64 i = off / CHUNK; i <= (off + amt - 1) / CHUNK; i++) {
		guint8 *data = chunk_get(f, i, TRUE, &rc);
		sqlite3_int64 from, to;

		if (!data)
			return rc;
		from = MAX(off, i * CHUNK);
		to = MIN(off + amt, (i + 1) * CHUNK);
		memcpy(data + (from - i * CHUNK), in + (from - off),
		       (size_t)(to - from));
	}
	p->size = MAX(p->size, off + amt);
	maybe_write_back(f);
	return SQLITE_OK;
}

static int
pl_write(sqlite3_file *file, const void *buf, int amt, sqlite3_int64 off)
{
	PlFile *f = (PlFile *)file;

	if (!f->pending)
		return f->real->pMethods->xWrite(f->real, buf, amt, off);
	return LOCKED(write_locked(f, buf, amt, off));
}

static int
truncate_locked(PlFile *f, sqlite3_int64 size)
{
	Pending *p = f->pending;
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, p->chunks);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		sqlite3_int64 start = *(gint64 *)key * CHUNK;

		if (start >= size)
			g_hash_table_iter_remove(&iter);
		else if (start + CHUNK > size)
			memset((guint8 *)value + (size - start), 0,
			       (size_t)(start + CHUNK - size));
	}
	p->size = size;
	if (p->trunc_to < 0 || size < p->trunc_to)
		p->trunc_to = size;
	return SQLITE_OK;
}

static int
pl_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	PlFile *f = (PlFile *)file;

	if (!f->pending)
		return f->real->pMethods->xTruncate(f->real, size);
	return LOCKED(truncate_locked(f, size));
}

static int
sync_locked(PlFile *f)
{
	int rc = flush(f);

	if (rc == SQLITE_OK && pl.log &&
	    g_hash_table_add(pl.synced, g_strdup(f->pending->path)))
		log_line("sync", f->pending->path);
	return rc;
}

static int
pl_sync(sqlite3_file *file, int flags)
{
	PlFile *f = (PlFile *)file;

	if (!f->pending)
		return f->real->pMethods->xSync(f->real, flags);
	/* Durable only once the disk has taken it. */
	if (pl.sync_us)
		g_usleep(pl.sync_us);
	return LOCKED(sync_locked(f));
}

static int
pl_file_size(sqlite3_file *file, sqlite3_int64 *ret_size)
{
	PlFile *f = (PlFile *)file;

	if (!f->pending)
		return f->real->pMethods->xFileSize(f->real, ret_size);
	pthread_mutex_lock(&pl.lock);
	*ret_size = f->pending->size;
	pthread_mutex_unlock(&pl.lock);
	return SQLITE_OK;
}

static int
pl_lock(sqlite3_file *file, int level)
{
	return REAL(file)->pMethods->xLock(REAL(file), level);
}

static int
pl_unlock(sqlite3_file *file, int level)
{
	return REAL(file)->pMethods->xUnlock(REAL(file), level);
}

static int
pl_check_reserved_lock(sqlite3_file *file, int *ret_out)
{
	return REAL(file)->pMethods->xCheckReservedLock(REAL(file), ret_out);
}

static int
pl_file_control(sqlite3_file *file, int op, void *arg)
{
	PlFile *f = (PlFile *)file;

	if (op == SQLITE_FCNTL_PRAGMA && pl.sync_off) {
		char **words = arg;

		/* A connection asking for any synchronous level keeps OFF. */
		if (words[1] && g_ascii_strcasecmp(words[1], "synchronous") ==
					0 &&
		    words[2] && !setting_sync_off) {
			log_line("synchronous forced off; asked for", words[2]);
			/* A row with the level kept (a no-op statement
			 * confuses some callers). */
			words[0] = sqlite3_mprintf("0");
			return SQLITE_OK;
		}
	}
	/* Hints that would grow the real file behind our back. */
	if (f->pending &&
	    (op == SQLITE_FCNTL_SIZE_HINT || op == SQLITE_FCNTL_CHUNK_SIZE))
		return SQLITE_OK;
	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
pl_sector_size(sqlite3_file *file)
{
	return REAL(file)->pMethods->xSectorSize(REAL(file));
}

static int
pl_device_characteristics(sqlite3_file *file)
{
	return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}

static int
pl_shm_map(sqlite3_file *file, int page, int size, int extend,
	   void volatile **ret_map)
{
	return REAL(file)->pMethods->xShmMap(REAL(file), page, size, extend,
					     ret_map);
}

static int
pl_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}

static void
pl_shm_barrier(sqlite3_file *file)
{
	REAL(file)->pMethods->xShmBarrier(REAL(file));
}

static int
pl_shm_unmap(sqlite3_file *file, int delete_flag)
{
	return REAL(file)->pMethods->xShmUnmap(REAL(file), delete_flag);
}

/* Version 2: no xFetch, so SQLite never reads the real file through a
 * memory map that would miss what is buffered here. */
static const sqlite3_io_methods pl_io = {
	2,
	pl_close,
	pl_read,
	pl_write,
	pl_truncate,
	pl_sync,
	pl_file_size,
	pl_lock,
	pl_unlock,
	pl_check_reserved_lock,
	pl_file_control,
	pl_sector_size,
	pl_device_characteristics,
	pl_shm_map,
	pl_shm_lock,
	pl_shm_barrier,
	pl_shm_unmap,
	NULL,
	NULL,
};

/* ---- the VFS --------------------------------------------------------- */

static int
pl_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
	int *ret_flags)
{
	PlFile *f = (PlFile *)file;
	int rc;

	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = pl.real->xOpen(pl.real, name, f->real, flags, ret_flags);
	if (rc != SQLITE_OK) {
		/* SQLite still calls xClose when pMethods is set. */
		if (f->real->pMethods)
			f->real->pMethods->xClose(f->real);
		file->pMethods = NULL;
		return rc;
	}
	file->pMethods = &pl_io;
	if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL |
			      SQLITE_OPEN_MAIN_JOURNAL))) {
		pthread_mutex_lock(&pl.lock);
		f->pending = pending_ref(name, f->real);
		if (f->pending->refs == 1)
			log_line("open", name);
		pthread_mutex_unlock(&pl.lock);
	}
	return SQLITE_OK;
}

static int
pl_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	return pl.real->xDelete(pl.real, name, sync_dir);
}

static int
pl_access(sqlite3_vfs *vfs, const char *name, int flags, int *ret_out)
{
	return pl.real->xAccess(pl.real, name, flags, ret_out);
}

static int
pl_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return pl.real->xFullPathname(pl.real, name, n, out);
}

static void *
pl_dl_open(sqlite3_vfs *vfs, const char *name)
{
	return pl.real->xDlOpen(pl.real, name);
}

static void
pl_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
	pl.real->xDlError(pl.real, n, out);
}

static void (*pl_dl_sym(sqlite3_vfs *vfs, void *handle, const char *sym))(void)
{
	return pl.real->xDlSym(pl.real, handle, sym);
}

static void
pl_dl_close(sqlite3_vfs *vfs, void *handle)
{
	pl.real->xDlClose(pl.real, handle);
}

static int
pl_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return pl.real->xRandomness(pl.real, n, out);
}

static int
pl_sleep(sqlite3_vfs *vfs, int us)
{
	return pl.real->xSleep(pl.real, us);
}

static int
pl_current_time(sqlite3_vfs *vfs, double *ret_now)
{
	return pl.real->xCurrentTime(pl.real, ret_now);
}

static int
pl_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return pl.real->xGetLastError(pl.real, n, out);
}

static int
pl_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *ret_now)
{
	return pl.real->xCurrentTimeInt64(pl.real, ret_now);
}

static sqlite3_vfs pl_vfs = {
	.iVersion = 2,
	.zName = "slotd-powerloss",
	.xOpen = pl_open,
	.xDelete = pl_delete,
	.xAccess = pl_access,
	.xFullPathname = pl_full_pathname,
	.xDlOpen = pl_dl_open,
	.xDlError = pl_dl_error,
	.xDlSym = pl_dl_sym,
	.xDlClose = pl_dl_close,
	.xRandomness = pl_randomness,
	.xSleep = pl_sleep,
	.xCurrentTime = pl_current_time,
	.xGetLastError = pl_get_last_error,
	.xCurrentTimeInt64 = pl_current_time_int64,
};

/* Every new connection starts with synchronous=OFF (sync_off only). */
static int
force_sync_off(sqlite3 *db, char **ret_error, const void *api)
{
	int rc;

	setting_sync_off = TRUE;
	rc = sqlite3_exec(db, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
	setting_sync_off = FALSE;
	if (rc == SQLITE_OK)
		log_line("synchronous forced off at open", "");
	return rc;
}

static guint64
env_number(const char *name, guint64 fallback)
{
	const char *text = getenv(name);

	return text && *text ? g_ascii_strtoull(text, NULL, 10) : fallback;
}

__attribute__((constructor)) static void
pl_register(void)
{
	const char *mode = getenv("SLOTD_TEST_VFS");
	const char *log_path = getenv("SLOTD_TEST_VFS_LOG");
	const char *writeback = getenv("SLOTD_TEST_VFS_WRITEBACK");
	const char *sync = getenv("SLOTD_TEST_SYNCHRONOUS");

	if (g_strcmp0(mode, "powerloss") != 0)
		return;
	pl.real = sqlite3_vfs_find(NULL);
	if (!pl.real) {
		fprintf(stderr, "powerloss-vfs: no default VFS\n");
		abort();
	}
	pl.sync_us = (gulong)env_number("SLOTD_TEST_VFS_SYNC_US", 0);
	pl.writeback = writeback ? g_ascii_strtod(writeback, NULL) : 0;
	pl.rand = g_rand_new_with_seed(
		(guint32)env_number("SLOTD_TEST_VFS_SEED", 1));
	pl.sync_off = g_strcmp0(sync, "off") == 0;
	pl.files = g_hash_table_new(g_str_hash, g_str_equal);
	pl.synced = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  NULL);
	if (log_path && *log_path)
		pl.log = fopen(log_path, "ae");
	pl_vfs.szOsFile = (int)sizeof(PlFile) + pl.real->szOsFile;
	pl_vfs.mxPathname = pl.real->mxPathname;
	if (sqlite3_vfs_register(&pl_vfs, 1) != SQLITE_OK) {
		fprintf(stderr, "powerloss-vfs: cannot register\n");
		abort();
	}
	if (pl.sync_off)
		sqlite3_auto_extension((void (*)(void))force_sync_off);
	log_line("registered", pl.sync_off ? "synchronous=off" : "");
}
