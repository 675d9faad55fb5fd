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
		"131052-308T", "131052A308T", "010594Y9032", "010594Y9021",
		"020594X903P", "020594X902N", "311299A9876", "010101B123C",
		"010101+123A", "x131052A308T", "ref-131052-308T-2", "131052a308t",
	};
	const char *pseudonyms[] = {
		"client-4711", "c-1", "123456-7890", "991352A308T",
		"ref.2026.12.07", "A1B2C3D4", "131052-30",
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
	for (guint i = 0; i < G_N_ELEMENTS(pseudonyms); i++)
		g_assert_true(validate_client_ref(pseudonyms[i], FALSE, NULL));
	g_assert_true(validate_client_ref("", TRUE, NULL));
	g_assert_false(validate_client_ref("", FALSE, NULL));
	g_assert_false(validate_client_ref("c 1", FALSE, NULL));
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

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/validate/ids", test_ids);
	g_test_add_func("/validate/text/no-control-characters", test_text);
	g_test_add_func("/validate/client-ref/identity-codes-refused",
			test_identity_codes_refused);
	g_test_add_func("/validate/languages", test_languages);
	g_test_add_func("/options/unknown-keys-and-types-refused",
			test_options);
	return g_test_run();
}
