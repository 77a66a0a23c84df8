"""Outcomes: input checks, criterion validity against the generator's truth, and the leaving
(Cox) model against lifelines and against the true hazard ratio.

Claims and margins:

* validity: over 3 organisations of 400 people, the disattenuated 95% intervals of the
  calibrated correlations cover the true correlations (true wave-1 skill with the later
  outcome, ``org.truth["validity"]``) in at least 0.85 of the 81 (metric, skill) rows
  (measured 0.93; the reliability is taken as known, so the intervals are a little narrow);
* where raters are biased (leniency SD 0.6) the calibrated overall score predicts better than
  the raw average (mean gain in r over 3 metrics x 3 seeds > 0.05; measured 0.07); without
  rater bias (leniency and halo SD 0) equally (|mean gain| < 0.025; measured 0.003);
* the Cox fit equals lifelines' CoxPHFitter (Efron ties) to 1e-4 in the coefficient and its SE;
* with the true composite as covariate its 95% interval covers the true log hazard ratio (-0.5)
  in at least 17 of 20 organisations (the 1% binomial quantile of 0.95 over 20).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from workbench.calibration import calibrate_ratings
from workbench.errors import InputError, ModelError
from workbench.progression import check_outcomes, criterion_validity, leaving_model
from workbench.synth import generate_organisation
from workbench.tables.scores import raw_scores

START, END = "2026-01-19", "2027-06-30"


def test_every_outcome_problem_is_listed():
    people = pd.DataFrame({"person": ["a", "b"], "role": "R", "team": "T"})
    out = pd.DataFrame({"person": ["a", "b", "zz", "a"], "metric": ["sales"] * 3 + ["nps"],
                        "value": ["1", "x", "3", "4"],
                        "date": ["2025-01-01", "2025-02-01", "2025-03-01", "2026-05-01"],
                        "higher_is_better": ["yes", "no", "", "yes"]})
    out.attrs["file"] = "outcomes.csv"
    with pytest.raises(InputError) as err:
        check_outcomes(out, people=people, first_assessment="2026-01-19")
    text = str(err.value)
    assert "outcomes.csv, row 3, column 'value': value is not a number (value: 'x')" in text
    assert "row 3, column 'higher_is_better': metric 'sales' is stated both" in text
    assert "row 4, column 'person': person is not in the people file (value: 'zz')" in text
    assert "metric 'sales' has no outcome after the first assessment" in text
    assert "'nps'" not in text


def _calibrated(org):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return calibrate_ratings(org.ratings)


def _validity(seed, **options):
    org = generate_organisation(400, seed=seed, n_waves=1, progression=True, **options)
    table = criterion_validity(_calibrated(org), org.outcomes, raw=raw_scores(org.ratings),
                               after=START)
    return table.merge(org.truth["validity"].rename(columns={"estimate": "truth"}),
                       on=["metric", "skill"])


def test_validity_intervals_cover_the_truth():
    data = pd.concat([_validity(seed) for seed in range(3)])
    cal = data[data["scores"] == "calibrated"]
    assert len(cal) == 81
    covered = (cal["disattenuated_ci_low"] <= cal["truth"]) & (
        cal["truth"] <= cal["disattenuated_ci_high"])
    assert covered.mean() >= 0.85, covered.mean()
    assert cal["incremental_r2"].notna().all()


def _gain(data):
    overall = data[data["skill"] == "overall"].pivot_table(index="metric", columns="scores",
                                                           values="estimate")
    return (overall["calibrated"].abs() - overall["raw"].abs()).mean()


def test_calibration_pays_where_raters_are_biased():
    biased = np.mean([_gain(_validity(seed, sd_rater=0.6)) for seed in range(3)])
    fair = np.mean([_gain(_validity(seed, sd_rater=0.0, sd_halo=0.0)) for seed in range(3)])
    assert biased > 0.05, biased
    assert abs(fair) < 0.025, fair


def _leaving_frame(org):
    x = org.truth["composite"].set_index("person")["composite_1"]
    return x, leaving_model(None, org.outcomes, start=START, end=END, covariate=x)


def test_cox_equals_lifelines():
    import lifelines  # dev dependency (the oracle): missing fails, never skips
    org = generate_organisation(300, seed=11, n_waves=1, progression=True)
    x, fit = _leaving_frame(org)
    left = org.outcomes[org.outcomes["metric"] == "left"].set_index("person")["date"]
    frame = pd.DataFrame({"x": (x - x.mean()) / x.std()})
    date = pd.to_datetime(left.reindex(frame.index))
    frame["event"] = date.notna().astype(int)
    frame["time"] = np.where(frame["event"] == 1, (date - pd.Timestamp(START)).dt.days,
                             (pd.Timestamp(END) - pd.Timestamp(START)).days).astype(float)
    reference = lifelines.CoxPHFitter().fit(frame, duration_col="time", event_col="event")
    assert fit["estimate"].iloc[0] == pytest.approx(reference.params_["x"], abs=1e-4)
    assert fit["se"].iloc[0] == pytest.approx(reference.standard_errors_["x"], abs=1e-4)
    assert fit["n_events"].iloc[0] == frame["event"].sum()


def test_cox_interval_covers_the_true_hazard_ratio():
    covered = []
    for seed in range(20):
        org = generate_organisation(300, seed=seed, n_waves=1, progression=True)
        _, fit = _leaving_frame(org)
        truth = org.truth["leaving"]["log_hazard_ratio"].iloc[0]
        covered.append(fit["ci_low"].iloc[0] <= truth <= fit["ci_high"].iloc[0])
    assert sum(covered) >= binom.ppf(0.01, 20, 0.95), sum(covered)


def test_leaving_needs_events():
    out = pd.DataFrame({"person": ["a", "b", "c"], "metric": "left", "value": 1.0,
                        "date": ["2026-03-01", None, None]})
    x = pd.Series([0.1, 0.2, 0.3], index=["a", "b", "c"])
    with pytest.raises(ModelError, match="fewer than two leaving events"):
        leaving_model(None, out, start=START, end=END, covariate=x)


def test_analyse_outcomes_end_to_end_names_nobody(tmp_path):
    from workbench.progression import analyse_outcomes

    org = generate_organisation(200, seed=5, progression=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = calibrate_ratings(org.ratings, waves="joint")
    res = analyse_outcomes(cal, org.outcomes, first_assessment=START,
                           second_assessment="2026-07-13", raw=raw_scores(org.ratings),
                           people=org.people, enrollments=org.enrollments,
                           catalog=org.catalog, hourly_cost=40)
    assert set(res.did["metric"]) == {"performance", "customer_score", "quality_errors"}
    assert len(res.effects_by_activity) and len(res.mediation) and len(res.leaving)
    assert set(res.cost_effectiveness["per"]) == {"outcome unit"}
    out = res.save(tmp_path / "o")
    ids = set(org.people["person"])
    for file in out.glob("*.csv"):
        frame = pd.read_csv(file, dtype=str)
        assert "person" not in frame.columns
        assert not frame.isin(ids).any().any(), file
