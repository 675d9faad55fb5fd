/* Joint visits (yhteiskäynti / gemensamt besök): the plugin's
 * descriptor and hook table; the housing units are in housing.c and
 * the admission rule in admit.c. */
#include "joint-visit.h"

static const SlotdOptionSpec jv_options[] = {
	{ "housing-unit", "s",
	  "the supported-housing unit the visit goes to (a pseudonymous id "
	  "such as asumis-1, one of the offering's housing-units)" },
	{ NULL },
};

/* Three organisations agree on a visit: a working day's notice, one
 * mapping visit a client a day and one upcoming at a time. */
static const SlotdBookingRules jv_rules = {
	.notice_minutes = 24 * 60,
	.cancel_cutoff_minutes = 120,
	.reschedule_cutoff_minutes = 120,
	.max_per_day = 1,
	.max_active = 1,
	.status_grace_minutes = 60,
};

static const SlotdKindOps jv_ops = {
	.size = sizeof(SlotdKindOps),
	.configure = jv_configure,
	.admit = jv_admit,
	.options = jv_options,
	.rules = &jv_rules,
};

static gboolean
jv_setup(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, JV_KIND, &jv_ops, error);
}

static const SlotdPluginDescriptor jv_descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "joint-visit",
	.version = "1.0",
	.summary = "Joint visits (yhteiskäynti/gemensamt besök): one "
		   "professional of each organisation at the client's "
		   "housing unit, with the drive",
	.setup = jv_setup,
	.teardown = NULL,
};

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &jv_descriptor;
}
