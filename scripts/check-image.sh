#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Checks on the linked image that a PVH loader relies on; a bad image is removed.
set -euo pipefail
elf=$1
fail() { echo "check-image: $elf: $*" >&2; rm -f "$elf"; exit 1; }
command -v readelf >/dev/null || exit 0
notes=$(readelf -nW "$elf")
grep -q "Xen" <<<"$notes" || fail "no Xen ELF notes"
readelf -lW "$elf" | grep -q "^ *NOTE" || fail "no PT_NOTE segment"
entry=$(( $(readelf -hW "$elf" | awk '/Entry point/ {print $4}') ))
inside=no
while read -r type off vaddr paddr filesz memsz flags _; do
    [ "$type" = LOAD ] || continue
    s=$((paddr)); m=$((memsz))
    (( entry >= s && entry < s + m )) && inside=yes
    [[ "$flags" == *W* && "$flags" == *E* ]] && fail "a PT_LOAD segment is writable and executable"
done < <(readelf -lW "$elf" | sed -n '/Program Headers/,/Section to Segment/p' | grep '^ *LOAD' | sed 's/R E/RE/; s/RW E/RWE/')
[ $inside = yes ] || fail "entry point $(printf 0x%x $entry) is outside every PT_LOAD segment"
exit 0
