"""Benchmark: ``workbench profiles`` against R's mclust, whole processes, side by side.

Not a test. Run by hand (Rscript with mclust on the PATH for the mclust column):

    .venv/bin/python benchmarks/bench_profiles.py [--sizes 3000 20000] [--jobs 2]

For each size, people x 8 skills are drawn from the synthetic organisation's generating model
(4 profile templates of workbench.synth.generator + general level + skill-specific standing +
measurement noise) and written to a CSV. Three whole processes read that file and fit it:

* ``mclust``: ``Rscript`` running ``Mclust(x, G = 1:8)``: all 14 structures, mclust's default
  hierarchical start on a subset of 2000 rows, no bootstrap (mclust has none);
* ``same work``: ``workbench profiles FILE --models <all 14> --bootstrap 0 --no-vlmr``: the
  same grid (14 structures, k = 1..8), our default starts, no stability, no VLMR;
* ``default run``: ``workbench profiles FILE --jobs J``: 8 structures, 20 starts, 100
  warm-started bootstrap resamples for stability (in parallel over J workers), VLMR.

Each time is the wall time of the whole process (interpreter or R start, reading, fitting,
writing). Ratios are ours / mclust (below 1: faster). ``shortfall`` is the largest amount by
which our log-likelihood of a (structure, k) is below mclust's (0 or negative: never worse).
"""

from __future__ import annotations

import argparse
import os
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


def _timed(command, **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    res = subprocess.run(command, capture_output=True, text=True, **kwargs)
    elapsed = time.perf_counter() - started
    if res.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{res.stderr[-2000:]}")
    return elapsed, res


def run_mclust(csv: Path, work: Path):
    script = work / "bench.R"
    script.write_text(R_SCRIPT)
    values = work / f"{csv.stem}_mclust.csv"
    matrix = work / f"{csv.stem}_matrix.csv"
    pd.read_csv(csv).drop(columns="person").to_csv(matrix, index=False)
    elapsed, res = _timed(["Rscript", str(script), str(matrix), str(values)])
    table = pd.read_csv(values)
    table["k"] = table["k"].astype(int)
    model, k = res.stdout.split()[:2]
    return elapsed, table, f"{model},{k}"


def run_ours(csv: Path, out: Path, extra: list[str]):
    command = [str(Path(sys.executable).parent / "workbench"), "profiles", str(csv), "--out", str(out),
               *extra]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    elapsed, _ = _timed(command, env=env)
    table = pd.read_csv(out / "model_selection.csv")
    chosen = table[table["selected"]].iloc[0]
    return elapsed, table, f"{chosen['model']},{int(chosen['k'])}"


def _shortfall(ours: pd.DataFrame, ref: pd.DataFrame, n: int, d: int) -> float:
    ref = ref.dropna(subset=["bic"]).copy()
    ref["loglik_mclust"] = [(b + n_parameters(m, k, d) * np.log(n)) / 2
                            for m, k, b in zip(ref["model"], ref["k"], ref["bic"], strict=True)]
    both = ours.merge(ref, on=["model", "k"])
    return float((both["loglik_mclust"] - both["loglik"]).max())


def bench(n: int, jobs: int, work: Path, skip_r: bool) -> list[dict]:
    data = simulate(n)
    csv = work / f"scores_{n}.csv"
    data.to_csv(csv, index=False)
    rows = []
    r_time, ref, r_choice = (np.nan, None, "") if skip_r else run_mclust(csv, work)
    rows.append({"n": n, "run": "mclust (14 structures)", "seconds": r_time,
                 "ratio": 1.0, "chosen": r_choice, "shortfall": np.nan})
    runs = (("same work (14 structures, no stability)",
             ["--models", *STRUCTURES, "--bootstrap", "0", "--no-vlmr"]),
            (f"default run (100 bootstrap, VLMR, --jobs {jobs})", ["--jobs", str(jobs)]))
    for i, (label, extra) in enumerate(runs):
        seconds, table, choice = run_ours(csv, work / f"out_{n}_{i}", extra)
        rows.append({"n": n, "run": label, "seconds": seconds, "ratio": seconds / r_time,
                     "chosen": choice,
                     "shortfall": np.nan if ref is None else _shortfall(table, ref, n, 8)})
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 20000])
    parser.add_argument("--jobs", type=int, default=2, help="workers of the default run")
    parser.add_argument("--skip-r", action="store_true", help="do not run mclust")
    args = parser.parse_args(argv)
    skip_r = args.skip_r or shutil.which("Rscript") is None
    print(f"load average {os.getloadavg()}; cores {os.cpu_count()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rows += bench(n, args.jobs, Path(tmp), skip_r)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
