/* Checks applied at the door to everything a caller sends. */
#include "validate.h"

#include <string.h>

static gboolean
is_id_char(char c)
{
	return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
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
	return TRUE;
}

static gboolean
is_century_sign(char c)
{
	/* '+' 1800s; '-' and U-Y 1900s; A-F 2000s (signs added in 2023). */
	c = g_ascii_toupper(c);
	return c == '+' || c == '-' || (c >= 'A' && c <= 'F') ||
	       (c >= 'U' && c <= 'Y');
}

static int
two_digits(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

static gboolean
hetu_at(const char *p, gsize left)
{
	if (left < 11)
		return FALSE;
	for (int i = 0; i < 6; i++)
		if (!g_ascii_isdigit(p[i]))
			return FALSE;
	if (!is_century_sign(p[6]))
		return FALSE;
	for (int i = 7; i < 10; i++)
		if (!g_ascii_isdigit(p[i]))
			return FALSE;
	if (!g_ascii_isalnum(p[10]))
		return FALSE;
	/* A plausible day and month: "123456-7890" is an id, not a code. */
	return two_digits(p) >= 1 && two_digits(p) <= 31 &&
	       two_digits(p + 2) >= 1 && two_digits(p + 2) <= 12;
}

gboolean
validate_looks_like_hetu(const char *text)
{
	gsize len = strlen(text);

	for (gsize i = 0; i + 11 <= len; i++)
		if (hetu_at(text + i, len - i))
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
	if (!validate_id(client_ref, "client reference", &local)) {
		g_set_error_literal(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_CLIENT_REF,
				    local->message);
		return FALSE;
	}
	if (validate_looks_like_hetu(client_ref)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_CLIENT_REF,
			    "the client reference looks like a personal "
			    "identity code; slotd only takes the pseudonymous "
			    "reference of the calling system");
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
