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

declare -A listed
for f in "${layers[@]}"; do
	[ -f "$f" ] || {
		echo "check-layers.sh: internal.h lists $f, which is missing" >&2
		exit 1
	}
	listed[$f]=1
	gcc -fpreprocessed -dD -E -P "$f" >"$tmp/$f" 2>/dev/null
	# Defined here: "name(" on a line that starts in column 0.
	# (trace.c defines none: its tracepoints are macros.)
	grep -oE '^[a-z_][^;(]*\b[a-z_][a-z0-9_]*\(' "$tmp/$f" |
		grep -oE '[a-z_][a-z0-9_]*\($' | tr -d '(' | sort -u |
		sed "s|\$| $f|" >>"$tmp/defs" || true
	# Called here: every "name(" (grep -o takes whole words).
	grep -oE '[A-Za-z_][A-Za-z0-9_]*\(' "$tmp/$f" | tr -d '(' |
		sort -u | sed "s|^|$f |" >>"$tmp/calls" || true
done
for f in *.c; do
	[ -n "${listed[$f]:-}" ] || {
		echo "check-layers.sh: $f is in no layer of internal.h" >&2
		exit 1
	}
done

# One join: a call of a function whose file comes later in the list.
awk -v order="${layers[*]}" '
	BEGIN { n = split(order, l, " "); for (i = 1; i <= n; i++) rank[l[i]] = i }
	FILENAME == ARGV[1] { def[$1] = def[$1] " " $2; next }
	$2 in def {
		m = split(def[$2], d, " ")
		for (i = 1; i <= m; i++)
			if (rank[d[i]] > rank[$1])
				printf "module/%s calls %s() of %s, below it\n", $1, $2, d[i]
	}' "$tmp/defs" "$tmp/calls" >"$tmp/bad"
if [ -s "$tmp/bad" ]; then
	cat "$tmp/bad"
	exit 1
fi
echo "layers: each file calls only those above it (${layers[*]})"
