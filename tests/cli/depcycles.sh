#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Behaviour tests for build/tools/depcycles (tools/depcycles.c): graphs
# given as nm -A -P -g output, with and without cycles, and bad input.
# Usage: tests/cli/depcycles.sh PATH/TO/depcycles
set -uo pipefail
tool=${1:?usage: $0 path/to/depcycles}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

ok()     { echo "ok - depcycles: $1"; }
not_ok() { echo "not ok - depcycles: $1"; fails=$((fails + 1)); }

# expect NAME WANT_RC WANT_TEXT INPUT [ARGS...]: WANT_TEXT must appear in
# stdout+stderr (a literal, possibly several lines joined by \n).
expect() {
    local name=$1 want_rc=$2 text=$3 input=$4; shift 4
    printf '%b' "$input" | "$tool" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    cat "$tmp/out" "$tmp/err" > "$tmp/all"
    if [ "$rc" != "$want_rc" ]; then
        not_ok "$name (exit $rc, want $want_rc)"; sed 's/^/    /' "$tmp/all"
    elif [[ "$(cat "$tmp/all")" != *"$(printf '%b' "$text")"* ]]; then
        not_ok "$name (output lacks '$text')"; sed 's/^/    /' "$tmp/all"
    else
        ok "$name"
    fi
}

[ -x "$tool" ] || { not_ok "no tool at $tool"; exit 1; }

# a.o -> b.o -> c.o, d.o -> a.o: a chain, no cycle.
chain='a.o: f T 0 10\na.o: g U\nb.o: g T 0 8\nb.o: h U         \nc.o: h D 0 4\nd.o: f U\n'
expect "a chain has no cycle" 0 "no cycle among 4 objects (3 dependencies)" "$chain"
# Referencing a symbol one defines itself is no dependency.
expect "a self-reference is no cycle" 0 "no cycle among 1 objects (0 dependencies)" \
    'a.o: f T 0 10\na.o: f U\n'
# Close the chain: c.o references a.o's f.
expect "a three-object cycle is found with its symbols" 1 \
    "depcycles: cycle 1: 3 objects\n  a.o -> b.o -> c.o -> a.o\n  a.o -> b.o: g\n  b.o -> c.o: h\n  c.o -> a.o: f\n" \
    "${chain}c.o: f U\n"
expect "the summary counts cycles" 1 "depcycles: 1 cycle(s) among 4 objects" "${chain}c.o: f U\n"
# Two separate cycles, one of them closed by a weak undefined reference;
# several symbols on one edge; the input order does not matter.
two='y.o: q U\nx.o: p T 0 1\ny.o: r T 0 1\nx.o: q2 U\nx.o: q T 0 1\nx.o: r U\ny.o: q2 B 0 1\ny.o: p w\nm.o: s T 0 1\nn.o: s U\nn.o: t T 0 1\nm.o: t U\n'
expect "two cycles, sorted by object" 1 \
    "depcycles: cycle 1: 2 objects\n  m.o -> n.o -> m.o\n  m.o -> n.o: t\n  n.o -> m.o: s\ndepcycles: cycle 2: 2 objects\n  x.o -> y.o -> x.o\n  x.o -> y.o: q2 r\n  y.o -> x.o: p q\n" \
    "$two"
# Weak definitions (W, V) define; a weak reference (w) alone refers.
expect "a weak definition closes a cycle" 1 "  b.o -> a.o: f" \
    'a.o: f W 0 1\na.o: g U\nb.o: g T 0 1\nb.o: f U\n'
# Undefined symbols nobody defines (linker script symbols) are no edge.
expect "an undefined symbol nobody defines is no edge" 0 "no cycle among 2 objects (1 dependencies)" \
    'a.o: __start U\nb.o: __start U\nb.o: f T 0 1\na.o: f U\n'
# The shortest cycle through the first object is the one printed.
expect "the shortest closed path is printed" 1 "  a.o -> c.o -> a.o\n" \
    'a.o: b U\na.o: c U\nb.o: b T 0 1\nb.o: c U\nc.o: c T 0 1\nc.o: a U\na.o: a T 0 1\n'

# ---- bad input -------------------------------------------------------------
expect "empty input is an error" 2 "no symbols read" ""
expect "blank lines only are an error" 2 "no symbols read" "\n\n"
expect "a line without a file name" 2 "line 2: not" 'a.o: f T 0 1\nf T 0 1\n'
expect "a two-letter type" 2 "line 1: not" 'a.o: f TT 0 1\n'
expect "a missing type" 2 "line 1: not" 'a.o: f\n'
expect "a value that is not hex" 2 "line 1: not" 'a.o: f T 0x10 1\n'
expect "a field after the size" 2 "line 1: not" 'a.o: f T 0 1 2\n'
expect "a NUL byte in a line" 2 "line 1: not" 'a.o: f T 0 1\0b.o: g U\n'
expect "bad input prints nothing on stdout" 2 "" 'a.o: f U\nb.o: f T 0 1\nb.o: a U\na.o: a T 0 1\nnonsense\n'
[ -s "$tmp/out" ] && not_ok "bad input: stdout is empty" || ok "bad input: stdout is empty"
expect "a file that cannot be opened" 2 "cannot open" "" "$tmp/no-such-file"
printf 'a.o: f T 0 1\nb.o: f U\n' > "$tmp/in"
expect "a file argument is read" 0 "no cycle among 2 objects (1 dependencies)" "" "$tmp/in"
expect "usage" 64 "usage" "" --bogus
expect "usage: two files" 64 "usage" "" "$tmp/in" "$tmp/in"

[ $fails = 0 ] && echo "depcycles: all passed" || echo "depcycles: $fails failed"
[ $fails = 0 ]
