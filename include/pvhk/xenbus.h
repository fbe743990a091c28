/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A domU's toolstack-facing services: the xenstore connection (the pure
 * client of <pvhk/xenstore.h> on the shared ring), the PV console ring, the
 * balloon driver (memory/target) and shutdown control (control/shutdown).
 *
 * None of this exists for dom0 (pvhk's dom0 runs have no xenstored) or on
 * bare metal: xen_domu_services_init() does nothing there and the self-tests
 * skip. Watch callbacks never run from the event channel handler: the store
 * port's handler only records that the ring moved, and callbacks run at
 * service points (xenbus_service(), the control phase), in normal context,
 * where they may issue requests and block. See docs/xen-services.md.
 */
#ifndef PVHK_XENBUS_H
#define PVHK_XENBUS_H

#include <pvhk/types.h>
#include <pvhk/xenstore.h>
#include <xen/io/console.h>

/* ---- xenstore ------------------------------------------------------------ */

/*
 * Connect to xenstore (the ring and port Xen's HVM params name) and read
 * our domid and name. Called by xen_domu_services_init() (xen/services.c)
 * once event channels and timers are up. Returns 0, or an error with
 * xenbus_error saying why.
 */
int xenbus_init(void);

/* The connection, or NULL when there is none (dom0, bare, failed init). */
struct xs_conn *xenbus(void);
extern const char *xenbus_error;        /* why there is no connection */
extern int xenbus_errno;

/* Each wait for the daemon gives up after this long (-XEN_ETIMEDOUT). */
#define XENBUS_WAIT_NS          (5000ull * 1000 * 1000)

struct xenbus_info {
    uint64_t ring_pfn;                  /* HVM_PARAM_STORE_PFN */
    uint32_t port;                      /* HVM_PARAM_STORE_EVTCHN */
    uint32_t domid;                     /* from the "domid" node */
    char name[64];                      /* from the "name" node */
};
extern struct xenbus_info xenbus_info;

struct xenbus_stats {
    uint64_t events;                    /* store port handler runs */
    uint64_t waits;                     /* wait callbacks that blocked */
    uint64_t timeouts;                  /* ...and gave up */
    uint64_t callbacks;                 /* watch callbacks run */
};
extern struct xenbus_stats xenbus_stats;

/*
 * Deliver queued and newly arrived watch events to their callbacks, until
 * none is left. Returns the callbacks run, or the connection's error.
 */
int xenbus_service(void);

/*
 * Service watch events as they come, blocked in Xen in between, until
 * stop(arg) holds or `ns` have passed. Returns 1 when stop held, 0 at the
 * time limit, -XEN_ENODEV without a connection, or the error that broke it.
 */
int xenbus_service_until(bool (*stop)(void *), void *arg, uint64_t ns);

/*
 * The control phase (xen/shutdown.c): xenbus_service_until() a shutdown
 * request has been accepted, for up to `ns`. Returns true if it ended on a
 * shutdown request.
 */
bool xenbus_control_phase(uint64_t ns);

/* ---- PV console ---------------------------------------------------------- */

struct pvcons_stats {
    uint64_t ring_pfn;
    uint32_t port;
    uint64_t written;                   /* bytes put in the out ring */
    uint64_t dropped;                   /* bytes dropped: the reader stalled */
    uint64_t stalls;                    /* times a write gave up waiting */
    uint64_t kicks;                     /* notifications sent */
    uint64_t input;                     /* bytes taken from the in ring */
};
extern struct pvcons_stats pvcons_stats;

/* How long one write waits for the reader to make room before dropping. */
#define PVCONS_STALL_NS         (50ull * 1000 * 1000)

int pvcons_init(void);
/* The ring, or NULL: for the self-tests. */
struct xencons_interface *pvcons_ring(void);
/* The console sink's write: never waits longer than PVCONS_STALL_NS. */
void pvcons_write(const char *s, size_t len);
/* Self-tests only: write to another ring (a fake with no reader) and get
 * the current one back; the stall state is reset. */
struct xencons_interface *pvcons_swap_ring(struct xencons_interface *r);
/* Take up to n bytes of console input from the ring (polled); returns the count. */
size_t pvcons_read(char *buf, size_t n);

/* ---- balloon ------------------------------------------------------------- */

struct balloon_state {
    bool active;                        /* the memory/target watch is set */
    uint64_t events;                    /* target changes seen */
    uint64_t target_kib;                /* the last memory/target */
    uint64_t wanted;                    /* backed frames it asks for */
    uint64_t reached;                   /* backed frames after it */
    uint64_t pool_pages;                /* RAM given to the scratch pool */
    long reservation;                   /* Xen's count after it */
    int rc;                             /* p2m_set_target(), last call */
    uint64_t failures;                  /* calls that did not reach it */
};
extern struct balloon_state balloon;

int balloon_init(void);

/* ---- shutdown control ---------------------------------------------------- */

struct shutdown_state {
    bool active;                        /* control/shutdown watched */
    int requested;                      /* SHUTDOWN_* accepted, or -1 */
    char command[16];                   /* what the toolstack wrote */
    uint64_t events, ignored;
};
extern struct shutdown_state shutdown_ctl;

int shutdown_init(void);

/* ---- vCPU hotplug (xen/vcpu_hotplug.c, docs/smp.md) ---------------------- */

struct vcpu_hotplug_state {
    bool active;            /* the watch on cpu/ is set */
    unsigned events;        /* watch events serviced */
    unsigned parked, restarted;
};
extern struct vcpu_hotplug_state vcpu_hotplug;
/* Watch cpu/<id>/availability: "offline" parks that CPU, "online" restarts it. */
int vcpu_hotplug_init(void);

#endif
