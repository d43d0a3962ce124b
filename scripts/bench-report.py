#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-report.py RAW PREFIX: turn bench-guest.sh's lines into PREFIX.md
(markdown tables, ratios against in-kernel zswap and the disk) and
PREFIX.png (gnuplot: wall time per setup and data kind)."""
import subprocess
import sys
from collections import defaultdict

raw, prefix = sys.argv[1], sys.argv[2]
runs, lat, head, meta = {}, defaultdict(lambda: defaultdict(int)), {}, {}
for line in open(raw):
    w = line.split()
    if not w:
        continue
    if w[0] == "kernel":
        head = dict(zip(w[0::2], w[1::2]))
    elif w[0] == "run":
        setup, kind = w[1], w[2]
        runs[setup, kind] = {k: int(v) for k, v in zip(w[3::2], w[4::2])}
    elif w[0] == "lat":
        setup, kind, op, us, n = w[1], w[2], w[3], int(w[4]), int(w[5])
        lat[setup, kind, op][us] += n
    elif w[0] == "meta":
        meta = dict(zip(w[1::2], w[2::2]))


def pct(hist, p):
    total = sum(hist.values())
    if not total:
        return None
    acc = 0
    for us in sorted(hist):
        acc += hist[us]
        if acc * 100 >= p * total:
            return us
    return max(hist)


def fmt(v, unit=""):
    return "—" if v is None else f"{v}{unit}"


def ratio(a, b):
    return "—" if not a or not b else f"{a / b:.2f}"


setups = ["zswap", "mzswap", "zram", "disk"]
kinds = [k for k in ["2to1", "4to1", "incompressible"]
         if any((s, k) in runs for s in setups)]
md = [f"# mzswap benchmark",
      "",
      f"Kernel {head.get('kernel', '?')}, {head.get('cpus', '?')} vCPUs, "
      f"{head.get('mem_mb', '?')} MiB guest under QEMU TCG, one boot. "
      f"Workload: tests/pattern writes then re-reads {head.get('size', '?')} "
      f"in a cgroup with memory.max={head.get('limit', '?')}. "
      "Latencies are bpftrace kprobe/kretprobe times of each setup's own "
      "entry points (inflated by TCG and the probes: compare ratios).",
      ""]
for kind in kinds:
    md += [f"## {kind}", "",
           "| setup | outcome | wall s | major faults | pswpin | pswpout | "
           "stored pages (held) | pool MiB | bytes/page | written back | "
           "store p50/p99 us | load p50/p99 us |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in setups:
        r = runs.get((s, kind))
        if not r:
            continue
        out = "OOM-killed" if r["oom_kill"] else ("ok" if r["rc"] == 0
                                                  else f"rc {r['rc']}")
        st, ld = lat[s, kind, "store"], lat[s, kind, "load"]
        bpp = (r["pool_bytes"] // r["stored_pages"]
               if r["stored_pages"] and r["pool_bytes"] else None)
        md.append(f"| {s} | {out} | {r['wall_ms'] / 1000:.1f} | "
                  f"{r['pgmajfault']} | {r['pswpin']} | {r['pswpout']} | "
                  f"{r['stored_pages']} | {r['pool_bytes'] / 2**20:.1f} | "
                  f"{fmt(bpp)} | {r['written_back']} | "
                  f"{fmt(pct(st, 50))}/{fmt(pct(st, 99))} | "
                  f"{fmt(pct(ld, 50))}/{fmt(pct(ld, 99))} |")
    mz, zs, dk = (runs.get((s, kind)) for s in ("mzswap", "zswap", "disk"))
    if mz:
        md += ["",
               "Ratios mzswap/zswap: store p50 "
               f"{ratio(pct(lat['mzswap', kind, 'store'], 50), pct(lat['zswap', kind, 'store'], 50))}"
               ", load p50 "
               f"{ratio(pct(lat['mzswap', kind, 'load'], 50), pct(lat['zswap', kind, 'load'], 50))}"
               ", wall "
               + (ratio(mz['wall_ms'], zs['wall_ms']) if zs and not zs['oom_kill']
                  else "— (zswap OOM-killed)")
               + f"; mzswap/disk wall {ratio(mz['wall_ms'], dk['wall_ms']) if dk else '—'}."]
    md.append("")
if meta:
    md += ["## Metadata", "",
           f"Entry object size: mzswap_entry {meta.get('mzswap_entry', '?')} B "
           f"(plus 8 B of memcg charge pointer, as it is SLAB_ACCOUNT), "
           f"zswap 6.1's zswap_entry {meta.get('zswap_entry', '?')} B.", ""]
open(prefix + ".md", "w").write("\n".join(md) + "\n")

# Plot: wall time per setup, one bar group per data kind.
dat = prefix + ".dat"
with open(dat, "w") as f:
    f.write("kind " + " ".join(setups) + "\n")
    for kind in kinds:
        vals = []
        for s in setups:
            r = runs.get((s, kind))
            vals.append("NaN" if not r or r["oom_kill"] or r["rc"]
                        else f"{r['wall_ms'] / 1000:.2f}")
        f.write(kind + " " + " ".join(vals) + "\n")
gp = f"""set terminal png size 900,500
set output '{prefix}.png'
set title 'wall time, write + re-read under memory.max (missing bar: OOM-killed)'
set style data histograms
set style fill solid 0.8 border -1
set ylabel 'seconds (TCG)'
set key top left
plot '{dat}' using 2:xtic(1) title 'zswap', '' using 3 title 'mzswap', \\
     '' using 4 title 'zram', '' using 5 title 'disk'
"""
try:
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)
except (OSError, subprocess.CalledProcessError) as e:
    print(f"bench-report: no plot: {e}", file=sys.stderr)
