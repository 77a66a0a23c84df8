"""Reliability: ICC for unbalanced designs, r_wg, the per-source G-study and the D-study."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from workbench.calibration.calibrate import calibrate_ratings
from workbench.calibration.reliability.generalizability import (
    DStudy,
    d_study,
    source_variance_components,
)
from workbench.calibration.reliability.interrater import icc_by_source, rwg_by_source
from workbench.calibration.reliability.summary import (
    ReliabilityReport,
    reliability_report,
    reliability_table,
)
from workbench.errors import ConfigError, InputError, ModelError
from workbench.synth.generator import generate_organisation
from workbench.tables.data import Scale

SD = {"rater": 0.35, "rater:ratee": 0.25, "residual": 0.45}
WITHIN = SD["rater"] ** 2 + SD["rater:ratee"] ** 2 + SD["residual"] ** 2


def _one_way(sizes, sd_between, sd_within, seed):
    """Long ratings of one source and skill: ratee t has sizes[t] raters."""
    rng = np.random.default_rng(seed)
    effect = rng.normal(0, sd_between, len(sizes))
    rows = [(f"T{t}", f"R{t}_{j}", 3.0 + effect[t] + rng.normal(0, sd_within))
            for t, n in enumerate(sizes) for j in range(n)]
    frame = pd.DataFrame(rows, columns=["ratee", "rater", "score"])
    return frame.assign(source="peer", skill="S")


def test_icc_on_balanced_data_equals_textbook_icc1_and_icc1k():
    data = _one_way([5] * 40, 0.6, 0.8, seed=1)
    row = icc_by_source(data, overall=False).iloc[0]
    # Textbook (Shrout & Fleiss; pingouin's ICC1 / ICC1k) from an ANOVA table computed here.
    k, groups = 5, data.groupby("ratee")["score"]
    grand = data["score"].mean()
    msb = (k * (groups.mean() - grand) ** 2).sum() / (40 - 1)
    msw = ((data["score"] - groups.transform("mean")) ** 2).sum() / (40 * (k - 1))
    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc1k = (msb - msw) / msb
    f = msb / msw
    f_lo = f / stats.f.ppf(0.975, 39, 160)
    f_hi = f * stats.f.ppf(0.975, 160, 39)
    assert row["k"] == pytest.approx(5) and row["n0"] == pytest.approx(5)
    assert row["icc1"] == pytest.approx(icc1, rel=1e-12)
    assert row["icc2"] == pytest.approx(icc1k, rel=1e-12)
    assert row["icc1_ci_low"] == pytest.approx((f_lo - 1) / (f_lo + k - 1), rel=1e-10)
    assert row["icc1_ci_high"] == pytest.approx((f_hi - 1) / (f_hi + k - 1), rel=1e-10)
    assert row["icc2_ci_low"] == pytest.approx(1 - 1 / f_lo, rel=1e-10)
    assert row["icc2_ci_high"] == pytest.approx(1 - 1 / f_hi, rel=1e-10)
    assert row["p_value"] == pytest.approx(stats.f.sf(f, 39, 160), rel=1e-10)
    # For balanced data the ANOVA estimator equals REML (statsmodels MixedLM).
    fit = smf.mixedlm("score ~ 1", data, groups=data["ratee"]).fit(reml=True)
    var_b = float(fit.cov_re.iloc[0, 0])
    assert row["icc1"] == pytest.approx(var_b / (var_b + fit.scale), abs=1e-4)


def test_icc_on_unbalanced_data_agrees_with_reml_and_the_truth():
    rng = np.random.default_rng(7)
    sizes = rng.integers(2, 9, 400)
    data = _one_way(sizes, 0.5, 0.7, seed=8)
    row = icc_by_source(data, overall=False).iloc[0]
    fit = smf.mixedlm("score ~ 1", data, groups=data["ratee"]).fit(reml=True)
    var_b = float(fit.cov_re.iloc[0, 0])
    assert row["icc1"] == pytest.approx(var_b / (var_b + fit.scale), abs=0.01)
    assert row["var_between"] == pytest.approx(var_b, rel=0.05)
    assert row["var_within"] == pytest.approx(fit.scale, rel=0.02)
    truth = 0.25 / (0.25 + 0.49)
    assert row["icc1_ci_low"] < truth < row["icc1_ci_high"]
    # ICC(2) refers to the harmonic mean number of raters; with k="n0" it is Bliese's.
    harmonic = len(sizes) / np.sum(1 / sizes)
    assert row["k"] == pytest.approx(harmonic)
    assert row["icc2"] == pytest.approx(harmonic * row["icc1"] / (1 + (harmonic - 1)
                                                                   * row["icc1"]))
    msb = row["var_within"] + row["n0"] * row["var_between"]
    bliese = icc_by_source(data, overall=False, k="n0").iloc[0]
    assert bliese["icc2"] == pytest.approx((msb - row["var_within"]) / msb)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_icc1_per_source_recovers_the_synthetic_truth(seed):
    org = generate_organisation(300, seed=seed, rounding=None, n_waves=1)
    icc = icc_by_source(org.ratings, sources=["peer", "direct_report"], overall=False)
    true_scores = org.truth["true_scores"]
    margins = {"peer": (0.03, 0.06), "direct_report": (0.06, 0.12)}  # (mean, any skill)
    for source, (margin_mean, margin_skill) in margins.items():
        raters = org.ratings[org.ratings["source"] == source].groupby("ratee")["rater"]
        ratees = raters.nunique()[lambda n: n >= 2].index
        var_true = true_scores[true_scores["person"].isin(ratees)].groupby("skill")[
            "true_score"].var()
        true_icc = var_true / (var_true + WITHIN)
        estimate = icc[icc["source"] == source].set_index("skill")["icc1"]
        assert abs(estimate.mean() - true_icc.mean()) < margin_mean, source
        assert (estimate - true_icc).abs().max() < margin_skill, source


def test_icc_summary_over_skills_and_sources_without_two_raters():
    org = generate_organisation(120, seed=4, n_waves=1)
    per_skill = icc_by_source(org.ratings)
    summary = icc_by_source(org.ratings, by_skill=False).set_index("source")
    peer = per_skill[per_skill["source"] == "peer"]
    assert summary.loc["peer", "icc1"] == pytest.approx(peer["icc1"].mean())
    assert summary.loc["peer", "n_skills"] == org.ratings["skill"].nunique()
    # One self rater and one manager per ratee: no within-ratee variance, no ICC.
    assert summary.loc[["self", "manager"], "icc1"].isna().all()
    assert (summary.loc[["self", "manager"], "n_ratees"] == 0).all()
    assert "others" in summary.index and summary.loc["others", "icc1"] > 0


def test_icc_errors_name_the_bad_input():
    with pytest.raises(InputError, match="required column.*score"):
        icc_by_source(pd.DataFrame({"ratee": [], "rater": [], "source": [], "skill": []}))
    data = _one_way([3] * 5, 0.5, 0.5, seed=0)
    with pytest.raises(ConfigError, match="k='mean'"):
        icc_by_source(data, k="mean")
    with pytest.raises(ConfigError, match="min_raters=1"):
        icc_by_source(data, min_raters=1)
    with pytest.raises(ConfigError, match="sources=\\['mentor'\\]"):
        icc_by_source(data, sources=["mentor"])
    constant = data.assign(score=data.groupby("ratee")["score"].transform("first"))
    with pytest.raises(ModelError, match="do not vary within ratees"):
        icc_by_source(constant)
    # One skill without disagreement gets NaN; the others are still reported.
    mixed = pd.concat([constant, data.assign(skill="T")], ignore_index=True)
    table = icc_by_source(mixed, overall=False).set_index("skill")
    assert np.isnan(table.loc["S", "icc1"]) and np.isfinite(table.loc["T", "icc1"])


def _rwg_ratings():
    rows = [
        # ratee A, skill S1: 3, 4, 4, 5 (variance 2/3); skill S2: 2, 3 (variance 1/2)
        ("A", "r1", "S1", 3), ("A", "r2", "S1", 4), ("A", "r3", "S1", 4), ("A", "r4", "S1", 5),
        ("A", "r1", "S2", 2), ("A", "r2", "S2", 3),
        # ratee B, skill S1: 1, 5 (variance 8, beyond the uniform null); S2: one rater only
        ("B", "r5", "S1", 1), ("B", "r6", "S1", 5), ("B", "r5", "S2", 4),
    ]
    frame = pd.DataFrame(rows, columns=["ratee", "rater", "skill", "score"])
    return frame.assign(source="peer", score=frame["score"].astype(float))


def test_rwg_equals_hand_computed_values():
    result = rwg_by_source(_rwg_ratings(), scale=Scale(1, 5))
    assert result.null_variance == 2.0 and result.n_points == 5  # (5^2 - 1) / 12
    groups = result.groups.set_index(["ratee", "skill"])
    assert groups.loc[("A", "S1"), "rwg"] == pytest.approx(1 - (2 / 3) / 2)
    assert groups.loc[("A", "S2"), "rwg"] == pytest.approx(1 - 0.5 / 2)
    assert groups.loc[("B", "S1"), "rwg"] == 0.0  # truncated
    assert ("B", "S2") not in groups.index  # one rater
    multi = result.multi.set_index("ratee")
    ratio = (2 / 3 + 1 / 2) / 2 / 2
    assert multi.loc["A", "rwg_j"] == pytest.approx(2 * (1 - ratio) / (2 * (1 - ratio) + ratio))
    assert multi.loc["B", "rwg_j"] == 0.0
    summary = result.to_frame().set_index("source").loc["peer"]
    assert summary["rwg_mean"] == pytest.approx((2 / 3 + 3 / 4 + 0) / 3)
    assert summary["rwg_share_070"] == pytest.approx(1 / 3)
    untruncated = rwg_by_source(_rwg_ratings(), scale=(1, 5), truncate=False)
    assert untruncated.groups.set_index(["ratee", "skill"]).loc[("B", "S1"), "rwg"] == -3.0
    # A 7-point scale given as a scale table: sigma_EU^2 = 48 / 12.
    seven = rwg_by_source(_rwg_ratings(), scale=pd.DataFrame({"value": range(1, 8)}))
    assert seven.null_variance == 4.0
    assert "uniform null on 7 points" in seven.summary()


def test_rwg_rejects_a_bad_scale():
    with pytest.raises(ConfigError, match="scale"):
        rwg_by_source(_rwg_ratings(), scale="1-5")
    with pytest.raises(ConfigError, match="max \\(1.0\\) must be above min \\(5.0\\)"):
        rwg_by_source(_rwg_ratings(), scale=(5, 1))


def _components(**values):
    return pd.DataFrame({"component": list(values), "variance": list(values.values())})


def test_d_study_is_monotone_and_solves_spearman_brown():
    vc = _components(ratee=0.06, **{"ratee:skill": 0.07, "rater": 0.12, "rater:ratee": 0.06},
                     residual=0.2)
    study = d_study(vc, sources=["peer", "direct_report"], n_raters=range(1, 16))
    assert isinstance(study, DStudy)
    for _, curve in study.curve.groupby("source"):
        assert np.all(np.diff(curve["g_relative"]) > 0)
        assert np.all(np.diff(curve["g_absolute"]) > 0)
        assert np.all(curve["g_relative"] > curve["g_absolute"])
    true, rel, absolute = 0.13, 0.26, 0.38
    for _, row in study.required.iterrows():
        for kind, error in (("relative", rel), ("absolute", absolute)):
            one = true / (true + error)  # reliability of one rater
            t = row["target"]
            exact = t * (1 - one) / (one * (1 - t))  # Spearman-Brown solved for n
            assert row[f"n_{kind}_exact"] == pytest.approx(exact)
            n = int(row[f"n_{kind}"])
            curve = study.curve[study.curve["source"] == row["source"]].set_index("n_raters")
            assert curve.loc[n, f"g_{kind}"] >= t - 1e-12
            assert n == 1 or curve.loc[n - 1, f"g_{kind}"] < t
    assert "D-study" in study.summary() and "<table" in study._repr_html_()


def test_d_study_at_the_observed_raters_matches_icc2():
    org = generate_organisation(300, seed=5, rounding=None, n_waves=1)
    vc = source_variance_components(org.ratings, min_raters=2)
    icc = icc_by_source(org.ratings, sources=["peer"], overall=False)
    peer = vc[vc["source"] == "peer"].set_index("component")["variance"]
    k = icc["k"].mean()
    study = d_study(vc, sources=["peer"], n_raters=[k])
    # Without the rater variance, the relative G counts leniency as error like ICC(2) does.
    g = study.curve.iloc[0]
    assert g["g_relative"] == pytest.approx(g["g_absolute"])
    assert g["g_absolute"] == pytest.approx(icc["icc2"].mean(), abs=0.02)
    true = peer["ratee"] + peer["ratee:skill"]
    assert true / (true + peer["rater+rater:ratee"] + peer["residual"]) == pytest.approx(
        icc["icc1"].mean(), abs=0.02)


@pytest.mark.parametrize("seed", [0, 1])
def test_source_variance_components_recover_the_truth(seed):
    org = generate_organisation(600, seed=seed, rounding=None, n_waves=1, profile_scale=0)
    vc = source_variance_components(org.ratings, sources=["peer"], rater_variance=0.1)
    got = vc.set_index("component")["variance"]
    # The truth of this sample: the variance of the effects actually drawn.
    peers = org.ratings[org.ratings["source"] == "peer"][["ratee", "rater"]].drop_duplicates()
    leniency = org.truth["rater_effects"].set_index("rater")["leniency"]
    halo = org.truth["halo"].set_index(["rater", "ratee"])["halo"]
    rater_total = (leniency[peers["rater"]].var()
                   + halo.loc[list(zip(peers["rater"], peers["ratee"], strict=True))].var())
    assert got["ratee"] == pytest.approx(0.25**2, abs=0.02)
    assert got["ratee:skill"] == pytest.approx(0.25**2, abs=0.012)
    assert got["rater+rater:ratee"] == pytest.approx(rater_total, abs=0.03)
    assert got["residual"] == pytest.approx(0.45**2, abs=0.012)
    assert got["rater"] == 0.1
    assert got["rater:ratee"] == pytest.approx(got["rater+rater:ratee"] - 0.1)
    assert vc["share"].iloc[:2].sum() + vc.set_index("component")["share"][
        ["rater+rater:ratee", "residual"]].sum() == pytest.approx(1.0)


def test_d_study_checks_its_inputs():
    vc = _components(ratee=0.1, residual=0.2)
    with pytest.raises(ConfigError, match="targets"):
        d_study(vc, targets=[0.7, 1.2])
    with pytest.raises(ConfigError, match="n_raters"):
        d_study(vc, n_raters=[0, 1])
    with pytest.raises(InputError, match="unknown component.*halo"):
        d_study(_components(ratee=0.1, residual=0.2, halo=0.1))
    with pytest.raises(InputError, match="component\\(s\\) missing: residual"):
        d_study(_components(ratee=0.1))


def test_reliability_table_with_a_calibration_like_object():
    org = generate_organisation(200, seed=6, n_waves=1)
    truth = org.truth["variance_components"]
    fitted = SimpleNamespace(
        ratings=org.ratings,
        variance_components=truth.assign(variance=truth["sd"] ** 2)[["component",
                                                                     "variance"]],
    )
    report = reliability_report(fitted, scale=Scale(1, 5))
    assert isinstance(report, ReliabilityReport)
    table = report.table.set_index("source")
    assert {"icc1", "icc2", "rwg", "g_coefficient", "phi", "n_for_0.7", "n_for_0.8",
            "components_from"} <= set(table.columns)
    assert table.loc["peer", "components_from"] == "source"
    assert table.loc["manager", "components_from"] == "overall"
    assert pd.isna(table.loc["self", "g_coefficient"])  # no D-study of self ratings
    # All non-self raters pooled: more raters per ratee than peers alone.
    assert table.loc["others", "components_from"] == "source"
    assert table.loc["others", "raters_per_ratee"] > table.loc["peer", "raters_per_ratee"]
    assert 0 < table.loc["others", "g_coefficient"] < 1
    assert table.loc["peer", "n_for_0.8"] >= table.loc["peer", "n_for_0.7"]
    assert table.loc["peer", "g_coefficient"] >= table.loc["peer", "phi"]
    # The manager's G at one rater follows from the overall components alone.
    var = dict(zip(fitted.variance_components["component"],
                   fitted.variance_components["variance"], strict=True))
    true = var["ratee"] + var["ratee:skill"]
    assert table.loc["manager", "g_coefficient"] == pytest.approx(
        true / (true + var["rater:ratee"] + var["residual"]))
    assert table.loc["manager", "phi"] == pytest.approx(
        true / (true + var["rater"] + var["rater:ratee"] + var["residual"]))
    same = reliability_table(org.ratings, variance_components=fitted.variance_components,
                             scale=(1, 5))
    pd.testing.assert_frame_equal(same, report.table)
    assert "Reliability of 360 ratings" in report.summary()
    assert "<table" in report._repr_html_()


def test_source_variance_components_agree_with_a_nested_reml_fit():
    org = generate_organisation(150, seed=3, rounding=None, n_waves=1, n_skills=6)
    peer = org.ratings[org.ratings["source"] == "peer"]
    peer = peer[peer.groupby("ratee")["rater"].transform("nunique") >= 2]
    model = smf.mixedlm("score ~ C(skill)", peer, groups=peer["ratee"], re_formula="1",
                        vc_formula={"skill": "0 + C(skill)", "rater": "0 + C(rater)"})
    fit = model.fit(reml=True)
    reml = dict(zip(model.exog_vc.names, fit.vcomp, strict=True))
    got = source_variance_components(peer).set_index("component")["variance"]
    assert got["ratee"] == pytest.approx(float(fit.cov_re.iloc[0, 0]), abs=0.015)
    assert got["ratee:skill"] == pytest.approx(reml["skill"], abs=0.015)
    assert got["rater+rater:ratee"] == pytest.approx(reml["rater"], abs=0.015)
    assert got["residual"] == pytest.approx(fit.scale, abs=0.015)


def test_d_study_counts_skill_specific_leniency_with_the_rater():
    base = {"ratee": 0.1, "ratee:skill": 0.2, "rater": 0.1, "rater:ratee": 0.05,
            "residual": 0.25}
    plain = d_study(_components(**base), n_raters=[3]).curve.iloc[0]
    with_skill = d_study(_components(**base, **{"rater:skill": 0.05}), n_raters=[3]).curve
    assert with_skill["g_relative"].iloc[0] == pytest.approx(plain["g_relative"])
    assert with_skill["g_absolute"].iloc[0] == pytest.approx(0.3 / (0.3 + 0.45 / 3))


def test_g_coefficients_predict_how_well_scores_track_the_truth():
    org = generate_organisation(300, seed=21, n_waves=1)
    calibration = calibrate_ratings(org.ratings)
    table = reliability_table(calibration, scale=(1, 5)).set_index("source")
    truth = org.truth["true_scores"]
    scores = calibration.scores.merge(truth, on=["person", "skill"])
    by_skill = scores.groupby("skill")
    # Reliability = squared correlation of a score with the true score, averaged over skills.
    calibrated = by_skill[["score", "true_score"]].corr().xs("score", level=1)["true_score"]
    raw = by_skill[["raw_mean", "true_score"]].corr().xs("raw_mean", level=1)["true_score"]
    # seeds 21 and 22: G 0.864 / 0.872 vs 0.866 / 0.871; phi 0.819 / 0.832 vs 0.801 / 0.811
    assert table.loc["others", "g_coefficient"] == pytest.approx((calibrated**2).mean(),
                                                                 abs=0.03)
    assert table.loc["others", "phi"] == pytest.approx((raw**2).mean(), abs=0.04)


# --------------------------------------------------------------------------------------------
# R's multilevel package on lq2002 (raters nested in companies): its ICC1 and ICC2
# --------------------------------------------------------------------------------------------

MULTILEVEL = Path(__file__).resolve().parents[1] / "fixtures" / "multilevel"
LQ2002_SCALES = {"LEAD": [f"LEAD{i:02d}" for i in range(1, 12)],
                 "TSIG": [f"TSIG{i:02d}" for i in range(1, 4)],
                 "HOSTILE": [f"HOSTIL{i:02d}" for i in range(1, 6)]}


def _lq2002_scale_ratings():
    """lq2002 as ratings: each soldier (rater) rates their own company (ratee) on the three
    scales (the mean of the scale's items, as multilevel's LEAD, TSIG, HOSTILE)."""
    d = pd.read_csv(MULTILEVEL / "lq2002.csv")
    return pd.concat([pd.DataFrame({"ratee": d["COMPID"].astype(str),
                                    "rater": d["COMPID"].astype(str) + "-" + d["SUB"].astype(str),
                                    "source": "peer", "skill": scale,
                                    "score": d[items].mean(axis=1)})
                      for scale, items in LQ2002_SCALES.items()], ignore_index=True)


def test_icc_against_multilevel_on_lq2002_and_the_group_sizes_in_the_notes():
    """multilevel's ANOVA mean squares and ICC2 at 1e-6 (ICC2 = Spearman-Brown at k = n0);
    its ICC1 uses the mean group size N / G where ours uses n0: both reproduced from the
    same mean squares. The notes state both choices (tests/fixtures/multilevel, made by
    benchmarks/R/multilevel_fixture.R, multilevel 2.7)."""
    from workbench.calibration.reliability.summary import ICC_NOTES

    ref = pd.read_csv(MULTILEVEL / "icc.csv").set_index("scale")
    ratings = _lq2002_scale_ratings()
    ours = icc_by_source(ratings, sources=["peer"], overall=False, k="n0").set_index("skill")
    for scale, row in ref.iterrows():
        got = ours.loc[scale]
        msw = got["var_within"]
        msb = got["f"] * msw
        assert msw == pytest.approx(row["msw"], rel=1e-9)
        assert msb == pytest.approx(row["msb"], rel=1e-9)
        assert got["icc2"] == pytest.approx(row["icc2"], abs=1e-6)
        mean_size = row["n"] / row["n_groups"]
        assert (msb - msw) / (msb + (mean_size - 1) * msw) == pytest.approx(row["icc1"],
                                                                           abs=1e-6)
        assert got["icc1"] == pytest.approx((msb - msw) / (msb + (got["n0"] - 1) * msw),
                                            rel=1e-12)
        assert got["n0"] < mean_size
    harmonic = icc_by_source(ratings, sources=["peer"], overall=False).set_index("skill")
    assert harmonic.loc["LEAD", "k"] == pytest.approx(25.3, abs=0.05)
    assert harmonic.loc["LEAD", "icc2"] == pytest.approx(0.711, abs=5e-4)
    text = " ".join(ICC_NOTES)
    assert "n0 = (N - sum n_g^2 / N) / (G - 1)" in text and "N / G" in text
    assert "harmonic mean" in text and "Bliese 2000" in text and "Shrout & Fleiss 1979" in text
    report = reliability_report(ratings, scale=(1, 5))
    assert report.table.attrs["notes"] == ICC_NOTES
    assert report.settings["notes"] == list(ICC_NOTES)
    assert "N / G" in report.summary()
