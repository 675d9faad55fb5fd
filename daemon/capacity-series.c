/* A booking's history from the audit log, and a series (an episode, a
 * course) as one thing: read together, cancelled together. A series
 * is named "sr-N" after its first booking b-N. */
#include "capacity-private.h"

#include "validate.h"

char *
capacity_series_id(gint64 series)
{
	return g_strdup_printf("sr-%" G_GINT64_FORMAT, series);
}

static gboolean
parse_series(const char *text, gint64 *ret_series, GError **error)
{
	char *end = NULL;
	guint64 value;

	if (!validate_id(text, "series id", error))
		return FALSE;
	if (g_str_has_prefix(text, "sr-") && g_ascii_isdigit(text[3]) &&
	    text[3] != '0') {
		value = g_ascii_strtoull(text + 3, &end, 10);
		if (*end == '\0' && value <= G_MAXINT64) {
			*ret_series = (gint64)value;
			return TRUE;
		}
	}
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_BOOKING,
		    "there is no series '%s'; series ids look like 'sr-123' "
		    "(GetBooking shows a booking's series)", text);
	return FALSE;
}

/* ---- history -------------------------------------------------------- */

static GVariant *
history_row(const StoreAuditRow *row)
{
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "at", "x", row->at);
	g_variant_dict_insert(&d, "action", "s", row->action);
	g_variant_dict_insert(&d, "uid", "u", row->uid);
	g_variant_dict_insert(&d, "caller", "s", row->caller ? row->caller
							      : "");
	g_variant_dict_insert(&d, "detail", "s", row->detail ? row->detail
							      : "");
	return g_variant_dict_end(&d);
}

gboolean
capacity_booking_history(Capacity *capacity, const char *booking_id,
			 GVariant **ret_rows, GError **error)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_audit_row_free);
	g_autoptr(StoreBooking) b = NULL;
	GVariantBuilder builder;
	gint64 id;

	if (!capacity_parse_id(booking_id, 'b', &id,
			       SLOTD_ERROR_NO_SUCH_BOOKING, error) ||
	    !store_get_booking(capacity->store, id, &b, error) ||
	    !store_booking_history(capacity->store, id, rows, error))
		return FALSE;
	g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < rows->len; i++)
		g_variant_builder_add_value(&builder,
					    history_row(rows->pdata[i]));
	*ret_rows = g_variant_ref_sink(g_variant_builder_end(&builder));
	return TRUE;
}

/* ---- series --------------------------------------------------------- */

/* Every booking of the series, whatever its status, by place. */
static gboolean
series_bookings(Capacity *capacity, gint64 series, GPtrArray *ret,
		GError **error)
{
	StoreBookingFilter f = { 0 };
	g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	g_autoptr(StoreBooking) first = NULL;

	if (!store_get_booking(capacity->store, series, &first, error))
		return FALSE;
	if (first->series != series) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_BOOKING,
			    "there is no series sr-%" G_GINT64_FORMAT "; "
			    "GetBooking shows a booking's series", series);
		return FALSE;
	}
	f.client_ref = first->client_ref;
	f.service = first->service;
	if (!store_list_bookings(capacity->store, &f, all, error))
		return FALSE;
	for (guint i = 0; i < all->len; i++)
		if (((StoreBooking *)all->pdata[i])->series == series)
			g_ptr_array_add(ret, g_steal_pointer(&all->pdata[i]));
	return TRUE;
}

gboolean
capacity_get_series(Capacity *capacity, const char *series_id,
		    GPtrArray **ret_bookings, GError **error)
{
	gint64 series;

	*ret_bookings = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	if (parse_series(series_id, &series, error) &&
	    series_bookings(capacity, series, *ret_bookings, error))
		return TRUE;
	g_clear_pointer(ret_bookings, g_ptr_array_unref);
	return FALSE;
}

/* Cancels every booking of the series still to come, in one
 * transaction: all or none. */
gboolean
capacity_cancel_series(Capacity *capacity, const Caller *caller,
		       const char *series_id, const char *reason,
		       guint *ret_cancelled, GError **error)
{
	g_autoptr(GPtrArray) bookings = NULL;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));

	if (!capacity_get_series(capacity, series_id, &bookings, error))
		return FALSE;
	for (guint i = 0; i < bookings->len; i++) {
		const StoreBooking *b = bookings->pdata[i];

		if (g_str_equal(b->status, "booked") ||
		    g_str_equal(b->status, "checked-in"))
			g_array_append_val(ids, b->id);
	}
	if (!capacity_cancel_many(capacity, caller, ids, reason, error))
		return FALSE;
	*ret_cancelled = ids->len;
	return TRUE;
}
