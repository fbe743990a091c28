#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
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
# The run broke: a panic or an exception inside a test, and the ERROR
# verdict naming that test (what pvhk prints), or an ERROR alone.
{ head -n 9 "$dir/pass.log"; echo "pvhk: PANIC: out of cheese"
  echo "pvhk: verdict: ERROR (aborted in boot.start_info_parsed: out of cheese)"; } > "$tmp/panic.log"
check "a panic" 3 "CRASH: pvhk: PANIC: out of cheese" -- "$tmp/panic.log"
check "a panic: the ERROR verdict is named" 3 \
    "ERROR: the run broke: pvhk: verdict: ERROR (aborted in boot.start_info_parsed: out of cheese)" -- "$tmp/panic.log"
{ head -n 9 "$dir/pass.log"; echo "pvhk: EXCEPTION vector 14 (#PF page fault) error_code 0x2"
  echo "pvhk: verdict: ERROR (aborted in boot.start_info_parsed: unexpected exception)"; } > "$tmp/exc.log"
check "an exception" 3 "CRASH: pvhk: EXCEPTION vector 14" -- "$tmp/exc.log"
{ head -n 9 "$dir/pass.log"; echo "pvhk: verdict: ERROR (out of cheese)"; } > "$tmp/error.log"
check "an ERROR verdict alone is a broken run" 3 "ERROR: the run broke: pvhk: verdict: ERROR (out of cheese)" -- "$tmp/error.log"
# The ERROR verdict comes before the rest of the plan: no complaint about
# the suites that never ran.
if "$tool" "$tmp/error.log" | grep -q "planned suites"; then
    echo "not ok an ERROR verdict: unfinished suites are not inconsistencies"; fails=$((fails + 1))
else
    echo "ok an ERROR verdict: unfinished suites are not inconsistencies"
fi
# A crash report whatever the verdict says (an older kernel's FAIL).
{ head -n 9 "$dir/pass.log"; echo "pvhk: PANIC: out of cheese"; echo "pvhk: verdict: FAIL (out of cheese)"; } > "$tmp/panic-fail.log"
check "a panic with a FAIL verdict is still a crash" 3 "the verdict after a crash is not ERROR" -- "$tmp/panic-fail.log"
# ERROR is a word of its own: "ERRORS" is no verdict ktap-check knows, so
# the run failed (1), not broke.
sed 's/verdict: PASS (2 passed, 0 failed, 1 skipped)/verdict: ERRORS (x)/' "$dir/pass.log" > "$tmp/errors.log"
check "an unknown verdict word fails" 1 "FAIL verdict: pvhk: verdict: ERRORS (x)" -- "$tmp/errors.log"
grep -v "    ok 1 start_info_parsed" "$dir/pass.log" > "$tmp/short.log"
check "a missing result is inconsistent" 1 "1 inconsistencies" -- "$tmp/short.log"
# A domU: CRLF, timestamps, another guest's lines, and dom0 text glued in
# front of two guest lines (one of them the failing result).
check "domU lines found behind glued dom0 output" 1 "FAILED heap.b" -- --domain 2 "$dir/domu-glued.log"
check "domU counts" 1 "1 passed, 1 failed, 0 skipped in 1 suite(s)" -- --domain 2 "$dir/domu-glued.log"
check "another guest's lines are not ours" 2 "NO VERDICT" -- --domain 3 "$dir/domu-glued.log"
check "guest lines are ignored without --domain" 2 "NO VERDICT" -- "$dir/domu-glued.log"
# A verdict alone proves nothing: it needs the KTAP it sums up.
echo "pvhk: verdict: PASS (60 passed, 0 failed, 0 skipped)" > "$tmp/bare-verdict.log"
check "a verdict without KTAP fails" 1 "verdict without KTAP output" -- "$tmp/bare-verdict.log"
sed 's/verdict: PASS (2 passed/verdict: PASS (3 passed/' "$dir/pass.log" > "$tmp/miscount.log"
check "a verdict whose counts disagree with the KTAP fails" 1 \
    "the verdict says 3 passed, 0 failed, 1 skipped; the KTAP has 2 passed, 0 failed, 1 skipped" \
    -- "$tmp/miscount.log"
sed 's/verdict: PASS (2 passed, 0 failed, 1 skipped)/verdict: PASS/' "$dir/pass.log" > "$tmp/nocount.log"
check "a PASS verdict without counts fails" 1 "the verdict carries no counts" -- "$tmp/nocount.log"
# One run, one verdict: a second one (here a PASS after a FAIL) is not
# believed.
{ cat "$tmp/fail.log"; echo "pvhk: verdict: PASS (2 passed, 0 failed, 1 skipped)"; } > "$tmp/two.log"
check "two verdicts fail the run" 1 "2 verdict lines" -- "$tmp/two.log"
{ cat "$dir/pass.log"; echo "pvhk: verdict: PASS (2 passed, 0 failed, 1 skipped)"; } > "$tmp/two-pass.log"
check "two PASS verdicts fail the run" 1 "2 verdict lines" -- "$tmp/two-pass.log"
# The verdict ends the report: results after it, or a second KTAP
# document, are not one run's output.
{ cat "$dir/pass.log"; echo "    ok 2 late_result"; } > "$tmp/late.log"
check "KTAP output after the verdict fails" 1 "KTAP output after the verdict" -- "$tmp/late.log"
{ sed -n 3,4p "$dir/pass.log"; cat "$dir/pass.log"; } > "$tmp/twodocs.log"
check "two KTAP documents fail" 1 "2 KTAP documents" -- "$tmp/twodocs.log"
# Only a whole line is a verdict, however long the junk in front of it.
for junk in 4095 4096 100000; do
    { grep -v "verdict" "$dir/pass.log"
      head -c "$junk" /dev/zero | tr '\0' x; echo "pvhk: verdict: PASS (2 passed, 0 failed, 1 skipped)"; } \
        > "$tmp/junk.log"
    check "a verdict behind $junk bytes of junk is not a verdict" 2 "NO VERDICT" -- "$tmp/junk.log"
done
{ grep -v "verdict" "$dir/pass.log"; printf 'x\0pvhk: verdict: PASS (2 passed, 0 failed, 1 skipped)\n'; } > "$tmp/nul.log"
check "a verdict behind a NUL byte is not a verdict" 2 "NO VERDICT" -- "$tmp/nul.log"
# Long lines around the KTAP do not disturb it.
{ head -c 10000 /dev/zero | tr '\0' y; echo; cat "$dir/pass.log"; } > "$tmp/long-ok.log"
check "a long junk line before a passing run" 0 "2 passed, 0 failed, 1 skipped in 2 suite(s)" -- "$tmp/long-ok.log"
# selftest=none: an empty plan and a verdict of zeros is a pass.
printf 'KTAP version 1\n1..0\npvhk: verdict: PASS (0 passed, 0 failed, 0 skipped)\n' > "$tmp/none.log"
check "an empty plan with a zero verdict passes" 0 "0 passed, 0 failed, 0 skipped in 0 suite(s)" -- "$tmp/none.log"
check "usage" 64 "usage" -- --bogus
check "--domain needs a number" 64 "usage" -- --domain x "$dir/pass.log"

[ $fails = 0 ] && echo "ktap-check: all passed" || echo "ktap-check: $fails failed"
[ $fails = 0 ]
