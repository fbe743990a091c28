/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The final GDTs (one per CPU, each with the CPU's TSS for its IST stacks)
 * and the IDT, which all CPUs share.
 */
#include <pvhk/types.h>
#include <pvhk/smp.h>
#include <pvhk/string.h>
#include <pvhk/trap.h>

#define GDT_CS64    0x18
#define GDT_TSS     0x20
#define GDT_DS      0x10

struct tss64 {
    uint32_t rsvd0;
    uint64_t rsp[3];
    uint64_t rsvd1;
    uint64_t ist[7];
    uint64_t rsvd2;
    uint16_t rsvd3, iomap_base;
} __packed;

struct idt_entry {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, rsvd;
} __packed;

struct desc_ptr { uint16_t limit; uint64_t base; } __packed;

/* IST stacks: #DF, NMI and #MC must not depend on the faulting stack.
 * The boot CPU's are here; the others' come from smp_prepare_cpu(). */
static uint8_t boot_ist_stacks[3][IST_STACK_SIZE] __aligned(16);
static struct tss64 tss[NR_CPUS] __aligned(16);
static uint64_t gdt[NR_CPUS][7] __aligned(16);
static struct idt_entry idt[256] __aligned(16);
extern const uint8_t trap_stubs[];

static void set_gate(unsigned vec, unsigned ist)
{
    uint64_t a = (uint64_t)&trap_stubs[vec * 16];

    idt[vec] = (struct idt_entry){
        .off0 = a & 0xffff, .sel = GDT_CS64, .ist = ist,
        .type = 0x8e,       /* present, DPL0, 64-bit interrupt gate */
        .off1 = (a >> 16) & 0xffff, .off2 = a >> 32,
    };
}

void desc_setup_cpu(unsigned cpu, uint8_t *ist)
{
    struct tss64 *t = &tss[cpu];
    uint64_t *g = gdt[cpu];
    uint64_t base = (uint64_t)t;

    *t = (struct tss64){ .iomap_base = sizeof(*t) };
    for (int i = 0; i < 3; i++)
        t->ist[i] = (uint64_t)(ist + (i + 1) * IST_STACK_SIZE);
    g[0] = 0;
    g[1] = 0x00cf9b000000ffff;      /* 0x08: 32-bit code (unused after boot) */
    g[2] = 0x00cf93000000ffff;      /* 0x10: data */
    g[3] = 0x00af9b000000ffff;      /* 0x18: 64-bit code */
    g[4] = (sizeof(*t) - 1) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
           ((base >> 24 & 0xff) << 56);                 /* 0x20: TSS (16 bytes) */
    g[5] = base >> 32;
    g[6] = 0;
}

void desc_load_cpu(unsigned cpu)
{
    struct desc_ptr gp = { sizeof(gdt[cpu]) - 1, (uint64_t)gdt[cpu] };
    struct desc_ptr ip = { sizeof(idt) - 1, (uint64_t)idt };

    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "mov %4, %%eax\n\t"
        "mov %%eax, %%ds\n\t"
        "mov %%eax, %%es\n\t"
        "mov %%eax, %%ss\n\t"
        "ltr %w2\n\t"
        "lidt %3"
        :: "m"(gp), "i"(GDT_CS64), "r"(GDT_TSS), "m"(ip), "i"(GDT_DS)
        : "rax", "memory");
}

void traps_init(void)
{
    for (unsigned v = 0; v < 256; v++)
        set_gate(v, v == X86_EXC_DF ? 1 : v == X86_EXC_NMI ? 2 : v == 18 ? 3 : 0);
    desc_setup_cpu(0, &boot_ist_stacks[0][0]);
    desc_load_cpu(0);
}
