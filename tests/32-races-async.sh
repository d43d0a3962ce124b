#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The races of tests/30-races.sh again with synchronous_io=N: no ->rw_page,
# so swap-in goes through bios, the swap cache and readahead, an entry
# stays while its page is also in the swap cache, and loads race with
# writeback and frees from the swap cache's side (docs/admin-guide.md, "Behaviour worth
# knowing"). mz_load checks that every load of the file took the mode.
#
# vm: mem=1G cpus=2 disks=backing:1G timeout=400
set -euo pipefail

export MZ_LOAD_PARAMS=synchronous_io=N
exec bash "$(dirname "$0")/30-races.sh" "$@"
