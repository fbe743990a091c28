/* SPDX-License-Identifier: BSD-2-Clause */
/* The ACPI MADT's processors (include/pvhk/madt.h). Pure. */
#include <pvhk/madt.h>
#include <pvhk/string.h>

#define HDR_LEN     44      /* SDT header (36) + local APIC address + flags */

bool acpi_checksum_ok(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;

    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + b[i]);
    return sum == 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void add(struct madt_cpus *out, uint32_t id)
{
    for (unsigned i = 0; i < out->n; i++)
        if (out->apic_id[i] == id)
            return;
    out->listed++;
    if (out->n < MADT_MAX_CPUS)
        out->apic_id[out->n++] = id;
}

int madt_parse(const void *table, size_t len, struct madt_cpus *out)
{
    const uint8_t *t = table;

    memset(out, 0, sizeof(*out));
    if (len < HDR_LEN)
        return MADT_ESHORT;
    if (memcmp(t, "APIC", 4))
        return MADT_ESIG;
    uint32_t tlen = le32(t + 4);
    if (tlen < HDR_LEN || tlen > len)
        return MADT_ESHORT;
    if (!acpi_checksum_ok(t, tlen))
        return MADT_ESUM;
    out->lapic_addr = le32(t + 36);
    for (uint32_t off = HDR_LEN; off < tlen;) {
        if (tlen - off < 2 || t[off + 1] < 2 || t[off + 1] > tlen - off)
            return MADT_EENTRY;
        const uint8_t *e = t + off;
        uint8_t type = e[0], elen = e[1];

        if (type == 0 && elen >= 8) {               /* processor local APIC */
            if (le32(e + 4) & 1)
                add(out, e[3]);
            else
                out->disabled += !(le32(e + 4) & 2);
        } else if (type == 9 && elen >= 16) {       /* processor local x2APIC */
            if (le32(e + 8) & 1)
                add(out, le32(e + 4));
            else
                out->disabled += !(le32(e + 8) & 2);
        }
        off += elen;
    }
    return MADT_OK;
}

const char *madt_strerror(int err)
{
    switch (err) {
    case MADT_OK: return "ok";
    case MADT_ESHORT: return "table shorter than its header or its length field";
    case MADT_ESIG: return "signature is not APIC";
    case MADT_ESUM: return "checksum does not sum to 0";
    case MADT_EENTRY: return "an entry's length is 0 or runs past the table";
    }
    return "unknown error";
}
