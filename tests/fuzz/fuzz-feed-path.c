/* libFuzzer: feed request paths and tokens. The parser takes bytes that
 * are not NUL-terminated (the HTTP server's view); whatever it accepts
 * formats back to the very same path. Tokens: only well-formed ones
 * pass, their hashes compare equal to themselves only. */
#include <string.h>

#include "feed-token.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static void
check_round_trip(const char *data, size_t size, const FeedPath *path)
{
	g_autofree char *again = feed_path_format(
		path->kind, path->has_token ? path->token : NULL, path->unit,
		path->service);

	if (strlen(again) != size || memcmp(again, data, size) != 0)
		__builtin_trap();
	if (path->has_token && !feed_token_is_well_formed(path->token))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	/* An exact-size heap copy: ASan sees any read past the end. */
	char *bytes = g_memdup2(data, size ? size : 1);
	g_autofree char *text = g_strndup((const char *)data, size);
	guint8 a[FEED_HASH_SIZE], b[FEED_HASH_SIZE];
	FeedPath path;

	if (feed_path_parse(bytes, size, &path))
		check_round_trip(bytes, size, &path);
	g_free(bytes);
	if (feed_token_is_well_formed(text)) {
		if (strlen(text) != FEED_TOKEN_LENGTH)
			__builtin_trap();
		feed_token_hash(text, a);
		memcpy(b, a, sizeof(a));
		if (!feed_hash_equal(a, b))
			__builtin_trap();
		b[size % FEED_HASH_SIZE] ^= 1;
		if (feed_hash_equal(a, b))
			__builtin_trap();
	}
	return 0;
}
