/* walk-in tests: what the test files share. */
#pragma once

#include <glib.h>

#include "capacity.h"
#include "plugin-host.h"
#include "region.h"
#include "store.h"

/* test-rules.c: the pure arithmetic and the staffing math */
void test_rules_add(void);
void test_staffing_add(void);

/* test-walk-in.c and test-scenarios.c: through the capacity engine */
void test_engine_add(void);
void test_scenarios_add(void);
/* test-plan.c: staffing through the planning engine */
void test_plan_add(void);

/* test-walk-in.c: units and a walk-in service for the engine tests
 * (Lohja, Espoo 1, Porvoo with two counsellors, the northern four). */
extern const char test_units[];
extern const char test_service[];

/* test-fixture.c: a region in a temp dir, the plugin linked in, a store
 * and the capacity engine on a clock the test moves. */
typedef struct {
	char *dir;
	Region *region;
	PluginHost *plugins;
	Store *store;
	Capacity *capacity;
	gint64 now;
} Fixture;

/* Writes slotd.conf, the example region.conf, `units` as units.conf
 * and `service` as services.d/walk-in.conf, then loads and configures
 * them with the walk-in plugin. */
gboolean fixture_load(Fixture *f, const char *units, const char *service,
		      GError **error);
/* fixture_load() that must succeed, then the store and the horizon
 * from `now` (UTC seconds). */
void fixture_start(Fixture *f, const char *units, const char *service,
		   gint64 now);
void fixture_stop(Fixture *f);
/* Europe/Helsinki wall clock -> UTC seconds. */
gint64 local_time(int year, int month, int day, int hour, int minute);
/* The slots of "<unit>/social-counselling-walk-in" starting in
 * [from, to), StoreSlot values. */
GArray *fixture_slots(Fixture *f, const char *unit, gint64 from, gint64 to);
/* "s-N" of the slot of `kind` at `unit` starting at `start`; fails the
 * test when there is none. */
char *fixture_slot_id(Fixture *f, const char *unit, const char *kind,
		      gint64 start);
/* Book with optional plugin `options` (a{sv}, floating or NULL). */
char *fixture_book(Fixture *f, const char *slot_id, const char *client_ref,
		   GVariant *options, GError **error);
void fixture_set_status(Fixture *f, const char *booking_id,
			const char *status);
GVariant *fixture_booking(Fixture *f, const char *booking_id);
guint32 booking_uint(GVariant *booking, const char *key);
gint64 booking_time(GVariant *booking, const char *key);
