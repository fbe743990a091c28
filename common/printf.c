/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vsnprintf for the kernel (pure; host tests compare it with libc's).
 * Supports %d %i %u %x %X %o %c %s %p %%, flags '-' '0', a width, a
 * precision for %s, and the length modifiers hh h l ll z t.
 */
#include <pvhk/printk.h>
#include <pvhk/string.h>

struct out { char *buf; size_t size, pos; };

static void put(struct out *o, char c)
{
    if (o->pos + 1 < o->size)
        o->buf[o->pos] = c;
    o->pos++;
}

static void put_padded(struct out *o, const char *s, size_t len, int width, bool left, char pad)
{
    int fill = width > (int)len ? width - (int)len : 0;

    if (!left)
        while (fill-- > 0)
            put(o, pad);
    for (size_t i = 0; i < len; i++)
        put(o, s[i]);
    if (left)
        while (fill-- > 0)
            put(o, ' ');
}

static void put_num(struct out *o, uint64_t v, bool neg, unsigned base, bool upper,
                    int width, bool left, bool zero, const char *prefix)
{
    char tmp[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t plen = prefix ? strlen(prefix) : 0;

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    int len = n + neg + (int)plen;
    int fill = width > len ? width - len : 0;

    if (!left && !zero)
        while (fill-- > 0)
            put(o, ' ');
    if (neg)
        put(o, '-');
    for (size_t i = 0; i < plen; i++)
        put(o, prefix[i]);
    if (!left && zero)
        while (fill-- > 0)
            put(o, '0');
    while (n)
        put(o, tmp[--n]);
    if (left)
        while (fill-- > 0)
            put(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        bool left = false, zero = false;
        int width = 0, prec = -1, lng = 0;

        for (;; fmt++) {
            if (fmt[1] == '-')
                left = true;
            else if (fmt[1] == '0')
                zero = true;
            else
                break;
        }
        fmt++;
        if (*fmt == '*') {
            width = va_arg(ap, int);
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                width = width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            prec = 0;
            if (*fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    prec = prec * 10 + (*fmt++ - '0');
            }
        }
        for (;; fmt++) {
            if (*fmt == 'l' || *fmt == 'z' || *fmt == 't')
                lng++;
            else if (*fmt == 'h')
                lng = -1;
            else
                break;
        }

        uint64_t u;
        int64_t s;
        switch (*fmt) {
        case 'd':
        case 'i':
            s = lng > 0 ? va_arg(ap, long long) : va_arg(ap, int);
            if (lng > 0 && lng < 2)
                s = (long)s;
            put_num(&o, s < 0 ? -(uint64_t)s : (uint64_t)s, s < 0, 10, false,
                    width, left, zero, NULL);
            break;
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            u = lng > 0 ? va_arg(ap, unsigned long long) : va_arg(ap, unsigned int);
            put_num(&o, u, false, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16,
                    *fmt == 'X', width, left, zero, NULL);
            break;
        case 'p':
            u = (uint64_t)(uintptr_t)va_arg(ap, void *);
            put_num(&o, u, false, 16, false, width, left, zero, "0x");
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            size_t len = prec >= 0 ? strnlen(str, prec) : strlen(str);
            put_padded(&o, str, len, width, left, ' ');
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case '\0':
            fmt--;
            break;
        default:
            put(&o, '%');
            put(&o, *fmt);
            break;
        }
    }
    if (size)
        buf[o.pos < size ? o.pos : size - 1] = '\0';
    return (int)o.pos;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
