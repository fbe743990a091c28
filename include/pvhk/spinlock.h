/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ticket spinlocks. A CPU takes the next ticket (atomic fetch-and-add) and
 * waits until the lock's owner counter reaches it: CPUs get the lock in the
 * order they asked for it, none starves.
 *
 * spin_lock() and friends (common/spinlock.c) add debug checks and panic,
 * naming the lock, on:
 *   - recursion: the CPU already holds the lock (it would wait forever);
 *   - unlock by a CPU that does not hold it;
 *   - interrupt state: a lock taken inside an interrupt handler and, at
 *     another time, outside one with interrupts enabled. An interrupt
 *     arriving while the second holder has it would spin forever on its
 *     own CPU; such a lock must be taken with spin_lock_irqsave().
 * raw_spin_lock() has no checks and depends on nothing: the console and
 * the panic path use it. spin_lock() also yields to the hypervisor while
 * it waits long (spin_backoff()); raw_spin_lock() only pauses.
 */
#ifndef PVHK_SPINLOCK_H
#define PVHK_SPINLOCK_H

#include <pvhk/arch.h>
#include <pvhk/irqflags.h>
#include <pvhk/types.h>

typedef struct spinlock {
    uint16_t owner;             /* the ticket being served */
    uint16_t next;              /* the next ticket to hand out */
    int16_t holder;             /* CPU holding it, -1 (debug) */
    uint8_t used_in_irq;        /* taken inside an interrupt handler */
    uint8_t used_irqs_on;       /* taken outside one with interrupts on */
    const char *name;
} spinlock_t;

#define SPINLOCK_INIT(n)    { 0, 0, -1, 0, 0, (n) }
#define DEFINE_SPINLOCK(v)  spinlock_t v = SPINLOCK_INIT(#v)

static inline void raw_spin_lock(spinlock_t *l)
{
    uint16_t t = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != t)
        cpu_relax();
}

static inline bool raw_spin_trylock(spinlock_t *l)
{
    uint16_t o = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
    uint16_t n = o;

    /* Free when next == owner: take ticket `owner` by bumping next. */
    return __atomic_compare_exchange_n(&l->next, &n, (uint16_t)(o + 1), false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static inline void raw_spin_unlock(spinlock_t *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(const spinlock_t *l)
{
    return __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) !=
           __atomic_load_n(&l->next, __ATOMIC_ACQUIRE);
}

/*
 * One step of a wait loop: a pause, and every 1024th step the platform's
 * yield (under Xen SCHEDOP_yield), so a vCPU spinning on a lock whose
 * holder, or whose next ticket, is not running gives its physical CPU
 * away instead of burning its time slice. *n counts the steps.
 */
void spin_backoff(unsigned *n);
void spin_set_yield(void (*fn)(void));

/* Checked versions (common/spinlock.c). spin_lock returns false only when
 * a self-test caught a debug report (percpu.spin_catch): the lock is then
 * not taken. */
bool spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);
unsigned long spin_lock_irqsave(spinlock_t *l);
void spin_unlock_irqrestore(spinlock_t *l, unsigned long flags);

#endif
