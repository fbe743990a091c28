#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# CLI tests of alloc-trace: replays every tests/cli/alloc-trace/*.trace on
# the fast allocator and on the reference (--ref) and compares each answer
# with the "# => ANSWER" annotation on its line. Where the contract lets the
# two choose differently (which free block an allocation takes), the line
# says "# => ANSWER [ref: REF_ANSWER]". Then the parser on hostile lines, and
# the tool driven one request at a time over pipes.
# Usage: tests/cli/alloc-trace.sh path/to/alloc-trace
set -u
tool=${1:?usage: $0 path/to/alloc-trace}
dir=$(dirname "$0")/alloc-trace
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok()    { echo "ok $*"; }
notok() { echo "not ok $*"; fail=1; }

for t in "$dir"/*.trace; do
    name=$(basename "$t" .trace)
    # Expected answers: the annotation of every line that holds an operation.
    sed -n 's/^[^#]*[^#[:space:]][^#]*# => //p' "$t" > "$tmp/ann"
    nops=$(grep -c '^[[:space:]]*[^#[:space:]]' "$t")
    if [ "$nops" != "$(wc -l < "$tmp/ann")" ]; then
        notok "$name: every operation line needs a '# => ANSWER' annotation"
        continue
    fi
    sed 's/ \[ref: .*\]$//' "$tmp/ann" > "$tmp/want.fast"
    sed 's/^.* \[ref: \(.*\)\]$/\1/' "$tmp/ann" > "$tmp/want.ref"
    # Exit status: 1 exactly when a line was malformed.
    want_rc=0
    grep -q '# => error: line ' "$t" && want_rc=1
    for impl in fast ref; do
        opt=(); [ $impl = ref ] && opt=(--ref)
        "$tool" "${opt[@]}" < "$t" > "$tmp/got"
        rc=$?
        if diff -u "$tmp/want.$impl" "$tmp/got" > "$tmp/diff"; then
            ok "$name ($impl): $nops answers match"
        else
            notok "$name ($impl): answers differ"; sed 's/^/#   /' "$tmp/diff"
        fi
        [ "$rc" = "$want_rc" ] && ok "$name ($impl): exit status $rc" \
            || notok "$name ($impl): exit status $rc, want $want_rc"
    done
done

# One answer line per operation, even for a long random trace; the checker
# passes at the end on both allocators.
{
    echo "range 0x100000 0x100000"; echo "init 0x100000 0x100000"
    for i in $(seq 1 2000); do
        # Every 7th round moves to another CPU (the per-CPU caches).
        [ $((i % 7)) = 0 ] && echo "cpu $((i / 7 % 3))"
        echo "alloc $((i % 10))"; echo "free 0x$(printf %x $((0x100000 + (i * 4096) % 0x100000))) $((i % 3))"
    done
    echo check
} > "$tmp/long"
for opt in "" --ref; do
    "$tool" $opt < "$tmp/long" > "$tmp/long.out"
    n_in=$(grep -c . "$tmp/long"); n_out=$(wc -l < "$tmp/long.out")
    [ "$n_in" = "$n_out" ] && ok "long trace $opt: $n_out answers for $n_in operations" \
        || notok "long trace $opt: $n_out answers for $n_in operations"
    [ "$(tail -n1 "$tmp/long.out")" = ok ] && ok "long trace $opt: checker passes" \
        || notok "long trace $opt: checker says $(tail -n1 "$tmp/long.out")"
done

# Hostile lines: each is one malformed line, named by its own number, and
# the lines after it are answered as usual.
expect() {  # expect NAME WANT_FILE INPUT_FILE
    "$tool" < "$3" > "$tmp/out"; local rc=$?
    if cmp -s "$2" "$tmp/out" && [ $rc = 1 ]; then ok "$1"
    else notok "$1: status $rc, answers $(tr '\n' '|' < "$tmp/out")"; fi
}
{ echo "range 0x0 0x10"; printf 'alloc 0 %0100000d\n' 0; echo "state 0x1"; } > "$tmp/in"
printf '%s\n' ok "error: line 2: expected 'low' or nothing after ORDER" uninitialised > "$tmp/want"
expect "a 100000-byte line is one malformed line" "$tmp/want" "$tmp/in"

{ echo "range 0x0 0x10"; printf 'init 0x1\0 0x4\n'; echo "state 0x1"; } > "$tmp/in"
printf '%s\n' ok "error: line 2: NUL byte in line" uninitialised > "$tmp/want"
expect "a NUL byte makes its line malformed, not the next" "$tmp/want" "$tmp/in"

{ echo "range 0x0x10 0x10"; echo "range 0x10 0x"; echo "range 10 0x10"; echo "range 0xg 0x1"
  echo "range 0x10 0x10000000000000000"; echo "range -0x10 0x1"; echo "range 0x+10 0x1"
  echo "range 0x10 0x1 0x1"; echo "alloc 1000001"; echo "alloc -1"; echo "frobnicate"
  echo "range 0x00000000000000000010 0x10"; echo "state 0x1f"; } > "$tmp/in"
printf '%s\n' "error: line 1: expected START in hex (0x...)" "error: line 2: expected COUNT in hex (0x...)" \
    "error: line 3: expected START in hex (0x...)" "error: line 4: expected START in hex (0x...)" \
    "error: line 5: expected COUNT in hex (0x...)" "error: line 6: expected START in hex (0x...)" \
    "error: line 7: expected START in hex (0x...)" "error: line 8: trailing garbage" \
    "error: line 9: expected ORDER in decimal" "error: line 10: expected ORDER in decimal" \
    "error: line 11: unknown operation" ok uninitialised > "$tmp/want"
expect "numbers: one 0x prefix, hex digits only, no overflow; leading zeros are a value" \
    "$tmp/want" "$tmp/in"

# Driven over pipes: each answer arrives before the next request is sent.
for opt in "" --ref; do
    coproc AT { exec "$tool" $opt; }
    got=""
    for req in "range 0x100 0x100" "init 0x100 0x100" "alloc 3" "state 0x107" "free 0x100 3" "check"; do
        echo "$req" >&"${AT[1]}"
        if IFS= read -r -t 5 line <&"${AT[0]}"; then got+="$line|"; else got+="(no answer)|"; break; fi
    done
    exec {AT[1]}>&-
    wait "$AT_PID" 2>/dev/null
    [ "$got" = "ok|ok|0x100|inuse|ok|ok|" ] && ok "driven over pipes $opt: one answer per request" \
        || notok "driven over pipes $opt: $got"
done

# A bad option is a usage error.
"$tool" --frob < /dev/null > /dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "bad option: exit status 2" || notok "bad option: exit status $rc"

exit $fail
