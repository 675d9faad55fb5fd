/* What slotd measures for /metrics (metrics.h): every D-Bus call and
 * its error (the bus's call observer), committed booking changes per
 * service (a capacity listener), stalls of the main loop (a 10 ms timer
 * and how late it runs), and at scrape time the feed server's
 * connections, the database and WAL sizes, plugins, offerings, the
 * horizon, pending calls and the process's memory and descriptors. */
#pragma once

#include "daemon.h"

/* After daemon_start(); metrics_init() before. */
void metrics_daemon_start(Daemon *daemon);
/* Before daemon_finish(). */
void metrics_daemon_stop(void);
/* Monotonic time the loop timer last ran (0: never): /healthz. */
gint64 metrics_daemon_last_turn(void);
/* Monotonic time the timer last ran a second or more late: the loop
 * was held that long (0: never). */
gint64 metrics_daemon_last_long_stall(void);
