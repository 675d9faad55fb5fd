/* The planning engine: a SlotdPlan carries one Staffing request to a
 * plugin's plan hook, with read access to the service's offerings, its
 * slots and its booking history.
 *
 * The hook runs on a Planner1 worker thread: everything it reaches
 * through SlotdPlan is the call's own (its region snapshot, the
 * worker's read-only store connection), never the Capacity. A hook may
 * also read its offerings (slotd_offering_* getters of the
 * configuration as loaded, not the slotd_offering_get_* readers of
 * configure) and use the time and queueing functions; the plugins
 * here do no more (slotd-plugin(7)). */
#include "planner-engine.h"

#include "capacity-private.h"
#include "report.h"

struct _SlotdPlan {
	Store *store;		/* the worker's read-only connection */
	GPtrArray *offerings;	/* SlotdOffering*, available ones */
	gint64 from;
	gint64 to;
	gint64 now;		/* the daemon's clock when the call came */
	GVariant *options;	/* a{sv} */
	GHashTable *used;	/* option keys the hook read */
	char *type_error;	/* first option of the wrong type */
	GPtrArray *rows;	/* GVariant a{sv} */
	GPtrArray *keep;	/* strings slot infos point at */
};

guint
slotd_plan_n_offerings(SlotdPlan *plan)
{
	return plan->offerings->len;
}

const SlotdOffering *
slotd_plan_offering(SlotdPlan *plan, guint index)
{
	g_return_val_if_fail(index < plan->offerings->len, NULL);
	return plan->offerings->pdata[index];
}

void
slotd_plan_range(SlotdPlan *plan, gint64 *ret_from, gint64 *ret_to)
{
	*ret_from = plan->from;
	*ret_to = plan->to;
}

gint64
slotd_plan_now(SlotdPlan *plan)
{
	return plan->now;
}

GVariant *
slotd_plan_option(SlotdPlan *plan, const char *key, const GVariantType *type)
{
	g_autoptr(GVariant) value = g_variant_lookup_value(plan->options, key,
							   NULL);

	g_hash_table_add(plan->used, g_strdup(key));
	if (!value)
		return NULL;
	if (!g_variant_is_of_type(value, type)) {
		if (!plan->type_error)
			plan->type_error = g_strdup_printf(
				"option '%s' must be of type '%.*s', not '%s'",
				key, (int)g_variant_type_get_string_length(type),
				g_variant_type_peek_string(type),
				g_variant_get_type_string(value));
		return NULL;
	}
	return g_steal_pointer(&value);
}

/* A booking of the history with the strings it owns. */
typedef struct {
	SlotdBookingInfo info;
	char *id;
	char *slot_id;
} PastBooking;

static void
past_booking_free(gpointer data)
{
	PastBooking *p = data;

	g_free(p->id);
	g_free(p->slot_id);
	g_variant_unref(p->info.extras);
	g_free(p);
}

GPtrArray *
slotd_plan_history(SlotdPlan *plan, const SlotdOffering *offering,
		   gint64 from, gint64 to)
{
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	GPtrArray *out = g_ptr_array_new_with_free_func(past_booking_free);
	StoreBookingFilter f = { .offering = offering->id,
				 .from = from,
				 .to = to };
	g_autoptr(GError) error = NULL;

	if (!store_list_bookings(plan->store, &f, rows, &error))
		g_warning("cannot read booking history: %s", error->message);
	for (guint i = 0; i < rows->len; i++) {
		StoreBooking *b = rows->pdata[i];
		PastBooking *p;

		if (g_strcmp0(b->status, "entered-in-error") == 0)
			continue;
		p = g_new0(PastBooking, 1);
		p->id = g_strdup_printf("b-%" G_GINT64_FORMAT, b->id);
		p->slot_id = g_strdup_printf("s-%" G_GINT64_FORMAT, b->slot);
		p->info.id = p->id;
		p->info.slot_id = p->slot_id;
		p->info.client_ref = ""; /* planning needs no identities */
		p->info.status = g_intern_string(b->status);
		p->info.start = b->start;
		p->info.end = b->end;
		p->info.created = b->created;
		p->info.seats = b->seats;
		p->info.extras = g_variant_ref(b->extras);
		g_ptr_array_add(out, p);
	}
	return out;
}

GArray *
slotd_plan_slots(SlotdPlan *plan, const SlotdOffering *offering, gint64 from,
		 gint64 to)
{
	g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	GArray *out = g_array_new(FALSE, TRUE, sizeof(SlotdSlotInfo));
	g_autoptr(GError) error = NULL;

	g_array_set_clear_func(rows, (GDestroyNotify)store_slot_clear);
	if (!store_list_slots(plan->store, offering->id, from, to, rows,
			      &error))
		g_warning("cannot read slots: %s", error->message);
	for (guint i = 0; i < rows->len; i++) {
		SlotdSlotInfo info;

		capacity_slot_info_kept(&g_array_index(rows, StoreSlot, i),
					&info, plan->keep);
		g_array_append_val(out, info);
	}
	return out;
}

void
slotd_plan_add_row(SlotdPlan *plan, GVariant *row)
{
	g_return_if_fail(g_variant_is_of_type(row, G_VARIANT_TYPE_VARDICT));
	g_ptr_array_add(plan->rows, g_variant_ref_sink(row));
}

static gboolean
check_unread_options(SlotdPlan *plan, GError **error)
{
	GVariantIter iter;
	const char *key;

	if (plan->type_error) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "%s", plan->type_error);
		return FALSE;
	}
	g_variant_iter_init(&iter, plan->options);
	while (g_variant_iter_loop(&iter, "{&sv}", &key, NULL)) {
		if (!g_hash_table_contains(plan->used, key)) {
			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "unknown staffing option '%s' for this "
				    "service",
				    key);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
check_rows(SlotdPlan *plan, GError **error)
{
	if (plan->rows->len <= REPORT_MAX_ROWS)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "the staffing plan would have %u rows, more than %d; ask "
		    "for a shorter range (from, to)",
		    plan->rows->len, REPORT_MAX_ROWS);
	return FALSE;
}

static void
plan_clear(SlotdPlan *plan)
{
	g_ptr_array_unref(plan->offerings);
	g_hash_table_unref(plan->used);
	g_free(plan->type_error);
	g_ptr_array_unref(plan->rows);
	g_ptr_array_unref(plan->keep);
}

const SlotdKindOps *
planner_kind(Capacity *capacity, const char *service_id, GError **error)
{
	const SlotdKindOps *ops = capacity_service_kind(capacity, service_id,
							error);
	const Service *service;

	if (!ops || ops->plan)
		return ops;
	service = region_find_service(capacity_region(capacity), service_id);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "the service '%s' (kind %s) has no staffing model",
		    service_id, service ? service->kind : "?");
	return NULL;
}

/* The service's available offerings, borrowed from the region. */
static GPtrArray *
available_offerings(const Region *region, const char *service_id)
{
	g_autoptr(GPtrArray) all = region_service_offerings(region,
							    service_id);
	GPtrArray *available = g_ptr_array_new();

	for (guint i = 0; i < all->len; i++)
		if (((SlotdOffering *)all->pdata[i])->available)
			g_ptr_array_add(available, all->pdata[i]);
	return available;
}

gboolean
planner_plan(const PlanSource *source, const SlotdKindOps *ops,
	     const char *service_id, GVariant *options, gint64 from,
	     gint64 to, GPtrArray **ret_rows, GError **error)
{
	SlotdPlan plan = { source->store };
	g_autoptr(GPtrArray) absences = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_absence_free);
	gboolean ok;

	plan.offerings = available_offerings(source->region, service_id);
	plan.from = from;
	plan.to = to;
	plan.now = source->now;
	plan.options = options;
	plan.used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  NULL);
	plan.rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_variant_unref);
	plan.keep = g_ptr_array_new_with_free_func(g_free);
	ok = ops->plan(&plan, error) && check_unread_options(&plan, error) &&
	     check_rows(&plan, error) &&
	     store_list_absences(source->store, from, absences, error);
	if (ok) {
		/* The core's column: who is on the rota at that time. */
		report_add_rostered(source->region, absences, service_id, from,
				    to, plan.rows);
		*ret_rows = g_ptr_array_ref(plan.rows);
	}
	plan_clear(&plan);
	return ok;
}

gboolean
planner_staffing(Capacity *capacity, const char *service_id,
		 GVariant *options, gint64 from, gint64 to,
		 GPtrArray **ret_rows, GError **error)
{
	const SlotdKindOps *ops = planner_kind(capacity, service_id, error);
	PlanSource source = plan_source_of(capacity);

	return ops != NULL && planner_plan(&source, ops, service_id, options,
					   from, to, ret_rows, error);
}
