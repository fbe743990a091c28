/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xenstore client: the operations. Each is one request on the connection
 * (xs_request, xen/xs_conn.c) with its reply checked and unpacked:
 * read, write, mkdir, rm, directory, get_domain_path, watch and unwatch,
 * and transactions with their retry loop.
 */
#include <pvhk/types.h>
#include <pvhk/string.h>
#include <pvhk/xenstore.h>

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
