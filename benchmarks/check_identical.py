"""All results identical before and after a refactoring: the package at two git commits, side by side.

Runs the same input files through ``workbench calibrate``, ``profiles``, ``impact`` and
``plans`` with the package at an old commit (checked out by ``git worktree add`` into a
temporary folder) and with the working tree, each command in its own process with
``PYTHONPATH`` pointing at that tree, and compares every CSV both wrote (scores, SEs, rater
and source effects, variance components, profiles, effects, plans ...): numbers to 1e-12
(absolute), text cells exactly. Inputs: the demo organisation as it was at the old commit
(``data/demo``: the files both versions read) and a generated organisation (``workbench
demo-data``, written once by the working tree). Options the old command line lacks are left
out for both; files only one version writes are listed, not compared.

    .venv/bin/python benchmarks/check_identical.py [--old c3a2024] [--people 3000] [--seed 7]

Prints one row per file (largest absolute difference of its numbers, text cells that differ)
and the largest difference overall; exit code 1 when something differs by more than 1e-12.
The numbers of the last run are in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-12
#: Flags given when both command lines know them (the results do not depend on --jobs).
OPTIONAL = {
    "calibrate": [("--jobs", "1")],
    "profiles": [("--bootstrap", "20"), ("--seed", "2026"), ("--jobs", "1")],
    "plans": [("--start", "2027-01-04"), ("--seed", "2026")],
}


def run(tree: Path, args: list[str], cwd: Path) -> float:
    """``python -m workbench <args>`` with the package of ``tree``; returns the seconds taken."""
    env = {**os.environ, "PYTHONPATH": str(tree), "MPLBACKEND": "Agg"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "workbench", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tree}: workbench {' '.join(args)} failed ({done.returncode}):\n"
                         f"{done.stderr[-3000:]}")
    return time.perf_counter() - started


def known_flags(tree: Path, command: str, cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-m", "workbench", command, "--help"], cwd=cwd,
                          env=env, capture_output=True, text=True, check=True)
    return done.stdout


def optional(trees: list[Path], command: str, cwd: Path) -> list[str]:
    """The optional flags of ``command`` that every tree's command line accepts."""
    helps = [known_flags(tree, command, cwd) for tree in trees]
    return [part for flag, value in OPTIONAL.get(command, [])
            if all(flag in text for text in helps) for part in (flag, value)]


def pipeline(tree: Path, data: Path, out: Path, flags: dict, cwd: Path) -> dict:
    """calibrate -> profiles, impact -> plans on the organisation in ``data``; seconds per step."""
    files = {name: str(data / f"{name}.csv") for name in
             ("ratings", "people", "framework", "catalog", "enrollments")}
    seconds = {}
    seconds["calibrate"] = run(tree, ["calibrate", files["ratings"], "--people", files["people"],
                                      "--out", str(out / "calibrate"), *flags["calibrate"]], cwd)
    scores = str(out / "calibrate" / "calibrated_scores.csv")
    seconds["profiles"] = run(tree, ["profiles", scores, "--people", files["people"],
                                     "--out", str(out / "profiles"), *flags["profiles"]], cwd)
    seconds["impact"] = run(tree, ["impact", "--ratings", files["ratings"], "--enrollments",
                                   files["enrollments"], "--people", files["people"],
                                   "--catalog", files["catalog"], "--out", str(out / "impact")],
                            cwd)
    seconds["plans"] = run(tree, ["plans", "--scores", scores, "--people", files["people"],
                                  "--framework", files["framework"], "--catalog",
                                  files["catalog"], "--profiles",
                                  str(out / "profiles" / "profile_assignments.csv"),
                                  "--impact", str(out / "impact" / "effects_by_activity.csv"),
                                  "--out", str(out / "plans"), *flags["plans"]], cwd)
    return seconds


def compare_frames(old: pd.DataFrame, new: pd.DataFrame) -> dict:
    """Largest absolute difference of the shared numeric columns and unequal text cells."""
    shared = [c for c in old.columns if c in new.columns]
    only = sorted(set(old.columns) ^ set(new.columns))
    if len(old) != len(new):
        return {"rows": f"{len(old)} vs {len(new)}", "max_abs_diff": np.nan,
                "text_diffs": np.nan, "columns_differing": "", "columns_in_one": ", ".join(only)}
    worst, text, differing = 0.0, 0, []
    for column in shared:
        a, b = old[column], new[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            unequal = int((np.isnan(x) != np.isnan(y)).sum())
            both = ~np.isnan(x) & ~np.isnan(y)
            diff = float(np.max(np.abs(x[both] - y[both]))) if both.any() else 0.0
        else:
            unequal, diff = int((a.astype(str).to_numpy() != b.astype(str).to_numpy()).sum()), 0.0
        worst, text = max(worst, diff), text + unequal
        if unequal or diff > TOLERANCE:
            differing.append(column)
    return {"rows": len(old), "max_abs_diff": worst, "text_diffs": text,
            "columns_differing": ", ".join(differing), "columns_in_one": ", ".join(only)}


def compare_folders(old: Path, new: Path) -> pd.DataFrame:
    rows = []
    names = sorted({p.relative_to(old) for p in old.rglob("*.csv")}
                   | {p.relative_to(new) for p in new.rglob("*.csv")})
    for name in names:
        if not (old / name).exists() or not (new / name).exists():
            rows.append({"file": str(name), "rows": "only in "
                         + ("new" if (new / name).exists() else "old")})
            continue
        a = pd.read_csv(old / name, keep_default_na=True)
        b = pd.read_csv(new / name, keep_default_na=True)
        rows.append({"file": str(name), **compare_frames(a, b)})
    return pd.DataFrame(rows, columns=["file", "rows", "max_abs_diff", "text_diffs",
                                       "columns_differing", "columns_in_one"])


def old_demo(commit: str, into: Path) -> Path:
    """``data/demo`` as it was at ``commit`` (the inputs both versions read)."""
    archive = subprocess.run(["git", "archive", commit, "data/demo"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "data" / "demo"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", default="c3a2024", help="the commit to compare with")
    parser.add_argument("--people", type=int, default=3000, help="generated organisation size")
    parser.add_argument("--seed", type=int, default=7, help="generated organisation seed")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", args.old], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="check_identical_"))
    old_tree = work / "old_tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(old_tree), commit], cwd=ROOT,
                   check=True, capture_output=True)
    try:
        trees = {"old": old_tree, "new": ROOT}
        datasets = {"demo": old_demo(commit, work / "inputs")}
        generated = work / "inputs" / f"generated_{args.people}"
        run(ROOT, ["demo-data", "--out", str(generated), "--people", str(args.people),
                   "--seed", str(args.seed)], work)
        datasets[f"generated_{args.people}"] = generated
        flags = {c: optional(list(trees.values()), c, work) for c in OPTIONAL}
        print(f"old: {commit}; new: the working tree at {head}; flags both know: {flags}")
        tables, timings = [], []
        for dataset, data in datasets.items():
            for version, tree in trees.items():
                seconds = pipeline(tree, data, work / version / dataset, flags, work)
                timings.append({"data": dataset, "version": version, **seconds})
            table = compare_folders(work / "old" / dataset, work / "new" / dataset)
            tables.append(table.assign(data=dataset))
        result = pd.concat(tables, ignore_index=True)
        with pd.option_context("display.width", 140, "display.max_rows", 500,
                               "display.max_colwidth", 60):
            print(result[["data", "file", "rows", "max_abs_diff", "text_diffs",
                          "columns_differing", "columns_in_one"]].to_string(index=False))
            print()
            print(pd.DataFrame(timings).round(1).to_string(index=False))
        worst = float(np.nanmax(result["max_abs_diff"].to_numpy(float)))
        texts = int(np.nansum(result["text_diffs"].to_numpy(float)))
        compared = result["max_abs_diff"].notna()
        unequal_rows = result["rows"].astype(str).str.contains(" vs ").sum()
        print(f"\n{int(compared.sum())} files compared, {unequal_rows} with different row "
              f"counts, {int((~compared).sum()) - unequal_rows} written by one version only; "
              f"largest absolute difference {worst:.3g}; text cells that differ: {texts}")
        return 0 if worst <= TOLERANCE and texts == 0 and unequal_rows == 0 else 1
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(old_tree)], cwd=ROOT,
                       capture_output=True)
        if args.keep:
            print(f"outputs kept in {work}")
        else:
            import shutil

            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
