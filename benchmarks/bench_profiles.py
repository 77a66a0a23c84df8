"""Benchmark: ``workbench profiles`` against R's mclust, whole processes, side by side.

Not a test. Run by hand (Rscript with mclust on the PATH for the mclust column):

    .venv/bin/python benchmarks/bench_profiles.py [--sizes 3000 20000] [--jobs 2]
        [--mclust-seeds 1 2]

For each size, people x 8 skills are drawn from the synthetic organisation's generating model
(4 profile templates of workbench.synth.generator + general level + skill-specific standing +
measurement noise) and written to a CSV. Three whole processes read that file and fit it:

* ``mclust``: ``Rscript`` running ``set.seed(s); Mclust(x, G = 1:8)``: all 14 structures,
  mclust's default hierarchical start on a random subset of 2000 rows (R's random numbers,
  hence the seed), no bootstrap (mclust has none); timed with the first seed, every seed
  counted for the shortfall;
* ``same work``: ``workbench profiles FILE --models <all 14> --bootstrap 0 --no-vlmr``: the
  same grid (14 structures, k = 1..8), our default starts, no stability, no VLMR, on the
  default workers (every core: forked processes; mclust has no parallel fit);
* ``default run``: ``workbench profiles FILE --jobs J``: 8 structures, 10 starts, 100
  warm-started bootstrap resamples for stability (in parallel over J workers), VLMR.

Each time is the wall time of the whole process (interpreter or R start, reading, fitting,
writing), and its CPU time (user + system of the process and the children it waited for; on
a shared machine CPU time is the steadier measure). Ratios are ours / mclust (below 1:
faster). Before the timed runs one small untimed ``workbench profiles`` run fills numba's
cache of compiled kernels (a fresh install compiles them once, in its first run).
``shortfall`` is the largest amount by which our log-likelihood of a (structure, k) is below
mclust's over the mclust seeds (0 or negative: never worse); ``worse`` counts the cells below
mclust's by more than the stopping rule both tools use (relative change 1e-5 of the
log-likelihood: smaller differences only say where each run stopped).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.profiles.structures import STRUCTURES, n_parameters
from workbench.synth.generator import PROFILES, SKILLS

R_SCRIPT = r"""
suppressPackageStartupMessages(library(mclust))
args <- commandArgs(trailingOnly = TRUE)
x <- as.matrix(read.csv(args[1], check.names = FALSE))
set.seed(as.integer(args[3]))
fit <- Mclust(x, G = 1:8, verbose = FALSE)
b <- fit$BIC
out <- as.data.frame(as.table(b[, , drop = FALSE]))
names(out) <- c("k", "model", "bic")
write.csv(out, args[2], row.names = FALSE)
cat(fit$modelName, fit$G, "\n")
"""


def simulate(n: int, seed: int = 0, n_profiles: int = 4) -> pd.DataFrame:
    """People x 8 skills from the synth model (true score + measurement noise of sd 0.2)."""
    rng = np.random.default_rng(seed)
    names = [s[0] for s in SKILLS[:8]]
    templates = np.array([[t[1].get(s, 0.0) for s in names] for t in PROFILES[:n_profiles]])
    profile = rng.integers(0, n_profiles, n)
    x = (3.0 + rng.normal(0, 0.15, 8) + templates[profile] + rng.normal(0, 0.25, (n, 1))
         + rng.normal(0, 0.25, (n, 8)) + rng.normal(0, 0.2, (n, 8)))
    frame = pd.DataFrame(x, columns=names)
    frame.insert(0, "person", [f"P{i:06d}" for i in range(n)])
    return frame


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command, **kwargs) -> tuple[float, float, subprocess.CompletedProcess]:
    cpu = _cpu()
    started = time.perf_counter()
    res = subprocess.run(command, capture_output=True, text=True, **kwargs)
    elapsed = time.perf_counter() - started
    if res.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{res.stderr[-2000:]}")
    return elapsed, _cpu() - cpu, res


def run_mclust(csv: Path, work: Path, seed: int):
    script = work / "bench.R"
    script.write_text(R_SCRIPT)
    values = work / f"{csv.stem}_mclust_{seed}.csv"
    matrix = work / f"{csv.stem}_matrix.csv"
    pd.read_csv(csv).drop(columns="person").to_csv(matrix, index=False)
    elapsed, cpu, res = _timed(["Rscript", str(script), str(matrix), str(values), str(seed)])
    table = pd.read_csv(values)
    table["k"] = table["k"].astype(int)
    model, k = res.stdout.split()[:2]
    return elapsed, cpu, table, f"{model},{k}"


def run_ours(csv: Path, out: Path, extra: list[str]):
    command = [str(Path(sys.executable).parent / "workbench"), "profiles", str(csv), "--out", str(out),
               *extra]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    elapsed, cpu, _ = _timed(command, env=env)
    table = pd.read_csv(out / "model_selection.csv")
    chosen = table[table["selected"]].iloc[0]
    return elapsed, cpu, table, f"{chosen['model']},{int(chosen['k'])}"


#: Both tools stop EM when the log-likelihood changes by less than this (relative).
STOP_TOL = 1e-5


def _shortfall(ours: pd.DataFrame, refs: list, n: int, d: int) -> tuple[float, int, str]:
    """Largest shortfall of our log-likelihood below mclust's over the mclust runs, the
    number of cells below by more than the stopping rule, and the worst cell."""
    worst, worse, where = -np.inf, set(), ""
    for ref in refs:
        ref = ref.dropna(subset=["bic"]).copy()
        ref["loglik_mclust"] = [(b + n_parameters(m, k, d) * np.log(n)) / 2 for m, k, b
                                in zip(ref["model"], ref["k"], ref["bic"], strict=True)]
        both = ours.merge(ref, on=["model", "k"])
        gap = both["loglik_mclust"] - both["loglik"]
        worse |= set(both.loc[gap > STOP_TOL * both["loglik"].abs(), "model"]
                     + both.loc[gap > STOP_TOL * both["loglik"].abs(), "k"].astype(str))
        if gap.max() > worst:
            top = both.loc[gap.idxmax()]
            worst, where = float(gap.max()), f"{top['model']},{int(top['k'])}"
    return worst, len(worse), where


def warm_up(work: Path) -> None:
    """One small untimed run over every structure: numba compiles every kernel into its
    cache (a fresh install compiles them once, in its first run)."""
    csv = work / "warm_up.csv"
    simulate(300, seed=1).to_csv(csv, index=False)
    run_ours(csv, work / "out_warm_up", ["--models", *STRUCTURES, "--bootstrap", "2",
                                         "--k-max", "3"])


def bench(n: int, jobs: int, work: Path, skip_r: bool, seeds: list[int]) -> list[dict]:
    data = simulate(n)
    csv = work / f"scores_{n}.csv"
    data.to_csv(csv, index=False)
    rows, refs = [], []
    r_time = r_cpu = np.nan
    for i, seed in enumerate([] if skip_r else seeds):
        seconds, cpu, table, r_choice = run_mclust(csv, work, seed)
        refs.append(table)
        if i == 0:
            r_time, r_cpu = seconds, cpu
        rows.append({"n": n, "run": f"mclust (14 structures, seed {seed})", "seconds": seconds,
                     "cpu": cpu, "ratio": seconds / r_time, "cpu_ratio": cpu / r_cpu,
                     "chosen": r_choice, "shortfall": np.nan, "worse": np.nan, "cell": ""})
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    runs = (("same work (14 structures, no stability, default workers: every core)",
             ["--models", *STRUCTURES, "--bootstrap", "0", "--no-vlmr"]),
            (f"default run (100 bootstrap, VLMR, --jobs {jobs})", ["--jobs", str(jobs)]))
    for i, (label, extra) in enumerate(runs):
        seconds, cpu, table, choice = run_ours(csv, work / f"out_{n}_{i}", extra)
        short, worse, cell = _shortfall(table, refs, n, 8) if refs else (np.nan, np.nan, "")
        rows.append({"n": n, "run": label, "seconds": seconds, "cpu": cpu,
                     "ratio": seconds / r_time, "cpu_ratio": cpu / r_cpu, "chosen": choice,
                     "shortfall": short, "worse": worse, "cell": cell})
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 20000])
    parser.add_argument("--jobs", type=int, default=2, help="workers of the default run")
    parser.add_argument("--skip-r", action="store_true", help="do not run mclust")
    parser.add_argument("--mclust-seeds", type=int, nargs="+", default=[1],
                        help="R seeds of mclust's random subset (the first is timed)")
    args = parser.parse_args(argv)
    skip_r = args.skip_r or shutil.which("Rscript") is None
    print(f"load average {os.getloadavg()}; cores {os.cpu_count()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        warm_up(Path(tmp))
        for n in args.sizes:
            rows += bench(n, args.jobs, Path(tmp), skip_r, args.mclust_seeds)
    print()
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"load average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
