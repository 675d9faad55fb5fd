/* Checks applied at the door to everything a caller sends. */
#include "validate.h"

#include <string.h>

static gboolean
is_id_char(char c)
{
	return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
}

/* Never echoes `text`: the message is the field's name only. */
gboolean
validate_no_identity_code(const char *text, const char *what,
			  GError **error)
{
	if (!validate_looks_like_hetu(text))
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "%s looks like it holds a personal identity code; slotd "
		    "takes pseudonymous references only, leave personal data "
		    "out",
		    what);
	return FALSE;
}

gboolean
validate_id(const char *id, const char *what, GError **error)
{
	gsize len = id ? strlen(id) : 0;

	if (len == 0) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "%s is empty; give an id", what);
		return FALSE;
	}
	if (!validate_no_identity_code(id, what, error))
		return FALSE;
	if (len > VALIDATE_ID_MAX) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "%s is longer than %d characters", what,
			    VALIDATE_ID_MAX);
		return FALSE;
	}
	for (gsize i = 0; i < len; i++) {
		if (!is_id_char(id[i])) {
			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "%s may only contain letters A-Z, digits "
				    "and . _ -",
				    what);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
validate_text(const char *text, const char *what, gsize max, GError **error)
{
	const char *end = NULL;

	if (!g_utf8_validate(text, -1, &end)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "%s is not valid UTF-8", what);
		return FALSE;
	}
	if ((gsize)(end - text) > max) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "%s is longer than %" G_GSIZE_FORMAT " bytes", what,
			    max);
		return FALSE;
	}
	for (const char *p = text; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029) {
			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "%s contains a control character; remove "
				    "line breaks, tabs and other control "
				    "characters",
				    what);
			return FALSE;
		}
	}
	return validate_no_identity_code(text, what, error);
}

/* ---- Finnish personal identity codes (henkilötunnus) -----------------
 *
 * A code is DDMMYY, a century sign, NNN and a check character: the
 * character of "0123456789ABCDEFHJKLMNPRSTUVWXY" at DDMMYYNNN mod 31.
 * People and systems spell it in many ways, so slotd looks for it
 * anywhere in a string (docs/privacy.md has the table of spellings).
 * Two shapes are refused:
 *
 * (a) DDMMYY gap NNN gap K, K the correct check character in any case.
 *     A gap is any run of separators or none; a separator is anything
 *     but an ASCII letter or digit (space . _ - / : + ..., and every
 *     byte of a non-ASCII character such as a dash). The first gap may
 *     hold one century letter (A-F, U-Y, any case).
 * (b) DDMMYY, a century sign, NNN, written together, where the check
 *     character may be mistyped: after '+', A-F or U-Y anything or
 *     nothing may follow (the sign is evidence enough); after '-' a
 *     letter must (DDMMYY-NNNN is also a date and a sequence number,
 *     so a digit there has to be the correct check, as in (a)).
 *
 * In both, DDMMYY is a real day of a real month (29.2 allowed, any
 * year) and is not preceded by a digit (so 20240115 holds no date), and
 * a digit in the place of the check character must not run on into
 * another digit (so 150124-12345 is a sequence number, not a code).
 *
 * The check character in (a) is what keeps pseudonyms out: a date
 * followed by a number passes 30 times out of 31. One exemption is for
 * hashes and UUIDs: a match made only of hex digits ("131052a308c"), or
 * for (b) of hex digits and its '-' ("010190-123a"), does not count
 * when a hex digit is glued to it on either side; it is then a piece of
 * a longer hex run or of a UUID. The bare 10- and 11-character forms
 * are still refused. tests/identity-codes.py measures what the rule
 * costs pseudonyms (docs/privacy.md). */

#define HETU_CHECK_CHARS "0123456789ABCDEFHJKLMNPRSTUVWXY"

static gboolean
is_separator(char c)
{
	return c != '\0' && !g_ascii_isalnum(c);
}

static const char *
skip_separators(const char *p)
{
	while (is_separator(*p))
		p++;
	return p;
}

/* U-Y 1900s, A-F 2000s (added in 2023). */
static gboolean
is_century_letter(char c)
{
	c = g_ascii_toupper(c);
	return (c >= 'A' && c <= 'F') || (c >= 'U' && c <= 'Y');
}

/* `n` digits at `p` as a number; FALSE if any is not a digit (the end
 * of the string included). */
static gboolean
read_digits(const char *p, int n, guint *ret)
{
	guint value = 0;

	for (int i = 0; i < n; i++) {
		if (!g_ascii_isdigit(p[i]))
			return FALSE;
		value = value * 10 + (guint)(p[i] - '0');
	}
	*ret = value;
	return TRUE;
}

/* DDMMYY at `p`, not the tail of a longer number. */
static gboolean
read_date(const char *text, const char *p, guint *ret_date)
{
	static const guint days[] = { 31, 29, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31 };
	guint day, month;

	if ((p > text && g_ascii_isdigit(p[-1])) ||
	    !read_digits(p, 6, ret_date))
		return FALSE;
	day = *ret_date / 10000;
	month = *ret_date / 100 % 100;
	return month >= 1 && month <= 12 && day >= 1 && day <= days[month - 1];
}

/* A digit check character followed by a digit is part of a number. */
static gboolean
runs_on(const char *check)
{
	return g_ascii_isdigit(check[0]) && g_ascii_isdigit(check[1]);
}

/* The match [start, end) has only hex digits (and '-' if `dash`), and
 * a hex digit touches it on either side: a piece of a hash or UUID. */
static gboolean
inside_hex_run(const char *text, const char *start, const char *end,
	       gboolean dash)
{
	for (const char *q = start; q < end; q++)
		if (!g_ascii_isxdigit(*q) && !(dash && *q == '-'))
			return FALSE;
	return (start > text && g_ascii_isxdigit(start[-1])) ||
	       g_ascii_isxdigit(*end);
}

/* Shape (b) after the date at `p`: DDMMYY+NNN or DDMMYYLNNN with any
 * check character or none, DDMMYY-NNN with any letter. */
static gboolean
century_form_at(const char *text, const char *p)
{
	const char *end = p + 10;
	guint number;

	if ((p[6] != '+' && p[6] != '-' && !is_century_letter(p[6])) ||
	    !read_digits(p + 7, 3, &number))
		return FALSE;
	if (p[6] == '-' && !g_ascii_isalpha(*end))
		return FALSE;
	if (g_ascii_isalnum(*end)) {
		if (runs_on(end))
			return FALSE;
		end++;
	}
	return !inside_hex_run(text, p, end, TRUE);
}

/* Shape (a) after the date at `p`: gaps and the correct check
 * character. */
static gboolean
checked_form_at(const char *text, const char *p, guint date)
{
	const char *q = skip_separators(p + 6);
	const char *check;
	guint number;

	if (is_century_letter(*q))
		q = skip_separators(q + 1);
	if (!read_digits(q, 3, &number))
		return FALSE;
	check = skip_separators(q + 3);
	if (g_ascii_toupper(*check) !=
	    HETU_CHECK_CHARS[(date * 1000 + number) % 31] || runs_on(check))
		return FALSE;
	return !inside_hex_run(text, p, check + 1, FALSE);
}

static gboolean
identity_code_at(const char *text, const char *p)
{
	guint date;

	return read_date(text, p, &date) &&
	       (century_form_at(text, p) || checked_form_at(text, p, date));
}

gboolean
validate_looks_like_hetu(const char *text)
{
	for (const char *p = text; *p; p++)
		if (g_ascii_isdigit(*p) && identity_code_at(text, p))
			return TRUE;
	return FALSE;
}

gboolean
validate_client_ref(const char *client_ref, gboolean allow_empty,
		    GError **error)
{
	g_autoptr(GError) local = NULL;

	if (client_ref[0] == '\0') {
		if (allow_empty)
			return TRUE;
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CLIENT_REF,
			    "this service needs a client reference; anonymous "
			    "visits are only possible at walk-in sessions");
		return FALSE;
	}
	if (validate_looks_like_hetu(client_ref)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CLIENT_REF,
			    "the client reference looks like it holds a "
			    "personal identity code; slotd only takes the "
			    "pseudonymous reference of the calling system");
		return FALSE;
	}
	if (!validate_id(client_ref, "client reference", &local)) {
		g_set_error_literal(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_CLIENT_REF,
				    local->message);
		return FALSE;
	}
	return TRUE;
}

gboolean
validate_language(const char *language, GError **error)
{
	if (g_strcmp0(language, "fi") == 0 || g_strcmp0(language, "sv") == 0 ||
	    g_strcmp0(language, "en") == 0)
		return TRUE;
	g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
		    "unknown service language; use fi, sv or en");
	return FALSE;
}
