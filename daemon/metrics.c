/* The metrics registry and the Prometheus text format. */
#include "metrics.h"

#include <math.h>
#include <string.h>

typedef enum { COUNTER, HISTOGRAM } Kind;

/* Upper bounds of histogram buckets, in seconds. */
static const double time_buckets[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, NAN
};

/* Changes that share one commit. */
static const double batch_buckets[] = { 1, 2, 4, 8, 16, 32, 64, NAN };

typedef struct {
	const char *name;
	Kind kind;
	const double *buckets;	/* histograms, ending with NAN */
	const char *help;
} Family;

static const Family families[] = {
	{ "slotd_dbus_calls_total", COUNTER, NULL,
	  "D-Bus method calls answered, by interface and method "
	  "(\"(unknown)\" for names slotd does not serve)." },
	{ "slotd_dbus_errors_total", COUNTER, NULL,
	  "D-Bus method calls answered with an error, by interface, "
	  "method and error name." },
	{ "slotd_dbus_call_duration_seconds", HISTOGRAM, time_buckets,
	  "Time from receiving a D-Bus call to answering it." },
	{ "slotd_booking_changes_total", COUNTER, NULL,
	  "Committed booking changes by service: book, cancel, "
	  "reschedule, status, needs-rebooking." },
	{ "slotd_main_loop_lateness_seconds", HISTOGRAM, time_buckets,
	  "How late a 10 ms main-loop timer ran: stalls of the loop." },
	{ "slotd_main_loop_held_seconds", HISTOGRAM, time_buckets,
	  "Turns of the main loop that held it 10 ms or more, by the "
	  "longest piece of work in the turn." },
	{ "slotd_commit_batch_changes", HISTOGRAM, batch_buckets,
	  "Changes (Book, Cancel ...) that shared one COMMIT." },
	{ "slotd_commit_duration_seconds", HISTOGRAM, time_buckets,
	  "Time to run a batch of changes and COMMIT it." },
	{ "slotd_http_requests_total", COUNTER, NULL,
	  "HTTP requests answered, by route (feed, metrics, healthz, "
	  "other) and status code." },
	{ NULL }
};

typedef struct {
	double value;		/* counters; histograms: the sum */
	guint64 count;		/* histograms */
	guint64 *buckets;	/* histograms: per bucket, not cumulative */
} Series;

typedef struct {
	GHashTable *series[G_N_ELEMENTS(families)]; /* labels -> Series */
	GPtrArray *collectors;
} Registry;

typedef struct {
	MetricsCollector func;
	gpointer user_data;
} Collector;

static Registry *registry;

/* ---- recording ------------------------------------------------------ */

static guint
n_buckets(const Family *f)
{
	guint n = 0;

	while (!isnan(f->buckets[n]))
		n++;
	return n;
}

static void
series_free(gpointer data)
{
	Series *s = data;

	g_free(s->buckets);
	g_free(s);
}

static int
family_index(const char *name)
{
	for (int i = 0; families[i].name; i++)
		if (g_str_equal(families[i].name, name))
			return i;
	g_critical("metrics: %s is not in the table", name);
	return -1;
}

static Series *
series_of(int family, const char *labels)
{
	GHashTable *table = registry->series[family];
	Series *s = g_hash_table_lookup(table, labels ? labels : "");

	if (s)
		return s;
	s = g_new0(Series, 1);
	if (families[family].kind == HISTOGRAM)
		s->buckets = g_new0(guint64, n_buckets(&families[family]) + 1);
	g_hash_table_insert(table, g_strdup(labels ? labels : ""), s);
	return s;
}

void
metrics_count(const char *name, const char *labels, guint64 n)
{
	int family;

	if (registry == NULL || (family = family_index(name)) < 0)
		return;
	series_of(family, labels)->value += n;
}

void
metrics_observe(const char *name, const char *labels, double value)
{
	const Family *f;
	Series *s;
	int family;
	guint i = 0;

	if (registry == NULL || (family = family_index(name)) < 0)
		return;
	f = &families[family];
	s = series_of(family, labels);
	while (!isnan(f->buckets[i]) && value > f->buckets[i])
		i++;
	s->buckets[i]++;	/* the last one is +Inf */
	s->count++;
	s->value += value;
}

/* ---- labels --------------------------------------------------------- */

static void
append_escaped(GString *out, const char *value)
{
	for (const char *p = value; *p; p++) {
		if (*p == '\\')
			g_string_append(out, "\\\\");
		else if (*p == '"')
			g_string_append(out, "\\\"");
		else if (*p == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *p);
	}
}

char *
metrics_labels(const char *name, ...)
{
	GString *out = g_string_new(NULL);
	va_list ap;

	va_start(ap, name);
	for (const char *n = name; n; n = va_arg(ap, const char *)) {
		const char *value = va_arg(ap, const char *);

		g_string_append_printf(out, "%s%s=\"", out->len ? "," : "", n);
		append_escaped(out, value ? value : "");
		g_string_append_c(out, '"');
	}
	va_end(ap);
	return g_string_free(out, FALSE);
}

/* ---- the text ------------------------------------------------------- */

void
metrics_write_header(GString *out, const char *name, const char *type,
		     const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name,
			       help, name, type);
}

void
metrics_write_sample(GString *out, const char *name, const char *labels,
		     double value)
{
	char number[G_ASCII_DTOSTR_BUF_SIZE];

	/* Counts exactly, times to nine digits. */
	if (value == floor(value) && fabs(value) < 9007199254740992.0)
		g_ascii_formatd(number, sizeof(number), "%.0f", value);
	else
		g_ascii_formatd(number, sizeof(number), "%.9g", value);
	if (labels && *labels)
		g_string_append_printf(out, "%s{%s} %s\n", name, labels,
				       number);
	else
		g_string_append_printf(out, "%s %s\n", name, number);
}

/* "slotd_x_seconds" with suffix "_bucket" and le="0.5" after labels. */
static void
write_bucket(GString *out, const char *name, const char *labels,
	     const char *le, guint64 cumulative)
{
	g_autofree char *all = g_strdup_printf("%s%sle=\"%s\"",
					       labels, *labels ? "," : "", le);
	g_autofree char *bucket = g_strconcat(name, "_bucket", NULL);

	metrics_write_sample(out, bucket, all, cumulative);
}

static void
write_histogram(GString *out, const Family *f, const char *labels,
		const Series *s)
{
	g_autofree char *sum = g_strconcat(f->name, "_sum", NULL);
	g_autofree char *count = g_strconcat(f->name, "_count", NULL);
	guint64 cumulative = 0;
	guint n = n_buckets(f);

	for (guint i = 0; i < n; i++) {
		char le[G_ASCII_DTOSTR_BUF_SIZE];

		cumulative += s->buckets[i];
		g_ascii_formatd(le, sizeof(le), "%g", f->buckets[i]);
		write_bucket(out, f->name, labels, le, cumulative);
	}
	write_bucket(out, f->name, labels, "+Inf", s->count);
	metrics_write_sample(out, sum, labels, s->value);
	metrics_write_sample(out, count, labels, s->count);
}

static gint
compare_labels(gconstpointer a, gconstpointer b)
{
	return strcmp(a, b);
}

static void
write_family(GString *out, int i)
{
	const Family *f = &families[i];
	g_autoptr(GList) keys = g_hash_table_get_keys(registry->series[i]);

	metrics_write_header(out, f->name,
			     f->kind == COUNTER ? "counter" : "histogram",
			     f->help);
	keys = g_list_sort(keys, compare_labels);
	for (GList *l = keys; l; l = l->next) {
		Series *s = g_hash_table_lookup(registry->series[i], l->data);

		if (f->kind == COUNTER)
			metrics_write_sample(out, f->name, l->data, s->value);
		else
			write_histogram(out, f, l->data, s);
	}
}

char *
metrics_render(void)
{
	GString *out = g_string_new(NULL);

	if (registry == NULL)
		return g_string_free(out, FALSE);
	for (int i = 0; families[i].name; i++)
		write_family(out, i);
	for (guint i = 0; i < registry->collectors->len; i++) {
		Collector *c = registry->collectors->pdata[i];

		c->func(out, c->user_data);
	}
	return g_string_free(out, FALSE);
}

/* ---- the registry --------------------------------------------------- */

void
metrics_add_collector(MetricsCollector collector, gpointer user_data)
{
	Collector *c = g_new(Collector, 1);

	c->func = collector;
	c->user_data = user_data;
	g_ptr_array_add(registry->collectors, c);
}

void
metrics_init(void)
{
	if (registry)
		return;
	registry = g_new0(Registry, 1);
	for (int i = 0; families[i].name; i++)
		registry->series[i] = g_hash_table_new_full(
			g_str_hash, g_str_equal, g_free, series_free);
	registry->collectors = g_ptr_array_new_with_free_func(g_free);
}

void
metrics_shutdown(void)
{
	if (registry == NULL)
		return;
	for (int i = 0; families[i].name; i++)
		g_hash_table_unref(registry->series[i]);
	g_ptr_array_unref(registry->collectors);
	g_clear_pointer(&registry, g_free);
}
