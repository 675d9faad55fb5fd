/* Joint visits and campaigns (issue 15, part 2) on the real daemon and
 * a private bus, with the example region's supported-housing mapping
 * in Porvoo: a joint visit needs one practitioner of each organisation
 * free at once; a 50-client round is planned inside its window with
 * every client placed or told why not, a housing unit's clients on one
 * day where a day takes them, and booked as planned — and then the
 * database, read with our own SQL, has no practitioner in two places
 * at once. The clock is Monday 2026-12-07 07:00; a visit needs a day's
 * notice, and Coronaria has one nurse Monday to Tuesday and Thursday
 * to Friday, two on Wednesdays (three visits a day, six on Wednesdays,
 * with the drives of the example's housing units). */
#include <string.h>

#include <gio/gio.h>
#include <sqlite3.h>

#include "harness.h"

#define SCHED "org.slotd.Scheduler1"
#define ADMIN "org.slotd.Admin1"
#define SERVICE "supported-housing-mapping"
#define OFFERING "E-JV-POR/" SERVICE
#define DAY 86400

static Harness h;

/* ---- our own SQL ------------------------------------------------------ */

static gint64
sql_int(const char *query)
{
	g_autofree char *path = g_build_filename(h.state_dir, "slotd.db",
						 NULL);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	gint64 value = -1;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
					NULL), ==, SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	g_assert_cmpint(sqlite3_prepare_v2(db, query, -1, &stmt, NULL), ==,
			SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return value;
}

static char *
slot_at(gint64 start)
{
	g_autofree char *query = g_strdup_printf(
		"SELECT id FROM slot WHERE offering = '" OFFERING "' AND "
		"start = %" G_GINT64_FORMAT, start);
	gint64 id = sql_int(query);

	g_assert_cmpint(id, >, 0);
	return g_strdup_printf("s-%" G_GINT64_FORMAT, id);
}

/* Two live bookings' rows of one resource that overlap in time. */
static const char overlaps_sql[] =
	"SELECT count(*) FROM resource_use a JOIN resource_use b"
	" ON a.resource = b.resource AND a.rowid < b.rowid"
	" AND a.start < b.\"end\" AND b.start < a.\"end\""
	" JOIN booking x ON x.id = a.booking JOIN booking y ON y.id = b.booking"
	" WHERE x.status NOT IN ('cancelled', 'entered-in-error')"
	" AND y.status NOT IN ('cancelled', 'entered-in-error')";

/* ---- calls ------------------------------------------------------------ */

/* A horizon of `days` from Monday 7 December: the 50-client round's
 * window runs to 30 January, the other tests look at most three weeks
 * ahead (materialising fewer days starts slotd sooner). */
static void
start(guint days)
{
	harness_start_example(&h, days);
}

static void
stop(void)
{
	g_assert_cmpint(harness_stop_slotd(&h, SIGTERM), ==, 0);
	harness_clear(&h);
}

static char *
book(gint64 start, const char *client, const char *housing, GError **error)
{
	g_autofree char *slot = slot_at(start);
	g_autoptr(GVariant) r = harness_call(
		&h, SCHED, "Book",
		g_variant_new_parsed("(%s, %s, {'housing-unit': <%s>})", slot,
				     client, housing),
		"(s)", error);
	char *id = NULL;

	if (r)
		g_variant_get(r, "(s)", &id);
	return id;
}

static guint
found_on(gint64 from, gint64 to)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) r = harness_call(
		&h, SCHED, "FindSlots",
		g_variant_new_parsed("(%s, {'housing-unit': <'asumis-5'>, "
				     "'from': <%x>, 'to': <%x>, "
				     "'limit': <uint32 50>})",
				     SERVICE, from, to),
		"(a(ssxxua{sv}))", &error);
	g_autoptr(GVariant) rows = NULL;

	g_assert_no_error(error);
	rows = g_variant_get_child_value(r, 0);
	return g_variant_n_children(rows);
}

/* ---- a joint visit needs every organisation --------------------------- */

static void
test_refused_when_one_organisation_absent(void)
{
	gint64 tuesday = harness_local(2026, 12, 8, 0, 0);
	gint64 wednesday = harness_local(2026, 12, 9, 0, 0);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) absent = NULL;
	g_autofree char *id = NULL;

	start(21);
	g_assert_cmpuint(found_on(tuesday, wednesday), >, 0);
	absent = harness_call(&h, ADMIN, "MarkAbsent",
			      g_variant_new("(sxxs)", "jv-cor-n1", tuesday,
					    wednesday, "sick"),
			      "(saa{sv})", &error);
	g_assert_no_error(error);
	/* The city's and HUS's staff are free all day, Coronaria's only
	 * nurse of Tuesday is not: nothing is offered, Book refuses. */
	g_assert_cmpuint(found_on(tuesday, wednesday), ==, 0);
	id = book(harness_local(2026, 12, 8, 9, 0), "kartoitus-1", "asumis-5",
		  &error);
	g_assert_null(id);
	harness_assert_dbus_error(error, "org.slotd.Error.SlotFull");
	g_assert_nonnull(strstr(error->message, "nurse of coronaria"));
	g_clear_error(&error);
	/* Booking her out has the same effect: on Thursday Coronaria's
	 * one nurse (jv-cor-n2) is on a visit until 11:00, so a second
	 * team cannot go at 10:00 although a seat and the city's and
	 * HUS's second professionals are free. */
	g_free(book(harness_local(2026, 12, 10, 9, 0), "kartoitus-2",
		    "asumis-5", &error));
	g_assert_no_error(error);
	id = book(harness_local(2026, 12, 10, 10, 0), "kartoitus-3",
		  "asumis-3", &error);
	g_assert_null(id);
	harness_assert_dbus_error(error, "org.slotd.Error.SlotFull");
	g_assert_nonnull(strstr(error->message, "nurse of coronaria"));
	g_clear_error(&error);
	id = book(harness_local(2026, 12, 10, 11, 0), "kartoitus-3",
		  "asumis-3", &error);
	g_assert_no_error(error);
	g_assert_nonnull(id);
	stop();
}

/* ---- a 50-client campaign --------------------------------------------- */

/* Eight housing units of 8, 7, 7, 6, 6, 6, 5 and 5 clients; every
 * fifth speaks Swedish. */
static GVariant *
round_of_50(void)
{
	static const guint sizes[] = { 8, 7, 7, 6, 6, 6, 5, 5 };
	GVariantBuilder b;
	guint n = 0;

	g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
	for (guint u = 0; u < G_N_ELEMENTS(sizes); u++)
		for (guint i = 0; i < sizes[u]; i++, n++) {
			g_autofree char *ref = g_strdup_printf("tak-%02u", n);
			g_autofree char *housing =
				g_strdup_printf("asumis-%u", u + 1);

			g_variant_builder_add_parsed(
				&b,
				"{'client-ref': <%s>, 'housing-unit': <%s>, "
				"'language': <%s>}",
				ref, housing, n % 5 == 4 ? "sv" : "fi");
		}
	return g_variant_builder_end(&b);
}

static GVariant *
plan(GVariant *clients, gint64 from, gint64 to, const char *campaign,
     GError **error)
{
	GVariant *r = harness_call(
		&h, SCHED, "PlanCampaign",
		g_variant_new("(s@aa{sv}(xx)@a{sv})", SERVICE, clients, from,
			      to,
			      campaign ? g_variant_new_parsed(
						 "{'campaign': <%s>}", campaign)
				       : g_variant_new("a{sv}", NULL)),
		"(aa{sv})", error);

	return r ? g_variant_get_child_value(r, 0) : NULL;
}

static const char *
row_text(GVariant *row, const char *key)
{
	const char *value = NULL;

	g_variant_lookup(row, key, "&s", &value);
	return value;
}

static GVariant *
placed_rows(GVariant *rows)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);

		if (g_strcmp0(row_text(row, "status"), "placed") == 0)
			g_variant_builder_add_value(&b, row);
	}
	return g_variant_builder_end(&b);
}

static void
check_plan(GVariant *rows, gint64 from, gint64 to, guint *ret_placed)
{
	g_autoptr(GHashTable) days = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free,
		(GDestroyNotify)g_hash_table_unref);
	g_autoptr(GHashTable) sizes = g_hash_table_new(g_str_hash,
						       g_str_equal);
	GHashTableIter iter;
	gpointer key, value;
	guint placed = 0;

	g_assert_cmpuint(g_variant_n_children(rows), ==, 50);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		g_autofree char *ref = g_strdup_printf("tak-%02zu", i);
		const char *status = row_text(row, "status");
		const char *housing = row_text(row, "housing-unit");
		g_autofree const char **who = NULL;
		GHashTable *group;
		gint64 start = 0;

		/* One row per client, in the call's order. */
		g_assert_cmpstr(row_text(row, "client-ref"), ==, ref);
		g_hash_table_insert(sizes, (gpointer)housing,
				    GUINT_TO_POINTER(GPOINTER_TO_UINT(
					    g_hash_table_lookup(sizes,
								housing)) + 1));
		if (g_strcmp0(status, "unplaceable") == 0) {
			g_assert_nonnull(row_text(row, "reason"));
			g_assert_cmpuint(strlen(row_text(row, "reason")), >,
					 10);
			continue;
		}
		g_assert_cmpstr(status, ==, "placed");
		placed++;
		g_assert_true(g_variant_lookup(row, "start", "x", &start));
		g_assert_cmpint(start, >=, from);
		g_assert_cmpint(start, <, to);
		g_assert_true(g_variant_lookup(row, "practitioners", "^a&s",
					       &who));
		g_assert_cmpuint(g_strv_length((char **)who), ==, 3);
		group = g_hash_table_lookup(days, housing);
		if (!group) {
			group = g_hash_table_new_full(g_str_hash, g_str_equal,
						      g_free, NULL);
			g_hash_table_insert(days, g_strdup(housing), group);
		}
		g_hash_table_add(group, g_strdup(row_text(row, "day")));
	}
	/* A housing unit's clients on as few days as a day's three visits
	 * allow (Wednesdays take more). */
	g_hash_table_iter_init(&iter, days);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		guint size = GPOINTER_TO_UINT(g_hash_table_lookup(sizes, key));

		g_test_message("%s: %u clients on %u days", (char *)key, size,
			       g_hash_table_size(value));
		g_assert_cmpuint(g_hash_table_size(value), <=, (size + 2) / 3);
	}
	*ret_placed = placed;
}

static void
test_campaign_of_50(void)
{
	gint64 from = harness_local(2026, 12, 8, 0, 0);
	gint64 to = harness_local(2027, 1, 30, 0, 0);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = NULL, again = NULL, booked = NULL;
	g_autoptr(GVariant) progress = NULL, placements = NULL;
	g_autoptr(GVariant) cancelled = NULL;
	g_autofree const char **ids = NULL;
	guint placed = 0, mapped = 9, scheduled = 0, missing = 0;
	gint64 began;

	start(70);
	began = g_get_monotonic_time();
	rows = plan(round_of_50(), from, to, NULL, &error);
	g_assert_no_error(error);
	g_test_message("PlanCampaign of 50 clients: %.3f s",
		       (g_get_monotonic_time() - began) / 1e6);
	check_plan(rows, from, to, &placed);
	g_assert_cmpuint(placed, ==, 50);
	/* The plan booked and held nothing. */
	g_assert_cmpint(sql_int("SELECT count(*) FROM booking"), ==, 0);
	g_assert_cmpint(sql_int("SELECT count(*) FROM hold"), ==, 0);
	g_assert_cmpint(sql_int("SELECT count(*) FROM resource_use"), ==, 0);
	placements = g_variant_ref_sink(placed_rows(rows));
	booked = harness_call(
		&h, SCHED, "BookCampaign",
		g_variant_new_parsed("(%s, %@aa{sv}, {'campaign': <'porvoo-"
				     "2027-1'>})",
				     SERVICE, placements),
		"(as)", &error);
	g_assert_no_error(error);
	g_variant_get(booked, "(^a&s)", &ids);
	g_assert_cmpuint(g_strv_length((char **)ids), ==, 50);
	/* No practitioner in two places at once, every visit a team of
	 * one of each organisation — from the tables. */
	g_assert_cmpint(sql_int(overlaps_sql), ==, 0);
	g_assert_cmpint(sql_int("SELECT count(*) FROM booking WHERE service ="
				" '" SERVICE "' AND status = 'booked'"),
			==, 50);
	g_assert_cmpint(sql_int("SELECT count(*) FROM (SELECT booking FROM "
				"resource_use GROUP BY booking HAVING "
				"count(*) = 3 AND sum(resource LIKE "
				"'jv-por-%') = 1 AND sum(resource LIKE "
				"'jv-hus-%') = 1 AND sum(resource LIKE "
				"'jv-cor-%') = 1)"),
			==, 50);
	/* What the plan said, Book took: the same slots and teams. */
	for (gsize i = 0; i < g_variant_n_children(placements); i++) {
		g_autoptr(GVariant) row =
			g_variant_get_child_value(placements, i);
		g_autofree const char **who = NULL;
		g_autofree char *query = NULL;
		const char *ref = row_text(row, "client-ref");

		g_variant_lookup(row, "practitioners", "^a&s", &who);
		query = g_strdup_printf(
			"SELECT count(*) FROM booking b JOIN resource_use u "
			"ON u.booking = b.id WHERE b.client_ref = '%s' AND "
			"'s-' || b.slot = '%s' AND u.resource IN "
			"('%s', '%s', '%s')",
			ref, row_text(row, "slot"), who[0], who[1], who[2]);
		g_assert_cmpint(sql_int(query), ==, 3);
	}
	/* Progress: all 50 scheduled; one cancelled and one never booked
	 * are not scheduled. */
	cancelled = harness_call(&h, SCHED, "Cancel",
				 g_variant_new("(ss)", ids[0], "moved"), "()",
				 &error);
	g_assert_no_error(error);
	progress = harness_call(
		&h, SCHED, "CampaignProgress",
		g_variant_new_parsed("(%s, 'porvoo-2027-1', {'clients': "
				     "<['tak-00', 'tak-01', 'tak-99']>})",
				     SERVICE),
		"(a{sv})", &error);
	g_assert_no_error(error);
	{
		g_autoptr(GVariant) d = g_variant_get_child_value(progress, 0);

		g_assert_true(g_variant_lookup(d, "mapped", "u", &mapped));
		g_assert_true(g_variant_lookup(d, "scheduled", "u",
					       &scheduled));
		g_assert_true(g_variant_lookup(d, "not-scheduled", "u",
					       &missing));
	}
	g_assert_cmpuint(mapped, ==, 0);
	g_assert_cmpuint(scheduled, ==, 49);
	g_assert_cmpuint(missing, ==, 2);
	/* Planned again with the campaign: the 49 are scheduled, the
	 * cancelled one is placed again. */
	again = plan(round_of_50(), from, to, "porvoo-2027-1", &error);
	g_assert_no_error(error);
	for (gsize i = 0; i < g_variant_n_children(again); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(again, i);

		g_assert_cmpstr(row_text(row, "status"), ==,
				i == 0 ? "placed" : "scheduled");
	}
	stop();
}

/* A window too small for the round: every client is placed or told
 * why not, and nobody is proposed twice at once. */
static void
test_window_too_small(void)
{
	gint64 from = harness_local(2026, 12, 8, 0, 0);
	gint64 to = harness_local(2026, 12, 10, 0, 0);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = NULL, placements = NULL, booked = NULL;
	guint placed = 0, unplaceable = 0;

	start(21);
	rows = plan(round_of_50(), from, to, NULL, &error);
	g_assert_no_error(error);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);

		if (g_strcmp0(row_text(row, "status"), "placed") == 0) {
			placed++;
			continue;
		}
		g_assert_cmpstr(row_text(row, "status"), ==, "unplaceable");
		g_assert_nonnull(row_text(row, "error"));
		g_assert_nonnull(row_text(row, "reason"));
		unplaceable++;
	}
	/* Tuesday three visits, Wednesday six (two Coronaria nurses). */
	g_test_message("two days: %u placed, %u unplaceable", placed,
		       unplaceable);
	g_assert_cmpuint(placed, >=, 8);
	g_assert_cmpuint(placed, <=, 9);
	g_assert_cmpuint(placed + unplaceable, ==, 50);
	placements = g_variant_ref_sink(placed_rows(rows));
	booked = harness_call(
		&h, SCHED, "BookCampaign",
		g_variant_new_parsed("(%s, %@aa{sv}, {'campaign': <'c2'>})",
				     SERVICE, placements),
		"(as)", &error);
	g_assert_no_error(error);
	g_assert_cmpint(sql_int(overlaps_sql), ==, 0);
	/* All or nothing: the same placements again are refused whole
	 * (the clients have their visit; the slots are taken). */
	g_clear_pointer(&booked, g_variant_unref);
	booked = harness_call(
		&h, SCHED, "BookCampaign",
		g_variant_new_parsed("(%s, %@aa{sv}, {'campaign': <'c3'>})",
				     SERVICE, placements),
		"(as)", &error);
	g_assert_null(booked);
	g_assert_nonnull(error);
	g_assert_cmpint(sql_int("SELECT count(*) FROM booking"), ==, placed);
	stop();
}

/* Client references are pseudonymous: an identity code is refused at
 * the door and never echoed. */
static void
test_identity_code_refused(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = NULL;

	start(21);
	rows = plan(g_variant_new_parsed("[{'client-ref': <'tak-1'>, "
					 "'housing-unit': <'asumis-1'>}, "
					 "{'client-ref': <'131052-308T'>, "
					 "'housing-unit': <'asumis-1'>}]"),
		    harness_local(2026, 12, 8, 0, 0),
		    harness_local(2026, 12, 20, 0, 0), NULL, &error);
	g_assert_null(rows);
	g_assert_nonnull(error);
	g_assert_null(strstr(error->message, "131052"));
	g_clear_error(&error);
	rows = plan(g_variant_new_parsed("[{'client-ref': <'tak-1'>, "
					 "'housing-unit': <'asumis-77'>}]"),
		    harness_local(2026, 12, 8, 0, 0),
		    harness_local(2026, 12, 20, 0, 0), NULL, &error);
	g_assert_null(rows);
	harness_assert_dbus_error(error,
				  "org.freedesktop.DBus.Error.InvalidArgs");
	stop();
}

/* slotctl campaign plan, book one day of it, progress. */
static void
test_slotctl(void)
{
	g_autofree char *clients = NULL;
	g_autofree char *saved = NULL;
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GError) error = NULL;
	int status;

	start(21);
	clients = g_build_filename(h.tmpdir, "round.csv", NULL);
	saved = g_build_filename(h.tmpdir, "plan.txt", NULL);
	g_file_set_contents(clients,
			    "client-ref,housing-unit,language\n"
			    "tak-1,asumis-1,fi\ntak-2,asumis-1,sv\n"
			    "tak-3,asumis-2\n# a comment\ntak-4,asumis-2,fi\n",
			    -1, &error);
	g_assert_no_error(error);
	status = harness_slotctl(&h, &out, &err, "campaign", "plan", SERVICE,
				 clients, "--from", "2026-12-08", "--to",
				 "2026-12-18", "--save", saved, NULL);
	if (status != 0)
		g_test_message("slotctl: %s", err);
	g_assert_cmpint(status, ==, 0);
	g_assert_nonnull(strstr(out, "tak-4"));
	g_assert_nonnull(strstr(out, "2026-12-08 09:00"));
	/* Tuesday takes asumis-1's two (asumis-2's two go together on
	 * Wednesday): only Tuesday is booked. */
	status = harness_slotctl(&h, &out, &err, "campaign", "book", SERVICE,
				 saved, "--campaign", "k1", "--day",
				 "2026-12-08", NULL);
	g_assert_cmpint(status, ==, 0);
	g_assert_cmpint(sql_int("SELECT count(*) FROM booking"), ==, 2);
	status = harness_slotctl(&h, &out, &err, "campaign", "progress",
				 SERVICE, "k1", "--clients", clients, NULL);
	g_assert_cmpint(status, ==, 0);
	g_assert_nonnull(strstr(out, "k1: 0 mapped, 2 scheduled, 2 not "
				     "scheduled"));
	/* Without --campaign, book refuses. */
	status = harness_slotctl(&h, &out, &err, "campaign", "book", SERVICE,
				 saved, NULL);
	g_assert_cmpint(status, ==, 2);
	stop();
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/joint-visit/refused-when-one-organisation-absent",
			test_refused_when_one_organisation_absent);
	g_test_add_func("/joint-visit/campaign-of-50",
			test_campaign_of_50);
	g_test_add_func("/joint-visit/window-too-small",
			test_window_too_small);
	g_test_add_func("/joint-visit/identity-code-refused",
			test_identity_code_refused);
	g_test_add_func("/joint-visit/slotctl", test_slotctl);
	return g_test_run();
}
