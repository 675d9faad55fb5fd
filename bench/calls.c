/* `slotd-bench calls`: a given number of one kind of call, one at a
 * time, for bench/callgrind.sh, which zeroes slotd's counters before
 * and dumps them after, so that nothing else is counted.
 *
 *   --kind list    Scheduler1.ListServices
 *   --kind find    Scheduler1.FindSlots of --service (--municipality,
 *                  --language, --days from now, --limit)
 *   --kind seats   prints --count free seats of --service, a slot id a
 *                  line (a seat a line), for --kind book; not counted
 *   --kind book    Scheduler1.Book of the slot ids in --slots FILE from
 *                  line --first on (0: the first), one a call, by
 *                  pseudonymous clients
 *
 * It prints "calls N" and, for find, the slots of the last answer. */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
	char *address;
	char *kind;
	int count;
	char *service;
	char *municipality;
	char *language;
	int days;
	int limit;
	char *slots;
	int first;
} CallsOptions;

static DBusMessage *
find_call(const CallsOptions *o, int limit)
{
	DBusMessage *m = bench_new_call(SLOTD_NAME, SLOTD_PATH,
					SCHEDULER_IFACE, "FindSlots");
	DBusMessageIter iter, dict;
	const char *service = o->service;
	dbus_int64_t to = g_get_real_time() / G_USEC_PER_SEC +
			  (dbus_int64_t)o->days * 86400;

	dbus_message_iter_init_append(m, &iter);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &service);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
	if (o->municipality)
		bench_dict_string(&dict, "municipality", o->municipality);
	if (o->language)
		bench_dict_string(&dict, "language", o->language);
	bench_dict_uint32(&dict, "limit", (dbus_uint32_t)limit);
	bench_dict_int64(&dict, "to", to);
	dbus_message_iter_close_container(&iter, &dict);
	return m;
}

static gboolean
print_seats(DBusConnection *connection, const CallsOptions *o,
	    GError **error)
{
	g_autoptr(GPtrArray) seats = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(DBusMessage) call = find_call(o, 2000);
	g_autoptr(DBusMessage) reply = bench_call(connection, call, error);

	if (!reply)
		return FALSE;
	bench_found_seats(reply, seats);
	if (seats->len < (guint)o->count) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "%u free seats of %s, %d wanted", seats->len,
			    o->service, o->count);
		return FALSE;
	}
	for (int i = 0; i < o->count; i++)
		printf("%s\n", (char *)seats->pdata[i]);
	return TRUE;
}

static DBusMessage *
book_call(const CallsOptions *o, const char *slot, int serial)
{
	DBusMessage *m = bench_new_call(SLOTD_NAME, SLOTD_PATH,
					SCHEDULER_IFACE, "Book");
	/* Pseudonymous; a client of its own for every call. */
	g_autofree char *ref = g_strdup_printf("cg-%d-%06d", (int)getpid(),
					       serial);
	const char *client_ref = ref;
	DBusMessageIter iter, dict;

	dbus_message_iter_init_append(m, &iter);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &slot);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &client_ref);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
	if (o->language)
		bench_dict_string(&dict, "language", o->language);
	dbus_message_iter_close_container(&iter, &dict);
	return m;
}

static gboolean
make_calls(DBusConnection *connection, const CallsOptions *o,
	   GError **error)
{
	g_auto(GStrv) slots = NULL;
	guint found = 0;

	if (g_str_equal(o->kind, "book")) {
		g_autofree char *text = NULL;

		if (!o->slots) {
			g_set_error_literal(error, G_IO_ERROR,
					    G_IO_ERROR_FAILED,
					    "--slots FILE is needed");
			return FALSE;
		}
		if (!g_file_get_contents(o->slots, &text, NULL, error))
			return FALSE;
		slots = g_strsplit(g_strstrip(text), "\n", -1);
		if (g_strv_length(slots) < (guint)(o->first + o->count)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "%u slots in %s, %d asked from line %d",
				    g_strv_length(slots), o->slots, o->count,
				    o->first);
			return FALSE;
		}
	}
	for (int i = 0; i < o->count; i++) {
		g_autoptr(DBusMessage) call = NULL;
		g_autoptr(DBusMessage) reply = NULL;

		if (g_str_equal(o->kind, "list"))
			call = bench_new_call(SLOTD_NAME, SLOTD_PATH,
					      SCHEDULER_IFACE, "ListServices");
		else if (g_str_equal(o->kind, "find"))
			call = find_call(o, o->limit);
		else
			call = book_call(o, slots[o->first + i], i);
		reply = bench_call(connection, call, error);
		if (!reply)
			return FALSE;
		if (g_str_equal(o->kind, "find"))
			found = bench_found_seats(reply, NULL);
	}
	printf("calls %d\n", o->count);
	if (g_str_equal(o->kind, "find"))
		printf("slots %u\n", found);
	return TRUE;
}

int
cmd_calls(int argc, char **argv)
{
	CallsOptions o = { NULL, NULL, 1, NULL, NULL, NULL, 14, 200, NULL,
			   0 };
	GOptionEntry entries[] = {
		{ "address", 0, 0, G_OPTION_ARG_STRING, &o.address,
		  "Bus address", "ADDRESS" },
		{ "kind", 0, 0, G_OPTION_ARG_STRING, &o.kind,
		  "list, find, seats or book", "KIND" },
		{ "count", 0, 0, G_OPTION_ARG_INT, &o.count, "Calls", "N" },
		{ "service", 0, 0, G_OPTION_ARG_STRING, &o.service,
		  "Service searched (find, seats)", "ID" },
		{ "municipality", 0, 0, G_OPTION_ARG_STRING, &o.municipality,
		  "Client's home (find, seats)", "CODE" },
		{ "language", 0, 0, G_OPTION_ARG_STRING, &o.language,
		  "Service language (find, seats, book)", "LANG" },
		{ "days", 0, 0, G_OPTION_ARG_INT, &o.days,
		  "Days searched from now (find, seats)", "N" },
		{ "limit", 0, 0, G_OPTION_ARG_INT, &o.limit,
		  "FindSlots limit (find)", "N" },
		{ "slots", 0, 0, G_OPTION_ARG_FILENAME, &o.slots,
		  "Slot ids to book, a line each (book)", "FILE" },
		{ "first", 0, 0, G_OPTION_ARG_INT, &o.first,
		  "The line of FILE to begin at (book)", "N" },
		{ NULL }
	};
	g_autoptr(GOptionContext) context =
		g_option_context_new("- a number of one kind of call");
	g_autoptr(GError) error = NULL;
	DBusConnection *connection = NULL;
	const char *const kinds[] = { "list", "find", "seats", "book", NULL };
	gboolean ok;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) ||
	    !o.address || !o.kind || o.count < 0 || o.first < 0 ||
	    !g_strv_contains(kinds, o.kind) ||
	    ((g_str_equal(o.kind, "find") || g_str_equal(o.kind, "seats")) &&
	     !o.service)) {
		fprintf(stderr, "slotd-bench calls: %s\n",
			error ? error->message
			      : "--address, --kind (list, find, seats, book) "
				"and for find and seats --service are needed");
		return 2;
	}
	ok = (connection = bench_connect(o.address, &error)) &&
	     (g_str_equal(o.kind, "seats") ? print_seats(connection, &o, &error)
					   : make_calls(connection, &o,
							&error));
	if (!ok)
		fprintf(stderr, "slotd-bench calls: %s\n", error->message);
	bench_disconnect(connection);
	g_free(o.address);
	g_free(o.kind);
	g_free(o.service);
	g_free(o.municipality);
	g_free(o.language);
	g_free(o.slots);
	return ok ? 0 : 1;
}
