/* A resource's duty (daemon/resource.c: resource_works and
 * resource_duty_seconds, answered from duty times built per block of
 * days) against a plain oracle over generated rotas and questions.
 *
 * The oracle shares no code with resource.c or calendar.c: it decides
 * which days a shift starts on from the RRULE's few forms used here
 * (daily every n days, weekly on listed weekdays), turns Helsinki wall
 * clock times into instants with GLib's own time zone code, and
 * answers by walking the plain union of the shifts. Shift times keep
 * off the hour the clocks change (03:00-04:00), where "the" instant of
 * a wall clock time is a matter of policy, not of arithmetic.
 *
 * The second test adds absences entered at run time
 * (capacity_resource_present and capacity_resource_present_seconds):
 * the oracle marks the five-minute steps any of them covers and takes
 * the duty of each run of marked steps off.
 *
 * SLOTD_SEED=N repeats a run; the seed is printed when a check fails. */
#include <string.h>

#include "calendar.h"
#include "capacity.h"
#include "region.h"

#define RESOURCES 60
#define QUESTIONS 400

static guint32 seed;

typedef struct {
	int from, to;		/* minutes; to <= from: ends the next day */
	int every;		/* days, for a daily rule; 0: weekly */
	guint weekdays;		/* bit per GDateWeekday, for a weekly rule */
	guint32 valid_from, valid_until; /* julian; until 0: open */
} OracleShift;

typedef struct {
	GArray *shifts;		/* OracleShift; empty: always on duty */
	GArray *off;		/* pairs of julian days, inclusive */
} OracleRota;

static const int minutes[] = {
	0, 6 * 60, 7 * 60, 7 * 60 + 30, 8 * 60, 12 * 60, 14 * 60,
	15 * 60 + 45, 16 * 60, 20 * 60, 21 * 60, 22 * 60, 23 * 60 + 30,
};

static const char *const weekday_rules[] = {
	"MO,TU,WE,TH,FR", "SA,SU", "MO,WE", "TU,TH,SA", "SU",
};
static const guint weekday_bits[] = {
	(1 << G_DATE_MONDAY) | (1 << G_DATE_TUESDAY) |
		(1 << G_DATE_WEDNESDAY) | (1 << G_DATE_THURSDAY) |
		(1 << G_DATE_FRIDAY),
	(1 << G_DATE_SATURDAY) | (1 << G_DATE_SUNDAY),
	(1 << G_DATE_MONDAY) | (1 << G_DATE_WEDNESDAY),
	(1 << G_DATE_TUESDAY) | (1 << G_DATE_THURSDAY) |
		(1 << G_DATE_SATURDAY),
	1 << G_DATE_SUNDAY,
};

static guint32
julian_of(int year, int month, int day)
{
	GDate d;

	g_date_clear(&d, 1);
	g_date_set_dmy(&d, day, month, year);
	return g_date_get_julian(&d);
}

/* Helsinki wall clock at `minute` after the midnight of `julian`, by
 * GLib's time zone database. */
static gint64
oracle_instant(guint32 julian, int minute)
{
	static GTimeZone *tz;
	g_autoptr(GDateTime) t = NULL;
	GDate d;

	if (!tz)
		tz = g_time_zone_new_identifier("Europe/Helsinki");
	g_assert_nonnull(tz);
	julian += minute / (24 * 60);
	minute %= 24 * 60;
	g_date_clear(&d, 1);
	g_date_set_julian(&d, julian);
	t = g_date_time_new(tz, g_date_get_year(&d), g_date_get_month(&d),
			    g_date_get_day(&d), minute / 60, minute % 60, 0);
	return g_date_time_to_unix(t);
}

static gboolean
oracle_starts(const OracleShift *s, guint32 julian)
{
	GDate d;

	if (julian < s->valid_from ||
	    (s->valid_until && julian > s->valid_until))
		return FALSE;
	if (s->every)
		return (julian - s->valid_from) % s->every == 0;
	g_date_clear(&d, 1);
	g_date_set_julian(&d, julian);
	return (s->weekdays >> g_date_get_weekday(&d)) & 1;
}

static gboolean
oracle_off(const OracleRota *rota, guint32 julian)
{
	for (guint i = 0; i + 1 < rota->off->len; i += 2)
		if (julian >= g_array_index(rota->off, guint32, i) &&
		    julian <= g_array_index(rota->off, guint32, i + 1))
			return TRUE;
	return FALSE;
}

static gint
compare_pairs(gconstpointer a, gconstpointer b)
{
	const gint64 *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Seconds of [start, end) inside the union of the rota's spans, and
 * (ret_whole) whether all of it is. Days from two before to one after
 * are looked at: more than any span reaches. */
static gint64
oracle_duty(const OracleRota *rota, gint64 start, gint64 end,
	    gboolean *ret_whole)
{
	g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, 2 * sizeof(gint64));
	g_autoptr(GDateTime) first = g_date_time_new_from_unix_utc(start);
	g_autoptr(GDateTime) last = g_date_time_new_from_unix_utc(end);
	guint32 from = julian_of(g_date_time_get_year(first),
				 g_date_time_get_month(first),
				 g_date_time_get_day_of_month(first)) - 2;
	guint32 to = julian_of(g_date_time_get_year(last),
			       g_date_time_get_month(last),
			       g_date_time_get_day_of_month(last)) + 1;
	gint64 total = 0, reach = start;

	for (guint32 j = from; j <= to; j++) {
		if (oracle_off(rota, j))
			continue;
		if (rota->shifts->len == 0) {
			gint64 span[2] = { oracle_instant(j, 0),
					   oracle_instant(j + 1, 0) };

			g_array_append_val(spans, span);
		}
		for (guint i = 0; i < rota->shifts->len; i++) {
			const OracleShift *s =
				&g_array_index(rota->shifts, OracleShift, i);
			int until = s->to <= s->from ? s->to + 24 * 60 : s->to;
			gint64 span[2];

			if (!oracle_starts(s, j))
				continue;
			span[0] = oracle_instant(j, s->from);
			span[1] = oracle_instant(j, until);
			g_array_append_val(spans, span);
		}
	}
	g_array_sort(spans, compare_pairs);
	*ret_whole = TRUE;
	for (guint i = 0; i < spans->len; i++) {
		const gint64 *s = &g_array_index(spans, gint64, 2 * i);
		gint64 a = MAX(s[0], reach), b = MIN(s[1], end);

		if (s[1] <= start || s[0] >= end)
			continue;
		if (s[0] > reach && reach < end)
			*ret_whole = FALSE;
		if (b > a) {
			total += b - a;
			reach = b;
		}
	}
	if (reach < end)
		*ret_whole = FALSE;
	return total;
}

/* A rota for both: the Resource as config.c would make it, and the
 * oracle's reading of the same. */
static Resource *
generate(GRand *rand, Region *region, guint n, OracleRota *ret_rota)
{
	Resource *r = g_new0(Resource, 1);
	guint shifts = g_rand_int_range(rand, 0, 4);
	guint offs = g_rand_int_range(rand, 0, 3);

	r->id = g_strdup_printf("p%u", n);
	r->type = RESOURCE_PRACTITIONER;
	r->unit = g_strdup("u");
	r->shifts = g_ptr_array_new_with_free_func((GDestroyNotify)window_free);
	r->off = g_array_new(FALSE, FALSE, sizeof(DayRange));
	ret_rota->shifts = g_array_new(FALSE, FALSE, sizeof(OracleShift));
	ret_rota->off = g_array_new(FALSE, FALSE, sizeof(guint32));
	for (guint i = 0; i < shifts; i++) {
		Window *w = g_new0(Window, 1);
		OracleShift s = { 0 };
		guint k;

		s.from = minutes[g_rand_int_range(rand, 0, G_N_ELEMENTS(minutes))];
		s.to = minutes[g_rand_int_range(rand, 0, G_N_ELEMENTS(minutes))];
		s.valid_from = julian_of(2025, 1, 1) +
			       g_rand_int_range(rand, 0, 700);
		if (g_rand_boolean(rand))
			s.valid_until = s.valid_from +
					g_rand_int_range(rand, 30, 500);
		w->name = g_strdup_printf("s%u", i);
		w->start_minute = s.from;
		w->end_minute = s.to;
		w->capacity = 1;
		g_date_clear(&w->valid_from, 1);
		g_date_set_julian(&w->valid_from, s.valid_from);
		g_date_clear(&w->valid_until, 1);
		if (s.valid_until)
			g_date_set_julian(&w->valid_until, s.valid_until);
		if (g_rand_boolean(rand)) {
			s.every = g_rand_int_range(rand, 1, 4);
			w->rrule = s.every == 1
					   ? g_strdup("FREQ=DAILY")
					   : g_strdup_printf(
						     "FREQ=DAILY;INTERVAL=%d",
						     s.every);
		} else {
			k = g_rand_int_range(rand, 0,
					     G_N_ELEMENTS(weekday_rules));
			s.weekdays = weekday_bits[k];
			w->rrule = g_strdup_printf("FREQ=WEEKLY;BYDAY=%s",
						   weekday_rules[k]);
		}
		g_ptr_array_add(r->shifts, w);
		g_array_append_val(ret_rota->shifts, s);
	}
	for (guint i = 0; i < offs; i++) {
		guint32 a = julian_of(2026, 1, 1) + g_rand_int_range(rand, 0, 540);
		guint32 b = a + g_rand_int_range(rand, 0, 20);
		DayRange d;

		g_date_clear(&d.first, 1);
		g_date_clear(&d.last, 1);
		g_date_set_julian(&d.first, a);
		g_date_set_julian(&d.last, b);
		g_array_append_val(r->off, d);
		g_array_append_val(ret_rota->off, a);
		g_array_append_val(ret_rota->off, b);
	}
	region_add_resource(region, r);
	return r;
}

/* A question: mostly anywhere in 2026-2027, some at the clock changes
 * and at the cache's block edges (julian multiples of 64). */
static void
question(GRand *rand, gint64 *ret_start, gint64 *ret_end)
{
	guint32 day;
	int minute = g_rand_int_range(rand, 0, 24 * 12) * 5;
	int length = g_rand_boolean(rand)
			     ? g_rand_int_range(rand, 1, 24) * 15
			     : g_rand_int_range(rand, 1, 3 * 24 * 12) * 5;

	switch (g_rand_int_range(rand, 0, 4)) {
	case 0:
		day = g_rand_boolean(rand) ? julian_of(2026, 3, 29)
					   : julian_of(2026, 10, 25);
		day += g_rand_int_range(rand, -1, 2);
		break;
	case 1:
		day = (julian_of(2026, 1, 1) / 64 + g_rand_int_range(rand, 0, 9))
			      * 64 + g_rand_int_range(rand, -1, 1);
		break;
	default:
		day = julian_of(2026, 1, 1) + g_rand_int_range(rand, 0, 560);
	}
	/* Round to a time the oracle can read the same way: off the hour
	 * the clocks change. */
	if (minute >= 3 * 60 && minute < 4 * 60)
		minute = 4 * 60 + 5;
	*ret_start = oracle_instant(day, minute);
	*ret_end = *ret_start + (gint64)length * 60;
}

static void
test_against_oracle(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	Region *region = region_new();
	g_autoptr(GArray) rotas = g_array_new(FALSE, FALSE, sizeof(OracleRota));
	guint checked = 0, working = 0;

	for (guint n = 0; n < RESOURCES; n++) {
		OracleRota rota;

		generate(rand, region, n, &rota);
		g_array_append_val(rotas, rota);
	}
	/* June to September built ahead, as the daemon does at start; the
	 * rest on demand. */
	region_warm_resources(region, oracle_instant(julian_of(2026, 6, 1), 0),
			      oracle_instant(julian_of(2026, 10, 1), 0), NULL);
	for (guint q = 0; q < QUESTIONS; q++) {
		gint64 start, end;

		question(rand, &start, &end);
		for (guint n = 0; n < RESOURCES; n++) {
			Resource *r = region->resources->pdata[n];
			const OracleRota *rota =
				&g_array_index(rotas, OracleRota, n);
			gboolean whole;
			gint64 want = oracle_duty(rota, start, end, &whole);
			gint64 got = resource_duty_seconds(r, start, end);
			gboolean works = resource_works(r, start, end);

			if (got != want || works != whole)
				g_error("seed %u: resource %s over [%" G_GINT64_FORMAT
					", %" G_GINT64_FORMAT "): duty %" G_GINT64_FORMAT
					" s, works %d; the oracle: %" G_GINT64_FORMAT
					" s, works %d (SLOTD_SEED=%u repeats it)",
					seed, r->id, start, end, got, works, want,
					whole, seed);
			checked++;
			working += works;
		}
	}
	/* The generated rotas must give both answers often enough for the
	 * comparison to mean something. */
	g_test_message("seed %u: %u questions, %u on duty", seed, checked,
		       working);
	g_assert_cmpuint(working, >, checked / 20);
	g_assert_cmpuint(working, <, checked - checked / 20);
	for (guint n = 0; n < rotas->len; n++) {
		OracleRota *rota = &g_array_index(rotas, OracleRota, n);

		g_array_unref(rota->shifts);
		g_array_unref(rota->off);
	}
	region_unref(region);
}

/* 0-3 absences of `r` around [start, end), on five-minute marks, often
 * overlapping each other, and one of another resource. */
static GPtrArray *
generate_absences(GRand *rand, const Resource *r, const char *other,
		  gint64 start, gint64 end)
{
	GPtrArray *list = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_absence_free);
	gint64 steps = (end - start) / 300 + 24;
	guint n = (guint)g_rand_int_range(rand, 0, 4);

	for (guint i = 0; i <= n; i++) {
		StoreAbsence *a = g_new0(StoreAbsence, 1);
		gint64 from = g_rand_int_range(rand, 0, (gint32)steps);
		gint64 length = g_rand_int_range(rand, 1, (gint32)steps / 2 + 2);

		a->resource = g_strdup(i == n ? other : r->id);
		a->start = start - 12 * 300 + from * 300;
		a->end = a->start + length * 300;
		a->reason = g_strdup("test");
		g_ptr_array_add(list, a);
	}
	return list;
}

/* The oracle: duty in [start, end) less the duty of each run of
 * five-minute steps an absence of `id` covers; `ret_whole` when on
 * duty all of it and no absence of `id` touches it. */
static gint64
oracle_present(const OracleRota *rota, const GPtrArray *absences,
	       const char *id, gint64 start, gint64 end, gboolean *ret_whole)
{
	gsize steps = (gsize)((end - start + 299) / 300);
	g_autofree gboolean *away = g_new0(gboolean, steps + 1);
	gboolean whole, touched = FALSE;
	gint64 total = oracle_duty(rota, start, end, &whole);

	for (guint i = 0; i < absences->len; i++) {
		const StoreAbsence *a = absences->pdata[i];

		if (strcmp(a->resource, id) != 0 || a->end <= start ||
		    a->start >= end)
			continue;
		touched = TRUE;
		for (gsize k = 0; k < steps; k++) {
			gint64 t = start + (gint64)k * 300;

			if (t < a->end && t + 300 > a->start)
				away[k] = TRUE;
		}
	}
	for (gsize k = 0; k < steps;) {
		gsize run = k;
		gboolean unused;

		if (!away[k]) {
			k++;
			continue;
		}
		while (run < steps && away[run])
			run++;
		total -= oracle_duty(rota, start + (gint64)k * 300,
				     MIN(end, start + (gint64)run * 300),
				     &unused);
		k = run;
	}
	*ret_whole = whole && !touched;
	return total;
}

static void
test_absences_against_oracle(void)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed ^ 0x5a5a5a5a);
	Region *region = region_new();
	g_autoptr(GArray) rotas = g_array_new(FALSE, FALSE, sizeof(OracleRota));
	guint checked = 0, working = 0, partly = 0;

	for (guint n = 0; n < RESOURCES; n++) {
		OracleRota rota;

		generate(rand, region, n, &rota);
		g_array_append_val(rotas, rota);
	}
	for (guint q = 0; q < QUESTIONS / 4; q++) {
		gint64 start, end;

		question(rand, &start, &end);
		for (guint n = 0; n < RESOURCES; n++) {
			Resource *r = region->resources->pdata[n];
			Resource *other = region->resources->pdata[
				(n + 1) % RESOURCES];
			const OracleRota *rota =
				&g_array_index(rotas, OracleRota, n);
			g_autoptr(GPtrArray) absences = generate_absences(
				rand, r, other->id, start, end);
			gboolean whole;
			gint64 want = oracle_present(rota, absences, r->id,
						     start, end, &whole);
			gint64 got = capacity_resource_present_seconds(
				absences, r, start, end);
			gboolean present = capacity_resource_present(
				absences, r, start, end);

			if (got != want || present != whole)
				g_error("seed %u: resource %s over [%" G_GINT64_FORMAT
					", %" G_GINT64_FORMAT ") with %u absences: "
					"present %" G_GINT64_FORMAT " s, whole %d; "
					"the oracle: %" G_GINT64_FORMAT " s, whole %d "
					"(SLOTD_SEED=%u repeats it)",
					seed, r->id, start, end, absences->len,
					got, present, want, whole, seed);
			checked++;
			working += present;
			partly += got > 0 &&
				  got < resource_duty_seconds(r, start, end);
		}
	}
	/* Absences must both leave people whole and take duty off. */
	g_test_message("seed %u: %u questions, %u present throughout, %u "
		       "with some duty taken off", seed, checked, working,
		       partly);
	g_assert_cmpuint(working, >, checked / 50);
	g_assert_cmpuint(partly, >, checked / 50);
	for (guint n = 0; n < rotas->len; n++) {
		OracleRota *rota = &g_array_index(rotas, OracleRota, n);

		g_array_unref(rota->shifts);
		g_array_unref(rota->off);
	}
	region_unref(region);
}

int
main(int argc, char **argv)
{
	const char *fixed = g_getenv("SLOTD_SEED");

	g_test_init(&argc, &argv, NULL);
	calendar_init();
	seed = fixed ? (guint32)g_ascii_strtoull(fixed, NULL, 10)
		     : (guint32)g_get_real_time();
	g_test_message("SLOTD_SEED=%u", seed);
	g_test_add_func("/resource-duty/against-oracle", test_against_oracle);
	g_test_add_func("/resource-duty/absences-against-oracle",
			test_absences_against_oracle);
	return g_test_run();
}
