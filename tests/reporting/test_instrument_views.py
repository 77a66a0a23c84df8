"""Client views of the instrument's psychometrics: the pooled rows, the flags in words."""

import pandas as pd

from workbench.calibration.reliability.instrument import estimate_instrument_reliability
from workbench.reporting import (
    instrument_d_study_view,
    instrument_items_view,
    instrument_notes,
    instrument_view,
    show,
)
from workbench.synth.generator import generate_organisation


def test_views_show_the_pooled_relationship_and_the_flags():
    org = generate_organisation(40, seed=2, n_waves=1, items_per_skill=3)
    ratings = org.ratings.copy()
    first = ratings["item"] == "STR1"
    ratings.loc[first, "score"] = 6 - ratings.loc[first, "score"]  # left unreversed
    res = estimate_instrument_reliability(ratings, n_boot=0)
    view = instrument_view(res)
    assert set(view["source"]) == {"others"}
    assert len(view) == ratings["skill"].nunique()
    pd.testing.assert_series_equal(
        view["alpha"], res.scales.loc[res.scales["source"] == "others", "alpha"]
        .reset_index(drop=True))
    items = instrument_items_view(res)
    assert "rater" not in items.columns and len(items) == ratings["item"].nunique()
    assert set(instrument_d_study_view(res)["source"]) == {"others"}
    notes = instrument_notes(res)
    assert any("'STR1'" in note and "runs against" in note for note in notes)
    headers = show(view, 2).data.columns.tolist()
    assert "Alpha (Cronbach)" in headers and "Omega (total)" in headers


def test_views_without_items_say_so():
    assert instrument_view(None).empty and instrument_items_view(None).empty
    assert instrument_d_study_view(None).empty
    assert "no items" in instrument_notes(None)[0]
