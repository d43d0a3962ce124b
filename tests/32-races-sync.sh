#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The races of tests/30-races.sh again with synchronous_io=Y (30-races.sh
# runs the default, N): ->rw_page, so swap-in of an unshared page skips the
# swap cache and readahead, frees its slot right after the read, and a read
# of a written-back page waits for the disk inside ->rw_page. mz_load
# checks that every load of the file took the mode.
#
# vm: mem=1G cpus=2 disks=backing:1G timeout=400
set -euo pipefail

export MZ_LOAD_PARAMS=synchronous_io=Y
exec bash "$(dirname "$0")/30-races.sh" "$@"
