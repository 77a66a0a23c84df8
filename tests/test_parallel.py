"""``n_jobs`` has scikit-learn's meaning everywhere (workbench.parallel), calibration's threads
honour it, and settings.json records the number of workers used."""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ConfigError
from workbench.parallel import available_cores, check_n_jobs, parallel_config, resolve_n_jobs
from workbench.synth.generator import generate_organisation

CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def test_resolver_follows_scikit_learns_convention():
    assert available_cores() == CORES
    assert resolve_n_jobs(None) == 1
    assert resolve_n_jobs(1) == 1 and resolve_n_jobs(7) == 7
    assert resolve_n_jobs(-1) == CORES
    for k in range(2, CORES + 4):  # -k: every core but k - 1, never below one
        assert resolve_n_jobs(-k) == max(1, CORES + 1 - k)
    assert resolve_n_jobs(np.int64(3)) == 3 and resolve_n_jobs(2.0) == 2


def test_context_sets_only_the_default():
    with parallel_config(n_jobs=3):
        assert resolve_n_jobs(None) == 3
        assert resolve_n_jobs(1) == 1  # an explicit value wins
        with parallel_config(n_jobs=-1):
            assert resolve_n_jobs(None) == CORES
        assert resolve_n_jobs(None) == 3
        with parallel_config(n_jobs=None):
            assert resolve_n_jobs(None) == 1
    assert resolve_n_jobs(None) == 1
    seen = []
    with parallel_config(n_jobs=4):  # a context is per thread: other threads see the default
        worker = threading.Thread(target=lambda: seen.append(resolve_n_jobs(None)))
        worker.start()
        worker.join()
    assert seen == [1]


@pytest.mark.parametrize("bad", [0, float("nan"), float("inf"), -float("inf"), 1.5, True, "2",
                                 np.float64("nan")])
def test_bad_n_jobs_is_a_config_error_naming_the_value(bad):
    with pytest.raises(ConfigError, match=r"^n_jobs=.*whole number other than 0"):
        resolve_n_jobs(bad)
    with pytest.raises(ConfigError):
        check_n_jobs(bad)
    with pytest.raises(ConfigError):
        with parallel_config(n_jobs=bad):
            pass


def test_bad_n_jobs_refused_by_the_stages():
    from workbench.calibration.calibrate import calibrate_ratings
    from workbench.profiles.select import find_profiles

    org = generate_organisation(30, seed=2, n_waves=1)
    with pytest.raises(ConfigError, match="n_jobs=0"):
        calibrate_ratings(org.ratings, n_jobs=0)
    scores = org.ratings.pivot_table(index="ratee", columns="skill", values="score")
    with pytest.raises(ConfigError, match="n_jobs=nan"):
        find_profiles(scores, k_max=2, n_jobs=float("nan"))


def test_calibration_same_with_one_and_two_threads_and_records_them(tmp_path, monkeypatch):
    # Two threads must really run the engine's pieces on a pool, and give the same numbers
    # as one (up to the solvers' tolerances); settings.json records the threads asked for.
    from workbench.calibration.calibrate import calibrate_ratings
    from workbench.calibration.mixed import design

    pools = []
    real_pool = design.ThreadPoolExecutor

    def counting_pool(n):
        pools.append(n)
        return real_pool(n)

    monkeypatch.setattr(design, "ThreadPoolExecutor", counting_pool)
    ratings = generate_organisation(600, seed=5, n_waves=1).ratings  # big enough to split
    one = calibrate_ratings(ratings, n_jobs=1)
    assert pools == []
    two = calibrate_ratings(ratings, n_jobs=2)
    assert pools and set(pools) == {2}
    for name in ("scores", "rater_effects", "source_effects", "variance_components"):
        a, b = getattr(one, name), getattr(two, name)
        assert isinstance(a, pd.DataFrame) and len(a), name
        num = a.select_dtypes("number").columns
        pd.testing.assert_frame_equal(a.drop(columns=num), b.drop(columns=num))
        np.testing.assert_allclose(b[num].to_numpy(float), a[num].to_numpy(float),
                                   rtol=1e-6, atol=1e-8)
    assert one.settings["n_jobs"] == 1 and two.settings["n_jobs"] == 2
    with parallel_config(n_jobs=2):
        assert calibrate_ratings(ratings).settings["n_jobs"] == 2
    assert calibrate_ratings(ratings).settings["n_jobs"] == 1
    folder = two.save(tmp_path / "cal")
    assert json.loads((folder / "settings.json").read_text())["n_jobs"] == 2


def test_profiles_settings_json_records_n_jobs(tmp_path):
    from workbench.profiles.select import find_profiles

    org = generate_organisation(60, seed=3, n_waves=1)
    scores = org.ratings.pivot_table(index="ratee", columns="skill", values="score")
    res = find_profiles(scores, k_max=2, models=("EII",), n_bootstrap=2, vlmr=False,
                        n_jobs=-1)
    assert res.settings["n_jobs"] == CORES
    folder = res.save(tmp_path / "prof")
    assert json.loads((folder / "settings.json").read_text())["n_jobs"] == CORES
