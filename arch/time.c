/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TSC frequency: under Xen from its CPUID timing leaf (base+3, sub-leaf 0,
 * ECX = guest TSC kHz: xen/arch-x86/cpuid.h); otherwise measured against PIT
 * channel 2, which needs no interrupts.
 */
#include <pvhk/arch.h>
#include <pvhk/boot.h>
#include <pvhk/platform.h>
#include <pvhk/time.h>

uint64_t tsc_khz;
const char *tsc_khz_source = "none";

#define PIT_HZ      1193182u
#define PIT_CH2     0x42
#define PIT_CMD     0x43
#define PIT_GATE    0x61

/* Cycles per 10 ms of PIT time, one measurement. */
static uint64_t pit_measure(void)
{
    const unsigned ticks = PIT_HZ / 100;
    uint8_t gate = inb(PIT_GATE);

    outb(PIT_GATE, (gate & ~0x02) | 0x01);      /* speaker off, gate on */
    outb(PIT_CMD, 0xb0);                        /* ch2, lo/hi, mode 0 */
    outb(PIT_CH2, ticks & 0xff);
    outb(PIT_CH2, ticks >> 8);
    uint64_t t0 = rdtsc();
    /* OUT2 (bit 5) goes high at terminal count; bound the wait (~1 s of
     * spinning at any plausible speed) in case there is no PIT. */
    for (uint64_t i = 0; !(inb(PIT_GATE) & 0x20); i++)
        if (i > 50000000)
            return 0;
    uint64_t t1 = rdtsc();
    outb(PIT_GATE, gate);
    return t1 - t0;
}

void time_init(void)
{
    if (xen_cpuid_base && cpuid(xen_cpuid_base).eax >= xen_cpuid_base + 3) {
        uint32_t khz = cpuid_count(xen_cpuid_base + 3, 0).ecx;
        if (khz) {
            tsc_khz = khz;
            tsc_khz_source = "xen cpuid leaf";
            return;
        }
    }
    /* Best of three: a measurement can only be inflated by delays. */
    uint64_t best = 0;
    for (int i = 0; i < 3; i++) {
        uint64_t c = pit_measure();
        if (c && (!best || c < best))
            best = c;
    }
    if (best) {
        tsc_khz = best / 10;
        tsc_khz_source = "pit calibration";
    } else {
        tsc_khz = 1000000;      /* 1 GHz guess, said so in the log */
        tsc_khz_source = "guess (no PIT)";
    }
}

uint64_t tsc_to_ns(uint64_t cycles)
{
    if (!tsc_khz)
        return 0;
    /* cycles * 1e6 / khz, split so nothing overflows (no 128-bit libgcc). */
    return cycles / tsc_khz * 1000000u + cycles % tsc_khz * 1000000u / tsc_khz;
}

uint64_t now_ns(void)
{
    return tsc_to_ns(rdtsc() - boot_info.entry_tsc);
}

void udelay(uint64_t us)
{
    uint64_t end = rdtsc() + us * tsc_khz / 1000;
    while (rdtsc() < end)
        cpu_relax();
}
