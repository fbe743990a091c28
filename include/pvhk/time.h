/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Time: the TSC (arch/time.c), and Xen's time for a guest under Xen: the
 * vCPU's pvclock (system time) and the wallclock (xen/pvclock.c), and
 * timers on VCPUOP_set_singleshot_timer / VIRQ_TIMER (xen/timer.c).
 *
 * System time is Xen's monotonic clock, in ns since Xen booted; it is the
 * time base of singleshot timers. Xen publishes, per vCPU, a TSC snapshot and
 * the scale to extrapolate from it:
 *
 *   now = system_time + ((tsc - tsc_timestamp) << tsc_shift) * mul >> 32
 *
 * (a negative tsc_shift shifts right), and the wallclock at system time 0.
 */
#ifndef PVHK_TIME_H
#define PVHK_TIME_H

#include <pvhk/types.h>

/* ---- the TSC (arch/time.c) ----------------------------------------------- */

extern uint64_t tsc_khz;            /* 0 until time_init() */
extern const char *tsc_khz_source;  /* "xen cpuid", "pit", ... */

void time_init(void);
uint64_t tsc_to_ns(uint64_t cycles);
uint64_t now_ns(void);              /* since the PVH entry */
void udelay(uint64_t us);

/* ---- Xen system time and wallclock (xen/pvclock.c) ----------------------- */

/*
 * ((delta << shift) * mul) >> 32 without 128-bit arithmetic: split delta
 * into 32-bit halves; the high half's product is already scaled by 2^32.
 * Exact for any result below 2^64 (about 584 years of nanoseconds).
 */
static inline uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    return (delta >> 32) * mul + (((delta & 0xffffffffu) * mul) >> 32);
}

/* Xen system time now, ns. 0 before the shared info is mapped. */
uint64_t xen_clock_ns(void);

/* One consistent snapshot of the vCPU time record, for reports. */
struct pvclock_snapshot {
    uint32_t version;
    uint64_t tsc_timestamp, system_time;
    uint32_t mul;
    int8_t shift;
    uint8_t flags;          /* XEN_PVCLOCK_* */
    unsigned retries;       /* reads that hit an update in progress */
};
void pvclock_snapshot(struct pvclock_snapshot *s);
/* TSC frequency the scale implies, kHz (for comparing with CPUID's). */
uint64_t pvclock_tsc_khz(const struct pvclock_snapshot *s);

/* Wallclock: seconds/ns since the Unix epoch. */
struct walltime {
    uint64_t sec;
    uint32_t nsec;
};
/* Now, = Xen's wallclock base + system time. -1 if shared info is not mapped. */
int xen_wallclock(struct walltime *wt);
/* The date of a Unix time (UTC, proleptic Gregorian). */
struct civil_date {
    uint32_t year;
    uint8_t month, day, hour, min, sec;     /* month and day from 1 */
};
void civil_from_unix(uint64_t sec, struct civil_date *d);

/* ---- timers (xen/timer.c) ------------------------------------------------ */

/*
 * Timers. The caller owns the struct (embed it anywhere); fn runs from the
 * VIRQ_TIMER handler of the CPU that armed it, interrupts disabled, at or
 * after the deadline, and may re-arm its timer (on that CPU). Each CPU keeps
 * its pending timers sorted by deadline, its own Xen singleshot timer
 * programmed for the earliest; any CPU may cancel a timer.
 */
struct xtimer {
    struct xtimer *next;
    uint64_t deadline;              /* Xen system time, ns */
    void (*fn)(struct xtimer *t);
    void *data;
    bool armed;
    unsigned cpu;                   /* the CPU it is armed on */
};

void xtimer_setup(struct xtimer *t, void (*fn)(struct xtimer *t), void *data);
/* (Re)arm for an absolute system time; a past deadline fires at once. */
void xtimer_arm(struct xtimer *t, uint64_t deadline);
/* Disarm; true if it was pending (so fn will not run). */
bool xtimer_cancel(struct xtimer *t);

/* Stop Xen's default periodic tick, bind VIRQ_TIMER. Needs evtchn_init(). */
int xtimer_init(void);
/* The same for vCPU cpu (from any CPU, before cpu runs timers). */
int xtimer_cpu_init(unsigned cpu);
/* vCPU cpu's VIRQ_TIMER port (0 if none). */
uint32_t xtimer_cpu_port(unsigned cpu);

/* Sleep at least ns, blocked in Xen. 0, or -1 if timers are not running. */
int xsleep_ns(uint64_t ns);

/*
 * xen_block_until() with a deadline: returns cond's final value, false when
 * timeout_ns passed first.
 */
bool xwait_timeout(bool (*cond)(void *arg), void *arg, uint64_t timeout_ns);

struct xtimer_stats {
    uint64_t virqs;                 /* VIRQ_TIMER events handled */
    uint64_t fired;                 /* timer callbacks run */
    uint64_t programs;              /* VCPUOP_set_singleshot_timer calls */
    uint64_t program_errors;
    long last_error;                /* the last failing call's value */
};
extern struct xtimer_stats xtimer_stats;
extern uint32_t xtimer_virq_port;

#endif
