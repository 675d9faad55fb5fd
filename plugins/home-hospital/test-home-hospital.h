/* The home-hospital test program: each file registers its cases; the
 * end-to-end ones share a fixture that loads the example region and
 * this plugin's example service file into the real capacity engine. */
#pragma once

#include <glib.h>

#include "capacity.h"
#include "plugin-host.h"
#include "region.h"
#include "plugin-engine.h"
#include "store.h"

#define HH_WEST "home-hospital-west"
#define HH_EAST "home-hospital-east"

typedef PluginEngine HhFixture;

void hh_fixture_set_up(HhFixture *f, gconstpointer data);
void hh_fixture_tear_down(HhFixture *f, gconstpointer data);
/* Edits a key of the copied service file before hh_fixture_load(). */
void hh_fixture_set_key(HhFixture *f, const char *group, const char *key,
			const char *value);
/* Reads the configuration and runs the plugin's configure hooks. */
gboolean hh_fixture_load(HhFixture *f, GError **error);
/* Loads, opens the store and materialises the horizon with the clock
 * at a local (Europe/Helsinki) time. */
void hh_fixture_start(HhFixture *f, int year, int month, int day, int hour,
		      int minute);
/* UTC of a local time. */
gint64 hh_local(int year, int month, int day, int hour, int minute);
/* "s-N" of the unit's slot starting at `start`. */
char *hh_slot_at(HhFixture *f, const char *unit, gint64 start);
/* Booking options a{sv} (floating); NULL leaves a key out. */
GVariant *hh_options(const char *municipality, const char *language,
		     const char *episode);
/* GetBooking of an id, asserting success. */
GVariant *hh_get_booking(HhFixture *f, const char *booking_id);
/* Live bookings of a client. */
guint hh_count_bookings(HhFixture *f, const char *client_ref);
/* Sum of booked seats over a unit's slots starting in [from, to). */
guint hh_booked_seats(HhFixture *f, const char *unit, gint64 from, gint64 to);
/* Free visits FindSlots reports for the slot of `unit` at `start`, 0
 * when it is not listed. */
guint hh_free_at(HhFixture *f, const char *service, const char *unit,
		 gint64 start, GVariant *query_extra);

/* test-rules.c: the arithmetic, no daemon needed. */
void hh_test_add_rules(void);
/* test-episode.c: care episodes booked with BookSeries. */
void hh_test_add_episodes(void);
/* test-coverage.c: bases, municipalities, languages, configuration. */
void hh_test_add_coverage(void);
/* test-plan.c: Planner1.Staffing rows through the planning engine. */
void hh_test_add_plan(void);
