/* Tests of the durable store: schema and migrations, seats that never
 * exceed capacity, holds, transactions, the append-only audit log,
 * reconciliation, booking queries, storage faults and backups.
 *
 * Storage faults are made two ways: a page cap on the database (a full
 * disk while a statement runs) and a VFS that fails writes on demand (a
 * full disk or an I/O error at COMMIT). Both work as root, which
 * ignores file permissions. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "schema-undo-v3.h"
#include "schema-undo-v4.h"
#include "schema-undo-v5.h"
#include "schema-undo-v6.h"
#include "schema-undo-v7.h"
#include "schema-undo-v8.h"
#include "schema-undo-v9.h"

/* The schema this release writes: 4 added resources, 5 the waitlist,
 * its offers and the notification outbox, 6 the request a hold was
 * taken for. */
#define SCHEMA_NOW 9
#include "store.h"
#include "slotd/plugin.h"

#define T0 G_GINT64_CONSTANT(1790000000) /* 2026-09-21, a Monday */
#define HOUR 3600

/* ---- logging: the store's warnings are expected only in fault tests - */

static gboolean expect_store_warnings;
static GPtrArray *store_warnings;	/* messages seen while expected */

static const char *
log_field(const GLogField *fields, gsize n_fields, const char *key)
{
	for (gsize i = 0; i < n_fields; i++)
		if (g_str_equal(fields[i].key, key) && fields[i].length < 0)
			return fields[i].value;
	return NULL;
}

static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
	   gpointer user_data)
{
	const char *domain = log_field(fields, n_fields, "GLIB_DOMAIN");

	if (expect_store_warnings && (level & G_LOG_LEVEL_WARNING) &&
	    g_strcmp0(domain, "slotd-store") == 0) {
		g_ptr_array_add(store_warnings,
				g_strdup(log_field(fields, n_fields,
						   "MESSAGE")));
		return G_LOG_WRITER_HANDLED;
	}
	return g_log_writer_default(level, fields, n_fields, user_data);
}

/* The journal may say what SQLite said, but never who the client is. */
static void
assert_warned_without(const char *secret)
{
	g_assert_cmpuint(store_warnings->len, >, 0);
	for (guint i = 0; i < store_warnings->len; i++)
		g_assert_null(strstr(store_warnings->pdata[i], secret));
}

/* ---- a VFS that fails writes on demand ------------------------------ */

typedef struct {
	sqlite3_file base;
	sqlite3_file *real;	/* the default VFS's file, right after us */
} FaultFile;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static int write_fault;		/* SQLite code writes return; 0 none */
static gboolean read_only_opens;	/* databases open for reading only */

#define REAL(file) (((FaultFile *)(file))->real)

static int
ff_close(sqlite3_file *file)
{
	return REAL(file)->pMethods->xClose(REAL(file));
}

static int
ff_read(sqlite3_file *file, void *buf, int amount, sqlite3_int64 offset)
{
	return REAL(file)->pMethods->xRead(REAL(file), buf, amount, offset);
}

static int
ff_write(sqlite3_file *file, const void *buf, int amount,
	 sqlite3_int64 offset)
{
	if (write_fault)
		return write_fault;
	return REAL(file)->pMethods->xWrite(REAL(file), buf, amount, offset);
}

static int
ff_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	if (write_fault)
		return write_fault;
	return REAL(file)->pMethods->xTruncate(REAL(file), size);
}

static int
ff_sync(sqlite3_file *file, int flags)
{
	if (write_fault)
		return SQLITE_IOERR_FSYNC;
	return REAL(file)->pMethods->xSync(REAL(file), flags);
}

static int
ff_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	return REAL(file)->pMethods->xFileSize(REAL(file), size);
}

static int
ff_lock(sqlite3_file *file, int lock)
{
	return REAL(file)->pMethods->xLock(REAL(file), lock);
}

static int
ff_unlock(sqlite3_file *file, int lock)
{
	return REAL(file)->pMethods->xUnlock(REAL(file), lock);
}

static int
ff_check_reserved(sqlite3_file *file, int *out)
{
	return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}

static int
ff_file_control(sqlite3_file *file, int op, void *arg)
{
	return REAL(file)->pMethods->xFileControl(REAL(file), op, arg);
}

static int
ff_sector_size(sqlite3_file *file)
{
	return REAL(file)->pMethods->xSectorSize(REAL(file));
}

static int
ff_device_characteristics(sqlite3_file *file)
{
	return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}

static int
ff_shm_map(sqlite3_file *file, int page, int size, int extend,
	   void volatile **out)
{
	return REAL(file)->pMethods->xShmMap(REAL(file), page, size, extend,
					     out);
}

static int
ff_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}

static void
ff_shm_barrier(sqlite3_file *file)
{
	REAL(file)->pMethods->xShmBarrier(REAL(file));
}

static int
ff_shm_unmap(sqlite3_file *file, int delete_flag)
{
	return REAL(file)->pMethods->xShmUnmap(REAL(file), delete_flag);
}

static int
ff_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out)
{
	return REAL(file)->pMethods->xFetch(REAL(file), offset, amount, out);
}

static int
ff_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page)
{
	return REAL(file)->pMethods->xUnfetch(REAL(file), offset, page);
}

static const sqlite3_io_methods fault_io = {
	.iVersion = 3,
	.xClose = ff_close,
	.xRead = ff_read,
	.xWrite = ff_write,
	.xTruncate = ff_truncate,
	.xSync = ff_sync,
	.xFileSize = ff_file_size,
	.xLock = ff_lock,
	.xUnlock = ff_unlock,
	.xCheckReservedLock = ff_check_reserved,
	.xFileControl = ff_file_control,
	.xSectorSize = ff_sector_size,
	.xDeviceCharacteristics = ff_device_characteristics,
	.xShmMap = ff_shm_map,
	.xShmLock = ff_shm_lock,
	.xShmBarrier = ff_shm_barrier,
	.xShmUnmap = ff_shm_unmap,
	.xFetch = ff_fetch,
	.xUnfetch = ff_unfetch,
};

static int
fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
	   int *out_flags)
{
	FaultFile *ff = (FaultFile *)file;
	int rc;

	ff->real = (sqlite3_file *)&ff[1];
	if (read_only_opens && (flags & SQLITE_OPEN_MAIN_DB)) {
		flags &= ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
		flags |= SQLITE_OPEN_READONLY;
	}
	rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out_flags);
	ff->base.pMethods = ff->real->pMethods ? &fault_io : NULL;
	return rc;
}

/* Every connection of this process, the Store's too, goes through it. */
static void
install_fault_vfs(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	g_assert_nonnull(real_vfs);
	fault_vfs = *real_vfs;
	fault_vfs.zName = "slotd-test-fault";
	fault_vfs.szOsFile = sizeof(FaultFile) + real_vfs->szOsFile;
	fault_vfs.xOpen = fault_open;
	g_assert_cmpint(sqlite3_vfs_register(&fault_vfs, 1), ==, SQLITE_OK);
}

/* ---- fixture -------------------------------------------------------- */

typedef struct {
	char *dir;
	char *path;
	Store *store;
	gint64 generation;
} Fixture;

static void
fixture_open(Fixture *f)
{
	g_autoptr(GError) error = NULL;

	f->store = store_open(f->path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->store);
}

static void
fixture_close(Fixture *f)
{
	g_clear_pointer(&f->store, store_close);
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	f->dir = g_dir_make_tmp("slotd-store-XXXXXX", &error);
	g_assert_no_error(error);
	f->path = g_build_filename(f->dir, "slotd.db", NULL);
	fixture_open(f);
	f->generation = store_next_generation(f->store);
	g_ptr_array_set_size(store_warnings, 0);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
	g_autoptr(GDir) dir = NULL;
	const char *name;

	write_fault = 0;
	read_only_opens = FALSE;
	fixture_close(f);
	expect_store_warnings = FALSE;
	dir = g_dir_open(f->dir, 0, NULL);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *file = g_build_filename(f->dir, name, NULL);

		g_assert_cmpint(g_remove(file), ==, 0);
	}
	g_assert_cmpint(g_rmdir(f->dir), ==, 0);
	g_free(f->path);
	g_free(f->dir);
}

#define TEST(path, func) \
	g_test_add(path, Fixture, NULL, fixture_set_up, func, \
		   fixture_tear_down)

/* ---- helpers -------------------------------------------------------- */

static gint64
add_slot(Fixture *f, const char *offering, gint64 start, guint capacity)
{
	g_autoptr(GError) error = NULL;
	gint64 id = 0;

	g_assert_true(store_upsert_slot(f->store, offering, "slot", start,
					start + HOUR, capacity, f->generation,
					&id, &error));
	g_assert_no_error(error);
	g_assert_cmpint(id, >, 0);
	return id;
}

/* A hold of `seats` in one slot, the way the engine asks for one. */
static gboolean
hold_slot(Fixture *f, gint64 slot, guint seats, gint64 expires, guint32 uid,
	  gint64 *ret_id, GError **error)
{
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GVariant) extras = g_variant_ref_sink(
		g_variant_new("a{sv}", NULL));
	StoreHoldRequest r = { "lohja-hs.walk-in", "walk-in", T0, T0 + HOUR,
			       NULL, extras, seats, slots, expires, uid, T0 };
	gint64 id = 0;

	g_array_append_val(slots, slot);
	if (!store_insert_hold(f->store, &r, &id, error))
		return FALSE;
	if (ret_id)
		*ret_id = id;
	return TRUE;
}

static StoreSlot
get_slot(Fixture *f, gint64 id)
{
	g_autoptr(GError) error = NULL;
	StoreSlot slot = { 0 };

	g_assert_true(store_get_slot(f->store, id, &slot, &error));
	g_assert_no_error(error);
	return slot;
}

static guint
booked(Fixture *f, gint64 slot_id)
{
	g_auto(StoreSlot) slot = get_slot(f, slot_id);

	return slot.booked;
}

static guint
held(Fixture *f, gint64 slot_id)
{
	g_auto(StoreSlot) slot = get_slot(f, slot_id);

	return slot.held;
}

/* A booking row; `name` goes in the idempotency key so that lists can
 * be compared by name. */
static StoreBooking *
booking_new(gint64 slot_id, const char *name, const char *unit,
	    const char *service, gint64 start, const char *client_ref)
{
	StoreBooking *b = g_new0(StoreBooking, 1);

	b->slot = slot_id;
	b->offering = g_strdup_printf("%s.%s", unit, service);
	b->unit = g_strdup(unit);
	b->service = g_strdup(service);
	b->start = start;
	b->end = start + HOUR;
	b->client_ref = g_strdup(client_ref);
	b->status = g_strdup("booked");
	b->seats = 1;
	b->urgency = g_strdup("routine");
	b->idempotency_key = g_strdup(name);
	b->created = T0 - HOUR;
	b->modified = T0 - HOUR;
	b->created_by = 1000;
	return b;
}

static gint64
insert_booking(Fixture *f, StoreBooking *b)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(store_insert_booking(f->store, b, &error));
	g_assert_no_error(error);
	g_assert_cmpint(b->id, >, 0);
	return b->id;
}

/* Books one seat of the slot in one committed transaction. */
static gint64
book(Fixture *f, gint64 slot_id, const char *name, const char *client_ref)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = booking_new(slot_id, name, "lohja-hs",
						"walk-in", T0, client_ref);

	g_assert_true(store_begin(f->store, &error));
	insert_booking(f, b);
	g_assert_true(store_take_seats(f->store, b->id, slot_id, 1, &error));
	g_assert_true(store_audit(f->store, T0, 1000, ":1.7", "book", b->id,
				  NULL, &error));
	g_assert_true(store_commit(f->store, &error));
	g_assert_no_error(error);
	return b->id;
}

static sqlite3 *
raw_open(const char *path)
{
	sqlite3 *db = NULL;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
					NULL), ==, SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static gint64
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	gint64 value;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return value;
}

static char *
raw_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	char *value;

	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==,
			SQLITE_OK);
	g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
	value = g_strdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return value;
}

static gint64
count_rows(Fixture *f, const char *table)
{
	g_autofree char *sql = g_strdup_printf("SELECT count(*) FROM %s",
					       table);
	sqlite3 *db = raw_open(f->path);
	gint64 n = raw_int(db, sql);

	sqlite3_close(db);
	return n;
}

/* Takes the file back from the current schema to `version` with the
 * tests' undo scripts, on `db`. */
static void
undo_schema(sqlite3 *db, gint64 version)
{
	static const char *const undo[SCHEMA_NOW + 1] = {
		[3] = schema_undo_v3, [4] = schema_undo_v4,
		[5] = schema_undo_v5, [6] = schema_undo_v6,
		[7] = schema_undo_v7, [8] = schema_undo_v8,
		[9] = schema_undo_v9,
	};

	for (gint64 v = SCHEMA_NOW; v > version; v--)
		g_assert_cmpint(sqlite3_exec(db, undo[v], NULL, NULL, NULL), ==,
				SQLITE_OK);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==, version);
}

/* A message for people: no SQL, no file names. */
static void
assert_plain_message(Fixture *f, const GError *error)
{
	g_assert_null(strstr(error->message, f->dir));
	g_assert_null(strstr(error->message, "INSERT"));
	g_assert_null(strstr(error->message, "UPDATE"));
	g_assert_null(strstr(error->message, "SELECT"));
	g_assert_null(strstr(error->message, "sqlite"));
}

/* ---- schema --------------------------------------------------------- */

static void
test_schema_fresh(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	sqlite3 *db = raw_open(f->path);
	g_autofree char *mode = raw_text(db, "PRAGMA journal_mode");

	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==, SCHEMA_NOW);
	g_assert_cmpstr(mode, ==, "wal");
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM sqlite_schema"
				" WHERE type = 'table' AND name IN ('slot',"
				" 'booking', 'booking_use', 'hold', 'audit',"
				" 'offering_horizon', 'meta')"), ==, 7);
	sqlite3_close(db);
	g_assert_true(store_integrity_check(f->store, &error));
	g_assert_no_error(error);
}

static void
test_schema_reopen(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 2);
	gint64 id = book(f, slot, "b1", "client-a");
	g_autofree char *wal = NULL;
	GStatBuf st;
	sqlite3 *db;

	fixture_close(f);
	/* The WAL was folded into the file on close. */
	wal = g_strconcat(f->path, "-wal", NULL);
	g_assert_true(g_stat(wal, &st) != 0 || st.st_size == 0);
	fixture_open(f);
	g_assert_true(store_get_booking(f->store, id, &b, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(b->client_ref, ==, "client-a");
	g_assert_cmpuint(booked(f, slot), ==, 1);
	/* New generations stay above the stored ones. */
	g_assert_cmpint(store_next_generation(f->store), >, f->generation);
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==, SCHEMA_NOW);
	sqlite3_close(db);
}

/* A database made by the previous release (schema 2) with bookings
 * and a hold: every booking and the hold's seat survive the upgrade. */
static void
test_schema_upgrade_from_v2(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 3);
	gint64 first = book(f, slot, "b1", "client-a");
	gint64 second = book(f, slot, "b2", "client-b");
	gint64 hold = 0;
	sqlite3 *db;

	g_assert_true(hold_slot(f, slot, 1, T0 + 600, 1000, &hold, &error));
	fixture_close(f);
	db = raw_open(f->path);
	undo_schema(db, 2);
	sqlite3_close(db);

	fixture_open(f);
	g_assert_true(store_integrity_check(f->store, &error));
	g_assert_no_error(error);
	g_assert_true(store_get_booking(f->store, first, &b, &error));
	g_assert_cmpstr(b->client_ref, ==, "client-a");
	g_assert_cmpstr(b->status, ==, "booked");
	g_assert_cmpint(b->series, ==, 0);
	g_assert_cmpuint(b->series_length, ==, 1);
	g_clear_pointer(&b, store_booking_free);
	g_assert_true(store_get_booking(f->store, second, &b, &error));
	g_assert_cmpstr(b->client_ref, ==, "client-b");
	g_assert_cmpuint(booked(f, slot), ==, 2);
	g_assert_cmpuint(held(f, slot), ==, 1);
	/* The hold still gives its seat back. */
	g_assert_true(store_delete_hold(f->store, hold, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(held(f, slot), ==, 0);
	g_assert_true(store_integrity_check(f->store, &error));
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==, SCHEMA_NOW);
	sqlite3_close(db);
}

/* A database of schema 3 with a booking and a hold gains the waitlist
 * and the outbox, and keeps everything it had. */
static void
test_schema_upgrade_from_v3(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 3);
	gint64 first = book(f, slot, "b1", "client-a");
	gint64 hold = 0;
	sqlite3 *db;

	g_assert_true(hold_slot(f, slot, 1, T0 + 600, 1000, &hold, &error));
	fixture_close(f);
	db = raw_open(f->path);
	undo_schema(db, 3);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM sqlite_schema"
				" WHERE name IN ('outbox', 'resource_use')"),
			==, 0);
	sqlite3_close(db);

	fixture_open(f);
	g_assert_true(store_integrity_check(f->store, &error));
	g_assert_no_error(error);
	g_assert_true(store_get_booking(f->store, first, &b, &error));
	g_assert_cmpstr(b->client_ref, ==, "client-a");
	g_assert_cmpuint(booked(f, slot), ==, 1);
	g_assert_cmpuint(held(f, slot), ==, 1);
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==, SCHEMA_NOW);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM sqlite_schema"
				" WHERE type = 'table' AND name IN"
				" ('waitlist_entry', 'waitlist_offer',"
				" 'outbox', 'resource_use', 'absence')"), ==, 5);
	sqlite3_close(db);
}

/* ---- the slot generation ------------------------------------------- */

static gint64
upsert_at(Fixture *f, gint64 start, gint64 generation)
{
	g_autoptr(GError) error = NULL;
	gint64 id = 0;

	g_assert_true(store_upsert_slot(f->store, "lohja-hs.walk-in", "slot",
					start, start + HOUR, 3, generation,
					&id, &error));
	g_assert_no_error(error);
	return id;
}

/* The generation in meta, as another process reads it; -1: none. */
static gint64
stored_generation(Fixture *f)
{
	sqlite3 *db = raw_open(f->path);
	gint64 value = raw_int(db, "SELECT coalesce((SELECT CAST(value AS"
			       " INTEGER) FROM meta WHERE key ="
			       " 'slot-generation'), -1)");

	sqlite3_close(db);
	return value;
}

static gint64
max_generation(Fixture *f)
{
	sqlite3 *db = raw_open(f->path);
	gint64 value = raw_int(db, "SELECT max(generation) FROM slot");

	sqlite3_close(db);
	return value;
}

/* Written with the slots, read at start-up: after a restart the next
 * generation is above every one stored, as max(generation) said. */
static void
test_generation_kept_in_meta(Fixture *f, gconstpointer data)
{
	gint64 later;

	upsert_at(f, T0, f->generation);
	g_assert_cmpint(stored_generation(f), ==, f->generation);
	later = store_next_generation(f->store);
	upsert_at(f, T0 + HOUR, later);
	upsert_at(f, T0 + 2 * HOUR, later);
	/* Handed out but never written: nothing to keep. */
	store_next_generation(f->store);
	fixture_close(f);
	g_assert_cmpint(max_generation(f), ==, later);
	g_assert_cmpint(stored_generation(f), ==, later);
	fixture_open(f);
	g_assert_cmpint(store_next_generation(f->store), ==, later + 1);
	/* What start-up read is meta, not the slots. */
	fixture_close(f);
	{
		sqlite3 *db = raw_open(f->path);

		g_assert_cmpint(sqlite3_exec(db, "UPDATE meta SET value = '90'"
					     " WHERE key = 'slot-generation'",
					     NULL, NULL, NULL), ==, SQLITE_OK);
		sqlite3_close(db);
	}
	fixture_open(f);
	g_assert_cmpint(store_next_generation(f->store), ==, 91);
}

/* A rolled-back transaction takes its write of the generation with it;
 * the next one to write slots of that generation writes it again, also
 * after a savepoint was rolled back inside a transaction. */
static void
test_generation_follows_rollbacks(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 before, next;

	upsert_at(f, T0, f->generation);
	before = stored_generation(f);
	next = store_next_generation(f->store);
	g_assert_true(store_begin(f->store, &error));
	upsert_at(f, T0 + HOUR, next);
	store_rollback(f->store);
	g_assert_cmpint(stored_generation(f), ==, before);

	g_assert_true(store_begin(f->store, &error));
	g_assert_true(store_savepoint(f->store, "step", &error));
	upsert_at(f, T0 + HOUR, next);
	store_rollback_to(f->store, "step");
	g_assert_true(store_release(f->store, "step", &error));
	upsert_at(f, T0 + 2 * HOUR, next);
	g_assert_true(store_commit(f->store, &error));
	g_assert_no_error(error);
	g_assert_cmpint(stored_generation(f), ==, next);
	g_assert_cmpint(max_generation(f), ==, next);
}

/* ---- slot spans ------------------------------------------------------ */

/* slot_span's row for `offering`, as another process reads it; 0: none. */
static gint64
stored_span(Fixture *f, const char *offering)
{
	sqlite3 *db = raw_open(f->path);
	g_autofree char *sql = g_strdup_printf(
		"SELECT coalesce((SELECT longest FROM slot_span"
		" WHERE offering = '%s'), 0)", offering);
	gint64 value = raw_int(db, sql);

	sqlite3_close(db);
	return value;
}

static guint32
test_seed(void)
{
	const char *env = g_getenv("SLOTD_SEED");

	return env ? (guint32)g_ascii_strtoull(env, NULL, 10) : g_random_int();
}

/* Takes `resource` for booking `id` from slot `slot`, [start, +1 h). */
static void
use_resource(Fixture *f, gint64 id, gint64 slot, const char *resource,
	     gint64 start)
{
	g_autoptr(GError) error = NULL;
	StoreResourceUse use = { resource, "lohja-hs", id, 0, slot, start,
				 start + HOUR };

	g_assert_true(store_use_resource(f->store, &use, &error));
	g_assert_no_error(error);
}

/* `resource`'s feed rows: "status@start" joined by spaces. */
static char *
practitioner_rows(Fixture *f, const char *resource, gint64 cancelled_since)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_feed_booking_free);
	GString *out = g_string_new(NULL);

	g_assert_true(store_feed_practitioner_bookings(
		f->store, resource, T0 - 24 * HOUR, cancelled_since, rows,
		&error));
	g_assert_no_error(error);
	for (guint i = 0; i < rows->len; i++) {
		const StoreFeedBooking *b = rows->pdata[i];

		g_string_append_printf(out, "%s%s@%" G_GINT64_FORMAT,
				       i ? " " : "", b->status,
				       (b->start - T0) / HOUR);
	}
	return g_string_free(out, FALSE);
}

/* A move writes the places it gives up to resource_left, with the
 * booking's old time; the old practitioner's feed rows show the
 * booking cancelled there, the new one's live, until the rows are
 * older than the window the feeds show (cancelled_since), and a later
 * move deletes those older than keep_since. */
static void
test_left_places(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 2);
	gint64 later = add_slot(f, "lohja-hs.walk-in", T0 + 2 * HOUR, 2);
	gint64 id = book(f, slot, "left-1", "client-a");
	g_autofree char *a = NULL, *b = NULL, *gone = NULL;
	StoreMove move = { .slot = later, .offering = "lohja-hs.walk-in",
			   .unit = "lohja-hs", .start = T0 + 2 * HOUR,
			   .end = T0 + 3 * HOUR, .seats = 1 };

	g_assert_true(store_begin(f->store, &error));
	use_resource(f, id, slot, "nurse-a", T0);
	g_assert_true(store_commit(f->store, &error));
	g_assert_true(store_begin(f->store, &error));
	g_assert_true(store_forget_resources(f->store, id, T0 - HOUR,
					     T0 - 30 * 24 * HOUR, &error));
	use_resource(f, id, later, "nurse-b", T0 + 2 * HOUR);
	g_assert_true(store_move_booking(f->store, id, &move, T0 - HOUR,
					 &error));
	g_assert_true(store_commit(f->store, &error));
	g_assert_no_error(error);
	a = practitioner_rows(f, "nurse-a", T0 - 2 * HOUR);
	b = practitioner_rows(f, "nurse-b", T0 - 2 * HOUR);
	g_assert_cmpstr(a, ==, "cancelled@0");
	g_assert_cmpstr(b, ==, "booked@2");
	/* Left before the window the feed shows: not in it. */
	gone = practitioner_rows(f, "nurse-a", T0);
	g_assert_cmpstr(gone, ==, "");
	g_assert_cmpint(count_rows(f, "resource_left"), ==, 1);
	/* The next move, a day on, keeps only what is newer than
	 * keep_since: nurse-a's row goes, nurse-b's comes. */
	g_assert_true(store_begin(f->store, &error));
	g_assert_true(store_forget_resources(f->store, id, T0 + 24 * HOUR,
					     T0, &error));
	g_assert_true(store_commit(f->store, &error));
	g_assert_no_error(error);
	g_assert_cmpint(count_rows(f, "resource_left"), ==, 1);
	g_clear_pointer(&a, g_free);
	a = practitioner_rows(f, "nurse-a", T0 - 2 * HOUR);
	g_assert_cmpstr(a, ==, "");
}

/* For generated upserts in autocommit, committed and rolled-back
 * transactions and rolled-back savepoints: every offering's span is the
 * longest slot of all the committed writes (a model kept here), as the
 * file says and as store_slot_longest() says, and never shorter than a
 * slot in the table. SLOTD_SEED=N repeats a run. */
static void
test_span_follows_commits(Fixture *f, gconstpointer data)
{
	static const char *const offerings[] = { "a.walk-in", "b.walk-in",
						 "c.duty" };
	guint32 seed = test_seed();
	g_autoptr(GRand) r = g_rand_new_with_seed(seed);
	gint64 committed[G_N_ELEMENTS(offerings)] = { 0 };

	g_test_message("seed %u (SLOTD_SEED=%u repeats it)", seed, seed);
	for (guint round = 0; round < 60; round++) {
		g_autoptr(GError) error = NULL;
		/* 0: autocommit, 1: commit, 2: rollback, 3: a savepoint
		 * rolled back, then one more upsert, committed; 4: upserts
		 * kept, then a savepoint of longer ones rolled back,
		 * committed. */
		gint how = g_rand_int_range(r, 0, 5);
		gint64 written[G_N_ELEMENTS(offerings)] = { 0 };
		guint n = (guint)g_rand_int_range(r, 1, 5);

		if (how > 0)
			g_assert_true(store_begin(f->store, &error));
		if (how == 3)
			g_assert_true(store_savepoint(f->store, "step",
						      &error));
		for (guint i = 0; i < n; i++) {
			guint o = (guint)g_rand_int_range(r, 0, 3);
			gint64 start = T0 + g_rand_int_range(r, 0, 48) * HOUR;
			gint64 length = 60 * g_rand_int_range(r, 1, 3000);
			gint64 id = 0;

			g_assert_true(store_upsert_slot(
				f->store, offerings[o], "slot", start,
				start + length, 2, f->generation, &id,
				&error));
			g_assert_no_error(error);
			written[o] = MAX(written[o], length);
		}
		if (how == 4) {
			g_assert_true(store_savepoint(f->store, "later",
						      &error));
			for (guint i = 0; i < 3; i++) {
				gint64 start = T0 + (200 + i) * HOUR;
				gint64 id = 0;

				g_assert_true(store_upsert_slot(
					f->store, offerings[i], "later", start,
					start + 60 * g_rand_int_range(r, 1,
								      6000),
					2, f->generation, &id, &error));
			}
			store_rollback_to(f->store, "later");
			g_assert_true(store_release(f->store, "later",
						    &error));
		}
		if (how == 3) {
			gint64 start = T0 + 100 * HOUR;
			gint64 id = 0;

			store_rollback_to(f->store, "step");
			g_assert_true(store_release(f->store, "step", &error));
			memset(written, 0, sizeof written);
			/* The same length again: written again, as the one
			 * before went with the savepoint. */
			g_assert_true(store_upsert_slot(
				f->store, offerings[0], "slot", start,
				start + HOUR, 2, f->generation, &id, &error));
			written[0] = HOUR;
		}
		if (how == 2) {
			store_rollback(f->store);
			memset(written, 0, sizeof written);
		} else if (how > 0) {
			g_assert_true(store_commit(f->store, &error));
		}
		g_assert_no_error(error);
		for (guint o = 0; o < G_N_ELEMENTS(offerings); o++) {
			g_autofree char *sql = g_strdup_printf(
				"SELECT coalesce(max(\"end\" - start), 0)"
				" FROM slot WHERE offering = '%s'",
				offerings[o]);
			sqlite3 *db = raw_open(f->path);
			gint64 in_table = raw_int(db, sql);
			gint64 said = -1;

			sqlite3_close(db);
			committed[o] = MAX(committed[o], written[o]);
			g_assert_true(store_slot_longest(f->store, offerings[o],
							 &said, &error));
			g_assert_no_error(error);
			if (stored_span(f, offerings[o]) != committed[o] ||
			    said != committed[o] || in_table > said)
				g_error("round %u, %s: span %" G_GINT64_FORMAT
					", said %" G_GINT64_FORMAT ", longest "
					"committed %" G_GINT64_FORMAT
					", longest in the table %" G_GINT64_FORMAT
					" (SLOTD_SEED=%u repeats it)",
					round, offerings[o],
					stored_span(f, offerings[o]), said,
					committed[o], in_table, seed);
		}
	}
	/* A worker's reader asks the file, and says the same. */
	{
		g_autoptr(GError) error = NULL;
		Store *reader = store_open_readonly(f->path, &error);

		g_assert_no_error(error);
		for (guint o = 0; o < G_N_ELEMENTS(offerings); o++) {
			gint64 said = -1;

			g_assert_true(store_slot_longest(reader, offerings[o],
							 &said, &error));
			g_assert_no_error(error);
			g_assert_cmpint(said, ==, committed[o]);
		}
		store_close(reader);
	}
}

/* A database of schema 6 learns its spans from the slots it has. */
static void
test_span_of_older_database(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 id = 0, said = 0;
	sqlite3 *db;

	add_slot(f, "lohja-hs.walk-in", T0, 2);
	g_assert_true(store_upsert_slot(f->store, "lohja-hs.walk-in", "long",
					T0, T0 + 26 * HOUR, 1, f->generation,
					&id, &error));
	add_slot(f, "raseborg.walk-in", T0, 2);
	fixture_close(f);
	db = raw_open(f->path);
	undo_schema(db, 6);
	sqlite3_close(db);
	fixture_open(f);
	g_assert_cmpint(stored_span(f, "lohja-hs.walk-in"), ==, 26 * HOUR);
	g_assert_cmpint(stored_span(f, "raseborg.walk-in"), ==, HOUR);
	g_assert_true(store_slot_longest(f->store, "nowhere.walk-in", &said,
					 &error));
	g_assert_no_error(error);
	g_assert_cmpint(said, ==, 0);
}

/* A database from a slotd before meta kept the generation: the first
 * start works it out from the slots and stores it; a file open for
 * reading only is worked out from the slots again until it can be. */
static void
test_generation_of_older_database(Fixture *f, gconstpointer data)
{
	sqlite3 *db;

	upsert_at(f, T0, f->generation);
	upsert_at(f, T0 + HOUR, f->generation);
	fixture_close(f);
	db = raw_open(f->path);
	g_assert_cmpint(sqlite3_exec(db, "UPDATE slot SET generation = 41"
				     " WHERE id = (SELECT min(id) FROM slot);"
				     "DELETE FROM meta"
				     " WHERE key = 'slot-generation'",
				     NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	g_assert_cmpint(stored_generation(f), ==, -1);

	read_only_opens = TRUE;
	fixture_open(f);
	g_assert_cmpint(store_next_generation(f->store), ==, 42);
	fixture_close(f);
	g_assert_cmpint(stored_generation(f), ==, -1);
	read_only_opens = FALSE;

	fixture_open(f);
	g_assert_cmpint(stored_generation(f), ==, 41);
	g_assert_cmpint(store_next_generation(f->store), ==, 42);
	fixture_close(f);
	fixture_open(f);
	g_assert_cmpint(store_next_generation(f->store), ==, 42);
}

/* How many temporary B-trees SQLite would open for `sql` (EXPLAIN). */
static guint
ephemeral_tables(sqlite3 *db, const char *sql)
{
	g_autofree char *explain = g_strconcat("EXPLAIN ", sql, NULL);
	sqlite3_stmt *stmt = NULL;
	guint n = 0;

	g_assert_cmpint(sqlite3_prepare_v2(db, explain, -1, &stmt, NULL), ==,
			SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW)
		if (g_str_equal((const char *)sqlite3_column_text(stmt, 1),
				"OpenEphemeral"))
			n++;
	sqlite3_finalize(stmt);
	return n;
}

/* The rows a Book writes (a booking, its outbox rows) and the waitlist's
 * are checked without a temporary B-tree (schema 8), and a value
 * outside a list is still refused, in a new file and in one brought
 * forward from schema 7. */
static void
assert_checks_without_in_lists(const char *path)
{
	static const char *const inserts[] = {
		"INSERT INTO booking (slot, offering, unit, service, start,"
		" \"end\", status, created, modified, created_by) VALUES"
		" (1, 'o', 'u', 's', 1, 2, '@', 1, 1, 0)",
		"INSERT INTO outbox (stream, kind, due, idempotency_key,"
		" language, text, created, state) VALUES"
		" ('s', '@', 1, 'k', 'fi', 't', 1, 'pending')",
		"INSERT INTO outbox (stream, kind, due, idempotency_key,"
		" language, text, created, state) VALUES"
		" ('s', 'booked', 1, 'k', 'fi', 't', 1, '@')",
		"INSERT INTO waitlist_entry (client_ref, service, earliest,"
		" latest, deadline, priority, created, uid, status) VALUES"
		" ('c', 's', 1, 2, 3, 1, 1, 0, '@')",
		"INSERT INTO waitlist_offer (entry, slot, hold, expires,"
		" created, status) VALUES (1, 1, 1, 1, 1, '@')",
	};
	sqlite3 *db = raw_open(path);

	for (guint i = 0; i < G_N_ELEMENTS(inserts); i++) {
		g_autoptr(GString) good = g_string_new(inserts[i]);
		g_autoptr(GString) bad = g_string_new(inserts[i]);
		char *message = NULL;

		g_string_replace(good, "'@'", "'x'", 1);
		g_string_replace(bad, "'@'", "'bogus'", 1);

		g_assert_cmpuint(ephemeral_tables(db, good->str), ==, 0);
		g_assert_cmpint(sqlite3_exec(db, bad->str, NULL, NULL, &message),
				==, SQLITE_CONSTRAINT);
		g_assert_nonnull(strstr(message, "CHECK"));
		sqlite3_free(message);
	}
	sqlite3_close(db);
}

static void
test_schema_checks_without_in_lists(Fixture *f, gconstpointer data)
{
	sqlite3 *db;

	fixture_close(f);
	assert_checks_without_in_lists(f->path);
	db = raw_open(f->path);
	undo_schema(db, 7);
	g_assert_cmpuint(ephemeral_tables(db, "INSERT INTO outbox (stream,"
					  " kind, due, idempotency_key,"
					  " language, text, created) VALUES"
					  " ('s', 'offer', 1, 'k', 'fi', 't',"
					  " 1)"), ==, 2);
	sqlite3_close(db);
	fixture_open(f);
	fixture_close(f);
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==, SCHEMA_NOW);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM pragma_integrity_check"
				" WHERE integrity_check <> 'ok'"), ==, 0);
	sqlite3_close(db);
	assert_checks_without_in_lists(f->path);
}

static void
test_schema_newer(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	Store *store;
	sqlite3 *db;

	fixture_close(f);
	db = raw_open(f->path);
	g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
				     NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	store = store_open(f->path, &error);
	g_assert_null(store);
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	g_assert_nonnull(strstr(error->message, "newer"));
	assert_plain_message(f, error);
	db = raw_open(f->path);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==, 99);
	sqlite3_close(db);
}

static void
test_schema_not_a_database(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename(f->dir, "junk.db", NULL);
	char junk[8192];

	memset(junk, 'x', sizeof(junk));
	g_assert_true(g_file_set_contents(path, junk, sizeof(junk), NULL));
	expect_store_warnings = TRUE;
	g_assert_null(store_open(path, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	g_assert_nonnull(strstr(error->message, "damaged"));
	assert_plain_message(f, error);
}

/* ---- seats ---------------------------------------------------------- */

static void
test_seats_capacity(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) extra = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 3);

	for (guint i = 0; i < 3; i++) {
		g_autofree char *name = g_strdup_printf("b%u", i);

		book(f, slot, name, "client-a");
	}
	g_assert_cmpuint(booked(f, slot), ==, 3);
	extra = booking_new(slot, "b3", "lohja-hs", "walk-in", T0, "client-b");
	g_assert_true(store_begin(f->store, &error));
	insert_booking(f, extra);
	g_assert_false(store_take_seats(f->store, extra->id, slot, 1,
					&error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_assert_nonnull(strstr(error->message, "try another slot"));
	store_rollback(f->store);
	g_assert_cmpuint(booked(f, slot), ==, 3);
	g_assert_cmpint(count_rows(f, "booking"), ==, 3);
}

static void
test_seats_many_at_once(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) pair = NULL;
	gint64 slot = add_slot(f, "lohja-hs.crisis", T0, 2);

	book(f, slot, "b1", "client-a");
	pair = booking_new(slot, "pair", "lohja-hs", "crisis", T0, "client-b");
	pair->seats = 2;
	insert_booking(f, pair);
	g_assert_false(store_take_seats(f->store, pair->id, slot, 2, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_assert_cmpuint(booked(f, slot), ==, 1);
}

static void
test_seats_unknown(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 2);

	b = booking_new(slot, "b1", "lohja-hs", "walk-in", T0, "client-a");
	insert_booking(f, b);
	g_assert_false(store_take_seats(f->store, b->id, 9999, 1, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_SLOT);
	g_clear_error(&error);
	/* The seat is taken, then the unknown booking refused: the call
	 * leaves nothing behind even outside a transaction. */
	g_assert_false(store_take_seats(f->store, 9999, slot, 1, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_BOOKING);
	g_assert_cmpuint(booked(f, slot), ==, 0);
	g_clear_error(&error);
	g_assert_false(store_release_seats(f->store, 9999, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_BOOKING);
}

static void
test_seats_failure_keeps_transaction(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	gint64 full = add_slot(f, "lohja-hs.walk-in", T0, 1);
	gint64 free_slot = add_slot(f, "lohja-hs.walk-in", T0 + HOUR, 1);

	book(f, full, "b1", "client-a");
	b = booking_new(full, "b2", "lohja-hs", "walk-in", T0, "client-b");
	g_assert_true(store_begin(f->store, &error));
	insert_booking(f, b);
	/* A full slot is an answer, not a fault: the caller may go on. */
	g_assert_false(store_take_seats(f->store, b->id, full, 1, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_clear_error(&error);
	g_assert_true(store_take_seats(f->store, b->id, free_slot, 1, &error));
	g_assert_true(store_commit(f->store, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(booked(f, full), ==, 1);
	g_assert_cmpuint(booked(f, free_slot), ==, 1);
	g_assert_true(store_integrity_check(f->store, &error));
	g_assert_no_error(error);
}

static void
test_seats_withdrawn(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 5);

	g_assert_true(store_withdraw_unseen(f->store, "lohja-hs.walk-in", T0,
					    T0 + HOUR, f->generation + 1,
					    T0 - HOUR, NULL, &error));
	b = booking_new(slot, "b1", "lohja-hs", "walk-in", T0, "client-a");
	insert_booking(f, b);
	g_assert_false(store_take_seats(f->store, b->id, slot, 1, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_clear_error(&error);
	g_assert_false(hold_slot(f, slot, 1, T0, 1000, NULL, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
}

static void
test_seats_release(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(gint64));
	gint64 first = add_slot(f, "home.hospital", T0, 2);
	gint64 second = add_slot(f, "home.hospital", T0 + HOUR, 2);

	/* A visit with travel takes seats in two consecutive slots. */
	b = booking_new(first, "visit", "home", "hospital", T0, "client-a");
	g_assert_true(store_begin(f->store, &error));
	insert_booking(f, b);
	g_assert_true(store_take_seats(f->store, b->id, second, 1, &error));
	g_assert_true(store_take_seats(f->store, b->id, first, 1, &error));
	g_assert_true(store_commit(f->store, &error));
	g_assert_true(store_booking_slots(f->store, b->id, slots, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(slots->len, ==, 2);
	g_assert_cmpint(g_array_index(slots, gint64, 0), ==, first);
	g_assert_cmpint(g_array_index(slots, gint64, 1), ==, second);

	g_assert_true(store_release_seats(f->store, b->id, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(booked(f, first), ==, 0);
	g_assert_cmpuint(booked(f, second), ==, 0);
	g_array_set_size(slots, 0);
	g_assert_true(store_booking_slots(f->store, b->id, slots, &error));
	g_assert_cmpuint(slots->len, ==, 0);
	/* Releasing twice gives nothing back twice. */
	g_assert_true(store_release_seats(f->store, b->id, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(booked(f, first), ==, 0);
	g_assert_false(store_booking_slots(f->store, 9999, slots, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_BOOKING);
}

static void
test_seats_raw_update(Fixture *f, gconstpointer data)
{
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 2);
	sqlite3 *db;

	book(f, slot, "b1", "client-a");
	db = raw_open(f->path);
	g_assert_cmpint(sqlite3_exec(db, "UPDATE slot SET booked = capacity"
				     " + 1", NULL, NULL, NULL), ==,
			SQLITE_CONSTRAINT);
	g_assert_cmpint(sqlite3_exec(db, "UPDATE slot SET held = capacity",
				     NULL, NULL, NULL), ==, SQLITE_CONSTRAINT);
	g_assert_cmpint(sqlite3_exec(db, "UPDATE slot SET booked = -1", NULL,
				     NULL, NULL), ==, SQLITE_CONSTRAINT);
	sqlite3_close(db);
	g_assert_cmpuint(booked(f, slot), ==, 1);
	g_assert_cmpuint(held(f, slot), ==, 0);
}

/* ---- holds ---------------------------------------------------------- */

static void
test_holds_take_and_expire(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) changed = g_array_new(FALSE, FALSE, sizeof(gint64));
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 2);
	g_auto(StoreHold) hold = { 0 };
	gint64 hold_id = 0;

	g_assert_true(hold_slot(f, slot, 1, T0 + 100, 1000, &hold_id, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(held(f, slot), ==, 1);
	g_assert_cmpint(store_next_hold_expiry(f->store), ==, T0 + 100);
	book(f, slot, "b1", "client-a");
	/* The held seat is not free for anyone else. */
	g_assert_false(hold_slot(f, slot, 1, T0 + 100, 1001, NULL, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_SLOT_FULL);
	g_clear_error(&error);

	g_assert_true(store_get_hold(f->store, hold_id, T0 + 99, &hold,
				     &error));
	g_assert_cmpint(hold.slot, ==, slot);
	g_assert_cmpuint(hold.seats, ==, 1);
	g_assert_cmpuint(hold.uid, ==, 1000);
	/* Taken without a request to keep. */
	g_assert_cmpstr(hold.request, ==, "");
	g_assert_false(store_get_hold(f->store, hold_id, T0 + 100, &hold,
				      &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_HOLD);
	g_clear_error(&error);

	g_assert_true(store_expire_holds(f->store, T0 + 99, changed, &error));
	g_assert_cmpuint(changed->len, ==, 0);
	g_assert_true(store_expire_holds(f->store, T0 + 100, changed, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(changed->len, ==, 1);
	g_assert_cmpint(g_array_index(changed, gint64, 0), ==, slot);
	g_assert_cmpuint(held(f, slot), ==, 0);
	g_assert_cmpint(store_next_hold_expiry(f->store), ==, 0);
	book(f, slot, "b2", "client-b");
	g_assert_true(store_integrity_check(f->store, &error));
	g_assert_no_error(error);
}

static void
test_holds_delete(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 3);
	gint64 first = 0, second = 0;

	g_assert_true(hold_slot(f, slot, 2, T0 + 60, 1000, &first, &error));
	g_assert_true(hold_slot(f, slot, 1, T0 + 60, 1000, &second, &error));
	g_assert_no_error(error);
	g_assert_cmpint(second, >, first);
	g_assert_cmpuint(held(f, slot), ==, 3);
	g_assert_true(store_delete_hold(f->store, first, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(held(f, slot), ==, 1);
	g_assert_false(store_delete_hold(f->store, first, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_HOLD);
	g_assert_cmpuint(held(f, slot), ==, 1);
}

/* ---- transactions --------------------------------------------------- */

static void
test_transactions_rollback(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	g_autoptr(StoreBooking) found = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 2);
	gint64 audit_rows = count_rows(f, "audit");

	b = booking_new(slot, "b1", "lohja-hs", "walk-in", T0, "client-a");
	g_assert_true(store_begin(f->store, &error));
	g_assert_true(store_in_transaction(f->store));
	insert_booking(f, b);
	g_assert_true(store_take_seats(f->store, b->id, slot, 1, &error));
	g_assert_true(store_audit(f->store, T0, 1000, ":1.7", "book", b->id,
				  NULL, &error));
	g_assert_no_error(error);
	store_rollback(f->store);
	g_assert_false(store_in_transaction(f->store));

	g_assert_false(store_get_booking(f->store, b->id, &found, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_BOOKING);
	g_assert_cmpuint(booked(f, slot), ==, 0);
	g_assert_cmpint(count_rows(f, "audit"), ==, audit_rows);
	g_assert_cmpint(count_rows(f, "booking_use"), ==, 0);
	/* Rolling back twice is harmless. */
	store_rollback(f->store);
}

static void
test_transactions_savepoints(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) kept = NULL;
	g_autoptr(StoreBooking) undone = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 5);

	kept = booking_new(slot, "kept", "lohja-hs", "walk-in", T0, "client-a");
	undone = booking_new(slot, "undone", "lohja-hs", "walk-in", T0,
			     "client-b");
	g_assert_true(store_begin(f->store, &error));
	g_assert_true(store_savepoint(f->store, "request-1", &error));
	insert_booking(f, kept);
	g_assert_true(store_take_seats(f->store, kept->id, slot, 1, &error));
	g_assert_true(store_release(f->store, "request-1", &error));
	g_assert_true(store_savepoint(f->store, "request-2", &error));
	g_assert_true(store_savepoint(f->store, "inner", &error));
	insert_booking(f, undone);
	g_assert_true(store_take_seats(f->store, undone->id, slot, 2, &error));
	store_rollback_to(f->store, "request-2");
	g_assert_true(store_release(f->store, "request-2", &error));
	g_assert_true(store_commit(f->store, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(booked(f, slot), ==, 1);
	g_assert_cmpint(count_rows(f, "booking"), ==, 1);
}

static void
test_transactions_busy(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 5);
	gint64 id = book(f, slot, "b1", "client-a");
	sqlite3 *db = raw_open(f->path);

	/* Someone holds the write lock past the busy timeout. */
	g_assert_cmpint(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
			==, SQLITE_OK);
	expect_store_warnings = TRUE;
	g_assert_false(store_begin(f->store, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	g_assert_nonnull(strstr(error->message, "busy"));
	assert_plain_message(f, error);
	g_clear_error(&error);
	/* Readers are not blocked by a writer. */
	g_assert_true(store_get_booking(f->store, id, &b, &error));
	g_assert_no_error(error);
	g_assert_cmpint(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), ==,
			SQLITE_OK);
	sqlite3_close(db);
	book(f, slot, "b2", "client-b");
}

/* ---- bookings ------------------------------------------------------- */

static void
test_bookings_ids_never_reused(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) later = NULL;
	g_autoptr(StoreBooking) latest = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 5);
	gint64 first = book(f, slot, "b1", "client-a");
	gint64 second = book(f, slot, "b2", "client-b");
	g_autofree char *sql = NULL;
	sqlite3 *db;

	g_assert_cmpint(second, >, first);
	/* An auditor deletes the newest row by hand; its id stays used. */
	db = raw_open(f->path);
	sql = g_strdup_printf("DELETE FROM booking_use WHERE booking = %"
			      G_GINT64_FORMAT "; DELETE FROM booking WHERE"
			      " id = %" G_GINT64_FORMAT "; UPDATE slot SET"
			      " booked = booked - 1", second, second);
	g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==,
			SQLITE_OK);
	sqlite3_close(db);
	later = booking_new(slot, "b3", "lohja-hs", "walk-in", T0, "client-c");
	insert_booking(f, later);
	g_assert_cmpint(later->id, >, second);
	/* A rolled-back insert never existed; the next id is still new. */
	g_assert_true(store_begin(f->store, &error));
	latest = booking_new(slot, "b4", "lohja-hs", "walk-in", T0, "c-d");
	insert_booking(f, latest);
	store_rollback(f->store);
	g_clear_pointer(&latest, store_booking_free);
	latest = booking_new(slot, "b4", "lohja-hs", "walk-in", T0, "c-d");
	insert_booking(f, latest);
	g_assert_cmpint(latest->id, >, later->id);
}

static void
test_bookings_idempotency(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) found = NULL;
	g_autoptr(StoreBooking) again = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 5);
	gint64 id = book(f, slot, "portal-req-17", "client-a");

	g_assert_true(store_find_idempotent(f->store, "portal-req-17", &found,
					    &error));
	g_assert_no_error(error);
	g_assert_nonnull(found);
	g_assert_cmpint(found->id, ==, id);
	g_clear_pointer(&found, store_booking_free);
	g_assert_true(store_find_idempotent(f->store, "portal-req-18", &found,
					    &error));
	g_assert_no_error(error);
	g_assert_null(found);

	again = booking_new(slot, "portal-req-17", "lohja-hs", "walk-in", T0,
			    "client-a");
	g_assert_false(store_insert_booking(f->store, again, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_CONFLICT);
	g_assert_cmpint(count_rows(f, "booking"), ==, 1);
}

static void
test_bookings_round_trip(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	g_autoptr(StoreBooking) got = NULL;
	g_auto(GVariantBuilder) extras = G_VARIANT_BUILDER_INIT(
		G_VARIANT_TYPE_VARDICT);
	const char *const staff[] = { "nurse-1", "nurse-2", NULL };
	gint64 slot = add_slot(f, "home.hospital", T0, 5);

	g_variant_builder_add(&extras, "{sv}", "episode",
			      g_variant_new_string("ep-4 \"quoted\" ä"));
	g_variant_builder_add(&extras, "{sv}", "visit",
			      g_variant_new_uint32(3));
	g_variant_builder_add(&extras, "{sv}", "travel",
			      g_variant_new_int64(-45));
	g_variant_builder_add(&extras, "{sv}", "pair",
			      g_variant_new_boolean(TRUE));
	g_variant_builder_add(&extras, "{sv}", "staff",
			      g_variant_new_strv(staff, -1));
	b = booking_new(slot, "b1", "home", "hospital", T0, "client-a");
	b->extras = g_variant_ref_sink(g_variant_builder_end(&extras));
	b->municipality = g_strdup("444");
	b->language = g_strdup("sv");
	b->modality = g_strdup("home");
	b->referral_time = T0 - 86400;
	b->seats = 2;
	insert_booking(f, b);
	g_assert_true(store_get_booking(f->store, b->id, &got, &error));
	g_assert_no_error(error);
	g_assert_true(g_variant_equal(got->extras, b->extras));
	g_assert_cmpstr(got->municipality, ==, "444");
	g_assert_cmpstr(got->language, ==, "sv");
	g_assert_cmpstr(got->modality, ==, "home");
	g_assert_cmpstr(got->urgency, ==, "routine");
	g_assert_cmpint(got->referral_time, ==, T0 - 86400);
	g_assert_cmpuint(got->seats, ==, 2);
	g_assert_cmpuint(got->created_by, ==, 1000);
	g_assert_false(got->needs_rebooking);
	g_assert_null(got->cancel_reason);
}

static void
test_bookings_empty_extras(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) plain = NULL;
	g_autoptr(StoreBooking) got = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 5);

	/* An anonymous visit with no extras and no key. */
	plain = booking_new(slot, "b2", "lohja-hs", "walk-in", T0, "");
	g_clear_pointer(&plain->idempotency_key, g_free);
	insert_booking(f, plain);
	g_assert_true(store_get_booking(f->store, plain->id, &got, &error));
	g_assert_no_error(error);
	g_assert_nonnull(got->extras);
	g_assert_true(g_variant_is_of_type(got->extras,
					   G_VARIANT_TYPE_VARDICT));
	g_assert_cmpuint(g_variant_n_children(got->extras), ==, 0);
	g_assert_cmpstr(got->client_ref, ==, "");
	g_assert_null(got->idempotency_key);
	g_assert_null(got->municipality);
}

static void
test_bookings_status_and_move(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) got = NULL;
	gint64 from = add_slot(f, "lohja-hs.walk-in", T0, 2);
	gint64 to = add_slot(f, "porvoo-hs.walk-in", T0 + HOUR, 2);
	gint64 id = book(f, from, "b1", "client-a");
	g_autoptr(GVariant) extras = g_variant_ref_sink(g_variant_new_parsed(
		"@a{sv} {'ticket': <uint32 7>}"));

	g_assert_true(store_update_booking_status(f->store, id, "arrived",
						  NULL, T0 + 10, &error));
	StoreMove move = { to, "porvoo-hs.walk-in", "porvoo-hs", T0 + HOUR,
			   T0 + 2 * HOUR, 2, NULL, extras };

	g_assert_true(store_move_booking(f->store, id, &move, T0 + 20,
					 &error));
	g_assert_no_error(error);
	g_assert_true(store_get_booking(f->store, id, &got, &error));
	g_assert_cmpstr(got->status, ==, "arrived");
	g_assert_cmpint(got->sequence, ==, 2);
	g_assert_cmpint(got->modified, ==, T0 + 20);
	g_assert_cmpint(got->slot, ==, to);
	g_assert_cmpstr(got->unit, ==, "porvoo-hs");
	g_assert_cmpint(got->end, ==, T0 + 2 * HOUR);
	g_assert_cmpuint(got->seats, ==, 2);
	g_assert_true(g_variant_equal(got->extras, extras));
	g_clear_pointer(&got, store_booking_free);

	g_assert_true(store_update_booking_status(f->store, id, "cancelled",
						  "client called", T0 + 30,
						  &error));
	g_assert_true(store_get_booking(f->store, id, &got, &error));
	g_assert_cmpstr(got->cancel_reason, ==, "client called");
	g_assert_cmpint(got->sequence, ==, 3);

	g_assert_false(store_update_booking_status(f->store, 9999, "noshow",
						   NULL, T0, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_BOOKING);
	g_clear_error(&error);
	move = (StoreMove){ 9999, "x", "y", T0, T0 + HOUR, 1, NULL, NULL };
	g_assert_false(store_move_booking(f->store, id, &move, T0, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_NO_SUCH_SLOT);
}

/* The names (idempotency keys) of what the filter lists, in order. */
static char *
listed(Fixture *f, const StoreBookingFilter *filter)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);
	g_autoptr(GString) names = g_string_new(NULL);

	g_assert_true(store_list_bookings(f->store, filter, found, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < found->len; i++) {
		StoreBooking *b = found->pdata[i];

		g_string_append_printf(names, "%s%s", i ? " " : "",
				       b->idempotency_key);
	}
	return g_string_free(g_steal_pointer(&names), FALSE);
}

#define assert_listed(f, filter, expected) \
	do { \
		g_autofree char *names_ = listed(f, filter); \
		g_assert_cmpstr(names_, ==, expected); \
	} while (0)

static void
add_listing_bookings(Fixture *f)
{
	g_autoptr(GError) error = NULL;
	gint64 slot = add_slot(f, "any", T0, 10);
	StoreBooking *rows[] = {
		booking_new(slot, "b1", "lohja-hs", "walk-in", T0 + HOUR,
			    "client-a"),
		booking_new(slot, "b2", "lohja-hs", "crisis", T0 + 2 * HOUR,
			    "client-b"),
		booking_new(slot, "b3", "porvoo-hs", "walk-in", T0 + 3 * HOUR,
			    "client-a"),
		booking_new(slot, "b4", "porvoo-hs", "walk-in", T0,
			    "client-c"),
	};

	rows[3]->needs_rebooking = TRUE;
	for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
		insert_booking(f, rows[i]);
		g_assert_true(store_take_seats(f->store, rows[i]->id, slot, 1,
					       &error));
		g_assert_no_error(error);
	}
	g_assert_true(store_update_booking_status(f->store, rows[2]->id,
						  "cancelled", "duplicate",
						  T0 + 500, &error));
	g_assert_true(store_release_seats(f->store, rows[2]->id, &error));
	g_assert_no_error(error);
	for (guint i = 0; i < G_N_ELEMENTS(rows); i++)
		store_booking_free(rows[i]);
}

static void
test_bookings_list_filters(Fixture *f, gconstpointer data)
{
	StoreBookingFilter all = { 0 };
	StoreBookingFilter unit = { .unit = "lohja-hs" };
	StoreBookingFilter client = { .client_ref = "client-a" };
	StoreBookingFilter client_booked = { .client_ref = "client-a",
					     .status = "booked" };
	StoreBookingFilter service = { .service = "walk-in" };
	StoreBookingFilter offering = { .offering = "porvoo-hs.walk-in" };
	StoreBookingFilter window = { .from = T0 + HOUR, .to = T0 + 3 * HOUR };
	StoreBookingFilter limited = { .limit = 2 };
	StoreBookingFilter rebook = { .needs_rebooking_only = TRUE };
	StoreBookingFilter changed = { .modified_since = T0 + 500 };
	StoreBookingFilter nothing = { .unit = "lohja-hs",
				       .service = "home-hospital" };

	add_listing_bookings(f);
	assert_listed(f, &all, "b4 b1 b2 b3");
	assert_listed(f, &unit, "b1 b2");
	assert_listed(f, &client, "b1 b3");
	assert_listed(f, &client_booked, "b1");
	assert_listed(f, &service, "b4 b1 b3");
	assert_listed(f, &offering, "b4 b3");
	assert_listed(f, &window, "b1 b2");
	assert_listed(f, &limited, "b4 b1");
	assert_listed(f, &rebook, "b4");
	assert_listed(f, &changed, "b3");
	assert_listed(f, &nothing, "");
}

static void
test_bookings_client_count(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	guint count = 99;

	add_listing_bookings(f);
	/* b3 is cancelled and does not count. */
	g_assert_true(store_count_client_bookings(f->store, "client-a", NULL,
						  T0, T0 + 86400, 0, &count,
						  &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count, ==, 1);
	g_assert_true(store_count_client_bookings(f->store, "client-a",
						  "crisis", T0, T0 + 86400, 0,
						  &count, &error));
	g_assert_cmpuint(count, ==, 0);
	g_assert_true(store_count_client_bookings(f->store, "client-a",
						  "walk-in", T0 + 2 * HOUR,
						  T0 + 86400, 0, &count, &error));
	g_assert_cmpuint(count, ==, 0);
}

static void
test_bookings_of_slot(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_booking_free);

	add_listing_bookings(f);
	g_assert_true(store_slot_bookings(f->store, 1, found, &error));
	g_assert_no_error(error);
	/* By creation; the cancelled one holds no seat. */
	g_assert_cmpuint(found->len, ==, 3);
	g_assert_cmpstr(((StoreBooking *)found->pdata[0])->idempotency_key, ==,
			"b1");
	g_assert_cmpstr(((StoreBooking *)found->pdata[2])->idempotency_key, ==,
			"b4");
}

/* ---- audit ---------------------------------------------------------- */

static void
test_audit_append_only(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *message = NULL;
	char *raw_error = NULL;
	sqlite3 *db;

	g_assert_true(store_audit(f->store, T0, 0, "slotctl", "reload", 0,
				  "2 offerings changed", &error));
	g_assert_true(store_audit(f->store, T0 + 1, 1000, ":1.9", "cancel", 7,
				  NULL, &error));
	g_assert_no_error(error);
	db = raw_open(f->path);
	g_assert_cmpint(sqlite3_exec(db, "UPDATE audit SET caller = 'x'", NULL,
				     NULL, &raw_error), !=, SQLITE_OK);
	g_assert_nonnull(strstr(raw_error, "append-only"));
	sqlite3_free(raw_error);
	g_assert_cmpint(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL,
				     NULL), !=, SQLITE_OK);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM audit"), ==, 2);
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM audit"
				" WHERE booking IS NULL"), ==, 1);
	message = raw_text(db, "SELECT caller FROM audit WHERE booking = 7");
	g_assert_cmpstr(message, ==, ":1.9");
	sqlite3_close(db);
}

/* ---- slots and reconciliation --------------------------------------- */

static void
test_slots_upsert_in_place(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(StoreSlot));
	gint64 first = add_slot(f, "lohja-hs.walk-in", T0, 2);
	gint64 again = add_slot(f, "lohja-hs.walk-in", T0, 4);
	gint64 other = add_slot(f, "lohja-hs.walk-in", T0 + HOUR, 1);
	StoreSlot *s;

	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_cmpint(again, ==, first);
	g_assert_cmpint(other, !=, first);
	g_assert_true(store_list_slots(f->store, "lohja-hs.walk-in", T0,
				       T0 + 2 * HOUR, slots, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(slots->len, ==, 2);
	s = &g_array_index(slots, StoreSlot, 0);
	g_assert_cmpint(s->id, ==, first);
	g_assert_cmpuint(s->capacity, ==, 4);
	g_assert_cmpstr(s->kind, ==, "slot");
	g_assert_cmpint(s->end, ==, T0 + HOUR);
	g_assert_cmpint(s->status, ==, SLOT_STATUS_FREE);
	g_assert_cmpint(g_array_index(slots, StoreSlot, 1).id, ==, other);
}

static void
test_slots_capacity_cut(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 2);
	gint64 id = book(f, slot, "b1", "client-a");
	g_autoptr(GArray) flagged = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_auto(StoreSlot) cut = { 0 };
	g_auto(StoreSlot) restored = { 0 };
	gint64 sequence;

	book(f, slot, "b2", "client-b");
	f->generation = store_next_generation(f->store);
	g_assert_cmpint(add_slot(f, "lohja-hs.walk-in", T0, 1), ==, slot);
	cut = get_slot(f, slot);
	/* Capacity stays what the bookings need; the slot closes. */
	g_assert_cmpint(cut.status, ==, SLOT_STATUS_BUSY_UNAVAILABLE);
	g_assert_cmpuint(cut.capacity, ==, 2);
	g_assert_cmpuint(cut.booked, ==, 2);
	/* Its bookings are flagged by the range's flag that follows a
	 * reshape, as a change: SEQUENCE and modified move, once. */
	g_assert_true(store_get_booking(f->store, id, &b, &error));
	g_assert_false(b->needs_rebooking);
	sequence = b->sequence;
	g_clear_pointer(&b, store_booking_free);
	g_assert_true(store_flag_withdrawn(f->store, "lohja-hs.walk-in", T0,
					   T0 + HOUR, T0 - 60, flagged,
					   &error));
	g_assert_cmpuint(flagged->len, ==, 2);
	g_assert_true(store_flag_withdrawn(f->store, "lohja-hs.walk-in", T0,
					   T0 + HOUR, T0 - 30, flagged,
					   &error));
	g_assert_cmpuint(flagged->len, ==, 2);
	g_assert_true(store_get_booking(f->store, id, &b, &error));
	g_assert_true(b->needs_rebooking);
	g_assert_cmpint(b->sequence, ==, sequence + 1);
	g_assert_cmpint(b->modified, ==, T0 - 60);
	g_assert_cmpstr(b->status, ==, "booked");
	/* Enough capacity again: the slot opens. */
	add_slot(f, "lohja-hs.walk-in", T0, 3);
	restored = get_slot(f, slot);
	g_assert_cmpint(restored.status, ==, SLOT_STATUS_FREE);
	g_assert_cmpuint(restored.capacity, ==, 3);
	g_assert_true(store_integrity_check(f->store, &error));
	g_assert_no_error(error);
}

static void
test_slots_withdraw_unseen(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) rebook = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(StoreSlot));
	const char *off = "lohja-hs.walk-in";
	gint64 kept = add_slot(f, off, T0, 2);
	gint64 gone = add_slot(f, off, T0 + HOUR, 4);
	gint64 later = add_slot(f, off, T0 + 5 * HOUR, 2);
	gint64 other = add_slot(f, "porvoo-hs.walk-in", T0 + HOUR, 2);
	gint64 a = book(f, gone, "b1", "client-a");
	gint64 b = book(f, gone, "b2", "client-b");
	gint64 c = book(f, later, "b3", "client-c");
	gint64 cancelled = book(f, gone, "b4", "client-d");
	gint64 arrived = book(f, gone, "b7", "client-g");
	g_auto(StoreSlot) gone_slot = { 0 };
	g_auto(StoreSlot) kept_slot = { 0 };
	g_autoptr(StoreBooking) untouched = NULL;

	book(f, kept, "b5", "client-e");
	book(f, other, "b6", "client-f");
	g_array_set_clear_func(slots, (GDestroyNotify)store_slot_clear);
	g_assert_true(store_update_booking_status(f->store, cancelled,
						  "cancelled", NULL, T0,
						  &error));
	g_assert_true(store_release_seats(f->store, cancelled, &error));
	/* The client is already there: no rebooking can help. */
	g_assert_true(store_update_booking_status(f->store, arrived, "arrived",
						  NULL, T0, &error));
	/* The new configuration has only the first slot; the window of the
	 * reshape ends before `later`. */
	f->generation = store_next_generation(f->store);
	add_slot(f, off, T0, 2);
	g_assert_true(store_withdraw_unseen(f->store, off, T0, T0 + 4 * HOUR,
					    f->generation, T0 - HOUR, rebook,
					    &error));
	g_assert_no_error(error);
	g_assert_cmpuint(rebook->len, ==, 2);
	g_assert_cmpint(g_array_index(rebook, gint64, 0), ==, a);
	g_assert_cmpint(g_array_index(rebook, gint64, 1), ==, b);

	gone_slot = get_slot(f, gone);
	g_assert_cmpint(gone_slot.status, ==, SLOT_STATUS_BUSY_UNAVAILABLE);
	g_assert_cmpuint(gone_slot.booked, ==, 3);
	g_assert_cmpuint(gone_slot.capacity, ==, 4);
	kept_slot = get_slot(f, kept);
	g_assert_cmpint(kept_slot.status, ==, SLOT_STATUS_FREE);
	g_assert_true(store_list_slots(f->store, off, T0, T0 + 6 * HOUR, slots,
				       &error));
	g_assert_cmpuint(slots->len, ==, 3);
	g_assert_cmpint(count_rows(f, "booking"), ==, 7);
	g_assert_true(store_get_booking(f->store, c, &untouched, &error));
	g_assert_false(untouched->needs_rebooking);
	{
		StoreBookingFilter filter = { .needs_rebooking_only = TRUE };

		assert_listed(f, &filter, "b1 b2");
	}
}

/* ---- horizon and kv ------------------------------------------------- */

static void
test_horizon_and_meta(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *digest = NULL;
	g_autofree char *value = NULL;
	gint64 until = -1;

	g_assert_true(store_get_horizon(f->store, "lohja-hs.walk-in", &until,
					&digest, &error));
	g_assert_cmpint(until, ==, 0);
	g_assert_null(digest);
	g_assert_true(store_set_horizon(f->store, "lohja-hs.walk-in", T0,
					"d1", &error));
	g_assert_true(store_set_horizon(f->store, "lohja-hs.walk-in", T0 + 1,
					"d2", &error));
	g_assert_true(store_get_horizon(f->store, "lohja-hs.walk-in", &until,
					&digest, &error));
	g_assert_no_error(error);
	g_assert_cmpint(until, ==, T0 + 1);
	g_assert_cmpstr(digest, ==, "d2");

	g_assert_true(store_get_meta(f->store, "feed-epoch", &value, &error));
	g_assert_null(value);
	g_assert_true(store_set_meta(f->store, "feed-epoch", "1", &error));
	g_assert_true(store_set_meta(f->store, "feed-epoch", "2", &error));
	g_assert_true(store_get_meta(f->store, "feed-epoch", &value, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(value, ==, "2");
}

/* ---- readers (planning workers) ------------------------------------ */

static char *
meta(Store *store, const char *key)
{
	g_autoptr(GError) error = NULL;
	char *value = NULL;

	g_assert_true(store_get_meta(store, key, &value, &error));
	g_assert_no_error(error);
	return value;
}

/* A reader sees the last commit, one commit for the whole of a read
 * transaction while the main connection goes on writing, and the next
 * one after it. */
static void
test_reader_reads_while_writer_writes(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) reader = NULL;
	g_autofree char *first = NULL, *during = NULL, *after = NULL;

	g_assert_true(store_set_meta(f->store, "epoch", "1", &error));
	reader = store_open_readonly(f->path, &error);
	g_assert_no_error(error);
	g_assert_true(store_read_begin(reader, &error));
	first = meta(reader, "epoch");
	g_assert_true(store_set_meta(f->store, "epoch", "2", &error));
	g_assert_no_error(error);
	during = meta(reader, "epoch");
	store_read_end(reader);
	after = meta(reader, "epoch");
	g_assert_cmpstr(first, ==, "1");
	g_assert_cmpstr(during, ==, "1");
	g_assert_cmpstr(after, ==, "2");
}

/* The `t`-th transaction of 200 slots an hour apart (about 13 pages of
 * WAL). */
static void
commit_200_slots(Fixture *f, guint t)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(store_begin(f->store, &error));
	for (guint i = 0; i < 200; i++)
		add_slot(f, "lohja-hs.walk-in",
			 T0 + ((gint64)t * 200 + i) * HOUR, 3);
	g_assert_true(store_commit(f->store, &error));
	g_assert_no_error(error);
}

/* Whatever it is asked, a reader changes nothing; it never creates a
 * database either. */
/* Commits that grow the WAL past SQLite's usual threshold are
 * checkpointed by the store's thread, not by the committing connection,
 * and nothing is lost: every slot is there after a reopen, and the WAL
 * was copied back while the main connection kept it open. */
static void
test_checkpoint_off_the_committer(Fixture *f, gconstpointer data)
{
	guint done = 0, forced = 0;
	gint64 deadline;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int frames = -1, copied = -1;

	/* About 1,600 pages: each transaction adds 200 slots. */
	for (guint t = 0; t < 120; t++)
		commit_200_slots(f, t);
	deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (store_checkpoint_counts(f->store, &done, &forced, NULL),
	       done == 0 &&
	       g_get_monotonic_time() < deadline)
		g_usleep(10 * 1000);
	g_assert_cmpuint(done, >, 0);
	g_assert_cmpuint(forced, ==, 0);
	/* What the thread copied stays copied: a passive checkpoint from
	 * here finds at most the frames of commits after it. */
	g_assert_cmpint(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE,
					NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_wal_checkpoint_v2(db, NULL,
						  SQLITE_CHECKPOINT_PASSIVE,
						  &frames, &copied),
			==, SQLITE_OK);
	g_assert_cmpint(copied, ==, frames);
	g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT count(*) FROM slot",
					   -1, &q, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_step(q), ==, SQLITE_ROW);
	g_assert_cmpint(sqlite3_column_int(q, 0), ==, 120 * 200);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* Under a steady stream of small commits, each begun right after the
 * last (a booking at a time), the WAL starts over about every 1,000
 * pages: it never grows to the length at which a commit would have to
 * copy it all on the main loop. Without the commit that copies its own
 * frames once the thread has caught up, the thread's pass always ended
 * after the next transaction had begun, and the WAL grew until then. */
static void
test_wal_starts_over_under_steady_commits(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	guint done = 0, forced = 0, restarts = 0;
	int longest = 0;

	/* Some 12,000 pages in all: past the forced checkpoint's 10,000
	 * had the WAL never started over. */
	for (guint t = 0; t < 4000; t++) {
		g_assert_true(store_begin(f->store, &error));
		add_slot(f, "lohja-hs.walk-in", T0 + (gint64)t * HOUR, 3);
		g_assert_true(store_commit(f->store, &error));
		g_assert_no_error(error);
		longest = MAX(longest, store_wal_pages(f->store));
	}
	store_checkpoint_counts(f->store, &done, &forced, &restarts);
	g_test_message("4,000 commits: WAL at most %d pages; %u passes of "
		       "the thread, %u restarts by a commit, %u forced",
		       longest, done, restarts, forced);
	g_assert_cmpuint(forced, ==, 0);
	g_assert_cmpuint(restarts, >, 0);
	g_assert_cmpint(longest, <, 5000);
}

/* store_wal_busy() says when the checkpoint thread has been asked to
 * copy the WAL or is copying it (a reload's steps wait then): from the
 * commit that takes the WAL past the thread's threshold until the
 * thread's pass has ended, and not before. */
static void
test_wal_copying_follows_the_thread(Fixture *f, gconstpointer data)
{
	guint done = 0, before = 0, forced = 0;
	gint64 deadline;
	guint t = 0;

	store_checkpoint_counts(f->store, &before, &forced, NULL);
	g_assert_false(store_wal_busy(f->store));
	/* 200 slots a transaction, until the WAL is past 1,000 pages. */
	while (store_wal_pages(f->store) < 1000) {
		g_assert_false(store_wal_busy(f->store));
		commit_200_slots(f, t);
		g_assert_cmpuint(++t, <, 100);
	}
	/* That commit asked the thread: copying until its pass ends. */
	g_assert_true(store_wal_busy(f->store));
	deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
	while (store_wal_busy(f->store) &&
	       g_get_monotonic_time() < deadline)
		g_usleep(1000);
	g_assert_false(store_wal_busy(f->store));
	store_checkpoint_counts(f->store, &done, &forced, NULL);
	g_assert_cmpuint(done, >, before);
}

static void
test_reader_refuses_changes(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Store) reader = NULL;
	g_autofree char *missing = g_build_filename(f->dir, "none.db", NULL);
	g_autofree char *value = NULL;

	g_assert_true(store_set_meta(f->store, "epoch", "1", &error));
	reader = store_open_readonly(f->path, &error);
	g_assert_no_error(error);
	expect_store_warnings = TRUE;
	g_assert_false(store_set_meta(reader, "epoch", "2", &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	g_clear_error(&error);
	g_assert_false(store_begin(reader, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	g_clear_error(&error);
	value = meta(f->store, "epoch");
	g_assert_cmpstr(value, ==, "1");
	g_assert_null(store_open_readonly(missing, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	g_assert_false(g_file_test(missing, G_FILE_TEST_EXISTS));
}

/* ---- integrity ------------------------------------------------------ */

static void
test_integrity_seat_drift(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 3);
	sqlite3 *db;

	book(f, slot, "b1", "client-a");
	g_assert_true(store_integrity_check(f->store, &error));
	g_assert_no_error(error);
	/* Within capacity, so only the seat accounting can notice. */
	db = raw_open(f->path);
	g_assert_cmpint(sqlite3_exec(db, "UPDATE slot SET booked = 2", NULL,
				     NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	expect_store_warnings = TRUE;
	g_assert_false(store_integrity_check(f->store, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_FAILED);
}

/* ---- storage faults ------------------------------------------------- */

/* Tries one booking with an audit row in one transaction. */
static gboolean
try_booking(Fixture *f, gint64 slot, const char *name, GError **error)
{
	g_autoptr(StoreBooking) b = booking_new(slot, name, "lohja-hs",
						"walk-in", T0, "client-secret");

	if (!store_begin(f->store, error))
		return FALSE;
	if (store_insert_booking(f->store, b, error) &&
	    store_take_seats(f->store, b->id, slot, 1, error) &&
	    store_audit(f->store, T0, 1000, ":1.7", "book", b->id, name,
			error) &&
	    store_commit(f->store, error))
		return TRUE;
	store_rollback(f->store);
	return FALSE;
}

/* The counts a failed booking must not have changed. */
static void
assert_unchanged(Fixture *f, gint64 slot, gint64 bookings)
{
	g_assert_cmpint(count_rows(f, "booking"), ==, bookings);
	g_assert_cmpint(count_rows(f, "booking_use"), ==, bookings);
	g_assert_cmpint(count_rows(f, "audit"), ==, bookings);
	g_assert_cmpuint(booked(f, slot), ==, bookings);
}

static void
test_faults_full_database(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) first = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 100000);
	gint64 done = 0;

	store_test_set_max_pages(f->store, 1);
	expect_store_warnings = TRUE;
	while (done < 10000) {
		g_autofree char *name = g_strdup_printf("b%" G_GINT64_FORMAT,
							done);

		if (!try_booking(f, slot, name, &error))
			break;
		done++;
	}
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	g_assert_nonnull(strstr(error->message, "disk full"));
	assert_plain_message(f, error);
	assert_warned_without("client-secret");
	g_assert_cmpint(done, >, 0);
	assert_unchanged(f, slot, done);
	g_clear_error(&error);

	/* Reads go on while writes cannot. */
	g_assert_true(store_find_idempotent(f->store, "b0", &first, &error));
	g_assert_no_error(error);
	g_assert_nonnull(first);
	/* And writes work again once there is room. */
	store_test_set_max_pages(f->store, 0);
	g_assert_true(try_booking(f, slot, "after", &error));
	g_assert_no_error(error);
	assert_unchanged(f, slot, done + 1);
	g_assert_true(store_integrity_check(f->store, &error));
	g_assert_no_error(error);
}

static void
test_faults_lost_transaction(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 100000);
	gint64 before = count_rows(f, "audit");
	guint i;

	store_test_set_max_pages(f->store, 1);
	expect_store_warnings = TRUE;
	g_assert_true(store_begin(f->store, &error));
	for (i = 0; i < 100000; i++)
		if (!store_audit(f->store, T0, 0, "test", "fill", 0,
				 "a detail long enough to fill pages quickly",
				 &error))
			break;
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	g_clear_error(&error);
	/* SQLite rolled back on its own; what follows must not commit on
	 * its own either. */
	store_test_set_max_pages(f->store, 0);
	g_assert_false(store_audit(f->store, T0, 0, "test", "late", 0, NULL,
				   &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	g_clear_error(&error);
	g_assert_false(store_commit(f->store, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	store_rollback(f->store);
	g_assert_cmpint(count_rows(f, "audit"), ==, before);
	g_assert_true(try_booking(f, slot, "after", NULL));
}

/* A full disk or an I/O error while COMMIT writes the WAL. */
static void
test_faults_commit(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) b = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 5);

	book(f, slot, "b0", "client-a");
	b = booking_new(slot, "b1", "lohja-hs", "walk-in", T0, "client-secret");
	g_assert_true(store_begin(f->store, &error));
	insert_booking(f, b);
	g_assert_true(store_take_seats(f->store, b->id, slot, 1, &error));
	g_assert_true(store_audit(f->store, T0, 1000, ":1.7", "book", b->id,
				  NULL, &error));
	g_assert_no_error(error);
	expect_store_warnings = TRUE;
	write_fault = GPOINTER_TO_INT(data);
	g_assert_false(store_commit(f->store, &error));
	write_fault = 0;
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	assert_plain_message(f, error);
	assert_warned_without("client-secret");
	g_assert_false(store_in_transaction(f->store));
	store_rollback(f->store);
	g_clear_error(&error);

	assert_unchanged(f, slot, 1);
	g_assert_true(try_booking(f, slot, "b2", &error));
	g_assert_no_error(error);
	assert_unchanged(f, slot, 2);
	/* What is on disk agrees, for a fresh connection too. */
	fixture_close(f);
	fixture_open(f);
	assert_unchanged(f, slot, 2);
	g_assert_true(store_integrity_check(f->store, &error));
	g_assert_no_error(error);
}

/* As on a file system remounted read-only: the file opens for reading
 * only. Root ignores file modes, so the VFS plays the part. */
static void
test_faults_read_only(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) first = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 5);

	book(f, slot, "b0", "client-a");
	fixture_close(f);
	read_only_opens = TRUE;
	fixture_open(f);
	g_assert_true(store_find_idempotent(f->store, "b0", &first, &error));
	g_assert_no_error(error);
	g_assert_nonnull(first);
	expect_store_warnings = TRUE;
	g_assert_false(try_booking(f, slot, "b1", &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	g_assert_nonnull(strstr(error->message, "read-only"));
	assert_plain_message(f, error);
	assert_warned_without("client-secret");
	g_clear_error(&error);
	g_assert_false(hold_slot(f, slot, 1, T0, 1000, NULL, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	g_clear_error(&error);
	assert_unchanged(f, slot, 1);
	g_assert_cmpuint(held(f, slot), ==, 0);

	/* Writable again: the next connection writes. */
	fixture_close(f);
	read_only_opens = FALSE;
	fixture_open(f);
	g_assert_true(try_booking(f, slot, "b1", &error));
	g_assert_no_error(error);
	assert_unchanged(f, slot, 2);
}

/* ---- backups -------------------------------------------------------- */

static void
assert_no_temp_files(Fixture *f)
{
	g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
	const char *name;

	while ((name = g_dir_read_name(dir)) != NULL)
		g_assert_false(g_str_has_prefix(name, ".slotd-backup-"));
}

static void
test_backup_during_transaction(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreBooking) pending = NULL;
	g_autofree char *target = g_build_filename(f->dir, "backup.db", NULL);
	g_autofree char *check = NULL;
	g_autofree char *mode = NULL;
	gint64 slot = add_slot(f, "lohja-hs.walk-in", T0, 5);
	sqlite3 *db;

	book(f, slot, "b1", "client-a");
	/* A backup is always a new file: an older one stays as it was. */
	g_assert_true(g_file_set_contents(target, "an older backup", -1, NULL));
	g_assert_false(store_backup(f->store, target, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	g_assert_true(g_file_get_contents(target, &check, NULL, NULL));
	g_assert_cmpstr(check, ==, "an older backup");
	g_clear_pointer(&check, g_free);
	g_assert_cmpint(g_unlink(target), ==, 0);
	g_assert_true(store_begin(f->store, &error));
	pending = booking_new(slot, "b2", "lohja-hs", "walk-in", T0, "c-b");
	insert_booking(f, pending);
	g_assert_true(store_take_seats(f->store, pending->id, slot, 1, &error));
	g_assert_true(store_backup(f->store, target, &error));
	g_assert_no_error(error);
	g_assert_true(store_commit(f->store, &error));
	g_assert_no_error(error);
	assert_no_temp_files(f);

	/* The copy is whole, alone, and holds only what was committed. */
	db = raw_open(target);
	check = raw_text(db, "PRAGMA integrity_check");
	mode = raw_text(db, "PRAGMA journal_mode");
	g_assert_cmpstr(check, ==, "ok");
	g_assert_cmpstr(mode, ==, "delete");
	g_assert_cmpint(raw_int(db, "SELECT count(*) FROM booking"), ==, 1);
	g_assert_cmpint(raw_int(db, "SELECT booked FROM slot"), ==, 1);
	g_assert_cmpint(raw_int(db, "PRAGMA user_version"), ==, SCHEMA_NOW);
	sqlite3_close(db);
}

static void
test_backup_refusals(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *missing = g_build_filename(f->dir, "no", "such",
						    "backup.db", NULL);

	g_assert_false(store_backup(f->store, f->path, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_INVALID_ARGS);
	g_clear_error(&error);
	expect_store_warnings = TRUE;
	g_assert_false(store_backup(f->store, missing, &error));
	g_assert_error(error, SLOTD_ERROR, SLOTD_ERROR_STORAGE_UNAVAILABLE);
	assert_plain_message(f, error);
	g_assert_true(store_integrity_check(f->store, NULL));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	store_warnings = g_ptr_array_new_with_free_func(g_free);
	g_log_set_writer_func(log_writer, NULL, NULL);
	install_fault_vfs();

	TEST("/store/schema/fresh-file-gets-the-current-version",
	     test_schema_fresh);
	TEST("/store/schema/reopening-keeps-the-data", test_schema_reopen);
	TEST("/store/schema/upgrade-from-v2-keeps-bookings-and-holds",
	     test_schema_upgrade_from_v2);
	TEST("/store/schema/upgrade-from-v3-adds-waitlist-and-outbox",
	     test_schema_upgrade_from_v3);
	TEST("/store/schema/newer-version-is-refused", test_schema_newer);
	TEST("/store/schema/checks-need-no-temporary-tables",
	     test_schema_checks_without_in_lists);
	TEST("/store/generation/kept-in-meta", test_generation_kept_in_meta);
	TEST("/store/generation/follows-rollbacks",
	     test_generation_follows_rollbacks);
	TEST("/store/generation/older-database-gets-it",
	     test_generation_of_older_database);
	TEST("/store/span/follows-commits", test_span_follows_commits);
	TEST("/store/resources/left-by-moves", test_left_places);
	TEST("/store/span/older-database-learns-it",
	     test_span_of_older_database);
	TEST("/store/schema/not-a-database-is-refused",
	     test_schema_not_a_database);
	TEST("/store/seats/never-exceed-capacity", test_seats_capacity);
	TEST("/store/seats/several-at-once-fit-or-none",
	     test_seats_many_at_once);
	TEST("/store/seats/unknown-slot-or-booking-changes-nothing",
	     test_seats_unknown);
	TEST("/store/seats/full-slot-leaves-the-transaction-usable",
	     test_seats_failure_keeps_transaction);
	TEST("/store/seats/withdrawn-slot-is-full", test_seats_withdrawn);
	TEST("/store/seats/release-gives-back-every-seat-once",
	     test_seats_release);
	TEST("/store/seats/check-constraint-holds-for-raw-updates",
	     test_seats_raw_update);
	TEST("/store/holds/take-seats-and-expire", test_holds_take_and_expire);
	TEST("/store/holds/delete-gives-seats-back", test_holds_delete);
	TEST("/store/transactions/rollback-leaves-nothing",
	     test_transactions_rollback);
	TEST("/store/transactions/savepoint-undoes-one-unit",
	     test_transactions_savepoints);
	TEST("/store/transactions/locked-database-is-busy-not-broken",
	     test_transactions_busy);
	TEST("/store/bookings/ids-are-never-handed-out-again",
	     test_bookings_ids_never_reused);
	TEST("/store/bookings/idempotency-key-finds-the-booking",
	     test_bookings_idempotency);
	TEST("/store/bookings/every-field-comes-back",
	     test_bookings_round_trip);
	TEST("/store/bookings/no-extras-come-back-empty-not-null",
	     test_bookings_empty_extras);
	TEST("/store/bookings/status-and-move-bump-the-sequence",
	     test_bookings_status_and_move);
	TEST("/store/bookings/list-filters", test_bookings_list_filters);
	TEST("/store/bookings/client-count-skips-cancelled",
	     test_bookings_client_count);
	TEST("/store/bookings/of-a-slot-are-live-ones-by-creation",
	     test_bookings_of_slot);
	TEST("/store/audit/rows-cannot-be-changed-or-deleted",
	     test_audit_append_only);
	TEST("/store/slots/upsert-updates-in-place",
	     test_slots_upsert_in_place);
	TEST("/store/slots/capacity-cut-keeps-them-range-flags-once",
	     test_slots_capacity_cut);
	TEST("/store/slots/withdraw-unseen-flags-and-deletes-nothing",
	     test_slots_withdraw_unseen);
	TEST("/store/horizon-and-meta/round-trip", test_horizon_and_meta);
	TEST("/store/reader/reads-one-commit-while-the-writer-writes",
	     test_reader_reads_while_writer_writes);
	TEST("/store/reader/refuses-every-change",
	     test_reader_refuses_changes);
	TEST("/store/wal/checkpointed-off-the-committer",
	     test_checkpoint_off_the_committer);
	TEST("/store/wal/copying-follows-the-thread",
	     test_wal_copying_follows_the_thread);
	TEST("/store/wal/starts-over-under-steady-commits",
	     test_wal_starts_over_under_steady_commits);
	TEST("/store/integrity/notices-seat-count-drift",
	     test_integrity_seat_drift);
	TEST("/store/faults/full-database-refuses-writes-and-recovers",
	     test_faults_full_database);
	TEST("/store/faults/lost-transaction-refuses-until-rollback",
	     test_faults_lost_transaction);
	g_test_add("/store/faults/disk-full-at-commit-changes-nothing",
		   Fixture, GINT_TO_POINTER(SQLITE_FULL), fixture_set_up,
		   test_faults_commit, fixture_tear_down);
	g_test_add("/store/faults/io-error-at-commit-changes-nothing",
		   Fixture, GINT_TO_POINTER(SQLITE_IOERR_WRITE),
		   fixture_set_up, test_faults_commit, fixture_tear_down);
	TEST("/store/faults/read-only-file-reads-but-refuses-writes",
	     test_faults_read_only);
	TEST("/store/backup/is-whole-during-a-transaction",
	     test_backup_during_transaction);
	TEST("/store/backup/refuses-bad-targets", test_backup_refusals);
	return g_test_run();
}
