/* Reading just enough of a plugin's ELF file (the file header, the
 * program headers and the dynamic section) to tell whether it could be
 * mapped without memory that is writable and executable at once. */
#include "elf-check.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK(elf-check-error, elf_check_error)

/* Only objects of this machine's class and byte order are judged. */
#if UINTPTR_MAX > 0xffffffffu
#define NATIVE_CLASS ELFCLASS64
typedef Elf64_Ehdr ElfHeader;
typedef Elf64_Phdr ElfProgramHeader;
typedef Elf64_Dyn ElfDynamic;
#else
#define NATIVE_CLASS ELFCLASS32
typedef Elf32_Ehdr ElfHeader;
typedef Elf32_Phdr ElfProgramHeader;
typedef Elf32_Dyn ElfDynamic;
#endif

#if G_BYTE_ORDER == G_LITTLE_ENDIAN
#define NATIVE_DATA ELFDATA2LSB
#else
#define NATIVE_DATA ELFDATA2MSB
#endif

/* Far beyond any real plugin; bounds what a hostile header makes us
 * read. */
#define MAX_PROGRAM_HEADERS 256
#define MAX_DYNAMIC_BYTES (1024 * 1024)

typedef struct {
	int fd;			/* not owned */
	guint64 size;
	ElfHeader header;
	ElfProgramHeader *phdrs;
	guint n_phdrs;
} ElfFile;

static void
elf_file_clear(ElfFile *file)
{
	g_free(file->phdrs);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ElfFile, elf_file_clear)

/* Reads `length` bytes at `offset`, all inside the file, or fails. */
static gboolean
read_at(const ElfFile *file, guint64 offset, void *buffer, gsize length)
{
	gsize done = 0;

	if (offset > file->size || length > file->size - offset)
		return FALSE;
	while (done < length) {
		ssize_t n = pread(file->fd, (char *)buffer + done,
				  length - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		done += (gsize)n;
	}
	return TRUE;
}

/* FALSE when the file is not something this check can judge. */
static gboolean
read_headers(ElfFile *file)
{
	const ElfHeader *h = &file->header;
	struct stat st;

	if (fstat(file->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return FALSE;
	file->size = (guint64)st.st_size;
	if (!read_at(file, 0, &file->header, sizeof(file->header)) ||
	    memcmp(h->e_ident, ELFMAG, SELFMAG) != 0 ||
	    h->e_ident[EI_CLASS] != NATIVE_CLASS ||
	    h->e_ident[EI_DATA] != NATIVE_DATA ||
	    h->e_phentsize != sizeof(ElfProgramHeader) ||
	    h->e_phnum > MAX_PROGRAM_HEADERS)
		return FALSE;
	file->n_phdrs = h->e_phnum;
	file->phdrs = g_new0(ElfProgramHeader, MAX(file->n_phdrs, 1));
	return read_at(file, h->e_phoff, file->phdrs,
		       file->n_phdrs * sizeof(ElfProgramHeader));
}

static gboolean
check_segments(const ElfFile *file, GError **error)
{
	const ElfProgramHeader *stack = NULL;

	for (guint i = 0; i < file->n_phdrs; i++) {
		const ElfProgramHeader *p = &file->phdrs[i];

		if (p->p_type == PT_GNU_STACK)
			stack = p;
		if (p->p_type == PT_LOAD && (p->p_flags & PF_W) &&
		    (p->p_flags & PF_X)) {
			g_set_error(error, ELF_CHECK_ERROR,
				    ELF_CHECK_ERROR_WRITABLE_CODE,
				    "it has a segment that is writable and "
				    "executable, which MemoryDenyWriteExecute "
				    "forbids; relink it with the toolchain's "
				    "default linker script (no -N or "
				    "--omagic)");
			return FALSE;
		}
	}
	/* Without PT_GNU_STACK the loader assumes an executable stack. */
	if (stack == NULL || (stack->p_flags & PF_X)) {
		g_set_error(error, ELF_CHECK_ERROR,
			    ELF_CHECK_ERROR_EXECUTABLE_STACK,
			    "it asks for an executable stack (%s), which "
			    "MemoryDenyWriteExecute forbids; link it with "
			    "-Wl,-z,noexecstack",
			    stack ? "PT_GNU_STACK with PF_X"
				  : "no PT_GNU_STACK header");
		return FALSE;
	}
	return TRUE;
}

static gboolean
has_text_relocations(const ElfDynamic *dynamic, gsize n)
{
	for (gsize i = 0; i < n && dynamic[i].d_tag != DT_NULL; i++) {
		if (dynamic[i].d_tag == DT_TEXTREL)
			return TRUE;
		if (dynamic[i].d_tag == DT_FLAGS &&
		    (dynamic[i].d_un.d_val & DF_TEXTREL))
			return TRUE;
	}
	return FALSE;
}

static gboolean
check_dynamic(const ElfFile *file, GError **error)
{
	for (guint i = 0; i < file->n_phdrs; i++) {
		const ElfProgramHeader *p = &file->phdrs[i];
		g_autofree ElfDynamic *dynamic = NULL;
		gsize n;

		if (p->p_type != PT_DYNAMIC)
			continue;
		n = MIN(p->p_filesz, MAX_DYNAMIC_BYTES) / sizeof(ElfDynamic);
		dynamic = g_new0(ElfDynamic, MAX(n, 1));
		/* An unreadable dynamic section is the loader's to refuse. */
		if (!read_at(file, p->p_offset, dynamic,
			     n * sizeof(ElfDynamic)))
			return TRUE;
		if (has_text_relocations(dynamic, n)) {
			g_set_error(error, ELF_CHECK_ERROR,
				    ELF_CHECK_ERROR_TEXT_RELOCATIONS,
				    "it has text relocations (DT_TEXTREL), "
				    "which MemoryDenyWriteExecute forbids; "
				    "compile every object of it with -fPIC");
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
elf_check_plugin_fd(int fd, GError **error)
{
	g_auto(ElfFile) file = { .fd = fd };

	g_return_val_if_fail(fd >= 0, FALSE);

	if (!read_headers(&file))
		return TRUE;
	return check_segments(&file, error) && check_dynamic(&file, error);
}

gboolean
elf_check_plugin(const char *path, GError **error)
{
	int fd;
	gboolean ok;

	g_return_val_if_fail(path != NULL, FALSE);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return TRUE;
	ok = elf_check_plugin_fd(fd, error);
	close(fd);
	return ok;
}
