/* SPDX-License-Identifier: BSD-2-Clause */
/* Self-tests: exceptions, paging permissions (NX, W^X), guard page, TSC. */
#include <pvhk/arch.h>
#include <pvhk/boot.h>
#include <pvhk/paging.h>
#include <pvhk/selftest.h>
#include <pvhk/time.h>
#include <pvhk/trap.h>

static void do_ud2(void *arg)
{
    (void)arg;
    __asm__ volatile("ud2");
}

KTEST(arch, exception_ud_caught)
{
    struct caught_trap ti;

    KT_ASSERT(t, trap_try(do_ud2, NULL, &ti) == 1);
    KT_EXPECT(t, ti.vector == X86_EXC_UD);
    /* The reported RIP is inside do_ud2. */
    KT_EXPECT(t, ti.rip >= (uint64_t)do_ud2 && ti.rip < (uint64_t)do_ud2 + 64);
}

static void nothing(void *arg) { (void)arg; }

KTEST(arch, trap_try_returns_normally)
{
    struct caught_trap ti = { .vector = 99 };

    KT_EXPECT(t, trap_try(nothing, NULL, &ti) == 0);
    KT_EXPECT(t, ti.vector == 99);
}

static void read_addr(void *arg)
{
    (void)*(volatile uint64_t *)arg;
}

static void write_addr(void *arg)
{
    *(volatile uint8_t *)arg = *(volatile uint8_t *)arg;
}

KTEST(arch, null_page_unmapped)
{
    struct caught_trap ti;

    KT_ASSERT(t, trap_try(read_addr, (void *)8, &ti) == 1);
    KT_EXPECT(t, ti.vector == X86_EXC_PF);
    KT_EXPECT(t, ti.cr2 == 8);
    KT_EXPECT(t, !(ti.error_code & PFEC_PRESENT));
}

KTEST(arch, stack_guard_page)
{
    struct caught_trap ti;
    uint64_t g = (uint64_t)(uintptr_t)boot_stack_guard;

    KT_EXPECT(t, paging_lookup(g, NULL) == 0);
    KT_EXPECT(t, paging_lookup(g + PAGE_SIZE, NULL) & PTE_P);
    KT_ASSERT(t, trap_try(read_addr, (void *)(g + 128), &ti) == 1);
    KT_EXPECT(t, ti.vector == X86_EXC_PF && ti.cr2 == g + 128);
}

/* A `ret` placed in writable data: executing it must fault (NX). */
static uint8_t data_code[64] __aligned(64) = { 0xc3 };

static void call_addr(void *arg)
{
    ((void (*)(void))arg)();
}

KTEST(arch, nx_on_data)
{
    struct caught_trap ti;
    uint64_t pte = paging_lookup((uint64_t)data_code, NULL);

    if (!cpu_has_nx)
        KT_SKIP(t, "CPU has no NX");
    KT_EXPECT(t, pte & PTE_NX);
    KT_EXPECT(t, pte & PTE_W);
    KT_ASSERT(t, trap_try(call_addr, data_code, &ti) == 1);
    KT_EXPECT(t, ti.vector == X86_EXC_PF);
    KT_EXPECT(t, ti.cr2 == (uint64_t)data_code);
    KT_EXPECT(t, (ti.error_code & (PFEC_INSN | PFEC_PRESENT)) == (PFEC_INSN | PFEC_PRESENT));
}

static const uint8_t rodata_byte[8] = { 1 };

KTEST(arch, wx_text_and_rodata)
{
    struct caught_trap ti;
    uint64_t text = (uint64_t)do_ud2;
    uint64_t pte_text = paging_lookup(text, NULL);
    uint64_t pte_ro = paging_lookup((uint64_t)rodata_byte, NULL);

    /* text: present, not writable, executable */
    KT_EXPECT(t, (pte_text & (PTE_P | PTE_W | PTE_NX)) == PTE_P);
    /* rodata: present, not writable, not executable (when NX exists) */
    KT_EXPECT(t, (pte_ro & (PTE_P | PTE_W)) == PTE_P);
    if (cpu_has_nx)
        KT_EXPECT(t, pte_ro & PTE_NX);
    KT_ASSERT(t, trap_try(write_addr, (void *)text, &ti) == 1);
    KT_EXPECT(t, ti.vector == X86_EXC_PF && ti.cr2 == text);
    KT_EXPECT(t, (ti.error_code & (PFEC_WRITE | PFEC_PRESENT)) == (PFEC_WRITE | PFEC_PRESENT));
    KT_ASSERT(t, trap_try(write_addr, (void *)rodata_byte, &ti) == 1);
    KT_EXPECT(t, ti.vector == X86_EXC_PF && ti.cr2 == (uint64_t)rodata_byte);
    /* No page of the image is both writable and executable. */
    unsigned wx = 0;
    for (uint64_t p = (uint64_t)__image_start; p < (uint64_t)__image_end; p += PAGE_SIZE) {
        uint64_t e = paging_lookup(p, NULL);
        if ((e & PTE_P) && (e & PTE_W) && !(e & PTE_NX))
            wx++;
    }
    KT_EXPECT(t, !cpu_has_nx || wx == 0);
}

KTEST(time, tsc_advances)
{
    KT_EXPECT(t, tsc_khz >= 100000 && tsc_khz <= 20000000);
    uint64_t a = rdtsc();
    uint64_t n0 = now_ns();
    udelay(2000);
    uint64_t b = rdtsc();
    uint64_t n1 = now_ns();
    KT_EXPECT(t, b > a);
    KT_EXPECT(t, n1 > n0);
    /* udelay(2000) spins on the TSC: at least 2 ms worth of cycles passed. */
    KT_EXPECT(t, b - a >= tsc_khz * 2);
    ktest_note(t, "tsc %llu kHz from %s", (unsigned long long)tsc_khz, tsc_khz_source);
}
