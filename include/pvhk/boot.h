/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the PVH loader handed us, copied out of hvm_start_info before
 * anything can overwrite it (QEMU may put the memmap in page 0, which paging
 * later unmaps; Xen may put start_info anywhere in RAM we will reuse).
 */
#ifndef PVHK_BOOT_H
#define PVHK_BOOT_H

#include <pvhk/types.h>
#include <pvhk/cmdline.h>

#define BOOT_CMDLINE_MAX        2048    /* boot_cmdline: 2047 bytes and a NUL */
#define BOOT_CMDLINE_SCAN_MAX   (1u << 20)  /* an original is not read past 1 MiB */
#define BOOT_MODULES_MAX        8
#define BOOT_MODULE_CMDLINE_MAX 256
#define BOOT_MEMMAP_MAX         1024    /* raw entries kept, before sanitising */

struct boot_module {
    uint64_t paddr, size;
    char cmdline[BOOT_MODULE_CMDLINE_MAX];
};

/* One raw memory-map entry, as any source gave it (not yet sanitised). */
struct boot_mem_entry {
    uint64_t addr, size;
    uint32_t type;
};

struct boot_info {
    uint64_t start_info_paddr;
    bool header_ok;                 /* magic and version accepted: flags can be read */
    char refusal[128];              /* why start_info was refused, or "" */
    uint32_t version, flags;
    uint64_t rsdp_paddr;
    uint64_t cmdline_paddr;
    size_t cmdline_len;             /* original length (may exceed what we kept) */
    struct cmdline_keep_report cmdline_rep;   /* what boot_cmdline kept of it */

    unsigned nr_modules;            /* modules kept (see modules_dropped) */
    unsigned modules_dropped;
    struct boot_module modules[BOOT_MODULES_MAX];
    uint64_t modlist_paddr;

    /* Raw memory map and where it came from. */
    const char *memmap_source;
    unsigned nr_memmap;
    struct boot_mem_entry memmap[BOOT_MEMMAP_MAX];
    uint64_t memmap_paddr;          /* v1 only */
    uint32_t memmap_entries_given;  /* v1 only: what start_info claimed */

    uint64_t entry_tsc;             /* TSC at the PVH entry point */
};

extern struct boot_info boot_info;

/* Validate and copy start_info into boot_info and boot_cmdline, once, before
 * the console exists. Returns NULL, or why it was refused (bad magic, unknown
 * version, no pointer, a memmap too long to keep): kmain panics with it once
 * the console is up. */
const char *start_info_copy(uint64_t paddr);
/* Fill boot_info's memmap from start_info v1 or XENMEM_memory_map. */
int boot_memmap_fetch(void);
void boot_info_print(void);

/* Linker symbols. */
extern const char __image_start[], __image_end[], __text_start[], __text_end[];
extern const char __rodata_start[], __rodata_end[], __data_start[];
extern const char __bss_start[], __bss_end[];
extern const char boot_stack_guard[], boot_stack[], boot_stack_top[];

#endif
