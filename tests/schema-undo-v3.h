/* SQL that takes a database of schema 3 back to schema 2, for tests of
 * the migration from a database an earlier release made. */
#pragma once

static const char schema_undo_v3[] =
	"DROP INDEX booking_by_series;"
	"ALTER TABLE booking DROP COLUMN series;"
	"ALTER TABLE booking DROP COLUMN series_index;"
	"ALTER TABLE booking DROP COLUMN series_length;"
	"DROP INDEX hold_by_client;"
	"ALTER TABLE hold DROP COLUMN offering;"
	"ALTER TABLE hold DROP COLUMN service;"
	"ALTER TABLE hold DROP COLUMN start;"
	"ALTER TABLE hold DROP COLUMN \"end\";"
	"ALTER TABLE hold DROP COLUMN client_ref;"
	"ALTER TABLE hold DROP COLUMN extras;"
	"ALTER TABLE hold DROP COLUMN created;"
	"DROP TABLE hold_use;"
	"PRAGMA user_version = 2;";
