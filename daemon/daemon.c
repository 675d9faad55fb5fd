/* Start-up order, reload, background work and shutdown of the daemon. */
#include "daemon.h"

#include <grp.h>
#include <unistd.h>

#include "calendar.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "slotd-config.h"
#include "loop-watch.h"

/* Slots upserted per idle step while materialising the horizon. */
#define EXTEND_CHUNK 400
/* On stop, how long calls already received may take to be answered. */
#define DRAIN_SECONDS 5
/* Bookings needing rebooking named one by one in the log, at most. */
#define REBOOK_LOG_MAX 100
/* Main-loop time a step of a reload takes at most (about): its changes
 * are committed in transactions of this much work, then the loop
 * answers what came meanwhile. */
#define RELOAD_STEP_US 4000
/* How long a step of a bulk writer (a reload, the horizon extension)
 * waits for the checkpoint thread before it looks again. */
#define BULK_WAIT_US 2000
/* Waits in a row at most (a reader can keep the checkpoint from
 * finishing): then the step commits, and the commit checkpoints. */
#define BULK_WAIT_MAX 50
/* Planner1 calls that run at once, each on a worker thread with a
 * read-only connection; more wait their turn. Two (and the feeds' one,
 * below, which seldom has long work) leave a core of the smallest
 * machines to the main loop: the workers also give way to it
 * (worker_thread_give_way). */
#define PLANNER_THREADS 2
/* The staff feeds read on a worker of their own: a queue of long
 * reports must not keep a calendar's refresh waiting, nor a burst of
 * cold feeds a report. */
#define FEED_READER_THREADS 1

static const BusInterface *const object_interfaces[] = {
	&scheduler_interface, &planner_interface, &admin_interface,
	&notifications_interface, NULL
};

/* ---- access --------------------------------------------------------- */

static gboolean
member_of(char **groups, const guint32 *gids, guint n_gids)
{
	for (char **g = groups; g && *g; g++) {
		struct group *gr = getgrnam(*g);

		if (!gr)
			continue;
		for (guint i = 0; i < n_gids; i++)
			if (gids[i] == gr->gr_gid)
				return TRUE;
	}
	return FALSE;
}

BusRole
daemon_roles(guint32 uid, const guint32 *gids, guint n_gids,
	     gpointer user_data)
{
	Daemon *daemon = user_data;
	AccessConfig *access = &daemon->region->daemon.access;
	BusRole roles = BUS_ROLE_NONE;

	/* root, and on a private bus the daemon's own user, may do all. */
	if (uid == 0 || (daemon->options.bus_type != BUS_TYPE_SYSTEM &&
			 uid == getuid()))
		return BUS_ROLE_READ | BUS_ROLE_BOOK | BUS_ROLE_ADMIN |
		       BUS_ROLE_PLANNER | BUS_ROLE_GATEWAY;
	if (member_of(access->admin_groups, gids, n_gids))
		roles |= BUS_ROLE_READ | BUS_ROLE_BOOK | BUS_ROLE_ADMIN |
			 BUS_ROLE_PLANNER | BUS_ROLE_GATEWAY;
	if (member_of(access->planner_groups, gids, n_gids))
		roles |= BUS_ROLE_READ | BUS_ROLE_PLANNER;
	/* The gateway reads notifications only, nothing else. */
	if (member_of(access->gateway_groups, gids, n_gids))
		roles |= BUS_ROLE_GATEWAY;
	if (member_of(access->book_groups, gids, n_gids))
		roles |= BUS_ROLE_READ | BUS_ROLE_BOOK;
	if (member_of(access->read_groups, gids, n_gids))
		roles |= BUS_ROLE_READ;
	return roles;
}

/* An AccessDenied message names the group that grants the role. */
static void
name_role_groups(Daemon *daemon)
{
	AccessConfig *access = &daemon->region->daemon.access;

	if (!daemon->bus)
		return;
	bus_set_role_group(daemon->bus, BUS_ROLE_READ,
			   access->read_groups ? access->read_groups[0] : NULL);
	bus_set_role_group(daemon->bus, BUS_ROLE_BOOK,
			   access->book_groups ? access->book_groups[0] : NULL);
	bus_set_role_group(daemon->bus, BUS_ROLE_ADMIN,
			   access->admin_groups ? access->admin_groups[0] :
						  NULL);
	bus_set_role_group(daemon->bus, BUS_ROLE_PLANNER,
			   access->planner_groups ? access->planner_groups[0] :
						    NULL);
	bus_set_role_group(daemon->bus, BUS_ROLE_GATEWAY,
			   access->gateway_groups ? access->gateway_groups[0] :
						    NULL);
}

/* ---- logging ---------------------------------------------------------- */

/* With --debug, every booking change, to be found in the journal by
 * SLOTD_BOOKING=; the client reference stays in the database. */
static void
log_booking_changed(const char *booking_id, const char *status,
		    const char *unit, const char *service, gpointer user_data)
{
	g_log_structured(LOG_DOMAIN, G_LOG_LEVEL_INFO, "SLOTD_BOOKING",
			 booking_id, "SLOTD_STATUS", status, "SLOTD_UNIT", unit,
			 "SLOTD_SERVICE", service, "MESSAGE", "booking %s",
			 status);
}

/* `first`: the first of `count` bookings flagged, at most
 * REBOOK_LOG_MAX. */
static void
log_rebooking(GPtrArray *first, guint count)
{
	for (guint i = 0; i < first->len && i < REBOOK_LOG_MAX; i++)
		g_log_structured(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID",
				 LOG_ID_NEEDS_REBOOKING, "SLOTD_BOOKING",
				 (const char *)first->pdata[i], "MESSAGE",
				 "booking %s needs rebooking after the "
				 "configuration change",
				 (const char *)first->pdata[i]);
	g_warning("%u bookings need rebooking after the change "
		  "(slotctl list --needs-rebooking)",
		  count);
}

/* ---- background work ------------------------------------------------ */

/* A writer of many changes in steps (a reload, the horizon extension)
 * waits a little instead of committing while the WAL is backlogged or
 * the checkpoint thread is copying it: a COMMIT then would checkpoint
 * on the loop, or wait for the disk behind the thread. At most
 * BULK_WAIT_MAX waits in a row. TRUE when `source` (a ready-time
 * source) was set to come back later; otherwise it is left ready. */
static gboolean
bulk_write_waits(Daemon *daemon, GSource *source, guint *waiting)
{
	if (*waiting < BULK_WAIT_MAX && store_wal_busy(daemon->store)) {
		(*waiting)++;
		g_source_set_ready_time(source, g_get_monotonic_time() +
							BULK_WAIT_US);
		return TRUE;
	}
	*waiting = 0;
	g_source_set_ready_time(source, 0);
	return FALSE;
}

static gboolean
extend_step(gpointer user_data)
{
	LOOP_WORK("horizon extension", NULL);
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	gboolean done = FALSE;

	if (bulk_write_waits(daemon, daemon->extend_source,
			     &daemon->extend_waiting))
		return G_SOURCE_CONTINUE;
	if (!capacity_extend(daemon->capacity, EXTEND_CHUNK, &done, &error)) {
		g_warning("cannot materialise slots: %s; retrying in a minute",
			  error->message);
		g_source_set_ready_time(daemon->extend_source,
					g_get_monotonic_time() +
						60 * G_USEC_PER_SEC);
		return G_SOURCE_CONTINUE;
	}
	if (!done)
		return G_SOURCE_CONTINUE;
	g_debug("slot horizon is complete");
	g_clear_pointer(&daemon->extend_source, g_source_unref);
	return G_SOURCE_REMOVE;
}

static void
schedule_extend(Daemon *daemon)
{
	if (daemon->extend_source)
		return;
	/* Ready at once, below everything else; a ready-time source, so
	 * that a wait or a retry a minute later is one. */
	daemon->extend_source = loop_ready_source_new(extend_step, daemon);
	g_source_set_ready_time(daemon->extend_source, 0);
	daemon->extend_waiting = 0;
	g_source_set_priority(daemon->extend_source, G_PRIORITY_LOW);
	g_source_attach(daemon->extend_source, NULL);
}

static gboolean
daily_check(gpointer user_data)
{
	LOOP_WORK("daily check", NULL);
	schedule_extend(user_data);
	return G_SOURCE_CONTINUE;
}

static gboolean
expire_holds(gpointer user_data)
{
	LOOP_WORK("hold expiry", NULL);
	Daemon *daemon = user_data;

	g_clear_pointer(&daemon->hold_source, g_source_unref);
	daemon->hold_due = 0;
	daemon->hold_due = capacity_expire_holds(daemon->capacity);
	if (daemon->hold_due)
		daemon_holds_changed(daemon);
	return G_SOURCE_REMOVE;
}

/* Offers freed places to waitlists: a few freed ranges at a time, each
 * bounded, between the loop's other work. */
static gboolean
waitlist_step(gpointer user_data)
{
	LOOP_WORK("waitlist", NULL);
	Daemon *daemon = user_data;
	g_autoptr(GPtrArray) offers = g_ptr_array_new_with_free_func(
		(GDestroyNotify)capacity_offer_free);
	gboolean more = capacity_waitlist_run(daemon->capacity, 4, offers);

	for (guint i = 0; i < offers->len; i++)
		scheduler_emit_offer(daemon, offers->pdata[i]);
	if (offers->len > 0)
		daemon_holds_changed(daemon);
	if (more && !daemon->stopping)
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&daemon->waitlist_source, g_source_unref);
	return G_SOURCE_REMOVE;
}

static void
waitlist_wake(gpointer user_data)
{
	Daemon *daemon = user_data;

	if (daemon->waitlist_source || daemon->stopping)
		return;
	daemon->waitlist_source = g_idle_source_new();
	g_source_set_priority(daemon->waitlist_source,
			      G_PRIORITY_DEFAULT_IDLE);
	g_source_set_callback(daemon->waitlist_source, waitlist_step, daemon,
			      NULL);
	g_source_attach(daemon->waitlist_source, NULL);
}

void
daemon_holds_changed(Daemon *daemon)
{
	gint64 due = store_next_hold_expiry(daemon->store);
	gint64 now = capacity_now(daemon->capacity);

	if (!due || (daemon->hold_source && daemon->hold_due <= due))
		return;
	if (daemon->hold_source) {
		g_source_destroy(daemon->hold_source);
		g_source_unref(daemon->hold_source);
	}
	daemon->hold_due = due;
	daemon->hold_source = g_timeout_source_new_seconds(
		(guint)CLAMP(due - now + 1, 1, 3600));
	g_source_set_callback(daemon->hold_source, expire_holds, daemon, NULL);
	g_source_attach(daemon->hold_source, NULL);
}

/* ---- configuration -------------------------------------------------- */

/* The one rule: the ownership and mode checks apply to the plugin
 * directory of the configuration (or the built-in default) in a build
 * with -Dsystem_plugin_checks=true, the default; a directory given with
 * --plugin-dir is a developer's own (tests load what they build from
 * there) and is not checked, and neither is any in a build with
 * -Dsystem_plugin_checks=false. Symbolic links and the ELF check apply
 * everywhere. */
static gboolean
plugin_checks(const Daemon *daemon)
{
	return SLOTD_SYSTEM_PLUGIN_CHECKS &&
	       daemon->options.system_plugin_checks;
}

static Region *
load_region(Daemon *daemon, GError **error)
{
	ConfigOptions opts = { daemon->options.config_file,
			       daemon->options.state_dir,
			       daemon->options.plugin_dir };
	g_autoptr(Region) region = config_load(&opts, error);
	g_autoptr(GError) local = NULL;

	if (!region)
		return NULL;
	if (!plugin_host_load_dir(daemon->plugins, region->daemon.plugin_dir,
				  plugin_checks(daemon), &local)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG,
			    "plugin directory: %s", local->message);
		return NULL;
	}
	/* Start-up serves what it can; a reload (a region is running)
	 * does not go ahead past a plugin broken since. */
	if (daemon->region &&
	    !plugin_host_check_refusals(daemon->plugins, error))
		return NULL;
	if (!plugin_host_configure(daemon->plugins, region, error) ||
	    !config_check_unread_keys(region, error))
		return NULL;
	plugin_host_accept_refusals(daemon->plugins);
	for (guint i = 0; i < region->offerings->len; i++) {
		SlotdOffering *off = region->offerings->pdata[i];

		if (!off->available)
			g_log_structured(LOG_DOMAIN, G_LOG_LEVEL_WARNING,
					 "SLOTD_OFFERING", off->id, "MESSAGE",
					 "offering %s is unavailable: %s",
					 off->id, off->unavailable_reason);
	}
	return g_steal_pointer(&region);
}

static gboolean
open_store(Daemon *daemon, GError **error)
{
	const char *dir = daemon->region->daemon.state_dir;
	g_autofree char *path = g_build_filename(dir, "slotd.db", NULL);

	/* Only slotd reads its database (the unit sets its own mode). */
	if (g_mkdir_with_parents(dir, 0700) < 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE,
			    "cannot create the state directory %s", dir);
		return FALSE;
	}
	daemon->store = store_open(path, error);
	return daemon->store != NULL;
}

static gboolean
connect_bus(Daemon *daemon, GError **error)
{
	daemon->bus = bus_new(daemon->options.bus_type,
			      daemon->options.bus_address, SLOTD_BUS_NAME,
			      error);
	if (!daemon->bus)
		return FALSE;
	bus_set_role_func(daemon->bus, daemon_roles, daemon, NULL);
	name_role_groups(daemon);
	if (daemon->bus_lost)
		bus_set_disconnect_func(daemon->bus, daemon->bus_lost, daemon);
	return bus_register_object(daemon->bus, SLOTD_OBJECT_PATH,
				   object_interfaces, daemon, error);
}

/* The resources' duty over the horizon, ahead of the searches that
 * will ask (resource.c): from yesterday, as the slots. */
static void
warm_resources(Daemon *daemon, Region *region, gboolean on_a_thread)
{
	gint64 now = capacity_now(daemon->capacity);
	gint64 from = now - 24 * 3600;
	gint64 to = now + ((gint64)region->daemon.horizon_days + 2) * 24 * 3600;

	if (on_a_thread) {
		resource_warming_finish(daemon->warming);
		daemon->warming = region_warm_resources_async(region, from, to);
	} else {
		region_warm_resources(region, from, to, NULL);
	}
}

gboolean
daemon_start(Daemon *daemon, GError **error)
{
	calendar_init();
	daemon->plugins = plugin_host_new();
	fixed_register(daemon->plugins);
	daemon->region = load_region(daemon, error);
	if (!daemon->region || !open_store(daemon, error))
		return FALSE;
	daemon->capacity = capacity_new(daemon->region, daemon->store,
					daemon->plugins);
	daemon->planner = planner_pool_new(store_path(daemon->store),
					   PLANNER_THREADS, error);
	if (!daemon->planner)
		return FALSE;
	daemon->feed_reader = planner_pool_new(store_path(daemon->store),
					       FEED_READER_THREADS, error);
	if (!daemon->feed_reader)
		return FALSE;
	if (daemon->clock_func)
		capacity_set_clock(daemon->capacity, daemon->clock_func, NULL);
	warm_resources(daemon, daemon->region, TRUE);
	capacity_set_waitlist_wake(daemon->capacity, waitlist_wake, daemon);
	if (!capacity_assign_unassigned(daemon->capacity, error))
		return FALSE;
	scheduler_connect_signals(daemon);
	capacity_add_listener(daemon->capacity,
			      &(CapacityListener){ log_booking_changed, NULL,
						   daemon });
	/* The name comes before the horizon: callers can connect while
	 * slots are still being materialised in the background. */
	if (!connect_bus(daemon, error))
		return FALSE;
	/* Feeds after the name: a second daemon stops at the name. */
	daemon->http = http_new(daemon->capacity, daemon->feed_reader, error);
	if (!daemon->http)
		return FALSE;
	schedule_extend(daemon);
	daemon->daily_source = g_timeout_source_new_seconds(3600);
	g_source_set_callback(daemon->daily_source, daily_check, daemon, NULL);
	g_source_attach(daemon->daily_source, NULL);
	expire_holds(daemon);
	g_log_structured(LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE_ID",
			 LOG_ID_STARTED, "SLOTD_REGION",
			 daemon->region->daemon.region_id, "MESSAGE",
			 "slotd %s serving %u offerings of %u services on the "
			 "%s bus",
			 SLOTD_VERSION, daemon->region->offerings->len,
			 daemon->region->services->len,
			 daemon->options.bus_type == BUS_TYPE_SYSTEM ?
				 "system" :
				 "private");
	return TRUE;
}

static void
destroy_source(GSource **source)
{
	if (*source) {
		g_source_destroy(*source);
		g_clear_pointer(source, g_source_unref);
	}
}

/* ---- reload --------------------------------------------------------- */

typedef struct {
	Daemon *daemon;
	char *by;		/* the caller's unique bus name, or "SIGHUP" */
	DaemonReloadDone done;
	gpointer user_data;
	Region *region;		/* the new one */
	CapacityReshape *reshape;
	GSource *step_source;	/* committing the changes */
	guint waits;		/* for the checkpoint thread */
	guint waiting;		/* of them in a row */
	gint64 started;		/* monotonic */
	gboolean begun;		/* the new region is served */
	guint steps;
	gint64 longest_step;	/* µs */
	gint64 loading;		/* µs: reading configuration and plugins */
} DaemonReload;

static void reload_next(Daemon *daemon);

/* No reload may run or start: the planner's workers are gone. */
static gboolean
reload_closed(Daemon *daemon, GError **error)
{
	if (!daemon->stopping && daemon->planner)
		return FALSE;
	g_set_error_literal(error, SLOTD_ERROR,
			    SLOTD_ERROR_STORAGE_UNAVAILABLE,
			    "slotd is stopping; the configuration is read "
			    "again when it starts");
	return TRUE;
}

static void
reload_log(Daemon *daemon, DaemonReload *r, GPtrArray *rebook,
	   guint rebook_count, const GError *error)
{
	if (error && !r->begun)
		g_log_structured(LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MESSAGE_ID",
				 LOG_ID_RELOAD_REFUSED, "MESSAGE",
				 "reload refused, the running configuration "
				 "stays: %s",
				 error->message);
	else if (error)
		g_warning("reload: %s", error->message);
	else
		g_log_structured(LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MESSAGE_ID",
				 LOG_ID_RELOADED, "MESSAGE",
				 "configuration reloaded: %u offerings "
				 "(%.1f s; read in %.1f ms, committed in %u "
				 "steps of at most %.1f ms, with %u waits "
				 "for the WAL checkpoint)",
				 daemon->region->offerings->len,
				 (g_get_monotonic_time() - r->started) / 1e6,
				 r->loading / 1e3, r->steps,
				 r->longest_step / 1e3, r->waits);
	if (rebook && rebook_count)
		log_rebooking(rebook, rebook_count);
}

/* What GetStatus tells of the reload that just ended: when, and either
 * why it failed or which offerings' slots it changed or withdrew and
 * how many bookings it sent to rebooking. A reload that failed after
 * it began names what it had computed: those offerings are finished
 * in the background. */
static void
remember_reload(Daemon *daemon, DaemonReload *r, guint rebook_count,
		const GError *error)
{
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "finished", "x",
			      capacity_now(daemon->capacity));
	g_variant_dict_insert(&d, "by", "s", r->by);
	if (error)
		g_variant_dict_insert(&d, "error", "s", error->message);
	if (r->begun) {
		g_auto(GStrv) reshaped = NULL;
		g_auto(GStrv) removed = NULL;

		capacity_reshape_offerings(r->reshape, &reshaped, &removed);

		g_variant_dict_insert(&d, "offerings-reshaped", "^as",
				      reshaped);
		g_variant_dict_insert(&d, "offerings-withdrawn", "^as",
				      removed);
		if (!error)
			g_variant_dict_insert(&d, "needs-rebooking", "u",
					      rebook_count);
	}
	g_clear_pointer(&daemon->last_reload, g_variant_unref);
	daemon->last_reload = g_variant_ref_sink(g_variant_dict_end(&d));
}

/* The first reload of the queue is over: its caller is told, the next
 * one starts. A reshape begun and not finished is left to extension. */
static void
reload_end(DaemonReload *r, GPtrArray *rebook, guint rebook_count,
	   const GError *error)
{
	Daemon *daemon = r->daemon;

	g_assert(g_queue_peek_head(&daemon->reloads) == r);
	g_queue_pop_head(&daemon->reloads);
	destroy_source(&r->step_source);
	remember_reload(daemon, r, rebook_count, error);
	g_clear_pointer(&r->reshape, capacity_reshape_free);
	reload_log(daemon, r, rebook, rebook_count, error);
	g_clear_pointer(&r->region, region_unref);
	if (!daemon->stopping)
		schedule_extend(daemon);
	notify_reloaded(daemon);
	if (r->done)
		r->done(daemon, rebook_count, error, r->user_data);
	g_free(r->by);
	g_free(r);
	reload_next(daemon);
}

static gboolean
reload_step(gpointer user_data)
{
	LOOP_WORK("reload step", NULL);
	DaemonReload *r = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rebook = NULL;
	guint count;
	gboolean done = FALSE;
	gint64 t0 = g_get_monotonic_time();
	gboolean ok;

	if (bulk_write_waits(r->daemon, r->step_source, &r->waiting)) {
		r->waits++;
		return G_SOURCE_CONTINUE;
	}
	ok = capacity_reshape_step(r->daemon->capacity, r->reshape,
				   RELOAD_STEP_US, &done, &error);

	r->steps++;
	r->longest_step = MAX(r->longest_step, g_get_monotonic_time() - t0);
	if (!ok) {
		g_prefix_error(&error,
			       "the new configuration is in use, but its slots "
			       "are still being prepared in the background: ");
		g_clear_pointer(&r->step_source, g_source_unref);
		reload_end(r, NULL, 0, error);
		return G_SOURCE_REMOVE;
	}
	if (!done)
		return G_SOURCE_CONTINUE;
	count = capacity_reshape_rebook_first(r->reshape, REBOOK_LOG_MAX,
					      &rebook);
	g_clear_pointer(&r->step_source, g_source_unref);
	reload_end(r, rebook, count, NULL);
	return G_SOURCE_REMOVE;
}

/* On a worker, with its own read-only connection: the new slots of
 * every changed offering, compared with the stored ones. */
static GVariant *
reload_compute(Store *store, gpointer data, GError **error)
{
	DaemonReload *r = data;

	if (!capacity_reshape_compute(r->reshape, store, error))
		return NULL;
	warm_resources(r->daemon, r->region, FALSE);
	return g_variant_new("()");
}

/* Back on the main loop: the new region is served from now on, and
 * its changes are committed a step at a time. */
static void
reload_computed(gpointer data, GVariant *reply, const GError *error)
{
	DaemonReload *r = data;
	Daemon *daemon = r->daemon;
	g_autoptr(GError) closed = NULL;
	guint offerings, changes;

	if (!reply) {
		reload_end(r, NULL, 0, error);
		return;
	}
	if (reload_closed(daemon, &closed)) {
		reload_end(r, NULL, 0, closed);
		return;
	}
	capacity_reshape_counts(r->reshape, &offerings, &changes);
	g_debug("reload: %u offerings change, %u slots to add, change or "
		"withdraw (computed in %.1f s)",
		offerings, changes,
		(g_get_monotonic_time() - r->started) / 1e6);
	capacity_reshape_begin(daemon->capacity, r->reshape);
	r->begun = TRUE;
	region_unref(daemon->region);
	daemon->region = region_ref(r->region);
	name_role_groups(daemon);
	/* Ready at once, like an idle source; a step that finds the WAL
	 * backlogged sets a later ready time instead (reload_step). */
	r->step_source = loop_ready_source_new(reload_step, r);
	g_source_set_ready_time(r->step_source, 0);
	/* As the bus's own: a step, then what came meanwhile. */
	g_source_set_priority(r->step_source, G_PRIORITY_DEFAULT);
	g_source_set_static_name(r->step_source, "reload steps");
	g_source_attach(r->step_source, NULL);
}

static void
reload_start(DaemonReload *r)
{
	Daemon *daemon = r->daemon;
	g_autoptr(GError) error = NULL;

	notify_reloading();
	r->started = g_get_monotonic_time();
	if (reload_closed(daemon, &error) ||
	    !(r->region = load_region(daemon, &error))) {
		reload_end(r, NULL, 0, error);
		return;
	}
	r->reshape = capacity_reshape_new(daemon->capacity, r->region,
					  &error);
	r->loading = g_get_monotonic_time() - r->started;
	if (!r->reshape) {
		reload_end(r, NULL, 0, error);
		return;
	}
	planner_pool_push(daemon->planner, reload_compute, reload_computed, r,
			  NULL);
}

static void
reload_next(Daemon *daemon)
{
	DaemonReload *r = g_queue_peek_head(&daemon->reloads);

	if (r && !r->started)
		reload_start(r);
}

void
daemon_reload(Daemon *daemon, const char *by, DaemonReloadDone done,
	      gpointer user_data)
{
	DaemonReload *r = g_new0(DaemonReload, 1);

	r->daemon = daemon;
	r->by = g_strdup(by);
	r->done = done;
	r->user_data = user_data;
	g_queue_push_tail(&daemon->reloads, r);
	if (daemon->reloads.length == 1)
		reload_start(r);
}

/* A reload still committing when slotd stops: its caller is told;
 * what is committed stays, the rest is done at the next start. */
static void
reload_abandon_all(Daemon *daemon)
{
	DaemonReload *r;

	while ((r = g_queue_peek_head(&daemon->reloads))) {
		g_autoptr(GError) error = NULL;

		reload_closed(daemon, &error);
		if (!r->started)
			r->started = g_get_monotonic_time();
		reload_end(r, NULL, 0, error);
	}
}


static gboolean
drain_step(gpointer user_data)
{
	LOOP_WORK("drain", NULL);
	Daemon *daemon = user_data;
	guint unanswered = daemon->bus ? bus_drain(daemon->bus) : 0;

	if (unanswered && g_get_monotonic_time() < daemon->drain_until)
		return G_SOURCE_CONTINUE;
	if (unanswered)
		g_warning("stopping with %u calls unanswered after %d s",
			  unanswered, DRAIN_SECONDS);
	if (daemon->loop)
		g_main_loop_quit(daemon->loop);
	return G_SOURCE_CONTINUE; /* daemon_finish() removes it */
}

void
daemon_stop(Daemon *daemon)
{
	if (daemon->stopping)
		return;
	daemon->stopping = TRUE;
	notify_stopping();
	/* No new work of our own; the loop keeps running so that calls
	 * waiting for a caller's credentials can still be answered. */
	destroy_source(&daemon->extend_source);
	destroy_source(&daemon->daily_source);
	destroy_source(&daemon->hold_source);
	destroy_source(&daemon->waitlist_source);
	daemon->drain_until = g_get_monotonic_time() +
			      DRAIN_SECONDS * G_USEC_PER_SEC;
	daemon->drain_source = g_timeout_source_new(10);
	g_source_set_callback(daemon->drain_source, drain_step, daemon, NULL);
	g_source_attach(daemon->drain_source, NULL);
}

void
daemon_finish(Daemon *daemon)
{
	if (daemon->capacity)
		scheduler_flush(daemon);
	/* Feeds first: a render reading on the feed reader is abandoned
	 * (its callers are told slotd is stopping), so that no new read
	 * reaches the pool once it is gone. */
	g_clear_pointer(&daemon->http, http_free);
	g_clear_pointer(&daemon->feed_reader, planner_pool_free);
	/* Before the bus, the store and the region: running reports end
	 * and are answered. */
	g_clear_pointer(&daemon->planner, planner_pool_free);
	g_clear_pointer(&daemon->warming, resource_warming_finish);
	reload_abandon_all(daemon);
	destroy_source(&daemon->extend_source);
	destroy_source(&daemon->daily_source);
	destroy_source(&daemon->hold_source);
	destroy_source(&daemon->waitlist_source);
	destroy_source(&daemon->drain_source);
	g_clear_pointer(&daemon->bus, bus_free);
	g_clear_pointer(&daemon->capacity, capacity_free);
	g_clear_pointer(&daemon->store, store_close);
	g_clear_pointer(&daemon->region, region_unref);
	g_clear_pointer(&daemon->services_region, region_unref);
	g_clear_pointer(&daemon->services_reply, bus_kept_reply_free);
	g_clear_pointer(&daemon->last_reload, g_variant_unref);
	g_clear_pointer(&daemon->extras_bytes, g_hash_table_unref);
	g_clear_pointer(&daemon->extras_region, region_unref);
	g_clear_pointer(&daemon->plugins, plugin_host_free);
}
