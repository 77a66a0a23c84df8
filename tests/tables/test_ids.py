"""Identifiers that differ only in Unicode form, invisible characters or case (issue #26)."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.tables.organisation import load_organisation
from workbench.tables.validate import load_ratings

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


def _copy(tmp_path) -> Path:
    folder = tmp_path / "org"
    shutil.copytree(DEMO, folder)
    return folder


def _edit(path: Path, edit) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame)
    frame.to_csv(path, index=False)
    return frame


def _set(path: Path, at, column, change) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    at = list(at)
    frame.loc[at, column] = [change(v) for v in frame.loc[at, column]]
    frame.to_csv(path, index=False)


@pytest.mark.parametrize("name", ["José", "Zoë", "Ångström", "Nguyễn"])
def test_an_id_typed_in_nfd_in_one_file_and_nfc_in_another_is_one_person(tmp_path, name):
    folder = _copy(tmp_path)
    nfc, nfd = unicodedata.normalize("NFC", name), unicodedata.normalize("NFD", name)
    assert nfc != nfd
    people = _edit(folder / "people.csv",
                   lambda f: f.replace({"person": {"P005": nfc}, "manager": {"P005": nfc}},
                                       inplace=True))
    ratings = _edit(folder / "ratings.csv",
                    lambda f: f.replace({"ratee": {"P005": nfd}, "rater": {"P005": nfd}},
                                        inplace=True))
    org = load_organisation(folder)
    expected = int((ratings["ratee"] == nfd).sum())
    assert expected > 0 and int((org.ratings["ratee"] == nfc).sum()) == expected
    assert org.ratings["ratee"].nunique() == people["person"].nunique()
    assert not [p for p in org.problems if p.value in (nfc, nfd)]


@pytest.mark.parametrize("invisible", ["\u200b", "\ufeff", "\u200e", "\u00ad", "\u2060",
                                       "\u202e"])
def test_invisible_characters_in_ids_are_removed_and_said(tmp_path, invisible):
    folder = _copy(tmp_path)
    original = pd.read_csv(folder / "ratings.csv", dtype=str, keep_default_na=False)
    hit = original.index[original["ratee"] == "P007"][:5]
    _set(folder / "ratings.csv", hit, "ratee", lambda v: v + invisible)
    ratings = pd.read_csv(folder / "ratings.csv", dtype=str, keep_default_na=False)
    assert (ratings.loc[hit, "ratee"] == "P007" + invisible).all()
    org = load_organisation(folder)
    assert org.ratings["ratee"].nunique() == original["ratee"].nunique()
    assert int((org.ratings["ratee"] == "P007").sum()) == int((original["ratee"] == "P007").sum())
    said = [p for p in org.problems if "invisible characters" in p.message]
    assert [p.row for p in said] == [int(i) + 2 for i in hit]
    assert all(p.severity == "warning" and p.column == "ratee" for p in said)


def test_no_break_and_doubled_spaces_in_ids_are_one_space(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "ratings.csv", lambda f: f.replace({"skill": {
        "Strategic Thinking": "Strategic\u00a0\u00a0Thinking", "Planning": "\u3000Planning\u2009"}},
        inplace=True))
    assert "Strategic\u00a0\u00a0Thinking" in (folder / "ratings.csv").read_text()
    org = load_organisation(folder)
    assert {"Strategic Thinking", "Planning"} <= set(org.ratings["skill"])
    assert not [p for p in org.problems if "not in the framework" in p.message]


@pytest.mark.parametrize("file, column, old, new, kind", [
    ("ratings.csv", "ratee", "P005", "p005", "person"),
    ("people.csv", "manager", "P001", "p001", "person"),
    ("framework.csv", "skill", "Planning", "PLANNING", "skill"),
    ("enrollments.csv", "activity", "A03", "a03", "activity"),
    ("people.csv", "role", "Manager", "manager", "role"),
])
def test_ids_that_differ_only_in_case_are_an_error_listing_both(tmp_path, file, column, old,
                                                                 new, kind):
    folder = _copy(tmp_path)
    frame = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
    at = frame.index[frame[column] == old][-1]  # the last row: the first spelling stays
    frame.loc[at, column] = new
    frame.to_csv(folder / file, index=False)
    with pytest.raises(InputError) as caught:
        load_organisation(folder)
    found = [p for p in caught.value.errors if "differ only in case" in p.message]
    assert len(found) == 1
    message = found[0].message
    assert f"{kind} ids" in message and repr(old) in message and repr(new) in message
    assert found[0].value in (old, new)


def test_case_variants_inside_one_ratings_file_are_an_error(tmp_path):
    folder = _copy(tmp_path)
    n = len(pd.read_csv(folder / "ratings.csv", dtype=str))
    _set(folder / "ratings.csv", range(n - 3, n), "rater", str.lower)
    with pytest.raises(InputError, match="person ids that differ only in case"):
        load_ratings(folder / "ratings.csv")
