"""Notebook 01's figures and client tables, checked against counts made from the ratings."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from workbench.calibration import calibrate_ratings, reliability_report  # noqa: E402
from workbench.errors import ConfigError  # noqa: E402
from workbench.presentation.labels import source_label  # noqa: E402
from workbench.reporting import figures, views  # noqa: E402
from workbench.synth.generator import generate_organisation  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    org = generate_organisation(120, seed=1, n_waves=2).to_organisation()
    cal = calibrate_ratings(org.ratings, waves="joint")
    last = org.ratings[org.ratings["wave"] == org.ratings["wave"].max()]
    reliability = reliability_report(calibrate_ratings(last), scale=org.scale)
    return org, cal, reliability, last


def _legend_is_outside(fig) -> bool:
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend()
    box, frame = legend.get_window_extent(), ax.get_window_extent()
    return box.x0 >= frame.x1 - 1


def test_reliability_view_keeps_exactly_the_sources_with_two_raters_of_a_person(fitted):
    _, _, reliability, last = fitted
    # brute force: a source has an ICC when some person has two raters of it in one skill
    per_target = last.groupby(["ratee", "skill", "source"])["rater"].nunique()
    with_two = set(per_target[per_target >= 2].index.get_level_values("source"))
    non_self = last[last["source"] != "self"].groupby(["ratee", "skill"])["rater"].nunique()
    if (non_self >= 2).any():
        with_two.add("others")
    view = views.reliability_view(reliability)
    assert set(view["source"]) == with_two
    assert view["source"].iloc[-1] == "others"
    assert "self" not in set(view["source"])
    assert list(view.columns) == [c for c in views.RELIABILITY_COLUMNS if c in view.columns]
    assert not view.drop(columns="source").isna().all(axis=1).any()


def test_reliability_notes_name_what_was_left_out_and_explain_others(fitted):
    _, _, reliability, last = fitted
    notes = " ".join(views.reliability_notes(reliability))
    left = set(reliability.table["source"]) - set(views.reliability_view(reliability)["source"])
    assert left  # self at least: one self-rating per person
    for source in left:
        assert source_label(source) in notes
    assert "two or more raters" in notes
    assert source_label("others") in notes and "except the person" in notes
    assert "_" not in notes


def test_d_study_shows_only_sources_a_client_can_change_with_labelled_targets(fitted):
    _, _, reliability, _ = fitted
    fig = figures.plot_d_study(reliability.d_study)
    ax = fig.axes[0]
    drawn = {line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")}
    expected = {source_label(s) for s in figures.ADJUSTABLE_SOURCES
                if s in set(reliability.d_study.curve["source"])}
    targets = {label for label in drawn if re.match(r"0\.[78]: ", label)}
    assert drawn - targets == expected
    assert len(targets) == 2
    assert source_label("manager") not in drawn and source_label("self") not in drawn
    assert ax.get_title()
    assert _legend_is_outside(fig)
    with pytest.raises(ConfigError, match="none of the sources"):
        figures.plot_d_study(reliability.d_study, sources=("self",))


def test_raw_vs_calibrated_plots_one_point_per_person_and_skill_of_the_latest_wave(fitted):
    _, cal, _, _ = fitted
    scores = cal.to_scores()
    latest = scores[scores["wave"] == scores.groupby("person")["wave"].transform("max")]
    fig = figures.plot_raw_vs_calibrated(cal)
    points = fig.axes[0].collections[0].get_offsets()
    assert len(points) == len(latest) == latest[["person", "skill"]].drop_duplicates().shape[0]
    assert "latest wave" in fig.axes[0].get_title()
    every = figures.plot_raw_vs_calibrated(cal, wave=None)
    assert len(every.axes[0].collections[0].get_offsets()) == len(scores)


def test_ceiling_note_counts_the_raw_averages_at_the_top(fitted):
    org, cal, _, _ = fitted
    scores = cal.to_scores()
    latest = scores[scores["wave"] == scores.groupby("person")["wave"].transform("max")]
    at_top = latest[np.isclose(latest["raw_mean"], org.scale.max)]
    note = views.ceiling_note(cal, org.scale)
    if len(at_top):
        assert note.startswith(f"{len(at_top)} person-skill raw averages")
        assert f"{at_top['score'].min():.1f} to {at_top['score'].max():.1f}" in note
    else:
        assert note.startswith("No raw average reaches the top")
    # a scale whose top is the highest raw mean always has scores at the top
    high = float(latest["raw_mean"].max())
    n_high = int(np.isclose(latest["raw_mean"], high).sum())
    assert views.ceiling_note(cal, (1, high)).startswith(f"{n_high} person-skill")


def test_forest_plot_labels_sources_for_people():
    frame = pd.DataFrame({"source": ["self", "direct_report"], "method": ["a", "b"],
                          "estimate": [0.4, -0.1], "ci_low": [0.3, -0.2], "ci_high": [0.5, 0.0]})
    fig = figures.plot_estimates(frame, label="source", hue="method")
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["Self", "Direct reports"]
    assert fig.axes[0].get_legend().get_title().get_text() == "Method"
    assert _legend_is_outside(fig)
