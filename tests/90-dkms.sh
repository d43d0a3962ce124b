#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installing on a real machine (issue 16), checked on the host against
# Debian's 6.1 headers (scripts/kver.sh): dkms add/build/install of
# dkms.conf, and "make modules_install", each into a scratch tree where
# "modprobe mzswap" must then find the module for that kernel. Nothing is
# written to /var/lib/dkms, /usr/src or /lib/modules: dkms runs with
# --dkmstree/--sourcetree/--installtree and signs with a MOK key it
# generates in the scratch tree; modules_install gets INSTALL_MOD_PATH.
# "make install" (the boot-time unit, its script and configuration) goes to
# a scratch DESTDIR, where systemd-analyze verifies the unit. The last case
# checks that all of that left the real trees as they were.
#
# vm: host timeout=300
set -euo pipefail

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"

# Debian's kernel, in a debug-kernel run too ("make check KERNEL=debug"
# exports the debug kernel's KVER and KDIR, and KERNEL=debug reaches the
# makes below in the environment and MAKEFLAGS): what a real machine installs.
unset KERNEL KVER KDIR MAKEFLAGS MFLAGS MAKELEVEL
KVER=$("$MZ_REPO/scripts/kver.sh")
SCRATCH=$(mktemp -d /tmp/mzswap-90-dkms.XXXXXX)
at_exit rm -rf "$SCRATCH"
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$MZ_REPO/dkms.conf")
REAL_TREES=(/var/lib/dkms /usr/src /lib/modules/"$KVER" /etc/dkms)

# fingerprint: every file of the real trees dkms and depmod could write,
# with size and modification time.
fingerprint()
{
	find "${REAL_TREES[@]}" -printf '%p %s %T@\n' 2>/dev/null | sort | md5sum
}
BEFORE=$(fingerprint)

# modroot DIR: a module tree for KVER under DIR/lib/modules in which
# depmod resolves mzswap's dependencies (zsmalloc): the kernel's own
# modules by a symlink, its module lists copied.
modroot()
{
	local m=$1/lib/modules/$KVER f

	mkdir -p "$m"
	ln -sfn "/lib/modules/$KVER/kernel" "$m/kernel"
	for f in modules.order modules.builtin modules.builtin.modinfo; do
		cp "/lib/modules/$KVER/$f" "$m/"
	done
}

# check_modprobe ROOT RELPATH: "modprobe mzswap" for KVER in ROOT would
# load RELPATH (under lib/modules/KVER), after zsmalloc.
check_modprobe()
{
	local root=$1 want=$1/lib/modules/$KVER/$2 out

	out=$(modprobe -d "$root" -S "$KVER" -n -v mzswap 2>&1) ||
		fail "modprobe -n mzswap: $out"
	echo "$out"
	[[ $out == *"insmod $want "* ]] ||
		fail "modprobe would not load $want"
	[[ $out == *"/kernel/mm/zsmalloc.ko "*"insmod $want "* ]] ||
		fail "modprobe would not load zsmalloc before mzswap"
	check_eq "$(modinfo -b "$root" -k "$KVER" -F filename mzswap)" "$want" \
		"modinfo -k $KVER mzswap"
}

# check_modinfo KO: the module is mzswap, built for KVER.
check_modinfo()
{
	check_eq "$(modinfo -F name "$1")" mzswap "modinfo name"
	check_eq "$(modinfo -F vermagic "$1" | cut -d' ' -f1)" "$KVER" "modinfo vermagic"
	check_eq "$(modinfo -F license "$1")" GPL "modinfo license"
	check_eq "$(modinfo -F depends "$1")" zsmalloc "modinfo depends"
	modinfo -F parm "$1" | grep -q '^backing_dev:' ||
		fail "modinfo shows no backing_dev parameter"
}

DKMS_ARGS=(--dkmstree "$SCRATCH/dkms" --sourcetree "$SCRATCH/src"
	--installtree "$SCRATCH/root/lib/modules")

case_dkms()
{
	local ko=$SCRATCH/root/lib/modules/$KVER/updates/dkms/mzswap.ko

	command -v dkms >/dev/null || fail "dkms is not installed (scripts/setup.sh)"
	mkdir -p "$SCRATCH/dkms" "$SCRATCH/src" "$SCRATCH/copy/mzswap"
	modroot "$SCRATCH/root"
	# What dkms.conf's MAKE needs, as "dkms add ." would copy it.
	(cd "$MZ_REPO" && tar -cf - Kbuild Makefile dkms.conf include \
		module/*.[ch] scripts/kver.sh) | tar -xf - -C "$SCRATCH/copy/mzswap"
	# dkms signs with this key and generates it if missing (prepare_signing).
	export mok_signing_key=$SCRATCH/mok.key mok_certificate=$SCRATCH/mok.pub
	dkms add "$SCRATCH/copy/mzswap" "${DKMS_ARGS[@]}"
	dkms build "mzswap/$VERSION" -k "$KVER" "${DKMS_ARGS[@]}" ||
		{ cat "$SCRATCH/dkms/mzswap/$VERSION/build/make.log" 2>/dev/null; fail "dkms build failed"; }
	dkms install "mzswap/$VERSION" -k "$KVER" --no-depmod "${DKMS_ARGS[@]}"
	dkms status "${DKMS_ARGS[@]}" | grep "^mzswap/$VERSION, $KVER, .*: installed" ||
		fail "dkms status does not show mzswap installed for $KVER"
	[ -f "$ko" ] || fail "dkms installed no $ko"
	check_modinfo "$ko"
	if [ -x "/usr/lib/linux-kbuild-${KVER%.*-*}/scripts/sign-file" ]; then
		[ -f "$SCRATCH/mok.key" ] || fail "dkms generated no MOK key"
		check_eq "$(modinfo -F signer "$ko")" "DKMS module signing key" "modinfo signer"
	else
		echo "no sign-file: the module is not signed (Secure Boot case not checked)"
	fi
	depmod -b "$SCRATCH/root" "$KVER"
	check_modprobe "$SCRATCH/root" updates/dkms/mzswap.ko

	dkms remove "mzswap/$VERSION" --all --no-depmod "${DKMS_ARGS[@]}"
	[ ! -e "$ko" ] || fail "dkms remove left $ko"
	[ -z "$(dkms status "${DKMS_ARGS[@]}")" ] || fail "dkms remove left a status"
}

case_modules_install()
{
	local root=$SCRATCH/mi

	modroot "$root"
	make -C "$MZ_REPO" --no-print-directory -s modules_install \
		KERNEL= INSTALL_MOD_PATH="$root" >/dev/null
	check_modinfo "$root/lib/modules/$KVER/extra/mzswap.ko"
	check_modprobe "$root" extra/mzswap.ko
}

case_install_unit()
{
	local root=$SCRATCH/inst unit out f

	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	make -C "$MZ_REPO" --no-print-directory -s install DESTDIR="$root" >/dev/null
	unit=$root/etc/systemd/system/mzswap.service
	for f in "$unit" "$root/usr/local/sbin/mzswap-setup" \
		"$root/usr/local/sbin/mzswap-exporter" \
		"$root/etc/systemd/system/mzswap-exporter.service" \
		"$root/etc/systemd/system/mzswap-exporter.timer" \
		"$root/etc/default/mzswap" \
		"$root/usr/local/share/doc/mzswap/mzswap.default"; do
		[ -f "$f" ] || fail "make install did not install $f"
	done
	[ -x "$root/usr/local/sbin/mzswap-setup" ] || fail "mzswap-setup not executable"
	# An existing configuration is the admin's: not overwritten.
	echo "MZSWAP_BACKING=/dev/sdz9" >"$root/etc/default/mzswap"
	make -C "$MZ_REPO" --no-print-directory -s install DESTDIR="$root" >/dev/null
	check_eq "$(cat "$root/etc/default/mzswap")" "MZSWAP_BACKING=/dev/sdz9" \
		"/etc/default/mzswap after a second make install"
	# The system's units, for the dependencies verify resolves under --root.
	mkdir -p "$root/usr/lib/systemd"
	cp -a /lib/systemd/system "$root/usr/lib/systemd/"
	# verify prints unknown keys and bad values but exits 0: any output fails.
	out=$(systemd-analyze verify --root="$root" "$unit" \
		"$root/etc/systemd/system/mzswap-exporter.service" \
		"$root/etc/systemd/system/mzswap-exporter.timer" 2>&1) ||
		fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	echo "systemd-analyze verify: clean"
}

case_real_trees_unchanged()
{
	local after

	after=$(fingerprint)
	check_eq "$after" "$BEFORE" "fingerprint of ${REAL_TREES[*]}"
	[ ! -e /var/lib/dkms/mzswap ] || fail "/var/lib/dkms/mzswap exists"
}

ktap_print_header
ktap_set_plan 4
ktap_case "dkms add, build, install into a scratch tree: signed, modprobe finds it; remove" case_dkms
ktap_case "make modules_install: modprobe finds it for $KVER" case_modules_install
ktap_case "make install: units, scripts, configuration kept; systemd-analyze verify" case_install_unit
ktap_case "the real dkms, source and module trees are unchanged" case_real_trees_unchanged
ktap_finished
