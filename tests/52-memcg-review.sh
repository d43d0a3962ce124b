#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The per-cgroup state against what a user can do to the cgroup tree
# (issue 13, section 2, items 1, 2, 4 and 5):
#
#   - a cgroup chain as deep as a user likes (cgroup.max.depth is "max",
#     and systemd delegates the memory controller to user sessions):
#     swapping from the bottom, tearing the chain down and unloading with
#     the deep state present, as root and as an unprivileged user;
#   - sweeps hammered while new cgroups store, with the sweep_race fault
#     point widening the window: no live cgroup loses its limit, its
#     writeback switch or its records;
#   - reparent_period_ms changed at runtime, from 0 and from a long
#     period, after a memory controller was removed through the parent's
#     cgroup.subtree_control (no rmdir, no probe): the records move, and
#     the worker's cursor keeps nothing dying;
#   - 1,000 dying memcgs in the round-robin worker's path.
#
# vm: mem=1G cpus=2 disks=backing:1G timeout=900
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"

PARAMS=/sys/module/mzswap/parameters
DEPTH=${MZ_DEPTH:-400}
NOBODY=65534

# The deep workload, run by bash -c as root or as the delegated user, in
# the cgroup DIR it may use: leave DIR for DIR/init (a cgroup with
# processes cannot enable controllers), build DIR/d/d/... DEPTH levels deep
# with the memory controller on at every level, move to the bottom, limit
# it to 16M and fill 48M there, creating READY when filled. Every filler
# runs with --thp off: a huge page khugepaged collapses in a small cgroup
# can be charged past its limit and OOM-kill the filler (tests/40-memcg).
# shellcheck disable=SC2016 # expanded by the inner bash
DEEP_SCRIPT='
set -eu
dir=$1 depth=$2 ready=$3 pattern=$4
cd "$dir"
mkdir init
echo $$ >init/cgroup.procs
echo +memory >cgroup.subtree_control
p=d
for ((i = 1; i < depth; i++)); do
	p+=/d
done
mkdir -p "$p"
for ((i = 1; i < depth; i++)); do
	cd d
	echo +memory >cgroup.subtree_control
done
cd d
echo $$ >cgroup.procs
echo 16M >memory.max
exec "$pattern" --size 48M --kind 4to1 --seed 7 --ready "$ready" \
	--hold 0 --verify --quiet --thp off
'

# deep_path DIR: DIR/d/d/... DEPTH levels down.
deep_path()
{
	local p=$1 i

	for ((i = 0; i < DEPTH; i++)); do
		p+=/d
	done
	echo "$p"
}

# deep_teardown DIR: remove the chain under DIR, deepest first (the lib's
# cg_destroy recurses once per level, with a program per level).
deep_teardown()
{
	local p

	p=$(deep_path "$1")
	while [ "$p" != "$1" ]; do
		rmdir "$p"
		p=${p%/d}
	done
	rmdir "$1/init"
}

# deep_run DIR USER READY: start the deep workload in DIR as USER (root or
# a uid), wait until it has filled; its PID in CG_BG_PID.
deep_run()
{
	local dir=$1 user=$2 ready=$3 cmd=(bash -c "$DEEP_SCRIPT" deep)

	if [ "$user" != root ]; then
		cmd=(setpriv --reuid="$user" --regid="$user" --clear-groups
		     -- "${cmd[@]}")
	fi
	cg_run_bg "$dir" "${cmd[@]}" "$dir" "$DEPTH" "$ready" "$PATTERN"
	wait_for 600 _ready_or_dead "$ready" "$CG_BG_PID"
	[ -e "$ready" ] || fail "the deep workload died before it filled"
	# Page cache charged to the bottom cgroup would keep it dying.
	rm -f "$ready"
}

# deep_check DIR: the bottom of the chain owns records; the check is clean.
deep_check()
{
	local leaf stored

	leaf=$(deep_path "$1")
	stored=$(mz_cg_field "$leaf" stored_pages)
	echo "depth $DEPTH: the bottom cgroup's stored_pages $stored, pool stored_pages $(mz_counter stored_pages)"
	check_gt "$stored" 1000 "stored_pages $DEPTH levels down"
	mz_check_records
}

# As root, under a compressed limit on the chain's top (cgroup_max): the
# bottom's stores over it make room in the limit's subtree, whose entries
# are all DEPTH levels down. A store that looked at no more memcgs than
# the 8 it may ask (mutant 16) passed through instead, but one in every
# DEPTH / 8: 4,213 stores found no room, and 1,344 entries were written
# back, at depth 400 (now: none, and 5,552).
case_deep_root()
{
	local dir pid leaf max=$((4 << 20)) fail0 fail wb

	mz_swapon shrinker_enabled=N
	klog_mark
	dir=$(cg_create deep)
	echo "${dir#"$CG_MOUNT"} $max" >"$MZ_DEBUGFS/cgroup_max"
	fail0=$(mz_counter reject_reclaim_fail)
	deep_run "$dir" root "$TMPDIR/ready.deep"
	pid=$CG_BG_PID
	deep_check "$dir"
	leaf=$(deep_path "$dir")
	fail=$(($(mz_counter reject_reclaim_fail) - fail0))
	wb=$(mz_cg_field "$leaf" written_back)
	echo "the top's limit: subtree_bytes $(mz_cg_field "$dir" subtree_bytes), the bottom's written_back $wb, reject_reclaim_fail +$fail"
	check_le "$(mz_cg_field "$dir" subtree_bytes)" $((max + 2 * 4096)) \
		"the top's subtree_bytes"
	check_gt "$wb" 1000 "the bottom's entries written back for its limit"
	check_le "$fail" $((wb / 16)) \
		"stores over the limit that found no room (reject_reclaim_fail)"
	verify "$pid"
	# Unload with the whole chain's state present: its last references
	# go at exit.
	swap_off /dev/mzswap0
	mz_unload
	deep_teardown "$dir"
	klog_check_since_mark
}

case_deep_delegated()
{
	local dir home pid f

	mz_swapon shrinker_enabled=N
	klog_mark
	dir=$(cg_create user)
	# Delegated as systemd delegates user@.service.
	for f in "" /cgroup.procs /cgroup.subtree_control /cgroup.threads; do
		chown "$NOBODY:$NOBODY" "$dir$f"
	done
	home=$TMPDIR/nobody
	mkdir -p "$home"
	chown "$NOBODY:$NOBODY" "$home"
	deep_run "$dir" "$NOBODY" "$home/ready"
	pid=$CG_BG_PID
	[ "$(stat -c %u "$(deep_path "$dir")")" = "$NOBODY" ] ||
		fail "the chain was not built by uid $NOBODY"
	deep_check "$dir"
	verify "$pid"
	# Tear the chain down with the module loaded (a probe and a pass per
	# level), then unload.
	cg_wait_empty "$dir"
	deep_teardown "$dir"
	echo 1 >"$MZ_DEBUGFS/reparent"
	mz_check_records
	swap_off /dev/mzswap0
	mz_unload
	klog_check_since_mark
}

# stop_bg PID: kill a background loop and reap it, quietly if it is gone.
stop_bg()
{
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# sweep_race_hammer: sweeps back to back until killed.
sweep_race_hammer()
{
	while :; do
		echo 1 >"$MZ_DEBUGFS/reparent"
	done
}

case_sweep_race()
{
	local par cg i hammer pids=() n=8 f=$MZ_DEBUGFS/faults/sweep_race

	mz_swapon shrinker_enabled=N
	par=$(cg_create race)
	echo -1 >"$f/times"
	sweep_race_hammer &
	hammer=$!
	at_exit stop_bg "$hammer"
	for ((i = 0; i < n; i++)); do
		cg=$(cg_create "race/c$i")
		# Nothing writes back here (shrinker off; writeback off on the
		# even ones), and the pool is charged to the cgroup: 12M of 4:1
		# is over 3 MB of it, more with KASAN's redzones (at 4M the
		# debug kernel OOM-killed c0 holding 4.1 MB of slab).
		cg_write "$cg" memory.max 8M
		# Even ones: state created by the knobs, before any store.
		if ((i % 2 == 0)); then
			echo "${cg#"$CG_MOUNT"} $((64 << 20))" >"$MZ_DEBUGFS/cgroup_max"
			echo "${cg#"$CG_MOUNT"} 0" >"$MZ_DEBUGFS/cgroup_writeback"
		fi
		hold "$cg" 12M 4to1 $((20 + i)) --quiet --thp off
		pids+=("$CG_BG_PID")
	done
	stop_bg "$hammer"
	echo 0 >"$f/times"
	echo "sweep_race injected $(<"$f/injected"), reparent_passes $(mz_counter reparent_passes)"
	check_gt "$(<"$f/injected")" "$n" "sweep_race delays injected"
	for ((i = 0; i < n; i++)); do
		cg=$(cg_path "race/c$i")
		echo "c$i: $(mz_cg_line "$cg")"
		check_gt "$(mz_cg_field "$cg" stored_pages)" 1000 "c$i's stored_pages"
		if ((i % 2 == 0)); then
			check_eq "$(mz_cg_field "$cg" max)" $((64 << 20)) "c$i's max"
			check_eq "$(mz_cg_field "$cg" writeback)" 0 "c$i's writeback"
		fi
	done
	# Nothing stores in the parent itself: it has records only if a
	# live child's were moved there.
	check_eq "$(mz_cg_field "$par" stored_pages)" 0 "the parent's stored_pages"
	mz_check_records
	for i in "${pids[@]}"; do
		verify "$i"
	done
}

# subtree_kill PERIOD_AT_LOAD: a cgroup's memory controller removed
# through its parent's cgroup.subtree_control while the worker's cursor is
# on it, then reparent_period_ms set to 200 at runtime: its records must
# reach the parent, and once both cgroups are gone nothing may stay dying.
subtree_kill()
{
	local p x stored pid wb

	mz_swapon shrinker_enabled=N reparent_period_ms="$1"
	p=$(cg_create sub)
	x=$(cg_create sub/x)
	cg_write "$x" memory.max 16M
	hold "$x" 40M 4to1 3 --quiet --thp off
	pid=$CG_BG_PID
	# One writeback: the round-robin cursor stops on the only cgroup with
	# entries, x.
	wb=$(mz_cg_field "$x" written_back)
	echo 1 >"$MZ_DEBUGFS/writeback"
	check_gt "$(mz_cg_field "$x" written_back)" "$wb" "x's written_back (cursor on x)"
	stored=$(mz_cg_field "$x" stored_pages)
	check_gt "$stored" 1000 "x's stored_pages"

	echo -memory >"$p/cgroup.subtree_control"
	nap 1
	echo 200 >"$PARAMS/reparent_period_ms"
	# A pass moves them; the owner may swap a few pages in meanwhile.
	wait_for 20 _records_in "$p" $((stored - 64))
	echo "after the period change: $(mz_cg_line "$p")"
	mz_check_records
	verify "$pid"
	cg_wait_empty "$x"
	rmdir "$x" "$p"
	swap_off /dev/mzswap0
	wait_dying_zero
}

# _records_in CG N: CG owns at least N records.
_records_in()
{
	[ "$(mz_cg_field "$1" stored_pages)" -ge "$2" ]
}

case_period_from_zero()
{
	subtree_kill 0
}

case_period_from_long()
{
	subtree_kill 3600000
}

case_dying_1000()
{
	local dy live shm park i wb runs hammer thresh n=1000

	mz_swapon max_pool_percent=1
	klog_mark
	thresh=$(</proc/sys/kernel/watchdog_thresh)
	at_exit sysctl -q kernel.watchdog_thresh="$thresh"
	# A soft lockup after 6 s instead of 20 s.
	sysctl -q kernel.watchdog_thresh=3

	# dy's children die first in pre-order, live comes after them: every
	# walk of the cursor passes the dying ones.
	dy=$(cg_create dy)
	cg_write "$dy" cgroup.subtree_control +memory
	live=$(cg_create live)
	park=$(cg_create park)
	shm=$TMPDIR/shm
	mkdir -p "$shm"
	mount -t tmpfs mzt-dying "$shm"
	at_exit umount -q "$shm"
	(
		cd "$dy"
		# shellcheck disable=SC2046 # one mkdir for all
		mkdir $(seq -f c%g 0 $((n - 1)))
	)
	# One process charges a page of page cache to each, then leaves.
	(
		for ((i = 0; i < n; i++)); do
			echo "$BASHPID" >"$dy/c$i/cgroup.procs"
			echo "$i" >"$shm/f$i"
		done
		echo "$BASHPID" >"$park/cgroup.procs"
	)
	(cd "$dy" && rmdir c[0-9]*)
	echo "dying under dy: $(cg_read_key "$dy" cgroup.stat nr_dying_descendants)"
	check_ge "$(cg_read_key "$dy" cgroup.stat nr_dying_descendants)" "$n" \
		"dying memcgs under dy"

	cg_write "$live" memory.max 16M
	wb=$(mz_counter written_back_pages)
	runs=$(mz_counter shrink_worker_runs)
	( while :; do echo 64 >"$MZ_DEBUGFS/writeback"; nap 0.05; done ) &
	hammer=$!
	at_exit stop_bg "$hammer"
	hold "$live" 48M 2to1 5 --quiet --thp off
	stop_bg "$hammer"
	echo "live: $(mz_cg_line "$live"); worker runs $(($(mz_counter shrink_worker_runs) - runs))"
	check_gt "$(mz_counter written_back_pages)" "$wb" "written_back_pages"
	check_gt "$(mz_cg_field "$live" written_back)" 0 "live's written_back past $n dying"
	verify "$CG_BG_PID"
	mz_check_records
	klog_check_since_mark

	umount "$shm"
	echo 3 >/proc/sys/vm/drop_caches
	wait_for 60 _no_dying "$dy"
}

# _no_dying CG: nothing dying below CG.
_no_dying()
{
	echo 3 >/proc/sys/vm/drop_caches
	[ "$(cg_read_key "$1" cgroup.stat nr_dying_descendants)" = 0 ]
}

ktap_print_header
ktap_set_plan 6
ktap_case "$DEPTH levels deep as root: swap, unload with the state, tear down" case_deep_root
ktap_case "$DEPTH levels deep as uid $NOBODY in a delegated subtree" case_deep_delegated
ktap_case "sweeps hammered while new cgroups store: nothing live reparented" case_sweep_race
ktap_case "reparent_period_ms 0 -> 200 after a subtree_control kill" case_period_from_zero
ktap_case "reparent_period_ms 3600000 -> 200 after a subtree_control kill" case_period_from_long
ktap_case "1,000 dying memcgs in the worker's path" case_dying_1000
ktap_finished
