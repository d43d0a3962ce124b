# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Helpers for the mzswap module itself. Sourced, never run.
#
# The module's statistics are declared once, in include/mzswap/stats.h, as
# an X-macro list of lines "MZ_STAT(name, "description")"; the module
# exposes each as /sys/kernel/debug/mzswap/<name>. The helpers take their
# list of valid names from that header, so that a test asking for a counter
# the module does not have fails loudly instead of reading nothing.
#
#   MZ_KO                 the module file (repo root/mzswap.ko)
#   MZ_DEBUGFS            /sys/kernel/debug/mzswap
#   mz_counter_names      print the counter names listed in stats.h
#   mz_counter NAME       print the value of counter NAME
#   mz_counters           print "NAME VALUE" for every counter, a line each
#   mz_counters NAME...   print "NAME VALUE NAME VALUE ..." on one line, for
#                         a test's log
#   counter_above NAME N  true if counter NAME is above N (for wait_for)
#   mz_load [PARAM=VAL...]  insmod mzswap.ko with module parameters; append
#                         where it put the module's code to MZ_LOADS
#   mz_unload             rmmod mzswap
#   mz_loaded             true if the module is loaded
#   mz_cg_sum COLUMN      the sum of COLUMN over the per-cgroup table
#   mz_wb_loop NR PAUSE LOG
#                         request writeback of NR entries every PAUSE
#                         seconds in the background (PID in MZ_WB_PID),
#                         logging the counters after each request
#   mz_wb_overlap LOG COL LO HI
#                         how many of those requests wrote back while
#                         counter COL (1 reparent_passes, 3 loads) was
#                         between LO and HI: proof that the loop overlapped
#                         the other activity

[ -z "${_MZ_MZSWAP_SH:-}" ] || return 0
_MZ_MZSWAP_SH=1

# shellcheck source=tests/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

MZ_KO=${MZ_KO:-$MZ_REPO/mzswap.ko}
# "START SIZE" per load, for this boot (tests/70-kmemleak.sh).
MZ_LOADS=${MZ_LOADS:-/run/mzswap-loads}
MZ_DEBUGFS=${MZ_DEBUGFS:-/sys/kernel/debug/mzswap}
MZ_STATS_H=${MZ_STATS_H:-$MZ_REPO/include/mzswap/stats.h}
_mz_names=() _mz_val=''

# The names, read from stats.h once per shell, and without a fork: the
# bench reads every counter after each run, and under TCG each fork
# costs tens of milliseconds (a subshell a counter took 2.7 s a run).
_mz_names_load()
{
	local line re='^[[:space:]]*MZ_STAT\([[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*,'

	[ ${#_mz_names[@]} = 0 ] || return 0
	[ -r "$MZ_STATS_H" ] || fail "$MZ_STATS_H missing"
	while IFS= read -r line; do
		[[ $line =~ $re ]] && _mz_names+=("${BASH_REMATCH[1]}")
	done <"$MZ_STATS_H"
	[ ${#_mz_names[@]} -gt 0 ] ||
		fail "no MZ_STAT(name, ...) lines in $MZ_STATS_H"
}

mz_counter_names()
{
	_mz_names_load
	printf '%s\n' "${_mz_names[@]}"
}

# _mz_read NAME: counter NAME's value into _mz_val, in this shell.
_mz_read()
{
	local n

	_mz_names_load
	for n in "${_mz_names[@]}"; do
		[ "$n" != "$1" ] || break
	done
	[ "$n" = "$1" ] ||
		fail "mz_counter: unknown counter '$1' (not in ${MZ_STATS_H#"$MZ_REPO"/})"
	[ -r "$MZ_DEBUGFS/$1" ] ||
		fail "mz_counter: $MZ_DEBUGFS/$1 missing (module not loaded?)"
	_mz_val=''
	read -r _mz_val <"$MZ_DEBUGFS/$1" || [ -n "$_mz_val" ] ||
		fail "mz_counter: $MZ_DEBUGFS/$1 is empty"
}

mz_counter()
{
	_mz_read "$1"
	echo "$_mz_val"
}

mz_counters()
{
	local name line=()

	if [ $# = 0 ]; then
		_mz_names_load
		for name in "${_mz_names[@]}"; do
			_mz_read "$name"
			echo "$name $_mz_val"
		done
		return
	fi
	for name; do
		_mz_read "$name"
		line+=("$name" "$_mz_val")
	done
	echo "${line[*]}"
}

counter_above()
{
	[ "$(mz_counter "$1")" -gt "$2" ]
}

# mz_load [PARAM=VAL...]: insmod the module with MZ_LOAD_PARAMS (a file
# that reruns another in another mode exports it: tests/32-races-sync.sh)
# before the caller's parameters, and check that they took.
mz_load()
{
	local extra=() p

	[ -f "$MZ_KO" ] || fail "$MZ_KO not built"
	read -ra extra <<<"${MZ_LOAD_PARAMS:-}"
	insmod "$MZ_KO" "${extra[@]}" "$@" ||
		fail "insmod $MZ_KO ${extra[*]} $* failed"
	_mz_record_load
	# A file run in another mode must not pass in the default one.
	for p in "${extra[@]}"; do
		[ "$(<"/sys/module/mzswap/parameters/${p%%=*}")" = "${p#*=}" ] ||
			fail "MZ_LOAD_PARAMS: ${p%%=*} is not ${p#*=}"
	done
}

# _mz_record_load: append the address ranges of the module's core and init
# code ("START SIZE" lines) to MZ_LOADS: once the module is unloaded (or its
# init code freed), nothing else tells its frames in a kmemleak stack.
_mz_record_load()
{
	local sys=/sys/module/mzswap name addr size

	{
		while read -r name _ _ _ _ addr _; do
			[ "$name" != mzswap ] || echo "$addr $(<$sys/coresize)"
		done </proc/modules
		# initsize reads 0 once init is done: the section's size.
		# "[Nr] Name Type Address Off Size ..." ("[ 7]" is two fields).
		size=$(readelf -SW "$MZ_KO" 2>/dev/null | awk '{
			for (i = 1; i + 4 <= NF; i++)
				if ($i == ".init.text")
					print $(i + 4)
		}')
		if [ -n "$size" ] && [ -r "$sys/sections/.init.text" ]; then
			echo "$(<$sys/sections/.init.text) $((16#$size))"
		fi
	} >>"$MZ_LOADS" 2>/dev/null || true
}

mz_unload()
{
	rmmod mzswap || fail "rmmod mzswap failed"
}

mz_loaded()
{
	[ -d /sys/module/mzswap ]
}

# mz_modprobe_deps: load what mzswap.ko links against and its compressors
# (insmod, unlike modprobe, resolves no dependencies).
mz_modprobe_deps()
{
	modprobe -a zsmalloc lz4 lz4_compress zstd lzo lzo-rle 2>/dev/null ||
		modprobe -a zsmalloc lz4 || fail "modprobe zsmalloc lz4 failed"
}

# mz_attach [PARAM=VAL...]: a fresh mzswap (reloaded with PARAMs) in front
# of the VM's backing disk ($MZ_DISK_BACKING). Unloaded again (after
# swapoff) at exit of the calling (sub)shell.
mz_attach()
{
	local dev=${MZ_DISK_BACKING:-}

	[ -b "$dev" ] || fail "no backing disk (declare disks=backing:SIZE in the vm: line)"
	if mz_loaded; then
		swapoff /dev/mzswap0 2>/dev/null || true
		mz_unload
	fi
	mz_modprobe_deps
	mz_load backing_dev="$dev" "$@"
	at_exit mz_teardown
}

# mz_swapon [PARAM=VAL...]: mz_attach, then swap on /dev/mzswap0.
mz_swapon()
{
	mz_attach "$@"
	mkswap /dev/mzswap0 >/dev/null || fail "mkswap /dev/mzswap0 failed"
	swapon /dev/mzswap0 || fail "swapon /dev/mzswap0 failed"
}

# mz_teardown: kill the test's cgroups (swapoff would page their memory
# back in), swap off and unload, whatever state things are in.
mz_teardown()
{
	! declare -F cg_cleanup >/dev/null || cg_cleanup
	if grep -q '^/dev/mzswap0 ' /proc/swaps; then
		swapoff /dev/mzswap0 || echo "mz_teardown: swapoff failed" >&2
	fi
	! mz_loaded || rmmod mzswap
}

# mz_check_records: the module's consistency check of its slot->cgroup
# records must report no problem.
mz_check_records()
{
	local out

	out=$(<"$MZ_DEBUGFS/check")
	echo "check: ${out##*$'\n'}"
	[[ ${out##*$'\n'} == *" problems 0" ]] ||
		fail "record check found problems:"$'\n'"$out"
}

# mz_cg_line CG: CG's line of the per-cgroup table (empty if none).
mz_cg_line()
{
	local rel

	rel=$(cg_path "$1")
	rel=${rel#"$CG_MOUNT"}
	grep -m1 "^${rel:-/} " "$MZ_DEBUGFS/cgroups" || true
}

# mz_cg_field CG COLUMN: one column of CG's line, named as in the table's
# header line. A cgroup without a line fails: reading a missing line as 0
# would let a check for 0 pass on a cgroup the module never saw (say so
# with mz_cg_line when no line is what a test expects).
mz_cg_field()
{
	local header line i cols vals

	header=$(head -n1 "$MZ_DEBUGFS/cgroups")
	read -r -a cols <<<"${header#\# }"
	line=$(mz_cg_line "$1")
	[ -n "$line" ] ||
		fail "mz_cg_field: no line for $(cg_path "$1") in $MZ_DEBUGFS/cgroups"
	read -r -a vals <<<"$line"
	for i in "${!cols[@]}"; do
		[ "${cols[$i]}" != "$2" ] || { echo "${vals[$i]}"; return 0; }
	done
	fail "mz_cg_field: no column '$2' in: $header"
}

# mz_cg_sum COLUMN: the sum of COLUMN over every line of the per-cgroup
# table, the removed cgroups' lines included.
mz_cg_sum()
{
	awk -v name="$1" '
		NR == 1 { for (i = 2; i <= NF; i++) if ($i == name) col = i - 1; next }
		col { sum += $col }
		END { if (!col) exit 1; print sum + 0 }' "$MZ_DEBUGFS/cgroups" ||
		fail "mz_cg_sum: no column '$1' in $MZ_DEBUGFS/cgroups"
}

# mz_wb_loop NR PAUSE LOG: in the background, request writeback of NR
# entries, then append "reparent_passes written_back_pages loads" to LOG,
# every PAUSE seconds (0: at once) until killed; MZ_WB_PID is its PID. A
# refused request ends it with the line "failed" (mz_wb_overlap fails then).
mz_wb_loop()
{
	local nr=$1 pause=$2 log=$3 d=$MZ_DEBUGFS

	: >"$log"
	(
		while :; do
			if ! echo "$nr" >"$d/writeback"; then
				echo failed >>"$log"
				exit 1
			fi
			echo "$(<"$d/reparent_passes") $(<"$d/written_back_pages") $(<"$d/loads")" >>"$log"
			[ "$pause" = 0 ] || nap "$pause"
		done
	) &
	# shellcheck disable=SC2034 # for the caller
	MZ_WB_PID=$!
}

# mz_wb_overlap LOG COL LO HI: print the number of requests in LOG (of
# mz_wb_loop) that wrote back something while column COL was above LO and
# below HI; fail if a request was refused or none was logged.
mz_wb_overlap()
{
	local n

	[ -s "$1" ] || fail "mz_wb_overlap: the writeback loop logged nothing"
	n=$(awk -v col="$2" -v lo="$3" -v hi="$4" '
		$1 == "failed" { failed = 1; next }
		NR > 1 && $2 > prev && $col > lo && $col < hi { n++ }
		{ prev = $2 }
		END { print n + 0; exit failed }' "$1") ||
		fail "a writeback request of the loop was refused"
	echo "$n"
}
