/* Reading the store: slots, holds and bookings as the engine and the
 * planner see them, the integrity check, and online backups. */
#define G_LOG_DOMAIN "slotd-store"
#define _GNU_SOURCE /* renameat2 */

#include "store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACKUP_PAGES_PER_STEP 256
#define BACKUP_TEMP_TRIES 100

void
store_setup_library(void)
{
	/* Refused (SQLITE_MISUSE) once the library is initialised: then
	 * the statistics simply stay on. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

gint64
store_total_changes(Store *store)
{
	return sqlite3_total_changes64(store->db);
}

/* ---- statements ----------------------------------------------------- */

#define SLOT_COLUMNS \
	"id, offering, kind, start, \"end\", capacity, booked, held, status"

#define BOOKING_COLUMNS \
	"id, slot, offering, unit, service, start, \"end\", client_ref," \
	" status, seats, municipality, language, modality, urgency," \
	" referral_time, idempotency_key, extras, sequence, created," \
	" modified, created_by, needs_rebooking, cancel_reason, series," \
	" series_index, series_length"

/* A hold as plugins see it: a booking in progress, its id negated. */
#define HOLD_AS_BOOKING \
	"-h.id, h.slot, h.offering, '', h.service, h.start, h.\"end\"," \
	" coalesce(h.client_ref, ''), 'pending', h.seats, NULL, NULL, NULL," \
	" NULL, 0, NULL, h.extras, 0, h.created, h.created, h.uid, 0, NULL," \
	" NULL, 0, 1"

/* The list filter: ?1 unit, ?2 service, ?3 offering, ?4 status,
 * ?5 client_ref, ?6 from, ?7 to, ?8 modified since, ?9 needs rebooking
 * only, ?10 limit. Each variant leads with the column that has an
 * index, so SQLite can use it. */
#define LIST_BOOKINGS(lead) \
	"SELECT " BOOKING_COLUMNS " FROM booking WHERE " lead \
	" AND start >= ?6 AND start < ?7" \
	" AND (?1 IS NULL OR unit = ?1)" \
	" AND (?2 IS NULL OR service = ?2)" \
	" AND (?3 IS NULL OR offering = ?3)" \
	" AND (?4 IS NULL OR status = ?4)" \
	" AND (?5 IS NULL OR client_ref = ?5)" \
	" AND modified >= ?8 AND (?9 = 0 OR needs_rebooking = 1)" \
	" ORDER BY start, id LIMIT ?10"

const char *const store_report_sql[N_QUERIES] = {
	[Q_SLOT_GET] = "SELECT " SLOT_COLUMNS " FROM slot WHERE id = ?1",
	/* In the order of the UNIQUE (offering, start, kind) index, so
	 * that SQLite needs no temporary B-tree; collect_slots() puts the
	 * slots of one start in id order. */
	[Q_SLOT_LIST] =
		"SELECT " SLOT_COLUMNS " FROM slot WHERE offering = ?1"
		" AND start >= ?2 AND start < ?3 ORDER BY start, kind",
	/* Row values: the page goes on from the last (start, kind) the
	 * one before ended at, inside a start too. */
	[Q_SLOT_PAGE] =
		"SELECT " SLOT_COLUMNS " FROM slot WHERE offering = ?1"
		" AND (start, kind) > (?2, ?3) AND start < ?4"
		" ORDER BY start, kind LIMIT ?5",
	[Q_SLOT_SPAN] = "SELECT longest FROM slot_span WHERE offering = ?1",
	[Q_BOOKING_SLOTS] =
		"SELECT u.slot FROM booking_use u JOIN slot s ON s.id = u.slot"
		" WHERE u.booking = ?1 ORDER BY s.start, s.id",
	[Q_HOLD_GET] =
		"SELECT id, slot, seats, expires, uid, request FROM hold"
		" WHERE id = ?1 AND expires > ?2",
	[Q_HOLD_NEXT] = "SELECT coalesce(min(expires), 0) FROM hold",
	[Q_BOOKING_GET] =
		"SELECT " BOOKING_COLUMNS " FROM booking WHERE id = ?1",
	[Q_BOOKING_MARKS] =
		"SELECT sequence, needs_rebooking FROM booking WHERE id = ?1",
	[Q_BOOKING_BY_KEY] =
		"SELECT " BOOKING_COLUMNS " FROM booking"
		" WHERE idempotency_key = ?1",
	[Q_LIST_BY_CLIENT] = LIST_BOOKINGS("client_ref = ?5"),
	[Q_LIST_BY_UNIT] = LIST_BOOKINGS("unit = ?1"),
	[Q_LIST_BY_SERVICE] = LIST_BOOKINGS("service = ?2"),
	[Q_LIST_BY_OFFERING] = LIST_BOOKINGS("offering = ?3"),
	[Q_LIST_BY_MODIFIED] = LIST_BOOKINGS("modified >= ?8"),
	[Q_LIST_ALL] = LIST_BOOKINGS("1"),
	[Q_CLIENT_COUNT] =
		"SELECT (SELECT count(*) FROM booking WHERE client_ref = ?1"
		" AND start >= ?3 AND start < ?4 AND id <> ?5"
		" AND (?2 IS NULL OR service = ?2) AND " LIVE ")"
		" + (SELECT count(*) FROM hold WHERE client_ref = ?1"
		" AND start >= ?3 AND start < ?4"
		" AND (?2 IS NULL OR service = ?2))",
	[Q_SLOT_BOOKINGS] =
		"SELECT " BOOKING_COLUMNS " FROM booking WHERE " LIVE
		" AND id IN (SELECT booking FROM booking_use WHERE slot = ?1)"
		" ORDER BY created, id",
	[Q_SLOT_HOLDS] =
		"SELECT " HOLD_AS_BOOKING " FROM hold h WHERE h.id IN"
		" (SELECT hold FROM hold_use WHERE slot = ?1) ORDER BY h.id",
	[Q_SLOT_HISTORY] =
		"SELECT " BOOKING_COLUMNS " FROM booking"
		" WHERE offering = (SELECT offering FROM slot WHERE id = ?1)"
		" AND start = (SELECT start FROM slot WHERE id = ?1)"
		" AND slot = ?1 ORDER BY created, id",
	[Q_AUDIT_OF_BOOKING] =
		"SELECT at, uid, caller, action, detail FROM audit"
		" WHERE booking = ?1 ORDER BY id",
	[Q_SERIES_BOOKINGS] =
		"SELECT " BOOKING_COLUMNS " FROM booking WHERE series = ?1"
		" AND " LIVE " ORDER BY series_index, id",
	[Q_INTEGRITY] = "PRAGMA integrity_check",
	[Q_FOREIGN_KEYS] = "PRAGMA foreign_key_check",
	/* Slots whose counters disagree with the rows that explain them. */
	[Q_SEAT_COUNTS] =
		"SELECT count(*) FROM slot s"
		" LEFT JOIN (SELECT slot, sum(seats) AS n FROM booking_use"
		"  GROUP BY slot) u ON u.slot = s.id"
		" LEFT JOIN (SELECT slot, sum(seats) AS n FROM hold_use"
		"  GROUP BY slot) h ON h.slot = s.id"
		" WHERE s.booked <> coalesce(u.n, 0)"
		" OR s.held <> coalesce(h.n, 0)",
};

/* Column order of BOOKING_COLUMNS. */
enum {
	BC_ID,
	BC_SLOT,
	BC_OFFERING,
	BC_UNIT,
	BC_SERVICE,
	BC_START,
	BC_END,
	BC_CLIENT_REF,
	BC_STATUS,
	BC_SEATS,
	BC_MUNICIPALITY,
	BC_LANGUAGE,
	BC_MODALITY,
	BC_URGENCY,
	BC_REFERRAL_TIME,
	BC_IDEMPOTENCY_KEY,
	BC_EXTRAS,
	BC_SEQUENCE,
	BC_CREATED,
	BC_MODIFIED,
	BC_CREATED_BY,
	BC_NEEDS_REBOOKING,
	BC_CANCEL_REASON,
	BC_SERIES,
	BC_SERIES_INDEX,
	BC_SERIES_LENGTH,
};

/* ---- slots ---------------------------------------------------------- */

void
store_slot_clear(StoreSlot *slot)
{
	g_clear_pointer(&slot->offering, g_free);
	g_clear_pointer(&slot->kind, g_free);
}

void
store_slot_free(StoreSlot *slot)
{
	if (slot == NULL)
		return;
	store_slot_clear(slot);
	g_free(slot);
}

static void
slot_from_row(Query q, StoreSlot *ret_slot)
{
	const char *status = (const char *)sqlite3_column_text(q, 8);

	ret_slot->id = sqlite3_column_int64(q, 0);
	ret_slot->offering = store_column_dup(q, 1);
	ret_slot->kind = store_column_dup(q, 2);
	ret_slot->start = sqlite3_column_int64(q, 3);
	ret_slot->end = sqlite3_column_int64(q, 4);
	ret_slot->capacity = sqlite3_column_int64(q, 5);
	ret_slot->booked = sqlite3_column_int64(q, 6);
	ret_slot->held = sqlite3_column_int64(q, 7);
	ret_slot->status = g_strcmp0(status, "free") == 0
				   ? SLOT_STATUS_FREE
				   : SLOT_STATUS_BUSY_UNAVAILABLE;
}

gboolean
store_get_slot(Store *store, gint64 slot_id, StoreSlot *ret_slot,
	       GError **error)
{
	g_auto(Query) q = store_query(store, Q_SLOT_GET, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, slot_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return store_not_found(error, SLOTD_ERROR_NO_SUCH_SLOT);
	if (rc != SQLITE_ROW)
		return store_fail_query(store, rc, q, error);
	slot_from_row(q, ret_slot);
	return TRUE;
}

static gint
compare_start_id(gconstpointer a, gconstpointer b, gpointer unused)
{
	const StoreSlot *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Takes ret_slots back to `len` slots; those after it are cleared
 * here, whether the array has a clear function or not. */
static void
slots_truncate(GArray *ret_slots, guint len)
{
	for (guint i = len; i < ret_slots->len; i++)
		store_slot_clear(&g_array_index(ret_slots, StoreSlot, i));
	g_array_set_size(ret_slots, len);
}

/* Appends the rows to ret_slots, which owns their strings then, in the
 * query's order; on a failure nothing. */
static gboolean
append_slots(Store *store, Query q, GArray *ret_slots, GError **error)
{
	guint old_len = ret_slots->len;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		StoreSlot slot = { 0 };

		slot_from_row(q, &slot);
		g_array_append_val(ret_slots, slot);
	}
	if (rc == SQLITE_DONE)
		return TRUE;
	slots_truncate(ret_slots, old_len);
	return store_fail_query(store, rc, q, error);
}

/* The same for rows in (start, kind) order: (start, id) is the order
 * promised. */
static gboolean
collect_slots(Store *store, Query q, GArray *ret_slots, GError **error)
{
	guint old_len = ret_slots->len;

	if (!append_slots(store, q, ret_slots, error))
		return FALSE;
	g_qsort_with_data(&g_array_index(ret_slots, StoreSlot, old_len),
			  (gint)(ret_slots->len - old_len), sizeof(StoreSlot),
			  compare_start_id, NULL);
	return TRUE;
}

gboolean
store_list_slots(Store *store, const char *offering, gint64 from, gint64 to,
		 GArray *ret_slots, GError **error)
{
	g_auto(Query) q = store_query(store, Q_SLOT_LIST, error);

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, offering);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, to);
	return collect_slots(store, q, ret_slots, error);
}

gboolean
store_list_slot_page(Store *store, const char *offering, gint64 after_start,
		     const char *after_kind, gint64 to, guint limit,
		     GArray *ret_slots, gboolean *ret_more, GError **error)
{
	g_auto(Query) q = store_query(store, Q_SLOT_PAGE, error);
	guint old_len = ret_slots->len;

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, offering);
	sqlite3_bind_int64(q, 2, after_start);
	store_bind_text(q, 3, after_kind);
	sqlite3_bind_int64(q, 4, to);
	sqlite3_bind_int64(q, 5, limit);
	if (!append_slots(store, q, ret_slots, error))
		return FALSE;
	*ret_more = ret_slots->len - old_len == limit;
	return TRUE;
}

gboolean
store_slot_longest(Store *store, const char *offering, gint64 *ret_seconds,
		   GError **error)
{
	g_auto(Query) q = NULL;

	if (store_span_known(store, offering, ret_seconds))
		return TRUE;
	q = store_query(store, Q_SLOT_SPAN, error);
	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, offering);
	return store_query_int(store, q, 0, ret_seconds, error);
}

gboolean
store_booking_slots(Store *store, gint64 booking_id, GArray *ret_slot_ids,
		    GError **error)
{
	g_auto(Query) q = store_query(store, Q_BOOKING_SLOTS, error);
	guint old_len = ret_slot_ids->len;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, booking_id);
	if (!store_collect_ids(store, q, ret_slot_ids, error))
		return FALSE;
	return ret_slot_ids->len > old_len ||
	       store_booking_exists(store, booking_id, error);
}

/* ---- holds ---------------------------------------------------------- */

void
store_hold_clear(StoreHold *hold)
{
	g_clear_pointer(&hold->request, g_free);
}

gboolean
store_get_hold(Store *store, gint64 hold_id, gint64 now, StoreHold *ret_hold,
	       GError **error)
{
	g_auto(Query) q = store_query(store, Q_HOLD_GET, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, hold_id);
	sqlite3_bind_int64(q, 2, now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return store_not_found(error, SLOTD_ERROR_NO_SUCH_HOLD);
	if (rc != SQLITE_ROW)
		return store_fail_query(store, rc, q, error);
	ret_hold->id = sqlite3_column_int64(q, 0);
	ret_hold->slot = sqlite3_column_int64(q, 1);
	ret_hold->seats = sqlite3_column_int64(q, 2);
	ret_hold->expires = sqlite3_column_int64(q, 3);
	ret_hold->uid = sqlite3_column_int64(q, 4);
	ret_hold->request = store_column_dup(q, 5);
	return TRUE;
}

gint64
store_next_hold_expiry(Store *store)
{
	g_auto(Query) q = store_query(store, Q_HOLD_NEXT, NULL);
	gint64 expiry = 0;

	if (q != NULL)
		store_query_int(store, q, 0, &expiry, NULL);
	return expiry;
}

/* ---- bookings ------------------------------------------------------- */

void
store_booking_free(StoreBooking *booking)
{
	if (booking == NULL)
		return;
	g_free(booking->offering);
	g_free(booking->unit);
	g_free(booking->service);
	g_free(booking->client_ref);
	g_free(booking->status);
	g_free(booking->municipality);
	g_free(booking->language);
	g_free(booking->modality);
	g_free(booking->urgency);
	g_free(booking->idempotency_key);
	g_clear_pointer(&booking->extras, g_variant_unref);
	g_free(booking->cancel_reason);
	g_free(booking);
}

static GVariant *
extras_parse(gint64 booking_id, const char *text)
{
	g_autoptr(GError) error = NULL;
	GVariant *extras;

	extras = g_variant_parse(G_VARIANT_TYPE_VARDICT, text ? text : "",
				 NULL, NULL, &error);
	if (extras != NULL)
		return extras;
	/* Someone edited the row by hand; show the booking anyway. */
	g_warning("booking %" G_GINT64_FORMAT ": its extras do not parse "
		  "(%s); showing none", booking_id, error->message);
	return g_variant_ref_sink(g_variant_new("a{sv}", NULL));
}

static StoreBooking *
booking_from_row(Query q)
{
	StoreBooking *b = g_new0(StoreBooking, 1);

	b->id = sqlite3_column_int64(q, BC_ID);
	b->slot = sqlite3_column_int64(q, BC_SLOT);
	b->offering = store_column_dup(q, BC_OFFERING);
	b->unit = store_column_dup(q, BC_UNIT);
	b->service = store_column_dup(q, BC_SERVICE);
	b->start = sqlite3_column_int64(q, BC_START);
	b->end = sqlite3_column_int64(q, BC_END);
	b->client_ref = store_column_dup(q, BC_CLIENT_REF);
	b->status = store_column_dup(q, BC_STATUS);
	b->seats = sqlite3_column_int64(q, BC_SEATS);
	b->municipality = store_column_dup(q, BC_MUNICIPALITY);
	b->language = store_column_dup(q, BC_LANGUAGE);
	b->modality = store_column_dup(q, BC_MODALITY);
	b->urgency = store_column_dup(q, BC_URGENCY);
	b->referral_time = sqlite3_column_int64(q, BC_REFERRAL_TIME);
	b->idempotency_key = store_column_dup(q, BC_IDEMPOTENCY_KEY);
	b->extras = extras_parse(b->id, (const char *)sqlite3_column_text(
						q, BC_EXTRAS));
	b->sequence = sqlite3_column_int64(q, BC_SEQUENCE);
	b->created = sqlite3_column_int64(q, BC_CREATED);
	b->modified = sqlite3_column_int64(q, BC_MODIFIED);
	b->created_by = sqlite3_column_int64(q, BC_CREATED_BY);
	b->needs_rebooking = sqlite3_column_int(q, BC_NEEDS_REBOOKING) != 0;
	b->cancel_reason = store_column_dup(q, BC_CANCEL_REASON);
	b->series = sqlite3_column_int64(q, BC_SERIES);
	b->series_index = sqlite3_column_int64(q, BC_SERIES_INDEX);
	b->series_length = sqlite3_column_int64(q, BC_SERIES_LENGTH);
	return b;
}

/* The booking of the first row, or NULL when there is none. */
static gboolean
fetch_booking(Store *store, Query q, StoreBooking **ret_booking,
	      GError **error)
{
	int rc = sqlite3_step(q);

	*ret_booking = NULL;
	if (rc == SQLITE_ROW)
		*ret_booking = booking_from_row(q);
	else if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	return TRUE;
}

gboolean
store_get_booking(Store *store, gint64 booking_id,
		  StoreBooking **ret_booking, GError **error)
{
	g_auto(Query) q = store_query(store, Q_BOOKING_GET, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, booking_id);
	if (!fetch_booking(store, q, ret_booking, error))
		return FALSE;
	return *ret_booking != NULL ||
	       store_not_found(error, SLOTD_ERROR_NO_SUCH_BOOKING);
}

gboolean
store_get_booking_marks(Store *store, gint64 booking_id, gint64 *ret_sequence,
			gboolean *ret_needs_rebooking, GError **error)
{
	g_auto(Query) q = store_query(store, Q_BOOKING_MARKS, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, booking_id);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return store_not_found(error, SLOTD_ERROR_NO_SUCH_BOOKING);
	if (rc != SQLITE_ROW)
		return store_fail_query(store, rc, q, error);
	*ret_sequence = sqlite3_column_int64(q, 0);
	*ret_needs_rebooking = sqlite3_column_int(q, 1) != 0;
	return TRUE;
}

gboolean
store_find_idempotent(Store *store, const char *key,
		      StoreBooking **ret_booking, GError **error)
{
	g_auto(Query) q = NULL;

	g_return_val_if_fail(key != NULL, FALSE);
	q = store_query(store, Q_BOOKING_BY_KEY, error);
	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, key);
	return fetch_booking(store, q, ret_booking, error);
}

/* Appends every row's booking, or nothing at all on an error. */
static gboolean
collect_bookings(Store *store, Query q, GPtrArray *ret_bookings,
		 GError **error)
{
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		g_ptr_array_add(found, booking_from_row(q));
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	g_ptr_array_extend_and_steal(ret_bookings, g_steal_pointer(&found));
	return TRUE;
}

/* The variant whose leading column narrows the search most. */
static QueryId
list_query(const StoreBookingFilter *filter)
{
	if (filter->client_ref != NULL)
		return Q_LIST_BY_CLIENT;
	if (filter->unit != NULL)
		return Q_LIST_BY_UNIT;
	if (filter->offering != NULL)
		return Q_LIST_BY_OFFERING;
	if (filter->service != NULL)
		return Q_LIST_BY_SERVICE;
	if (filter->modified_since != 0)
		return Q_LIST_BY_MODIFIED;
	return Q_LIST_ALL;
}

gboolean
store_list_bookings(Store *store, const StoreBookingFilter *filter,
		    GPtrArray *ret_bookings, GError **error)
{
	g_auto(Query) q = store_query(store, list_query(filter), error);

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, filter->unit);
	store_bind_text(q, 2, filter->service);
	store_bind_text(q, 3, filter->offering);
	store_bind_text(q, 4, filter->status);
	store_bind_text(q, 5, filter->client_ref);
	sqlite3_bind_int64(q, 6, filter->from ? filter->from : G_MININT64);
	sqlite3_bind_int64(q, 7, filter->to ? filter->to : G_MAXINT64);
	sqlite3_bind_int64(q, 8, filter->modified_since);
	sqlite3_bind_int(q, 9, filter->needs_rebooking_only ? 1 : 0);
	sqlite3_bind_int64(q, 10, filter->limit ? (gint64)filter->limit : -1);
	return collect_bookings(store, q, ret_bookings, error);
}

gboolean
store_count_client_bookings(Store *store, const char *client_ref,
			    const char *service, gint64 from, gint64 to,
			    gint64 except, guint *ret_count, GError **error)
{
	g_auto(Query) q = store_query(store, Q_CLIENT_COUNT, error);
	gint64 count;

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, client_ref);
	store_bind_text(q, 2, service);
	sqlite3_bind_int64(q, 3, from);
	sqlite3_bind_int64(q, 4, to);
	sqlite3_bind_int64(q, 5, except);
	if (!store_query_int(store, q, 0, &count, error))
		return FALSE;
	*ret_count = count;
	return TRUE;
}

/* The bookings (or holds as bookings) a query of one id finds. */
static gboolean
bookings_of(Store *store, QueryId id, gint64 key, GPtrArray *ret_bookings,
	    GError **error)
{
	g_auto(Query) q = store_query(store, id, error);

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, key);
	return collect_bookings(store, q, ret_bookings, error);
}

gboolean
store_slot_bookings(Store *store, gint64 slot_id, GPtrArray *ret_bookings,
		    GError **error)
{
	return bookings_of(store, Q_SLOT_BOOKINGS, slot_id, ret_bookings,
			   error);
}

gboolean
store_slot_holds(Store *store, gint64 slot_id, GPtrArray *ret_holds,
		 GError **error)
{
	return bookings_of(store, Q_SLOT_HOLDS, slot_id, ret_holds, error);
}

gboolean
store_slot_history(Store *store, gint64 slot_id, GPtrArray *ret_bookings,
		   GError **error)
{
	return bookings_of(store, Q_SLOT_HISTORY, slot_id, ret_bookings,
			   error);
}

gboolean
store_series_bookings(Store *store, gint64 series, GPtrArray *ret_bookings,
		      GError **error)
{
	return bookings_of(store, Q_SERIES_BOOKINGS, series, ret_bookings,
			   error);
}

void
store_audit_row_free(StoreAuditRow *row)
{
	if (!row)
		return;
	g_free(row->caller);
	g_free(row->action);
	g_free(row->detail);
	g_free(row);
}

gboolean
store_booking_history(Store *store, gint64 booking_id, GPtrArray *ret_rows,
		      GError **error)
{
	g_auto(Query) q = store_query(store, Q_AUDIT_OF_BOOKING, error);
	int rc;

	if (q == NULL)
		return FALSE;
	sqlite3_bind_int64(q, 1, booking_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		StoreAuditRow *row = g_new0(StoreAuditRow, 1);

		row->at = sqlite3_column_int64(q, 0);
		row->uid = sqlite3_column_int64(q, 1);
		row->caller = store_column_dup(q, 2);
		row->action = store_column_dup(q, 3);
		row->detail = store_column_dup(q, 4);
		g_ptr_array_add(ret_rows, row);
	}
	return rc == SQLITE_DONE || store_fail_query(store, rc, q, error);
}

/* ---- checks --------------------------------------------------------- */

static gboolean
damaged(const char *problem, GError **error)
{
	g_warning("integrity check: %s", problem);
	g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE,
			    "the booking database is damaged — ask an "
			    "administrator to restore it from a backup");
	return FALSE;
}

static gboolean
check_pages(Store *store, GError **error)
{
	g_auto(Query) q = store_query(store, Q_INTEGRITY, error);
	int rc;

	if (q == NULL)
		return FALSE;
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW)
		return store_fail_query(store, rc, q, error);
	if (g_strcmp0((const char *)sqlite3_column_text(q, 0), "ok") != 0)
		return damaged((const char *)sqlite3_column_text(q, 0), error);
	return TRUE;
}

static gboolean
check_references(Store *store, GError **error)
{
	g_auto(Query) q = store_query(store, Q_FOREIGN_KEYS, error);
	int rc;

	if (q == NULL)
		return FALSE;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		return damaged("rows refer to rows that do not exist", error);
	return rc == SQLITE_DONE || store_fail_query(store, rc, q, error);
}

static gboolean
check_seats(Store *store, GError **error)
{
	g_auto(Query) q = store_query(store, Q_SEAT_COUNTS, error);
	gint64 wrong;

	if (q == NULL || !store_query_int(store, q, 0, &wrong, error))
		return FALSE;
	if (wrong == 0)
		return TRUE;
	g_warning("integrity check: %" G_GINT64_FORMAT " slots count seats "
		  "that no booking or hold explains", wrong);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
		    "%" G_GINT64_FORMAT " slots' seat counts disagree with "
		    "their bookings and holds (a bug in slotd); please report "
		    "it", wrong);
	return FALSE;
}

gboolean
store_integrity_check(Store *store, GError **error)
{
	return check_pages(store, error) && check_references(store, error) &&
	       check_seats(store, error);
}

/* ---- copies --------------------------------------------------------- */

static void
handle_close(sqlite3 *db)
{
	sqlite3_close(db);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3, handle_close)

/* `what` says which step failed; it never holds the caller's path. */
static gboolean
backup_failed(const char *what, const char *detail, GError **error)
{
	g_warning("backup: %s: %s", what, detail);
	g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE,
			    "the backup could not be written (does the target "
			    "directory exist, is it writable, is there "
			    "space?); the booking database is unchanged");
	return FALSE;
}

static gboolean
backup_exists(GError **error)
{
	g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "the backup file already exists; a backup never "
			    "replaces a file, so give a new file name");
	return FALSE;
}

static sqlite3 *
open_handle(const char *path, int flags, const char *what, GError **error)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags, NULL);

	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
		return db;
	}
	backup_failed(what, sqlite3_errstr(rc), error);
	sqlite3_close(db);
	return NULL;
}

/* Copies page by page from a connection of its own: it reads the last
 * commit even while this Store's transaction is open, and one read
 * transaction across all steps keeps the copy a single snapshot. */
static gboolean
copy_pages(sqlite3 *source, sqlite3 *target, GError **error)
{
	sqlite3_backup *backup;
	int rc;

	rc = sqlite3_exec(source, "BEGIN; SELECT count(*) FROM sqlite_schema",
			  NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return backup_failed("reading", sqlite3_errmsg(source), error);
	backup = sqlite3_backup_init(target, "main", source, "main");
	if (backup == NULL)
		return backup_failed("starting", sqlite3_errmsg(target), error);
	do
		rc = sqlite3_backup_step(backup, BACKUP_PAGES_PER_STEP);
	while (rc == SQLITE_OK);
	sqlite3_backup_finish(backup);
	sqlite3_exec(source, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_DONE)
		return backup_failed("copying", sqlite3_errstr(rc), error);
	/* A backup is one file; no WAL beside it. */
	rc = sqlite3_exec(target, "PRAGMA journal_mode = DELETE", NULL, NULL,
			  NULL);
	if (rc != SQLITE_OK)
		return backup_failed("finishing", sqlite3_errmsg(target),
				     error);
	return TRUE;
}

/* The temporary a backup is written to, beside its target. */
typedef struct {
	int dir_fd;		/* the target's directory */
	const char *dir;	/* its path, for SQLite */
	char name[32];		/* the temporary's name in it, or "" */
	int fd;			/* the temporary as created, or -1 */
} BackupTemp;

/* Created exclusively and never through a symbolic link, so it is a
 * new file of our own. */
static gboolean
temp_create(BackupTemp *temp, GError **error)
{
	for (guint i = 0; i < BACKUP_TEMP_TRIES; i++) {
		g_snprintf(temp->name, sizeof(temp->name),
			   ".slotd-backup-%08x", g_random_int());
		temp->fd = openat(temp->dir_fd, temp->name,
				  O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
					  O_CLOEXEC,
				  0600);
		if (temp->fd >= 0)
			return TRUE;
		if (errno != EEXIST)
			break;
	}
	temp->name[0] = '\0';
	return backup_failed("creating the temporary file", g_strerror(errno),
			     error);
}

/* SQLite opens the temporary by its path: what it wrote must be the
 * file created above, still under its name in the same directory. */
static gboolean
temp_is_ours(const BackupTemp *temp)
{
	struct stat mine, named;

	return fstat(temp->fd, &mine) == 0 && mine.st_size > 0 &&
	       fstatat(temp->dir_fd, temp->name, &named,
		       AT_SYMLINK_NOFOLLOW) == 0 &&
	       mine.st_dev == named.st_dev && mine.st_ino == named.st_ino;
}

/* Without SQLITE_OPEN_CREATE: SQLite writes only into the file that
 * temp_create() made. */
static gboolean
temp_fill(Store *store, BackupTemp *temp, GError **error)
{
	g_autofree char *path = g_build_filename(temp->dir, temp->name, NULL);
	g_autoptr(sqlite3) source = NULL;
	g_autoptr(sqlite3) target = NULL;

	source = open_handle(store->path, SQLITE_OPEN_READONLY,
			     "opening the database", error);
	if (source == NULL)
		return FALSE;
	target = open_handle(path, SQLITE_OPEN_READWRITE,
			     "opening the temporary file", error);
	if (target == NULL || !copy_pages(source, target, error))
		return FALSE;
	g_clear_pointer(&target, handle_close);
	if (!temp_is_ours(temp))
		return backup_failed("checking the copy", "the temporary "
				     "file was replaced while it was written",
				     error);
	if (fsync(temp->fd) != 0)
		return backup_failed("syncing", g_strerror(errno), error);
	return TRUE;
}

/* 0 or an errno. Neither way replaces an existing `name`. */
static int
move_noreplace(int dir_fd, const char *from, const char *to)
{
	if (renameat2(dir_fd, from, dir_fd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return errno;
	/* A file system without RENAME_NOREPLACE (NFS): link() does not
	 * replace either. */
	if (linkat(dir_fd, from, dir_fd, to, 0) != 0)
		return errno;
	unlinkat(dir_fd, from, 0);
	return 0;
}

static gboolean
temp_publish(BackupTemp *temp, const char *name, GError **error)
{
	int rc = move_noreplace(temp->dir_fd, temp->name, name);

	if (rc == EEXIST)
		return backup_exists(error);
	if (rc != 0)
		return backup_failed("naming the copy", g_strerror(rc), error);
	temp->name[0] = '\0';
	if (fsync(temp->dir_fd) != 0)
		g_warning("backup: syncing the directory: %s",
			  g_strerror(errno));
	return TRUE;
}

static void
temp_clear(BackupTemp *temp)
{
	g_autofree char *journal = NULL;

	if (temp->fd >= 0)
		close(temp->fd);
	if (temp->name[0] == '\0')
		return;
	journal = g_strconcat(temp->name, "-journal", NULL);
	unlinkat(temp->dir_fd, temp->name, 0);
	unlinkat(temp->dir_fd, journal, 0);
}

gboolean
store_backup_at(Store *store, int dir_fd, const char *dir, const char *name,
		GError **error)
{
	BackupTemp temp = { .dir_fd = dir_fd, .dir = dir, .fd = -1 };
	struct stat st;
	gboolean ok;

	g_return_val_if_fail(dir_fd >= 0 && dir && name, FALSE);
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return backup_exists(error);
	ok = temp_create(&temp, error) && temp_fill(store, &temp, error) &&
	     temp_publish(&temp, name, error);
	temp_clear(&temp);
	return ok;
}

gboolean
store_backup(Store *store, const char *path, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *name = g_path_get_basename(path);
	int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	gboolean ok;

	if (dir_fd < 0)
		return backup_failed("opening the target directory",
				     g_strerror(errno), error);
	ok = store_backup_at(store, dir_fd, dir, name, error);
	close(dir_fd);
	return ok;
}

/* ---- horizon rows ---------------------------------------------------- */

gboolean
store_list_horizon_offerings(Store *store, GPtrArray *ret_offerings,
			     GError **error)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(store->db,
				    "SELECT offering FROM offering_horizon "
				    "WHERE digest != ''",
				    -1, &q, NULL);

	if (rc != SQLITE_OK)
		return store_fail_query(store, rc, q, error);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		g_ptr_array_add(ret_offerings, store_column_dup(q, 0));
	if (rc != SQLITE_DONE) {
		store_fail_query(store, rc, q, error);
		sqlite3_finalize(q);
		return FALSE;
	}
	sqlite3_finalize(q);
	return TRUE;
}
