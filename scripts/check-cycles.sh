#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Fail on a dependency cycle between the kernel's source files. The graph
# comes from the kernel objects' symbol tables: an object that references a
# global symbol depends on the object that defines it (build/tools/depcycles,
# tools/depcycles.c, reads `nm -A -P -g`). Each cycle is listed with the
# symbols that make it.
#
#   scripts/check-cycles.sh OBJDIR OBJ...   the objects, relative to OBJDIR
#   make check-cycles                       the same for the kernel's objects
#
# Exit status: depcycles' (0 no cycle, 1 a cycle, 2 bad input), or 2 when
# the tool or an object is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 OBJDIR OBJ..." >&2; exit 2; }
objdir=$1; shift
tool=${DEPCYCLES:-build/tools/depcycles}
[ -x "$tool" ] || { echo "check-cycles: $tool missing (make tools)" >&2; exit 2; }
for o in "$@"; do
    [ -f "$objdir/$o" ] || { echo "check-cycles: $objdir/$o missing (make all)" >&2; exit 2; }
done
# The objects are named as the source files they come from (arch/traps.o).
(cd "$objdir" && nm -A -P -g "$@") | "$tool"
