/* Built against a later SDK: it calls a host function this daemon does
 * not have. Symbols are resolved when the module is loaded, so it is
 * refused then rather than failing at its first booking. */
#include <slotd/plugin.h>

gboolean slotd_host_register_kind_v2(SlotdHost *host, const char *kind,
				     const SlotdKindOps *ops, guint32 flags,
				     GError **error);

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
later_setup(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind_v2(host, "loader-later", &ops, 0,
					   error);
}

static const SlotdPluginDescriptor descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "loader-later",
	.version = "1.0",
	.summary = "Loader test: needs a later host",
	.setup = later_setup,
};

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &descriptor;
}
