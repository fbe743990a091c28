/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xenstore wire protocol and client loop, against hand-built byte streams
 * and a small simulated xenstored that shares a real
 * struct xenstore_domain_interface with the client. The daemon side of the
 * ring is written independently here, so the two implementations check each
 * other.
 */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include <pvhk/types.h>
#include <pvhk/xenstore.h>

/* ---- byte-stream helpers -------------------------------------------------- */

/* Build header + body exactly as xenstored sends it. */
static size_t mk(uint8_t *out, uint32_t type, uint32_t req, uint32_t tx,
                 const void *body, uint32_t len)
{
    struct xsd_sockmsg h = { type, req, tx, len };

    memcpy(out, &h, sizeof(h));
    memmove(out + sizeof(h), body, len);
    return sizeof(h) + len;
}

/* ---- encoding ------------------------------------------------------------- */

HOST_TEST(xs_encode_exact_bytes)
{
    uint8_t buf[XS_MSG_MAX], want[64];
    const char *rd[] = { "device/vbd" };
    const char *wr[] = { "data/x" };
    const char *ev[] = { "" };
    long n;

    n = xs_encode(buf, sizeof(buf), XS_READ, 7, 0, rd, 1, NULL, 0);
    CHECK(n == 16 + 11);
    CHECK(n == (long)mk(want, XS_READ, 7, 0, "device/vbd", 11));
    CHECK(!memcmp(buf, want, (size_t)n));

    /* XS_WRITE: path with NUL, value without. */
    n = xs_encode(buf, sizeof(buf), XS_WRITE, 8, 5, wr, 1, "hello", 5);
    CHECK(n == (long)mk(want, XS_WRITE, 8, 5, "data/x\0hello", 12));
    CHECK(!memcmp(buf, want, (size_t)n));

    /* TRANSACTION_START carries one empty string: a single NUL. */
    n = xs_encode(buf, sizeof(buf), XS_TRANSACTION_START, 9, 0, ev, 1, NULL, 0);
    CHECK(n == 17 && buf[16] == 0);
    CHECK(((struct xsd_sockmsg *)buf)->len == 1);
}

HOST_TEST(xs_encode_limits)
{
    static char big[XENSTORE_PAYLOAD_MAX + 8];
    uint8_t buf[XS_MSG_MAX];
    const char *p[] = { "a" };
    const char *bigp[] = { big };

    /* "a\0" + 4094 raw bytes is exactly the maximum payload. */
    CHECK(xs_encode(buf, sizeof(buf), XS_WRITE, 1, 0, p, 1, big,
                    XENSTORE_PAYLOAD_MAX - 2) == (long)XS_MSG_MAX);
    CHECK(xs_encode(buf, sizeof(buf), XS_WRITE, 1, 0, p, 1, big,
                    XENSTORE_PAYLOAD_MAX - 1) == -XEN_E2BIG);
    /* A string too long, even unterminated within the limit, is refused. */
    memset(big, 'x', sizeof(big) - 1);
    CHECK(xs_encode(buf, sizeof(buf), XS_READ, 1, 0, bigp, 1, NULL, 0) ==
          -XEN_E2BIG);
    CHECK(xs_encode(buf, 18, XS_READ, 1, 0, p, 1, NULL, 0) == 18);
    CHECK(xs_encode(buf, 17, XS_READ, 1, 0, p, 1, NULL, 0) == -XEN_ENOBUFS);
}

/* ---- parsing -------------------------------------------------------------- */

HOST_TEST(xs_parse_truncated_oversized_garbage)
{
    uint8_t b[XS_MSG_MAX + 16];
    struct xs_msg m;
    size_t n = mk(b, XS_READ, 3, 0, "value", 5);

    CHECK(xs_msg_parse(b, n, &m) == 0);
    CHECK(m.type == XS_READ && m.req_id == 3 && m.len == 5 &&
          !memcmp(m.body, "value", 5));
    CHECK(xs_msg_peek(b, 15) == 0);
    CHECK(xs_msg_peek(b, 16) == (long)n);
    /* Every truncation is an error, as is one byte too many. */
    for (size_t i = 0; i < n; i++)
        CHECKF(xs_msg_parse(b, i, &m) == -XEN_EBADMSG, "cut at %zu", i);
    CHECK(xs_msg_parse(b, n + 1, &m) == -XEN_EBADMSG);

    /* Oversized: the header alone is enough to refuse. */
    ((struct xsd_sockmsg *)b)->len = XENSTORE_PAYLOAD_MAX + 1;
    CHECK(xs_msg_peek(b, 16) == -XEN_EMSGSIZE);
    CHECK(xs_msg_parse(b, 16 + XENSTORE_PAYLOAD_MAX + 1, &m) == -XEN_EMSGSIZE);
    ((struct xsd_sockmsg *)b)->len = 0xffffffffu;
    CHECK(xs_msg_peek(b, 16) == -XEN_EMSGSIZE);

    /* Maximum size is fine; unknown type is not. */
    static char full[XENSTORE_PAYLOAD_MAX];
    n = mk(b, XS_READ, 1, 0, full, XENSTORE_PAYLOAD_MAX);
    CHECK(xs_msg_parse(b, n, &m) == 0);
    n = mk(b, XS_TYPE_COUNT, 1, 0, "", 0);
    CHECK(xs_msg_parse(b, n, &m) == -XEN_EBADMSG);
    n = mk(b, XS_INVALID, 1, 0, "", 0);
    CHECK(xs_msg_parse(b, n, &m) == -XEN_EBADMSG);
}

HOST_TEST(xs_error_strings)
{
    static const struct { const char *s; int err; } t[] = {
        { "ENOENT", -XEN_ENOENT }, { "EAGAIN", -XEN_EAGAIN },
        { "EACCES", -XEN_EACCES }, { "EINVAL", -XEN_EINVAL },
        { "EEXIST", -XEN_EEXIST }, { "EISDIR", -XEN_EISDIR },
        { "ENOSPC", -XEN_ENOSPC }, { "EIO", -XEN_EIO },
        { "ENOTEMPTY", -XEN_ENOTEMPTY }, { "ENOSYS", -XEN_ENOSYS },
        { "EROFS", -XEN_EROFS }, { "EBUSY", -XEN_EBUSY },
        { "EQUOTA", -XEN_ENOSPC }, { "ENOMEM", -XEN_ENOMEM },
        { "EISCONN", -XEN_EISCONN }, { "E2BIG", -XEN_E2BIG },
        { "EPERM", -XEN_EPERM },
    };

    for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
        uint32_t l = (uint32_t)strlen(t[i].s);

        CHECKF(xs_error_decode(t[i].s, l + 1) == t[i].err, "%s", t[i].s);
        CHECKF(xs_error_decode(t[i].s, l) == t[i].err, "%s no NUL", t[i].s);
        if (strcmp(t[i].s, "EQUOTA"))
            CHECKF(!strcmp(xs_errno_name(t[i].err), t[i].s), "%s", t[i].s);
    }
    /* Prefixes, extensions, junk after the NUL, empty: not errors we know. */
    CHECK(xs_error_decode("ENOEN", 5) == -XEN_EIO);
    CHECK(xs_error_decode("ENOENTX", 7) == -XEN_EIO);
    CHECK(xs_error_decode("ENOENT\0X", 8) == -XEN_EIO);
    CHECK(xs_error_decode("", 0) == -XEN_EIO);
    CHECK(xs_error_decode("\0", 1) == -XEN_EIO);
    CHECK(xs_error_decode("EVERYLONGERRORNAME", 18) == -XEN_EIO);
    CHECK(!strcmp(xs_errno_name(-XEN_ETIMEDOUT), "ETIMEDOUT"));
    CHECK(!strcmp(xs_errno_name(-999), "E?"));
}

HOST_TEST(xs_directory_and_events_parse)
{
    const char *s, *path, *token;
    uint32_t pos = 0, sl, v;
    struct xs_msg m = { .type = XS_WATCH_EVENT };

    CHECK(xs_strings_count("a\0bb\0ccc\0", 9) == 3);
    CHECK(xs_strings_next("a\0bb\0", 5, &pos, &s, &sl) == 1 && sl == 1);
    CHECK(xs_strings_next("a\0bb\0", 5, &pos, &s, &sl) == 1 && sl == 2 &&
          !memcmp(s, "bb", 2));
    CHECK(xs_strings_next("a\0bb\0", 5, &pos, &s, &sl) == 0);
    CHECK(xs_strings_count("", 0) == 0);
    CHECK(xs_strings_count("a\0b", 3) == -XEN_EBADMSG);

    m.body = "memory/target\0tok\0";
    m.len = 18;
    CHECK(xs_watch_event_parse(&m, &path, &token) == 0);
    CHECK(!strcmp(path, "memory/target") && !strcmp(token, "tok"));
    m.len = 17;                         /* token unterminated */
    CHECK(xs_watch_event_parse(&m, &path, &token) == -XEN_EBADMSG);
    m.body = "p\0";
    m.len = 2;                          /* no token */
    CHECK(xs_watch_event_parse(&m, &path, &token) == -XEN_EBADMSG);
    m.body = "p\0t\0x\0";
    m.len = 6;                          /* extra field */
    CHECK(xs_watch_event_parse(&m, &path, &token) == -XEN_EBADMSG);
    m.body = "\0t\0";
    m.len = 3;                          /* empty path */
    CHECK(xs_watch_event_parse(&m, &path, &token) == -XEN_EBADMSG);
    m.type = XS_READ;
    m.body = "p\0t\0";
    m.len = 4;
    CHECK(xs_watch_event_parse(&m, &path, &token) == -XEN_EBADMSG);

    CHECK(xs_parse_u32("17\0", 3, &v) == 0 && v == 17);
    CHECK(xs_parse_u32("4294967295", 10, &v) == 0 && v == 0xffffffffu);
    CHECK(xs_parse_u32("4294967296", 10, &v) == -XEN_EBADMSG);
    CHECK(xs_parse_u32("1x", 2, &v) == -XEN_EBADMSG);
    CHECK(xs_parse_u32("", 0, &v) == -XEN_EBADMSG);
}

HOST_TEST(xs_reply_check_rules)
{
    struct xs_msg m = { .type = XS_READ, .tx_id = 4, .body = "", .len = 0 };

    CHECK(xs_reply_check(&m, XS_READ, 4) == 0);
    CHECK(xs_reply_check(&m, XS_READ, 5) == -XEN_EBADMSG);
    CHECK(xs_reply_check(&m, XS_WRITE, 4) == -XEN_EBADMSG);
    m.type = XS_ERROR;
    m.body = "EACCES";
    m.len = 7;
    CHECK(xs_reply_check(&m, XS_READ, 4) == -XEN_EACCES);
    m.type = XS_TRANSACTION_START;
    m.tx_id = 0;
    CHECK(xs_reply_check(&m, XS_TRANSACTION_START, 0) == 0);
}

/* ---- ring ----------------------------------------------------------------- */

/* The daemon's side of the ring, written independently of xen/xs_ring.c. */
static size_t d_read_req(struct xenstore_domain_interface *r, uint8_t *out,
                         size_t max)
{
    size_t n = 0;

    while (n < max && r->req_cons != r->req_prod)
        out[n++] = (uint8_t)r->req[MASK_XENSTORE_IDX(r->req_cons++)];
    return n;
}

static size_t d_write_rsp(struct xenstore_domain_interface *r,
                          const uint8_t *in, size_t len)
{
    size_t n = 0;

    while (n < len && r->rsp_prod - r->rsp_cons < XENSTORE_RING_SIZE)
        r->rsp[MASK_XENSTORE_IDX(r->rsp_prod++)] = (char)in[n++];
    return n;
}

HOST_TEST(xs_ring_wrap_and_corruption)
{
    static struct xenstore_domain_interface r;
    uint8_t src[3000], dst[3000];
    uint32_t starts[] = { 0, 1000, 0xfffffc00u, 0xffffffffu - 5 };

    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7 + 3);
    for (unsigned s = 0; s < ARRAY_SIZE(starts); s++) {
        size_t done = 0, got = 0;

        memset(&r, 0, sizeof(r));
        r.req_cons = r.req_prod = r.rsp_cons = r.rsp_prod = starts[s];
        /* Client -> daemon, 3000 bytes through 1024 in odd chunks. */
        while (done < sizeof(src)) {
            long n = xs_ring_write(&r, src + done, MIN(sizeof(src) - done,
                                                       (size_t)333));

            REQUIRE(n >= 0);
            CHECK(r.req_prod - r.req_cons <= XENSTORE_RING_SIZE);
            done += (size_t)n;
            got += d_read_req(&r, dst + got, 100);  /* daemon lags */
        }
        got += d_read_req(&r, dst + got, sizeof(dst) - got);
        CHECKF(got == sizeof(src) && !memcmp(src, dst, got), "start %x",
               starts[s]);
        /* Full ring: a write moves nothing. */
        CHECK(xs_ring_write(&r, src, 1024) == 1024);
        CHECK(xs_ring_write(&r, src, 1) == 0);

        /* Daemon -> client. */
        done = got = 0;
        memset(dst, 0, sizeof(dst));
        while (got < sizeof(src)) {
            long n;

            done += d_write_rsp(&r, src + done, MIN(sizeof(src) - done,
                                                    (size_t)700));
            n = xs_ring_read(&r, dst + got, 211);
            REQUIRE(n >= 0);
            got += (size_t)n;
        }
        CHECK(!memcmp(src, dst, sizeof(src)));
        CHECK(xs_ring_read(&r, dst, 10) == 0);
    }

    /* A peer that moves an index past the ring's size is not believed. */
    memset(&r, 0, sizeof(r));
    r.rsp_prod = XENSTORE_RING_SIZE + 1;
    CHECK(xs_ring_read(&r, dst, sizeof(dst)) == -XEN_EIO);
    CHECK(r.rsp_cons == 0);
    r.rsp_cons = 10;
    r.rsp_prod = 5;                     /* behind the consumer */
    CHECK(xs_ring_read(&r, dst, sizeof(dst)) == -XEN_EIO);
    r.req_cons = 7;
    r.req_prod = 0;                     /* consumer ahead of us */
    CHECK(xs_ring_write(&r, src, 10) == -XEN_EIO);
    CHECK(r.req_prod == 0);
}

HOST_TEST(xs_evq_wrap_overflow)
{
    uint8_t store[64];
    struct xs_evq q;
    char p[32], t[8];

    xs_evq_init(&q, store, sizeof(store));
    for (int round = 0; round < 50; round++) {
        /* 4 + 10 + 3 = 17 bytes per record: wraps the 64-byte ring. */
        CHECK(xs_evq_push(&q, "0123456789", 10, "tok", 3));
        CHECK(xs_evq_push(&q, "abcdefghij", 10, "t2", 2));
        CHECK(xs_evq_pop(&q, p, sizeof(p), t, sizeof(t)) == 1);
        CHECK(!strcmp(p, "0123456789") && !strcmp(t, "tok"));
        CHECK(xs_evq_pop(&q, p, sizeof(p), t, sizeof(t)) == 1);
        CHECK(!strcmp(p, "abcdefghij") && !strcmp(t, "t2"));
    }
    CHECK(xs_evq_pop(&q, p, sizeof(p), t, sizeof(t)) == 0);
    CHECK(!q.overflowed && q.used == 0);
    CHECK(xs_evq_push(&q, "0123456789", 10, "tok", 3));
    CHECK(xs_evq_push(&q, "0123456789", 10, "tok", 3));
    CHECK(xs_evq_push(&q, "0123456789", 10, "tok", 3));
    CHECK(!xs_evq_push(&q, "0123456789", 10, "tok", 3));
    CHECK(q.overflowed && q.dropped == 1 && q.count == 3);
    /* A record too big for the pop buffers is dropped, not truncated. */
    CHECK(xs_evq_pop(&q, p, 5, t, sizeof(t)) == -XEN_ENOBUFS);
    CHECK(q.count == 2 && q.dropped == 2);
}

/* ---- simulated xenstored -------------------------------------------------- */

static void scopy(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);

    memcpy(dst, src, n);
    dst[n] = 0;
}

#define SIM_NODES 64

struct sim {
    struct xenstore_domain_interface ring;
    uint8_t in[XS_MSG_MAX * 2];
    size_t in_have;
    uint8_t out[1 << 16];               /* bytes not yet in the rsp ring */
    size_t out_have;
    struct { char path[256]; char val[XENSTORE_PAYLOAD_MAX]; uint32_t len;
             bool used; } node[SIM_NODES];
    struct { char path[256]; char token[64]; bool used; } watch[8];
    uint32_t next_tx;
    unsigned eagain_commits;            /* this many commits fail EAGAIN */
    unsigned events_first;              /* prefix replies with N events */
    bool mute;                          /* swallow requests, never answer */
    const uint8_t *raw_reply;           /* send this instead of a reply */
    size_t raw_len;
    unsigned chunk;                     /* push at most this per kick (0: all) */
    unsigned kicks, waits, idle_waits;
    unsigned requests;
    bool deaf;                          /* kicks go unheard: only waits step */
    bool stuck;                         /* waits give up at once, nothing moves */
};

static void sim_queue(struct sim *s, const void *p, size_t n)
{
    if (s->out_have + n > sizeof(s->out))
        abort();
    memcpy(s->out + s->out_have, p, n);
    s->out_have += n;
}

static void sim_msg(struct sim *s, uint32_t type, uint32_t req, uint32_t tx,
                    const void *body, uint32_t len)
{
    struct xsd_sockmsg h = { type, req, tx, len };

    sim_queue(s, &h, sizeof(h));
    sim_queue(s, body, len);
}

static void sim_err(struct sim *s, const struct xsd_sockmsg *h, const char *e)
{
    sim_msg(s, XS_ERROR, h->req_id, h->tx_id, e, (uint32_t)strlen(e) + 1);
}

static void sim_ok(struct sim *s, const struct xsd_sockmsg *h)
{
    sim_msg(s, h->type, h->req_id, h->tx_id, "OK", 3);
}

static int sim_find(struct sim *s, const char *path)
{
    for (int i = 0; i < SIM_NODES; i++)
        if (s->node[i].used && !strcmp(s->node[i].path, path))
            return i;
    return -1;
}

static void sim_set(struct sim *s, const char *path, const void *v, uint32_t l)
{
    int i = sim_find(s, path);

    for (int j = 0; i < 0 && j < SIM_NODES; j++)
        if (!s->node[j].used)
            i = j;
    if (i < 0)
        abort();
    s->node[i].used = true;
    scopy(s->node[i].path, sizeof(s->node[i].path), path);
    memcpy(s->node[i].val, v, l);
    s->node[i].len = l;
}

static void sim_event(struct sim *s, const char *path, const char *token)
{
    char b[512];
    int n = snprintf(b, sizeof(b), "%s%c%s", path, 0, token);

    if (n < 0 || (size_t)n >= sizeof(b))
        abort();                        /* the test's event does not fit b */
    sim_msg(s, XS_WATCH_EVENT, 0, 0, b, (uint32_t)n + 1);
}

static void sim_fire(struct sim *s, const char *path)
{
    for (int i = 0; i < 8; i++) {
        size_t l = strlen(s->watch[i].path);

        if (s->watch[i].used && !strncmp(path, s->watch[i].path, l) &&
            (path[l] == 0 || path[l] == '/'))
            sim_event(s, path, s->watch[i].token);
    }
}

static void sim_handle(struct sim *s, const struct xsd_sockmsg *h,
                       const char *b)
{
    const char *a2 = b + strnlen(b, h->len) + 1;
    int i;

    s->requests++;
    if (s->mute)
        return;
    for (; s->events_first; s->events_first--)
        sim_event(s, "early/event", "pvhk:0");
    if (s->raw_reply) {
        sim_queue(s, s->raw_reply, s->raw_len);
        s->raw_reply = NULL;
        return;
    }
    switch (h->type) {
    case XS_READ:
        if ((i = sim_find(s, b)) < 0)
            return sim_err(s, h, "ENOENT");
        return sim_msg(s, XS_READ, h->req_id, h->tx_id, s->node[i].val,
                       s->node[i].len);
    case XS_WRITE:
        sim_set(s, b, a2, (uint32_t)(h->len - (size_t)(a2 - b)));
        sim_ok(s, h);
        return sim_fire(s, b);
    case XS_MKDIR:
        if (sim_find(s, b) < 0)
            sim_set(s, b, "", 0);
        return sim_ok(s, h);
    case XS_RM:
        if ((i = sim_find(s, b)) < 0)
            return sim_err(s, h, "ENOENT");
        s->node[i].used = false;
        sim_ok(s, h);
        return sim_fire(s, b);
    case XS_DIRECTORY: {
        char out[1024];
        uint32_t n = 0;
        size_t l = strlen(b);

        for (i = 0; i < SIM_NODES; i++) {
            const char *p = s->node[i].path;

            if (s->node[i].used && !strncmp(p, b, l) && p[l] == '/' &&
                !strchr(p + l + 1, '/')) {
                strcpy(out + n, p + l + 1);
                n += (uint32_t)strlen(p + l + 1) + 1;
            }
        }
        return sim_msg(s, XS_DIRECTORY, h->req_id, h->tx_id, out, n);
    }
    case XS_GET_DOMAIN_PATH: {
        char out[64];
        int n = snprintf(out, sizeof(out), "/local/domain/%s", b);

        return sim_msg(s, h->type, h->req_id, h->tx_id, out, (uint32_t)n + 1);
    }
    case XS_WATCH:
        for (i = 0; i < 8 && s->watch[i].used; i++)
            ;
        if (i == 8)
            return sim_err(s, h, "ENOSPC");
        s->watch[i].used = true;
        scopy(s->watch[i].path, sizeof(s->watch[i].path), b);
        scopy(s->watch[i].token, sizeof(s->watch[i].token), a2);
        sim_ok(s, h);
        /* Like xenstored: a new watch fires once straight away. */
        return sim_event(s, b, a2);
    case XS_UNWATCH:
        for (i = 0; i < 8; i++) {
            if (s->watch[i].used && !strcmp(s->watch[i].path, b) &&
                !strcmp(s->watch[i].token, a2)) {
                s->watch[i].used = false;
                return sim_ok(s, h);
            }
        }
        return sim_err(s, h, "ENOENT");
    case XS_TRANSACTION_START: {
        char out[16];
        int n = snprintf(out, sizeof(out), "%u", ++s->next_tx);

        return sim_msg(s, h->type, h->req_id, h->tx_id, out, (uint32_t)n + 1);
    }
    case XS_TRANSACTION_END:
        if (!strcmp(b, "T") && s->eagain_commits) {
            s->eagain_commits--;
            return sim_err(s, h, "EAGAIN");
        }
        return sim_ok(s, h);
    default:
        return sim_err(s, h, "EINVAL");
    }
}

/* One step of daemon progress; returns whether anything moved. */
static bool sim_step(struct sim *s)
{
    bool moved = false;
    size_t n, lim;

    n = d_read_req(&s->ring, s->in + s->in_have, sizeof(s->in) - s->in_have);
    s->in_have += n;
    moved |= n > 0;
    for (;;) {
        struct xsd_sockmsg h;

        if (s->in_have < sizeof(h))
            break;
        memcpy(&h, s->in, sizeof(h));
        if (h.len > XENSTORE_PAYLOAD_MAX)
            abort();                    /* the client must never send this */
        if (s->in_have < sizeof(h) + h.len)
            break;
        /* NUL-terminate a copy so the handler can use string functions. */
        char body[XENSTORE_PAYLOAD_MAX + 1];
        memcpy(body, s->in + sizeof(h), h.len);
        body[h.len] = 0;
        sim_handle(s, &h, body);
        memmove(s->in, s->in + sizeof(h) + h.len,
                s->in_have - sizeof(h) - h.len);
        s->in_have -= sizeof(h) + h.len;
    }
    lim = s->chunk ? MIN(s->chunk, s->out_have) : s->out_have;
    n = d_write_rsp(&s->ring, s->out, lim);
    memmove(s->out, s->out + n, s->out_have - n);
    s->out_have -= n;
    return moved || n > 0;
}

static void sim_kick(void *ctx)
{
    struct sim *s = ctx;

    s->kicks++;
    if (!s->deaf)
        sim_step(s);
}

static int sim_wait(void *ctx)
{
    struct sim *s = ctx;

    s->waits++;
    if (s->stuck)
        return -1;
    if (sim_step(s)) {
        s->idle_waits = 0;
        return 0;
    }
    /* Nothing happening for a while: the kernel's wait would time out. */
    return ++s->idle_waits > 3 ? -1 : 0;
}

struct fixture {
    struct sim sim;
    struct xs_conn c;
    uint8_t evbuf[512];
    struct xs_watch w[4];
};

static struct fixture *fx_new(void)
{
    struct fixture *f = calloc(1, sizeof(*f));

    xs_conn_init(&f->c, &f->sim.ring, sim_kick, sim_wait, &f->sim, f->evbuf,
                 sizeof(f->evbuf), f->w, ARRAY_SIZE(f->w));
    return f;
}

/* ---- client against the simulated daemon ---------------------------------- */

HOST_TEST(xs_client_basic_ops)
{
    struct fixture *f = fx_new();
    struct xs_conn *c = &f->c;
    struct xs_msg m;
    char buf[128];
    uint32_t len, pos = 0, sl;
    const char *s;
    int n = 0;

    sim_set(&f->sim, "name", "guest1", 6);
    CHECK(xs_read(c, 0, "name", buf, sizeof(buf), &len) == 0);
    CHECK(len == 6 && !strcmp(buf, "guest1"));
    CHECK(xs_read(c, 0, "name", buf, 6, &len) == -XEN_ENOBUFS);
    CHECK(xs_read(c, 0, "nope", buf, sizeof(buf), &len) == -XEN_ENOENT);
    CHECK(!strcmp(c->last_error, "ENOENT"));

    CHECK(xs_write_str(c, 0, "data/a", "1") == 0);
    CHECK(xs_write(c, 0, "data/b", "\0x", 2) == 0);   /* binary value */
    CHECK(xs_mkdir(c, 0, "data/c") == 0);
    CHECK(xs_read(c, 0, "data/b", buf, sizeof(buf), &len) == 0 && len == 2 &&
          buf[0] == 0 && buf[1] == 'x');
    CHECK(xs_directory(c, 0, "data", &m) == 0);
    while (xs_strings_next(m.body, m.len, &pos, &s, &sl) > 0)
        n++;
    CHECK(n == 3);
    CHECK(xs_rm(c, 0, "data/c") == 0);
    CHECK(xs_rm(c, 0, "data/c") == -XEN_ENOENT);
    CHECK(xs_get_domain_path(c, 7, buf, sizeof(buf)) == 0 &&
          !strcmp(buf, "/local/domain/7"));
    CHECK(xs_get_domain_path(c, 7, buf, 10) == -XEN_ENOBUFS);
    CHECK(c->dead == 0 && c->stray_replies == 0);
    /* Request ids are unique and echoed (the sim echoes them). */
    CHECK(c->next_req_id == 1 + f->sim.requests);
    free(f);
}

HOST_TEST(xs_client_large_values_through_small_ring)
{
    struct fixture *f = fx_new();
    static char val[XENSTORE_PAYLOAD_MAX], back[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t len;

    for (unsigned i = 0; i < sizeof(val); i++)
        val[i] = (char)('a' + i % 26);
    /* Start the indices just below 2^32 so the free-running u32 wraps. */
    f->sim.ring.req_cons = f->sim.ring.req_prod = 0xfffffe00u;
    f->sim.ring.rsp_cons = f->sim.ring.rsp_prod = 0xffffff00u;
    f->sim.chunk = 300;                 /* daemon answers in pieces */
    CHECK(xs_write(&f->c, 0, "big", val, sizeof(val) - 4) == 0);
    CHECK(xs_read(&f->c, 0, "big", back, sizeof(back), &len) == 0);
    CHECK(len == sizeof(val) - 4 && !memcmp(back, val, len));
    CHECK(xs_write(&f->c, 0, "big", val, sizeof(val)) == -XEN_E2BIG);
    CHECK(f->c.dead == 0);
    free(f);
}

static int ev_hits;
static char ev_last[64];

static void on_ev(void *arg, const char *path, const char *token)
{
    (void)token;
    ev_hits += arg ? *(int *)arg : 1;
    scopy(ev_last, sizeof(ev_last), path);
}

HOST_TEST(xs_client_watch_events_interleaved)
{
    struct fixture *f = fx_new();
    struct xs_conn *c = &f->c;
    char buf[16];
    int slot;

    ev_hits = 0;
    slot = xs_watch(c, "control/shutdown", on_ev, NULL);
    REQUIRE(slot >= 0);
    CHECK(!strcmp(f->w[slot].token, "pvhk:0"));
    /* The initial event follows the ack; it is not delivered inside
     * xs_watch(), only by dispatch. */
    CHECK(ev_hits == 0);
    CHECK(xs_conn_dispatch(c) == 1 && ev_hits == 1);
    CHECK(!strcmp(ev_last, "control/shutdown"));

    /* Two events arrive ahead of a reply: the reply is still found. */
    f->sim.events_first = 2;
    sim_set(&f->sim, "x", "y", 1);
    CHECK(xs_read(c, 0, "x", buf, sizeof(buf), NULL) == 0 && buf[0] == 'y');
    CHECK(c->events.count == 2);
    CHECK(xs_conn_dispatch(c) == 2 && ev_hits == 3);
    CHECK(!strcmp(ev_last, "early/event"));

    /* A write under the watched path queues an event after its reply. */
    CHECK(xs_write_str(c, 0, "control/shutdown", "poweroff") == 0);
    CHECK(xs_conn_dispatch(c) == 1 && ev_hits == 4);

    /* Events for tokens we never issued (or too long) go nowhere. */
    sim_event(&f->sim, "a", "someone-else");
    sim_event(&f->sim, "a", "a-token-much-longer-than-ours");
    sim_step(&f->sim);                  /* the daemon pushes them */
    CHECK(xs_conn_dispatch(c) == 0 && ev_hits == 4);
    CHECK(c->unmatched_events == 2);

    CHECK(xs_unwatch(c, slot) == 0);
    CHECK(xs_unwatch(c, slot) == -XEN_EINVAL);
    CHECK(xs_write_str(c, 0, "control/shutdown", "") == 0);
    CHECK(xs_conn_dispatch(c) == 0 && ev_hits == 4);
    free(f);
}

HOST_TEST(xs_client_event_overflow_refires)
{
    struct fixture *f = fx_new();
    struct xs_conn *c = &f->c;
    int one = 1, hundred = 100;

    ev_hits = 0;
    /* Distinct args: counting tells which callback ran. */
    REQUIRE(xs_watch(c, "a", on_ev, &one) == 0);
    REQUIRE(xs_watch(c, "b", on_ev, &hundred) == 1);
    CHECK(xs_conn_dispatch(c) == 2 && ev_hits == 101);
    /* 60 writes to a/... while nobody dispatches: the 512-byte queue fills. */
    for (int i = 0; i < 60; i++) {
        char p[16];

        snprintf(p, sizeof(p), "a/%d", i);
        REQUIRE(xs_write_str(c, 0, p, "v") == 0);
    }
    CHECK(c->events.overflowed && c->events.dropped > 0);
    ev_hits = 0;
    int n = xs_conn_dispatch(c);
    /* Every queued "a" event plus one refire of each watch. */
    CHECK(n == (int)(60 - c->events.dropped) + 2);
    CHECK(ev_hits == (int)(60 - c->events.dropped) + 1 + 100);
    CHECK(!c->events.overflowed);
    free(f);
}

static int body_calls;

static int tx_body(struct xs_conn *c, uint32_t tx, void *arg)
{
    body_calls++;
    return xs_write_str(c, tx, "t/k", arg);
}

static int tx_body_fail(struct xs_conn *c, uint32_t tx, void *arg)
{
    (void)c; (void)tx; (void)arg;
    body_calls++;
    return -XEN_EACCES;
}

HOST_TEST(xs_client_transaction_retry)
{
    struct fixture *f = fx_new();
    unsigned tries;

    body_calls = 0;
    f->sim.eagain_commits = 2;
    CHECK(xs_transaction_run(&f->c, tx_body, "v", 5, &tries) == 0);
    CHECK(tries == 3 && body_calls == 3);

    body_calls = 0;
    f->sim.eagain_commits = 100;
    CHECK(xs_transaction_run(&f->c, tx_body, "v", 4, &tries) == -XEN_EAGAIN);
    CHECK(tries == 4 && body_calls == 4);

    body_calls = 0;
    f->sim.eagain_commits = 0;
    CHECK(xs_transaction_run(&f->c, tx_body_fail, NULL, 4, &tries) ==
          -XEN_EACCES);
    CHECK(tries == 1 && body_calls == 1);
    CHECK(f->c.dead == 0);
    free(f);
}

HOST_TEST(xs_client_malformed_replies)
{
    struct fixture *f = fx_new();
    struct xs_conn *c = &f->c;
    uint8_t raw[64];
    char buf[32];

    /* Wrong type for the request id: error, stream still usable. */
    f->sim.raw_reply = raw;
    f->sim.raw_len = mk(raw, XS_WRITE, c->next_req_id, 0, "OK", 3);
    CHECK(xs_read(c, 0, "x", buf, sizeof(buf), NULL) == -XEN_EBADMSG);
    /* Unknown type. */
    f->sim.raw_reply = raw;
    f->sim.raw_len = mk(raw, 99, c->next_req_id, 0, "", 0);
    CHECK(xs_read(c, 0, "x", buf, sizeof(buf), NULL) == -XEN_EBADMSG);
    /* tx_id not echoed. */
    f->sim.raw_reply = raw;
    f->sim.raw_len = mk(raw, XS_READ, c->next_req_id, 9, "v", 1);
    CHECK(xs_read(c, 0, "x", buf, sizeof(buf), NULL) == -XEN_EBADMSG);
    /* Bad watch event then a stray reply, then the real one. */
    {
        uint8_t two[128];
        size_t n = mk(two, XS_WATCH_EVENT, 0, 0, "p", 1);

        n += mk(two + n, XS_READ, 424242, 0, "zz", 2);
        n += mk(two + n, XS_READ, c->next_req_id, 0, "ok", 2);
        f->sim.raw_reply = two;
        f->sim.raw_len = n;
        CHECK(xs_read(c, 0, "x", buf, sizeof(buf), NULL) == 0 &&
              !strcmp(buf, "ok"));
        CHECK(c->bad_events == 1 && c->stray_replies == 1);
    }
    /* Bad directory list. */
    f->sim.raw_reply = raw;
    f->sim.raw_len = mk(raw, XS_DIRECTORY, c->next_req_id, 0, "a\0b", 3);
    {
        struct xs_msg m;

        CHECK(xs_directory(c, 0, "d", &m) == -XEN_EBADMSG);
    }
    /* Transaction id "0" or junk. */
    f->sim.raw_reply = raw;
    f->sim.raw_len = mk(raw, XS_TRANSACTION_START, c->next_req_id, 0, "0", 2);
    {
        uint32_t tx;

        CHECK(xs_transaction_start(c, &tx) == -XEN_EBADMSG);
        f->sim.raw_reply = raw;
        f->sim.raw_len = mk(raw, XS_TRANSACTION_START, c->next_req_id, 0,
                            "12a", 4);
        CHECK(xs_transaction_start(c, &tx) == -XEN_EBADMSG);
    }
    CHECK(c->dead == 0);
    free(f);
}

HOST_TEST(xs_client_truncated_then_timeout_then_stray)
{
    struct fixture *f = fx_new();
    struct xs_conn *c = &f->c;
    uint8_t raw[64];
    char buf[32];
    size_t n;

    sim_set(&f->sim, "k", "v", 1);
    /* The daemon sends only part of the reply, then goes quiet. */
    n = mk(raw, XS_READ, c->next_req_id, 0, "value", 5);
    f->sim.raw_reply = raw;
    f->sim.raw_len = n - 3;
    CHECK(xs_read(c, 0, "k", buf, sizeof(buf), NULL) == -XEN_ETIMEDOUT);
    CHECK(c->dead == 0 && c->rx_have == n - 3);
    /* The rest arrives later, followed by the next reply: the late one is
     * discarded as stray, the new request still gets its own answer. */
    sim_queue(&f->sim, raw + n - 3, 3);
    CHECK(xs_read(c, 0, "k", buf, sizeof(buf), NULL) == 0 && buf[0] == 'v');
    CHECK(c->stray_replies == 1);

    /* Daemon never answers: timeout, no crash, request id moves on. */
    f->sim.mute = true;
    CHECK(xs_read(c, 0, "k", buf, sizeof(buf), NULL) == -XEN_ETIMEDOUT);
    free(f);
}

HOST_TEST(xs_client_oversized_kills_connection)
{
    struct fixture *f = fx_new();
    struct xs_conn *c = &f->c;
    uint8_t raw[16];
    char buf[32];
    struct xsd_sockmsg h = { XS_READ, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };

    memcpy(raw, &h, sizeof(h));
    f->sim.raw_reply = raw;
    f->sim.raw_len = sizeof(raw);
    CHECK(xs_read(c, 0, "k", buf, sizeof(buf), NULL) == -XEN_EMSGSIZE);
    CHECK(c->dead == -XEN_EMSGSIZE);
    /* Sticky: nothing more is sent on an unframeable stream. */
    unsigned before = f->sim.requests;
    CHECK(xs_read(c, 0, "k", buf, sizeof(buf), NULL) == -XEN_EMSGSIZE);
    CHECK(f->sim.requests == before);
    CHECK(xs_conn_dispatch(c) == -XEN_EMSGSIZE);
    free(f);

    /* Corrupt response indices. */
    f = fx_new();
    f->sim.ring.rsp_prod = 5000;
    CHECK(xs_read(&f->c, 0, "k", buf, sizeof(buf), NULL) == -XEN_EIO);
    CHECK(f->c.dead == -XEN_EIO);
    free(f);
}

/*
 * Random framing: valid replies and events delivered in random-sized chunks,
 * and random garbage streams: the client must answer correctly in the first
 * case and fail cleanly (never crash, never overread: ASan watches) in the
 * second.
 */
HOST_TEST(xs_client_random_streams)
{
    unsigned iters = host_soak ? 20000 : 600;
    uint32_t seed = 12345;

    for (unsigned it = 0; it < iters; it++) {
        struct fixture *f = fx_new();
        char buf[64];
        int rc;

        seed = seed * 1103515245u + 12345u;
        f->sim.chunk = 1 + (seed >> 16) % 40;
        f->sim.events_first = (seed >> 8) % 4;
        sim_set(&f->sim, "k", "value", 5);
        rc = xs_read(&f->c, 0, "k", buf, sizeof(buf), NULL);
        CHECK(rc == 0 && !strcmp(buf, "value"));
        CHECK(f->c.events.count == (seed >> 8) % 4);

        /* Garbage of random length with a random header. */
        uint8_t junk[256];
        for (unsigned i = 0; i < sizeof(junk); i++) {
            seed = seed * 1103515245u + 12345u;
            junk[i] = (uint8_t)(seed >> 24);
        }
        if (it & 1) {                   /* keep the req_id right sometimes */
            uint32_t id = f->c.next_req_id;

            memcpy(junk + 4, &id, 4);
        }
        f->sim.raw_reply = junk;
        f->sim.raw_len = 1 + (seed >> 8) % sizeof(junk);
        rc = xs_read(&f->c, 0, "k", buf, sizeof(buf), NULL);
        CHECK(rc < 0 || rc == 0);
        xs_conn_dispatch(&f->c);
        free(f);
    }
}

/* ---- boundaries ------------------------------------------------------------ */

/*
 * A decimal number is its value, however many leading zeros it has: the
 * toolstack or an administrator may write "00000262144" to memory/target.
 * What does not fit 32 bits is refused, never wrapped.
 */
HOST_TEST(xs_parse_u32_leading_zeros)
{
    uint32_t v = 7;

    CHECK(xs_parse_u32("0000000042", 10, &v) == 0 && v == 42);
    v = 7;
    CHECK(xs_parse_u32("00000000042", 11, &v) == 0 && v == 42);
    CHECK(xs_parse_u32("00000262144\0", 12, &v) == 0 && v == 262144);
    CHECK(xs_parse_u32("000000000004294967295", 21, &v) == 0 && v == 0xffffffffu);
    CHECK(xs_parse_u32("00000000000", 11, &v) == 0 && v == 0);
    v = 7;
    CHECK(xs_parse_u32("04294967296", 11, &v) == -XEN_EBADMSG && v == 7);
    CHECK(xs_parse_u32("42949672950", 11, &v) == -XEN_EBADMSG);
    /* Far past 2^64: refused, not wrapped round to something small. */
    CHECK(xs_parse_u32("18446744073709551658", 20, &v) == -XEN_EBADMSG && v == 7);
    CHECK(xs_parse_u32("000000000000000000000000000000000001x", 37, &v) ==
          -XEN_EBADMSG);
    CHECK(xs_parse_u32("\0", 1, &v) == -XEN_EBADMSG);
    CHECK(xs_parse_u32("4\0\0", 3, &v) == -XEN_EBADMSG);
    CHECK(xs_parse_u32("/9", 2, &v) == -XEN_EBADMSG);
    CHECK(xs_parse_u32(":9", 2, &v) == -XEN_EBADMSG);
    CHECK(xs_parse_u32("9", 1, &v) == 0 && v == 9);
    CHECK(xs_parse_u32("0", 1, &v) == 0 && v == 0);
}

/*
 * Pop buffers exactly as large as what they must hold (on the heap, so a
 * byte written past one is an ASan report): a path or token that needs one
 * byte more than its buffer is dropped, never truncated or overrun.
 */
HOST_TEST(xs_evq_pop_exact_buffers)
{
    uint8_t store[128];
    struct xs_evq q;
    char *p = malloc(10), *t = malloc(4);

    xs_evq_init(&q, store, sizeof(store));
    REQUIRE(xs_evq_push(&q, "012345678", 9, "tok", 3));
    CHECK(xs_evq_pop(&q, p, 10, t, 4) == 1);
    CHECK(!strcmp(p, "012345678") && !strcmp(t, "tok"));
    /* One byte more than fits, in the path, then in the token. */
    REQUIRE(xs_evq_push(&q, "0123456789", 10, "tok", 3));
    REQUIRE(xs_evq_push(&q, "012345678", 9, "toke", 4));
    REQUIRE(xs_evq_push(&q, "abc", 3, "", 0));
    CHECK(xs_evq_pop(&q, p, 10, t, 4) == -XEN_ENOBUFS);
    CHECK(xs_evq_pop(&q, p, 10, t, 4) == -XEN_ENOBUFS);
    CHECK(q.dropped == 2 && q.overflowed);
    /* The stream stays in step: the next record is whole. */
    CHECK(xs_evq_pop(&q, p, 10, t, 4) == 1 && !strcmp(p, "abc") && !strcmp(t, ""));
    CHECK(q.count == 0 && q.used == 0);
    free(p);
    free(t);
}

/* The queue holds exactly its size, and a record that fills it wraps whole. */
HOST_TEST(xs_evq_exactly_full)
{
    uint8_t store[32];
    struct xs_evq q;
    char p[32], t[8];

    xs_evq_init(&q, store, sizeof(store));
    REQUIRE(xs_evq_push(&q, "abcdef", 6, "t", 1));          /* 11 bytes */
    CHECK(xs_evq_pop(&q, p, sizeof(p), t, sizeof(t)) == 1);
    /* 4 + 24 + 4 = 32: exactly the queue, starting at offset 11. */
    CHECK(xs_evq_push(&q, "abcdefghijklmnopqrstuvwx", 24, "tokn", 4));
    CHECK(q.used == 32 && !q.overflowed);
    CHECK(!xs_evq_push(&q, "", 0, "", 0));                  /* not one byte more */
    CHECK(xs_evq_pop(&q, p, sizeof(p), t, sizeof(t)) == 1);
    CHECK(!strcmp(p, "abcdefghijklmnopqrstuvwx") && !strcmp(t, "tokn"));
    CHECK(q.used == 0 && q.head == 11);
    /* Lengths the record header cannot hold are refused. */
    CHECK(!xs_evq_push(&q, "", 0x10000, "", 0) && !xs_evq_push(&q, "", 0, "", 0x10000));
    CHECK(q.count == 0 && q.dropped == 3);
}

static size_t long_len;
static char long_first, long_last;

static void on_long(void *arg, const char *path, const char *token)
{
    (void)arg;
    (void)token;
    long_len = strlen(path);
    long_first = path[0];
    long_last = path[long_len - 1];
}

/*
 * Tokens around the size of a watch's token slot (XS_TOKEN_MAX, its NUL
 * included), and the longest path a watch event can carry.
 */
HOST_TEST(xs_client_event_token_and_path_limits)
{
    static uint8_t bigq[16384];
    static char body[XENSTORE_PAYLOAD_MAX];
    struct fixture *f = fx_new();
    struct xs_conn *c = &f->c;
    char buf[16];
    uint32_t plen;
    int slot;

    xs_evq_init(&c->events, bigq, sizeof(bigq));
    sim_set(&f->sim, "x", "y", 1);
    /* 15 characters fit the slot: queued, then unmatched at delivery. */
    sim_event(&f->sim, "p", "123456789012345");
    CHECK(xs_read(c, 0, "x", buf, sizeof(buf), NULL) == 0);
    CHECK(c->events.count == 1 && c->unmatched_events == 0);
    CHECK(xs_conn_dispatch(c) == 0 && c->unmatched_events == 1);
    CHECK(c->events.dropped == 0 && !c->events.overflowed);
    /* 16 do not: counted at once, never queued (no refire either). */
    sim_event(&f->sim, "p", "1234567890123456");
    CHECK(xs_read(c, 0, "x", buf, sizeof(buf), NULL) == 0);
    CHECK(c->events.count == 0 && c->unmatched_events == 2);
    CHECK(xs_conn_dispatch(c) == 0 && c->events.dropped == 0);

    /* The longest path: "path\0pvhk:N\0" filling the whole payload. */
    slot = xs_watch(c, "a", on_long, NULL);
    REQUIRE(slot >= 0);
    CHECK(xs_conn_dispatch(c) == 1 && long_len == 1);
    plen = XENSTORE_PAYLOAD_MAX - 2 - (uint32_t)strlen(f->w[slot].token);
    memset(body, 'x', plen);
    body[0] = 'a';
    body[1] = '/';
    body[plen - 1] = 'z';
    body[plen] = '\0';
    strcpy(body + plen + 1, f->w[slot].token);
    sim_msg(&f->sim, XS_WATCH_EVENT, 0, 0, body, XENSTORE_PAYLOAD_MAX);
    /* 4112 bytes through the 1 KiB ring: a dispatch per notification. */
    int fired = 0;
    for (int k = 0; k < 8 && !fired; k++) {
        sim_step(&f->sim);
        fired = xs_conn_dispatch(c);
    }
    CHECK(fired == 1);
    CHECK(long_len == plen && long_first == 'a' && long_last == 'z');
    CHECK(c->bad_events == 0 && c->dead == 0);
    free(f);
}

/* Exactly fitting reply buffers (heap: a byte past them is caught). */
HOST_TEST(xs_client_reply_buffers_exact)
{
    struct fixture *f = fx_new();
    struct xs_conn *c = &f->c;
    char *b = malloc(16);
    uint32_t len = 0;

    sim_set(&f->sim, "name", "guest1", 6);
    CHECK(xs_read(c, 0, "name", b, 7, &len) == 0 && len == 6 && !strcmp(b, "guest1"));
    CHECK(xs_read(c, 0, "name", b, 6, &len) == -XEN_ENOBUFS);
    /* "/local/domain/7" and its NUL: 16 bytes. */
    CHECK(xs_get_domain_path(c, 7, b, 16) == 0 && !strcmp(b, "/local/domain/7"));
    CHECK(xs_get_domain_path(c, 7, b, 15) == -XEN_ENOBUFS);
    /* The largest domid there is, in decimal. */
    CHECK(xs_get_domain_path(c, 4294967295u, b, 16) == -XEN_ENOBUFS);
    free(b);
    b = malloc(25);
    CHECK(xs_get_domain_path(c, 4294967295u, b, 25) == 0 &&
          !strcmp(b, "/local/domain/4294967295"));
    free(b);
    free(f);
}

/* Slots are 0 .. nr_watches - 1: one past the end is refused, not read. */
HOST_TEST(xs_unwatch_slot_bounds)
{
    struct fixture *f = fx_new();
    struct xs_conn *c = &f->c;
    unsigned before;

    for (int i = 0; i < 4; i++)
        REQUIRE(xs_watch(c, "a", on_ev, NULL) == i);
    CHECK(xs_watch(c, "b", on_ev, NULL) == -XEN_ENOSPC);
    before = f->sim.requests;
    CHECK(xs_unwatch(c, 4) == -XEN_EINVAL);
    CHECK(xs_unwatch(c, -1) == -XEN_EINVAL);
    CHECK(xs_unwatch(c, 0x7fffffff) == -XEN_EINVAL);
    CHECK(f->sim.requests == before);
    CHECK(xs_unwatch(c, 3) == 0 && f->sim.requests == before + 1);
    CHECK(xs_unwatch(c, 3) == -XEN_EINVAL);
    CHECK(xs_watch(c, "b", on_ev, NULL) == 3);
    free(f);
}

/* Eight string arguments at most; a string payload of exactly 4096 bytes. */
HOST_TEST(xs_encode_argument_limits)
{
    static char s4095[XENSTORE_PAYLOAD_MAX];
    static uint8_t buf[XS_MSG_MAX];
    const char *eight[9] = { "a", "b", "c", "d", "e", "f", "g", "h", "i" };
    const char *one[1] = { s4095 };
    long n;

    n = xs_encode(buf, sizeof(buf), XS_WATCH, 1, 0, eight, 8, NULL, 0);
    CHECK(n == 16 + 16 && !memcmp(buf + 16, "a\0b\0c\0d\0e\0f\0g\0h\0", 16));
    CHECK(xs_encode(buf, sizeof(buf), XS_WATCH, 1, 0, eight, 9, NULL, 0) ==
          -XEN_EINVAL);
    memset(s4095, 'p', XENSTORE_PAYLOAD_MAX - 1);
    CHECK(xs_encode(buf, sizeof(buf), XS_READ, 1, 0, one, 1, NULL, 0) ==
          (long)XS_MSG_MAX);
    CHECK(buf[XS_MSG_MAX - 1] == 0 && buf[XS_MSG_MAX - 2] == 'p');
    /* With one raw byte more it no longer fits. */
    CHECK(xs_encode(buf, sizeof(buf), XS_WRITE, 1, 0, one, 1, "v", 1) ==
          -XEN_E2BIG);
    CHECK(xs_encode(buf, sizeof(buf), XS_WRITE, 1, 0, one, 1, "v", 0) ==
          (long)XS_MSG_MAX);
}

/* Lengths that need both bytes of the record header, up to its limit. */
HOST_TEST(xs_evq_record_lengths)
{
    enum { BIG = 2 * 0x10000 + 1024 };
    uint8_t *store = malloc(BIG);
    char *src = malloc(0x10001), *p = malloc(0x10000), *t = malloc(0x10000);
    struct xs_evq q;

    for (unsigned i = 0; i < 0x10001; i++)
        src[i] = (char)('a' + i % 23);
    xs_evq_init(&q, store, BIG);
    CHECK(xs_evq_push(&q, src, 0xffff, src + 7, 300));
    CHECK(xs_evq_push(&q, src + 1, 300, src, 0xffff - 300));
    CHECK(xs_evq_pop(&q, p, 0x10000, t, 0x10000) == 1);
    CHECK(strlen(p) == 0xffff && !memcmp(p, src, 0xffff));
    CHECK(strlen(t) == 300 && !memcmp(t, src + 7, 300));
    CHECK(xs_evq_pop(&q, p, 0x10000, t, 0x10000) == 1);
    CHECK(strlen(p) == 300 && !memcmp(p, src + 1, 300));
    CHECK(strlen(t) == 0xffff - 300 && !memcmp(t, src, 0xffff - 300));
    /* 2^16 does not fit the header's 16 bits, however big the queue. */
    CHECK(!xs_evq_push(&q, src, 0x10000, "", 0));
    CHECK(!xs_evq_push(&q, "", 0, src, 0x10000));
    CHECK(q.count == 0 && q.used == 0 && q.dropped == 2);
    free(store);
    free(src);
    free(p);
    free(t);
}

/* Watch slots are free after init, whatever the caller's array held. */
HOST_TEST(xs_conn_init_clears_every_slot)
{
    struct fixture *f = calloc(1, sizeof(*f));

    memset(f->w, 0xff, sizeof(f->w));
    for (int i = 0; i < 4; i++)
        f->w[i].active = true;
    xs_conn_init(&f->c, &f->sim.ring, sim_kick, sim_wait, &f->sim, f->evbuf,
                 sizeof(f->evbuf), f->w, ARRAY_SIZE(f->w));
    for (int i = 0; i < 4; i++)
        CHECK(!f->w[i].active);
    CHECK(xs_watch(&f->c, "a", on_ev, NULL) == 0);
    free(f);
}

/*
 * A daemon that reads requests only when woken: a request larger than the
 * ring waits for room (and is sent whole), never reported done early.
 */
HOST_TEST(xs_client_request_waits_for_ring_room)
{
    struct fixture *f = fx_new();
    static char val[3000], back[3001];
    uint32_t len;

    for (unsigned i = 0; i < sizeof(val); i++)
        val[i] = (char)('A' + i % 26);
    f->sim.deaf = true;
    CHECK(xs_write(&f->c, 0, "big", val, sizeof(val)) == 0);
    CHECK(f->sim.waits > 0 && f->c.dead == 0);
    f->sim.deaf = false;
    CHECK(xs_read(&f->c, 0, "big", back, sizeof(back), &len) == 0);
    CHECK(len == sizeof(val) && !memcmp(back, val, len));
    free(f);
}

/* Broken request-ring indices kill the connection before anything goes. */
HOST_TEST(xs_client_broken_request_ring)
{
    struct fixture *f = fx_new();
    char buf[8];

    f->sim.ring.req_cons = 5000;
    CHECK(xs_read(&f->c, 0, "k", buf, sizeof(buf), NULL) == -XEN_EIO);
    CHECK(f->c.dead == -XEN_EIO && f->sim.ring.req_prod == 0);
    free(f);
}

/* A message of an unknown type after a watch event is not an event. */
HOST_TEST(xs_client_unknown_type_after_event)
{
    struct fixture *f = fx_new();
    struct xs_conn *c = &f->c;
    uint8_t two[128];
    char buf[16];
    size_t n;

    n = mk(two, XS_WATCH_EVENT, 0, 0, "a\0pvhk:9", 9);
    n += mk(two + n, 99, c->next_req_id, 0, "a\0pvhk:9", 9);
    f->sim.raw_reply = two;
    f->sim.raw_len = n;
    CHECK(xs_read(c, 0, "x", buf, sizeof(buf), NULL) == -XEN_EBADMSG);
    CHECK(c->events.count == 1 && c->bad_events == 0 && c->dead == 0);
    /* In dispatch too: a stray unknown message is no event either. */
    n = mk(two, XS_WATCH_EVENT, 0, 0, "a\0pvhk:9", 9);
    n += mk(two + n, 99, 4242, 0, "a\0pvhk:9", 9);
    sim_queue(&f->sim, two, n);
    sim_step(&f->sim);
    CHECK(xs_conn_dispatch(c) == 0);
    CHECK(c->unmatched_events == 2 && c->stray_replies == 1);
    free(f);
}

/*
 * Half a request in the ring: if the wait for room gives up, or the
 * response ring breaks meanwhile, the connection is dead and the rest of
 * the request is never sent.
 */
HOST_TEST(xs_client_half_sent_request)
{
    struct fixture *f = fx_new();
    static char val[3000];
    unsigned before;

    memset(val, 'v', sizeof(val));
    f->sim.deaf = f->sim.stuck = true;
    CHECK(xs_write(&f->c, 0, "big", val, sizeof(val)) == -XEN_ETIMEDOUT);
    CHECK(f->c.dead == -XEN_ETIMEDOUT);
    CHECK(f->sim.ring.req_prod - f->sim.ring.req_cons == XENSTORE_RING_SIZE);
    free(f);

    f = fx_new();
    f->sim.deaf = true;
    f->sim.ring.rsp_prod = 5000;        /* broken while we wait for room */
    before = f->sim.requests;
    CHECK(xs_write(&f->c, 0, "big", val, sizeof(val)) == -XEN_EIO);
    CHECK(f->c.dead == -XEN_EIO && f->sim.waits == 0);
    sim_step(&f->sim);
    CHECK(f->sim.requests == before);   /* the daemon never got all of it */
    free(f);
}

/*
 * The daemon's error string is kept, cut to last_error's 15 characters and
 * its NUL; the counters stored after last_error are not touched.
 */
HOST_TEST(xs_client_long_error_string_kept_in_bounds)
{
    struct fixture *f = fx_new();
    struct xs_conn *c = &f->c;
    uint8_t raw[64];
    char buf[8];

    c->stray_replies = 0x55555555;
    c->bad_events = 0x66666666;
    f->sim.raw_reply = raw;
    f->sim.raw_len = mk(raw, XS_ERROR, c->next_req_id, 0,
                        "EVERYLONGERRORNAME", 19);
    CHECK(xs_read(c, 0, "k", buf, sizeof(buf), NULL) == -XEN_EIO);
    CHECK(!strcmp(c->last_error, "EVERYLONGERRORN"));
    CHECK(c->stray_replies == 0x55555555 && c->bad_events == 0x66666666);
    /* Exactly 15 characters and the NUL: kept whole. */
    f->sim.raw_reply = raw;
    f->sim.raw_len = mk(raw, XS_ERROR, c->next_req_id, 0, "ABCDEFGHIJKLMNO", 16);
    CHECK(xs_read(c, 0, "k", buf, sizeof(buf), NULL) == -XEN_EIO);
    CHECK(!strcmp(c->last_error, "ABCDEFGHIJKLMNO"));
    CHECK(c->stray_replies == 0x55555555);
    free(f);
}

static int nested_rc = -1;
static struct xs_conn *nested_conn;

static void on_nested(void *arg, const char *path, const char *token)
{
    (void)path;
    (void)token;
    ev_hits += arg ? *(int *)arg : 1;
    nested_rc = xs_conn_dispatch(nested_conn);
}

/* Dispatch from inside a callback returns 0 at once (not reentrant). */
HOST_TEST(xs_dispatch_not_reentrant)
{
    struct fixture *f = fx_new();

    nested_conn = &f->c;
    ev_hits = 0;
    REQUIRE(xs_watch(&f->c, "a", on_nested, NULL) == 0);
    sim_event(&f->sim, "a", f->w[0].token);     /* a second event queued */
    sim_step(&f->sim);
    CHECK(xs_conn_dispatch(&f->c) == 2);
    CHECK(ev_hits == 2 && nested_rc == 0);
    free(f);
}

/* Events for a removed watch reach nobody, even with its token. */
HOST_TEST(xs_events_after_unwatch_go_nowhere)
{
    struct fixture *f = fx_new();
    char token[XS_TOKEN_MAX];

    ev_hits = 0;
    REQUIRE(xs_watch(&f->c, "a", on_ev, NULL) == 0);
    CHECK(xs_conn_dispatch(&f->c) == 1 && ev_hits == 1);
    strcpy(token, f->w[0].token);
    CHECK(xs_unwatch(&f->c, 0) == 0);
    sim_event(&f->sim, "a", token);
    sim_step(&f->sim);
    CHECK(xs_conn_dispatch(&f->c) == 0 && ev_hits == 1);
    CHECK(f->c.unmatched_events == 1);
    free(f);
}

/* A dead connection delivers nothing more, queued events included. */
HOST_TEST(xs_dead_connection_dispatches_nothing)
{
    struct fixture *f = fx_new();
    struct xsd_sockmsg h = { XS_READ, 0, 0, XENSTORE_PAYLOAD_MAX + 1 };
    char buf[8];

    ev_hits = 0;
    sim_set(&f->sim, "k", "v", 1);
    REQUIRE(xs_watch(&f->c, "a", on_ev, NULL) == 0);
    CHECK(xs_read(&f->c, 0, "k", buf, sizeof(buf), NULL) == 0);
    CHECK(f->c.events.count == 1);                      /* the watch's event */
    h.req_id = f->c.next_req_id;
    f->sim.raw_reply = (const uint8_t *)&h;
    f->sim.raw_len = sizeof(h);
    CHECK(xs_read(&f->c, 0, "k", buf, sizeof(buf), NULL) == -XEN_EMSGSIZE);
    CHECK(xs_conn_dispatch(&f->c) == -XEN_EMSGSIZE && ev_hits == 0);
    free(f);
}

/*
 * A queued record too long for the delivery buffers (only possible by
 * pushing one directly) is dropped; it fires no watch with what an
 * earlier event left in them, and the overflow rule fires each watch once.
 */
HOST_TEST(xs_dispatch_drops_an_oversized_record)
{
    struct fixture *f = fx_new();
    static uint8_t bigq[12288];
    static char path[XENSTORE_PAYLOAD_MAX + 10];
    int one = 1, hundred = 100;

    xs_evq_init(&f->c.events, bigq, sizeof(bigq));
    ev_hits = 0;
    REQUIRE(xs_watch(&f->c, "a", on_ev, &one) == 0);
    REQUIRE(xs_watch(&f->c, "b", on_ev, &hundred) == 1);
    CHECK(xs_conn_dispatch(&f->c) == 2 && ev_hits == 101);
    /* The last event delivered was b's; now a record with b's token. */
    memset(path, 'p', sizeof(path) - 1);
    REQUIRE(xs_evq_push(&f->c.events, path, sizeof(path) - 1, f->w[1].token,
                        (uint32_t)strlen(f->w[1].token)));
    ev_hits = 0;
    CHECK(xs_conn_dispatch(&f->c) == 2 && ev_hits == 101);  /* refire only */
    CHECK(f->c.events.dropped == 1 && !f->c.events.overflowed);
    free(f);
}

/* Directory replies: an empty one is fine; no reply at all is an error. */
HOST_TEST(xs_directory_empty_and_timeout)
{
    struct fixture *f = fx_new();
    struct xs_msg m;

    CHECK(xs_mkdir(&f->c, 0, "d") == 0);
    CHECK(xs_directory(&f->c, 0, "d", &m) == 0 && m.len == 0);
    f->sim.mute = true;
    memset(&m, 0xa5, sizeof(m));
    CHECK(xs_directory(&f->c, 0, "d", &m) == -XEN_ETIMEDOUT);
    free(f);
}

/* The value goes as given, up to the payload limit with the path's NUL. */
HOST_TEST(xs_write_str_limit)
{
    struct fixture *f = fx_new();
    static char v[XENSTORE_PAYLOAD_MAX + 1];

    memset(v, 'v', XENSTORE_PAYLOAD_MAX);
    CHECK(xs_write_str(&f->c, 0, "", v) == -XEN_E2BIG);
    v[XENSTORE_PAYLOAD_MAX - 1] = '\0';
    CHECK(xs_write_str(&f->c, 0, "", v) == 0);
    free(f);
}
