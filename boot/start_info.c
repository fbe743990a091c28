/* Copy and check struct hvm_start_info (Xen's public arch-x86/hvm/start_info.h). */
#include <pvhk/boot.h>
#include <pvhk/cmdline.h>
#include <pvhk/printk.h>
#include <pvhk/start_info.h>
#include <pvhk/string.h>
#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>

struct boot_info boot_info;
char boot_cmdline[BOOT_CMDLINE_MAX];

/* Copy a NUL-terminated string of unknown length from a physical address. */
static size_t copy_string(char *dst, size_t cap, uint64_t paddr, bool *truncated)
{
    const char *src = (const char *)(uintptr_t)paddr;
    size_t n = 0;

    *truncated = false;
    dst[0] = '\0';
    if (!paddr)
        return 0;
    while (src[n]) {
        if (n + 1 < cap)
            dst[n] = src[n];
        else
            *truncated = true;
        n++;
        if (n > (1u << 20))     /* no sane cmdline is 1 MiB: stop looking */
            break;
    }
    dst[n < cap ? n : cap - 1] = '\0';
    return n;
}

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
 * The command line: scanned whole here, while start_info's copy is certain
 * to be intact, and kept in boot_cmdline. One too long for it keeps the
 * words that fit and every selftest/expect word (cmdline_keep()), so the
 * harness's words survive whatever the user put in front of them.
 */
static void copy_cmdline(struct boot_info *bi, uint64_t paddr)
{
    const char *src = (const char *)(uintptr_t)paddr;
    size_t len = 0;

    bi->cmdline_paddr = paddr;
    if (paddr)
        while (len < BOOT_CMDLINE_SCAN_MAX && src[len])
            len++;
    bi->cmdline_len = len;
    cmdline_keep(boot_cmdline, sizeof(boot_cmdline), paddr ? src : "", len, &bi->cmdline_rep);
}

void start_info_copy(uint64_t paddr)
{
    const struct hvm_start_info *si = (const void *)(uintptr_t)paddr;
    struct boot_info *bi = &boot_info;
    bool trunc;

    cmdline_warn = warn_number;
    bi->start_info_paddr = paddr;
    if (!paddr)
        panic("start_info: no hvm_start_info pointer in %%ebx (not a PVH boot?)");
    char why[96];
    if (start_info_refusal(si->magic, si->version, why, sizeof(why)))
        panic("start_info at 0x%llx: %s", (unsigned long long)paddr, why);

    bi->version = si->version;
    bi->flags = si->flags;
    bi->rsdp_paddr = si->rsdp_paddr;
    copy_cmdline(bi, si->cmdline_paddr);

    bi->modlist_paddr = si->modlist_paddr;
    const struct hvm_modlist_entry *mods = (const void *)(uintptr_t)si->modlist_paddr;
    for (unsigned i = 0; si->modlist_paddr && i < si->nr_modules; i++) {
        if (i >= BOOT_MODULES_MAX) {
            bi->modules_dropped = si->nr_modules - BOOT_MODULES_MAX;
            break;
        }
        bi->modules[i].paddr = mods[i].paddr;
        bi->modules[i].size = mods[i].size;
        copy_string(bi->modules[i].cmdline, sizeof(bi->modules[i].cmdline),
                    mods[i].cmdline_paddr, &trunc);
        bi->nr_modules = i + 1;
    }

    if (si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
        const struct hvm_memmap_table_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
        unsigned n = si->memmap_entries;

        bi->memmap_paddr = si->memmap_paddr;
        bi->memmap_entries_given = n;
        if (n > BOOT_MEMMAP_MAX)
            panic("start_info: memmap has %u entries, more than pvhk keeps (%u)",
                  n, BOOT_MEMMAP_MAX);
        for (unsigned i = 0; i < n; i++)
            bi->memmap[i] = (struct boot_mem_entry){ e[i].addr, e[i].size, e[i].type };
        bi->nr_memmap = n;
        bi->memmap_source = "start_info v1 memmap";
    }
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
