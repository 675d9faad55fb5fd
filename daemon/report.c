/* The capacity and access report: for each unit of a service, each
 * municipality and the region, per local day or ISO week, the places
 * offered, booked and held, utilisation, bookings and no-shows, the
 * median lead time from booking to appointment, and the
 * third-next-available appointment (the usual access measure: the
 * first two free slots are often chance cancellations; the third shows
 * the real wait).
 *
 * Places are seats times slots: a home-hospital visit that takes two
 * half-hour slots books two places, so utilisation compares like with
 * like for every kind; `bookings` counts the appointments themselves.
 *
 * Municipality and region rows add up their units. Their
 * third-next-available is the third next free slot of any of their
 * units (what a client who may go to any of them waits), and their
 * median lead time is the median over all their bookings, not a median
 * of medians.
 *
 * A free slot is one with a free place that starts from now on and is
 * not withdrawn, however many seats it has left; for kinds whose
 * bookings span several slots that is a first approximation. A week
 * row counts only the days of the week inside the report's range. */
#define G_LOG_DOMAIN "slotd-report"

#include "report.h"

#include <string.h>

#include "calendar.h"

#define DAY_SECONDS 86400
#define THIRD 3

/* ---- days and the range ---------------------------------------------- */

static gint64
floor_div(gint64 a, gint64 b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static guint32
epoch_julian(void)
{
	GDate epoch;

	g_date_clear(&epoch, 1);
	g_date_set_dmy(&epoch, 1, 1, 1970);
	return g_date_get_julian(&epoch);
}

gint64
report_local_day(gint64 utc)
{
	return floor_div(utc + calendar_utc_offset(utc), DAY_SECONDS);
}

gint64
report_day_start(gint64 day)
{
	GDate date;

	g_date_clear(&date, 1);
	g_date_set_julian(&date, epoch_julian() + (guint32)day);
	return calendar_local_to_utc(g_date_get_year(&date),
				     g_date_get_month(&date),
				     g_date_get_day(&date), 0, 0);
}

void
report_row_put(GVariantBuilder *row, const char *key, GVariant *value)
{
	g_variant_builder_add_value(
		row, g_variant_new_dict_entry(g_variant_new_string(key),
					      g_variant_new_variant(value)));
}

void
report_row_text(GVariantBuilder *row, const char *key, const char *text)
{
	report_row_put(row, key, g_variant_new_string(text));
}

void
report_row_int(GVariantBuilder *row, const char *key, gint64 value)
{
	report_row_put(row, key, g_variant_new_int64(value));
}

/* The first instant in (before, after] whose UTC offset is not
 * `offset`, when `after` has another offset than `before`. */
static gint64
first_change(gint64 before, gint64 after, int offset)
{
	while (after - before > 1) {
		gint64 middle = before + (after - before) / 2;

		if (calendar_utc_offset(middle) == offset)
			before = middle;
		else
			after = middle;
	}
	return after;
}

/* The DST changes of [from, to), so SQL can tell local days apart.
 * Changes are months apart: looking once a day finds each, and
 * REPORT_MAX_DAYS holds at most three of them. */
static void
local_clock_init(StoreLocalClock *clock, gint64 from, gint64 to)
{
	int offset = calendar_utc_offset(from);

	memset(clock, 0, sizeof(*clock));
	clock->base_offset = offset;
	for (gint64 t = from; t < to - 1; t += DAY_SECONDS) {
		gint64 next = MIN(t + DAY_SECONDS, to - 1);
		int next_offset = calendar_utc_offset(next);

		if (next_offset == offset)
			continue;
		if (clock->n_steps < STORE_LOCAL_STEPS) {
			clock->step_at[clock->n_steps] =
				first_change(t, next, offset);
			clock->step_offset[clock->n_steps++] = next_offset;
		}
		offset = next_offset;
	}
}

/* ---- scope ----------------------------------------------------------- */

gboolean
report_check_range(const Region *region, gint64 from, gint64 to,
		   GError **error)
{
	guint max_days = region->daemon.report_max_days;

	if (from < 0 || to > REPORT_TIME_MAX || to <= from) {
		g_set_error_literal(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "give a range with from before to, in UTC "
				    "seconds");
		return FALSE;
	}
	if (to - from > (gint64)max_days * DAY_SECONDS) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "a report or plan covers at most %u days "
			    "(report-max-days); ask for a narrower window",
			    max_days);
		return FALSE;
	}
	return TRUE;
}

static gboolean
resolve_filters(const Region *region, const ReportQuery *query,
		const Unit **ret_unit, const Municipality **ret_municipality,
		GError **error)
{
	*ret_unit = NULL;
	*ret_municipality = NULL;
	if (query->unit != NULL &&
	    (*ret_unit = region_find_unit(region, query->unit)) == NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_UNIT,
			    "no unit '%s'; see ListUnits", query->unit);
		return FALSE;
	}
	if (query->municipality != NULL &&
	    (*ret_municipality = region_find_municipality(
		     region, query->municipality)) == NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "unknown municipality '%s'; give its code or its "
			    "Finnish or Swedish name",
			    query->municipality);
		return FALSE;
	}
	return TRUE;
}

static gboolean
in_scope(const SlotdOffering *offering, const Unit *unit,
	 const Municipality *municipality)
{
	if (unit != NULL && g_strcmp0(offering->unit->id, unit->id) != 0)
		return FALSE;
	return municipality == NULL ||
	       g_strcmp0(offering->unit->municipality,
			 municipality->code) == 0;
}

gboolean
report_scope(const PlanSource *source, const ReportQuery *query,
	     GPtrArray **ret_offerings, GError **error)
{
	Region *region = source->region;
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) scope = g_ptr_array_new();
	const Municipality *municipality;
	const Unit *unit;

	if (region_find_service(region, query->service) == NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_SERVICE,
			    "no service '%s'; see ListServices",
			    query->service);
		return FALSE;
	}
	if (!report_check_range(region, query->from, query->to, error) ||
	    !resolve_filters(region, query, &unit, &municipality, error))
		return FALSE;
	all = region_service_offerings(region, query->service);
	for (guint i = 0; i < all->len; i++)
		if (in_scope(all->pdata[i], unit, municipality))
			g_ptr_array_add(scope, all->pdata[i]);
	if (scope->len == 0 && (unit != NULL || municipality != NULL)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "%s offers no %s; see ListUnits",
			    unit ? unit->id : municipality->name_fi,
			    query->service);
		return FALSE;
	}
	*ret_offerings = g_steal_pointer(&scope);
	return TRUE;
}

/* ---- the report being built ------------------------------------------ */

typedef struct {
	gint64 capacity;
	gint64 booked;
	gint64 held;
	gint64 bookings;
	gint64 noshows;
	gint64 cancelled_by_client;
	gint64 cancelled_by_provider;
	GArray *leads;		/* seconds, ascending; NULL without any */
	/* A week's days (index 0 = Monday): its worst day beside the
	 * mean. */
	gint64 day_capacity[7];
	gint64 day_booked[7];
} Cell;

typedef struct {
	const char *level;	/* "unit", "municipality", "region" */
	const char *unit;	/* unit rows only */
	const Unit *unit_ref;	/* unit rows: its titles */
	const char *municipality; /* code; not on the region's rows */
	guint n_cells;
	Cell *cells;		/* one per period */
	GArray *next_free;	/* slot starts: each unit's first three */
} Group;

/* The groups one unit's figures add up into. */
typedef struct {
	Group *groups[3];
	guint n;
} Targets;

typedef struct {
	const ReportQuery *query;
	Store *store;
	gint64 now;
	StoreLocalClock clock;
	gint64 first_period;	/* a local day, or an ISO week number */
	guint n_periods;
	gint64 *period_starts;	/* n_periods + 1 instants */
	GPtrArray *groups;	/* Group*, in row order */
	GHashTable *targets;	/* unit id -> Targets* */
} CapacityReport;

/* Weeks count from Monday 1969-12-29, three days before day 0. */
static gint64
period_of_day(ReportBy by, gint64 day)
{
	return by == REPORT_BY_WEEK ? floor_div(day + 3, 7) : day;
}

static gint64
first_day_of_period(ReportBy by, gint64 period)
{
	return by == REPORT_BY_WEEK ? period * 7 - 3 : period;
}

static gboolean
period_index(const CapacityReport *r, gint64 day, guint *ret_index)
{
	gint64 index = period_of_day(r->query->by, day) - r->first_period;

	if (index < 0 || index >= r->n_periods)
		return FALSE;
	*ret_index = (guint)index;
	return TRUE;
}

static Group *
group_new(const CapacityReport *r, const char *level, const char *unit,
	  const char *municipality)
{
	Group *group = g_new0(Group, 1);

	group->level = level;
	group->unit = unit;
	group->municipality = municipality;
	group->n_cells = r->n_periods;
	group->cells = g_new0(Cell, r->n_periods);
	group->next_free = g_array_new(FALSE, FALSE, sizeof(gint64));
	return group;
}

static void
group_free(gpointer data)
{
	Group *group = data;

	for (guint i = 0; i < group->n_cells; i++)
		if (group->cells[i].leads != NULL)
			g_array_unref(group->cells[i].leads);
	g_free(group->cells);
	g_array_unref(group->next_free);
	g_free(group);
}

static void
report_init(CapacityReport *r, const PlanSource *source,
	    const ReportQuery *query)
{
	ReportBy by = query->by;
	gint64 first_day = report_local_day(query->from);
	gint64 last_day = report_local_day(query->to - 1);

	r->query = query;
	r->store = source->store;
	r->now = source->now;
	local_clock_init(&r->clock, query->from, query->to);
	r->first_period = period_of_day(by, first_day);
	r->n_periods = (guint)(period_of_day(by, last_day) - r->first_period +
			       1);
	r->period_starts = g_new(gint64, r->n_periods + 1);
	for (guint i = 0; i <= r->n_periods; i++)
		r->period_starts[i] = report_day_start(
			first_day_of_period(by, r->first_period + i));
	r->groups = g_ptr_array_new_with_free_func(group_free);
	r->targets = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					   g_free);
}

static void
report_clear(CapacityReport *r)
{
	g_free(r->period_starts);
	g_ptr_array_unref(r->groups);
	g_hash_table_unref(r->targets);
}

/* Unit groups in configuration order, then municipalities in the
 * order their first unit came, then the region. */
static void
build_groups(CapacityReport *r, GPtrArray *offerings)
{
	gboolean municipalities = r->query->unit == NULL;
	gboolean whole_region = municipalities &&
				r->query->municipality == NULL;
	g_autoptr(GHashTable) by_code = g_hash_table_new(g_str_hash,
							 g_str_equal);
	g_autoptr(GPtrArray) later = g_ptr_array_new();
	Group *region = NULL;

	if (whole_region)
		region = group_new(r, "region", NULL, NULL);
	for (guint i = 0; i < offerings->len; i++) {
		const Unit *unit = ((SlotdOffering *)offerings->pdata[i])->unit;
		Targets *t = g_new0(Targets, 1);
		Group *group = group_new(r, "unit", unit->id,
					 unit->municipality);

		group->unit_ref = unit;
		g_ptr_array_add(r->groups, group);
		t->groups[t->n++] = group;
		if (municipalities) {
			group = g_hash_table_lookup(by_code,
						    unit->municipality);
			if (group == NULL) {
				group = group_new(r, "municipality", NULL,
						  unit->municipality);
				g_hash_table_insert(by_code,
						    unit->municipality, group);
				g_ptr_array_add(later, group);
			}
			t->groups[t->n++] = group;
		}
		if (region != NULL)
			t->groups[t->n++] = region;
		g_hash_table_replace(r->targets, unit->id, t);
	}
	for (guint i = 0; i < later->len; i++)
		g_ptr_array_add(r->groups, later->pdata[i]);
	if (region != NULL)
		g_ptr_array_add(r->groups, region);
}

/* ---- gathering --------------------------------------------------------- */

static gboolean
add_slot_days(CapacityReport *r, const SlotdOffering *offering,
	      GError **error)
{
	g_autoptr(GArray) days = g_array_new(FALSE, FALSE,
					     sizeof(StoreSlotDay));
	const Targets *t = g_hash_table_lookup(r->targets, offering->unit->id);

	if (!store_plan_slot_days(r->store, offering->id, r->query->from,
				  r->query->to, &r->clock, days, error))
		return FALSE;
	for (guint i = 0; i < days->len; i++) {
		const StoreSlotDay *day = &g_array_index(days, StoreSlotDay, i);
		guint p;

		if (!period_index(r, day->day, &p))
			continue;
		for (guint k = 0; k < t->n; k++) {
			Cell *cell = &t->groups[k]->cells[p];
			gint64 weekday = day->day - first_day_of_period(
				REPORT_BY_WEEK, period_of_day(REPORT_BY_WEEK,
							      day->day));

			cell->capacity += day->capacity;
			cell->booked += day->booked;
			cell->held += day->held;
			cell->day_capacity[weekday] += day->capacity;
			cell->day_booked[weekday] += day->booked;
		}
	}
	return TRUE;
}

static gboolean
add_next_free(CapacityReport *r, const SlotdOffering *offering,
	      GError **error)
{
	g_autoptr(GArray) starts = g_array_new(FALSE, FALSE, sizeof(gint64));
	const Targets *t = g_hash_table_lookup(r->targets, offering->unit->id);

	if (!store_plan_next_free(r->store, offering->id, r->now, THIRD,
				  starts, error))
		return FALSE;
	for (guint k = 0; k < t->n; k++)
		g_array_append_vals(t->groups[k]->next_free, starts->data,
				    starts->len);
	return TRUE;
}

/* Bookings of units no longer configured for the service are left out
 * of every level, so that the levels add up. */
static void
on_booking_day(const char *unit, gint64 day, const StoreBookingDay *d,
	       gpointer user_data)
{
	CapacityReport *r = user_data;
	const Targets *t = g_hash_table_lookup(r->targets, unit);
	guint p;

	if (t == NULL || !period_index(r, day, &p))
		return;
	for (guint k = 0; k < t->n; k++) {
		Cell *c = &t->groups[k]->cells[p];

		c->bookings += d->bookings;
		c->noshows += d->noshows;
		c->cancelled_by_client += d->cancelled_by_client;
		c->cancelled_by_provider += d->cancelled_by_provider;
	}
}

/* Lead times come shortest first, so every cell's list stays sorted. */
static void
on_lead_time(const char *unit, gint64 day, gint64 lead, gpointer user_data)
{
	CapacityReport *r = user_data;
	const Targets *t = g_hash_table_lookup(r->targets, unit);
	guint p;

	if (t == NULL || !period_index(r, day, &p))
		return;
	for (guint k = 0; k < t->n; k++) {
		Cell *cell = &t->groups[k]->cells[p];

		if (cell->leads == NULL)
			cell->leads = g_array_new(FALSE, FALSE,
						  sizeof(gint64));
		g_array_append_val(cell->leads, lead);
	}
}

static gboolean
check_size(const CapacityReport *r, GError **error)
{
	if ((gint64)r->groups->len * r->n_periods <= REPORT_MAX_ROWS)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "the report would have %u rows, more than %d; ask by "
		    "week, for one unit or municipality, or for a narrower "
		    "window",
		    r->groups->len * r->n_periods, REPORT_MAX_ROWS);
	return FALSE;
}

static gboolean
gather(CapacityReport *r, GPtrArray *offerings, GError **error)
{
	const ReportQuery *q = r->query;

	for (guint i = 0; i < offerings->len; i++)
		if (!add_slot_days(r, offerings->pdata[i], error) ||
		    !add_next_free(r, offerings->pdata[i], error))
			return FALSE;
	return store_plan_booking_days(r->store, q->service, q->from, q->to,
				       &r->clock, on_booking_day, r, error) &&
	       store_plan_lead_times(r->store, q->service, q->from, q->to,
				     &r->clock, on_lead_time, r, error);
}

/* ---- rows -------------------------------------------------------------- */

static gint
compare_instants(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

	return x < y ? -1 : x > y;
}

static gint64
third_next_available(Group *group, gint64 now)
{
	if (group->next_free->len < THIRD)
		return -1;
	g_array_sort(group->next_free, compare_instants);
	return g_array_index(group->next_free, gint64, THIRD - 1) - now;
}

static gint64
median(const GArray *sorted)
{
	gint64 low, high;

	if (sorted == NULL || sorted->len == 0)
		return -1;
	low = g_array_index(sorted, gint64, (sorted->len - 1) / 2);
	high = g_array_index(sorted, gint64, sorted->len / 2);
	return low + (high - low) / 2;
}

/* The public holidays in [start, end), by name ("; " between two), so
 * that clients need not know the rules; NULL when there are none. */
static char *
period_holidays(gint64 start, gint64 end)
{
	GString *names = NULL;

	for (gint64 day = calendar_local_day_start(start); day < end;) {
		GDate date;
		const char *name;

		calendar_local_date(day, &date);
		name = calendar_holiday_name(&date);
		if (name != NULL && day >= start) {
			if (names == NULL)
				names = g_string_new(name);
			else
				g_string_append_printf(names, "; %s", name);
		}
		g_date_add_days(&date, 1);
		day = calendar_local_to_utc(g_date_get_year(&date),
					    g_date_get_month(&date),
					    g_date_get_day(&date), 0, 0);
	}
	return names ? g_string_free(names, FALSE) : NULL;
}

/* The week's day with the highest utilisation, beside the mean: a
 * full Monday hides in a quiet week's average. */
static void
put_worst_day(const CapacityReport *r, const Cell *c, guint p,
	      GVariantBuilder *row)
{
	double worst = -1;
	gint best = -1;

	for (gint d = 0; d < 7; d++) {
		double u;

		if (c->day_capacity[d] <= 0)
			continue;
		u = (double)c->day_booked[d] / c->day_capacity[d];
		if (u > worst) {
			worst = u;
			best = d;
		}
	}
	if (best < 0)
		return;
	report_row_int(row, "worst-day",
		       report_day_start(first_day_of_period(
			       REPORT_BY_WEEK, r->first_period + p) + best));
	report_row_put(row, "worst-day-utilisation",
		       g_variant_new_double(worst));
}

static GVariant *
cell_row(const CapacityReport *r, const Group *group, guint p, gint64 tna)
{
	const Cell *c = &group->cells[p];
	GVariantBuilder row;

	g_variant_builder_init(&row, G_VARIANT_TYPE_VARDICT);
	report_row_text(&row, "level", group->level);
	if (group->unit != NULL)
		report_row_text(&row, "unit", group->unit);
	if (group->unit_ref != NULL) {
		report_row_text(&row, "title-fi", group->unit_ref->title_fi);
		report_row_text(&row, "title-sv", group->unit_ref->title_sv);
	}
	if (group->municipality != NULL)
		report_row_text(&row, "municipality", group->municipality);
	report_row_int(&row, "period-start", r->period_starts[p]);
	report_row_int(&row, "period-end", r->period_starts[p + 1]);
	{
		g_autofree char *holiday = period_holidays(
			r->period_starts[p], r->period_starts[p + 1]);

		if (holiday != NULL)
			report_row_text(&row, "holiday", holiday);
	}
	report_row_int(&row, "capacity", c->capacity);
	report_row_int(&row, "booked", c->booked);
	report_row_int(&row, "held", c->held);
	report_row_int(&row, "free", c->capacity - c->booked - c->held);
	if (c->capacity > 0)
		report_row_put(&row, "utilisation",
			       g_variant_new_double((double)c->booked /
						    c->capacity));
	if (r->query->by == REPORT_BY_WEEK)
		put_worst_day(r, c, p, &row);
	report_row_int(&row, "bookings", c->bookings);
	report_row_int(&row, "no-shows", c->noshows);
	report_row_int(&row, "cancelled-by-client", c->cancelled_by_client);
	report_row_int(&row, "cancelled-by-provider",
		       c->cancelled_by_provider);
	report_row_int(&row, "third-next-available", tna);
	report_row_int(&row, "median-lead-time", median(c->leads));
	return g_variant_ref_sink(g_variant_builder_end(&row));
}

static GPtrArray *
make_rows(CapacityReport *r)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_variant_unref);

	for (guint g = 0; g < r->groups->len; g++) {
		Group *group = r->groups->pdata[g];
		gint64 tna = third_next_available(group, r->now);

		for (guint p = 0; p < r->n_periods; p++)
			g_ptr_array_add(rows, cell_row(r, group, p, tna));
	}
	return rows;
}

gboolean
report_capacity(const PlanSource *source, const ReportQuery *query,
		GPtrArray **ret_rows, GError **error)
{
	g_autoptr(GPtrArray) offerings = NULL;
	CapacityReport r = { 0 };
	gboolean ok;

	if (!report_scope(source, query, &offerings, error))
		return FALSE;
	report_init(&r, source, query);
	build_groups(&r, offerings);
	ok = check_size(&r, error) && gather(&r, offerings, error);
	if (ok)
		*ret_rows = make_rows(&r);
	report_clear(&r);
	return ok;
}
