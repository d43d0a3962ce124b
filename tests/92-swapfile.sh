#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mzswap in front of a swap file (issue 16): a loop device with direct I/O
# over a file on ext4, set up by hand as docs/admin-guide.md ("Swap files")
# says, under a cgroup's memory pressure, every page verified; and by
# mzswap-setup from MZSWAP_BACKING=<file>, which
# makes and removes the loop device itself and refuses a file system
# without direct I/O.
#
# vm: mem=512M cpus=2 disks=backing:1G timeout=420
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"

DEV=${MZ_DISK_BACKING:-}
MNT=$TMPDIR/mnt
FILE=$MNT/swapfile
SETUP=$MZ_REPO/scripts/mzswap-setup
export MZSWAP_CONFIG=$TMPDIR/mzswap.conf

# fs_up: ext4 on the VM's disk, mounted, with a 512M swap file on it,
# written whole: a fallocated one deadlocks (case_setup_file).
fs_up()
{
	[ -b "$DEV" ] || fail "no disk"
	mkfs.ext4 -q -F "$DEV"
	mkdir -p "$MNT"
	mount "$DEV" "$MNT"
	at_exit umount "$MNT"
	dd if=/dev/zero of="$FILE" bs=1M count=512 oflag=direct status=none
	chmod 600 "$FILE"
	modprobe loop
}

# loop_of FILE: the loop devices over FILE.
loop_of()
{
	losetup -n -O NAME -j "$1"
}

# loop_writes LOOP: sectors written to LOOP.
loop_writes()
{
	awk '{ print $7 }' "/sys/block/${1#/dev/}/stat"
}

# file_cached FILE: pages of FILE in the page cache.
file_cached()
{
	fincore -n -b -o PAGES "$1" | tr -d ' '
}

case_by_hand()
{
	local loop cg

	fs_up
	loop=$(losetup --direct-io=on -f --show "$FILE")
	at_exit losetup -d "$loop"
	check_eq "$(<"/sys/block/${loop#/dev/}/loop/dio")" 1 "$loop direct I/O"
	# A small pool: writeback to the file starts early.
	mz_modprobe_deps
	mz_load backing_dev="$loop" max_pool_percent=2
	at_exit mz_teardown
	mkswap /dev/mzswap0 >/dev/null
	swap_on /dev/mzswap0

	# A cgroup's pressure.
	cg=$(cg_create squeezed)
	cg_write "$cg" memory.max 24M
	hold "$cg" 64M 2to1 921 --quiet
	local pid_cg=$CG_BG_PID
	echo "cgroup: written_back $(mz_counter written_back_pages) backing_writes $(mz_counter backing_writes) loop sectors written $(loop_writes "$loop")"
	check_gt "$(mz_counter written_back_pages)" 0 "written_back_pages"
	check_gt "$(loop_writes "$loop")" 0 "sectors written to $loop"
	# Direct I/O: the file's pages never entered the page cache.
	check_le "$(file_cached "$FILE")" 16 "pages of the swap file in the page cache"
	verify "$pid_cg"
	mz_check_records
	# Not here: global pressure (kswapd). Under it this stack hangs on
	# 2026-12-05's module: mzswap's backing bios and the loop device's
	# direct I/O bios come from the same fs_bio_set mempool
	# (docs/notes/2026-12-05-swapfile-fallocate-deadlock.md, "Then").
}

case_setup_file()
{
	local loop tfile

	[ -f "$FILE" ] || fs_up
	at_exit "$SETUP" stop
	echo "MZSWAP_MODULE=$MZ_KO" >"$MZSWAP_CONFIG"
	echo "MZSWAP_BACKING=$FILE" >>"$MZSWAP_CONFIG"
	"$SETUP" start
	_mz_record_load
	loop=$(loop_of "$FILE")
	[ -n "$loop" ] || fail "no loop device over $FILE"
	check_eq "$(<"/sys/block/${loop#/dev/}/loop/dio")" 1 "$loop direct I/O"
	check_eq "$(<"/sys/module/mzswap/parameters/backing_dev")" "$loop" backing_dev
	grep -q '^/dev/mzswap0 ' /proc/swaps || fail "not swapped on"
	"$SETUP" stop
	[ -z "$(loop_of "$FILE")" ] || fail "stop left a loop device over $FILE"
	[ ! -d /sys/module/mzswap ] || fail "stop left mzswap loaded"

	# A fallocated file (unwritten extents) or a sparse one: refused.
	# Dio writes to it make ext4 convert extents at completion, under
	# i_data_sem, with an allocation that reclaims into mzswap and waits
	# for the loop device, whose worker waits for i_data_sem: this
	# file's first version hung there (kswapd, the loop worker and
	# iomap_dio_complete_work blocked for minutes).
	fallocate -l 16M "$MNT/fallocated"
	echo "MZSWAP_MODULE=$MZ_KO" >"$MZSWAP_CONFIG"
	echo "MZSWAP_BACKING=$MNT/fallocated" >>"$MZSWAP_CONFIG"
	if "$SETUP" start; then fail "a fallocated swap file was accepted"; fi
	truncate -s 16M "$MNT/sparse"
	echo "MZSWAP_MODULE=$MZ_KO" >"$MZSWAP_CONFIG"
	echo "MZSWAP_BACKING=$MNT/sparse" >>"$MZSWAP_CONFIG"
	if "$SETUP" start; then fail "a sparse swap file was accepted"; fi
	[ -z "$(loop_of "$MNT/fallocated")$(loop_of "$MNT/sparse")" ] ||
		fail "a refused start left a loop device"

	# tmpfs has no direct I/O on 6.1: refused, and no loop device left.
	tfile=$TMPDIR/tmpfs-swapfile
	dd if=/dev/zero of="$tfile" bs=1M count=16 status=none
	echo "MZSWAP_MODULE=$MZ_KO" >"$MZSWAP_CONFIG"
	echo "MZSWAP_BACKING=$tfile" >>"$MZSWAP_CONFIG"
	if "$SETUP" start; then
		fail "a swap file on tmpfs was accepted"
	fi
	[ -z "$(loop_of "$tfile")" ] || fail "a failed start left a loop device"
	[ ! -d /sys/module/mzswap ] || fail "a failed start left mzswap loaded"
}

ktap_print_header
ktap_set_plan 2
ktap_case "by hand: loop with direct I/O over a file, cgroup pressure, verified" case_by_hand
ktap_case "mzswap-setup with a swap file: loop made and removed; fallocated, sparse, tmpfs refused" case_setup_file
ktap_finished
