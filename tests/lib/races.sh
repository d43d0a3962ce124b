# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The writeback race scenarios (issue 3), shared by tests/30-races.sh and
# tests/31-races-slub.sh (the same under slub_debug). Sourced, never run;
# needs cgroup.sh, mzswap.sh and workload.sh.
#
# For MZ_RACE_SECS (default 60) seconds, cgroups under memory pressure
# store, reload, rewrite (invalidate) and verify patterns in a loop while
# writeback is requested in a tight loop, the compressor is switched and
# the cache is turned off and on (stores passing through to the disk over
# slots whose old entries are being written back). Then swapoff races the
# writeback loop. Every pattern pass must verify, the records must check
# out, the counters return to zero.

MZ_RACE_SECS=${MZ_RACE_SECS:-60}

# _race_worker CG SEED DEADLINE: pattern runs until DEADLINE (epoch secs).
_race_worker()
{
	local cg=$1 seed=$2 deadline=$3 runs=0

	while [ "$EPOCHSECONDS" -lt "$deadline" ]; do
		cg_run_in "$cg" "$MZ_REPO/tests/pattern" --size 48M --kind 2to1 \
			--seed $((seed + runs)) --passes 3 --rewrite 20 --quiet ||
			{ echo "worker $seed: run $runs failed"; return 1; }
		runs=$((runs + 1))
	done
	echo "worker $seed: $runs runs verified"
}

# _race_knobs DEADLINE: writeback requests, compressor and enable flips.
_race_knobs()
{
	local deadline=$1 i=0 comps=(lz4 zstd lzo-rle lzo)
	local p=/sys/module/mzswap/parameters

	while [ "$EPOCHSECONDS" -lt "$deadline" ]; do
		echo 64 >"$MZ_DEBUGFS/writeback"
		i=$((i + 1))
		if ((i % 50 == 0)); then
			echo "${comps[$((i / 50 % 4))]}" >$p/compressor
		fi
		if ((i % 70 == 0)); then
			echo N >$p/enabled
		elif ((i % 70 == 10)); then
			echo Y >$p/enabled
		fi
	done
	echo Y >$p/enabled
	echo "knobs: $i writeback requests"
}

race_concurrent()
{
	local cg1 cg2 deadline pids=() rc=0 pid

	mz_swapon max_pool_percent=5
	cg1=$(cg_create race1)
	cg2=$(cg_create race2)
	cg_write "$cg1" memory.max 24M
	cg_write "$cg2" memory.max 24M
	deadline=$((EPOCHSECONDS + MZ_RACE_SECS))

	_race_worker "$cg1" 100 "$deadline" & pids+=($!)
	_race_worker "$cg2" 200 "$deadline" & pids+=($!)
	_race_knobs "$deadline" & pids+=($!)
	for pid in "${pids[@]}"; do
		wait "$pid" || rc=1
	done
	echo "after ${MZ_RACE_SECS}s: written_back $(mz_counter written_back_pages) duplicate $(mz_counter duplicate_entry) skip_busy $(mz_counter writeback_skip_busy) invalidations $(mz_counter invalidations) reject_disabled $(mz_counter reject_disabled)"
	check_eq "$rc" 0 "every worker verified every pass"
	check_gt "$(mz_counter written_back_pages)" 0 "written_back_pages"
	check_gt "$(mz_counter reject_disabled)" 0 "stores passed through while disabled"
	mz_check_records
	# Freed slots wait in the per-CPU swap slot caches (64 each) before
	# the swap layer frees them to us; swapoff flushes them.
	check_le "$(mz_counter stored_pages)" $((64 * $(nproc))) \
		"stored_pages once all exited"
	swap_off /dev/mzswap0
	check_eq "$(mz_counter stored_pages)" 0 "stored_pages after swapoff"
	check_eq "$(mz_counter pool_total_size)" 0 "pool_total_size after swapoff"
}

# swapoff_try SEED: one run of race_swapoff's race; SWAPOFF_OVERLAP is
# then how many writeback requests wrote back while swapoff loaded.
swapoff_try()
{
	local seed=$1 cg rc=0 loads0 wb

	# Room for the payloads, charged to the cgroup (more of it under
	# slub_debug, which adds its metadata to every object).
	mz_swapon shrinker_enabled=N
	cg=$(cg_create "off$seed")
	cg_write "$cg" memory.max 48M
	hold "$cg" 96M 4to1 "$seed"
	cg_write "$cg" memory.max max
	# The holder sleeps: from here on, only swapoff loads.
	loads0=$(mz_counter loads)
	mz_wb_loop 16 0 "$TMPDIR/wb.log"
	wb=$MZ_WB_PID
	swap_off /dev/mzswap0
	kill "$wb"
	wait "$wb" || true
	echo "swapoff done: written_back $(mz_counter written_back_pages) stored $(mz_counter stored_pages) loads $loads0 -> $(mz_counter loads)"
	check_gt "$(mz_counter written_back_pages)" 0 "written_back_pages"
	# Overlap: requests that wrote back once swapoff had loaded pages
	# (after that, nothing is left to write back).
	SWAPOFF_OVERLAP=$(mz_wb_overlap "$TMPDIR/wb.log" 3 "$loads0" 1e18)
	echo "writeback: $(wc -l <"$TMPDIR/wb.log") requests, $SWAPOFF_OVERLAP wrote back while swapoff loaded"
	check_eq "$(mz_counter stored_pages)" 0 "stored_pages"
	check_eq "$(mz_counter pool_total_size)" 0 "pool_total_size"
	kill -USR1 "$CG_BG_PID"
	wait "$CG_BG_PID" || rc=$?
	check_eq "$rc" 0 "pattern verified after swapoff"
	cg_destroy "$cg"
}

# One overlap proves the race was run; how many there are depends on how
# fast swapoff runs (2 of 55 with synchronous_io=N on an idle machine, 0
# of 46 once with synchronous_io=Y on CI, 2026-12-07: swapoff outran
# every request). So up to three tries, each checked in full; none that
# overlapped fails the case.
race_swapoff()
{
	local try

	for try in 1 2 3; do
		swapoff_try $((299 + try))
		((SWAPOFF_OVERLAP == 0)) || return 0
		echo "try $try: no request wrote back while swapoff loaded"
	done
	fail "no writeback request overlapped swapoff's loads in $try tries"
}

# races_main [DESC FUNCTION]...: the cases, after those given (a file's own).
races_main()
{
	ktap_print_header
	ktap_set_plan $((2 + $# / 2))
	while [ $# -ge 2 ]; do
		ktap_case "$1" "$2"
		shift 2
	done
	ktap_case "store/load/free/writeback/switch races for ${MZ_RACE_SECS}s" race_concurrent
	ktap_case "swapoff racing writeback on request" race_swapoff
	ktap_finished
}
