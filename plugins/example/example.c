/* example: the smallest useful slotd plugin, written to be read.
 *
 * It provides one service kind, "example-visit": a nurse's consultation
 * at a health station (sairaanhoitajan vastaanotto / sjukskötarmottagning).
 * The core already cuts the opening windows into slots of slot-minutes
 * and guards the seats; the plugin adds one rule of its own: a client
 * gets at most `max-visits-per-week` consultations of the service in a
 * calendar week (Monday to Sunday, Helsinki time), so a few frequent
 * visitors cannot fill a small station's week. Bookings may carry a
 * `topic` (a short code from a fixed list) that the nurse sees with the
 * booking.
 *
 * The only header a plugin includes is <slotd/plugin.h>; build it out
 * of tree with
 *
 *   cc -shared -fPIC -o example.so example.c \
 *      $(pkg-config --cflags --libs slotd-plugin)
 *
 * README.md walks through it; example.conf is a service that uses it.
 */

#include <slotd/plugin.h>

#define KIND "example-visit"
#define DEFAULT_MAX_VISITS_PER_WEEK 2

/* What configure read from one offering's group. The daemon keeps it
 * with the offering (slotd_offering_set_data) and frees it with the
 * offering when a reload replaces the configuration. */
typedef struct {
	guint max_visits_per_week;
} ExampleSettings;

/* Topic codes, not free text: whatever reaches a booking may reach a
 * staff calendar, and free text invites personal details. */
static const char *const topics[] = {
	"wound-care", "injection", "blood-pressure", "stitches", "other", NULL
};

/* Keys a caller may add to Book/BookSeries options. The core refuses
 * undeclared keys and values of another type before any hook runs. */
static const SlotdOptionSpec example_options[] = {
	{ "topic", "s",
	  "What the visit is for: wound-care, injection, blood-pressure, "
	  "stitches or other" },
	{ NULL },
};

/* Reads this kind's own keys of an [offering UNIT SERVICE] group. The
 * core has read its keys (windows, seats ...) already; a key neither
 * reads is refused as unknown, so a typo cannot pass silently. The
 * slotd_offering_get_*() errors name the file, the group and the key. */
static gboolean
example_configure(SlotdOffering *offering, GError **error)
{
	ExampleSettings *settings;
	gint64 max_visits;

	if (!slotd_offering_get_int(offering, "max-visits-per-week",
				    DEFAULT_MAX_VISITS_PER_WEEK, 1, 14,
				    &max_visits, error))
		return FALSE;
	settings = g_new0(ExampleSettings, 1);
	settings->max_visits_per_week = (guint)max_visits;
	slotd_offering_set_data(offering, settings, g_free);
	return TRUE;
}

/* The Helsinki calendar week holding `utc`: Monday 00:00 to the next
 * Monday 00:00, as UTC seconds (a DST week is an hour shorter or
 * longer, which the SDK's conversion takes care of). */
static void
local_week(gint64 utc, gint64 *ret_from, gint64 *ret_to)
{
	GDate date;

	slotd_local_time(utc, &date, NULL);
	g_date_subtract_days(&date, g_date_get_weekday(&date) - G_DATE_MONDAY);
	*ret_from = slotd_local_to_utc(g_date_get_year(&date),
				       g_date_get_month(&date),
				       g_date_get_day(&date), 0, 0);
	g_date_add_days(&date, 7);
	*ret_to = slotd_local_to_utc(g_date_get_year(&date),
				     g_date_get_month(&date),
				     g_date_get_day(&date), 0, 0);
}

static gboolean
take_topic(SlotdContext *ctx, const SlotdRequest *request, GError **error)
{
	const char *topic = NULL;

	if (!request->options ||
	    !slotd_request_option(request, "topic", "&s", &topic))
		return TRUE;
	if (!g_strv_contains(topics, topic)) {
		g_autofree char *known = g_strjoinv(", ", (char **)topics);

		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "unknown topic '%s'; use one of %s", topic, known);
		return FALSE;
	}
	/* Kept with the booking; GetBooking shows it as "topic". */
	slotd_context_set_extra(ctx, "topic", g_variant_new_string(topic));
	return TRUE;
}

/* The plugin's booking rule. It runs inside the booking transaction,
 * before any seat is taken, so two callers racing for the client's
 * last visit of the week cannot both get it. In a BookSeries the
 * earlier visits of the same series are already counted. */
static gboolean
example_admit(const SlotdOffering *offering, SlotdContext *ctx,
	      const SlotdSlotInfo *slot, const SlotdRequest *request,
	      GError **error)
{
	const ExampleSettings *settings = slotd_offering_get_data(offering);
	gint64 week_from, week_to;
	guint visits;

	if (!take_topic(ctx, request, error))
		return FALSE;
	local_week(slot->start, &week_from, &week_to);
	visits = slotd_context_count_client_bookings(ctx, request->client_ref,
						     week_from, week_to);
	if (visits >= settings->max_visits_per_week) {
		g_autofree char *monday = slotd_format_local(week_from);

		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
			    "the client already has %u nurse consultations "
			    "in the week starting %.10s and %s allows %u a "
			    "week (max-visits-per-week); book another week",
			    visits, monday, slotd_offering_unit(offering),
			    settings->max_visits_per_week);
		return FALSE;
	}
	return TRUE;
}

/* shape and cost stay NULL: the core's fixed-length slots of
 * slot-minutes and one seat a booking are what a consultation needs.
 * size lets the daemon tell which fields this build knows about. */
static const SlotdKindOps example_ops = {
	.size = sizeof(SlotdKindOps),
	.configure = example_configure,
	.admit = example_admit,
	.options = example_options,
};

static gboolean
example_setup(SlotdHost *host, GError **error)
{
	return slotd_host_register_kind(host, KIND, &example_ops, error);
}

static const SlotdPluginDescriptor example_descriptor = {
	.abi_major = SLOTD_PLUGIN_ABI_MAJOR,
	.size = sizeof(SlotdPluginDescriptor),
	.id = "example",
	.version = "1.0",
	.summary = "Example: nurse consultations, at most N a client a week",
	.setup = example_setup,
	.teardown = NULL, /* nothing global to release */
};

/* The one symbol the daemon looks up; the prototype keeps builds with
 * -Wmissing-prototypes quiet. */
SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *slotd_plugin_describe(void);

SLOTD_PLUGIN_EXPORT const SlotdPluginDescriptor *
slotd_plugin_describe(void)
{
	return &example_descriptor;
}
