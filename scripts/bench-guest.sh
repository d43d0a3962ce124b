#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-guest.sh: the benchmark inside the VM (scripts/bench.sh boots it).
#
# For each swap setup, one after another on fresh devices: the pattern
# program writes then re-reads 256M inside a cgroup with memory.max=64M, at
# three compressibilities. Per run: wall time, major faults, swap-ins and
# -outs, what the cache holds, and the store/load latency of each setup's
# own entry points, timed with bpftrace kprobes (zswap 6.1:
# zswap_frontswap_store/load; mzswap: mz_rw_page; zram: zram_rw_page; the
# disk: swap_writepage/swap_readpage; scripts/bpftrace/bench-*.bt). One
# "key value..." line per fact
# into $MZ_BENCH_OUT for bench-report.py.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$repo/tests/lib/cgroup.sh"
. "$repo/tests/lib/mzswap.sh"

OUT=${MZ_BENCH_OUT:?}
SIZE=${MZ_BENCH_SIZE:-256M}
LIMIT=${MZ_BENCH_LIMIT:-64M}
: >"$OUT"

emit()
{
	echo "$*" >>"$OUT"
	echo "  $*"
}

setup_swap()
{
	case $1 in
	zswap)
		echo lz4 >/sys/module/zswap/parameters/compressor
		echo zsmalloc >/sys/module/zswap/parameters/zpool
		echo 20 >/sys/module/zswap/parameters/max_pool_percent
		echo 1 >/sys/module/zswap/parameters/enabled
		mkswap "$MZ_DISK_ZSWAPDISK" >/dev/null
		swapon "$MZ_DISK_ZSWAPDISK"
		SWAPDEV=$MZ_DISK_ZSWAPDISK ;;
	mzswap)
		mz_modprobe_deps
		mz_load backing_dev="$MZ_DISK_MZDISK"
		mkswap /dev/mzswap0 >/dev/null
		swapon /dev/mzswap0
		SWAPDEV=/dev/mzswap0 ;;
	zram)
		modprobe zram num_devices=1
		echo 1 >/sys/block/zram0/reset
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

# cache_state SETUP: "stored_pages N pool_bytes N written_back N".
cache_state()
{
	local d=/sys/kernel/debug/zswap mm

	case $1 in
	zswap)
		echo "stored_pages $(<$d/stored_pages) pool_bytes $(<$d/pool_total_size) written_back $(<$d/written_back_pages)" ;;
	mzswap)
		echo "stored_pages $(mz_counter stored_pages) pool_bytes $(mz_counter pool_total_size) written_back $(mz_counter written_back_pages)" ;;
	zram)
		read -r _ _ mm _ </sys/block/zram0/mm_stat
		echo "stored_pages $(( $(awk '{print $1}' /sys/block/zram0/mm_stat) / 4096 )) pool_bytes $mm written_back 0" ;;
	disk)
		echo "stored_pages 0 pool_bytes 0 written_back 0" ;;
	esac
}

teardown_swap()
{
	swapoff "$SWAPDEV" || true
	case $1 in
	zswap)	echo 0 >/sys/module/zswap/parameters/enabled ;;
	mzswap)	rmmod mzswap ;;
	zram)	echo 1 >/sys/block/zram0/reset ;;
	esac
}

run_one()
{
	local setup=$1 kind=$2 cg ready=$TMPDIR/ready rc=0 t0 t1 held
	local in0 out0 lat

	setup_swap "$setup"
	cg=$(cg_create "bench-$setup-$kind")
	cg_write "$cg" memory.max "$LIMIT"
	in0=$(vmstat pswpin); out0=$(vmstat pswpout)
	lat=$TMPDIR/lat.$setup.$kind
	bpftrace -q "$repo/scripts/bpftrace/bench-$setup.bt" >"$lat" 2>&1 &
	local bt=$!
	wait_for 60 grep -q READY "$lat"
	t0=$EPOCHREALTIME
	rm -f "$ready"
	cg_run_bg "$cg" "$repo/tests/pattern" --size "$SIZE" --kind "$kind" \
		--seed 1 --ready "$ready" --hold 0 --verify --quiet
	wait_for 600 _ready_or_dead "$ready" "$CG_BG_PID"
	held=$(cache_state "$setup")
	kill -USR1 "$CG_BG_PID" 2>/dev/null || true
	wait "$CG_BG_PID" || rc=$?
	t1=$EPOCHREALTIME
	kill -INT "$bt"; wait "$bt" || true
	emit "run $setup $kind rc $rc oom_kill $(cg_read_key "$cg" memory.events oom_kill) wall_ms $(( (${t1/./} - ${t0/./}) / 1000 )) pgmajfault $(cg_read_stat "$cg" pgmajfault) pswpin $(( $(vmstat pswpin) - in0 )) pswpout $(( $(vmstat pswpout) - out0 )) $held"
	# "@store[US]: N" lines: N calls took US microseconds.
	sed -n 's/^@\(store\|load\)\[\([0-9]*\)\]: \([0-9]*\)$/lat '"$setup $kind"' \1 \2 \3/p' \
		"$lat" >>"$OUT"
	cg_destroy "$cg"
	teardown_swap "$setup"
}

_ready_or_dead()
{
	[ -e "$1" ] || ! kill -0 "$2" 2>/dev/null
}

# Metadata per stored page, from the slab caches' object sizes.
slab_objsize()
{
	awk -v n="$1" '$1 == n { print $4 }' /proc/slabinfo
}

emit "kernel $(uname -r) cpus $(nproc) mem_mb $(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 )) size $SIZE limit $LIMIT"
for kind in 2to1 4to1 incompressible; do
	for setup in zswap mzswap zram disk; do
		echo "== $setup $kind"
		run_one "$setup" "$kind"
	done
done
mz_modprobe_deps
mz_load backing_dev="$MZ_DISK_MZDISK"
emit "meta mzswap_entry $(slab_objsize mzswap_entry) zswap_entry $(slab_objsize zswap_entry)"
rmmod mzswap
