/* SPDX-License-Identifier: BSD-2-Clause */
/* Hypercall instruction choice and Xen detection. */
#include <pvhk/arch.h>
#include <pvhk/hypercall.h>
#include <pvhk/platform.h>

bool hypercall_use_vmmcall;
enum platform platform;
uint32_t xen_cpuid_base;

void hypercall_init(void)
{
    /* AMD SVM traps VMMCALL; Intel VMX traps VMCALL. The other one is #UD. */
    hypercall_use_vmmcall = cpu_vendor == CPU_VENDOR_AMD;
}

/*
 * Xen's leaves sit at 0x40000000 or, when Xen offers Viridian (Hyper-V)
 * leaves first, 0x100 further on; scan the conventional range. The
 * hypervisor-present bit alone cannot tell Xen from plain QEMU/KVM.
 */
uint32_t xen_detect_cpuid(void)
{
    for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
        struct cpuid_regs r = cpuid(base);
        if (r.ebx == 0x566e6558 && r.ecx == 0x65584d4d && r.edx == 0x4d4d566e &&
            r.eax >= base + 2)
            return base;
    }
    return 0;
}
