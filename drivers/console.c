/* SPDX-License-Identifier: BSD-2-Clause */
/* printk and console selection. */
#include <pvhk/console.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/smp.h>
#include <pvhk/spinlock.h>
#include <pvhk/string.h>

static struct console con_uart = { "uart", uart_write, NULL };
static struct console con_hvc = { "xen-console-io", xen_hvc_write, NULL };
static struct console con_e9 = { "xen-port-e9", xen_e9_write, NULL };
static struct console *consoles;
/* One printk at a time, so lines from different CPUs do not interleave.
 * Recursion (a fault inside a console driver) and a holder stopped by a
 * panic must not hang the report: the lock is given up after a bounded
 * wait, and the holder CPU writes through without it. */
static spinlock_t console_lock = SPINLOCK_INIT("console");
static int console_holder = -1;

void console_register(struct console *c)
{
    struct console **p = &consoles;

    while (*p)
        p = &(*p)->next;
    c->next = NULL;
    *p = c;
}

void console_init(void)
{
    switch (platform) {
    case PLATFORM_BARE:
        uart_init();
        console_register(&con_uart);
        break;
    case PLATFORM_XEN_DOM0:
        console_register(&con_hvc);
        break;
    case PLATFORM_XEN_DOMU:
        console_register(&con_e9);
        break;
    }
}

const char *console_names(char *buf, size_t len)
{
    size_t pos = 0;

    buf[0] = '\0';
    for (struct console *c = consoles; c; c = c->next)
        pos += snprintf(buf + pos, pos < len ? len - pos : 0, "%s%s", pos ? "," : "", c->name);
    return buf;
}

static void write_all(const char *s, size_t len)
{
    for (struct console *c = consoles; c; c = c->next)
        c->write(s, len);
}

void console_write(const char *s, size_t len)
{
    int me = (int)smp_processor_id();

    if (__atomic_load_n(&console_holder, __ATOMIC_RELAXED) == me) {
        write_all(s, len);
        return;
    }
    unsigned long flags = local_irq_save();
    bool locked = false;
    /* ~2^26 pauses: far beyond any line's output, short of a hang. */
    for (uint32_t i = 0; i < (1u << 26) && !(locked = raw_spin_trylock(&console_lock)); i++)
        cpu_relax();
    if (locked)
        __atomic_store_n(&console_holder, me, __ATOMIC_RELAXED);
    write_all(s, len);
    if (locked) {
        __atomic_store_n(&console_holder, -1, __ATOMIC_RELAXED);
        raw_spin_unlock(&console_lock);
    }
    local_irq_restore(flags);
}

void printk(const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof(buf)) {
        /* Truncated: keep the line ending so the log stays line-oriented. */
        n = sizeof(buf) - 1;
        buf[n - 1] = '\n';
    }
    console_write(buf, n);
}
