#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `make bench`: print figures. Nothing here passes or fails on a number.
set -uo pipefail
cd "$(dirname "$0")/.."

echo "== image size (build/pvhk.elf)"
size -A build/pvhk.elf | awk '$1 ~ /^\.(text|rodata|data|bss)$/ {printf "  %-8s %8d bytes\n", $1, $2}'
size build/pvhk.elf | sed 's/^/  /'

echo "== boot: PVH entry to first self-test (TSC)"
for mode in bare dom0; do
    log=build/logs/bench-$mode.log
    QUIET=1 LOG=$log CMDLINE="selftest=none" scripts/run.sh "$mode" >/dev/null 2>&1
    line=$(grep -a "entry to first self-test" "$log" | head -n1 | sed 's/.*self-test //')
    printf "  %-5s %s\n" "$mode" "${line:-(no figure: see $log)}"
done

# In-guest benchmarks print lines starting with "bench:" when selftest=bench runs.
if grep -rq 'KTEST(bench' tests/kernel 2>/dev/null; then
    echo "== in-guest benchmarks (dom0, -m 1024, dom0_mem=256M,max:512M)"
    log=build/logs/bench-guest.log
    QUIET=1 LOG=$log QEMU_MEM=1G XEN_ARGS="dom0_mem=256M,max:512M" CMDLINE="selftest=bench" \
        TIMEOUT=300 scripts/run.sh dom0 >/dev/null 2>&1
    grep -a "# bench" "$log" | sed 's/.*# bench/  bench/' || echo "  (no figures: see $log)"
fi

# SMP figures (docs/smp.md): each with its ratio to an IPI to self measured
# in the same run (the smp suite's opt-in test smp.bench_figures).
echo "== SMP: AP bring-up, IPI round trip, cross-call to all (4 CPUs)"
for mode in bare dom0; do
    log=build/logs/bench-smp-$mode.log
    QUIET=1 LOG=$log QEMU_SMP=4 CMDLINE="selftest=smp smp.bench=1" TIMEOUT=300 \
        scripts/run.sh "$mode" >/dev/null 2>&1
    echo "  $mode:"
    grep -a "# bench smp" "$log" | sed 's/.*# bench smp /    /' || echo "    (no figures: see $log)"
done

# The page heap on every vCPU at once (docs/bench.md, "Several CPUs"): the
# heap suite's opt-in test heap.bench, pair and S2 through alloc_pages()/
# free_pages() on 1, 2 and 4 vCPUs (4 vCPUs share this machine's 2 cores).
echo "== heap on every vCPU at once (dom0, dom0_mem=512M): frames and operations per second"
for n in 1 2 4; do
    log=build/logs/bench-heap-$n.log
    QUIET=1 LOG=$log QEMU_SMP=$n QEMU_MEM=1G XEN_ARGS="dom0_mem=512M" \
        CMDLINE="selftest=heap heap.bench=1" TIMEOUT=300 scripts/run.sh dom0 >/dev/null 2>&1
    grep -a "bench heap " "$log" | sed 's/.*bench heap /  /' || echo "  (no figures: see $log)"
done

for b in scripts/bench-*.sh; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b" .sh)"
    "$b"
done
