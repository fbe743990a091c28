/* SPDX-License-Identifier: BSD-2-Clause */
/* Validation of struct hvm_start_info (pure: host-tested). */
#ifndef PVHK_START_INFO_H
#define PVHK_START_INFO_H

#include <pvhk/types.h>
#include <pvhk/boot.h>

/*
 * NULL if a start_info with this magic and version can be read, else why
 * not, in words. Version 1 only appends fields to version 0, but what a
 * later version means is not guessed at: it is refused by name.
 */
const char *start_info_refusal(uint32_t magic, uint32_t version, char *buf, size_t len);

/*
 * Read the hvm_start_info at paddr (an address pvhk can dereference) into
 * *bi, its command line into cmdline (cmdline_cap bytes, cut by
 * cmdline_keep()). Each field is read once. Returns NULL, or why the
 * start_info was refused (then also in bi->refusal): no pointer, a bad magic
 * or version (bi->header_ok false: nothing was read), or a memmap of more
 * than BOOT_MEMMAP_MAX entries (bi->header_ok true: the flags were read).
 */
const char *start_info_read(struct boot_info *bi, char *cmdline, size_t cmdline_cap,
                            uint64_t paddr);

#endif
