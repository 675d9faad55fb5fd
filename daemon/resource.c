/* Resources of the region: practitioners, rooms and vehicles, their
 * shifts and days off, and what an offering's bookings need of them.
 * The snapshot is read-only except for the per-resource cache of which
 * shifts occur on which day, which has its own lock because workers
 * read resources too. */
#include <string.h>

#include "calendar.h"
#include "region.h"

/* Days per cache block: one RRULE expansion fills 64 days. */
#define BLOCK_DAYS 64

void
resource_need_free(ResourceNeed *need)
{
	if (need == NULL)
		return;
	g_free(need->role);
	g_free(need->organisation);
	g_free(need);
}

void
resource_free(Resource *resource)
{
	if (resource == NULL)
		return;
	g_free(resource->id);
	g_free(resource->unit);
	g_free(resource->organisation);
	g_strfreev(resource->roles);
	g_strfreev(resource->languages);
	if (resource->shifts)
		g_ptr_array_unref(resource->shifts);
	if (resource->off)
		g_array_unref(resource->off);
	g_free(resource->source_file);
	g_free(resource->group);
	if (resource->days)
		g_hash_table_unref(resource->days);
	g_mutex_clear(&resource->lock);
	g_free(resource);
}

const char *
resource_type_name(ResourceType type)
{
	switch (type) {
	case RESOURCE_PRACTITIONER:
		return "practitioner";
	case RESOURCE_ROOM:
		return "room";
	case RESOURCE_VEHICLE:
		return "vehicle";
	}
	g_assert_not_reached();
}

void
region_add_resource(Region *region, Resource *resource)
{
	g_mutex_init(&resource->lock);
	resource->days = g_hash_table_new_full(g_int64_hash, g_int64_equal,
					       g_free, g_free);
	g_ptr_array_add(region->resources, resource);
	g_hash_table_insert(region->resource_by_id, resource->id, resource);
}

Resource *
region_find_resource(const Region *region, const char *id)
{
	return id ? g_hash_table_lookup(region->resource_by_id, id) : NULL;
}

gboolean
resource_has_role(const Resource *resource, const char *role,
		  const char *organisation)
{
	if (organisation && g_strcmp0(resource->organisation, organisation))
		return FALSE;
	return g_strv_contains((const char *const *)resource->roles, role);
}

gboolean
resource_speaks(const Resource *resource, const char *language)
{
	return resource->languages &&
	       g_strv_contains((const char *const *)resource->languages,
			       language);
}

/* ---- needs ------------------------------------------------------------ */

static gboolean
parse_need(const char *item, ResourceNeed **ret_need, char **ret_problem)
{
	g_autofree char *text = g_strstrip(g_strdup(item));
	char *at = strchr(text, '@');
	char *star;
	char *slash;
	guint64 count = 1;
	gboolean session = FALSE;
	ResourceNeed *need;

	if (at) {
		if (!g_str_equal(at, "@session")) {
			*ret_problem = g_strdup_printf(
				"\"%s\": the only suffix is @session (shared "
				"by the bookings of one slot)", item);
			return FALSE;
		}
		*at = '\0';
		session = TRUE;
	}
	star = strchr(text, '*');

	if (star) {
		char *end = NULL;

		*star = '\0';
		count = g_ascii_strtoull(star + 1, &end, 10);
		if (!end || *end || count < 1 || count > 10) {
			*ret_problem = g_strdup_printf(
				"\"%s\": the count after * is 1 to 10", item);
			return FALSE;
		}
	}
	slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	if (!*text || strspn(text, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
			      strlen(text) ||
	    (slash && !slash[1])) {
		*ret_problem = g_strdup_printf(
			"\"%s\" is not ROLE, ROLE/ORGANISATION or ROLE*N "
			"(lower-case letters, digits and -)", item);
		return FALSE;
	}
	need = g_new0(ResourceNeed, 1);
	need->role = g_strdup(text);
	need->organisation = slash ? g_strdup(slash + 1) : NULL;
	need->count = (guint)count;
	need->session = session;
	*ret_need = need;
	return TRUE;
}

gboolean
resource_parse_needs(const char *text, GPtrArray **ret_needs,
		     char **ret_problem)
{
	g_auto(GStrv) items = g_strsplit(text, ";", -1);
	g_autoptr(GPtrArray) needs = g_ptr_array_new_with_free_func(
		(GDestroyNotify)resource_need_free);

	for (guint i = 0; items[i]; i++) {
		ResourceNeed *need;

		if (!*g_strstrip(items[i]))
			continue;
		if (!parse_need(items[i], &need, ret_problem))
			return FALSE;
		g_ptr_array_add(needs, need);
	}
	*ret_needs = g_steal_pointer(&needs);
	return TRUE;
}

GPtrArray *
offering_needs(const SlotdOffering *offering, const char *modality)
{
	GPtrArray *needs = NULL;

	if (modality && offering->modality_needs)
		needs = g_hash_table_lookup(offering->modality_needs,
					    modality);
	if (!needs)
		needs = offering->needs;
	return needs && needs->len ? needs : NULL;
}

/* ---- shifts ----------------------------------------------------------- */

static gboolean
day_off(const Resource *r, const GDate *date)
{
	for (guint i = 0; r->off && i < r->off->len; i++) {
		const DayRange *d = &g_array_index(r->off, DayRange, i);

		if (g_date_compare(date, &d->first) >= 0 &&
		    g_date_compare(date, &d->last) <= 0)
			return TRUE;
	}
	return FALSE;
}

/* A bit per day of the block: does shift `index` start that day?
 * Called with the lock held. */
static guint64
block_mask(Resource *r, guint index, guint32 block)
{
	gint64 key = ((gint64)index << 32) | block;
	guint64 *mask = g_hash_table_lookup(r->days, &key);
	g_autoptr(GArray) dates = NULL;
	const Window *w = r->shifts->pdata[index];
	GDate from, to;

	if (mask)
		return *mask;
	mask = g_new0(guint64, 1);
	dates = g_array_new(FALSE, FALSE, sizeof(GDate));
	g_date_clear(&from, 1);
	g_date_clear(&to, 1);
	g_date_set_julian(&from, MAX((guint32)block * BLOCK_DAYS, 1));
	g_date_set_julian(&to, (guint32)block * BLOCK_DAYS + BLOCK_DAYS - 1);
	if (g_date_compare(&to, &w->valid_from) >= 0 &&
	    calendar_expand_rrule(w->rrule, &w->valid_from, &from, &to, dates,
				  NULL)) {
		for (guint i = 0; i < dates->len; i++) {
			guint32 j = g_date_get_julian(
				&g_array_index(dates, GDate, i));

			*mask |= G_GUINT64_CONSTANT(1)
				 << (j - (guint32)block * BLOCK_DAYS);
		}
	}
	g_hash_table_insert(r->days, g_memdup2(&key, sizeof(key)), mask);
	return *mask;
}

static gboolean
shift_on(Resource *r, guint index, const GDate *date)
{
	const Window *w = r->shifts->pdata[index];
	guint32 julian = g_date_get_julian(date);
	guint64 mask;

	if (g_date_compare(date, &w->valid_from) < 0 ||
	    (g_date_valid(&w->valid_until) &&
	     g_date_compare(date, &w->valid_until) > 0))
		return FALSE;
	g_mutex_lock(&r->lock);
	mask = block_mask(r, index, julian / BLOCK_DAYS);
	g_mutex_unlock(&r->lock);
	return (mask >> (julian % BLOCK_DAYS)) & 1;
}

typedef struct {
	gint64 start, end;
} Span;

static gint
compare_spans(gconstpointer a, gconstpointer b)
{
	const Span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static gint64
local_minute(const GDate *date, int minute)
{
	GDate d = *date;

	if (minute >= 24 * 60) {
		g_date_add_days(&d, 1);
		minute -= 24 * 60;
	}
	return calendar_local_to_utc(g_date_get_year(&d), g_date_get_month(&d),
				     g_date_get_day(&d), minute / 60,
				     minute % 60);
}

/* The times it is on duty within [start, end), clipped to it and in
 * start order (they may overlap where shifts do). A resource without
 * shifts is on duty all day, except on its days off. */
static GArray *
duty_spans(Resource *r, gint64 start, gint64 end)
{
	GArray *spans = g_array_new(FALSE, FALSE, sizeof(Span));
	gboolean always = !r->shifts || r->shifts->len == 0;
	GDate date, last;

	if (end <= start)
		return spans;
	calendar_local_date(start, &date);
	calendar_local_date(end - 1, &last);
	/* A night shift of the day before reaches into the first day. */
	if (!always)
		g_date_subtract_days(&date, 1);
	for (; g_date_compare(&date, &last) <= 0;
	     g_date_add_days(&date, 1)) {
		if (day_off(r, &date))
			continue;
		for (guint i = 0; i < (always ? 1 : r->shifts->len); i++) {
			const Window *w = always ? NULL : r->shifts->pdata[i];
			int from = always ? 0 : w->start_minute;
			int to = always ? 24 * 60
				 : w->end_minute <= w->start_minute
					 ? w->end_minute + 24 * 60
					 : w->end_minute;
			Span s;

			if (!always && !shift_on(r, i, &date))
				continue;
			s.start = MAX(local_minute(&date, from), start);
			s.end = MIN(local_minute(&date, to), end);
			if (s.end > s.start)
				g_array_append_val(spans, s);
		}
	}
	g_array_sort(spans, compare_spans);
	return spans;
}

gboolean
resource_works(Resource *r, gint64 start, gint64 end)
{
	g_autoptr(GArray) spans = duty_spans(r, start, end);
	gint64 covered = start;

	for (guint i = 0; i < spans->len && covered < end; i++) {
		const Span *s = &g_array_index(spans, Span, i);

		if (s->start > covered)
			return FALSE;
		covered = MAX(covered, s->end);
	}
	return covered >= end;
}

gint64
resource_duty_seconds(Resource *r, gint64 start, gint64 end)
{
	g_autoptr(GArray) spans = duty_spans(r, start, end);
	gint64 total = 0, covered = start;

	for (guint i = 0; i < spans->len; i++) {
		const Span *s = &g_array_index(spans, Span, i);
		gint64 from = MAX(s->start, covered);

		if (s->end > from) {
			total += s->end - from;
			covered = s->end;
		}
	}
	return total;
}
