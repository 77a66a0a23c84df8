"""Make the committed lme4 fixture of the item-level calibration (dev tool; R is never needed
at test time).

Writes a generated organisation's item-level ratings (150 people, 3 items per competency,
whole-point answers, some items not observed), then runs
``benchmarks/R/make_lme4_item_fixture.R``, which builds the items' sum-to-zero contrasts itself,
fits the item-level model with lme4 and exports what
``tests/calibration/test_lme4_reference.py`` compares against. Run from the repository root::

    .venv/bin/python benchmarks/make_lme4_item_fixture.py
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

from workbench.synth.generator import generate_organisation

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "lme4"
R_SCRIPT = ROOT / "benchmarks" / "R" / "make_lme4_item_fixture.R"


def main() -> int:
    if shutil.which("Rscript") is None:
        print("Rscript not found: the lme4 fixtures need R with lme4 and jsonlite", file=sys.stderr)
        return 1
    FIXTURES.mkdir(parents=True, exist_ok=True)
    org = generate_organisation(150, seed=22, n_waves=1, items_per_skill=3)
    ratings = org.ratings[["ratee", "rater", "source", "skill", "item", "score", "wave"]]
    # mtime=0 keeps the gzip bytes reproducible, so a re-run does not show a spurious diff.
    with gzip.GzipFile(FIXTURES / "org_items_ratings.csv.gz", "wb", mtime=0) as fh:
        fh.write(ratings.to_csv(index=False).encode())
    return subprocess.call(["Rscript", str(R_SCRIPT), str(FIXTURES)])


if __name__ == "__main__":
    raise SystemExit(main())
