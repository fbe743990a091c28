/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * e820 map sanitiser.
 *
 * The result is defined page by page (docs/memory-map.md, rules 1-4), but a
 * map may span all 2^52 pages, so it is computed from boundaries only:
 *
 *   1. Every non-empty entry becomes two sweep events, +1 of its type at
 *      its first byte and -1 after its last byte.  Sorting the events and
 *      keeping a count of open entries per type splits the address space
 *      into byte segments of one effective type (rule 2: the highest type
 *      open wins; no entry open is a hole).
 *   2. The segments, which tile [0, 2^64) exactly, feed a one-page
 *      accumulator: a page wholly inside a segment takes the segment's
 *      type; a page cut by segment edges collects the set of types among
 *      its bytes and is resolved by rule 3.
 *   3. Pages come out in address order as runs, which merge into entries
 *      (rule 4).
 *
 * Cost: O(n log n) in the number of raw entries, no recursion, a few
 * hundred bytes of stack; the events live in caller-provided scratch.
 */
#include <pvhk/e820.h>
#include <pvhk/string.h>

#define TYPE_BIT(t)     (1u << (t))
/* Rule 3: RAM and UNUSABLE are inward, holes are nothing, the rest outward. */
#define INWARD_BITS     (TYPE_BIT(E820_RAM) | TYPE_BIT(E820_UNUSABLE))
#define OUTWARD_BITS    (0xffu & ~(INWARD_BITS | TYPE_BIT(E820_HOLE)))

static inline bool type_known(uint32_t type)
{
    return type >= E820_RAM && type <= E820_TYPE_MAX;
}

/* ---- events ---------------------------------------------------------- */

static void sift_down(struct e820_event *ev, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        struct e820_event tmp;

        if (child >= n)
            return;
        if (child + 1 < n && ev[child + 1].pos > ev[child].pos)
            child++;
        if (ev[root].pos >= ev[child].pos)
            return;
        tmp = ev[root];
        ev[root] = ev[child];
        ev[child] = tmp;
        root = child;
    }
}

/* Heapsort: O(n log n) worst case, in place, no recursion. */
static void sort_events(struct e820_event *ev, size_t n)
{
    if (n < 2)
        return;
    for (size_t i = n / 2; i-- > 0; )
        sift_down(ev, i, n);
    for (size_t end = n - 1; end > 0; end--) {
        struct e820_event tmp = ev[0];

        ev[0] = ev[end];
        ev[end] = tmp;
        sift_down(ev, 0, end);
    }
}

static void note_unknown(struct e820_report *rep, uint32_t type)
{
    rep->nr_unknown++;
    for (uint32_t i = 0; i < rep->nr_unknown_types; i++)
        if (rep->unknown_types[i] == type)
            return;
    if (rep->nr_unknown_types < E820_REPORT_TYPES)
        rep->unknown_types[rep->nr_unknown_types++] = type;
}

/* ---- output: page runs merged into entries --------------------------- */

struct builder {
    struct e820_map *out;
    uint32_t needed;
    bool open;          /* a run is being extended */
    uint32_t type;
    uint64_t pfn, count;
};

static void flush_run(struct builder *b)
{
    if (!b->open)
        return;
    if (b->needed < E820_MAX_ENTRIES) {
        struct e820_entry *e = &b->out->entries[b->needed];

        e->addr = PFN_PHYS(b->pfn);
        /* 2^52 pages wrap to 0: the documented "size 0 is 2^64". */
        e->size = PFN_PHYS(b->count);
        e->type = b->type;
    }
    b->needed++;
    b->open = false;
}

static void emit_pages(struct builder *b, uint64_t pfn, uint64_t count,
                       uint32_t type)
{
    if (b->open && b->type == type && b->pfn + b->count == pfn) {
        b->count += count;
        return;
    }
    flush_run(b);
    if (type == E820_HOLE)
        return;
    b->open = true;
    b->type = type;
    b->pfn = pfn;
    b->count = count;
}

/* Rule 3, for the set of byte types found in one page. */
static uint32_t resolve_page(uint32_t mask)
{
    uint32_t outward = mask & OUTWARD_BITS;

    if (outward)
        return 31 - __builtin_clz(outward);
    if (mask == TYPE_BIT(E820_RAM))
        return E820_RAM;
    if (mask == TYPE_BIT(E820_UNUSABLE))
        return E820_UNUSABLE;
    return E820_HOLE;
}

/*
 * Feed the byte segment [s, last] of one effective type.  *mask holds the
 * types of the bytes of s's page that lie before s (0 if s starts a page).
 */
static void feed_segment(struct builder *b, uint32_t *mask, uint64_t s,
                         uint64_t last, uint32_t type)
{
    uint64_t spfn = PFN_DOWN(s), lpfn = PFN_DOWN(last);
    bool ends_page = (last & (PAGE_SIZE - 1)) == PAGE_SIZE - 1;
    uint64_t full_end;

    *mask |= TYPE_BIT(type);
    if (spfn == lpfn && !ends_page)
        return;                 /* the page goes on into the next segment */

    /* s's page is complete: it is decided by all the types it collected. */
    emit_pages(b, spfn, 1, resolve_page(*mask));

    /* Pages wholly inside the segment take its type as they are. */
    full_end = ends_page ? lpfn + 1 : lpfn;
    if (full_end > spfn + 1)
        emit_pages(b, spfn + 1, full_end - (spfn + 1), type);

    *mask = ends_page ? 0 : TYPE_BIT(type);
}

/* ---- the sanitiser --------------------------------------------------- */

int e820_sanitise_raw(const void *raw, size_t stride, size_t nr_in,
                      struct e820_map *out, struct e820_scratch *scratch,
                      struct e820_report *rep)
{
    const unsigned char *p = raw;
    struct e820_event *ev;
    struct builder b = { .out = out };
    int32_t open[E820_TYPE_MAX + 1] = { 0 };
    uint32_t mask = 0;
    size_t ne = 0, i;
    uint64_t pos;

    if (!out || !scratch || !rep || stride < E820_RAW_MIN_STRIDE ||
        (nr_in && !raw))
        return E820_EINVAL;

    memset(rep, 0, sizeof(*rep));
    out->nr = 0;
    rep->nr_in = nr_in > UINT32_MAX ? UINT32_MAX : (uint32_t)nr_in;
    if (nr_in > E820_MAX_INPUT)
        return E820_ETOOMANY;

    /* Rule 1: validate each raw entry into at most two events. */
    ev = scratch->ev;
    for (i = 0; i < nr_in; i++, p += stride) {
        uint64_t addr, size, last;
        uint32_t type;

        /* memcpy: Xen's struct e820entry is packed, fields unaligned. */
        memcpy(&addr, p, sizeof(addr));
        memcpy(&size, p + 8, sizeof(size));
        memcpy(&type, p + 16, sizeof(type));

        if (size == 0) {
            rep->nr_zero++;
            continue;
        }
        if (!type_known(type)) {
            note_unknown(rep, type);
            type = E820_RESERVED;
        }
        if (size - 1 > UINT64_MAX - addr) {
            rep->nr_clipped++;
            last = UINT64_MAX;
        } else {
            last = addr + (size - 1);
        }
        ev[ne++] = (struct e820_event){ addr, type, +1 };
        /* An entry reaching 2^64 never closes: nothing lies beyond. */
        if (last != UINT64_MAX)
            ev[ne++] = (struct e820_event){ last + 1, type, -1 };
    }
    sort_events(ev, ne);

    /*
     * Rule 2: sweep.  Each pass applies every event at pos, then the
     * segment [pos, next event - 1] has the highest type still open.
     */
    pos = 0;
    i = 0;
    for (;;) {
        uint32_t type = E820_HOLE;
        uint64_t last;

        for (; i < ne && ev[i].pos == pos; i++)
            open[ev[i].type] += ev[i].delta;
        for (uint32_t t = E820_TYPE_MAX; t > E820_HOLE; t--) {
            if (open[t]) {
                type = t;
                break;
            }
        }
        last = i < ne ? ev[i].pos - 1 : UINT64_MAX;
        feed_segment(&b, &mask, pos, last, type);
        if (i == ne)
            break;
        pos = ev[i].pos;
    }
    flush_run(&b);

    /* Rule 4: never drop entries silently. */
    rep->nr_needed = b.needed;
    if (b.needed > E820_MAX_ENTRIES) {
        out->nr = E820_MAX_ENTRIES;
        return E820_ENOSPC;
    }
    out->nr = b.needed;
    return E820_OK;
}

int e820_sanitise(const struct e820_entry *in, size_t nr_in,
                  struct e820_map *out, struct e820_scratch *scratch,
                  struct e820_report *rep)
{
    return e820_sanitise_raw(in, sizeof(*in), nr_in, out, scratch, rep);
}

const char *e820_strerror(int err)
{
    switch (err) {
    case E820_OK:       return "ok";
    case E820_ETOOMANY: return "too many raw entries";
    case E820_ENOSPC:   return "sanitised map exceeds its capacity";
    case E820_EINVAL:   return "invalid arguments";
    default:            return "unknown error";
    }
}

/* ---- using a sanitised map ------------------------------------------- */

const char *e820_validate(const struct e820_map *m, uint32_t *bad)
{
    const char *why = NULL;
    uint32_t i;

    if (m->nr > E820_MAX_ENTRIES) {
        i = 0;
        why = "more entries than the capacity";
        goto out;
    }
    for (i = 0; i < m->nr; i++) {
        const struct e820_entry *e = &m->entries[i];
        const struct e820_entry *prev = i ? e - 1 : NULL;

        if (!type_known(e->type))
            why = "unknown type";
        else if (!IS_ALIGNED(e->addr, PAGE_SIZE) ||
                 !IS_ALIGNED(e->size, PAGE_SIZE))
            why = "not page-aligned";
        else if (e->size == 0 && e->addr != 0)
            why = "size 0 (2^64) but not at address 0";
        else if (e->size != 0 && e->size - 1 > UINT64_MAX - e->addr)
            why = "runs past 2^64";
        else if (prev && (e820_last(prev) == UINT64_MAX ||
                          e->addr <= e820_last(prev)))
            why = "not sorted or overlapping";
        else if (prev && e->addr == e820_last(prev) + 1 &&
                 e->type == prev->type)
            why = "adjacent entries of one type not merged";
        if (why)
            break;
    }
out:
    if (why && bad)
        *bad = i;
    return why;
}

uint32_t e820_type_at(const struct e820_map *m, uint64_t addr)
{
    for (uint32_t i = 0; i < m->nr; i++) {
        const struct e820_entry *e = &m->entries[i];

        if (addr >= e->addr && addr <= e820_last(e))
            return e->type;
    }
    return E820_HOLE;
}

void e820_totals(const struct e820_map *m, struct e820_totals *t)
{
    memset(t, 0, sizeof(*t));
    for (uint32_t i = 0; i < m->nr; i++)
        if (type_known(m->entries[i].type))
            t->pages[m->entries[i].type] += e820_pages(&m->entries[i]);
}

const char *e820_type_name(uint32_t type)
{
    static const char *const names[] = {
        [E820_RAM]      = "usable",
        [E820_RESERVED] = "reserved",
        [E820_ACPI]     = "ACPI data",
        [E820_NVS]      = "ACPI NVS",
        [E820_UNUSABLE] = "unusable",
        [E820_DISABLED] = "disabled",
        [E820_PMEM]     = "persistent",
    };

    return type_known(type) ? names[type] : "unknown";
}

/* Append to a bounded buffer; *pos counts what the full text needs. */
static void put_char(char *buf, size_t len, size_t *pos, char c)
{
    if (*pos + 1 < len)
        buf[*pos] = c;
    (*pos)++;
}

static void put_str(char *buf, size_t len, size_t *pos, const char *s)
{
    while (*s)
        put_char(buf, len, pos, *s++);
}

static void put_hex16(char *buf, size_t len, size_t *pos, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";

    put_str(buf, len, pos, "0x");
    for (int shift = 60; shift >= 0; shift -= 4)
        put_char(buf, len, pos, digits[(v >> shift) & 0xf]);
}

size_t e820_format(const struct e820_entry *e, char *buf, size_t len)
{
    size_t pos = 0;

    put_str(buf, len, &pos, "[mem ");
    put_hex16(buf, len, &pos, e->addr);
    put_char(buf, len, &pos, '-');
    put_hex16(buf, len, &pos, e820_last(e));
    put_str(buf, len, &pos, "] ");
    put_str(buf, len, &pos, e820_type_name(e->type));
    if (len)
        buf[pos < len ? pos : len - 1] = '\0';
    return pos;
}
