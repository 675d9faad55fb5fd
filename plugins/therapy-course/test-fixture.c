/* The fixture of the end-to-end therapy-course tests: the example
 * region, its units and this plugin's example service file in a
 * temporary directory, loaded into the real configuration reader,
 * plugin host, store and capacity engine with a fixed clock. */
#include <string.h>

#include <slotd/plugin.h>

#include "calendar.h"
#include "config.h"
#include "test-therapy-course.h"

const SlotdPluginDescriptor *slotd_plugin_describe(void);

static const char entry_point[] = "[daemon]\n"
				  "include=region.conf;units.conf\n"
				  "service-dir=services.d\n"
				  "horizon-days=80\n"
				  "\n"
				  "[region]\n"
				  "id=nyland-test\n"
				  "name-fi=Länsi- ja Itä-Uusimaa\n"
				  "name-sv=Västra och Östra Nyland\n";

void
tc_fixture_set_up(TcFixture *f, gconstpointer data)
{
	plugin_engine_set_up(f, "slotd-tc", entry_point, NULL,
			     "therapy-course.conf");
}

void
tc_fixture_tear_down(TcFixture *f, gconstpointer data)
{
	plugin_engine_tear_down(f);
}

void
tc_fixture_set_key(TcFixture *f, const char *group, const char *key,
		   const char *value)
{
	plugin_engine_set_key(f, group, key, value);
}

gboolean
tc_fixture_load(TcFixture *f, GError **error)
{
	return plugin_engine_load(f, slotd_plugin_describe(), error);
}

void
tc_fixture_start(TcFixture *f, int year, int month, int day, int hour,
		 int minute)
{
	plugin_engine_start(f, slotd_plugin_describe(),
			    tc_local(year, month, day, hour, minute));
}

gint64
tc_local(int year, int month, int day, int hour, int minute)
{
	return slotd_local_to_utc(year, month, day, hour, minute);
}

char *
tc_slot_at(TcFixture *f, const char *unit, gint64 start)
{
	g_autofree char *offering =
		g_strdup_printf("%s/%s", unit, TC_SERVICE);

	return plugin_engine_slot_at(f, offering, start);
}
