# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Basics shared by the test files and the other helpers in tests/lib/.
# Sourced, never run. Test files usually source ktap.sh, which sources this.
#
#   MZ_REPO                    the checkout (same path on the host and in the VM)
#   MZ_OUT                     directory for the test's bulky output
#   at_exit CMD [ARG...]       run CMD at exit of the current (sub)shell, LIFO
#   fail MSG                   print MSG on stderr and exit 1 (ends a case)
#   skip REASON                end the current case as skipped (see ktap_case);
#                              REASON is required: an exit status of 4 alone
#                              is a failure, not a skip
#   swap_off DEV, swap_on DEV  swapoff/swapon DEV, fail unless it worked
#                              (util-linux exits 4, KSFT_SKIP, when the
#                              syscall fails: never run them unchecked)
#   check_eq|ne|ge|gt|le|lt ACTUAL EXPECTED WHAT
#                              fail unless ACTUAL compares so with EXPECTED
#   wait_for SECONDS CMD [ARG...]
#                              poll CMD every 0.1 s until it succeeds; fail
#                              after SECONDS
#   settled SECONDS CMD [ARG...]
#                              CMD's output once it stands still for a
#                              second; fail after SECONDS
#   nap SECONDS                sleep without starting a program
#   klog_mark                  remember where the kernel log ends now
#   klog_since_mark            print the kernel log written since klog_mark
#   klog_check_since_mark      fail if that part of the log has a report
#                              (scripts/lib/klog-patterns)
#   vmstat KEY                 print the /proc/vmstat counter KEY
#   kasan_generic              true on a kernel with generic KASAN (debug)

[ -z "${_MZ_COMMON_SH:-}" ] || return 0
_MZ_COMMON_SH=1

MZ_REPO=${MZ_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
TMPDIR=${TMPDIR:-/tmp}
MZ_OUT=${MZ_OUT:-$TMPDIR}
export MZ_REPO MZ_OUT TMPDIR

# kselftest exit codes.
# shellcheck disable=SC2034 # for the test files
KSFT_PASS=0
KSFT_FAIL=1
# shellcheck disable=SC2034
KSFT_XFAIL=2
# shellcheck disable=SC2034
KSFT_XPASS=3
KSFT_SKIP=4

_at_exit_cmds=()
_at_exit_owner=()

# _run_at_exit: the EXIT trap. Runs, last registered first, the commands
# that this very (sub)shell registered: subshells inherit the arrays, but
# must not run their parent's cleanups.
_run_at_exit()
{
	local i

	for ((i = ${#_at_exit_cmds[@]} - 1; i >= 0; i--)); do
		[ "${_at_exit_owner[$i]}" = "$BASHPID" ] || continue
		eval "${_at_exit_cmds[$i]}" || true
	done
}

# at_exit CMD [ARG...]: run CMD ARG... when the current shell exits.
at_exit()
{
	_at_exit_cmds+=("$(printf '%q ' "$@")")
	_at_exit_owner+=("$BASHPID")
	trap _run_at_exit EXIT
}

# fail MSG: report MSG and exit 1; inside ktap_case this fails the case.
fail()
{
	echo "$*" >&2
	exit "$KSFT_FAIL"
}

# skip REASON: inside ktap_case, end the current case as skipped because of
# REASON. The reason in KTAP_SKIP_FILE is what makes it a skip: ktap_case
# fails a case that exits with KSFT_SKIP (4) without one, as util-linux's
# swapon and swapoff do when their syscall fails. tests/run.sh then fails
# any skip that tests/expected-skips does not declare.
skip()
{
	[ -n "$*" ] || fail "skip without a reason"
	[ -z "${KTAP_SKIP_FILE:-}" ] || echo "$*" >"$KTAP_SKIP_FILE"
	exit "$KSFT_SKIP"
}

# swap_off DEV: swapoff DEV, or fail saying so. util-linux's swapoff exits
# 4 (KSFT_SKIP) when the syscall fails: unchecked, that read as a skip.
swap_off()
{
	local rc=0

	swapoff "$1" || rc=$?
	[ "$rc" = 0 ] || fail "swapoff $1 failed (exit $rc)"
}

# swap_on DEV: swapon DEV, or fail saying so (swapon exits 4 too).
swap_on()
{
	local rc=0

	swapon "$1" || rc=$?
	[ "$rc" = 0 ] || fail "swapon $1 failed (exit $rc)"
}

# _check OP ACTUAL EXPECTED WHAT: the check_* helpers.
_check()
{
	local op=$1 actual=$2 expected=$3 what=$4 ok

	if [ "$op" != eq ] && [ "$op" != ne ]; then
		[[ $actual =~ ^-?[0-9]+$ ]] ||
			fail "$what: '$actual' is not a number"
	fi
	case $op in
	eq)	[ "$actual" = "$expected" ] && ok=1 ;;
	ne)	[ "$actual" != "$expected" ] && ok=1 ;;
	ge)	[ "$actual" -ge "$expected" ] && ok=1 ;;
	gt)	[ "$actual" -gt "$expected" ] && ok=1 ;;
	le)	[ "$actual" -le "$expected" ] && ok=1 ;;
	lt)	[ "$actual" -lt "$expected" ] && ok=1 ;;
	esac
	[ -n "${ok:-}" ] || fail "$what: got '$actual', want $op '$expected'"
}

check_eq() { _check eq "$@"; }
check_ne() { _check ne "$@"; }
check_ge() { _check ge "$@"; }
check_gt() { _check gt "$@"; }
check_le() { _check le "$@"; }
check_lt() { _check lt "$@"; }

# nap SECONDS: sleep for SECONDS (fractions allowed) with read's timeout on
# a pipe nobody writes to: sleep(1) would cost a program start (~35 ms in
# the TCG guest) every time.
nap()
{
	[ -n "${_nap_fd:-}" ] || exec {_nap_fd}<> <(:)
	read -rt "$1" -u "$_nap_fd" || true
}

# wait_for SECONDS CMD [ARG...]: poll CMD until it succeeds, fail after
# SECONDS.
wait_for()
{
	local deadline=$((SECONDS + $1))

	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "timed out waiting for: $*"
		nap 0.1
	done
}

# settled SECONDS CMD [ARG...]: print CMD's output once two runs a second
# apart agree (a count still moving: pages a held program's cgroup still
# pushes out); fail after SECONDS.
settled()
{
	local deadline=$((SECONDS + $1)) last now

	shift
	now=$("$@")
	until [ "${last-}" = "$now" ]; do
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "still moving after its wait: $* ($now)"
		last=$now
		nap 1
		now=$("$@")
	done
	echo "$now"
}

# kasan_generic: the kernel quarantines freed slab objects (generic KASAN:
# the debug kernel).
kasan_generic()
{
	zcat /proc/config.gz 2>/dev/null | grep -qx 'CONFIG_KASAN_GENERIC=y'
}

# klog_mark: mark the current end of the kernel log (klog_since_mark). The
# mark is kept in a file, so that it survives the subshell of a test case.
klog_mark()
{
	# Bracketed, and unique in the boot: the lookup is a substring match,
	# and "mark 145.152.16" once found round 4's "mark 145.152.16526".
	local mark="mzt: mark [$$.$BASHPID.${EPOCHREALTIME/./}.$RANDOM]"

	echo "$mark" >/dev/kmsg
	echo "$mark" >"$TMPDIR/klog-mark.$$"
}

# klog_since_mark: print the kernel log after the last klog_mark.
klog_since_mark()
{
	local mark

	[ -s "$TMPDIR/klog-mark.$$" ] || fail "klog_since_mark without klog_mark"
	mark=$(<"$TMPDIR/klog-mark.$$")
	dmesg | awk -v mark="$mark" 'found; index($0, mark) { found = 1 }'
}

# klog_check_since_mark: fail, printing the offending lines, if the kernel
# log written since klog_mark holds a warning, BUG, Oops and the like.
klog_check_since_mark()
{
	local bad

	bad=$(klog_since_mark | "$MZ_REPO/scripts/lib/klog-check") ||
		fail "kernel log reports since the mark:"$'\n'"$bad"
}

# vmstat KEY: print the /proc/vmstat counter KEY (e.g. pswpout).
vmstat()
{
	local key val

	while read -r key val; do
		[ "$key" != "$1" ] || { echo "$val"; return 0; }
	done </proc/vmstat
	fail "no $1 in /proc/vmstat"
}
