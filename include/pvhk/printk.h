/* SPDX-License-Identifier: BSD-2-Clause */
/* Kernel console output and fatal errors. */
#ifndef PVHK_PRINTK_H
#define PVHK_PRINTK_H

#include <pvhk/types.h>

/* Pure formatting (common/printf.c): snprintf semantics, no floating point. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Write formatted text to the active console(s). Emit whole lines. */
void printk(const char *fmt, ...) __printf(1, 2);
void console_write(const char *s, size_t len);

/* Print the cause, a backtrace and an ERROR verdict, then end the run as a
 * crash (common/report.c). */
void panic(const char *fmt, ...) __printf(1, 2) __noreturn;

#define BUG_ON(c) do { if (unlikely(c)) panic("BUG_ON(%s) at %s:%d", #c, __FILE__, __LINE__); } while (0)

#endif
