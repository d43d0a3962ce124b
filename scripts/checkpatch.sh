#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.sh: checkpatch.pl --strict over the module's sources, taken
# from Debian's linux-source-6.1 (extracted by scripts/setup.sh into
# .cache/linux-source). Exits non-zero on any error, warning or check.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cp="$repo/.cache/linux-source/scripts/checkpatch.pl"
[ -x "$cp" ] || [ -f "$cp" ] || {
	echo "checkpatch.sh: $cp missing: run scripts/setup.sh" >&2
	exit 1
}
cd "$repo"
# --no-tree: this is not a kernel tree.
cp_run()
{
	perl "$cp" --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG"${1:+,$1}" \
		--file "${@:2}"
}

rc=0
cp_run "" module/*.c module/*.h include/mzswap/*.h || rc=1
# TRACE_EVENT() blocks are laid out as in the kernel's own trace headers.
cp_run OPEN_ENDED_LINE,PARENTHESIS_ALIGNMENT include/trace/events/*.h || rc=1
[ "$rc" != 0 ] || echo "checkpatch --strict: clean"
exit "$rc"
