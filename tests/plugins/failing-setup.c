/* Registers a kind, then finds it cannot run and fails its setup: the
 * kind it registered must go again, and the plugin is refused with the
 * reason it gave. */
#include <slotd/plugin.h>

static gboolean
configure(SlotdOffering *offering, GError **error)
{
	return TRUE;
}

static const SlotdKindOps ops = {
	.size = sizeof(SlotdKindOps),
	.configure = configure,
};

static gboolean
failing_setup(SlotdHost *host, GError **error)
{
	if (!slotd_host_register_kind(host, "loader-half", &ops, error))
		return FALSE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
		    "its rota file /etc/slotd/loader-rota.csv is missing");
	return FALSE;
}

static const SlotdPluginDescriptor descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "loader-failing",
	.version = "1.0",
	.summary = "Loader test: setup fails",
	.setup = failing_setup,
};

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &descriptor;
}
