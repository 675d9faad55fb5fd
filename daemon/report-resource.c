/* Reports per resource (issue 13): the utilisation of practitioners,
 * rooms and vehicles, and the practitioners rostered beside a staffing
 * plan. Both run on a Planner1 worker: the region snapshot's shifts
 * (resource_works and resource_duty_seconds are thread-safe) and the
 * worker's read-only store connection, whose absences (entered at run
 * time, MarkAbsent) are left out of the duty as the admission rule
 * leaves them out (capacity_resource_present). */
#include "report.h"

#include <stdio.h>

#include "calendar.h"

/* ---- ResourceUtilisation ---------------------------------------------- */

static gboolean
resource_in_scope(const Resource *r, const char *unit, const char *type)
{
	return (unit == NULL || g_str_equal(r->unit, unit)) &&
	       (type == NULL || g_str_equal(resource_type_name(r->type), type));
}

gboolean
report_resource_utilisation(const PlanSource *source, gint64 from, gint64 to,
			    const char *unit, const char *type,
			    GPtrArray **ret_rows, GError **error)
{
	const Region *region = source->region;
	g_autoptr(GPtrArray) usage = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_variant_unref);
	g_autoptr(GHashTable) used = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_variant_unref);
	g_autoptr(GPtrArray) absences = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_absence_free);

	if (!report_check_range(region, from, to, error))
		return FALSE;
	if (unit && region_find_unit(region, unit) == NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_UNIT,
			    "there is no unit '%s'; slotctl units lists them",
			    unit);
		return FALSE;
	}
	if (!store_resource_usage(source->store, from, to, usage, error) ||
	    !store_list_absences(source->store, from, absences, error))
		return FALSE;
	for (guint i = 0; i < usage->len; i++) {
		const char *id;

		g_variant_get_child(usage->pdata[i], 0, "&s", &id);
		g_hash_table_insert(used, (gpointer)id, usage->pdata[i]);
	}
	for (guint i = 0; i < region->resources->len; i++) {
		Resource *r = region->resources->pdata[i];
		GVariant *use = g_hash_table_lookup(used, r->id);
		guint64 booked = 0, bookings = 0;
		gint64 duty;
		GVariantDict d;

		if (!resource_in_scope(r, unit, type))
			continue;
		if (use)
			g_variant_get(use, "(&stt)", NULL, &booked, &bookings);
		duty = capacity_resource_present_seconds(absences, r, from,
							 to) / 60;
		g_variant_dict_init(&d, NULL);
		g_variant_dict_insert(&d, "resource", "s", r->id);
		g_variant_dict_insert(&d, "type", "s",
				      resource_type_name(r->type));
		g_variant_dict_insert(&d, "unit", "s", r->unit);
		if (r->organisation)
			g_variant_dict_insert(&d, "organisation", "s",
					      r->organisation);
		g_variant_dict_insert(&d, "on-duty-minutes", "t",
				      (guint64)duty);
		g_variant_dict_insert(&d, "booked-minutes", "t", booked);
		/* Absent when it was not on duty: no share of nothing. */
		if (duty > 0)
			g_variant_dict_insert(&d, "share", "d",
					      (double)booked / (double)duty);
		g_variant_dict_insert(&d, "bookings", "t", bookings);
		g_ptr_array_add(rows, g_variant_ref_sink(g_variant_dict_end(&d)));
	}
	if (rows->len > REPORT_MAX_ROWS) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "the report would have %u rows, more than %d; "
			    "narrow it to a unit or a type", rows->len,
			    REPORT_MAX_ROWS);
		return FALSE;
	}
	*ret_rows = g_steal_pointer(&rows);
	return TRUE;
}

/* ---- rostered, beside a staffing plan --------------------------------- */

/* The practitioners of the pools of the service's offerings (of `unit`
 * when given), each once. */
static GPtrArray *
rota_of(const Region *region, const char *service_id, const char *unit)
{
	g_autoptr(GPtrArray) offerings =
		region_service_offerings(region, service_id);
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
	GPtrArray *people = g_ptr_array_new();

	for (guint i = 0; i < offerings->len; i++) {
		const SlotdOffering *off = offerings->pdata[i];

		if (unit && !g_str_equal(off->unit->id, unit))
			continue;
		for (guint j = 0; off->pool && j < off->pool->len; j++) {
			Resource *r = off->pool->pdata[j];

			if (r->type == RESOURCE_PRACTITIONER &&
			    g_hash_table_add(seen, r))
				g_ptr_array_add(people, r);
		}
	}
	return people;
}

static guint
on_duty(GPtrArray *people, const GPtrArray *absences, gint64 start,
	gint64 end)
{
	guint n = 0;

	for (guint i = 0; i < people->len; i++)
		n += capacity_resource_present(absences, people->pdata[i],
					       start, end);
	return n;
}

/* "07:00" -> minutes after midnight, or -1. */
static int
clock_minutes(const char *text)
{
	unsigned hours, minutes;
	char rest;

	if (sscanf(text, "%2u:%2u%c", &hours, &minutes, &rest) != 2 ||
	    hours > 23 || minutes > 59)
		return -1;
	return (int)(hours * 60 + minutes);
}

/* The fewest on duty for the whole shift on any day of [from, to):
 * the shift starts at `minute` local time and lasts `seconds`. */
static guint
fewest_on_shift(GPtrArray *people, const GPtrArray *absences, gint64 from,
		gint64 to, int minute, gint64 seconds)
{
	guint fewest = G_MAXUINT;
	GDate date;

	calendar_local_date(from, &date);
	for (;;) {
		gint64 start = calendar_local_to_utc(
			g_date_get_year(&date), g_date_get_month(&date),
			g_date_get_day(&date), minute / 60, minute % 60);

		if (start >= to)
			break;
		if (start >= from)
			fewest = MIN(fewest, on_duty(people, absences, start,
						     start + seconds));
		g_date_add_days(&date, 1);
	}
	return fewest == G_MAXUINT ? 0 : fewest;
}

/* How many of the row's practitioners are on duty at its time: an
 * hour (hour-of-week, period-start: that hour) or a daily shift
 * (shift-start, shift-hours: the fewest over the plan's days). -1 for
 * a row with no time the core understands. */
static gint64
row_rostered(GVariant *row, GPtrArray *people, const GPtrArray *absences,
	     gint64 from, gint64 to)
{
	const char *shift_start;
	gint64 start;
	double hours;
	guint32 hour;

	if (g_variant_lookup(row, "hour-of-week", "u", &hour) &&
	    g_variant_lookup(row, "period-start", "x", &start))
		return on_duty(people, absences, start, start + 3600);
	if (g_variant_lookup(row, "shift-start", "&s", &shift_start) &&
	    g_variant_lookup(row, "shift-hours", "d", &hours) && hours > 0 &&
	    clock_minutes(shift_start) >= 0)
		return fewest_on_shift(people, absences, from, to,
				       clock_minutes(shift_start),
				       (gint64)(hours * 3600));
	return -1;
}

static GVariant *
with_rostered(GVariant *row, guint32 rostered)
{
	GVariantDict d;

	g_variant_dict_init(&d, row);
	g_variant_dict_insert(&d, "rostered", "u", rostered);
	return g_variant_ref_sink(g_variant_dict_end(&d));
}

void
report_add_rostered(const Region *region, const GPtrArray *absences,
		    const char *service_id, gint64 from, gint64 to,
		    GPtrArray *rows)
{
	g_autoptr(GHashTable) rotas = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free,
		(GDestroyNotify)g_ptr_array_unref);

	for (guint i = 0; i < rows->len; i++) {
		GVariant *row = rows->pdata[i];
		const char *unit = NULL;
		GPtrArray *people;
		gint64 n;

		g_variant_lookup(row, "unit", "&s", &unit);
		people = g_hash_table_lookup(rotas, unit ? unit : "");
		if (people == NULL) {
			people = rota_of(region, service_id, unit);
			g_hash_table_insert(rotas, g_strdup(unit ? unit : ""),
					    people);
		}
		/* Offerings not made of resources have no rota. */
		if (people->len == 0)
			continue;
		n = row_rostered(row, people, absences, from, to);
		if (n < 0)
			continue;
		rows->pdata[i] = with_rostered(row, (guint32)n);
		g_variant_unref(row);
	}
}
