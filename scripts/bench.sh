#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: in-kernel zswap, mzswap, zram and the disk alone, side by side
# in ONE VM boot ("make bench", after scripts/setup.sh). Writes
# results/bench-<date>.md (a markdown table) and .png (gnuplot) and prints
# the table. Times are under QEMU TCG: compare them only as ratios.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo"
make -s >/dev/null
make -s -C tests >/dev/null
out=$repo/results
mkdir -p "$out"
stamp=$(date -u +%Y%m%d-%H%M)
raw=$out/bench-$stamp.raw
t0=$(date +%s)
rc=0
scripts/vm.sh -m 3G -c 2 -d zswapdisk:2G -d mzdisk:2G -d diskonly:2G \
	-t 2400 -e MZ_BENCH_OUT="$raw" -- bash "$repo/scripts/bench-guest.sh" ||
	rc=$?
echo "wall $(( $(date +%s) - t0 )) rc $rc machine $(nproc)cpu-$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) >> 20 ))GiB" >>"$raw"
# Report what was measured even if a section failed, then fail.
python3 "$repo/scripts/bench-report.py" "$raw" "$out/bench-$stamp"
ln -sfn "bench-$stamp.md" "$out/latest.md"
ln -sfn "bench-$stamp.png" "$out/latest.png"
cat "$out/bench-$stamp.md"
exit "$rc"
