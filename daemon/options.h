/* Parsing a{sv} options against a table of known keys: unknown keys and
 * values of the wrong type are refused with InvalidArgs, so typos are
 * never silently ignored. */
#pragma once

#include <glib.h>
#include <slotd/plugin.h>

/* Checks every key of `dict` (a{sv}) against the NULL-terminated specs
 * (core keys first, then the kind's), and every string in its values,
 * at any depth, for personal identity codes. Messages show a caller's
 * text at most 64 bytes long, escaped, and never a code. */
gboolean options_check(GVariant *dict, const SlotdOptionSpec *core,
		       const SlotdOptionSpec *kind, const char *what,
		       GError **error);
/* Typed lookups after options_check(); absent keys give the fallback. */
const char *options_string(GVariant *dict, const char *key,
			   const char *fallback);
gint64 options_int64(GVariant *dict, const char *key, gint64 fallback);
guint32 options_uint32(GVariant *dict, const char *key, guint32 fallback);
gboolean options_bool(GVariant *dict, const char *key, gboolean fallback);
double options_double(GVariant *dict, const char *key, double fallback);
/* An a{sv}'s values by key (the request's option_index): built once
 * for a dict asked many times over, as a search's query is once per
 * candidate. Holds a reference to the dict. */
typedef struct _OptionIndex OptionIndex;
OptionIndex *option_index_new(GVariant *dict);
void option_index_free(OptionIndex *index);
/* The options_*() lookups through an index: the same answers for its
 * dict (the first of a repeated key; the fallback when the key is
 * absent or of another type). A value, and a string's text, is the
 * index's: valid while the index is. */
GVariant *option_index_peek(const OptionIndex *index, const char *key,
			    const GVariantType *type);
const char *option_index_string(const OptionIndex *index, const char *key,
				const char *fallback);
gint64 option_index_int64(const OptionIndex *index, const char *key,
			  gint64 fallback);
guint32 option_index_uint32(const OptionIndex *index, const char *key,
			    guint32 fallback);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OptionIndex, option_index_free)
