/* The bare libical baseline: a VCALENDAR of N VEVENTs with the
 * properties a staff feed gives each booking (UID, DTSTAMP, local
 * DTSTART/DTEND with TZID, SUMMARY, LOCATION, STATUS, SEQUENCE,
 * CREATED, LAST-MODIFIED), built as one component tree and serialised
 * with nothing else around. */
#include "bench.h"

#include <libical/ical.h>
#include <stdlib.h>
#include <string.h>

#define HELSINKI "Europe/Helsinki"

/* A wall-clock reading with a TZID. The offset is fixed: finding the
 * right one is the renderer's business and would only make the
 * baseline slower; this measures building and serialising. */
static icalproperty *
local_time(icalproperty *(*make)(struct icaltimetype), time_t t)
{
	struct icaltimetype local =
		icaltime_from_timet_with_zone(t + 2 * 3600, 0, NULL);
	icalproperty *prop = make(local);

	icalproperty_add_parameter(prop, icalparameter_new_tzid(HELSINKI));
	return prop;
}

static icalcomponent *
booking_event(guint i, time_t stamp)
{
	icaltimezone *utc = icaltimezone_get_utc_timezone();
	time_t start = 1780000000 + (time_t)(i / 4) * 1800;
	char uid[64], summary[96];
	icalcomponent *event = icalcomponent_new_vevent();

	g_snprintf(uid, sizeof(uid), "b-%u@slotd.bench", 500000 + i);
	g_snprintf(summary, sizeof(summary),
		   "Kotisairaala / Hemsjukhuset: c%08x", 0x51a7u * (i + 1));
	icalcomponent_add_property(event, icalproperty_new_uid(uid));
	icalcomponent_add_property(
		event, icalproperty_new_dtstamp(
			       icaltime_from_timet_with_zone(stamp, 0, utc)));
	icalcomponent_add_property(event,
				   local_time(icalproperty_new_dtstart, start));
	icalcomponent_add_property(event, local_time(icalproperty_new_dtend,
						     start + 1800));
	icalcomponent_add_property(event, icalproperty_new_summary(summary));
	icalcomponent_add_property(event,
				   icalproperty_new_location("Espoo / Esbo"));
	icalcomponent_add_property(
		event, icalproperty_new_status(ICAL_STATUS_CONFIRMED));
	icalcomponent_add_property(event, icalproperty_new_sequence(1));
	icalcomponent_add_property(
		event, icalproperty_new_created(
			       icaltime_from_timet_with_zone(stamp, 0, utc)));
	icalcomponent_add_property(
		event, icalproperty_new_lastmodified(
			       icaltime_from_timet_with_zone(stamp, 0, utc)));
	return event;
}

double
bare_ical_build(guint events, gsize *ret_length)
{
	time_t stamp = 1779000000;
	icalcomponent *calendar;
	double t0;
	char *text;

	icalerror_set_errors_are_fatal(0);
	t0 = bench_now_us();
	calendar = icalcomponent_new_vcalendar();
	icalcomponent_add_property(
		calendar, icalproperty_new_prodid("-//slotd//bench//"));
	icalcomponent_add_property(calendar, icalproperty_new_version("2.0"));
	icalcomponent_add_property(
		calendar, icalproperty_new_method(ICAL_METHOD_PUBLISH));
	for (guint i = 0; i < events; i++)
		icalcomponent_add_component(calendar, booking_event(i, stamp));
	text = icalcomponent_as_ical_string_r(calendar);
	t0 = (bench_now_us() - t0) / 1000;
	*ret_length = strlen(text);
	free(text);
	icalcomponent_free(calendar);
	return t0;
}
