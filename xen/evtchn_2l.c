/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Event channels, the 2-level ABI: the scan of the pending and mask
 * bitmaps, mask and unmask. Pure. All accesses to the shared words are
 * atomic: Xen sets bits in them from other CPUs at any time.
 */
#include <pvhk/types.h>
#include <pvhk/evtchn.h>

static inline uint64_t bit(unsigned n)
{
    return 1ull << (n % 64);
}

/*
 * Handle the unmasked pending ports of word w whose bit number is in
 * [lo, hi). Returns how many fn calls were made; updates s->last_port.
 */
static unsigned scan_word(struct evtchn_scan *s, const struct evtchn_2l *v,
                          unsigned w, unsigned lo, unsigned hi,
                          evtchn_port_fn fn, void *arg)
{
    uint64_t range = (hi == 64 ? ~0ull : bit(hi) - 1) & ~(bit(lo) - 1);
    uint64_t ready = __atomic_load_n(&v->pending[w], __ATOMIC_ACQUIRE) &
                     ~__atomic_load_n(&v->mask[w], __ATOMIC_RELAXED) & range;

    /* Another vCPU's ports share the word: leave them to it. */
    if (v->bound)
        ready &= __atomic_load_n(&v->bound[w], __ATOMIC_ACQUIRE);
    unsigned n = 0;

    while (ready) {
        unsigned b = (unsigned)__builtin_ctzll(ready);
        unsigned port = w * 64 + b;

        ready &= ready - 1;
        /* Clear before handling; only the caller that cleared it runs fn. */
        if (__atomic_fetch_and(&v->pending[w], ~bit(b), __ATOMIC_ACQ_REL) &
            bit(b)) {
            fn(arg, port);
            s->last_port = port;
            n++;
        }
    }
    return n;
}

unsigned evtchn_scan_2l(struct evtchn_scan *s, const struct evtchn_2l *v,
                        evtchn_port_fn fn, void *arg, unsigned max_rounds)
{
    unsigned handled = 0;

    for (unsigned round = 0; round < max_rounds; round++) {
        uint64_t sel;
        unsigned start, sw, sb;

        /* Clear the flag first: anything Xen posts from now on re-sets it. */
        if (!__atomic_exchange_n(v->upcall_pending, 0, __ATOMIC_ACQ_REL))
            break;
        sel = __atomic_exchange_n(v->sel, 0, __ATOMIC_ACQ_REL);
        start = (s->last_port + 1) % EVTCHN_2L_NR_PORTS;
        sw = start / 64;
        sb = start % 64;
        /*
         * Words in circular order from the resume point; the resume word
         * is visited twice: its upper bits first, its lower bits last.
         */
        for (unsigned i = 0; i <= EVTCHN_2L_WORDS; i++) {
            unsigned w = (sw + i) % EVTCHN_2L_WORDS;
            unsigned lo = 0, hi = 64;

            if (!(sel & bit(w)))
                continue;
            if (i == 0)
                lo = sb;
            else if (i == EVTCHN_2L_WORDS)
                hi = sb;
            handled += scan_word(s, v, w, lo, hi, fn, arg);
        }
    }
    return handled;
}

void evtchn_mask_2l(const struct evtchn_2l *v, unsigned port)
{
    __atomic_fetch_or(&v->mask[port / 64 % EVTCHN_2L_WORDS], bit(port),
                      __ATOMIC_SEQ_CST);
}

bool evtchn_unmask_2l(const struct evtchn_2l *v, unsigned port)
{
    unsigned w = port / 64 % EVTCHN_2L_WORDS;

    __atomic_fetch_and(&v->mask[w], ~bit(port), __ATOMIC_SEQ_CST);
    /* Read pending only after the unmask is visible: an event Xen posts
     * in between then sets the selector itself, and at worst we both do. */
    if (!(__atomic_load_n(&v->pending[w], __ATOMIC_SEQ_CST) & bit(port)))
        return false;
    __atomic_fetch_or(v->sel, bit(w), __ATOMIC_SEQ_CST);
    __atomic_store_n(v->upcall_pending, 1, __ATOMIC_SEQ_CST);
    return true;
}
