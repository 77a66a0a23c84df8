"""Waves: typed, and a wave far smaller than the others is a typo unless the waves are named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.errors import InputError
from workbench.tables.organisation import load_organisation
from workbench.tables.validate import MIN_WAVE_SHARE, load_ratings

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture(scope="module")
def demo_ratings():
    return pd.read_csv(DEMO / "ratings.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("typo", ["x", "3"])
def test_a_mistyped_wave_is_an_error_naming_the_row(tmp_path, demo_ratings, typo):
    ratings = demo_ratings.copy()
    ratings.loc[100, "wave"] = typo
    path = tmp_path / "ratings.csv"
    ratings.to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        load_ratings(path)
    (problem,) = info.value.errors
    assert (problem.row, problem.column, problem.value) == (102, "wave", typo)
    assert "not a whole number" in problem.message or "probably a typo" in problem.message


def test_naming_the_waves_keeps_them_and_says_what_was_dropped(tmp_path, demo_ratings):
    ratings = demo_ratings.copy()
    ratings.loc[100, "wave"] = "3"
    path = tmp_path / "ratings.csv"
    ratings.to_csv(path, index=False)
    with pytest.warns(UserWarning, match=r"1 rating\(s\) in wave\(s\) 3 are not used"):
        kept = load_ratings(path, waves=[1, 2])
    assert sorted(kept["wave"].unique()) == [1, 2] and len(kept) == len(ratings) - 1
    with pytest.raises(InputError, match="wave '4' was asked for but is not in the file"):
        load_ratings(path, waves=[1, 4])


def test_the_rule_is_a_share_of_the_largest_wave(tmp_path, demo_ratings):
    """Brute force: just below the share is refused, at the share is accepted."""
    wave1 = demo_ratings[demo_ratings["wave"] == "1"]
    wave2 = demo_ratings[demo_ratings["wave"] == "2"]
    edge = int(np.ceil(MIN_WAVE_SHARE * len(wave1)))
    for n, ok in ((edge - 1, False), (edge, True)):
        path = tmp_path / f"ratings_{n}.csv"
        pd.concat([wave1, wave2.head(n)]).to_csv(path, index=False)
        if ok:
            assert sorted(load_ratings(path)["wave"].unique()) == [1, 2]
        else:
            with pytest.raises(InputError, match="probably a typo"):
                load_ratings(path)


def test_wave_labels_are_kept_as_labels(tmp_path, demo_ratings):
    ratings = demo_ratings.copy()
    ratings["wave"] = ratings["wave"].map({"1": "2026-H1", "2": "2026-H2"})
    path = tmp_path / "ratings.csv"
    ratings.to_csv(path, index=False)
    assert sorted(load_ratings(path)["wave"].unique()) == ["2026-H1", "2026-H2"]


def test_validate_cli_names_the_typo_and_takes_waves(tmp_path, demo_ratings, capsys):
    ratings = demo_ratings.copy()
    ratings.loc[5, "wave"] = "3"
    folder = tmp_path / "data"
    folder.mkdir()
    ratings.to_csv(folder / "ratings.csv", index=False)
    assert main(["validate", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "row 7, column 'wave'" in err and "--waves" in err and "Traceback" not in err
    assert main(["validate", str(folder), "--waves", "1", "2"]) == 0
    assert load_organisation(folder, waves=[1, 2]).waves == [1, 2]
