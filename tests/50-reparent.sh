#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Swap-record reparenting (issue 5): when a cgroup that owns records is
# removed, its records, counters and limit accounting move to the nearest
# live ancestor; nothing keeps the removed cgroup alive; the consistency
# check finds no stale record after any scenario.
#
# Owners are moved out of a cgroup before it is removed (a cgroup with
# processes cannot be), so their swapped-out pages stay recorded under the
# removed cgroup until the pass moves them.
#
# vm: mem=1G cpus=2 disks=backing:1G timeout=900
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"




case_nested()
{
	local a b c bb aa pc pb pa sc sbb before_a press

	mz_swapon shrinker_enabled=N
	a=$(cg_create a)
	aa=$(cg_create a/aa)
	b=$(cg_create a/b)
	bb=$(cg_create a/b/bb)
	c=$(cg_create a/b/c)
	for cg in "$aa" "$bb" "$c"; do
		cg_write "$cg" memory.max 12M
	done
	hold "$c" 32M 4to1 1 --quiet; pc=$CG_BG_PID
	hold "$bb" 32M 4to1 2 --quiet; pb=$CG_BG_PID
	hold "$aa" 32M 4to1 3 --quiet; pa=$CG_BG_PID
	sc=$(mz_cg_field "$c" stored_pages)
	sbb=$(mz_cg_field "$bb" stored_pages)
	# a holds no pages of its own: no line, or one from an earlier store.
	before_a=0
	[ -z "$(mz_cg_line "$a")" ] || before_a=$(mz_cg_field "$a" stored_pages)
	echo "before: c $sc bb $sbb a $before_a aa $(mz_cg_field "$aa" stored_pages)"
	check_gt "$sc" 1000 "c's stored_pages"
	check_gt "$sbb" 1000 "bb's stored_pages"

	# Meanwhile another cgroup is under pressure.
	press=$(cg_create press)
	cg_write "$press" memory.max 16M
	cg_run_bg "$press" "$PATTERN" --size 48M --kind 2to1 --seed 4 \
		--passes 100 --rewrite 20 --quiet

	# Remove c, then bb and b: owners move to a/aa first. A handful of
	# an owner's pages (its stack, its code) may be swapped in between
	# the count and the removal: allow 32 per cgroup. Pages still charged
	# to a removed cgroup that are swapped out later are recorded in its
	# nearest live ancestor too: the ancestor may gain more.
	echo "$pc" >"$aa/cgroup.procs"
	sc=$(mz_cg_field "$c" stored_pages)
	rmdir "$c"
	echo 1 >"$MZ_DEBUGFS/reparent"
	echo "c removed: b $(mz_cg_line "$b")"
	check_ge "$(mz_cg_field "$b" stored_pages)" $((sc - 32)) \
		"b's stored_pages ~ c's"
	check_eq "$(mz_cg_line "$c")" "" "c's line"
	echo "$pb" >"$aa/cgroup.procs"
	sbb=$(mz_cg_field "$bb" stored_pages)
	sc=$(mz_cg_field "$b" stored_pages)
	rmdir "$bb" "$b"
	echo 1 >"$MZ_DEBUGFS/reparent"
	echo "bb, b removed: $(mz_cg_line "$a")"
	check_ge "$(mz_cg_field "$a" stored_pages)" $((before_a + sc + sbb - 64)) \
		"a's stored_pages ~ c's + bb's"
	mz_check_records

	# The owners, now in a/aa, read every page back (with room to).
	cg_write "$aa" memory.max max
	verify "$pc"
	verify "$pb"
	verify "$pa"
	kill "$CG_BG_PID" 2>/dev/null || true
	mz_check_records
}

# Records of removed cgroups move to their parent, and the table forgets
# the removed cgroups: a new cgroup, however its ids fall, starts without a
# line. (cgroup ids are 64-bit and never reused, and the module keys its
# state by them, so there is no recycled id to meet: what this checks is
# that nothing of the removed cgroups stays behind in the table.)
case_removed_forgotten()
{
	local park i cg removed

	mz_swapon shrinker_enabled=N
	park=$(cg_create park)
	churn_batch gone 0 10 8M 4M "$park"
	churn_batch gone 10 10 8M 4M "$park"
	echo 1 >"$MZ_DEBUGFS/reparent"
	echo "20 removed: $(mz_counter reparent_passes) passes, $(mz_counter reparent_records) records moved"
	check_ge "$(mz_counter reparent_passes)" 20 "reparent_passes"
	check_gt "$(mz_counter reparent_records)" $((20 * 256)) "reparent_records"
	removed=$(grep -c '^(removed) ' "$MZ_DEBUGFS/cgroups" || true)
	check_eq "$removed" 0 "(removed) lines after the pass"
	# Nothing stores or frees now (the owners sleep, no pressure, no
	# shrinker): every record is on a line of the table, none was lost
	# with a removed cgroup. (The check compares records and stored_pages
	# only once swapped off.)
	check_eq "$(mz_cg_sum stored_pages)" "$(mz_counter stored_pages)" \
		"the table's stored_pages summed vs stored_pages"
	# The parent now owns the removed cgroups' records.
	check_gt "$(mz_cg_field "$(cg_root)" stored_pages)" $((20 * 256)) \
		"the parent's stored_pages"
	for ((i = 0; i < 40; i++)); do
		cg=$(cg_create "new$i")
		check_eq "$(mz_cg_line "$cg")" "" "new$i's line"
	done
	mz_check_records
	verify_batch
}

case_churn()
{
	local park press i wb n=${MZ_CHURN:-200} passes0 passes1 overlap

	mz_swapon max_pool_percent=5
	park=$(cg_create park)
	press=$(cg_create press)
	cg_write "$press" memory.max 16M
	cg_run_bg "$press" "$PATTERN" --size 48M --kind 2to1 --seed 5 \
		--passes 1000 --rewrite 20 --quiet
	passes0=$(mz_counter reparent_passes)
	mz_wb_loop 32 0.05 "$TMPDIR/wb.log"
	wb=$MZ_WB_PID
	for ((i = 0; i < n; i += 10)); do
		churn_batch churn "$i" 10 4M 2M "$park"
		verify_batch
	done
	passes1=$(mz_counter reparent_passes)
	kill "$wb"
	wait "$wb" || true
	# The writeback ran while the churn did: requests that wrote back
	# between the first and the last reparenting pass of the churn.
	overlap=$(mz_wb_overlap "$TMPDIR/wb.log" 1 "$passes0" "$passes1")
	echo "writeback: $(wc -l <"$TMPDIR/wb.log") requests, $overlap wrote back during the churn (passes $passes0 -> $passes1)"
	check_ge "$overlap" 5 "writeback requests that wrote back during the churn"
	# Pressure off before the check. Its total (records against
	# stored_pages) is only compared once swapped off, below.
	cg_kill_all "$press"
	echo "$n cgroups churned: passes $(mz_counter reparent_passes) records moved $(mz_counter reparent_records) written_back $(mz_counter written_back_pages)"
	check_ge "$(mz_counter reparent_passes)" "$n" "reparent_passes"
	mz_check_records
	cg_cleanup
	swap_off /dev/mzswap0
	check_eq "$(mz_counter stored_pages)" 0 "stored_pages after swapoff"
	wait_dying_zero
}

case_nested_race()
{
	local park

	mz_swapon shrinker_enabled=N
	park=$(cg_create park)
	churn_batch p 0 10 8M 4M "$park" nested
	churn_batch p 10 10 8M 4M "$park" nested
	churn_batch p 20 10 8M 4M "$park" nested
	mz_check_records
	echo "30 pairs removed: $(mz_cg_line "$(cg_root)")"
	verify_batch
	mz_check_records
}

case_dying_control()
{
	local park i

	# The control: the same churn over zram, no mzswap. The dying count
	# must return to 0 here too, or the check above means nothing.
	modprobe zram num_devices=1
	echo 1 >/sys/block/zram0/reset
	echo 256M >/sys/block/zram0/disksize
	mkswap /dev/zram0 >/dev/null
	swap_on /dev/zram0
	at_exit swapoff /dev/zram0
	park=$(cg_create park)
	for ((i = 0; i < 40; i += 10)); do
		churn_batch z "$i" 10 4M 2M "$park"
		verify_batch
	done
	cg_cleanup
	swap_off /dev/zram0
	wait_dying_zero
}

ktap_print_header
ktap_set_plan 5
ktap_case "nested a/b/c: records of c, then b, arrive at a; data verifies" case_nested
ktap_case "removed cgroups' records reach the parent; new cgroups start without state" case_removed_forgotten
ktap_case "churn of ${MZ_CHURN:-200} cgroups under writeback: no stale record, none dying" case_churn
ktap_case "parent and child removed together, repeatedly" case_nested_race
ktap_case "control: the same churn over zram leaves none dying" case_dying_control
ktap_finished
