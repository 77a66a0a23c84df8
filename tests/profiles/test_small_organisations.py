"""Profiles on small and degenerate organisations (issue 26): a valid result or exit 2, never an
internal error from inside the workers.

The organisations come from ``workbench.synth`` (true scores of a 30-person organisation, cut
down to a handful of people) and from shapes built to empty a mixture component: everyone at
the same score but one person, so EM's starts leave a component without rows.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.cli import main
from workbench.errors import ConfigError, InputError
from workbench.profiles.select import ProfileWarning, find_profiles
from workbench.synth.generator import generate_organisation

QUICK = dict(n_bootstrap=3, n_starts=2, k_max=4, n_jobs=1)


def _tiny(n_people: int, seed: int) -> pd.DataFrame:
    """The first ``n_people`` of a synthetic organisation, as a person x skill matrix."""
    org = generate_organisation(30, seed=seed, n_waves=1)
    truth = org.truth["true_scores"].pivot(index="person", columns="skill",
                                           values="true_score")
    return truth.iloc[:n_people]


def _one_apart(wide: pd.DataFrame) -> pd.DataFrame:
    """Everyone at 3.0 in every skill but the first person: a component loses all its rows."""
    out = wide.copy()
    out.iloc[1:] = 3.0
    return out


def _fit(wide, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProfileWarning)
        return find_profiles(wide, **{**QUICK, **options})


@pytest.mark.parametrize("n_people, seed", [(10, 5), (11, 1), (12, 2), (15, 3)])
@pytest.mark.parametrize("options", [{}, {"blrt": True, "n_blrt": 2}])
def test_one_person_apart_from_a_tiny_organisation_is_a_valid_result(n_people, seed, options):
    wide = _one_apart(_tiny(n_people, seed))
    res = _fit(wide, **options)
    assert set(res.assignments["person"]) == set(wide.index.astype(str))
    assert res.assignments["probability"].between(0, 1).all()
    assert res.k >= 1


@pytest.mark.parametrize("n_people, seed", [(10, 5), (11, 1), (13, 4)])
def test_tiny_synthetic_organisations_fit_with_every_method(n_people, seed):
    wide = _tiny(n_people, seed)
    for method in ("lpa", "kmeans", "ward"):
        options = {} if method == "lpa" else {"n_starts": 2}
        res = _fit(wide, method=method, **{k: v for k, v in options.items()})
        assert len(res.assignments) == n_people


@pytest.mark.parametrize("n_people", [2, 5, 9])
def test_fewer_than_ten_people_is_an_error_stating_the_minimum(n_people, tmp_path, capsys):
    wide = _tiny(n_people, 5).reset_index()
    wide.to_csv(tmp_path / "scores.csv", index=False)
    out = tmp_path / "out"
    code = main(["profiles", str(tmp_path / "scores.csv"), "--out", str(out), "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "at least 10 people" in err and f"got {n_people}" in err
    assert not out.exists()


@pytest.mark.parametrize("n_people, seed", [(10, 5), (12, 2)])
def test_cli_one_person_apart_exits_0_with_strict_json(n_people, seed, tmp_path, capsys):
    wide = _one_apart(_tiny(n_people, seed)).reset_index()
    wide.to_csv(tmp_path / "scores.csv", index=False)
    out = tmp_path / "out"
    code = main(["profiles", str(tmp_path / "scores.csv"), "--out", str(out), "--bootstrap",
                 "3", "--n-starts", "2", "--k-max", "4", "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "internal error" not in err
    json.loads((out / "settings.json").read_text(), parse_constant=_refuse)


def _refuse(name):
    raise AssertionError(f"settings.json holds {name}")


@pytest.mark.parametrize("skills", [1])
def test_a_single_skill_is_an_error_stating_the_minimum(skills):
    wide = _tiny(12, 5).iloc[:, :skills]
    with pytest.raises(Exception, match="at least 2 skills"):
        _fit(wide)


@pytest.mark.parametrize("columns", [[0], [3], [1, 5]])
def test_every_constant_skill_is_named(columns):
    wide = _tiny(12, 5)
    wide.iloc[:, columns] = 3.0
    with pytest.raises(InputError) as caught:
        _fit(wide)
    named = [p.message for p in caught.value.problems]
    assert len(named) == len(columns)
    for column, message in zip(columns, named, strict=True):
        assert f"skill '{wide.columns[column]}' has the same score" in message


@pytest.mark.parametrize("scale", [(np.nan, np.nan), (1.0, np.inf), (-np.inf, 5.0),
                                   (1.0, np.nan)])
def test_find_profiles_refuses_a_non_finite_scale_before_fitting(scale):
    with pytest.raises(ConfigError, match="scale=.*finite"):
        _fit(_tiny(12, 5), scale=scale)


@pytest.mark.parametrize("options, named", [
    ({"method": "kmeans", "models": ("VVV",)}, "models"),
    ({"method": "ward", "blrt": True}, "blrt"),
    ({"method": "kmeans", "criterion": "icl"}, "criterion"),
])
def test_mixture_options_with_a_hard_clustering_method_are_errors(options, named):
    with pytest.raises(ConfigError, match=f"{named}=.*only apply to latent profile"):
        _fit(_tiny(12, 5), **options)


@pytest.fixture(scope="module")
def ratings():
    return generate_organisation(30, seed=7, n_waves=1).ratings


@pytest.mark.parametrize("keep", [["self"], []])
def test_ratings_without_any_rating_by_others_are_refused(ratings, keep):
    data = ratings[ratings["source"].isin(keep)] if keep else ratings.assign(score=np.nan)
    with pytest.raises(InputError, match="no ratings by others"):
        _fit(data)


@pytest.mark.parametrize("n_empty", [1, 2])
def test_a_skill_nobody_was_rated_on_is_left_out_not_a_nan_error(ratings, n_empty):
    skills = sorted(ratings["skill"].unique())
    data = ratings.copy()
    data.loc[data["skill"].isin(skills[:n_empty]), "score"] = np.nan
    res = _fit(data)
    assert list(res.scores.columns) == skills[n_empty:]
    assert len(res.assignments) == 30


@pytest.mark.parametrize("repeated", [[0], [0, 3], [2, 2]])
def test_a_person_twice_in_a_matrix_file_is_named_with_the_files_rows(tmp_path, capsys,
                                                                       repeated):
    wide = _tiny(12, 5).reset_index()
    extra = wide.iloc[repeated]
    pd.concat([wide, extra]).to_csv(tmp_path / "matrix.csv", index=False)
    out = tmp_path / "out"
    code = main(["profiles", str(tmp_path / "matrix.csv"), "--out", str(out), "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 2, err
    for k, i in enumerate(repeated):
        row = 12 + k + 2  # after the 12 people and the header
        assert (f"matrix.csv, row {row}, column 'person': a person listed on an earlier row "
                f"of the matrix (value: '{wide.loc[i, 'person']}')") in err
    assert not out.exists()


@pytest.mark.parametrize("rename", [lambda p: "X" + p, lambda p: p.lower()])
def test_a_people_table_describing_none_of_the_scored_is_refused(rename):
    wide = _tiny(12, 5)
    people = pd.DataFrame({"person": [rename(p) for p in wide.index], "role": "Analyst"})
    with pytest.raises(InputError, match="none of the 12 people listed is among the 12 people "
                       "with scores"):
        _fit(wide, people=people)


def test_a_people_table_describing_few_of_the_scored_is_said():
    wide = _tiny(12, 5)
    people = pd.DataFrame({"person": list(wide.index[:3]), "role": "Analyst"})
    with pytest.warns(ProfileWarning, match="only 3 of the 12 people with scores"):
        find_profiles(wide, people=people, **QUICK)


@pytest.mark.parametrize("n_people", [10, 15, 40])
@pytest.mark.parametrize("method", ["lpa", "kmeans"])
def test_everyone_identical_is_refused_whatever_the_rounding(n_people, method):
    """15 copies of 3.878... have an SD of about 1e-16, not 0: that reached EM (a KeyError)
    and k-means (SVD did not converge)."""
    org = _tiny(30, 5)
    wide = pd.DataFrame([org.iloc[0].to_numpy()] * n_people, columns=org.columns,
                        index=[f"p{i}" for i in range(n_people)])
    with pytest.raises(InputError) as caught:
        _fit(wide, method=method)
    assert len(caught.value.problems) == wide.shape[1]
    assert all("has the same score for everyone" in p.message for p in caught.value.problems)
