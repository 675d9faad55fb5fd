/* Access control end to end: a dbus-daemon configured like the system
 * bus that includes our policy file (config/org.slotd.Slotd1.conf), the
 * real slotd on it, and clients running as another Unix user (nobody)
 * with the supplementary groups each case needs.
 *
 * The policy's group names are replaced by groups every Debian system
 * has (users, staff, …): nothing is added to /etc/group, so nothing is
 * left behind when a test aborts. The bus and slotd both take a
 * caller's groups from the connecting process, which is what
 * `setpriv --groups` sets. Needs root (to become another user) and
 * setpriv (util-linux); skipped otherwise. */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grp.h>

#include "harness.h"

#define SNA "needs-assessment-west"
#define CALLER_UID "65534" /* nobody */
#define CALLER_GID "65534" /* nogroup, the caller's own group */
#define BUS_REFUSED "Rejected send message"
#define DENIED "org.freedesktop.DBus.Error.AccessDenied"

typedef enum {
	ROLE_READ,
	ROLE_BOOK,
	ROLE_ADMIN,
	/* A group a mistaken local policy lets through to every method,
	 * which slotd's [access] grants only the read role. */
	ROLE_WIDE,
	N_ROLES
} Role;

static const char *const role_words[N_ROLES] = { "read", "book", "admin",
						 "wide" };

typedef struct {
	char *name;
	char *gid; /* as setpriv takes it */
} RoleGroup;

static Harness h;
static RoleGroup groups[N_ROLES];
static const char *skip_reason;

/* ---- groups, policy and the bus --------------------------------------- */

/* Four groups that exist, none of them root's or the caller's own. */
static gboolean
pick_groups(void)
{
	static const char *const candidates[] = {
		"users", "staff", "src", "games", "voice", "fax", "tape",
		"floppy", "dip", "plugdev", "video", "audio", "cdrom", NULL
	};
	guint n = 0;

	for (guint i = 0; candidates[i] && n < N_ROLES; i++) {
		struct group *gr = getgrnam(candidates[i]);

		if (!gr || gr->gr_gid == 0 || gr->gr_gid == 65534)
			continue;
		groups[n].name = g_strdup(gr->gr_name);
		groups[n].gid = g_strdup_printf("%u", (guint)gr->gr_gid);
		n++;
	}
	return n == N_ROLES;
}

/* Our policy file with its role groups replaced. */
static char *
policy_with_groups(void)
{
	g_autofree char *path = g_build_filename(harness_source_root(),
						 "config",
						 "org.slotd.Slotd1.conf",
						 NULL);
	g_autofree char *text = NULL;
	GString *policy;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	policy = g_string_new(text);
	for (Role r = ROLE_READ; r <= ROLE_ADMIN; r++) {
		g_autofree char *from = g_strdup_printf("group=\"slotd-%s\"",
							role_words[r]);
		g_autofree char *to = g_strdup_printf("group=\"%s\"",
						      groups[r].name);

		g_assert_cmpuint(g_string_replace(policy, from, to, 0), ==, 1);
	}
	return g_string_free(policy, FALSE);
}

/* The default policy of Debian's system.conf, our policy included the
 * way system.d includes it, and the mistaken wide rule. */
static const char bus_config[] =
	"<!DOCTYPE busconfig PUBLIC "
	"\"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
	" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	"<busconfig>\n"
	"  <type>system</type>\n"
	"  <listen>unix:path=%s/system_bus_socket</listen>\n"
	"  <auth>EXTERNAL</auth>\n"
	"  <policy context=\"default\">\n"
	"    <allow user=\"*\"/>\n"
	"    <deny own=\"*\"/>\n"
	"    <deny send_type=\"method_call\"/>\n"
	"    <allow send_type=\"signal\"/>\n"
	"    <allow send_requested_reply=\"true\"\n"
	"           send_type=\"method_return\"/>\n"
	"    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
	"    <allow receive_type=\"method_call\"/>\n"
	"    <allow receive_type=\"method_return\"/>\n"
	"    <allow receive_type=\"error\"/>\n"
	"    <allow receive_type=\"signal\"/>\n"
	"    <allow send_destination=\"org.freedesktop.DBus\"\n"
	"           send_interface=\"org.freedesktop.DBus\"/>\n"
	"    <allow send_destination=\"org.freedesktop.DBus\"\n"
	"           send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
	"  </policy>\n"
	"  <include>%s</include>\n"
	"  <policy group=\"%s\">\n"
	"    <allow send_destination=\"org.slotd.Slotd1\"/>\n"
	"  </policy>\n"
	"</busconfig>\n";

static void
die_with_parent(gpointer user_data)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
start_system_bus(void)
{
	g_autofree char *policy = policy_with_groups();
	g_autofree char *policy_path = g_build_filename(h.tmpdir,
						       "org.slotd.Slotd1.conf",
						       NULL);
	g_autofree char *config_path = g_build_filename(h.tmpdir, "bus.conf",
						       NULL);
	g_autofree char *config = g_strdup_printf(
		bus_config, h.tmpdir, policy_path, groups[ROLE_WIDE].name);
	g_autofree char *arg = g_strconcat("--config-file=", config_path,
					   NULL);
	g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
		G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_autoptr(GDataInputStream) out = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(policy_path, policy, -1, NULL));
	g_assert_true(g_file_set_contents(config_path, config, -1, NULL));
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	h.bus = g_subprocess_launcher_spawn(l, &error, "dbus-daemon", arg,
					    "--nofork", "--print-address",
					    NULL);
	g_assert_no_error(error);
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(h.bus));
	h.address = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(h.address);
	h.conn = g_dbus_connection_new_for_address_sync(
		h.address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
}

/* The harness's start, on our bus instead of a session bus. */
static void
setup(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *entry = NULL;
	g_autofree char *read_groups = NULL;

	memset(&h, 0, sizeof(h));
	h.tmpdir = g_dir_make_tmp("slotd-access-XXXXXX", &error);
	g_assert_no_error(error);
	/* The caller must reach the socket inside. */
	g_assert_cmpint(chmod(h.tmpdir, 0711), ==, 0);
	h.state_dir = g_build_filename(h.tmpdir, "state", NULL);
	h.plugin_dir = g_build_filename(harness_build_root(), "plugins", NULL);
	h.log_path = g_build_filename(h.tmpdir, "slotd.log", NULL);
	h.horizon_days = 14;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	start_system_bus();
	entry = harness_copy_example(&h);
	read_groups = g_strdup_printf("%s;%s", groups[ROLE_READ].name,
				      groups[ROLE_WIDE].name);
	harness_set_key(entry, "access", "read-groups", read_groups);
	harness_set_key(entry, "access", "book-groups", groups[ROLE_BOOK].name);
	harness_set_key(entry, "access", "admin-groups",
			groups[ROLE_ADMIN].name);
	harness_start_slotd(&h, entry);
}

/* ---- callers ---------------------------------------------------------- */

/* Runs argv as nobody, in the group of `role` only, or in no group
 * but its own (N_ROLES). */
static int
run_as(Role role, char **ret_out, char **ret_err, const char *const *argv)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(args, g_strdup("setpriv"));
	g_ptr_array_add(args, g_strdup("--reuid=" CALLER_UID));
	g_ptr_array_add(args, g_strdup("--regid=" CALLER_GID));
	if (role == N_ROLES)
		g_ptr_array_add(args, g_strdup("--clear-groups"));
	else
		g_ptr_array_add(args, g_strconcat("--groups=", groups[role].gid,
						  NULL));
	g_ptr_array_add(args, g_strdup("--"));
	for (guint i = 0; argv[i]; i++)
		g_ptr_array_add(args, g_strdup(argv[i]));
	g_ptr_array_add(args, NULL);
	return harness_run(&h, ret_out, ret_err,
			   (const char *const *)args->pdata);
}

/* slotctl --address ADDR ARGS... as nobody in `role`'s group. */
static int
slotctl_as(Role role, char **ret_out, char **ret_err, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	const char *arg;
	va_list ap;

	g_ptr_array_add(argv, g_build_filename(harness_build_root(), "tools",
					       "slotctl", NULL));
	g_ptr_array_add(argv, g_strdup("--address"));
	g_ptr_array_add(argv, g_strdup(h.address));
	va_start(ap, ret_err);
	while ((arg = va_arg(ap, const char *)))
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	return run_as(role, ret_out, ret_err,
		      (const char *const *)argv->pdata);
}

/* Exit 1 with AccessDenied, from the bus (policy) or from slotd.
 * `err` is read only after the call (argument order is unspecified). */
static void
assert_refused(int status, char *const *err, gboolean by_bus)
{
	g_assert_cmpint(status, ==, 1);
	g_assert_nonnull(strstr(*err, DENIED));
	if (by_bus)
		g_assert_nonnull(strstr(*err, BUS_REFUSED));
	else
		g_assert_null(strstr(*err, BUS_REFUSED));
}

/* A W-SNA-LV slot with `seats` free seats. */
static char *
free_slot(guint seats)
{
	GVariantDict d;
	g_autoptr(GVariant) slots = NULL;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	g_variant_dict_insert(&d, "limit", "u", 300);
	slots = harness_find(&h, SNA, g_variant_dict_end(&d));
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id, *unit;
		guint free;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, &unit,
				    NULL, NULL, &free, NULL);
		if (g_str_equal(unit, "W-SNA-LV") && free == seats)
			return g_strdup(id);
	}
	g_error("no W-SNA-LV slot with %u free seats", seats);
	return NULL;
}

static guint
free_seats(const char *slot_id)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	g_autofree char *query = g_strdup_printf(
		"SELECT capacity - booked - held FROM slot WHERE id = %s;",
		slot_id + 2);
	const char *argv[] = { "sqlite3", db, query, NULL };
	g_autofree char *out = NULL;

	g_assert_cmpint(harness_run(&h, &out, NULL, argv), ==, 0);
	return (guint)g_ascii_strtoull(out, NULL, 10);
}

static char *
sql(const char *query)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	const char *argv[] = { "sqlite3", db, query, NULL };
	char *out = NULL;

	g_assert_cmpint(harness_run(&h, &out, NULL, argv), ==, 0);
	return g_strstrip(out);
}

/* ---- the cases -------------------------------------------------------- */

#define SKIP_UNLESS_POSSIBLE()                 \
	do {                                   \
		if (skip_reason) {             \
			g_test_skip(skip_reason); \
			return;                \
		}                              \
	} while (0)

static void
test_book_group_books(void)
{
	g_autofree char *slot = NULL;
	g_autofree char *out = NULL, *query = NULL;
	g_autofree char *audited = NULL, *gout = NULL;
	const char *gdbus[] = { "gdbus", "call", "--address", NULL, "--dest",
				"org.slotd.Slotd1", "--object-path",
				"/org/slotd/Slotd1", "--method",
				"org.slotd.Scheduler1.Book", NULL,
				"access-ref-2", "{}", NULL };

	SKIP_UNLESS_POSSIBLE();
	slot = free_slot(3);
	gdbus[3] = h.address;
	gdbus[10] = slot;
	g_assert_cmpint(slotctl_as(ROLE_BOOK, &out, NULL, "book", slot,
				   "access-ref-1", NULL),
			==, 0);
	g_strstrip(out);
	g_assert_true(g_str_has_prefix(out, "b-"));
	/* A standard client in the same group, without our code. */
	g_assert_cmpint(run_as(ROLE_BOOK, &gout, NULL, gdbus), ==, 0);
	g_assert_nonnull(strstr(gout, "('b-"));
	g_assert_cmpuint(free_seats(slot), ==, 1);
	/* The audit log names the caller's uid. */
	query = g_strdup_printf("SELECT uid FROM audit WHERE action = 'book' "
				"AND booking = %s;",
				out + 2);
	audited = sql(query);
	g_assert_cmpstr(audited, ==, CALLER_UID);
}

static void
test_no_group_cannot_even_call(void)
{
	g_autofree char *slot = NULL;
	const char *methods[] = { "org.slotd.Scheduler1.ListServices",
				  "org.freedesktop.DBus.Peer.Ping",
				  "org.freedesktop.DBus.Introspectable"
				  ".Introspect",
				  "org.slotd.Admin1.GetStatus", NULL };

	SKIP_UNLESS_POSSIBLE();
	slot = free_slot(3);
	for (guint i = 0; methods[i]; i++) {
		const char *gdbus[] = { "gdbus", "call", "--address",
					h.address, "--dest",
					"org.slotd.Slotd1", "--object-path",
					"/org/slotd/Slotd1", "--method",
					methods[i], NULL };
		g_autofree char *err = NULL;

		assert_refused(run_as(N_ROLES, NULL, &err, gdbus), &err, TRUE);
	}
	{
		g_autofree char *err = NULL;

		assert_refused(slotctl_as(N_ROLES, NULL, &err, "book", slot,
					  "access-ref-3", NULL),
			       &err, TRUE);
	}
	g_assert_cmpuint(free_seats(slot), ==, 3);
}

static void
test_read_group_reads_only(void)
{
	g_autofree char *slot = NULL;
	g_autofree char *out = NULL, *err = NULL;

	SKIP_UNLESS_POSSIBLE();
	slot = free_slot(3);
	g_assert_cmpint(slotctl_as(ROLE_READ, &out, NULL, "services", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, SNA));
	g_clear_pointer(&out, g_free);
	g_assert_cmpint(slotctl_as(ROLE_READ, &out, NULL, "find", SNA,
				   "--municipality", "Lojo", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, "W-SNA-LV"));
	assert_refused(slotctl_as(ROLE_READ, NULL, &err, "book", slot,
				  "access-ref-4", NULL),
		       &err, TRUE);
	g_clear_pointer(&err, g_free);
	assert_refused(slotctl_as(ROLE_READ, NULL, &err, "hold", slot, NULL),
		       &err, TRUE);
	g_clear_pointer(&err, g_free);
	assert_refused(slotctl_as(ROLE_READ, NULL, &err, "reload", NULL), &err,
		       TRUE);
	g_assert_cmpuint(free_seats(slot), ==, 3);
}

/* Even where the bus lets a call through, slotd checks the role. */
static void
test_daemon_checks_roles_itself(void)
{
	g_autofree char *slot = NULL;
	g_autofree char *out = NULL, *err = NULL, *want = NULL;

	SKIP_UNLESS_POSSIBLE();
	slot = free_slot(3);
	g_assert_cmpint(slotctl_as(ROLE_WIDE, &out, NULL, "services", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, SNA));
	assert_refused(slotctl_as(ROLE_WIDE, NULL, &err, "book", slot,
				  "access-ref-5", NULL),
		       &err, FALSE);
	want = g_strdup_printf("Scheduler1.Book needs the book role (group %s)",
			       groups[ROLE_BOOK].name);
	g_assert_nonnull(strstr(err, want));
	g_clear_pointer(&err, g_free);
	g_clear_pointer(&want, g_free);
	assert_refused(slotctl_as(ROLE_WIDE, NULL, &err, "reload", NULL), &err,
		       FALSE);
	want = g_strdup_printf("needs the admin role (group %s)",
			       groups[ROLE_ADMIN].name);
	g_assert_nonnull(strstr(err, want));
	g_assert_cmpuint(free_seats(slot), ==, 3);
}

static void
test_admin_group_administers(void)
{
	g_autofree char *backup = g_build_filename(h.tmpdir, "admin-copy.db",
						   NULL);
	g_autofree char *err = NULL, *check = NULL;
	const char *argv[] = { "sqlite3", backup, "PRAGMA integrity_check;",
			       NULL };

	SKIP_UNLESS_POSSIBLE();
	g_assert_cmpint(slotctl_as(ROLE_ADMIN, NULL, NULL, "reload", NULL),
			==, 0);
	g_assert_cmpint(slotctl_as(ROLE_ADMIN, NULL, NULL, "plugins", NULL),
			==, 0);
	g_assert_cmpint(slotctl_as(ROLE_ADMIN, NULL, NULL, "backup", backup,
				   NULL),
			==, 0);
	g_assert_cmpint(harness_run(&h, &check, NULL, argv), ==, 0);
	g_assert_cmpstr(g_strstrip(check), ==, "ok");
	/* The book group may not administer. */
	assert_refused(slotctl_as(ROLE_BOOK, NULL, &err, "reload", NULL), &err,
		       TRUE);
}

/* ---- signals ---------------------------------------------------------- */

/* `gdbus monitor` as nobody in `role`'s group, its output in a file. */
static GSubprocess *
monitor_as(Role role, const char *path)
{
	g_autoptr(GSubprocessLauncher) l =
		g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE);
	g_autoptr(GError) error = NULL;
	g_autofree char *groups_arg = NULL;
	GSubprocess *p;

	groups_arg = role == N_ROLES ?
			     g_strdup("--clear-groups") :
			     g_strconcat("--groups=", groups[role].gid, NULL);
	g_subprocess_launcher_set_stdout_file_path(l, path);
	g_subprocess_launcher_set_child_setup(l, die_with_parent, NULL, NULL);
	/* Line-buffered, or nothing reaches the file before it exits. */
	/* As another user it no longer dies with us: `timeout` bounds it
	 * if this test aborts, and passes our SIGTERM on to it. */
	p = g_subprocess_launcher_spawn(
		l, &error, "setpriv", "--reuid=" CALLER_UID,
		"--regid=" CALLER_GID, groups_arg, "--", "timeout", "60",
		"stdbuf", "-oL", "gdbus", "monitor", "--address", h.address,
		"--dest", "org.slotd.Slotd1", NULL);
	g_assert_no_error(error);
	return p;
}

static void
stop_monitor(GSubprocess *monitor)
{
	g_subprocess_send_signal(monitor, SIGTERM);
	g_assert_true(g_subprocess_wait(monitor, NULL, NULL));
}

static gboolean
file_says(const char *path, const char *text)
{
	g_autofree char *contents = NULL;

	return g_file_get_contents(path, &contents, NULL, NULL) &&
	       strstr(contents, text) != NULL;
}

static void
wait_file_says(const char *path, const char *text)
{
	for (guint i = 0; i < 1000; i++) {
		if (file_says(path, text))
			return;
		g_usleep(10000);
	}
	g_error("%s never said “%s”", path, text);
}

static void
test_signals_reach_role_groups_only(void)
{
	g_autofree char *reader_out = NULL, *outsider_out = NULL;
	g_autofree char *slot = NULL, *id = NULL;
	g_autoptr(GSubprocess) reader = NULL, outsider = NULL;
	g_autoptr(GVariant) r = NULL;
	g_autoptr(GError) error = NULL;

	SKIP_UNLESS_POSSIBLE();
	reader_out = g_build_filename(h.tmpdir, "monitor-read.txt", NULL);
	outsider_out = g_build_filename(h.tmpdir, "monitor-none.txt", NULL);
	reader = monitor_as(ROLE_READ, reader_out);
	outsider = monitor_as(N_ROLES, outsider_out);
	/* Both have subscribed once they name the owner. */
	wait_file_says(reader_out, "is owned by");
	wait_file_says(outsider_out, "is owned by");
	slot = free_slot(3);
	r = harness_call(&h, "org.slotd.Scheduler1", "Book",
			 g_variant_new("(ss@a{sv})", slot, "access-ref-6",
				       g_variant_new("a{sv}", NULL)),
			 "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(s)", &id);
	wait_file_says(reader_out, id);
	g_assert_true(file_says(reader_out, "BookingChanged"));
	/* The outsider's bus connection is ordered like the reader's;
	 * give it the same time again before looking. */
	g_usleep(300000);
	g_assert_false(file_says(outsider_out, "BookingChanged"));
	g_assert_false(file_says(outsider_out, "SlotsChanged"));
	stop_monitor(reader);
	stop_monitor(outsider);
}

/* ---- a caller that left ----------------------------------------------- */

static gboolean
name_has_owner(const char *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = g_dbus_connection_call_sync(
		h.conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", "NameHasOwner",
		g_variant_new("(s)", name), G_VARIANT_TYPE("(b)"),
		G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
	gboolean owned;

	g_assert_no_error(error);
	g_variant_get(r, "(b)", &owned);
	return owned;
}

static void
wait_name_gone(const char *name)
{
	for (guint i = 0; i < 1000 && name_has_owner(name); i++)
		g_usleep(10000);
	g_assert_false(name_has_owner(name));
}

/* Until the daemon holds no call but the GetStatus asking. */
static void
wait_calls_answered(void)
{
	for (guint i = 0; i < 1000; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1",
						     "GetStatus", NULL,
						     "(a{sv})", &error);
		g_autoptr(GVariant) status = NULL;
		guint32 pending = 0;

		g_assert_no_error(error);
		status = g_variant_get_child_value(r, 0);
		g_assert_true(g_variant_lookup(status, "pending-calls", "u",
					       &pending));
		if (pending <= 1)
			return;
		g_usleep(10000);
	}
	g_error("slotd kept calls unanswered for 10 s");
}

/* slotd's pid, for signals sent here and now: g_subprocess_send_signal()
 * hands the signal to GLib's worker thread and returns before it is
 * sent, so a call sent right after it could reach a slotd still running
 * (what made this test fail under load). */
static pid_t
slotd_pid(void)
{
	return (pid_t)g_ascii_strtoll(g_subprocess_get_identifier(h.slotd),
				      NULL, 10);
}

/* Until /proc says stopped ("PID (comm) T ..."). */
static void
stop_slotd(void)
{
	pid_t pid = slotd_pid();
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);

	g_assert_cmpint(kill(pid, SIGSTOP), ==, 0);
	for (guint i = 0; i < 5000; i++) {
		g_autofree char *text = NULL;
		const char *end;

		if (g_file_get_contents(path, &text, NULL, NULL) &&
		    (end = strrchr(text, ')')) && g_str_has_prefix(end, ") T"))
			return;
		g_usleep(1000);
	}
	g_error("slotd did not stop");
}

static GVariant *
key_options(const char *key)
{
	GVariantDict d;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "idempotency-key", "s", key);
	return g_variant_dict_end(&d);
}

typedef enum {
	VANISH_UNCHECKED,	/* slotd paused; never heard of the caller */
	VANISH_CHECKED,		/* slotd paused; the caller's credentials
				 * known from an earlier call */
	VANISH_RUNNING,		/* slotd running: either */
} Vanish;

/* A client sends Book with idempotency key `ref` and disconnects at once,
 * without its answer; paused, slotd is stopped until the bus has seen
 * the client go. Returns once slotd has dealt with the call. */
static void
book_and_vanish(const char *slot, const char *ref, Vanish how)
{
	g_autoptr(GDBusConnection) gone = NULL;
	g_autoptr(GDBusMessage) message = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *name = NULL;
	gboolean paused = how != VANISH_RUNNING;

	gone = g_dbus_connection_new_for_address_sync(
		h.address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &error);
	g_assert_no_error(error);
	if (how == VANISH_CHECKED) {
		/* Any call with a role check: slotd keeps the credentials
		 * until it hears that the name left. */
		g_autoptr(GVariant) r = g_dbus_connection_call_sync(
			gone, "org.slotd.Slotd1", "/org/slotd/Slotd1",
			"org.slotd.Scheduler1", "ListServices", NULL,
			G_VARIANT_TYPE("(a(sss))"), G_DBUS_CALL_FLAGS_NONE, -1,
			NULL, &error);

		g_assert_no_error(error);
	}
	if (paused)
		stop_slotd();
	message = g_dbus_message_new_method_call("org.slotd.Slotd1",
						 "/org/slotd/Slotd1",
						 "org.slotd.Scheduler1",
						 "Book");
	g_dbus_message_set_body(message,
				g_variant_new("(ss@a{sv})", slot, ref,
					      key_options(ref)));
	g_dbus_connection_send_message(gone, message,
				       G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
				       &error);
	g_assert_no_error(error);
	g_dbus_connection_flush_sync(gone, NULL, &error);
	g_assert_no_error(error);
	name = g_strdup(g_dbus_connection_get_unique_name(gone));
	g_dbus_connection_close_sync(gone, NULL, &error);
	g_assert_no_error(error);
	wait_name_gone(name);
	if (paused)
		g_assert_cmpint(kill(slotd_pid(), SIGCONT), ==, 0);
	/* The Book reached slotd before our GetStatus (the bus passed it on
	 * before it saw its sender go) and is counted until answered. */
	wait_calls_answered();
}

/* Seats of `slot` are exactly its live bookings' seats, and the bookings
 * of `ref` are what took them: n bookings, n seats. */
static void
assert_seats_match(const char *slot, const char *ref, guint capacity,
		   guint n)
{
	g_autofree char *q1 = g_strdup_printf(
		"SELECT count(*) FROM booking WHERE client_ref = '%s' AND "
		"idempotency_key = '%s';", ref, ref);
	g_autofree char *q2 = g_strdup_printf(
		"SELECT booked = (SELECT coalesce(sum(u.seats), 0) FROM "
		"booking_use u JOIN booking b ON b.id = u.booking WHERE "
		"u.slot = slot.id AND b.status NOT IN ('cancelled', "
		"'entered-in-error')) FROM slot WHERE id = %s;", slot + 2);
	g_autofree char *count = sql(q1), *consistent = sql(q2);
	g_autofree char *want = g_strdup_printf("%u", n);

	g_assert_cmpstr(count, ==, want);
	g_assert_cmpstr(consistent, ==, "1");
	g_assert_cmpuint(free_seats(slot), ==, capacity - n);
}

/* The caller comes back and retries with the same key: one booking,
 * whether or not its first Book was made, and the same one every time. */
static void
retry_books_once(const char *slot, const char *ref, guint capacity)
{
	g_autofree char *first = NULL, *again = NULL, *query = NULL;
	g_autofree char *audited = NULL;

	for (guint i = 0; i < 2; i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) r = harness_call(
			&h, "org.slotd.Scheduler1", "Book",
			g_variant_new("(ss@a{sv})", slot, ref,
				      key_options(ref)),
			"(s)", &error);

		g_assert_no_error(error);
		g_variant_get(r, "(s)", i == 0 ? &first : &again);
	}
	g_assert_cmpstr(again, ==, first);
	assert_seats_match(slot, ref, capacity, 1);
	query = g_strdup_printf("SELECT count(*) FROM audit WHERE action = "
				"'book' AND booking = %s;",
				first + 2);
	audited = sql(query);
	g_assert_cmpstr(audited, ==, "1");
}

/* A caller that disconnects right after sending Book (issue 20, item 9).
 * What slotd promises: a change is made or not by what slotd knew when
 * it took the call, never by whether the caller is still there at the
 * commit. A call whose caller is gone before slotd could check its
 * credentials is refused, with no trace (slotd cannot tell who asked;
 * also /security/caller/vanished-is-refused). A call slotd took - the
 * caller's credentials checked - is made and committed like any other,
 * and its answer goes nowhere. The caller finds out which by retrying
 * with the same idempotency key: the retry returns the booking made, or
 * makes it - once. Never two bookings, never a seat without its
 * booking.
 *
 * Each case is forced, not raced: slotd is stopped (SIGSTOP, waited
 * for) while the caller sends and leaves, with its credentials unknown
 * to slotd (refused) or known from an earlier call (made). The last case
 * lets a running slotd race the disconnect and asserts what holds
 * either way. */
static void
test_vanished_caller_books_once(void)
{
	const struct {
		Vanish how;
		const char *ref;
		int made; /* -1: either */
	} cases[] = {
		{ VANISH_UNCHECKED, "access-ref-7", 0 },
		{ VANISH_CHECKED, "access-ref-8", 1 },
		{ VANISH_RUNNING, "access-ref-9", -1 },
	};

	SKIP_UNLESS_POSSIBLE();
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *slot = free_slot(3);
		g_autofree char *audit = sql("SELECT count(*) FROM audit;");
		g_autofree char *audit_after = NULL, *query = NULL;
		g_autofree char *count = NULL;
		guint made;

		book_and_vanish(slot, cases[i].ref, cases[i].how);
		query = g_strdup_printf("SELECT count(*) FROM booking WHERE "
					"client_ref = '%s';",
					cases[i].ref);
		count = sql(query);
		made = (guint)g_ascii_strtoull(count, NULL, 10);
		if (cases[i].made >= 0)
			g_assert_cmpuint(made, ==, (guint)cases[i].made);
		g_assert_cmpuint(made, <=, 1);
		assert_seats_match(slot, cases[i].ref, 3, made);
		/* A refused call leaves no audit row; a made one its 'book'. */
		audit_after = sql("SELECT count(*) FROM audit;");
		g_assert_cmpuint(g_ascii_strtoull(audit_after, NULL, 10), ==,
				 g_ascii_strtoull(audit, NULL, 10) + made);
		g_test_message("case %u: the vanished caller's Book was %s", i,
			       made ? "made" : "refused");
		retry_books_once(slot, cases[i].ref, 3);
	}
}

int
main(int argc, char **argv)
{
	g_autofree char *setpriv = g_find_program_in_path("setpriv");
	g_autofree char *stdbuf = g_find_program_in_path("stdbuf");
	int status;

	g_test_init(&argc, &argv, NULL);
	if (getuid() != 0)
		skip_reason = "needs root to run callers as another user";
	else if (!setpriv || !stdbuf)
		skip_reason = "needs setpriv (util-linux) and stdbuf "
			      "(coreutils)";
	else if (!pick_groups())
		skip_reason = "found no four unprivileged groups to stand "
			      "for the roles";
	if (!skip_reason)
		setup();
	g_test_add_func("/access/policy/book-group-books",
			test_book_group_books);
	g_test_add_func("/access/policy/no-group-cannot-even-call",
			test_no_group_cannot_even_call);
	g_test_add_func("/access/policy/read-group-reads-only",
			test_read_group_reads_only);
	g_test_add_func("/access/policy/admin-group-administers",
			test_admin_group_administers);
	g_test_add_func("/access/policy/signals-reach-role-groups-only",
			test_signals_reach_role_groups_only);
	g_test_add_func("/access/daemon/checks-roles-itself",
			test_daemon_checks_roles_itself);
	g_test_add_func("/access/daemon/vanished-caller-books-once",
			test_vanished_caller_books_once);
	status = g_test_run();
	if (!skip_reason) {
		g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
		harness_clear(&h);
	}
	for (guint i = 0; i < N_ROLES; i++) {
		g_free(groups[i].name);
		g_free(groups[i].gid);
	}
	return status;
}
