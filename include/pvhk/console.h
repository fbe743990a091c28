/* SPDX-License-Identifier: BSD-2-Clause */
/* Console backends, chosen at run time by console_init(). */
#ifndef PVHK_CONSOLE_H
#define PVHK_CONSOLE_H

#include <pvhk/types.h>

struct console {
    const char *name;
    void (*write)(const char *s, size_t len);
    struct console *next;
};

/* Pick the boot console for the platform (platform must be set). */
void console_init(void);
/* Add another sink (e.g. the PV console ring once xenstore is up). */
void console_register(struct console *c);
const char *console_names(char *buf, size_t len);

void uart_init(void);
void uart_write(const char *s, size_t len);
void xen_hvc_write(const char *s, size_t len);    /* CONSOLEIO_write (dom0) */
void xen_e9_write(const char *s, size_t len);     /* port 0xE9 (domU) */

#endif
