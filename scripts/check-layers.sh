#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-layers.sh: keeps module/internal.h's claim true, that each .c file
# calls only the files above it in its "Layers" list. Reads that list from
# internal.h, the functions each file defines (a definition starts in
# column 0), and reports every call of a function defined further down.
# Comments are stripped first (gcc -fpreprocessed: no macro is expanded),
# so a comment naming a lower layer's function is no call. Calls through
# a function pointer (the callbacks passed down) are not seen, by design.
#
#   scripts/check-layers.sh     exit 1 and one line per call that breaks it
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$repo/module"

# " *   fault.c      fault injection points": the lines after "Layers",
# up to the first that names no file once some have.
mapfile -t layers < <(awk '
	/Layers, lowest first/ { on = 1; next }
	on && /^ \*   [a-z]+\.c / { print $2; n++; next }
	n { exit }' internal.h)
[ "${#layers[@]}" -gt 1 ] || {
	echo "check-layers.sh: no layer list in module/internal.h" >&2
	exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A rank
i=0
for f in "${layers[@]}"; do
	[ -f "$f" ] || {
		echo "check-layers.sh: internal.h lists $f, which is missing" >&2
		exit 1
	}
	rank[$f]=$i
	i=$((i + 1))
	gcc -fpreprocessed -dD -E -P "$f" >"$tmp/$f" 2>/dev/null
	# Defined here: "name(" on a line that starts in column 0.
	# (trace.c defines none: its tracepoints are macros.)
	grep -oE '^[a-z_][^;(]*\b[a-z_][a-z0-9_]*\(' "$tmp/$f" |
		grep -oE '[a-z_][a-z0-9_]*\($' | tr -d '(' |
		sed "s|\$| $f|" >>"$tmp/defs" || true
done
for f in *.c; do
	[ -n "${rank[$f]:-}" ] || {
		echo "check-layers.sh: $f is in no layer of internal.h" >&2
		exit 1
	}
done

bad=0
for f in "${layers[@]}"; do
	while read -r fn def; do
		[ "${rank[$def]}" -gt "${rank[$f]}" ] || continue
		grep -qE "(^|[^a-z0-9_])$fn\(" "$tmp/$f" || continue
		echo "module/$f calls $fn() of $def, below it"
		bad=1
	done <"$tmp/defs"
done
[ "$bad" = 0 ] && echo "layers: each file calls only those above it" \
	"(${layers[*]})"
exit "$bad"
