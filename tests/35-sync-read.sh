#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# synchronous_io=Y: ->rw_page waits for the backing device when it reads a
# written-back page. Returning with the read in flight made do_swap_page()
# retry the fault (folio_lock_or_retry()) with a fresh page and read the
# disk a second time (issue 14): every written-back page is read once.
#
# vm: mem=1G cpus=2 disks=backing:1G timeout=300
set -euo pipefail

. "$(dirname "$0")/lib/ktap.sh"
. "$(dirname "$0")/lib/cgroup.sh"
. "$(dirname "$0")/lib/mzswap.sh"
. "$(dirname "$0")/lib/workload.sh"

case_read_once()
{
	local cg wb r0 reads

	# No shrinker and no pool limit: a page read and swapped out again
	# stays in the cache, so every backing read is a first read. Every
	# page cached (min_hit_percent=0): after the writeback of them all,
	# the cgroup has loaded none of its entries and would pass its pages
	# through, to be read from the disk again.
	mz_swapon synchronous_io=Y shrinker_enabled=N min_hit_percent=0
	cg=$(cg_create once)
	cg_write "$cg" memory.max 24M
	hold "$cg" 32M 2to1 61
	echo 1000000 >"$MZ_DEBUGFS/writeback"
	wb=$(mz_counter written_back_pages)
	r0=$(mz_counter backing_reads)
	verify "$CG_BG_PID"
	reads=$(($(mz_counter backing_reads) - r0))
	echo "written back $wb, backing reads while verifying $reads, loads $(mz_counter loads)"
	check_gt "$wb" 2000 "written_back_pages"
	check_gt "$reads" 1000 "backing_reads"
	check_le "$reads" "$wb" "backing reads vs pages written back"
}

ktap_print_header
ktap_set_plan 1
ktap_case "synchronous_io=Y: a written-back page is read from the disk once" case_read_once
ktap_finished
