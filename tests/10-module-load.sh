#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# mzswap.ko loads into the Debian 6.1 kernel, creates its debugfs directory
# with every counter include/mzswap/stats.h declares, unloads, and leaves a
# clean kernel log behind.
#
# vm: mem=2G cpus=2 timeout=120
set -euo pipefail

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"
# shellcheck source=tests/lib/mzswap.sh
. "$(dirname "$0")/lib/mzswap.sh"

case_built()
{
	[ -f "$MZ_KO" ] || fail "$MZ_KO is missing: the build failed?"
	modinfo "$MZ_KO" | grep -E '^(license|vermagic):'
	[[ $(modinfo -F vermagic "$MZ_KO") == "$(uname -r) "* ]] ||
		fail "vermagic does not match $(uname -r)"
}

case_load()
{
	klog_mark
	# zsmalloc: not loaded yet when this file runs alone.
	mz_modprobe_deps
	mz_load
	mz_loaded || fail "/sys/module/mzswap missing after insmod"
}

case_debugfs()
{
	[ -d "$MZ_DEBUGFS" ] || fail "$MZ_DEBUGFS missing"
	ls "$MZ_DEBUGFS"
}

case_counters()
{
	local name missing=0

	for name in $(mz_counter_names); do
		if [ -r "$MZ_DEBUGFS/$name" ]; then
			echo "$name $(mz_counter "$name")"
		else
			echo "missing: $MZ_DEBUGFS/$name"
			missing=$((missing + 1))
		fi
	done
	check_eq "$missing" 0 "counters of stats.h missing from debugfs"
}

# Every probe point the bpftrace tools and the bench's scripts name exists
# with mzswap loaded: a kprobe's function is in available_filter_functions
# or, without dynamic ftrace, a text symbol in /proc/kallsyms (a function
# that was renamed or inlined is in neither), a tracepoint in
# events/. bpftrace itself is not run: compiling each script under TCG
# takes seconds, and a script that cannot attach never prints READY (the
# bench's bench-mzswap.bt named mz_writeback_batch for a day after it was
# gone).
case_probe_points()
{
	local tr=/sys/kernel/tracing file kind name rest bad=0 n=0 points funcs
	local bts=("$MZ_REPO"/scripts/bpftrace/*.bt)
	local -A have=()

	# bench-zram.bt's function is zram's.
	modprobe zram num_devices=1 || fail "modprobe zram failed"
	at_exit modprobe -r zram
	points=$(grep -oE '^(kprobe|kretprobe):[A-Za-z0-9_]+|^tracepoint:[a-z0-9_]+:[a-z0-9_]+' \
		"${bts[@]}" | sort -u)
	# One pass of awk over the 50,000 lines ("NAME" or "NAME [module]"):
	# a shell loop takes minutes under TCG. A kernel without dynamic
	# ftrace (the debug kernel) has no such list: its text symbols then
	# ("ADDR t NAME [module]"), which kprobes need and no more.
	if [ -r "$tr/available_filter_functions" ]; then
		funcs=("$tr/available_filter_functions" 1)
	else
		echo "no $tr/available_filter_functions: kprobe functions looked up in /proc/kallsyms"
		funcs=(/proc/kallsyms 3)
	fi
	while read -r name; do
		have[$name]=1
	done < <(awk -v col="${funcs[1]}" 'NR == FNR { split($0, p, ":")
				if (p[2] ~ /probe$/) want[p[3]]; next }
		(col == 1 || $2 ~ /^[tT]$/) && ($col in want) { print $col }' \
		<(echo "$points") "${funcs[0]}")
	while IFS=: read -r file kind name rest; do
		n=$((n + 1))
		case $kind in
		kprobe|kretprobe)
			[ -n "${have[$name]:-}" ] && continue ;;
		tracepoint)
			[ -d "$tr/events/$name/$rest" ] && continue ;;
		esac
		echo "${file##*/}: no $kind:$name${rest:+:$rest}"
		bad=$((bad + 1))
	done <<<"$points"
	echo "$n probe points of ${#bts[@]} scripts checked"
	[ "$n" -gt 20 ] || fail "only $n probe points found in scripts/bpftrace"
	check_eq "$bad" 0 "probe points that do not exist"
}

case_unload()
{
	mz_unload
	! mz_loaded || fail "/sys/module/mzswap still there after rmmod"
	[ ! -e "$MZ_DEBUGFS" ] || fail "$MZ_DEBUGFS left behind"
}

case_klog()
{
	klog_since_mark | grep -i mzswap || true
	klog_check_since_mark
}

ktap_print_header
ktap_set_plan 7
ktap_case "mzswap.ko is built for $(uname -r)" case_built
ktap_case "insmod mzswap.ko" case_load
ktap_case "/sys/kernel/debug/mzswap/ exists" case_debugfs
ktap_case "every counter of stats.h is in debugfs" case_counters
ktap_case "every probe point of scripts/bpftrace exists" case_probe_points
ktap_case "rmmod mzswap" case_unload
ktap_case "kernel log clean from insmod to rmmod" case_klog
ktap_finished
