#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The page allocator on several CPUs (docs/bench.md, "Several CPUs"):
# hosted throughput with 1 and 2 threads, per-CPU path against one global
# lock (bench/smp_bench.c), then callgrind instructions per call on the
# per-CPU path (bench/alloc_bench.c's s1hot and s2 through pa_alloc_on/
# pa_free_on, and through pas_alloc/pas_free with their locks) next to the
# single-CPU pa_alloc/pa_free. Called by `make bench`; prints, asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
make -s B="$B" "$B/bench/smp_bench" "$B/bench/alloc_bench"

echo "== hosted throughput, operations per second (best of 3; 2 cores shared: noisy) =="
"$B/bench/smp_bench"

echo
echo "== callgrind: instructions per call, one CPU (s1hot: the hot pair; s2: orders 0..9) =="
for impl in pa pac lk; do
    case $impl in
        pa)  what="pa_alloc/pa_free (no cache, no lock)" ;;
        pac) what="pa_alloc_on/pa_free_on on CPU 0 (its cache, no lock)" ;;
        lk)  what="pas_alloc/pas_free on CPU 0 (its cache and its lock; the heap lock on a refill)" ;;
    esac
    echo "-- $what"
    IMPL=$impl SCENARIOS="s1hot s2" INIT=0 B="$B" scripts/bench-alloc.sh | sed -n '/^scenario/,$p'
done
