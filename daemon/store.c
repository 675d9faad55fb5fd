/* The durable store: one SQLite connection, the schema and its
 * migrations, statements prepared once, transactions, and every change
 * to slots, seats, holds, bookings, the audit log and the kv table.
 * Reads, checks and backups are in store-report.c. */
#define G_LOG_DOMAIN "slotd-store"

#include "store-private.h"
#include "loop-watch.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* ---- schema ---------------------------------------------------------- */

/* Version 1. Later versions append a step to `migrations`; a released
 * step is never edited. The UNIQUE index of slot also serves lookups
 * by (offering, start).
 *
 * Each booking index costs a WAL frame a booking (21 in all with the
 * rows of the other tables, issue 17), but none is spare:
 * booking_by_service is the only one the planner's reads by service
 * (store-plan.c) and ListBookings by service can use — without it
 * they scan every booking. The inline UNIQUE of idempotency_key cannot
 * become a partial index without rebuilding the table. */
static const char schema_v1[] =
	"CREATE TABLE slot ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" offering TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" start INTEGER NOT NULL,"
	" \"end\" INTEGER NOT NULL,"
	" capacity INTEGER NOT NULL CHECK (capacity >= 0),"
	" booked INTEGER NOT NULL DEFAULT 0,"
	" held INTEGER NOT NULL DEFAULT 0,"
	" status TEXT NOT NULL DEFAULT 'free'"
	"  CHECK (status IN ('free', 'busy-unavailable')),"
	" generation INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (offering, start, kind),"
	" CHECK (\"end\" > start),"
	" CONSTRAINT seats_not_negative CHECK (booked >= 0 AND held >= 0),"
	" CONSTRAINT seats_within_capacity"
	"  CHECK (booked + held <= capacity));"
	"CREATE TABLE booking ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" slot INTEGER NOT NULL REFERENCES slot (id),"
	" offering TEXT NOT NULL,"
	" unit TEXT NOT NULL,"
	" service TEXT NOT NULL,"
	" start INTEGER NOT NULL,"
	" \"end\" INTEGER NOT NULL,"
	" client_ref TEXT NOT NULL DEFAULT '',"
	" status TEXT NOT NULL CHECK (status IN ('proposed', 'pending',"
	"  'booked', 'arrived', 'checked-in', 'fulfilled', 'cancelled',"
	"  'noshow', 'entered-in-error', 'waitlist')),"
	" seats INTEGER NOT NULL DEFAULT 1 CHECK (seats >= 1),"
	" municipality TEXT,"
	" language TEXT,"
	" modality TEXT,"
	" urgency TEXT,"
	" referral_time INTEGER NOT NULL DEFAULT 0,"
	" idempotency_key TEXT UNIQUE,"
	" extras TEXT NOT NULL DEFAULT '@a{sv} {}',"
	" sequence INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" modified INTEGER NOT NULL,"
	" created_by INTEGER NOT NULL,"
	" needs_rebooking INTEGER NOT NULL DEFAULT 0"
	"  CHECK (needs_rebooking IN (0, 1)),"
	" cancel_reason TEXT);"
	"CREATE INDEX booking_by_unit ON booking (unit, start);"
	"CREATE INDEX booking_by_client ON booking (client_ref, start);"
	"CREATE INDEX booking_by_service ON booking (service, start);"
	"CREATE INDEX booking_by_offering ON booking (offering, start);"
	"CREATE INDEX booking_by_modified ON booking (modified);"
	/* Which slots a booking holds seats in, while it holds them. */
	"CREATE TABLE booking_use ("
	" booking INTEGER NOT NULL REFERENCES booking (id),"
	" slot INTEGER NOT NULL REFERENCES slot (id),"
	" seats INTEGER NOT NULL CHECK (seats >= 1),"
	" PRIMARY KEY (booking, slot)) WITHOUT ROWID;"
	"CREATE INDEX booking_use_by_slot ON booking_use (slot);"
	"CREATE TABLE hold ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" slot INTEGER NOT NULL REFERENCES slot (id),"
	" seats INTEGER NOT NULL CHECK (seats >= 1),"
	" expires INTEGER NOT NULL,"
	" uid INTEGER NOT NULL);"
	"CREATE INDEX hold_by_expiry ON hold (expires);"
	"CREATE TABLE offering_horizon ("
	" offering TEXT PRIMARY KEY,"
	" until INTEGER NOT NULL,"
	" digest TEXT NOT NULL);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" caller TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" booking INTEGER,"
	" detail TEXT);"
	"CREATE INDEX audit_by_booking ON audit (booking);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
	" SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
	" SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL) WITHOUT ROWID;";

/* Version 2: feed tokens (store-feed.c). Only a token's SHA-256 is
 * kept; a revoked token keeps its row for the audit trail. */
static const char schema_v2[] =
	"CREATE TABLE feed_token ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" unit TEXT NOT NULL,"
	" service TEXT NOT NULL DEFAULT '',"
	" created INTEGER NOT NULL,"
	" created_by INTEGER NOT NULL,"
	" revoked INTEGER);";

/* Version 3: one admission rule for find, hold and book. A hold
 * reserves what the booking would take — seats in a run of slots — and
 * carries the request it was taken for, so plugins see it as a
 * booking in progress; bookings of a series know their series. */
static const char schema_v3[] =
	"CREATE TABLE hold_use ("
	" hold INTEGER NOT NULL REFERENCES hold (id),"
	" slot INTEGER NOT NULL REFERENCES slot (id),"
	" seats INTEGER NOT NULL CHECK (seats >= 1),"
	" PRIMARY KEY (hold, slot)) WITHOUT ROWID;"
	"CREATE INDEX hold_use_by_slot ON hold_use (slot);"
	"INSERT INTO hold_use (hold, slot, seats)"
	" SELECT id, slot, seats FROM hold;"
	"ALTER TABLE hold ADD COLUMN offering TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE hold ADD COLUMN service TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE hold ADD COLUMN start INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE hold ADD COLUMN \"end\" INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE hold ADD COLUMN client_ref TEXT;"
	"ALTER TABLE hold ADD COLUMN extras TEXT NOT NULL DEFAULT '@a{sv} {}';"
	"ALTER TABLE hold ADD COLUMN created INTEGER NOT NULL DEFAULT 0;"
	"UPDATE hold SET offering = (SELECT offering FROM slot"
	" WHERE slot.id = hold.slot), start = (SELECT start FROM slot"
	" WHERE slot.id = hold.slot), \"end\" = (SELECT \"end\" FROM slot"
	" WHERE slot.id = hold.slot);"
	"CREATE INDEX hold_by_client ON hold (client_ref, start);"
	"ALTER TABLE booking ADD COLUMN series INTEGER;"
	"ALTER TABLE booking ADD COLUMN series_index INTEGER NOT NULL"
	" DEFAULT 0;"
	"ALTER TABLE booking ADD COLUMN series_length INTEGER NOT NULL"
	" DEFAULT 1;"
	"CREATE INDEX booking_by_series ON booking (series)"
	" WHERE series IS NOT NULL;";

/* Version 4: resources. Which practitioners, rooms and vehicles a
 * booking or a hold takes, and when (store-resource.c): a row counts
 * while its booking holds seats (booking_use) or its hold exists, so
 * every path that gives seats back frees the resources with them.
 * Absences entered at run time; never deleted, only withdrawn. */
static const char schema_v4[] =
	"CREATE TABLE resource_use ("
	" resource TEXT NOT NULL,"
	" unit TEXT NOT NULL,"
	" booking INTEGER REFERENCES booking (id),"
	" hold INTEGER,"
	" slot INTEGER NOT NULL,"
	" start INTEGER NOT NULL,"
	" \"end\" INTEGER NOT NULL,"
	" CHECK ((booking IS NULL) <> (hold IS NULL)),"
	" CHECK (\"end\" > start AND \"end\" - start <= 172800));"
	"CREATE INDEX resource_use_by_unit ON resource_use (unit, start);"
	"CREATE INDEX resource_use_by_resource ON resource_use"
	" (resource, start);"
	"CREATE INDEX resource_use_by_booking ON resource_use (booking)"
	" WHERE booking IS NOT NULL;"
	"CREATE INDEX resource_use_by_hold ON resource_use (hold)"
	" WHERE hold IS NOT NULL;"
	"CREATE TABLE absence ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" resource TEXT NOT NULL,"
	" start INTEGER NOT NULL,"
	" \"end\" INTEGER NOT NULL,"
	" reason TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" created_by INTEGER NOT NULL,"
	" withdrawn INTEGER,"
	" CHECK (\"end\" > start));";

/* What a HoldFor hold was taken for (capacity_request_text()): Book
 * with the hold must ask the same. '' for holds that promise nothing
 * about a request (Hold, waitlist offers, campaigns, and holds of
 * before version 6). */
static const char schema_v6[] =
	"ALTER TABLE hold ADD COLUMN request TEXT NOT NULL DEFAULT '';";

/* Version 7: the longest slot each offering has had. A search that
 * takes slots already in progress looks back that far for them, not a
 * whole day (capacity-find.c); only grows (store_upsert_slot). */
static const char schema_v7[] =
	"CREATE TABLE slot_span ("
	" offering TEXT PRIMARY KEY,"
	" longest INTEGER NOT NULL CHECK (longest > 0)) WITHOUT ROWID;"
	"INSERT INTO slot_span (offering, longest)"
	" SELECT offering, max(\"end\" - start) FROM slot GROUP BY offering;";

/* Version 8: the CHECKs that list three values or more say it with
 * OR. SQLite builds a temporary B-tree for an IN list of that length
 * on every insert it checks: five a booking (its status, and the kind
 * and state of each outbox row), about 60 k instructions of a Book's
 * 730 k. The definitions are rewritten in sqlite_schema, the way
 * SQLite documents for changing a CHECK that every row already meets
 * (the same test); apply_migrations() then raises the schema cookie. */
#define CHECK_AS_OR(table, in_list, or_chain) \
	"UPDATE sqlite_schema SET \"sql\" = replace(\"sql\", '" in_list \
	"', '" or_chain "') WHERE type = 'table' AND name = '" table "';"
static const char schema_v8[] =
	"PRAGMA writable_schema = ON;"
	CHECK_AS_OR("booking",
		    "status IN (''proposed'', ''pending'',  ''booked'', "
		    "''arrived'', ''checked-in'', ''fulfilled'', "
		    "''cancelled'',  ''noshow'', ''entered-in-error'', "
		    "''waitlist'')",
		    "(status = ''proposed'' OR status = ''pending'' OR "
		    "status = ''booked'' OR status = ''arrived'' OR "
		    "status = ''checked-in'' OR status = ''fulfilled'' OR "
		    "status = ''cancelled'' OR status = ''noshow'' OR "
		    "status = ''entered-in-error'' OR status = ''waitlist'')")
	CHECK_AS_OR("waitlist_entry",
		    "status IN (''waiting'', ''booked'', ''left'')",
		    "(status = ''waiting'' OR status = ''booked'' OR "
		    "status = ''left'')")
	CHECK_AS_OR("waitlist_offer",
		    "status IN (''open'',  ''accepted'', ''declined'', "
		    "''expired'', ''withdrawn'')",
		    "(status = ''open'' OR status = ''accepted'' OR "
		    "status = ''declined'' OR status = ''expired'' OR "
		    "status = ''withdrawn'')")
	CHECK_AS_OR("outbox",
		    "kind IN (''booked'', ''rescheduled'',  ''cancelled'', "
		    "''offer'', ''reminder'')",
		    "(kind = ''booked'' OR kind = ''rescheduled'' OR "
		    "kind = ''cancelled'' OR kind = ''offer'' OR "
		    "kind = ''reminder'')")
	CHECK_AS_OR("outbox",
		    "state IN (''pending'',  ''claimed'', ''acked'', ''void'')",
		    "(state = ''pending'' OR state = ''claimed'' OR "
		    "state = ''acked'' OR state = ''void'')")
	/* Off, and this connection reads the definitions again. */
	"PRAGMA writable_schema = RESET;";

/* Version 9: where a booking's practitioners, rooms and cars were
 * before it moved. resource_use keeps only a booking's present places;
 * a move writes the ones it gives up here (store_forget_resources),
 * with the booking as it was there, so that a practitioner's feed can
 * show a visit moved to someone else as cancelled at its old time and
 * place, as a unit's feed shows a booking moved to another unit. Rows
 * go once the feeds no longer show them (cancelled-feed-days). */
static const char schema_v9[] =
	"CREATE TABLE resource_left ("
	" id INTEGER PRIMARY KEY,"
	" resource TEXT NOT NULL,"
	" booking INTEGER NOT NULL REFERENCES booking (id),"
	" offering TEXT NOT NULL,"
	" unit TEXT NOT NULL,"
	" start INTEGER NOT NULL,"
	" \"end\" INTEGER NOT NULL,"
	" use_start INTEGER NOT NULL,"
	" use_end INTEGER NOT NULL,"
	" municipality TEXT,"
	" modality TEXT,"
	" left_at INTEGER NOT NULL);"
	"CREATE INDEX resource_left_by_resource ON resource_left"
	" (resource, start);"
	"CREATE INDEX resource_left_by_booking ON resource_left (booking);"
	"CREATE INDEX resource_left_by_time ON resource_left (left_at);";

static const char *const migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	store_schema_waitlist,	/* version 5, store-waitlist.c */
	schema_v6,
	schema_v7,
	schema_v8,
	schema_v9,
};

/* ---- statements ----------------------------------------------------- */

/* The meta key of the highest generation a slot has been written with
 * (store_next_generation()). */
#define META_GENERATION "slot-generation"

#define SAVEPOINT_SQL(n) \
	[Q_SAVEPOINT + n] = "SAVEPOINT unit" #n, \
	[Q_RELEASE + n] = "RELEASE unit" #n, \
	[Q_ROLLBACK_TO + n] = "ROLLBACK TO unit" #n

/* Bookings with seats in busy-unavailable slots of offering ?1 that
 * start in [?2, ?3). */
#define IN_WITHDRAWN_SLOTS \
	"SELECT u.booking FROM booking_use u JOIN slot s ON s.id = u.slot" \
	" WHERE s.offering = ?1 AND s.start >= ?2 AND s.start < ?3" \
	" AND s.status = 'busy-unavailable'"

static const char *const core_sql[N_QUERIES] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_OP_SAVEPOINT] = "SAVEPOINT store_op",
	[Q_OP_RELEASE] = "RELEASE store_op",
	[Q_OP_ROLLBACK] = "ROLLBACK TO store_op",
	SAVEPOINT_SQL(0),
	SAVEPOINT_SQL(1),
	SAVEPOINT_SQL(2),
	SAVEPOINT_SQL(3),
	[Q_USER_VERSION] = "PRAGMA user_version",
	[Q_SCHEMA_COOKIE] = "PRAGMA schema_version",
	[Q_JOURNAL_MODE] = "PRAGMA journal_mode = WAL",
	[Q_JOURNAL_MODE_READ] = "PRAGMA journal_mode",
	[Q_BEGIN_READ] = "BEGIN DEFERRED",
	[Q_CHECKPOINT] = "PRAGMA wal_checkpoint(TRUNCATE)",
	[Q_MAX_GENERATION] = "SELECT coalesce(max(generation), 0) FROM slot",
	[Q_SLOT_UPSERT] =
		"INSERT INTO slot (offering, kind, start, \"end\", capacity,"
		" generation) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (offering, start, kind) DO UPDATE SET"
		" \"end\" = excluded.\"end\", generation = excluded.generation,"
		" status = CASE WHEN excluded.capacity >= booked + held"
		"  THEN 'free' ELSE 'busy-unavailable' END,"
		" capacity = CASE WHEN excluded.capacity >= booked + held"
		"  THEN excluded.capacity ELSE capacity END"
		" RETURNING id",
	[Q_SLOT_WITHDRAW] =
		"UPDATE slot SET status = 'busy-unavailable'"
		" WHERE offering = ?1 AND start >= ?2 AND start < ?3"
		" AND generation <> ?4 AND status = 'free'",
	[Q_SLOT_WITHDRAW_FLAG] =
		STORE_FLAG_REBOOKING("?4") " AND id IN (" IN_WITHDRAWN_SLOTS ")"
		" RETURNING id",
	[Q_SLOT_WITHDRAW_ONE] =
		"UPDATE slot SET status = 'busy-unavailable'"
		" WHERE id = ?1 AND start >= ?2 AND status = 'free'",
	[Q_SLOT_STATUS] = "SELECT status FROM slot WHERE id = ?1",
	[Q_SEATS_TAKE] =
		"UPDATE slot SET booked = booked + ?2 WHERE id = ?1"
		" AND status = 'free' AND booked + held + ?2 <= capacity",
	[Q_SEATS_USE] =
		"INSERT INTO booking_use (booking, slot, seats)"
		" VALUES (?1, ?2, ?3) ON CONFLICT (booking, slot)"
		" DO UPDATE SET seats = seats + excluded.seats",
	[Q_SEATS_RELEASE] =
		"UPDATE slot SET booked = booked - (SELECT u.seats"
		" FROM booking_use u WHERE u.booking = ?1 AND u.slot = slot.id)"
		" WHERE id IN"
		" (SELECT slot FROM booking_use WHERE booking = ?1)",
	[Q_SEATS_FORGET] = "DELETE FROM booking_use WHERE booking = ?1",
	[Q_HORIZON_GET] =
		"SELECT until, digest FROM offering_horizon"
		" WHERE offering = ?1",
	[Q_HORIZON_SET] =
		"INSERT INTO offering_horizon (offering, until, digest)"
		" VALUES (?1, ?2, ?3) ON CONFLICT (offering) DO UPDATE SET"
		" until = excluded.until, digest = excluded.digest",
	[Q_HOLD_TAKE] =
		"UPDATE slot SET held = held + ?2 WHERE id = ?1"
		" AND status = 'free' AND booked + held + ?2 <= capacity",
	[Q_HOLD_INSERT] =
		"INSERT INTO hold (slot, seats, expires, uid, offering,"
		" service, start, \"end\", client_ref, extras, created,"
		" request)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[Q_HOLD_USE] =
		"INSERT INTO hold_use (hold, slot, seats) VALUES (?1, ?2, ?3)",
	[Q_HOLD_GIVE_BACK] =
		"UPDATE slot SET held = held - (SELECT u.seats FROM hold_use u"
		" WHERE u.hold = ?1 AND u.slot = slot.id)"
		" WHERE id IN (SELECT slot FROM hold_use WHERE hold = ?1)",
	[Q_HOLD_FORGET] = "DELETE FROM hold_use WHERE hold = ?1",
	[Q_HOLD_DELETE] = "DELETE FROM hold WHERE id = ?1",
	[Q_HOLDS_GIVE_BACK] =
		"UPDATE slot SET held = held - (SELECT sum(u.seats)"
		" FROM hold_use u JOIN hold h ON h.id = u.hold"
		" WHERE u.slot = slot.id AND h.expires <= ?1)"
		" WHERE id IN (SELECT u.slot FROM hold_use u JOIN hold h"
		" ON h.id = u.hold WHERE h.expires <= ?1)"
		" RETURNING id",
	[Q_HOLDS_FORGET] =
		"DELETE FROM hold_use WHERE hold IN"
		" (SELECT id FROM hold WHERE expires <= ?1)",
	[Q_HOLDS_EXPIRE] = "DELETE FROM hold WHERE expires <= ?1",
	[Q_BOOKING_INSERT] =
		"INSERT INTO booking (slot, offering, unit, service, start,"
		" \"end\", client_ref, status, seats, municipality, language,"
		" modality, urgency, referral_time, idempotency_key, extras,"
		" sequence, created, modified, created_by, needs_rebooking,"
		" cancel_reason, series, series_index, series_length)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		" ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,"
		" ?22, ?23, ?24, ?25)",
	[Q_BOOKING_EXISTS] = "SELECT 1 FROM booking WHERE id = ?1",
	[Q_BOOKING_STATUS] =
		"UPDATE booking SET status = ?2, cancel_reason = ?3,"
		" sequence = sequence + 1, modified = ?4 WHERE id = ?1",
	[Q_BOOKING_MOVE] =
		"UPDATE booking SET slot = ?2, offering = ?3, unit = ?4,"
		" start = ?5, \"end\" = ?6, extras = coalesce(?7, extras),"
		" seats = ?9, modality = coalesce(?10, modality),"
		" needs_rebooking = 0, sequence = sequence + 1, modified = ?8"
		" WHERE id = ?1",
	[Q_BOOKING_SERIES] =
		"UPDATE booking SET series = ?2 WHERE id = ?1",
	[Q_AUDIT] =
		"INSERT INTO audit (at, uid, caller, action, booking, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[Q_META_SET] =
		"INSERT INTO meta (key, value) VALUES (?1, ?2)"
		" ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	/* Never lowered, whoever writes it. */
	[Q_SPAN_ALL] = "SELECT offering, longest FROM slot_span",
	[Q_SPAN_KEEP] =
		"INSERT INTO slot_span (offering, longest) VALUES (?1, ?2)"
		" ON CONFLICT (offering) DO UPDATE SET longest = excluded.longest"
		" WHERE excluded.longest > longest",
	[Q_META_GENERATION] =
		"INSERT INTO meta (key, value)"
		" VALUES ('" META_GENERATION "', ?1)"
		" ON CONFLICT (key) DO UPDATE SET value = excluded.value"
		" WHERE CAST(value AS INTEGER) < CAST(excluded.value AS INTEGER)",
};

/* ---- errors --------------------------------------------------------- */

/* What a person can do about a storage fault; NULL when the fault is
 * a bug in slotd rather than something about the disk or the file. */
static const char *
storage_message(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return "the booking database cannot be written (disk full?); "
		       "nothing was changed — try again later";
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return "the booking database cannot be written (read-only "
		       "file or directory?); nothing was changed — ask an "
		       "administrator to check the state directory";
	case SQLITE_CANTOPEN:
		return "the booking database cannot be opened (missing or "
		       "unreadable state directory?); nothing was changed — "
		       "ask an administrator to check it";
	case SQLITE_IOERR:
		return "the booking database had an input/output error; "
		       "nothing was changed — try again later, and ask an "
		       "administrator to check the disk";
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return "the booking database is busy (a backup or maintenance "
		       "is running?); nothing was changed — try again in a "
		       "moment";
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return "the booking database is damaged; nothing was changed — "
		       "ask an administrator to restore it from a backup";
	case SQLITE_NOMEM:
		return "slotd ran out of memory; nothing was changed — try "
		       "again later";
	}
	return NULL;
}

/* Turns an SQLite result into a SLOTD_ERROR. The message for people
 * names no SQL and no file; SQLite's own words go to the journal. */
gboolean
store_fail(Store *store, int rc, const char *what, GError **error)
{
	const char *detail = store->db ? sqlite3_errmsg(store->db)
				       : sqlite3_errstr(rc);
	const char *message = storage_message(rc);

	/* The one constraint that means "full": someone overbooked. */
	if (rc == SQLITE_CONSTRAINT_CHECK &&
	    strstr(detail, "seats_within_capacity") != NULL) {
		g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL,
				    "no free place left in that slot; try "
				    "another slot");
		return FALSE;
	}
	g_warning("%.60s: %s (SQLite error %d)", what, detail, rc);
	if (message != NULL) {
		g_set_error_literal(error, SLOTD_ERROR,
				    SLOTD_ERROR_STORAGE_UNAVAILABLE, message);
		return FALSE;
	}
	g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "the booking database refused the change (a bug "
			    "in slotd); nothing was changed — please report "
			    "it");
	return FALSE;
}

gboolean
store_fail_query(Store *store, int rc, Query query, GError **error)
{
	return store_fail(store, rc, sqlite3_sql(query), error);
}

gboolean
store_not_found(GError **error, SlotdErrorCode code)
{
	const char *message;

	switch (code) {
	case SLOTD_ERROR_NO_SUCH_SLOT:
		message = "no such slot; search for free slots again";
		break;
	case SLOTD_ERROR_NO_SUCH_HOLD:
		message = "no such hold (it may have expired); hold a slot "
			  "again";
		break;
	default:
		message = "no such booking; check the booking id";
		break;
	}
	g_set_error_literal(error, SLOTD_ERROR, code, message);
	return FALSE;
}

/* ---- statements ----------------------------------------------------- */

/* The statement for `id`, prepared on first use and kept. Refused while
 * the caller's transaction is open in name only: SQLite rolled it back
 * after a fault, and anything run now would commit on its own. */
/* The table of statements `id` is in — store.c's, store-report.c's, or
 * the feed, resource and waitlist files' — and the id its index 0 is. */
static const char *const *
statement_table(QueryId id, QueryId *ret_first)
{
	*ret_first = 0;
	if (id < Q_REPORT_FIRST)
		return core_sql;
	if (id < Q_FEED_FIRST)
		return store_report_sql;
	*ret_first = id <= Q_FEED_LAST ? Q_FEED_FIRST
		     : id <= Q_RES_LAST ? Q_RES_FIRST
					: Q_WAIT_FIRST;
	return id <= Q_FEED_LAST  ? store_feed_sql
	       : id <= Q_RES_LAST ? store_resource_sql
				  : store_waitlist_sql;
}

Query
store_query(Store *store, QueryId id, GError **error)
{
	const char *const *table_sql;
	const char *sql;
	QueryId first;
	int rc;

	if (store->in_transaction && id != Q_ROLLBACK &&
	    sqlite3_get_autocommit(store->db)) {
		g_set_error_literal(error, SLOTD_ERROR,
				    SLOTD_ERROR_STORAGE_UNAVAILABLE,
				    "the booking database failed during this "
				    "change; nothing was changed — try again");
		return NULL;
	}
	if (store->queries[id] != NULL)
		return store->queries[id];
	table_sql = statement_table(id, &first);
	sql = table_sql[id - first];
	g_assert(sql != NULL);
	rc = sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				&store->queries[id], NULL);
	if (rc != SQLITE_OK) {
		store_fail(store, rc, sql, error);
		return NULL;
	}
	return store->queries[id];
}

gboolean
store_run(Store *store, Query q, GError **error)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return TRUE;
	return store_fail_query(store, rc, q, error);
}

gboolean
store_run_id(Store *store, QueryId id, gint64 value, GError **error)
{
	g_auto(Query) q = store_query(store, id, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, value);
	return store_run(store, q, error);
}

static gboolean
run_plain(Store *store, QueryId id, GError **error)
{
	g_auto(Query) q = store_query(store, id, error);

	return q != NULL && store_run(store, q, error);
}

gboolean
store_query_int(Store *store, Query q, gint64 fallback, gint64 *ret_value,
		GError **error)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_ROW)
		*ret_value = sqlite3_column_int64(q, 0);
	else if (rc == SQLITE_DONE)
		*ret_value = fallback;
	else
		return store_fail_query(store, rc, q, error);
	return TRUE;
}

gboolean
store_collect_ids(Store *store, Query q, GArray *ret_ids, GError **error)
{
	guint old_len = ret_ids ? ret_ids->len : 0;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(q, 0);

		if (ret_ids != NULL)
			g_array_append_val(ret_ids, id);
	}
	if (rc == SQLITE_DONE)
		return TRUE;
	if (ret_ids != NULL)
		g_array_set_size(ret_ids, old_len);
	return store_fail_query(store, rc, q, error);
}

/* ---- opening and closing -------------------------------------------- */

static void
store_free(Store *store)
{
	store_checkpointer_stop(store, g_steal_pointer(&store->checkpointer));
	for (guint i = 0; i < N_QUERIES; i++)
		sqlite3_finalize(store->queries[i]);
	if (store->db != NULL && sqlite3_close(store->db) != SQLITE_OK)
		g_warning("closing the database: %s",
			  sqlite3_errmsg(store->db));
	g_ptr_array_unref(store->savepoints);
	g_clear_pointer(&store->feed_tokens, g_hash_table_unref);
	g_clear_pointer(&store->span_saved, g_hash_table_unref);
	g_clear_pointer(&store->span_pending, g_hash_table_unref);
	g_free(store->path);
	g_free(store);
}

static gboolean
exec_script(Store *store, const char *sql, GError **error)
{
	int rc = sqlite3_exec(store->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK || store_fail(store, rc, sql, error);
}

/* Sets (the main connection) or reads (a reader) the journal mode. */
static gboolean
check_wal(Store *store, QueryId id, GError **error)
{
	g_auto(Query) q = store_query(store, id, error);
	int rc;

	if (q == NULL)
		return FALSE;
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW)
		return store_fail_query(store, rc, q, error);
	/* Still correct without WAL, but readers would block writers. */
	if (g_strcmp0((const char *)sqlite3_column_text(q, 0), "wal") != 0)
		g_warning("the database is not in WAL mode: readers and the "
			  "writer wait for each other");
	return TRUE;
}

static gboolean
configure(Store *store, GError **error)
{
	sqlite3_extended_result_codes(store->db, 1);
	sqlite3_busy_timeout(store->db, BUSY_TIMEOUT_MS);
	/* Savepoint journals stay in memory: one temp file per booking
	 * would otherwise land in /var/tmp (measured in bench/). */
	return exec_script(store, "PRAGMA synchronous = FULL;"
			   "PRAGMA foreign_keys = ON;"
			   "PRAGMA temp_store = MEMORY;"
			   "PRAGMA trusted_schema = OFF;", error) &&
	       check_wal(store, Q_JOURNAL_MODE, error);
}

/* A reader changes nothing, whatever it is asked: query_only refuses
 * every write, the read-only open any change to the file. */
static gboolean
configure_reader(Store *store, GError **error)
{
	sqlite3_extended_result_codes(store->db, 1);
	sqlite3_busy_timeout(store->db, BUSY_TIMEOUT_MS);
	/* 1 MiB of pages, not SQLite's 2: a worker's job reads most pages
	 * once, and the kernel keeps the file cached anyway. Each worker
	 * holds a connection for the daemon's life. */
	return exec_script(store, "PRAGMA query_only = ON;"
			   "PRAGMA temp_store = MEMORY;"
			   "PRAGMA cache_size = -1024;"
			   "PRAGMA trusted_schema = OFF;", error) &&
	       check_wal(store, Q_JOURNAL_MODE_READ, error);
}

static gboolean
read_version(Store *store, gint64 *ret_version, GError **error)
{
	g_auto(Query) q = store_query(store, Q_USER_VERSION, error);

	return q != NULL && store_query_int(store, q, 0, ret_version, error);
}

static gboolean
check_version(gint64 version, GError **error)
{
	if (version <= (gint64)G_N_ELEMENTS(migrations))
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE,
		    "the booking database was written by a newer slotd (schema "
		    "%" G_GINT64_FORMAT ", this one knows %u); nothing was "
		    "changed — run the newer slotd or restore a backup",
		    version, (guint)G_N_ELEMENTS(migrations));
	return FALSE;
}

static gboolean
apply_migrations(Store *store, GError **error)
{
	const guint latest = G_N_ELEMENTS(migrations);
	g_autofree char *set_version = NULL;
	g_autofree char *set_cookie = NULL;
	gint64 version, cookie;

	/* Read again under the write lock: another process may have
	 * migrated while this one waited for it. */
	if (!read_version(store, &version, error) ||
	    !check_version(version, error))
		return FALSE;
	for (gint64 v = version; v < latest; v++)
		if (!exec_script(store, migrations[v], error))
			return FALSE;
	/* A step that rewrote a definition in sqlite_schema (8) did not
	 * raise the schema cookie: every connection, this one too, reads
	 * the definitions again once it is. */
	{
		g_auto(Query) q = store_query(store, Q_SCHEMA_COOKIE, error);

		if (q == NULL || !store_query_int(store, q, 0, &cookie, error))
			return FALSE;
	}
	/* The cookie is 32 bits in the file's header. */
	set_cookie = g_strdup_printf("PRAGMA schema_version = %u",
				     (guint32)cookie + 1);
	if (!exec_script(store, set_cookie, error))
		return FALSE;
	/* PRAGMA takes no parameters; the number is our own. */
	set_version = g_strdup_printf("PRAGMA user_version = %u", latest);
	return exec_script(store, set_version, error);
}

/* Brings the schema up to date in one transaction. A current schema
 * needs no write, so a read-only file still opens for reading. */
static gboolean
migrate(Store *store, GError **error)
{
	gint64 version;

	if (!read_version(store, &version, error) ||
	    !check_version(version, error))
		return FALSE;
	if (version == (gint64)G_N_ELEMENTS(migrations))
		return TRUE;
	if (!store_begin(store, error))
		return FALSE;
	if (!apply_migrations(store, error)) {
		store_rollback(store);
		return FALSE;
	}
	return store_commit(store, error);
}

/* Works out the generation from the slots, once for a database whose
 * meta has none yet (written by a slotd before meta kept it), and
 * stores it. A file that cannot be written still opens: the next slot
 * written stores it then. */
static gboolean
compute_generation(Store *store, GError **error)
{
	g_autoptr(GError) local = NULL;

	{
		g_auto(Query) q = store_query(store, Q_MAX_GENERATION, error);

		if (q == NULL || !store_query_int(store, q, 0,
						  &store->generation, error))
			return FALSE;
	}
	if (sqlite3_db_readonly(store->db, "main") == 1)
		return TRUE;
	if (store_begin(store, &local) &&
	    store_run_id(store, Q_META_GENERATION, store->generation, &local) &&
	    store_commit(store, &local)) {
		store->generation_saved = store->generation;
		return TRUE;
	}
	if (store->in_transaction)
		store_rollback(store);
	g_message("the slot generation could not be stored: %s",
		  local->message);
	return TRUE;
}

/* The generation is kept in meta, written in the transaction that
 * writes slots of a new one: max(generation) read every slot at every
 * start (563,000 rows on the benchmark's region: 50-150 ms of an open
 * that now takes under a millisecond). */
static gboolean
load_generation(Store *store, GError **error)
{
	g_autofree char *value = NULL;
	char *end = NULL;
	gint64 generation;

	if (!store_get_meta(store, META_GENERATION, &value, error))
		return FALSE;
	if (value == NULL)
		return compute_generation(store, error);
	generation = g_ascii_strtoll(value, &end, 10);
	if (end == value || *end != '\0' || generation < 0) {
		g_warning("the slot generation in meta is '%s'; working it "
			  "out again from the slots", value);
		return compute_generation(store, error);
	}
	store->generation = generation;
	store->generation_saved = generation;
	return TRUE;
}

/* A new database file is made 0600 here, whatever the umask; SQLite
 * gives its -wal, -shm and -journal files the database file's mode. An
 * existing file keeps its mode. What fails here (a read-only file, a
 * full disk) fails SQLite's open too, which reports it. */
static void
create_private(const char *path)
{
	int fd;

	if (g_str_equal(path, ":memory:"))
		return;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd >= 0)
		close(fd);
}

static Store *
store_new(const char *path, int flags, GError **error)
{
	Store *store = g_new0(Store, 1);
	int rc;

	store->path = g_strdup(path);
	store->savepoints = g_ptr_array_new_with_free_func(g_free);
	/* A Store is used by one thread at a time (the main loop's; a
	 * worker's reader is handed over under the pool's lock), so SQLite
	 * needs no mutex of its own around every call: a search made
	 * 10,000 such lock and unlock pairs. */
	rc = sqlite3_open_v2(path, &store->db, flags | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		store_fail(store, rc, "opening the database", error);
		store_free(store);
		return NULL;
	}
	return store;
}

/* This connection is the only one that writes slots: what slot_span
 * holds is read once, and kept as it is written (keep_span), so that
 * store_slot_longest() needs no query. */
static gboolean
load_spans(Store *store, GError **error)
{
	g_auto(Query) q = store_query(store, Q_SPAN_ALL, error);
	int rc;

	if (q == NULL)
		return FALSE;
	store->span_saved = g_hash_table_new_full(g_str_hash, g_str_equal,
						  g_free, NULL);
	store->span_pending = g_hash_table_new_full(g_str_hash, g_str_equal,
						    g_free, NULL);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		g_hash_table_replace(store->span_saved, store_column_dup(q, 0),
				     GSIZE_TO_POINTER((gsize)
					sqlite3_column_int64(q, 1)));
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	return TRUE;
}

/* The longest slot this connection has written or read for `offering`,
 * the open transaction's included. */
gboolean
store_span_known(Store *store, const char *offering, gint64 *ret_seconds)
{
	if (store->span_saved == NULL)
		return FALSE;
	*ret_seconds = MAX(GPOINTER_TO_SIZE(g_hash_table_lookup(
				   store->span_saved, offering)),
			   GPOINTER_TO_SIZE(g_hash_table_lookup(
				   store->span_pending, offering)));
	return TRUE;
}

Store *
store_open(const char *path, GError **error)
{
	Store *store;

	g_return_val_if_fail(path != NULL, NULL);
	create_private(path);
	store = store_new(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			  error);
	if (store == NULL)
		return NULL;
	if (!configure(store, error) || !migrate(store, error) ||
	    !load_generation(store, error) || !load_spans(store, error)) {
		store_free(store);
		return NULL;
	}
	store->checkpointer = store_checkpointer_start(store);
	return store;
}

/* A reader never migrates: the schema must be the one this code
 * knows, as the main connection left it. */
static gboolean
check_current(Store *store, GError **error)
{
	gint64 version;

	if (!read_version(store, &version, error) ||
	    !check_version(version, error))
		return FALSE;
	if (version == (gint64)G_N_ELEMENTS(migrations))
		return TRUE;
	g_set_error_literal(error, SLOTD_ERROR,
			    SLOTD_ERROR_STORAGE_UNAVAILABLE,
			    "the booking database has not been brought up to "
			    "date yet; try again in a moment");
	return FALSE;
}

Store *
store_open_readonly(const char *path, GError **error)
{
	Store *store;

	g_return_val_if_fail(path != NULL, NULL);
	store = store_new(path, SQLITE_OPEN_READONLY, error);
	if (store == NULL)
		return NULL;
	store->readonly = TRUE;
	if (!configure_reader(store, error) || !check_current(store, error)) {
		store_free(store);
		return NULL;
	}
	return store;
}

void
store_close(Store *store)
{
	Query q;

	if (store == NULL)
		return;
	if (store->in_transaction) {
		g_warning("closing with a transaction open; rolling it back");
		store_rollback(store);
	}
	if (store->readonly) {
		store_free(store);
		return;
	}
	store_checkpointer_stop(store, g_steal_pointer(&store->checkpointer));
	/* Leaves one self-contained file behind for copies and audits. */
	q = store_query(store, Q_CHECKPOINT, NULL);
	if (q != NULL && sqlite3_step(q) == SQLITE_ROW &&
	    sqlite3_column_int(q, 0) != 0)
		g_message("the WAL stays: a reader is still attached");
	query_return(&q);
	store_free(store);
}

const char *
store_path(Store *store)
{
	return store->path;
}

/* ---- transactions --------------------------------------------------- */

/* What the open transaction wrote of them is undone, or never was. */
static void
pending_forget(Store *store)
{
	store->generation_pending = 0;
	if (store->span_pending)
		g_hash_table_remove_all(store->span_pending);
}

/* Part of the open transaction was undone (a savepoint): the generation
 * is written again when next needed, and the spans it wrote are read
 * back, since what was written before the savepoint stays, and the
 * spans kept in memory must never say less than the file. */
static void
pending_reread(Store *store)
{
	GHashTableIter iter;
	gpointer offering, length;

	store->generation_pending = 0;
	if (store->span_pending == NULL)
		return;
	g_hash_table_iter_init(&iter, store->span_pending);
	while (g_hash_table_iter_next(&iter, &offering, &length)) {
		g_auto(Query) q = store_query(store, Q_SLOT_SPAN, NULL);
		gint64 longest = 0;

		if (q != NULL) {
			store_bind_text(q, 1, offering);
			store_query_int(store, q, 0, &longest, NULL);
		}
		/* Unreadable: forgotten, so written again when next seen;
		 * the search then looks back as far as memory says. */
		if (longest > 0)
			g_hash_table_iter_replace(&iter,
						  GSIZE_TO_POINTER((gsize)longest));
		else
			g_hash_table_iter_remove(&iter);
	}
}

gboolean
store_begin(Store *store, GError **error)
{
	g_return_val_if_fail(!store->in_transaction, FALSE);
	if (!run_plain(store, Q_BEGIN, error))
		return FALSE;
	store->in_transaction = TRUE;
	pending_forget(store);
	g_ptr_array_set_size(store->savepoints, 0);
	return TRUE;
}

/* What the open transaction wrote of the generation and the slot
 * spans is now durable. */
static void
pending_committed(Store *store)
{
	GHashTableIter iter;
	gpointer offering, length;

	store->generation_saved = MAX(store->generation_saved,
				      store->generation_pending);
	store->generation_pending = 0;
	if (store->span_pending == NULL)
		return;
	g_hash_table_iter_init(&iter, store->span_pending);
	while (g_hash_table_iter_next(&iter, &offering, &length)) {
		g_hash_table_iter_steal(&iter);
		g_hash_table_replace(store->span_saved, offering, length);
	}
}

gboolean
store_commit(Store *store, GError **error)
{
	LOOP_WORK("sqlite commit", NULL);

	g_return_val_if_fail(store->in_transaction, FALSE);
	if (run_plain(store, Q_COMMIT, error)) {
		store->in_transaction = FALSE;
		pending_committed(store);
		return TRUE;
	}
	/* A failed COMMIT can leave the transaction open: end it, so that
	 * none of it reaches the file later. */
	store_rollback(store);
	return FALSE;
}

void
store_rollback(Store *store)
{
	gboolean was_open = !sqlite3_get_autocommit(store->db);

	store->in_transaction = FALSE;
	pending_forget(store);
	g_ptr_array_set_size(store->savepoints, 0);
	/* After a full disk or an I/O error SQLite may have rolled back
	 * already; ROLLBACK would then only fail. */
	if (was_open)
		run_plain(store, Q_ROLLBACK, NULL);
}

gboolean
store_read_begin(Store *store, GError **error)
{
	g_return_val_if_fail(!store->in_transaction, FALSE);
	if (!run_plain(store, Q_BEGIN_READ, error))
		return FALSE;
	store->in_transaction = TRUE;
	return TRUE;
}

void
store_read_end(Store *store)
{
	/* The rollback would undo a write made in it: a bug, said. */
	if (sqlite3_txn_state(store->db, NULL) == SQLITE_TXN_WRITE)
		g_critical("a read transaction wrote; its change is undone");
	store_rollback(store);
}

gboolean
store_in_transaction(Store *store)
{
	return store->in_transaction;
}

static gint
find_savepoint(Store *store, const char *name)
{
	for (guint i = store->savepoints->len; i > 0; i--)
		if (g_str_equal(store->savepoints->pdata[i - 1], name))
			return i - 1;
	return -1;
}

gboolean
store_savepoint(Store *store, const char *name, GError **error)
{
	guint depth = store->savepoints->len;

	g_return_val_if_fail(name != NULL, FALSE);
	g_return_val_if_fail(store->in_transaction, FALSE);
	g_return_val_if_fail(depth < MAX_SAVEPOINTS, FALSE);
	if (!run_plain(store, Q_SAVEPOINT + depth, error))
		return FALSE;
	g_ptr_array_add(store->savepoints, g_strdup(name));
	return TRUE;
}

gboolean
store_release(Store *store, const char *name, GError **error)
{
	gint depth = find_savepoint(store, name);

	g_return_val_if_fail(depth >= 0, FALSE);
	if (!run_plain(store, Q_RELEASE + depth, error))
		return FALSE;
	g_ptr_array_set_size(store->savepoints, depth);
	return TRUE;
}

void
store_rollback_to(Store *store, const char *name)
{
	gint depth = find_savepoint(store, name);

	g_return_if_fail(depth >= 0);
	/* As in SQL, the savepoint itself stays until released. What was
	 * written of the generation may be undone: write it again. */
	g_ptr_array_set_size(store->savepoints, depth + 1);
	run_plain(store, Q_ROLLBACK_TO + depth, NULL);
	pending_reread(store);
}

/* Changes of more than one statement run in a savepoint of their own,
 * so a failure halfway leaves nothing, inside a transaction or not. */
static gboolean
op_begin(Store *store, GError **error)
{
	store->op_began = sqlite3_get_autocommit(store->db);
	return run_plain(store, Q_OP_SAVEPOINT, error);
}

static gboolean
op_end(Store *store, gboolean ok, GError **error)
{
	if (ok && run_plain(store, Q_OP_RELEASE, error)) {
		if (store->op_began)
			pending_committed(store);
		return TRUE;
	}
	/* SQLite may have rolled everything back by itself already. */
	if (sqlite3_get_autocommit(store->db)) {
		pending_forget(store);
		return FALSE;
	}
	if (store->op_began) {
		run_plain(store, Q_ROLLBACK, NULL);
		pending_forget(store);
	} else {
		run_plain(store, Q_OP_ROLLBACK, NULL);
		run_plain(store, Q_OP_RELEASE, NULL);
		pending_reread(store);
	}
	return FALSE;
}

/* ---- slots ---------------------------------------------------------- */

/* Inserts or updates the slot. One that cannot keep its seats becomes
 * busy-unavailable; its bookings are flagged by the range's
 * store_flag_withdrawn() or store_withdraw_unseen() that follows every
 * reshape, as a change of their own. */
static gboolean
upsert_slot(Store *store, const char *offering, const char *kind,
	    gint64 start, gint64 end, guint capacity, gint64 generation,
	    gint64 *ret_slot_id, GError **error)
{
	g_auto(Query) q = store_query(store, Q_SLOT_UPSERT, error);
	int rc;

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, offering);
	store_bind_text(q, 2, kind);
	sqlite3_bind_int64(q, 3, start);
	sqlite3_bind_int64(q, 4, end);
	sqlite3_bind_int64(q, 5, capacity);
	sqlite3_bind_int64(q, 6, generation);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW)
		return store_fail_query(store, rc, q, error);
	*ret_slot_id = sqlite3_column_int64(q, 0);
	return TRUE;
}

/* A slot written with `generation` commits with meta holding it (or a
 * later one), so that the next start needs no scan of the slots. Once
 * a transaction, not once a slot. */
static gboolean
keep_generation(Store *store, gint64 generation, GError **error)
{
	if (generation <= store->generation_saved ||
	    generation <= store->generation_pending)
		return TRUE;
	if (!store_run_id(store, Q_META_GENERATION, generation, error))
		return FALSE;
	store->generation_pending = generation;
	return TRUE;
}

/* slot_span keeps each offering's longest slot, written as the
 * generation is: only when longer than what this connection knows is
 * there (load_spans), so rarely after the first horizon. */
static gboolean
keep_span(Store *store, const char *offering, gint64 length, GError **error)
{
	gint64 known = 0;
	g_auto(Query) q = NULL;
	int rc;

	g_return_val_if_fail(store_span_known(store, offering, &known),
			     FALSE);
	if (length <= known)
		return TRUE;
	q = store_query(store, Q_SPAN_KEEP, error);
	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, offering);
	sqlite3_bind_int64(q, 2, length);
	rc = sqlite3_step(q);
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	g_hash_table_replace(store->span_pending, g_strdup(offering),
			     GSIZE_TO_POINTER((gsize)length));
	return TRUE;
}

gboolean
store_upsert_slot(Store *store, const char *offering, const char *kind,
		  gint64 start, gint64 end, guint capacity, gint64 generation,
		  gint64 *ret_slot_id, GError **error)
{
	gint64 slot_id = 0;
	gboolean ok;

	g_return_val_if_fail(offering != NULL && kind != NULL, FALSE);
	if (!op_begin(store, error))
		return FALSE;
	ok = upsert_slot(store, offering, kind, start, end, capacity,
			 generation, &slot_id, error) &&
	     keep_generation(store, generation, error) &&
	     keep_span(store, offering, end - start, error);
	if (!op_end(store, ok, error))
		return FALSE;
	if (ret_slot_id != NULL)
		*ret_slot_id = slot_id;
	return TRUE;
}

static int
compare_ids(const void *a, const void *b)
{
	gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

	return (x > y) - (x < y);
}

static void
bind_range(Query q, const char *offering, gint64 from, gint64 to)
{
	store_bind_text(q, 1, offering);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, to);
}

static gboolean
flag_withdrawn(Store *store, const char *offering, gint64 from, gint64 to,
	       gint64 now, GArray *ret_booking_ids, GError **error)
{
	g_auto(Query) flag = store_query(store, Q_SLOT_WITHDRAW_FLAG, error);
	guint old_len = ret_booking_ids ? ret_booking_ids->len : 0;

	if (flag == NULL)
		return FALSE;
	bind_range(flag, offering, from, to);
	sqlite3_bind_int64(flag, 4, now);
	if (!store_collect_ids(store, flag, ret_booking_ids, error))
		return FALSE;
	/* RETURNING has no order; callers and tests like a stable one. */
	if (ret_booking_ids != NULL && ret_booking_ids->len > old_len)
		qsort(&g_array_index(ret_booking_ids, gint64, old_len),
		      ret_booking_ids->len - old_len, sizeof(gint64),
		      compare_ids);
	return TRUE;
}

static gboolean
withdraw_unseen(Store *store, const char *offering, gint64 from, gint64 to,
		gint64 generation, gint64 now, GArray *ret_booking_ids,
		GError **error)
{
	g_auto(Query) withdraw = store_query(store, Q_SLOT_WITHDRAW, error);

	if (withdraw == NULL)
		return FALSE;
	bind_range(withdraw, offering, from, to);
	sqlite3_bind_int64(withdraw, 4, generation);
	return store_run(store, withdraw, error) &&
	       flag_withdrawn(store, offering, from, to, now,
			      ret_booking_ids, error);
}

gboolean
store_withdraw_unseen(Store *store, const char *offering, gint64 from,
		      gint64 to, gint64 generation, gint64 now,
		      GArray *ret_booking_ids, GError **error)
{
	guint old_len = ret_booking_ids ? ret_booking_ids->len : 0;
	gboolean ok;

	g_return_val_if_fail(offering != NULL, FALSE);
	if (!op_begin(store, error))
		return FALSE;
	ok = withdraw_unseen(store, offering, from, to, generation, now,
			     ret_booking_ids, error);
	if (op_end(store, ok, error))
		return TRUE;
	if (ret_booking_ids != NULL)
		g_array_set_size(ret_booking_ids, old_len);
	return FALSE;
}

gboolean
store_withdraw_slot(Store *store, gint64 slot_id, gint64 not_before,
		    GError **error)
{
	g_auto(Query) q = store_query(store, Q_SLOT_WITHDRAW_ONE, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, slot_id);
	sqlite3_bind_int64(q, 2, not_before);
	return store_run(store, q, error);
}

gboolean
store_flag_withdrawn(Store *store, const char *offering, gint64 from,
		     gint64 to, gint64 now, GArray *ret_booking_ids,
		     GError **error)
{
	guint old_len = ret_booking_ids ? ret_booking_ids->len : 0;

	g_return_val_if_fail(offering != NULL, FALSE);
	/* One statement: atomic on its own. */
	if (flag_withdrawn(store, offering, from, to, now, ret_booking_ids,
			   error))
		return TRUE;
	if (ret_booking_ids != NULL)
		g_array_set_size(ret_booking_ids, old_len);
	return FALSE;
}

/* Says why a guarded seat update changed nothing. */
static gboolean
explain_no_seats(Store *store, gint64 slot_id, GError **error)
{
	g_auto(Query) q = store_query(store, Q_SLOT_STATUS, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, slot_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return store_not_found(error, SLOTD_ERROR_NO_SUCH_SLOT);
	if (rc != SQLITE_ROW)
		return store_fail_query(store, rc, q, error);
	g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL,
			    "no free place left in that slot; try another "
			    "slot");
	return FALSE;
}

/* Adds `seats` to the booked or held count of a free slot, only if they
 * fit: the check and the change are one statement. */
static gboolean
take_guarded(Store *store, QueryId id, gint64 slot_id, guint seats,
	     GError **error)
{
	g_auto(Query) q = store_query(store, id, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, slot_id);
	sqlite3_bind_int64(q, 2, seats);
	if (!store_run(store, q, error))
		return FALSE;
	if (sqlite3_changes(store->db) == 0)
		return explain_no_seats(store, slot_id, error);
	return TRUE;
}

static gboolean
record_use(Store *store, gint64 booking_id, gint64 slot_id, guint seats,
	   GError **error)
{
	g_auto(Query) q = store_query(store, Q_SEATS_USE, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, booking_id);
	sqlite3_bind_int64(q, 2, slot_id);
	sqlite3_bind_int64(q, 3, seats);
	rc = sqlite3_step(q);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return store_not_found(error, SLOTD_ERROR_NO_SUCH_BOOKING);
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	return TRUE;
}

gboolean
store_take_seats(Store *store, gint64 booking_id, gint64 slot_id,
		 guint seats, GError **error)
{
	gboolean ok;

	g_return_val_if_fail(seats > 0, FALSE);
	if (!op_begin(store, error))
		return FALSE;
	ok = take_guarded(store, Q_SEATS_TAKE, slot_id, seats, error) &&
	     record_use(store, booking_id, slot_id, seats, error);
	return op_end(store, ok, error);
}

gboolean
store_booking_exists(Store *store, gint64 booking_id, GError **error)
{
	g_auto(Query) q = store_query(store, Q_BOOKING_EXISTS, error);
	gint64 found;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, booking_id);
	if (!store_query_int(store, q, 0, &found, error))
		return FALSE;
	return found || store_not_found(error, SLOTD_ERROR_NO_SUCH_BOOKING);
}

gboolean
store_release_seats(Store *store, gint64 booking_id, GError **error)
{
	gboolean ok;

	if (!op_begin(store, error))
		return FALSE;
	ok = store_run_id(store, Q_SEATS_RELEASE, booking_id, error) &&
	     store_run_id(store, Q_SEATS_FORGET, booking_id, error) &&
	     (sqlite3_changes(store->db) > 0 ||
	      store_booking_exists(store, booking_id, error));
	return op_end(store, ok, error);
}

/* ---- horizon bookkeeping -------------------------------------------- */

gboolean
store_get_horizon(Store *store, const char *offering, gint64 *ret_until,
		  char **ret_digest, GError **error)
{
	g_auto(Query) q = store_query(store, Q_HORIZON_GET, error);
	int rc;

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, offering);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	*ret_until = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	if (ret_digest != NULL)
		*ret_digest = rc == SQLITE_ROW ? store_column_dup(q, 1) : NULL;
	return TRUE;
}

gboolean
store_set_horizon(Store *store, const char *offering, gint64 until,
		  const char *digest, GError **error)
{
	g_auto(Query) q = store_query(store, Q_HORIZON_SET, error);

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, offering);
	sqlite3_bind_int64(q, 2, until);
	store_bind_text(q, 3, digest ? digest : "");
	return store_run(store, q, error);
}

gint64
store_next_generation(Store *store)
{
	/* Above every generation stored, so every older slot is unseen. */
	return ++store->generation;
}

/* ---- holds ---------------------------------------------------------- */

static char *extras_print(GVariant *extras);

static gboolean
insert_hold(Store *store, const StoreHoldRequest *h, gint64 *ret_hold_id,
	    GError **error)
{
	g_auto(Query) q = store_query(store, Q_HOLD_INSERT, error);
	g_autofree char *extras = NULL;

	if (q == NULL)
		return FALSE;
	extras = extras_print(h->extras);
	sqlite3_bind_int64(q, 1, g_array_index(h->slots, gint64, 0));
	sqlite3_bind_int64(q, 2, h->seats);
	sqlite3_bind_int64(q, 3, h->expires);
	sqlite3_bind_int64(q, 4, h->uid);
	store_bind_text(q, 5, h->offering);
	store_bind_text(q, 6, h->service);
	sqlite3_bind_int64(q, 7, h->start);
	sqlite3_bind_int64(q, 8, h->end);
	store_bind_text(q, 9, h->client_ref);
	store_bind_text(q, 10, extras);
	sqlite3_bind_int64(q, 11, h->created);
	store_bind_text(q, 12, h->request ? h->request : "");
	if (!store_run(store, q, error))
		return FALSE;
	*ret_hold_id = sqlite3_last_insert_rowid(store->db);
	return TRUE;
}

static gboolean
record_hold_use(Store *store, gint64 hold_id, gint64 slot_id, guint seats,
		GError **error)
{
	g_auto(Query) q = store_query(store, Q_HOLD_USE, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, hold_id);
	sqlite3_bind_int64(q, 2, slot_id);
	sqlite3_bind_int64(q, 3, seats);
	return store_run(store, q, error);
}

static gboolean
hold_run(Store *store, const StoreHoldRequest *h, gint64 *ret_hold_id,
	 GError **error)
{
	gint64 id = 0;

	if (!insert_hold(store, h, &id, error))
		return FALSE;
	for (guint i = 0; i < h->slots->len; i++) {
		gint64 slot = g_array_index(h->slots, gint64, i);

		if (!take_guarded(store, Q_HOLD_TAKE, slot, h->seats, error) ||
		    !record_hold_use(store, id, slot, h->seats, error))
			return FALSE;
	}
	if (ret_hold_id != NULL)
		*ret_hold_id = id;
	return TRUE;
}

gboolean
store_insert_hold(Store *store, const StoreHoldRequest *hold,
		  gint64 *ret_hold_id, GError **error)
{
	g_return_val_if_fail(hold->seats > 0, FALSE);
	g_return_val_if_fail(hold->slots && hold->slots->len > 0, FALSE);
	if (!op_begin(store, error))
		return FALSE;
	return op_end(store, hold_run(store, hold, ret_hold_id, error),
		      error);
}

static gboolean
delete_hold(Store *store, gint64 hold_id, GError **error)
{
	if (!store_run_id(store, Q_HOLD_GIVE_BACK, hold_id, error) ||
	    !store_run_id(store, Q_HOLD_FORGET, hold_id, error) ||
	    !store_run_id(store, Q_HOLD_DELETE, hold_id, error))
		return FALSE;
	return sqlite3_changes(store->db) > 0 ||
	       store_not_found(error, SLOTD_ERROR_NO_SUCH_HOLD);
}

gboolean
store_delete_hold(Store *store, gint64 hold_id, GError **error)
{
	if (!op_begin(store, error))
		return FALSE;
	return op_end(store, delete_hold(store, hold_id, error), error);
}

static gboolean
expire_holds(Store *store, gint64 now, GArray *ret_slot_ids, GError **error)
{
	g_auto(Query) q = store_query(store, Q_HOLDS_GIVE_BACK, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, now);
	return store_collect_ids(store, q, ret_slot_ids, error) &&
	       store_run_id(store, Q_HOLDS_FORGET, now, error) &&
	       store_run_id(store, Q_HOLDS_EXPIRE, now, error);
}

gboolean
store_expire_holds(Store *store, gint64 now, GArray *ret_slot_ids,
		   GError **error)
{
	guint old_len = ret_slot_ids ? ret_slot_ids->len : 0;

	if (!op_begin(store, error))
		return FALSE;
	if (op_end(store, expire_holds(store, now, ret_slot_ids, error),
		   error))
		return TRUE;
	if (ret_slot_ids != NULL)
		g_array_set_size(ret_slot_ids, old_len);
	return FALSE;
}

/* ---- bookings ------------------------------------------------------- */

/* The stored text of an a{sv}; annotated so that every value's type
 * comes back exactly. */
static char *
extras_print(GVariant *extras)
{
	if (extras == NULL)
		return g_strdup("@a{sv} {}");
	return g_variant_print(extras, TRUE);
}

static void
bind_booking(Query q, const StoreBooking *b, const char *extras)
{
	sqlite3_bind_int64(q, 1, b->slot);
	store_bind_text(q, 2, b->offering);
	store_bind_text(q, 3, b->unit);
	store_bind_text(q, 4, b->service);
	sqlite3_bind_int64(q, 5, b->start);
	sqlite3_bind_int64(q, 6, b->end);
	store_bind_text(q, 7, b->client_ref ? b->client_ref : "");
	store_bind_text(q, 8, b->status);
	sqlite3_bind_int64(q, 9, b->seats);
	store_bind_text(q, 10, b->municipality);
	store_bind_text(q, 11, b->language);
	store_bind_text(q, 12, b->modality);
	store_bind_text(q, 13, b->urgency);
	sqlite3_bind_int64(q, 14, b->referral_time);
	store_bind_text(q, 15, b->idempotency_key);
	store_bind_text(q, 16, extras);
	sqlite3_bind_int64(q, 17, b->sequence);
	sqlite3_bind_int64(q, 18, b->created);
	sqlite3_bind_int64(q, 19, b->modified);
	sqlite3_bind_int64(q, 20, b->created_by);
	sqlite3_bind_int(q, 21, b->needs_rebooking ? 1 : 0);
	store_bind_text(q, 22, b->cancel_reason);
	if (b->series)
		sqlite3_bind_int64(q, 23, b->series);
	sqlite3_bind_int64(q, 24, b->series_index);
	sqlite3_bind_int64(q, 25, MAX(b->series_length, 1));
}

gboolean
store_insert_booking(Store *store, StoreBooking *booking, GError **error)
{
	g_auto(Query) q = NULL;
	g_autofree char *extras = NULL;
	int rc;

	g_return_val_if_fail(booking != NULL, FALSE);
	g_return_val_if_fail(booking->extras == NULL ||
			     g_variant_is_of_type(booking->extras,
						  G_VARIANT_TYPE_VARDICT),
			     FALSE);
	q = store_query(store, Q_BOOKING_INSERT, error);
	if (q == NULL)
		return FALSE;
	extras = extras_print(booking->extras);
	bind_booking(q, booking, extras);
	rc = sqlite3_step(q);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return store_not_found(error, SLOTD_ERROR_NO_SUCH_SLOT);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
				    "a booking with this idempotency key "
				    "already exists; look it up instead of "
				    "booking again");
		return FALSE;
	}
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	booking->id = sqlite3_last_insert_rowid(store->db);
	return TRUE;
}

gboolean
store_update_booking_status(Store *store, gint64 booking_id,
			    const char *status, const char *reason,
			    gint64 now, GError **error)
{
	g_auto(Query) q = NULL;

	g_return_val_if_fail(status != NULL, FALSE);
	q = store_query(store, Q_BOOKING_STATUS, error);
	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, booking_id);
	store_bind_text(q, 2, status);
	store_bind_text(q, 3, reason);
	sqlite3_bind_int64(q, 4, now);
	if (!store_run(store, q, error))
		return FALSE;
	return sqlite3_changes(store->db) > 0 ||
	       store_not_found(error, SLOTD_ERROR_NO_SUCH_BOOKING);
}

gboolean
store_move_booking(Store *store, gint64 booking_id, const StoreMove *move,
		   gint64 now, GError **error)
{
	g_auto(Query) q = store_query(store, Q_BOOKING_MOVE, error);
	g_autofree char *text =
		move->extras ? extras_print(move->extras) : NULL;
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, booking_id);
	sqlite3_bind_int64(q, 2, move->slot);
	store_bind_text(q, 3, move->offering);
	store_bind_text(q, 4, move->unit);
	sqlite3_bind_int64(q, 5, move->start);
	sqlite3_bind_int64(q, 6, move->end);
	store_bind_text(q, 7, text);
	sqlite3_bind_int64(q, 8, now);
	sqlite3_bind_int64(q, 9, move->seats);
	store_bind_text(q, 10, move->modality);
	rc = sqlite3_step(q);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return store_not_found(error, SLOTD_ERROR_NO_SUCH_SLOT);
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	return sqlite3_changes(store->db) > 0 ||
	       store_not_found(error, SLOTD_ERROR_NO_SUCH_BOOKING);
}

gboolean
store_set_booking_series(Store *store, gint64 booking_id, gint64 series,
			 GError **error)
{
	g_auto(Query) q = store_query(store, Q_BOOKING_SERIES, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, booking_id);
	sqlite3_bind_int64(q, 2, series);
	return store_run(store, q, error);
}

/* ---- audit ---------------------------------------------------------- */

gboolean
store_audit(Store *store, gint64 at, guint32 uid, const char *caller,
	    const char *action, gint64 booking_id, const char *detail,
	    GError **error)
{
	g_auto(Query) q = NULL;

	g_return_val_if_fail(action != NULL, FALSE);
	q = store_query(store, Q_AUDIT, error);
	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, at);
	sqlite3_bind_int64(q, 2, uid);
	store_bind_text(q, 3, caller ? caller : "");
	store_bind_text(q, 4, action);
	if (booking_id != 0)
		sqlite3_bind_int64(q, 5, booking_id);
	store_bind_text(q, 6, detail);
	return store_run(store, q, error);
}

/* ---- kv ------------------------------------------------------------- */

gboolean
store_get_meta(Store *store, const char *key, char **ret_value,
	       GError **error)
{
	g_auto(Query) q = store_query(store, Q_META_GET, error);
	int rc;

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, key);
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	*ret_value = rc == SQLITE_ROW ? store_column_dup(q, 0) : NULL;
	return TRUE;
}

gboolean
store_set_meta(Store *store, const char *key, const char *value,
	       GError **error)
{
	g_auto(Query) q = NULL;

	g_return_val_if_fail(key != NULL && value != NULL, FALSE);
	q = store_query(store, Q_META_SET, error);
	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, key);
	store_bind_text(q, 2, value);
	return store_run(store, q, error);
}

/* ---- for tests ------------------------------------------------------ */

void
store_test_set_max_pages(Store *store, guint max_pages)
{
	/* PRAGMA takes no parameters; the number is an integer we print. */
	g_autofree char *sql = g_strdup_printf("PRAGMA max_page_count = %u",
					       max_pages ? max_pages
							 : G_MAXUINT32 - 1);

	exec_script(store, sql, NULL);
}
