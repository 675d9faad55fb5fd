/* libFuzzer: the configuration parser on one fuzzed entry-point file.
 * Every input is either a region or a GError naming the problem; never
 * a crash, a leak or a hang. The harness keeps the parser inside its
 * own directory: inputs naming absolute paths or ".." are skipped (an
 * include of /dev/zero is the administrator's to avoid). */
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static char *dir;
static char *entry;

/* The run leaves nothing in /tmp (libFuzzer ends with exit()). */
static void
remove_dir(void)
{
	g_unlink(entry);
	g_rmdir(dir);
}

static gboolean
stays_inside(const guint8 *data, size_t size)
{
	return !memmem(data, size, "/", 1) && !memmem(data, size, "..", 2);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	ConfigOptions options = { NULL, "state", "plugins" };
	g_autoptr(GError) error = NULL;
	Region *region;

	if (!dir) {
		dir = g_dir_make_tmp("slotd-fuzz-config-XXXXXX", NULL);
		entry = g_build_filename(dir, "slotd.conf", NULL);
		atexit(remove_dir);
	}
	if (!stays_inside(data, size))
		return 0;
	if (!g_file_set_contents(entry, (const char *)data, (gssize)size,
				 NULL))
		return 0;
	options.config_file = entry;
	region = config_load(&options, &error);
	if ((region == NULL) == (error == NULL))
		__builtin_trap(); /* exactly one of the two */
	if (region)
		region_unref(region);
	return 0;
}
