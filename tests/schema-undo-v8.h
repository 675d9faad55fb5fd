/* SQL that takes a database of schema 8 back to schema 7: the CHECKs
 * list their values with IN again, in the very words of the older
 * definitions, for tests of the migration. */
#pragma once

#define CHECK_AS_IN(table, or_chain, in_list) \
	"UPDATE sqlite_schema SET \"sql\" = replace(\"sql\", '" or_chain \
	"', '" in_list "') WHERE type = 'table' AND name = '" table "';"

static const char schema_undo_v8[] =
	"PRAGMA writable_schema = ON;"
	CHECK_AS_IN("booking",
		    "(status = ''proposed'' OR status = ''pending'' OR "
		    "status = ''booked'' OR status = ''arrived'' OR "
		    "status = ''checked-in'' OR status = ''fulfilled'' OR "
		    "status = ''cancelled'' OR status = ''noshow'' OR "
		    "status = ''entered-in-error'' OR status = ''waitlist'')",
		    "status IN (''proposed'', ''pending'',  ''booked'', "
		    "''arrived'', ''checked-in'', ''fulfilled'', "
		    "''cancelled'',  ''noshow'', ''entered-in-error'', "
		    "''waitlist'')")
	CHECK_AS_IN("waitlist_entry",
		    "(status = ''waiting'' OR status = ''booked'' OR "
		    "status = ''left'')",
		    "status IN (''waiting'', ''booked'', ''left'')")
	CHECK_AS_IN("waitlist_offer",
		    "(status = ''open'' OR status = ''accepted'' OR "
		    "status = ''declined'' OR status = ''expired'' OR "
		    "status = ''withdrawn'')",
		    "status IN (''open'',  ''accepted'', ''declined'', "
		    "''expired'', ''withdrawn'')")
	CHECK_AS_IN("outbox",
		    "(kind = ''booked'' OR kind = ''rescheduled'' OR "
		    "kind = ''cancelled'' OR kind = ''offer'' OR "
		    "kind = ''reminder'')",
		    "kind IN (''booked'', ''rescheduled'',  ''cancelled'', "
		    "''offer'', ''reminder'')")
	CHECK_AS_IN("outbox",
		    "(state = ''pending'' OR state = ''claimed'' OR "
		    "state = ''acked'' OR state = ''void'')",
		    "state IN (''pending'',  ''claimed'', ''acked'', ''void'')")
	"PRAGMA writable_schema = RESET;"
	"PRAGMA user_version = 7;";
