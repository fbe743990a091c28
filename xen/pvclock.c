/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Xen system time (the vCPU's pvclock) and the wallclock, read from the
 * shared info page.
 *
 * Both records are written by Xen while we may be reading them, guarded
 * like a seqlock: the version is odd during an update and changes across
 * one, so a read is good when the version was even and the same before and
 * after. x86 keeps loads in order, so compiler barriers suffice between the
 * version and the fields; rdtsc() carries an lfence so the TSC is not read
 * ahead of the fields it is combined with.
 */
#include <pvhk/arch.h>
#include <pvhk/time.h>
#include <pvhk/xen.h>

#define NSEC_PER_SEC 1000000000ull

static inline uint32_t read_version(const uint32_t *v)
{
    return __atomic_load_n(v, __ATOMIC_ACQUIRE);
}

static inline void read_done(void)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
}

void pvclock_snapshot(struct pvclock_snapshot *s)
{
    const struct vcpu_time_info *t = &xen_vcpu_info()->time;
    uint32_t v;

    s->retries = 0;
    for (;;) {
        v = read_version(&t->version);
        if (!(v & 1)) {
            s->tsc_timestamp = *(volatile const uint64_t *)&t->tsc_timestamp;
            s->system_time = *(volatile const uint64_t *)&t->system_time;
            s->mul = *(volatile const uint32_t *)&t->tsc_to_system_mul;
            s->shift = *(volatile const int8_t *)&t->tsc_shift;
            s->flags = *(volatile const uint8_t *)&t->flags;
            read_done();
            if (read_version(&t->version) == v)
                break;
        }
        s->retries++;
        cpu_relax();
    }
    s->version = v;
}

uint64_t xen_clock_ns(void)
{
    if (!xen_shared_info)
        return 0;

    const struct vcpu_time_info *t = &xen_vcpu_info()->time;
    uint64_t tsc_ts, sys, tsc;
    uint32_t v, mul;
    int8_t shift;

    do {
        v = read_version(&t->version);
        tsc_ts = *(volatile const uint64_t *)&t->tsc_timestamp;
        sys = *(volatile const uint64_t *)&t->system_time;
        mul = *(volatile const uint32_t *)&t->tsc_to_system_mul;
        shift = *(volatile const int8_t *)&t->tsc_shift;
        tsc = rdtsc();
        read_done();
    } while ((v & 1) || read_version(&t->version) != v);

    /* A TSC behind the snapshot (unsynchronised pCPUs) must not wrap. */
    return sys + (tsc > tsc_ts ? pvclock_scale(tsc - tsc_ts, mul, shift) : 0);
}

uint64_t pvclock_tsc_khz(const struct pvclock_snapshot *s)
{
    if (!s->mul)
        return 0;
    /* Hz = (10^9 << 32) / mul, then undo the shift; 10^9 << 32 < 2^62. */
    uint64_t hz = (NSEC_PER_SEC << 32) / s->mul;
    hz = s->shift < 0 ? hz << -s->shift : hz >> s->shift;
    return hz / 1000;
}

int xen_wallclock(struct walltime *wt)
{
    const struct shared_info *s = xen_shared_info;
    uint64_t sec;
    uint32_t v, nsec;

    if (!s)
        return -1;
    do {
        v = read_version(&s->wc_version);
        sec = *(volatile const uint32_t *)&s->wc_sec |
              (uint64_t)*(volatile const uint32_t *)&s->wc_sec_hi << 32;
        nsec = *(volatile const uint32_t *)&s->wc_nsec;
        read_done();
    } while ((v & 1) || read_version(&s->wc_version) != v);

    /* The wallclock record is the time of day at system time 0. */
    uint64_t now = xen_clock_ns();
    uint64_t ns = nsec + now % NSEC_PER_SEC;
    wt->sec = sec + now / NSEC_PER_SEC + ns / NSEC_PER_SEC;
    wt->nsec = (uint32_t)(ns % NSEC_PER_SEC);
    return 0;
}

static bool leap(uint32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

void civil_from_unix(uint64_t sec, struct civil_date *d)
{
    static const uint8_t mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    uint64_t days = sec / 86400;
    uint32_t rem = (uint32_t)(sec % 86400);
    uint32_t y = 1970;
    unsigned m = 0;

    /* A year at a time: boot-time code, decades not millennia. */
    while (days >= (leap(y) ? 366u : 365u))
        days -= leap(y++) ? 366 : 365;
    for (;;) {
        unsigned len = mdays[m] + (m == 1 && leap(y) ? 1u : 0u);
        if (days < len)
            break;
        days -= len;
        m++;
    }
    d->year = y;
    d->month = (uint8_t)(m + 1);
    d->day = (uint8_t)(days + 1);
    d->hour = (uint8_t)(rem / 3600);
    d->min = (uint8_t)(rem / 60 % 60);
    d->sec = (uint8_t)(rem % 60);
}
