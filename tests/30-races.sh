#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Writeback races (issue 3), driven concurrently: see tests/lib/races.sh.
#
# vm: mem=1G cpus=2 disks=backing:1G timeout=400
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"
. "$(dirname "$0")/lib/races.sh"

races_main
