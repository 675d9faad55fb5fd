/* The capacity engine: lifetime, listeners, text ids, slot runs and
 * the checks the search and the changes share. The search itself is in
 * capacity-find.c, the admission rule in capacity-admit.c. */
#include "capacity-private.h"

#include <stdlib.h>
#include <string.h>

#include "validate.h"

/* A change told to the listeners once its transaction committed. */
typedef struct {
	char *booking_id;	/* NULL: a slots notice */
	char *status;
	char *unit;
	char *service;
	char *offering;
	gint64 from;
	gint64 to;
} Notice;

static void
notice_free(gpointer data)
{
	Notice *n = data;

	g_free(n->booking_id);
	g_free(n->status);
	g_free(n->unit);
	g_free(n->service);
	g_free(n->offering);
	g_free(n);
}

static void
tell_booking(Capacity *capacity, const char *id, const char *status,
	     const char *unit, const char *service)
{
	for (guint i = 0; i < capacity->listeners->len; i++) {
		CapacityListener *l = &g_array_index(capacity->listeners,
						     CapacityListener, i);

		if (l->booking_changed)
			l->booking_changed(id, status, unit, service,
					   l->user_data);
	}
}

Capacity *
capacity_new(Region *region, Store *store, PluginHost *plugins)
{
	Capacity *capacity = g_new0(Capacity, 1);

	capacity->region = region_ref(region);
	capacity->store = store;
	capacity->plugins = plugins;
	capacity->listeners = g_array_new(FALSE, FALSE,
					  sizeof(CapacityListener));
	g_queue_init(&capacity->jobs);
	capacity->pending = g_ptr_array_new_with_free_func(notice_free);
	capacity->committed = g_ptr_array_new_with_free_func(notice_free);
	g_queue_init(&capacity->freed);
	return capacity;
}

gboolean
capacity_batch_begin(Capacity *capacity, gboolean alone, GError **error)
{
	g_return_val_if_fail(!capacity->batch, FALSE);
	if (!store_begin(capacity->store, error))
		return FALSE;
	capacity->batch = TRUE;
	capacity->alone = alone;
	capacity->changes_at_begin = store_total_changes(capacity->store);
	return TRUE;
}

gboolean
capacity_batch_end(Capacity *capacity, GError **error)
{
	g_autoptr(GPtrArray) pending = NULL;

	g_return_val_if_fail(capacity->batch, FALSE);
	pending = capacity->pending;
	capacity->batch = FALSE;
	capacity->alone = FALSE;
	capacity->pending = g_ptr_array_new_with_free_func(notice_free);
	/* A lone request that failed took the transaction with it. */
	if (store_in_transaction(capacity->store) &&
	    !store_commit(capacity->store, error)) {
		store_rollback(capacity->store);
		return FALSE;
	}
	g_ptr_array_extend_and_steal(capacity->committed,
				     g_steal_pointer(&pending));
	return TRUE;
}

void
capacity_batch_tell(Capacity *capacity)
{
	g_autoptr(GPtrArray) committed = capacity->committed;

	capacity->committed = g_ptr_array_new_with_free_func(notice_free);
	for (guint i = 0; i < committed->len; i++) {
		Notice *n = committed->pdata[i];

		if (n->booking_id)
			tell_booking(capacity, n->booking_id, n->status,
				     n->unit, n->service);
		else
			capacity_notify_slots(capacity, n->offering, n->from,
					      n->to);
	}
}

static void
freed_range_free(gpointer data)
{
	FreedRange *r = data;

	g_free(r->offering);
	g_free(r);
}

void
capacity_note_freed(Capacity *capacity, const char *offering, gint64 from,
		    gint64 to)
{
	FreedRange *r;

	if (!offering)
		return;
	/* The same range twice in a row (a batch) is one. */
	r = g_queue_peek_tail(&capacity->freed);
	if (r && g_str_equal(r->offering, offering) && r->from == from &&
	    r->to == to)
		return;
	r = g_new0(FreedRange, 1);
	r->offering = g_strdup(offering);
	r->from = from;
	r->to = to;
	g_queue_push_tail(&capacity->freed, r);
	if (capacity->waitlist_wake)
		capacity->waitlist_wake(capacity->waitlist_data);
}

void
capacity_set_waitlist_wake(Capacity *capacity, void (*wake)(gpointer),
			   gpointer user_data)
{
	capacity->waitlist_wake = wake;
	capacity->waitlist_data = user_data;
}

gboolean
capacity_waitlist_pop(Capacity *capacity, char **ret_offering,
		      gint64 *ret_from, gint64 *ret_to)
{
	FreedRange *r = g_queue_pop_head(&capacity->freed);

	if (!r)
		return FALSE;
	*ret_offering = g_steal_pointer(&r->offering);
	*ret_from = r->from;
	*ret_to = r->to;
	freed_range_free(r);
	return TRUE;
}

gboolean
capacity_waitlist_pending(Capacity *capacity)
{
	return !g_queue_is_empty(&capacity->freed);
}

void
capacity_free(Capacity *capacity)
{
	if (!capacity)
		return;
	g_queue_clear_full(&capacity->jobs, (GDestroyNotify)horizon_job_free);
	g_queue_clear_full(&capacity->freed, freed_range_free);
	g_ptr_array_unref(capacity->pending);
	g_ptr_array_unref(capacity->committed);
	capacity_forget_absences(capacity);
	g_array_unref(capacity->listeners);
	region_unref(capacity->region);
	g_free(capacity);
}

Region *
capacity_region(Capacity *capacity)
{
	return capacity->region;
}

Store *
capacity_store(Capacity *capacity)
{
	return capacity->store;
}

PluginHost *
capacity_plugins(Capacity *capacity)
{
	return capacity->plugins;
}

void
capacity_add_listener(Capacity *capacity, const CapacityListener *listener)
{
	g_array_append_val(capacity->listeners, *listener);
}

void
capacity_remove_listener(Capacity *capacity, gpointer user_data)
{
	for (guint i = capacity->listeners->len; i > 0; i--) {
		CapacityListener *l = &g_array_index(capacity->listeners,
						     CapacityListener, i - 1);

		if (l->user_data == user_data)
			g_array_remove_index(capacity->listeners, i - 1);
	}
}

void
capacity_set_clock(Capacity *capacity, gint64 (*now)(gpointer),
		   gpointer user_data)
{
	capacity->clock.func = now;
	capacity->clock.data = user_data;
}

gint64
capacity_now(Capacity *capacity)
{
	if (capacity->clock.func)
		return capacity->clock.func(capacity->clock.data);
	return g_get_real_time() / G_USEC_PER_SEC;
}


void
capacity_notify_booking(Capacity *capacity, const StoreBooking *booking)
{
	g_autofree char *id = capacity_booking_id(booking->id);

	if (capacity->batch) {
		Notice *n = g_new0(Notice, 1);

		n->booking_id = g_steal_pointer(&id);
		n->status = g_strdup(booking->status);
		n->unit = g_strdup(booking->unit);
		n->service = g_strdup(booking->service);
		g_ptr_array_add(capacity->pending, n);
		return;
	}
	tell_booking(capacity, id, booking->status, booking->unit,
		     booking->service);
}

void
capacity_notify_slots(Capacity *capacity, const char *offering_id,
		      gint64 from, gint64 to)
{
	SlotdOffering *off = region_find_offering(capacity->region,
						  offering_id);

	if (!off)
		return;
	if (capacity->batch) {
		Notice *n = g_new0(Notice, 1);

		n->offering = g_strdup(offering_id);
		n->from = from;
		n->to = to;
		g_ptr_array_add(capacity->pending, n);
		return;
	}
	for (guint i = 0; i < capacity->listeners->len; i++) {
		CapacityListener *l = &g_array_index(capacity->listeners,
						     CapacityListener, i);

		if (l->slots_changed)
			l->slots_changed(off->service->id, off->unit->id, from,
					 to, l->user_data);
	}
}

/* The batch's only request, and nothing written before it: the
 * transaction is its own, so that a failure can roll all of it back.
 * A savepoint would copy every page the request changes into the
 * statement journal first (SQLite does, for each page a savepoint
 * might have to restore): a fifth of a booking's instructions. */
static gboolean
run_alone(Capacity *capacity, gboolean (*func)(Capacity *, gpointer, GError **),
	  gpointer data, GError **error)
{
	if (func(capacity, data, error))
		return TRUE;
	store_rollback(capacity->store);
	g_ptr_array_set_size(capacity->pending, 0);
	return FALSE;
}

/* Inside a batch: one savepoint per request. */
static gboolean
batched(Capacity *capacity, gboolean (*func)(Capacity *, gpointer, GError **),
	gpointer data, GError **error)
{
	guint mark = capacity->pending->len;
	gboolean alone = capacity->alone;

	capacity->alone = FALSE;
	/* After a lone request failed, what its change does next. */
	if (!store_in_transaction(capacity->store) &&
	    !store_begin(capacity->store, error))
		return FALSE;
	if (alone && mark == 0 &&
	    store_total_changes(capacity->store) == capacity->changes_at_begin)
		return run_alone(capacity, func, data, error);
	if (!store_savepoint(capacity->store, "request", error))
		return FALSE;
	if (func(capacity, data, error))
		return store_release(capacity->store, "request", error);
	store_rollback_to(capacity->store, "request");
	store_release(capacity->store, "request", NULL);
	g_ptr_array_set_size(capacity->pending, mark);
	return FALSE;
}

gboolean
capacity_transaction(Capacity *capacity,
		     gboolean (*func)(Capacity *, gpointer, GError **),
		     gpointer data, GError **error)
{
	if (capacity->batch)
		return batched(capacity, func, data, error);
	if (!store_begin(capacity->store, error))
		return FALSE;
	if (!func(capacity, data, error)) {
		store_rollback(capacity->store);
		return FALSE;
	}
	if (!store_commit(capacity->store, error)) {
		store_rollback(capacity->store);
		return FALSE;
	}
	return TRUE;
}

/* ---- text ids ------------------------------------------------------- */

char *
capacity_booking_id(gint64 id)
{
	return capacity_id_text('b', id);
}

/* Written by hand: g_strdup_printf() parses its format every time, and
 * a search names every slot it considers and offers (a few thousand
 * instructions each). Ids are positive; anything else is written as it
 * is. */
const char *
capacity_id_format(char *buf, char prefix, gint64 id)
{
	char digits[20];
	guint64 v = id < 0 ? -(guint64)id : (guint64)id;
	guint n = 0, at = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf[at++] = prefix;
	buf[at++] = '-';
	if (id < 0)
		buf[at++] = '-';
	while (n)
		buf[at++] = digits[--n];
	buf[at] = '\0';
	return buf;
}

char *
capacity_id_text(char prefix, gint64 id)
{
	char buf[CAPACITY_ID_TEXT_MAX];

	return g_strdup(capacity_id_format(buf, prefix, id));
}

gboolean
capacity_parse_id(const char *text, char prefix, gint64 *ret_id,
		  SlotdErrorCode not_found, GError **error)
{
	const char *what = prefix == 's' ? "slot id" :
			   prefix == 'b' ? "booking id" :
			   prefix == 'w' ? "waitlist entry id" :
			   prefix == 'n' ? "notification id" : "hold id";
	char *end = NULL;
	guint64 value;

	if (!validate_id(text, what, error))
		return FALSE;
	/* One spelling per id: "s-0001" is not "s-1". */
	if (text[0] != prefix || text[1] != '-' || !g_ascii_isdigit(text[2]) ||
	    text[2] == '0')
		goto unknown;
	value = g_ascii_strtoull(text + 2, &end, 10);
	if (*end != '\0' || value == 0 || value > G_MAXINT64)
		goto unknown;
	*ret_id = (gint64)value;
	return TRUE;
unknown:
	g_set_error(error, SLOTD_ERROR, not_found,
		    "there is no %s '%s'; ids look like '%c-123'", what, text,
		    prefix);
	return FALSE;
}

void
found_slot_free(FoundSlot *slot)
{
	if (!slot)
		return;
	g_free(slot->slot_id);
	g_free(slot->kind);
	g_free(slot->modality);
	g_free(slot->practitioner);
	g_free(slot);
}

/* ---- cost and runs -------------------------------------------------- */

const SlotdKindOps *
capacity_kind(Capacity *capacity, const SlotdOffering *offering)
{
	if (!offering->available)
		return NULL;
	return plugin_host_kind(capacity->plugins, offering->service->kind);
}

void
slot_run_clear(SlotRun *run)
{
	if (run->slots)
		g_array_unref(run->slots);
	run->slots = NULL;
}

static guint
slot_room(const StoreSlot *slot)
{
	if (slot->status != SLOT_STATUS_FREE)
		return 0;
	return slot->capacity - MIN(slot->capacity, slot->booked + slot->held);
}

/* Free places of a run already listed: no store access. */
static gboolean
run_from_list(GArray *slots, guint first, const SlotdCost *cost,
	      guint *ret_free, gint64 *ret_end)
{
	const StoreSlot *s0 = &g_array_index(slots, StoreSlot, first);
	gint64 until = s0->start + (gint64)cost->minutes * 60;
	gint64 reached = s0->start;
	guint free = G_MAXUINT;

	for (guint i = first; i < slots->len; i++) {
		const StoreSlot *s = &g_array_index(slots, StoreSlot, i);

		if (i > first && s->start >= until)
			break;
		if (!g_str_equal(s->kind, s0->kind))
			continue;
		if (s->start != reached && i > first)
			return FALSE; /* a gap: not one continuous stretch */
		free = MIN(free, slot_room(s) / cost->seats);
		reached = s->end;
	}
	if (reached < until)
		return FALSE;
	*ret_free = free;
	*ret_end = MAX(reached, s0->end);
	if (cost->minutes)
		*ret_end = MAX(s0->end, until);
	return TRUE;
}

/* The run from all[first] on; the slots are moved out of `all` when it
 * is the caller's to spend, else their strings are borrowed from it
 * (a search's page, which outlives the admission that asks). */
static gboolean
run_from(GArray *all, guint first_index, gboolean spend,
	 const SlotdCost *cost, SlotRun *ret_run, GError **error)
{
	const StoreSlot *first = &g_array_index(all, StoreSlot, first_index);
	gint64 until = first->start + (gint64)cost->minutes * 60;
	const char *kind = first->kind;

	if (!run_from_list(all, first_index, cost, &ret_run->free,
			   &ret_run->end)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL,
			    "the visit does not fit before the opening hours "
			    "end; choose an earlier slot");
		return FALSE;
	}
	ret_run->slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	if (spend)
		g_array_set_clear_func(ret_run->slots,
				       (GDestroyNotify)store_slot_clear);
	for (guint i = first_index; i < all->len; i++) {
		StoreSlot *s = &g_array_index(all, StoreSlot, i);
		StoreSlot copy;

		if (i > first_index && s->start >= until)
			break;
		if (!g_str_equal(s->kind, kind))
			continue;
		copy = *s;
		if (spend)
			memset(s, 0, sizeof(*s)); /* moved */
		g_array_append_val(ret_run->slots, copy);
	}
	return TRUE;
}

gboolean
capacity_slot_run(Capacity *capacity, const StoreSlot *first,
		  const SlotdCost *cost, SlotRun *ret_run, GError **error)
{
	gint64 until = first->start + (gint64)cost->minutes * 60;
	g_autoptr(GArray) all = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	guint first_index = 0;

	g_array_set_clear_func(all, (GDestroyNotify)store_slot_clear);
	if (!store_list_slots(capacity->store, first->offering, first->start,
			      MAX(until, first->end), all, error))
		return FALSE;
	for (guint i = 0; i < all->len; i++) {
		StoreSlot *s = &g_array_index(all, StoreSlot, i);

		if (s->id == first->id)
			first_index = i;
	}
	return run_from(all, first_index, TRUE, cost, ret_run, error);
}

gboolean
capacity_slot_run_listed(Capacity *capacity, const StoreSlot *first,
			 const GArray *listed, guint listed_at,
			 const SlotdCost *cost, SlotRun *ret_run,
			 GError **error)
{
	gint64 until = first->start + (gint64)cost->minutes * 60;
	gint64 to = MAX(until, first->end);

	/* `listed` holds every slot of its starts but perhaps the last:
	 * when its last start is past the end of what the store would be
	 * asked for, every slot the run could take is in it. */
	if (listed && listed_at < listed->len &&
	    g_array_index(listed, StoreSlot, listed_at).id == first->id &&
	    g_array_index(listed, StoreSlot, listed->len - 1).start >= to)
		return run_from((GArray *)listed, listed_at, FALSE, cost,
				ret_run, error);
	return capacity_slot_run(capacity, first, cost, ret_run, error);
}

/* ---- checks shared by the search and the changes ------------------- */

gboolean
capacity_check_modality(const char *modality, GError **error)
{
	const char *known[] = { "onsite", "home", "phone", "video" };

	for (guint i = 0; i < G_N_ELEMENTS(known); i++)
		if (g_strcmp0(modality, known[i]) == 0)
			return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "unknown modality; use onsite, home, phone or video");
	return FALSE;
}

const Municipality *
capacity_resolve_municipality(Capacity *capacity, const char *text,
			      GError **error)
{
	const Municipality *m;

	if (!validate_text(text, "municipality", 64, error))
		return NULL;
	m = region_find_municipality(capacity->region, text);
	if (!m)
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "unknown municipality '%s'; give its code or its "
			    "Finnish or Swedish name (e.g. 444, Lohja, Lojo)",
			    text);
	return m;
}

gboolean
capacity_may_join_started(const SlotdKindOps *ops, const char *urgency)
{
	/* A drop-in session in progress, or the current hour of an urgent
	 * request; routine appointments start in the future. */
	return (ops->flags & SLOTD_KIND_JOIN_STARTED) ||
	       g_strcmp0(urgency, "routine") != 0;
}

gboolean
capacity_check_urgency(const char *urgency, GError **error)
{
	if (g_strcmp0(urgency, "routine") == 0 ||
	    g_strcmp0(urgency, "urgent") == 0 ||
	    g_strcmp0(urgency, "immediate") == 0)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "unknown urgency; use routine, urgent or immediate");
	return FALSE;
}

static const Service *
lookup_service(Capacity *capacity, const char *service_id, GError **error)
{
	const Service *service;

	if (!validate_id(service_id, "service id", error))
		return NULL;
	service = region_find_service(capacity->region, service_id);
	if (!service)
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_SERVICE,
			    "there is no service '%s'; ListServices shows "
			    "them",
			    service_id);
	return service;
}

const SlotdKindOps *
capacity_service_kind(Capacity *capacity, const char *service_id,
		      GError **error)
{
	const Service *service = lookup_service(capacity, service_id, error);
	const SlotdKindOps *ops;

	if (!service)
		return NULL;
	ops = plugin_host_kind(capacity->plugins, service->kind);
	if (!ops)
		g_set_error(error, SLOTD_ERROR,
			    SLOTD_ERROR_SERVICE_UNAVAILABLE,
			    "the service '%s' is unavailable: no plugin "
			    "provides its kind '%s'; ask the administrator",
			    service_id, service->kind);
	return ops;
}
