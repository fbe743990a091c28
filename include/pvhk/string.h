/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * String/memory helpers. Pure code includes this instead of <string.h> so it
 * builds unchanged in the kernel (common/string.c) and on the host (libc).
 */
#ifndef PVHK_STRING_H
#define PVHK_STRING_H

#include <pvhk/types.h>

#ifdef PVHK_HOST
#include <string.h>
#else
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
#endif

#endif
