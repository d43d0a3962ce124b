#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The harness checks itself: scripts/vm.sh must fail a run whose kernel log
# holds a warning, and must not fail one without. Runs on the host, booting
# its own VMs: one loads tests/warnmod (WARN_ON in its init), one loads it
# with warn=0. Then klog-check is fed canned reports of every kind it must
# catch, and canned noise it must let pass.
#
# Then tests/run.sh itself, on planted test files (in a directory of the
# checkout, for the VMs to see them): a dirty, a panicked and a hung boot, a
# file that times out, a case that exits 4 without a skip reason (as a
# failed swapoff does), skips declared and undeclared, MISMATCH lines in
# and out of a case; each must count as its final line says. tests/pattern
# must exit 1 after a mismatch however it ends, and no swapon or swapoff in
# the tests and the demo may go unchecked.
#
# vm: host timeout=420
set -euo pipefail

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"

VM=$MZ_REPO/scripts/vm.sh
PATTERN=$MZ_REPO/tests/pattern
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

# planted_dir: a directory in the checkout (the guest sees the checkout, not
# the host's /tmp) for the planted files and the inner run's logs.
planted_dir()
{
	local dir

	if [[ $MZ_OUT == "$MZ_REPO"/* ]]; then
		dir=$MZ_OUT/planted
		rm -rf "$dir"
		mkdir -p "$dir"
	else
		mkdir -p "$MZ_REPO/.cache"
		dir=$(mktemp -d "$MZ_REPO/.cache/planted.XXXXXX")
		at_exit rm -rf "$dir"
	fi
	echo "$dir"
}

# plant DIR NAME HEADER BODY: a test file DIR/NAME.sh with "# vm: HEADER"
# and BODY (shell, after the libraries are sourced).
plant()
{
	cat >"$1/$2.sh" <<-EOF
	#!/usr/bin/env bash
	# Planted by tests/01-klog-selftest.sh.
	# vm: $3
	set -euo pipefail
	. "\$MZ_REPO/tests/lib/ktap.sh"
	$4
	EOF
}

# shellcheck disable=SC2016 # planted code: it expands where it runs
case_run_counts()
{
	local dir rc=0 name want got line fails=0 hung

	dir=$(planted_dir)
	# In the VM.
	plant "$dir" st-pass "mem=512M cpus=1 boot=st-a timeout=60" '
ok_case() { echo fine; }
ktap_print_header; ktap_set_plan 1
ktap_case "passes" ok_case
ktap_finished'
	plant "$dir" st-slow "mem=512M cpus=1 boot=st-a timeout=3" '
slow_case() { sleep 60; }
ktap_print_header; ktap_set_plan 1
ktap_case "outlives its file timeout" slow_case
ktap_finished'
	plant "$dir" st-dirty "mem=512M cpus=1 boot=st-dirty timeout=60" '
warn_case() { insmod "${MZ_WARNMOD:-$MZ_REPO/tests/warnmod/warnmod.ko}"; }
ktap_print_header; ktap_set_plan 1
ktap_case "loads a module that WARNs" warn_case
ktap_finished'
	plant "$dir" st-panic "mem=512M cpus=1 boot=st-panic timeout=60" '
panic_case() { echo c >/proc/sysrq-trigger; }
ktap_print_header; ktap_set_plan 1
ktap_case "panics the kernel" panic_case
ktap_finished'
	# Stops the test driver (the parent of timeout(1), our parent): the
	# boot never ends, the VM is killed at its timeout.
	plant "$dir" st-hang "mem=512M cpus=1 boot=st-hang timeout=5" '
hang_case() { local f; read -ra f </proc/$PPID/stat; kill -STOP "${f[3]}"; }
ktap_print_header; ktap_set_plan 1
ktap_case "stops the driver" hang_case
ktap_finished'
	# On the host.
	plant "$dir" st-exit4 "host timeout=30" '
failed_swapoff() { return 4; }
ktap_print_header; ktap_set_plan 1
ktap_case "a command exits 4 (as a failed swapoff does)" failed_swapoff
ktap_finished'
	plant "$dir" st-skip "host timeout=30" '
declared() { skip "planted, declared"; }
undeclared() { skip "planted, not declared"; }
ktap_print_header; ktap_set_plan 2
ktap_case "declared skip" declared
ktap_case "undeclared skip" undeclared
ktap_finished'
	plant "$dir" st-skipall "host timeout=30" '
ktap_print_header
ktap_skip_all "planted, not declared"'
	plant "$dir" st-skipall-ok "host timeout=30" '
ktap_print_header
ktap_skip_all "planted, declared"'
	plant "$dir" st-mismatch "host timeout=30" '
says_mismatch() { echo "pattern: MISMATCH pass 1: page 0 (planted)"; }
ok_case() { :; }
ktap_print_header; ktap_set_plan 2
ktap_case "prints a mismatch line, exits 0" says_mismatch
ktap_case "passes" ok_case
ktap_finished'
	plant "$dir" st-mismatch-out "host timeout=30" '
ok_case() { :; }
echo "pattern: MISMATCH pass 1: page 0 (planted, outside any case)"
ktap_print_header; ktap_set_plan 1
ktap_case "passes" ok_case
ktap_finished'
	cat >"$dir/expected-skips" <<-EOF
	any st-skip declared*
	any st-skipall-ok *
	EOF

	# Of the one inner run: each planted file's line, and the count.
	MZ_EXPECTED_SKIPS=$dir/expected-skips MZ_BOOT_SLACK=20 \
	MZ_OUT='' MZ_RESULTS='' \
		"$MZ_REPO/tests/run.sh" -o "$dir/results" "$dir"/st-*.sh \
		>"$dir/run.out" 2>&1 || rc=$?
	# The run's own lines, not its files': the planted MISMATCH lines
	# would fail this file (run.sh scans every line).
	sed -n '/^[^ ]/s/MISMATCH/MIS-MATCH/gp' "$dir/run.out"
	check_eq "$rc" 1 "run.sh exit status"
	while read -r want name; do
		line=$(grep -E "^(not )?ok [0-9]+ $name( |$)" "$dir/run.out" |
			sed 's/MISMATCH/MIS-MATCH/g' || true)
		case $want in
		ok)	got='^ok [0-9]+ [^#]*$' ;;
		fail)	got='^not ok ' ;;
		skip)	got='^ok [0-9]+ .*# SKIP' ;;
		esac
		if ! [[ $line =~ $got ]]; then
			echo "want $want for $name, got: ${line:-no line}"
			fails=$((fails + 1))
		fi
	done <<-EOF
	ok st-pass
	fail st-slow
	ok boot[0-9]+ kernel log \\(.*boot=st-a\\)
	ok st-dirty
	fail boot[0-9]+ kernel log \\(.*boot=st-dirty\\)
	fail st-panic
	fail boot[0-9]+ kernel log \\(.*boot=st-panic\\)
	fail st-hang
	fail boot[0-9]+ kernel log \\(.*boot=st-hang\\)
	fail st-exit4
	fail st-skip
	fail st-skipall
	skip st-skipall-ok
	fail st-mismatch
	fail st-mismatch-out
	EOF
	check_eq "$fails" 0 "planted files with the wrong result"
	grep -q 'st-skip: skip not in .* undeclared skip: SKIP planted, not declared' "$dir/run.out" ||
		fail "the undeclared skip's reason is not printed"
	grep -q 'st-slow: .*timed out' "$dir/run.out" ||
		fail "st-slow is not reported as timed out"
	grep -q 'st-panic: the VM ended during the test (died)' "$dir/run.out" ||
		fail "st-panic is not reported as a VM that died"
	# On a loaded machine the hung boot's VM may time out before the file
	# starts: counted as failed all the same, one case fewer passed.
	grep -qE 'st-hang: (the VM ended during the test|not run: the VM ended early) \(timeout\)' "$dir/run.out" ||
		fail "st-hang is not reported as a VM that timed out"
	hung=0
	! grep -q '^  ok 1 stops the driver' "$dir/run.out" || hung=1
	# 2 builds, st-pass, boot of st-a, st-dirty's and st-hang's cases,
	# the second cases of st-mismatch and st-mismatch-out; fails: the 11
	# "fail" lines above, each once.
	check_eq "$(tail -n1 "$dir/run.out")" \
		"$((7 + hung)) passed, 11 failed, 2 skipped" "run.sh's final line"
}

# pattern_run FILE EXTRA ENDING: verify FILE (seed 3) pass after pass in the
# background; once it has mapped FILE and printed its first line (a
# MISMATCH) or 1 s has passed, end it by ENDING: "kill" (SIGTERM) or
# "truncate" (the mapping's next access faults: SIGBUS). Prints the exit
# status.
pattern_run()
{
	local file=$1 ending=$2 out=$1.out pid rc=0 i

	"$PATTERN" --file "$file" --seed 3 --no-fill --passes 1000000 --quiet \
		>"$out" 2>&1 &
	pid=$!
	# Mapped first: a truncate before the open is an error exit (2).
	for ((i = 0; i < 100; i++)); do
		grep -qF "$file" "/proc/$pid/maps" 2>/dev/null && break
		nap 0.1
	done
	for ((i = 0; i < 10; i++)); do
		[ -s "$out" ] && break
		nap 0.1
	done
	case $ending in
	kill)		kill "$pid" ;;
	truncate)	truncate -s 0 "$file" ;;
	esac
	wait "$pid" || rc=$?
	# Shown, but not as a mismatch of this file's own (run.sh).
	sed -n '1,2s/MISMATCH/MIS-MATCH/p' "$out" >&2
	echo "$rc"
}

case_pattern_exit()
{
	local f=$MZ_OUT/pattern.bin rc ending

	[ -x "$PATTERN" ] || fail "$PATTERN not built"
	for ending in kill truncate; do
		# Intact: the signal ends it as it would (143, 135).
		"$PATTERN" --file "$f" --size 4M --seed 3 --quiet
		rc=$(pattern_run "$f" "$ending")
		echo "intact, $ending: exit $rc"
		case $ending in
		kill)		check_eq "$rc" $((128 + 15)) "exit status, SIGTERM" ;;
		truncate)	check_eq "$rc" $((128 + 7)) "exit status, SIGBUS" ;;
		esac
		# One byte changed: a mismatch first, then the same ending.
		"$PATTERN" --file "$f" --size 4M --seed 3 --quiet
		printf '\xff' | dd of="$f" bs=1 seek=5000 conv=notrunc status=none
		rc=$(pattern_run "$f" "$ending")
		echo "one byte changed, $ending: exit $rc"
		check_eq "$rc" 1 "exit status after a mismatch, then $ending"
	done
	rm -f "$f" "$f.out"
}

# Every swapon and swapoff in the tests and the demo must be checked:
# util-linux exits 4 (KSFT_SKIP) when the syscall fails. A command line that
# starts with one and has no "||" runs it unchecked (swap_on and swap_off,
# tests/lib/common.sh, check).
case_swap_checked()
{
	local f bad=0 files=()

	files=("$MZ_REPO"/tests/*.sh "$MZ_REPO"/tests/lib/*.sh
	       "$MZ_REPO"/scripts/demo-guest.sh)
	for f in "${files[@]}"; do
		[ -f "$f" ] || continue
		if grep -nE '^[[:space:]]*(swapon|swapoff)([[:space:]]|$)' "$f" |
		   grep -v '||'; then
			echo "^ in ${f#"$MZ_REPO"/}: unchecked (use swap_on or swap_off)"
			bad=$((bad + 1))
		fi
	done
	echo "${#files[@]} files read"
	check_eq "$bad" 0 "files with an unchecked swapon or swapoff"
}

ktap_print_header
ktap_set_plan 7
ktap_case "vm.sh fails a run with a planted kernel WARNING" case_planted_warning
ktap_case "vm.sh passes the same run without the WARNING" case_control_run
ktap_case "klog-check catches each kind of kernel report" case_reports_caught
ktap_case "klog-check lets TCG noise, OOM reports, user faults pass" case_noise_passes
ktap_case "run.sh counts dirty, panicked, hung boots, bad skips, mismatch lines as failed" case_run_counts
ktap_case "pattern exits 1 after a mismatch, even ended by SIGTERM or SIGBUS" case_pattern_exit
ktap_case "every swapon and swapoff in tests/ and the demo is checked" case_swap_checked
ktap_finished
