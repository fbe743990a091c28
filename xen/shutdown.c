/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shutdown control: the toolstack's `xl shutdown` / `xl reboot` write
 * "poweroff" / "reboot" into control/shutdown; the guest acknowledges by
 * clearing the node and shuts down with the matching reason.
 *
 * As Linux does (drivers/xen/manage.c): write control/feature-<cmd> = "1"
 * for the commands we handle, poweroff and reboot ("halt" is accepted as
 * poweroff but not advertised; "suspend" is neither, since pvhk cannot
 * resume); read the node and clear it in one transaction, and only for a
 * command we handle, so an unknown request stays visible to the toolstack.
 * libxl pre-creates these nodes writable for the guest (the rest of
 * control/ is read-only to it).
 *
 * When: the request is accepted as soon as the watch event is serviced.
 * The reason is latched with SCHEDOP_shutdown_code at once: Xen's
 * domain_shutdown() reports a latched code instead of the reason it is
 * given, so however pvhk's run ends from here (the verdict, then
 * SCHEDOP_shutdown(poweroff), or (crash) when the run breaks: see
 * common/report.c), xl sees the requested reason. The control phase (xenbus.wait) ends at once on a
 * request; self-tests still running finish first, so the run still ends
 * with a complete verdict.
 */
#include <pvhk/hypercall.h>
#include <pvhk/printk.h>
#include <pvhk/string.h>
#include <pvhk/xenbus.h>
#include <xen/sched.h>

static const struct {
    const char *cmd;
    unsigned reason;
    bool advertise;
} commands[] = {
    { "poweroff", SHUTDOWN_poweroff, true },
    { "reboot", SHUTDOWN_reboot, true },
    { "halt", SHUTDOWN_poweroff, false },
};
#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

struct shutdown_state shutdown_ctl = { .requested = -1 };

struct ack {
    char value[16];
    int cmd;                            /* index into commands[], or -1 */
};

static int ack_body(struct xs_conn *c, uint32_t tx, void *arg)
{
    struct ack *a = arg;
    uint32_t len;
    int rc = xs_read(c, tx, "control/shutdown", a->value, sizeof(a->value), &len);

    a->cmd = -1;
    if (rc == -XEN_ENOENT || rc == -XEN_ENOBUFS) {
        /* Gone, or longer than any command we know: not ours. */
        a->value[0] = '\0';
        return 0;
    }
    if (rc)
        return rc;
    for (unsigned i = 0; i < NR_COMMANDS; i++)
        if (!strcmp(a->value, commands[i].cmd))
            a->cmd = (int)i;
    if (a->cmd < 0)
        return 0;
    return xs_write(c, tx, "control/shutdown", "", 0);
}

static void shutdown_changed(void *arg, const char *path, const char *token)
{
    struct ack a;
    unsigned tries;

    (void)arg;
    (void)path;
    (void)token;
    shutdown_ctl.events++;
    int rc = xs_transaction_run(xenbus(), ack_body, &a, 8, &tries);
    if (rc) {
        printk("pvhk: shutdown: cannot read control/shutdown: %s\n", xs_errno_name(rc));
        return;
    }
    if (!a.value[0])
        return;                         /* the initial event, or our own ack */
    if (a.cmd < 0) {
        shutdown_ctl.ignored++;
        printk("pvhk: shutdown: ignoring request \"%s\"\n", a.value);
        return;
    }
    if (shutdown_ctl.requested >= 0)
        return;                         /* one is enough */
    struct sched_shutdown s = { .reason = commands[a.cmd].reason };
    long hrc = xen_sched_op(SCHEDOP_shutdown_code, &s);
    shutdown_ctl.requested = (int)s.reason;
    snprintf(shutdown_ctl.command, sizeof(shutdown_ctl.command), "%s", a.value);
    printk("pvhk: shutdown: \"%s\" requested by the toolstack: acknowledged, reason %s "
           "latched (%ld)\n", a.value, s.reason == SHUTDOWN_reboot ? "reboot" : "poweroff", hrc);
}

int shutdown_init(void)
{
    struct xs_conn *c = xenbus();
    char node[40];
    int rc;

    if (!c)
        return -XEN_ENODEV;
    for (unsigned i = 0; i < NR_COMMANDS; i++) {
        if (!commands[i].advertise)
            continue;
        snprintf(node, sizeof(node), "control/feature-%s", commands[i].cmd);
        rc = xs_write_str(c, 0, node, "1");
        if (rc)
            return rc;
    }
    rc = xs_watch(c, "control/shutdown", shutdown_changed, NULL);
    if (rc < 0)
        return rc;
    shutdown_ctl.active = true;
    return 0;
}

static bool requested(void *arg)
{
    (void)arg;
    return shutdown_ctl.requested >= 0;
}

bool xenbus_control_phase(uint64_t ns)
{
    int rc = xenbus_service_until(requested, NULL, ns);

    if (rc < 0 && rc != -XEN_ENODEV)
        printk("pvhk: control: xenstore connection lost (%d)\n", rc);
    return rc == 1;
}
