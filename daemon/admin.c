/* org.slotd.Admin1: plugins, reload, backups. */
#include "daemon.h"
#include "health.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "feed.h"
#include "feed-token.h"
#include "http.h"
#include "slotd-config.h"
#include "validate.h"

#define E_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define E_ARGS "org.freedesktop.DBus.Error.InvalidArgs"

static const char *const errors_read[] = { E_DENIED, NULL };
static const char *const errors_reload[] = {
	E_DENIED, "org.slotd.Error.InvalidConfig",
	"org.slotd.Error.StorageUnavailable", NULL
};
static const char *const errors_backup[] = {
	E_ARGS, E_DENIED, "org.slotd.Error.StorageUnavailable", NULL
};

static void
list_plugins(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	GPtrArray *list = plugin_host_list(daemon->plugins);
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a(sssu)"));
	for (guint i = 0; i < list->len; i++) {
		const PluginInfo *p = list->pdata[i];
		g_autofree char *summary = NULL;
		g_autofree char *base = g_path_get_basename(p->path);

		if (p->loaded)
			summary = g_strdup(p->summary);
		else
			summary = g_strdup_printf("refused: %s", p->error);
		g_variant_builder_add(&b, "(sssu)", p->id ? p->id : base,
				      p->loaded ? p->version : "", summary,
				      p->abi_major);
	}
	bus_call_return(call, g_variant_new("(a(sssu))", &b));
}

/* Answered once the reload is over: every change committed and every
 * booking that needs rebooking flagged (daemon_reload), while the loop
 * goes on answering others. */
static void
reload_done(Daemon *daemon, guint rebook_count, const GError *error,
	    gpointer user_data)
{
	BusCall *call = user_data;
	Caller caller;

	if (error) {
		bus_call_return_error(call, error);
		return;
	}
	daemon_caller(call, &caller);
	store_audit(daemon->store, capacity_now(daemon->capacity), caller.uid,
		    caller.name, "reload", 0, "", NULL);
	bus_call_return(call, NULL);
}

static void
reload(BusCall *call, GVariant *args, gpointer user_data)
{
	daemon_reload(user_data, bus_call_sender(call), reload_done, call);
}

/* One row for every backup written or tried past the path checks. */
static gboolean
audit_backup(Daemon *daemon, const Caller *caller, const char *path,
	     gboolean written, GError **error)
{
	g_autofree char *about = backup_describe(path);
	g_autofree char *detail = g_strdup_printf(
		"%s result=%s", about, written ? "ok" : "failed");

	return store_audit(daemon->store, capacity_now(daemon->capacity),
			   caller->uid, caller->name, "backup", 0, detail,
			   error);
}

/* A copy whose audit row cannot be written is removed again. */
static gboolean
write_backup(Daemon *daemon, const Caller *caller, const char *path,
	     const BackupTarget *target, GError **error)
{
	g_autoptr(GError) audit_error = NULL;
	gboolean written = store_backup_at(daemon->store, target->dir_fd,
					   target->dir, target->name, error);

	if (audit_backup(daemon, caller, path, written, &audit_error))
		return written;
	if (!written)
		return FALSE;
	unlinkat(target->dir_fd, target->name, 0);
	g_propagate_error(error, g_steal_pointer(&audit_error));
	return FALSE;
}

static void
backup(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_auto(BackupTarget) target = BACKUP_TARGET_INIT;
	const char *path;
	Caller caller;

	g_variant_get(args, "(&s)", &path);
	daemon_caller(call, &caller);
	if (!backup_target_check(path, store_path(daemon->store), &target,
				 &error)) {
		g_autofree char *about = backup_describe(path);

		g_message("backup refused: %s (%s)", error->message, about);
		bus_call_return_error(call, error);
		return;
	}
	if (!write_backup(daemon, &caller, path, &target, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	bus_call_return(call, NULL);
}

/* The same facts as /healthz. */
static void
insert_health(Daemon *daemon, GVariantDict *d)
{
	HealthFacts f;

	health_facts(daemon, &f);
	g_variant_dict_insert(d, "healthy", "b", f.healthy);
	g_variant_dict_insert(d, "loop-ok", "b", f.loop);
	g_variant_dict_insert(d, "last-turn-ms", "x", f.last_turn_ms);
	g_variant_dict_insert(d, "database-writable", "b", f.database);
	g_variant_dict_insert(d, "plugins-loaded", "u", f.plugins_loaded);
	g_variant_dict_insert(d, "plugins-refused", "u", f.plugins_refused);
}

static void
get_status(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	Region *region = capacity_region(daemon->capacity);
	guint unavailable = 0;
	GVariantDict d;

	for (guint i = 0; i < region->offerings->len; i++) {
		const SlotdOffering *off = region->offerings->pdata[i];

		unavailable += off->available ? 0 : 1;
	}
	g_variant_dict_init(&d, NULL);
	g_variant_dict_insert(&d, "version", "s", SLOTD_VERSION);
	g_variant_dict_insert(&d, "region", "s", region->daemon.region_id);
	g_variant_dict_insert(&d, "now", "x", capacity_now(daemon->capacity));
	g_variant_dict_insert(&d, "horizon-complete", "b",
			      daemon->extend_source == NULL);
	g_variant_dict_insert(&d, "horizon-days", "u",
			      region->daemon.horizon_days);
	g_variant_dict_insert(&d, "offerings", "u", region->offerings->len);
	g_variant_dict_insert(&d, "unavailable-offerings", "u", unavailable);
	g_variant_dict_insert(&d, "pending-calls", "u",
			      bus_pending_calls(daemon->bus));
	if (daemon->last_reload)
		g_variant_dict_insert_value(&d, "last-reload",
					    daemon->last_reload);
	insert_health(daemon, &d);
	bus_call_return(call, g_variant_new("(@a{sv})", g_variant_dict_end(&d)));
}

/* ---- feed tokens ---------------------------------------------------- */

static const char *const errors_issue_token[] = {
	E_ARGS, E_DENIED, "org.slotd.Error.NoSuchUnit",
	"org.slotd.Error.NoSuchService", "org.slotd.Error.StorageUnavailable",
	NULL
};
static const char *const errors_issue_practitioner_token[] = {
	E_ARGS, E_DENIED, "org.slotd.Error.NoSuchPractitioner",
	"org.slotd.Error.StorageUnavailable", NULL
};
static const char *const errors_revoke_token[] = {
	E_DENIED, "org.slotd.Error.NoSuchToken",
	"org.slotd.Error.StorageUnavailable", NULL
};

/* The audit log names a token by the start of its hash, never by the
 * token itself. */
static char *
token_detail(const guint8 *hash, const char *unit, const char *service)
{
	return g_strdup_printf("unit=%s service=%s token-sha256=%02x%02x%02x"
			       "%02x…", unit, service && *service ? service
								: "*",
			       hash[0], hash[1], hash[2], hash[3]);
}

/* Stores the token's hash and the audit row in one transaction. */
static gboolean
store_token(Daemon *daemon, const Caller *caller, const guint8 *hash,
	    const char *unit, const char *service, GError **error)
{
	Store *store = daemon->store;
	gint64 now = capacity_now(daemon->capacity);
	g_autofree char *detail = token_detail(hash, unit, service);

	if (!store_begin(store, error))
		return FALSE;
	if (store_feed_token_add(store, hash, unit, service, now, caller->uid,
				 error) &&
	    store_audit(store, now, caller->uid, caller->name,
			"feed-token-issued", 0, detail, error) &&
	    store_commit(store, error))
		return TRUE;
	store_rollback(store);
	return FALSE;
}

static void
issue_feed_token(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL;
	char token[FEED_TOKEN_LENGTH + 1];
	guint8 hash[FEED_HASH_SIZE];
	const char *unit, *service;
	Caller caller;

	g_variant_get(args, "(&s&s)", &unit, &service);
	daemon_caller(call, &caller);
	if (!validate_id(unit, "unit", &error) ||
	    (*service && !validate_id(service, "service", &error)) ||
	    !feed_scope_check(capacity_region(daemon->capacity), unit,
			      service, &error) ||
	    !feed_token_generate(token, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	feed_token_hash(token, hash);
	if (!store_token(daemon, &caller, hash, unit, service, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	path = feed_path_format(FEED_KIND_STAFF, token, unit, service);
	bus_call_return(call, g_variant_new("(ss)", token, path));
	memset(token, 0, sizeof(token));
}

/* A practitioner's token: stored as unit "practitioner:ID", service
 * "" (feed-token.h), so the feed_token table needs no new column. */
static void
issue_practitioner_feed_token(BusCall *call, GVariant *args,
			      gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autofree char *path = NULL, *scope = NULL;
	char token[FEED_TOKEN_LENGTH + 1];
	guint8 hash[FEED_HASH_SIZE];
	const char *practitioner;
	Caller caller;

	g_variant_get(args, "(&s)", &practitioner);
	daemon_caller(call, &caller);
	if (!validate_id(practitioner, "practitioner", &error) ||
	    !feed_practitioner_check(capacity_region(daemon->capacity),
				     practitioner, &error) ||
	    !feed_token_generate(token, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	feed_token_hash(token, hash);
	scope = g_strconcat(FEED_PRACTITIONER_SCOPE, practitioner, NULL);
	if (!store_token(daemon, &caller, hash, scope, "", &error)) {
		bus_call_return_error(call, error);
		return;
	}
	path = feed_path_format(FEED_KIND_PRACTITIONER, token, practitioner,
				NULL);
	bus_call_return(call, g_variant_new("(ss)", token, path));
	memset(token, 0, sizeof(token));
}

static gboolean
revoke_token(Daemon *daemon, const Caller *caller, const guint8 *hash,
	     GError **error)
{
	Store *store = daemon->store;
	gint64 now = capacity_now(daemon->capacity);
	g_autofree char *unit = NULL, *service = NULL, *detail = NULL;

	if (!store_begin(store, error))
		return FALSE;
	if (store_feed_token_revoke(store, hash, now, &unit, &service,
				    error)) {
		detail = token_detail(hash, unit, service);
		if (store_audit(store, now, caller->uid, caller->name,
				"feed-token-revoked", 0, detail, error) &&
		    store_commit(store, error))
			return TRUE;
	}
	store_rollback(store);
	return FALSE;
}

static void
revoke_feed_token(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	guint8 hash[FEED_HASH_SIZE];
	const char *token;
	Caller caller;

	g_variant_get(args, "(&s)", &token);
	daemon_caller(call, &caller);
	/* The message never repeats what was sent: it may be a token. */
	if (!feed_token_is_well_formed(token)) {
		g_set_error_literal(&error, SLOTD_ERROR,
				    SLOTD_ERROR_NO_SUCH_TOKEN,
				    "no such feed token; a token is 32 "
				    "letters a-z and digits 2-7");
		bus_call_return_error(call, error);
		return;
	}
	feed_token_hash(token, hash);
	if (!revoke_token(daemon, &caller, hash, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	bus_call_return(call, NULL);
}

static void
get_http_address(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;

	bus_call_return(call,
			g_variant_new("(s)", http_address(daemon->http)));
}

/* ---- resources ---------------------------------------------------------- */

static const char *const errors_absence[] = {
	E_ARGS, E_DENIED, "org.slotd.Error.StorageUnavailable", NULL
};

static void
mark_absent(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) affected = NULL;
	g_autofree char *id = NULL;
	const char *resource, *reason;
	gint64 start, end;
	Caller caller;

	g_variant_get(args, "(&sxx&s)", &resource, &start, &end, &reason);
	daemon_caller(call, &caller);
	if (!validate_id(resource, "resource", &error) ||
	    !capacity_mark_absent(daemon->capacity, &caller, resource, start,
				  end, reason, &id, &affected, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	bus_call_return(call, g_variant_new("(s@aa{sv})", id, affected));
}

static void
list_resources(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GVariant) rows = NULL;
	const char *unit;

	g_variant_get(args, "(&s)", &unit);
	rows = capacity_list_resources(daemon->capacity, unit);
	bus_call_return(call, g_variant_new("(@aa{sv})", rows));
}

static const BusMethod admin_methods[] = {
	{ "GetStatus", "", "", "a{sv}", "status", get_status, BUS_ROLE_READ,
	  errors_read,
	  "version, region, now, horizon-complete, offerings, "
	  "unavailable-offerings, pending-calls, and the facts of /healthz: "
	  "healthy, loop-ok, last-turn-ms, database-writable, "
	  "plugins-loaded, plugins-refused; after a reload, last-reload "
	  "(a{sv}: finished, by, and error or needs-rebooking, and when "
	  "it began offerings-reshaped and offerings-withdrawn)." },
	{ "ListPlugins", "", "", "a(sssu)", "plugins", list_plugins,
	  BUS_ROLE_READ, errors_read,
	  "Plugins: id, version, summary (or why refused), ABI major." },
	{ "Reload", "", "", "", "", reload, BUS_ROLE_ADMIN, errors_reload,
	  "Re-reads configuration and plugins; a broken one changes "
	  "nothing." },
	{ "Backup", "s", "path", "", "", backup, BUS_ROLE_ADMIN,
	  errors_backup,
	  "Writes a consistent copy of the database to a new file (an "
	  "absolute path outside the state directory; never replaces a "
	  "file)." },
	{ "IssueFeedToken", "ss", "unit,service", "ss", "token,path",
	  issue_feed_token, BUS_ROLE_ADMIN, errors_issue_token,
	  "A new token for the unit's staff and free/busy feeds (service "
	  "\"\": every service), and the staff feed's URL path." },
	{ "IssuePractitionerFeedToken", "s", "practitioner", "ss",
	  "token,path", issue_practitioner_feed_token, BUS_ROLE_ADMIN,
	  errors_issue_practitioner_token,
	  "A new token for one practitioner's own feed (its bookings in "
	  "any unit, with travel; no client reference), and its URL "
	  "path." },
	{ "RevokeFeedToken", "s", "token", "", "", revoke_feed_token,
	  BUS_ROLE_ADMIN, errors_revoke_token,
	  "Revokes a feed token: its URLs answer 404 from now on." },
	{ "GetHttpAddress", "", "", "s", "address", get_http_address,
	  BUS_ROLE_READ, errors_read,
	  "HOST:PORT the feed server listens on; \"\" when it serves "
	  "none." },
	{ "MarkAbsent", "sxxs", "resource,start,end,reason", "saa{sv}",
	  "absence,affected", mark_absent, BUS_ROLE_ADMIN, errors_absence,
	  "Marks a practitioner, room or vehicle absent for [start, end) "
	  "(UTC seconds): its capacity is withdrawn, the upcoming bookings "
	  "that take it are flagged needs-rebooking and returned with up "
	  "to three alternatives each, as Reschedule takes them (same "
	  "unit, same day first, nearest the visit's time of day); nothing "
	  "is moved. Audited." },
	{ "ListResources", "s", "unit", "aa{sv}", "resources",
	  list_resources, BUS_ROLE_READ, errors_read,
	  "Practitioners, rooms and vehicles (of one unit, or \"\" for "
	  "all): id, type, unit, organisation, roles, languages, seats, "
	  "absences a(xxs)." },
	{ NULL }
};

const BusInterface admin_interface = {
	"org.slotd.Admin1", admin_methods, NULL
};
