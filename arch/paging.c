/* SPDX-License-Identifier: BSD-2-Clause */
/* Final page tables; see include/pvhk/paging.h. */
#include <pvhk/arch.h>
#include <pvhk/boot.h>
#include <pvhk/paging.h>
#include <pvhk/printk.h>
#include <pvhk/spinlock.h>
#include <pvhk/string.h>

#define GIB     (1ull << 30)
#define MIB2    (1ull << 21)

/* Page-table pages come from here: the heap does not exist yet. 96 pages
 * cover 64 GiB with 2 MiB pages, or 512 GiB per PDPT with 1 GiB pages. */
#define PT_POOL_PAGES 96
static uint64_t pt_pool[PT_POOL_PAGES][512] __aligned(4096);
static unsigned pt_used;
static uint64_t *pml4;
uint64_t paging_map_end;

/* Mappings made after boot (paging_map_4k) take pages from the pool under it. */
static spinlock_t pt_lock = SPINLOCK_INIT("page tables");

static uint64_t *pt_alloc(void)
{
    if (pt_used == PT_POOL_PAGES)
        panic("paging: page-table pool (%u pages) exhausted; map_end 0x%llx too large",
              PT_POOL_PAGES, (unsigned long long)paging_map_end);
    uint64_t *p = pt_pool[pt_used++];
    memset(p, 0, 4096);
    return p;
}

static uint64_t nx(void) { return cpu_has_nx ? PTE_NX : 0; }

/* Attributes of one 4 KiB page of the low region that holds the image. */
static uint64_t attrs_4k(uint64_t pa)
{
    uint64_t a = (uint64_t)pa;

    if (a == 0 || a == (uint64_t)boot_stack_guard)
        return 0;                                   /* not present */
    if (a >= (uint64_t)__text_start && a < (uint64_t)__text_end)
        return PTE_P;                               /* RX */
    if (a >= (uint64_t)__rodata_start && a < (uint64_t)__rodata_end)
        return PTE_P | nx();                        /* R */
    return PTE_P | PTE_W | nx();                    /* RW, NX */
}

static uint64_t *next_level(uint64_t *table, unsigned idx)
{
    if (!(table[idx] & PTE_P))
        table[idx] = (uint64_t)pt_alloc() | PTE_P | PTE_W;
    return (uint64_t *)(table[idx] & PTE_ADDR);
}

void paging_init(uint64_t map_end)
{
    uint64_t img_end = ALIGN_UP((uint64_t)__image_end, MIB2);

    map_end = ALIGN_UP(map_end, GIB);
    if (map_end > (1ull << 46))
        panic("paging: map end 0x%llx beyond what pvhk maps (64 TiB)",
              (unsigned long long)map_end);
    paging_map_end = map_end;
    pml4 = pt_alloc();

    for (uint64_t g = 0; g < map_end; g += GIB) {
        uint64_t *pdpt = next_level(pml4, (g >> 39) & 511);
        unsigned gi = (g >> 30) & 511;

        if (g >= img_end && cpu_has_1g_pages) {
            pdpt[gi] = g | PTE_P | PTE_W | PTE_PS | nx();
            continue;
        }
        uint64_t *pd = next_level(pdpt, gi);
        for (uint64_t m = g; m < g + GIB; m += MIB2) {
            unsigned mi = (m >> 21) & 511;
            if (m >= img_end) {
                pd[mi] = m | PTE_P | PTE_W | PTE_PS | nx();
                continue;
            }
            uint64_t *pt = next_level(pd, mi);
            for (uint64_t p = m; p < m + MIB2; p += PAGE_SIZE) {
                uint64_t a = attrs_4k(p);
                pt[(p >> 12) & 511] = a ? p | a : 0;
            }
        }
    }
    write_cr3((uint64_t)pml4);
}

uint64_t paging_lookup(uint64_t va, uint64_t *page_size)
{
    uint64_t *t = pml4;
    static const unsigned shifts[] = { 39, 30, 21, 12 };

    for (unsigned l = 0; l < 4; l++) {
        uint64_t e = t[(va >> shifts[l]) & 511];
        if (!(e & PTE_P))
            return 0;
        if (l == 3 || (l > 0 && (e & PTE_PS))) {
            if (page_size)
                *page_size = 1ull << shifts[l];
            return e;
        }
        t = (uint64_t *)(e & PTE_ADDR);
    }
    return 0;
}

/* The leaf slot for va in the 4 KiB tables, made on the way when create. */
static uint64_t *pte_slot(uint64_t va, bool create)
{
    uint64_t *t = pml4;
    static const unsigned shifts[] = { 39, 30, 21 };

    for (unsigned l = 0; l < 3; l++) {
        uint64_t *e = &t[(va >> shifts[l]) & 511];
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            *e = (uint64_t)pt_alloc() | PTE_P | PTE_W;
        }
        if (*e & PTE_PS)
            return NULL;
        t = (uint64_t *)(*e & PTE_ADDR);
    }
    return &t[(va >> 12) & 511];
}

int paging_map_4k(uint64_t va, uint64_t pa, uint64_t flags)
{
    if (va < VMAP_BASE || va >= VMAP_END || (va | pa) & (PAGE_SIZE - 1))
        return -1;
    unsigned long f = spin_lock_irqsave(&pt_lock);
    uint64_t *pte = pte_slot(va, true);
    if (pte)
        __atomic_store_n(pte, pa | PTE_P | (flags & PTE_W) |
                         (cpu_has_nx ? flags & PTE_NX : 0), __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&pt_lock, f);
    return pte ? 0 : -1;
}

void paging_unmap_4k(uint64_t va)
{
    unsigned long f = spin_lock_irqsave(&pt_lock);
    uint64_t *pte = va >= VMAP_BASE && va < VMAP_END ? pte_slot(va, false) : NULL;
    if (pte)
        __atomic_store_n(pte, 0, __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&pt_lock, f);
}

int paging_set_4k(uint64_t va, uint64_t flags)
{
    unsigned long f = spin_lock_irqsave(&pt_lock);
    uint64_t *pte = pte_slot(va, false);
    if (pte && (*pte & PTE_P))
        __atomic_store_n(pte, (*pte & PTE_ADDR) | PTE_P | (flags & PTE_W) |
                         (cpu_has_nx ? flags & PTE_NX : 0), __ATOMIC_RELEASE);
    spin_unlock_irqrestore(&pt_lock, f);
    return pte && (*pte & PTE_P) ? 0 : -1;
}
