/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Kernel side of the P2M and the scratch pool: the hypercall backend of
 * struct p2m_ops, and the kernel's single P2M, extra memory and pool.
 */
#ifndef PVHK_XENMEM_H
#define PVHK_XENMEM_H

#include <pvhk/extra_mem.h>
#include <pvhk/p2m.h>
#include <pvhk/scratch.h>
#include <pvhk/xen.h>

extern struct p2m p2m;
extern struct extra_mem extra_mem;
extern struct extra_mem_report extra_mem_rep;
extern struct scratch_pool scratch;
extern bool p2m_ready, scratch_ready;
extern const char *scratch_source;      /* for the log and the tests */

/* The hypercall backend (xen/memory.c). */
extern const struct p2m_ops p2m_xen_ops;

/* Guest frames for Xen to map things at (shared info, grant frames):
 * from the scratch pool, panicking only if the pool cannot exist. */
int scratch_frames_get(uint64_t count, uint64_t align, uint64_t *pfn);
int scratch_frames_put(uint64_t pfn, uint64_t count);

void p2m_print_result(const char *what, int rc, const struct p2m_result *res);

#endif
