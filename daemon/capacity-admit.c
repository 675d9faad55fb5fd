/* The one admission rule. FindSlots, Hold, Book, BookSeries and
 * Reschedule all ask capacity_admit(): the core's checks (the slot is
 * open, the offering serves the language, modality and distance),
 * then the kind's admit hook, which declares what the booking takes
 * with slotd_context_consume() and applies its own rules. No other
 * code decides whether a request fits a slot, so a search cannot offer
 * what a booking would refuse. */
#include "capacity-private.h"

#include <string.h>

void
admission_clear(Admission *a)
{
	slot_run_clear(&a->run);
	g_clear_pointer(&a->modality, g_free);
	g_clear_pointer(&a->extras, g_variant_unref);
	g_clear_pointer(&a->resources, g_ptr_array_unref);
}

gboolean
capacity_offering_has_modality(const SlotdOffering *offering,
			       const char *modality)
{
	return g_strv_contains((const char *const *)offering->modalities,
			       modality);
}

static gboolean
check_slot_open(const Admission *a, GError **error)
{
	const StoreSlot *slot = a->slot;
	gint64 now = a->request.now;

	if (slot->status != SLOT_STATUS_FREE) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL,
			    "this slot has been withdrawn; find another");
		return FALSE;
	}
	if (slot->end > now &&
	    (slot->start >= now ||
	     capacity_may_join_started(a->ops, a->request.urgency)))
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "this slot has already %s; find a later one",
		    slot->end <= now ? "ended" : "started");
	return FALSE;
}

gboolean
capacity_offering_reaches(Capacity *capacity, const SlotdOffering *off,
			  const char *municipality, gint *ret_travel)
{
	gint travel = -1;

	if (municipality)
		travel = region_travel_minutes(capacity->region, municipality,
					       off->unit->municipality);
	if (ret_travel)
		*ret_travel = travel;
	if (!municipality || !off->max_travel_minutes ||
	    capacity_offering_has_modality(off, "phone") ||
	    capacity_offering_has_modality(off, "video"))
		return TRUE; /* remote: distance does not limit it */
	return travel <= (gint)off->max_travel_minutes;
}

static gboolean
check_travel(Capacity *capacity, const SlotdOffering *off,
	     const SlotdRequest *r, GError **error)
{
	gint travel;

	if (capacity_offering_reaches(capacity, off, r->municipality, &travel))
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "%s is %d minutes from the client's home, more than its "
		    "limit of %u; find a nearer unit",
		    off->unit->id, travel, off->max_travel_minutes);
	return FALSE;
}

static gboolean
check_offering_fits(Capacity *capacity, const Admission *a, GError **error)
{
	const SlotdOffering *off = a->offering;
	const SlotdRequest *r = &a->request;

	if (r->language && !slotd_offering_has_language(off, r->language)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    "%s does not serve in the language '%s'; find a "
			    "slot with that language",
			    off->unit->id, r->language);
		return FALSE;
	}
	if (r->modality && !capacity_offering_has_modality(off, r->modality)) {
		g_autofree char *served = g_strjoinv(", ", off->modalities);

		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    "%s serves %s, not %s; find a slot with that "
			    "modality",
			    off->unit->id, served, r->modality);
		return FALSE;
	}
	return check_travel(capacity, off, r, error);
}

/* The plugin keys of the call, kept with the booking so that a
 * reschedule can ask the rule again with the same request. */
static void
copy_call_options(const SlotdKindOps *ops, const SlotdRequest *r,
		  GVariantDict *extras)
{
	static const char *const kept[] = { "booked-by", "on-behalf-of",
					    "deadline-exceeded-reason",
					    "practitioner", "campaign" };
	g_autoptr(GVariant) age = NULL;
	g_autoptr(GVariant) change = NULL;

	if (!r->options)
		return;
	change = slotd_request_option_value(r, "allow-practitioner-change",
					    G_VARIANT_TYPE_BOOLEAN);
	if (change)
		g_variant_dict_insert_value(extras,
					    "allow-practitioner-change",
					    change);
	for (const SlotdOptionSpec *s = ops->options; s && s->name; s++) {
		g_autoptr(GVariant) v = slotd_request_option_value(
			r, s->name, G_VARIANT_TYPE(s->type));

		if (v)
			g_variant_dict_insert_value(extras, s->name, v);
	}
	age = slotd_request_option_value(r, "age", G_VARIANT_TYPE_UINT32);
	if (age)
		g_variant_dict_insert_value(extras, "age", age);
	/* Who booked and for whom, and why late: kept, shown by
	 * GetBooking, asked again by a reschedule. */
	for (guint i = 0; i < G_N_ELEMENTS(kept); i++) {
		const char *key = kept[i];
		g_autoptr(GVariant) v = slotd_request_option_value(
			r, key, G_VARIANT_TYPE_STRING);

		if (v)
			g_variant_dict_insert_value(extras, key, v);
	}
}

static gboolean
admission_consume(Capacity *capacity, Admission *a, const SlotdCost *cost,
		  GError **error)
{
	g_autofree char *start = NULL;

	g_return_val_if_fail(!a->consumed, FALSE);
	a->cost = *cost;
	if (a->cost.seats == 0)
		a->cost.seats = 1;
	if (!capacity_slot_run_listed(capacity, a->slot, a->listed,
				      a->listed_at, &a->cost, &a->run, error))
		return FALSE;
	a->consumed = TRUE;
	a->free = a->run.free;
	if (a->free > 0)
		return TRUE;
	start = slotd_format_local(a->slot->start);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL,
		    "no room for this booking from %s: it takes %u place%s "
		    "for %u minutes and they are taken; find another slot",
		    start, a->cost.seats, a->cost.seats == 1 ? "" : "s",
		    (guint)((a->run.end - a->slot->start) / 60));
	return FALSE;
}

static gboolean
run_rule(Capacity *capacity, Admission *a, SlotdContext *ctx,
	 gboolean *ret_capacity, GError **error)
{
	SlotdSlotInfo info;
	SlotdCost one = { 1, 0 };
	char id[CAPACITY_ID_TEXT_MAX];

	capacity_slot_info(a->slot, &info, id);
	if (a->ops->admit &&
	    !a->ops->admit(a->offering, ctx, &info, &a->request, error)) {
		if (ret_capacity)
			*ret_capacity = a->consumed && a->free == 0;
		return FALSE;
	}
	if (a->consumed)
		return TRUE;
	if (admission_consume(capacity, a, &one, error))
		return TRUE;
	if (ret_capacity)
		*ret_capacity = TRUE;
	return FALSE;
}

gboolean
capacity_admit(Capacity *capacity, Admission *a, gboolean *ret_capacity,
	       GError **error)
{
	SlotdContext ctx;
	gboolean ok;

	if (ret_capacity)
		*ret_capacity = FALSE;
	if (!check_slot_open(a, error))
		return FALSE;
	if (!check_offering_fits(capacity, a, error)) {
		a->whole_offering = TRUE;
		return FALSE;
	}
	capacity_context_init(&ctx, capacity, a->offering);
	if (!a->request.probe)
		capacity_context_keep_extras(&ctx);
	if (!capacity_check_rules(capacity, a, ctx.extras, error)) {
		capacity_context_clear(&ctx);
		return FALSE;
	}
	ctx.admission = a;
	ctx.except = a->except;
	if (!a->request.probe)
		copy_call_options(a->ops, &a->request, ctx.extras);
	ok = run_rule(capacity, a, &ctx, ret_capacity, error);
	/* What it takes of practitioners, rooms and vehicles, jointly. */
	if (ok) {
		GError *local = NULL;

		ok = capacity_assign_resources(capacity, a, &local);
		if (!ok && ret_capacity)
			*ret_capacity = g_error_matches(local, SLOTD_ERROR,
							SLOTD_ERROR_SLOT_FULL);
		if (!ok)
			g_propagate_error(error, local);
	}
	/* Admitted means at least this booking fits. */
	if (ok)
		a->free = MAX(a->free, 1);
	if (ok && !a->request.probe)
		a->extras = g_variant_ref_sink(g_variant_dict_end(ctx.extras));
	if (!ok) {
		/* A refusal leaves nothing for the caller to clear. */
		slot_run_clear(&a->run);
		g_clear_pointer(&a->modality, g_free);
		g_clear_pointer(&a->resources, g_ptr_array_unref);
	}
	capacity_context_clear(&ctx);
	return ok;
}

/* ---- the SDK's view of an admission --------------------------------- */

static Admission *
admission_of(SlotdContext *ctx)
{
	g_return_val_if_fail(ctx && ctx->admission, NULL);
	return ctx->admission;
}

gboolean
slotd_context_consume(SlotdContext *ctx, const SlotdCost *cost,
		      GError **error)
{
	Admission *a = admission_of(ctx);

	g_return_val_if_fail(a && cost, FALSE);
	return admission_consume(ctx->capacity, a, cost, error);
}

gint64
slotd_context_run_end(SlotdContext *ctx)
{
	Admission *a = admission_of(ctx);

	return a && a->consumed ? a->run.end : a ? a->slot->end : 0;
}

guint
slotd_context_free(SlotdContext *ctx)
{
	Admission *a = admission_of(ctx);

	return a && a->consumed ? a->free : 0;
}

void
slotd_context_limit_free(SlotdContext *ctx, guint most)
{
	Admission *a = admission_of(ctx);

	if (a)
		a->free = MIN(a->free, most);
}

void
slotd_context_bookable_from(SlotdContext *ctx, gint64 when)
{
	Admission *a = admission_of(ctx);

	if (a)
		a->bookable_from = when;
}

gint64
admission_end(const Admission *a)
{
	return a->end ? a->end : a->run.end;
}

void
slotd_context_set_end(SlotdContext *ctx, gint64 end)
{
	Admission *a = admission_of(ctx);

	g_return_if_fail(!a || end > a->slot->start);
	if (a)
		a->end = end;
}

void
slotd_context_refuse_offering(SlotdContext *ctx)
{
	Admission *a = admission_of(ctx);

	if (a)
		a->whole_offering = TRUE;
}

void
slotd_context_set_modality(SlotdContext *ctx, const char *modality)
{
	Admission *a = admission_of(ctx);

	g_return_if_fail(capacity_check_modality(modality, NULL));
	if (!a)
		return;
	g_free(a->modality);
	a->modality = g_strdup(modality);
}

gboolean
slotd_context_find_earliest(SlotdContext *ctx, const SlotdRequest *request,
			    gint64 until, const SlotdOffering **ret_offering,
			    gint64 *ret_start)
{
	g_return_val_if_fail(ctx && request, FALSE);
	return capacity_find_earliest(ctx->capacity, ctx->offering, request,
				      until, ret_offering, ret_start);
}
