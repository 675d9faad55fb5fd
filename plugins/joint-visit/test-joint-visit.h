/* The joint-visit test program: the arithmetic and the configuration
 * (test-housing.c) and the admission rule through the real capacity
 * engine with the example region's service file (test-admit.c, on the
 * fixture of test-fixture.c). */
#pragma once

#include <glib.h>

#include "capacity.h"
#include "plugin-host.h"
#include "region.h"
#include "plugin-engine.h"
#include "store.h"

#define JV_SERVICE "supported-housing-mapping"
#define JV_UNIT "E-JV-POR"

typedef PluginEngine JvFixture;

void jv_fixture_set_up(JvFixture *f, gconstpointer data);
void jv_fixture_tear_down(JvFixture *f, gconstpointer data);
/* Edits a key of the copied service file before jv_fixture_load(). */
void jv_fixture_set_key(JvFixture *f, const char *group, const char *key,
			const char *value);
/* Reads the configuration and runs the plugin's configure hooks. */
gboolean jv_fixture_load(JvFixture *f, GError **error);
/* Loads, opens the store and materialises the horizon with the clock
 * at a local (Europe/Helsinki) time. */
void jv_fixture_start(JvFixture *f, int year, int month, int day, int hour,
		      int minute);
gint64 jv_local(int year, int month, int day, int hour, int minute);
/* "s-N" of the offering's slot starting at `start`. */
char *jv_slot_at(JvFixture *f, gint64 start);
/* Book options a{sv} (floating); NULL leaves a key out. */
GVariant *jv_options(const char *housing_unit, const char *language,
		     const char *municipality);

void jv_test_add_housing(void);
void jv_test_add_admit(void);
