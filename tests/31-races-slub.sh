#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The writeback races of tests/30-races.sh again, with slub_debug (red
# zones, poisoning, sanity checks, owner tracking) on the module's caches:
# a use-after-free or overflow of an entry or payload shows as a slub
# report in the kernel log, which fails the boot.
#
# vm: mem=1G cpus=2 disks=backing:1G append=slub_debug=FZPU,mzswap* timeout=400
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"
. "$(dirname "$0")/lib/races.sh"

races_main
