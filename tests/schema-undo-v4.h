/* SQL that takes a database of schema 4 back to schema 3 (the release
 * before resources), for tests of the migration. */
#pragma once

static const char schema_undo_v4[] =
	"DROP TABLE resource_use;"
	"DROP TABLE absence;"
	"PRAGMA user_version = 3;";
