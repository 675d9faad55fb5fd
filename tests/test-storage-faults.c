/* Storage faults on the real daemon, with real kernel mechanisms:
 *
 * - a full disk: the state directory is a small tmpfs of the test's own
 *   (a private mount namespace, so nothing outlives the test), filled
 *   to the last block by a file; changes get
 *   org.slotd.Error.StorageUnavailable, nothing is half-written, reads
 *   go on, and once the file is removed changes work again without a
 *   restart;
 * - a read-only database file: slotd runs without CAP_DAC_OVERRIDE
 *   (setpriv), as a service user would, on a file of mode 0444; changes
 *   get StorageUnavailable, reads go on; writable again, it recovers.
 *
 * Where the test may not mount (no CAP_SYS_ADMIN) the full-disk case is
 * skipped and says so. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define SNA "needs-assessment-west"
#define SCHEDULER "org.slotd.Scheduler1"
#define E_STORAGE "org.slotd.Error.StorageUnavailable"

static Harness h;
static gboolean have_tmpfs;
static char *filler;

static char *
sql(const char *query)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	const char *argv[] = { "sqlite3", "-readonly", db, query, NULL };
	char *out = NULL;

	g_assert_cmpint(harness_run(&h, &out, NULL, argv), ==, 0);
	return g_strstrip(out);
}

static GVariant *
no_options(void)
{
	return g_variant_new("a{sv}", NULL);
}

/* Free W-SNA-LV slot ids, earliest first. */
static GPtrArray *
free_slots(void)
{
	GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
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
		if (g_str_equal(unit, "W-SNA-LV") && free == 3)
			g_ptr_array_add(ids, g_strdup(id));
	}
	g_assert_cmpuint(ids->len, >=, 20);
	return ids;
}

/* NULL and the D-Bus error name in *ret_error_name on failure. */
static GVariant *
call(const char *method, GVariant *args, const char *type,
     char **ret_error_name)
{
	g_autoptr(GError) error = NULL;
	GVariant *r = harness_call(&h, SCHEDULER, method, args, type, &error);

	if (!r)
		*ret_error_name = g_dbus_error_get_remote_error(error);
	return r;
}

static char *
book(const char *slot, const char *ref, char **ret_error_name)
{
	g_autoptr(GVariant) r = call(
		"Book", g_variant_new("(ss@a{sv})", slot, ref, no_options()),
		"(s)", ret_error_name);
	char *id = NULL;

	if (r)
		g_variant_get(r, "(s)", &id);
	return id;
}

static void
assert_change_refused(const char *method, GVariant *args)
{
	g_autofree char *name = NULL;
	g_autoptr(GVariant) r = call(method, args, NULL, &name);

	if (r)
		g_error("%s succeeded on a full or read-only store", method);
	g_assert_cmpstr(name, ==, E_STORAGE);
}

static void
assert_reads_work(const char *booking)
{
	g_autofree char *name = NULL;
	g_autoptr(GVariant) got = call("GetBooking",
				       g_variant_new("(s)", booking),
				       "(a{sv})", &name);
	g_autoptr(GVariant) listed = call(
		"ListBookings", g_variant_new("(@a{sv})", no_options()),
		"(a(sssxxs))", &name);
	g_autoptr(GPtrArray) found = free_slots();

	g_assert_nonnull(got);
	g_assert_nonnull(listed);
}

/* Counters match bookings; no booking of a refused call is there. */
static void
assert_nothing_half_written(const char *refused_like)
{
	g_autofree char *q = g_strdup_printf(
		"SELECT count(*) FROM booking WHERE client_ref LIKE '%s';",
		refused_like);
	g_autofree char *refused = sql(q);
	g_autofree char *bad = sql(
		"SELECT count(*) FROM slot s WHERE s.booked != "
		"(SELECT coalesce(sum(u.seats), 0) FROM booking_use u "
		" JOIN booking b ON b.id = u.booking WHERE u.slot = s.id "
		" AND b.status NOT IN ('cancelled', 'entered-in-error')) "
		"OR s.held != (SELECT coalesce(sum(seats), 0) FROM hold "
		" WHERE slot = s.id) OR s.booked + s.held > s.capacity;");
	g_autofree char *integrity = sql("PRAGMA integrity_check;");

	g_assert_cmpstr(refused, ==, "0");
	g_assert_cmpstr(bad, ==, "0");
	g_assert_cmpstr(integrity, ==, "ok");
}

static void
assert_every_change_refused(GPtrArray *slots, const char *booking)
{
	const char *series[] = { slots->pdata[10], slots->pdata[11], NULL };

	assert_change_refused("Book",
			      g_variant_new("(ss@a{sv})",
					    (char *)slots->pdata[12],
					    "refused-2", no_options()));
	assert_change_refused("BookSeries",
			      g_variant_new("(^as&s@a{sv})", series,
					    "refused-3", no_options()));
	assert_change_refused("Cancel", g_variant_new("(ss)", booking, "x"));
	assert_change_refused("Reschedule",
			      g_variant_new("(ss)", booking,
					    (char *)slots->pdata[13]));
	assert_change_refused("SetStatus",
			      g_variant_new("(ss)", booking,
					    "entered-in-error"));
	assert_change_refused("Hold",
			      g_variant_new("(su)", (char *)slots->pdata[14],
					    60));
}

/* ---- a full disk ---------------------------------------------------- */

static void
fill_disk(void)
{
	static const gsize sizes[] = { 1 << 20, 1 << 16, 1 << 12, 512, 1 };
	g_autofree char *chunk = g_malloc0(1 << 20);
	int fd;

	filler = g_build_filename(h.state_dir, "filler", NULL);
	fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	g_assert_cmpint(fd, >=, 0);
	for (guint i = 0; i < G_N_ELEMENTS(sizes); i++)
		while (write(fd, chunk, sizes[i]) == (ssize_t)sizes[i])
			;
	g_assert_cmpint(errno, ==, ENOSPC);
	close(fd);
}

/* Books until the store refuses (SQLite may still have room in pages
 * it owns); every booking before that must have been whole. */
static guint
book_until_refused(GPtrArray *slots)
{
	for (guint i = 0; i < 10; i++) {
		g_autofree char *name = NULL;
		g_autofree char *ref = g_strdup_printf("refused-1-%u", i);
		g_autofree char *id = book(slots->pdata[i], ref, &name);

		if (!id) {
			g_assert_cmpstr(name, ==, E_STORAGE);
			return i;
		}
	}
	g_error("the store never filled up");
	return 0;
}

static void
test_full_disk(void)
{
	g_autoptr(GPtrArray) slots = NULL;
	g_autofree char *booking = NULL, *again = NULL, *name = NULL;
	guint accepted;

	if (!have_tmpfs) {
		g_test_skip("cannot mount a tmpfs here (no CAP_SYS_ADMIN)");
		return;
	}
	/* A clean stop leaves no WAL behind: every write needs new room. */
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_start_slotd(&h, NULL);
	slots = free_slots();
	booking = book(slots->pdata[19], "before-full", &name);
	g_assert_nonnull(booking);
	fill_disk();
	accepted = book_until_refused(slots);
	g_print("storage-faults: %u bookings fitted in room SQLite had, "
		"then StorageUnavailable\n", accepted);
	assert_every_change_refused(slots, booking);
	assert_reads_work(booking);
	g_assert_cmpint(unlink(filler), ==, 0);
	/* Room again: the same daemon takes changes at once. */
	again = book(slots->pdata[15], "after-full", &name);
	g_assert_nonnull(again);
	g_assert_nonnull(call("Cancel", g_variant_new("(ss)", booking, "x"),
			      "()", &name));
	assert_nothing_half_written("refused-%");
}

/* ---- a read-only database file -------------------------------------- */

static gboolean
setpriv_works(void)
{
	const char *argv[] = { "setpriv", "--bounding-set",
			       "-dac_override,-dac_read_search", "true",
			       NULL };

	return harness_run(&h, NULL, NULL, argv) == 0;
}

static void
start_without_dac_override(void)
{
	const char *old = g_getenv("SLOTD_TEST_WRAPPER");
	g_autofree char *saved = g_strdup(old);
	g_autofree char *wrapper = g_strdup_printf(
		"setpriv --bounding-set -dac_override,-dac_read_search %s",
		old ? old : "");

	g_setenv("SLOTD_TEST_WRAPPER", wrapper, TRUE);
	harness_start_slotd(&h, NULL);
	if (saved)
		g_setenv("SLOTD_TEST_WRAPPER", saved, TRUE);
	else
		g_unsetenv("SLOTD_TEST_WRAPPER");
}

static void
test_read_only_file(void)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	g_autoptr(GPtrArray) slots = free_slots();
	g_autofree char *booking = NULL, *name = NULL, *after = NULL;

	if (!setpriv_works()) {
		g_test_skip("setpriv cannot drop CAP_DAC_OVERRIDE here");
		return;
	}
	booking = book(slots->pdata[18], "before-read-only", &name);
	g_assert_nonnull(booking);
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	g_assert_cmpint(chmod(db, 0444), ==, 0);
	start_without_dac_override();
	assert_every_change_refused(slots, booking);
	assert_reads_work(booking);
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	g_assert_cmpint(chmod(db, 0644), ==, 0);
	harness_start_slotd(&h, NULL);
	after = book(slots->pdata[16], "after-read-only", &name);
	g_assert_nonnull(after);
	assert_nothing_half_written("refused-%");
}

/* A private mount namespace, taken while the process has one thread
 * (the kernel refuses it later): nothing mounted in it outlives us. */
static gboolean
private_mounts(void)
{
	return unshare(CLONE_NEWNS) == 0 &&
	       mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

/* A 24 MiB tmpfs for the state. */
static gboolean
mount_small_state_dir(void)
{
	g_assert_cmpint(g_mkdir_with_parents(h.state_dir, 0750), ==, 0);
	return mount("slotd-test", h.state_dir, "tmpfs", 0,
		     "size=24m,mode=0750") == 0;
}

/* Lines of slotd's log (of its last start) that have `what`. */
static guint
log_count(const char *what)
{
	g_autofree char *log = NULL;
	guint n = 0;

	g_assert_true(g_file_get_contents(h.log_path, &log, NULL, NULL));
	for (const char *p = log; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* A day later on the read-only file: the horizon needs a day more,
 * which the store refuses. The extension says so once and tries again
 * a minute later; it does not try again at once, turn after turn of the
 * loop (as it did when its source was an idle one, on which a later
 * ready time has no effect: a warning every turn). */
static void
test_extension_retries_later(void)
{
	g_autofree char *db = g_build_filename(h.state_dir, "slotd.db", NULL);
	g_autofree char *name = NULL;
	g_autofree char *today = h.test_time;
	g_autoptr(GVariant) listed = NULL;

	if (!setpriv_works()) {
		g_test_skip("setpriv cannot drop CAP_DAC_OVERRIDE here");
		return;
	}
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	g_assert_cmpint(chmod(db, 0444), ==, 0);
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 8, 7, 0));
	h.early = TRUE;
	start_without_dac_override();
	harness_wait_log(&h, "cannot materialise slots", 10);
	g_usleep(1500 * 1000);
	g_assert_cmpuint(log_count("cannot materialise slots"), ==, 1);
	/* The loop answers meanwhile. */
	listed = harness_call(&h, SCHEDULER, "ListServices", NULL,
			      "(a(sss))", NULL);
	g_assert_nonnull(listed);
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	g_assert_cmpint(chmod(db, 0644), ==, 0);
	g_free(h.test_time);
	h.test_time = g_steal_pointer(&today);
	h.early = FALSE;
	harness_start_slotd(&h, NULL);
}

int
main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	have_tmpfs = private_mounts();
	harness_init(&h);
	have_tmpfs = have_tmpfs && mount_small_state_dir();
	h.horizon_days = 14;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	harness_start_slotd(&h, NULL);
	g_test_add_func("/storage-faults/full-disk/refused-reads-recovers",
			test_full_disk);
	g_test_add_func("/storage-faults/read-only-file/refused-reads-recovers",
			test_read_only_file);
	g_test_add_func("/storage-faults/read-only-file/extension-retries-later",
			test_extension_retries_later);
	status = g_test_run();
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	if (have_tmpfs)
		umount2(h.state_dir, MNT_DETACH);
	harness_clear(&h);
	g_free(filler);
	return status;
}
