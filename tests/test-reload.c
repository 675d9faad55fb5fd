/* Reload as an administrator does it: drop a plugin module and a
 * config file into the running daemon's directories and call
 * Admin1.Reload, `slotctl reload` or send SIGHUP. New services go live
 * without a restart and nothing booked or held is lost; a broken config
 * file or plugin changes nothing and the error says why; a removed
 * offering's bookings are flagged, never deleted; a service whose
 * plugin is missing is shown unavailable while the rest are served.
 * The daemon's clock starts on Monday 2026-12-07 07:00. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define SNA "needs-assessment-west"

static Harness h;
static char *services_dir;	/* the running config's services.d */
static char *before_booking;	/* booked before any reload */
static char *before_hold;	/* held before any reload */
static char *held_slot;		/* the slot of that hold */

/* ---- files an administrator drops in -------------------------------- */

/* Writes a file by rename, as `install` and package managers do. */
static void
install_bytes(const char *path, const char *bytes, gsize len)
{
	g_autofree char *tmp = g_strconcat(path, ".new", NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents_full(tmp, bytes, len, G_FILE_SET_CONTENTS_NONE,
				 0644, &error);
	g_assert_no_error(error);
	g_assert_cmpint(rename(tmp, path), ==, 0);
}

static void
install_copy(const char *from, const char *dir, const char *name)
{
	g_autofree char *bytes = NULL;
	g_autofree char *to = g_build_filename(dir, name, NULL);
	gsize len;
	g_autoptr(GError) error = NULL;

	g_file_get_contents(from, &bytes, &len, &error);
	g_assert_no_error(error);
	install_bytes(to, bytes, len);
}

static void
install_plugin(const char *built, const char *name)
{
	g_autofree char *from = g_build_filename(harness_build_root(), built,
						 NULL);

	install_copy(from, h.plugin_dir, name);
}

static void
install_config(const char *name, const char *text)
{
	g_autofree char *to = g_build_filename(services_dir, name, NULL);

	install_bytes(to, text, strlen(text));
}

static void
remove_file(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	g_assert_cmpint(unlink(path), ==, 0);
}

/* ---- bus helpers ---------------------------------------------------- */

static GVariant *
scheduler(const char *method, GVariant *args, const char *reply,
	  GError **error)
{
	return harness_call(&h, "org.slotd.Scheduler1", method, args, reply,
			    error);
}

static gboolean
admin_reload(GError **error)
{
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1", "Reload",
					     NULL, "()", error);

	return r != NULL;
}

/* GetStatus' "last-reload". */
static GVariant *
last_reload(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1",
					     "GetStatus", NULL, "(a{sv})",
					     &error);
	g_autoptr(GVariant) status = NULL;
	GVariant *last;

	g_assert_no_error(error);
	status = g_variant_get_child_value(r, 0);
	last = g_variant_lookup_value(status, "last-reload",
				      G_VARIANT_TYPE_VARDICT);
	g_assert_nonnull(last);
	return last;
}

/* The last reload's list `key`, joined with ", "; NULL when absent. */
static char *
last_reload_list(const char *key)
{
	g_autoptr(GVariant) last = last_reload();
	g_autofree const char **ids = NULL;

	if (!g_variant_lookup(last, key, "^a&s", &ids))
		return NULL;
	return g_strjoinv(", ", (char **)ids);
}

static GVariant *
list_services(void)
{
	g_autoptr(GError) error = NULL;
	GVariant *r = scheduler("ListServices", NULL, "(a(sss))", &error);

	g_assert_no_error(error);
	return r;
}

/* The title ListServices gives a service, or NULL when not listed. */
static char *
service_title(const char *service)
{
	g_autoptr(GVariant) r = list_services();
	g_autoptr(GVariantIter) iter = NULL;
	const char *id, *kind, *title;

	g_variant_get(r, "(a(sss))", &iter);
	while (g_variant_iter_next(iter, "(&s&s&s)", &id, &kind, &title))
		if (g_str_equal(id, service))
			return g_strdup(title);
	return NULL;
}

/* The first free slot of `service` at `unit` from `day` on (local). */
static char *
free_slot(const char *service, const char *unit, int day, int hour)
{
	GVariantDict d;
	g_autoptr(GVariant) slots = NULL;
	gint64 from = harness_local(2026, 12, day, hour, 0);

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "from", "x", from);
	g_variant_dict_insert(&d, "limit", "u", 500);
	slots = harness_find(&h, service, g_variant_dict_end(&d));
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id, *slot_unit;
		gint64 start;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id,
				    &slot_unit, &start, NULL, NULL, NULL);
		if (g_str_equal(slot_unit, unit) && start >= from)
			return g_strdup(id);
	}
	return NULL;
}

static char *
book_slot(const char *slot, const char *client, GError **error)
{
	g_autoptr(GVariant) r = NULL;
	char *id = NULL;

	r = scheduler("Book",
		      g_variant_new("(ss@a{sv})", slot, client,
				    g_variant_new("a{sv}", NULL)),
		      "(s)", error);
	if (r)
		g_variant_get(r, "(s)", &id);
	return id;
}

/* Books the first free slot; the service must be live. */
static char *
book_first(const char *service, const char *unit, const char *client)
{
	g_autofree char *slot = free_slot(service, unit, 8, 0);
	g_autoptr(GError) error = NULL;
	char *id;

	g_assert_nonnull(slot);
	id = book_slot(slot, client, &error);
	g_assert_no_error(error);
	return id;
}

static GVariant *
get_booking(const char *id)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = scheduler("GetBooking",
					  g_variant_new("(s)", id), "(a{sv})",
					  &error);

	g_assert_no_error(error);
	return g_variant_get_child_value(r, 0);
}

static void
assert_booking(const char *id, const char *status, gboolean rebook)
{
	g_autoptr(GVariant) b = get_booking(id);
	const char *s;
	gboolean flagged;

	g_assert_true(g_variant_lookup(b, "status", "&s", &s));
	g_assert_cmpstr(s, ==, status);
	g_assert_true(g_variant_lookup(b, "needs-rebooking", "b", &flagged));
	g_assert_cmpint(flagged, ==, rebook);
}

/* Nothing from before the reloads is lost: the booking stands and the
 * hold still holds its seat (checked for good at the end by booking
 * with it). */
static void
assert_nothing_lost(void)
{
	assert_booking(before_booking, "booked", FALSE);
}

/* ---- adding services ------------------------------------------------ */

static void
test_admin_reload_adds_plugin_and_service(void)
{
	g_autofree char *conf = g_build_filename(
		harness_source_root(), "plugins", "example", "example.conf",
		NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *title = NULL, *id = NULL, *out = NULL;

	g_assert_null(service_title("nurse-consultation-example"));
	install_plugin("plugins/example.so", "example.so");
	install_copy(conf, services_dir, "example.conf");
	g_assert_true(admin_reload(&error));
	g_assert_no_error(error);
	title = service_title("nurse-consultation-example");
	g_assert_cmpstr(title, ==, "Sairaanhoitajan vastaanotto (esimerkki)");
	id = book_first("nurse-consultation-example", "W-NURSE-LOH",
			"client-reload-1");
	assert_booking(id, "booked", FALSE);
	g_assert_cmpint(harness_slotctl(&h, &out, NULL, "plugins", NULL), ==,
			0);
	g_assert_nonnull(strstr(out, "example"));
	assert_nothing_lost();
}

static const char loader_service[] =
	"[unit W-LOADER]\n"
	"municipality=Vihti\n"
	"title-fi=Testiyksikkö\n"
	"title-sv=Testenhet\n"
	"languages=fi\n"
	"\n"
	"[service loader-visits]\n"
	"plugin=loader-visit\n"
	"title-fi=Latauskokeen käynnit\n"
	"title-sv=Laddningstestets besök\n"
	"\n"
	"[offering W-LOADER loader-visits]\n"
	"slot-minutes=30\n"
	"windows=day\n"
	"window-day=09:00-12:00 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\n";

static void
test_slotctl_reload_adds_plugin_and_service(void)
{
	g_autofree char *out = NULL, *err = NULL, *id = NULL, *title = NULL;

	install_plugin("tests/loader-good.so", "loader-good.so");
	install_config("loader.conf", loader_service);
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "reload", NULL), ==,
			0);
	title = service_title("loader-visits");
	g_assert_nonnull(title);
	id = book_first("loader-visits", "W-LOADER", "client-reload-2");
	assert_booking(id, "booked", FALSE);
	assert_nothing_lost();
}

/* Ends with the plugin's key, which callers append. */
static const char east_service[] =
	"[service nurse-consultation-east]\n"
	"plugin=example-visit\n"
	"title-fi=Sairaanhoitajan vastaanotto, Porvoo\n"
	"title-sv=Sjukskötarmottagning, Borgå\n"
	"\n"
	"[offering E-SO-POR nurse-consultation-east]\n"
	"slot-minutes=20\n"
	"windows=afternoon\n"
	"window-afternoon=12:00-14:00 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\n";

static void
test_sighup_adds_service(void)
{
	g_autofree char *title = NULL, *id = NULL;
	g_autofree char *text = g_strconcat(east_service,
					    "max-visits-per-week=1\n", NULL);

	install_config("nurse-east.conf", text);
	g_subprocess_send_signal(h.slotd, SIGHUP);
	for (int i = 0; i < 400 && !title; i++) {
		title = service_title("nurse-consultation-east");
		if (!title)
			g_usleep(50000);
	}
	g_assert_cmpstr(title, ==, "Sairaanhoitajan vastaanotto, Porvoo");
	/* The new offering's slots are made before the reload ends;
	 * GetStatus names it, and who asked. */
	for (int i = 0; i < 400; i++) {
		g_autoptr(GVariant) last = last_reload();
		const char *by = "";

		g_variant_lookup(last, "by", "&s", &by);
		if (g_str_equal(by, "SIGHUP"))
			break;
		g_usleep(50000);
	}
	{
		g_autoptr(GVariant) last = last_reload();
		g_autofree char *reshaped =
			last_reload_list("offerings-reshaped");
		const char *by = NULL;

		g_assert_true(g_variant_lookup(last, "by", "&s", &by));
		g_assert_cmpstr(by, ==, "SIGHUP");
		g_assert_nonnull(strstr(reshaped,
					"E-SO-POR/nurse-consultation-east"));
	}
	id = book_first("nurse-consultation-east", "E-SO-POR",
			"client-reload-3");
	assert_booking(id, "booked", FALSE);
	assert_nothing_lost();
}

/* ---- broken changes ------------------------------------------------- */

static const char typo_service[] =
	"[service nurse-consultation-typo]\n"
	"plugin=example-visit\n"
	"title-fi=Vastaanotto\n"
	"title-sv=Mottagning\n"
	"\n"
	"[offering E-SO-LOV nurse-consultation-typo]\n"
	"windows=morning\n"
	"window-morning=08:00-10:00 FREQ=WEEKLY;BYDAY=MO\n"
	"max-visits-per-weak=3\n";

static void
test_broken_config_changes_nothing(void)
{
	g_autoptr(GVariant) before = list_services();
	g_autoptr(GVariant) after = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *err = NULL, *id = NULL;

	install_config("zz-typo.conf", typo_service);
	g_assert_false(admin_reload(&error));
	harness_assert_dbus_error(error, "org.slotd.Error.InvalidConfig");
	{
		g_autoptr(GVariant) last = last_reload();
		const char *by = NULL;

		g_assert_true(g_variant_lookup(last, "by", "&s", &by));
		g_assert_cmpstr(by, ==,
				g_dbus_connection_get_unique_name(h.conn));
	}
	g_assert_nonnull(strstr(error->message,
				"services.d/zz-typo.conf: [offering E-SO-LOV "
				"nurse-consultation-typo] "
				"max-visits-per-weak: unknown key"));
	g_assert_cmpint(harness_slotctl(&h, NULL, &err, "reload", NULL), ==,
			1);
	g_assert_nonnull(strstr(err, "org.slotd.Error.InvalidConfig"));
	g_assert_nonnull(strstr(err, "max-visits-per-weak"));
	/* GetStatus tells the refusal, and no offering as changed. */
	{
		g_autoptr(GVariant) last = last_reload();
		const char *why = NULL;

		g_assert_true(g_variant_lookup(last, "error", "&s", &why));
		g_assert_nonnull(strstr(why, "max-visits-per-weak"));
		g_assert_false(g_variant_lookup(last, "offerings-reshaped",
						"as", NULL));
	}
	after = list_services();
	g_assert_true(g_variant_equal(before, after));
	id = book_first("nurse-consultation-example", "W-NURSE-LOH",
			"client-reload-4");
	assert_booking(id, "booked", FALSE);
	remove_file(services_dir, "zz-typo.conf");
	g_clear_error(&error);
	g_assert_true(admin_reload(&error));
	assert_nothing_lost();
}

/* The plugin's own check of its key, through its configure hook. */
static void
test_plugin_key_out_of_range(void)
{
	g_autoptr(GVariant) before = list_services();
	g_autoptr(GVariant) after = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *bad = g_strconcat(east_service,
					   "max-visits-per-week=30\n", NULL);
	g_autofree char *good = g_strconcat(east_service,
					    "max-visits-per-week=1\n", NULL);

	/* 30 visits a week is outside the plugin's 1-14. */
	install_config("nurse-east.conf", bad);
	g_assert_false(admin_reload(&error));
	harness_assert_dbus_error(error, "org.slotd.Error.InvalidConfig");
	g_assert_nonnull(strstr(error->message,
				"services.d/nurse-east.conf: [offering "
				"E-SO-POR nurse-consultation-east] "
				"max-visits-per-week:"));
	after = list_services();
	g_assert_true(g_variant_equal(before, after));
	install_config("nurse-east.conf", good);
	g_clear_error(&error);
	g_assert_true(admin_reload(&error));
	g_assert_no_error(error);
	assert_nothing_lost();
}

static const char rota_service[] =
	"[service rota-visits]\n"
	"plugin=loader-half\n"
	"title-fi=Vuorolista\n"
	"title-sv=Turlista\n"
	"\n"
	"[offering W-LOADER rota-visits]\n"
	"windows=day\n"
	"window-day=13:00-15:00 FREQ=WEEKLY;BYDAY=MO\n";

/* ListPlugins' summary of a plugin file, or NULL when not listed. */
static char *
plugin_summary(const char *file)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(&h, "org.slotd.Admin1",
					     "ListPlugins", NULL, "(a(sssu))",
					     &error);
	g_autoptr(GVariantIter) iter = NULL;
	const char *id, *summary;

	g_assert_no_error(error);
	g_variant_get(r, "(a(sssu))", &iter);
	while (g_variant_iter_next(iter, "(&s&s&su)", &id, NULL, &summary,
				   NULL))
		if (g_str_equal(id, file))
			return g_strdup(summary);
	return NULL;
}

static void
assert_rota_refused(const char *expect)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(admin_reload(&error));
	harness_assert_dbus_error(error, "org.slotd.Error.InvalidConfig");
	g_assert_nonnull(strstr(error->message, expect));
}

static void
test_broken_plugin_changes_nothing(void)
{
	g_autoptr(GVariant) before = list_services();
	g_autoptr(GVariant) after = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *rota = g_build_filename(h.plugin_dir, "rota.so",
						 NULL);
	g_autofree char *expect = g_strdup_printf(
		"plugin %s was refused: its setup failed: its rota file "
		"/etc/slotd/loader-rota.csv is missing", rota);
	g_autofree char *summary = NULL, *id = NULL;

	install_plugin("tests/loader-failing-setup.so", "rota.so");
	install_config("rota.conf", rota_service);
	assert_rota_refused(expect);
	/* The same broken state gives the same answer. */
	assert_rota_refused(expect);
	after = list_services();
	g_assert_true(g_variant_equal(before, after));
	/* Its setup ran, so it is listed by the id it gave. */
	summary = plugin_summary("loader-failing");
	g_assert_cmpstr(summary, ==,
			"refused: its setup failed: its rota file "
			"/etc/slotd/loader-rota.csv is missing");
	id = book_first("loader-visits", "W-LOADER", "client-reload-5");
	assert_booking(id, "booked", FALSE);
	remove_file(h.plugin_dir, "rota.so");
	remove_file(services_dir, "rota.conf");
	g_assert_true(admin_reload(&error));
	g_assert_no_error(error);
	g_clear_pointer(&summary, g_free);
	g_assert_null(plugin_summary("loader-failing"));
	assert_nothing_lost();
}

/* ---- removing and missing ------------------------------------------- */

static void
remove_group(const char *file, const char *group)
{
	g_autofree char *path = g_build_filename(services_dir, file, NULL);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	gsize len;

	g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, &error);
	g_assert_no_error(error);
	g_assert_true(g_key_file_remove_group(kf, group, NULL));
	text = g_key_file_to_data(kf, &len, NULL);
	install_bytes(path, text, len);
}

/* A reload's flag is a change like any other: the booking's SEQUENCE
 * moved by one from `before`, and its history ends with the flag, by
 * the daemon itself, saying which offering's slots went and why. */
static void
assert_flag_audited(const char *id, gint64 before, const char *offering,
		    const char *why)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = scheduler("GetBookingHistory",
					  g_variant_new("(s)", id),
					  "(aa{sv})", &error);
	g_autoptr(GVariant) rows = NULL, last = NULL;
	g_autofree char *want = g_strdup_printf("slots of %s withdrawn (%s)",
						offering, why);
	const char *action, *caller, *detail;
	guint n_flags = 0;

	g_assert_no_error(error);
	g_assert_cmpint(harness_sequence(&h, id), ==, before + 1);
	rows = g_variant_get_child_value(r, 0);
	g_assert_cmpuint(g_variant_n_children(rows), >=, 2);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);

		g_assert_true(g_variant_lookup(row, "action", "&s", &action));
		n_flags += g_str_equal(action, "needs-rebooking");
	}
	g_assert_cmpuint(n_flags, ==, 1);
	last = g_variant_get_child_value(rows,
					 g_variant_n_children(rows) - 1);
	g_assert_true(g_variant_lookup(last, "action", "&s", &action));
	g_assert_true(g_variant_lookup(last, "caller", "&s", &caller));
	g_assert_true(g_variant_lookup(last, "detail", "&s", &detail));
	g_assert_cmpstr(action, ==, "needs-rebooking");
	g_assert_cmpstr(caller, ==, "internal");
	g_assert_cmpstr(detail, ==, want);
}

static gboolean
listed_as_needing_rebooking(const char *id)
{
	GVariantDict d;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	g_autoptr(GVariantIter) iter = NULL;
	const char *booking;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "needs-rebooking", "b", TRUE);
	r = scheduler("ListBookings",
		      g_variant_new("(@a{sv})", g_variant_dict_end(&d)),
		      "(a(sssxxs))", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(a(sssxxs))", &iter);
	while (g_variant_iter_next(iter, "(&sssxxs)", &booking, NULL, NULL,
				   NULL, NULL, NULL))
		if (g_str_equal(booking, id))
			return TRUE;
	return FALSE;
}

static void
test_removed_offering_flags_bookings(void)
{
	g_autofree char *booked = book_first(SNA, "W-SNA-KK",
					     "client-reload-6");
	g_autofree char *spare = free_slot(SNA, "W-SNA-KK", 9, 0);
	g_autofree char *out = NULL, *withdrawn = NULL, *reshaped = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	gint64 before = harness_sequence(&h, booked);

	g_assert_nonnull(spare);
	g_assert_false(listed_as_needing_rebooking(booked));
	remove_group("other-services.conf", "offering W-SNA-KK " SNA);
	/* slotctl names the offering withdrawn, and GetStatus too. */
	g_assert_cmpint(harness_slotctl(&h, &out, NULL, "reload", NULL), ==,
			0);
	g_test_message("%s", out);
	g_assert_nonnull(strstr(out, "\nslots withdrawn (offerings no longer "
				     "configured): W-SNA-KK/" SNA "\n"));
	g_assert_null(strstr(out, "slots changed"));
	withdrawn = last_reload_list("offerings-withdrawn");
	reshaped = last_reload_list("offerings-reshaped");
	g_assert_cmpstr(withdrawn, ==, "W-SNA-KK/" SNA);
	g_assert_cmpstr(reshaped, ==, "");
	{
		g_autoptr(GVariant) last = last_reload();
		guint32 flagged = 0;

		g_assert_true(g_variant_lookup(last, "needs-rebooking", "u",
					       &flagged));
		g_assert_cmpuint(flagged, >=, 1);
		g_assert_false(g_variant_lookup(last, "error", "s", NULL));
	}
	/* Flagged for a person to rebook, never deleted or cancelled. */
	assert_booking(booked, "booked", TRUE);
	assert_flag_audited(booked, before, "W-SNA-KK/" SNA,
			    "reload: the offering is no longer configured");
	g_assert_true(listed_as_needing_rebooking(booked));
	/* Its future slots are gone from search and cannot be held. */
	g_assert_null(free_slot(SNA, "W-SNA-KK", 8, 0));
	r = scheduler("Hold", g_variant_new("(su)", spare, 60), "(s)",
		      &error);
	g_assert_null(r);
	harness_assert_dbus_error(error, "org.slotd.Error.SlotFull");
	g_assert_nonnull(strstr(error->message, "no longer offered"));
	g_clear_error(&error);
	/* The other offerings of the service are served as before. */
	g_free(book_first(SNA, "W-SNA-ESP", "client-reload-7"));
	g_assert_false(listed_as_needing_rebooking(before_booking));
	assert_nothing_lost();
}

typedef struct {
	GVariant *reply;
	GError *error;
	gboolean done;
} Pending;

static void
reload_answered(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Pending *p = user_data;

	p->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source),
						 result, &p->error);
	p->done = TRUE;
}

static guint
answered(const Pending *pending, guint n)
{
	guint done = 0;

	for (guint i = 0; i < n; i++)
		done += pending[i].done;
	return done;
}

static gint64
booking_start(const char *id)
{
	g_autoptr(GVariant) b = get_booking(id);
	gint64 start = 0;

	g_assert_true(g_variant_lookup(b, "start", "x", &start));
	return start;
}

/* Whether FindSlots offers a slot of the unit at `start`. */
static gboolean
offered_at(const char *unit, gint64 start)
{
	GVariantDict d;
	g_autoptr(GVariant) slots = NULL;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "from", "x", start - 3600);
	g_variant_dict_insert(&d, "to", "x", start + 3600);
	g_variant_dict_insert(&d, "limit", "u", 500);
	slots = harness_find(&h, SNA, g_variant_dict_end(&d));
	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *slot_unit;
		gint64 at;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", NULL,
				    &slot_unit, &at, NULL, NULL, NULL);
		if (g_str_equal(slot_unit, unit) && at == start)
			return TRUE;
	}
	return FALSE;
}

/* Three Reloads at once, after a window of one offering moved: they run
 * one after another and each is answered. The first answer comes only
 * once the change is committed: by then the booking in the withdrawn
 * slot is flagged. */
static void
test_reloads_one_at_a_time(void)
{
	g_autofree char *booked = book_first(SNA, "W-SNA-ESP",
					     "client-reload-8");
	g_autofree char *path = g_build_filename(services_dir,
						 "other-services.conf", NULL);
	GDBusConnection *conns[3];
	Pending pending[3] = { { 0 } };
	gint64 before = harness_sequence(&h, booked);

	assert_booking(booked, "booked", FALSE);
	harness_set_key(path, "offering W-SNA-ESP " SNA, "window-morning",
			"08:40-10:10 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
	for (guint i = 0; i < 3; i++) {
		g_autoptr(GError) error = NULL;

		conns[i] = g_dbus_connection_new_for_address_sync(
			h.address,
			G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
				G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
			NULL, NULL, &error);
		g_assert_no_error(error);
		g_dbus_connection_call(conns[i], "org.slotd.Slotd1",
				       "/org/slotd/Slotd1", "org.slotd.Admin1",
				       "Reload", NULL, G_VARIANT_TYPE("()"),
				       G_DBUS_CALL_FLAGS_NONE, 60000, NULL,
				       reload_answered, &pending[i]);
	}
	while (answered(pending, 3) == 0)
		g_main_context_iteration(NULL, TRUE);
	assert_booking(booked, "booked", TRUE);
	while (answered(pending, 3) < 3)
		g_main_context_iteration(NULL, TRUE);
	for (guint i = 0; i < 3; i++) {
		g_assert_no_error(pending[i].error);
		g_variant_unref(pending[i].reply);
		g_object_unref(conns[i]);
	}
	/* The first reload flags it (the others find nothing changed):
	 * one flag, one history row. A second flag of the same booking
	 * changes nothing (tests/test-store.c,
	 * /store/slots/capacity-cut-keeps-them-range-flags-once). */
	assert_flag_audited(booked, before, "W-SNA-ESP/" SNA, "reload");
	/* GetStatus tells of the last one: nothing left to change. */
	{
		g_autofree char *reshaped =
			last_reload_list("offerings-reshaped");

		g_assert_cmpstr(reshaped, ==, "");
	}
	/* The old morning is gone from search, the new one is offered. */
	g_assert_false(offered_at("W-SNA-ESP", booking_start(booked)));
	g_assert_true(offered_at("W-SNA-ESP",
				 harness_local(2026, 12, 8, 8, 40)));
	assert_nothing_lost();
}

/* A window moved back: slotctl's reload names the offering whose slots
 * changed, as GetStatus does, and a reload after it nothing. */
static void
test_slotctl_names_reshaped(void)
{
	g_autofree char *path = g_build_filename(services_dir,
						 "other-services.conf", NULL);
	g_autofree char *out = NULL, *again = NULL, *reshaped = NULL;

	harness_set_key(path, "offering W-SNA-ESP " SNA, "window-morning",
			"08:00-10:00 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
	g_assert_cmpint(harness_slotctl(&h, &out, NULL, "reload", NULL), ==,
			0);
	g_test_message("%s", out);
	g_assert_true(g_str_has_prefix(out, "slots changed (new offerings, "
					    "hours, seats or kinds): "
					    "W-SNA-ESP/" SNA "\n"));
	reshaped = last_reload_list("offerings-reshaped");
	g_assert_cmpstr(reshaped, ==, "W-SNA-ESP/" SNA);
	g_assert_cmpint(harness_slotctl(&h, &again, NULL, "reload", NULL), ==,
			0);
	g_assert_true(g_str_has_prefix(again, "No services, units or "
					      "offerings added or removed, "
					      "and no slots changed.\n"));
	assert_nothing_lost();
}

static const char physio_service[] =
	"[service physio-group]\n"
	"plugin=physio-group\n"
	"title-fi=Fysioterapian ryhmä\n"
	"title-sv=Fysioterapigrupp\n"
	"\n"
	"[offering W-LOADER physio-group]\n"
	"windows=day\n"
	"window-day=10:00-11:00 FREQ=WEEKLY;BYDAY=FR\n"
	"group-size=8\n";

static void
test_missing_plugin_shows_unavailable(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	g_autofree char *title = NULL, *out = NULL;

	install_config("physio.conf", physio_service);
	g_assert_true(admin_reload(&error));
	g_assert_no_error(error);
	title = service_title("physio-group");
	g_assert_cmpstr(title, ==,
			"Fysioterapian ryhmä (unavailable: no plugin "
			"provides 'physio-group')");
	g_assert_cmpint(harness_slotctl(&h, &out, NULL, "services", NULL), ==,
			0);
	g_assert_nonnull(strstr(out, "physio-group"));
	g_assert_nonnull(strstr(out, "unavailable"));
	r = scheduler("FindSlots",
		      g_variant_new("(s@a{sv})", "physio-group",
				    g_variant_new("a{sv}", NULL)),
		      "(a(ssxxua{sv}))", &error);
	harness_assert_dbus_error(error,
				  "org.slotd.Error.ServiceUnavailable");
	g_free(book_first("loader-visits", "W-LOADER", "client-reload-8"));
	assert_nothing_lost();
}

/* Last: the hold taken before every reload still works. */
static void
test_hold_survived(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;
	GVariantDict d;
	char *id = NULL;

	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "hold", "s", before_hold);
	r = scheduler("Book",
		      g_variant_new("(ss@a{sv})", held_slot, "client-held",
				    g_variant_dict_end(&d)),
		      "(s)", &error);
	g_assert_no_error(error);
	g_variant_get(r, "(s)", &id);
	assert_booking(id, "booked", FALSE);
	g_free(id);
}

/* ---- set-up --------------------------------------------------------- */

static void
fill_plugin_dir(void)
{
	const char *built[] = { "home-hospital.so", "crisis-duty.so",
				"walk-in.so" };
	char *dir = g_build_filename(h.tmpdir, "plugins", NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_free(h.plugin_dir);
	h.plugin_dir = dir;
	for (guint i = 0; i < G_N_ELEMENTS(built); i++) {
		g_autofree char *from = g_build_filename("plugins", built[i],
							 NULL);

		install_plugin(from, built[i]);
	}
}

/* A booking and a hold on W-SNA-LV (Tuesday 08:30 and 11:00). */
static void
book_and_hold_before(void)
{
	g_autofree char *slot = free_slot(SNA, "W-SNA-LV", 8, 8);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = NULL;

	held_slot = free_slot(SNA, "W-SNA-LV", 8, 11);
	before_booking = book_slot(slot, "client-before-reload", &error);
	g_assert_no_error(error);
	r = scheduler("Hold", g_variant_new("(su)", held_slot, 900), "(s)",
		      &error);
	g_assert_no_error(error);
	g_variant_get(r, "(s)", &before_hold);
}

int
main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	harness_init(&h);
	h.horizon_days = 30;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				      harness_local(2026, 12, 7, 7, 0));
	fill_plugin_dir();
	{
		g_autofree char *entry = harness_copy_example(&h);
		g_autofree char *dir = g_path_get_dirname(entry);

		services_dir = g_build_filename(dir, "services.d", NULL);
		harness_start_slotd(&h, entry);
	}
	book_and_hold_before();
	g_test_add_func("/reload/admin/adds-plugin-and-service",
			test_admin_reload_adds_plugin_and_service);
	g_test_add_func("/reload/slotctl/adds-plugin-and-service",
			test_slotctl_reload_adds_plugin_and_service);
	g_test_add_func("/reload/sighup/adds-service",
			test_sighup_adds_service);
	g_test_add_func("/reload/broken-config/changes-nothing",
			test_broken_config_changes_nothing);
	g_test_add_func("/reload/broken-config/plugin-key-out-of-range",
			test_plugin_key_out_of_range);
	g_test_add_func("/reload/broken-plugin/changes-nothing",
			test_broken_plugin_changes_nothing);
	g_test_add_func("/reload/removed-offering/bookings-need-rebooking",
			test_removed_offering_flags_bookings);
	g_test_add_func("/reload/admin/one-at-a-time",
			test_reloads_one_at_a_time);
	g_test_add_func("/reload/slotctl/names-reshaped-offerings",
			test_slotctl_names_reshaped);
	g_test_add_func("/reload/missing-plugin/service-unavailable",
			test_missing_plugin_shows_unavailable);
	g_test_add_func("/reload/hold/survived-every-reload",
			test_hold_survived);
	status = g_test_run();
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
	g_free(services_dir);
	g_free(before_booking);
	g_free(before_hold);
	g_free(held_slot);
	return status;
}
