/* The classic slip: the entry point is defined but not exported (no
 * SLOTD_PLUGIN_EXPORT in a -fvisibility=hidden build), so the daemon
 * cannot find it. */
#include <slotd/plugin.h>

static gboolean
hidden_setup(SlotdHost *host, GError **error)
{
	g_error("the setup of a plugin without an entry point ran");
	return FALSE;
}

static const SlotdPluginDescriptor descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "loader-hidden",
	.version = "1.0",
	.summary = "Loader test: entry point not exported",
	.setup = hidden_setup,
};

const SlotdPluginDescriptor *slotd_plugin_describe(void);

const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &descriptor;
}
