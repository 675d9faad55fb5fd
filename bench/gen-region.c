/* slotd-bench-gen: writes the large benchmark region as configuration
 * files. All 17 municipalities of the example's region.conf (copied as
 * is, with its travel matrix), units in each in proportion to its
 * population (about 300 at scale 1), and the example's nine services:
 * the three plugins (crisis-duty, home-hospital, walk-in) and the
 * built-in fixed kind. Beside the configuration it writes bench.ini,
 * which tells the loader and the client what to book and search. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Residents, rounded, 2023 [E]: only the relative sizes matter. */
static const struct {
	const char *code;
	int residents;
} populations[] = {
	{ "049", 310000 }, { "078", 8000 },  { "149", 5500 },
	{ "224", 8600 },   { "235", 10400 }, { "257", 41000 },
	{ "444", 46000 },  { "710", 27500 }, { "755", 6200 },
	{ "927", 29000 },  { "018", 4800 },  { "407", 2600 },
	{ "434", 14600 },  { "504", 1800 },  { "616", 1800 },
	{ "638", 51000 },  { "753", 23000 },
};

typedef enum {
	UNIT_CRISIS,	 /* crisis-duty base */
	UNIT_REMOTE,	 /* remote counselling team (fixed, video) */
	UNIT_STATION,	 /* health station: walk-in and referral slots */
	UNIT_HOSPITAL,	 /* home-hospital base */
	UNIT_ASSESSMENT, /* SHL 36 § needs assessment (fixed) */
	UNIT_THERAPY,	 /* short therapy (fixed) */
} UnitKind;

static const struct {
	const char *tag, *title_fi, *title_sv;
} kinds[] = {
	[UNIT_CRISIS] = { "SKP", "Sosiaali- ja kriisipäivystys",
			  "Social- och krisjouren" },
	[UNIT_REMOTE] = { "DIGI", "Etäpalvelut", "Distanstjänster" },
	[UNIT_STATION] = { "SO", "Sosiaaliohjaus, terveysasema",
			   "Social handledning, hälsostation" },
	[UNIT_HOSPITAL] = { "HH", "Kotisairaala", "Hemsjukhuset" },
	[UNIT_ASSESSMENT] = { "SNA", "Palvelutarpeen arviointi",
			      "Bedömning av servicebehov" },
	[UNIT_THERAPY] = { "TEL", "Lyhytterapia", "Korttidsterapi" },
};

typedef struct {
	char *code;
	char *name_fi;
	char *name_sv;
	char *area;	/* "west" or "east" */
	char *languages;
	int units;
} Municipality;

typedef struct {
	char *example;
	char *out;
	double scale;
	int horizon_days;
	char *http_address;
	GPtrArray *municipalities;
	GString *units;		/* units.conf */
	GString *services[6];	/* services.d, one per UnitKind */
	GPtrArray *offerings;	/* "UNIT/SERVICE" */
	GPtrArray *feed_candidates;
	gboolean crisis_plan[2]; /* the first base of an area has the plan */
} Generator;

static int
residents(const char *code)
{
	for (guint i = 0; i < G_N_ELEMENTS(populations); i++)
		if (g_str_equal(populations[i].code, code))
			return populations[i].residents;
	return 5000;
}

static const char *
languages_for(const char *code, const char *status)
{
	/* Espoo and Kauniainen serve in English too. */
	if (g_str_equal(code, "049") || g_str_equal(code, "235"))
		return "fi;sv;en";
	if (g_str_equal(status, "bilingual-sv") ||
	    g_str_equal(status, "swedish"))
		return "sv;fi";
	if (g_str_equal(status, "finnish"))
		return "fi";
	return "fi;sv";
}

static void
municipality_free(Municipality *m)
{
	g_free(m->code);
	g_free(m->name_fi);
	g_free(m->name_sv);
	g_free(m->area);
	g_free(m->languages);
	g_free(m);
}

static gboolean
read_municipalities(Generator *g, GError **error)
{
	g_autofree char *path = g_build_filename(g->example, "region.conf",
						 NULL);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_auto(GStrv) groups = NULL;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error))
		return FALSE;
	groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i]; i++) {
		Municipality *m;
		g_autofree char *status = NULL;

		if (!g_str_has_prefix(groups[i], "municipality "))
			continue;
		m = g_new0(Municipality, 1);
		m->code = g_strdup(groups[i] + strlen("municipality "));
		m->name_fi = g_key_file_get_string(kf, groups[i], "name-fi",
						   NULL);
		m->name_sv = g_key_file_get_string(kf, groups[i], "name-sv",
						   NULL);
		if (!m->name_sv)
			m->name_sv = g_strdup(m->name_fi);
		m->area = g_key_file_get_string(kf, groups[i], "area", NULL);
		status = g_key_file_get_string(kf, groups[i], "language-status",
					       NULL);
		m->languages = g_strdup(languages_for(m->code,
						      status ? status : ""));
		/* About 300 units at scale 1: 8 + one per 3,500 residents. */
		m->units = MAX(4, (int)lround((8 + residents(m->code) / 3500) *
					      g->scale));
		g_ptr_array_add(g->municipalities, m);
	}
	if (g->municipalities->len == 17)
		return TRUE;
	g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE,
		    "%s: expected the 17 municipalities, found %u", path,
		    g->municipalities->len);
	return FALSE;
}

/* ---- units and offerings ---------------------------------------------- */

static UnitKind
unit_kind(int index)
{
	static const UnitKind first[] = { UNIT_CRISIS, UNIT_REMOTE,
					  UNIT_STATION, UNIT_HOSPITAL,
					  UNIT_ASSESSMENT, UNIT_THERAPY };

	if (index < (int)G_N_ELEMENTS(first))
		return first[index];
	/* The rest are health stations, with a home-hospital team now
	 * and then in the big municipalities. */
	return index % 12 == 0 ? UNIT_HOSPITAL : UNIT_STATION;
}

static const char *
service_for(UnitKind kind, const Municipality *m)
{
	gboolean west = g_str_equal(m->area, "west");

	switch (kind) {
	case UNIT_CRISIS:
		return west ? "crisis-duty-west" : "crisis-duty-east";
	case UNIT_HOSPITAL:
		return west ? "home-hospital-west" : "home-hospital-east";
	case UNIT_ASSESSMENT:
		return west ? "needs-assessment-west" : "needs-assessment-east";
	case UNIT_STATION:
		return "social-counselling-walk-in";
	case UNIT_THERAPY:
		return "short-therapy";
	default:
		return "remote-counselling";
	}
}

static void
write_crisis(Generator *g, GString *out, const Municipality *m, gboolean big)
{
	int area = g_str_equal(m->area, "west") ? 0 : 1;

	g_string_append_printf(
		out,
		"modality=phone\nslot-minutes=15\n"
		"windows=morning;evening;night\n"
		"window-morning=07:00-15:00 FREQ=DAILY\ncapacity-morning=%d\n"
		"window-evening=15:00-23:00 FREQ=DAILY\ncapacity-evening=%d\n"
		"window-night=23:00-07:00 FREQ=DAILY\ncapacity-night=%d\n"
		"contacts=phone;field;office\nmunicipalities=%s\n",
		big ? 4 : 3, big ? 6 : 5, big ? 5 : 4, m->code);
	if (!g->crisis_plan[area]) {
		g->crisis_plan[area] = TRUE;
		g_string_append(out, "contacts-per-month=1200\n"
				     "handling-minutes=75\ntarget-seconds=60\n"
				     "service-level=0.8\n");
	}
}

static void
write_hospital(GString *out, const Municipality *m, gboolean big)
{
	g_string_append_printf(
		out,
		"modality=home\nslot-minutes=30\nwindows=day;evening;night\n"
		"window-day=07:00-15:30 FREQ=DAILY\n"
		"window-evening=14:30-22:30 FREQ=DAILY\n"
		"window-night=22:00-07:30 FREQ=DAILY\n"
		"capacity-day=%d\ncapacity-evening=%d\ncapacity-night=%d\n"
		"covers=%s\n",
		big ? 6 : 4, big ? 5 : 3, big ? 2 : 1, m->name_fi);
}

/* A weekly walk-in session on one weekday and 45-minute referral slots
 * the rest of office hours, as at the example's Espoo stations. */
static void
write_station(GString *out, int index)
{
	static const char *const days[] = { "MO", "TU", "WE", "TH", "FR" };
	const char *day = days[index % 5];
	g_autoptr(GString) others = g_string_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(days); i++)
		if (days[i] != day)
			g_string_append_printf(others, "%s%s",
					       others->len ? "," : "", days[i]);
	g_string_append_printf(
		out,
		"closed-on-holidays=true\nmax-travel-minutes=45\n"
		"windows=session;referral;referral-short\n"
		"referral-windows=referral;referral-short\n"
		"window-session=14:00-16:00 FREQ=WEEKLY;BYDAY=%s\n"
		"window-referral=08:00-16:00 FREQ=WEEKLY;BYDAY=%s\n"
		"window-referral-short=08:00-14:00 FREQ=WEEKLY;BYDAY=%s\n"
		"referral-minutes=45\n",
		day, others->str, day);
}

#define WEEKDAYS "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"

static void
write_fixed(GString *out, UnitKind kind)
{
	if (kind == UNIT_ASSESSMENT)
		g_string_append(out, "modality=home\nslot-minutes=90\n"
				"seats=3\nmax-travel-minutes=60\n"
				"closed-on-holidays=true\n"
				"windows=morning;midday;afternoon\n"
				"window-morning=08:30-10:00 " WEEKDAYS "\n"
				"window-midday=11:00-12:30 " WEEKDAYS "\n"
				"window-afternoon=13:30-15:00 " WEEKDAYS "\n");
	else if (kind == UNIT_THERAPY)
		g_string_append(out, "slot-minutes=60\nseats=3\n"
				"closed-on-holidays=true\n"
				"windows=morning;afternoon\n"
				"window-morning=08:00-11:00 " WEEKDAYS "\n"
				"window-afternoon=12:00-15:00 " WEEKDAYS "\n");
	else /* the team the benchmark books from: a few seats a slot */
		g_string_append(out, "modality=video\nslot-minutes=30\n"
				"seats=6\nclosed-on-holidays=true\n"
				"windows=day\n"
				"window-day=09:00-15:00 " WEEKDAYS "\n");
}

static void
write_unit(Generator *g, const Municipality *m, int index)
{
	UnitKind kind = unit_kind(index);
	g_autofree char *id = g_strdup_printf(
		"%c-%s-%s%02d", g_str_equal(m->area, "west") ? 'W' : 'E',
		m->code, kinds[kind].tag, index + 1);
	const char *service = service_for(kind, m);
	GString *out = g->services[kind];
	gboolean big = m->units >= 20;

	g_string_append_printf(g->units,
			       "[unit %s]\nmunicipality=%s\n"
			       "title-fi=%s %d, %s\ntitle-sv=%s %d, %s\n"
			       "languages=%s\n\n",
			       id, m->code, kinds[kind].title_fi, index + 1,
			       m->name_fi, kinds[kind].title_sv, index + 1,
			       m->name_sv, m->languages);
	g_string_append_printf(out, "[offering %s %s]\nlanguages=%s\n", id,
			       service, m->languages);
	if (kind == UNIT_CRISIS)
		write_crisis(g, out, m, big);
	else if (kind == UNIT_HOSPITAL)
		write_hospital(out, m, big);
	else if (kind == UNIT_STATION)
		write_station(out, index);
	else
		write_fixed(out, kind);
	g_string_append(out, "\n");
	g_ptr_array_add(g->offerings, g_strdup_printf("%s/%s", id, service));
	if (kind == UNIT_CRISIS || kind == UNIT_HOSPITAL)
		g_ptr_array_add(g->feed_candidates, g_strdup(id));
}

/* ---- files -------------------------------------------------------------- */

static const char service_groups[] =
	"[service crisis-duty-west]\nplugin=crisis-duty\n"
	"title-fi=Länsi-Uudenmaan sosiaali- ja kriisipäivystys\n"
	"title-sv=Social- och krisjouren i Västra Nyland\n\n"
	"[service crisis-duty-east]\nplugin=crisis-duty\n"
	"title-fi=Itä-Uudenmaan sosiaali- ja kriisipäivystys\n"
	"title-sv=Social- och krisjouren i Östra Nyland\n\n"
	"[service home-hospital-west]\nplugin=home-hospital\n"
	"title-fi=Kotisairaala, Länsi-Uusimaa\n"
	"title-sv=Hemsjukhuset, Västra Nyland\n\n"
	"[service home-hospital-east]\nplugin=home-hospital\n"
	"title-fi=Alueellinen kotisairaala, Itä-Uusimaa\n"
	"title-sv=Regionala hemsjukhuset, Östra Nyland\n\n"
	"[service social-counselling-walk-in]\nplugin=walk-in\n"
	"title-fi=Sosiaaliohjaus terveysasemalla (walk-in)\n"
	"title-sv=Socialhandledning på hälsostationen (walk-in)\n\n"
	"[service needs-assessment-west]\nplugin=fixed\n"
	"title-fi=Palvelutarpeen arviointi (SHL 36 §), Länsi-Uusimaa\n"
	"title-sv=Bedömning av servicebehov, Västra Nyland\n"
	"deadlines=priority\ndeadline-priority=7 working-days\n"
	"deadline-priority-ages=75-\ndeadline-priority-ref=SHL 36 §\n\n"
	"[service needs-assessment-east]\nplugin=fixed\n"
	"title-fi=Palvelutarpeen arviointi (SHL 36 §), Itä-Uusimaa\n"
	"title-sv=Bedömning av servicebehov, Östra Nyland\n"
	"deadlines=priority\ndeadline-priority=7 working-days\n"
	"deadline-priority-ages=75-\ndeadline-priority-ref=SHL 36 §\n\n"
	"[service short-therapy]\nplugin=fixed\n"
	"title-fi=Lyhytterapia\ntitle-sv=Korttidsterapi\n\n"
	"[service remote-counselling]\nplugin=fixed\n"
	"title-fi=Etäsosiaaliohjaus videolla\n"
	"title-sv=Social handledning på distans via video\n\n";

static gboolean
write_file(const char *dir, const char *name, const char *header,
	   const char *text, GError **error)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *all = g_strconcat(
		"# Generated by slotd-bench-gen for the benchmark; "
		"do not edit.\n\n", header, text, NULL);

	return g_file_set_contents(path, all, -1, error);
}

static gboolean
copy_region(Generator *g, GError **error)
{
	g_autofree char *from = g_build_filename(g->example, "region.conf",
						 NULL);
	g_autofree char *to = g_build_filename(g->out, "region.conf", NULL);
	g_autofree char *text = NULL;
	gsize length;

	return g_file_get_contents(from, &text, &length, error) &&
	       g_file_set_contents(to, text, (gssize)length, error);
}

static gboolean
write_entry(Generator *g, GError **error)
{
	g_autofree char *text = g_strdup_printf(
		"[daemon]\ninclude=region.conf;units.conf\n"
		"service-dir=services.d\nhorizon-days=%d\n"
		"hold-max-seconds=900\nhttp-address=%s\n"
		"feed-refresh-minutes=15\ncancelled-feed-days=14\n\n"
		"[access]\nread-groups=slotd-read\nbook-groups=slotd-book\n"
		"admin-groups=slotd-admin\n\n[region]\nid=nyland-bench\n"
		"name-fi=Länsi- ja Itä-Uusimaa (benchmark)\n"
		"name-sv=Västra och Östra Nyland (benchmark)\n",
		g->horizon_days, g->http_address);

	return write_file(g->out, "slotd.conf", "", text, error);
}

static char *
join(GPtrArray *strings)
{
	GString *list = g_string_new(NULL);

	for (guint i = 0; i < strings->len; i++)
		g_string_append_printf(list, "%s%s", i ? ";" : "",
				       (char *)strings->pdata[i]);
	return g_string_free(list, FALSE);
}

static gboolean
write_meta(Generator *g, guint units, GError **error)
{
	g_autofree char *offerings = join(g->offerings);
	g_autofree char *feeds = join(g->feed_candidates);
	g_autofree char *text = g_strdup_printf(
		"[bench]\nunits=%u\noffering-count=%u\nhorizon-days=%d\n"
		"find-service=social-counselling-walk-in\n"
		"find-municipality=049\nfind-language=fi\n"
		"book-service=remote-counselling\nbook-language=fi\n"
		"keep-free-services=remote-counselling\n"
		"keep-one-seat-services=social-counselling-walk-in\n"
		"feed-candidates=%s\nofferings=%s\n",
		units, g->offerings->len, g->horizon_days, feeds, offerings);

	return write_file(g->out, "bench.ini", "", text, error);
}

static gboolean
write_services(Generator *g, GError **error)
{
	g_autofree char *dir = g_build_filename(g->out, "services.d", NULL);
	g_autofree char *other = g_strconcat(
		g->services[UNIT_ASSESSMENT]->str,
		g->services[UNIT_THERAPY]->str, g->services[UNIT_REMOTE]->str,
		NULL);

	if (g_mkdir_with_parents(dir, 0755) < 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
			    "cannot create %s", dir);
		return FALSE;
	}
	return write_file(dir, "00-services.conf", service_groups, "", error) &&
	       write_file(dir, "crisis-duty.conf", "",
			  g->services[UNIT_CRISIS]->str, error) &&
	       write_file(dir, "home-hospital.conf", "",
			  g->services[UNIT_HOSPITAL]->str, error) &&
	       write_file(dir, "walk-in.conf", "",
			  g->services[UNIT_STATION]->str, error) &&
	       write_file(dir, "other-services.conf", "", other, error);
}

static gboolean
generate(Generator *g, GError **error)
{
	guint units = 0;

	if (!read_municipalities(g, error))
		return FALSE;
	for (guint i = 0; i < g->municipalities->len; i++) {
		const Municipality *m = g->municipalities->pdata[i];

		for (int u = 0; u < m->units; u++)
			write_unit(g, m, u);
		units += (guint)m->units;
	}
	if (g_mkdir_with_parents(g->out, 0755) < 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
			    "cannot create %s", g->out);
		return FALSE;
	}
	if (!copy_region(g, error) || !write_entry(g, error) ||
	    !write_file(g->out, "units.conf", "", g->units->str, error) ||
	    !write_services(g, error) || !write_meta(g, units, error))
		return FALSE;
	printf("%u units, %u offerings in %s\n", units, g->offerings->len,
	       g->out);
	return TRUE;
}

int
main(int argc, char **argv)
{
	Generator g = { NULL, NULL, 1.0, 120, NULL };
	GOptionEntry entries[] = {
		{ "example", 0, 0, G_OPTION_ARG_FILENAME, &g.example,
		  "The example configuration (for region.conf)", "DIR" },
		{ "out", 0, 0, G_OPTION_ARG_FILENAME, &g.out,
		  "Directory to write", "DIR" },
		{ "scale", 0, 0, G_OPTION_ARG_DOUBLE, &g.scale,
		  "Units per municipality, 1 = about 300 in all", "F" },
		{ "horizon-days", 0, 0, G_OPTION_ARG_INT, &g.horizon_days,
		  "Slot horizon", "N" },
		{ "http-address", 0, 0, G_OPTION_ARG_STRING, &g.http_address,
		  "Feed server address (empty: none)", "HOST:PORT" },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("- write the benchmark region");
	g_autoptr(GError) error = NULL;
	gboolean ok;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) ||
	    !g.example || !g.out) {
		fprintf(stderr, "slotd-bench-gen: %s\n",
			error ? error->message : "--example and --out needed");
		return 2;
	}
	if (!g.http_address)
		g.http_address = g_strdup("");
	g.municipalities = g_ptr_array_new_with_free_func(
		(GDestroyNotify)municipality_free);
	g.units = g_string_new(NULL);
	for (guint i = 0; i < G_N_ELEMENTS(g.services); i++)
		g.services[i] = g_string_new(NULL);
	g.offerings = g_ptr_array_new_with_free_func(g_free);
	g.feed_candidates = g_ptr_array_new_with_free_func(g_free);
	ok = generate(&g, &error);
	if (!ok)
		fprintf(stderr, "slotd-bench-gen: %s\n", error->message);
	g_ptr_array_unref(g.municipalities);
	g_string_free(g.units, TRUE);
	for (guint i = 0; i < G_N_ELEMENTS(g.services); i++)
		g_string_free(g.services[i], TRUE);
	g_ptr_array_unref(g.offerings);
	g_ptr_array_unref(g.feed_candidates);
	g_free(g.example);
	g_free(g.out);
	g_free(g.http_address);
	return ok ? 0 : 1;
}
