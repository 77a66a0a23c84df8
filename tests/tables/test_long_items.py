"""A long ratings file with items read through its instrument (issue #22): reverse-keyed items
are reversed and "not observed" answers counted exactly as from the survey export.

Truth: the generated organisation (its ratings are in the skills' direction; its instrument
says which items are reverse-keyed; an item it did not rate is not observed).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.synth.exports import AGREEMENT, EXPORT_SHAPES, write_export
from workbench.synth.generator import generate_organisation, write_organisation
from workbench.tables import load_organisation

KEY = ["ratee", "rater", "wave", "item"]
COLUMNS = ["ratee", "rater", "source", "skill", "item", "score", "wave"]


@pytest.fixture(scope="module")
def org():
    return generate_organisation(50, seed=31, n_skills=6, items_per_skill=3)


@pytest.fixture(scope="module")
def folder(org, tmp_path_factory):
    return write_organisation(org, tmp_path_factory.mktemp("long") / "org")


def _sorted(ratings):
    return ratings[COLUMNS].sort_values(KEY).reset_index(drop=True)


def _truth_counts(org):
    """Per item, source and wave: responses (every response reaches every item) and the
    items the generator left unrated."""
    ratings = org.ratings
    responses = ratings.drop_duplicates(["ratee", "rater", "wave"]).groupby(
        ["source", "wave"]).size().rename("n_responses")
    rated = ratings.groupby(["item", "source", "wave"]).size().rename("rated")
    table = (org.instrument[["item", "skill"]].merge(responses.reset_index(), how="cross")
             .merge(rated.reset_index(), how="left", on=["item", "source", "wave"]))
    table["n_not_observed"] = table["n_responses"] - table["rated"].fillna(0).astype(int)
    return _counts(table)


def _counts(table):
    return (table[["item", "skill", "source", "wave", "n_responses", "n_not_observed"]]
            .astype({"wave": int, "n_responses": int, "n_not_observed": int})
            .sort_values(["item", "source", "wave"]).reset_index(drop=True))


def test_the_long_file_holds_answers_and_reading_reverses_them(org, folder):
    written = pd.read_csv(folder / "ratings.csv")
    reverse = org.instrument.loc[org.instrument["reverse"].eq("yes"), "item"].tolist()
    assert len(reverse) == 2
    flipped = written["item"].isin(reverse)
    # the file has the raw answers: the generator's scores of reverse-keyed items, mirrored
    np.testing.assert_array_equal(written.loc[flipped, "score"],
                                  6 - org.ratings.loc[flipped.to_numpy(), "score"])
    read = load_organisation(folder)
    assert read.survey.shape == "long"
    pd.testing.assert_frame_equal(_sorted(read.ratings), _sorted(org.ratings),
                                  check_dtype=False)
    reversed_ = read.survey.items_per_skill["reversed"]
    assert sorted(i for r in reversed_ for i in r.split(", ") if i) == sorted(reverse)


@pytest.mark.parametrize("shape", EXPORT_SHAPES)
def test_every_export_shape_reads_as_the_long_file_with_its_instrument(org, folder, shape,
                                                                       tmp_path):
    long = load_organisation(folder)
    mapping = write_export(org, tmp_path / f"{shape}.csv", shape)
    export = load_organisation(ratings=tmp_path / f"{shape}.csv", mapping=mapping)
    pd.testing.assert_frame_equal(_sorted(export.ratings), _sorted(long.ratings))
    # "not observed" per item and relationship: the same both ways, and the generator's
    pd.testing.assert_frame_equal(_counts(export.item_counts), _counts(long.item_counts))
    pd.testing.assert_frame_equal(_counts(long.item_counts), _truth_counts(org))


def test_not_observed_labels_and_text_answers_in_the_score_column(org, folder, tmp_path):
    """Labels in the score column through the response scale; "Not observed" rows and blank
    scores count as not observed, exactly as a missing row does."""
    written = pd.read_csv(folder / "ratings.csv")
    by_value = {v: k for k, v in AGREEMENT.items()}
    text = written.assign(score=written["score"].map(by_value))
    responses = text.drop_duplicates(["ratee", "rater", "wave"])
    wanted = org.instrument["item"]
    full = responses.drop(columns=["item", "skill", "score"]).merge(
        org.instrument[["item", "skill"]], how="cross")
    marks = full.merge(text[KEY], on=KEY, how="left", indicator=True)
    marks = marks[marks["_merge"] == "left_only"].drop(columns="_merge")
    half = np.arange(len(marks)) % 2 == 0
    marks["score"] = np.where(half, "Not observed", "")
    assert set(marks["item"]) <= set(wanted) and len(marks) > 50
    out = tmp_path / "labels"
    out.mkdir()
    pd.concat([text, marks[text.columns]]).to_csv(out / "ratings.csv", index=False)
    for name in ("instrument.csv", "scale.csv", "people.csv"):
        (out / name).write_bytes((folder / name).read_bytes())
    mapping = {"survey": {"labels": dict(AGREEMENT)}}
    read = load_organisation(out, mapping=mapping)
    pd.testing.assert_frame_equal(_sorted(read.ratings), _sorted(org.ratings),
                                  check_dtype=False)
    pd.testing.assert_frame_equal(_counts(read.item_counts), _truth_counts(org))
    labels = read.survey.labels.set_index("label")["n"]
    assert labels["Not observed"] == half.sum() and labels["(blank)"] == (~half).sum()


def test_bad_long_items_are_reported_together(folder, tmp_path):
    written = pd.read_csv(folder / "ratings.csv", dtype=str)
    written.loc[3, "item"] = "XYZ9"
    written.loc[5, "skill"] = "Planning" if written.loc[5, "skill"] != "Planning" else "Coaching"
    written.loc[7, "score"] = "Sort of"
    out = tmp_path / "bad"
    out.mkdir()
    written.to_csv(out / "ratings.csv", index=False)
    (out / "instrument.csv").write_bytes((folder / "instrument.csv").read_bytes())
    (out / "scale.csv").write_bytes((folder / "scale.csv").read_bytes())
    before = (out / "ratings.csv").read_bytes()
    with pytest.raises(InputError) as caught:
        load_organisation(out)
    text = str(caught.value)
    assert "item not in the instrument" in text and "XYZ9" in text and "row 5" in text
    assert "in the instrument" in text and "row 7" in text
    assert "unknown response label" in text and "Sort of" in text and "row 9" in text
    assert (out / "ratings.csv").read_bytes() == before


def test_without_an_instrument_a_long_file_is_read_as_scored(org, tmp_path):
    org.ratings.to_csv(tmp_path / "ratings.csv", index=False)
    read = load_organisation(ratings=Path(tmp_path / "ratings.csv"))
    assert read.survey is None
    pd.testing.assert_frame_equal(_sorted(read.ratings), _sorted(org.ratings),
                                  check_dtype=False)


def test_a_decimal_answer_is_read_as_written_not_as_a_numbered_label(org, folder, tmp_path):
    """"3.5" once read as the numbered label "3. ..." (a 3): every decimal answer is kept as
    written, in a long file and through the response scale's parsing, while "2 - Rarely" style
    labels still give their number."""
    from workbench.tables.instrument import ResponseScale

    written = pd.read_csv(folder / "ratings.csv")
    plain = ~written["item"].isin(org.instrument.loc[org.instrument["reverse"] == "yes", "item"])
    rows = written.index[plain][[3, 40, 41]]
    written.loc[rows, "score"] = [3.5, 1.5, 4.5]
    out = tmp_path / "halves"
    out.mkdir()
    written.to_csv(out / "ratings.csv", index=False)
    for name in ("instrument.csv", "scale.csv", "people.csv"):
        (out / name).write_bytes((folder / name).read_bytes())
    read = load_organisation(out).ratings.set_index(KEY)["score"]
    keys = pd.MultiIndex.from_frame(written.loc[rows, KEY])
    assert read.loc[keys].tolist() == [3.5, 1.5, 4.5]
    scale = ResponseScale(labels={}, not_observed=[], low=1.0, high=5.0)
    answers = pd.Series(["3.5", "3,5", "2 - Rarely", "(4) Often", "5. Always", "4.5 Often"])
    values, missing, unknown = scale.score(answers)
    assert values.tolist() == [3.5, 3.5, 2.0, 4.0, 5.0, 4.5]
    assert not missing.any() and not unknown.any()
