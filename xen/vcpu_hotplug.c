/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vCPU hotplug on a domU: `xl vcpu-set DOM N` writes "online" or "offline"
 * into cpu/<id>/availability for each vCPU in the guest's xenstore
 * directory (libxl's xenstore route for PV and PVH guests) and the guest
 * acts on it, as Linux does (drivers/xen/cpu_hotplug.c): a vCPU marked
 * offline is parked, one marked online again is restarted.
 *
 * Parking (arch/smp.c, smp_cpu_park()): the CPU leaves cpu_online_mask
 * under the cross-call lock, so no call can be waiting for it, then takes
 * itself down with VCPUOP_down; Xen stops scheduling it where it is.
 * Restarting: VCPUOP_up from another CPU; Xen resumes it just after its
 * VCPUOP_down, and it rejoins cpu_online_mask. Its event channels (IPI,
 * VIRQ_TIMER) stay bound to it: what arrives meanwhile waits, pending.
 * CPU 0 runs the self-tests and is never parked.
 */
#include <pvhk/printk.h>
#include <pvhk/smp.h>
#include <pvhk/string.h>
#include <pvhk/vcpu.h>
#include <pvhk/xenbus.h>
#include <pvhk/xenstore.h>
#include <xen/errno.h>

struct vcpu_hotplug_state vcpu_hotplug;

static void availability_changed(void *arg, const char *path, const char *token)
{
    char node[32], val[16];
    uint32_t len;

    (void)arg;
    (void)path;
    (void)token;
    vcpu_hotplug.events++;
    for (unsigned cpu = 1; cpu < nr_cpus; cpu++) {
        if (cpumask_test(&cpu_failed_mask, cpu))
            continue;
        snprintf(node, sizeof(node), "cpu/%u/availability", cpu);
        if (xs_read(xenbus(), 0, node, val, sizeof(val), &len))
            continue;
        bool online = cpumask_test(&cpu_online_mask, cpu);
        if (!strcmp(val, "offline") && online) {
            int rc = smp_cpu_park(cpu);
            vcpu_hotplug.parked += rc == 0;
            printk("pvhk: hotplug: CPU %u offline: %s\n", cpu, rc ? "not parked" : "parked");
        } else if (!strcmp(val, "online") && !online) {
            int rc = smp_cpu_unpark(cpu);
            vcpu_hotplug.restarted += rc == 0;
            printk("pvhk: hotplug: CPU %u online: %s (%d)\n", cpu,
                   rc ? "not restarted" : "restarted", rc);
        }
    }
}

int vcpu_hotplug_init(void)
{
    struct xs_conn *c = xenbus();

    if (!c)
        return -XEN_ENODEV;
    int rc = xs_watch(c, "cpu", availability_changed, NULL);
    if (rc < 0)
        return rc;
    vcpu_hotplug.active = true;
    return 0;
}
