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

#endif
