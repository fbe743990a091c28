/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Extra memory: guest-physical ranges that are not backed by Xen at boot
 * but that the guest may have Xen back (balloon up) or map things into
 * (the scratch pool, include/pvhk/scratch.h).
 *
 * On a PVH dom0 these are the E820 UNUSABLE ranges: the host RAM that
 * dom0_mem withholds is reported as UNUSABLE, and populating there cannot
 * collide with a device (unlike a hole, which may be a PCI BAR window).
 * On an xl domU there is no UNUSABLE range; the kernel releases RAM frames
 * to Xen and registers them here with origin EXTRA_MEM_RELEASED_RAM.
 *
 * The table is a fixed array of regions kept sorted by start and never
 * overlapping. A range adjacent to a region of the same origin extends
 * it, so a whole map usually needs only a handful of slots. A full table
 * is reported as an error, never silently ignored.
 *
 * Building from the map (extra_mem_from_ranges) does not rewrite the map:
 * pvhk's frame table already covers UNUSABLE frames, so unlike Linux (which
 * turns them into RAM plus a memblock reservation) the e820 map keeps
 * saying UNUSABLE, and this table says which of those frames the kernel
 * may use. A range only partly needed is split: its low part is
 * registered, its high part stays plain, unused UNUSABLE.
 */
#ifndef PVHK_EXTRA_MEM_H
#define PVHK_EXTRA_MEM_H

#include <pvhk/types.h>
#include <xen/errno.h>          /* XEN_E*: pvhk returns -XEN_Exxx codes */

#define EXTRA_MEM_MAX_REGIONS       128
/* Extra memory is capped at this many times the RAM pages (cmdline option). */
#define EXTRA_MEM_RATIO_DEFAULT     10

enum extra_mem_origin {
    EXTRA_MEM_UNUSABLE      = 0,    /* an E820 UNUSABLE range, never backed */
    EXTRA_MEM_RELEASED_RAM  = 1,    /* RAM the kernel released to Xen */
};

struct extra_mem_region {
    uint64_t start_pfn;
    uint64_t nr_pfns;
    uint32_t origin;                /* enum extra_mem_origin */
};

struct extra_mem {
    struct extra_mem_region region[EXTRA_MEM_MAX_REGIONS];
    unsigned int nr_regions;
    uint64_t nr_pfns;               /* sum over regions */
};

/* A page range of some map type: the input of extra_mem_from_ranges(). */
struct extra_mem_range {
    uint64_t start_pfn;
    uint64_t nr_pfns;
    uint32_t type;                  /* E820 type: RAM = 1, UNUSABLE = 5 */
};

#define EXTRA_MEM_E820_RAM      1
#define EXTRA_MEM_E820_UNUSABLE 5

/* What extra_mem_from_ranges() did, for the boot log. */
struct extra_mem_report {
    uint64_t ram_pfns;              /* RAM pages in the map */
    uint64_t limit_pfns;            /* ratio x RAM (saturating) */
    uint64_t unusable_pfns;         /* UNUSABLE pages in the map */
    uint64_t registered_pfns;       /* pages added to the table */
    uint64_t over_limit_pfns;       /* UNUSABLE pages left out by the ratio */
    uint64_t dropped_pfns;          /* left out because the table was full */
    unsigned int split;             /* ranges registered only in part */
};

void extra_mem_init(struct extra_mem *em);

/*
 * Register [start, start + nr). Returns 0, or:
 *   -XEN_EINVAL  nr == 0, the range wraps, or origin is unknown;
 *   -XEN_EEXIST  it overlaps a registered region (nothing changes);
 *   -XEN_ENOSPC  it would need a new slot and the table is full.
 */
int extra_mem_add(struct extra_mem *em, uint64_t start_pfn, uint64_t nr_pfns,
                  enum extra_mem_origin origin);

/* The region containing pfn, or NULL. O(log n). */
const struct extra_mem_region *extra_mem_find(const struct extra_mem *em,
                                              uint64_t pfn);

/* True if [start, start + nr) lies inside a single registered region. */
bool extra_mem_contains(const struct extra_mem *em, uint64_t start_pfn,
                        uint64_t nr_pfns);

/*
 * Register the UNUSABLE ranges of a sorted, disjoint map (RAM counted from
 * the same map) up to ratio x RAM pages, in address order; the range that
 * crosses the limit is split. A full table stops registration: the rest is
 * counted in rep->dropped_pfns and -XEN_ENOSPC is returned (what was
 * registered stays). Returns 0 otherwise; -XEN_EINVAL for an unsorted map.
 */
int extra_mem_from_ranges(struct extra_mem *em,
                          const struct extra_mem_range *map, unsigned int nr,
                          unsigned int ratio, struct extra_mem_report *rep);

#endif
