#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/70-soak.sh again with synchronous_io=Y (->rw_page: swap-in skips
# the swap cache and readahead; 70-soak.sh runs the default, N), for as
# long, with the same final checks.
# mz_load checks that every load of the soak took the mode.
#
# vm: mem=1G cpus=2 disks=backing:2G timeout=600
set -euo pipefail

export MZ_LOAD_PARAMS=synchronous_io=Y
exec bash "$(dirname "$0")/70-soak.sh" "$@"
