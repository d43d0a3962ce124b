#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: show mzswap working ("make demo", after scripts/setup.sh).
# Builds the module and the pattern program, boots the test VM with a
# backing disk and runs scripts/demo-guest.sh there.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo"
make -s >/dev/null
make -s -C tests >/dev/null
exec scripts/vm.sh -m 1G -c 2 -d backing:1G -t 900 -- \
	bash "$repo/scripts/demo-guest.sh"
