/* The bare SQLite baselines: what a durable booking costs on this disk
 * with nothing of slotd around it, and what a one-row commit costs.
 * Same settings as slotd's store: WAL, synchronous=FULL, foreign keys,
 * BEGIN IMMEDIATE, statements prepared once. And the disk itself: the
 * latency of a 4 KiB write followed by fdatasync.
 *
 * The "wide" variant is a diagnosis, not a baseline: the same booking
 * with the rows and indexes slotd's schema writes for one (five booking
 * indexes and a unique key, the seat-use row, the audit row), so that
 * what the schema costs on disk can be told apart from what the daemon
 * costs around it. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

/* Slots the bare bookings cycle through; each has room for all. */
#define BARE_SLOTS 4096

enum {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK, Q_SEATS, Q_TAKE, Q_BOOK, Q_ROW,
	Q_USE, Q_AUDIT, N_BARE_QUERIES
};

static const char *const bare_sql[N_BARE_QUERIES] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SEATS] = "SELECT capacity - booked FROM slot WHERE id = ?1",
	[Q_TAKE] = "UPDATE slot SET booked = booked + 1 WHERE id = ?1"
		   " AND booked < capacity",
	[Q_BOOK] = "INSERT INTO booking (slot, client_ref, status, created)"
		   " VALUES (?1, ?2, 'booked', ?3)",
	[Q_ROW] = "INSERT INTO commit_row (value) VALUES (?1)",
	[Q_USE] = "INSERT INTO booking_use (booking, slot, seats)"
		  " VALUES (last_insert_rowid(), ?1, 1)",
	[Q_AUDIT] = "INSERT INTO audit (at, uid, caller, action, booking)"
		    " VALUES (?1, 0, ':1.42', 'book', last_insert_rowid())",
};

static const char bare_schema[] =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = FULL;"
	"PRAGMA foreign_keys = ON;"
	"CREATE TABLE IF NOT EXISTS slot ("
	" id INTEGER PRIMARY KEY,"
	" capacity INTEGER NOT NULL,"
	" booked INTEGER NOT NULL DEFAULT 0,"
	" CHECK (booked <= capacity));"
	"CREATE TABLE IF NOT EXISTS commit_row ("
	" id INTEGER PRIMARY KEY,"
	" value INTEGER NOT NULL);";

static const char narrow_schema[] =
	"CREATE TABLE IF NOT EXISTS booking ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" slot INTEGER NOT NULL REFERENCES slot (id),"
	" client_ref TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" created INTEGER NOT NULL);";

/* What slotd's schema adds to a booking (see the comment above). */
static const char wide_schema[] =
	"CREATE TABLE IF NOT EXISTS booking ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" slot INTEGER NOT NULL REFERENCES slot (id),"
	" offering TEXT NOT NULL DEFAULT 'W-049-DIGI02/remote-counselling',"
	" unit TEXT NOT NULL DEFAULT 'W-049-DIGI02',"
	" service TEXT NOT NULL DEFAULT 'remote-counselling',"
	" start INTEGER NOT NULL DEFAULT 0,"
	" client_ref TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" idempotency_key TEXT UNIQUE,"
	" created INTEGER NOT NULL,"
	" modified INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS booking_by_unit ON booking (unit, start);"
	"CREATE INDEX IF NOT EXISTS booking_by_client"
	" ON booking (client_ref, start);"
	"CREATE INDEX IF NOT EXISTS booking_by_service"
	" ON booking (service, start);"
	"CREATE INDEX IF NOT EXISTS booking_by_offering"
	" ON booking (offering, start);"
	"CREATE INDEX IF NOT EXISTS booking_by_modified ON booking (modified);"
	"CREATE TABLE IF NOT EXISTS booking_use ("
	" booking INTEGER NOT NULL, slot INTEGER NOT NULL,"
	" seats INTEGER NOT NULL, PRIMARY KEY (booking, slot)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS booking_use_by_slot ON booking_use (slot);"
	"CREATE TABLE IF NOT EXISTS audit ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
	" uid INTEGER NOT NULL, caller TEXT NOT NULL, action TEXT NOT NULL,"
	" booking INTEGER, detail TEXT);"
	"CREATE INDEX IF NOT EXISTS audit_by_booking ON audit (booking);";

struct _BareStore {
	sqlite3 *db;
	sqlite3_stmt *q[N_BARE_QUERIES];
	guint64 serial;
	gboolean wide;
};

static gboolean
bare_fail(BareStore *store, const char *what, GError **error)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "bare SQLite, %s: %s",
		    what, sqlite3_errmsg(store->db));
	return FALSE;
}

static gboolean
fill_slots(BareStore *store, GError **error)
{
	g_autofree char *sql = g_strdup_printf(
		"WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1"
		" FROM n WHERE v < %d)"
		" INSERT OR IGNORE INTO slot (id, capacity)"
		" SELECT v, 1000000000 FROM n", BARE_SLOTS);

	if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return bare_fail(store, "filling slots", error);
	return TRUE;
}

BareStore *
bare_store_open(const char *dir, gboolean wide, GError **error)
{
	g_autofree char *path = g_build_filename(
		dir, wide ? "bare-wide.db" : "bare.db", NULL);
	BareStore *store = g_new0(BareStore, 1);

	store->wide = wide;
	if (sqlite3_open(path, &store->db) != SQLITE_OK ||
	    sqlite3_exec(store->db, bare_schema, NULL, NULL, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(store->db, wide ? wide_schema : narrow_schema, NULL,
			 NULL, NULL) != SQLITE_OK) {
		bare_fail(store, "opening", error);
		bare_store_close(store);
		return NULL;
	}
	if (!fill_slots(store, error)) {
		bare_store_close(store);
		return NULL;
	}
	for (guint i = 0; i < (wide ? N_BARE_QUERIES : Q_USE); i++)
		if (sqlite3_prepare_v3(store->db, bare_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &store->q[i],
				       NULL) != SQLITE_OK) {
			bare_fail(store, bare_sql[i], error);
			bare_store_close(store);
			return NULL;
		}
	return store;
}

void
bare_store_close(BareStore *store)
{
	if (!store)
		return;
	for (guint i = 0; i < N_BARE_QUERIES; i++)
		sqlite3_finalize(store->q[i]);
	sqlite3_close(store->db);
	g_free(store);
}

static gboolean
step(BareStore *store, guint id, GError **error)
{
	sqlite3_stmt *q = store->q[id];
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return TRUE;
	return bare_fail(store, bare_sql[id], error);
}

/* BEGIN IMMEDIATE; check seats; take one; insert the row; COMMIT. */
static gboolean
bare_book(BareStore *store, GError **error)
{
	gint64 slot = 1 + (gint64)(store->serial % BARE_SLOTS);
	char client_ref[32];
	sqlite3_stmt *seats = store->q[Q_SEATS];
	gboolean room;

	g_snprintf(client_ref, sizeof(client_ref), "bare-%08" G_GUINT64_FORMAT,
		   store->serial++);
	if (!step(store, Q_BEGIN, error))
		return FALSE;
	sqlite3_bind_int64(seats, 1, slot);
	room = sqlite3_step(seats) == SQLITE_ROW &&
	       sqlite3_column_int64(seats, 0) > 0;
	sqlite3_reset(seats);
	sqlite3_bind_int64(store->q[Q_TAKE], 1, slot);
	sqlite3_bind_int64(store->q[Q_BOOK], 1, slot);
	sqlite3_bind_text(store->q[Q_BOOK], 2, client_ref, -1,
			  SQLITE_TRANSIENT);
	sqlite3_bind_int64(store->q[Q_BOOK], 3, g_get_real_time() / 1000000);
	if (store->wide) {
		sqlite3_bind_int64(store->q[Q_USE], 1, slot);
		sqlite3_bind_int64(store->q[Q_AUDIT], 1,
				   g_get_real_time() / 1000000);
	}
	if (!room || !step(store, Q_TAKE, error) ||
	    sqlite3_changes(store->db) != 1 || !step(store, Q_BOOK, error) ||
	    (store->wide && (!step(store, Q_USE, error) ||
			     !step(store, Q_AUDIT, error))) ||
	    !step(store, Q_COMMIT, error)) {
		step(store, Q_ROLLBACK, NULL);
		if (error && !*error)
			bare_fail(store, "no seat left", error);
		return FALSE;
	}
	return TRUE;
}

static gboolean
bare_commit_row(BareStore *store, GError **error)
{
	sqlite3_bind_int64(store->q[Q_ROW], 1, (gint64)store->serial++);
	return step(store, Q_BEGIN, error) && step(store, Q_ROW, error) &&
	       step(store, Q_COMMIT, error);
}

static double
rate_for(BareStore *store, double seconds,
	 gboolean (*one)(BareStore *, GError **), GError **error)
{
	double start = bench_now_us(), until = start + seconds * 1e6, now;
	guint64 done = 0;

	do {
		if (!one(store, error))
			return -1;
		done++;
		now = bench_now_us();
	} while (now < until);
	return done / ((now - start) / 1e6);
}

double
bare_store_booking_rate(BareStore *store, double seconds, GError **error)
{
	return rate_for(store, seconds, bare_book, error);
}

double
bare_store_commit_rate(BareStore *store, double seconds, GError **error)
{
	return rate_for(store, seconds, bare_commit_row, error);
}

/* ---- the disk -------------------------------------------------------- */

gboolean
bare_fsync_latency(const char *dir, guint count, double *ret_median,
		   double *ret_p90, GError **error)
{
	g_autofree char *path = g_build_filename(dir, "fsync-probe", NULL);
	g_autoptr(GArray) ms = g_array_new(FALSE, FALSE, sizeof(double));
	char block[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "%s: %s", path, g_strerror(errno));
		return FALSE;
	}
	memset(block, 'w', sizeof(block));
	/* Appends, as a WAL does: each write grows the file. */
	for (guint i = 0; i < MAX(count, 1); i++) {
		double t0 = bench_now_us(), dt;

		if (pwrite(fd, block, sizeof(block),
			   (off_t)i * sizeof(block)) != sizeof(block) ||
		    fdatasync(fd) != 0) {
			g_set_error(error, G_IO_ERROR,
				    g_io_error_from_errno(errno), "%s: %s",
				    path, g_strerror(errno));
			close(fd);
			unlink(path);
			return FALSE;
		}
		dt = (bench_now_us() - t0) / 1000;
		g_array_append_val(ms, dt);
	}
	close(fd);
	unlink(path);
	*ret_p90 = bench_quantile(ms, 0.9);
	*ret_median = bench_quantile(ms, 0.5);
	return TRUE;
}
