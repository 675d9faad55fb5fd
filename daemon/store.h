/* The durable store (SQLite). Only store*.c include <sqlite3.h>.
 *
 * One connection on the main thread, WAL, synchronous=FULL, foreign
 * keys on, statements prepared once, write transactions BEGIN
 * IMMEDIATE, migrations keyed on PRAGMA user_version; read-only
 * connections of their own for the planning workers
 * (store_open_readonly). Storage faults
 * (full disk, read-only file, I/O error) are reported as
 * SLOTD_ERROR_STORAGE_UNAVAILABLE; nothing half-written remains.
 *
 * Ids inside the store are integers; the text ids callers see
 * ("s-12", "b-7", "h-3") are made by capacity.c. Booking ids come from
 * AUTOINCREMENT and are never reused. */
#pragma once

#include <glib.h>

typedef struct _Store Store;

typedef enum {
	SLOT_STATUS_FREE,		/* bookable */
	SLOT_STATUS_BUSY_UNAVAILABLE,	/* capacity withdrawn by config */
} SlotStatus;

typedef struct {
	gint64 id;
	char *offering;
	char *kind;
	gint64 start;
	gint64 end;
	guint capacity;
	guint booked;
	guint held;
	SlotStatus status;
} StoreSlot;

typedef struct {
	gint64 id;
	gint64 slot;		/* the slot it starts in */
	char *offering;
	char *unit;
	char *service;
	gint64 start;
	gint64 end;
	char *client_ref;	/* "" anonymous */
	char *status;		/* FHIR AppointmentStatus code */
	guint seats;
	char *municipality;	/* NULL when not given */
	char *language;
	char *modality;
	char *urgency;
	gint64 referral_time;	/* 0 none */
	char *idempotency_key;	/* NULL none */
	GVariant *extras;	/* a{sv}, never NULL */
	gint64 sequence;	/* grows with every change */
	gint64 created;
	gint64 modified;
	guint32 created_by;	/* uid */
	gboolean needs_rebooking;
	char *cancel_reason;
	gint64 series;		/* id of its series' first booking; 0 none */
	guint series_index;	/* 0-based place in the series */
	guint series_length;	/* 1 for a single booking */
} StoreBooking;

typedef struct {
	gint64 id;
	gint64 slot;		/* the slot the held booking would start in */
	guint seats;		/* in every slot of the run */
	gint64 expires;
	guint32 uid;
	char *request;		/* what it was taken for; "" nothing */
} StoreHold;

void store_hold_clear(StoreHold *hold);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(StoreHold, store_hold_clear)

/* What a new hold reserves: `seats` in each of `slots` (the run the
 * booking would take), and the request it was taken for, which plugins
 * see as a booking in progress (status "pending"). */
typedef struct {
	const char *offering;
	const char *service;
	gint64 start;
	gint64 end;
	const char *client_ref;	/* NULL: not known yet */
	GVariant *extras;	/* a{sv} from admission */
	guint seats;
	GArray *slots;		/* gint64 slot ids, the first one first */
	gint64 expires;
	guint32 uid;
	gint64 created;
	const char *request;	/* NULL or "": promises no request */
} StoreHoldRequest;

/* Where Reschedule moves a booking, and what it takes there. */
typedef struct {
	gint64 slot;
	const char *offering;
	const char *unit;
	gint64 start;
	gint64 end;
	guint seats;
	const char *modality;	/* NULL: keep */
	GVariant *extras;	/* NULL: keep */
} StoreMove;

typedef struct {
	const char *unit;	/* NULL: any */
	const char *service;	/* NULL: any */
	const char *offering;	/* NULL: any */
	const char *status;	/* NULL: any */
	const char *client_ref; /* NULL: any */
	gint64 from;		/* start >= from; 0 = no bound */
	gint64 to;		/* start < to; 0 = no bound */
	gint64 modified_since;	/* 0 = no bound */
	gboolean needs_rebooking_only;
	guint limit;		/* 0 = no limit */
} StoreBookingFilter;

void store_slot_free(StoreSlot *slot);
void store_slot_clear(StoreSlot *slot);
void store_booking_free(StoreBooking *booking);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreSlot, store_slot_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(StoreSlot, store_slot_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreBooking, store_booking_free)

/* Opens (creating and migrating) the database file. A file written by
 * a newer schema than this code knows is refused (STORAGE_UNAVAILABLE).
 * Store functions that change more than one row are each atomic on
 * their own: on an error nothing of that call remains. */
Store *store_open(const char *path, GError **error);
/* A connection for reading only, for one worker thread at a time (a
 * Planner1 report): opened read-only with query_only on, it never
 * creates, migrates or writes the file, and in WAL mode it reads the
 * last commit while the main connection writes. The file must exist
 * with the current schema (store_open() made it so). Every function
 * that only reads may be given it; the others fail with
 * STORAGE_UNAVAILABLE. */
Store *store_open_readonly(const char *path, GError **error);
/* Finishes: checkpoints the WAL (the main connection) and closes the
 * connection. */
void store_close(Store *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Store, store_close)
const char *store_path(Store *store);

/* The daemon's settings of the SQLite library, before anything opens a
 * database: no memory statistics (nothing asks for them, and keeping
 * them takes a global mutex for every allocation). */
void store_setup_library(void);

/* ---- transactions --------------------------------------------------- */
gboolean store_begin(Store *store, GError **error);	/* BEGIN IMMEDIATE */
/* On failure nothing of the transaction remains (it is rolled back). */
gboolean store_commit(Store *store, GError **error);
/* Safe after any failure, also when SQLite rolled back by itself. After
 * a storage fault every call in the transaction fails until this. */
void store_rollback(Store *store);
gboolean store_in_transaction(Store *store);
/* Rows this connection has inserted, updated or deleted since it opened
 * (sqlite3_total_changes64): unchanged means nothing was written. */
gint64 store_total_changes(Store *store);
/* A read transaction (BEGIN DEFERRED): every read until store_read_end
 * sees the same commit, as a report that adds up several queries must.
 * Writers are not held up (WAL). */
gboolean store_read_begin(Store *store, GError **error);
void store_read_end(Store *store);
/* Nested units of work inside a transaction (one per request when
 * several requests share a commit), at most 4 deep. As in SQL,
 * store_rollback_to undoes the work but keeps the savepoint open until
 * store_release or the end of the transaction. */
gboolean store_savepoint(Store *store, const char *name, GError **error);
gboolean store_release(Store *store, const char *name, GError **error);
void store_rollback_to(Store *store, const char *name);

/* ---- slots ---------------------------------------------------------- */
/* Inserts the slot, or updates the capacity of the existing
 * (offering, start, kind) slot. If the new capacity is below what is
 * booked and held, the slot becomes busy-unavailable (capacity kept);
 * its bookings are flagged by the store_withdraw_unseen() or
 * store_flag_withdrawn() of the range that follows. Marks the slot as
 * seen in `generation`. */
gboolean store_upsert_slot(Store *store, const char *offering,
			   const char *kind, gint64 start, gint64 end,
			   guint capacity, gint64 generation,
			   gint64 *ret_slot_id, GError **error);
/* Slots of the offering starting in [from, to) not seen in
 * `generation` become busy-unavailable. Bookings still to come that
 * hold seats in any busy-unavailable slot of the range (withdrawn now,
 * earlier, or by a capacity cut in store_upsert_slot) and are not
 * flagged yet are flagged needs_rebooking at `now` (their SEQUENCE
 * and modified move: a change like any other) and appended to
 * ret_booking_ids in ascending order. */
gboolean store_withdraw_unseen(Store *store, const char *offering,
			       gint64 from, gint64 to, gint64 generation,
			       gint64 now, GArray *ret_booking_ids,
			       GError **error);
/* One slot, if it is free and starts at or after `not_before`, becomes
 * busy-unavailable; its bookings are not flagged (see
 * store_flag_withdrawn). A Reload withdraws slot by slot, a few
 * milliseconds of them per transaction. */
gboolean store_withdraw_slot(Store *store, gint64 slot_id, gint64 not_before,
			     GError **error);
/* The second half of store_withdraw_unseen(): bookings still to come
 * with seats in any busy-unavailable slot of the offering starting in
 * [from, to), not flagged yet, are flagged needs_rebooking at `now`
 * and appended to ret_booking_ids (may be NULL), in ascending order. */
gboolean store_flag_withdrawn(Store *store, const char *offering, gint64 from,
			      gint64 to, gint64 now, GArray *ret_booking_ids,
			      GError **error);
gboolean store_get_slot(Store *store, gint64 slot_id, StoreSlot *ret_slot,
			GError **error);
/* Slots of an offering with start in [from, to), ordered by start;
 * appends StoreSlot values (clear each with store_slot_clear). */
gboolean store_list_slots(Store *store, const char *offering, gint64 from,
			  gint64 to, GArray *ret_slots, GError **error);
/* One page of a search: at most `limit` slots of an offering after
 * (after_start, after_kind) in (start, kind) order, with start before
 * `to`; a page may end inside a start, and the next one goes on from
 * its last slot. *ret_more is FALSE when the window has no slot after
 * them (TRUE may find none). From `from` on: after_start = from - 1,
 * after_kind = NULL. */
gboolean store_list_slot_page(Store *store, const char *offering,
			      gint64 after_start, const char *after_kind,
			      gint64 to, guint limit, GArray *ret_slots,
			      gboolean *ret_more, GError **error);
/* The longest slot (end - start, seconds) the offering has ever had; 0
 * when it has none. A slot in progress at `t` started after
 * t - this. */
gboolean store_slot_longest(Store *store, const char *offering,
			    gint64 *ret_seconds, GError **error);
/* Takes `seats` in a slot: fails with SLOT_FULL unless the slot is free
 * and booked + held + seats <= capacity. */
gboolean store_take_seats(Store *store, gint64 booking_id, gint64 slot_id,
			  guint seats, GError **error);
/* Gives back every seat the booking holds (none: no-op). */
gboolean store_release_seats(Store *store, gint64 booking_id, GError **error);
/* Slot ids a booking holds seats in, by start; none once released. */
gboolean store_booking_slots(Store *store, gint64 booking_id,
			     GArray *ret_slot_ids, GError **error);

/* ---- horizon bookkeeping -------------------------------------------- */
/* How far an offering is materialised and from which config digest;
 * 0 and NULL for an offering never materialised. */
gboolean store_get_horizon(Store *store, const char *offering,
			   gint64 *ret_until, char **ret_digest,
			   GError **error);
gboolean store_set_horizon(Store *store, const char *offering, gint64 until,
			   const char *digest, GError **error);
gint64 store_next_generation(Store *store);
/* Offerings with a materialised horizon (digest not cleared); appends
 * owned strings. */
gboolean store_list_horizon_offerings(Store *store, GPtrArray *ret_offerings,
				      GError **error);

/* ---- holds ---------------------------------------------------------- */
/* Takes the seats of every slot of the run (SLOT_FULL unless each has
 * room) and records the hold; all or nothing. */
gboolean store_insert_hold(Store *store, const StoreHoldRequest *hold,
			   gint64 *ret_hold_id, GError **error);
/* NO_SUCH_HOLD when unknown or already expired at `now`. */
gboolean store_get_hold(Store *store, gint64 hold_id, gint64 now,
			StoreHold *ret_hold, GError **error);
gboolean store_delete_hold(Store *store, gint64 hold_id, GError **error);
/* Every booking that starts in a slot, whatever its status, by
 * creation. */
gboolean store_slot_history(Store *store, gint64 slot_id,
			    GPtrArray *ret_bookings, GError **error);
/* Live holds reserving seats in a slot, as bookings in status
 * "pending" whose id is the hold id negated. */
gboolean store_slot_holds(Store *store, gint64 slot_id,
			  GPtrArray *ret_holds, GError **error);
/* Deletes holds expired at `now`, giving their seats back; appends the
 * slot ids that changed. */
gboolean store_expire_holds(Store *store, gint64 now, GArray *ret_slot_ids,
			    GError **error);
/* The earliest expiry of any hold, or 0. */
gint64 store_next_hold_expiry(Store *store);

/* ---- bookings ------------------------------------------------------- */
/* Inserts the booking; sets booking->id. */
gboolean store_insert_booking(Store *store, StoreBooking *booking,
			      GError **error);
gboolean store_get_booking(Store *store, gint64 booking_id,
			   StoreBooking **ret_booking, GError **error);
/* Only a booking's sequence and needs_rebooking, without reading the
 * row into a StoreBooking (its extras parsed and all). */
gboolean store_get_booking_marks(Store *store, gint64 booking_id,
				 gint64 *ret_sequence,
				 gboolean *ret_needs_rebooking,
				 GError **error);
/* NULL result (and TRUE) when no booking carries the key. */
gboolean store_find_idempotent(Store *store, const char *key,
			       StoreBooking **ret_booking, GError **error);
/* Sets status (and a reason), bumps sequence and modified. */
gboolean store_update_booking_status(Store *store, gint64 booking_id,
				     const char *status, const char *reason,
				     gint64 now, GError **error);
/* Moves a booking to another slot/time with the seats it takes there;
 * bumps sequence once and sets modified. */
gboolean store_move_booking(Store *store, gint64 booking_id,
			    const StoreMove *move, gint64 now, GError **error);
/* Marks a booking as part of the series that starts with `series`. */
gboolean store_set_booking_series(Store *store, gint64 booking_id,
				  gint64 series, GError **error);
/* Live bookings of a series, by place in it. */
gboolean store_series_bookings(Store *store, gint64 series,
			       GPtrArray *ret_bookings, GError **error);
/* Appends StoreBooking* (free with store_booking_free), by start. */
gboolean store_list_bookings(Store *store, const StoreBookingFilter *filter,
			     GPtrArray *ret_bookings, GError **error);
/* Live bookings and holds of one client starting in [from, to) of the
 * service (NULL: any service), leaving out booking `except` (0: none). */
gboolean store_count_client_bookings(Store *store, const char *client_ref,
				     const char *service, gint64 from,
				     gint64 to, gint64 except,
				     guint *ret_count, GError **error);
/* Live bookings that hold seats in a slot, by creation. */
gboolean store_slot_bookings(Store *store, gint64 slot_id,
			     GPtrArray *ret_bookings, GError **error);

/* ---- audit ---------------------------------------------------------- */
/* Appends one row. The table refuses UPDATE and DELETE (triggers). */
gboolean store_audit(Store *store, gint64 at, guint32 uid, const char *caller,
		     const char *action, gint64 booking_id, const char *detail,
		     GError **error);

/* One audit row of a booking. */
typedef struct {
	gint64 at;
	guint32 uid;
	char *caller;
	char *action;
	char *detail;
} StoreAuditRow;

void store_audit_row_free(StoreAuditRow *row);
/* The audit rows of a booking, oldest first; appends StoreAuditRow*. */
gboolean store_booking_history(Store *store, gint64 booking_id,
			       GPtrArray *ret_rows, GError **error);

/* ---- kv: daemon state that is not bookings -------------------------- */
/* *ret_value is NULL when the key was never set. */
gboolean store_get_meta(Store *store, const char *key, char **ret_value,
			GError **error);
gboolean store_set_meta(Store *store, const char *key, const char *value,
			GError **error);

/* PRAGMA integrity_check == "ok", no dangling references, and every
 * slot's booked and held counts match its bookings' and holds' seats. */

/* ---- resources (store-resource.c, schema 4) -------------------------- */

/* A resource taken by a booking or a hold for [start, end). */
typedef struct {
	const char *resource;
	const char *unit;	/* the resource's home unit */
	gint64 booking;		/* or 0 */
	gint64 hold;		/* or 0 */
	gint64 slot;
	gint64 start;
	gint64 end;
} StoreResourceUse;

typedef struct {
	gint64 id;
	char *resource;
	gint64 start;
	gint64 end;
	char *reason;
	gint64 created;
	guint32 created_by;
} StoreAbsence;

void store_absence_free(StoreAbsence *absence);
/* A live use of a resource: by a booking that holds seats, or by a
 * hold (booking 0). `resource` is interned (g_intern_string). */
typedef struct {
	const char *resource;
	gint64 start, end;
	gint64 booking;
} StoreResourceBusy;
/* Appends to `ret_uses` (of StoreResourceBusy) the live uses of the
 * resources of `unit` that overlap [start, end), in start order. */
gboolean store_resources_busy(Store *store, const char *unit, gint64 start,
			      gint64 end, GArray *ret_uses, GError **error);
/* The resources live bookings (other than `except`) and holds of one
 * slot take, each with the seats taken with it: `ret_seats` maps an id
 * (a string it owns) to GUINT_TO_POINTER(seats). */
gboolean store_slot_resources(Store *store, gint64 slot, gint64 except,
			      GHashTable *ret_seats, GError **error);
gboolean store_use_resource(Store *store, const StoreResourceUse *use,
			    GError **error);
/* Drops a booking's rows (it is moved and takes others), writing
 * the places it leaves, with the booking as it was, to resource_left
 * at `now`: call it before the booking row moves. Rows left before
 * `keep_since` (no feed shows them any more) go. */
gboolean store_forget_resources(Store *store, gint64 booking, gint64 now,
				gint64 keep_since, GError **error);
/* Resource ids of a booking (or, with `hold`, of a hold), in the
 * order they were taken. */
gboolean store_booking_resources(Store *store, gint64 booking, gint64 hold,
				 GPtrArray *ret_ids, GError **error);
/* Resources of the live bookings of `series` other than `except`, the
 * latest visit's first. */
gboolean store_series_resources(Store *store, gint64 series, gint64 except,
				GPtrArray *ret_ids, GError **error);
/* Live bookings taking `resource` in any part of [from, to), by start
 * (gint64 ids). */
gboolean store_resource_bookings(Store *store, const char *resource,
				 gint64 from, gint64 to, GArray *ret_ids,
				 GError **error);
gboolean store_add_absence(Store *store, const StoreAbsence *absence,
			   gint64 *ret_id, GError **error);
/* Every absence not withdrawn that ends after `after`, by start. */
gboolean store_list_absences(Store *store, gint64 after, GPtrArray *ret,
			     GError **error);
/* Sets needs_rebooking on an upcoming booking; TRUE if it changed. */
gboolean store_flag_rebooking(Store *store, gint64 booking, gint64 now,
			      gboolean *ret_changed, GError **error);
/* Live bookings starting from `from` at offerings in `offerings` that
 * hold no resource yet (from before resources were configured). */
gboolean store_unassigned_bookings(Store *store, const char *offering,
				   gint64 from, GArray *ret_ids,
				   GError **error);
/* Minutes each resource was taken by live bookings in [from, to):
 * appends (resource, minutes, bookings) as GVariant "(stt)". */
gboolean store_resource_usage(Store *store, gint64 from, gint64 to,
			      GPtrArray *ret_rows, GError **error);

gboolean store_integrity_check(Store *store, GError **error);
/* Online backup (SQLite backup API) without blocking writers for long:
 * a copy of the last commit, written to a temporary of its own in the
 * directory open as `dir_fd` (whose path is `dir`), then given the new
 * name `name` there. An existing `name` is never replaced: it is
 * refused with InvalidArgs, before the copy and again (a file that
 * appeared meanwhile) when the copy is named. Where a backup may go is
 * decided by the caller (backup.c). It reads through connections of
 * its own (the Store gives only its path), so a worker thread may run
 * it. */
gboolean store_backup_at(Store *store, int dir_fd, const char *dir,
			 const char *name, GError **error);
/* store_backup_at() in the directory of `path` (tests, tools). */
gboolean store_backup(Store *store, const char *path, GError **error);

/* For tests: caps the database at `max_pages` pages (at least its
 * current size) so that growing it fails as on a full disk; 0 lifts
 * the cap. */
void store_test_set_max_pages(Store *store, guint max_pages);

/* ---- planning (store-plan.c) ---------------------------------------- */
/* Aggregate reads for Planner1's reports. Instants are put into local
 * days inside SQL: local = utc + offset, where the offset is
 * `base_offset` before the first step and changes at each step (the
 * DST changes of the report's range, at most STORE_LOCAL_STEPS). A
 * local day number counts days since 1970-01-01 on the local calendar. */
#define STORE_LOCAL_STEPS 4

typedef struct {
	int base_offset;		/* seconds east of UTC */
	guint n_steps;
	gint64 step_at[STORE_LOCAL_STEPS];	/* ascending */
	int step_offset[STORE_LOCAL_STEPS];	/* from step_at on */
} StoreLocalClock;

/* What the free (not withdrawn) slots of one offering hold on one
 * local day, in places (seats times slots). */
typedef struct {
	gint64 day;
	gint64 capacity;
	gint64 booked;
	gint64 held;
} StoreSlotDay;

/* What one unit's bookings of one local day came to. */
typedef struct {
	gint64 bookings;		/* live ones */
	gint64 noshows;
	gint64 cancelled_by_client;	/* cancel reason "client..." */
	gint64 cancelled_by_provider;	/* cancel reason "provider..." */
} StoreBookingDay;

typedef void (*StoreBookingDayFunc)(const char *unit, gint64 day,
				    const StoreBookingDay *counts,
				    gpointer user_data);
typedef void (*StoreLeadTimeFunc)(const char *unit, gint64 day,
				  gint64 lead_seconds, gpointer user_data);

/* A live booking of a service that carries a referral time. */
typedef struct {
	gint64 id;
	char *unit;
	char *status;
	gint64 start;
	gint64 referral_time;
	gint age;		/* the `age` extra, -1 when not given */
} StoreReferral;

void store_referral_free(StoreReferral *referral);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreReferral, store_referral_free)

/* Appends one StoreSlotDay per local day that has free slots of the
 * offering starting in [from, to), by day. */
gboolean store_plan_slot_days(Store *store, const char *offering,
			      gint64 from, gint64 to,
			      const StoreLocalClock *clock, GArray *ret_days,
			      GError **error);
/* Bookings of the service starting in [from, to), counted per unit
 * and local day: live ones, no-shows, and cancellations by the client
 * and by the provider. */
gboolean store_plan_booking_days(Store *store, const char *service,
				 gint64 from, gint64 to,
				 const StoreLocalClock *clock,
				 StoreBookingDayFunc func, gpointer user_data,
				 GError **error);
/* The lead time (start - created, at least 0) of every live booking of
 * the service starting in [from, to), shortest first. */
gboolean store_plan_lead_times(Store *store, const char *service,
			       gint64 from, gint64 to,
			       const StoreLocalClock *clock,
			       StoreLeadTimeFunc func, gpointer user_data,
			       GError **error);
/* Appends the starts of the first `n` free slots of the offering with
 * a free place that start at or after `from`. */
gboolean store_plan_next_free(Store *store, const char *offering,
			      gint64 from, guint n, GArray *ret_starts,
			      GError **error);
/* Appends StoreReferral* of live bookings of the service with a
 * referral time that start in [from, to), by start. */
gboolean store_plan_referrals(Store *store, const char *service, gint64 from,
			      gint64 to, GPtrArray *ret_referrals,
			      GError **error);

/* ---- feeds (store-feed.c) ------------------------------------------- */
/* A booking as a calendar feed shows it, and nothing more. */
typedef struct {
	gint64 id;
	char *offering;
	char *unit;
	char *service;
	gint64 start;
	gint64 end;
	char *client_ref;	/* "" anonymous */
	char *status;		/* FHIR AppointmentStatus code */
	char *municipality;	/* the client's home; NULL when not given */
	char *modality;		/* NULL when not given */
	gint64 sequence;
	gint64 created;
	gint64 modified;
	char *language;		/* service language; NULL when not given */
	char *urgency;		/* NULL when not given */
	gint64 series_index;	/* 0-based place in its series */
	gint64 series_length;	/* 1: not part of a series */
	/* flagged needs-rebooking and still to come (STORE_TO_COME);
	 * never for the row of a move away, which shows cancelled */
	gboolean needs_rebooking;
	/* practitioner feeds: when the practitioner is taken, travel
	 * included ([start, end) within it); 0 in unit feeds */
	gint64 use_start;
	gint64 use_end;
} StoreFeedBooking;

void store_feed_booking_free(StoreFeedBooking *booking);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreFeedBooking, store_feed_booking_free)

/* Bookings of `unit` (and of `service`; NULL: every service) starting
 * at or after `from`: those still standing, and the cancelled or
 * entered-in-error ones changed at or after `cancelled_since`. Appends
 * StoreFeedBooking* by start, then id. */
gboolean store_feed_bookings(Store *store, const char *unit,
			     const char *service, gint64 from,
			     gint64 cancelled_since, GPtrArray *ret_bookings,
			     GError **error);

/* The same for the bookings that take practitioner `resource` (rows
 * of resource_use, any unit), with the time it is taken in use_start
 * and use_end. The client reference is never read: client_ref is "". */
gboolean store_feed_practitioner_bookings(Store *store, const char *resource,
					  gint64 from, gint64 cancelled_since,
					  GPtrArray *ret_bookings,
					  GError **error);

/* Feed tokens. Only a token's SHA-256 (32 bytes) is stored; `service`
 * "" means every service of the unit. */
#define STORE_FEED_HASH_SIZE 32
gboolean store_feed_token_add(Store *store, const guint8 *hash,
			      const char *unit, const char *service,
			      gint64 now, guint32 uid, GError **error);
/* NO_SUCH_TOKEN when unknown or revoked already; on success the scope
 * it had (either may be NULL). */
gboolean store_feed_token_revoke(Store *store, const guint8 *hash,
				 gint64 now, char **ret_unit,
				 char **ret_service, GError **error);
/* The stored hash and scope of a live token whose hash is `hash`;
 * *ret_found is FALSE (and TRUE returned) for an unknown or revoked
 * one. The caller compares ret_hash with its own in constant time. */
gboolean store_feed_token_lookup(Store *store, const guint8 *hash,
				 guint8 *ret_hash, char **ret_unit,
				 char **ret_service, gboolean *ret_found,
				 GError **error);

/* ---- waitlist and outbox (store-waitlist.c, schema version 4) ------- */
/* The migration step that adds the waitlist, its offers and the
 * notification outbox; CREATE ... IF NOT EXISTS throughout. */
extern const char store_schema_waitlist[];

/* A waitlist entry, with its open offer if it has one. */
typedef struct {
	gint64 id;
	char *service;
	char *client_ref;
	char *municipality;	/* code, NULL when not given */
	char *language;		/* NULL when not given */
	char *modality;		/* NULL when not given */
	gint64 earliest;	/* acceptable starts: [earliest, latest) */
	gint64 latest;
	gint64 deadline;	/* orders entries of one priority */
	guint priority;		/* 1 first .. 9 last */
	gint64 created;
	guint32 uid;		/* who put it on the list */
	char *status;		/* waiting, booked, left */
	gint64 booking;		/* booked: the booking; else 0 */
	gint64 offer;		/* the open offer; 0 none */
	gint64 offer_slot;
	gint64 offer_hold;
	gint64 offer_expires;
} StoreWaitEntry;

void store_wait_entry_free(StoreWaitEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreWaitEntry, store_wait_entry_free)

/* Inserts a waiting entry; sets entry->id. */
gboolean store_wait_insert(Store *store, StoreWaitEntry *entry,
			   GError **error);
/* NO_SUCH_ENTRY when unknown. */
gboolean store_wait_get(Store *store, gint64 id, StoreWaitEntry **ret_entry,
			GError **error);
/* Entries of a service still on the list, in offer order (priority,
 * deadline, time on the list); appends StoreWaitEntry*. */
gboolean store_wait_list(Store *store, const char *service,
			 GPtrArray *ret_entries, GError **error);
gboolean store_wait_set_status(Store *store, gint64 id, const char *status,
			       gint64 booking, GError **error);
/* Up to `limit` slots of the offering starting in [from, to) and after
 * `now` that are free, have a free place and no open offer; ids by
 * start. */
gboolean store_wait_free_slots(Store *store, const char *offering,
			       gint64 from, gint64 to, gint64 now,
			       guint limit, GArray *ret_slot_ids,
			       GError **error);
/* Up to `limit` waiting entries of the service without an open offer
 * that accept a start at `start` and were never offered `slot`, in
 * offer order; ids. */
gboolean store_wait_candidates(Store *store, const char *service,
			       gint64 slot, gint64 start, guint limit,
			       GArray *ret_entry_ids, GError **error);
/* An open offer of `slot` to `entry`, kept by `hold` until `expires`.
 * At most one open offer a slot and an entry (CONFLICT otherwise). */
gboolean store_wait_offer_insert(Store *store, gint64 entry, gint64 slot,
				 gint64 hold, gint64 expires, gint64 now,
				 gint64 *ret_offer, GError **error);
/* Closes an open offer: accepted (with the booking), declined,
 * withdrawn. */
gboolean store_wait_offer_close(Store *store, gint64 offer,
				const char *status, gint64 booking, gint64 now,
				GError **error);
/* Open offers expired at `now` become expired; appends their entry ids
 * and, in `ret_slot_ids`, their slots. */
gboolean store_wait_expire_offers(Store *store, gint64 now,
				  GArray *ret_entry_ids, GArray *ret_slot_ids,
				  GError **error);
/* The entry whose open offer the hold keeps; 0 when none. */
gboolean store_wait_offer_by_hold(Store *store, gint64 hold,
				  gint64 *ret_entry, GError **error);

/* One notification for the gateway, written in the transaction of the
 * change it tells of. Items of one stream ("b-12", "w-3") are handed
 * out in (due, id) order, one at a time. */
typedef struct {
	const char *stream;
	gint64 booking;		/* 0: none */
	gint64 entry;		/* 0: none */
	const char *kind;	/* booked, rescheduled, cancelled, offer,
				 * reminder */
	gint64 sequence;	/* the booking's, when written */
	gint64 due;
	const char *key;	/* idempotency key, unique */
	const char *client_ref;
	const char *language;
	const char *text;
	gint64 created;
} StoreOutboxItem;

typedef struct {
	gint64 id;
	char *stream;
	gint64 booking;
	gint64 entry;
	char *kind;
	gint64 due;
	char *key;
	char *client_ref;
	char *language;
	char *text;
	char *state;		/* pending, claimed, acked, void */
	gint64 lease_until;
	guint claims;
} StoreOutboxRow;

void store_outbox_row_free(StoreOutboxRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreOutboxRow, store_outbox_row_free)

gboolean store_outbox_add(Store *store, const StoreOutboxItem *item,
			  GError **error);
/* Inside a transaction: reminders due whose booking was cancelled or
 * moved since become void; then up to `max` items due at `now` and not
 * leased are leased until `lease_until` and appended (StoreOutboxRow*)
 * in (due, id) order. A reminder is handed out only while its booking
 * is booked with the sequence it was written for — checked in the
 * same statement that leases it — and only the first open item of a
 * stream is handed out. */
gboolean store_outbox_claim(Store *store, gint64 now, guint max,
			    gint64 lease_until, GPtrArray *ret_rows,
			    GError **error);
/* Marks a handed-out item acknowledged (again: no change). INVALID_ARGS
 * for an id never handed out. */
gboolean store_outbox_ack(Store *store, gint64 id, gint64 now,
			  GError **error);
/* Items not acknowledged (pending, claimed), by (due, id). */
gboolean store_outbox_list(Store *store, guint limit, GPtrArray *ret_rows,
			   GError **error);

/* Checkpoints of the main connection's WAL so far: run by the
 * checkpoint thread, run by a commit because the WAL grew past its
 * limit all the same, and (ret_restarts, may be NULL) run by a commit
 * that copied only its own frames so that the WAL starts over
 * (store-checkpoint.c). */
void store_checkpoint_counts(Store *store, guint *ret_done,
			     guint *ret_forced, guint *ret_restarts);
/* The WAL's length in pages after the last commit (-1: no thread). */
int store_wal_pages(Store *store);
/* TRUE while a writer of many changes in steps (a reload, the horizon
 * extension) should wait a little instead of committing:
 * - the WAL is long (7,500 pages or more, three quarters of the length
 *   at which a commit checkpoints it itself) and the checkpoint thread
 *   has not copied all of it since the last commit: a commit would
 *   checkpoint on the loop (the thread is asked for another pass when
 *   it is idle);
 * - or the thread has been asked for a pass or is copying: a COMMIT
 *   then waits for the disk behind its writes and sync (in the
 *   benchmark's reload every COMMIT of 10 ms or more, 39 of 39, fell in
 *   such a time, against 8 % of all steps).
 * A reader holding old pages can keep the thread from ever catching
 * up: a writer must not wait for ever. */
gboolean store_wal_busy(Store *store);
