/* Test harness: a private dbus-daemon, the real slotd on it, and the
 * clients (our slotctl, gdbus, dbus-send, a GDBus connection). */
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

typedef struct {
	char *tmpdir;
	char *address;		/* of the private bus */
	GSubprocess *bus;
	GSubprocess *slotd;
	char *config;		/* entry point used */
	char *state_dir;
	char *plugin_dir;	/* --plugin-dir; NULL: none given */
	GDBusConnection *conn;
	char *test_time;	/* SLOTD_TEST_TIME, or NULL */
	char *log_path;		/* slotd's stderr */
	guint horizon_days;	/* rewrites the copied example; 0: as is */
	gboolean early;		/* start: wait for the name only */
} Harness;

const char *harness_build_root(void);
const char *harness_source_root(void);
/* A fresh temp dir and private bus; no daemon yet. */
void harness_init(Harness *h);
/* Copies the example region into tmpdir/config and returns the entry
 * point (the files can then be edited by the test). */
char *harness_copy_example(Harness *h);
/* Starts slotd with `config` (NULL: a copy of the example) and waits
 * for its bus name and a complete horizon. */
void harness_start_slotd(Harness *h, const char *config);
/* Sends `signal`, waits for exit, returns the exit status (-1 killed). */
int harness_stop_slotd(Harness *h, int signal);
void harness_clear(Harness *h);
/* The usual start of a daemon test: a fresh bus, a copy of the example
 * region with `horizon_days`, and slotd's clock at Monday 2026-12-07
 * 07:00 Helsinki time. */
void harness_start_example(Harness *h, guint horizon_days);
/* The usual end: slotd must stop cleanly on SIGTERM (exit 0); clears
 * the harness and returns `status` (g_test_run()'s). */
int harness_finish(Harness *h, int status);
/* Replaces `key=...` in a GKeyFile group of `path` (writes it back). */
void harness_set_key(const char *path, const char *group, const char *key,
		     const char *value);
/* The first n slots of a FindSlots call (array of (ssxxua{sv})). */
GVariant *harness_find(Harness *h, const char *service, GVariant *query);
/* Scheduler1.Book of `slot` for `client` with `options` (an a{sv},
 * floating taken; NULL: none): the booking id, or NULL and `error`. */
char *harness_book(Harness *h, const char *slot, const char *client,
		   GVariant *options, GError **error);
/* The booking's `sequence` (GetBooking), which every change moves. */
gint64 harness_sequence(Harness *h, const char *booking);

/* A synchronous call on /org/slotd/Slotd1; NULL and `error` on failure. */
GVariant *harness_call(Harness *h, const char *interface, const char *method,
		       GVariant *args, const char *reply_type, GError **error);
/* A Planner1 ...Fd method (the rows in a memfd): the rows (aa{sv}) read
 * from the file descriptor the reply carries, or NULL and `error`.
 * Asserts that the memfd is sealed against writing, growing and
 * shrinking and that it holds exactly one normal-form aa{sv}. */
GVariant *harness_call_rows_fd(Harness *h, const char *method,
			       GVariant *args, GError **error);
/* Runs build/tools/slotctl --address ADDR ARGS...; returns exit code.
 * *ret_out / *ret_err (NULL or a string from an earlier call) are
 * replaced. */
int harness_slotctl(Harness *h, char **ret_out, char **ret_err, ...)
	G_GNUC_NULL_TERMINATED;
/* Runs any command (argv) with DBUS_SESSION_BUS_ADDRESS set. */
int harness_run(Harness *h, char **ret_out, char **ret_err,
		const char *const *argv);
/* Local Europe/Helsinki time -> UTC seconds. */
gint64 harness_local(int year, int month, int day, int hour, int minute);
/* A second caller (nobody, 65534) in group "users" when we are root
 * and setpriv is there; HARNESS_NO_GROUP otherwise (skip the test). */
#define HARNESS_NO_GROUP ((gid_t)-1)
gid_t harness_second_group(void);
/* harness_init, but on a bus any local user may connect to. */
void harness_init_open(Harness *h);
/* Runs `command` as nobody in `group` (setpriv); the exit code. */
int harness_run_as_nobody(Harness *h, gid_t group, const char *const *command,
			  char **ret_out, char **ret_err);
/* Waits (at most `seconds`, scaled for a wrapped daemon) until slotd's
 * log holds `text`; fails the test otherwise. */
void harness_wait_log(Harness *h, const char *text, guint seconds);
/* Asserts a D-Bus error name. */
void harness_assert_dbus_error(GError *error, const char *name);
