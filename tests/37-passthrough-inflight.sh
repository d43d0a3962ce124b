#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# A small cgroup whose swap writes pass through to a slow backing disk
# (QEMU throttles it to 100 requests and 1 MiB a second). On 6.1 a cgroup
# v2 reclaimer never waits for writeback, so once every page of the cgroup
# is on its way to the disk it is OOM-killed: a plain swap disk did that
# to 4M cgroups writing 12M in 2 runs of 3, mzswap passing every page
# through in 3 of 3 (2026-12-06). passthrough_inflight_percent bounds the
# writes in flight of each limited cgroup, and its writer waits for room
# (module/memcg.c, "Pass-through writes in flight"). Also: the count of a
# parent's limit shared by its children, the ->rw_page path
# (synchronous_io=Y), the bound switched off, and a cgroup removed and
# swap turned off while its writes are in flight.
#
# vm: mem=1G cpus=2 disks=backing:1G:iops=100:bps=1048576 timeout=600
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"

# Rounds per setting: the unbounded kernel killed 2 of 3.
ROUNDS=3

# fill_rounds NAME [PARENT_LIMITED]: ROUNDS times, 8M of 4:1 data
# written and verified in a 4M cgroup (or in a child of a 4M
# parent); says what each round did. Sets KILLS (OOM kills), FAILED
# (rounds whose pattern did not exit 0) and PEAK (the most pages any
# round had in flight, as passthrough_inflight showed).
fill_rounds()
{
	local name=$1 nested=${2:-} i cg limited rc n
	local sampler

	KILLS=0
	FAILED=0
	PEAK=0
	for ((i = 1; i <= ROUNDS; i++)); do
		if [ -n "$nested" ]; then
			limited=$(cg_create "$name$i")
			cg=$(cg_create "$name$i/c")
		else
			cg=$(cg_create "$name$i")
			limited=$cg
		fi
		cg_write "$limited" memory.max 4M
		# The peak in flight, sampled while the pattern runs.
		(
			peak=0
			while :; do
				n=$(mz_counter passthrough_inflight)
				((n <= peak)) || { peak=$n; echo "$peak" >"$TMPDIR/peak"; }
				nap 0.05
			done
		) &
		sampler=$!
		echo 0 >"$TMPDIR/peak"
		rc=0
		cg_run_in "$cg" "$PATTERN" --size 8M --kind 4to1 --seed "$i" \
			--verify --quiet || rc=$?
		kill "$sampler"
		wait "$sampler" 2>/dev/null || true
		n=$(cg_read_key "$limited" memory.events oom_kill)
		echo "$name round $i: exit $rc, oom_kill $n, peak in flight $(<"$TMPDIR/peak")"
		KILLS=$((KILLS + n))
		((rc == 0)) || FAILED=$((FAILED + 1))
		(($(<"$TMPDIR/peak") <= PEAK)) || PEAK=$(<"$TMPDIR/peak")
		cg_destroy "$cg"
		[ -z "$nested" ] || cg_destroy "$limited"
	done
}

no_pass_inflight()
{
	[ "$(mz_counter passthrough_inflight)" = 0 ]
}

# The rounds of one setting, checked: no kill, every round verified, the
# writers waited, the bound held (1024 pages of 4M at 25%, plus what was
# already submitted when the writers checked), nothing left in flight.
check_bounded()
{
	local name=$1 nested=${2:-} t0

	t0=$(mz_counter passthrough_throttled)
	fill_rounds "$name" "$nested"
	check_eq "$KILLS" 0 "OOM kills"
	check_eq "$FAILED" 0 "rounds whose data did not verify"
	check_gt "$(mz_counter passthrough_throttled)" "$t0" \
		"passthrough_throttled"
	check_le "$PEAK" 320 "most pass-through writes in flight"
	wait_for 60 no_pass_inflight
	check_eq "$(mz_counter passthrough_inflight)" 0 \
		"passthrough_inflight at the end"
}

case_bounded()
{
	mz_swapon enabled=N
	check_bounded own
}

case_parent_limited()
{
	mz_swapon enabled=N
	check_bounded nest nested
}

case_rw_page()
{
	mz_swapon enabled=N synchronous_io=Y
	check_bounded sync
}

# Off: nothing counted, nobody waits. What the kernel alone does to the
# cgroups is shown, not asserted (it killed 2 of 3 rounds, not always).
case_off()
{
	local t0

	mz_swapon enabled=N passthrough_inflight_percent=0
	t0=$(mz_counter passthrough_throttled)
	fill_rounds off
	echo "bound off: $KILLS OOM kills, $FAILED rounds failed in $ROUNDS"
	check_eq "$(mz_counter passthrough_throttled)" "$t0" \
		"passthrough_throttled with the bound off"
	check_eq "$PEAK" 0 "passthrough_inflight with the bound off"
}

# flood NAME SEED: a 4M cgroup NAME (in FLOOD_CG) writing 64M through, its
# pattern's PID in FLOOD_PID; returns once over 100 of its writes are in flight.
flood()
{
	FLOOD_CG=$(cg_create "$1")
	cg_write "$FLOOD_CG" memory.max 4M
	cg_run_bg "$FLOOD_CG" "$PATTERN" --size 64M --kind 4to1 --seed "$2" \
		--passes 1000 --quiet
	FLOOD_PID=$CG_BG_PID
	wait_for 60 counter_above passthrough_inflight 100
}

# The owner killed and its cgroup removed with writes in flight (their
# completions drop the last references to its state), then swap turned
# off and the module unloaded with more in flight.
case_teardown()
{
	mz_swapon enabled=N
	flood gone 7
	echo "in flight before the removal: $(mz_counter passthrough_inflight), waited $(mz_counter passthrough_throttled)"
	kill -KILL "$FLOOD_PID"
	wait "$FLOOD_PID" 2>/dev/null || true
	cg_destroy "$FLOOD_CG"
	echo "in flight after the removal: $(mz_counter passthrough_inflight)"
	echo 1 >"$MZ_DEBUGFS/reparent"
	mz_check_records

	flood again 8
	kill -KILL "$FLOOD_PID"
	wait "$FLOOD_PID" 2>/dev/null || true
	echo "in flight at swapoff: $(mz_counter passthrough_inflight)"
	swap_off /dev/mzswap0
	check_eq "$(mz_counter passthrough_inflight)" 0 \
		"passthrough_inflight after swapoff"
	cg_destroy "$FLOOD_CG"
	rmmod mzswap || fail "rmmod mzswap failed"
}

ktap_print_header
ktap_set_plan 5
ktap_case "a 4M cgroup passing through to a slow disk waits, is not OOM-killed" case_bounded
ktap_case "children share their limited parent's bound" case_parent_limited
ktap_case "the same through ->rw_page (synchronous_io=Y)" case_rw_page
ktap_case "passthrough_inflight_percent=0: nothing counted, nobody waits" case_off
ktap_case "owner removed, swapoff and unload with pass-through writes in flight" case_teardown
ktap_finished
