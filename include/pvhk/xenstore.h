/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * xenstore client: the wire protocol and the shared-ring transport, pure.
 * Its parts: the message codec (xen/xs_msg.c), the ring transport
 * (xen/xs_ring.c), the watch-event queue (xen/xs_events.c), the connection
 * (xen/xs_conn.c) and the operations (xen/xs_ops.c).
 *
 * Everything here works on memory the caller provides: the ring page
 * (struct xenstore_domain_interface, from HVM_PARAM_STORE_PFN), a connection
 * struct holding one message in each direction, and a byte buffer for queued
 * watch events. The kernel glue supplies two callbacks, kick (send on the
 * store event channel) and wait (block until that channel fires), and
 * nothing else; the host tests supply a simulated xenstored instead.
 *
 * Errors are negative Xen errno values (<xen/errno.h>), the same space the
 * hypercalls return, so a daemon's "ENOENT" comes back as -XEN_ENOENT.
 * A connection is not reentrant: one request in flight at a time.
 * See docs/xenstore.md.
 */
#ifndef PVHK_XENSTORE_H
#define PVHK_XENSTORE_H

#include <pvhk/types.h>
#include <xen/errno.h>
#include <xen/io/xs_wire.h>

#define XS_HDR_SIZE     ((uint32_t)sizeof(struct xsd_sockmsg))  /* 16 */
#define XS_MSG_MAX      (XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX)
#define XS_TOKEN_MAX    16              /* our tokens, NUL included */

/* ---- encoding (xen/xs_msg.c) --------------------------------------------- */

/*
 * Encode one request into buf: the header, then each of strs[] with its
 * terminating NUL, then raw[0..rawlen) with none (XS_WRITE's value is the
 * only raw tail the protocol has). Returns the total length, -XEN_E2BIG if the
 * payload exceeds XENSTORE_PAYLOAD_MAX, -XEN_ENOBUFS if buf is too small.
 */
long xs_encode(void *buf, size_t bufsz, uint32_t type, uint32_t req_id,
               uint32_t tx_id, const char *const *strs, unsigned nstrs,
               const void *raw, size_t rawlen);

/* ---- decoding (xen/xs_msg.c) --------------------------------------------- */

/* A decoded message: a view into the buffer it was parsed from. */
struct xs_msg {
    uint32_t type, req_id, tx_id, len;
    const char *body;                   /* len bytes, not NUL-terminated */
};

/*
 * Look at the first n bytes of a stream. Returns 0 if fewer than XS_HDR_SIZE
 * bytes are there, -XEN_EMSGSIZE if the header announces more than
 * XENSTORE_PAYLOAD_MAX, else the full message length (header + payload).
 */
long xs_msg_peek(const void *buf, size_t n);

/*
 * Parse exactly one message of n bytes. -XEN_EBADMSG if n does not match the
 * header (truncated or trailing bytes) or the type is not one xenstored
 * sends; -XEN_EMSGSIZE for an oversized length.
 */
int xs_msg_parse(const void *buf, size_t n, struct xs_msg *m);

/*
 * Check a reply to a request (type, tx_id). Returns 0 if it is the expected
 * type, the daemon's error (xs_error_decode) if it is XS_ERROR,
 * -XEN_EBADMSG for any other type or a tx_id that is not echoed.
 * The caller has already matched req_id.
 */
int xs_reply_check(const struct xs_msg *m, uint32_t type, uint32_t tx_id);

/*
 * An XS_ERROR payload ("ENOENT", with or without its NUL) to -XEN_Exxx.
 * "EQUOTA" (oxenstored's quota refusal) becomes -XEN_ENOSPC; a string this
 * client does not know becomes -XEN_EIO. xs_errno_name is the inverse for
 * printing ("ENOENT"); it returns "E?" for codes outside the table.
 */
int xs_error_decode(const char *body, uint32_t len);
const char *xs_errno_name(int err);

/*
 * Walk a list of NUL-terminated strings (an XS_DIRECTORY reply). *pos starts
 * at 0. Returns 1 and sets *s and *slen for the next entry, 0 at the end,
 * -XEN_EBADMSG if the last entry is not NUL-terminated.
 */
int xs_strings_next(const char *body, uint32_t len, uint32_t *pos,
                    const char **s, uint32_t *slen);

/* Count the entries of such a list (validating it), or -XEN_EBADMSG. */
int xs_strings_count(const char *body, uint32_t len);

/*
 * An XS_WATCH_EVENT payload: "path\0token\0". Returns 0 and points path/token
 * into the body (both NUL-terminated there), -XEN_EBADMSG otherwise.
 */
int xs_watch_event_parse(const struct xs_msg *m, const char **path,
                         const char **token);

/*
 * A decimal u32 as xenstored stores it ("17", its NUL optional): digits
 * only, leading zeros allowed, at most 4294967295; else -XEN_EBADMSG and
 * *out untouched.
 */
int xs_parse_u32(const char *body, uint32_t len, uint32_t *out);

/* ---- ring transport (xen/xs_ring.c) -------------------------------------- */

/*
 * Copy up to len bytes into the request ring / out of the response ring.
 * Return the bytes moved (0 if no room / nothing there), -XEN_EIO if the
 * indices are inconsistent (prod - cons > ring size: the peer is broken or
 * hostile, and the ring cannot be trusted again). Ordering is done with
 * acquire loads and release stores of the indices, see xen/xs_ring.c.
 */
long xs_ring_write(struct xenstore_domain_interface *intf, const void *buf,
                   size_t len);
long xs_ring_read(struct xenstore_domain_interface *intf, void *buf,
                  size_t len);

/* ---- watch event queue (xen/xs_events.c) --------------------------------- */

/*
 * Events that arrive while a reply is awaited are queued here and delivered
 * by xs_conn_dispatch. Bounded, in caller storage: when an event does not
 * fit it is dropped and `overflowed` is set, and the next dispatch fires
 * every registered watch once (a watch event only says "look again", so a
 * spurious one is harmless and a lost one is not).
 */
struct xs_evq {
    uint8_t *buf;
    uint32_t size, head, used;          /* byte ring of records */
    uint32_t count;                     /* events queued */
    bool overflowed;
    uint32_t dropped;                   /* lifetime count of dropped events */
};

void xs_evq_init(struct xs_evq *q, void *buf, size_t size);
/* Queue path/token (copied). false if it did not fit (then marked). */
bool xs_evq_push(struct xs_evq *q, const char *path, uint32_t plen,
                 const char *token, uint32_t tlen);
/*
 * Pop the oldest event into path/token buffers (NUL-terminated, truncated to
 * fit is an error: returns -XEN_ENOBUFS and drops the event), 1 on success,
 * 0 if empty.
 */
int xs_evq_pop(struct xs_evq *q, char *path, size_t psz, char *token,
               size_t tsz);

/* ---- watches ------------------------------------------------------------- */

typedef void (*xs_watch_fn)(void *arg, const char *path, const char *token);

/* A watch slot. The connection owns an array of them (caller storage). */
struct xs_watch {
    const char *path;                   /* watched node; caller keeps it alive */
    char token[XS_TOKEN_MAX];           /* "pvhk:<seq hex>", unique per watch() */
    xs_watch_fn fn;
    void *arg;
    bool active;
};

/* ---- connection (xen/xs_conn.c) ------------------------------------------ */

struct xs_conn {
    struct xenstore_domain_interface *intf;
    void (*kick)(void *ctx);            /* notify the daemon */
    int (*wait)(void *ctx);             /* block for an event; <0 = give up */
    void *ctx;

    uint32_t next_req_id;
    int dead;                           /* sticky transport error, or 0 */

    uint8_t tx[XS_MSG_MAX];             /* request being sent */
    uint8_t rx[XS_MSG_MAX];             /* message being received */
    uint32_t rx_have;
    char ev_path[XENSTORE_PAYLOAD_MAX]; /* event being delivered */
    char ev_token[XS_TOKEN_MAX];
    bool dispatching;

    struct xs_evq events;
    struct xs_watch *watches;
    unsigned nr_watches;

    char last_error[16];                /* the daemon's last XS_ERROR string */
    uint32_t stray_replies;             /* replies nobody waited for */
    uint32_t bad_events;                /* malformed watch events dropped */
    uint32_t unmatched_events;          /* events for no active watch */
    uint32_t watch_seq;
};

void xs_conn_init(struct xs_conn *c, struct xenstore_domain_interface *intf,
                  void (*kick)(void *), int (*wait)(void *), void *ctx,
                  void *evbuf, size_t evbuf_size,
                  struct xs_watch *watches, unsigned nr_watches);

/*
 * Send one request and wait for its reply, queueing watch events that come
 * first. On success returns 0 and *reply views c->rx (valid until the next
 * call on c). Errors: the daemon's (-XEN_ENOENT...), -XEN_ETIMEDOUT if
 * wait() gave up (a late reply is then discarded as stray), or a transport
 * error (-XEN_EIO, -XEN_EMSGSIZE, -XEN_EBADMSG) which kills the connection.
 */
int xs_request(struct xs_conn *c, uint32_t type, uint32_t tx_id,
               const char *const *strs, unsigned nstrs,
               const void *raw, size_t rawlen, struct xs_msg *reply);

/*
 * Drain the response ring without blocking (queueing events, discarding
 * stray replies), then deliver queued watch events to their callbacks; after
 * an overflow, fire every active watch once. Callbacks may issue requests;
 * events those requests queue are delivered by the same call. Not reentrant
 * (a nested call returns 0). Returns the number of callbacks run, or the
 * connection's transport error.
 */
int xs_conn_dispatch(struct xs_conn *c);

/* ---- operations (xen/xs_ops.c) ------------------------------------------- */

/* Common operations. tx is 0 or a transaction id (XBT_NIL is 0). */
int xs_read(struct xs_conn *c, uint32_t tx, const char *path, char *buf,
            size_t bufsz, uint32_t *len);  /* NUL-terminates; -XEN_ENOBUFS */
int xs_write(struct xs_conn *c, uint32_t tx, const char *path,
             const void *val, size_t vlen);
int xs_write_str(struct xs_conn *c, uint32_t tx, const char *path,
                 const char *val);
int xs_mkdir(struct xs_conn *c, uint32_t tx, const char *path);
int xs_rm(struct xs_conn *c, uint32_t tx, const char *path);
/* Directory: *reply views the NUL-separated names (walk with xs_strings_next). */
int xs_directory(struct xs_conn *c, uint32_t tx, const char *path,
                 struct xs_msg *reply);
int xs_get_domain_path(struct xs_conn *c, uint32_t domid, char *buf,
                       size_t bufsz);

/*
 * Register a watch on path (kept by pointer). Returns the slot index (>= 0)
 * or an error: -XEN_ENOSPC if all slots are busy, the daemon's refusal.
 * xenstored fires a new watch once right away; that event is queued too.
 */
int xs_watch(struct xs_conn *c, const char *path, xs_watch_fn fn, void *arg);
/* Remove it. The slot is freed whatever the daemon answers. */
int xs_unwatch(struct xs_conn *c, int slot);

int xs_transaction_start(struct xs_conn *c, uint32_t *tx);
int xs_transaction_end(struct xs_conn *c, uint32_t tx, bool commit);

/*
 * Run body(c, tx, arg) inside a transaction and commit it; when the commit
 * (or the body) reports -XEN_EAGAIN, start over, at most max_tries times.
 * Any other error from body aborts the transaction and is returned. Returns
 * 0, the error, or -XEN_EAGAIN after max_tries conflicts; *tries (optional)
 * receives the attempts made.
 */
typedef int (*xs_tx_body)(struct xs_conn *c, uint32_t tx, void *arg);
int xs_transaction_run(struct xs_conn *c, xs_tx_body body, void *arg,
                       unsigned max_tries, unsigned *tries);

#endif
