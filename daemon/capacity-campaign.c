/* Campaigns: a round of visits to many clients planned as a whole (the
 * supported-housing mapping of docs/region.md visits about 50 clients
 * at their housing units), booked as a whole and followed by its id.
 *
 * PlanCampaign proposes a schedule and books nothing. Every placement
 * is put to the one admission rule as a real hold, inside a savepoint
 * (or a transaction of its own) that is rolled back at the end: the
 * rule sees the proposal's earlier placements exactly as it will see
 * the bookings, so no practitioner is proposed twice and what the plan
 * proposes, BookCampaign — the same requests in the same order —
 * accepts. The work is bounded (clients, window, attempts), so the
 * main loop waits for a plan at most about as long as for a small
 * batch (docs/performance.md measures it).
 *
 * BookCampaign books the placements the caller accepts in one
 * transaction, all or none, each through the rule, and stores the
 * campaign id in each booking's extras; CampaignProgress counts by it. */
#include "capacity-private.h"

#include <string.h>

#include "calendar.h"
#include "options.h"
#include "validate.h"

#define CAMPAIGN_MAX_CLIENTS 200
#define CAMPAIGN_MAX_DAYS 92
/* Admission attempts one plan may make (refusals remembered for a
 * slot, housing unit and language are not asked again). */
#define CAMPAIGN_MAX_ATTEMPTS 4000
/* A tentative hold lives only inside the rolled-back savepoint. */
#define CAMPAIGN_HOLD_SECONDS 60

/* The keys of a client row (PlanCampaign) and of a placement row
 * (BookCampaign: a plan row given back; the plan's answer keys are
 * ignored). */
static const SlotdOptionSpec client_keys[] = {
	{ "client-ref", "s", "the client's pseudonymous reference" },
	{ "housing-unit", "s", "where the visit goes (the kind's key)" },
	{ "language", "s", "fi, sv or en" },
	{ "municipality", "s", "the client's municipality" },
	{ NULL }
};

static const SlotdOptionSpec placement_keys[] = {
	{ "slot", "s", "the slot PlanCampaign proposed" },
	{ "order", "u", "the plan's order: placements are booked in it" },
	{ "status", "s", "placed (from PlanCampaign)" },
	{ "unit", "s", "(PlanCampaign's answer, ignored)" },
	{ "start", "x", "(PlanCampaign's answer, ignored)" },
	{ "end", "x", "(PlanCampaign's answer, ignored)" },
	{ "day", "s", "(PlanCampaign's answer, ignored)" },
	{ "practitioners", "as", "(PlanCampaign's answer, ignored)" },
	{ NULL }
};

static const SlotdOptionSpec plan_keys[] = {
	{ "campaign", "s", "clients with a live booking of this campaign "
	  "are reported as scheduled, not planned again" },
	{ NULL }
};

static const SlotdOptionSpec book_keys[] = {
	{ "campaign", "s", "the campaign id the bookings carry (required)" },
	{ "booked-by", "s", "the professional booking (a pseudonymous id)" },
	{ NULL }
};

static const SlotdOptionSpec progress_keys[] = {
	{ "clients", "as", "the round's clients: those never booked count "
	  "as not scheduled" },
	{ NULL }
};

/* ---- one client of a plan ------------------------------------------- */

typedef struct {
	guint index;		/* place in the call */
	char *client_ref;
	char *group;		/* housing unit, else municipality, else "" */
	char *language;		/* or NULL */
	GVariant *row;		/* the caller's row */
	GVariant *options;	/* Book's options for this client */
	/* the answer */
	gboolean placed;
	guint order;		/* 1.. in the order placed */
	gint64 hold;
	gint64 slot;
	char *unit;
	gint64 start, end;
	GPtrArray *practitioners;
	char *scheduled;	/* already booked in the campaign: its id */
	char *reason;		/* why not placed */
	const char *error_name;
} Client;

static void
client_free(gpointer data)
{
	Client *c = data;

	g_free(c->client_ref);
	g_free(c->group);
	g_free(c->language);
	g_clear_pointer(&c->row, g_variant_unref);
	g_clear_pointer(&c->options, g_variant_unref);
	g_free(c->unit);
	g_clear_pointer(&c->practitioners, g_ptr_array_unref);
	g_free(c->scheduled);
	g_free(c->reason);
	g_free(c);
}

static void
client_unplace(Client *c)
{
	c->placed = FALSE;
	c->order = 0;
	c->hold = 0;
	c->slot = 0;
	g_clear_pointer(&c->unit, g_free);
	g_clear_pointer(&c->practitioners, g_ptr_array_unref);
}

/* A refusal of the rule remembered for a slot, a housing unit and a
 * language: other clients of that group and language get the same
 * answer while nothing is given back. */
typedef struct {
	guint day;
	char *message;
	const char *error_name;
} Refusal;

static void
refusal_free(gpointer data)
{
	Refusal *r = data;

	g_free(r->message);
	g_free(r);
}

typedef struct {
	guint first, last;	/* slots [first, last) of the plan */
	guint load;		/* placements of this plan */
	gboolean full;		/* a group found no room at all */
} Day;

typedef struct {
	Capacity *capacity;
	const Caller *caller;
	const SlotdOffering *any_offering;
	GArray *slots;		/* StoreSlot, by start */
	GArray *days;		/* Day */
	GPtrArray *clients;	/* Client, in the call's order */
	GHashTable *refused;	/* "slot|group|language" -> Refusal */
	guint attempts;
	guint order;
	const char *campaign;
} Plan;

/* ---- checking the call ------------------------------------------------ */

static gboolean
check_service(Capacity *capacity, const char *service, GError **error)
{
	return capacity_service_kind(capacity, service, error) != NULL;
}

static const char *
row_string(GVariant *row, const char *key)
{
	const char *value = NULL;

	g_variant_lookup(row, key, "&s", &value);
	return value;
}

static GVariant *
booking_options(GVariant *row, const char *campaign, const char *booked_by)
{
	static const char *const keys[] = { "housing-unit", "language",
					    "municipality" };
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *value = row_string(row, keys[i]);

		if (value)
			g_variant_dict_insert(&d, keys[i], "s", value);
	}
	if (campaign)
		g_variant_dict_insert(&d, "campaign", "s", campaign);
	if (booked_by)
		g_variant_dict_insert(&d, "booked-by", "s", booked_by);
	return g_variant_ref_sink(g_variant_dict_end(&d));
}

static gboolean
read_clients(GVariant *rows, Plan *p, GError **error)
{
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	gsize n = g_variant_n_children(rows);
	gboolean ok = TRUE;

	if (n == 0 || n > CAMPAIGN_MAX_CLIENTS) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "a campaign plans 1 to %u clients a call",
			    CAMPAIGN_MAX_CLIENTS);
		g_hash_table_unref(seen);
		return FALSE;
	}
	for (gsize i = 0; ok && i < n; i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autofree char *what = g_strdup_printf("clients[%zu]", i);
		const char *ref, *group;
		Client *c;

		ok = options_check(row, client_keys, NULL, what, error);
		if (!ok)
			break;
		ref = row_string(row, "client-ref");
		if (!ref) {
			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "%s has no client-ref", what);
			ok = FALSE;
			break;
		}
		if (!validate_client_ref(ref, FALSE, error)) {
			g_prefix_error(error, "%s: ", what);
			ok = FALSE;
			break;
		}
		if (g_hash_table_contains(seen, ref)) {
			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "%s: client %s appears twice; a campaign "
				    "visits each client once", what, ref);
			ok = FALSE;
			break;
		}
		c = g_new0(Client, 1);
		c->index = i;
		c->client_ref = g_strdup(ref);
		group = row_string(row, "housing-unit");
		if (!group)
			group = row_string(row, "municipality");
		c->group = g_strdup(group ? group : "");
		c->language = g_strdup(row_string(row, "language"));
		c->row = g_variant_ref(row);
		c->options = booking_options(row, p->campaign, NULL);
		g_ptr_array_add(p->clients, c);
		g_hash_table_add(seen, c->client_ref);
	}
	g_hash_table_unref(seen);
	return ok;
}

static gboolean
check_window(Capacity *capacity, gint64 from, gint64 to, GError **error)
{
	if (from >= to || to - from > (gint64)CAMPAIGN_MAX_DAYS * 86400) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "the window (from, to) is 1 second to %u days "
			    "long, from before to", CAMPAIGN_MAX_DAYS);
		return FALSE;
	}
	if (to <= capacity_now(capacity)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "the window has ended; plan a later one");
		return FALSE;
	}
	return TRUE;
}

/* ---- the candidate slots ---------------------------------------------- */

static gint
by_start(gconstpointer a, gconstpointer b)
{
	const StoreSlot *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static gboolean
load_slots(Plan *p, const char *service, gint64 from, gint64 to,
	   GError **error)
{
	GPtrArray *offerings = p->capacity->region->offerings;
	gint64 ready = G_MAXINT64;

	from = MAX(from, capacity_now(p->capacity));
	for (guint o = 0; o < offerings->len; o++) {
		const SlotdOffering *off = offerings->pdata[o];

		if (!g_str_equal(off->service->id, service) ||
		    !capacity_kind(p->capacity, off))
			continue;
		p->any_offering = off;
		ready = MIN(ready, capacity_ready_until(p->capacity, off->id));
		if (!store_list_slots(p->capacity->store, off->id, from, to,
				      p->slots, error))
			return FALSE;
	}
	if (ready < to) {
		g_autofree char *when = calendar_format_local(ready);

		g_set_error(error, SLOTD_ERROR,
			    SLOTD_ERROR_SERVICE_UNAVAILABLE,
			    "the slots from %s on are still being prepared; "
			    "plan again in a moment", when);
		return FALSE;
	}
	g_array_sort(p->slots, by_start);
	/* Local days, in order. */
	for (guint i = 0; i < p->slots->len; i++) {
		const StoreSlot *s = &g_array_index(p->slots, StoreSlot, i);
		gint64 day = calendar_local_day_start(s->start);
		Day *last = p->days->len ? &g_array_index(p->days, Day,
							  p->days->len - 1)
					 : NULL;

		if (last && calendar_local_day_start(g_array_index(
				    p->slots, StoreSlot, last->first).start) ==
				    day) {
			last->last = i + 1;
			continue;
		}
		g_array_append_val(p->days, ((Day){ i, i + 1, 0, FALSE }));
	}
	return TRUE;
}

/* ---- placing ---------------------------------------------------------- */

static gboolean
is_request_error(const GError *error)
{
	return g_error_matches(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS) ||
	       g_error_matches(error, SLOTD_ERROR,
			       SLOTD_ERROR_INVALID_CLIENT_REF) ||
	       g_error_matches(error, SLOTD_ERROR,
			       SLOTD_ERROR_STORAGE_UNAVAILABLE) ||
	       g_error_matches(error, SLOTD_ERROR, SLOTD_ERROR_FAILED);
}

static const char *
error_name(const GError *error)
{
	switch (error->code) {
	case SLOTD_ERROR_SLOT_FULL:
		return "SlotFull";
	case SLOTD_ERROR_POLICY_VIOLATION:
		return "PolicyViolation";
	case SLOTD_ERROR_DEADLINE_UNREACHABLE:
		return "DeadlineUnreachable";
	case SLOTD_ERROR_CONFLICT:
		return "Conflict";
	case SLOTD_ERROR_SERVICE_UNAVAILABLE:
		return "ServiceUnavailable";
	default:
		return "Refused";
	}
}

static void
client_refused(Client *c, const char *message, const char *name)
{
	g_free(c->reason);
	c->reason = g_strdup(message);
	c->error_name = name;
}

/* The placement's slot and the practitioners its hold took. */
static gboolean
record_place(Plan *p, Client *c, const StoreSlot *slot, gint64 hold,
	     gint64 end, GError **error)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);

	if (!store_booking_resources(p->capacity->store, 0, hold, ids, error))
		return FALSE;
	c->placed = TRUE;
	c->order = ++p->order;
	c->hold = hold;
	c->slot = slot->id;
	c->start = slot->start;
	c->end = end;
	c->unit = g_strdup(region_find_offering(p->capacity->region,
						slot->offering)->unit->id);
	c->practitioners = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < ids->len; i++) {
		const Resource *r = region_find_resource(p->capacity->region,
							 ids->pdata[i]);

		if (r && r->type == RESOURCE_PRACTITIONER)
			g_ptr_array_add(c->practitioners,
					g_strdup(ids->pdata[i]));
	}
	g_clear_pointer(&c->reason, g_free);
	return TRUE;
}

typedef enum {
	TRY_PLACED,
	TRY_REFUSED,
	TRY_CAPACITY,	/* refused: nothing free for it */
	TRY_BUDGET,	/* not asked: the plan's work is used up */
	TRY_ERROR,
} Try;

/* Asks the one rule, through a real hold, whether `c` fits `slot`. */
static Try
try_place(Plan *p, Client *c, guint day, guint index, GError **error)
{
	const StoreSlot *slot = &g_array_index(p->slots, StoreSlot, index);
	g_autofree char *key = g_strdup_printf(
		"%" G_GINT64_FORMAT "|%s|%s", slot->id, c->group,
		c->language ? c->language : "");
	g_autoptr(GError) local = NULL;
	Refusal *known = g_hash_table_lookup(p->refused, key);
	gint64 hold = 0, end = 0;
	Refusal *r;

	if (known) {
		client_refused(c, known->message, known->error_name);
		return g_str_equal(known->error_name, "SlotFull")
			       ? TRY_CAPACITY
			       : TRY_REFUSED;
	}
	if (p->attempts >= CAMPAIGN_MAX_ATTEMPTS)
		return TRY_BUDGET;
	p->attempts++;
	if (capacity_hold_tentative(p->capacity, p->caller, slot->id,
				    c->client_ref, c->options,
				    CAMPAIGN_HOLD_SECONDS, &hold, &end, &local))
		return record_place(p, c, slot, hold, end, error)
			       ? TRY_PLACED
			       : TRY_ERROR;
	if (is_request_error(local)) {
		if (local->domain == SLOTD_ERROR &&
		    local->code != SLOTD_ERROR_STORAGE_UNAVAILABLE &&
		    local->code != SLOTD_ERROR_FAILED)
			g_prefix_error(&local, "clients[%u] (%s): ", c->index,
				       c->client_ref);
		g_propagate_error(error, g_steal_pointer(&local));
		return TRY_ERROR;
	}
	r = g_new0(Refusal, 1);
	r->day = day;
	r->message = g_strdup(local->message);
	r->error_name = error_name(local);
	client_refused(c, r->message, r->error_name);
	g_hash_table_insert(p->refused, g_steal_pointer(&key), r);
	return g_str_equal(r->error_name, "SlotFull") ? TRY_CAPACITY
						       : TRY_REFUSED;
}

/* Places what it can of `group` (Client*, unplaced first) on day `d`,
 * earliest slot first; a slot with room for more takes more. The
 * count placed, or -1 on an error. *ret_no_room: every refusal was for
 * want of room. */
static gint
place_on_day(Plan *p, GPtrArray *group, guint d, gboolean *ret_no_room,
	     GError **error)
{
	Day *day = &g_array_index(p->days, Day, d);
	gint placed = 0;

	*ret_no_room = TRUE;
	for (guint s = day->first; s < day->last; s++) {
		gboolean left = FALSE;

		for (guint i = 0; i < group->len; i++) {
			Client *c = group->pdata[i];

			if (c->placed || c->scheduled)
				continue;
			switch (try_place(p, c, d, s, error)) {
			case TRY_PLACED:
				placed++;
				break;
			case TRY_REFUSED:
				*ret_no_room = FALSE;
				left = TRUE;
				break;
			case TRY_CAPACITY:
				left = TRUE;
				break;
			case TRY_BUDGET:
				return placed;
			case TRY_ERROR:
				return -1;
			}
		}
		if (!left)
			break; /* the whole group is placed */
	}
	day->load += placed;
	return placed;
}

static guint
unplaced(GPtrArray *group)
{
	guint n = 0;

	for (guint i = 0; i < group->len; i++) {
		Client *c = group->pdata[i];

		n += !c->placed && !c->scheduled;
	}
	return n;
}

/* Rolls day `d` of the plan back: its holds and what it placed; the
 * refusals of the days around it no longer hold. */
static gboolean
forget_day(Plan *p, GPtrArray *group, guint d, guint placed_before,
	   GError **error)
{
	GHashTableIter iter;
	Refusal *r;

	store_rollback_to(p->capacity->store, "campaign-day");
	if (!store_release(p->capacity->store, "campaign-day", error))
		return FALSE;
	for (guint i = 0; i < group->len; i++) {
		Client *c = group->pdata[i];

		if (c->placed && c->order > placed_before)
			client_unplace(c);
	}
	p->order = placed_before;
	g_hash_table_iter_init(&iter, p->refused);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&r))
		if (r->day + 1 >= d && r->day <= d + 1)
			g_hash_table_iter_remove(&iter);
	return TRUE;
}

/* The first pass: a housing unit's clients on one day where a day takes
 * them all; a group larger than a day fills days of its own. */
static gboolean
place_group(Plan *p, GPtrArray *group, GError **error)
{
	for (guint d = 0; d < p->days->len && unplaced(group) > 0; d++) {
		Day *day = &g_array_index(p->days, Day, d);
		gboolean fresh = day->load == 0, no_room;
		guint want = unplaced(group), before = p->order;
		gint placed;

		if (day->full)
			continue;
		if (!store_savepoint(p->capacity->store, "campaign-day",
				     error))
			return FALSE;
		placed = place_on_day(p, group, d, &no_room, error);
		if (placed < 0)
			return FALSE;
		if ((guint)placed == want || (placed > 0 && fresh)) {
			if (!store_release(p->capacity->store,
					   "campaign-day", error))
				return FALSE;
			continue;
		}
		if (placed == 0 && no_room)
			day->full = TRUE;
		day->load -= placed;
		if (!forget_day(p, group, d, before, error))
			return FALSE;
		if (p->attempts >= CAMPAIGN_MAX_ATTEMPTS)
			break;
	}
	return TRUE;
}

/* The second pass: each client still unplaced at the first day that
 * takes them. */
static gboolean
place_rest(Plan *p, GPtrArray *groups, GError **error)
{
	for (guint g = 0; g < groups->len; g++) {
		GPtrArray *group = groups->pdata[g];

		for (guint d = 0; d < p->days->len && unplaced(group) > 0;
		     d++) {
			gboolean no_room;

			if (place_on_day(p, group, d, &no_room, error) < 0)
				return FALSE;
			if (p->attempts >= CAMPAIGN_MAX_ATTEMPTS)
				return TRUE;
		}
	}
	return TRUE;
}

static gint
by_size(gconstpointer a, gconstpointer b)
{
	GPtrArray *x = *(GPtrArray *const *)a, *y = *(GPtrArray *const *)b;
	const Client *cx = x->pdata[0], *cy = y->pdata[0];

	if (x->len != y->len)
		return x->len > y->len ? -1 : 1;
	return cx->index < cy->index ? -1 : 1;
}

static GPtrArray *
make_groups(Plan *p)
{
	GPtrArray *groups = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_ptr_array_unref);
	GHashTable *by_name = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; i < p->clients->len; i++) {
		Client *c = p->clients->pdata[i];
		GPtrArray *group = g_hash_table_lookup(by_name, c->group);

		if (!group) {
			group = g_ptr_array_new();
			g_ptr_array_add(groups, group);
			g_hash_table_insert(by_name, c->group, group);
		}
		g_ptr_array_add(group, c);
	}
	g_hash_table_unref(by_name);
	g_ptr_array_sort(groups, by_size);
	return groups;
}

/* Clients who already have a live booking of the campaign. */
static gboolean
mark_scheduled(Plan *p, const char *service, GError **error)
{
	g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	StoreBookingFilter filter = { .service = service };

	if (!p->campaign)
		return TRUE;
	if (!store_list_bookings(p->capacity->store, &filter, list, error))
		return FALSE;
	for (guint i = 0; i < list->len; i++) {
		const StoreBooking *b = list->pdata[i];
		const char *campaign = NULL;

		if (!b->extras ||
		    !g_variant_lookup(b->extras, "campaign", "&s",
				      &campaign) ||
		    g_strcmp0(campaign, p->campaign) != 0 ||
		    !(g_str_equal(b->status, "booked") ||
		      g_str_equal(b->status, "arrived") ||
		      g_str_equal(b->status, "checked-in") ||
		      g_str_equal(b->status, "fulfilled")))
			continue;
		for (guint k = 0; k < p->clients->len; k++) {
			Client *c = p->clients->pdata[k];

			if (g_strcmp0(c->client_ref, b->client_ref) == 0 &&
			    !c->scheduled)
				c->scheduled = capacity_booking_id(b->id);
		}
	}
	return TRUE;
}

static gboolean
run_plan(Plan *p, const char *service, GError **error)
{
	g_autoptr(GPtrArray) groups = make_groups(p);

	for (guint g = 0; g < groups->len; g++)
		if (!place_group(p, groups->pdata[g], error))
			return FALSE;
	return place_rest(p, groups, error);
}

static GVariant *
client_row(const Plan *p, const Client *c)
{
	GVariantDict d;

	g_variant_dict_init(&d, c->row);
	if (c->scheduled) {
		g_variant_dict_insert(&d, "status", "s", "scheduled");
		g_variant_dict_insert(&d, "booking", "s", c->scheduled);
	} else if (c->placed) {
		g_autofree char *slot = capacity_id_text('s', c->slot);
		GDate date;
		char day[16];

		calendar_local_date(c->start, &date);
		g_date_strftime(day, sizeof(day), "%Y-%m-%d", &date);
		g_variant_dict_insert(&d, "status", "s", "placed");
		g_variant_dict_insert(&d, "order", "u", c->order);
		g_variant_dict_insert(&d, "slot", "s", slot);
		g_variant_dict_insert(&d, "unit", "s", c->unit);
		g_variant_dict_insert(&d, "start", "x", c->start);
		g_variant_dict_insert(&d, "end", "x", c->end);
		g_variant_dict_insert(&d, "day", "s", day);
		g_variant_dict_insert_value(
			&d, "practitioners",
			g_variant_new_strv((const char *const *)
						   c->practitioners->pdata,
					   c->practitioners->len));
	} else {
		gboolean budget = p->attempts >= CAMPAIGN_MAX_ATTEMPTS;

		g_variant_dict_insert(&d, "status", "s", "unplaceable");
		if (c->reason) {
			g_variant_dict_insert(&d, "error", "s", c->error_name);
			g_variant_dict_insert(&d, "reason", "s", c->reason);
		} else {
			g_variant_dict_insert(&d, "error", "s",
					      budget ? "NotTried" : "NoSlot");
			g_variant_dict_insert(
				&d, "reason", "s",
				budget ? "not tried: the plan's work limit "
					 "was reached; plan these clients in "
					 "another call"
				       : "the service has no open slot in the "
					 "window; widen the window");
		}
	}
	return g_variant_dict_end(&d);
}

/* Runs the plan in a savepoint (inside a batch) or a transaction of
 * its own, and rolls every tentative hold back whatever happened. */
static gboolean
plan_tentatively(Plan *p, const char *service, gint64 from, gint64 to,
		 GError **error)
{
	Store *store = p->capacity->store;
	gboolean own = !store_in_transaction(store);
	gboolean ok;

	if (own ? !store_begin(store, error)
		: !store_savepoint(store, "campaign", error))
		return FALSE;
	ok = mark_scheduled(p, service, error) &&
	     load_slots(p, service, from, to, error) &&
	     run_plan(p, service, error);
	if (own) {
		store_rollback(store);
	} else {
		store_rollback_to(store, "campaign");
		store_release(store, "campaign", NULL);
	}
	return ok;
}

gboolean
capacity_plan_campaign(Capacity *capacity, const Caller *caller,
		       const char *service, GVariant *clients, gint64 from,
		       gint64 to, GVariant *options, GVariant **ret_rows,
		       GError **error)
{
	Plan p = { capacity, caller };
	GVariantBuilder rows;
	gboolean ok;
	gint64 began = g_get_monotonic_time();

	if (!check_service(capacity, service, error) ||
	    !options_check(options, plan_keys, NULL, "option", error) ||
	    !check_window(capacity, from, to, error))
		return FALSE;
	p.campaign = options_string(options, "campaign", NULL);
	if (p.campaign && !validate_id(p.campaign, "campaign", error))
		return FALSE;
	p.clients = g_ptr_array_new_with_free_func(client_free);
	p.slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_array_set_clear_func(p.slots, (GDestroyNotify)store_slot_clear);
	p.days = g_array_new(FALSE, TRUE, sizeof(Day));
	p.refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  refusal_free);
	ok = read_clients(clients, &p, error) &&
	     plan_tentatively(&p, service, from, to, error);
	if (ok) {
		g_variant_builder_init(&rows, G_VARIANT_TYPE("aa{sv}"));
		for (guint i = 0; i < p.clients->len; i++)
			g_variant_builder_add_value(
				&rows, client_row(&p, p.clients->pdata[i]));
		*ret_rows = g_variant_ref_sink(g_variant_builder_end(&rows));
		g_debug("campaign plan of %u clients: %u attempts, %.3f s",
			p.clients->len, p.attempts,
			(g_get_monotonic_time() - began) / 1e6);
	}
	g_ptr_array_unref(p.clients);
	g_array_unref(p.slots);
	g_array_unref(p.days);
	g_hash_table_unref(p.refused);
	return ok;
}

/* ---- BookCampaign ----------------------------------------------------- */

typedef struct {
	guint index;
	guint order;
	const char *slot;
	const char *client_ref;
	GVariant *options;
} Placement;

typedef struct {
	const Caller *caller;
	const char *service;
	GArray *placements;	/* Placement, in booking order */
	GPtrArray *bookings;	/* StoreBooking* */
} BookCampaign;

static gint
by_order(gconstpointer a, gconstpointer b)
{
	const Placement *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static gboolean
read_placements(GVariant *rows, const char *campaign, const char *booked_by,
		GArray *ret, GError **error)
{
	gsize n = g_variant_n_children(rows);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	if (n == 0 || n > CAMPAIGN_MAX_CLIENTS) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "BookCampaign books 1 to %u placements a call",
			    CAMPAIGN_MAX_CLIENTS);
		return FALSE;
	}
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autofree char *what = g_strdup_printf("placements[%zu]", i);
		const char *status;
		Placement pl = { (guint)i, G_MAXUINT };

		if (!options_check(row, client_keys, placement_keys, what,
				   error))
			return FALSE;
		pl.slot = row_string(row, "slot");
		pl.client_ref = row_string(row, "client-ref");
		status = row_string(row, "status");
		if (!pl.slot || !pl.client_ref ||
		    (status && !g_str_equal(status, "placed"))) {
			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "%s needs client-ref and slot (a placed "
				    "row of PlanCampaign)", what);
			return FALSE;
		}
		if (!validate_client_ref(pl.client_ref, FALSE, error)) {
			g_prefix_error(error, "%s: ", what);
			return FALSE;
		}
		if (g_hash_table_contains(seen, pl.client_ref)) {
			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "%s: client %s appears twice", what,
				    pl.client_ref);
			return FALSE;
		}
		g_hash_table_add(seen, (gpointer)pl.client_ref);
		g_variant_lookup(row, "order", "u", &pl.order);
		pl.options = booking_options(row, campaign, booked_by);
		g_array_append_val(ret, pl);
	}
	/* The plan's order: the rule then chooses as it did for the plan. */
	g_array_sort(ret, by_order);
	return TRUE;
}

static gboolean
do_book_campaign(Capacity *capacity, gpointer data, GError **error)
{
	BookCampaign *bc = data;

	for (guint i = 0; i < bc->placements->len; i++) {
		const Placement *pl = &g_array_index(bc->placements,
						     Placement, i);
		g_autoptr(GError) local = NULL;
		StoreBooking *b = NULL;

		if (!capacity_book_in_transaction(capacity, bc->caller,
						  pl->slot, pl->client_ref,
						  pl->options, &b, &local)) {
			g_prefix_error(&local, "placements[%u] (%s at %s): ",
				       pl->index, pl->client_ref, pl->slot);
			g_propagate_error(error, g_steal_pointer(&local));
			return FALSE;
		}
		g_ptr_array_add(bc->bookings, b);
		if (!g_str_equal(b->service, bc->service)) {
			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "placements[%u]: slot %s belongs to %s, "
				    "not %s", pl->index, pl->slot, b->service,
				    bc->service);
			return FALSE;
		}
	}
	return TRUE;
}

static void
placement_clear(gpointer data)
{
	Placement *pl = data;

	g_clear_pointer(&pl->options, g_variant_unref);
}

gboolean
capacity_book_campaign(Capacity *capacity, const Caller *caller,
		       const char *service, GVariant *placements,
		       GVariant *options, GPtrArray **ret_booking_ids,
		       GError **error)
{
	BookCampaign bc = { caller, service };
	const char *campaign, *booked_by;
	gboolean ok;

	if (!check_service(capacity, service, error) ||
	    !options_check(options, book_keys, NULL, "option", error))
		return FALSE;
	campaign = options_string(options, "campaign", NULL);
	booked_by = options_string(options, "booked-by", NULL);
	if (!campaign) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "BookCampaign needs the option campaign (an id "
			    "the bookings carry)");
		return FALSE;
	}
	if (!validate_id(campaign, "campaign", error) ||
	    (booked_by && !validate_client_ref(booked_by, FALSE, error)))
		return FALSE;
	bc.placements = g_array_new(FALSE, TRUE, sizeof(Placement));
	g_array_set_clear_func(bc.placements, placement_clear);
	bc.bookings = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	ok = read_placements(placements, campaign, booked_by, bc.placements,
			     error) &&
	     capacity_transaction(capacity, do_book_campaign, &bc, error);
	if (ok) {
		*ret_booking_ids = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; i < bc.bookings->len; i++) {
			StoreBooking *b = bc.bookings->pdata[i];

			g_ptr_array_add(*ret_booking_ids,
					capacity_booking_id(b->id));
			capacity_notify_booking(capacity, b);
			capacity_notify_slots(capacity, b->offering, b->start,
					      b->end);
		}
	}
	g_array_unref(bc.placements);
	g_ptr_array_unref(bc.bookings);
	return ok;
}

/* ---- CampaignProgress ------------------------------------------------- */

/* mapped > scheduled > not scheduled: a client's best booking counts. */
static gint
progress_rank(const char *status)
{
	if (g_str_equal(status, "fulfilled"))
		return 2;
	if (g_str_equal(status, "booked") || g_str_equal(status, "arrived") ||
	    g_str_equal(status, "checked-in"))
		return 1;
	return 0; /* cancelled, noshow, entered-in-error */
}

static const char *const progress_names[] = { "not-scheduled", "scheduled",
					      "mapped" };

typedef struct {
	gint rank;
	const StoreBooking *booking;	/* NULL: never booked */
} ClientProgress;

gboolean
capacity_campaign_progress(Capacity *capacity, const char *service,
			   const char *campaign, GVariant *options,
			   GVariant **ret_progress, GError **error)
{
	g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	g_autoptr(GHashTable) clients = g_hash_table_new_full(
		g_str_hash, g_str_equal, NULL, g_free);
	g_autoptr(GPtrArray) order = g_ptr_array_new();
	g_autofree const char **given = NULL;
	StoreBookingFilter filter = { .service = service };
	guint counts[3] = { 0, 0, 0 };
	GVariantBuilder rows;
	GVariantDict d;

	if (!check_service(capacity, service, error) ||
	    !validate_id(campaign, "campaign", error) ||
	    !options_check(options, progress_keys, NULL, "option", error))
		return FALSE;
	if (g_variant_lookup(options, "clients", "^a&s", &given)) {
		for (guint i = 0; given[i]; i++) {
			if (!validate_client_ref(given[i], FALSE, error))
				return FALSE;
			if (g_hash_table_contains(clients, given[i]))
				continue;
			g_hash_table_insert(clients, (gpointer)given[i],
					    g_new0(ClientProgress, 1));
			g_ptr_array_add(order, (gpointer)given[i]);
		}
	}
	if (!store_list_bookings(capacity->store, &filter, list, error))
		return FALSE;
	for (guint i = 0; i < list->len; i++) {
		const StoreBooking *b = list->pdata[i];
		const char *id = NULL;
		ClientProgress *cp;
		gint rank;

		if (!b->extras ||
		    !g_variant_lookup(b->extras, "campaign", "&s", &id) ||
		    g_strcmp0(id, campaign) != 0 || !b->client_ref)
			continue;
		cp = g_hash_table_lookup(clients, b->client_ref);
		if (!cp) {
			cp = g_new0(ClientProgress, 1);
			g_hash_table_insert(clients, b->client_ref, cp);
			g_ptr_array_add(order, b->client_ref);
		}
		rank = progress_rank(b->status);
		if (!cp->booking || rank > cp->rank ||
		    (rank == cp->rank && b->start > cp->booking->start)) {
			cp->rank = rank;
			cp->booking = b;
		}
	}
	g_variant_builder_init(&rows, G_VARIANT_TYPE("aa{sv}"));
	for (guint i = 0; i < order->len; i++) {
		const ClientProgress *cp = g_hash_table_lookup(
			clients, order->pdata[i]);
		GVariantDict row;

		counts[cp->rank]++;
		g_variant_dict_init(&row, NULL);
		g_variant_dict_insert(&row, "client-ref", "s",
				      (const char *)order->pdata[i]);
		g_variant_dict_insert(&row, "progress", "s",
				      progress_names[cp->rank]);
		if (cp->booking) {
			g_autofree char *bid =
				capacity_booking_id(cp->booking->id);

			g_variant_dict_insert(&row, "booking", "s", bid);
			g_variant_dict_insert(&row, "status", "s",
					      cp->booking->status);
			g_variant_dict_insert(&row, "start", "x",
					      cp->booking->start);
			g_variant_dict_insert(&row, "unit", "s",
					      cp->booking->unit);
		}
		g_variant_builder_add_value(&rows, g_variant_dict_end(&row));
	}
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "campaign", "s", campaign);
	g_variant_dict_insert(&d, "service", "s", service);
	g_variant_dict_insert(&d, "mapped", "u", counts[2]);
	g_variant_dict_insert(&d, "scheduled", "u", counts[1]);
	g_variant_dict_insert(&d, "not-scheduled", "u", counts[0]);
	g_variant_dict_insert_value(&d, "clients",
				    g_variant_builder_end(&rows));
	*ret_progress = g_variant_ref_sink(g_variant_dict_end(&d));
	return TRUE;
}
