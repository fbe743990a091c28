/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xenstore client: the connection. One request at a time goes out through
 * the ring (xen/xs_ring.c) and its reply is awaited; watch events and stray
 * replies that come first are framed, parsed (xen/xs_msg.c) and queued
 * (xen/xs_events.c) or counted, and xs_conn_dispatch delivers the queued
 * events to their watches.
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
#include <pvhk/xenstore.h>

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
