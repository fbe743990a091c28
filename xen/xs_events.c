/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xenstore client: the watch-event queue. Events that arrive while a reply
 * is awaited are copied into a bounded byte ring in caller storage and
 * delivered later by xs_conn_dispatch (xen/xs_conn.c); one that does not
 * fit is dropped and marks the queue overflowed.
 */
#include <pvhk/types.h>
#include <pvhk/string.h>
#include <pvhk/xenstore.h>

/* Records: u16 path length, u16 token length, path bytes, token bytes. */
#define EVQ_HDR 4u

void xs_evq_init(struct xs_evq *q, void *buf, size_t size)
{
    q->buf = buf;
    q->size = (uint32_t)MIN(size, (size_t)UINT32_MAX);
    q->head = q->used = q->count = q->dropped = 0;
    q->overflowed = false;
}

static void evq_put(struct xs_evq *q, uint32_t at, const void *src, uint32_t n)
{
    uint32_t off = at % q->size, first = MIN(n, q->size - off);

    memcpy(q->buf + off, src, first);
    memcpy(q->buf, (const uint8_t *)src + first, n - first);
}

static void evq_get(const struct xs_evq *q, uint32_t at, void *dst, uint32_t n)
{
    uint32_t off = at % q->size, first = MIN(n, q->size - off);

    memcpy(dst, q->buf + off, first);
    memcpy((uint8_t *)dst + first, q->buf, n - first);
}

bool xs_evq_push(struct xs_evq *q, const char *path, uint32_t plen,
                 const char *token, uint32_t tlen)
{
    uint32_t need = EVQ_HDR + plen + tlen, tail;
    uint8_t hdr[EVQ_HDR];

    if (plen > 0xffff || tlen > 0xffff || need > q->size - q->used) {
        q->overflowed = true;
        q->dropped++;
        return false;
    }
    hdr[0] = (uint8_t)plen;
    hdr[1] = (uint8_t)(plen >> 8);
    hdr[2] = (uint8_t)tlen;
    hdr[3] = (uint8_t)(tlen >> 8);
    tail = q->head + q->used;
    evq_put(q, tail, hdr, EVQ_HDR);
    evq_put(q, tail + EVQ_HDR, path, plen);
    evq_put(q, tail + EVQ_HDR + plen, token, tlen);
    q->used += need;
    q->count++;
    return true;
}

int xs_evq_pop(struct xs_evq *q, char *path, size_t psz, char *token,
               size_t tsz)
{
    uint8_t hdr[EVQ_HDR];
    uint32_t plen, tlen, rec;
    int rc = 1;

    if (!q->count)
        return 0;
    evq_get(q, q->head, hdr, EVQ_HDR);
    plen = hdr[0] | (uint32_t)hdr[1] << 8;
    tlen = hdr[2] | (uint32_t)hdr[3] << 8;
    rec = EVQ_HDR + plen + tlen;
    if (plen >= psz || tlen >= tsz) {
        /* Lost like an overflow: the refire-all rule covers it. */
        q->overflowed = true;
        q->dropped++;
        rc = -XEN_ENOBUFS;
    } else {
        evq_get(q, q->head + EVQ_HDR, path, plen);
        evq_get(q, q->head + EVQ_HDR + plen, token, tlen);
        path[plen] = '\0';
        token[tlen] = '\0';
    }
    q->head = (q->head + rec) % q->size;
    q->used -= rec;
    q->count--;
    return rc;
}
