/* /healthz: whether slotd is fit to serve, as a small JSON document.
 *
 *   loop      the main loop turned within the last second and was not
 *             held for a second or more in the last ten (metrics-daemon)
 *   database  a write to the database went through (a meta row in its
 *             own transaction, at most every 5 s; full disks and
 *             read-only files fail it)
 *   horizon   every offering's slots are materialised (not while it is
 *             filled after a start or a reload)
 *   plugins   no plugin was refused
 *
 * Healthy when all four are. */
#pragma once

#include "daemon.h"

/* The facts /healthz and Admin1.GetStatus both answer with. */
typedef struct {
	gboolean loop;
	gint64 last_turn_ms;	/* -1: never */
	gboolean database;
	gboolean horizon;
	guint plugins_loaded;
	guint plugins_refused;
	gboolean healthy;	/* all four */
} HealthFacts;

void health_facts(Daemon *daemon, HealthFacts *ret);
/* An HttpHealthFunc: `user_data` is the Daemon. */
char *health_check(gboolean *ret_healthy, gpointer user_data);
