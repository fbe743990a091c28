/* Kernel command line parsing (pure). Words are `key` or `key=value`. */
#ifndef PVHK_CMDLINE_H
#define PVHK_CMDLINE_H

#include <pvhk/types.h>

/*
 * Find the last `key=value` (or bare `key`) word. Copies the value (empty for
 * a bare key) into buf, NUL-terminated and truncated to len-1. Returns true if
 * the key is present.
 */
bool cmdline_find(const char *cmdline, const char *key, char *buf, size_t len);
/* Bare key, or value 1/y/yes/on, is true; 0/n/no/off false; else dflt. */
bool cmdline_bool(const char *cmdline, const char *key, bool dflt);
/* Decimal or 0x-hex, with optional K/M/G suffix; dflt if absent or malformed. */
uint64_t cmdline_u64(const char *cmdline, const char *key, uint64_t dflt);
/* Is `item` one of the comma-separated entries of list? */
bool list_contains(const char *list, const char *item);

/* The kernel's own copy of the command line (boot/start_info.c). */
extern char boot_cmdline[];

#endif
