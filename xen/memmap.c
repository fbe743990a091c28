/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The memory map for guests whose start_info has none (v0: PVH dom0 always).
 * XENMEM_memory_map copies at most nr_entries and reports how many it copied
 * without saying whether more existed, so a full buffer may be a truncated
 * map: ask again with the whole buffer, and fail clearly if that fills too.
 */
#include <pvhk/boot.h>
#include <pvhk/hypercall.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <xen/memory.h>

struct e820_raw { uint64_t addr, size; uint32_t type; } __packed;
static struct e820_raw xen_map_buf[BOOT_MEMMAP_MAX];

int boot_memmap_fetch(void)
{
    struct boot_info *bi = &boot_info;
    static const unsigned tries[] = { 128, BOOT_MEMMAP_MAX };

    if (bi->nr_memmap)
        return 0;               /* start_info v1 gave one */
    if (!on_xen()) {
        bi->memmap_source = "none";
        return -1;
    }
    for (unsigned t = 0; t < ARRAY_SIZE(tries); t++) {
        struct xen_memory_map mm = { .nr_entries = tries[t] };
        set_xen_guest_handle(mm.buffer, xen_map_buf);
        long rc = xen_memory_op(XENMEM_memory_map, &mm);
        if (rc) {
            printk("pvhk: XENMEM_memory_map failed: %ld\n", rc);
            bi->memmap_source = "none";
            return (int)rc;
        }
        if (mm.nr_entries < tries[t]) {
            for (unsigned i = 0; i < mm.nr_entries; i++)
                bi->memmap[i] = (struct boot_mem_entry){
                    xen_map_buf[i].addr, xen_map_buf[i].size, xen_map_buf[i].type };
            bi->nr_memmap = mm.nr_entries;
            bi->memmap_source = "XENMEM_memory_map";
            return 0;
        }
    }
    panic("XENMEM_memory_map: %u entries filled the whole buffer: the map may be "
          "truncated", BOOT_MEMMAP_MAX);
}
