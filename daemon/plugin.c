/* Plugin loading with GModule, ABI checks, and the registry of service
 * kinds. A plugin that cannot be used is recorded with the reason and
 * skipped; the offerings that need its kind are reported unavailable. */
#include "plugin-host.h"

#include "elf-check.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gmodule.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
	SlotdKindOps ops;	/* zero-extended copy of the plugin's table */
	char *plugin_id;
} KindEntry;

struct _SlotdHost {
	PluginHost *owner;
	PluginInfo *current;	/* the plugin whose setup is running */
};

struct _PluginHost {
	GHashTable *kinds;	/* kind -> KindEntry */
	GPtrArray *plugins;	/* PluginInfo, load order */
	GPtrArray *descriptors; /* const SlotdPluginDescriptor*, set up */
	/* path -> file identity, of the modules refused by the last
	 * plugin_host_load_dir(), and of those refused when the running
	 * state was accepted (start-up, last good reload). */
	GHashTable *pass_refusals;
	GHashTable *accepted_refusals;
};

static void
kind_entry_free(gpointer data)
{
	KindEntry *entry = data;

	g_free(entry->plugin_id);
	g_free(entry);
}

static void
plugin_info_free(gpointer data)
{
	PluginInfo *info = data;

	g_free(info->path);
	g_free(info->id);
	g_free(info->version);
	g_free(info->summary);
	g_strfreev(info->kinds);
	g_free(info->error);
	g_free(info);
}

PluginHost *
plugin_host_new(void)
{
	PluginHost *host = g_new0(PluginHost, 1);

	host->kinds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    kind_entry_free);
	host->plugins = g_ptr_array_new_with_free_func(plugin_info_free);
	host->descriptors = g_ptr_array_new();
	host->pass_refusals = g_hash_table_new_full(g_str_hash, g_str_equal,
						    g_free, g_free);
	host->accepted_refusals = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, g_free);
	return host;
}

void
plugin_host_shutdown(PluginHost *host)
{
	for (guint i = host->descriptors->len; i > 0; i--) {
		const SlotdPluginDescriptor *d =
			host->descriptors->pdata[i - 1];

		if (d->teardown)
			d->teardown();
	}
	g_ptr_array_set_size(host->descriptors, 0);
}

void
plugin_host_free(PluginHost *host)
{
	if (!host)
		return;
	plugin_host_shutdown(host);
	g_hash_table_destroy(host->kinds);
	g_ptr_array_unref(host->plugins);
	g_ptr_array_unref(host->descriptors);
	g_hash_table_destroy(host->pass_refusals);
	g_hash_table_destroy(host->accepted_refusals);
	g_free(host);
}

static void
add_kind(PluginHost *host, const char *kind, const SlotdKindOps *ops,
	 const char *plugin_id)
{
	KindEntry *entry = g_new0(KindEntry, 1);
	gsize size = MIN((gsize)ops->size, sizeof(SlotdKindOps));

	memcpy(&entry->ops, ops, size);
	entry->ops.size = sizeof(SlotdKindOps);
	entry->plugin_id = g_strdup(plugin_id);
	g_hash_table_insert(host->kinds, g_strdup(kind), entry);
}

void
plugin_host_add_builtin(PluginHost *host, const char *kind,
			const SlotdKindOps *ops)
{
	add_kind(host, kind, ops, "builtin");
}

gboolean
slotd_host_register_kind(SlotdHost *host, const char *kind,
			 const SlotdKindOps *ops, GError **error)
{
	g_return_val_if_fail(host && kind && ops, FALSE);

	if (ops->size < G_STRUCT_OFFSET(SlotdKindOps, shape) ||
	    !ops->configure) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "kind '%s' has no configure hook", kind);
		return FALSE;
	}
	if (g_hash_table_contains(host->owner->kinds, kind)) {
		KindEntry *other = g_hash_table_lookup(host->owner->kinds, kind);

		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "kind '%s' is already provided by plugin '%s'",
			    kind, other->plugin_id);
		return FALSE;
	}
	add_kind(host->owner, kind, ops, host->current->id);
	{
		GStrvBuilder *b = g_strv_builder_new();

		if (host->current->kinds)
			g_strv_builder_addv(b, (const char **)host->current->kinds);
		g_strv_builder_add(b, kind);
		g_strfreev(host->current->kinds);
		host->current->kinds = g_strv_builder_end(b);
		g_strv_builder_unref(b);
	}
	return TRUE;
}

static gboolean
check_descriptor(const SlotdPluginDescriptor *d, GError **error)
{
	if (!d) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "its describe function returned nothing");
		return FALSE;
	}
	if (d->abi_major != SLOTD_PLUGIN_ABI_MAJOR) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "built for plugin ABI %u, this slotd has ABI %u; "
			    "rebuild it against the installed slotd-plugin",
			    d->abi_major, SLOTD_PLUGIN_ABI_MAJOR);
		return FALSE;
	}
	if (d->size < G_STRUCT_OFFSET(SlotdPluginDescriptor, teardown) +
			      sizeof(d->teardown) ||
	    !d->id || !d->setup) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "its descriptor is incomplete (no id or setup)");
		return FALSE;
	}
	return TRUE;
}

static gboolean
plugin_id_taken(PluginHost *host, const char *id)
{
	for (guint i = 0; i < host->plugins->len; i++) {
		PluginInfo *info = host->plugins->pdata[i];

		if (info->loaded && g_strcmp0(info->id, id) == 0)
			return TRUE;
	}
	return FALSE;
}

/* Runs setup; on failure the kinds it registered are removed again. */
static gboolean
setup_plugin(PluginHost *host, PluginInfo *info,
	     const SlotdPluginDescriptor *d, GError **error)
{
	SlotdHost reg = { .owner = host, .current = info };
	g_autoptr(GError) local = NULL;

	info->id = g_strdup(d->id);
	info->version = g_strdup(d->version ? d->version : "");
	info->summary = g_strdup(d->summary ? d->summary : "");
	info->abi_major = d->abi_major;
	if (plugin_id_taken(host, d->id)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "a plugin with id '%s' is already loaded", d->id);
		return FALSE;
	}
	if (!d->setup(&reg, &local)) {
		for (char **k = info->kinds; k && *k; k++)
			g_hash_table_remove(host->kinds, *k);
		g_clear_pointer(&info->kinds, g_strfreev);
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "its setup failed: %s",
			    local ? local->message : "no reason given");
		return FALSE;
	}
	g_ptr_array_add(host->descriptors, (gpointer)d);
	info->loaded = TRUE;
	return TRUE;
}

gboolean
plugin_host_add_static(PluginHost *host,
		       const SlotdPluginDescriptor *descriptor, GError **error)
{
	PluginInfo *info = g_new0(PluginInfo, 1);

	info->path = g_strdup("(built in)");
	g_ptr_array_add(host->plugins, info);
	if (!check_descriptor(descriptor, error))
		return FALSE;
	return setup_plugin(host, info, descriptor, error);
}

/* ---- checking and loading a module by descriptor -------------------- */

static PluginLoadHook load_hook;
static gpointer load_hook_data;

void
plugin_host_test_set_load_hook(PluginLoadHook hook, gpointer user_data)
{
	load_hook = hook;
	load_hook_data = user_data;
}

/* Root's and not writable by group or others. `what` names the file or
 * the directory in the message. */
static gboolean
check_owner_and_mode(const struct stat *st, const char *what,
		     GError **error)
{
	if (st->st_uid != 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "%snot owned by root (uid %u); only root-owned "
			    "plugins are loaded from the system directory",
			    what, (guint)st->st_uid);
		return FALSE;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "%swritable by group or others (mode %04o); "
			    "chmod go-w it", what,
			    (guint)(st->st_mode & 07777));
		return FALSE;
	}
	return TRUE;
}

/* The module itself, never a symbolic link; O_NONBLOCK so that a FIFO
 * put in its place cannot stall the daemon. */
static int
open_module_file(int dir_fd, const char *name, GError **error)
{
	int fd = openat(dir_fd, name,
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
				O_NOCTTY);

	if (fd >= 0)
		return fd;
	if (errno == ELOOP)
		g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
				    "it is a symbolic link; install the "
				    "module file itself");
	else
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "cannot open it: %s", g_strerror(errno));
	return -1;
}

/* Every check reads the open file, which is what will be mapped. */
static gboolean
check_module_file(int fd, gboolean system_checks, GError **error)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "cannot stat it: %s", g_strerror(errno));
		return FALSE;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "not a regular file");
		return FALSE;
	}
	if (system_checks && !check_owner_and_mode(&st, "", error))
		return FALSE;
	/* Before g_module_open: mapping is already too late to refuse a
	 * module MemoryDenyWriteExecute breaks. */
	return elf_check_plugin_fd(fd, error);
}

/* Modules are mapped through the name "/proc/self/fd/N", and GModule
 * and the dynamic loader know a module by every name it was opened
 * under: were N reused for another file while the module is mapped,
 * they would hand back the old module. So the descriptor behind a name
 * stays open while its module may be mapped (for good, once resident),
 * and a file already resident is taken from this table, by identity,
 * instead of being opened under one more name. */
static GHashTable *resident_modules; /* "dev:ino" -> GModule */

static char *
module_key(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	return g_strdup_printf("%ju:%ju", (uintmax_t)st.st_dev,
			       (uintmax_t)st.st_ino);
}

static GModule *
resident_module(const char *key)
{
	if (!resident_modules || !key)
		return NULL;
	return g_hash_table_lookup(resident_modules, key);
}

static void
add_resident(char *key, GModule *module)
{
	if (!resident_modules)
		resident_modules = g_hash_table_new_full(g_str_hash,
							 g_str_equal, g_free,
							 NULL);
	if (key)
		g_hash_table_insert(resident_modules, key, module);
}

static gboolean
still_mapped(const char *name)
{
	void *handle = dlopen(name, RTLD_LAZY | RTLD_NOLOAD);

	if (handle)
		dlclose(handle);
	return handle != NULL;
}

/* dlerror() names the module by its /proc path; the log has the real
 * one already. */
static const char *
strip_name(const char *message, const char *name)
{
	gsize n = strlen(name);

	if (message && strncmp(message, name, n) == 0 &&
	    strncmp(message + n, ": ", 2) == 0)
		return message + n + 2;
	return message ? message : "unknown error";
}

static gboolean
describe_module(PluginHost *host, PluginInfo *info, GModule *module,
		GError **error)
{
	SlotdPluginDescribeFunc describe = NULL;

	if (!g_module_symbol(module, SLOTD_PLUGIN_ENTRY,
			     (gpointer *)&describe) ||
	    !describe) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "it does not export %s()", SLOTD_PLUGIN_ENTRY);
		return FALSE;
	}
	if (!check_descriptor(describe(), error) ||
	    !setup_plugin(host, info, describe(), error))
		return FALSE;
	/* Old region snapshots may still point into the module's code. */
	g_module_make_resident(module);
	return TRUE;
}

/* Maps the file open as `fd`, the one checked, through its /proc name:
 * the path may point elsewhere by now. Takes the descriptor. */
static gboolean
open_module(PluginHost *host, PluginInfo *info, int fd, GError **error)
{
	g_autofree char *key = module_key(fd);
	g_autofree char *name = NULL;
	GModule *module = resident_module(key);

	if (module) {
		close(fd);
		return describe_module(host, info, module, error);
	}
	name = g_strdup_printf("/proc/self/fd/%d", fd);
	module = g_module_open(name, G_MODULE_BIND_LOCAL);
	if (!module) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "cannot load it: %s",
			    strip_name(g_module_error(), name));
		close(fd);
		return FALSE;
	}
	if (describe_module(host, info, module, error)) {
		add_resident(g_steal_pointer(&key), module);
		return TRUE;	/* fd stays open: see resident_modules */
	}
	g_module_close(module);
	if (!still_mapped(name))
		close(fd);
	return FALSE;
}

/* The module open and checked, or -1 and why. */
static int
open_checked(int dir_fd, const char *name, gboolean system_checks,
	     GError **error)
{
	int fd = open_module_file(dir_fd, name, error);

	if (fd >= 0 && !check_module_file(fd, system_checks, error)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* `name` is opened relative to `dir_fd`; `path` is what the list and
 * the log say. */
static gboolean
load_module(PluginHost *host, int dir_fd, const char *name,
	    const char *path, gboolean system_checks, GError **error)
{
	PluginInfo *info = g_new0(PluginInfo, 1);
	g_autoptr(GError) local = NULL;
	int fd;

	info->path = g_strdup(path);
	g_ptr_array_add(host->plugins, info);
	fd = open_checked(dir_fd, name, system_checks, &local);
	if (fd >= 0) {
		if (load_hook)
			load_hook(path, load_hook_data);
		open_module(host, info, fd, &local);
	}
	if (local) {
		info->error = g_strdup(local->message);
		g_warning("plugin %s refused: %s", path, local->message);
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	g_info("plugin %s %s loaded from %s", info->id, info->version, path);
	return TRUE;
}

gboolean
plugin_host_load_file(PluginHost *host, const char *path,
		      gboolean system_checks, GError **error)
{
	if (!g_path_is_absolute(path)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "plugin path '%s' is not absolute", path);
		return FALSE;
	}
	return load_module(host, AT_FDCWD, path, path, system_checks, error);
}

/* ---- directory passes ------------------------------------------------ */

static gboolean
already_loaded(PluginHost *host, const char *path)
{
	for (guint i = 0; i < host->plugins->len; i++) {
		PluginInfo *info = host->plugins->pdata[i];

		if (g_strcmp0(info->path, path) == 0 && info->loaded)
			return TRUE;
	}
	return FALSE;
}

/* Refused modules of `dir`, and the refusal of `dir` itself, are tried
 * again at every pass (they may have been fixed), and ListPlugins stops
 * listing the ones removed. */
static void
forget_failures_in(PluginHost *host, const char *dir)
{
	for (guint i = host->plugins->len; i > 0; i--) {
		PluginInfo *info = host->plugins->pdata[i - 1];
		g_autofree char *parent = g_path_get_dirname(info->path);

		if (!info->loaded && (g_str_equal(parent, dir) ||
				      g_str_equal(info->path, dir)))
			g_ptr_array_remove_index(host->plugins, i - 1);
	}
}

/* Tells a module file from the one refused before: a fixed build is a
 * new or rewritten file, a permission fix changes its ctime. A symbolic
 * link is judged as itself. */
static char *
file_identity(int dir_fd, const char *name)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return g_strdup("");
	return g_strdup_printf("%ju:%ju:%jd:%jd.%09ld:%jd.%09ld",
			       (uintmax_t)st.st_dev, (uintmax_t)st.st_ino,
			       (intmax_t)st.st_size,
			       (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			       (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The "*.so" files of the directory open as `dir_fd`, by name. */
static GPtrArray *
module_names(int dir_fd)
{
	int fd = dup(dir_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	struct dirent *entry;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return names;
	}
	while ((entry = readdir(d)))
		if (g_str_has_suffix(entry->d_name, ".so"))
			g_ptr_array_add(names, g_strdup(entry->d_name));
	closedir(d);
	g_ptr_array_sort(names, compare_names);
	return names;
}

/* With system checks the directory must be root's, not writable by
 * group or others, and not a symbolic link: whoever may write in it
 * chooses the code slotd runs. */
static gboolean
check_dir(const char *dir, int dir_fd, gboolean system_checks,
	  GError **error)
{
	struct stat st;

	if (!system_checks)
		return TRUE;
	if (dir_fd < 0) {
		g_set_error_literal(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
				    "the plugin directory is a symbolic link; "
				    "name the directory itself");
		return FALSE;
	}
	if (fstat(dir_fd, &st) < 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "the plugin directory cannot be checked: %s",
			    g_strerror(errno));
		return FALSE;
	}
	return check_owner_and_mode(&st, "the plugin directory is ", error);
}

/* -1 and `error` when the directory cannot be read at all; with system
 * checks a symbolic link is not followed (the check refuses it). */
static int
open_dir(const char *dir, gboolean system_checks, GError **error)
{
	int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	int fd = open(dir, flags | (system_checks ? O_NOFOLLOW : 0));
	int saved = errno;

	if (fd >= 0 || (system_checks && (saved == ELOOP ||
					  saved == ENOTDIR) &&
			g_file_test(dir, G_FILE_TEST_IS_SYMLINK)))
		return fd;
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
		    "cannot open %s: %s", dir, g_strerror(saved));
	return -2;
}

/* The directory refused as a whole: one entry, by its path. */
static void
refuse_dir(PluginHost *host, const char *dir, GError *why)
{
	PluginInfo *info = g_new0(PluginInfo, 1);

	info->path = g_strdup(dir);
	info->error = g_strdup(why->message);
	g_ptr_array_add(host->plugins, info);
	g_warning("plugin directory %s refused: %s", dir, why->message);
	g_hash_table_insert(host->pass_refusals, g_strdup(dir),
			    file_identity(AT_FDCWD, dir));
}

static void
load_modules(PluginHost *host, const char *dir, int dir_fd,
	     gboolean system_checks)
{
	g_autoptr(GPtrArray) names = module_names(dir_fd);

	for (guint i = 0; i < names->len; i++) {
		const char *name = names->pdata[i];
		char *path = g_build_filename(dir, name, NULL);
		char *identity;

		if (already_loaded(host, path)) {
			g_free(path);
			continue;
		}
		identity = file_identity(dir_fd, name);
		if (load_module(host, dir_fd, name, path, system_checks,
				NULL)) {
			g_free(path);
			g_free(identity);
			continue;
		}
		g_hash_table_insert(host->pass_refusals, path, identity);
	}
}

gboolean
plugin_host_load_dir(PluginHost *host, const char *dir,
		     gboolean system_checks, GError **error)
{
	g_autofree char *abs_dir = g_canonicalize_filename(dir, NULL);
	g_autoptr(GError) why = NULL;
	int dir_fd = open_dir(abs_dir, system_checks, error);

	if (dir_fd == -2)
		return FALSE;
	g_hash_table_remove_all(host->pass_refusals);
	forget_failures_in(host, abs_dir);
	if (check_dir(abs_dir, dir_fd, system_checks, &why))
		load_modules(host, abs_dir, dir_fd, system_checks);
	else
		refuse_dir(host, abs_dir, why);
	if (dir_fd >= 0)
		close(dir_fd);
	return TRUE;
}

gboolean
plugin_host_check_refusals(PluginHost *host, GError **error)
{
	g_autoptr(GString) why = g_string_new(NULL);

	/* In load order, so the message reads the same every time. */
	for (guint i = 0; i < host->plugins->len; i++) {
		const PluginInfo *info = host->plugins->pdata[i];
		const char *identity = g_hash_table_lookup(host->pass_refusals,
							   info->path);

		if (info->loaded || !identity ||
		    g_strcmp0(identity, g_hash_table_lookup(
						host->accepted_refusals,
						info->path)) == 0)
			continue;
		g_string_append_printf(why, "%splugin %s was refused: %s",
				       why->len ? "; " : "", info->path,
				       info->error);
	}
	if (why->len == 0)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CONFIG,
		    "%s; fix or remove it and reload again", why->str);
	return FALSE;
}

void
plugin_host_accept_refusals(PluginHost *host)
{
	GHashTableIter iter;
	gpointer path, identity;

	g_hash_table_remove_all(host->accepted_refusals);
	g_hash_table_iter_init(&iter, host->pass_refusals);
	while (g_hash_table_iter_next(&iter, &path, &identity))
		g_hash_table_insert(host->accepted_refusals, g_strdup(path),
				    g_strdup(identity));
}

const SlotdKindOps *
plugin_host_kind(PluginHost *host, const char *kind)
{
	KindEntry *entry = g_hash_table_lookup(host->kinds, kind);

	return entry ? &entry->ops : NULL;
}

GPtrArray *
plugin_host_list(PluginHost *host)
{
	return host->plugins;
}

gboolean
plugin_host_configure(PluginHost *host, Region *region, GError **error)
{
	for (guint i = 0; i < region->offerings->len; i++) {
		SlotdOffering *off = region->offerings->pdata[i];
		const SlotdKindOps *ops = plugin_host_kind(host,
							   off->service->kind);

		if (!ops) {
			off->available = FALSE;
			g_free(off->unavailable_reason);
			off->unavailable_reason = g_strdup_printf(
				"no plugin provides the service kind '%s'",
				off->service->kind);
			continue;
		}
		off->available = TRUE;
		if (!ops->configure(off, error))
			return FALSE;
	}
	return TRUE;
}
