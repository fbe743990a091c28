/* SPDX-License-Identifier: BSD-2-Clause */
/* Ticket spinlocks with debug checks (include/pvhk/spinlock.h). */
#include <pvhk/printk.h>
#include <pvhk/smp.h>
#include <pvhk/spinlock.h>

static void (*yield_fn)(void);

void spin_set_yield(void (*fn)(void))
{
    yield_fn = fn;
}

void spin_backoff(unsigned *n)
{
    cpu_relax();
    if ((++*n & 1023) == 0 && yield_fn)
        yield_fn();
}

/* A broken rule: panic, or hand the report to a self-test that asked. */
static bool broken(spinlock_t *l, const char *what)
{
    struct percpu *me = this_cpu();

    if (me->spin_catch) {
        me->spin_error = what;
        return false;
    }
    panic("spinlock %s: %s (CPU %u; holder %d)", l->name ? l->name : "?", what,
          me->cpu, l->holder);
}

bool spin_lock(spinlock_t *l)
{
    struct percpu *me = this_cpu();

    if (__atomic_load_n(&l->holder, __ATOMIC_RELAXED) == (int16_t)me->cpu)
        return broken(l, "recursive lock: this CPU holds it already");
    if (me->irq_depth)
        __atomic_store_n(&l->used_in_irq, 1, __ATOMIC_RELAXED);
    else if (local_irq_enabled())
        __atomic_store_n(&l->used_irqs_on, 1, __ATOMIC_RELAXED);
    if (__atomic_load_n(&l->used_in_irq, __ATOMIC_RELAXED) &&
        __atomic_load_n(&l->used_irqs_on, __ATOMIC_RELAXED))
        return broken(l, "taken in an interrupt handler and elsewhere with interrupts "
                         "enabled (an interrupt landing while it is held would deadlock)");
    uint16_t t = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    unsigned n = 0;
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != t)
        spin_backoff(&n);
    __atomic_store_n(&l->holder, (int16_t)me->cpu, __ATOMIC_RELAXED);
    return true;
}

void spin_unlock(spinlock_t *l)
{
    if (__atomic_load_n(&l->holder, __ATOMIC_RELAXED) != (int16_t)smp_processor_id()) {
        broken(l, "unlocked by a CPU that does not hold it");
        return;
    }
    __atomic_store_n(&l->holder, -1, __ATOMIC_RELAXED);
    raw_spin_unlock(l);
}

unsigned long spin_lock_irqsave(spinlock_t *l)
{
    unsigned long flags = local_irq_save();

    if (!spin_lock(l))
        local_irq_restore(flags);
    return flags;
}

void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags)
{
    spin_unlock(l);
    local_irq_restore(flags);
}
