#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo's steps, as a newcomer sees them (issue 13): scripts/demo-guest.sh
# runs here in the same kind of VM as scripts/demo.sh boots, and its output
# is checked: the counters move, the per-cgroup table shows both cgroups, the
# global worker visits them round-robin (bpftrace on its tracepoint), the
# removed cgroup's records move to its parent with no problem in the check,
# every byte reads back, and the module unloads with nothing left.
#
# vm: mem=1G cpus=2 disks=backing:1G timeout=300
set -euo pipefail

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"

OUT=$MZ_OUT/demo.out

# section TITLE: print the demo's output under the heading that starts
# with TITLE, up to the next heading (colours stripped).
section()
{
	sed 's/\x1b\[[0-9;]*m//g' "$OUT" |
		awk -v t="== $1" 'index($0, "== ") == 1 { on = index($0, t) == 1; next } on'
}

# counter SECTION NAME: the counter NAME as the demo printed it in SECTION.
counter()
{
	section "$1" | awk -v n="$2" '$1 == n { print $2; exit }'
}

# row SECTION PATH_END COLUMN: a column of the per-cgroup table's row whose
# path ends in PATH_END (the demo's cgroups live under the test's).
row()
{
	section "$1" | awk -v p="$2" -v c="$3" \
		'substr($1, length($1) - length(p) + 1) == p { print $c; exit }'
}

TABLE="the per-cgroup table"
WORKER="pool limit lowered"
REPARENT="b's process moves to a"
UNLOAD="swapoff, unload"

case_runs()
{
	local rc=0

	bash "$MZ_REPO/scripts/demo-guest.sh" >"$OUT" 2>&1 || rc=$?
	sed 's/\x1b\[[0-9;]*m//g' "$OUT"
	check_eq "$rc" 0 "demo-guest.sh exit status"
	[ -n "$(section "$UNLOAD")" ] || fail "the demo did not get to its last step"
}

case_counters()
{
	local first wb_before wb_after

	first=$(section "cgroups a" | awk '$1 == "stores" { print $2 }')
	check_gt "${first:-0}" 0 "stores after the cgroups swapped"
	check_gt "$(section "cgroups a" | awk '$1 == "stored_pages" { print $2 }')" 0 \
		"stored_pages after the cgroups swapped"
	wb_before=$(section "cgroups a" | awk '$1 == "written_back_pages" { print $2 }')
	wb_after=$(counter "$WORKER" written_back_pages)
	check_gt "${wb_after:-0}" "${wb_before:-0}" \
		"written_back_pages after the worker's pass vs before"
}

case_table()
{
	local cg

	section "$TABLE" | grep -q '^ *# path id online stored_pages' ||
		fail "no table header"
	for cg in /demo/a /demo/b; do
		check_gt "$(row "$TABLE" "$cg" 4)" 0 "stored_pages of $cg in the table"
	done
}

case_round_robin()
{
	local id_a id_b va vb

	id_a=$(row "$TABLE" /demo/a 2)
	id_b=$(row "$TABLE" /demo/b 2)
	if [ -z "$id_a" ] || [ -z "$id_b" ]; then
		fail "no ids for a and b in the table"
	fi
	section "$WORKER" | grep -q 'visits and entries written per cgroup' ||
		fail "bpftrace printed no visits"
	va=$(section "$WORKER" | sed -n "s/^ *@visits\[$id_a\]: //p")
	vb=$(section "$WORKER" | sed -n "s/^ *@visits\[$id_b\]: //p")
	check_gt "${va:-0}" 0 "worker visits to a (id $id_a)"
	check_gt "${vb:-0}" 0 "worker visits to b (id $id_b)"
	# Round-robin: one round more at most for one of them.
	check_le $((va > vb ? va - vb : vb - va)) 1 "visits to a minus visits to b"
	section "$WORKER" | grep -Eq "^ *@written\[($id_a|$id_b)\]: [1-9]" ||
		fail "the worker wrote nothing back from a or b"
}

case_reparent()
{
	! section "$REPARENT" | grep -q '/demo/b ' || fail "b still in the table"
	check_gt "$(row "$REPARENT" /demo 4)" 0 "stored_pages of /demo, b's parent"
	section "$REPARENT" | grep -Eq '^ *check: .* problems 0$' ||
		fail "check did not report problems 0"
	check_gt "$(counter "$UNLOAD" reparent_records)" 0 "reparent_records"
}

case_verified()
{
	section "every byte verified" | grep -q '^ *both patterns verified$' ||
		fail "the patterns were not both verified"
	check_eq "$(grep -c 'mismatches=0$' "$OUT")" 2 "pattern runs without mismatch"
}

case_unload()
{
	check_eq "$(counter "$UNLOAD" stored_pages)" 0 "stored_pages after swapoff"
	check_eq "$(counter "$UNLOAD" pool_total_size)" 0 "pool_total_size after swapoff"
	section "$UNLOAD" | grep -q 'mzswap: unloaded$' || fail "no 'mzswap: unloaded'"
	[ ! -d /sys/module/mzswap ] || fail "mzswap still loaded"
}

ktap_print_header
ktap_set_plan 7
ktap_case "scripts/demo-guest.sh runs to the end" case_runs
ktap_case "the counters move: stores, stored pages, the worker's writeback" case_counters
ktap_case "the per-cgroup table shows a and b holding pages" case_table
ktap_case "the worker visits a and b round-robin (bpftrace)" case_round_robin
ktap_case "b removed: its records move to the parent, check problems 0" case_reparent
ktap_case "both patterns verified" case_verified
ktap_case "swapoff and unload leave nothing" case_unload
ktap_finished
