/* SPDX-License-Identifier: BSD-2-Clause */
/* 16550 UART on COM1, for runs without Xen. */
#include <pvhk/arch.h>
#include <pvhk/console.h>

#define COM1        0x3f8
#define UART_THR    0
#define UART_IER    1
#define UART_FCR    2
#define UART_LCR    3
#define UART_MCR    4
#define UART_LSR    5
#define LSR_THRE    0x20

void uart_init(void)
{
    outb(COM1 + UART_IER, 0x00);
    outb(COM1 + UART_LCR, 0x80);    /* DLAB: divisor 1 = 115200 baud */
    outb(COM1 + 0, 0x01);
    outb(COM1 + 1, 0x00);
    outb(COM1 + UART_LCR, 0x03);    /* 8N1 */
    outb(COM1 + UART_FCR, 0x07);    /* enable and clear FIFOs */
    outb(COM1 + UART_MCR, 0x03);    /* DTR | RTS */
}

static void uart_putc(char c)
{
    /* Bounded wait: an absent UART reads 0xff (THRE set), a wedged one must
     * not hang the kernel. */
    for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
        cpu_relax();
    outb(COM1 + UART_THR, c);
}

void uart_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            uart_putc('\r');
        uart_putc(s[i]);
    }
}
