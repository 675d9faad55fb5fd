/* crisis-duty: reading and checking a base's keys of its
 * [offering UNIT SERVICE] group. */
#include "crisis-duty.h"

static void crisis_base_free(gpointer data)
{
	CrisisBase *base = data;

	g_strfreev(base->municipalities);
	g_array_unref(base->shifts);
	g_free(base);
}

const CrisisBase *crisis_base(const SlotdOffering *offering)
{
	return slotd_offering_get_data(offering);
}

guint crisis_swedish_speakers(const CrisisBase *base, const char *shift)
{
	for (guint i = 0; i < base->shifts->len; i++) {
		const CrisisShift *s =
			&g_array_index(base->shifts, CrisisShift, i);

		if (g_strcmp0(s->window, shift) == 0)
			return s->swedish_speakers;
	}
	return 0;
}

static gboolean read_uint(SlotdOffering *offering, const char *key,
			  guint fallback, guint min, guint max,
			  guint *ret_value, GError **error)
{
	gint64 value;

	if (!slotd_offering_get_int(offering, key, fallback, min, max, &value,
				    error))
		return FALSE;
	*ret_value = (guint)value;
	return TRUE;
}

static gboolean read_contacts(SlotdOffering *offering, CrisisBase *base,
			      GError **error)
{
	g_auto(GStrv) names = NULL;

	if (!slotd_offering_get_string_list(offering, "contacts", &names,
					    error))
		return FALSE;
	if (names == NULL) {
		for (guint i = 0; i < CRISIS_N_CONTACTS; i++)
			base->takes[i] = TRUE;
		return TRUE;
	}
	for (guint i = 0; names[i] != NULL; i++) {
		CrisisContact contact;

		if (!crisis_contact_parse(names[i], &contact)) {
			slotd_offering_config_error(
				offering, "contacts", error,
				"unknown contact \"%s\"; use phone, field "
				"or office", names[i]);
			return FALSE;
		}
		base->takes[contact] = TRUE;
	}
	if (names[0] == NULL) {
		slotd_offering_config_error(offering, "contacts", error,
					    "list at least one of phone, "
					    "field and office");
		return FALSE;
	}
	return TRUE;
}

static gboolean read_municipalities(SlotdOffering *offering,
				    CrisisBase *base, GError **error)
{
	const char *home = slotd_offering_municipality(offering);

	if (!slotd_offering_get_string_list(offering, "municipalities",
					    &base->municipalities, error))
		return FALSE;
	for (guint i = 0; base->municipalities &&
			  base->municipalities[i] != NULL; i++) {
		const char *code = base->municipalities[i];

		if (slotd_offering_municipality_name(offering, code, "fi") ==
			    NULL ||
		    slotd_offering_travel_minutes(offering, home, code) < 0) {
			slotd_offering_config_error(
				offering, "municipalities", error,
				"unknown municipality \"%s\"; use the "
				"Statistics Finland code of a municipality of "
				"the region (e.g. 444 for Lohja)", code);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean read_shift(SlotdOffering *offering, const char *window,
			   CrisisShift *ret_shift, GError **error)
{
	g_autofree char *staff_key = g_strdup_printf("capacity-%s", window);
	g_autofree char *sv_key = g_strdup_printf("swedish-speakers-%s",
						  window);
	gboolean has_sv = slotd_offering_has_language(offering, "sv");

	ret_shift->window = g_intern_string(window);
	/* The core owns capacity-NAME; read here only to bound the
	 * Swedish speakers by the shift's staff. */
	if (!read_uint(offering, staff_key, slotd_offering_seats(offering), 0,
		       G_MAXINT32, &ret_shift->staff, error))
		return FALSE;
	if (!read_uint(offering, sv_key,
		       has_sv && ret_shift->staff > 0 ? 1 : 0, 0, G_MAXINT32,
		       &ret_shift->swedish_speakers, error))
		return FALSE;
	if (ret_shift->swedish_speakers > ret_shift->staff) {
		slotd_offering_config_error(
			offering, sv_key, error,
			"%u Swedish speakers but the %s shift has %u staff "
			"(%s)", ret_shift->swedish_speakers, window,
			ret_shift->staff, staff_key);
		return FALSE;
	}
	if (ret_shift->swedish_speakers > 0 && !has_sv) {
		slotd_offering_config_error(
			offering, sv_key, error,
			"the offering does not list sv in its languages; add "
			"it or set this to 0");
		return FALSE;
	}
	return TRUE;
}

static gboolean read_shifts(SlotdOffering *offering, CrisisBase *base,
			    GError **error)
{
	const char *const *windows = slotd_offering_windows(offering);

	base->shifts = g_array_new(FALSE, TRUE, sizeof(CrisisShift));
	for (guint i = 0; windows && windows[i] != NULL; i++) {
		CrisisShift shift = { 0 };

		if (!read_shift(offering, windows[i], &shift, error))
			return FALSE;
		g_array_append_val(base->shifts, shift);
	}
	return TRUE;
}

static gboolean read_times(SlotdOffering *offering, CrisisBase *base,
			   GError **error)
{
	return read_uint(offering, "phone-minutes", 30, 5, 240,
			 &base->phone_minutes, error) &&
	       read_uint(offering, "field-minutes", 90, 60, 120,
			 &base->field_minutes, error) &&
	       read_uint(offering, "office-minutes", 60, 15, 240,
			 &base->office_minutes, error) &&
	       read_uint(offering, "urgent-hours", 3, 1, 72,
			 &base->urgent_hours, error) &&
	       read_uint(offering, "immediate-minutes", 30, 5, 240,
			 &base->immediate_minutes, error);
}

static gboolean read_profile(SlotdOffering *offering, const char *key,
			     double *ret_weights, guint n, GError **error)
{
	g_auto(GStrv) texts = NULL;
	g_autoptr(GError) local = NULL;

	if (!slotd_offering_get_string_list(offering, key, &texts, error))
		return FALSE;
	if (texts == NULL)
		return TRUE;
	if (!crisis_profile_parse((const char *const *)texts, ret_weights, n,
				  &local)) {
		slotd_offering_config_error(offering, key, error, "%s",
					    local->message);
		return FALSE;
	}
	return TRUE;
}

static gboolean read_plan(SlotdOffering *offering, CrisisPlanConfig *plan,
			  GError **error)
{
	crisis_profile_default(&plan->profile);
	plan->contacts_given = slotd_offering_has_key(offering,
						      "contacts-per-month");
	return slotd_offering_get_double(offering, "contacts-per-month", 0, 0,
					 1e6, &plan->contacts_per_month,
					 error) &&
	       slotd_offering_get_double(offering, "handling-minutes", 45, 1,
					 1440, &plan->handling_minutes,
					 error) &&
	       read_uint(offering, "target-seconds", 60, 1, 3600,
			 &plan->target_seconds, error) &&
	       slotd_offering_get_double(offering, "service-level", 0.8, 0.01,
					 0.999, &plan->service_level, error) &&
	       read_profile(offering, "arrival-hour-profile",
			    plan->profile.hour, 24, error) &&
	       read_profile(offering, "arrival-day-profile", plan->profile.day,
			    7, error) &&
	       read_uint(offering, "history-weeks", 8, 1, 52,
			 &plan->history_weeks, error) &&
	       read_uint(offering, "history-min-contacts", 200, 1, 1000000,
			 &plan->history_min_contacts, error);
}

gboolean crisis_configure(SlotdOffering *offering, GError **error)
{
	CrisisBase *base = g_new0(CrisisBase, 1);

	if (!read_contacts(offering, base, error) ||
	    !read_municipalities(offering, base, error) ||
	    !read_shifts(offering, base, error) ||
	    !read_times(offering, base, error) ||
	    !read_plan(offering, &base->plan, error)) {
		if (base->shifts == NULL)
			base->shifts = g_array_new(FALSE, TRUE,
						   sizeof(CrisisShift));
		crisis_base_free(base);
		return FALSE;
	}
	slotd_offering_set_data(offering, base, crisis_base_free);
	return TRUE;
}
