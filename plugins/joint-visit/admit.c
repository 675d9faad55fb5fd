/* Joint visits: the admission rule. A visit takes the team — one
 * practitioner of each organisation the offering's `needs` names,
 * chosen jointly by the core — for the visit and the drive to the
 * housing unit and back, all within the team's opening hours. This
 * rule declares that time with slotd_context_consume(); the core
 * checks that every member is on duty, not absent and not taken for
 * all of it. FindSlots asks the same rule, so what it offers is what
 * Book and BookCampaign accept. */
#include "joint-visit.h"

gboolean
jv_resolve_visit(const SlotdOffering *offering, const SlotdRequest *request,
		 JvVisit *ret_visit, GError **error)
{
	const JvSettings *settings = jv_settings(offering);
	const char *housing = NULL;
	gint travel;

	ret_visit->on_site_minutes = settings->visit_minutes;
	ret_visit->housing = NULL;
	if (request->options)
		slotd_request_option(request, "housing-unit", "&s",
				 &housing);
	if (housing) {
		g_autofree char *known = NULL;

		ret_visit->housing = jv_housing_unit(settings, housing);
		if (!ret_visit->housing) {
			known = jv_housing_list(settings, offering);
			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "%s visits no housing unit '%s'; it "
				    "visits %s",
				    slotd_offering_unit(offering), housing,
				    known[0] ? known : "none (configure "
						       "housing-units)");
			return FALSE;
		}
		ret_visit->municipality = ret_visit->housing->municipality;
		ret_visit->travel_minutes = ret_visit->housing->travel_minutes;
	} else if (request->municipality && request->municipality[0]) {
		/* Not at a housing unit: at the client's municipality,
		 * with the region's drive from the base. */
		travel = slotd_offering_travel_minutes(
			offering, slotd_offering_municipality(offering),
			request->municipality);
		if (travel < 0) {
			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "unknown municipality '%s'",
				    request->municipality);
			return FALSE;
		}
		ret_visit->municipality = request->municipality;
		ret_visit->travel_minutes = (guint)travel;
	} else {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "a joint visit goes to the client: pass "
			    "housing-unit (one of the offering's, see "
			    "slotctl services) or the client's municipality");
		return FALSE;
	}
	ret_visit->run_minutes = jv_run_minutes(ret_visit->on_site_minutes,
						ret_visit->travel_minutes);
	return TRUE;
}

/* A joint visit is agreed with three organisations ahead: none leaves
 * after its planned departure, however urgent the call. */
static gboolean
check_not_started(const SlotdSlotInfo *slot, const SlotdRequest *request,
		  GError **error)
{
	g_autofree char *when = NULL;

	if (slot->start >= request->now)
		return TRUE;
	when = slotd_format_local(slot->start);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "the team of this slot left at %s; a joint visit is "
		    "planned ahead, choose a later slot", when);
	return FALSE;
}

static void
attach_extras(SlotdContext *ctx, const SlotdSlotInfo *slot,
	      const JvVisit *visit)
{
	if (visit->housing)
		slotd_context_set_extra(
			ctx, "housing-unit",
			g_variant_new_string(visit->housing->id));
	slotd_context_set_extra(ctx, "visit-municipality",
				g_variant_new_string(visit->municipality));
	slotd_context_set_extra(ctx, "on-site-minutes",
				g_variant_new_uint32(visit->on_site_minutes));
	slotd_context_set_extra(
		ctx, "round-trip-minutes",
		g_variant_new_uint32(2 * visit->travel_minutes));
	/* The team leaves the base at the slot's start. */
	slotd_context_set_extra(
		ctx, "arrives",
		g_variant_new_int64(slot->start +
				    (gint64)visit->travel_minutes * 60));
}

gboolean
jv_admit(const SlotdOffering *offering, SlotdContext *ctx,
	 const SlotdSlotInfo *slot, const SlotdRequest *request,
	 GError **error)
{
	SlotdCost cost = { 1, 0 };
	JvVisit visit;

	if (request->client_ref && !request->client_ref[0]) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CLIENT_REF,
			    "a joint visit is to one client: give the "
			    "client's pseudonymous reference");
		return FALSE;
	}
	if (!jv_resolve_visit(offering, request, &visit, error)) {
		/* The request's keys do not depend on the slot. */
		slotd_context_refuse_offering(ctx);
		return FALSE;
	}
	if (!check_not_started(slot, request, error))
		return FALSE;
	/* The team's whole time, in the offering's opening hours: a visit
	 * that would return after closing is refused here. */
	cost.minutes = visit.run_minutes;
	if (!slotd_context_consume(ctx, &cost, error))
		return FALSE;
	slotd_context_set_end(ctx, slot->start +
					   (gint64)visit.run_minutes * 60);
	attach_extras(ctx, slot, &visit);
	return TRUE;
}
