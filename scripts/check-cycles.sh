#!/usr/bin/env bash
# Fail on a dependency cycle between the kernel's source files. The graph
# comes from the kernel objects' symbol tables: an object that references a
# global symbol depends on the object that defines it (build/tools/depcycles,
# tools/depcycles.c, reads `nm -A -P -g`). Each cycle is listed with the
# symbols that make it.  Usage: scripts/check-cycles.sh [OBJDIR] (build/k)
set -euo pipefail
cd "$(dirname "$0")/.."
objdir=${1:-build/k}
tool=${DEPCYCLES:-build/tools/depcycles}
[ -x "$tool" ] || { echo "check-cycles: $tool missing (make tools)" >&2; exit 2; }
[ -d "$objdir" ] || { echo "check-cycles: $objdir missing (make all)" >&2; exit 2; }
mapfile -t objs < <(cd "$objdir" && find . -name '*.o' -printf '%P\n' | sort)
[ "${#objs[@]}" -gt 0 ] || { echo "check-cycles: no objects in $objdir" >&2; exit 2; }
# The objects are named as the source files they come from (arch/traps.o).
(cd "$objdir" && nm -A -P -g "${objs[@]}") | "$tool"
