"""Survey exports read as they come (issue #22): every shape gives the long file's ratings.

The fixtures in tests/fixtures/exports/ were written by make_exports.py from one generated
organisation (40 people, 6 competencies x 3 items, two reverse-keyed, two waves).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from workbench.cli import main
from workbench.errors import InputError
from workbench.tables import load_organisation, load_ratings, read_survey

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
SHAPES = ("wide", "qualtrics", "surveymonkey", "grid", "googleforms")
DETECTED = {"googleforms": "grid"}


def _mapping(name):
    return yaml.safe_load((HERE / f"{name}.yaml").read_text())


@pytest.fixture(scope="module")
def long():
    return load_ratings(HERE / "ratings_long.csv")


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_gives_the_long_files_ratings(shape, long):
    org = load_organisation(ratings=HERE / f"{shape}.csv", mapping=_mapping(shape))
    assert org.survey.shape == DETECTED.get(shape, shape)
    # SurveyMonkey's export carries no survey date (its dates are the platform's own)
    columns = [c for c in long.columns if c in org.ratings.columns]
    assert set(long.columns) - set(columns) <= {"date"}
    pd.testing.assert_frame_equal(org.ratings[columns], long[columns])
    assert not org.anonymous_raters
    assert org.ratings["item"].nunique() == 18


@pytest.mark.parametrize("shape", ("qualtrics", "surveymonkey"))
def test_anonymous_exports_make_each_response_its_own_rater(shape, long):
    name = f"{shape}_anonymous"
    org = load_organisation(ratings=HERE / f"{name}.csv", mapping=_mapping(name))
    assert org.anonymous_raters and org.ratings.attrs["anonymous_raters"]
    ratings = org.ratings
    is_self = ratings["source"] == "self"
    assert (ratings.loc[is_self, "rater"] == ratings.loc[is_self, "ratee"]).all()
    # one rater per response: as many non-self raters as (ratee, rater, wave) in the truth
    others = long[long["source"] != "self"].drop_duplicates(["ratee", "rater", "wave"])
    assert ratings.loc[~is_self, "rater"].nunique() == len(others)
    columns = [c for c in ("ratee", "source", "skill", "item", "score", "wave")]
    pd.testing.assert_frame_equal(ratings[columns], long[columns])


def test_not_observed_answers_are_counted_not_scored(long):
    org = load_organisation(ratings=HERE / "qualtrics.csv", mapping=_mapping("qualtrics"))
    counts = org.item_counts
    assert counts.columns.tolist() == ["item", "skill", "source", "wave", "n_responses",
                                       "n_not_observed"]
    responses = long.drop_duplicates(["ratee", "rater", "wave"])
    # every response reached every item; the answered ones are the long file's rows
    assert counts["n_responses"].sum() == len(responses) * 18
    assert counts["n_not_observed"].sum() == len(responses) * 18 - len(long)
    per_item = long.groupby("item").size()
    by_item = counts.groupby("item")[["n_responses", "n_not_observed"]].sum()
    assert ((by_item["n_responses"] - by_item["n_not_observed"]) == per_item).all()
    assert np.isfinite(org.ratings["score"]).all()


def test_unfinished_responses_are_dropped_and_counted():
    org = load_organisation(ratings=HERE / "qualtrics.csv", mapping=_mapping("qualtrics"))
    overview = org.survey.overview.set_index("quantity")["n"]
    assert overview["responses in the file"] == 533
    assert overview["unfinished responses (dropped; from 'Finished')"] == 15
    mapping = _mapping("qualtrics")
    mapping["survey"]["unfinished"] = "keep"
    with pytest.raises(InputError, match="duplicate response"):
        load_organisation(ratings=HERE / "qualtrics.csv", mapping=mapping)


def test_reverse_keyed_items_are_scored_in_the_skills_direction(long):
    raw = pd.read_csv(HERE / "wide.csv", dtype=str)
    answers = pd.to_numeric(raw["COM3"], errors="coerce")
    keyed = long[long["item"] == "COM3"]["score"].to_numpy()
    assert np.array_equal(np.sort(6 - answers.dropna().to_numpy()), np.sort(keyed))
    truth = pd.read_csv(HERE / "truth_items.csv")
    assert truth.loc[truth["reverse"], "item"].tolist() == ["COM3", "DEL3"]


def test_calibrated_scores_from_an_export_equal_the_long_files(tmp_path):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text((HERE / "qualtrics.yaml").read_text())
    long_out, export_out = tmp_path / "long", tmp_path / "export"
    assert main(["calibrate", str(HERE / "ratings_long.csv"), "--out", str(long_out)]) == 0
    assert main(["calibrate", str(HERE / "qualtrics.csv"), "--mapping", str(mapping),
                 "--out", str(export_out)]) == 0
    a = pd.read_csv(long_out / "calibrated_scores.csv")
    b = pd.read_csv(export_out / "calibrated_scores.csv")
    pd.testing.assert_frame_equal(a, b)


def test_validate_says_what_it_understood(tmp_path, capsys):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text((HERE / "grid.yaml").read_text())
    assert main(["validate", str(HERE / "grid.csv"), "--mapping", str(mapping)]) == 0
    out = capsys.readouterr().out
    for text in ("read as a grid export", "Items per competency", "COM3", "Responses per "
                 "relationship", "4 - Often", "No answer", "Not observed, per item",
                 "unfinished responses (dropped; from 'Date submitted')", "Date submitted",
                 "Seed", "reversed items"):
        assert text in out, text


def test_read_survey_leaves_a_long_file_to_the_table_reader():
    assert read_survey(HERE / "ratings_long.csv") is None


def test_an_excel_export_reads_as_its_csv(tmp_path, long):
    """SurveyMonkey also exports .xlsx: the same two header rows on a sheet."""
    cells = pd.read_csv(HERE / "surveymonkey.csv", header=None, dtype=str, keep_default_na=False)
    path = tmp_path / "ratings.xlsx"
    cells.to_excel(path, header=False, index=False, engine="xlsxwriter")
    org = load_organisation(ratings=path, mapping=_mapping("surveymonkey"))
    assert org.survey.shape == "surveymonkey"
    columns = [c for c in long.columns if c != "date"]
    pd.testing.assert_frame_equal(org.ratings[columns], long[columns])


def test_labels_in_any_script_and_punctuation_only_answers(tmp_path):
    (tmp_path / "ratings.csv").write_text(
        "Ratee,Rater,Relationship,Q1,Q2\n"
        "p1,p2,Peer,Stimme völlig zu,Weiß nicht\n"
        "p1,p3,Peer,非常同意,-\n", encoding="utf-8")
    labels = {"Stimme völlig zu": 5, "非常同意": 5, "Stimme gar nicht zu": 1}
    mapping = {"survey": {"labels": labels, "not_observed": ["Weiß nicht"],
                          "instrument": [{"item": "Q1", "skill": "S"},
                                         {"item": "Q2", "skill": "S"}]}}
    with pytest.raises(InputError) as caught:
        load_organisation(ratings=tmp_path / "ratings.csv", mapping=mapping)
    # "-" is neither a label nor listed as not observed: asked about, never silently dropped
    text = str(caught.value)
    assert "row 3, column 'Q2': unknown response label (1 answer(s))" in text
    assert "(value: '-')" in text
    mapping["survey"]["not_observed"].append("-")
    org = load_organisation(ratings=tmp_path / "ratings.csv", mapping=mapping)
    assert org.ratings["score"].tolist() == [5.0, 5.0]
    assert org.item_counts["n_not_observed"].sum() == 2
