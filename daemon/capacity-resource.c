/* Capacity made of resources. An offering whose configuration says
 * what a booking `needs` (a nurse and a vehicle, two workers, a
 * counsellor and a room, one professional of each of three
 * organisations) admits a request only when that set is free, on duty
 * and not absent for the whole time the booking takes, travel
 * included. The choice is part of the one admission rule
 * (capacity_admit), so FindSlots, Hold, Book, BookSeries and
 * Reschedule choose alike, and the booking or hold records what it
 * took in the same transaction. */
#include "capacity-private.h"

#include <string.h>

#include "calendar.h"
#include "options.h"

/* ---- absences --------------------------------------------------------- */

void
capacity_forget_absences(Capacity *capacity)
{
	g_clear_pointer(&capacity->absences, g_ptr_array_unref);
}

static GPtrArray *
absences(Capacity *capacity)
{
	g_autoptr(GError) error = NULL;

	if (capacity->absences)
		return capacity->absences;
	capacity->absences = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_absence_free);
	if (!store_list_absences(capacity->store, 0, capacity->absences,
				 &error)) {
		/* Next time again; nothing is admitted on a guess. */
		g_warning("cannot read absences: %s", error->message);
		g_clear_pointer(&capacity->absences, g_ptr_array_unref);
		return NULL;
	}
	return capacity->absences;
}

static gboolean
absent(GPtrArray *list, const Resource *r, gint64 start, gint64 end)
{
	for (guint i = 0; i < list->len; i++) {
		const StoreAbsence *a = list->pdata[i];

		if (a->start < end && a->end > start &&
		    g_str_equal(a->resource, r->id))
			return TRUE;
	}
	return FALSE;
}

/* ---- choosing --------------------------------------------------------- */

typedef struct {
	Capacity *capacity;
	Admission *a;
	gint64 start, end;
	GHashTable *busy;	/* resource ids taken by others */
	GPtrArray *absences;
	GPtrArray *chosen;	/* Resource* */
	const char *pin;	/* practitioner to keep, or NULL */
	const char *language;	/* someone must speak it, or NULL */
	gboolean spoken;	/* a chosen practitioner speaks it */
	gboolean people;	/* a chosen resource is a practitioner */
	guint free;		/* whole sets still free */
} Choice;

static const char *
modality_of(const Admission *a)
{
	if (a->modality)
		return a->modality;
	if (a->request.modality)
		return a->request.modality;
	return a->offering->modality;
}

static gboolean
read_busy(Choice *c, GError **error)
{
	const SlotdOffering *off = c->a->offering;
	const char *own[] = { off->unit->id, NULL };
	const char *const *units = off->resource_units
					   ? (const char *const *)
						     off->resource_units
					   : own;

	c->busy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; units[i]; i++)
		if (!store_resources_busy(c->capacity->store, units[i],
					  c->start, c->end, c->a->except,
					  c->busy, error))
			return FALSE;
	c->absences = absences(c->capacity);
	if (c->absences)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE,
		    "the absences cannot be read; nothing was changed — try "
		    "again");
	return FALSE;
}

static gboolean
is_free(const Choice *c, Resource *r)
{
	return !g_hash_table_contains(c->busy, r->id) &&
	       !absent(c->absences, r, c->start, c->end) &&
	       resource_works(r, c->start, c->end);
}

/* Order of preference: the kept practitioner, then (while nobody
 * chosen speaks the client's language) those who do, then the
 * configuration's order. */
static gint
preference(const Choice *c, const Resource *r)
{
	if (c->pin && g_str_equal(r->id, c->pin))
		return 0;
	if (c->language && !c->spoken && resource_speaks(r, c->language))
		return 1;
	return 2;
}

static char *
span_text(const Choice *c)
{
	g_autofree char *from = NULL, *to = NULL;

	/* A probe's message is never shown: no time formatting. */
	if (c->a->request.probe)
		return g_strdup("");
	from = calendar_format_local(c->start);
	to = calendar_format_local(c->end);
	return g_strdup_printf(" from %s to %s", from, to + 11);
}

static gboolean
refuse_need(const Choice *c, const ResourceNeed *need, guint found,
	    GError **error)
{
	g_autofree char *span = span_text(c);

	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL,
		    "%s needs %u %s%s%s and %s free%s; find another slot",
		    c->a->offering->unit->id, need->count, need->role,
		    need->organisation ? " of " : "",
		    need->organisation ? need->organisation : "",
		    found == 0 ? "none is" : found == 1 ? "only 1 is" : "fewer are",
		    span);
	return FALSE;
}

static gboolean
choose_need(Choice *c, const ResourceNeed *need, GError **error)
{
	GPtrArray *pool = c->a->offering->pool;
	g_autoptr(GPtrArray) free = g_ptr_array_new();

	for (guint i = 0; i < pool->len; i++) {
		Resource *r = pool->pdata[i];

		if (resource_has_role(r, need->role, need->organisation) &&
		    !g_ptr_array_find(c->chosen, r, NULL) && is_free(c, r))
			g_ptr_array_add(free, r);
	}
	c->free = MIN(c->free, free->len / need->count);
	if (free->len < need->count)
		return refuse_need(c, need, free->len, error);
	for (guint k = 0; k < need->count; k++) {
		guint best = 0;

		for (guint i = 1; i < free->len; i++)
			if (preference(c, free->pdata[i]) <
			    preference(c, free->pdata[best]))
				best = i;
		Resource *r = free->pdata[best];

		g_ptr_array_add(c->chosen, r);
		g_ptr_array_remove_index(free, best);
		if (r->type == RESOURCE_PRACTITIONER) {
			c->people = TRUE;
			if (c->language && resource_speaks(r, c->language))
				c->spoken = TRUE;
		}
	}
	return TRUE;
}

/* The practitioner to keep: asked for by name, or the one the other
 * visits of the series have (unless the caller allows a change). */
static gboolean
find_pin(Choice *c, GError **error)
{
	const Admission *a = c->a;
	GVariant *options = a->request.options;
	g_autoptr(GPtrArray) ids = NULL;

	c->pin = options ? options_string(options, "practitioner", NULL)
			 : NULL;
	if (c->pin || (c->pin = a->pin))
		return TRUE;
	if (!a->request.series || !a->offering->keep_practitioner ||
	    (options && options_bool(options, "allow-practitioner-change",
				     FALSE)))
		return TRUE;
	ids = g_ptr_array_new_with_free_func(g_free);
	if (!store_series_resources(c->capacity->store, a->request.series,
				    a->except, ids, error))
		return FALSE;
	for (guint i = 0; i < ids->len; i++) {
		const Resource *r = region_find_resource(c->capacity->region,
							 ids->pdata[i]);

		if (r && r->type == RESOURCE_PRACTITIONER) {
			c->pin = r->id; /* lives as long as the region */
			break;
		}
	}
	return TRUE;
}

static gboolean
check_pin(Choice *c, GError **error)
{
	Resource *r = region_find_resource(c->capacity->region, c->pin);
	g_autofree char *span = NULL;

	if (!c->pin || g_ptr_array_find(c->chosen, r, NULL))
		return TRUE;
	if (!r || r->type != RESOURCE_PRACTITIONER ||
	    !g_ptr_array_find(c->a->offering->pool, r, NULL)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    "practitioner %s does not work at %s; find a slot "
			    "where they do, or allow a change of practitioner",
			    c->pin, c->a->offering->unit->id);
		c->a->whole_offering = TRUE;
		return FALSE;
	}
	span = span_text(c);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL,
		    "practitioner %s is not free%s; find another slot, or "
		    "allow a change of practitioner", c->pin, span);
	return FALSE;
}

static gboolean
check_language(const Choice *c, GError **error)
{
	g_autofree char *span = NULL;

	if (!c->language || !c->people || c->spoken)
		return TRUE;
	span = span_text(c);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL,
		    "nobody free at %s%s speaks '%s'; find another slot",
		    c->a->offering->unit->id, span, c->language);
	return FALSE;
}

gboolean
capacity_assign_resources(Capacity *capacity, Admission *a, GError **error)
{
	GPtrArray *needs = offering_needs(a->offering, modality_of(a));
	Choice c = { capacity, a };
	gboolean ok = TRUE;

	if (!needs)
		return TRUE;
	c.start = a->slot->start;
	c.end = MAX(admission_end(a), a->consumed ? a->run.end : a->slot->end);
	c.language = a->request.language;
	c.free = G_MAXUINT;
	c.chosen = g_ptr_array_new();
	ok = read_busy(&c, error) && find_pin(&c, error);
	for (guint i = 0; ok && i < needs->len; i++)
		ok = choose_need(&c, needs->pdata[i], error);
	ok = ok && check_pin(&c, error) && check_language(&c, error);
	if (c.busy)
		g_hash_table_unref(c.busy);
	if (!ok) {
		g_ptr_array_unref(c.chosen);
		return FALSE;
	}
	a->resources = c.chosen;
	a->resource_start = c.start;
	a->resource_end = c.end;
	a->free = MIN(a->free, MAX(c.free, 1));
	return TRUE;
}

gboolean
capacity_take_resources(Capacity *capacity, const Admission *a,
			gint64 booking, gint64 hold, GError **error)
{
	for (guint i = 0; a->resources && i < a->resources->len; i++) {
		const Resource *r = a->resources->pdata[i];
		StoreResourceUse use = { r->id, r->unit, booking, hold,
					 a->slot->id, a->resource_start,
					 a->resource_end };

		if (!store_use_resource(capacity->store, &use, error))
			return FALSE;
	}
	return TRUE;
}

const char *
admission_practitioner(const Admission *a)
{
	for (guint i = 0; a->resources && i < a->resources->len; i++) {
		const Resource *r = a->resources->pdata[i];

		if (r->type == RESOURCE_PRACTITIONER)
			return r->id;
	}
	return NULL;
}

gboolean
capacity_check_practitioner(Capacity *capacity, GVariant *options,
			    GError **error)
{
	const char *id = options ? options_string(options, "practitioner",
						  NULL)
				 : NULL;
	const Resource *r;

	if (!id)
		return TRUE;
	r = region_find_resource(capacity->region, id);
	if (r && r->type == RESOURCE_PRACTITIONER)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "practitioner '%s' is not one of the region's "
		    "practitioners; see slotctl resources", id);
	return FALSE;
}
