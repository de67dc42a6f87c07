#!/usr/bin/env python3
"""ckpt_report: turn ckpt_perf's CSV into the markdown tables.

    ckpt_report.py CKPT.csv [--env ckpt-env.txt] [--readme README.md]

CKPT.csv holds one line per figure and job (ckpt_perf --csv appends them;
tests/perf/run_ckpt runs the jobs). Prints to stdout: where and when (from
the env file), a summary table with one row per job (rank count, holder
layout) and, per job, every figure with median, minimum, aggregate GB/s
and the time relative to dramkv's staging. With --readme, the same text
puts the header and the summary (with a link to
tests/perf/results/ckpt.md) between the README's <!-- ckpt:begin --> and
<!-- ckpt:end --> markers (nothing changes if they are missing). Python 3
standard library only.
"""
import csv
import sys

from report import fmt  # the same number format as the main perf table

BEGIN, END = "<!-- ckpt:begin -->", "<!-- ckpt:end -->"

# measurement -> (column title, short title for the summary or None)
TITLES = [
    ("stage_dkv", "(a) dramkv stage: dkv_put of every shard + dkv_fence",
     "dramkv put + fence"),
    ("posix_fsync", "(b) POSIX, a file per rank: write + fsync + close",
     "POSIX write + fsync"),
    ("mpiio_collective", "(c) MPI-IO, one shared file: write_at_all + "
     "sync + close", "MPI-IO write_at_all + sync"),
    ("drain_start", "(d) dkv_drain_start (the part that blocks)", None),
    ("drain", "(d) dramkv drain to disk, alone: start + wait",
     "drain alone (start + wait)"),
    ("kernel_alone", "(e) compute kernel alone", "kernel alone"),
    ("kernel_during_drain", "(e) the kernel while a drain runs",
     "kernel during drain"),
    ("slowdown", "(e) kernel slowdown during the drain (median of the "
     "repetitions' own ratios)", "slowdown"),
    ("slowdown_best", "(e) slowdown, fastest run during vs fastest alone",
     "slowdown (fastest vs fastest)"),
    ("drain_during_kernel", "(e) the drain in that run: dkv_drain_start to "
     "dkv_drain_wait's return", "drain during kernel (start to wait)"),
    ("drain_wait_after_kernel", "(e) dkv_drain_wait after the kernel", None),
    ("drain_test_call", "(e) one dkv_drain_test call during the kernel",
     None),
    ("load_dkv", "(f) dkv_load of the drain (restart)", "dkv_load"),
]
# Durations bounded by the kernel's: a rate from them would mislead.
NO_RATE = ("drain_during_kernel",)


def fmt_time(s):
    return "%s ms" % fmt(s * 1e3) if s < 1 else "%s s" % fmt(s)


def gbps(row, t):
    if row["measurement"] in NO_RATE:
        return None
    b = float(row["bytes"])
    return b / t / 1e9 if b > 0 and t > 0 else None


def cell(row):
    """Summary cell: median (and GB/s where bytes moved)."""
    if row["unit"] == "pct":
        return "%s %%" % fmt(float(row["median"]))
    t = float(row["median"])
    bw = gbps(row, t)
    return fmt_time(t) + (" (%s GB/s)" % fmt(bw) if bw else "")


def load(path):
    jobs = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            key = (int(row["ranks"]), row["holders"], row["replicas"],
                   row["mib_per_rank"])
            jobs.setdefault(key, {})[row["measurement"]] = row
    return jobs


def job_title(key, rows):
    ranks, holders, replicas, mib = key
    any_row = next(iter(rows.values()))
    nh = any_row["num_holders"]
    return ("%d ranks x %s MiB (keys of %s MiB), DKV_HOLDERS=%s (%s holder%s),"
            " DKV_REPLICAS=%s; files on %s, MPI-IO by %s; %s reps"
            % (ranks, mib, any_row["shard_mib"], holders, nh,
               "" if nh == "1" else "s", replicas, any_row["fs"],
               any_row["mpi_io"], any_row["reps"]))


def summary(jobs):
    cols = [(m, short) for m, _, short in TITLES if short is not None
            and any(m in rows for rows in jobs.values())]
    out = ["| ranks | holders | MiB/rank | " +
           " | ".join(short for _, short in cols) + " |",
           "|---|---|---|" + "---|" * len(cols)]
    for key in sorted(jobs):
        rows = jobs[key]
        ranks, holders, _, mib = key
        out.append("| %d | %s (%s) | %s | " % (
            ranks, holders, next(iter(rows.values()))["num_holders"], mib) +
            " | ".join(cell(rows[m]) if m in rows else "-" for m, _ in cols)
            + " |")
    return out


def detail(key, rows):
    out = ["**%s**" % job_title(key, rows), "",
           "| step (slowest rank) | median | min | GB/s (median) | GB/s "
           "(best) | time / dramkv stage |", "|---|---|---|---|---|---|"]
    stage = float(rows["stage_dkv"]["median"]) if "stage_dkv" in rows \
        else None
    for m, title, _ in TITLES:
        if m not in rows:
            continue
        r = rows[m]
        med, mn = float(r["median"]), float(r["min"])
        if r["unit"] == "pct":
            out.append("| %s | %s %% | %s %% | | | |"
                       % (title, fmt(med), fmt(mn)))
            continue
        bw, best = gbps(r, med), gbps(r, mn)
        ratio = ("%sx" % fmt(med / stage)) if stage and bw else ""
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            title, fmt_time(med), fmt_time(mn), fmt(bw) if bw else "",
            fmt(best) if best else "", ratio))
    return out


def main(argv):
    if len(argv) < 2 or argv[1].startswith("-"):
        sys.exit(__doc__)
    env = {}
    if "--env" in argv:
        with open(argv[argv.index("--env") + 1]) as f:
            for line in f:
                k, _, v = line.partition(":")
                env.setdefault(k.strip(), v.strip())
    jobs = load(argv[1])
    lines = []
    if env:
        lines += ["Measured %s on %s, %s memory; %s; Open MPI %s (MPI-IO: %s)"
                  "; files in %s; load %s before, %s after; commit %s."
                  % (env.get("date", "?"), env.get("cpu", "?"),
                     env.get("memory", "?"), env.get("os", "?"),
                     env.get("openmpi", "?"), env.get("mpi-io", "?"),
                     env.get("dir", "?"), env.get("load before", "?"),
                     env.get("load after", "?"), env.get("commit", "?")), ""]
    lines += ["Checkpoint of S MiB per rank, every figure from the same job "
              "(one job per row); a repetition's time is the slowest rank's,"
              " the table shows the median over the repetitions and, in "
              "brackets, the aggregate rate (all ranks' bytes / time). The "
              "dramkv put + fence leaves the checkpoint in the holders' DRAM"
              " (not on disk); POSIX and MPI-IO end with fsync, on disk; the"
              " drain writes the staged checkpoint to files (fsync, rename, "
              "manifest). Slowdown = kernel time during a background drain /"
              " alone - 1; the kernel is sized to about 1 s alone, so on a "
              "busy machine (see the load) its times and the slowdown are "
              "noise-dominated.", ""]
    lines += summary(jobs) + [""]
    short = lines + ["Every figure of every job (median, minimum, rates, "
                     "time relative to dramkv's staging): "
                     "[tests/perf/results/ckpt.md](tests/perf/results/ckpt.md)"
                     " and ckpt.csv beside it."]
    for key in sorted(jobs):
        lines += detail(key, jobs[key]) + [""]
    print("\n".join(lines).rstrip())
    if "--readme" in argv:
        readme = argv[argv.index("--readme") + 1]
        with open(readme) as f:
            old = f.read()
        i, j = old.find(BEGIN), old.find(END)
        if i < 0 or j < i:
            sys.stderr.write("ckpt_report: no %s ... %s in %s; left as is\n"
                             % (BEGIN, END, readme))
            return
        with open(readme, "w") as f:
            f.write(old[:i + len(BEGIN)] + "\n" + "\n".join(short) + "\n"
                    + old[j:])


if __name__ == "__main__":
    main(sys.argv)
