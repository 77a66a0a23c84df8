"""Make the committed lme4 reference fixtures (dev tool; R is never needed at test time).

Writes the generated organisation's ratings, then runs ``benchmarks/R/make_lme4_fixtures.R``,
which fits the models with lme4 and exports what ``tests/test_lme4_reference.py`` compares
against. Run from the repository root::

    .venv/bin/python benchmarks/make_lme4_fixtures.py
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from workbench.synth.generator import generate_organisation

__all__ = ["main", "fit_in_r"]

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "lme4"
R_SCRIPT = ROOT / "benchmarks" / "R" / "make_lme4_fixtures.R"


def fit_in_r(ratings: pd.DataFrame, file_name: str, r_script: Path) -> int:
    """Write ``ratings`` to ``FIXTURES/file_name`` (gzipped CSV) and run ``r_script`` on the
    fixtures folder; returns Rscript's exit code (1 when R is not installed)."""
    if shutil.which("Rscript") is None:
        print("Rscript not found: the lme4 fixtures need R with lme4 and jsonlite", file=sys.stderr)
        return 1
    FIXTURES.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the gzip bytes reproducible, so a re-run does not show a spurious diff.
    with gzip.GzipFile(FIXTURES / file_name, "wb", mtime=0) as fh:
        fh.write(ratings.to_csv(index=False).encode())
    return subprocess.call(["Rscript", str(r_script), str(FIXTURES)])


def main() -> int:
    org = generate_organisation(500, seed=11, n_waves=1)
    ratings = org.ratings[["ratee", "rater", "source", "skill", "score", "wave"]]
    return fit_in_r(ratings, "org500_ratings.csv.gz", R_SCRIPT)


if __name__ == "__main__":
    raise SystemExit(main())
