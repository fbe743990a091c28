#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's layout section against the tree: every file of the tree must
# be named there (by name or by a glob in its directory's entry), and every
# entry must name something that exists. build/ (generated) is described but
# not checked. Prints one line per discrepancy; exits 1 if there is any.
#
#   scripts/check-layout.sh [TREE]     (default: the repository holding this script)
#
# The section is the first ``` block after "## Layout" in TREE/README.md.
# Each line is "NAMES  role": NAMES (up to the first run of two spaces) are
# one or more names separated by single spaces; a name ending in "/" is a
# directory, and the lines indented below it are its entries.
set -euo pipefail
tree=${1:-$(cd "$(dirname "$0")/.." && pwd)}
readme=$tree/README.md
[ -f "$readme" ] || { echo "check-layout: no $readme" >&2; exit 2; }

# The entries, one a line: "D path/" or "F dir/glob".
entries=$(awk '
    /^## Layout/ { sec = 1; next }
    sec && /^## / { exit }
    sec && /^```/ { if (inblk) exit; inblk = 1; next }
    !inblk || /^[[:space:]]*$/ { next }
    {
        match($0, /^ */); ind = RLENGTH
        line = substr($0, ind + 1)
        names = line; sub(/  .*$/, "", names)
        while (n > 0 && stk_ind[n] >= ind) n--
        parent = n ? stk_path[n] : ""
        cnt = split(names, w, " ")
        for (i = 1; i <= cnt; i++) {
            if (w[i] ~ /\/$/) {
                print "D " parent w[i]
                if (i == cnt) { n++; stk_ind[n] = ind; stk_path[n] = parent w[i] }
            } else
                print "F " parent w[i]
        }
    }' "$readme")
[ -n "$entries" ] || { echo "check-layout: no layout block after '## Layout' in $readme" >&2; exit 2; }

if git -C "$tree" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    files=$(git -C "$tree" ls-files --cached --others --exclude-standard | sort -u)
else
    files=$(cd "$tree" && find . -path ./build -prune -o -type f -print | sed 's|^\./||' | sort)
fi
# Not part of the layout: git's own file.
files=$(grep -v -x -e '.gitignore' <<<"$files" || true)

bad=0
declare -A used=()
while IFS= read -r f; do
    [ -n "$f" ] || continue
    [ -e "$tree/$f" ] || continue          # deleted, not yet committed
    dir=${f%/*}; base=${f##*/}
    [ "$dir" = "$f" ] && dir="" || dir="$dir/"
    found=no
    while IFS=' ' read -r kind path; do
        [ "$kind" = F ] || continue
        edir=${path%/*}; eglob=${path##*/}
        [ "$edir" = "$path" ] && edir="" || edir="$edir/"
        # shellcheck disable=SC2053
        if [ "$edir" = "$dir" ] && [[ $base == $eglob ]]; then
            found=yes; used[$path]=1
        fi
    done <<<"$entries"
    if [ $found = no ]; then
        echo "check-layout: $f: not in README's layout section"
        bad=1
    fi
done <<<"$files"

while IFS=' ' read -r kind path; do
    case $path in build/*) continue ;; esac
    if [ "$kind" = F ] && [ -z "${used[$path]:-}" ]; then
        echo "check-layout: README's layout names $path: no such file in the tree"
        bad=1
    elif [ "$kind" = D ] && ! awk -v p="$path" 'index($0, p) == 1 { f = 1; exit } END { exit !f }' <<<"$files"; then
        echo "check-layout: README's layout names $path: no such directory in the tree"
        bad=1
    fi
done <<<"$entries"
exit $bad
