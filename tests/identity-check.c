/* The door checks of daemon/validate.c as a filter, for
 * tests/identity-codes.py: one string a line on stdin, one verdict a
 * line on stdout.
 *
 *   identity-check MODE < strings
 *
 * MODE is client-ref (validate_client_ref), id (validate_id), text
 * (validate_text, 512 bytes) or detect (validate_looks_like_hetu).
 * A verdict is "ok", or the error code name, a tab and the message:
 * "InvalidClientRef\t...", "InvalidArgs\t...", "Other\t...". For
 * detect: "code" or "none". */
#include <stdio.h>
#include <string.h>

#include "validate.h"

static const char *
code_name(const GError *error)
{
	if (error->domain != SLOTD_ERROR)
		return "Other";
	switch (error->code) {
	case SLOTD_ERROR_INVALID_CLIENT_REF:
		return "InvalidClientRef";
	case SLOTD_ERROR_INVALID_ARGS:
		return "InvalidArgs";
	default:
		return "Other";
	}
}

static gboolean
check(const char *mode, const char *line, GError **error)
{
	if (g_str_equal(mode, "client-ref"))
		return validate_client_ref(line, FALSE, error);
	if (g_str_equal(mode, "id"))
		return validate_id(line, "idempotency-key", error);
	return validate_text(line, "reason", VALIDATE_TEXT_MAX, error);
}

static void
verdict(const char *mode, const char *line)
{
	g_autoptr(GError) error = NULL;

	if (g_str_equal(mode, "detect")) {
		puts(validate_looks_like_hetu(line) ? "code" : "none");
		return;
	}
	if (check(mode, line, &error))
		puts("ok");
	else
		printf("%s\t%s\n", code_name(error), error->message);
}

int
main(int argc, char **argv)
{
	const char *modes[] = { "client-ref", "id", "text", "detect" };
	g_autofree char *line = NULL;
	size_t size = 0;
	ssize_t n;
	gboolean known = FALSE;

	for (guint i = 0; argc == 2 && i < G_N_ELEMENTS(modes); i++)
		known |= g_str_equal(argv[1], modes[i]);
	if (!known) {
		fprintf(stderr, "usage: %s client-ref|id|text|detect\n",
			argv[0]);
		return 2;
	}
	while ((n = getline(&line, &size, stdin)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		verdict(argv[1], line);
	}
	return 0;
}
