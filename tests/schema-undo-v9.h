/* SQL that takes a database of schema 9 back to schema 8 (the record
 * of places left by moves goes), for tests of the migration. */
#pragma once

static const char schema_undo_v9[] =
	"DROP TABLE resource_left;"
	"PRAGMA user_version = 8;";
