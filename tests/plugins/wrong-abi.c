/* Built for the next ABI major: refused before its setup can run. */
#include <slotd/plugin.h>

static gboolean
never_setup(SlotdHost *host, GError **error)
{
	g_error("the setup of a plugin of another ABI ran");
	return FALSE;
}

static const SlotdPluginDescriptor descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR + 1,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "loader-future",
	.version = "9.0",
	.summary = "Loader test: a later ABI",
	.setup = never_setup,
};

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &descriptor;
}
