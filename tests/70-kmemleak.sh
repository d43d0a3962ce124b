#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kmemleak after unload (the debug kernel, "make check KERNEL=debug"): no
# object mzswap allocated may be left unreferenced once it is unloaded.
# First over everything the files before this one did in the same boot
# (20-datapath, 30-races, 32-races-sync, 50-reparent and 60-faults share
# it; 40-memcg boots apart, its header says why), then over a run of its
# own that goes through both allocators, writeback, a compressor switch, a
# removed cgroup and an injected failure.
#
# kmemleak reports an object with the stack of its allocation; once the
# module is gone its frames no longer resolve, so mz_load records where each
# load put the module's code ($MZ_LOADS) and a report counts as mzswap's if
# a frame is "[mzswap]" or lies in one of those ranges. Other reports are
# printed, not failed: they are the rest of the kernel's (the klog check of
# the boot still sees kmemleak's "N new suspected memory leaks").
#
# Skipped, saying why, on a kernel without CONFIG_DEBUG_KMEMLEAK.
#
# vm: mem=1G cpus=2 disks=backing:1G timeout=600
set -euo pipefail

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"
# shellcheck source=tests/lib/cgroup.sh
. "$(dirname "$0")/lib/cgroup.sh"
# shellcheck source=tests/lib/mzswap.sh
. "$(dirname "$0")/lib/mzswap.sh"
# shellcheck source=tests/lib/workload.sh
. "$(dirname "$0")/lib/workload.sh"

KMEMLEAK=/sys/kernel/debug/kmemleak

# kmemleak_scan: two scans, as Documentation/dev-tools/kmemleak.rst
# advises (an object seen unreferenced once may be in flight), after the
# 5 s an object must have lived to be reported.
kmemleak_scan()
{
	nap 6
	echo scan >"$KMEMLEAK" || fail "echo scan > $KMEMLEAK failed"
	echo scan >"$KMEMLEAK" || fail "echo scan > $KMEMLEAK failed"
}

# mzswap_reports: print the kmemleak reports whose stack has a frame of
# mzswap, and a count of the others on stderr.
mzswap_reports()
{
	local ranges=

	[ ! -s "$MZ_LOADS" ] || ranges=$(tr '\n' ' ' <"$MZ_LOADS")
	awk -v ranges="$ranges" '
	# The low 32 bits of a module address (0xffffffffXXXXXXXX, 16 digits;
	# all of module space has the high ones set), -1 for anything else:
	# exact in a double, as mawk computes.
	function lo32(s,    i, v) {
		s = tolower(s)
		sub(/^0x/, "", s)
		if (length(s) != 16 || substr(s, 1, 8) != "ffffffff")
			return -1
		v = 0
		for (i = 9; i <= 16; i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	function flush() {
		if (rec == "")
			return
		if (mine) {
			nmine++
			printf "%s", rec
		} else {
			nother++
		}
		rec = ""
		mine = 0
	}
	BEGIN {
		# "START SIZE" pairs.
		n = split(ranges, r, " ")
		for (i = 1; i + 1 <= n; i += 2) {
			if (lo32(r[i]) < 0)
				continue
			lo[++nr] = lo32(r[i])
			hi[nr] = lo[nr] + r[i + 1]
		}
	}
	/^unreferenced object/ { flush() }
	{ rec = rec $0 "\n" }
	/\[mzswap\]/ { mine = 1 }
	/^ +\[</ && !/\[[a-z0-9_]+\]$/ {
		# An unresolved frame: "[<ffffffffc0a01234>] 0xffffffffc0a01234".
		if (match($0, /0x[0-9a-f]+$/)) {
			a = lo32(substr($0, RSTART, RLENGTH))
			for (i = 1; a >= 0 && i <= nr; i++)
				if (a >= lo[i] && a < hi[i])
					mine = 1
		}
	}
	END {
		flush()
		printf "%d report(s) of mzswap, %d of the rest of the kernel\n",
			nmine, nother > "/dev/stderr"
	}' "$KMEMLEAK"
}

# check_no_leak WHAT: scan and fail on any report of mzswap.
check_no_leak()
{
	local mine

	kmemleak_scan
	mine=$(mzswap_reports)
	[ -z "$mine" ] || fail "kmemleak: mzswap leaked ($1):"$'\n'"$mine"
	# The rest of the kernel's, for the log.
	head -n 40 "$KMEMLEAK"
}

case_enabled()
{
	# Reading fails with EBUSY once kmemleak has turned itself off (it
	# does when it cannot allocate its own metadata).
	head -c 1 "$KMEMLEAK" >/dev/null 2>&1 ||
		fail "kmemleak is disabled: $(dmesg | grep -m3 kmemleak || true)"
	local n=0

	[ ! -r "$MZ_LOADS" ] || n=$(wc -l <"$MZ_LOADS")
	echo "code ranges of mzswap loads recorded in this boot: $n"
}

case_earlier_files()
{
	! mz_loaded || fail "mzswap is still loaded"
	check_no_leak "the files before this one in this boot"
}

# exercise ALLOCATOR: one swap workload through the main paths.
exercise()
{
	local cg gone pid

	mz_swapon allocator="$1"
	# Siblings: a cgroup with processes cannot have children with
	# controllers.
	cg=$(cg_create "leak-$1/held")
	cg_write "$cg" memory.max 24M
	hold "$cg" 48M 2to1 21
	pid=$CG_BG_PID
	echo 200 >"$MZ_DEBUGFS/writeback"
	echo zstd >/sys/module/mzswap/parameters/compressor
	# One injected compression failure: a pass-through store.
	echo 100 >"$MZ_DEBUGFS/faults/compress/probability"
	echo 1 >"$MZ_DEBUGFS/faults/compress/times"
	# A cgroup removed with entries: its owner moves to its sibling, its
	# records to the parent.
	gone=$(cg_create "leak-$1/gone")
	cg_write "$gone" memory.max 8M
	hold "$gone" 16M 4to1 22
	echo "$CG_BG_PID" >"$cg/cgroup.procs"
	rmdir "$gone"
	echo 1 >"$MZ_DEBUGFS/reparent"
	mz_check_records
	cg_write "$cg" memory.max max
	verify "$CG_BG_PID"
	verify "$pid"
	echo "$1: stores $(mz_counter stores) loads $(mz_counter loads)" \
		"written_back $(mz_counter written_back_pages)" \
		"reparent_records $(mz_counter reparent_records)"
	check_gt "$(mz_counter written_back_pages)" 0 "written_back_pages"
	mz_teardown
}

case_own_run()
{
	exercise slab
	exercise zsmalloc
	! mz_loaded || fail "mzswap is still loaded"
	check_no_leak "load, swap, writeback, compressor switch, reparenting, unload"
}

ktap_print_header
[ -e "$KMEMLEAK" ] ||
	ktap_skip_all "no $KMEMLEAK: this kernel has no CONFIG_DEBUG_KMEMLEAK (make check KERNEL=debug runs this file)"
ktap_set_plan 3
ktap_case "kmemleak is enabled" case_enabled
ktap_case "no mzswap leak left by the earlier files of this boot" case_earlier_files
ktap_case "no mzswap leak after both allocators, writeback, reparenting, unload" case_own_run
ktap_finished
