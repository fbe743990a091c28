/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kmain: from head.S (long mode, identity-mapped low 4 GiB, boot stack) to
 * the self-tests and the end of the run.
 */
#include <pvhk/arch.h>
#include <pvhk/boot.h>
#include <pvhk/cmdline.h>
#include <pvhk/console.h>
#include <pvhk/hypercall.h>
#include <pvhk/mm.h>
#include <pvhk/paging.h>
#include <pvhk/platform.h>
#include <pvhk/printk.h>
#include <pvhk/selftest.h>
#include <pvhk/smp.h>
#include <pvhk/start_info.h>
#include <pvhk/string.h>
#include <pvhk/time.h>
#include <pvhk/trap.h>
#include <pvhk/xen.h>
#include <pvhk/xenbus.h>

uint64_t boot_first_test_tsc;

void kmain(uint32_t si_paddr, uint64_t entry_tsc)
{
    char buf[64];

    /* First: this_cpu() and smp_processor_id() work from here on. */
    percpu_init(0);
    cpu_init();
    hypercall_init();
    /* start_info is read once, before the console: which console exists
     * depends on the platform, and dom0 versus domU on its flags. */
    const char *refused = start_info_copy(si_paddr);
    boot_info.entry_tsc = entry_tsc;
    xen_cpuid_base = xen_detect_cpuid();
    platform = platform_choose(xen_cpuid_base, &boot_info);
    console_init();

    printk("\npvhk: booting on %s (cpu vendor %s, xen cpuid base 0x%x, hypercall %s, "
           "console %s)\n", platform_name(platform),
           cpu_vendor == CPU_VENDOR_AMD ? "amd" : cpu_vendor == CPU_VENDOR_INTEL ? "intel" : "other",
           xen_cpuid_base, hypercall_use_vmmcall ? "vmmcall" : "vmcall",
           console_names(buf, sizeof(buf)));
    if (refused)
        panic("start_info at 0x%llx: %s", (unsigned long long)si_paddr, refused);
    boot_info_print();
    traps_init();
    boot_memmap_fetch();
    printk("pvhk: memory map: %u raw entries from %s\n", boot_info.nr_memmap,
           boot_info.memmap_source ? boot_info.memmap_source : "none");
    mm_map_init();
    /* The direct map covers every RAM and UNUSABLE page, and at least the
     * low 4 GiB (the boot tables already did). */
    uint64_t top = e820_top_inward(&e820);
    paging_init(top > (4ull << 30) ? top : 4ull << 30);
    printk("pvhk: paging: identity map to 0x%llx, NX %s, 1G pages %s, image 0x%llx-0x%llx\n",
           (unsigned long long)paging_map_end, cpu_has_nx ? "on" : "unsupported",
           cpu_has_1g_pages ? "yes" : "no", (unsigned long long)(uintptr_t)__image_start,
           (unsigned long long)(uintptr_t)__image_end);
    time_init();
    printk("pvhk: tsc %llu kHz (%s)\n", (unsigned long long)tsc_khz, tsc_khz_source);
    memblock_boot_init();
    heap_init();
    smp_boot_cpu_init();
    if (on_xen())
        xen_services_init();
    smp_boot();
    xen_domu_services_init();

    char sel[128] = "all";
    cmdline_find(boot_cmdline, "selftest", sel, sizeof(sel));
    boot_first_test_tsc = rdtsc();
    printk("pvhk: boot: entry to first self-test %llu cycles (%llu us)\n",
           (unsigned long long)(boot_first_test_tsc - entry_tsc),
           (unsigned long long)(tsc_to_ns(boot_first_test_tsc - entry_tsc) / 1000));
    /* selftest=none selects no suite: an empty plan ("1..0") and a verdict
     * of zeros, so the harness still sees a whole report. */
    if (!strcmp(sel, "none"))
        printk("pvhk: self-tests disabled by selftest=none\n");
    selftest_run(sel);
}
