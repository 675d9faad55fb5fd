/* Feed tokens: random, stored only as their SHA-256, compared in
 * constant time; and the request paths that carry them. */
#include "feed-token.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <slotd/plugin.h>

static const char base32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/* ---- tokens --------------------------------------------------------- */

static gboolean
random_bytes(guint8 *buffer, gsize size, GError **error)
{
	gsize filled = 0;

	while (filled < size) {
		ssize_t n = getrandom(buffer + filled, size - filled, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED,
				    "the kernel gave no random bytes for a "
				    "feed token (%s); try again",
				    g_strerror(saved));
			return FALSE;
		}
		filled += (gsize)n;
	}
	return TRUE;
}

/* RFC 4648 base32 without padding: 20 bytes are exactly 32 digits. */
static void
base32_encode(const guint8 *bytes, char *ret_text)
{
	guint buffer = 0, bits = 0, out = 0;

	for (gsize i = 0; i < FEED_TOKEN_BYTES; i++) {
		buffer = (buffer << 8) | bytes[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			ret_text[out++] = base32_alphabet[(buffer >> bits) & 31];
		}
	}
	ret_text[out] = '\0';
}

gboolean
feed_token_generate(char ret_token[FEED_TOKEN_LENGTH + 1], GError **error)
{
	guint8 bytes[FEED_TOKEN_BYTES];

	G_STATIC_ASSERT(FEED_TOKEN_BYTES * 8 / 5 == FEED_TOKEN_LENGTH);
	if (!random_bytes(bytes, sizeof(bytes), error))
		return FALSE;
	base32_encode(bytes, ret_token);
	memset(bytes, 0, sizeof(bytes));
	return TRUE;
}

static gboolean
is_base32_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

static gboolean
token_span_is_well_formed(const char *text, gsize length)
{
	if (length != FEED_TOKEN_LENGTH)
		return FALSE;
	for (gsize i = 0; i < length; i++)
		if (!is_base32_digit(text[i]))
			return FALSE;
	return TRUE;
}

gboolean
feed_token_is_well_formed(const char *token)
{
	return token != NULL &&
	       token_span_is_well_formed(token, strlen(token));
}

void
feed_token_hash(const char *token, guint8 ret_hash[FEED_HASH_SIZE])
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	gsize size = FEED_HASH_SIZE;

	g_checksum_update(sum, (const guchar *)token, strlen(token));
	g_checksum_get_digest(sum, ret_hash, &size);
	g_assert(size == FEED_HASH_SIZE);
}

gboolean
feed_hash_equal(const guint8 *a, const guint8 *b)
{
	/* volatile: the compiler may not stop at the first difference. */
	volatile guint8 difference = 0;

	for (gsize i = 0; i < FEED_HASH_SIZE; i++)
		difference |= a[i] ^ b[i];
	return difference == 0;
}

/* ---- paths ---------------------------------------------------------- */

static gboolean
is_id_char(char c)
{
	return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
}

/* An id segment: id characters only, not "." or "..", not too long. */
static gboolean
copy_id(const char *text, gsize length, char ret_id[FEED_ID_MAX + 1])
{
	if (length == 0 || length > FEED_ID_MAX)
		return FALSE;
	if ((length == 1 && text[0] == '.') ||
	    (length == 2 && text[0] == '.' && text[1] == '.'))
		return FALSE;
	for (gsize i = 0; i < length; i++)
		if (!is_id_char(text[i]))
			return FALSE;
	memcpy(ret_id, text, length);
	ret_id[length] = '\0';
	return TRUE;
}

/* Splits the part after the kind prefix into at most 4 segments;
 * FALSE for an empty segment (a trailing or doubled slash). */
static gboolean
split_segments(const char *text, gsize length, const char **ret_starts,
	       gsize *ret_lengths, guint *ret_count)
{
	guint count = 0;
	gsize begin = 0;

	for (gsize i = 0; i <= length; i++) {
		if (i < length && text[i] != '/')
			continue;
		if (i == begin || count == 3)
			return FALSE;
		ret_starts[count] = text + begin;
		ret_lengths[count] = i - begin;
		count++;
		begin = i + 1;
	}
	*ret_count = count;
	return TRUE;
}

static gboolean
parse_token_segment(FeedPath *path, const char *text, gsize length)
{
	if (path->kind == FEED_KIND_FREEBUSY &&
	    length == strlen(FEED_PUBLIC) &&
	    memcmp(text, FEED_PUBLIC, length) == 0) {
		path->has_token = FALSE;
		return TRUE;
	}
	if (!token_span_is_well_formed(text, length))
		return FALSE;
	memcpy(path->token, text, length);
	path->token[length] = '\0';
	path->has_token = TRUE;
	return TRUE;
}

static gboolean
parse_after_kind(FeedPath *path, const char *text, gsize length)
{
	const char *starts[3];
	gsize lengths[3];
	guint count;
	gsize last;

	if (!split_segments(text, length, starts, lengths, &count) ||
	    count < 2)
		return FALSE;
	last = lengths[count - 1];
	/* The last segment names an .ics file: UNIT.ics or SERVICE.ics. */
	if (last <= 4 || memcmp(starts[count - 1] + last - 4, ".ics", 4) != 0)
		return FALSE;
	lengths[count - 1] -= 4;
	/* TOKEN/PRACTITIONER.ics, nothing more. */
	if (path->kind == FEED_KIND_PRACTITIONER)
		return count == 2 &&
		       parse_token_segment(path, starts[0], lengths[0]) &&
		       copy_id(starts[1], lengths[1], path->unit);
	if (!parse_token_segment(path, starts[0], lengths[0]) ||
	    !copy_id(starts[1], lengths[1], path->unit))
		return FALSE;
	path->service[0] = '\0';
	return count == 2 || copy_id(starts[2], lengths[2], path->service);
}

gboolean
feed_path_parse(const char *path, gsize length, FeedPath *ret_path)
{
	static const char practitioner[] = "/feeds/practitioner/";
	static const char feeds[] = "/feeds/";
	static const char freebusy[] = "/freebusy/";
	gsize skip;

	if (path == NULL || length > FEED_PATH_MAX)
		return FALSE;
	memset(ret_path, 0, sizeof(*ret_path));
	/* "practitioner" is no token: this cannot hide a unit feed. */
	if (length > strlen(practitioner) &&
	    memcmp(path, practitioner, strlen(practitioner)) == 0) {
		ret_path->kind = FEED_KIND_PRACTITIONER;
		skip = strlen(practitioner);
	} else if (length > strlen(feeds) &&
	    memcmp(path, feeds, strlen(feeds)) == 0) {
		ret_path->kind = FEED_KIND_STAFF;
		skip = strlen(feeds);
	} else if (length > strlen(freebusy) &&
		   memcmp(path, freebusy, strlen(freebusy)) == 0) {
		ret_path->kind = FEED_KIND_FREEBUSY;
		skip = strlen(freebusy);
	} else {
		return FALSE;
	}
	if (parse_after_kind(ret_path, path + skip, length - skip))
		return TRUE;
	memset(ret_path, 0, sizeof(*ret_path));
	return FALSE;
}

char *
feed_path_format(FeedKind kind, const char *token, const char *unit,
		 const char *service)
{
	const char *prefix = kind == FEED_KIND_STAFF ? "/feeds/" : "/freebusy/";

	g_return_val_if_fail(unit != NULL, NULL);
	g_return_val_if_fail(token != NULL || kind == FEED_KIND_FREEBUSY,
			     NULL);
	if (kind == FEED_KIND_PRACTITIONER)
		return g_strconcat("/feeds/practitioner/", token, "/", unit,
				   ".ics", NULL);
	if (service != NULL && *service != '\0')
		return g_strconcat(prefix, token ? token : FEED_PUBLIC, "/",
				   unit, "/", service, ".ics", NULL);
	return g_strconcat(prefix, token ? token : FEED_PUBLIC, "/", unit,
			   ".ics", NULL);
}
