#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/run.sh [-v] [-o DIR] [--soak] [TEST...]
#
# The mzswap test suite ("make check" runs it after scripts/setup.sh).
# Builds the module (make at the top) and tests/ (pattern, warnmod), then
# runs the test files tests/NN-*.sh, or those named: "10",
# "10-module-load", "tests/10-module-load.sh" all select that file; a path
# to a test file elsewhere in the checkout runs that file.
#
# Each test file declares where it runs in a header line:
#
#   # vm: mem=1G cpus=2 disks=backing:2G,spare:64M append=slub_debug=FZPU timeout=600
#   # vm: host timeout=120
#
# mem (default 2G), cpus (2), disks (NAME:SIZE list, default none), append
# (one kernel command-line word each, repeatable) describe the VM; files with
# identical VM descriptions share one boot, each run with a fresh cgroup and
# module state by tests/lib/driver.sh. boot=NAME ([a-z0-9-]) is part of the
# description: it keeps a file out of the boots of files that do not name
# it (what a file does to the kernel itself, not to mzswap, must not reach
# a later file). timeout (seconds, default 300) is per file. "host" runs the
# file on the host instead (harness self-tests).
#
# Test files print KTAP (tests/lib/ktap.sh). The output is KTAP too: one
# result per build step, per test file (its cases nested as a subtest) and
# per VM boot (the kernel log check of scripts/vm.sh: any WARNING, BUG,
# Oops... fails it). The last line counts test cases: a file's cases count
# one each; a file that fails without a failing case (crash, timeout, wrong
# case count, cleanup failure, a MISMATCH line) counts one failure more:
#
#   N passed, N failed[, N skipped]
#
# Skips: a skip (of a case, or of a whole file: "1..0 # SKIP") counts as
# skipped only if tests/expected-skips declares it for this kernel; any
# other skip counts as failed, its reason printed. Any output line of a
# test file with "MISMATCH" (tests/pattern found wrong data) fails the file,
# whatever its cases say.
#
# MZ_KERNEL_DIR (set by "make check KERNEL=debug"): boot that kernel
# (scripts/vm.sh -k) and build the module for it (make KERNEL=debug);
# MZ_TIMEOUT_SCALE (default 1) multiplies every file's timeout;
# MZ_EXPECTED_SKIPS (default tests/expected-skips) is the list of accepted
# skips; MZ_CASES ("GLOB|GLOB...") runs only the cases whose description
# matches (tests/lib/ktap.sh), the others skipped and accepted; MZ_BOOT_SLACK (default 120, times MZ_TIMEOUT_SCALE) is what a
# boot may take beyond its files' timeouts before its VM is killed
# (tests/01-klog-selftest.sh shortens it to plant a hung boot).
#
# Exit status 0 when nothing failed. Logs: .cache/results/<time>-<pid>/
# (-o DIR to choose; the last 20 runs are kept), .cache/results/latest
# points to the last run. -v shows the guest consoles on stderr; --soak sets
# MZ_SOAK=1 for the tests' long variants and MZ_SOAK_SECONDS (default
# 1800) for how long they soak, added to every file's timeout.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
tests="$repo/tests"

verbose=()
results=
selected=()
scale=${MZ_TIMEOUT_SCALE:-1}
# make arguments that build for the kernel under test.
kernel_make=()

n_pass=0
n_fail=0
n_skip=0
testno=0
expected_skips=${MZ_EXPECTED_SKIPS:-$tests/expected-skips}
# The kernel the expected skips are declared for.
kernel_kind=debian
[ -z "${MZ_KERNEL_DIR:-}" ] || kernel_kind=debug

# Per test file: requirements parsed from the header.
declare -A f_host f_group f_timeout f_vmargs
files=()

# Per VM group, in order of first appearance.
groups=()
declare -A g_files g_vmargs

# State of the subtest being read (sub_*).
sub_name=
sub_pass=0
sub_fail=0
sub_skip=0
sub_plan=
sub_bail=
sub_log=
sub_mismatch=0
sub_unexpected=()

usage()
{
	sed -n '4,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

# diag TEXT: print TEXT as KTAP diagnostic lines.
diag()
{
	local line

	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

# result ok|fail|skip DESC [REASON]: print a top-level result line.
result()
{
	testno=$((testno + 1))
	case $1 in
	ok)	echo "ok $testno $2" ;;
	fail)	echo "not ok $testno $2" ;;
	skip)	echo "ok $testno $2 # SKIP ${3:-}" ;;
	esac
}

# count ok|fail|skip: add one test case to the totals.
count()
{
	case $1 in
	ok)	n_pass=$((n_pass + 1)) ;;
	fail)	n_fail=$((n_fail + 1)) ;;
	skip)	n_skip=$((n_skip + 1)) ;;
	esac
}

# parse_header FILE: fill f_* for FILE from its "# vm:" line.
parse_header()
{
	local file=$1 line word key val mem=2G cpus=2 disks='' append=() boot=''
	local host='' timeout=300 vmargs=() d

	line=$(grep -m1 '^# vm:' "$file" || true)
	for word in ${line#"# vm:"}; do
		key=${word%%=*}
		val=${word#*=}
		case $key in
		host)		host=1 ;;
		mem)		mem=$val ;;
		cpus)		cpus=$val ;;
		disks)		disks=$val ;;
		append)		append+=("$val") ;;
		boot)		boot=$val
				[[ $boot =~ ^[a-z0-9-]+$ ]] ||
					{ echo "run.sh: $file: bad boot name '$boot'" >&2; exit 2; } ;;
		timeout)	timeout=$val ;;
		*)		echo "run.sh: $file: unknown header key '$key'" >&2
				exit 2 ;;
		esac
	done
	[[ $timeout =~ ^[0-9]+$ ]] ||
		{ echo "run.sh: $file: bad timeout '$timeout'" >&2; exit 2; }
	[ -z "${MZ_SOAK:-}" ] || timeout=$((timeout + ${MZ_SOAK_SECONDS:-1800}))
	f_host[$file]=$host
	f_timeout[$file]=$((timeout * scale))
	vmargs=(-m "$mem" -c "$cpus")
	for d in ${disks//,/ }; do
		vmargs+=(-d "$d")
	done
	for d in "${append[@]}"; do
		vmargs+=(-a "$d")
	done
	f_vmargs[$file]="${vmargs[*]}"
	f_group[$file]="mem=$mem cpus=$cpus${disks:+ disks=$disks}${append[*]:+ append=${append[*]}}${boot:+ boot=$boot}"
}

# select_files: fill files[] from the command line or all tests/NN-*.sh.
select_files()
{
	local all=() f sel hit

	for f in "$tests"/[0-9][0-9]-*.sh; do
		[ -e "$f" ] && all+=("$f")
	done
	if [ ${#selected[@]} = 0 ]; then
		files=("${all[@]}")
		return
	fi
	for sel in "${selected[@]}"; do
		# A test file elsewhere (in the checkout, for the VM to see it).
		if [[ $sel == */* ]] && [ -f "$sel" ] && [[ $sel != "$tests"/* ]] &&
		   [[ $(realpath "$sel") != "$tests"/* ]]; then
			files+=("$(realpath "$sel")")
			continue
		fi
		sel=$(basename "$sel" .sh)
		hit=
		for f in "${all[@]}"; do
			case $(basename "$f" .sh) in
			"$sel"|"$sel"-*)	files+=("$f"); hit=1 ;;
			esac
		done
		[ -n "$hit" ] || { echo "run.sh: no test matches '$sel'" >&2; exit 2; }
	done
}

# build NAME LOG CMD...: run a build step as one test.
build()
{
	local name=$1 log=$2

	shift 2
	if "$@" >"$log" 2>&1; then
		result ok "$name"
		count ok
	else
		diag "$name failed; last lines of $log:"
		diag "$(tail -n 15 "$log")"
		result fail "$name"
		count fail
	fi
}

# sub_begin NAME: start reading the output of test file NAME.
sub_begin()
{
	sub_name=$1
	sub_pass=0
	sub_fail=0
	sub_skip=0
	sub_plan=
	sub_bail=
	sub_log="$results/$1.log"
	sub_mismatch=0
	sub_unexpected=()
	: >"$sub_log"
}

# skip_expected FILE CASE: true if tests/expected-skips declares a skip of
# case CASE (empty: the whole file) of FILE on this kernel.
skip_expected()
{
	local file=$1 case=$2 kern name glob

	[ -r "$expected_skips" ] || return 1
	while read -r kern name glob; do
		case $kern in
		''|'#'*)	continue ;;
		any|"$kernel_kind")	;;
		*)		continue ;;
		esac
		[ "$name" = "$file" ] || continue
		# shellcheck disable=SC2053 # a glob by design
		if [ "$glob" = '*' ] || { [ -n "$case" ] && [[ $case == $glob ]]; }; then
			return 0
		fi
	done <"$expected_skips"
	return 1
}

# sub_line LINE: one output line of the current test file: indent it as a
# subtest, make non-KTAP lines diagnostics, count its own (depth 0) cases.
sub_line()
{
	local line=$1 desc

	echo "$line" >>"$sub_log"
	# Wrong data read back, wherever the line comes from.
	[[ $line != *MISMATCH* ]] || sub_mismatch=$((sub_mismatch + 1))
	case $line in
	"ok "*|"not ok "*)
		if [[ $line == "not ok "* ]]; then
			sub_fail=$((sub_fail + 1))
		elif [[ ${line,,} =~ \#\ *skip ]]; then
			desc=${line#ok }
			desc=${desc#* }
			desc=${desc%%[[:space:]]#*}
			# Cases left out on purpose (MZ_CASES, ktap.sh) too.
			if skip_expected "$sub_name" "$desc" ||
			   { [ -n "${MZ_CASES:-}" ] &&
			     [[ $line == *"# SKIP not selected (MZ_CASES)" ]]; }; then
				sub_skip=$((sub_skip + 1))
			else
				# Not declared: a failure.
				sub_fail=$((sub_fail + 1))
				sub_unexpected+=("$desc: ${line#*# }")
			fi
		else
			sub_pass=$((sub_pass + 1))
		fi ;;
	1..*)
		sub_plan=${line#1..}
		sub_plan=${sub_plan%% *} ;;
	"Bail out!"*)
		sub_bail=1 ;;
	"KTAP version"*|"TAP version"*|"#"*|" "*)
		;;
	*)	line="# $line" ;;
	esac
	echo "  $line"
}

# sub_end RC SECS CLEANUP [WHY]: print the result of the current test file
# from its exit status RC ("-": it never finished, see WHY) and its cases,
# and add its cases to the totals.
sub_end()
{
	local rc=$1 secs=$2 cleanup=$3 why=${4:-} cases reasons=() joined u
	local skipped_file=

	cases=$((sub_pass + sub_fail + sub_skip))
	[ -z "$why" ] || reasons+=("$why")
	[ -z "$sub_bail" ] || reasons+=("bailed out")
	# A whole file skipped ("1..0 # SKIP ...", exit 4).
	if [ "$cases" = 0 ] && [ "$sub_plan" = 0 ] && [ "$rc" = 4 ]; then
		skipped_file=$(grep -m1 -io 'skip.*' "$sub_log" |
			sed 's/^skip *//I')
		skipped_file=${skipped_file:-no reason given}
		if ! skip_expected "$sub_name" ""; then
			sub_unexpected+=("the whole file: ${skipped_file:-no reason}")
			skipped_file=
		fi
	fi
	if [ "$rc" = 124 ]; then
		reasons+=("timed out")
	elif [ "$rc" = - ]; then
		:	# never finished: why says so
	elif [ "$rc" = 4 ] && [ "$sub_pass" = 0 ] &&
	     { [ "$cases" != 0 ] || [ "$sub_plan" = 0 ]; }; then
		:	# every case skipped (ktap_finished's 4), or the whole file
	elif [ "$rc" != 0 ]; then
		reasons+=("exit status $rc")
	fi
	for u in "${sub_unexpected[@]}"; do
		diag "$sub_name: skip not in ${expected_skips#"$repo"/} for the $kernel_kind kernel: $u"
	done
	[ ${#sub_unexpected[@]} = 0 ] ||
		reasons+=("${#sub_unexpected[@]} unexpected skips")
	[ "$sub_mismatch" = 0 ] ||
		reasons+=("$sub_mismatch lines report a mismatch: wrong data read back")
	if [ "$rc" = - ] && [ -z "$sub_plan" ]; then
		:
	elif [ -z "$sub_plan" ]; then
		reasons+=("no plan")
	elif [ "$cases" != "$sub_plan" ]; then
		reasons+=("$cases of $sub_plan cases ran")
	fi
	[ "$cleanup" = ok ] || reasons+=("cleanup failed")
	[ "$sub_fail" = 0 ] || reasons+=("$sub_fail failed")

	n_pass=$((n_pass + sub_pass))
	n_fail=$((n_fail + sub_fail))
	n_skip=$((n_skip + sub_skip))
	[ -z "$secs" ] || diag "$sub_name: ${secs}s"
	if [ ${#reasons[@]} -gt 0 ]; then
		joined=$(printf '%s, ' "${reasons[@]}")
		diag "$sub_name: ${joined%, }"
		result fail "$sub_name"
		# A failure no case accounts for counts by itself.
		[ "$sub_fail" != 0 ] || count fail
	elif [ -n "$skipped_file" ] || { [ "$cases" != 0 ] && [ "$sub_skip" = "$cases" ]; }; then
		result skip "$sub_name" "${skipped_file:-$(grep -m1 -io 'skip.*' "$sub_log" |
			sed 's/^skip *//I')}"
		[ "$cases" != 0 ] || count skip
	else
		result ok "$sub_name"
	fi
	sub_name=
}

# run_host_file FILE: run a "# vm: host" test file on the host.
run_host_file()
{
	local file=$1 name line rc start secs

	name=$(basename "$file" .sh)
	sub_begin "$name"
	mkdir -p "$results/$name.out"
	start=$SECONDS
	while IFS= read -r line; do
		sub_line "$line"
	done < <(MZ_OUT="$results/$name.out" MZ_RESULTS="$results" \
		timeout -k 10 "${f_timeout[$file]}" bash "$file" 2>&1 </dev/null)
	wait $! && rc=0 || rc=$?
	secs=$((SECONDS - start))
	sub_end "$rc" "$secs" ok
}

# drop_pending NAME: remove NAME from run_group's list of files to run.
drop_pending()
{
	local left=() p

	for p in "${pending[@]}"; do
		[ "$p" = "$1" ] || left+=("$p")
	done
	pending=("${left[@]}")
}

# run_group N: boot one VM for the files of group N and run them there.
run_group()
{
	local n=$(($1 + 1)) key=${groups[$1]} dir="$results/boot$(($1 + 1))"
	local timeout=$((${MZ_BOOT_SLACK:-120} * scale))
	local f args=() line name rc vm_rc cleanup secs end klog status
	local pending=() vmargs

	mkdir -p "$dir"
	for f in ${g_files[$key]}; do
		args+=("$f:${f_timeout[$f]}")
		timeout=$((timeout + f_timeout[$f]))
		pending+=("$(basename "$f" .sh)")
	done
	read -ra vmargs <<<"${g_vmargs[$key]}"
	diag "boot$n ($key): ${pending[*]}"

	while IFS= read -r line; do
		case $line in
		"@@mzt begin "*)
			sub_begin "${line#@@mzt begin }" ;;
		"@@mzt end "*)
			read -r _ _ name rc secs cleanup <<<"$line"
			sub_end "${rc#rc=}" "${secs#secs=}" "${cleanup#cleanup=}"
			drop_pending "$name" ;;
		*)
			if [ -n "$sub_name" ]; then
				sub_line "$line"
			else
				diag "boot$n: $line"
			fi ;;
		esac
	done < <(cd "$repo" && "$repo/scripts/vm.sh" "${verbose[@]}" \
		"${vmargs[@]}" -t "$timeout" -o "$dir" -- \
		bash "$tests/lib/driver.sh" "${args[@]}" 2>"$dir/vm.stderr")
	wait $! && vm_rc=0 || vm_rc=$?

	end=died
	klog=dirty
	status=
	if [ -f "$dir/verdict" ]; then
		end=$(sed -n 's/^end=//p' "$dir/verdict")
		klog=$(sed -n 's/^klog=//p' "$dir/verdict")
		status=$(sed -n 's/^status=//p' "$dir/verdict")
	fi
	# A file cut short by the end of the VM, and those never started.
	if [ -n "$sub_name" ]; then
		drop_pending "$sub_name"
		sub_end - "" ok "the VM ended during the test ($end)"
	fi
	for name in "${pending[@]}"; do
		sub_begin "$name"
		sub_end - "" ok "not run: the VM ended early ($end)"
	done

	if [ "$end" = ok ] && [ "$klog" = clean ] && [ "$status" = 0 ]; then
		result ok "boot$n kernel log ($key)"
		count ok
		return
	fi
	[ "$end" = ok ] || diag "boot$n: the VM did not finish: $end (vm.sh exit $vm_rc)"
	[ -z "$status" ] || [ "$status" = 0 ] ||
		diag "boot$n: the test driver exited with $status"
	if [ "$klog" != clean ] && [ -s "$dir/klog.txt" ]; then
		diag "boot$n: kernel log reports (full log: $dir/dmesg.txt or console.log):"
		diag "$(sed 's/^/  /' "$dir/klog.txt")"
	fi
	diag "$(grep '^vm.sh: ' "$dir/vm.stderr" | grep -v 'kernel log check FAILED' |
		sed "s/^/boot$n: /")"
	result fail "boot$n kernel log ($key)"
	count fail
}

main()
{
	local f key n plan

	while [ $# -gt 0 ]; do
		case $1 in
		-v)	verbose=(-v) ;;
		-o)	results=$2; shift ;;
		--soak)	export MZ_SOAK=1
			export MZ_SOAK_SECONDS=${MZ_SOAK_SECONDS:-1800}
			[[ $MZ_SOAK_SECONDS =~ ^[0-9]+$ ]] || usage ;;
		-h|--help)	usage ;;
		-*)	usage ;;
		*)	selected+=("$1") ;;
		esac
		shift
	done
	exec </dev/null
	# Same output from every tool, and programs start faster in the guest
	# without loading a locale.
	export LC_ALL=C
	[[ $scale =~ ^[1-9][0-9]*$ ]] ||
		{ echo "run.sh: bad MZ_TIMEOUT_SCALE '$scale'" >&2; exit 2; }
	[ -z "${MZ_KERNEL_DIR:-}" ] || kernel_make=(KERNEL=debug)

	select_files
	for f in "${files[@]}"; do
		parse_header "$f"
		[ -z "${f_host[$f]}" ] || continue
		key=${f_group[$f]}
		if [ -z "${g_files[$key]:-}" ]; then
			groups+=("$key")
			g_vmargs[$key]=${f_vmargs[$f]}
		fi
		g_files[$key]="${g_files[$key]:-} $f"
	done

	if [ -z "$results" ]; then
		results="$repo/.cache/results/$(date +%Y%m%d-%H%M%S)-$$"
		mkdir -p "$results"
		ln -sfn "$(basename "$results")" "$repo/.cache/results/latest"
		# Keep the last 20 runs.
		find "$repo/.cache/results" -mindepth 1 -maxdepth 1 -type d |
			sort | head -n -20 | xargs -r rm -rf
	fi
	mkdir -p "$results"
	results=$(cd "$results" && pwd -P)

	plan=$((2 + ${#files[@]} + ${#groups[@]}))
	echo "KTAP version 1"
	echo "1..$plan"
	diag "mzswap tests, kernel $("$repo/scripts/kver.sh"), logs in $results"

	build "build mzswap.ko" "$results/build-module.log" \
		make -C "$repo" "${kernel_make[@]}"
	build "build tests" "$results/build-tests.log" make -C "$tests"

	for f in "${files[@]}"; do
		[ -z "${f_host[$f]}" ] || run_host_file "$f"
	done
	for n in "${!groups[@]}"; do
		run_group "$n"
	done

	diag "logs in $results"
	if [ "$n_skip" -gt 0 ]; then
		echo "$n_pass passed, $n_fail failed, $n_skip skipped"
	else
		echo "$n_pass passed, $n_fail failed"
	fi
	[ "$n_fail" = 0 ]
}

main "$@"
