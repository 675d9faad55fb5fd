/* The waitlist, its timed offers and the notification outbox (schema
 * version 4). Offers keep their slot with an ordinary hold; the outbox
 * is written in the transaction of the change it tells of and read by
 * the gateway through Notifications1. */
#define G_LOG_DOMAIN "slotd-store"

#include "store-private.h"

#include <string.h>

/* Version 4. Self-contained: IF NOT EXISTS throughout, nothing of the
 * earlier steps is changed, so it can be renumbered at a merge. At most
 * one open offer a slot and an entry (partial unique indexes): one slot
 * is never offered to two entries at once. */
const char store_schema_waitlist[] =
	"CREATE TABLE IF NOT EXISTS waitlist_entry ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" service TEXT NOT NULL,"
	" client_ref TEXT NOT NULL,"
	" municipality TEXT,"
	" language TEXT,"
	" modality TEXT,"
	" earliest INTEGER NOT NULL,"
	" latest INTEGER NOT NULL,"
	" deadline INTEGER NOT NULL,"
	" priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 9),"
	" created INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'waiting'"
	"  CHECK (status IN ('waiting', 'booked', 'left')),"
	" booking INTEGER REFERENCES booking (id),"
	" CHECK (latest > earliest));"
	"CREATE INDEX IF NOT EXISTS waitlist_by_service ON waitlist_entry"
	" (service, status, priority, deadline, created);"
	"CREATE TABLE IF NOT EXISTS waitlist_offer ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" entry INTEGER NOT NULL REFERENCES waitlist_entry (id),"
	" slot INTEGER NOT NULL REFERENCES slot (id),"
	" hold INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" closed INTEGER,"
	" status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open',"
	"  'accepted', 'declined', 'expired', 'withdrawn')),"
	" booking INTEGER REFERENCES booking (id));"
	"CREATE UNIQUE INDEX IF NOT EXISTS waitlist_offer_open_slot"
	" ON waitlist_offer (slot) WHERE status = 'open';"
	"CREATE UNIQUE INDEX IF NOT EXISTS waitlist_offer_open_entry"
	" ON waitlist_offer (entry) WHERE status = 'open';"
	"CREATE INDEX IF NOT EXISTS waitlist_offer_by_entry"
	" ON waitlist_offer (entry, slot);"
	"CREATE INDEX IF NOT EXISTS waitlist_offer_by_expiry"
	" ON waitlist_offer (expires) WHERE status = 'open';"
	"CREATE TABLE IF NOT EXISTS outbox ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" stream TEXT NOT NULL,"
	" booking INTEGER REFERENCES booking (id),"
	" entry INTEGER REFERENCES waitlist_entry (id),"
	" kind TEXT NOT NULL CHECK (kind IN ('booked', 'rescheduled',"
	"  'cancelled', 'offer', 'reminder')),"
	" sequence INTEGER NOT NULL DEFAULT 0,"
	" due INTEGER NOT NULL,"
	" idempotency_key TEXT NOT NULL UNIQUE,"
	" client_ref TEXT NOT NULL DEFAULT '',"
	" language TEXT NOT NULL,"
	" text TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending',"
	"  'claimed', 'acked', 'void')),"
	" lease_until INTEGER NOT NULL DEFAULT 0,"
	" claims INTEGER NOT NULL DEFAULT 0,"
	" acked INTEGER);"
	"CREATE INDEX IF NOT EXISTS outbox_open ON outbox (due, id)"
	" WHERE state IN ('pending', 'claimed');"
	"CREATE INDEX IF NOT EXISTS outbox_open_by_stream"
	" ON outbox (stream, due, id) WHERE state IN ('pending', 'claimed');";

#define ENTRY_COLUMNS \
	"e.id, e.service, e.client_ref, e.municipality, e.language," \
	" e.modality, e.earliest, e.latest, e.deadline, e.priority," \
	" e.created, e.uid, e.status, coalesce(e.booking, 0)," \
	" coalesce(o.id, 0), coalesce(o.slot, 0), coalesce(o.hold, 0)," \
	" coalesce(o.expires, 0)" \
	" FROM waitlist_entry e LEFT JOIN waitlist_offer o" \
	" ON o.entry = e.id AND o.status = 'open'"

#define OFFER_ORDER "e.priority, e.deadline, e.created, e.id"

#define OUTBOX_COLUMNS \
	"id, stream, coalesce(booking, 0), coalesce(entry, 0), kind, due," \
	" idempotency_key, client_ref, language, text, state, lease_until," \
	" claims"

/* A reminder goes out only while its booking is booked as it was when
 * the reminder was written (same sequence); `o` names the outbox row. */
#define REMINDER_LIVE(o) \
	"(" o ".kind <> 'reminder' OR EXISTS (SELECT 1 FROM booking b" \
	" WHERE b.id = " o ".booking AND b.status = 'booked'" \
	" AND b.sequence = " o ".sequence))"

/* Indexed by QueryId - Q_WAIT_FIRST. */
const char *const store_waitlist_sql[Q_WAIT_LAST - Q_WAIT_FIRST + 1] = {
	[Q_WAIT_INSERT - Q_WAIT_FIRST] =
		"INSERT INTO waitlist_entry (service, client_ref, municipality,"
		" language, modality, earliest, latest, deadline, priority,"
		" created, uid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		" ?10, ?11)",
	[Q_WAIT_GET - Q_WAIT_FIRST] =
		"SELECT " ENTRY_COLUMNS " WHERE e.id = ?1",
	[Q_WAIT_LIST - Q_WAIT_FIRST] =
		"SELECT " ENTRY_COLUMNS " WHERE e.service = ?1"
		" AND e.status = 'waiting' ORDER BY " OFFER_ORDER,
	[Q_WAIT_SET_STATUS - Q_WAIT_FIRST] =
		"UPDATE waitlist_entry SET status = ?2,"
		" booking = nullif(?3, 0) WHERE id = ?1",
	[Q_WAIT_FREE_SLOTS - Q_WAIT_FIRST] =
		"SELECT s.id FROM slot s WHERE s.offering = ?1"
		" AND s.start >= ?2 AND s.start < ?3 AND s.start > ?4"
		" AND s.status = 'free' AND s.booked + s.held < s.capacity"
		" AND NOT EXISTS (SELECT 1 FROM waitlist_offer o"
		"  WHERE o.slot = s.id AND o.status = 'open')"
		" ORDER BY s.start, s.id LIMIT ?5",
	[Q_WAIT_CANDIDATES - Q_WAIT_FIRST] =
		"SELECT e.id FROM waitlist_entry e WHERE e.service = ?1"
		" AND e.status = 'waiting' AND e.earliest <= ?3"
		" AND e.latest > ?3 AND NOT EXISTS (SELECT 1"
		"  FROM waitlist_offer o WHERE o.entry = e.id"
		"  AND (o.status = 'open' OR o.slot = ?2))"
		" ORDER BY " OFFER_ORDER " LIMIT ?4",
	[Q_WAIT_OFFER_INSERT - Q_WAIT_FIRST] =
		"INSERT INTO waitlist_offer (entry, slot, hold, expires,"
		" created) VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_WAIT_OFFER_CLOSE - Q_WAIT_FIRST] =
		"UPDATE waitlist_offer SET status = ?2, booking = nullif(?3, 0),"
		" closed = ?4 WHERE id = ?1 AND status = 'open'",
	[Q_WAIT_OFFER_EXPIRE - Q_WAIT_FIRST] =
		"UPDATE waitlist_offer SET status = 'expired', closed = ?1"
		" WHERE status = 'open' AND expires <= ?1 RETURNING entry, slot",
	[Q_WAIT_OFFER_BY_HOLD - Q_WAIT_FIRST] =
		"SELECT entry FROM waitlist_offer WHERE hold = ?1"
		" AND status = 'open'",
	[Q_OUTBOX_ADD - Q_WAIT_FIRST] =
		"INSERT INTO outbox (stream, booking, entry, kind, sequence,"
		" due, idempotency_key, client_ref, language, text, created)"
		" VALUES (?1, nullif(?2, 0), nullif(?3, 0), ?4, ?5, ?6, ?7, ?8,"
		" ?9, ?10, ?11)",
	[Q_OUTBOX_VOID - Q_WAIT_FIRST] =
		"UPDATE outbox SET state = 'void' WHERE kind = 'reminder'"
		" AND state IN ('pending', 'claimed') AND due <= ?1"
		" AND lease_until <= ?1 AND NOT " REMINDER_LIVE("outbox"),
	/* One statement decides and leases, so nothing can change the
	 * booking between the check and the hand-out. */
	[Q_OUTBOX_CLAIM - Q_WAIT_FIRST] =
		"UPDATE outbox SET state = 'claimed', lease_until = ?3,"
		" claims = claims + 1 WHERE id IN (SELECT o.id FROM outbox o"
		"  WHERE o.state IN ('pending', 'claimed') AND o.due <= ?1"
		"  AND o.lease_until <= ?1 AND " REMINDER_LIVE("o")
		"  AND NOT EXISTS (SELECT 1 FROM outbox p"
		"   WHERE p.stream = o.stream"
		"   AND p.state IN ('pending', 'claimed') AND p.due <= ?1"
		"   AND (p.due < o.due OR (p.due = o.due AND p.id < o.id)))"
		"  ORDER BY o.due, o.id LIMIT ?2)"
		" RETURNING " OUTBOX_COLUMNS,
	[Q_OUTBOX_ACK - Q_WAIT_FIRST] =
		"UPDATE outbox SET state = CASE state WHEN 'claimed'"
		" THEN 'acked' ELSE state END, acked = coalesce(acked, ?2)"
		" WHERE id = ?1 AND claims > 0 RETURNING id",
	[Q_OUTBOX_LIST - Q_WAIT_FIRST] =
		"SELECT " OUTBOX_COLUMNS " FROM outbox"
		" WHERE state IN ('pending', 'claimed') ORDER BY due, id"
		" LIMIT ?1",
};

static char *
column_or_null(Query q, int column)
{
	if (sqlite3_column_type(q, column) == SQLITE_NULL)
		return NULL;
	return store_column_dup(q, column);
}

/* ---- entries -------------------------------------------------------- */

void
store_wait_entry_free(StoreWaitEntry *e)
{
	if (e == NULL)
		return;
	g_free(e->service);
	g_free(e->client_ref);
	g_free(e->municipality);
	g_free(e->language);
	g_free(e->modality);
	g_free(e->status);
	g_free(e);
}

static StoreWaitEntry *
entry_from_row(Query q)
{
	StoreWaitEntry *e = g_new0(StoreWaitEntry, 1);

	e->id = sqlite3_column_int64(q, 0);
	e->service = store_column_dup(q, 1);
	e->client_ref = store_column_dup(q, 2);
	e->municipality = column_or_null(q, 3);
	e->language = column_or_null(q, 4);
	e->modality = column_or_null(q, 5);
	e->earliest = sqlite3_column_int64(q, 6);
	e->latest = sqlite3_column_int64(q, 7);
	e->deadline = sqlite3_column_int64(q, 8);
	e->priority = sqlite3_column_int(q, 9);
	e->created = sqlite3_column_int64(q, 10);
	e->uid = sqlite3_column_int64(q, 11);
	e->status = store_column_dup(q, 12);
	e->booking = sqlite3_column_int64(q, 13);
	e->offer = sqlite3_column_int64(q, 14);
	e->offer_slot = sqlite3_column_int64(q, 15);
	e->offer_hold = sqlite3_column_int64(q, 16);
	e->offer_expires = sqlite3_column_int64(q, 17);
	return e;
}

gboolean
store_wait_insert(Store *store, StoreWaitEntry *e, GError **error)
{
	g_auto(Query) q = store_query(store, Q_WAIT_INSERT, error);

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, e->service);
	store_bind_text(q, 2, e->client_ref);
	store_bind_text(q, 3, e->municipality);
	store_bind_text(q, 4, e->language);
	store_bind_text(q, 5, e->modality);
	sqlite3_bind_int64(q, 6, e->earliest);
	sqlite3_bind_int64(q, 7, e->latest);
	sqlite3_bind_int64(q, 8, e->deadline);
	sqlite3_bind_int64(q, 9, e->priority);
	sqlite3_bind_int64(q, 10, e->created);
	sqlite3_bind_int64(q, 11, e->uid);
	if (!store_run(store, q, error))
		return FALSE;
	e->id = sqlite3_last_insert_rowid(store->db);
	return TRUE;
}

gboolean
store_wait_get(Store *store, gint64 id, StoreWaitEntry **ret_entry,
	       GError **error)
{
	g_auto(Query) q = store_query(store, Q_WAIT_GET, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		g_set_error_literal(error, SLOTD_ERROR,
				    SLOTD_ERROR_NO_SUCH_ENTRY,
				    "no such waitlist entry; check the entry "
				    "id JoinWaitlist gave");
		return FALSE;
	}
	if (rc != SQLITE_ROW)
		return store_fail_query(store, rc, q, error);
	*ret_entry = entry_from_row(q);
	return TRUE;
}

gboolean
store_wait_list(Store *store, const char *service, GPtrArray *ret_entries,
		GError **error)
{
	g_auto(Query) q = store_query(store, Q_WAIT_LIST, error);
	guint old_len = ret_entries->len;
	int rc;

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, service);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		g_ptr_array_add(ret_entries, entry_from_row(q));
	if (rc == SQLITE_DONE)
		return TRUE;
	while (ret_entries->len > old_len)
		store_wait_entry_free(g_ptr_array_steal_index(
			ret_entries, ret_entries->len - 1));
	return store_fail_query(store, rc, q, error);
}

gboolean
store_wait_set_status(Store *store, gint64 id, const char *status,
		      gint64 booking, GError **error)
{
	g_auto(Query) q = store_query(store, Q_WAIT_SET_STATUS, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, id);
	store_bind_text(q, 2, status);
	sqlite3_bind_int64(q, 3, booking);
	return store_run(store, q, error);
}

gboolean
store_wait_free_slots(Store *store, const char *offering, gint64 from,
		      gint64 to, gint64 now, guint limit, GArray *ret_slot_ids,
		      GError **error)
{
	g_auto(Query) q = store_query(store, Q_WAIT_FREE_SLOTS, error);

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, offering);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, to);
	sqlite3_bind_int64(q, 4, now);
	sqlite3_bind_int64(q, 5, limit);
	return store_collect_ids(store, q, ret_slot_ids, error);
}

gboolean
store_wait_candidates(Store *store, const char *service, gint64 slot,
		      gint64 start, guint limit, GArray *ret_entry_ids,
		      GError **error)
{
	g_auto(Query) q = store_query(store, Q_WAIT_CANDIDATES, error);

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, service);
	sqlite3_bind_int64(q, 2, slot);
	sqlite3_bind_int64(q, 3, start);
	sqlite3_bind_int64(q, 4, limit);
	return store_collect_ids(store, q, ret_entry_ids, error);
}

/* ---- offers --------------------------------------------------------- */

gboolean
store_wait_offer_insert(Store *store, gint64 entry, gint64 slot, gint64 hold,
			gint64 expires, gint64 now, gint64 *ret_offer,
			GError **error)
{
	g_auto(Query) q = store_query(store, Q_WAIT_OFFER_INSERT, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, entry);
	sqlite3_bind_int64(q, 2, slot);
	sqlite3_bind_int64(q, 3, hold);
	sqlite3_bind_int64(q, 4, expires);
	sqlite3_bind_int64(q, 5, now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT,
				    "the slot or the entry has an open offer "
				    "already");
		return FALSE;
	}
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	*ret_offer = sqlite3_last_insert_rowid(store->db);
	return TRUE;
}

gboolean
store_wait_offer_close(Store *store, gint64 offer, const char *status,
		       gint64 booking, gint64 now, GError **error)
{
	g_auto(Query) q = store_query(store, Q_WAIT_OFFER_CLOSE, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, offer);
	store_bind_text(q, 2, status);
	sqlite3_bind_int64(q, 3, booking);
	sqlite3_bind_int64(q, 4, now);
	return store_run(store, q, error);
}

gboolean
store_wait_expire_offers(Store *store, gint64 now, GArray *ret_entry_ids,
			 GArray *ret_slot_ids, GError **error)
{
	g_auto(Query) q = store_query(store, Q_WAIT_OFFER_EXPIRE, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, now);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		gint64 entry = sqlite3_column_int64(q, 0);
		gint64 slot = sqlite3_column_int64(q, 1);

		g_array_append_val(ret_entry_ids, entry);
		g_array_append_val(ret_slot_ids, slot);
	}
	if (rc == SQLITE_DONE)
		return TRUE;
	return store_fail_query(store, rc, q, error);
}

gboolean
store_wait_offer_by_hold(Store *store, gint64 hold, gint64 *ret_entry,
			 GError **error)
{
	g_auto(Query) q = store_query(store, Q_WAIT_OFFER_BY_HOLD, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, hold);
	return store_query_int(store, q, 0, ret_entry, error);
}

/* ---- outbox --------------------------------------------------------- */

void
store_outbox_row_free(StoreOutboxRow *row)
{
	if (row == NULL)
		return;
	g_free(row->stream);
	g_free(row->kind);
	g_free(row->key);
	g_free(row->client_ref);
	g_free(row->language);
	g_free(row->text);
	g_free(row->state);
	g_free(row);
}

static StoreOutboxRow *
outbox_from_row(Query q)
{
	StoreOutboxRow *r = g_new0(StoreOutboxRow, 1);

	r->id = sqlite3_column_int64(q, 0);
	r->stream = store_column_dup(q, 1);
	r->booking = sqlite3_column_int64(q, 2);
	r->entry = sqlite3_column_int64(q, 3);
	r->kind = store_column_dup(q, 4);
	r->due = sqlite3_column_int64(q, 5);
	r->key = store_column_dup(q, 6);
	r->client_ref = store_column_dup(q, 7);
	r->language = store_column_dup(q, 8);
	r->text = store_column_dup(q, 9);
	r->state = store_column_dup(q, 10);
	r->lease_until = sqlite3_column_int64(q, 11);
	r->claims = sqlite3_column_int(q, 12);
	return r;
}

gboolean
store_outbox_add(Store *store, const StoreOutboxItem *item, GError **error)
{
	g_auto(Query) q = store_query(store, Q_OUTBOX_ADD, error);

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, item->stream);
	sqlite3_bind_int64(q, 2, item->booking);
	sqlite3_bind_int64(q, 3, item->entry);
	store_bind_text(q, 4, item->kind);
	sqlite3_bind_int64(q, 5, item->sequence);
	sqlite3_bind_int64(q, 6, item->due);
	store_bind_text(q, 7, item->key);
	store_bind_text(q, 8, item->client_ref ? item->client_ref : "");
	store_bind_text(q, 9, item->language);
	store_bind_text(q, 10, item->text);
	sqlite3_bind_int64(q, 11, item->created);
	return store_run(store, q, error);
}

static gint
compare_rows(gconstpointer a, gconstpointer b)
{
	const StoreOutboxRow *x = *(StoreOutboxRow *const *)a;
	const StoreOutboxRow *y = *(StoreOutboxRow *const *)b;

	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static gboolean
collect_rows(Store *store, Query q, GPtrArray *ret_rows, GError **error)
{
	guint old_len = ret_rows->len;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		g_ptr_array_add(ret_rows, outbox_from_row(q));
	if (rc == SQLITE_DONE)
		return TRUE;
	while (ret_rows->len > old_len)
		store_outbox_row_free(g_ptr_array_steal_index(
			ret_rows, ret_rows->len - 1));
	return store_fail_query(store, rc, q, error);
}

gboolean
store_outbox_claim(Store *store, gint64 now, guint max, gint64 lease_until,
		   GPtrArray *ret_rows, GError **error)
{
	g_auto(Query) q = NULL;

	if (!store_run_id(store, Q_OUTBOX_VOID, now, error))
		return FALSE;
	q = store_query(store, Q_OUTBOX_CLAIM, error);
	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, max);
	sqlite3_bind_int64(q, 3, lease_until);
	if (!collect_rows(store, q, ret_rows, error))
		return FALSE;
	/* RETURNING gives no order. */
	g_ptr_array_sort(ret_rows, compare_rows);
	return TRUE;
}

gboolean
store_outbox_ack(Store *store, gint64 id, gint64 now, GError **error)
{
	g_auto(Query) q = store_query(store, Q_OUTBOX_ACK, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		return store_run(store, q, error); /* to its end */
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "notification n-%" G_GINT64_FORMAT " was never handed out "
		    "by Claim; acknowledge only the ids Claim gave",
		    id);
	return FALSE;
}

gboolean
store_outbox_list(Store *store, guint limit, GPtrArray *ret_rows,
		  GError **error)
{
	g_auto(Query) q = store_query(store, Q_OUTBOX_LIST, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, limit);
	return collect_rows(store, q, ret_rows, error);
}
