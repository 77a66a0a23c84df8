"""The run's validated copy of its inputs: opened as the full loader would give it, and
validated again in full when it changed after the run wrote it."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.runs import open_organisation
from workbench.runs.snapshot import open_snapshot, snapshot_inputs
from workbench.tables import load_organisation

TABLES = ("ratings", "people", "framework", "catalog", "enrollments")


@pytest.fixture(scope="module")
def demo():
    return load_organisation("data/demo")


def test_the_copy_opens_as_the_client_files_load(demo, tmp_path):
    folder = snapshot_inputs(demo, tmp_path / "inputs")
    fast = open_organisation(str(folder))
    full = load_organisation(folder)      # the same copy, validated in full
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(fast, table), getattr(full, table))
        pd.testing.assert_frame_equal(getattr(fast, table).reset_index(drop=True),
                                      getattr(demo, table).reset_index(drop=True))
    assert fast.scale == demo.scale == full.scale
    assert [p.message for p in fast.warnings] == [p.message for p in demo.warnings]


def test_a_changed_copy_is_validated_in_full(demo, tmp_path):
    folder = snapshot_inputs(demo, tmp_path / "inputs")
    ratings = pd.read_parquet(folder / "ratings.parquet")
    ratings.loc[3, "score"] = 17.0          # off the 1-5 scale: the validator refuses it
    ratings.to_parquet(folder / "ratings.parquet", index=False)
    with pytest.raises(InputError, match="ratings.parquet"):
        open_snapshot(folder)


def test_a_copy_without_its_description_is_validated_in_full(demo, tmp_path):
    folder = snapshot_inputs(demo, tmp_path / "inputs")
    (folder / "snapshot.json").write_text("{not json", encoding="utf-8")
    org = open_snapshot(folder)
    pd.testing.assert_frame_equal(org.ratings.reset_index(drop=True),
                                  demo.ratings.reset_index(drop=True))


def test_the_copy_keeps_a_survey_exports_item_counts(tmp_path):
    """The demo engagement reads a Qualtrics export: its not-observed counts reach notebooks."""
    org = open_organisation(engagement_file="data/demo/engagement.yaml")
    assert org.item_counts is not None and org.item_counts["n_not_observed"].sum() > 0
    folder = snapshot_inputs(org, tmp_path / "inputs")
    fast = open_organisation(str(folder))
    pd.testing.assert_frame_equal(fast.item_counts, org.item_counts)
    assert fast.anonymous_raters is False
    pd.testing.assert_frame_equal(fast.ratings, org.ratings.reset_index(drop=True))


def test_the_copy_keeps_what_the_survey_reader_understood(tmp_path):
    """The survey-read summary reaches the notebooks (shown in notebook 01), and never a rater."""
    org = open_organisation(engagement_file="data/demo/engagement.yaml")
    reading = org.survey
    folder = snapshot_inputs(org, tmp_path / "inputs")
    kept = open_organisation(str(folder)).survey
    assert (kept.file, kept.shape) == (reading.file, "qualtrics")
    for name in ("overview", "items_per_skill", "responses_per_source", "labels",
                 "not_observed_by_item", "not_observed_by_source", "instrument_items"):
        pd.testing.assert_frame_equal(getattr(kept, name), getattr(reading, name))
    assert kept.dropped_columns == reading.dropped_columns and "IPAddress" in kept.dropped_columns
    assert str(kept) == str(reading)
    overview = kept.overview.set_index("quantity")["n"]
    assert overview["reversed items"] == 2 and overview["not observed answers"] > 0
    shown = str(kept) + kept._repr_html_()
    people = set(org.ratings["rater"]) | set(org.ratings["ratee"])
    assert len(people) > 100 and not set(re.findall(r"\bP\d{3}\b", shown)) & people
    # a changed table of the reading: the summary is not trusted (None), the rest opens
    (folder / "survey" / "labels.parquet").write_bytes(b"changed")
    assert open_organisation(str(folder)).survey is None
