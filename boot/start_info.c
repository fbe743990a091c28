/* SPDX-License-Identifier: BSD-2-Clause */
/* The kernel's side of start_info: the copy kept for the whole run, and its echo in the boot log. */
#include <pvhk/boot.h>
#include <pvhk/cmdline.h>
#include <pvhk/printk.h>
#include <pvhk/start_info.h>
#include <pvhk/string.h>
#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>

struct boot_info boot_info;
char boot_cmdline[BOOT_CMDLINE_MAX];

/* A command-line number that could not be used as given (common/cmdline.c). */
static void warn_number(const char *key, const char *given, size_t len, uint64_t used,
                        const char *why)
{
    const int show = 64;

    printk("pvhk: WARNING: command line: %s=%.*s%s: %s; using %llu\n", key,
           len > (size_t)show ? show : (int)len, given, len > (size_t)show ? "..." : "",
           why, (unsigned long long)used);
}

/*
 * Read start_info once (start_info_read()), its command line into
 * boot_cmdline. Nothing is printed here: this runs before the console,
 * whose choice depends on what start_info says.
 */
const char *start_info_copy(uint64_t paddr)
{
    cmdline_warn = warn_number;
    return start_info_read(&boot_info, boot_cmdline, sizeof(boot_cmdline), paddr);
}

/*
 * Echo the command line. One that fits a log line is printed on it; a
 * longer one in pieces of CMDLINE_PIECE bytes (to be read joined), so no
 * line is cut by printk. One that was truncated is announced by a warning
 * with the lengths, and its echo ends with a marker.
 */
#define CMDLINE_PIECE 256

static void cmdline_print(const struct boot_info *bi)
{
    const struct cmdline_keep_report *r = &bi->cmdline_rep;

    if (r->truncated) {
        char more[64] = "";
        if (r->harness_dropped)
            snprintf(more, sizeof(more), ", %u dropped (no room even for them)",
                     r->harness_dropped);
        printk("pvhk: WARNING: command line: %zu%s bytes given, %zu kept (room for %u): "
               "%u word(s) from byte %zu on dropped, %u selftest/expect word(s) from "
               "there on kept%s\n", r->given, r->given == BOOT_CMDLINE_SCAN_MAX ? "+" : "",
               r->kept, BOOT_CMDLINE_MAX - 1, r->words_dropped, r->cut_at,
               r->harness_after_cut, more);
    }
    /* Xen copies dom0's command line into MAX_GUEST_CMDLINE bytes (xen.h):
     * one of exactly that length less the NUL was probably cut by Xen. */
    if ((bi->flags & SIF_INITDOMAIN) && r->given == MAX_GUEST_CMDLINE - 1)
        printk("pvhk: WARNING: command line: %zu bytes, the most Xen passes to dom0 "
               "(MAX_GUEST_CMDLINE): Xen may have cut it\n", r->given);
    if (!r->truncated && r->kept <= CMDLINE_PIECE) {
        printk("pvhk: command line: \"%s\"\n", boot_cmdline);
        return;
    }
    unsigned pieces = (r->kept + CMDLINE_PIECE - 1) / CMDLINE_PIECE;
    printk("pvhk: command line: %zu bytes, in %u piece(s) of up to %u bytes:\n", r->kept,
           pieces, CMDLINE_PIECE);
    for (size_t off = 0; off < r->kept; off += CMDLINE_PIECE)
        printk("pvhk:   \"%.*s\"\n", (int)MIN((size_t)CMDLINE_PIECE, r->kept - off),
               boot_cmdline + off);
    if (r->truncated)
        printk("pvhk: command line: [TRUNCATED: %zu of %zu bytes kept]\n", r->kept, r->given);
}

void boot_info_print(void)
{
    const struct boot_info *bi = &boot_info;

    printk("pvhk: start_info at 0x%llx: version %u flags 0x%x%s%s, %u module(s), rsdp 0x%llx\n",
           (unsigned long long)bi->start_info_paddr, bi->version, bi->flags,
           bi->flags & SIF_PRIVILEGED ? " privileged" : "",
           bi->flags & SIF_INITDOMAIN ? " initdomain" : "",
           bi->nr_modules, (unsigned long long)bi->rsdp_paddr);
    cmdline_print(bi);
    if (bi->modules_dropped)
        printk("pvhk: WARNING: %u module(s) beyond the first %u ignored\n",
               bi->modules_dropped, BOOT_MODULES_MAX);
    for (unsigned i = 0; i < bi->nr_modules; i++)
        printk("pvhk: module %u: 0x%llx+0x%llx \"%s\"\n", i,
               (unsigned long long)bi->modules[i].paddr,
               (unsigned long long)bi->modules[i].size, bi->modules[i].cmdline);
}
