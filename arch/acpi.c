/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Finding an ACPI table from the RSDP that start_info names (QEMU's PVH
 * loader, Xen's dom0 builder and libxl all fill in rsdp_paddr). Tables are
 * read through the identity map; only their checksums are trusted.
 */
#include <pvhk/acpi.h>
#include <pvhk/boot.h>
#include <pvhk/madt.h>
#include <pvhk/paging.h>
#include <pvhk/string.h>

const char *acpi_error;

static const void *phys(uint64_t pa, uint64_t len)
{
    if (!pa || pa + len < pa || pa + len > paging_map_end)
        return NULL;
    return (const void *)(uintptr_t)pa;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

const void *acpi_find_table(const char sig[4], uint32_t *len)
{
    const uint8_t *rsdp = phys(boot_info.rsdp_paddr, 36);

    if (!rsdp)
        return acpi_error = "no RSDP in start_info", NULL;
    if (memcmp(rsdp, "RSD PTR ", 8) || !acpi_checksum_ok(rsdp, 20))
        return acpi_error = "RSDP signature or checksum bad", NULL;
    /* Revision 2+: the XSDT (64-bit entries), else the RSDT. */
    bool x = rsdp[15] >= 2 && rd64(rsdp + 24);
    uint64_t root_pa = x ? rd64(rsdp + 24) : rd32(rsdp + 16);
    const uint8_t *root = phys(root_pa, 36);
    if (!root || !phys(root_pa, rd32(root + 4)) || rd32(root + 4) < 36 ||
        !acpi_checksum_ok(root, rd32(root + 4)))
        return acpi_error = "RSDT/XSDT unreadable or checksum bad", NULL;
    unsigned esz = x ? 8 : 4, n = (rd32(root + 4) - 36) / esz;
    for (unsigned i = 0; i < n; i++) {
        uint64_t pa = x ? rd64(root + 36 + i * 8) : rd32(root + 36 + i * 4);
        const uint8_t *t = phys(pa, 36);
        if (t && !memcmp(t, sig, 4) && phys(pa, rd32(t + 4))) {
            *len = rd32(t + 4);
            return t;
        }
    }
    return acpi_error = "table not listed", NULL;
}
