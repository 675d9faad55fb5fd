/* Times as people type and read them (Europe/Helsinki wall clock) and
 * the three output forms: aligned text tables, JSON and CSV. */
#include "slotctl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CTL_ZONE "Europe/Helsinki"
/* Below this a "time" value is a duration, not an instant (2000-01-01). */
#define CTL_EPOCH_FLOOR G_GINT64_CONSTANT(946684800)

static GTimeZone *local_zone(void)
{
	static GTimeZone *zone;

	if (!zone) {
		zone = g_time_zone_new_identifier(CTL_ZONE);
		/* Without tzdata the offsets would be silently wrong. */
		if (!zone)
			g_error("time zone %s not found; install tzdata",
				CTL_ZONE);
	}
	return zone;
}

/* --- parsing ------------------------------------------------------ */

typedef struct {
	int year, month, day, hour, minute, second;
	gboolean has_time;
	gboolean has_offset;
	int offset;		/* seconds east of UTC */
} TimeFields;

static gboolean scan_digits(const char **p, int count, int *ret)
{
	int value = 0;

	for (int i = 0; i < count; i++) {
		if (!g_ascii_isdigit((*p)[i]))
			return FALSE;
		value = value * 10 + ((*p)[i] - '0');
	}
	*p += count;
	*ret = value;
	return TRUE;
}

static gboolean scan_offset(const char *p, TimeFields *fields)
{
	int sign, hours, minutes = 0;

	if (*p == '\0')
		return TRUE;
	fields->has_offset = TRUE;
	if (g_ascii_strcasecmp(p, "Z") == 0)
		return TRUE;
	if (*p != '+' && *p != '-')
		return FALSE;
	sign = *p++ == '-' ? -1 : 1;
	if (!scan_digits(&p, 2, &hours))
		return FALSE;
	if (*p == ':')
		p++;
	if (*p && !scan_digits(&p, 2, &minutes))
		return FALSE;
	if (*p || hours > 14 || minutes > 59)
		return FALSE;
	fields->offset = sign * (hours * 3600 + minutes * 60);
	return TRUE;
}

static gboolean scan_time(const char *text, TimeFields *fields)
{
	const char *p = text;

	memset(fields, 0, sizeof(*fields));
	if (!scan_digits(&p, 4, &fields->year) || *p++ != '-' ||
	    !scan_digits(&p, 2, &fields->month) || *p++ != '-' ||
	    !scan_digits(&p, 2, &fields->day))
		return FALSE;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		fields->has_time = TRUE;
		if (!scan_digits(&p, 2, &fields->hour) || *p++ != ':' ||
		    !scan_digits(&p, 2, &fields->minute))
			return FALSE;
		if (*p == ':') {
			p++;
			if (!scan_digits(&p, 2, &fields->second))
				return FALSE;
		}
	}
	if (*p && !fields->has_time)
		return FALSE;	/* an offset needs a time of day */
	if (!scan_offset(p, fields))
		return FALSE;
	return g_date_valid_dmy(fields->day, fields->month, fields->year) &&
	       fields->hour < 24 && fields->minute < 60 &&
	       fields->second < 60;
}

/* The wall clock as if it were UTC; the zone offset is taken off later. */
static gint64 wall_seconds(const TimeFields *f)
{
	g_autoptr(GDateTime) wall = g_date_time_new_utc(f->year, f->month,
							f->day, f->hour,
							f->minute, f->second);

	return g_date_time_to_unix(wall);
}

/* As the daemon does it: a time in the spring-forward gap moves forward
 * by the gap, an ambiguous autumn time is its first (summer) instance. */
static gint64 local_to_utc(gint64 wall)
{
	GTimeZone *zone = local_zone();
	int interval;

	interval = g_time_zone_find_interval(zone, G_TIME_TYPE_DAYLIGHT, wall);
	if (interval < 0)	/* in the gap: the offset before it */
		interval = g_time_zone_find_interval(zone,
						     G_TIME_TYPE_UNIVERSAL,
						     wall - 24 * 3600);
	return wall - g_time_zone_get_offset(zone, interval);
}

gboolean time_parse(const char *text, gboolean end_of_day,
		    gint64 *ret_utc, GError **error)
{
	TimeFields fields;
	gint64 wall;

	if (!scan_time(text, &fields)) {
		g_set_error(error, CTL_ERROR, CTL_ERROR_USAGE,
			    _("cannot read the time “%s”; write it as "
			      "2026-12-07 or 2026-12-07T14:00 (Helsinki time), "
			      "optionally with seconds and Z or +02:00"), text);
		return FALSE;
	}
	wall = wall_seconds(&fields);
	if (!fields.has_time && end_of_day)
		wall += 24 * 3600;	/* midnight never falls in a gap here */
	if (fields.has_offset)
		*ret_utc = wall - fields.offset;
	else
		*ret_utc = local_to_utc(wall);
	return TRUE;
}

gboolean time_local_missing(const char *text, char **ret_shown)
{
	TimeFields fields;
	gint64 wall, utc;
	int offset;

	if (!scan_time(text, &fields) || fields.has_offset || !fields.has_time)
		return FALSE;
	wall = wall_seconds(&fields);
	utc = local_to_utc(wall);
	offset = g_time_zone_get_offset(
		local_zone(), g_time_zone_find_interval(
				      local_zone(), G_TIME_TYPE_UNIVERSAL, utc));
	if (utc + offset == wall)
		return FALSE;
	if (ret_shown)
		*ret_shown = time_format_local(utc);
	return TRUE;
}

/* --- formatting --------------------------------------------------- */

GDateTime *time_to_local(gint64 utc)
{
	g_autoptr(GDateTime) instant = g_date_time_new_from_unix_utc(utc);

	if (!instant)
		return NULL;
	return g_date_time_to_timezone(instant, local_zone());
}

static int offset_at(gint64 utc)
{
	GTimeZone *zone = local_zone();

	return g_time_zone_get_offset(
		zone, g_time_zone_find_interval(zone, G_TIME_TYPE_UNIVERSAL,
						utc));
}

/* In the hour repeated when summer time ends (2026-10-25 03:00–04:00)
 * one wall-clock reading names two instants: the other one is an hour
 * away and has the other offset. */
gboolean time_is_ambiguous(gint64 utc)
{
	int offset = offset_at(utc);

	for (int delta = -3600; delta <= 3600; delta += 7200) {
		int other = offset_at(utc + delta);
		gint64 twin = utc + offset - other;

		if (other != offset && offset_at(twin) == other)
			return TRUE;
	}
	return FALSE;
}

/* A date out of GDateTime's range is not shown as epoch seconds. */
static char *out_of_range(gint64 utc)
{
	return g_strdup(utc < 0 ? "(before 1970)" : "(far future)");
}

char *time_format_local(gint64 utc)
{
	g_autoptr(GDateTime) local = time_to_local(utc);
	gboolean twice;

	if (!local)
		return out_of_range(utc);
	twice = time_is_ambiguous(utc);
	/* Seconds only where they carry something (created, modified). */
	if (g_date_time_get_second(local) != 0)
		return g_date_time_format(local, twice ? "%Y-%m-%d %H:%M:%S%:z"
						       : "%Y-%m-%d %H:%M:%S");
	return g_date_time_format(local, twice ? "%Y-%m-%d %H:%M%:z"
					       : "%Y-%m-%d %H:%M");
}

char *time_format_clock(gint64 utc)
{
	g_autoptr(GDateTime) local = time_to_local(utc);

	if (!local)
		return out_of_range(utc);
	return g_date_time_format(local, time_is_ambiguous(utc) ? "%H:%M%:z"
								: "%H:%M");
}

char *time_format_iso(gint64 utc)
{
	g_autoptr(GDateTime) local = time_to_local(utc);

	if (!local)
		return out_of_range(utc);
	return g_date_time_format(local, "%Y-%m-%dT%H:%M:%S%:z");
}

gint64 time_today_start(void)
{
	g_autoptr(GDateTime) now = g_date_time_new_now(local_zone());
	TimeFields fields = {
		.year = g_date_time_get_year(now),
		.month = g_date_time_get_month(now),
		.day = g_date_time_get_day_of_month(now),
	};

	return local_to_utc(wall_seconds(&fields));
}

gint64 time_add_days(gint64 utc, int days)
{
	g_autoptr(GDateTime) local = time_to_local(utc);
	g_autoptr(GDateTime) later = NULL;

	if (!local)
		return utc + (gint64) days * 24 * 3600;
	later = g_date_time_add_days(local, days);
	return later ? g_date_time_to_unix(later) : utc;
}

/* --- what a key means --------------------------------------------- */

gboolean key_is_time(const char *key)
{
	static const char *const suffixes[] = {
		"start", "-time", "end", "deadline", NULL,
	};
	static const char *const names[] = {
		"created", "modified", "from", "to", "at", "respond-by",
		"on-site-from", "on-site-until", "bookable-from", "expires",
		"now", "worst-day", NULL,
	};

	for (guint i = 0; suffixes[i]; i++)
		if (g_str_has_suffix(key, suffixes[i]))
			return TRUE;
	return g_strv_contains(names, key);
}

/* Fractions 0..1 that people read as percentages. */
gboolean key_is_fraction(const char *key)
{
	return g_str_has_suffix(key, "utilisation") ||
	       g_str_has_suffix(key, "service-level");
}

static gboolean key_is_duration(const char *key)
{
	return g_str_equal(key, "third-next-available");
}

/* Time keys that are never durations, so 0 means "not given". */
static gboolean key_is_instant_only(const char *key)
{
	return !g_str_has_suffix(key, "lead-time") &&
	       !key_is_duration(key) && !g_str_has_prefix(key, "hour");
}

gboolean cell_int(GVariant *value, gint64 *ret)
{
	g_autoptr(GVariant) inner = NULL;

	if (!value)
		return FALSE;
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)) {
		inner = g_variant_get_variant(value);
		value = inner;
	}
	switch (g_variant_classify(value)) {
	case G_VARIANT_CLASS_BYTE: *ret = g_variant_get_byte(value); break;
	case G_VARIANT_CLASS_INT16: *ret = g_variant_get_int16(value); break;
	case G_VARIANT_CLASS_UINT16: *ret = g_variant_get_uint16(value); break;
	case G_VARIANT_CLASS_INT32: *ret = g_variant_get_int32(value); break;
	case G_VARIANT_CLASS_UINT32: *ret = g_variant_get_uint32(value); break;
	case G_VARIANT_CLASS_INT64: *ret = g_variant_get_int64(value); break;
	case G_VARIANT_CLASS_UINT64:
		*ret = (gint64) MIN(g_variant_get_uint64(value),
				    (guint64) G_MAXINT64);
		break;
	default:
		return FALSE;
	}
	return TRUE;
}

gboolean cell_double(GVariant *value, double *ret)
{
	gint64 number;

	if (value && g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE)) {
		*ret = g_variant_get_double(value);
		return TRUE;
	}
	if (value && g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)) {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);

		return cell_double(inner, ret);
	}
	if (!cell_int(value, &number))
		return FALSE;
	*ret = (double) number;
	return TRUE;
}

static char *days_number(gint64 seconds)
{
	char buffer[G_ASCII_DTOSTR_BUF_SIZE];

	return g_strdup(g_ascii_formatd(buffer, sizeof(buffer), "%.1f",
					seconds / 86400.0));
}

char *format_days(gint64 seconds)
{
	g_autofree char *number = NULL;

	if (seconds < 0)
		return g_strdup("-");
	number = days_number(seconds);
	return g_strconcat(number, " d", NULL);
}

/* Hour 0 is Monday 00–01 local time. */
static char *format_hour_of_week(gint64 hour)
{
	static const char *const days[] = {
		"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
	};

	return g_strdup_printf("%s %02d:00", days[hour / 24],
			       (int) (hour % 24));
}

/* A day or week period reads better as a date alone. */
static char *format_period(gint64 utc)
{
	g_autoptr(GDateTime) local = time_to_local(utc);

	if (local && g_date_time_get_hour(local) == 0 &&
	    g_date_time_get_minute(local) == 0 &&
	    g_date_time_get_second(local) == 0)
		return g_date_time_format(local, "%Y-%m-%d");
	return time_format_local(utc);
}

/* In CSV a spreadsheet wants bare numbers: days without " d", and an
 * empty cell where people read "-". */
static char *format_int(const char *key, gint64 number, gboolean is_int64,
			gboolean csv)
{
	gboolean instant = is_int64 && key_is_time(key) &&
			   number >= CTL_EPOCH_FLOOR;

	if (g_str_equal(key, "hour-of-week") && number >= 0 && number < 168)
		return format_hour_of_week(number);
	if (instant && (g_str_has_suffix(key, "period-start") ||
			g_str_equal(key, "worst-day")))
		return format_period(number);
	/* ISO 8601 with the offset: what a spreadsheet reads as a time. */
	if (instant && csv)
		return time_format_iso(number);
	if (instant)
		return time_format_local(number);
	/* An instant not given (referral-time 0) is not "0.0 d". */
	if (is_int64 && number == 0 && key_is_time(key) &&
	    key_is_instant_only(key))
		return g_strdup(csv ? "" : "-");
	if (is_int64 && (key_is_duration(key) || key_is_time(key))) {
		if (number < 0)
			return g_strdup(csv ? "" : "-");
		return csv ? days_number(number) : format_days(number);
	}
	return g_strdup_printf("%" G_GINT64_FORMAT, number);
}

static char *format_double(const char *key, double number, gboolean csv)
{
	char buffer[G_ASCII_DTOSTR_BUF_SIZE];

	/* A queue that never empties: Erlang C says -1 or infinity. */
	if (strstr(key, "wait") && (number < 0 || !isfinite(number)))
		return g_strdup(csv ? "" : _("unbounded"));
	if (!isfinite(number))
		return g_strdup(csv ? "" : "-");
	if (key_is_fraction(key)) {
		g_ascii_formatd(buffer, sizeof(buffer), "%.1f", number * 100);
		return g_strdup_printf("%s%%", buffer);
	}
	return g_strdup(g_ascii_formatd(buffer, sizeof(buffer), "%.2f",
					number));
}

static char *format_value(const char *key, GVariant *value, gboolean csv)
{
	gint64 number;

	if (!value)
		return g_strdup("");
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)) {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);

		return format_value(key, inner, csv);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
		return g_variant_dup_string(value, NULL);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		return g_strdup(csv ? (g_variant_get_boolean(value) ? "yes" : "no")
				    : g_variant_get_boolean(value) ? _("yes") : _("no"));
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE))
		return format_double(key, g_variant_get_double(value), csv);
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) {
		g_autofree const char **strv = g_variant_get_strv(value, NULL);

		return g_strjoinv(",", (char **) strv);
	}
	if (cell_int(value, &number))
		return format_int(key, number, g_variant_is_of_type(
					  value, G_VARIANT_TYPE_INT64), csv);
	return g_variant_print(value, FALSE);
}

char *format_cell(const char *key, GVariant *value)
{
	return format_value(key, value, FALSE);
}

static gboolean cell_is_number(const char *key, GVariant *value)
{
	gint64 number;

	if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)) {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);

		return cell_is_number(key, inner);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE))
		return TRUE;
	if (!cell_int(value, &number) || g_str_equal(key, "hour-of-week"))
		return FALSE;
	return !key_is_time(key) || number < CTL_EPOCH_FLOOR;
}

/* --- tables ------------------------------------------------------- */

CtlTable *table_new(const char *const *leading)
{
	CtlTable *table = g_new0(CtlTable, 1);

	table->columns = g_ptr_array_new_with_free_func(g_free);
	table->rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify) g_hash_table_unref);
	table->leading = leading;
	return table;
}

void table_free(CtlTable *table)
{
	g_ptr_array_unref(table->columns);
	g_ptr_array_unref(table->rows);
	g_free(table);
}

void table_column(CtlTable *table, const char *key)
{
	for (guint i = 0; i < table->columns->len; i++)
		if (g_str_equal(table->columns->pdata[i], key))
			return;
	g_ptr_array_add(table->columns, g_strdup(key));
}

GHashTable *table_add_row(CtlTable *table)
{
	GHashTable *row = g_hash_table_new_full(g_str_hash, g_str_equal,
						g_free, (GDestroyNotify)
						g_variant_unref);

	g_ptr_array_add(table->rows, row);
	return row;
}

void table_set(CtlTable *table, GHashTable *row, const char *key,
	       GVariant *value)
{
	table_column(table, key);
	g_hash_table_replace(row, g_strdup(key), g_variant_ref_sink(value));
}

void table_set_dict(CtlTable *table, GHashTable *row, GVariant *dict)
{
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		table_set(table, row, key, value);
		g_variant_unref(value);
	}
}

/* The leading columns that some row has, then the rest as first seen. */
static GPtrArray *table_order(CtlTable *table)
{
	GPtrArray *order = g_ptr_array_new();

	for (guint i = 0; table->leading && table->leading[i]; i++)
		for (guint c = 0; c < table->columns->len; c++)
			if (g_str_equal(table->columns->pdata[c],
					table->leading[i]))
				g_ptr_array_add(order,
						table->columns->pdata[c]);
	for (guint c = 0; c < table->columns->len; c++) {
		const char *key = table->columns->pdata[c];

		if (!table->leading || !g_strv_contains(table->leading, key))
			g_ptr_array_add(order, (gpointer) key);
	}
	return order;
}

void print_out(const char *text)
{
	fputs(text, stdout);
}

/* Terminal safety: a control character in a title must not move the
 * cursor or break the columns. */
static char *cell_text(const char *key, GVariant *value)
{
	char *text = format_cell(key, value);

	for (char *p = text; *p; p++)
		if ((guchar) *p < 0x20 || *p == 0x7f)
			*p = '?';
	return text;
}

static void pad(GString *line, glong count)
{
	for (glong i = 0; i < count; i++)
		g_string_append_c(line, ' ');
}

static void text_cell(GString *line, const char *text, glong width,
		      gboolean right, gboolean last)
{
	glong gap = width - g_utf8_strlen(text, -1);

	if (right)
		pad(line, gap);
	g_string_append(line, text);
	if (!right && !last)
		pad(line, gap);
	g_string_append(line, last ? "\n" : "  ");
}

/* The headings people read; CSV and JSON keep the keys, which scripts
 * rely on. Only here for xgettext: header_label() looks them up. */
static const char *const column_labels[] G_GNUC_UNUSED = {
	NC_("column", "slot"), NC_("column", "unit"), NC_("column", "start"),
	NC_("column", "end"), NC_("column", "free"),
	NC_("column", "municipality"), NC_("column", "travel-minutes"),
	NC_("column", "languages"), NC_("column", "modality"),
	NC_("column", "modalities"), NC_("column", "kind"),
	NC_("column", "service"), NC_("column", "title"),
	NC_("column", "booking"), NC_("column", "status"),
	NC_("column", "id"), NC_("column", "client-ref"),
	NC_("column", "seats"), NC_("column", "language"),
	NC_("column", "urgency"), NC_("column", "referral-time"),
	NC_("column", "needs-rebooking"), NC_("column", "created"),
	NC_("column", "modified"), NC_("column", "sequence"),
	NC_("column", "ticket"), NC_("column", "position"),
	NC_("column", "estimated-start"), NC_("column", "queue-length"),
	NC_("column", "anonymous"), NC_("column", "visit"),
	NC_("column", "first-start"), NC_("column", "last-start"),
	NC_("column", "slots"), NC_("column", "period-start"),
	NC_("column", "utilisation"), NC_("column", "booked"),
	NC_("column", "capacity"), NC_("column", "third-next-available"),
	NC_("column", "deadline"), NC_("column", "at"),
	NC_("column", "action"), NC_("column", "caller"),
	NC_("column", "detail"), NC_("column", "respond-by"),
	NC_("column", "on-site-from"), NC_("column", "on-site-until"),
	NC_("column", "healthy"), NC_("column", "now"),
	NC_("column", "practitioner"), NC_("column", "resources"),
	NC_("column", "resource"), NC_("column", "type"),
	NC_("column", "roles"), NC_("column", "organisation"),
	NC_("column", "minutes"), NC_("column", "bookings"),
	NC_("column", "absence"), NC_("column", "alternatives"),
	NC_("column", "worst-day"), NC_("column", "worst-day-utilisation"),
};

static const char *header_label(const char *key)
{
	return g_dpgettext2(GETTEXT_PACKAGE, "column", key);
}

/* Cells as text, row by row, with a header row of upper-case keys. */
static GPtrArray *text_grid(CtlTable *table, GPtrArray *order,
			    glong *widths, gboolean *right)
{
	GPtrArray *grid = g_ptr_array_new_with_free_func(
		(GDestroyNotify) g_strfreev);
	char **header = g_new0(char *, order->len + 1);

	for (guint c = 0; c < order->len; c++) {
		header[c] = g_utf8_strup(header_label(order->pdata[c]), -1);
		widths[c] = g_utf8_strlen(header[c], -1);
		right[c] = table->rows->len > 0;
	}
	g_ptr_array_add(grid, header);
	for (guint r = 0; r < table->rows->len; r++) {
		GHashTable *row = table->rows->pdata[r];
		char **cells = g_new0(char *, order->len + 1);

		for (guint c = 0; c < order->len; c++) {
			GVariant *value = g_hash_table_lookup(row,
							      order->pdata[c]);

			cells[c] = cell_text(order->pdata[c], value);
			widths[c] = MAX(widths[c], g_utf8_strlen(cells[c], -1));
			if (value && !cell_is_number(order->pdata[c], value))
				right[c] = FALSE;
		}
		g_ptr_array_add(grid, cells);
	}
	return grid;
}

static void print_text(CtlTable *table)
{
	g_autoptr(GPtrArray) order = table_order(table);
	g_autofree glong *widths = g_new0(glong, order->len);
	g_autofree gboolean *right = g_new0(gboolean, order->len);
	g_autoptr(GPtrArray) grid = NULL;
	g_autoptr(GString) out = g_string_new(NULL);

	if (table->rows->len == 0 || order->len == 0)
		return;
	grid = text_grid(table, order, widths, right);
	for (guint r = 0; r < grid->len; r++) {
		char **cells = grid->pdata[r];
		g_autoptr(GString) line = g_string_new(NULL);

		for (guint c = 0; c < order->len; c++)
			text_cell(line, cells[c], widths[c], r > 0 && right[c],
				  c + 1 == order->len);
		/* empty last cells would leave trailing blanks */
		g_string_truncate(line, line->len - 1);
		while (line->len > 0 && line->str[line->len - 1] == ' ')
			g_string_truncate(line, line->len - 1);
		g_string_append_printf(out, "%s\n", line->str);
	}
	print_out(out->str);
}

/* RFC 4180, and a leading = + - @ is defused so that a title cannot
 * become a spreadsheet formula. */
static void csv_field(GString *out, const char *text, gboolean is_string)
{
	gboolean quote = strpbrk(text, ",\"\r\n") != NULL;
	gboolean defuse = is_string && text[0] &&
			  strchr("=+-@\t", text[0]);

	if (quote || defuse)
		g_string_append_c(out, '"');
	if (defuse)
		g_string_append_c(out, '\'');
	for (const char *p = text; *p; p++) {
		if (*p == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *p);
	}
	if (quote || defuse)
		g_string_append_c(out, '"');
}

static void print_csv(CtlTable *table)
{
	g_autoptr(GPtrArray) order = table_order(table);
	g_autoptr(GString) out = g_string_new(NULL);

	for (guint c = 0; c < order->len; c++) {
		if (c > 0)
			g_string_append_c(out, ',');
		csv_field(out, order->pdata[c], FALSE);
	}
	g_string_append(out, "\r\n");
	for (guint r = 0; r < table->rows->len; r++) {
		GHashTable *row = table->rows->pdata[r];

		for (guint c = 0; c < order->len; c++) {
			GVariant *value = g_hash_table_lookup(row,
							      order->pdata[c]);
			g_autofree char *text = format_value(order->pdata[c],
							     value, TRUE);

			if (c > 0)
				g_string_append_c(out, ',');
			csv_field(out, text, value && g_variant_is_of_type(
					  value, G_VARIANT_TYPE_STRING));
		}
		g_string_append(out, "\r\n");
	}
	print_out(out->str);
}

/* Only the keys a row has: a missing key is not a JSON null. */
static void json_row(CtlJson *json, GPtrArray *order, GHashTable *row)
{
	json_begin_object(json);
	for (guint c = 0; c < order->len; c++) {
		GVariant *value = g_hash_table_lookup(row, order->pdata[c]);

		if (!value)
			continue;
		json_key(json, order->pdata[c]);
		json_value(json, order->pdata[c], value);
	}
	json_end_object(json);
}

static void print_json(CtlTable *table, gboolean record)
{
	g_autoptr(GPtrArray) order = table_order(table);
	g_autofree char *text = NULL;
	CtlJson json;

	json_init(&json);
	if (!record)
		json_begin_array(&json);
	for (guint r = 0; r < table->rows->len; r++)
		json_row(&json, order, table->rows->pdata[r]);
	if (!record)
		json_end_array(&json);
	text = json_finish(&json);
	print_out(text);
}

void table_print(CtlTable *table, CtlOutput output)
{
	switch (output) {
	case CTL_OUTPUT_JSON: print_json(table, FALSE); break;
	case CTL_OUTPUT_CSV: print_csv(table); break;
	default: print_text(table); break;
	}
}

void table_print_record(CtlTable *table, CtlOutput output)
{
	g_autoptr(GPtrArray) order = table_order(table);
	g_autoptr(GString) out = g_string_new(NULL);
	GHashTable *row;
	glong width = 0;

	if (table->rows->len == 1 && output == CTL_OUTPUT_JSON) {
		print_json(table, TRUE);
		return;
	}
	if (table->rows->len != 1 || output != CTL_OUTPUT_TEXT) {
		table_print(table, output);
		return;
	}
	row = table->rows->pdata[0];
	for (guint c = 0; c < order->len; c++)
		width = MAX(width,
			    g_utf8_strlen(header_label(order->pdata[c]), -1) +
				    1);
	for (guint c = 0; c < order->len; c++) {
		const char *key = order->pdata[c];
		g_autofree char *label = g_strconcat(header_label(key), ":",
						     NULL);
		g_autofree char *text = cell_text(key, g_hash_table_lookup(
							  row, key));

		text_cell(out, label, width, FALSE, FALSE);
		g_string_append_printf(out, "%s\n", text);
	}
	print_out(out->str);
}

/* --- JSON --------------------------------------------------------- */

void json_init(CtlJson *json)
{
	memset(json, 0, sizeof(*json));
	json->out = g_string_new(NULL);
}

/* Commas, newlines and two-space indentation before an item. */
static void json_item(CtlJson *json)
{
	if (json->after_key) {
		json->after_key = FALSE;
		return;
	}
	if (json->had_item)
		g_string_append_c(json->out, ',');
	if (json->depth > 0) {
		g_string_append_c(json->out, '\n');
		for (guint i = 0; i < json->depth; i++)
			g_string_append(json->out, "  ");
	}
	json->had_item = TRUE;
}

static void json_open(CtlJson *json, char bracket)
{
	json_item(json);
	g_string_append_c(json->out, bracket);
	json->depth++;
	json->had_item = FALSE;
}

static void json_close(CtlJson *json, char bracket)
{
	json->depth--;
	if (json->had_item) {
		g_string_append_c(json->out, '\n');
		for (guint i = 0; i < json->depth; i++)
			g_string_append(json->out, "  ");
	}
	g_string_append_c(json->out, bracket);
	json->had_item = TRUE;
}

void json_begin_object(CtlJson *json) { json_open(json, '{'); }
void json_end_object(CtlJson *json) { json_close(json, '}'); }
void json_begin_array(CtlJson *json) { json_open(json, '['); }
void json_end_array(CtlJson *json) { json_close(json, ']'); }

static void json_quote(GString *out, const char *text)
{
	g_autofree char *valid = g_utf8_make_valid(text, -1);

	g_string_append_c(out, '"');
	for (const char *p = valid; *p; p++) {
		guchar c = *p;

		switch (c) {
		case '"': g_string_append(out, "\\\""); break;
		case '\\': g_string_append(out, "\\\\"); break;
		case '\n': g_string_append(out, "\\n"); break;
		case '\r': g_string_append(out, "\\r"); break;
		case '\t': g_string_append(out, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				g_string_append_printf(out, "\\u%04x", c);
			else
				g_string_append_c(out, c);
		}
	}
	g_string_append_c(out, '"');
}

void json_key(CtlJson *json, const char *key)
{
	json_item(json);
	json_quote(json->out, key);
	g_string_append(json->out, ": ");
	json->after_key = TRUE;
}

void json_string(CtlJson *json, const char *text)
{
	json_item(json);
	json_quote(json->out, text);
}

void json_int(CtlJson *json, gint64 number)
{
	json_item(json);
	g_string_append_printf(json->out, "%" G_GINT64_FORMAT, number);
}

void json_double(CtlJson *json, double number)
{
	char buffer[G_ASCII_DTOSTR_BUF_SIZE];

	if (!isfinite(number)) {	/* JSON has no NaN */
		json_null(json);
		return;
	}
	json_item(json);
	g_string_append(json->out, g_ascii_formatd(buffer, sizeof(buffer),
						   "%.15g", number));
}

void json_bool(CtlJson *json, gboolean value)
{
	json_item(json);
	g_string_append(json->out, value ? "true" : "false");
}

void json_null(CtlJson *json)
{
	json_item(json);
	g_string_append(json->out, "null");
}

static void json_container(CtlJson *json, const char *key, GVariant *value)
{
	gboolean is_dict = g_variant_is_of_type(value, G_VARIANT_TYPE("a{s*}"));
	gsize n = g_variant_n_children(value);

	if (is_dict)
		json_begin_object(json);
	else
		json_begin_array(json);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) child = g_variant_get_child_value(value, i);

		if (is_dict) {
			const char *name;
			g_autoptr(GVariant) item = NULL;

			g_variant_get(child, "{&s@*}", &name, &item);
			json_key(json, name);
			json_value(json, name, item);
		} else {
			json_value(json, key, child);
		}
	}
	if (is_dict)
		json_end_object(json);
	else
		json_end_array(json);
}

void json_value(CtlJson *json, const char *key, GVariant *value)
{
	gint64 number;

	if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)) {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);

		json_value(json, key, inner);
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
		   g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH) ||
		   g_variant_is_of_type(value, G_VARIANT_TYPE_SIGNATURE)) {
		json_string(json, g_variant_get_string(value, NULL));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
		json_bool(json, g_variant_get_boolean(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE)) {
		json_double(json, g_variant_get_double(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64) &&
		   key_is_time(key) &&
		   g_variant_get_int64(value) >= CTL_EPOCH_FLOOR) {
		g_autofree char *iso = time_format_iso(
			g_variant_get_int64(value));

		json_string(json, iso);
	} else if (cell_int(value, &number)) {
		json_int(json, number);
	} else {
		json_container(json, key, value);
	}
}

char *json_finish(CtlJson *json)
{
	g_string_append_c(json->out, '\n');
	return g_string_free(json->out, FALSE);
}
