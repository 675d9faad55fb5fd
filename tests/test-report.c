/* The planning reports of the core (report.c, report-deadline.c) on a
 * small constructed region: three units with a handful of slots each,
 * the real configuration reader, store and capacity engine, and a clock
 * the tests move by hand. Every expected figure is worked out from the
 * calendars below. */
#include <string.h>

#include <glib/gstdio.h>

#include "calendar.h"
#include "config.h"
#include "planner-pool.h"
#include "report.h"

#define HOUR 3600
#define DAY 86400

static const char entry_point[] =
	"[daemon]\n"
	"include=region.conf\n"
	"service-dir=services.d\n"
	"horizon-days=21\n"
	"[region]\n"
	"id=report-test\n"
	"name-fi=Testialue\n"
	"name-sv=Testområde\n";

/* Espoo and Kirkkonummi one unit each, Lohja one. SMALL is closed from
 * Wednesday 2026-03-04 on, so it only ever has two slots in March. */
static const char region_conf[] =
	"[municipality 049]\nname-fi=Espoo\nname-sv=Esbo\narea=west\n"
	"language-status=bilingual-fi\ninternal-travel-minutes=25\n"
	"[municipality 257]\nname-fi=Kirkkonummi\nname-sv=Kyrkslätt\n"
	"area=west\nlanguage-status=bilingual-fi\n"
	"internal-travel-minutes=20\n"
	"[municipality 444]\nname-fi=Lohja\nname-sv=Lojo\narea=west\n"
	"language-status=bilingual-fi\ninternal-travel-minutes=25\n"
	"[travel]\n049-444=35\n049-257=20\n"
	"[unit ESP]\nmunicipality=049\ntitle-fi=Espoo\ntitle-sv=Esbo\n"
	"languages=fi;sv\n"
	"[unit LOH]\nmunicipality=444\ntitle-fi=Lohja\ntitle-sv=Lojo\n"
	"languages=fi\n"
	"[unit SMALL]\nmunicipality=257\ntitle-fi=Pieni\ntitle-sv=Liten\n"
	"languages=fi\nclosures=2026-03-04..2026-12-31\n";

/* assessment: SHL 36 § for 75+ (the only rule, so it also applies when
 * the age is not known). primary-care: the care guarantee as it
 * changed in 2025. therapy: a rule for everyone and a stricter one for
 * the young. night-line: slots around midnight for the DST test. */
static const char services_conf[] =
	"[service assessment]\nplugin=fixed\ntitle-fi=Arviointi\n"
	"title-sv=Bedömning\ndeadlines=priority\n"
	"deadline-priority=7 working-days\ndeadline-priority-ages=75-\n"
	"deadline-priority-ref=SHL 36 §\n"
	"[offering ESP assessment]\nslot-minutes=60\nseats=1\n"
	"windows=day\nwindow-day=09:00-12:00 FREQ=WEEKLY;BYDAY=MO,WE\n"
	"[offering LOH assessment]\nslot-minutes=60\nseats=2\n"
	"windows=day\nwindow-day=10:00-12:00 FREQ=WEEKLY;BYDAY=TU\n"
	"[offering SMALL assessment]\nslot-minutes=60\nseats=1\n"
	"windows=day\nwindow-day=09:00-10:00 FREQ=DAILY\n"
	"[service primary-care]\nplugin=fixed\ntitle-fi=Hoito\n"
	"title-sv=Vård\ndeadlines=cg-2023;cg-adult;cg-young\n"
	"deadline-cg-2023=14 calendar-days\n"
	"deadline-cg-2023-from=2023-09-01\n"
	"deadline-cg-2023-until=2024-12-31\n"
	"deadline-cg-adult=3 months\ndeadline-cg-adult-from=2025-01-01\n"
	"deadline-cg-adult-ages=23-\n"
	"deadline-cg-young=14 calendar-days\n"
	"deadline-cg-young-from=2025-01-01\ndeadline-cg-young-ages=-22\n"
	"[service therapy]\nplugin=fixed\ntitle-fi=Terapia\n"
	"title-sv=Terapi\ndeadlines=standard;youth\n"
	"deadline-standard=28 calendar-days\n"
	"deadline-youth=14 calendar-days\ndeadline-youth-ages=-22\n"
	"[service night-line]\nplugin=fixed\ntitle-fi=Yölinja\n"
	"title-sv=Nattlinjen\n"
	"[offering ESP night-line]\nslot-minutes=30\nseats=1\n"
	"windows=late\nwindow-late=22:30-00:00 FREQ=DAILY\n";

static const Caller test_caller = { 1000, "test-report" };

typedef struct {
	char *dir;
	Region *region;
	PluginHost *plugins;
	Store *store;
	Capacity *capacity;
	gint64 now;
	gboolean on_worker;	/* reports run as Planner1 runs them */
	PlannerPool *pool;
} Fixture;

static gint64
local(int year, int month, int day, int hour, int minute)
{
	return calendar_local_to_utc(year, month, day, hour, minute);
}

static void
write_text(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *parent = g_path_get_dirname(path);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
}

static gint64
fixture_clock(gpointer data)
{
	return ((Fixture *)data)->now;
}

/* The region, materialised up to 21 days after `now`. */
static void
fixture_start(Fixture *f, gint64 now)
{
	g_autofree char *entry = g_build_filename(f->dir, "slotd.conf", NULL);
	g_autofree char *db = g_build_filename(f->dir, "slotd.db", NULL);
	ConfigOptions options = { .config_file = entry, .state_dir = f->dir };
	g_autoptr(GError) error = NULL;
	gboolean done = FALSE;

	f->region = config_load(&options, &error);
	g_assert_no_error(error);
	f->plugins = plugin_host_new();
	fixed_register(f->plugins);
	g_assert_true(plugin_host_configure(f->plugins, f->region, &error));
	g_assert_true(config_check_unread_keys(f->region, &error));
	f->store = store_open(db, &error);
	g_assert_no_error(error);
	f->capacity = capacity_new(f->region, f->store, f->plugins);
	f->now = now;
	capacity_set_clock(f->capacity, fixture_clock, f);
	while (!done) {
		g_assert_true(capacity_extend(f->capacity, 100000, &done,
					      &error));
		g_assert_no_error(error);
	}
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	calendar_init();
	memset(f, 0, sizeof(*f));
	f->on_worker = GPOINTER_TO_INT(data);
	f->dir = g_dir_make_tmp("slotd-report-XXXXXX", &error);
	g_assert_no_error(error);
	write_text(f->dir, "slotd.conf", entry_point);
	write_text(f->dir, "region.conf", region_conf);
	write_text(f->dir, "services.d/test.conf", services_conf);
}

static void
remove_tree(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR))
			remove_tree(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_clear_pointer(&f->pool, planner_pool_free);
	g_clear_pointer(&f->capacity, capacity_free);
	g_clear_pointer(&f->store, store_close);
	g_clear_pointer(&f->plugins, plugin_host_free);
	g_clear_pointer(&f->region, region_unref);
	remove_tree(f->dir);
	g_free(f->dir);
}

/* ---- running a report ---------------------------------------------- */

/* A report run the way Planner1 runs it: on a worker thread of a
 * planner pool, through that worker's read-only connection inside a
 * read transaction, while this thread waits on its main context. */
typedef struct {
	Fixture *f;
	const ReportQuery *query;
	gboolean deadlines;
	GPtrArray *rows;
	GError *error;
	gboolean done;
} WorkerRun;

static gboolean
report_from(const PlanSource *source, const ReportQuery *query,
	    gboolean deadlines, GPtrArray **ret_rows, GError **error)
{
	return deadlines ? report_deadlines(source, query, ret_rows, error)
			 : report_capacity(source, query, ret_rows, error);
}

static GVariant *
worker_job(Store *store, gpointer data, GError **error)
{
	WorkerRun *run = data;
	PlanSource source = { run->f->region, store, run->f->now };

	if (!report_from(&source, run->query, run->deadlines, &run->rows,
			 error))
		return NULL;
	return g_variant_new_boolean(TRUE);
}

static void
worker_done(gpointer data, GVariant *reply, const GError *error)
{
	WorkerRun *run = data;

	if (error)
		run->error = g_error_copy(error);
	run->done = TRUE;
}

static gboolean
run_report(Fixture *f, const ReportQuery *query, gboolean deadlines,
	   GPtrArray **ret_rows, GError **error)
{
	g_autofree char *db = g_build_filename(f->dir, "slotd.db", NULL);
	PlanSource source = plan_source_of(f->capacity);
	WorkerRun run = { f, query, deadlines };

	if (!f->on_worker)
		return report_from(&source, query, deadlines, ret_rows, error);
	if (!f->pool)
		f->pool = planner_pool_new(db, 2, NULL);
	planner_pool_push(f->pool, worker_job, worker_done, &run, NULL);
	while (!run.done)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(planner_pool_connections(f->pool), ==, 1);
	if (run.error) {
		g_propagate_error(error, run.error);
		return FALSE;
	}
	*ret_rows = run.rows;
	return TRUE;
}

static gboolean
capacity_report(Fixture *f, const ReportQuery *query, GPtrArray **ret_rows,
		GError **error)
{
	return run_report(f, query, FALSE, ret_rows, error);
}

static gboolean
deadline_report(Fixture *f, const ReportQuery *query, GPtrArray **ret_rows,
		GError **error)
{
	return run_report(f, query, TRUE, ret_rows, error);
}

/* ---- helpers ----------------------------------------------------------- */

static char *
slot_at(Fixture *f, const char *offering, gint64 start)
{
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(store_list_slots(f->store, offering, start, start + 1,
				       slots, &error));
	g_assert_no_error(error);
	if (slots->len != 1)
		g_error("%s has %u slots at %" G_GINT64_FORMAT, offering,
			slots->len, start);
	return g_strdup_printf("s-%" G_GINT64_FORMAT,
			       g_array_index(slots, StoreSlot, 0).id);
}

/* Books the slot of `offering` at `start` now; `referral` 0 for none. */
static char *
book(Fixture *f, const char *offering, gint64 start, gint64 referral)
{
	static guint clients;
	g_autofree char *slot = slot_at(f, offering, start);
	g_autofree char *client = g_strdup_printf("client-%u", ++clients);
	g_autoptr(GError) error = NULL;
	GVariantDict options;
	char *booking = NULL;

	g_variant_dict_init(&options, NULL);
	/* Breaches are made on purpose here, for the report. */
	if (referral) {
		g_variant_dict_insert(&options, "referral-time", "x",
				      referral);
		g_variant_dict_insert(&options, "deadline-exceeded-reason", "s",
				      "a breach for the report test");
	}
	g_assert_true(capacity_book(f->capacity, &test_caller, slot, client,
				    g_variant_dict_end(&options), &booking,
				    &error));
	g_assert_no_error(error);
	return booking;
}

static GPtrArray *
capacity_rows(Fixture *f, const char *service, gint64 from, gint64 to,
	      ReportBy by)
{
	ReportQuery query = { service, from, to, by, NULL, NULL };
	g_autoptr(GError) error = NULL;
	GPtrArray *rows = NULL;

	g_assert_true(capacity_report(f, &query, &rows, &error));
	g_assert_no_error(error);
	return rows;
}

/* The row of a level and name ("ESP", "444", NULL for the region) for
 * the period starting at `period`. */
static GVariant *
find_row(GPtrArray *rows, const char *level, const char *name,
	 gint64 period)
{
	for (guint i = 0; i < rows->len; i++) {
		GVariant *row = rows->pdata[i];
		const char *row_level = NULL, *unit = NULL, *code = NULL;
		gint64 start = -1;

		g_variant_lookup(row, "level", "&s", &row_level);
		g_variant_lookup(row, "unit", "&s", &unit);
		g_variant_lookup(row, "municipality", "&s", &code);
		g_variant_lookup(row, "period-start", "x", &start);
		if (g_strcmp0(row_level, level) != 0 || start != period)
			continue;
		if (g_str_equal(level, "unit") && g_strcmp0(unit, name) != 0)
			continue;
		if (g_str_equal(level, "municipality") &&
		    g_strcmp0(code, name) != 0)
			continue;
		return row;
	}
	g_error("no %s row for %s at %" G_GINT64_FORMAT, level,
		name ? name : "the region", period);
	return NULL;
}

static gint64
row_int(GVariant *row, const char *key)
{
	gint64 value = G_MININT64;

	if (!g_variant_lookup(row, key, "x", &value))
		g_error("the row has no '%s'", key);
	return value;
}

static void
assert_load(GVariant *row, gint64 capacity, gint64 booked, gint64 bookings)
{
	double utilisation = -1;

	g_assert_cmpint(row_int(row, "capacity"), ==, capacity);
	g_assert_cmpint(row_int(row, "booked"), ==, booked);
	g_assert_cmpint(row_int(row, "bookings"), ==, bookings);
	g_assert_cmpint(row_int(row, "free"), ==, capacity - booked);
	if (capacity == 0) {
		g_assert_false(g_variant_lookup(row, "utilisation", "d",
						&utilisation));
		return;
	}
	g_assert_true(g_variant_lookup(row, "utilisation", "d",
				       &utilisation));
	g_assert_cmpfloat_with_epsilon(utilisation, (double)booked / capacity,
				       1e-9);
}

/* ---- capacity report --------------------------------------------------- */

#define MON2(h, m) local(2026, 3, 2, h, m)
#define TUE3(h, m) local(2026, 3, 3, h, m)
#define WED4(h, m) local(2026, 3, 4, h, m)

/* Cancellations are counted by whom, from the reason's leading code;
 * a free-text reason is neither; entered-in-error counts nowhere. */
static void
test_cancellations_by_whom(Fixture *f, gconstpointer data)
{
	g_autofree char *b1 = NULL, *b2 = NULL, *b3 = NULL, *b4 = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	GVariant *row;

	fixture_start(f, MON2(8, 0));
	b1 = book(f, "ESP/assessment", MON2(9, 0), 0);
	b2 = book(f, "ESP/assessment", MON2(10, 0), 0);
	b3 = book(f, "ESP/assessment", MON2(11, 0), 0);
	b4 = book(f, "ESP/assessment", WED4(9, 0), 0);
	g_assert_true(capacity_cancel(f->capacity, &test_caller, b1,
				      "client: moved away", &error));
	g_assert_true(capacity_cancel(f->capacity, &test_caller, b2,
				      "provider: the nurse is ill", &error));
	g_assert_true(capacity_cancel(f->capacity, &test_caller, b4,
				      "no longer needed", &error));
	g_assert_no_error(error);
	rows = capacity_rows(f, "assessment", MON2(0, 0),
			     local(2026, 3, 5, 0, 0), REPORT_BY_DAY);
	row = find_row(rows, "unit", "ESP", MON2(0, 0));
	g_assert_cmpint(row_int(row, "bookings"), ==, 1);
	g_assert_cmpint(row_int(row, "cancelled-by-client"), ==, 1);
	g_assert_cmpint(row_int(row, "cancelled-by-provider"), ==, 1);
	row = find_row(rows, "unit", "ESP", WED4(0, 0));
	g_assert_cmpint(row_int(row, "bookings"), ==, 0);
	g_assert_cmpint(row_int(row, "cancelled-by-client"), ==, 0);
	g_assert_cmpint(row_int(row, "cancelled-by-provider"), ==, 0);
	row = find_row(rows, "region", NULL, MON2(0, 0));
	g_assert_cmpint(row_int(row, "cancelled-by-client"), ==, 1);
}

/* ESP has 3 one-seat slots on Mondays and Wednesdays, LOH 2 two-seat
 * slots on Tuesdays, SMALL one slot a day until it closes. */
static void
test_capacity_counts(Fixture *f, gconstpointer data)
{
	g_autofree char *b1 = NULL, *b2 = NULL, *b3 = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;

	fixture_start(f, MON2(8, 0));
	b1 = book(f, "ESP/assessment", MON2(9, 0), 0);
	b2 = book(f, "ESP/assessment", MON2(10, 0), 0);
	b3 = book(f, "LOH/assessment", TUE3(10, 0), 0);
	f->now = MON2(9, 30);
	g_assert_true(capacity_set_status(f->capacity, &test_caller, b1,
					  "noshow", &error));
	g_assert_no_error(error);
	rows = capacity_rows(f, "assessment", MON2(0, 0), local(2026, 3, 5, 0,
								 0),
			     REPORT_BY_DAY);
	/* 3 units + 3 municipalities + the region, 3 days each. */
	g_assert_cmpuint(rows->len, ==, 7 * 3);
	assert_load(find_row(rows, "unit", "ESP", MON2(0, 0)), 3, 2, 2);
	assert_load(find_row(rows, "unit", "ESP", TUE3(0, 0)), 0, 0, 0);
	assert_load(find_row(rows, "unit", "ESP", WED4(0, 0)), 3, 0, 0);
	assert_load(find_row(rows, "unit", "LOH", TUE3(0, 0)), 4, 1, 1);
	assert_load(find_row(rows, "unit", "SMALL", TUE3(0, 0)), 1, 0, 0);
	assert_load(find_row(rows, "unit", "SMALL", WED4(0, 0)), 0, 0, 0);
	assert_load(find_row(rows, "municipality", "444", TUE3(0, 0)), 4, 1,
		    1);
	assert_load(find_row(rows, "region", NULL, MON2(0, 0)), 4, 2, 2);
	assert_load(find_row(rows, "region", NULL, TUE3(0, 0)), 5, 1, 1);
	assert_load(find_row(rows, "region", NULL, WED4(0, 0)), 3, 0, 0);
	g_assert_cmpint(row_int(find_row(rows, "unit", "ESP", MON2(0, 0)),
				"no-shows"), ==, 1);
	g_assert_cmpint(row_int(find_row(rows, "region", NULL, MON2(0, 0)),
				"no-shows"), ==, 1);
	g_assert_cmpint(row_int(find_row(rows, "unit", "ESP", MON2(0, 0)),
				"period-end"), ==, TUE3(0, 0));
}

static void
test_capacity_by_week(Fixture *f, gconstpointer data)
{
	g_autofree char *b1 = NULL, *b2 = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	GVariant *row;

	fixture_start(f, MON2(8, 0));
	b1 = book(f, "ESP/assessment", WED4(9, 0), 0);
	b2 = book(f, "ESP/assessment", local(2026, 3, 9, 11, 0), 0);
	/* Wednesday to the next Tuesday: two ISO weeks, the first from
	 * Monday 2 March although the range starts on the 4th. */
	rows = capacity_rows(f, "assessment", WED4(0, 0),
			     local(2026, 3, 11, 0, 0), REPORT_BY_WEEK);
	g_assert_cmpuint(rows->len, ==, 7 * 2);
	row = find_row(rows, "unit", "ESP", MON2(0, 0));
	/* Only Wednesday's three slots are in the range. */
	assert_load(row, 3, 1, 1);
	g_assert_cmpint(row_int(row, "period-end"), ==,
			local(2026, 3, 9, 0, 0));
	assert_load(find_row(rows, "unit", "ESP", local(2026, 3, 9, 0, 0)), 3,
		    1, 1);
	/* Week of the 9th: ESP Monday 3 + LOH Tuesday 4; SMALL closed. */
	row = find_row(rows, "region", NULL, local(2026, 3, 9, 0, 0));
	assert_load(row, 7, 1, 1);
	/* The mean is 1 of 7; Monday, 1 of 3, is the week's worst day. */
	g_assert_cmpint(row_int(row, "worst-day"), ==,
			local(2026, 3, 9, 0, 0));
	{
		double worst = 0;

		g_assert_true(g_variant_lookup(row, "worst-day-utilisation",
					       "d", &worst));
		g_assert_cmpfloat_with_epsilon(worst, 1.0 / 3.0, 1e-9);
	}
}

static void
test_third_next_available(Fixture *f, gconstpointer data)
{
	g_autofree char *b1 = NULL, *b2 = NULL, *b3 = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	gint64 now = MON2(8, 0);

	fixture_start(f, now);
	b1 = book(f, "ESP/assessment", MON2(9, 0), 0);
	b2 = book(f, "ESP/assessment", MON2(10, 0), 0);
	/* LOH's 10:00 keeps one of its two seats: still a free slot. */
	b3 = book(f, "LOH/assessment", TUE3(10, 0), 0);
	rows = capacity_rows(f, "assessment", MON2(0, 0), TUE3(0, 0),
			     REPORT_BY_DAY);
	/* ESP: Mon 11:00, Wed 09:00, Wed 10:00. */
	g_assert_cmpint(row_int(find_row(rows, "unit", "ESP", MON2(0, 0)),
				"third-next-available"), ==,
			WED4(10, 0) - now);
	/* LOH: Tue 10:00, Tue 11:00, Tue 10 March 10:00. */
	g_assert_cmpint(row_int(find_row(rows, "unit", "LOH", MON2(0, 0)),
				"third-next-available"), ==,
			local(2026, 3, 10, 10, 0) - now);
	g_assert_cmpint(row_int(find_row(rows, "municipality", "444",
					 MON2(0, 0)),
				"third-next-available"), ==,
			local(2026, 3, 10, 10, 0) - now);
	/* SMALL has two slots in all. */
	g_assert_cmpint(row_int(find_row(rows, "unit", "SMALL", MON2(0, 0)),
				"third-next-available"), ==, -1);
	/* Any unit: SMALL Mon 09:00, ESP Mon 11:00, then SMALL Tue 09:00. */
	g_assert_cmpint(row_int(find_row(rows, "region", NULL, MON2(0, 0)),
				"third-next-available"), ==,
			TUE3(9, 0) - now);
}

static void
test_median_lead_time(Fixture *f, gconstpointer data)
{
	g_autofree char *b1 = NULL, *b2 = NULL, *b3 = NULL, *b4 = NULL;
	g_autofree char *b5 = NULL;
	g_autoptr(GPtrArray) days = NULL;
	g_autoptr(GPtrArray) weeks = NULL;

	fixture_start(f, MON2(8, 0));
	b1 = book(f, "ESP/assessment", WED4(9, 0), 0);	/* 49 h */
	b2 = book(f, "LOH/assessment", TUE3(10, 0), 0);	/* 26 h */
	f->now = TUE3(9, 0);
	b3 = book(f, "LOH/assessment", TUE3(10, 0), 0);	/* 1 h */
	f->now = TUE3(10, 0);
	b4 = book(f, "ESP/assessment", WED4(10, 0), 0);	/* 24 h */
	f->now = WED4(8, 0);
	b5 = book(f, "ESP/assessment", WED4(11, 0), 0);	/* 3 h */
	days = capacity_rows(f, "assessment", MON2(0, 0), local(2026, 3, 5, 0,
								 0),
			     REPORT_BY_DAY);
	g_assert_cmpint(row_int(find_row(days, "unit", "ESP", WED4(0, 0)),
				"median-lead-time"), ==, 24 * HOUR);
	/* Two: the mean of the middle pair. */
	g_assert_cmpint(row_int(find_row(days, "unit", "LOH", TUE3(0, 0)),
				"median-lead-time"), ==, (26 + 1) * HOUR / 2);
	g_assert_cmpint(row_int(find_row(days, "unit", "ESP", MON2(0, 0)),
				"median-lead-time"), ==, -1);
	/* The region's week: 1, 3, 24, 26, 49 h, not a median of medians. */
	weeks = capacity_rows(f, "assessment", MON2(0, 0),
			      local(2026, 3, 9, 0, 0), REPORT_BY_WEEK);
	g_assert_cmpint(row_int(find_row(weeks, "region", NULL, MON2(0, 0)),
				"median-lead-time"), ==, 24 * HOUR);
	g_assert_cmpint(row_int(find_row(weeks, "region", NULL, MON2(0, 0)),
				"bookings"), ==, 5);
}

/* Slots at 22:30, 23:00 and 23:30 every evening; the clocks go back on
 * Sunday 25 October. A winter 23:30 read with the summer offset would
 * land on the next day. */
static void
test_days_across_dst(Fixture *f, gconstpointer data)
{
	g_autoptr(GPtrArray) rows = NULL;

	fixture_start(f, local(2026, 10, 24, 12, 0));
	rows = capacity_rows(f, "night-line", local(2026, 10, 24, 0, 0),
			     local(2026, 10, 27, 0, 0), REPORT_BY_DAY);
	for (int day = 24; day <= 26; day++) {
		GVariant *row = find_row(rows, "unit", "ESP",
					 local(2026, 10, day, 0, 0));

		assert_load(row, 3, 0, 0);
		g_assert_cmpint(row_int(row, "period-end"), ==,
				local(2026, 10, day + 1, 0, 0));
	}
	/* The long day has 25 hours. */
	g_assert_cmpint(local(2026, 10, 26, 0, 0) - local(2026, 10, 25, 0, 0),
			==, 25 * HOUR);
}

static void
assert_refused(Fixture *f, ReportQuery *query, SlotdErrorCode code)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = NULL;

	g_assert_false(capacity_report(f, query, &rows, &error));
	g_assert_error(error, SLOTD_ERROR, (gint)code);
	g_assert_null(rows);
}

static void
test_scope_and_limits(Fixture *f, gconstpointer data)
{
	ReportQuery q = { "assessment", MON2(0, 0), WED4(0, 0), REPORT_BY_DAY,
			  NULL, NULL };
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;

	fixture_start(f, MON2(8, 0));
	q.to = q.from;
	assert_refused(f, &q, SLOTD_ERROR_INVALID_ARGS);
	/* report-max-days: 400 by default. */
	q.to = q.from + 401 * (gint64)DAY;
	assert_refused(f, &q, SLOTD_ERROR_INVALID_ARGS);
	q.to = q.from + 400 * (gint64)DAY;
	g_assert_true(capacity_report(f, &q, &rows, &error));
	g_clear_pointer(&rows, g_ptr_array_unref);
	q.to = WED4(0, 0);
	q.service = "no-such-service";
	assert_refused(f, &q, SLOTD_ERROR_NO_SUCH_SERVICE);
	q.service = "assessment";
	q.unit = "NOWHERE";
	assert_refused(f, &q, SLOTD_ERROR_NO_SUCH_UNIT);
	q.unit = NULL;
	q.municipality = "Atlantis";
	assert_refused(f, &q, SLOTD_ERROR_INVALID_ARGS);
	/* Lojo is Lohja: its unit and its own rows, no region. */
	q.municipality = "lojo";
	g_assert_true(capacity_report(f, &q, &rows, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(rows->len, ==, 2 * 2);
	find_row(rows, "unit", "LOH", TUE3(0, 0));
	find_row(rows, "municipality", "444", TUE3(0, 0));
	g_clear_pointer(&rows, g_ptr_array_unref);
	q.municipality = NULL;
	q.unit = "SMALL";
	g_assert_true(capacity_report(f, &q, &rows, &error));
	g_assert_cmpuint(rows->len, ==, 2);
}

/* ---- deadlines --------------------------------------------------------- */

static void
assert_last_day(const DeadlineRule *rule, gint64 referral, int year,
		int month, int day)
{
	GDate last, want;

	report_deadline_day(rule, referral, &last);
	g_date_clear(&want, 1);
	g_date_set_dmy(&want, day, month, year);
	if (g_date_compare(&last, &want) != 0)
		g_error("deadline %d-%02d-%02d, expected %d-%02d-%02d",
			g_date_get_year(&last), g_date_get_month(&last),
			g_date_get_day(&last), year, month, day);
}

static const DeadlineRule working_days_7 = {
	"priority", DEADLINE_UNIT_WORKING_DAYS, 7, 0, 0, -1, -1, NULL
};

static void
test_working_days_midsummer(void)
{
	calendar_init();
	/* Midsummer Eve is Friday 19 June 2026, Midsummer Day the 20th. */
	assert_last_day(&working_days_7, local(2026, 6, 15, 10, 0), 2026, 6,
			25);
	/* Received on the Eve itself: counting starts on Monday. */
	assert_last_day(&working_days_7, local(2026, 6, 19, 10, 0), 2026, 6,
			30);
	/* A Tuesday contact is due on Thursday of the next week. */
	assert_last_day(&working_days_7, local(2026, 6, 2, 14, 0), 2026, 6,
			11);
}

static void
test_working_days_christmas(void)
{
	const DeadlineRule days_28 = {
		"therapy", DEADLINE_UNIT_CALENDAR_DAYS, 28, 0, 0, -1, -1, NULL
	};
	const DeadlineRule months_3 = {
		"care", DEADLINE_UNIT_MONTHS, 3, 0, 0, -1, -1, NULL
	};

	calendar_init();
	/* 24-26 December and New Year's Day are not working days. */
	assert_last_day(&working_days_7, local(2026, 12, 18, 10, 0), 2026, 12,
			31);
	/* ... nor Epiphany, Wednesday 6 January 2027. */
	assert_last_day(&working_days_7, local(2026, 12, 23, 10, 0), 2027, 1,
			7);
	/* The local date counts: 23:30 on Thursday is still Thursday,
	 * 00:30 on Friday (22:30 UTC Thursday) is Friday. */
	assert_last_day(&working_days_7, local(2026, 12, 17, 23, 30), 2026, 12,
			30);
	assert_last_day(&working_days_7, local(2026, 12, 18, 0, 30), 2026, 12,
			31);
	assert_last_day(&days_28, local(2026, 12, 18, 10, 0), 2027, 1, 15);
	assert_last_day(&months_3, local(2026, 11, 30, 10, 0), 2027, 2, 28);
}

static const char *
rule_id(Fixture *f, const char *service, gint64 referral, int age)
{
	const Service *s = region_find_service(f->region, service);
	const DeadlineRule *rule = report_deadline_rule(s, referral, age);

	return rule ? rule->id : NULL;
}

static void
test_rule_versions(Fixture *f, gconstpointer data)
{
	const int unknown = REPORT_AGE_UNKNOWN;

	fixture_start(f, MON2(8, 0));
	g_assert_null(rule_id(f, "primary-care", local(2023, 8, 31, 12, 0),
			      40));
	g_assert_cmpstr(rule_id(f, "primary-care", local(2024, 6, 1, 12, 0),
				40), ==, "cg-2023");
	/* -until is the last day, inclusive, in local time. */
	g_assert_cmpstr(rule_id(f, "primary-care",
				local(2024, 12, 31, 23, 30), 5), ==,
			"cg-2023");
	g_assert_cmpstr(rule_id(f, "primary-care", local(2025, 1, 1, 0, 30),
				40), ==, "cg-adult");
	g_assert_cmpstr(rule_id(f, "primary-care", local(2025, 1, 1, 0, 30),
				22), ==, "cg-young");
	g_assert_cmpstr(rule_id(f, "primary-care", local(2025, 1, 1, 0, 30),
				23), ==, "cg-adult");
	/* Unknown age: the broadest band (23- over -22). */
	g_assert_cmpstr(rule_id(f, "primary-care", local(2025, 6, 1, 12, 0),
				unknown), ==, "cg-adult");
	/* A rule without a band covers every age; the narrower band wins
	 * where it applies, and the band-less one when the age is unknown. */
	g_assert_cmpstr(rule_id(f, "therapy", MON2(8, 0), 30), ==,
			"standard");
	g_assert_cmpstr(rule_id(f, "therapy", MON2(8, 0), 20), ==, "youth");
	g_assert_cmpstr(rule_id(f, "therapy", MON2(8, 0), unknown), ==,
			"standard");
	/* SHL 36 § is for 75+; unknown ages get it as the only rule. */
	g_assert_cmpstr(rule_id(f, "assessment", MON2(8, 0), 80), ==,
			"priority");
	g_assert_null(rule_id(f, "assessment", MON2(8, 0), 40));
	g_assert_cmpstr(rule_id(f, "assessment", MON2(8, 0), unknown), ==,
			"priority");
}

static GVariant *
booking_row(GPtrArray *rows, const char *booking)
{
	for (guint i = 0; i < rows->len; i++) {
		const char *id = NULL;

		if (g_variant_lookup(rows->pdata[i], "booking", "&s", &id) &&
		    g_str_equal(id, booking))
			return rows->pdata[i];
	}
	g_error("no row for booking %s", booking);
	return NULL;
}

static GVariant *
summary_row(GPtrArray *rows, const char *unit)
{
	for (guint i = 0; i < rows->len; i++) {
		const char *level = NULL, *name = NULL;

		g_variant_lookup(rows->pdata[i], "level", "&s", &level);
		g_variant_lookup(rows->pdata[i], "unit", "&s", &name);
		if ((unit == NULL && g_strcmp0(level, "region") == 0) ||
		    (g_strcmp0(level, "unit") == 0 &&
		     g_strcmp0(name, unit) == 0))
			return rows->pdata[i];
	}
	g_error("no summary row for %s", unit ? unit : "the region");
	return NULL;
}

static void
assert_judged(GPtrArray *rows, const char *booking, const char *status,
	      gint32 days_late, gint64 deadline)
{
	GVariant *row = booking_row(rows, booking);
	const char *found = NULL;
	gint32 late = -1;

	g_assert_true(g_variant_lookup(row, "status", "&s", &found));
	g_assert_cmpstr(found, ==, status);
	g_assert_true(g_variant_lookup(row, "days-late", "i", &late));
	g_assert_cmpint(late, ==, days_late);
	g_assert_cmpint(row_int(row, "deadline"), ==, deadline);
}

static void
assert_summary(GVariant *row, guint met, guint breached, guint pending,
	       gboolean at_risk)
{
	guint32 n = G_MAXUINT32;
	gboolean risk = !at_risk;

	g_assert_true(g_variant_lookup(row, "met", "u", &n));
	g_assert_cmpuint(n, ==, met);
	g_assert_true(g_variant_lookup(row, "breached", "u", &n));
	g_assert_cmpuint(n, ==, breached);
	g_assert_true(g_variant_lookup(row, "pending", "u", &n));
	g_assert_cmpuint(n, ==, pending);
	g_assert_true(g_variant_lookup(row, "at-risk", "b", &risk));
	g_assert_cmpint(risk, ==, at_risk);
}

/* Referrals on Friday 20 February are due by Tuesday 3 March (7
 * working days), one on Monday 2 March by Wednesday the 11th. */
static void
test_deadline_report(Fixture *f, gconstpointer data)
{
	gint64 friday = local(2026, 2, 20, 10, 0);
	g_autofree char *met = NULL, *late = NULL, *ahead = NULL;
	g_autofree char *plain = NULL, *full = NULL;
	ReportQuery q = { "assessment", local(2026, 3, 1, 0, 0),
			  local(2026, 3, 15, 0, 0), REPORT_BY_DAY, NULL, NULL };
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;

	fixture_start(f, MON2(8, 0));
	met = book(f, "ESP/assessment", MON2(9, 0), friday);
	late = book(f, "ESP/assessment", WED4(9, 0), friday);
	ahead = book(f, "LOH/assessment", local(2026, 3, 10, 10, 0),
		     MON2(8, 0));
	plain = book(f, "ESP/assessment", MON2(10, 0), 0);
	/* SMALL's last free slot goes: a referral now would wait. */
	full = book(f, "SMALL/assessment", TUE3(9, 0), 0);
	f->now = MON2(9, 30);
	g_assert_true(deadline_report(f, &q, &rows, &error));
	g_assert_no_error(error);
	/* Three bookings, three units, the region: no row for `plain`. */
	g_assert_cmpuint(rows->len, ==, 3 + 3 + 1);
	assert_judged(rows, met, "met", 0, local(2026, 3, 4, 0, 0) - 1);
	assert_judged(rows, late, "breached", 1, local(2026, 3, 4, 0, 0) - 1);
	assert_judged(rows, ahead, "pending", 0,
		      local(2026, 3, 12, 0, 0) - 1);
	assert_summary(summary_row(rows, "ESP"), 1, 1, 0, FALSE);
	assert_summary(summary_row(rows, "LOH"), 0, 0, 1, FALSE);
	assert_summary(summary_row(rows, "SMALL"), 0, 0, 0, TRUE);
	assert_summary(summary_row(rows, NULL), 1, 1, 1, FALSE);
	g_assert_cmpint(row_int(summary_row(rows, "ESP"), "next-free-start"),
			==, MON2(11, 0));
	g_assert_cmpint(row_int(summary_row(rows, "SMALL"),
				"next-free-start"), ==, -1);
	g_assert_cmpint(row_int(summary_row(rows, NULL),
				"new-referral-deadline"), ==,
			local(2026, 3, 12, 0, 0) - 1);
}

/* The `age` extra picks the band; a booking no rule covers is only
 * counted. */
static void
test_deadline_ages(Fixture *f, gconstpointer data)
{
	gint64 friday = local(2026, 2, 20, 10, 0);
	g_autofree char *old = NULL;
	g_autoptr(GPtrArray) rows = NULL;
	g_autoptr(GError) error = NULL;
	ReportQuery q = { "assessment", MON2(0, 0), local(2026, 3, 9, 0, 0),
			  REPORT_BY_DAY, "ESP", NULL };
	guint32 no_rule = 0;

	fixture_start(f, MON2(8, 0));
	for (int i = 0; i < 2; i++) {
		g_autoptr(StoreBooking) b = g_new0(StoreBooking, 1);
		g_autofree char *slot = slot_at(f, "ESP/assessment",
						WED4(9 + i, 0));
		GVariantDict extras;

		g_variant_dict_init(&extras, NULL);
		g_variant_dict_insert(&extras, "age", "u", i == 0 ? 80 : 40);
		b->slot = g_ascii_strtoll(slot + 2, NULL, 10);
		b->offering = g_strdup("ESP/assessment");
		b->unit = g_strdup("ESP");
		b->service = g_strdup("assessment");
		b->start = WED4(9 + i, 0);
		b->end = b->start + HOUR;
		b->client_ref = g_strdup_printf("aged-%d", i);
		b->status = g_strdup("booked");
		b->seats = 1;
		b->referral_time = friday;
		b->extras = g_variant_ref_sink(g_variant_dict_end(&extras));
		b->created = b->modified = f->now;
		g_assert_true(store_insert_booking(f->store, b, &error));
		g_assert_no_error(error);
		if (i == 0)
			old = capacity_booking_id(b->id);
	}
	g_assert_true(deadline_report(f, &q, &rows, &error));
	g_assert_no_error(error);
	/* One booking row and ESP's; no region row with a filter. */
	g_assert_cmpuint(rows->len, ==, 2);
	assert_judged(rows, old, "breached", 1, local(2026, 3, 4, 0, 0) - 1);
	g_assert_true(g_variant_lookup(summary_row(rows, "ESP"), "no-rule",
				       "u", &no_rule));
	g_assert_cmpuint(no_rule, ==, 1);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* Each report test twice: in this thread on the main connection,
	 * and on a planner worker through a read-only one (/worker/). */
#define ADD(path, func) \
	do { \
		g_test_add("/report" path, Fixture, NULL, fixture_set_up, \
			   func, fixture_tear_down); \
		g_test_add("/report/worker" path, Fixture, \
			   GINT_TO_POINTER(TRUE), fixture_set_up, func, \
			   fixture_tear_down); \
	} while (0)
	ADD("/capacity/counts-per-unit-municipality-region",
	    test_capacity_counts);
	ADD("/capacity/iso-weeks", test_capacity_by_week);
	ADD("/capacity/cancellations-by-client-and-provider",
	    test_cancellations_by_whom);
	ADD("/capacity/third-next-available", test_third_next_available);
	ADD("/capacity/median-lead-time", test_median_lead_time);
	ADD("/capacity/local-days-across-dst", test_days_across_dst);
	ADD("/capacity/scope-and-limits", test_scope_and_limits);
	g_test_add("/report/deadline/rules-by-date-and-age", Fixture, NULL,
		   fixture_set_up, test_rule_versions, fixture_tear_down);
	ADD("/deadline/met-breached-pending-at-risk", test_deadline_report);
	ADD("/deadline/age-picks-the-band", test_deadline_ages);
#undef ADD
	g_test_add_func("/report/deadline/working-days-across-midsummer",
			test_working_days_midsummer);
	g_test_add_func("/report/deadline/working-days-across-christmas",
			test_working_days_christmas);
	return g_test_run();
}
