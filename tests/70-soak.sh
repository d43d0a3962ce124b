#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Soak (issue 7): for MZ_SOAK_SECONDS (150 in "make check"; "make soak"
# runs 1800, SOAK_SECONDS=N to choose), everything at once, each activity a
# background loop that counts its iterations and failures until a shared
# stop file appears:
#
#   press0, press1  pattern runs (store, load, rewrite, verify) in cgroups
#                   under memory.max
#   churn           batches of cgroups created, filled under memory.max,
#                   their owners parked, the cgroups removed; owners verify
#   knobs           compressor, enabled, pool limit, same-filled, shrinker,
#                   acceptance threshold, hold share, sweep period,
#                   per-cgroup limit and writeback switch flipped; limits
#                   set and lifted on the churn's and the holders'
#                   parents, whose children are removed under the
#                   limits' cursors
#   writeback       writeback and reparenting requested
#   faults          store-side and backing-write faults injected
#   swapcycle       swapoff and swapon, pool empty in between
#
# while holders keep patterns swapped out through all of it (two of them
# lose their cgroup early on: their records are reparented). Then, as
# separate cases: every activity made progress and none failed, every page
# verified, stored_pages equals the sum over the per-cgroup table, the
# consistency check is clean, the pool is empty after swapoff, no removed
# cgroup stays dying, the module unloads and the kernel log is clean.
#
# vm: mem=1G cpus=2 disks=backing:2G timeout=600
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"
. "$(dirname "$0")/lib/writers.sh"

if [ -n "${MZ_SOAK:-}" ]; then
	SOAK_SECS=${MZ_SOAK_SECONDS:-1800}
else
	SOAK_SECS=${MZ_SOAK_SECONDS:-150}
fi
PARAMS=/sys/module/mzswap/parameters
FAULTS=$MZ_DEBUGFS/faults
STOP=$TMPDIR/soak.stop
# The swap cycle holds it exclusively, the churn shared per batch: no
# cgroup is being filled under its memory.max while there is no swap.
GATE=$TMPDIR/soak.gate
RES=$TMPDIR/soak.res
# Limited cgroups that stay: "CGROUP LIMIT" per line; the swap cycle lifts
# their limits while swapped off (swapoff charges every page it reads back
# to its cgroup, and a cgroup at its limit without swap is OOM-killed).
LIMITS=$TMPDIR/soak.limits
ACTIVITIES=(press0 press1 churn knobs writeback faults swapcycle)
NR_HOLDERS=4
# Holders whose cgroups are removed during the soak.
NR_ORPHANS=2

say()
{
	echo "# soak: $*"
}

stopped()
{
	[ -e "$STOP" ]
}

# pause SECONDS: sleep, but wake up soon after the stop file appears.
pause()
{
	local i

	for ((i = 0; i < $1 * 5; i++)); do
		! stopped || return 0
		nap 0.2
	done
}

# tally NAME ITERS FAILS: an activity's result, read by case_progress.
tally()
{
	echo "$2 $3" >"$RES/tally.$1"
	say "$1: $2 iterations, $3 failed"
}

_press()
{
	local name=$1 cg=$2 seed=$3 iters=0 fails=0 out

	while ! stopped; do
		if ! out=$(cg_run_in "$cg" "$PATTERN" --size 32M --kind 2to1 \
			   --seed $((seed + iters)) --passes 2 --rewrite 20 \
			   --quiet 2>&1); then
			fails=$((fails + 1))
			say "$name: run $iters failed: $out"
			say "$name: memory.events $(tr '\n' ' ' <"$cg/memory.events")"
		fi
		iters=$((iters + 1))
	done
	tally "$name" "$iters" "$fails"
}

# churn_clear: after a failed batch, kill what it left in its limited
# cgroups and remove them: one failure, counted, must not make every
# later swap cycle fail too (its owners' pages held in 4M each).
churn_clear()
{
	local cg

	for cg in "$(cg_path churn)"/c*/; do
		[ -d "$cg" ] || continue
		(cg_destroy "${cg%/}") >/dev/null 2>&1 ||
			say "churn: cannot remove ${cg%/} after a failed batch"
	done
}

_churn()
{
	local park=$1 iters=0 fails=0 lock err=$RES/churn.err

	exec {lock}>"$GATE"
	while ! stopped; do
		flock -s "$lock"
		# A subshell: a failure ends the batch, not the loop. Its owners
		# write only on a mismatch (--quiet), and not into a pipe that a
		# failed batch's leftover owners would keep open. Owners in 2M,
		# then in 4M, were OOM-killed with nearly every page in the
		# swap cache under writeback (1009 of 1024: pass-through
		# writes in flight, which 6.1's cgroup v2 reclaim does not wait
		# for); passthrough_inflight_percent now bounds them
		# (tests/37-passthrough-inflight). A killed batch's other
		# owners, left in their small cgroups, failed every swap cycle
		# after it: churn_clear.
		if ! (churn_batch churn/c $((10000 + iters * 4)) 4 8M 4M "$park"
		      verify_batch) >"$err" 2>&1; then
			fails=$((fails + 1))
			say "churn: batch $iters failed: $(<"$err")"
			churn_clear
		fi
		flock -u "$lock"
		iters=$((iters + 1))
	done
	exec {lock}>&-
	tally churn "$iters" "$fails"
}

# One knob change per step, every value valid: each write must succeed.
# The shrinker is off only while the pool limit is 1%, and p1's writeback
# only while its compressed limit is 1 MiB: compressed pages are charged
# to their cgroup, so a cgroup whose compressed data outgrows its
# memory.max with no way to write it back is OOM-killed, by design (as
# with zswap's memory.zswap.writeback=0). With a small pool or compressed
# limit, further stores are refused and pass through instead. Every
# cgroup is cached (min_hit_percent 0) from a few steps before the pool
# limit drops to 1% until it is lifted, and admitted by the loaded
# min_hit_percent the rest of the time: the writeback activity makes
# every cgroup look cold (its entries written back, not loaded), and a
# CI run at the default saw the pool never reach 1% (pool_limit_hit 0).
# For half of the admitted time hold_percent is 0: every cgroup here is
# under a memory.max, so with a share to hold, a cold cgroup's store is
# refused (reject_low_hits) only while it is unsettled or its hold stale;
# on the debug kernel, where cgroups sit over their memory.max for long
# (cold_over_limit: cached), 2 soaks in 3 saw no refusal at all. With no
# share, each cold store not over its memory.max is min_hit_percent's.
_knobs()
{
	local p1=$1 churn=$2 holders=$3 iters=0 fails=0 spec
	local comps=(lz4 zstd lzo lzo-rle)
	local hits hold

	# The loaded values (the defaults, unless MZ_LOAD_PARAMS says).
	hits=$(<"$PARAMS/min_hit_percent")
	hold=$(<"$PARAMS/hold_percent")
	local steps=(
		"$PARAMS/enabled N"
		"$PARAMS/enabled Y"
		"$PARAMS/max_pool_percent 1"
		"$PARAMS/shrinker_enabled N"
		"$PARAMS/same_filled_pages_enabled N"
		"$PARAMS/accept_threshold_percent 60"
		"$PARAMS/shrinker_enabled Y"
		"$PARAMS/max_pool_percent 10"
		"$PARAMS/min_hit_percent $hits"
		"$MZ_DEBUGFS/cgroup_max $p1 1048576"
		"$MZ_DEBUGFS/cgroup_max $churn 2097152"
		"$MZ_DEBUGFS/cgroup_writeback $p1 0"
		"$MZ_DEBUGFS/cgroup_max $holders 8388608"
		"$PARAMS/reparent_period_ms 100"
		"$PARAMS/hold_percent 0"
		"$PARAMS/same_filled_pages_enabled Y"
		"$MZ_DEBUGFS/cgroup_writeback $p1 1"
		"$MZ_DEBUGFS/cgroup_max $p1 max"
		"$MZ_DEBUGFS/cgroup_max $churn max"
		"$MZ_DEBUGFS/cgroup_max $holders max"
		"$PARAMS/hold_percent $hold"
		"$PARAMS/min_hit_percent 0"
		"$PARAMS/max_pool_percent 5"
		"$PARAMS/accept_threshold_percent 90"
		"$PARAMS/reparent_period_ms 1000"
	)

	while ! stopped; do
		spec=${steps[$((iters % ${#steps[@]}))]}
		write_expect "${spec%% *}" "${spec#* }" ok || fails=$((fails + 1))
		if ((iters % 3 == 0)); then
			write_expect "$PARAMS/compressor" \
				"${comps[$((iters / 3 % 4))]}" ok ||
				fails=$((fails + 1))
		fi
		iters=$((iters + 1))
		nap 0.4
	done
	tally knobs "$iters" "$fails"
}

_writeback()
{
	local iters=0 fails=0

	while ! stopped; do
		write_expect "$MZ_DEBUGFS/writeback" 32 ok || fails=$((fails + 1))
		if ((iters % 10 == 0)); then
			write_expect "$MZ_DEBUGFS/reparent" 1 ok ||
				fails=$((fails + 1))
		fi
		iters=$((iters + 1))
		nap 0.2
	done
	tally writeback "$iters" "$fails"
}

# Only faults whose documented outcome loses nothing (docs/admin-guide.md, "Fault
# injection"): a failed entry_alloc, pool_alloc or compress passes the
# store through to the backing device; a failed backing_write keeps the
# entry (writeback) or keeps the page dirty in memory (pass-through). A
# decompress or backing_read failure fails the load with EIO by design:
# the owner would get SIGBUS and "every page verified" would no longer be
# an invariant, so those two are left to tests/60-faults.sh.
_faults()
{
	local iters=0 fails=0 lock point points=(entry_alloc pool_alloc compress backing_write)

	# Armed only while holding the gate shared: a swap cycle's mkswap
	# writes the swap header through to the backing device, and an
	# injected backing_write failure there fails mkswap, as it should.
	exec {lock}>"$GATE"
	while ! stopped; do
		point=${points[$((iters % ${#points[@]}))]}
		flock -s "$lock"
		write_expect "$FAULTS/$point/probability" 30 ok &&
			write_expect "$FAULTS/$point/interval" 1 ok &&
			write_expect "$FAULTS/$point/times" 10 ok ||
			fails=$((fails + 1))
		iters=$((iters + 1))
		pause 1
		write_expect "$FAULTS/$point/times" 0 ok ||
			fails=$((fails + 1))
		flock -u "$lock"
		# Let a waiting swap cycle take the gate.
		sleep 0.2
	done
	exec {lock}>&-
	for point in "${points[@]}"; do
		echo 0 >"$FAULTS/$point/times"
	done
	tally faults "$iters" "$fails"
}

# set_limits max|saved: lift the limits of $LIMITS, or put them back.
set_limits()
{
	local cg limit

	while read -r cg limit; do
		[ "$1" != max ] || limit=max
		# A holder's cgroup may be removed meanwhile.
		echo "$limit" 2>/dev/null >"$cg/memory.max" || [ ! -d "$cg" ] ||
			return 1
	done <"$LIMITS"
}

# swap_cycle: every page back in memory (limits lifted), the device off
# and on again, the limits back; says what went wrong, fails if anything did.
swap_cycle()
{
	local stored pool rc=0

	if ! set_limits max || ! swapoff /dev/mzswap0; then
		say "swapcycle: swapoff failed"
		rc=1
	fi
	stored=$(mz_counter stored_pages)
	pool=$(mz_counter pool_total_size)
	if [ "$stored" != 0 ] || [ "$pool" != 0 ]; then
		say "swapcycle: swapped off, stored_pages $stored pool_total_size $pool"
		rc=1
	fi
	# mkswap warns that it wipes the old signature: it does.
	if ! mkswap /dev/mzswap0 >"$RES/mkswap.out" 2>&1 ||
	   ! swapon /dev/mzswap0 ||
	   ! set_limits saved; then
		say "swapcycle: swapon failed: $(tail -n 1 "$RES/mkswap.out")"
		rc=1
	fi
	return $rc
}

_swapcycle()
{
	local period=$1 iters=0 fails=0 lock

	exec {lock}>"$GATE"
	while ! stopped; do
		pause "$period"
		! stopped || break
		flock -x "$lock"
		swap_cycle || fails=$((fails + 1))
		flock -u "$lock"
		iters=$((iters + 1))
	done
	exec {lock}>&-
	tally swapcycle "$iters" "$fails"
}

# soak_run: the soak itself, in the test's own shell (the holders must be
# its children to verify them at the end). Whatever happens is recorded
# under $RES for the cases below; nothing here ends the test.
soak_run()
{
	local park press0 press1 churn holders_parent i cg pid pids=() holders=()
	local rc line sum
	local stored tries

	mkdir -p "$RES"
	klog_mark
	mz_swapon max_pool_percent=5
	# Stop the activities whatever ends this shell (before mz_teardown).
	at_exit touch "$STOP"
	park=$(cg_create park)
	press0=$(cg_create press/p0)
	press1=$(cg_create press/p1)
	# Parents whose limits the knobs set and lift: their children are
	# removed under the limits' cursors (the churn's all, a few holders).
	churn=$(cg_create churn)
	holders_parent=$(cg_create hold)
	: >"$LIMITS"
	for cg in "$press0" "$press1"; do
		cg_write "$cg" memory.max 16M
		echo "$cg 16M" >>"$LIMITS"
	done
	for ((i = 0; i < NR_HOLDERS; i++)); do
		cg=$(cg_create "hold/h$i")
		cg_write "$cg" memory.max 12M
		echo "$cg 12M" >>"$LIMITS"
	done
	rm -f "$STOP"
	say "${SOAK_SECS}s of: ${ACTIVITIES[*]}"

	_press press0 "$press0" 100000 & pids+=($!)
	_press press1 "$press1" 200000 & pids+=($!)
	_churn "$park" & pids+=($!)
	_knobs "${press1#"$CG_MOUNT"}" "${churn#"$CG_MOUNT"}" \
		"${holders_parent#"$CG_MOUNT"}" & pids+=($!)
	_writeback & pids+=($!)
	_faults & pids+=($!)
	i=$((SOAK_SECS / 5))
	_swapcycle $((i < 20 ? 20 : i > 60 ? 60 : i)) & pids+=($!)
	local deadline=$((SECONDS + SOAK_SECS))

	# The holders fill while all that runs; some lose their cgroup.
	for ((i = 0; i < NR_HOLDERS; i++)); do
		hold "hold/h$i" 24M 4to1 $((1000 + i)) --quiet
		holders+=("$CG_BG_PID")
	done
	for ((i = 0; i < NR_ORPHANS; i++)); do
		cg=$(cg_path "hold/h$i")
		grep -v "^$cg " "$LIMITS" >"$LIMITS.new"
		mv "$LIMITS.new" "$LIMITS"
		echo "${holders[$i]}" >"$park/cgroup.procs"
		rmdir "$cg"
	done
	say "holders filled, $NR_ORPHANS of them in removed cgroups"

	while [ "$SECONDS" -lt "$deadline" ]; do
		nap 1
	done
	touch "$STOP"
	say "stopping"
	for pid in "${pids[@]}"; do
		wait "$pid" || say "activity $pid exited with $?"
	done

	# Quiet now: no knob, fault or cgroup changes; the holders sleep.
	# Back to the defaults, and the live holders squeezed, so that the
	# cache holds their pages, recorded in their cgroups, for the sum.
	# The writeback activity may have sent every page they had in the
	# cache to the backing device: one more swap cycle brings those
	# pages into memory, and the squeeze stores them again.
	echo Y >"$PARAMS/enabled"
	echo 20 >"$PARAMS/max_pool_percent"
	echo Y >"$PARAMS/shrinker_enabled"
	echo "${press1#"$CG_MOUNT"} max" >"$MZ_DEBUGFS/cgroup_max"
	echo "${press1#"$CG_MOUNT"} 1" >"$MZ_DEBUGFS/cgroup_writeback"
	swap_cycle || echo "quiet swap cycle" >>"$RES/quiet.fail"
	for ((i = NR_ORPHANS; i < NR_HOLDERS; i++)); do
		cg_write "hold/h$i" memory.max 8M
	done
	echo 1 >"$MZ_DEBUGFS/reparent"
	cp "$MZ_DEBUGFS/cgroups" "$RES/cgroups"
	for ((tries = 0; tries < 20; tries++)); do
		# Reclaim may still store a page between the two reads.
		cp "$MZ_DEBUGFS/cgroups" "$RES/cgroups"
		stored=$(mz_counter stored_pages)
		sum=0
		while read -r line; do
			[[ $line != "#"* ]] || continue
			read -r _ _ _ i _ <<<"$line"
			sum=$((sum + i))
		done <"$RES/cgroups"
		[ "$sum" != "$stored" ] || break
		nap 0.5
	done
	echo "$stored $sum" >"$RES/sum"
	cat "$MZ_DEBUGFS/check" >"$RES/check"
	mz_counters >"$RES/counters"
	for i in entry_alloc pool_alloc compress backing_write; do
		echo "$i $(<"$FAULTS/$i/injected")"
	done >"$RES/injected"

	# Every holder reads back every page.
	for ((i = 0; i < NR_HOLDERS; i++)); do
		verify_rc "${holders[$i]}"
		echo "h$i $VERIFY_RC" >>"$RES/holders"
	done
}

# tally_of NAME: "ITERS FAILS" of an activity, or fail if it left none.
tally_of()
{
	[ -s "$RES/tally.$1" ] || fail "$1 left no tally: it died"
	echo "$(<"$RES/tally.$1")"
}

case_progress()
{
	local name iters fails injected=0 n

	for name in "${ACTIVITIES[@]}"; do
		read -r iters fails <<<"$(tally_of "$name")"
		echo "$name: $iters iterations, $fails failed"
		check_gt "$iters" 0 "$name iterations"
	done
	while read -r name n; do
		echo "faults/$name/injected $n"
		injected=$((injected + n))
	done <"$RES/injected"
	check_gt "$injected" 0 "faults injected"
	while read -r name n; do
		case $name in
		stores|loads|written_back_pages|reparent_records|invalidations|\
		reject_disabled|pool_limit_hit|shrink_worker_runs|\
		reject_low_hits|duplicate_entry|reject_compress_fail|\
		writeback_fail|passthrough_throttled|\
		passthrough_throttle_timeouts)
			echo "$name $n" ;;
		esac
	done <"$RES/counters"
	# What the activities are there to cause happened.
	for name in written_back_pages reparent_records pool_limit_hit \
		    shrink_worker_runs reject_disabled reject_low_hits; do
		check_gt "$(grep -m1 "^$name " "$RES/counters" | cut -d' ' -f2)" 0 \
			"$name"
	done
}

case_verified()
{
	local name iters fails h rc bad=0

	for name in press0 press1 churn; do
		read -r iters fails <<<"$(tally_of "$name")"
		echo "$name: $iters runs, $fails failed"
		[ "$fails" = 0 ] || bad=1
	done
	check_eq "$(wc -l <"$RES/holders")" "$NR_HOLDERS" "holders verified"
	while read -r h rc; do
		echo "holder $h: exit $rc"
		[ "$rc" = 0 ] || bad=1
	done <"$RES/holders"
	check_eq "$bad" 0 "runs and holders that failed"
}

case_steps()
{
	local name iters fails bad=0

	for name in knobs writeback faults swapcycle; do
		read -r iters fails <<<"$(tally_of "$name")"
		echo "$name: $iters steps, $fails failed"
		[ "$fails" = 0 ] || bad=1
	done
	if [ -s "$RES/quiet.fail" ]; then
		echo "after the soak: $(<"$RES/quiet.fail") failed"
		bad=1
	fi
	check_eq "$bad" 0 "activities with failed steps"
}

case_sum()
{
	local stored sum

	read -r stored sum <"$RES/sum"
	# The header and the lines that own pages.
	awk 'NR == 1 || $4 != 0' "$RES/cgroups" | head -n 20
	echo "stored_pages $stored, sum over the table $sum"
	check_gt "$stored" 500 "stored_pages (the squeezed holders' pages)"
	check_eq "$sum" "$stored" "sum of the table's stored_pages"
}

case_check()
{
	local last

	last=$(tail -n1 "$RES/check")
	echo "at the end of the soak: $last"
	[[ $last == *" problems 0" ]] || fail "check: $(<"$RES/check")"
	mz_check_records
}

case_swapoff()
{
	cg_cleanup
	swap_off /dev/mzswap0
	check_eq "$(mz_counter stored_pages)" 0 "stored_pages after swapoff"
	check_eq "$(mz_counter pool_total_size)" 0 "pool_total_size after swapoff"
	mz_check_records
}

case_dying()
{
	wait_dying_zero
}

case_unload()
{
	mz_unload
	klog_check_since_mark
}

ktap_print_header
ktap_set_plan 8
soak_run
ktap_case "every activity made progress (${SOAK_SECS}s soak)" case_progress
ktap_case "every page verified: holders, pressure runs, churned owners" case_verified
ktap_case "every knob, writeback, fault and swap-cycle step succeeded" case_steps
ktap_case "stored_pages equals the sum over the per-cgroup table" case_sum
ktap_case "the consistency check is clean" case_check
ktap_case "the pool is empty after swapoff" case_swapoff
ktap_case "no removed cgroup stays dying" case_dying
ktap_case "the module unloads, the kernel log is clean" case_unload
ktap_finished
