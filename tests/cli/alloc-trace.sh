#!/usr/bin/env bash
# CLI tests of alloc-trace: replays every tests/cli/alloc-trace/*.trace and
# compares each answer with the "# => ANSWER" annotation on its line.
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
    sed -n 's/^[^#]*[^#[:space:]][^#]*# => //p' "$t" > "$tmp/want"
    nops=$(grep -c '^[[:space:]]*[^#[:space:]]' "$t")
    if [ "$nops" != "$(wc -l < "$tmp/want")" ]; then
        notok "$name: every operation line needs a '# => ANSWER' annotation"
        continue
    fi
    "$tool" < "$t" > "$tmp/got"
    rc=$?
    if diff -u "$tmp/want" "$tmp/got" > "$tmp/diff"; then
        ok "$name: $nops answers match"
    else
        notok "$name: answers differ"; sed 's/^/#   /' "$tmp/diff"
    fi
    # Exit status: 1 exactly when a line was malformed.
    want_rc=0
    grep -q '# => error: line ' "$t" && want_rc=1
    [ "$rc" = "$want_rc" ] && ok "$name: exit status $rc" || notok "$name: exit status $rc, want $want_rc"
done

# One answer line per operation, even for a long random trace.
{
    echo "range 0x100000 0x100000"; echo "init 0x100000 0x100000"
    for i in $(seq 1 2000); do
        echo "alloc $((i % 10))"; echo "free 0x$(printf %x $((0x100000 + (i * 4096) % 0x100000))) $((i % 3))"
    done
    echo check
} > "$tmp/long"
"$tool" < "$tmp/long" > "$tmp/long.out"
n_in=$(grep -c . "$tmp/long"); n_out=$(wc -l < "$tmp/long.out")
[ "$n_in" = "$n_out" ] && ok "long trace: $n_out answers for $n_in operations" \
    || notok "long trace: $n_out answers for $n_in operations"
[ "$(tail -n1 "$tmp/long.out")" = ok ] && ok "long trace: checker passes" \
    || notok "long trace: checker says $(tail -n1 "$tmp/long.out")"

# A line too long for the parser is one malformed line, not several.
{ echo "range 0x0 0x10"; printf 'alloc 0 %0600d\n' 0; echo "state 0x1"; } > "$tmp/longline"
printf 'ok\nerror: line 2: line too long\nuninitialised\n' > "$tmp/longline.want"
"$tool" < "$tmp/longline" > "$tmp/longline.out"
diff -q "$tmp/longline.want" "$tmp/longline.out" >/dev/null && ok "overlong line" \
    || notok "overlong line: $(tr '\n' '|' < "$tmp/longline.out")"

exit $fail
