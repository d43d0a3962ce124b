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

# The precondition: slub_debug=FZPU reached every cache of the module
# (mzswap_entry and the slab allocator's payload classes mzswap-<size>):
# sanity checks (F), red zones (Z), poisoning (P) and owner tracking (U)
# on, as /sys/kernel/slab/<cache>/ says.
case_slub_debug()
{
	local c caches=() flag n=0

	mz_attach
	check_eq "$(</sys/module/mzswap/parameters/allocator)" slab "allocator"
	for c in /sys/kernel/slab/mzswap*; do
		[ -d "$c" ] && caches+=("$c")
	done
	[ -d /sys/kernel/slab/mzswap_entry ] ||
		fail "no /sys/kernel/slab/mzswap_entry"
	check_gt "${#caches[@]}" 1 "mzswap caches (entries and payload classes)"
	for c in "${caches[@]}"; do
		for flag in sanity_checks red_zone poison store_user; do
			[ "$(<"$c/$flag")" = 1 ] ||
				fail "${c##*/}: $flag is $(<"$c/$flag"), want 1"
			n=$((n + 1))
		done
	done
	echo "${#caches[@]} caches, $n debug flags on: ${caches[*]##*/}"
}

races_main "slub_debug=FZPU is on for every mzswap cache" case_slub_debug
