"""Calibration recovers known truth on synthetic organisations; errors and CLI behave."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.calibrate import (
    CalibrationWarning,
    calibrate_ratings,
    rater_network,
)
from workbench.calibration.handover import calibrated_matrix
from workbench.calibration.reliability.summary import reliability_table
from workbench.cli import main
from workbench.errors import ConfigError, InputError, ModelError
from workbench.synth.generator import generate_organisation, write_organisation

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


def _merge_truth(cal, org, wave=1):
    truth = org.truth["true_scores"]
    truth = truth[truth["wave"] == wave]
    scores = cal.scores
    if "wave" in scores:
        scores = scores[scores["wave"] == wave]
    return scores.merge(truth, on=["person", "skill"])


@pytest.fixture(scope="module")
def org300():
    return generate_organisation(300, seed=11, n_waves=1)


@pytest.fixture(scope="module")
def cal300(org300):
    return calibrate_ratings(org300.ratings)


def test_calibrated_scores_beat_raw_means(org300, cal300):
    m = _merge_truth(cal300, org300)
    assert len(m) == len(cal300.scores)
    r_cal = np.corrcoef(m["score"], m["true_score"])[0, 1]
    r_raw = np.corrcoef(m["raw_mean"], m["true_score"])[0, 1]
    rmse_cal = np.sqrt(np.mean((m["score"] - m["true_score"]) ** 2))
    rmse_raw = np.sqrt(np.mean((m["raw_mean"] - m["true_score"]) ** 2))
    assert r_cal > r_raw + 0.01
    assert rmse_cal < 0.85 * rmse_raw


def test_intervals_are_the_normal_95_percent_intervals(org300, cal300):
    m = _merge_truth(cal300, org300)
    np.testing.assert_allclose(m["ci_high"] - m["score"], 1.959964 * m["se"], rtol=1e-5)
    np.testing.assert_allclose(m["score"] - m["ci_low"], 1.959964 * m["se"], rtol=1e-5)


# Coverage over several organisations. One organisation of 2,400 scores has a coverage SD of
# 0.006 between seeds (scores of one person share raters: a design effect of about 1.8 over the
# binomial 0.0044), so one organisation with a window 0.90-0.99 passed SEs 20 % too small.
# Pooled over COVERAGE_SEEDS organisations, the window is 0.95 +- (ALLOWANCE + 3 binomial SEs
# inflated by DESIGN_EFFECT). ALLOWANCE is what the model may honestly miss by (measured over 8
# seeds: 0.9466 with ratings rounded to whole points at 300 people, 0.9426 continuous at 200).
# SEs 10 % too small cover about 0.917 (rounded) and 0.912 (continuous), 10 % too large about
# 0.967: all far outside (the lead's check multiplies the SEs by 0.9 and sees this test fail).
COVERAGE_SEEDS = range(1, 13)
DESIGN_EFFECT = 2.0
COVERAGE_CASES = {"whole points": (300, "integer", 0.005), "continuous": (200, None, 0.010)}


def _pooled_coverage(n_people, rounding):
    covered, n = 0, 0
    for seed in COVERAGE_SEEDS:
        org = generate_organisation(n_people, seed=seed, n_waves=1, rounding=rounding)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CalibrationWarning)
            cal = calibrate_ratings(org.ratings)
        m = _merge_truth(cal, org)
        assert len(m) == n_people * 8
        covered += int(((m["ci_low"] <= m["true_score"]) & (m["true_score"] <= m["ci_high"])).sum())
        n += len(m)
    return covered / n, n


@pytest.mark.parametrize("case", sorted(COVERAGE_CASES))
def test_intervals_cover_the_truth_over_several_organisations(case):
    n_people, rounding, allowance = COVERAGE_CASES[case]
    coverage, n = _pooled_coverage(n_people, rounding)
    margin = allowance + 3 * np.sqrt(0.95 * 0.05 / n * DESIGN_EFFECT)
    assert margin < 0.02  # well inside the 0.033 by which SEs 10 % too small lower coverage
    print(f"{case}: coverage {coverage:.4f} of {n} scores, window 0.95 +- {margin:.4f}")
    assert abs(coverage - 0.95) <= margin, (case, coverage, n, margin)


def test_rater_effects_recover_leniency(org300, cal300):
    m = cal300.rater_effects.merge(org300.truth["rater_effects"], on="rater")
    assert len(m) == org300.ratings["rater"].nunique()
    assert np.corrcoef(m["effect"], m["leniency"])[0, 1] > 0.9
    assert (m["se"] > 0).all() and (m["n_ratings"] > 0).all()


def test_source_effects_recover_self_inflation(cal300):
    src = cal300.source_effects.set_index("source")
    # Truth: self +0.45 against the average non-self source (which is 0 by construction).
    assert src.loc["self", "estimate"] == pytest.approx(0.45, abs=0.1)
    assert src.loc["self", "ci_low"] > 0.2
    assert src.loc["self", "p_value"] < 1e-6
    others = src.drop("self")["estimate"]
    assert others.mean() == pytest.approx(0.0, abs=1e-9)


def test_result_object_and_matrix(cal300):
    vc = cal300.variance_components
    assert vc["component"].tolist() == ["ratee", "ratee:skill", "rater", "rater:ratee",
                                        "residual"]
    assert vc["share"].sum() == pytest.approx(1.0)
    assert "Source effects" in cal300.summary() and "<table" in cal300._repr_html_()
    assert cal300.to_frame().shape == cal300.scores.shape
    assert {"ci_low", "ci_high"} <= set(cal300.conf_int().columns)
    mat = calibrated_matrix(cal300)
    assert mat.shape == (300, 8)
    se = calibrated_matrix(cal300, value="se")
    assert (se.to_numpy() > 0).all()
    assert cal300.connectivity["n_ratings"].tolist() == [len(cal300.ratings)]


def test_manager_reference_shifts_scores(org300, cal300):
    # The manager offset is -0.10 in the truth. One organisation's shift varies with SD 0.027
    # between seeds (8 measured), so a window on one organisation would have to be +-0.08 and
    # would pass a shift of -0.03; pooled over 8 organisations the SD is 0.0095 and +-0.03 holds.
    cal = calibrate_ratings(org300.ratings, reference="manager", terms=("ratee", "ratee:skill",
                                                                        "rater"))
    src = cal.source_effects.set_index("source")
    assert src.loc["manager", "estimate"] == 0.0
    shifts = [(cal.scores["score"] - cal300.scores["score"]).mean()]
    for seed in range(1, 8):
        org = generate_organisation(300, seed=seed, n_waves=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CalibrationWarning)
            default = calibrate_ratings(org.ratings)
            manager = calibrate_ratings(org.ratings, reference="manager",
                                        terms=("ratee", "ratee:skill", "rater"))
        shifts.append((manager.scores["score"] - default.scores["score"]).mean())
    assert np.mean(shifts) == pytest.approx(-0.10, abs=0.03), shifts


def test_large_organisation_solver_matches_exact(org300, cal300, monkeypatch):
    import workbench.calibration.mixed.model as mixed

    # Force the iterative solver (used above 1,500 raters) on the 300-person organisation.
    monkeypatch.setattr(mixed, "DENSE_AUTO", 50)
    cal = calibrate_ratings(org300.ratings)
    assert cal.model.reml_criterion >= cal300.model.reml_criterion
    np.testing.assert_allclose(cal.scores["score"], cal300.scores["score"], atol=2e-3)
    rel = cal.scores["se"] / cal300.scores["se"] - 1
    assert rel.abs().max() < 0.05
    m = cal.rater_effects.merge(org300.truth["rater_effects"], on="rater")
    assert np.corrcoef(m["effect"], m["leniency"])[0, 1] > 0.9


def test_continuous_scores_recover_truth_closely():
    org = generate_organisation(200, seed=3, n_waves=1, rounding=None)
    cal = calibrate_ratings(org.ratings)
    m = _merge_truth(cal, org)
    assert np.corrcoef(m["score"], m["true_score"])[0, 1] > 0.9
    # Truth: rater SD 0.35, residual SD 0.45. Between seeds these estimates vary with SD 0.006
    # and 0.005 (8 seeds measured: means 0.345 and 0.442), so 0.02 is 3-4 of those SDs.
    vc = cal.variance_components.set_index("component")["sd"]
    assert vc["rater"] == pytest.approx(0.35, abs=0.02)
    assert vc["residual"] == pytest.approx(0.45, abs=0.02)


def test_joint_waves_on_the_demo():
    ratings = pd.read_csv(DEMO / "ratings.csv")
    truth = pd.read_csv(DEMO / "truth" / "true_scores.csv")
    cal = calibrate_ratings(ratings, waves="joint")
    assert sorted(cal.scores["wave"].unique()) == [1, 2]
    m = cal.scores.merge(truth, left_on=["person", "skill", "wave"],
                         right_on=["person", "skill", "wave"])
    for wave in (1, 2):
        part = m[m["wave"] == wave]
        assert np.corrcoef(part["score"], part["true_score"])[0, 1] > 0.85
    # Change between waves is recovered on one scale (raters anchor it across waves).
    wide = m.pivot_table(index=["person", "skill"], columns="wave",
                         values=["score", "true_score"])
    est = wide["score"][2] - wide["score"][1]
    true = wide["true_score"][2] - wide["true_score"][1]
    assert abs(est.mean() - true.mean()) < 0.05
    assert calibrated_matrix(cal, wave=1).shape == (300, 8)
    with pytest.raises(ConfigError, match="several|2 waves"):
        calibrate_ratings(ratings)


def _two_organisations():
    a = generate_organisation(60, seed=1, n_waves=1).ratings
    b = generate_organisation(40, seed=2, n_waves=1).ratings
    for col in ("ratee", "rater"):
        b[col] = "B-" + b[col]
    return pd.concat([a, b], ignore_index=True)


def test_disconnected_network_is_detected():
    ratings = _two_organisations()
    subsets = rater_network(ratings)
    assert sorted(subsets.unique()) == [1, 2]
    assert ratings.loc[subsets == 1, "ratee"].str.startswith("P").all()
    with pytest.raises(ModelError, match="2 subsets.*60 ratees.*40 ratees"):
        calibrate_ratings(ratings, connectivity="error")
    with pytest.warns(CalibrationWarning, match="largest"):
        cal = calibrate_ratings(ratings, connectivity="largest")
    assert cal.scores["person"].nunique() == 60
    assert cal.connectivity["fitted"].tolist() == [True, False]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sep = calibrate_ratings(ratings, connectivity="separate")
    assert sep.scores.groupby("subset")["person"].nunique().tolist() == [60, 40]
    assert set(sep.models) == {1, 2}


def _small():
    return generate_organisation(40, seed=8, n_waves=1).ratings


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda r: r.drop_duplicates("ratee"), "only one rating"),
        (lambda r: r.assign(score=3.0), "constant"),
    ],
)
def test_unidentifiable_ratings_raise(change, match):
    with pytest.raises(ModelError, match=match):
        calibrate_ratings(change(_small()))


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda r: r.assign(score=np.where(r["skill"] == "Planning", np.nan, r["score"])),
         "Planning.*no ratings"),
        (lambda r: r.drop(columns="source"), "lack column"),
    ],
)
def test_bad_ratings_raise_input_errors(change, match):
    with pytest.raises(InputError, match=match):
        calibrate_ratings(change(_small()))


def test_bad_options_raise():
    r = _small()
    with pytest.raises(ConfigError, match="terms"):
        calibrate_ratings(r, terms=("ratee", "boss"))
    with pytest.raises(ConfigError, match="reference='ceo'"):
        calibrate_ratings(r, reference="ceo")
    with pytest.raises(ConfigError, match="connectivity"):
        calibrate_ratings(r, connectivity="any")
    with pytest.raises(ConfigError, match="waves"):
        calibrate_ratings(r, waves="stacked")


def test_cli_writes_files_and_rejects_bad_input(tmp_path, capsys):
    org = generate_organisation(50, seed=6)
    folder = write_organisation(org, tmp_path / "org")
    out = tmp_path / "out"
    assert main(["calibrate", str(folder), "--out", str(out)]) == 0  # two waves: joint
    single = tmp_path / "wave1.csv"
    org.ratings[org.ratings["wave"] == 1].to_csv(single, index=False)
    assert main(["calibrate", str(single), "--out", str(tmp_path / "o1"),
                 "--terms", "ratee", "ratee:skill", "rater"]) == 0
    assert (tmp_path / "o1" / "calibrated_scores.csv").is_file()
    for name in ("calibrated_scores", "source_effects", "variance_components"):
        assert (out / f"{name}.csv").is_file()
    # rater ids only in the analyst's folder, never beside the client's tables
    assert (out / "analyst" / "rater_effects.csv").is_file()
    assert not (out / "rater_effects.csv").exists()
    scores = pd.read_csv(out / "calibrated_scores.csv")
    assert {"person", "skill", "score", "se", "raw_mean", "n_ratings"} <= set(scores.columns)
    assert "Variance components" in capsys.readouterr().out
    # Never overwrite an earlier run.
    assert main(["calibrate", str(folder), "--out", str(out)]) == 2
    assert main(["calibrate", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o2")]) == 2
    bad = tmp_path / "ratings.csv"
    org.ratings.drop(columns="score").to_csv(bad, index=False)
    assert main(["calibrate", str(bad), "--out", str(tmp_path / "o3")]) == 2
    assert "score" in capsys.readouterr().err


def test_cli_reliability_uses_the_survey_scale(tmp_path):
    """r_wg's uniform null comes from the scale file (1 to 7 here), not the observed range."""
    from workbench.calibration.reliability.summary import reliability_table
    from workbench.tables.data import Scale

    org = generate_organisation(90, seed=8, n_waves=1)
    write_organisation(org, tmp_path / "org")
    pd.DataFrame({"value": range(1, 8), "label": list("abcdefg")}).to_csv(
        tmp_path / "org" / "scale.csv", index=False
    )
    assert main(["calibrate", str(tmp_path / "org"), "--out", str(tmp_path / "cal")]) == 0
    written = pd.read_csv(tmp_path / "cal" / "reliability.csv").set_index("source")
    cal = calibrate_ratings(org.ratings)
    seven = reliability_table(cal, scale=Scale(1, 7, {})).set_index("source")
    five = reliability_table(cal, scale=Scale(1, 5, {})).set_index("source")
    np.testing.assert_allclose(written.loc["peer", "rwg"], seven.loc["peer", "rwg"], rtol=1e-6)
    assert seven.loc["peer", "rwg"] > five.loc["peer", "rwg"]


def _lq2002_ratings():
    """R multilevel's lq2002: 2,042 soldiers (raters), each rating their own company (ratee)
    on two scales (the mean of each scale's items): raters nested in ratees."""
    d = pd.read_csv(Path(__file__).resolve().parents[1] / "fixtures" / "multilevel"
                    / "lq2002.csv")
    scales = {"LEAD": [f"LEAD{i:02d}" for i in range(1, 12)],
              "TSIG": [f"TSIG{i:02d}" for i in range(1, 4)]}
    return pd.concat([pd.DataFrame({"ratee": d["COMPID"].astype(str),
                                    "rater": d["COMPID"].astype(str) + "-" + d["SUB"].astype(str),
                                    "source": "peer", "skill": skill,
                                    "score": d[items].mean(axis=1)})
                      for skill, items in scales.items()], ignore_index=True)


def test_raters_nested_in_ratees_are_fitted_together_as_lme4_does():
    """Each rater rates one ratee (49 groups no rater links): every group is calibrated, with
    'largest' and 'separate' alike, and the variance components and REML criterion equal
    lme4's (lmer(score ~ skill + (1|ratee) + (1|ratee:skill) + (1|rater)), fixture made by
    benchmarks/R/multilevel_fixture.R); what the design does not identify is said."""
    ratings = _lq2002_ratings()
    ref = pd.read_csv(Path(__file__).resolve().parents[1] / "fixtures" / "multilevel"
                      / "lq2002_lmer.csv").set_index("component")["variance"]
    for connectivity in ("largest", "separate"):
        with pytest.warns(CalibrationWarning, match="raters nested in ratees: 49 groups"):
            cal = calibrate_ratings(ratings, connectivity=connectivity)
        assert cal.scores["person"].nunique() == 49 and "subset" not in cal.scores
        assert cal.settings["design"] == "raters nested in ratees"
        assert cal.connectivity["fitted"].all() and len(cal.connectivity) == 49
        vc = cal.variance_components.set_index("component")["variance"]
        for ours, theirs in (("ratee", "ratee"), ("ratee:skill", "ratee:skill"),
                             ("rater", "rater"), ("residual", "Residual")):
            assert vc[ours] == pytest.approx(ref[theirs], rel=1e-5), ours
        assert cal.settings["reml_criterion"] == pytest.approx(ref["REML"], abs=1e-6)
        assert "rater:ratee" in set(cal.dropped["term"])
        text = cal.summary()
        assert "Not identified: a rater's leniency apart from their ratee's level" in text
    with pytest.raises(ModelError, match="49 subsets"):
        calibrate_ratings(ratings, connectivity="error")
    table = reliability_table(cal).set_index("source")
    assert table.loc["peer", "n_ratees"] == 49 and table.loc["peer", "g_coefficient"] > 0


def test_cli_calibrates_every_nested_group_and_writes_reliability(tmp_path, capsys):
    """Issue #25: on lq2002 (raters nested in 49 companies) the CLI used to calibrate 1 of 49
    groups, wrote no reliability table, and exited 2 with --connectivity separate. Now both
    fit all 49, write the reliability table and its notes (group sizes with the formula and
    reference), and say what the design does not identify."""
    path = tmp_path / "lq2002.csv"
    _lq2002_ratings().to_csv(path, index=False)
    for connectivity in ("largest", "separate"):
        out = tmp_path / connectivity
        assert main(["calibrate", str(path), "--out", str(out),
                     "--connectivity", connectivity]) == 0, capsys.readouterr().err
        err = capsys.readouterr().err
        assert "raters nested in ratees: 49 groups" in err and "Traceback" not in err
        scores = pd.read_csv(out / "calibrated_scores.csv")
        assert scores["person"].nunique() == 49 and len(scores) == 98
        table = pd.read_csv(out / "reliability.csv").set_index("source")
        assert table.loc["peer", "n_ratees"] == 49
        notes = (out / "reliability_notes.txt").read_text()
        assert "n0 = (N - sum n_g^2 / N) / (G - 1)" in notes and "harmonic mean" in notes
        assert "Bliese 2000" in notes and "Shrout & Fleiss 1979" in notes
        settings = json.loads((out / "settings.json").read_text())
        assert settings["design"] == "raters nested in ratees"
        assert "leniency" in settings["design_note"]
