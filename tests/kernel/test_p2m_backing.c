/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Which frames behind the memory map's non-RAM ranges does Xen back with
 * RAM? (docs/p2m.md, "Frames behind non-RAM ranges".) The frames of every
 * RESERVED, ACPI, NVS, UNUSABLE or other non-RAM range, and of every gap
 * below the top of RAM, are asked about with HVMOP_get_mem_type (no frame
 * is touched): all of them with p2m_backing.full=1, else all of a range of
 * up to 4096 frames and a sample of a larger one. The counts are printed
 * per class on every boot.
 */
#include <pvhk/arch.h>
#include <pvhk/boot.h>
#include <pvhk/cmdline.h>
#include <pvhk/mm.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/time.h>
#include <pvhk/xen.h>
#include <xen/hvm/hvm_op.h>

static struct p2m_backing bk;

KTEST(p2m_backing, non_ram_frames)
{
    bool full = cmdline_bool(boot_cmdline, "p2m_backing.full", false);
    uint64_t t0;

    if (!on_xen())
        KT_SKIP(t, "not under Xen");
    t0 = rdtsc();
    p2m_backing_scan(&e820, &heap, full, &bk);
    ktest_note(t, "%s scan: %llu frames asked about in %llu ms", full ? "full" : "sampled",
               (unsigned long long)bk.queries,
               (unsigned long long)(tsc_to_ns(rdtsc() - t0) / 1000000));
    for (unsigned c = 0; c < P2M_BK_NR; c++) {
        const struct p2m_bk_count *k = &bk.c[c];

        if (!k->ranges)
            continue;
        ktest_note(t, "%-8s %2llu range(s) %8llu frames, %8llu asked: backed %llu (ours %llu, "
                   "RELEASED %llu, unaccounted %llu)", p2m_bk_class_name(c),
                   (unsigned long long)k->ranges, (unsigned long long)k->frames,
                   (unsigned long long)k->asked, (unsigned long long)k->backed,
                   (unsigned long long)k->accounted, (unsigned long long)k->released_backed,
                   (unsigned long long)(k->backed - k->accounted - k->released_backed));
    }
    for (unsigned i = 0; i < bk.nr_runs; i++)
        ktest_note(t, "unaccounted backed: %s 0x%llx+%llu", p2m_bk_class_name(bk.run[i].cls),
                   (unsigned long long)bk.run[i].pfn, (unsigned long long)bk.run[i].count);
    if (bk.runs_dropped)
        ktest_note(t, "(%u more runs not listed)", bk.runs_dropped);
    if (bk.error)
        ktest_note(t, "HVMOP_get_mem_type(0x%llx) failed: %ld",
                   (unsigned long long)bk.error_pfn, bk.error);
    KT_ASSERT(t, bk.error == 0);

    uint64_t unaccounted = 0, released_backed = 0;
    bool every_frame = true;

    for (unsigned c = 0; c < P2M_BK_NR; c++) {
        const struct p2m_bk_count *k = &bk.c[c];

        unaccounted += k->backed - k->accounted - k->released_backed;
        released_backed += k->released_backed;
        every_frame &= k->asked == k->frames;
    }
    /* RELEASED means unbacked: the P2M account rests on it. */
    KT_EXPECT(t, released_backed == 0);
    /*
     * The backed frames we do not account for are exactly the pages Xen
     * counts against us outside the frame table (the P2M offset, fixed at
     * boot as reservation - backed): Xen's tables and rings, nothing idle.
     * A sampled scan can only miss some.
     */
    ktest_note(t, "unaccounted backed frames %llu, P2M offset %lld",
               (unsigned long long)unaccounted, (long long)p2m.offset);
    if (p2m_ready) {
        if (every_frame)
            KT_EXPECT(t, (int64_t)unaccounted == p2m.offset);
        else
            KT_EXPECT(t, (int64_t)unaccounted <= p2m.offset);
    }
    /* Nothing of the guest's own is behind a gap or an UNUSABLE range. */
    KT_EXPECT(t, bk.c[P2M_BK_GAP].backed == 0);
    KT_EXPECT(t, bk.c[P2M_BK_UNUSABLE].backed == bk.c[P2M_BK_UNUSABLE].accounted);
}
