/* org.slotd.Scheduler1: finding, holding and booking slots. */
#include "daemon.h"
#include "metrics.h"
#include "slotd-config.h"
#include "loop-watch.h"

#include <string.h>

#define E_(name) "org.slotd.Error." name
#define E_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define E_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define E_STORAGE E_("StorageUnavailable")

static const char *const errors_read[] = { E_DENIED, NULL };
static const char *const errors_find[] = {
	E_ARGS, E_DENIED, E_("NoSuchService"), E_("ServiceUnavailable"),
	E_STORAGE, NULL
};
static const char *const errors_hold[] = {
	E_ARGS, E_DENIED, E_("NoSuchSlot"), E_("SlotFull"),
	E_("PolicyViolation"), E_("DeadlineUnreachable"),
	E_("ServiceUnavailable"), E_STORAGE, NULL
};
static const char *const errors_hold_for[] = {
	E_ARGS, E_DENIED, E_("NoSuchSlot"), E_("SlotFull"),
	E_("InvalidClientRef"), E_("PolicyViolation"),
	E_("DeadlineUnreachable"), E_("ServiceUnavailable"), E_STORAGE, NULL
};
static const char *const errors_release[] = {
	E_ARGS, E_DENIED, E_("NoSuchHold"), E_("Conflict"), E_STORAGE, NULL
};
static const char *const errors_book[] = {
	E_ARGS, E_DENIED, E_("NoSuchSlot"), E_("NoSuchHold"), E_("SlotFull"),
	E_("InvalidClientRef"), E_("PolicyViolation"),
	E_("DeadlineUnreachable"), E_("Conflict"), E_("ServiceUnavailable"),
	E_STORAGE, NULL
};
static const char *const errors_booking[] = {
	E_ARGS, E_DENIED, E_("NoSuchBooking"), E_("Conflict"), E_STORAGE, NULL
};
static const char *const errors_cancel[] = {
	E_ARGS, E_DENIED, E_("NoSuchBooking"), E_("Conflict"),
	E_("PolicyViolation"), E_STORAGE, NULL
};
static const char *const errors_reschedule[] = {
	E_ARGS, E_DENIED, E_("NoSuchBooking"), E_("NoSuchSlot"),
	E_("SlotFull"), E_("PolicyViolation"), E_("DeadlineUnreachable"),
	E_("Conflict"), E_("ServiceUnavailable"), E_STORAGE, NULL
};
static const char *const errors_get[] = {
	E_ARGS, E_DENIED, E_("NoSuchBooking"), E_STORAGE, NULL
};
static const char *const errors_list[] = { E_ARGS, E_DENIED, E_STORAGE, NULL };
static const char *const errors_join[] = {
	E_ARGS, E_DENIED, E_("NoSuchService"), E_("InvalidClientRef"),
	E_("ServiceUnavailable"), E_STORAGE, NULL
};
static const char *const errors_entry[] = {
	E_ARGS, E_DENIED, E_("NoSuchEntry"), E_("Conflict"), E_STORAGE, NULL
};
static const char *const errors_accept[] = {
	E_ARGS, E_DENIED, E_("NoSuchEntry"), E_("NoSuchHold"), E_("SlotFull"),
	E_("PolicyViolation"), E_("DeadlineUnreachable"), E_("Conflict"),
	E_("ServiceUnavailable"), E_STORAGE, NULL
};
static const char *const errors_plan_campaign[] = {
	E_ARGS, E_DENIED, E_("NoSuchService"), E_("InvalidClientRef"),
	E_("ServiceUnavailable"), E_STORAGE, NULL
};
static const char *const errors_book_campaign[] = {
	E_ARGS, E_DENIED, E_("NoSuchService"), E_("NoSuchSlot"),
	E_("SlotFull"), E_("InvalidClientRef"), E_("PolicyViolation"),
	E_("DeadlineUnreachable"), E_("Conflict"), E_("ServiceUnavailable"),
	E_STORAGE, NULL
};
static const char *const errors_campaign_progress[] = {
	E_ARGS, E_DENIED, E_("NoSuchService"), E_("InvalidClientRef"),
	E_STORAGE, NULL
};
static const char *const errors_list_waitlist[] = {
	E_ARGS, E_DENIED, E_("NoSuchService"), E_STORAGE, NULL
};

void
daemon_caller(BusCall *call, Caller *ret_caller)
{
	ret_caller->uid = bus_call_uid(call);
	ret_caller->name = bus_call_sender(call);
	ret_caller->admin = (bus_call_roles(call) & BUS_ROLE_ADMIN) != 0;
}

static void
reply(BusCall *call, gboolean ok, GVariant *value, GError *error)
{
	if (ok)
		bus_call_return(call, value);
	else
		bus_call_return_error(call, error);
}

/* One row of ListServices. */
static void
write_service(BusWriter *w, Daemon *daemon, const Service *s)
{
	const SlotdKindOps *ops = plugin_host_kind(daemon->plugins, s->kind);
	g_autofree char *title = ops ? NULL
				     : g_strdup_printf("%s (unavailable: no "
						       "plugin provides '%s')",
						       s->title_fi, s->kind);

	bus_writer_open(w, 'r', NULL);
	bus_writer_string(w, s->id);
	bus_writer_string(w, s->kind);
	bus_writer_string(w, title ? title : s->title_fi);
	bus_writer_close(w);
}

/* The reply is written once per region snapshot (a reload makes a new
 * one, and loads the plugins again; the region is held, so its address
 * is not reused) and kept: every other call gets a copy. */
static void
list_services(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	Region *region = capacity_region(daemon->capacity);
	BusWriter *w;

	if (daemon->services_region == region && daemon->services_reply) {
		bus_call_return_kept(call, daemon->services_reply);
		return;
	}
	g_clear_pointer(&daemon->services_reply, bus_kept_reply_free);
	g_clear_pointer(&daemon->services_region, region_unref);
	daemon->services_region = region_ref(region);
	w = bus_call_writer(call);
	bus_writer_open(w, 'a', "(sss)");
	for (guint i = 0; i < region->services->len; i++)
		write_service(w, daemon, region->services->pdata[i]);
	bus_writer_close(w);
	bus_writer_return_keep(w, &daemon->services_reply);
}

static void
list_units(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	Region *region = capacity_region(daemon->capacity);
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a(sssas)"));
	for (guint i = 0; i < region->units->len; i++) {
		const Unit *u = region->units->pdata[i];

		g_variant_builder_add(&b, "(sss^as)", u->id, u->municipality,
				      u->title_fi, u->languages);
	}
	bus_call_return(call, g_variant_new("(a(sssas))", &b));
}

/* The languages and modalities entries of an offering's slots, as
 * bytes: the same for every slot of the offering in one region
 * snapshot (FoundSlot borrows them from it). */
static GBytes *
offering_entries(Daemon *daemon, const FoundSlot *f)
{
	Region *region = capacity_region(daemon->capacity);
	GBytes *bytes;
	BusWriter *w;

	if (daemon->extras_region != region) {
		g_clear_pointer(&daemon->extras_bytes, g_hash_table_unref);
		g_clear_pointer(&daemon->extras_region, region_unref);
		daemon->extras_region = region_ref(region);
		/* Keys are the snapshot's offering ids, held with it. */
		daemon->extras_bytes = g_hash_table_new_full(
			g_str_hash, g_str_equal, NULL,
			(GDestroyNotify)g_bytes_unref);
	}
	bytes = g_hash_table_lookup(daemon->extras_bytes, f->offering);
	if (bytes)
		return bytes;
	w = bus_writer_new_scratch();
	bus_writer_entry_strv(w, "languages", f->languages);
	bus_writer_entry_strv(w, "modalities", f->modalities);
	bytes = bus_writer_finish_scratch(w);
	g_hash_table_insert(daemon->extras_bytes, (gpointer)f->offering,
			    bytes);
	return bytes;
}

/* The extras of a found slot, straight into the reply. The keys come
 * in the order GVariantDict gave them when the reply was built as a
 * GVariant (GLib 2.74), so that the bytes stay what they were: a{sv}
 * has no order a caller may rely on, but the benchmark replays them. */
static void
write_extras(BusWriter *w, Daemon *daemon, const FoundSlot *f)
{
	const char *const *languages = f->languages;
	const char *const *modalities = f->modalities;

	bus_writer_open(w, 'a', "{sv}");
	if (f->bookable_from)
		bus_writer_entry_int64(w, "bookable-from", f->bookable_from);
	else if (f->practitioner)
		bus_writer_entry_string(w, "practitioner", f->practitioner);
	bus_writer_entry_string(w, "municipality", f->municipality);
	bus_writer_entry_int32(w, "travel-minutes", f->travel_minutes);
	if (f->bookable_from && f->practitioner) {
		bus_writer_entry_strv(w, "modalities", modalities);
		bus_writer_entry_string(w, "modality", f->modality);
		bus_writer_entry_strv(w, "languages", languages);
		bus_writer_entry_string(w, "kind", f->kind);
		bus_writer_entry_string(w, "practitioner", f->practitioner);
	} else {
		bus_writer_put(w, offering_entries(daemon, f));
		bus_writer_entry_string(w, "modality", f->modality);
		bus_writer_entry_string(w, "kind", f->kind);
	}
	bus_writer_close(w);
}

static void
find_slots(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GVariant) query = NULL;
	g_autoptr(GError) error = NULL;
	const char *service;
	BusWriter *w;

	g_variant_get(args, "(&s@a{sv})", &service, &query);
	if (!capacity_find(daemon->capacity, service, query, &found, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	w = bus_call_writer(call);
	/* About 230 bytes a slot with its extras. */
	bus_writer_reserve(w, (gsize)found->len * 256);
	bus_writer_open(w, 'a', "(ssxxua{sv})");
	for (guint i = 0; i < found->len; i++) {
		const FoundSlot *f = found->pdata[i];

		bus_writer_open(w, 'r', NULL);
		bus_writer_string(w, f->slot_id);
		bus_writer_string(w, f->unit);
		bus_writer_int64(w, f->start);
		bus_writer_int64(w, f->end);
		bus_writer_uint32(w, f->free);
		write_extras(w, daemon, f);
		bus_writer_close(w);
	}
	bus_writer_close(w);
	bus_writer_return(w);
}

static void
find_series(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GVariant) pattern = NULL, query = NULL, rows = NULL;
	g_autoptr(GError) error = NULL;
	const char *service;
	gboolean ok;

	g_variant_get(args, "(&s@a{sv}@a{sv})", &service, &pattern, &query);
	ok = capacity_find_series(daemon->capacity, service, pattern, query,
				  &rows, &error);
	reply(call, ok, ok ? g_variant_new("(@aa{sv})", rows) : NULL, error);
}

/* ---- changes: run in batches that share one commit ----------------- */

/* A change: returns the reply (a tuple, or NULL for "()") or FALSE. */
typedef gboolean (*ChangeFunc)(Daemon *daemon, const Caller *caller,
			       GVariant *args, GVariant **ret_reply,
			       GError **error);

static gboolean
run_hold(Daemon *daemon, const Caller *caller, GVariant *args,
	 GVariant **ret_reply, GError **error)
{
	g_autofree char *hold_id = NULL;
	const char *slot;
	guint32 seconds;

	g_variant_get(args, "(&su)", &slot, &seconds);
	if (!capacity_hold(daemon->capacity, caller, slot, NULL, NULL,
			   seconds, &hold_id, NULL, error))
		return FALSE;
	*ret_reply = g_variant_new("(s)", hold_id);
	return TRUE;
}

static gboolean
run_hold_for(Daemon *daemon, const Caller *caller, GVariant *args,
	     GVariant **ret_reply, GError **error)
{
	g_autoptr(GVariant) options = NULL;
	g_autofree char *hold_id = NULL;
	const char *slot, *client_ref;
	guint32 seconds;
	gint64 expires = 0;

	g_variant_get(args, "(&s&s@a{sv}u)", &slot, &client_ref, &options,
		      &seconds);
	/* "": the client is not named yet; Book checks rules about them. */
	if (!capacity_hold(daemon->capacity, caller, slot,
			   client_ref[0] ? client_ref : NULL, options, seconds,
			   &hold_id, &expires, error))
		return FALSE;
	*ret_reply = g_variant_new("(sx)", hold_id, expires);
	return TRUE;
}

static gboolean
run_release_hold(Daemon *daemon, const Caller *caller, GVariant *args,
		 GVariant **ret_reply, GError **error)
{
	const char *hold;

	g_variant_get(args, "(&s)", &hold);
	*ret_reply = NULL;
	return capacity_release_hold(daemon->capacity, caller, hold, error);
}

static gboolean
run_book(Daemon *daemon, const Caller *caller, GVariant *args,
	 GVariant **ret_reply, GError **error)
{
	g_autoptr(GVariant) slot_v = g_variant_get_child_value(args, 0);
	g_autoptr(GVariant) ref_v = g_variant_get_child_value(args, 1);
	g_autoptr(GVariant) options = g_variant_get_child_value(args, 2);
	const char *slot = g_variant_get_string(slot_v, NULL);
	const char *client_ref = g_variant_get_string(ref_v, NULL);
	g_autofree char *booking = NULL;

	/* (ssa{sv}) child by child: g_variant_get() and _get_child() read
	 * a format string first, some 16,000 instructions for these three. */
	if (!capacity_book(daemon->capacity, caller, slot, client_ref, options,
			   &booking, error))
		return FALSE;
	*ret_reply = g_variant_new("(s)", booking);
	return TRUE;
}

static gboolean
run_book_series(Daemon *daemon, const Caller *caller, GVariant *args,
		GVariant **ret_reply, GError **error)
{
	g_autoptr(GVariant) options = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	g_autofree const char **slots = NULL;
	const char *client_ref;

	g_variant_get(args, "(^a&s&s@a{sv})", &slots, &client_ref, &options);
	if (!capacity_book_series(daemon->capacity, caller, slots, client_ref,
				  options, &ids, error))
		return FALSE;
	g_ptr_array_add(ids, NULL);
	*ret_reply = g_variant_new("(^as)", (char **)ids->pdata);
	return TRUE;
}

static gboolean
run_cancel(Daemon *daemon, const Caller *caller, GVariant *args,
	   GVariant **ret_reply, GError **error)
{
	const char *booking, *reason;

	g_variant_get(args, "(&s&s)", &booking, &reason);
	*ret_reply = NULL;
	return capacity_cancel(daemon->capacity, caller, booking, reason,
			       error);
}

static gboolean
run_cancel_series(Daemon *daemon, const Caller *caller, GVariant *args,
		  GVariant **ret_reply, GError **error)
{
	const char *series, *reason;
	guint cancelled = 0;

	g_variant_get(args, "(&s&s)", &series, &reason);
	if (!capacity_cancel_series(daemon->capacity, caller, series, reason,
				    &cancelled, error))
		return FALSE;
	*ret_reply = g_variant_new("(u)", cancelled);
	return TRUE;
}

static gboolean
run_reschedule(Daemon *daemon, const Caller *caller, GVariant *args,
	       GVariant **ret_reply, GError **error)
{
	g_autofree char *moved = NULL;
	g_autoptr(GVariant) options = NULL;
	const char *booking, *slot;

	/* Reschedule (ss), RescheduleWith (ssa{sv}) */
	g_variant_get_child(args, 0, "&s", &booking);
	g_variant_get_child(args, 1, "&s", &slot);
	if (g_variant_n_children(args) > 2)
		options = g_variant_get_child_value(args, 2);
	if (!capacity_reschedule(daemon->capacity, caller, booking, slot,
				 options, &moved, error))
		return FALSE;
	*ret_reply = g_variant_new("(s)", moved);
	return TRUE;
}

static gboolean
run_set_status(Daemon *daemon, const Caller *caller, GVariant *args,
	       GVariant **ret_reply, GError **error)
{
	const char *booking, *status;

	g_variant_get(args, "(&s&s)", &booking, &status);
	*ret_reply = NULL;
	return capacity_set_status(daemon->capacity, caller, booking, status,
				   error);
}

/* ---- the waitlist ---------------------------------------------------- */

static gboolean
run_join_waitlist(Daemon *daemon, const Caller *caller, GVariant *args,
		  GVariant **ret_reply, GError **error)
{
	g_autoptr(GVariant) query = NULL;
	g_autofree char *entry = NULL;
	const char *service, *client_ref;

	g_variant_get(args, "(&s&s@a{sv})", &service, &client_ref, &query);
	if (!capacity_join_waitlist(daemon->capacity, caller, service,
				    client_ref, query, &entry, error))
		return FALSE;
	*ret_reply = g_variant_new("(s)", entry);
	return TRUE;
}

static gboolean
run_leave_waitlist(Daemon *daemon, const Caller *caller, GVariant *args,
		   GVariant **ret_reply, GError **error)
{
	const char *entry;

	g_variant_get(args, "(&s)", &entry);
	*ret_reply = NULL;
	return capacity_leave_waitlist(daemon->capacity, caller, entry,
				       error);
}

static gboolean
run_accept_offer(Daemon *daemon, const Caller *caller, GVariant *args,
		 GVariant **ret_reply, GError **error)
{
	g_autofree char *booking = NULL;
	const char *entry;

	g_variant_get(args, "(&s)", &entry);
	if (!capacity_accept_offer(daemon->capacity, caller, entry, &booking,
				   error))
		return FALSE;
	*ret_reply = g_variant_new("(s)", booking);
	return TRUE;
}

static gboolean
run_decline_offer(Daemon *daemon, const Caller *caller, GVariant *args,
		  GVariant **ret_reply, GError **error)
{
	const char *entry;

	g_variant_get(args, "(&s)", &entry);
	*ret_reply = NULL;
	return capacity_decline_offer(daemon->capacity, caller, entry, error);
}

/* ---- campaigns ------------------------------------------------------ */

/* A plan books nothing, but it asks the rule with tentative holds in a
 * savepoint of the batch that is rolled back, so it runs with the
 * changes: it sees them in order and they never see its holds. */
static gboolean
run_plan_campaign(Daemon *daemon, const Caller *caller, GVariant *args,
		  GVariant **ret_reply, GError **error)
{
	g_autoptr(GVariant) clients = NULL, options = NULL, rows = NULL;
	const char *service;
	gint64 from, to;

	g_variant_get(args, "(&s@aa{sv}(xx)@a{sv})", &service, &clients,
		      &from, &to, &options);
	if (!capacity_plan_campaign(daemon->capacity, caller, service,
				    clients, from, to, options, &rows, error))
		return FALSE;
	*ret_reply = g_variant_new("(@aa{sv})", rows);
	return TRUE;
}

static gboolean
run_book_campaign(Daemon *daemon, const Caller *caller, GVariant *args,
		  GVariant **ret_reply, GError **error)
{
	g_autoptr(GVariant) placements = NULL, options = NULL;
	g_autoptr(GPtrArray) ids = NULL;
	const char *service;

	g_variant_get(args, "(&s@aa{sv}@a{sv})", &service, &placements,
		      &options);
	if (!capacity_book_campaign(daemon->capacity, caller, service,
				    placements, options, &ids, error))
		return FALSE;
	g_ptr_array_add(ids, NULL);
	*ret_reply = g_variant_new("(^as)", (char **)ids->pdata);
	return TRUE;
}

static void
campaign_progress(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) options = NULL, progress = NULL;
	const char *service, *campaign;
	gboolean ok;

	g_variant_get(args, "(&s&s@a{sv})", &service, &campaign, &options);
	ok = capacity_campaign_progress(daemon->capacity, service, campaign,
					options, &progress, &error);
	reply(call, ok, ok ? g_variant_new("(@a{sv})", progress) : NULL,
	      error);
}

static void
list_waitlist(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = NULL;
	const char *service;
	gboolean ok;

	g_variant_get(args, "(&s)", &service);
	ok = capacity_list_waitlist(daemon->capacity, service, &rows, &error);
	reply(call, ok, ok ? g_variant_new("(@aa{sv})", rows) : NULL, error);
}

static const struct {
	const char *member;
	ChangeFunc run;
} changes[] = {
	{ "JoinWaitlist", run_join_waitlist },
	{ "LeaveWaitlist", run_leave_waitlist },
	{ "AcceptOffer", run_accept_offer },
	{ "DeclineOffer", run_decline_offer },
	{ "Claim", notifications_run_claim },
	{ "Ack", notifications_run_ack },
	{ "Hold", run_hold },	      { "HoldFor", run_hold_for },
	{ "ReleaseHold", run_release_hold },
	{ "Book", run_book },
	{ "BookSeries", run_book_series }, { "Cancel", run_cancel },
	{ "Reschedule", run_reschedule },
	{ "RescheduleWith", run_reschedule },
	{ "SetStatus", run_set_status },
	{ "CancelSeries", run_cancel_series },
	{ "PlanCampaign", run_plan_campaign },
	{ "BookCampaign", run_book_campaign },
};

/* Requests waiting for the next commit; answered only after it. */
typedef struct {
	BusCall *call;
	GVariant *args;
	ChangeFunc run;
	GVariant *reply;
	GError *error;
} Change;

/* More than this many waiting changes are committed at once, so a
 * steady stream of calls cannot delay the first ones without bound. */
#define BATCH_MAX 64

static void
change_answer(Change *c, const GError *commit_error)
{
	if (commit_error && !c->error)
		bus_call_return_error(c->call, commit_error);
	else if (c->error)
		bus_call_return_error(c->call, c->error);
	else
		bus_call_return(c->call, c->reply);
	if (c->reply && commit_error)
		g_variant_unref(g_variant_ref_sink(c->reply));
	g_clear_error(&c->error);
	g_variant_unref(c->args);
	g_free(c);
}

static void
run_batch(Daemon *daemon)
{
	g_autoptr(GError) commit_error = NULL;
	gboolean held = FALSE;
	GQueue batch = daemon->batch;
	gint64 began = g_get_monotonic_time();

	g_queue_init(&daemon->batch);
	if (capacity_batch_begin(daemon->capacity, batch.length == 1,
				 &commit_error)) {
		for (GList *l = batch.head; l; l = l->next) {
			Change *c = l->data;
			Caller caller;

			daemon_caller(c->call, &caller);
			c->run(daemon, &caller, c->args, &c->reply, &c->error);
			held |= (c->run == run_hold ||
				 c->run == run_hold_for) && !c->error;
		}
		capacity_batch_end(daemon->capacity, &commit_error);
	}
	metrics_observe("slotd_commit_batch_changes", NULL, batch.length);
	metrics_observe("slotd_commit_duration_seconds", NULL,
			(g_get_monotonic_time() - began) / 1e6);
	while (!g_queue_is_empty(&batch))
		change_answer(g_queue_pop_head(&batch), commit_error);
	/* The signals after the answers: no caller waits for them. */
	capacity_batch_tell(daemon->capacity);
	if (held)
		daemon_holds_changed(daemon);
}

static gboolean
batch_due(gpointer user_data)
{
	LOOP_WORK("commit", NULL);
	Daemon *daemon = user_data;

	g_clear_pointer(&daemon->batch_source, g_source_unref);
	run_batch(daemon);
	return G_SOURCE_REMOVE;
}

static void
defer_change(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	Change *c = g_new0(Change, 1);

	c->call = call;
	c->args = g_variant_ref(args);
	for (guint i = 0; i < G_N_ELEMENTS(changes); i++)
		if (g_str_equal(changes[i].member, bus_call_member(call)))
			c->run = changes[i].run;
	g_assert(c->run);
	g_queue_push_tail(&daemon->batch, c);
	if (daemon->batch.length >= BATCH_MAX) {
		if (daemon->batch_source)
			g_source_destroy(daemon->batch_source);
		g_clear_pointer(&daemon->batch_source, g_source_unref);
		run_batch(daemon);
		return;
	}
	if (daemon->batch_source)
		return;
	/* Below the bus's sources: runs once no message is waiting. */
	daemon->batch_source = g_idle_source_new();
	g_source_set_priority(daemon->batch_source, G_PRIORITY_DEFAULT_IDLE);
	g_source_set_callback(daemon->batch_source, batch_due, daemon, NULL);
	g_source_attach(daemon->batch_source, NULL);
}

void
scheduler_defer_change(BusCall *call, GVariant *args, gpointer user_data)
{
	defer_change(call, args, user_data);
}

void
scheduler_flush(Daemon *daemon)
{
	if (daemon->batch_source) {
		g_source_destroy(daemon->batch_source);
		g_clear_pointer(&daemon->batch_source, g_source_unref);
	}
	if (!g_queue_is_empty(&daemon->batch))
		run_batch(daemon);
}

static void
get_booking(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) booking = NULL;
	const char *id;
	gboolean ok;

	g_variant_get(args, "(&s)", &id);
	ok = capacity_get_booking(daemon->capacity, id, &booking, &error);
	reply(call, ok, ok ? g_variant_new("(@a{sv})", booking) : NULL, error);
}

static void
get_history(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = NULL;
	const char *id;
	gboolean ok;

	g_variant_get(args, "(&s)", &id);
	ok = capacity_booking_history(daemon->capacity, id, &rows, &error);
	reply(call, ok, ok ? g_variant_new("(@aa{sv})", rows) : NULL, error);
}

static GVariant *
booking_rows(GPtrArray *list)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a(sssxxs)"));
	for (guint i = 0; i < list->len; i++) {
		const StoreBooking *bk = list->pdata[i];
		g_autofree char *id = capacity_booking_id(bk->id);

		g_variant_builder_add(&b, "(sssxxs)", id, bk->unit,
				      bk->service, bk->start, bk->end,
				      bk->status);
	}
	return g_variant_builder_end(&b);
}

static void
get_series(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) list = NULL;
	const char *id;

	g_variant_get(args, "(&s)", &id);
	if (!capacity_get_series(daemon->capacity, id, &list, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	bus_call_return(call, g_variant_new("(@a(sssxxs))",
					    booking_rows(list)));
}

static void
list_bookings(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) filter = NULL;
	g_autoptr(GPtrArray) list = NULL;

	g_variant_get(args, "(@a{sv})", &filter);
	if (!capacity_list_bookings(daemon->capacity, filter, &list, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	bus_call_return(call, g_variant_new("(@a(sssxxs))",
					    booking_rows(list)));
}

static const BusMethod scheduler_methods[] = {
	{ "ListServices", "", "", "a(sss)", "services", list_services,
	  BUS_ROLE_READ, errors_read,
	  "Services: id, plugin kind, title (unavailable ones say why)." },
	{ "ListUnits", "", "", "a(sssas)", "units", list_units, BUS_ROLE_READ,
	  errors_read, "Units: id, municipality code, title, languages." },
	{ "FindSlots", "sa{sv}", "service,query", "a(ssxxua{sv})", "slots",
	  find_slots, BUS_ROLE_READ, errors_find,
	  "Free slots of a service across units, earliest first, then "
	  "nearest." },
	{ "FindSeries", "sa{sv}a{sv}", "service,pattern,query", "aa{sv}",
	  "series", find_series, BUS_ROLE_READ, errors_find,
	  "Whole candidate series (an episode, a course) at one unit, "
	  "earliest first: unit, slots, starts; BookSeries books one." },
	{ "Hold", "su", "slot,seconds", "s", "hold", defer_change, BUS_ROLE_BOOK,
	  errors_hold,
	  "Holds for a client not named yet what a booking without options "
	  "would take; it expires by itself." },
	{ "HoldFor", "ssa{sv}u", "slot,client_ref,options,seconds", "sx",
	  "hold,expires", defer_change, BUS_ROLE_BOOK, errors_hold_for,
	  "Holds exactly what Book of this request would take, until "
	  "expires (UTC seconds); Book of the same client and options with "
	  "option hold then succeeds, Book of another request with it is "
	  "refused (Conflict, naming what differs). An empty client_ref: "
	  "the client is not named yet; the Book names it." },
	{ "ReleaseHold", "s", "hold", "", "", defer_change, BUS_ROLE_BOOK,
	  errors_release,
	  "Gives a hold's places back before it expires." },
	{ "Book", "ssa{sv}", "slot,client_ref,options", "s", "booking",
	  defer_change,
	  BUS_ROLE_BOOK, errors_book,
	  "Books a slot; answered after the booking is committed." },
	{ "BookSeries", "assa{sv}", "slots,client_ref,options", "as",
	  "bookings", defer_change, BUS_ROLE_BOOK, errors_book,
	  "Books every slot or none." },
	{ "Cancel", "ss", "booking,reason", "", "", defer_change,
	  BUS_ROLE_BOOK,
	  errors_cancel, "Cancels a booking; its seats are free again." },
	{ "Reschedule", "ss", "booking,new_slot", "s", "booking",
	  defer_change,
	  BUS_ROLE_BOOK, errors_reschedule,
	  "Moves a booking atomically; the id stays the same." },
	{ "RescheduleWith", "ssa{sv}", "booking,new_slot,options", "s",
	  "booking", defer_change, BUS_ROLE_BOOK, errors_reschedule,
	  "Reschedule, changing what the booking asked for: options "
	  "practitioner (a staff id, or \"\" for whoever the rule finds); "
	  "the rest of the request stays as booked. Audited." },
	{ "SetStatus", "ss", "booking,status", "", "", defer_change,
	  BUS_ROLE_BOOK, errors_booking,
	  "arrived, checked-in, fulfilled, noshow or entered-in-error." },
	{ "GetBooking", "s", "booking", "a{sv}", "booking", get_booking,
	  BUS_ROLE_READ, errors_get, "A booking with its plugin keys." },
	{ "GetBookingHistory", "s", "booking", "aa{sv}", "changes",
	  get_history, BUS_ROLE_READ, errors_get,
	  "Every change of a booking from the audit log, oldest first: "
	  "at, action, uid, caller, detail." },
	{ "GetSeries", "s", "series", "a(sssxxs)", "bookings", get_series,
	  BUS_ROLE_READ, errors_get,
	  "The bookings of a series (sr-N, from GetBooking), any status: "
	  "id, unit, service, start, end, status." },
	{ "CancelSeries", "ss", "series,reason", "u", "cancelled",
	  defer_change, BUS_ROLE_BOOK, errors_cancel,
	  "Cancels every booking of the series still to come, all or "
	  "none; answers how many." },
	{ "ListBookings", "a{sv}", "filter", "a(sssxxs)", "bookings",
	  list_bookings, BUS_ROLE_READ, errors_list,
	  "Bookings: id, unit, service, start, end, status." },
	{ "JoinWaitlist", "ssa{sv}", "service,client_ref,query", "s", "entry",
	  defer_change, BUS_ROLE_BOOK, errors_join,
	  "Puts a client on the service's waitlist (query: municipality, "
	  "language, modality, earliest, latest, deadline, priority); freed "
	  "places are offered to it with SlotOffered." },
	{ "LeaveWaitlist", "s", "entry", "", "", defer_change, BUS_ROLE_BOOK,
	  errors_entry,
	  "Takes an entry off the list; an open offer goes to the next." },
	{ "AcceptOffer", "s", "entry", "s", "booking", defer_change,
	  BUS_ROLE_BOOK, errors_accept,
	  "Books the entry's open offer with its hold (as Book)." },
	{ "DeclineOffer", "s", "entry", "", "", defer_change, BUS_ROLE_BOOK,
	  errors_entry,
	  "Passes the open offer to the next matching entry; the entry stays "
	  "on the list." },
	{ "PlanCampaign", "saa{sv}(xx)a{sv}", "service,clients,window,options",
	  "aa{sv}", "placements", defer_change, BUS_ROLE_BOOK,
	  errors_plan_campaign,
	  "Proposes a campaign's schedule (clients: client-ref, "
	  "housing-unit, language, municipality) in the window (from, to): "
	  "a housing unit's clients on one day where a day takes them, "
	  "each placement asked of the admission rule with the plan's "
	  "earlier ones held. Books nothing. Each client is placed (slot, "
	  "start, practitioners) or unplaceable with the reason." },
	{ "BookCampaign", "saa{sv}a{sv}", "service,placements,options", "as",
	  "bookings", defer_change, BUS_ROLE_BOOK, errors_book_campaign,
	  "Books the placements of PlanCampaign the caller accepts, all or "
	  "none, each through the admission rule; option campaign (an id) "
	  "is kept with every booking." },
	{ "CampaignProgress", "ssa{sv}", "service,campaign,options", "a{sv}",
	  "progress", campaign_progress, BUS_ROLE_READ,
	  errors_campaign_progress,
	  "A campaign's clients mapped (visit fulfilled), scheduled and not "
	  "scheduled (option clients: the round's whole list)." },
	{ "ListWaitlist", "s", "service", "aa{sv}", "entries", list_waitlist,
	  BUS_ROLE_PLANNER, errors_list_waitlist,
	  "The service's entries still waiting, in the order offers go to "
	  "them, with any open offer." },
	{ NULL }
};

static const BusSignal scheduler_signals[] = {
	{ "BookingChanged", "ss", "booking,status",
	  "A booking was made or changed." },
	{ "SlotsChanged", "ssxx", "service,unit,from,to",
	  "Free places of a unit changed in [from, to)." },
	{ "SlotOffered", "sssx", "entry,slot,hold,expires",
	  "A freed slot is offered to a waitlist entry, kept by the hold "
	  "until expires (UTC seconds): AcceptOffer or DeclineOffer." },
	{ NULL }
};

const BusInterface scheduler_interface = {
	"org.slotd.Scheduler1", scheduler_methods, scheduler_signals
};

static void
emit_booking_changed(const char *booking_id, const char *status,
		     const char *unit, const char *service, gpointer user_data)
{
	Daemon *daemon = user_data;

	if (daemon->bus)
		bus_emit_signal(daemon->bus, SLOTD_OBJECT_PATH,
				scheduler_interface.name, "BookingChanged",
				g_variant_new("(ss)", booking_id, status));
}

static void
emit_slots_changed(const char *service, const char *unit, gint64 from,
		   gint64 to, gpointer user_data)
{
	Daemon *daemon = user_data;

	if (daemon->bus)
		bus_emit_signal(daemon->bus, SLOTD_OBJECT_PATH,
				scheduler_interface.name, "SlotsChanged",
				g_variant_new("(ssxx)", service, unit, from,
					      to));
}

void
scheduler_connect_signals(Daemon *daemon)
{
	CapacityListener l = { emit_booking_changed, emit_slots_changed,
			       daemon };

	capacity_add_listener(daemon->capacity, &l);
}

void
scheduler_emit_offer(Daemon *daemon, const CapacityOffer *offer)
{
	if (daemon->bus)
		bus_emit_signal(daemon->bus, SLOTD_OBJECT_PATH,
				scheduler_interface.name, "SlotOffered",
				g_variant_new("(sssx)", offer->entry,
					      offer->slot, offer->hold,
					      offer->expires));
}
