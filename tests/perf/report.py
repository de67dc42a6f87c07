#!/usr/bin/env python3
"""report: turn tests/perf/run's raw outputs into the report.

    report.py OUT [--readme README.md]

Reads OUT/raw/<config>/<tag>_n<ranks>_r<run>.txt ("name size value" lines
from dkv_perf, ucx_perf, mpi_perf, pmix_perf, redis_perf.sh; tag = dkv, ucx,
mpi-rdma, mpi-ucx, pmix, redis) and OUT/env.txt, and writes:

    OUT/figures.csv  every figure: median, min, max over the runs
    OUT/results.csv  the table's comparisons: dramkv, peer, ratio, targets
    OUT/table.md     targets met/missed, then every comparison per config
    OUT/summary.md   where and when, the targets, the plot: the README's
                     Performance section (--readme replaces the text between
                     its <!-- perf:begin --> and <!-- perf:end --> markers)
    OUT/plot/        data + configs.txt for plot.gp (plot.png)

Ratio = dramkv / peer, always: for times lower is better, for bandwidths
and rates higher is better. Python 3 standard library only.
"""
import csv
import os
import re
import statistics
import sys

RAW_NAME = re.compile(r"^(?P<tag>[a-z0-9-]+)_n(?P<np>\d+)_r(?P<run>\d+)\.txt$")
CONFIG_ORDER = ["shm", "tcp", "cluster"]
CONFIG_TITLE = {
    "shm": "shared memory, one node",
    "tcp": "TCP on one node (UCX_TLS=tcp,self; MPI btl tcp)",
    "cluster": "TCP between two emulated nodes (slurm/local-cluster)",
}
CONFIG_NOTE = {
    "shm": "MPI_Win_allocate on one node gives shared memory that osc rdma "
           "and osc ucx reach with plain loads and stores, so its put/get "
           "figures are memcpy within the caller's cache, not messaging.",
    "tcp": "Over TCP Open MPI's ob1 runs osc pt2pt: osc rdma cannot create a "
           "window over the tcp btl.",
    "cluster": "Both emulated nodes share the machine's cores. Packets between"
               " the nodes' network namespaces are handled by the kernel's "
               "softirq thread (ksoftirqd), which has to wait for a core: "
               "peers that busy-poll (UCX ping-pong, MPI, PMIx) keep every "
               "core busy and see about 4 ms (one scheduler tick) per message"
               " - the UCX round trip is a flat 8.0 ms - while dramkv's "
               "waiting ranks sleep in poll() and leave the core free. The "
               "latency ratios here flatter dramkv; compare bandwidths, and "
               "use real nodes for latency.",
}
MPI_NAME = {"mpi-rdma": "ob1 + osc rdma", "mpi-pt2pt": "ob1 + osc pt2pt",
            "mpi-ucx": "pml ucx + osc ucx"}
MPI_TAGS = list(MPI_NAME)
MPI_PML = {"mpi-rdma": "ob1", "mpi-pt2pt": "ob1", "mpi-ucx": "ucx"}
# The sweep of perf_util.c: 8 B, x8 to 256 KiB, then x4 to 64 MiB.
SIZES = [8 * 8 ** i for i in range(6)] + [1048576 * 4 ** i for i in range(4)]


def load(out):
    """{(config, tag, name, size): [values]}"""
    figs = {}
    raw = os.path.join(out, "raw")
    for conf in sorted(os.listdir(raw)):
        for fname in sorted(os.listdir(os.path.join(raw, conf))):
            m = RAW_NAME.match(fname)
            if not m:
                continue
            with open(os.path.join(raw, conf, fname)) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) != 3 or not parts[1].isdigit():
                        continue
                    try:
                        value = float(parts[2])
                    except ValueError:
                        continue
                    key = (conf, m["tag"], parts[0], int(parts[1]))
                    figs.setdefault(key, []).append(value)
    return figs


class Data:
    def __init__(self, figs):
        self.figs = figs

    def get(self, conf, tag, name, size, scale=1.0):
        vals = self.figs.get(("redis" if tag == "redis" else conf, tag,
                              name, size))
        return statistics.median(vals) * scale if vals else None

    def best(self, conf, cands, size, higher):
        """Best (value, label) among [(label, tag, name, scale)]."""
        got = [(self.get(conf, t, n, size, s), lab) for lab, t, n, s in cands]
        got = [g for g in got if g[0] is not None]
        if not got:
            return None, None
        return (max if higher else min)(got, key=lambda g: g[0])


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    return "%.3g" % v


def fmt_size(s):
    for unit, div in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if s >= div and s % div == 0:
            return "%d %s" % (s // div, unit)
    return "%d B" % s


def mpi_peers(optext, what, windows=("create", "alloc")):
    """Peer columns of one MPI figure for each window kind and osc."""
    cols = []
    for w in windows:
        for tag in MPI_TAGS:
            cols.append(("%s, Win_%s, osc %s" % (optext, w, tag[4:]), tag,
                         "mpi_%s_%s" % (w, what), 1.0))
    return cols


def sections():
    """(title, unit, higher_is_better, dramkv metric, sizes, peers)"""
    ucx_rtt = [("UCX AM round trip", "ucx", "ucx_am_rtt_us", 1.0)]
    ranks = [2, 4, 8]
    barrier = [("MPI_Barrier (pml %s, job of osc %s)" % (MPI_PML[t], t[4:]),
                t,
                "mpi_barrier_us", 1.0) for t in MPI_TAGS]
    return [
        ("put + quiet latency", "us", False, "put_quiet_latency_us", SIZES,
         ucx_rtt + mpi_peers("MPI_Put+flush", "put_flush_us")
         + mpi_peers("MPI_Put+fence", "put_fence_us", ("create",))
         + [("Redis SET", "redis", "redis_set_latency_us", 1.0)]),
        ("get latency", "us", False, "get_latency_us", SIZES,
         ucx_rtt + mpi_peers("MPI_Get+flush", "get_flush_us")
         + mpi_peers("MPI_Get+fence", "get_fence_us", ("create",))
         + [("Redis GET", "redis", "redis_get_latency_us", 1.0)]),
        ("put bandwidth, one value in flight", "GB/s", True, "put_bw1_GBps",
         SIZES[3:], [("UCX AM, one in flight", "ucx", "ucx_am_bw1_GBps", 1.0)]
         + mpi_peers("MPI_Put+flush", "put_flush_bw1_GBps")),
        ("get bandwidth, one value in flight", "GB/s", True, "get_bw1_GBps",
         SIZES[3:], [("UCX AM, one in flight", "ucx", "ucx_am_bw1_GBps", 1.0)]
         + mpi_peers("MPI_Get+flush", "get_flush_bw1_GBps")),
        ("put bandwidth, window of 16 (fewer above 32 MiB)", "GB/s", True,
         "put_bw_window_GBps", SIZES[3:],
         [("UCX AM streaming", "ucx", "ucx_am_bw_GBps", 1.0)]
         + mpi_peers("MPI_Put x16+flush", "put_flush_bw_window_GBps")
         + [("memcpy", "dkv", "memcpy_GBps", 1.0)]),
        ("get bandwidth, window of 16 (fewer above 32 MiB)", "GB/s", True,
         "get_bw_window_GBps", SIZES[3:],
         [("UCX AM streaming", "ucx", "ucx_am_bw_GBps", 1.0),
          ("memcpy", "dkv", "memcpy_GBps", 1.0)]),
        ("message rate: 10,000 puts, then one quiet", "M/s", True,
         "put_rate_Mops", [8, 64],
         [("UCX AM", "ucx", "ucx_am_rate_Mops", 1.0)]
         + mpi_peers("MPI_Put", "put_rate_Mops", ("create",))
         + [("Redis SET -P 16", "redis", "redis_set_p16_Mops", 1.0)]),
        ("fence, nothing outstanding (size = ranks)", "us", False, "fence_us",
         ranks, barrier + [("PMIx_Fence", "pmix", "pmix_fence_us", 1.0)]),
        ("fence after 64 puts of 64 B per rank (size = ranks)", "us", False,
         "fence_64puts_us", ranks,
         [("MPI_Win_fence (%s)" % MPI_NAME[t], t, "mpi_win_fence_64puts_us",
           1.0) for t in MPI_TAGS]),
        ("dkv_init beyond UCX context + workers (size = ranks)", "ms", False,
         "init_beyond_ucx_ms", ranks,
         [("PMIx put+commit+collecting fence", "pmix", "pmix_exchange_us",
           1e-3),
          ("dkv_init", "dkv", "init_ms", 1.0),
          ("first dkv_init", "dkv", "init_first_ms", 1.0),
          ("UCX context + workers", "dkv", "ucx_ctx_workers_ms", 1.0),
          ("minimal init: UCX setup + PMIx exchange", "dkv", "min_init_ms",
           1.0)]),
    ]


def targets(d, conf):
    """(what, dramkv, peer label, peer value, ratio, goal text, met)"""
    rows = []

    def add(what, dv, plabel, pv, op, goal):
        if dv is None or (pv is None and plabel):
            rows.append((what, dv, plabel, pv, None, "%s %g" % (op, goal),
                         None))
            return
        ratio = dv / pv if plabel else dv
        met = ratio <= goal if op == "<=" else ratio >= goal
        if op == "<":
            met = ratio < goal
        rows.append((what, dv, plabel, pv, ratio if plabel else None,
                     ("%s %gx" if plabel else "%s %g") % (op, goal), met))

    g = d.get
    for op, name in (("put+quiet", "put_quiet_latency_us"),
                     ("get", "get_latency_us")):
        add("8 B %s latency (us) vs UCX AM round trip" % op,
            g(conf, "dkv", name, 8), "UCX AM", g(conf, "ucx", "ucx_am_rtt_us",
                                                  8), "<=", 1.3)
    for op in ("put", "get"):
        for size in (16 << 20, 64 << 20):
            dv = d.best(conf, [("1", "dkv", op + "_bw1_GBps", 1),
                               ("w", "dkv", op + "_bw_window_GBps", 1)],
                        size, True)[0]
            pv, _ = d.best(conf, [("1", "ucx", "ucx_am_bw1_GBps", 1),
                                  ("s", "ucx", "ucx_am_bw_GBps", 1)],
                           size, True)
            add("%s %s bandwidth (GB/s, best of 1/window) vs UCX AM"
                % (fmt_size(size), op), dv, "UCX AM (best)", pv, ">=", 0.9)
            cands = []
            for tag in MPI_TAGS:
                cands.append((MPI_NAME[tag], tag, "mpi_create_%s_flush_bw1_GBps"
                              % op, 1))
                if op == "put":
                    cands.append((MPI_NAME[tag] + ", window", tag,
                                  "mpi_create_put_flush_bw_window_GBps", 1))
            pv, plab = d.best(conf, cands, size, True)
            add("%s %s bandwidth vs MPI_%s+flush, Win_create"
                % (fmt_size(size), op, op.capitalize()), dv,
                "MPI (%s)" % plab if plab else "MPI", pv, ">=", 1.0)
    rate = g(conf, "dkv", "put_rate_Mops", 64)
    add("64 B put rate (M/s) vs UCX AM", rate, "UCX AM",
        g(conf, "ucx", "ucx_am_rate_Mops", 64), ">=", 0.7)
    add("64 B put rate (M/s) vs Redis SET -P 16", rate, "Redis -P 16",
        g(conf, "redis", "redis_set_p16_Mops", 64), ">=", 5)
    for n in (2, 4, 8):
        f = g(conf, "dkv", "fence_us", n)
        pv, plab = d.best(conf, [("pml " + MPI_PML[t], t, "mpi_barrier_us",
                                  1) for t in MPI_TAGS],
                          n, False)
        add("fence at %d ranks (us) vs MPI_Barrier" % n, f,
            "MPI_Barrier (%s)" % plab if plab else "MPI_Barrier", pv, "<=",
            1.5)
    for n in (2, 4, 8):
        add("fence at %d ranks (us) vs PMIx_Fence" % n,
            g(conf, "dkv", "fence_us", n), "PMIx_Fence",
            g(conf, "pmix", "pmix_fence_us", n), "<=", 0.1)
    exch = g(conf, "pmix", "pmix_exchange_us", 8, 1e-3)
    add("dkv_init beyond UCX setup at 8 ranks (ms; init - UCX context and "
        "workers) vs one PMIx exchange", g(conf, "dkv", "init_beyond_ucx_ms",
                                           8), "PMIx exchange", exch, "<=", 1.2)
    mini = g(conf, "dkv", "min_init_ms", 8)
    if mini is not None and exch is not None:
        add("the same, measured under the same CPU competition: dkv_init vs "
            "minimal init (UCX setup + one PMIx exchange) at 8 ranks (ms)",
            g(conf, "dkv", "init_ms", 8), "minimal init", mini, "<=",
            round((mini + 0.2 * exch) / mini, 3))
    add("idle holder CPU (% of a core)",
        next((g(conf, "dkv", "idle_holder_cpu_pct", s) for s in (10, 1, 5)
              if g(conf, "dkv", "idle_holder_cpu_pct", s) is not None), None),
        "", None, "<", 1)
    over = [v for (c, t, n, s), v in d.figs.items()
            if c == conf and n == "holder_overhead_per_key_B"]
    add("holder memory overhead (bytes/key)",
        statistics.median(sum(over, [])) if over else None, "", None, "<=",
        64)
    return rows


def targets_md(d, confs):
    lines = ["| config | target | dramkv | peer | peer figure | ratio | goal "
             "| met |", "|---|---|---|---|---|---|---|---|"]
    for conf in confs:
        for row in targets(d, conf):
            what, dv, plabel, pv, ratio, goal, met = row
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                conf, what, fmt(dv), plabel or "-", fmt(pv), fmt(ratio),
                goal, met_text(row)))
    return lines


def env_value(env, key):
    return next((l.split(":", 1)[1].strip() for l in env
                 if l.startswith(key + ":")), "?")


def noisy(env):
    """The load average when the run started, if the machine was busy."""
    load = env_value(env, "load before").split()
    try:
        return load[0] if float(load[0]) > 0.5 else None
    except (IndexError, ValueError):
        return None


def summary_md(out, d, confs, env):
    """The README's part: where, when, the targets, the plot."""
    lines = ["Latest run: %s, %s, %s memory, %s; UCX %s, Open MPI %s, PMIx %s,"
             " Redis %s; commit %s; `%s`." % (
                 env_value(env, "date"), env_value(env, "cpu"),
                 env_value(env, "memory"), env_value(env, "os"),
                 env_value(env, "ucx"), env_value(env, "openmpi"),
                 env_value(env, "pmix"), env_value(env, "redis"),
                 env_value(env, "commit"), env_value(env, "mode"))]
    if noisy(env):
        lines[0] += (" **Noisy:** the machine was busy (load %s when the run"
                     " started); treat the figures as rough." % noisy(env))
    lines += ["", "Ratio = dramkv / peer (times: lower is better; bandwidths"
              " and rates: higher is better). Every figure and every peer"
              " (MPI Win_create/Win_allocate, each osc component) is in"
              " [tests/perf/results/table.md](tests/perf/results/table.md)"
              " and results.csv beside it.", ""]
    lines += targets_md(d, confs)
    if "cluster" in confs:
        lines += ["", "cluster: " + CONFIG_NOTE["cluster"]]
    lines += ["", "![latency and bandwidth against value size]"
              "(tests/perf/results/plot.png)"]
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return lines


def update_readme(path, lines):
    """Replace what lies between the perf markers of README.md."""
    begin, end = "<!-- perf:begin -->", "<!-- perf:end -->"
    with open(path) as f:
        text = f.read()
    if begin not in text or end not in text:
        print("report: no %s ... %s markers in %s; not updated"
              % (begin, end, path), file=sys.stderr)
        return
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)


def met_text(row):
    what, dv, plabel, pv, ratio, goal, met = row
    if met is None:
        return "n/a (not measured)"
    if met:
        return "yes"
    val = ratio if ratio is not None else dv
    limit = float(goal.split()[1].rstrip("x"))
    factor = val / limit if goal.startswith("<") else limit / val
    return "**no** (off by %.2fx)" % factor


def write_figures(out, d):
    with open(os.path.join(out, "figures.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["config", "program", "metric", "size", "median", "min",
                    "max", "runs"])
        for (c, t, n, s), v in sorted(d.figs.items()):
            w.writerow([c, t, n, s, "%.6g" % statistics.median(v),
                        "%.6g" % min(v), "%.6g" % max(v), len(v)])


def write_results(out, d, confs):
    md = []
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["config", "section", "size", "unit", "dramkv", "peer",
                    "peer_value", "ratio", "goal", "met"])
        for conf in confs:
            for row in targets(d, conf):
                what, dv, plabel, pv, ratio, goal, met = row
                w.writerow([conf, "target: " + what, "", "", fmt(dv), plabel,
                            fmt(pv), fmt(ratio), goal,
                            "" if met is None else ("yes" if met else "no")])
            for title, unit, higher, metric, sizes, peers in sections():
                for s in sizes:
                    dv = d.get(conf, "dkv", metric, s)
                    for lab, tag, name, scale in peers:
                        pv = d.get(conf, tag, name, s, scale)
                        if dv is None and pv is None:
                            continue
                        r = dv / pv if dv is not None and pv else None
                        w.writerow([conf, title, s, unit, fmt(dv), lab,
                                    fmt(pv), fmt(r), "", ""])
    return md


def table_md(out, d, confs, env):
    lines = ["# dramkv side-by-side benchmark", ""]
    lines.append("Produced by `tests/perf/run`. Every figure is the median "
                 "over the runs of each program's own median. **Ratio = "
                 "dramkv / peer**: for times lower is better, for bandwidths "
                 "and rates higher is better. Rank 0 is the client, the last "
                 "rank the holder (`DKV_HOLDERS=last:1`); every peer runs "
                 "between the same two ranks. Loops repeat up to 2000 times "
                 "(fewer for big values) within a time budget per figure; "
                 "collective figures take the slowest rank of each "
                 "iteration. Raw outputs: `raw/`, machine: below.")
    lines.append("")
    lines.append("```")
    lines.extend(env)
    lines.append("```")
    if noisy(env):
        lines += ["", "**Noisy:** the machine was busy when the run started "
                  "(load %s); treat the figures as rough." % noisy(env)]
    lines += ["", "## Targets (issue 5)", ""] + targets_md(d, confs)
    for conf in confs:
        lines += ["", "## %s: %s" % (conf, CONFIG_TITLE.get(conf, conf)), ""]
        if conf in CONFIG_NOTE:
            lines += [CONFIG_NOTE[conf], ""]
        lines.append("Each peer cell: `figure (ratio)`.")
        for title, unit, higher, metric, sizes, peers in sections():
            present = [p for p in peers if any(
                d.get(conf, p[1], p[2], s) is not None for s in sizes)]
            rows = [s for s in sizes if d.get(conf, "dkv", metric, s)
                    is not None]
            if not rows:
                continue
            lines += ["", "### %s (%s, %s is better)" % (
                title, unit, "higher" if higher else "lower"), ""]
            lines.append("| size | dramkv | " + " | ".join(
                p[0] for p in present) + " |")
            lines.append("|---" * (2 + len(present)) + "|")
            for s in rows:
                dv = d.get(conf, "dkv", metric, s)
                cells = []
                for lab, tag, name, scale in present:
                    pv = d.get(conf, tag, name, s, scale)
                    cells.append("-" if pv is None else "%s (%s)" % (
                        fmt(pv), fmt(dv / pv) if pv else "-"))
                label = str(s) if "ranks" in title else fmt_size(s)
                lines.append("| %s | %s | %s |" % (label, fmt(dv),
                                                   " | ".join(cells)))
        extra = [("holder memory overhead per key (B)",
                  "holder_overhead_per_key_B"),
                 ("idle holder CPU (% of a core)", "idle_holder_cpu_pct")]
        lines += ["", "### holder", "", "| figure | dramkv |", "|---|---|"]
        for label, name in extra:
            vals = sum([v for (c, t, n, s), v in d.figs.items()
                        if c == conf and n == name], [])
            lines.append("| %s | %s |" % (
                label, fmt(statistics.median(vals)) if vals else "-"))
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


PLOT_SERIES = [
    ("lat_dkv_put", "dkv", "put_quiet_latency_us"),
    ("lat_dkv_get", "dkv", "get_latency_us"),
    ("lat_ucx", "ucx", "ucx_am_rtt_us"),
    ("lat_mpi_ob1", "mpi-rdma mpi-pt2pt", "mpi_create_put_flush_us"),
    ("lat_mpi_ucx", "mpi-ucx", "mpi_create_put_flush_us"),
    ("lat_redis", "redis", "redis_set_latency_us"),
    ("bw_dkv_put", "dkv", "put_bw_window_GBps"),
    ("bw_dkv_get", "dkv", "get_bw_window_GBps"),
    ("bw_ucx", "ucx", "ucx_am_bw_GBps"),
    ("bw_mpi_ob1", "mpi-rdma mpi-pt2pt",
     "mpi_create_put_flush_bw_window_GBps"),
    ("bw_mpi_ucx", "mpi-ucx", "mpi_create_put_flush_bw_window_GBps"),
    ("bw_memcpy", "dkv", "memcpy_GBps"),
]


def write_plot_data(out, d, confs):
    pdir = os.path.join(out, "plot")
    os.makedirs(pdir, exist_ok=True)
    for old in os.listdir(pdir):
        os.remove(os.path.join(pdir, old))
    for conf in confs:
        for series, tags, name in PLOT_SERIES:
            if series == "bw_memcpy" and conf != "shm":
                continue  # a local copy says nothing about a network
            with open(os.path.join(pdir, "%s.%s.dat" % (conf, series)),
                      "w") as f:
                for s in SIZES:
                    v = next((d.get(conf, t, name, s) for t in tags.split()
                              if d.get(conf, t, name, s) is not None), None)
                    if v is not None and v > 0:
                        f.write("%d %.6g\n" % (s, v))
    with open(os.path.join(pdir, "configs.txt"), "w") as f:
        f.write(" ".join(confs) + "\n")


def main():
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4
                                       and sys.argv[2] != "--readme"):
        sys.exit("usage: report.py OUT [--readme README.md]")
    out = sys.argv[1]
    d = Data(load(out))
    confs = sorted({c for (c, _, _, _) in d.figs if c != "redis"},
                   key=lambda c: (CONFIG_ORDER.index(c)
                                  if c in CONFIG_ORDER else 99, c))
    env = []
    if os.path.exists(os.path.join(out, "env.txt")):
        with open(os.path.join(out, "env.txt")) as f:
            env = [l.rstrip("\n") for l in f]
    write_figures(out, d)
    write_results(out, d, confs)
    table_md(out, d, confs, env)
    lines = summary_md(out, d, confs, env)
    write_plot_data(out, d, confs)
    if len(sys.argv) == 4:
        update_readme(sys.argv[3], lines)


if __name__ == "__main__":
    main()
