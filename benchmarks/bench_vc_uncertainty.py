"""Cost and benefit of including the variance components' uncertainty in the SEs (issue #12).

Two tables, quoted in docs/calibration.md ("Uncertainty of the variance components"):

``--sizes``: per organisation size, the CPU time of ``calibrate_ratings`` with
``vc_uncertainty="none"`` and ``"delta"`` (process CPU seconds, best of ``--repeat``) and how
much the correction widens the SEs (mean relative increase of score and rater-effect SEs). It
sets the size up to which ``vc_uncertainty="auto"`` applies the correction.

    .venv/bin/python benchmarks/bench_vc_uncertainty.py --sizes 30 60 100 200 300 600 1000

``--ratees N --seeds K``: small organisations (the first N people of a generated one as
ratees), pooled coverage of the 95 % intervals of scores and rater effects with no correction,
with the delta term added once (Kackar-Harville) and twice (Prasad-Rao, what the package
does), all from the same two fits per organisation; margins are 2 SE from the spread between
organisations.

    .venv/bin/python benchmarks/bench_vc_uncertainty.py --ratees 8 --seeds 100
    .venv/bin/python benchmarks/bench_vc_uncertainty.py --ratees 8 --seeds 100 --skills 6 --peers 2

``--cli N ...``: the whole ``workbench calibrate`` process (read, fit, SEs, tables, write) with
``--vc-uncertainty none`` and ``delta`` side by side, on organisations of N people (N < 30: the
first N people of one of 30): wall seconds, CPU seconds (user + sys, ``wait4``) and peak
resident memory, with the ratios delta / none.

    .venv/bin/python benchmarks/bench_vc_uncertainty.py --cli 8 30 200 1000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from workbench.calibration.calibrate import calibrate_ratings
from workbench.calibration.mixed.model import MixedResult
from workbench.simulation.coverage import misspecified_ratings
from workbench.synth.generator import generate_organisation


def _calibrate(ratings, vc, repeat):
    best, cal = np.inf, None
    for _ in range(repeat):
        started = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cal = calibrate_ratings(ratings, vc_uncertainty=vc)
        best = min(best, time.process_time() - started)
    return cal, best


def sizes_table(sizes, *, seed=1, repeat=2) -> pd.DataFrame:
    rows = []
    for n in sizes:
        org = generate_organisation(n, seed=seed, n_waves=1)
        off, t_off = _calibrate(org.ratings, "none", repeat)
        on, t_on = _calibrate(org.ratings, "delta", repeat)
        rows.append({
            "ratees": org.ratings["ratee"].nunique(), "raters": org.ratings["rater"].nunique(),
            "ratings": len(org.ratings), "cpu_none_s": t_off, "cpu_delta_s": t_on,
            "ratio": t_on / t_off,
            "score_se_increase_pct": 100 * (on.scores["se"] / off.scores["se"] - 1).mean(),
            "rater_se_increase_pct": 100 * (on.rater_effects["se"]
                                            / off.rater_effects["se"] - 1).mean(),
            "held": ",".join(on.settings["vc_terms_held"]),
        })
        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def _rater_pev_with_fixed(cal) -> pd.Series:
    """Rater effects' prediction-error variance including the fixed effects' uncertainty (the
    calibration reports the conditional variance with the fixed effects held, as lme4)."""
    m = cal.model
    nr = m.n_levels["rater"]
    var = m._combination_variance(np.zeros((nr, len(m.fe_params))), [("rater", np.arange(nr))])
    return pd.Series(var, index=m.blups["rater"].index.astype(str))


def coverage_table(n_ratees, seeds, *, first_seed=1, alpha=0.05, n_skills=8,
                   n_peers=4) -> pd.DataFrame:
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    # Keep the engines (small organisations) to compute the alternative rater SE afterwards.
    release, MixedResult._release = MixedResult._release, lambda self: None
    try:
        for seed in range(first_seed, first_seed + seeds):
            rows += _coverage_rows(n_ratees, seed, z, n_skills, n_peers)
    finally:
        MixedResult._release = release
    return _coverage_summary(pd.DataFrame(rows), seeds)


def _coverage_rows(n_ratees, seed, z, n_skills, n_peers) -> list:
    """One organisation: coverage with the delta term added 0, 1 and 2 times."""
    rows = []
    org = generate_organisation(30, seed=seed, n_waves=1, rounding=None, n_skills=n_skills,
                                n_peers=n_peers)
    ratings, truth = misspecified_ratings(org, "correct", seed=seed + 7919)
    ratings = ratings[ratings["ratee"].isin(org.people["person"][:n_ratees])]
    off, _ = _calibrate(ratings, "none", 1)
    on, _ = _calibrate(ratings, "delta", 1)
    m = off.scores.merge(truth, on=["person", "skill"])
    se0 = m["se"].to_numpy()
    se2 = on.scores.merge(truth, on=["person", "skill"])["se"].to_numpy()
    err = (m["score"] - m["true_score"]).to_numpy()
    r = off.rater_effects.merge(org.truth["rater_effects"], on="rater")
    r_se2 = on.rater_effects.set_index("rater")["se"].reindex(r["rater"]).to_numpy()
    # As workbench.simulation.coverage: leniency is identified up to its mean.
    r_err = ((r["effect"] - r["effect"].mean())
             - (r["leniency"] - r["leniency"].mean())).to_numpy()
    r_se0 = r["se"].to_numpy()
    r_full = _rater_pev_with_fixed(off).reindex(r["rater"]).to_numpy()
    for times in (0, 1, 2):  # the delta term added 0, 1 or 2 times
        se = np.sqrt(se0**2 + times / 2 * (se2**2 - se0**2))
        r_extra = times / 2 * (r_se2**2 - r_se0**2)
        rows.append({"seed": seed, "delta_terms": times,
                     "coverage": np.mean(np.abs(err) <= z * se),
                     "rater_coverage": np.mean(np.abs(r_err) <= z * np.sqrt(r_se0**2
                                                                           + r_extra)),
                     "rater_coverage_with_fixed": np.mean(np.abs(r_err) <= z * np.sqrt(
                         r_full + r_extra)),
                     "se_increase": np.mean(se / se0 - 1)})
    print(f"  seed {seed}: " + " ".join(f"{row['coverage']:.3f}/{row['rater_coverage']:.3f}"
                                     for row in rows[-3:]), flush=True)
    return rows


def _coverage_summary(rows: pd.DataFrame, seeds: int) -> pd.DataFrame:
    g = rows.groupby("delta_terms")
    out = g[["coverage", "rater_coverage", "rater_coverage_with_fixed", "se_increase"]].mean()
    out["margin"] = 2 * g["coverage"].std(ddof=1) / np.sqrt(seeds)
    out["rater_margin"] = 2 * g["rater_coverage"].std(ddof=1) / np.sqrt(seeds)
    # Paired over the same organisations: how far the correction moves coverage.
    for col, name in (("coverage", "gain"), ("rater_coverage", "rater_gain")):
        base = rows[rows["delta_terms"] == 0].set_index("seed")[col]
        diff = rows.assign(d=rows[col] - rows["seed"].map(base)).groupby("delta_terms")["d"]
        out[name] = diff.mean()
        out[f"{name}_margin"] = 2 * diff.std(ddof=1) / np.sqrt(seeds)
    out.insert(0, "seeds", seeds)
    return out.reset_index()


def _process(cmd: list[str]) -> dict:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed")
    return {"wall_s": time.perf_counter() - started,
            "cpu_s": usage.ru_utime + usage.ru_stime, "peak_gb": usage.ru_maxrss / 2**20}


def cli_table(sizes) -> pd.DataFrame:
    workbench = str(Path(sys.executable).parent / "workbench")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            org = generate_organisation(max(n, 30), seed=1, n_waves=1)
            ratings = org.ratings[org.ratings["ratee"].isin(org.people["person"][:n])]
            path = Path(tmp) / f"org{n}.csv"
            ratings.to_csv(path, index=False)
            row = {"ratees": n, "ratings": len(ratings)}
            for vc in ("none", "delta"):
                run = _process([workbench, "calibrate", str(path), "--vc-uncertainty", vc,
                                "--out", str(Path(tmp) / f"out{n}-{vc}")])
                row.update({f"{k}_{vc}": v for k, v in run.items()})
            row["cpu_ratio"] = row["cpu_s_delta"] / row["cpu_s_none"]
            row["wall_ratio"] = row["wall_s_delta"] / row["wall_s_none"]
            print(row, flush=True)
            rows.append(row)
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--ratees", type=int)
    parser.add_argument("--cli", type=int, nargs="+", metavar="N")
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--skills", type=int, default=8, help="skills rated (6 to 10)")
    parser.add_argument("--peers", type=int, default=4, help="peers asked per ratee")
    args = parser.parse_args(argv)
    if not (args.sizes or args.ratees or args.cli):
        parser.error("give --sizes, --ratees and/or --cli")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        if args.sizes:
            print(sizes_table(args.sizes, repeat=args.repeat).round(4).to_string(index=False))
        if args.cli:
            print(cli_table(args.cli).round(3).to_string(index=False))
        if args.ratees:
            print(coverage_table(args.ratees, args.seeds, first_seed=args.first_seed,
                                 n_skills=args.skills, n_peers=args.peers)
                  .round(4).to_string(index=False))


if __name__ == "__main__":
    main()
