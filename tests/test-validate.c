/* Checks at the door: ids, text, client references (no personal
 * identity codes), languages, and a{sv} options against key tables. */
#include <string.h>

#include "options.h"
#include "validate.h"

static void
test_ids(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *long_id = g_strnfill(65, 'a');
	g_autofree char *max_id = g_strnfill(64, 'a');

	g_assert_true(validate_id("W-HH-LOH", "unit", NULL));
	g_assert_true(validate_id("b-12.x_y", "booking", NULL));
	g_assert_true(validate_id(max_id, "unit", NULL));
	g_assert_false(validate_id("", "unit", &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	g_assert_false(validate_id(long_id, "unit", NULL));
	g_assert_false(validate_id("a b", "unit", NULL));
	g_assert_false(validate_id("Lojo/ä", "unit", NULL));
	g_assert_false(validate_id("x\n", "unit", NULL));
}

static void
test_text(void)
{
	g_assert_true(validate_text("Asiakas soitti, ei pääse", "r", 100,
				    NULL));
	g_assert_false(validate_text("line\nbreak", "r", 100, NULL));
	g_assert_false(validate_text("tab\there", "r", 100, NULL));
	g_assert_false(validate_text("bell\a", "r", 100, NULL));
	g_assert_false(validate_text("sep\xe2\x80\xa8", "r", 100, NULL));
	g_assert_false(validate_text("\xff\xfe", "r", 100, NULL));
	g_assert_false(validate_text("abcdef", "r", 5, NULL));
}

/* Finnish personal identity codes: ddmmyy, century sign, three digits,
 * check character; the century signs added in 2023 too. */
static void
test_identity_codes_refused(void)
{
	const char *codes[] = {
		"131052-308T", "131052A308T", "010594Y9032", "020594X903P",
		"010101+123N", "x131052A308T", "ref-131052-308T-2",
		"131052a308t",
		/* The spellings of issues 14 and 20. */
		"131052308T", "131052.308T", "131052_308T", "131052--308T",
		"131052 308t", "hetu:131052-308T", "FI131052-308T",
		"asiakas 131052 308T",
		/* A century sign written together with the date and the
		 * number is evidence enough: the check character may be
		 * mistyped, or missing after + and a letter. */
		"311299A9876", "010101B123C", "010594Y9021", "131052A308",
		"010101+123A", "010190-123A", "131052-308a",
	};
	const char *pseudonyms[] = {
		"client-4711", "c-1", "123456-7890", "991352A308T",
		"ref.2026.12.07", "A1B2C3D4", "131052-30", "hh-loh-n07",
		"b-123", "W-HH-LOH", "visit-20240115-0042",
		/* A wrong check character where it is a digit after '-',
		 * or with no century sign: a date and a number. */
		"131052-3081", "131052-308", "131052308U", "150124-0042",
		/* 30.2. is no date; 20240115 holds none. */
		"300252-308T", "20240115-3081",
		"3f2504e0-4f89-41d3-9a0c-0305e82c3301",
		/* A hex run: a match glued to more hex digits. */
		"9f86d0818131052308c7d659a2feaa0c55ad015a",
	};
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(codes); i++) {
		g_assert_true(validate_looks_like_hetu(codes[i]));
		g_assert_false(validate_client_ref(codes[i], FALSE, &error));
		g_assert_error(error, SLOTD_ERROR,
			       SLOTD_ERROR_INVALID_CLIENT_REF);
		g_assert_null(strstr(error->message, codes[i]));
		g_clear_error(&error);
	}
	for (guint i = 0; i < G_N_ELEMENTS(pseudonyms); i++) {
		g_test_message("pseudonym %s", pseudonyms[i]);
		g_assert_false(validate_looks_like_hetu(pseudonyms[i]));
		g_assert_true(validate_client_ref(pseudonyms[i], FALSE, NULL));
	}
	g_assert_true(validate_client_ref("", TRUE, NULL));
	g_assert_false(validate_client_ref("", FALSE, NULL));
	g_assert_false(validate_client_ref("c 1", FALSE, NULL));
}

/* Ids and text refuse codes too, naming the field and not repeating
 * what was sent. */
static void
test_identity_codes_in_ids_and_text(void)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(validate_id("131052-308T", "idempotency-key", &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_assert_nonnull(strstr(error->message, "idempotency-key"));
	g_assert_null(strstr(error->message, "131052"));
	g_clear_error(&error);
	g_assert_false(validate_text("asiakas 131052 308T", "reason",
				     VALIDATE_TEXT_MAX, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_assert_nonnull(strstr(error->message, "reason"));
	g_assert_null(strstr(error->message, "131052"));
	g_clear_error(&error);
	g_assert_false(validate_id("h-131052A308T", "hold id", NULL));
	g_assert_true(validate_text("Asiakas soitti 13.10. klo 8.30", "reason",
				    VALIDATE_TEXT_MAX, NULL));
}

/* ---- generated codes in many spellings -------------------------------
 *
 * The codes are made here, with their own check character (Horner's
 * rule over the nine digits, mod 31), never by asking the detector. */

typedef struct {
	char date[7];
	char sign;
	char number[4];
	char check;
} Code;

static const char century_signs[] = "+-YXWVUABCDEF";

static int
century_of(char sign)
{
	if (sign == '+')
		return 1800;
	return strchr("-YXWVU", sign) ? 1900 : 2000;
}

static void
make_code(GRand *rand, char sign, Code *c)
{
	g_autoptr(GDate) date = g_date_new_dmy(1, G_DATE_JANUARY,
					       century_of(sign));
	const char *digits;
	guint rest = 0;

	g_date_add_days(date, g_rand_int_range(rand, 0, 36524));
	g_snprintf(c->date, sizeof(c->date), "%02u%02u%02u",
		   g_date_get_day(date), g_date_get_month(date),
		   g_date_get_year(date) % 100);
	g_snprintf(c->number, sizeof(c->number), "%03d",
		   g_rand_int_range(rand, 2, 1000));
	for (int part = 0; part < 2; part++)
		for (digits = part ? c->number : c->date; *digits; digits++)
			rest = (rest * 10 + (guint)(*digits - '0')) % 31;
	c->check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[rest];
	c->sign = sign;
}

/* '@' date, '#' century sign, '$' number, '^' check character. */
static const char *const spellings[] = {
	"@#$^",			/* as written on a card */
	"@$^",			/* no century sign */
	"@.$^",
	"@_$^",
	"@--$^",
	"@ $^",
	"@ # $ ^",
	"@/$/^",
	"@#$ ^",
	"hetu:@#$^",
	"FI@#$^",
	"@#$^-2",
	"@#$^x",
	"asiakas @ $^ soitti",
	"ref @\xe2\x80\x93$^",	/* an en dash */
};

static char *
spell(const char *spelling, const Code *c, gboolean lower)
{
	GString *s = g_string_new(NULL);

	for (const char *p = spelling; *p; p++) {
		if (*p == '@')
			g_string_append(s, c->date);
		else if (*p == '#')
			g_string_append_c(s, c->sign);
		else if (*p == '$')
			g_string_append(s, c->number);
		else if (*p == '^')
			g_string_append_c(s, c->check);
		else
			g_string_append_c(s, *p);
	}
	if (lower)
		g_string_ascii_down(s);
	return g_string_free(s, FALSE);
}

static void
expect_refused(const char *text, const Code *c, guint32 seed)
{
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;
	g_autoptr(GError) e3 = NULL;
	gboolean ok = validate_looks_like_hetu(text) &&
		      !validate_client_ref(text, TRUE, &e1) &&
		      g_error_matches(e1, SLOTD_ERROR,
				      SLOTD_ERROR_INVALID_CLIENT_REF) &&
		      !validate_id(text, "idempotency-key", &e2) &&
		      strstr(e2->message, "idempotency-key") &&
		      !validate_text(text, "reason", VALIDATE_TEXT_MAX, &e3) &&
		      strstr(e3->message, "reason");
	const GError *errors[] = { e1, e2, e3 };

	for (guint i = 0; ok && i < G_N_ELEMENTS(errors); i++)
		ok = errors[i]->code != SLOTD_ERROR_INVALID_CLIENT_REF ||
		     i == 0;
	for (guint i = 0; ok && i < G_N_ELEMENTS(errors); i++)
		ok = !strstr(errors[i]->message, c->date) &&
		     !strstr(errors[i]->message, text);
	if (!ok)
		g_error("'%s' got in, or its message shows it (seed %u; "
			"repeat with IDENTITY_SEED=%u)",
			text, seed, seed);
}

static guint32
identity_seed(void)
{
	const char *env = g_getenv("IDENTITY_SEED");

	return env ? (guint32)g_ascii_strtoull(env, NULL, 10) :
		     (guint32)g_test_rand_int();
}

static void
test_identity_code_spellings(void)
{
	guint32 seed = identity_seed();
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	guint n = 0;

	g_test_message("seed %u", seed);
	for (const char *sign = century_signs; *sign; sign++) {
		for (int i = 0; i < 200; i++) {
			Code c;

			make_code(rand, *sign, &c);
			for (guint s = 0; s < G_N_ELEMENTS(spellings); s++) {
				for (int lower = 0; lower < 2; lower++) {
					g_autofree char *text =
						spell(spellings[s], &c, lower);

					expect_refused(text, &c, seed);
					n++;
				}
			}
		}
	}
	g_test_message("%u spellings refused", n);
}

static void
test_languages(void)
{
	g_assert_true(validate_language("fi", NULL));
	g_assert_true(validate_language("sv", NULL));
	g_assert_true(validate_language("en", NULL));
	g_assert_false(validate_language("de", NULL));
	g_assert_false(validate_language("FI", NULL));
}

static const SlotdOptionSpec core[] = {
	{ "municipality", "s", "" }, { "limit", "u", "" }, { NULL }
};
static const SlotdOptionSpec kind[] = { { "episode", "s", "" }, { NULL } };

static void
test_options(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) good = g_variant_ref_sink(g_variant_new_parsed(
		"{'municipality': <'Lojo'>, 'limit': <@u 5>, "
		"'episode': <'iv-q8h'>}"));
	g_autoptr(GVariant) typo = g_variant_ref_sink(
		g_variant_new_parsed("{'municipalty': <'Lojo'>}"));
	g_autoptr(GVariant) wrong = g_variant_ref_sink(
		g_variant_new_parsed("{'limit': <'five'>}"));

	g_assert_true(options_check(good, core, kind, "query", &error));
	g_assert_cmpstr(options_string(good, "municipality", NULL), ==,
			"Lojo");
	g_assert_cmpuint(options_uint32(good, "limit", 0), ==, 5);
	g_assert_cmpuint(options_uint32(good, "absent", 9), ==, 9);
	g_assert_false(options_check(typo, core, kind, "query", &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_assert_nonnull(strstr(error->message, "municipalty"));
	g_clear_error(&error);
	g_assert_false(options_check(wrong, core, kind, "query", &error));
	g_assert_nonnull(strstr(error->message, "'u'"));
	g_clear_error(&error);
	/* A kind's key is unknown to another kind. */
	g_assert_false(options_check(good, core, NULL, "query", &error));
}

static GVariant *
one_option(const char *key, GVariant *value)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	g_variant_builder_add(&b, "{sv}", key, value);
	return g_variant_ref_sink(g_variant_builder_end(&b));
}

/* A caller's key is shown capped and escaped, never whole. */
static void
test_options_echo_capped(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *huge = g_strnfill(1024 * 1024, 'k');
	g_autoptr(GVariant) big = one_option(huge, g_variant_new_string("x"));
	g_autoptr(GVariant) quote = one_option("\"x\" \xc3\xa4\x7f",
					       g_variant_new_string("x"));
	g_autoptr(GVariant) code = one_option("hetu 131052-308T",
					      g_variant_new_string("x"));

	g_assert_false(options_check(big, core, kind, "option", &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_assert_cmpuint(strlen(error->message), <, 400);
	g_assert_nonnull(strstr(error->message, "1048576 bytes"));
	g_clear_error(&error);
	g_assert_false(options_check(quote, core, kind, "option", &error));
	g_assert_nonnull(strstr(error->message,
				"'\\\"x\\\" \\303\\244\\177'"));
	g_clear_error(&error);
	g_assert_false(options_check(code, core, kind, "option", &error));
	g_assert_null(strstr(error->message, "131052"));
	g_assert_nonnull(strstr(error->message, "not shown"));
}

/* Every string value of an option, nested ones too, is checked for
 * identity codes; the message names the key. */
static void
test_options_identity_codes(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) flat = one_option(
		"municipality", g_variant_new_string("Lohja 131052 308T"));
	g_autoptr(GVariant) nested = one_option(
		"episode",
		g_variant_new_variant(g_variant_new_strv(
			(const char *[]){ "a", "FI131052-308T", NULL }, -1)));
	static const SlotdOptionSpec any[] = { { "episode", "v", "" },
					       { NULL } };

	g_assert_false(options_check(flat, core, kind, "query", &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_assert_nonnull(strstr(error->message, "'municipality'"));
	g_assert_null(strstr(error->message, "131052"));
	g_clear_error(&error);
	g_assert_false(options_check(nested, core, any, "option", &error));
	g_assert_nonnull(strstr(error->message, "'episode'"));
	g_assert_null(strstr(error->message, "131052"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/validate/ids", test_ids);
	g_test_add_func("/validate/text/no-control-characters", test_text);
	g_test_add_func("/validate/client-ref/identity-codes-refused",
			test_identity_codes_refused);
	g_test_add_func("/validate/identity-codes/ids-and-text",
			test_identity_codes_in_ids_and_text);
	g_test_add_func("/validate/identity-codes/generated-spellings",
			test_identity_code_spellings);
	g_test_add_func("/validate/languages", test_languages);
	g_test_add_func("/options/unknown-keys-and-types-refused",
			test_options);
	g_test_add_func("/options/echo-capped", test_options_echo_capped);
	g_test_add_func("/options/identity-codes-refused",
			test_options_identity_codes);
	return g_test_run();
}
