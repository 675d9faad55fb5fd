/* WAL checkpoints off the main loop. SQLite's own automatic checkpoint
 * runs inside the COMMIT that crosses its threshold: it copies the
 * WAL's pages into the database file and syncs it, tens of
 * milliseconds during which the loop answers nobody. The main
 * connection's WAL hook (called after each commit, the write lock
 * already released) only notes the WAL's length; past CHECKPOINT_PAGES
 * a thread with a connection of its own runs a PASSIVE checkpoint,
 * which copies what no reader still needs while the main connection
 * goes on committing. A WAL that keeps growing all the same (the
 * thread starved, or a reader holding old pages) is checkpointed by the
 * commit that takes it past CHECKPOINT_PAGES_FORCE, as SQLite would.
 *
 * The WAL starts over (its next commit writes from its first frame) only
 * when a transaction begins after every frame was copied. Under steady
 * commits the next transaction has usually begun before the thread's
 * pass ends, so the WAL kept growing and the thread copied each commit's
 * pages again, with a sync of the database file, after every commit:
 * twice the writes and syncs of a booking. So a commit that finds the
 * thread's last pass at most RESTART_PAGES behind copies those few
 * frames itself: the next transaction then finds the WAL all copied,
 * and the WAL starts over, once in about 1,000 pages.
 *
 * The thread's connection syncs as the main one does (synchronous =
 * FULL): a checkpoint syncs the database file before the WAL can be
 * reused, so no committed change depends on which connection copied
 * it. */
#define G_LOG_DOMAIN "slotd-store"

#include "store-private.h"
#include "loop-watch.h"


/* SQLite's default threshold for its automatic checkpoint (pages). */
#define CHECKPOINT_PAGES 1000
/* Past this the committing connection checkpoints itself (40 MiB). */
#define CHECKPOINT_PAGES_FORCE 10000
/* A commit copies at most this many frames itself to let the WAL start
 * over (the last commit or two after the thread's pass). */
#define RESTART_PAGES 128
/* From this on, store_wal_busy() asks bulk writers to wait for the
 * thread. */
#define CHECKPOINT_PAGES_BACKLOG (CHECKPOINT_PAGES_FORCE * 3 / 4)

struct _StoreCheckpointer {
	char *path;
	GThread *thread;
	GMutex lock;
	GCond wake;
	gboolean wanted;	/* a checkpoint is asked for */
	gboolean stopping;
	guint done;		/* checkpoints run by the thread */
	guint forced;		/* run by the committing connection */
	guint restarts;		/* its own frames copied by a commit */
	int pages;		/* the WAL's length after the last commit */
	int copied_to;		/* the thread copied the WAL up to here */
	gboolean caught_up;	/* the thread copied all of it since */
	gboolean copying;	/* the thread is in a checkpoint now */
};

static sqlite3 *
open_connection(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous = FULL;"
			 "PRAGMA trusted_schema = OFF;", NULL, NULL,
			 NULL) != SQLITE_OK) {
		g_warning("the checkpoint connection cannot be opened: %s",
			  db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	return db;
}

/* With cp->lock held: the thread runs a pass when it next can. */
static void
ask_thread(StoreCheckpointer *cp)
{
	if (!cp->wanted) {
		cp->wanted = TRUE;
		g_cond_signal(&cp->wake);
	}
}

static void
warn_failed(int rc, sqlite3 *db)
{
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		g_warning("a WAL checkpoint failed: %s",
			  db ? sqlite3_errmsg(db) : "no connection");
}

/* With cp->lock held, after a PASSIVE checkpoint that returned `rc`,
 * `frames` and `copied`: TRUE when it copied the whole WAL, which is
 * then noted as copied up to its length. */
static gboolean
note_copied(StoreCheckpointer *cp, int rc, int frames, int copied)
{
	if (rc != SQLITE_OK || frames < 0 || copied != frames)
		return FALSE;
	cp->copied_to = frames;
	return TRUE;
}

/* A PASSIVE checkpoint on the committing connection, after its commit
 * (no other commit can come meanwhile), counted in `count`. */
static void
checkpoint_in_commit(StoreCheckpointer *cp, sqlite3 *db, const char *name,
		     guint *count)
{
	int frames = -1, copied = -1;
	int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
					   &frames, &copied);

	g_mutex_lock(&cp->lock);
	(*count)++;
	if (note_copied(cp, rc, frames, copied))
		cp->caught_up = TRUE;
	g_mutex_unlock(&cp->lock);
	warn_failed(rc, db);
}

static gpointer
checkpoint_thread(gpointer data)
{
	StoreCheckpointer *cp = data;
	sqlite3 *db = NULL;

	/* Not lowered like the other workers: what it does not copy in
	 * time, a commit on the main loop would. */
	g_mutex_lock(&cp->lock);
	for (;;) {
		int rc, frames = 0, copied = 0;

		while (!cp->wanted && !cp->stopping)
			g_cond_wait(&cp->wake, &cp->lock);
		if (cp->stopping)
			break;
		cp->wanted = FALSE;
		cp->copying = TRUE;
		g_mutex_unlock(&cp->lock);
		if (db == NULL)
			db = open_connection(cp->path);
		rc = db ? sqlite3_wal_checkpoint_v2(db, NULL,
						    SQLITE_CHECKPOINT_PASSIVE,
						    &frames, &copied)
			: SQLITE_CANTOPEN;
		/* BUSY: another checkpoint runs (one in a commit); the
		 * next commit asks again. */
		warn_failed(rc, db);
		g_mutex_lock(&cp->lock);
		cp->copying = FALSE;
		cp->done++;
		/* Everything copied: the next transaction restarts the WAL.
		 * Not when a commit came meanwhile (it asked again). */
		if (note_copied(cp, rc, frames, copied) && !cp->wanted)
			cp->caught_up = TRUE;
	}
	g_mutex_unlock(&cp->lock);
	sqlite3_close(db);
	return NULL;
}

/* On the committing thread, after the commit. Never waits for the
 * checkpoint thread. */
static int
on_wal(void *data, sqlite3 *db, const char *name, int pages)
{
	StoreCheckpointer *cp = data;
	int left;		/* frames the thread has not copied */

	g_mutex_lock(&cp->lock);
	/* Shorter than what was copied: the WAL has started over. */
	if (pages < cp->copied_to)
		cp->copied_to = 0;
	cp->pages = pages;
	left = pages - cp->copied_to;
	cp->caught_up = FALSE;
	g_mutex_unlock(&cp->lock);
	if (pages >= CHECKPOINT_PAGES && pages < CHECKPOINT_PAGES_FORCE &&
	    cp->copied_to > 0 && left <= RESTART_PAGES) {
		LOOP_WORK("wal restart in commit", NULL);
		checkpoint_in_commit(cp, db, name, &cp->restarts);
		return SQLITE_OK;
	}
	if (pages >= CHECKPOINT_PAGES_FORCE) {
		LOOP_WORK("wal checkpoint in commit", NULL);
		checkpoint_in_commit(cp, db, name, &cp->forced);
		return SQLITE_OK;
	}
	if (pages < CHECKPOINT_PAGES)
		return SQLITE_OK;
	g_mutex_lock(&cp->lock);
	ask_thread(cp);
	g_mutex_unlock(&cp->lock);
	return SQLITE_OK;
}

int
store_wal_pages(Store *store)
{
	StoreCheckpointer *cp = store->checkpointer;
	int pages;

	if (cp == NULL)
		return -1;
	g_mutex_lock(&cp->lock);
	pages = cp->pages;
	g_mutex_unlock(&cp->lock);
	return pages;
}

gboolean
store_wal_busy(Store *store)
{
	StoreCheckpointer *cp = store->checkpointer;
	gboolean backlogged, busy;

	if (cp == NULL)
		return FALSE;
	g_mutex_lock(&cp->lock);
	backlogged = cp->pages >= CHECKPOINT_PAGES_BACKLOG && !cp->caught_up;
	/* No commit comes to ask while the writer waits: ask here (a
	 * reader holding old pages may have kept the last pass short). */
	if (backlogged)
		ask_thread(cp);
	/* Asked for and not begun yet counts: the thread is waking. */
	busy = backlogged || cp->copying || cp->wanted;
	g_mutex_unlock(&cp->lock);
	return busy;
}

StoreCheckpointer *
store_checkpointer_start(Store *store)
{
	StoreCheckpointer *cp = g_new0(StoreCheckpointer, 1);

	cp->path = g_strdup(store->path);
	g_mutex_init(&cp->lock);
	g_cond_init(&cp->wake);
	cp->thread = g_thread_new("slotd-checkpoint", checkpoint_thread, cp);
	/* Replaces SQLite's automatic checkpoint on this connection. */
	sqlite3_wal_hook(store->db, on_wal, cp);
	return cp;
}

void
store_checkpointer_stop(Store *store, StoreCheckpointer *cp)
{
	if (cp == NULL)
		return;
	sqlite3_wal_hook(store->db, NULL, NULL);
	g_mutex_lock(&cp->lock);
	cp->stopping = TRUE;
	g_cond_signal(&cp->wake);
	g_mutex_unlock(&cp->lock);
	g_thread_join(cp->thread);
	g_mutex_clear(&cp->lock);
	g_cond_clear(&cp->wake);
	g_free(cp->path);
	g_free(cp);
}

void
store_checkpoint_counts(Store *store, guint *ret_done, guint *ret_forced,
			guint *ret_restarts)
{
	StoreCheckpointer *cp = store->checkpointer;

	*ret_done = *ret_forced = 0;
	if (ret_restarts)
		*ret_restarts = 0;
	if (cp == NULL)
		return;
	g_mutex_lock(&cp->lock);
	*ret_done = cp->done;
	*ret_forced = cp->forced;
	if (ret_restarts)
		*ret_restarts = cp->restarts;
	g_mutex_unlock(&cp->lock);
}
