/* SPDX-License-Identifier: BSD-2-Clause */
/* A frame-pointer backtrace, for the reports of a panic and of a trap. */
#include <pvhk/printk.h>
#include <pvhk/trap.h>

extern const char __text_start[], __text_end[];

/*
 * Walk saved frame pointers (the kernel is built with -fno-omit-frame-pointer).
 * Stop at a null or misaligned rbp, or after a fixed depth, so a corrupt
 * chain cannot fault inside the report.
 */
void backtrace_from(uint64_t rbp, uint64_t rip)
{
    printk("  backtrace:\n");
    printk("    [<%016llx>]\n", (unsigned long long)rip);
    for (int depth = 0; depth < 24; depth++) {
        if (!rbp || (rbp & 7) || rbp < 0x1000 || rbp >= (1ull << 47))
            break;
        const uint64_t *fp = (const uint64_t *)rbp;
        uint64_t ret = fp[1];
        if (ret < (uint64_t)__text_start || ret >= (uint64_t)__text_end)
            break;
        printk("    [<%016llx>]\n", (unsigned long long)ret);
        rbp = fp[0];
    }
}
