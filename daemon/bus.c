/* libdbus on the GLib main loop: the connection, its watches, timeouts
 * and dispatching as GSources, the well-known name, and the callers'
 * credentials for the role checks. */
#include "bus-private.h"
#include "loop-watch.h"

G_DEFINE_QUARK(bus-error, bus_error)

/* Each cached caller costs a match rule on the bus, and the bus limits
 * those per connection; past this, callers are simply asked each time. */
#define BUS_CACHE_MAX 256

/* ---- watches: one fd source each ------------------------------------- */

typedef struct {
	GSource source;
	Bus *bus;
	DBusWatch *watch;
	gpointer tag;
} WatchSource;

static GIOCondition
watch_condition(DBusWatch *watch)
{
	unsigned int flags = dbus_watch_get_flags(watch);
	GIOCondition condition = G_IO_HUP | G_IO_ERR;

	/* A disabled watch must not be polled at all, or a hung-up socket
	 * would wake the loop forever. */
	if (!dbus_watch_get_enabled(watch))
		return 0;
	if (flags & DBUS_WATCH_READABLE)
		condition |= G_IO_IN;
	if (flags & DBUS_WATCH_WRITABLE)
		condition |= G_IO_OUT;
	return condition;
}

static gboolean
watch_dispatch(GSource *source, GSourceFunc callback, gpointer user_data)
{
	LOOP_WORK("bus io", NULL);
	WatchSource *ws = (WatchSource *)source;
	GIOCondition revents = g_source_query_unix_fd(source, ws->tag);
	DBusConnection *connection;
	unsigned int flags = 0;

	if (revents & G_IO_IN)
		flags |= DBUS_WATCH_READABLE;
	if (revents & G_IO_OUT)
		flags |= DBUS_WATCH_WRITABLE;
	if (revents & G_IO_HUP)
		flags |= DBUS_WATCH_HANGUP;
	if (revents & G_IO_ERR)
		flags |= DBUS_WATCH_ERROR;

	/* Handling may drop the transport's last reference to the
	 * connection (a hang-up), and may remove this very watch. */
	connection = dbus_connection_ref(ws->bus->connection);
	dbus_watch_handle(ws->watch, flags);
	dbus_connection_unref(connection);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs watch_funcs = {
	.dispatch = watch_dispatch,
};

static dbus_bool_t
watch_add(DBusWatch *watch, void *data)
{
	Bus *bus = data;
	GSource *source = g_source_new(&watch_funcs, sizeof(WatchSource));
	WatchSource *ws = (WatchSource *)source;

	ws->bus = bus;
	ws->watch = watch;
	ws->tag = g_source_add_unix_fd(source, dbus_watch_get_unix_fd(watch),
				       watch_condition(watch));
	/* GLib takes a source's descriptors out of the poll set while it
	 * dispatches one that cannot recurse, and puts them back after,
	 * and each of the two wakes the loop through its eventfd: two
	 * writes and one more turn of the loop for every read. Handling a
	 * watch runs no main loop of its own, so nothing can recurse. */
	g_source_set_can_recurse(source, TRUE);
	g_source_set_name(source, "slotd bus watch");
	g_source_attach(source, bus->context);
	g_hash_table_insert(bus->watches, watch, source);
	return TRUE;
}

static void
watch_remove(DBusWatch *watch, void *data)
{
	Bus *bus = data;

	g_hash_table_remove(bus->watches, watch);
}

static void
watch_toggled(DBusWatch *watch, void *data)
{
	Bus *bus = data;
	WatchSource *ws = g_hash_table_lookup(bus->watches, watch);

	if (ws)
		g_source_modify_unix_fd(&ws->source, ws->tag,
					watch_condition(watch));
}

/* ---- timeouts: one timer source each --------------------------------- */

typedef struct {
	Bus *bus;
	DBusTimeout *timeout;
} TimeoutTicket;

static gboolean
timeout_fire(gpointer data)
{
	LOOP_WORK("bus timeout", NULL);
	TimeoutTicket *ticket = data;
	DBusConnection *connection = ticket->bus->connection;

	/* libdbus timeouts repeat until it removes or disables them. */
	dbus_connection_ref(connection);
	dbus_timeout_handle(ticket->timeout);
	dbus_connection_unref(connection);
	return G_SOURCE_CONTINUE;
}

static dbus_bool_t
timeout_add(DBusTimeout *timeout, void *data)
{
	Bus *bus = data;
	TimeoutTicket *ticket;
	GSource *source;

	if (!dbus_timeout_get_enabled(timeout))
		return TRUE;
	ticket = g_new0(TimeoutTicket, 1);
	ticket->bus = bus;
	ticket->timeout = timeout;
	source = g_timeout_source_new(dbus_timeout_get_interval(timeout));
	g_source_set_callback(source, timeout_fire, ticket, g_free);
	g_source_set_name(source, "slotd bus timeout");
	g_source_attach(source, bus->context);
	g_hash_table_insert(bus->timeouts, timeout, source);
	return TRUE;
}

static void
timeout_remove(DBusTimeout *timeout, void *data)
{
	Bus *bus = data;

	g_hash_table_remove(bus->timeouts, timeout);
}

static void
timeout_toggled(DBusTimeout *timeout, void *data)
{
	/* The interval may have changed too: start a fresh timer. */
	timeout_remove(timeout, data);
	timeout_add(timeout, data);
}

static void
source_discard(gpointer source)
{
	g_source_destroy(source);
	g_source_unref(source);
}

/* ---- dispatching: one message per main-loop iteration ---------------- */

typedef struct {
	GSource source;
	DBusConnection *connection;
} DispatchSource;

/* Ready while libdbus has a message queued: asked before and after each
 * poll, so a message read by a watch is dispatched on the next turn of
 * the loop without waking it (a ready time set would write to the
 * loop's eventfd for every message). */
static gboolean
dispatch_ready(GSource *source)
{
	DispatchSource *ds = (DispatchSource *)source;

	return dbus_connection_get_dispatch_status(ds->connection) ==
	       DBUS_DISPATCH_DATA_REMAINS;
}

static gboolean
dispatch_prepare(GSource *source, gint *timeout)
{
	*timeout = -1;
	return dispatch_ready(source);
}

static gboolean
dispatch_run(GSource *source, GSourceFunc callback, gpointer user_data)
{
	LOOP_WORK("bus dispatch", NULL);
	DispatchSource *ds = (DispatchSource *)source;
	DBusConnection *connection = dbus_connection_ref(ds->connection);

	/* One message at a time keeps other sources (timers, HTTP) fair
	 * when a client floods us: the next one on the next turn. */
	if (dbus_connection_get_dispatch_status(connection) ==
	    DBUS_DISPATCH_DATA_REMAINS)
		dbus_connection_dispatch(connection);
	dbus_connection_unref(connection);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs dispatch_funcs = {
	.prepare = dispatch_prepare,
	.check = dispatch_ready,
	.dispatch = dispatch_run,
};

static void
on_dispatch_status(DBusConnection *connection, DBusDispatchStatus status,
		   void *data)
{
	Bus *bus = data;

	/* The loop asks the source itself (dispatch_ready()); only a
	 * message queued by another thread needs to wake it. Dispatching
	 * from here would re-enter libdbus while it holds its own state. */
	if (status == DBUS_DISPATCH_DATA_REMAINS &&
	    !g_main_context_is_owner(bus->context))
		g_main_context_wakeup(bus->context);
}

static GSource *
dispatch_source_new(Bus *bus)
{
	GSource *source = g_source_new(&dispatch_funcs, sizeof(DispatchSource));

	((DispatchSource *)source)->connection = bus->connection;
	g_source_set_name(source, "slotd bus dispatch");
	return source;
}

/* ---- credentials ----------------------------------------------------- */

typedef struct {
	guint32 uid;
	guint n_gids;
	guint32 *gids;
} BusCredentials;

/* One GetConnectionCredentials in flight and the calls waiting on it. */
typedef struct {
	Bus *bus;
	char *sender;
	DBusPendingCall *pending;
	GPtrArray *calls;
	gboolean vanished; /* the name left while we asked */
} BusLookup;

static void
credentials_free(gpointer data)
{
	BusCredentials *creds = data;

	g_free(creds->gids);
	g_free(creds);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(BusCredentials, credentials_free)

static void
lookup_free(gpointer data)
{
	BusLookup *lookup = data;

	if (!dbus_pending_call_get_completed(lookup->pending))
		dbus_pending_call_cancel(lookup->pending);
	dbus_pending_call_unref(lookup->pending);
	for (guint i = 0; lookup->calls && i < lookup->calls->len; i++)
		bus_call_drop(lookup->calls->pdata[i]);
	g_clear_pointer(&lookup->calls, g_ptr_array_unref);
	g_free(lookup->sender);
	g_free(lookup);
}

/* Follows a unique name's NameOwnerChanged while we know about it. */
static void
watch_name(Bus *bus, const char *sender, gboolean watch)
{
	g_autofree char *rule = g_strdup_printf(
		"type='signal',sender='" DBUS_SERVICE_DBUS "',"
		"path='" DBUS_PATH_DBUS "',interface='" DBUS_INTERFACE_DBUS "',"
		"member='NameOwnerChanged',arg0='%s'",
		sender);

	/* No DBusError: the rule goes out without blocking the loop. */
	if (watch)
		dbus_bus_add_match(bus->connection, rule, NULL);
	else
		dbus_bus_remove_match(bus->connection, rule, NULL);
}

static void
credentials_read_entry(DBusMessageIter *entry, BusCredentials *creds,
		       gboolean *ret_have_uid)
{
	DBusMessageIter value;
	const char *key;
	int type;

	dbus_message_iter_get_basic(entry, &key);
	if (!dbus_message_iter_next(entry))
		return;
	dbus_message_iter_recurse(entry, &value);
	type = dbus_message_iter_get_arg_type(&value);
	if (g_str_equal(key, "UnixUserID") && type == DBUS_TYPE_UINT32) {
		dbus_message_iter_get_basic(&value, &creds->uid);
		*ret_have_uid = TRUE;
	} else if (g_str_equal(key, "UnixGroupIDs") &&
		   type == DBUS_TYPE_ARRAY &&
		   dbus_message_iter_get_element_type(&value) ==
			   DBUS_TYPE_UINT32) {
		DBusMessageIter array;
		const guint32 *gids;
		int n;

		dbus_message_iter_recurse(&value, &array);
		dbus_message_iter_get_fixed_array(&array, &gids, &n);
		g_free(creds->gids);
		creds->gids = g_memdup2(gids, (gsize)n * sizeof(guint32));
		creds->n_gids = (guint)n;
	}
}

/* The a{sv} of GetConnectionCredentials; NULL for an error reply or
 * one without a uid. */
static BusCredentials *
credentials_parse(DBusMessage *reply)
{
	g_autoptr(BusCredentials) creds = g_new0(BusCredentials, 1);
	DBusMessageIter iter, dict;
	gboolean have_uid = FALSE;

	if (dbus_message_get_type(reply) != DBUS_MESSAGE_TYPE_METHOD_RETURN ||
	    !dbus_message_has_signature(reply, "a{sv}") ||
	    !dbus_message_iter_init(reply, &iter))
		return NULL;
	dbus_message_iter_recurse(&iter, &dict);
	while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
		DBusMessageIter entry;

		dbus_message_iter_recurse(&dict, &entry);
		credentials_read_entry(&entry, creds, &have_uid);
		dbus_message_iter_next(&dict);
	}
	return have_uid ? g_steal_pointer(&creds) : NULL;
}

static char *
denial_message(Bus *bus, const BusCall *call, BusRole missing)
{
	static const char *const role_words[BUS_N_ROLES] = {
		"read", "book", "admin", "planner", "gateway"
	};
	gint bit = g_bit_nth_lsf((gulong)missing, -1);
	const char *word = bit >= 0 && bit < BUS_N_ROLES ? role_words[bit]
							 : "unknown";
	const char *group = bit >= 0 && bit < BUS_N_ROLES
				    ? bus->role_groups[bit] : NULL;

	if (group)
		return g_strdup_printf("%s.%s needs the %s role (group %s)",
				       call->interface->name,
				       call->method->name, word, group);
	return g_strdup_printf("%s.%s needs the %s role",
			       call->interface->name, call->method->name,
			       word);
}

static void
authorize_with(Bus *bus, BusCall *call, const BusCredentials *creds)
{
	BusRole needed = call->method->role;
	BusRole granted = BUS_ROLE_NONE;
	g_autofree char *message = NULL;

	call->uid = creds->uid;
	if (bus->role_func)
		granted = bus->role_func(creds->uid, creds->gids,
					 creds->n_gids, bus->role_data);
	call->roles = granted;
	if ((granted & needed) == needed) {
		bus_call_run(call);
		return;
	}
	message = denial_message(bus, call, needed & ~granted);
	bus_call_refuse(call, BUS_NAME_ACCESS_DENIED, message);
}

static void
on_credentials(DBusPendingCall *pending, void *data)
{
	BusLookup *lookup = data;
	Bus *bus = lookup->bus;
	g_autoptr(DBusMessage) reply = dbus_pending_call_steal_reply(pending);
	g_autoptr(GPtrArray) calls = g_steal_pointer(&lookup->calls);
	g_autoptr(BusCredentials) uncached = NULL;
	BusCredentials *creds = NULL;

	/* A name that left while we asked gets no cache entry, even if
	 * the bus answered before it noticed. */
	if (reply && !lookup->vanished)
		creds = credentials_parse(reply);
	g_hash_table_steal(bus->lookups, lookup->sender);
	if (creds && g_hash_table_size(bus->credentials) < BUS_CACHE_MAX) {
		g_hash_table_insert(bus->credentials, g_strdup(lookup->sender),
				    creds);
	} else {
		watch_name(bus, lookup->sender, FALSE);
		uncached = creds;
	}
	lookup_free(lookup);

	for (guint i = 0; i < calls->len; i++) {
		BusCall *call = calls->pdata[i];

		if (creds)
			authorize_with(bus, call, creds);
		else
			bus_call_refuse(call, BUS_NAME_ACCESS_DENIED,
					"The caller's credentials could not be "
					"verified; it may have disconnected");
	}
}

static BusLookup *
lookup_start(Bus *bus, const char *sender)
{
	g_autoptr(DBusMessage) request = dbus_message_new_method_call(
		DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
		"GetConnectionCredentials");
	DBusPendingCall *pending = NULL;
	BusLookup *lookup;

	/* Watch first: a name that leaves after this is seen leaving, one
	 * that left before makes the lookup fail. */
	watch_name(bus, sender, TRUE);
	if (!dbus_message_append_args(request, DBUS_TYPE_STRING, &sender,
				      DBUS_TYPE_INVALID) ||
	    !dbus_connection_send_with_reply(bus->connection, request,
					     &pending,
					     DBUS_TIMEOUT_USE_DEFAULT) ||
	    !pending) {
		watch_name(bus, sender, FALSE);
		return NULL;
	}
	lookup = g_new0(BusLookup, 1);
	lookup->bus = bus;
	lookup->sender = g_strdup(sender);
	lookup->pending = pending;
	lookup->calls = g_ptr_array_new();
	g_hash_table_insert(bus->lookups, lookup->sender, lookup);
	if (!dbus_pending_call_set_notify(pending, on_credentials, lookup,
					  NULL))
		g_error("out of memory");
	return lookup;
}

void
bus_authorize(BusCall *call)
{
	Bus *bus = call->bus;
	const char *sender = dbus_message_get_sender(call->message);
	BusCredentials *creds;
	BusLookup *lookup;

	if (!sender) {
		bus_call_refuse(call, BUS_NAME_ACCESS_DENIED,
				"The caller has no bus name to check");
		return;
	}
	creds = g_hash_table_lookup(bus->credentials, sender);
	if (creds) {
		authorize_with(bus, call, creds);
		return;
	}
	lookup = g_hash_table_lookup(bus->lookups, sender);
	if (!lookup)
		lookup = lookup_start(bus, sender);
	if (!lookup) {
		bus_call_refuse(call, BUS_NAME_ACCESS_DENIED,
				"The caller's credentials could not be "
				"requested from the bus");
		return;
	}
	g_ptr_array_add(lookup->calls, call);
}

guint32
bus_cached_uid(Bus *bus, const char *sender)
{
	BusCredentials *creds = NULL;

	if (sender)
		creds = g_hash_table_lookup(bus->credentials, sender);
	return creds ? creds->uid : BUS_UID_UNKNOWN;
}

guint
bus_cached_callers(Bus *bus)
{
	g_return_val_if_fail(bus != NULL, 0);
	return g_hash_table_size(bus->credentials);
}

static void
credentials_forget(Bus *bus, const char *name)
{
	BusLookup *lookup = g_hash_table_lookup(bus->lookups, name);

	if (lookup)
		lookup->vanished = TRUE;
	if (g_hash_table_remove(bus->credentials, name))
		watch_name(bus, name, FALSE);
}

/* ---- messages addressed to the connection ---------------------------- */

static void
on_name_owner_changed(Bus *bus, DBusMessage *message)
{
	const char *name, *old_owner, *new_owner;

	/* Anyone may send a signal with this name; only the bus counts. */
	if (!dbus_message_has_sender(message, DBUS_SERVICE_DBUS) ||
	    !dbus_message_get_args(message, NULL, DBUS_TYPE_STRING, &name,
				   DBUS_TYPE_STRING, &old_owner,
				   DBUS_TYPE_STRING, &new_owner,
				   DBUS_TYPE_INVALID))
		return;
	if (name[0] == ':' && new_owner[0] == '\0')
		credentials_forget(bus, name);
}

static void
on_disconnected(Bus *bus)
{
	if (bus->disconnected)
		return;
	bus->disconnected = TRUE;
	/* Whoever asked to hear about it says what happens next. */
	if (bus->disconnect_func)
		((void (*)(gpointer))bus->disconnect_func)(
			bus->disconnect_data);
	else
		g_warning("Lost the connection to the D-Bus bus");
}

/* ---- replies the bus would not deliver ---------------------------------- */

/* The bus refuses a message with a file descriptor (a Planner1 ...Fd
 * twin's answer) to a connection that did not agree to take them, and
 * says so to us, not to the caller: the caller waits for its timeout.
 * On the system bus slotd cannot answer it instead (the policy lets
 * through only replies a caller asked for, and the bus counts this one
 * as given), so the log says what happened and what the caller should
 * call, once a minute at most. TRUE when `message` was such an
 * error. */
static gboolean
on_reply_refused(DBusMessage *message)
{
	const char *text = NULL;
	static gint64 last_said;
	gint64 now = g_get_monotonic_time();

	if (!dbus_message_has_sender(message, DBUS_SERVICE_DBUS) ||
	    !dbus_message_is_error(message, DBUS_ERROR_NOT_SUPPORTED))
		return FALSE;
	if (!dbus_message_get_args(message, NULL, DBUS_TYPE_STRING, &text,
				   DBUS_TYPE_INVALID))
		text = "";
	/* Once a minute at most: a caller retrying is no news. */
	if (last_said != 0 && now - last_said < 60 * G_USEC_PER_SEC) {
		g_debug("the bus did not deliver a reply (serial %u): %s",
			dbus_message_get_reply_serial(message), text);
		return TRUE;
	}
	last_said = now;
	g_message("the bus did not deliver a reply (serial %u): %s; a "
		  "caller whose connection takes no file descriptors gets "
		  "no answer from a ...Fd method and should call the plain "
		  "one (CapacityReport for CapacityReportFd)",
		  dbus_message_get_reply_serial(message), text);
	return TRUE;
}

static DBusHandlerResult
bus_filter(DBusConnection *connection, DBusMessage *message, void *data)
{
	Bus *bus = data;

	if (dbus_message_is_signal(message, DBUS_INTERFACE_LOCAL,
				   "Disconnected") &&
	    dbus_message_has_path(message, DBUS_PATH_LOCAL)) {
		on_disconnected(bus);
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	}
	if (dbus_message_is_signal(message, DBUS_INTERFACE_DBUS,
				   "NameOwnerChanged")) {
		on_name_owner_changed(bus, message);
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	}
	if (dbus_message_get_type(message) == DBUS_MESSAGE_TYPE_METHOD_CALL) {
		bus_object_dispatch(bus, message);
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	if (dbus_message_get_type(message) == DBUS_MESSAGE_TYPE_ERROR &&
	    on_reply_refused(message))
		return DBUS_HANDLER_RESULT_HANDLED;
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

/* ---- connecting ------------------------------------------------------ */

static DBusConnection *
bus_open(BusType type, const char *address, GError **error)
{
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	DBusConnection *connection = NULL;

	if (type == BUS_TYPE_ADDRESS && address) {
		connection = dbus_connection_open_private(address, &err);
		if (connection && !dbus_bus_register(connection, &err)) {
			dbus_connection_close(connection);
			dbus_connection_unref(connection);
			connection = NULL;
		}
	} else if (type != BUS_TYPE_ADDRESS) {
		connection = dbus_bus_get_private(type == BUS_TYPE_SYSTEM ?
							  DBUS_BUS_SYSTEM :
							  DBUS_BUS_SESSION,
						  &err);
	}
	if (!connection) {
		g_set_error(error, BUS_ERROR, BUS_ERROR_FAILED,
			    "Cannot connect to the %s bus: %s",
			    type == BUS_TYPE_SYSTEM	 ? "system" :
			    type == BUS_TYPE_SESSION ? "session" :
							 "given",
			    err.message ? err.message : "no address");
		return NULL;
	}
	/* We decide what losing the bus means, not libdbus (exit()). */
	dbus_connection_set_exit_on_disconnect(connection, FALSE);
	return connection;
}

static void
bus_attach(Bus *bus)
{
	DBusConnection *connection = bus->connection;

	bus->dispatch_source = dispatch_source_new(bus);
	g_source_attach(bus->dispatch_source, bus->context);
	dbus_connection_set_dispatch_status_function(
		connection, on_dispatch_status, bus, NULL);
	if (!dbus_connection_set_watch_functions(connection, watch_add,
						 watch_remove, watch_toggled,
						 bus, NULL) ||
	    !dbus_connection_set_timeout_functions(
		    connection, timeout_add, timeout_remove, timeout_toggled,
		    bus, NULL) ||
	    !dbus_connection_add_filter(connection, bus_filter, bus, NULL))
		g_error("out of memory");
	/* Messages that came in while we registered are already queued:
	 * dispatch_ready() sees them on the loop's first turn. */
}

static gboolean
bus_request_name(Bus *bus, const char *name, GError **error)
{
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	int result;

	if (!dbus_validate_bus_name(name, NULL) || name[0] == ':') {
		g_set_error(error, BUS_ERROR, BUS_ERROR_INVALID_TABLE,
			    "“%s” is not a well-known bus name", name);
		return FALSE;
	}
	/* Blocking is fine here: it happens once, before the loop runs. */
	result = dbus_bus_request_name(bus->connection, name,
				       DBUS_NAME_FLAG_DO_NOT_QUEUE, &err);
	if (result == -1) {
		g_set_error(error, BUS_ERROR, BUS_ERROR_FAILED,
			    "Cannot request the name %s: %s", name,
			    err.message);
		return FALSE;
	}
	if (result != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER &&
	    result != DBUS_REQUEST_NAME_REPLY_ALREADY_OWNER) {
		g_set_error(error, BUS_ERROR, BUS_ERROR_NAME_TAKEN,
			    "Another process owns %s; is slotd already "
			    "running?",
			    name);
		return FALSE;
	}
	bus->name = g_strdup(name);
	return TRUE;
}

Bus *
bus_new(BusType type, const char *address, const char *name, GError **error)
{
	DBusConnection *connection = bus_open(type, address, error);
	Bus *bus;

	if (!connection)
		return NULL;
	bus = g_new0(Bus, 1);
	bus->connection = connection;
	bus->context = g_main_context_ref_thread_default();
	bus->watches = g_hash_table_new_full(NULL, NULL, NULL, source_discard);
	bus->timeouts = g_hash_table_new_full(NULL, NULL, NULL,
					      source_discard);
	bus->objects = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					     bus_object_free);
	bus->calls = g_hash_table_new(NULL, NULL);
	bus->credentials = g_hash_table_new_full(g_str_hash, g_str_equal,
						 g_free, credentials_free);
	bus->lookups = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					     lookup_free);
	bus->large_replies = g_ptr_array_new();
	bus_attach(bus);
	if (name && !bus_request_name(bus, name, error)) {
		bus_free(bus);
		return NULL;
	}
	return bus;
}

/* ---- closing --------------------------------------------------------- */

static void
bus_release_name(Bus *bus)
{
	g_autoptr(DBusMessage) request = NULL;

	if (!bus->name || !dbus_connection_get_is_connected(bus->connection))
		return;
	request = dbus_message_new_method_call(DBUS_SERVICE_DBUS,
					       DBUS_PATH_DBUS,
					       DBUS_INTERFACE_DBUS,
					       "ReleaseName");
	/* Nobody waits for the answer. Closing would release the name
	 * too, but this lets a successor take it while we still flush. */
	dbus_message_set_no_reply(request, TRUE);
	if (dbus_message_append_args(request, DBUS_TYPE_STRING, &bus->name,
				     DBUS_TYPE_INVALID))
		dbus_connection_send(bus->connection, request, NULL);
}

static void
bus_detach(Bus *bus)
{
	DBusConnection *connection = bus->connection;

	dbus_connection_remove_filter(connection, bus_filter, bus);
	dbus_connection_set_dispatch_status_function(connection, NULL, NULL,
						     NULL);
	dbus_connection_set_watch_functions(connection, NULL, NULL, NULL,
					    NULL, NULL);
	dbus_connection_set_timeout_functions(connection, NULL, NULL, NULL,
					      NULL, NULL);
	g_hash_table_remove_all(bus->watches);
	g_hash_table_remove_all(bus->timeouts);
	g_clear_pointer(&bus->dispatch_source, source_discard);
}

void
bus_free(Bus *bus)
{
	GHashTableIter iter;
	gpointer call;

	if (!bus)
		return;
	bus_release_name(bus);
	bus_reply_finish_all(bus);
	g_ptr_array_unref(bus->large_replies);
	bus_flush(bus);
	/* Calls still waiting for credentials are dropped; calls a handler
	 * holds stay valid and answer into the closed connection. */
	g_hash_table_destroy(bus->lookups);
	g_hash_table_iter_init(&iter, bus->calls);
	while (g_hash_table_iter_next(&iter, &call, NULL))
		((BusCall *)call)->bus = NULL;
	bus_detach(bus);
	dbus_connection_close(bus->connection);
	dbus_connection_unref(bus->connection);

	g_hash_table_destroy(bus->calls);
	g_hash_table_destroy(bus->credentials);
	g_hash_table_destroy(bus->objects);
	g_hash_table_destroy(bus->watches);
	g_hash_table_destroy(bus->timeouts);
	if (bus->role_destroy)
		bus->role_destroy(bus->role_data);
	for (guint i = 0; i < G_N_ELEMENTS(bus->role_groups); i++)
		g_free(bus->role_groups[i]);
	g_main_context_unref(bus->context);
	g_free(bus->name);
	g_free(bus);
}

void
bus_flush(Bus *bus)
{
	g_return_if_fail(bus != NULL);
	if (dbus_connection_get_is_connected(bus->connection))
		dbus_connection_flush(bus->connection);
}

/* ---- stopping -------------------------------------------------------- */

/* Long enough for a loaded bus, short enough for systemd's stop. */
#define BUS_RELEASE_TIMEOUT_MS 2000

/* The bus answers a connection's messages in order: once the reply to
 * ReleaseName is read, everything routed to us before it is queued. */
static void
bus_release_name_sync(Bus *bus)
{
	g_autoptr(DBusMessage) request = NULL;
	g_autoptr(DBusMessage) reply = NULL;
	g_auto(DBusError) err = DBUS_ERROR_INIT;

	request = dbus_message_new_method_call(DBUS_SERVICE_DBUS,
					       DBUS_PATH_DBUS,
					       DBUS_INTERFACE_DBUS,
					       "ReleaseName");
	if (!request ||
	    !dbus_message_append_args(request, DBUS_TYPE_STRING, &bus->name,
				      DBUS_TYPE_INVALID))
		g_error("out of memory");
	reply = dbus_connection_send_with_reply_and_block(
		bus->connection, request, BUS_RELEASE_TIMEOUT_MS, &err);
	if (!reply)
		g_warning("Could not give up the name %s: %s", bus->name,
			  err.message);
	g_clear_pointer(&bus->name, g_free);
}

guint
bus_drain(Bus *bus)
{
	DBusConnection *connection;

	g_return_val_if_fail(bus != NULL, 0);
	connection = bus->connection;
	if (!dbus_connection_get_is_connected(connection))
		return 0; /* nobody is left to hear an answer */
	if (bus->name)
		bus_release_name_sync(bus);
	dbus_connection_ref(connection);
	while (dbus_connection_get_dispatch_status(connection) ==
	       DBUS_DISPATCH_DATA_REMAINS)
		dbus_connection_dispatch(connection);
	dbus_connection_unref(connection);
	return g_hash_table_size(bus->calls);
}

/* ---- settings -------------------------------------------------------- */

void
bus_set_role_func(Bus *bus, BusRoleFunc func, gpointer user_data,
		  GDestroyNotify destroy)
{
	g_return_if_fail(bus != NULL);
	if (bus->role_destroy)
		bus->role_destroy(bus->role_data);
	bus->role_func = func;
	bus->role_data = user_data;
	bus->role_destroy = destroy;
}

void
bus_set_role_group(Bus *bus, BusRole role, const char *group)
{
	gint bit = g_bit_nth_lsf((gulong)role, -1);

	g_return_if_fail(bus != NULL);
	g_return_if_fail(bit >= 0 && bit < BUS_N_ROLES &&
			 role == (BusRole)(1u << bit));
	g_free(bus->role_groups[bit]);
	bus->role_groups[bit] = g_strdup(group);
}

void
bus_set_disconnect_func(Bus *bus, GCallback func, gpointer user_data)
{
	g_return_if_fail(bus != NULL);
	bus->disconnect_func = func;
	bus->disconnect_data = user_data;
}

guint
bus_pending_calls(Bus *bus)
{
	g_return_val_if_fail(bus != NULL, 0);
	return g_hash_table_size(bus->calls);
}
