/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Early Xen consoles. dom0 uses the console_io hypercall (Xen owns the UART;
 * dom0's own COM1 accesses are dropped). A domU cannot: release builds of Xen
 * answer CONSOLEIO_write from a domU with -EPERM. Port 0xE9 is Xen's HVM
 * debug port instead: with guest_loglvl=all Xen prints each line as "(dN) ...".
 */
#include <pvhk/arch.h>
#include <pvhk/console.h>
#include <pvhk/hypercall.h>

void xen_hvc_write(const char *s, size_t len)
{
    while (len) {
        int chunk = len > 1024 ? 1024 : (int)len;
        if (xen_console_io(CONSOLEIO_write, chunk, s) < 0)
            return;
        s += chunk;
        len -= chunk;
    }
}

void xen_e9_write(const char *s, size_t len)
{
    /* rep outsb: one exit per byte either way, but one instruction. */
    __asm__ volatile("rep outsb" : "+S"(s), "+c"(len) : "d"(0xe9) : "memory");
}
