#!/usr/bin/env bash
# Behaviour of build/tools/ktap-check: exit statuses, named failures, Xen's
# prefixes, and a domU's lines with dom0 output glued in front of them.
set -u
tool=${1:-build/tools/ktap-check}
dir=$(dirname "$0")/ktap-check
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0

check() {   # NAME WANT-STATUS WANT-TEXT -- ARGS...
    local name=$1 want=$2 text=$3; shift 4
    local out rc
    out=$("$tool" "$@" 2>&1); rc=$?
    if [ "$rc" = "$want" ] && grep -qF -- "$text" <<<"$out"; then
        echo "ok $name"
    else
        echo "not ok $name (status $rc, want $want; output:)"; sed 's/^/    /' <<<"$out"
        fails=$((fails + 1))
    fi
}

check "a passing run" 0 "2 passed, 0 failed, 1 skipped in 2 suite(s)" -- "$dir/pass.log"
sed 's/    ok 1 start_info_parsed/    not ok 1 start_info_parsed/; s/^ok 2 boot/not ok 2 boot/; s/verdict: PASS/verdict: FAIL/' \
    "$dir/pass.log" > "$tmp/fail.log"
check "a failing test is named" 1 "FAILED boot.start_info_parsed" -- "$tmp/fail.log"
head -n 9 "$dir/pass.log" > "$tmp/hang.log"
check "no verdict: hung" 2 "NO VERDICT" -- "$tmp/hang.log"
{ head -n 9 "$dir/pass.log"; echo "pvhk: PANIC: out of cheese"; echo "pvhk: verdict: FAIL (out of cheese)"; } > "$tmp/panic.log"
check "a panic" 3 "CRASH: pvhk: PANIC: out of cheese" -- "$tmp/panic.log"
grep -v "    ok 1 start_info_parsed" "$dir/pass.log" > "$tmp/short.log"
check "a missing result is inconsistent" 1 "1 inconsistencies" -- "$tmp/short.log"
# A domU: CRLF, timestamps, another guest's lines, and dom0 text glued in
# front of two guest lines (one of them the failing result).
check "domU lines found behind glued dom0 output" 1 "FAILED heap.b" -- --domain 2 "$dir/domu-glued.log"
check "domU counts" 1 "1 passed, 1 failed, 0 skipped in 1 suite(s)" -- --domain 2 "$dir/domu-glued.log"
check "another guest's lines are not ours" 2 "NO VERDICT" -- --domain 3 "$dir/domu-glued.log"
check "guest lines are ignored without --domain" 2 "NO VERDICT" -- "$dir/domu-glued.log"
check "usage" 64 "usage" -- --bogus

[ $fails = 0 ] && echo "ktap-check: all passed" || echo "ktap-check: $fails failed"
[ $fails = 0 ]
