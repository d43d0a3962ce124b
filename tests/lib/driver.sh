#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# driver.sh FILE:TIMEOUT...: the guest side of tests/run.sh. Runs inside one
# VM boot (scripts/vm.sh) the test files that share its requirements, one
# after the other, each with a fresh state:
#
#   - a new, empty cgroup exported as MZ_CG_ROOT (memory controller enabled
#     for its children; the test process itself stays in the root cgroup);
#   - a new TMPDIR, and MZ_OUT, a directory on the host for bulky output;
#   - "mzt: begin NAME" / "mzt: end NAME" in the kernel log, so that a
#     report there is attributed to the test that was running;
#   - stdin /dev/null, at most TIMEOUT seconds;
#   - afterwards: everything in its cgroups killed, swap turned off, mzswap,
#     zram, warnmod and biomod unloaded. A test that leaves the module
#     impossible to unload fails.
#
# Output, parsed by run.sh: the test file's own output (stdout and stderr)
# between the lines
#   @@mzt begin NAME
#   @@mzt end NAME rc=STATUS secs=SECONDS cleanup=ok|failed
# with "# driver: ..." diagnostics for cleanup problems just before the end.
set -uo pipefail

lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=tests/lib/cgroup.sh
. "$lib/cgroup.sh"

cgroot=$CG_MOUNT/mztest
outroot=${MZ_VM_OUTDIR:-${TMPDIR:-/tmp}}

# cleanup_problem MSG: report a cleanup failure of the current test.
cleanup_problem()
{
	echo "# driver: $*"
	cleanup=failed
}

# reset_state: undo what a test may have left behind.
reset_state()
{
	local mod out

	if [ -d "$cgroot" ]; then
		out=$( (cg_destroy "$cgroot") 2>&1) ||
			cleanup_problem "cgroup cleanup: $out"
	fi
	if [ -n "$(tail -n +2 /proc/swaps)" ]; then
		out=$(swapoff -a 2>&1) || cleanup_problem "swapoff -a: $out"
	fi
	for mod in mzswap zram warnmod biomod; do
		[ -d "/sys/module/$mod" ] || continue
		out=$(rmmod "$mod" 2>&1) || cleanup_problem "rmmod $mod: $out"
	done
}

# run_one FILE TIMEOUT: run one test file, framed by the @@mzt lines.
run_one()
{
	local file=$1 timeout=$2 name rc start secs

	name=$(basename "$file" .sh)
	cleanup=ok
	echo "@@mzt begin $name"
	if ! mkdir "$cgroot" ||
	   ! echo +memory >"$cgroot/cgroup.subtree_control"; then
		cleanup_problem "cannot set up $cgroot"
	fi
	export MZ_CG_ROOT=$cgroot
	export TMPDIR=/tmp/mzt-$name
	export MZ_OUT=$outroot/$name
	rm -rf "$TMPDIR"
	mkdir -p "$TMPDIR" "$MZ_OUT"
	echo "mzt: begin $name" >/dev/kmsg

	start=$EPOCHREALTIME
	timeout -k 10 "$timeout" bash "$file" </dev/null 2>&1
	rc=$?
	secs=$(((${EPOCHREALTIME/./} - ${start/./}) / 10000))
	[ "$rc" != 124 ] || echo "# driver: timed out after ${timeout}s"

	reset_state
	echo "mzt: end $name" >/dev/kmsg
	rm -rf "$TMPDIR"
	printf '@@mzt end %s rc=%d secs=%d.%02d cleanup=%s\n' "$name" "$rc" \
		$((secs / 100)) $((secs % 100)) "$cleanup"
}

main()
{
	local arg

	cleanup=ok
	reset_state
	for arg in "$@"; do
		run_one "${arg%:*}" "${arg##*:}"
	done
}

main "$@"
