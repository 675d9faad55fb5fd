/* Parsing and validating the configuration (GKeyFile) into a Region.
 * Every error names the file, the group and the key. A configuration
 * with any error is refused as a whole. */
#pragma once

#include "region.h"

#define CONFIG_ERROR SLOTD_ERROR
/* Errors use SLOTD_ERROR_INVALID_CONFIG with messages of the form
 *   "FILE: [GROUP] KEY: what is wrong"
 */

typedef struct {
	const char *config_file;    /* required */
	const char *state_dir;	    /* overrides [daemon] state-dir */
	const char *plugin_dir;	    /* overrides [daemon] plugin-dir */
} ConfigOptions;

/* Parses the entry point and the files it includes. Offerings are
 * parsed for their core keys; their plugin keys are checked later by
 * plugin_registry_configure(). */
Region *config_load(const ConfigOptions *options, GError **error);

/* After plugins have configured the offerings: refuse keys in offering
 * groups that neither the core nor the plugin read. */
gboolean config_check_unread_keys(Region *region, GError **error);
