/* Feed tokens and feed paths: generation (getrandom), text form,
 * SHA-256 hashing, constant-time comparison, and the parsing of the
 * request paths the feed server answers. No I/O besides getrandom, no
 * allocation in the parsers: a fuzzer can call them directly. */
#pragma once

#include <glib.h>

/* 160 random bits, written as 32 characters of lower-case base32. */
#define FEED_TOKEN_BYTES 20
#define FEED_TOKEN_LENGTH 32
#define FEED_HASH_SIZE 32
/* Ids in paths are unit and service ids: [A-Za-z0-9._-]{1,64}. */
#define FEED_ID_MAX 64
/* Longer request paths are refused before any parsing. */
#define FEED_PATH_MAX 512
/* The token segment of a free/busy path that needs no token. */
#define FEED_PUBLIC "public"

typedef enum {
	FEED_KIND_STAFF,	/* /feeds/...: the bookings */
	FEED_KIND_FREEBUSY,	/* /freebusy/...: VFREEBUSY */
	FEED_KIND_PRACTITIONER,	/* /feeds/practitioner/...: one
				 * practitioner's bookings, any unit */
} FeedKind;

/* A practitioner's token is stored with this before the id in the
 * token's unit column: ':' is no id character, so it never opens a
 * unit's feed, and no schema change was needed. */
#define FEED_PRACTITIONER_SCOPE "practitioner:"


typedef struct {
	FeedKind kind;
	gboolean has_token;	/* FALSE: /freebusy/public/... */
	char token[FEED_TOKEN_LENGTH + 1];
	char unit[FEED_ID_MAX + 1];	/* practitioner feeds: its id */
	char service[FEED_ID_MAX + 1];	/* "": every service of the unit */
} FeedPath;

/* A fresh token from the kernel's random source. */
gboolean feed_token_generate(char ret_token[FEED_TOKEN_LENGTH + 1],
			     GError **error);
/* 32 characters of [a-z2-7]; NULL is not. */
gboolean feed_token_is_well_formed(const char *token);
/* SHA-256 of the token's text: what the store keeps. */
void feed_token_hash(const char *token, guint8 ret_hash[FEED_HASH_SIZE]);
/* Compares two hashes in time that does not depend on where they
 * differ. */
gboolean feed_hash_equal(const guint8 *a, const guint8 *b);

/* Parses `length` bytes of a request path (not NUL-terminated):
 *   /feeds/TOKEN/UNIT.ics            /feeds/TOKEN/UNIT/SERVICE.ics
 *   /freebusy/TOKEN/UNIT.ics         /freebusy/TOKEN/UNIT/SERVICE.ics
 *   /freebusy/public/UNIT.ics        /freebusy/public/UNIT/SERVICE.ics
 *   /feeds/practitioner/TOKEN/PRACTITIONER.ics
 * Anything else (percent-escapes, empty, "." or ".." segments, other
 * characters, a malformed token, over FEED_PATH_MAX) is FALSE. */
gboolean feed_path_parse(const char *path, gsize length,
			 FeedPath *ret_path);
/* The path of a feed; `token` NULL for a public free/busy one,
 * `service` NULL or "" for the whole unit; for FEED_KIND_PRACTITIONER
 * `unit` is the practitioner's id and `service` is not used. */
char *feed_path_format(FeedKind kind, const char *token, const char *unit,
		       const char *service);
