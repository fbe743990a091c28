/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xenstore client core: message encoding and parsing, ring transport,
 * the request/reply loop with watch-event queueing, transactions.
 *
 * Trust model: xenstored runs in another domain and shares the ring page
 * with us, so every index and length read from shared memory is read once,
 * checked, and only then used. A message whose header claims more than
 * XENSTORE_PAYLOAD_MAX, or ring indices further apart than the ring, leave
 * the byte stream unframeable: the connection is marked dead for good.
 * Anything else malformed (a bad error string, a bad watch event) is dropped
 * or returned as an error with the stream still in sync.
 */
#include <pvhk/types.h>
#include <pvhk/string.h>
#include <pvhk/xs_wire.h>

/* ---- encoding ------------------------------------------------------------ */

long xs_encode(void *buf, size_t bufsz, uint32_t type, uint32_t req_id,
               uint32_t tx_id, const char *const *strs, unsigned nstrs,
               const void *raw, size_t rawlen)
{
    struct xsd_sockmsg h;
    size_t len = 0, sl[8];
    uint8_t *p = buf;

    if (nstrs > ARRAY_SIZE(sl))
        return -XEN_EINVAL;
    /* strnlen: a runaway string must not be scanned beyond what could fit. */
    for (unsigned i = 0; i < nstrs; i++) {
        sl[i] = strnlen(strs[i], XENSTORE_PAYLOAD_MAX + 1);
        len += sl[i] + 1;
        if (len > XENSTORE_PAYLOAD_MAX)
            return -XEN_E2BIG;
    }
    if (rawlen > XENSTORE_PAYLOAD_MAX - len)
        return -XEN_E2BIG;
    len += rawlen;
    if (bufsz < XS_HDR_SIZE + len)
        return -XEN_ENOBUFS;

    h.type = type;
    h.req_id = req_id;
    h.tx_id = tx_id;
    h.len = (uint32_t)len;
    memcpy(p, &h, sizeof(h));
    p += sizeof(h);
    for (unsigned i = 0; i < nstrs; i++) {
        memcpy(p, strs[i], sl[i]);
        p[sl[i]] = '\0';
        p += sl[i] + 1;
    }
    if (rawlen)
        memcpy(p, raw, rawlen);
    return (long)(XS_HDR_SIZE + len);
}

/* ---- decoding ------------------------------------------------------------ */

long xs_msg_peek(const void *buf, size_t n)
{
    struct xsd_sockmsg h;

    if (n < XS_HDR_SIZE)
        return 0;
    memcpy(&h, buf, sizeof(h));         /* buf may be unaligned */
    if (h.len > XENSTORE_PAYLOAD_MAX)
        return -XEN_EMSGSIZE;
    return (long)(XS_HDR_SIZE + h.len);
}

int xs_msg_parse(const void *buf, size_t n, struct xs_msg *m)
{
    struct xsd_sockmsg h;
    long total = xs_msg_peek(buf, n);

    if (total < 0)
        return (int)total;
    if (total == 0 || (size_t)total != n)
        return -XEN_EBADMSG;
    memcpy(&h, buf, sizeof(h));
    if (h.type >= XS_TYPE_COUNT)
        return -XEN_EBADMSG;
    m->type = h.type;
    m->req_id = h.req_id;
    m->tx_id = h.tx_id;
    m->len = h.len;
    m->body = (const char *)buf + XS_HDR_SIZE;
    return 0;
}

/*
 * The error strings. The first block is what C xenstored can send (the
 * xsd_errors table in <xen/io/xs_wire.h>; it maps an errno it cannot
 * translate to "EINVAL"); "EQUOTA" is oxenstored's answer when a domain's
 * quota is exhausted. The last block never crosses the wire: they are this
 * client's own codes, listed so xs_errno_name can print them.
 */
static const struct {
    int err;
    char name[10];
    bool wire;
} xs_errtab[] = {
    { -XEN_EINVAL, "EINVAL", true },    { -XEN_EACCES, "EACCES", true },
    { -XEN_EEXIST, "EEXIST", true },    { -XEN_EISDIR, "EISDIR", true },
    { -XEN_ENOENT, "ENOENT", true },    { -XEN_ENOMEM, "ENOMEM", true },
    { -XEN_ENOSPC, "ENOSPC", true },    { -XEN_EIO, "EIO", true },
    { -XEN_ENOTEMPTY, "ENOTEMPTY", true }, { -XEN_ENOSYS, "ENOSYS", true },
    { -XEN_EROFS, "EROFS", true },      { -XEN_EBUSY, "EBUSY", true },
    { -XEN_EAGAIN, "EAGAIN", true },    { -XEN_EISCONN, "EISCONN", true },
    { -XEN_E2BIG, "E2BIG", true },      { -XEN_EPERM, "EPERM", true },
    { -XEN_ENOSPC, "EQUOTA", true },
    { -XEN_EBADMSG, "EBADMSG", false }, { -XEN_EMSGSIZE, "EMSGSIZE", false },
    { -XEN_ENOBUFS, "ENOBUFS", false }, { -XEN_ETIMEDOUT, "ETIMEDOUT", false },
};

int xs_error_decode(const char *body, uint32_t len)
{
    /* The daemons send the name with its NUL; tolerate it missing. */
    if (len && body[len - 1] == '\0')
        len--;
    if (len == 0 || len >= sizeof(xs_errtab[0].name))
        return -XEN_EIO;
    for (unsigned i = 0; i < ARRAY_SIZE(xs_errtab); i++)
        if (xs_errtab[i].wire && !memcmp(xs_errtab[i].name, body, len) &&
            xs_errtab[i].name[len] == '\0')
            return xs_errtab[i].err;
    return -XEN_EIO;
}

const char *xs_errno_name(int err)
{
    if (err == 0)
        return "OK";
    for (unsigned i = 0; i < ARRAY_SIZE(xs_errtab); i++)
        if (xs_errtab[i].err == err)
            return xs_errtab[i].name;
    return "E?";
}

int xs_reply_check(const struct xs_msg *m, uint32_t type, uint32_t tx_id)
{
    if (m->type == XS_ERROR)
        return xs_error_decode(m->body, m->len);
    if (m->type != type)
        return -XEN_EBADMSG;
    /*
     * The daemon echoes the request header, tx_id included. Only the answer
     * to TRANSACTION_START is exempt: the new id is in its payload, and
     * what the header carries there is not something to depend on.
     */
    if (type != XS_TRANSACTION_START && m->tx_id != tx_id)
        return -XEN_EBADMSG;
    return 0;
}

int xs_strings_next(const char *body, uint32_t len, uint32_t *pos,
                    const char **s, uint32_t *slen)
{
    uint32_t i = *pos;

    if (i >= len)
        return 0;
    for (uint32_t j = i; j < len; j++) {
        if (body[j] == '\0') {
            *s = body + i;
            *slen = j - i;
            *pos = j + 1;
            return 1;
        }
    }
    return -XEN_EBADMSG;
}

int xs_strings_count(const char *body, uint32_t len)
{
    uint32_t pos = 0, sl;
    const char *s;
    int n = 0, r;

    while ((r = xs_strings_next(body, len, &pos, &s, &sl)) > 0)
        n++;
    return r < 0 ? r : n;
}

int xs_watch_event_parse(const struct xs_msg *m, const char **path,
                         const char **token)
{
    uint32_t pos = 0, pl, tl;

    if (m->type != XS_WATCH_EVENT)
        return -XEN_EBADMSG;
    if (xs_strings_next(m->body, m->len, &pos, path, &pl) <= 0 ||
        xs_strings_next(m->body, m->len, &pos, token, &tl) <= 0 ||
        pos != m->len || pl == 0)
        return -XEN_EBADMSG;
    return 0;
}

int xs_parse_u32(const char *body, uint32_t len, uint32_t *out)
{
    uint64_t v = 0;

    if (len && body[len - 1] == '\0')
        len--;
    if (len == 0)
        return -XEN_EBADMSG;
    /* Any number of leading zeros: the value decides, checked per digit
     * (v stays below 2^33, so it never wraps). */
    for (uint32_t i = 0; i < len; i++) {
        if (body[i] < '0' || body[i] > '9')
            return -XEN_EBADMSG;
        v = v * 10 + (uint64_t)(body[i] - '0');
        if (v > UINT32_MAX)
            return -XEN_EBADMSG;
    }
    *out = (uint32_t)v;
    return 0;
}

/* ---- ring transport ------------------------------------------------------ */

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

/* ---- watch event queue ---------------------------------------------------- */

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

/* ---- connection ----------------------------------------------------------- */

void xs_conn_init(struct xs_conn *c, struct xenstore_domain_interface *intf,
                  void (*kick)(void *), int (*wait)(void *), void *ctx,
                  void *evbuf, size_t evbuf_size,
                  struct xs_watch *watches, unsigned nr_watches)
{
    memset(c, 0, sizeof(*c));
    c->intf = intf;
    c->kick = kick;
    c->wait = wait;
    c->ctx = ctx;
    c->next_req_id = 1;
    xs_evq_init(&c->events, evbuf, evbuf_size);
    c->watches = watches;
    c->nr_watches = nr_watches;
    for (unsigned i = 0; i < nr_watches; i++)
        watches[i].active = false;
}

static int conn_kill(struct xs_conn *c, int err)
{
    if (!c->dead)
        c->dead = err;
    return c->dead;
}

/*
 * Pull bytes for the message in c->rx. 1: c->rx holds a whole message
 * (c->rx_have bytes); 0: the ring ran dry first; <0: the stream is broken.
 * Kicks the daemon after consuming, since it may be waiting for room.
 */
static int conn_pull(struct xs_conn *c)
{
    bool moved = false;
    int ret;

    for (;;) {
        long want = XS_HDR_SIZE, got;

        if (c->rx_have >= XS_HDR_SIZE) {
            want = xs_msg_peek(c->rx, c->rx_have);
            if (want < 0) {
                ret = conn_kill(c, (int)want);
                break;
            }
            if ((long)c->rx_have == want) {
                ret = 1;
                break;
            }
        }
        got = xs_ring_read(c->intf, c->rx + c->rx_have,
                           (size_t)(want - (long)c->rx_have));
        if (got < 0) {
            ret = conn_kill(c, (int)got);
            break;
        }
        if (got == 0) {
            ret = 0;
            break;
        }
        c->rx_have += (uint32_t)got;
        moved = true;
    }
    if (moved)
        c->kick(c->ctx);
    return ret;
}

/*
 * Handle the complete message in c->rx if it is not the reply to req_id
 * (a watch event or a stray reply) and return 1; return 0 to leave it for
 * the caller. Either way the framing has advanced past it.
 */
static int conn_sideline(struct xs_conn *c, uint32_t req_id, bool waiting,
                         struct xs_msg *m)
{
    const char *path, *token;
    int rc = xs_msg_parse(c->rx, c->rx_have, m);

    if (rc == 0 && m->type == XS_WATCH_EVENT) {
        rc = xs_watch_event_parse(m, &path, &token);
        if (rc < 0)
            c->bad_events++;
        else if (strlen(token) >= XS_TOKEN_MAX)
            c->unmatched_events++;      /* not a token we ever issued */
        else
            xs_evq_push(&c->events, path, (uint32_t)strlen(path), token,
                        (uint32_t)strlen(token));
        return 1;
    }
    if (rc < 0) {
        /* Framed but nonsense (unknown type): only the waiter cares. */
        *m = (struct xs_msg){ 0 };
        memcpy(&m->req_id, c->rx + offsetof(struct xsd_sockmsg, req_id),
               sizeof(m->req_id));
        m->type = XS_INVALID;
    }
    if (waiting && m->req_id == req_id)
        return 0;
    c->stray_replies++;
    return 1;
}

int xs_request(struct xs_conn *c, uint32_t type, uint32_t tx_id,
               const char *const *strs, unsigned nstrs,
               const void *raw, size_t rawlen, struct xs_msg *reply)
{
    uint32_t req_id;
    long len, sent = 0;
    struct xs_msg m;
    int rc;

    if (c->dead)
        return c->dead;
    req_id = c->next_req_id++;
    len = xs_encode(c->tx, sizeof(c->tx), type, req_id, tx_id, strs, nstrs,
                    raw, rawlen);
    if (len < 0)
        return (int)len;

    while (sent < len) {
        long n = xs_ring_write(c->intf, c->tx + sent, (size_t)(len - sent));

        if (n < 0)
            return conn_kill(c, (int)n);
        if (n > 0) {
            sent += n;
            c->kick(c->ctx);
            continue;
        }
        /*
         * Ring full. Keep draining replies while we wait, so a daemon that
         * will not read until it can write is not deadlocked against us.
         */
        while ((rc = conn_pull(c)) > 0) {
            conn_sideline(c, 0, false, &m);
            c->rx_have = 0;
        }
        if (rc < 0)
            return rc;
        if (c->wait(c->ctx) < 0)
            /* Half a message is in the ring: the stream cannot recover. */
            return conn_kill(c, -XEN_ETIMEDOUT);
    }

    for (;;) {
        rc = conn_pull(c);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            if (c->wait(c->ctx) < 0)
                return -XEN_ETIMEDOUT;  /* the reply will arrive as stray */
            continue;
        }
        rc = conn_sideline(c, req_id, true, &m);
        c->rx_have = 0;                 /* m stays readable in c->rx */
        if (rc)
            continue;
        if (m.type == XS_INVALID)
            return -XEN_EBADMSG;
        rc = xs_reply_check(&m, type, tx_id);
        if (m.type == XS_ERROR) {
            uint32_t n = MIN(m.len, (uint32_t)sizeof(c->last_error) - 1);

            memcpy(c->last_error, m.body, n);
            c->last_error[n] = '\0';
        }
        if (reply)
            *reply = m;
        return rc;
    }
}

static struct xs_watch *watch_by_token(struct xs_conn *c, const char *token)
{
    for (unsigned i = 0; i < c->nr_watches; i++)
        if (c->watches[i].active && !strcmp(c->watches[i].token, token))
            return &c->watches[i];
    return NULL;
}

int xs_conn_dispatch(struct xs_conn *c)
{
    struct xs_msg m;
    int rc, fired = 0;

    if (c->dispatching)
        return 0;
    if (c->dead)
        return c->dead;
    c->dispatching = true;
    while ((rc = conn_pull(c)) > 0) {
        conn_sideline(c, 0, false, &m);
        c->rx_have = 0;
    }
    for (;;) {
        struct xs_watch *w;

        rc = xs_evq_pop(&c->events, c->ev_path, sizeof(c->ev_path),
                        c->ev_token, sizeof(c->ev_token));
        if (rc == 0)
            break;
        if (rc < 0)
            continue;
        w = watch_by_token(c, c->ev_token);
        if (!w) {
            c->unmatched_events++;      /* e.g. raced with an unwatch */
            continue;
        }
        w->fn(w->arg, c->ev_path, c->ev_token);
        fired++;
    }
    if (c->events.overflowed) {
        c->events.overflowed = false;
        for (unsigned i = 0; i < c->nr_watches; i++) {
            struct xs_watch *w = &c->watches[i];

            if (w->active) {
                w->fn(w->arg, w->path, w->token);
                fired++;
            }
        }
    }
    c->dispatching = false;
    return c->dead ? c->dead : fired;
}

/* ---- operations ----------------------------------------------------------- */

static int xs_simple(struct xs_conn *c, uint32_t type, uint32_t tx,
                     const char *path)
{
    return xs_request(c, type, tx, &path, 1, NULL, 0, NULL);
}

int xs_read(struct xs_conn *c, uint32_t tx, const char *path, char *buf,
            size_t bufsz, uint32_t *len)
{
    struct xs_msg m;
    int rc = xs_request(c, XS_READ, tx, &path, 1, NULL, 0, &m);

    if (rc)
        return rc;
    if (m.len >= bufsz)
        return -XEN_ENOBUFS;
    memcpy(buf, m.body, m.len);
    buf[m.len] = '\0';
    if (len)
        *len = m.len;
    return 0;
}

int xs_write(struct xs_conn *c, uint32_t tx, const char *path,
             const void *val, size_t vlen)
{
    return xs_request(c, XS_WRITE, tx, &path, 1, val, vlen, NULL);
}

int xs_write_str(struct xs_conn *c, uint32_t tx, const char *path,
                 const char *val)
{
    return xs_write(c, tx, path, val, strnlen(val, XENSTORE_PAYLOAD_MAX + 1));
}

int xs_mkdir(struct xs_conn *c, uint32_t tx, const char *path)
{
    return xs_simple(c, XS_MKDIR, tx, path);
}

int xs_rm(struct xs_conn *c, uint32_t tx, const char *path)
{
    return xs_simple(c, XS_RM, tx, path);
}

int xs_directory(struct xs_conn *c, uint32_t tx, const char *path,
                 struct xs_msg *reply)
{
    int rc = xs_request(c, XS_DIRECTORY, tx, &path, 1, NULL, 0, reply);

    if (rc == 0 && xs_strings_count(reply->body, reply->len) < 0)
        rc = -XEN_EBADMSG;
    return rc;
}

/* u32 to text; buf needs 11 bytes (base 10) or 9 (base 16). */
static void fmt_u32(char *buf, uint32_t v, unsigned base)
{
    char tmp[10];
    unsigned n = 0;

    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n)
        *buf++ = tmp[--n];
    *buf = '\0';
}

int xs_get_domain_path(struct xs_conn *c, uint32_t domid, char *buf,
                       size_t bufsz)
{
    char id[11];
    const char *arg = id;
    struct xs_msg m;
    int rc;

    fmt_u32(id, domid, 10);
    rc = xs_request(c, XS_GET_DOMAIN_PATH, 0, &arg, 1, NULL, 0, &m);
    if (rc)
        return rc;
    /* "/local/domain/N\0": one NUL-terminated string. */
    if (m.len == 0 || m.body[m.len - 1] != '\0' ||
        strnlen(m.body, m.len) != m.len - 1)
        return -XEN_EBADMSG;
    if (m.len > bufsz)
        return -XEN_ENOBUFS;
    memcpy(buf, m.body, m.len);
    return 0;
}

int xs_watch(struct xs_conn *c, const char *path, xs_watch_fn fn, void *arg)
{
    struct xs_watch *w = NULL;
    const char *args[2];
    int rc;
    unsigned i;

    for (i = 0; i < c->nr_watches; i++) {
        if (!c->watches[i].active) {
            w = &c->watches[i];
            break;
        }
    }
    if (!w)
        return -XEN_ENOSPC;
    /* A fresh token per registration: late events of a removed watch that
     * used this slot must not reach the new owner. */
    memcpy(w->token, "pvhk:", 5);
    fmt_u32(w->token + 5, c->watch_seq++, 16);
    w->path = path;
    w->fn = fn;
    w->arg = arg;
    /* Active before the request: the initial event may precede the ack. */
    w->active = true;
    args[0] = path;
    args[1] = w->token;
    rc = xs_request(c, XS_WATCH, 0, args, 2, NULL, 0, NULL);
    if (rc) {
        w->active = false;
        return rc;
    }
    return (int)i;
}

int xs_unwatch(struct xs_conn *c, int slot)
{
    struct xs_watch *w;
    const char *args[2];

    if (slot < 0 || (unsigned)slot >= c->nr_watches ||
        !c->watches[slot].active)
        return -XEN_EINVAL;
    w = &c->watches[slot];
    w->active = false;
    args[0] = w->path;
    args[1] = w->token;
    return xs_request(c, XS_UNWATCH, 0, args, 2, NULL, 0, NULL);
}

int xs_transaction_start(struct xs_conn *c, uint32_t *tx)
{
    const char *empty = "";
    struct xs_msg m;
    int rc = xs_request(c, XS_TRANSACTION_START, 0, &empty, 1, NULL, 0, &m);

    if (rc)
        return rc;
    rc = xs_parse_u32(m.body, m.len, tx);
    if (rc == 0 && *tx == 0)
        rc = -XEN_EBADMSG;              /* 0 means "no transaction" */
    return rc;
}

int xs_transaction_end(struct xs_conn *c, uint32_t tx, bool commit)
{
    const char *arg = commit ? "T" : "F";

    return xs_request(c, XS_TRANSACTION_END, tx, &arg, 1, NULL, 0, NULL);
}

int xs_transaction_run(struct xs_conn *c, xs_tx_body body, void *arg,
                       unsigned max_tries, unsigned *tries)
{
    unsigned n = 0;
    int rc = -XEN_EAGAIN;

    while (n < max_tries) {
        uint32_t tx;

        n++;
        rc = xs_transaction_start(c, &tx);
        if (rc)
            break;
        rc = body(c, tx, arg);
        if (rc == 0) {
            rc = xs_transaction_end(c, tx, true);
        } else {
            /* The body's error is the one to report; the abort is best
             * effort (a daemon drops a dead connection's transactions). */
            xs_transaction_end(c, tx, false);
        }
        if (rc != -XEN_EAGAIN)
            break;
    }
    if (tries)
        *tries = n;
    return rc;
}
