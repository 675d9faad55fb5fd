/* crisis-duty tests: the rules' arithmetic, then the plugin through the
 * daemon's engine with the example config (this file: the fixture). */
#include "test-crisis-duty.h"

#include <string.h>

#include <glib/gstdio.h>

#include "plugin-engine.h"

static const char slotd_conf[] =
	"[daemon]\n"
	"include=region.conf;units.conf\n"
	"service-dir=services.d\n"
	"horizon-days=7\n"
	"[region]\n"
	"id=nyland\n"
	"name-fi=Länsi- ja Itä-Uusimaa\n"
	"name-sv=Västra och Östra Nyland\n";

/* Only the crisis-duty bases of config/example/units.conf. */
static const char units_conf[] =
	"[unit W-SKP]\n"
	"municipality=049\n"
	"title-fi=Sosiaali- ja kriisipäivystys, Jorvi\n"
	"title-sv=Social- och krisjouren, Jorv\n"
	"languages=fi;sv;en\n"
	"[unit W-SKP-LOH]\n"
	"municipality=444\n"
	"title-fi=Sosiaali- ja kriisipäivystys, Lohja\n"
	"title-sv=Social- och krisjouren, Lojo\n"
	"languages=fi;sv\n"
	"[unit E-SKP]\n"
	"municipality=638\n"
	"title-fi=Sosiaali- ja kriisipäivystys, Porvoo\n"
	"title-sv=Social- och krisjouren, Borgå\n"
	"languages=fi;sv\n";

static char *source_file(const char *relative)
{
	const char *root = g_getenv("SLOTD_SOURCE_ROOT");
	g_autofree char *path = g_build_filename(root ? root : ".", relative,
						 NULL);
	g_autoptr(GError) error = NULL;
	char *text = NULL;

	g_file_get_contents(path, &text, NULL, &error);
	g_assert_no_error(error);
	return text;
}

/* Replaces the first line setting KEY, or adds KEY=VALUE to the first
 * offering group (Jorvi's) when no line sets it. */
static void edit_line(GStrv lines, const char *edit)
{
	gsize key_len = strcspn(edit, "=");

	for (guint j = 0; lines[j]; j++) {
		if (strncmp(lines[j], edit, key_len + 1) != 0)
			continue;
		g_free(lines[j]);
		lines[j] = g_strdup(edit);
		return;
	}
	for (guint j = 0; lines[j]; j++) {
		if (!g_str_has_prefix(lines[j], "[offering "))
			continue;
		g_free(lines[j]);
		lines[j] = g_strdup_printf("[offering W-SKP crisis-duty-west]"
					   "\n%s", edit);
		return;
	}
	g_assert_not_reached();
}

/* `edit`: "KEY=VALUE" lines separated by newlines. */
static char *edit_service(const char *text, const char *edit)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_auto(GStrv) edits = g_strsplit(edit ? edit : "", "\n", -1);

	for (guint i = 0; edits[i] && *edits[i]; i++)
		edit_line(lines, edits[i]);
	return g_strjoinv("\n", lines);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, text, -1, &error);
	g_assert_no_error(error);
}

static void write_config(const char *dir, const char *edit)
{
	g_autofree char *region = source_file("config/example/region.conf");
	g_autofree char *service = source_file(
		"config/example/services.d/crisis-duty.conf");
	g_autofree char *edited = edit_service(service, edit);
	g_autofree char *services = g_build_filename(dir, "services.d", NULL);

	g_assert_cmpint(g_mkdir(services, 0700), ==, 0);
	write_file(dir, "slotd.conf", slotd_conf);
	write_file(dir, "units.conf", units_conf);
	write_file(dir, "region.conf", region);
	write_file(services, "crisis-duty.conf", edited);
}

gboolean crisis_fixture_load(CrisisFixture *f, const char *edit,
			     GError **error)
{
	g_autofree char *entry = NULL;
	ConfigOptions options = { 0 };

	calendar_init();
	f->dir = g_dir_make_tmp("crisis-duty-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	write_config(f->dir, edit);
	entry = g_build_filename(f->dir, "slotd.conf", NULL);
	options.config_file = entry;
	options.state_dir = f->dir;
	f->region = config_load(&options, error);
	if (f->region == NULL)
		return FALSE;
	f->plugins = plugin_host_new();
	return plugin_host_add_static(f->plugins, slotd_plugin_describe(),
				      error) &&
	       plugin_host_configure(f->plugins, f->region, error) &&
	       config_check_unread_keys(f->region, error);
}

static gint64 fixture_clock(gpointer data)
{
	return ((CrisisFixture *)data)->now;
}

void crisis_fixture_setup(CrisisFixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *db = NULL;
	gboolean done = FALSE;

	memset(f, 0, sizeof(*f));
	crisis_fixture_load(f, data, &error);
	g_assert_no_error(error);
	db = g_build_filename(f->dir, "slotd.db", NULL);
	f->store = store_open(db, &error);
	g_assert_no_error(error);
	f->capacity = capacity_new(f->region, f->store, f->plugins);
	/* From Monday noon, so that Monday night's shift exists too. */
	f->now = crisis_local(2026, 3, 9, 12, 0);
	capacity_set_clock(f->capacity, fixture_clock, f);
	while (!done) {
		capacity_extend(f->capacity, 5000, &done, &error);
		g_assert_no_error(error);
	}
}

void crisis_fixture_teardown(CrisisFixture *f, gconstpointer data)
{
	g_clear_pointer(&f->capacity, capacity_free);
	g_clear_pointer(&f->store, store_close);
	g_clear_pointer(&f->plugins, plugin_host_free);
	g_clear_pointer(&f->region, region_unref);
	if (f->dir)
		plugin_engine_remove_tree(f->dir);
	g_clear_pointer(&f->dir, g_free);
}

gint64 crisis_local(int year, int month, int day, int hour, int minute)
{
	return calendar_local_to_utc(year, month, day, hour, minute);
}

char *crisis_offering_id(const char *unit)
{
	return g_strdup_printf("%s/crisis-duty-%s", unit,
			       unit[0] == 'W' ? "west" : "east");
}

static StoreSlot *find_slot(CrisisFixture *f, const char *unit, gint64 start)
{
	g_autofree char *offering = crisis_offering_id(unit);
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;
	StoreSlot *slot = g_new0(StoreSlot, 1);

	store_list_slots(f->store, offering, start, start + 1, slots, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(slots->len, ==, 1);
	*slot = g_array_index(slots, StoreSlot, 0);
	return slot; /* the array's strings now belong to `slot` */
}

char *crisis_slot_id(CrisisFixture *f, const char *unit, gint64 start)
{
	g_autoptr(StoreSlot) slot = find_slot(f, unit, start);

	return g_strdup_printf("s-%" G_GINT64_FORMAT, slot->id);
}

void crisis_slot_counters(CrisisFixture *f, const char *unit, gint64 start,
			  guint *ret_booked, guint *ret_capacity)
{
	g_autoptr(StoreSlot) slot = find_slot(f, unit, start);

	*ret_booked = slot->booked;
	*ret_capacity = slot->capacity;
}

char *crisis_book(CrisisFixture *f, const char *unit, gint64 start,
		  const char *options, GError **error)
{
	static guint client;
	Caller caller = { 1000, "test" };
	g_autofree char *slot = crisis_slot_id(f, unit, start);
	g_autofree char *client_ref = g_strdup_printf("crisis-%u", ++client);
	g_autoptr(GVariant) dict = g_variant_ref_sink(
		g_variant_new_parsed(options ? options : "@a{sv} {}"));
	char *booking = NULL;

	if (!capacity_book(f->capacity, &caller, slot, client_ref, dict,
			   &booking, error))
		return NULL;
	return booking;
}

void crisis_assert_error(const GError *error, SlotdErrorCode code,
			 const char *text)
{
	g_assert_error(error, SLOTD_ERROR, (gint)code);
	if (strstr(error->message, text) == NULL)
		g_error("\"%s\" is not in the message: %s", text,
			error->message);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	crisis_test_add_rules();
	crisis_test_add_plan();
	crisis_test_add_booking();
	return g_test_run();
}
