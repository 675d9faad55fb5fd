/* The plugin ELF check: modules that MemoryDenyWriteExecute would break
 * (text relocations, an executable stack, a writable code segment) are
 * refused before they are mapped, with the reason; the plugins we build
 * pass. Synthetic objects pin down each header the check reads; objects
 * from the real toolchain show it recognises what a linker writes. */
#include <elf.h>
#include <stdint.h>
#include <string.h>

#include "elf-check.h"
#include "plugin-host.h"

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

typedef enum {
	STACK_NONE,	/* no PT_GNU_STACK at all */
	STACK_RW,
	STACK_RWX,
} StackKind;

/* What a synthetic shared object looks like. */
typedef struct {
	StackKind stack;
	gboolean dt_textrel;	/* a DT_TEXTREL entry */
	gboolean df_textrel;	/* DF_TEXTREL in DT_FLAGS */
	gboolean writable_code; /* the PT_LOAD is RWX */
} Shape;

static const Shape clean = { STACK_RW, FALSE, FALSE, FALSE };

static char *tmpdir;

/* Writes ELF header, program headers and a dynamic section: enough
 * for the check, not for a loader. */
static char *
write_object(const char *name, const Shape *shape)
{
	ElfHeader h = { 0 };
	ElfProgramHeader ph[3] = { { 0 } };
	ElfDynamic dyn[3] = { { 0 } };
	guint n_ph = shape->stack == STACK_NONE ? 2 : 3, n_dyn = 0;
	gsize dyn_offset = sizeof(h) + sizeof(ph);
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	g_autoptr(GError) error = NULL;
	char *path = g_build_filename(tmpdir, name, NULL);

	memcpy(h.e_ident, ELFMAG, SELFMAG);
	h.e_ident[EI_CLASS] = NATIVE_CLASS;
	h.e_ident[EI_DATA] = G_BYTE_ORDER == G_LITTLE_ENDIAN ? ELFDATA2LSB
							     : ELFDATA2MSB;
	h.e_ident[EI_VERSION] = EV_CURRENT;
	h.e_type = ET_DYN;
	h.e_version = EV_CURRENT;
	h.e_phoff = sizeof(h);
	h.e_ehsize = sizeof(h);
	h.e_phentsize = sizeof(ElfProgramHeader);
	h.e_phnum = n_ph;
	ph[0].p_type = PT_LOAD;
	ph[0].p_flags = PF_R | PF_X | (shape->writable_code ? PF_W : 0);
	ph[0].p_filesz = ph[0].p_memsz = dyn_offset + sizeof(dyn);
	ph[1].p_type = PT_DYNAMIC;
	ph[1].p_flags = PF_R | PF_W;
	ph[1].p_offset = dyn_offset;
	ph[1].p_filesz = sizeof(dyn);
	ph[2].p_type = PT_GNU_STACK;
	ph[2].p_flags = PF_R | PF_W | (shape->stack == STACK_RWX ? PF_X : 0);
	dyn[n_dyn].d_tag = DT_FLAGS;
	dyn[n_dyn++].d_un.d_val = DF_BIND_NOW |
				  (shape->df_textrel ? DF_TEXTREL : 0);
	if (shape->dt_textrel)
		dyn[n_dyn++].d_tag = DT_TEXTREL;
	dyn[n_dyn].d_tag = DT_NULL;
	g_byte_array_append(bytes, (guint8 *)&h, sizeof(h));
	g_byte_array_append(bytes, (guint8 *)ph, sizeof(ph));
	g_byte_array_append(bytes, (guint8 *)dyn, sizeof(dyn));
	g_file_set_contents(path, (char *)bytes->data, bytes->len, &error);
	g_assert_no_error(error);
	return path;
}

static void
assert_refused(const Shape *shape, ElfCheckErrorCode code,
	       const char *reason)
{
	g_autofree char *path = write_object("plugin.so", shape);
	g_autoptr(GError) error = NULL;

	g_assert_false(elf_check_plugin(path, &error));
	g_assert_error(error, ELF_CHECK_ERROR, (gint)code);
	g_assert_nonnull(strstr(error->message, reason));
}

static void
test_clean_object_passes(void)
{
	g_autofree char *path = write_object("clean.so", &clean);
	g_autoptr(GError) error = NULL;

	g_assert_true(elf_check_plugin(path, &error));
	g_assert_no_error(error);
}

static void
test_dt_textrel_refused(void)
{
	Shape s = clean;

	s.dt_textrel = TRUE;
	assert_refused(&s, ELF_CHECK_ERROR_TEXT_RELOCATIONS, "-fPIC");
}

static void
test_df_textrel_refused(void)
{
	Shape s = clean;

	s.df_textrel = TRUE;
	assert_refused(&s, ELF_CHECK_ERROR_TEXT_RELOCATIONS,
		       "text relocations");
}

static void
test_executable_stack_refused(void)
{
	Shape s = clean;

	s.stack = STACK_RWX;
	assert_refused(&s, ELF_CHECK_ERROR_EXECUTABLE_STACK,
		       "PT_GNU_STACK with PF_X");
}

static void
test_missing_stack_header_refused(void)
{
	Shape s = clean;

	s.stack = STACK_NONE;
	assert_refused(&s, ELF_CHECK_ERROR_EXECUTABLE_STACK,
		       "-Wl,-z,noexecstack");
}

static void
test_writable_code_refused(void)
{
	Shape s = clean;

	s.writable_code = TRUE;
	assert_refused(&s, ELF_CHECK_ERROR_WRITABLE_CODE,
		       "writable and executable");
}

/* What the check cannot read as a native object is the loader's to
 * refuse; the check must not crash or misjudge it. */
static void
test_unreadable_left_to_loader(void)
{
	g_autofree char *good = write_object("base.so", &clean);
	g_autofree char *bytes = NULL;
	gsize length;
	const struct {
		const char *name;
		gsize keep;	/* bytes of the clean object kept */
		int patch_at;	/* -1: none */
		guint8 value;
	} cases[] = {
		{ "empty.so", 0, -1, 0 },
		{ "header-cut.so", sizeof(ElfHeader) - 1, -1, 0 },
		{ "phdrs-cut.so", sizeof(ElfHeader) + 8, -1, 0 },
		{ "other-class.so", G_MAXSIZE, EI_CLASS, 0x7f },
		{ "not-elf.so", G_MAXSIZE, 1, 'X' },
	};

	g_assert_true(g_file_get_contents(good, &bytes, &length, NULL));
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path = g_build_filename(tmpdir, cases[i].name,
							 NULL);
		g_autofree char *copy = g_memdup2(bytes, length);
		g_autoptr(GError) error = NULL;

		if (cases[i].patch_at >= 0)
			copy[cases[i].patch_at] = (char)cases[i].value;
		g_assert_true(g_file_set_contents(
			path, copy, MIN(cases[i].keep, length), NULL));
		g_assert_true(elf_check_plugin(path, &error));
		g_assert_no_error(error);
	}
	g_assert_true(elf_check_plugin("/nonexistent/plugin.so", NULL));
}

static void
test_built_plugins_pass(void)
{
	g_autofree char *dir = g_build_filename(g_getenv("SLOTD_BUILD_ROOT"),
						"plugins", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	guint checked = 0;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autoptr(GError) error = NULL;

		if (!g_str_has_suffix(name, ".so"))
			continue;
		g_assert_true(elf_check_plugin(path, &error));
		g_assert_no_error(error);
		checked++;
	}
	/* home-hospital, crisis-duty, walk-in at least. */
	g_assert_cmpuint(checked, >=, 3);
}

/* Builds a real module with the system compiler; NULL (and the test
 * skipped) where the compiler or the flags are not available. */
static char *
compile_module(const char *name, const char *const *flags)
{
	g_autofree char *cc = g_find_program_in_path("cc");
	g_autofree char *source = g_build_filename(tmpdir, "module.c", NULL);
	char *path = g_build_filename(tmpdir, name, NULL);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *err = NULL;
	int status = -1;

	if (!cc) {
		g_test_skip("no cc in PATH");
		g_free(path);
		return NULL;
	}
	g_assert_true(g_file_set_contents(source, "int counter;\n"
				"int *where(void) { return &counter; }\n",
				-1, NULL));
	g_ptr_array_add(argv, cc);
	g_ptr_array_add(argv, (char *)"-shared");
	for (guint i = 0; flags[i]; i++)
		g_ptr_array_add(argv, (char *)flags[i]);
	g_ptr_array_add(argv, (char *)"-o");
	g_ptr_array_add(argv, path);
	g_ptr_array_add(argv, source);
	g_ptr_array_add(argv, NULL);
	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL,
			  G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
			  &status, NULL) ||
	    !g_spawn_check_wait_status(status, NULL)) {
		g_test_skip("the compiler refused the flags");
		g_free(path);
		return NULL;
	}
	return path;
}

static void
test_toolchain_objects(void)
{
	const char *const pic[] = { "-fPIC", "-Wl,-z,noexecstack", NULL };
	const char *const execstack[] = { "-fPIC", "-Wl,-z,execstack", NULL };
	g_autofree char *good = compile_module("good.so", pic);
	g_autofree char *bad = NULL;
	g_autoptr(GError) error = NULL;

	if (!good)
		return;
	g_assert_true(elf_check_plugin(good, &error));
	g_assert_no_error(error);
	bad = compile_module("execstack.so", execstack);
	if (!bad)
		return;
	g_assert_false(elf_check_plugin(bad, &error));
	g_assert_error(error, ELF_CHECK_ERROR,
		       ELF_CHECK_ERROR_EXECUTABLE_STACK);
}

static void
test_toolchain_text_relocations(void)
{
#if defined(__x86_64__)
	/* The large code model makes absolute 64-bit references the linker
	 * can only resolve by patching code at load time. */
	const char *const flags[] = { "-fno-PIC", "-mcmodel=large",
				      "-Wl,-z,notext", NULL };
	g_autofree char *path = compile_module("textrel.so", flags);
	g_autoptr(GError) error = NULL;

	if (!path)
		return;
	g_assert_false(elf_check_plugin(path, &error));
	g_assert_error(error, ELF_CHECK_ERROR,
		       ELF_CHECK_ERROR_TEXT_RELOCATIONS);
#else
	g_test_skip("text relocations are built the x86-64 way only");
#endif
}

static GPtrArray *warnings; /* of the plugin loader, while expected */

static const char *
log_field(const GLogField *fields, gsize n_fields, const char *key)
{
	for (gsize i = 0; i < n_fields; i++)
		if (g_str_equal(fields[i].key, key) && fields[i].length < 0)
			return fields[i].value;
	return NULL;
}

/* The loader's refusal is a warning, fatal under GTest; collect it. */
static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields,
	   gpointer user_data)
{
	const char *message = log_field(fields, n_fields, "MESSAGE");

	if (warnings && (level & G_LOG_LEVEL_WARNING) && message) {
		g_ptr_array_add(warnings, g_strdup(message));
		return G_LOG_WRITER_HANDLED;
	}
	return g_log_writer_default(level, fields, n_fields, user_data);
}

/* The loader runs the check before g_module_open and keeps the
 * reason where ListPlugins shows it. */
static void
test_host_refuses_before_loading(void)
{
	Shape s = clean;
	g_autofree char *path = NULL;
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;
	const PluginInfo *info;

	s.stack = STACK_RWX;
	path = write_object("stack.so", &s);
	warnings = g_ptr_array_new_with_free_func(g_free);
	g_assert_false(plugin_host_load_file(host, path, FALSE, &error));
	g_assert_cmpuint(warnings->len, ==, 1);
	g_assert_nonnull(strstr(warnings->pdata[0], path));
	g_assert_nonnull(strstr(warnings->pdata[0], "executable stack"));
	g_clear_pointer(&warnings, g_ptr_array_unref);
	g_assert_error(error, ELF_CHECK_ERROR,
		       ELF_CHECK_ERROR_EXECUTABLE_STACK);
	g_assert_cmpuint(plugin_host_list(host)->len, ==, 1);
	info = plugin_host_list(host)->pdata[0];
	g_assert_false(info->loaded);
	g_assert_nonnull(strstr(info->error, "-Wl,-z,noexecstack"));
}

static void
test_host_loads_built_plugin(void)
{
	g_autofree char *path = g_build_filename(g_getenv("SLOTD_BUILD_ROOT"),
						 "plugins", "walk-in.so", NULL);
	g_autoptr(PluginHost) host = plugin_host_new();
	g_autoptr(GError) error = NULL;

	g_assert_true(plugin_host_load_file(host, path, FALSE, &error));
	g_assert_no_error(error);
	g_assert_nonnull(plugin_host_kind(host, "walk-in"));
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	g_log_set_writer_func(log_writer, NULL, NULL);
	tmpdir = g_dir_make_tmp("slotd-elf-XXXXXX", &error);
	g_assert_no_error(error);
	g_test_add_func("/elf-check/synthetic/clean-object-passes",
			test_clean_object_passes);
	g_test_add_func("/elf-check/synthetic/dt-textrel-refused",
			test_dt_textrel_refused);
	g_test_add_func("/elf-check/synthetic/df-textrel-flag-refused",
			test_df_textrel_refused);
	g_test_add_func("/elf-check/synthetic/executable-stack-refused",
			test_executable_stack_refused);
	g_test_add_func("/elf-check/synthetic/missing-stack-header-refused",
			test_missing_stack_header_refused);
	g_test_add_func("/elf-check/synthetic/writable-code-refused",
			test_writable_code_refused);
	g_test_add_func("/elf-check/unreadable/left-to-the-loader",
			test_unreadable_left_to_loader);
	g_test_add_func("/elf-check/built-plugins/all-pass",
			test_built_plugins_pass);
	g_test_add_func("/elf-check/toolchain/execstack-refused",
			test_toolchain_objects);
	g_test_add_func("/elf-check/toolchain/text-relocations-refused",
			test_toolchain_text_relocations);
	g_test_add_func("/elf-check/host/refuses-before-loading",
			test_host_refuses_before_loading);
	g_test_add_func("/elf-check/host/loads-built-plugin",
			test_host_loads_built_plugin);
	status = g_test_run();
	{
		g_autofree char *quoted = g_shell_quote(tmpdir);
		g_autofree char *rm = g_strdup_printf("rm -rf %s", quoted);

		g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
	}
	g_free(tmpdir);
	return status;
}
