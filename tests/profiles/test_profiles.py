"""Tests for workbench.profiles.select and workbench.profiles.gaussian_mixture: truth recovery, mclust agreement, errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from workbench.errors import ConfigError, InputError, ModelError
from workbench.profiles.gaussian_mixture import fit_mixture, sample_mixture
from workbench.profiles.inputs import ProfileWarning
from workbench.profiles.likelihood_ratio import vlmr_test
from workbench.profiles.select import ProfileModel, find_profiles
from workbench.profiles.structures import STRUCTURES, n_parameters
from workbench.synth.generator import generate_organisation

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mclust"
QUICK = dict(n_bootstrap=0, vlmr=False, random_state=0)


def _raw_means(org) -> pd.DataFrame:
    r = org.ratings
    r = r[(r["source"] != "self") & (r["wave"] == 1)]
    return r.groupby(["ratee", "skill"])["score"].mean().unstack()


def _truth_labels(org, ratees) -> np.ndarray:
    return org.truth["profiles"].set_index("person").loc[list(ratees), "profile"].to_numpy()


def _blobs(n_per=(80, 80), shift=4.0, d=3, seed=0):
    rng = np.random.default_rng(seed)
    # blob j centred at shift * e_j (then -shift * e_(j-d)): equal distances between blobs
    centres = np.vstack([np.eye(d), -np.eye(d)]) * shift
    parts = [rng.normal(0, 1, (m, d)) + centres[j] for j, m in enumerate(n_per)]
    x = np.vstack(parts)
    labels = np.repeat(np.arange(len(n_per)), n_per)
    frame = pd.DataFrame(x, columns=[f"S{j}" for j in range(d)],
                         index=[f"P{i:03d}" for i in range(len(x))])
    return frame, labels


# ------------------------------------------------------------------------ against mclust


def test_matches_mclust_choice_and_reaches_its_loglik():
    x = pd.read_csv(FIXTURES / "scores.csv", index_col=0)
    ref = pd.read_csv(FIXTURES / "mclust_bic.csv")
    best = pd.read_csv(FIXTURES / "mclust_best.csv").iloc[0]
    models = tuple(ref["model"].unique())
    res = find_profiles(x, k_max=8, models=models, **QUICK)
    assert (res.model, res.k) == (best["model"], best["k"])
    ref = ref.rename(columns={"bic": "bic_of_mclust", "loglik": "loglik_mclust"})
    table = res.model_selection.merge(ref, on=["model", "k"])
    assert len(table) == len(ref)
    # mclust's parameter count and BIC sign convention
    assert (table["n_parameters"] == table["npar"]).all()
    np.testing.assert_allclose(table["bic_mclust"], 2 * table["loglik"]
                               - table["n_parameters"] * np.log(len(x)))
    fitted = table[table["loglik_mclust"].notna()]
    short = fitted["loglik"] < fitted["loglik_mclust"] - 1e-4 * fitted["loglik_mclust"].abs()
    assert not short.any(), fitted.loc[short, ["model", "k", "loglik", "loglik_mclust"]]
    assert abs(res.model_selection.loc[res.model_selection["selected"], "bic_mclust"].iloc[0]
               - best["bic"]) < 1e-3 * abs(best["bic"])


# ------------------------------------------------------------------------ truth recovery


@pytest.mark.parametrize("seed, n_profiles", [(1, 4), (3, 3), (4, 5)])
def test_recovers_true_profiles_from_raw_means(seed, n_profiles):
    org = generate_organisation(300, seed=seed, n_profiles=n_profiles, n_waves=1)
    scores = _raw_means(org)
    res = find_profiles(scores, k_max=6, models=("EII", "VVI", "EEE", "VVV"), n_starts=10,
                        **QUICK)
    assert res.k == n_profiles
    ari = adjusted_rand_score(_truth_labels(org, res.assignments["person"]),
                              res.assignments["profile"])
    assert ari >= 0.8


#: Recovery over seeds (issue 13): 400 people, raw means of the non-self ratings of the synth
#: organisation (rater leniency, halo and noise included), 3, 4 and 5 true profiles, 10 seeds
#: each, the default grid (8 structures, k = 1..7). Measured: 30 of 30 runs chose the true k
#: with ARI >= 0.85 (lowest ARI 0.87, with 5 profiles). Margin: at most 2 of the 30 may miss;
#: were the true success rate 0.97, 3 or more misses would happen 6% of the time.
RECOVERY_SEEDS = range(100, 110)
RECOVERY_ARI = 0.85
RECOVERY_MISSES = 2


@pytest.mark.slow
def test_true_k_and_ari_over_seeds():
    misses = []
    for n_profiles in (3, 4, 5):
        for seed in RECOVERY_SEEDS:
            org = generate_organisation(400, seed=seed, n_profiles=n_profiles, n_waves=1)
            r = org.ratings[org.ratings["source"] != "self"]
            scores = r.groupby(["ratee", "skill"])["score"].mean().unstack()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ProfileWarning)
                res = find_profiles(scores, k_max=7, n_bootstrap=0, vlmr=False)
            ari = adjusted_rand_score(_truth_labels(org, res.assignments["person"]),
                                      res.assignments["profile"])
            if res.k != n_profiles or ari < RECOVERY_ARI:
                misses.append((n_profiles, seed, res.k, round(ari, 3)))
    assert len(misses) <= RECOVERY_MISSES, misses


def test_recovers_true_profiles_from_calibrated_demo_scores():
    from workbench.calibration.calibrate import calibrate_ratings

    org = generate_organisation(300, seed=2026, n_waves=1)
    cal = calibrate_ratings(org.ratings)
    res = find_profiles(cal, k_max=6, people=org.people, n_starts=10, **QUICK)
    assert res.k == 4
    ari = adjusted_rand_score(_truth_labels(org, res.assignments["person"]),
                              res.assignments["profile"])
    assert ari >= 0.8
    assert "calibrated scores" in res.notes[0]
    assert any("reliability" in note for note in res.notes)  # the SEs were used


def test_raw_ratings_warn_that_they_are_not_calibrated():
    org = generate_organisation(120, seed=8, n_waves=1)
    with pytest.warns(ProfileWarning, match="not calibrated|raw means"):
        res = find_profiles(org.ratings, k_max=3, models=("EEE",), **QUICK)
    assert res.scores.shape == (120, 8)


# ------------------------------------------------------------------------ the EM engine


@pytest.mark.parametrize("structure", STRUCTURES)
def test_each_structure_respects_its_constraint(structure):
    rng = np.random.default_rng(3)
    x = np.vstack([rng.normal(0, [1, 2, 0.5], (150, 3)),
                   rng.normal([5, 0, 2], [2, 0.7, 1], (150, 3))])
    fit = fit_mixture(x, 2, structure, n_starts=6, random_state=1)
    cov = fit.covariances
    det = np.linalg.det(cov)
    off = cov - np.array([np.diag(np.diag(c)) for c in cov])
    if structure in ("EII", "VII", "EEI", "VEI", "EVI", "VVI"):
        assert np.allclose(off, 0)
    if structure[0] == "E":  # equal volume
        assert np.isclose(det[0], det[1], rtol=1e-8)
    if structure in ("EII", "VII"):
        assert np.allclose(cov[:, 0, 0], cov[:, 1, 1]) and np.allclose(cov[:, 1, 1],
                                                                       cov[:, 2, 2])
    if structure in ("EEI", "VEI"):  # equal shape: proportional diagonals
        ratio = np.diag(cov[0]) / np.diag(cov[1])
        assert np.allclose(ratio, ratio[0], rtol=1e-6)
    if structure == "EEE":
        assert np.allclose(cov[0], cov[1])
    if structure == "EEV":  # same eigenvalues, other orientation
        assert np.allclose(np.linalg.eigvalsh(cov[0]), np.linalg.eigvalsh(cov[1]), rtol=1e-6)
    # EM never lowers the likelihood below a simpler nested start: k=2 beats k=1
    one = fit_mixture(x, 1, structure, random_state=1)
    assert fit.loglik > one.loglik
    assert fit.n_parameters == n_parameters(structure, 2, 3)


def test_mixture_recovers_generating_parameters():
    rng = np.random.default_rng(11)
    truth = fit_mixture(rng.normal(size=(50, 2)), 1, "VVV", random_state=0)
    truth.weights = np.array([0.3, 0.7])
    truth.means = np.array([[0.0, 0.0], [4.0, 1.0]])
    truth.covariances = np.array([[[1.0, 0.5], [0.5, 1.0]], [[0.5, 0.0], [0.0, 2.0]]])
    x, _ = sample_mixture(truth, 4000, rng)
    fit = fit_mixture(x, 2, "VVV", random_state=0)
    order = np.argsort(fit.means[:, 0])
    assert np.allclose(fit.weights[order], truth.weights, atol=0.03)
    assert np.allclose(fit.means[order], truth.means, atol=0.1)
    assert np.allclose(fit.covariances[order], truth.covariances, atol=0.15)


def test_large_samples_use_a_subset_for_starts_and_all_rows_at_the_end():
    rng = np.random.default_rng(2)
    x = np.vstack([rng.normal(0, 1, (3000, 2)), rng.normal(5, 1, (3000, 2))])
    small = fit_mixture(x, 2, "EII", subset=500, random_state=0)
    full = fit_mixture(x, 2, "EII", subset=10_000, random_state=0)
    assert small.resp.shape == (6000, 2)
    assert small.loglik == pytest.approx(full.loglik, rel=1e-7)


# ------------------------------------------------------------------------ tests of k


def test_vlmr_rejects_one_profile_for_two_and_not_for_noise():
    frame, _ = _blobs((120, 120), shift=3.0, d=2, seed=4)
    x = frame.to_numpy()
    one, two = (fit_mixture(x, k, "EEE", random_state=0) for k in (1, 2))
    lr, p = vlmr_test(x, one, two)
    assert lr > 0 and p < 0.01
    rng = np.random.default_rng(5)
    noise = rng.normal(size=(240, 2))
    one, two = (fit_mixture(noise, k, "EEE", random_state=0) for k in (1, 2))
    assert vlmr_test(noise, one, two)[1] > 0.05


def test_blrt_and_vlmr_columns_for_the_chosen_structure():
    frame, _ = _blobs((60, 60), shift=5.0, d=2, seed=6)
    res = find_profiles(frame, k_max=3, models=("EII",), blrt=True, n_blrt=19, n_bootstrap=0,
                        random_state=2)
    assert res.k == 2
    sel = res.model_selection.set_index("k")
    assert sel.loc[2, "blrt_p_value"] == pytest.approx(1 / 20)  # no resample beats 2 vs 1
    assert sel.loc[3, "blrt_p_value"] > 0.05
    assert sel.loc[2, "vlmr_p_value"] < 0.01
    assert np.isnan(sel.loc[1, "blrt_p_value"])


# ------------------------------------------------------------------------ results


def test_statistics_of_the_fit_table():
    frame, labels = _blobs((100, 60, 40), shift=6.0, d=3, seed=1)
    res = find_profiles(frame, k_max=4, models=("VVI", "EEE"), **QUICK)
    assert (res.model, res.k) in (("VVI", 3), ("EEE", 3))
    t = res.model_selection
    n = len(frame)
    np.testing.assert_allclose(t["aic"], -2 * t["loglik"] + 2 * t["n_parameters"])
    np.testing.assert_allclose(t["caic"], t["bic"] + t["n_parameters"])
    np.testing.assert_allclose(t["sabic"], -2 * t["loglik"]
                               + t["n_parameters"] * np.log((n + 2) / 24))
    assert (t["icl"] >= t["bic"] - 1e-9).all()
    assert t.loc[t["k"] == 1, "entropy"].isna().all()
    chosen = t[t["selected"]].iloc[0]
    assert chosen["entropy"] > 0.95 and chosen["smallest_n"] == 40
    assert chosen["n_at_best"] >= 2  # well separated: several starts find the maximum
    assert adjusted_rand_score(labels, res.assignments["profile"]) > 0.95
    # profiles numbered by size, largest first
    assert res.profile_summary["size"].tolist() == [100, 60, 40]
    assert res.assignments["probability"].between(0, 1).all()
    assert np.allclose(res.probabilities.sum(axis=1), 1)


def test_personas_sizes_and_composition():
    frame, labels = _blobs((90, 60), shift=5.0, d=3, seed=2)
    frame.columns = ["Strategy", "Feedback", "Planning"]
    people = pd.DataFrame({"person": frame.index,
                           "role": np.where(labels == 0, "Manager", "Specialist"),
                           "level": "senior"})
    res = find_profiles(frame, k_max=3, models=("EEI",), people=people, **QUICK)
    summary = res.profile_summary.set_index("profile")
    assert summary.loc[1, "size"] == 90 and summary.loc[1, "roles"] == "Manager 100%"
    # profile 2 (the second blob) stands out in Feedback, the second skill
    assert summary.loc[2, "persona"].startswith("Well above the organisation in Feedback")
    assert summary.loc[1, "persona"].startswith("Above the organisation in Strategy")
    assert "below in Feedback" in summary.loc[1, "persona"]
    assert summary.loc[2, "label"] == "High Feedback, low Strategy"
    assert summary.loc[2, "levels"] == "senior 100%"
    assert set(res.composition.columns) == {"profile", "variable", "value", "n", "share"}
    assert "Manager 100%" in res.summary() and "<table" in res._repr_html_()
    ci = res.conf_int()
    assert (ci["ci_low"] < res.params).all() and (res.params < ci["ci_high"]).all()


def test_same_seed_same_profiles_and_numbering():
    org = generate_organisation(200, seed=9, n_waves=1)
    scores = _raw_means(org)
    kwargs = dict(k_max=4, models=("EEE", "VVI"), n_starts=6, n_bootstrap=4, vlmr=False,
                  random_state=7)
    a = find_profiles(scores, n_jobs=1, **kwargs)
    b = find_profiles(scores.sample(frac=1.0, random_state=1), **kwargs)  # rows shuffled
    c = find_profiles(scores, n_jobs=2, **kwargs)  # workers do not change the result
    pd.testing.assert_frame_equal(a.model_selection, c.model_selection)
    pd.testing.assert_frame_equal(a.assignments, c.assignments)
    pd.testing.assert_frame_equal(a.stability, c.stability)
    # settings record the workers used: None is one worker (scikit-learn's meaning)
    assert (a.settings["n_jobs"], b.settings["n_jobs"], c.settings["n_jobs"]) == (1, 1, 2)
    merged = a.assignments.merge(b.assignments, on="person")
    assert (merged["profile_x"] == merged["profile_y"]).mean() > 0.97
    assert a.profile_summary["persona"].tolist() == c.profile_summary["persona"].tolist()


def test_stability_flags_small_and_unstable_profiles():
    frame, _ = _blobs((150, 150, 9), shift=6.0, d=2, seed=3)
    res = find_profiles(frame, k_max=4, models=("EII",), n_bootstrap=25, vlmr=False,
                        random_state=3)
    assert res.k == 3
    st = res.stability.set_index("profile")
    assert st.loc[3, "small"] and not st.loc[1, "small"]
    assert st.loc[1, "jaccard"] > 0.9 and st.loc[1, "stable"]
    assert res.adjusted_rand["estimate"] > 0.9 and res.adjusted_rand["n"] == 25
    assert res.profile_summary.loc[2, "small"]  # row of profile 3
    # noise has no stable profiles when forced to two
    noise = pd.DataFrame(np.random.default_rng(4).normal(size=(200, 2)), columns=["a", "b"])
    forced = find_profiles(noise, k_max=2, models=("VVV",), criterion="aic", n_bootstrap=25,
                           vlmr=False, random_state=3)
    if forced.k == 2:
        assert forced.stability["jaccard"].min() < 0.9


@pytest.mark.parametrize("method", ["kmeans", "ward"])
def test_kmeans_and_ward_choose_by_silhouette(method):
    frame, labels = _blobs((70, 70, 70), shift=6.0, d=3, seed=5)
    res = find_profiles(frame, k_max=5, method=method, n_starts=4, n_bootstrap=5,
                        random_state=0)
    assert res.k == 3 and res.model == method
    assert res.model_selection.loc[res.model_selection["selected"], "silhouette"].iloc[0] == \
        res.model_selection["silhouette"].max()
    assert adjusted_rand_score(labels, res.assignments["profile"]) > 0.95
    assert (res.assignments["probability"] == 1).all()
    assert res.stability is not None


def test_predict_and_estimator_form():
    frame, labels = _blobs((80, 80), shift=5.0, d=2, seed=7)
    model = ProfileModel(k_max=3, models=("EII",), n_bootstrap=0, vlmr=False, random_state=0)
    with pytest.raises(ModelError, match="fit"):
        model.predict(frame)
    model.fit(frame)
    pred = model.predict(frame.iloc[:10])
    assert pred["profile"].tolist() == model.result_.assignments["profile"][:10].tolist()


def test_figures_are_returned_not_shown():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    frame, _ = _blobs((60, 60), shift=5.0, d=3, seed=8)
    res = find_profiles(frame, k_max=3, models=("EII", "VVI"), **QUICK)
    before = plt.get_fignums()
    for fig in (res.plot_means(), res.plot_bic(), res.plot_projection()):
        assert isinstance(fig, Figure) and fig.axes
    assert plt.get_fignums() == before


# ------------------------------------------------------------------------ input


def test_long_tables_waves_and_missing_skills():
    org = generate_organisation(100, seed=12, n_waves=2)
    r = org.ratings[org.ratings["source"] != "self"]
    long = r.groupby(["ratee", "skill", "wave"])["score"].mean().reset_index()
    res2 = find_profiles(long, k_max=2, models=("EII",), **QUICK)  # latest wave by default
    res1 = find_profiles(long, k_max=2, models=("EII",), wave=1, **QUICK)
    assert not res1.scores.equals(res2.scores)
    with pytest.raises(ConfigError, match="wave=3"):
        find_profiles(long, k_max=2, wave=3, **QUICK)
    one = long[long["wave"] == 1].drop(columns="wave")
    one = one[~((one["ratee"] == one["ratee"].iloc[0]) & (one["skill"] == "Planning"))]
    with pytest.warns(ProfileWarning, match="1 people without a score"):
        res = find_profiles(one, k_max=2, models=("EII",), **QUICK)
    assert len(res.scores) == 99


def test_bad_input_is_reported_by_name():
    frame, _ = _blobs((30, 30), d=2)
    with pytest.raises(ConfigError, match="method='pam'"):
        find_profiles(frame, method="pam")
    with pytest.raises(ConfigError, match="XYZ"):
        find_profiles(frame, models=("EII", "XYZ"))
    with pytest.raises(ConfigError, match="k_max=60"):
        find_profiles(frame, k_max=60)
    with pytest.raises(ConfigError, match="n_starts=0"):
        find_profiles(frame, n_starts=0)
    with pytest.raises(ConfigError, match="criterion"):
        find_profiles(frame, criterion="likelihood")
    flat = frame.assign(S1=3.0)
    with pytest.raises(InputError, match="'S1' has the same score"):
        find_profiles(flat, k_max=2)
    with pytest.raises(InputError, match="at least 10 people"):
        find_profiles(frame.iloc[:5], k_max=2)
    with pytest.raises(InputError, match="not numeric"):
        find_profiles(frame.assign(S0="high"), k_max=2)
    dup = pd.DataFrame({"ratee": ["a", "a"], "skill": ["x", "x"], "score": [1.0, 2.0]})
    with pytest.raises(InputError, match="more than one score"):
        find_profiles(dup)
    with pytest.raises(InputError, match="expected a Calibration"):
        find_profiles([[1, 2], [3, 4]])
    with pytest.raises(InputError, match="'person' column"):
        find_profiles(frame, k_max=2, people=pd.DataFrame({"id": [1]}), **QUICK)


# ------------------------------------------------------------------------ CLI


def test_cli_writes_profiles_and_rejects_bad_input(tmp_path, capsys):
    from workbench.cli import main

    org = generate_organisation(150, seed=13, n_waves=1)
    r = org.ratings[org.ratings["source"] != "self"]
    long = r.groupby(["ratee", "skill"])["score"].mean().reset_index()
    long.to_csv(tmp_path / "scores.csv", index=False)
    org.people.to_csv(tmp_path / "people.csv", index=False)
    out = tmp_path / "out"
    code = main(["profiles", str(tmp_path / "scores.csv"), "--k-max", "4", "--models", "EEE",
                 "VVI", "--n-starts", "8", "--no-vlmr", "--people", str(tmp_path / "people.csv"), "--seed", "1",
                 "--bootstrap", "3", "--out", str(out)])
    assert code == 0
    for name in ("profile_assignments.csv", "profile_summary.csv", "model_selection.csv",
                 "profile_means.png", "bic.png", "projection.png"):
        assert (out / name).is_file(), name
    assigned = pd.read_csv(out / "profile_assignments.csv")
    assert assigned.columns.tolist() == ["person", "profile", "probability", "persona"]
    assert len(assigned) == 150
    assert "persona" in pd.read_csv(out / "profile_summary.csv").columns
    # nothing is overwritten; bad values and names exit with code 2
    assert main(["profiles", str(tmp_path / "scores.csv"), "--out", str(out)]) == 2
    long["score"] = long["score"].astype(object)
    long.loc[3, "score"] = "n/a"
    long.to_csv(tmp_path / "bad.csv", index=False)
    assert main(["profiles", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "row 5" in err and "'score'" in err
    assert main(["profiles", str(tmp_path / "scores.csv"), "--models", "ABC",
                 "--out", str(tmp_path / "o3")]) == 2


def test_no_warning_noise_on_clean_input():
    frame, _ = _blobs((40, 40), d=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        find_profiles(frame, k_max=2, models=("EII",), **QUICK)


def test_vlmr_is_not_computed_for_rotated_structures_and_notes_say_so():
    frame, _ = _blobs((50, 50), shift=5.0, d=2, seed=9)
    res = find_profiles(frame, k_max=3, models=("EEV",), n_bootstrap=0, random_state=0)
    assert res.model_selection["vlmr_p_value"].isna().all()
    assert res.model_selection["vlmr_lr"].notna().any()
    assert any("VLMR p-value not computed for EEV" in note for note in res.notes)


def test_large_samples_keep_the_better_of_two_subsets_hierarchical_starts():
    # Above `subset` rows every cell is also started from another subset's agglomeration
    # (issue 13: one subset's tree can miss the optimum mclust's subset reaches). With no
    # generated starts, the fit must reach what EM from the good start reaches on its own.
    from workbench.profiles.gaussian_mixture import refine_mixture

    rng = np.random.default_rng(5)
    truth = np.repeat(np.arange(4), 600)
    x = rng.normal(0, 1, (2400, 3)) + 8.0 * np.vstack([np.eye(3), -np.eye(3)[:1]])[truth]
    rows_a = np.sort(rng.choice(2400, 1000, replace=False))
    rows_b = np.sort(rng.choice(2400, 1000, replace=False))
    # a poor partition of subset a: two true groups as one, another cut in two (a local
    # optimum EM does not leave when the groups are far apart)
    ta = truth[rows_a]
    bad = np.select([ta <= 1, ta == 2, x[rows_a, 1] > 0], [0, 1, 2], 3)
    good = truth[rows_b]
    on_b = refine_mixture(x[rows_b], np.eye(4)[good], "EEI", tol=1e-5)
    alone = refine_mixture(x, on_b.predict_proba(x), "EEI", tol=1e-5)
    on_a = refine_mixture(x[rows_a], np.eye(4)[bad], "EEI", tol=1e-5)
    from_bad = refine_mixture(x, on_a.predict_proba(x), "EEI", tol=1e-5)
    assert alone.loglik > from_bad.loglik + 10  # the two starts end apart
    fit = fit_mixture(x, 4, "EEI", n_starts=0, subset=1000, subset_rows=rows_a,
                      hc_labels=bad, other_anchors=[(rows_b, good)], random_state=0)
    assert fit.loglik >= alone.loglik - 1e-5 * abs(alone.loglik)
    assert adjusted_rand_score(truth, np.argmax(fit.resp, axis=1)) > 0.95


def test_adjusted_rand_agrees_with_scikit_learn():
    """The bootstrap's adjusted Rand index (written out to spare each worker the import of
    scikit-learn) against scikit-learn's on random, related and degenerate labelings."""
    from workbench.profiles.stability import adjusted_rand

    rng = np.random.default_rng(7)
    cases = [([0] * 5, [0] * 5), ([0, 1, 2], [0, 1, 2]), ([0] * 4, [0, 1, 2, 3]), ([1], [2])]
    for _ in range(200):
        n = int(rng.integers(2, 80))
        a = rng.integers(0, int(rng.integers(1, 6)), n)
        b = a.copy()
        b[: n // 4] = rng.integers(0, 4, n // 4)
        cases += [(a, b), (a, rng.integers(0, 3, n))]
    for a, b in cases:
        assert adjusted_rand(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)
