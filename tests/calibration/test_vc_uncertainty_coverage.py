"""On small organisations the variance components' uncertainty brings coverage to 95 % (issue #12).

Claim (docs/calibration.md, "Uncertainty of the variance components"): on organisations of 8
ratees (the first 8 people of a generated organisation of 30: a manager, a team lead and a
team; their raters include people outside it), pooled over 100 organisations (seeds 1-100),

* calibrated scores: 95 % intervals cover the true score at 0.943 without the correction and
  0.951 with it; the band asserted for the corrected intervals is 0.9365-0.9635. Margins:
  6,400 scores pooled give a binomial SE of 0.0027; scores of one organisation share their
  estimated components, so the SE from the spread between organisations is larger, 0.0045
  (measured, benchmarks/bench_vc_uncertainty.py); the band is 3 of those SEs either side of
  0.95. Both settings fall inside it at this size, so the test also asserts that the
  correction moves coverage towards 0.95 by at least 0.005 on the same organisations (it
  moves it by 0.0085; the paired difference has an SE of about 0.0006, so 0.005 is far from
  both 0 and the measured value);
* rater effects (centred, as in :mod:`workbench.calibration.coverage`): 0.909 without and
  0.943 with the correction; the band asserted is 0.925-0.975 (binomial SE with about 1,800
  raters pooled 0.0051, between organisations 0.0067: 3.7 SEs), and the uncorrected coverage
  must lie below it: the test fails when the correction is not applied.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.coverage import coverage_run

SEEDS = range(1, 101)


def _pooled(rows: pd.DataFrame) -> tuple[float, float]:
    return (float(np.average(rows["coverage"], weights=rows["n"])),
            float(np.average(rows["rater_coverage"], weights=rows["rater_n"])))


@pytest.mark.slow
def test_correction_brings_small_organisations_to_nominal_coverage():
    runs = {vc: pd.DataFrame([coverage_run(30, seed=seed, n_ratees=8, vc_uncertainty=vc)
                              for seed in SEEDS]) for vc in ("none", "delta")}
    assert (runs["delta"]["vc_uncertainty_method"] == "delta").all()
    assert (runs["none"]["vc_uncertainty_method"] == "none").all()
    off, on = _pooled(runs["none"]), _pooled(runs["delta"])
    # Calibrated scores: inside the band, and closer to 0.95 by more than the paired noise.
    assert 0.9365 <= on[0] <= 0.9635, (off, on)
    assert abs(on[0] - 0.95) < abs(off[0] - 0.95), (off, on)
    assert on[0] - off[0] >= 0.005, (off, on)
    # Rater effects: the uncorrected intervals are too narrow, the corrected ones are not.
    assert off[1] < 0.925, (off, on)
    assert 0.925 <= on[1] <= 0.975, (off, on)
