/* crisis-duty: the social and crisis duty (sosiaali- ja kriisipäivystys /
 * social- och krisjour) of a wellbeing services county.
 *
 * One service per county runs around the clock from a few bases. Each
 * base is an offering whose windows are its shifts; a slot's capacity
 * is the number of staff on that shift, and its kind is the shift's
 * name, so a contact is done by the staff of the shift it starts in.
 * A phone contact takes one worker; a field visit takes a pair for the
 * visit plus the drive there and back; an office meeting takes a pair.
 * Urgent and immediate contacts must start within configured limits or
 * are refused with the earliest start any base can give, and Swedish
 * contacts need one of the shift's Swedish speakers. The plan hook
 * turns contact volumes into staff needed per hour of the week with
 * Erlang C.
 */
#include "crisis-duty.h"

static const SlotdOptionSpec crisis_options[] = {
	{ "contact", "s",
	  "phone (one worker), field (a visit by a pair, needs "
	  "municipality) or office (a pair at the base); default phone, "
	  "or what modality implies" },
	{ "field-minutes", "u",
	  "minutes on site for a field contact, 60-120, travel not "
	  "included; default the base's field-minutes" },
	{ NULL },
};

/* Slots of slot-minutes across the shift, each with the shift's staff;
 * the last one is shorter when the shift does not divide evenly (and on
 * the nights the clocks change). */
static gboolean crisis_shape(const SlotdOffering *offering,
			     const SlotdWindow *window, GArray *ret_slots,
			     GError **error)
{
	gint64 step = (gint64)slotd_offering_slot_minutes(offering) * 60;
	const char *kind = g_intern_string(window->name);

	if (step <= 0)
		step = 30 * 60;
	for (gint64 start = window->start; start < window->end; start += step) {
		SlotdSlotSpec spec = {
			.start = start,
			.end = MIN(start + step, window->end),
			.capacity = window->capacity,
			.kind = kind,
		};

		g_array_append_val(ret_slots, spec);
	}
	return TRUE;
}

/* A duty answers now: no notice, no cut-offs. */
static const SlotdBookingRules crisis_rules = {
	.status_grace_minutes = 60,
};

static const SlotdKindOps crisis_ops = {
	.size = sizeof(SlotdKindOps),
	.configure = crisis_configure,
	.shape = crisis_shape,
	.admit = crisis_admit,
	.plan = crisis_plan,
	.rules = &crisis_rules,
	.options = crisis_options,
};

static gboolean crisis_setup(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, CRISIS_KIND, &crisis_ops, error);
}

static void crisis_teardown(void)
{
}

static const SlotdPluginDescriptor crisis_descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "crisis-duty",
	.version = "1.0",
	.summary = "Social and crisis duty (sosiaali- ja kriisipäivystys / "
		   "social- och krisjour): 24/7 shifts, phone contacts, field "
		   "visits in pairs, urgency limits, Swedish speakers, "
		   "Erlang C staffing",
	.setup = crisis_setup,
	.teardown = crisis_teardown,
};

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void)
{
	return &crisis_descriptor;
}
