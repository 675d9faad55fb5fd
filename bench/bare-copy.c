/* The bare booking on a copy of slotd's own database: the same schema,
 * the same rows and indexes, the same free slots of the service slotd
 * books from. A booking is what slotd's Book writes, with nothing of
 * slotd around it: read the slot, take a seat (the guarded UPDATE),
 * insert the booking row (every column slotd sets), its seat-use row,
 * its audit row and its notifications in the outbox (the confirmation,
 * and the reminders a day and two hours before that are still to
 * come, as slotd writes them), in a BEGIN IMMEDIATE transaction, WAL,
 * synchronous=FULL, statements prepared once.
 *
 * Two ways: one at a time on one connection (against Book from one
 * client), and a group commit (against Book from 16 clients): 16
 * threads hand their bookings to one committer, which takes whatever
 * is waiting (at most 64, as slotd's run_batch) into one transaction,
 * a savepoint per booking, and tells each its answer after COMMIT.
 *
 * Each measurement makes a given number of bookings (the same number
 * slotd makes in its measurement). The copy's free seats are a fixed
 * list; when fewer are left than the next measurement needs, the
 * bookings made so far are cancelled and their seats given back,
 * untimed, between measurements, and the list starts again. So every
 * measured booking is a real one (a free seat taken, new rows
 * written), and the harness cannot run out however fast it books. */
#include "bench.h"

#include <sqlite3.h>
#include <string.h>
#include <sys/resource.h>

/* At most this many bookings share a commit (slotd: 64). */
#define GROUP_MAX 64

enum {
	C_BEGIN, C_COMMIT, C_ROLLBACK, C_SLOT, C_TAKE, C_BOOK, C_USE, C_AUDIT,
	C_OUTBOX,
	C_SAVEPOINT, C_RELEASE, C_ROLLBACK_TO, N_COPY_QUERIES
};

static const char *const copy_sql[N_COPY_QUERIES] = {
	[C_BEGIN] = "BEGIN IMMEDIATE",
	[C_COMMIT] = "COMMIT",
	[C_ROLLBACK] = "ROLLBACK",
	[C_SLOT] = "SELECT offering, start, \"end\", capacity, booked, held,"
		   " status FROM slot WHERE id = ?1",
	[C_TAKE] = "UPDATE slot SET booked = booked + 1 WHERE id = ?1"
		   " AND status = 'free' AND booked + held + 1 <= capacity",
	[C_BOOK] = "INSERT INTO booking (slot, offering, unit, service, start,"
		   " \"end\", client_ref, status, seats, municipality,"
		   " language, modality, urgency, referral_time,"
		   " idempotency_key, extras, sequence, created, modified,"
		   " created_by, needs_rebooking, cancel_reason, series,"
		   " series_index, series_length)"
		   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'booked', 1, NULL,"
		   " ?8, NULL, NULL, 0, NULL, '@a{sv} {}', 1, ?9, ?9, 0, 0,"
		   " NULL, NULL, 0, 1)",
	[C_USE] = "INSERT INTO booking_use (booking, slot, seats)"
		  " VALUES (?1, ?2, 1)",
	[C_AUDIT] = "INSERT INTO audit (at, uid, caller, action, booking,"
		    " detail) VALUES (?1, 0, ':1.42', 'book', ?2, '')",
	/* The text as long as slotd's (about 70 characters). */
	[C_OUTBOX] = "INSERT INTO outbox (stream, booking, entry, kind,"
		     " sequence, due, idempotency_key, client_ref, language,"
		     " text, created) VALUES (?1, ?2, NULL, ?3, 0, ?4, ?5, ?6,"
		     " ?7, 'Aika varattu: 7.12.2026 klo 8.30, Esimerkkiyksikkö,"
		     " käynti.', ?8)",
	[C_SAVEPOINT] = "SAVEPOINT unit0",
	[C_RELEASE] = "RELEASE unit0",
	[C_ROLLBACK_TO] = "ROLLBACK TO unit0",
};

typedef struct {
	gint64 slot;
	guint serial;
	gboolean done;
	gboolean ok;
} Request;

struct _BareCopy {
	sqlite3 *db;
	sqlite3_stmt *q[N_COPY_QUERIES];
	char *service;
	char *language;
	GArray *seats;		/* gint64 slot id, one entry per free seat */
	gint next;		/* atomically taken */
	gint serial;
	gint64 last_before;	/* the last booking id before the harness */
	gint left;		/* bookings still to make, this measurement */
	guint recycled;		/* times the seats were given back */
	/* the group commit */
	GMutex lock;
	GCond cond;
	GQueue waiting;		/* Request */
	gboolean stopping;
	guint commits;
};

static gboolean
copy_fail(BareCopy *c, const char *what, GError **error)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
		    "bare booking on the copy, %s: %s", what,
		    sqlite3_errmsg(c->db));
	return FALSE;
}

/* An online copy of the live database (SQLite's backup API). */
static gboolean
copy_database(const char *live, const char *path, GError **error)
{
	sqlite3 *from = NULL, *to = NULL;
	sqlite3_backup *backup;
	gboolean ok = FALSE;

	if (sqlite3_open_v2(live, &from, SQLITE_OPEN_READONLY, NULL) ==
		    SQLITE_OK &&
	    sqlite3_open(path, &to) == SQLITE_OK &&
	    (backup = sqlite3_backup_init(to, "main", from, "main"))) {
		ok = sqlite3_backup_step(backup, -1) == SQLITE_DONE;
		ok = sqlite3_backup_finish(backup) == SQLITE_OK && ok;
	}
	if (!ok)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "copying %s: %s", live,
			    sqlite3_errmsg(to ? to : from));
	sqlite3_close(from);
	sqlite3_close(to);
	return ok;
}

/* Every free seat of the service's slots from an hour ahead on. */
static gboolean
find_seats(BareCopy *c, GError **error)
{
	g_autofree char *pattern = g_strdup_printf("%%/%s", c->service);
	sqlite3_stmt *q = NULL;
	int rc;

	if (sqlite3_prepare_v2(c->db,
			       "SELECT id, capacity - booked - held FROM slot"
			       " WHERE offering LIKE ?1 AND start > ?2"
			       " AND status = 'free' ORDER BY start, id",
			       -1, &q, NULL) != SQLITE_OK)
		return copy_fail(c, "finding free seats", error);
	sqlite3_bind_text(q, 1, pattern, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, g_get_real_time() / G_USEC_PER_SEC + 3600);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && c->seats->len < 1000000)
		for (gint64 n = sqlite3_column_int64(q, 1); n > 0; n--) {
			gint64 id = sqlite3_column_int64(q, 0);

			g_array_append_val(c->seats, id);
		}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return copy_fail(c, "finding free seats", error);
	bench_note("%u free seats on the copy", c->seats->len);
	return TRUE;
}

/* Where the harness's own bookings begin. */
static gboolean
last_booking(BareCopy *c, GError **error)
{
	sqlite3_stmt *q = NULL;
	gboolean ok;

	ok = sqlite3_prepare_v2(c->db,
				"SELECT coalesce(max(id), 0) FROM booking", -1,
				&q, NULL) == SQLITE_OK &&
	     sqlite3_step(q) == SQLITE_ROW;
	if (ok)
		c->last_before = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return ok || copy_fail(c, "reading the last booking", error);
}

BareCopy *
bare_copy_open(const char *live, const char *dir, const char *service,
	       const char *language, GError **error)
{
	g_autofree char *path = g_build_filename(dir, "bare-copy.db", NULL);
	BareCopy *c = g_new0(BareCopy, 1);

	c->service = g_strdup(service);
	c->language = g_strdup(language ? language : "fi");
	c->seats = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_mutex_init(&c->lock);
	g_cond_init(&c->cond);
	g_queue_init(&c->waiting);
	if (!copy_database(live, path, error)) {
		bare_copy_close(c);
		return NULL;
	}
	if (sqlite3_open(path, &c->db) != SQLITE_OK ||
	    sqlite3_exec(c->db,
			 "PRAGMA journal_mode = WAL;"
			 "PRAGMA synchronous = FULL;"
			 "PRAGMA foreign_keys = ON;"
			 "PRAGMA busy_timeout = 5000;",
			 NULL, NULL, NULL) != SQLITE_OK) {
		copy_fail(c, "opening", error);
		bare_copy_close(c);
		return NULL;
	}
	for (guint i = 0; i < N_COPY_QUERIES; i++)
		if (sqlite3_prepare_v3(c->db, copy_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &c->q[i],
				       NULL) != SQLITE_OK) {
			copy_fail(c, copy_sql[i], error);
			bare_copy_close(c);
			return NULL;
		}
	if (!find_seats(c, error) || !last_booking(c, error)) {
		bare_copy_close(c);
		return NULL;
	}
	return c;
}

void
bare_copy_close(BareCopy *c)
{
	if (!c)
		return;
	for (guint i = 0; i < N_COPY_QUERIES; i++)
		sqlite3_finalize(c->q[i]);
	sqlite3_close(c->db);
	g_array_unref(c->seats);
	g_mutex_clear(&c->lock);
	g_cond_clear(&c->cond);
	g_free(c->service);
	g_free(c->language);
	g_free(c);
}

static gboolean
run(BareCopy *c, guint id)
{
	int rc = sqlite3_step(c->q[id]);

	sqlite3_reset(c->q[id]);
	return rc == SQLITE_DONE || rc == SQLITE_ROW;
}

static gint64
take_seat(BareCopy *c)
{
	guint i = (guint)g_atomic_int_add(&c->next, 1);

	return i < c->seats->len ? g_array_index(c->seats, gint64, i) : 0;
}

/* Cancels every booking the harness made and gives their seats back,
 * as a Cancel would: the seat counts go down, the seat-use rows go,
 * the bookings stay, cancelled. One transaction, not timed. */
static gboolean
recycle(BareCopy *c, GError **error)
{
	g_autofree char *sql = g_strdup_printf(
		"BEGIN IMMEDIATE;"
		"UPDATE slot SET booked = booked - (SELECT sum(u.seats)"
		" FROM booking_use u WHERE u.slot = slot.id"
		" AND u.booking > %1$" G_GINT64_FORMAT ")"
		" WHERE id IN (SELECT slot FROM booking_use"
		" WHERE booking > %1$" G_GINT64_FORMAT ");"
		"DELETE FROM booking_use"
		" WHERE booking > %1$" G_GINT64_FORMAT ";"
		"UPDATE booking SET status = 'cancelled',"
		" sequence = sequence + 1,"
		" cancel_reason = 'benchmark: seat given back'"
		" WHERE id > %1$" G_GINT64_FORMAT " AND status = 'booked';"
		"COMMIT;", c->last_before);

	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		copy_fail(c, "giving the seats back", error);
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		return FALSE;
	}
	c->next = 0;
	c->recycled++;
	bench_note("the bare copy's %u seats given back (%u times so far)",
		   c->seats->len, c->recycled);
	return TRUE;
}

/* Free seats for `count` more bookings, giving them back if needed. */
static gboolean
ensure_seats(BareCopy *c, guint count, GError **error)
{
	if (c->seats->len < count) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "the copy has %u free seats of the service; a "
			    "measurement needs %u", c->seats->len, count);
		return FALSE;
	}
	if ((guint)c->next + count <= c->seats->len)
		return TRUE;
	return recycle(c, error);
}

guint
bare_copy_recycled(BareCopy *c)
{
	return c->recycled;
}

/* One outbox row of `booking`: `kind` due at `due`, keyed as slotd
 * keys them. */
static gboolean
outbox_row(BareCopy *c, gint64 booking, const char *kind, gint64 due,
	   const char *client_ref, gint64 now)
{
	sqlite3_stmt *q = c->q[C_OUTBOX];
	g_autofree char *stream = g_strdup_printf("b-%" G_GINT64_FORMAT,
						  booking);
	g_autofree char *key = g_strdup_printf("slotd:%s:%s:0", stream,
					       kind);

	sqlite3_bind_text(q, 1, stream, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, booking);
	sqlite3_bind_text(q, 3, g_str_has_prefix(kind, "reminder") ? "reminder"
								   : kind,
			  -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, due);
	sqlite3_bind_text(q, 5, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, client_ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, c->language, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 8, now);
	return run(c, C_OUTBOX);
}

/* The confirmation, and the reminders a day and two hours before the
 * start that are still ahead. */
static gboolean
outbox_rows(BareCopy *c, gint64 booking, gint64 start, const char *client_ref,
	    gint64 now)
{
	return outbox_row(c, booking, "booked", now, client_ref, now) &&
	       (start - 86400 <= now ||
		outbox_row(c, booking, "reminder-86400s", start - 86400,
			   client_ref, now)) &&
	       (start - 7200 <= now ||
		outbox_row(c, booking, "reminder-7200s", start - 7200,
			   client_ref, now));
}

/* The rows of one booking, inside a transaction. */
static gboolean
book_rows(BareCopy *c, gint64 slot, guint serial)
{
	sqlite3_stmt *q = c->q[C_SLOT], *b = c->q[C_BOOK];
	g_autofree char *offering = NULL;
	g_autofree char *unit = NULL;
	char client_ref[32];
	gint64 start, end, now = g_get_real_time() / G_USEC_PER_SEC;
	gint64 booking;
	char *slash;

	sqlite3_bind_int64(q, 1, slot);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_reset(q);
		return FALSE;
	}
	offering = g_strdup((const char *)sqlite3_column_text(q, 0));
	start = sqlite3_column_int64(q, 1);
	end = sqlite3_column_int64(q, 2);
	sqlite3_reset(q);
	unit = g_strdup(offering);
	if ((slash = strchr(unit, '/')))
		*slash = '\0';
	g_snprintf(client_ref, sizeof(client_ref), "bare-%07u", serial);
	sqlite3_bind_int64(c->q[C_TAKE], 1, slot);
	if (!run(c, C_TAKE) || sqlite3_changes(c->db) != 1)
		return FALSE;
	sqlite3_bind_int64(b, 1, slot);
	sqlite3_bind_text(b, 2, offering, -1, SQLITE_STATIC);
	sqlite3_bind_text(b, 3, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(b, 4, c->service, -1, SQLITE_STATIC);
	sqlite3_bind_int64(b, 5, start);
	sqlite3_bind_int64(b, 6, end);
	sqlite3_bind_text(b, 7, client_ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(b, 8, c->language, -1, SQLITE_STATIC);
	sqlite3_bind_int64(b, 9, now);
	if (!run(c, C_BOOK))
		return FALSE;
	booking = sqlite3_last_insert_rowid(c->db);
	sqlite3_bind_int64(c->q[C_USE], 1, booking);
	sqlite3_bind_int64(c->q[C_USE], 2, slot);
	sqlite3_bind_int64(c->q[C_AUDIT], 1, now);
	sqlite3_bind_int64(c->q[C_AUDIT], 2, booking);
	return run(c, C_USE) && run(c, C_AUDIT) &&
	       outbox_rows(c, booking, start, client_ref, now);
}

static gboolean
book_one(BareCopy *c, GError **error)
{
	gint64 slot = take_seat(c);
	guint serial = (guint)g_atomic_int_add(&c->serial, 1);

	if (!slot) { /* ensure_seats() was not asked */
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "the copy ran out of free seats");
		return FALSE;
	}
	if (run(c, C_BEGIN) && book_rows(c, slot, serial) && run(c, C_COMMIT))
		return TRUE;
	copy_fail(c, "booking", error);
	run(c, C_ROLLBACK);
	return FALSE;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

double
bare_copy_booking_rate(BareCopy *c, guint count, double *ret_cpu_ms,
		       GError **error)
{
	double start, cpu;

	if (count == 0 || !ensure_seats(c, count, error))
		return -1;
	start = bench_now_us();
	cpu = cpu_seconds();
	for (guint i = 0; i < count; i++)
		if (!book_one(c, error))
			return -1;
	*ret_cpu_ms = (cpu_seconds() - cpu) * 1000 / count;
	return count / ((bench_now_us() - start) / 1e6);
}

/* ---- the group commit ------------------------------------------------ */

static void
commit_group(BareCopy *c, Request **group, guint n)
{
	gboolean ok = run(c, C_BEGIN);

	for (guint i = 0; ok && i < n; i++) {
		if (!run(c, C_SAVEPOINT)) {
			ok = FALSE;
			break;
		}
		group[i]->ok = book_rows(c, group[i]->slot, group[i]->serial);
		if (!group[i]->ok)
			run(c, C_ROLLBACK_TO);
		run(c, C_RELEASE);
	}
	if (!ok || !run(c, C_COMMIT)) {
		run(c, C_ROLLBACK);
		for (guint i = 0; i < n; i++)
			group[i]->ok = FALSE;
	}
	g_mutex_lock(&c->lock);
	for (guint i = 0; i < n; i++)
		group[i]->done = TRUE;
	c->commits++;
	g_cond_broadcast(&c->cond);
	g_mutex_unlock(&c->lock);
}

static gpointer
committer(gpointer data)
{
	BareCopy *c = data;
	Request *group[GROUP_MAX];

	for (;;) {
		guint n = 0;

		g_mutex_lock(&c->lock);
		while (g_queue_is_empty(&c->waiting) && !c->stopping)
			g_cond_wait(&c->cond, &c->lock);
		while (n < GROUP_MAX && !g_queue_is_empty(&c->waiting))
			group[n++] = g_queue_pop_head(&c->waiting);
		g_mutex_unlock(&c->lock);
		if (n == 0)
			return NULL;
		commit_group(c, group, n);
	}
}

typedef struct {
	BareCopy *copy;
	guint done;
	gboolean failed;
} Client;

static gpointer
client(gpointer data)
{
	Client *cl = data;
	BareCopy *c = cl->copy;

	/* Until the measurement's bookings are all taken. */
	while (g_atomic_int_add(&c->left, -1) > 0) {
		Request r = { take_seat(c),
			      (guint)g_atomic_int_add(&c->serial, 1) };

		if (!r.slot) {
			cl->failed = TRUE;
			break;
		}
		g_mutex_lock(&c->lock);
		g_queue_push_tail(&c->waiting, &r);
		g_cond_broadcast(&c->cond);
		while (!r.done)
			g_cond_wait(&c->cond, &c->lock);
		g_mutex_unlock(&c->lock);
		if (!r.ok) {
			cl->failed = TRUE;
			break;
		}
		cl->done++;
	}
	return NULL;
}

double
bare_copy_group_rate(BareCopy *c, int clients, guint count,
		     double *ret_cpu_ms, GError **error)
{
	g_autofree Client *cls = g_new0(Client, clients);
	g_autofree GThread **threads = g_new0(GThread *, clients);
	GThread *commit;
	double start, cpu, elapsed;
	guint done = 0;
	gboolean failed = FALSE;

	if (count == 0 || !ensure_seats(c, count, error))
		return -1;
	c->stopping = FALSE;
	c->left = (gint)count;
	start = bench_now_us();
	cpu = cpu_seconds();
	commit = g_thread_new("committer", committer, c);
	for (int i = 0; i < clients; i++) {
		cls[i] = (Client){ c, 0, FALSE };
		threads[i] = g_thread_new("bare-client", client, &cls[i]);
	}
	for (int i = 0; i < clients; i++) {
		g_thread_join(threads[i]);
		done += cls[i].done;
		failed |= cls[i].failed;
	}
	elapsed = (bench_now_us() - start) / 1e6;
	g_mutex_lock(&c->lock);
	c->stopping = TRUE;
	g_cond_broadcast(&c->cond);
	g_mutex_unlock(&c->lock);
	g_thread_join(commit);
	if (failed || done != count) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "bare group commit: a booking failed (%s)",
			    sqlite3_errmsg(c->db));
		return -1;
	}
	*ret_cpu_ms = (cpu_seconds() - cpu) * 1000 / done;
	return done / elapsed;
}
