# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Workloads for the test files: the pattern program held in a cgroup, and
# cgroup churn for the removal tests. Sourced, never run; needs cgroup.sh.
#
#   hold CG SIZE KIND SEED [PATTERN ARGS...]
#                         fill SIZE of KIND in CG and hold it; its PID in
#                         CG_BG_PID; fails if the program dies first
#   verify PID            let a held program verify; fail on any mismatch
#   verify_rc PID         the same, its exit status left in VERIFY_RC
#   churn_batch PREFIX FIRST N SIZE LIMIT PARK [nested]
#   verify_batch          verify the owners churn_batch left
#   dying                 the root's nr_dying_descendants
#   stock_flush           charge from a live cgroup on every CPU
#   wait_dying_zero       swapoff done: flush the kernel's holders, wait
#                         for 0 (30 s)

PATTERN=${PATTERN:-$MZ_REPO/tests/pattern}

_ready_or_dead()
{
	[ -e "$1" ] || ! kill -0 "$2" 2>/dev/null
}

hold()
{
	local cg=$1 size=$2 kind=$3 seed=$4 ready

	shift 4
	ready=$TMPDIR/ready.$seed
	rm -f "$ready"
	cg_run_bg "$cg" "$PATTERN" --size "$size" --kind "$kind" --seed "$seed" \
		--ready "$ready" --hold 0 --verify "$@"
	wait_for 300 _ready_or_dead "$ready" "$CG_BG_PID"
	if [ ! -e "$ready" ]; then
		echo "memory.events: $(tr '\n' ' ' <"$(cg_path "$cg")/memory.events")"
		fail "the pattern in $cg died before it filled $size"
	fi
	# A file the owner created is charged to its cgroup (a tmpfs inode)
	# and would keep the cgroup dying once removed.
	rm -f "$ready"
}

# verify PID: the pattern reads back and checks every page (SIGUSR1); fail
# unless it exits 0.
verify()
{
	kill -USR1 "$1"
	wait "$1" || fail "pattern $1 failed verification"
}

# verify_rc PID: verify as verify does, the pattern's exit status in
# VERIFY_RC instead of a failure (for tests that tally).
# shellcheck disable=SC2034
verify_rc()
{
	VERIFY_RC=0
	kill -USR1 "$1"
	wait "$1" || VERIFY_RC=$?
}

# churn_batch PREFIX FIRST N SIZE LIMIT PARK [PARENT_TOO]: create N cgroups
# PREFIX<FIRST>..., fill SIZE of 4:1 data under LIMIT in each at once, move
# the owners to PARK and remove the cgroups (with their parents PREFIX<i>
# when PARENT_TOO: the cgroups are then PREFIX<i>/c). Adds the owners'
# PIDs to the array BATCH_PIDS.
churn_batch()
{
	local prefix=$1 first=$2 n=$3 size=$4 limit=$5 park=$6 nested=${7:-}
	local i cg cgs=() pids=() ready

	for ((i = first; i < first + n; i++)); do
		if [ -n "$nested" ]; then
			cg=$(cg_create "$prefix$i/c")
		else
			cg=$(cg_create "$prefix$i")
		fi
		cg_write "$cg" memory.max "$limit"
		rm -f "$TMPDIR/ready.$i"
		cg_run_bg "$cg" "$PATTERN" --size "$size" --kind 4to1 \
			--seed "$i" --ready "$TMPDIR/ready.$i" --hold 0 \
			--verify --quiet
		cgs+=("$cg")
		pids+=("$CG_BG_PID")
	done
	for ((i = 0; i < n; i++)); do
		ready=$TMPDIR/ready.$((first + i))
		wait_for 120 _ready_or_dead "$ready" "${pids[$i]}"
		[ -e "$ready" ] || fail "pattern in ${cgs[$i]} died"
		# A file the owner created is charged to its cgroup (a tmpfs
		# inode) and would keep it dying after removal: remove it.
		rm -f "$ready"
		echo "${pids[$i]}" >"$park/cgroup.procs"
	done
	for cg in "${cgs[@]}"; do
		if [ -n "$nested" ]; then
			# Child and parent together: two probes back to back,
			# the parent dead before the child's pass may run.
			rmdir "$cg" "${cg%/c}"
		else
			rmdir "$cg"
		fi
	done
	BATCH_PIDS+=("${pids[@]}")
}

# verify_batch: verify and forget the owners in BATCH_PIDS.
verify_batch()
{
	local pid

	for pid in "${BATCH_PIDS[@]}"; do
		verify "$pid"
	done
	BATCH_PIDS=()
}

BATCH_PIDS=()

# dying: the root's nr_dying_descendants.
dying()
{
	cg_read_key "$CG_MOUNT" cgroup.stat nr_dying_descendants
}

# stock_flush: a charge from a live cgroup on every CPU. 6.1 caches
# charges per CPU (memcg_stock) with a css reference on the cached memcg.
# A removed cgroup's offline drains those stocks, except where
# drain_all_stock() skips: a stock used up to 0 pages (it checks
# nr_pages, yet the reference stays), or a drain already running (it only
# trylocks percpu_charge_mutex). Such a stock keeps its memcg dying until
# its CPU charges another cgroup; a test's shell, in the root cgroup,
# never does. The charge here replaces the stock (refill_stock()). Its
# cgroup outlives the test, so nothing it caches is ever dying.
stock_flush()
{
	local cg=$CG_MOUNT/mz-stock-flush cpu

	[ -d "$cg" ] || mkdir "$cg"
	for ((cpu = 0; cpu < $(getconf _NPROCESSORS_ONLN); cpu++)); do
		# shellcheck disable=SC2016 # $$ and $1 are the inner shell's
		taskset -c "$cpu" sh -c 'echo $$ >"$1/cgroup.procs" &&
			exec head -c 1M /dev/urandom' sh "$cg" >/dev/null ||
			fail "cannot charge $cg on CPU $cpu"
	done
}

# wait_dying_zero: after swapoff, every removed cgroup must be freed within
# a bounded wait, once the kernel's own holders are flushed: dirty and
# clean page cache (sync, drop_caches) and the per-CPU charge stocks.
wait_dying_zero()
{
	local i

	for ((i = 0; i < 300; i++)); do
		[ "$(dying)" != 0 ] || { echo "nr_dying_descendants 0 after $((i / 10)).$((i % 10))s"; return 0; }
		if ((i % 10 == 0)); then
			sync
			stock_flush
		fi
		echo 3 >/proc/sys/vm/drop_caches
		sleep 0.1
	done
	# What could pin them: swap still on, memory charged below the root.
	echo "swaps: $(tail -n +2 /proc/swaps | tr -s ' ' | tr '\n' ';')"
	echo "cgroup.stat: $(tr '\n' ' ' <"$CG_MOUNT/cgroup.stat")"
	echo "children: $(find "$CG_MOUNT" -mindepth 1 -maxdepth 2 -type d | tr '\n' ' ')"
	# mzswap's own state for cgroups, removed ones included.
	local tab=${MZ_DEBUGFS:-/sys/kernel/debug/mzswap}/cgroups
	[ ! -r "$tab" ] || sed 's/^/mzswap cgroups: /' "$tab"
	fail "nr_dying_descendants still $(dying) after 30s"
}

