#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad input (issues 3, 7): every module parameter and debugfs knob refuses
# bad values with a fitting errno and leaves its state unchanged; a backing
# device change is refused while swapped on, and no data is lost. Then the
# same files written by several processes at once, valid and invalid
# values, while pages are stored and loaded and a cgroup named in the
# writes comes and goes: every outcome documented, the final state one of
# the values written, data, records and kernel log intact.
#
# vm: mem=1G cpus=2 disks=backing:1G,spare:64M,tiny:512K timeout=420
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"
. "$(dirname "$0")/lib/writers.sh"

PARAMS=/sys/module/mzswap/parameters

# expect_errno FILE VALUE ERRNO: writing VALUE to FILE must fail with errno
# ERRNO (a name: EINVAL...), and FILE (if readable) must read the same after.
expect_errno()
{
	local file=$1 val=$2 want before='' after='' out

	want=$(errno_text "$3")
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
		expect_errno "$file" "$val" "$want"
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
	incompressible_streak|-1|EINVAL
	incompressible_streak|1048577|EINVAL
	incompressible_streak|x|EINVAL
	min_hit_percent|-1|EINVAL
	min_hit_percent|101|EINVAL
	min_hit_percent|25%|EINVAL
	hold_percent|-1|EINVAL
	hold_percent|101|EINVAL
	hold_percent|50%|EINVAL
	passthrough_inflight_percent|-1|EINVAL
	passthrough_inflight_percent|101|EINVAL
	passthrough_inflight_percent|x|EINVAL
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
	check_eq "$(<"$PARAMS/compressor")" lz4 "compressor"
	check_eq "$(<"$PARAMS/max_pool_percent")" 20 "max_pool_percent"
	check_eq "$(<"$PARAMS/allocator")" slab "allocator"
	check_eq "$(<"$PARAMS/synchronous_io")" N "synchronous_io"
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
	debugfs/cgroup_max|$cg/memory.max 100|ENOENT
	debugfs/cgroup_max|$cg/cgroup.procs/x 100|ENOENT
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
	debugfs/cgroup_writeback|$cg/memory.max 1|ENOENT
	debugfs/cgroup_writeback|$nomem 0|EINVAL
	debugfs/reparent|2|EINVAL
	debugfs/reparent|x|EINVAL
	EOF
	rmdir "$CG_MOUNT$nomem"
	# Nothing was set for the cgroup: it has no line, or a default one.
	line=$(grep "^$cg " "$MZ_DEBUGFS/cgroups" || true)
	echo "table line: ${line:-none}"
	if [ -n "$line" ]; then
		[[ $line == *" 1 max - 0 0" ]] || fail "state changed: $line"
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
	check_eq "$(<"$PARAMS/backing_dev")" "$dev" "backing_dev"
	check_gt "$(mz_counter stored_pages)" 1000 "stored_pages"
	kill -USR1 "$CG_BG_PID"
	wait "$CG_BG_PID" || fail "pattern failed after refused changes"
	swap_off /dev/mzswap0

	# Swapped off: the device itself is checked.
	mkswap "$MZ_DISK_SPARE" >/dev/null
	swap_on "$MZ_DISK_SPARE"
	table <<-EOF
	backing_dev|/dev/nonexistent|ENOENT
	backing_dev|/etc/passwd|ENOTBLK
	backing_dev||EINVAL
	backing_dev|$MZ_DISK_TINY|ENOSPC
	backing_dev|$MZ_DISK_SPARE|EBUSY
	backing_dev|/dev/mzswap0|EBUSY
	EOF
	swap_off "$MZ_DISK_SPARE"
	check_eq "$(<"$PARAMS/backing_dev")" "$dev" "backing_dev"

	# And a good change works both ways.
	echo "$MZ_DISK_SPARE" >"$PARAMS/backing_dev"
	check_eq "$(blockdev --getsize64 /dev/mzswap0)" $((64 << 20)) "size"
	echo none >"$PARAMS/backing_dev"
	check_eq "$(blockdev --getsize64 /dev/mzswap0)" 0 "size when detached"
	echo "$dev" >"$PARAMS/backing_dev"
	check_eq "$(<"$PARAMS/backing_dev")" "$dev" "backing_dev"
}

case_klog()
{
	local cg n i start ms limit

	# Where errno says enough, nothing is logged; where it cannot (which
	# cgroup lacks a memory controller), a rate-limited warning is.
	mz_swapon
	cg=$(cg_create quiet)
	mkdir "$cg/plain"
	klog_mark
	for _ in $(seq 20); do
		echo nosuch >"$PARAMS/compressor" 2>/dev/null || true
		echo 0 >"$PARAMS/max_pool_percent" 2>/dev/null || true
	done
	# In a tight loop of its own: an unknown compressor costs two
	# request_module() calls, seconds in the TCG guest, and the default
	# rate limit is a burst of 10 per 5 s.
	start=$EPOCHREALTIME
	for ((i = 0; i < 20; i++)); do
		echo "${cg#"$CG_MOUNT"}/plain 1" >"$MZ_DEBUGFS/cgroup_writeback" \
			2>/dev/null || true
	done
	ms=$(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
	limit=$((10 * (ms / 5000 + 1)))
	rmdir "$cg/plain"
	n=$(klog_since_mark | grep -c "memory controller not enabled" || true)
	echo "$n warnings for 20 writes in ${ms} ms naming a cgroup without memory control"
	check_ge "$n" 1 "warnings"
	check_le "$n" "$limit" "warnings (rate-limited)"
	check_eq "$(klog_since_mark | grep -c "nosuch\|max_pool" || true)" 0 \
		"lines about refusals errno explains"
	klog_check_since_mark
}

# _comings_goings CG: create and remove CG (no process in it) until
# $WRITER_STOP exists; count the cycles in $TMPDIR/cycles.
_comings_goings()
{
	local cg=$1 n=0

	until [ -e "$WRITER_STOP" ]; do
		if ! mkdir "$cg" || ! rmdir "$cg"; then
			echo "mkdir/rmdir $cg failed"
			return 1
		fi
		n=$((n + 1))
	done
	echo "$n" >"$TMPDIR/cycles"
}

case_concurrent()
{
	local w a b gone dev=$MZ_DISK_BACKING rounds=${MZ_WRITER_ROUNDS:-4}
	local pids=() outs=() pid rc=0 n=0 load cycles line max wb
	local big=$(((1 << 32) + 4096))

	# Room in the pool for the workload whatever max_pool_percent the
	# writers leave at a given moment; the cgroup is under pressure.
	mz_swapon
	w=$(cg_create conc)
	a=$(cg_create conc/a)
	b=$(cg_create conc/b)
	cg_write "$a" memory.max 24M
	gone=${w#"$CG_MOUNT"}/gone
	a=${a#"$CG_MOUNT"}
	b=${b#"$CG_MOUNT"}
	rm -f "$WRITER_STOP"
	klog_mark

	# Pages stored and loaded all along, every pass verified.
	cg_run_bg "$CG_MOUNT$a" "$PATTERN" --size 40M --kind 2to1 --seed 7 \
		--passes 1000 --rewrite 20 --quiet
	load=$CG_BG_PID
	_comings_goings "$CG_MOUNT$gone" & pids+=($!)

	# spawn FILE VALUE=EXPECT...: one more writer.
	spawn()
	{
		local out=$TMPDIR/writer.$n.${1##*/}

		outs+=("$out")
		writer "$1" "$rounds" "$n" "$out" "${@:2}" & pids+=($!)
		n=$((n + 1))
	}
	for _ in 1 2 3 4; do
		spawn "$PARAMS/compressor" lz4=ok zstd=ok lzo=ok lzo-rle=ok \
			nosuch=ENOENT =EINVAL "lz4 zstd=ENOENT"
	done
	for _ in 1 2; do
		spawn "$PARAMS/max_pool_percent" 10=ok 30=ok 0=EINVAL \
			101=EINVAL abc=EINVAL -1=EINVAL 99999999999=ERANGE
		spawn "$PARAMS/enabled" Y=ok N=ok maybe=EINVAL =EINVAL
		spawn "$MZ_DEBUGFS/cgroup_max" "$a $big=ok" "$a 8192=ok" \
			"$a max=ok" "$a abc=EINVAL" "$a -5=EINVAL" \
			"$a 18446744073709551615=ERANGE" "$a 1k=EINVAL" \
			"$b 1048576=ok" "$gone 4096=ok|ENOENT" \
			"$a/memory.max 1=ENOENT" "/nonexistent 1=ENOENT"
		spawn "$MZ_DEBUGFS/cgroup_writeback" "$a 0=ok" "$a 1=ok" \
			"$b 0=ok" "$a 2=EINVAL" "$gone 1=ok|ENOENT" \
			"$gone 0=ok|ENOENT" "$b/cgroup.procs 1=ENOENT"
		# Swapped on: any change refused with EBUSY, even a valid one.
		spawn "$PARAMS/backing_dev" "$MZ_DISK_SPARE=EBUSY" none=EBUSY \
			"$dev=EBUSY" /dev/nonexistent=EBUSY =EINVAL
	done
	spawn "$PARAMS/accept_threshold_percent" 80=ok 95=ok 101=EINVAL x=EINVAL
	spawn "$PARAMS/max_compressed_percent" 70=ok 90=ok 0=EINVAL
	spawn "$PARAMS/shrinker_enabled" Y=ok N=ok 2=EINVAL
	spawn "$MZ_DEBUGFS/writeback" 64=ok 0=EINVAL -1=EINVAL
	spawn "$MZ_DEBUGFS/reparent" 1=ok 2=EINVAL

	# The writers end by themselves; then the churn and the load.
	for pid in "${pids[@]:1}"; do
		wait "$pid" || rc=1
	done
	touch "$WRITER_STOP"
	wait "${pids[0]}" || rc=1
	cycles=$(<"$TMPDIR/cycles")
	writer_check "${outs[@]}"
	check_eq "$rc" 0 "every writer and the churn ended cleanly"
	echo "$gone created and removed $cycles times meanwhile"
	check_gt "$cycles" 0 "cgroup removals during the writes"

	# Final state: one of the values written, never a mix.
	echo "final: compressor $(<"$PARAMS/compressor") max_pool_percent $(<"$PARAMS/max_pool_percent") enabled $(<"$PARAMS/enabled") backing_dev $(<"$PARAMS/backing_dev")"
	value_in "$(<"$PARAMS/compressor")" lz4 zstd lzo lzo-rle ||
		fail "compressor: $(<"$PARAMS/compressor")"
	value_in "$(<"$PARAMS/max_pool_percent")" 10 30 ||
		fail "max_pool_percent: $(<"$PARAMS/max_pool_percent")"
	value_in "$(<"$PARAMS/accept_threshold_percent")" 80 95 ||
		fail "accept_threshold_percent: $(<"$PARAMS/accept_threshold_percent")"
	value_in "$(<"$PARAMS/enabled")" Y N || fail "enabled: $(<"$PARAMS/enabled")"
	check_eq "$(<"$PARAMS/backing_dev")" "$dev" "backing_dev"
	line=$(mz_cg_line "$CG_MOUNT$a")
	echo "a: $line"
	max=$(mz_cg_field "$CG_MOUNT$a" max)
	wb=$(mz_cg_field "$CG_MOUNT$a" writeback)
	value_in "$max" "$big" 8192 max || fail "a's max: $max"
	value_in "$wb" 0 1 || fail "a's writeback: $wb"
	check_eq "$(mz_cg_field "$CG_MOUNT$b" max)" 1048576 "b's max"
	check_eq "$(mz_cg_field "$CG_MOUNT$b" writeback)" 0 "b's writeback"

	# Data: the load verified every pass under all of it.
	echo "Y" >"$PARAMS/enabled"
	kill -0 "$load" || { wait "$load" || true; fail "the load died"; }
	kill "$load"
	wait "$load" && rc=0 || rc=$?
	check_eq "$rc" $((128 + 15)) "the load ended by our SIGTERM, not a mismatch"
	mz_check_records
	echo "stores $(mz_counter stores) loads $(mz_counter loads) stored $(mz_counter stored_pages) written_back $(mz_counter written_back_pages)"
	check_gt "$(mz_counter loads)" 0 "loads"
	check_gt "$(mz_counter stores)" 0 "stores"
	swap_off /dev/mzswap0
	check_eq "$(mz_counter stored_pages)" 0 "stored_pages after swapoff"
	check_eq "$(mz_counter pool_total_size)" 0 "pool_total_size after swapoff"
	# A cgroup being removed is ENOENT, not "memory controller not
	# enabled" (EINVAL and a warning).
	check_eq "$(klog_since_mark | grep -c "not enabled" || true)" 0 \
		"warnings about the memory controller"
	klog_check_since_mark
}

ktap_print_header
ktap_set_plan 5
ktap_case "module parameters refuse bad values, unchanged" case_params
ktap_case "debugfs knobs refuse bad values, unchanged" case_knobs
ktap_case "backing_dev refused while in use and when unfit" case_backing_dev
ktap_case "refusals keep the kernel log quiet and clean" case_klog
ktap_case "concurrent writers: documented errnos, no torn state, data intact" case_concurrent
ktap_finished
