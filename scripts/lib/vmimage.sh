# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Boot images for the test VM, built from the installed Debian kernel package
# and cached under $repo/.cache/vm/. Sourced by scripts/setup.sh (which builds
# them ahead of time) and scripts/vm.sh (which makes sure they are current).
#
#   vmimage_vmlinux KVER    print the path of the uncompressed vmlinux
#   vmimage_initramfs KVER [MODROOT]
#                           print the path of the initramfs; MODROOT: where
#                           the kernel's lib/modules/KVER is, when not in /
#
# The vmlinux is the ELF image inside /boot/vmlinuz-KVER: QEMU boots it
# directly through its PVH entry point, which skips the bzImage
# self-decompression (about 2.7 s under TCG). The initramfs holds a static
# busybox, scripts/lib/vm-init as /init, and the modules needed to mount the
# host's root over virtio-9p. Both are rebuilt when their inputs change.
#
# A kernel of our own (scripts/debug-kernel.sh) brings its ELF vmlinux and
# its modules under MODROOT/lib/modules/KVER; the modules it has built in
# (modprobe -D says "builtin") need no place in the initramfs.

# Modules loaded by the initramfs, dependencies first, as modprobe -D lists
# them. Everything else loads after switch_root from the host's
# /lib/modules (or MODROOT's, mounted there), which the guest sees via 9p.
VMIMAGE_MODULES="virtio_pci 9pnet_virtio 9p overlay virtio_blk"

vmimage_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
vmimage_cache="$vmimage_repo/.cache/vm"

# vmimage_die MSG: print MSG on stderr and exit.
vmimage_die()
{
	echo "vmimage: $*" >&2
	exit 1
}

# vmimage_fileid PATH: print an identity (path, size, mtime) of PATH that
# changes whenever the file is replaced.
vmimage_fileid()
{
	stat -L -c '%n %s %Y' "$1"
}

# vmimage_vmlinux KVER: extract the uncompressed vmlinux from the bzImage
# once and print its path.
vmimage_vmlinux()
{
	local kver=$1 bz="/boot/vmlinuz-$1"
	local out="$vmimage_cache/vmlinux-$kver" tmp off

	[ -r "$bz" ] || vmimage_die "$bz missing (run scripts/setup.sh)"
	if [ -s "$out" ] && [ -f "$out.id" ] &&
	   [ "$(cat "$out.id")" = "$(vmimage_fileid "$bz")" ]; then
		echo "$out"
		return
	fi
	mkdir -p "$vmimage_cache"
	tmp=$(mktemp "$out.XXXXXX")
	# Debian builds x86 kernels with CONFIG_KERNEL_XZ: the payload starts
	# at an XZ stream magic (FD 37 7A 58 5A 00). Try every occurrence
	# until one decompresses to an ELF file, like extract-vmlinux does.
	while read -r off; do
		tail -c "+$((off + 1))" "$bz" | xz -dc >"$tmp" 2>/dev/null || true
		if [ "$(head -c 4 "$tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			chmod 644 "$tmp"
			mv -f "$tmp" "$out"
			vmimage_fileid "$bz" >"$out.id"
			echo "$out"
			return
		fi
	done < <(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bz" | cut -d: -f1)
	rm -f "$tmp"
	vmimage_die "no XZ-compressed ELF found in $bz"
}

# vmimage_module_paths KVER [MODROOT]: print the .ko files of
# VMIMAGE_MODULES in load order, each once; none for built-in ones.
vmimage_module_paths()
{
	local kver=$1 root=${2:-/} mod

	for mod in $VMIMAGE_MODULES; do
		modprobe -d "$root" -S "$kver" -D "$mod" ||
			vmimage_die "modprobe -d $root -S $kver -D $mod failed"
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

# vmimage_initramfs KVER [MODROOT]: build the initramfs if any input
# changed and print its path. The file name carries a hash of the inputs.
vmimage_initramfs()
{
	local kver=$1 root=${2:-} init="$vmimage_repo/scripts/lib/vm-init"
	local busybox=/bin/busybox mods hash out stage ko name i=0

	[ -x "$busybox" ] || vmimage_die "$busybox missing (busybox-static)"
	# A dynamic busybox would die as PID 1 for want of a loader.
	! readelf -l "$busybox" 2>/dev/null | grep -q INTERP ||
		vmimage_die "$busybox is not static (install busybox-static)"
	mods=$(vmimage_module_paths "$kver" "$root")
	hash=$({
		echo "$kver"
		cat "$init"
		vmimage_fileid "$busybox"
		for ko in $mods; do vmimage_fileid "$ko"; done
	} | sha256sum | cut -c1-12)
	out="$vmimage_cache/initramfs-$kver-$hash.cpio"
	if [ -s "$out" ]; then
		echo "$out"
		return
	fi

	mkdir -p "$vmimage_cache"
	stage=$(mktemp -d "$vmimage_cache/initramfs.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,newroot,modules}
	cp "$busybox" "$stage/bin/busybox"
	install -m 755 "$init" "$stage/init"
	# Numbered names keep the load order; vm-init loads them sorted.
	for ko in $mods; do
		name=$(printf '%02d-%s' "$i" "$(basename "${ko%.xz}")")
		case $ko in
		*.xz)	xz -dc "$ko" >"$stage/modules/$name" ;;
		*)	cp "$ko" "$stage/modules/$name" ;;
		esac
		i=$((i + 1))
	done
	# Uncompressed: unpacking is faster than decompressing under TCG.
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) \
		>"$stage.cpio"
	mv -f "$stage.cpio" "$out"
	rm -rf "$stage"
	# Drop initramfs images built from older inputs.
	find "$vmimage_cache" -maxdepth 1 -name "initramfs-$kver-*.cpio" \
		! -name "$(basename "$out")" -delete
	echo "$out"
}
