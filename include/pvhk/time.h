/* SPDX-License-Identifier: BSD-2-Clause */
/* TSC-based time. */
#ifndef PVHK_TIME_H
#define PVHK_TIME_H

#include <pvhk/types.h>

extern uint64_t tsc_khz;            /* 0 until time_init() */
extern const char *tsc_khz_source;  /* "xen cpuid", "pit", ... */

void time_init(void);
uint64_t tsc_to_ns(uint64_t cycles);
uint64_t now_ns(void);              /* since the PVH entry */
void udelay(uint64_t us);

#endif
