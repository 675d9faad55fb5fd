/* SQL that takes a database of schema 5 back to schema 4 (the
 * waitlist, its offers and the notification outbox go), for tests of
 * the migration. */
#pragma once

static const char schema_undo_v5[] =
	"DROP TABLE outbox;"
	"DROP TABLE waitlist_offer;"
	"DROP TABLE waitlist_entry;"
	"PRAGMA user_version = 4;";
