#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The test rig itself, before any mzswap code: the guest runs the Debian 6.1
# kernel, cgroup v2 memory control works, bpftrace attaches to the vmscan
# tracepoints, tests/pattern's kinds compress as labelled under the kernel's
# lz4, and a cgroup squeezed far below its working set swaps out to zram and
# back in with every byte intact. If these fail, no later test means much.
#
# vm: mem=2G cpus=2 timeout=300
set -euo pipefail

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"
# shellcheck source=tests/lib/cgroup.sh
. "$(dirname "$0")/lib/cgroup.sh"

PATTERN=$MZ_REPO/tests/pattern
ZRAM=/sys/block/zram0

# zram_setup SIZE: (re)create zram0 with lz4 and SIZE bytes of disk.
zram_setup()
{
	[ -d "$ZRAM" ] || modprobe zram num_devices=1
	echo 1 >"$ZRAM/reset"
	echo lz4 >"$ZRAM/comp_algorithm"
	echo "$1" >"$ZRAM/disksize"
}

# zram_swapon SIZE: swap on a fresh zram0 of SIZE; swapped off at exit.
zram_swapon()
{
	zram_setup "$1"
	mkswap /dev/zram0 >/dev/null
	swap_on /dev/zram0
	at_exit swapoff /dev/zram0
}

case_kernel()
{
	local want got

	got=$(uname -r)
	if [ -n "${MZ_KERNEL_DIR:-}" ]; then
		# The debug kernel: Debian's source, our configuration.
		want=$(<"$MZ_KERNEL_DIR/release")
		echo "uname -r: $got, $MZ_KERNEL_DIR/release: $want"
		check_eq "$got" "$want" "running kernel"
		zcat /proc/config.gz | grep -qx 'CONFIG_KASAN=y' ||
			fail "the debug kernel runs without CONFIG_KASAN"
		return
	fi
	want=$(KVER='' "$MZ_REPO/scripts/kver.sh")
	echo "uname -r: $got, linux-image-amd64 depends on: $want"
	check_eq "$got" "$want" "running kernel"
	[[ $(</proc/version) == *Debian* ]] || fail "not a Debian kernel: $(</proc/version)"
}

case_memcg()
{
	local cg

	grep -q '^cgroup2 /sys/fs/cgroup cgroup2 .*nsdelegate' /proc/mounts ||
		fail "cgroup2 is not mounted at /sys/fs/cgroup with nsdelegate"
	[[ " $(cg_read "$CG_MOUNT" cgroup.subtree_control) " == *" memory "* ]] ||
		fail "memory is not enabled in the root's subtree_control"
	cg=$(cg_create memcg-probe)
	cg_write "$cg" memory.max 64M
	check_eq "$(cg_read "$cg" memory.max)" $((64 << 20)) "memory.max"
	check_eq "$(cg_read "$cg" memory.swap.max)" max "memory.swap.max"
	cg_run_in "$cg" true
	cg_read_stat "$cg" anon >/dev/null
}

case_bpftrace()
{
	local cg script out total image

	# Reclaim in a cgroup of 16 MiB that reads 48 MiB of a file (page cache
	# and shadow nodes charged to it), then drop_caches system-wide.
	image=/boot/vmlinuz-$(uname -r)
	[ -e "$image" ] || image=${MZ_KERNEL_DIR:-}/vmlinux
	cg=$(cg_create shrink)
	cg_write "$cg" memory.max 16M
	script=$TMPDIR/pressure.sh
	cat >"$script" <<-EOF
	echo \$\$ >$cg/cgroup.procs
	head -c 48M $image $MZ_REPO/.cache/vm/vmlinux-* >/dev/null
	echo 2 >/proc/sys/vm/drop_caches
	EOF
	out=$(bpftrace -q -e '
	tracepoint:vmscan:mm_shrink_slab_start {
		@shrinker[ksym(args->shrink)] = count();
		@total = count();
	}' -c "/bin/sh $script")
	echo "$out" | grep .
	total=$(echo "$out" | sed -n 's/^@total: //p')
	check_ge "${total:-0}" 1 "mm_shrink_slab_start events"
	check_gt "$(cg_read_key "$cg" memory.events max)" 0 \
		"memory.events max of the reading cgroup"
}

case_calibration()
{
	local kind orig compr same pages=4096 ratio lo hi

	# Write 16 MiB of each kind straight to zram0 and read back how the
	# kernel's lz4 stored it (mm_stat: orig_data_size compr_data_size
	# mem_used_total mem_limit mem_used_max same_pages ...).
	for kind in incompressible 2to1 4to1 same zero; do
		zram_setup 64M
		"$PATTERN" --file /dev/zram0 --size 16M --kind "$kind" --seed 3 \
			--sync --quiet
		echo 1 >/proc/sys/vm/drop_caches
		"$PATTERN" --file /dev/zram0 --size 16M --kind "$kind" --seed 3 \
			--no-fill --verify --quiet
		read -r orig compr _ _ _ same _ <"$ZRAM/mm_stat"
		ratio=$((compr ? orig * 100 / compr : 0))
		printf '%s: orig %d compr %d same_pages %d ratio %d.%02d\n' \
			"$kind" "$orig" "$compr" "$same" $((ratio / 100)) $((ratio % 100))
		case $kind in
		incompressible)	lo=95 hi=105 ;;
		2to1)		lo=180 hi=230 ;;
		4to1)		lo=350 hi=460 ;;
		*)		check_eq "$same" "$pages" "$kind: same-filled pages"
				continue ;;
		esac
		check_eq "$same" 0 "$kind: same-filled pages"
		check_ge "$ratio" "$lo" "$kind: compression ratio x100"
		check_le "$ratio" "$hi" "$kind: compression ratio x100"
	done
	echo 1 >"$ZRAM/reset"
}

case_zram_swap()
{
	local cg out0 in0 out1 in1 swap ready=$TMPDIR/ready rc=0

	zram_swapon 1G
	cg=$(cg_create squeeze)
	cg_write "$cg" memory.max 64M
	out0=$(vmstat pswpout)
	in0=$(vmstat pswpin)

	# 256 MiB of ~2:1 data under a 64 MiB limit: at least 192 MiB must
	# go to swap while the program holds it.
	cg_run_bg "$cg" "$PATTERN" --size 256M --kind 2to1 --seed 7 \
		--ready "$ready" --hold 0 --verify --rewrite 10
	wait_for 120 test -e "$ready"
	swap=$(cg_read "$cg" memory.swap.current)
	out1=$(vmstat pswpout)
	echo "filled: memory.current $(cg_read "$cg" memory.current)" \
		"memory.swap.current $swap pswpout +$((out1 - out0))"
	check_le "$(cg_read "$cg" memory.current)" $((64 << 20)) "memory.current"
	check_ge "$swap" $((180 << 20)) "memory.swap.current"
	check_ge $((out1 - out0)) $((180 << 8)) "pswpout pages"

	# Rewrite 10% of the pages (swap-in, then a new version), then read
	# back and check everything.
	kill -USR1 "$CG_BG_PID"
	wait "$CG_BG_PID" || rc=$?
	in1=$(vmstat pswpin)
	echo "verified: pswpin +$((in1 - in0)) pswpout +$(($(vmstat pswpout) - out0))"
	check_eq "$rc" 0 "pattern exit status (0: every byte verified)"
	check_ge $((in1 - in0)) $((180 << 8)) "pswpin pages"
	check_gt "$(cg_read_key "$cg" memory.events max)" 0 "memory.events max"
	check_eq "$(cg_read_key "$cg" memory.events oom_kill)" 0 \
		"memory.events oom_kill"
}

ktap_print_header
ktap_set_plan 5
ktap_case "guest runs the ${MZ_KERNEL_DIR:+debug build of the }Debian 6.1 test kernel" case_kernel
ktap_case "cgroup2 memory controller works" case_memcg
ktap_case "bpftrace counts vmscan:mm_shrink_slab_start under reclaim" case_bpftrace
ktap_case "pattern kinds compress as labelled (zram, lz4)" case_calibration
ktap_case "256M under memory.max=64M swaps to zram and back intact" case_zram_swap
ktap_finished
