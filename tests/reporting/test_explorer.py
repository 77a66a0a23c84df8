"""The explorer's pieces without a browser: people's labels, the first team, the heat map."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from workbench.calibration import calibrate_ratings  # noqa: E402
from workbench.errors import ConfigError  # noqa: E402
from workbench.reporting import explorer  # noqa: E402
from workbench.synth.generator import generate_organisation  # noqa: E402


@pytest.fixture(scope="module")
def org_and_cal():
    org = generate_organisation(90, seed=4, n_waves=1).to_organisation()
    return org, calibrate_ratings(org.ratings, waves="joint")


def test_people_are_shown_with_role_and_team_and_name_when_known():
    people = pd.DataFrame({"person": ["007", "P2"], "role": ["Analyst", "Manager"],
                           "team": ["Risk", "Risk"], "name": ["Ada Lovelace", None]})
    labels = explorer.person_labels(people)
    assert labels == {"007": "007 Ada Lovelace · Analyst, Risk", "P2": "P2 · Manager, Risk"}
    assert explorer.person_label(people, "nobody") == "nobody"


def test_first_team_is_the_persons_team_else_the_largest(org_and_cal):
    org, _ = org_and_cal
    people = org.people
    person = people["person"].iloc[-1]
    assert explorer.default_team(people, person) == people.set_index("person").loc[person, "team"]
    sizes = people["team"].value_counts()
    largest = sorted(sizes[sizes == sizes.max()].index, key=str)[0]
    assert explorer.default_team(people) == largest
    first = explorer.first_person(people, sorted(people["person"]))
    assert people.set_index("person").loc[first, "team"] == largest


def test_heat_map_colours_are_distance_from_the_required_level_on_one_range(org_and_cal):
    org, cal = org_and_cal
    people, framework = org.people, org.framework
    sizes = people["team"].value_counts()
    limits = []
    for team in (sizes.index[0], sizes.index[-1]):  # the largest and the smallest team
        fig = explorer.plot_team_heatmap(cal, people, team, framework=framework, scale=org.scale)
        ax = fig.axes[0]
        mesh = ax.collections[0]
        limits.append(mesh.get_clim())
        # brute force: each member's calibrated score minus their role's requirement
        members = sorted(people.loc[people["team"] == team, "person"])
        skills = sorted(framework["skill"].unique())
        scores = cal.to_scores().set_index(["person", "skill"])["score"]
        roles = people.set_index("person")["role"]
        need = framework.set_index(["role", "skill"])["required_level"]
        expected = np.array([[scores.get((p, s), np.nan) - need.get((roles[p], s), np.nan)
                              for s in skills] for p in members])
        shown = np.ma.filled(mesh.get_array().astype(float), np.nan).reshape(expected.shape)
        np.testing.assert_allclose(shown, expected, equal_nan=True)
        assert "Team Team" not in ax.get_title() and str(team) in ax.get_title(loc="left")
        assert "required level" in fig.axes[1].get_ylabel()
    half = (org.scale.max - org.scale.min) / 2
    assert limits[0] == limits[1] == (-half, half)


def test_heat_map_without_a_framework_is_centred_on_the_scale_midpoint(org_and_cal):
    org, cal = org_and_cal
    team = org.people["team"].iloc[0]
    fig = explorer.plot_team_heatmap(cal, org.people, team, scale=org.scale)
    assert fig.axes[0].collections[0].get_clim() == (org.scale.min, org.scale.max)
    assert "midpoint" in fig.axes[1].get_ylabel()
    with pytest.raises(ConfigError, match="no people in team"):
        explorer.plot_team_heatmap(cal, org.people, "no such team")


def test_profile_legend_sits_outside_the_axes(org_and_cal):
    org, cal = org_and_cal
    person = org.people["person"].iloc[3]
    fig = explorer.plot_person_profile(cal, person, framework=org.framework, people=org.people)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1 - 1
    assert explorer.person_label(org.people, person) in ax.get_title(loc="left")


def test_profile_interval_follows_alpha(org_and_cal):
    org, cal = org_and_cal
    scores = cal.to_scores().drop(columns=["ci_low", "ci_high"])
    person = org.people["person"].iloc[0]
    wide = explorer.person_profile(scores, person, alpha=0.01)
    narrow = explorer.person_profile(scores, person, alpha=0.2)
    assert ((wide["ci_high"] - wide["ci_low"]) > (narrow["ci_high"] - narrow["ci_low"])).all()
    with pytest.raises(ConfigError, match="no scores for person"):
        explorer.person_profile(scores, "nobody")


def test_person_profile_axis_is_fixed_to_the_scale(org_and_cal):
    """With the scale, every person's profile has the same score axis (the scale's range plus
    a small margin, widened only for an interval beyond it), as the heat map's colours have."""
    import matplotlib.pyplot as plt

    org, cal = org_and_cal
    low, high = org.scale.min, org.scale.max
    pad = 0.04 * (high - low)
    for person in sorted(org.people["person"])[:4]:
        fig = explorer.plot_person_profile(cal, person, framework=org.framework,
                                           people=org.people, scale=org.scale)
        lo, hi = fig.axes[0].get_xlim()
        plt.close(fig)
        mine = explorer.person_profile(cal, person)
        assert lo == pytest.approx(min(low, mine["ci_low"].min()) - pad)
        assert hi == pytest.approx(max(high, mine["ci_high"].max()) + pad)
        fitted = explorer.plot_person_profile(cal, person)
        assert fitted.axes[0].get_xlim() != (lo, hi)  # without the scale it fits the marks
        plt.close(fitted)


def test_a_calibration_warning_is_a_sentence_naming_the_person():
    """A score resting on self ratings only: the calibration warns with a count; the explorer
    (warn=False) says it for the person, naming them and the skill."""
    import warnings

    from workbench.calibration import calibrated_scores
    from workbench.calibration.result import CalibrationWarning

    org = generate_organisation(60, seed=8, n_waves=1).to_organisation()
    ratings = org.ratings
    person = sorted(ratings["ratee"].unique())[3]
    skill = sorted(ratings["skill"].unique())[0]
    drop = (ratings["ratee"] == person) & (ratings["skill"] == skill) & (
        ratings["source"] != "self")
    ratings = ratings[~drop].reset_index(drop=True)
    with pytest.warns(CalibrationWarning, match="own ratings only"):
        calibrated_scores(ratings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationWarning)
        scores = calibrated_scores(ratings, warn=False)
    notes = explorer.person_notes(scores, person, people=org.people)
    assert any(n.startswith(f"{person}: {skill} rests on {person}'s own ratings only")
               for n in notes), notes
    others = [p for p in sorted(org.people["person"]) if p != person]
    assert not any("own ratings only" in n
                   for p in others[:10] for n in explorer.person_notes(scores, p))
