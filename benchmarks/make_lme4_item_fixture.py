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

from pathlib import Path

from make_lme4_fixtures import fit_in_r  # the sibling script (benchmarks/ is on sys.path)

from workbench.synth.generator import generate_organisation

__all__ = ["main"]

R_SCRIPT = Path(__file__).resolve().parent / "R" / "make_lme4_item_fixture.R"


def main() -> int:
    org = generate_organisation(150, seed=22, n_waves=1, items_per_skill=3)
    ratings = org.ratings[["ratee", "rater", "source", "skill", "item", "score", "wave"]]
    return fit_in_r(ratings, "org_items_ratings.csv.gz", R_SCRIPT)


if __name__ == "__main__":
    raise SystemExit(main())
