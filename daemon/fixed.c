/* The built-in "fixed" kind: plain appointments of slot-minutes with the
 * window's seats, for services with no rules beyond capacity (remote
 * counselling, short-therapy sessions, service-need assessments). */
#include "plugin-host.h"

static gboolean
fixed_configure(SlotdOffering *offering, GError **error)
{
	return TRUE; /* only core keys */
}

static const SlotdKindOps fixed_ops = {
	.size = sizeof(SlotdKindOps),
	.configure = fixed_configure,
};

void
fixed_register(PluginHost *host)
{
	plugin_host_add_builtin(host, "fixed", &fixed_ops);
}
