"""Dev check: the ``mixedlm`` package against the committed lme4 fixtures (not a test).

Fits both fixture models with ``mixedlm.lmer`` and prints the largest disagreements with lme4:
REML criterion, fixed effects and variance components (relative), BLUPs and conditional SDs
(absolute). It shows how far a second, independent implementation lands from lme4, which is the
yardstick for the 1e-4 tolerances of ``tests/test_lme4_reference.py``. Run from the repo root::

    .venv/bin/python benchmarks/check_mixedlm_vs_lme4.py [org500] [insteval]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["compare"]

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "lme4"
MODELS = {
    "org500": ("org500_ratings.csv.gz",
               "score ~ source + skill + (1|ratee) + (1|ratee:skill) + (1|rater) + (1|rater:ratee)",
               {"ratee": str, "rater": str, "source": str, "skill": str}),
    "insteval": ("insteval.csv.gz", "y ~ service + (1|s) + (1|d) + (1|dept)",
                 {"s": str, "d": str, "dept": str, "service": str}),
}


def _level_name(key) -> str:
    # mixedlm names interaction levels "P001/Coaching"; lme4 "P001:Coaching".
    return ":".join(map(str, key)) if isinstance(key, tuple) else str(key).replace("/", ":")


def compare(name: str) -> dict:
    import mixedlm

    file, formula, dtypes = MODELS[name]
    data = pd.read_csv(FIXTURES / file, dtype=dtypes)
    folder = FIXTURES / name
    meta = json.loads((folder / "meta.json").read_text())
    fixed = pd.read_csv(folder / "fixed.csv")
    varcomp = pd.read_csv(folder / "varcomp.csv").set_index("term")["variance"]

    started = time.perf_counter()
    fit = mixedlm.lmer(formula, data, REML=True)
    seconds = time.perf_counter() - started

    # mixedlm names treatment columns "source.1", ...; its column order is R's.
    beta = np.asarray(fit.beta)
    se = np.sqrt(np.diag(fit.vcov()))
    vc = fit.VarCorr()
    ours_vc = pd.Series({g: grp.variance["(Intercept)"] for g, grp in vc.groups.items()})
    ours_vc["residual"] = vc.residual
    out = {
        "model": name,
        "seconds": seconds,
        "REMLcrit_mixedlm": float(fit.REMLcrit()),
        "REMLcrit_lme4": meta["REMLcrit"],
        "crit_rel_diff": (float(fit.REMLcrit()) - meta["REMLcrit"]) / abs(meta["REMLcrit"]),
        "fixed_max_rel": float(np.max(np.abs(beta / fixed["estimate"] - 1))),
        "fixed_se_max_rel": float(np.max(np.abs(se / fixed["se"] - 1))),
        "varcomp_max_rel": float(np.max(np.abs(ours_vc[varcomp.index] / varcomp - 1))),
    }
    ranef = fit.ranef(condVar=True)
    structures = {s.grouping_factor: s for s in fit.matrices.random_structures}
    for term, blup_file in meta["blup_files"].items():
        ref = pd.read_csv(folder / blup_file, dtype={"level": str}).set_index("level")
        levels = [_level_name(k) for k in
                  sorted(structures[term].level_map, key=structures[term].level_map.get)]
        mine = pd.DataFrame({"estimate": ranef.values[term]["(Intercept)"],
                             "se": np.sqrt(ranef.condVar[term]["(Intercept)"])}, index=levels)
        mine = mine.loc[ref.index]
        out[f"blup_{term}_max_abs"] = float(np.max(np.abs(mine["estimate"] - ref["estimate"])))
        out[f"condsd_{term}_max_abs"] = float(np.max(np.abs(mine["se"] - ref["se"])))
    return out


def main(argv: list[str]) -> int:
    for name in argv or list(MODELS):
        for key, value in compare(name).items():
            print(f"{name:9s} {key:28s} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
