/* M/M/c queueing (Erlang C) for staffing plans: how likely a contact
 * waits, how long, and how many servers a service level needs.
 *
 * Erlang C is computed from the Erlang B recursion, which only ever
 * multiplies and divides numbers between 0 and the load, so it stays
 * finite for hundreds of servers where load^c / c! would overflow. */
#include <math.h>

#include <slotd/plugin.h>

/* servers_needed() gives up past this many servers (and returns 0). */
#define QUEUE_MAX_SERVERS 10000

static gboolean
valid_rate(double value)
{
	return isfinite(value) && value >= 0.0;
}

/* λ/μ: arrivals per minute times minutes per service. */
static double
offered_load(double arrivals_per_hour, double service_minutes)
{
	return arrivals_per_hour / 60.0 * service_minutes;
}

/* One step of the Erlang B recursion: blocking with `servers` servers
 * from blocking with one fewer. B(0) = 1. */
static double
erlang_b_step(double previous, double load, guint servers)
{
	double carried = load * previous;

	return carried / (servers + carried);
}

static double
erlang_b(double load, guint servers)
{
	double blocking = 1.0;

	for (guint k = 1; k <= servers; k++)
		blocking = erlang_b_step(blocking, load, k);
	return blocking;
}

/* P(wait) from Erlang B; only for a stable queue (load < servers). */
static double
erlang_c_from_b(double blocking, double load, guint servers)
{
	return servers * blocking / (servers - load * (1.0 - blocking));
}

/* P(wait <= t) = 1 - C * exp(-(c - A) * t / service time). */
static double
level_from_c(double p_wait, double load, guint servers,
	     double service_minutes, double target_seconds)
{
	double rate = (servers - load) / (service_minutes * 60.0);

	return 1.0 - p_wait * exp(-rate * target_seconds);
}

void
slotd_queue_mmc(double arrivals_per_hour, double service_minutes,
		guint servers, SlotdQueueFigures *ret)
{
	double load;

	g_return_if_fail(ret != NULL);
	g_return_if_fail(valid_rate(arrivals_per_hour));
	g_return_if_fail(valid_rate(service_minutes));
	load = offered_load(arrivals_per_hour, service_minutes);
	ret->offered_load = load;
	ret->utilisation = servers > 0 ? load / servers : 0.0;
	if (load == 0.0) {
		/* Nobody arrives, or nobody needs any time: nobody waits. */
		ret->p_wait = 0.0;
		ret->mean_wait_minutes = 0.0;
		ret->mean_queue_length = 0.0;
		return;
	}
	if (load >= servers) {
		ret->utilisation = servers > 0 ? load / servers : INFINITY;
		ret->p_wait = 1.0;
		ret->mean_wait_minutes = INFINITY;
		ret->mean_queue_length = INFINITY;
		return;
	}
	ret->p_wait = erlang_c_from_b(erlang_b(load, servers), load, servers);
	ret->mean_wait_minutes = ret->p_wait * service_minutes /
				 (servers - load);
	ret->mean_queue_length = ret->p_wait * load / (servers - load);
}

double
slotd_queue_service_level(double arrivals_per_hour, double service_minutes,
			  guint servers, double target_seconds)
{
	double load;

	g_return_val_if_fail(valid_rate(arrivals_per_hour), 0.0);
	g_return_val_if_fail(valid_rate(service_minutes), 0.0);
	g_return_val_if_fail(!isnan(target_seconds), 0.0);
	load = offered_load(arrivals_per_hour, service_minutes);
	if (load == 0.0)
		return 1.0;
	if (load >= servers)
		return 0.0;
	return level_from_c(erlang_c_from_b(erlang_b(load, servers), load,
					    servers),
			    load, servers, service_minutes,
			    MAX(target_seconds, 0.0));
}

/* The fewest servers, more than the load, whose service level reaches
 * the target; 0 when even QUEUE_MAX_SERVERS do not (a target above 1,
 * or a load of that many Erlangs). A target of exactly 1 is met once the
 * miss is below double precision. Erlang B is carried from one server
 * count to the next, so the search is linear. */
guint
slotd_queue_servers_needed(double arrivals_per_hour, double service_minutes,
			   double target_seconds, double service_level)
{
	double load, blocking, level;
	guint servers;

	g_return_val_if_fail(valid_rate(arrivals_per_hour), 0);
	g_return_val_if_fail(valid_rate(service_minutes), 0);
	g_return_val_if_fail(!isnan(target_seconds), 0);
	g_return_val_if_fail(!isnan(service_level), 0);
	load = offered_load(arrivals_per_hour, service_minutes);
	if (load == 0.0)
		return 1; /* nobody waits; a service that exists has one */
	if (load >= QUEUE_MAX_SERVERS)
		return 0;
	servers = (guint)floor(load) + 1;
	blocking = erlang_b(load, servers);
	for (;;) {
		level = level_from_c(erlang_c_from_b(blocking, load, servers),
				     load, servers, service_minutes,
				     MAX(target_seconds, 0.0));
		if (level >= service_level)
			return servers;
		if (servers == QUEUE_MAX_SERVERS)
			return 0;
		servers++;
		blocking = erlang_b_step(blocking, load, servers);
	}
}
