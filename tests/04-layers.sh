#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# module/internal.h says each .c file calls only the files above it in its
# "Layers" list, and scripts/check-layers.sh ("make layers") checks it.
# Here the check runs on the module as it is, and on a copy with a call
# into a lower layer added, which it must report, and with a comment
# naming one, which it must not. Runs on the host in a second.
#
# vm: host timeout=60
set -euo pipefail

# shellcheck source=tests/lib/ktap.sh
. "$(dirname "$0")/lib/ktap.sh"

DIR=$(mktemp -d /tmp/mzswap-04-layers.XXXXXX)
at_exit rm -rf "$DIR"

# copy NAME: the checker and the module's sources under $DIR/NAME.
copy()
{
	mkdir -p "$DIR/$1/scripts"
	cp "$MZ_REPO/scripts/check-layers.sh" "$DIR/$1/scripts/"
	cp -r "$MZ_REPO/module" "$DIR/$1/"
}

case_module()
{
	"$MZ_REPO/scripts/check-layers.sh" || fail "the module breaks its layers"
}

case_breach()
{
	local out rc=0

	# lru.c is below blkdev.c, which defines mz_backing_get().
	copy breach
	printf '\nstatic void mz_breach(void)\n{\n\tmz_backing_get();\n}\n' \
		>>"$DIR/breach/module/lru.c"
	out=$("$DIR/breach/scripts/check-layers.sh") || rc=$?
	echo "$out"
	[ "$rc" = 1 ] || fail "exit $rc, want 1"
	[[ $out == *"module/lru.c calls mz_backing_get() of blkdev.c, below it"* ]] ||
		fail "the call is not named"
}

case_comment()
{
	copy comment
	printf '\n/* Not a call: mz_backing_get() of blkdev.c. */\n' \
		>>"$DIR/comment/module/lru.c"
	"$DIR/comment/scripts/check-layers.sh" ||
		fail "a comment naming a lower layer's function counted as a call"
}

ktap_print_header
ktap_set_plan 3
ktap_case "the module's files call only the layers above them" case_module
ktap_case "a call into a lower layer is reported" case_breach
ktap_case "a comment naming a lower layer's function is no call" case_comment
ktap_finished
