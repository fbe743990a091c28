#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Give every source file an SPDX licence line, or list those without one.
#
#   scripts/spdx.sh [--check] [TREE]    (default TREE: the repository holding this script)
#
# Without --check, each source file that has no "SPDX-License-Identifier:"
# in its first two lines gets one, and its name is printed:
#   C, headers, assembly (.S), linker scripts (.ld):
#       /* SPDX-License-Identifier: BSD-2-Clause */     as the first line
#   shell, Python, Makefiles (and any file starting with "#!"):
#       # SPDX-License-Identifier: BSD-2-Clause         as the first line, or
#                                                       the second after a "#!" line
# A file's other lines and its mode are kept. With --check nothing changes: the
# files without a line are listed and the exit status is 1 if there is any.
# Source files are those git knows (tracked or new, not ignored); outside a git
# tree, every file but build/. Documents, configs and test data are left alone.
set -euo pipefail
check=no
if [ "${1:-}" = --check ]; then check=yes; shift; fi
case ${1:-} in -*) echo "usage: $0 [--check] [TREE]" >&2; exit 2 ;; esac
tree=${1:-$(cd "$(dirname "$0")/.." && pwd)}
[ -d "$tree" ] || { echo "spdx: $tree: not a directory" >&2; exit 2; }
id="SPDX-License-Identifier: BSD-2-Clause"

if git -C "$tree" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git -C "$tree" ls-files --cached --others --exclude-standard)
else
    files=$(cd "$tree" && find . -path ./build -prune -o -type f -print | sed 's|^\./||')
fi

# The comment style of a source file: c, hash, or nothing (not a source file).
style() {
    case ${1##*/} in
    *.c|*.h|*.S|*.ld) echo c ;;
    *.sh|*.py|*.mk|Makefile) echo hash ;;
    .*|*.*) ;;
    *) [ "$(head -c 2 "$tree/$1")" = "#!" ] && echo hash ;;
    esac
    return 0
}

missing=0
while IFS= read -r f; do
    [ -n "$f" ] && [ -f "$tree/$f" ] || continue
    s=$(style "$f")
    [ -n "$s" ] || continue
    head -n 2 "$tree/$f" | grep -q "SPDX-License-Identifier:" && continue
    missing=$((missing + 1))
    echo "$f"
    [ $check = yes ] && continue
    tmp=$(mktemp)
    if [ "$s" = c ]; then
        { echo "/* $id */"; cat "$tree/$f"; } > "$tmp"
    elif [ "$(head -c 2 "$tree/$f")" = "#!" ]; then
        { head -n 1 "$tree/$f"; echo "# $id"; tail -n +2 "$tree/$f"; } > "$tmp"
    else
        { echo "# $id"; cat "$tree/$f"; } > "$tmp"
    fi
    cat "$tmp" > "$tree/$f"         # in place: the file keeps its mode
    rm -f "$tmp"
done <<<"$files"

if [ $check = yes ] && [ $missing -gt 0 ]; then
    echo "spdx: $missing source file(s) without an SPDX-License-Identifier line" >&2
    exit 1
fi
exit 0
