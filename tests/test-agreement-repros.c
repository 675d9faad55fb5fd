/* What FindSlots offers, Book accepts: regression tests of the one
 * admission rule on the real daemon with the example region on a
 * private bus. The measurement (13 % of offered slots refused
 * by Book) and the rules that used to disagree: holds, care-episode
 * series, walk-in check-in and referral times, a home visit's shift,
 * field visits, rescheduling, walk-in tickets. Every refusal must also
 * leave the database as it was.
 *
 * Each test runs in its own process with its own daemon, so that one
 * that finds a bug does not stop the others. The daemon's clock starts
 * on Monday 2026-12-07 07:00 Helsinki time, at 07:10 for the slots under
 * way, or at 13:00 that Monday for the walk-in tests (sessions open). */
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define SCHED "org.slotd.Scheduler1"
#define HHW "home-hospital-west"
#define CDW "crisis-duty-west"
#define WALK "social-counselling-walk-in"
#define SNA "needs-assessment-west"
#define HORIZON_DAYS 14
#define NOBODY "65534"

/* Everything a refusal must leave alone. */
#define DIGEST_SQL                                                       \
	"SELECT count(*), total(seats), total(start), total(\"end\"),"   \
	" total(sequence), total(slot), group_concat(status, '')"        \
	" FROM booking;"                                                  \
	"SELECT total(booked), total(held) FROM slot;"                    \
	"SELECT count(*), total(seats), total(slot) FROM booking_use;"    \
	"SELECT count(*) FROM hold;"                                      \
	"SELECT count(*), total(seats) FROM hold_use;"                    \
	"SELECT count(*) FROM audit;"

/* ---- the daemon ---------------------------------------------------------- */

static gint64
dec(int day, int hour, int minute)
{
	return harness_local(2026, 12, day, hour, minute);
}

/* Each test in its own process: a failed assertion (a bug found) fails
 * that test only. Returns TRUE in the child, which runs the test. */
static gboolean
in_subprocess(void)
{
	if (g_test_subprocess())
		return TRUE;
	g_test_trap_subprocess(NULL, 0,
			       G_TEST_SUBPROCESS_INHERIT_STDOUT |
				       G_TEST_SUBPROCESS_INHERIT_STDERR);
	g_test_trap_assert_passed();
	return FALSE;
}

/* A line in the test's output; a child's g_test_message is not shown. */
static void
note(const char *format, ...) G_GNUC_PRINTF(1, 2);

static void
note(const char *format, ...)
{
	g_autofree char *text = NULL;
	va_list ap;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	if (g_test_subprocess()) {
		/* Not g_print: it would turn "±" into "?" in the C locale. */
		fprintf(stdout, "# %s\n", text);
		fflush(stdout);
	} else
		g_test_message("%s", text);
}

static void
set_clock(Harness *h, int hour, int minute)
{
	h->horizon_days = HORIZON_DAYS;
	h->test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				       dec(7, hour, minute));
}

/* The example region, the clock at Monday HOUR:MINUTE. */
static void
start_at(Harness *h, int hour, int minute)
{
	harness_init(h);
	set_clock(h, hour, minute);
	harness_start_slotd(h, NULL);
}

static void
finish(Harness *h)
{
	harness_finish(h, 0);
}

/* ---- calls --------------------------------------------------------------- */

static void
put_string(GVariantDict *d, const char *key, const char *value)
{
	if (value)
		g_variant_dict_insert(d, key, "s", value);
}

/* Book options (and the start of a query) for a client's request. */
static GVariantDict *
request_dict(const char *municipality, const char *language)
{
	GVariantDict *d = g_variant_dict_new(NULL);

	put_string(d, "municipality", municipality);
	put_string(d, "language", language);
	return d;
}

static GVariant *
request_options(const char *municipality, const char *language)
{
	g_autoptr(GVariantDict) d = request_dict(municipality, language);

	return g_variant_dict_end(d);
}

/* A query for starts in [from, to). */
static GVariantDict *
query_dict(const char *municipality, const char *language, gint64 from,
	   gint64 to, guint limit)
{
	GVariantDict *d = request_dict(municipality, language);

	g_variant_dict_insert(d, "from", "x", from);
	g_variant_dict_insert(d, "to", "x", to);
	g_variant_dict_insert(d, "limit", "u", limit);
	return d;
}

static GVariant *
find_slots(Harness *h, const char *service, GVariant *query, GError **error)
{
	g_autoptr(GVariant) r = harness_call(
		h, SCHED, "FindSlots",
		g_variant_new("(s@a{sv})", service, query),
		"(a(ssxxua{sv}))", error);

	return r ? g_variant_get_child_value(r, 0) : NULL;
}

static GVariant *
find_dict(Harness *h, const char *service, GVariantDict *query)
{
	return harness_find(h, service, g_variant_dict_end(query));
}

/* The id of the offered slot of `unit` starting at `start`, or NULL;
 * its free count and extras go to the optional outputs. */
static char *
offered(GVariant *slots, const char *unit, gint64 start, guint *ret_free,
	GVariant **ret_extras)
{
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		g_autoptr(GVariant) extras = NULL;
		const char *id, *u;
		gint64 s;
		guint free;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, &u, &s,
				    NULL, &free, &extras);
		if (!g_str_equal(u, unit) || s != start)
			continue;
		if (ret_free)
			*ret_free = free;
		if (ret_extras)
			*ret_extras = g_steal_pointer(&extras);
		return g_strdup(id);
	}
	return NULL;
}

/* FindSlots must offer `unit` at `start` for the request in `query`. */
static char *
offered_at(Harness *h, const char *service, GVariantDict *query,
	   const char *unit, gint64 start, guint *ret_free)
{
	g_autoptr(GVariant) slots = find_dict(h, service, query);
	char *id = offered(slots, unit, start, ret_free, NULL);

	if (!id) {
		g_autofree char *when = g_strdup_printf("%" G_GINT64_FORMAT,
							start);

		g_error("%s: no %s slot offered at %s among %" G_GSIZE_FORMAT
			" slots",
			service, unit, when, g_variant_n_children(slots));
	}
	return id;
}

static char *
book(Harness *h, const char *slot, const char *client, GVariant *options,
     GError **error)
{
	return harness_book(h, slot, client, options, error);
}

static char *
book_ok(Harness *h, const char *slot, const char *client, GVariant *options)
{
	g_autoptr(GError) error = NULL;
	char *id = book(h, slot, client, options, &error);

	g_assert_no_error(error);
	g_assert_nonnull(id);
	return id;
}

static gboolean
reschedule(Harness *h, const char *booking, const char *slot, GError **error)
{
	g_autoptr(GVariant) r = harness_call(h, SCHED, "Reschedule",
					     g_variant_new("(ss)", booking,
							   slot),
					     "(s)", error);

	return r != NULL;
}

static void
cancel(Harness *h, const char *booking, const char *reason)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(h, SCHED, "Cancel",
					     g_variant_new("(ss)", booking,
							   reason),
					     NULL, &error);

	g_assert_no_error(error);
}

static GVariant *
get_booking(Harness *h, const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(h, SCHED, "GetBooking",
					     g_variant_new("(s)", id),
					     "(a{sv})", &error);

	g_assert_no_error(error);
	return g_variant_get_child_value(r, 0);
}

static gint64
booking_int64(Harness *h, const char *id, const char *key)
{
	g_autoptr(GVariant) b = get_booking(h, id);
	gint64 value = 0;

	g_assert_true(g_variant_lookup(b, key, "x", &value));
	return value;
}

static guint
booking_uint(Harness *h, const char *id, const char *key)
{
	g_autoptr(GVariant) b = get_booking(h, id);
	guint32 value = 0;

	g_assert_true(g_variant_lookup(b, key, "u", &value));
	return value;
}

static char *
booking_string(Harness *h, const char *id, const char *key)
{
	g_autoptr(GVariant) b = get_booking(h, id);
	char *value = NULL;

	g_assert_true(g_variant_lookup(b, key, "s", &value));
	return value;
}

/* ---- the database -------------------------------------------------------- */

static char *
sql(Harness *h, const char *query)
{
	g_autofree char *db = g_build_filename(h->state_dir, "slotd.db", NULL);
	const char *argv[] = { "sqlite3", db, query, NULL };
	g_autofree char *err = NULL;
	char *out = NULL;

	if (harness_run(h, &out, &err, argv) != 0)
		g_error("sqlite3 failed on \"%s\": %s", query, err);
	return g_strchomp(out);
}

static gint64
sql_int(Harness *h, const char *query)
{
	g_autofree char *out = sql(h, query);

	return g_ascii_strtoll(out, NULL, 10);
}

/* "b-12" -> 12, "s-7" -> 7, "h-3" -> 3 */
static gint64
row_id(const char *id)
{
	g_assert_nonnull(id);
	g_assert_cmpuint(strlen(id), >, 2);
	return g_ascii_strtoll(id + 2, NULL, 10);
}

static char *
digest(Harness *h)
{
	return sql(h, DIGEST_SQL);
}

/* A refusal with D-Bus error `name` that changed nothing. */
static void
assert_refused_unchanged(Harness *h, const char *before, GError *error,
			 const char *name)
{
	g_autofree char *after = digest(h);

	harness_assert_dbus_error(error, name);
	g_assert_cmpstr(after, ==, before);
}

/* The slot id ("s-N") of an offering's ("UNIT/SERVICE") slot at
 * `start` from the store: for slots FindSlots rightly does not offer. */
static char *
stored_slot(Harness *h, const char *offering, const char *kind,
	    gint64 start)
{
	g_autofree char *query = g_strdup_printf(
		"SELECT id FROM slot WHERE offering = '%s' AND kind = '%s'"
		" AND start = %" G_GINT64_FORMAT ";",
		offering, kind, start);
	gint64 id = sql_int(h, query);

	g_assert_cmpint(id, >, 0);
	return g_strdup_printf("s-%" G_GINT64_FORMAT, id);
}

/* Every slot's booked counter is the sum of what the live bookings
 * take of it, and each booking takes its stored seats in every slot of
 * its run. */
static void
assert_counters_agree(Harness *h)
{
	g_assert_cmpint(
		sql_int(h, "SELECT count(*) FROM slot s WHERE s.booked !="
			   " (SELECT coalesce(sum(u.seats), 0) FROM"
			   " booking_use u WHERE u.slot = s.id);"),
		==, 0);
	g_assert_cmpint(
		sql_int(h, "SELECT count(*) FROM slot s WHERE s.held !="
			   " (SELECT coalesce(sum(u.seats), 0) FROM"
			   " hold_use u WHERE u.slot = s.id);"),
		==, 0);
	g_assert_cmpint(
		sql_int(h, "SELECT count(*) FROM booking_use u JOIN booking b"
			   " ON b.id = u.booking WHERE u.seats != b.seats;"),
		==, 0);
}

/* The slots a booking takes, in order, as "id,id,..." */
static char *
booking_slots(Harness *h, const char *booking)
{
	g_autofree char *query = g_strdup_printf(
		"SELECT group_concat(slot) FROM (SELECT slot FROM booking_use"
		" WHERE booking = %" G_GINT64_FORMAT " ORDER BY slot);",
		row_id(booking));

	return sql(h, query);
}

static gint64
booking_slot_count(Harness *h, const char *booking)
{
	g_autofree char *query = g_strdup_printf(
		"SELECT count(*) FROM booking_use WHERE booking = %"
		G_GINT64_FORMAT ";", row_id(booking));

	return sql_int(h, query);
}

/* ---- 1. the measurement ------------------------------------------ */

static const char *const agreement_homes[] = {
	"Lohja", "Raasepori", "Hanko", "Espoo",
	"Porvoo", "Loviisa", "Sipoo", "Inkoo", NULL
};
static const char *const agreement_languages[] = { "fi", "sv", NULL };

typedef struct {
	Harness *h;
	guint searches;
	guint unserved;	/* FindSlots said why no unit can serve */
	guint empty;	/* nothing that day */
	guint later;	/* only sessions whose check-in opens later */
	guint booked;
	guint refused;
	guint clients;
} Tally;

static GPtrArray *
list_services(Harness *h)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(h, SCHED, "ListServices", NULL,
					     "(a(sss))", &error);
	g_autoptr(GVariant) list = NULL;
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);

	g_assert_no_error(error);
	list = g_variant_get_child_value(r, 0);
	for (gsize i = 0; i < g_variant_n_children(list); i++) {
		const char *id;

		g_variant_get_child(list, i, "(&sss)", &id, NULL, NULL);
		g_ptr_array_add(ids, g_strdup(id));
	}
	return ids;
}

/* The first offered slot bookable now: a walk-in session whose
 * check-in opens later is offered with bookable-from, not for Book. */
static char *
first_bookable(GVariant *slots, char **ret_unit, gint64 *ret_start)
{
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		g_autoptr(GVariant) extras = NULL;
		const char *id, *unit;
		gint64 start;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, &unit,
				    &start, NULL, NULL, &extras);
		if (g_variant_lookup(extras, "bookable-from", "x", NULL))
			continue;
		*ret_unit = g_strdup(unit);
		*ret_start = start;
		return g_strdup(id);
	}
	return NULL;
}

static void
agree_once(Tally *t, const char *service, const char *home,
	   const char *language, gint64 from, gint64 to)
{
	g_autofree char *client = g_strdup_printf("c-agree-%u", ++t->clients);
	g_autoptr(GVariantDict) q = query_dict(home, language, from, to, 5);
	g_autoptr(GVariant) slots = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *slot = NULL, *unit = NULL, *before = NULL;
	g_autofree char *booking = NULL, *name = NULL;
	gint64 start = 0;

	put_string(q, "client-ref", client);
	t->searches++;
	slots = find_slots(t->h, service, g_variant_dict_end(q), &error);
	if (!slots) {
		/* No unit of the service serves this client at all. */
		harness_assert_dbus_error(error,
					  "org.slotd.Error.PolicyViolation");
		t->unserved++;
		return;
	}
	if (g_variant_n_children(slots) == 0) {
		t->empty++;
		return;
	}
	slot = first_bookable(slots, &unit, &start);
	if (!slot) {
		t->later++;
		return;
	}
	before = digest(t->h);
	booking = book(t->h, slot, client, request_options(home, language),
		       &error);
	if (booking) {
		t->booked++;
		return;
	}
	t->refused++;
	name = g_dbus_error_get_remote_error(error);
	note("offered but refused: %s %s/%s %s at %s (%" G_GINT64_FORMAT
	     "): %s",
	     service, home, language, slot, unit, start, error->message);
	assert_refused_unchanged(t->h, before, error, name);
}

static void
agree_day(Tally *t, const char *service, gint64 from, gint64 to)
{
	for (guint m = 0; agreement_homes[m]; m++)
		for (guint l = 0; agreement_languages[l]; l++)
			agree_once(t, service, agreement_homes[m],
				   agreement_languages[l], from, to);
}

static void
test_find_then_book_agree(void)
{
	Harness h;
	Tally t = { &h };
	g_autoptr(GPtrArray) services = NULL;
	/* Tuesday and Wednesday, whole local days. */
	const gint64 days[][2] = { { dec(8, 0, 0), dec(9, 0, 0) },
				   { dec(9, 0, 0), dec(10, 0, 0) } };

	if (!in_subprocess())
		return;
	start_at(&h, 7, 0);
	services = list_services(&h);
	g_assert_cmpuint(services->len, >=, 9);
	for (guint s = 0; s < services->len; s++)
		for (guint d = 0; d < G_N_ELEMENTS(days); d++)
			agree_day(&t, services->pdata[s], days[d][0],
				  days[d][1]);
	note("agreement: %u services, %u searches: %u no unit serves the "
	     "client, %u nothing that day, %u only sessions not open yet; "
	     "%u offered slots booked, %u refused (%.1f %%)",
	     services->len, t.searches, t.unserved, t.empty, t.later,
	     t.booked, t.refused,
	     t.booked + t.refused ? 100.0 * t.refused / (t.booked + t.refused)
				  : 0.0);
	g_assert_cmpuint(t.booked, >, t.searches / 2);
	g_assert_cmpuint(t.refused, ==, 0);
	assert_counters_agree(&h);
	finish(&h);
}

/* ---- 1b. the free count -------------------------------------------------- */

typedef struct {
	const char *service;
	const char *unit;
	gint64 at;
	const char *municipality;
	const char *language;
	const char *contact;	/* crisis-duty: NULL for phone */
	guint free;		/* what the configuration gives */
	const char *full;	/* the refusal once they are taken */
} FreeCase;

static GVariant *
case_options(const FreeCase *c)
{
	g_autoptr(GVariantDict) d = request_dict(c->municipality, c->language);

	put_string(d, "contact", c->contact);
	return g_variant_ref_sink(g_variant_dict_end(d));
}

static GVariantDict *
case_query(const FreeCase *c)
{
	g_autoptr(GVariant) options = case_options(c);
	GVariantDict *d = g_variant_dict_new(options);

	g_variant_dict_insert(d, "from", "x", c->at);
	g_variant_dict_insert(d, "to", "x", c->at + 60);
	g_variant_dict_insert(d, "limit", "u", 20);
	return d;
}

/* FindSlots' free count for a request is how many such bookings Book
 * accepts: that many clients book the slot, then FindSlots no longer
 * offers it and the next Book is refused without a change. */
static void
free_count_is_taken(Harness *h, const FreeCase *c, guint *clients)
{
	g_autoptr(GVariantDict) q = case_query(c);
	g_autoptr(GVariantDict) q2 = case_query(c);
	g_autoptr(GVariant) after = NULL;
	g_autofree char *slot = NULL, *gone = NULL, *before = NULL;
	g_autofree char *refused = NULL, *last = NULL;
	g_autoptr(GError) error = NULL;
	guint free = 0;

	slot = offered_at(h, c->service, q, c->unit, c->at, &free);
	g_assert_cmpuint(free, ==, c->free);
	for (guint i = 0; i < free; i++) {
		g_autofree char *client = g_strdup_printf("c-free-%u",
							  ++*clients);
		g_autofree char *b = book_ok(h, slot, client,
					     case_options(c));
	}
	after = find_dict(h, c->service, q2);
	gone = offered(after, c->unit, c->at, NULL, NULL);
	g_assert_null(gone);
	last = g_strdup_printf("c-free-%u", ++*clients);
	before = digest(h);
	refused = book(h, slot, last, case_options(c), &error);
	g_assert_null(refused);
	assert_refused_unchanged(h, before, error, c->full);
	note("free count %u at %s: %s", free, c->unit, error->message);
}

static void
test_free_count_is_what_book_takes(void)
{
	const FreeCase cases[] = {
		/* Six day nurses; a visit takes one for 120 min. */
		{ HHW, "W-HH-ESP", dec(8, 9, 0), "Espoo", "fi", NULL, 6,
		  "org.slotd.Error.SlotFull" },
		/* The one night nurse at Lohja. */
		{ HHW, "W-HH-LOH", dec(8, 23, 0), "Lohja", "fi", NULL, 1,
		  "org.slotd.Error.SlotFull" },
		{ SNA, "W-SNA-LV", dec(8, 8, 30), "Lohja", NULL, NULL, 3,
		  "org.slotd.Error.SlotFull" },
		/* Four evening staff at Jorvi: four calls, two pairs. */
		{ CDW, "W-SKP", dec(8, 20, 0), "Espoo", "fi", NULL, 4,
		  "org.slotd.Error.SlotFull" },
		{ CDW, "W-SKP", dec(8, 16, 0), "Lohja", "fi", "field", 2,
		  "org.slotd.Error.SlotFull" },
		/* One of them speaks Swedish. */
		{ CDW, "W-SKP", dec(9, 18, 0), "Espoo", "sv", NULL, 1,
		  "org.slotd.Error.PolicyViolation" },
	};
	guint clients = 0;
	Harness h;

	if (!in_subprocess())
		return;
	start_at(&h, 7, 0);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		free_count_is_taken(&h, &cases[i], &clients);
	assert_counters_agree(&h);
	finish(&h);
}

/* ---- 1c. slots under way ------------------------------------------------- */

static GVariantDict *
urgency_query(const char *municipality, const char *urgency)
{
	GVariantDict *d = request_dict(municipality, "fi");

	put_string(d, "urgency", urgency);
	g_variant_dict_insert(d, "limit", "u", 5);
	return d;
}

/* The first slot offered, its unit and start. */
static char *
first_slot(GVariant *slots, char **ret_unit, gint64 *ret_start)
{
	const char *id, *unit;

	g_assert_cmpuint(g_variant_n_children(slots), >, 0);
	g_variant_get_child(slots, 0, "(&s&sxxu@a{sv})", &id, &unit,
			    ret_start, NULL, NULL, NULL);
	*ret_unit = g_strdup(unit);
	return g_strdup(id);
}

/* Without `from`, an urgent request is offered the slot under way and
 * Book takes it; with `from` (the earliest start) it is not offered. */
static void
urgent_takes_slot_under_way(Harness *h, const char *service,
			    const char *municipality, const char *unit,
			    gint64 under_way)
{
	g_autoptr(GVariantDict) q = urgency_query(municipality, "urgent");
	g_autoptr(GVariantDict) with_from = urgency_query(municipality,
							  "urgent");
	g_autoptr(GVariant) slots = find_dict(h, service, q);
	g_autoptr(GVariant) later = NULL;
	g_autofree char *u = NULL, *slot = NULL, *booking = NULL;
	g_autoptr(GVariantDict) opts = urgency_query(municipality, "urgent");
	gint64 start = 0, first = 0;

	slot = first_slot(slots, &u, &start);
	g_assert_cmpstr(u, ==, unit);
	g_assert_cmpint(start, ==, under_way);
	g_variant_dict_remove(opts, "limit");
	booking = book_ok(h, slot, "c-urgent-1", g_variant_dict_end(opts));
	g_assert_cmpint(booking_int64(h, booking, "start"), ==, under_way);
	g_variant_dict_insert(with_from, "from", "x", under_way);
	later = find_dict(h, service, with_from);
	g_clear_pointer(&u, g_free);
	g_clear_pointer(&slot, g_free);
	slot = first_slot(later, &u, &first);
	g_assert_cmpint(first, >=, dec(7, 7, 10));
}

/* A routine request is not offered the slot under way, and Book of it
 * is refused without a change. */
static void
routine_not_under_way(Harness *h, const char *service,
		      const char *municipality, const char *offering,
		      const char *kind, gint64 under_way)
{
	g_autoptr(GVariantDict) q = urgency_query(municipality, "routine");
	g_autoptr(GVariant) slots = find_dict(h, service, q);
	g_autofree char *u = NULL, *slot = NULL, *booking = NULL;
	g_autofree char *started = stored_slot(h, offering, kind, under_way);
	g_autofree char *before = NULL;
	g_autoptr(GError) error = NULL;
	gint64 start = 0;

	slot = first_slot(slots, &u, &start);
	g_assert_cmpint(start, >=, dec(7, 7, 10));
	before = digest(h);
	booking = book(h, started, "c-routine-1",
		       request_options(municipality, "fi"), &error);
	g_assert_null(booking);
	assert_refused_unchanged(h, before, error,
				 "org.slotd.Error.PolicyViolation");
}

static void
test_slots_under_way_only_without_from(void)
{
	Harness h;

	if (!in_subprocess())
		return;
	start_at(&h, 7, 10);
	routine_not_under_way(&h, HHW, "Espoo", "W-HH-ESP/" HHW, "visit",
			      dec(7, 7, 0));
	routine_not_under_way(&h, CDW, "Espoo", "W-SKP/" CDW, "morning",
			      dec(7, 7, 0));
	urgent_takes_slot_under_way(&h, HHW, "Espoo", "W-HH-ESP",
				    dec(7, 7, 0));
	urgent_takes_slot_under_way(&h, CDW, "Espoo", "W-SKP",
				    dec(7, 7, 0));
	assert_counters_agree(&h);
	finish(&h);
}

/* ---- 2. holds ------------------------------------------------------------ */

/* The example region at Monday 07:00; with a second caller, on a bus
 * it can reach and with its group given the book role. */
static void
start_for_two_callers(Harness *h, gid_t group)
{
	g_autofree char *entry = NULL;

	if (group == HARNESS_NO_GROUP) {
		start_at(h, 7, 0);
		return;
	}
	harness_init_open(h);
	set_clock(h, 7, 0);
	entry = harness_copy_example(h);
	harness_set_key(entry, "access", "book-groups", "users");
	harness_start_slotd(h, entry);
}

/* Runs dbus-send as nobody in `group`; the exit code, stderr. */
static int
send_as_nobody(Harness *h, gid_t group, const char *member,
	       const char *arg, char **ret_err)
{
	g_autofree char *method = g_strconcat(SCHED ".", member, NULL);
	g_autofree char *value = g_strconcat("string:", arg, NULL);
	const char *argv[] = { "dbus-send", "--session", "--print-reply",
			       "--dest=org.slotd.Slotd1", "/org/slotd/Slotd1",
			       method, value, NULL };

	return harness_run_as_nobody(h, group, argv, NULL, ret_err);
}

static char *
hold_for(Harness *h, const char *slot, const char *client,
	 GVariant *options, guint seconds, gint64 *ret_expires)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(
		h, SCHED, "HoldFor",
		g_variant_new("(ss@a{sv}u)", slot, client, options, seconds),
		"(sx)", &error);
	char *hold = NULL;

	g_assert_no_error(error);
	g_variant_get(r, "(sx)", &hold, ret_expires);
	return hold;
}

static char *
hold_plain(Harness *h, const char *slot, guint seconds)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(h, SCHED, "Hold",
					     g_variant_new("(su)", slot,
							   seconds),
					     "(s)", &error);
	char *hold = NULL;

	g_assert_no_error(error);
	g_variant_get(r, "(s)", &hold);
	return hold;
}

static void
release_hold(Harness *h, const char *hold, GError **error)
{
	g_autoptr(GVariant) r = harness_call(h, SCHED, "ReleaseHold",
					     g_variant_new("(s)", hold), NULL,
					     error);
}

static char *
hold_slots(Harness *h, const char *hold)
{
	g_autofree char *query = g_strdup_printf(
		"SELECT group_concat(slot) FROM (SELECT slot FROM hold_use"
		" WHERE hold = %" G_GINT64_FORMAT " ORDER BY slot);",
		row_id(hold));

	return sql(h, query);
}

/* Books what FindSlots offers to other clients in [from, to) until it
 * offers nothing there; every offered slot must be accepted. The
 * bookings go to `ret_bookings`. */
static void
fill_around(Harness *h, const char *home, const char *language, gint64 from,
	    gint64 to, GPtrArray *ret_bookings)
{
	for (guint round = 0; round < 32; round++) {
		g_autofree char *client = g_strdup_printf("c-around-%s-%u",
							  home, round);
		g_autoptr(GVariantDict) q = query_dict(home, language, from,
						       to, 1);
		g_autoptr(GVariant) slots = NULL;
		const char *slot;

		put_string(q, "client-ref", client);
		slots = find_dict(h, HHW, q);
		if (g_variant_n_children(slots) == 0)
			return;
		g_variant_get_child(slots, 0, "(&ssxxu@a{sv})", &slot, NULL,
				    NULL, NULL, NULL, NULL);
		g_ptr_array_add(ret_bookings,
				book_ok(h, slot, client,
					request_options(home, language)));
	}
	g_error("FindSlots kept offering slots around the hold");
}

/* Nobody else gets the held nurse: neither Book nor Reschedule. */
static void
assert_held(Harness *h, const char *slot, const char *other_booking)
{
	g_autofree char *before = digest(h);
	g_autoptr(GError) error = NULL;

	g_assert_null(book(h, slot, "c-hold-thief",
			   request_options("Raasepori", "fi"), &error));
	assert_refused_unchanged(h, before, error, "org.slotd.Error.SlotFull");
	g_clear_error(&error);
	g_assert_false(reschedule(h, other_booking, slot, &error));
	assert_refused_unchanged(h, before, error, "org.slotd.Error.SlotFull");
}

static void
hold_protects_visit(Harness *h)
{
	const gint64 at = dec(7, 20, 0);
	g_autoptr(GVariantDict) q = query_dict("Hanko", "sv", at, at + 60, 5);
	g_autofree char *slot = NULL, *hold = NULL, *reserved = NULL;
	g_autofree char *booking = NULL, *taken = NULL;
	g_autoptr(GPtrArray) around = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) run = NULL;
	GVariantDict *opts;
	gint64 expires = 0;

	put_string(q, "client-ref", "c-hold-hanko");
	slot = offered_at(h, HHW, q, "W-HH-RAS", at, NULL);
	hold = hold_for(h, slot, "c-hold-hanko",
			request_options("Hanko", "sv"), 600, &expires);
	g_assert_cmpint(expires, >=, dec(7, 7, 0) + 600);
	g_assert_cmpint(expires, <, dec(7, 7, 0) + 600 + 300);
	/* A first visit of 60 min and 2 x 30 min to Hanko: 20:00-22:00. */
	reserved = hold_slots(h, hold);
	run = g_strsplit(reserved, ",", -1);
	g_assert_cmpuint(g_strv_length(run), ==, 4);
	fill_around(h, "Raasepori", "fi", dec(7, 17, 0), dec(7, 22, 30),
		    around);
	fill_around(h, "Inkoo", "sv", dec(7, 17, 0), dec(7, 22, 30), around);
	fill_around(h, "Hanko", "sv", dec(7, 17, 0), dec(7, 22, 30), around);
	note("hold: %u other visits booked around it", around->len);
	g_assert_cmpuint(around->len, >, 0);
	assert_held(h, slot, around->pdata[0]);
	/* The hold's client books exactly what was held. */
	opts = request_dict("Hanko", "sv");
	put_string(opts, "hold", hold);
	booking = book_ok(h, slot, "c-hold-hanko", g_variant_dict_end(opts));
	g_variant_dict_unref(opts);
	g_assert_cmpint(booking_int64(h, booking, "start"), ==, at);
	taken = booking_slots(h, booking);
	g_assert_cmpstr(taken, ==, reserved);
	g_assert_cmpint(sql_int(h, "SELECT count(*) FROM hold;"), ==, 0);
	assert_counters_agree(h);
}

/* The free count FindSlots shows for `unit` at `start`; takes `q`. */
static guint
free_at(Harness *h, const char *service, GVariantDict *q, const char *unit,
	gint64 start)
{
	guint free = 0;
	g_autofree char *id = offered_at(h, service, q, unit, start, &free);

	g_variant_dict_unref(q);
	return free;
}

static GVariantDict *
espoo_day_query(void)
{
	return query_dict("Espoo", "fi", dec(8, 9, 0), dec(8, 9, 0) + 60, 20);
}

static GVariantDict *
sna_query(void)
{
	return query_dict("Lohja", NULL, dec(8, 8, 30), dec(8, 8, 30) + 60,
			  20);
}

/* Hold and HoldFor take a place that FindSlots no longer shows free;
 * ReleaseHold gives it back. */
static void
release_frees(Harness *h)
{
	const gint64 sna_at = dec(8, 8, 30), hh_at = dec(8, 9, 0);
	g_autoptr(GVariantDict) sq = sna_query();
	g_autoptr(GVariantDict) hq = espoo_day_query();
	g_autofree char *sna_slot = offered_at(h, SNA, sq, "W-SNA-LV", sna_at,
					       NULL);
	g_autofree char *hh_slot = offered_at(h, HHW, hq, "W-HH-ESP", hh_at,
					      NULL);
	guint sna_free = free_at(h, SNA, sna_query(), "W-SNA-LV", sna_at);
	guint hh_free = free_at(h, HHW, espoo_day_query(), "W-HH-ESP", hh_at);
	g_autofree char *plain = hold_plain(h, sna_slot, 300);
	g_autofree char *named = NULL;
	gint64 expires;
	GError *error = NULL;

	g_assert_cmpuint(sna_free, ==, 3);
	g_assert_cmpuint(hh_free, ==, 6);
	named = hold_for(h, hh_slot, "c-release-1",
			 request_options("Espoo", "fi"), 300, &expires);
	g_assert_cmpuint(free_at(h, SNA, sna_query(), "W-SNA-LV", sna_at), ==,
			 sna_free - 1);
	g_assert_cmpuint(free_at(h, HHW, espoo_day_query(), "W-HH-ESP", hh_at),
			 ==, hh_free - 1);
	release_hold(h, plain, &error);
	g_assert_no_error(error);
	release_hold(h, named, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(free_at(h, SNA, sna_query(), "W-SNA-LV", sna_at), ==,
			 sna_free);
	g_assert_cmpuint(free_at(h, HHW, espoo_day_query(), "W-HH-ESP", hh_at),
			 ==, hh_free);
	g_assert_cmpint(sql_int(h, "SELECT count(*) FROM hold_use;"), ==, 0);
	assert_counters_agree(h);
}

/* Another caller (nobody, with the book role) cannot release our hold:
 * Conflict, nothing changed, and the hold still works for us. */
static void
release_by_other_caller(Harness *h, gid_t group)
{
	const gint64 at = dec(8, 8, 30);
	g_autofree char *slot = offered_at(h, SNA, sna_query(), "W-SNA-LV", at,
					   NULL);
	g_autofree char *hold = hold_plain(h, slot, 300);
	g_autofree char *before = digest(h);
	g_autofree char *err = NULL, *after = NULL;
	GError *error = NULL;

	g_assert_cmpint(send_as_nobody(h, group, "ReleaseHold", hold, &err),
			==, 1);
	if (!strstr(err, "org.slotd.Error.Conflict"))
		g_error("ReleaseHold by another caller: %s", err);
	note("ReleaseHold by uid " NOBODY ": %s", g_strchomp(err));
	after = digest(h);
	g_assert_cmpstr(after, ==, before);
	release_hold(h, hold, &error);
	g_assert_no_error(error);
}

static void
test_hold_protects_then_books(void)
{
	gid_t group = harness_second_group();
	Harness h;

	if (!in_subprocess())
		return;
	start_for_two_callers(&h, group);
	hold_protects_visit(&h);
	release_frees(&h);
	if (group != HARNESS_NO_GROUP)
		release_by_other_caller(&h, group);
	else
		note("ReleaseHold by another caller not tried: needs "
		     "root and setpriv");
	finish(&h);
}

/* ---- 3. care-episode series ---------------------------------------------- */

#define EPISODE_VISITS 9

/* Visit i of the episode: Tuesday 16:00, then every 8 hours. */
static gint64
episode_time(guint i)
{
	return dec(8, 16, 0) + (gint64)i * 8 * 3600;
}

static GVariantDict *
episode_dict(void)
{
	GVariantDict *d = request_dict("Lohja", "fi");

	put_string(d, "episode", "iv-q8h");
	return d;
}

static char *
lohja_slot_at(Harness *h, gint64 start)
{
	g_autoptr(GVariantDict) q = query_dict("Lohja", "fi", start,
					       start + 60, 10);

	put_string(q, "episode", "iv-q8h");
	return offered_at(h, HHW, q, "W-HH-LOH", start, NULL);
}

static char **
book_episode(Harness *h, char **slots)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariantDict) opts = episode_dict();
	g_autoptr(GVariant) r = harness_call(
		h, SCHED, "BookSeries",
		g_variant_new("(^ass@a{sv})", slots, "c-episode-1",
			      g_variant_dict_end(opts)),
		"(as)", &error);
	char **ids = NULL;

	g_assert_no_error(error);
	g_variant_get(r, "(^as)", &ids);
	g_assert_cmpuint(g_strv_length(ids), ==, EPISODE_VISITS);
	return ids;
}

/* Reschedule of `booking` to `slot` is a PolicyViolation that changes
 * nothing; returns the message. */
static char *
move_refused(Harness *h, const char *booking, const char *slot)
{
	g_autofree char *before = digest(h);
	gint64 start = booking_int64(h, booking, "start");
	g_autoptr(GError) error = NULL;

	g_assert_false(reschedule(h, booking, slot, &error));
	assert_refused_unchanged(h, before, error,
				 "org.slotd.Error.PolicyViolation");
	g_assert_cmpint(booking_int64(h, booking, "start"), ==, start);
	note("refused: %s", error->message);
	return g_strdup(error->message);
}

/* The episode's client has three visits on Thursday (00, 08, 16): a
 * fourth is neither offered to them nor booked. */
static void
fourth_visit_neither_offered_nor_booked(Harness *h)
{
	g_autoptr(GVariantDict) q = query_dict("Lohja", "fi", dec(10, 9, 0),
					       dec(10, 14, 0), 20);
	g_autoptr(GVariantDict) other = query_dict("Lohja", "fi",
						   dec(10, 10, 0),
						   dec(10, 10, 0) + 60, 5);
	g_autoptr(GVariant) slots = NULL;
	g_autofree char *slot = NULL, *before = NULL, *booking = NULL;
	g_autoptr(GError) error = NULL;

	put_string(q, "client-ref", "c-episode-1");
	slots = find_dict(h, HHW, q);
	g_assert_cmpuint(g_variant_n_children(slots), ==, 0);
	/* Offered to someone else, so the slot itself has room. */
	slot = offered_at(h, HHW, other, "W-HH-LOH", dec(10, 10, 0), NULL);
	before = digest(h);
	booking = book(h, slot, "c-episode-1",
		       request_options("Lohja", "fi"), &error);
	g_assert_null(booking);
	assert_refused_unchanged(h, before, error,
				 "org.slotd.Error.PolicyViolation");
}

static void
test_series_stay_whole(void)
{
	g_auto(GStrv) slots = NULL, ids = NULL;
	g_autofree char *far = NULL, *early = NULL, *near = NULL;
	g_autofree char *message = NULL;
	g_autoptr(GError) error = NULL;
	Harness h;

	if (!in_subprocess())
		return;
	start_at(&h, 7, 0);
	slots = g_new0(char *, EPISODE_VISITS + 1);
	for (guint i = 0; i < EPISODE_VISITS; i++)
		slots[i] = lohja_slot_at(&h, episode_time(i));
	ids = book_episode(&h, slots);
	g_assert_cmpint(booking_int64(&h, ids[2], "start"), ==,
			episode_time(2));
	/* Two days later: the interval to visit 2 is 56 h, not 8 h. The
	 * slot (visit 9's, Friday 08:00) has nurses free. */
	far = g_strdup(slots[8]);
	message = move_refused(&h, ids[2], far);
	g_assert_nonnull(strstr(message, "iv-q8h"));
	g_clear_pointer(&message, g_free);
	/* Twelve hours before visit 2: out of order, said without a
	 * negative duration. */
	early = lohja_slot_at(&h, episode_time(1) - 12 * 3600);
	message = move_refused(&h, ids[2], early);
	g_assert_nonnull(strstr(message, "iv-q8h"));
	g_assert_null(strstr(message, "-12 h"));
	g_assert_null(strstr(message, "-720"));
	g_assert_nonnull(strstr(message, "12 h"));
	/* Half an hour later is within the tolerance of both neighbours. */
	near = lohja_slot_at(&h, episode_time(2) + 30 * 60);
	g_assert_true(reschedule(&h, ids[2], near, &error));
	g_assert_no_error(error);
	g_assert_cmpint(booking_int64(&h, ids[2], "start"), ==,
			episode_time(2) + 30 * 60);
	g_assert_cmpint(booking_int64(&h, ids[2], "sequence"), ==, 1);
	fourth_visit_neither_offered_nor_booked(&h);
	assert_counters_agree(&h);
	finish(&h);
}

/* ---- 4. walk-in: started referral slots, check-in not open --------------- */

static GVariantDict *
espoo_walk_in_query(void)
{
	GVariantDict *d = request_dict("Espoo", "fi");

	g_variant_dict_insert(d, "limit", "u", 200);
	return d;
}

static void
started_referral_refused(Harness *h)
{
	/* Monday's short referral window at Leppävaara: 45-min slots from
	 * 08:00, so 12:30-13:15 is under way at 13:00. */
	g_autofree char *started = stored_slot(h, "W-SO-ESP1/" WALK, "referral",
					       dec(7, 12, 30));
	g_autoptr(GVariantDict) q = espoo_walk_in_query();
	g_autoptr(GVariant) slots = find_dict(h, WALK, q);
	g_autofree char *before = NULL, *booking = NULL;
	g_autoptr(GError) error = NULL;

	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id;

		g_variant_get_child(slots, i, "(&ssxxu@a{sv})", &id, NULL,
				    NULL, NULL, NULL, NULL);
		g_assert_cmpstr(id, !=, started);
	}
	before = digest(h);
	booking = book(h, started, "c-walk-ref",
		       request_options("Espoo", "fi"), &error);
	g_assert_null(booking);
	assert_refused_unchanged(h, before, error,
				 "org.slotd.Error.PolicyViolation");
}

static void
session_not_open_refused(Harness *h)
{
	const gint64 at = dec(7, 14, 0);
	g_autoptr(GVariantDict) q = espoo_walk_in_query();
	g_autoptr(GVariant) slots = find_dict(h, WALK, q);
	g_autoptr(GVariant) extras = NULL;
	g_autofree char *slot = offered(slots, "W-SO-ESP1", at, NULL, &extras);
	g_autofree char *before = NULL, *booking = NULL;
	g_autoptr(GError) error = NULL;
	gint64 from = 0;

	g_assert_nonnull(slot);
	g_assert_true(g_variant_lookup(extras, "bookable-from", "x", &from));
	g_assert_cmpint(from, ==, dec(7, 13, 45));
	before = digest(h);
	booking = book(h, slot, "c-walk-early",
		       request_options("Espoo", "fi"), &error);
	g_assert_null(booking);
	assert_refused_unchanged(h, before, error,
				 "org.slotd.Error.PolicyViolation");
}

static void
test_walk_in_times(void)
{
	Harness h;

	if (!in_subprocess())
		return;
	start_at(&h, 13, 0);
	started_referral_refused(&h);
	session_not_open_refused(&h);
	finish(&h);
}

/* ---- 5. a home visit belongs to its shift -------------------------------- */

static guint
day_free_at_seven(Harness *h)
{
	return free_at(h, HHW,
		       query_dict("Lohja", "fi", dec(8, 7, 0),
				  dec(8, 7, 0) + 60, 10),
		       "W-HH-LOH", dec(8, 7, 0));
}

static void
test_night_visit_keeps_day_nurses(void)
{
	Harness h;
	g_autoptr(GVariantDict) q = NULL;
	g_autoptr(GVariant) slots = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *late = NULL, *before = NULL, *booking = NULL;
	g_autofree char *early = NULL;
	guint day_free;

	if (!in_subprocess())
		return;
	start_at(&h, 7, 0);
	day_free = day_free_at_seven(&h);
	g_assert_cmpuint(day_free, ==, 3);
	/* Karkkila is 35 min away: a first visit takes 150 min with the
	 * drive, so from 06:30 its nurse is back at 09:00, after the night
	 * shift's 07:30 end. Nothing after 05:00 is offered. */
	q = query_dict("Karkkila", "fi", dec(8, 5, 30), dec(8, 7, 0), 20);
	slots = find_dict(&h, HHW, q);
	g_assert_cmpuint(g_variant_n_children(slots), ==, 0);
	late = stored_slot(&h, "W-HH-LOH/" HHW, "visit", dec(8, 6, 30));
	before = digest(&h);
	booking = book(&h, late, "c-night-1",
		       request_options("Karkkila", "fi"), &error);
	g_assert_null(booking);
	assert_refused_unchanged(&h, before, error,
				 "org.slotd.Error.PolicyViolation");
	g_assert_cmpuint(day_free_at_seven(&h), ==, day_free);
	/* From 05:00 it is back at 07:30 and takes only the night's
	 * slots: the day nurses at 07:00 stay free. */
	g_clear_pointer(&q, g_variant_dict_unref);
	q = query_dict("Karkkila", "fi", dec(8, 5, 0), dec(8, 5, 0) + 60, 5);
	early = offered_at(&h, HHW, q, "W-HH-LOH", dec(8, 5, 0), NULL);
	g_clear_pointer(&booking, g_free);
	booking = book_ok(&h, early, "c-night-2",
			  request_options("Karkkila", "fi"));
	g_assert_cmpint(booking_int64(&h, booking, "end"), ==, dec(8, 7, 30));
	g_assert_cmpint(booking_slot_count(&h, booking), ==, 4);
	g_assert_cmpuint(day_free_at_seven(&h), ==, day_free);
	assert_counters_agree(&h);
	finish(&h);
}

/* ---- 6. crisis field visits ---------------------------------------------- */

static char *
first_offered(Harness *h, const char *service, GVariantDict *q)
{
	g_autoptr(GVariant) slots = find_dict(h, service, q);
	const char *id;

	g_assert_cmpuint(g_variant_n_children(slots), >, 0);
	g_variant_get_child(slots, 0, "(&ssxxu@a{sv})", &id, NULL, NULL,
			    NULL, NULL, NULL);
	return g_strdup(id);
}

static char *
stored_modality(Harness *h, const char *booking)
{
	g_autofree char *query = g_strdup_printf(
		"SELECT modality FROM booking WHERE id = %" G_GINT64_FORMAT
		";", row_id(booking));

	return sql(h, query);
}

static void
assert_field_visit(Harness *h, const char *booking)
{
	g_autofree char *modality = booking_string(h, booking, "modality");
	g_autofree char *contact = booking_string(h, booking, "contact");
	g_autofree char *stored = stored_modality(h, booking);

	g_assert_cmpstr(modality, ==, "home");
	g_assert_cmpstr(stored, ==, "home");
	g_assert_cmpstr(contact, ==, "field");
	g_assert_cmpuint(booking_uint(h, booking, "seats"), ==, 2);
}

/* FindSlots says the modality the booking would be stored with. */
static void
assert_offers_home(GVariant *slots)
{
	g_assert_cmpuint(g_variant_n_children(slots), >, 0);
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		g_autoptr(GVariant) extras = NULL;
		const char *unit, *modality = NULL;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", NULL, &unit,
				    NULL, NULL, NULL, &extras);
		g_assert_true(g_variant_lookup(extras, "modality", "&s",
					       &modality));
		if (g_strcmp0(modality, "home") != 0)
			g_error("FindSlots offers a field contact at %s as "
				"modality '%s'; Book stores 'home'",
				unit, modality);
	}
}

static void
test_crisis_field_visit_is_home(void)
{
	Harness h;
	g_autoptr(GVariantDict) by_modality = NULL, by_contact = NULL;
	g_autofree char *slot = NULL, *booking = NULL;
	GVariantDict *opts;

	if (!in_subprocess())
		return;
	start_at(&h, 7, 0);
	by_modality = query_dict("Lohja", NULL, dec(8, 16, 0), dec(9, 0, 0), 5);
	put_string(by_modality, "modality", "home");
	slot = first_offered(&h, CDW, by_modality);
	opts = request_dict("Lohja", NULL);
	put_string(opts, "modality", "home");
	booking = book_ok(&h, slot, "c-field-1", g_variant_dict_end(opts));
	g_variant_dict_unref(opts);
	assert_field_visit(&h, booking);
	g_clear_pointer(&slot, g_free);
	g_clear_pointer(&booking, g_free);
	/* contact=field without a modality is the same visit. */
	by_contact = query_dict("Lohja", NULL, dec(8, 7, 0), dec(9, 0, 0), 5);
	put_string(by_contact, "contact", "field");
	slot = first_offered(&h, CDW, by_contact);
	opts = request_dict("Lohja", NULL);
	put_string(opts, "contact", "field");
	booking = book_ok(&h, slot, "c-field-2", g_variant_dict_end(opts));
	g_variant_dict_unref(opts);
	assert_field_visit(&h, booking);
	assert_counters_agree(&h);
	finish(&h);
}

/* FindSlots says what Book stores: a field contact asked for with
 * contact=field is offered as modality 'home' at every base, also at
 * Jorvi, whose usual (first) modality is phone. */
static void
test_crisis_field_offer_says_home(void)
{
	Harness h;
	g_autoptr(GVariantDict) q = NULL;
	g_autoptr(GVariant) slots = NULL;

	if (!in_subprocess())
		return;
	start_at(&h, 7, 0);
	q = query_dict("Lohja", NULL, dec(8, 7, 0), dec(9, 0, 0), 20);
	put_string(q, "contact", "field");
	slots = find_dict(&h, CDW, q);
	assert_offers_home(slots);
	finish(&h);
}

/* ---- 7. rescheduling ----------------------------------------------------- */

static GVariant *
field_options(void)
{
	GVariantDict *d = request_dict("Lohja", "fi");
	GVariant *v;

	put_string(d, "contact", "field");
	v = g_variant_dict_end(d);
	g_variant_dict_unref(d);
	return v;
}

static char *
crisis_field_slot(Harness *h, const char *unit, gint64 at)
{
	g_autoptr(GVariantDict) q = query_dict("Lohja", "fi", at, at + 60, 5);

	put_string(q, "contact", "field");
	return offered_at(h, CDW, q, unit, at, NULL);
}

static gint64
stored_seats(Harness *h, const char *booking)
{
	g_autofree char *query = g_strdup_printf(
		"SELECT seats FROM booking WHERE id = %" G_GINT64_FORMAT ";",
		row_id(booking));

	return sql_int(h, query);
}

/* A field visit from Jorvi (35 min to Lohja: 90 + 70 min, 11 slots of
 * 15 min) moved to the Lohja base (25 min: 90 + 50 min, 10 slots),
 * then a home visit moved into the day shift's handover, where it takes
 * only its own shift's slots. */
static void
move_field_visit(Harness *h)
{
	g_autofree char *from = crisis_field_slot(h, "W-SKP", dec(8, 16, 0));
	g_autofree char *to = crisis_field_slot(h, "W-SKP-LOH", dec(9, 16, 0));
	g_autofree char *booking = book_ok(h, from, "c-move-1",
					   field_options());
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(booking_int64(h, booking, "sequence"), ==, 0);
	g_assert_cmpint(booking_slot_count(h, booking), ==, 11);
	g_assert_cmpint(stored_seats(h, booking), ==, 2);
	g_assert_true(reschedule(h, booking, to, &error));
	g_assert_no_error(error);
	g_assert_cmpint(booking_int64(h, booking, "sequence"), ==, 1);
	g_assert_cmpint(booking_int64(h, booking, "start"), ==,
			dec(9, 16, 0));
	g_assert_cmpint(booking_slot_count(h, booking), ==, 10);
	g_assert_cmpint(stored_seats(h, booking), ==, 2);
	g_assert_cmpuint(booking_uint(h, booking, "seats"), ==, 2);
	assert_counters_agree(h);
}

static void
move_home_visit(Harness *h)
{
	g_autoptr(GVariantDict) q = query_dict("Lohja", "fi", dec(8, 9, 0),
					       dec(8, 9, 0) + 60, 5);
	g_autoptr(GVariantDict) q2 = query_dict("Lohja", "fi", dec(8, 13, 30),
						dec(8, 13, 30) + 60, 5);
	g_autofree char *from = offered_at(h, HHW, q, "W-HH-LOH", dec(8, 9, 0),
					   NULL);
	g_autofree char *to = offered_at(h, HHW, q2, "W-HH-LOH",
					 dec(8, 13, 30), NULL);
	g_autofree char *booking = book_ok(h, from, "c-move-2",
					   request_options("Lohja", "fi"));
	g_autoptr(GError) error = NULL;

	/* 60 min on site and 2 x 25 min: 120 min, 4 slots of 30. */
	g_assert_cmpint(booking_slot_count(h, booking), ==, 4);
	g_assert_true(reschedule(h, booking, to, &error));
	g_assert_no_error(error);
	g_assert_cmpint(booking_int64(h, booking, "sequence"), ==, 1);
	/* 13:30-15:30: the day shift owns its slots until 14:30. */
	g_assert_cmpint(booking_slot_count(h, booking), ==, 2);
	g_assert_cmpint(booking_int64(h, booking, "end"), ==, dec(8, 15, 30));
	g_assert_cmpint(stored_seats(h, booking), ==, 1);
	assert_counters_agree(h);
	/* Back again: sequence 2, four slots again. */
	g_assert_true(reschedule(h, booking, from, &error));
	g_assert_no_error(error);
	g_assert_cmpint(booking_int64(h, booking, "sequence"), ==, 2);
	g_assert_cmpint(booking_slot_count(h, booking), ==, 4);
	assert_counters_agree(h);
}

static void
test_reschedule_sequence_and_seats(void)
{
	Harness h;

	if (!in_subprocess())
		return;
	start_at(&h, 7, 0);
	move_field_visit(&h);
	move_home_visit(&h);
	finish(&h);
}

/* ---- 8. walk-in tickets -------------------------------------------------- */

static char *
lohja_session(Harness *h)
{
	g_autoptr(GVariantDict) q = request_dict("Lohja", "fi");
	g_autoptr(GVariant) slots = NULL;

	g_variant_dict_insert(q, "limit", "u", 50);
	slots = find_dict(h, WALK, q);
	return offered(slots, "W-SO-LOH", dec(7, 13, 0), NULL, NULL);
}

/* Porvoo's Monday session, 12:00-15:00, also open at 13:00. */
static char *
porvoo_session(Harness *h)
{
	g_autoptr(GVariantDict) q = g_variant_dict_new(NULL);
	g_autoptr(GVariant) slots = NULL;

	g_variant_dict_insert(q, "limit", "u", 200);
	slots = find_dict(h, WALK, q);
	return offered(slots, "E-SO-POR", dec(7, 12, 0), NULL, NULL);
}

static char *
check_in(Harness *h, guint *ret_ticket)
{
	g_autofree char *session = lohja_session(h);
	char *booking;

	g_assert_nonnull(session);
	booking = book_ok(h, session, "", NULL);
	*ret_ticket = booking_uint(h, booking, "ticket");
	return booking;
}

static void
reload(Harness *h)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(h, "org.slotd.Admin1", "Reload",
					     NULL, NULL, &error);

	g_assert_no_error(error);
}

static void
test_walk_in_tickets_never_reissued(void)
{
	g_autofree char *third = NULL, *fourth = NULL, *fifth = NULL;
	g_autofree char *walk_in_conf = NULL;
	Harness h;
	guint ticket;

	if (!in_subprocess())
		return;
	start_at(&h, 13, 0);
	walk_in_conf = g_build_filename(h.tmpdir, "config", "services.d",
					"walk-in.conf", NULL);
	for (guint i = 1; i <= 3; i++) {
		g_autofree char *b = check_in(&h, &ticket);

		g_assert_cmpuint(ticket, ==, i);
		if (i == 3)
			third = g_steal_pointer(&b);
	}
	cancel(&h, third, "left before their turn");
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_start_slotd(&h, NULL);
	reload(&h);
	fourth = check_in(&h, &ticket);
	g_assert_cmpuint(ticket, ==, 4);
	/* Nor a reload of a changed configuration (more queue places). */
	cancel(&h, fourth, "left before their turn");
	harness_set_key(walk_in_conf, "offering W-SO-LOH " WALK,
			"queue-places-session", "8");
	reload(&h);
	fifth = check_in(&h, &ticket);
	g_assert_cmpuint(ticket, ==, 5);
	g_assert_cmpint(sql_int(&h, "SELECT capacity FROM slot WHERE id = "
				    "(SELECT slot FROM booking ORDER BY id DESC"
				    " LIMIT 1);"),
			==, 8);
	assert_counters_agree(&h);
	finish(&h);
}

/* Moves a check-in to another session that is open too. Either the
 * daemon refuses (a queue place is not moved) and nothing changes, or
 * it moves it; TRUE when moved. */
static gboolean
move_check_in(Harness *h, const char *booking, const char *session)
{
	g_autofree char *before = digest(h);
	g_autoptr(GError) error = NULL;
	g_autofree char *after = NULL;

	if (reschedule(h, booking, session, &error)) {
		note("moved to Porvoo: ticket there %u",
		     booking_uint(h, booking, "ticket"));
		return TRUE;
	}
	after = digest(h);
	g_assert_cmpstr(after, ==, before);
	note("moving a check-in refused: %s", error->message);
	return FALSE;
}

/* A ticket is never handed out twice in a session, also when its
 * holder was moved to another session: the next visitor at Lohja gets
 * ticket 4, not the moved visitor's 3. */
static void
test_moved_ticket_is_not_reissued(void)
{
	g_autofree char *third = NULL, *next = NULL, *porvoo = NULL;
	Harness h;
	guint ticket;

	if (!in_subprocess())
		return;
	start_at(&h, 13, 0);
	for (guint i = 1; i <= 3; i++) {
		g_autofree char *b = check_in(&h, &ticket);

		g_assert_cmpuint(ticket, ==, i);
		if (i == 3)
			third = g_steal_pointer(&b);
	}
	porvoo = porvoo_session(&h);
	g_assert_nonnull(porvoo);
	move_check_in(&h, third, porvoo);
	next = check_in(&h, &ticket);
	g_assert_cmpuint(ticket, ==, 4);
	assert_counters_agree(&h);
	finish(&h);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* A test that fails in its child fails alone; the others run. */
	if (!g_test_subprocess())
		g_test_set_nonfatal_assertions();
	g_test_add_func(
		"/agreement/find-then-book/every-offered-slot-is-booked",
		test_find_then_book_agree);
	g_test_add_func(
		"/agreement/find-then-book/free-count-is-what-book-takes",
		test_free_count_is_what_book_takes);
	g_test_add_func(
		"/agreement/find-then-book/slots-under-way-only-without-from",
		test_slots_under_way_only_without_from);
	g_test_add_func("/agreement/hold/protects-the-visit-until-booked",
			test_hold_protects_then_books);
	g_test_add_func("/agreement/series/reschedule-keeps-the-episode-whole",
			test_series_stay_whole);
	g_test_add_func(
		"/agreement/walk-in/started-or-unopened-is-not-bookable",
		test_walk_in_times);
	g_test_add_func("/agreement/home-hospital/night-visit-keeps-day-nurses",
			test_night_visit_keeps_day_nurses);
	g_test_add_func("/agreement/crisis/field-visit-is-stored-as-home",
			test_crisis_field_visit_is_home);
	g_test_add_func("/agreement/crisis/field-visit-is-offered-as-home",
			test_crisis_field_offer_says_home);
	g_test_add_func(
		"/agreement/reschedule/sequence-and-seats-follow-the-move",
		test_reschedule_sequence_and_seats);
	g_test_add_func("/agreement/walk-in/tickets-are-never-reissued",
			test_walk_in_tickets_never_reissued);
	g_test_add_func("/agreement/walk-in/moved-ticket-is-not-reissued",
			test_moved_ticket_is_not_reissued);
	return g_test_run();
}
