#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Memcg awareness (issue 4): the scenarios of the kernel's
# tools/testing/selftests/cgroup/test_zswap.c on mzswap's interfaces, and
# the round-robin worker's iteration.
#
# A boot of its own: "no kmem bypass" swaps 1100M out of a 1G VM by global
# reclaim. On the debug kernel that empties kmemleak's metadata pool (its
# allocations do not retry; those that fail take objects from a static
# pool) and kmemleak turns itself off for the rest of the boot, where
# 70-kmemleak would find it dead.
#
# vm: mem=1G cpus=2 disks=backing:1G boot=global-reclaim timeout=900
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"




case_usage()
{
	local cg stored

	mz_swapon
	cg=$(cg_create usage)
	# A new cgroup has no state: no line in the table yet.
	check_eq "$(mz_cg_line "$cg")" "" "the new cgroup's line"
	cg_write "$cg" memory.max 32M
	hold "$cg" 64M 4to1 1 --quiet
	stored=$(mz_cg_field "$cg" stored_pages)
	mz_cg_line "$cg"
	check_gt "$stored" 1000 "the cgroup's stored_pages"
	check_ge "$stored" $(($(mz_counter stored_pages) * 9 / 10)) \
		"the cgroup's share of stored_pages"
	verify "$CG_BG_PID"
}

case_no_invasive_shrink()
{
	local a b

	mz_swapon
	b=$(cg_create neighbour)
	cg_write "$b" memory.max 24M
	# khugepaged must not touch b's area: collapsing it swaps pages in
	# and charges a huge page to b, whose own reclaim then writes b's
	# entries back. Seen on the debug kernel, where a's fill takes
	# minutes (bpftrace: khugepaged, try_to_free_mem_cgroup_pages,
	# mz_shrinker_scan for b; no global reclaim at all).
	hold "$b" 48M 4to1 2 --quiet --thp off
	local pid_b=$CG_BG_PID wb_b
	check_gt "$(mz_cg_field "$b" stored_pages)" 1000 "b's stored_pages"
	# b wrote back its own while it filled; it holds still from now on.
	wb_b=$(mz_cg_field "$b" written_back)

	# a, at its own limit with 2:1 data, must write back its entries:
	# through its own reclaim (the memcg shrinker), not the global
	# worker (the pool stays far below max_pool_percent).
	local scans freed runs
	scans=$(mz_counter shrinker_scans)
	freed=$(mz_counter shrinker_freed)
	runs=$(mz_counter shrink_worker_runs)
	a=$(cg_create pressure)
	cg_write "$a" memory.max 24M
	hold "$a" 96M 2to1 3 --quiet
	echo "a: $(mz_cg_line "$a")"
	echo "b: $(mz_cg_line "$b")"
	echo "shrinker_scans +$(($(mz_counter shrinker_scans) - scans)) shrinker_freed +$(($(mz_counter shrinker_freed) - freed)) shrink_worker_runs +$(($(mz_counter shrink_worker_runs) - runs))"
	check_gt "$(mz_cg_field "$a" written_back)" 0 "a's written_back"
	check_eq "$(mz_cg_field "$b" written_back)" "$wb_b" \
		"b's written_back while a is under pressure"
	check_gt "$(mz_counter shrinker_scans)" "$scans" "shrinker_scans"
	check_gt "$(mz_counter shrinker_freed)" "$freed" "shrinker_freed"
	check_eq "$(mz_counter shrink_worker_runs)" "$runs" "shrink_worker_runs"
	verify "$CG_BG_PID"
	verify "$pid_b"
}

case_writeback_disabled()
{
	local p c q pid_c

	mz_swapon shrinker_enabled=N
	p=$(cg_create nowb)
	c=$(cg_create nowb/child)
	q=$(cg_create other)
	echo "${p#"$CG_MOUNT"} 0" >"$MZ_DEBUGFS/cgroup_writeback"
	cg_write "$c" memory.max 24M
	cg_write "$q" memory.max 24M
	hold "$c" 48M 4to1 4 --quiet
	pid_c=$CG_BG_PID
	hold "$q" 48M 4to1 5 --quiet
	check_eq "$(mz_cg_field "$c" writeback)" 0 "child's writeback column"

	# The pool far over its limit, and writeback asked for on top.
	echo 1 >/sys/module/mzswap/parameters/max_pool_percent
	echo 3000 >"$MZ_DEBUGFS/writeback"
	echo "child: $(mz_cg_line "$c")"
	echo "other: $(mz_cg_line "$q")"
	check_eq "$(mz_cg_field "$c" written_back)" 0 "written_back of the child"
	check_eq "$(mz_cg_field "$p" written_back)" 0 "written_back of the parent"
	check_gt "$(mz_cg_field "$q" written_back)" 0 "written_back of the other"
	echo 20 >/sys/module/mzswap/parameters/max_pool_percent
	verify "$pid_c"
	verify "$CG_BG_PID"
}

# A limit on a parent bounds its children's entries together (its
# subtree_bytes), as memory.zswap.max does, and makes its room in the
# subtree: the first child fills the parent's limit, writing its own
# entries back as it goes, and then sits idle; the second's stores over the
# limit write back the subtree round-robin, the first child's idle entries
# among them, until the second holds the limit's bytes (4,053 entries,
# 4,185,589 bytes). Writing back only the storing cgroup's own entries
# (mainline's shrink_memcg(), mutant 15) left the first child's 4,054
# entries in place and cycled the second's pages through the cache: it
# kept 4 entries (4,132 bytes) and wrote back 10,382.
case_cgroup_limit_tree()
{
	local top a b max=$((4 << 20)) pa sum a_wb out bt
	local steps other gave_a gave_b

	mz_swapon shrinker_enabled=N
	top=$(cg_create ltree)
	a=$(cg_create ltree/a)
	b=$(cg_create ltree/b)
	echo "${top#"$CG_MOUNT"} $max" >"$MZ_DEBUGFS/cgroup_max"
	cg_write "$a" memory.max 24M
	cg_write "$b" memory.max 24M
	hold "$a" 64M 4to1 61 --quiet
	pa=$CG_BG_PID
	a_wb=$(mz_cg_field "$a" written_back)
	out=$TMPDIR/limit-steps.txt
	bpftrace -e 'tracepoint:mzswap:mzswap_limit_step {
		printf("step %llu %llu %ld\n", args->limit, args->cgroup,
		       args->outcome);
	}' >"$out" 2>&1 &
	bt=$!
	wait_for 60 grep -qs Attaching "$out"
	hold "$b" 64M 4to1 62 --quiet
	kill -INT "$bt"
	wait "$bt" || true
	mz_cg_line "$top"
	mz_cg_line "$a"
	mz_cg_line "$b"
	# The trace (mzswap-limit.bt's): every step is the parent's limit,
	# and both children gave entries for the second's stores. One pass:
	# steps, steps of another limit, entries each child gave.
	read -r steps other gave_a gave_b < <(awk \
		-v top="$(mz_cg_field "$top" id)" -v a="$(mz_cg_field "$a" id)" \
		-v b="$(mz_cg_field "$b" id)" '
		$1 == "step" { n++; if ($2 != top) other++
			       if ($4 > 0) gave[$3] += $4 }
		END { print n + 0, other + 0, gave[a] + 0, gave[b] + 0 }' "$out")
	echo "$steps steps, $other of another limit; entries given: first child $gave_a, second $gave_b"
	check_gt "$steps" 0 "mzswap_limit_step events"
	check_eq "$other" 0 "steps of another limit than the parent's"
	check_gt "$gave_a" 0 "entries the first child gave for the second's stores"
	sum=$(($(mz_cg_field "$a" compressed_bytes) + \
	       $(mz_cg_field "$b" compressed_bytes)))
	check_le "$sum" "$max" "the children's compressed_bytes"
	check_gt "$sum" $((max / 2)) "the children's compressed_bytes"
	check_eq "$(mz_cg_field "$top" subtree_bytes)" "$sum" \
		"the parent's subtree_bytes"
	check_gt "$a_wb" 0 "the first child's entries written back at its limit"
	check_gt "$(mz_cg_field "$a" written_back)" "$a_wb" \
		"the first child's entries written back for the second's stores"
	check_gt "$(mz_cg_field "$b" compressed_bytes)" $((max / 2)) \
		"the second child's compressed_bytes: the limit's room is shared"
	check_gt "$(mz_cg_field "$b" written_back)" 1000 \
		"the second child's entries written back in their turn"
	verify "$pa"
	verify "$CG_BG_PID"
}

# A limit's round robin (its cursor, a cgroup id) while the children it
# points at are removed: batches of children fill a parent's small limit
# together and are removed, leaving their entries to the parent and the
# cursor at a removed child. A child created then stores over the limit:
# its round robin resumes from the removed child's id, starts again at the
# parent and writes back the entries the removed children left it, until
# the new child holds most of the limit. The limit holds, records check,
# the data verifies, and nothing keeps a removed child alive.
case_limit_cursor_removal()
{
	local top park fresh max=$((1 << 20)) i sub left0 left

	mz_swapon shrinker_enabled=N
	top=$(cg_create lcur)
	park=$(cg_create lpark)
	echo "${top#"$CG_MOUNT"} $max" >"$MZ_DEBUGFS/cgroup_max"
	for ((i = 0; i < 18; i += 6)); do
		churn_batch lcur/gone "$i" 6 4M 2M "$park"
	done
	echo 1 >"$MZ_DEBUGFS/reparent"
	mz_cg_line "$top"
	left0=$(mz_cg_field "$top" stored_pages)
	check_gt "$left0" 0 "entries the removed children left the parent"

	fresh=$(cg_create lcur/fresh)
	cg_write "$fresh" memory.max 4M
	hold "$fresh" 16M 4to1 31 --quiet
	mz_cg_line "$top"
	mz_cg_line "$fresh"
	left=$(mz_cg_field "$top" stored_pages)
	echo "the parent's own entries: $left0 -> $left"
	check_lt "$left" $((left0 / 2)) "the parent's own entries after the new child's stores"
	check_gt "$(mz_cg_field "$fresh" compressed_bytes)" $((max / 2)) \
		"the new child's compressed_bytes"
	# Stores side by side may each find the room one of them takes: at
	# most a page each of the guest's two CPUs over.
	sub=$(mz_cg_field "$top" subtree_bytes)
	check_le "$sub" $((max + 2 * 4096)) "the parent's subtree_bytes"
	mz_check_records
	verify "$CG_BG_PID"
	verify_batch
	cg_cleanup
	swap_off /dev/mzswap0
	wait_dying_zero
}

# A store runs in the task that reclaims, a container's with a cgroup
# namespace of its own too. Two children share a parent's limit; a third,
# its filler in a cgroup namespace of its own (unshare -C), stores over it.
# Its round robin must resume where the last stopped, taking entries from
# both others in turn: resumed by cgroup_get_from_id(), which sees no
# cgroup outside the caller's namespace, it started again at the parent
# at every store and took them all from the first child.
case_limit_cgroupns()
{
	local top a b c max=$((4 << 20)) pa pb a0 b0 da db ns

	mz_swapon shrinker_enabled=N
	top=$(cg_create lns)
	a=$(cg_create lns/a)
	b=$(cg_create lns/b)
	c=$(cg_create lns/c)
	echo "${top#"$CG_MOUNT"} $max" >"$MZ_DEBUGFS/cgroup_max"
	cg_write "$a" memory.max 24M
	cg_write "$b" memory.max 16M
	cg_write "$c" memory.max 16M
	# The first fills the limit; the second takes about half of it.
	hold "$a" 64M 4to1 81 --quiet
	pa=$CG_BG_PID
	hold "$b" 24M 4to1 82 --quiet
	pb=$CG_BG_PID
	mz_cg_line "$a"
	mz_cg_line "$b"
	a0=$(mz_cg_field "$a" written_back)
	b0=$(mz_cg_field "$b" written_back)

	ns=$TMPDIR/ns-pattern
	printf '#!/bin/sh\nexec unshare -C -- %q "$@"\n' "$PATTERN" >"$ns"
	chmod +x "$ns"
	PATTERN=$ns hold "$c" 24M 4to1 83 --quiet
	check_ne "$(readlink "/proc/$CG_BG_PID/ns/cgroup")" \
		"$(readlink /proc/self/ns/cgroup)" \
		"the third filler's cgroup namespace, not the test's"
	mz_cg_line "$a"
	mz_cg_line "$b"
	mz_cg_line "$c"
	da=$(($(mz_cg_field "$a" written_back) - a0))
	db=$(($(mz_cg_field "$b" written_back) - b0))
	echo "written back for the third's stores: first child $da, second $db"
	check_gt $((da + db)) 500 "entries the first two gave"
	check_ge "$db" $(((da + db) / 4)) "the second child's share of them"
	check_ge "$da" $(((da + db) / 4)) "the first child's share of them"
	verify "$CG_BG_PID"
	verify "$pa"
	verify "$pb"
}

# case_cgroup_limit MODE: the store path writes back the cgroup's own
# entries at its limit (the shrinker is off). MODE is synchronous_io: with
# N stores arrive through ->submit_bio, where that writeback
# is submitted by a worker (module/writeback.c, rule 7); with Y through
# ->rw_page, where the store submits it itself.
case_cgroup_limit()
{
	local mode=$1 cg max=$((4 << 20)) bytes

	mz_swapon shrinker_enabled=N synchronous_io="$mode"
	cg=$(cg_create "limited$mode")
	echo "${cg#"$CG_MOUNT"} $max" >"$MZ_DEBUGFS/cgroup_max"
	check_eq "$(mz_cg_field "$cg" max)" "$max" "max column"
	cg_write "$cg" memory.max 24M
	hold "$cg" 64M 4to1 6 --quiet
	bytes=$(mz_cg_field "$cg" compressed_bytes)
	mz_cg_line "$cg"
	check_le "$bytes" "$max" "compressed_bytes under the limit"
	check_gt "$bytes" $((max / 2)) "compressed_bytes used up to the limit"
	check_gt "$(mz_cg_field "$cg" written_back)" 0 \
		"its own entries written back first"
	verify "$CG_BG_PID"

	# A limit below one compressed page: every compressed store is over
	# it. Its own writeback frees the compressed copies it submits
	# (writeback.c, rule 4), and the store is kept only if that made room,
	# which it cannot here: every compressed store is rejected
	# (reject_cgroup_limit and reject_reclaim_fail, both) and passes
	# through. compressed_bytes never exceeds the limit, in flight or not
	# (before rule 4, the store was kept once writeback got going, as in
	# mainline's zswap_store(), and one entry of 1033 bytes stayed).
	local tiny limit0 fail0 rejects
	limit0=$(mz_counter reject_cgroup_limit)
	fail0=$(mz_counter reject_reclaim_fail)
	tiny=$(cg_create "tiny$mode")
	echo "${tiny#"$CG_MOUNT"} 512" >"$MZ_DEBUGFS/cgroup_max"
	cg_write "$tiny" memory.max 16M
	hold "$tiny" 32M 4to1 8 --quiet
	# No more swap-outs of it, and its count standing still: the debug
	# kernel still pushed pages out after the hold and between the reads
	# below (a global count 100 and then 147 ahead of the cgroup's).
	cg_write "$tiny" memory.swap.max 0
	settled 30 mz_cg_field "$tiny" rejects >/dev/null
	mz_cg_line "$tiny"
	echo "reject_cgroup_limit +$(($(mz_counter reject_cgroup_limit) - limit0)) reject_reclaim_fail +$(($(mz_counter reject_reclaim_fail) - fail0))"
	rejects=$(mz_cg_field "$tiny" rejects)
	check_gt "$rejects" 0 "tiny's rejects"
	check_gt $((rejects + $(mz_cg_field "$tiny" written_back))) 1000 \
		"tiny's rejects + written_back"
	check_eq "$(mz_counter reject_cgroup_limit)" $((limit0 + rejects)) \
		"reject_cgroup_limit"
	check_eq "$(mz_counter reject_reclaim_fail)" $((fail0 + rejects)) \
		"reject_reclaim_fail"
	check_le "$(mz_cg_field "$tiny" compressed_bytes)" 512 \
		"tiny's compressed_bytes, writes in flight or not"
	wait_for 30 no_writes_in_flight
	mz_cg_line "$tiny"
	check_le "$(mz_cg_field "$tiny" compressed_bytes)" 512 \
		"tiny's compressed_bytes, the writes landed"
	cg_write "$tiny" memory.swap.max max
	verify "$CG_BG_PID"
}

# no_writes_in_flight: no writeback write submitted and not yet landed.
no_writes_in_flight()
{
	[ "$(mz_counter writeback_inflight)" = 0 ]
}

# dd_direct CG FILE SLOT: write FILE to /dev/mzswap0 from slot SLOT with one
# O_DIRECT write from inside CG: one bio (31 pages, under the queue's 255
# sectors, so never split), its pages charged to CG. Fails if it has not
# returned within 120 s.
dd_direct()
{
	local pid rc=0

	cg_run_bg "$1" dd if="$2" of=/dev/mzswap0 bs="$(stat -c %s "$2")" \
		count=1 seek=$(($3 * 4096)) oflag=direct,seek_bytes status=none
	pid=$CG_BG_PID
	wait_for 120 _gone "$pid"
	wait "$pid" || rc=$?
	check_eq "$rc" 0 "dd to slot $3"
}

_gone()
{
	! kill -0 "$1" 2>/dev/null
}

# One bio whose first pages, over the cgroup's limit, write back the
# cgroup's own entries, and whose later pages pass through to those same
# slots: each of those waits for the slot's bit lock, held until the
# writeback's write ends. Inside ->submit_bio a write submitted by the
# store itself would only be issued once the bio was served: it would
# wait forever (module/writeback.c, rule 7). Any mode: direct I/O always
# comes through ->submit_bio.
case_limit_same_bio()
{
	local cg base=4096 first=$TMPDIR/first second=$TMPDIR/second i wb

	# Not swapped on: the block layer refuses writes to a swap device.
	mz_attach shrinker_enabled=N
	cg=$(cg_create samebio)
	: >"$first"
	: >"$second"
	for ((i = 0; i < 31; i++)); do
		if ((i < 16)); then
			head -c 4096 < <(yes "second write, page $i") >>"$second"
		else
			head -c 4096 < <(yes "first write, page $i") >>"$first"
			head -c 4096 /dev/urandom >>"$second"
		fi
	done
	# Slots 16-30 cached, compressible, under no limit yet.
	dd_direct "$cg" "$first" $((base + 16))
	check_eq "$(mz_cg_field "$cg" stored_pages)" 15 "stored after the first write"
	# The limit is what they take: the next compressed store is over it.
	echo "${cg#"$CG_MOUNT"} $(mz_cg_field "$cg" compressed_bytes)" \
		>"$MZ_DEBUGFS/cgroup_max"
	# Slots 0-15 compressible (over the limit: the cgroup's entries of
	# slots 16-30 written back), then 16-30 incompressible (passed
	# through to the slots being written back).
	dd_direct "$cg" "$second" "$base"
	wb=$(mz_cg_field "$cg" written_back)
	echo "$(mz_cg_line "$cg"); reject_compress_poor $(mz_counter reject_compress_poor)"
	check_ge "$wb" 15 "the cgroup's written_back"
	check_ge "$(mz_counter reject_compress_poor)" 15 "reject_compress_poor"
	dd if=/dev/mzswap0 of="$TMPDIR/back" bs=$((31 * 4096)) count=1 \
		skip=$((base * 4096)) iflag=direct,skip_bytes status=none
	cmp "$second" "$TMPDIR/back" || fail "the second write did not read back"
}

case_kmem_owner()
{
	local cg stored total slab pool

	# No memory.max: kswapd and direct reclaim of the whole VM swap the
	# cgroup's pages out; entries and payloads are charged to it all the
	# same, never to root or to the reclaimer.
	mz_swapon
	cg=$(cg_create owner)
	hold "$cg" 1100M 4to1 7 --quiet
	stored=$(mz_cg_field "$cg" stored_pages)
	total=$(mz_counter stored_pages)
	slab=$(cg_read_stat "$cg" slab)
	pool=$(mz_counter pool_total_size)
	mz_cg_line "$cg"
	echo "owner stored $stored of $total; owner slab $slab, pool $pool, kswapd pswpout $(vmstat pswpout)"
	check_gt "$stored" 10000 "owner's stored_pages"
	check_ge "$stored" $((total * 3 / 4)) "owner's share of stored_pages"
	check_ge "$slab" $((pool * 3 / 4)) "owner's memory.stat slab vs pool"
	verify "$CG_BG_PID"
}

case_round_robin()
{
	local cgs=() pids=() i n=4 wb min max sum out steps ids cg

	mz_swapon shrinker_enabled=N
	for ((i = 0; i < n; i++)); do
		cgs+=("$(cg_create "rr$i")")
		cg_write "${cgs[$i]}" memory.max 16M
		hold "${cgs[$i]}" 40M 4to1 $((10 + i))
		pids+=("$CG_BG_PID")
	done

	out=$TMPDIR/worker.txt
	echo "echo 2000 >$MZ_DEBUGFS/writeback" >"$TMPDIR/wb.sh"
	bpftrace -q -e 'tracepoint:mzswap:mzswap_worker_step {
		printf("%llu %d %ld\n", args->cgroup, args->online, args->outcome);
	}' -c "/bin/sh $TMPDIR/wb.sh" >"$out"
	steps=$(wc -l <"$out")
	echo "$steps worker steps recorded"
	check_ge "$steps" 2000 "worker steps"

	# From the counters: equal cgroups written back evenly.
	min=999999; max=0; sum=0
	for cg in "${cgs[@]}"; do
		wb=$(mz_cg_field "$cg" written_back)
		echo "${cg##*/}: written_back $wb"
		sum=$((sum + wb))
		((wb < min)) && min=$wb
		((wb > max)) && max=$wb
	done
	check_eq "$(mz_counter written_back_pages)" 2000 "written back in all"
	# The root's and parents' few entries take a turn too.
	check_ge "$sum" 1990 "written back from the four"
	check_ge "$min" $((sum * 80 / (n * 100))) "least written back (-20%)"
	check_le "$max" $((sum * 120 / (n * 100))) "most written back (+20%)"

	# From the trace: between two visits of one cgroup, every other
	# cgroup with entries is visited exactly once.
	ids=()
	for cg in "${cgs[@]}"; do
		ids+=("$(mz_cg_field "$cg" id)")
	done
	awk '$3 > 0 { print $1 }' "$out" >"$TMPDIR/order.txt"
	python3 - "$TMPDIR/order.txt" "$n" "${ids[@]}" $((2000 * 8 / (10 * n))) <<-'EOF'
	import sys
	n = int(sys.argv[2])
	ids = sorted(sys.argv[3:3 + n])
	order = [l.strip() for l in open(sys.argv[1]) if l.strip() in ids]
	assert len(ids) == n, f"{len(ids)} cgroups, want {n}"
	rounds = len(order) // n
	for r in range(rounds):
	    rnd = order[r * n:(r + 1) * n]
	    assert sorted(rnd) == ids, f"round {r}: {rnd}"
	print(f"{rounds} full rounds, each cgroup once per round")
	# One entry per visit: 2000 written back over n cgroups is 2000 / n
	# rounds; zero rounds recorded would prove nothing.
	assert rounds >= int(sys.argv[3 + n]), f"only {rounds} rounds recorded"
	EOF
	for i in "${!pids[@]}"; do
		verify "${pids[$i]}"
	done
}

case_removal_under_cursor()
{
	local live=() pids=() i park wb before=() after passes0 passes1 overlap

	mz_swapon shrinker_enabled=N
	for i in 0 1 2; do
		live+=("$(cg_create "live$i")")
		cg_write "${live[$i]}" memory.max 16M
		hold "${live[$i]}" 40M 4to1 $((20 + i))
		pids+=("$CG_BG_PID")
	done
	park=$(cg_create park)

	# The worker walks the tree while cgroups with entries, which it
	# visits, are removed again and again under its cursor.
	passes0=$(mz_counter reparent_passes)
	mz_wb_loop 8 0.2 "$TMPDIR/wb.log"
	wb=$MZ_WB_PID
	for ((i = 0; i < 60; i += 6)); do
		churn_batch gone "$i" 6 4M 2M "$park"
	done
	passes1=$(mz_counter reparent_passes)
	kill "$wb"
	wait "$wb" || true
	echo "60 removed under the worker: passes $passes0 -> $passes1, fruitless $(mz_counter shrink_worker_fruitless)"
	# The worker wrote back between removals: requests that wrote back
	# after the first reparenting pass of the churn and before its last.
	overlap=$(mz_wb_overlap "$TMPDIR/wb.log" 1 "$passes0" "$passes1")
	echo "writeback: $(wc -l <"$TMPDIR/wb.log") requests, $overlap wrote back during the removals"
	check_ge "$overlap" 3 "writeback requests that wrote back during the removals"

	# It still visits every live cgroup once per round: with the removed
	# cgroups' records now in the parent, four candidates share 300.
	for i in 0 1 2; do
		before+=("$(mz_cg_field "${live[$i]}" written_back)")
		check_gt "$(mz_cg_field "${live[$i]}" stored_pages)" 300 \
			"live$i stored_pages left to write back"
	done
	echo 300 >"$MZ_DEBUGFS/writeback"
	for i in 0 1 2; do
		after=$(mz_cg_field "${live[$i]}" written_back)
		echo "live$i: written_back ${before[$i]} -> $after"
		check_ge $((after - before[i])) 60 "live$i written back after the churn"
	done
	mz_check_records
	verify_batch
	for pid in "${pids[@]}"; do
		verify "$pid"
	done

	# Nothing keeps the removed cgroups alive.
	cg_cleanup
	swap_off /dev/mzswap0
	wait_dying_zero
}

ktap_print_header
ktap_set_plan 12
ktap_case "usage: a cgroup under pressure gains stored pages in its line" case_usage
ktap_case "no invasive shrink: a cgroup at its limit writes back only its own" case_no_invasive_shrink
ktap_case "writeback disabled for a cgroup holds for its children" case_writeback_disabled
ktap_case "the per-cgroup compressed limit holds" case_cgroup_limit N
ktap_case "synchronous_io=Y: the per-cgroup compressed limit holds" case_cgroup_limit Y
ktap_case "a parent's compressed limit bounds its children together" case_cgroup_limit_tree
ktap_case "children removed under a limit's cursor: its stores still make room" case_limit_cursor_removal
ktap_case "a store in a container's cgroup namespace: the limit's round robin resumes" case_limit_cgroupns
ktap_case "a bio over its cgroup's limit rewrites the slots it writes back" case_limit_same_bio
ktap_case "no kmem bypass: global reclaim charges the owner" case_kmem_owner
ktap_case "round-robin: equal cgroups written back evenly, once per round" case_round_robin
ktap_case "cgroups removed under the worker's cursor: it keeps visiting the live" case_removal_under_cursor
ktap_finished
