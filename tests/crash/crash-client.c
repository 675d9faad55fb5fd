/* One client of the crash-safety check (tests/crash/crash.py): makes
 * every kind of change slotd has, one call at a time, and writes every
 * call it sends and every answer it gets to a log, flushed line by line
 * before it counts as sent or acknowledged, so that the checker knows
 * exactly what was acknowledged when slotd lost power.
 *
 *   crash-client ADDRESS wait
 *   crash-client ADDRESS pools FILE
 *   crash-client ADDRESS run CLIENT ROUND SEED LOG STATE [PID AFTER]
 *
 * With PID and AFTER the client is the round's killer: right after its
 * AFTER-th acknowledgement is logged it sends SIGKILL to PID (slotd), so
 * the power goes while answers of the same group commit are in flight.
 *
 * What it books (targets; every kind of the example region):
 *   fixed-w, fixed-e  needs assessment (kind fixed), several seats a slot
 *   hh-kar, hh-esp    home hospital visits from Lohja to Karkkila and in
 *                     Espoo: a nurse for a run of several 30-min slots
 *   field             a crisis-duty field visit by a pair: 2 seats in a
 *                     run of 15-min slots
 *   walkin, referral  walk-in counselling: a check-in to a running
 *                     session, a referral slot
 *   series            an iv-q24h home-hospital episode at W-HH-LOH: three
 *                     visits 24 h apart, BookSeries
 * and how: Book (always with an idempotency key, the client ref), HoldFor
 * then Book with the hold, ReleaseHold, BookSeries, Cancel, Reschedule,
 * SetStatus (arrived, checked-in, fulfilled and noshow keep the seats,
 * entered-in-error gives them back); and the waitlist (issue 16):
 * JoinWaitlist for the targets whose request a waitlist query can carry
 * (fixed-w, fixed-e, hh-kar, hh-esp), LeaveWaitlist, AcceptOffer and
 * DeclineOffer of the offers it saw - in a SlotOffered signal or in
 * ListWaitlist, which it calls now and then and at the start of a round.
 *
 * Log lines ("-" for nothing):
 *   ready
 *   send book REF TARGET SLOT          ack book BOOKING
 *   send hbook REF TARGET SLOT HOLD    ack book BOOKING
 *   send series REF TARGET S1,S2,S3    ack series B1,B2,B3
 *   send hold REF TARGET SLOT          ack hold HOLD EXPIRES
 *   send release HOLD                  ack release HOLD
 *   send cancel BOOKING                ack cancel BOOKING
 *   send move BOOKING SLOT             ack move BOOKING
 *   send status BOOKING STATUS         ack status BOOKING
 *   send join REF TARGET               ack join ENTRY
 *   send leave ENTRY                   ack leave ENTRY
 *   send accept ENTRY SLOT HOLD        ack accept BOOKING
 *   send decline ENTRY SLOT HOLD       ack decline ENTRY
 *   seen ENTRY SLOT HOLD EXPIRES       an open offer of one of its
 *                                      entries it saw (signal or list);
 *                                      between calls, never in flight
 *   (accept and decline answer whatever offer the entry has open; SLOT
 *   and HOLD say which one the client believed it was)
 *   nak ERROR (refused for a reason of the domain), lost ERROR (slotd
 *   went away), bad ERROR MESSAGE (slotd failed: the checker reports
 *   it), killed PID.
 * STATE holds what the client has from earlier rounds:
 *   booking BOOKING STATUS TARGET SLOT
 *   hold HOLD TARGET SLOT REF
 *   entry ENTRY TARGET [SLOT HOLD EXPIRES]   waiting, with its open offer
 * and the slots each target's bookings are chosen from, as `pools`
 * wrote them:
 *   pool TARGET SLOT UNIT START
 * Without pool lines the client asks FindSlots itself. `pools` asks
 * once for all the clients of a round: eight clients asking for every
 * target took most of a round's time, slotd answering one call at a
 * time while the first clients ready were already booking. */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define BUS_NAME "org.slotd.Slotd1"
#define OBJECT "/org/slotd/Slotd1"
#define SCHEDULER "org.slotd.Scheduler1"
#define DAY (24 * 3600)
#define HOLD_SECONDS 600

typedef enum {
	T_FIXED_W,
	T_FIXED_E,
	T_HH_KAR,
	T_HH_ESP,
	T_FIELD,
	T_WALKIN,
	T_REFERRAL,
	T_SERIES,
	N_TARGETS
} TargetId;

typedef struct {
	const char *name;
	const char *service;
	const char *municipality;	/* NULL: none given */
	const char *key, *value;	/* the plugin's option, or NULL */
	const char *kind;		/* only slots of this kind */
	const char *unit;		/* only slots of this unit */
	gboolean movable;		/* Reschedule within the target */
	guint weight;			/* share of new bookings */
	gboolean waitlist;		/* JoinWaitlist with its request */
} Target;

static const Target targets[N_TARGETS] = {
	[T_FIXED_W] = { "fixed-w", "needs-assessment-west", NULL, NULL, NULL,
			NULL, NULL, TRUE, 4, TRUE },
	[T_FIXED_E] = { "fixed-e", "needs-assessment-east", NULL, NULL, NULL,
			NULL, NULL, TRUE, 3, TRUE },
	[T_HH_KAR] = { "hh-kar", "home-hospital-west", "Karkkila", NULL, NULL,
		       NULL, "W-HH-LOH", TRUE, 3, TRUE },
	[T_HH_ESP] = { "hh-esp", "home-hospital-west", "Espoo", NULL, NULL,
		       NULL, "W-HH-ESP", TRUE, 3, TRUE },
	[T_FIELD] = { "field", "crisis-duty-west", "Lohja", "contact",
		      "field", NULL, NULL, TRUE, 3 },
	[T_WALKIN] = { "walkin", "social-counselling-walk-in", NULL, NULL,
		       NULL, "session", NULL, FALSE, 2 },
	[T_REFERRAL] = { "referral", "social-counselling-walk-in", NULL, NULL,
			 NULL, "referral", NULL, TRUE, 2 },
	[T_SERIES] = { "series", "home-hospital-west", "Lohja", "episode",
		       "iv-q24h", NULL, "W-HH-LOH", FALSE, 0 },
};

typedef struct {
	char *id;
	char *unit;
	gint64 start;
} PoolSlot;

typedef struct {
	char *booking;
	char *status;
	TargetId target;
	char *slot;
} Live;

typedef struct {
	char *hold;
	TargetId target;
	char *slot;
	char *ref;
} Held;

/* A waitlist entry of the client still waiting, with the open offer it
 * last saw for it (slot NULL: none). */
typedef struct {
	char *entry;
	TargetId target;
	char *slot;
	char *hold;
	gint64 expires;
} Entry;

typedef struct {
	GDBusConnection *conn;
	FILE *log;
	GRand *rand;
	GPtrArray *pools[N_TARGETS];	/* PoolSlot * */
	GPtrArray *live;		/* Live * */
	GPtrArray *held;		/* Held * */
	GPtrArray *entries;		/* Entry * */
	guint client;
	guint round;
	guint serial;
	guint acks;
	pid_t kill_pid;			/* 0: not the killer */
	guint kill_after;
} Client;

static void
pool_slot_free(gpointer data)
{
	PoolSlot *s = data;

	g_free(s->id);
	g_free(s->unit);
	g_free(s);
}

static void
live_free(gpointer data)
{
	Live *l = data;

	g_free(l->booking);
	g_free(l->status);
	g_free(l->slot);
	g_free(l);
}

static void
held_free(gpointer data)
{
	Held *h = data;

	g_free(h->hold);
	g_free(h->slot);
	g_free(h->ref);
	g_free(h);
}

static void
entry_free(gpointer data)
{
	Entry *e = data;

	g_free(e->entry);
	g_free(e->slot);
	g_free(e->hold);
	g_free(e);
}

static GVariant *
call(Client *c, const char *method, GVariant *args, const char *type,
     GError **error)
{
	return g_dbus_connection_call_sync(c->conn, BUS_NAME, OBJECT,
					   SCHEDULER, method, args,
					   G_VARIANT_TYPE(type),
					   G_DBUS_CALL_FLAGS_NO_AUTO_START,
					   20000, NULL, error);
}

static void
logf_line(Client *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
logf_line(Client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(c->log, fmt, ap);
	va_end(ap);
	fputc('\n', c->log);
	fflush(c->log);
}

/* An acknowledgement: logged first, then counted; the killer pulls the
 * plug right after the one it waits for. */
static void
ack(Client *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
ack(Client *c, const char *fmt, ...)
{
	va_list ap;

	fputs("ack ", c->log);
	va_start(ap, fmt);
	vfprintf(c->log, fmt, ap);
	va_end(ap);
	fputc('\n', c->log);
	fflush(c->log);
	if (c->kill_pid && ++c->acks == c->kill_after) {
		kill(c->kill_pid, SIGKILL);
		logf_line(c, "killed %d", (int)c->kill_pid);
	}
}

/* The errors slotd answers when a change is refused for a reason of the
 * domain; anything else from slotd is a defect the checker reports. */
static gboolean
expected_refusal(const char *name)
{
	static const char *const ok[] = {
		"org.slotd.Error.SlotFull", "org.slotd.Error.Conflict",
		"org.slotd.Error.PolicyViolation",
		"org.slotd.Error.DeadlineUnreachable", NULL
	};

	return name && g_strv_contains(ok, name);
}

/* FALSE when the daemon is gone (the round is over). */
static gboolean
answer_error(Client *c, GError *error)
{
	g_autofree char *name = g_dbus_error_get_remote_error(error);

	if (expected_refusal(name)) {
		logf_line(c, "nak %s", name);
		return TRUE;
	}
	if (name && g_str_has_prefix(name, "org.slotd.")) {
		logf_line(c, "bad %s %s", name, error->message);
		exit(3);
	}
	logf_line(c, "lost %s", name ? name : "local-error");
	return FALSE;
}

static char *
new_ref(Client *c)
{
	return g_strdup_printf("crash-c%u-r%u-%u", c->client, c->round,
			       c->serial++);
}

static const PoolSlot *
random_slot(Client *c, TargetId t)
{
	GPtrArray *pool = c->pools[t];

	if (pool->len == 0)
		return NULL;
	return pool->pdata[g_rand_int_range(c->rand, 0, (gint32)pool->len)];
}

/* The target's request as FindSlots, HoldFor and Book take it. */
static void
request_options(TargetId t, GVariantDict *d)
{
	const Target *target = &targets[t];

	if (target->municipality)
		g_variant_dict_insert(d, "municipality", "s",
				      target->municipality);
	if (target->key)
		g_variant_dict_insert(d, target->key, "s", target->value);
}

static GVariant *
book_options(TargetId t, const char *key, const char *hold)
{
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	request_options(t, &d);
	if (key)
		g_variant_dict_insert(&d, "idempotency-key", "s", key);
	if (hold)
		g_variant_dict_insert(&d, "hold", "s", hold);
	return g_variant_dict_end(&d);
}

static Live *
add_live(Client *c, const char *booking, const char *status, TargetId t,
	 const char *slot)
{
	Live *l = g_new0(Live, 1);

	l->booking = g_strdup(booking);
	l->status = g_strdup(status);
	l->target = t;
	l->slot = g_strdup(slot);
	g_ptr_array_add(c->live, l);
	return l;
}

static TargetId
random_target(Client *c)
{
	guint total = 0, pick;

	for (guint t = 0; t < N_TARGETS; t++)
		if (c->pools[t]->len)
			total += targets[t].weight;
	if (total == 0)
		return N_TARGETS;
	pick = (guint)g_rand_int_range(c->rand, 0, (gint32)total);
	for (guint t = 0; t < N_TARGETS; t++) {
		if (!c->pools[t]->len)
			continue;
		if (pick < targets[t].weight)
			return (TargetId)t;
		pick -= targets[t].weight;
	}
	return N_TARGETS;
}

/* ---- the changes ---------------------------------------------------- */

static gboolean
do_book(Client *c, TargetId t)
{
	g_autofree char *ref = new_ref(c);
	const PoolSlot *slot = random_slot(c, t);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	const char *booking;

	logf_line(c, "send book %s %s %s", ref, targets[t].name, slot->id);
	r = call(c, "Book",
		 g_variant_new("(ss@a{sv})", slot->id, ref,
			       book_options(t, ref, NULL)),
		 "(s)", &error);
	if (!r)
		return answer_error(c, error);
	g_variant_get(r, "(&s)", &booking);
	ack(c, "book %s", booking);
	add_live(c, booking, "booked", t, slot->id);
	return TRUE;
}

static gboolean
do_hold(Client *c, TargetId t)
{
	g_autofree char *ref = new_ref(c);
	const PoolSlot *slot = random_slot(c, t);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	const char *hold;
	gint64 expires;
	Held *h;

	logf_line(c, "send hold %s %s %s", ref, targets[t].name, slot->id);
	r = call(c, "HoldFor",
		 g_variant_new("(ss@a{sv}u)", slot->id, ref,
			       book_options(t, NULL, NULL), HOLD_SECONDS),
		 "(sx)", &error);
	if (!r)
		return answer_error(c, error);
	g_variant_get(r, "(&sx)", &hold, &expires);
	ack(c, "hold %s %" G_GINT64_FORMAT, hold, expires);
	h = g_new0(Held, 1);
	h->hold = g_strdup(hold);
	h->target = t;
	h->slot = g_strdup(slot->id);
	h->ref = g_strdup(ref);
	g_ptr_array_add(c->held, h);
	return TRUE;
}

/* Book with a hold (it then goes), or give the hold back. A refused
 * Book leaves the hold; the client tries again later. */
static gboolean
do_use_hold(Client *c)
{
	guint i = (guint)g_rand_int_range(c->rand, 0, (gint32)c->held->len);
	Held *h = c->held->pdata[i];
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	const char *booking;

	if (g_rand_int_range(c->rand, 0, 100) < 30) {
		logf_line(c, "send release %s", h->hold);
		r = call(c, "ReleaseHold", g_variant_new("(s)", h->hold), "()",
			 &error);
		if (!r)
			return answer_error(c, error);
		ack(c, "release %s", h->hold);
		g_ptr_array_remove_index_fast(c->held, i);
		return TRUE;
	}
	logf_line(c, "send hbook %s %s %s %s", h->ref, targets[h->target].name,
		  h->slot, h->hold);
	r = call(c, "Book",
		 g_variant_new("(ss@a{sv})", h->slot, h->ref,
			       book_options(h->target, h->ref, h->hold)),
		 "(s)", &error);
	if (!r)
		return answer_error(c, error);
	g_variant_get(r, "(&s)", &booking);
	ack(c, "book %s", booking);
	add_live(c, booking, "booked", h->target, h->slot);
	g_ptr_array_remove_index_fast(c->held, i);
	return TRUE;
}

/* The offered slot of `unit` starting exactly at `at` for a follow-up
 * visit of the episode; NULL when there is none (or slotd went away:
 * the next change finds that out). */
static char *
follow_up_at(Client *c, const char *unit, gint64 at)
{
	g_autoptr(GVariant) r = NULL, slots = NULL;
	GVariantDict q;

	g_variant_dict_init(&q, NULL);
	request_options(T_SERIES, &q);
	g_variant_dict_insert(&q, "from", "x", at);
	g_variant_dict_insert(&q, "to", "x", at + 1);
	g_variant_dict_insert(&q, "limit", "u", 20);
	g_variant_dict_insert(&q, "follow-up", "b", TRUE);
	r = call(c, "FindSlots",
		 g_variant_new("(s@a{sv})", targets[T_SERIES].service,
			       g_variant_dict_end(&q)),
		 "(a(ssxxua{sv}))", NULL);
	if (!r)
		return NULL;
	slots = g_variant_get_child_value(r, 0);
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id, *where;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, &where,
				    NULL, NULL, NULL, NULL);
		if (g_str_equal(where, unit))
			return g_strdup(id);
	}
	return NULL;
}

/* An episode of three visits 24 h apart, booked whole; FALSE with
 * *ret_tried unset when no episode could be put together. */
static gboolean
do_series(Client *c, gboolean *ret_tried)
{
	const PoolSlot *first = random_slot(c, T_SERIES);
	g_autoptr(GPtrArray) slots = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	g_autofree char *ref = NULL, *joined = NULL;
	g_autofree const char **ids = NULL;
	g_autoptr(GString) acked = g_string_new(NULL);

	*ret_tried = FALSE;
	if (!first)
		return TRUE;
	g_ptr_array_add(slots, g_strdup(first->id));
	for (guint i = 1; i < 3; i++) {
		char *next = follow_up_at(c, first->unit,
					  first->start + (gint64)i * DAY);

		if (!next)
			return TRUE;
		g_ptr_array_add(slots, next);
	}
	*ret_tried = TRUE;
	g_ptr_array_add(slots, NULL);
	joined = g_strjoinv(",", (char **)slots->pdata);
	ref = new_ref(c);
	logf_line(c, "send series %s %s %s", ref, targets[T_SERIES].name,
		  joined);
	r = call(c, "BookSeries",
		 g_variant_new("(^ass@a{sv})", (char **)slots->pdata, ref,
			       book_options(T_SERIES, ref, NULL)),
		 "(as)", &error);
	if (!r)
		return answer_error(c, error);
	g_variant_get(r, "(^a&s)", &ids);
	for (guint i = 0; ids[i]; i++)
		g_string_append_printf(acked, "%s%s", i ? "," : "", ids[i]);
	ack(c, "series %s", acked->str);
	for (guint i = 0; ids[i] && i < slots->len - 1; i++)
		add_live(c, ids[i], "booked", T_SERIES, slots->pdata[i]);
	return TRUE;
}

static gboolean
cancellable(const Live *l)
{
	return g_str_equal(l->status, "booked") ||
	       g_str_equal(l->status, "checked-in");
}

static gboolean
movable(const Live *l)
{
	return g_str_equal(l->status, "booked") && targets[l->target].movable;
}

/* A random live booking `ok` accepts, or -1. */
static gint
pick_live(Client *c, gboolean (*ok)(const Live *))
{
	guint n = c->live->len;
	guint start;

	if (n == 0)
		return -1;
	start = (guint)g_rand_int_range(c->rand, 0, (gint32)n);
	for (guint k = 0; k < n; k++) {
		guint i = (start + k) % n;

		if (!ok || ok(c->live->pdata[i]))
			return (gint)i;
	}
	return -1;
}

static gboolean
do_cancel(Client *c, guint i)
{
	Live *l = c->live->pdata[i];
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	logf_line(c, "send cancel %s", l->booking);
	r = call(c, "Cancel", g_variant_new("(ss)", l->booking, "crash test"),
		 "()", &error);
	if (!r)
		return answer_error(c, error);
	ack(c, "cancel %s", l->booking);
	g_ptr_array_remove_index_fast(c->live, i);
	return TRUE;
}

static gboolean
do_move(Client *c, guint i)
{
	Live *l = c->live->pdata[i];
	const PoolSlot *slot = random_slot(c, l->target);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	if (g_str_equal(slot->id, l->slot))
		return TRUE;
	logf_line(c, "send move %s %s", l->booking, slot->id);
	r = call(c, "Reschedule", g_variant_new("(ss)", l->booking, slot->id),
		 "(s)", &error);
	if (!r)
		return answer_error(c, error);
	ack(c, "move %s", l->booking);
	g_free(l->slot);
	l->slot = g_strdup(slot->id);
	return TRUE;
}

/* The transitions SetStatus allows (daemon/capacity-change.c). */
static const char *
next_status(Client *c, const char *from)
{
	static const char *const from_booked[] = {
		"arrived", "checked-in", "fulfilled", "noshow",
		"entered-in-error", NULL
	};
	static const char *const from_checked_in[] = {
		"arrived", "fulfilled", "noshow", "entered-in-error", NULL
	};
	static const char *const from_arrived[] = { "fulfilled",
						    "entered-in-error", NULL };
	static const char *const from_done[] = { "entered-in-error", NULL };
	const char *const *to = from_done;

	if (g_str_equal(from, "booked"))
		to = from_booked;
	else if (g_str_equal(from, "checked-in"))
		to = from_checked_in;
	else if (g_str_equal(from, "arrived"))
		to = from_arrived;
	return to[g_rand_int_range(c->rand, 0, g_strv_length((char **)to))];
}

static gboolean
do_status(Client *c, guint i)
{
	Live *l = c->live->pdata[i];
	const char *status = next_status(c, l->status);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	logf_line(c, "send status %s %s", l->booking, status);
	r = call(c, "SetStatus", g_variant_new("(ss)", l->booking, status),
		 "()", &error);
	if (!r)
		return answer_error(c, error);
	ack(c, "status %s", l->booking);
	if (g_str_equal(status, "entered-in-error")) {
		g_ptr_array_remove_index_fast(c->live, i);
		return TRUE;
	}
	g_free(l->status);
	l->status = g_strdup(status);
	return TRUE;
}

/* ---- the waitlist --------------------------------------------------- */

static gint
find_entry(Client *c, const char *entry)
{
	for (guint i = 0; i < c->entries->len; i++)
		if (g_str_equal(((Entry *)c->entries->pdata[i])->entry, entry))
			return (gint)i;
	return -1;
}

static void
set_offer(Entry *e, const char *slot, const char *hold, gint64 expires)
{
	g_free(e->slot);
	g_free(e->hold);
	e->slot = g_strdup(slot);
	e->hold = g_strdup(hold);
	e->expires = expires;
}

/* An offer for one of the client's entries: committed before slotd
 * told anyone, so the checker holds slotd to it. */
static void
saw_offer(Client *c, const char *entry, const char *slot, const char *hold,
	  gint64 expires)
{
	gint i = find_entry(c, entry);
	Entry *e;

	if (i < 0)
		return;
	e = c->entries->pdata[i];
	if (e->hold && g_str_equal(e->hold, hold))
		return;
	set_offer(e, slot, hold, expires);
	logf_line(c, "seen %s %s %s %" G_GINT64_FORMAT, entry, slot, hold,
		  expires);
}

static void
on_slot_offered(GDBusConnection *conn, const char *sender,
		const char *path, const char *iface, const char *signal,
		GVariant *params, gpointer user_data)
{
	const char *entry, *slot, *hold;
	gint64 expires;

	if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sssx)")))
		return;
	g_variant_get(params, "(&s&s&sx)", &entry, &slot, &hold, &expires);
	saw_offer(user_data, entry, slot, hold, expires);
}

/* The signals that came while the client waited for answers. */
static void
pump_signals(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/* ListWaitlist of every service the client waits in: the offers it
 * shows are seen as the signal's are; an entry without one has none
 * open (it expired). A failed call changes nothing here. */
static void
view_waitlist(Client *c)
{
	for (guint t = 0; t < N_TARGETS; t++) {
		g_autoptr(GVariant) r = NULL, rows = NULL;
		gboolean again = FALSE;

		if (!targets[t].waitlist)
			continue;
		/* One call a service. */
		for (guint u = 0; u < t; u++)
			again |= targets[u].waitlist &&
				 g_str_equal(targets[u].service,
					     targets[t].service);
		if (again)
			continue;
		r = call(c, "ListWaitlist",
			 g_variant_new("(s)", targets[t].service), "(aa{sv})",
			 NULL);
		if (!r)
			return;
		rows = g_variant_get_child_value(r, 0);
		for (gsize k = 0; k < g_variant_n_children(rows); k++) {
			g_autoptr(GVariant) row = g_variant_get_child_value(
				rows, k);
			const char *id, *slot, *hold;
			gint64 expires;
			gint i;

			if (!g_variant_lookup(row, "id", "&s", &id) ||
			    (i = find_entry(c, id)) < 0)
				continue;
			if (g_variant_lookup(row, "offer-slot", "&s", &slot) &&
			    g_variant_lookup(row, "offer-hold", "&s", &hold) &&
			    g_variant_lookup(row, "offer-expires", "x",
					     &expires))
				saw_offer(c, id, slot, hold, expires);
			else
				set_offer(c->entries->pdata[i], NULL, NULL, 0);
		}
	}
}

static TargetId
random_waitlist_target(Client *c)
{
	TargetId t = random_target(c);

	return t < N_TARGETS && targets[t].waitlist ? t : T_FIXED_W;
}

static gboolean
do_join(Client *c, TargetId t)
{
	g_autofree char *ref = new_ref(c);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	const char *entry;
	GVariantDict q;
	Entry *e;

	g_variant_dict_init(&q, NULL);
	if (targets[t].municipality)
		g_variant_dict_insert(&q, "municipality", "s",
				      targets[t].municipality);
	g_variant_dict_insert(&q, "priority", "u",
			      (guint32)g_rand_int_range(c->rand, 1, 10));
	logf_line(c, "send join %s %s", ref, targets[t].name);
	r = call(c, "JoinWaitlist",
		 g_variant_new("(ss@a{sv})", targets[t].service, ref,
			       g_variant_dict_end(&q)),
		 "(s)", &error);
	if (!r)
		return answer_error(c, error);
	g_variant_get(r, "(&s)", &entry);
	ack(c, "join %s", entry);
	e = g_new0(Entry, 1);
	e->entry = g_strdup(entry);
	e->target = t;
	g_ptr_array_add(c->entries, e);
	return TRUE;
}

static gboolean
do_leave(Client *c, guint i)
{
	Entry *e = c->entries->pdata[i];
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	logf_line(c, "send leave %s", e->entry);
	r = call(c, "LeaveWaitlist", g_variant_new("(s)", e->entry), "()",
		 &error);
	if (!r)
		return answer_error(c, error);
	ack(c, "leave %s", e->entry);
	g_ptr_array_remove_index_fast(c->entries, i);
	return TRUE;
}

/* AcceptOffer (then the entry is booked) or DeclineOffer of the offer
 * seen. Refused (Conflict): the offer expired meanwhile. */
static gboolean
do_answer(Client *c, guint i)
{
	Entry *e = c->entries->pdata[i];
	gboolean accept = g_rand_int_range(c->rand, 0, 100) < 65;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	const char *booking;

	logf_line(c, "send %s %s %s %s", accept ? "accept" : "decline",
		  e->entry, e->slot, e->hold);
	r = call(c, accept ? "AcceptOffer" : "DeclineOffer",
		 g_variant_new("(s)", e->entry), accept ? "(s)" : "()",
		 &error);
	if (!r) {
		gboolean go_on = answer_error(c, error);

		set_offer(e, NULL, NULL, 0);
		return go_on;
	}
	if (!accept) {
		ack(c, "decline %s", e->entry);
		set_offer(e, NULL, NULL, 0);
		return TRUE;
	}
	g_variant_get(r, "(&s)", &booking);
	ack(c, "accept %s", booking);
	add_live(c, booking, "booked", e->target, e->slot);
	g_ptr_array_remove_index_fast(c->entries, i);
	return TRUE;
}

/* An entry with an offer seen, or -1. */
static gint
pick_offered(Client *c)
{
	for (guint i = 0; i < c->entries->len; i++)
		if (((Entry *)c->entries->pdata[i])->slot)
			return (gint)i;
	return -1;
}

/* The waitlist's share of the steps; -1: none this time. */
static gint
waitlist_step(Client *c)
{
	gint32 dice = g_rand_int_range(c->rand, 0, 100);
	gint i;

	pump_signals();
	if ((i = pick_offered(c)) >= 0 && dice < 40)
		return do_answer(c, (guint)i);
	dice = g_rand_int_range(c->rand, 0, 100);
	if (dice < 5 && c->entries->len < 3)
		return do_join(c, random_waitlist_target(c));
	if (dice < 6 && c->entries->len)
		return do_leave(c, (guint)g_rand_int_range(
					   c->rand, 0, (gint32)c->entries->len));
	if (dice < 9)
		view_waitlist(c);
	return -1;
}

/* Books more while the client has few bookings, changes more once it
 * has many, so that seats keep turning over for a hundred rounds. */
static gboolean
step(Client *c)
{
	gint32 dice = g_rand_int_range(c->rand, 0, 100);
	gboolean few = c->live->len < 8;
	gint i;

	if ((i = waitlist_step(c)) >= 0)
		return i;
	if (c->held->len && (dice < 15 || c->held->len > 3))
		return do_use_hold(c);
	dice = g_rand_int_range(c->rand, 0, 100);
	if (few ? dice < 65 : dice < 25) {
		TargetId t = random_target(c);
		gint32 how = g_rand_int_range(c->rand, 0, 100);
		gboolean tried;

		if (t == N_TARGETS)
			return FALSE;
		if (how < 10 && c->pools[T_SERIES]->len) {
			gboolean ok = do_series(c, &tried);

			if (!ok || tried)
				return ok;
		}
		if (how < 30)
			return do_hold(c, t);
		return do_book(c, t);
	}
	dice = g_rand_int_range(c->rand, 0, 100);
	if (dice < 35 && (i = pick_live(c, cancellable)) >= 0)
		return do_cancel(c, (guint)i);
	if (dice < 70 && (i = pick_live(c, movable)) >= 0)
		return do_move(c, (guint)i);
	if ((i = pick_live(c, NULL)) >= 0)
		return do_status(c, (guint)i);
	return do_book(c, T_FIXED_W);
}

/* ---- start ---------------------------------------------------------- */

/* FALSE when the daemon went away before the client could start. */
static gboolean
load_pool(Client *c, TargetId t)
{
	const Target *target = &targets[t];
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL, slots = NULL;
	GVariantDict q;

	g_variant_dict_init(&q, NULL);
	request_options(t, &q);
	g_variant_dict_insert(&q, "limit", "u", 400);
	r = call(c, "FindSlots",
		 g_variant_new("(s@a{sv})", target->service,
			       g_variant_dict_end(&q)),
		 "(a(ssxxua{sv}))", &error);
	if (!r) {
		g_autofree char *name = g_dbus_error_get_remote_error(error);

		if (!name || !g_str_has_prefix(name, "org.slotd."))
			return FALSE;
		g_printerr("FindSlots %s: %s\n", target->service,
			   error->message);
		exit(2);
	}
	slots = g_variant_get_child_value(r, 0);
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		g_autoptr(GVariant) extras = NULL;
		const char *id, *unit, *kind = NULL;
		gint64 start;
		PoolSlot *s;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, &unit,
				    &start, NULL, NULL, &extras);
		g_variant_lookup(extras, "kind", "&s", &kind);
		/* Not open for check-in yet, or of another kind or unit. */
		if (g_variant_lookup(extras, "bookable-from", "x", NULL) ||
		    (target->kind && g_strcmp0(kind, target->kind) != 0) ||
		    (target->unit && !g_str_equal(unit, target->unit)))
			continue;
		s = g_new0(PoolSlot, 1);
		s->id = g_strdup(id);
		s->unit = g_strdup(unit);
		s->start = start;
		g_ptr_array_add(c->pools[t], s);
	}
	return TRUE;
}

/* Every target's pool in FILE (pool lines), written whole. */
static int
write_pools(GDBusConnection *conn, const char *path)
{
	Client c = { conn };
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	g_autoptr(GError) error = NULL;

	for (guint t = 0; t < N_TARGETS; t++) {
		c.pools[t] = g_ptr_array_new_with_free_func(pool_slot_free);
		if (!load_pool(&c, (TargetId)t)) {
			g_printerr("slotd went away while the pools were "
				   "found\n");
			return 1;
		}
		for (guint i = 0; i < c.pools[t]->len; i++) {
			const PoolSlot *s = c.pools[t]->pdata[i];

			g_string_append_printf(text,
					       "pool %s %s %s %" G_GINT64_FORMAT
					       "\n",
					       targets[t].name, s->id, s->unit,
					       s->start);
		}
		g_ptr_array_unref(c.pools[t]);
	}
	if (!g_file_set_contents(tmp, text->str, (gssize)text->len, &error) ||
	    g_rename(tmp, path) != 0) {
		g_printerr("%s: %s\n", path,
			   error ? error->message : g_strerror(errno));
		return 2;
	}
	return 0;
}

static TargetId
target_by_name(const char *name)
{
	for (guint t = 0; t < N_TARGETS; t++)
		if (g_str_equal(targets[t].name, name))
			return (TargetId)t;
	g_printerr("unknown target %s\n", name);
	exit(2);
}

/* TRUE when the state held the pools. */
static gboolean
load_state(Client *c, const char *path)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	gboolean pooled = FALSE;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return FALSE;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) w = g_strsplit(lines[i], " ", -1);
		guint n = g_strv_length(w);

		if (n == 5 && g_str_equal(w[0], "booking")) {
			add_live(c, w[1], w[2], target_by_name(w[3]), w[4]);
		} else if (n == 5 && g_str_equal(w[0], "hold")) {
			Held *h = g_new0(Held, 1);

			h->hold = g_strdup(w[1]);
			h->target = target_by_name(w[2]);
			h->slot = g_strdup(w[3]);
			h->ref = g_strdup(w[4]);
			g_ptr_array_add(c->held, h);
		} else if ((n == 3 || n == 6) && g_str_equal(w[0], "entry")) {
			Entry *e = g_new0(Entry, 1);

			e->entry = g_strdup(w[1]);
			e->target = target_by_name(w[2]);
			if (n == 6)
				set_offer(e, w[3], w[4],
					  g_ascii_strtoll(w[5], NULL, 10));
			g_ptr_array_add(c->entries, e);
		} else if (n == 5 && g_str_equal(w[0], "pool")) {
			PoolSlot *s = g_new0(PoolSlot, 1);

			s->id = g_strdup(w[2]);
			s->unit = g_strdup(w[3]);
			s->start = g_ascii_strtoll(w[4], NULL, 10);
			g_ptr_array_add(c->pools[target_by_name(w[1])], s);
			pooled = TRUE;
		} else if (n > 1) {
			g_printerr("bad state line: %s\n", lines[i]);
			exit(2);
		}
	}
	return pooled;
}

static gboolean
daemon_ready(GDBusConnection *conn)
{
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
		conn, BUS_NAME, OBJECT, "org.slotd.Admin1", "GetStatus", NULL,
		G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
		5000, NULL, NULL);
	g_autoptr(GVariant) d = NULL;
	gboolean done = FALSE;

	if (!r)
		return FALSE;
	d = g_variant_get_child_value(r, 0);
	g_variant_lookup(d, "horizon-complete", "b", &done);
	return done;
}

static int
wait_ready(GDBusConnection *conn)
{
	for (guint i = 0; i < 1200; i++) {
		if (daemon_ready(conn))
			return 0;
		g_usleep(50000);
	}
	g_printerr("slotd did not become ready in 60 s\n");
	return 1;
}

static int
run(GDBusConnection *conn, int argc, char **argv)
{
	Client c = { conn };
	gboolean started = TRUE;

	c.client = (guint)atoi(argv[0]);
	c.round = (guint)atoi(argv[1]);
	c.rand = g_rand_new_with_seed((guint32)strtoul(argv[2], NULL, 10));
	if (argc == 7) {
		c.kill_pid = (pid_t)atoi(argv[5]);
		c.kill_after = (guint)atoi(argv[6]);
	}
	c.log = fopen(argv[3], "a");
	if (!c.log) {
		perror(argv[3]);
		return 2;
	}
	for (guint t = 0; t < N_TARGETS; t++)
		c.pools[t] = g_ptr_array_new_with_free_func(pool_slot_free);
	c.live = g_ptr_array_new_with_free_func(live_free);
	c.held = g_ptr_array_new_with_free_func(held_free);
	c.entries = g_ptr_array_new_with_free_func(entry_free);
	g_dbus_connection_signal_subscribe(conn, NULL, SCHEDULER,
					   "SlotOffered", OBJECT, NULL,
					   G_DBUS_SIGNAL_FLAGS_NONE,
					   on_slot_offered, &c, NULL);
	if (!load_state(&c, argv[4]))
		for (guint t = 0; t < N_TARGETS && started; t++)
			started = load_pool(&c, (TargetId)t);
	if (started) {
		if (c.pools[T_FIXED_W]->len == 0) {
			g_printerr("no slots to book\n");
			return 2;
		}
		logf_line(&c, "ready");
		view_waitlist(&c);
		while (step(&c))
			;
	}
	fclose(c.log);
	for (guint t = 0; t < N_TARGETS; t++)
		g_ptr_array_unref(c.pools[t]);
	g_ptr_array_unref(c.live);
	g_ptr_array_unref(c.held);
	g_ptr_array_unref(c.entries);
	g_rand_free(c.rand);
	return 0;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) conn = NULL;

	if (argc < 3 || (g_str_equal(argv[2], "run") && argc != 8 &&
			 argc != 10) ||
	    (g_str_equal(argv[2], "pools") && argc != 4)) {
		g_printerr("usage: crash-client ADDRESS wait | pools FILE | "
			   "run CLIENT ROUND SEED LOG STATE [PID AFTER]\n");
		return 2;
	}
	conn = g_dbus_connection_new_for_address_sync(
		argv[1],
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	if (!conn) {
		g_printerr("cannot connect: %s\n", error->message);
		return 2;
	}
	g_dbus_connection_set_exit_on_close(conn, FALSE);
	if (g_str_equal(argv[2], "wait"))
		return wait_ready(conn);
	if (g_str_equal(argv[2], "pools"))
		return write_pools(conn, argv[3]);
	return run(conn, argc - 3, argv + 3);
}
