#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness checks itself: scripts/vm.sh must fail a run whose kernel log
# holds a warning, and must not fail one without. Runs on the host, booting
# its own VMs: one loads tests/warnmod (WARN_ON in its init), one loads it
# with warn=0. Then klog-check is fed canned reports of every kind it must
# catch, and canned noise it must let pass.
#
# vm: host timeout=300
set -euo pipefail

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"

VM=$MZ_REPO/scripts/vm.sh
CHECK=$MZ_REPO/scripts/lib/klog-check
# The debug kernel's build puts it elsewhere (Makefile, KERNEL=debug).
WARNMOD=${MZ_WARNMOD:-$MZ_REPO/tests/warnmod/warnmod.ko}
# Seconds a VM of this file may take (more on the debug kernel).
VM_TIMEOUT=$((120 * ${MZ_TIMEOUT_SCALE:-1}))

# verdict DIR KEY: print KEY from the verdict vm.sh left in DIR.
verdict()
{
	sed -n "s/^$2=//p" "$1/verdict"
}

case_planted_warning()
{
	local out=$MZ_OUT/warn rc=0

	[ -f "$WARNMOD" ] || fail "$WARNMOD not built"
	"$VM" -t "$VM_TIMEOUT" -o "$out" -- insmod "$WARNMOD" >"$out.log" 2>&1 || rc=$?
	cat "$out.log"
	check_eq "$rc" 99 "vm.sh exit status (99: kernel log check failed)"
	check_eq "$(verdict "$out" status)" 0 "status of insmod in the guest"
	check_eq "$(verdict "$out" klog)" dirty "verdict klog"
	grep -q '^WARNING: CPU: .* warnmod_init' "$out/klog.txt" ||
		fail "the WARNING of warnmod_init is not among the reported lines"
}

case_control_run()
{
	local out=$MZ_OUT/nowarn rc=0

	[ -f "$WARNMOD" ] || fail "$WARNMOD not built"
	"$VM" -t "$VM_TIMEOUT" -o "$out" -- insmod "$WARNMOD" warn=0 \
		>"$out.log" 2>&1 ||
		rc=$?
	cat "$out.log"
	check_eq "$rc" 0 "vm.sh exit status"
	check_eq "$(verdict "$out" klog)" clean "verdict klog"
	grep -q 'warnmod' "$out/dmesg.txt" ||
		fail "dmesg.txt does not show warnmod loading"
}

case_reports_caught()
{
	local line missed=0

	# One line of each kind of report, as the 6.1 kernel prints them.
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		if echo "[   42.123456] $line" | "$CHECK" >/dev/null; then
			echo "not caught: $line"
			missed=$((missed + 1))
		fi
	done <<-'EOF'
	WARNING: CPU: 1 PID: 42 at mm/swapfile.c:1234 swap_free+0x12/0x40
	kernel BUG at mm/swap_state.c:100!
	BUG: unable to handle page fault for address: ffff888100000000
	BUG: KASAN: use-after-free in mz_entry_put+0x1c/0x80 [mzswap]
	BUG: KFENCE: out-of-bounds read in mz_load+0x2a/0x90 [mzswap]
	BUG: sleeping function called from invalid context at mm/slab.h:712
	BUG: scheduling while atomic: kswapd0/45/0x00000002
	BUG: Bad page state in process pattern  pfn:1234
	BUG kmalloc-64 (Tainted: G           O      ): Redzone overwritten
	BUG mzswap_entry (Not tainted): Poison overwritten
	BUG kmalloc-128 (Tainted: G    B      ): Object padding overwritten
	Oops: 0002 [#1] PREEMPT SMP NOPTI
	general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1] PREEMPT SMP NOPTI
	general protection fault: 0000 [#1] PREEMPT SMP NOPTI
	WARNING: possible circular locking dependency detected
	WARNING: inconsistent lock state
	WARNING: suspicious RCU usage
	INFO: possible recursive locking detected
	refcount_t: underflow; use-after-free.
	watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [pattern:123]
	Watchdog detected hard LOCKUP on cpu 1
	INFO: task kswapd0:45 blocked for more than 120 seconds.
	list_add corruption. prev->next should be next (ffff888003a4c8c8), but was 0000000000000000. (prev=ffff888003a4c8c8).
	list_del corruption, ffff888003a4c8c8->next is LIST_POISON1 (dead000000000100)
	rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
	rcu: INFO: rcu_preempt detected expedited stalls on CPUs/tasks: { 1-... } 21002 jiffies s: 345 root: 0x2/.
	rcu: INFO: rcu_sched self-detected stall on CPU
	Kernel panic - not syncing: Fatal exception
	UBSAN: shift-out-of-bounds in mm/zsmalloc.c:123:45
	BUG: KASAN: slab-out-of-bounds in mz_pool_alloc+0x99/0x1c0 [mzswap]
	WARNING: possible recursive locking detected
	BUG: MAX_LOCKDEP_CHAINS too low!
	kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
	ODEBUG: free active (active state 0) object: 00000000a1b2c3d4 object type: work_struct hint: mz_reparent_fn+0x0/0x120 [mzswap]
	page dumped because: VM_BUG_ON_FOLIO(!folio_test_locked(folio))
	Call Trace:
	EOF
	check_eq "$missed" 0 "reports klog-check missed"
}

case_noise_passes()
{
	local out

	# Expected under QEMU TCG, plus an OOM report (its stack dump is
	# allowed), user-space crashes and the driver's markers.
	out=$("$CHECK" <<-'EOF'
	[    0.000602] tsc: Marking TSC unstable due to TSCs unsynchronized
	[    0.555665] mtrr: your CPUs had inconsistent variable MTRR settings
	[    0.555686] mtrr: probably your BIOS does not setup all CPUs.
	[    0.641064] PCI: Using host bridge windows from ACPI; if necessary, use "pci=nocrs" and report a bug
	[    0.679005] acpi PNP0A03:00: fail to add MMCONFIG information, can't access extended PCI configuration space under this bridge.
	[    0.700000] ..MP-BIOS bug: 8254 timer not connected to IO-APIC
	[    0.966539] AMD-Vi: AMD IOMMUv2 functionality not available on this system - This is not a bug.
	[    1.371162] Unstable clock detected, switching default tracing clock to "global"
	[    3.000000] mzt: begin 20-oom
	[    5.000000] pattern invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
	[    5.000001] CPU: 1 PID: 226 Comm: pattern Tainted: G           OE      6.1.0-56-amd64 #1  Debian 6.1.192-1
	[    5.000002] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
	[    5.000003] Call Trace:
	[    5.000004]  <TASK>
	[    5.000005]  dump_stack_lvl+0x44/0x5c
	[    5.000006]  dump_header+0x4a/0x211
	[    5.000007]  oom_kill_process.cold+0xb/0x10
	[    5.000008]  </TASK>
	[    5.000009] memory: usage 65536kB, limit 65536kB, failcnt 1234
	[    5.000010] Memory cgroup out of memory: Killed process 226 (pattern) total-vm:264000kB, anon-rss:65000kB
	[    6.000000] traps: pattern[300] general protection fault ip:401234 sp:7ffd0000 error:0 in pattern[401000+90000]
	[    6.100000] pattern[301]: segfault at 0 ip 0000000000401234 sp 00007ffd00000000 error 4 in pattern[401000+90000]
	[    7.000000] mzt: end 20-oom
	EOF
	) || fail "klog-check flagged noise:"$'\n'"$out"
}

ktap_print_header
ktap_set_plan 4
ktap_case "vm.sh fails a run with a planted kernel WARNING" case_planted_warning
ktap_case "vm.sh passes the same run without the WARNING" case_control_run
ktap_case "klog-check catches each kind of kernel report" case_reports_caught
ktap_case "klog-check lets TCG noise, OOM reports, user faults pass" case_noise_passes
ktap_finished
