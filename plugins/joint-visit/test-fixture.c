/* The fixture of the joint-visit tests: the example region
 * (config/example/region.conf), the three Porvoo units the offering
 * draws on and the example service file, in a temporary directory,
 * loaded into the real configuration reader, plugin host, store and
 * capacity engine with a fixed clock. */
#include <string.h>

#include <slotd/plugin.h>

#include "calendar.h"
#include "config.h"
#include "test-joint-visit.h"

const SlotdPluginDescriptor *slotd_plugin_describe(void);

static const char entry_point[] = "[daemon]\n"
				  "include=region.conf;units.conf\n"
				  "service-dir=services.d\n"
				  "horizon-days=21\n"
				  "\n"
				  "[region]\n"
				  "id=nyland-test\n"
				  "name-fi=Länsi- ja Itä-Uusimaa\n"
				  "name-sv=Västra och Östra Nyland\n";

static const char units[] =
	"[unit E-JV-POR]\nmunicipality=638\n"
	"title-fi=Porvoo, sosiaalipalvelut\ntitle-sv=Borgå, socialtjänsten\n"
	"languages=fi;sv\n\n"
	"[unit E-PSY-POR]\nmunicipality=638\n"
	"title-fi=HUS Psykiatria, Porvoo\ntitle-sv=HUS Psykiatri, Borgå\n"
	"languages=fi;sv\n\n"
	"[unit E-COR-POR]\nmunicipality=638\n"
	"title-fi=Coronaria, Porvoo\ntitle-sv=Coronaria, Borgå\n"
	"languages=fi;sv\n";

void
jv_fixture_set_up(JvFixture *f, gconstpointer data)
{
	plugin_engine_set_up(f, "slotd-jv", entry_point, units,
			     "joint-visit.conf");
}

void
jv_fixture_tear_down(JvFixture *f, gconstpointer data)
{
	plugin_engine_tear_down(f);
}

void
jv_fixture_set_key(JvFixture *f, const char *group, const char *key,
		   const char *value)
{
	plugin_engine_set_key(f, group, key, value);
}

gboolean
jv_fixture_load(JvFixture *f, GError **error)
{
	return plugin_engine_load(f, slotd_plugin_describe(), error);
}

void
jv_fixture_start(JvFixture *f, int year, int month, int day, int hour,
		 int minute)
{
	plugin_engine_start(f, slotd_plugin_describe(),
			    jv_local(year, month, day, hour, minute));
}

gint64
jv_local(int year, int month, int day, int hour, int minute)
{
	return slotd_local_to_utc(year, month, day, hour, minute);
}

char *
jv_slot_at(JvFixture *f, gint64 start)
{
	char *id = plugin_engine_slot_at(f, JV_UNIT "/" JV_SERVICE, start);

	g_assert_nonnull(id);
	return id;
}

GVariant *
jv_options(const char *housing_unit, const char *language,
	   const char *municipality)
{
	GVariantDict options;

	g_variant_dict_init(&options, NULL);
	if (housing_unit)
		g_variant_dict_insert(&options, "housing-unit", "s",
				      housing_unit);
	if (language)
		g_variant_dict_insert(&options, "language", "s", language);
	if (municipality)
		g_variant_dict_insert(&options, "municipality", "s",
				      municipality);
	return g_variant_dict_end(&options);
}
