/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What pvhk's peer self-tests (tests/kernel/test_peer.c) and the Linux peer
 * (tests/domu/linux_peer.c, run in the rig's dom0) agree on: where they
 * meet in xenstore, how many pages each scenario uses, and the data
 * pattern. Both sides include this file, so they cannot drift apart.
 *
 * They meet in PEER_DIR (the guest's own data directory, which its
 * toolstack made writable to it; dom0 may write anywhere). pvhk creates
 * it and writes "state"; Linux writes "lstate". Each side waits for the
 * other's next value, with a bound (PEER_WAIT_S).
 */
#ifndef PVHK_PEER_PROTO_H
#define PVHK_PEER_PROTO_H

#define PEER_DIR_FMT        "/local/domain/%u/data/pvhk-peer"
#define PEER_WAIT_S         20      /* per step, each side */

/* map: Linux grants, pvhk maps (and copies). */
#define PEER_MAP_RW         5       /* pages 0..4: mapped writable, answered */
#define PEER_MAP_COPY_DST   5       /* page 5: writable, filled by grant copy */
#define PEER_MAP_RO_FIRST   6       /* pages 6, 7: read-only grants */
#define PEER_MAP_N          8

/* grant: pvhk grants, Linux maps. */
#define PEER_GRANT_RW       4       /* pages 0..3 read-write */
#define PEER_GRANT_N        5       /* page 4 read-only */

/* fault: pages Linux grants and then abandons while pvhk maps them. */
#define PEER_FAULT_N        2

/* evtchn: notifications each way, each answered before the next. */
#define PEER_EVTCHN_ROUNDS  1000

/* Data tags: page k of a scenario holds peer_word(TAG + k, w) in word w. */
#define PEER_TAG_MAP        0x100u
#define PEER_TAG_GRANT      0x200u
#define PEER_TAG_FAULT      0x300u
/* What the other side writes back into a writable page. */
#define PEER_ANSWER(tag)    ((tag) | 0x8000u)

#define PEER_WORDS          (4096 / 8)

static inline unsigned long long peer_word(unsigned tag, unsigned w)
{
    return 0x7065657200000000ull ^ ((unsigned long long)tag << 16) ^ w;
}

#endif
