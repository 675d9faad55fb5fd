/* The loop watch (daemon/loop-watch.c) on a real GLib main loop: a turn
 * is timed from poll() to poll(), named by its longest piece, and only
 * turns of 10 ms or more are told. The oracle is the sleeps the test
 * itself makes inside named pieces (slept time is a lower bound of a
 * piece; a piece is never shorter than what it slept). */
#include <glib.h>

#include "loop-watch.h"

typedef struct {
	char *work;
	double seconds;
} Held;

static GArray *told;	/* Held */

static void
on_held(const char *work, double seconds)
{
	Held h = { g_strdup(work), seconds };

	g_array_append_val(told, h);
}

static void
held_clear(gpointer data)
{
	g_free(((Held *)data)->work);
}

static void
sleep_ms(guint ms)
{
	g_usleep(ms * 1000);
}

/* One turn: an outer piece sleeps 12 ms around an inner one of 30. */
static gboolean
nested(gpointer data)
{
	LOOP_WORK("outer", NULL);

	sleep_ms(6);
	{
		LOOP_WORK_CALL("call", "org.example.Thing1", "Inner");

		sleep_ms(30);
	}
	sleep_ms(6);
	return G_SOURCE_REMOVE;
}

/* A short turn: under 10 ms, not told (unless the machine holds it). */
static gboolean
quick(gpointer data)
{
	LOOP_WORK("quick", NULL);

	return G_SOURCE_REMOVE;
}

/* Unnamed work is "other". */
static gboolean
unnamed(gpointer data)
{
	sleep_ms(15);
	return G_SOURCE_REMOVE;
}

static gboolean
stop(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

/* Each callback on a turn of its own: a timeout apart. */
static void
run_turns(GSourceFunc *funcs, guint n)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);

	for (guint i = 0; i < n; i++)
		g_timeout_add(20 * (i + 1), funcs[i], NULL);
	g_timeout_add(20 * (n + 1), stop, loop);
	loop_watch_install(on_held);
	g_main_loop_run(loop);
	loop_watch_uninstall();
}

static void
test_longest_piece_names_the_turn(void)
{
	GSourceFunc funcs[] = { nested, quick, unnamed };
	gboolean saw_nested = FALSE, saw_other = FALSE;

	g_array_set_size(told, 0);
	run_turns(funcs, G_N_ELEMENTS(funcs));
	for (guint i = 0; i < told->len; i++) {
		const Held *h = &g_array_index(told, Held, i);

		g_test_message("told: %s %.1f ms", h->work, h->seconds * 1e3);
		/* Nothing under 10 ms is told (a busy machine may yet make
		 * the quick turn that long). */
		g_assert_cmpfloat(h->seconds, >=, 0.010);
		if (g_str_equal(h->work, "call org.example.Thing1.Inner")) {
			/* The whole turn: both pieces' sleeps. */
			g_assert_cmpfloat(h->seconds, >=, 0.042);
			saw_nested = TRUE;
		}
		if (g_str_equal(h->work, "other")) {
			g_assert_cmpfloat(h->seconds, >=, 0.015);
			saw_other = TRUE;
		}
		g_assert_cmpstr(h->work, !=, "outer");
	}
	g_assert_true(saw_nested);
	g_assert_true(saw_other);
}

/* Off the loop's thread LOOP_WORK does nothing and tells nothing. */
static gpointer
elsewhere(gpointer data)
{
	LOOP_WORK("elsewhere", NULL);

	sleep_ms(15);
	return NULL;
}

static gboolean
join_thread(gpointer data)
{
	g_thread_join(g_thread_new("elsewhere", elsewhere, NULL));
	return G_SOURCE_REMOVE;
}

static void
test_other_threads_name_nothing(void)
{
	GSourceFunc funcs[] = { join_thread };

	g_array_set_size(told, 0);
	run_turns(funcs, G_N_ELEMENTS(funcs));
	/* The loop waited for the thread: a turn of 15 ms, not named after
	 * the thread's work. */
	g_assert_cmpuint(told->len, >=, 1);
	for (guint i = 0; i < told->len; i++)
		g_assert_cmpstr(g_array_index(told, Held, i).work, ==,
				"other");
}

int
main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	told = g_array_new(FALSE, TRUE, sizeof(Held));
	g_array_set_clear_func(told, held_clear);
	g_test_add_func("/loop-watch/longest-piece-names-the-turn",
			test_longest_piece_names_the_turn);
	g_test_add_func("/loop-watch/other-threads-name-nothing",
			test_other_threads_name_nothing);
	status = g_test_run();
	g_array_unref(told);
	return status;
}
