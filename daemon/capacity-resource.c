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
#include "validate.h"

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

gboolean
capacity_resource_absent(const GPtrArray *absences, const Resource *r,
			 gint64 start, gint64 end)
{
	for (guint i = 0; i < absences->len; i++) {
		const StoreAbsence *a = absences->pdata[i];

		if (a->start < end && a->end > start &&
		    g_str_equal(a->resource, r->id))
			return TRUE;
	}
	return FALSE;
}

gboolean
capacity_resource_present(const GPtrArray *absences, Resource *r,
			  gint64 start, gint64 end)
{
	return !capacity_resource_absent(absences, r, start, end) &&
	       resource_works(r, start, end);
}

static gint
compare_absence_start(gconstpointer a, gconstpointer b)
{
	const StoreAbsence *x = *(StoreAbsence *const *)a;
	const StoreAbsence *y = *(StoreAbsence *const *)b;

	return x->start < y->start ? -1 : x->start > y->start;
}

gint64
capacity_resource_present_seconds(const GPtrArray *absences, Resource *r,
				  gint64 start, gint64 end)
{
	g_autoptr(GPtrArray) own = g_ptr_array_new();
	gint64 seconds = resource_duty_seconds(r, start, end);
	gint64 from = start, to = start;	/* the absence being merged */

	for (guint i = 0; i < absences->len; i++) {
		const StoreAbsence *a = absences->pdata[i];

		if (a->start < end && a->end > start &&
		    g_str_equal(a->resource, r->id))
			g_ptr_array_add(own, (gpointer)a);
	}
	g_ptr_array_sort(own, compare_absence_start);
	/* Overlapping absences are merged, so that no duty is taken off
	 * twice. */
	for (guint i = 0; i <= own->len; i++) {
		const StoreAbsence *a = i < own->len ? own->pdata[i] : NULL;

		if (a && a->start <= to) {
			to = MAX(to, MIN(a->end, end));
			continue;
		}
		if (to > from)
			seconds -= resource_duty_seconds(r, from, to);
		if (a) {
			from = MAX(a->start, start);
			to = MIN(a->end, end);
		}
	}
	return MAX(seconds, 0);
}

/* ---- choosing --------------------------------------------------------- */

typedef struct {
	Capacity *capacity;
	Admission *a;
	gint64 start, end;
	GHashTable *busy;	/* interned ids of resources others take */
	GHashTable *session;	/* of this slot's other bookings: id ->
				 * seats (NULL until a session need) */
	guint seats;		/* what this booking takes of a room */
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

/* ---- what others take ------------------------------------------------ */

typedef struct {
	gint64 from, to;	/* the window read */
	GArray *uses;		/* StoreResourceBusy, in start order */
} UnitUses;

struct _ResourceBusy {
	gint64 span;
	GHashTable *units;	/* unit id -> UnitUses */
};

static void
unit_uses_free(UnitUses *u)
{
	g_array_unref(u->uses);
	g_free(u);
}

ResourceBusy *
resource_busy_new(gint64 span)
{
	ResourceBusy *busy = g_new0(ResourceBusy, 1);

	busy->span = MAX(span, 0);
	busy->units = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)unit_uses_free);
	return busy;
}

void
resource_busy_free(ResourceBusy *busy)
{
	if (busy == NULL)
		return;
	g_hash_table_unref(busy->units);
	g_free(busy);
}

/* The uses of `unit` over a window that holds [start, end). */
static const UnitUses *
unit_uses(Capacity *capacity, ResourceBusy *busy, const char *unit,
	  gint64 start, gint64 end, GError **error)
{
	UnitUses *u = g_hash_table_lookup(busy->units, unit);

	if (u && u->from <= start && end <= u->to)
		return u;
	u = g_new0(UnitUses, 1);
	u->from = start;
	u->to = MAX(end, start + busy->span);
	u->uses = g_array_new(FALSE, FALSE, sizeof(StoreResourceBusy));
	if (!store_resources_busy(capacity->store, unit, u->from, u->to,
				  u->uses, error)) {
		unit_uses_free(u);
		return NULL;
	}
	g_hash_table_replace(busy->units, g_strdup(unit), u);
	return u;
}

/* The resources of the pool's units that a live booking other than
 * the one being moved, or a hold, takes in any part of the time. */
static gboolean
read_busy(Choice *c, GError **error)
{
	const SlotdOffering *off = c->a->offering;
	const char *own[] = { off->unit->id, NULL };
	const char *const *units = off->resource_units
					   ? (const char *const *)
						     off->resource_units
					   : own;
	g_autoptr(ResourceBusy) fresh = NULL;
	ResourceBusy *busy = c->a->busy;

	if (busy == NULL)
		busy = fresh = resource_busy_new(0);
	c->busy = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (guint i = 0; units[i]; i++) {
		const UnitUses *u = unit_uses(c->capacity, busy, units[i],
					      c->start, c->end, error);
		guint lo = 0, hi;

		if (u == NULL)
			return FALSE;
		/* The first use that starts after start - 2 days: a use is
		 * at most two days long (the table's CHECK). */
		hi = u->uses->len;
		while (lo < hi) {
			guint mid = lo + (hi - lo) / 2;

			if (g_array_index(u->uses, StoreResourceBusy,
					  mid).start > c->start - 172800)
				hi = mid;
			else
				lo = mid + 1;
		}
		for (guint k = lo; k < u->uses->len; k++) {
			const StoreResourceBusy *use = &g_array_index(
				u->uses, StoreResourceBusy, k);

			if (use->start >= c->end)
				break;
			if (use->end > c->start &&
			    (use->booking == 0 || use->booking != c->a->except))
				g_hash_table_add(c->busy,
						 (gpointer)use->resource);
		}
	}
	c->absences = absences(c->capacity);
	if (c->absences)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE,
		    "the absences cannot be read; nothing was changed — try "
		    "again");
	return FALSE;
}

static gboolean
on_duty(const Choice *c, Resource *r)
{
	return capacity_resource_present(c->absences, r, c->start, c->end);
}

static gboolean
is_free(const Choice *c, Resource *r)
{
	return !g_hash_table_contains(c->busy, g_intern_string(r->id)) &&
	       on_duty(c, r);
}

/* Order of preference: the kept practitioner, then (while nobody
 * chosen speaks the client's language) those who do; within each, the
 * one with the fewest languages, so that the few who speak Swedish or
 * English stay free for the clients who need them; then the
 * configuration's order. */
static gint
preference(const Choice *c, const Resource *r)
{
	gint spoken = r->languages ? (gint)g_strv_length(r->languages) : 0;

	if (c->pin && g_str_equal(r->id, c->pin))
		return 0;
	if (c->language && !c->spoken && resource_speaks(r, c->language))
		return 100 + spoken;
	return 200 + spoken;
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

/* A session need (ROLE@session): the slot's other bookings share
 * what they took — the group's therapist, the drop-in's room — while
 * a room has places left; the first booking takes a free one. */
static gboolean
session_joinable(Choice *c, const Resource *r, gboolean *ret_joined)
{
	gpointer seats;

	*ret_joined = FALSE;
	if (!g_hash_table_lookup_extended(c->session, r->id, NULL, &seats))
		return FALSE;
	*ret_joined = TRUE;
	return r->type != RESOURCE_ROOM ||
	       GPOINTER_TO_UINT(seats) + c->seats <= r->seats;
}

static gboolean
read_session(Choice *c, GError **error)
{
	if (c->session)
		return TRUE;
	c->session = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   NULL);
	return store_slot_resources(c->capacity->store, c->a->slot->id,
				    c->a->except, c->session, error);
}

static gboolean
choose_need(Choice *c, const ResourceNeed *need, GError **error)
{
	GPtrArray *pool = c->a->offering->pool;
	g_autoptr(GPtrArray) free = g_ptr_array_new();
	g_autoptr(GPtrArray) joined = g_ptr_array_new();

	if (need->session && !read_session(c, error))
		return FALSE;
	for (guint i = 0; i < pool->len; i++) {
		Resource *r = pool->pdata[i];
		gboolean shared = FALSE;

		if (!resource_has_role(r, need->role, need->organisation) ||
		    g_ptr_array_find(c->chosen, r, NULL))
			continue;
		if (need->session && session_joinable(c, r, &shared)) {
			if (on_duty(c, r))
				g_ptr_array_add(joined, r);
		}
		else if (!shared && is_free(c, r))
			g_ptr_array_add(free, r);
	}
	/* Join the session's own first (the same therapist for the whole
	 * group), then take a free one. */
	for (guint i = joined->len; i > 0; i--)
		g_ptr_array_insert(free, 0, joined->pdata[i - 1]);
	c->free = MIN(c->free, free->len / need->count);
	if (free->len < need->count)
		return refuse_need(c, need, free->len, error);
	for (guint k = 0, left = joined->len; k < need->count; k++) {
		guint best = 0;

		if (left > 0)
			left--; /* the first joinable one */
		else
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
	g_autoptr(GPtrArray) ids = NULL;
	gboolean change = FALSE;

	c->pin = NULL;
	slotd_request_option(&a->request, "practitioner", "&s", &c->pin);
	if (c->pin || (c->pin = a->pin))
		return TRUE;
	slotd_request_option(&a->request, "allow-practitioner-change", "b",
			     &change);
	if (!a->request.series || !a->offering->keep_practitioner || change)
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
	c.seats = a->consumed ? MAX(a->cost.seats, 1) : 1;
	c.free = G_MAXUINT;
	c.chosen = g_ptr_array_new();
	ok = read_busy(&c, error) && find_pin(&c, error);
	for (guint i = 0; ok && i < needs->len; i++)
		ok = choose_need(&c, needs->pdata[i], error);
	ok = ok && check_pin(&c, error) && check_language(&c, error);
	if (c.busy)
		g_hash_table_unref(c.busy);
	if (c.session)
		g_hash_table_unref(c.session);
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

/* ---- absences entered at run time ------------------------------------- */

typedef struct {
	const Caller *caller;
	StoreAbsence absence;
	gint64 id;
	GArray *flagged;	/* bookings sent to rebooking */
} AbsenceCall;

static gboolean
do_absence(Capacity *capacity, gpointer data, GError **error)
{
	AbsenceCall *c = data;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autofree char *detail = NULL;
	gint64 now = capacity_now(capacity);

	if (!store_add_absence(capacity->store, &c->absence, &c->id, error) ||
	    !store_resource_bookings(capacity->store, c->absence.resource,
				     c->absence.start, c->absence.end, ids,
				     error))
		return FALSE;
	detail = g_strdup_printf("absence a-%" G_GINT64_FORMAT " of %s",
				 c->id, c->absence.resource);
	if (!store_audit(capacity->store, now, c->caller->uid,
			 c->caller->name, "absence", 0, detail, error))
		return FALSE;
	for (guint i = 0; i < ids->len; i++) {
		gint64 id = g_array_index(ids, gint64, i);
		gboolean changed = FALSE;

		if (!store_flag_rebooking(capacity->store, id, now, &changed,
					  error))
			return FALSE;
		if (!changed)
			continue; /* begun, or flagged already */
		if (!store_audit(capacity->store, now, c->caller->uid,
				 c->caller->name, "needs-rebooking", id,
				 detail, error))
			return FALSE;
		g_array_append_val(c->flagged, id);
	}
	return TRUE;
}

/* How far before the booking's start proposals are looked for: a
 * visit moves to a colleague's time near its own, not to the first
 * free slot after midnight. */
#define PROPOSALS_BEFORE (4 * 3600)
/* Slots each of the two searches looks at for the three proposals. */
#define PROPOSALS_LOOKED_AT 60

typedef struct {
	const FoundSlot *slot;
	gint rank;		/* same unit, then same day */
	gint days;		/* days away */
	gint apart;		/* minutes from the booking's time of day */
} Proposal;

/* Minutes since local midnight on the clock: 10:00 is 600 on a day of
 * 23 or 25 hours too. */
static gint
clock_minutes(gint64 utc)
{
	int year, month, day, hour, minute, weekday;

	calendar_utc_to_local(utc, &year, &month, &day, &hour, &minute,
			      &weekday);
	return hour * 60 + minute;
}

static void
proposal_place(Proposal *p, const StoreBooking *b)
{
	GDate day, other;

	calendar_local_date(b->start, &day);
	calendar_local_date(p->slot->start, &other);
	p->days = ABS(g_date_days_between(&day, &other));
	p->rank = (g_strcmp0(p->slot->unit, b->unit) != 0) +
		  2 * (p->days != 0);
	p->apart = ABS(clock_minutes(p->slot->start) - clock_minutes(b->start));
}

static gint
compare_proposals(gconstpointer a, gconstpointer b)
{
	const Proposal *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->days != y->days)
		return x->days < y->days ? -1 : 1;
	if (x->apart != y->apart)
		return x->apart < y->apart ? -1 : 1;
	if (x->slot->start != y->slot->start)
		return x->slot->start < y->slot->start ? -1 : 1;
	return g_strcmp0(x->slot->slot_id, y->slot->slot_id);
}

/* The booking's kept request, as far as FindSlots takes it (the
 * plugin's options, the practitioner asked for, a change of
 * practitioner allowed, the age, a late reason): Reschedule asks the
 * rule again with it, so proposals must too. */
static void
kept_find_options(Capacity *capacity, const StoreBooking *b, GVariantDict *q)
{
	const SlotdOffering *off = region_find_offering(capacity->region,
							b->offering);
	const SlotdKindOps *ops = off ? capacity_kind(capacity, off) : NULL;
	GVariantIter iter;
	const char *key;
	GVariant *value;

	if (b->extras == NULL)
		return;
	g_variant_iter_init(&iter, b->extras);
	while (g_variant_iter_loop(&iter, "{&sv}", &key, &value))
		if (capacity_find_takes(ops, key, value))
			g_variant_dict_insert_value(q, key, value);
}

/* Candidates starting in [from, to), at most PROPOSALS_LOOKED_AT,
 * asked as Reschedule would ask: appended to `order`; their slots are
 * kept in `keep`. */
static void
propose_from(Capacity *capacity, const StoreBooking *b, gint64 from,
	     gint64 to, GPtrArray *keep, GArray *order)
{
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) query = NULL;
	GVariantDict q;

	if (to <= from)
		return;
	g_variant_dict_init(&q, NULL);
	kept_find_options(capacity, b, &q);
	g_variant_dict_insert(&q, "from", "x", from);
	g_variant_dict_insert(&q, "to", "x", to);
	g_variant_dict_insert(&q, "limit", "u", PROPOSALS_LOOKED_AT);
	if (b->language)
		g_variant_dict_insert(&q, "language", "s", b->language);
	if (b->municipality)
		g_variant_dict_insert(&q, "municipality", "s",
				      b->municipality);
	if (b->modality)
		g_variant_dict_insert(&q, "modality", "s", b->modality);
	if (b->urgency)
		g_variant_dict_insert(&q, "urgency", "s", b->urgency);
	query = g_variant_ref_sink(g_variant_dict_end(&q));
	if (!capacity_find(capacity, b->service, query, &found, &error)) {
		g_debug("no proposals for b-%" G_GINT64_FORMAT ": %s", b->id,
			error->message);
		return;
	}
	for (guint i = 0; i < found->len; i++) {
		Proposal p = { found->pdata[i], 0, 0, 0 };

		if (p.slot->bookable_from)
			continue; /* not bookable yet */
		proposal_place(&p, b);
		g_array_append_val(order, p);
	}
	g_ptr_array_add(keep, g_steal_pointer(&found));
}

/* Up to three slots the booking could move to, as Reschedule would
 * see them: the same request (a visit asked of one practitioner stays
 * hers); the same unit, then the same day, then the nearest day first,
 * and of those the nearest to the booking's own time of day. Two
 * searches, so that many units' slots before the visit's time cannot
 * crowd out those at and after it: the hours before it, and from it on
 * for a week. Nothing is moved. */
static GVariant *
proposals(Capacity *capacity, const StoreBooking *b)
{
	g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_ptr_array_unref);
	g_autoptr(GArray) order = g_array_new(FALSE, FALSE, sizeof(Proposal));
	GVariantBuilder rows;
	gint64 now = capacity_now(capacity);
	gint64 at = MAX(now, b->start);
	gint64 before = MAX(now, MAX(calendar_local_day_start(b->start),
				     b->start - PROPOSALS_BEFORE));

	g_variant_builder_init(&rows, G_VARIANT_TYPE("aa{sv}"));
	propose_from(capacity, b, before, at, keep, order);
	propose_from(capacity, b, at, at + 7 * 86400, keep, order);
	g_array_sort(order, compare_proposals);
	for (guint i = 0; i < order->len && i < 3; i++) {
		const FoundSlot *f = g_array_index(order, Proposal, i).slot;
		GVariantDict d;

		g_variant_dict_init(&d, NULL);
		g_variant_dict_insert(&d, "slot", "s", f->slot_id);
		g_variant_dict_insert(&d, "unit", "s", f->unit);
		g_variant_dict_insert(&d, "start", "x", f->start);
		g_variant_dict_insert(&d, "end", "x", f->end);
		if (f->practitioner)
			g_variant_dict_insert(&d, "practitioner", "s",
					      f->practitioner);
		g_variant_builder_add_value(&rows, g_variant_dict_end(&d));
	}
	return g_variant_builder_end(&rows);
}

static GVariant *
affected_row(Capacity *capacity, gint64 id)
{
	g_autoptr(StoreBooking) b = NULL;
	g_autofree char *bid = capacity_booking_id(id);
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "booking", "s", bid);
	if (store_get_booking(capacity->store, id, &b, NULL)) {
		g_variant_dict_insert(&d, "unit", "s", b->unit);
		g_variant_dict_insert(&d, "service", "s", b->service);
		g_variant_dict_insert(&d, "start", "x", b->start);
		g_variant_dict_insert(&d, "end", "x", b->end);
		if (b->language)
			g_variant_dict_insert(&d, "language", "s",
					      b->language);
		g_variant_dict_insert_value(&d, "alternatives",
					    proposals(capacity, b));
	}
	return g_variant_dict_end(&d);
}

gboolean
capacity_mark_absent(Capacity *capacity, const Caller *caller,
		     const char *resource, gint64 start, gint64 end,
		     const char *reason, char **ret_absence_id,
		     GVariant **ret_affected, GError **error)
{
	const Resource *r = region_find_resource(capacity->region, resource);
	g_autoptr(GArray) flagged = g_array_new(FALSE, FALSE, sizeof(gint64));
	AbsenceCall c = { caller, { 0 }, 0, flagged };
	GVariantBuilder rows;

	if (!r) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "'%s' is not one of the region's practitioners, "
			    "rooms or vehicles; see slotctl resources",
			    resource);
		return FALSE;
	}
	if (end <= start || end - start > 366 * 86400 ||
	    end <= capacity_now(capacity)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "an absence ends after it starts, is at most 366 "
			    "days long and has not ended yet");
		return FALSE;
	}
	if (!validate_text(reason, "reason", 200, error) ||
	    !validate_no_identity_code(reason, "reason", error))
		return FALSE;
	c.absence.resource = (char *)r->id;
	c.absence.start = start;
	c.absence.end = end;
	c.absence.reason = (char *)reason;
	c.absence.created = capacity_now(capacity);
	c.absence.created_by = caller->uid;
	if (!capacity_transaction(capacity, do_absence, &c, error))
		return FALSE;
	/* The next admission reads the absences again, this one too. */
	capacity_forget_absences(capacity);
	g_variant_builder_init(&rows, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < flagged->len; i++) {
		gint64 id = g_array_index(flagged, gint64, i);
		g_autoptr(StoreBooking) b = NULL;

		g_variant_builder_add_value(&rows, affected_row(capacity, id));
		if (store_get_booking(capacity->store, id, &b, NULL))
			capacity_notify_booking(capacity, b);
	}
	*ret_absence_id = g_strdup_printf("a-%" G_GINT64_FORMAT, c.id);
	*ret_affected = g_variant_ref_sink(g_variant_builder_end(&rows));
	return TRUE;
}

static GVariant *
resource_row(const Resource *r, GPtrArray *absent)
{
	GVariantDict d;
	GVariantBuilder spans;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "id", "s", r->id);
	g_variant_dict_insert(&d, "type", "s", resource_type_name(r->type));
	g_variant_dict_insert(&d, "unit", "s", r->unit);
	g_variant_dict_insert(&d, "organisation", "s", r->organisation);
	g_variant_dict_insert_value(&d, "roles", g_variant_new_strv(
		(const char *const *)r->roles, -1));
	if (r->languages)
		g_variant_dict_insert_value(&d, "languages", g_variant_new_strv(
			(const char *const *)r->languages, -1));
	if (r->type == RESOURCE_ROOM)
		g_variant_dict_insert(&d, "seats", "u", r->seats);
	g_variant_builder_init(&spans, G_VARIANT_TYPE("a(xxs)"));
	for (guint i = 0; absent && i < absent->len; i++) {
		const StoreAbsence *a = absent->pdata[i];

		if (g_str_equal(a->resource, r->id))
			g_variant_builder_add(&spans, "(xxs)", a->start, a->end,
					      a->reason);
	}
	g_variant_dict_insert_value(&d, "absences",
				    g_variant_builder_end(&spans));
	return g_variant_dict_end(&d);
}

GVariant *
capacity_list_resources(Capacity *capacity, const char *unit)
{
	GPtrArray *all = capacity->region->resources;
	GPtrArray *absent = absences(capacity);
	GVariantBuilder rows;

	g_variant_builder_init(&rows, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < all->len; i++) {
		const Resource *r = all->pdata[i];

		if (unit && *unit && g_strcmp0(r->unit, unit) != 0)
			continue;
		g_variant_builder_add_value(&rows, resource_row(r, absent));
	}
	return g_variant_ref_sink(g_variant_builder_end(&rows));
}

/* ---- bookings from before the offering was made of resources ---------- */

typedef struct {
	guint assigned;
	guint left;
} Backfill;

/* Bookings that asked for one practitioner go first (`pinned`), so
 * that one that would take anybody does not take her first. */
static gboolean
assign_one(Capacity *capacity, const SlotdOffering *off, gint64 id,
	   gboolean pinned, Backfill *f, GError **error)
{
	g_autoptr(StoreBooking) b = NULL;
	g_auto(StoreSlot) slot = { 0 };
	Admission a = { .offering = off };
	g_autoptr(GError) refusal = NULL;
	gboolean ok;

	if (!store_get_booking(capacity->store, id, &b, error))
		return FALSE;
	if (pinned != g_variant_lookup(b->extras, "practitioner", "&s", NULL))
		return TRUE; /* its turn is in the other pass */
	if (!store_get_slot(capacity->store, b->slot, &slot, error))
		return FALSE;
	a.slot = &slot;
	a.end = b->end;
	a.except = b->id;
	a.request.language = b->language;
	a.request.modality = b->modality;
	a.request.now = capacity_now(capacity);
	a.request.series = b->series;
	a.request.options = b->extras;
	a.free = G_MAXUINT;
	if (!capacity_assign_resources(capacity, &a, &refusal)) {
		/* Kept as it is: counted by seats as before, and told. */
		g_warning("b-%" G_GINT64_FORMAT " at %s takes no resources: "
			  "%s", b->id, off->id, refusal->message);
		f->left++;
		return TRUE;
	}
	ok = capacity_take_resources(capacity, &a, b->id, 0, error);
	g_clear_pointer(&a.resources, g_ptr_array_unref);
	f->assigned += ok;
	return ok;
}

static gboolean
do_backfill(Capacity *capacity, gpointer data, GError **error)
{
	Backfill *f = data;
	GPtrArray *offerings = capacity->region->offerings;

	for (guint o = 0; o < offerings->len; o++) {
		const SlotdOffering *off = offerings->pdata[o];
		g_autoptr(GArray) ids = NULL;

		if (!off->needs && g_hash_table_size(off->modality_needs) == 0)
			continue;
		ids = g_array_new(FALSE, FALSE, sizeof(gint64));
		if (!store_unassigned_bookings(capacity->store, off->id,
					       capacity_now(capacity), ids,
					       error))
			return FALSE;
		for (int pass = 0; pass < 2; pass++)
			for (guint i = 0; i < ids->len; i++)
				if (!assign_one(capacity, off,
						g_array_index(ids, gint64, i),
						pass == 0, f, error))
					return FALSE;
	}
	return TRUE;
}

gboolean
capacity_assign_unassigned(Capacity *capacity, GError **error)
{
	Backfill f = { 0, 0 };

	if (!capacity_transaction(capacity, do_backfill, &f, error))
		return FALSE;
	if (f.assigned || f.left)
		g_message("upcoming bookings made before their offering had "
			  "resources: %u now take theirs, %u could not (they "
			  "keep their seats)", f.assigned, f.left);
	return TRUE;
}
