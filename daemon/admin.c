/* org.slotd.Admin1: plugins, reload, backups. */
#include "daemon.h"

#include "slotd-config.h"

#define E_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define E_ARGS "org.freedesktop.DBus.Error.InvalidArgs"

static const char *const errors_read[] = { E_DENIED, NULL };
static const char *const errors_reload[] = {
	E_DENIED, "org.slotd.Error.InvalidConfig",
	"org.slotd.Error.StorageUnavailable", NULL
};
static const char *const errors_backup[] = {
	E_ARGS, E_DENIED, "org.slotd.Error.StorageUnavailable", NULL
};

static void
list_plugins(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	GPtrArray *list = plugin_host_list(daemon->plugins);
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a(sssu)"));
	for (guint i = 0; i < list->len; i++) {
		const PluginInfo *p = list->pdata[i];
		g_autofree char *summary = NULL;
		g_autofree char *base = g_path_get_basename(p->path);

		if (p->loaded)
			summary = g_strdup(p->summary);
		else
			summary = g_strdup_printf("refused: %s", p->error);
		g_variant_builder_add(&b, "(sssu)", p->id ? p->id : base,
				      p->loaded ? p->version : "", summary,
				      p->abi_major);
	}
	bus_call_return(call, g_variant_new("(a(sssu))", &b));
}

static void
reload(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rebook = NULL;
	Caller caller;

	daemon_caller(call, &caller);
	if (!daemon_reload(daemon, &rebook, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	store_audit(daemon->store, capacity_now(daemon->capacity), caller.uid,
		    caller.name, "reload", 0, "", NULL);
	bus_call_return(call, NULL);
}

static void
backup(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	const char *path;

	g_variant_get(args, "(&s)", &path);
	if (!g_path_is_absolute(path) || !g_utf8_validate(path, -1, NULL)) {
		g_set_error(&error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "give the backup file as an absolute path");
		bus_call_return_error(call, error);
		return;
	}
	if (!store_backup(daemon->store, path, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	bus_call_return(call, NULL);
}

static void
get_status(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	Region *region = capacity_region(daemon->capacity);
	guint unavailable = 0;
	GVariantDict d;

	for (guint i = 0; i < region->offerings->len; i++) {
		const SlotdOffering *off = region->offerings->pdata[i];

		unavailable += off->available ? 0 : 1;
	}
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "version", "s", SLOTD_VERSION);
	g_variant_dict_insert(&d, "region", "s", region->daemon.region_id);
	g_variant_dict_insert(&d, "now", "x", capacity_now(daemon->capacity));
	g_variant_dict_insert(&d, "horizon-complete", "b",
			      daemon->extend_source == NULL);
	g_variant_dict_insert(&d, "horizon-days", "u",
			      region->daemon.horizon_days);
	g_variant_dict_insert(&d, "offerings", "u", region->offerings->len);
	g_variant_dict_insert(&d, "unavailable-offerings", "u", unavailable);
	g_variant_dict_insert(&d, "pending-calls", "u",
			      bus_pending_calls(daemon->bus));
	bus_call_return(call, g_variant_new("(@a{sv})", g_variant_dict_end(&d)));
}

static const BusMethod admin_methods[] = {
	{ "GetStatus", "", "", "a{sv}", "status", get_status, BUS_ROLE_READ,
	  errors_read,
	  "version, region, now, horizon-complete, offerings, "
	  "unavailable-offerings, pending-calls." },
	{ "ListPlugins", "", "", "a(sssu)", "plugins", list_plugins,
	  BUS_ROLE_READ, errors_read,
	  "Plugins: id, version, summary (or why refused), ABI major." },
	{ "Reload", "", "", "", "", reload, BUS_ROLE_ADMIN, errors_reload,
	  "Re-reads configuration and plugins; a broken one changes "
	  "nothing." },
	{ "Backup", "s", "path", "", "", backup, BUS_ROLE_ADMIN,
	  errors_backup,
	  "Writes a consistent copy of the database to an absolute path." },
	{ NULL }
};

const BusInterface admin_interface = {
	"org.slotd.Admin1", admin_methods, NULL
};
