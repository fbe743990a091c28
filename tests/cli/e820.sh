#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Behaviour tests for build/tools/e820 (tools/e820.c): the real maps in
# tests/cli/e820/*.map against their .out files, warnings, malformed input
# and its exit status.  Usage: tests/cli/e820.sh PATH/TO/e820
set -uo pipefail
tool=${1:?usage: $0 path/to/e820}
data=$(dirname "$0")/e820
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

ok()     { echo "ok - e820: $1"; }
not_ok() { echo "not ok - e820: $1"; fails=$((fails + 1)); }

# run NAME INPUT [ARGS...]: stdout in $tmp/out, stderr in $tmp/err, status in $rc
run() {
    printf '%b' "$1" | "$tool" "${@:2}" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}

# expect NAME WANT_RC WANT_STDERR_TEXT (or "") INPUT [ARGS...]
expect() {
    local name=$1 want_rc=$2 text=$3
    run "${@:4}"
    if [ "$rc" != "$want_rc" ]; then
        not_ok "$name (exit $rc, want $want_rc)"; sed 's/^/    /' "$tmp/err"
    elif [ -n "$text" ] && ! grep -qF -- "$text" "$tmp/err"; then
        not_ok "$name (stderr lacks '$text')"; sed 's/^/    /' "$tmp/err"
    elif [ -z "$text" ] && [ -s "$tmp/err" ]; then
        not_ok "$name (unexpected stderr)"; sed 's/^/    /' "$tmp/err"
    else
        ok "$name"
    fi
}

# expect_out NAME EXPECTED_STDOUT: compare the last run's stdout
expect_out() {
    if diff -u <(printf '%b' "$2") "$tmp/out" >"$tmp/diff"; then
        ok "$1"
    else
        not_ok "$1"; sed 's/^/    /' "$tmp/diff"
    fi
}

[ -x "$tool" ] || { not_ok "no tool at $tool"; exit 1; }

# ---- the maps measured on real machines --------------------------------
for map in "$data"/*.map; do
    name=$(basename "$map" .map)
    "$tool" <"$map" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ "$rc" = 0 ] && [ ! -s "$tmp/err" ] && diff -u "$data/$name.out" "$tmp/out" >"$tmp/diff"; then
        ok "$name"
    else
        not_ok "$name (exit $rc)"; sed 's/^/    /' "$tmp/diff" "$tmp/err"
    fi
    # Sanitised output is valid input, and sanitising it changes nothing.
    "$tool" <"$tmp/out" >"$tmp/again" 2>"$tmp/err"; rc=$?
    if [ "$rc" = 0 ] && cmp -s "$tmp/out" "$tmp/again"; then
        ok "$name: output reads back unchanged"
    else
        not_ok "$name: output reads back unchanged"
    fi
done

# ---- good input ----------------------------------------------------------
expect "empty input" 0 "" ""
expect_out "empty input: no entries" "# 0 entries\n"

expect "comments, blank lines, tabs, upper-case hex" 0 "" \
    "# a comment\n\n   \n  # indented comment\n0X0\t0X2000\t1   # trailing\n0x2000 0x1000 0001\n"
expect_out "comments: output" \
    "0x0000000000000000 0x0000000000003000 1\n# 1 entry\n# usable (1): 3 pages, 12 KiB\n"

expect "rule 3: partial RAM page dropped, outward page kept" 0 "" \
    "0x0 0x1800 1\n0x10800 0x100 3\n"
expect_out "rule 3: output" \
    "0x0000000000000000 0x0000000000001000 1\n0x0000000000010000 0x0000000000001000 3\n# 2 entries\n# usable (1): 1 pages, 4 KiB\n# ACPI data (3): 1 pages, 4 KiB\n"

expect "unknown types warn, taken as reserved" 0 "3 entries of unknown type, taken as reserved (2): 9, 0" \
    "0x0 0x1000 9\n0x1000 0x1000 0\n0x2000 0x1000 9\n"
expect_out "unknown types: output" \
    "0x0000000000000000 0x0000000000003000 2\n# 1 entry\n# reserved (2): 3 pages, 12 KiB\n"

expect "clipped at 2^64 warns" 0 "1 entry runs past 2^64, clipped there" \
    "0xfffffffffffff000 0x2000 1\n"
expect_out "clipped: entry ends at 2^64" \
    "0xfffffffffffff000 0x0000000000001000 1\n# 1 entry\n# usable (1): 1 pages, 4 KiB\n"

expect "zero-sized entry warns" 0 "1 zero-sized entry ignored" "0x0 0x0 1\n"

expect "the whole address space" 0 "" "0x0 0x10000000000000000 2\n"
expect_out "whole space: SIZE 2^64" \
    "0x0000000000000000 0x10000000000000000 2\n# 1 entry\n# reserved (2): 4503599627370496 pages, 18014398509481984 KiB\n"

expect "-l prints Linux-style lines" 0 "" "0x100000 0x1fee0000 1\n0x9fc00 0x400 2\n" -l
expect_out "-l: output" \
    "[mem 0x000000000009f000-0x000000000009ffff] reserved\n[mem 0x0000000000100000-0x000000001ffdffff] usable\n# 2 entries\n# usable (1): 130784 pages, 523136 KiB\n# reserved (2): 1 pages, 4 KiB\n"

# ---- malformed input: the line is named, exit 1 ---------------------------
expect "missing TYPE"          1 "line 2: missing fields" "0x0 0x1000 1\n0x1000 0x1000\n"
expect "START without 0x"      1 "line 1: START is not a hex number" "1000 0x1000 1\n"
expect "SIZE not hex"          1 "line 1: SIZE is not a hex number" "0x0 0x10g0 1\n"
expect "SIZE bare 0x"          1 "line 1: SIZE is not a hex number" "0x0 0x 1\n"
expect "SIZE over 2^64"        1 "line 1: SIZE is not a hex number with 0x up to 2^64" "0x0 0x10000000000000001 1\n"
expect "START at 2^64"         1 "line 1: START is not a hex number with 0x below 2^64" "0x10000000000000000 0x1 1\n"
expect "TYPE in hex"           1 "line 3: TYPE is not a decimal number" "\n# x\n0x0 0x1000 0x1\n"
expect "TYPE over 2^32"        1 "line 1: TYPE is not a decimal number below 2^32" "0x0 0x1000 4294967296\n"
expect "negative TYPE"         1 "line 1: TYPE is not a decimal number" "0x0 0x1000 -1\n"
expect "text after TYPE"       1 "line 1: unexpected text after TYPE: 'ram'" "0x0 0x1000 1 ram\n"
if [ ! -s "$tmp/out" ]; then ok "malformed input prints no map"; else not_ok "malformed input prints no map"; fi

# ---- hostile bytes: every line gets its verdict ---------------------------
expect "a NUL in a line is bad input" 1 "line 1: contains a NUL byte" "0x0 0x1000 1\0garbage\n"
expect "a NUL in an otherwise good line" 1 "line 1: contains a NUL byte" "0x0 0x1000 1\0\n"
expect "a NUL in a comment is bad input too" 1 "line 2: contains a NUL byte" "0x0 0x1000 1\n# note\0x\n"
if [ ! -s "$tmp/out" ]; then ok "a NUL: no map printed"; else not_ok "a NUL: no map printed"; fi
# A NUL neither swallows the rest of its line's neighbours nor shifts
# their numbers: each bad line is named, by its own number.
run "0x0 0x1000 1\0garbage\n0x1000 0x1000 x\n0x2000 0x1000 1\n\0\n0x3000 0x1000\n"
if [ "$rc" = 1 ] && grep -qF "line 1: contains a NUL byte" "$tmp/err" &&
   grep -qF "line 2: TYPE is not a decimal number" "$tmp/err" &&
   grep -qF "line 4: contains a NUL byte" "$tmp/err" &&
   grep -qF "line 5: missing fields" "$tmp/err" &&
   ! grep -q "line 3" "$tmp/err" && grep -qF "4 malformed lines" "$tmp/err" && [ ! -s "$tmp/out" ]; then
    ok "every bad line is named by its own number"
else
    not_ok "every bad line is named by its own number (exit $rc)"; sed 's/^/    /' "$tmp/err"
fi
expect "two malformed lines: both named" 1 "line 3: START is not a hex number" \
    "0x0 0x1000 1 x\n0x1000 0x1000 1\n1000 0x1000 1\n"
grep -qF "line 1: unexpected text after TYPE" "$tmp/err" && ok "two malformed lines: the first named too" ||
    not_ok "two malformed lines: the first named too"
# Output is written line by line and checked as it goes: a full disk is
# noticed (with buffered output it would only fail after the status was
# decided, at exit).
if [ -w /dev/full ]; then
    printf '0x0 0x1000 1\n' | "$tool" >/dev/full 2>"$tmp/err"; rc=$?
    if [ "$rc" = 1 ] && grep -qF "e820: writing the output" "$tmp/err"; then
        ok "a write error on stdout is an error"
    else
        not_ok "a write error on stdout is an error (exit $rc)"; sed 's/^/    /' "$tmp/err"
    fi
fi
# Driven as a co-process: the whole answer arrives through a pipe the
# driver reads line by line.
mkfifo "$tmp/to" "$tmp/from"
"$tool" <"$tmp/to" >"$tmp/from" 2>&1 &
pid=$!
exec {w}>"$tmp/to" {r}<"$tmp/from"
printf '0x0 0x1000 1\n0x1000 0x1000 2\n' >&$w
exec {w}>&-
got=""
while IFS= read -r -t 10 l <&$r; do got+="$l|"; done
exec {r}<&-
wait "$pid"
want="0x0000000000000000 0x0000000000001000 1|0x0000000000001000 0x0000000000001000 2|# 2 entries|"
want+="# usable (1): 1 pages, 4 KiB|# reserved (2): 1 pages, 4 KiB|"
[ "$got" = "$want" ] && ok "co-process: every line arrives" || not_ok "co-process: got '$got'"

# ---- limits -----------------------------------------------------------------
for i in $(seq 0 1024); do printf '0x%x 0x1000 1\n' $((i * 4096)); done >"$tmp/many"
"$tool" <"$tmp/many" >/dev/null 2>"$tmp/err"; rc=$?
if [ "$rc" = 1 ] && grep -qF "1025 entries, at most 1024 are accepted" "$tmp/err"; then
    ok "1025 entries rejected, count named"
else
    not_ok "1025 entries rejected, count named (exit $rc)"; sed 's/^/    /' "$tmp/err"
fi
head -n 1024 "$tmp/many" | "$tool" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ "$rc" = 0 ] && head -1 "$tmp/out" | grep -qx "0x0000000000000000 0x0000000000400000 1"; then
    ok "1024 entries accepted"
else
    not_ok "1024 entries accepted (exit $rc)"
fi

for i in $(seq 0 199); do printf '0x%x 0x1000 %d\n' $((i * 4096)) $((1 + i % 2)); done >"$tmp/full"
"$tool" <"$tmp/full" >"$tmp/out" 2>"$tmp/err"; rc=$?
if [ "$rc" = 1 ] && grep -qF "needs 200 entries, more than its capacity of 128" "$tmp/err" && [ ! -s "$tmp/out" ]; then
    ok "output capacity exceeded, count named"
else
    not_ok "output capacity exceeded, count named (exit $rc)"; sed 's/^/    /' "$tmp/err"
fi

# ---- usage -------------------------------------------------------------------
expect "unknown option" 2 "usage:" "" -x

if [ "$fails" = 0 ]; then
    echo "e820: all passed"
    exit 0
fi
echo "e820: $fails failed"
exit 1
