/* SPDX-License-Identifier: BSD-2-Clause */
/* Self-tests: the map the kernel parsed at boot. */
#include <pvhk/boot.h>
#include <pvhk/mm.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/string.h>

KTEST(e820, sanitised_map_invariants)
{
    uint32_t bad = 0;
    const char *why = e820_validate(&e820, &bad);

    if (why)
        ktest_note(t, "entry %u: %s", bad, why);
    KT_EXPECT(t, why == NULL);
    KT_EXPECT(t, e820.nr > 0 && e820.nr <= E820_MAX_ENTRIES);
}

KTEST(e820, raw_entries_agree_with_sanitised)
{
    /* Every page wholly inside a raw entry that no other raw entry
     * overlaps must have that entry's type (for the known types). */
    const struct boot_info *bi = &boot_info;
    unsigned checked = 0;

    for (unsigned i = 0; i < bi->nr_memmap; i++) {
        const struct boot_mem_entry *a = &bi->memmap[i];
        uint64_t lo = ALIGN_UP(a->addr, PAGE_SIZE);
        uint64_t hi = ALIGN_DOWN(a->addr + a->size, PAGE_SIZE);
        bool overlapped = false;

        if (a->type < 1 || a->type > 7 || hi <= lo || a->addr + a->size < a->addr)
            continue;
        for (unsigned j = 0; j < bi->nr_memmap; j++) {
            const struct boot_mem_entry *b = &bi->memmap[j];
            if (j != i && b->size && b->addr < a->addr + a->size && a->addr < b->addr + b->size)
                overlapped = true;
        }
        if (overlapped)
            continue;
        KT_EXPECT(t, e820_type_at(&e820, lo) == a->type);
        KT_EXPECT(t, e820_type_at(&e820, hi - PAGE_SIZE) == a->type);
        checked++;
    }
    KT_EXPECT(t, checked > 0);
}

KTEST(e820, ram_and_unusable_on_dom0)
{
    struct e820_totals tot;

    e820_totals(&e820, &tot);
    KT_EXPECT(t, tot.pages[E820_RAM] > 0);
    if (platform != PLATFORM_XEN_DOM0)
        KT_SKIP(t, "UNUSABLE ranges are expected on PVH dom0 only");
    /* Xen reports the host RAM that dom0 does not get as UNUSABLE. */
    KT_EXPECT(t, tot.pages[E820_UNUSABLE] > 0);
}

KTEST(e820, kernel_image_in_reserved_ram)
{
    uint64_t s = (uint64_t)(uintptr_t)__image_start, e = (uint64_t)(uintptr_t)__image_end;

    for (uint64_t p = s; p < e; p += PAGE_SIZE)
        KT_ASSERT(t, e820_type_at(&e820, p) == E820_RAM);
    /* ...and the early allocator has it reserved, under its label. */
    KT_EXPECT(t, memblock_is_reserved(&memblock, s, e - s));
    KT_EXPECT(t, !memblock_is_free(&memblock, s, PAGE_SIZE));
    bool labelled = false;
    for (uint32_t i = 0; i < memblock.nr_reserved; i++) {
        const struct memblock_region *r = memblock_reserved_region(&memblock, i);
        if (r && !strcmp(r->label, "kernel image") && r->base <= s && r->base + r->size >= e)
            labelled = true;
    }
    KT_EXPECT(t, labelled);
    /* Page 0 is never handed out either. */
    KT_EXPECT(t, !memblock_is_free(&memblock, 0, PAGE_SIZE));
}
