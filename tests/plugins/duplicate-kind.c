/* Registers a kind of its own and then "loader-visit", which
 * tests/plugins/good.c provides too: next to that plugin it is refused
 * and its own kind goes again; alone it loads. */
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
duplicate_setup(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, "loader-dup-own", &ops, error) &&
	       slotd_host_register_kind(host, "loader-visit", &ops, error);
}

static const SlotdPluginDescriptor descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "loader-dup",
	.version = "1.0",
	.summary = "Loader test: a kind another plugin has",
	.setup = duplicate_setup,
};

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &descriptor;
}
