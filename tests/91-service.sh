#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The boot-time set-up (issue 16): scripts/mzswap-setup, which
# packaging/mzswap.service runs, driven by configuration files as
# /etc/default/mzswap would be (MZSWAP_CONFIG; the module by MZSWAP_MODULE,
# since it is not installed in the guest). Start applies every setting,
# restart keeps swapped-out data, stop tears down; every bad configuration
# is refused with a message naming the problem and changes nothing. The
# unit itself is checked on the host (tests/90-dkms.sh).
#
# vm: mem=1G cpus=2 disks=backing:1G timeout=300
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"

SETUP=$MZ_REPO/scripts/mzswap-setup
export MZSWAP_CONFIG=$TMPDIR/mzswap.conf
DEV=${MZ_DISK_BACKING:-}

# config LINE...: write the configuration file (the module line added).
config()
{
	{
		echo "# test configuration"
		echo "MZSWAP_MODULE=$MZ_KO"
		printf '%s\n' "$@"
	} >"$MZSWAP_CONFIG"
}

setup()
{
	"$SETUP" "$@"
}

# state: what a failed start must leave as it was.
state()
{
	echo "loaded=$([ -d /sys/module/mzswap ] && echo 1 || echo 0)"
	tail -n +2 /proc/swaps
	dd if="$DEV" bs=64K count=1 status=none | md5sum
	mountpoint -q /sys/kernel/debug && echo debugfs
	losetup -a
}

# swap_line: /dev/mzswap0's line of /proc/swaps.
swap_line()
{
	awk '$1 == "/dev/mzswap0"' /proc/swaps
}

case_start_stop()
{
	local cg rel line

	[ -b "$DEV" ] || fail "no backing disk"
	at_exit mz_teardown
	cg=$(cg_create svc)
	rel=${cg#"$CG_MOUNT"}
	config "MZSWAP_BACKING=$DEV" MZSWAP_COMPRESSOR=zstd \
		"MZSWAP_MAX_POOL_PERCENT='15'" 'MZSWAP_ALLOCATOR="zsmalloc"' \
		MZSWAP_SYNCHRONOUS_IO=Y MZSWAP_PRIORITY=7 \
		"MZSWAP_CGROUP_MAX=$rel 8M" "  # an indented comment" ""
	setup start
	_mz_record_load
	line=$(swap_line)
	echo "swap: $line"
	[ -n "$line" ] || fail "/dev/mzswap0 is not swapped on"
	check_eq "$(awk '{ print $5 }' <<<"$line")" 7 "swap priority"
	check_eq "$(<"/sys/module/mzswap/parameters/compressor")" zstd compressor
	check_eq "$(<"/sys/module/mzswap/parameters/max_pool_percent")" 15 max_pool_percent
	check_eq "$(<"/sys/module/mzswap/parameters/allocator")" zsmalloc allocator
	check_eq "$(<"/sys/module/mzswap/parameters/synchronous_io")" Y synchronous_io
	check_eq "$(<"/sys/module/mzswap/parameters/backing_dev")" "$DEV" backing_dev
	check_eq "$(mz_cg_field "$cg" max)" $((8 << 20)) "$rel max"

	# It swaps: a squeezed pattern goes through the cache and back.
	cg_write "$cg" memory.max 24M
	hold "$cg" 48M 2to1 91
	mz_cg_line "$cg"
	check_gt "$(mz_counter stores)" 1000 "stores"
	check_le "$(mz_cg_field "$cg" compressed_bytes)" $((8 << 20)) \
		"compressed_bytes under the 8M limit"
	verify "$CG_BG_PID"

	setup stop
	[ ! -d /sys/module/mzswap ] || fail "mzswap still loaded after stop"
	[ -z "$(swap_line)" ] || fail "/dev/mzswap0 still swapped on after stop"
	setup stop | grep -q "nothing to stop" || fail "a second stop did not say so"
}

case_restart_keeps_data()
{
	local cg

	at_exit mz_teardown
	config "MZSWAP_BACKING=$DEV"
	setup start
	_mz_record_load
	cg=$(cg_create held)
	cg_write "$cg" memory.max 24M
	hold "$cg" 48M 2to1 92
	check_gt "$(mz_counter stored_pages)" 0 "stored_pages before restart"
	# swapoff pages everything back in: give it the room.
	cg_write "$cg" memory.max max
	setup restart
	_mz_record_load
	[ -n "$(swap_line)" ] || fail "not swapped on after restart"
	check_eq "$(mz_counter stored_pages)" 0 "stored_pages of the new module"
	verify "$CG_BG_PID"
	setup stop
}

case_by_uuid()
{
	local uuid

	at_exit mz_teardown
	uuid=$(blkid -p -o value -s UUID "$DEV")
	[ -n "$uuid" ] || fail "$DEV has no swap UUID after the earlier starts"
	config "MZSWAP_BACKING=UUID=$uuid"
	setup start
	_mz_record_load
	check_eq "$(<"/sys/module/mzswap/parameters/backing_dev")" "$DEV" backing_dev
	check_eq "$(blkid -p -o value -s UUID "$DEV")" "$uuid" "UUID after mkswap"
	setup stop
}

# refused WANT LINE...: start with the configuration LINE... must fail,
# say WANT on stderr, and leave the state as it was.
refused()
{
	local want=$1 before after out rc=0

	shift
	config "$@"
	before=$(state)
	out=$(setup start 2>&1) || rc=$?
	echo "$out"
	[ "$rc" != 0 ] || fail "start succeeded with: $*"
	[[ $out == *"$want"* ]] || fail "start did not say '$want'"
	after=$(state)
	[ "$after" = "$before" ] ||
		fail "state changed by a failed start:"$'\n'"$before"$'\n---\n'"$after"
}

case_bad_configs()
{
	local img loop

	at_exit mz_teardown
	[ -z "$(swap_line)" ] || fail "swapped on before the case"
	refused "unknown setting MZSWAP_BAKCING" "MZSWAP_BAKCING=$DEV"
	refused "not KEY=VALUE" "MZSWAP_BACKING $DEV"
	refused "MZSWAP_BACKING is not set" "MZSWAP_COMPRESSOR=lz4"
	refused "no such device" "MZSWAP_BACKING=/dev/nonexistent" \
		MZSWAP_DEVICE_TIMEOUT=0
	refused "no such device" "MZSWAP_BACKING=UUID=00000000-dead-beef-0000-000000000000" \
		MZSWAP_DEVICE_TIMEOUT=0
	refused "not a block device or a file" "MZSWAP_BACKING=/dev/null"
	refused "not 1 to 100" "MZSWAP_BACKING=$DEV" MZSWAP_MAX_POOL_PERCENT=101
	refused "not slab or zsmalloc" "MZSWAP_BACKING=$DEV" MZSWAP_ALLOCATOR=zbud
	refused "not Y or N" "MZSWAP_BACKING=$DEV" MZSWAP_SYNCHRONOUS_IO=yes
	refused "not -1 to 32767" "MZSWAP_BACKING=$DEV" MZSWAP_PRIORITY=high
	refused "not a size" "MZSWAP_BACKING=$DEV" "MZSWAP_CGROUP_MAX=/a 12Q"
	refused "not a size" "MZSWAP_BACKING=$DEV" "MZSWAP_CGROUP_MAX=/a 99999999999999T"
	refused "the root has no limit" "MZSWAP_BACKING=$DEV" "MZSWAP_CGROUP_MAX=/ 1M"
	# Refused by the module after it was loaded: undone.
	refused "compressor=nosuch: No such file or directory" \
		"MZSWAP_BACKING=$DEV" MZSWAP_COMPRESSOR=nosuch
	mkdir -p "$MZ_CG_ROOT/nomem/leaf"
	refused "Invalid argument" "MZSWAP_BACKING=$DEV" \
		"MZSWAP_CGROUP_MAX=${MZ_CG_ROOT#"$CG_MOUNT"}/nomem/leaf 1M"
	# The backing device in use, or holding a file system.
	mkswap "$DEV" >/dev/null
	swap_on "$DEV"
	refused "is swapped on" "MZSWAP_BACKING=$DEV"
	swap_off "$DEV"
	img=$TMPDIR/fs.img
	truncate -s 8M "$img"
	mkfs.ext4 -q "$img"
	modprobe loop
	loop=$(losetup -f --show "$img")
	at_exit losetup -d "$loop"
	refused "holds a ext4 signature" "MZSWAP_BACKING=$loop"
	# Running already: a second start changes nothing.
	config "MZSWAP_BACKING=$DEV"
	setup start
	_mz_record_load
	refused "already loaded" "MZSWAP_BACKING=$DEV"
	[ -n "$(swap_line)" ] || fail "the running set-up was disturbed"
	setup stop
}

ktap_print_header
ktap_set_plan 4
ktap_case "start applies every setting and swaps; stop, stop again" case_start_stop
ktap_case "restart keeps swapped-out data" case_restart_keeps_data
ktap_case "backing device by UUID, kept by mkswap" case_by_uuid
ktap_case "bad configurations: a clear message, nothing changed" case_bad_configs
ktap_finished
