/* What a plugin hook sees of the store: the slotd_context_* functions
 * of the SDK. Memory handed to a hook lives until the hook returns. */
#include "capacity-private.h"

#include <string.h>

void
capacity_context_init(SlotdContext *ctx, Capacity *capacity,
		      const SlotdOffering *offering)
{
	ctx->capacity = capacity;
	ctx->offering = offering;
	ctx->admission = NULL;
	ctx->except = 0;
	/* Made by capacity_context_keep_extras(): a probe keeps none. */
	ctx->extras = NULL;
	/* Made when a hook asks for slots: most never do. */
	ctx->keep = NULL;
	ctx->arrays = NULL;
}

void
capacity_context_clear(SlotdContext *ctx)
{
	g_clear_pointer(&ctx->extras, g_variant_dict_unref);
	g_clear_pointer(&ctx->keep, g_ptr_array_unref);
	g_clear_pointer(&ctx->arrays, g_ptr_array_unref);
}

/* The hooks' extras are kept from now on (an admission that is not a
 * probe: Book, Hold, a move). */
void
capacity_context_keep_extras(SlotdContext *ctx)
{
	if (ctx->extras == NULL)
		ctx->extras = g_variant_dict_new(NULL);
}

void
capacity_slot_info_kept(const StoreSlot *slot, SlotdSlotInfo *ret_info,
			GPtrArray *keep)
{
	char *id = g_malloc(CAPACITY_ID_TEXT_MAX);

	g_ptr_array_add(keep, id);
	capacity_slot_info(slot, ret_info, id);
}

void
capacity_slot_info(const StoreSlot *slot, SlotdSlotInfo *ret_info, char *id)
{
	ret_info->id = capacity_id_format(id, 's', slot->id);
	ret_info->kind = g_intern_string(slot->kind);
	ret_info->start = slot->start;
	ret_info->end = slot->end;
	ret_info->capacity = slot->capacity;
	ret_info->booked = slot->booked;
	ret_info->held = slot->held;
}

guint
slotd_context_count_client_bookings(SlotdContext *ctx, const char *client_ref,
				    gint64 from, gint64 to)
{
	g_autoptr(GError) error = NULL;
	guint count = 0;

	g_return_val_if_fail(ctx, 0);
	/* Anonymous visits are not one person; NULL: not known yet. */
	if (!client_ref || !*client_ref)
		return 0;
	if (!store_count_client_bookings(ctx->capacity->store, client_ref,
					 ctx->offering->service->id, from, to,
					 ctx->except, &count, &error))
		g_warning("cannot count bookings: %s", error->message);
	return count;
}

/* A booking as a hook sees it, with the strings it points at. */
typedef struct {
	SlotdBookingInfo info;
	StoreBooking *booking;
	char *id;
	char *slot_id;
} HookBooking;

static void
hook_booking_free(gpointer data)
{
	HookBooking *h = data;

	store_booking_free(h->booking);
	g_free(h->id);
	g_free(h->slot_id);
	g_free(h);
}

static HookBooking *
hook_booking_new(StoreBooking *b)
{
	HookBooking *h = g_new0(HookBooking, 1);

	h->booking = b;
	/* A hold comes as a booking in progress with its id negated. */
	h->id = b->id < 0 ? capacity_id_text('h', -b->id)
			  : capacity_booking_id(b->id);
	h->slot_id = capacity_id_text('s', b->slot);
	h->info.id = h->id;
	h->info.slot_id = h->slot_id;
	h->info.client_ref = b->client_ref;
	h->info.status = b->status;
	h->info.start = b->start;
	h->info.end = b->end;
	h->info.created = b->created;
	h->info.seats = b->seats;
	h->info.extras = b->extras;
	h->info.series_index = b->series_index;
	h->info.unit = b->unit;
	return h;
}

/* HookBooking starts with its SlotdBookingInfo, so the array's
 * elements can be used as SlotdBookingInfo pointers. */
static GPtrArray *
hook_bookings(GPtrArray *out, GPtrArray *rows)
{
	for (guint i = 0; i < rows->len; i++)
		g_ptr_array_add(out, hook_booking_new(g_steal_pointer(
					     &rows->pdata[i])));
	return out;
}

/* The bookings of a slot as a hook sees them: live ones and holds, or
 * (`history`) every one ever made. Empty, with a warning, on an error. */
static GPtrArray *
slot_rows(SlotdContext *ctx, const char *slot_id, gboolean history)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	GPtrArray *out = g_ptr_array_new_with_free_func(hook_booking_free);
	g_autoptr(GError) error = NULL;
	Store *store = ctx->capacity->store;
	gint64 id;

	if (!capacity_parse_id(slot_id, 's', &id, SLOTD_ERROR_NO_SUCH_SLOT,
			       &error) ||
	    !(history ? store_slot_history(store, id, rows, &error)
		      : store_slot_bookings(store, id, rows, &error) &&
				store_slot_holds(store, id, rows, &error))) {
		g_warning("cannot list the bookings of a slot: %s",
			  error->message);
		return out;
	}
	return hook_bookings(out, rows);
}

GPtrArray *
slotd_context_slot_bookings(SlotdContext *ctx, const char *slot_id)
{
	g_return_val_if_fail(ctx && slot_id, NULL);
	return slot_rows(ctx, slot_id, FALSE);
}

GPtrArray *
slotd_context_slot_history(SlotdContext *ctx, const char *slot_id)
{
	g_return_val_if_fail(ctx && slot_id, NULL);
	return slot_rows(ctx, slot_id, TRUE);
}

GPtrArray *
slotd_context_series_bookings(SlotdContext *ctx)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	GPtrArray *out = g_ptr_array_new_with_free_func(hook_booking_free);
	g_autoptr(GError) error = NULL;
	gint64 series;

	g_return_val_if_fail(ctx, out);
	series = ctx->admission ? ctx->admission->request.series : 0;
	if (series == 0)
		return out;
	if (!store_series_bookings(ctx->capacity->store, series, rows,
				   &error)) {
		g_warning("cannot list the bookings of a series: %s",
			  error->message);
		return out;
	}
	for (guint i = rows->len; i > 0; i--)
		if (((StoreBooking *)rows->pdata[i - 1])->id == ctx->except)
			g_ptr_array_remove_index(rows, i - 1);
	return hook_bookings(out, rows);
}

gint64
slotd_context_now(SlotdContext *ctx)
{
	g_return_val_if_fail(ctx, 0);
	return capacity_now(ctx->capacity);
}

void
slotd_context_set_extra(SlotdContext *ctx, const char *key, GVariant *value)
{
	g_return_if_fail(ctx && key && value);
	if (ctx->extras == NULL) {
		/* A probe: the verdict is all that is kept. */
		g_variant_unref(g_variant_ref_sink(value));
		return;
	}
	g_variant_dict_insert_value(ctx->extras, key, value);
}

GArray *
slotd_context_offering_slots(SlotdContext *ctx, const SlotdOffering *offering,
			     gint64 from, gint64 to)
{
	g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	GArray *out = g_array_new(FALSE, TRUE, sizeof(SlotdSlotInfo));
	g_autoptr(GError) error = NULL;

	g_array_set_clear_func(rows, (GDestroyNotify)store_slot_clear);
	g_return_val_if_fail(ctx && offering, out);
	if (!store_list_slots(ctx->capacity->store, offering->id, from, to,
			      rows, &error))
		g_warning("cannot list slots: %s", error->message);
	if (ctx->keep == NULL)
		ctx->keep = g_ptr_array_new_with_free_func(g_free);
	if (ctx->arrays == NULL)
		ctx->arrays = g_ptr_array_new_with_free_func(
			(GDestroyNotify)g_array_unref);
	for (guint i = 0; i < rows->len; i++) {
		SlotdSlotInfo info;

		capacity_slot_info_kept(&g_array_index(rows, StoreSlot, i),
					&info, ctx->keep);
		g_array_append_val(out, info);
	}
	/* The hook does not free it; the context does. */
	g_ptr_array_add(ctx->arrays, out);
	return out;
}
