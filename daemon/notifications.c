/* org.slotd.Notifications1: the gateway that sends SMS and e-mail
 * claims what slotd wrote to the outbox and acknowledges it. At least
 * once: a claimed item not acknowledged before its lease ends is handed
 * out again (also after slotd was killed), with the same id and
 * idempotency key. */
#include "daemon.h"
#include "slotd-config.h"

#define E_(name) "org.slotd.Error." name
#define E_ARGS "org.freedesktop.DBus.Error.InvalidArgs"
#define E_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define E_STORAGE E_("StorageUnavailable")

static const char *const errors_claim[] = {
	E_ARGS, E_DENIED, E_STORAGE, NULL
};

gboolean
notifications_run_claim(Daemon *daemon, const Caller *caller, GVariant *args,
			GVariant **ret_reply, GError **error)
{
	g_autoptr(GVariant) items = NULL;
	gint64 lease = 0;
	guint32 max;

	g_variant_get(args, "(u)", &max);
	if (!capacity_outbox_claim(daemon->capacity, max, &items, &lease,
				   error))
		return FALSE;
	*ret_reply = g_variant_new("(@a(ssssxsa{sv})x)", items, lease);
	return TRUE;
}

gboolean
notifications_run_ack(Daemon *daemon, const Caller *caller, GVariant *args,
		      GVariant **ret_reply, GError **error)
{
	g_autofree const char **ids = NULL;

	g_variant_get(args, "(^a&s)", &ids);
	*ret_reply = NULL;
	return capacity_outbox_ack(daemon->capacity, caller, ids, error);
}

static void
list_outbox(BusCall *call, GVariant *args, gpointer user_data)
{
	Daemon *daemon = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) rows = NULL;
	guint32 limit;

	g_variant_get(args, "(u)", &limit);
	if (!capacity_outbox_list(daemon->capacity, limit, &rows, &error)) {
		bus_call_return_error(call, error);
		return;
	}
	bus_call_return(call, g_variant_new("(@aa{sv})", rows));
}

static const BusMethod notifications_methods[] = {
	{ "Claim", "u", "max", "a(ssssxsa{sv})x", "items,lease",
	  scheduler_defer_change, BUS_ROLE_GATEWAY, errors_claim,
	  "Leases up to max notifications due now, oldest first and one at a "
	  "time per booking: id, idempotency key, kind, language, due, text, "
	  "details (booking, entry, client-ref, ...); lease is when they are "
	  "handed out again unless acknowledged." },
	{ "Ack", "as", "ids", "", "", scheduler_defer_change,
	  BUS_ROLE_GATEWAY, errors_claim,
	  "Acknowledges claimed notifications as sent; all or none, again "
	  "is no change." },
	{ "List", "u", "limit", "aa{sv}", "items", list_outbox,
	  BUS_ROLE_ADMIN, errors_claim,
	  "Administrators: notifications not acknowledged yet, pending or "
	  "claimed, without claiming them." },
	{ NULL }
};

const BusInterface notifications_interface = {
	"org.slotd.Notifications1", notifications_methods, NULL
};
