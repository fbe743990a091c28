/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xenstore client: the message codec. Requests are encoded, replies and
 * watch events parsed, XS_ERROR strings mapped to Xen errno values. Pure
 * and stateless: every function works on the buffer it is given.
 *
 * A message is framed by its header's length alone (xs_msg_peek), so one
 * that is framed but malformed (an unknown type, a bad error string, a bad
 * watch event) is returned as an error and the stream stays in sync; the
 * trust model is in xen/xs_conn.c.
 */
#include <pvhk/types.h>
#include <pvhk/string.h>
#include <pvhk/xenstore.h>

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
