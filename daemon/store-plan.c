/* Reading the store for planners: slot load and bookings per unit and
 * local day, lead times, the next free slots and the bookings that
 * carry a referral time. Aggregates are computed by SQLite so a report
 * over a year reads hundreds of rows, not every slot.
 *
 * The Store's statement table is keyed by the QueryId of store.c and
 * store-report.c; these statements are prepared here, per report (a
 * report is one call that runs a handful of them). */
#define G_LOG_DOMAIN "slotd-store"

#include "store-private.h"

typedef sqlite3_stmt PlanStatement;

static void
plan_statement_finalize(PlanStatement *statement)
{
	sqlite3_finalize(statement);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PlanStatement, plan_statement_finalize)

/* The local day number of `start`: ?4 is the base offset, then pairs
 * (?5, ?6) .. (?11, ?12) are (instant, offset change) of each step. */
#define LOCAL_DAY \
	"((start + ?4 + (start >= ?5) * ?6 + (start >= ?7) * ?8" \
	" + (start >= ?9) * ?10 + (start >= ?11) * ?12) / 86400)"

static const char slot_days_sql[] =
	"SELECT " LOCAL_DAY " AS day, sum(capacity), sum(booked), sum(held)"
	" FROM slot WHERE offering = ?1 AND start >= ?2 AND start < ?3"
	" AND status = 'free' GROUP BY day ORDER BY day";

/* Live bookings and no-shows, and cancellations by whom (the reason's
 * leading code: "client", "provider"). */
static const char booking_days_sql[] =
	"SELECT unit, " LOCAL_DAY " AS day, sum(" LIVE "),"
	" sum(status = 'noshow'),"
	" sum(status = 'cancelled' AND cancel_reason LIKE 'client%'),"
	" sum(status = 'cancelled' AND cancel_reason LIKE 'provider%')"
	" FROM booking WHERE service = ?1 AND start >= ?2 AND start < ?3"
	" AND status <> 'entered-in-error' GROUP BY unit, day";

static const char lead_times_sql[] =
	"SELECT unit, " LOCAL_DAY " AS day, max(start - created, 0) AS lead"
	" FROM booking WHERE service = ?1 AND start >= ?2 AND start < ?3"
	" AND " LIVE " ORDER BY lead";

static const char next_free_sql[] =
	"SELECT start FROM slot WHERE offering = ?1 AND start >= ?2"
	" AND status = 'free' AND booked + held < capacity"
	" ORDER BY start LIMIT ?3";

static const char referrals_sql[] =
	"SELECT id, unit, status, start, referral_time, extras FROM booking"
	" WHERE service = ?1 AND start >= ?2 AND start < ?3"
	" AND referral_time > 0 AND " LIVE " ORDER BY start, id";

static PlanStatement *
plan_prepare(Store *store, const char *sql, GError **error)
{
	PlanStatement *statement = NULL;
	int rc = sqlite3_prepare_v2(store->db, sql, -1, &statement, NULL);

	if (rc != SQLITE_OK) {
		sqlite3_finalize(statement);
		store_fail(store, rc, sql, error);
		return NULL;
	}
	return statement;
}

/* Binds ?1 (a text), ?2 and ?3 (the range) and the local clock. */
static void
bind_range(PlanStatement *q, const char *text, gint64 from, gint64 to,
	   const StoreLocalClock *clock)
{
	int offset = clock->base_offset;

	store_bind_text(q, 1, text);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, to);
	sqlite3_bind_int(q, 4, clock->base_offset);
	for (guint i = 0; i < STORE_LOCAL_STEPS; i++) {
		gboolean used = i < clock->n_steps;

		sqlite3_bind_int64(q, 5 + 2 * i,
				   used ? clock->step_at[i] : G_MAXINT64);
		sqlite3_bind_int(q, 6 + 2 * i,
				 used ? clock->step_offset[i] - offset : 0);
		if (used)
			offset = clock->step_offset[i];
	}
}

gboolean
store_plan_slot_days(Store *store, const char *offering, gint64 from,
		     gint64 to, const StoreLocalClock *clock, GArray *ret_days,
		     GError **error)
{
	g_autoptr(PlanStatement) q = plan_prepare(store, slot_days_sql, error);
	guint old_len = ret_days->len;
	int rc;

	if (q == NULL)
		return FALSE;
	bind_range(q, offering, from, to, clock);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		StoreSlotDay day = {
			.day = sqlite3_column_int64(q, 0),
			.capacity = sqlite3_column_int64(q, 1),
			.booked = sqlite3_column_int64(q, 2),
			.held = sqlite3_column_int64(q, 3),
		};

		g_array_append_val(ret_days, day);
	}
	if (rc == SQLITE_DONE)
		return TRUE;
	g_array_set_size(ret_days, old_len);
	return store_fail_query(store, rc, q, error);
}

gboolean
store_plan_booking_days(Store *store, const char *service, gint64 from,
			gint64 to, const StoreLocalClock *clock,
			StoreBookingDayFunc func, gpointer user_data,
			GError **error)
{
	g_autoptr(PlanStatement) q = plan_prepare(store, booking_days_sql,
						  error);
	int rc;

	if (q == NULL)
		return FALSE;
	bind_range(q, service, from, to, clock);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		StoreBookingDay d = {
			.bookings = sqlite3_column_int64(q, 2),
			.noshows = sqlite3_column_int64(q, 3),
			.cancelled_by_client = sqlite3_column_int64(q, 4),
			.cancelled_by_provider = sqlite3_column_int64(q, 5),
		};

		func((const char *)sqlite3_column_text(q, 0),
		     sqlite3_column_int64(q, 1), &d, user_data);
	}
	return rc == SQLITE_DONE || store_fail_query(store, rc, q, error);
}

gboolean
store_plan_lead_times(Store *store, const char *service, gint64 from,
		      gint64 to, const StoreLocalClock *clock,
		      StoreLeadTimeFunc func, gpointer user_data,
		      GError **error)
{
	g_autoptr(PlanStatement) q = plan_prepare(store, lead_times_sql,
						  error);
	int rc;

	if (q == NULL)
		return FALSE;
	bind_range(q, service, from, to, clock);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		func((const char *)sqlite3_column_text(q, 0),
		     sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2),
		     user_data);
	return rc == SQLITE_DONE || store_fail_query(store, rc, q, error);
}

gboolean
store_plan_next_free(Store *store, const char *offering, gint64 from,
		     guint n, GArray *ret_starts, GError **error)
{
	g_autoptr(PlanStatement) q = plan_prepare(store, next_free_sql, error);
	guint old_len = ret_starts->len;
	int rc;

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, offering);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, n);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		gint64 start = sqlite3_column_int64(q, 0);

		g_array_append_val(ret_starts, start);
	}
	if (rc == SQLITE_DONE)
		return TRUE;
	g_array_set_size(ret_starts, old_len);
	return store_fail_query(store, rc, q, error);
}

void
store_referral_free(StoreReferral *referral)
{
	if (referral == NULL)
		return;
	g_free(referral->unit);
	g_free(referral->status);
	g_free(referral);
}

/* The `age` extra (u) of a booking, -1 when absent or unreadable. */
static gint
extras_age(const char *text)
{
	g_autoptr(GVariant) extras = NULL;
	guint32 age;

	if (text == NULL)
		return -1;
	extras = g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL,
				 NULL);
	if (extras == NULL || !g_variant_lookup(extras, "age", "u", &age) ||
	    age > 150)
		return -1;
	return (gint)age;
}

static StoreReferral *
referral_from_row(PlanStatement *q)
{
	StoreReferral *r = g_new0(StoreReferral, 1);

	r->id = sqlite3_column_int64(q, 0);
	r->unit = store_column_dup(q, 1);
	r->status = store_column_dup(q, 2);
	r->start = sqlite3_column_int64(q, 3);
	r->referral_time = sqlite3_column_int64(q, 4);
	r->age = extras_age((const char *)sqlite3_column_text(q, 5));
	return r;
}

gboolean
store_plan_referrals(Store *store, const char *service, gint64 from,
		     gint64 to, GPtrArray *ret_referrals, GError **error)
{
	g_autoptr(PlanStatement) q = plan_prepare(store, referrals_sql, error);
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_referral_free);
	int rc;

	if (q == NULL)
		return FALSE;
	store_bind_text(q, 1, service);
	sqlite3_bind_int64(q, 2, from);
	sqlite3_bind_int64(q, 3, to);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		g_ptr_array_add(found, referral_from_row(q));
	if (rc != SQLITE_DONE)
		return store_fail_query(store, rc, q, error);
	g_ptr_array_extend_and_steal(ret_referrals, g_steal_pointer(&found));
	return TRUE;
}
