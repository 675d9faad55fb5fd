/* Checks a plugin's ELF headers before it is mapped: slotd runs with
 * MemoryDenyWriteExecute=yes, under which a module with text
 * relocations, an executable stack or a writable code segment cannot be
 * loaded safely (the dynamic loader would need memory that is writable
 * and executable at once). Such plugins are refused with the reason
 * instead of failing obscurely inside dlopen(). */
#pragma once

#include <glib.h>

#define ELF_CHECK_ERROR (elf_check_error_quark())
GQuark elf_check_error_quark(void);

typedef enum {
	ELF_CHECK_ERROR_FAILED,
	ELF_CHECK_ERROR_TEXT_RELOCATIONS, /* DT_TEXTREL or DF_TEXTREL */
	ELF_CHECK_ERROR_EXECUTABLE_STACK, /* PT_GNU_STACK PF_X, or none */
	ELF_CHECK_ERROR_WRITABLE_CODE,	  /* a PT_LOAD with PF_W and PF_X */
} ElfCheckErrorCode;

/* FALSE, with the reason and how to rebuild, when the shared object open
 * as `fd` has one of the hazards above. It reads with pread(), so the
 * descriptor's offset stays; the plugin loader then maps that same open
 * file, never the path again. A file that is not a native ELF object of
 * this machine passes: the dynamic loader refuses it with its own
 * message, and this check only judges what it can read. */
gboolean elf_check_plugin_fd(int fd, GError **error);
/* elf_check_plugin_fd() on the file at `path` (tests and tools; a file
 * that cannot be opened passes). The loader never checks by path. */
gboolean elf_check_plugin(const char *path, GError **error);
