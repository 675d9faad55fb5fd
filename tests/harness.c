#define _GNU_SOURCE /* F_GET_SEALS */
/* Test harness: private bus, real daemon, real clients. */
#include "harness.h"

#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

const char *
harness_build_root(void)
{
	const char *root = g_getenv("SLOTD_BUILD_ROOT");

	g_assert_nonnull(root);
	return root;
}

const char *
harness_source_root(void)
{
	const char *root = g_getenv("SLOTD_SOURCE_ROOT");

	g_assert_nonnull(root);
	return root;
}

/* Nothing a test starts may outlive it, even when it aborts. */
static void
die_with_parent(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static char *
read_address(GSubprocess *bus)
{
	GInputStream *out = g_subprocess_get_stdout_pipe(bus);
	g_autoptr(GDataInputStream) data = g_data_input_stream_new(out);
	g_autoptr(GError) error = NULL;
	char *line = g_data_input_stream_read_line(data, NULL, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(line);
	return line;
}

/* A private dbus-daemon (`config_text`: its configuration, @DIR@ for
 * the temp dir; NULL for the session one) and our connection to it, in a fresh temp dir. */
static void
init_bus(Harness *h, const char *prefix, const char *config_text)
{
	g_autoptr(GSubprocessLauncher) l =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autoptr(GError) error = NULL;
	g_autofree char *conf = NULL, *text = NULL, *arg = NULL;

	memset(h, 0, sizeof(*h));
	h->tmpdir = g_dir_make_tmp(prefix, &error);
	g_assert_no_error(error);
	if (config_text) {
		g_auto(GStrv) parts = g_strsplit(config_text, "@DIR@", -1);

		g_assert_cmpint(chmod(h->tmpdir, 0711), ==, 0);
		conf = g_build_filename(h->tmpdir, "bus.conf", NULL);
		text = g_strjoinv(h->tmpdir, parts);
		g_assert_true(g_file_set_contents(conf, text, -1, NULL));
		arg = g_strconcat("--config-file=", conf, NULL);
	}
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	h->bus = g_subprocess_launcher_spawn(l, &error, "dbus-daemon",
					     arg ? arg : "--session",
					     "--nofork", "--print-address",
					     NULL);
	g_assert_no_error(error);
	h->address = read_address(h->bus);
	h->conn = g_dbus_connection_new_for_address_sync(
		h->address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
	h->state_dir = g_build_filename(h->tmpdir, "state", NULL);
	h->plugin_dir = g_build_filename(harness_build_root(), "plugins", NULL);
	h->log_path = g_build_filename(h->tmpdir, "slotd.log", NULL);
}

void
harness_init(Harness *h)
{
	init_bus(h, "slotd-test-XXXXXX", NULL);
}

static void
copy_tree(const char *from, const char *to)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) cp = g_subprocess_new(
		G_SUBPROCESS_FLAGS_NONE, &error, "cp", "-r", from, to, NULL);

	g_assert_no_error(error);
	g_assert_true(g_subprocess_wait_check(cp, NULL, &error));
	g_assert_no_error(error);
}

void
harness_set_key(const char *path, const char *group, const char *key,
		const char *value)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) error = NULL;

	g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, &error);
	g_assert_no_error(error);
	g_key_file_set_value(kf, group, key, value);
	g_key_file_save_to_file(kf, path, &error);
	g_assert_no_error(error);
}

char *
harness_copy_example(Harness *h)
{
	g_autofree char *src = g_build_filename(harness_source_root(), "config",
						"example", NULL);
	g_autofree char *dst = g_build_filename(h->tmpdir, "config", NULL);
	char *entry = g_build_filename(dst, "slotd.conf", NULL);

	if (!g_file_test(dst, G_FILE_TEST_IS_DIR)) {
		copy_tree(src, dst);
		/* No feed server unless a test asks: tests run in parallel. */
		harness_set_key(entry, "daemon", "http-address", "");
		if (h->horizon_days) {
			g_autofree char *days =
				g_strdup_printf("%u", h->horizon_days);

			harness_set_key(entry, "daemon", "horizon-days", days);
		}
	}
	return entry;
}

GVariant *
harness_find(Harness *h, const char *service, GVariant *query)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(
		h, "org.slotd.Scheduler1", "FindSlots",
		g_variant_new("(s@a{sv})", service, query),
		"(a(ssxxua{sv}))", &error);

	g_assert_no_error(error);
	return g_variant_get_child_value(r, 0);
}

char *
harness_book(Harness *h, const char *slot, const char *client,
	     GVariant *options, GError **error)
{
	g_autoptr(GVariant) r = harness_call(
		h, "org.slotd.Scheduler1", "Book",
		g_variant_new("(ss@a{sv})", slot, client,
			      options ? options
				      : g_variant_new("a{sv}", NULL)),
		"(s)", error);
	char *id = NULL;

	if (r)
		g_variant_get(r, "(s)", &id);
	return id;
}

gint64
harness_sequence(Harness *h, const char *booking)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(h, "org.slotd.Scheduler1",
					     "GetBooking",
					     g_variant_new("(s)", booking),
					     "(a{sv})", &error);
	g_autoptr(GVariant) b = NULL;
	gint64 sequence = -1;

	g_assert_no_error(error);
	b = g_variant_get_child_value(r, 0);
	g_assert_true(g_variant_lookup(b, "sequence", "x", &sequence));
	return sequence;
}

static gboolean
name_owned(Harness *h)
{
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
		h->conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", "NameHasOwner",
		g_variant_new("(s)", "org.slotd.Slotd1"), G_VARIANT_TYPE("(b)"),
		G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
	gboolean owned = FALSE;

	if (r)
		g_variant_get(r, "(b)", &owned);
	return owned;
}

/* A wrapped daemon (valgrind) starts many times slower. */
static int
wait_scale(void)
{
	const char *wrapper = g_getenv("SLOTD_TEST_WRAPPER");

	return wrapper && *wrapper ? 10 : 1;
}

/* Both waits poll often: every test starts slotd at least once, many
 * of them a dozen times. */
static void
wait_for_name(Harness *h)
{
	gint64 until = g_get_monotonic_time() +
		       (gint64)60 * wait_scale() * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < until) {
		if (name_owned(h))
			return;
		/* The identifier goes once the child has exited. */
		g_main_context_iteration(NULL, FALSE);
		if (!g_subprocess_get_identifier(h->slotd))
			break;
		g_usleep(10000);
	}
	{
		g_autofree char *log = NULL;

		g_file_get_contents(h->log_path, &log, NULL, NULL);
		g_error("slotd did not take its bus name; its log:\n%s",
			log ? log : "(none)");
	}
}

static void
wait_for_horizon(Harness *h)
{
	gint64 until = g_get_monotonic_time() +
		       (gint64)120 * wait_scale() * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < until) {
		g_autoptr(GVariant) r = harness_call(h, "org.slotd.Admin1",
						     "GetStatus", NULL,
						     "(a{sv})", NULL);
		g_autoptr(GVariant) d = NULL;
		gboolean done = FALSE;

		if (r) {
			d = g_variant_get_child_value(r, 0);
			g_variant_lookup(d, "horizon-complete", "b", &done);
			if (done)
				return;
		}
		g_usleep(20000);
	}
	g_error("slotd did not finish materialising its slots in %d s",
		120 * wait_scale());
}

/* SLOTD_TEST_WRAPPER="valgrind --leak-check=full ..." (or setpriv ...)
 * runs the daemon under that command: tests/valgrind.sh uses it. The
 * wrapper must exec or run slotd in the same process (same pid). */
static GPtrArray *
daemon_argv(Harness *h, const char *exe)
{
	const char *wrapper = g_getenv("SLOTD_TEST_WRAPPER");
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) words = NULL;
	/* No plugin_dir: the configuration's, checked as installed. */
	const char *const args[] = { "--config", h->config, "--state-dir",
				     h->state_dir, "--bus-address",
				     h->address, "--debug", "--plugin-dir",
				     h->plugin_dir };
	guint n_args = G_N_ELEMENTS(args) - (h->plugin_dir ? 0 : 2);

	if (wrapper && *wrapper) {
		g_autoptr(GError) error = NULL;

		g_shell_parse_argv(wrapper, NULL, &words, &error);
		g_assert_no_error(error);
		for (guint i = 0; words[i]; i++)
			g_ptr_array_add(argv, g_strdup(words[i]));
	}
	g_ptr_array_add(argv, g_strdup(exe));
	for (guint i = 0; i < n_args; i++)
		g_ptr_array_add(argv, g_strdup(args[i]));
	g_ptr_array_add(argv, NULL);
	return argv;
}

void
harness_start_slotd(Harness *h, const char *config)
{
	g_autoptr(GSubprocessLauncher) l =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	g_autofree char *exe = g_build_filename(harness_build_root(), "daemon",
						"slotd", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) argv = NULL;

	g_free(h->config);
	h->config = config ? g_strdup(config) : harness_copy_example(h);
	g_subprocess_launcher_set_stderr_file_path(l, h->log_path);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	g_subprocess_launcher_setenv(l, "G_DEBUG", "fatal-criticals", TRUE);
	if (h->test_time)
		g_subprocess_launcher_setenv(l, "SLOTD_TEST_TIME", h->test_time,
					     TRUE);
	argv = daemon_argv(h, exe);
	h->slotd = g_subprocess_launcher_spawnv(
		l, (const char *const *)argv->pdata, &error);
	g_assert_no_error(error);
	wait_for_name(h);
	if (!h->early)
		wait_for_horizon(h);
}

int
harness_stop_slotd(Harness *h, int sig)
{
	g_autoptr(GError) error = NULL;
	int status = -1;

	if (!h->slotd)
		return -1;
	g_subprocess_send_signal(h->slotd, sig);
	g_subprocess_wait(h->slotd, NULL, &error);
	if (g_subprocess_get_if_exited(h->slotd))
		status = g_subprocess_get_exit_status(h->slotd);
	g_clear_object(&h->slotd);
	return status;
}

void
harness_clear(Harness *h)
{
	g_autoptr(GError) error = NULL;

	harness_stop_slotd(h, SIGTERM);
	g_clear_object(&h->conn);
	if (h->bus) {
		g_subprocess_send_signal(h->bus, SIGTERM);
		g_subprocess_wait(h->bus, NULL, NULL);
		g_clear_object(&h->bus);
	}
	if (h->tmpdir && !g_getenv("SLOTD_KEEP_TMP")) {
		g_autoptr(GSubprocess) rm = g_subprocess_new(
			G_SUBPROCESS_FLAGS_NONE, &error, "rm", "-rf", h->tmpdir,
			NULL);

		if (rm)
			g_subprocess_wait(rm, NULL, NULL);
	}
	g_free(h->tmpdir);
	g_free(h->address);
	g_free(h->config);
	g_free(h->state_dir);
	g_free(h->plugin_dir);
	g_free(h->test_time);
	g_free(h->log_path);
	memset(h, 0, sizeof(*h));
}

GVariant *
harness_call(Harness *h, const char *interface, const char *method,
	     GVariant *args, const char *reply_type, GError **error)
{
	return g_dbus_connection_call_sync(
		h->conn, "org.slotd.Slotd1", "/org/slotd/Slotd1", interface,
		method, args, reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
		G_DBUS_CALL_FLAGS_NONE, 60000, NULL, error);
}

GVariant *
harness_call_rows_fd(Harness *h, const char *method, GVariant *args,
		     GError **error)
{
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GVariant) reply = g_dbus_connection_call_with_unix_fd_list_sync(
		h->conn, "org.slotd.Slotd1", "/org/slotd/Slotd1",
		"org.slotd.Planner1", method, args, G_VARIANT_TYPE("(h)"),
		G_DBUS_CALL_FLAGS_NONE, 60000, NULL, &fds, NULL, error);
	g_autoptr(GMappedFile) mapped = NULL;
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GVariant) rows = NULL;
	gint32 handle;
	int fd, seals;

	if (reply == NULL)
		return NULL;
	g_variant_get(reply, "(h)", &handle);
	g_assert_nonnull(fds);
	g_assert_cmpint(handle, <, g_unix_fd_list_get_length(fds));
	fd = g_unix_fd_list_get(fds, handle, NULL);
	g_assert_cmpint(fd, >=, 0);
	/* What the caller reads cannot change under it. */
	seals = fcntl(fd, F_GET_SEALS);
	g_assert_cmpint(seals & (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK),
			==, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK);
	g_assert_cmpint(write(fd, "x", 1), ==, -1);
	mapped = g_mapped_file_new_from_fd(fd, FALSE, NULL);
	close(fd);
	bytes = mapped ? g_mapped_file_get_bytes(mapped)
		       : g_bytes_new(NULL, 0); /* an empty file: no map */
	g_assert_true(G_BYTE_ORDER == G_LITTLE_ENDIAN);
	rows = g_variant_ref_sink(g_variant_new_from_bytes(
		G_VARIANT_TYPE("aa{sv}"), bytes, FALSE));
	g_assert_true(g_variant_is_normal_form(rows));
	return g_steal_pointer(&rows);
}

int
harness_run(Harness *h, char **ret_out, char **ret_err,
	    const char *const *argv)
{
	g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
		G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL, *err = NULL;

	g_subprocess_launcher_setenv(l, "DBUS_SESSION_BUS_ADDRESS", h->address,
				     TRUE);
	g_subprocess_launcher_setenv(l, "TZ", "Europe/Helsinki", TRUE);
	p = g_subprocess_launcher_spawnv(l, argv, &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(p, NULL, NULL, &out, &err, &error);
	g_assert_no_error(error);
	g_subprocess_wait(p, NULL, &error);
	g_assert_no_error(error);
	/* Callers reuse their out/err strings from call to call. */
	if (ret_out) {
		g_free(*ret_out);
		*ret_out = g_steal_pointer(&out);
	}
	if (ret_err) {
		g_free(*ret_err);
		*ret_err = g_steal_pointer(&err);
	}
	return g_subprocess_get_if_exited(p) ? g_subprocess_get_exit_status(p)
					     : -1;
}

int
harness_slotctl(Harness *h, char **ret_out, char **ret_err, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	const char *arg;
	va_list ap;

	g_ptr_array_add(argv, g_build_filename(harness_build_root(), "tools",
					       "slotctl", NULL));
	g_ptr_array_add(argv, g_strdup("--address"));
	g_ptr_array_add(argv, g_strdup(h->address));
	va_start(ap, ret_err);
	while ((arg = va_arg(ap, const char *)))
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	return harness_run(h, ret_out, ret_err,
			   (const char *const *)argv->pdata);
}

gint64
harness_local(int year, int month, int day, int hour, int minute)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier("Europe/Helsinki");
	g_autoptr(GDateTime) dt = g_date_time_new(tz, year, month, day, hour,
						  minute, 0);

	return g_date_time_to_unix(dt);
}

void
harness_wait_log(Harness *h, const char *text, guint seconds)
{
	gint64 until = g_get_monotonic_time() +
		       (gint64)seconds * wait_scale() * G_USEC_PER_SEC;
	g_autofree char *log = NULL;

	for (;;) {
		g_clear_pointer(&log, g_free);
		if (g_file_get_contents(h->log_path, &log, NULL, NULL) &&
		    strstr(log, text))
			return;
		if (g_get_monotonic_time() > until)
			break;
		g_usleep(10000);
	}
	g_error("slotd's log did not say \"%s\" within %u s; its log:\n%s",
		text, seconds, log ? log : "(none)");
}

void
harness_assert_dbus_error(GError *error, const char *name)
{
	g_autofree char *remote = NULL;

	g_assert_nonnull(error);
	remote = g_dbus_error_get_remote_error(error);
	if (g_strcmp0(remote, name) != 0)
		g_error("expected D-Bus error %s, got %s: %s", name,
			remote ? remote : "(local)", error->message);
}

void
harness_start_example(Harness *h, guint horizon_days)
{
	harness_init(h);
	h->horizon_days = horizon_days;
	h->test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				       harness_local(2026, 12, 7, 7, 0));
	harness_start_slotd(h, NULL);
}

int
harness_finish(Harness *h, int status)
{
	g_assert_cmpint(harness_stop_slotd(h, SIGTERM), ==, 0);
	harness_clear(h);
	return status;
}

/* ---- a bus other local users can reach ------------------------------ */

static const char open_bus_config[] =
	"<!DOCTYPE busconfig PUBLIC "
	"\"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
	" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	"<busconfig>\n"
	"  <type>session</type>\n"
	"  <listen>unix:path=@DIR@/bus_socket</listen>\n"
	"  <auth>EXTERNAL</auth>\n"
	"  <policy context=\"default\">\n"
	"    <allow user=\"*\"/>\n"
	"    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
	"    <allow eavesdrop=\"true\"/>\n"
	"    <allow own=\"*\"/>\n"
	"  </policy>\n"
	"</busconfig>\n";

gid_t
harness_second_group(void)
{
	g_autofree char *setpriv = g_find_program_in_path("setpriv");
	struct group *gr = getgrnam("users");

	if (getuid() != 0 || !setpriv || !gr || gr->gr_gid == 0)
		return HARNESS_NO_GROUP;
	return gr->gr_gid;
}

void
harness_init_open(Harness *h)
{
	init_bus(h, "slotd-open-XXXXXX", open_bus_config);
}

int
harness_run_as_nobody(Harness *h, gid_t group, const char *const *command,
		      char **ret_out, char **ret_err)
{
	g_autofree char *groups = g_strdup_printf("--groups=%u", group);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();

	g_ptr_array_add(argv, (gpointer) "setpriv");
	g_ptr_array_add(argv, (gpointer) "--reuid=65534");
	g_ptr_array_add(argv, (gpointer) "--regid=65534");
	g_ptr_array_add(argv, groups);
	g_ptr_array_add(argv, (gpointer) "--");
	for (guint i = 0; command[i]; i++)
		g_ptr_array_add(argv, (gpointer)command[i]);
	g_ptr_array_add(argv, NULL);
	return harness_run(h, ret_out, ret_err,
			   (const char *const *)argv->pdata);
}
