/* Checks applied at the door to everything a caller sends. */
#pragma once

#include <glib.h>
#include <slotd/plugin.h>

#define VALIDATE_ID_MAX 64
#define VALIDATE_TEXT_MAX 512

/* [A-Za-z0-9._-]{1,64}; `what` names the argument in the message. */
gboolean validate_id(const char *id, const char *what, GError **error);
/* Valid UTF-8, no control characters, at most `max` bytes. */
gboolean validate_text(const char *text, const char *what, gsize max,
		       GError **error);
/* A pseudonymous reference: an id, and nothing that looks like a
 * Finnish personal identity code (ddmmyy, century sign, three digits,
 * check character). Empty only when `allow_empty`. */
gboolean validate_client_ref(const char *client_ref, gboolean allow_empty,
			     GError **error);
/* TRUE if `text` contains something shaped like a personal identity
 * code (any century sign, any check character). */
gboolean validate_looks_like_hetu(const char *text);
/* fi, sv, en */
gboolean validate_language(const char *language, GError **error);
