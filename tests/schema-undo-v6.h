/* SQL that takes a database of schema 6 back to schema 5 (a hold's
 * request goes), for tests of the migration. */
#pragma once

static const char schema_undo_v6[] =
	"ALTER TABLE hold DROP COLUMN request;"
	"PRAGMA user_version = 5;";
