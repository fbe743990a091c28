/* Validation of struct hvm_start_info (pure: host-tested). */
#ifndef PVHK_START_INFO_H
#define PVHK_START_INFO_H

#include <pvhk/types.h>

/*
 * NULL if a start_info with this magic and version can be read, else why
 * not, in words. Version 1 only appends fields to version 0, but what a
 * later version means is not guessed at: it is refused by name.
 */
const char *start_info_refusal(uint32_t magic, uint32_t version, char *buf, size_t len);

#endif
