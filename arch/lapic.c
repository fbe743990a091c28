/* SPDX-License-Identifier: BSD-2-Clause */
/* The local APIC (include/pvhk/lapic.h). */
#include <pvhk/arch.h>
#include <pvhk/lapic.h>

#define MSR_APIC_BASE       0x1b
#define APIC_BASE_EXTD      (1ull << 10)    /* x2APIC mode */
#define APIC_BASE_EN        (1ull << 11)
#define XAPIC_MMIO          0xfee00000ull

/* Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + offset / 16). */
#define REG_ID      0x20
#define REG_TPR     0x80
#define REG_EOI     0xb0
#define REG_SVR     0xf0
#define REG_ICR_LO  0x300
#define REG_ICR_HI  0x310
#define SVR_ENABLE  0x100
#define ICR_BUSY    (1u << 12)

bool lapic_x2apic;

static uint32_t rd(unsigned reg)
{
    if (lapic_x2apic)
        return (uint32_t)rdmsr(0x800 + reg / 16);
    return *(volatile uint32_t *)(uintptr_t)(XAPIC_MMIO + reg);
}

static void wr(unsigned reg, uint32_t v)
{
    if (lapic_x2apic)
        wrmsr(0x800 + reg / 16, v);
    else
        *(volatile uint32_t *)(uintptr_t)(XAPIC_MMIO + reg) = v;
}

void lapic_init(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);

    /* CPUID.1:ECX[21] x2APIC. Every CPU makes the same choice. */
    if (cpuid(1).ecx & (1u << 21)) {
        /* xAPIC -> x2APIC: set EXTD with EN (SDM 10.12.5: allowed from xAPIC). */
        if (!(base & APIC_BASE_EN))
            wrmsr(MSR_APIC_BASE, base |= APIC_BASE_EN);
        if (!(base & APIC_BASE_EXTD))
            wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
        lapic_x2apic = true;
    } else if (!(base & APIC_BASE_EN)) {
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
    }
    wr(REG_TPR, 0);
    wr(REG_SVR, SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
}

uint32_t lapic_id(void)
{
    return lapic_x2apic ? rd(REG_ID) : rd(REG_ID) >> 24;
}

void lapic_eoi(void)
{
    wr(REG_EOI, 0);
}

void lapic_send(uint32_t apic_id, uint32_t icr_low)
{
    if (lapic_x2apic) {
        /* One 64-bit write: destination in the high half. */
        wrmsr(0x800 + REG_ICR_LO / 16, (uint64_t)apic_id << 32 | icr_low);
        return;
    }
    wr(REG_ICR_HI, apic_id << 24);
    wr(REG_ICR_LO, icr_low);
    for (unsigned i = 0; i < 1000000 && (rd(REG_ICR_LO) & ICR_BUSY); i++)
        cpu_relax();
}

void pic_disable(void)
{
    /* ICW1-4: master at vectors 0x20-0x27, slave at 0x28-0x2f (clear of the
     * exceptions, where the firmware's 0x08 would put IRQ 0), then every
     * line masked. A spurious IRQ 7/15 still lands on an interrupt vector. */
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}
