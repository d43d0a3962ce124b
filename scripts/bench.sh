#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: in-kernel zswap, mzswap, zram and the disk alone, side by side
# in ONE VM boot ("make bench", after scripts/setup.sh). Writes
# results/bench-<date>.md (a markdown table) and .png (gnuplot) and prints
# the table. Times are under QEMU TCG: compare them only as ratios.
#
# The guest runs its workloads twice: over unthrottled disks (the host's
# page cache), then over disks throttled so that a request costs what an
# NVMe SSD's costs relative to the CPU. The host measures its own lz4 speed
# here (scripts/lib/lz4-speed) and passes it in (MZ_BENCH_HOST_LZ4_MBS and
# _DMBS); the guest measures its own the same way in the same boot and
# asks for the throttle through throttle_serve below.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo"
# The guest sees this checkout and nothing else of the host: an older
# module to compare (bench-guest.sh's MZ_BENCH_BEFORE_KO) must be in it.
if [ -n "${MZ_BENCH_BEFORE_KO:-}" ]; then
	before=$(realpath -e -- "$MZ_BENCH_BEFORE_KO" 2>/dev/null) || {
		echo "bench: MZ_BENCH_BEFORE_KO=$MZ_BENCH_BEFORE_KO: no such file" >&2
		exit 2
	}
	[[ $before == "$repo"/* ]] || {
		echo "bench: MZ_BENCH_BEFORE_KO=$before is outside $repo, the only host directory the guest sees: copy it in (say, under .cache/)" >&2
		exit 2
	}
	export MZ_BENCH_BEFORE_KO=$before
fi
make -s >/dev/null
make -s -C tests >/dev/null
out=$repo/results
mkdir -p "$out"
stamp=$(date -u +%Y%m%d-%H%M)
raw=$out/bench-$stamp.raw
# vm.sh's -o directory: its monitor socket's path must stay short.
vmdir=$repo/.cache/bench-vm
# The backing disks, in vm.sh's -d order: QEMU names them disk0, disk1...;
# the guest finds them as $MZ_DISK_<NAME>.
disks=(zswapdisk mzdisk diskonly)

# throttle_serve: until killed, apply the guest's requests to throttle a
# disk. The guest (bench-guest.sh's disk_throttle) writes "NAME IOPS_RD
# IOPS_WR BPS_RD BPS_WR" (0: unlimited) to $vmdir/throttle.req; this sets
# them with the monitor's block_set_io_throttle and writes its reply to
# throttle.ack.
throttle_serve()
{
	local name iops_rd iops_wr bps_rd bps_wr i id reply

	while :; do
		if [ -e "$vmdir/throttle.req" ]; then
			read -r name iops_rd iops_wr bps_rd bps_wr <"$vmdir/throttle.req"
			id=
			for i in "${!disks[@]}"; do
				[ "${disks[i]}" != "$name" ] || id=disk$i
			done
			if [ -z "$id" ]; then
				reply="error: no disk '$name'"
			else
				reply=$(scripts/lib/hmp.py "$vmdir/.vm/monitor" \
					"block_set_io_throttle $id 0 $bps_rd $bps_wr 0 $iops_rd $iops_wr" \
					2>&1 | sed 1d) || reply="error: $reply"
				[ -n "$reply" ] || reply=ok
			fi
			rm -f "$vmdir/throttle.req"
			echo "$reply" >"$vmdir/throttle.ack.tmp"
			mv "$vmdir/throttle.ack.tmp" "$vmdir/throttle.ack"
		fi
		sleep 0.2
	done
}

mkdir -p "$vmdir"
rm -f "$vmdir"/throttle.*
read -r host_mbs host_dmbs < <(scripts/lib/lz4-speed)
throttle_serve &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
t0=$(date +%s)
rc=0
diskargs=()
for d in "${disks[@]}"; do
	diskargs+=(-d "$d:2G")
done
# tsc=reliable: under TCG the kernel finds the vCPUs' TSCs unsynchronized
# and falls back to the HPET, whose every read (ktime_get(), once per
# submitted bio and more) is an emulated MMIO access: a real machine's
# TSC read costs nanoseconds. mzswap, a block device over another,
# submits two bios a page and paid twice what the others paid
# (docs/notes/2026-12-07-calibrated-parity.md). MZ_BENCH_APPEND= (empty)
# boots without it.
append=${MZ_BENCH_APPEND-tsc=reliable}
scripts/vm.sh -m 3G -c 2 ${append:+-a "$append"} "${diskargs[@]}" \
	-o "$vmdir" -t 2400 -e MZ_BENCH_OUT="$raw" \
	-e MZ_BENCH_HOST_LZ4_MBS="$host_mbs" -e MZ_BENCH_HOST_LZ4_DMBS="$host_dmbs" \
	-- bash "$repo/scripts/bench-guest.sh" || rc=$?
echo "wall $(( $(date +%s) - t0 )) rc $rc machine $(nproc)cpu-$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) >> 20 ))GiB" >>"$raw"
# Report what was measured even if a section failed, then fail.
# The synchronous_io=N figures the unthrottled runs are held to.
base=${MZ_BENCH_BASELINE:-$out/bench-20261203-2020.raw}
baseline=()
if [ -r "$base" ]; then
	baseline=("$base")
else
	echo "bench: no baseline $base: the report leaves out the comparison with it" >&2
fi
python3 "$repo/scripts/bench-report.py" "$raw" "$out/bench-$stamp" "${baseline[@]}"
ln -sfn "bench-$stamp.md" "$out/latest.md"
ln -sfn "bench-$stamp.png" "$out/latest.png"
cat "$out/bench-$stamp.md"
exit "$rc"
