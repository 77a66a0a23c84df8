"""Speed of the many-facet Rasch calibration, whole processes, side by side with its peers.

Rows (each a separate process, timed from outside with ``os.wait4``):

* ``workbench calibrate DATA --model rasch`` (the whole CLI: reading, fitting, fit statistics,
  bias tables, fair averages, writing files and the Wright map) against
  ``workbench calibrate DATA --model linear`` (the REML mixed model) on the demo organisation
  (300 people, 2 waves) and a generated 5,000-person organisation
  (``workbench demo-data --people 5000 --seed 7``, 2 waves, about 507,000 ratings);
  target: the Rasch CLI under 30 s at 5,000 people;
* on the eRm fixture design (200 ratees x 4 skills x 4 raters, tests/fixtures/erm), R's eRm
  ``LRSM`` (conditional ML, with ``Rscript`` start-up) against a Python process running
  ``calibrate_rasch`` on the same ratings.

Ratios are ours / peer (below 1: ours is faster or smaller). Usage::

    .venv/bin/python benchmarks/bench_rasch.py                 # demo + 5,000 people + eRm
    .venv/bin/python benchmarks/bench_rasch.py --people 300 --skip-linear --skip-erm
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

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ERM_SCRIPT = """
suppressPackageStartupMessages(library(eRm))
r <- read.csv("{ratings}")
X <- matrix(r$score - 1L, nrow = length(unique(r$ratee)))
S <- 4; R <- 4; m <- 4; K <- 16
items <- expand.grid(rater = 1:R, skill = 1:S)[, c("skill", "rater")]
W <- matrix(0, K * m, 9)
for (i in 1:K) for (h in 1:m) {{ row <- (i - 1) * m + h
  if (items$skill[i] > 1) W[row, items$skill[i] - 1] <- -h
  if (items$rater[i] > 1) W[row, 3 + items$rater[i] - 1] <- -h
  if (h < m) W[row, 6 + h] <- -1 }}
t <- system.time(fit <- LRSM(X, W, sum0 = FALSE))
"""
OURS_SMALL = """
import pandas as pd
from workbench.calibration.rasch.calibrate import calibrate_rasch
r = pd.read_csv("{ratings}").assign(source="peer")
calibrate_rasch(r, facets=("skill", "rater"), interactions=())
"""


def run(cmd, timeout):
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            return None
        time.sleep(0.05)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _row(data, n, engine, result, ref=None):
    if result is None:
        print(f"| {data} | {n} | {engine} | timeout | | | | | |")
        return
    ratios = ["", "", ""]
    if ref is not None:
        ratios = [f"{a / b:.2f}" for a, b in zip(result, ref, strict=True)]
    print(f"| {data} | {n} | {engine} | {result[0]:.1f} | {result[1]:.1f} | {result[2]:.0f} | "
          + " | ".join(ratios) + " |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[5000],
                        help="generated organisations besides the demo (default 5000)")
    parser.add_argument("--skip-linear", action="store_true", help="no linear-model rows")
    parser.add_argument("--skip-erm", action="store_true", help="no eRm row")
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args(argv)
    workbench = str(BIN / "workbench")
    tmp = Path(tempfile.mkdtemp(prefix="bench_rasch_"))
    print(f"# bench_rasch {time.strftime('%Y-%m-%d %H:%M:%S')}, load average "
          f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} cores")
    print("| data | ratings | engine | seconds | cpu s | peak MB | time ours/peer | "
          "cpu ours/peer | mem ours/peer |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    try:
        orgs = [("demo (300 people)", ROOT / "data" / "demo")]
        for n in args.people:
            folder = tmp / f"org{n}"
            subprocess.run([workbench, "demo-data", "--out", str(folder), "--people", str(n),
                            "--seed", "7"], check=True, stdout=subprocess.DEVNULL)
            orgs.append((f"{n:,} people", folder))
        for name, folder in orgs:
            with (folder / "ratings.csv").open() as handle:
                n_ratings = f"{sum(1 for _ in handle) - 1:,}"
            ours = run([workbench, "calibrate", str(folder), "--model", "rasch", "--out",
                        str(tmp / f"rasch-{folder.name}")], args.timeout)
            _row(name, n_ratings, "rasch CLI (ours)", ours)
            if not args.skip_linear:
                peer = run([workbench, "calibrate", str(folder), "--model", "linear", "--out",
                            str(tmp / f"linear-{folder.name}")], args.timeout)
                _row(name, n_ratings, "linear CLI (peer)", peer)
                if ours and peer:
                    _row(name, n_ratings, "rasch / linear", ours, peer)
        if not args.skip_erm and shutil.which("Rscript"):
            ratings = ROOT / "tests" / "fixtures" / "erm" / "ratings_rsm.csv"
            script = tmp / "erm.R"
            script.write_text(ERM_SCRIPT.format(ratings=ratings))
            peer = run(["Rscript", str(script)], args.timeout)
            ours = run([sys.executable, "-c", OURS_SMALL.format(ratings=ratings)], args.timeout)
            _row("eRm fixture", "3,200", "calibrate_rasch (ours)", ours)
            _row("eRm fixture", "3,200", "eRm LRSM (peer)", peer)
            _row("eRm fixture", "3,200", "ours / eRm", ours, peer)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
