/* A sound plugin for the loader and reload tests, built the way a newer
 * and an older SDK would build it: its descriptor is longer than this
 * daemon's (a field a later SDK appended), and its second kind's table
 * is shorter (built before rank, plan, options and flags existed) with
 * junk where those fields would be, which the daemon must not read. */
#include <slotd/plugin.h>

typedef struct {
	SlotdPluginDescriptor base;
	const char *licence; /* appended by a later SDK; unknown here */
} LaterDescriptor;

static gboolean
good_configure(SlotdOffering *offering, GError **error)
{
	return TRUE; /* core keys only */
}

static gint
junk_rank(const SlotdOffering *offering, const SlotdSlotInfo *slot,
	  const SlotdRequest *request)
{
	g_error("the daemon called a hook past the table's size");
	return 0;
}

static const SlotdKindOps visit_ops = {
	.size = sizeof(SlotdKindOps),
	.configure = good_configure,
};

static const SlotdKindOps old_ops = {
	.size = G_STRUCT_OFFSET(SlotdKindOps, rank),
	.configure = good_configure,
	.rank = junk_rank,
	.flags = SLOTD_KIND_ANONYMOUS_VISITS,
};

static gboolean
good_setup(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, "loader-visit", &visit_ops,
					error) &&
	       slotd_host_register_kind(host, "loader-old", &old_ops, error);
}

static const LaterDescriptor descriptor = {
	.base = {
		.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
		.size = sizeof(LaterDescriptor),
		.id = "loader-good",
		.version = "2.5",
		.summary = "Loader test: plain visits",
		.setup = good_setup,
	},
	.licence = "EUPL-1.2",
};

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &descriptor.base;
}
