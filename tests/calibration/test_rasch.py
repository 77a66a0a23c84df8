"""The many-facet Rasch API: options, bad designs, extreme scores, outputs and contracts."""

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.calibrate import CalibrationWarning
from workbench.calibration.rasch.calibrate import calibrate_rasch
from workbench.calibration.rasch.facets import separation_statistics
from workbench.calibration.rasch.fit import element_fit
from workbench.errors import ConfigError, ModelError
from workbench.synth.generator import generate_organisation
from workbench.tables.scores import as_scores


@pytest.fixture(scope="module")
def org():
    return generate_organisation(80, seed=5, n_waves=1)


@pytest.fixture(scope="module")
def res(org):
    return calibrate_rasch(org.ratings)


@pytest.mark.parametrize(("options", "match"), [
    ({"thresholds": "item"}, "thresholds='item'"),
    ({"facets": ("rater", "source")}, "must include 'skill'"),
    ({"facets": ("skill", "halo")}, "'halo' not among"),
    ({"thresholds": "rater", "facets": ("skill", "source")}, "needs the facet 'rater'"),
    ({"waves": "all"}, "waves='all'"),
    ({"alpha": 2}, "alpha=2"),
    ({"connectivity": "separate"}, "connectivity='separate'"),
])
def test_bad_options_are_config_errors(org, options, match):
    with pytest.raises(ConfigError, match=match):
        calibrate_rasch(org.ratings, **options)


def test_constant_scores_and_one_rater_are_model_errors(org):
    with pytest.raises(ModelError, match="every score is 3"):
        calibrate_rasch(org.ratings.assign(score=3))
    with pytest.raises(ModelError, match="only one rater"):
        calibrate_rasch(org.ratings.assign(rater="x"))


def test_disconnected_design_warns_or_refuses(org):
    other = org.ratings.assign(ratee="B" + org.ratings["ratee"], rater="B" + org.ratings["rater"])
    two = pd.concat([org.ratings, other.iloc[: len(other) // 3]], ignore_index=True)
    with pytest.raises(ModelError, match="falls apart into"):
        calibrate_rasch(two, connectivity="error")
    with pytest.warns(CalibrationWarning, match="only the largest"):
        fitted = calibrate_rasch(two, interactions=())
    assert not fitted.scores["ratee"].str.startswith("B").any()
    assert fitted.connectivity["fitted"].tolist().count(True) == 1


def test_sources_nested_in_raters_are_refused():
    rng = np.random.default_rng(0)
    pairs = [(e, r, "peer") for e in "abcd" for r in "xy"] + \
            [(e, r, "manager") for e in "abcd" for r in "uv"]
    ratings = pd.DataFrame(pairs, columns=["ratee", "rater", "source"]).assign(
        skill="S", score=rng.integers(1, 6, len(pairs)))
    ratings = pd.concat([ratings, ratings.assign(skill="T")], ignore_index=True)
    with pytest.raises(ModelError, match="confounded"):
        calibrate_rasch(ratings)


def test_extreme_ratee_gets_the_adjusted_score_measure(org):
    ratings = org.ratings.copy()
    top = ratings["ratee"] == ratings["ratee"].iloc[0]
    ratings.loc[top, "score"] = ratings["score"].max()
    res = calibrate_rasch(ratings, facets=("skill", "rater"), interactions=())
    m = res.measures.set_index(["facet", "element"])
    who = ratings["ratee"].iloc[0]
    assert m.loc[("ratee", who), "status"] == "maximum"
    assert m.loc[("ratee", who), "measure"] > m.loc["ratee", "measure"].drop(who).max()
    # Brute force: the expected total at that measure is the raw total minus 0.3.
    rows = ratings[top]
    eta = (m.loc[("ratee", who), "measure"] - m.loc["skill", "measure"].reindex(rows["skill"])
           .to_numpy() - m.loc["rater", "measure"].reindex(rows["rater"]).to_numpy())
    tau = res.thresholds["threshold"].to_numpy()
    cum = np.r_[0.0, np.cumsum(tau)]
    logits = eta[:, None] * np.arange(len(cum)) - cum
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    values = np.sort(ratings["score"].unique())
    assert (P @ values).sum() == pytest.approx(rows["score"].sum() - 0.3, abs=1e-6)


def test_scores_follow_the_contract_and_stay_on_the_scale(res):
    scores = as_scores(res)
    assert (scores["estimator"] == "fair_average").all()
    assert {"person", "skill", "score", "se", "ci_low", "ci_high"} <= set(scores.columns)
    assert scores["score"].between(1, 5).all()
    assert (scores["ci_low"] <= scores["score"]).all() and (scores["score"] <= scores["ci_high"]).all()
    assert scores["ci_low"].ge(1).all() and scores["ci_high"].le(5).all()
    assert scores.groupby("person").size().nunique() == 1


def test_fair_averages_track_raw_means(res):
    s = res.scores.dropna(subset=["raw_mean"])
    assert np.corrcoef(s["score"], s["raw_mean"])[0, 1] > 0.8


def test_result_saves_its_files_and_summary_hides_raters(res, tmp_path):
    folder = res.save(tmp_path / "out")
    names = {p.name for p in folder.iterdir()}
    assert {"calibrated_scores.csv", "rasch_separation.csv", "rasch_categories.csv",
            "rasch_thresholds.csv", "settings.json"} <= names
    # rater-level tables only in the analyst's folder
    analyst = {p.name for p in (folder / "analyst").iterdir()}
    assert analyst == {"rasch_measures.csv", "rasch_bias_rater_skill.csv",
                       "rasch_bias_rater_ratee.csv"}
    assert not {p.name for p in folder.glob("*.csv")} & analyst
    raters = set(res.ratings["rater"]) - set(res.ratings["ratee"])
    text = res.summary()
    assert not any(r in text for r in raters)
    with pytest.raises(ConfigError, match="never overwritten"):
        res.save(folder)


def test_joint_waves_give_one_score_per_wave():
    org = generate_organisation(60, seed=8, n_waves=2)
    with pytest.raises(ConfigError, match="waves='joint'"):
        calibrate_rasch(org.ratings)
    res = calibrate_rasch(org.ratings, waves="joint", interactions=())
    assert set(res.scores["wave"]) == {1, 2}
    assert set(res.measures.query("facet == 'ratee'")["wave"]) == {1, 2}


@pytest.mark.parametrize("thresholds", ["skill", "rater"])
def test_partial_credit_models_fit(org, thresholds):
    res = calibrate_rasch(org.ratings, thresholds=thresholds, interactions=())
    assert res.converged
    groups = res.thresholds.groupby("group")["threshold"].sum()
    assert np.allclose(groups, 0, atol=1e-6)  # thresholds sum to zero within each group


def test_interactions_recover_a_planted_rater_by_skill_bias(org):
    ratings = org.ratings.copy()
    rater = ratings["rater"].value_counts().index[0]
    skill = ratings["skill"].iloc[0]
    cell = (ratings["rater"] == rater) & (ratings["skill"] == skill)
    ratings.loc[cell, "score"] = 1
    res = calibrate_rasch(ratings, interactions=("rater:skill",))
    table = res.interactions["rater:skill"].set_index(["rater", "skill"])
    row = table.loc[(rater, skill)]
    assert row["extreme"] and row["estimate"] < -2 and row["t"] < -2 and row["p_value"] < 0.05
    others = table.drop(index=(rater, skill))
    assert (others["p_value"] < 0.01).mean() < 0.05


def test_element_fit_matches_the_definitions():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(4), 30)
    x = np.array([rng.choice(4, p=p) for p in P])
    codes = rng.integers(0, 3, 30)
    m = np.arange(4)
    E = P @ m
    W = P @ m ** 2 - E ** 2
    C = (P * (m[None, :] - E[:, None]) ** 4).sum(axis=1)
    fit = element_fit(codes, 3, x - E, W, C)
    for e in range(3):
        on = codes == e
        z2 = (x[on] - E[on]) ** 2 / W[on]
        assert fit["outfit"][e] == pytest.approx(z2.mean())
        assert fit["infit"][e] == pytest.approx(((x[on] - E[on]) ** 2).sum() / W[on].sum())
        q = np.sqrt((C[on] / W[on] ** 2).sum() / on.sum() ** 2 - 1 / on.sum())
        expected = (z2.mean() ** (1 / 3) - 1) * 3 / q + q / 3
        assert fit["outfit_z"][e] == pytest.approx(expected)


def test_separation_matches_the_formulas():
    measure = np.array([-1.0, 0.0, 0.5, 2.0])
    se = np.array([0.3, 0.2, 0.2, 0.4])
    row = separation_statistics(measure, se).iloc[0]
    true_var = measure.var() - np.mean(se ** 2)
    assert row["reliability"] == pytest.approx(true_var / measure.var())
    assert row["separation"] == pytest.approx(np.sqrt(true_var / np.mean(se ** 2)))
    assert row["strata"] == pytest.approx((4 * row["separation"] + 1) / 3)


def test_inputs_are_not_modified(org):
    before = org.ratings.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calibrate_rasch(org.ratings, interactions=())
    pd.testing.assert_frame_equal(org.ratings, before)


def test_a_rater_skipping_a_middle_category_is_shrunk_and_named(org):
    ratings = org.ratings.copy()
    rater = ratings["rater"].value_counts().index[0]
    on = ratings["rater"] == rater
    middle = sorted(ratings.loc[on, "score"].unique())[1:-1]
    ratings.loc[on & (ratings["score"] == middle[0]), "score"] = middle[-1] if len(middle) > 1 \
        else ratings.loc[on, "score"].max()
    with pytest.warns(CalibrationWarning, match=rf"middle category unused \({rater}\)"):
        res = calibrate_rasch(ratings, thresholds="rater", interactions=())
    assert res.converged
    assert np.isfinite(res.thresholds.query("group == @rater")["threshold"]).all()


def test_cli_model_rasch_writes_its_files(org, tmp_path, capsys):
    from workbench.cli import main

    path = tmp_path / "ratings.csv"
    org.ratings.to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--model", "rasch", "--thresholds", "skill",
                 "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert {"calibrated_scores.csv", "wright_map.png"} <= names
    assert (out / "analyst" / "rasch_measures.csv").is_file()
    scores = as_scores(out / "calibrated_scores.csv")
    assert (scores["estimator"] == "fair_average").all()
    assert main(["calibrate", str(path), "--model", "rasch", "--connectivity", "separate",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "connectivity='separate'" in capsys.readouterr().err


def test_wright_map_labels_sources_and_facets_for_people(res, org):
    """The Wright map names sources and facets in the report's words, never by code."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from workbench.calibration.rasch.figures import plot_wright_map

    fig = plot_wright_map(res)
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    titles = {ax.get_title() for ax in fig.axes}
    plt.close(fig)
    codes = set(org.ratings["source"].unique())
    assert "direct_report" in codes and "Direct reports" in texts and "Manager" in texts
    assert not (texts | titles) & codes
    assert {"People", "Raters", "Skills", "Sources", "Rating scale"} <= titles
