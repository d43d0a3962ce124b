#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# cgfill.py READY PAGES CGROUP_DIR...
#
# One process fills many cgroups: for each CGROUP_DIR it moves itself
# there and faults in PAGES anonymous pages of 2:1 data, which stay
# charged to that cgroup (cgroup v2 never moves charges). Then it moves to
# $CGFILL_HOME if set (so that the filled cgroups can be emptied of tasks),
# creates the file READY and sleeps until killed, keeping every page.
#
# scripts/bench-guest.sh uses it for its cgroup-growth section: a pattern
# process per cgroup cost a fork, an exec and a process's worth of memory
# for each of 1,000 cgroups; this costs one process.
import mmap
import os
import random
import signal
import sys

PAGE = mmap.PAGESIZE


def page_2to1(rng):
    """Half random bytes, half zeros: compresses about 2:1."""
    return rng.randbytes(PAGE // 2) + bytes(PAGE // 2)


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: cgfill.py READY PAGES CGROUP_DIR...")
    ready, pages, dirs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    rng = random.Random(len(dirs))
    maps = []
    pid = str(os.getpid())
    for d in dirs:
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write(pid)
        m = mmap.mmap(-1, pages * PAGE,
                      flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        for i in range(pages):
            m[i * PAGE:(i + 1) * PAGE] = page_2to1(rng)
        maps.append(m)
    home = os.environ.get("CGFILL_HOME")
    if home:
        with open(os.path.join(home, "cgroup.procs"), "w") as f:
            f.write(pid)
    with open(ready, "w"):
        pass
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
