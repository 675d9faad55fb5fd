/* libFuzzer: client-reference validation. Whatever the bytes, the
 * checks never crash, and a reference that looks like a personal
 * identity code is never accepted. */
#include <string.h>

#include "validate.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	g_autofree char *text = g_strndup((const char *)data, size);
	g_autoptr(GError) error = NULL;
	gboolean hetu = validate_looks_like_hetu(text);
	gboolean ok = validate_client_ref(text, size % 2 == 0, &error);

	if (ok && hetu)
		__builtin_trap(); /* a personal identity code got in */
	if (ok != (error == NULL))
		__builtin_trap();
	/* Accepted references are ids: short, plain ASCII. */
	if (ok && (strlen(text) > VALIDATE_ID_MAX ||
		   strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
				"QRSTUVWXYZ0123456789._-") != strlen(text)))
		__builtin_trap();
	g_clear_error(&error);
	validate_text(text, "text", VALIDATE_TEXT_MAX, &error);
	return 0;
}
