/* The engine a plugin's own tests run on: a configuration in a
 * temporary directory (the example region's files and whatever the
 * test writes), read by the real configuration reader, the plugin
 * registered statically, a store and the capacity engine with a clock
 * the test sets. Shared by the plugins' fixtures. */
#pragma once

#include <glib.h>
#include <slotd/plugin.h>

#include "capacity.h"
#include "plugin-host.h"
#include "region.h"
#include "store.h"

typedef struct {
	char *dir;	    /* temporary config and state */
	char *service_file; /* the copied service file under test */
	Region *region;
	PluginHost *plugins;
	Store *store;
	Capacity *capacity;
	gint64 now;	    /* the engine's clock, UTC */
} PluginEngine;

/* A new directory (`prefix`-XXXXXX) with slotd.conf = `entry_point`,
 * units.conf = `units` (NULL: config/example/units.conf),
 * region.conf and services.d/`service` from config/example. */
void plugin_engine_set_up(PluginEngine *e, const char *prefix,
			  const char *entry_point, const char *units,
			  const char *service);
void plugin_engine_tear_down(PluginEngine *e);
/* Removes a directory and everything below it (a test's temporary
 * files). */
void plugin_engine_remove_tree(const char *path);
/* Sets (or with `value` NULL removes) a key of the service file. */
void plugin_engine_set_key(PluginEngine *e, const char *group,
			   const char *key, const char *value);
gboolean plugin_engine_load(PluginEngine *e,
			    const SlotdPluginDescriptor *plugin,
			    GError **error);
/* Loads, opens the store, starts the clock at `now` and shapes the
 * whole horizon. */
void plugin_engine_start(PluginEngine *e,
			 const SlotdPluginDescriptor *plugin, gint64 now);
/* "s-N" of the offering's first slot starting at `start`, or NULL. */
char *plugin_engine_slot_at(PluginEngine *e, const char *offering,
			    gint64 start);
