/* Logging through GLib's structured logging: to the journal, with its
 * priority and our SLOTD_* fields, when stderr is connected to it; to
 * stderr otherwise, with the fields appended to the text.
 *
 * Records name bookings, units, services and offerings by id, never a
 * client reference or a feed token: the journal is read by more people
 * than the booking database is. */
#pragma once

#include <glib.h>

#define LOG_DOMAIN "slotd"

/* MESSAGE_IDs an administrator can search for (journalctl
 * MESSAGE_ID=…). They never change once released. */
#define LOG_ID_STARTED "f48a77f2a1424e4ab3776b6127bead26"
#define LOG_ID_STOPPING "98855db8441b4b63a394dbd5227e2e19"
#define LOG_ID_STOPPED "21ca95e076fd456e8f255369b8c1251f"
#define LOG_ID_RELOADED "3b3a8a63b8254636ba78274e74c03c3e"
#define LOG_ID_RELOAD_REFUSED "a64e04cd1a3446d29b7c730455286693"
#define LOG_ID_NEEDS_REBOOKING "4e2197e3da944961ae39183784598d0b"
#define LOG_ID_LOOP_HELD "c51e704af9344d86af64cf44a0302401"

/* Installs the writer for the whole process. Without `debug`, info and
 * debug records are dropped. */
void log_setup(gboolean debug);

/* The writer log_setup() installs, for tests. */
GLogWriterOutput log_write(GLogLevelFlags level, const GLogField *fields,
			   gsize n_fields, gpointer user_data);

/* The MESSAGE of a record followed by its SLOTD_* fields, as stderr
 * shows it: "booking changed [SLOTD_BOOKING=b-7 SLOTD_UNIT=W-SO-LOH]". */
char *log_format_message(const GLogField *fields, gsize n_fields);
