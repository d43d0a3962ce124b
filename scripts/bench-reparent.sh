#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-reparent.sh: the reparenting pass's cost does not grow with the
# size of the cache. In one VM boot, with N records held by other cgroups
# and then 10 x N, remove cgroups holding k records each and time the
# passes (debugfs reparent_last_ns). Prints a markdown table; target:
# duration at 10 x N <= 1.5 x duration at N.
#
#   make bench-reparent   (or scripts/bench-reparent.sh after setup.sh)
#
# The table also goes to results/reparent-<date>.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
if [ -z "${MZ_VM:-}" ]; then
	cd "$repo"
	make -s >/dev/null
	make -s -C tests >/dev/null
	exec scripts/vm.sh -m 3G -c 2 -d backing:4G -t 1200 -- \
		bash "$repo/scripts/bench-reparent.sh"
fi

. "$repo/tests/lib/cgroup.sh"
. "$repo/tests/lib/mzswap.sh"
. "$repo/tests/lib/workload.sh"

REPS=7
mz_swapon shrinker_enabled=N max_pool_percent=60
park=$(cg_create park)

# passes_at LABEL: remove REPS cgroups of ~k records each; print the median
# pass as "NS K".
passes_at()
{
	local i cg ns=() n stored

	for ((i = 0; i < REPS; i++)); do
		cg=$(cg_create "k$1$i")
		hold "$cg" 8M 4to1 $((500 + i)) --quiet
		cg_reclaim "$cg" 8M
		stored=$(mz_cg_field "$cg" stored_pages)
		echo "$CG_BG_PID" >"$park/cgroup.procs"
		rmdir "$cg"
		echo 1 >"$MZ_DEBUGFS/reparent"
		n=$(mz_counter reparent_last_ns)
		ns+=("$n $stored")
		echo "  $1: pass over $stored records: $((n / 1000)) us" >&2
	done
	printf '%s\n' "${ns[@]}" | sort -n | sed -n "$(((REPS + 1) / 2))p"
}

# fill_background FIRST LAST: cgroups background$FIRST..$LAST, 80M each,
# swapped out whole; their records are the N the passes must not scale with.
fill_background()
{
	local i b

	for ((i = $1; i <= $2; i++)); do
		b=$(cg_create "background$i")
		hold "$b" 80M 4to1 "$i" --quiet
		cg_reclaim "$b" 80M
	done
}

fill_background 1 1
n1=$(mz_counter stored_pages)
read -r t1 k1 < <(passes_at small)
fill_background 2 10
n2=$(mz_counter stored_pages)
read -r t2 k2 < <(passes_at large)
table=$repo/results/reparent-$(date -u +%Y%m%d-%H%M).md
mkdir -p "$repo/results"
{
	echo "Reparenting pass, $(uname -r), $(nproc) vCPUs under QEMU TCG, $(date -u +%F):"
	echo
	echo "| records in the cache (N) | k per pass | median pass of $REPS |"
	echo "|---|---|---|"
	echo "| $n1 | $k1 | $((t1 / 1000)) us |"
	echo "| $n2 | $k2 | $((t2 / 1000)) us |"
	echo
	echo "N grew $((n2 * 10 / n1 / 10)).$((n2 * 10 / n1 % 10))x; the pass took $((t2 * 100 / t1))% of the time at N (target <= 150%)."
} | tee "$table"
mz_check_records
