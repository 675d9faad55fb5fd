/* Slots materialised from the offerings' windows over a rolling
 * horizon, in small chunks so the main loop never stalls, and the
 * reconciliation after a configuration change: new windows add slots,
 * capacity that disappeared marks slots unavailable and flags their
 * bookings for rebooking. Nothing is ever deleted. A reload computes
 * the changes on a worker thread and commits them on the main thread a
 * few milliseconds at a time (capacity_reshape_*, capacity.h). */
#include "capacity-private.h"

#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "loop-watch.h"

/* Days shaped per step of one job (one transaction). */
/* Days shaped at a time. A job step shapes one such range, and the
 * next while its transaction is under EXTEND_BUDGET_USEC old: turns of
 * the loop of at most 10-25 ms on the example region, where 400 slots a
 * step took up to 250 ms. A day at a time made the first fill five
 * times slower (each range costs the plugins a fixed amount). */
#define HORIZON_STEP_DAYS 7

void
horizon_job_free(HorizonJob *job)
{
	if (!job)
		return;
	g_free(job->offering);
	g_free(job->digest);
	g_free(job);
}

/* The first day shaped: yesterday, so a window that began last evening
 * and runs past midnight (a night shift) exists right after a start. */
static void
today(Capacity *capacity, GDate *ret_date)
{
	calendar_local_date(capacity_now(capacity), ret_date);
	g_date_subtract_days(ret_date, 1);
}

static gint64
date_start_utc(const GDate *date)
{
	return calendar_local_to_utc(g_date_get_year(date),
				     g_date_get_month(date),
				     g_date_get_day(date), 0, 0);
}

/* One occurrence of a window on a local date, in UTC. */
static void
window_occurrence(const Window *w, const GDate *date, SlotdWindow *ret)
{
	GDate end_date = *date;

	if (w->end_minute <= w->start_minute)
		g_date_add_days(&end_date, 1);
	ret->name = w->name;
	ret->capacity = w->capacity;
	ret->start = calendar_local_to_utc(
		g_date_get_year(date), g_date_get_month(date),
		g_date_get_day(date), w->start_minute / 60,
		w->start_minute % 60);
	ret->end = calendar_local_to_utc(
		g_date_get_year(&end_date), g_date_get_month(&end_date),
		g_date_get_day(&end_date), w->end_minute / 60,
		w->end_minute % 60);
}

static void
default_shape(const SlotdOffering *off, const SlotdWindow *w, GArray *out)
{
	gint64 step = (gint64)off->slot_minutes * 60;

	for (gint64 t = w->start; t + step <= w->end; t += step) {
		SlotdSlotSpec spec = { t, t + step, w->capacity, "slot" };

		g_array_append_val(out, spec);
	}
}

static gboolean
date_open(const SlotdOffering *off, const Window *w, const GDate *date)
{
	if (g_date_valid(&w->valid_until) &&
	    g_date_compare(date, &w->valid_until) > 0)
		return FALSE;
	if (region_unit_closed_on(off->unit, date))
		return FALSE;
	return !off->closed_on_holidays || !calendar_is_non_working_eve(date);
}

/* Runs on the main thread or, for a reload, on a worker: it reads only
 * the offering, its window and the calendar (calendar.c locks the zone
 * it expands), and the plugin's shape hook is told to do the same. */
static gboolean
shape_window(const SlotdKindOps *ops, const SlotdOffering *off,
	     const Window *w, const GDate *from, const GDate *to,
	     GArray *specs, GError **error)
{
	g_autoptr(GArray) dates = g_array_new(FALSE, FALSE, sizeof(GDate));

	if (!calendar_expand_rrule(w->rrule, &w->valid_from, from, to, dates,
				   error))
		return FALSE;
	for (guint i = 0; i < dates->len; i++) {
		GDate *date = &g_array_index(dates, GDate, i);
		SlotdWindow occurrence;

		if (!date_open(off, w, date))
			continue;
		window_occurrence(w, date, &occurrence);
		if (occurrence.end <= occurrence.start)
			continue;
		if (ops && ops->shape) {
			if (!ops->shape(off, &occurrence, specs, error))
				return FALSE;
		} else {
			default_shape(off, &occurrence, specs);
		}
	}
	return TRUE;
}

static gboolean
upsert_specs(Capacity *capacity, const SlotdOffering *off, GArray *specs,
	     gint64 generation, GError **error)
{
	for (guint i = 0; i < specs->len; i++) {
		SlotdSlotSpec *spec = &g_array_index(specs, SlotdSlotSpec, i);
		gint64 id;

		if (spec->end <= spec->start)
			continue;
		if (!store_upsert_slot(capacity->store, off->id,
				       spec->kind ? spec->kind : "slot",
				       spec->start, spec->end, spec->capacity,
				       generation, &id, error))
			return FALSE;
	}
	return TRUE;
}

/* Shapes [from, to] of one offering into the store (in a transaction
 * the caller holds); returns how many slots it touched. */
static gboolean
shape_range(Capacity *capacity, const SlotdOffering *off, const GDate *from,
	    const GDate *to, gint64 generation, guint *ret_count,
	    GError **error)
{
	g_autoptr(GArray) specs = g_array_new(FALSE, FALSE,
					      sizeof(SlotdSlotSpec));

	for (guint i = 0; i < off->windows->len; i++)
		if (!shape_window(capacity_kind(capacity, off), off,
				  off->windows->pdata[i], from, to, specs,
				  error))
			return FALSE;
	*ret_count = specs->len;
	return upsert_specs(capacity, off, specs, generation, error);
}

static HorizonJob *
job_new(Capacity *capacity, const SlotdOffering *off, const GDate *from,
	const GDate *to, gboolean reshape, gint64 generation)
{
	HorizonJob *job = g_new0(HorizonJob, 1);

	job->planned = capacity_now(capacity);
	job->offering = g_strdup(off->id);
	job->from = *from;
	job->to = *to;
	job->cursor = *from;
	job->reshape = reshape;
	job->generation = generation;
	job->digest = g_strdup(off->config_digest);
	return job;
}

/* Decides for one offering whether it needs reshaping or extending. */
static gboolean
plan_offering(Capacity *capacity, const SlotdOffering *off, GError **error)
{
	g_autofree char *digest = NULL;
	gint64 until = 0;
	GDate first, last, from;

	today(capacity, &first);
	last = first;
	g_date_add_days(&last, capacity->region->daemon.horizon_days + 1);
	if (!store_get_horizon(capacity->store, off->id, &until, &digest,
			       error))
		return FALSE;
	if (g_strcmp0(digest, off->config_digest) != 0) {
		g_queue_push_tail(&capacity->jobs,
				  job_new(capacity, off, &first, &last, TRUE,
					  store_next_generation(capacity->store)));
		return TRUE;
	}
	calendar_local_date(until, &from);
	if (g_date_compare(&from, &first) < 0)
		from = first;
	if (until == 0 || g_date_compare(&from, &last) <= 0)
		g_queue_push_tail(&capacity->jobs,
				  job_new(capacity, off, &from, &last, FALSE,
					  store_next_generation(capacity->store)));
	return TRUE;
}

static void notify_rebook(Capacity *capacity, GArray *ids);
static gboolean withdraw_removed(Capacity *capacity, Region *region,
				 GArray *rebook, GError **error);

/* The bookings `ids` from `first` on were just flagged needs_rebooking
 * because the configuration took their slots away: each gets an audit
 * row in the same transaction, by the daemon itself (as an absence's
 * flags get one by whoever marked it), saying why. */
static gboolean
audit_flagged(Capacity *capacity, GArray *ids, guint first, gint64 now,
	      const char *offering, const char *why, GError **error)
{
	g_autofree char *detail = NULL;

	if (ids == NULL || ids->len <= first)
		return TRUE;
	detail = g_strdup_printf("slots of %s withdrawn (%s)", offering, why);
	for (guint i = first; i < ids->len; i++)
		if (!store_audit(capacity->store, now, 0, "internal",
				 "needs-rebooking",
				 g_array_index(ids, gint64, i), detail,
				 error))
			return FALSE;
	return TRUE;
}

typedef struct {
	GArray *rebook;
} Orphans;

static gboolean
withdraw_orphans(Capacity *capacity, gpointer data, GError **error)
{
	Orphans *o = data;

	return withdraw_removed(capacity, capacity->region, o->rebook, error);
}


/* Main-loop time after which capacity_extend() stops between two job
 * steps. */
#define EXTEND_BUDGET_USEC 8000

static gboolean
plan_jobs(Capacity *capacity, GError **error)
{
	if (!capacity->orphans_checked) {
		g_autoptr(GArray) rebook = g_array_new(FALSE, FALSE,
						       sizeof(gint64));
		Orphans o = { rebook };

		if (!capacity_transaction(capacity, withdraw_orphans, &o,
					  error))
			return FALSE;
		if (rebook->len)
			g_message("%u bookings of offerings no longer "
				  "configured need rebooking",
				  rebook->len);
		notify_rebook(capacity, rebook);
		capacity->orphans_checked = TRUE;
	}
	for (guint i = 0; i < capacity->region->offerings->len; i++) {
		SlotdOffering *off = capacity->region->offerings->pdata[i];

		if (off->available && !plan_offering(capacity, off, error)) {
			g_queue_clear_full(&capacity->jobs,
					   (GDestroyNotify)horizon_job_free);
			return FALSE;
		}
	}
	capacity->jobs_planned = TRUE;
	capacity->horizon_complete = g_queue_is_empty(&capacity->jobs);
	return TRUE;
}

typedef struct {
	HorizonJob *job;
	const SlotdOffering *offering;
	guint max_slots;
	guint done_slots;
	gboolean finished;
	GArray *rebook;		/* booking ids flagged */
	gint64 deadline;	/* monotonic: no further day after it */
} JobStep;

static gboolean
finish_job(Capacity *capacity, JobStep *step, GError **error)
{
	HorizonJob *job = step->job;
	GDate after = job->to;
	gint64 now = capacity_now(capacity);

	g_date_add_days(&after, 1);
	/* Shaping starts yesterday for the night under way, but what had
	 * begun when the job was planned is history: it is never
	 * withdrawn or flagged. The range runs to the end of time, so
	 * slots of a longer horizon from before are withdrawn too; the
	 * bookings of slots the job's steps cut are flagged here. */
	if (job->reshape &&
	    (!store_withdraw_unseen(capacity->store, job->offering,
				    MAX(job->planned,
					date_start_utc(&job->from)),
				    G_MAXINT64, job->generation, now,
				    step->rebook, error) ||
	     !audit_flagged(capacity, step->rebook, 0, now, job->offering,
			    "the configuration changed", error)))
		return FALSE;
	step->finished = TRUE;
	return store_set_horizon(capacity->store, job->offering,
				 date_start_utc(&after), job->digest, error);
}

static gboolean
run_job_step(Capacity *capacity, gpointer data, GError **error)
{
	JobStep *step = data;
	HorizonJob *job = step->job;

	/* Half-reshaped: any later comparison must reshape again. */
	if (job->reshape && g_date_compare(&job->cursor, &job->from) == 0 &&
	    !store_set_horizon(capacity->store, job->offering, 0, "", error))
		return FALSE;

	while (g_date_compare(&job->cursor, &job->to) <= 0 &&
	       step->done_slots < step->max_slots) {
		if (step->done_slots > 0 &&
		    g_get_monotonic_time() >= step->deadline)
			break;
		GDate last = job->cursor;
		guint count = 0;

		g_date_add_days(&last, HORIZON_STEP_DAYS - 1);
		if (g_date_compare(&last, &job->to) > 0)
			last = job->to;
		if (!shape_range(capacity, step->offering, &job->cursor, &last,
				 job->generation, &count, error))
			return FALSE;
		step->done_slots += count;
		job->cursor = last;
		g_date_add_days(&job->cursor, 1);
	}
	if (g_date_compare(&job->cursor, &job->to) > 0)
		return finish_job(capacity, step, error);
	return TRUE;
}

static void
notify_rebook(Capacity *capacity, GArray *ids)
{
	for (guint i = 0; i < ids->len; i++) {
		g_autoptr(StoreBooking) b = NULL;

		if (store_get_booking(capacity->store,
				      g_array_index(ids, gint64, i), &b, NULL))
			capacity_notify_booking(capacity, b);
	}
}

gboolean
capacity_extend(Capacity *capacity, guint max_slots, gboolean *ret_done,
		GError **error)
{
	/* Each job step is a COMMIT of its own: offerings with a day or
	 * two to add would otherwise take a whole pass of the region
	 * (38 commits, 100-200 ms) in one turn of the loop. */
	gint64 deadline = g_get_monotonic_time() + EXTEND_BUDGET_USEC;

	*ret_done = FALSE;
	/* A reload is under way: it has the store's slots to itself, and
	 * the daemon asks again when it is over. */
	if (capacity->reshape) {
		*ret_done = TRUE;
		return TRUE;
	}
	if (!capacity->jobs_planned && !plan_jobs(capacity, error))
		return FALSE;
	while (!g_queue_is_empty(&capacity->jobs)) {
		HorizonJob *job = g_queue_peek_head(&capacity->jobs);
		g_autoptr(GArray) rebook = g_array_new(FALSE, FALSE,
						       sizeof(gint64));
		JobStep step = { job, region_find_offering(capacity->region,
							   job->offering),
				 MAX(max_slots, 1), 0, FALSE, rebook,
				 deadline };
		GDate before = job->cursor;

		if (!step.offering || !step.offering->available) {
			horizon_job_free(g_queue_pop_head(&capacity->jobs));
			continue;
		}
		if (!capacity_transaction(capacity, run_job_step, &step,
					  error)) {
			job->cursor = before; /* retry the chunk next time */
			return FALSE;
		}
		capacity_notify_slots(capacity, job->offering,
				      date_start_utc(&before),
				      date_start_utc(&job->cursor));
		/* A reshape's new capacity goes to the waitlists first. */
		if (job->reshape)
			capacity_note_freed(capacity, job->offering,
					    date_start_utc(&before),
					    date_start_utc(&job->cursor));
		notify_rebook(capacity, rebook);
		if (step.finished)
			horizon_job_free(g_queue_pop_head(&capacity->jobs));
		if (step.done_slots >= max_slots ||
		    g_get_monotonic_time() >= deadline)
			return TRUE;
		max_slots -= step.done_slots;
	}
	*ret_done = TRUE;
	capacity->jobs_planned = FALSE; /* next call plans again (daily) */
	capacity->horizon_complete = TRUE;
	return TRUE;
}

/* ---- offerings removed while slotd was down -------------------------- */

/* An offering gone from the configuration: its future slots are
 * withdrawn and its bookings flagged; its horizon is forgotten so that
 * if it comes back it is shaped again from scratch. */
static gboolean
withdraw_offering(Capacity *capacity, const char *offering, GArray *rebook,
		  GError **error)
{
	guint first = rebook->len;
	gint64 now = capacity_now(capacity);

	return store_withdraw_unseen(capacity->store, offering, now,
				     G_MAXINT64,
				     store_next_generation(capacity->store),
				     now, rebook, error) &&
	       audit_flagged(capacity, rebook, first, now, offering,
			     "the offering is no longer configured",
			     error) &&
	       store_set_horizon(capacity->store, offering, 0, "", error);
}

/* Offerings the store knows that the region no longer has: removed
 * from the configuration, possibly while the daemon was down. */
static gboolean
withdraw_removed(Capacity *capacity, Region *region, GArray *rebook,
		 GError **error)
{
	g_autoptr(GPtrArray) known = g_ptr_array_new_with_free_func(g_free);

	if (!store_list_horizon_offerings(capacity->store, known, error))
		return FALSE;
	for (guint i = 0; i < known->len; i++)
		if (!region_find_offering(region, known->pdata[i]) &&
		    !withdraw_offering(capacity, known->pdata[i], rebook,
				       error))
			return FALSE;
	return TRUE;
}

/* ---- reshaping after a reload (capacity.h: capacity_reshape_*) ------ */

/* Days of withdrawn slots whose bookings are flagged per statement:
 * fourteen days of a full offering's bookings took 25-50 ms of the loop
 * in one statement (the benchmark's reload of a million bookings). */
#define FLAG_PIECE_SECONDS (3 * 86400)

/* The ops are committed a day of starts at a time, and within a day an
 * offering at a time: consecutive ops then touch the same few pages of
 * the slot table and its index, and a step's COMMIT writes tens of
 * pages instead of one or two for every op (in start order across all
 * offerings, a step of the full region's reload dirtied a page an op
 * and its COMMIT held the loop 10-100 ms). */
#define OP_DAY_SECONDS 86400

/* One change to one slot. `slot` 0: insert or update the slot of the
 * spec (store_upsert_slot, which decides against the seats taken at
 * that moment); otherwise withdraw that stored slot. */
typedef struct {
	gint64 start;
	gint64 end;
	gint64 slot;
	const char *kind;	/* interned */
	guint capacity;
	guint plan;		/* index in CapacityReshape.plans */
} ReshapeOp;

/* An offering whose slots change: its digest differs from the stored
 * one, or it is gone from the configuration. */
typedef struct {
	char *offering;
	char *digest;		/* NULL: removed from the configuration */
	gint64 from;		/* withdrawn and flagged from here (or now) */
	gint64 until;		/* its horizon, once finished */
	gint64 last_start;	/* of its last op; G_MININT64: none */
	guint last_op;		/* its last op's place in the sorted ops */
	gint64 flagged;		/* flagged up to here; 0: not begun */
} ReshapePlan;

struct _CapacityReshape {
	Capacity *capacity;
	Region *region;		/* the new one */
	gint64 now;		/* when the reload came */
	GDate first;		/* the first day shaped, as extension does */
	GDate last;
	const SlotdKindOps **kinds; /* per offering of `region` */
	/* from capacity_reshape_compute() on */
	GArray *plans;		/* ReshapePlan */
	GHashTable *plan_of;	/* offering id -> plan index + 1 */
	GArray *ops;		/* ReshapeOp, as compare_ops orders them */
	/* on the main thread, from capacity_reshape_begin() on */
	gboolean begun;
	gboolean marked;	/* changed offerings' horizons cleared */
	gint64 generation;
	guint pos;		/* ops committed */
	guint finished;		/* plans finished */
	GArray *rebook;		/* gint64, flagged */
	guint notified;		/* of rebook, told to the listeners */
};

static void
reshape_plan_clear(ReshapePlan *plan)
{
	g_free(plan->offering);
	g_free(plan->digest);
}

CapacityReshape *
capacity_reshape_new(Capacity *capacity, Region *region, GError **error)
{
	CapacityReshape *r;

	if (capacity->reshape) {
		g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
				    "a reload is already under way");
		return NULL;
	}
	/* Offerings removed while slotd was down are withdrawn first, and
	 * what extension still has to do is known (capacity_ready_until
	 * answers from it while the reload is computed). */
	if (!capacity->jobs_planned && !plan_jobs(capacity, error))
		return NULL;
	r = g_new0(CapacityReshape, 1);
	r->capacity = capacity;
	r->region = region_ref(region);
	r->now = capacity_now(capacity);
	calendar_local_date(r->now, &r->first);
	g_date_subtract_days(&r->first, 1);
	r->last = r->first;
	g_date_add_days(&r->last, region->daemon.horizon_days + 1);
	r->kinds = g_new0(const SlotdKindOps *, region->offerings->len + 1);
	for (guint i = 0; i < region->offerings->len; i++)
		r->kinds[i] = capacity_kind(capacity,
					    region->offerings->pdata[i]);
	r->plans = g_array_new(FALSE, TRUE, sizeof(ReshapePlan));
	g_array_set_clear_func(r->plans, (GDestroyNotify)reshape_plan_clear);
	r->plan_of = g_hash_table_new(g_str_hash, g_str_equal);
	r->ops = g_array_new(FALSE, FALSE, sizeof(ReshapeOp));
	r->rebook = g_array_new(FALSE, FALSE, sizeof(gint64));
	capacity->reshape = r;
	return r;
}

/* ---- on the worker -------------------------------------------------- */

/* Specs and slots are matched on (start, kind), kinds interned. */
static guint
spec_hash(gconstpointer key)
{
	const SlotdSlotSpec *spec = key;

	return (guint)(spec->start ^ (spec->start >> 32)) ^
	       g_direct_hash(spec->kind);
}

static gboolean
spec_equal(gconstpointer a, gconstpointer b)
{
	const SlotdSlotSpec *x = a, *y = b;

	return x->start == y->start && x->kind == y->kind;
}

static void
add_op(CapacityReshape *r, guint plan, gint64 slot, gint64 start, gint64 end,
       const char *kind, guint capacity)
{
	ReshapeOp op = { start, end, slot, kind, capacity, plan };
	ReshapePlan *p = &g_array_index(r->plans, ReshapePlan, plan);

	g_array_append_val(r->ops, op);
	p->last_start = MAX(p->last_start, start);
}

static guint
add_plan(CapacityReshape *r, const char *offering, const char *digest,
	 gint64 from, gint64 until)
{
	ReshapePlan plan = { g_strdup(offering), g_strdup(digest), from,
			     until, G_MININT64, 0, 0 };

	g_array_append_val(r->plans, plan);
	g_hash_table_insert(r->plan_of,
			    g_array_index(r->plans, ReshapePlan,
					  r->plans->len - 1).offering,
			    GUINT_TO_POINTER(r->plans->len));
	return r->plans->len - 1;
}

/* What the new specs change in the stored slots: specs that are new or
 * differ are upserted, free slots the specs no longer have (from now
 * on: what has begun is history) are withdrawn, the rest is left as it
 * is. Of two specs with the same start and kind the later one counts,
 * as when each was upserted in turn. */
static void
diff_slots(CapacityReshape *r, guint plan, GArray *specs, GArray *stored)
{
	const ReshapePlan *p = &g_array_index(r->plans, ReshapePlan, plan);
	g_autoptr(GHashTable) wanted = g_hash_table_new(spec_hash, spec_equal);
	g_autoptr(GHashTable) matched = g_hash_table_new(NULL, NULL);
	gint64 not_before = MAX(r->now, p->from);
	GHashTableIter iter;
	gpointer value;

	for (guint i = 0; i < specs->len; i++) {
		SlotdSlotSpec *spec = &g_array_index(specs, SlotdSlotSpec, i);

		if (spec->end <= spec->start)
			continue;
		spec->kind = g_intern_string(spec->kind ? spec->kind : "slot");
		g_hash_table_insert(wanted, spec, spec);
	}
	for (guint i = 0; i < stored->len; i++) {
		const StoreSlot *slot = &g_array_index(stored, StoreSlot, i);
		SlotdSlotSpec key = { slot->start, 0, 0,
				      g_intern_string(slot->kind) };
		const SlotdSlotSpec *spec = g_hash_table_lookup(wanted, &key);

		if (spec) {
			g_hash_table_add(matched, (gpointer)spec);
			if (slot->status != SLOT_STATUS_FREE ||
			    slot->end != spec->end ||
			    slot->capacity != spec->capacity)
				add_op(r, plan, 0, spec->start, spec->end,
				       spec->kind, spec->capacity);
		} else if (slot->status == SLOT_STATUS_FREE &&
			   slot->start >= not_before) {
			add_op(r, plan, slot->id, slot->start, slot->end,
			       key.kind, slot->capacity);
		}
	}
	g_hash_table_iter_init(&iter, wanted);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const SlotdSlotSpec *spec = value;

		if (!g_hash_table_contains(matched, spec))
			add_op(r, plan, 0, spec->start, spec->end, spec->kind,
			       spec->capacity);
	}
}

static GArray *
new_slot_array(void)
{
	GArray *slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	return slots;
}

static gboolean
compute_changed(CapacityReshape *r, Store *store, guint index,
		GError **error)
{
	const SlotdOffering *off = r->region->offerings->pdata[index];
	g_autoptr(GArray) specs = g_array_new(FALSE, FALSE,
					      sizeof(SlotdSlotSpec));
	g_autoptr(GArray) stored = new_slot_array();
	g_autofree char *digest = NULL;
	GDate after = r->last;
	gint64 until = 0, from = date_start_utc(&r->first);
	guint plan;

	if (!store_get_horizon(store, off->id, &until, &digest, error))
		return FALSE;
	if (g_strcmp0(digest, off->config_digest) == 0)
		return TRUE;
	g_date_add_days(&after, 1);
	for (guint i = 0; i < off->windows->len; i++)
		if (!shape_window(r->kinds[index], off, off->windows->pdata[i],
				  &r->first, &r->last, specs, error))
			return FALSE;
	for (guint i = 0; i < specs->len; i++)
		from = MIN(from, g_array_index(specs, SlotdSlotSpec, i).start);
	/* To the end of time: slots of a longer horizon from before are
	 * withdrawn too. */
	if (!store_list_slots(store, off->id, from, G_MAXINT64, stored,
			      error))
		return FALSE;
	plan = add_plan(r, off->id, off->config_digest,
			date_start_utc(&r->first), date_start_utc(&after));
	diff_slots(r, plan, specs, stored);
	return TRUE;
}

/* An offering the store knows that the region no longer has: its
 * slots from now on are withdrawn, its horizon forgotten, so that if it
 * comes back it is shaped again from scratch. */
static gboolean
compute_removed(CapacityReshape *r, Store *store, const char *offering,
		GError **error)
{
	g_autoptr(GArray) stored = new_slot_array();
	guint plan;

	if (!store_list_slots(store, offering, r->now, G_MAXINT64, stored,
			      error))
		return FALSE;
	plan = add_plan(r, offering, NULL, r->now, r->now);
	for (guint i = 0; i < stored->len; i++) {
		const StoreSlot *slot = &g_array_index(stored, StoreSlot, i);

		if (slot->status == SLOT_STATUS_FREE)
			add_op(r, plan, slot->id, slot->start, slot->end,
			       g_intern_string(slot->kind), slot->capacity);
	}
	return TRUE;
}

static gint64
op_day(gint64 start)
{
	gint64 day = start / OP_DAY_SECONDS;

	if (start % OP_DAY_SECONDS < 0)
		day--;
	return day;
}

/* By day of start, then by offering, then by start; upserts before
 * withdrawals at the same start. All ops before a day are committed
 * before any of it: reshape_ready_until(). */
static int
compare_ops(gconstpointer a, gconstpointer b)
{
	const ReshapeOp *x = a, *y = b;
	gint64 dx = op_day(x->start), dy = op_day(y->start);

	if (dx != dy)
		return dx < dy ? -1 : 1;
	if (x->plan != y->plan)
		return x->plan < y->plan ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if ((x->slot != 0) != (y->slot != 0))
		return x->slot != 0 ? 1 : -1;
	return g_strcmp0(x->kind, y->kind);
}

gboolean
capacity_reshape_compute(CapacityReshape *r, Store *store, GError **error)
{
	g_autoptr(GPtrArray) known = g_ptr_array_new_with_free_func(g_free);

	g_return_val_if_fail(!r->begun && r->plans->len == 0, FALSE);
	for (guint i = 0; i < r->region->offerings->len; i++) {
		const SlotdOffering *off = r->region->offerings->pdata[i];

		if (off->available && !compute_changed(r, store, i, error))
			return FALSE;
	}
	if (!store_list_horizon_offerings(store, known, error))
		return FALSE;
	for (guint i = 0; i < known->len; i++)
		if (!region_find_offering(r->region, known->pdata[i]) &&
		    !compute_removed(r, store, known->pdata[i], error))
			return FALSE;
	g_array_sort(r->ops, compare_ops);
	for (guint i = 0; i < r->ops->len; i++)
		g_array_index(r->plans, ReshapePlan,
			      g_array_index(r->ops, ReshapeOp, i).plan)
			.last_op = i;
	return TRUE;
}

void
capacity_reshape_counts(CapacityReshape *r, guint *ret_offerings,
			guint *ret_changes)
{
	*ret_offerings = r->plans->len;
	*ret_changes = r->ops->len;
}

void
capacity_reshape_offerings(CapacityReshape *r, GStrv *ret_reshaped,
			   GStrv *ret_withdrawn)
{
	g_autoptr(GStrvBuilder) reshaped = g_strv_builder_new();
	g_autoptr(GStrvBuilder) withdrawn = g_strv_builder_new();
	g_autofree gboolean *changed = g_new0(gboolean, r->plans->len);

	/* One pass over the ops (a million in a reload of everything). */
	for (guint i = 0; i < r->ops->len; i++)
		changed[g_array_index(r->ops, ReshapeOp, i).plan] = TRUE;
	for (guint i = 0; i < r->plans->len; i++) {
		const ReshapePlan *p = &g_array_index(r->plans, ReshapePlan,
						      i);

		if (p->digest == NULL)
			g_strv_builder_add(withdrawn, p->offering);
		else if (changed[i])
			g_strv_builder_add(reshaped, p->offering);
	}
	*ret_reshaped = g_strv_builder_end(reshaped);
	*ret_withdrawn = g_strv_builder_end(withdrawn);
	qsort(*ret_reshaped, g_strv_length(*ret_reshaped), sizeof(char *),
	      capacity_compare_strings);
	qsort(*ret_withdrawn, g_strv_length(*ret_withdrawn), sizeof(char *),
	      capacity_compare_strings);
}

/* ---- on the main thread --------------------------------------------- */

/* Where a changed offering's slots are in place up to: the first start
 * not committed yet, or a little before it. The ops go by day
 * (compare_ops): every day before the next op's is done; of that day,
 * the offerings before the next op's are done too, the next op's own
 * up to the op. Once all its ops are in, its slots are in place over
 * its whole new horizon, while bookings are still being flagged
 * (finish_plan records the horizon only then). */
static gboolean
reshape_ready_until(CapacityReshape *r, const char *offering_id,
		    gint64 *ret_until)
{
	const ReshapeOp *next;
	const ReshapePlan *p;
	guint plan;
	gint64 day;

	if (!r || !r->begun)
		return FALSE;
	plan = GPOINTER_TO_UINT(g_hash_table_lookup(r->plan_of, offering_id));
	if (plan == 0)
		return FALSE;
	p = &g_array_index(r->plans, ReshapePlan, plan - 1);
	if (r->pos >= r->ops->len || p->last_start == G_MININT64 ||
	    p->last_op < r->pos) {
		/* (A night's slots run past the horizon's last midnight.) */
		*ret_until = p->digest ? MAX(p->until, p->last_start + 1)
				       : G_MAXINT64;
		return TRUE;
	}
	next = &g_array_index(r->ops, ReshapeOp, r->pos);
	day = op_day(next->start) * OP_DAY_SECONDS;
	if (next->plan == plan - 1)
		*ret_until = next->start;
	else if (plan - 1 < next->plan)
		*ret_until = day + OP_DAY_SECONDS;
	else
		*ret_until = day;
	return TRUE;
}

/* Extension plans afresh from the store (the changed offerings'
 * horizons are set as each is finished). */
static void
replan_extension(Capacity *capacity)
{
	g_queue_clear_full(&capacity->jobs, (GDestroyNotify)horizon_job_free);
	capacity->jobs_planned = FALSE;
	capacity->horizon_complete = FALSE;
}

void
capacity_reshape_begin(Capacity *capacity, CapacityReshape *r)
{
	Region *old = capacity->region;

	g_return_if_fail(capacity->reshape == r && !r->begun);
	capacity->region = region_ref(r->region);
	region_unref(old);
	replan_extension(capacity);
	r->generation = store_next_generation(capacity->store);
	r->begun = TRUE;
}

typedef struct {
	CapacityReshape *reshape;
	gint64 deadline;	/* monotonic */
} Chunk;

static gboolean
past(const Chunk *chunk)
{
	return g_get_monotonic_time() >= chunk->deadline;
}

static gboolean
apply_op(Capacity *capacity, CapacityReshape *r, const ReshapeOp *op,
	 GError **error)
{
	const ReshapePlan *plan = &g_array_index(r->plans, ReshapePlan,
						 op->plan);
	gint64 id;

	if (op->slot)
		return store_withdraw_slot(capacity->store, op->slot,
					   MAX(capacity_now(capacity),
					       plan->from),
					   error);
	return store_upsert_slot(capacity->store, plan->offering, op->kind,
				 op->start, op->end, op->capacity,
				 r->generation, &id, error);
}

/* Flags the bookings of the plan's busy-unavailable slots a piece of
 * days at a time (withdrawn now, earlier, or by a capacity cut: as
 * store_withdraw_unseen does), then records its horizon. TRUE in
 * *ret_finished once it has. */
static gboolean
finish_plan(Capacity *capacity, CapacityReshape *r, ReshapePlan *plan,
	    gboolean *ret_finished, GError **error)
{
	LOOP_WORK("reshape flagging", NULL);
	/* From when the reload came, not from now: the bookings of slots
	 * its ops cut that began meanwhile are flagged too. */
	gint64 from = plan->flagged ? plan->flagged : MAX(r->now, plan->from);
	gint64 to = from + FLAG_PIECE_SECONDS;
	gint64 now = capacity_now(capacity);
	guint first = r->rebook->len;

	*ret_finished = FALSE;
	if (to >= plan->until && to >= plan->last_start)
		to = G_MAXINT64;
	if (!store_flag_withdrawn(capacity->store, plan->offering, from, to,
				  now, r->rebook, error) ||
	    !audit_flagged(capacity, r->rebook, first, now, plan->offering,
			   plan->digest ? "reload"
					: "reload: the offering is no longer "
					  "configured",
			   error))
		return FALSE;
	plan->flagged = to;
	if (to != G_MAXINT64)
		return TRUE;
	*ret_finished = TRUE;
	if (plan->digest) {
		/* A reload's new capacity goes to the waitlists first (a
		 * queued note: harmless should this transaction fail). */
		capacity_note_freed(capacity, plan->offering, plan->from,
				    plan->until);
		return store_set_horizon(capacity->store, plan->offering,
					 plan->until, plan->digest, error);
	}
	return store_set_horizon(capacity->store, plan->offering, 0, "",
				 error);
}

/* Inside one transaction: as much as fits before the deadline. */
static gboolean
run_chunk(Capacity *capacity, gpointer data, GError **error)
{
	Chunk *chunk = data;
	CapacityReshape *r = chunk->reshape;
	LOOP_WORK("reshape slots", NULL);

	/* Half-reshaped: should slotd stop now, it reshapes these again
	 * at the next start (their digests no longer match). Removed
	 * offerings keep theirs until finished, for the same reason. */
	for (guint i = 0; !r->marked && i < r->plans->len; i++) {
		const ReshapePlan *plan = &g_array_index(r->plans,
							 ReshapePlan, i);

		if (plan->digest &&
		    !store_set_horizon(capacity->store, plan->offering, 0, "",
				       error))
			return FALSE;
	}
	r->marked = TRUE;
	while (r->pos < r->ops->len) {
		if (!apply_op(capacity, r,
			      &g_array_index(r->ops, ReshapeOp, r->pos), error))
			return FALSE;
		r->pos++;
		if (past(chunk))
			return TRUE;
	}
	while (r->finished < r->plans->len) {
		gboolean finished;

		if (!finish_plan(capacity, r,
				 &g_array_index(r->plans, ReshapePlan,
						r->finished),
				 &finished, error))
			return FALSE;
		r->finished += finished;
		if (past(chunk))
			return TRUE;
	}
	return TRUE;
}

/* Listeners learn of flagged bookings a few at a time as well. */
static void
notify_flagged(Capacity *capacity, CapacityReshape *r, const Chunk *chunk)
{
	LOOP_WORK("reshape telling", NULL);

	while (r->notified < r->rebook->len && !past(chunk)) {
		g_autoptr(StoreBooking) b = NULL;

		if (store_get_booking(capacity->store,
				      g_array_index(r->rebook, gint64,
						    r->notified),
				      &b, NULL))
			capacity_notify_booking(capacity, b);
		r->notified++;
	}
}

static void
detach(Capacity *capacity, CapacityReshape *r)
{
	if (capacity->reshape != r)
		return;
	capacity->reshape = NULL;
	if (!r->begun)
		return;
	replan_extension(capacity);
	/* Unfinished: removed offerings are withdrawn by the next plan. */
	if (r->finished < r->plans->len)
		capacity->orphans_checked = FALSE;
}

gboolean
capacity_reshape_step(Capacity *capacity, CapacityReshape *r,
		      gint64 budget_us, gboolean *ret_done, GError **error)
{
	Chunk chunk = { r, budget_us > 0 ? g_get_monotonic_time() + budget_us :
					   G_MAXINT64 };
	g_autofree gint64 *flagged = NULL;
	guint pos = r->pos, finished = r->finished, rebook = r->rebook->len;
	gboolean marked = r->marked;

	g_return_val_if_fail(r->begun && capacity->reshape == r, FALSE);
	*ret_done = FALSE;
	if (r->notified < r->rebook->len) {
		notify_flagged(capacity, r, &chunk);
	} else {
		flagged = g_new(gint64, r->plans->len + 1);
		for (guint i = 0; i < r->plans->len; i++)
			flagged[i] = g_array_index(r->plans, ReshapePlan,
						   i).flagged;
		if (!capacity_transaction(capacity, run_chunk, &chunk,
					  error)) {
			/* Rolled back: as it was before this step. */
			r->pos = pos;
			r->finished = finished;
			r->marked = marked;
			g_array_set_size(r->rebook, rebook);
			for (guint i = 0; i < r->plans->len; i++)
				g_array_index(r->plans, ReshapePlan,
					      i).flagged = flagged[i];
			return FALSE;
		}
	}
	*ret_done = r->pos == r->ops->len && r->finished == r->plans->len &&
		    r->notified == r->rebook->len;
	if (*ret_done)
		detach(capacity, r);
	return TRUE;
}

/* The flagged bookings, ascending, each once: each plan's come in
 * order (a booking is flagged once, so none comes twice now; the sort
 * keeps them distinct should that change).
 * A reload that reshapes everything flags every booking (a million in
 * the benchmark region): an LSD radix sort, 16 bits a pass and only as
 * many passes as the largest id needs, takes a few milliseconds of the
 * loop where qsort took a hundred. Ids are positive. */
GArray *
capacity_sorted_distinct_ids(const GArray *ids)
{
	GArray *a = g_array_copy((GArray *)ids);
	g_autoptr(GArray) b = g_array_sized_new(FALSE, FALSE, sizeof(gint64),
						 ids->len);
	g_autofree guint *count = g_new(guint, 1 << 16);
	guint64 max = 0;
	guint n = 0;

	g_array_set_size(b, ids->len);
	for (guint i = 0; i < a->len; i++)
		max = MAX(max, (guint64)g_array_index(a, gint64, i));
	for (guint shift = 0; shift < 64 && (max >> shift) != 0; shift += 16) {
		guint64 *from = (guint64 *)(void *)a->data;
		guint64 *to = (guint64 *)(void *)b->data;
		guint at = 0;

		memset(count, 0, sizeof(guint) << 16);
		for (guint i = 0; i < a->len; i++)
			count[(from[i] >> shift) & 0xffff]++;
		for (guint d = 0; d < 1 << 16; d++) {
			guint c = count[d];

			count[d] = at;
			at += c;
		}
		for (guint i = 0; i < a->len; i++)
			to[count[(from[i] >> shift) & 0xffff]++] = from[i];
		memcpy(a->data, b->data, a->len * sizeof(gint64));
	}
	for (guint i = 0; i < a->len; i++)
		if (n == 0 || g_array_index(a, gint64, i) !=
				      g_array_index(a, gint64, n - 1))
			g_array_index(a, gint64, n++) =
				g_array_index(a, gint64, i);
	g_array_set_size(a, n);
	return a;
}

guint
capacity_reshape_rebook_first(CapacityReshape *r, guint max_ids,
			      GPtrArray **ret_first)
{
	g_autoptr(GArray) sorted = capacity_sorted_distinct_ids(r->rebook);

	if (ret_first) {
		*ret_first = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; i < sorted->len && i < max_ids; i++)
			g_ptr_array_add(*ret_first,
					capacity_booking_id(g_array_index(
						sorted, gint64, i)));
	}
	return sorted->len;
}

GPtrArray *
capacity_reshape_rebook(CapacityReshape *r)
{
	GPtrArray *ids = NULL;

	capacity_reshape_rebook_first(r, G_MAXUINT, &ids);
	return ids;
}

void
capacity_reshape_free(CapacityReshape *r)
{
	if (!r)
		return;
	detach(r->capacity, r);
	region_unref(r->region);
	g_free(r->kinds);
	g_array_unref(r->plans);
	g_hash_table_unref(r->plan_of);
	g_array_unref(r->ops);
	g_array_unref(r->rebook);
	g_free(r);
}

/* At once, in one transaction, on the store's own connection: tests
 * and tools. On an error nothing has changed. */
gboolean
capacity_set_region(Capacity *capacity, Region *region,
		    GPtrArray **ret_rebook, GError **error)
{
	g_autoptr(CapacityReshape) r = capacity_reshape_new(capacity, region,
							    error);
	Region *old = capacity->region;
	gboolean done = FALSE;

	if (!r || !capacity_reshape_compute(r, capacity->store, error))
		return FALSE;
	region_ref(old);
	capacity_reshape_begin(capacity, r);
	while (!done) {
		if (!capacity_reshape_step(capacity, r, 0, &done, error)) {
			/* The only transaction rolled back: nothing of the
			 * new region is stored. */
			capacity->region = old;
			region_unref(r->region);
			capacity->reshape = NULL;
			replan_extension(capacity);
			return FALSE;
		}
	}
	region_unref(old);
	if (ret_rebook)
		*ret_rebook = capacity_reshape_rebook(r);
	return TRUE;
}
gint64
capacity_ready_until(Capacity *capacity, const char *offering_id)
{
	gint64 until;

	if (reshape_ready_until(capacity->reshape, offering_id, &until))
		return until;
	if (capacity->horizon_complete)
		return G_MAXINT64;
	/* Before the first step has run: plan now, so that the answer is
	 * about the work that will be done. Planning may write (it
	 * withdraws the slots of offerings no longer configured): inside a
	 * transaction of someone else's (a campaign's tentative plan, a
	 * read) it is left to the extension's first step, moments away,
	 * and nothing is said to be ready yet. */
	if (!capacity->jobs_planned) {
		if (store_in_transaction(capacity->store))
			return capacity_now(capacity);
		if (!plan_jobs(capacity, NULL))
			return G_MAXINT64;
	}
	for (GList *l = capacity->jobs.head; l; l = l->next) {
		HorizonJob *job = l->data;

		if (g_str_equal(job->offering, offering_id))
			return date_start_utc(&job->cursor);
	}
	return G_MAXINT64;
}
