/* What holds the main loop. Every turn of the loop is timed from the
 * moment poll() returns to the next poll(): that is work nobody else
 * is answered during. Pieces of that work name themselves with
 * LOOP_WORK("what", detail) at the top of a callback; the turn's
 * longest named piece names the turn. A turn of 10 ms or more is
 * handed to the installer's LoopHeldFunc (the daemon records it in
 * slotd_main_loop_held_seconds{work="..."}), and one of
 * 100 ms or more is logged (at most once a second) with its longest
 * piece, so that an operator who sees a stall in
 * slotd_main_loop_lateness_seconds also sees what made it.
 *
 * Work that names nothing is "other" (libsoup's own sources, GLib's
 * signal sources, the prepare and check of every source). Only the
 * loop's own thread records anything; elsewhere LOOP_WORK is free. */
#pragma once

#include <glib.h>

typedef struct {
	const char *what;	/* static strings: nothing is copied */
	const char *detail;	/* or NULL */
	const char *member;	/* or NULL: detail.member */
	gboolean on_loop;
} LoopWork;

/* Told of every turn of RECORD_USEC (10 ms) or more. */
typedef void (*LoopHeldFunc)(const char *work, double seconds);

/* On the thread that runs the default main context, before its loop
 * runs. */
void loop_watch_install(LoopHeldFunc held);
void loop_watch_uninstall(void);

LoopWork loop_watch_enter(const char *what, const char *detail,
			  const char *member);
void loop_watch_leave(LoopWork *previous);

/* Names the rest of the enclosing block's work (blocks may nest). */
#define LOOP_WORK(what, detail)                                         \
	G_GNUC_UNUSED __attribute__((cleanup(loop_watch_leave)))        \
	LoopWork G_PASTE(loop_work_, __COUNTER__) =                    \
		loop_watch_enter((what), (detail), NULL)

/* The same for a D-Bus method: "call org.slotd.Booking1.Book". */
#define LOOP_WORK_CALL(what, interface, member)                         \
	G_GNUC_UNUSED __attribute__((cleanup(loop_watch_leave)))        \
	LoopWork G_PASTE(loop_work_, __COUNTER__) =                    \
		loop_watch_enter((what), (interface), (member))

/* A source dispatched when its ready time comes
 * (g_source_set_ready_time(); -1, the start, is never), calling `func`
 * like a timeout's callback: the loop's timers and wake-ups that move
 * their own deadline. Not attached. */
GSource *loop_ready_source_new(GSourceFunc func, gpointer data);
