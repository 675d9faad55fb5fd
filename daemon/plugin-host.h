/* Plugin loading (GModule) and the registry of service kinds. */
#pragma once

#include <glib.h>
#include <slotd/plugin.h>
#include "region.h"

typedef struct _PluginHost PluginHost;

typedef struct {
	char *path;
	char *id;		/* NULL when it never got that far */
	char *version;
	char *summary;
	guint abi_major;
	char **kinds;		/* kinds it registered */
	gboolean loaded;
	char *error;		/* why it was refused, or NULL */
} PluginInfo;

PluginHost *plugin_host_new(void);
void plugin_host_free(PluginHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PluginHost, plugin_host_free)

/* Registers a kind built into the daemon ("fixed"). */
void plugin_host_add_builtin(PluginHost *host, const char *kind,
			     const SlotdKindOps *ops);
/* Loads every "*.so" in `dir` not loaded yet. A plugin that fails is
 * logged with the reason, recorded in the list and skipped. Modules are
 * opened relative to the directory, never through a symbolic link, and
 * checked and loaded by descriptor (see plugin_host_load_file()). With
 * `system_checks`, a directory that is a symbolic link, not owned by
 * root or writable by group or others is refused as a whole (one entry
 * in the list, by its path; nothing is loaded from it), and so are
 * files not owned by root or writable by group or others. FALSE only
 * when the directory cannot be read. */
gboolean plugin_host_load_dir(PluginHost *host, const char *dir,
			      gboolean system_checks, GError **error);
/* FALSE and an InvalidConfig error naming each module the last
 * plugin_host_load_dir() refused, and why, unless it was refused just
 * the same (unchanged file) when the running state was accepted: a
 * reload does not go ahead past a new broken plugin. */
gboolean plugin_host_check_refusals(PluginHost *host, GError **error);
/* The running state is accepted with the current refusals (start-up
 * serves what it can; later passes are checked against this). */
void plugin_host_accept_refusals(PluginHost *host);
/* Loads one module by absolute path: opened once (O_NOFOLLOW: never a
 * symbolic link), and the open file is what is checked (fstat: a
 * regular file, with `system_checks` root's and not writable by group
 * or others; the ELF check) and mapped (g_module_open() of
 * /proc/self/fd/N), so a file swapped in at the path meanwhile is never
 * run. */
gboolean plugin_host_load_file(PluginHost *host, const char *path,
			       gboolean system_checks, GError **error);
/* For tests: `hook` runs after a module's checks and before it is
 * mapped (NULL: none). */
typedef void (*PluginLoadHook)(const char *path, gpointer user_data);
void plugin_host_test_set_load_hook(PluginLoadHook hook, gpointer user_data);
/* The built-in "fixed" kind (fixed.c). */
void fixed_register(PluginHost *host);
/* Runs the setup of a plugin linked into the program (tests). */
gboolean plugin_host_add_static(PluginHost *host,
				const SlotdPluginDescriptor *descriptor,
				GError **error);
const SlotdKindOps *plugin_host_kind(PluginHost *host, const char *kind);
/* PluginInfo*, owned by the host. */
GPtrArray *plugin_host_list(PluginHost *host);

/* Runs each offering's configure hook; offerings whose kind is missing
 * are marked unavailable with the reason. An error from a configure
 * hook fails the whole configuration. */
gboolean plugin_host_configure(PluginHost *host, Region *region,
			       GError **error);
/* Tears down every plugin (reverse load order). */
void plugin_host_shutdown(PluginHost *host);
