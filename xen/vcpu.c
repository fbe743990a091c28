/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vCPUs: how many the domain has, and starting one (docs/smp.md).
 *
 * The count is Xen's own answer: VCPUOP_is_up on vCPU ids 0, 1, 2, ...
 * returns 0 or 1 for every vCPU the domain has and -ENOENT for the first id
 * past them (do_vcpu_op(): domain_vcpu() finds no vCPU), whatever state the
 * vCPUs are in. The MADT Xen builds for a PVH guest says the same, but it
 * is a description the toolstack or the dom0 builder wrote for the guest's
 * benefit; the hypercall is the hypervisor itself.
 *
 * A vCPU starts with VCPUOP_initialise, given a struct vcpu_hvm_context
 * (xen/include/public/hvm/hvm_vcpu.h) in VCPU_HVM_MODE_64B: Xen puts it
 * straight into long mode with our CR0/CR3/CR4/EFER, flat 64-bit segments
 * (selector 0, cached attributes only), RIP, RSP and the other general
 * registers as given; RFLAGS with only bit 1 keeps interrupts off. Then
 * VCPUOP_up lets it run. Xen checks the control registers as it would a
 * guest's MOV to them (arch_set_info_hvm_guest() in xen/arch/x86/hvm/domain.c).
 */
#include <pvhk/arch.h>
#include <pvhk/hypercall.h>
#include <pvhk/vcpu.h>
#include <xen/errno.h>
#include <xen/vcpu.h>
#include <xen/hvm/hvm_vcpu.h>

int xen_vcpu_count(unsigned limit)
{
    for (unsigned id = 0; id < limit; id++) {
        long rc = xen_vcpu_op(VCPUOP_is_up, id, NULL);
        if (rc == -XEN_ENOENT)
            return (int)id;
        if (rc < 0)
            return (int)rc;
    }
    return (int)limit;
}

int xen_vcpu_is_up(unsigned vcpu)
{
    return (int)xen_vcpu_op(VCPUOP_is_up, vcpu, NULL);
}

int xen_vcpu_start(unsigned vcpu, uint64_t rip, uint64_t rsp, uint64_t rdi)
{
    struct vcpu_hvm_context ctx = {
        .mode = VCPU_HVM_MODE_64B,
        .cpu_regs.x86_64 = {
            .rip = rip,
            .rsp = rsp,
            .rdi = rdi,
            .rflags = 2,                    /* IF clear */
            .cr0 = read_cr0(),
            .cr3 = read_cr3(),
            .cr4 = read_cr4(),
            .efer = rdmsr(MSR_EFER),
        },
    };
    long rc = xen_vcpu_op(VCPUOP_initialise, vcpu, &ctx);

    if (rc)
        return (int)rc;
    return (int)xen_vcpu_op(VCPUOP_up, vcpu, NULL);
}

int xen_vcpu_down(unsigned vcpu)
{
    return (int)xen_vcpu_op(VCPUOP_down, vcpu, NULL);
}

int xen_vcpu_up(unsigned vcpu)
{
    return (int)xen_vcpu_op(VCPUOP_up, vcpu, NULL);
}
