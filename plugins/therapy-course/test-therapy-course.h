/* The therapy-course test program: the arithmetic alone, and courses
 * through the real configuration reader, store and capacity engine
 * with this plugin's example service file and a fixed clock. */
#pragma once

#include <glib.h>

#include "capacity.h"
#include "plugin-host.h"
#include "region.h"
#include "plugin-engine.h"
#include "store.h"

#define TC_SERVICE "short-therapy-east"

typedef PluginEngine TcFixture;

void tc_fixture_set_up(TcFixture *f, gconstpointer data);
void tc_fixture_tear_down(TcFixture *f, gconstpointer data);
void tc_fixture_set_key(TcFixture *f, const char *group, const char *key,
			const char *value);
gboolean tc_fixture_load(TcFixture *f, GError **error);
void tc_fixture_start(TcFixture *f, int year, int month, int day, int hour,
		      int minute);
gint64 tc_local(int year, int month, int day, int hour, int minute);
/* "s-N" of the unit's slot starting at `start`. */
char *tc_slot_at(TcFixture *f, const char *unit, gint64 start);

void tc_test_add_rules(void);
void tc_test_add_courses(void);
