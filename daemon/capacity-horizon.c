/* Slots materialised from the offerings' windows over a rolling
 * horizon, in small chunks so the main loop never stalls, and the
 * reconciliation after a configuration change: new windows add slots,
 * capacity that disappeared marks slots unavailable and flags their
 * bookings for rebooking. Nothing is ever deleted. */
#include "capacity-private.h"

#include <string.h>

#include "calendar.h"

/* Days shaped per step of one job (one transaction). */
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

static gboolean
shape_window(Capacity *capacity, const SlotdOffering *off, const Window *w,
	     const GDate *from, const GDate *to, GArray *specs, GError **error)
{
	const SlotdKindOps *ops = capacity_kind(capacity, off);
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
		if (!shape_window(capacity, off, off->windows->pdata[i], from,
				  to, specs, error))
			return FALSE;
	*ret_count = specs->len;
	return upsert_specs(capacity, off, specs, generation, error);
}

static HorizonJob *
job_new(const SlotdOffering *off, const GDate *from, const GDate *to,
	gboolean reshape, gint64 generation)
{
	HorizonJob *job = g_new0(HorizonJob, 1);

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
				  job_new(off, &first, &last, TRUE,
					  store_next_generation(capacity->store)));
		return TRUE;
	}
	calendar_local_date(until, &from);
	if (g_date_compare(&from, &first) < 0)
		from = first;
	if (until == 0 || g_date_compare(&from, &last) <= 0)
		g_queue_push_tail(&capacity->jobs,
				  job_new(off, &from, &last, FALSE,
					  store_next_generation(capacity->store)));
	return TRUE;
}

static void notify_rebook(Capacity *capacity, GArray *ids);
static gboolean withdraw_removed(Capacity *capacity, Region *region,
				 GArray *rebook, GError **error);

typedef struct {
	GArray *rebook;
} Orphans;

static gboolean
withdraw_orphans(Capacity *capacity, gpointer data, GError **error)
{
	Orphans *o = data;

	return withdraw_removed(capacity, capacity->region, o->rebook, error);
}


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
} JobStep;

static gboolean
finish_job(Capacity *capacity, JobStep *step, GError **error)
{
	HorizonJob *job = step->job;
	GDate after = job->to;

	g_date_add_days(&after, 1);
	/* Shaping starts yesterday for the night under way, but what has
	 * already begun is history: it is never withdrawn or flagged. The
	 * range runs to the end of time, so slots of a longer horizon
	 * from before are withdrawn too. */
	if (job->reshape &&
	    !store_withdraw_unseen(capacity->store, job->offering,
				   MAX(capacity_now(capacity),
				       date_start_utc(&job->from)),
				   G_MAXINT64, job->generation, step->rebook,
				   error))
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
	*ret_done = FALSE;
	if (!capacity->jobs_planned && !plan_jobs(capacity, error))
		return FALSE;
	while (!g_queue_is_empty(&capacity->jobs)) {
		HorizonJob *job = g_queue_peek_head(&capacity->jobs);
		g_autoptr(GArray) rebook = g_array_new(FALSE, FALSE,
						       sizeof(gint64));
		JobStep step = { job, region_find_offering(capacity->region,
							   job->offering),
				 MAX(max_slots, 1), 0, FALSE, rebook };
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
		/* A reload's new capacity goes to the waitlists first. */
		if (job->reshape)
			capacity_note_freed(capacity, job->offering,
					    date_start_utc(&before),
					    date_start_utc(&job->cursor));
		notify_rebook(capacity, rebook);
		if (step.finished)
			horizon_job_free(g_queue_pop_head(&capacity->jobs));
		if (step.done_slots >= max_slots)
			return TRUE;
		max_slots -= step.done_slots;
	}
	*ret_done = TRUE;
	capacity->jobs_planned = FALSE; /* next call plans again (daily) */
	capacity->horizon_complete = TRUE;
	return TRUE;
}

/* ---- reconciliation on reload --------------------------------------- */

typedef struct {
	Region *old_region;
	Region *new_region;
	GArray *rebook;
	GPtrArray *reshaped;	/* offering ids, for the waitlists */
	gint64 from, to;
} Reconcile;

/* An offering gone from the configuration: its future slots are
 * withdrawn and its bookings flagged; its horizon is forgotten so that
 * if it comes back it is shaped again from scratch. */
static gboolean
withdraw_offering(Capacity *capacity, const char *offering, GArray *rebook,
		  GError **error)
{
	return store_withdraw_unseen(capacity->store, offering,
				     capacity_now(capacity), G_MAXINT64,
				     store_next_generation(capacity->store),
				     rebook, error) &&
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

/* Reshapes every changed offering over the whole horizon now, so the
 * caller learns at once which bookings need rebooking. */
static gboolean
reshape_changed(Capacity *capacity, gpointer data, GError **error)
{
	Reconcile *r = data;
	GDate first, last;

	today(capacity, &first);
	last = first;
	g_date_add_days(&last, r->new_region->daemon.horizon_days + 1);
	if (!withdraw_removed(capacity, r->new_region, r->rebook, error))
		return FALSE;
	for (guint i = 0; i < r->new_region->offerings->len; i++) {
		SlotdOffering *off = r->new_region->offerings->pdata[i];
		g_autofree char *digest = NULL;
		gint64 until = 0;
		guint count;
		JobStep step = { NULL, off, G_MAXUINT, 0, FALSE, r->rebook };
		HorizonJob *job;

		if (!off->available)
			continue;
		if (!store_get_horizon(capacity->store, off->id, &until,
				       &digest, error))
			return FALSE;
		if (g_strcmp0(digest, off->config_digest) == 0)
			continue;
		job = job_new(off, &first, &last, TRUE,
			      store_next_generation(capacity->store));
		step.job = job;
		if (!shape_range(capacity, off, &first, &last, job->generation,
				 &count, error) ||
		    !finish_job(capacity, &step, error)) {
			horizon_job_free(job);
			return FALSE;
		}
		horizon_job_free(job);
		g_ptr_array_add(r->reshaped, g_strdup(off->id));
	}
	r->from = date_start_utc(&first);
	r->to = date_start_utc(&last);
	return TRUE;
}

gboolean
capacity_set_region(Capacity *capacity, Region *region,
		    GPtrArray **ret_rebook, GError **error)
{
	g_autoptr(GArray) rebook = g_array_new(FALSE, FALSE, sizeof(gint64));
	Region *old = capacity->region;
	g_autoptr(GPtrArray) reshaped = g_ptr_array_new_with_free_func(g_free);
	Reconcile r = { old, region, rebook, reshaped, 0, 0 };

	/* Plugins' shape hooks read the new snapshot. */
	capacity->region = region_ref(region);
	if (!capacity_transaction(capacity, reshape_changed, &r, error)) {
		region_unref(capacity->region);
		capacity->region = old;
		return FALSE;
	}
	region_unref(old);
	g_queue_clear_full(&capacity->jobs, (GDestroyNotify)horizon_job_free);
	capacity->jobs_planned = FALSE;
	capacity->horizon_complete = FALSE;
	if (ret_rebook) {
		*ret_rebook = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; i < rebook->len; i++)
			g_ptr_array_add(*ret_rebook,
					capacity_booking_id(g_array_index(
						rebook, gint64, i)));
	}
	notify_rebook(capacity, rebook);
	/* New capacity goes to the waitlists first. */
	for (guint i = 0; i < reshaped->len; i++)
		capacity_note_freed(capacity, reshaped->pdata[i], r.from,
				    r.to);
	return TRUE;
}

gint64
capacity_ready_until(Capacity *capacity, const char *offering_id)
{
	if (capacity->horizon_complete)
		return G_MAXINT64;
	/* Before the first step has run: plan now, so that the answer is
	 * about the work that will be done. */
	if (!capacity->jobs_planned && !plan_jobs(capacity, NULL))
		return G_MAXINT64;
	for (GList *l = capacity->jobs.head; l; l = l->next) {
		HorizonJob *job = l->data;

		if (g_str_equal(job->offering, offering_id))
			return date_start_utc(&job->cursor);
	}
	return G_MAXINT64;
}
