#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench-report.py RAW PREFIX [BASELINE]: turn bench-guest.sh's lines into PREFIX.md
(markdown tables, ratios against in-kernel zswap and the disk) and
PREFIX.png (gnuplot: wall time per setup and workload; store and load p50
against pool size; worker step and shrinker call against cgroups; the
store and load latency distributions of the first workload per setup).

RAW holds one fact per line:
  kernel K cpus N mem_mb N size S limit L ...   the boot
  run SETUP LABEL key value...                   one workload run
  lat SETUP LABEL OP US N                        N calls of OP took US us
  pool SETUP PAGES stored N                      a pool-growth step
  cgroups N stored N                             a cgroup-growth step
  meta SETUP stored N entry_bytes N ...          metadata of a full pool
  program sort lines N bytes N limit L           the real program's input
  section NAME seconds N                         where the time went
  note TEXT...                                   something the reader must know
  steps SETUP LABEL NAME_ms N...                 a run's time outside its workload
  calibration host_lz4_mbs N guest_lz4_mbs N ... the calibrated disk's rates
  skip SETUP LABEL TEXT...                       a run that could not be made
  hits SETUP LABEL loads N written_back N        one cgroup's cache hits
  ws SETUP LABEL refault N activate N            a run's anon refaults
  hold SETUP LABEL hold_enters N ...             mzswap's hold counters
  counters SETUP LABEL NAME N...                 every mzswap counter, end of a run
  prof SETUP LABEL FN N...                       CPU samples of a run (MZ_BENCH_PROFILE)
  mkdir SETUP SPEED read_iops N ...              a mkdir latency run

A LABEL ending in @nvme is a run over the calibrated disks. A SETUP and
LABEL run more than once (the program, in rounds) stand for their median
run: the tables show that run's facts, and list every run's wall time
and any run's end other than ok. BASELINE, an older RAW, gives the
synchronous_io=N figures the unthrottled runs are held to (its setup
mzswap-async, or mzswap if it has none).
"""
import subprocess
import sys
from collections import defaultdict

raw, prefix = sys.argv[1], sys.argv[2]


def facts(kv):
    """KEY VALUE... words of a fact as a dict of ints."""
    return {k: int(v) for k, v in zip(kv[0::2], kv[1::2])}


allruns, head, meta, pools, cgsteps = defaultdict(list), {}, {}, [], []
prog, sections, notes = {}, [], []
cal, skips, hits, mkdirs = {}, {}, defaultdict(list), []
wsets, holds = defaultdict(list), defaultdict(list)
counts, profs = defaultdict(list), defaultdict(list)
steps = defaultdict(lambda: [0, 0])
lat = defaultdict(lambda: defaultdict(int))
for line in open(raw):
    w = line.split()
    if not w:
        continue
    if w[0] == "kernel":
        head = dict(zip(w[0::2], w[1::2]))
    elif w[0] == "run":
        allruns[w[1], w[2]].append(facts(w[3:]))
    elif w[0] == "lat":
        lat[w[1], w[2], w[3]][int(w[4])] += int(w[5])
    elif w[0] == "pool":
        pools.append((w[1], int(w[2]), int(w[4])))
    elif w[0] == "cgroups":
        cgsteps.append(int(w[1]))
    elif w[0] == "wall":
        head["bench_wall"] = w[1]
        head["bench_rc"] = w[3]
        head["machine"] = w[5]
    elif w[0] == "program":
        prog = dict(zip(w[2::2], w[3::2]))
    elif w[0] == "section":
        sections.append((w[1], int(w[3])))
    elif w[0] == "steps":
        for k, v in zip(w[3::2], w[4::2]):
            step = steps[k.removesuffix("_ms")]
            step[0] += int(v)
            step[1] += 1
    elif w[0] == "note":
        notes.append(" ".join(w[1:]))
    elif w[0] == "calibration":
        cal = dict(zip(w[1::2], w[2::2]))
    elif w[0] == "skip":
        skips[w[1], w[2]] = " ".join(w[3:])
    elif w[0] == "hits":
        hits[w[1], w[2]].append((int(w[4]), int(w[6])))
    elif w[0] == "ws":
        wsets[w[1], w[2]].append(facts(w[3:]))
    elif w[0] == "hold":
        holds[w[1], w[2]].append(facts(w[3:]))
    elif w[0] == "counters":
        counts[w[1], w[2]].append(facts(w[3:]))
    elif w[0] == "prof":
        profs[w[1], w[2]].append(facts(w[3:]))
    elif w[0] == "mkdir":
        mkdirs.append((w[1], w[2], facts(w[3:])))
    elif w[0] == "meta":
        meta[w[1]] = facts(w[2:])


# Stored pages below which a run's density column stays empty.
DENSITY_MIN = 1024


def median_run(rs):
    """The run of median wall time (the lower middle one of an even
    number); a single run is itself."""
    return sorted(rs, key=lambda r: r["wall_ms"])[(len(rs) - 1) // 2]


runs = {k: median_run(v) for k, v in allruns.items()}


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


def wbtime(setup, label):
    """Seconds in writeback batches, and how many batches."""
    t, n = lat[setup, label, "wbtime"], lat[setup, label, "wbcalls"]
    if not t:
        return "—"
    return f"{t[0] / 1e6:.1f} ({n[0]} batches)"


def stopped(r):
    """The run was stopped at its time limit (timeout(1)'s 124)."""
    return r["rc"] == 124 and "timeout_s" in r and not r["oom_kill"]


def outcome(r):
    if r["oom_kill"]:
        return "OOM-killed"
    if stopped(r):
        return f"stopped at {r['timeout_s']} s"
    return "ok" if r["rc"] == 0 else f"rc {r['rc']}"


def p50(setup, label, op):
    return pct(lat[setup, label, op], 50)


setups = [s for s in ["zswap", "zswap-cap", "mzswap", "mzswap-sync",
                      "mzswap-async", "mzswap-split", "mzswap-pass",
                      "zram", "zram-eq", "disk"]
          if any(k[0] == s for k in runs)]
labels = []
for (_, label) in runs:
    if label not in labels:
        labels.append(label)

md = ["# mzswap benchmark", "",
      f"`make bench` took {head.get('bench_wall', '?')} s on the host "
      f"({head.get('machine', '?')}); the VM exited "
      f"{head.get('bench_rc', '?')}.", "",
      f"Kernel {head.get('kernel', '?')}, {head.get('cpus', '?')} vCPUs, "
      f"{head.get('mem_mb', '?')} MiB guest under QEMU TCG, one boot; "
      "transparent huge pages off (every setup swaps 4 KiB pages); lz4"
      + (f"; clock source {head['clocksource']}" if "clocksource" in head
         else "") +
      ". zswap-cap is zswap with memory.zswap.max at half of memory.max. "
      "Latencies are bpftrace kprobe/kretprobe times of each setup's own "
      "entry points (zswap_frontswap_store/load, mz_page_write/read, "
      "zram_rw_page, swap_writepage/readpage), inflated by TCG and the "
      "probes: compare ratios. Wall time is the workload's own: the "
      "pattern's write and re-read, or the program's run, without the "
      "bench reading the cache's state in between. Density is stored "
      "bytes over the memory the pool takes, given once the pool holds "
      f"{DENSITY_MIN} pages.", ""]


def mib(r, key):
    return f"{r[key] / 2**20:.1f}" if key in r else "—"


for label in labels:
    base, _, cpass = label.partition("@")
    over = (" — over the calibrated disk (NVMe SSD, below)" if cpass else
            " — over the unthrottled disk")
    if base == "multi":
        md += [f"## {head.get('multi', '?')} cgroups at once, "
               f"{head.get('multi_size', '?')} each in memory.max="
               f"{head.get('multi_limit', '?')}, 2:1{over}", ""]
    elif base == "sort":
        md += [f"## a real program: GNU sort, {prog.get('lines', '?')} "
               f"lines ({int(prog.get('bytes', 0)) / 2**20:.1f} MiB of "
               "text) in one buffer, memory.max="
               f"{prog.get('limit', '?')}{over}", "",
               "Output checked against the same sort without a limit. "
               "Stored pages and pool: the peak, sampled every second.",
               ""]
    else:
        md += [f"## one cgroup, {head.get('size', '?')} in memory.max="
               f"{head.get('limit', '?')}, {base}{over}", ""]
    many = [s for s in setups if len(allruns.get((s, label), [])) > 1]
    if many:
        rounds = max(len(allruns[s, label]) for s in many)
        md += [f"The setups that finished their first run ran it {rounds} "
               "times, a round over all of them at a time; "
               "each row is its setup's median run. Every run's wall "
               "seconds, in order: " + "; ".join(
                   f"{s} " + ", ".join(
                       f"{r['wall_ms'] / 1000:.1f}" +
                       ("" if outcome(r) == "ok" else f" ({outcome(r)})")
                       for r in allruns[s, label])
                   for s in many) + ".", ""]
    md += ["| setup | outcome | wall s | memory.max MiB | peak memory MiB | "
           "major faults | pswpin | pswpout | "
           "stored pages (held) | pool MiB | density | written back | "
           "store p50/p99 us | load p50/p99 us | in writeback s |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in setups:
        r = runs.get((s, label))
        if not r:
            if (s, label) in skips:
                md.append(f"| {s} | not run: {skips[s, label]} |" +
                          " |" * 13)
            continue
        out = outcome(r)
        st, ld = lat[s, label, "store"], lat[s, label, "load"]
        # A few hundred entries in slabs left from a fuller pool say how
        # empty the slabs are, not how densely entries pack.
        dens = (f"{r['stored_pages'] * 4096 / r['pool_bytes']:.2f}"
                if r["stored_pages"] >= DENSITY_MIN and r["pool_bytes"]
                else "—")
        md.append(f"| {s} | {out} | {r['wall_ms'] / 1000:.1f} | "
                  f"{mib(r, 'limit_bytes')} | {mib(r, 'peak_bytes')} | "
                  f"{r['pgmajfault']} | {r['pswpin']} | {r['pswpout']} | "
                  f"{r['stored_pages']} | {r['pool_bytes'] / 2**20:.1f} | "
                  f"{dens} | {r['written_back']} | "
                  f"{fmt(pct(st, 50))}/{fmt(pct(st, 99))} | "
                  f"{fmt(pct(ld, 50))}/{fmt(pct(ld, 99))} | "
                  f"{wbtime(s, label)} |")
    for mzs in ("mzswap", "mzswap-sync", "mzswap-async"):
        mz = runs.get((mzs, label))
        if not mz:
            continue
        parts = []
        for ref in ("zswap", "zswap-cap"):
            zs = runs.get((ref, label))
            if not zs:
                continue
            if stopped(zs) and not mz["rc"]:
                wall = (f"< {ratio(mz['wall_ms'], zs['wall_ms'])} ({ref} "
                        f"stopped at {zs['timeout_s']} s)")
            elif zs["oom_kill"] or zs["rc"]:
                wall = f"— ({ref} {outcome(zs)})"
            else:
                wall = ratio(mz["wall_ms"], zs["wall_ms"])
            parts.append(f"{mzs}/{ref}: store p50 "
                         f"{ratio(p50(mzs, label, 'store'), p50(ref, label, 'store'))}"
                         f", load p50 "
                         f"{ratio(p50(mzs, label, 'load'), p50(ref, label, 'load'))}"
                         f", wall {wall}")
        for ref in ("disk", "zram", "zram-eq"):
            rr = runs.get((ref, label))
            if not rr:
                continue
            if rr["oom_kill"] or rr["rc"]:
                parts.append(f"{mzs}/{ref} wall — ({ref} {outcome(rr)})")
            else:
                parts.append(f"{mzs}/{ref} wall "
                             f"{ratio(mz['wall_ms'], rr['wall_ms'])}")
        md += ["", "Ratios: " + "; ".join(parts) + "."]
    md.append("")


def load_runs(path):
    """The run facts of another RAW file."""
    out = defaultdict(list)
    for line in open(path):
        w = line.split()
        if w and w[0] == "run":
            out[w[1], w[2]].append(facts(w[3:]))
    return {k: median_run(v) for k, v in out.items()}


def wall_of(rs, s, label):
    """(wall ms or None, why not a plain wall time or None)."""
    r = rs.get((s, label))
    if not r:
        return None, skips.get((s, label)) and "cannot run" or "not run"
    if r["oom_kill"]:
        return None, "OOM-killed"
    if stopped(r):
        return r["wall_ms"], f"stopped at {r['timeout_s']} s"
    if r["rc"]:
        return None, f"rc {r['rc']}"
    return r["wall_ms"], None


def nodisk(s, label):
    """zram's runs serve the calibrated pass too: zram uses no disk."""
    base = label.partition("@")[0]
    if s.startswith("zram") and (s, label) not in runs and \
            (s, label) not in skips:
        return base
    return label


def target(label, ref, bound):
    """One row of the targets table: mzswap's wall over REF's <= BOUND."""
    mz, why = wall_of(runs, "mzswap", label)
    if mz is None or why:
        return f"| {label} | mzswap/{ref} | <= {bound} | — | NOT MET: mzswap {why} |"
    rl = nodisk(ref, label)
    w, why = wall_of(runs, ref, rl)
    note = unequal(label, ref, rl)
    label = label if rl == label else f"{label} ({ref}: {rl})"
    if w is None:
        if why == "cannot run":
            return (f"| {label} | mzswap/{ref} | <= {bound} | — | met: {ref} "
                    f"cannot run ({skips[ref, rl]}) |")
        return (f"| {label} | mzswap/{ref} | <= {bound} | — | "
                f"{'met' if why == 'OOM-killed' else '—'}: {ref} {why} |")
    r = mz / w
    if why:
        return (f"| {label} | mzswap/{ref} | <= {bound} | < {r:.2f} | "
                f"{'met' if r <= bound else 'NOT MET'} ({ref} {why}) |")
    return (f"| {label} | mzswap/{ref} | <= {bound} | {r:.2f} | "
            f"{'met' if r <= bound else 'NOT MET'}{note} |")


def unequal(label, ref, rl):
    """zram-eq meant to use mzswap's memory on LABEL: say if it took more.

    It runs with memory.max lowered by the pool zram took in its own run,
    but its pool grows past that when less stays uncompressed: the run
    then had more memory than mzswap's, and its ratio compares unequal
    setups.
    """
    if ref != "zram-eq":
        return ""
    a = runs.get(("mzswap", label), {}).get("peak_bytes")
    b = runs.get((ref, rl), {}).get("peak_bytes")
    if not a or not b or b <= a * 1.05:
        return ""
    return (f" (not the same memory: {ref} took {b / 2**20:.1f} MiB at "
            f"its peak, mzswap {a / 2**20:.1f})")


if cal:
    md += ["## The calibrated disk", "",
           f"In this boot the guest compressed at {cal['guest_lz4_mbs']} MB/s "
           f"and the host, natively, at {cal['host_lz4_mbs']} MB/s (`lz4 -b1 "
           "-B4096`, 4 KiB blocks of the 2:1 pattern): the emulated CPU is "
           f"{cal['slowdown']} times slower" +
           (f" (decompression: {cal['host_lz4_dmbs']} and "
            f"{cal['guest_lz4_dmbs']} MB/s)" if float(cal.get(
                'guest_lz4_dmbs', 0)) else "") + ". The SSD: "
           f"{cal['nvme_read_iops']} reads and {cal['nvme_write_iops']} "
           "writes a second (4 KiB random: reads at queue depth 1, writes with "
           "four in flight; docs/benchmarks.md names the drive and the "
           "source). Divided by the slowdown, the "
           f"@nvme runs' backing disks take at most {cal['read_iops']} reads "
           f"and {cal['write_iops']} writes a second (QEMU "
           "`block_set_io_throttle`, in requests and in bytes: a merged "
           "request costs its pages).", ""]
nlabels = [l for l in labels if l.endswith("@nvme")]
if nlabels:
    wl = [s for s in setups if s != "zswap"]
    md += ["## Unthrottled and calibrated side by side", "",
           "Wall seconds, unthrottled / calibrated (zram uses no disk: "
           "its one run stands in both).", "",
           "| workload | " + " | ".join(wl) + " |",
           "|---|" + "---|" * len(wl)]
    for nl in nlabels:
        base = nl.partition("@")[0]
        cells = []
        for s in wl:
            v = []
            for l in (base, nl):
                w, why = wall_of(runs, s, nodisk(s, l))
                if w is None:
                    v.append(why)
                else:
                    v.append(("> " if why else "") + f"{w / 1000:.1f}")
            cells.append(" / ".join(v))
        md.append(f"| {base} | " + " | ".join(cells) + " |")
    md += ["", "## Targets", "",
           "Calibrated disk, every workload: mzswap <= 1.0x zswap-cap, "
           "<= 1.0x disk, <= 1.25x zram, <= 1.0x zram-eq; the real program "
           "<= 1.0x zram.", "",
           "| workload | ratio | target | measured | verdict |",
           "|---|---|---|---|---|"]
    for nl in nlabels:
        for ref, bound in (("zswap-cap", 1.0), ("disk", 1.0),
                           ("zram", 1.0 if nl.startswith("sort") else 1.25),
                           ("zram-eq", 1.0)):
            md.append(target(nl, ref, bound))
    md.append("")
    if len(sys.argv) > 3:
        old = load_runs(sys.argv[3])
        oldmz = "mzswap-async" if any(k[0] == "mzswap-async" for k in old) \
            else "mzswap"
        md += ["Unthrottled disk: no workload worse than the "
               f"synchronous_io=N figures of `{sys.argv[3].split('/')[-1]}` "
               f"({oldmz} there), as ratios to zswap-cap and the disk of "
               "each boot.", "",
               "| workload | ratio | then | now | verdict |",
               "|---|---|---|---|---|"]
        for nl in nlabels:
            base = nl.partition("@")[0]
            for ref in ("zswap-cap", "disk"):
                a, _ = wall_of(old, oldmz, base)
                b, bw = wall_of(old, ref, base)
                c, _ = wall_of(runs, "mzswap", base)
                d, dw = wall_of(runs, ref, base)
                if None in (a, b, c, d) or bw or dw:
                    md.append(f"| {base} | mzswap/{ref} | — | — | — (a "
                              "run stopped, failed or is missing) |")
                    continue
                then, now = a / b, c / d
                verdict = ("met" if now <= then else
                           "within 10% (noise)" if now <= then * 1.1 else
                           "NOT MET")
                md.append(f"| {base} | mzswap/{ref} | {then:.2f} | "
                          f"{now:.2f} | {verdict} |")
        md.append("")
if hits:
    md += ["## mzswap's hits per cgroup", "",
           "Of the pages that left the cache in a run, the share read back "
           "from it (`loads`) rather than written to the disk first "
           "(`written_back`): the per-cgroup table at the end of the run. "
           "A cgroup near 0 pays compression for nothing.", "",
           "| workload | cgroups | loads | written back | hit ratio |",
           "|---|---|---|---|---|"]
    for (s, label), v in hits.items():
        lo = sum(x for x, _ in v)
        wb = sum(y for _, y in v)
        hr = f"{lo / (lo + wb):.2f}" if lo + wb else "—"
        per = ", ".join(f"{x / (x + y):.2f}" for x, y in v if x + y)
        n = len(allruns.get((s, label), [])) or 1
        ncg = f"{len(v) // n} × {n} runs" if n > 1 else f"{len(v)}"
        md.append(f"| {s} {label} | {ncg} | {lo} | {wb} | {hr}"
                  f"{f' ({per})' if len(v) > 1 else ''} |")
    md.append("")
if wsets:
    md += ["## Holding a cold cache, and the working set", "",
           "Each run's anon refaults and the share the kernel activated "
           "(they came back within the working set: more memory would "
           "have kept them), from memory.stat; for mzswap, its cgroups' "
           "holds begun and ended (`hold_percent`) and the stores passed "
           "through because a cgroup held its share, summed over the "
           "setup's runs.", "",
           "| workload | setup | runs | refaults | activated | holds "
           "begun / ended | passed through: held full / cold |",
           "|---|---|---|---|---|---|---|"]
    for (s, label), v in wsets.items():
        rf = sum(x["refault"] for x in v)
        ac = sum(x["activate"] for x in v)
        share = f"{100 * ac / rf:.1f}%" if rf else "—"
        h = holds.get((s, label), [])
        hb = (f"{sum(x['hold_enters'] for x in h)} / "
              f"{sum(x['hold_exits'] for x in h)}") if h else "—"
        pt = (f"{sum(x['reject_hold_full'] for x in h)} / "
              f"{sum(x['reject_low_hits'] for x in h)}") if h else "—"
        md.append(f"| {label} | {s} | {len(v)} | {rf} | {ac} ({share}) | "
                  f"{hb} | {pt} |")
    md.append("")
# The counters table: heading, then the counters summed into it.
COUNT_COLS = [
    ("stores", ["stores"]),
    ("loads", ["loads"]),
    ("backing writes", ["backing_writes"]),
    ("backing reads", ["backing_reads"]),
    ("passed: held full", ["reject_hold_full"]),
    ("passed: cold", ["reject_low_hits"]),
    ("passed: poor, streak", ["reject_compress_poor",
                              "reject_compress_skip"]),
    ("pass-through waited", ["passthrough_throttled"]),
    ("written back", ["written_back_pages"]),
    ("shrinker scans", ["shrinker_scans"]),
    ("worker runs", ["shrink_worker_runs"]),
]


def run_facts(per_run, s, label):
    """Of facts given once a run of SETUP on LABEL, in the order of its
    runs, those of the run the tables show (its median run)."""
    v, rs = per_run[s, label], allruns.get((s, label), [])
    return v[rs.index(runs[s, label])] if len(rs) == len(v) else v[-1]


if counts:
    md += ["## mzswap's counters", "",
           "The module's counters at the end of the run each table above "
           "shows (the median run of several; the module is loaded for "
           "each run); every counter is in the raw facts (`counters`), and "
           "what each means in docs/admin-guide.md. Passed: stores sent on "
           "to the disk uncompressed because the cgroup held its share, "
           "was cold, or its data did not compress.", "",
           "| workload | setup | " +
           " | ".join(h for h, _ in COUNT_COLS) + " |",
           "|---|---|" + "---|" * len(COUNT_COLS)]
    for s, label in counts:
        c = run_facts(counts, s, label)
        cols = [str(sum(c.get(k, 0) for k in ks)) for _, ks in COUNT_COLS]
        md.append(f"| {label} | {s} | " + " | ".join(cols) + " |")
    md.append("")
# An idle vCPU's function, and the functions a profile table shows.
IDLE_FN, PROF_TOP = "native_safe_halt", 12
if profs:
    md += ["## Where the CPUs went", "",
           "`MZ_BENCH_PROFILE=1`: both vCPUs sampled 997 times a second "
           "through the run each table above shows (scripts/bpftrace/"
           "bench-prof.bt). Busy: every sample but the idle loop's "
           f"(`{IDLE_FN}`); user: user mode, all of it. Then the kernel "
           f"functions with the most samples in any setup, {PROF_TOP} a "
           "workload. Under TCG a sample lands where the emulated CPU "
           "spends host time: an exit to QEMU (a virtio notify) counts "
           "its I/O emulation.", ""]
    for label in labels:
        ps = [s for s in setups if (s, label) in profs]
        if not ps:
            continue
        p = {s: run_facts(profs, s, label) for s in ps}
        busy = {s: sum(n for f, n in p[s].items() if f != IDLE_FN)
                for s in ps}
        user = {s: sum(n for f, n in p[s].items() if f.startswith("0x"))
                for s in ps}
        fns = sorted({f for s in ps for f in p[s]
                      if f != IDLE_FN and not f.startswith("0x")},
                     key=lambda f: (-max(p[s].get(f, 0) for s in ps), f))
        md += [f"{label}:", "",
               "| samples | " + " | ".join(ps) + " |",
               "|---|" + "---|" * len(ps),
               "| busy | " + " | ".join(str(busy[s]) for s in ps) + " |",
               f"| idle ({IDLE_FN}) | " +
               " | ".join(str(p[s].get(IDLE_FN, 0)) for s in ps) + " |",
               "| user | " + " | ".join(str(user[s]) for s in ps) + " |"]
        md += [f"| {f} | " + " | ".join(str(p[s].get(f, 0)) for s in ps) +
               " |" for f in fns[:PROF_TOP]]
        md.append("")
if mkdirs:
    md += ["## mkdir of a memory cgroup while another cgroup writes back",
           "", "A cgroup writes a 2:1 pattern far beyond its memory.high "
           "(`MZ_BENCH_MKDIR_SIZE` in `MZ_BENCH_MKDIR_LIMIT`) over the "
           "throttled disk; meanwhile mkdirs of new memory cgroups, each "
           "timed in the kernel (`cgroup_mkdir`, scripts/bpftrace/"
           "bench-mkdir.bt). zram holds it all: no writeback.", "",
           "| setup | disk reads/writes per s | mkdirs | p50 ms | max ms | "
           "written back |", "|---|---|---|---|---|---|"]
    for s, speed, f in mkdirs:
        h = lat[s, f"mkdir{speed}", "mkdir"]
        n = sum(h.values())
        hi = max(h) if h else None
        spd = ("unthrottled" if speed == "0" else
               f"{f['read_iops']}/{f['write_iops']}" +
               (" (calibrated)" if speed == "nvme" else ""))
        md.append(f"| {s} | {spd} | {n} | "
                  f"{fmt(pct(h, 50) and round(pct(h, 50) / 1000, 1))} | "
                  f"{fmt(hi and round(hi / 1000, 1))} | "
                  f"{f['written_back']} |")
    md.append("")

if pools:
    md += ["## Store and load p50 as the pool grows", "",
           "4:1 patterns in an unlimited cgroup bring the pool to that many "
           "entries untimed (pushed out with memory.reclaim); then a sample "
           f"of {head.get('pool_sample', '?')} pages is pushed out (the timed "
           "stores) and read back (the timed loads). No writeback "
           "(mzswap's shrinker off, pool limits high). mzswap runs with "
           "synchronous_io=N here, so that both read back through the swap cache with readahead; the timed "
           "calls are the same in both modes.", "",
           "| entries | zswap store p50/p99 | mzswap store p50/p99 | "
           "zswap load p50/p99 | mzswap load p50/p99 | store ratio | "
           "load ratio |", "|---|---|---|---|---|---|---|"]
    for pages in sorted({p for _, p, _ in pools}):
        zs, mz = f"pool{pages}", f"pool{pages}"
        h = {(s, op): lat[s, f"pool{pages}", op]
             for s in ("zswap", "mzswap") for op in ("store", "load")}
        md.append(f"| {pages} | "
                  f"{fmt(pct(h['zswap', 'store'], 50))}/{fmt(pct(h['zswap', 'store'], 99))} | "
                  f"{fmt(pct(h['mzswap', 'store'], 50))}/{fmt(pct(h['mzswap', 'store'], 99))} | "
                  f"{fmt(pct(h['zswap', 'load'], 50))}/{fmt(pct(h['zswap', 'load'], 99))} | "
                  f"{fmt(pct(h['mzswap', 'load'], 50))}/{fmt(pct(h['mzswap', 'load'], 99))} | "
                  f"{ratio(pct(h['mzswap', 'store'], 50), pct(h['zswap', 'store'], 50))} | "
                  f"{ratio(pct(h['mzswap', 'load'], 50), pct(h['zswap', 'load'], 50))} |")
    md.append("")

if "mzswap" in meta and "zswap" in meta:
    mz, zs = meta["mzswap"], meta["zswap"]
    # Both pools filled the same way: zswap's node delta is the swap
    # cache's, which mzswap's delta holds as well.
    idx = max(0, mz["node_bytes"] - zs["node_bytes"]) / mz["stored"]
    # A slab's memcg vector, shared by its objects (results before it
    # was measured say objcg_bytes, 8: the 64-byte entry's).
    if "objcg_vector_bytes" in mz:
        mz["objcg_bytes"] = mz["objcg_vector_bytes"] / mz["objs_per_slab"]
    mzb = mz["entry_bytes"] + mz["objcg_bytes"] + mz["handle_bytes"] + idx
    zsb = zs["entry_bytes"] + zs["objcg_bytes"] + zs["handle_bytes"]
    md += ["## Metadata per stored page", "",
           f"Measured with {mz['stored']} entries (mzswap) and "
           f"{zs['stored']} (zswap) in the pool.", "",
           "| | entry object | memcg pointer | pool handle | index | total |",
           "|---|---|---|---|---|---|",
           f"| zswap 6.1 | {zs['entry_bytes']} (rb-tree node inside) | "
           f"{zs['objcg_bytes']} (objcg inside the entry) | "
           f"{zs['handle_bytes']} | 0 | {zsb:.1f} |",
           f"| mzswap | {mz['entry_bytes']} (LRU, record, owner inside) | "
           f"{mz['objcg_bytes']:.1f} (SLAB_ACCOUNT vector) | "
           f"{mz['handle_bytes']} | {idx:.1f} (xarray) | {mzb:.1f} |",
           "", f"Ratio mzswap/zswap: {mzb / zsb:.2f}.", ""]

if cgsteps:
    md += ["## Worker step and shrinker call as cgroups grow", "",
           "Each cgroup holds 64 pages in mzswap. A worker step: the "
           "round-robin cursor's move to the next cgroup plus that cgroup's "
           "writeback of one entry. Shrinker calls: memory.reclaim of ten "
           "of the cgroups.", "",
           "| cgroups | worker steps | step p50/p99 us | count calls | "
           "count p50 us | scan calls | scan p50/p99 us |",
           "|---|---|---|---|---|---|---|"]
    for n in cgsteps:
        lab = f"cg{n}"
        st, co, sc = (lat["mzswap", lab, op] for op in ("step", "count",
                                                          "scan"))
        md.append(f"| {n} | {sum(st.values())} | "
                  f"{fmt(pct(st, 50))}/{fmt(pct(st, 99))} | "
                  f"{sum(co.values())} | {fmt(pct(co, 50))} | "
                  f"{sum(sc.values())} | "
                  f"{fmt(pct(sc, 50))}/{fmt(pct(sc, 99))} |")
    md.append("")
if notes:
    md += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
if sections:
    md += ["## Where the benchmark's time went", "",
           "| section | seconds in the VM |", "|---|---|"]
    md += [f"| {n} | {t} |" for n, t in sections]
    md += [f"| total | {sum(t for _, t in sections)} |", ""]
if steps:
    md += ["Outside the timed work: each workload run's setup (swapon, "
           "module load, cgroups), bpftrace's start (until its probes are "
           "attached) and stop, and teardown; the pool and cgroup sections' "
           "untimed fills and reclaim.", "",
           "| step | times | seconds in all | mean s |", "|---|---|---|---|"]
    md += [f"| {k} | {n} | {t / 1000:.1f} | {t / 1000 / n:.2f} |"
           for k, (t, n) in sorted(steps.items(), key=lambda x: -x[1][0])]
    md.append("")
open(prefix + ".md", "w").write("\n".join(md) + "\n")

# Plots: wall per setup and workload; p50 against pool size (log x).
with open(prefix + ".wall.dat", "w") as f:
    f.write("workload " + " ".join(setups) + "\n")
    for label in labels:
        vals = []
        for s in setups:
            r = runs.get((s, label))
            bad = not r or r["oom_kill"] or (r["rc"] and not stopped(r))
            vals.append("0" if bad else f"{r['wall_ms'] / 1000:.2f}")
        f.write(label + " " + " ".join(vals) + "\n")
with open(prefix + ".pool.dat", "w") as f:
    for pages in sorted({p for _, p, _ in pools}):
        v = [pct(lat[s, f"pool{pages}", op], 50)
             for s in ("zswap", "mzswap") for op in ("store", "load")]
        f.write(f"{pages} " + " ".join("NaN" if x is None else str(x)
                                       for x in v) + "\n")
with open(prefix + ".cg.dat", "w") as f:
    for n in cgsteps:
        v = [pct(lat["mzswap", f"cg{n}", op], 50)
             for op in ("step", "scan", "count")]
        f.write(f"{n} " + " ".join("NaN" if x is None else str(x)
                                   for x in v) + "\n")
# Latency distributions of the first workload (2:1): one block per setup
# (gnuplot "index"), cumulative fraction of calls against microseconds.
cdf_label = labels[0] if labels else None
cdf_setups = {op: [] for op in ("store", "load")}
for op in cdf_setups:
    with open(f"{prefix}.{op}.dat", "w") as f:
        for s in setups:
            h = lat[s, cdf_label, op]
            total = sum(h.values())
            if not total:
                continue
            acc = 0
            f.write(f"# {s}\n")
            for us in sorted(h):
                acc += h[us]
                f.write(f"{max(us, 1)} {acc / total:.4f}\n")
            f.write("\n\n")
            cdf_setups[op].append(s)
plots = []
if labels:
    cols = ", ".join(f"'' using {i + 2} title '{s}'" if i else
                     f"'{prefix}.wall.dat' using 2:xtic(1) title '{s}'"
                     for i, s in enumerate(setups))
    plots.append(f"""set title 'wall time, write + re-read (0: OOM-killed; sort: a stopped run shows its limit)'
set style data histograms
set style fill solid 0.8 border -1
set ylabel 'seconds (TCG)'
set key top left autotitle columnhead
plot {cols}
""")


def p50_plot(title, dat, log, xlabel, series):
    """A linespoints plot of DAT's columns 2.. (SERIES titles) against 1."""
    cols = ", ".join(f"'{dat if i == 0 else ''}' using 1:{i + 2} "
                     f"title '{t}'" for i, t in enumerate(series))
    return f"""set title '{title}'
set style data linespoints
set logscale {log}
set xlabel '{xlabel}'
set ylabel 'us (TCG)'
set key top left noautotitle
plot {cols}
"""


if pools:
    plots.append(p50_plot("p50 latency against pool entries",
                          f"{prefix}.pool.dat", "x 2", "entries in the pool",
                          ["zswap store", "zswap load", "mzswap store",
                           "mzswap load"]))
if cgsteps:
    plots.append(p50_plot("mzswap p50 latency against cgroups holding "
                          "entries", f"{prefix}.cg.dat", "xy 10", "cgroups",
                          ["worker step", "shrinker scan", "shrinker count"]))
for op, have in cdf_setups.items():
    if not have:
        continue
    cols = ", \\\n     ".join(
        f"'{prefix}.{op}.dat' index {i} title '{s}'"
        for i, s in enumerate(have))
    plots.append(f"""set title '{op} latency, {cdf_label}: fraction of calls at or under'
set style data steps
set logscale x 10
set xlabel 'us (TCG)'
set ylabel 'fraction of calls'
set yrange [0:1]
set key bottom right noautotitle
plot {cols}
""")
gp = (f"set terminal png size 1000,{450 * max(1, len(plots))}\n"
      f"set output '{prefix}.png'\n"
      f"set multiplot layout {max(1, len(plots))},1\n" +
      "unset logscale; unset xlabel; set yrange [*:*]\n".join(plots) + "unset multiplot\n")
try:
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)
except (OSError, subprocess.CalledProcessError) as e:
    print(f"bench-report: no plot: {e}", file=sys.stderr)
