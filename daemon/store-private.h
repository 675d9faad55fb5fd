/* Internals shared by store.c (connection, schema, changes) and
 * store-report.c (reads, checks, copies): the only files that speak
 * SQL. Nothing else includes this header. */
#pragma once

#include <sqlite3.h>

#include "store.h"
#include "slotd/plugin.h"

/* Long enough for `slotctl backup` or an auditor's sqlite3 session to
 * finish a step; short enough that a stuck lock surfaces as an error. */
#define BUSY_TIMEOUT_MS 5000
/* Caller savepoints map to fixed names by depth, so their SQL is
 * static like every other statement's. */
#define MAX_SAVEPOINTS 4

/* A booking that holds its seats. */
#define LIVE "status NOT IN ('cancelled', 'entered-in-error')"

/* Every statement the store runs. Those before Q_REPORT_FIRST have
 * their SQL in store.c, the others in store-report.c. */
/* Flags bookings for rebooking, the one way every path does it (an
 * absence, a reload's withdrawn slots): only bookings that have not
 * begun yet and are not flagged already, as a change of the booking
 * (its SEQUENCE and modified, set to the parameter `now`, move). The
 * caller adds which bookings: " AND id ...". */
#define STORE_FLAG_REBOOKING(now) \
	"UPDATE booking SET needs_rebooking = 1, modified = " now "," \
	" sequence = sequence + 1 WHERE needs_rebooking = 0" \
	" AND " STORE_TO_COME("")
/* A booking still to come: the statuses a needs-rebooking flag is set
 * in, and shown in (feeds); `table` is "" or an alias and a dot. */
#define STORE_TO_COME(table) \
	table "status IN ('proposed', 'pending', 'booked')"

typedef enum {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_OP_SAVEPOINT,
	Q_OP_RELEASE,
	Q_OP_ROLLBACK,
	Q_SAVEPOINT,
	Q_RELEASE = Q_SAVEPOINT + MAX_SAVEPOINTS,
	Q_ROLLBACK_TO = Q_RELEASE + MAX_SAVEPOINTS,
	Q_USER_VERSION = Q_ROLLBACK_TO + MAX_SAVEPOINTS,
	Q_SCHEMA_COOKIE,
	Q_JOURNAL_MODE,
	Q_JOURNAL_MODE_READ,
	Q_BEGIN_READ,
	Q_CHECKPOINT,
	Q_MAX_GENERATION,
	Q_SLOT_UPSERT,
	Q_SLOT_WITHDRAW,
	Q_SLOT_WITHDRAW_FLAG,
	Q_SLOT_WITHDRAW_ONE,
	Q_SLOT_STATUS,
	Q_SEATS_TAKE,
	Q_SEATS_USE,
	Q_SEATS_RELEASE,
	Q_SEATS_FORGET,
	Q_HORIZON_GET,
	Q_HORIZON_SET,
	Q_HOLD_TAKE,
	Q_HOLD_INSERT,
	Q_HOLD_USE,
	Q_HOLD_GIVE_BACK,
	Q_HOLD_FORGET,
	Q_HOLD_DELETE,
	Q_HOLDS_GIVE_BACK,
	Q_HOLDS_FORGET,
	Q_HOLDS_EXPIRE,
	Q_BOOKING_INSERT,
	Q_BOOKING_EXISTS,
	Q_BOOKING_STATUS,
	Q_BOOKING_MOVE,
	Q_BOOKING_SERIES,
	Q_AUDIT,
	Q_META_GET,
	Q_META_SET,
	Q_META_GENERATION,
	Q_SPAN_ALL,
	Q_SPAN_KEEP,

	Q_REPORT_FIRST,
	Q_SLOT_GET = Q_REPORT_FIRST,
	Q_SLOT_LIST,
	Q_SLOT_PAGE,
	Q_SLOT_SPAN,
	Q_BOOKING_SLOTS,
	Q_HOLD_GET,
	Q_HOLD_NEXT,
	Q_BOOKING_GET,
	Q_BOOKING_MARKS,
	Q_BOOKING_BY_KEY,
	Q_LIST_BY_CLIENT,
	Q_LIST_BY_UNIT,
	Q_LIST_BY_SERVICE,
	Q_LIST_BY_OFFERING,
	Q_LIST_BY_MODIFIED,
	Q_LIST_ALL,
	Q_CLIENT_COUNT,
	Q_SLOT_BOOKINGS,
	Q_SLOT_HOLDS,
	Q_SLOT_HISTORY,
	Q_AUDIT_OF_BOOKING,
	Q_SERIES_BOOKINGS,
	Q_INTEGRITY,
	Q_FOREIGN_KEYS,
	Q_SEAT_COUNTS,

	/* Feeds: store-feed.c holds their SQL. */
	Q_FEED_FIRST,
	Q_FEED_BOOKINGS = Q_FEED_FIRST,
	Q_FEED_TOKEN_ADD,
	Q_FEED_TOKEN_REVOKE,
	Q_FEED_TOKEN_LOOKUP,
	Q_FEED_PRACTITIONER,
	Q_FEED_LAST = Q_FEED_PRACTITIONER,

	/* Resources: store-resource.c holds their SQL. */
	Q_RES_FIRST,
	Q_RES_BUSY = Q_RES_FIRST,
	Q_RES_USE,
	Q_RES_LEAVE,
	Q_RES_LEFT_EXPIRE,
	Q_RES_FORGET,
	Q_RES_OF_BOOKING,
	Q_RES_OF_SERIES,
	Q_RES_BOOKINGS,
	Q_RES_ABSENCE_ADD,
	Q_RES_ABSENCES,
	Q_RES_FLAG,
	Q_RES_UNASSIGNED,
	Q_RES_USAGE,
	Q_RES_OF_SLOT,
	Q_RES_LAST = Q_RES_OF_SLOT,

	/* Waitlist and outbox: store-waitlist.c holds their SQL. */
	Q_WAIT_FIRST,
	Q_WAIT_INSERT = Q_WAIT_FIRST,
	Q_WAIT_GET,
	Q_WAIT_LIST,
	Q_WAIT_SET_STATUS,
	Q_WAIT_FREE_SLOTS,
	Q_WAIT_CANDIDATES,
	Q_WAIT_OFFER_INSERT,
	Q_WAIT_OFFER_CLOSE,
	Q_WAIT_OFFER_EXPIRE,
	Q_WAIT_OFFER_BY_HOLD,
	Q_OUTBOX_ADD,
	Q_OUTBOX_VOID,
	Q_OUTBOX_CLAIM,
	Q_OUTBOX_ACK,
	Q_OUTBOX_LIST,
	Q_WAIT_LAST = Q_OUTBOX_LIST,
	N_QUERIES
} QueryId;

/* Indexed by QueryId; only the ids from Q_REPORT_FIRST on are set. */
extern const char *const store_report_sql[N_QUERIES];
/* The SQL of the other files, each indexed from its range's first id;
 * store_query() prepares any of them on first use. */
extern const char *const store_feed_sql[Q_FEED_LAST - Q_FEED_FIRST + 1];
extern const char *const store_resource_sql[Q_RES_LAST - Q_RES_FIRST + 1];
extern const char *const store_waitlist_sql[Q_WAIT_LAST - Q_WAIT_FIRST + 1];

/* WAL checkpoints on a thread of their own (store-checkpoint.c). */
typedef struct _StoreCheckpointer StoreCheckpointer;
StoreCheckpointer *store_checkpointer_start(Store *store);
void store_checkpointer_stop(Store *store, StoreCheckpointer *cp);

struct _Store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *queries[N_QUERIES];
	GPtrArray *savepoints;	/* the caller's names, outermost first */
	gboolean in_transaction; /* between store_begin and commit/rollback */
	gboolean op_began;	/* the running op savepoint began a txn */
	gboolean readonly;	/* store_open_readonly(): a worker's reader */
	gint64 generation;	/* the last one handed out */
	/* The slot generation in meta: as committed, and as written in
	 * the open transaction (0: not written there, or rolled back). */
	gint64 generation_saved;
	gint64 generation_pending;
	/* Each offering's longest slot in slot_span, the same way: as
	 * committed and as written in the open transaction (offering ->
	 * seconds; the main connection's only, load_spans()). */
	GHashTable *span_saved;
	GHashTable *span_pending;
	StoreCheckpointer *checkpointer; /* the main connection's */
	/* Feed tokens found (not revoked), by hash: a calendar app polls
	 * every few minutes, and each poll asked the database. Only this
	 * connection revokes, and a revoke empties it (store-feed.c). */
	GHashTable *feed_tokens;
};

gboolean store_span_known(Store *store, const char *offering,
			  gint64 *ret_seconds);

/* A prepared statement on loan from the Store: reset and unbound when
 * the variable goes out of scope, never finalized. */
typedef sqlite3_stmt *Query;

static inline void
query_return(Query *query)
{
	if (*query == NULL)
		return;
	sqlite3_reset(*query);
	sqlite3_clear_bindings(*query);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Query, query_return)

static inline void
store_bind_text(Query q, int index, const char *text)
{
	/* Bindings are cleared before `text` can go away (query_return). */
	sqlite3_bind_text(q, index, text, -1, SQLITE_STATIC);
}

static inline char *
store_column_dup(Query q, int column)
{
	return g_strdup((const char *)sqlite3_column_text(q, column));
}

/* The statement for `id`, prepared on first use and kept. */
Query store_query(Store *store, QueryId id, GError **error);
/* Turns an SQLite result into a SLOTD_ERROR; always FALSE. */
gboolean store_fail(Store *store, int rc, const char *what, GError **error);
gboolean store_fail_query(Store *store, int rc, Query q, GError **error);
/* NO_SUCH_SLOT, NO_SUCH_BOOKING or NO_SUCH_HOLD; always FALSE. */
gboolean store_not_found(GError **error, SlotdErrorCode code);
/* Steps a statement whose rows, if any, are not needed. */
gboolean store_run(Store *store, Query q, GError **error);
/* Runs statement `id` with `value` bound to ?1. */
gboolean store_run_id(Store *store, QueryId id, gint64 value, GError **error);
/* One integer from the first row; `fallback` when there is no row. */
gboolean store_query_int(Store *store, Query q, gint64 fallback,
			 gint64 *ret_value, GError **error);
/* Steps through a statement appending its first column; on an error
 * appends nothing. `ret_ids` may be NULL. */
gboolean store_collect_ids(Store *store, Query q, GArray *ret_ids,
			   GError **error);
/* NO_SUCH_BOOKING unless the booking exists. */
gboolean store_booking_exists(Store *store, gint64 booking_id,
			      GError **error);
