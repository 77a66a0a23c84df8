"""Shared by the calibrated-coverage tests: each activity interval against the generator's
true training effect, with the calibration's between-wave error correlation and without it."""

from __future__ import annotations

import pandas as pd

from workbench.impact import activity_effects, prepare_panel


def activity_coverage(scores, org) -> pd.DataFrame:
    """One row per activity effect and way of treating the error correlation (``how``:
    computed or ignored): ``covered`` (the 95% interval holds the true effect) and ``z`` (the
    raw estimate's error in raw SEs)."""
    panel = prepare_panel(scores, org.enrollments, people=org.people, catalog=org.catalog,
                          dates=org.ratings)
    assert panel.attrs["error_corr_source"] == "scores"
    rows = []
    for label, rho in (("computed", None), ("ignored", 0.0)):
        acts = activity_effects(panel, org.catalog, error_correlation=rho)
        acts = acts.merge(org.truth["training_effects"], on=["activity", "skill"])
        acts = acts.dropna(subset=["estimate"])
        rows.append(pd.DataFrame({
            "how": label,
            "covered": (acts["ci_low"] <= acts["effect"]) & (acts["effect"] <= acts["ci_high"]),
            "z": (acts["raw_estimate"] - acts["effect"]) / acts["raw_se"]}))
    return pd.concat(rows)
