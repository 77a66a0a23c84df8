"""Benchmark: the full LPA grid (k = 1..8, mclust structures) against R's mclust.

Not a test. Run by hand (R with mclust must be installed):

    .venv/bin/python benchmarks/bench_profiles.py [--sizes 5000 50000] [--jobs 1]

For each size, people x 8 skills are drawn from the synthetic organisation's generating model
(profile templates of workbench.synth.generator + general level + skill-specific standing + measurement
noise), written to a temporary CSV, and fitted by both tools over the same grid. mclust's time
is measured inside R (``system.time(mclustBIC(...))``, default hierarchical initialisation on a
subset of 2000); ours is the wall time of ``find_profiles`` without bootstrap, BLRT or VLMR.
The table prints both times, their ratio (ours / mclust: below 1 is faster), the chosen model
and k of each, and the largest shortfall of our log-likelihood against mclust's.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.profiles.gaussian_mixture import n_parameters
from workbench.profiles.select import DEFAULT_MODELS, find_profiles
from workbench.synth.generator import PROFILES, SKILLS

R_SCRIPT = r"""
suppressPackageStartupMessages(library(mclust))
args <- commandArgs(trailingOnly = TRUE)
x <- as.matrix(read.csv(args[1], check.names = FALSE))
models <- strsplit(args[2], ",")[[1]]
elapsed <- system.time(b <- mclustBIC(x, G = 1:8, modelNames = models))[["elapsed"]]
out <- as.data.frame(as.table(b[, , drop = FALSE]))
names(out) <- c("k", "model", "bic")
write.csv(out, args[3], row.names = FALSE)
cat(elapsed, "\n")
"""


def simulate(n: int, seed: int = 0, n_profiles: int = 4) -> pd.DataFrame:
    """People x 8 skills from the synth model (true score + measurement noise of sd 0.2)."""
    rng = np.random.default_rng(seed)
    names = [s[0] for s in SKILLS[:8]]
    templates = np.array([[t[1].get(s, 0.0) for s in names] for t in PROFILES[:n_profiles]])
    profile = rng.integers(0, n_profiles, n)
    x = (3.0 + rng.normal(0, 0.15, 8) + templates[profile] + rng.normal(0, 0.25, (n, 1))
         + rng.normal(0, 0.25, (n, 8)) + rng.normal(0, 0.2, (n, 8)))
    return pd.DataFrame(x, columns=names)


def run_mclust(csv: Path, models, work: Path):
    script = work / "bench.R"
    script.write_text(R_SCRIPT)
    out = work / "mclust_bic.csv"
    res = subprocess.run(["Rscript", str(script), str(csv), ",".join(models), str(out)],
                         capture_output=True, text=True, check=True)
    elapsed = float(res.stdout.strip().split()[-1])
    table = pd.read_csv(out)
    table["k"] = table["k"].astype(int)
    return elapsed, table


def bench(n: int, models, n_jobs: int, work: Path) -> dict:
    data = simulate(n)
    csv = work / f"scores_{n}.csv"
    data.to_csv(csv, index=False)
    r_time, ref = run_mclust(csv, models, work)
    started = time.perf_counter()
    res = find_profiles(data, k_max=8, models=models, n_bootstrap=0, vlmr=False,
                        random_state=0, n_jobs=n_jobs)
    ours = time.perf_counter() - started
    d = data.shape[1]
    ref["loglik"] = [(b + n_parameters(m, k, d) * np.log(n)) / 2
                     for m, k, b in zip(ref["model"], ref["k"], ref["bic"], strict=True)]
    best = ref.loc[ref["bic"].idxmax()]
    print(f"n={n}: ours {ours:.1f} s, mclust {r_time:.1f} s", flush=True)
    ref = ref.rename(columns={"bic": "bic_of_mclust", "loglik": "loglik_mclust"})
    both = res.model_selection.merge(ref, on=["model", "k"])
    both["shortfall"] = both["loglik_mclust"] - both["loglik"]
    gap = both["shortfall"].max()
    worst = both.nlargest(3, "shortfall")[["model", "k", "loglik", "loglik_mclust", "shortfall"]]
    print(worst.to_string(index=False), flush=True)
    return {"n": n, "jobs": n_jobs, "ours_s": ours, "mclust_s": r_time,
            "ratio": ours / r_time, "ours": f"{res.model},{res.k}",
            "mclust": f"{best['model']},{int(best['k'])}",
            "max_loglik_shortfall": gap}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1])
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    args = parser.parse_args(argv)
    if shutil.which("Rscript") is None:
        raise SystemExit("Rscript not found: this benchmark needs R with mclust")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            for jobs in args.jobs:
                rows.append(bench(n, tuple(args.models), jobs, Path(tmp)))
                print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
