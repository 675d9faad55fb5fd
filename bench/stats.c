/* Time, quantiles and the figure lines every subcommand prints. */
#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

double
bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static gint
compare_doubles(gconstpointer a, gconstpointer b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

double
bench_quantile(GArray *samples, double p)
{
	guint rank;

	if (samples->len == 0)
		return 0;
	g_array_sort(samples, compare_doubles);
	/* Nearest rank: the smallest sample with at least p of them at or
	 * below it. */
	rank = (guint)(p * samples->len + 0.999999);
	rank = CLAMP(rank, 1, samples->len);
	return g_array_index(samples, double, rank - 1);
}

double
bench_median(GArray *values)
{
	guint n = values->len;

	if (n == 0)
		return 0;
	g_array_sort(values, compare_doubles);
	if (n % 2)
		return g_array_index(values, double, n / 2);
	return (g_array_index(values, double, n / 2 - 1) +
		g_array_index(values, double, n / 2)) / 2;
}

void
bench_figure(const char *name, double value)
{
	printf("figure %s %.6g\n", name, value);
	fflush(stdout);
}

void
bench_figure_null(const char *name)
{
	printf("figure %s null\n", name);
	fflush(stdout);
}

void
bench_note(const char *format, ...)
{
	va_list ap;

	if (g_getenv("SLOTD_BENCH_QUIET"))
		return;
	va_start(ap, format);
	fputs("  ", stderr);
	vfprintf(stderr, format, ap);
	fputc('\n', stderr);
	va_end(ap);
}
