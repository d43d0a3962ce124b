# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Concurrent writers of knobs and parameters (issue 7): a writer writes a
# list of values to one file, round after round, and checks each write's
# outcome against what docs/admin-guide.md documents for that value. Several run at
# once on the same file. Sourced, never run; needs common.sh.
#
#   errno_text NAME            print the strerror text of errno NAME
#                              (EINVAL...), as bash reports a failed write
#   write_expect FILE VALUE EXPECT
#                              write VALUE to FILE once; EXPECT lists the
#                              allowed outcomes, "|"-separated: "ok" or an
#                              errno name (e.g. "ok|ENOENT"). Returns 1 and
#                              says so if the outcome is not allowed. The
#                              outcome is left in WRITE_OUTCOME.
#   writer FILE ROUNDS START OUT VALUE=EXPECT...
#                              ROUNDS passes over the VALUE=EXPECT list (the
#                              last "=" separates), the first starting at
#                              index START (so that writers of the same
#                              list interleave differently), or until the
#                              file $WRITER_STOP exists if ROUNDS is 0;
#                              writes "writes N ok N refused N unexpected N"
#                              to OUT. Exit status 1 if any outcome was
#                              unexpected.
#   writer_check OUT...        print each writer's tally, fail if one had
#                              an unexpected outcome or never wrote
#   value_in VALUE CANDIDATE...
#                              true if VALUE is one of the candidates

declare -A _errno_text=(
	[EINVAL]="Invalid argument"
	[ENOENT]="No such file or directory"
	[ERANGE]="Numerical result out of range"
	[EBUSY]="Device or resource busy"
	[ENOSPC]="No space left on device"
	[ENOTBLK]="Block device required"
	[EACCES]="Permission denied"
	[ENOMEM]="Cannot allocate memory"
	[ENOTDIR]="Not a directory"
	[ENODEV]="No such device"
)

WRITER_STOP=${WRITER_STOP:-$TMPDIR/writers.stop}

errno_text()
{
	[ -n "${_errno_text[$1]:-}" ] || fail "errno_text: unknown errno '$1'"
	echo "${_errno_text[$1]}"
}

write_expect()
{
	local file=$1 val=$2 expect=$3 err=$TMPDIR/write-err.$BASHPID
	local alt line=''

	if { echo "$val" >"$file"; } 2>"$err"; then
		WRITE_OUTCOME=ok
	else
		read -r line <"$err" || true
		WRITE_OUTCOME="error: ${line##*: }"
	fi
	for alt in ${expect//|/ }; do
		if [ "$alt" = ok ]; then
			[ "$WRITE_OUTCOME" != ok ] || return 0
		elif [[ $WRITE_OUTCOME == "error: ${_errno_text[$alt]:-?}" ]]; then
			return 0
		fi
	done
	echo "writing '$val' to $file: $WRITE_OUTCOME, want $expect"
	return 1
}

writer()
{
	local file=$1 rounds=$2 start=$3 out=$4 round i n spec
	local writes=0 ok=0 refused=0 bad=0

	shift 4
	n=$#
	local specs=("$@")
	for ((round = 0; rounds == 0 || round < rounds; round++)); do
		[ "$rounds" != 0 ] || [ ! -e "$WRITER_STOP" ] || break
		for ((i = 0; i < n; i++)); do
			spec=${specs[$(((start + round + i) % n))]}
			writes=$((writes + 1))
			if write_expect "$file" "${spec%=*}" "${spec##*=}"; then
				if [ "$WRITE_OUTCOME" = ok ]; then
					ok=$((ok + 1))
				else
					refused=$((refused + 1))
				fi
			else
				bad=$((bad + 1))
			fi
		done
	done
	echo "writes $writes ok $ok refused $refused unexpected $bad" >"$out"
	[ "$bad" = 0 ]
}

writer_check()
{
	local out tally rc=0

	for out in "$@"; do
		[ -s "$out" ] || { echo "${out##*/}: no tally"; rc=1; continue; }
		tally=$(<"$out")
		echo "${out##*/}: $tally"
		[[ $tally == *" unexpected 0" ]] || rc=1
		[[ $tally != "writes 0 "* ]] || rc=1
	done
	[ "$rc" = 0 ] || fail "a writer saw an undocumented outcome or never wrote"
}

value_in()
{
	local v=$1 c

	shift
	for c in "$@"; do
		[ "$v" != "$c" ] || return 0
	done
	return 1
}
