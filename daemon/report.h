/* Planning reports of the core: capacity and access per unit,
 * municipality and region (report.c), and care-guarantee deadlines
 * (report-deadline.c). Rows are a{sv} dictionaries, the shape
 * Planner1 answers with; nothing here changes the store. */
#pragma once

#include "deadline.h"
#include "plan-source.h"

/* The longest range a report covers is [daemon] report-max-days (400
 * by default: a year and a month). A Planner1 answer has at most this
 * many rows (a capacity report's groups times periods, a deadline
 * report's bookings, a staffing plan's rows): about 3 MB. Reports run
 * on worker threads and the reply is built a slice at a time, but the
 * bus daemon reads the whole message before the next one from slotd:
 * 10-20 ms a MB here, which every other caller waits. A year by day of
 * a service with 21 units and municipalities fits; the example's
 * walk-in service (31) asks by week, by municipality or for 8 months. */
#define REPORT_MAX_ROWS 8000
/* Instants a report or plan accepts: 1970 to 2200, as FindSlots. */
#define REPORT_TIME_MAX G_GINT64_CONSTANT(7258118400)

typedef enum {
	REPORT_BY_DAY,
	REPORT_BY_WEEK,	/* ISO weeks, Monday to Sunday, local time */
} ReportBy;

typedef struct {
	const char *service;
	gint64 from;		/* UTC, inclusive */
	gint64 to;		/* UTC, exclusive */
	ReportBy by;
	const char *unit;	/* only this unit's rows, or NULL */
	const char *municipality; /* code or name: only its units, or NULL */
} ReportQuery;

/* CapacityReport rows (GVariant a{sv}, by unit, then municipality, then
 * the region; each by period): level, unit, municipality, period-start,
 * period-end, capacity, booked, held, free (places), utilisation
 * (booked / capacity; absent without capacity), bookings, no-shows,
 * third-next-available (seconds from now, -1 when fewer than three
 * free slots), median-lead-time (seconds, -1 without bookings). A unit
 * filter gives unit rows only; a municipality filter its units and
 * its own rows. */
gboolean report_capacity(const PlanSource *source, const ReportQuery *query,
			 GPtrArray **ret_rows, GError **error);

/* DeadlineReport rows: one per live booking with a referral time that
 * starts in the range and falls under a deadline rule (level
 * "booking"), then one per unit and one for the region (counts and
 * at-risk). See report-deadline.c for how rules are chosen. More than
 * REPORT_MAX_ROWS bookings are refused (InvalidArgs). */
gboolean report_deadlines(const PlanSource *source, const ReportQuery *query,
			  GPtrArray **ret_rows, GError **error);

/* ResourceUtilisation rows (report-resource.c), one per resource of
 * the region in configuration order (of `unit` and of `type`
 * "practitioner", "room" or "vehicle" when given): resource, type,
 * unit, organisation, on-duty-minutes (its shifts in [from, to), days
 * off and absences left out), booked-minutes (live bookings' resource_use in the
 * range, travel included), share (booked / on duty; absent when not on
 * duty), bookings. NoSuchUnit or InvalidArgs. */
gboolean report_resource_utilisation(const PlanSource *source, gint64 from,
				     gint64 to, const char *unit,
				     const char *type, GPtrArray **ret_rows,
				     GError **error);
/* Adds "rostered" to the staffing rows (GVariant a{sv}, replaced in
 * place) of a service whose offerings are made of resources: the
 * practitioners of the pools (of the row's unit, when it names one) on
 * duty and not absent (`absences`, StoreAbsence) for the row's hour
 * (hour-of-week with period-start) or, for a daily shift (shift-start,
 * shift-hours), the fewest on duty on any day of [from, to). Rows with
 * no such time are left alone. */
void report_add_rostered(const Region *region, const GPtrArray *absences,
			 const char *service_id, gint64 from, gint64 to,
			 GPtrArray *rows);

/* ---- shared by report.c and report-deadline.c ----------------------- */

/* Checks the service, the range and the filters; `ret_offerings` gets
 * the service's offerings in scope (borrowed from the source's region),
 * in configuration order. NoSuchService, NoSuchUnit or InvalidArgs. */
gboolean report_scope(const PlanSource *source, const ReportQuery *query,
		      GPtrArray **ret_offerings, GError **error);
/* Whether [from, to) is a range a report or plan may cover: from before
 * to, within 1970-2200, at most report-max-days long (InvalidArgs). */
gboolean report_check_range(const Region *region, gint64 from, gint64 to,
			    GError **error);
/* Days since 1970-01-01 on the Europe/Helsinki calendar, and back to
 * the UTC instant of that day's local midnight. */
gint64 report_local_day(gint64 utc);
gint64 report_day_start(gint64 day);
/* Adds key → value (floating references are sunk) to an a{sv}
 * builder; rows keep their keys in the order written, and tables show
 * them so. */
void report_row_put(GVariantBuilder *row, const char *key, GVariant *value);
void report_row_text(GVariantBuilder *row, const char *key, const char *text);
void report_row_int(GVariantBuilder *row, const char *key, gint64 value);
