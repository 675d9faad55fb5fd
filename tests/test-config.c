/* Tests of the configuration reader and the region model: the example
 * region, lookups, travel, every kind of broken file, digests and the
 * plugin-facing key readers. Each test writes real files into its own
 * temporary directory. */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "calendar.h"
#include "config.h"

/* ---- a small valid region, written file by file ---------------------- */

static const char base_entry[] =
	"[daemon]\n"
	"include=region.conf;units.conf\n"
	"service-dir=services.d\n"
	"\n"
	"[region]\n"
	"id=test\n"
	"name-fi=Testialue\n"
	"name-sv=Testområde\n";

static const char base_region[] =
	"[municipality 049]\n"
	"name-fi=Espoo\n"
	"name-sv=Esbo\n"
	"area=west\n"
	"language-status=bilingual-fi\n"
	"internal-travel-minutes=25\n"
	"\n"
	"[municipality 444]\n"
	"name-fi=Lohja\n"
	"name-sv=Lojo\n"
	"area=west\n"
	"language-status=bilingual-fi\n"
	"\n"
	"[municipality 710]\n"
	"name-fi=Raasepori\n"
	"name-sv=Raseborg\n"
	"area=west\n"
	"language-status=bilingual-sv\n"
	"\n"
	"[travel]\n"
	"049-444=35\n"
	"444-710=40\n";

static const char base_units[] =
	"[unit U1]\n"
	"municipality=049\n"
	"title-fi=Yksikkö yksi\n"
	"title-sv=Enhet ett\n"
	"languages=fi;sv\n"
	"\n"
	"[unit U2]\n"
	"municipality=lojo\n"
	"title-fi=Yksikkö kaksi\n"
	"title-sv=Enhet två\n"
	"languages=fi\n";

static const char base_services[] =
	"[service S1]\n"
	"plugin=fixed\n"
	"title-fi=Palvelu\n"
	"title-sv=Tjänst\n"
	"\n"
	"[offering U1 S1]\n"
	"windows=day\n"
	"window-day=08:00-16:00 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\n";

typedef struct {
	char *dir;
} Fixture;

static void
remove_tree(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR))
			remove_tree(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

static void
write_file(Fixture *fixture, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(fixture->dir, name, NULL);
	g_autofree char *parent = g_path_get_dirname(path);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(parent, 0700), ==, 0);
	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
}

static void
append_file(Fixture *fixture, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(fixture->dir, name, NULL);
	g_autofree char *old = NULL;
	g_autofree char *joined = NULL;

	g_assert_true(g_file_get_contents(path, &old, NULL, NULL));
	joined = g_strconcat(old, "\n", text, NULL);
	write_file(fixture, name, joined);
}

static void
fixture_set_up(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	fixture->dir = g_dir_make_tmp("slotd-config-XXXXXX", &error);
	g_assert_no_error(error);
	write_file(fixture, "slotd.conf", base_entry);
	write_file(fixture, "region.conf", base_region);
	write_file(fixture, "units.conf", base_units);
	write_file(fixture, "services.d/a.conf", base_services);
}

static void
fixture_tear_down(Fixture *fixture, gconstpointer data)
{
	remove_tree(fixture->dir);
	g_free(fixture->dir);
}

static Region *
load(Fixture *fixture, GError **error)
{
	g_autofree char *entry = g_build_filename(fixture->dir, "slotd.conf",
						  NULL);
	ConfigOptions options = { .config_file = entry };

	return config_load(&options, error);
}

static Region *
load_ok(Fixture *fixture)
{
	g_autoptr(GError) error = NULL;
	Region *region = load(fixture, &error);

	g_assert_no_error(error);
	g_assert_nonnull(region);
	return region;
}

static void
assert_contains(const char *text, const char *part)
{
	if (part != NULL && strstr(text, part) == NULL)
		g_error("\"%s\" does not contain \"%s\"", text, part);
}

/* ---- the example region ---------------------------------------------- */

static Region *
load_example(void)
{
	const char *root = g_getenv("SLOTD_SOURCE_ROOT");
	g_autofree char *entry = NULL;
	g_autoptr(GError) error = NULL;
	ConfigOptions options = { 0 };
	Region *region;

	if (root == NULL)
		root = ".";
	entry = g_build_filename(root, "config", "example", "slotd.conf",
				 NULL);
	options.config_file = entry;
	region = config_load(&options, &error);
	g_assert_no_error(error);
	g_assert_nonnull(region);
	return region;
}

static void
test_example_loads(void)
{
	static const char *const units[] = {
		"W-HH-ESP", "W-HH-LOH", "W-HH-RAS", "W-SKP", "W-SKP-LOH",
		"W-SO-LOH", "W-SO-ESP1", "W-SO-ESP2", "W-SO-ESP3",
		"W-SO-ESP4", "W-SO-ESP5", "W-SO-KIRK", "W-SO-NUM",
		"W-SO-KAR", "W-SO-RAS", "W-SNA-ESP", "W-SNA-KK", "W-SNA-LV",
		"W-SNA-RHI", "W-DIGI", "E-HH-POR", "E-HH-LOV", "E-HH-SIP",
		"E-SKP", "E-SO-POR", "E-SO-LOV", "E-SO-SIP", "E-SO-ASK",
		"E-SO-PUK", "E-SO-MYR", "E-SO-LAP", "E-SNA", "E-TEL",
		"E-DIGI",
	};
	g_autoptr(Region) region = load_example();

	g_assert_cmpstr(region->daemon.region_id, ==, "nyland");
	g_assert_cmpuint(region->municipalities->len, ==, 17);
	g_assert_cmpuint(region->units->len, >=, G_N_ELEMENTS(units));
	for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
		if (region_find_unit(region, units[i]) == NULL)
			g_error("unit %s missing from the example", units[i]);
	}
	g_assert_cmpstr(region_find_unit(region, "W-HH-RAS")->languages[0], ==,
			"sv");
	g_assert_cmpstr(region_find_unit(region, "E-HH-LOV")->municipality, ==,
			"434");
	g_assert_cmpuint(region->daemon.horizon_days, ==, 120);
	g_assert_cmpstr(region->daemon.access.admin_groups[0], ==,
			"slotd-admin");
}

static void
test_example_municipalities(void)
{
	g_autoptr(Region) region = load_example();
	const Municipality *askola = region_find_municipality(region, "018");
	const Municipality *inkoo = region_find_municipality(region, "Ingå");

	g_assert_nonnull(askola);
	g_assert_cmpstr(askola->name_sv, ==, "Askola");
	g_assert_cmpstr(askola->area, ==, "east");
	g_assert_cmpint(askola->language_status, ==, LANGUAGE_STATUS_FINNISH);
	g_assert_nonnull(inkoo);
	g_assert_cmpstr(inkoo->code, ==, "149");
	g_assert_cmpstr(language_status_to_string(inkoo->language_status), ==,
			"bilingual-sv");
	g_assert_cmpint(region_find_municipality(region, "Vihti")
				->language_status, ==, LANGUAGE_STATUS_FINNISH);
	g_assert_cmpint(region_find_municipality(region, "Raseborg")
				->language_status, ==,
			LANGUAGE_STATUS_BILINGUAL_SV);
}

static void
test_example_lookups(void)
{
	static const struct {
		const char *typed;
		const char *code;
	} cases[] = {
		{ "444", "444" },	 { "Lohja", "444" },
		{ "lojo", "444" },	 { "LOJO", "444" },
		{ "Raseborg", "710" },	 { "raasepori", "710" },
		{ "MÖRSKOM", "504" },	 { "Mo\xcc\x88rskom", "504" },
		{ "pukkila", "616" },	 { "Ekenäs", NULL },
		{ "Helsinki", NULL },	 { "", NULL },
		{ "\xff\xfe", NULL },
	};
	g_autoptr(Region) region = load_example();

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		const Municipality *found =
			region_find_municipality(region, cases[i].typed);

		g_assert_cmpstr(found != NULL ? found->code : NULL, ==,
				cases[i].code);
	}
}

static void
test_example_travel(void)
{
	g_autoptr(Region) region = load_example();
	guint n = region->municipalities->len;

	/* As written, both ways. */
	g_assert_cmpint(region_travel_minutes(region, "444", "049"), ==, 35);
	g_assert_cmpint(region_travel_minutes(region, "049", "444"), ==, 35);
	/* Derived: Hanko -> Porvoo 125 -> Loviisa 30 beats every other
	 * way round. */
	g_assert_cmpint(region_travel_minutes(region, "078", "434"), ==, 155);
	g_assert_cmpint(region_travel_minutes(region, "434", "078"), ==, 155);
	/* Derived through Espoo: Kauniainen 10 + Kirkkonummi 20. */
	g_assert_cmpint(region_travel_minutes(region, "235", "257"), ==, 30);
	/* Within a municipality: its internal travel. */
	g_assert_cmpint(region_travel_minutes(region, "049", "049"), ==, 25);
	g_assert_cmpint(region_travel_minutes(region, "049", "999"), ==, -1);
	for (guint i = 0; i < n; i++) {
		for (guint j = 0; j < n; j++) {
			guint there = region->travel[i * n + j];

			g_assert_cmpuint(there, !=, G_MAXUINT);
			g_assert_cmpuint(there, ==, region->travel[j * n + i]);
		}
	}
}

static void
test_example_services(void)
{
	g_autoptr(Region) region = load_example();
	const Service *therapy = region_find_service(region, "short-therapy");
	SlotdOffering *digi = region_find_offering(region,
						   "W-DIGI/remote-counselling");
	const DeadlineRule *rule;
	const Window *day;

	g_assert_nonnull(therapy);
	g_assert_cmpstr(therapy->kind, ==, "fixed");
	g_assert_cmpuint(therapy->deadlines->len, ==, 1);
	rule = therapy->deadlines->pdata[0];
	g_assert_cmpint(rule->unit, ==, DEADLINE_UNIT_CALENDAR_DAYS);
	g_assert_cmpuint(rule->amount, ==, 28);
	g_assert_cmpint(rule->min_age, ==, -1);
	g_assert_cmpint(rule->max_age, ==, 22);
	g_assert_cmpint(rule->valid_from, ==,
			calendar_local_to_utc(2025, 5, 1, 0, 0));
	g_assert_nonnull(digi);
	g_assert_cmpstr(slotd_offering_modality(digi), ==, "video");
	g_assert_true(digi->closed_on_holidays);
	g_assert_true(slotd_offering_has_language(digi, "en"));
	day = digi->windows->pdata[0];
	g_assert_cmpint(day->start_minute, ==, 9 * 60);
	g_assert_cmpint(day->end_minute, ==, 15 * 60);
}

/* ---- the small region ----------------------------------------------- */

static void
test_small_defaults(Fixture *fixture, gconstpointer data)
{
	g_autoptr(Region) region = load_ok(fixture);
	SlotdOffering *offering = region_find_offering(region, "U1/S1");
	const Window *day;
	GDate first;

	g_assert_cmpstr(region->daemon.http_address, ==, "127.0.0.1:8470");
	g_assert_cmpuint(region->daemon.hold_max_seconds, ==, 900);
	g_assert_cmpuint(region->daemon.feed_refresh_minutes, ==, 15);
	g_assert_cmpuint(region->daemon.cancelled_feed_days, ==, 14);
	g_assert_cmpuint(region->daemon.report_max_days, ==, 400);
	g_assert_nonnull(region->daemon.state_dir);
	g_assert_nonnull(region->daemon.plugin_dir);
	g_assert_nonnull(region->daemon.access.read_groups);
	g_assert_cmpstr(region_find_unit(region, "U2")->municipality, ==,
			"444");
	g_assert_nonnull(offering);
	g_assert_cmpstr(slotd_offering_modality(offering), ==, "onsite");
	g_assert_cmpuint(slotd_offering_slot_minutes(offering), ==, 30);
	g_assert_cmpuint(slotd_offering_seats(offering), ==, 1);
	g_assert_cmpstrv(slotd_offering_languages(offering),
			 ((const char *const[]){ "fi", "sv", NULL }));
	g_assert_cmpstr(slotd_offering_kind(offering), ==, "fixed");
	g_assert_cmpstr(slotd_offering_municipality(offering), ==, "049");
	day = offering->windows->pdata[0];
	g_assert_cmpuint(day->capacity, ==, 1);
	g_date_clear(&first, 1);
	g_date_set_dmy(&first, 1, 1, 2025);
	g_assert_cmpint(g_date_compare(&day->valid_from, &first), ==, 0);
	g_assert_false(g_date_valid(&day->valid_until));
	g_assert_cmpint(region_travel_minutes(region, "049", "710"), ==, 75);
	g_assert_cmpint(region_travel_minutes(region, "444", "444"), ==, 15);
}

static void
test_small_overrides(Fixture *fixture, gconstpointer data)
{
	g_autofree char *entry = g_build_filename(fixture->dir, "slotd.conf",
						  NULL);
	g_autofree char *state = g_build_filename(fixture->dir, "state", NULL);
	ConfigOptions options = { .config_file = entry };
	g_autoptr(GError) error = NULL;
	g_autoptr(Region) from_file = NULL;
	g_autoptr(Region) from_options = NULL;

	write_file(fixture, "slotd.conf",
		   "[daemon]\nstate-dir=state\nplugin-dir=/opt/plugins\n"
		   "include=region.conf;units.conf\nservice-dir=services.d\n"
		   "http-address=\n[region]\nid=t\nname-fi=T\nname-sv=T\n"
		   "[access]\nread-groups=staff; planners\n");
	from_file = config_load(&options, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(from_file->daemon.state_dir, ==, state);
	g_assert_cmpstr(from_file->daemon.plugin_dir, ==, "/opt/plugins");
	g_assert_cmpstr(from_file->daemon.http_address, ==, "");
	g_assert_cmpstrv(from_file->daemon.access.read_groups,
			 ((const char *const[]){ "staff", "planners", NULL }));
	options.state_dir = "/srv/slotd";
	options.plugin_dir = "/srv/plugins";
	from_options = config_load(&options, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(from_options->daemon.state_dir, ==, "/srv/slotd");
	g_assert_cmpstr(from_options->daemon.plugin_dir, ==, "/srv/plugins");
}

static void
test_small_closures(Fixture *fixture, gconstpointer data)
{
	g_autoptr(Region) region = NULL;
	const Unit *unit;
	GDate date;

	append_file(fixture, "units.conf",
		    "[unit U3]\nmunicipality=Raseborg\ntitle-fi=K\n"
		    "title-sv=K\nlanguages=sv\n"
		    "closures=2026-12-22..2027-01-06; 2026-06-19\n");
	region = load_ok(fixture);
	unit = region_find_unit(region, "U3");
	g_date_clear(&date, 1);
	g_date_set_dmy(&date, 22, 12, 2026);
	g_assert_true(region_unit_closed_on(unit, &date));
	g_date_set_dmy(&date, 6, 1, 2027);
	g_assert_true(region_unit_closed_on(unit, &date));
	g_date_set_dmy(&date, 7, 1, 2027);
	g_assert_false(region_unit_closed_on(unit, &date));
	g_date_set_dmy(&date, 19, 6, 2026);
	g_assert_true(region_unit_closed_on(unit, &date));
	g_date_set_dmy(&date, 21, 12, 2026);
	g_assert_false(region_unit_closed_on(unit, &date));
}

static void
test_small_windows(Fixture *fixture, gconstpointer data)
{
	g_autoptr(Region) region = NULL;
	SlotdOffering *offering;
	const Window *night;

	append_file(fixture, "services.d/a.conf",
		    "[offering U2 S1]\nseats=3\nwindows=day;night\n"
		    "window-day=08:00-16:00 FREQ=DAILY\ncapacity-day=2\n"
		    "window-night=22:00-07:30 FREQ=DAILY\n"
		    "window-night-from=2026-01-01\n"
		    "window-night-until=2026-12-31\n");
	region = load_ok(fixture);
	offering = region_find_offering(region, "U2/S1");
	g_assert_cmpstrv(slotd_offering_windows(offering),
			 ((const char *const[]){ "day", "night", NULL }));
	g_assert_cmpuint(((Window *)offering->windows->pdata[0])->capacity, ==,
			 2);
	night = offering->windows->pdata[1];
	g_assert_cmpuint(night->capacity, ==, 3);
	g_assert_cmpint(night->start_minute, ==, 22 * 60);
	g_assert_cmpint(night->end_minute, ==, 7 * 60 + 30);
	g_assert_cmpstr(night->rrule, ==, "FREQ=DAILY");
	g_assert_cmpint(g_date_get_year(&night->valid_until), ==, 2026);
	/* The unit speaks only Finnish; the offering inherits it. */
	g_assert_cmpstrv(slotd_offering_languages(offering),
			 ((const char *const[]){ "fi", NULL }));
}

/* A pair as written wins over a shorter way round: the administrator
 * knows that road. */
static void
test_small_given_pair(Fixture *fixture, gconstpointer data)
{
	g_autoptr(Region) region = NULL;

	/* [travel] is the last group of region.conf. */
	append_file(fixture, "region.conf", "710-049=90\n");
	region = load_ok(fixture);
	g_assert_cmpint(region_travel_minutes(region, "049", "710"), ==, 90);
	g_assert_cmpint(region_travel_minutes(region, "Raseborg", "Esbo"), ==,
			90);
}

/* ---- broken configurations ------------------------------------------ */

typedef struct {
	const char *path;   /* test path suffix */
	const char *file;   /* file to change */
	gboolean replace;   /* replace it whole, else append */
	const char *text;
	const char *want[4]; /* parts the message must contain */
} BrokenCase;

static const BrokenCase broken_cases[] = {
	{ "bad-municipality-code", "region.conf", FALSE,
	  "[municipality 12]\nname-fi=X\narea=west\n"
	  "language-status=finnish\n",
	  { "region.conf: ", "[municipality 12]", "three digits" } },
	{ "unknown-municipality", "units.conf", FALSE,
	  "[unit U9]\nmunicipality=Ekenäs\ntitle-fi=X\ntitle-sv=X\n"
	  "languages=fi\n",
	  { "units.conf: ", "[unit U9]", "municipality", "Ekenäs" } },
	{ "unknown-language", "units.conf", FALSE,
	  "[unit U9]\nmunicipality=049\ntitle-fi=X\ntitle-sv=X\n"
	  "languages=fi;de\n",
	  { "units.conf: ", "[unit U9] languages", "\"de\"",
	    "use fi, sv or en" } },
	{ "bad-window-time", "services.d/a.conf", FALSE,
	  "[offering U2 S1]\nwindows=day\n"
	  "window-day=25:00-26:00 FREQ=DAILY\n",
	  { "services.d/a.conf: ", "[offering U2 S1] window-day", "25:00",
	    "HH:MM-HH:MM RRULE" } },
	{ "bad-rrule", "services.d/a.conf", FALSE,
	  "[offering U2 S1]\nwindows=day\n"
	  "window-day=08:00-16:00 FREQ=SOMETIMES\n",
	  { "services.d/a.conf: ", "[offering U2 S1] window-day", "RRULE" } },
	{ "unknown-key", "units.conf", FALSE,
	  "[unit U9]\nmunicipality=049\ntitle-fi=X\ntitle-sv=X\n"
	  "languages=fi\ncolour=blue\n",
	  { "units.conf: ", "[unit U9] colour", "unknown key" } },
	{ "unknown-group", "units.conf", FALSE, "[unicorn U9]\nid=1\n",
	  { "units.conf: ", "[unicorn U9]", "unknown group" } },
	{ "malformed-group", "services.d/a.conf", FALSE,
	  "[offering U1]\nwindows=day\n",
	  { "services.d/a.conf: ", "[offering U1]",
	    "[offering UNIT SERVICE]" } },
	{ "bad-group-id", "units.conf", FALSE, "[unit U/9]\n",
	  { "units.conf: ", "[unit U/9]", "not an id" } },
	{ "duplicate-unit", "services.d/b.conf", TRUE,
	  "[unit U1]\nmunicipality=049\ntitle-fi=X\ntitle-sv=X\n"
	  "languages=fi\n",
	  { "services.d/b.conf: ", "[unit U1]", "units.conf" } },
	{ "offering-unknown-unit", "services.d/a.conf", FALSE,
	  "[offering NOPE S1]\nwindows=day\n"
	  "window-day=08:00-16:00 FREQ=DAILY\n",
	  { "services.d/a.conf: ", "[offering NOPE S1]", "unknown unit" } },
	{ "offering-unknown-service", "services.d/a.conf", FALSE,
	  "[offering U1 NOPE]\nwindows=day\n"
	  "window-day=08:00-16:00 FREQ=DAILY\n",
	  { "services.d/a.conf: ", "[offering U1 NOPE]",
	    "unknown service" } },
	{ "unreachable-municipality", "region.conf", FALSE,
	  "[municipality 078]\nname-fi=Hanko\nname-sv=Hangö\narea=west\n"
	  "language-status=bilingual-fi\n",
	  { "region.conf: ", "[travel]", "078", "no path" } },
	{ "missing-title", "units.conf", FALSE,
	  "[unit U9]\nmunicipality=049\ntitle-sv=X\nlanguages=fi\n",
	  { "units.conf: ", "[unit U9] title-fi", "missing" } },
	{ "missing-windows", "services.d/a.conf", FALSE,
	  "[offering U2 S1]\nseats=2\n",
	  { "services.d/a.conf: ", "[offering U2 S1] windows", "missing" } },
	{ "listed-window-missing", "services.d/a.conf", FALSE,
	  "[offering U2 S1]\nwindows=day;night\n"
	  "window-day=08:00-16:00 FREQ=DAILY\n",
	  { "[offering U2 S1] window-night", "missing" } },
	{ "capacity-not-a-number", "services.d/a.conf", FALSE,
	  "[offering U2 S1]\nwindows=day\n"
	  "window-day=08:00-16:00 FREQ=DAILY\ncapacity-day=lots\n",
	  { "services.d/a.conf: ", "[offering U2 S1] capacity-day", "lots",
	    "whole number" } },
	{ "seats-out-of-range", "services.d/a.conf", FALSE,
	  "[offering U2 S1]\nwindows=day\nseats=0\n"
	  "window-day=08:00-16:00 FREQ=DAILY\n",
	  { "[offering U2 S1] seats", "out of range" } },
	{ "window-until-before-from", "services.d/a.conf", FALSE,
	  "[offering U2 S1]\nwindows=day\n"
	  "window-day=08:00-16:00 FREQ=DAILY\n"
	  "window-day-from=2026-05-01\nwindow-day-until=2026-04-30\n",
	  { "[offering U2 S1] window-day-until", "before" } },
	{ "unknown-modality", "services.d/a.conf", FALSE,
	  "[offering U2 S1]\nwindows=day\nmodality=telepathy\n"
	  "window-day=08:00-16:00 FREQ=DAILY\n",
	  { "[offering U2 S1] modality", "onsite, home, phone or video" } },
	{ "closure-reversed", "units.conf", FALSE,
	  "[unit U9]\nmunicipality=049\ntitle-fi=X\ntitle-sv=X\n"
	  "languages=fi\nclosures=2026-12-31..2026-12-01\n",
	  { "units.conf: ", "[unit U9] closures", "ends before" } },
	{ "closure-not-a-date", "units.conf", FALSE,
	  "[unit U9]\nmunicipality=049\ntitle-fi=X\ntitle-sv=X\n"
	  "languages=fi\nclosures=2026-02-30\n",
	  { "[unit U9] closures", "2026-02-30", "YYYY-MM-DD" } },
	{ "unknown-language-status", "region.conf", FALSE,
	  "[municipality 078]\nname-fi=Hanko\narea=west\n"
	  "language-status=trilingual\n",
	  { "[municipality 078] language-status", "trilingual" } },
	{ "unknown-area", "region.conf", FALSE,
	  "[municipality 078]\nname-fi=Hanko\narea=north\n"
	  "language-status=finnish\n",
	  { "[municipality 078] area", "west or east" } },
	{ "duplicate-name", "region.conf", FALSE,
	  "[municipality 078]\nname-fi=Hanko\nname-sv=Lojo\narea=west\n"
	  "language-status=finnish\n",
	  { "[municipality 078] name-sv", "444" } },
	{ "travel-conflict", "region.conf", FALSE, "444-049=40\n",
	  { "region.conf: ", "[travel] 444-049", "symmetric" } },
	{ "bad-deadline", "services.d/a.conf", FALSE,
	  "[service S2]\nplugin=fixed\ntitle-fi=X\ntitle-sv=X\n"
	  "deadlines=d\ndeadline-d=7 fortnights\n",
	  { "[service S2] deadline-d", "working-days" } },
	{ "bad-age-band", "services.d/a.conf", FALSE,
	  "[service S2]\nplugin=fixed\ntitle-fi=X\ntitle-sv=X\n"
	  "deadlines=d\ndeadline-d=7 working-days\ndeadline-d-ages=80-75\n",
	  { "[service S2] deadline-d-ages", "MIN-MAX" } },
	{ "deadline-key-unlisted", "services.d/a.conf", FALSE,
	  "[service S2]\nplugin=fixed\ntitle-fi=X\ntitle-sv=X\n"
	  "deadline-d=7 working-days\n",
	  { "[service S2] deadline-d", "unknown key" } },
	{ "daemon-in-include", "units.conf", FALSE,
	  "[daemon]\nhorizon-days=30\n",
	  { "units.conf: ", "[daemon]", "entry point" } },
	{ "daemon-unknown-key", "slotd.conf", TRUE,
	  "[daemon]\nhorizon=30\n[region]\nid=t\nname-fi=T\nname-sv=T\n",
	  { "slotd.conf: ", "[daemon] horizon", "unknown key" } },
	{ "horizon-out-of-range", "slotd.conf", TRUE,
	  "[daemon]\nhorizon-days=3\n[region]\nid=t\nname-fi=T\n"
	  "name-sv=T\n",
	  { "slotd.conf: ", "[daemon] horizon-days", "7..730" } },
	{ "missing-include", "slotd.conf", TRUE,
	  "[daemon]\ninclude=nowhere.conf\n",
	  { "slotd.conf: ", "[daemon] include", "nowhere.conf" } },
	{ "missing-region", "slotd.conf", TRUE,
	  "[daemon]\ninclude=region.conf;units.conf\n",
	  { "slotd.conf: ", "[region]", "missing" } },
	{ "syntax-error", "units.conf", FALSE, "this is not a key file\n",
	  { "units.conf: " } },
	{ "bad-http-address", "slotd.conf", TRUE,
	  "[daemon]\nhttp-address=localhost\n[region]\nid=t\nname-fi=T\n"
	  "name-sv=T\n",
	  { "[daemon] http-address", "HOST:PORT" } },
};

static void
test_broken(Fixture *fixture, gconstpointer data)
{
	const BrokenCase *broken = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(Region) region = NULL;

	if (broken->replace)
		write_file(fixture, broken->file, broken->text);
	else
		append_file(fixture, broken->file, broken->text);
	region = load(fixture, &error);
	g_assert_null(region);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG);
	g_test_message("%s", error->message);
	for (guint i = 0; i < G_N_ELEMENTS(broken->want); i++)
		assert_contains(error->message, broken->want[i]);
}

/* A file name alone is not enough when two directories hold files of
 * the same name: the message carries the path from the entry point. */
static void
test_broken_same_basename(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Region) region = NULL;

	write_file(fixture, "slotd.conf",
		   "[daemon]\ninclude=region.conf;units.conf;more/units.conf\n"
		   "service-dir=services.d\n"
		   "[region]\nid=t\nname-fi=T\nname-sv=T\n");
	write_file(fixture, "more/units.conf", "[unit U7]\ncolour=red\n");
	region = load(fixture, &error);
	g_assert_null(region);
	assert_contains(error->message, "more/units.conf: [unit U7] colour");
}

static void
test_broken_travel_code(Fixture *fixture, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Region) region = NULL;

	/* [travel] is the last group of region.conf. */
	append_file(fixture, "region.conf", "049-999=10\n");
	region = load(fixture, &error);
	g_assert_null(region);
	assert_contains(error->message, "region.conf: [travel] 049-999");
	assert_contains(error->message, "999");
}

/* ---- digests ---------------------------------------------------------- */

static char *
digest_of(Fixture *fixture, const char *offering_id)
{
	g_autoptr(Region) region = load_ok(fixture);
	SlotdOffering *offering = region_find_offering(region, offering_id);

	g_assert_nonnull(offering);
	g_assert_cmpuint(strlen(offering->config_digest), ==, 64);
	return g_strdup(offering->config_digest);
}

static void
test_digest(Fixture *fixture, gconstpointer data)
{
	g_autofree char *before = digest_of(fixture, "U1/S1");
	g_autofree char *same = digest_of(fixture, "U1/S1");
	g_autofree char *unrelated = NULL;
	g_autofree char *window = NULL;
	g_autofree char *closure = NULL;
	g_autofree char *closed = NULL;

	g_assert_cmpstr(before, ==, same);
	append_file(fixture, "units.conf",
		    "[unit U5]\nmunicipality=049\ntitle-fi=Muu\n"
		    "title-sv=Annan\nlanguages=en\n");
	unrelated = digest_of(fixture, "U1/S1");
	g_assert_cmpstr(before, ==, unrelated);

	write_file(fixture, "services.d/a.conf",
		   "[service S1]\nplugin=fixed\ntitle-fi=Palvelu\n"
		   "title-sv=Tjänst\n[offering U1 S1]\nwindows=day\n"
		   "window-day=08:00-15:00 FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\n");
	window = digest_of(fixture, "U1/S1");
	g_assert_cmpstr(before, !=, window);

	/* Back to the first window; now the unit closes a day. */
	write_file(fixture, "services.d/a.conf", base_services);
	closed = g_strconcat("[unit U1]\nmunicipality=049\n"
			     "title-fi=Yksikkö yksi\ntitle-sv=Enhet ett\n"
			     "languages=fi;sv\nclosures=2026-12-24\n",
			     strstr(base_units, "[unit U2]"), NULL);
	write_file(fixture, "units.conf", closed);
	closure = digest_of(fixture, "U1/S1");
	g_assert_cmpstr(before, !=, closure);
}

/* ---- what plugins see ------------------------------------------------- */

static void
test_offering_get(Fixture *fixture, gconstpointer data)
{
	g_autoptr(Region) region = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *name = NULL;
	g_auto(GStrv) list = NULL;
	SlotdOffering *offering;
	gint64 number;
	double ratio;
	gboolean flag;

	append_file(fixture, "services.d/a.conf",
		    "visits=99\nratio=0.5\nsmall=yes\nnames=a; b;\n"
		    "label=  Hello  \n");
	region = load_ok(fixture);
	offering = region_find_offering(region, "U1/S1");

	g_assert_false(slotd_offering_get_int(offering, "visits", 1, 1, 10,
					      &number, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG);
	assert_contains(error->message,
			"services.d/a.conf: [offering U1 S1] visits");
	assert_contains(error->message, "out of range");
	g_clear_error(&error);

	g_assert_true(slotd_offering_get_int(offering, "absent", 7, 1, 10,
					     &number, &error));
	g_assert_cmpint(number, ==, 7);
	g_assert_true(slotd_offering_get_double(offering, "ratio", 0, 0, 1,
						&ratio, &error));
	g_assert_cmpfloat(ratio, ==, 0.5);
	g_assert_false(slotd_offering_get_bool(offering, "small", FALSE, &flag,
					       &error));
	assert_contains(error->message, "[offering U1 S1] small");
	g_clear_error(&error);
	g_assert_true(slotd_offering_get_string_list(offering, "names", &list,
						     &error));
	g_assert_cmpstrv(list, ((const char *const[]){ "a", "b", NULL }));
	g_assert_true(slotd_offering_get_string(offering, "label", NULL, &name,
						&error));
	g_assert_cmpstr(name, ==, "Hello");
	g_assert_true(slotd_offering_has_key(offering, "label"));
	g_assert_false(slotd_offering_has_key(offering, "absent"));

	slotd_offering_config_error(offering, "visits", &error, "too %s",
				    "many");
	g_assert_cmpstr(error->message, ==,
			"services.d/a.conf: [offering U1 S1] visits: too many");
}

static void
test_offering_region(Fixture *fixture, gconstpointer data)
{
	g_autoptr(Region) region = NULL;
	g_autoptr(GPtrArray) siblings = NULL;
	SlotdOffering *offering;

	append_file(fixture, "services.d/a.conf",
		    "[offering U2 S1]\nwindows=day\n"
		    "window-day=08:00-16:00 FREQ=DAILY\n");
	region = load_ok(fixture);
	offering = region_find_offering(region, "U1/S1");
	g_assert_cmpint(slotd_offering_travel_minutes(offering, "049", "710"),
			==, 75);
	g_assert_cmpstr(slotd_offering_municipality_name(offering, "710",
							 "sv"), ==,
			"Raseborg");
	g_assert_cmpstr(slotd_offering_municipality_name(offering, "710",
							 "fi"), ==,
			"Raasepori");
	g_assert_null(slotd_offering_municipality_name(offering, "999", "fi"));
	siblings = slotd_offering_siblings(offering);
	g_assert_cmpuint(siblings->len, ==, 2);
	g_assert_true(siblings->pdata[0] == offering);
}

static guint destroyed;

static void
count_destroy(gpointer data)
{
	destroyed++;
}

static void
test_offering_data(Fixture *fixture, gconstpointer data)
{
	Region *region = load_ok(fixture);
	SlotdOffering *offering = region_find_offering(region, "U1/S1");
	static int first, second;

	destroyed = 0;
	slotd_offering_set_data(offering, &first, count_destroy);
	g_assert_true(slotd_offering_get_data(offering) == &first);
	slotd_offering_set_data(offering, &second, count_destroy);
	g_assert_cmpuint(destroyed, ==, 1);
	g_assert_true(slotd_offering_get_data(offering) == &second);
	region_unref(region);
	g_assert_cmpuint(destroyed, ==, 2);
}

static void
test_unread_keys(Fixture *fixture, gconstpointer data)
{
	g_autoptr(Region) region = NULL;
	g_autoptr(GError) error = NULL;
	SlotdOffering *offering;
	gint64 visits;

	append_file(fixture, "services.d/a.conf", "visits=3\n");
	region = load_ok(fixture);
	offering = region_find_offering(region, "U1/S1");

	g_assert_false(config_check_unread_keys(region, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG);
	assert_contains(error->message,
			"services.d/a.conf: [offering U1 S1] visits");
	assert_contains(error->message, "the fixed plugin does not know it");
	g_clear_error(&error);

	/* An offering whose plugin is missing waits for it. */
	offering->available = FALSE;
	g_assert_true(config_check_unread_keys(region, &error));
	offering->available = TRUE;

	g_assert_true(slotd_offering_get_int(offering, "visits", 1, 1, 10,
					     &visits, &error));
	g_assert_true(config_check_unread_keys(region, &error));
	g_assert_no_error(error);
}

/* A window defined but not listed is nobody's key either. */
static void
test_unread_window(Fixture *fixture, gconstpointer data)
{
	g_autoptr(Region) region = NULL;
	g_autoptr(GError) error = NULL;

	append_file(fixture, "services.d/a.conf",
		    "window-evening=16:00-20:00 FREQ=DAILY\n");
	region = load_ok(fixture);
	g_assert_false(config_check_unread_keys(region, &error));
	assert_contains(error->message, "[offering U1 S1] window-evening");
	assert_contains(error->message, "missing from windows");
}

/* ---- a small region kept in the tree for other tests ----------------- */

static void
test_data_minimal(void)
{
	const char *root = g_getenv("SLOTD_SOURCE_ROOT");
	g_autofree char *entry = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(Region) region = NULL;
	ConfigOptions options = { 0 };

	if (root == NULL)
		root = ".";
	entry = g_build_filename(root, "tests", "data", "config", "minimal",
				 "slotd.conf", NULL);
	options.config_file = entry;
	region = config_load(&options, &error);
	g_assert_no_error(error);
	g_assert_true(config_check_unread_keys(region, &error));
	g_assert_cmpuint(region->offerings->len, >, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	calendar_init();

	g_test_add_func("/config/example/loads", test_example_loads);
	g_test_add_func("/config/example/municipalities",
			test_example_municipalities);
	g_test_add_func("/config/example/lookups", test_example_lookups);
	g_test_add_func("/config/example/travel", test_example_travel);
	g_test_add_func("/config/example/services", test_example_services);
	g_test_add_func("/config/data/minimal", test_data_minimal);
#define ADD(path, func)                                                     \
	g_test_add(path, Fixture, NULL, fixture_set_up, func,               \
		   fixture_tear_down)
	ADD("/config/small/defaults", test_small_defaults);
	ADD("/config/small/overrides", test_small_overrides);
	ADD("/config/small/closures", test_small_closures);
	ADD("/config/small/windows", test_small_windows);
	ADD("/config/small/given-pair-kept", test_small_given_pair);
	ADD("/config/digest/follows-effective-config", test_digest);
	ADD("/config/offering/get-keys", test_offering_get);
	ADD("/config/offering/region", test_offering_region);
	ADD("/config/offering/plugin-data", test_offering_data);
	ADD("/config/offering/unread-keys", test_unread_keys);
	ADD("/config/offering/unread-window", test_unread_window);
	ADD("/config/errors/same-basename", test_broken_same_basename);
	ADD("/config/errors/travel-unknown-code", test_broken_travel_code);
#undef ADD
	for (guint i = 0; i < G_N_ELEMENTS(broken_cases); i++) {
		g_autofree char *path = g_strdup_printf(
			"/config/errors/%s", broken_cases[i].path);
		g_test_add(path, Fixture, &broken_cases[i], fixture_set_up,
			   test_broken, fixture_tear_down);
	}
	return g_test_run();
}
