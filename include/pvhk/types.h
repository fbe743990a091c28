/* SPDX-License-Identifier: BSD-2-Clause */
/* Basic types shared by kernel and host builds. Freestanding headers only. */
#ifndef PVHK_TYPES_H
#define PVHK_TYPES_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdarg.h>

#define PAGE_SHIFT      12
#define PAGE_SIZE       (1UL << PAGE_SHIFT)
#define PAGE_MASK       (~(PAGE_SIZE - 1))

#define PFN_DOWN(x)     ((uint64_t)(x) >> PAGE_SHIFT)
#define PFN_UP(x)       (((uint64_t)(x) + PAGE_SIZE - 1) >> PAGE_SHIFT)
#define PFN_PHYS(x)     ((uint64_t)(x) << PAGE_SHIFT)

#define ARRAY_SIZE(a)   (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)       ((a) < (b) ? (a) : (b))
#define MAX(a, b)       ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a)  (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)

#define likely(x)       __builtin_expect(!!(x), 1)
#define unlikely(x)     __builtin_expect(!!(x), 0)

#define __unused        __attribute__((unused))
#define __noreturn      __attribute__((noreturn))
#define __packed        __attribute__((packed))
#define __aligned(n)    __attribute__((aligned(n)))
#define __section(s)    __attribute__((section(s)))
#define __printf(a, b)  __attribute__((format(printf, a, b)))

typedef uint64_t paddr_t;
typedef uint64_t pfn_t;

#endif
