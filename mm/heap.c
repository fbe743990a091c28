/*
 * Boot memory: memblock first (it knows what the boot path is using), then
 * the frame table. Only a small part of RAM is initialised into the buddy
 * at boot; the rest is registered as deferred and enters the heap when it
 * runs short (pa_alloc) or on pa_init_all(), so boot cost does not grow
 * with RAM size. Frames memblock handed out stay UNINITIALISED: freeing
 * them later runs the init path (docs/allocator.md).
 */
#include <pvhk/boot.h>
#include <pvhk/heap.h>
#include <pvhk/mm.h>
#include <pvhk/printk.h>
#include <pvhk/time.h>
#include <pvhk/arch.h>

struct memblock memblock;
struct page_alloc heap;
uint64_t heap_boot_uninit;
pfn_t heap_early_test_pfn[2];

/* How much free RAM boot initialises eagerly; the rest is deferred. */
#define HEAP_EAGER_FRAMES   (16ull << (20 - PAGE_SHIFT))    /* 16 MiB */

static void reserve(paddr_t base, uint64_t size, const char *label)
{
    int rc = memblock_reserve(&memblock, base, size, label);

    if (rc)
        panic("memblock: cannot reserve %s 0x%llx+0x%llx: %s", label,
              (unsigned long long)base, (unsigned long long)size, memblock_strerror(rc));
}

void memblock_boot_init(void)
{
    const struct boot_info *bi = &boot_info;
    int rc = memblock_init(&memblock, &e820);

    if (rc)
        panic("memblock: init from the sanitised map failed: %s", memblock_strerror(rc));
    /* The image includes bss: boot stack, boot and final page tables, and
     * the copies of start_info's cmdline, modules and memmap. */
    reserve((uintptr_t)__image_start, (uintptr_t)__image_end - (uintptr_t)__image_start,
            "kernel image");
    /* The originals stay readable for the self-tests that compare them. */
    reserve(bi->start_info_paddr, PAGE_SIZE, "start_info");
    if (bi->cmdline_paddr)
        reserve(bi->cmdline_paddr, bi->cmdline_len + 1, "cmdline");
    if (bi->memmap_paddr)
        reserve(bi->memmap_paddr, (uint64_t)bi->memmap_entries_given * 24, "memmap");
    if (bi->modlist_paddr)
        reserve(bi->modlist_paddr, (uint64_t)bi->nr_modules * 32, "module list");
    for (unsigned i = 0; i < bi->nr_modules; i++)
        reserve(bi->modules[i].paddr, bi->modules[i].size, "module");

    /* Two pages used "before the heap existed", for the uninitialised-free
     * and mark-inuse self-tests. */
    for (unsigned i = 0; i < 2; i++) {
        paddr_t p = memblock_alloc(&memblock, PAGE_SIZE, PAGE_SIZE, 4ull << 30,
                                   "selftest early page");
        heap_early_test_pfn[i] = p ? PFN_DOWN(p) : 0;
    }
}

void heap_init(void)
{
    uint64_t t0 = rdtsc(), frames = 0;

    for (uint32_t i = 0; i < e820.nr; i++)
        if (e820.entries[i].type == E820_RAM)
            frames += e820_pages(&e820.entries[i]);

    size_t bytes = pa_table_bytes(frames);
    paddr_t tbl = memblock_alloc(&memblock, ALIGN_UP(bytes, PAGE_SIZE), PAGE_SIZE,
                                 MEMBLOCK_ALLOC_ANYWHERE, "frame table");
    if (!tbl)
        panic("heap: no room for the frame table (%llu bytes for %llu frames)",
              (unsigned long long)bytes, (unsigned long long)frames);
    /* Not zeroed here: page_alloc zeroes the table chunk by chunk when it
     * first touches one, which keeps boot cost independent of RAM size. */
    pa_setup(&heap, (struct pa_frame *)(uintptr_t)tbl, frames, 0);

    for (uint32_t i = 0; i < e820.nr; i++) {
        const struct e820_entry *e = &e820.entries[i];
        if (e->type != E820_RAM)
            continue;
        int rc = pa_add_range(&heap, PFN_DOWN(e->addr), e820_pages(e));
        if (rc)
            panic("heap: cannot add RAM range 0x%llx+0x%llx pages: %s",
                  (unsigned long long)PFN_DOWN(e->addr), (unsigned long long)e820_pages(e),
                  pa_strerror(rc));
    }

    /* Free RAM: the first HEAP_EAGER_FRAMES now, the rest deferred. */
    uint64_t eager = HEAP_EAGER_FRAMES;
    paddr_t cursor = 0, base;
    uint64_t size;
    while (memblock_next_free(&memblock, &cursor, &base, &size)) {
        pfn_t s = PFN_DOWN(base);
        uint64_t n = size >> PAGE_SHIFT, now = MIN(n, eager);
        int rc = 0;

        if (now)
            rc = pa_init_range(&heap, s, now);
        if (!rc && n > now)
            rc = pa_defer(&heap, s + now, n - now);
        if (rc == PA_E_NOSPACE && n > now)
            rc = pa_init_range(&heap, s + now, n - now);    /* no defer slot: init now */
        if (rc)
            panic("heap: cannot hand free RAM 0x%llx+0x%llx pages to the heap: %s",
                  (unsigned long long)s, (unsigned long long)n, pa_strerror(rc));
        eager -= now;
    }
    heap_boot_uninit = pa_nr_frames(&heap, PA_UNINITIALISED);
    printk("pvhk: heap: %llu frames in the table (%llu KiB, %u B/frame), init %llu us\n",
           (unsigned long long)frames, (unsigned long long)(bytes >> 10),
           (unsigned)sizeof(struct pa_frame),
           (unsigned long long)(tsc_to_ns(rdtsc() - t0) / 1000));
    heap_print("boot");
}

void heap_print(const char *when)
{
    printk("pvhk: heap (%s):", when);
    for (unsigned s = 0; s < PA_NR_STATES; s++)
        if (pa_nr_frames(&heap, s))
            printk(" %s %llu", pa_state_name(s), (unsigned long long)pa_nr_frames(&heap, s));
    printk("\n");
}

void *alloc_pages(unsigned order, unsigned flags)
{
    pfn_t f = pa_alloc(&heap, order, flags);

    return f == PA_NO_FRAME ? NULL : (void *)(uintptr_t)PFN_PHYS(f);
}

void free_pages(void *va, unsigned order)
{
    int rc = pa_free(&heap, PFN_DOWN((uintptr_t)va), order);

    if (rc)
        panic("free_pages(%p, order %u): %s (frame 0x%llx)", va, order, pa_strerror(rc),
              (unsigned long long)heap.err_frame);
}
