/* The utilisation heatmap of a capacity report as a standalone SVG:
 * units as rows, days or weeks as columns, a fixed five-step scale, and
 * each unit's third-next-available at the end of its row. */
#include "slotctl.h"

#include <math.h>

#define MARGIN 16
#define CELL_W 44
#define CELL_H 24
#define HEADER_H 40
#define TITLE_H 56
#define TNA_W 110
#define LEGEND_H 56
#define CHAR_W 8	/* a generous width of a 12 px sans-serif character */
#define HOLIDAY_H 96	/* names of holidays, upright, above the columns */
/* The region's row: not a unit id (':' is no id character). */
#define REGION_ROW ":region"

typedef struct {
	double from;	/* utilisation from this fraction up */
	const char *fill;
	const char *ink;
	const char *label;
} Step;

/* Green to red: colour-blind-safe enough with the numbers in the cells. */
static const Step steps[] = {
	{ 0.00, "#1a9850", "#ffffff", "under 50 %" },
	{ 0.50, "#91cf60", "#000000", "50–70 %" },
	{ 0.70, "#fee08b", "#000000", "70–85 %" },
	{ 0.85, "#fc8d59", "#000000", "85–95 %" },
	{ 0.95, "#d73027", "#ffffff", "95 % and over" },
};
static const char *const no_data_fill = "#e0e0e0";

typedef struct {
	double utilisation;	/* NAN when the row has none */
	gint64 booked;
	gint64 capacity;
	gint64 worst_day;	/* weekly rows: the fullest day, or 0 */
	double worst;		/* its utilisation */
} Cell;

typedef struct {
	GPtrArray *units;	/* char *, first seen first */
	GArray *periods;	/* gint64, sorted */
	GHashTable *cells;	/* "unit\nperiod" → Cell */
	GHashTable *tna;	/* unit → gint64 seconds */
	GHashTable *holidays;	/* gint64 period → char * name(s) */
	gboolean has_region;	/* a total row after the units */
} Grid;

static const Step *step_of(double utilisation)
{
	const Step *step = &steps[0];

	for (guint i = 0; i < G_N_ELEMENTS(steps); i++)
		if (utilisation >= steps[i].from)
			step = &steps[i];
	return step;
}

static char *cell_key(const char *unit, gint64 period)
{
	return g_strdup_printf("%s\n%" G_GINT64_FORMAT, unit, period);
}

static gint64 row_int(GVariant *row, const char *key, gint64 fallback)
{
	g_autoptr(GVariant) value = g_variant_lookup_value(row, key, NULL);
	gint64 number;

	return cell_int(value, &number) ? number : fallback;
}

/* Rows without a level are taken as unit rows when they name a unit. */
static gboolean is_unit_row(GVariant *row, const char **ret_unit)
{
	const char *level = NULL;

	if (!g_variant_lookup(row, "unit", "&s", ret_unit))
		return FALSE;
	if (g_variant_lookup(row, "level", "&s", &level))
		return g_str_equal(level, "unit");
	return TRUE;
}

static void grid_add_period(Grid *grid, gint64 period)
{
	for (guint i = 0; i < grid->periods->len; i++)
		if (g_array_index(grid->periods, gint64, i) == period)
			return;
	g_array_append_val(grid->periods, period);
}

static void grid_add_unit(Grid *grid, const char *unit)
{
	for (guint i = 0; i < grid->units->len; i++)
		if (g_str_equal(grid->units->pdata[i], unit))
			return;
	g_ptr_array_add(grid->units, g_strdup(unit));
}

static void grid_add_row(Grid *grid, GVariant *row, const char *unit)
{
	g_autoptr(GVariant) utilisation = NULL;
	gint64 period = row_int(row, "period-start", G_MININT64);
	gint64 tna = row_int(row, "third-next-available", G_MININT64);
	const char *holiday = NULL;
	Cell *cell;

	if (g_str_equal(unit, REGION_ROW))
		grid->has_region = TRUE;
	else
		grid_add_unit(grid, unit);
	/* The daemon names the holidays: slotctl keeps no rules of them. */
	if (period != G_MININT64 &&
	    g_variant_lookup(row, "holiday", "&s", &holiday) && *holiday)
		g_hash_table_replace(grid->holidays,
				     g_memdup2(&period, sizeof(period)),
				     g_strdup(holiday));
	if (tna != G_MININT64 && !g_hash_table_contains(grid->tna, unit))
		g_hash_table_insert(grid->tna, g_strdup(unit),
				    g_memdup2(&tna, sizeof(tna)));
	if (period == G_MININT64)
		return;
	grid_add_period(grid, period);
	cell = g_new0(Cell, 1);
	utilisation = g_variant_lookup_value(row, "utilisation", NULL);
	if (!cell_double(utilisation, &cell->utilisation))
		cell->utilisation = NAN;
	cell->booked = row_int(row, "booked", -1);
	cell->capacity = row_int(row, "capacity", -1);
	cell->worst_day = row_int(row, "worst-day", 0);
	if (!g_variant_lookup(row, "worst-day-utilisation", "d",
			      &cell->worst))
		cell->worst_day = 0;
	g_hash_table_replace(grid->cells, cell_key(unit, period), cell);
}

static gint compare_int64(gconstpointer a, gconstpointer b)
{
	gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

	return x < y ? -1 : x > y;
}

static void grid_init(Grid *grid, GVariant *rows)
{
	gsize n = g_variant_n_children(rows);

	grid->units = g_ptr_array_new_with_free_func(g_free);
	grid->periods = g_array_new(FALSE, FALSE, sizeof(gint64));
	grid->cells = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    g_free);
	grid->tna = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  g_free);
	grid->holidays = g_hash_table_new_full(g_int64_hash, g_int64_equal,
					       g_free, g_free);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) row = g_variant_get_child_value(rows, i);
		const char *unit, *level = NULL;

		if (is_unit_row(row, &unit))
			grid_add_row(grid, row, unit);
		else if (g_variant_lookup(row, "level", "&s", &level) &&
			 g_str_equal(level, "region"))
			grid_add_row(grid, row, REGION_ROW);
	}
	g_array_sort(grid->periods, compare_int64);
}

static void grid_clear(Grid *grid)
{
	g_ptr_array_unref(grid->units);
	g_array_unref(grid->periods);
	g_hash_table_unref(grid->cells);
	g_hash_table_unref(grid->tna);
	g_hash_table_unref(grid->holidays);
}

/* --- drawing ------------------------------------------------------ */

/* Appends text escaped for XML; every string we draw goes through here. */
static void put_text(GString *svg, const char *text)
{
	g_autofree char *escaped = g_markup_escape_text(text, -1);

	g_string_append(svg, escaped);
}

static void text_at(GString *svg, int x, int y, const char *attributes,
		    const char *text)
{
	g_string_append_printf(svg, "<text x=\"%d\" y=\"%d\" %s>", x, y,
			       attributes);
	put_text(svg, text);
	g_string_append(svg, "</text>\n");
}

/* The unit's whole title and its id; the region's row by name. */
static char *unit_label(const CtlHeatmap *map, const char *unit)
{
	const char *title = map->unit_titles ?
			    g_hash_table_lookup(map->unit_titles, unit) : NULL;

	if (g_str_equal(unit, REGION_ROW))
		return g_strdup(_("Region total"));
	return title ? g_strdup_printf("%s (%s)", title, unit) :
		       g_strdup(unit);
}

static int label_width(const CtlHeatmap *map, const Grid *grid)
{
	glong longest = 8;

	for (guint i = 0; i <= grid->units->len; i++) {
		g_autofree char *label = unit_label(
			map, i < grid->units->len ? grid->units->pdata[i]
						  : REGION_ROW);

		longest = MAX(longest, g_utf8_strlen(label, -1));
	}
	return (int) longest * CHAR_W + 12;
}

static char *day_label(gint64 utc, const char *format)
{
	g_autoptr(GDateTime) local = time_to_local(utc);

	return local ? g_date_time_format(local, format) : g_strdup("?");
}

static void draw_title(GString *svg, const CtlHeatmap *map)
{
	g_autofree char *first = day_label(map->from, "%-d.%-m.%Y");
	g_autofree char *last = day_label(map->to - 1, "%-d.%-m.%Y");
	g_autofree char *title = g_strdup_printf("Utilisation of %s",
						 map->service);
	g_autofree char *period = g_strdup_printf(
		"%s – %s, by %s; third-next-available at the end of each row",
		first, last, map->by_week ? "ISO week" : "day");

	text_at(svg, MARGIN, MARGIN + 18,
		"font-size=\"18\" font-weight=\"bold\"", title);
	text_at(svg, MARGIN, MARGIN + 38, "font-size=\"12\"", period);
}

/* Two lines per column: weekday or week number, then the date. */
static void draw_header(GString *svg, const CtlHeatmap *map,
			const Grid *grid, int x0, int y0)
{
	static const char *const weekdays[] = {
		"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
	};

	for (guint c = 0; c < grid->periods->len; c++) {
		gint64 period = g_array_index(grid->periods, gint64, c);
		g_autoptr(GDateTime) local = time_to_local(period);
		g_autofree char *top = NULL;
		g_autofree char *date = day_label(period, "%-d.%-m.");
		int x = x0 + (int) c * CELL_W + CELL_W / 2;

		if (!local)
			top = g_strdup("");
		else if (map->by_week)
			top = g_date_time_format(local, "W%V");
		else
			top = g_strdup(weekdays[
				g_date_time_get_day_of_week(local)]);
		text_at(svg, x, y0 + 14, "font-size=\"11\" "
			"text-anchor=\"middle\"", top);
		text_at(svg, x, y0 + 30, "font-size=\"11\" "
			"text-anchor=\"middle\"", date);
	}
	text_at(svg, x0 + (int) grid->periods->len * CELL_W + 8, y0 + 30,
		"font-size=\"11\"", "3rd next free");
}

static char *cell_tooltip(const char *id, gint64 period, const Cell *cell)
{
	g_autofree char *day = day_label(period, "%Y-%m-%d");
	const char *unit = g_str_equal(id, REGION_ROW) ? _("Region total")
						       : id;
	char percent[G_ASCII_DTOSTR_BUF_SIZE];

	if (!cell || isnan(cell->utilisation))
		return g_strdup_printf("%s, %s: no capacity", unit, day);
	g_ascii_formatd(percent, sizeof(percent), "%.1f",
			cell->utilisation * 100);
	if (cell->booked < 0 || cell->capacity < 0)
		return g_strdup_printf("%s, %s: %s %%", unit, day, percent);
	if (cell->worst_day) {
		g_autofree char *worst_day = day_label(cell->worst_day,
						       "%a %Y-%m-%d");

		/* A week: the mean, and its fullest day beside it. */
		return g_strdup_printf("%s, week of %s: %s %% (%"
				       G_GINT64_FORMAT " of %" G_GINT64_FORMAT
				       " booked); fullest day %s, %d %%",
				       unit, day, percent, cell->booked,
				       cell->capacity, worst_day,
				       (int)lround(cell->worst * 100));
	}
	return g_strdup_printf("%s, %s: %s %% (%" G_GINT64_FORMAT " of %"
			       G_GINT64_FORMAT " booked)", unit, day, percent,
			       cell->booked, cell->capacity);
}

static void draw_cell(GString *svg, const char *unit, gint64 period,
		      const Cell *cell, int x, int y)
{
	g_autofree char *tooltip = cell_tooltip(unit, period, cell);
	gboolean has_data = cell && !isnan(cell->utilisation);
	const Step *step = has_data ? step_of(cell->utilisation) : NULL;

	/* class and data-*: a reader (tests/heatmap_png.py) finds each
	 * cell's place in the picture from the SVG itself. */
	g_string_append_printf(svg, "<rect class=\"cell\" data-unit=\"");
	put_text(svg, unit);
	g_string_append_printf(svg, "\" data-period=\"%" G_GINT64_FORMAT
			       "\" x=\"%d\" y=\"%d\" width=\"%d\" "
			       "height=\"%d\" fill=\"%s\"><title>", period,
			       x, y, CELL_W - 2, CELL_H - 2,
			       step ? step->fill : no_data_fill);
	put_text(svg, tooltip);
	g_string_append(svg, "</title></rect>\n");
	if (has_data) {
		g_autofree char *percent = g_strdup_printf(
			"%d %%", (int) lround(cell->utilisation * 100));
		g_autofree char *ink = g_strdup_printf(
			"font-size=\"10\" text-anchor=\"middle\" fill=\"%s\"",
			step->ink);

		text_at(svg, x + CELL_W / 2 - 1, y + CELL_H / 2 + 3, ink,
			percent);
	}
}

static void draw_row(GString *svg, const CtlHeatmap *map, const Grid *grid,
		     const char *unit, int x0, int y)
{
	g_autofree char *label = unit_label(map, unit);
	g_autofree char *days = NULL;
	gint64 *tna = g_hash_table_lookup(grid->tna, unit);

	g_string_append_printf(svg, "<text x=\"%d\" y=\"%d\" "
			       "font-size=\"12\"%s><title>", MARGIN,
			       y + CELL_H / 2 + 4,
			       g_str_equal(unit, REGION_ROW)
				       ? " font-weight=\"bold\""
				       : "");
	put_text(svg, label);
	g_string_append(svg, "</title>");
	put_text(svg, label);
	g_string_append(svg, "</text>\n");
	for (guint c = 0; c < grid->periods->len; c++) {
		gint64 period = g_array_index(grid->periods, gint64, c);
		g_autofree char *key = cell_key(unit, period);

		draw_cell(svg, unit, period,
			  g_hash_table_lookup(grid->cells, key),
			  x0 + (int) c * CELL_W, y);
	}
	if (!tna)
		days = g_strdup("-");
	else if (*tna < 0)
		days = g_strdup("none");
	else
		days = format_days(*tna);
	text_at(svg, x0 + (int) grid->periods->len * CELL_W + 8,
		y + CELL_H / 2 + 4, "font-size=\"12\"", days);
}

static void draw_legend(GString *svg, int y)
{
	int x = MARGIN;

	text_at(svg, x, y + 12, "font-size=\"12\"", "Utilisation:");
	x += 90;
	for (guint i = 0; i <= G_N_ELEMENTS(steps); i++) {
		gboolean last = i == G_N_ELEMENTS(steps);
		const char *label = last ? "no capacity" : steps[i].label;

		g_string_append_printf(svg, "<rect x=\"%d\" y=\"%d\" "
				       "width=\"14\" height=\"14\" "
				       "fill=\"%s\"/>\n", x, y,
				       last ? no_data_fill : steps[i].fill);
		text_at(svg, x + 20, y + 12, "font-size=\"12\"", label);
		x += 20 + (int) g_utf8_strlen(label, -1) * CHAR_W + 16;
	}
	text_at(svg, MARGIN, y + 36, "font-size=\"11\"",
		"Third-next-available: days from the report time to the "
		"unit's third next free slot.");
}

/* A holiday's name upright above its column, which is tinted. */
static void draw_holidays(GString *svg, const Grid *grid, int x0, int y0,
			  int rows_h)
{
	for (guint c = 0; c < grid->periods->len; c++) {
		gint64 period = g_array_index(grid->periods, gint64, c);
		const char *name = g_hash_table_lookup(grid->holidays,
						       &period);
		int x = x0 + (int) c * CELL_W;

		if (name == NULL)
			continue;
		g_string_append_printf(svg, "<rect x=\"%d\" y=\"%d\" "
				       "width=\"%d\" height=\"%d\" "
				       "fill=\"#dde6f5\"/>\n", x - 1, y0,
				       CELL_W, HOLIDAY_H + HEADER_H + rows_h);
		g_string_append_printf(svg, "<text class=\"holiday\" "
				       "x=\"%d\" y=\"%d\" font-size=\"11\" "
				       "transform=\"rotate(-90 %d %d)\">",
				       x + CELL_W / 2 + 4, y0 + HOLIDAY_H - 4,
				       x + CELL_W / 2 + 4, y0 + HOLIDAY_H - 4);
		put_text(svg, name);
		g_string_append(svg, "</text>\n");
	}
}

char *svg_heatmap(const CtlHeatmap *map, GVariant *rows)
{
	GString *svg = g_string_new(NULL);
	Grid grid;
	int x0, width, height, y, holiday_h, n_rows;

	grid_init(&grid, rows);
	x0 = MARGIN + label_width(map, &grid);
	holiday_h = g_hash_table_size(grid.holidays) > 0 ? HOLIDAY_H : 0;
	n_rows = (int) MAX(grid.units->len, 1) + (grid.has_region ? 1 : 0);
	width = MAX(x0 + (int) grid.periods->len * CELL_W + TNA_W + MARGIN,
		    760);
	height = TITLE_H + holiday_h + HEADER_H + n_rows * CELL_H +
		 LEGEND_H + 2 * MARGIN;
	g_string_append_printf(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
			       "\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
			       "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
			       "%d\" font-family=\"sans-serif\">\n",
			       width, height, width, height);
	g_string_append_printf(svg, "<rect width=\"%d\" height=\"%d\" "
			       "fill=\"#ffffff\"/>\n", width, height);
	draw_title(svg, map);
	y = MARGIN + TITLE_H;
	if (holiday_h > 0)
		draw_holidays(svg, &grid, x0, y, n_rows * CELL_H);
	y += holiday_h;
	draw_header(svg, map, &grid, x0, y);
	y += HEADER_H;
	if (grid.units->len == 0)
		text_at(svg, MARGIN, y + 16, "font-size=\"12\"",
			"The report has no unit rows for this period.");
	for (guint r = 0; r < grid.units->len; r++)
		draw_row(svg, map, &grid, grid.units->pdata[r], x0,
			 y + (int) r * CELL_H);
	/* The region's total under the units, after a gap of none. */
	if (grid.has_region)
		draw_row(svg, map, &grid, REGION_ROW, x0,
			 y + (int) MAX(grid.units->len, 1) * CELL_H);
	y += n_rows * CELL_H + 16;
	draw_legend(svg, y);
	g_string_append(svg, "</svg>\n");
	grid_clear(&grid);
	return g_string_free(svg, FALSE);
}
