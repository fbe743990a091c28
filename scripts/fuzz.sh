#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Run every libFuzzer target: `short` (make test: FUZZ_SECONDS each, default
# 60 split across targets) or `long` (make fuzz: FUZZ_SECONDS each, default 600).
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:-short}
targets=(tests/fuzz/*.c)
[ -e "${targets[0]}" ] || { echo "fuzz: no targets"; exit 0; }
scripts/deps.sh fuzz || exit 1
if [ "$mode" = long ]; then secs=${FUZZ_SECONDS:-600}; else secs=${FUZZ_SECONDS:-$(( 60 / ${#targets[@]} ))}; fi
rc=0
for src in "${targets[@]}"; do
    name=$(basename "$src" .c)
    make -s build/fuzz/$name || { rc=1; continue; }
    corpus=build/fuzz/corpus-$name; mkdir -p "$corpus"
    seeds=tests/fuzz/seeds-$name
    echo "fuzz: $name for ${secs}s"
    if build/fuzz/$name -max_total_time="$secs" -print_final_stats=1 "$corpus" \
        $( [ -d "$seeds" ] && echo "$seeds" ) > build/fuzz/$name.log 2>&1; then
        grep -E "stat::number_of_executed_units|stat::average_exec_per_sec" build/fuzz/$name.log | sed 's/^/    /'
    else
        echo "fuzz: $name FOUND A FAILURE (log build/fuzz/$name.log):"; tail -40 build/fuzz/$name.log; rc=1
    fi
done
exit $rc
