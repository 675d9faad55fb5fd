/* What the calendar feeds read from the store, and the feed-token table
 * (schema version 2). Feeds are rendered rarely and cached, so this
 * reads only the columns a calendar shows. */
#define G_LOG_DOMAIN "slotd-store"

#include "store-private.h"

#include <string.h>

#define FEED_BOOKING_COLUMNS \
	"id, offering, unit, service, start, \"end\", client_ref, status," \
	" municipality, modality, sequence, created, modified, language," \
	" urgency, series_index, series_length," \
	" needs_rebooking = 1 AND " STORE_TO_COME("")

/* Indexed by QueryId - Q_FEED_FIRST. */
const char *const store_feed_sql[Q_FEED_LAST - Q_FEED_FIRST + 1] = {
	/* Leads with unit and start: the booking_by_unit index. Then
	 * the bookings rescheduled away from the unit since ?4, found by
	 * the audit log's "slot s-OLD -> s-NEW" (the old slot's offering
	 * is "UNIT/SERVICE"), as cancelled at their old time: a booking
	 * moved away since is modified since, so booking_by_modified
	 * and audit_by_booking keep this to the recent changes. The
	 * latest move away wins; one back to the unit shows as itself. */
	[Q_FEED_BOOKINGS - Q_FEED_FIRST] =
		"WITH moved AS (SELECT b.id AS id, s.offering AS offering,"
		"  s.start AS start, max(a.id)"
		"  FROM booking b JOIN audit a ON a.booking = b.id"
		"  JOIN slot s ON s.id = CAST(substr(a.detail, 8) AS INTEGER)"
		"  WHERE b.modified >= ?4 AND b.unit <> ?1"
		"  AND (?2 IS NULL OR b.service = ?2)"
		"  AND a.action = 'reschedule' AND a.at >= ?4"
		"  AND substr(a.detail, 1, 7) = 'slot s-'"
		"  AND substr(s.offering, 1, length(?1) + 1) = ?1 || '/'"
		"  GROUP BY b.id)"
		" SELECT " FEED_BOOKING_COLUMNS " FROM booking"
		" WHERE unit = ?1 AND start >= ?3"
		" AND (?2 IS NULL OR service = ?2)"
		" AND (status NOT IN ('cancelled', 'entered-in-error')"
		"  OR modified >= ?4)"
		" UNION ALL"
		" SELECT b.id, m.offering, ?1, b.service, m.start,"
		" m.start + (b.\"end\" - b.start), b.client_ref, 'cancelled',"
		" b.municipality, b.modality, b.sequence, b.created,"
		" b.modified, b.language, b.urgency, b.series_index,"
		" b.series_length, 0"
		" FROM moved m JOIN booking b ON b.id = m.id"
		" WHERE m.start >= ?3"
		" ORDER BY 5, 1",
	[Q_FEED_TOKEN_ADD - Q_FEED_FIRST] =
		"INSERT INTO feed_token (hash, unit, service, created,"
		" created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_FEED_TOKEN_REVOKE - Q_FEED_FIRST] =
		"UPDATE feed_token SET revoked = ?2"
		" WHERE hash = ?1 AND revoked IS NULL RETURNING unit, service",
	[Q_FEED_TOKEN_LOOKUP - Q_FEED_FIRST] =
		"SELECT hash, unit, service FROM feed_token"
		" WHERE hash = ?1 AND revoked IS NULL",
	/* Leads with resource and start: resource_use_by_resource (a use
	 * begins at most two days before its booking). A cancelled
	 * booking keeps its rows, so it stays in the feed like in a
	 * unit's. No client_ref: '' in its place.
	 *
	 * And the bookings moved away from the practitioner since ?3
	 * (resource_left), as cancelled at the time and place they had
	 * with it:
	 * the latest move away of each wins, and one that has the
	 * practitioner again shows as itself, once. */
	[Q_FEED_PRACTITIONER - Q_FEED_FIRST] =
		"SELECT b.id, b.offering, b.unit, b.service, b.start, b.\"end\","
		" '', b.status, b.municipality, b.modality, b.sequence,"
		" b.created, b.modified, b.language, b.urgency,"
		" b.series_index, b.series_length,"
		" b.needs_rebooking = 1 AND " STORE_TO_COME("b.") ","
		" min(u.start), max(u.\"end\")"
		" FROM resource_use u JOIN booking b ON b.id = u.booking"
		" WHERE u.resource = ?1 AND u.start >= ?2 - 172800"
		" AND b.start >= ?2"
		" AND (b.status NOT IN ('cancelled', 'entered-in-error')"
		"  OR b.modified >= ?3)"
		" GROUP BY b.id"
		" UNION ALL"
		" SELECT b.id, l.offering, l.unit, b.service, l.start,"
		" l.\"end\", '', 'cancelled', l.municipality, l.modality,"
		" b.sequence, b.created, b.modified, b.language, b.urgency,"
		" b.series_index, b.series_length, 0, l.use_start,"
		" l.use_end"
		" FROM resource_left l JOIN booking b ON b.id = l.booking"
		" WHERE l.resource = ?1 AND l.start >= ?2 AND l.left_at >= ?3"
		" AND NOT EXISTS (SELECT 1 FROM resource_left n"
		"  WHERE n.booking = l.booking AND n.resource = ?1"
		"  AND n.id > l.id)"
		" AND NOT EXISTS (SELECT 1 FROM resource_use u"
		"  WHERE u.booking = l.booking AND u.resource = ?1)"
		" ORDER BY 5, 1",
};

enum {
	FB_ID,
	FB_OFFERING,
	FB_UNIT,
	FB_SERVICE,
	FB_START,
	FB_END,
	FB_CLIENT_REF,
	FB_STATUS,
	FB_MUNICIPALITY,
	FB_MODALITY,
	FB_SEQUENCE,
	FB_CREATED,
	FB_MODIFIED,
	FB_LANGUAGE,
	FB_URGENCY,
	FB_SERIES_INDEX,
	FB_SERIES_LENGTH,
	FB_NEEDS_REBOOKING,	/* 0 for a moved-away row */
	FB_USE_START,		/* practitioner feeds only */
	FB_USE_END,
};

static void
bind_hash(Query q, int index, const guint8 *hash)
{
	sqlite3_bind_blob(q, index, hash, STORE_FEED_HASH_SIZE, SQLITE_STATIC);
}

/* NULL for an SQL NULL, unlike store_column_dup's "" for nothing. */
static char *
column_or_null(Query q, int column)
{
	if (sqlite3_column_type(q, column) == SQLITE_NULL)
		return NULL;
	return store_column_dup(q, column);
}

/* ---- bookings ------------------------------------------------------- */

void
store_feed_booking_free(StoreFeedBooking *booking)
{
	if (booking == NULL)
		return;
	g_free(booking->offering);
	g_free(booking->unit);
	g_free(booking->service);
	g_free(booking->client_ref);
	g_free(booking->status);
	g_free(booking->municipality);
	g_free(booking->modality);
	g_free(booking->language);
	g_free(booking->urgency);
	g_free(booking);
}

static StoreFeedBooking *
feed_booking_from_row(Query q)
{
	StoreFeedBooking *b = g_new0(StoreFeedBooking, 1);

	b->id = sqlite3_column_int64(q, FB_ID);
	b->offering = store_column_dup(q, FB_OFFERING);
	b->unit = store_column_dup(q, FB_UNIT);
	b->service = store_column_dup(q, FB_SERVICE);
	b->start = sqlite3_column_int64(q, FB_START);
	b->end = sqlite3_column_int64(q, FB_END);
	b->client_ref = store_column_dup(q, FB_CLIENT_REF);
	b->status = store_column_dup(q, FB_STATUS);
	b->municipality = column_or_null(q, FB_MUNICIPALITY);
	b->modality = column_or_null(q, FB_MODALITY);
	b->sequence = sqlite3_column_int64(q, FB_SEQUENCE);
	b->created = sqlite3_column_int64(q, FB_CREATED);
	b->modified = sqlite3_column_int64(q, FB_MODIFIED);
	b->language = column_or_null(q, FB_LANGUAGE);
	b->urgency = column_or_null(q, FB_URGENCY);
	b->series_index = sqlite3_column_int64(q, FB_SERIES_INDEX);
	b->series_length = sqlite3_column_int64(q, FB_SERIES_LENGTH);
	b->needs_rebooking = sqlite3_column_int(q, FB_NEEDS_REBOOKING) != 0;
	return b;
}

gboolean
store_feed_bookings(Store *store, const char *unit, const char *service,
		    gint64 from, gint64 cancelled_since,
		    GPtrArray *ret_bookings, GError **error)
{
	g_auto(Query) q = NULL;
	guint old_len = ret_bookings->len;
	int rc;

	g_return_val_if_fail(unit != NULL, FALSE);
	q = store_query(store, Q_FEED_BOOKINGS, error);
	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, unit);
	store_bind_text(q, 2, service);
	sqlite3_bind_int64(q, 3, from);
	sqlite3_bind_int64(q, 4, cancelled_since);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		g_ptr_array_add(ret_bookings, feed_booking_from_row(q));
	if (rc == SQLITE_DONE)
		return TRUE;
	/* Nothing half-read reaches the caller. */
	while (ret_bookings->len > old_len)
		store_feed_booking_free(
			g_ptr_array_steal_index(ret_bookings,
						ret_bookings->len - 1));
	return store_fail_query(store, rc, q, error);
}

gboolean
store_feed_practitioner_bookings(Store *store, const char *resource,
				 gint64 from, gint64 cancelled_since,
				 GPtrArray *ret_bookings, GError **error)
{
	g_auto(Query) q = NULL;
	guint old_len = ret_bookings->len;
	int rc;

	g_return_val_if_fail(resource != NULL, FALSE);
	q = store_query(store, Q_FEED_PRACTITIONER, error);
	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, resource);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, cancelled_since);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		StoreFeedBooking *b = feed_booking_from_row(q);

		b->use_start = sqlite3_column_int64(q, FB_USE_START);
		b->use_end = sqlite3_column_int64(q, FB_USE_END);
		g_ptr_array_add(ret_bookings, b);
	}
	if (rc == SQLITE_DONE)
		return TRUE;
	while (ret_bookings->len > old_len)
		store_feed_booking_free(
			g_ptr_array_steal_index(ret_bookings,
						ret_bookings->len - 1));
	return store_fail_query(store, rc, q, error);
}

/* ---- tokens --------------------------------------------------------- */

gboolean
store_feed_token_add(Store *store, const guint8 *hash, const char *unit,
		     const char *service, gint64 now, guint32 uid,
		     GError **error)
{
	g_auto(Query) q = NULL;

	g_return_val_if_fail(hash != NULL && unit != NULL, FALSE);
	q = store_query(store, Q_FEED_TOKEN_ADD, error);
	if (q == NULL)
		return FALSE;
	bind_hash(q, 1, hash);
	store_bind_text(q, 2, unit);
	store_bind_text(q, 3, service ? service : "");
	sqlite3_bind_int64(q, 4, now);
	sqlite3_bind_int64(q, 5, uid);
	return store_run(store, q, error);
}

static gboolean
no_such_token(GError **error)
{
	g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_TOKEN,
			    "no such feed token (or it was revoked already); "
			    "check the token you were given");
	return FALSE;
}

/* ---- tokens found, kept ---------------------------------------------- */

typedef struct {
	char *unit;
	char *service;
} KeptToken;

static void
kept_token_free(gpointer data)
{
	KeptToken *kept = data;

	g_free(kept->unit);
	g_free(kept->service);
	g_free(kept);
}

static guint
hash_hash(gconstpointer key)
{
	guint h;

	/* The key is a SHA-256 already: any four of its bytes will do. */
	memcpy(&h, key, sizeof(h));
	return h;
}

static gboolean
hash_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, STORE_FEED_HASH_SIZE) == 0;
}

static void
keep_token(Store *store, const guint8 *hash, const char *unit,
	   const char *service)
{
	KeptToken *kept = g_new(KeptToken, 1);

	if (store->feed_tokens == NULL)
		store->feed_tokens = g_hash_table_new_full(
			hash_hash, hash_equal, g_free, kept_token_free);
	kept->unit = g_strdup(unit);
	kept->service = g_strdup(service);
	g_hash_table_replace(store->feed_tokens,
			     g_memdup2(hash, STORE_FEED_HASH_SIZE), kept);
}

gboolean
store_feed_token_revoke(Store *store, const guint8 *hash, gint64 now,
			char **ret_unit, char **ret_service, GError **error)
{
	g_auto(Query) q = NULL;
	int rc;

	g_return_val_if_fail(hash != NULL, FALSE);
	/* Before the change: a rollback at worst costs a lookup. */
	if (store->feed_tokens)
		g_hash_table_remove_all(store->feed_tokens);
	q = store_query(store, Q_FEED_TOKEN_REVOKE, error);
	if (q == NULL)
		return FALSE;
	bind_hash(q, 1, hash);
	sqlite3_bind_int64(q, 2, now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return no_such_token(error);
	if (rc != SQLITE_ROW)
		return store_fail_query(store, rc, q, error);
	if (ret_unit != NULL)
		*ret_unit = store_column_dup(q, 0);
	if (ret_service != NULL)
		*ret_service = store_column_dup(q, 1);
	/* RETURNING: the change is complete only once stepped to the end. */
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		;
	if (rc == SQLITE_DONE)
		return TRUE;
	if (ret_unit != NULL)
		g_clear_pointer(ret_unit, g_free);
	if (ret_service != NULL)
		g_clear_pointer(ret_service, g_free);
	return store_fail_query(store, rc, q, error);
}

gboolean
store_feed_token_lookup(Store *store, const guint8 *hash, guint8 *ret_hash,
			char **ret_unit, char **ret_service,
			gboolean *ret_found, GError **error)
{
	g_auto(Query) q = NULL;
	int rc;

	KeptToken *kept;

	g_return_val_if_fail(hash != NULL && ret_found != NULL, FALSE);
	*ret_found = FALSE;
	kept = store->feed_tokens ? g_hash_table_lookup(store->feed_tokens,
							 hash)
				  : NULL;
	if (kept != NULL) {
		memcpy(ret_hash, hash, STORE_FEED_HASH_SIZE);
		*ret_unit = g_strdup(kept->unit);
		*ret_service = g_strdup(kept->service);
		*ret_found = TRUE;
		return TRUE;
	}
	q = store_query(store, Q_FEED_TOKEN_LOOKUP, error);
	if (q == NULL)
		return FALSE;
	bind_hash(q, 1, hash);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		return TRUE;
	if (rc != SQLITE_ROW)
		return store_fail_query(store, rc, q, error);
	if (sqlite3_column_bytes(q, 0) != STORE_FEED_HASH_SIZE)
		return TRUE;
	memcpy(ret_hash, sqlite3_column_blob(q, 0), STORE_FEED_HASH_SIZE);
	*ret_unit = store_column_dup(q, 1);
	*ret_service = store_column_dup(q, 2);
	*ret_found = TRUE;
	/* Kept by the hash the row holds, which the caller compares. */
	keep_token(store, ret_hash, *ret_unit, *ret_service);
	return TRUE;
}
