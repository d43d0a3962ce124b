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
# (Under generic KASAN, rmmod keeps the default threshold: destroying a
# cache frees its quarantined objects in a loop of KASAN's own.)
#
# Then the device's answers to bad I/O (issue 15, item 5): from user space
# the block layer's, from a kernel caller (tests/biomod) the driver's
# (invalid_io); a store that meets a writeback of its slot in flight (a
# slow backing device); and the consistency check shown to report a
# planted inconsistency (issue 15, item 7).
#
# vm: mem=1G cpus=2 disks=backing:4G,spare:64M timeout=600
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/writers.sh"

PARAMS=/sys/module/mzswap/parameters
# The debug kernel's build puts it next to warnmod (tests/Makefile).
if [ -n "${MZ_WARNMOD:-}" ]; then
	BIOMOD=$(dirname "$(dirname "$MZ_WARNMOD")")/biomod/biomod.ko
else
	BIOMOD=$MZ_REPO/tests/biomod/biomod.ko
fi
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

# rotational DEV: DEV's queue/rotational (a /dev path or a name in /sys/block).
rotational()
{
	cat "/sys/block/${1##*/}/queue/rotational"
}

case_rotational_follows_backing()
{
	local rot

	# The swap layer allocates slots and reads ahead by the swap disk's
	# rotational flag; mzswap0's misses go to the backing device, so it
	# takes that device's flag: the virtio disk's, then zram's (never
	# rotational), then the disk's again.
	mz_attach
	rot=$(rotational "$MZ_DISK_BACKING")
	echo "$MZ_DISK_BACKING rotational $rot"
	check_eq "$(rotational mzswap0)" "$rot" "rotational over $MZ_DISK_BACKING"
	[ -d /sys/block/zram0 ] || modprobe zram num_devices=1
	echo 64M >/sys/block/zram0/disksize
	param_write backing_dev /dev/zram0
	check_eq "$(rotational zram0)" 0 "zram0 rotational"
	check_eq "$(rotational mzswap0)" 0 "rotational over zram0"
	param_write backing_dev "$MZ_DISK_BACKING"
	check_eq "$(rotational mzswap0)" "$rot" "rotational over $MZ_DISK_BACKING again"
	echo 1 >/sys/block/zram0/reset
}

case_rmmod_large()
{
	mz_attach
	if kasan_generic; then
		# Generic KASAN quarantines freed objects (up to 1/32 of RAM),
		# and kmem_cache_destroy() frees a cache's share in one loop that
		# never reschedules (6.1: kasan_quarantine_remove_cache() ->
		# qlist_free_all()): 3-9 s under TCG after a million entries.
		# That loop is KASAN's; mzswap's own (mz_tree_drop_all()) is held
		# to 2 s by the backing change above, on this kernel too.
		echo "generic KASAN: rmmod at the default soft-lockup threshold ($((2 * $(<"$WATCHDOG"))) s), for the quarantine's flush"
	else
		watchdog_low
	fi
	klog_mark
	fill
	timed "rmmod" mz_unload
	mz_loaded && fail "module still loaded"
	klog_check_since_mark
}

# dd_errno WANT DD-ARGS...: dd must fail, with the errno named WANT.
dd_errno()
{
	local want out

	want=$(errno_text "$1")
	shift
	if out=$(dd "$@" 2>&1); then
		fail "dd $* succeeded"
	fi
	[[ $out == *": $want"* ]] || fail "dd $*: want $want, got: $out"
	echo "dd $*: $want"
}

# page_of TEXT: one page of numbered lines of TEXT (compressible, not
# same-filled).
page_of()
{
	seq -f "$1 %g" 1000 | head -c 4096 || true
}

# biomod_read READ ERRNO COUNTED: biomod's READ to /dev/mzswap0 fails with
# ERRNO, and invalid_io grows by COUNTED.
biomod_read()
{
	local inv err want

	inv=$(mz_counter invalid_io)
	insmod "$BIOMOD" dev=/dev/mzswap0 read="$1" ||
		fail "insmod $BIOMOD read=$1 failed"
	err=$(</sys/module/biomod/parameters/err)
	rmmod biomod || fail "rmmod biomod failed"
	case $2 in
	EIO)		want=5 ;;
	EOPNOTSUPP)	want=95 ;;
	*)		fail "biomod_read: unknown errno '$2'" ;;
	esac
	echo "biomod read=$1: $err, invalid_io +$(($(mz_counter invalid_io) - inv))"
	check_eq "$err" "-$want" "biomod read=$1: -$2"
	check_eq "$(mz_counter invalid_io)" $((inv + $3)) "invalid_io after read=$1"
}

case_device_io()
{
	local slots stored inv dup

	mz_attach
	slots=$(($(blockdev --getsize64 /dev/mzswap0) / 4096))
	page_of one >"$TMPDIR/one"
	page_of two >"$TMPDIR/two"
	dd if="$TMPDIR/one" of=/dev/mzswap0 bs=4096 seek=8 oflag=direct status=none
	stored=$(mz_counter stored_pages)
	inv=$(mz_counter invalid_io)
	dup=$(mz_counter duplicate_entry)
	check_eq "$stored" 1 "stored_pages after one page"

	# Sub-page and misaligned direct I/O: the block layer refuses it
	# (logical block size 4096) before it reaches the driver.
	dd_errno EINVAL if="$TMPDIR/two" of=/dev/mzswap0 bs=512 seek=64 count=1 oflag=direct
	dd_errno EINVAL if=/dev/mzswap0 of=/dev/null bs=512 skip=65 count=1 iflag=direct
	dd_errno EINVAL if="$TMPDIR/two" of=/dev/mzswap0 bs=4096 seek=4608 count=1 oflag=direct,seek_bytes
	# Past the end: no room for a write, nothing to read.
	dd_errno ENOSPC if="$TMPDIR/two" of=/dev/mzswap0 bs=4096 seek="$slots" count=1 oflag=direct
	dd if=/dev/mzswap0 of="$TMPDIR/past" bs=4096 skip="$slots" count=1 iflag=direct status=none
	check_eq "$(stat -c %s "$TMPDIR/past")" 0 "bytes read past the end"
	# None of that reached the driver: its own check (invalid_io) is for
	# kernel callers; nothing changed.
	check_eq "$(mz_counter invalid_io)" "$inv" "invalid_io"
	check_eq "$(mz_counter stored_pages)" "$stored" "stored_pages after refused I/O"
	dd if=/dev/mzswap0 bs=4096 skip=8 count=1 iflag=direct status=none |
		cmp - "$TMPDIR/one" || fail "page 8 changed"

	# A kernel caller's bad bios (tests/biomod) reach the driver, which
	# refuses each with EIO and counts it (invalid_io); a driver-private
	# operation is refused by the block layer (EOPNOTSUPP: those are for
	# passthrough requests) and never reaches it. Nothing changed.
	[ -f "$BIOMOD" ] || fail "$BIOMOD not built"
	biomod_read misaligned EIO 1
	biomod_read short EIO 1
	biomod_read split EIO 1
	biomod_read driver_op EOPNOTSUPP 0
	check_eq "$(mz_counter stored_pages)" "$stored" "stored_pages after biomod"
	dd if=/dev/mzswap0 bs=4096 skip=8 count=1 iflag=direct status=none |
		cmp - "$TMPDIR/one" || fail "page 8 changed by biomod"

	# Rewriting a held page replaces its entry (duplicate_entry).
	dd if="$TMPDIR/two" of=/dev/mzswap0 bs=4096 seek=8 oflag=direct status=none
	check_eq "$(mz_counter duplicate_entry)" $((dup + 1)) "duplicate_entry"
	check_eq "$(mz_counter stored_pages)" "$stored" "stored_pages after the rewrite"
	dd if=/dev/mzswap0 bs=4096 skip=8 count=1 iflag=direct status=none |
		cmp - "$TMPDIR/two" || fail "page 8 does not read back as rewritten"
}

# A writeback holds its slot across a slow write (dm-delay, 3 s): a new
# store to the slot meanwhile makes a new entry, which a second writeback
# must skip (writeback_skip_busy), and which reads back, not the old data;
# the first write, of the replaced entry, does not count as written back.
case_skip_busy()
{
	local dm=mz22delay dev sectors bg dup skip wb bw

	modprobe dm-delay 2>/dev/null || skip "no dm-delay module"
	sectors=$(blockdev --getsz "$MZ_DISK_SPARE")
	dmsetup create "$dm" --table "0 $sectors delay $MZ_DISK_SPARE 0 3000" ||
		fail "dmsetup create $dm failed"
	at_exit dmsetup remove "$dm"
	# devtmpfs names it dm-MINOR; without udev /dev/mapper may lag.
	dev=/dev/dm-$(dmsetup info -c --noheadings -o minor "$dm")
	wait_for 10 test -b "$dev"
	mz_attach shrinker_enabled=N
	param_write backing_dev "$dev"
	page_of old >"$TMPDIR/old"
	page_of new >"$TMPDIR/new"
	dd if="$TMPDIR/old" of=/dev/mzswap0 bs=4096 seek=5 oflag=direct status=none
	check_eq "$(mz_counter stored_pages)" 1 "stored_pages"
	dup=$(mz_counter duplicate_entry)
	skip=$(mz_counter writeback_skip_busy)
	wb=$(mz_counter written_back_pages)
	bw=$(mz_counter backing_writes)

	# backing_writes counts the write as the slot is locked for it.
	echo 1 >"$MZ_DEBUGFS/writeback" &
	bg=$!
	wait_for 20 counter_above backing_writes "$bw"
	dd if="$TMPDIR/new" of=/dev/mzswap0 bs=4096 seek=5 oflag=direct status=none
	echo 1 >"$MZ_DEBUGFS/writeback"
	kill -0 "$bg" 2>/dev/null ||
		fail "the first writeback ended before the second ran: no overlap"
	wait "$bg" || fail "the first writeback failed"
	echo "duplicate_entry +$(($(mz_counter duplicate_entry) - dup)) writeback_skip_busy +$(($(mz_counter writeback_skip_busy) - skip)) written_back_pages +$(($(mz_counter written_back_pages) - wb))"
	check_eq "$(mz_counter duplicate_entry)" $((dup + 1)) "duplicate_entry"
	check_gt "$(mz_counter writeback_skip_busy)" "$skip" "writeback_skip_busy"
	# The first write carried the replaced entry: not a writeback. The
	# second writeback retries, and may write the new entry back once
	# the slot is free: the new entry is either still stored or written
	# back, never both, never lost.
	check_eq $(($(mz_counter written_back_pages) - wb + $(mz_counter stored_pages))) 1 \
		"new entries written back + stored"
	dd if=/dev/mzswap0 bs=4096 skip=5 count=1 iflag=direct status=none |
		cmp - "$TMPDIR/new" || fail "slot 5 does not read back as the new store"
}

# The consistency check reports a planted inconsistency (the test-only
# "corrupt" knob skews a cgroup's record count), finds none once it is
# repaired, and a module unloaded with one planted unloads cleanly.
case_check_reports()
{
	local out n i

	mz_attach
	klog_mark
	page_of rec >"$TMPDIR/rec"
	for i in 1 2 3 4 5 6 7 8; do
		dd if="$TMPDIR/rec" of=/dev/mzswap0 bs=4096 seek="$i" oflag=direct status=none
	done
	# The test runs in the root cgroup: the records are the root's.
	n=$(mz_counter stored_pages)
	check_eq "$n" 8 "stored_pages"
	mz_check_records

	expect_write_errno "/ 0" EINVAL
	expect_write_errno "/ x" EINVAL
	expect_write_errno "/" EINVAL
	expect_write_errno "/no-such-cgroup 1" ENOENT
	expect_write_errno "/ -9" ERANGE
	mz_check_records

	echo "/ 1" >"$MZ_DEBUGFS/corrupt"
	out=$(<"$MZ_DEBUGFS/check")
	echo "$out"
	[[ ${out##*$'\n'} == *" records $n problems 1" ]] ||
		fail "check did not count the planted problem"
	[[ $out =~ (^|$'\n')"count: cgroup "[0-9]+" stored $((n + 1))/$n " ]] ||
		fail "check did not name the skewed count"

	echo "/ -1" >"$MZ_DEBUGFS/corrupt"
	mz_check_records
	echo "/ 3" >"$MZ_DEBUGFS/corrupt"
	mz_unload
	klog_check_since_mark
}

# expect_write_errno VALUE ERRNO: writing VALUE to the corrupt knob fails
# with ERRNO.
expect_write_errno()
{
	write_expect "$MZ_DEBUGFS/corrupt" "$1" "$2" ||
		fail "corrupt: '$1' not refused with $2"
}

ktap_print_header
ktap_set_plan 8
ktap_case "parameters written during rmmod: refused with ENODEV, 20 rounds" case_params_during_rmmod
ktap_case "whole-device write-zeroes then discard of a million entries" case_discard_full
ktap_case "backing change drops a million entries" case_backing_change_large
ktap_case "mzswap0 is rotational as its backing device is" case_rotational_follows_backing
ktap_case "rmmod drops a million entries" case_rmmod_large
ktap_case "device I/O: misaligned and out-of-range requests refused, rewrite replaces" case_device_io
ktap_case "a new store during a slow writeback: skipped as busy, reads back new" case_skip_busy
ktap_case "check reports a planted inconsistency, none once repaired" case_check_reports
ktap_finished
