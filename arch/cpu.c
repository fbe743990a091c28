/* SPDX-License-Identifier: BSD-2-Clause */
/* CPU identification: vendor (picks VMCALL vs VMMCALL) and paging features. */
#include <pvhk/arch.h>

enum cpu_vendor cpu_vendor;
bool cpu_has_nx, cpu_has_1g_pages;

void cpu_init(void)
{
    struct cpuid_regs r = cpuid(0);

    /* "GenuineIntel" / "AuthenticAMD" (also "HygonGenuine": AMD-compatible). */
    if (r.ebx == 0x756e6547 && r.edx == 0x49656e69 && r.ecx == 0x6c65746e)
        cpu_vendor = CPU_VENDOR_INTEL;
    else if ((r.ebx == 0x68747541 && r.edx == 0x69746e65 && r.ecx == 0x444d4163) ||
             (r.ebx == 0x6f677948 && r.edx == 0x6e65476e && r.ecx == 0x656e6975))
        cpu_vendor = CPU_VENDOR_AMD;
    else
        cpu_vendor = CPU_VENDOR_OTHER;

    r = cpuid(0x80000000);
    if (r.eax >= 0x80000001) {
        struct cpuid_regs e = cpuid(0x80000001);
        /* head.S enabled EFER.NXE under the same condition. */
        cpu_has_nx = (e.edx >> 20) & 1;
        cpu_has_1g_pages = (e.edx >> 26) & 1;
    }
}
