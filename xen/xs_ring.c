/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xenstore client: the ring transport. Bytes are copied into the request
 * ring and out of the response ring of the page xenstored shares with us
 * (struct xenstore_domain_interface). The peer can rewrite that page at any
 * time: each index is loaded once, checked, and only then used, and indices
 * further apart than the ring are reported, never followed (the trust model
 * is in xen/xs_conn.c).
 */
#include <pvhk/types.h>
#include <pvhk/string.h>
#include <pvhk/xenstore.h>

/*
 * Ordering. Producer: load the peer's consumer index (acquire, so our data
 * stores cannot move above it and overwrite bytes it is still reading),
 * store the data, then publish the producer index (release, so the data is
 * visible first). Consumer: the mirror image. These are the read/write/full
 * barriers the ring protocol asks for; on x86 they cost nothing but compiler
 * ordering, and the builtins are freestanding. Our own index is loaded with
 * a relaxed atomic: the point is one load, so a peer rewriting it between
 * the check and the copy cannot make us overrun.
 */
static inline uint32_t idx_acquire(XENSTORE_RING_IDX *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline uint32_t idx_once(XENSTORE_RING_IDX *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void idx_release(XENSTORE_RING_IDX *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

long xs_ring_write(struct xenstore_domain_interface *intf, const void *buf,
                   size_t len)
{
    uint32_t cons = idx_acquire(&intf->req_cons);
    uint32_t prod = idx_once(&intf->req_prod);
    uint32_t used = prod - cons, off, n, first;

    if (used > XENSTORE_RING_SIZE)
        return -XEN_EIO;
    n = (uint32_t)MIN(len, (size_t)(XENSTORE_RING_SIZE - used));
    off = MASK_XENSTORE_IDX(prod);
    first = MIN(n, XENSTORE_RING_SIZE - off);
    memcpy(intf->req + off, buf, first);
    memcpy(intf->req, (const uint8_t *)buf + first, n - first);
    idx_release(&intf->req_prod, prod + n);
    return n;
}

long xs_ring_read(struct xenstore_domain_interface *intf, void *buf,
                  size_t len)
{
    uint32_t prod = idx_acquire(&intf->rsp_prod);
    uint32_t cons = idx_once(&intf->rsp_cons);
    uint32_t avail = prod - cons, off, n, first;

    if (avail > XENSTORE_RING_SIZE)
        return -XEN_EIO;
    n = (uint32_t)MIN(len, (size_t)avail);
    off = MASK_XENSTORE_IDX(cons);
    first = MIN(n, XENSTORE_RING_SIZE - off);
    memcpy(buf, intf->rsp + off, first);
    memcpy((uint8_t *)buf + first, intf->rsp, n - first);
    idx_release(&intf->rsp_cons, cons + n);
    return n;
}
