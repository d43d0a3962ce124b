#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad input (issue 3): every module parameter and debugfs knob refuses bad
# values with a fitting errno and leaves its state unchanged; a backing
# device change is refused while swapped on, and no data is lost.
#
# vm: mem=1G cpus=2 disks=backing:1G,spare:64M,tiny:512K timeout=300
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"

PARAMS=/sys/module/mzswap/parameters
EINVAL="Invalid argument"
ENOENT="No such file or directory"
ERANGE="Numerical result out of range"
EBUSY="Device or resource busy"
ENOSPC="No space left on device"
ENOTBLK="Block device required"
EACCES="Permission denied"

# expect_errno FILE VALUE ERROR: writing VALUE to FILE must fail with the
# strerror text ERROR, and FILE (if readable) must read the same after.
expect_errno()
{
	local file=$1 val=$2 want=$3 before='' after='' out

	[ ! -r "$file" ] || before=$(<"$file")
	if out=$({ echo "$val" >"$file"; } 2>&1); then
		fail "writing '$val' to $file succeeded"
	fi
	[[ $out == *"$want"* ]] ||
		fail "writing '$val' to $file: '${out##*: }', want '$want'"
	[ ! -r "$file" ] || after=$(<"$file")
	check_eq "$after" "$before" "$file after writing '$val'"
}

# A table: FILE|VALUE|ERROR per line; FILE relative to $PARAMS or, with a
# leading "debugfs/", to the module's debugfs directory.
table()
{
	local line file val want n=0

	while IFS='|' read -r file val want; do
		[ -n "$file" ] || continue
		case $file in
		debugfs/*)	file=$MZ_DEBUGFS/${file#debugfs/} ;;
		*)		file=$PARAMS/$file ;;
		esac
		expect_errno "$file" "$val" "${!want}"
		n=$((n + 1))
	done
	echo "$n bad writes refused"
}

case_params()
{
	mz_swapon
	table <<-EOF
	max_pool_percent||EINVAL
	max_pool_percent|abc|EINVAL
	max_pool_percent|-1|EINVAL
	max_pool_percent|0|EINVAL
	max_pool_percent|101|EINVAL
	max_pool_percent|20x|EINVAL
	max_pool_percent| 20|EINVAL
	max_pool_percent|99999999999|ERANGE
	accept_threshold_percent|101|EINVAL
	accept_threshold_percent|x|EINVAL
	accept_threshold_percent|-5|EINVAL
	max_compressed_percent|0|EINVAL
	max_compressed_percent|101|EINVAL
	reparent_period_ms|-1|EINVAL
	reparent_period_ms|3600001|EINVAL
	compressor|nosuch|ENOENT
	compressor||EINVAL
	compressor|lz4 zstd|ENOENT
	compressor|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|EINVAL
	enabled|maybe|EINVAL
	enabled||EINVAL
	same_filled_pages_enabled|2|EINVAL
	shrinker_enabled|yes please|EINVAL
	allocator|zsmalloc|EACCES
	synchronous_io|N|EACCES
	EOF
	check_eq "$(<$PARAMS/compressor)" lz4 "compressor"
	check_eq "$(<$PARAMS/max_pool_percent)" 20 "max_pool_percent"
	check_eq "$(<$PARAMS/allocator)" slab "allocator"
	check_eq "$(<$PARAMS/synchronous_io)" Y "synchronous_io"
}

case_knobs()
{
	local cg nomem line

	mz_swapon
	cg=$(cg_create knobs)
	# A cgroup without its own memory controller: memory not enabled in
	# its parent's subtree_control.
	mkdir "$cg/plain"
	nomem=${cg#"$CG_MOUNT"}/plain
	cg=${cg#"$CG_MOUNT"}
	table <<-EOF
	debugfs/writeback|0|EINVAL
	debugfs/writeback|abc|EINVAL
	debugfs/writeback|-1|EINVAL
	debugfs/writeback||EINVAL
	debugfs/cgroup_max|/nonexistent 100|ENOENT
	debugfs/cgroup_max|noseparator|EINVAL
	debugfs/cgroup_max|/ 100|EINVAL
	debugfs/cgroup_max|$cg abc|EINVAL
	debugfs/cgroup_max|$cg -5|EINVAL
	debugfs/cgroup_max|$cg |EINVAL
	debugfs/cgroup_max|$cg 18446744073709551615|ERANGE
	debugfs/cgroup_max|$cg 1k|EINVAL
	debugfs/cgroup_max|$nomem 100|EINVAL
	debugfs/cgroup_writeback|$cg 2|EINVAL
	debugfs/cgroup_writeback|$cg on|EINVAL
	debugfs/cgroup_writeback|/nonexistent 1|ENOENT
	debugfs/cgroup_writeback|$nomem 0|EINVAL
	debugfs/reparent|2|EINVAL
	debugfs/reparent|x|EINVAL
	EOF
	rmdir "$CG_MOUNT$nomem"
	# Nothing was set for the cgroup: it has no line, or a default one.
	line=$(grep "^$cg " "$MZ_DEBUGFS/cgroups" || true)
	echo "table line: ${line:-none}"
	if [ -n "$line" ]; then
		[[ $line == *" 1 max" ]] || fail "state changed: $line"
	fi
}

case_backing_dev()
{
	local cg dev=$MZ_DISK_BACKING

	mz_swapon shrinker_enabled=N
	cg=$(cg_create hold)
	cg_write "$cg" memory.max 32M
	cg_run_bg "$cg" "$MZ_REPO/tests/pattern" --size 64M --kind 4to1 \
		--seed 21 --ready "$TMPDIR/ready" --hold 0 --verify
	wait_for 120 test -e "$TMPDIR/ready"

	# Swapped on: any change is refused, the data stays.
	table <<-EOF
	backing_dev|$MZ_DISK_SPARE|EBUSY
	backing_dev|none|EBUSY
	backing_dev|/dev/nonexistent|EBUSY
	EOF
	check_eq "$(<$PARAMS/backing_dev)" "$dev" "backing_dev"
	check_gt "$(mz_counter stored_pages)" 1000 "stored_pages"
	kill -USR1 "$CG_BG_PID"
	wait "$CG_BG_PID" || fail "pattern failed after refused changes"
	swapoff /dev/mzswap0

	# Swapped off: the device itself is checked.
	mkswap "$MZ_DISK_SPARE" >/dev/null
	swapon "$MZ_DISK_SPARE"
	table <<-EOF
	backing_dev|/dev/nonexistent|ENOENT
	backing_dev|/etc/passwd|ENOTBLK
	backing_dev||EINVAL
	backing_dev|$MZ_DISK_TINY|ENOSPC
	backing_dev|$MZ_DISK_SPARE|EBUSY
	backing_dev|/dev/mzswap0|EBUSY
	EOF
	swapoff "$MZ_DISK_SPARE"
	check_eq "$(<$PARAMS/backing_dev)" "$dev" "backing_dev"

	# And a good change works both ways.
	echo "$MZ_DISK_SPARE" >$PARAMS/backing_dev
	check_eq "$(blockdev --getsize64 /dev/mzswap0)" $((64 << 20)) "size"
	echo none >$PARAMS/backing_dev
	check_eq "$(blockdev --getsize64 /dev/mzswap0)" 0 "size when detached"
	echo "$dev" >$PARAMS/backing_dev
	check_eq "$(<$PARAMS/backing_dev)" "$dev" "backing_dev"
}

case_klog()
{
	local cg n t0 t1 ms allowed

	# Where errno says enough, nothing is logged; where it cannot (which
	# cgroup lacks a memory controller), a rate-limited warning is.
	mz_swapon
	cg=$(cg_create quiet)
	mkdir "$cg/plain"
	klog_mark
	t0=$EPOCHREALTIME
	for _ in $(seq 60); do
		echo nosuch >$PARAMS/compressor 2>/dev/null || true
		echo 0 >$PARAMS/max_pool_percent 2>/dev/null || true
		echo "${cg#"$CG_MOUNT"}/plain 1" >"$MZ_DEBUGFS/cgroup_writeback" \
			2>/dev/null || true
	done
	t1=$EPOCHREALTIME
	rmdir "$cg/plain"
	n=$(klog_since_mark | grep -c "memory controller not enabled" || true)
	# printk's default rate limit: a burst of 10 per 5 s window. A slow
	# machine may span several windows; count them (plus one for the
	# boundary) rather than assume the loop takes less than 5 s.
	ms=$(( (${t1/./} - ${t0/./}) / 1000 ))
	allowed=$(( 10 * (ms / 5000 + 2) ))
	echo "$n warnings for 60 writes naming a cgroup without memory control, in $ms ms"
	check_ge "$n" 1 "warnings"
	check_le "$n" "$allowed" "warnings (rate-limited, 10 per 5 s)"
	[ "$allowed" -ge 60 ] || check_lt "$n" 60 "warnings (some suppressed)"
	check_eq "$(klog_since_mark | grep -c "nosuch\|max_pool" || true)" 0 \
		"lines about refusals errno explains"
	klog_check_since_mark
}

ktap_print_header
ktap_set_plan 4
ktap_case "module parameters refuse bad values, unchanged" case_params
ktap_case "debugfs knobs refuse bad values, unchanged" case_knobs
ktap_case "backing_dev refused while in use and when unfit" case_backing_dev
ktap_case "refusals keep the kernel log quiet and clean" case_klog
ktap_finished
