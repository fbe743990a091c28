/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Xen hypercalls, issued directly with VMCALL (Intel) or VMMCALL (AMD): since
 * XSA-466 a guest need not map the hypercall page, and Linux stopped using
 * it. 64-bit ABI: op in %rax, arguments in %rdi %rsi %rdx %r10 %r8, result
 * in %rax. Debug builds of Xen clobber the argument registers, so they are
 * all marked as outputs.
 */
#ifndef PVHK_HYPERCALL_H
#define PVHK_HYPERCALL_H

#include <pvhk/types.h>
#include <xen/xen.h>

extern bool hypercall_use_vmmcall;
void hypercall_init(void);

static inline long hypercall5(unsigned op, uint64_t a1, uint64_t a2, uint64_t a3,
                              uint64_t a4, uint64_t a5)
{
    long ret;
    register uint64_t r10 __asm__("r10") = a4;
    register uint64_t r8 __asm__("r8") = a5;

    if (hypercall_use_vmmcall)
        __asm__ volatile("vmmcall"
                         : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                         : "0"((uint64_t)op) : "memory");
    else
        __asm__ volatile("vmcall"
                         : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                         : "0"((uint64_t)op) : "memory");
    return ret;
}

#define hypercall1(op, a)          hypercall5(op, (uint64_t)(a), 0, 0, 0, 0)
#define hypercall2(op, a, b)       hypercall5(op, (uint64_t)(a), (uint64_t)(b), 0, 0, 0)
#define hypercall3(op, a, b, c)    hypercall5(op, (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), 0, 0)

/* Typed wrappers. Pointers are guest-virtual: pvhk is identity mapped. */
static inline long xen_console_io(int cmd, int count, const char *buf)
{ return hypercall3(__HYPERVISOR_console_io, cmd, count, buf); }

static inline long xen_sched_op(int cmd, void *arg)
{ return hypercall2(__HYPERVISOR_sched_op, cmd, arg); }

static inline long xen_memory_op(unsigned cmd, void *arg)
{ return hypercall2(__HYPERVISOR_memory_op, cmd, arg); }

static inline long xen_version(int cmd, void *arg)
{ return hypercall2(__HYPERVISOR_xen_version, cmd, arg); }

static inline long xen_hvm_op(unsigned cmd, void *arg)
{ return hypercall2(__HYPERVISOR_hvm_op, cmd, arg); }

static inline long xen_event_channel_op(int cmd, void *arg)
{ return hypercall2(__HYPERVISOR_event_channel_op, cmd, arg); }

static inline long xen_grant_table_op(unsigned cmd, void *arg, unsigned count)
{ return hypercall3(__HYPERVISOR_grant_table_op, cmd, arg, count); }

static inline long xen_vcpu_op(int cmd, unsigned vcpu, void *arg)
{ return hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpu, arg); }

#endif
