/* Start-up: from exec of slotd to its well-known name on the bus, over
 * a few starts (each stopped with SIGTERM but the last, which is left
 * running for the other figures and its pid written to a file). And the
 * resident memory of a process from /proc. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
	char *address;
	int runs;
	char *pidfile;
	char *log;
	double timeout;
	char **argv;		/* slotd and its arguments */
} StartupOptions;

static pid_t
spawn_logged(char **argv, const char *log, GError **error)
{
	pid_t pid;
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "%s: %s", log, g_strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd);
	if (pid < 0)
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "fork: %s", g_strerror(errno));
	return pid;
}

/* Polls every millisecond: precise enough for a limit of seconds. */
static gboolean
wait_for_owner(DBusConnection *connection, pid_t pid, double timeout)
{
	double until = bench_now_us() + timeout * 1e6;

	while (bench_now_us() < until) {
		int status;

		if (dbus_bus_name_has_owner(connection, SLOTD_NAME, NULL))
			return TRUE;
		if (waitpid(pid, &status, WNOHANG) == pid)
			return FALSE;
		g_usleep(1000);
	}
	return FALSE;
}

static gboolean
stop_slotd(pid_t pid, GError **error)
{
	int status = 0;

	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "slotd did not stop cleanly (status %d)", status);
		return FALSE;
	}
	return TRUE;
}

static gboolean
start_once(DBusConnection *connection, const StartupOptions *o,
	   gboolean keep, GArray *seconds, GError **error)
{
	double t0 = bench_now_us(), dt;
	pid_t pid = spawn_logged(o->argv, o->log, error);
	g_autofree char *text = NULL;

	if (pid < 0)
		return FALSE;
	if (!wait_for_owner(connection, pid, o->timeout)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "slotd did not take its bus name in %.0f s "
			    "(see %s)", o->timeout, o->log);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return FALSE;
	}
	dt = (bench_now_us() - t0) / 1e6;
	g_array_append_val(seconds, dt);
	bench_note("slotd took its bus name after %.3f s", dt);
	if (!keep)
		return bench_wait_horizon(connection, o->timeout, error) &&
		       stop_slotd(pid, error);
	text = g_strdup_printf("%d\n", (int)pid);
	return g_file_set_contents(o->pidfile, text, -1, error);
}

int
cmd_startup(int argc, char **argv)
{
	StartupOptions o = { NULL, 3, NULL, NULL, 300, NULL };
	GOptionEntry entries[] = {
		{ "address", 0, 0, G_OPTION_ARG_STRING, &o.address,
		  "Bus address", "ADDRESS" },
		{ "runs", 0, 0, G_OPTION_ARG_INT, &o.runs, "Starts", "N" },
		{ "pidfile", 0, 0, G_OPTION_ARG_FILENAME, &o.pidfile,
		  "Where the pid of the last start goes", "FILE" },
		{ "log", 0, 0, G_OPTION_ARG_FILENAME, &o.log,
		  "slotd's output", "FILE" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY,
		  &o.argv, NULL, NULL },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("-- SLOTD [ARGS...]");
	g_autoptr(GArray) seconds = g_array_new(FALSE, FALSE, sizeof(double));
	g_autoptr(GError) error = NULL;
	DBusConnection *connection = NULL;
	gboolean ok = TRUE;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) ||
	    !o.address || !o.pidfile || !o.log || !o.argv || o.runs < 1) {
		fprintf(stderr, "slotd-bench startup: %s\n",
			error ? error->message
			      : "--address, --pidfile, --log and the slotd "
				"command are needed");
		return 2;
	}
	connection = bench_connect(o.address, &error);
	ok = connection != NULL;
	for (int i = 0; ok && i < o.runs; i++)
		ok = start_once(connection, &o, i == o.runs - 1, seconds,
				&error);
	if (ok) {
		bench_figure("startup-s", bench_median(seconds));
		bench_figure("startup-max-s", bench_quantile(seconds, 1.0));
	} else {
		fprintf(stderr, "slotd-bench startup: %s\n", error->message);
	}
	bench_disconnect(connection);
	g_free(o.address);
	g_free(o.pidfile);
	g_free(o.log);
	g_strfreev(o.argv);
	return ok ? 0 : 1;
}

/* ---- resident memory ------------------------------------------------- */

static double
status_mib(const char *status, const char *key)
{
	const char *line = strstr(status, key);

	return line ? g_ascii_strtod(line + strlen(key), NULL) / 1024 : -1;
}

gboolean
bench_process_mib(int pid, const char *key, double *ret_mib, GError **error)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
	g_autofree char *status = NULL;

	if (!g_file_get_contents(path, &status, NULL, error))
		return FALSE;
	*ret_mib = status_mib(status, key);
	if (*ret_mib >= 0)
		return TRUE;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "no %s in %s", key,
		    path);
	return FALSE;
}

int
cmd_rss(int argc, char **argv)
{
	g_autofree char *path = NULL, *status = NULL;

	if (argc != 2) {
		fprintf(stderr, "usage: slotd-bench rss PID\n");
		return 2;
	}
	path = g_strdup_printf("/proc/%s/status", argv[1]);
	if (!g_file_get_contents(path, &status, NULL, NULL)) {
		fprintf(stderr, "slotd-bench rss: cannot read %s\n", path);
		return 1;
	}
	bench_figure("rss-mib", status_mib(status, "VmRSS:"));
	bench_figure("rss-peak-mib", status_mib(status, "VmHWM:"));
	return 0;
}
