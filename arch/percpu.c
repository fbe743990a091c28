/* SPDX-License-Identifier: BSD-2-Clause */
/* The per-CPU areas, reached through each CPU's GS base (include/pvhk/smp.h). */
#include <pvhk/arch.h>
#include <pvhk/smp.h>

#define MSR_GS_BASE     0xc0000101

_Static_assert(__builtin_offsetof(struct percpu, self) == PERCPU_SELF, "PERCPU_SELF");
_Static_assert(__builtin_offsetof(struct percpu, cpu) == PERCPU_CPU, "PERCPU_CPU");
_Static_assert(__builtin_offsetof(struct percpu, trap_catch) == PERCPU_TRAP_CATCH,
               "PERCPU_TRAP_CATCH (arch/trap_try.S)");
_Static_assert(sizeof(struct trap_catch_state) == 72, "arch/trap_try.S uses 72 bytes");

struct percpu percpu_area[NR_CPUS];

void percpu_init(unsigned cpu)
{
    struct percpu *p = &percpu_area[cpu];

    p->self = p;
    p->cpu = cpu;
    p->vcpu_id = cpu;
    wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)p);
}
