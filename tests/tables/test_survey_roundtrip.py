"""What the survey reader understood survives files (issue #22): the anonymous-raters flag
through a ratings CSV or Parquet written and read back, and the instrument's item table
carried as data (never rebuilt from the display text)."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from workbench.calibration.reliability.instrument import estimate_instrument_reliability
from workbench.synth.exports import write_export
from workbench.synth.generator import generate_organisation
from workbench.tables import load_organisation, load_ratings

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "exports"


@pytest.fixture(scope="module")
def anonymous():
    mapping = yaml.safe_load((HERE / "qualtrics_anonymous.yaml").read_text())
    return load_organisation(ratings=HERE / "qualtrics_anonymous.csv", mapping=mapping)


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_the_anonymous_flag_survives_a_ratings_file(anonymous, suffix, tmp_path):
    assert anonymous.anonymous_raters
    path = tmp_path / f"ratings.{suffix}"
    if suffix == "csv":
        anonymous.ratings.to_csv(path, index=False)
    else:
        anonymous.ratings.to_parquet(path, index=False)
    again = load_organisation(ratings=path)
    assert again.anonymous_raters and again.ratings.attrs["anonymous_raters"]
    assert load_ratings(path).attrs["anonymous_raters"]
    pd.testing.assert_frame_equal(again.ratings.drop(columns="date"),
                                  anonymous.ratings.drop(columns="date"), check_dtype=False)


def test_named_raters_stay_named_through_a_file(tmp_path):
    mapping = yaml.safe_load((HERE / "qualtrics.yaml").read_text())
    org = load_organisation(ratings=HERE / "qualtrics.csv", mapping=mapping)
    assert not org.anonymous_raters and "anonymous_rater" not in org.ratings
    org.ratings.to_csv(tmp_path / "ratings.csv", index=False)
    assert not load_organisation(ratings=tmp_path / "ratings.csv").anonymous_raters


def test_the_item_table_is_carried_as_data(tmp_path):
    """Item ids with ", " in them: a table rebuilt from "COM1, COM2" text would split them."""
    org = generate_organisation(60, seed=12, n_waves=1, n_skills=6, items_per_skill=3)
    rename = {item: f"v2, {item}" for item in org.instrument["item"]}
    org.ratings["item"] = org.ratings["item"].map(rename)
    org.instrument["item"] = org.instrument["item"].map(rename)
    mapping = write_export(org, tmp_path / "export.csv", "qualtrics")
    read = load_organisation(ratings=tmp_path / "export.csv", mapping=mapping)
    table = read.survey.instrument_items
    assert table["item"].tolist() == org.instrument["item"].tolist()
    assert table["reverse"].tolist() == org.instrument["reverse"].eq("yes").tolist()
    res = estimate_instrument_reliability(read.ratings, items=read.survey, n_boot=0,
                                          g_study=False, scale=(1, 5))
    assert set(res.items["item"]) == set(rename.values())
    flipped = res.items.drop_duplicates("item").set_index("item")["reversed"]
    truth = org.instrument.set_index("item")["reverse"].eq("yes")
    pd.testing.assert_series_equal(flipped.loc[truth.index], truth, check_names=False)
