/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The local APIC, in x2APIC mode where CPUID offers it (MSRs 0x800+),
 * otherwise xAPIC (MMIO at 0xfee00000, reached through the identity map).
 * Bare, QEMU emulates it; under Xen a PVH guest has Xen's emulated one
 * (vlapic), which delivers the per-vCPU event-channel upcall vector and
 * the NMIs that stop CPUs on a panic.
 */
#ifndef PVHK_LAPIC_H
#define PVHK_LAPIC_H

#include <pvhk/types.h>

#define LAPIC_SPURIOUS_VECTOR   0xff
#define LAPIC_IPI_VECTOR        0xf1    /* bare: the IPI vector */

#define APIC_DM_FIXED       0x000
#define APIC_DM_NMI         0x400
#define APIC_DM_INIT        0x500
#define APIC_DM_STARTUP     0x600
#define APIC_LEVEL_ASSERT   0x4000
#define APIC_DEST_OTHERS    0xc0000     /* shorthand: all excluding self */

extern bool lapic_x2apic;               /* x2APIC mode in use */

/* On each CPU: x2APIC if offered, software-enabled, spurious vector, TPR 0. */
void lapic_init(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Send an interrupt command (APIC_DM_* | vector [| APIC_LEVEL_ASSERT]) to
 * apic_id, or with APIC_DEST_OTHERS to every CPU but this one; waits until
 * an xAPIC has accepted it. */
void lapic_send(uint32_t apic_id, uint32_t icr_low);
/* Bare: the legacy 8259 PICs moved off the exception vectors and masked,
 * before interrupts are ever enabled (only the local APIC is used). */
void pic_disable(void);

#endif
