# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# cgroup v2 helpers for the test files, in the spirit of the kernel's
# tools/testing/selftests/cgroup/cgroup_util.c. Sourced, never run.
#
# A CG argument is a cgroup directory, absolute or relative to cg_root: the
# cgroup the test driver (tests/lib/driver.sh) creates fresh for every test
# file and exports as MZ_CG_ROOT; /sys/fs/cgroup when run by hand.
#
#   cg_root                      print the root the test may use
#   cg_create CG                 create CG and its missing parents, with
#                                +memory in each parent's subtree_control;
#                                print its path. Destroyed at exit.
#   cg_path CG                   print the absolute path of CG
#   cg_write CG FILE VALUE       write VALUE to CG/FILE
#   cg_read CG FILE              print CG/FILE
#   cg_read_key CG FILE KEY      print the value of the line "KEY VALUE" in
#                                CG/FILE (exact key match; fail if absent)
#   cg_read_stat CG KEY          cg_read_key CG memory.stat KEY
#   cg_reclaim CG AMOUNT         ask memory.reclaim of CG for AMOUNT, up to
#                                three times; falling short is no failure
#   cg_run_in CG CMD [ARG...]    run CMD inside CG, wait, return its status
#   cg_run_bg CG CMD [ARG...]    start CMD inside CG in the background; its
#                                PID is left in CG_BG_PID
#   cg_procs CG                  print the PIDs in CG
#   cg_wait_empty CG [SECONDS]   wait until CG and its children have no
#                                process (default 10 s)
#   cg_kill_all CG               SIGKILL everything in CG and below, wait
#   cg_destroy CG                kill, then rmdir CG and all its children,
#                                deepest first, retrying while busy
#   cg_cleanup                   cg_destroy every cgroup cg_create made (runs
#                                at exit of the test file by itself)

[ -z "${_MZ_CGROUP_SH:-}" ] || return 0
_MZ_CGROUP_SH=1

# shellcheck source=tests/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CG_MOUNT=/sys/fs/cgroup
CG_BG_PID=

# cg_create may run in a $(...) subshell: keep the list of created cgroups in
# a file that the test's main shell reads at exit.
_cg_created=${TMPDIR:-/tmp}/cg-created.$$
: >"$_cg_created"
at_exit cg_cleanup

cg_root()
{
	echo "${MZ_CG_ROOT:-$CG_MOUNT}"
}

cg_path()
{
	case $1 in
	/*)	echo "$1" ;;
	*)	echo "$(cg_root)/$1" ;;
	esac
}

# _cg_enable_memory DIR: make the memory controller available to DIR's
# children.
_cg_enable_memory()
{
	local controls

	controls=$(<"$1/cgroup.subtree_control")
	[[ " $controls " == *" memory "* ]] && return 0
	echo +memory >"$1/cgroup.subtree_control" ||
		fail "cannot enable memory in $1/cgroup.subtree_control"
}

cg_create()
{
	local cg parent

	cg=$(cg_path "$1")
	[[ $cg == "$CG_MOUNT"/* ]] || fail "cg_create: $cg is not below $CG_MOUNT"
	parent=${cg%/*}
	[ -d "$parent" ] || cg_create "$parent" >/dev/null
	_cg_enable_memory "$parent"
	if [ ! -d "$cg" ]; then
		mkdir "$cg" || fail "cannot create cgroup $cg"
		echo "$cg" >>"$_cg_created"
	fi
	echo "$cg"
}

cg_write()
{
	local file

	file="$(cg_path "$1")/$2"
	echo "$3" >"$file" || fail "cannot write '$3' to $file"
}

cg_read()
{
	local file

	file="$(cg_path "$1")/$2"
	[ -r "$file" ] || fail "cannot read $file"
	echo "$(<"$file")"
}

cg_read_key()
{
	local file key val

	file="$(cg_path "$1")/$2"
	[ -r "$file" ] || fail "cannot read $file"
	while read -r key val; do
		[ "$key" != "$3" ] || { echo "$val"; return 0; }
	done <"$file"
	fail "no key '$3' in $file"
}

cg_read_stat()
{
	cg_read_key "$1" memory.stat "$2"
}

# memory.reclaim fails with EAGAIN when it reclaimed less than asked; a
# second request usually catches most of the rest.
cg_reclaim()
{
	local file i

	file="$(cg_path "$1")/memory.reclaim"
	for i in 1 2 3; do
		echo "$2" >"$file" 2>/dev/null && break
	done
	return 0
}

cg_run_in()
{
	local cg

	cg=$(cg_path "$1")
	shift
	# A subshell moves itself, then becomes the command: no extra program.
	(
		echo "$BASHPID" >"$cg/cgroup.procs" ||
			fail "cannot move into $cg"
		exec "$@"
	)
}

cg_run_bg()
{
	local cg

	cg=$(cg_path "$1")
	shift
	(
		echo "$BASHPID" >"$cg/cgroup.procs" ||
			fail "cannot move into $cg"
		exec "$@"
	) &
	# shellcheck disable=SC2034 # for the caller
	CG_BG_PID=$!
}

cg_procs()
{
	local cg

	cg=$(cg_path "$1")
	echo "$(<"$cg/cgroup.procs")"
}

# _cg_empty CG: true when no process is left in CG or below.
_cg_empty()
{
	local key val

	while read -r key val; do
		[ "$key" != populated ] || [ "$val" = 1 ] || return 0
	done <"$1/cgroup.events"
	return 1
}

cg_wait_empty()
{
	local cg

	cg=$(cg_path "$1")
	wait_for "${2:-10}" _cg_empty "$cg"
}

cg_kill_all()
{
	local cg pid

	cg=$(cg_path "$1")
	[ -d "$cg" ] || return 0
	if [ -e "$cg/cgroup.kill" ]; then
		echo 1 >"$cg/cgroup.kill"
	else
		for pid in $(<"$cg/cgroup.procs"); do
			kill -KILL "$pid" 2>/dev/null || true
		done
	fi
	cg_wait_empty "$cg"
}

cg_destroy()
{
	local cg child tries

	cg=$(cg_path "$1")
	[ -d "$cg" ] || return 0
	cg_kill_all "$cg"
	for child in "$cg"/*/; do
		[ -d "$child" ] || continue
		cg_destroy "${child%/}"
	done
	# rmdir fails with EBUSY for a short while after the last task exits.
	for ((tries = 0; tries < 50; tries++)); do
		rmdir "$cg" 2>/dev/null && return 0
		[ -d "$cg" ] || return 0
		nap 0.1
	done
	fail "cannot remove cgroup $cg"
}

cg_cleanup()
{
	local cgs=() i

	[ -f "$_cg_created" ] || return 0
	mapfile -t cgs <"$_cg_created"
	for ((i = ${#cgs[@]} - 1; i >= 0; i--)); do
		(cg_destroy "${cgs[$i]}") || true
	done
	rm -f "$_cg_created"
}
