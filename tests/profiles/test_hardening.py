"""Profiles on hostile input (issue 14): size rules, scores off the scale, bad options, files
named in errors, no empty folder after a failed run, the same output on every run."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.errors import ConfigError, InputError
from workbench.profiles.inputs import ProfileWarning
from workbench.profiles.select import MIN_PROFILE_SIZE, NUMBERS_PER_PARAMETER, find_profiles

QUICK = dict(n_bootstrap=0, vlmr=False)


def _long(n=60, seed=0, shift=3.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(3, 0.4, (n, 3))
    x[: n // 2, 0] += shift / 3
    frame = pd.DataFrame(x, columns=["Coaching", "Feedback", "Planning"])
    frame.insert(0, "person", [f"p{i:03d}" for i in range(n)])
    return frame.melt(id_vars="person", var_name="skill", value_name="score")


def test_ten_people_get_one_profile_under_the_size_rules():
    """80 numbers allow at most 16 parameters: only one profile is eligible."""
    rng = np.random.default_rng(1)
    wide = pd.DataFrame(rng.normal(3, 0.5, (10, 8)), columns=[f"S{j}" for j in range(8)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProfileWarning)
        res = find_profiles(wide, k_max=8, **QUICK)
    assert res.k == 1
    table = res.model_selection
    fitted = table[table["loglik"].notna()]
    rule = ((fitted["n_parameters"] * NUMBERS_PER_PARAMETER <= 80)
            & (fitted["smallest_n"] >= MIN_PROFILE_SIZE))
    assert (fitted["eligible"] == rule).all()
    assert not fitted.loc[fitted["k"] > 1, "eligible"].any()
    assert table.loc[table["selected"], "eligible"].all()


def test_an_ineligible_best_cell_is_named_in_a_warning():
    rng = np.random.default_rng(2)
    # 3 people far away: BIC likes a third profile of 3, which the size rule refuses
    x = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(8, 1, (60, 2)),
                   rng.normal([0, 30], 0.3, (3, 2))])
    with pytest.warns(ProfileWarning, match="breaks the size rules"):
        res = find_profiles(pd.DataFrame(x, columns=["a", "b"]), k_max=3, models=("EII",),
                            **QUICK)
    assert res.k == 2
    assert any("size rules" in note for note in res.notes)


def test_scores_off_the_scale_are_refused_with_person_skill_and_value():
    long = _long()
    long.loc[4, "score"] = 17.0
    with pytest.raises(InputError, match=r"p004.*Coaching.*off the rating scale \(1 to 5, "
                       r"from scale=\(1, 5\)\).*17"):
        find_profiles(long, scale=(1, 5), k_max=2, **QUICK)
    long.loc[4, "score"] = 5.4  # calibration may move a score a little past the end
    assert find_profiles(long, scale=(1, 5), k_max=2, **QUICK).k >= 1


def test_options_are_checked_before_anything_runs():
    long = _long()
    for kwargs, text in ((dict(n_jobs=0), "n_jobs=0"), (dict(random_state=-1), "random_state"),
                         (dict(k_max=0), "k_max=0"), (dict(alpha=2), "alpha=2")):
        with pytest.raises(ConfigError, match=text):
            find_profiles(long, **kwargs)


@pytest.mark.parametrize("option, text", [(["--jobs", "0"], "--jobs=0"),
                                          (["--seed", "-1"], "--seed=-1"),
                                          (["--scale", "5", "1"], "--scale")])
def test_cli_bad_options_exit_2_and_leave_no_folder(tmp_path, capsys, option, text):
    _long().to_csv(tmp_path / "scores.csv", index=False)
    out = tmp_path / "out"
    assert main(["profiles", str(tmp_path / "scores.csv"), "--out", str(out), *option]) == 2
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err
    assert not out.exists()


def test_cli_errors_name_the_file_and_a_failed_run_leaves_no_folder(tmp_path, capsys):
    long = _long()
    long.loc[7, "score"] = 17.0
    path = tmp_path / "calibrated_scores.csv"
    long.to_csv(path, index=False)
    out = tmp_path / "out"
    assert main(["profiles", str(path), "--out", str(out), "--bootstrap", "0"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "<input>" not in err and "off the rating scale" in err
    assert not out.exists()
    assert main(["profiles", str(tmp_path / "missing.csv"), "--out", str(out)]) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert not out.exists()


def test_two_runs_without_a_seed_give_the_same_files(tmp_path):
    _long(n=80, shift=6.0).to_csv(tmp_path / "scores.csv", index=False)
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert main(["profiles", str(tmp_path / "scores.csv"), "--k-max", "3", "--models",
                     "EII", "VVI", "--bootstrap", "5", "--no-vlmr", "--out", str(out)]) == 0
    for name in ("profile_assignments.csv", "model_selection.csv", "stability.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(outs[0] / name), pd.read_csv(outs[1] / name))
    a = find_profiles(_long(n=80, shift=6.0), k_max=3, models=("EII",), n_bootstrap=5, vlmr=False)
    b = find_profiles(_long(n=80, shift=6.0), k_max=3, models=("EII",), n_bootstrap=5, vlmr=False)
    pd.testing.assert_frame_equal(a.stability, b.stability)
    assert a.settings["random_state"] == 2026


def test_stability_reports_its_monte_carlo_error():
    res = find_profiles(_long(n=80, shift=6.0), k_max=2, models=("EII",), n_bootstrap=20,
                        vlmr=False)
    st = res.stability
    assert {"jaccard", "jaccard_mc_se", "n"} <= set(st.columns)
    # the Monte Carlo error is sd / sqrt(B) of the resampled Jaccards: between 0 and 0.5/sqrt(B)
    assert ((st["jaccard_mc_se"] >= 0) & (st["jaccard_mc_se"] <= 0.5 / np.sqrt(20))).all()
    assert 0 <= res.adjusted_rand["mc_se"] <= 0.5 / np.sqrt(20)


def test_parallel_workers_give_the_serial_results_after_openmp_was_used():
    """Forked workers return what the serial loop returns, in order, also when the parent
    has already run scikit-learn's OpenMP k-means (GNU OpenMP's threads do not survive a
    fork: the workers run on one thread, or k-means in a worker would wait forever)."""
    from sklearn.cluster import KMeans

    from workbench.profiles.parallel import parallel_map

    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 4))
    KMeans(3, n_init=1, random_state=0).fit(x)  # the parent's OpenMP pool now exists

    def labels(seed):
        return KMeans(3, n_init=1, random_state=seed).fit_predict(x)

    arguments = [(s,) for s in range(4)]
    serial = [labels(*a) for a in arguments]
    parallel = parallel_map(labels, arguments, n_jobs=2)
    assert all(np.array_equal(a, b) for a, b in zip(serial, parallel, strict=True))


def test_large_sample_grid_is_the_same_on_one_worker_and_two():
    """Above 2,000 people (two agglomerated subsets, side by side in threads with two
    workers; the grid, then rounds of donor refits, over forked workers) every cell's fit is
    the same as on one worker."""
    from workbench.profiles.select import _fit_grid

    rng = np.random.default_rng(4)
    x = rng.normal(size=(2300, 4)) + 2.5 * np.eye(4)[rng.integers(0, 4, 2300)]
    serial = _fit_grid(x, ("EEI", "VVI", "EEE"), 3, 4, 11, 1)
    parallel = _fit_grid(x, ("EEI", "VVI", "EEE"), 3, 4, 11, 2)
    assert serial.keys() == parallel.keys()
    for cell, fit in serial.items():
        assert fit.loglik == parallel[cell].loglik, cell
        assert np.array_equal(fit.resp, parallel[cell].resp), cell
