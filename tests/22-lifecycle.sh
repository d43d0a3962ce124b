#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Module lifecycle (issue 13, section 2, items 3 and 4): parameters written
# while the module is unloaded, and teardown of a large cache.
#
# On 6.1 ->exit() runs before the parameter files go away and a write to
# them takes no module reference: writers hammer every writable parameter
# during rmmod, 20 times; each write succeeds, is refused with ENODEV once
# exit has begun, or finds the file gone, and the guest survives.
#
# A million entries (a 4 GiB device of zero pages, one entry each) are then
# written, discarded, dropped by a backing change and by rmmod, each in one
# long loop, with the soft-lockup threshold lowered to 2 s around it: a
# loop that does not reschedule reports a soft lockup, which fails the run.
#
# vm: mem=1G cpus=2 disks=backing:4G,spare:64M timeout=600
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/writers.sh"

PARAMS=/sys/module/mzswap/parameters
WATCHDOG=/proc/sys/kernel/watchdog_thresh

# param_hammer FILE OUT VALUE...: write the VALUEs to the parameter FILE in
# turn until the file is gone. Each write must succeed; or be refused with
# ENODEV (module exit has begun: the module's fence, or kernfs while the
# file is being removed), EACCES (kernfs, the file being removed) or EBUSY
# (backing_dev: the disk is open, e.g. by udev); or find the file gone
# (ENOENT), which ends the writer. Tally in OUT.
param_hammer()
{
	local file=$1 out=$2 writes=0 ok=0 fenced=0 bad=0 v

	shift 2
	while :; do
		for v in "$@"; do
			writes=$((writes + 1))
			if ! write_expect "$file" "$v" "ok|ENODEV|EACCES|EBUSY|ENOENT"; then
				bad=$((bad + 1))
				continue
			fi
			case $WRITE_OUTCOME in
			ok)				ok=$((ok + 1)) ;;
			"error: No such device")	fenced=$((fenced + 1)) ;;
			"error: No such file or directory")
				echo "writes $writes ok $ok fenced $fenced unexpected $bad" >"$out"
				[ "$bad" = 0 ]
				return ;;
			esac
		done
	done
}

# exit_quiet: in the kernel log since the mark, nothing of mzswap's comes
# between its "unloading" (the fence is up) and its "unloaded", and
# "unloaded" comes last: no parameter write acted during or after exit
# (a compressor switch says "compressor NAME").
exit_quiet()
{
	local lines

	lines=$(klog_since_mark | grep -o 'mzswap: .*' |
		sed -n '/^mzswap: unloading$/,$p')
	[ "$lines" = $'mzswap: unloading\nmzswap: unloaded' ] ||
		fail "mzswap's log from exit on:"$'\n'"$lines"
}

case_params_during_rmmod()
{
	local round pids out tally fenced=0 ok=0 i

	mz_modprobe_deps
	for round in $(seq 20); do
		mz_load backing_dev="$MZ_DISK_BACKING"
		klog_mark
		pids=()
		param_hammer "$PARAMS/compressor" "$TMPDIR/h.comp" zstd lz4 lzo &
		pids+=($!)
		param_hammer "$PARAMS/backing_dev" "$TMPDIR/h.back" \
			"$MZ_DISK_SPARE" "$MZ_DISK_BACKING" none &
		pids+=($!)
		param_hammer "$PARAMS/max_pool_percent" "$TMPDIR/h.pool" 10 20 &
		pids+=($!)
		param_hammer "$PARAMS/enabled" "$TMPDIR/h.enab" N Y &
		pids+=($!)
		param_hammer "$PARAMS/reparent_period_ms" "$TMPDIR/h.rep" 0 500 &
		pids+=($!)
		nap 0.3
		mz_unload
		for i in "${!pids[@]}"; do
			wait "${pids[$i]}" || echo "round $round: writer $i saw an undocumented outcome"
		done
		for out in "$TMPDIR"/h.*; do
			tally=$(<"$out")
			[[ $tally == *" unexpected 0" ]] ||
				fail "round $round: ${out##*/}: $tally"
			[[ $tally == *" ok 0 "* ]] || ok=$((ok + 1))
			[[ $tally == *" fenced 0 "* ]] || fenced=$((fenced + 1))
		done
		rm -f "$TMPDIR"/h.*
		exit_quiet
		klog_check_since_mark
	done
	echo "20 rounds: $ok writers wrote before exit, $fenced were refused with ENODEV during it"
	check_gt "$ok" 0 "writers that wrote while loaded"
	# Writes did arrive during exit.
	check_gt "$fenced" 0 "writers refused during exit"
}

# Lower the soft-lockup threshold (2 x watchdog_thresh seconds) for the
# long loops; restored at exit of the case.
watchdog_low()
{
	[ -w "$WATCHDOG" ] || skip "no $WATCHDOG"
	at_exit cp "$TMPDIR/watchdog_thresh" "$WATCHDOG"
	cp "$WATCHDOG" "$TMPDIR/watchdog_thresh"
	echo 1 >"$WATCHDOG"
}

# param_write NAME VALUE: write VALUE to the parameter NAME.
param_write()
{
	echo "$2" >"$PARAMS/$1"
}

# timed WHAT CMD...: run CMD, print how long it took.
timed()
{
	local what=$1 start=$EPOCHREALTIME t

	shift
	"$@"
	t=$(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
	echo "$what: ${t} ms"
}

# fill: every page of /dev/mzswap0 zero, written as one write-zeroes bio a
# 4 GiB (mz_write_zeroes()): one entry per page but the header's.
fill()
{
	local slots=$(($(blockdev --getsize64 /dev/mzswap0) / 4096))

	timed "write-zeroes of $slots pages" blkdiscard -f -z /dev/mzswap0
	check_eq "$(mz_counter stored_pages)" $((slots - 1)) "stored_pages after write-zeroes"
	check_eq "$(mz_counter same_filled_pages)" $((slots - 1)) "same_filled_pages"
}

case_discard_full()
{
	local inv

	mz_attach
	watchdog_low
	klog_mark
	fill
	inv=$(mz_counter invalidations)
	timed "discard of the whole device" blkdiscard -f /dev/mzswap0
	check_eq "$(mz_counter stored_pages)" 0 "stored_pages after discard"
	check_ge "$(mz_counter invalidations)" $((inv + (1 << 20) - 1)) "invalidations"
	klog_check_since_mark
}

case_backing_change_large()
{
	mz_attach
	watchdog_low
	klog_mark
	fill
	timed "backing change" param_write backing_dev "$MZ_DISK_SPARE"
	check_eq "$(mz_counter stored_pages)" 0 "stored_pages after the change"
	check_eq "$(<"$PARAMS/backing_dev")" "$MZ_DISK_SPARE" "backing_dev"
	klog_check_since_mark
}

case_rmmod_large()
{
	mz_attach
	watchdog_low
	klog_mark
	fill
	timed "rmmod" mz_unload
	mz_loaded && fail "module still loaded"
	klog_check_since_mark
}

ktap_print_header
ktap_set_plan 4
ktap_case "parameters written during rmmod: refused with ENODEV, 20 rounds" case_params_during_rmmod
ktap_case "whole-device write-zeroes then discard of a million entries" case_discard_full
ktap_case "backing change drops a million entries" case_backing_change_large
ktap_case "rmmod drops a million entries" case_rmmod_large
ktap_finished
