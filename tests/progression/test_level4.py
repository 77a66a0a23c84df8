"""Level-4 impact: per-activity outcome effects against the generator's truth, the DiD through
the impact stage against statsmodels' MixedLM, and the mediation split's known zeros.

Claims (6 organisations of 600 people in CI, 24 in the nightly profile
(``HYPOTHESIS_PROFILE=nightly``, tests/fuzzing.py); two waves, 3 metrics x 25 activities = 450
intervals in CI):

* raw DiD 95% intervals cover the true per-activity outcome effects
  (``org.truth["outcome_effects"]``: mediated through the skill gain plus direct) at 0.95
  within 3 binomial SEs (measured 0.953); the partially pooled intervals cover at least 0.93
  (measured 0.976: conservative where the true effects are alike);
* why the pooled intervals cover more than 0.95: on performance and quality errors the true
  effects of the activities of one kind are alike (within-kind SD 0.01 and 0.03, against raw
  SEs of 0.13 and 0.44), and an interval that integrates over the between-activity SD tau
  (which the data cannot tell from 0) is conservative when the true tau is about 0 (measured
  0.980 and 0.993). Where the true effects differ (customer score: within-kind SD 1.27 against
  SEs of 2.2, direct effects for a third of the activities), the pooled intervals cover at
  0.95 within 3 binomial SEs (measured 0.953), and so do the raw intervals on every metric;
* activities with no effect on a metric (truth exactly 0) are called positive (pooled interval
  above 0, or raw p < 0.05 with a positive estimate) in at most alpha/2 + 3 SEs of them
  (measured 0.7% and 1.4% of 148);
* the outcome DiD of ``workbench.impact.did_effects`` on the outcome panel equals statsmodels'
  ``MixedLM`` (value ~ period * trained + (1 | person), REML) to 1e-4;
* mediation with the true composite change as mediator: the direct effect on performance and
  quality errors (true 0) has intervals covering 0 in at least 5 of 6 organisations; on the
  customer score (true direct effects of 3 for a third of the activities) it is positive;
* the indirect effect (through the skill gain) against the generator's truth: on performance
  (whose composite is the mean of all skills, the mediator), the true indirect effect of the
  training in an organisation is the mean, over the trained people of the panel, of the
  mediated effects (``org.truth["outcome_effects"]["mediated"]``) of the activities they
  completed; the 95% interval covers it in at least 4 of 6 organisations (the 1% binomial
  quantile of 0.95 over 6; measured 6 of 6) and the mean error over the 6 is within 3 SEs of
  0 (measured +0.001 against truths of 0.041-0.048).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy.stats import binom

from tests.fuzzing import PROFILE
from workbench.impact import did_effects
from workbench.progression import outcome_effects, outcome_mediation, outcome_panel
from workbench.synth import generate_organisation

PRE, POST = "2026-01-19", "2026-07-13"
SEEDS = range(24) if PROFILE == "nightly" else range(6)


@pytest.fixture(scope="module")
def runs():
    out = []
    for seed in SEEDS:
        org = generate_organisation(600, seed=seed, progression=True)
        panel = outcome_panel(org.outcomes, org.enrollments, pre_before=PRE, post_after=POST,
                              people=org.people)
        effects = outcome_effects(panel, org.catalog).merge(
            org.truth["outcome_effects"], on=["metric", "activity"])
        out.append((org, panel, effects))
    return out


def test_per_activity_intervals_cover_the_truth(runs):
    data = pd.concat([e for _, _, e in runs])
    n = len(data)
    assert n == 75 * len(runs)
    raw = ((data["raw_estimate"] - 1.959964 * data["raw_se"] <= data["effect"])
           & (data["effect"] <= data["raw_estimate"] + 1.959964 * data["raw_se"]))
    pooled = (data["ci_low"] <= data["effect"]) & (data["effect"] <= data["ci_high"])
    margin = 3 * np.sqrt(0.95 * 0.05 / n)
    assert abs(raw.mean() - 0.95) <= margin, raw.mean()
    assert pooled.mean() >= 0.93, pooled.mean()


def test_no_effect_activities_are_rarely_called_positive(runs):
    data = pd.concat([e for _, _, e in runs])
    null = data[data["effect"] == 0]
    assert len(null) >= 100
    limit = 0.025 + 3 * np.sqrt(0.025 * 0.975 / len(null))
    assert (null["ci_low"] > 0).mean() <= limit
    assert ((null["p_value"] < 0.05) & (null["raw_estimate"] > 0)).mean() <= limit


def test_outcome_did_equals_mixedlm(runs):
    _, panel, _ = runs[0]
    ours = did_effects(panel).set_index("skill")
    for metric in ("performance", "customer_score"):
        d = panel[(panel["skill"] == metric) & panel["included"]]
        long = pd.concat([d.assign(value=d["pre"], period=0), d.assign(value=d["post"],
                                                                       period=1)])
        long = long.assign(trained=long["trained"].astype(int))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = smf.mixedlm("value ~ period * trained", long, groups=long["person"]).fit(
                reml=True)
        assert ours.at[metric, "estimate"] == pytest.approx(ref.params["period:trained"],
                                                            abs=1e-4)
        assert ours.at[metric, "se"] == pytest.approx(ref.bse["period:trained"], abs=1e-4)


def test_mediation_direct_effects(runs):
    covered, customer = 0, []
    for org, panel, _ in runs:
        truth = org.truth["composite"].set_index("person")
        med = outcome_mediation(panel, mediator=truth["composite_2"] - truth["composite_1"])
        direct = med[med["effect"] == "direct"].set_index("metric")
        covered += all(direct.at[m, "ci_low"] <= 0 <= direct.at[m, "ci_high"]
                       for m in ("performance", "quality_errors"))
        customer.append(direct.at["customer_score", "estimate"])
        assert "not causal" in med.attrs["assumptions"]
    assert covered >= (5 if len(runs) == 6 else binom.ppf(0.01, len(runs), 0.9))
    assert np.mean(customer) > 0 and min(customer) > 0


def _true_indirect(org, panel, metric):
    mediated = org.truth["outcome_effects"].query("metric == @metric").set_index("activity")[
        "mediated"]
    done = org.enrollments[org.enrollments["completed"].astype(bool)]
    per_person = done.assign(v=done["activity"].map(mediated)).groupby("person")["v"].sum()
    rows = panel[(panel["skill"] == metric) & panel["included"] & panel["trained"].astype(bool)]
    return float(per_person.reindex(rows["person"].astype(str)).fillna(0.0).mean())


def test_mediation_indirect_effect_against_the_truth(runs):
    covered, errors, ses = 0, [], []
    for org, panel, _ in runs:
        truth = org.truth["composite"].set_index("person")
        med = outcome_mediation(panel, mediator=truth["composite_2"] - truth["composite_1"])
        row = med[(med["metric"] == "performance") & (med["effect"] == "indirect")].iloc[0]
        true = _true_indirect(org, panel, "performance")
        assert true > 0
        covered += row["ci_low"] <= true <= row["ci_high"]
        errors.append(row["estimate"] - true)
        ses.append(row["se"])
    assert covered >= binom.ppf(0.01, len(runs), 0.95), covered
    assert abs(np.mean(errors)) <= 3 * np.sqrt(np.mean(np.square(ses)) / len(runs)), errors


def test_pooled_intervals_cover_where_the_true_effects_differ(runs):
    data = pd.concat([e for _, _, e in runs])
    data["kind"] = data["activity"].map(
        runs[0][0].catalog.drop_duplicates("activity").set_index("activity")["kind"])
    covered = (data["ci_low"] <= data["effect"]) & (data["effect"] <= data["ci_high"])
    spread = data.groupby(["metric", "kind"])["effect"].std().groupby("metric").mean()
    ratio = spread / data.groupby("metric")["raw_se"].mean()
    differ = ratio[ratio > 0.25].index
    alike = ratio[ratio <= 0.25].index
    assert list(differ) == ["customer_score"], ratio
    n = int(data["metric"].isin(differ).sum())
    rate = covered[data["metric"].isin(differ)].mean()
    assert abs(rate - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / n), rate
    # where the effects are alike the intervals are conservative, never short
    assert covered[data["metric"].isin(alike)].mean() >= 0.95
