/* The daemon: owns the region snapshot, the store, the plugins, the
 * capacity engine, the planner's workers, the bus and the feed server,
 * in that start order. */
#pragma once

#include <glib.h>

#include "bus.h"
#include "capacity.h"
#include "config.h"
#include "planner-pool.h"

typedef struct _Http Http;

typedef struct {
	char *config_file;
	char *state_dir;
	char *plugin_dir;
	BusType bus_type;
	char *bus_address;
	gboolean debug;
	gboolean system_plugin_checks;
} DaemonOptions;

typedef struct {
	DaemonOptions options;
	Region *region;
	Store *store;
	PluginHost *plugins;
	Capacity *capacity;
	PlannerPool *planner;	/* Planner1's worker threads */
	PlannerPool *feed_reader; /* the staff feeds' reads (http.c) */
	Bus *bus;
	Http *http;
	GMainLoop *loop;
	GSource *extend_source;	/* materialising the horizon */
	guint extend_waiting;	/* its waits in a row (bulk_write_waits) */
	GSource *daily_source;	/* re-checks the horizon every hour */
	GSource *hold_source;	/* next hold expiry */
	GSource *waitlist_source; /* offering freed places */
	gint64 hold_due;
	gboolean stopping;
	GSource *drain_source;	/* stopping: answering calls received */
	gint64 drain_until;	/* monotonic; then stop regardless */
	gint64 (*clock_func)(gpointer); /* NULL: real time */
	GQueue batch;		/* changes waiting for the next commit */
	GSource *batch_source;
	GQueue reloads;		/* DaemonReload: the first one runs */
	GCallback bus_lost;
	int exit_status;
	/* ListServices' reply for the region snapshot it was written
	 * for: the list changes only with a reload. */
	Region *services_region;
	BusKeptReply *services_reply;
	/* FindSlots: what every slot of an offering carries alike in its
	 * extras, marshalled once for the region snapshot `extras_region`
	 * (offering id -> GBytes, bus_writer_put). */
	Region *extras_region;
	GHashTable *extras_bytes;
	ResourceWarming *warming;	/* the resources' duty, built ahead */
	/* GetStatus' "last-reload": what the last reload that ended did
	 * (a{sv}); NULL before the first */
	GVariant *last_reload;
} Daemon;

gboolean daemon_start(Daemon *daemon, GError **error);
/* Called on the main loop when a reload is over: with how many
 * bookings need rebooking after it (the first are logged), or an
 * error. */
typedef void (*DaemonReloadDone)(Daemon *daemon, guint rebook_count,
				 const GError *error, gpointer user_data);
/* Re-reads configuration and plugins, and reshapes the slots of every
 * changed offering, without holding up the main loop: the new slots are
 * computed on a Planner1 worker and committed a few milliseconds at a
 * time; `done` (may be NULL) is called when the last change is
 * committed and every booking that needs rebooking is flagged. Reloads
 * run one at a time, in the order asked. A configuration or plugin
 * that is refused changes nothing and the error says why. Should the
 * database fail after the first changes are committed, the new
 * configuration stays in use, the rest of its slots are made in the
 * background (as after a start), and the error says so. `by` names
 * who asked (a unique bus name, "SIGHUP") in GetStatus' last-reload. */
void daemon_reload(Daemon *daemon, const char *by, DaemonReloadDone done,
		   gpointer user_data);
/* Stops taking work, answers the calls already received (for at most
 * a few seconds), then quits the loop; daemon_finish() closes. */
void daemon_stop(Daemon *daemon);
void daemon_finish(Daemon *daemon);
/* Re-arms the hold expiry timer after a hold was taken. */
void daemon_holds_changed(Daemon *daemon);
/* Roles of a caller, from the [access] groups. */
BusRole daemon_roles(guint32 uid, const guint32 *gids, guint n_gids,
		     gpointer user_data);

/* One D-Bus interface each. */
extern const BusInterface scheduler_interface;
extern const BusInterface admin_interface;
extern const BusInterface planner_interface;
extern const BusInterface notifications_interface;
void scheduler_connect_signals(Daemon *daemon);
/* Commits and answers the changes waiting for a batch (at shutdown). */
void scheduler_flush(Daemon *daemon);
/* SlotOffered(entry, slot, hold, expires) on Scheduler1. */
void scheduler_emit_offer(Daemon *daemon, const CapacityOffer *offer);
/* Queues a change for the next commit (a method table's handler). */
void scheduler_defer_change(BusCall *call, GVariant *args,
			    gpointer user_data);
/* notifications.c: Notifications1's changes, run in the batches. */
gboolean notifications_run_claim(Daemon *daemon, const Caller *caller,
				 GVariant *args, GVariant **ret_reply,
				 GError **error);
gboolean notifications_run_ack(Daemon *daemon, const Caller *caller,
			       GVariant *args, GVariant **ret_reply,
			       GError **error);
/* Fills a Caller from a bus call. */
void daemon_caller(BusCall *call, Caller *ret_caller);
