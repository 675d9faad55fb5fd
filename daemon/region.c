/* The region model: ownership of the snapshot, its indexes and the
 * lookups everyone else uses. Built once by config.c, then read-only. */
#include <string.h>

#include "region.h"

void
municipality_free(Municipality *municipality)
{
	if (municipality == NULL)
		return;
	g_free(municipality->code);
	g_free(municipality->name_fi);
	g_free(municipality->name_sv);
	g_free(municipality->area);
	g_free(municipality);
}

void
unit_free(Unit *unit)
{
	if (unit == NULL)
		return;
	g_free(unit->id);
	g_free(unit->municipality);
	g_free(unit->title_fi);
	g_free(unit->title_sv);
	g_strfreev(unit->languages);
	if (unit->closures != NULL)
		g_array_unref(unit->closures);
	g_free(unit->source_file);
	g_free(unit->group);
	g_free(unit);
}

void
deadline_rule_free(DeadlineRule *rule)
{
	if (rule == NULL)
		return;
	g_free(rule->id);
	g_free(rule->reference);
	g_free(rule);
}

void
service_free(Service *service)
{
	if (service == NULL)
		return;
	g_free(service->id);
	g_free(service->kind);
	g_free(service->title_fi);
	g_free(service->title_sv);
	if (service->deadlines != NULL)
		g_ptr_array_unref(service->deadlines);
	g_free(service->source_file);
	g_free(service->group);
	g_free(service);
}

static void
daemon_config_clear(DaemonConfig *daemon)
{
	g_free(daemon->config_file);
	g_free(daemon->state_dir);
	g_free(daemon->plugin_dir);
	g_free(daemon->http_address);
	g_free(daemon->metrics_token);
	g_free(daemon->feed_export_dir);
	g_free(daemon->region_id);
	g_free(daemon->region_name_fi);
	g_free(daemon->region_name_sv);
	g_free(daemon->access.groups_read);
	g_strfreev(daemon->access.read_groups);
	g_strfreev(daemon->access.book_groups);
	g_strfreev(daemon->access.admin_groups);
	g_strfreev(daemon->access.planner_groups);
	g_strfreev(daemon->access.gateway_groups);
}

/* Names are matched the way people type them: any case, and the same
 * letters whether composed ("ä") or not ("a" + combining diaeresis). */
static char *
name_key(const char *name)
{
	g_autofree char *folded = NULL;

	if (!g_utf8_validate(name, -1, NULL))
		return NULL;
	folded = g_utf8_casefold(name, -1);
	return g_utf8_normalize(folded, -1, G_NORMALIZE_DEFAULT_COMPOSE);
}

Region *
region_new(void)
{
	Region *region = g_new0(Region, 1);

	region->ref_count = 1;
	region->municipalities = g_ptr_array_new_with_free_func(
		(GDestroyNotify)municipality_free);
	region->municipality_by_code = g_hash_table_new(g_str_hash,
							g_str_equal);
	region->municipality_by_name =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	region->units = g_ptr_array_new_with_free_func(
		(GDestroyNotify)unit_free);
	region->unit_by_id = g_hash_table_new(g_str_hash, g_str_equal);
	region->services = g_ptr_array_new_with_free_func(
		(GDestroyNotify)service_free);
	region->service_by_id = g_hash_table_new(g_str_hash, g_str_equal);
	region->offerings = g_ptr_array_new_with_free_func(
		(GDestroyNotify)offering_free);
	region->offering_by_id = g_hash_table_new(g_str_hash, g_str_equal);
	region->resources = g_ptr_array_new_with_free_func(
		(GDestroyNotify)resource_free);
	region->resource_by_id = g_hash_table_new(g_str_hash, g_str_equal);
	region->keyfiles = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_key_file_unref);
	return region;
}

Region *
region_ref(Region *region)
{
	g_return_val_if_fail(region != NULL, NULL);
	g_atomic_int_inc(&region->ref_count);
	return region;
}

void
region_unref(Region *region)
{
	if (region == NULL)
		return;
	if (!g_atomic_int_dec_and_test(&region->ref_count))
		return;
	/* Offerings first: their plugin data may still look at units,
	 * services and the keyfiles while it is destroyed. */
	g_hash_table_unref(region->offering_by_id);
	g_ptr_array_unref(region->offerings);
	g_hash_table_unref(region->resource_by_id);
	g_ptr_array_unref(region->resources);
	g_hash_table_unref(region->service_by_id);
	g_ptr_array_unref(region->services);
	g_hash_table_unref(region->unit_by_id);
	g_ptr_array_unref(region->units);
	g_hash_table_unref(region->municipality_by_name);
	g_hash_table_unref(region->municipality_by_code);
	g_ptr_array_unref(region->municipalities);
	g_free(region->travel);
	g_ptr_array_unref(region->keyfiles);
	daemon_config_clear(&region->daemon);
	g_free(region);
}

static void
index_name(Region *region, const char *name, Municipality *municipality)
{
	char *key = name_key(name);

	if (key != NULL)
		g_hash_table_replace(region->municipality_by_name, key,
				     municipality);
}

void
region_add_municipality(Region *region, Municipality *municipality)
{
	municipality->index = region->municipalities->len;
	g_ptr_array_add(region->municipalities, municipality);
	g_hash_table_replace(region->municipality_by_code, municipality->code,
			     municipality);
	index_name(region, municipality->name_fi, municipality);
	index_name(region, municipality->name_sv, municipality);
}

void
region_add_unit(Region *region, Unit *unit)
{
	g_ptr_array_add(region->units, unit);
	g_hash_table_replace(region->unit_by_id, unit->id, unit);
}

void
region_add_service(Region *region, Service *service)
{
	g_ptr_array_add(region->services, service);
	g_hash_table_replace(region->service_by_id, service->id, service);
}

void
region_add_offering(Region *region, SlotdOffering *offering)
{
	g_ptr_array_add(region->offerings, offering);
	g_hash_table_replace(region->offering_by_id, offering->id, offering);
}

const Municipality *
region_find_municipality(const Region *region, const char *code_or_name)
{
	const Municipality *municipality;
	g_autofree char *key = NULL;

	if (code_or_name == NULL)
		return NULL;
	municipality = g_hash_table_lookup(region->municipality_by_code,
					   code_or_name);
	if (municipality != NULL)
		return municipality;
	key = name_key(code_or_name);
	if (key == NULL)
		return NULL;
	return g_hash_table_lookup(region->municipality_by_name, key);
}

const Unit *
region_find_unit(const Region *region, const char *id)
{
	return id != NULL ? g_hash_table_lookup(region->unit_by_id, id) : NULL;
}

const Service *
region_find_service(const Region *region, const char *id)
{
	return id != NULL ? g_hash_table_lookup(region->service_by_id, id)
			  : NULL;
}

SlotdOffering *
region_find_offering(const Region *region, const char *id)
{
	return id != NULL ? g_hash_table_lookup(region->offering_by_id, id)
			  : NULL;
}

GPtrArray *
region_service_offerings(const Region *region, const char *service_id)
{
	GPtrArray *offerings = g_ptr_array_new();

	for (guint i = 0; i < region->offerings->len; i++) {
		SlotdOffering *offering = region->offerings->pdata[i];

		if (g_strcmp0(offering->service->id, service_id) == 0)
			g_ptr_array_add(offerings, offering);
	}
	return offerings;
}

gint
region_travel_minutes(const Region *region, const char *from_code,
		      const char *to_code)
{
	const Municipality *from = region_find_municipality(region, from_code);
	const Municipality *to = region_find_municipality(region, to_code);
	guint n = region->municipalities->len;
	guint minutes;

	if (from == NULL || to == NULL || region->travel == NULL)
		return -1;
	minutes = region->travel[from->index * n + to->index];
	return minutes == G_MAXUINT ? -1 : (gint)minutes;
}

/* Floyd–Warshall: n is a few dozen municipalities at most. */
static void
shortest_paths(guint *dist, guint n)
{
	for (guint k = 0; k < n; k++) {
		for (guint i = 0; i < n; i++) {
			guint ik = dist[i * n + k];

			if (ik == G_MAXUINT)
				continue;
			for (guint j = 0; j < n; j++) {
				guint kj = dist[k * n + j];
				guint *ij = &dist[i * n + j];

				if (kj != G_MAXUINT && ik + kj < *ij)
					*ij = ik + kj;
			}
		}
	}
}

gboolean
region_set_travel(Region *region, const guint *given, guint *ret_from,
		  guint *ret_to)
{
	guint n = region->municipalities->len;
	g_autofree guint *dist = g_new(guint, (gsize)n * n + 1);

	/* A region without municipalities has no matrix (given NULL). */
	if (n > 0)
		memcpy(dist, given, sizeof(guint) * n * n);
	for (guint i = 0; i < n; i++)
		dist[i * n + i] = 0;
	shortest_paths(dist, n);
	for (guint i = 0; i < n * n; i++) {
		const Municipality *from = region->municipalities->pdata[i / n];

		if (dist[i] == G_MAXUINT) {
			*ret_from = i / n;
			*ret_to = i % n;
			return FALSE;
		}
		/* A pair as written stays as written: the administrator
		 * knows that road better than a sum of two others. */
		if (given[i] != G_MAXUINT)
			dist[i] = given[i];
		if (i / n == i % n)
			dist[i] = from->internal_travel_minutes;
	}
	g_free(region->travel);
	region->travel = g_steal_pointer(&dist);
	return TRUE;
}

gboolean
region_unit_closed_on(const Unit *unit, const GDate *local_date)
{
	if (unit->closures == NULL || !g_date_valid(local_date))
		return FALSE;
	for (guint i = 0; i < unit->closures->len; i++) {
		const Closure *closure =
			&g_array_index(unit->closures, Closure, i);
		GDate first, last;

		g_date_clear(&first, 1);
		g_date_clear(&last, 1);
		g_date_set_dmy(&first, closure->day, closure->month,
			       closure->year);
		g_date_set_dmy(&last, closure->end_day, closure->end_month,
			       closure->end_year);
		if (g_date_compare(local_date, &first) >= 0 &&
		    g_date_compare(local_date, &last) <= 0)
			return TRUE;
	}
	return FALSE;
}

const char *
language_status_to_string(LanguageStatus status)
{
	switch (status) {
	case LANGUAGE_STATUS_FINNISH:
		return "finnish";
	case LANGUAGE_STATUS_BILINGUAL_FI:
		return "bilingual-fi";
	case LANGUAGE_STATUS_BILINGUAL_SV:
		return "bilingual-sv";
	case LANGUAGE_STATUS_SWEDISH:
		return "swedish";
	}
	return "unknown";
}
