/* org.slotd.Planner1 end to end: the real daemon with the example
 * region on a private bus. Bookings are made over D-Bus and the reports
 * must count exactly them; staffing comes from the three plugins
 * through slotctl (table, --csv, --json) and what-ifs change the rows
 * but not the database. The daemon's clock starts on Monday 2026-12-07
 * 07:00 Helsinki time. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define SNA "needs-assessment-west"
#define ARGS_ERROR "org.freedesktop.DBus.Error.InvalidArgs"

static Harness h;

#define DEC(day, hour, minute) harness_local(2026, 12, day, hour, minute)

/* ---- calls --------------------------------------------------------------- */

/* Whether the two replies' rows agree. The daemon's clock runs from
 * the test's start time, so `third-next-available` (seconds from now to
 * a free slot) may be smaller in the later reply by the seconds between
 * the two calls; every other value must be the same. */
static gboolean
rows_agree(GVariant *first, GVariant *later, gint64 slack)
{
	if (g_variant_n_children(first) != g_variant_n_children(later))
		return FALSE;
	for (gsize i = 0; i < g_variant_n_children(first); i++) {
		g_autoptr(GVariant) a = g_variant_get_child_value(first, i);
		g_autoptr(GVariant) b = g_variant_get_child_value(later, i);
		GVariantIter iter;
		const char *key;
		GVariant *value;

		if (g_variant_n_children(a) != g_variant_n_children(b))
			return FALSE;
		g_variant_iter_init(&iter, a);
		while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
			g_autoptr(GVariant) other = g_variant_lookup_value(
				b, key, NULL);
			gint64 x, y;

			if (other == NULL)
				return FALSE;
			if (g_variant_equal(value, other))
				continue;
			if (!g_str_equal(key, "third-next-available") ||
			    !g_variant_is_of_type(value, G_VARIANT_TYPE_INT64) ||
			    !g_variant_is_of_type(other, G_VARIANT_TYPE_INT64))
				return FALSE;
			x = g_variant_get_int64(value);
			y = g_variant_get_int64(other);
			if (y > x || x - y > slack)
				return FALSE;
		}
	}
	return TRUE;
}

/* Every call is made twice: the method, and its ...Fd twin, whose rows
 * come in a memfd (GVariant's serialised form, read here by GLib, where
 * the method's come through libdbus's marshalling and GDBus). Both
 * must give the same rows, or the same error with the same message. */
static GVariant *
planner(const char *method, GVariant *args, GError **error)
{
	g_autoptr(GVariant) owned = g_variant_ref_sink(args);
	g_autofree char *twin = g_strconcat(method, "Fd", NULL);
	g_autoptr(GError) twin_error = NULL;
	gint64 t0 = g_get_real_time();
	g_autoptr(GVariant) reply = harness_call(&h, "org.slotd.Planner1",
						 method, owned, "(aa{sv})",
						 error);
	g_autoptr(GVariant) rows = reply ? g_variant_get_child_value(reply, 0)
					 : NULL;
	g_autoptr(GVariant) twin_rows = harness_call_rows_fd(&h, twin, owned,
							     &twin_error);
	gint64 slack = (g_get_real_time() - t0) / G_USEC_PER_SEC + 1;

	if (rows) {
		g_assert_no_error(twin_error);
		if (!rows_agree(rows, twin_rows, slack)) {
			g_autofree char *a = g_variant_print(rows, TRUE);
			g_autofree char *b = g_variant_print(twin_rows, TRUE);

			g_test_message("%s: %s\n%s: %s", method, a, twin, b);
			g_test_fail();
		}
	} else {
		g_autofree char *name = NULL, *twin_name = NULL;

		g_assert_nonnull(twin_error);
		name = g_dbus_error_get_remote_error(*error);
		twin_name = g_dbus_error_get_remote_error(twin_error);
		g_assert_cmpstr(twin_name, ==, name);
		g_assert_cmpstr(twin_error->message, ==, (*error)->message);
	}
	return g_steal_pointer(&rows);
}

static GVariant *
report(const char *method, const char *service, gint64 from, gint64 to,
       const char *options)
{
	g_autoptr(GError) error = NULL;
	GVariant *rows = planner(
		method,
		g_variant_new("(sxx@a{sv})", service, from, to,
			      g_variant_new_parsed(options ? options
							   : "@a{sv} {}")),
		&error);

	g_assert_no_error(error);
	return rows;
}

static GVariant *
staffing(const char *service, const char *options)
{
	g_autoptr(GError) error = NULL;
	GVariant *rows = planner(
		"Staffing",
		g_variant_new("(s@a{sv})", service,
			      g_variant_new_parsed(options)),
		&error);

	g_assert_no_error(error);
	return rows;
}

/* The slot of `unit` starting at `start`, found as a client would. */
static char *
slot_at(const char *service, const char *unit, const char *municipality,
	gint64 start)
{
	g_autoptr(GVariant) slots = harness_find(
		&h, service,
		g_variant_new_parsed("{'municipality': <%s>, 'from': <%x>, "
				     "'to': <%x>, 'limit': <@u 200>}",
				     municipality, start, start + 1));

	for (gsize i = 0; i < g_variant_n_children(slots); i++) {
		const char *id, *slot_unit;
		gint64 slot_start;

		g_variant_get_child(slots, i, "(&s&sxxu@a{sv})", &id,
				    &slot_unit, &slot_start, NULL, NULL, NULL);
		if (g_str_equal(slot_unit, unit) && slot_start == start)
			return g_strdup(id);
	}
	g_error("no free slot of %s at %" G_GINT64_FORMAT, unit, start);
	return NULL;
}

/* Books with the options given; a referral booked past its deadline
 * says why (these tests make breaches on purpose for the reports). */
static char *
book(const char *slot, const char *client, GVariant *options)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = NULL;
	GVariantDict d;

	g_variant_dict_init(&d, options);
	if (g_variant_dict_contains(&d, "referral-time"))
		g_variant_dict_insert(&d, "deadline-exceeded-reason", "s",
				      "a breach for the report test");
	reply = harness_call(&h, "org.slotd.Scheduler1", "Book",
			     g_variant_new("(ss@a{sv})", slot, client,
					   g_variant_dict_end(&d)),
			     "(s)", &error);
	char *id = NULL;

	g_assert_no_error(error);
	g_variant_get(reply, "(s)", &id);
	return id;
}

static void
book_at(const char *unit, const char *municipality, gint64 start,
	const char *client)
{
	g_autofree char *slot = slot_at(SNA, unit, municipality, start);
	g_autofree char *id = book(slot, client, NULL);
}

/* ---- rows ---------------------------------------------------------------- */

static gboolean
row_is(GVariant *row, const char *level, const char *name, gint64 period)
{
	const char *row_level = NULL, *value = NULL;
	gint64 start = G_MININT64;

	g_variant_lookup(row, "level", "&s", &row_level);
	g_variant_lookup(row, "period-start", "x", &start);
	if (g_strcmp0(row_level, level) != 0 || start != period)
		return FALSE;
	if (g_str_equal(level, "unit"))
		g_variant_lookup(row, "unit", "&s", &value);
	else if (g_str_equal(level, "municipality"))
		g_variant_lookup(row, "municipality", "&s", &value);
	return g_strcmp0(value, name) == 0;
}

static GVariant *
find_row(GVariant *rows, const char *level, const char *name, gint64 period)
{
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);

		if (row_is(row, level, name, period))
			return g_steal_pointer(&row);
	}
	g_error("no %s row %s at %" G_GINT64_FORMAT, level,
		name ? name : "", period);
	return NULL;
}

static gint64
row_int(GVariant *row, const char *key)
{
	gint64 value = G_MININT64;

	if (!g_variant_lookup(row, key, "x", &value))
		g_error("the row has no '%s' (x)", key);
	return value;
}

static void
assert_booked(GVariant *rows, const char *level, const char *name,
	      gint64 period, gint64 expected)
{
	g_autoptr(GVariant) row = find_row(rows, level, name, period);

	g_assert_cmpint(row_int(row, "bookings"), ==, expected);
	/* One seat in one slot each: the places booked agree. */
	g_assert_cmpint(row_int(row, "booked"), ==, expected);
}

/* Live bookings of a unit starting on a local day, as ListBookings
 * tells them. */
static gint64
listed(const char *unit, gint64 day)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) reply = harness_call(
		&h, "org.slotd.Scheduler1", "ListBookings",
		g_variant_new_parsed("({'unit': <%s>, 'from': <%x>, "
				     "'to': <%x>, 'status': <'booked'>},)",
				     unit, day, day + 86400),
		"(a(sssxxs))", &error);
	g_autoptr(GVariant) list = NULL;

	g_assert_no_error(error);
	list = g_variant_get_child_value(reply, 0);
	return (gint64)g_variant_n_children(list);
}

/* ---- capacity report ----------------------------------------------------- */

/* Espoo three on Tuesday, Kirkkonummi one on Tuesday, Lohja two on
 * Wednesday; one more in Lohja is cancelled and must not count. */
static void
test_report_counts_bookings(void)
{
	static const struct {
		const char *unit, *municipality;
		int day, hour, minute;
	} bookings[] = {
		{ "W-SNA-ESP", "049", 8, 8, 30 },
		{ "W-SNA-ESP", "049", 8, 8, 30 },
		{ "W-SNA-ESP", "049", 8, 11, 0 },
		{ "W-SNA-KK", "257", 8, 13, 30 },
		{ "W-SNA-LV", "444", 9, 8, 30 },
		{ "W-SNA-LV", "444", 9, 11, 0 },
	};
	static const char *const units[] = { "W-SNA-ESP", "W-SNA-KK",
					     "W-SNA-LV", "W-SNA-RHI" };
	g_autofree char *slot = slot_at(SNA, "W-SNA-LV", "444", DEC(9, 13, 30));
	g_autofree char *gone = book(slot, "client-planner-gone", NULL);
	g_autoptr(GVariant) cancelled = harness_call(
		&h, "org.slotd.Scheduler1", "Cancel",
		g_variant_new("(ss)", gone, "not needed"), "()", NULL);
	g_autoptr(GVariant) rows = NULL;

	g_assert_nonnull(cancelled);
	for (guint i = 0; i < G_N_ELEMENTS(bookings); i++) {
		g_autofree char *client =
			g_strdup_printf("client-planner-%u", i);

		book_at(bookings[i].unit, bookings[i].municipality,
			DEC(bookings[i].day, bookings[i].hour,
			    bookings[i].minute),
			client);
	}
	rows = report("CapacityReport", SNA, DEC(7, 0, 0), DEC(10, 0, 0),
		      NULL);
	/* 4 units, 4 municipalities, the region; 3 days. */
	g_assert_cmpuint(g_variant_n_children(rows), ==, 9 * 3);
	for (int day = 7; day <= 9; day++)
		for (guint u = 0; u < G_N_ELEMENTS(units); u++)
			assert_booked(rows, "unit", units[u], DEC(day, 0, 0),
				      listed(units[u], DEC(day, 0, 0)));
	assert_booked(rows, "unit", "W-SNA-ESP", DEC(8, 0, 0), 3);
	assert_booked(rows, "unit", "W-SNA-LV", DEC(9, 0, 0), 2);
	assert_booked(rows, "municipality", "049", DEC(8, 0, 0), 3);
	assert_booked(rows, "municipality", "257", DEC(8, 0, 0), 1);
	assert_booked(rows, "municipality", "444", DEC(9, 0, 0), 2);
	assert_booked(rows, "region", NULL, DEC(7, 0, 0), 0);
	assert_booked(rows, "region", NULL, DEC(8, 0, 0), 4);
	assert_booked(rows, "region", NULL, DEC(9, 0, 0), 2);
	{
		/* Espoo: 3 slots of 4 seats a day. */
		g_autoptr(GVariant) espoo = find_row(rows, "unit", "W-SNA-ESP",
						     DEC(8, 0, 0));
		double utilisation = 0;

		g_assert_cmpint(row_int(espoo, "capacity"), ==, 12);
		g_assert_true(g_variant_lookup(espoo, "utilisation", "d",
					       &utilisation));
		g_assert_cmpfloat_with_epsilon(utilisation, 3.0 / 12, 1e-9);
	}
}

/* ---- deadline report ----------------------------------------------------- */

static GVariant *
booking_row(GVariant *rows, const char *booking)
{
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		const char *id = NULL;

		if (g_variant_lookup(row, "booking", "&s", &id) &&
		    g_str_equal(id, booking))
			return g_steal_pointer(&row);
	}
	g_error("no deadline row for %s", booking);
	return NULL;
}

static void
assert_deadline(GVariant *rows, const char *booking, const char *status,
		gint32 days_late)
{
	g_autoptr(GVariant) row = booking_row(rows, booking);
	const char *found = NULL;
	gint32 late = -1;

	g_assert_true(g_variant_lookup(row, "status", "&s", &found));
	g_assert_cmpstr(found, ==, status);
	g_assert_true(g_variant_lookup(row, "days-late", "i", &late));
	g_assert_cmpint(late, ==, days_late);
	/* SHL 36 §: 7 working days from Monday 7 December is the 16th. */
	g_assert_cmpint(row_int(row, "deadline"), ==, DEC(17, 0, 0) - 1);
	g_assert_false(g_variant_lookup(row, "client-ref", "&s", &found));
}

static GVariant *
referred_monday(void)
{
	return g_variant_new_parsed("{'referral-time': <%x>}", DEC(7, 7, 0));
}

/* SHL 36 § binds for clients of 75 and over: a younger client's
 * booking is outside the rule, one of unknown age is held to it. */
static void
test_deadline_report_flags_breach(void)
{
	g_autofree char *late_slot = slot_at(SNA, "W-SNA-LV", "444",
					     DEC(18, 8, 30));
	g_autofree char *soon_slot = slot_at(SNA, "W-SNA-LV", "444",
					     DEC(15, 8, 30));
	g_autofree char *young_slot = slot_at(SNA, "W-SNA-LV", "444",
					      DEC(18, 11, 0));
	g_autofree char *late = book(late_slot, "client-referral-late",
				     referred_monday());
	g_autofree char *soon = book(soon_slot, "client-referral-soon",
				     referred_monday());
	g_autofree char *young = book(
		young_slot, "client-referral-young",
		g_variant_new_parsed("{'referral-time': <%x>, 'age': <@u 40>}",
				     DEC(7, 7, 0)));
	g_autofree char *out = NULL, *err = NULL;
	g_autoptr(GVariant) rows = NULL;
	g_autoptr(GVariant) lohja = NULL;
	guint32 no_rule = 0;

	rows = report("DeadlineReport", SNA, DEC(7, 0, 0), DEC(31, 0, 0),
		      NULL);
	assert_deadline(rows, late, "breached", 2);
	assert_deadline(rows, soon, "pending", 0);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		const char *id = NULL, *level = NULL, *unit = NULL;

		g_variant_lookup(row, "booking", "&s", &id);
		g_assert_cmpstr(id, !=, young);
		g_variant_lookup(row, "level", "&s", &level);
		g_variant_lookup(row, "unit", "&s", &unit);
		if (g_strcmp0(level, "unit") == 0 &&
		    g_strcmp0(unit, "W-SNA-LV") == 0)
			lohja = g_steal_pointer(&row);
	}
	g_assert_nonnull(lohja);
	g_assert_true(g_variant_lookup(lohja, "no-rule", "u", &no_rule));
	g_assert_cmpuint(no_rule, ==, 1);
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "deadlines", SNA,
					"--from", "2026-12-07", "--to",
					"2026-12-31", "--csv", NULL),
			==, 0);
	g_assert_nonnull(strstr(out, late));
	g_assert_nonnull(strstr(out, "breached"));
	/* Pseudonyms stay in the booking system, not in reports. */
	g_assert_null(strstr(out, "client-referral"));
}

/* ---- staffing ------------------------------------------------------------ */

static guint
count(const char *text, const char *needle)
{
	guint n = 0;

	for (const char *p = strstr(text, needle); p;
	     p = strstr(p + 1, needle))
		n++;
	return n;
}

static guint
csv_rows(const char *csv)
{
	return count(csv, "\n") - 1; /* less the header */
}

static void
assert_staffing_keys(GVariant *rows)
{
	static const char *const keys[] = {
		"period-start", "arrivals-per-hour", "staff-needed",
		"staff-rostered", "predicted-service-level",
	};

	g_assert_cmpuint(g_variant_n_children(rows), >, 0);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);

		for (guint k = 0; k < G_N_ELEMENTS(keys); k++)
			if (!g_variant_lookup_value(row, keys[k], NULL))
				g_error("staffing row %zu has no %s", i,
					keys[k]);
	}
}

static void
test_staffing_through_slotctl(void)
{
	static const char *const services[] = {
		"crisis-duty-west", "social-counselling-walk-in",
		"home-hospital-west",
	};
	/* Hours of a week; the sessions of this week; bases x shifts. */
	const guint expected[] = { 168, 0, 3 + 3 + 2 };

	for (guint s = 0; s < G_N_ELEMENTS(services); s++) {
		g_autoptr(GVariant) rows = staffing(services[s], "@a{sv} {}");
		g_autofree char *table = NULL, *csv = NULL, *json = NULL;
		guint n = g_variant_n_children(rows);

		assert_staffing_keys(rows);
		if (expected[s])
			g_assert_cmpuint(n, ==, expected[s]);
		g_assert_cmpint(harness_slotctl(&h, &table, NULL, "staffing",
						services[s], NULL), ==, 0);
		g_assert_nonnull(strstr(table, "STAFF-NEEDED"));
		g_assert_cmpint(harness_slotctl(&h, &csv, NULL, "staffing",
						services[s], "--csv", NULL),
				==, 0);
		g_assert_true(g_str_has_prefix(csv, "period-start") ||
			      g_str_has_prefix(csv, "unit") ||
			      g_str_has_prefix(csv, "hour-of-week"));
		g_assert_cmpuint(csv_rows(csv), ==, n);
		g_assert_cmpint(harness_slotctl(&h, &json, NULL, "--json",
						"staffing", services[s], NULL),
				==, 0);
		g_assert_true(g_str_has_prefix(g_strstrip(json), "["));
		g_assert_cmpuint(count(json, "\"staff-rostered\""), ==, n);
	}
}

static void
file_state(const char *name, struct stat *ret)
{
	g_autofree char *path = g_build_filename(h.state_dir, name, NULL);

	memset(ret, 0, sizeof(*ret));
	stat(path, ret);
}

static void
assert_same_file(const struct stat *a, const struct stat *b)
{
	g_assert_cmpint(a->st_size, ==, b->st_size);
	g_assert_cmpint(a->st_mtim.tv_sec, ==, b->st_mtim.tv_sec);
	g_assert_cmpint(a->st_mtim.tv_nsec, ==, b->st_mtim.tv_nsec);
}

static guint32
rostered(GVariant *rows, gsize index)
{
	g_autoptr(GVariant) row = g_variant_get_child_value(rows, index);
	guint32 staff = G_MAXUINT32;

	g_assert_true(g_variant_lookup(row, "staff-rostered", "u", &staff));
	return staff;
}

static gsize
shift_index(GVariant *rows, const char *unit, const char *shift)
{
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		const char *u = NULL, *s = NULL;

		g_variant_lookup(row, "unit", "&s", &u);
		g_variant_lookup(row, "shift", "&s", &s);
		if (g_strcmp0(u, unit) == 0 && g_strcmp0(s, shift) == 0)
			return i;
	}
	g_error("no %s %s shift row", unit, shift);
	return 0;
}

/* "One more nurse on the Lohja day shift" and "one more on duty every
 * hour" recompute the rows; the database file and its WAL stay as
 * they were, and asking again without the what-if gives the old rows. */
static void
test_what_if_changes_nothing(void)
{
	g_autoptr(GVariant) hh = staffing("home-hospital-west", "@a{sv} {}");
	g_autoptr(GVariant) crisis = staffing("crisis-duty-west", "@a{sv} {}");
	g_autoptr(GVariant) hh_more = NULL, crisis_more = NULL;
	g_autoptr(GVariant) hh_again = NULL;
	struct stat db_before, wal_before, db_after, wal_after;
	gsize loh_day = shift_index(hh, "W-HH-LOH", "day");
	gsize esp_day = shift_index(hh, "W-HH-ESP", "day");

	file_state("slotd.db", &db_before);
	file_state("slotd.db-wal", &wal_before);
	hh_more = staffing("home-hospital-west",
			   "{'extra-staff': <@i 1>, "
			   "'extra-staff-unit': <'W-HH-LOH'>, "
			   "'extra-staff-shift': <'day'>}");
	crisis_more = staffing("crisis-duty-west", "{'extra-staff': <@i 1>}");
	file_state("slotd.db", &db_after);
	file_state("slotd.db-wal", &wal_after);
	assert_same_file(&db_before, &db_after);
	assert_same_file(&wal_before, &wal_after);
	g_assert_cmpuint(rostered(hh_more, loh_day), ==,
			 rostered(hh, loh_day) + 1);
	g_assert_cmpuint(rostered(hh_more, esp_day), ==, rostered(hh, esp_day));
	g_assert_cmpuint(g_variant_n_children(crisis_more), ==, 168);
	for (gsize i = 0; i < 168; i++)
		g_assert_cmpuint(rostered(crisis_more, i), ==,
				 rostered(crisis, i) + 1);
	hh_again = staffing("home-hospital-west", "@a{sv} {}");
	g_assert_true(g_variant_equal(hh, hh_again));
}

/* ---- options --------------------------------------------------------------- */

static void
assert_planner_error(const char *method, GVariant *args, const char *name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = planner(method, args, &error);

	g_assert_null(rows);
	harness_assert_dbus_error(error, name);
}

static GVariant *
report_args(const char *service, gint64 from, gint64 to, const char *options)
{
	return g_variant_new("(sxx@a{sv})", service, from, to,
			     g_variant_new_parsed(options));
}

static void
test_options_are_checked(void)
{
	gint64 from = DEC(7, 0, 0);

	assert_planner_error("CapacityReport",
			     report_args(SNA, from, DEC(8, 0, 0),
					 "{'colour': <'red'>}"),
			     ARGS_ERROR);
	assert_planner_error("CapacityReport",
			     report_args(SNA, from, DEC(8, 0, 0),
					 "{'by': <@u 7>}"),
			     ARGS_ERROR);
	assert_planner_error("CapacityReport",
			     report_args(SNA, from, DEC(8, 0, 0),
					 "{'by': <'month'>}"),
			     ARGS_ERROR);
	assert_planner_error("CapacityReport",
			     report_args(SNA, from, from + 401 * 86400,
					 "@a{sv} {}"),
			     ARGS_ERROR);
	assert_planner_error("CapacityReport",
			     report_args(SNA, from, from, "@a{sv} {}"),
			     ARGS_ERROR);
	assert_planner_error("CapacityReport",
			     report_args("no-such", from, DEC(8, 0, 0),
					 "@a{sv} {}"),
			     "org.slotd.Error.NoSuchService");
	assert_planner_error("CapacityReport",
			     report_args(SNA, from, DEC(8, 0, 0),
					 "{'unit': <'W-NOWHERE'>}"),
			     "org.slotd.Error.NoSuchUnit");
	assert_planner_error("DeadlineReport",
			     report_args(SNA, from, DEC(8, 0, 0),
					 "{'by': <'week'>}"),
			     ARGS_ERROR);
	assert_planner_error("DeadlineReport",
			     report_args(SNA, from, DEC(8, 0, 0),
					 "{'municipality': <'Lo\\u0007ja'>}"),
			     ARGS_ERROR);
	assert_planner_error("CapacityReport",
			     report_args("needs assessment", from,
					 DEC(8, 0, 0), "@a{sv} {}"),
			     ARGS_ERROR);
	/* The ends of the int64 range are refused, not overflowed. */
	assert_planner_error("CapacityReport",
			     report_args(SNA, G_MAXINT64 - 1, G_MAXINT64,
					 "@a{sv} {}"),
			     ARGS_ERROR);
}

/* The bounds say what to ask instead: a window over report-max-days
 * (400) a narrower one; more rows than a reply carries (8,000: the
 * walk-in service's 17 units, their municipalities and the region are
 * 31 rows a day) weeks. */
static void
test_bounds_say_what_to_do(void)
{
	const char *walk_in = "social-counselling-walk-in";
	gint64 from = DEC(7, 0, 0);
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = planner(
		"CapacityReport",
		report_args(walk_in, from, from + 400 * 86400,
			    "{'by': <'day'>}"),
		&error);

	harness_assert_dbus_error(error, ARGS_ERROR);
	g_assert_nonnull(strstr(error->message, "ask by week"));
	g_clear_error(&error);
	rows = planner("CapacityReport",
		       report_args(walk_in, from, from + 401 * 86400,
				   "{'by': <'week'>}"),
		       &error);
	harness_assert_dbus_error(error, ARGS_ERROR);
	g_assert_nonnull(strstr(error->message, "report-max-days"));
	g_assert_nonnull(strstr(error->message, "narrower window"));
	g_clear_error(&error);
	rows = report("CapacityReport", walk_in, from, from + 400 * 86400,
		      "{'by': <'week'>}");
	g_assert_cmpuint(g_variant_n_children(rows), ==, 31 * 58);
}

static void
test_staffing_options_are_checked(void)
{
	assert_planner_error("Staffing",
			     g_variant_new_parsed("('crisis-duty-west', "
						  "{'extra-nurses': <1>})"),
			     ARGS_ERROR);
	/* The plugin's own keys keep their types. */
	assert_planner_error("Staffing",
			     g_variant_new_parsed("('home-hospital-west', "
						  "{'extra-staff': <@u 1>})"),
			     ARGS_ERROR);
	assert_planner_error("Staffing",
			     g_variant_new_parsed("('crisis-duty-west', "
						  "{'from': <'monday'>})"),
			     ARGS_ERROR);
	assert_planner_error("Staffing",
			     g_variant_new_parsed("('no-such', @a{sv} {})"),
			     "org.slotd.Error.NoSuchService");
	assert_planner_error("Staffing",
			     g_variant_new_parsed("('crisis-duty-west', "
						  "{'from': <%x>})",
						  G_MAXINT64),
			     ARGS_ERROR);
	assert_planner_error("Staffing",
			     g_variant_new_parsed("('crisis-duty-west', "
						  "{'from': <%x>})",
						  G_MININT64),
			     ARGS_ERROR);
}

/* slotctl --from picks the plan's week; the default is the coming one
 * (the clock starts on Monday 7 December, so that is the 14th). */
static void
test_staffing_week(void)
{
	g_autofree char *csv = NULL;
	g_autoptr(GVariant) rows = staffing("crisis-duty-west", "@a{sv} {}");
	g_autoptr(GVariant) first = g_variant_get_child_value(rows, 0);
	g_auto(GStrv) lines = NULL;

	g_assert_cmpint(row_int(first, "period-start"), ==, DEC(14, 0, 0));
	g_assert_cmpint(harness_slotctl(&h, &csv, NULL, "staffing",
					"crisis-duty-west", "--from",
					"2026-12-14", "--csv", NULL),
			==, 0);
	g_assert_cmpuint(csv_rows(csv), ==, 168);
	lines = g_strsplit(csv, "\n", 3);
	g_assert_true(g_str_has_prefix(lines[1], "2026-12-14"));
}

/* ---- the heatmap ----------------------------------------------------------- */

static char *
day_text(gint64 utc, const char *format)
{
	g_autoptr(GTimeZone) zone = g_time_zone_new_identifier(
		"Europe/Helsinki");
	g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc(utc);
	g_autoptr(GDateTime) local = g_date_time_to_timezone(when, zone);

	return g_date_time_format(local, format);
}

/* The tooltip slotctl gives a unit's cell for a report row. */
static char *
cell_title(GVariant *row)
{
	g_autofree char *day = day_text(row_int(row, "period-start"),
					"%Y-%m-%d");
	const char *unit = NULL;
	char percent[G_ASCII_DTOSTR_BUF_SIZE];
	double utilisation;

	g_assert_true(g_variant_lookup(row, "unit", "&s", &unit));
	if (!g_variant_lookup(row, "utilisation", "d", &utilisation))
		return g_strdup_printf("<title>%s, %s: no capacity</title>",
				       unit, day);
	g_ascii_formatd(percent, sizeof(percent), "%.1f", utilisation * 100);
	return g_strdup_printf("<title>%s, %s: %s %% (%" G_GINT64_FORMAT
			       " of %" G_GINT64_FORMAT " booked)</title>",
			       unit, day, percent, row_int(row, "booked"),
			       row_int(row, "capacity"));
}

static void
test_svg_heatmap_matches_report(void)
{
	g_autofree char *svg_path = g_build_filename(h.tmpdir, "heatmap.svg",
						     NULL);
	g_autofree char *svg = NULL, *out = NULL, *err = NULL;
	const char *lint[] = { "xmllint", "--noout", svg_path, NULL };
	g_autoptr(GVariant) rows = NULL;
	guint cells = 0;

	g_assert_cmpint(harness_slotctl(&h, &out, &err, "report", SNA,
					"--from", "2026-12-07", "--to",
					"2026-12-13", "--svg", svg_path, NULL),
			==, 0);
	g_assert_cmpint(harness_run(&h, NULL, NULL, lint), ==, 0);
	g_assert_true(g_file_get_contents(svg_path, &svg, NULL, NULL));
	rows = report("CapacityReport", SNA, DEC(7, 0, 0), DEC(14, 0, 0),
		      NULL);
	for (gsize i = 0; i < g_variant_n_children(rows); i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		const char *level = NULL;
		g_autofree char *title = NULL;

		g_variant_lookup(row, "level", "&s", &level);
		if (!g_str_equal(level, "unit"))
			continue;
		title = cell_title(row);
		if (!strstr(svg, title))
			g_error("the heatmap has no cell %s", title);
		cells++;
	}
	/* Four units by seven days, the weekend without capacity, and
	 * the region's total row under them; one rectangle with a
	 * tooltip per cell. */
	g_assert_cmpuint(cells, ==, 4 * 7);
	g_assert_cmpuint(count(svg, "no capacity</title>"), ==, 5 * 2);
	g_assert_cmpuint(count(svg, " booked)</title>"), ==, 5 * 5);
	g_assert_nonnull(strstr(svg, "Region total, 2026-12-08: "));
	/* Somebody's day is partly booked: 3 of 12 on Tuesday in Espoo. */
	g_assert_nonnull(strstr(svg, "W-SNA-ESP, 2026-12-08: 25.0 %"));
	/* Full unit names, in the reader's language. */
	g_assert_nonnull(strstr(svg, "Palvelutarpeen arviointi, Espoo"));
	{
		g_autofree char *sv_path = g_build_filename(
			h.tmpdir, "heatmap-sv.svg", NULL);
		g_autofree char *slotctl = g_build_filename(
			harness_build_root(), "tools", "slotctl", NULL);
		g_autofree char *sv_svg = NULL;
		const char *argv[] = { "env", "LC_ALL=C.UTF-8", "LANGUAGE=sv",
				       slotctl, "--address", h.address,
				       "report", SNA, "--from", "2026-12-07",
				       "--to", "2026-12-13", "--svg", sv_path,
				       NULL };

		g_assert_cmpint(harness_run(&h, NULL, NULL, argv), ==, 0);
		g_assert_true(g_file_get_contents(sv_path, &sv_svg, NULL,
						  NULL));
		g_assert_nonnull(strstr(sv_svg,
					"Bedömning av servicebehov, Esbo"));
		g_assert_null(strstr(sv_svg,
				     "Palvelutarpeen arviointi, Espoo"));
	}
}

/* Three weeks with bookings in the first and Christmas in the last:
 * the heatmap rendered to PNG by rsvg-convert, every cell's colour in
 * the picture against the report's utilisation (tests/heatmap_png.py),
 * the region's total row, "%" in the cells and the holidays' names as
 * the daemon gives them. */
static void
test_svg_heatmap_as_png(void)
{
	g_autofree char *svg_path = g_build_filename(h.tmpdir, "three.svg",
						     NULL);
	g_autofree char *json_path = g_build_filename(h.tmpdir, "three.json",
						      NULL);
	g_autofree char *script = g_build_filename(
		harness_source_root(), "tests", "heatmap_png.py", NULL);
	g_autofree char *out = NULL, *err = NULL, *svg = NULL;
	g_autofree char *checked = NULL, *csv = NULL;
	g_autoptr(GError) error = NULL;
	const char *check[] = { "/usr/bin/python3", script, svg_path,
				json_path, h.tmpdir, NULL };
	g_auto(GStrv) lines = NULL;

	if (!g_file_test("/usr/bin/rsvg-convert", G_FILE_TEST_IS_EXECUTABLE)) {
		g_test_skip("rsvg-convert (librsvg2-bin) is not installed");
		return;
	}
	g_assert_cmpint(harness_slotctl(&h, &out, &err, "report", SNA,
					"--from", "2026-12-07", "--to",
					"2026-12-27", "--svg", svg_path,
					"--json", NULL), ==, 0);
	g_file_set_contents(json_path, out, -1, &error);
	g_assert_no_error(error);
	g_assert_true(g_file_get_contents(svg_path, &svg, NULL, NULL));
	g_assert_nonnull(strstr(svg, "Joulupäivä / Juldagen"));
	g_assert_nonnull(strstr(svg, ">25 %</text>"));
	g_assert_nonnull(strstr(svg, "Region total"));
	if (harness_run(&h, &checked, &err, check) != 0)
		g_error("the heatmap's picture differs from the report:\n%s",
			err);
	g_assert_true(g_str_has_prefix(checked, "ok: "));
	/* CSV: ISO 8601 dates, the same columns in the same order. */
	g_clear_pointer(&out, g_free);
	g_assert_cmpint(harness_slotctl(&h, &out, NULL, "report", SNA,
					"--from", "2026-12-21", "--to",
					"2026-12-27", "--csv", NULL), ==, 0);
	lines = g_strsplit(out, "\r\n", 3);
	g_assert_cmpstr(lines[0], ==,
			"level,unit,municipality,period-start,period-end,"
			"holiday,capacity,booked,held,free,utilisation,"
			"bookings,no-shows,cancelled-by-client,"
			"cancelled-by-provider,third-next-available,"
			"median-lead-time");
	g_assert_true(g_str_has_prefix(lines[1], "unit,"));
	g_assert_nonnull(strstr(lines[1], ",2026-12-21,"
					  "2026-12-22T00:00:00+02:00,"));
}

/* ---- a caller whose connection takes no descriptors ------------------ */

/* Reads one whole message from `in`; NULL when none comes in time
 * (the socket's timeout). */
static GDBusMessage *
raw_read(GInputStream *in)
{
	guint8 head[16];
	g_autofree guint8 *blob = NULL;
	g_autoptr(GError) error = NULL;
	gsize got = 0;
	gssize needed;

	if (!g_input_stream_read_all(in, head, sizeof(head), &got, NULL,
				     &error) ||
	    got != sizeof(head)) {
		g_test_message("no message: %s",
			       error ? error->message : "end of stream");
		return NULL;
	}
	needed = g_dbus_message_bytes_needed(head, sizeof(head), &error);
	g_assert_no_error(error);
	g_assert_cmpint(needed, >=, (gssize)sizeof(head));
	blob = g_malloc(needed);
	memcpy(blob, head, sizeof(head));
	g_assert_true(g_input_stream_read_all(in, blob + sizeof(head),
					      needed - sizeof(head), &got,
					      NULL, &error));
	g_assert_no_error(error);
	{
		GDBusMessage *m = g_dbus_message_new_from_blob(
			blob, needed, G_DBUS_CAPABILITY_FLAGS_NONE, &error);

		g_assert_no_error(error);
		return m;
	}
}

static void
raw_send(GIOStream *stream, GDBusMessage *m, guint32 serial)
{
	g_autoptr(GError) error = NULL;
	g_autofree guchar *blob = NULL;
	gsize size = 0;

	g_dbus_message_set_serial(m, serial);
	blob = g_dbus_message_to_blob(m, &size, G_DBUS_CAPABILITY_FLAGS_NONE,
				      &error);
	g_assert_no_error(error);
	g_assert_true(g_output_stream_write_all(
		g_io_stream_get_output_stream(stream), blob, size, NULL, NULL,
		&error));
	g_assert_no_error(error);
}

/* Sends `m` with `serial` and reads until the answer to it; NULL when
 * none comes before the socket's timeout. */
static GDBusMessage *
raw_call(GIOStream *stream, GDBusMessage *m, guint32 serial)
{
	raw_send(stream, m, serial);
	for (;;) {
		GDBusMessage *answer =
			raw_read(g_io_stream_get_input_stream(stream));

		if (answer == NULL ||
		    g_dbus_message_get_reply_serial(answer) == serial)
			return answer;
		g_object_unref(answer); /* NameAcquired and the like */
	}
}

/* `method` of the bus itself, without arguments, answered. */
static void
raw_call_bus(GIOStream *stream, const char *method, guint32 serial)
{
	g_autoptr(GDBusMessage) call = g_dbus_message_new_method_call(
		"org.freedesktop.DBus", "/org/freedesktop/DBus",
		"org.freedesktop.DBus", method);
	g_autoptr(GDBusMessage) answer = raw_call(stream, call, serial);

	g_assert_nonnull(answer);
	g_assert_cmpint(g_dbus_message_get_message_type(answer), ==,
			G_DBUS_MESSAGE_TYPE_METHOD_RETURN);
}

/* A ...Fd twin called over a connection that did not agree to take
 * descriptors (as libraries without descriptor passing connect): the
 * bus refuses to deliver the answer and tells slotd, which cannot
 * answer instead on the system bus (docs/operations.md); its log says
 * what happened and which method to call. The connection is made by
 * hand: EXTERNAL authentication without NEGOTIATE_UNIX_FD, the
 * messages marshalled by GLib's GDBusMessage. It still works after, and
 * a descriptor-taking caller still gets its descriptor. */
static void
test_fd_twin_without_descriptors(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GIOStream) stream =
		g_dbus_address_get_stream_sync(h.address, NULL, NULL, &error);
	g_autofree char *uid = g_strdup_printf("%u", (guint)getuid());
	g_autoptr(GString) auth = g_string_new(NULL);
	g_autoptr(GDBusMessage) call = NULL;
	g_autoptr(GVariant) rows = NULL;
	GSocket *socket;
	char line[256];
	gsize got = 0;

	g_assert_no_error(error);
	socket = g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream));
	g_socket_set_timeout(socket, 60);
	g_string_append_c(auth, '\0');
	g_string_append(auth, "AUTH EXTERNAL ");
	for (const char *c = uid; *c; c++)
		g_string_append_printf(auth, "%02x", (guint)(guchar)*c);
	g_string_append(auth, "\r\n");
	g_assert_true(g_output_stream_write_all(
		g_io_stream_get_output_stream(stream), auth->str, auth->len,
		NULL, NULL, &error));
	g_assert_no_error(error);
	memset(line, 0, sizeof(line));
	g_assert_true(g_input_stream_read(g_io_stream_get_input_stream(stream),
					  line, sizeof(line) - 1, NULL,
					  &error) > 0);
	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(line, "OK "));
	/* BEGIN straight away: no NEGOTIATE_UNIX_FD. */
	g_assert_true(g_output_stream_write_all(
		g_io_stream_get_output_stream(stream), "BEGIN\r\n", 7, &got,
		NULL, &error));
	g_assert_no_error(error);
	raw_call_bus(stream, "Hello", 1);

	call = g_dbus_message_new_method_call("org.slotd.Slotd1",
					      "/org/slotd/Slotd1",
					      "org.slotd.Planner1",
					      "CapacityReportFd");
	g_dbus_message_set_body(call, g_variant_new("(sxx@a{sv})", SNA,
						    DEC(7, 0, 0),
						    DEC(14, 0, 0),
						    g_variant_new_parsed(
							    "@a{sv} {}")));
	raw_send(stream, call, 2);
	harness_wait_log(&h, "should call the plain one (CapacityReport for "
			 "CapacityReportFd)", 10);

	raw_call_bus(stream, "GetId", 3);
	rows = harness_call_rows_fd(
		&h, "CapacityReportFd",
		g_variant_new("(sxx@a{sv})", SNA, DEC(7, 0, 0), DEC(14, 0, 0),
			      g_variant_new_parsed("@a{sv} {}")),
		&error);
	g_assert_no_error(error);
	g_assert_nonnull(rows);
}

int
main(int argc, char **argv)
{
	int status;

	g_test_init(&argc, &argv, NULL);
	harness_init(&h);
	h.horizon_days = 30;
	h.test_time = g_strdup_printf("%" G_GINT64_FORMAT, DEC(7, 7, 0));
	harness_start_slotd(&h, NULL);
	/* In this order: the later tests read the bookings of the first. */
	g_test_add_func("/planner/capacity-report/counts-the-bookings-made",
			test_report_counts_bookings);
	g_test_add_func("/planner/capacity-report/svg-heatmap-matches",
			test_svg_heatmap_matches_report);
	g_test_add_func("/planner/capacity-report/heatmap-png-matches",
			test_svg_heatmap_as_png);
	g_test_add_func("/planner/deadline-report/flags-a-breach",
			test_deadline_report_flags_breach);
	g_test_add_func("/planner/staffing/three-plugins-through-slotctl",
			test_staffing_through_slotctl);
	g_test_add_func("/planner/staffing/what-if-changes-nothing-stored",
			test_what_if_changes_nothing);
	g_test_add_func("/planner/staffing/from-picks-the-week",
			test_staffing_week);
	g_test_add_func("/planner/options-are-checked",
			test_options_are_checked);
	g_test_add_func("/planner/staffing/options-are-checked",
			test_staffing_options_are_checked);
	g_test_add_func("/planner/bounds-say-what-to-do",
			test_bounds_say_what_to_do);
	g_test_add_func("/planner/fd-twin/caller-without-descriptors",
			test_fd_twin_without_descriptors);
	status = g_test_run();
	harness_clear(&h);
	return status;
}
