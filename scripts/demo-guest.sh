#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo-guest.sh: the demo, inside the VM (scripts/demo.sh boots it).
#
# Two cgroups under memory pressure swap to /dev/mzswap0; the counters and
# the per-cgroup table before and after; the pool limit lowered so that the
# global worker writes back round-robin, watched with bpftrace; a cgroup
# removed while it still owns records, which move to its parent; every
# byte verified; swapoff, unload, clean kernel log.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$repo/tests/lib/cgroup.sh"
. "$repo/tests/lib/mzswap.sh"

PATTERN=$repo/tests/pattern
P=/sys/module/mzswap/parameters

say()
{
	printf '\n\033[1m== %s\033[0m\n' "$*"
}

show_counters()
{
	local name

	for name in stored_pages same_filled_pages pool_total_size stores \
		    loads written_back_pages shrinker_freed backing_reads \
		    reparent_passes reparent_records; do
		printf '  %-20s %s\n' "$name" "$(mz_counter "$name")"
	done
}

show_table()
{
	sed 's/^/  /' "$MZ_DEBUGFS/cgroups"
}

# hold CG SIZE KIND SEED: fill and hold a pattern in CG (PID in CG_BG_PID).
hold()
{
	rm -f "$TMPDIR/ready.$4"
	cg_run_bg "$1" "$PATTERN" --size "$2" --kind "$3" --seed "$4" \
		--ready "$TMPDIR/ready.$4" --hold 0 --verify
	wait_for 300 test -e "$TMPDIR/ready.$4"
}

say "mzswap on $(uname -r): /dev/mzswap0 in front of $MZ_DISK_BACKING"
mz_swapon
echo "  compressor $(<$P/compressor), allocator $(<$P/allocator), max_pool_percent $(<$P/max_pool_percent)"
grep mzswap0 /proc/swaps | sed 's/^/  /'

say "cgroups a (memory.max 40M, 96M of 2:1 data) and b (32M, 64M of 4:1)"
a=$(cg_create demo/a)
b=$(cg_create demo/b)
cg_write "$a" memory.max 40M
cg_write "$b" memory.max 32M
hold "$a" 96M 2to1 1
pid_a=$CG_BG_PID
hold "$b" 64M 4to1 2
pid_b=$CG_BG_PID
show_counters
say "the per-cgroup table"
show_table
for cg in "$a" "$b"; do
	echo "  ${cg#"$CG_MOUNT"}: memory.current $(($(<"$cg/memory.current") >> 20))M, slab $(($(cg_read_stat "$cg" slab) >> 20))M (entries and payloads charged here), oom_kill $(cg_read_key "$cg" memory.events oom_kill)"
done

say "pool limit lowered to 1% of RAM: the worker writes back round-robin"
# bpftrace runs the load once its probes are attached (-c) and ends with
# it: no waiting for it to start, however slow the machine.
cat >"$TMPDIR/worker-load.sh" <<EOF
echo 1 >$P/max_pool_percent
echo 300 >"$MZ_DEBUGFS/writeback"
sleep 1
EOF
bpftrace -c "/bin/sh $TMPDIR/worker-load.sh" \
	"$repo/scripts/bpftrace/mzswap-worker.bt" >"$TMPDIR/worker.out" 2>&1
head -n 12 "$TMPDIR/worker.out" | sed 's/^/  /'
echo "  ..."
sed -n '/visits and entries/,$p' "$TMPDIR/worker.out" | sed 's/^/  /'
echo 20 >$P/max_pool_percent
show_counters

say "b's process moves to a, b is removed: b's records go to its parent"
echo "$pid_b" >"$a/cgroup.procs"
rmdir "$b"
echo 1 >"$MZ_DEBUGFS/reparent"
show_table
echo "  check: $(tail -n1 "$MZ_DEBUGFS/check")"

say "every byte verified"
kill -USR1 "$pid_a" "$pid_b"
wait "$pid_a" && wait "$pid_b" && echo "  both patterns verified"

say "swapoff, unload"
cg_cleanup
swap_off /dev/mzswap0
show_counters
rmmod mzswap
dmesg | grep mzswap | tail -n 3 | sed 's/^/  /'
