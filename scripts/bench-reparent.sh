#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench-reparent.sh: the reparenting pass's cost does not grow with the
# size of the cache. In one VM boot, with N records held by other cgroups
# and then 10 x N, remove cgroups holding k records each and time the
# passes (debugfs reparent_last_ns). Prints a markdown table; target:
# duration at 10 x N <= 1.5 x duration at N.
#
#   scripts/bench-reparent.sh            (after scripts/setup.sh)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
if [ -z "${MZ_VM:-}" ]; then
	cd "$repo"
	make -s >/dev/null
	make -s -C tests >/dev/null
	exec scripts/vm.sh -m 2G -c 2 -d backing:2G -t 900 -- \
		bash "$repo/scripts/bench-reparent.sh"
fi

. "$repo/tests/lib/cgroup.sh"
. "$repo/tests/lib/mzswap.sh"
. "$repo/tests/lib/workload.sh"

REPS=5
mz_swapon shrinker_enabled=N max_pool_percent=50
park=$(cg_create park)
bg=$(cg_create background)
cg_write "$bg" memory.max 64M

# passes_at LABEL: remove REPS cgroups of ~k records each, print the median.
passes_at()
{
	local i cg ns=() n stored

	for ((i = 0; i < REPS; i++)); do
		cg=$(cg_create "k$1$i")
		cg_write "$cg" memory.max 4M
		hold "$cg" 12M 4to1 $((500 + i)) --quiet
		stored=$(mz_cg_field "$cg" stored_pages)
		echo "$CG_BG_PID" >"$park/cgroup.procs"
		rmdir "$cg"
		echo 1 >"$MZ_DEBUGFS/reparent"
		n=$(mz_counter reparent_last_ns)
		ns+=("$n")
		echo "  $1: pass over $stored records: $((n / 1000)) us" >&2
	done
	printf '%s\n' "${ns[@]}" | sort -n | sed -n "$(((REPS + 1) / 2))p"
}

# Fill the background to about N records, then to 10 x N.
hold "$bg" 80M 4to1 1 --quiet
n1=$(mz_counter stored_pages)
t1=$(passes_at small)
for i in 2 3 4 5 6 7 8 9 10 11; do
	b=$(cg_create "background$i")
	cg_write "$b" memory.max 64M
	hold "$b" 80M 4to1 "$i" --quiet
done
n2=$(mz_counter stored_pages)
t2=$(passes_at large)
echo
echo "| records in the cache (N) | k per pass | median pass |"
echo "|---|---|---|"
echo "| $n1 | ~2000 | $((t1 / 1000)) us |"
echo "| $n2 | ~2000 | $((t2 / 1000)) us |"
echo
echo "N grew $((n2 * 10 / n1 / 10)).$((n2 * 10 / n1 % 10))x; the pass took $((t2 * 100 / t1))% of the time at N (target <= 150%)."
mz_check_records
