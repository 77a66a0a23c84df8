"""The platforms' completion times give the survey date when the export has no date column
(issue #22): Qualtrics' RecordedDate, SurveyMonkey's End Date (01/22/2026 02:34:00 PM),
Google Forms' Timestamp (1/22/2026 14:34:00), LimeSurvey's Date submitted. Truth: the
generated organisation's survey dates."""

import pandas as pd
import pytest

from workbench.synth.exports import write_export
from workbench.synth.generator import generate_organisation
from workbench.tables import load_organisation

KEY = ["ratee", "rater", "wave", "item"]


@pytest.fixture(scope="module")
def org():
    return generate_organisation(40, seed=17, n_skills=6, items_per_skill=2)


@pytest.mark.parametrize("shape", ["qualtrics", "surveymonkey", "grid", "googleforms"])
def test_the_completion_time_gives_the_date(org, shape, tmp_path):
    path = tmp_path / f"{shape}.csv"
    mapping = write_export(org, path, shape, survey_date=False)
    assert "Date" not in pd.read_csv(path, nrows=0).columns
    read = load_organisation(ratings=path, mapping=mapping)
    got = read.ratings.sort_values(KEY).reset_index(drop=True)
    truth = org.ratings.sort_values(KEY).reset_index(drop=True)
    assert got[KEY].equals(truth[KEY].astype(got[KEY].dtypes.to_dict()))
    pd.testing.assert_series_equal(got["date"], pd.to_datetime(truth["date"]),
                                   check_names=False)
    assert (truth["date"].map(lambda d: pd.Timestamp(d).day) <= 12).any()  # ambiguous days
    stamp = {"qualtrics": "RecordedDate", "surveymonkey": "End Date", "grid": "Date submitted",
             "googleforms": "Timestamp"}[shape]
    assert stamp not in read.survey.dropped_columns


def test_a_stated_date_format_reads_a_day_first_form(org, tmp_path):
    path = tmp_path / "googleforms.csv"
    mapping = write_export(org, path, "googleforms", survey_date=False)
    text = pd.read_csv(path, dtype=str, keep_default_na=False)
    day_first = pd.to_datetime(text["Timestamp"], format="%m/%d/%Y %H:%M:%S")
    text["Timestamp"] = day_first.dt.strftime("%d/%m/%Y %H:%M:%S")
    text.to_csv(tmp_path / "uk.csv", index=False)
    mapping["date_format"] = "DD/MM/YYYY"
    uk = load_organisation(ratings=tmp_path / "uk.csv", mapping=mapping)
    us = load_organisation(ratings=path, mapping={k: v for k, v in mapping.items()
                                                   if k != "date_format"})
    pd.testing.assert_series_equal(uk.ratings["date"], us.ratings["date"])
