/* slotctl as people read it (issue 18): times in Europe/Helsinki on
 * the two clock-change days, with the UTC offset where the autumn
 * night's hour repeats; no epoch seconds; find's flags checked and
 * named; why nothing was found; what book, cancel and reload say; the
 * nearest-first order; and the same in Finnish and Swedish. slotd runs
 * on a private bus with its clock set by SLOTD_TEST_TIME. */
#include <glib/gstdio.h>
#include <string.h>

#include "harness.h"

#define CRISIS "crisis-duty-west"
#define SNA "needs-assessment-west"
#define WALK_IN "social-counselling-walk-in"

/* Runs slotctl in `lang` ("en", "fi", "sv") with the build tree's
 * catalogues; returns the exit status. */
static int
ctl(Harness *h, const char *lang, char **out, char **err, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *localedir = g_build_filename(harness_build_root(),
						      "po", NULL);
	const char *arg;
	va_list ap;

	/* env(1): the test's own environment stays as it is. */
	g_ptr_array_add(argv, g_strdup("env"));
	g_ptr_array_add(argv, g_strconcat("SLOTCTL_LOCALEDIR=", localedir,
					  NULL));
	g_ptr_array_add(argv, g_strdup("LC_ALL=C.UTF-8"));
	g_ptr_array_add(argv, g_strconcat("LANGUAGE=", lang, NULL));
	g_ptr_array_add(argv, g_build_filename(harness_build_root(), "tools",
					       "slotctl", NULL));
	g_ptr_array_add(argv, g_strdup("--address"));
	g_ptr_array_add(argv, g_strdup(h->address));
	va_start(ap, err);
	while ((arg = va_arg(ap, const char *)))
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	return harness_run(h, out, err, (const char *const *)argv->pdata);
}

static void
start_at(Harness *h, int year, int month, int day, int hour, int minute)
{
	harness_init(h);
	h->horizon_days = 14;
	h->test_time = g_strdup_printf("%" G_GINT64_FORMAT,
				       harness_local(year, month, day, hour,
						     minute));
	harness_start_slotd(h, NULL);
}

/* The first line with its runs of blanks made one. */
static char *
header(const char *text)
{
	g_autofree char *line = g_strndup(text, strcspn(text, "\n"));
	g_autoptr(GRegex) blanks = g_regex_new("  +", 0, 0, NULL);

	return g_regex_replace_literal(blanks, line, -1, 0, " ", 0, NULL);
}

static void
assert_contains(const char *text, const char *part)
{
	if (!strstr(text, part))
		g_error("expected “%s” in:\n%s", part, text);
}

static void
assert_no_epoch(const char *text)
{
	g_assert_false(g_regex_match_simple("(^|[^0-9-])1[0-9]{9}([^0-9]|$)",
					    text, G_REGEX_MULTILINE, 0));
}

static const char *const find_headers[][2] = {
	{ "en", "SLOT UNIT START END FREE MUNICIPALITY LANGUAGES MODALITY "
		"KIND PRACTITIONER MODALITIES" },
	{ "fi", "AIKA YKSIKKÖ ALKAA PÄÄTTYY VAPAANA KUNTA KIELET "
		"ASIOINTITAPA TYYPPI TYÖNTEKIJÄ ASIOINTITAVAT" },
	{ "sv", "TID ENHET BÖRJAR SLUTAR LEDIGA KOMMUN SPRÅK KONTAKTSÄTT TYP "
		"PERSONAL ALLA KONTAKTSÄTT" },
};

/* 2026-10-25: 03:00–04:00 happens twice. Each row says which. */
static void
test_autumn_night(void)
{
	Harness h = { 0 };
	g_autofree char *out = NULL, *err = NULL;

	start_at(&h, 2026, 10, 24, 12, 0);
	for (guint i = 0; i < G_N_ELEMENTS(find_headers); i++) {
		g_autofree char *head = NULL;

		g_assert_cmpint(ctl(&h, find_headers[i][0], &out, &err, "find",
				    CRISIS, "--from", "2026-10-25T02:30",
				    "--to", "2026-10-25T04:30", "--modality",
				    "phone", "--limit", "20", NULL), ==, 0);
		head = header(out);
		g_assert_cmpstr(head, ==, find_headers[i][1]);
		/* 02:45 once, 03:30 twice with its offsets, 04:15 once */
		assert_contains(out, "2026-10-25 02:45  ");
		assert_contains(out, "2026-10-25 03:30+03:00  "
				     "2026-10-25 03:45+03:00");
		assert_contains(out, "2026-10-25 03:30+02:00  "
				     "2026-10-25 03:45+02:00");
		assert_contains(out, "2026-10-25 04:15  ");
		/* the first hour's last slot ends at the second 03:00, so
		 * it never reads "03:45 → 03:00" */
		assert_contains(out, "2026-10-25 03:45+03:00  "
				     "2026-10-25 03:00+02:00");
		g_assert_false(g_regex_match_simple(
			"2026-10-25 03:[0-5][0-9] ", out, 0, 0));
		assert_no_epoch(out);
	}
	/* JSON keeps its ISO 8601 offsets. */
	g_assert_cmpint(ctl(&h, "en", &out, NULL, "--json", "find", CRISIS,
			    "--from", "2026-10-25T03:30+02:00", "--modality",
			    "phone", "--limit", "1", NULL), ==, 0);
	assert_contains(out, "\"2026-10-25T03:30:00+02:00\"");
	harness_finish(&h, 0);
}

/* 2026-03-29: 03:00–04:00 does not exist in Helsinki. */
static void
test_spring_night(void)
{
	Harness h = { 0 };
	g_autofree char *out = NULL, *err = NULL;

	start_at(&h, 2026, 3, 28, 12, 0);
	g_assert_cmpint(ctl(&h, "en", &out, &err, "find", CRISIS, "--from",
			    "2026-03-29T02:30", "--to", "2026-03-29T04:30",
			    "--modality", "phone", "--limit", "20", NULL),
			==, 0);
	assert_contains(out, "2026-03-29 02:45  2026-03-29 04:00");
	assert_contains(out, "2026-03-29 04:00  2026-03-29 04:15");
	g_assert_null(strstr(out, "2026-03-29 03:"));
	g_assert_null(strstr(out, "+0"));
	/* A time in the gap, in a service without night slots. */
	g_assert_cmpint(ctl(&h, "en", &out, &err, "find", SNA, "--from",
			    "2026-03-29 03:30", "--to", "2026-03-29 03:50",
			    NULL), ==, 0);
	g_assert_cmpstr(out, ==, "");
	assert_contains(err, "No free slots match.\n");
	assert_contains(err, "2026-03-29 03:30 does not exist in Helsinki");
	assert_contains(err, "read as 2026-03-29 04:30");
	g_assert_cmpint(ctl(&h, "fi", &out, &err, "find", SNA, "--from",
			    "2026-03-29 03:30", "--to", "2026-03-29 03:50",
			    NULL), ==, 0);
	assert_contains(err, "Hakuun sopivia vapaita aikoja ei löytynyt.\n");
	assert_contains(err, "2026-03-29 03:30 ei ole olemassa Helsingin "
			     "ajassa");
	g_assert_cmpint(ctl(&h, "sv", &out, &err, "find", SNA, "--from",
			    "2026-03-29 03:30", "--to", "2026-03-29 03:50",
			    NULL), ==, 0);
	assert_contains(err, "Inga lediga tider matchar.\n");
	assert_contains(err, "2026-03-29 03:30 finns inte i Helsingfors");
	harness_finish(&h, 0);
}

typedef struct {
	const char *value;
	const char *en;
} BadLimit;

/* find's flags: named errors (exit 2), more rows, and why none. */
static void
test_find_flags_and_reasons(void)
{
	static const BadLimit bad[] = {
		{ "0", "--limit must be at least 1" },
		{ "-3", "--limit must not be negative (“-3”); give 1 to 2000" },
		{ "abc", "--limit takes a whole number from 1 to 2000, not "
			 "“abc”" },
		{ "2001", "--limit is at most 2000, slotd's largest answer "
			  "(not 2001)" },
	};
	Harness h = { 0 };
	g_autofree char *out = NULL, *err = NULL;

	start_at(&h, 2026, 12, 7, 7, 0);
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_assert_cmpint(ctl(&h, "en", &out, &err, "find", SNA,
				    "--limit", bad[i].value, NULL), ==, 2);
		assert_contains(err, bad[i].en);
	}
	g_assert_cmpint(ctl(&h, "sv", &out, &err, "find", SNA, "--limit",
			    "0", NULL), ==, 2);
	assert_contains(err, "--limit ska vara minst 1");
	g_assert_cmpint(ctl(&h, "en", &out, &err, "find", SNA, "--urgency",
			    "soon", NULL), ==, 2);
	assert_contains(err, "--urgency must be one of routine, urgent, "
			     "immediate, not “soon”");
	g_assert_cmpint(ctl(&h, "en", &out, &err, "find", SNA, "--order",
			    "closest", NULL), ==, 2);
	assert_contains(err, "--order must be one of earliest, nearest, "
			     "not “closest”");
	g_assert_cmpint(ctl(&h, "en", &out, &err, "find", SNA, "--urgency",
			    "urgent", "--limit", "2", NULL), ==, 0);
	{
		g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

		g_assert_cmpuint(g_strv_length(lines), ==, 4); /* head, 2, "" */
	}
	assert_contains(err, "More slots match than these 2");
	/* JSON: exactly the rows asked for, nothing on stderr */
	g_assert_cmpint(ctl(&h, "en", &out, &err, "--json", "find", SNA,
			    "--limit", "1", NULL), ==, 0);
	g_assert_cmpstr(err, ==, "");

	/* why nothing */
	g_assert_cmpint(ctl(&h, "en", &out, &err, "find", SNA, "--from",
			    "2026-12-01", "--to", "2026-12-02", NULL), ==, 0);
	assert_contains(err, "No free slots match.\n");
	assert_contains(err, "--from 2026-12-01 is in the past (slotd's clock "
			     "says 2026-12-07 07:00");
	g_assert_cmpint(ctl(&h, "en", &out, &err, "find", SNA, "--from",
			    "2027-06-01", NULL), ==, 0);
	assert_contains(err, "--from 2027-06-01 is past the horizon: slots "
			     "exist 14 days ahead, until 2026-12-21 07:00");
	g_assert_cmpint(ctl(&h, "en", &out, &err, "find", "short-therapy",
			    "--language", "en", NULL), ==, 0);
	assert_contains(err, "no unit has free slots in en then; without "
			     "--language there are");
	g_assert_cmpint(ctl(&h, "en", &out, &err, "find", SNA, "--modality",
			    "video", NULL), ==, 0);
	assert_contains(err, "no unit has free video slots then; without "
			     "--modality there are");

	/* nearest first: Lohja's own unit, then by travel; a bad order is
	 * refused by slotd too */
	g_assert_cmpint(ctl(&h, "en", &out, &err, "--json", "find", SNA,
			    "--municipality", "Lohja", "--order", "nearest",
			    "--limit", "8", NULL), ==, 0);
	{
		g_autoptr(GRegex) muni = g_regex_new(
			"\"municipality\": \"([0-9]+)\"", 0, 0, NULL);
		g_autoptr(GMatchInfo) match = NULL;
		guint n = 0;

		g_assert_true(g_regex_match(muni, out, 0, &match));
		for (; g_match_info_matches(match); n++) {
			g_autofree char *code = g_match_info_fetch(match, 1);

			g_assert_cmpstr(code, ==, "444");
			g_match_info_next(match, NULL);
		}
		g_assert_cmpuint(n, ==, 8);
	}
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GVariant) reply = harness_call(
			&h, "org.slotd.Scheduler1", "FindSlots",
			g_variant_new_parsed("('needs-assessment-west', "
					     "{'order': <'closest'>})"),
			"(a(ssxxua{sv}))", &error);

		g_assert_null(reply);
		harness_assert_dbus_error(
			error, "org.freedesktop.DBus.Error.InvalidArgs");
		g_assert_nonnull(strstr(error->message, "'order'"));
	}
	harness_finish(&h, 0);
}

/* A walk-in check-in prints its ticket; a second cancel says so; show
 * has no epoch seconds; reload says what changed. */
static void
test_book_cancel_show_reload(void)
{
	Harness h = { 0 };
	g_autofree char *out = NULL, *err = NULL, *session = NULL;
	g_autofree char *ticket = NULL, *visit = NULL, *slot = NULL;
	g_autoptr(GRegex) session_re = g_regex_new(
		"^(s-[0-9]+) .* session\\b", G_REGEX_MULTILINE, 0, NULL);
	g_autoptr(GMatchInfo) match = NULL;

	start_at(&h, 2026, 12, 14, 13, 0);
	g_assert_cmpint(ctl(&h, "en", &out, &err, "find", WALK_IN,
			    "--municipality", "Lohja", NULL), ==, 0);
	g_assert_true(g_regex_match(session_re, out, 0, &match));
	session = g_match_info_fetch(match, 1);
	g_assert_cmpint(ctl(&h, "en", &ticket, &err, "book", session, "",
			    NULL), ==, 0);
	g_assert_true(g_regex_match_simple("^b-[0-9]+\n$", ticket, 0, 0));
	assert_contains(err, "Ticket 1, number 1 in the queue, estimated start "
			     "2026-12-14 13:0");
	g_assert_cmpint(ctl(&h, "fi", &out, &err, "book", session, "", NULL),
			==, 0);
	assert_contains(err, "Vuoronumero 2, 2. jonossa, arvioitu "
			     "alkamisaika 2026-12-14 13:");
	g_assert_cmpint(ctl(&h, "sv", &out, &err, "--json", "book", session,
			    "", NULL), ==, 0);
	assert_contains(out, "\"ticket\": 3,\n  \"position\": 3,");

	g_strstrip(ticket);
	g_assert_cmpint(ctl(&h, "en", &out, &err, "cancel", ticket, NULL), ==,
			0);
	g_assert_cmpstr(err, ==, "");
	g_assert_cmpint(ctl(&h, "en", &out, &err, "cancel", ticket, NULL), ==,
			0);
	{
		g_autofree char *expected = g_strdup_printf(
			"^Booking %s was already cancelled \\(2026-12-14 "
			"13:00(:[0-5][0-9])?\\); nothing changed.\n$", ticket);

		if (!g_regex_match_simple(expected, err, 0, 0))
			g_error("expected /%s/, got “%s”", expected, err);
	}
	g_assert_cmpint(ctl(&h, "sv", &out, &err, "cancel", ticket, NULL), ==,
			0);
	assert_contains(err, "var redan avbokad");

	/* an urgent crisis field visit: respond-by, on-site-from/until */
	g_assert_cmpint(ctl(&h, "en", &out, &err, "--json", "find", CRISIS,
			    "--municipality", "Lohja", "--modality", "home",
			    "--urgency", "urgent", "--limit", "1", NULL), ==, 0);
	{
		g_autoptr(GRegex) re = g_regex_new("\"slot\": \"(s-[0-9]+)\"",
						   0, 0, NULL);
		g_autoptr(GMatchInfo) m = NULL;

		g_assert_true(g_regex_match(re, out, 0, &m));
		slot = g_match_info_fetch(m, 1);
	}
	g_assert_cmpint(ctl(&h, "en", &visit, &err, "book", slot, "c-18",
			    "--municipality", "Lohja", "--modality", "home",
			    "--urgency", "urgent", NULL), ==, 0);
	assert_contains(err, "Booked at W-SKP-LOH, 2026-12-14 ");
	g_strstrip(visit);
	g_assert_cmpint(ctl(&h, "en", &out, &err, "show", visit, NULL), ==, 0);
	assert_contains(out, "\nrespond-by:");
	assert_contains(out, "\non-site-from:");
	assert_contains(out, "\non-site-until:");
	assert_no_epoch(out);
	g_assert_true(g_regex_match_simple("^respond-by: +2026-12-14 [0-9:]+$",
					   out, G_REGEX_MULTILINE, 0));
	g_assert_cmpint(ctl(&h, "fi", &out, &err, "show", visit, NULL), ==, 0);
	assert_contains(out, "\nvastattava viimeistään:");
	assert_contains(out, "\nkiireellisyys:");
	assert_no_epoch(out);
	g_assert_cmpint(ctl(&h, "en", &out, &err, "status", NULL), ==, 0);
	assert_contains(out, "\nnow:");
	assert_no_epoch(out);
	/* A weekly report names its fullest day as a date. */
	g_assert_cmpint(ctl(&h, "en", &out, &err, "report",
			    "crisis-duty-west", "--by", "week", "--from",
			    "2026-12-14", "--to", "2026-12-20", NULL), ==, 0);
	assert_contains(out, "WORST-DAY");
	assert_no_epoch(out);

	/* staffing: a queue that never empties is "unbounded", not -1 */
	g_assert_cmpint(ctl(&h, "en", &out, &err, "staffing", CRISIS,
			    "--opt-i", "extra-staff=-3", NULL), ==, 0);
	assert_contains(out, " unbounded ");
	g_assert_null(strstr(out, "-1.00"));
	g_assert_cmpint(ctl(&h, "fi", &out, &err, "staffing", CRISIS,
			    "--opt-i", "extra-staff=-3", NULL), ==, 0);
	assert_contains(out, " rajaton ");

	g_assert_cmpint(ctl(&h, "en", &out, &err, "reload", NULL), ==, 0);
	g_assert_cmpstr(out, ==, "No services, units or offerings added or "
				 "removed, and no slots changed.\n"
				 "Bookings that need rebooking: 0 (were 0)\n");
	g_assert_cmpint(ctl(&h, "sv", &out, &err, "reload", NULL), ==, 0);
	g_assert_cmpstr(out, ==, "Inga tjänster, enheter eller utbud "
				 "lades till eller togs bort, och inga tider "
				 "ändrades.\n"
				 "Bokningar som ska bokas om: 0 (var 0)\n");
	harness_finish(&h, 0);
}

/* A shell without LANG (a fresh container, cron) is in the C locale,
 * where gettext would ignore LANGUAGE: slotctl speaks the language
 * asked for all the same, in UTF-8; without LANGUAGE, or with an
 * explicit LC_ALL=C, English. */
static void
test_language_without_locale(void)
{
	g_autofree char *localedir = g_build_filename(harness_build_root(),
						      "po", NULL);
	g_autofree char *slotctl = g_build_filename(harness_build_root(),
						    "tools", "slotctl", NULL);
	g_autofree char *dir = g_strconcat("SLOTCTL_LOCALEDIR=", localedir,
					   NULL);
	static const struct {
		const char *set;
		const char *also;
		const char *usage;
	} cases[] = {
		{ "LANGUAGE=fi", NULL, "Käyttö:" },
		{ "LANGUAGE=sv", NULL, "Användning:" },
		{ "LC_ALL=C", NULL, "Usage:" },
		/* LC_ALL=C asks for the untranslated messages, whatever
		 * LANGUAGE a desktop session exports. */
		{ "LC_ALL=C", "LANGUAGE=fi", "Usage:" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *argv[] = { "env", "-u", "LANG", "-u", "LC_ALL",
				       "-u", "LC_MESSAGES", "-u", "LC_CTYPE",
				       "-u", "LANGUAGE", dir, cases[i].set,
				       cases[i].also ? cases[i].also
						     : "SLOTCTL_TEST=1",
				       slotctl, "--help", NULL };
		g_autofree char *out = NULL;
		g_autoptr(GError) error = NULL;
		int status = 0;

		g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH,
			     NULL, NULL, &out, NULL, &status, &error);
		g_assert_no_error(error);
		g_assert_true(g_spawn_check_wait_status(status, NULL));
		if (!g_str_has_prefix(out, cases[i].usage))
			g_error("%s: %s", cases[i].usage, out);
	}
}

/* Runs argv; its standard error (msgfmt's statistics), or fails. */
static char *
run_tool(const char *const *argv)
{
	g_autoptr(GError) error = NULL;
	char *err = NULL;
	int status = 0;

	g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
		     NULL, NULL, &err, &status, &error);
	g_assert_no_error(error);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("%s failed: %s", argv[0], err);
	return err;
}

/* Every message slotctl can print has its Finnish and Swedish text:
 * the sources' messages (xgettext, the keywords the build uses) merged
 * into each catalogue leave nothing untranslated or fuzzy. A new
 * message without its translations fails here, not in front of a
 * Swedish-speaking nurse. */
static void
test_catalogues_complete(void)
{
	g_autofree char *tmp = g_dir_make_tmp("slotctl-po-XXXXXX", NULL);
	g_autofree char *pot = g_build_filename(tmp, "all.pot", NULL);
	g_autofree char *potfiles = g_build_filename(harness_source_root(),
						     "po", "POTFILES", NULL);
	g_autofree char *list = NULL;
	g_auto(GStrv) sources = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	static const char *const langs[] = { "fi", "sv" };

	g_assert_nonnull(tmp);
	g_file_get_contents(potfiles, &list, NULL, &error);
	g_assert_no_error(error);
	sources = g_strsplit(g_strstrip(list), "\n", -1);
	g_ptr_array_add(argv, g_strdup("xgettext"));
	g_ptr_array_add(argv, g_strdup("--from-code=UTF-8"));
	g_ptr_array_add(argv, g_strdup("--keyword=_"));
	g_ptr_array_add(argv, g_strdup("--keyword=N_"));
	g_ptr_array_add(argv, g_strdup("--keyword=C_:1c,2"));
	g_ptr_array_add(argv, g_strdup("--keyword=NC_:1c,2"));
	g_ptr_array_add(argv, g_strdup("-o"));
	g_ptr_array_add(argv, g_strdup(pot));
	for (guint i = 0; sources[i]; i++)
		if (*sources[i])
			g_ptr_array_add(argv, g_build_filename(
				harness_source_root(), sources[i], NULL));
	g_ptr_array_add(argv, NULL);
	g_free(run_tool((const char *const *)argv->pdata));
	for (guint i = 0; i < G_N_ELEMENTS(langs); i++) {
		g_autofree char *po = g_strdup_printf(
			"%s/po/%s.po", harness_source_root(), langs[i]);
		g_autofree char *merged = g_strdup_printf("%s/%s.po", tmp,
							  langs[i]);
		const char *merge[] = { "msgmerge", "-q", "-o", merged, po,
					pot, NULL };
		const char *stats[] = { "msgfmt", "--statistics", "-o",
					"/dev/null", merged, NULL };
		g_autofree char *out = NULL;

		g_free(run_tool(merge));
		out = run_tool(stats);
		g_test_message("%s: %s", langs[i], out);
		if (strstr(out, "untranslated") || strstr(out, "fuzzy"))
			g_error("po/%s.po lacks messages of the sources (%s); "
				"see %s", langs[i], g_strstrip(out), merged);
		g_unlink(merged);
	}
	g_unlink(pot);
	g_rmdir(tmp);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/slotctl/dst/autumn-night", test_autumn_night);
	g_test_add_func("/slotctl/dst/spring-night", test_spring_night);
	g_test_add_func("/slotctl/find/flags-and-reasons",
			test_find_flags_and_reasons);
	g_test_add_func("/slotctl/book-cancel-show-reload",
			test_book_cancel_show_reload);
	g_test_add_func("/slotctl/language/without-a-locale",
			test_language_without_locale);
	g_test_add_func("/slotctl/language/catalogues-complete",
			test_catalogues_complete);
	return g_test_run();
}
