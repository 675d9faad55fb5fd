/* Admin1.Backup on the real daemon and a real private bus (issue 20).
 *
 * A backup goes only to a new file outside the state directory. Aimed
 * at the database's -wal, -shm, the database itself, the state
 * directory, a file in it, a symbolic link to the database or into the
 * state directory, an existing file, a 1 MB path or a path with a
 * control character, it is refused with InvalidArgs and a short
 * message, writes nothing and leaves the database and its WAL byte for
 * byte as they were; bookings then made survive a SIGKILL. A good
 * backup is a new private file that passes integrity_check, and it has
 * its audit row. The state directory and the database's files are
 * private (0700, 0600) even under umask 022. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define SNA "needs-assessment-west"
#define E_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define ONE_MB (1024 * 1024)

static Harness h;

/* ---- helpers -------------------------------------------------------- */

static char *
state_file(const char *name)
{
	return g_build_filename(h.state_dir, name, NULL);
}

static char *
temp_file(const char *name)
{
	return g_build_filename(h.tmpdir, name, NULL);
}

static char *
sqlite(const char *db, const char *query)
{
	const char *argv[] = { "sqlite3", db, query, NULL };
	char *out = NULL;

	g_assert_cmpint(harness_run(&h, &out, NULL, argv), ==, 0);
	return g_strstrip(out);
}

static char *
live_sql(const char *query)
{
	g_autofree char *db = state_file("slotd.db");

	return sqlite(db, query);
}

/* The SHA-256 of a file's bytes, or "absent". */
static char *
file_digest(const char *path)
{
	g_autofree char *bytes = NULL;
	gsize length;

	if (!g_file_get_contents(path, &bytes, &length, NULL))
		return g_strdup("absent");
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256,
					   (const guchar *)bytes, length);
}

/* The database and its WAL, and the names in the state directory. */
static char *
state_snapshot(void)
{
	g_autofree char *db = state_file("slotd.db");
	g_autofree char *wal = state_file("slotd.db-wal");
	g_autofree char *db_sum = file_digest(db);
	g_autofree char *wal_sum = file_digest(wal);
	g_autoptr(GDir) dir = g_dir_open(h.state_dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autofree char *joined = NULL;
	const char *name;

	while ((name = g_dir_read_name(dir)))
		g_ptr_array_add(names, (gpointer)g_intern_string(name));
	g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
	g_ptr_array_add(names, NULL);
	joined = g_strjoinv(",", (char **)names->pdata);
	return g_strdup_printf("db %s wal %s files %s", db_sum, wal_sum,
			       joined);
}

static GError *
backup(const char *path)
{
	GError *error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1", "Backup",
					     g_variant_new("(s)", path), "()",
					     &error);

	return error;
}

/* The state once slotd's checkpoint thread has copied what the last
 * commits left in the WAL into the database file: it does so on its
 * own time after a commit, which changes the file's bytes but nothing
 * in it. The snapshot is taken when two, 50 ms apart, agree. */
static char *
settled_snapshot(void)
{
	char *last = state_snapshot();

	for (guint i = 0; i < 100; i++) {
		char *now;

		g_usleep(50 * 1000);
		now = state_snapshot();
		if (g_str_equal(now, last)) {
			g_free(now);
			break;
		}
		g_free(last);
		last = now;
	}
	return last;
}

/* Refused with InvalidArgs, a short message that does not repeat the
 * path, and nothing written. */
static void
assert_refused(const char *path)
{
	g_autofree char *before = settled_snapshot();
	g_autofree char *after = NULL;
	g_autoptr(GError) error = backup(path);

	harness_assert_dbus_error(error, E_ARGS);
	g_test_message("%.60s: %s", path, error->message);
	g_assert_cmpuint(strlen(error->message), <, 300);
	g_assert_null(strstr(error->message, h.tmpdir));
	after = state_snapshot();
	g_assert_cmpstr(after, ==, before);
}

static guint
audit_rows(void)
{
	g_autofree char *n = live_sql("SELECT count(*) FROM audit;");

	return (guint)g_ascii_strtoull(n, NULL, 10);
}

static guint
longest_log_line(void)
{
	g_autofree char *log = NULL;
	g_auto(GStrv) lines = NULL;
	guint longest = 0;

	g_assert_true(g_file_get_contents(h.log_path, &log, NULL, NULL));
	lines = g_strsplit(log, "\n", -1);
	for (guint i = 0; lines[i]; i++)
		longest = MAX(longest, (guint)strlen(lines[i]));
	return longest;
}

/* ---- the state directory's files ------------------------------------ */

static void
assert_mode(const char *path, guint mode)
{
	struct stat st;

	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 07777, ==, mode);
}

/* slotd was started under umask 022 (main()). */
static void
test_state_files_are_private(void)
{
	static const char *const files[] = { "slotd.db", "slotd.db-wal",
					     "slotd.db-shm" };

	assert_mode(h.state_dir, 0700);
	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path = state_file(files[i]);

		assert_mode(path, 0600);
	}
}

/* ---- refusals ------------------------------------------------------- */

static void
test_refuses_the_database_and_its_files(void)
{
	static const char *const names[] = { "slotd.db-wal", "slotd.db-shm",
					     "slotd.db", "slotd.db-journal",
					     "new-file.db" };
	guint rows = audit_rows();

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *path = state_file(names[i]);

		assert_refused(path);
	}
	assert_refused(h.state_dir);
	g_assert_cmpuint(audit_rows(), ==, rows);
}

/* Below the state directory too: the rule is the directory, not a
 * list of names. */
static void
test_refuses_below_the_state_dir(void)
{
	g_autofree char *sub = state_file("backups");
	g_autofree char *path = g_build_filename(sub, "copy.db", NULL);

	g_assert_cmpint(mkdir(sub, 0700), ==, 0);
	assert_refused(path);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpint(rmdir(sub), ==, 0);
}

static void
test_refuses_symbolic_links(void)
{
	g_autofree char *db = state_file("slotd.db");
	g_autofree char *wal = state_file("slotd.db-wal");
	g_autofree char *fresh = state_file("fresh.db");
	g_autofree char *to_db = temp_file("link-to-db.db");
	g_autofree char *to_wal = temp_file("link-to-wal");
	g_autofree char *dangling = temp_file("link-to-new.db");
	g_autofree char *dir_link = temp_file("state-link");
	g_autofree char *via_dir = g_build_filename(dir_link, "copy.db", NULL);

	g_assert_cmpint(symlink(db, to_db), ==, 0);
	g_assert_cmpint(symlink(wal, to_wal), ==, 0);
	g_assert_cmpint(symlink(fresh, dangling), ==, 0);
	g_assert_cmpint(symlink(h.state_dir, dir_link), ==, 0);
	assert_refused(to_db);
	assert_refused(to_wal);
	assert_refused(dangling);
	assert_refused(via_dir);
	g_assert_false(g_file_test(fresh, G_FILE_TEST_EXISTS));
}

static void
test_refuses_an_existing_file(void)
{
	g_autofree char *path = temp_file("existing.db");
	g_autofree char *bytes = NULL;

	g_assert_true(g_file_set_contents(path, "keep me", -1, NULL));
	assert_refused(path);
	g_assert_true(g_file_get_contents(path, &bytes, NULL, NULL));
	g_assert_cmpstr(bytes, ==, "keep me");
}

/* A 1 MB path: a short answer, and no line of that size in the log. */
static void
test_refuses_a_huge_path(void)
{
	g_autofree char *path = g_strnfill(ONE_MB, 'a');

	path[0] = '/';
	assert_refused(path);
	for (guint i = 1; i < ONE_MB; i += 200)
		path[i] = '/';
	assert_refused(path);
	g_assert_cmpuint(longest_log_line(), <, 1000);
}

static void
test_refuses_bad_text_and_missing_dirs(void)
{
	g_autofree char *control = temp_file("line\nbreak.db");
	g_autofree char *missing = temp_file("no/such/dir/copy.db");
	g_autofree char *slash = g_strconcat(h.tmpdir, "/dir/", NULL);

	assert_refused(control);
	assert_refused(missing);
	assert_refused(slash);
	assert_refused("relative.db");
	g_assert_false(g_file_test(control, G_FILE_TEST_EXISTS));
}

/* ---- a good backup --------------------------------------------------- */

static void
test_good_backup_is_new_whole_and_audited(void)
{
	g_autofree char *path = temp_file("good-copy.db");
	g_autofree char *check = NULL, *count = NULL, *live = NULL;
	g_autofree char *digest = NULL, *again = NULL, *row = NULL;
	g_autofree char *expect = g_strdup_printf(
		"%u|%s|file=good-copy.db path-sha256=", (guint)getuid(),
		g_dbus_connection_get_unique_name(h.conn));
	g_autoptr(GError) error = backup(path);

	g_assert_no_error(error);
	assert_mode(path, 0600);
	check = sqlite(path, "PRAGMA integrity_check;");
	g_assert_cmpstr(check, ==, "ok");
	count = sqlite(path, "SELECT count(*) FROM booking;");
	live = live_sql("SELECT count(*) FROM booking;");
	g_assert_cmpstr(count, ==, live);
	row = live_sql("SELECT uid || '|' || caller || '|' || detail FROM "
		       "audit WHERE action = 'backup' ORDER BY id DESC "
		       "LIMIT 1;");
	g_assert_true(g_str_has_prefix(row, expect));
	g_assert_true(g_str_has_suffix(row, " result=ok"));
	g_assert_null(strstr(row, h.tmpdir));
	/* The same path again: refused, and the copy stays as it was. */
	digest = file_digest(path);
	assert_refused(path);
	again = file_digest(path);
	g_assert_cmpstr(again, ==, digest);
}

/* ---- after all that: bookings survive a SIGKILL --------------------- */

static GPtrArray *
free_slots(guint n)
{
	GVariantDict d;
	g_autoptr(GVariant) slots = NULL;
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "municipality", "s", "Lohja");
	g_variant_dict_insert(&d, "limit", "u", 100);
	slots = harness_find(&h, SNA, g_variant_dict_end(&d));
	for (gsize i = 0; i < g_variant_n_children(slots) && ids->len < n;
	     i++) {
		const char *id;
		guint free;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id, NULL,
				    NULL, NULL, &free, NULL);
		if (free > 0)
			g_ptr_array_add(ids, g_strdup(id));
	}
	g_assert_cmpuint(ids->len, ==, n);
	return ids;
}

static char *
book(const char *slot, guint n)
{
	g_autofree char *ref = g_strdup_printf("backup-test-%u", n);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(
		&h, "org.slotd.Scheduler1", "Book",
		g_variant_new("(ss@a{sv})", slot, ref,
			      g_variant_new("a{sv}", NULL)),
		"(s)", &error);
	char *id;

	g_assert_no_error(error);
	g_variant_get(r, "(s)", &id);
	return id;
}

static void
assert_booked(const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Scheduler1",
					     "GetBooking",
					     g_variant_new("(s)", id),
					     "(a{sv})", &error);
	g_autoptr(GVariant) d = NULL;
	const char *status = NULL;

	g_assert_no_error(error);
	d = g_variant_get_child_value(r, 0);
	g_assert_true(g_variant_lookup(d, "status", "&s", &status));
	g_assert_cmpstr(status, ==, "booked");
}

static void
test_bookings_survive_a_kill(void)
{
	g_autoptr(GPtrArray) slots = free_slots(5);
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *check = NULL;
	g_autofree char *config = g_strdup(h.config);

	for (guint i = 0; i < slots->len; i++)
		g_ptr_array_add(ids, book(slots->pdata[i], i));
	/* Refused backups aimed at the live files, once more. */
	test_refuses_the_database_and_its_files();
	g_assert_cmpint(harness_stop_slotd(&h, SIGKILL), ==, -1);
	harness_start_slotd(&h, config);
	for (guint i = 0; i < ids->len; i++)
		assert_booked(ids->pdata[i]);
	check = live_sql("PRAGMA integrity_check;");
	g_assert_cmpstr(check, ==, "ok");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* The files must be private by slotd's doing, not the umask's. */
	umask(022);
	harness_start_example(&h, 14);
	g_test_add_func("/backup/state-files-are-private",
			test_state_files_are_private);
	g_test_add_func("/backup/refuses-the-database-and-its-files",
			test_refuses_the_database_and_its_files);
	g_test_add_func("/backup/refuses-below-the-state-dir",
			test_refuses_below_the_state_dir);
	g_test_add_func("/backup/refuses-symbolic-links",
			test_refuses_symbolic_links);
	g_test_add_func("/backup/refuses-an-existing-file",
			test_refuses_an_existing_file);
	g_test_add_func("/backup/refuses-a-huge-path",
			test_refuses_a_huge_path);
	g_test_add_func("/backup/refuses-bad-text-and-missing-dirs",
			test_refuses_bad_text_and_missing_dirs);
	g_test_add_func("/backup/good-backup-is-new-whole-and-audited",
			test_good_backup_is_new_whole_and_audited);
	g_test_add_func("/backup/bookings-survive-a-kill",
			test_bookings_survive_a_kill);
	return harness_finish(&h, g_test_run());
}
