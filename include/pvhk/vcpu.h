/* SPDX-License-Identifier: BSD-2-Clause */
/* Xen vCPUs: counting and starting them (xen/vcpu.c, docs/smp.md). */
#ifndef PVHK_VCPU_H
#define PVHK_VCPU_H

#include <pvhk/types.h>

/* The domain's vCPUs, by VCPUOP_is_up probing (at most limit), or Xen's
 * negative error. */
int xen_vcpu_count(unsigned limit);
/* VCPUOP_is_up: 1 up, 0 down, or Xen's negative error. */
int xen_vcpu_is_up(unsigned vcpu);
/* VCPUOP_initialise in 64-bit mode with this CPU's paging (CR0, CR3, CR4,
 * EFER), then VCPUOP_up: 0 or Xen's negative error. */
int xen_vcpu_start(unsigned vcpu, uint64_t rip, uint64_t rsp, uint64_t rdi);
/* VCPUOP_down: Xen stops scheduling the vCPU (any vCPU of the domain, itself
 * included). 0 or Xen's negative error. */
int xen_vcpu_down(unsigned vcpu);
/* VCPUOP_up on an initialised vCPU: it resumes where it went down. */
int xen_vcpu_up(unsigned vcpu);

#endif
