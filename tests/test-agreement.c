/* The property "what FindSlots offers, Book accepts", over generated
 * queries against the real daemon on a private bus.
 *
 * For every generated query (service, the client's municipality spelt
 * as a code or a Finnish or Swedish name in any case, language,
 * modality, urgency, start time across the horizon, the kind's options):
 *
 *  - every slot FindSlots offers is booked by Book with the same request
 *    (re-finding after each booking, often for the same client);
 *  - when FindSlots did not reach its limit, a sample of the slots of
 *    the window it left out, read straight from the SQLite file, is
 *    refused by Book;
 *  - HoldFor of an offered slot, other clients booking around it, then
 *    Book with the hold succeeds;
 *  - a care episode built from offered slots is booked whole by
 *    BookSeries.
 *
 * The oracle shares no code with slotd: it is the daemon's own two
 * answers compared over D-Bus, and the database read with SQL. At the
 * end no slot holds more than its capacity and every counter equals
 * the seats that explain it.
 *
 * SLOTD_AGREE_SEED repeats a run; SLOTD_AGREE_PAIRS sets its size (the
 * suite runs a small one; tools/agreement.sh runs 5,000 pairs and
 * more); SLOTD_AGREE_CONFIG runs it against another region (e.g. the
 * benchmark's generated one). */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define SCHEDULER "org.slotd.Scheduler1"
#define DAY (24 * 3600)

typedef struct {
	char *id;
	char *kind;
} Service;

typedef struct {
	char *code;
	char *fi;
	char *sv;
} Place;

typedef struct {
	Harness h;
	GRand *rand;
	guint32 seed;
	gint64 now;
	guint horizon_days;
	GPtrArray *services;	/* Service */
	GPtrArray *places;	/* Place */
	sqlite3 *db;
	guint clients;
	/* what was checked */
	guint offered_booked;
	guint left_out_refused;
	guint held_booked;
	guint series_booked;
	guint find_refused;
	guint disagreements;
} Run;

typedef struct {
	const char *service;
	const char *kind;
	char *client;
	GVariant *query;	/* FindSlots a{sv} */
	GVariant *options;	/* Book a{sv}: the same request */
	gint64 from, to;	/* the window, for the left-out sample */
	guint limit;
	gboolean filtered;	/* a find-only filter: no left-out sample */
} Request;

/* ---- the region, read from its configuration ------------------------ */

static void
service_free(gpointer data)
{
	Service *s = data;

	g_free(s->id);
	g_free(s->kind);
	g_free(s);
}

static void
place_free(gpointer data)
{
	Place *p = data;

	g_free(p->code);
	g_free(p->fi);
	g_free(p->sv);
	g_free(p);
}

static void
read_places(Run *r, const char *region_conf)
{
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) groups = NULL;

	g_key_file_load_from_file(file, region_conf, G_KEY_FILE_NONE, &error);
	g_assert_no_error(error);
	groups = g_key_file_get_groups(file, NULL);
	for (guint i = 0; groups[i]; i++) {
		Place *p;

		if (!g_str_has_prefix(groups[i], "municipality "))
			continue;
		p = g_new0(Place, 1);
		p->code = g_strdup(groups[i] + strlen("municipality "));
		p->fi = g_key_file_get_string(file, groups[i], "name-fi", NULL);
		p->sv = g_key_file_get_string(file, groups[i], "name-sv", NULL);
		g_ptr_array_add(r->places, p);
	}
	g_assert_cmpuint(r->places->len, >, 0);
}

static void
read_services(Run *r)
{
	g_autoptr(GVariant) reply = harness_call(&r->h, SCHEDULER,
						 "ListServices", NULL,
						 "(a(sss))", NULL);
	g_autoptr(GVariantIter) iter = NULL;
	const char *id, *kind;

	g_assert_nonnull(reply);
	g_variant_get(reply, "(a(sss))", &iter);
	while (g_variant_iter_next(iter, "(&s&s&s)", &id, &kind, NULL)) {
		Service *s = g_new0(Service, 1);

		s->id = g_strdup(id);
		s->kind = g_strdup(kind);
		g_ptr_array_add(r->services, s);
	}
}

/* ---- generated requests --------------------------------------------- */

static const char *
pick(Run *r, const char *const *list)
{
	guint n = g_strv_length((char **)list);

	return list[g_rand_int_range(r->rand, 0, n)];
}

static gboolean
chance(Run *r, double p)
{
	return g_rand_double(r->rand) < p;
}

/* A municipality as a person types it. */
static char *
spell_place(Run *r)
{
	const Place *p = r->places->pdata[g_rand_int_range(
		r->rand, 0, r->places->len)];
	const char *name = p->code;

	if (chance(r, 0.4) && p->fi)
		name = p->fi;
	else if (chance(r, 0.4) && p->sv)
		name = p->sv;
	if (chance(r, 0.2))
		return g_utf8_strup(name, -1);
	if (chance(r, 0.2))
		return g_utf8_strdown(name, -1);
	return g_strdup(name);
}

/* A start across the horizon on a quarter hour, often at night. */
static gint64
pick_from(Run *r)
{
	gint64 day = g_rand_int_range(r->rand, 0, r->horizon_days);
	gint64 quarter = g_rand_int_range(r->rand, 0, 96);
	gint64 from = r->now + day * DAY;

	from -= from % DAY; /* 00:00 UTC, 02:00 or 03:00 in Helsinki */
	if (chance(r, 0.3))
		quarter = 76 + g_rand_int_range(r->rand, 0, 24); /* 21-03 */
	return from + quarter * 900;
}

static void
add_kind_options(Run *r, const char *kind, GVariantDict *q, GVariantDict *b)
{
	static const char *const episodes[] = { "iv-q24h", "iv-q12h",
						"iv-q8h", "fluids",
						"palliative", "lab", NULL };
	static const char *const contacts[] = { "phone", "field", "office",
						NULL };
	static const char *const reasons[] = { "income", "housing", "family",
					       "coping", "other", NULL };
	GVariant *v = NULL;
	const char *key = NULL;

	if (g_str_equal(kind, "home-hospital") && chance(r, 0.5)) {
		key = "episode";
		v = g_variant_new_string(pick(r, episodes));
	} else if (g_str_equal(kind, "crisis-duty") && chance(r, 0.5)) {
		key = "contact";
		v = g_variant_new_string(pick(r, contacts));
	} else if (g_str_equal(kind, "joint-visit") && chance(r, 0.7)) {
		static const char *const housing[] = { "asumis-1", "asumis-3",
						       "asumis-8", NULL };

		key = "housing-unit";
		v = g_variant_new_string(pick(r, housing));
	} else if (g_str_equal(kind, "walk-in") && chance(r, 0.3)) {
		key = "reason";
		v = g_variant_new_string(pick(r, reasons));
	}
	if (!key)
		return;
	g_variant_ref_sink(v);
	g_variant_dict_insert_value(q, key, v);
	g_variant_dict_insert_value(b, key, v);
	g_variant_unref(v);
}

/* The keys FindSlots and Book share, put in both. */
static void
insert_both(GVariantDict *q, GVariantDict *b, const char *key,
	    const char *value)
{
	g_variant_dict_insert(q, key, "s", value);
	g_variant_dict_insert(b, key, "s", value);
}

static void
request_init(Run *r, const Service *s, const char *client, Request *req)
{
	static const char *const languages[] = { "fi", "sv", "en", NULL };
	static const char *const modalities[] = { "onsite", "home", "phone",
						  "video", NULL };
	static const char *const urgencies[] = { "routine", "urgent",
						 "immediate", NULL };
	g_autofree char *place = chance(r, 0.85) ? spell_place(r) : NULL;
	GVariantDict q, b;

	g_variant_dict_init(&q, NULL);
	g_variant_dict_init(&b, NULL);
	memset(req, 0, sizeof(*req));
	req->service = s->id;
	req->kind = s->kind;
	req->client = g_strdup(client);
	g_variant_dict_insert(&q, "client-ref", "s", client);
	if (place)
		insert_both(&q, &b, "municipality", place);
	if (chance(r, 0.6))
		insert_both(&q, &b, "language", pick(r, languages));
	if (chance(r, 0.2))
		insert_both(&q, &b, "modality", pick(r, modalities));
	if (chance(r, 0.25))
		insert_both(&q, &b, "urgency", pick(r, urgencies));
	req->from = r->now;
	if (chance(r, 0.7)) {
		req->from = MAX(pick_from(r), r->now);
		g_variant_dict_insert(&q, "from", "x", req->from);
	}
	req->to = req->from + 14 * DAY;
	if (chance(r, 0.5)) {
		req->to = req->from + g_rand_int_range(r->rand, 1, 72) * 3600;
		g_variant_dict_insert(&q, "to", "x", req->to);
	}
	req->limit = g_rand_int_range(r->rand, 1, 8);
	g_variant_dict_insert(&q, "limit", "u", req->limit);
	if (chance(r, 0.1)) {
		g_variant_dict_insert(&q, "max-travel-minutes", "u",
				      g_rand_int_range(r->rand, 10, 90));
		req->filtered = TRUE;
	}
	add_kind_options(r, s->kind, &q, &b);
	req->query = g_variant_ref_sink(g_variant_dict_end(&q));
	req->options = g_variant_ref_sink(g_variant_dict_end(&b));
}

static void
request_clear(Request *req)
{
	g_free(req->client);
	g_clear_pointer(&req->query, g_variant_unref);
	g_clear_pointer(&req->options, g_variant_unref);
}

static char *
new_client(Run *r)
{
	return g_strdup_printf("c-%u-%u", r->seed % 100000, ++r->clients);
}

/* ---- calls ---------------------------------------------------------- */

static GVariant *
find(Run *r, const Request *req, GError **error)
{
	return harness_call(&r->h, SCHEDULER, "FindSlots",
			    g_variant_new("(s@a{sv})", req->service,
					  req->query),
			    "(a(ssxxua{sv}))", error);
}

static GVariant *
with_key(GVariant *options, const char *key, const char *value)
{
	GVariantDict d;

	g_variant_dict_init(&d, options);
	g_variant_dict_insert(&d, key, "s", value);
	return g_variant_dict_end(&d);
}

static gboolean
book(Run *r, const char *slot, const char *client, GVariant *options,
     char **ret_id, GError **error)
{
	g_autoptr(GVariant) reply = harness_call(
		&r->h, SCHEDULER, "Book",
		g_variant_new("(ss@a{sv})", slot, client, options), "(s)",
		error);

	if (reply && ret_id)
		g_variant_get(reply, "(s)", ret_id);
	return reply != NULL;
}

static void
disagree(Run *r, const char *what, const Request *req, const char *slot,
	 const GError *error)
{
	g_autofree char *query = g_variant_print(req->query, TRUE);

	r->disagreements++;
	g_test_message("DISAGREEMENT (seed %u): %s: %s slot %s query %s: %s",
		       r->seed, what, req->service, slot, query,
		       error ? error->message : "accepted");
}

/* The first offered slot that is bookable now, or NULL. */
static char *
first_bookable(GVariant *found, guint skip)
{
	g_autoptr(GVariant) slots = g_variant_get_child_value(found, 0);

	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		g_autoptr(GVariant) extras = NULL;
		const char *id;

		g_variant_get_child(slots, i, "(&ssxxu@a{sv})", &id, NULL, NULL,
				    NULL, NULL, &extras);
		if (g_variant_lookup(extras, "bookable-from", "x", NULL))
			continue;
		if (skip-- == 0)
			return g_strdup(id);
	}
	return NULL;
}

static GHashTable *
offered_ids(GVariant *found, guint *ret_count)
{
	g_autoptr(GVariant) slots = g_variant_get_child_value(found, 0);
	GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal,
						g_free, NULL);

	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id;

		g_variant_get_child(slots, i, "(&ssxxu@a{sv})", &id, NULL, NULL,
				    NULL, NULL, NULL);
		g_hash_table_add(ids, g_strdup(id));
	}
	*ret_count = g_variant_n_children(slots);
	return ids;
}

/* ---- the checks ----------------------------------------------------- */

/* Slots of the service in the window, straight from the database. */
static GPtrArray *
window_slots(Run *r, const Request *req)
{
	static const char sql[] =
		"SELECT 's-' || id FROM slot WHERE offering LIKE ?1"
		" AND start >= ?2 AND start < ?3 ORDER BY id";
	g_autofree char *pattern = g_strdup_printf("%%/%s", req->service);
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
	sqlite3_stmt *stmt = NULL;

	g_assert_cmpint(sqlite3_prepare_v2(r->db, sql, -1, &stmt, NULL), ==,
			SQLITE_OK);
	sqlite3_bind_text(stmt, 1, pattern, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 2, MAX(req->from, r->now));
	sqlite3_bind_int64(stmt, 3, req->to);
	while (sqlite3_step(stmt) == SQLITE_ROW)
		g_ptr_array_add(ids, g_strdup((const char *)
					      sqlite3_column_text(stmt, 0)));
	sqlite3_finalize(stmt);
	return ids;
}

/* Slots FindSlots left out of a window it searched to the end must be
 * refused by Book with the same request. */
static void
check_left_out(Run *r, const Request *req, GVariant *found)
{
	guint count;
	g_autoptr(GHashTable) offered = offered_ids(found, &count);
	g_autoptr(GPtrArray) all = NULL;

	if (count >= req->limit || req->filtered)
		return;
	all = window_slots(r, req);
	for (guint n = 0; n < 3 && all->len > 0; n++) {
		guint i = g_rand_int_range(r->rand, 0, all->len);
		const char *slot = all->pdata[i];
		g_autoptr(GError) error = NULL;
		g_autofree char *id = NULL;

		if (g_hash_table_contains(offered, slot))
			continue;
		if (book(r, slot, req->client, req->options, &id, &error))
			disagree(r, "left out but booked", req, slot, NULL);
		else
			r->left_out_refused++;
	}
}

/* Others book around a held slot; the holder's Book still succeeds. */
static void
check_hold(Run *r, const Request *req, const char *slot)
{
	g_autoptr(GVariant) held = NULL;
	g_autoptr(GError) error = NULL;
	const char *hold;

	held = harness_call(&r->h, SCHEDULER, "HoldFor",
			    g_variant_new("(ss@a{sv}u)", slot, req->client,
					  req->options, 300),
			    "(sx)", &error);
	if (!held) {
		disagree(r, "offered but not held", req, slot, error);
		return;
	}
	g_variant_get(held, "(&sx)", &hold, NULL);
	for (guint i = 0; i < 4; i++) {
		g_autofree char *other = new_client(r);
		g_autoptr(GVariant) found = NULL;
		g_autofree char *near = NULL;
		Request around = *req;

		around.query = with_key(req->query, "client-ref", other);
		g_variant_ref_sink(around.query);
		found = find(r, &around, NULL);
		near = found ? first_bookable(found, 0) : NULL;
		if (near)
			book(r, near, other, req->options, NULL, NULL);
		g_variant_unref(around.query);
	}
	if (book(r, slot, req->client, with_key(req->options, "hold", hold),
		 NULL, &error))
		r->held_booked++;
	else
		disagree(r, "held but not booked", req, slot, error);
}

/* Offered slots, booked one after another, re-finding each time. */
static void
check_offered(Run *r, Request *req, guint bookings, gboolean hold)
{
	for (guint k = 0; k < bookings; k++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) found = find(r, req, &error);
		g_autofree char *slot = NULL;

		if (!found) {
			r->find_refused++;
			return;
		}
		if (k == 0)
			check_left_out(r, req, found);
		slot = first_bookable(found, g_rand_int_range(r->rand, 0, 2));
		if (!slot)
			slot = first_bookable(found, 0);
		if (!slot)
			return;
		if (hold && k == 0) {
			check_hold(r, req, slot);
			continue;
		}
		if (book(r, slot, req->client, req->options, NULL, &error))
			r->offered_booked++;
		else
			disagree(r, "offered but refused", req, slot, error);
	}
}

/* ---- series: an episode built from offered visits ------------------- */

typedef struct {
	const char *name;
	gint64 interval;
	guint visits;
} Template;

static const Template templates[] = {
	{ "iv-q24h", DAY, 3 },
	{ "iv-q12h", DAY / 2, 6 },
	{ "iv-q8h", DAY / 3, 9 },
};

/* The offered slot at `unit` starting exactly at `at`, or NULL. */
static char *
offered_at(Run *r, const Request *req, const char *unit, gint64 at)
{
	g_autoptr(GVariant) query = NULL;
	g_autoptr(GVariant) found = NULL;
	g_autoptr(GVariant) slots = NULL;
	GVariantDict d;

	g_variant_dict_init(&d, req->query);
	g_variant_dict_insert(&d, "from", "x", at);
	g_variant_dict_insert(&d, "to", "x", at + 1);
	g_variant_dict_insert(&d, "limit", "u", 50);
	g_variant_dict_insert(&d, "follow-up", "b", TRUE);
	query = g_variant_ref_sink(g_variant_dict_end(&d));
	found = harness_call(&r->h, SCHEDULER, "FindSlots",
			     g_variant_new("(s@a{sv})", req->service, query),
			     "(a(ssxxua{sv}))", NULL);
	if (!found)
		return NULL;
	slots = g_variant_get_child_value(found, 0);
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id, *where;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, &where,
				    NULL, NULL, NULL, NULL);
		if (g_str_equal(where, unit))
			return g_strdup(id);
	}
	return NULL;
}

static gboolean
build_episode(Run *r, const Request *req, const Template *t,
	      GPtrArray *ret_slots)
{
	g_autoptr(GVariant) found = find(r, req, NULL);
	g_autoptr(GVariant) slots = NULL;
	const char *id, *unit;
	gint64 start;

	if (!found)
		return FALSE;
	slots = g_variant_get_child_value(found, 0);
	if (g_variant_n_children(slots) == 0)
		return FALSE;
	g_variant_get_child(slots, 0, "(&s&sxxu@a{sv})", &id, &unit, &start,
			    NULL, NULL, NULL);
	g_ptr_array_add(ret_slots, g_strdup(id));
	for (guint i = 1; i < t->visits; i++) {
		char *next = offered_at(r, req, unit, start + i * t->interval);

		if (!next)
			return FALSE;
		g_ptr_array_add(ret_slots, next);
	}
	return TRUE;
}

static void
check_series(Run *r, const Service *s)
{
	const Template *t = &templates[g_rand_int_range(
		r->rand, 0, G_N_ELEMENTS(templates))];
	g_autofree char *client = new_client(r);
	g_autoptr(GPtrArray) slots = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;
	GVariantDict q, b;
	Request req;

	request_init(r, s, client, &req);
	g_variant_dict_init(&q, req.query);
	g_variant_dict_init(&b, req.options);
	g_variant_dict_insert(&q, "episode", "s", t->name);
	g_variant_dict_insert(&b, "episode", "s", t->name);
	g_variant_dict_remove(&q, "urgency");
	g_variant_dict_remove(&b, "urgency");
	g_variant_dict_remove(&q, "max-travel-minutes");
	g_variant_unref(req.query);
	g_variant_unref(req.options);
	req.query = g_variant_ref_sink(g_variant_dict_end(&q));
	req.options = g_variant_ref_sink(g_variant_dict_end(&b));
	if (build_episode(r, &req, t, slots)) {
		g_ptr_array_add(slots, NULL);
		reply = harness_call(&r->h, SCHEDULER, "BookSeries",
				     g_variant_new("(^ass@a{sv})",
						   (char **)slots->pdata,
						   client, req.options),
				     "(as)", &error);
		if (reply)
			r->series_booked++;
		else
			disagree(r, "episode of offered visits refused", &req,
				 slots->pdata[0], error);
	}
	request_clear(&req);
}

/* ---- the run -------------------------------------------------------- */

static guint
pairs(const Run *r)
{
	return r->offered_booked + r->left_out_refused + r->held_booked +
	       r->series_booked;
}

static void
one_request(Run *r)
{
	const Service *s = r->services->pdata[g_rand_int_range(
		r->rand, 0, r->services->len)];
	g_autofree char *client = new_client(r);
	Request req;

	if (g_str_equal(s->kind, "home-hospital") && chance(r, 0.1)) {
		check_series(r, s);
		return;
	}
	request_init(r, s, client, &req);
	check_offered(r, &req, g_rand_int_range(r->rand, 1, 4),
		      chance(r, 0.2));
	request_clear(&req);
}

/* No slot over capacity; every counter equals the seats behind it. */
static void
check_store(Run *r)
{
	static const char sql[] =
		"SELECT count(*) FROM slot s WHERE s.booked + s.held >"
		" s.capacity OR s.booked <> (SELECT coalesce(sum(seats), 0)"
		" FROM booking_use u WHERE u.slot = s.id) OR s.held <>"
		" (SELECT coalesce(sum(seats), 0) FROM hold_use h"
		" WHERE h.slot = s.id)";
	sqlite3_stmt *stmt = NULL;

	g_assert_cmpint(sqlite3_prepare_v2(r->db, sql, -1, &stmt, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	g_assert_cmpint(sqlite3_column_int(stmt, 0), ==, 0);
	sqlite3_finalize(stmt);
}

static void
run_start(Run *r, gint64 now, guint horizon_days)
{
	const char *config = g_getenv("SLOTD_AGREE_CONFIG");
	g_autofree char *entry = NULL, *dir = NULL;
	g_autofree char *region = NULL;
	g_autofree char *db = NULL;

	harness_init(&r->h);
	r->h.horizon_days = config ? 0 : horizon_days;
	r->h.test_time = g_strdup_printf("%" G_GINT64_FORMAT, now);
	entry = config ? g_strdup(config) : harness_copy_example(&r->h);
	harness_start_slotd(&r->h, entry);
	r->now = now;
	r->horizon_days = horizon_days;
	dir = g_path_get_dirname(entry);
	region = g_build_filename(dir, "region.conf", NULL);
	read_places(r, region);
	read_services(r);
	db = g_build_filename(r->h.state_dir, "slotd.db", NULL);
	g_assert_cmpint(sqlite3_open_v2(db, &r->db, SQLITE_OPEN_READONLY,
					NULL),
			==, SQLITE_OK);
}

static void
run_stop(Run *r)
{
	check_store(r);
	sqlite3_close(r->db);
	r->db = NULL;
	g_ptr_array_set_size(r->services, 0);
	g_ptr_array_set_size(r->places, 0);
	g_assert_cmpint(harness_stop_slotd(&r->h, SIGTERM), ==, 0);
	harness_clear(&r->h);
}

static guint32
seed_from_env(void)
{
	const char *text = g_getenv("SLOTD_AGREE_SEED");

	return text ? (guint32)g_ascii_strtoull(text, NULL, 10)
		    : g_random_int();
}

/* One clock each: a Monday morning (the weeks to Christmas and New
 * Year), a Monday afternoon while walk-in sessions run, and the
 * Saturday night before the spring clock change (Easter 2027). */
static void
test_find_then_book(void)
{
	/* Half a minute past the quarter: the daemon's clock runs, and
	 * a slot offered at its very first second would have started by
	 * the time it is booked. */
	const gint64 clocks[] = {
		harness_local(2026, 12, 7, 7, 0) + 30,
		harness_local(2026, 12, 14, 13, 20) + 30,
		harness_local(2027, 3, 27, 22, 0) + 30,
	};
	const char *text = g_getenv("SLOTD_AGREE_PAIRS");
	guint want = text ? (guint)g_ascii_strtoull(text, NULL, 10) : 240;
	Run r = { 0 };

	r.seed = seed_from_env();
	r.rand = g_rand_new_with_seed(r.seed);
	r.services = g_ptr_array_new_with_free_func(service_free);
	r.places = g_ptr_array_new_with_free_func(place_free);
	g_test_message("agreement: SLOTD_AGREE_SEED=%u SLOTD_AGREE_PAIRS=%u",
		       r.seed, want);
	for (guint c = 0; c < G_N_ELEMENTS(clocks); c++) {
		guint target = want * (c + 1) / G_N_ELEMENTS(clocks);

		run_start(&r, clocks[c], c == 0 ? 30 : 10);
		while (pairs(&r) < target && r.disagreements < 20)
			one_request(&r);
		run_stop(&r);
	}
	g_test_message("agreement: %u pairs (%u offered->booked, %u "
		       "left-out->refused, %u hold->book, %u series), %u "
		       "finds refused, %u disagreements; seed %u",
		       pairs(&r), r.offered_booked, r.left_out_refused,
		       r.held_booked, r.series_booked, r.find_refused,
		       r.disagreements, r.seed);
	printf("# agreement: %u pairs, %u disagreements, seed %u\n",
	       pairs(&r), r.disagreements, r.seed);
	if (r.disagreements > 0)
		g_error("%u disagreements; repeat with SLOTD_AGREE_SEED=%u",
			r.disagreements, r.seed);
	g_assert_cmpuint(r.offered_booked, >, 0);
	g_assert_cmpuint(r.left_out_refused, >, 0);
	g_assert_cmpuint(r.held_booked, >, 0);
	g_rand_free(r.rand);
	g_ptr_array_unref(r.services);
	g_ptr_array_unref(r.places);
}

/* Right after a start, with a year of slots still to build, FindSlots
 * far ahead answers either slots or ServiceUnavailable (saying from
 * when slots are still being prepared), never an empty "nothing free". */
static void
test_startup_is_honest(void)
{
	Harness h = { 0 };
	gint64 far = harness_local(2027, 10, 4, 8, 0);
	guint unavailable = 0, answered = 0;

	harness_init(&h);
	h.horizon_days = 365;
	h.early = TRUE;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	harness_start_slotd(&h, NULL);
	while (answered == 0) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) found = harness_call(
			&h, SCHEDULER, "FindSlots",
			g_variant_new_parsed("('crisis-duty-west', "
					     "{'from': <%x>, 'to': <%x>})",
					     far, far + DAY),
			"(a(ssxxua{sv}))", &error);

		if (found) {
			g_autoptr(GVariant) slots =
				g_variant_get_child_value(found, 0);

			g_assert_cmpuint(g_variant_n_children(slots), >, 0);
			answered++;
			continue;
		}
		harness_assert_dbus_error(
			error, "org.slotd.Error.ServiceUnavailable");
		g_assert_nonnull(strstr(error->message, "being prepared"));
		unavailable++;
		g_assert_cmpuint(unavailable, <, 6000);
		g_usleep(10000);
	}
	g_test_message("startup: %u ServiceUnavailable answers before the "
		       "slots were in place", unavailable);
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agreement/whatever-find-offers-book-accepts",
			test_find_then_book);
	g_test_add_func("/agreement/startup-never-answers-nothing-free-for-"
			"slots-not-built",
			test_startup_is_honest);
	return g_test_run();
}
