#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [-p] [-q]
#
# Build the debug kernel of "make check KERNEL=debug" once per machine and
# print its directory. The kernel is Debian's own source (linux-source-6.1,
# Debian's patches applied) configured as
#
#   x86_64_defconfig + kvm_guest.config + scripts/lib/debug-kernel.config
#
# then olddefconfig; every line of the fragment must survive olddefconfig
# unchanged, or the script fails naming the lines that did not. The fragment
# adds what the test VM needs built in (PVH, virtio, 9p, overlayfs), what the
# tests need, and KASAN (generic, inline), lockdep (PROVE_LOCKING), kmemleak,
# DEBUG_LIST, DEBUG_VM, DEBUG_OBJECTS, FAULT_INJECTION + FAILSLAB.
#
# The build lives outside the checkout, so that every clone on the machine
# (and a fresh CI clone) reuses it:
#
#   ${MZ_DEBUG_KERNEL_CACHE:-/var/cache/mzswap/debug-kernel}/<linux-source version>/
#     src/          the unpacked source tree
#     build/        the O= object tree: KDIR for out-of-tree modules
#     modules/lib/modules/<release>/  modules_install output (vm.sh mounts it
#                   over /lib/modules in the guest)
#     vmlinux       the ELF image (symbols; its PVH entry dies silently
#                   under QEMU with this config, KASAN's early setup likely)
#     bzImage       what vm.sh boots
#     release       the kernel release (uname -r)
#     build-time    how long the last build took
#     build-times   every run: start, and how long until it completed or
#                   was stopped (an interrupted build resumes where it was)
#     build.log     its output
#     stamp         hash of the inputs of the finished build
#
# The inputs are the source package version, the fragment, the build
# recipe ($recipe below) and the compiler version. When they change, the
# same tree is reconfigured and rebuilt incrementally; when they did not,
# nothing is done.
#
# Options:
#   -p   print the directory if the kernel is built and current, else fail
#        (build nothing)
#   -q   no progress messages on stderr
#   -h   this help
#
# Runs the compiler as SCHED_IDLE (and niced): the machines running it are
# shared, and a TCG guest starved of its CPU reports soft lockups.
# Output: the directory, on stdout. Installs missing build packages with
# apt-get (as root).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
fragment="$repo/scripts/lib/debug-kernel.config"
tarball=/usr/src/linux-source-6.1.tar.xz
cache_root=${MZ_DEBUG_KERNEL_CACHE:-/var/cache/mzswap/debug-kernel}
print_only=0
quiet=0
# How the tree is configured and built: change it (or the fragment) and the
# next run rebuilds.
recipe="x86_64_defconfig kvm_guest.config fragment olddefconfig; bzImage modules"

# What the build needs beyond setup.sh's packages; the normal suite does
# not, so they are installed here and not there.
packages=(linux-source-6.1 bc bison flex libssl-dev libelf-dev gcc make
	xz-utils kmod)

usage()
{
	sed -n '4,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

# log MSG: a progress message on stderr.
log()
{
	[ "$quiet" = 1 ] || echo "debug-kernel: $*" >&2
}

die()
{
	echo "debug-kernel: $*" >&2
	exit 1
}

# install_missing: apt-get install the build packages not installed.
install_missing()
{
	local missing=() pkg

	for pkg in "${packages[@]}"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} = 0 ] && return
	[ "$(id -u)" = 0 ] || die "run as root to install: ${missing[*]}"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq </dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		</dev/null >/dev/null
}

# inputs_hash VERSION: hash of everything the build depends on.
inputs_hash()
{
	{
		echo "$1"
		echo "$recipe"
		cat "$fragment"
		gcc --version | head -n1
	} | sha256sum | cut -c1-16
}

# check_fragment CONFIG: fail unless every option of the fragment has the
# fragment's value in CONFIG ("is not set" lines: unset or absent).
check_fragment()
{
	local config=$1 line name want bad=()

	while IFS= read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
			name=${BASH_REMATCH[1]}
			want=$line
			grep -qxF -- "$want" "$config" ||
				bad+=("$want (got: $(grep -m1 -E "^(# )?${name}[= ]" "$config" || echo absent))")
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			name=${BASH_REMATCH[1]}
			! grep -q "^$name=" "$config" ||
				bad+=("$line (got: $(grep -m1 "^$name=" "$config"))")
		fi
	done <"$fragment"
	[ ${#bad[@]} = 0 ] && return
	printf 'debug-kernel: not in the final .config as the fragment says:\n' >&2
	printf '    %s\n' "${bad[@]}" >&2
	exit 1
}

# build DIR HASH: (re)configure and build the kernel in DIR.
build()
{
	local dir=$1 hash=$2 src="$1/src" obj="$1/build" start secs release
	local kmake

	if [ ! -f "$src/Makefile" ]; then
		log "unpacking $tarball"
		rm -rf "$src"
		mkdir -p "$src"
		tar -xJf "$tarball" -C "$src" --strip-components=1
	fi
	mkdir -p "$obj"
	# SCHED_IDLE: the compiler only gets what nothing else wants, so a
	# test VM (TCG) next to it keeps its CPUs.
	kmake=(chrt --idle 0 nice -n 10 make -C "$src" O="$obj" -j"$(nproc)")

	start=$SECONDS
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) start, $(nproc) CPUs" >>"$dir/build-times"
	# Runs in this function's scope (start, dir) while make runs.
	trap 'echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) stopped after $((SECONDS - start))s" \
		>>"$dir/build-times"; exit 143' TERM INT HUP
	log "configuring in $obj"
	rm -f "$dir/stamp"
	{
		"${kmake[@]}" x86_64_defconfig
		"${kmake[@]}" kvm_guest.config
		"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" \
			"$obj/.config" "$fragment"
		"${kmake[@]}" olddefconfig
	} >"$dir/build.log" 2>&1 || { tail -n 20 "$dir/build.log" >&2; die "configuration failed"; }
	check_fragment "$obj/.config"

	log "building (log: $dir/build.log); this takes long"
	"${kmake[@]}" bzImage modules >>"$dir/build.log" 2>&1 ||
		{ tail -n 30 "$dir/build.log" >&2; die "build failed"; }
	release=$(make -s -C "$src" O="$obj" kernelrelease 2>/dev/null | tail -n1)
	rm -rf "$dir/modules"
	"${kmake[@]}" INSTALL_MOD_PATH="$dir/modules" modules_install \
		>>"$dir/build.log" 2>&1 ||
		{ tail -n 20 "$dir/build.log" >&2; die "modules_install failed"; }
	ln -sfn "$obj/vmlinux" "$dir/vmlinux"
	ln -sfn "$obj/arch/x86/boot/bzImage" "$dir/bzImage"
	echo "$release" >"$dir/release"
	secs=$((SECONDS - start))
	trap - TERM INT HUP
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) complete after ${secs}s" >>"$dir/build-times"
	printf '%dm%02ds wall, %s CPUs, %s, %s\n' $((secs / 60)) $((secs % 60)) \
		"$(nproc)" "$(date -u +%Y-%m-%dT%H:%MZ)" "$release" >"$dir/build-time"
	echo "$hash" >"$dir/stamp"
	log "built $release in $(cat "$dir/build-time")"
}

main()
{
	local opt version dir hash

	while getopts pqh opt; do
		case $opt in
		p)	print_only=1 ;;
		q)	quiet=1 ;;
		*)	usage ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# = 0 ] || usage

	[ "$print_only" = 1 ] || install_missing
	version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
		die "linux-source-6.1 is not installed"
	dir="$cache_root/$version"
	hash=$(inputs_hash "$version")
	if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$hash" ]; then
		echo "$dir"
		return
	fi
	[ "$print_only" = 0 ] || die "not built (or out of date) in $dir: run $0"

	mkdir -p "$dir"
	# One build at a time per machine; a second caller waits, then finds
	# the stamp.
	exec {lock}>"$dir/.lock"
	flock "$lock"
	if [ ! -f "$dir/stamp" ] || [ "$(cat "$dir/stamp")" != "$hash" ]; then
		build "$dir" "$hash"
	fi
	echo "$dir"
}

main "$@"
