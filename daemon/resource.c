/* Resources of the region: practitioners, rooms and vehicles, their
 * shifts and days off, and what an offering's bookings need of them.
 * The snapshot is read-only except for the per-resource cache of its
 * duty times (per block of days, in UTC), which has its own lock
 * because workers read resources too. */
#include <string.h>

#include "calendar.h"
#include "planner-pool.h"
#include "region.h"

/* Days per cache block: one RRULE expansion per shift fills 64 days. */
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
	resource->days = g_hash_table_new_full(g_direct_hash, g_direct_equal,
					       NULL, (GDestroyNotify)g_array_unref);
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

typedef struct {
	gint64 start, end;
} Span;

static gint
compare_spans(gconstpointer a, gconstpointer b)
{
	const Span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Blocks filled by one RRULE expansion per shift when one is missing:
 * an expansion runs from the shift's first date, so its cost hardly
 * depends on how many blocks it fills. */
#define FILL_BLOCKS 3

/* Which days of blocks [first, first + FILL_BLOCKS) shift `index`
 * starts on: a bit per day, FILL_BLOCKS words. */
static void
shift_days(const Resource *r, guint index, guint32 first, guint64 *ret_masks)
{
	g_autoptr(GArray) dates = g_array_new(FALSE, FALSE, sizeof(GDate));
	const Window *w = r->shifts->pdata[index];
	GDate from, to;

	memset(ret_masks, 0, FILL_BLOCKS * sizeof(guint64));
	g_date_clear(&from, 1);
	g_date_clear(&to, 1);
	g_date_set_julian(&from, MAX(first * BLOCK_DAYS, 1));
	g_date_set_julian(&to, (first + FILL_BLOCKS) * BLOCK_DAYS - 1);
	if (g_date_compare(&to, &w->valid_from) < 0 ||
	    !calendar_expand_rrule(w->rrule, &w->valid_from, &from, &to, dates,
				   NULL))
		return;
	for (guint i = 0; i < dates->len; i++) {
		const GDate *d = &g_array_index(dates, GDate, i);
		guint32 day = g_date_get_julian(d) - first * BLOCK_DAYS;

		if (g_date_valid(&w->valid_until) &&
		    g_date_compare(d, &w->valid_until) > 0)
			continue;
		ret_masks[day / BLOCK_DAYS] |= G_GUINT64_CONSTANT(1)
					       << (day % BLOCK_DAYS);
	}
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

/* The duty of what starts on the days of `block` (a shift, or the whole
 * day of a resource without shifts, except its days off), in UTC and
 * merged: sorted, neither overlapping nor touching. A night shift of the
 * block's last day reaches into the next block, so spans of two blocks
 * may overlap; each block's own are disjoint. */
static GArray *
build_block(const Resource *r, guint32 block, const guint64 *masks)
{
	gboolean always = !r->shifts || r->shifts->len == 0;
	guint n = always ? 1 : r->shifts->len;
	GArray *spans = g_array_new(FALSE, FALSE, sizeof(Span));
	guint kept = 0;
	for (guint day = 0; day < BLOCK_DAYS; day++) {
		guint32 julian = block * BLOCK_DAYS + day;
		GDate date;

		if (julian < 1)
			continue;
		g_date_clear(&date, 1);
		g_date_set_julian(&date, julian);
		if (day_off(r, &date))
			continue;
		for (guint i = 0; i < n; i++) {
			const Window *w = always ? NULL : r->shifts->pdata[i];
			int from = always ? 0 : w->start_minute;
			int to = always ? 24 * 60
				 : w->end_minute <= w->start_minute
					 ? w->end_minute + 24 * 60
					 : w->end_minute;
			Span s;

			if (!always &&
			    !((masks[i * FILL_BLOCKS] >> day) & 1))
				continue;
			s.start = local_minute(&date, from);
			s.end = local_minute(&date, to);
			if (s.end > s.start)
				g_array_append_val(spans, s);
		}
	}
	g_array_sort(spans, compare_spans);
	for (guint i = 0; i < spans->len; i++) {
		const Span *s = &g_array_index(spans, Span, i);
		Span *last = kept ? &g_array_index(spans, Span, kept - 1)
				  : NULL;

		if (last && s->start <= last->end)
			last->end = MAX(last->end, s->end);
		else
			g_array_index(spans, Span, kept++) = *s;
	}
	g_array_set_size(spans, kept);
	return spans;
}

/* Builds the missing blocks of [first, first + FILL_BLOCKS). Called
 * with the lock held. */
static void
fill_blocks(Resource *r, guint32 first)
{
	guint n = r->shifts ? r->shifts->len : 0;
	g_autofree guint64 *masks = g_new0(guint64, MAX(n, 1) * FILL_BLOCKS);

	for (guint i = 0; i < n; i++)
		shift_days(r, i, first, masks + i * FILL_BLOCKS);
	for (guint b = 0; b < FILL_BLOCKS; b++) {
		gpointer key = GUINT_TO_POINTER(first + b + 1);

		if (!g_hash_table_contains(r->days, key))
			g_hash_table_insert(r->days, key,
					    build_block(r, first + b,
							masks + b));
	}
}

/* A block's spans: built once, then never changed while the resource
 * lives, so they are read without the lock. */
static const GArray *
block_spans(Resource *r, guint32 block)
{
	gpointer key = GUINT_TO_POINTER(block + 1);
	GArray *spans;

	g_mutex_lock(&r->lock);
	spans = g_hash_table_lookup(r->days, key);
	if (spans == NULL) {
		fill_blocks(r, block);
		spans = g_hash_table_lookup(r->days, key);
	}
	g_mutex_unlock(&r->lock);
	return spans;
}

static void
resource_warm(Resource *r, gint64 start, gint64 end)
{
	GDate date;
	guint32 first, last;

	if (end <= start)
		return;
	calendar_local_date(start, &date);
	first = (g_date_get_julian(&date) - 1) / BLOCK_DAYS;
	calendar_local_date(end - 1, &date);
	last = g_date_get_julian(&date) / BLOCK_DAYS;
	for (guint32 b = first; b <= last; b++)
		block_spans(r, b);
}

/* The first of a block's spans that ends after `t` (they end in order). */
static guint
first_ending_after(const GArray *spans, gint64 t)
{
	guint lo = 0, hi = spans->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;

		if (g_array_index(spans, Span, mid).end > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Seconds of [start, end) on duty. With `whole`, stops at the first
 * moment off duty (the answer is then less than end - start). */
static gint64
duty_within(Resource *r, gint64 start, gint64 end, gboolean whole)
{
	gint64 covered = start, total = 0;
	guint32 first, last;
	GDate date;

	if (end <= start)
		return 0;
	/* A night shift of the day before reaches into the first day. */
	calendar_local_date(start, &date);
	first = (g_date_get_julian(&date) - 1) / BLOCK_DAYS;
	calendar_local_date(end - 1, &date);
	last = g_date_get_julian(&date) / BLOCK_DAYS;
	for (guint32 b = first; b <= last && covered < end; b++) {
		const GArray *spans = block_spans(r, b);

		for (guint i = first_ending_after(spans, covered);
		     i < spans->len && covered < end; i++) {
			const Span *s = &g_array_index(spans, Span, i);

			if (s->start >= end || (whole && s->start > covered))
				return total;
			if (s->end > covered) {
				total += MIN(s->end, end) -
					 MAX(s->start, covered);
				covered = MIN(s->end, end);
			}
		}
	}
	return total;
}

gboolean
resource_works(Resource *r, gint64 start, gint64 end)
{
	return duty_within(r, start, end, TRUE) >= end - start;
}

gint64
resource_duty_seconds(Resource *r, gint64 start, gint64 end)
{
	return duty_within(r, start, end, FALSE);
}

/* ---- warming ---------------------------------------------------------- */

void
region_warm_resources(Region *region, gint64 start, gint64 end,
		      const gint *stop)
{
	for (guint i = 0; i < region->resources->len; i++) {
		if (stop && g_atomic_int_get(stop))
			return;
		resource_warm(region->resources->pdata[i], start, end);
	}
}

struct _ResourceWarming {
	Region *region;
	gint64 start, end;
	gint stop;
	GThread *thread;
};

static gpointer
warm_thread(gpointer data)
{
	ResourceWarming *w = data;

	worker_thread_give_way();
	region_warm_resources(w->region, w->start, w->end, &w->stop);
	return NULL;
}

ResourceWarming *
region_warm_resources_async(Region *region, gint64 start, gint64 end)
{
	ResourceWarming *w = g_new0(ResourceWarming, 1);

	w->region = region_ref(region);
	w->start = start;
	w->end = end;
	w->thread = g_thread_new("slotd-warm", warm_thread, w);
	return w;
}

void
resource_warming_finish(ResourceWarming *warming)
{
	if (warming == NULL)
		return;
	g_atomic_int_set(&warming->stop, 1);
	g_thread_join(warming->thread);
	region_unref(warming->region);
	g_free(warming);
}
