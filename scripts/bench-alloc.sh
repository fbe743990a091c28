#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Page allocator benchmark (docs/bench.md): builds bench/alloc_bench, runs it
# natively (ns/op) and under callgrind (allocator instructions per call), and
# prints one table. Called by `make bench`; B= selects the build directory
# (default build), IMPL= the implementation (default pa; `alloc_bench -l`
# lists those built in), SCENARIOS= the scenarios counted under callgrind
# (default "s1cold s1hot s2 s3"), INIT=0 leaves out the init figures.
#
# Instruction counts: what a call costs is the inclusive cost of its call
# arc in callgrind's output: every instruction executed from the call to the
# return, callees (and memset) included, the caller's loop and clock reads
# excluded, and the number of calls with it. The arcs are read from the raw
# output file (--compress-strings=no), keyed by function *name* and counted
# only where the caller is the bench itself (file alloc_bench.c), so a
# public function calling another is not counted twice.
#
# Why not callgrind_annotate's per-function lines: it keys costs by
# file:function, and the file is the debug-info file of each instruction.
# Code inlined into pa_free from include/pvhk/page_alloc.h is listed as a
# second "include/pvhk/page_alloc.h:pa_free" entry, and the call arcs as a
# third entry spelled with the absolute path; taking one entry misses the
# others (pa_free was reported 3 instructions low: 61 instead of 64 per
# s1hot free). The arc cost is the same figure callgrind_annotate shows next
# to "=> ...:pa_free (Nx)" in the caller's annotated source, whatever the
# path spelling. Checked by hand on scenario `once` (one pair on the s1hot
# state) with --dump-instr=yes: the instructions listed for pa_alloc and for
# pa_free, summed over both source files, equal its arcs' costs (docs/bench.md).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
IMPL=${IMPL:-pa}
SCENARIOS=${SCENARIOS:-s1cold s1hot s2 s3}
INIT=${INIT:-1}
scripts/deps.sh bench
make -s B="$B" "$B/bench/alloc_bench"
bin=$B/bench/alloc_bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

read -r _ fn_alloc fn_free fn_init < <("$bin" -l | awk -v i="$IMPL" '$1 == i') || {
    echo "bench-alloc: no implementation '$IMPL' in $bin" >&2; exit 2; }

echo "== native run ($IMPL; ns; noisy on a shared machine) =="
if [ "$INIT" = 1 ]; then
    "$bin" -i "$IMPL" all | tee "$tmp/native"
else
    for s in $SCENARIOS; do "$bin" -i "$IMPL" "$s"; done | tee "$tmp/native"
fi

cg() {       # cg SCENARIO: run it under callgrind into $tmp/SCENARIO.cg
    valgrind --tool=callgrind --collect-atstart=no --instr-atstart=no --compress-strings=no \
        --compress-pos=no --callgrind-out-file="$tmp/$1.cg" "$bin" -i "$IMPL" "$1" \
        2>"$tmp/$1.err" || {
        echo "bench-alloc: callgrind failed on $1:" >&2; tail -n 5 "$tmp/$1.err" >&2; exit 1; }
}
arcs() {     # arcs FILE NAME[,NAME..] [bench|other] -> "calls Ir" of the calls to NAME..
    # from the bench's own code (default) or from anywhere else (other)
    awk -v names="$2" -v from="${3:-bench}" '
        BEGIN { n = split(names, a, ","); for (i = 1; i <= n; i++) want[a[i]] = 1 }
        /^fl=/  { inbench = ($0 ~ /(^fl=|\/)alloc_bench\.c$/) }
        /^cfn=/ { callee = substr($0, 5); next }
        /^calls=/ { split(substr($0, 7), c, " "); pending = c[1]; next }
        pending != "" {
            if (callee in want && (from == "bench") == inbench) { calls += pending; ir += $NF }
            pending = ""
        }
        END { printf "%d %d\n", calls, ir }' "$1"
}
field() {    # field SCENARIO-LINE WORD -> the number after WORD
    awk -v w="$2" '{ for (i = 1; i < NF; i++) if ($i == w) { print $(i + 1); exit } }' <<<"$1"
}
# glibc's memset under the names valgrind reports for it (an ifunc).
memsets=memset,__memset_avx2_unaligned_erms,__memset_avx2_unaligned,__memset_evex_unaligned_erms,__memset_avx512_unaligned_erms,__memset_sse2_unaligned_erms,__memset_sse2_unaligned,__memset_erms
per() { awk -v i="$1" -v n="$2" 'BEGIN { printf "%.1f", n ? i / n : 0 }'; }

# The hot pair's target: 120 for the single-CPU allocator; the per-CPU
# fast path (pac) may cost no more than the single-CPU pair's 101; the
# locked path (lk) has none.
case $IMPL in
    pac) pair_max=101 ;;
    lk)  pair_max="(none)" ;;
    *)   pair_max=120 ;;
esac
echo
echo "== callgrind: $IMPL instructions per call (inclusive; validation always on) =="
printf '%-8s %12s %12s   %s\n' scenario "Ir/alloc" "Ir/free" "target"
for s in $SCENARIOS; do
    out=$(cg "$s" | grep "^$s ")
    na=$(field "$out" allocs); nf=$(field "$out" frees)
    read -r ca ia < <(arcs "$tmp/$s.cg" "$fn_alloc")
    read -r cf if_ < <(arcs "$tmp/$s.cg" "$fn_free")
    # The arcs carry their own call counts: they must be the calls the bench made.
    if [ "$ca" != "$na" ] || [ "$cf" != "$nf" ]; then
        echo "bench-alloc: $s: callgrind saw $ca/$cf calls, the bench made $na/$nf" >&2
        exit 1
    fi
    pa=$(per "$ia" "$na"); pf=$(per "$if_" "$nf")
    case $s in
        s1hot) tgt="pair $(awk -v a="$pa" -v f="$pf" 'BEGIN { printf "%.1f", a + f }') <= $pair_max" ;;
        s2)    tgt="<= 80 / <= 90" ;;
        s3)    tgt="<= 1.5 x S1/S2" ;;
        *)     tgt="-" ;;
    esac
    printf '%-8s %12s %12s   %s\n' "$s" "$pa" "$pf" "$tgt"
done

[ "$INIT" = 1 ] || exit 0
echo
echo "== callgrind: init (${fn_init//,/ + }; the clock reads are not counted) =="
for s in init4g init64g lazy4g lazy64g; do
    out=$(cg "$s" | grep "^$s ")
    read -r _ ir < <(arcs "$tmp/$s.cg" "$fn_init")
    # memset's inclusive cost within the init calls (the only collected code):
    # any caller but the bench's own code.
    read -r nm irm < <(arcs "$tmp/$s.cg" "$memsets" other)
    case $s in
        init*) printf '%-8s %10s Ir   table handed over zeroed (ZEROED): its zeroes come from whoever provides the memory; the allocator writes none\n' "$s" "$ir" ;;
        lazy*) printf '%-8s %10s Ir   table of garbage, flags 0, as mm/heap.c hands it over: %s Ir of allocator code, and %s memset calls zeroing the chunks init touches (%s written: %s Ir as callgrind counts glibc memset'"'"'s rep stosb, one per byte; the kernel zeroes with rep stosq)\n' \
                   "$s" "$ir" "$((ir - irm))" "$nm" "$(sed 's/.*written //' <<<"$out")" "$irm" ;;
    esac
done
echo "  (target: 64 GiB init < 50 us)"
grep '^bytes' "$tmp/native" || true
