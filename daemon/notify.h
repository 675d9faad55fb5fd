/* Telling systemd how slotd is (sd_notify): READY=1 once the bus name
 * is ours, RELOADING=1 and READY=1 around a reload, STOPPING=1, a
 * STATUS= line people read in `systemctl status`, and WATCHDOG=1 from
 * a main-loop timer at half of WATCHDOG_USEC, so that a loop that does
 * not turn stops the pings and systemd restarts slotd.
 *
 * Without NOTIFY_SOCKET (run by hand, tests), or built without
 * libsystemd, every call does nothing. */
#pragma once

#include "daemon.h"

/* The daemon serves: READY=1, the status, and the timers. */
void notify_started(Daemon *daemon);
void notify_reloading(void);
/* After a reload, whether it went through or not. */
void notify_reloaded(Daemon *daemon);
void notify_stopping(void);
/* Stops the timers (before daemon_finish()). */
void notify_finish(void);
/* "9 services (34 offerings), 12 bookings today, slot horizon
 * complete": the STATUS= line. */
char *notify_status_text(Daemon *daemon);
