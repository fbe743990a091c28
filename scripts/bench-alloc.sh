#!/usr/bin/env bash
# Page allocator benchmark (issue 5 scenarios): builds bench/alloc_bench,
# runs it natively (ns/op) and under callgrind (allocator instructions per
# call), and prints one table. Called by `make bench`; B= selects the build
# directory (default build).
#
# Instruction counts: callgrind runs with --collect-atstart=no and the bench
# toggles collection around the measured region only; the per-call figure is
# the inclusive cost of pa_alloc / pa_free (everything they execute, nothing
# of the driving loop) divided by the calls the bench reports. For init the
# figure is the whole region (setup + add_range + init_range).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
scripts/deps.sh bench
make -s B="$B" "$B/bench/alloc_bench"
bin=$B/bench/alloc_bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== native run (ns; noisy on a shared machine) =="
"$bin" all | tee "$tmp/native"

ir_of() {    # ir_of FILE FUNCTION -> inclusive Ir of FUNCTION
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        awk -v f="$2" '!d && $0 ~ (":" f " \\[") { gsub(",", "", $1); print $1; d = 1 }'
}
total_of() { # total Ir collected
    callgrind_annotate "$1" 2>/dev/null | awk '!d && /PROGRAM TOTALS/ { gsub(",", "", $1); print $1; d = 1 }'
}
field() {    # field SCENARIO-LINE WORD -> the number after WORD
    awk -v w="$2" '{ for (i = 1; i < NF; i++) if ($i == w) { print $(i + 1); exit } }' <<<"$1"
}

echo
echo "== callgrind: allocator instructions per call (validation always on) =="
printf '%-8s %12s %12s   %s\n' scenario "Ir/alloc" "Ir/free" "target"
declare -A res
for s in s1cold s1hot s2 s3; do
    out=$(valgrind --tool=callgrind --collect-atstart=no --instr-atstart=no \
          --callgrind-out-file="$tmp/$s.cg" "$bin" "$s" 2>/dev/null | grep "^$s ")
    na=$(field "$out" allocs); nf=$(field "$out" frees)
    ia=$(ir_of "$tmp/$s.cg" pa_alloc); if_=$(ir_of "$tmp/$s.cg" pa_free)
    pa=$(awk -v i="${ia:-0}" -v n="$na" 'BEGIN { printf "%.1f", i / n }')
    pf=$(awk -v i="${if_:-0}" -v n="$nf" 'BEGIN { printf "%.1f", i / n }')
    res[$s.a]=$pa; res[$s.f]=$pf
    case $s in
        s1hot) tgt="pair $(awk -v a="$pa" -v f="$pf" 'BEGIN { printf "%.1f", a + f }') <= 120" ;;
        s2)    tgt="<= 80 / <= 90" ;;
        s3)    tgt="<= 1.5 x S1/S2" ;;
        *)     tgt="-" ;;
    esac
    printf '%-8s %12s %12s   %s\n' "$s" "$pa" "$pf" "$tgt"
done
for s in init4g init64g; do
    valgrind --tool=callgrind --collect-atstart=no --instr-atstart=no \
        --callgrind-out-file="$tmp/$s.cg" "$bin" "$s" >/dev/null 2>&1
    printf '%-8s %12s Ir total for the whole init (target 64 GiB < 50 us)\n' "$s" "$(total_of "$tmp/$s.cg")"
done
grep '^bytes' "$tmp/native"
