/* SPDX-License-Identifier: BSD-2-Clause */
/* What we are running on, decided once at boot. */
#ifndef PVHK_PLATFORM_H
#define PVHK_PLATFORM_H

#include <pvhk/types.h>

enum platform { PLATFORM_BARE, PLATFORM_XEN_DOM0, PLATFORM_XEN_DOMU };

extern enum platform platform;
extern uint32_t xen_cpuid_base;     /* 0 when not under Xen */

static inline bool on_xen(void) { return platform != PLATFORM_BARE; }
const char *platform_name(enum platform p);

struct boot_info;
/* The platform, from Xen's CPUID base (0: no Xen) and the start_info read
 * into *bi (its SIF_INITDOMAIN flag, when its header was accepted). */
enum platform platform_choose(uint32_t xen_cpuid_base, const struct boot_info *bi);

/* Find Xen's CPUID leaves; returns the base leaf or 0. */
uint32_t xen_detect_cpuid(void);

#endif
