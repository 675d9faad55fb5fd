/* a{sv} options checked against tables of known keys. */
#include "options.h"

#include <stdarg.h>
#include <string.h>

#include "validate.h"

/* At most this many bytes of a caller's text go into a message. */
#define OPTIONS_ECHO_MAX 64

static const SlotdOptionSpec *
find_spec(const SlotdOptionSpec *specs, const char *key)
{
	for (; specs && specs->name; specs++)
		if (g_str_equal(specs->name, key))
			return specs;
	return NULL;
}

static GString *
known_keys(const SlotdOptionSpec *core, const SlotdOptionSpec *kind)
{
	GString *keys = g_string_new(NULL);
	const SlotdOptionSpec *tables[] = { core, kind };

	for (guint t = 0; t < G_N_ELEMENTS(tables); t++)
		for (const SlotdOptionSpec *s = tables[t]; s && s->name; s++)
			g_string_append_printf(keys, "%s%s",
					       keys->len ? ", " : "", s->name);
	return keys;
}

/* Caller text as a message may show it: quoted, the first
 * OPTIONS_ECHO_MAX bytes, escaped; never a personal identity code. */
static char *
echo(const char *text)
{
	gsize len = strlen(text);
	g_autofree char *head = g_strndup(text, MIN(len, OPTIONS_ECHO_MAX));
	g_autofree char *escaped = NULL;

	if (validate_looks_like_hetu(text))
		return g_strdup("(not shown: it looks like a personal identity "
				"code)");
	escaped = g_strescape(head, NULL);
	if (len > OPTIONS_ECHO_MAX)
		return g_strdup_printf("'%s...' (%" G_GSIZE_FORMAT " bytes)",
				       escaped, len);
	return g_strdup_printf("'%s'", escaped);
}

/* Every string in `value`, at any depth, is free of identity codes. */
static gboolean
strings_clean(GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
	    g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH))
		return !validate_looks_like_hetu(
			g_variant_get_string(value, NULL));
	if (g_variant_is_container(value)) {
		gsize n = g_variant_n_children(value);

		for (gsize i = 0; i < n; i++) {
			g_autoptr(GVariant) child =
				g_variant_get_child_value(value, i);

			if (!strings_clean(child))
				return FALSE;
		}
	}
	return TRUE;
}

static gboolean
check_value(const SlotdOptionSpec *spec, GVariant *value, const char *what,
	    GError **error)
{
	if (!g_variant_is_of_type(value, G_VARIANT_TYPE(spec->type))) {
		g_autofree char *type =
			echo(g_variant_get_type_string(value));

		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "%s key '%s' must be of type '%s', not %s", what,
			    spec->name, spec->type, type);
		return FALSE;
	}
	if (!strings_clean(value)) {
		g_set_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS,
			    "%s '%s' looks like it holds a personal identity "
			    "code; slotd takes pseudonymous references only, "
			    "leave personal data out",
			    what, spec->name);
		return FALSE;
	}
	return TRUE;
}

gboolean
options_check(GVariant *dict, const SlotdOptionSpec *core,
	      const SlotdOptionSpec *kind, const char *what, GError **error)
{
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_return_val_if_fail(g_variant_is_of_type(dict, G_VARIANT_TYPE_VARDICT),
			     FALSE);
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
		const SlotdOptionSpec *spec = find_spec(core, key);

		if (!spec)
			spec = find_spec(kind, key);
		if (!spec) {
			g_autoptr(GString) keys = known_keys(core, kind);
			g_autofree char *shown = echo(key);

			g_set_error(error, SLOTD_ERROR,
				    SLOTD_ERROR_INVALID_ARGS,
				    "unknown %s key %s; known keys: %s", what,
				    shown, keys->str);
			g_variant_unref(value);
			return FALSE;
		}
		if (!check_value(spec, value, what, error)) {
			g_variant_unref(value);
			return FALSE;
		}
	}
	return TRUE;
}

static GVariant *
lookup(GVariant *dict, const char *key, const GVariantType *type)
{
	if (!dict)
		return NULL;
	return g_variant_lookup_value(dict, key, type);
}

const char *
options_string(GVariant *dict, const char *key, const char *fallback)
{
	const char *value = fallback;

	if (dict)
		g_variant_lookup(dict, key, "&s", &value);
	return value;
}

gint64
options_int64(GVariant *dict, const char *key, gint64 fallback)
{
	g_autoptr(GVariant) v = lookup(dict, key, G_VARIANT_TYPE_INT64);

	return v ? g_variant_get_int64(v) : fallback;
}

guint32
options_uint32(GVariant *dict, const char *key, guint32 fallback)
{
	g_autoptr(GVariant) v = lookup(dict, key, G_VARIANT_TYPE_UINT32);

	return v ? g_variant_get_uint32(v) : fallback;
}

gboolean
options_bool(GVariant *dict, const char *key, gboolean fallback)
{
	g_autoptr(GVariant) v = lookup(dict, key, G_VARIANT_TYPE_BOOLEAN);

	return v ? g_variant_get_boolean(v) : fallback;
}

double
options_double(GVariant *dict, const char *key, double fallback)
{
	g_autoptr(GVariant) v = lookup(dict, key, G_VARIANT_TYPE_DOUBLE);

	return v ? g_variant_get_double(v) : fallback;
}

struct _OptionIndex {
	GVariant *dict;
	GHashTable *values;	/* key (a copy) -> unboxed value */
};

OptionIndex *
option_index_new(GVariant *dict)
{
	OptionIndex *index = g_new0(OptionIndex, 1);
	GVariantIter iter;
	const char *key;
	GVariant *value;

	g_return_val_if_fail(g_variant_is_of_type(dict,
						  G_VARIANT_TYPE_VARDICT),
			     NULL);
	index->dict = g_variant_ref(dict);
	/* The keys are copied: a dict built in tree form (as one read from
	 * the bus is) frees its children, and the text of their keys, once
	 * anything serialises it, and g_variant_iter_loop() does. The
	 * values are references of their own. */
	index->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      (GDestroyNotify)g_variant_unref);
	g_variant_iter_init(&iter, dict);
	/* As g_variant_lookup(): of a repeated key the first counts. */
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		if (g_hash_table_contains(index->values, key))
			g_variant_unref(value);
		else
			g_hash_table_insert(index->values, g_strdup(key),
					    value);
	}
	return index;
}

void
option_index_free(OptionIndex *index)
{
	if (index == NULL)
		return;
	g_hash_table_unref(index->values);
	g_variant_unref(index->dict);
	g_free(index);
}

GVariant *
option_index_peek(const OptionIndex *index, const char *key,
		  const GVariantType *type)
{
	GVariant *value = g_hash_table_lookup(index->values, key);

	if (value == NULL || (type && !g_variant_is_of_type(value, type)))
		return NULL;
	return value;
}

const char *
option_index_string(const OptionIndex *index, const char *key,
		    const char *fallback)
{
	GVariant *v = option_index_peek(index, key, G_VARIANT_TYPE_STRING);

	return v ? g_variant_get_string(v, NULL) : fallback;
}

gint64
option_index_int64(const OptionIndex *index, const char *key,
		   gint64 fallback)
{
	GVariant *v = option_index_peek(index, key, G_VARIANT_TYPE_INT64);

	return v ? g_variant_get_int64(v) : fallback;
}

guint32
option_index_uint32(const OptionIndex *index, const char *key,
		    guint32 fallback)
{
	GVariant *v = option_index_peek(index, key, G_VARIANT_TYPE_UINT32);

	return v ? g_variant_get_uint32(v) : fallback;
}

GVariant *
slotd_request_option_value(const SlotdRequest *request, const char *key,
			   const GVariantType *type)
{
	const OptionIndex *index = request->option_index;
	GVariant *value;

	g_return_val_if_fail(key != NULL, NULL);
	if (request->options == NULL)
		return NULL;
	if (index == NULL || index->dict != request->options)
		return g_variant_lookup_value(request->options, key, type);
	value = option_index_peek(index, key, type);
	return value ? g_variant_ref(value) : NULL;
}

gboolean
slotd_request_option(const SlotdRequest *request, const char *key,
		     const char *format, ...)
{
	g_autoptr(GVariant) value = NULL;
	va_list ap;

	g_return_val_if_fail(format != NULL, FALSE);
	value = slotd_request_option_value(request, key, NULL);
	if (value == NULL || !g_variant_check_format_string(value, format,
							    FALSE))
		return FALSE;
	/* A borrowed string stays valid with the dict, as for
	 * g_variant_lookup(): the value is a part of it. */
	va_start(ap, format);
	g_variant_get_va(value, format, NULL, &ap);
	va_end(ap);
	return TRUE;
}
