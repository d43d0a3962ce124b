#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# setup.sh: make this Debian bookworm machine ready to build mzswap and run
# its VM tests (called by "make check" and "make demo"; run it as root).
#
#  1. apt-get installs the packages that are missing (apt-get update only
#     then): the Debian 6.1 kernel image and headers via the amd64 meta
#     packages, QEMU, and the tools the build and the tests use.
#  2. Builds the VM boot images under .cache/vm/ (scripts/lib/vmimage.sh):
#     the uncompressed vmlinux for PVH boot and the initramfs.
#  3. Extracts checkpatch.pl and the two files it reads from Debian's
#     linux-source-6.1 tarball into .cache/linux-source/scripts/.
#
# Idempotent, and silent when there is nothing to do.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# What each package is for:
#   linux-image-amd64, linux-headers-amd64  the kernel under test + headers
#   linux-source-6.1                        checkpatch.pl (make checkpatch)
#   qemu-system-x86                         the test VM
#   busybox-static                          PID 1 of the VM
#   kmod, cpio, xz-utils, binutils          building the initramfs/vmlinux
#   gcc, make, libc6-dev                    module build, tests/pattern.c
#   dwarves, sparse                         BTF (pahole), make sparse
#   bpftrace                                tracing inside the VM
#   gnuplot-nox, ShellCheck                 make bench plots, make shellcheck
#   util-linux, procps                      swapon, mkswap, sysctl, ps
#   dkms                                    tests/90-dkms.sh (dkms.conf)
#   prometheus-node-exporter                tests/93-exporter.sh
#   lz4                                     make bench's calibration (lz4 -b)
packages=(
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	qemu-system-x86 busybox-static
	kmod cpio xz-utils binutils
	gcc make libc6-dev
	dwarves sparse bpftrace gnuplot-nox shellcheck
	util-linux procps
	dkms prometheus-node-exporter
	lz4
)

# missing_packages: print the packages of $packages not installed.
missing_packages()
{
	local -A installed=()
	local pkg state

	while read -r pkg state; do
		[ "$state" != installed ] || installed[$pkg]=1
	done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' \
		"${packages[@]}" 2>/dev/null)
	for pkg in "${packages[@]}"; do
		[ -n "${installed[$pkg]:-}" ] || echo "$pkg"
	done
}

# install_packages PKG...: apt-get update, then install PKG...
install_packages()
{
	local sudo=()

	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null ||
			{ echo "setup.sh: run as root to install: $*" >&2; exit 1; }
		sudo=(sudo)
	fi
	echo "setup.sh: installing $*"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq </dev/null
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" \
		</dev/null >/dev/null
}

# extract_checkpatch: unpack checkpatch.pl, spelling.txt and
# const_structs.checkpatch from the linux-source tarball, once per version
# of the package (--occurrence stops reading after the last member found).
extract_checkpatch()
{
	local tarball=/usr/src/linux-source-6.1.tar.xz
	local dest="$repo/.cache/linux-source" version members=() f

	version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
	if [ -f "$dest/.version" ] && [ "$(cat "$dest/.version")" = "$version" ]; then
		return
	fi
	[ -r "$tarball" ] || { echo "setup.sh: $tarball missing" >&2; exit 1; }
	for f in checkpatch.pl spelling.txt const_structs.checkpatch; do
		members+=("linux-source-6.1/scripts/$f")
	done
	rm -rf "$dest"
	mkdir -p "$dest"
	tar -xJf "$tarball" -C "$dest" --strip-components=1 --occurrence=1 \
		"${members[@]}"
	echo "$version" >"$dest/.version"
}

main()
{
	local missing kver

	mapfile -t missing < <(missing_packages)
	[ ${#missing[@]} = 0 ] || install_packages "${missing[@]}"
	# Debian starts the exporter it installs, listening on every
	# interface; the tests run their own in the VM. Stop the one we added.
	if [[ " ${missing[*]} " == *" prometheus-node-exporter "* ]] &&
		[ -d /run/systemd/system ]; then
		systemctl disable --now prometheus-node-exporter.service \
			>/dev/null 2>&1 || true
	fi

	kver=$("$repo/scripts/kver.sh")
	# The meta package pulls in its headers, but a half-upgraded machine
	# may lack the ones for this exact ABI.
	if [ ! -d "/usr/src/linux-headers-$kver" ] || [ ! -f "/boot/vmlinuz-$kver" ]; then
		install_packages "linux-image-$kver" "linux-headers-$kver"
	fi

	# shellcheck source=scripts/lib/vmimage.sh
	. "$repo/scripts/lib/vmimage.sh"
	vmimage_vmlinux "$kver" >/dev/null
	vmimage_initramfs "$kver" >/dev/null
	extract_checkpatch
}

main "$@"
