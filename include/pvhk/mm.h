/* SPDX-License-Identifier: BSD-2-Clause */
/* Boot-time memory management glue: the sanitised map and what uses it. */
#ifndef PVHK_MM_H
#define PVHK_MM_H

#include <pvhk/e820.h>

/* The sanitised guest-physical memory map (mm/boot_mm.c). */
extern struct e820_map e820;
extern struct e820_report e820_rep;

/* Sanitise boot_info's raw map, print it; panics naming the cause if the
 * map is unusable (no entries, too many, no RAM). */
void mm_map_init(void);
void e820_print(const struct e820_map *m, const char *title);
/* Highest end address of any RAM or UNUSABLE page. */
uint64_t e820_top_inward(const struct e820_map *m);

#endif
