/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Names of the page states and sentences for the PA_E_* errors, shared by
 * both allocators (include/pvhk/page_state.h): the fast one
 * (mm/page_alloc.c, page_table.c, page_range.c) and the reference (mm/page_ref.c).
 */
#include <pvhk/page_state.h>

const char *pa_state_name(enum pa_state s)
{
    static const char *const name[] = {
        "uninitialised", "free", "inuse", "offlining", "offlined", "released",
        "scratch", "outside",
    };
    return (unsigned)s <= PA_OUTSIDE ? name[s] : "?";
}

const char *pa_strerror(int err)
{
    static const char *const text[PA_NR_ERRS] = {
        [PA_OK] = "ok",
        [PA_E_OUTSIDE] = "frame outside the frame table",
        [PA_E_SPANS] = "block runs past the end of its range",
        [PA_E_ORDER] = "order too large",
        [PA_E_MISALIGNED] = "frame not aligned to the order",
        [PA_E_DOUBLE_FREE] = "double free",
        [PA_E_FREE_FRAME] = "frame is free",
        [PA_E_INTERIOR] = "interior frame of a block",
        [PA_E_WRONG_ORDER] = "wrong order for this block",
        [PA_E_PARTIAL] = "range cuts an in-use block",
        [PA_E_INUSE] = "frame is in use",
        [PA_E_OFFLINING] = "frame is offlining",
        [PA_E_OFFLINED] = "frame is offlined",
        [PA_E_RELEASED] = "frame is released",
        [PA_E_SCRATCH] = "frame is a scratch frame",
        [PA_E_UNINIT] = "frame is uninitialised",
        [PA_E_MIXED] = "uninitialised block mixes initialised frames",
        [PA_E_FRAME0] = "frame 0 never enters the heap",
        [PA_E_OVERLAP] = "range overlaps a registered range",
        [PA_E_NOSPACE] = "no space left in the frame table",
        [PA_E_INVAL] = "invalid argument",
        [PA_E_CORRUPT] = "allocator state corrupt",
        [PA_E_RESERVED] = "block is reserved by a boot owner",
        [PA_E_OWNER] = "block is not reserved by this owner",
    };
    /* A code without a sentence reads as unknown rather than as NULL. */
    return err >= 0 && err < PA_NR_ERRS && text[err] ? text[err] : "unknown error";
}
