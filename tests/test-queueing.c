/* Tests of daemon/queueing.c (M/M/c, Erlang C). References are worked
 * by hand in the comments or computed here by another method: the
 * direct Erlang C sum, evaluated in logarithms so it survives c = 200. */
#include <math.h>

#include <slotd/plugin.h>

/* log(a^k / k!) */
static double
log_term(double load, guint k)
{
	return k * log(load) - lgamma(k + 1.0);
}

/* Erlang C by its textbook definition:
 *   C = T_c / (sum_{k<c} a^k/k! + T_c),  T_c = a^c/c! * c/(c-a),
 * with every term scaled by the largest one before summing. */
static double
reference_erlang_c(double load, guint servers)
{
	double top = log_term(load, servers) + log(servers / (servers - load));
	double largest = top, sum = 0.0;

	for (guint k = 0; k < servers; k++)
		largest = MAX(largest, log_term(load, k));
	for (guint k = 0; k < servers; k++)
		sum += exp(log_term(load, k) - largest);
	top = exp(top - largest);
	return top / (sum + top);
}

static void
assert_close(double value, double expected, double tolerance)
{
	g_assert_false(isnan(value));
	g_assert_cmpfloat_with_epsilon(value, expected, tolerance);
}

/* λ = 10/h, 12 min each: load 2 Erlangs, 3 servers.
 * C = (8/6 * 3/1) / (1 + 2 + 2 + 4) = 4/9; Wq = 4/9 * 12 / (3 - 2)
 * = 5.33 min; Lq = λ Wq = 10/60 * 16/3 = 8/9. */
static void
test_textbook(void)
{
	SlotdQueueFigures q;

	slotd_queue_mmc(10.0, 12.0, 3, &q);
	assert_close(q.offered_load, 2.0, 1e-12);
	assert_close(q.utilisation, 2.0 / 3.0, 1e-12);
	assert_close(q.p_wait, 4.0 / 9.0, 1e-12);
	assert_close(q.mean_wait_minutes, 16.0 / 3.0, 1e-12);
	assert_close(q.mean_queue_length, 8.0 / 9.0, 1e-12);
	/* P(W <= 5 min) = 1 - 4/9 e^{-(3-2) * 5/12} = 0.70700 */
	assert_close(slotd_queue_service_level(10.0, 12.0, 3, 300.0),
		     1.0 - 4.0 / 9.0 * exp(-5.0 / 12.0), 1e-12);
	assert_close(slotd_queue_service_level(10.0, 12.0, 3, 300.0), 0.70700,
		     1e-5);
	/* With no waiting allowed the level is P(no wait). */
	assert_close(slotd_queue_service_level(10.0, 12.0, 3, 0.0), 5.0 / 9.0,
		     1e-12);
}

/* M/M/1: λ = 6/h, 6 min (μ = 10/h): ρ = 0.6, P(wait) = ρ,
 * Wq = ρ / (μ - λ) = 0.6 / 4 h = 9 min, Lq = ρ² / (1 - ρ) = 0.9. */
static void
test_single_server(void)
{
	SlotdQueueFigures q;

	slotd_queue_mmc(6.0, 6.0, 1, &q);
	assert_close(q.utilisation, 0.6, 1e-12);
	assert_close(q.p_wait, 0.6, 1e-12);
	assert_close(q.mean_wait_minutes, 9.0, 1e-12);
	assert_close(q.mean_queue_length, 0.9, 1e-12);
	/* P(W <= t) = 1 - ρ e^{-(μ - λ) t}; t = 6 min: 1 - 0.6 e^{-0.4}. */
	assert_close(slotd_queue_service_level(6.0, 6.0, 1, 360.0),
		     1.0 - 0.6 * exp(-0.4), 1e-12);
}

static void
assert_unstable(double arrivals, double minutes, guint servers)
{
	SlotdQueueFigures q;

	slotd_queue_mmc(arrivals, minutes, servers, &q);
	g_assert_cmpfloat(q.p_wait, ==, 1.0);
	g_assert_true(isinf(q.mean_wait_minutes) && q.mean_wait_minutes > 0);
	g_assert_true(isinf(q.mean_queue_length) && q.mean_queue_length > 0);
	g_assert_cmpfloat(slotd_queue_service_level(arrivals, minutes,
						    servers, 20.0), ==, 0.0);
}

/* λ = 30/h, 6 min: load 3 Erlangs; 3 servers can never catch up. */
static void
test_unstable(void)
{
	SlotdQueueFigures q;

	assert_unstable(30.0, 6.0, 3);
	slotd_queue_mmc(30.0, 6.0, 3, &q);
	assert_close(q.utilisation, 1.0, 1e-12);
	assert_unstable(30.0, 6.0, 2);
	assert_unstable(1.0, 6.0, 0);
	/* Just under the edge the figures are finite but large. */
	slotd_queue_mmc(29.9, 6.0, 3, &q);
	g_assert_true(isfinite(q.mean_wait_minutes));
	g_assert_cmpfloat(q.p_wait, <, 1.0);
	g_assert_cmpfloat(q.mean_wait_minutes, >, 100.0);
}

static void
test_no_arrivals(void)
{
	SlotdQueueFigures q;

	slotd_queue_mmc(0.0, 6.0, 2, &q);
	g_assert_cmpfloat(q.p_wait, ==, 0.0);
	g_assert_cmpfloat(q.mean_wait_minutes, ==, 0.0);
	g_assert_cmpfloat(q.utilisation, ==, 0.0);
	g_assert_cmpfloat(slotd_queue_service_level(0.0, 6.0, 0, 0.0), ==,
			  1.0);
	g_assert_cmpuint(slotd_queue_servers_needed(0.0, 6.0, 20.0, 0.8), ==,
			 1);
}

/* The recursion against the direct sum over a grid of queues. */
static void
test_against_direct_sum(void)
{
	static const double loads[] = { 0.1, 0.5, 1.0, 2.5, 7.3, 19.9, 42.0 };

	for (guint i = 0; i < G_N_ELEMENTS(loads); i++) {
		guint first = (guint)floor(loads[i]) + 1;

		for (guint c = first; c < first + 15; c++) {
			SlotdQueueFigures q;
			double expected = reference_erlang_c(loads[i], c);

			/* 60 arrivals/h of load minutes each = load. */
			slotd_queue_mmc(60.0, loads[i], c, &q);
			assert_close(q.offered_load, loads[i], 1e-12);
			assert_close(q.p_wait, expected, 1e-10);
			assert_close(q.mean_queue_length,
				     expected * loads[i] / (c - loads[i]),
				     1e-9);
		}
	}
}

/* λ = 100/h, 3 min: 5 Erlangs; 80 % answered within 20 s.
 * By the direct sum: C(5,7) = 0.32415, level 1 - 0.32415 e^{-2*20/180}
 * = 0.7404 (short); C(5,8) = 0.16727, level 1 - 0.16727 e^{-3/9}
 * = 0.8801 (enough). So 8 servers. */
static void
test_call_centre(void)
{
	double c7 = reference_erlang_c(5.0, 7), c8 = reference_erlang_c(5.0, 8);

	assert_close(c7, 0.32415, 1e-5);
	assert_close(c8, 0.16727, 1e-5);
	assert_close(slotd_queue_service_level(100.0, 3.0, 7, 20.0),
		     1.0 - c7 * exp(-2.0 * 20.0 / 180.0), 1e-12);
	assert_close(slotd_queue_service_level(100.0, 3.0, 8, 20.0),
		     1.0 - c8 * exp(-3.0 * 20.0 / 180.0), 1e-12);
	g_assert_cmpuint(slotd_queue_servers_needed(100.0, 3.0, 20.0, 0.8), ==,
			 8);
	/* A looser target needs 7, never fewer than load + 1 = 6. */
	g_assert_cmpuint(slotd_queue_servers_needed(100.0, 3.0, 20.0, 0.7), ==,
			 7);
	g_assert_cmpuint(slotd_queue_servers_needed(100.0, 3.0, 20.0, 0.0), ==,
			 6);
	/* 100 % is reached only when the miss is below double precision. */
	g_assert_cmpuint(slotd_queue_servers_needed(100.0, 3.0, 20.0, 1.0), >,
			 20);
	/* Unreachable targets give 0. */
	g_assert_cmpuint(slotd_queue_servers_needed(100.0, 3.0, 20.0, 1.5), ==,
			 0);
	g_assert_cmpuint(slotd_queue_servers_needed(1e6, 60.0, 20.0, 0.8), ==,
			 0);
}

/* 190 Erlangs on 200 servers: a^c/c! overflows a double, the recursion
 * must not. */
static void
test_two_hundred_servers(void)
{
	SlotdQueueFigures q;
	double expected = reference_erlang_c(190.0, 200);
	guint needed, i;

	g_assert_true(isinf(pow(190.0, 200)));
	slotd_queue_mmc(190.0 * 6.0, 10.0, 200, &q);
	g_assert_true(isfinite(q.p_wait) && isfinite(q.mean_wait_minutes));
	g_assert_cmpfloat(q.p_wait, >, 0.0);
	g_assert_cmpfloat(q.p_wait, <, 1.0);
	assert_close(q.p_wait, expected, 1e-9);
	assert_close(q.mean_wait_minutes, expected * 10.0 / 10.0, 1e-9);
	needed = slotd_queue_servers_needed(190.0 * 6.0, 10.0, 20.0, 0.8);
	g_assert_cmpuint(needed, >, 190);
	g_assert_cmpuint(needed, <, 230);
	/* It is the smallest: one fewer misses the target. */
	g_assert_cmpfloat(slotd_queue_service_level(1140.0, 10.0, needed,
						    20.0), >=, 0.8);
	g_assert_cmpfloat(slotd_queue_service_level(1140.0, 10.0, needed - 1,
						    20.0), <, 0.8);
	/* Thousands of servers stay finite as well. */
	for (i = 0; i < 3; i++) {
		slotd_queue_mmc(6000.0 * (i + 1), 60.0, 6500 * (i + 1), &q);
		g_assert_true(isfinite(q.p_wait) && q.p_wait >= 0.0);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/queueing/mmc/textbook-three-servers", test_textbook);
	g_test_add_func("/queueing/mmc/single-server", test_single_server);
	g_test_add_func("/queueing/mmc/load-at-servers-is-unstable",
			test_unstable);
	g_test_add_func("/queueing/mmc/no-arrivals", test_no_arrivals);
	g_test_add_func("/queueing/mmc/matches-direct-sum",
			test_against_direct_sum);
	g_test_add_func("/queueing/servers-needed/call-centre",
			test_call_centre);
	g_test_add_func("/queueing/mmc/two-hundred-servers",
			test_two_hundred_servers);
	return g_test_run();
}
