#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make-examples.sh: regenerate the *_example.txt files beside the bpftrace
# tools, by running each over a small workload in the test VM:
#   scripts/vm.sh -m 1G -d backing:1G -- bash scripts/bpftrace/make-examples.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
. "$repo/tests/lib/cgroup.sh"
. "$repo/tests/lib/mzswap.sh"

# fill CG SIZE N: under a 16M memory.max, fill cgroup CG with SIZE of 4:1
# data (seed N), held until SIGUSR1, then verified; creates $TMPDIR/rN once
# filled. The filler's PID in CG_BG_PID.
fill()
{
	cg_write "$1" memory.max 16M
	rm -f "$TMPDIR/r$3"
	cg_run_bg "$1" "$repo/tests/pattern" --size "$2" --kind 4to1 \
		--seed "$3" --ready "$TMPDIR/r$3" --hold 0 --verify --quiet
}

# workload: three cgroups under pressure, writeback asked for, one removed.
workload()
{
	local i pids=()

	for i in 1 2 3; do
		fill "$(cg_create "ex$i")" 32M "$i"
		pids+=("$CG_BG_PID")
	done
	for i in 1 2 3; do
		wait_for 120 test -e "$TMPDIR/r$i"
	done
	echo 30 >"$MZ_DEBUGFS/writeback"
	park=$(cg_create park)
	echo "${pids[2]}" >"$park/cgroup.procs"
	rmdir "$(cg_path ex3)"
	echo 1 >"$MZ_DEBUGFS/reparent"
	kill -USR1 "${pids[@]}"
	wait "${pids[@]}"
	sleep 1
}

# workload_limit: two cgroups under a parent's 2 MiB cgroup_max, the first
# filling it, then the second storing over it.
workload_limit()
{
	local top i pids=()

	top=$(cg_create exl)
	echo "${top#"$CG_MOUNT"} $((2 << 20))" >"$MZ_DEBUGFS/cgroup_max"
	for i in 1 2; do
		fill "$(cg_create "exl/c$i")" 24M "$i"
		pids+=("$CG_BG_PID")
		wait_for 120 test -e "$TMPDIR/r$i"
	done
	kill -USR1 "${pids[@]}"
	wait "${pids[@]}"
	sleep 1
}

mz_swapon
for tool in mzswap-worker mzswap-writeback mzswap-latency mzswap-reparent \
	mzswap-wbstack mzswap-limit; do
	# mzswap-latency times ->rw_page: synchronous_io=Y's path only.
	if [ "$tool" = mzswap-latency ]; then
		mz_swapon synchronous_io=Y
	elif [ "$(</sys/module/mzswap/parameters/synchronous_io)" = Y ]; then
		mz_swapon
	fi
	bpftrace "$here/$tool.bt" >"$TMPDIR/$tool.out" 2>&1 &
	bt=$!
	wait_for 30 grep -q "Attaching" "$TMPDIR/$tool.out"
	sleep 1
	if [ "$tool" = mzswap-limit ]; then
		workload_limit
		what="two cgroups under a parent's 2 MiB cgroup_max"
	else
		workload
		what="three cgroups under memory.max, writeback of 30, one removed"
	fi
	[ "$tool" != mzswap-writeback ] || sleep 5
	kill -INT "$bt"
	wait "$bt" || true
	{
		echo "# $tool.bt over scripts/bpftrace/make-examples.sh's workload"
		echo "# ($what)"
		echo "# kernel $(uname -r), QEMU TCG"
		# A long trace: its start, and its end with the summary.
		if (($(wc -l <"$TMPDIR/$tool.out") > 60)); then
			head -n 30 "$TMPDIR/$tool.out"
			echo "[... $(($(wc -l <"$TMPDIR/$tool.out") - 60)) lines ...]"
			tail -n 30 "$TMPDIR/$tool.out"
		else
			cat "$TMPDIR/$tool.out"
		fi
	} >"$here/${tool}_example.txt"
	cg_cleanup
done
