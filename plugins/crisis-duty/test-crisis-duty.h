/* crisis-duty tests: the suites of the test binary and the fixture the
 * end-to-end ones share (the example region's crisis-duty config loaded
 * into the daemon's engine with a fixed clock). */
#pragma once

#include "crisis-duty.h"

#include "calendar.h"
#include "capacity.h"
#include "config.h"
#include "planner-engine.h"
#include "plugin-host.h"
#include "store.h"

typedef struct {
	char *dir;
	Region *region;
	PluginHost *plugins;
	Store *store;
	Capacity *capacity;
	gint64 now; /* the engine's clock */
} CrisisFixture;

/* test-rules.c: the pure arithmetic. */
void crisis_test_add_rules(void);
/* test-booking.c: booking through the engine. */
void crisis_test_add_booking(void);
/* test-plan.c: the staffing figures. */
void crisis_test_add_plan(void);

/* Loads the config with services.d/crisis-duty.conf from the source
 * tree (`edit`: "KEY=VALUE" lines replacing that key's line, or NULL)
 * into a temp dir; FALSE and `error` when the config is refused. */
gboolean crisis_fixture_load(CrisisFixture *f, const char *edit,
			     GError **error);
/* g_test_add() setup: the example as it is, slots materialised over a
 * week from Monday 2026-03-09 12:00 local, which is then the clock. */
void crisis_fixture_setup(CrisisFixture *f, gconstpointer data);
void crisis_fixture_teardown(CrisisFixture *f, gconstpointer data);

gint64 crisis_local(int year, int month, int day, int hour, int minute);
/* "W-SKP" -> "W-SKP/crisis-duty-west" */
char *crisis_offering_id(const char *unit);
/* The id of the unit's slot that starts at `start`. */
char *crisis_slot_id(CrisisFixture *f, const char *unit, gint64 start);
/* Booked seats and capacity of the unit's slot at `start`. */
void crisis_slot_counters(CrisisFixture *f, const char *unit, gint64 start,
			  guint *ret_booked, guint *ret_capacity);
/* Books the unit's slot at `start` (options: GVariant text, a{sv});
 * the booking id, or NULL and `error`. */
char *crisis_book(CrisisFixture *f, const char *unit, gint64 start,
		  const char *options, GError **error);
/* Asserts `error` has the code and its message contains `text`. */
void crisis_assert_error(const GError *error, SlotdErrorCode code,
			 const char *text);
