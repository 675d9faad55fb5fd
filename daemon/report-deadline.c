/* The deadline report: bookings that carry a referral time, checked
 * against the service's deadline rules (care guarantee, SHL 36 §, the
 * therapy guarantee ...), and for each unit whether a referral received
 * now could still be seen in time.
 *
 * Choosing the rule for a referral: only rules in force at the
 * referral time count (valid_from <= referral < valid_to). With the
 * client's age known (the booking's `age` extra), the rule with the
 * narrowest age band containing that age applies; a rule without a
 * band contains every age. With the age unknown, a rule without a band
 * applies if there is one, else the one with the broadest band: the
 * planner is rather warned about a deadline that may not bind than
 * left unwarned about one that does. Ties go to the first rule in the
 * configuration. A booking no rule covers is counted as `no-rule`.
 *
 * Deadlines are whole local days (the day of receipt does not count):
 * an appointment meets the deadline when it starts on or before the
 * last day. Status: `breached` when it starts later (also ahead of
 * time: that booking will miss unless it is moved), `met` when it has
 * started in time (a no-show too: the time was offered), `pending` when
 * it is still to come in time. The at-risk test looks for a slot with
 * a free place; for kinds whose bookings take several slots (a
 * home-hospital visit) that is a first approximation. */
#define G_LOG_DOMAIN "slotd-report"

#include "report.h"

#include "calendar.h"


/* ---- per-unit tallies -------------------------------------------------- */

typedef struct {
	const SlotdOffering *offering; /* NULL for the region */
	guint met;
	guint breached;
	guint pending;
	guint no_rule;
	gint64 next_free;	/* start of the earliest free slot, or -1 */
} Tally;

typedef struct {
	Store *store;
	const Service *service;
	gint64 now;
	gboolean whole_region;	/* no unit or municipality filter */
	GHashTable *tallies;	/* unit id -> Tally* (borrowed) */
	GArray *order;		/* Tally, units then the region */
	GPtrArray *rows;
} DeadlineReport;

static void
count_status(Tally *tally, const char *status)
{
	if (g_str_equal(status, "met"))
		tally->met++;
	else if (g_str_equal(status, "breached"))
		tally->breached++;
	else
		tally->pending++;
}

/* ---- booking rows ------------------------------------------------------ */

static const char *
judge(const StoreReferral *referral, const GDate *last_day, gint64 now,
      gint *ret_days_late)
{
	GDate start;

	calendar_local_date(referral->start, &start);
	*ret_days_late = 0;
	if (g_date_compare(&start, last_day) > 0) {
		*ret_days_late = g_date_days_between(last_day, &start);
		return "breached";
	}
	return referral->start <= now ? "met" : "pending";
}

static GVariant *
booking_row(const StoreReferral *referral, const SlotdOffering *offering,
	    const DeadlineRule *rule, const GDate *last_day,
	    const char *status, gint days_late)
{
	g_autofree char *id = capacity_booking_id(referral->id);
	GVariantBuilder row;

	g_variant_builder_init(&row, G_VARIANT_TYPE_VARDICT);
	report_row_text(&row, "level", "booking");
	report_row_text(&row, "unit", offering->unit->id);
	report_row_text(&row, "municipality", offering->unit->municipality);
	report_row_text(&row, "booking", id);
	report_row_int(&row, "referral-time", referral->referral_time);
	report_row_int(&row, "deadline", deadline_day_end(last_day));
	report_row_int(&row, "start", referral->start);
	report_row_text(&row, "status", status);
	report_row_put(&row, "days-late", g_variant_new_int32(days_late));
	report_row_text(&row, "booking-status", referral->status);
	report_row_text(&row, "rule", rule->id);
	if (rule->reference != NULL)
		report_row_text(&row, "reference", rule->reference);
	return g_variant_ref_sink(g_variant_builder_end(&row));
}

static void
add_referral(DeadlineReport *r, const StoreReferral *referral)
{
	Tally *tally = g_hash_table_lookup(r->tallies, referral->unit);
	Tally *region = &g_array_index(r->order, Tally, r->order->len - 1);
	const DeadlineRule *rule;
	const char *status;
	GDate last_day;
	gint days_late;

	if (tally == NULL)
		return; /* a unit outside the report's scope */
	rule = report_deadline_rule(r->service, referral->referral_time,
				    referral->age);
	if (rule == NULL) {
		tally->no_rule++;
		region->no_rule++;
		return;
	}
	report_deadline_day(rule, referral->referral_time, &last_day);
	status = judge(referral, &last_day, r->now, &days_late);
	count_status(tally, status);
	count_status(region, status);
	g_ptr_array_add(r->rows, booking_row(referral, tally->offering, rule,
					     &last_day, status, days_late));
}

/* ---- summary rows ------------------------------------------------------ */

static gboolean
find_next_free(DeadlineReport *r, Tally *tally, GError **error)
{
	g_autoptr(GArray) starts = g_array_new(FALSE, FALSE, sizeof(gint64));

	if (!store_plan_next_free(r->store, tally->offering->id, r->now, 1,
				  starts, error))
		return FALSE;
	tally->next_free = starts->len ? g_array_index(starts, gint64, 0) : -1;
	return TRUE;
}

/* Whether a referral received now would miss: no free slot before the
 * end of its last day. */
static gboolean
at_risk(gint64 next_free, gint64 deadline)
{
	return next_free < 0 || next_free > deadline;
}

static GVariant *
summary_row(const Tally *tally, const DeadlineRule *rule, gint64 deadline)
{
	const Unit *unit = tally->offering ? tally->offering->unit : NULL;
	GVariantBuilder row;

	g_variant_builder_init(&row, G_VARIANT_TYPE_VARDICT);
	report_row_text(&row, "level", unit ? "unit" : "region");
	if (unit != NULL) {
		report_row_text(&row, "unit", unit->id);
		report_row_text(&row, "municipality", unit->municipality);
	}
	report_row_put(&row, "met", g_variant_new_uint32(tally->met));
	report_row_put(&row, "breached",
		       g_variant_new_uint32(tally->breached));
	report_row_put(&row, "pending", g_variant_new_uint32(tally->pending));
	report_row_put(&row, "no-rule", g_variant_new_uint32(tally->no_rule));
	report_row_int(&row, "next-free-start", tally->next_free);
	report_row_put(&row, "at-risk",
		       g_variant_new_boolean(rule != NULL &&
					     at_risk(tally->next_free,
						     deadline)));
	if (rule != NULL) {
		report_row_text(&row, "rule", rule->id);
		report_row_int(&row, "new-referral-deadline", deadline);
	}
	return g_variant_ref_sink(g_variant_builder_end(&row));
}

/* The region is at risk only when no unit has a free slot in time: a
 * client may be offered any of them. Its row is left out when a filter
 * narrows the report. */
static gboolean
add_summaries(DeadlineReport *r, GError **error)
{
	const DeadlineRule *rule = report_deadline_rule(r->service, r->now,
							REPORT_AGE_UNKNOWN);
	Tally *region = &g_array_index(r->order, Tally, r->order->len - 1);
	gint64 deadline = -1;
	GDate last_day;

	if (rule != NULL) {
		report_deadline_day(rule, r->now, &last_day);
		deadline = deadline_day_end(&last_day);
	}
	for (guint i = 0; i + 1 < r->order->len; i++) {
		Tally *tally = &g_array_index(r->order, Tally, i);

		if (!find_next_free(r, tally, error))
			return FALSE;
		if (tally->next_free >= 0 &&
		    (region->next_free < 0 ||
		     tally->next_free < region->next_free))
			region->next_free = tally->next_free;
		g_ptr_array_add(r->rows, summary_row(tally, rule, deadline));
	}
	if (r->whole_region)
		g_ptr_array_add(r->rows, summary_row(region, rule, deadline));
	return TRUE;
}

/* ---- the report -------------------------------------------------------- */

static void
report_init(DeadlineReport *r, const PlanSource *source,
	    const ReportQuery *query, GPtrArray *offerings)
{
	Tally region = { NULL, .next_free = -1 };

	r->store = source->store;
	r->service = region_find_service(source->region, query->service);
	r->now = source->now;
	r->whole_region = query->unit == NULL && query->municipality == NULL;
	r->tallies = g_hash_table_new(g_str_hash, g_str_equal);
	r->order = g_array_sized_new(FALSE, FALSE, sizeof(Tally),
				     offerings->len + 1);
	r->rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_variant_unref);
	for (guint i = 0; i < offerings->len; i++) {
		Tally tally = { offerings->pdata[i], .next_free = -1 };

		g_array_append_val(r->order, tally);
	}
	g_array_append_val(r->order, region);
	/* Every tally is in place: the pointers kept now stay valid. */
	for (guint i = 0; i < offerings->len; i++) {
		Tally *tally = &g_array_index(r->order, Tally, i);

		g_hash_table_insert(r->tallies, tally->offering->unit->id,
				    tally);
	}
}

static void
report_clear(DeadlineReport *r)
{
	g_hash_table_unref(r->tallies);
	g_array_unref(r->order);
	g_clear_pointer(&r->rows, g_ptr_array_unref);
}

static gboolean
check_size(const GPtrArray *referrals, GError **error)
{
	if (referrals->len <= REPORT_MAX_ROWS)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "the report would have %u bookings, more than %d; ask "
		    "for one unit or municipality, or for a narrower window",
		    referrals->len, REPORT_MAX_ROWS);
	return FALSE;
}

gboolean
report_deadlines(const PlanSource *source, const ReportQuery *query,
		 GPtrArray **ret_rows, GError **error)
{
	g_autoptr(GPtrArray) offerings = NULL;
	g_autoptr(GPtrArray) referrals = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_referral_free);
	DeadlineReport r = { 0 };
	gboolean ok;

	if (!report_scope(source, query, &offerings, error) ||
	    !store_plan_referrals(source->store, query->service, query->from,
				  query->to, referrals, error) ||
	    !check_size(referrals, error))
		return FALSE;
	report_init(&r, source, query, offerings);
	for (guint i = 0; i < referrals->len; i++)
		add_referral(&r, referrals->pdata[i]);
	ok = add_summaries(&r, error);
	if (ok)
		*ret_rows = g_steal_pointer(&r.rows);
	report_clear(&r);
	return ok;
}
