/* The log writer: journal or stderr, and how much. */
#include "log.h"

#include <stdio.h>
#include <string.h>

/* Set once by log_setup(); the writer only reads them. */
static gboolean log_debug;
static gboolean log_to_journal;
static gboolean log_color;

/* A field's value as text; NULL when it is not printable. */
static char *
field_text(const GLogField *field)
{
	gsize length = field->length < 0 ? strlen(field->value) :
					    (gsize)field->length;

	if (!g_utf8_validate_len(field->value, length, NULL))
		return NULL;
	return g_strndup(field->value, length);
}

char *
log_format_message(const GLogField *fields, gsize n_fields)
{
	GString *text = g_string_new(NULL);
	gboolean first = TRUE;

	for (gsize i = 0; i < n_fields; i++)
		if (g_str_equal(fields[i].key, "MESSAGE")) {
			g_autofree char *message = field_text(&fields[i]);

			g_string_append(text, message ? message : "");
		}
	for (gsize i = 0; i < n_fields; i++) {
		g_autofree char *value = NULL;

		if (!g_str_has_prefix(fields[i].key, "SLOTD_") ||
		    !(value = field_text(&fields[i])))
			continue;
		g_string_append(text, first ? " [" : " ");
		g_string_append_printf(text, "%s=%s", fields[i].key, value);
		first = FALSE;
	}
	if (!first)
		g_string_append_c(text, ']');
	return g_string_free(text, FALSE);
}

/* The journal gets every field as it is, and our name so that
 * `journalctl -t slotd` finds us outside the unit as well. */
static GLogWriterOutput
write_journal(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
	      gpointer user_data)
{
	g_autofree GLogField *all = g_new(GLogField, n_fields + 1);

	memcpy(all, fields, n_fields * sizeof(GLogField));
	all[n_fields] = (GLogField){ "SYSLOG_IDENTIFIER", "slotd", -1 };
	return g_log_writer_journald(level, all, n_fields + 1, user_data);
}

/* stderr shows one line per record, the SLOTD_* fields in it. Every
 * level goes there: a daemon's stdout is nobody's to read. */
static GLogWriterOutput
write_stderr(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
	     gpointer user_data)
{
	g_autofree GLogField *all = g_memdup2(fields,
					       n_fields * sizeof(GLogField));
	g_autofree char *message = log_format_message(fields, n_fields);
	g_autofree char *line = NULL;

	for (gsize i = 0; i < n_fields; i++)
		if (g_str_equal(all[i].key, "MESSAGE"))
			all[i] = (GLogField){ "MESSAGE", message, -1 };
	line = g_log_writer_format_fields(level, all, n_fields,
					  log_color);
	if (fprintf(stderr, "%s\n", line) < 0 || fflush(stderr) != 0)
		return G_LOG_WRITER_UNHANDLED;
	return G_LOG_WRITER_HANDLED;
}

GLogWriterOutput
log_write(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
	  gpointer user_data)
{
	if (!log_debug && (level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)))
		return G_LOG_WRITER_HANDLED;
	if (log_to_journal &&
	    write_journal(level, fields, n_fields, user_data) ==
		    G_LOG_WRITER_HANDLED)
		return G_LOG_WRITER_HANDLED;
	return write_stderr(level, fields, n_fields, user_data);
}

void
log_setup(gboolean debug)
{
	log_debug = debug;
	/* systemd connects stderr to the journal: then the journal gets
	 * the priority and the fields, not a line of text. */
	log_to_journal = g_log_writer_is_journald(fileno(stderr));
	log_color = g_log_writer_supports_color(fileno(stderr));
	g_log_set_writer_func(log_write, NULL, NULL);
}
