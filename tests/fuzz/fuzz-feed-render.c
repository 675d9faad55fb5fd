/* libFuzzer: feed rendering of hostile strings. Bookings whose client
 * reference, status, municipality and modality come from the input
 * (and offerings and services that no longer exist) are rendered into the
 * example region's staff feed; the text must parse with libical into
 * exactly one VEVENT per booking, and carry no control character but
 * the CR LF line ends. feed_clean_text is held to its promise too. */
#include <libical/ical.h>
#include <string.h>

#include "calendar.h"
#include "config.h"
#include "feed.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static Region *region;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *root = g_getenv("SLOTD_SOURCE_ROOT");
	g_autofree char *conf = g_build_filename(root ? root : ".", "config",
						 "example", "slotd.conf",
						 NULL);
	ConfigOptions options = { conf, "state", "plugins" };
	g_autoptr(GError) error = NULL;

	icalerror_set_errors_are_fatal(FALSE);
	calendar_init();
	region = config_load(&options, &error);
	if (!region) {
		g_printerr("fuzz-feed-render: %s (set SLOTD_SOURCE_ROOT)\n",
			   error->message);
		abort();
	}
	return 0;
}

static char *
field(char **fields, guint i)
{
	guint n = g_strv_length(fields);

	return g_strdup(n ? fields[i % n] : "");
}

static StoreFeedBooking *
booking_from(char **fields, guint i, const guint8 *data, size_t size)
{
	static const char *const offerings[] = { "W-SNA-LV", "W-SNA-ESP",
						 "gone-offering" };
	StoreFeedBooking *b = g_new0(StoreFeedBooking, 1);
	guint8 k = size ? data[i % size] : 0;

	b->id = i + 1;
	b->offering = g_strdup(offerings[k % 3]);
	b->unit = g_strdup("W-SNA-LV");
	/* Service ids are checked ids from the configuration; one may
	 * have left it since. */
	b->service = g_strdup(k & 4 ? "gone-service" :
			      "needs-assessment-west");
	b->start = 1796619600 + (gint64)k * 5400;
	b->end = b->start + (k & 8 ? -60 : 5400);
	b->client_ref = field(fields, i);
	b->status = field(fields, i + 1);
	b->needs_rebooking = (k & 2) != 0; /* to be moved */
	b->municipality = k & 16 ? field(fields, i + 2) : NULL;
	b->modality = k & 32 ? g_strdup("home") : field(fields, i + 3);
	b->sequence = k & 64 ? G_MAXINT64 : k;
	b->created = k & 128 ? G_MININT64 / 2 : 1796000000;
	b->modified = b->created + k;
	return b;
}

static void
check_clean(const char *text)
{
	g_autofree char *clean = feed_clean_text(text);

	if (!g_utf8_validate(clean, -1, NULL))
		__builtin_trap();
	for (const char *p = clean; *p; p++)
		if ((guchar)*p < 0x20 && *p != '\n')
			__builtin_trap();
}

/* Every line ends in CR LF, whatever the input: libical 3.0.16 folded
 * some long lines inside their CR LF (docs/reliability.md), which
 * feed.c no longer lets through. */
static void
check_feed(GBytes *feed, guint n)
{
	gsize length;
	const char *text = g_bytes_get_data(feed, &length);
	g_autofree char *copy = g_strndup(text, length);
	icalcomponent *calendar;

	/* What an input renders to: FUZZ_DEBUG=OUT ./fuzz-... INPUT */
	if (g_getenv("FUZZ_DEBUG"))
		g_file_set_contents(g_getenv("FUZZ_DEBUG"), text,
				    (gssize)length, NULL);

	for (gsize i = 0; i < length; i++) {
		guchar c = (guchar)text[i];

		if (c < 0x20 && c != '\r' && c != '\n')
			__builtin_trap();
		if (c == '\n' && (i == 0 || text[i - 1] != '\r'))
			__builtin_trap();
		if (c == '\r' && (i + 1 == length || text[i + 1] != '\n'))
			__builtin_trap();
	}
	calendar = icalparser_parse_string(copy);
	if (!calendar ||
	    icalcomponent_count_components(calendar, ICAL_VEVENT_COMPONENT) !=
		    (int)n)
		__builtin_trap();
	icalcomponent_free(calendar);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);
	g_auto(GStrv) fields = g_strsplit(text, "|", 8);
	g_autoptr(GPtrArray) bookings = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_feed_booking_free);
	FeedScope scope = { region, "W-SNA-LV", NULL, 1796619600 };
	guint n = size ? data[0] % 4 : 0;
	GBytes *feed;

	check_clean(text);
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(bookings, booking_from(fields, i, data, size));
	feed = feed_render_staff(&scope, bookings);
	check_feed(feed, n);
	g_bytes_unref(feed);
	return 0;
}
