/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Limits of the fast allocator that depend on its build constants. This
 * file is also built into hosttests-o3 (PA_MAX_ORDER=3, PA_MAX_CHUNKS=1024),
 * where the chunk bitmap can be filled; in the default build the table's
 * capacity (at most PA_NIL frames) runs out before the bitmap does.
 */
#include <stdlib.h>
#include "harness.h"
#include <pvhk/page_alloc.h>

HOST_TEST(page_small_chunk_room)
{
    static struct page_alloc P;
    struct pa_frame *t = malloc(pa_table_bytes(16));
    const pfn_t c = PA_CHUNK_FRAMES, big = 128 * c - 1;
    uint32_t nch;

    pa_setup(&P, t, UINT64_MAX, 0);
    if ((uint64_t)PA_MAX_CHUNKS * c > PA_NIL) {
        /* 2^32 - 1 frames at most: a range of one frame more is refused. */
        CHECK(P.capacity == PA_NIL);
        CHECK(pa_add_range(&P, c, (uint64_t)PA_NIL + 1) == PA_E_NOSPACE);
        CHECK(pa_add_range(&P, c, PA_NIL) == PA_OK && P.used == PA_NIL);
        CHECK(pa_add_range(&P, 1, 1) == PA_E_NOSPACE && P.err_frame == 1);
        free(t);
        return;
    }
    /* 63 two-chunk ranges, then one range of exactly the chunks left:
     * accepted; one chunk more is refused. */
    for (unsigned i = 0; i < PA_MAX_RANGES - 1; i++)
        REQUIRE(pa_add_range(&P, (i + 1) * c - 1, 2) == PA_OK);
    REQUIRE(P.nr_chunks == 2 * (PA_MAX_RANGES - 1));
    nch = PA_MAX_CHUNKS - P.nr_chunks;
    CHECK(pa_add_range(&P, big, 2 + (nch - 1) * c) == PA_E_NOSPACE);
    CHECK(P.nr_ranges == PA_MAX_RANGES - 1 && P.err_frame == big);
    CHECK(pa_add_range(&P, big, 2 + (nch - 2) * c) == PA_OK);
    CHECK(P.nr_chunks == PA_MAX_CHUNKS && P.range[PA_MAX_RANGES - 1].untouched == nch);
    free(t);
}
