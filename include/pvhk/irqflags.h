/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The interrupt flag. pvhk keeps interrupts disabled except where it waits
 * (xen_block_until, the idle loop of a secondary CPU) or where a caller
 * enables them; interrupt and event handlers therefore run only at those
 * points, with interrupts disabled, and must not block.
 */
#ifndef PVHK_IRQFLAGS_H
#define PVHK_IRQFLAGS_H

#include <pvhk/types.h>

#define X86_EFLAGS_IF   (1ul << 9)

static inline unsigned long local_save_flags(void)
{
    unsigned long f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f) :: "memory");
    return f;
}

static inline bool local_irq_enabled(void)
{
    return local_save_flags() & X86_EFLAGS_IF;
}

/* "memory": no access may move across the point where handlers can run. */
static inline void local_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void local_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }

static inline unsigned long local_irq_save(void)
{
    unsigned long f = local_save_flags();
    local_irq_disable();
    return f;
}

static inline void local_irq_restore(unsigned long flags)
{
    if (flags & X86_EFLAGS_IF)
        local_irq_enable();
}

#endif
