"""The ratings contract with an optional ``item`` column (issue #22)."""

import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.tables import CONTRACTS, ITEM_COUNT_COLUMNS, load_ratings


def _write(tmp_path, rows, columns):
    path = tmp_path / "ratings.csv"
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def test_item_is_an_optional_text_column_of_ratings():
    spec = {c.name: c for c in CONTRACTS["ratings"]}
    assert spec["item"].kind == "id" and not spec["item"].required
    assert ITEM_COUNT_COLUMNS == ("item", "skill", "source", "wave", "n_responses",
                                  "n_not_observed")


def test_without_item_column_ratings_are_as_before(tmp_path):
    path = _write(tmp_path, [("a", "b", "peer", "S", 3)],
                  ["ratee", "rater", "source", "skill", "score"])
    ratings = load_ratings(path)
    assert "item" not in ratings.columns
    assert ratings.columns.tolist() == ["ratee", "rater", "source", "skill", "score", "wave"]


def test_several_items_of_one_skill_are_not_duplicates(tmp_path):
    path = _write(tmp_path, [("a", "b", "peer", "S", "S1", 3), ("a", "b", "peer", "S", "S2", 4)],
                  ["ratee", "rater", "source", "skill", "item", "score"])
    ratings = load_ratings(path)
    assert ratings["item"].tolist() == ["S1", "S2"]
    assert ratings["score"].tolist() == [3.0, 4.0]


def test_the_same_item_twice_is_a_duplicate_named_by_row(tmp_path):
    path = _write(tmp_path, [("a", "b", "peer", "S", "S1", 3), ("a", "b", "peer", "S", "S1", 4)],
                  ["ratee", "rater", "source", "skill", "item", "score"])
    with pytest.raises(InputError, match=r"row 3.*duplicate rating: the same \(ratee, rater, "
                       r"skill, item, wave\)"):
        load_ratings(path)
