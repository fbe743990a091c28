#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `make mutate`: mutation testing of the pure logic (docs/mutation.md).
# Variables: MUTATE_FILES, MUTATE_MAX, MUTATE_JOBS, MUTATE_TIMEOUT, MUTATE_GREP,
# MUTATE_LIST (scripts/mutate.py says what each does).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh headers mutate
exec python3 scripts/mutate.py "$@"
