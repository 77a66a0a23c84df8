"""Learning impact: recovery of known training effects, reference values, CLI.

Score source in the recovery tests: the synthetic organisation's true scores plus normal noise
with a known, person-specific SE (``truth_scores``), i.e. unbiased scores with honest SEs
as a calibration delivers them, without calibrating 50 organisations.
"""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import optimize, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower

from workbench.errors import ConfigError, InputError, ModelError
from workbench.impact import (
    activity_effects,
    ancova_effects,
    did_effects,
    estimate_impact,
    minimum_detectable_effect,
    paired_change,
    paired_effect_sizes,
    pool_effects,
    prepare_panel,
    recommend_design,
    regression_to_mean,
    reliable_change,
    required_sample_size,
)
from workbench.synth import truth_scores
from workbench.synth.generator import generate_organisation
from workbench.tables.scores import raw_scores

DEMO_DIR = Path(__file__).resolve().parents[2] / "data" / "demo"


def _setup(n, seed, se=(0.15, 0.35)):
    org = generate_organisation(n, seed=seed)
    scores = truth_scores(org.truth["true_scores"], se=se, random_state=seed)
    panel = prepare_panel(scores, org.enrollments, people=org.people, catalog=org.catalog)
    return org, scores, panel


def _true_gain(panel, effects):
    """Sum of the counted (completed, in the window) activities' true effects per
    (person, skill)."""
    done = panel[["person", "skill", "completed_activities"]].explode("completed_activities")
    done = done.dropna().rename(columns={"completed_activities": "activity"})
    done = done.merge(effects, on=["activity", "skill"])
    return done.groupby(["person", "skill"])["effect"].sum()


def _ancova_truth(org, panel):
    """Average effect of training on each skill among the trained: mean over the trained
    (included) people of the sum of their completed activities' true effects on the skill."""
    trained = panel[panel["included"] & panel["trained"]].set_index(["person", "skill"])
    gain = _true_gain(panel, org.truth["training_effects"]).reindex(trained.index).fillna(0.0)
    return gain.groupby(level="skill").mean()


@pytest.fixture(scope="module")
def demo():
    org, scores, panel = _setup(300, 4)
    result = estimate_impact(scores, org.enrollments, people=org.people, catalog=org.catalog)
    return org, scores, panel, result


# --------------------------------------------------------------------------------------------
# Recovery of the truth
# --------------------------------------------------------------------------------------------


def test_ancova_and_activity_intervals_cover_the_truth_across_50_seeds():
    hits_skill, hits_activity = [], []
    bias = []
    for seed in range(50):
        org, _, panel = _setup(150, 1000 + seed)
        ancova = ancova_effects(panel).set_index("skill")
        truth = _ancova_truth(org, panel)
        ancova = ancova.join(truth.rename("truth")).dropna(subset=["estimate"])
        hits_skill += list((ancova["ci_low"] <= ancova["truth"])
                           & (ancova["truth"] <= ancova["ci_high"]))
        bias += list(ancova["estimate"] - ancova["truth"])
        # (fdr_bh: same estimates, and avoids the gc.collect() that holm runs in statsmodels)
        acts = activity_effects(panel, org.catalog, correction="fdr_bh")
        acts = acts.merge(org.truth["training_effects"], on=["activity", "skill"])
        acts = acts.dropna(subset=["estimate"])
        hits_activity += list((acts["ci_low"] <= acts["effect"])
                              & (acts["effect"] <= acts["ci_high"]))
    assert len(hits_skill) >= 350 and len(hits_activity) >= 1000
    assert 0.90 <= np.mean(hits_skill) <= 0.99, np.mean(hits_skill)
    assert 0.90 <= np.mean(hits_activity) <= 0.99, np.mean(hits_activity)
    # no systematic bias: mean error within 3 standard errors of zero
    assert abs(np.mean(bias)) < 3 * np.std(bias) / np.sqrt(len(bias))


def test_naive_low_scorer_gain_is_biased_while_ancova_is_not():
    org, _, panel = _setup(600, 11, se=(0.25, 0.35))
    rtm = regression_to_mean(panel, quantile=0.5)
    naive = rtm[rtm["method"] == "naive_low_scorer_gain"].set_index("skill")
    ancova = rtm[rtm["method"] == "ancova"].set_index("skill")
    gain = _true_gain(panel, org.truth["training_effects"])
    # the naive estimate's own target: the true effect among the low scorers it averages
    low_truth = {}
    for skill, d in panel[panel["included"]].groupby("skill"):
        low = d[d["trained"] & (d["pre"] < d["pre"].quantile(0.5))]
        low_truth[skill] = gain.reindex(pd.MultiIndex.from_frame(low[["person", "skill"]])) \
            .fillna(0).mean()
    naive_err = naive["estimate"] - pd.Series(low_truth)
    truth = _ancova_truth(org, panel)
    ancova_err = ancova["estimate"] - truth
    # pooled over skills: naive is off by more than 3 pooled SEs, ANCOVA within 2
    k = len(naive)
    naive_se = np.sqrt((naive["se"] ** 2).sum()) / k
    ancova_se = np.sqrt((ancova["se"] ** 2).sum()) / k
    assert naive_err.mean() > 3 * naive_se, (naive_err.mean(), naive_se)
    assert abs(ancova_err.mean()) < 2 * ancova_se, (ancova_err.mean(), ancova_se)
    # skill by skill: most naive intervals miss the truth, most ANCOVA intervals cover it
    naive_miss = (naive["ci_low"] > pd.Series(low_truth)).mean()
    ancova_cover = ((ancova["ci_low"] <= truth) & (truth <= ancova["ci_high"])).mean()
    assert naive_miss >= 0.25 and ancova_cover >= 0.75
    # the expected regression to the mean explains a positive part of the naive gain
    assert (naive["expected_rtm"] > 0).all()


def test_measurement_error_correction_removes_attenuation_bias():
    errs = {"regression_calibration": [], "none": []}
    for seed in range(4):
        org, _, panel = _setup(300, 200 + seed, se=(0.3, 0.4))
        truth = _ancova_truth(org, panel)
        for how in errs:
            est = ancova_effects(panel, pre_adjust=how).set_index("skill")["estimate"]
            errs[how] += list(est - truth)
    def mean_se(v):
        return np.mean(v), np.std(v, ddof=1) / np.sqrt(len(v))

    # uncorrected ANCOVA under-adjusts for the lower pre scores of the trained (biased low:
    # about -0.10 here); the regression-calibrated pre score removes the bias
    bias, se = mean_se(errs["none"])
    assert bias < -3 * se and bias < -0.05
    bias, se = mean_se(errs["regression_calibration"])
    assert abs(bias) < 2 * se


def test_difference_in_differences_recovers_effects(demo):
    org, _, panel, result = demo
    did = result.effects_by_skill.query("method == 'did'").set_index("skill")
    truth = _ancova_truth(org, panel)
    covered = ((did["ci_low"] <= truth) & (truth <= did["ci_high"])).mean()
    assert covered >= 0.75
    assert did["converged"].all() if "converged" in did else True


# --------------------------------------------------------------------------------------------
# Reference values (scipy, statsmodels)
# --------------------------------------------------------------------------------------------


def test_paired_effect_sizes_equal_scipy_and_direct_formulas():
    rng = np.random.default_rng(3)
    pre = rng.normal(3, 0.6, 25)
    post = pre + 0.3 + rng.normal(0, 0.4, 25)
    res = paired_effect_sizes(pre, post)
    ref = stats.ttest_rel(post, pre)
    n, diff = 25, post - pre
    assert res["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert res["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert res["d_z"] == pytest.approx(diff.mean() / diff.std(ddof=1), rel=1e-12)
    d_av = diff.mean() / ((pre.std(ddof=1) + post.std(ddof=1)) / 2)
    assert res["g_av"] == pytest.approx(d_av * (1 - 3 / (4 * (n - 1) - 1)), rel=1e-12)
    # the d_z interval inverts the noncentral t: t_obs sits at the 97.5% / 2.5% points
    assert stats.nct.cdf(res["t"], n - 1, res["d_z_ci_low"] * np.sqrt(n)) == \
        pytest.approx(0.975, abs=1e-8)
    assert stats.nct.cdf(res["t"], n - 1, res["d_z_ci_high"] * np.sqrt(n)) == \
        pytest.approx(0.025, abs=1e-8)
    ci = stats.ttest_rel(post, pre).confidence_interval()
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert res["g_av_ci_low"] < res["g_av"] < res["g_av_ci_high"]


def test_paired_effect_size_intervals_cover_at_the_nominal_rate():
    rng = np.random.default_rng(11)
    n, rho, s2, delta = 30, 0.6, 1.3, 0.5
    cov = [[1.0, rho * s2], [rho * s2, s2**2]]
    mu_d = delta * (1 + s2) / 2
    d_z = mu_d / np.sqrt(1 + s2**2 - 2 * rho * s2)
    hits_g = hits_z = 0
    reps = 600
    for _ in range(reps):
        x = rng.multivariate_normal([0, mu_d], cov, n)
        res = paired_effect_sizes(x[:, 0], x[:, 1])
        hits_g += res["g_av_ci_low"] <= delta <= res["g_av_ci_high"]
        hits_z += res["d_z_ci_low"] <= d_z <= res["d_z_ci_high"]
    # binomial SE of a 95% coverage over 600 replications: 0.009
    assert 0.92 <= hits_z / reps <= 0.975
    assert 0.92 <= hits_g / reps <= 0.975


def test_paired_change_per_group_matches_direct_computation(demo):
    _, _, panel, result = demo
    d = panel[panel["included"] & panel["trained"] & (panel["skill"] == "Planning")]
    pd.testing.assert_frame_equal(paired_change(panel), result.paired)
    row = result.paired.query("skill == 'Planning' and group == 'trained'").iloc[0]
    assert row["n"] == len(d)
    assert row["estimate"] == pytest.approx((d["post"] - d["pre"]).mean(), rel=1e-12)
    assert row["p_value"] == pytest.approx(stats.ttest_rel(d["post"], d["pre"]).pvalue)


def test_ancova_equals_statsmodels_formula_fit(demo):
    _, _, panel, _ = demo
    ours = ancova_effects(panel, pre_adjust="none").set_index("skill")
    for skill in ("Coaching", "Planning"):
        d = panel[panel["included"] & (panel["skill"] == skill)].copy()
        d["trained"] = d["trained"].astype(int)
        fit = smf.ols("post ~ pre + trained + C(role) + C(level)", data=d).fit(
            cov_type="cluster", cov_kwds={"groups": pd.factorize(d["team"])[0]}, use_t=True)
        row = ours.loc[skill]
        assert row["estimate"] == pytest.approx(fit.params["trained"], rel=1e-9)
        assert row["se"] == pytest.approx(fit.bse["trained"], rel=1e-9)
        assert row["p_value"] == pytest.approx(fit.pvalues["trained"], rel=1e-8)
        ci = fit.conf_int().loc["trained"]
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(tuple(ci), rel=1e-9)


def test_did_equals_difference_of_mean_changes(demo):
    _, _, panel, _ = demo
    did = did_effects(panel[panel["skill"] == "Feedback"]).iloc[0]
    d = panel[panel["included"] & (panel["skill"] == "Feedback")]
    change = d["post"] - d["pre"]
    direct = change[d["trained"]].mean() - change[~d["trained"]].mean()
    assert did["estimate"] == pytest.approx(direct, abs=1e-6)


def test_multiplicity_adjustment_equals_multipletests(demo):
    _, _, _, result = demo
    anc = result.effects_by_skill.query("method == 'ancova'")
    assert np.allclose(anc["p_adjusted"], multipletests(anc["p_value"], method="holm")[1])
    acts = result.effects_by_activity.dropna(subset=["p_value"])
    assert np.allclose(acts["p_adjusted"], multipletests(acts["p_value"], method="holm")[1])


def test_pooling_uses_the_reml_maximum():
    rng = np.random.default_rng(5)
    se = rng.uniform(0.05, 0.2, 30)
    y = rng.normal(0.3, 0.1, 30) + rng.normal(0, se)
    pooled = pool_effects(y, se, method="morris")

    def neg_reml(tau2):
        w = 1 / (se**2 + tau2)
        mu = np.sum(w * y) / w.sum()
        return 0.5 * (-np.sum(np.log(w)) + np.log(w.sum()) + np.sum(w * (y - mu) ** 2))

    ref = optimize.minimize_scalar(neg_reml, bounds=(0, 1), method="bounded",
                                   options={"xatol": 1e-10}).x
    assert pooled["tau2"] == pytest.approx(ref, abs=1e-6)
    b = se**2 / (se**2 + pooled["tau2"])
    assert np.allclose(pooled["posterior"], pooled["mu"] + (1 - b) * (y - pooled["mu"]))
    # shrinkage pulls estimates towards the mean, the noisiest most
    assert np.all(np.abs(pooled["posterior"] - pooled["mu"]) <= np.abs(y - pooled["mu"]) + 1e-12)


def test_hierarchical_pooling_equals_numerical_integration_over_tau():
    """Posterior mean, SD and 95% interval of one effect, against adaptive quadrature of the
    joint posterior (uniform prior on tau and on the kind means)."""
    from scipy import integrate

    rng = np.random.default_rng(8)
    k = 14
    groups = np.repeat(["a", "b", "c"], [5, 5, 4])
    se = rng.uniform(0.05, 0.25, k)
    y = np.where(groups == "a", 0.2, 0.35) + rng.normal(0, 0.08, k) + rng.normal(0, se)
    pooled = pool_effects(y, se, groups)
    X = (groups[:, None] == np.array(["a", "b", "c"])).astype(float)

    def given(tau):  # conditional mean and variance of theta_0, and the REML likelihood
        w = 1 / (se**2 + tau**2)
        A = X.T @ (w[:, None] * X)
        gamma = np.linalg.solve(A, X.T @ (w * y))
        r = y - X @ gamma
        like = np.exp(-0.5 * (-np.log(w).sum() + np.linalg.slogdet(A)[1] + np.sum(w * r**2)))
        b = se[0] ** 2 / (se[0] ** 2 + tau**2)
        mu, var_mu = X[0] @ gamma, X[0] @ np.linalg.solve(A, X[0])
        return mu + (1 - b) * (y[0] - mu), (1 - b) * se[0] ** 2 + b**2 * var_mu, like

    top = 4 * np.sqrt(max(np.var(y, ddof=1), se.max() ** 2))
    norm = integrate.quad(lambda t: given(t)[2], 0, top, limit=200)[0]
    mean = integrate.quad(lambda t: given(t)[0] * given(t)[2], 0, top, limit=200)[0] / norm
    second = integrate.quad(lambda t: (given(t)[1] + given(t)[0] ** 2) * given(t)[2], 0, top,
                            limit=200)[0] / norm

    def cdf(x):
        return integrate.quad(lambda t: stats.norm.cdf(x, given(t)[0], np.sqrt(given(t)[1]))
                              * given(t)[2], 0, top, limit=200)[0] / norm

    low = optimize.brentq(lambda x: cdf(x) - 0.025, -2, 2)
    high = optimize.brentq(lambda x: cdf(x) - 0.975, -2, 2)
    assert pooled["posterior"][0] == pytest.approx(mean, abs=2e-4)
    assert pooled["posterior_sd"][0] == pytest.approx(np.sqrt(second - mean**2), abs=2e-4)
    assert (pooled["ci_low"][0], pooled["ci_high"][0]) == pytest.approx((low, high), abs=5e-4)
    # integrating over tau widens the plug-in interval where shrinkage is strong
    plug_in = pool_effects(y, se, groups, method="morris")
    assert np.all(pooled["posterior_sd"] >= np.sqrt((1 - plug_in["shrinkage"]) * se**2) - 1e-9)


def test_activity_intervals_cover_the_truth_with_known_standard_errors():
    """Pooled per-activity 95% intervals over 20 organisations of 300 people (540 intervals;
    scores = truth + noise of known SE, so only the impact side is tested). Binomial SE of a
    0.95 coverage over 540 intervals: 0.0094; the bounds are 0.95 +- 2.5 SE. The plug-in
    pooling with Morris's correction covered 0.92 on the same organisations."""
    hits = []
    for seed in range(100, 120):
        org = generate_organisation(300, seed=seed)
        scores = truth_scores(org, se=(0.15, 0.35), random_state=seed)
        panel = prepare_panel(scores, org.enrollments, people=org.people, catalog=org.catalog,
                              dates=org.ratings)
        acts = activity_effects(panel, org.catalog, correction="fdr_bh")
        acts = acts.merge(org.truth["training_effects"], on=["activity", "skill"])
        acts = acts.dropna(subset=["estimate"])
        hits += list((acts["ci_low"] <= acts["effect"]) & (acts["effect"] <= acts["ci_high"]))
    assert len(hits) >= 500
    assert 0.926 <= np.mean(hits) <= 0.974, np.mean(hits)


def test_power_planning_matches_statsmodels(demo):
    _, _, _, result = demo
    row = result.power.iloc[0]
    power = TTestIndPower().power(effect_size=row["mde"] / row["resid_sd"],
                                  nobs1=row["n_trained"], alpha=0.05,
                                  ratio=row["n_untrained"] / row["n_trained"])
    assert power == pytest.approx(0.8, abs=1e-6)
    n1, n0 = required_sample_size(0.2, resid_sd=0.4, ratio=2.0)
    assert TTestIndPower().power(effect_size=0.5, nobs1=n1, alpha=0.05, ratio=2.0) == \
        pytest.approx(0.8, abs=1e-6)
    assert n0 == pytest.approx(2 * n1)
    assert minimum_detectable_effect(200, 200, resid_sd=0.4) < \
        minimum_detectable_effect(20, 200, resid_sd=0.4)


def test_reliable_change_index(demo):
    _, _, panel, result = demo
    ind = result.individual_change
    pd.testing.assert_frame_equal(reliable_change(panel), ind)
    row = ind.iloc[7]
    src = panel.iloc[7]
    expected = (src["post"] - src["pre"]) / np.hypot(src["se_pre"], src["se_post"])
    assert row["rci"] == pytest.approx(expected)
    assert set(ind["category"].dropna()) <= {"improved", "no reliable change", "declined"}
    assert (ind.loc[ind["rci"] > 1.96, "category"] == "improved").all()
    assert (ind.loc[ind["rci"] < -1.96, "category"] == "declined").all()
    # the trained improve reliably more often than the untrained
    share = ind.assign(up=ind["category"].eq("improved")).groupby("trained")["up"].mean()
    assert share[True] > share[False] + 0.1
    assert "rater" not in ind.columns


# --------------------------------------------------------------------------------------------
# Design recommendation, options, results object
# --------------------------------------------------------------------------------------------


def test_design_rule_follows_how_people_were_picked(demo):
    _, _, panel, result = demo
    # synth picks people with low (noisy) pre scores: ANCOVA
    assert (result.design["recommended"] == "ancova").all()
    assert result.effects_by_skill.query("recommended")["method"].eq("ancova").all()
    # pre-existing groups: whole teams were trained, and those teams started 0.5 higher for
    # reasons of their own (in both waves): the pre score does not predict training within
    # teams, the groups differ at baseline -> difference-in-differences
    teams = np.sort(panel["team"].unique())
    chosen = set(teams[::3])
    p = panel.copy()
    p["trained"] = p["team"].isin(chosen).to_numpy()
    p["included"] = True
    shift = np.where(p["trained"], 0.5, 0.0)
    p["pre"] = p["pre"] + shift
    p["post"] = p["post"] + shift
    rec = recommend_design(p)
    assert (rec["recommended"] == "did").all()


def test_noncompleters_options(demo):
    org, scores, panel, _ = demo
    assert (panel["status"] == "not_completed").any()
    assert not panel.loc[panel["status"] == "not_completed", "included"].any()
    itt = prepare_panel(scores, org.enrollments, people=org.people, catalog=org.catalog,
                        noncompleters="untrained")
    assert itt["included"].all()
    assert not itt.loc[itt["status"] == "not_completed", "trained"].any()


def test_every_output_states_the_variance_estimator_used(demo):
    """With teams, ANCOVA clusters by team; with no people table it falls back to HC1, and the
    notes, settings and effects table say so (the numbers equal statsmodels' HC1 fit)."""
    org, scores, panel, clustered = demo
    plain = estimate_impact(scores, org.enrollments, catalog=org.catalog, did=False)
    assert clustered.settings["cluster"] == "team"
    assert plain.settings["cluster"] is None and plain.settings["cluster_asked"] == "team"
    assert plain.settings["variance"]["ancova"].startswith("HC1 (no team column")
    assert clustered.settings["variance"]["ancova"].startswith("cluster-robust by team")
    assert not any("cluster-robust" in note for note in plain.notes)
    assert any(note.startswith("Intervals of the adjusted comparison take people in one team as")
               for note in plain.notes)
    assert any(note.startswith("Intervals of the adjusted comparison allow for people in one team")
               for note in clustered.notes)
    kinds = plain.effects_by_skill.groupby("method")["se_type"].unique()
    assert [k[:2] for k in kinds["ancova"]] == ["he"]
    assert clustered.effects_by_skill.query("method == 'ancova'")["se_type"].str.startswith(
        "cluster-robust by team").all()
    # the HC1 numbers are statsmodels' HC1 fit of the same (unadjusted) model
    no_team = prepare_panel(scores, org.enrollments, catalog=org.catalog)
    ours = ancova_effects(no_team, pre_adjust="none").set_index("skill")
    d = no_team[no_team["included"] & (no_team["skill"] == "Planning")].copy()
    d["trained"] = d["trained"].astype(int)
    fit = smf.ols("post ~ pre + trained", data=d).fit(cov_type="HC1", use_t=True)
    assert ours.loc["Planning", "se"] == pytest.approx(fit.bse["trained"], rel=1e-9)
    assert ours.loc["Planning", "se_type"] == "HC1"


def test_results_object(demo):
    _, _, _, result = demo
    assert set(result.params.index) == set(result.panel["skill"])
    assert list(result.conf_int().columns) == ["ci_low", "ci_high"]
    text = result.summary()
    assert "analysis of covariance" in text and "difference-in-differences" in text
    assert "Holm's method" in text
    assert "<table" in result._repr_html_()
    frame = result.to_frame()
    assert {"estimate", "se", "ci_low", "ci_high", "p_value", "n"} <= set(frame.columns)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.notes = ()


def test_fdr_bh_and_without_catalog(demo):
    org, scores, _, _ = demo
    res = estimate_impact(scores, org.enrollments, people=org.people, correction="fdr_bh",
                          training="any", did=False)
    anc = res.effects_by_skill.query("method == 'ancova'")
    assert np.allclose(anc["p_adjusted"], multipletests(anc["p_value"], method="fdr_bh")[1])
    assert res.effects_by_activity.empty
    assert "fdr_bh" in res.summary()
    # labelled as "any training" in every table and the summary
    assert res.effects_by_skill["training"].eq("any").all()
    assert res.individual_change["training"].eq("any").all()
    assert "any activity" in res.summary() and "any training" in res.summary()


def test_raw_means_fallback_runs_and_finds_positive_effects():
    org = generate_organisation(200, seed=8)
    scores = raw_scores(org.ratings)
    assert set(scores.columns) >= {"person", "skill", "wave", "score", "se"}
    res = estimate_impact(scores, org.enrollments, people=org.people, catalog=org.catalog,
                          did=False)
    assert res.params.mean() > 0.1


def test_input_errors(demo):
    org, scores, _, _ = demo
    with pytest.raises(InputError, match="missing column"):
        estimate_impact(scores.drop(columns="score"), org.enrollments)
    with pytest.raises(ModelError, match="two waves"):
        estimate_impact(scores[scores["wave"] == 1], org.enrollments, catalog=org.catalog)
    with pytest.raises(ConfigError, match="correction='bonferoni'"):
        estimate_impact(scores, org.enrollments, correction="bonferoni")
    with pytest.raises(ConfigError, match="alpha=1.5"):
        estimate_impact(scores, org.enrollments, alpha=1.5)
    bad = org.enrollments.assign(activity="ZZZ")
    with pytest.raises(InputError, match="activity not in the catalog"):
        estimate_impact(scores, bad, catalog=org.catalog)
    with pytest.raises(ModelError, match="waves='joint'"):
        estimate_impact(scores.drop(columns="wave"), org.enrollments, catalog=org.catalog)
    with pytest.raises(InputError, match="more than one score"):
        estimate_impact(pd.concat([scores, scores.head(1)]), org.enrollments,
                        catalog=org.catalog)


def test_figures(demo):
    import matplotlib.pyplot as plt

    from workbench.impact.figures import plot_effects_forest, plot_pre_post, plot_rci_by_team

    _, _, _, result = demo
    for fig in (plot_effects_forest(result), plot_effects_forest(result, by="activity"),
                plot_pre_post(result), plot_rci_by_team(result)):
        assert isinstance(fig, plt.Figure)
        plt.close(fig)
    with pytest.raises(ConfigError, match="by='team'"):
        plot_effects_forest(result, by="team")


# --------------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------------


def test_cli_writes_tables_and_figures(tmp_path):
    from workbench.cli import main

    org = generate_organisation(120, seed=9)
    folder = org.write(tmp_path / "in")
    out = tmp_path / "out"
    code = main(["impact", "--ratings", str(folder / "ratings.csv"),
                 "--enrollments", str(folder / "enrollments.csv"),
                 "--people", str(folder / "people.csv"),
                 "--catalog", str(folder / "catalog.csv"), "--out", str(out)])
    assert code == 0
    summary = (out / "summary.txt").read_text()
    assert "calibrated (both waves jointly)" in summary
    assert "Survey rounds compared: 1 (before) -> 2 (after)" in summary
    for name in ("effects_by_skill.csv", "effects_by_activity.csv", "individual_change.csv",
                 "power.csv", "forest_by_skill.png", "pre_post.png"):
        assert (out / name).exists(), name
    table = pd.read_csv(out / "effects_by_skill.csv")
    assert {"estimate", "se", "ci_low", "ci_high", "p_value", "n"} <= set(table.columns)
    # the same folder again: refused, exit 2
    again = main(["impact", "--ratings", str(folder / "ratings.csv"),
                  "--enrollments", str(folder / "enrollments.csv"), "--out", str(out),
                  "--raw-means", "--any-training"])
    assert again == 2


def test_cli_impact_takes_a_hundred_point_scale(tmp_path, capsys):
    """Pre/post test scores on 0-100: refused on the default 1-5 scale with the way to set
    it named, accepted with --scale 0 100 or the mapping's scale; effects in points of 0-100."""
    import yaml

    from workbench.cli import main

    org = generate_organisation(120, seed=9)
    folder = org.write(tmp_path / "in")
    ratings = pd.read_csv(folder / "ratings.csv")
    ratings["score"] = (ratings["score"] - 1) * 25
    ratings.to_csv(folder / "ratings.csv", index=False)
    args = ["impact", "--ratings", str(folder / "ratings.csv"), "--enrollments",
            str(folder / "enrollments.csv"), "--people", str(folder / "people.csv"),
            "--catalog", str(folder / "catalog.csv"), "--raw-means"]
    assert main([*args, "--out", str(tmp_path / "refused")]) == 2
    err = capsys.readouterr().err
    assert "off the rating scale (1 to 5, the default; set another with" in err
    assert f"{int(ratings['score'].gt(5).sum() + ratings['score'].lt(1).sum())} error(s)" in err
    assert not (tmp_path / "refused").exists()
    assert main([*args, "--scale", "0", "100", "--out", str(tmp_path / "option")]) == 0
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump({"scale": [0, 100]}))
    assert main([*args, "--mapping", str(tmp_path / "mapping.yaml"),
                 "--out", str(tmp_path / "mapping")]) == 0
    capsys.readouterr()
    by_option = pd.read_csv(tmp_path / "option" / "effects_by_skill.csv")
    by_mapping = pd.read_csv(tmp_path / "mapping" / "effects_by_skill.csv")
    pd.testing.assert_frame_equal(by_option, by_mapping)
    assert by_option["estimate"].abs().max() > 1  # points of a 0-100 scale


def test_cli_bad_input_exits_2(tmp_path, capsys):
    from workbench.cli import main

    (tmp_path / "ratings.csv").write_text("ratee,rater,skill\nP1,P2,Planning\n")
    (tmp_path / "enrollments.csv").write_text("person,activity,completed\nP1,A1,True\n")
    code = main(["impact", "--ratings", str(tmp_path / "ratings.csv"),
                 "--enrollments", str(tmp_path / "enrollments.csv"), "--any-training",
                 "--out", str(tmp_path / "out")])
    assert code == 2
    assert "ratings" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# Calibrated scores (workbench.calibration.calibrate, both waves jointly)
# --------------------------------------------------------------------------------------------


def test_calibrated_demo_data_recover_the_training_effects():
    from workbench.calibration.calibrate import calibrate_ratings
    from workbench.tables.data import load_organisation

    org = load_organisation(DEMO_DIR)
    cal = calibrate_ratings(org.ratings, waves="joint")
    result = estimate_impact(cal, org.enrollments, people=org.people, catalog=org.catalog,
                             dates=org.ratings, did=False)
    assert result.settings["score_source"].startswith("calibrated")
    assert any("un-shrunk" in note for note in result.notes)
    effects = pd.read_csv(DEMO_DIR / "truth" / "training_effects.csv")
    panel = result.panel
    trained = panel[panel["included"] & panel["trained"]].set_index(["person", "skill"])
    gain = _true_gain(panel, effects)
    truth = gain.reindex(trained.index).fillna(0.0).groupby(level="skill").mean()
    anc = result.effects_by_skill.query("method == 'ancova'").set_index("skill")
    covered = (anc["ci_low"] <= truth) & (truth <= anc["ci_high"])
    assert covered.mean() >= 0.75, anc.assign(truth=truth)
    assert abs((anc["estimate"] - truth).mean()) < 0.08
    # calibrated SEs give reliable-change categories; the trained improve more often
    ind = result.individual_change
    share = ind.assign(up=ind["category"].eq("improved")).groupby("trained")["up"].mean()
    assert share[True] > share[False]


def _correlated_scores(org, rho, seed):
    """True scores plus errors of known SE whose pre and post parts correlate by ``rho``."""
    rng = np.random.default_rng(seed)
    true = org.truth["true_scores"].pivot_table(index=["person", "skill"], columns="wave",
                                                values="true_score")
    n = len(true)
    se = rng.uniform(0.25, 0.4, (n, 2))
    shared = rng.normal(size=n)
    z = np.sqrt(rho) * shared[:, None] + np.sqrt(1 - rho) * rng.normal(size=(n, 2))
    frames = [pd.DataFrame({"person": true.index.get_level_values(0),
                            "skill": true.index.get_level_values(1), "wave": w,
                            "score": true[w].to_numpy() + se[:, k] * z[:, k],
                            "se": se[:, k], "estimator": "truth"})
              for k, w in enumerate((1, 2))]
    return pd.concat(frames, ignore_index=True)


def test_correlated_pre_post_errors_bias_ancova_unless_stated():
    """Errors shared by the pre and post score (the same raters' lasting impressions) inflate
    the pre slope and, since the trained start lower, the effects. Over 12 organisations of
    400 people (about 320 activity estimates) with error correlation 0.5: the mean z-score of
    the raw per-activity estimates against the truth is within 3 SE (3 / sqrt(n)) of zero when
    the correlation is given, and clearly positive when errors are taken as independent."""
    z_given, z_ignored, z_column = [], [], []
    for seed in range(300, 312):
        org = generate_organisation(400, seed=seed)
        scores = _correlated_scores(org, 0.5, seed)
        # the scores contract's error_corr (as a joint calibration writes it) is the default
        scores["error_corr"] = np.where(scores["wave"] == 2, 0.5, np.nan)
        panel = prepare_panel(scores, org.enrollments, people=org.people, catalog=org.catalog)
        for rho, out in ((0.5, z_given), (0.0, z_ignored), (None, z_column)):
            acts = activity_effects(panel, org.catalog, correction="fdr_bh",
                                    error_correlation=rho)
            acts = acts.merge(org.truth["training_effects"], on=["activity", "skill"])
            acts = acts.dropna(subset=["raw_estimate"])
            out += list((acts["raw_estimate"] - acts["effect"]) / acts["raw_se"])
    n = len(z_given)
    assert n >= 300
    assert abs(np.mean(z_given)) < 3 / np.sqrt(n), np.mean(z_given)
    assert np.mean(z_ignored) > np.mean(z_given) + 3 / np.sqrt(n), np.mean(z_ignored)
    np.testing.assert_allclose(z_column, z_given, rtol=1e-12)


def test_panel_takes_the_error_correlation_of_consecutive_waves_only():
    org = generate_organisation(120, seed=8)
    scores = truth_scores(org, se=0.2, random_state=1)
    scores["error_corr"] = np.where(scores["wave"] == 2, 0.3, np.nan)
    panel = prepare_panel(scores, org.enrollments, catalog=org.catalog)
    assert panel.attrs["error_corr_source"] == "scores"
    assert (panel["error_corr"] == 0.3).all()
    # a third wave: comparing waves 1 and 3 skips wave 2, whose correlation does not apply
    third = scores[scores["wave"] == 2].assign(wave=3, error_corr=0.3)
    panel = prepare_panel(pd.concat([scores, third]), org.enrollments, catalog=org.catalog,
                          waves=(1, 3))
    assert panel.attrs["error_corr_source"] == "not consecutive"
    assert panel["error_corr"].isna().all()
    result = estimate_impact(pd.concat([scores, third]), org.enrollments, catalog=org.catalog,
                             waves=(1, 3), did=False)
    assert result.settings["error_correlation_used"] == "0 (waves not consecutive)"
    assert any("taken as independent" in note for note in result.notes)
