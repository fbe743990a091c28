/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sanitised memory map at boot. The raw map (start_info v1 memmap or
 * XENMEM_memory_map) is untrusted input; everything after this point sees
 * only the sanitised one (docs/memory-map.md).
 */
#include <pvhk/boot.h>
#include <pvhk/mm.h>
#include <pvhk/printk.h>

struct e820_map e820;
struct e820_report e820_rep;
static struct e820_scratch e820_scratch;

void e820_print(const struct e820_map *m, const char *title)
{
    struct e820_totals tot;
    char line[E820_FORMAT_LEN];

    printk("pvhk: %s: %u entries\n", title, m->nr);
    for (uint32_t i = 0; i < m->nr; i++) {
        e820_format(&m->entries[i], line, sizeof(line));
        printk("pvhk:   %s\n", line);
    }
    e820_totals(m, &tot);
    for (uint32_t t = 1; t <= E820_TYPE_MAX; t++)
        if (tot.pages[t])
            printk("pvhk:   total %-10s %10llu pages (%llu MiB)\n", e820_type_name(t),
                   (unsigned long long)tot.pages[t],
                   (unsigned long long)(tot.pages[t] >> (20 - PAGE_SHIFT)));
}

uint64_t e820_top_inward(const struct e820_map *m)
{
    uint64_t top = 0;

    for (uint32_t i = 0; i < m->nr; i++) {
        const struct e820_entry *e = &m->entries[i];
        if (e->type == E820_RAM || e->type == E820_UNUSABLE)
            top = e820_last(e) + 1;     /* 0 only if it ends at 2^64 */
    }
    return top ? top : ~0ull;
}

void mm_map_init(void)
{
    const struct boot_info *bi = &boot_info;

    if (!bi->nr_memmap)
        panic("memory map: no entries from %s", bi->memmap_source ? bi->memmap_source : "any source");
    int rc = e820_sanitise_raw(bi->memmap, sizeof(bi->memmap[0]), bi->nr_memmap, &e820,
                               &e820_scratch, &e820_rep);
    if (rc == E820_ENOSPC)
        panic("memory map: the sanitised map needs %u entries, pvhk holds %u",
              e820_rep.nr_needed, E820_MAX_ENTRIES);
    if (rc)
        panic("memory map: %s (%u raw entries)", e820_strerror(rc), bi->nr_memmap);
    if (e820_rep.nr_zero)
        printk("pvhk: memory map: %u zero-sized entries ignored\n", e820_rep.nr_zero);
    if (e820_rep.nr_clipped)
        printk("pvhk: WARNING: memory map: %u entries ran past 2^64 and were clipped\n",
               e820_rep.nr_clipped);
    if (e820_rep.nr_unknown) {
        printk("pvhk: WARNING: memory map: %u entries of unknown type taken as reserved:",
               e820_rep.nr_unknown);
        for (uint32_t i = 0; i < e820_rep.nr_unknown_types; i++)
            printk(" %u", e820_rep.unknown_types[i]);
        printk("\n");
    }
    e820_print(&e820, bi->memmap_source);

    struct e820_totals tot;
    e820_totals(&e820, &tot);
    if (!tot.pages[E820_RAM])
        panic("memory map: no RAM in the sanitised map");
}
