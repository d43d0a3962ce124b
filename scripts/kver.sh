#!/bin/sh
# Print the ABI name of the Debian 6.1 test kernel (e.g. 6.1.0-56-amd64).
#
# Resolved from the linux-image-amd64 meta package, never hard-coded: the
# kernel we test is Debian's current bookworm kernel, not the host's running
# one. Override with KVER=... in the environment.
set -eu
if [ -n "${KVER:-}" ]; then
	echo "$KVER"
	exit 0
fi
dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null || true)
kver=$(printf '%s\n' "$dep" | sed -n 's/.*linux-image-\([^ ,]*\).*/\1/p' | head -n1)
if [ -z "$kver" ]; then
	echo "kver.sh: linux-image-amd64 is not installed (run scripts/setup.sh)" >&2
	exit 1
fi
echo "$kver"
