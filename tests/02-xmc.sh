#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The VM runs code that another CPU patches as it stands in memory (issue
# 13): tests/xmcmod toggles a static key 400 times under a kthread going
# round 16 of its sites on the other vCPU. QEMU 7.2's multi-threaded TCG
# keeps a stale translation of a site there within a few dozen toggles and
# the spinner loops on an INT3 for ever (the make demo hang of 2026-12-04),
# which xmcmod reports as "stuck" within 4 s instead of hanging: this file
# fails if scripts/vm.sh goes back to that mode (MZ_TCG_THREAD=multi shows
# it). docs/notes/2026-12-05-tcg-cross-modifying-code.md has the numbers.
#
# vm: mem=512M cpus=2 boot=xmc timeout=120
set -euo pipefail

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"

# The debug kernel's build puts it next to warnmod (tests/Makefile).
if [ -n "${MZ_WARNMOD:-}" ]; then
	XMCMOD=$(dirname "$(dirname "$MZ_WARNMOD")")/xmcmod/xmcmod.ko
else
	XMCMOD=$MZ_REPO/tests/xmcmod/xmcmod.ko
fi
TOGGLES=400
# A spinner still for 2 x this is stuck; a slow host only delays it.
STALL_MS=$((2000 * ${MZ_TIMEOUT_SCALE:-1}))
P=/sys/module/xmcmod/parameters

case_patched_code()
{
	local name stuck taken

	[ -f "$XMCMOD" ] || fail "$XMCMOD not built"
	[ "$(nproc)" -ge 2 ] || fail "needs 2 CPUs, the VM has $(nproc)"
	insmod "$XMCMOD" toggles="$TOGGLES" stall_ms="$STALL_MS"
	for name in toggled slow stuck loops taken; do
		echo "$name $(<"$P/$name")"
	done
	stuck=$(<"$P/stuck")
	if [ "$stuck" != 0 ]; then
		dmesg | grep -A 20 'xmcmod: spinner' || true
		fail "the spinner ran a stale translation of a patched site (multi-threaded TCG?); xmcmod stays loaded"
	fi
	check_eq "$(<"$P/toggled")" "$TOGGLES" "toggles done"
	# The toggles took effect: the spinner saw the branch enabled.
	taken=$(<"$P/taken")
	check_gt "$taken" 0 "spinner loops that took the branch"
	rmmod xmcmod
}

ktap_print_header
ktap_set_plan 1
ktap_case "a vCPU runs static branch sites that the other one patches, 400 toggles" \
	case_patched_code
ktap_finished
