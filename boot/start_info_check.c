/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading struct hvm_start_info (Xen's public arch-x86/hvm/start_info.h)
 * into struct boot_info: validated once, copied once. Pure: no console, no
 * panic; the caller reports a refusal once it has a console. The host tests
 * hand it a start_info built in their own memory.
 */
#include <pvhk/boot.h>
#include <pvhk/cmdline.h>
#include <pvhk/printk.h>
#include <pvhk/start_info.h>
#include <pvhk/string.h>
#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>

const char *start_info_refusal(uint32_t magic, uint32_t version, char *buf, size_t len)
{
    if (magic != XEN_HVM_START_MAGIC_VALUE) {
        snprintf(buf, len, "bad magic 0x%08x (expected 0x%08x): not a PVH boot?", magic,
                 XEN_HVM_START_MAGIC_VALUE);
        return buf;
    }
    if (version > 1) {
        snprintf(buf, len, "unknown version %u (pvhk understands 0 and 1)", version);
        return buf;
    }
    return NULL;
}

/* Copy a NUL-terminated string of unknown length from a physical address,
 * keeping what fits in cap bytes (NUL included). */
static void copy_string(char *dst, size_t cap, uint64_t paddr)
{
    const char *src = (const char *)(uintptr_t)paddr;
    size_t n = 0;

    dst[0] = '\0';
    if (!paddr)
        return;
    while (n + 1 < cap && src[n]) {
        dst[n] = src[n];
        n++;
    }
    dst[n] = '\0';
}

/*
 * The command line: scanned whole here, while start_info's copy is certain
 * to be intact. One too long for the buffer keeps the words that fit and
 * every selftest/expect word (cmdline_keep()), so the harness's words
 * survive whatever the user put in front of them.
 */
static void copy_cmdline(struct boot_info *bi, char *cmdline, size_t cap, uint64_t paddr)
{
    const char *src = (const char *)(uintptr_t)paddr;
    size_t len = 0;

    bi->cmdline_paddr = paddr;
    if (paddr)
        while (len < BOOT_CMDLINE_SCAN_MAX && src[len])
            len++;
    bi->cmdline_len = len;
    cmdline_keep(cmdline, cap, paddr ? src : "", len, &bi->cmdline_rep);
}

const char *start_info_read(struct boot_info *bi, char *cmdline, size_t cmdline_cap,
                            uint64_t paddr)
{
    const struct hvm_start_info *si = (const void *)(uintptr_t)paddr;

    memset(bi, 0, sizeof(*bi));
    cmdline[0] = '\0';
    bi->start_info_paddr = paddr;
    if (!paddr) {
        snprintf(bi->refusal, sizeof(bi->refusal),
                 "no hvm_start_info pointer in %%ebx (not a PVH boot?)");
        return bi->refusal;
    }
    if (start_info_refusal(si->magic, si->version, bi->refusal, sizeof(bi->refusal)))
        return bi->refusal;

    /* From here on the fixed fields can be trusted (platform_choose() reads
     * the flags even when a later check refuses the rest). */
    bi->header_ok = true;
    bi->version = si->version;
    bi->flags = si->flags;
    bi->rsdp_paddr = si->rsdp_paddr;

    if (si->version >= 1 && si->memmap_paddr && si->memmap_entries > BOOT_MEMMAP_MAX) {
        snprintf(bi->refusal, sizeof(bi->refusal),
                 "memmap has %u entries, more than pvhk keeps (%u)", si->memmap_entries,
                 BOOT_MEMMAP_MAX);
        return bi->refusal;
    }
    copy_cmdline(bi, cmdline, cmdline_cap, si->cmdline_paddr);

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
                    mods[i].cmdline_paddr);
        bi->nr_modules = i + 1;
    }

    if (si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
        const struct hvm_memmap_table_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
        unsigned n = si->memmap_entries;

        bi->memmap_paddr = si->memmap_paddr;
        bi->memmap_entries_given = n;
        for (unsigned i = 0; i < n; i++)
            bi->memmap[i] = (struct boot_mem_entry){ e[i].addr, e[i].size, e[i].type };
        bi->nr_memmap = n;
        bi->memmap_source = "start_info v1 memmap";
    }
    return NULL;
}
