/* Checks applied at the door to everything a caller sends. */
#pragma once

#include <glib.h>
#include <slotd/plugin.h>

#define VALIDATE_ID_MAX 64
#define VALIDATE_TEXT_MAX 512

/* Every check below refuses a personal identity code in any spelling
 * (validate_looks_like_hetu()), with a message that names the field
 * and never repeats what was sent. */

/* [A-Za-z0-9._-]{1,64}; `what` names the argument in the message. */
gboolean validate_id(const char *id, const char *what, GError **error);
/* Valid UTF-8, no control characters, at most `max` bytes. */
gboolean validate_text(const char *text, const char *what, gsize max,
		       GError **error);
/* A pseudonymous reference: an id, and no personal identity code
 * (InvalidClientRef). Empty only when `allow_empty`. */
gboolean validate_client_ref(const char *client_ref, gboolean allow_empty,
			     GError **error);
/* InvalidArgs naming `what` when `text` holds a personal identity
 * code; for strings no other check covers. */
gboolean validate_no_identity_code(const char *text, const char *what,
				   GError **error);
/* TRUE if a Finnish personal identity code (henkilötunnus) appears
 * anywhere in `text`, in any spelling: DDMMYY, any run of separators
 * or none, an optional century sign, NNN, separators or none, and the
 * correct check character. The exact rule is in validate.c and
 * docs/privacy.md. */
gboolean validate_looks_like_hetu(const char *text);
/* fi, sv, en */
gboolean validate_language(const char *language, GError **error);
