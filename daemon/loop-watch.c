/* What holds the main loop: the turns of the loop, timed between two
 * polls, and the named pieces of work in them (loop-watch.h). */
#include "loop-watch.h"

#include "log.h"

/* A turn this long is recorded by its longest piece; this long,
 * logged. */
#define RECORD_USEC (10 * 1000)
#define LOG_USEC (100 * 1000)

static GThread *loop_thread;
static GPollFunc poll_before;
static LoopHeldFunc held_func;

static LoopWork current;	/* the piece under way */
static gint64 piece_start;	/* when the current piece began */
static gint64 turn_start;	/* when poll() last returned */
static guint turn_pieces;
static LoopWork longest;	/* the turn's longest piece so far */
static gint64 longest_usec;
static gint64 logged_at;

static char *
work_label(const LoopWork *w)
{
	if (!w->what)
		return g_strdup("other");
	if (!w->detail)
		return g_strdup(w->what);
	if (!w->member)
		return g_strdup_printf("%s %s", w->what, w->detail);
	return g_strdup_printf("%s %s.%s", w->what, w->detail, w->member);
}

/* Ends the current piece at `now`. */
static void
piece_end(gint64 now)
{
	gint64 usec = now - piece_start;

	turn_pieces++;
	if (usec > longest_usec) {
		longest_usec = usec;
		longest = current;
	}
	piece_start = now;
}

static void
turn_end(gint64 now)
{
	gint64 usec = now - turn_start;
	g_autofree char *work = NULL;

	piece_end(now);
	if (usec < RECORD_USEC)
		return;
	work = work_label(&longest);
	if (held_func)
		held_func(work, usec / 1e6);
	if (usec < LOG_USEC || now - logged_at < G_USEC_PER_SEC)
		return;
	logged_at = now;
	g_log_structured(LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
			 "MESSAGE_ID", LOG_ID_LOOP_HELD,
			 "SLOTD_LOOP_WORK", work,
			 "MESSAGE",
			 "main loop held for %.0f ms in %u pieces of work; "
			 "the longest, %.0f ms: %s",
			 usec / 1e3, turn_pieces, longest_usec / 1e3, work);
}

static gint
watched_poll(GPollFD *fds, guint n_fds, gint timeout)
{
	gint ret;
	gint64 now = g_get_monotonic_time();

	if (turn_start)
		turn_end(now);
	ret = poll_before(fds, n_fds, timeout);
	now = g_get_monotonic_time();
	turn_start = piece_start = now;
	turn_pieces = 0;
	longest_usec = 0;
	longest = current = (LoopWork){ NULL, NULL, NULL, TRUE };
	return ret;
}

void
loop_watch_install(LoopHeldFunc held)
{
	GMainContext *context = g_main_context_default();

	held_func = held;
	loop_thread = g_thread_self();
	poll_before = g_main_context_get_poll_func(context);
	g_main_context_set_poll_func(context, watched_poll);
}

void
loop_watch_uninstall(void)
{
	if (!poll_before)
		return;
	g_main_context_set_poll_func(g_main_context_default(), poll_before);
	poll_before = NULL;
	held_func = NULL;
	loop_thread = NULL;
	turn_start = 0;
}

LoopWork
loop_watch_enter(const char *what, const char *detail, const char *member)
{
	LoopWork previous = current;

	if (!loop_thread || g_thread_self() != loop_thread)
		return (LoopWork){ NULL, NULL, NULL, FALSE };
	piece_end(g_get_monotonic_time());
	current = (LoopWork){ what, detail, member, TRUE };
	return previous;
}

void
loop_watch_leave(LoopWork *previous)
{
	if (!previous->on_loop)
		return;
	piece_end(g_get_monotonic_time());
	current = *previous;
}

/* ---- ready-time sources ------------------------------------------------ */

static gboolean
dispatch_ready(GSource *source, GSourceFunc callback, gpointer user_data)
{
	return callback(user_data);
}

static GSourceFuncs ready_funcs = { .dispatch = dispatch_ready };

GSource *
loop_ready_source_new(GSourceFunc func, gpointer data)
{
	GSource *source = g_source_new(&ready_funcs, sizeof(GSource));

	g_source_set_callback(source, func, data, NULL);
	return source;
}
