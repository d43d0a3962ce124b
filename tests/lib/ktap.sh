# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# KTAP output for the shell test files, in the spirit of the kernel's
# tools/testing/selftests/kselftest/ktap_helpers.sh (same function names
# where they exist there). Sourced, never run; sources common.sh.
#
# A test file looks like:
#
#	. "$(dirname "$0")/lib/ktap.sh"
#	ktap_print_header
#	ktap_set_plan 2
#	ktap_case "the module loads" case_load
#	ktap_case "zram swaps" case_zram
#	ktap_finished
#
# Functions:
#   ktap_print_header          "KTAP version 1"
#   ktap_set_plan N            "1..N"
#   ktap_skip_all REASON       "1..0 # SKIP REASON", then exit 4 (KSFT_SKIP)
#   ktap_print_msg MSG...      "# MSG" (a diagnostic line)
#   ktap_test_pass DESC        "ok N DESC"
#   ktap_test_fail DESC        "not ok N DESC"
#   ktap_test_skip DESC REASON "ok N DESC # SKIP REASON"
#   ktap_test_result DESC CMD [ARG...]
#                              pass if CMD ARG... succeeds, else fail
#   ktap_case DESC CMD [ARG...]
#                              run CMD ARG... as one test case: in a subshell
#                              with errexit in force, stdin /dev/null, its
#                              output (printed when it ends) turned into
#                              diagnostic lines; exit 0 passes, the skip
#                              helper (common.sh) skips with its reason,
#                              anything else fails: exit 4 without a reason
#                              given to skip too (a command that failed
#                              with 4, as swapoff does), and so does a case
#                              whose output has a MISMATCH line (pattern),
#                              whatever its exit status
#                              With MZ_CASES set ("GLOB|GLOB...", e.g. by
#                              tests/mutations/run.sh), a case whose
#                              DESC matches none is not run: skipped, "not
#                              selected (MZ_CASES)", which run.sh accepts
#                              then
#   ktap_bail_out REASON       "Bail out! REASON", then exit 1
#   ktap_print_totals          "# Totals: pass:P fail:F xfail:0 xpass:0 skip:S error:0"
#   ktap_finished              print the totals and exit: 0 if every planned
#                              case passed or skipped, 4 if all skipped, else 1
#
# Counters: KTAP_TESTNO (next case number), KTAP_CNT_PASS, KTAP_CNT_FAIL,
# KTAP_CNT_SKIP, KSFT_NUM_TESTS (the plan).

[ -z "${_MZ_KTAP_SH:-}" ] || return 0
_MZ_KTAP_SH=1

# shellcheck source=tests/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KTAP_TESTNO=1
KTAP_CNT_PASS=0
KTAP_CNT_FAIL=0
KTAP_CNT_SKIP=0
KSFT_NUM_TESTS=0

ktap_print_header()
{
	echo "KTAP version 1"
}

ktap_set_plan()
{
	KSFT_NUM_TESTS=$1
	echo "1..$KSFT_NUM_TESTS"
}

ktap_skip_all()
{
	echo "1..0 # SKIP $*"
	exit "$KSFT_SKIP"
}

ktap_print_msg()
{
	local line

	while IFS= read -r line; do
		echo "# $line"
	done <<<"$*"
}

# __ktap_test RESULT DESC [DIRECTIVE]: print one result line.
__ktap_test()
{
	local result=$1 description=$2 directive=${3:-}

	echo "$result $KTAP_TESTNO $description${directive:+ # $directive}"
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
}

ktap_test_pass()
{
	__ktap_test ok "$1"
	KTAP_CNT_PASS=$((KTAP_CNT_PASS + 1))
}

ktap_test_fail()
{
	__ktap_test "not ok" "$1"
	KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + 1))
}

ktap_test_skip()
{
	__ktap_test ok "$1" "SKIP ${2:-}"
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
}

ktap_test_result()
{
	local description=$1

	shift
	if "$@"; then
		ktap_test_pass "$description"
	else
		ktap_test_fail "$description"
	fi
}

# _ktap_diag: copy stdin to stdout as diagnostic lines; count the lines
# that report a data mismatch (tests/pattern's "MISMATCH") in
# _KTAP_MISMATCHES.
_ktap_diag()
{
	local line

	_KTAP_MISMATCHES=0
	while IFS= read -r line; do
		echo "# $line"
		[[ $line != *MISMATCH* ]] ||
			_KTAP_MISMATCHES=$((_KTAP_MISMATCHES + 1))
	done
}

# _ktap_selected DESC: true unless MZ_CASES is set and no glob of it
# matches DESC.
_ktap_selected()
{
	local glob globs

	[ -n "${MZ_CASES:-}" ] || return 0
	IFS='|' read -ra globs <<<"$MZ_CASES"
	for glob in "${globs[@]}"; do
		# shellcheck disable=SC2053 # a glob by design
		[[ $1 != $glob ]] || return 0
	done
	return 1
}

ktap_case()
{
	local description=$1 rc start secs reason errexit='' log

	shift
	if ! _ktap_selected "$description"; then
		ktap_test_skip "$description" "not selected (MZ_CASES)"
		return 0
	fi
	# Files, not mktemp or a pipe: starting a program costs ~35 ms in the
	# TCG guest, and a pipe would stay open as long as any process the
	# case left in the background, e.g. a pattern it holds in a cgroup.
	if [ -z "${KTAP_SKIP_FILE:-}" ]; then
		KTAP_SKIP_FILE=${TMPDIR:-/tmp}/ktap-skip.$BASHPID
		at_exit rm -f "$KTAP_SKIP_FILE" "$KTAP_SKIP_FILE.log"
	fi
	log=$KTAP_SKIP_FILE.log
	: >"$KTAP_SKIP_FILE"
	export KTAP_SKIP_FILE
	start=$EPOCHREALTIME
	# errexit is ignored inside any "if", "||" or "&&" context, including
	# subshells started there, so run the case as a plain command with
	# errexit switched off around it (restored below).
	[[ $- == *e* ]] && errexit=1
	set +e
	(
		set -e
		"$@"
	) >"$log" 2>&1 </dev/null
	rc=$?
	[ -z "$errexit" ] || set -e
	_ktap_diag <"$log"

	secs=$(((${EPOCHREALTIME/./} - ${start/./}) / 10000))
	[ "$secs" -lt 100 ] ||
		printf '# %s: %d.%02ds\n' "$description" $((secs / 100)) $((secs % 100))
	reason=$(<"$KTAP_SKIP_FILE")
	if [ "$_KTAP_MISMATCHES" != 0 ]; then
		echo "# $description: $_KTAP_MISMATCHES lines report a mismatch, wrong data read back (exit status $rc)"
		ktap_test_fail "$description"
		return
	fi
	case $rc in
	0)	ktap_test_pass "$description" ;;
	"$KSFT_SKIP")
		if [ -n "$reason" ]; then
			ktap_test_skip "$description" "$reason"
		else
			echo "# $description: exit status $KSFT_SKIP without a skip reason: a command failed (swapoff and swapon exit 4 when the syscall does)"
			ktap_test_fail "$description"
		fi ;;
	*)	ktap_test_fail "$description" ;;
	esac
}

ktap_bail_out()
{
	echo "Bail out! $*"
	exit "$KSFT_FAIL"
}

ktap_print_totals()
{
	echo "# Totals: pass:$KTAP_CNT_PASS fail:$KTAP_CNT_FAIL xfail:0 xpass:0 skip:$KTAP_CNT_SKIP error:0"
}

ktap_finished()
{
	ktap_print_totals
	if [ $((KTAP_CNT_PASS + KTAP_CNT_SKIP)) -ne "$KSFT_NUM_TESTS" ]; then
		exit "$KSFT_FAIL"
	elif [ "$KTAP_CNT_PASS" = 0 ] && [ "$KTAP_CNT_SKIP" -gt 0 ]; then
		exit "$KSFT_SKIP"
	fi
	exit "$KSFT_PASS"
}
