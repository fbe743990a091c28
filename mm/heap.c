/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Boot memory: memblock first (it knows what the boot path is using), then
 * the frame table. When the heap takes over, every frame memblock recorded
 * is handed to it as a reserved INUSE block whose owner is the
 * reservation's label, and memblock is closed: after boot the heap alone
 * says who owns a frame (docs/allocator.md, "The hand-over"). Only a small
 * part of free RAM goes on the free lists at boot; the rest is deferred
 * (FREE, listed when the heap runs short), so boot cost does not grow with
 * RAM size.
 */
#include <pvhk/boot.h>
#include <pvhk/mm.h>
#include <pvhk/printk.h>
#include <pvhk/smp.h>
#include <pvhk/time.h>
#include <pvhk/arch.h>
#include <pvhk/cmdline.h>
#include <pvhk/platform.h>
#include <pvhk/xen.h>
#include <pvhk/xenbus.h>
#include <pvhk/p2m.h>
#include <pvhk/page_smp.h>
#include <pvhk/scratch.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

struct memblock memblock;
struct page_alloc heap;
struct pa_smp heap_smp;
uint64_t heap_boot_uninit, heap_boot_deferred, heap_boot_eager;
pfn_t heap_early_test_pfn[2];
pfn_t heap_first_deferred;

/* How much free RAM boot initialises eagerly; the rest is deferred. */
#define HEAP_EAGER_FRAMES   (16ull << (20 - PAGE_SHIFT))    /* 16 MiB */

static void reserve(paddr_t base, uint64_t size, const char *label)
{
    int rc = memblock_reserve(&memblock, base, size, label);

    if (rc)
        panic("memblock: cannot reserve %s 0x%llx+0x%llx: %s", label,
              (unsigned long long)base, (unsigned long long)size, memblock_strerror(rc));
}

paddr_t smp_trampoline_pa;

/* memblock_alloc() for boot code; after the hand-over a call is a bug. */
static paddr_t early_alloc(uint64_t size, uint64_t align, paddr_t limit, const char *label)
{
    if (memblock.closed)
        panic("memblock: '%s' asked for 0x%llx bytes after the heap took over", label,
              (unsigned long long)size);
    return memblock_alloc(&memblock, size, align, limit, label);
}


/* RAM as page ranges, in address order (the P2M core's view of it). */
static struct p2m_range ram[E820_MAX_ENTRIES];
static unsigned nr_ram;
static uint64_t ram_pages, boot_target;

static void collect_ram(void)
{
    nr_ram = 0;
    ram_pages = 0;
    for (uint32_t i = 0; i < e820.nr; i++) {
        const struct e820_entry *e = &e820.entries[i];
        if (e->type != E820_RAM)
            continue;
        ram[nr_ram++] = (struct p2m_range){ PFN_DOWN(e->addr), e820_pages(e) };
        ram_pages += e820_pages(e);
    }
}

/*
 * The special pages Xen states for this domain: the HVM params the
 * toolstack sets to the frames it populated for us outside RAM. Logged at
 * boot, with what Xen says is behind each (HVMOP_get_mem_type), so the
 * special pages are seen where they are rather than assumed.
 */
static const struct { uint32_t index; const char *name; } special_params[] = {
    { HVM_PARAM_STORE_PFN, "xenstore" },
    { HVM_PARAM_CONSOLE_PFN, "console" },
    { HVM_PARAM_IOREQ_PFN, "ioreq" },
    { HVM_PARAM_BUFIOREQ_PFN, "bufioreq" },
    { HVM_PARAM_PAGING_RING_PFN, "paging ring" },
    { HVM_PARAM_MONITOR_RING_PFN, "monitor ring" },
    { HVM_PARAM_SHARING_RING_PFN, "sharing ring" },
    { HVM_PARAM_IOREQ_SERVER_PFN, "ioreq server base" },
};

static bool frame_backed(uint64_t pfn, long *err)
{
    unsigned int type;
    long rc = xen_gfn_mem_type(pfn, &type);

    if (rc) {
        *err = rc;
        return false;
    }
    return type == HVMMEM_ram_rw || type == HVMMEM_ram_ro;
}

/* The map's entry holding frame pfn, or NULL. */
static const struct e820_entry *map_entry(uint64_t pfn)
{
    for (uint32_t i = 0; i < e820.nr; i++)
        if (PFN_DOWN(e820.entries[i].addr) <= pfn && pfn <= PFN_DOWN(e820_last(&e820.entries[i])))
            return &e820.entries[i];
    return NULL;
}

static void special_params_print(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(special_params); i++) {
        uint64_t pfn = 0;
        long err = 0;
        int rc = xen_hvm_param_get(special_params[i].index, &pfn);

        if (rc || !pfn)
            continue;
        bool backed = frame_backed(pfn, &err);
        const struct e820_entry *e = map_entry(pfn);
        printk("pvhk: p2m: special page %s (HVM param %u): pfn 0x%llx, %s, %s\n",
               special_params[i].name, special_params[i].index, (unsigned long long)pfn,
               e ? e820_type_name(e->type) : "in no range of the map",
               err ? "mem type unknown" : backed ? "backed" : "not backed");
    }
}

/* Non-RAM entries larger than this are not asked about frame by frame: all
 * of such an entry is counted as special (see compute_boot_target()). */
#define SPECIAL_SCAN_MAX    4096

/*
 * How many RAM frames Xen backs for us. An xl domU started with
 * memory < maxmem sees RAM up to maxmem but only `memory` is backed
 * (populate-on-demand): touching more crashes the domain. Xen's current
 * reservation counts the backed pages, including the pages the toolstack
 * populated outside RAM (the special pages whose HVM params name them, the
 * ACPI tables), which are not ours to use. They are counted by asking Xen
 * about every frame of each non-RAM entry of the map (RESERVED, ACPI, NVS
 * and unknown types; UNUSABLE is memory Xen withholds): the frames it says
 * are backed. An entry of more than SPECIAL_SCAN_MAX frames, or a failed
 * query, counts whole: erring low is safe, the balloon can grow back later.
 */
static uint64_t compute_boot_target(void)
{
    long resv;
    uint64_t special = 0, asked = 0, assumed = 0;

    if (!on_xen())
        return ram_pages;
    special_params_print();
    resv = xen_current_reservation();
    if (resv < 0) {
        printk("pvhk: WARNING: XENMEM_current_reservation failed (%ld): assuming all RAM "
               "is backed\n", resv);
        return ram_pages;
    }
    if (platform == PLATFORM_XEN_DOMU)
        for (uint32_t i = 0; i < e820.nr; i++) {
            const struct e820_entry *e = &e820.entries[i];
            uint64_t n = e820_pages(e), backed = 0;
            long err = 0;

            if (e->type == E820_RAM || e->type == E820_UNUSABLE || !n)
                continue;
            if (n > SPECIAL_SCAN_MAX) {
                assumed += n;
                special += n;
                continue;
            }
            for (uint64_t f = 0; f < n && !err; f++)
                backed += frame_backed(PFN_DOWN(e->addr) + f, &err);
            asked += n;
            if (err) {
                printk("pvhk: WARNING: p2m: HVMOP_get_mem_type failed (%ld) in %s "
                       "0x%llx-0x%llx: all of it counted as special\n", err,
                       e820_type_name(e->type), (unsigned long long)e->addr,
                       (unsigned long long)e820_last(e));
                backed = n;
            }
            if (backed)
                printk("pvhk: p2m: %s 0x%llx-0x%llx: %llu of %llu frames backed by Xen\n",
                       e820_type_name(e->type), (unsigned long long)e->addr,
                       (unsigned long long)e820_last(e), (unsigned long long)backed,
                       (unsigned long long)n);
            special += backed;
        }
    uint64_t avail = (uint64_t)resv > special ? (uint64_t)resv - special : 0;
    printk("pvhk: p2m: RAM %llu pages, reservation %ld pages, %llu special pages outside "
           "RAM (%llu frames asked about, %llu assumed): keeping %llu\n",
           (unsigned long long)ram_pages, resv, (unsigned long long)special,
           (unsigned long long)asked, (unsigned long long)assumed,
           (unsigned long long)MIN(ram_pages, avail));
    return MIN(ram_pages, avail);
}

/*
 * Reserve the RAM above the boot target before anything can allocate it:
 * the P2M releases exactly these frames, the top `excess` frames of RAM,
 * in heap_init() (p2m_boot_trim()). They must not hold anything the
 * loader placed (the image, start_info, its command line, memmap, modules,
 * all reserved just before): releasing those would lose them. So a trim
 * that meets an existing reservation stops the boot, naming both.
 */
static void boot_trim_reserve(void)
{
    uint64_t excess;

    collect_ram();
    boot_target = compute_boot_target();
    excess = ram_pages - boot_target;
    for (unsigned i = nr_ram; i-- > 0 && excess;) {
        uint64_t take = MIN(excess, ram[i].nr_pfns);
        paddr_t base = PFN_PHYS(ram[i].start_pfn + ram[i].nr_pfns - take);
        const struct memblock_region *clash;
        int rc = memblock_reserve_exclusive(&memblock, base, PFN_PHYS(take),
                                            "unbacked: above the boot target", &clash);

        if (rc == MEMBLOCK_EBUSY)
            panic("boot trim: RAM 0x%llx-0x%llx lies above the boot target of %llu pages "
                  "(Xen backs no more) but holds '%s' 0x%llx-0x%llx, placed there by the "
                  "loader: it cannot be released", (unsigned long long)base,
                  (unsigned long long)(base + PFN_PHYS(take) - 1),
                  (unsigned long long)boot_target, clash->label,
                  (unsigned long long)clash->base,
                  (unsigned long long)(clash->base + clash->size - 1));
        if (rc)
            panic("memblock: cannot reserve the RAM above the boot target 0x%llx+0x%llx: %s",
                  (unsigned long long)base, (unsigned long long)PFN_PHYS(take),
                  memblock_strerror(rc));
        excess -= take;
    }
}

/* dom0: the UNUSABLE ranges (host RAM dom0_mem withholds) become extra
 * memory, up to extra_mem_ratio x RAM (extra_mem_ratio= on the command
 * line, default EXTRA_MEM_RATIO_DEFAULT). */
static void collect_extra_mem(void)
{
    static struct extra_mem_range map[E820_MAX_ENTRIES];
    unsigned n = 0;
    unsigned ratio = cmdline_u64_max(boot_cmdline, "extra_mem_ratio", EXTRA_MEM_RATIO_DEFAULT,
                                     UINT32_MAX);

    extra_mem_init(&extra_mem);
    if (!on_xen())
        return;
    for (uint32_t i = 0; i < e820.nr; i++) {
        const struct e820_entry *e = &e820.entries[i];
        if (e->type == E820_RAM || e->type == E820_UNUSABLE)
            map[n++] = (struct extra_mem_range){ PFN_DOWN(e->addr), e820_pages(e), e->type };
    }
    int rc = extra_mem_from_ranges(&extra_mem, map, n, ratio, &extra_mem_rep);
    if (rc)
        printk("pvhk: WARNING: extra memory: %d, %llu UNUSABLE pages dropped (table full)\n",
               rc, (unsigned long long)extra_mem_rep.dropped_pfns);
    printk("pvhk: extra memory: %llu of %llu UNUSABLE pages registered (ratio %u: limit %llu), "
           "%u region(s), %u split\n", (unsigned long long)extra_mem_rep.registered_pfns,
           (unsigned long long)extra_mem_rep.unusable_pfns, ratio,
           (unsigned long long)extra_mem_rep.limit_pfns, extra_mem.nr_regions,
           extra_mem_rep.split);
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

    boot_trim_reserve();

    /* Bare: a page below 1 MiB for the real-mode AP trampoline (a SIPI
     * names a page number of 8 bits). */
    if (platform == PLATFORM_BARE)
        smp_trampoline_pa = early_alloc(PAGE_SIZE, PAGE_SIZE, 0x100000, "ap trampoline");

    /* Two pages used "before the heap existed", for the uninitialised-free
     * and mark-inuse self-tests. */
    for (unsigned i = 0; i < 2; i++) {
        paddr_t p = early_alloc(PAGE_SIZE, PAGE_SIZE, 4ull << 30, "selftest early page");
        heap_early_test_pfn[i] = p ? PFN_DOWN(p) : 0;
    }
}

/*
 * The P2M and the scratch pool over the fresh frame table: release what
 * boot_trim_reserve() set aside (extra memory is RELEASED already: see
 * heap_init()), and give the pool its space (dom0: UNUSABLE extra memory;
 * domU: released RAM).
 */
/*
 * The P2M's and the scratch pool's frame-table calls, each made with every
 * heap lock held (pas_lock_all(), docs/allocator.md "Concurrency"): a
 * range operation sees no cache half-way through a change, and no CPU's
 * allocation sees the range half-changed. The P2M's and the pool's own
 * locks, where they have them, come first in the lock order.
 */
static struct p2m_frame_ops p2m_fops_raw;
static struct scratch_frame_ops scratch_ops_raw;

#define LOCKED(expr) ({ __typeof__(expr) rc_; pas_lock_all(&heap_smp); rc_ = (expr); \
                        pas_unlock_all(&heap_smp); rc_; })

static int lk_release(void *ft, uint64_t pfn, uint64_t n)
{
    return LOCKED(p2m_fops_raw.release(ft, pfn, n));
}

static int lk_check_release(void *ft, uint64_t pfn, uint64_t n)
{
    return LOCKED(p2m_fops_raw.check_release(ft, pfn, n));
}

static int lk_populate(void *ft, uint64_t pfn, uint64_t n)
{
    return LOCKED(p2m_fops_raw.populate(ft, pfn, n));
}

static uint64_t lk_alloc(void *ft, unsigned int order)
{
    return LOCKED(p2m_fops_raw.alloc(ft, order));
}

static int lk_free(void *ft, uint64_t pfn, unsigned int order)
{
    return LOCKED(p2m_fops_raw.free(ft, pfn, order));
}

static bool lk_is_released(void *ft, uint64_t pfn)
{
    return LOCKED(p2m_fops_raw.is_released(ft, pfn));
}

static enum scratch_fstate lk_state(void *ft, uint64_t pfn)
{
    return LOCKED(scratch_ops_raw.state(ft, pfn));
}

static int lk_claim(void *ft, uint64_t pfn, uint64_t n)
{
    return LOCKED(scratch_ops_raw.claim(ft, pfn, n));
}

static int lk_unclaim(void *ft, uint64_t pfn, uint64_t n)
{
    return LOCKED(scratch_ops_raw.unclaim(ft, pfn, n));
}

static void p2m_boot(paddr_t domu_scratch, uint64_t domu_scratch_pages)
{
    struct p2m_frame_ops fops;
    struct scratch_frame_ops sops;
    struct p2m_result res;
    int rc;

    p2m_pa_frame_ops(&p2m_fops_raw, &heap);
    fops = (struct p2m_frame_ops){ lk_release, p2m_fops_raw.check_release ? lk_check_release : NULL,
                                   lk_populate, lk_alloc, lk_free, lk_is_released, &heap };
    p2m_init(&p2m, &p2m_xen_ops, &fops, 0);
    rc = p2m_boot_trim(&p2m, ram, nr_ram, boot_target, &res);
    p2m_print_result("boot trim", rc, &res);
    if (rc)
        panic("p2m: boot trim to %llu pages failed (%d)", (unsigned long long)boot_target, rc);
    p2m_set_ranges(&p2m, ram, nr_ram, &extra_mem);
    p2m_ready = true;

    scratch_pa_ops(&scratch_ops_raw, &heap);
    sops = (struct scratch_frame_ops){ lk_state, lk_claim, lk_unclaim, &heap };
    scratch_init(&scratch, &extra_mem, &sops);
    if (domu_scratch_pages) {
        pfn_t s = PFN_DOWN(domu_scratch);
        uint64_t bad = 0;

        rc = p2m_release(&p2m, s, domu_scratch_pages, 0, &res);
        if (rc) {
            p2m_print_result("release RAM for the scratch pool", rc, &res);
            panic("p2m: cannot release RAM for the scratch pool (%d)", rc);
        }
        rc = scratch_register(&scratch, s, domu_scratch_pages, SCRATCH_FROM_RELEASED_RAM, &bad);
        if (rc)
            panic("scratch: cannot register released RAM 0x%llx+%llu: %d (frame 0x%llx)",
                  (unsigned long long)s, (unsigned long long)domu_scratch_pages, rc,
                  (unsigned long long)bad);
        scratch_source = "released RAM (no UNUSABLE range in the map)";
    } else if (extra_mem.nr_regions) {
        scratch_source = "E820 UNUSABLE ranges (extra memory)";
    }
    scratch_ready = extra_mem.nr_regions > 0;
    /* Nothing is handed out yet: the pool is all of extra memory (and not
     * scratch_available(), which walks every frame). */
    printk("pvhk: scratch pool: %llu frames from %s\n",
           (unsigned long long)extra_mem.nr_pfns, scratch_source);
}

/*
 * Hand every frame memblock recorded to the heap, as blocks reserved by
 * the reservation (owner i + 1 for reservation i), then close memblock.
 * Frames the P2M already took (released above the boot target, the domU
 * scratch pool) are RELEASED or SCRATCH and stay so; frames outside the
 * heap (non-RAM) are not the heap's. Two stay UNINITIALISED: frame 0,
 * which never enters the heap, and heap_early_test_pfn[0], the page the
 * self-test of the uninitialised-free path frees (docs/allocator.md).
 */
static void hand_over_reservations(void)
{
    static uint8_t st[4096];
    const struct memblock_region *r;
    uint64_t frames = 0;

    for (uint32_t i = 0; (r = memblock_reserved_region(&memblock, i)); i++) {
        pfn_t p = PFN_DOWN(r->base), end = PFN_DOWN(r->base + r->size);

        while (p < end) {
            uint64_t n = MIN(end - p, ARRAY_SIZE(st)), j = 0;

            pa_states(&heap, p, n, st);
            while (j < n) {
                uint64_t a = j;
                int rc;

                while (j < n && st[j] == PA_UNINITIALISED && p + j != 0 &&
                       p + j != heap_early_test_pfn[0])
                    j++;
                if (j == a) {
                    j++;
                    continue;
                }
                rc = pa_reserve(&heap, p + a, j - a, i + 1);
                if (rc)
                    panic("heap: cannot hand %s 0x%llx+0x%llx pages over: %s (frame 0x%llx)",
                          r->label, (unsigned long long)(p + a), (unsigned long long)(j - a),
                          pa_strerror(rc), (unsigned long long)heap.err_frame);
                frames += j - a;
            }
            p += n;
        }
    }
    memblock_close(&memblock);
    printk("pvhk: heap: %llu boot frames handed over as reserved; memblock closed\n",
           (unsigned long long)frames);
}

const char *heap_owner_label(unsigned owner)
{
    const struct memblock_region *r = owner ? memblock_reserved_region(&memblock, owner - 1)
                                            : NULL;

    return owner == 0 ? "heap" : r ? r->label : "?";
}

void heap_init(void)
{
    uint64_t t0 = rdtsc(), frames = ram_pages;
    paddr_t domu_scratch = 0;
    uint64_t domu_scratch_pages = 0;

    collect_extra_mem();
    frames += extra_mem.nr_pfns;
    /* No UNUSABLE space (an xl domU): the pool is made of RAM released to
     * Xen. Set it aside now so nothing else is placed there. */
    if (on_xen() && !extra_mem.nr_regions) {
        domu_scratch_pages = cmdline_u64(boot_cmdline, "scratch_pages", 512);
        domu_scratch = domu_scratch_pages ?
            early_alloc(PFN_PHYS(domu_scratch_pages), 2ull << 20, MEMBLOCK_ALLOC_ANYWHERE,
                        "scratch pool (released RAM)") : 0;
        if (domu_scratch_pages && !domu_scratch)
            panic("scratch: no room for %llu pages of released RAM",
                  (unsigned long long)domu_scratch_pages);
    }

    size_t bytes = pa_table_bytes(frames);
    paddr_t tbl = early_alloc(ALIGN_UP(bytes, PAGE_SIZE), PAGE_SIZE, MEMBLOCK_ALLOC_ANYWHERE,
                              "frame table");
    if (!tbl)
        panic("heap: no room for the frame table (%llu bytes for %llu frames)",
              (unsigned long long)bytes, (unsigned long long)frames);
    /* Not zeroed here: page_alloc zeroes the table chunk by chunk when it
     * first touches one, which keeps boot cost independent of RAM size. */
    pa_setup(&heap, (struct pa_frame *)(uintptr_t)tbl, frames, 0);
    pas_init(&heap_smp, &heap, PA_MAX_CPUS);

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
    /* Extra memory was never backed: its frames start RELEASED, in O(1)
     * per range (no chunk of it is touched until something uses it). */
    for (unsigned i = 0; i < extra_mem.nr_regions; i++) {
        const struct extra_mem_region *r = &extra_mem.region[i];
        int rc = pa_add_range_unbacked(&heap, r->start_pfn, r->nr_pfns);
        if (rc)
            panic("heap: cannot add extra memory 0x%llx+0x%llx pages: %s",
                  (unsigned long long)r->start_pfn, (unsigned long long)r->nr_pfns,
                  pa_strerror(rc));
    }
    if (on_xen())
        p2m_boot(domu_scratch, domu_scratch_pages);
    hand_over_reservations();

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
        if (!rc && n > now) {
            rc = pa_defer(&heap, s + now, n - now);
            if (!rc) {
                heap_boot_deferred += n - now;
                if (!heap_first_deferred)
                    heap_first_deferred = s + now;
            }
        }
        heap_boot_eager += now;
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

uint64_t heap_high_free_frames(void)
{
    static uint8_t st[4096];
    uint64_t n = 0;

    for (uint32_t i = 0; i < e820.nr; i++) {
        const struct e820_entry *e = &e820.entries[i];
        pfn_t p = MAX(PFN_DOWN(e->addr), PA_LOW_LIMIT), end = PFN_DOWN(e->addr) + e820_pages(e);

        for (; e->type == E820_RAM && p < end; p += MIN(end - p, ARRAY_SIZE(st))) {
            uint64_t c = MIN(end - p, ARRAY_SIZE(st));

            pa_states(&heap, p, c, st);
            for (uint64_t j = 0; j < c; j++)
                n += st[j] == PA_FREE;
        }
    }
    return n;
}

void heap_print(const char *when)
{
    printk("pvhk: heap (%s):", when);
    for (unsigned s = 0; s < PA_NR_STATES; s++)
        if (pa_nr_frames(&heap, s))
            printk(" %s %llu", pa_state_name(s), (unsigned long long)pa_nr_frames(&heap, s));
    printk("\n");
}

/*
 * The heap from every CPU (mm/page_smp.c, docs/allocator.md "Concurrency"):
 * a CPU's allocations and frees of small orders go through its own cache
 * under its own lock; the rest takes the heap lock, or every lock.
 */
void *alloc_pages(unsigned order, unsigned flags)
{
    pfn_t f = pas_alloc(&heap_smp, smp_processor_id(), order, flags, NULL);

    return f == PA_NO_FRAME ? NULL : (void *)(uintptr_t)PFN_PHYS(f);
}

void free_pages(void *va, unsigned order)
{
    pfn_t err = PA_NO_FRAME;
    int rc = pas_free(&heap_smp, smp_processor_id(), PFN_DOWN((uintptr_t)va), order, &err, NULL);

    if (rc)
        panic("free_pages(%p, order %u): %s (frame 0x%llx)", va, order, pa_strerror(rc),
              (unsigned long long)err);
}
