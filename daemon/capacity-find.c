/* FindSlots: the matching offerings' slots are walked together in start
 * order, a page at a time, and each candidate is put to the admission
 * rule (capacity_admit, in probe mode) exactly as Book would put it.
 * The walk stops as soon as `limit` slots are found, so the rule is
 * asked only about candidates that can still make the answer. */
#include "capacity-private.h"

#include <stdio.h>
#include <string.h>

#include "calendar.h"
#include "options.h"
#include "validate.h"

#define FIND_DEFAULT_DAYS 14
#define FIND_DEFAULT_LIMIT 50
#define FIND_MAX_LIMIT 2000
#define FIND_PAGE 64
/* A cursor's first page is small: most searches take one or two starts
 * of each offering. Each further page is twice the last, up to
 * FIND_PAGE. */
#define FIND_FIRST_PAGE 4
/* What a cursor reads past its current slot for the slot's run. */
#define FIND_LOOK_AHEAD 2
/* 1970 .. 2200: anything else is a caller's mistake. */
#define TIME_MIN 0
#define TIME_MAX G_GINT64_CONSTANT(7258118400)

static const SlotdOptionSpec find_keys[] = {
	{ "municipality", "s", "client's home municipality (code or name)" },
	{ "language", "s", "service language: fi, sv or en" },
	{ "modality", "s", "onsite, home, phone or video" },
	{ "from", "x", "earliest start, UTC seconds" },
	{ "to", "x", "latest start (exclusive), UTC seconds" },
	{ "limit", "u", "most slots returned" },
	{ "max-travel-minutes", "u", "farthest unit from the client's home" },
	{ "urgency", "s", "routine, urgent or immediate" },
	{ "client-ref", "s", "the client, so that rules about them apply" },
	{ "referral-time", "x", "when the referral arrived: its deadline" },
	{ "age", "u", "client's age in years, for age-banded deadlines" },
	{ "deadline-exceeded-reason", "s",
	  "offer starts past the deadline too, for this reason" },
	{ "practitioner", "s", "only slots this practitioner can take "
	  "(a staff id)" },
	{ "allow-practitioner-change", "b", "FindSeries: the visits may "
	  "have different practitioners" },
	{ "order", "s", "earliest (default) or nearest: the home "
	  "municipality's units, then by travel, then earliest" },
	{ NULL }
};

typedef struct {
	const Municipality *home;
	const char *client_ref;	/* NULL: not known */
	const char *language;
	const char *modality;
	gint64 from;
	gboolean from_given;	/* earliest start; else slots in progress */
	gint64 to;
	guint limit;
	guint max_travel;	/* 0: none */
	const char *urgency;
	GVariant *query;	/* owned */
	OptionIndex *index;	/* of query, for the rule's lookups */
	ResourceBusy *busy;	/* what others take, read once a unit */
	gint64 referral_time;
	GError *refusal;	/* first reason an offering could not serve */
	guint offered;
	guint series_index;	/* FindSeries: the visit asked about */
	guint series_length;	/* 1 for FindSlots */
	const char *pin;	/* FindSeries: the first visit's practitioner */
	gboolean nearest;	/* order=nearest */
} FindQuery;

static gboolean
spec_takes(const SlotdOptionSpec *specs, const char *key, GVariant *value)
{
	for (const SlotdOptionSpec *s = specs; s && s->name; s++)
		if (g_str_equal(s->name, key))
			return g_variant_is_of_type(value,
						    G_VARIANT_TYPE(s->type));
	return FALSE;
}

gboolean
capacity_find_takes(const SlotdKindOps *ops, const char *key,
		    GVariant *value)
{
	return spec_takes(find_keys, key, value) ||
	       (ops && spec_takes(ops->options, key, value));
}

static void
find_query_clear(FindQuery *q)
{
	g_clear_pointer(&q->index, option_index_free);
	g_clear_pointer(&q->busy, resource_busy_free);
	g_clear_pointer(&q->query, g_variant_unref);
	g_clear_error(&q->refusal);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(FindQuery, find_query_clear)

/* One matching offering's walk through its slots. */
typedef struct {
	const SlotdOffering *offering;
	gint travel;
	GArray *page;		/* StoreSlot, (start, kind) order; the last
				 * start may go on in the next page */
	guint next;
	guint want;		/* slots to ask for next time */
	/* Where the next page goes on from (store_list_slot_page). */
	gint64 after_start;
	char *after_kind;
	gboolean exhausted;
	gboolean refused;	/* the rule refused the whole offering */
} Cursor;

typedef struct {
	FoundSlot *slot;
	gint rank;		/* travel + plugin adjustment */
} Ranked;

static gboolean
check_time(gint64 t, const char *what, GError **error)
{
	if (t >= TIME_MIN && t <= TIME_MAX)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "%s is out of range; give UTC seconds since 1970", what);
	return FALSE;
}

static gboolean
parse_window(Capacity *capacity, GVariant *query, FindQuery *q,
	     GError **error)
{
	gint64 now = capacity_now(capacity);

	q->from_given = g_variant_lookup(query, "from", "x", &q->from);
	if (!q->from_given)
		q->from = now;
	if (!check_time(q->from, "from", error))
		return FALSE;
	q->to = options_int64(query, "to", q->from + FIND_DEFAULT_DAYS * 86400);
	if (!check_time(q->to, "to", error))
		return FALSE;
	if (q->to <= q->from) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "'to' must be after 'from'");
		return FALSE;
	}
	q->from = MAX(q->from, now);
	q->limit = options_uint32(query, "limit", FIND_DEFAULT_LIMIT);
	if (q->limit == 0 || q->limit > FIND_MAX_LIMIT) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "'limit' must be between 1 and %d", FIND_MAX_LIMIT);
		return FALSE;
	}
	return TRUE;
}

static gboolean
parse_order(const char *order, FindQuery *q, GError **error)
{
	q->nearest = g_str_equal(order, "nearest");
	if (q->nearest || g_str_equal(order, "earliest"))
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "'order' must be earliest or nearest, not '%s'", order);
	return FALSE;
}

static gboolean
parse_find_query(Capacity *capacity, GVariant *query,
		 const SlotdKindOps *ops, FindQuery *q, GError **error)
{
	const char *home = options_string(query, "municipality", NULL);

	memset(q, 0, sizeof(*q));
	q->query = g_variant_ref(query);
	q->index = option_index_new(query);
	if (!options_check(query, find_keys, ops->options, "query", error))
		return FALSE;
	q->referral_time = options_int64(query, "referral-time", 0);
	if (home && !(q->home = capacity_resolve_municipality(capacity, home,
							       error)))
		return FALSE;
	q->client_ref = options_string(query, "client-ref", NULL);
	if (q->client_ref &&
	    !validate_client_ref(q->client_ref,
				 ops->flags & SLOTD_KIND_ANONYMOUS_VISITS,
				 error))
		return FALSE;
	q->language = options_string(query, "language", NULL);
	if (q->language && !validate_language(q->language, error))
		return FALSE;
	q->modality = options_string(query, "modality", NULL);
	if (q->modality && !capacity_check_modality(q->modality, error))
		return FALSE;
	if (!capacity_check_practitioner(capacity, query, error))
		return FALSE;
	q->max_travel = options_uint32(query, "max-travel-minutes", 0);
	if (!parse_order(options_string(query, "order", "earliest"), q,
			 error))
		return FALSE;
	q->urgency = options_string(query, "urgency", "routine");
	if (!capacity_check_urgency(q->urgency, error) ||
	    !parse_window(capacity, query, q, error))
		return FALSE;
	/* Candidates start in the window; with a visit's length and its
	 * travel their time reaches a little past it. */
	q->busy = resource_busy_new(q->to - q->from + 2 * 86400);
	return TRUE;
}

static void
fill_request(const FindQuery *q, gint64 now, SlotdRequest *request)
{
	memset(request, 0, sizeof(*request));
	request->client_ref = q->client_ref;
	request->municipality = q->home ? q->home->code : NULL;
	request->language = q->language;
	request->modality = q->modality;
	request->urgency = q->urgency;
	request->now = now;
	request->series_index = q->series_index;
	request->series_length = MAX(q->series_length, 1);
	request->options = q->query;
	request->option_index = q->index;
	request->referral_time = q->referral_time;
	request->probe = TRUE;
}

/* The query's own filters (the caller's max-travel-minutes, and
 * language and modality to skip whole offerings early); travel too. */
static gboolean
offering_matches(Capacity *capacity, const SlotdOffering *off,
		 const FindQuery *q, gint *ret_travel)
{
	*ret_travel = -1;
	if (!off->available)
		return FALSE;
	if (q->language && !slotd_offering_has_language(off, q->language))
		return FALSE;
	if (q->modality && !capacity_offering_has_modality(off, q->modality))
		return FALSE;
	if (!q->home)
		return TRUE;
	/* The offering's own limit is the admission rule's; asked here
	 * too only to skip the offering's slots at once. */
	if (!capacity_offering_reaches(capacity, off, q->home->code,
				       ret_travel))
		return FALSE;
	if (capacity_offering_has_modality(off, "phone") ||
	    capacity_offering_has_modality(off, "video"))
		return TRUE; /* remote: distance does not limit it */
	return !q->max_travel || *ret_travel <= (gint)q->max_travel;
}

/* ---- cursors -------------------------------------------------------- */

static void
cursor_clear(Cursor *c)
{
	g_clear_pointer(&c->page, g_array_unref);
	g_clear_pointer(&c->after_kind, g_free);
}

/* Appends the cursor's next page (`want` slots) to what it holds. */
static gboolean
cursor_read(Capacity *capacity, Cursor *c, gint64 to, guint want,
	    GError **error)
{
	gboolean more = FALSE;
	guint had;

	if (c->page == NULL) {
		c->page = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
		g_array_set_clear_func(c->page,
				       (GDestroyNotify)store_slot_clear);
	}
	had = c->page->len;
	if (!store_list_slot_page(capacity->store, c->offering->id,
				  c->after_start, c->after_kind, to, want,
				  c->page, &more, error))
		return FALSE;
	c->exhausted = !more;
	if (c->page->len > had) {
		const StoreSlot *last = &g_array_index(c->page, StoreSlot,
						       c->page->len - 1);

		c->after_start = last->start;
		g_free(c->after_kind);
		c->after_kind = g_strdup(last->kind);
	}
	return TRUE;
}

static gboolean
cursor_fill(Capacity *capacity, Cursor *c, gint64 to, GError **error)
{
	if (c->exhausted || (c->page && c->next < c->page->len))
		return TRUE;
	if (c->page)
		g_array_set_size(c->page, 0);
	c->next = 0;
	c->want = c->want ? MIN(c->want * 2, FIND_PAGE) : FIND_FIRST_PAGE;
	return cursor_read(capacity, c, to, c->want, error);
}

/* Before the rule is asked about the cursor's current slot: the page
 * goes on past its start, so that the slot's run (the slots a booking
 * of it would take) is most often in the page already
 * (capacity_slot_run_listed) and needs no read of its own. A few slots
 * are enough for that, and most cursors give one or two slots to an
 * answer: the pages' growth is for the walk (cursor_fill). */
static gboolean
cursor_look_ahead(Capacity *capacity, Cursor *c, gint64 to, GError **error)
{
	const StoreSlot *last;

	if (c->exhausted)
		return TRUE;
	last = &g_array_index(c->page, StoreSlot, c->page->len - 1);
	if (last->start > g_array_index(c->page, StoreSlot, c->next).start)
		return TRUE;
	return cursor_read(capacity, c, to, FIND_LOOK_AHEAD, error);
}

static const StoreSlot *
cursor_peek(Cursor *c)
{
	if (!c->page || c->next >= c->page->len)
		return NULL;
	return &g_array_index(c->page, StoreSlot, c->next);
}

/* The earliest start any cursor has next; FALSE when all are done. */
static gboolean
next_start(Capacity *capacity, GArray *cursors, gint64 to,
	   gint64 *ret_start, GError **error)
{
	gboolean any = FALSE;

	for (guint i = 0; i < cursors->len; i++) {
		Cursor *c = &g_array_index(cursors, Cursor, i);
		const StoreSlot *s;

		if (!cursor_fill(capacity, c, to, error))
			return FALSE;
		s = cursor_peek(c);
		if (s && (!any || s->start < *ret_start)) {
			*ret_start = s->start;
			any = TRUE;
		}
	}
	if (!any)
		*ret_start = G_MAXINT64;
	return TRUE;
}

/* ---- candidates ----------------------------------------------------- */

/* Cheap reasons a slot cannot be a candidate, before the rule is asked:
 * the query's window, and a first slot without a free place (every
 * booking takes a place in the slot it starts in). A slot in progress
 * is a candidate only where capacity_admit would consider it. */
static gboolean
is_candidate(const SlotdKindOps *ops, const StoreSlot *s, const FindQuery *q,
	     gint64 now)
{
	if (s->status != SLOT_STATUS_FREE || s->end <= now ||
	    s->booked + s->held >= s->capacity)
		return FALSE;
	if (s->start >= q->from)
		return TRUE;
	return !q->from_given && capacity_may_join_started(ops, q->urgency);
}

static FoundSlot *
found_slot_new(const Cursor *c, const StoreSlot *s, const Admission *a)
{
	const SlotdOffering *off = c->offering;
	FoundSlot *f = g_new0(FoundSlot, 1);

	f->slot_id = capacity_id_text('s', s->id);
	f->unit = off->unit->id;
	f->offering = off->id;
	f->kind = g_strdup(s->kind);
	f->start = s->start;
	f->end = s->end;
	f->free = a->free;
	f->bookable_from = a->bookable_from;
	f->municipality = off->unit->municipality;
	f->travel_minutes = c->travel;
	f->languages = (const char *const *)off->languages;
	f->practitioner = g_strdup(admission_practitioner(a));
	/* What Book would store: the rule's, the asked, the usual. */
	f->modality = g_strdup(a->modality	    ? a->modality
			       : a->request.modality ? a->request.modality
						     : off->modality);
	f->modalities = (const char *const *)off->modalities;
	return f;
}

/* A refusal for the whole offering ends its walk and is kept as the
 * answer for when nothing at all can be offered. */
static void
note_refusal(FindQuery *q, Cursor *c, const Admission *a, GError *refusal)
{
	if (a->whole_offering) {
		c->refused = TRUE;
		c->exhausted = TRUE;
		c->next = c->page ? c->page->len : 0;
		if (!q->refusal) {
			q->refusal = refusal;
			return;
		}
	}
	g_error_free(refusal);
}

/* Asks the rule about one slot; appends it to `group` when offered. */
static gboolean
consider(Capacity *capacity, const SlotdKindOps *ops, Cursor *c,
	 const StoreSlot *s, FindQuery *q, GArray *group, GError **error)
{
	/* The page holds every slot of its starts but the last: the rule
	 * may take the slot's run from it instead of reading the store
	 * again. */
	Admission a = { .offering = c->offering, .ops = ops, .slot = s,
			.listed = c->page, .listed_at = c->next,
			.busy = q->busy };
	GError *refusal = NULL;
	gboolean ok;

	fill_request(q, capacity_now(capacity), &a.request);
	ok = capacity_admit(capacity, &a, NULL, &refusal);
	if (!ok && g_error_matches(refusal, SLOTD_ERROR,
				   SLOTD_ERROR_INVALID_ARGS)) {
		g_propagate_error(error, refusal);
		admission_clear(&a);
		return FALSE;
	}
	if (!ok && a.bookable_from && !a.consumed)
		a.free = s->capacity - MIN(s->capacity, s->booked + s->held);
	if (ok || a.bookable_from) {
		Ranked r = { found_slot_new(c, s, &a), MAX(c->travel, 0) };

		if (ops->rank) {
			char id[CAPACITY_ID_TEXT_MAX];
			SlotdSlotInfo info;

			capacity_slot_info(s, &info, id);
			r.rank += ops->rank(c->offering, &info, &a.request);
		}
		g_array_append_val(group, r);
		q->offered++;
		g_clear_error(&refusal);
	} else {
		note_refusal(q, c, &a, refusal);
	}
	admission_clear(&a);
	return TRUE;
}

static gint
compare_ranked(gconstpointer a, gconstpointer b)
{
	const Ranked *x = a, *y = b;

	if (x->slot->start != y->slot->start)
		return x->slot->start < y->slot->start ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->slot->unit, y->slot->unit);
}

/* Every cursor's slots that start at `start` go to `group`. */
static gboolean
take_group(Capacity *capacity, const SlotdKindOps *ops, GArray *cursors,
	   gint64 start, FindQuery *q, GArray *group, GError **error)
{
	gint64 now = capacity_now(capacity);

	for (guint i = 0; i < cursors->len; i++) {
		Cursor *c = &g_array_index(cursors, Cursor, i);
		const StoreSlot *s;

		while ((s = cursor_peek(c)) && s->start == start) {
			if (is_candidate(ops, s, q, now) &&
			    (!cursor_look_ahead(capacity, c, q->to, error) ||
			     !consider(capacity, ops, c,
				       cursor_peek(c), q, group, error)))
				return FALSE;
			if (c->exhausted && !cursor_peek(c))
				break; /* refused for the whole offering */
			c->next++;
			if (!cursor_fill(capacity, c, q->to, error))
				return FALSE;
		}
	}
	return TRUE;
}

static void
ranked_free(gpointer data)
{
	found_slot_free(((Ranked *)data)->slot);
}

static gboolean
walk(Capacity *capacity, const SlotdKindOps *ops, GArray *cursors,
     FindQuery *q, GPtrArray *ret_slots, GError **error)
{
	while (ret_slots->len < q->limit) {
		g_autoptr(GArray) group = g_array_new(FALSE, FALSE,
						      sizeof(Ranked));
		gint64 start = G_MAXINT64;

		g_array_set_clear_func(group, ranked_free);
		if (!next_start(capacity, cursors, q->to, &start, error))
			return FALSE;
		if (start == G_MAXINT64)
			break;
		if (!take_group(capacity, ops, cursors, start, q, group,
				error))
			return FALSE;
		g_array_sort(group, compare_ranked);
		for (guint i = 0; i < group->len; i++) {
			Ranked *r = &g_array_index(group, Ranked, i);

			if (ret_slots->len < q->limit)
				g_ptr_array_add(ret_slots,
						g_steal_pointer(&r->slot));
		}
	}
	return TRUE;
}

/* order=nearest: the home municipality's units first, then by travel
 * minutes; a phone or video call travels nowhere, so only the home
 * municipality counts for it. Lower is nearer. */
static gint64
travel_tier(const Cursor *c, const FindQuery *q)
{
	gboolean remote = q->modality && (g_str_equal(q->modality, "phone") ||
					  g_str_equal(q->modality, "video"));
	gboolean home = q->home && g_strcmp0(c->offering->unit->municipality,
					     q->home->code) == 0;
	gint64 travel = remote ? 0 : MAX(c->travel, 0);

	return (home ? 0 : G_GINT64_CONSTANT(1) << 32) + travel;
}

/* Earliest first over every cursor, or with order=nearest tier by
 * tier (the cursors of one tier merged by start), nearest tier first.
 * Either way the walk stops at the limit, and every candidate still
 * goes through capacity_admit(). */
static gboolean
walk_ordered(Capacity *capacity, const SlotdKindOps *ops, GArray *cursors,
	     FindQuery *q, GPtrArray *ret_slots, GError **error)
{
	g_autoptr(GArray) done = NULL;

	if (!q->nearest)
		return walk(capacity, ops, cursors, q, ret_slots, error);
	done = g_array_sized_new(FALSE, TRUE, sizeof(gboolean), cursors->len);
	g_array_set_size(done, cursors->len);
	while (ret_slots->len < q->limit) {
		g_autoptr(GArray) tier = g_array_new(FALSE, TRUE,
						     sizeof(Cursor));
		g_autoptr(GArray) members = g_array_new(FALSE, FALSE,
							sizeof(guint));
		gint64 best = G_MAXINT64;
		gboolean ok;

		for (guint i = 0; i < cursors->len; i++) {
			const Cursor *c = &g_array_index(cursors, Cursor, i);

			if (!g_array_index(done, gboolean, i))
				best = MIN(best, travel_tier(c, q));
		}
		if (best == G_MAXINT64)
			break;
		/* The tier's cursors are moved out and back, so that
		 * their refusals and pages stay theirs. */
		for (guint i = 0; i < cursors->len; i++) {
			Cursor *c = &g_array_index(cursors, Cursor, i);

			if (g_array_index(done, gboolean, i) ||
			    travel_tier(c, q) != best)
				continue;
			g_array_append_val(tier, *c);
			g_array_append_val(members, i);
			g_array_index(done, gboolean, i) = TRUE;
		}
		ok = walk(capacity, ops, tier, q, ret_slots, error);
		for (guint m = 0; m < members->len; m++)
			g_array_index(cursors, Cursor,
				      g_array_index(members, guint, m)) =
				g_array_index(tier, Cursor, m);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

/* The earliest start a slot of `off` still in progress at `t` can have:
 * no slot of the offering has been longer than slot_span says. */
static gboolean
in_progress_since(Capacity *capacity, const SlotdOffering *off, gint64 t,
		  gint64 *ret_since, GError **error)
{
	gint64 longest = 0;

	if (!store_slot_longest(capacity->store, off->id, &longest, error))
		return FALSE;
	*ret_since = t - longest;
	return TRUE;
}

/* Cursors over the matching offerings, from `from`, or from the first
 * slot that may still be in progress where one may be joined
 * (is_candidate). */
static gboolean
open_cursors(Capacity *capacity, const SlotdKindOps *ops,
	     const char *service_id, const FindQuery *q, GArray **ret_cursors,
	     GError **error)
{
	g_autoptr(GPtrArray) offerings =
		region_service_offerings(capacity->region, service_id);
	g_autoptr(GArray) cursors = g_array_new(FALSE, TRUE, sizeof(Cursor));
	gboolean running = !q->from_given &&
			   capacity_may_join_started(ops, q->urgency);

	g_array_set_clear_func(cursors, (GDestroyNotify)cursor_clear);
	for (guint i = 0; i < offerings->len; i++) {
		Cursor c = { .offering = offerings->pdata[i] };
		gint64 since = q->from;

		if (!offering_matches(capacity, c.offering, q, &c.travel))
			continue;
		if (running && !in_progress_since(capacity, c.offering,
						  q->from, &since, error))
			return FALSE;
		c.after_start = since - 1;
		g_array_append_val(cursors, c);
	}
	*ret_cursors = g_steal_pointer(&cursors);
	return TRUE;
}

/* While the horizon is still being built after a start or a reload, a
 * window reaching past what is in place gets ServiceUnavailable, not
 * "nothing free" for slots that do not exist yet. */
static gboolean
check_ready(Capacity *capacity, GArray *cursors, const FindQuery *q,
	    GError **error)
{
	for (guint i = 0; i < cursors->len; i++) {
		const SlotdOffering *off =
			g_array_index(cursors, Cursor, i).offering;
		gint64 ready = capacity_ready_until(capacity, off->id);
		g_autofree char *when = NULL;

		if (q->to <= ready)
			continue;
		when = calendar_format_local(ready);
		g_set_error(error, SLOTD_ERROR,
			    SLOTD_ERROR_SERVICE_UNAVAILABLE,
			    "the slots of %s from %s on are still being "
			    "prepared after a start or a reload; ask again in "
			    "a few seconds, or search before that time",
			    off->unit->id, when);
		return FALSE;
	}
	return TRUE;
}

static gboolean
all_refused(GArray *cursors)
{
	for (guint i = 0; i < cursors->len; i++)
		if (!g_array_index(cursors, Cursor, i).refused)
			return FALSE;
	return cursors->len > 0;
}

/* A search reads in one transaction: each of its few hundred
 * statements would otherwise take and give back the database's read
 * lock (two fcntl calls each), and every cursor sees the same
 * snapshot. Inside a transaction already open it reads in that one. */
static gboolean
find_read_begin(Capacity *capacity, gboolean *ret_own, GError **error)
{
	*ret_own = !store_in_transaction(capacity->store);
	return !*ret_own || store_read_begin(capacity->store, error);
}

static void
find_read_end(Capacity *capacity, gboolean own)
{
	if (own)
		store_read_end(capacity->store);
}

gboolean
capacity_find(Capacity *capacity, const char *service_id, GVariant *query,
	      GPtrArray **ret_slots, GError **error)
{
	const SlotdKindOps *ops = capacity_service_kind(capacity, service_id,
							error);
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GArray) cursors = NULL;
	g_auto(FindQuery) q = { 0 };
	gboolean own = FALSE;
	gboolean ok;

	/* Readiness first: before the first step of the horizon's
	 * extension it plans the extension, which may write. */
	if (!ops || !parse_find_query(capacity, query, ops, &q, error) ||
	    !open_cursors(capacity, ops, service_id, &q, &cursors, error) ||
	    !check_ready(capacity, cursors, &q, error) ||
	    !find_read_begin(capacity, &own, error))
		return FALSE;
	found = g_ptr_array_new_with_free_func(
		(GDestroyNotify)found_slot_free);
	ok = walk_ordered(capacity, ops, cursors, &q, found, error);
	find_read_end(capacity, own);
	if (ok && q.offered == 0 && q.refusal && all_refused(cursors)) {
		/* Nothing could serve this client at all: say why. */
		g_propagate_error(error, g_steal_pointer(&q.refusal));
		ok = FALSE;
	}
	g_clear_error(&q.refusal);
	if (ok)
		*ret_slots = g_steal_pointer(&found);
	return ok;
}

/* ---- the earliest start, for a plugin's refusal message ------------- */

static gboolean
earliest_at(Capacity *capacity, const SlotdKindOps *ops,
	    const SlotdOffering *off, const SlotdRequest *request,
	    gint64 until, gint64 *ret_start)
{
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;
	gint64 since = 0;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	if (!in_progress_since(capacity, off, request->now, &since, &error) ||
	    !store_list_slots(capacity->store, off->id, since,
			      MIN(until, *ret_start), slots, &error))
		return FALSE;
	for (guint i = 0; i < slots->len; i++) {
		const StoreSlot *s = &g_array_index(slots, StoreSlot, i);
		Admission a = { .offering = off, .ops = ops, .slot = s,
				.request = *request };
		gboolean ok;

		if (s->end <= request->now ||
		    s->booked + s->held >= s->capacity)
			continue;
		a.request.probe = TRUE;
		a.request.searching = TRUE;
		ok = capacity_admit(capacity, &a, NULL, NULL);
		admission_clear(&a);
		if (ok) {
			*ret_start = s->start;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
capacity_find_earliest(Capacity *capacity, const SlotdOffering *offering,
		       const SlotdRequest *request, gint64 until,
		       const SlotdOffering **ret_offering, gint64 *ret_start)
{
	g_autoptr(GPtrArray) siblings =
		region_service_offerings(capacity->region,
					 offering->service->id);
	gint64 best = G_MAXINT64;
	const SlotdOffering *where = NULL;

	/* This offering first, so that it wins a tie. */
	g_ptr_array_remove(siblings, (gpointer)offering);
	g_ptr_array_insert(siblings, 0, (gpointer)offering);
	for (guint i = 0; i < siblings->len; i++) {
		const SlotdOffering *off = siblings->pdata[i];
		const SlotdKindOps *ops = capacity_kind(capacity, off);

		if (ops && earliest_at(capacity, ops, off, request, until,
				       &best))
			where = off;
	}
	if (!where)
		return FALSE;
	*ret_offering = where;
	*ret_start = best;
	return TRUE;
}

/* ---- FindSeries: whole episodes or courses at one unit --------------- */

static const SlotdOptionSpec pattern_keys[] = {
	{ "every", "s", "interval: 8h, 12h, 24h, Nh, Nd or weekly" },
	{ "count", "u", "visits or sessions in the series (2-52)" },
	{ "tolerance-minutes", "u", "how far a visit may be from its time" },
	{ "limit", "u", "most candidate series returned (1-20, default 5)" },
	{ "holiday-shift", "b", "weekly: a visit whose day is a public "
	  "holiday moves to another day of the same week (default true)" },
	{ NULL }
};

typedef struct {
	gint64 interval;	/* seconds; 0 with weekly */
	gboolean weekly;	/* same local time a week later */
	guint count;
	gint64 tolerance;	/* seconds */
	guint limit;
	gboolean holiday_shift;	/* weekly: move off a holiday in its week */
} Pattern;

static gboolean
pattern_error(GError **error, const char *message)
{
	g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    message);
	return FALSE;
}

static gboolean
parse_every(const char *every, Pattern *p, GError **error)
{
	char *end = NULL;
	guint64 n;

	p->weekly = g_strcmp0(every, "weekly") == 0;
	if (p->weekly)
		return TRUE;
	n = every ? g_ascii_strtoull(every, &end, 10) : 0;
	if (n > 0 && n <= 366 && end && (g_str_equal(end, "h") ||
					 g_str_equal(end, "d"))) {
		p->interval = (gint64)n * (end[0] == 'h' ? 3600 : 86400);
		return TRUE;
	}
	return pattern_error(error, "'every' is 8h, 12h, 24h, Nh, Nd or "
				    "weekly");
}

static gboolean
parse_pattern(GVariant *pattern, Pattern *p, GError **error)
{
	if (!options_check(pattern, pattern_keys, NULL, "pattern", error) ||
	    !parse_every(options_string(pattern, "every", NULL), p, error))
		return FALSE;
	p->count = options_uint32(pattern, "count", 0);
	if (p->count < 2 || p->count > 52)
		return pattern_error(error, "'count' must be 2 to 52");
	p->tolerance = (gint64)options_uint32(pattern, "tolerance-minutes",
					      p->weekly ? 120 : 0) * 60;
	if (p->tolerance > 24 * 3600)
		return pattern_error(error, "'tolerance-minutes' is at most "
					    "1440");
	p->limit = options_uint32(pattern, "limit", 5);
	if (p->limit < 1 || p->limit > 20)
		return pattern_error(error, "'limit' must be 1 to 20");
	p->holiday_shift = options_bool(pattern, "holiday-shift", p->weekly);
	if (p->holiday_shift && !p->weekly)
		return pattern_error(error, "'holiday-shift' is for "
					    "every=weekly only");
	return TRUE;
}

/* When visit i should start: real time, or the same local time i weeks
 * on (so a weekly course keeps its hour across a clock change). */
static gint64
visit_time(const Pattern *p, gint64 first, guint i)
{
	g_autofree char *text = NULL;
	int year, month, day, hour, minute;
	GDate date;

	if (!p->weekly)
		return first + (gint64)i * p->interval;
	text = calendar_format_local(first);
	sscanf(text, "%d-%d-%d %d:%d", &year, &month, &day, &hour, &minute);
	g_date_clear(&date, 1);
	g_date_set_dmy(&date, day, month, year);
	g_date_add_days(&date, 7 * i);
	return calendar_local_to_utc(g_date_get_year(&date),
				     g_date_get_month(&date),
				     g_date_get_day(&date), hour, minute);
}

/* The admitted slot of `off` nearest `target` within the tolerance. */
static gboolean
nearest_visit(Capacity *capacity, const SlotdKindOps *ops,
	      const SlotdOffering *off, FindQuery *q, gint64 target,
	      gint64 tolerance, StoreSlot *ret_slot)
{
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	gint64 best = G_MAXINT64;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	if (!store_list_slots(capacity->store, off->id, target - tolerance,
			      target + tolerance + 1, slots, NULL))
		return FALSE;
	for (guint i = 0; i < slots->len; i++) {
		StoreSlot *s = &g_array_index(slots, StoreSlot, i);
		Admission a = { .offering = off, .ops = ops, .slot = s,
				.pin = q->pin, .busy = q->busy };
		gint64 distance = ABS(s->start - target);
		gboolean ok;

		if (distance >= best)
			continue;
		fill_request(q, capacity_now(capacity), &a.request);
		ok = capacity_admit(capacity, &a, NULL, NULL);
		admission_clear(&a);
		if (!ok)
			continue;
		best = distance;
		store_slot_clear(ret_slot);
		*ret_slot = *s;
		ret_slot->offering = g_strdup(s->offering);
		ret_slot->kind = g_strdup(s->kind);
	}
	return best != G_MAXINT64;
}

/* A weekly visit whose day is a public holiday (or Midsummer or
 * Christmas Eve) is looked for on the other days of the same ISO week
 * at the same local time, the nearest days first, within the
 * tolerance; the weeks after keep their own day. */
static gboolean
holiday_visit(Capacity *capacity, const SlotdKindOps *ops,
	      const SlotdOffering *off, FindQuery *q, const Pattern *p,
	      gint64 target, StoreSlot *ret_slot)
{
	g_autofree char *text = calendar_format_local(target);
	int year, month, day, hour, minute;
	GDate date;
	guint weekday;

	if (!p->holiday_shift)
		return FALSE;
	calendar_local_date(target, &date);
	if (!calendar_is_non_working_eve(&date))
		return FALSE;
	sscanf(text, "%d-%d-%d %d:%d", &year, &month, &day, &hour, &minute);
	weekday = g_date_get_weekday(&date); /* 1 Monday .. 7 Sunday */
	for (guint away = 1; away < 7; away++) {
		for (int sign = -1; sign <= 1; sign += 2) {
			int moved = (int)weekday + sign * (int)away;
			GDate other = date;

			if (moved < 1 || moved > 7)
				continue;
			if (sign < 0)
				g_date_subtract_days(&other, away);
			else
				g_date_add_days(&other, away);
			if (calendar_is_non_working_eve(&other))
				continue;
			if (nearest_visit(capacity, ops, off, q,
					  calendar_local_to_utc(
						  g_date_get_year(&other),
						  g_date_get_month(&other),
						  g_date_get_day(&other), hour,
						  minute),
					  p->tolerance, ret_slot))
				return TRUE;
		}
	}
	return FALSE;
}

static GVariant *
series_row(const SlotdOffering *off, GPtrArray *ids, GArray *starts,
	   const char *practitioner)
{
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "unit", "s", off->unit->id);
	if (practitioner)
		g_variant_dict_insert(&d, "practitioner", "s", practitioner);
	g_variant_dict_insert_value(&d, "slots", g_variant_new_strv(
		(const char *const *)ids->pdata, ids->len));
	g_variant_dict_insert_value(&d, "starts", g_variant_new_fixed_array(
		G_VARIANT_TYPE_INT64, starts->data, starts->len,
		sizeof(gint64)));
	return g_variant_dict_end(&d);
}

/* The rest of a series after `first`; the row, or NULL. */
static GVariant *
complete_series(Capacity *capacity, const SlotdKindOps *ops,
		const FoundSlot *first, FindQuery *q, const Pattern *p)
{
	const SlotdOffering *off = region_find_offering(capacity->region,
							first->offering);
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GArray) starts = g_array_new(FALSE, FALSE, sizeof(gint64));
	GVariant *row;

	g_ptr_array_add(ids, g_strdup(first->slot_id));
	g_array_append_val(starts, first->start);
	/* A course keeps its practitioner unless the caller allows a
	 * change: the first visit's is asked for in every later one. */
	q->pin = !off || !off->keep_practitioner ||
			 options_bool(q->query, "allow-practitioner-change",
				      FALSE)
		 ? NULL
		 : first->practitioner;
	for (guint i = 1; i < p->count; i++) {
		g_auto(StoreSlot) visit = { 0 };

		gint64 target = visit_time(p, first->start, i);

		q->series_index = i;
		if (!off || (!nearest_visit(capacity, ops, off, q, target,
					    p->tolerance, &visit) &&
			     !holiday_visit(capacity, ops, off, q, p, target,
					    &visit))) {
			q->pin = NULL;
			return NULL;
		}
		g_ptr_array_add(ids, capacity_id_text('s', visit.id));
		g_array_append_val(starts, visit.start);
	}
	row = series_row(off, ids, starts, q->pin);
	q->pin = NULL;
	return row;
}

gboolean
capacity_find_series(Capacity *capacity, const char *service_id,
		     GVariant *pattern, GVariant *query, GVariant **ret_rows,
		     GError **error)
{
	g_autoptr(GPtrArray) firsts = NULL;
	g_autoptr(GArray) cursors = NULL;
	const SlotdKindOps *ops;
	GVariantBuilder rows;
	gboolean own = FALSE, ok;
	guint found = 0;
	Pattern p = { 0 };
	g_auto(FindQuery) q = { 0 };

	if (!parse_pattern(pattern, &p, error) ||
	    !(ops = capacity_service_kind(capacity, service_id, error)) ||
	    !parse_find_query(capacity, query, ops, &q, error))
		return FALSE;
	q.series_length = p.count;
	q.limit = FIND_MAX_LIMIT;
	/* Readiness first (it may plan the extension, which may write);
	 * then the first visits and the rest in one read transaction. */
	if (!open_cursors(capacity, ops, service_id, &q, &cursors, error) ||
	    !check_ready(capacity, cursors, &q, error) ||
	    !find_read_begin(capacity, &own, error))
		return FALSE;
	firsts = g_ptr_array_new_with_free_func(
		(GDestroyNotify)found_slot_free);
	ok = walk_ordered(capacity, ops, cursors, &q, firsts, error);
	g_clear_error(&q.refusal);
	if (!ok) {
		find_read_end(capacity, own);
		return FALSE;
	}
	g_variant_builder_init(&rows, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < firsts->len && found < p.limit; i++) {
		const FoundSlot *first = firsts->pdata[i];
		GVariant *row;

		if (first->bookable_from)
			continue;
		q.series_index = 0;
		row = complete_series(capacity, ops, first, &q, &p);
		if (row) {
			g_variant_builder_add_value(&rows, row);
			found++;
		}
	}
	find_read_end(capacity, own);
	*ret_rows = g_variant_ref_sink(g_variant_builder_end(&rows));
	return TRUE;
}
