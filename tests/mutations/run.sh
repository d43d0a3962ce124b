#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/mutations/run.sh [NAME...]  ("make mutation" runs it)
#
# The mutation check: does the test suite catch a planted bug? Each
# tests/mutations/NAME.patch plants one bug in module/. For each (or those
# named), a copy of this checkout (the working tree's tracked files, under
# .cache/mutations/NAME/tree) gets the patch, then tests/run.sh runs there,
# building the mutant module, only the test files the patch names in its
# header lines
#
#   Caught-by: 20-datapath [50-reparent...]
#   Cases: GLOB[|GLOB...]
#   Strike: TEXT
#
# Cases, if given, is MZ_CASES for that run (tests/lib/ktap.sh): only the
# cases of those files whose description matches run, the ones meant to
# catch the bug; a whole file under TCG takes many minutes per mutant.
#
# Strike, if given, is what the mutant prints to the kernel log each time
# its bug strikes; the guest logs' lines with TEXT are counted. A mutant
# that never struck proves nothing either way: it is an error of the
# check (its cases do not reach the bug), not a catch or a survival.
#
# A mutant is caught when any of those files, or a kernel log check of
# their boot, fails; it survives when everything passes. A build that
# fails (the patch no longer compiles) is an error of the check, never a
# catch, and so is a boot that ends before its files run (it is retried
# twice: TCG on a loaded host sometimes fails its timer check). Every patch must apply exactly (patch -F0: no fuzz) before any VM
# boots: a patch the module's changes made stale fails the whole check at
# once, loudly, naming it.
#
# Prints one line per mutant and file, then a table (also in
# .cache/mutations/summary.md). Exit status 0 when every mutant was caught,
# 1 when one survived, 2 on an error of the check itself (a patch that does
# not apply or build, a bad name, a mutant that never struck). MZ_TIMEOUT_SCALE passes through to
# run.sh. VM-heavy: each mutant boots what its files need; run it alone.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
dir=$repo/tests/mutations
work=$repo/.cache/mutations
patches=()

die()
{
	echo "mutation: $*" >&2
	exit 2
}

# caught_by PATCH: the test files a patch names.
caught_by()
{
	sed -n 's/^Caught-by: *//p' "$1" | tr -s ' \t' '  '
}

# copy_tree DEST: the checkout's tracked files, as in the working tree,
# and its VM image cache (a symlink: read-only use).
copy_tree()
{
	local dest=$1

	rm -rf "$dest"
	mkdir -p "$dest/.cache"
	(cd "$repo" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$dest"
	[ ! -d "$repo/.cache/vm" ] || ln -s "$repo/.cache/vm" "$dest/.cache/vm"
}

# strike_count RESULTS TEXT: lines with TEXT in the kernel logs of the
# run's boots (dmesg.txt, or the console's when the guest did not save it).
strike_count()
{
	local b klog n=0

	for b in "$1"/boot*; do
		klog=$b/dmesg.txt
		[ -s "$klog" ] || klog=$b/console.log
		[ -f "$klog" ] || continue
		n=$((n + $(grep -cF -- "$2" "$klog" || true)))
	done
	echo "$n"
}

main()
{
	local p name files f tree log rc line survived=0 summary cases attempt
	local strike strikes
	local -a rows=()

	if [ $# = 0 ]; then
		patches=("$dir"/*.patch)
	else
		for name in "$@"; do
			[ -f "$dir/$name.patch" ] || die "no $dir/$name.patch"
			patches+=("$dir/$name.patch")
		done
	fi
	[ -f "${patches[0]}" ] || die "no patches in $dir"

	# Every patch applies exactly, or nothing runs.
	mkdir -p "$work"
	tree=$work/check
	copy_tree "$tree"
	for p in "${patches[@]}"; do
		[ -n "$(caught_by "$p")" ] || die "$(basename "$p"): no Caught-by: line"
		patch -d "$tree" -p1 -F0 -N --dry-run -s <"$p" >"$work/apply.err" 2>&1 ||
			die "$(basename "$p") no longer applies to module/ (rewrite it against the current code):"$'\n'"$(cat "$work/apply.err")"
	done
	rm -rf "$tree"

	for p in "${patches[@]}"; do
		name=$(basename "$p" .patch)
		read -ra files <<<"$(caught_by "$p")"
		tree=$work/$name/tree
		log=$work/$name/run.log
		echo "mutation: $name: ${files[*]}"
		copy_tree "$tree"
		patch -d "$tree" -p1 -F0 -N -s <"$p" || die "$name: patch failed"
		cases=$(sed -n 's/^Cases: *//p' "$p")
		[ -z "$cases" ] || echo "mutation: $name: cases $cases"
		# A VM that dies before a file starts (TCG on a loaded host:
		# "IO-APIC + timer doesn't work") is no verdict: boot again.
		for attempt in 1 2 3; do
			rc=0
			rm -rf "$work/$name/results"
			(cd "$tree" && MZ_CASES=$cases tests/run.sh \
				-o "$work/$name/results" "${files[@]}") >"$log" 2>&1 ||
				rc=$?
			grep -q 'not run: the VM ended early' "$log" || break
			echo "mutation: $name: a boot ended before its files ran (attempt $attempt)"
		done
		grep -q 'not run: the VM ended early' "$log" &&
			die "$name: no boot got to run the files (log: $log)"
		if grep -q '^not ok [0-9]* build ' "$log"; then
			grep -A20 '^# build' "$log" | head -n 30 >&2 || true
			die "$name: the mutant does not build (log: $log)"
		fi
		line=
		strike=$(sed -n 's/^Strike: *//p' "$p")
		if [ -n "$strike" ]; then
			strikes=$(strike_count "$work/$name/results" "$strike")
			echo "mutation: $name: struck $strikes times ('$strike' in the guest logs)"
			[ "$strikes" != 0 ] ||
				die "$name: never struck: its cases do not reach the bug (log: $log)"
			line+=" struck $strikes times;"
		fi
		for f in "${files[@]}"; do
			if grep -q "^not ok [0-9]* $f\$" "$log"; then
				line+=" $f: caught;"
			elif grep -q "^ok [0-9]* $f\$" "$log"; then
				line+=" $f: passed;"
			else
				line+=" $f: no result;"
			fi
		done
		if grep -q '^not ok [0-9]* boot[0-9]* kernel log' "$log"; then
			line+=" kernel log: caught;"
		fi
		echo "mutation: $name:$line final: $(tail -n1 "$log")"
		# A table cell: the globs' | escaped.
		cases=${cases//|/\\|}
		if [ "$rc" = 0 ]; then
			survived=$((survived + 1))
			rows+=("| $name | ${files[*]}${cases:+ ($cases)} | **survived** |")
		else
			rows+=("| $name | ${files[*]}${cases:+ ($cases)} | caught:${line%;} |")
		fi
		rm -rf "$tree"
	done

	summary=$work/summary.md
	{
		echo "| mutant | test files run | result |"
		echo "|---|---|---|"
		printf '%s\n' "${rows[@]}"
	} | tee "$summary"
	echo "mutation: logs in $work/NAME/run.log and results/; table in $summary"
	if [ "$survived" != 0 ]; then
		echo "mutation: $survived mutants SURVIVED" >&2
		return 1
	fi
	echo "mutation: every mutant caught"
}

main "$@"
