/* libFuzzer: client references and the identity-code detector.
 *
 * Whatever the bytes, the checks never crash; and the detector agrees
 * with an oracle written here from the rule (docs/privacy.md) with
 * regular expressions, not with the detector's code: a string the
 * oracle finds a code in is refused as a client reference, an id and
 * text, and the refusal does not repeat it. */
#include <string.h>

#include "validate.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

#define SEP "[^0-9A-Za-z]"

typedef struct {
	GRegex *checked;	/* (a) DDMMYY gap NNN gap K */
	GRegex *century;	/* (b) DDMMYY[-+A-FU-Y]NNN */
} Oracle;

static const Oracle *
oracle_get(void)
{
	static Oracle o;

	if (!o.checked) {
		o.checked = g_regex_new(
			"([0-9]{6})" SEP "*(?:[A-FU-Ya-fu-y]" SEP "*)?"
			"([0-9]{3})" SEP "*([0-9A-Za-z]?)",
			G_REGEX_RAW | G_REGEX_OPTIMIZE, 0, NULL);
		o.century = g_regex_new("[0-9]{6}[-+A-FU-Ya-fu-y][0-9]{3}",
					G_REGEX_RAW | G_REGEX_OPTIMIZE, 0,
					NULL);
	}
	return &o;
}

static gboolean
digit(const char *text, gssize i, gssize len)
{
	return i >= 0 && i < len && g_ascii_isdigit(text[i]);
}

static gboolean
real_day(const char *ddmmyy)
{
	static const int days[] = { 0,	31, 29, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31 };
	int day = (ddmmyy[0] - '0') * 10 + ddmmyy[1] - '0';
	int month = (ddmmyy[2] - '0') * 10 + ddmmyy[3] - '0';

	return month >= 1 && month <= 12 && day >= 1 && day <= days[month];
}

static gboolean
hex_piece(const char *text, gssize len, gssize start, gssize end,
	  const char *also)
{
	for (gssize i = start; i < end; i++)
		if (!g_ascii_isxdigit(text[i]) && !strchr(also, text[i]))
			return FALSE;
	return (start > 0 && g_ascii_isxdigit(text[start - 1])) ||
	       (end < len && g_ascii_isxdigit(text[end]));
}

/* The check character, by the definition: "0123456789ABCDEFHJKLMNPRST
 * UVWXY"[DDMMYYNNN mod 31]. */
static char
check_char(const char *ddmmyy, const char *nnn)
{
	char digits[10];

	memcpy(digits, ddmmyy, 6);
	memcpy(digits + 6, nnn, 3);
	digits[9] = '\0';
	return "0123456789ABCDEFHJKLMNPRSTUVWXY"[g_ascii_strtoull(
		digits, NULL, 10) % 31];
}

static gboolean
century_at(const char *text, gssize len, gssize i)
{
	g_autoptr(GMatchInfo) m = NULL;
	gssize end = i + 10;

	if (!g_regex_match_full(oracle_get()->century, text, len, i,
				G_REGEX_MATCH_ANCHORED, &m, NULL) ||
	    !real_day(text + i))
		return FALSE;
	/* After '-' a letter: DDMMYY-NNNN may be a date and a number. */
	if (text[i + 6] == '-' && (end >= len || !g_ascii_isalpha(text[end])))
		return FALSE;
	if (end < len && g_ascii_isalnum(text[end])) {
		if (digit(text, end, len) && digit(text, end + 1, len))
			return FALSE;
		end++;
	}
	return !hex_piece(text, len, i, end, "-");
}

static gboolean
checked_at(const char *text, gssize len, gssize i)
{
	g_autoptr(GMatchInfo) m = NULL;
	gint k_start, k_end, n_start;

	if (!g_regex_match_full(oracle_get()->checked, text, len, i,
				G_REGEX_MATCH_ANCHORED, &m, NULL) ||
	    !real_day(text + i))
		return FALSE;
	g_match_info_fetch_pos(m, 2, &n_start, NULL);
	g_match_info_fetch_pos(m, 3, &k_start, &k_end);
	if (k_end == k_start ||
	    g_ascii_toupper(text[k_start]) !=
		    check_char(text + i, text + n_start) ||
	    (digit(text, k_start, len) && digit(text, k_end, len)))
		return FALSE;
	return !hex_piece(text, len, i, k_end, "");
}

static gboolean
oracle_finds_code(const char *text, gssize len)
{
	for (gssize i = 0; i < len; i++) {
		if (digit(text, i - 1, len) || !digit(text, i, len))
			continue;
		if (century_at(text, len, i) || checked_at(text, len, i))
			return TRUE;
	}
	return FALSE;
}

/* A refusal for a code says so without the text itself. */
static void
refused_quietly(gboolean ok, GError *error, const char *text)
{
	if (ok || error == NULL)
		__builtin_trap(); /* a personal identity code got in */
	if (strstr(error->message, text))
		__builtin_trap(); /* and the message repeats it */
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);
	gssize len = (gssize)strlen(text);
	g_autoptr(GError) error = NULL;
	gboolean code = oracle_finds_code(text, len);
	gboolean ok;

	if (code != validate_looks_like_hetu(text))
		__builtin_trap(); /* the detector and the rule disagree */
	ok = validate_client_ref(text, size % 2 == 0, &error);
	if (ok != (error == NULL))
		__builtin_trap();
	if (code)
		refused_quietly(ok, error, text);
	/* Accepted references are ids: short, plain ASCII. */
	if (ok && (strlen(text) > VALIDATE_ID_MAX ||
		   strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
				"QRSTUVWXYZ0123456789._-") != strlen(text)))
		__builtin_trap();
	g_clear_error(&error);
	ok = validate_text(text, "text", VALIDATE_TEXT_MAX, &error);
	if (code)
		refused_quietly(ok, error, text);
	g_clear_error(&error);
	ok = validate_id(text, "id", &error);
	if (code)
		refused_quietly(ok, error, text);
	return 0;
}
