/* SPDX-License-Identifier: BSD-2-Clause */
/* Self-tests: what the PVH loader gave us and what we made of it. */
#include <pvhk/arch.h>
#include <pvhk/boot.h>
#include <pvhk/cmdline.h>
#include <pvhk/hypercall.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/string.h>
#include <xen/version.h>

/* The first occurrence of the n bytes w in s, or NULL. */
static const char *strstr_n(const char *s, const char *w, size_t n)
{
    for (; *s; s++)
        if (!strncmp(s, w, n))
            return s;
    return NULL;
}

/* The harness passes expect.platform=bare|dom0|domU so detection is checked
 * against the truth rather than against itself. */
KTEST(boot, platform_detected)
{
    char want[16];

    if (!cmdline_find(boot_cmdline, "expect.platform", want, sizeof(want)))
        KT_SKIP(t, "no expect.platform= on the command line");
    KT_EXPECT(t, !strcmp(want, platform_name(platform)));
    if (strcmp(want, platform_name(platform)))
        ktest_note(t, "expected %s, detected %s", want, platform_name(platform));
    KT_EXPECT(t, (xen_cpuid_base != 0) == on_xen());
}

KTEST(boot, start_info_parsed)
{
    const struct boot_info *bi = &boot_info;

    KT_EXPECT(t, bi->version <= 1);
    /* PVH dom0 gets v0 and no memmap; QEMU and libxl give v1 with one. */
    if (platform == PLATFORM_XEN_DOM0) {
        KT_EXPECT(t, bi->version == 0);
        KT_EXPECT(t, bi->flags & SIF_INITDOMAIN);
        KT_EXPECT(t, bi->flags & SIF_PRIVILEGED);
    } else {
        KT_EXPECT(t, bi->version == 1);
        KT_EXPECT(t, bi->memmap_entries_given > 0);
        KT_EXPECT(t, !(bi->flags & SIF_INITDOMAIN));
    }
    /*
     * The command line: copied whole if it fits, else cut by the rule of
     * cmdline_keep() (a long command line is the user's right: it is
     * warned about in the boot log, never failed).
     */
    const struct cmdline_keep_report *r = &bi->cmdline_rep;
    KT_EXPECT(t, r->given == bi->cmdline_len);
    KT_EXPECT(t, strlen(boot_cmdline) == r->kept);
    KT_EXPECT(t, r->kept <= BOOT_CMDLINE_MAX - 1);
    KT_EXPECT(t, r->truncated == (r->given > BOOT_CMDLINE_MAX - 1));
    if (!r->truncated)
        KT_EXPECT(t, r->kept == r->given);
    else
        ktest_note(t, "command line truncated: %zu bytes given, %zu kept", r->given, r->kept);
    if (!bi->cmdline_paddr)
        KT_EXPECT(t, boot_cmdline[0] == '\0' && r->given == 0);
}

/*
 * The original command line stays reserved (mm/heap.c), so it can be read
 * again now, after the heap and every self-test before this one ran: it is
 * still the same, and boot_cmdline is exactly what cmdline_keep() makes of
 * it (in particular, every selftest/expect word of it is in boot_cmdline).
 */
KTEST(boot, cmdline_copy_matches_original)
{
    static char again[BOOT_CMDLINE_MAX];
    const struct boot_info *bi = &boot_info;
    struct cmdline_keep_report rep;

    if (!bi->cmdline_paddr)
        KT_SKIP(t, "no command line");
    if (bi->cmdline_paddr < PAGE_SIZE)
        KT_SKIP(t, "the original is in page 0, which paging unmaps");
    const char *orig = (const char *)(uintptr_t)bi->cmdline_paddr;
    KT_EXPECT(t, strnlen(orig, BOOT_CMDLINE_SCAN_MAX) == bi->cmdline_len);
    cmdline_keep(again, sizeof(again), orig, bi->cmdline_len, &rep);
    KT_EXPECT(t, !strcmp(again, boot_cmdline));
    KT_EXPECT(t, rep.kept == bi->cmdline_rep.kept && rep.cut_at == bi->cmdline_rep.cut_at);
    unsigned harness = 0, found = 0;
    for (const char *p = orig; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        const char *w = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
        if (p == w || !cmdline_is_harness_word(w, p - w))
            continue;
        harness++;
        /* Look for the same word, whole, in the copy. */
        for (const char *c = boot_cmdline; (c = strstr_n(c, w, p - w)); c++)
            if ((c == boot_cmdline || c[-1] == ' ') && (c[p - w] == ' ' || !c[p - w])) {
                found++;
                break;
            }
    }
    if (!rep.harness_dropped)
        KT_EXPECT(t, found == harness);
}

KTEST(boot, memory_map_source)
{
    const struct boot_info *bi = &boot_info;

    KT_ASSERT(t, bi->nr_memmap > 0);
    KT_ASSERT(t, bi->memmap_source != NULL);
    if (bi->version >= 1)
        KT_EXPECT(t, !strcmp(bi->memmap_source, "start_info v1 memmap"));
    else
        KT_EXPECT(t, !strcmp(bi->memmap_source, "XENMEM_memory_map"));
    /* Some RAM must exist, and it must include the kernel image. */
    bool image_in_ram = false;
    for (unsigned i = 0; i < bi->nr_memmap; i++) {
        const struct boot_mem_entry *e = &bi->memmap[i];
        if (e->type == 1 && e->addr <= (uint64_t)(uintptr_t)__image_start &&
            e->addr + e->size >= (uint64_t)(uintptr_t)__image_end)
            image_in_ram = true;
    }
    KT_EXPECT(t, image_in_ram);
}

KTEST(boot, xen_version_hypercall)
{
    if (!on_xen())
        KT_SKIP(t, "not under Xen");
    long v = xen_version(XENVER_version, NULL);
    ktest_note(t, "Xen %ld.%ld", v >> 16, v & 0xffff);
    KT_EXPECT(t, v > 0);
    KT_EXPECT(t, (v >> 16) >= 4);
}

/* Deliberate failures, only when asked for: they prove the harness notices. */
KTEST_OPTIN(selftest, deliberate_failure, "selftest.fail")
{
    KT_EXPECT(t, 1 + 1 == 3);
}

KTEST_OPTIN(selftest, deliberate_panic, "selftest.panic")
{
    (void)t;
    panic("deliberate panic requested by selftest.panic=1");
}

KTEST_OPTIN(selftest, deliberate_hang, "selftest.hang")
{
    (void)t;
    /* Spin, do not halt: Xen takes HLT with interrupts off as the vCPU
     * going down and powers a domain off when all its vCPUs are down
     * (hvm_hlt()), which would look like an orderly exit, not a hang. */
    for (;;)
        cpu_relax();
}

KTEST_OPTIN(selftest, deliberate_fault, "selftest.fault")
{
    /* An unexpected #PF: the trap report and an ERROR verdict must follow.
     * The address comes through a volatile so the compiler cannot see it. */
    static volatile uintptr_t bad = 0x10;
    (void)t;
    *(volatile uint64_t *)bad = 1;
}
