/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel's page tables: an identity map of guest-physical space with
 * large pages and NX, except the kernel image, mapped with 4 KiB pages so
 * text is RX, rodata R and data/bss RW+NX (W^X); page 0 and the page under
 * the boot stack are left unmapped.
 */
#ifndef PVHK_PAGING_H
#define PVHK_PAGING_H

#include <pvhk/types.h>

#define PTE_P       (1ull << 0)
#define PTE_W       (1ull << 1)
#define PTE_PS      (1ull << 7)
#define PTE_NX      (1ull << 63)
#define PTE_ADDR    0x000ffffffffff000ull

/* Build and load the final tables covering [0, map_end). */
void paging_init(uint64_t map_end);
/* The leaf entry mapping va (0 if unmapped) and its size (4K/2M/1G). */
uint64_t paging_lookup(uint64_t va, uint64_t *page_size);
/* Highest address the identity map covers. */
extern uint64_t paging_map_end;

/*
 * The mapped-on-demand region, 4 KiB pages: one PML4 slot (512 GiB) above
 * anything the identity map can reach (64 TiB), still in the lower half so
 * backtraces walk it. The secondary CPUs' stacks live here, each over an
 * unmapped guard page (VMAP_STACKS), and the self-tests map pages at
 * VMAP_TEST.
 */
#define VMAP_BASE       0x00007f0000000000ull
#define VMAP_END        (VMAP_BASE + (1ull << 39))
#define VMAP_STACKS     VMAP_BASE
#define VMAP_TEST       (VMAP_BASE + (1ull << 30))

/*
 * Map va -> pa (PTE_W and PTE_NX from flags) or unmap va, in the 4 KiB
 * tables of the VMAP region (tables made on demand from paging's pool).
 * Neither flushes a TLB: the caller does (invlpg, or tlb_shootdown() once
 * other CPUs may hold the old translation). map: 0, or -1 for an address
 * outside the region or unaligned, or a full pool (which panics).
 */
int paging_map_4k(uint64_t va, uint64_t pa, uint64_t flags);
void paging_unmap_4k(uint64_t va);
/* New permissions (PTE_W, PTE_NX) for a page already mapped with a 4 KiB
 * entry anywhere (the low pages of the identity map are): 0, or -1 if va
 * has no 4 KiB entry. No TLB flush. */
int paging_set_4k(uint64_t va, uint64_t flags);

#endif
