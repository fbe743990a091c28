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

void start_info_copy(uint64_t paddr)
{
    const struct hvm_start_info *si = (const void *)(uintptr_t)paddr;
    struct boot_info *bi = &boot_info;
    bool trunc;

    bi->start_info_paddr = paddr;
    if (!paddr)
        panic("start_info: no hvm_start_info pointer in %%ebx (not a PVH boot?)");
    char why[96];
    if (start_info_refusal(si->magic, si->version, why, sizeof(why)))
        panic("start_info at 0x%llx: %s", (unsigned long long)paddr, why);

    bi->version = si->version;
    bi->flags = si->flags;
    bi->rsdp_paddr = si->rsdp_paddr;
    bi->cmdline_paddr = si->cmdline_paddr;
    bi->cmdline_len = copy_string(boot_cmdline, sizeof(boot_cmdline), si->cmdline_paddr,
                                  &bi->cmdline_truncated);

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

void boot_info_print(void)
{
    const struct boot_info *bi = &boot_info;

    printk("pvhk: start_info at 0x%llx: version %u flags 0x%x%s%s, %u module(s), rsdp 0x%llx\n",
           (unsigned long long)bi->start_info_paddr, bi->version, bi->flags,
           bi->flags & SIF_PRIVILEGED ? " privileged" : "",
           bi->flags & SIF_INITDOMAIN ? " initdomain" : "",
           bi->nr_modules, (unsigned long long)bi->rsdp_paddr);
    printk("pvhk: command line: \"%s\"%s\n", boot_cmdline,
           bi->cmdline_truncated ? " (TRUNCATED)" : "");
    if (bi->modules_dropped)
        printk("pvhk: WARNING: %u module(s) beyond the first %u ignored\n",
               bi->modules_dropped, BOOT_MODULES_MAX);
    for (unsigned i = 0; i < bi->nr_modules; i++)
        printk("pvhk: module %u: 0x%llx+0x%llx \"%s\"\n", i,
               (unsigned long long)bi->modules[i].paddr,
               (unsigned long long)bi->modules[i].size, bi->modules[i].cmdline);
}
