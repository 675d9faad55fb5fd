/* Which resources bookings and holds take, and the absences entered at
 * run time (schema version 4). A resource_use row counts while its
 * booking holds seats (a row in booking_use) or its hold exists: the
 * paths that give seats back free the resources with them, so there is
 * no second bookkeeping to keep in step. */
#define G_LOG_DOMAIN "slotd-store"

#include "store-private.h"

#include <string.h>

/* The row is live: its booking holds seats, or its hold exists. */
#define USE_LIVE \
	"((u.booking IS NOT NULL AND EXISTS (SELECT 1 FROM booking_use bu" \
	"   WHERE bu.booking = u.booking))" \
	" OR (u.hold IS NOT NULL AND EXISTS (SELECT 1 FROM hold h" \
	"   WHERE h.id = u.hold)))"

/* A use is at most two days long (the table's CHECK), so an overlap
 * with [?s, ?e) starts after ?s - 172800: the index bounds the scan. */
#define OVERLAPS(s, e) \
	"u.start < " e " AND u.start > " s " - 172800 AND u.\"end\" > " s

const char *const store_resource_sql[Q_RES_LAST - Q_RES_FIRST + 1] = {
	[Q_RES_BUSY - Q_RES_FIRST] =
		"SELECT u.resource, u.start, u.\"end\", coalesce(u.booking, 0)"
		" FROM resource_use u"
		" WHERE u.unit = ?1 AND " OVERLAPS("?2", "?3")
		" AND " USE_LIVE " ORDER BY u.start",
	[Q_RES_USE - Q_RES_FIRST] =
		"INSERT INTO resource_use (resource, unit, booking, hold, slot,"
		" start, \"end\") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	/* The places a move gives up, one row a resource, with the
	 * booking as it was before the move (run before the booking row
	 * changes). */
	[Q_RES_LEAVE - Q_RES_FIRST] =
		"INSERT INTO resource_left (resource, booking, offering, unit,"
		" start, \"end\", use_start, use_end, municipality, modality,"
		" left_at)"
		" SELECT u.resource, b.id, b.offering, b.unit, b.start,"
		" b.\"end\", min(u.start), max(u.\"end\"), b.municipality,"
		" b.modality, ?2"
		" FROM resource_use u JOIN booking b ON b.id = u.booking"
		" WHERE u.booking = ?1 GROUP BY u.resource ORDER BY min(u.rowid)",
	[Q_RES_LEFT_EXPIRE - Q_RES_FIRST] =
		"DELETE FROM resource_left WHERE left_at < ?1",
	[Q_RES_FORGET - Q_RES_FIRST] =
		"DELETE FROM resource_use WHERE booking = ?1",
	[Q_RES_OF_BOOKING - Q_RES_FIRST] =
		"SELECT resource FROM resource_use"
		" WHERE (?1 <> 0 AND booking = ?1) OR (?2 <> 0 AND hold = ?2)"
		" ORDER BY rowid",
	[Q_RES_OF_SERIES - Q_RES_FIRST] =
		"SELECT u.resource FROM resource_use u"
		" JOIN booking b ON b.id = u.booking"
		" WHERE b.series = ?1 AND b.id <> ?2 AND " USE_LIVE
		" ORDER BY b.series_index DESC, u.rowid",
	[Q_RES_BOOKINGS - Q_RES_FIRST] =
		"SELECT DISTINCT u.booking FROM resource_use u"
		" WHERE u.resource = ?1 AND u.booking IS NOT NULL"
		" AND " OVERLAPS("?2", "?3") " AND " USE_LIVE
		" ORDER BY u.start, u.booking",
	[Q_RES_ABSENCE_ADD - Q_RES_FIRST] =
		"INSERT INTO absence (resource, start, \"end\", reason,"
		" created, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_RES_ABSENCES - Q_RES_FIRST] =
		"SELECT id, resource, start, \"end\", reason, created,"
		" created_by FROM absence"
		" WHERE withdrawn IS NULL AND \"end\" > ?1 ORDER BY start, id",
	[Q_RES_FLAG - Q_RES_FIRST] = STORE_FLAG_REBOOKING("?2") " AND id = ?1",
	[Q_RES_UNASSIGNED - Q_RES_FIRST] =
		"SELECT b.id FROM booking b"
		" WHERE b.offering = ?1 AND b.start >= ?2"
		" AND EXISTS (SELECT 1 FROM booking_use bu"
		"  WHERE bu.booking = b.id)"
		" AND NOT EXISTS (SELECT 1 FROM resource_use u"
		"  WHERE u.booking = b.id)"
		" ORDER BY b.start, b.id",
	[Q_RES_USAGE - Q_RES_FIRST] =
		"SELECT u.resource,"
		" sum(min(u.\"end\", ?2) - max(u.start, ?1)) / 60,"
		" count(DISTINCT u.booking) FROM resource_use u"
		" JOIN booking b ON b.id = u.booking"
		" WHERE u.start < ?2 AND u.\"end\" > ?1"
		" AND b.status NOT IN ('cancelled', 'entered-in-error',"
		"  'noshow')"
		" GROUP BY u.resource ORDER BY u.resource",
	[Q_RES_OF_SLOT - Q_RES_FIRST] =
		"SELECT u.resource, sum(coalesce(b.seats, h.seats, 1))"
		" FROM resource_use u LEFT JOIN booking b ON b.id = u.booking"
		" LEFT JOIN hold h ON h.id = u.hold"
		" WHERE u.slot = ?1 AND (u.booking IS NULL OR u.booking <> ?2)"
		" AND " USE_LIVE " GROUP BY u.resource",
};

/* Steps `q`, appending its first column as a string to `ret`
 * (GPtrArray of owned strings) or to a set (GHashTable). */
static gboolean
collect_strings(Store *store, Query q, GPtrArray *ret_array,
		GHashTable *ret_set, GError **error)
{
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char *text = store_column_dup(q, 0);

		if (ret_set)
			g_hash_table_add(ret_set, text);
		else
			g_ptr_array_add(ret_array, text);
	}
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	return TRUE;
}

gboolean
store_resources_busy(Store *store, const char *unit, gint64 start, gint64 end,
		     GArray *ret_uses, GError **error)
{
	g_auto(Query) q = store_query(store, Q_RES_BUSY, error);
	int rc;

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, unit);
	sqlite3_bind_int64(q, 2, start);
	sqlite3_bind_int64(q, 3, end);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		StoreResourceBusy use = {
			g_intern_string((const char *)sqlite3_column_text(q, 0)),
			sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2),
			sqlite3_column_int64(q, 3)
		};

		g_array_append_val(ret_uses, use);
	}
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	return TRUE;
}

gboolean
store_use_resource(Store *store, const StoreResourceUse *use, GError **error)
{
	g_auto(Query) q = store_query(store, Q_RES_USE, error);

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, use->resource);
	store_bind_text(q, 2, use->unit);
	if (use->booking)
		sqlite3_bind_int64(q, 3, use->booking);
	if (use->hold)
		sqlite3_bind_int64(q, 4, use->hold);
	sqlite3_bind_int64(q, 5, use->slot);
	sqlite3_bind_int64(q, 6, use->start);
	sqlite3_bind_int64(q, 7, use->end);
	return store_run(store, q, error);
}

gboolean
store_forget_resources(Store *store, gint64 booking, gint64 now,
		       gint64 keep_since, GError **error)
{
	g_auto(Query) leave = NULL;

	if (!store_run_id(store, Q_RES_LEFT_EXPIRE, keep_since, error))
		return FALSE;
	leave = store_query(store, Q_RES_LEAVE, error);
	if (leave == NULL)
		return FALSE;
	sqlite3_bind_int64(leave, 1, booking);
	sqlite3_bind_int64(leave, 2, now);
	return store_run(store, leave, error) &&
	       store_run_id(store, Q_RES_FORGET, booking, error);
}

gboolean
store_booking_resources(Store *store, gint64 booking, gint64 hold,
			GPtrArray *ret_ids, GError **error)
{
	g_auto(Query) q = store_query(store, Q_RES_OF_BOOKING, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, booking);
	sqlite3_bind_int64(q, 2, hold);
	return collect_strings(store, q, ret_ids, NULL, error);
}

gboolean
store_series_resources(Store *store, gint64 series, gint64 except,
		       GPtrArray *ret_ids, GError **error)
{
	g_auto(Query) q = store_query(store, Q_RES_OF_SERIES, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, series);
	sqlite3_bind_int64(q, 2, except);
	return collect_strings(store, q, ret_ids, NULL, error);
}

gboolean
store_resource_bookings(Store *store, const char *resource, gint64 from,
			gint64 to, GArray *ret_ids, GError **error)
{
	g_auto(Query) q = store_query(store, Q_RES_BOOKINGS, error);

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, resource);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, to);
	return store_collect_ids(store, q, ret_ids, error);
}

void
store_absence_free(StoreAbsence *absence)
{
	if (absence == NULL)
		return;
	g_free(absence->resource);
	g_free(absence->reason);
	g_free(absence);
}

gboolean
store_add_absence(Store *store, const StoreAbsence *a, gint64 *ret_id,
		  GError **error)
{
	g_auto(Query) q = store_query(store, Q_RES_ABSENCE_ADD, error);

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, a->resource);
	sqlite3_bind_int64(q, 2, a->start);
	sqlite3_bind_int64(q, 3, a->end);
	store_bind_text(q, 4, a->reason);
	sqlite3_bind_int64(q, 5, a->created);
	sqlite3_bind_int64(q, 6, a->created_by);
	if (!store_run(store, q, error))
		return FALSE;
	*ret_id = sqlite3_last_insert_rowid(store->db);
	return TRUE;
}

gboolean
store_list_absences(Store *store, gint64 after, GPtrArray *ret,
		    GError **error)
{
	g_auto(Query) q = store_query(store, Q_RES_ABSENCES, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, after);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		StoreAbsence *a = g_new0(StoreAbsence, 1);

		a->id = sqlite3_column_int64(q, 0);
		a->resource = store_column_dup(q, 1);
		a->start = sqlite3_column_int64(q, 2);
		a->end = sqlite3_column_int64(q, 3);
		a->reason = store_column_dup(q, 4);
		a->created = sqlite3_column_int64(q, 5);
		a->created_by = (guint32)sqlite3_column_int64(q, 6);
		g_ptr_array_add(ret, a);
	}
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	return TRUE;
}

gboolean
store_flag_rebooking(Store *store, gint64 booking, gint64 now,
		     gboolean *ret_changed, GError **error)
{
	g_auto(Query) q = store_query(store, Q_RES_FLAG, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, booking);
	sqlite3_bind_int64(q, 2, now);
	if (!store_run(store, q, error))
		return FALSE;
	*ret_changed = sqlite3_changes(store->db) > 0;
	return TRUE;
}

gboolean
store_unassigned_bookings(Store *store, const char *offering, gint64 from,
			  GArray *ret_ids, GError **error)
{
	g_auto(Query) q = store_query(store, Q_RES_UNASSIGNED, error);

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, offering);
	sqlite3_bind_int64(q, 2, from);
	return store_collect_ids(store, q, ret_ids, error);
}

gboolean
store_resource_usage(Store *store, gint64 from, gint64 to, GPtrArray *ret_rows,
		     GError **error)
{
	g_auto(Query) q = store_query(store, Q_RES_USAGE, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, from);
	sqlite3_bind_int64(q, 2, to);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		g_ptr_array_add(ret_rows, g_variant_ref_sink(g_variant_new(
			"(stt)", (const char *)sqlite3_column_text(q, 0),
			(guint64)sqlite3_column_int64(q, 1),
			(guint64)sqlite3_column_int64(q, 2))));
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	return TRUE;
}

gboolean
store_slot_resources(Store *store, gint64 slot, gint64 except,
		     GHashTable *ret_seats, GError **error)
{
	g_auto(Query) q = store_query(store, Q_RES_OF_SLOT, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, slot);
	sqlite3_bind_int64(q, 2, except);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		g_hash_table_insert(ret_seats, store_column_dup(q, 0),
				    GUINT_TO_POINTER(
					    sqlite3_column_int(q, 1)));
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	return TRUE;
}
