/* SQL that takes a database of schema 7 back to schema 6 (the slot
 * spans go), for tests of the migration. */
#pragma once

static const char schema_undo_v7[] =
	"DROP TABLE slot_span;"
	"PRAGMA user_version = 6;";
