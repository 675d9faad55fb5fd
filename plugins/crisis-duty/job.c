/* crisis-duty: what a request asks of a base — which contact, how many
 * staff, for how long — and whether the base does that contact in the
 * client's municipality at all. */
#include "crisis-duty.h"

#define FIELD_MINUTES_MIN 60
#define FIELD_MINUTES_MAX 120

char *crisis_municipality_label(const SlotdOffering *offering,
				const char *code)
{
	const char *fi = slotd_offering_municipality_name(offering, code, "fi");
	const char *sv = slotd_offering_municipality_name(offering, code, "sv");

	if (fi == NULL)
		return g_strdup(code);
	if (sv == NULL || g_strcmp0(fi, sv) == 0)
		return g_strdup(fi);
	return g_strdup_printf("%s/%s", fi, sv);
}

gboolean crisis_is_swedish(const SlotdRequest *request)
{
	return g_strcmp0(request->language, "sv") == 0;
}

static gboolean resolve_contact(const SlotdRequest *request,
				CrisisContact *ret_contact, GError **error)
{
	const char *text = NULL;

	if (request->options != NULL)
		slotd_request_option(request, "contact", "&s", &text);
	if (text == NULL) {
		*ret_contact = crisis_contact_for_modality(request->modality);
		return TRUE;
	}
	if (!crisis_contact_parse(text, ret_contact)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "contact \"%s\" is not known; use phone, field "
			    "(a visit by a pair) or office", text);
		return FALSE;
	}
	return TRUE;
}

static char *contacts_taken(const CrisisBase *base)
{
	GString *text = g_string_new(NULL);

	for (guint i = 0; i < CRISIS_N_CONTACTS; i++) {
		if (!base->takes[i])
			continue;
		if (text->len > 0)
			g_string_append(text, ", ");
		g_string_append(text, crisis_contact_name(i));
	}
	return g_string_free(text, FALSE);
}

static gboolean check_contact(const SlotdOffering *offering,
			      const CrisisBase *base, CrisisContact contact,
			      GError **error)
{
	g_autofree char *taken = NULL;

	if (base->takes[contact])
		return TRUE;
	taken = contacts_taken(base);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "%s does not take %s contacts (only %s); book it at "
		    "another base of %s", slotd_offering_unit(offering),
		    crisis_contact_name(contact), taken,
		    slotd_offering_service(offering));
	return FALSE;
}

static gboolean check_area(const SlotdOffering *offering,
			   const CrisisBase *base, const char *municipality,
			   GError **error)
{
	g_autoptr(GString) area = NULL;
	g_autofree char *label = NULL;

	if (municipality == NULL || base->municipalities == NULL ||
	    g_strv_contains((const char *const *)base->municipalities,
			    municipality))
		return TRUE;
	area = g_string_new(NULL);
	for (guint i = 0; base->municipalities[i] != NULL; i++) {
		g_autofree char *name = crisis_municipality_label(
			offering, base->municipalities[i]);

		g_string_append_printf(area, "%s%s", i ? ", " : "", name);
	}
	label = crisis_municipality_label(offering, municipality);
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_POLICY_VIOLATION,
		    "%s does not serve %s (its area: %s); book another base "
		    "of %s or the duty of the client's own county",
		    slotd_offering_unit(offering), label, area->str,
		    slotd_offering_service(offering));
	return FALSE;
}

static gboolean field_minutes(const CrisisBase *base,
			      const SlotdRequest *request, guint *ret_minutes,
			      GError **error)
{
	guint32 minutes = base->field_minutes;

	if (request->options != NULL)
		slotd_request_option(request, "field-minutes", "u",
				 &minutes);
	if (minutes < FIELD_MINUTES_MIN || minutes > FIELD_MINUTES_MAX) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "field-minutes must be %u to %u (the time on "
			    "site, travel not included); got %u",
			    FIELD_MINUTES_MIN, FIELD_MINUTES_MAX, minutes);
		return FALSE;
	}
	*ret_minutes = minutes;
	return TRUE;
}

static gboolean plan_field_visit(const SlotdOffering *offering,
				 const CrisisBase *base,
				 const SlotdRequest *request,
				 CrisisJob *ret_job, GError **error)
{
	gint travel;

	if (request->municipality == NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "a field contact needs \"municipality\": where "
			    "the pair goes (the client's location)");
		return FALSE;
	}
	travel = slotd_offering_travel_minutes(
		offering, slotd_offering_municipality(offering),
		request->municipality);
	if (travel < 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "no travel time is known from %s to municipality "
			    "\"%s\"; give a municipality of the region",
			    slotd_offering_unit(offering),
			    request->municipality);
		return FALSE;
	}
	ret_job->travel_minutes = (guint)travel;
	return field_minutes(base, request, &ret_job->task_minutes, error);
}

static gboolean task_minutes(const SlotdOffering *offering,
			     const CrisisBase *base,
			     const SlotdRequest *request, CrisisJob *ret_job,
			     GError **error)
{
	g_autoptr(GVariant) stray = NULL;

	ret_job->travel_minutes = 0;
	switch (ret_job->contact) {
	case CRISIS_CONTACT_FIELD:
		return plan_field_visit(offering, base, request, ret_job,
					error);
	case CRISIS_CONTACT_OFFICE:
		ret_job->task_minutes = base->office_minutes;
		break;
	default:
		ret_job->task_minutes = base->phone_minutes;
		break;
	}
	if (request->options != NULL)
		stray = slotd_request_option_value(request,
					       "field-minutes", NULL);
	if (stray != NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "field-minutes is for field contacts; this is a "
			    "%s contact", crisis_contact_name(ret_job->contact));
		return FALSE;
	}
	return TRUE;
}

gboolean crisis_job_for(const SlotdOffering *offering,
			const SlotdRequest *request, CrisisJob *ret_job,
			GError **error)
{
	const CrisisBase *base = crisis_base(offering);

	if (base == NULL) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
			    "%s was not configured by crisis-duty",
			    slotd_offering_id(offering));
		return FALSE;
	}
	if (!resolve_contact(request, &ret_job->contact, error) ||
	    !check_contact(offering, base, ret_job->contact, error) ||
	    !check_area(offering, base, request->municipality, error) ||
	    !task_minutes(offering, base, request, ret_job, error))
		return FALSE;
	crisis_contact_cost(ret_job->contact, ret_job->task_minutes,
			    ret_job->travel_minutes, &ret_job->cost);
	return TRUE;
}
