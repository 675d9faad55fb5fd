/* Metrics in the Prometheus text format (exposition format 0.0.4).
 *
 * One registry per process. Counters and histograms are declared in
 * the table of metrics.c and recorded by name with a label set made by
 * metrics_labels(); gauges are written at scrape time by collectors.
 * Labels carry names from slotd's own tables and configuration
 * (interfaces, methods, error names, services, routes, status codes),
 * never a client reference, a feed token or a booking id. */
#pragma once

#include <glib.h>

/* Writes gauges (and whatever else is read at scrape time). */
typedef void (*MetricsCollector)(GString *out, gpointer user_data);

void metrics_init(void);
void metrics_shutdown(void);

/* `name="value",...` from NULL-terminated name, value pairs, values
 * escaped as the format wants. */
char *metrics_labels(const char *name, ...) G_GNUC_NULL_TERMINATED;

/* Adds `n` to a counter of the table ("slotd_dbus_calls_total"). */
void metrics_count(const char *name, const char *labels, guint64 n);
/* Records a value (seconds, or a count) in a histogram of the table. */
void metrics_observe(const char *name, const char *labels, double value);

void metrics_add_collector(MetricsCollector collector, gpointer user_data);
/* The whole text: the table's metrics, then each collector's. */
char *metrics_render(void);

/* For collectors: `# HELP` and `# TYPE` lines, then samples. */
void metrics_write_header(GString *out, const char *name, const char *type,
			  const char *help);
void metrics_write_sample(GString *out, const char *name, const char *labels,
			  double value);
