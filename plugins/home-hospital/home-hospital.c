/* Home hospital (kotisairaala / hemsjukhus): hospital-level care at
 * home, 24/7, from base units whose nurses drive to the clients of the
 * municipalities they cover. The plugin's descriptor and hook table;
 * the rules live in base.c, visit.c, admit.c, episode.c and plan.c. */
#include "home-hospital.h"

static const SlotdOptionSpec hh_options[] = {
	{ "episode", "s",
	  "care-episode template: iv-q24h, iv-q12h, iv-q8h, fluids, "
	  "palliative, lab, or one the base defines" },
	{ "visit-minutes", "u",
	  "on-site minutes of each visit, instead of the template's" },
	{ "follow-up", "b",
	  "a single visit that continues an episode under way (no "
	  "first-visit time)" },
	{ NULL },
};

static const SlotdBookingRules hh_rules = {
	.notice_minutes = 60,
	.cancel_cutoff_minutes = 60,
	.reschedule_cutoff_minutes = 60,
	/* LUVN bills at most three visits per client a day. */
	.max_per_day = 3,
	.status_grace_minutes = 60,
};

static const SlotdKindOps hh_ops = {
	.size = sizeof(SlotdKindOps),
	.configure = hh_configure,
	.shape = hh_shape,
	.admit = hh_admit,
	.describe = hh_describe,
	.plan = hh_plan,
	.rules = &hh_rules,
	.options = hh_options,
};

static gboolean
hh_setup(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, HH_KIND, &hh_ops, error);
}

static void
hh_teardown(void)
{
}

static const SlotdPluginDescriptor hh_descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "home-hospital",
	.version = "1.0",
	.summary = "Home hospital (kotisairaala/hemsjukhus): 24/7 nurse "
		   "visits with travel from base units, care episodes",
	.setup = hh_setup,
	.teardown = hh_teardown,
};

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &hh_descriptor;
}
