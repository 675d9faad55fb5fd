/* walk-in: the plugin's descriptor and the kind it registers.
 *
 * Walk-in social counselling at health stations (sosiaaliohjaus
 * walk-in / socialhandledning walk-in), e.g. Lohja city-centre health
 * station on Mondays 13-16: no appointment, a queue instead, anonymity
 * allowed, no decisions made on site. Beside the sessions, a few
 * referral slots that health-station staff book for a client. */
#include "walk-in.h"

static const SlotdOptionSpec walk_in_options[] = {
	{ "reason", "s",
	  "Why the visitor comes, as a coarse category kept for anonymous "
	  "statistics: one of the offering's reasons (by default income, "
	  "housing, employment, family, substance-use, coping, ageing, "
	  "disability, other)" },
	{ NULL },
};

/* cost is left NULL: a check-in takes one queue place in its session
 * and a referral one seat in its slot, which is the core's default. */
/* A check-in is made at the door and a referral slot the same day. */
static const SlotdBookingRules walk_in_rules = {
	.status_grace_minutes = 60,
};

static const SlotdKindOps walk_in_ops = {
	.size = sizeof(SlotdKindOps),
	.configure = walk_in_configure,
	.shape = walk_in_shape,
	.admit = walk_in_admit,
	.describe = walk_in_describe,
	.plan = walk_in_plan,
	.rules = &walk_in_rules,
	.options = walk_in_options,
	/* Sessions take anonymous visitors; admit refuses them elsewhere. */
	.flags = SLOTD_KIND_ANONYMOUS_VISITS | SLOTD_KIND_JOIN_STARTED,
};

static gboolean
walk_in_setup(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, "walk-in", &walk_in_ops, error);
}

static void
walk_in_teardown(void)
{
}

static const SlotdPluginDescriptor walk_in_descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "walk-in",
	.version = "1.0",
	.summary = "Walk-in social counselling: drop-in sessions with a "
		   "ticket queue, anonymous visits, and referral slots",
	.setup = walk_in_setup,
	.teardown = walk_in_teardown,
};

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &walk_in_descriptor;
}
