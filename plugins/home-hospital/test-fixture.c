/* The fixture of the end-to-end home-hospital tests: the example
 * region (config/example/region.conf, with its travel matrix), the six
 * home-hospital base units and this plugin's example service file, in
 * a temporary directory, loaded into the real configuration reader,
 * plugin host, store and capacity engine with a fixed clock. */
#include <string.h>

#include <slotd/plugin.h>

#include "calendar.h"
#include "config.h"
#include "test-home-hospital.h"

const SlotdPluginDescriptor *slotd_plugin_describe(void);

static const char entry_point[] = "[daemon]\n"
				  "include=region.conf;units.conf\n"
				  "service-dir=services.d\n"
				  "horizon-days=9\n"
				  "\n"
				  "[region]\n"
				  "id=nyland-test\n"
				  "name-fi=Länsi- ja Itä-Uusimaa\n"
				  "name-sv=Västra och Östra Nyland\n";

/* The home-hospital bases of config/example/units.conf. */
static const char base_units[] =
	"[unit W-HH-ESP]\nmunicipality=049\ntitle-fi=Kotisairaala Espoo\n"
	"title-sv=Hemsjukhuset Esbo\nlanguages=fi;sv;en\n\n"
	"[unit W-HH-LOH]\nmunicipality=Lohja\ntitle-fi=Kotisairaala Lohja\n"
	"title-sv=Hemsjukhuset Lojo\nlanguages=fi;sv\n\n"
	"[unit W-HH-RAS]\nmunicipality=Raseborg\n"
	"title-fi=Kotisairaala Raasepori\n"
	"title-sv=Hemsjukhuset Raseborg\nlanguages=sv;fi\n\n"
	"[unit E-HH-POR]\nmunicipality=638\ntitle-fi=Kotisairaala Porvoo\n"
	"title-sv=Hemsjukhuset Borgå\nlanguages=fi;sv\n\n"
	"[unit E-HH-LOV]\nmunicipality=Lovisa\n"
	"title-fi=Kotisairaala Loviisa\ntitle-sv=Hemsjukhuset Lovisa\n"
	"languages=sv;fi\n\n"
	"[unit E-HH-SIP]\nmunicipality=Sipoo\ntitle-fi=Kotisairaala Sipoo\n"
	"title-sv=Hemsjukhuset Sibbo\nlanguages=fi;sv\n";

void
hh_fixture_set_up(HhFixture *f, gconstpointer data)
{
	plugin_engine_set_up(f, "slotd-hh", entry_point, base_units,
			     "home-hospital.conf");
}

void
hh_fixture_tear_down(HhFixture *f, gconstpointer data)
{
	plugin_engine_tear_down(f);
}

void
hh_fixture_set_key(HhFixture *f, const char *group, const char *key,
		   const char *value)
{
	plugin_engine_set_key(f, group, key, value);
}

gboolean
hh_fixture_load(HhFixture *f, GError **error)
{
	return plugin_engine_load(f, slotd_plugin_describe(), error);
}

void
hh_fixture_start(HhFixture *f, int year, int month, int day, int hour,
		 int minute)
{
	plugin_engine_start(f, slotd_plugin_describe(),
			    hh_local(year, month, day, hour, minute));
}

gint64
hh_local(int year, int month, int day, int hour, int minute)
{
	return slotd_local_to_utc(year, month, day, hour, minute);
}

static const char *
service_of(const char *unit)
{
	return g_str_has_prefix(unit, "W-") ? HH_WEST : HH_EAST;
}

char *
hh_slot_at(HhFixture *f, const char *unit, gint64 start)
{
	g_autofree char *offering =
		g_strdup_printf("%s/%s", unit, service_of(unit));
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;
	char *id;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(store_list_slots(f->store, offering, start, start + 1,
				       slots, &error));
	g_assert_no_error(error);
	if (slots->len != 1) {
		g_autofree char *when = slotd_format_local(start);
		g_error("%s has %u slots at %s", unit, slots->len, when);
	}
	id = g_strdup_printf("s-%" G_GINT64_FORMAT,
			     g_array_index(slots, StoreSlot, 0).id);
	return id;
}

GVariant *
hh_options(const char *municipality, const char *language, const char *episode)
{
	GVariantDict options;

	g_variant_dict_init(&options, NULL);
	if (municipality)
		g_variant_dict_insert(&options, "municipality", "s",
				      municipality);
	if (language)
		g_variant_dict_insert(&options, "language", "s", language);
	if (episode)
		g_variant_dict_insert(&options, "episode", "s", episode);
	return g_variant_dict_end(&options);
}

GVariant *
hh_get_booking(HhFixture *f, const char *booking_id)
{
	g_autoptr(GError) error = NULL;
	GVariant *booking = NULL;

	g_assert_true(capacity_get_booking(f->capacity, booking_id, &booking,
					   &error));
	g_assert_no_error(error);
	return booking;
}

guint
hh_count_bookings(HhFixture *f, const char *client_ref)
{
	g_autoptr(GVariant) filter = g_variant_ref_sink(g_variant_new_parsed(
		"{'client-ref': <%s>, 'status': <'booked'>}", client_ref));
	g_autoptr(GPtrArray) bookings = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(
		capacity_list_bookings(f->capacity, filter, &bookings, &error));
	g_assert_no_error(error);
	return bookings->len;
}

guint
hh_booked_seats(HhFixture *f, const char *unit, gint64 from, gint64 to)
{
	g_autofree char *offering =
		g_strdup_printf("%s/%s", unit, service_of(unit));
	g_autoptr(GArray) slots = g_array_new(FALSE, TRUE, sizeof(StoreSlot));
	g_autoptr(GError) error = NULL;
	guint booked = 0;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(
		store_list_slots(f->store, offering, from, to, slots, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < slots->len; i++)
		booked += g_array_index(slots, StoreSlot, i).booked +
			  g_array_index(slots, StoreSlot, i).held;
	return booked;
}

guint
hh_free_at(HhFixture *f, const char *service, const char *unit, gint64 start,
	   GVariant *query_extra)
{
	g_autoptr(GVariant) extra = g_variant_ref_sink(query_extra);
	g_autoptr(GVariant) query = NULL;
	g_autoptr(GPtrArray) found = NULL;
	g_autoptr(GError) error = NULL;
	GVariantDict dict;

	g_variant_dict_init(&dict, extra);
	g_variant_dict_insert(&dict, "from", "x", start);
	g_variant_dict_insert(&dict, "to", "x", start + 60);
	query = g_variant_ref_sink(g_variant_dict_end(&dict));
	g_assert_true(
		capacity_find(f->capacity, service, query, &found, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < found->len; i++) {
		FoundSlot *slot = found->pdata[i];

		if (slot->start == start && strcmp(slot->unit, unit) == 0)
			return slot->free;
	}
	return 0;
}
