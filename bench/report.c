/* The table and the JSON: reads the "figure NAME VALUE" and
 * "info KEY TEXT" lines the other subcommands printed, sets each slotd
 * figure against its bare baseline, and says whether the target is met.
 * A figure that was not measured is null and its target not met. The
 * targets name the full-size region (296 units, 120 days, 1,000,000
 * bookings): a run on a smaller one (--quick without a fresh full-size
 * database, --smoke) says "n/a" instead of a verdict, and its JSON has
 * "met": null. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef enum {
	RULE_RATIO_AT_MOST,	/* value / baseline <= target */
	RULE_RATIO_AT_LEAST,	/* value / baseline >= target */
	RULE_AT_MOST,		/* value <= target, no baseline */
	RULE_INFO,		/* printed, no target */
} Rule;

typedef struct {
	const char *name;	/* in the JSON */
	const char *label;	/* in the table */
	const char *unit;
	const char *value;	/* figure names */
	const char *baseline;
	Rule rule;
	double target;
	const char *spread;	/* figure prefix with -p90-us / -p99-us */
} Row;

/* The targets of issue 17: ratios in one run on the full-size region;
 * every stall phase has a p99 target beside its max. */
static const Row rows[] = {
	{ "trivial-call-p50", "trivial call (ListServices) p50", "us",
	  "trivial-call-p50-us", "echo-list-p50-us", RULE_RATIO_AT_MOST,
	  1.15, "trivial-call" },
	{ "trivial-call-vs-small-echo", "trivial call vs echo of a small struct",
	  "us", "trivial-call-p50-us", "echo-small-p50-us", RULE_INFO, 0,
	  NULL },
	{ "find-slots-200-p50", "FindSlots, 200 slots, p50", "us",
	  "find-200-p50-us", "echo-200-p50-us", RULE_RATIO_AT_MOST, 2.0,
	  "find-200" },
	{ "find-slots-200-vs-sqlite-read",
	  "FindSlots vs bare SQLite read of its rows", "us",
	  "find-200-p50-us", "sqlite-200-p50-us", RULE_INFO, 0, NULL },
	{ "book-1-client-rate", "Book, 1 client, durable", "1/s",
	  "book-1-client-per-s", "bare-booking-txn-per-s",
	  RULE_RATIO_AT_LEAST, 0.8, NULL },
	{ "book-1-client-cpu", "Book, 1 client, CPU per booking", "ms",
	  "book-1-client-cpu-ms", "bare-booking-txn-cpu-ms", RULE_INFO, 0,
	  NULL },
	{ "book-16-clients-rate", "Book, 16 clients, durable", "1/s",
	  "book-16-clients-per-s", "bare-group-commit-per-s",
	  RULE_RATIO_AT_LEAST, 1.0, NULL },
	{ "book-16-clients-cpu", "Book, 16 clients, CPU per booking", "ms",
	  "book-16-clients-cpu-ms", "bare-group-commit-cpu-ms", RULE_INFO, 0,
	  NULL },
	{ "one-row-commit", "bare one-row commit (the disk)", "1/s",
	  "bare-one-row-commit-per-s", NULL, RULE_INFO, 0, NULL },
	{ "feed-10k-cold", "staff feed, 10,000 bookings, cold", "ms",
	  "feed-10k-cold-ms", "bare-ical-10k-ms", RULE_RATIO_AT_MOST, 1.3,
	  NULL },
	{ "feed-304-p50", "staff feed 304 p50", "us", "feed-304-p50-us",
	  "bare-304-p50-us", RULE_RATIO_AT_MOST, 1.5, NULL },
	{ "feed-10k-cold-vs-inside", "staff feed cold, vs bare inside process",
	  "ms", "feed-10k-cold-ms", "bare-ical-inside-ms", RULE_INFO, 0,
	  NULL },
	{ "feed-10k-cold-vs-synthetic", "staff feed cold, vs synthetic libical",
	  "ms", "feed-10k-cold-ms", "bare-ical-synthetic-ms", RULE_INFO, 0,
	  NULL },
	{ "feed-10k-after-one-change", "staff feed, render after one change",
	  "ms", "feed-10k-rerender-ms", "bare-ical-10k-ms", RULE_INFO, 0,
	  NULL },
	{ "startup-to-bus-name", "start-up to the bus name", "s",
	  "startup-s", NULL, RULE_AT_MOST, 0.5, NULL },
	{ "resident-memory-fixed-workload",
	  "resident memory, fixed workload, peak", "MiB",
	  "fixed-rss-peak-mib", NULL, RULE_AT_MOST, 64, NULL },
	{ "resident-memory-peak", "resident memory, peak after all", "MiB",
	  "rss-peak-mib", NULL, RULE_INFO, 0, NULL },
	{ "resident-memory-after-start", "resident memory after start-up",
	  "MiB", "start-rss-mib", NULL, RULE_INFO, 0, NULL },
	{ "disk-fdatasync", "disk: 4 KiB write + fdatasync", "ms",
	  "disk-fdatasync-ms", NULL, RULE_INFO, 0, NULL },
	{ "stall-load-max", "loop stall, Book 16 clients, max", "ms",
	  "stall-load-max-ms", NULL, RULE_AT_MOST, 100, NULL },
	{ "stall-load-p99", "loop stall, Book 16 clients, p99", "ms",
	  "stall-load-p99-ms", NULL, RULE_AT_MOST, 20, NULL },
	{ "stall-report-max", "loop stall, 36-week report, max", "ms",
	  "stall-report-max-ms", NULL, RULE_AT_MOST, 100, NULL },
	{ "stall-report-p99", "loop stall, 36-week report, p99", "ms",
	  "stall-report-p99-ms", NULL, RULE_AT_MOST, 20, NULL },
	/* The same report with its rows in the message, not the memfd
	 * that slotctl asks for. */
	{ "stall-report-inline-max", "loop stall, report rows in reply, max",
	  "ms", "stall-report-inline-max-ms", NULL, RULE_INFO, 0, NULL },
	{ "stall-report-inline-p99", "loop stall, report rows in reply, p99",
	  "ms", "stall-report-inline-p99-ms", NULL, RULE_INFO, 0, NULL },
	{ "stall-feed-max", "loop stall, cold feed render, max", "ms",
	  "stall-feed-max-ms", NULL, RULE_AT_MOST, 100, NULL },
	{ "stall-feed-p99", "loop stall, cold feed render, p99", "ms",
	  "stall-feed-p99-ms", NULL, RULE_AT_MOST, 20, NULL },
	{ "stall-reload-max", "loop stall, reload reshaping all, max", "ms",
	  "stall-reload-max-ms", NULL, RULE_AT_MOST, 100, NULL },
	{ "stall-reload-p99", "loop stall, reload reshaping all, p99", "ms",
	  "stall-reload-p99-ms", NULL, RULE_AT_MOST, 20, NULL },
};

typedef struct {
	GHashTable *figures;	/* name -> double* (NaN: null) */
	GPtrArray *info;	/* "key text" lines, in order */
	char *run;
	gboolean judged;	/* the full-size region: verdicts count */
} Figures;

static double
figure(Figures *f, const char *name)
{
	double *v = name ? g_hash_table_lookup(f->figures, name) : NULL;

	return v ? *v : NAN;
}

static gboolean
read_figures(const char *path, Figures *f, GError **error)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &text, NULL, error))
		return FALSE;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) w = g_strsplit(lines[i], " ", 3);
		double *v;

		if (g_strv_length(w) == 3 && g_str_equal(w[0], "info")) {
			if (g_str_equal(w[1], "run")) {
				g_free(f->run);
				f->run = g_strdup(w[2]);
			}
			g_ptr_array_add(f->info, g_strdup_printf(
						 "%s: %s", w[1], w[2]));
			continue;
		}
		if (g_strv_length(w) != 3 || !g_str_equal(w[0], "figure"))
			continue;
		v = g_new(double, 1);
		*v = g_str_equal(w[2], "null") ? NAN
					       : g_ascii_strtod(w[2], NULL);
		g_hash_table_replace(f->figures, g_strdup(w[1]), v);
	}
	return TRUE;
}

/* Ratio and verdict of one row; NaN ratio when there is none. */
static gboolean
row_met(const Row *row, double value, double baseline, double *ret_ratio)
{
	*ret_ratio = NAN;
	if (isnan(value))
		return FALSE;
	if (row->rule == RULE_AT_MOST)
		return value <= row->target;
	if (isnan(baseline) || baseline <= 0)
		return FALSE;
	*ret_ratio = value / baseline;
	if (row->rule == RULE_INFO)
		return FALSE;
	if (row->rule == RULE_RATIO_AT_MOST)
		return *ret_ratio <= row->target;
	return *ret_ratio >= row->target;
}

static char *
format_number(double v)
{
	if (isnan(v))
		return g_strdup("-");
	if (fabs(v) >= 1000)
		return g_strdup_printf("%.0f", v);
	if (fabs(v) >= 10)
		return g_strdup_printf("%.1f", v);
	return g_strdup_printf("%.3g", v);
}

static char *
target_text(const Row *row)
{
	switch (row->rule) {
	case RULE_RATIO_AT_MOST:
		return g_strdup_printf("<= %.2fx", row->target);
	case RULE_RATIO_AT_LEAST:
		return g_strdup_printf(">= %.2fx", row->target);
	case RULE_AT_MOST:
		return g_strdup_printf("<= %g %s", row->target, row->unit);
	default:
		return g_strdup("(info)");
	}
}

static void
print_row(FILE *out, Figures *f, const Row *row)
{
	double value = figure(f, row->value), ratio;
	double baseline = figure(f, row->baseline);
	gboolean met = row_met(row, value, baseline, &ratio);
	g_autofree char *label = g_strdup_printf("%s (%s)", row->label,
						 row->unit);
	g_autofree char *v = format_number(value);
	g_autofree char *b = format_number(baseline);
	g_autofree char *r = format_number(ratio);
	g_autofree char *t = target_text(row);

	fprintf(out, "%-44s %10s %10s %7s %10s  %s\n", label, v, b, r, t,
		row->rule == RULE_INFO ? "" :
		!f->judged	       ? "n/a" :
		met		       ? "yes" :
					 "NO");
}

static void
json_number(GString *json, const char *key, double v)
{
	char buffer[G_ASCII_DTOSTR_BUF_SIZE];

	g_string_append_printf(json, ", \"%s\": ", key);
	if (isnan(v))
		g_string_append(json, "null");
	else
		g_string_append(json, g_ascii_formatd(buffer, sizeof(buffer),
						      "%.6g", v));
}

static const char *
rule_text(Rule rule)
{
	switch (rule) {
	case RULE_RATIO_AT_MOST:
		return "ratio <= target";
	case RULE_RATIO_AT_LEAST:
		return "ratio >= target";
	case RULE_AT_MOST:
		return "value <= target";
	default:
		return "information";
	}
}

static void
json_row(GString *json, Figures *f, const Row *row)
{
	double value = figure(f, row->value), ratio;
	double baseline = figure(f, row->baseline);
	gboolean met = row_met(row, value, baseline, &ratio);

	g_string_append_printf(json, "  {\"name\": \"%s\"", row->name);
	json_number(json, "value", value);
	json_number(json, "baseline", baseline);
	json_number(json, "ratio", ratio);
	json_number(json, "target", row->rule == RULE_INFO ? NAN : row->target);
	g_string_append_printf(json, ", \"met\": %s",
			       row->rule == RULE_INFO || !f->judged ? "null" :
			       met ? "true" : "false");
	g_string_append_printf(json, ", \"unit\": \"%s\", \"rule\": \"%s\"",
			       row->unit, rule_text(row->rule));
	if (row->spread) {
		g_autofree char *p90 = g_strdup_printf("%s-p90-us",
						       row->spread);
		g_autofree char *p99 = g_strdup_printf("%s-p99-us",
						       row->spread);

		json_number(json, "p90", figure(f, p90));
		json_number(json, "p99", figure(f, p99));
	}
	g_string_append_printf(json, ", \"run\": \"%s\"}",
			       f->run ? f->run : "unknown");
}

static gboolean
write_json(const char *path, Figures *f, GError **error)
{
	g_autoptr(GString) json = g_string_new("[\n");

	for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
		json_row(json, f, &rows[i]);
		g_string_append(json,
				i + 1 < G_N_ELEMENTS(rows) ? ",\n" : "\n");
	}
	g_string_append(json, "]\n");
	return g_file_set_contents(path, json->str, (gssize)json->len, error);
}

static void
print_table(Figures *f)
{
	for (guint i = 0; i < f->info->len; i++)
		printf("%s\n", (char *)f->info->pdata[i]);
	if (!f->judged)
		printf("\nno verdicts: the region is smaller than the one "
		       "the targets name (296 units, 120 days, 1,000,000 "
		       "bookings)\n");
	printf("\n%-44s %10s %10s %7s %10s  %s\n", "figure", "value",
	       "baseline", "ratio", "target", "met");
	for (guint i = 0; i < G_N_ELEMENTS(rows); i++)
		print_row(stdout, f, &rows[i]);
	/* The spread of the latency figures, for the reader. */
	printf("\nlatency spread (us)      p50      p90      p99\n");
	for (guint i = 0; i < 6; i++) {
		const char *k[] = { "echo-small", "echo-list", "trivial-call",
				    "echo-200", "find-200", "sqlite-200" };
		g_autofree char *p50 = g_strdup_printf("%s-p50-us", k[i]);
		g_autofree char *p90 = g_strdup_printf("%s-p90-us", k[i]);
		g_autofree char *p99 = g_strdup_printf("%s-p99-us", k[i]);
		g_autofree char *a = format_number(figure(f, p50));
		g_autofree char *b = format_number(figure(f, p90));
		g_autofree char *c = format_number(figure(f, p99));

		printf("  %-18s %8s %8s %8s\n", k[i], a, b, c);
	}
}

/* The rows with a figure that was not measured: a benchmark program
 * that no longer prints what the table reads. */
static guint
count_missing(Figures *f)
{
	guint missing = 0;

	for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
		const Row *row = &rows[i];

		if (!isnan(figure(f, row->value)) &&
		    (!row->baseline || !isnan(figure(f, row->baseline))))
			continue;
		fprintf(stderr, "slotd-bench report: no figure for \"%s\"\n",
			row->label);
		missing++;
	}
	return missing;
}

int
cmd_report(int argc, char **argv)
{
	Figures f = { g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    g_free),
		      g_ptr_array_new_with_free_func(g_free), NULL };
	g_autoptr(GError) error = NULL;
	gboolean complete = argc == 4 && g_str_equal(argv[3], "--complete");
	gboolean ok;

	if (argc != 3 && !complete) {
		fprintf(stderr, "usage: slotd-bench report FIGURES JSON "
				"[--complete]\n");
		return 2;
	}
	ok = read_figures(argv[1], &f, &error);
	/* Only a run that says it was on the full-size region is judged. */
	f.judged = figure(&f, "full-region") == 1;
	if (ok) {
		print_table(&f);
		ok = write_json(argv[2], &f, &error);
	}
	if (!ok)
		fprintf(stderr, "slotd-bench report: %s\n", error->message);
	/* --complete (the smoke run): every row measured, or it fails. */
	if (ok && complete && count_missing(&f) > 0)
		ok = FALSE;
	g_hash_table_unref(f.figures);
	g_ptr_array_unref(f.info);
	g_free(f.run);
	return ok ? 0 : 1;
}
