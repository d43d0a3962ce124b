#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-guest.sh: the benchmark inside the VM (scripts/bench.sh boots it).
#
# Sections, in one boot, each swap setup on fresh devices one after another
# (MZ_BENCH_SECTIONS picks some: "single multi pool cgroups meta"):
#
#   single   tests/pattern writes then re-reads $SIZE in one cgroup with
#            memory.max=$LIMIT, at three compressibilities.
#   multi    $MULTI such cgroups at once, each $MULTI_SIZE in $MULTI_LIMIT.
#   pool     store and load latency with the pool at 1k .. 256k entries
#            (zswap, mzswap): a pattern of that size in an unlimited cgroup
#            is pushed out with memory.reclaim, then read back.
#   cgroups  mzswap's worker step and shrinker call with 10, 100 and 1000
#            cgroups holding entries.
#   meta     metadata bytes per stored page, from slab usage (in "pool").
#
# Setups: zswap (6.1, zsmalloc, over a virtio disk), zswap-cap (the same,
# with memory.zswap.max at half the cgroup's memory.max: what an admin of
# 6.1 must set to keep zswap from being OOM-killed), mzswap (over the same
# kind of disk), mzswap-async (synchronous_io=N: swap cache and readahead),
# zram, disk (swap on the disk alone); lz4 everywhere.
# Latencies are each setup's own entry points timed with bpftrace kprobes
# (scripts/bpftrace/bench-*.bt). One "key value..." line per fact goes to
# $MZ_BENCH_OUT for bench-report.py.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$repo/tests/lib/cgroup.sh"
. "$repo/tests/lib/mzswap.sh"

OUT=${MZ_BENCH_OUT:?}
SECTIONS=${MZ_BENCH_SECTIONS:-single multi pool cgroups}
SIZE=${MZ_BENCH_SIZE:-96M}
LIMIT=${MZ_BENCH_LIMIT:-24M}
MULTI=${MZ_BENCH_MULTI:-4}
MULTI_SIZE=${MZ_BENCH_MULTI_SIZE:-32M}
MULTI_LIMIT=${MZ_BENCH_MULTI_LIMIT:-12M}
SETUPS=${MZ_BENCH_SETUPS:-zswap zswap-cap mzswap mzswap-async zram disk}
KINDS=${MZ_BENCH_KINDS:-2to1 4to1 incompressible}
POOL_STEPS=${MZ_BENCH_POOL_STEPS:-1024 4096 16384 65536 262144}
CG_STEPS=${MZ_BENCH_CG_STEPS:-10 100 1000}
: >"$OUT"

emit()
{
	echo "$*" >>"$OUT"
	echo "  $*"
}

section()
{
	case " $SECTIONS " in *" $1 "*) return 0 ;; esac
	return 1
}

# bytes SIZE: SIZE in truncate(1)'s K/M/G units, in bytes.
bytes()
{
	numfmt --from=iec "$1"
}

# setup_swap SETUP [MZSWAP PARAMS...]: swap on SETUP's device; sets SWAPDEV.
setup_swap()
{
	local setup=$1

	shift
	case $setup in
	zswap|zswap-cap)
		echo lz4 >/sys/module/zswap/parameters/compressor
		echo zsmalloc >/sys/module/zswap/parameters/zpool
		echo 20 >/sys/module/zswap/parameters/max_pool_percent
		echo 1 >/sys/module/zswap/parameters/enabled
		mkswap "$MZ_DISK_ZSWAPDISK" >/dev/null
		swapon "$MZ_DISK_ZSWAPDISK"
		SWAPDEV=$MZ_DISK_ZSWAPDISK ;;
	mzswap|mzswap-async)
		[ "$setup" = mzswap ] || set -- synchronous_io=N "$@"
		mz_load backing_dev="$MZ_DISK_MZDISK" compressor=lz4 "$@"
		mkswap /dev/mzswap0 >/dev/null
		swapon /dev/mzswap0
		SWAPDEV=/dev/mzswap0 ;;
	zram)
		echo lz4 >/sys/block/zram0/comp_algorithm
		echo 2G >/sys/block/zram0/disksize
		mkswap /dev/zram0 >/dev/null
		swapon /dev/zram0
		SWAPDEV=/dev/zram0 ;;
	disk)
		mkswap "$MZ_DISK_DISKONLY" >/dev/null
		swapon "$MZ_DISK_DISKONLY"
		SWAPDEV=$MZ_DISK_DISKONLY ;;
	esac
}

teardown_swap()
{
	swapoff "$SWAPDEV"
	case $1 in
	zswap|zswap-cap) echo 0 >/sys/module/zswap/parameters/enabled ;;
	mzswap*) rmmod mzswap ;;
	zram)	echo 1 >/sys/block/zram0/reset ;;
	esac
}

# slab_bytes CACHE: memory in CACHE's slabs (its pages, not its objects).
slab_bytes()
{
	local d=/sys/kernel/slab/$1

	echo $(( $(cut -d' ' -f1 "$d/slabs") * (4096 << $(<"$d/order")) ))
}

# mz_pool_bytes: memory the mzswap pool takes. With the slab allocator the
# pool_total_size counter sums size classes; the truth is the classes'
# slab pages, fragmentation included, like zsmalloc's page count.
mz_pool_bytes()
{
	local c sum=0

	if [ "$(</sys/module/mzswap/parameters/allocator)" != slab ]; then
		mz_counter pool_total_size
		return
	fi
	for c in /sys/kernel/slab/mzswap-[0-9]*; do
		sum=$((sum + $(slab_bytes "${c##*/}")))
	done
	echo "$sum"
}

# cache_state SETUP: "stored_pages N pool_bytes N written_back N".
cache_state()
{
	local d=/sys/kernel/debug/zswap

	case $1 in
	zswap|zswap-cap)
		echo "stored_pages $(<$d/stored_pages) pool_bytes $(<$d/pool_total_size) written_back $(<$d/written_back_pages)" ;;
	mzswap*)
		echo "stored_pages $(mz_counter stored_pages) pool_bytes $(mz_pool_bytes) written_back $(mz_counter written_back_pages)" ;;
	zram)
		echo "stored_pages $(( $(awk '{print $1}' /sys/block/zram0/mm_stat) / 4096 )) pool_bytes $(awk '{print $3}' /sys/block/zram0/mm_stat) written_back 0" ;;
	disk)
		echo "stored_pages 0 pool_bytes 0 written_back 0" ;;
	esac
}

# probe_start SCRIPT FILE: run a bpftrace script into FILE until
# probe_stop; sets BT.
probe_start()
{
	bpftrace -q "$repo/scripts/bpftrace/$1" >"$2" 2>&1 &
	BT=$!
	wait_for 60 grep -q READY "$2"
}

# probe_stop FILE LABEL: stop bpftrace and turn "@OP[US]: N" lines into
# "lat LABEL OP US N" facts.
probe_stop()
{
	kill -INT "$BT"
	wait "$BT" || true
	sed -n 's/^@\([a-z]*\)\[\([0-9]*\)\]: \([0-9]*\)$/lat '"$2"' \1 \2 \3/p' \
		"$1" >>"$OUT"
}

_all_ready_or_dead()
{
	local i

	for ((i = 0; i < ${#PIDS[@]}; i++)); do
		[ -e "$TMPDIR/ready.$i" ] || ! kill -0 "${PIDS[i]}" 2>/dev/null ||
			return 1
	done
}

# run_workload SETUP LABEL N SIZE LIMIT KIND: N patterns of SIZE, each in its
# own cgroup with memory.max=LIMIT, written, held, then re-read and checked.
run_workload()
{
	local setup=$1 label=$2 n=$3 size=$4 limit=$5 kind=$6
	local cgs=() i rc=0 oom=0 majf=0 t0 t1 held in0 out0 lat
	PIDS=()

	setup_swap "$setup"
	for ((i = 0; i < n; i++)); do
		cgs+=("$(cg_create "bench-$setup-$label-$i")")
		cg_write "${cgs[i]}" memory.max "$limit"
		[ "$setup" != zswap-cap ] ||
			cg_write "${cgs[i]}" memory.zswap.max $(($(bytes "$limit") / 2))
		rm -f "$TMPDIR/ready.$i"
	done
	in0=$(vmstat pswpin); out0=$(vmstat pswpout)
	lat=$TMPDIR/lat.$setup.$label
	probe_start "bench-${setup%-*}.bt" "$lat"
	t0=$EPOCHREALTIME
	for ((i = 0; i < n; i++)); do
		cg_run_bg "${cgs[i]}" "$repo/tests/pattern" --size "$size" \
			--kind "$kind" --seed $((i + 1)) --ready "$TMPDIR/ready.$i" \
			--hold 0 --verify --quiet
		PIDS+=("$CG_BG_PID")
	done
	wait_for 900 _all_ready_or_dead
	held=$(cache_state "$setup")
	for ((i = 0; i < n; i++)); do
		kill -USR1 "${PIDS[i]}" 2>/dev/null || true
	done
	for ((i = 0; i < n; i++)); do
		wait "${PIDS[i]}" || rc=$?
	done
	t1=$EPOCHREALTIME
	probe_stop "$lat" "$setup $label"
	for ((i = 0; i < n; i++)); do
		oom=$((oom + $(cg_read_key "${cgs[i]}" memory.events oom_kill)))
		majf=$((majf + $(cg_read_stat "${cgs[i]}" pgmajfault)))
		rm -f "$TMPDIR/ready.$i"
		cg_destroy "${cgs[i]}"
	done
	emit "run $setup $label rc $rc oom_kill $oom wall_ms $(( (${t1/./} - ${t0/./}) / 1000 )) pgmajfault $majf pswpin $(( $(vmstat pswpin) - in0 )) pswpout $(( $(vmstat pswpout) - out0 )) $held"
	teardown_swap "$setup"
}

# push_out CG BYTES: reclaim BYTES of CG's memory into swap. memory.reclaim
# fails with EAGAIN when it falls short; retry a few times.
push_out()
{
	local f i

	f=$(cg_path "$1")/memory.reclaim
	for i in 1 2 3; do
		echo "$2" >"$f" 2>/dev/null && break
	done
	return 0
}

# slab_objs CACHE: allocated objects of CACHE (0 when it does not exist).
slab_objs()
{
	[ -d "/sys/kernel/slab/$1" ] || { echo 0; return; }
	cut -d' ' -f1 "/sys/kernel/slab/$1/objects"
}

slab_size()
{
	cat "/sys/kernel/slab/$1/slab_size"
}

# pool_growth SETUP: for each pool size in POOL_STEPS, a pattern of that many
# pages in an unlimited cgroup, pushed out with memory.reclaim (the stores),
# then read back (the loads). At the largest, metadata per stored page.
pool_growth()
{
	local setup=$1 pages cg lat pid ready=$TMPDIR/ready.pool stored
	local nodes0 nodes1 entry

	if [ "$setup" = mzswap ]; then
		# Nothing but the pool limit may write entries back here.
		setup_swap mzswap shrinker_enabled=N max_pool_percent=50
	else
		setup_swap "$setup"
		echo 50 >/sys/module/zswap/parameters/max_pool_percent
	fi
	for pages in $POOL_STEPS; do
		cg=$(cg_create "bench-pool-$setup-$pages")
		rm -f "$ready"
		cg_run_bg "$cg" "$repo/tests/pattern" --size $((pages * 4))K \
			--kind 4to1 --seed 7 --ready "$ready" --hold 0 \
			--verify --quiet
		pid=$CG_BG_PID
		wait_for 900 _ready_or_dead "$ready" "$pid"
		rm -f "$ready"
		sync; echo 3 >/proc/sys/vm/drop_caches
		nodes0=$(slab_objs radix_tree_node)
		lat=$TMPDIR/lat.pool.$setup.$pages
		probe_start "bench-$setup.bt" "$lat"
		push_out "$cg" $((pages * 4096))
		read -r _ stored _ < <(cache_state "$setup")
		# Let RCU free the swap cache's xarray nodes of the writeout.
		sleep 1
		nodes1=$(slab_objs radix_tree_node)
		kill -USR1 "$pid"
		wait "$pid"
		probe_stop "$lat" "$setup pool$pages"
		emit "pool $setup $pages stored $stored"
		cg_destroy "$cg"
	done
	# Metadata at the largest step: the entry's slab object, the memcg
	# pointer a SLAB_ACCOUNT object carries in its slab's vector, the
	# zsmalloc handle (zswap's; mzswap's slab allocator has none) and
	# the xarray nodes that appeared while the pool filled. zswap's tree
	# lives in its entries: its node delta is the swap cache's residue
	# that mzswap's delta holds too, and bench-report.py subtracts it.
	if [ "$setup" = mzswap ]; then
		entry=$(slab_size mzswap_entry)
		emit "meta mzswap stored $stored entry_bytes $entry objcg_bytes 8 handle_bytes 0 node_bytes $(( (nodes1 - nodes0) * $(slab_size radix_tree_node) ))"
	else
		entry=$(slab_size zswap_entry)
		emit "meta zswap stored $stored entry_bytes $entry objcg_bytes 0 handle_bytes 8 node_bytes $(( (nodes1 - nodes0) * $(slab_size radix_tree_node) ))"
	fi
	teardown_swap "$setup"
}

_ready_or_dead()
{
	[ -e "$1" ] || ! kill -0 "$2" 2>/dev/null
}

_all_files()
{
	local i

	for ((i = 0; i < $1; i++)); do
		[ -e "$TMPDIR/cgready.$i" ] || return 1
	done
}

# cgroup_growth: for each count in CG_STEPS, that many cgroups each holding
# 64 pages in mzswap; time worker steps (debugfs writeback, one entry per
# visited cgroup) and shrinker calls (memory.reclaim of single cgroups).
cgroup_growth()
{
	local total=0 want i cg lat pids=()

	setup_swap mzswap shrinker_enabled=N max_pool_percent=50
	for want in $CG_STEPS; do
		for ((i = total; i < want; i++)); do
			cg=$(cg_create "bench-cg-$i")
			cg_run_bg "$cg" "$repo/tests/pattern" --size 256K \
				--kind 2to1 --seed $((i + 100)) \
				--ready "$TMPDIR/cgready.$i" --hold 0 --quiet
			pids+=("$CG_BG_PID")
		done
		wait_for 600 _all_files "$want"
		for ((i = total; i < want; i++)); do
			rm -f "$TMPDIR/cgready.$i"
			push_out "$(cg_root)/bench-cg-$i" 256K
		done
		total=$want
		lat=$TMPDIR/lat.cg.$want
		probe_start bench-steps.bt "$lat"
		# Visit every cgroup twice.
		echo $((2 * want)) >"$MZ_DEBUGFS/writeback"
		echo Y >/sys/module/mzswap/parameters/shrinker_enabled
		for i in 0 1 2 3 4 5 6 7 8 9; do
			push_out "$(cg_root)/bench-cg-$((i * want / 10))" 64K
		done
		echo N >/sys/module/mzswap/parameters/shrinker_enabled
		probe_stop "$lat" "mzswap cg$want"
		emit "cgroups $want stored $(mz_counter stored_pages)"
	done
	kill "${pids[@]}" 2>/dev/null || true
	wait || true
	for ((i = 0; i < total; i++)); do
		cg_destroy "bench-cg-$i"
	done
	teardown_swap mzswap
}

# THP off: a huge page skips ->rw_page and frontswap alike and would go
# untimed; every setup then swaps 4 KiB pages, timed at its entry point.
echo never >/sys/kernel/mm/transparent_hugepage/enabled
emit "kernel $(uname -r) cpus $(nproc) mem_mb $(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 )) size $SIZE limit $LIMIT multi $MULTI multi_size $MULTI_SIZE multi_limit $MULTI_LIMIT"
mz_modprobe_deps
modprobe zram num_devices=1
if section single; then
	for kind in $KINDS; do
		for setup in $SETUPS; do
			echo "== single $setup $kind"
			run_workload "$setup" "$kind" 1 "$SIZE" "$LIMIT" "$kind"
		done
	done
fi
if section multi; then
	for setup in $SETUPS; do
		echo "== multi $setup"
		run_workload "$setup" multi "$MULTI" "$MULTI_SIZE" \
			"$MULTI_LIMIT" 2to1
	done
fi
if section pool; then
	for setup in zswap mzswap; do
		echo "== pool growth $setup"
		pool_growth "$setup"
	done
fi
if section cgroups; then
	echo "== cgroup growth"
	cgroup_growth
fi
