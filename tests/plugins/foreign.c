/* A working plugin that the loader must never run: it is linked with an
 * executable stack (meson.build), which the ELF check refuses. The
 * loader race (tests/loader-race.c) swaps it in at a module's path
 * while that module is being checked and loaded; loaded, it would show
 * that what ran is not what was checked. */
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
foreign_setup(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, "loader-foreign", &ops, error);
}

static const SlotdPluginDescriptor descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "loader-foreign",
	.version = "1.0",
	.summary = "Loader test: must never be loaded",
	.setup = foreign_setup,
};

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &descriptor;
}
