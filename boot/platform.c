/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What pvhk runs on, decided once at boot from two facts: Xen's CPUID
 * leaves (found by xen_detect_cpuid()) and the SIF_INITDOMAIN flag of a
 * start_info that start_info_read() accepted. Pure: host-tested.
 */
#include <pvhk/boot.h>
#include <pvhk/platform.h>
#include <xen/xen.h>

enum platform platform_choose(uint32_t xen_cpuid_base, const struct boot_info *bi)
{
    if (!xen_cpuid_base)
        return PLATFORM_BARE;
    /* The flags of a start_info that was refused are not read: such a boot
     * ends in a panic, reported on the domU console (port 0xE9), which
     * Xen's dom0 has too. */
    if (bi->header_ok && (bi->flags & SIF_INITDOMAIN))
        return PLATFORM_XEN_DOM0;
    return PLATFORM_XEN_DOMU;
}

const char *platform_name(enum platform p)
{
    switch (p) {
    case PLATFORM_BARE:     return "bare";
    case PLATFORM_XEN_DOM0: return "dom0";
    case PLATFORM_XEN_DOMU: return "domU";
    }
    return "?";
}
